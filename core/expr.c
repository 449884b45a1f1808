/*
 * expr.c: the `{{ … }}` expression language (see expr.h for what it covers).
 *
 * Design. An expression is parsed by recursive descent (precedence climbing
 * for binary operators) into a tree allocated on an arena that lives for one
 * gl_expr_eval/render call; unknown variables and unsupported syntax
 * (assignment, `new`, loops, functions, regular expressions) are rejected
 * there, with a column. The tree is then walked by eval(), which produces
 * val_t values:
 *
 *   undefined, null, boolean, number (a double, as in JavaScript), string,
 *   array, object, DateTime (UTC milliseconds), a namespace or built-in
 *   function (Math, $input, parseInt…), a node reference ($("Name")).
 *
 * Strings, arrays and objects are json-c objects; a val_t owns one reference
 * to its json object and vfree() drops it, so data taken from the context is
 * shared, never copied. There are no function values: `a.b(…)` is a method
 * call dispatched on the type of `a` and the name `b`, `f(…)` a call of a
 * built-in global.
 *
 * Bounds: every tree node visited and every loop iteration inside a library
 * function costs a step; parser nesting and tree height are capped; every
 * string is built in a gl_buf capped at max_output, and every array or object
 * carries an estimate of its serialized size (`size`), checked when it grows.
 * Data borrowed from the context counts 16 bytes per element: it is shared,
 * not built.
 *
 * This file is larger than our usual bar because the language is one unit:
 * lexer, parser, coercions and library share the value type and the budget.
 */
#include "expr.h"

#include "arena.h"
#include "buf.h"
#include "json.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEF_STEPS 100000
#define DEF_DEPTH 64
#define DEF_OUTPUT ((size_t)1 << 20)
#define MAX_OUTPUT_CAP ((size_t)1 << 30) /* json-c string lengths are ints */
#define MAX_DEPTH_CAP 1024
#define VALUE_DEPTH 512                  /* nesting of JSON data walked by the library */
#define MAX_ARGS 32
#define MAX_SAFE 9007199254740992.0      /* 2^53 */
#define MS_PER_DAY 86400000LL

/* ------------------------------------------------------------------------ */
/* UTF-8                                                                    */

/* Decodes the code point at s[i] (i < n) into *cp; returns its byte length.
 * An invalid byte counts as one code point U+FFFD of length 1. */
static size_t u8_dec(const char *s, size_t n, size_t i, uint32_t *cp)
{
    const unsigned char *u = (const unsigned char *)s;
    unsigned c = u[i];
    size_t need;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1, v = c & 0x1F, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2, v = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3, v = c & 0x07, min = 0x10000;
    } else {
        *cp = 0xFFFD;
        return 1;
    }
    if (i + need >= n) {
        *cp = 0xFFFD;
        return 1;
    }
    for (size_t k = 1; k <= need; k++) {
        unsigned b = u[i + k];
        if ((b & 0xC0) != 0x80) {
            *cp = 0xFFFD;
            return 1;
        }
        v = (v << 6) | (b & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
        *cp = 0xFFFD;
        return 1;
    }
    *cp = v;
    return need + 1;
}

static size_t u8_enc(uint32_t cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static size_t u8_count(const char *s, size_t n)
{
    size_t count = 0;
    uint32_t cp;
    for (size_t i = 0; i < n; i += u8_dec(s, n, i, &cp))
        count++;
    return count;
}

/* Byte offset of code point number idx (n when idx is past the end). */
static size_t u8_off(const char *s, size_t n, size_t idx)
{
    size_t i = 0;
    uint32_t cp;
    while (idx > 0 && i < n) {
        i += u8_dec(s, n, i, &cp);
        idx--;
    }
    return i;
}

/* JavaScript's WhiteSpace and LineTerminator code points. */
static bool js_space(uint32_t c)
{
    return c == ' ' || (c >= 0x09 && c <= 0x0D) || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
           c == 0x205F || c == 0x3000 || c == 0xFEFF;
}

/* Simple case mapping for ASCII, Latin-1, Latin Extended-A, Greek, Cyrillic. */
static uint32_t cp_upper(uint32_t c)
{
    if (c >= 'a' && c <= 'z')
        return c - 32;
    if (c < 0x80)
        return c;
    if ((c >= 0xE0 && c <= 0xFE && c != 0xF7))
        return c - 32;
    if (c == 0xFF)
        return 0x178;
    if (c == 0xB5)
        return 0x39C;
    if ((c >= 0x100 && c <= 0x137) || (c >= 0x14A && c <= 0x177))
        return c & ~1u;
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E))
        return (c & 1) ? c : c - 1;
    if (c == 0x17F)
        return 'S';
    if (c == 0x3C2)
        return 0x3A3;
    if (c >= 0x3B1 && c <= 0x3CB)
        return c - 32;
    if (c >= 0x430 && c <= 0x44F)
        return c - 32;
    if (c >= 0x450 && c <= 0x45F)
        return c - 80;
    return c;
}

static uint32_t cp_lower(uint32_t c)
{
    if (c >= 'A' && c <= 'Z')
        return c + 32;
    if (c < 0x80)
        return c;
    if ((c >= 0xC0 && c <= 0xDE && c != 0xD7))
        return c + 32;
    if (c == 0x178)
        return 0xFF;
    if ((c >= 0x100 && c <= 0x137) || (c >= 0x14A && c <= 0x177))
        return c | 1u;
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E))
        return (c & 1) ? c + 1 : c;
    if (c >= 0x391 && c <= 0x3AB && c != 0x3A2)
        return c + 32;
    if (c >= 0x410 && c <= 0x42F)
        return c + 32;
    if (c >= 0x400 && c <= 0x40F)
        return c + 80;
    return c;
}

/* ------------------------------------------------------------------------ */
/* Numbers                                                                  */

/* JavaScript's Number::toString(10): the shortest digits that round-trip. */
static void num_fmt(double d, char out[40])
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

static bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int digit_val(int c)
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
static double strtod_n(const char *s, size_t n)
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
static size_t dec_prefix(const char *s, size_t n)
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

static void trim_span(const char **s, size_t *n, bool start, bool end)
{
    uint32_t cp;
    size_t i = 0, j = *n;
    if (start)
        while (i < j) {
            size_t l = u8_dec(*s, j, i, &cp);
            if (!js_space(cp))
                break;
            i += l;
        }
    if (end)
        while (j > i) {
            size_t b = j - 1; /* find the start of the last code point */
            while (b > i && ((unsigned char)(*s)[b] & 0xC0) == 0x80 && j - b < 4)
                b--;
            size_t l = u8_dec(*s, j, b, &cp);
            if (b + l != j || !js_space(cp))
                break;
            j = b;
        }
    *s += i;
    *n = j - i;
}

/* JavaScript's ToNumber applied to a string. */
static double str_to_num(const char *s, size_t n)
{
    trim_span(&s, &n, true, true);
    if (n == 0)
        return 0;
    if (n > 2 && s[0] == '0' && s[1] && strchr("xXoObB", s[1])) {
        int radix = (s[1] | 0x20) == 'x' ? 16 : (s[1] | 0x20) == 'o' ? 8 : 2;
        double v = 0;
        for (size_t i = 2; i < n; i++) {
            int dv = digit_val((unsigned char)s[i]);
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
    if (dec_prefix(s, n) != n)
        return NAN;
    return strtod_n(s, n);
}

/* ToIntegerOrInfinity, then a relative index into [0, len] as slice() does. */
static size_t rel_idx(double d, size_t len)
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
static size_t clamp_idx(double d, size_t len)
{
    if (isnan(d) || d < 0)
        return 0;
    return d > (double)len ? len : (size_t)trunc(d);
}

/* ------------------------------------------------------------------------ */
/* Dates (UTC only; proleptic Gregorian calendar, years 0000–9999)          */

static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static int days_in_month(int64_t y, int m)
{
    static const int dim[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dim[m - 1];
}

typedef struct {
    int64_t year;
    int month, day, hour, minute, second, ms, weekday; /* weekday 1 = Monday */
} dt_t;

static void dt_split(int64_t ms, dt_t *t)
{
    int64_t days = floor_div(ms, MS_PER_DAY);
    int64_t rem = ms - days * MS_PER_DAY;
    civil_from_days(days, &t->year, &t->month, &t->day);
    t->hour = (int)(rem / 3600000);
    t->minute = (int)(rem / 60000 % 60);
    t->second = (int)(rem / 1000 % 60);
    t->ms = (int)(rem % 1000);
    t->weekday = (int)((floor_div(days + 3, 7) * -7 + days + 3) + 1); /* 1970-01-01 was a Thursday */
}

static int64_t dt_join(const dt_t *t)
{
    return days_from_civil(t->year, t->month, t->day) * MS_PER_DAY + t->hour * 3600000LL +
           t->minute * 60000LL + t->second * 1000LL + t->ms;
}

static bool ms_in_range(int64_t ms)
{
    static const int64_t lo = -62167219200000LL;  /* 0000-01-01T00:00:00Z */
    static const int64_t hi = 253402300800000LL;  /* 10000-01-01T00:00:00Z */
    return ms >= lo && ms < hi;
}

/* 2026-11-25T19:33:53.123Z: always UTC, always with milliseconds. */
static void iso_fmt(int64_t ms, char out[32])
{
    dt_t t;
    dt_split(ms, &t);
    snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (int)t.year, t.month, t.day,
             t.hour, t.minute, t.second, t.ms);
}

static bool parse_fixed(const char *s, size_t n, size_t *i, int width, int *out)
{
    int v = 0;
    for (int k = 0; k < width; k++) {
        if (*i >= n || !is_digit(s[*i]))
            return false;
        v = v * 10 + (s[(*i)++] - '0');
    }
    *out = v;
    return true;
}

/* The ISO 8601 forms Luxon's fromISO accepts most often: YYYY, YYYY-MM,
 * YYYY-MM-DD, then optionally Thh[:mm[:ss[.fff]]] and Z or ±hh[[:]mm].
 * Without an offset the time is UTC. */
static bool iso_parse(const char *s, size_t n, int64_t *out)
{
    dt_t t = { 0, 1, 1, 0, 0, 0, 0, 0 };
    int year, off_h = 0, off_m = 0, sign = 0;
    size_t i = 0;
    if (!parse_fixed(s, n, &i, 4, &year))
        return false;
    t.year = year;
    if (i < n && s[i] == '-') {
        i++;
        if (!parse_fixed(s, n, &i, 2, &t.month))
            return false;
        if (i < n && s[i] == '-') {
            i++;
            if (!parse_fixed(s, n, &i, 2, &t.day))
                return false;
            if (i < n && s[i] == 'T') {
                i++;
                if (!parse_fixed(s, n, &i, 2, &t.hour))
                    return false;
                if (i < n && s[i] == ':') {
                    i++;
                    if (!parse_fixed(s, n, &i, 2, &t.minute))
                        return false;
                    if (i < n && s[i] == ':') {
                        i++;
                        if (!parse_fixed(s, n, &i, 2, &t.second))
                            return false;
                        if (i < n && (s[i] == '.' || s[i] == ',')) {
                            i++;
                            int nd = 0, frac = 0;
                            while (i < n && is_digit(s[i])) {
                                if (nd < 3)
                                    frac = frac * 10 + (s[i] - '0');
                                nd++, i++;
                            }
                            if (nd == 0 || nd > 9)
                                return false;
                            for (int k = nd; k < 3; k++)
                                frac *= 10;
                            t.ms = frac;
                        }
                    }
                }
                if (i < n && s[i] == 'Z') {
                    i++;
                } else if (i < n && (s[i] == '+' || s[i] == '-')) {
                    sign = s[i++] == '-' ? -1 : 1;
                    if (!parse_fixed(s, n, &i, 2, &off_h))
                        return false;
                    if (i < n && s[i] == ':')
                        i++;
                    if (i < n && !parse_fixed(s, n, &i, 2, &off_m))
                        return false;
                    if (off_h > 23 || off_m > 59)
                        return false;
                }
            }
        }
    }
    if (i != n || t.month < 1 || t.month > 12 || t.day < 1 ||
        t.day > days_in_month(t.year, t.month) || t.hour > 23 || t.minute > 59 || t.second > 59)
        return false;
    int64_t ms = dt_join(&t) - sign * (off_h * 3600000LL + off_m * 60000LL);
    if (!ms_in_range(ms))
        return false;
    *out = ms;
    return true;
}

/* ------------------------------------------------------------------------ */
/* Values                                                                   */

typedef enum {
    V_UNDEF, V_NULL, V_BOOL, V_NUM, V_STR, V_ARR, V_OBJ, V_DATE,
    V_NS,    /* a namespace or built-in function: ns is a VAR_* */
    V_NODE,  /* $("Name"): j the node's items, aux its name */
    V_SHORT, /* an optional chain that short-circuited */
} vkind_t;

typedef struct {
    vkind_t k;
    bool b;
    int ns;
    double n;
    int64_t ms;
    json_object *j;   /* owned reference: V_STR, V_ARR, V_OBJ, V_NODE */
    json_object *aux; /* owned reference: V_NODE's name */
    size_t size;      /* V_ARR/V_OBJ built here: estimated JSON size; 0 = borrowed */
} val_t;

/* Variables and built-in namespaces; the order of the name table below. */
enum {
    VAR_JSON, VAR_INPUT, VAR_NODE, VAR_DOLLAR, VAR_EXECUTION, VAR_WORKFLOW, VAR_NOW,
    VAR_TODAY, VAR_ENV, VAR_ITEMINDEX, VAR_MATH, VAR_JSONNS, VAR_OBJECT, VAR_ARRAY,
    VAR_DATETIME, VAR_NUMBER, VAR_STRING, VAR_BOOLEAN, VAR_PARSEINT, VAR_PARSEFLOAT,
    VAR_ISNAN, VAR_ISFINITE, VAR_COUNT
};
static const char *const var_names[VAR_COUNT] = {
    "$json", "$input", "$node", "$", "$execution", "$workflow", "$now", "$today", "$env",
    "$itemIndex", "Math", "JSON", "Object", "Array", "DateTime", "Number", "String",
    "Boolean", "parseInt", "parseFloat", "isNaN", "isFinite",
};

static bool ns_is_function(int ns)
{
    return ns == VAR_DOLLAR || ns >= VAR_NUMBER;
}

static val_t vmk(vkind_t k)
{
    val_t v;
    memset(&v, 0, sizeof v);
    v.k = k;
    return v;
}

static val_t vnum(double d)
{
    val_t v = vmk(V_NUM);
    v.n = d;
    return v;
}

static val_t vbool(bool b)
{
    val_t v = vmk(V_BOOL);
    v.b = b;
    return v;
}

static val_t vdate(int64_t ms)
{
    val_t v = vmk(V_DATE);
    v.ms = ms;
    return v;
}

/* Takes over the reference j (a string, array or object). */
static val_t vown(vkind_t k, json_object *j, size_t size)
{
    val_t v = vmk(k);
    v.j = j;
    v.size = size;
    return v;
}

static val_t vstr_n(const char *s, size_t n)
{
    return vown(V_STR, json_object_new_string_len(s, (int)n), 0);
}

/* A value for borrowed JSON data: containers and strings take a reference. */
static val_t vjson(json_object *j)
{
    switch (json_object_get_type(j)) {
    case json_type_null: return vmk(V_NULL);
    case json_type_boolean: return vbool(json_object_get_boolean(j));
    case json_type_int:
    case json_type_double: return vnum(json_object_get_double(j));
    case json_type_string: return vown(V_STR, json_object_get(j), 0);
    case json_type_array: return vown(V_ARR, json_object_get(j), 0);
    case json_type_object: return vown(V_OBJ, json_object_get(j), 0);
    }
    return vmk(V_UNDEF);
}

static void vfree(val_t *v)
{
    json_object_put(v->j);
    json_object_put(v->aux);
    v->j = v->aux = NULL;
    v->k = V_UNDEF;
}

static const char *sp(const val_t *v)
{
    return json_object_get_string(v->j);
}

static size_t sn(const val_t *v)
{
    return (size_t)json_object_get_string_len(v->j);
}

/* Estimated JSON size, for the output bound. */
static size_t vsize(const val_t *v)
{
    switch (v->k) {
    case V_STR: return sn(v) + 2;
    case V_ARR: return v->size ? v->size : 16 + 16 * json_object_array_length(v->j);
    case V_OBJ: return v->size ? v->size : 16 + 16 * (size_t)json_object_object_length(v->j);
    case V_DATE: return 26;
    default: return 8;
    }
}

static json_object *num_json(double d)
{
    if (!isfinite(d))
        return NULL;
    if (d == trunc(d) && fabs(d) <= MAX_SAFE)
        return json_object_new_int64((int64_t)d);
    char s[40];
    num_fmt(d, s);
    return json_object_new_double_s(d, s);
}

/* A new reference for JSON output (NULL for JSON null). */
static json_object *vto_json(const val_t *v)
{
    char iso[32];
    switch (v->k) {
    case V_BOOL: return json_object_new_boolean(v->b);
    case V_NUM: return num_json(v->n);
    case V_STR:
    case V_ARR:
    case V_OBJ: return json_object_get(v->j);
    case V_DATE: iso_fmt(v->ms, iso); return json_object_new_string(iso);
    case V_NS: return ns_is_function(v->ns) ? NULL : json_object_new_object();
    case V_NODE: return json_object_new_object();
    default: return NULL;
    }
}

static bool vtruthy(const val_t *v)
{
    switch (v->k) {
    case V_UNDEF:
    case V_NULL:
    case V_SHORT: return false;
    case V_BOOL: return v->b;
    case V_NUM: return !(v->n == 0 || isnan(v->n));
    case V_STR: return sn(v) > 0;
    default: return true;
    }
}

static const char *vtype_name(const val_t *v)
{
    switch (v->k) {
    case V_UNDEF: return "undefined";
    case V_NULL: return "null";
    case V_BOOL: return "a boolean";
    case V_NUM: return "a number";
    case V_STR: return "a string";
    case V_ARR: return "an array";
    case V_OBJ: return "an object";
    case V_DATE: return "a DateTime";
    case V_NS: return ns_is_function(v->ns) ? "a function" : "an object";
    default: return "an object";
    }
}

/* ------------------------------------------------------------------------ */
/* The syntax tree and the parser                                           */

enum {
    N_LIT, N_STR, N_TMPL, N_ARR, N_OBJ, N_VAR, N_MEMBER, N_INDEX, N_CALL, N_UNARY, N_BIN,
    N_AND, N_OR, N_NULLISH, N_COND, N_CHAIN
};
enum { LIT_UNDEF, LIT_NULL, LIT_TRUE, LIT_FALSE, LIT_NUM };
enum {
    OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD, OP_LT, OP_LE, OP_GT, OP_GE, OP_EQ, OP_NE,
    OP_SEQ, OP_SNE, OP_NOT, OP_NEG, OP_POS, OP_TYPEOF
};

typedef struct node node_t;
struct node {
    int k, op, height;
    bool opt, paren;
    size_t pos;
    double num;
    const char *s; /* N_STR: the string; N_MEMBER: the name; N_OBJ: unused */
    size_t len;
    node_t *a, *b, *c;
    node_t **kids;   /* N_ARR elements, N_OBJ values, N_TMPL parts, N_CALL args */
    const char **keys;
    size_t *key_lens;
    size_t n;
};

enum { T_EOF, T_NUM, T_STR, T_TMPL, T_WORD, T_OP };

typedef struct {
    int k;
    size_t start, end;
    double num;
    const char *s; /* T_STR: cooked (arena); T_WORD, T_OP: points into src */
    size_t len;
} tok_t;

typedef struct {
    const char *src;
    size_t n, pos; /* pos: where the next token starts */
    tok_t tok;
    gl_arena_t *arena;
    gl_err_t *err;
    int nest, max_nest, max_height;
    bool bad;
} ps_t;

static size_t column(const char *src, size_t at)
{
    size_t col = 1;
    for (size_t i = 0; i < at; i++)
        if (((unsigned char)src[i] & 0xC0) != 0x80)
            col++;
    return col;
}

static node_t *perr(ps_t *ps, size_t at, const char *fmt, ...) GL_PRINTF(3, 4);
static node_t *perr(ps_t *ps, size_t at, const char *fmt, ...)
{
    if (ps->bad)
        return NULL;
    ps->bad = true;
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    gl_err_set(ps->err, "syntax error at column %zu: %s", column(ps->src, at), msg);
    return NULL;
}

static node_t *mk(ps_t *ps, int k, size_t pos)
{
    node_t *nd = gl_arena_calloc(ps->arena, 1, sizeof *nd);
    nd->k = k;
    nd->pos = pos;
    nd->height = 1;
    return nd;
}

/* Sets the height from the children; false (and an error) when too tall. */
static bool grow(ps_t *ps, node_t *nd)
{
    int h = 0;
    node_t *c3[3] = { nd->a, nd->b, nd->c };
    for (int i = 0; i < 3; i++)
        if (c3[i] && c3[i]->height > h)
            h = c3[i]->height;
    for (size_t i = 0; i < nd->n; i++)
        if (nd->kids[i] && nd->kids[i]->height > h)
            h = nd->kids[i]->height;
    nd->height = h + 1;
    if (nd->height > ps->max_height) {
        perr(ps, nd->pos, "expression nested too deeply");
        return false;
    }
    return true;
}

static bool is_id_start(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$';
}

static bool is_id_char(int c)
{
    return is_id_start(c) || is_digit(c);
}

static bool is_hex(int c)
{
    return digit_val(c) < 16;
}

/* Reads one escape sequence at src[*i] (just after the backslash) into b. */
static bool lex_escape(ps_t *ps, size_t *i, gl_buf_t *b)
{
    const char *s = ps->src;
    size_t at = *i - 1;
    char ch = s[*i], u8[4];
    uint32_t cp;
    static const char from[] = "ntrbfv'\"\\`$", to[] = "\n\t\r\b\f\v'\"\\`$";
    const char *m = ch ? strchr(from, ch) : NULL;
    if (m) {
        (*i)++;
        return gl_buf_append(b, &to[m - from], 1) == GL_OK;
    }
    if (ch == '0' && !is_digit(s[*i + 1])) {
        (*i)++;
        return gl_buf_append(b, "", 1) == GL_OK;
    }
    if (is_digit(ch)) {
        perr(ps, at, "octal escape sequences are not supported");
        return false;
    }
    if (ch == '\r' || ch == '\n') { /* line continuation */
        (*i) += (ch == '\r' && s[*i + 1] == '\n') ? 2 : 1;
        return true;
    }
    if (ch == 'x') {
        if (!is_hex(s[*i + 1]) || !is_hex(s[*i + 2])) {
            perr(ps, at, "invalid \\x escape");
            return false;
        }
        cp = (uint32_t)(digit_val(s[*i + 1]) * 16 + digit_val(s[*i + 2]));
        *i += 3;
        return gl_buf_append(b, u8, u8_enc(cp, u8)) == GL_OK;
    }
    if (ch == 'u') {
        size_t j = *i + 1;
        cp = 0;
        if (s[j] == '{') {
            j++;
            size_t nd = 0;
            while (is_hex(s[j]) && cp <= 0x10FFFF)
                cp = cp * 16 + (uint32_t)digit_val(s[j++]), nd++;
            if (!nd || s[j] != '}' || cp > 0x10FFFF) {
                perr(ps, at, "invalid \\u escape");
                return false;
            }
            j++;
        } else {
            for (int k = 0; k < 4; k++, j++) {
                if (!is_hex(s[j])) {
                    perr(ps, at, "invalid \\u escape");
                    return false;
                }
                cp = cp * 16 + (uint32_t)digit_val(s[j]);
            }
            /* a surrogate pair written as two escapes */
            if (cp >= 0xD800 && cp <= 0xDBFF && s[j] == '\\' && s[j + 1] == 'u') {
                uint32_t lo = 0;
                int k = 0;
                for (; k < 4 && is_hex(s[j + 2 + k]); k++)
                    lo = lo * 16 + (uint32_t)digit_val(s[j + 2 + k]);
                if (k == 4 && lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    j += 6;
                }
            }
        }
        if (cp >= 0xD800 && cp <= 0xDFFF)
            cp = 0xFFFD; /* a lone surrogate has no UTF-8 form */
        *i = j;
        return gl_buf_append(b, u8, u8_enc(cp, u8)) == GL_OK;
    }
    if (!ch) {
        perr(ps, at, "unterminated string");
        return false;
    }
    size_t l = u8_dec(s, ps->n, *i, &cp); /* any other character stands for itself */
    bool ok = gl_buf_append(b, s + *i, l) == GL_OK;
    *i += l;
    return ok;
}

static bool lex_string(ps_t *ps, size_t start)
{
    char q = ps->src[start];
    size_t i = start + 1;
    gl_buf_t b;
    gl_buf_init(&b, ps->n + 1);
    for (;;) {
        char c = ps->src[i];
        if (i >= ps->n || c == '\n' || c == '\r') {
            gl_buf_free(&b);
            perr(ps, start, "unterminated string");
            return false;
        }
        if (c == q)
            break;
        if (c == '\\') {
            i++;
            if (!lex_escape(ps, &i, &b)) {
                gl_buf_free(&b);
                return false;
            }
            continue;
        }
        if (gl_buf_append(&b, &ps->src[i], 1) != GL_OK) {
            gl_buf_free(&b);
            return perr(ps, start, "string too long") != NULL;
        }
        i++;
    }
    ps->tok.k = T_STR;
    ps->tok.s = gl_arena_strndup(ps->arena, b.data ? b.data : "", b.len);
    ps->tok.len = b.len;
    ps->tok.end = i + 1;
    gl_buf_free(&b);
    return true;
}

static bool lex_number(ps_t *ps, size_t start)
{
    const char *s = ps->src;
    size_t i = start;
    double v = 0;
    if (s[i] == '0' && s[i + 1] && strchr("xXoObB", s[i + 1])) {
        int radix = (s[i + 1] | 0x20) == 'x' ? 16 : (s[i + 1] | 0x20) == 'o' ? 8 : 2;
        i += 2;
        size_t first = i;
        while (i < ps->n && digit_val((unsigned char)s[i]) < radix)
            v = v * radix + digit_val((unsigned char)s[i++]);
        if (i == first)
            return perr(ps, start, "invalid number") != NULL;
    } else {
        if (s[i] == '0' && is_digit(s[i + 1]))
            return perr(ps, start, "numbers with a leading zero are not supported") != NULL;
        while (is_digit(s[i]))
            i++;
        if (s[i] == '.') {
            i++;
            while (is_digit(s[i]))
                i++;
        }
        if (s[i] == 'e' || s[i] == 'E') {
            size_t j = i + 1;
            if (s[j] == '+' || s[j] == '-')
                j++;
            if (!is_digit(s[j]))
                return perr(ps, start, "invalid number") != NULL;
            while (is_digit(s[j]))
                j++;
            i = j;
        }
        v = strtod_n(s + start, i - start);
    }
    if (is_id_char((unsigned char)s[i]))
        return perr(ps, i, "identifier starts immediately after a number") != NULL;
    ps->tok.k = T_NUM;
    ps->tok.num = v;
    ps->tok.end = i;
    return true;
}

static const char *const ops[] = {
    ">>>=", "===", "!==", "**=", "<<=", ">>=", ">>>", "&&=", "||=", "?\?=", "...", "=>", "==",
    "!=", "<=", ">=", "&&", "||", "??", "?.", "++", "--", "+=", "-=", "*=", "/=", "%=", "&=",
    "|=", "^=", "**", "<<", ">>", "(", ")", "{", "}", "[", "]", ",", ".", ";", ":", "?", "!",
    "~", "+", "-", "*", "/", "%", "<", ">", "=", "&", "|", "^", "#", "@",
};

/* Reads the token at ps->pos into ps->tok. */
static bool lex(ps_t *ps)
{
    const char *s = ps->src;
    size_t i = ps->pos;
    uint32_t cp;
    while (i < ps->n) {
        size_t l = u8_dec(s, ps->n, i, &cp);
        if (!js_space(cp))
            break;
        i += l;
    }
    memset(&ps->tok, 0, sizeof ps->tok);
    ps->tok.start = i;
    bool ok = true;
    if (i >= ps->n) {
        ps->tok.k = T_EOF;
        ps->tok.end = i;
    } else if (s[i] == '"' || s[i] == '\'') {
        ok = lex_string(ps, i);
    } else if (s[i] == '`') {
        ps->tok.k = T_TMPL;
        ps->tok.end = i + 1;
    } else if (is_digit(s[i]) || (s[i] == '.' && is_digit(s[i + 1]))) {
        ok = lex_number(ps, i);
    } else if (is_id_start((unsigned char)s[i])) {
        size_t j = i;
        while (is_id_char((unsigned char)s[j]))
            j++;
        ps->tok.k = T_WORD;
        ps->tok.s = s + i;
        ps->tok.len = j - i;
        ps->tok.end = j;
    } else {
        for (size_t k = 0; k < GL_NELEM(ops); k++) {
            size_t l = strlen(ops[k]);
            if (strncmp(s + i, ops[k], l) != 0)
                continue;
            if (l == 2 && memcmp(ops[k], "?.", 2) == 0 && is_digit(s[i + 2]))
                continue; /* a ? .5 : 1 */
            ps->tok.k = T_OP;
            ps->tok.s = s + i;
            ps->tok.len = l;
            ps->tok.end = i + l;
            break;
        }
        if (ps->tok.k != T_OP)
            return perr(ps, i, "unexpected character '%.*s'", (int)u8_dec(s, ps->n, i, &cp),
                        s + i) != NULL;
    }
    if (!ok)
        return false;
    ps->pos = ps->tok.end;
    return true;
}

static bool tok_op(const ps_t *ps, const char *op)
{
    return ps->tok.k == T_OP && ps->tok.len == strlen(op) && memcmp(ps->tok.s, op, ps->tok.len) == 0;
}

static bool tok_word(const ps_t *ps, const char *w)
{
    return ps->tok.k == T_WORD && ps->tok.len == strlen(w) && memcmp(ps->tok.s, w, ps->tok.len) == 0;
}

static bool next(ps_t *ps)
{
    return lex(ps);
}

/* The error for a token that cannot appear here. */
static node_t *unexpected(ps_t *ps)
{
    const tok_t *t = &ps->tok;
    static const char *const assign[] = { "=", "+=", "-=", "*=", "/=", "%=", "**=", "<<=",
                                          ">>=", ">>>=", "&=", "|=", "^=", "&&=", "||=", "?\?=" };
    if (t->k == T_EOF)
        return perr(ps, t->start, "unexpected end of expression");
    if (t->k == T_OP) {
        for (size_t i = 0; i < GL_NELEM(assign); i++)
            if (tok_op(ps, assign[i]))
                return perr(ps, t->start, "assignment is not allowed");
        if (tok_op(ps, "=>"))
            return perr(ps, t->start, "arrow functions are not supported");
        if (tok_op(ps, "++") || tok_op(ps, "--"))
            return perr(ps, t->start, "increment and decrement are not supported");
        if (tok_op(ps, ";"))
            return perr(ps, t->start, "only one expression is allowed (unexpected ';')");
        if (tok_op(ps, "&") || tok_op(ps, "|") || tok_op(ps, "^") || tok_op(ps, "~") ||
            tok_op(ps, "<<") || tok_op(ps, ">>") || tok_op(ps, ">>>") || tok_op(ps, "**"))
            return perr(ps, t->start, "operator '%.*s' is not supported", (int)t->len, t->s);
        if (tok_op(ps, "..."))
            return perr(ps, t->start, "spread syntax is not supported");
        if (tok_op(ps, "/"))
            return perr(ps, t->start, "regular expressions are not supported");
    }
    if (t->k == T_WORD) {
        static const char *const loops[] = { "for", "while", "do" };
        for (size_t i = 0; i < GL_NELEM(loops); i++)
            if (tok_word(ps, loops[i]))
                return perr(ps, t->start, "loops are not supported");
        if (tok_word(ps, "function") || tok_word(ps, "class"))
            return perr(ps, t->start, "function definitions are not supported");
        if (tok_word(ps, "var") || tok_word(ps, "let") || tok_word(ps, "const"))
            return perr(ps, t->start, "declarations are not supported");
        if (tok_word(ps, "new"))
            return perr(ps, t->start, "'new' is not supported");
        return perr(ps, t->start, "unexpected '%.*s'", (int)(t->len > 40 ? 40 : t->len), t->s);
    }
    size_t l = t->end - t->start;
    return perr(ps, t->start, "unexpected '%.*s'", (int)(l > 40 ? 40 : l), ps->src + t->start);
}

static bool expect(ps_t *ps, const char *op)
{
    if (tok_op(ps, op))
        return next(ps);
    if (ps->tok.k == T_EOF)
        perr(ps, ps->tok.start, "expected '%s' but the expression ended", op);
    else if (ps->tok.k != T_OP || (ps->tok.len == 1 && strchr(")]},:.?", ps->tok.s[0])))
        perr(ps, ps->tok.start, "expected '%s' but found '%.*s'", op,
             (int)(ps->tok.end - ps->tok.start > 40 ? 40 : ps->tok.end - ps->tok.start),
             ps->src + ps->tok.start);
    else
        unexpected(ps);
    return false;
}

static bool enter(ps_t *ps)
{
    if (++ps->nest > ps->max_nest) {
        perr(ps, ps->tok.start, "expression nested too deeply");
        return false;
    }
    return true;
}

static node_t *p_expr(ps_t *ps);

/* Collects kids into an arena array. */
typedef struct {
    node_t **v;
    const char **keys;
    size_t *key_lens;
    size_t n, cap;
} kids_t;

static void kids_push(ps_t *ps, kids_t *k, node_t *nd, const char *key, size_t key_len)
{
    if (k->n == k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 4;
        node_t **v = gl_arena_alloc(ps->arena, cap * sizeof *v);
        const char **keys = gl_arena_alloc(ps->arena, cap * sizeof *keys);
        size_t *lens = gl_arena_alloc(ps->arena, cap * sizeof *lens);
        if (k->n) {
            memcpy(v, k->v, k->n * sizeof *v);
            memcpy(keys, k->keys, k->n * sizeof *keys);
            memcpy(lens, k->key_lens, k->n * sizeof *lens);
        }
        k->v = v, k->keys = keys, k->key_lens = lens, k->cap = cap;
    }
    k->v[k->n] = nd;
    k->keys[k->n] = key;
    k->key_lens[k->n] = key_len;
    k->n++;
}

static void kids_set(node_t *nd, const kids_t *k)
{
    nd->kids = k->v;
    nd->keys = k->keys;
    nd->key_lens = k->key_lens;
    nd->n = k->n;
}

/* `text ${expr} text`: the current token is the opening backtick. */
static node_t *p_template(ps_t *ps)
{
    node_t *nd = mk(ps, N_TMPL, ps->tok.start);
    kids_t kids = { 0 };
    size_t i = ps->tok.end;
    gl_buf_t b;
    gl_buf_init(&b, ps->n + 1);
    for (;;) {
        char c = ps->src[i];
        if (i >= ps->n) {
            gl_buf_free(&b);
            return perr(ps, nd->pos, "unterminated template literal");
        }
        if (c == '`' || (c == '$' && ps->src[i + 1] == '{')) {
            if (b.len) {
                node_t *str = mk(ps, N_STR, i);
                str->s = gl_arena_strndup(ps->arena, b.data, b.len);
                str->len = b.len;
                kids_push(ps, &kids, str, NULL, 0);
                b.len = 0;
            }
            if (c == '`')
                break;
            ps->pos = i + 2;
            if (!next(ps) || !enter(ps)) {
                gl_buf_free(&b);
                return NULL;
            }
            node_t *e = p_expr(ps);
            ps->nest--;
            if (!e || !tok_op(ps, "}")) {
                gl_buf_free(&b);
                return e ? perr(ps, ps->tok.start, "expected '}' to close '${'") : NULL;
            }
            kids_push(ps, &kids, e, NULL, 0);
            i = ps->tok.end; /* the raw text resumes right after the '}' */
            continue;
        }
        if (c == '\\') {
            i++;
            if (!lex_escape(ps, &i, &b)) {
                gl_buf_free(&b);
                return NULL;
            }
            continue;
        }
        if (gl_buf_append(&b, &c, 1) != GL_OK) {
            gl_buf_free(&b);
            return perr(ps, nd->pos, "template literal too long");
        }
        i++;
    }
    gl_buf_free(&b);
    kids_set(nd, &kids);
    ps->pos = i + 1;
    if (!next(ps) || !grow(ps, nd))
        return NULL;
    return nd;
}

static node_t *p_array(ps_t *ps)
{
    node_t *nd = mk(ps, N_ARR, ps->tok.start);
    kids_t kids = { 0 };
    if (!next(ps))
        return NULL;
    while (!tok_op(ps, "]")) {
        if (tok_op(ps, ","))
            return perr(ps, ps->tok.start, "array holes are not supported");
        node_t *e = p_expr(ps);
        if (!e)
            return NULL;
        kids_push(ps, &kids, e, NULL, 0);
        if (tok_op(ps, ",")) {
            if (!next(ps))
                return NULL;
        } else if (!tok_op(ps, "]")) {
            expect(ps, "]");
            return NULL;
        }
    }
    kids_set(nd, &kids);
    if (!next(ps) || !grow(ps, nd))
        return NULL;
    return nd;
}

static node_t *p_object(ps_t *ps)
{
    node_t *nd = mk(ps, N_OBJ, ps->tok.start);
    kids_t kids = { 0 };
    if (!next(ps))
        return NULL;
    while (!tok_op(ps, "}")) {
        const char *key;
        size_t key_len;
        char num[40];
        if (ps->tok.k == T_WORD || ps->tok.k == T_STR) {
            key = ps->tok.k == T_WORD ? gl_arena_strndup(ps->arena, ps->tok.s, ps->tok.len)
                                      : ps->tok.s;
            key_len = ps->tok.len;
        } else if (ps->tok.k == T_NUM) {
            num_fmt(ps->tok.num, num);
            key = gl_arena_strdup(ps->arena, num);
            key_len = strlen(num);
        } else if (tok_op(ps, "[")) {
            return perr(ps, ps->tok.start, "computed property names are not supported");
        } else {
            return unexpected(ps);
        }
        if (!next(ps))
            return NULL;
        if (!tok_op(ps, ":")) {
            if (tok_op(ps, ",") || tok_op(ps, "}") || tok_op(ps, "("))
                return perr(ps, ps->tok.start, "expected ':' after the property name");
            expect(ps, ":");
            return NULL;
        }
        if (!next(ps))
            return NULL;
        node_t *e = p_expr(ps);
        if (!e)
            return NULL;
        kids_push(ps, &kids, e, key, key_len);
        if (tok_op(ps, ",")) {
            if (!next(ps))
                return NULL;
        } else if (!tok_op(ps, "}")) {
            expect(ps, "}");
            return NULL;
        }
    }
    kids_set(nd, &kids);
    if (!next(ps) || !grow(ps, nd))
        return NULL;
    return nd;
}

/* True when `=>` follows at src[i] (after whitespace). */
static bool arrow_at(const ps_t *ps, size_t i)
{
    while (i < ps->n && (ps->src[i] == ' ' || ps->src[i] == '\t' || ps->src[i] == '\n'))
        i++;
    return ps->src[i] == '=' && ps->src[i + 1] == '>';
}

static node_t *p_word(ps_t *ps)
{
    static const struct {
        const char *w;
        int lit;
        double num;
    } lits[] = {
        { "true", LIT_TRUE, 0 }, { "false", LIT_FALSE, 0 }, { "null", LIT_NULL, 0 },
        { "undefined", LIT_UNDEF, 0 }, { "NaN", LIT_NUM, NAN }, { "Infinity", LIT_NUM, INFINITY },
    };
    size_t start = ps->tok.start;
    for (size_t i = 0; i < GL_NELEM(lits); i++)
        if (tok_word(ps, lits[i].w)) {
            node_t *nd = mk(ps, N_LIT, start);
            nd->op = lits[i].lit;
            nd->num = lits[i].num;
            return next(ps) ? nd : NULL;
        }
    for (int i = 0; i < VAR_COUNT; i++)
        if (tok_word(ps, var_names[i])) {
            node_t *nd = mk(ps, N_VAR, start);
            nd->op = i;
            return next(ps) ? nd : NULL;
        }
    static const char *const special[] = { "for", "while", "do", "function", "class",
                                           "var", "let", "const", "new" };
    static const char *const reserved[] = {
        "return", "if", "else", "switch", "case", "default", "break", "continue", "throw",
        "try", "catch", "finally", "delete", "void", "in", "instanceof", "this", "yield",
        "await", "async", "import", "export", "super", "with", "debugger",
    };
    for (size_t i = 0; i < GL_NELEM(special); i++)
        if (tok_word(ps, special[i]))
            return unexpected(ps);
    for (size_t i = 0; i < GL_NELEM(reserved); i++)
        if (tok_word(ps, reserved[i]))
            return perr(ps, start, "'%s' is not supported", reserved[i]);
    if (arrow_at(ps, ps->tok.end))
        return perr(ps, start, "arrow functions are not supported");
    return perr(ps, start, "unknown variable '%.*s'", (int)(ps->tok.len > 60 ? 60 : ps->tok.len),
                ps->tok.s);
}

static node_t *p_primary(ps_t *ps)
{
    size_t start = ps->tok.start;
    node_t *nd;
    switch (ps->tok.k) {
    case T_NUM:
        nd = mk(ps, N_LIT, start);
        nd->op = LIT_NUM;
        nd->num = ps->tok.num;
        return next(ps) ? nd : NULL;
    case T_STR:
        nd = mk(ps, N_STR, start);
        nd->s = ps->tok.s;
        nd->len = ps->tok.len;
        return next(ps) ? nd : NULL;
    case T_TMPL:
        return enter(ps) ? (nd = p_template(ps), ps->nest--, nd) : NULL;
    case T_WORD:
        return p_word(ps);
    default:
        break;
    }
    if (tok_op(ps, "(")) {
        size_t i = ps->tok.end; /* (a, b) => …: a parameter list, then => */
        while (i < ps->n && (is_id_char((unsigned char)ps->src[i]) || strchr(" \t\n,", ps->src[i])))
            i++;
        if (ps->src[i] == ')' && arrow_at(ps, i + 1))
            return perr(ps, start, "arrow functions are not supported");
        if (!enter(ps) || !next(ps))
            return NULL;
        nd = p_expr(ps);
        ps->nest--;
        if (!nd)
            return NULL;
        if (tok_op(ps, ")") && arrow_at(ps, ps->tok.end))
            return perr(ps, start, "arrow functions are not supported");
        if (tok_op(ps, ",") )
            return perr(ps, ps->tok.start, "the comma operator is not supported");
        if (!expect(ps, ")"))
            return NULL;
        nd->paren = true;
        return nd;
    }
    if (tok_op(ps, "["))
        return enter(ps) ? (nd = p_array(ps), ps->nest--, nd) : NULL;
    if (tok_op(ps, "{"))
        return enter(ps) ? (nd = p_object(ps), ps->nest--, nd) : NULL;
    return unexpected(ps);
}

static node_t *p_args(ps_t *ps, node_t *call)
{
    kids_t kids = { 0 };
    if (!enter(ps) || !next(ps))
        return NULL;
    while (!tok_op(ps, ")")) {
        node_t *e = p_expr(ps);
        if (!e)
            return NULL;
        if (kids.n == MAX_ARGS)
            return perr(ps, e->pos, "too many arguments (at most %d)", MAX_ARGS);
        kids_push(ps, &kids, e, NULL, 0);
        if (tok_op(ps, ",")) {
            if (!next(ps))
                return NULL;
        } else if (!tok_op(ps, ")")) {
            expect(ps, ")");
            return NULL;
        }
    }
    ps->nest--;
    kids_set(call, &kids);
    return next(ps) ? call : NULL;
}

static node_t *p_postfix(ps_t *ps)
{
    node_t *nd = p_primary(ps);
    bool chain = false;
    while (nd) {
        size_t at = ps->tok.start;
        bool opt = tok_op(ps, "?.");
        node_t *x;
        if (opt || tok_op(ps, ".")) {
            if (!next(ps))
                return NULL;
            if (opt && tok_op(ps, "("))
                return perr(ps, at, "optional calls '?.()' are not supported");
            if (opt && tok_op(ps, "[")) {
                x = mk(ps, N_INDEX, at);
                goto index;
            }
            if (ps->tok.k != T_WORD)
                return ps->tok.k == T_EOF ? perr(ps, ps->tok.start, "expected a property name after '.'")
                                          : unexpected(ps);
            x = mk(ps, N_MEMBER, at);
            x->s = gl_arena_strndup(ps->arena, ps->tok.s, ps->tok.len);
            x->len = ps->tok.len;
            if (!next(ps))
                return NULL;
        } else if (tok_op(ps, "[")) {
            x = mk(ps, N_INDEX, at);
        index:
            if (!enter(ps) || !next(ps))
                return NULL;
            x->b = p_expr(ps);
            ps->nest--;
            if (!x->b || !expect(ps, "]"))
                return NULL;
        } else if (tok_op(ps, "(")) {
            x = mk(ps, N_CALL, at);
            if (!p_args(ps, x))
                return NULL;
        } else if (ps->tok.k == T_TMPL) {
            return perr(ps, at, "tagged templates are not supported");
        } else {
            break;
        }
        x->a = nd;
        x->opt = opt;
        chain |= opt;
        if (!grow(ps, x))
            return NULL;
        nd = x;
    }
    if (nd && chain) {
        node_t *c = mk(ps, N_CHAIN, nd->pos);
        c->a = nd;
        if (!grow(ps, c))
            return NULL;
        nd = c;
    }
    return nd;
}

static node_t *p_unary(ps_t *ps)
{
    int op = -1;
    if (tok_op(ps, "!"))
        op = OP_NOT;
    else if (tok_op(ps, "-"))
        op = OP_NEG;
    else if (tok_op(ps, "+"))
        op = OP_POS;
    else if (tok_word(ps, "typeof"))
        op = OP_TYPEOF;
    else if (tok_op(ps, "++") || tok_op(ps, "--") || tok_op(ps, "~") || tok_word(ps, "void") ||
             tok_word(ps, "delete") || tok_word(ps, "new") || tok_word(ps, "await"))
        return unexpected(ps);
    if (op < 0) {
        node_t *nd = p_postfix(ps);
        if (nd && (tok_op(ps, "++") || tok_op(ps, "--")))
            return unexpected(ps);
        return nd;
    }
    node_t *nd = mk(ps, N_UNARY, ps->tok.start);
    nd->op = op;
    if (!enter(ps) || !next(ps))
        return NULL;
    nd->a = p_unary(ps);
    ps->nest--;
    if (!nd->a || !grow(ps, nd))
        return NULL;
    return nd;
}

/* Binary operators: node kind, operator and precedence (0: not binary). */
static int binop(const ps_t *ps, int *kind, int *op)
{
    static const struct {
        const char *s;
        int kind, op, prec;
    } t[] = {
        { "??", N_NULLISH, 0, 1 }, { "||", N_OR, 0, 2 }, { "&&", N_AND, 0, 3 },
        { "==", N_BIN, OP_EQ, 7 }, { "!=", N_BIN, OP_NE, 7 }, { "===", N_BIN, OP_SEQ, 7 },
        { "!==", N_BIN, OP_SNE, 7 }, { "<", N_BIN, OP_LT, 8 }, { "<=", N_BIN, OP_LE, 8 },
        { ">", N_BIN, OP_GT, 8 }, { ">=", N_BIN, OP_GE, 8 }, { "+", N_BIN, OP_ADD, 10 },
        { "-", N_BIN, OP_SUB, 10 }, { "*", N_BIN, OP_MUL, 11 }, { "/", N_BIN, OP_DIV, 11 },
        { "%", N_BIN, OP_MOD, 11 },
    };
    for (size_t i = 0; i < GL_NELEM(t); i++)
        if (tok_op(ps, t[i].s)) {
            *kind = t[i].kind;
            *op = t[i].op;
            return t[i].prec;
        }
    return 0;
}

static bool mixes_nullish(const node_t *nd)
{
    return !nd->paren && (nd->k == N_AND || nd->k == N_OR);
}

static node_t *p_binary(ps_t *ps, int min_prec)
{
    node_t *l = p_unary(ps);
    while (l) {
        int kind, op, prec = binop(ps, &kind, &op);
        if (!prec) {
            if (tok_word(ps, "in") || tok_word(ps, "instanceof"))
                return perr(ps, ps->tok.start, "operator '%.*s' is not supported",
                            (int)ps->tok.len, ps->tok.s);
            break;
        }
        if (prec < min_prec)
            break;
        node_t *nd = mk(ps, kind, ps->tok.start);
        nd->op = op;
        if (!next(ps))
            return NULL;
        nd->a = l;
        nd->b = p_binary(ps, prec + 1);
        if (!nd->b || !grow(ps, nd))
            return NULL;
        if (kind == N_NULLISH ? (mixes_nullish(nd->a) || mixes_nullish(nd->b))
                              : ((kind == N_AND || kind == N_OR) &&
                                 ((!nd->a->paren && nd->a->k == N_NULLISH) ||
                                  (!nd->b->paren && nd->b->k == N_NULLISH))))
            return perr(ps, nd->pos, "'?\?' cannot be mixed with '&&' or '||' without parentheses");
        l = nd;
    }
    return l;
}

static node_t *p_expr(ps_t *ps)
{
    size_t start = ps->tok.start;
    node_t *cond = p_binary(ps, 1);
    if (!cond || !tok_op(ps, "?"))
        return cond;
    node_t *nd = mk(ps, N_COND, start);
    if (!enter(ps) || !next(ps))
        return NULL;
    nd->a = cond;
    nd->b = p_expr(ps);
    if (!nd->b || !expect(ps, ":"))
        return NULL;
    nd->c = p_expr(ps);
    ps->nest--;
    if (!nd->c || !grow(ps, nd))
        return NULL;
    return nd;
}

static void ps_init(ps_t *ps, const char *src, gl_arena_t *arena, int max_depth, gl_err_t *err)
{
    memset(ps, 0, sizeof *ps);
    ps->src = src;
    ps->n = strlen(src);
    ps->arena = arena;
    ps->err = err;
    ps->max_nest = max_depth;
    ps->max_height = 4 * max_depth;
}

/* Parses the whole of ps->src from ps->pos; NULL (and err) on a syntax error. */
static node_t *parse_all(ps_t *ps)
{
    if (!next(ps))
        return NULL;
    if (ps->tok.k == T_EOF)
        return perr(ps, ps->tok.start, "empty expression");
    node_t *nd = p_expr(ps);
    if (nd && ps->tok.k != T_EOF)
        return unexpected(ps);
    return nd;
}

/* Parses an embedded expression starting at ps->pos and ending at "}}";
 * *end is set past the "}}". */
static node_t *parse_embedded(ps_t *ps, size_t *end)
{
    if (!next(ps))
        return NULL;
    node_t *nd = p_expr(ps);
    if (!nd)
        return NULL;
    if (!tok_op(ps, "}") || ps->src[ps->tok.end] != '}')
        return ps->tok.k == T_EOF ? perr(ps, ps->tok.start, "expected '}}'") : unexpected(ps);
    *end = ps->tok.end + 1;
    return nd;
}

/* ------------------------------------------------------------------------ */
/* The evaluator: budget, errors, coercions                                 */

typedef struct {
    const gl_expr_ctx_t *ctx;
    gl_err_t *err;
    size_t steps, max_steps, max_out;
    int depth, max_depth;
} ev_t;

#define TRY(x)                                                              \
    do {                                                                    \
        int rc_ = (x);                                                      \
        if (rc_ != GL_OK)                                                   \
            return rc_;                                                     \
    } while (0)

static int fail(ev_t *ev, const char *fmt, ...) GL_PRINTF(2, 3);
static int fail(ev_t *ev, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    gl_err_set(ev->err, "%s", msg);
    return GL_INVALID;
}

static int too_big(ev_t *ev)
{
    return fail(ev, "expression result exceeds %zu bytes", ev->max_out);
}

static int charge(ev_t *ev, size_t n)
{
    if (n > ev->max_steps - ev->steps) {
        ev->steps = ev->max_steps;
        return fail(ev, "expression exceeds %zu steps", ev->max_steps);
    }
    ev->steps += n;
    return GL_OK;
}

static int app(ev_t *ev, gl_buf_t *b, const char *p, size_t n)
{
    return gl_buf_append(b, p, n) == GL_OK ? GL_OK : too_big(ev);
}

static int apps(ev_t *ev, gl_buf_t *b, const char *s)
{
    return app(ev, b, s, strlen(s));
}

/* Hands the buffer's text over as a string value and frees the buffer. */
static int buf_val(gl_buf_t *b, val_t *out)
{
    *out = vstr_n(b->data ? b->data : "", b->len);
    gl_buf_free(b);
    return GL_OK;
}

static val_t vdup(const val_t *v)
{
    val_t r = *v;
    json_object_get(r.j);
    json_object_get(r.aux);
    return r;
}

static const val_t undef_val = { 0 };

static const val_t *arg(const val_t *args, size_t nargs, size_t i)
{
    return i < nargs ? &args[i] : &undef_val;
}

static bool nullish(const val_t *v)
{
    return v->k == V_UNDEF || v->k == V_NULL || v->k == V_SHORT;
}

static int arr_join(ev_t *ev, json_object *arr, const char *sep, size_t sep_n, gl_buf_t *b,
                    int depth);

/* JavaScript's ToString, appended to b. */
static int to_string(ev_t *ev, const val_t *v, gl_buf_t *b, int depth)
{
    char tmp[40];
    switch (v->k) {
    case V_UNDEF:
    case V_SHORT: return apps(ev, b, "undefined");
    case V_NULL: return apps(ev, b, "null");
    case V_BOOL: return apps(ev, b, v->b ? "true" : "false");
    case V_NUM: num_fmt(v->n, tmp); return apps(ev, b, tmp);
    case V_STR: return app(ev, b, sp(v), sn(v));
    case V_DATE: iso_fmt(v->ms, tmp); return apps(ev, b, tmp);
    case V_ARR: return arr_join(ev, v->j, ",", 1, b, depth);
    case V_NS:
        if (ns_is_function(v->ns)) {
            TRY(apps(ev, b, "function "));
            TRY(apps(ev, b, var_names[v->ns]));
            return apps(ev, b, "() { [native code] }");
        }
        return apps(ev, b, "[object Object]");
    default: return apps(ev, b, "[object Object]");
    }
}

static int arr_join(ev_t *ev, json_object *arr, const char *sep, size_t sep_n, gl_buf_t *b,
                    int depth)
{
    if (depth > VALUE_DEPTH)
        return fail(ev, "value nested too deeply");
    size_t n = json_object_array_length(arr);
    for (size_t i = 0; i < n; i++) {
        TRY(charge(ev, 1));
        if (i)
            TRY(app(ev, b, sep, sep_n));
        val_t e = vjson(json_object_array_get_idx(arr, i));
        int rc = nullish(&e) ? GL_OK : to_string(ev, &e, b, depth + 1);
        vfree(&e);
        if (rc != GL_OK)
            return rc;
    }
    return GL_OK;
}

/* A string view of ToString(v); the caller calls sv_free() on success. */
typedef struct {
    const char *p;
    size_t n;
    gl_buf_t buf;
} sv_t;

static int to_sv(ev_t *ev, const val_t *v, sv_t *s)
{
    gl_buf_init(&s->buf, ev->max_out);
    if (v->k == V_STR) {
        s->p = sp(v);
        s->n = sn(v);
        return GL_OK;
    }
    int rc = to_string(ev, v, &s->buf, 0);
    if (rc != GL_OK) {
        gl_buf_free(&s->buf);
        return rc;
    }
    if (gl_buf_append(&s->buf, "", 0) != GL_OK) { /* make sure data is allocated */
        gl_buf_free(&s->buf);
        return too_big(ev);
    }
    s->p = s->buf.data;
    s->n = s->buf.len;
    return GL_OK;
}

static void sv_free(sv_t *s)
{
    gl_buf_free(&s->buf);
}

static int to_number(ev_t *ev, const val_t *v, double *d)
{
    switch (v->k) {
    case V_NULL: *d = 0; return GL_OK;
    case V_BOOL: *d = v->b ? 1 : 0; return GL_OK;
    case V_NUM: *d = v->n; return GL_OK;
    case V_STR: *d = str_to_num(sp(v), sn(v)); return GL_OK;
    case V_DATE: *d = (double)v->ms; return GL_OK;
    case V_ARR: {
        sv_t s;
        TRY(to_sv(ev, v, &s));
        *d = str_to_num(s.p, s.n);
        sv_free(&s);
        return GL_OK;
    }
    default: *d = NAN; return GL_OK;
    }
}

static int num_arg(ev_t *ev, const val_t *args, size_t nargs, size_t i, double def, double *d)
{
    const val_t *v = arg(args, nargs, i);
    if (v->k == V_UNDEF) {
        *d = def;
        return GL_OK;
    }
    return to_number(ev, v, d);
}

/* ToPrimitive: arrays and objects become strings, DateTimes numbers. */
static int to_prim(ev_t *ev, const val_t *v, val_t *out)
{
    if (v->k == V_DATE) {
        *out = vnum((double)v->ms);
        return GL_OK;
    }
    if (v->k == V_ARR || v->k == V_OBJ || v->k == V_NS || v->k == V_NODE) {
        gl_buf_t b;
        gl_buf_init(&b, ev->max_out);
        int rc = to_string(ev, v, &b, 0);
        if (rc != GL_OK) {
            gl_buf_free(&b);
            return rc;
        }
        return buf_val(&b, out);
    }
    *out = vdup(v);
    return GL_OK;
}

static bool strict_eq(const val_t *a, const val_t *b)
{
    if (a->k != b->k)
        return nullish(a) && nullish(b) && a->k != V_NULL && b->k != V_NULL;
    switch (a->k) {
    case V_BOOL: return a->b == b->b;
    case V_NUM: return a->n == b->n;
    case V_STR: return sn(a) == sn(b) && memcmp(sp(a), sp(b), sn(a)) == 0;
    case V_DATE: return a->ms == b->ms;
    case V_NS: return a->ns == b->ns;
    case V_ARR:
    case V_OBJ:
    case V_NODE: return a->j == b->j;
    default: return true;
    }
}

static bool is_objlike(const val_t *v)
{
    return v->k == V_ARR || v->k == V_OBJ || v->k == V_DATE || v->k == V_NS || v->k == V_NODE;
}

/* JavaScript's IsLooselyEqual (==). */
static int loose_eq(ev_t *ev, const val_t *a, const val_t *b, bool *res, int depth)
{
    if (a->k == b->k || (nullish(a) && nullish(b))) {
        *res = nullish(a) ? nullish(b) : strict_eq(a, b);
        return GL_OK;
    }
    if (nullish(a) || nullish(b) || depth > 4) {
        *res = false;
        return GL_OK;
    }
    if (a->k == V_NUM && b->k == V_STR) {
        *res = a->n == str_to_num(sp(b), sn(b));
        return GL_OK;
    }
    if (a->k == V_STR && b->k == V_NUM)
        return loose_eq(ev, b, a, res, depth + 1);
    if (a->k == V_BOOL) {
        val_t n = vnum(a->b ? 1 : 0);
        return loose_eq(ev, &n, b, res, depth + 1);
    }
    if (b->k == V_BOOL) {
        val_t n = vnum(b->b ? 1 : 0);
        return loose_eq(ev, a, &n, res, depth + 1);
    }
    if (is_objlike(a) != is_objlike(b)) {
        const val_t *o = is_objlike(a) ? a : b, *p = is_objlike(a) ? b : a;
        val_t prim;
        TRY(to_prim(ev, o, &prim));
        int rc = loose_eq(ev, &prim, p, res, depth + 1);
        vfree(&prim);
        return rc;
    }
    *res = false;
    return GL_OK;
}

static int byte_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    return c ? c : (an < bn ? -1 : an > bn);
}

static int relational(ev_t *ev, int op, const val_t *a, const val_t *b, val_t *out)
{
    val_t pa, pb;
    TRY(to_prim(ev, a, &pa));
    int rc = to_prim(ev, b, &pb);
    if (rc != GL_OK) {
        vfree(&pa);
        return rc;
    }
    bool res;
    if (pa.k == V_STR && pb.k == V_STR) {
        TRY(charge(ev, 1 + (sn(&pa) < sn(&pb) ? sn(&pa) : sn(&pb)) / 64));
        int c = byte_cmp(sp(&pa), sn(&pa), sp(&pb), sn(&pb));
        res = op == OP_LT ? c < 0 : op == OP_LE ? c <= 0 : op == OP_GT ? c > 0 : c >= 0;
    } else {
        double x, y;
        to_number(ev, &pa, &x);
        to_number(ev, &pb, &y);
        res = op == OP_LT ? x < y : op == OP_LE ? x <= y : op == OP_GT ? x > y : x >= y;
    }
    vfree(&pa);
    vfree(&pb);
    *out = vbool(res);
    return GL_OK;
}

static int add(ev_t *ev, const val_t *a, const val_t *b, val_t *out)
{
    val_t pa, pb;
    TRY(to_prim(ev, a, &pa));
    int rc = to_prim(ev, b, &pb);
    if (rc != GL_OK) {
        vfree(&pa);
        return rc;
    }
    if (pa.k == V_STR || pb.k == V_STR) {
        gl_buf_t buf;
        gl_buf_init(&buf, ev->max_out);
        rc = to_string(ev, &pa, &buf, 0);
        if (rc == GL_OK)
            rc = to_string(ev, &pb, &buf, 0);
        if (rc == GL_OK)
            rc = buf_val(&buf, out);
        else
            gl_buf_free(&buf);
    } else {
        double x, y;
        to_number(ev, &pa, &x);
        to_number(ev, &pb, &y);
        *out = vnum(x + y);
    }
    vfree(&pa);
    vfree(&pb);
    return rc;
}

static int binary(ev_t *ev, int op, const val_t *a, const val_t *b, val_t *out)
{
    double x, y;
    bool eq;
    switch (op) {
    case OP_ADD: return add(ev, a, b, out);
    case OP_LT:
    case OP_LE:
    case OP_GT:
    case OP_GE: return relational(ev, op, a, b, out);
    case OP_EQ:
    case OP_NE:
        TRY(loose_eq(ev, a, b, &eq, 0));
        *out = vbool(op == OP_EQ ? eq : !eq);
        return GL_OK;
    case OP_SEQ: *out = vbool(strict_eq(a, b)); return GL_OK;
    case OP_SNE: *out = vbool(!strict_eq(a, b)); return GL_OK;
    default: break;
    }
    TRY(to_number(ev, a, &x));
    TRY(to_number(ev, b, &y));
    switch (op) {
    case OP_SUB: *out = vnum(x - y); break;
    case OP_MUL: *out = vnum(x * y); break;
    case OP_DIV: *out = vnum(x / y); break;
    default: *out = vnum(isinf(y) && isfinite(x) ? x : fmod(x, y)); break;
    }
    return GL_OK;
}

static const char *type_of(const val_t *v)
{
    switch (v->k) {
    case V_UNDEF:
    case V_SHORT: return "undefined";
    case V_BOOL: return "boolean";
    case V_NUM: return "number";
    case V_STR: return "string";
    case V_NS: return ns_is_function(v->ns) ? "function" : "object";
    default: return "object";
    }
}

/* ------------------------------------------------------------------------ */
/* JSON text (JSON.stringify and interpolation of arrays and objects)       */

static int jw_str(ev_t *ev, gl_buf_t *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    TRY(charge(ev, 1 + n / 64));
    TRY(app(ev, b, "\"", 1));
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        TRY(app(ev, b, s + run, i - run));
        char esc[6] = { '\\', (char)c, 0, 0, 0, 0 };
        size_t len = 2;
        switch (c) {
        case '"':
        case '\\': break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            esc[1] = 'u', esc[2] = '0', esc[3] = '0', esc[4] = hex[c >> 4], esc[5] = hex[c & 15];
            len = 6;
        }
        TRY(app(ev, b, esc, len));
        run = i + 1;
    }
    TRY(app(ev, b, s + run, n - run));
    return app(ev, b, "\"", 1);
}

static int jw_nl(ev_t *ev, gl_buf_t *b, const char *ind, size_t ind_n, int level)
{
    if (!ind_n)
        return GL_OK;
    TRY(app(ev, b, "\n", 1));
    for (int i = 0; i < level; i++)
        TRY(app(ev, b, ind, ind_n));
    return GL_OK;
}

static int jw(ev_t *ev, gl_buf_t *b, json_object *j, const char *ind, size_t ind_n, int level)
{
    char tmp[40];
    TRY(charge(ev, 1));
    if (level > VALUE_DEPTH)
        return fail(ev, "value nested too deeply");
    switch (json_object_get_type(j)) {
    case json_type_null: return apps(ev, b, "null");
    case json_type_boolean: return apps(ev, b, json_object_get_boolean(j) ? "true" : "false");
    case json_type_int:
    case json_type_double: {
        double d = json_object_get_double(j);
        if (!isfinite(d))
            return apps(ev, b, "null");
        if (json_object_get_type(j) == json_type_int && fabs(d) <= MAX_SAFE)
            snprintf(tmp, sizeof tmp, "%" PRId64, json_object_get_int64(j));
        else
            num_fmt(d, tmp);
        return apps(ev, b, tmp);
    }
    case json_type_string:
        return jw_str(ev, b, json_object_get_string(j), (size_t)json_object_get_string_len(j));
    case json_type_array: {
        size_t n = json_object_array_length(j);
        if (!n)
            return apps(ev, b, "[]");
        TRY(app(ev, b, "[", 1));
        for (size_t i = 0; i < n; i++) {
            if (i)
                TRY(app(ev, b, ",", 1));
            TRY(jw_nl(ev, b, ind, ind_n, level + 1));
            TRY(jw(ev, b, json_object_array_get_idx(j, i), ind, ind_n, level + 1));
        }
        TRY(jw_nl(ev, b, ind, ind_n, level));
        return app(ev, b, "]", 1);
    }
    case json_type_object: {
        if (json_object_object_length(j) == 0)
            return apps(ev, b, "{}");
        TRY(app(ev, b, "{", 1));
        struct json_object_iterator it = json_object_iter_begin(j);
        struct json_object_iterator end = json_object_iter_end(j);
        for (bool first = true; !json_object_iter_equal(&it, &end); first = false) {
            const char *key = json_object_iter_peek_name(&it);
            json_object *v = json_object_iter_peek_value(&it);
            json_object_iter_next(&it);
            if (!first)
                TRY(app(ev, b, ",", 1));
            TRY(jw_nl(ev, b, ind, ind_n, level + 1));
            TRY(jw_str(ev, b, key, strlen(key)));
            TRY(app(ev, b, ":", 1));
            if (ind_n)
                TRY(app(ev, b, " ", 1));
            TRY(jw(ev, b, v, ind, ind_n, level + 1));
        }
        TRY(jw_nl(ev, b, ind, ind_n, level));
        return app(ev, b, "}", 1);
    }
    }
    return GL_OK;
}

/* JSON text of a value; false in *defined for undefined and functions. */
static int jw_val(ev_t *ev, gl_buf_t *b, const val_t *v, const char *ind, size_t ind_n,
                  bool *defined)
{
    char tmp[40];
    *defined = true;
    switch (v->k) {
    case V_UNDEF:
    case V_SHORT: *defined = false; return GL_OK;
    case V_NS:
        if (ns_is_function(v->ns)) {
            *defined = false;
            return GL_OK;
        }
        return apps(ev, b, "{}");
    case V_NODE: return apps(ev, b, "{}");
    case V_DATE: iso_fmt(v->ms, tmp); return jw_str(ev, b, tmp, strlen(tmp));
    case V_NUM:
        if (!isfinite(v->n))
            return apps(ev, b, "null");
        num_fmt(v->n, tmp);
        return apps(ev, b, tmp);
    default: {
        json_object *j = vto_json(v);
        int rc = jw(ev, b, j, ind, ind_n, 0);
        json_object_put(j);
        return rc;
    }
    }
}

/* ------------------------------------------------------------------------ */
/* Building arrays and objects under the output bound                       */

static size_t json_size(json_object *j)
{
    switch (json_object_get_type(j)) {
    case json_type_string: return (size_t)json_object_get_string_len(j) + 2;
    case json_type_array: return 16 + 16 * json_object_array_length(j);
    case json_type_object: return 16 + 16 * (size_t)json_object_object_length(j);
    default: return 8;
    }
}

/* Appends elem (a reference the call takes over) to arr, whose estimated
 * size is *size; elem_size is elem's. */
static int arr_add(ev_t *ev, json_object *arr, size_t *size, json_object *elem, size_t elem_size)
{
    if (!gl_size_add(*size, elem_size + 8, size) || *size > ev->max_out) {
        json_object_put(elem);
        return too_big(ev);
    }
    json_object_array_add(arr, elem);
    return GL_OK;
}

static int arr_add_val(ev_t *ev, json_object *arr, size_t *size, const val_t *v)
{
    return arr_add(ev, arr, size, vto_json(v), vsize(v));
}

static int obj_add(ev_t *ev, json_object *obj, size_t *size, const char *key, json_object *v,
                   size_t v_size)
{
    if (!gl_size_add(*size, v_size + strlen(key) + 8, size) || *size > ev->max_out) {
        json_object_put(v);
        return too_big(ev);
    }
    json_object_object_add(obj, key, v);
    return GL_OK;
}

/* {json: item}: the n8n item wrapper around borrowed data. */
static json_object *wrap_item(json_object *item)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "json", json_object_get(item));
    return o;
}

static val_t vwrap(json_object *item)
{
    return vown(V_OBJ, wrap_item(item), 16 + json_size(item));
}

/* [{json: item}, …] for a borrowed array of items. */
static int wrap_all(ev_t *ev, json_object *items, val_t *out)
{
    size_t n = json_object_array_length(items), size = 16;
    TRY(charge(ev, n));
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        json_object *item = json_object_array_get_idx(items, i);
        int rc = arr_add(ev, arr, &size, wrap_item(item), 24 + json_size(item));
        if (rc != GL_OK) {
            json_object_put(arr);
            return rc;
        }
    }
    *out = vown(V_ARR, arr, size);
    return GL_OK;
}

/* ------------------------------------------------------------------------ */
/* Property access                                                          */

/* Canonical array index: "0", "17"; not "01", "-1", "1.5". */
static bool parse_index(const char *s, size_t n, size_t *idx)
{
    if (n == 0 || n > 15 || (n > 1 && s[0] == '0'))
        return false;
    size_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(s[i]))
            return false;
        v = v * 10 + (size_t)(s[i] - '0');
    }
    *idx = v;
    return true;
}

static bool name_is(const char *name, size_t len, const char *z)
{
    return len == strlen(z) && memcmp(name, z, len) == 0;
}

static int no_such_node(ev_t *ev, const char *name)
{
    return fail(ev, "node '%.80s' does not exist or has not run", name);
}

static json_object *node_lookup(ev_t *ev, const char *name, size_t len)
{
    if (!ev->ctx->node_items || memchr(name, 0, len))
        return NULL;
    return ev->ctx->node_items(ev->ctx->ud, name);
}

static int date_field(ev_t *ev, const val_t *d, const char *name, size_t len, val_t *out);

static int ns_prop(ev_t *ev, const val_t *o, const char *name, size_t len, val_t *out)
{
    *out = vmk(V_UNDEF);
    switch (o->ns) {
    case VAR_MATH:
        if (name_is(name, len, "PI"))
            *out = vnum(M_PI);
        else if (name_is(name, len, "E"))
            *out = vnum(M_E);
        return GL_OK;
    case VAR_NUMBER:
        if (name_is(name, len, "MAX_SAFE_INTEGER"))
            *out = vnum(MAX_SAFE - 1);
        else if (name_is(name, len, "MIN_SAFE_INTEGER"))
            *out = vnum(-(MAX_SAFE - 1));
        else if (name_is(name, len, "EPSILON"))
            *out = vnum(2.220446049250313e-16);
        return GL_OK;
    case VAR_INPUT:
        if (name_is(name, len, "item") && ev->ctx->json) {
            *out = vwrap(ev->ctx->json);
        } else if (name_is(name, len, "item")) { /* $json is {} when there is no item */
            json_object *item = json_object_new_object();
            json_object_object_add(item, "json", json_object_new_object());
            *out = vown(V_OBJ, item, 32);
        }
        return GL_OK;
    case VAR_NODE: {
        json_object *items = node_lookup(ev, name, len);
        if (!items)
            return no_such_node(ev, name);
        if (json_object_array_length(items) == 0)
            return fail(ev, "node '%.80s' has no output items", name);
        *out = vwrap(json_object_array_get_idx(items, 0));
        return GL_OK;
    }
    default: return GL_OK;
    }
}

/* $("Name").item: the item at $itemIndex, or the only item (n8n's paired
 * item for the common one-to-one and one-to-many flows). */
static int node_item(ev_t *ev, const val_t *o, val_t *out)
{
    size_t n = json_object_array_length(o->j);
    int64_t idx = ev->ctx->item_index;
    if (idx >= 0 && (size_t)idx < n)
        *out = vwrap(json_object_array_get_idx(o->j, (size_t)idx));
    else if (n == 1)
        *out = vwrap(json_object_array_get_idx(o->j, 0));
    else
        return fail(ev, "node '%.80s' has no item at index %" PRId64,
                    json_object_get_string(o->aux), idx);
    return GL_OK;
}

static int get_prop(ev_t *ev, const val_t *o, const char *name, size_t len, val_t *out)
{
    size_t idx;
    *out = vmk(V_UNDEF);
    switch (o->k) {
    case V_UNDEF:
    case V_NULL:
    case V_SHORT:
        return fail(ev, "Cannot read properties of %s (reading '%.*s')",
                    o->k == V_NULL ? "null" : "undefined", (int)(len > 60 ? 60 : len), name);
    case V_STR: {
        TRY(charge(ev, 1 + sn(o) / 64));
        if (name_is(name, len, "length")) {
            *out = vnum((double)u8_count(sp(o), sn(o)));
        } else if (parse_index(name, len, &idx)) {
            size_t at = u8_off(sp(o), sn(o), idx);
            if (at < sn(o)) {
                uint32_t cp;
                *out = vstr_n(sp(o) + at, u8_dec(sp(o), sn(o), at, &cp));
            }
        }
        return GL_OK;
    }
    case V_ARR:
        if (name_is(name, len, "length"))
            *out = vnum((double)json_object_array_length(o->j));
        else if (parse_index(name, len, &idx) && idx < json_object_array_length(o->j))
            *out = vjson(json_object_array_get_idx(o->j, idx));
        return GL_OK;
    case V_OBJ: {
        json_object *child;
        if (!memchr(name, 0, len) && json_object_object_get_ex(o->j, name, &child))
            *out = vjson(child);
        return GL_OK;
    }
    case V_DATE: return date_field(ev, o, name, len, out);
    case V_NS: return ns_prop(ev, o, name, len, out);
    case V_NODE:
        if (name_is(name, len, "item"))
            return node_item(ev, o, out);
        if (name_is(name, len, "isExecuted"))
            *out = vbool(true);
        return GL_OK;
    default: return GL_OK;
    }
}

/* The property name a computed key stands for. */
static int key_sv(ev_t *ev, const val_t *key, sv_t *s)
{
    return to_sv(ev, key, s);
}

/* ------------------------------------------------------------------------ */
/* The library: methods are looked up by receiver type and name             */

typedef int (*method_fn)(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out);

typedef struct {
    const char *name;
    method_fn fn;
} method_t;

static method_fn find_method(const method_t *t, size_t n, const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (name_is(name, len, t[i].name))
            return t[i].fn;
    return NULL;
}

/* Strings. Indices count code points (see expr.h). */

static int str_case(ev_t *ev, const val_t *self, bool upper, val_t *out)
{
    const char *s = sp(self);
    size_t n = sn(self);
    char u8[4];
    gl_buf_t b;
    TRY(charge(ev, 1 + n / 64));
    gl_buf_init(&b, ev->max_out);
    for (size_t i = 0; i < n;) {
        uint32_t cp, m;
        size_t l = u8_dec(s, n, i, &cp);
        m = upper ? cp_upper(cp) : cp_lower(cp);
        int rc = upper && cp == 0xDF ? app(ev, &b, "SS", 2)
                 : m == cp          ? app(ev, &b, s + i, l)
                                    : app(ev, &b, u8, u8_enc(m, u8));
        if (rc != GL_OK) {
            gl_buf_free(&b);
            return rc;
        }
        i += l;
    }
    return buf_val(&b, out);
}

static int s_upper(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)a, (void)na;
    return str_case(ev, self, true, out);
}

static int s_lower(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)a, (void)na;
    return str_case(ev, self, false, out);
}

static int str_trim(ev_t *ev, const val_t *self, bool start, bool end, val_t *out)
{
    const char *s = sp(self);
    size_t n = sn(self);
    TRY(charge(ev, 1 + n / 64));
    trim_span(&s, &n, start, end);
    if (n > ev->max_out) /* a slice of a larger borrowed string */
        return too_big(ev);
    *out = vstr_n(s, n);
    return GL_OK;
}

static int s_trim(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)a, (void)na;
    return str_trim(ev, self, true, true, out);
}

static int s_trim_start(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)a, (void)na;
    return str_trim(ev, self, true, false, out);
}

static int s_trim_end(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)a, (void)na;
    return str_trim(ev, self, false, true, out);
}

/* Byte offset of the first occurrence of needle at or after from; SIZE_MAX
 * when there is none. */
static size_t find(const char *s, size_t n, size_t from, const char *needle, size_t nn)
{
    if (from > n || nn > n - from)
        return SIZE_MAX;
    if (nn == 0)
        return from;
    const char *hit = memmem(s + from, n - from, needle, nn);
    return hit ? (size_t)(hit - s) : SIZE_MAX;
}

static int s_split(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    const char *s = sp(self);
    size_t n = sn(self), size = 16, limit = SIZE_MAX;
    uint32_t cp;
    double d;
    if (arg(a, na, 1)->k != V_UNDEF) { /* ToUint32 */
        TRY(to_number(ev, arg(a, na, 1), &d));
        d = isfinite(d) ? fmod(trunc(d), 4294967296.0) : 0;
        limit = (size_t)(d < 0 ? d + 4294967296.0 : d);
    }
    json_object *arr = json_object_new_array();
    int rc = GL_OK;
    if (limit == 0) {
        /* nothing */
    } else if (arg(a, na, 0)->k == V_UNDEF) {
        rc = arr_add(ev, arr, &size, json_object_get(self->j), n + 2);
    } else {
        sv_t sep;
        rc = to_sv(ev, arg(a, na, 0), &sep);
        if (rc == GL_OK) {
            size_t i = 0, count = 0;
            while (rc == GL_OK && count < limit && (sep.n ? i <= n : i < n)) {
                size_t hit = sep.n ? find(s, n, i, sep.p, sep.n) : i + u8_dec(s, n, i, &cp);
                if (hit == SIZE_MAX)
                    hit = n;
                if ((rc = charge(ev, 1)) != GL_OK)
                    break;
                rc = arr_add(ev, arr, &size, json_object_new_string_len(s + i, (int)(hit - i)),
                             hit - i + 2);
                count++;
                i = sep.n ? hit + sep.n : hit;
            }
            sv_free(&sep);
        }
    }
    if (rc != GL_OK) {
        json_object_put(arr);
        return rc;
    }
    *out = vown(V_ARR, arr, size);
    return GL_OK;
}

/* The needle (ToString of the first argument) and a code point position. */
static int search_args(ev_t *ev, const val_t *self, const val_t *a, size_t na, double def,
                       sv_t *needle, size_t *from_byte, size_t *from_cp)
{
    double pos;
    TRY(charge(ev, 1 + sn(self) / 64));
    TRY(num_arg(ev, a, na, 1, def, &pos));
    size_t len = u8_count(sp(self), sn(self));
    *from_cp = clamp_idx(pos, len);
    *from_byte = u8_off(sp(self), sn(self), *from_cp);
    return to_sv(ev, arg(a, na, 0), needle);
}

static int s_includes(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    sv_t nd;
    size_t from, from_cp;
    TRY(search_args(ev, self, a, na, 0, &nd, &from, &from_cp));
    *out = vbool(find(sp(self), sn(self), from, nd.p, nd.n) != SIZE_MAX);
    sv_free(&nd);
    return GL_OK;
}

static int s_index_of(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    sv_t nd;
    size_t from, from_cp;
    TRY(search_args(ev, self, a, na, 0, &nd, &from, &from_cp));
    size_t hit = find(sp(self), sn(self), from, nd.p, nd.n);
    *out = vnum(hit == SIZE_MAX ? -1 : (double)(from_cp + u8_count(sp(self) + from, hit - from)));
    sv_free(&nd);
    return GL_OK;
}

static int s_last_index_of(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    sv_t nd;
    size_t from, from_cp, last = SIZE_MAX;
    TRY(search_args(ev, self, a, na, INFINITY, &nd, &from, &from_cp));
    for (size_t i = 0;;) {
        size_t hit = find(sp(self), sn(self), i, nd.p, nd.n);
        if (hit == SIZE_MAX || hit > from)
            break;
        last = hit;
        uint32_t cp;
        if (hit >= sn(self))
            break;
        i = hit + u8_dec(sp(self), sn(self), hit, &cp);
    }
    *out = vnum(last == SIZE_MAX ? -1 : (double)u8_count(sp(self), last));
    sv_free(&nd);
    return GL_OK;
}

static int s_starts_with(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    sv_t nd;
    size_t from, from_cp;
    TRY(search_args(ev, self, a, na, 0, &nd, &from, &from_cp));
    *out = vbool(sn(self) - from >= nd.n && memcmp(sp(self) + from, nd.p, nd.n) == 0);
    sv_free(&nd);
    return GL_OK;
}

static int s_ends_with(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    sv_t nd;
    size_t end, end_cp;
    TRY(search_args(ev, self, a, na, INFINITY, &nd, &end, &end_cp));
    *out = vbool(end >= nd.n && memcmp(sp(self) + end - nd.n, nd.p, nd.n) == 0);
    sv_free(&nd);
    return GL_OK;
}

/* Code points [from, to) of self as a new string. */
static int substr_cp(ev_t *ev, const val_t *self, size_t from, size_t to, val_t *out)
{
    TRY(charge(ev, 1 + sn(self) / 64));
    if (from >= to) {
        *out = vstr_n("", 0);
        return GL_OK;
    }
    size_t b0 = u8_off(sp(self), sn(self), from);
    size_t b1 = b0 + u8_off(sp(self) + b0, sn(self) - b0, to - from);
    if (b1 - b0 > ev->max_out)
        return too_big(ev);
    *out = vstr_n(sp(self) + b0, b1 - b0);
    return GL_OK;
}

static int s_slice(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    size_t len = u8_count(sp(self), sn(self));
    double s, e;
    TRY(num_arg(ev, a, na, 0, 0, &s));
    TRY(num_arg(ev, a, na, 1, INFINITY, &e));
    return substr_cp(ev, self, rel_idx(s, len), rel_idx(e, len), out);
}

static int s_substring(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    size_t len = u8_count(sp(self), sn(self));
    double s, e;
    TRY(num_arg(ev, a, na, 0, 0, &s));
    TRY(num_arg(ev, a, na, 1, INFINITY, &e));
    size_t from = clamp_idx(s, len), to = clamp_idx(e, len);
    return from <= to ? substr_cp(ev, self, from, to, out) : substr_cp(ev, self, to, from, out);
}

static int s_substr(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    size_t len = u8_count(sp(self), sn(self));
    double s, l;
    TRY(num_arg(ev, a, na, 0, 0, &s));
    TRY(num_arg(ev, a, na, 1, INFINITY, &l));
    size_t from = rel_idx(s, len), count = clamp_idx(l, len - from);
    return substr_cp(ev, self, from, from + count, out);
}

/* The code point at index i (relative from the end when rel and i < 0). */
static bool cp_at(const val_t *self, double i, bool rel, size_t *at, size_t *l, uint32_t *cp)
{
    size_t len = u8_count(sp(self), sn(self));
    i = isnan(i) ? 0 : trunc(i);
    if (rel && i < 0)
        i += (double)len;
    if (!(i >= 0 && i < (double)len))
        return false;
    *at = u8_off(sp(self), sn(self), (size_t)i);
    *l = u8_dec(sp(self), sn(self), *at, cp);
    return true;
}

static int char_at(ev_t *ev, const val_t *self, const val_t *a, size_t na, int mode, val_t *out)
{
    double i;
    size_t at, l;
    uint32_t cp;
    TRY(charge(ev, 1 + sn(self) / 64));
    TRY(num_arg(ev, a, na, 0, 0, &i));
    bool ok = cp_at(self, i, mode == 3, &at, &l, &cp);
    switch (mode) {
    case 0: *out = ok ? vstr_n(sp(self) + at, l) : vstr_n("", 0); break; /* charAt */
    case 1: *out = vnum(ok ? cp : NAN); break;                           /* charCodeAt */
    case 2: *out = ok ? vnum(cp) : vmk(V_UNDEF); break;                  /* codePointAt */
    default: *out = ok ? vstr_n(sp(self) + at, l) : vmk(V_UNDEF); break; /* at */
    }
    return GL_OK;
}

static int s_char_at(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    return char_at(ev, self, a, na, 0, out);
}

static int s_char_code_at(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    return char_at(ev, self, a, na, 1, out);
}

static int s_code_point_at(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    return char_at(ev, self, a, na, 2, out);
}

static int s_at(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    return char_at(ev, self, a, na, 3, out);
}

static int s_concat(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    gl_buf_t b;
    gl_buf_init(&b, ev->max_out);
    int rc = app(ev, &b, sp(self), sn(self));
    for (size_t i = 0; rc == GL_OK && i < na; i++)
        rc = to_string(ev, &a[i], &b, 0);
    if (rc != GL_OK) {
        gl_buf_free(&b);
        return rc;
    }
    return buf_val(&b, out);
}

/* GetSubstitution without capture groups: $$, $&, $`, $'. */
static int put_replacement(ev_t *ev, gl_buf_t *b, const sv_t *rep, const char *s, size_t n,
                           size_t hit, size_t hit_n)
{
    size_t run = 0;
    for (size_t i = 0; i + 1 < rep->n; i++) {
        if (rep->p[i] != '$' || !rep->p[i + 1] || !strchr("$&`'", rep->p[i + 1]))
            continue;
        TRY(app(ev, b, rep->p + run, i - run));
        switch (rep->p[i + 1]) {
        case '$': TRY(app(ev, b, "$", 1)); break;
        case '&': TRY(app(ev, b, s + hit, hit_n)); break;
        case '`': TRY(app(ev, b, s, hit)); break;
        default: TRY(app(ev, b, s + hit + hit_n, n - hit - hit_n)); break;
        }
        i++;
        run = i + 1;
    }
    return app(ev, b, rep->p + run, rep->n - run);
}

static int replace(ev_t *ev, const val_t *self, const val_t *a, size_t na, bool all, val_t *out)
{
    const char *s = sp(self);
    size_t n = sn(self), i = 0, copied = 0;
    sv_t pat, rep;
    uint32_t cp;
    TRY(to_sv(ev, arg(a, na, 0), &pat));
    int rc = to_sv(ev, arg(a, na, 1), &rep);
    if (rc != GL_OK) {
        sv_free(&pat);
        return rc;
    }
    gl_buf_t b;
    gl_buf_init(&b, ev->max_out);
    while (rc == GL_OK) {
        size_t hit = find(s, n, i, pat.p, pat.n);
        if (hit == SIZE_MAX)
            break;
        if ((rc = charge(ev, 1)) != GL_OK || (rc = app(ev, &b, s + copied, hit - copied)) != GL_OK ||
            (rc = put_replacement(ev, &b, &rep, s, n, hit, pat.n)) != GL_OK)
            break;
        copied = hit + pat.n;
        if (!all)
            break;
        if (pat.n) {
            i = hit + pat.n;
        } else { /* an empty pattern matches between every code point */
            if (hit >= n)
                break;
            i = hit + u8_dec(s, n, hit, &cp);
            if ((rc = app(ev, &b, s + hit, i - hit)) != GL_OK)
                break;
            copied = i;
        }
    }
    if (rc == GL_OK)
        rc = app(ev, &b, s + copied, n - copied);
    sv_free(&pat);
    sv_free(&rep);
    if (rc != GL_OK) {
        gl_buf_free(&b);
        return rc;
    }
    return buf_val(&b, out);
}

static int s_replace(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    return replace(ev, self, a, na, false, out);
}

static int s_replace_all(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    return replace(ev, self, a, na, true, out);
}

static int pad(ev_t *ev, const val_t *self, const val_t *a, size_t na, bool start, val_t *out)
{
    double target;
    size_t len = u8_count(sp(self), sn(self));
    TRY(charge(ev, 1 + sn(self) / 64));
    TRY(num_arg(ev, a, na, 0, 0, &target));
    sv_t fill = { " ", 1, { 0 } };
    gl_buf_init(&fill.buf, 0);
    if (arg(a, na, 1)->k != V_UNDEF)
        TRY(to_sv(ev, arg(a, na, 1), &fill));
    int rc = GL_OK;
    if (isnan(target) || target <= (double)len || fill.n == 0) {
        *out = vdup(self);
    } else if (target - (double)len > (double)ev->max_out) {
        rc = too_big(ev);
    } else {
        size_t want = (size_t)target - len, fi = 0;
        gl_buf_t b;
        gl_buf_init(&b, ev->max_out);
        if (!start)
            rc = app(ev, &b, sp(self), sn(self));
        for (size_t k = 0; rc == GL_OK && k < want; k++) {
            uint32_t cp;
            size_t l = u8_dec(fill.p, fill.n, fi, &cp);
            if (k % 64 == 0)
                rc = charge(ev, 1);
            if (rc == GL_OK)
                rc = app(ev, &b, fill.p + fi, l);
            fi = fi + l >= fill.n ? 0 : fi + l;
        }
        if (rc == GL_OK && start)
            rc = app(ev, &b, sp(self), sn(self));
        if (rc == GL_OK)
            buf_val(&b, out);
        else
            gl_buf_free(&b);
    }
    sv_free(&fill);
    return rc;
}

static int s_pad_start(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    return pad(ev, self, a, na, true, out);
}

static int s_pad_end(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    return pad(ev, self, a, na, false, out);
}

static int s_repeat(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    double count;
    char tmp[40];
    TRY(num_arg(ev, a, na, 0, 0, &count));
    count = isnan(count) ? 0 : trunc(count);
    if (count < 0 || isinf(count)) {
        num_fmt(count, tmp);
        return fail(ev, "Invalid count value: %s", tmp);
    }
    if (sn(self) && count * (double)sn(self) > (double)ev->max_out)
        return too_big(ev);
    if (!sn(self))
        count = 0;
    TRY(charge(ev, (size_t)count));
    gl_buf_t b;
    gl_buf_init(&b, ev->max_out);
    for (size_t i = 0; i < (size_t)count; i++)
        if (gl_buf_append(&b, sp(self), sn(self)) != GL_OK) {
            gl_buf_free(&b);
            return too_big(ev);
        }
    return buf_val(&b, out);
}

static int s_to_string(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)ev, (void)a, (void)na;
    *out = vdup(self);
    return GL_OK;
}

static bool is_empty(const val_t *v)
{
    switch (v->k) {
    case V_STR: return sn(v) == 0;
    case V_ARR: return json_object_array_length(v->j) == 0;
    case V_OBJ: return json_object_object_length(v->j) == 0;
    default: return false;
    }
}

static int m_is_empty(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)ev, (void)a, (void)na;
    *out = vbool(is_empty(self));
    return GL_OK;
}

static int m_is_not_empty(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)ev, (void)a, (void)na;
    *out = vbool(!is_empty(self));
    return GL_OK;
}

static const method_t str_methods[] = {
    { "toUpperCase", s_upper }, { "toLowerCase", s_lower }, { "trim", s_trim },
    { "trimStart", s_trim_start }, { "trimEnd", s_trim_end }, { "split", s_split },
    { "includes", s_includes }, { "startsWith", s_starts_with }, { "endsWith", s_ends_with },
    { "indexOf", s_index_of }, { "lastIndexOf", s_last_index_of }, { "slice", s_slice },
    { "substring", s_substring }, { "substr", s_substr }, { "replace", s_replace },
    { "replaceAll", s_replace_all }, { "padStart", s_pad_start }, { "padEnd", s_pad_end },
    { "repeat", s_repeat }, { "charAt", s_char_at }, { "charCodeAt", s_char_code_at },
    { "codePointAt", s_code_point_at }, { "at", s_at }, { "concat", s_concat },
    { "toString", s_to_string }, { "valueOf", s_to_string }, { "isEmpty", m_is_empty },
    { "isNotEmpty", m_is_not_empty },
};

/* Arrays */

static json_object *elem(const val_t *self, size_t i)
{
    return json_object_array_get_idx(self->j, i);
}

static size_t alen(const val_t *self)
{
    return json_object_array_length(self->j);
}

static int a_join(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    sv_t sep = { ",", 1, { 0 } };
    gl_buf_init(&sep.buf, 0);
    if (arg(a, na, 0)->k != V_UNDEF)
        TRY(to_sv(ev, arg(a, na, 0), &sep));
    gl_buf_t b;
    gl_buf_init(&b, ev->max_out);
    int rc = arr_join(ev, self->j, sep.p, sep.n, &b, 0);
    sv_free(&sep);
    if (rc != GL_OK) {
        gl_buf_free(&b);
        return rc;
    }
    return buf_val(&b, out);
}

static int a_to_string(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)a, (void)na;
    return a_join(ev, self, NULL, 0, out);
}

/* indexOf (mode 0), lastIndexOf (1), includes (2, SameValueZero). */
static int a_search(ev_t *ev, const val_t *self, const val_t *a, size_t na, int mode, val_t *out)
{
    size_t n = alen(self), first, count;
    double from;
    TRY(num_arg(ev, a, na, 1, mode == 1 ? INFINITY : 0, &from));
    from = isnan(from) ? 0 : trunc(from);
    if (mode != 1) {
        first = rel_idx(from, n);
        count = n - first;
    } else { /* backwards from min(from, n - 1), or n + from when negative */
        double k = from >= 0 ? fmin(from, (double)n - 1) : (double)n + from;
        first = k < 0 ? 0 : (size_t)k;
        count = k < 0 ? 0 : first + 1;
    }
    const val_t *x = arg(a, na, 0);
    double found = -1;
    for (size_t k = 0; k < count; k++) {
        size_t i = mode == 1 ? first - k : first + k;
        TRY(charge(ev, 1));
        val_t e = vjson(elem(self, i));
        bool eq = strict_eq(&e, x) ||
                  (mode == 2 && e.k == V_NUM && x->k == V_NUM && isnan(e.n) && isnan(x->n));
        vfree(&e);
        if (eq) {
            found = (double)i;
            break;
        }
    }
    *out = mode == 2 ? vbool(found >= 0) : vnum(found);
    return GL_OK;
}

static int a_index_of(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    return a_search(ev, self, a, na, 0, out);
}

static int a_last_index_of(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    return a_search(ev, self, a, na, 1, out);
}

static int a_includes(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    return a_search(ev, self, a, na, 2, out);
}

/* A new array of self's elements [from, to), reversed when rev. */
static int a_copy(ev_t *ev, const val_t *self, size_t from, size_t to, bool rev, val_t *out)
{
    size_t size = 16;
    json_object *arr = json_object_new_array();
    for (size_t k = from; k < to; k++) {
        json_object *e = elem(self, rev ? to - 1 - (k - from) : k);
        int rc = charge(ev, 1);
        if (rc == GL_OK)
            rc = arr_add(ev, arr, &size, json_object_get(e), json_size(e));
        if (rc != GL_OK) {
            json_object_put(arr);
            return rc;
        }
    }
    *out = vown(V_ARR, arr, size);
    return GL_OK;
}

static int a_slice(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    double s, e;
    TRY(num_arg(ev, a, na, 0, 0, &s));
    TRY(num_arg(ev, a, na, 1, INFINITY, &e));
    size_t from = rel_idx(s, alen(self)), to = rel_idx(e, alen(self));
    return a_copy(ev, self, from, from < to ? to : from, false, out);
}

static int a_reverse(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)a, (void)na;
    return a_copy(ev, self, 0, alen(self), true, out);
}

static int a_concat(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    TRY(a_copy(ev, self, 0, alen(self), false, out));
    int rc = GL_OK;
    for (size_t i = 0; rc == GL_OK && i < na; i++) {
        if (a[i].k != V_ARR) {
            rc = arr_add_val(ev, out->j, &out->size, &a[i]);
            continue;
        }
        for (size_t k = 0; rc == GL_OK && k < alen(&a[i]); k++) {
            json_object *e = elem(&a[i], k);
            rc = charge(ev, 1);
            if (rc == GL_OK)
                rc = arr_add(ev, out->j, &out->size, json_object_get(e), json_size(e));
        }
    }
    if (rc != GL_OK)
        vfree(out);
    return rc;
}

static int a_first(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)ev, (void)a, (void)na;
    *out = alen(self) ? vjson(elem(self, 0)) : vmk(V_UNDEF);
    return GL_OK;
}

static int a_last(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)ev, (void)a, (void)na;
    *out = alen(self) ? vjson(elem(self, alen(self) - 1)) : vmk(V_UNDEF);
    return GL_OK;
}

static int a_at(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    double i;
    TRY(num_arg(ev, a, na, 0, 0, &i));
    i = isnan(i) ? 0 : trunc(i);
    if (i < 0)
        i += (double)alen(self);
    *out = i >= 0 && i < (double)alen(self) ? vjson(elem(self, (size_t)i)) : vmk(V_UNDEF);
    return GL_OK;
}

static const method_t arr_methods[] = {
    { "join", a_join }, { "includes", a_includes }, { "indexOf", a_index_of },
    { "lastIndexOf", a_last_index_of }, { "slice", a_slice }, { "concat", a_concat },
    { "reverse", a_reverse }, { "first", a_first }, { "last", a_last }, { "at", a_at },
    { "isEmpty", m_is_empty }, { "isNotEmpty", m_is_not_empty }, { "toString", a_to_string },
};

/* Objects, numbers, booleans */

static int o_has_own(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    sv_t k;
    TRY(to_sv(ev, arg(a, na, 0), &k));
    *out = vbool(!memchr(k.p, 0, k.n) && json_object_object_get_ex(self->j, k.p, NULL));
    sv_free(&k);
    return GL_OK;
}

static int o_to_string(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)ev, (void)self, (void)a, (void)na;
    *out = vstr_n("[object Object]", 15);
    return GL_OK;
}

static const method_t obj_methods[] = {
    { "isEmpty", m_is_empty }, { "isNotEmpty", m_is_not_empty },
    { "hasOwnProperty", o_has_own }, { "toString", o_to_string },
};

/* Number.prototype.toFixed: the exact binary value rounded half up, via
 * glibc's exact %f expansion. */
static int n_to_fixed(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    double f, x = self->n;
    char tmp[40];
    TRY(num_arg(ev, a, na, 0, 0, &f));
    f = isnan(f) ? 0 : trunc(f);
    if (f < 0 || f > 100)
        return fail(ev, "toFixed() digits argument must be between 0 and 100");
    if (!isfinite(x) || fabs(x) >= 1e21) {
        num_fmt(x, tmp);
        *out = vstr_n(tmp, strlen(tmp));
        return GL_OK;
    }
    int digits = (int)f;
    char exact[1200];
    int len = snprintf(exact, sizeof exact, "%.1100f", fabs(x));
    if (len < 0 || (size_t)len >= sizeof exact)
        return fail(ev, "toFixed() failed");
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
    TRY(num_arg(ev, a, na, 0, 10, &radix));
    radix = trunc(radix);
    if (!(radix >= 2 && radix <= 36))
        return fail(ev, "toString() radix must be between 2 and 36");
    double x = self->n;
    if (radix == 10 || !isfinite(x)) {
        num_fmt(x, tmp);
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

static int b_to_string(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)ev, (void)a, (void)na;
    *out = self->b ? vstr_n("true", 4) : vstr_n("false", 5);
    return GL_OK;
}

static const method_t bool_methods[] = { { "toString", b_to_string } };

/* DateTime (a Luxon subset; always UTC) */

static int date_field(ev_t *ev, const val_t *d, const char *name, size_t len, val_t *out)
{
    (void)ev;
    dt_t t;
    dt_split(d->ms, &t);
    static const char *const names[] = { "year", "month", "day", "hour", "minute", "second",
                                         "millisecond", "weekday", "quarter", "daysInMonth",
                                         "offset" };
    double vals[] = { (double)t.year, t.month, t.day, t.hour, t.minute, t.second, t.ms,
                      t.weekday, (t.month - 1) / 3 + 1, days_in_month(t.year, t.month), 0 };
    for (size_t i = 0; i < GL_NELEM(names); i++)
        if (name_is(name, len, names[i])) {
            *out = vnum(vals[i]);
            return GL_OK;
        }
    if (name_is(name, len, "isValid"))
        *out = vbool(true);
    else if (name_is(name, len, "zoneName"))
        *out = vstr_n("UTC", 3);
    else
        *out = vmk(V_UNDEF);
    return GL_OK;
}

static int mk_date(ev_t *ev, double ms, val_t *out)
{
    if (!(ms >= -62167219200000.0 && ms < 253402300800000.0))
        return fail(ev, "date out of range (years 0000 to 9999)");
    *out = vdate((int64_t)ms);
    return GL_OK;
}

static int d_to_iso(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)ev, (void)a, (void)na;
    char iso[32];
    iso_fmt(self->ms, iso);
    *out = vstr_n(iso, strlen(iso));
    return GL_OK;
}

static int d_to_iso_date(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)ev, (void)a, (void)na;
    char iso[32];
    iso_fmt(self->ms, iso);
    *out = vstr_n(iso, 10);
    return GL_OK;
}

static int d_to_millis(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)ev, (void)a, (void)na;
    *out = vnum((double)self->ms);
    return GL_OK;
}

static int d_to_seconds(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)ev, (void)a, (void)na;
    *out = vnum((double)self->ms / 1000.0);
    return GL_OK;
}

static int d_to_unix_integer(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)ev, (void)a, (void)na;
    *out = vnum((double)floor_div(self->ms, 1000));
    return GL_OK;
}

static int fmt_num(ev_t *ev, gl_buf_t *b, int64_t v, int width)
{
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%0*" PRId64, width, v);
    return apps(ev, b, tmp);
}

/* One run of `count` copies of the token letter c. */
static int fmt_token(ev_t *ev, gl_buf_t *b, const dt_t *t, int64_t ms, char c, int count)
{
    static const char *const months[] = { "January", "February", "March", "April", "May",
                                          "June", "July", "August", "September", "October",
                                          "November", "December" };
    static const char *const days[] = { "Monday", "Tuesday", "Wednesday", "Thursday",
                                        "Friday", "Saturday", "Sunday" };
    switch (c) {
    case 'y':
        if (count == 2)
            return fmt_num(ev, b, t->year % 100, 2);
        return fmt_num(ev, b, t->year, count == 1 ? 1 : count > 6 ? 6 : count);
    case 'M':
    case 'L':
        if (count <= 2)
            return fmt_num(ev, b, t->month, count);
        if (count == 3)
            return app(ev, b, months[t->month - 1], 3);
        if (count == 4)
            return apps(ev, b, months[t->month - 1]);
        return app(ev, b, months[t->month - 1], 1);
    case 'd': if (count <= 2) return fmt_num(ev, b, t->day, count); break;
    case 'H': if (count <= 2) return fmt_num(ev, b, t->hour, count); break;
    case 'h': if (count <= 2) return fmt_num(ev, b, t->hour % 12 ? t->hour % 12 : 12, count); break;
    case 'm': if (count <= 2) return fmt_num(ev, b, t->minute, count); break;
    case 's': if (count <= 2) return fmt_num(ev, b, t->second, count); break;
    case 'S':
        if (count == 1 || count == 3)
            return fmt_num(ev, b, t->ms, count);
        break;
    case 'a': if (count == 1) return apps(ev, b, t->hour < 12 ? "AM" : "PM"); break;
    case 'E':
    case 'c':
        if (count == 1)
            return fmt_num(ev, b, t->weekday, 1);
        if (count == 3)
            return app(ev, b, days[t->weekday - 1], 3);
        if (count == 4)
            return apps(ev, b, days[t->weekday - 1]);
        break;
    case 'q': if (count <= 2) return fmt_num(ev, b, (t->month - 1) / 3 + 1, count); break;
    case 'o':
        if (count == 1 || count == 3)
            return fmt_num(ev, b, days_from_civil(t->year, t->month, t->day) -
                                      days_from_civil(t->year, 1, 1) + 1, count);
        break;
    case 'x': if (count == 1) return fmt_num(ev, b, ms, 1); break;
    case 'X': if (count == 1) return fmt_num(ev, b, floor_div(ms, 1000), 1); break;
    case 'Z':
        if (count <= 3)
            return apps(ev, b, count == 1 ? "+0" : count == 2 ? "+00:00" : "+0000");
        break;
    case 'z': return apps(ev, b, "UTC");
    default: break;
    }
    for (int i = 0; i < count; i++) /* not a token: the letters stand for themselves */
        TRY(app(ev, b, &c, 1));
    return GL_OK;
}

static int d_to_format(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    if (arg(a, na, 0)->k != V_STR)
        return fail(ev, "toFormat() expects a format string");
    const char *f = sp(arg(a, na, 0));
    size_t n = sn(arg(a, na, 0));
    dt_t t;
    dt_split(self->ms, &t);
    TRY(charge(ev, 1 + n / 8));
    gl_buf_t b;
    gl_buf_init(&b, ev->max_out);
    int rc = GL_OK;
    for (size_t i = 0; rc == GL_OK && i < n;) {
        char c = f[i];
        if (c == '\'') { /* 'quoted literal' */
            const char *close = memchr(f + i + 1, '\'', n - i - 1);
            size_t end = close ? (size_t)(close - f) : n;
            rc = app(ev, &b, f + i + 1, end - i - 1);
            i = close ? end + 1 : n;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
            size_t j = i;
            while (j < n && f[j] == c && j - i < 16)
                j++;
            rc = fmt_token(ev, &b, &t, self->ms, c, (int)(j - i));
            i = j;
        } else {
            rc = app(ev, &b, &c, 1);
            i++;
        }
    }
    if (rc != GL_OK) {
        gl_buf_free(&b);
        return rc;
    }
    return buf_val(&b, out);
}

/* Units for plus/minus/startOf: months for calendar units, else ms. */
typedef struct {
    const char *name;
    double months, ms;
} unit_t;

static const unit_t units[] = {
    { "year", 12, 0 }, { "quarter", 3, 0 }, { "month", 1, 0 }, { "week", 0, 7 * 86400000.0 },
    { "day", 0, 86400000.0 }, { "hour", 0, 3600000.0 }, { "minute", 0, 60000.0 },
    { "second", 0, 1000.0 }, { "millisecond", 0, 1 },
};

static const unit_t *find_unit(const char *s, size_t n)
{
    if (n > 1 && s[n - 1] == 's')
        n--;
    for (size_t i = 0; i < GL_NELEM(units); i++)
        if (name_is(s, n, units[i].name))
            return &units[i];
    return NULL;
}

static int unit_arg(ev_t *ev, const char *fn, const val_t *v, const unit_t **u)
{
    if (v->k != V_STR || !(*u = find_unit(sp(v), sn(v))))
        return fail(ev, "%s: unknown unit '%.40s' (years, quarters, months, weeks, days, "
                        "hours, minutes, seconds, milliseconds)",
                    fn, v->k == V_STR ? sp(v) : type_of(v));
    return GL_OK;
}

/* Adds whole months (clamping the day to the month's end) then ms. */
static int date_shift(ev_t *ev, int64_t ms, double months, double extra, val_t *out)
{
    if (!(fabs(months) < 240000 && fabs(extra) < 1e15))
        return fail(ev, "date out of range (years 0000 to 9999)");
    if (months != trunc(months))
        return fail(ev, "years, quarters and months must be whole numbers");
    if (months != 0) {
        dt_t t;
        dt_split(ms, &t);
        int64_t m0 = t.year * 12 + (t.month - 1) + (int64_t)months;
        t.year = floor_div(m0, 12);
        t.month = (int)(m0 - t.year * 12) + 1;
        if (t.year < 0 || t.year > 9999)
            return fail(ev, "date out of range (years 0000 to 9999)");
        int dim = days_in_month(t.year, t.month);
        t.day = t.day > dim ? dim : t.day;
        ms = dt_join(&t);
    }
    return mk_date(ev, (double)ms + trunc(extra), out);
}

static int date_add(ev_t *ev, const val_t *self, const val_t *a, size_t na, double sign,
                    const char *fn, val_t *out)
{
    double months = 0, extra = 0, amount;
    const val_t *x = arg(a, na, 0);
    const unit_t *u;
    if (x->k == V_OBJ) {
        struct json_object_iterator it = json_object_iter_begin(x->j);
        struct json_object_iterator end = json_object_iter_end(x->j);
        while (!json_object_iter_equal(&it, &end)) {
            const char *key = json_object_iter_peek_name(&it);
            val_t v = vjson(json_object_iter_peek_value(&it));
            json_object_iter_next(&it);
            TRY(charge(ev, 1));
            if (!(u = find_unit(key, strlen(key)))) {
                vfree(&v);
                return fail(ev, "%s: unknown unit '%.40s'", fn, key);
            }
            int rc = to_number(ev, &v, &amount);
            vfree(&v);
            TRY(rc);
            months += amount * u->months;
            extra += amount * u->ms;
        }
    } else if (x->k == V_NUM) {
        amount = x->n;
        if (arg(a, na, 1)->k == V_UNDEF)
            u = &units[GL_NELEM(units) - 1];
        else
            TRY(unit_arg(ev, fn, arg(a, na, 1), &u));
        months = amount * u->months;
        extra = amount * u->ms;
    } else {
        return fail(ev, "%s expects a number and a unit, or an object like {days: 1}", fn);
    }
    if (!isfinite(months) || !isfinite(extra))
        return fail(ev, "%s: the amount must be a finite number", fn);
    return date_shift(ev, self->ms, sign * months, sign * extra, out);
}

static int d_plus(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    return date_add(ev, self, a, na, 1, "plus()", out);
}

static int d_minus(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    return date_add(ev, self, a, na, -1, "minus()", out);
}

static int64_t start_of(int64_t ms, const unit_t *u)
{
    dt_t t;
    dt_split(ms, &t);
    if (u->months || u->ms >= 86400000.0) {
        t.hour = t.minute = t.second = t.ms = 0;
        if (u->months)
            t.day = 1;
        if (u->months >= 3)
            t.month = u->months == 12 ? 1 : (t.month - 1) / 3 * 3 + 1;
        int64_t r = dt_join(&t);
        return u->ms > 86400000.0 ? r - (t.weekday - 1) * MS_PER_DAY : r; /* weeks start on Monday */
    }
    int64_t step = (int64_t)u->ms;
    return floor_div(ms, step) * step;
}

static int d_start_of(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    const unit_t *u;
    TRY(unit_arg(ev, "startOf()", arg(a, na, 0), &u));
    return mk_date(ev, (double)start_of(self->ms, u), out);
}

static int d_end_of(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    const unit_t *u;
    TRY(unit_arg(ev, "endOf()", arg(a, na, 0), &u));
    int64_t s = start_of(self->ms, u);
    if (!u->months)
        return mk_date(ev, (double)s + u->ms - 1, out);
    val_t next_start;
    if (date_shift(ev, s, u->months, 0, &next_start) != GL_OK) { /* the year 9999 */
        gl_err_clear(ev->err);
        return mk_date(ev, 253402300800000.0 - 1, out);
    }
    return mk_date(ev, (double)next_start.ms - 1, out);
}

static const method_t date_methods[] = {
    { "toISO", d_to_iso }, { "toJSON", d_to_iso }, { "toString", d_to_iso },
    { "toISODate", d_to_iso_date }, { "toMillis", d_to_millis }, { "valueOf", d_to_millis },
    { "toSeconds", d_to_seconds }, { "toUnixInteger", d_to_unix_integer },
    { "toFormat", d_to_format }, { "plus", d_plus }, { "minus", d_minus },
    { "startOf", d_start_of }, { "endOf", d_end_of },
};

/* Namespaces: Math, JSON, Object, Array, Number, DateTime, $input; globals */

typedef struct {
    int ns;
    const char *name;
    method_fn fn;
} ns_method_t;

static int math1(ev_t *ev, const val_t *a, size_t na, double (*f)(double), val_t *out)
{
    double x;
    TRY(num_arg(ev, a, na, 0, NAN, &x));
    *out = vnum(f(x));
    return GL_OK;
}

static double js_round(double x)
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
MATH1(m_round, js_round)
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
        TRY(to_number(ev, &a[i], &x));
        if (isnan(x) || isnan(r))
            r = NAN;
        else if (max ? x > r : x < r)
            r = x;
    }
    *out = vnum(r);
    return GL_OK;
}

static int m_min(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    return min_max(ev, a, na, false, out);
}

static int m_max(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    return min_max(ev, a, na, true, out);
}

static int m_pow(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    double x, y;
    TRY(num_arg(ev, a, na, 0, NAN, &x));
    TRY(num_arg(ev, a, na, 1, NAN, &y));
    *out = vnum(isnan(y) || (fabs(x) == 1 && isinf(y)) ? (double)NAN : pow(x, y));
    return GL_OK;
}

static int j_parse(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    sv_t text;
    gl_err_t jerr;
    json_object *j = NULL;
    TRY(to_sv(ev, arg(a, na, 0), &text));
    int rc = charge(ev, 1 + text.n / 32);
    if (rc == GL_OK) {
        gl_err_clear(&jerr);
        if (gl_json_parse(text.p, text.n, ev->max_depth, &j, &jerr) != GL_OK)
            rc = fail(ev, "JSON.parse: %s", jerr.msg);
    }
    size_t n = text.n;
    sv_free(&text);
    TRY(rc);
    *out = vjson(j);
    if (out->k == V_ARR || out->k == V_OBJ)
        out->size = n + 16;
    json_object_put(j);
    return GL_OK;
}

static int j_stringify(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    char ind[16];
    size_t ind_n = 0;
    const val_t *rep = arg(a, na, 1), *sp_arg = arg(a, na, 2);
    bool defined;
    if (!nullish(rep))
        return fail(ev, "JSON.stringify: replacer functions and key lists are not supported");
    if (sp_arg->k == V_NUM) {
        double w = isnan(sp_arg->n) ? 0 : fmin(10, trunc(sp_arg->n));
        for (; ind_n < (size_t)(w < 0 ? 0 : w); ind_n++)
            ind[ind_n] = ' ';
    } else if (sp_arg->k == V_STR) {
        ind_n = u8_off(sp(sp_arg), sn(sp_arg), 10);
        memcpy(ind, sp(sp_arg), ind_n > sizeof ind ? sizeof ind : ind_n);
        ind_n = ind_n > sizeof ind ? sizeof ind : ind_n;
    }
    gl_buf_t b;
    gl_buf_init(&b, ev->max_out);
    int rc = jw_val(ev, &b, arg(a, na, 0), ind, ind_n, &defined);
    if (rc != GL_OK || !defined) {
        gl_buf_free(&b);
        *out = vmk(V_UNDEF);
        return rc;
    }
    return buf_val(&b, out);
}

/* Object.keys (mode 0), values (1), entries (2). */
static int object_list(ev_t *ev, const val_t *a, size_t na, int mode, val_t *out)
{
    const val_t *o = arg(a, na, 0);
    if (nullish(o))
        return fail(ev, "Cannot convert undefined or null to object");
    json_object *arr = json_object_new_array();
    size_t size = 16;
    int rc = GL_OK;
    char idx[32];
    if (o->k == V_OBJ) {
        struct json_object_iterator it = json_object_iter_begin(o->j);
        struct json_object_iterator end = json_object_iter_end(o->j);
        while (rc == GL_OK && !json_object_iter_equal(&it, &end)) {
            const char *key = json_object_iter_peek_name(&it);
            json_object *v = json_object_iter_peek_value(&it);
            json_object_iter_next(&it);
            if ((rc = charge(ev, 1)) != GL_OK)
                break;
            json_object *e = mode == 0 ? json_object_new_string(key) : json_object_get(v);
            size_t e_size = mode == 0 ? strlen(key) + 2 : json_size(v);
            if (mode == 2) {
                json_object *pair = json_object_new_array();
                json_object_array_add(pair, json_object_new_string(key));
                json_object_array_add(pair, e);
                e = pair;
                e_size += strlen(key) + 24;
            }
            rc = arr_add(ev, arr, &size, e, e_size);
        }
    } else if (o->k == V_ARR) {
        for (size_t i = 0; rc == GL_OK && i < alen(o); i++) {
            if ((rc = charge(ev, 1)) != GL_OK)
                break;
            snprintf(idx, sizeof idx, "%zu", i);
            json_object *v = elem(o, i);
            json_object *e = mode == 0 ? json_object_new_string(idx) : json_object_get(v);
            size_t e_size = mode == 0 ? strlen(idx) + 2 : json_size(v);
            if (mode == 2) {
                json_object *pair = json_object_new_array();
                json_object_array_add(pair, json_object_new_string(idx));
                json_object_array_add(pair, e);
                e = pair;
                e_size += 40;
            }
            rc = arr_add(ev, arr, &size, e, e_size);
        }
    }
    if (rc != GL_OK) {
        json_object_put(arr);
        return rc;
    }
    *out = vown(V_ARR, arr, size);
    return GL_OK;
}

static int ob_keys(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    return object_list(ev, a, na, 0, out);
}

static int ob_values(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    return object_list(ev, a, na, 1, out);
}

static int ob_entries(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    return object_list(ev, a, na, 2, out);
}

static int ar_is_array(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)ev, (void)self;
    *out = vbool(arg(a, na, 0)->k == V_ARR);
    return GL_OK;
}

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
    TRY(num_arg(ev, a, na, 1, 0, &r));
    TRY(to_sv(ev, arg(a, na, 0), &s));
    const char *p = s.p;
    size_t n = s.n, i = 0;
    trim_span(&p, &n, true, false);
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
    while (i < n && digit_val((unsigned char)p[i]) < radix)
        v = v * radix + digit_val((unsigned char)p[i++]);
    *out = vnum(i == first ? (double)NAN : sign * v);
done:
    sv_free(&s);
    return GL_OK;
}

static int g_parse_float(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    sv_t s;
    TRY(to_sv(ev, arg(a, na, 0), &s));
    const char *p = s.p;
    size_t n = s.n, l;
    trim_span(&p, &n, true, false);
    const char *q = p + (n && (*p == '+' || *p == '-'));
    if ((size_t)(p + n - q) >= 8 && memcmp(q, "Infinity", 8) == 0)
        *out = vnum(*p == '-' ? -INFINITY : INFINITY);
    else
        *out = vnum((l = dec_prefix(p, n)) ? strtod_n(p, l) : (double)NAN);
    sv_free(&s);
    return GL_OK;
}

static int g_number(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    double d = 0;
    if (na)
        TRY(to_number(ev, &a[0], &d));
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
    int rc = to_string(ev, &a[0], &b, 0);
    if (rc != GL_OK) {
        gl_buf_free(&b);
        return rc;
    }
    return buf_val(&b, out);
}

static int g_boolean(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)ev, (void)self;
    *out = vbool(vtruthy(arg(a, na, 0)));
    return GL_OK;
}

static int g_is_nan(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    double d;
    TRY(num_arg(ev, a, na, 0, NAN, &d));
    *out = vbool(isnan(d));
    return GL_OK;
}

static int g_is_finite(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    double d;
    TRY(num_arg(ev, a, na, 0, NAN, &d));
    *out = vbool(isfinite(d));
    return GL_OK;
}

/* $("Name") */
static int g_dollar(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    const val_t *name = arg(a, na, 0);
    if (name->k != V_STR)
        return fail(ev, "$() expects a node name, got %s", vtype_name(name));
    json_object *items = node_lookup(ev, sp(name), sn(name));
    if (!items || !json_object_is_type(items, json_type_array))
        return no_such_node(ev, sp(name));
    *out = vmk(V_NODE);
    out->j = json_object_get(items);
    out->aux = json_object_get(name->j);
    return GL_OK;
}

static int dt_now(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self, (void)a, (void)na;
    return mk_date(ev, (double)ev->ctx->now_ms, out);
}

static int dt_from_iso(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    const val_t *s = arg(a, na, 0);
    int64_t ms;
    if (s->k != V_STR)
        return fail(ev, "DateTime.fromISO() expects a string, got %s", vtype_name(s));
    if (!iso_parse(sp(s), sn(s), &ms))
        return fail(ev, "DateTime.fromISO(): invalid ISO date '%.60s'", sp(s));
    *out = vdate(ms);
    return GL_OK;
}

static int dt_from_millis(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    const val_t *x = arg(a, na, 0);
    if (x->k != V_NUM)
        return fail(ev, "DateTime.fromMillis() expects a number, got %s", vtype_name(x));
    return mk_date(ev, trunc(x->n), out);
}

static int dt_from_seconds(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    const val_t *x = arg(a, na, 0);
    if (x->k != V_NUM)
        return fail(ev, "DateTime.fromSeconds() expects a number, got %s", vtype_name(x));
    return mk_date(ev, js_round(x->n * 1000), out);
}

/* DateTime.utc(year, month, day, hour, minute, second, ms); no arguments: now. */
static int dt_utc(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    static const double lo[] = { 0, 1, 1, 0, 0, 0, 0 }, hi[] = { 9999, 12, 31, 23, 59, 59, 999 };
    double f[7];
    if (!na)
        return dt_now(ev, self, a, na, out);
    for (size_t i = 0; i < 7; i++) {
        TRY(num_arg(ev, a, na, i, lo[i], &f[i]));
        if (!(f[i] >= lo[i] && f[i] <= hi[i] && f[i] == trunc(f[i])))
            return fail(ev, "DateTime.utc(): argument %zu is out of range", i + 1);
    }
    dt_t t = { (int64_t)f[0], (int)f[1], (int)f[2], (int)f[3], (int)f[4], (int)f[5], (int)f[6], 0 };
    if (t.day > days_in_month(t.year, t.month))
        return fail(ev, "DateTime.utc(): day %d does not exist in that month", t.day);
    return mk_date(ev, (double)dt_join(&t), out);
}

static int in_all(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self, (void)a, (void)na;
    if (!ev->ctx->input) {
        *out = vown(V_ARR, json_object_new_array(), 16);
        return GL_OK;
    }
    return wrap_all(ev, ev->ctx->input, out);
}

static int in_first_last(ev_t *ev, bool last, val_t *out)
{
    size_t n = ev->ctx->input ? json_object_array_length(ev->ctx->input) : 0;
    *out = n ? vwrap(json_object_array_get_idx(ev->ctx->input, last ? n - 1 : 0)) : vmk(V_UNDEF);
    return GL_OK;
}

static int in_first(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self, (void)a, (void)na;
    return in_first_last(ev, false, out);
}

static int in_last(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self, (void)a, (void)na;
    return in_first_last(ev, true, out);
}

static const ns_method_t ns_methods[] = {
    { VAR_MATH, "round", m_round }, { VAR_MATH, "floor", m_floor }, { VAR_MATH, "ceil", m_ceil },
    { VAR_MATH, "abs", m_abs }, { VAR_MATH, "min", m_min }, { VAR_MATH, "max", m_max },
    { VAR_MATH, "pow", m_pow }, { VAR_MATH, "sqrt", m_sqrt }, { VAR_MATH, "trunc", m_trunc },
    { VAR_MATH, "sign", m_sign },
    { VAR_JSONNS, "parse", j_parse }, { VAR_JSONNS, "stringify", j_stringify },
    { VAR_OBJECT, "keys", ob_keys }, { VAR_OBJECT, "values", ob_values },
    { VAR_OBJECT, "entries", ob_entries }, { VAR_ARRAY, "isArray", ar_is_array },
    { VAR_NUMBER, "isInteger", nb_is_integer }, { VAR_NUMBER, "isFinite", nb_is_finite },
    { VAR_NUMBER, "isNaN", nb_is_nan }, { VAR_NUMBER, "isSafeInteger", nb_is_safe },
    { VAR_NUMBER, "parseInt", g_parse_int }, { VAR_NUMBER, "parseFloat", g_parse_float },
    { VAR_DATETIME, "now", dt_now }, { VAR_DATETIME, "fromISO", dt_from_iso },
    { VAR_DATETIME, "fromMillis", dt_from_millis }, { VAR_DATETIME, "fromSeconds", dt_from_seconds },
    { VAR_DATETIME, "utc", dt_utc }, { VAR_DATETIME, "local", dt_utc },
    { VAR_INPUT, "all", in_all }, { VAR_INPUT, "first", in_first }, { VAR_INPUT, "last", in_last },
};

/* The built-in global functions, by VAR_* id. */
static method_fn global_fn(int ns)
{
    switch (ns) {
    case VAR_DOLLAR: return g_dollar;
    case VAR_NUMBER: return g_number;
    case VAR_STRING: return g_string;
    case VAR_BOOLEAN: return g_boolean;
    case VAR_PARSEINT: return g_parse_int;
    case VAR_PARSEFLOAT: return g_parse_float;
    case VAR_ISNAN: return g_is_nan;
    case VAR_ISFINITE: return g_is_finite;
    default: return NULL;
    }
}

/* $("Name").first() / .last() / .all() / .itemMatching(i) */
static int node_method(ev_t *ev, const val_t *self, const char *name, size_t len,
                       const val_t *a, size_t na, val_t *out)
{
    size_t n = json_object_array_length(self->j);
    if (name_is(name, len, "all"))
        return wrap_all(ev, self->j, out);
    if (name_is(name, len, "first") || name_is(name, len, "last")) {
        bool last = name_is(name, len, "last");
        *out = n ? vwrap(json_object_array_get_idx(self->j, last ? n - 1 : 0)) : vmk(V_UNDEF);
        return GL_OK;
    }
    if (name_is(name, len, "itemMatching")) {
        double i;
        TRY(num_arg(ev, a, na, 0, NAN, &i));
        *out = i >= 0 && i < (double)n ? vwrap(json_object_array_get_idx(self->j, (size_t)i))
                                       : vmk(V_UNDEF);
        return GL_OK;
    }
    return GL_NOTFOUND;
}

static int call_method(ev_t *ev, const val_t *self, const char *name, size_t len,
                       const val_t *a, size_t na, val_t *out)
{
    method_fn fn = NULL;
    switch (self->k) {
    case V_UNDEF:
    case V_NULL:
    case V_SHORT: return get_prop(ev, self, name, len, out); /* the JS error */
    case V_STR: fn = find_method(str_methods, GL_NELEM(str_methods), name, len); break;
    case V_ARR: fn = find_method(arr_methods, GL_NELEM(arr_methods), name, len); break;
    case V_OBJ: fn = find_method(obj_methods, GL_NELEM(obj_methods), name, len); break;
    case V_NUM: fn = find_method(num_methods, GL_NELEM(num_methods), name, len); break;
    case V_BOOL: fn = find_method(bool_methods, GL_NELEM(bool_methods), name, len); break;
    case V_DATE: fn = find_method(date_methods, GL_NELEM(date_methods), name, len); break;
    case V_NS:
        for (size_t i = 0; i < GL_NELEM(ns_methods); i++)
            if (ns_methods[i].ns == self->ns && name_is(name, len, ns_methods[i].name))
                fn = ns_methods[i].fn;
        break;
    case V_NODE: {
        int rc = node_method(ev, self, name, len, a, na, out);
        if (rc != GL_NOTFOUND)
            return rc;
        break;
    }
    }
    if (fn)
        return fn(ev, self, a, na, out);
    if (self->k == V_NS)
        return fail(ev, "%s.%.*s is not a function", var_names[self->ns],
                    (int)(len > 60 ? 60 : len), name);
    return fail(ev, "%s has no method '%.*s'", vtype_name(self), (int)(len > 60 ? 60 : len), name);
}

/* ------------------------------------------------------------------------ */
/* Evaluation                                                               */

static int eval(ev_t *ev, const node_t *nd, val_t *out);

static int var_value(ev_t *ev, int var, val_t *out)
{
    const gl_expr_ctx_t *c = ev->ctx;
    json_object *o;
    switch (var) {
    case VAR_JSON:
        *out = c->json ? vjson(c->json) : vown(V_OBJ, json_object_new_object(), 16);
        return GL_OK;
    case VAR_ENV:
        *out = c->env ? vjson(c->env) : vown(V_OBJ, json_object_new_object(), 16);
        return GL_OK;
    case VAR_EXECUTION:
        o = json_object_new_object();
        json_object_object_add(o, "id", c->execution_id ? json_object_new_string(c->execution_id) : NULL);
        *out = vown(V_OBJ, o, 0);
        return GL_OK;
    case VAR_WORKFLOW:
        o = json_object_new_object();
        json_object_object_add(o, "id", c->workflow_id ? json_object_new_string(c->workflow_id) : NULL);
        json_object_object_add(o, "name", c->workflow_name ? json_object_new_string(c->workflow_name) : NULL);
        *out = vown(V_OBJ, o, 0);
        return GL_OK;
    case VAR_NOW: return mk_date(ev, (double)c->now_ms, out);
    case VAR_TODAY: return mk_date(ev, (double)(floor_div(c->now_ms, MS_PER_DAY) * MS_PER_DAY), out);
    case VAR_ITEMINDEX: *out = vnum((double)c->item_index); return GL_OK;
    default:
        *out = vmk(V_NS);
        out->ns = var;
        return GL_OK;
    }
}

static int eval_member(ev_t *ev, const node_t *nd, val_t *out)
{
    val_t o, key;
    sv_t ks;
    TRY(eval(ev, nd->a, &o));
    if (o.k == V_SHORT || (nd->opt && nullish(&o))) {
        vfree(&o);
        *out = vmk(V_SHORT);
        return GL_OK;
    }
    int rc;
    if (nd->k == N_MEMBER) {
        rc = get_prop(ev, &o, nd->s, nd->len, out);
    } else if ((rc = eval(ev, nd->b, &key)) == GL_OK) {
        if ((rc = key_sv(ev, &key, &ks)) == GL_OK) {
            rc = get_prop(ev, &o, ks.p, ks.n, out);
            sv_free(&ks);
        }
        vfree(&key);
    }
    vfree(&o);
    return rc;
}

static int eval_call(ev_t *ev, const node_t *nd, val_t *out)
{
    const node_t *callee = nd->a;
    val_t self = vmk(V_UNDEF), args[MAX_ARGS] = { 0 }, key = vmk(V_UNDEF);
    const char *name = NULL;
    size_t name_len = 0, na = 0;
    sv_t ks = { 0 };
    int rc;
    if (callee->k == N_MEMBER || callee->k == N_INDEX) {
        TRY(eval(ev, callee->a, &self));
        if (self.k == V_SHORT || (callee->opt && nullish(&self))) {
            vfree(&self);
            *out = vmk(V_SHORT);
            return GL_OK;
        }
        if (callee->k == N_MEMBER) {
            name = callee->s;
            name_len = callee->len;
        } else {
            if ((rc = eval(ev, callee->b, &key)) != GL_OK || (rc = key_sv(ev, &key, &ks)) != GL_OK) {
                vfree(&key);
                vfree(&self);
                return rc;
            }
            name = ks.p;
            name_len = ks.n;
        }
    } else if (callee->k == N_VAR && global_fn(callee->op)) {
        self = vmk(V_NS);
        self.ns = callee->op;
    } else if (callee->k == N_VAR) {
        return fail(ev, "%s is not a function", var_names[callee->op]);
    } else {
        TRY(eval(ev, callee, &self));
        rc = fail(ev, "%s is not a function", vtype_name(&self));
        vfree(&self);
        return rc;
    }
    rc = GL_OK;
    for (; na < nd->n && rc == GL_OK; na++) {
        rc = eval(ev, nd->kids[na], &args[na]);
        if (rc != GL_OK)
            break;
        if (args[na].k == V_SHORT)
            args[na].k = V_UNDEF;
    }
    if (rc == GL_OK)
        rc = name ? call_method(ev, &self, name, name_len, args, na, out)
                  : global_fn(self.ns)(ev, &self, args, na, out);
    for (size_t i = 0; i < na; i++)
        vfree(&args[i]);
    if (name == ks.p && name)
        sv_free(&ks);
    vfree(&key);
    vfree(&self);
    return rc;
}

static int eval_array(ev_t *ev, const node_t *nd, val_t *out)
{
    json_object *arr = json_object_new_array();
    size_t size = 16;
    for (size_t i = 0; i < nd->n; i++) {
        val_t v;
        int rc = eval(ev, nd->kids[i], &v);
        if (rc == GL_OK) {
            rc = arr_add_val(ev, arr, &size, &v);
            vfree(&v);
        }
        if (rc != GL_OK) {
            json_object_put(arr);
            return rc;
        }
    }
    *out = vown(V_ARR, arr, size);
    return GL_OK;
}

static int eval_object(ev_t *ev, const node_t *nd, val_t *out)
{
    json_object *obj = json_object_new_object();
    size_t size = 16;
    for (size_t i = 0; i < nd->n; i++) {
        val_t v;
        int rc = eval(ev, nd->kids[i], &v);
        if (rc == GL_OK && memchr(nd->keys[i], 0, nd->key_lens[i]))
            rc = fail(ev, "property names may not contain NUL");
        if (rc == GL_OK) {
            rc = obj_add(ev, obj, &size, nd->keys[i], vto_json(&v), vsize(&v));
            vfree(&v);
        }
        if (rc != GL_OK) {
            json_object_put(obj);
            return rc;
        }
    }
    *out = vown(V_OBJ, obj, size);
    return GL_OK;
}

static int eval_template(ev_t *ev, const node_t *nd, val_t *out)
{
    gl_buf_t b;
    gl_buf_init(&b, ev->max_out);
    for (size_t i = 0; i < nd->n; i++) {
        val_t v;
        int rc = eval(ev, nd->kids[i], &v);
        if (rc == GL_OK) {
            rc = to_string(ev, &v, &b, 0);
            vfree(&v);
        }
        if (rc != GL_OK) {
            gl_buf_free(&b);
            return rc;
        }
    }
    return buf_val(&b, out);
}

static int eval_unary(ev_t *ev, const node_t *nd, val_t *out)
{
    val_t v;
    double d = 0;
    TRY(eval(ev, nd->a, &v));
    int rc = GL_OK;
    switch (nd->op) {
    case OP_NOT: *out = vbool(!vtruthy(&v)); break;
    case OP_TYPEOF: {
        const char *t = type_of(&v);
        *out = vstr_n(t, strlen(t));
        break;
    }
    default:
        rc = to_number(ev, &v, &d);
        *out = vnum(nd->op == OP_NEG ? -d : d);
    }
    vfree(&v);
    return rc;
}

static int eval_logical(ev_t *ev, const node_t *nd, val_t *out)
{
    TRY(eval(ev, nd->a, out));
    bool take_left = nd->k == N_AND ? !vtruthy(out) : nd->k == N_OR ? vtruthy(out) : !nullish(out);
    if (take_left)
        return GL_OK;
    vfree(out);
    return eval(ev, nd->b, out);
}

static int eval_node(ev_t *ev, const node_t *nd, val_t *out)
{
    val_t a, b;
    int rc;
    switch (nd->k) {
    case N_LIT:
        switch (nd->op) {
        case LIT_NULL: *out = vmk(V_NULL); break;
        case LIT_TRUE: *out = vbool(true); break;
        case LIT_FALSE: *out = vbool(false); break;
        case LIT_NUM: *out = vnum(nd->num); break;
        default: *out = vmk(V_UNDEF); break;
        }
        return GL_OK;
    case N_STR:
        if (nd->len > ev->max_out)
            return too_big(ev);
        *out = vstr_n(nd->s, nd->len);
        return GL_OK;
    case N_TMPL: return eval_template(ev, nd, out);
    case N_ARR: return eval_array(ev, nd, out);
    case N_OBJ: return eval_object(ev, nd, out);
    case N_VAR: return var_value(ev, nd->op, out);
    case N_MEMBER:
    case N_INDEX: return eval_member(ev, nd, out);
    case N_CALL: return eval_call(ev, nd, out);
    case N_UNARY: return eval_unary(ev, nd, out);
    case N_AND:
    case N_OR:
    case N_NULLISH: return eval_logical(ev, nd, out);
    case N_COND:
        TRY(eval(ev, nd->a, &a));
        rc = eval(ev, vtruthy(&a) ? nd->b : nd->c, out);
        vfree(&a);
        return rc;
    case N_CHAIN:
        TRY(eval(ev, nd->a, out));
        if (out->k == V_SHORT)
            out->k = V_UNDEF;
        return GL_OK;
    case N_BIN:
        TRY(eval(ev, nd->a, &a));
        if ((rc = eval(ev, nd->b, &b)) == GL_OK) {
            rc = binary(ev, nd->op, &a, &b, out);
            vfree(&b);
        }
        vfree(&a);
        return rc;
    default: return fail(ev, "internal error: unknown node");
    }
}

static int eval(ev_t *ev, const node_t *nd, val_t *out)
{
    *out = vmk(V_UNDEF);
    TRY(charge(ev, 1));
    if (ev->depth >= 4 * ev->max_depth + 8)
        return fail(ev, "expression nested too deeply");
    ev->depth++;
    int rc = eval_node(ev, nd, out);
    ev->depth--;
    if (rc != GL_OK)
        vfree(out);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* The public API                                                           */

static const gl_expr_ctx_t empty_ctx;

static void ev_init(ev_t *ev, const gl_expr_ctx_t *ctx, gl_err_t *err)
{
    memset(ev, 0, sizeof *ev);
    ev->ctx = ctx;
    ev->err = err;
    ev->max_steps = ctx->limits.max_steps ? ctx->limits.max_steps : DEF_STEPS;
    ev->max_depth = ctx->limits.max_depth > 0 ? ctx->limits.max_depth : DEF_DEPTH;
    if (ev->max_depth > MAX_DEPTH_CAP) /* recursion uses the C stack */
        ev->max_depth = MAX_DEPTH_CAP;
    ev->max_out = ctx->limits.max_output ? ctx->limits.max_output : DEF_OUTPUT;
    if (ev->max_out > MAX_OUTPUT_CAP)
        ev->max_out = MAX_OUTPUT_CAP;
}

bool gl_expr_has(const char *s)
{
    const char *open = s ? strstr(s, "{{") : NULL;
    return open && strstr(open + 2, "}}");
}

int gl_expr_eval(const char *src, const gl_expr_ctx_t *ctx, json_object **out, gl_err_t *err)
{
    ev_t ev;
    *out = NULL;
    ev_init(&ev, ctx ? ctx : &empty_ctx, err);
    if (!src)
        return fail(&ev, "empty expression");
    if (strlen(src) > ev.max_out)
        return fail(&ev, "expression longer than %zu bytes", ev.max_out);
    gl_arena_t *arena = gl_arena_create(0);
    ps_t ps;
    ps_init(&ps, src, arena, ev.max_depth, err);
    node_t *root = parse_all(&ps);
    int rc = GL_INVALID;
    if (root) {
        val_t v;
        rc = eval(&ev, root, &v);
        if (rc == GL_OK) {
            *out = vto_json(&v);
            vfree(&v);
        }
    }
    gl_arena_destroy(arena);
    return rc;
}

/* The string form of an interpolated value: strings as is, null and
 * undefined as nothing, arrays and objects as JSON text. */
static int interpolate(ev_t *ev, const val_t *v, gl_buf_t *b)
{
    bool defined;
    switch (v->k) {
    case V_UNDEF:
    case V_NULL:
    case V_SHORT: return GL_OK;
    case V_ARR:
    case V_OBJ:
    case V_NODE: return jw_val(ev, b, v, "", 0, &defined);
    case V_NS: return ns_is_function(v->ns) ? GL_OK : apps(ev, b, "{}");
    default: return to_string(ev, v, b, 0);
    }
}

static bool all_space(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strchr(" \t\r\n", s[i]))
            return false;
    return true;
}

/* Evaluates every {{ }} of tmpl (which has at least one). */
static int render(const char *tmpl, ev_t *ev, gl_arena_t *arena, json_object **out)
{
    gl_buf_t b;
    val_t single = vmk(V_UNDEF);
    size_t i = 0, n_expr = 0, n = strlen(tmpl);
    bool only_space = true;
    int rc = GL_OK;
    ps_t ps;
    if (n > ev->max_out)
        return fail(ev, "parameter longer than %zu bytes", ev->max_out);
    ps_init(&ps, tmpl, arena, ev->max_depth, ev->err);
    gl_buf_init(&b, ev->max_out);
    while (rc == GL_OK) {
        const char *open = strstr(tmpl + i, "{{");
        if (!open || !strstr(open + 2, "}}"))
            break;
        size_t at = (size_t)(open - tmpl), end = 0;
        only_space = only_space && all_space(tmpl + i, at - i);
        if ((rc = app(ev, &b, tmpl + i, at - i)) != GL_OK)
            break;
        val_t v = vmk(V_UNDEF);
        const char *close = strstr(open + 2, "}}");
        if (all_space(open + 2, (size_t)(close - open - 2))) {
            end = (size_t)(close - tmpl) + 2; /* {{ }} is undefined */
        } else {
            ps.pos = at + 2;
            node_t *root = parse_embedded(&ps, &end);
            if (!root) {
                rc = GL_INVALID;
                break;
            }
            ev->steps = 0; /* each {{ }} has the whole budget */
            if ((rc = eval(ev, root, &v)) != GL_OK)
                break;
        }
        if (++n_expr == 1)
            single = vdup(&v);
        rc = interpolate(ev, &v, &b);
        vfree(&v);
        i = end;
    }
    if (rc == GL_OK) {
        only_space = only_space && all_space(tmpl + i, n - i);
        if (n_expr == 1 && only_space)
            *out = vto_json(&single);
        else if ((rc = app(ev, &b, tmpl + i, n - i)) == GL_OK)
            *out = json_object_new_string_len(b.data ? b.data : "", (int)b.len);
    }
    vfree(&single);
    gl_buf_free(&b);
    return rc;
}

int gl_expr_render(const char *tmpl, const gl_expr_ctx_t *ctx, json_object **out, gl_err_t *err)
{
    ev_t ev;
    *out = NULL;
    if (!gl_expr_has(tmpl)) {
        *out = json_object_new_string(tmpl ? tmpl : "");
        return GL_OK;
    }
    ev_init(&ev, ctx ? ctx : &empty_ctx, err);
    gl_arena_t *arena = gl_arena_create(0);
    int rc = render(tmpl, &ev, arena, out);
    gl_arena_destroy(arena);
    return rc;
}

static int render_rec(json_object *v, const gl_expr_ctx_t *ctx, json_object **out,
                      gl_err_t *err, int depth, char *path, size_t path_len)
{
    size_t cap = sizeof err->field;
    *out = NULL;
    if (depth > VALUE_DEPTH) {
        gl_err_set(err, "value nested too deeply");
        return GL_INVALID;
    }
    switch (json_object_get_type(v)) {
    case json_type_string: {
        const char *s = json_object_get_string(v);
        if (!gl_expr_has(s)) {
            *out = json_object_get(v);
            return GL_OK;
        }
        int rc = gl_expr_render(s, ctx, out, err);
        if (rc != GL_OK && err)
            snprintf(err->field, cap, "%s", path);
        return rc;
    }
    case json_type_array: {
        json_object *arr = json_object_new_array();
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            json_object *e;
            snprintf(path + path_len, cap - path_len, "[%zu]", i);
            size_t l = strlen(path);
            int rc = render_rec(json_object_array_get_idx(v, i), ctx, &e, err, depth + 1, path, l);
            path[path_len] = '\0';
            if (rc != GL_OK) {
                json_object_put(arr);
                return rc;
            }
            json_object_array_add(arr, e);
        }
        *out = arr;
        return GL_OK;
    }
    case json_type_object: {
        json_object *obj = json_object_new_object();
        struct json_object_iterator it = json_object_iter_begin(v);
        struct json_object_iterator end = json_object_iter_end(v);
        while (!json_object_iter_equal(&it, &end)) {
            const char *key = json_object_iter_peek_name(&it);
            json_object *e, *child = json_object_iter_peek_value(&it);
            json_object_iter_next(&it);
            snprintf(path + path_len, cap - path_len, "%s%s", path_len ? "." : "", key);
            size_t l = strlen(path);
            int rc = render_rec(child, ctx, &e, err, depth + 1, path, l);
            path[path_len] = '\0';
            if (rc != GL_OK) {
                json_object_put(obj);
                return rc;
            }
            json_object_object_add(obj, key, e);
        }
        *out = obj;
        return GL_OK;
    }
    default: *out = json_object_get(v); return GL_OK;
    }
}

int gl_expr_render_value(json_object *v, const gl_expr_ctx_t *ctx, json_object **out,
                         gl_err_t *err)
{
    char path[sizeof err->field] = "";
    return render_rec(v, ctx, out, err, 0, path, 0);
}

bool gl_expr_truthy(json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null: return false;
    case json_type_boolean: return json_object_get_boolean(v);
    case json_type_int:
    case json_type_double: {
        double d = json_object_get_double(v);
        return !(d == 0 || isnan(d));
    }
    case json_type_string: return json_object_get_string_len(v) > 0;
    default: return true;
    }
}
