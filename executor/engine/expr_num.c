/*
 * expr_num.c: numbers in the library: Number.prototype.toFixed/toString,
 * the Math and Number namespaces and the global functions (Number(),
 * String(), Boolean(), parseInt, parseFloat, isNaN, isFinite).
 */
#include "expr_int.h"

#include <math.h>
#include <stdio.h>

/* Number.prototype.toFixed: the exact binary value rounded half up, via
 * glibc's exact %f expansion. */
static int n_to_fixed(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    double f, x = self->n;
    char tmp[40];
    TRY(gl__expr_num_arg(ev, a, na, 0, 0, &f));
    f = isnan(f) ? 0 : trunc(f);
    if (f < 0 || f > 100)
        return gl__expr_fail(ev, "toFixed() digits argument must be between 0 and 100");
    if (!isfinite(x) || fabs(x) >= 1e21) {
        gl__expr_num_fmt(x, tmp);
        *out = vstr_n(tmp, strlen(tmp));
        return GL_OK;
    }
    int digits = (int)f;
    char exact[1200];
    int len = snprintf(exact, sizeof exact, "%.1100f", fabs(x));
    if (len < 0 || (size_t)len >= sizeof exact)
        return gl__expr_fail(ev, "toFixed() failed");
    char *dot = strchr(exact, '.');
    size_t keep = (size_t)(dot - exact) + (digits ? (size_t)digits + 1 : 0);
    bool up = dot[digits + 1] >= '5';
    char res[1300];
    size_t n = 0;
    res[n++] = '0'; /* room for a carry */
    memcpy(res + n, exact, keep);
    n += keep;
    if (up)
        for (size_t i = n; i-- > 0;) {
            if (res[i] == '.')
                continue;
            if (res[i] == '9') {
                res[i] = '0';
                continue;
            }
            res[i]++;
            break;
        }
    res[n] = '\0';
    const char *r = res[0] == '0' && res[1] != '.' ? res + 1 : res;
    char sign[2] = { x < 0 ? '-' : 0, 0 };
    char fin[1310];
    snprintf(fin, sizeof fin, "%s%s", sign, r);
    *out = vstr_n(fin, strlen(fin));
    return GL_OK;
}

static int n_to_string(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    double radix;
    char tmp[1100];
    TRY(gl__expr_num_arg(ev, a, na, 0, 10, &radix));
    radix = trunc(radix);
    if (!(radix >= 2 && radix <= 36))
        return gl__expr_fail(ev, "toString() radix must be between 2 and 36");
    double x = self->n;
    if (radix == 10 || !isfinite(x)) {
        gl__expr_num_fmt(x, tmp);
        *out = vstr_n(tmp, strlen(tmp));
        return GL_OK;
    }
    static const char dig[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    char rev[1100];
    size_t n = 0, r = 0;
    double ip = trunc(fabs(x)), fp = fabs(x) - ip;
    do {
        rev[r++] = dig[(int)fmod(ip, radix)];
        ip = trunc(ip / radix);
    } while (ip >= 1 && r < 1090);
    if (x < 0)
        tmp[n++] = '-';
    while (r)
        tmp[n++] = rev[--r];
    if (fp > 0) {
        tmp[n++] = '.';
        for (int k = 0; k < 52 && fp > 0; k++) {
            fp *= radix;
            double d = trunc(fp);
            tmp[n++] = dig[(int)d];
            fp -= d;
        }
    }
    *out = vstr_n(tmp, n);
    return GL_OK;
}

static const method_t num_methods[] = {
    { "toFixed", n_to_fixed }, { "toString", n_to_string },
};

/* Math */

static int math1(ev_t *ev, const val_t *a, size_t na, double (*f)(double), val_t *out)
{
    double x;
    TRY(gl__expr_num_arg(ev, a, na, 0, NAN, &x));
    *out = vnum(f(x));
    return GL_OK;
}

double gl__expr_js_round(double x)
{
    if (!isfinite(x))
        return x;
    double r = floor(x);
    return x - r >= 0.5 ? r + 1 : r;
}

static double js_sign(double x)
{
    return isnan(x) || x == 0 ? x : x > 0 ? 1 : -1;
}

#define MATH1(name, f)                                                                  \
    static int name(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out) \
    {                                                                                   \
        (void)self;                                                                     \
        return math1(ev, a, na, f, out);                                                \
    }
MATH1(m_round, gl__expr_js_round)
MATH1(m_floor, floor)
MATH1(m_ceil, ceil)
MATH1(m_abs, fabs)
MATH1(m_sqrt, sqrt)
MATH1(m_trunc, trunc)
MATH1(m_sign, js_sign)

static int min_max(ev_t *ev, const val_t *a, size_t na, bool max, val_t *out)
{
    double r = max ? -INFINITY : INFINITY, x;
    for (size_t i = 0; i < na; i++) {
        TRY(gl__expr_to_number(ev, &a[i], &x));
        if (isnan(x) || isnan(r))
            r = NAN;
        else if (max ? x > r : x < r)
            r = x;
    }
    *out = vnum(r);
    return GL_OK;
}

int gl__expr_math_min(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    return min_max(ev, a, na, false, out);
}

int gl__expr_math_max(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    return min_max(ev, a, na, true, out);
}

static int m_pow(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    double x, y;
    TRY(gl__expr_num_arg(ev, a, na, 0, NAN, &x));
    TRY(gl__expr_num_arg(ev, a, na, 1, NAN, &y));
    *out = vnum(isnan(y) || (fabs(x) == 1 && isinf(y)) ? (double)NAN : pow(x, y));
    return GL_OK;
}

/* Number and the global functions */

/* Number.isInteger (0), isFinite (1), isNaN (2), isSafeInteger (3): no coercion. */
static int number_is(const val_t *a, size_t na, int mode, val_t *out)
{
    const val_t *x = arg(a, na, 0);
    bool r = false;
    if (x->k == V_NUM) {
        double d = x->n;
        r = mode == 0 ? isfinite(d) && d == trunc(d)
            : mode == 1 ? isfinite(d)
            : mode == 2 ? isnan(d)
                        : isfinite(d) && d == trunc(d) && fabs(d) < MAX_SAFE;
    }
    *out = vbool(r);
    return GL_OK;
}

static int nb_is_integer(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)ev, (void)self;
    return number_is(a, na, 0, out);
}

static int nb_is_finite(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)ev, (void)self;
    return number_is(a, na, 1, out);
}

static int nb_is_nan(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)ev, (void)self;
    return number_is(a, na, 2, out);
}

static int nb_is_safe(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)ev, (void)self;
    return number_is(a, na, 3, out);
}

static int g_parse_int(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    sv_t s;
    double r;
    TRY(gl__expr_num_arg(ev, a, na, 1, 0, &r));
    TRY(gl__expr_to_sv(ev, arg(a, na, 0), &s));
    if (gl__expr_charge_bytes(ev, s.n) != GL_OK) {
        gl__expr_sv_free(&s);
        return GL_INVALID;
    }
    const char *p = s.p;
    size_t n = s.n, i = 0;
    gl__expr_trim_span(&p, &n, true, false);
    double sign = 1, v = 0;
    if (i < n && (p[i] == '+' || p[i] == '-'))
        sign = p[i++] == '-' ? -1 : 1;
    r = isfinite(r) ? fmod(trunc(r), 4294967296.0) : 0; /* ToInt32 */
    r = r >= 2147483648.0 ? r - 4294967296.0 : r < -2147483648.0 ? r + 4294967296.0 : r;
    int radix = (int)r;
    bool strip = radix == 0 || radix == 16;
    if (radix == 0)
        radix = 10;
    size_t first;
    if (radix < 2 || radix > 36) {
        *out = vnum(NAN);
        goto done;
    }
    if (strip && i + 1 < n && p[i] == '0' && (p[i + 1] | 0x20) == 'x')
        i += 2, radix = 16;
    first = i;
    while (i < n && gl__expr_digit_val((unsigned char)p[i]) < radix)
        v = v * radix + gl__expr_digit_val((unsigned char)p[i++]);
    *out = vnum(i == first ? (double)NAN : sign * v);
done:
    gl__expr_sv_free(&s);
    return GL_OK;
}

static int g_parse_float(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    sv_t s;
    TRY(gl__expr_to_sv(ev, arg(a, na, 0), &s));
    if (gl__expr_charge_bytes(ev, s.n) != GL_OK) {
        gl__expr_sv_free(&s);
        return GL_INVALID;
    }
    const char *p = s.p;
    size_t n = s.n, l;
    gl__expr_trim_span(&p, &n, true, false);
    const char *q = p + (n && (*p == '+' || *p == '-'));
    if ((size_t)(p + n - q) >= 8 && memcmp(q, "Infinity", 8) == 0)
        *out = vnum(*p == '-' ? -INFINITY : INFINITY);
    else
        *out = vnum((l = gl__expr_dec_prefix(p, n)) ? gl__expr_strtod_n(p, l) : (double)NAN);
    gl__expr_sv_free(&s);
    return GL_OK;
}

static int g_number(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    double d = 0;
    if (na)
        TRY(gl__expr_to_number(ev, &a[0], &d));
    *out = vnum(d);
    return GL_OK;
}

static int g_string(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    if (!na) {
        *out = vstr_n("", 0);
        return GL_OK;
    }
    gl_buf_t b;
    gl_buf_init(&b, ev->max_out);
    int rc = gl__expr_to_string(ev, &a[0], &b, 0);
    if (rc != GL_OK) {
        gl_buf_free(&b);
        return rc;
    }
    return gl__expr_buf_val(&b, out);
}

static int g_boolean(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)ev, (void)self;
    *out = vbool(gl__expr_vtruthy(arg(a, na, 0)));
    return GL_OK;
}

static int g_is_nan(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    double d;
    TRY(gl__expr_num_arg(ev, a, na, 0, NAN, &d));
    *out = vbool(isnan(d));
    return GL_OK;
}

static int g_is_finite(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    double d;
    TRY(gl__expr_num_arg(ev, a, na, 0, NAN, &d));
    *out = vbool(isfinite(d));
    return GL_OK;
}

/* The built-in global functions, by VAR_* id. */
method_fn gl__expr_global_fn(int ns)
{
    switch (ns) {
    case VAR_DOLLAR: return gl__expr_g_dollar;
    case VAR_NUMBER: return g_number;
    case VAR_STRING: return g_string;
    case VAR_BOOLEAN: return g_boolean;
    case VAR_PARSEINT: return g_parse_int;
    case VAR_PARSEFLOAT: return g_parse_float;
    case VAR_ISNAN: return g_is_nan;
    case VAR_ISFINITE: return g_is_finite;
    default: return gl__expr_ext_global_fn(ns);
    }
}

static const ns_method_t num_ns[] = {
    { VAR_MATH, "round", m_round }, { VAR_MATH, "floor", m_floor }, { VAR_MATH, "ceil", m_ceil },
    { VAR_MATH, "abs", m_abs }, { VAR_MATH, "min", gl__expr_math_min }, { VAR_MATH, "max", gl__expr_math_max },
    { VAR_MATH, "pow", m_pow }, { VAR_MATH, "sqrt", m_sqrt }, { VAR_MATH, "trunc", m_trunc },
    { VAR_MATH, "sign", m_sign },
    { VAR_NUMBER, "isInteger", nb_is_integer }, { VAR_NUMBER, "isFinite", nb_is_finite },
    { VAR_NUMBER, "isNaN", nb_is_nan }, { VAR_NUMBER, "isSafeInteger", nb_is_safe },
    { VAR_NUMBER, "parseInt", g_parse_int }, { VAR_NUMBER, "parseFloat", g_parse_float },
};

const methods_t gl__expr_num_methods = { num_methods, GL_NELEM(num_methods) };
const ns_methods_t gl__expr_num_ns = { num_ns, GL_NELEM(num_ns) };
