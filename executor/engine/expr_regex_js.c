/*
 * expr_regex_js.c: JavaScript's regular expression syntax translated into
 * PCRE2's (expr_regex.c compiles and runs the result). What JavaScript
 * writes differently is rewritten: `.` (no line terminator unless dotAll),
 * `\s`/`\S` (JavaScript's Unicode white space), `\v`, `\0`, `\xHH`,
 * `\uXXXX` and surrogate pairs, `\u{…}`, `\p{Script=…}`, `\N` (a back
 * reference only when there are N groups, else octal or the digit), a `-`
 * next to `\d`, `\w`… in a class (literal), `[^]`, `[]`, a `[`
 * inside a class, identity escapes such as `\A` or `\Q` that PCRE2 would
 * read as its own, and braces that are no quantifier. PCRE2-only syntax
 * that JavaScript rejects (`(?>`, `(?R)`, `(?i)`, `(*VERB)`, possessive
 * `a++`) is refused, so no pattern reaches PCRE2 features that JavaScript
 * lacks. Linear in the pattern; the output is at most 16 bytes a byte.
 */
#include "expr_int.h"

#include <stdio.h>

/* ------------------------------------------------------------------------ */
/* Translation: JavaScript's pattern syntax into PCRE2's                    */

/* What JavaScript's \s matches (WhiteSpace and LineTerminator), as the
 * inside of a character class. */
static const char js_space[] =
    "\\t\\n\\x{0b}\\f\\r \\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}"
    "\\x{205f}\\x{3000}\\x{feff}";

typedef struct {
    const char *p;
    size_t n, i;
    gl_buf_t *o;
    char *err;
    size_t err_n;
    bool bad;
    uint32_t ncap; /* capturing groups in the whole pattern */
} tr_t;

static bool tr_fail(tr_t *t, const char *msg)
{
    if (!t->bad)
        snprintf(t->err, t->err_n, "%s", msg);
    t->bad = true;
    return false;
}

static bool put(tr_t *t, const char *s, size_t n)
{
    return gl_buf_append(t->o, s, n) == GL_OK || tr_fail(t, "pattern too long");
}

static bool puts_(tr_t *t, const char *s)
{
    return put(t, s, strlen(s));
}

static bool put_cp(tr_t *t, uint32_t cp)
{
    char tmp[24];
    int l = snprintf(tmp, sizeof tmp, "\\x{%x}", (unsigned)cp);
    return put(t, tmp, (size_t)l);
}

static int hexv(const tr_t *t, size_t at)
{
    return at < t->n ? gl__expr_digit_val((unsigned char)t->p[at]) : 99;
}

/* \uXXXX (a surrogate pair written as two), \u{X…}; t->i is at the 'u'.
 * False (and nothing consumed) when it is not a well-formed escape. */
static bool tr_unicode(tr_t *t, uint32_t *cp)
{
    size_t j = t->i + 1;
    uint32_t v = 0;
    if (j < t->n && t->p[j] == '{') {
        size_t nd = 0;
        for (j++; hexv(t, j) < 16 && v <= 0x10FFFF; j++, nd++)
            v = v * 16 + (uint32_t)hexv(t, j);
        if (!nd || j >= t->n || t->p[j] != '}' || v > 0x10FFFF)
            return false;
        j++;
    } else {
        for (int k = 0; k < 4; k++, j++) {
            if (hexv(t, j) >= 16)
                return false;
            v = v * 16 + (uint32_t)hexv(t, j);
        }
        if (v >= 0xD800 && v <= 0xDBFF && j + 5 < t->n && t->p[j] == '\\' && t->p[j + 1] == 'u') {
            uint32_t lo = 0;
            int k = 0;
            for (; k < 4 && hexv(t, j + 2 + k) < 16; k++)
                lo = lo * 16 + (uint32_t)hexv(t, j + 2 + k);
            if (k == 4 && lo >= 0xDC00 && lo <= 0xDFFF) {
                v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
                j += 6;
            }
        }
    }
    if (v >= 0xD800 && v <= 0xDFFF)
        v = 0xFFFD; /* a lone surrogate has no UTF-8 form */
    *cp = v;
    t->i = j;
    return true;
}

/* \p{…} or \P{…} at t->i (the letter): General_Category=X and X are
 * PCRE2's X, Script=X its sc:X, Script_Extensions=X its scx:X. */
static bool tr_property(tr_t *t, char d)
{
    const char *p = t->p + t->i + 1;
    const char *close = t->i + 1 < t->n && *p == '{' ? memchr(p, '}', t->n - t->i - 1) : NULL;
    if (!close) { /* not a property: the letter itself */
        t->i++;
        return put(t, &d, 1);
    }
    const char *name = p + 1, *eq = memchr(name, '=', (size_t)(close - name));
    char e[3] = { '\\', d, '{' };
    if (!put(t, e, 3))
        return false;
    if (eq) {
        size_t kn = (size_t)(eq - name);
        bool sc = (kn == 6 && memcmp(name, "Script", 6) == 0) || (kn == 2 && memcmp(name, "sc", 2) == 0);
        bool scx = (kn == 17 && memcmp(name, "Script_Extensions", 17) == 0) ||
                   (kn == 3 && memcmp(name, "scx", 3) == 0);
        if (!puts_(t, sc ? "sc:" : scx ? "scx:" : ""))
            return false;
        name = eq + 1;
    }
    t->i = (size_t)(close - t->p) + 1;
    return put(t, name, (size_t)(close - name)) && put(t, "}", 1);
}

/* \N at t->i (the first digit), as JavaScript reads it outside its u mode:
 * a back reference when the pattern has N groups, else a legacy octal
 * escape (\0, \12, \377), else (8, 9) the digit itself. */
static bool tr_decimal(tr_t *t, bool in_class)
{
    size_t j = t->i;
    uint64_t v = 0;
    while (j < t->n && is_digit(t->p[j]) && v < 100000)
        v = v * 10 + (uint64_t)(t->p[j++] - '0');
    if (t->p[t->i] != '0' && !in_class && v <= t->ncap) {
        char tmp[32];
        int l = snprintf(tmp, sizeof tmp, "\\g{%u}", (unsigned)v);
        t->i = j;
        return put(t, tmp, (size_t)l);
    }
    if (t->p[t->i] >= '8') {
        t->i++;
        return put(t, &t->p[t->i - 1], 1);
    }
    uint32_t o = 0;
    for (int k = 0; k < 3 && t->i < t->n && t->p[t->i] >= '0' && t->p[t->i] <= '7' &&
                    o * 8 + (uint32_t)(t->p[t->i] - '0') <= 0377;
         k++)
        o = o * 8 + (uint32_t)(t->p[t->i++] - '0');
    return put_cp(t, o);
}

/* The capturing groups of the pattern: '(' not followed by '?', or '(?<'
 * that is no lookbehind, outside classes and escapes. */
static uint32_t count_groups(const char *p, size_t n)
{
    uint32_t c = 0;
    bool in_class = false;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\\')
            i++;
        else if (p[i] == '[')
            in_class = true;
        else if (p[i] == ']')
            in_class = false;
        else if (p[i] == '(' && !in_class &&
                 (i + 1 >= n || p[i + 1] != '?' ||
                  (i + 3 < n && p[i + 2] == '<' && p[i + 3] != '=' && p[i + 3] != '!')))
            c++;
    }
    return c;
}

/* An escape at t->i (the backslash). */
static bool tr_escape(tr_t *t, bool in_class)
{
    if (t->i + 1 >= t->n)
        return tr_fail(t, "\\ at end of pattern");
    char d = t->p[t->i + 1];
    uint32_t cp;
    t->i++; /* at d */
    if ((d == 'B' && in_class) || (d == 'k' && (t->i + 1 >= t->n || t->p[t->i + 1] != '<'))) {
        t->i++; /* no assertion in a class, no \k without a name: the letter */
        return put(t, &d, 1);
    }
    switch (d) {
    case 'p':
    case 'P':
        return tr_property(t, d);
    case 'd': case 'D': case 'w': case 'W': case 'b': case 'B': case 'f': case 'n':
    case 'r': case 't': case 'c': case 'k': {
        char e[2] = { '\\', d };
        t->i++;
        return put(t, e, 2);
    }
    case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': case '8':
    case '9':
        return tr_decimal(t, in_class);
    case 's':
        t->i++;
        return in_class ? puts_(t, js_space) : (puts_(t, "[") && puts_(t, js_space) && puts_(t, "]"));
    case 'S':
        t->i++;
        /* inside a class PCRE2's own \S (ASCII white space) is the closest */
        return in_class ? puts_(t, "\\S") : (puts_(t, "[^") && puts_(t, js_space) && puts_(t, "]"));
    case 'v': t->i++; return put_cp(t, 0x0B);
    case 'x':
        if (hexv(t, t->i + 1) < 16 && hexv(t, t->i + 2) < 16) {
            cp = (uint32_t)(hexv(t, t->i + 1) * 16 + hexv(t, t->i + 2));
            t->i += 3;
            return put_cp(t, cp);
        }
        t->i++;
        return put(t, "x", 1);
    case 'u':
        if (tr_unicode(t, &cp))
            return put_cp(t, cp);
        t->i++;
        return put(t, "u", 1);
    default: break;
    }
    if ((d >= 'a' && d <= 'z') || (d >= 'A' && d <= 'Z') || (unsigned char)d >= 0x80) {
        /* an identity escape: PCRE2 would read \A, \Q, \h… as its own */
        size_t l = gl_utf8_decode(t->p, t->n, t->i, &cp);
        bool ok = put(t, t->p + t->i, l);
        t->i += l;
        return ok;
    }
    char e[2] = { '\\', d }; /* punctuation: escaped in both dialects */
    t->i++;
    return put(t, e, 2);
}

/* True when a quantifier {n}, {n,} or {n,m} starts at t->i; *end after it. */
static bool brace_quant(const tr_t *t, size_t *end)
{
    size_t j = t->i + 1, d1 = 0, d2 = 0;
    while (j < t->n && is_digit(t->p[j]))
        j++, d1++;
    if (!d1)
        return false;
    if (j < t->n && t->p[j] == ',')
        for (j++; j < t->n && is_digit(t->p[j]); j++)
            d2++;
    (void)d2;
    if (j >= t->n || t->p[j] != '}')
        return false;
    *end = j + 1;
    return true;
}

/* After a quantifier: a lazy '?' is kept, a possessive '+' is JavaScript's
 * "nothing to repeat". */
static bool tr_after_quant(tr_t *t)
{
    if (t->i < t->n && t->p[t->i] == '+')
        return tr_fail(t, "nothing to repeat");
    if (t->i < t->n && t->p[t->i] == '?') {
        t->i++;
        return put(t, "?", 1);
    }
    return true;
}

static bool tr_group(tr_t *t)
{
    const char *p = t->p + t->i;
    size_t left = t->n - t->i;
    if (left >= 2 && p[1] == '*')
        return tr_fail(t, "nothing to repeat");
    if (left < 2 || p[1] != '?') {
        t->i++;
        return put(t, "(", 1);
    }
    static const char *const ok[] = { "(?:", "(?=", "(?!", "(?<=", "(?<!" };
    for (size_t k = 0; k < GL_NELEM(ok); k++) {
        size_t l = strlen(ok[k]);
        if (left >= l && memcmp(p, ok[k], l) == 0) {
            t->i += l;
            return put(t, ok[k], l);
        }
    }
    if (left >= 4 && p[2] == '<' && (p[3] == '_' || ((p[3] | 0x20) >= 'a' && (p[3] | 0x20) <= 'z'))) {
        t->i += 3;
        return put(t, "(?<", 3); /* a named group: the name follows as is */
    }
    return tr_fail(t, "invalid group");
}

/* True when a class escape that stands for a set (\d \D \w \W \s \S \p \P)
 * starts at i. */
static bool class_set_at(const tr_t *t, size_t i)
{
    return i + 1 < t->n && t->p[i] == '\\' && strchr("dDwWsSpP", t->p[i + 1]) && t->p[i + 1];
}

/* A character class at t->i (the '['). */
static bool tr_class(tr_t *t)
{
    size_t j = t->i + 1;
    bool neg = j < t->n && t->p[j] == '^';
    if (neg)
        j++;
    if (j < t->n && t->p[j] == ']') { /* [] matches nothing, [^] anything */
        t->i = j + 1;
        return puts_(t, neg ? "[\\x{0}-\\x{10ffff}]" : "(?!)");
    }
    t->i = j;
    if (!puts_(t, neg ? "[^" : "["))
        return false;
    bool after_set = false; /* the last atom was \d, \w, \s, \p{…}… */
    while (t->i < t->n) {
        char c = t->p[t->i];
        if (c == ']') {
            t->i++;
            return put(t, "]", 1);
        }
        if (c == '-' && (after_set || class_set_at(t, t->i + 1))) {
            /* a range with a set at either end: the '-' is literal
             * (JavaScript's Annex B), where PCRE2 would refuse it */
            t->i++;
            after_set = false;
            if (!puts_(t, "\\-"))
                return false;
            continue;
        }
        if (c == '\\') {
            after_set = class_set_at(t, t->i);
            if (!tr_escape(t, true))
                return false;
            continue;
        }
        after_set = false;
        if (c == '[') { /* literal in JavaScript; PCRE2 reads [:alpha:] */
            t->i++;
            if (!puts_(t, "\\["))
                return false;
            continue;
        }
        if (!put(t, &c, 1))
            return false;
        t->i++;
    }
    return tr_fail(t, "unterminated character class");
}

/* Translates the pattern p[0..n) into o; false with a message in err. With
 * dotall (the s flag) `.` is left to PCRE2_DOTALL. */
bool gl__expr_regex_translate(const char *p, size_t n, bool dotall, gl_buf_t *o, char *err,
                              size_t err_n)
{
    tr_t t = { p, n, 0, o, err, err_n, false, count_groups(p, n) };
    bool ok = true;
    while (ok && t.i < n) {
        char c = p[t.i];
        size_t end;
        switch (c) {
        case '\\': ok = tr_escape(&t, false); break;
        case '[': ok = tr_class(&t); break;
        case '(': ok = tr_group(&t); break;
        case '.':
            t.i++;
            ok = dotall ? put(&t, ".", 1) : puts_(&t, "[^\\n\\r\\x{2028}\\x{2029}]");
            break;
        case '*':
        case '+':
        case '?':
            t.i++;
            ok = put(&t, &c, 1) && tr_after_quant(&t);
            break;
        case '{':
            if (brace_quant(&t, &end)) {
                ok = put(&t, p + t.i, end - t.i);
                t.i = end;
                ok = ok && tr_after_quant(&t);
            } else {
                t.i++;
                ok = puts_(&t, "\\{");
            }
            break;
        case '}':
            t.i++;
            ok = puts_(&t, "\\}");
            break;
        case '#': /* literal in both; escaped in case of (?x) */
            t.i++;
            ok = puts_(&t, "\\#");
            break;
        default:
            t.i++;
            ok = put(&t, &c, 1);
        }
    }
    return ok;
}

