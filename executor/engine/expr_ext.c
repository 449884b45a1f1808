/*
 * expr_ext.c: n8n's extension methods on numbers, arrays, objects and
 * booleans (those that take no callback: packages/workflow/src/extensions/
 * {number,array,object,boolean}-extensions.ts in n8n), n8n's helper
 * functions ($if, $ifEmpty, $not, $min, $max, $average, $jmespath, $item,
 * $items) and the variables $runIndex, $parameter and $vars.
 *
 * The methods are looked up after the native tables (expr_lib.c's
 * gl__expr_call_method falls back to gl__expr_ext_method), so a JavaScript
 * method of the same name wins; where both exist they agree (first, last,
 * isEmpty…). Every function charges its work and builds under the output
 * bound like the rest of the library; errors carry n8n's messages.
 */
#include "expr_int.h"

#include <math.h>
#include <stdio.h>
#include <sys/random.h>

/* ------------------------------------------------------------------------ */
/* Shared: JSON data walked under the budget                                */

static bool objlike(json_object *j)
{
    return json_object_is_type(j, json_type_object) || json_object_is_type(j, json_type_array);
}

/* Canonical array index: "0", "17"; not "01", "-1". */
static bool index_of_key(const char *s, size_t *idx)
{
    size_t n = strlen(s), v = 0;
    if (n == 0 || n > 15 || (n > 1 && s[0] == '0'))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(s[i]))
            return false;
        v = v * 10 + (size_t)(s[i] - '0');
    }
    *idx = v;
    return true;
}

/* o[key] for an object or array (JavaScript's `key in o` when found). */
static bool field_get(json_object *o, const char *key, json_object **v)
{
    size_t i;
    *v = NULL;
    if (json_object_is_type(o, json_type_object))
        return json_object_object_get_ex(o, key, v);
    if (json_object_is_type(o, json_type_array) && index_of_key(key, &i) &&
        i < json_object_array_length(o)) {
        *v = json_object_array_get_idx(o, i);
        return true;
    }
    return false;
}

/* {...o}: a new object with o's own enumerable properties (an array's
 * indexes as keys; null gives {}). */
static int spread(ev_t *ev, json_object *o, json_object **out, size_t *size)
{
    json_object *r = json_object_new_object();
    *size = 16;
    int rc = GL_OK;
    if (json_object_is_type(o, json_type_object)) {
        json_object_object_foreach(o, k, v)
        {
            if ((rc = gl__expr_charge_pass(ev, strlen(k))) != GL_OK)
                break;
            if ((rc = gl__expr_obj_add(ev, r, size, k, json_object_get(v), gl__expr_json_size(v))) != GL_OK)
                break;
        }
    } else if (json_object_is_type(o, json_type_array)) {
        char key[24];
        for (size_t i = 0; rc == GL_OK && i < json_object_array_length(o); i++) {
            json_object *v = json_object_array_get_idx(o, i);
            snprintf(key, sizeof key, "%zu", i);
            if ((rc = gl__expr_charge(ev, 1)) == GL_OK)
                rc = gl__expr_obj_add(ev, r, size, key, json_object_get(v), gl__expr_json_size(v));
        }
    }
    if (rc != GL_OK) {
        json_object_put(r);
        return rc;
    }
    *out = r;
    return GL_OK;
}

static int arr_push(ev_t *ev, json_object *arr, size_t *size, json_object *e)
{
    TRY(gl__expr_charge(ev, 1));
    return gl__expr_arr_add(ev, arr, size, json_object_get(e), gl__expr_json_size(e));
}

/* A string argument's text; NULL when it is not a string. */
static const char *str_arg(const val_t *a, size_t na, size_t i)
{
    const val_t *v = arg(a, na, i);
    return v->k == V_STR ? sp(v) : NULL;
}

static int undefined_result(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)ev, (void)self, (void)a, (void)na;
    *out = vmk(V_UNDEF);
    return GL_OK;
}

/* ------------------------------------------------------------------------ */
/* Numbers                                                                  */

static int n_ceil(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)ev, (void)a, (void)na;
    *out = vnum(ceil(self->n));
    return GL_OK;
}

static int n_floor(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)ev, (void)a, (void)na;
    *out = vnum(floor(self->n));
    return GL_OK;
}

static int n_abs(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)ev, (void)a, (void)na;
    *out = vnum(fabs(self->n));
    return GL_OK;
}

static bool is_int(double d)
{
    return isfinite(d) && d == trunc(d);
}

static int n_is_integer(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)ev, (void)a, (void)na;
    *out = vbool(is_int(self->n));
    return GL_OK;
}

static int n_is_even(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)a, (void)na;
    if (!is_int(self->n))
        return gl__expr_fail(ev, "isEven() is only callable on integers");
    *out = vbool(fmod(self->n, 2) == 0);
    return GL_OK;
}

static int n_is_odd(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)a, (void)na;
    if (!is_int(self->n))
        return gl__expr_fail(ev, "isOdd() is only callable on integers");
    *out = vbool(fabs(fmod(self->n, 2)) == 1);
    return GL_OK;
}

/* round(decimals): +value.toFixed(decimals), as n8n */
static int n_round(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    val_t s;
    TRY(gl__expr_call_method(ev, self, "toFixed", 7, a, na > 0 ? 1 : 0, &s));
    double d;
    int rc = gl__expr_to_number(ev, &s, &d);
    vfree(&s);
    *out = vnum(d);
    return rc;
}

static int n_to_int(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)a, (void)na;
    return n_round(ev, self, NULL, 0, out);
}

static int n_to_float(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)ev, (void)a, (void)na;
    *out = vnum(self->n);
    return GL_OK;
}

static int n_to_boolean(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)ev, (void)a, (void)na;
    *out = vbool(self->n != 0);
    return GL_OK;
}

/* toDateTime('ms' | 's' | 'us' | 'excel') */
static int n_to_date_time(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    const val_t *f = arg(a, na, 0);
    const char *fmt = f->k == V_UNDEF ? "ms" : f->k == V_STR ? sp(f) : "";
    double v = self->n;
    if (strcmp(fmt, "ms") == 0)
        return gl__expr_mk_date(ev, v, out);
    if (strcmp(fmt, "s") == 0)
        return gl__expr_mk_date(ev, v * 1000, out);
    if (strcmp(fmt, "us") == 0)
        return gl__expr_mk_date(ev, v / 1000, out);
    if (strcmp(fmt, "excel") == 0) /* days since 1900 with Excel's leap year 1900 */
        return gl__expr_mk_date(ev, (v - (25567 + 2)) * 86400000.0, out);
    sv_t s;
    TRY(gl__expr_to_sv(ev, f, &s));
    int rc = gl__expr_fail(ev, "Unsupported format '%.40s'. toDateTime() supports 'ms', 's', 'us' and 'excel'.", s.p);
    gl__expr_sv_free(&s);
    return rc;
}

/* format(locale, options): Intl.NumberFormat for a few locales (en, de,
 * fr, and others written as en-US) and the options style (decimal,
 * percent, currency), currency, minimum/maximumFractionDigits,
 * minimumIntegerDigits and useGrouping. Rounding is half away from zero on
 * the shortest decimal form of the number, as ICU does. */
typedef struct {
    const char *group, *decimal, *space; /* space: between number and a sign after it */
    bool sign_after;                     /* currency and % after the number */
} nfmt_locale_t;

static const nfmt_locale_t loc_en = { ",", ".", "", false };
static const nfmt_locale_t loc_de = { ".", ",", "\xc2\xa0", true };
static const nfmt_locale_t loc_fr = { "\xe2\x80\xaf", ",", "\xe2\x80\xaf", true };

static int opt_num(ev_t *ev, json_object *opts, const char *key, double lo, double hi, double *v)
{
    json_object *j;
    if (!opts || !json_object_object_get_ex(opts, key, &j) || !j)
        return GL_OK;
    val_t x = gl__expr_vjson(j);
    double d;
    int rc = gl__expr_to_number(ev, &x, &d);
    vfree(&x);
    TRY(rc);
    if (!(d >= lo && d <= hi))
        return gl__expr_fail(ev, "%s value is out of range.", key);
    *v = floor(d);
    return GL_OK;
}

/* The shortest decimal digits of |x| and the position of the point. */
static void shortest(double x, char digits[24], int *point)
{
    char s[40];
    for (int p = 1; p <= 17; p++) {
        snprintf(s, sizeof s, "%.*e", p - 1, x);
        if (strtod(s, NULL) == x)
            break;
    }
    size_t n = 0;
    const char *c = s;
    for (; *c && *c != 'e'; c++)
        if (is_digit(*c))
            digits[n++] = *c;
    digits[n] = '\0';
    long e = strtol(c + 1, NULL, 10);
    *point = (int)e + 1;
}

/* What format()'s locale and options ask for. */
typedef struct {
    const nfmt_locale_t *L;
    bool pct, cur, grouping;
    const char *sym; /* the currency's symbol, NULL: its code */
    char code[8];
    double min_frac, max_frac, min_int;
} nfmt_t;

/* format(locale, options): checks them into *f. */
static int nfmt_options(ev_t *ev, const val_t *l, const val_t *o, nfmt_t *f)
{
    const char *loc = l->k == V_STR ? sp(l) : "en-US";
    if (l->k != V_STR && l->k != V_UNDEF)
        return gl__expr_fail(ev, "format(): the locale must be a string such as 'en-US'");
    if (o->k != V_OBJ && o->k != V_UNDEF)
        return gl__expr_fail(ev, "format(): the options must be an object");
    f->L = strncmp(loc, "de", 2) == 0 ? &loc_de : strncmp(loc, "fr", 2) == 0 ? &loc_fr : &loc_en;
    json_object *opts = o->k == V_OBJ ? o->j : NULL;
    const char *style = "decimal", *currency = NULL;
    f->grouping = true;
    if (opts) {
        json_object_object_foreach(opts, k, v)
        {
            static const char *const known[] = { "style", "currency", "minimumFractionDigits",
                                                 "maximumFractionDigits", "minimumIntegerDigits",
                                                 "useGrouping", "currencyDisplay" };
            bool ok = false;
            for (size_t i = 0; i < GL_NELEM(known); i++)
                ok = ok || strcmp(k, known[i]) == 0;
            if (!ok)
                return gl__expr_fail(ev, "format(): the option '%.40s' is not supported", k);
            if (strcmp(k, "style") == 0)
                style = json_object_get_string(v);
            else if (strcmp(k, "currency") == 0)
                currency = json_object_get_string(v);
            else if (strcmp(k, "useGrouping") == 0)
                f->grouping = gl_expr_truthy(v);
        }
    }
    f->pct = strcmp(style, "percent") == 0, f->cur = strcmp(style, "currency") == 0;
    if (!f->pct && !f->cur && strcmp(style, "decimal") != 0)
        return gl__expr_fail(ev, "format(): the style '%.40s' is not supported (decimal, percent, currency)", style);
    if (f->cur && (!currency || strlen(currency) != 3))
        return gl__expr_fail(ev, "Currency code is required with currency style.");
    f->sym = NULL;
    memset(f->code, 0, sizeof f->code);
    f->min_frac = 0, f->max_frac = f->pct ? 0 : 3, f->min_int = 1;
    if (f->cur) {
        for (int i = 0; i < 3; i++)
            f->code[i] = (char)(currency[i] >= 'a' && currency[i] <= 'z' ? currency[i] - 32 : currency[i]);
        const char *c = f->code;
        f->sym = strcmp(c, "USD") == 0 ? "$" : strcmp(c, "EUR") == 0 ? "\xe2\x82\xac"
                 : strcmp(c, "GBP") == 0 ? "\xc2\xa3" : strcmp(c, "JPY") == 0 ? "\xc2\xa5" : NULL;
        f->min_frac = f->max_frac = strcmp(c, "JPY") == 0 ? 0 : 2;
    }
    double dmax = f->max_frac;
    TRY(opt_num(ev, opts, "minimumFractionDigits", 0, 100, &f->min_frac));
    f->max_frac = f->min_frac > dmax ? f->min_frac : dmax;
    TRY(opt_num(ev, opts, "maximumFractionDigits", 0, 100, &f->max_frac));
    TRY(opt_num(ev, opts, "minimumIntegerDigits", 1, 21, &f->min_int));
    if (f->max_frac < f->min_frac)
        return gl__expr_fail(ev, "maximumFractionDigits value is out of range.");
    return GL_OK;
}

/* Adds one unit in the last place of fp[0..nf) (carrying into ip). */
static void nfmt_round_up(char *ip, int *ni, char *fp, int nf)
{
    int i = nf - 1;
    for (; i >= 0 && fp[i] == '9'; i--)
        fp[i] = '0';
    if (i >= 0) {
        fp[i]++;
        return;
    }
    int j = *ni - 1;
    for (; j >= 0 && ip[j] == '9'; j--)
        ip[j] = '0';
    if (j >= 0) {
        ip[j]++;
    } else {
        memmove(ip + 1, ip, (size_t)*ni);
        ip[0] = '1';
        (*ni)++;
    }
}

/* |x| (finite) in f's digits, grouping and decimal sign, into buf; its
 * length. */
static size_t nfmt_digits(const nfmt_t *f, double x, char buf[800])
{
    /* the digits of |x| as integer and fraction parts, rounded */
    char dg[24];
    int point;
    size_t n = 0;
    shortest(fabs(x), dg, &point);
    if (fabs(x) == 0) {
        dg[0] = '\0';
        point = 0;
    }
    if (f->pct)
        point += 2;
    int nd = (int)strlen(dg), mf = (int)f->max_frac;
    char ip[400], fp[120];
    int ni = 0, nf = 0;
    for (int i = 0; i < point && ni < 390; i++)
        ip[ni++] = i < nd ? dg[i] : '0';
    for (int i = 0; i < mf; i++) {
        int at = point + i;
        fp[nf++] = at >= 0 && at < nd ? dg[at] : '0';
    }
    int at = point + mf;
    if (at >= 0 && at < nd && dg[at] >= '5')
        nfmt_round_up(ip, &ni, fp, nf);
    while (nf > (int)f->min_frac && fp[nf - 1] == '0')
        nf--;
    while (ni < (int)f->min_int) {
        memmove(ip + 1, ip, (size_t)ni);
        ip[0] = '0';
        ni++;
    }
    /* ICU keeps the sign of a negative number rounded to zero: "-0" */
    for (int i = 0; i < ni; i++) {
        if (f->grouping && i > 0 && (ni - i) % 3 == 0 && ni >= 4) {
            size_t gl = strlen(f->L->group);
            memcpy(buf + n, f->L->group, gl);
            n += gl;
        }
        buf[n++] = ip[i];
    }
    if (nf) {
        size_t dl = strlen(f->L->decimal);
        memcpy(buf + n, f->L->decimal, dl);
        n += dl;
        memcpy(buf + n, fp, (size_t)nf);
        n += (size_t)nf;
    }
    return n;
}

static int n_format(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    nfmt_t f;
    TRY(nfmt_options(ev, arg(a, na, 0), arg(a, na, 1), &f));
    const nfmt_locale_t *L = f.L;
    double x = self->n;
    char buf[800];
    size_t n = 0;
    gl_buf_t b;
    gl_buf_init(&b, ev->max_out);
    bool neg = signbit(x) && !isnan(x);
    if (isnan(x) || isinf(x)) {
        const char *t = isnan(x) ? "NaN" : "\xe2\x88\x9e";
        memcpy(buf, t, strlen(t));
        n = strlen(t);
    } else {
        n = nfmt_digits(&f, x, buf);
    }
    int rc = GL_OK;
    const char *mark = f.sym ? f.sym : f.code;
    if (neg)
        rc = gl__expr_apps(ev, &b, "-");
    if (rc == GL_OK && f.cur && !L->sign_after)
        rc = gl__expr_apps(ev, &b, mark);
    if (rc == GL_OK && f.cur && !L->sign_after && !f.sym)
        rc = gl__expr_apps(ev, &b, "\xc2\xa0");
    if (rc == GL_OK)
        rc = gl__expr_app(ev, &b, buf, n);
    if (rc == GL_OK && (f.pct || f.cur) && L->sign_after)
        rc = gl__expr_apps(ev, &b, f.pct ? L->space : "\xc2\xa0");
    if (rc == GL_OK && f.pct)
        rc = gl__expr_apps(ev, &b, "%");
    if (rc == GL_OK && f.cur && L->sign_after)
        rc = gl__expr_apps(ev, &b, mark);
    if (rc != GL_OK) {
        gl_buf_free(&b);
        return rc;
    }
    return gl__expr_buf_val(&b, out);
}

static const method_t num_ext[] = {
    { "ceil", n_ceil }, { "floor", n_floor }, { "format", n_format }, { "round", n_round },
    { "abs", n_abs }, { "isInteger", n_is_integer }, { "isEven", n_is_even }, { "isOdd", n_is_odd },
    { "toBoolean", n_to_boolean }, { "toInt", n_to_int }, { "toFloat", n_to_float },
    { "toDateTime", n_to_date_time },
};

/* ------------------------------------------------------------------------ */
/* Arrays                                                                   */

static size_t alen(const val_t *v)
{
    return json_object_array_length(v->j);
}

static json_object *elem(const val_t *v, size_t i)
{
    return json_object_array_get_idx(v->j, i);
}

static int all_numbers(ev_t *ev, const val_t *self, const char *fn)
{
    for (size_t i = 0; i < alen(self); i++) {
        TRY(gl__expr_charge(ev, 1));
        json_type t = json_object_get_type(elem(self, i));
        if (t != json_type_int && t != json_type_double)
            return gl__expr_fail(ev, "%s(): all array elements must be numbers", fn);
    }
    return GL_OK;
}

static int a_sum(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)a, (void)na;
    TRY(all_numbers(ev, self, "sum"));
    double s = 0;
    for (size_t i = 0; i < alen(self); i++)
        s += json_object_get_double(elem(self, i));
    *out = vnum(s);
    return GL_OK;
}

static int a_average(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)a, (void)na;
    TRY(all_numbers(ev, self, "average"));
    double s = 0;
    for (size_t i = 0; i < alen(self); i++)
        s += json_object_get_double(elem(self, i));
    *out = vnum(alen(self) ? s / (double)alen(self) : 0);
    return GL_OK;
}

static int a_min_max(ev_t *ev, const val_t *self, bool max, val_t *out)
{
    TRY(all_numbers(ev, self, max ? "max" : "min"));
    double r = max ? -INFINITY : INFINITY;
    for (size_t i = 0; i < alen(self); i++) {
        double x = json_object_get_double(elem(self, i));
        if (isnan(x) || isnan(r))
            r = NAN;
        else if (max ? x > r : x < r)
            r = x;
    }
    *out = vnum(r);
    return GL_OK;
}

static int a_min(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)a, (void)na;
    return a_min_max(ev, self, false, out);
}

static int a_max(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)a, (void)na;
    return a_min_max(ev, self, true, out);
}

static int a_random_item(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)ev, (void)a, (void)na;
    size_t n = alen(self);
    uint64_t r = 0;
    if (!n) {
        *out = vmk(V_UNDEF);
        return GL_OK;
    }
    if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
        r = (uint64_t)gl_now_ms();
    *out = gl__expr_vjson(elem(self, (size_t)(r % n)));
    return GL_OK;
}

/* pluck(...fields): for each object element, the values of the fields it
 * has, in the element's key order (one value alone, several as an array) */
static int a_pluck(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    if (na == 0) {
        *out = vdup(self);
        return GL_OK;
    }
    sv_t f[MAX_ARGS];
    size_t nf = 0;
    int rc = GL_OK;
    for (; nf < na && rc == GL_OK; nf++)
        if ((rc = gl__expr_to_sv(ev, &a[nf], &f[nf])) != GL_OK)
            break;
    json_object *arr = json_object_new_array();
    size_t size = 16;
    for (size_t i = 0; rc == GL_OK && i < alen(self); i++) {
        json_object *e = elem(self, i);
        if (!objlike(e))
            continue;
        json_object *p = json_object_new_array();
        size_t psize = 16;
        if (json_object_is_type(e, json_type_object)) {
            json_object_object_foreach(e, k, v)
            {
                for (size_t j = 0; rc == GL_OK && j < nf; j++)
                    if ((rc = gl__expr_charge_pass(ev, f[j].n)) == GL_OK && strlen(k) == f[j].n &&
                        memcmp(k, f[j].p, f[j].n) == 0)
                        rc = gl__expr_arr_add(ev, p, &psize, json_object_get(v), gl__expr_json_size(v));
                if (rc != GL_OK)
                    break;
            }
        } else {
            char key[24];
            for (size_t x = 0; rc == GL_OK && x < json_object_array_length(e); x++) {
                snprintf(key, sizeof key, "%zu", x);
                json_object *v = json_object_array_get_idx(e, x);
                for (size_t j = 0; rc == GL_OK && j < nf; j++)
                    if ((rc = gl__expr_charge(ev, 1)) == GL_OK && strlen(key) == f[j].n &&
                        memcmp(key, f[j].p, f[j].n) == 0)
                        rc = gl__expr_arr_add(ev, p, &psize, json_object_get(v), gl__expr_json_size(v));
            }
        }
        size_t pn = json_object_array_length(p);
        if (rc == GL_OK && pn == 1) {
            json_object *v = json_object_array_get_idx(p, 0);
            rc = gl__expr_arr_add(ev, arr, &size, json_object_get(v), gl__expr_json_size(v));
            json_object_put(p);
        } else if (rc == GL_OK && pn > 1) {
            rc = gl__expr_arr_add(ev, arr, &size, p, psize);
        } else {
            json_object_put(p);
        }
    }
    for (size_t j = 0; j < nf; j++)
        gl__expr_sv_free(&f[j]);
    if (rc != GL_OK) {
        json_object_put(arr);
        return rc;
    }
    *out = vown(V_ARR, arr, size);
    return GL_OK;
}

/* Are x and y the same for unique(...fields)? Objects compare by the
 * fields only when fields are given. */
static int same_by(ev_t *ev, json_object *x, json_object *y, const sv_t *f, size_t nf, bool *eq)
{
    if (nf == 0 || !objlike(x) || !objlike(y)) {
        if (nf && (objlike(x) != objlike(y))) {
            *eq = false;
            return GL_OK;
        }
        return gl__expr_json_equal(ev, x, y, true, 0, eq);
    }
    for (size_t i = 0; i < nf; i++) {
        json_object *vx, *vy;
        TRY(gl__expr_charge_bytes(ev, f[i].n));
        bool hx = field_get(x, f[i].p, &vx), hy = field_get(y, f[i].p, &vy);
        if (hx != hy) {
            *eq = false;
            return GL_OK;
        }
        if (hx)
            TRY(gl__expr_json_equal(ev, vx, vy, true, 0, eq));
        else
            *eq = true;
        if (!*eq)
            return GL_OK;
    }
    *eq = true;
    return GL_OK;
}

/* The elements of src (a json array) without repeats, the first kept. */
static int uniq(ev_t *ev, json_object *src, const sv_t *f, size_t nf, val_t *out)
{
    json_object *arr = json_object_new_array();
    size_t size = 16;
    int rc = GL_OK;
    for (size_t i = 0; rc == GL_OK && i < json_object_array_length(src); i++) {
        json_object *e = json_object_array_get_idx(src, i);
        bool dup = false;
        for (size_t k = 0; rc == GL_OK && !dup && k < json_object_array_length(arr); k++)
            rc = same_by(ev, json_object_array_get_idx(arr, k), e, f, nf, &dup);
        if (rc == GL_OK && !dup)
            rc = arr_push(ev, arr, &size, e);
    }
    if (rc != GL_OK) {
        json_object_put(arr);
        return rc;
    }
    *out = vown(V_ARR, arr, size);
    return GL_OK;
}

static int a_unique(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    sv_t f[MAX_ARGS];
    size_t nf = 0;
    int rc = GL_OK;
    for (; nf < na; nf++)
        if ((rc = gl__expr_to_sv(ev, &a[nf], &f[nf])) != GL_OK)
            break;
    if (rc == GL_OK)
        rc = uniq(ev, self->j, f, nf, out);
    for (size_t j = 0; j < nf; j++)
        gl__expr_sv_free(&f[j]);
    return rc;
}

/* Object compact: drops null, "", "nil" and empty objects, recursively;
 * nested arrays become objects keyed by index, as in n8n. */
static int o_compact_j(ev_t *ev, json_object *o, int depth, json_object **out, size_t *size)
{
    if (depth > VALUE_DEPTH)
        return gl__expr_fail(ev, "value nested too deeply");
    json_object *src;
    size_t ss;
    TRY(spread(ev, o, &src, &ss));
    json_object *r = json_object_new_object();
    *size = 16;
    int rc = GL_OK;
    json_object_object_foreach(src, k, v)
    {
        if ((rc = gl__expr_charge(ev, 1)) != GL_OK)
            break;
        if (!v || (json_object_is_type(v, json_type_string) &&
                   (json_object_get_string_len(v) == 0 || strcmp(json_object_get_string(v), "nil") == 0)))
            continue;
        if (objlike(v)) {
            size_t n = json_object_is_type(v, json_type_array) ? json_object_array_length(v)
                                                                : (size_t)json_object_object_length(v);
            if (n == 0)
                continue;
            json_object *c;
            size_t cs;
            if ((rc = o_compact_j(ev, v, depth + 1, &c, &cs)) != GL_OK)
                break;
            rc = gl__expr_obj_add(ev, r, size, k, c, cs);
        } else {
            rc = gl__expr_obj_add(ev, r, size, k, json_object_get(v), gl__expr_json_size(v));
        }
        if (rc != GL_OK)
            break;
    }
    json_object_put(src);
    if (rc != GL_OK) {
        json_object_put(r);
        return rc;
    }
    *out = r;
    return GL_OK;
}

static int a_compact(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)a, (void)na;
    json_object *arr = json_object_new_array();
    size_t size = 16;
    int rc = GL_OK;
    for (size_t i = 0; rc == GL_OK && i < alen(self); i++) {
        json_object *v = elem(self, i);
        if ((rc = gl__expr_charge(ev, 1)) != GL_OK)
            break;
        if (!v || (json_object_is_type(v, json_type_string) &&
                   (json_object_get_string_len(v) == 0 || strcmp(json_object_get_string(v), "nil") == 0)))
            continue;
        if (objlike(v)) {
            size_t n = json_object_is_type(v, json_type_array) ? json_object_array_length(v)
                                                                : (size_t)json_object_object_length(v);
            if (n == 0)
                continue;
            json_object *c;
            size_t cs;
            if ((rc = o_compact_j(ev, v, 1, &c, &cs)) == GL_OK)
                rc = gl__expr_arr_add(ev, arr, &size, c, cs);
        } else {
            rc = gl__expr_arr_add(ev, arr, &size, json_object_get(v), gl__expr_json_size(v));
        }
    }
    if (rc != GL_OK) {
        json_object_put(arr);
        return rc;
    }
    *out = vown(V_ARR, arr, size);
    return GL_OK;
}

/* smartJoin(keyField, valueField): {e[keyField]: e[valueField], …} */
static int a_smart_join(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    const char *kf = str_arg(a, na, 0), *vf = str_arg(a, na, 1);
    if (!kf || !vf || !*kf || !*vf)
        return gl__expr_fail(ev, "smartJoin(): expected two string args, e.g. .smartJoin(\"name\", \"value\")");
    json_object *o = json_object_new_object();
    size_t size = 16;
    int rc = GL_OK;
    for (size_t i = 0; rc == GL_OK && i < alen(self); i++) {
        json_object *e = elem(self, i), *k, *v;
        if ((rc = gl__expr_charge(ev, 1)) != GL_OK)
            break;
        if (!objlike(e) || !field_get(e, kf, &k) || !field_get(e, vf, &v))
            continue;
        val_t kv = gl__expr_vjson(k);
        sv_t ks;
        rc = gl__expr_to_sv(ev, &kv, &ks);
        vfree(&kv);
        if (rc != GL_OK)
            break;
        if (memchr(ks.p, 0, ks.n))
            rc = gl__expr_fail(ev, "property names may not contain NUL");
        else if ((rc = gl__expr_charge_pass(ev, ks.n)) == GL_OK)
            rc = gl__expr_obj_add(ev, o, &size, ks.p, json_object_get(v), gl__expr_json_size(v));
        gl__expr_sv_free(&ks);
    }
    if (rc != GL_OK) {
        json_object_put(o);
        return rc;
    }
    *out = vown(V_OBJ, o, size);
    return GL_OK;
}

/* chunk(size) */
static int a_chunk(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    const val_t *c = arg(a, na, 0);
    if (c->k != V_NUM || c->n == 0)
        return gl__expr_fail(ev, "chunk(): expected non-zero numeric arg, e.g. .chunk(5)");
    if (!(c->n > 0)) /* JavaScript would loop forever */
        return gl__expr_fail(ev, "chunk(): expected a positive size, e.g. .chunk(5)");
    json_object *arr = json_object_new_array();
    size_t size = 16, n = alen(self);
    int rc = GL_OK;
    for (double i = 0; rc == GL_OK && i < (double)n; i += c->n) {
        size_t from = (size_t)trunc(i), to = (size_t)fmin(trunc(i + c->n), (double)n);
        json_object *part = json_object_new_array();
        size_t psize = 16;
        for (size_t k = from; rc == GL_OK && k < to; k++)
            rc = arr_push(ev, part, &psize, elem(self, k));
        if (rc == GL_OK)
            rc = gl__expr_arr_add(ev, arr, &size, part, psize);
        else
            json_object_put(part);
    }
    if (rc != GL_OK) {
        json_object_put(arr);
        return rc;
    }
    *out = vown(V_ARR, arr, size);
    return GL_OK;
}

/* renameKeys(from1, to1, from2, to2, …) on each object element */
static int a_rename_keys(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    if (na == 0 || na % 2)
        return gl__expr_fail(ev, "renameKeys(): expected an even amount of args: from1, to1 [, from2, to2, ...]. "
                                 "e.g. .renameKeys(\"name\", \"title\")");
    sv_t f[MAX_ARGS];
    size_t nf = 0;
    int rc = GL_OK;
    for (; nf < na; nf++) {
        if ((rc = gl__expr_to_sv(ev, &a[nf], &f[nf])) != GL_OK)
            break;
        if (memchr(f[nf].p, 0, f[nf].n)) {
            gl__expr_sv_free(&f[nf]);
            rc = gl__expr_fail(ev, "property names may not contain NUL");
            break;
        }
    }
    json_object *arr = json_object_new_array();
    size_t size = 16;
    for (size_t i = 0; rc == GL_OK && i < alen(self); i++) {
        json_object *e = elem(self, i);
        if (!objlike(e)) {
            rc = arr_push(ev, arr, &size, e);
            continue;
        }
        json_object *o, *v;
        size_t os;
        if ((rc = spread(ev, e, &o, &os)) != GL_OK)
            break;
        for (size_t j = 0; rc == GL_OK && j + 1 < nf; j += 2) {
            if ((rc = gl__expr_charge_pass(ev, f[j].n + f[j + 1].n)) != GL_OK)
                break;
            if (!json_object_object_get_ex(o, f[j].p, &v))
                continue;
            json_object_get(v);
            json_object_object_add(o, f[j + 1].p, v);
            if (strcmp(f[j].p, f[j + 1].p) != 0)
                json_object_object_del(o, f[j].p);
        }
        if (rc == GL_OK)
            rc = gl__expr_arr_add(ev, arr, &size, o, os);
        else
            json_object_put(o);
    }
    for (size_t j = 0; j < nf; j++)
        gl__expr_sv_free(&f[j]);
    if (rc != GL_OK) {
        json_object_put(arr);
        return rc;
    }
    *out = vown(V_ARR, arr, size);
    return GL_OK;
}

/* Adds to *dst (a new object) the keys of src it does not have yet. */
static int add_missing(ev_t *ev, json_object *dst, size_t *size, json_object *src)
{
    json_object *s;
    size_t ss;
    TRY(spread(ev, src, &s, &ss));
    int rc = GL_OK;
    json_object_object_foreach(s, k, v)
    {
        if ((rc = gl__expr_charge_bytes(ev, strlen(k))) != GL_OK)
            break;
        if (!json_object_object_get_ex(dst, k, NULL) &&
            (rc = gl__expr_obj_add(ev, dst, size, k, json_object_get(v), gl__expr_json_size(v))) != GL_OK)
            break;
    }
    json_object_put(s);
    return rc;
}

/* Object.assign(dst, src) */
static int assign(ev_t *ev, json_object *dst, size_t *size, json_object *src)
{
    int rc = GL_OK;
    json_object_object_foreach(src, k, v)
    {
        if ((rc = gl__expr_charge_bytes(ev, strlen(k))) != GL_OK)
            break;
        if ((rc = gl__expr_obj_add(ev, dst, size, k, json_object_get(v), gl__expr_json_size(v))) != GL_OK)
            break;
    }
    return rc;
}

/* merge(): the array's objects merged, the first value of a key kept;
 * merge(others): element i merged with others[i], pairs assigned in order */
static int a_merge(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    const val_t *others = arg(a, na, 0);
    json_object *r = json_object_new_object();
    size_t size = 16;
    int rc = GL_OK;
    if (others->k == V_UNDEF) {
        for (size_t i = 0; rc == GL_OK && i < alen(self); i++) {
            json_object *e = elem(self, i);
            if ((rc = gl__expr_charge(ev, 1)) == GL_OK && json_object_is_type(e, json_type_object))
                rc = add_missing(ev, r, &size, e);
        }
    } else if (others->k != V_ARR) {
        rc = gl__expr_fail(ev, "merge(): expected array arg, e.g. .merge([{ id: 1, otherValue: 3 }])");
    } else {
        size_t n = alen(self) > alen(others) ? alen(self) : alen(others);
        for (size_t i = 0; rc == GL_OK && i < n; i++) {
            if ((rc = gl__expr_charge(ev, 1)) != GL_OK)
                break;
            if (i >= alen(self) || i >= alen(others))
                continue; /* undefined on either side: typeof is not 'object' */
            json_object *x = elem(self, i), *y = elem(others, i);
            if ((x && !objlike(x)) || (y && !objlike(y)))
                continue;
            json_object *m;
            size_t ms;
            if (!y) { /* mergeObjects(x, [null]) is x itself */
                if (x && json_object_is_type(x, json_type_object))
                    rc = assign(ev, r, &size, x);
                else if (x && (rc = spread(ev, x, &m, &ms)) == GL_OK) {
                    rc = assign(ev, r, &size, m);
                    json_object_put(m);
                }
                continue;
            }
            if ((rc = spread(ev, x, &m, &ms)) != GL_OK)
                break;
            if ((rc = add_missing(ev, m, &ms, y)) == GL_OK)
                rc = assign(ev, r, &size, m);
            json_object_put(m);
        }
    }
    if (rc != GL_OK) {
        json_object_put(r);
        return rc;
    }
    *out = vown(V_OBJ, r, size);
    return GL_OK;
}

/* mergeIntoObject(others): as merge(others), but every element of both
 * arrays is kept: an element whose counterpart is missing or not an object
 * is merged alone */
static int a_merge_into_object(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    const val_t *others = arg(a, na, 0);
    if (others->k != V_ARR)
        return gl__expr_fail(ev, "mergeIntoObject(): expected array arg, e.g. .mergeIntoObject([{ id: 1, otherValue: 3 }])");
    json_object *r = json_object_new_object();
    size_t size = 16, n = alen(self) > alen(others) ? alen(self) : alen(others);
    int rc = GL_OK;
    for (size_t i = 0; rc == GL_OK && i < n; i++) {
        json_object *x = i < alen(self) ? elem(self, i) : NULL, *y = i < alen(others) ? elem(others, i) : NULL;
        bool xo = json_object_is_type(x, json_type_object), yo = json_object_is_type(y, json_type_object);
        if ((rc = gl__expr_charge(ev, 1)) != GL_OK || (!xo && !yo))
            continue;
        json_object *m;
        size_t ms;
        if ((rc = spread(ev, xo ? x : y, &m, &ms)) != GL_OK)
            break;
        if (xo && yo)
            rc = add_missing(ev, m, &ms, y);
        if (rc == GL_OK)
            rc = assign(ev, r, &size, m);
        json_object_put(m);
    }
    if (rc != GL_OK) {
        json_object_put(r);
        return rc;
    }
    *out = vown(V_OBJ, r, size);
    return GL_OK;
}

/* Is e deep-equal to an element of arr? */
static int find_in(ev_t *ev, json_object *arr, json_object *e, bool *found)
{
    *found = false;
    for (size_t k = 0; k < json_object_array_length(arr) && !*found; k++)
        TRY(gl__expr_json_equal(ev, json_object_array_get_idx(arr, k), e, true, 0, found));
    return GL_OK;
}

/* union (0), difference (1), intersection (2) */
static int set_op(ev_t *ev, const val_t *self, const val_t *a, size_t na, int op, val_t *out)
{
    static const char *const names[] = { "union", "difference", "intersection" };
    const val_t *o = arg(a, na, 0);
    if (o->k != V_ARR)
        return gl__expr_fail(ev, "%s(): expected array arg, e.g. .%s([1, 2, 3, 4])", names[op], names[op]);
    json_object *tmp = json_object_new_array();
    size_t size = 16;
    int rc = GL_OK;
    bool found;
    if (op == 0)
        for (size_t i = 0; rc == GL_OK && i < alen(self); i++)
            rc = arr_push(ev, tmp, &size, elem(self, i));
    for (size_t i = 0; rc == GL_OK && i < (op == 0 ? alen(o) : alen(self)); i++) {
        json_object *e = op == 0 ? elem(o, i) : elem(self, i);
        if ((rc = find_in(ev, op == 0 ? tmp : o->j, e, &found)) != GL_OK)
            break;
        if (found == (op == 2))
            rc = arr_push(ev, tmp, &size, e);
    }
    for (size_t i = 0; op == 2 && rc == GL_OK && i < alen(o); i++) {
        if ((rc = find_in(ev, self->j, elem(o, i), &found)) == GL_OK && found)
            rc = arr_push(ev, tmp, &size, elem(o, i));
    }
    if (rc == GL_OK)
        rc = uniq(ev, tmp, NULL, 0, out);
    json_object_put(tmp);
    return rc;
}

static int a_union(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    return set_op(ev, self, a, na, 0, out);
}

static int a_difference(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    return set_op(ev, self, a, na, 1, out);
}

static int a_intersection(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    return set_op(ev, self, a, na, 2, out);
}

/* append(...values): a copy with the values added, arrays as one element */
static int a_append(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    json_object *arr = json_object_new_array();
    size_t size = 16;
    int rc = GL_OK;
    for (size_t i = 0; rc == GL_OK && i < alen(self); i++)
        rc = arr_push(ev, arr, &size, elem(self, i));
    for (size_t i = 0; rc == GL_OK && i < na; i++)
        if ((rc = gl__expr_charge(ev, 1)) == GL_OK)
            rc = gl__expr_arr_add_val(ev, arr, &size, &a[i]);
    if (rc != GL_OK) {
        json_object_put(arr);
        return rc;
    }
    *out = vown(V_ARR, arr, size);
    return GL_OK;
}

/* first() and last() are with the JavaScript methods (expr_lib.c). */
static const method_t arr_ext[] = {
    { "removeDuplicates", a_unique }, { "unique", a_unique },
    { "pluck", a_pluck }, { "randomItem", a_random_item }, { "sum", a_sum },
    { "min", a_min }, { "max", a_max }, { "average", a_average },
    { "isNotEmpty", gl__expr_m_is_not_empty }, { "isEmpty", gl__expr_m_is_empty },
    { "compact", a_compact }, { "smartJoin", a_smart_join }, { "chunk", a_chunk },
    { "renameKeys", a_rename_keys }, { "merge", a_merge }, { "mergeIntoObject", a_merge_into_object },
    { "union", a_union },
    { "difference", a_difference }, { "intersection", a_intersection }, { "append", a_append },
    { "toJsonString", gl__expr_to_json_string }, { "toInt", undefined_result }, { "toFloat", undefined_result },
    { "toBoolean", undefined_result }, { "toDateTime", undefined_result },
};

/* ------------------------------------------------------------------------ */
/* Objects                                                                  */

static int o_remove_field(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    sv_t k;
    TRY(gl__expr_to_sv(ev, arg(a, na, 0), &k));
    int rc = gl__expr_charge_bytes(ev, k.n);
    if (rc == GL_OK && !memchr(k.p, 0, k.n) && json_object_object_get_ex(self->j, k.p, NULL)) {
        json_object *o;
        size_t size;
        if ((rc = spread(ev, self->j, &o, &size)) == GL_OK) {
            json_object_object_del(o, k.p);
            *out = vown(V_OBJ, o, size);
        }
    } else if (rc == GL_OK) {
        *out = vdup(self);
    }
    gl__expr_sv_free(&k);
    return rc;
}

/* removeFieldsContaining (keep false) / keepFieldsContaining (keep true) */
static int o_fields_containing(ev_t *ev, const val_t *self, const val_t *a, size_t na, bool keep, val_t *out)
{
    const char *m = str_arg(a, na, 0);
    if (!m || !*m)
        return keep ? gl__expr_fail(ev, "argument of keepFieldsContaining must be a non-empty string")
                    : gl__expr_fail(ev, "removeFieldsContaining(): expected non-empty string arg");
    size_t mn = sn(arg(a, na, 0));
    json_object *o = json_object_new_object();
    size_t size = 16;
    int rc = GL_OK;
    json_object_object_foreach(self->j, k, v)
    {
        bool has = false;
        if (json_object_is_type(v, json_type_string)) {
            size_t vn = (size_t)json_object_get_string_len(v);
            if ((rc = gl__expr_charge_pass(ev, vn)) != GL_OK)
                break;
            has = memmem(json_object_get_string(v), vn, m, mn) != NULL;
        }
        bool stay = keep ? has : !(json_object_is_type(v, json_type_string) && has);
        if (stay && (rc = gl__expr_obj_add(ev, o, &size, k, json_object_get(v), gl__expr_json_size(v))) != GL_OK)
            break;
    }
    if (rc != GL_OK) {
        json_object_put(o);
        return rc;
    }
    *out = vown(V_OBJ, o, size);
    return GL_OK;
}

static int o_remove_containing(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    return o_fields_containing(ev, self, a, na, false, out);
}

static int o_keep_containing(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    return o_fields_containing(ev, self, a, na, true, out);
}

static int o_compact(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)a, (void)na;
    json_object *o;
    size_t size;
    TRY(o_compact_j(ev, self->j, 0, &o, &size));
    *out = vown(V_OBJ, o, size);
    return GL_OK;
}

/* application/x-www-form-urlencoded, as URLSearchParams writes it */
static int form_enc(ev_t *ev, gl_buf_t *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    TRY(gl__expr_charge_bytes(ev, 3 * n));
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char t[3];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || strchr("*-._", c)) {
            TRY(gl__expr_app(ev, b, (const char *)&s[i], 1));
        } else if (c == ' ') {
            TRY(gl__expr_app(ev, b, "+", 1));
        } else {
            t[0] = '%', t[1] = hex[c >> 4], t[2] = hex[c & 15];
            TRY(gl__expr_app(ev, b, t, 3));
        }
    }
    return GL_OK;
}

static int o_url_encode(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)a, (void)na;
    gl_buf_t b;
    gl_buf_init(&b, ev->max_out);
    int rc = GL_OK;
    bool first = true;
    json_object_object_foreach(self->j, k, v)
    {
        sv_t s;
        val_t x = gl__expr_vjson(v);
        if (!first)
            rc = gl__expr_app(ev, &b, "&", 1);
        first = false;
        if (rc == GL_OK)
            rc = form_enc(ev, &b, k, strlen(k));
        if (rc == GL_OK)
            rc = gl__expr_app(ev, &b, "=", 1);
        if (rc == GL_OK && (rc = gl__expr_to_sv(ev, &x, &s)) == GL_OK) {
            rc = form_enc(ev, &b, s.p, s.n);
            gl__expr_sv_free(&s);
        }
        vfree(&x);
        if (rc != GL_OK)
            break;
    }
    if (rc != GL_OK) {
        gl_buf_free(&b);
        return rc;
    }
    return gl__expr_buf_val(&b, out);
}

/* keys (0) / values (1) */
static int o_list(ev_t *ev, const val_t *self, bool values, val_t *out)
{
    json_object *arr = json_object_new_array();
    size_t size = 16;
    int rc = GL_OK;
    json_object_object_foreach(self->j, k, v)
    {
        if ((rc = gl__expr_charge_pass(ev, strlen(k))) != GL_OK)
            break;
        rc = values ? gl__expr_arr_add(ev, arr, &size, json_object_get(v), gl__expr_json_size(v))
                    : gl__expr_arr_add(ev, arr, &size, json_object_new_string(k), strlen(k) + 2);
        if (rc != GL_OK)
            break;
    }
    if (rc != GL_OK) {
        json_object_put(arr);
        return rc;
    }
    *out = vown(V_ARR, arr, size);
    return GL_OK;
}

static int o_keys(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)a, (void)na;
    return o_list(ev, self, false, out);
}

static int o_values(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)a, (void)na;
    return o_list(ev, self, true, out);
}

static const method_t obj_ext[] = {
    { "isEmpty", gl__expr_m_is_empty }, { "isNotEmpty", gl__expr_m_is_not_empty },
    { "hasField", gl__expr_o_has_own }, { "removeField", o_remove_field },
    { "removeFieldsContaining", o_remove_containing }, { "keepFieldsContaining", o_keep_containing },
    { "compact", o_compact }, { "urlEncode", o_url_encode }, { "keys", o_keys }, { "values", o_values },
    { "toJsonString", gl__expr_to_json_string }, { "toInt", undefined_result }, { "toFloat", undefined_result },
    { "toBoolean", undefined_result }, { "toDateTime", undefined_result },
};

/* ------------------------------------------------------------------------ */
/* Booleans                                                                 */

static int b_to_int(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)ev, (void)a, (void)na;
    *out = vnum(self->b ? 1 : 0);
    return GL_OK;
}

static int b_to_boolean(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)ev, (void)a, (void)na;
    *out = vbool(self->b);
    return GL_OK;
}

static const method_t bool_ext[] = {
    { "toBoolean", b_to_boolean }, { "toInt", b_to_int }, { "toFloat", b_to_int },
    { "toNumber", b_to_int }, { "toDateTime", undefined_result },
};

method_fn gl__expr_ext_method(int kind, const char *name, size_t len)
{
    const method_t *t;
    size_t n;
    switch (kind) {
    case V_NUM: t = num_ext, n = GL_NELEM(num_ext); break;
    case V_ARR: t = arr_ext, n = GL_NELEM(arr_ext); break;
    case V_OBJ: t = obj_ext, n = GL_NELEM(obj_ext); break;
    case V_BOOL: t = bool_ext, n = GL_NELEM(bool_ext); break;
    default: return NULL;
    }
    for (size_t i = 0; i < n; i++)
        if (name_is(name, len, t[i].name))
            return t[i].fn;
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Helper functions                                                         */

/* $if(condition, valueIfTrue, valueIfFalse) */
static int g_if(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    if (na < 2 || na > 3)
        return gl__expr_fail(ev, "$if(): expected two or three arguments (condition, valueIfTrue, valueIfFalse)");
    *out = vdup(arg(a, na, gl__expr_vtruthy(&a[0]) ? 1 : 2));
    return GL_OK;
}

/* $ifEmpty(value, defaultValue) */
static int g_if_empty(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    if (na != 2)
        return gl__expr_fail(ev, "expected two arguments (value, defaultValue) for this function");
    const val_t *v = &a[0];
    bool empty = nullish(v) || (v->k == V_STR && sn(v) == 0) ||
                 (v->k == V_ARR && alen(v) == 0) || (v->k == V_OBJ && json_object_object_length(v->j) == 0);
    *out = vdup(empty ? &a[1] : v);
    return GL_OK;
}

static int g_not(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)ev, (void)self;
    *out = vbool(!gl__expr_vtruthy(arg(a, na, 0)));
    return GL_OK;
}

/* $average(...numbers): array average()'s rule, numbers only, 0 for none */
static int g_average(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    double s = 0;
    for (size_t i = 0; i < na; i++) {
        if (a[i].k != V_NUM)
            return gl__expr_fail(ev, "average(): all array elements must be numbers");
        s += a[i].n;
    }
    *out = vnum(na ? s / (double)na : 0);
    return GL_OK;
}

/* $jmespath(object, expression) */
static int g_jmespath(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    const val_t *d = arg(a, na, 0), *q = arg(a, na, 1);
    if ((d->k != V_OBJ && d->k != V_ARR && d->k != V_NULL) || q->k != V_STR)
        return gl__expr_fail(ev, "expected two arguments (Object, string) for this function");
    json_object *r = NULL;
    size_t size = 0;
    TRY(gl__expr_jmespath(ev, d->j, sp(q), sn(q), &r, &size));
    val_t v = gl__expr_vjson(r);
    if (v.k == V_ARR || v.k == V_OBJ)
        v.size = size ? size : gl__expr_json_size(r);
    json_object_put(r);
    *out = v;
    return GL_OK;
}

/* $items(nodeName?, outputIndex?, runIndex?): the items, as {json, binary} */
static int g_items(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    const val_t *name = arg(a, na, 0);
    double oi, ri;
    TRY(gl__expr_num_arg(ev, a, na, 1, 0, &oi));
    TRY(gl__expr_num_arg(ev, a, na, 2, -1, &ri));
    if (oi != 0)
        return gl__expr_fail(ev, "$items(): only the first output (0) of a node can be read");
    if (ri != -1 && ri != ev->ctx->run_index)
        return gl__expr_fail(ev, "$items(): only the node's latest run can be read");
    json_object *items = ev->ctx->input;
    if (name->k != V_UNDEF) {
        val_t node;
        TRY(gl__expr_g_dollar(ev, NULL, a, 1, &node));
        int rc = gl__expr_call_method(ev, &node, "all", 3, NULL, 0, out);
        vfree(&node);
        return rc;
    }
    json_object *arr = json_object_new_array();
    size_t size = 16, n = items ? json_object_array_length(items) : 0;
    int rc = GL_OK;
    for (size_t i = 0; rc == GL_OK && i < n; i++) {
        json_object *it = json_object_array_get_idx(items, i), *w = gl__expr_wrap_item(it);
        if ((rc = gl__expr_charge(ev, 1)) == GL_OK)
            rc = gl__expr_arr_add(ev, arr, &size, w, 24 + gl__expr_json_size(it));
        else
            json_object_put(w);
    }
    if (rc != GL_OK) {
        json_object_put(arr);
        return rc;
    }
    *out = vown(V_ARR, arr, size);
    return GL_OK;
}

/* $item(index, runIndex?): the n8n legacy proxy of one input item; holds
 * $json, json, $binary, $itemIndex, $runIndex, $parameter and $vars */
static int g_item(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    double i;
    TRY(gl__expr_num_arg(ev, a, na, 0, NAN, &i));
    json_object *items = ev->ctx->input;
    size_t n = items ? json_object_array_length(items) : 0;
    if (!(i >= 0 && i == trunc(i)))
        return gl__expr_fail(ev, "$item(): expected an item index (0, 1, …)");
    if (i >= (double)n)
        return gl__expr_fail(ev, "$item(): no input item at index %.0f (there are %zu)", i, n);
    json_object *it = json_object_array_get_idx(items, (size_t)i), *o = json_object_new_object();
    json_object_object_add(o, "$json", json_object_get(it));
    json_object_object_add(o, "json", json_object_get(it));
    json_object *bin = gl__expr_item_binary(it);
    json_object_object_add(o, "$binary", bin ? json_object_get(bin) : json_object_new_object());
    json_object_object_add(o, "$itemIndex", json_object_new_int64((int64_t)i));
    json_object_object_add(o, "$runIndex", json_object_new_int64(ev->ctx->run_index));
    json_object_object_add(o, "$parameter", ev->ctx->parameter ? json_object_get(ev->ctx->parameter)
                                                               : json_object_new_object());
    json_object_object_add(o, "$vars", ev->ctx->vars ? json_object_get(ev->ctx->vars) : json_object_new_object());
    *out = vown(V_OBJ, o, 0);
    return GL_OK;
}

/* numberList(start, end): the integers from start to end, both included,
 * counting down when end < start */
static int g_number_list(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    double from, to;
    TRY(gl__expr_num_arg(ev, a, na, 0, NAN, &from));
    TRY(gl__expr_num_arg(ev, a, na, 1, NAN, &to));
    if (!isfinite(from) || !isfinite(to))
        return gl__expr_fail(ev, "numberList(): expected two numbers (start, end)");
    double count = fabs(from - to) + 1;
    if (count * 24 > (double)ev->max_out)
        return gl__expr_too_big(ev);
    size_t n = (size_t)count, size = 16;
    TRY(gl__expr_charge(ev, n));
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        val_t v = vnum(from < to ? from + (double)i : from - (double)i);
        int rc = gl__expr_arr_add_val(ev, arr, &size, &v);
        if (rc != GL_OK) {
            json_object_put(arr);
            return rc;
        }
    }
    *out = vown(V_ARR, arr, size);
    return GL_OK;
}

/* zip(keys, values): {keys[i]: values[i], …} */
static int g_zip(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    const val_t *k = arg(a, na, 0), *v = arg(a, na, 1);
    if (k->k != V_ARR || v->k != V_ARR)
        return gl__expr_fail(ev, "keys and values must be arrays");
    if (alen(k) != alen(v))
        return gl__expr_fail(ev, "keys and values not of equal length");
    json_object *o = json_object_new_object();
    size_t size = 16;
    int rc = GL_OK;
    for (size_t i = 0; rc == GL_OK && i < alen(k); i++) {
        val_t kv = gl__expr_vjson(elem(k, i));
        sv_t ks;
        rc = gl__expr_to_sv(ev, &kv, &ks);
        vfree(&kv);
        if (rc != GL_OK)
            break;
        if (memchr(ks.p, 0, ks.n))
            rc = gl__expr_fail(ev, "property names may not contain NUL");
        else if ((rc = gl__expr_charge_pass(ev, ks.n)) == GL_OK)
            rc = gl__expr_obj_add(ev, o, &size, ks.p, json_object_get(elem(v, i)), gl__expr_json_size(elem(v, i)));
        gl__expr_sv_free(&ks);
    }
    if (rc != GL_OK) {
        json_object_put(o);
        return rc;
    }
    *out = vown(V_OBJ, o, size);
    return GL_OK;
}

method_fn gl__expr_ext_global_fn(int ns)
{
    switch (ns) {
    case VAR_IF: return g_if;
    case VAR_IFEMPTY: return g_if_empty;
    case VAR_NOT: return g_not;
    case VAR_MIN: return gl__expr_math_min; /* Math.min */
    case VAR_MAX: return gl__expr_math_max;
    case VAR_AVERAGE: return g_average;
    case VAR_JMESPATH: return g_jmespath;
    case VAR_ITEM: return g_item;
    case VAR_ITEMS: return g_items;
    case VAR_NUMBERLIST: return g_number_list;
    case VAR_ZIP: return g_zip;
    default: return NULL;
    }
}

/* $runIndex, $parameter, $vars */
int gl__expr_ext_var(ev_t *ev, int var, val_t *out)
{
    const gl_expr_ctx_t *c = ev->ctx;
    switch (var) {
    case VAR_RUNINDEX: *out = vnum((double)c->run_index); return GL_OK;
    case VAR_PARAMETER:
        *out = c->parameter ? gl__expr_vjson(c->parameter) : vown(V_OBJ, json_object_new_object(), 16);
        return GL_OK;
    case VAR_VARS:
        *out = c->vars ? gl__expr_vjson(c->vars) : vown(V_OBJ, json_object_new_object(), 16);
        return GL_OK;
    default: return GL_NOTFOUND;
    }
}
