/*
 * expr_text.c: the text underneath the expression language (string
 * lengths and indices count code points, see engine.h, expressions, decoded by
 * core/utf8.c): JavaScript's white space, and numbers to and from text the way
 * JavaScript writes and reads them (Number::toString, ToNumber).
 *
 * Nothing here allocates except gl__expr_strtod_n on a long input, which
 * frees before it returns.
 */
#include "expr_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* ------------------------------------------------------------------------ */
/* Text (UTF-8 itself is core/utf8.c)                                       */

/* JavaScript's WhiteSpace and LineTerminator code points. */
bool gl__expr_js_space(uint32_t c)
{
    return c == ' ' || (c >= 0x09 && c <= 0x0D) || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
           c == 0x205F || c == 0x3000 || c == 0xFEFF;
}

/* ------------------------------------------------------------------------ */
/* Numbers                                                                  */

/* JavaScript's Number::toString(10): the shortest digits that round-trip. */
void gl__expr_num_fmt(double d, char out[40])
{
    if (isnan(d)) {
        snprintf(out, 40, "NaN");
        return;
    }
    if (isinf(d)) {
        snprintf(out, 40, d < 0 ? "-Infinity" : "Infinity");
        return;
    }
    if (d == 0) {
        snprintf(out, 40, "0");
        return;
    }
    if (d == trunc(d) && fabs(d) < MAX_SAFE) { /* the common case, without the search below */
        snprintf(out, 40, "%lld", (long long)d);
        return;
    }
    char e[40];
    for (int p = 1; p <= 17; p++) {
        snprintf(e, sizeof e, "%.*e", p - 1, d);
        if (strtod(e, NULL) == d)
            break;
    }
    /* e is [-]D[.DDD]e±X */
    char digits[24];
    int k = 0, pos = 0;
    const char *c = e;
    bool neg = *c == '-';
    if (neg)
        c++;
    for (; *c && *c != 'e'; c++)
        if (*c >= '0' && *c <= '9' && k < 20)
            digits[k++] = *c;
    while (k > 1 && digits[k - 1] == '0')
        k--;
    int x = (int)strtol(c + 1, NULL, 10);
    int n = x + 1; /* the decimal point sits after n digits */
    if (neg)
        out[pos++] = '-';
    if (k <= n && n <= 21) {
        for (int i = 0; i < k; i++)
            out[pos++] = digits[i];
        for (int i = k; i < n; i++)
            out[pos++] = '0';
    } else if (0 < n && n <= 21) {
        for (int i = 0; i < k; i++) {
            if (i == n)
                out[pos++] = '.';
            out[pos++] = digits[i];
        }
    } else if (-6 < n && n <= 0) {
        out[pos++] = '0';
        out[pos++] = '.';
        for (int i = 0; i < -n; i++)
            out[pos++] = '0';
        for (int i = 0; i < k; i++)
            out[pos++] = digits[i];
    } else {
        out[pos++] = digits[0];
        if (k > 1) {
            out[pos++] = '.';
            for (int i = 1; i < k; i++)
                out[pos++] = digits[i];
        }
        pos += snprintf(out + pos, (size_t)(40 - pos), "e%c%d", n - 1 < 0 ? '-' : '+', abs(n - 1));
    }
    out[pos] = '\0';
}

int gl__expr_digit_val(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'Z')
        return c - 'A' + 10;
    return 99;
}

/* strtod over s[0..n) that need not be NUL-terminated. */
double gl__expr_strtod_n(const char *s, size_t n)
{
    char small[64];
    char *p = n < sizeof small ? small : gl_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    double d = strtod(p, NULL);
    if (p != small)
        free(p);
    return d;
}

/* Length of the longest StrDecimalLiteral prefix of s[0..n) (sign included),
 * 0 when there is none. */
size_t gl__expr_dec_prefix(const char *s, size_t n)
{
    size_t i = 0, digits = 0;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    while (i < n && is_digit(s[i]))
        i++, digits++;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && is_digit(s[i]))
            i++, digits++;
    }
    if (!digits)
        return 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t j = i + 1;
        if (j < n && (s[j] == '+' || s[j] == '-'))
            j++;
        if (j < n && is_digit(s[j])) {
            while (j < n && is_digit(s[j]))
                j++;
            i = j;
        }
    }
    return i;
}

void gl__expr_trim_span(const char **s, size_t *n, bool start, bool end)
{
    uint32_t cp;
    size_t i = 0, j = *n;
    if (start)
        while (i < j) {
            size_t l = gl_utf8_decode(*s, j, i, &cp);
            if (!gl__expr_js_space(cp))
                break;
            i += l;
        }
    if (end)
        while (j > i) {
            size_t b = j - 1; /* find the start of the last code point */
            while (b > i && ((unsigned char)(*s)[b] & 0xC0) == 0x80 && j - b < 4)
                b--;
            size_t l = gl_utf8_decode(*s, j, b, &cp);
            if (b + l != j || !gl__expr_js_space(cp))
                break;
            j = b;
        }
    *s += i;
    *n = j - i;
}

/* JavaScript's ToNumber applied to a string. */
double gl__expr_str_to_num(const char *s, size_t n)
{
    gl__expr_trim_span(&s, &n, true, true);
    if (n == 0)
        return 0;
    if (n > 2 && s[0] == '0' && s[1] && strchr("xXoObB", s[1])) {
        int radix = (s[1] | 0x20) == 'x' ? 16 : (s[1] | 0x20) == 'o' ? 8 : 2;
        double v = 0;
        for (size_t i = 2; i < n; i++) {
            int dv = gl__expr_digit_val((unsigned char)s[i]);
            if (dv >= radix)
                return NAN;
            v = v * radix + dv;
        }
        return v;
    }
    const char *t = s;
    size_t tn = n;
    if (*t == '+' || *t == '-')
        t++, tn--;
    if (tn == 8 && memcmp(t, "Infinity", 8) == 0)
        return s[0] == '-' ? -INFINITY : INFINITY;
    if (gl__expr_dec_prefix(s, n) != n)
        return NAN;
    return gl__expr_strtod_n(s, n);
}

/* ToIntegerOrInfinity, then a relative index into [0, len] as slice() does. */
size_t gl__expr_rel_idx(double d, size_t len)
{
    if (isnan(d))
        return 0;
    d = trunc(d);
    if (d < 0) {
        d += (double)len;
        return d < 0 ? 0 : (size_t)d;
    }
    return d > (double)len ? len : (size_t)d;
}

/* Clamped to [0, len] without the negative wrap (substring, includes…). */
size_t gl__expr_clamp_idx(double d, size_t len)
{
    if (isnan(d) || d < 0)
        return 0;
    return d > (double)len ? len : (size_t)trunc(d);
}
