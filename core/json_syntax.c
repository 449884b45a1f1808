/*
 * json_syntax.c: a strict RFC 8259 syntax check, run before json-c builds
 * objects. json-c's own "strict" mode still accepts single-quoted keys,
 * NaN/Infinity, "1.", raw control characters in strings and lone UTF-16
 * surrogates; this pass accepts exactly JSON, and also refuses \u0000, which
 * PostgreSQL's jsonb refuses too, so what passes here can be stored.
 *
 * One pass, no allocation; recursion is bounded by max_depth.
 */
#include "json.h"

#include <string.h>

typedef struct {
    const unsigned char *s;
    size_t n;
    size_t i;
    int depth;
    int max_depth;
    int deepest;    /* the deepest nesting seen */
    size_t members; /* object members seen */
    gl_err_t *err;
} parser_t;

static int fail(parser_t *p, const char *what)
{
    gl_err_field(p->err, "body", "invalid JSON at offset %zu: %s", p->i, what);
    return GL_INVALID;
}

static void skip_ws(parser_t *p)
{
    while (p->i < p->n) {
        unsigned char c = p->s[p->i];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            return;
        p->i++;
    }
}

static int hex4(parser_t *p, unsigned *out)
{
    if (p->n - p->i < 4)
        return fail(p, "truncated \\u escape");
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        unsigned char c = p->s[p->i++];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return fail(p, "bad hex digit in \\u escape");
    }
    *out = v;
    return GL_OK;
}

/* One UTF-8 sequence starting at p->i (first byte >= 0x80). */
static int utf8(parser_t *p)
{
    size_t len = gl_utf8_seq(p->s + p->i, p->n - p->i);
    if (len == 0)
        return fail(p, "invalid UTF-8");
    p->i += len;
    return GL_OK;
}

static int string(parser_t *p)
{
    p->i++; /* opening quote */
    while (p->i < p->n) {
        /* the usual run of plain ASCII, in a loop of its own */
        const unsigned char *s = p->s;
        size_t i = p->i, n = p->n;
        while (i < n && s[i] >= 0x20 && s[i] < 0x80 && s[i] != '"' && s[i] != '\\')
            i++;
        p->i = i;
        if (i >= n)
            break;
        unsigned char c = s[i];
        if (c == '"') {
            p->i++;
            return GL_OK;
        }
        if (c < 0x20)
            return fail(p, "control character in string (escape it)");
        if (c >= 0x80) {
            if (utf8(p) != GL_OK)
                return GL_INVALID;
            continue;
        }
        p->i++;
        if (c != '\\')
            continue;
        if (p->i >= p->n)
            break;
        c = p->s[p->i++];
        if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' || c == 'r' ||
            c == 't')
            continue;
        if (c != 'u')
            return fail(p, "invalid escape in string");
        unsigned u;
        if (hex4(p, &u) != GL_OK)
            return GL_INVALID;
        if (u == 0)
            return fail(p, "\\u0000 is not allowed in strings");
        if (u >= 0xdc00 && u <= 0xdfff)
            return fail(p, "unpaired UTF-16 surrogate");
        if (u >= 0xd800 && u <= 0xdbff) {
            if (p->n - p->i < 2 || p->s[p->i] != '\\' || p->s[p->i + 1] != 'u')
                return fail(p, "unpaired UTF-16 surrogate");
            p->i += 2;
            if (hex4(p, &u) != GL_OK)
                return GL_INVALID;
            if (u < 0xdc00 || u > 0xdfff)
                return fail(p, "unpaired UTF-16 surrogate");
        }
    }
    return fail(p, "unterminated string");
}

static bool digit(parser_t *p)
{
    return p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9';
}

/*
 * Numbers must also be ones the rest of the system keeps exactly: integers
 * within 64 bits (json-c would clamp larger ones), others with at most 40
 * significant digits and an exponent from -324 to 308 (a double, the
 * subnormal ones included). A 20-byte "1e131071" would otherwise be stored
 * and re-rendered as 131,074 digits.
 */
static int number(parser_t *p)
{
    size_t start = p->i;
    bool neg = false, fraction = false;
    if (p->s[p->i] == '-') {
        neg = true;
        p->i++;
    }
    if (!digit(p))
        return fail(p, "expected a digit");
    size_t int_start = p->i;
    if (p->s[p->i] == '0')
        p->i++;
    else
        while (digit(p))
            p->i++;
    size_t int_digits = p->i - int_start, digits = int_digits;
    if (p->i < p->n && p->s[p->i] == '.') {
        fraction = true;
        p->i++;
        if (!digit(p))
            return fail(p, "expected a digit after the decimal point");
        while (digit(p)) {
            p->i++;
            digits++;
        }
    }
    long exp = 0;
    bool has_exp = false;
    if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
        has_exp = true;
        p->i++;
        bool eneg = false;
        if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-'))
            eneg = p->s[p->i++] == '-';
        if (!digit(p))
            return fail(p, "expected a digit in the exponent");
        while (digit(p)) {
            if (exp < 100000)
                exp = exp * 10 + (p->s[p->i] - '0');
            p->i++;
        }
        if (eneg)
            exp = -exp;
    }
    if (!fraction && !has_exp) {
        /* an integer: within int64 */
        static const char max_pos[] = "9223372036854775807", max_neg[] = "9223372036854775808";
        const char *lim = neg ? max_neg : max_pos;
        if (int_digits > 19 || (int_digits == 19 && memcmp(p->s + int_start, lim, 19) > 0)) {
            p->i = start;
            return fail(p, "integer out of the 64-bit range");
        }
        return GL_OK;
    }
    if (digits > 40 || exp > 308 || exp < -324) {
        p->i = start;
        return fail(p, "number out of range (at most 40 digits and an exponent from -324 to 308)");
    }
    return GL_OK;
}

static int literal(parser_t *p, const char *word)
{
    for (const char *w = word; *w; w++, p->i++)
        if (p->i >= p->n || p->s[p->i] != (unsigned char)*w)
            return fail(p, "unexpected character");
    return GL_OK;
}

static int value(parser_t *p);

/* Arrays and objects: open, elements separated by commas, close. */
static int container(parser_t *p, bool object)
{
    if (++p->depth > p->deepest)
        p->deepest = p->depth;
    if (p->depth > p->max_depth) {
        gl_err_field(p->err, "body", "JSON nested deeper than %d levels", p->max_depth);
        return GL_TOO_LARGE;
    }
    unsigned char close = object ? '}' : ']';
    p->i++;
    skip_ws(p);
    if (p->i < p->n && p->s[p->i] == close) {
        p->i++;
        p->depth--;
        return GL_OK;
    }
    for (;;) {
        skip_ws(p);
        if (object) {
            if (p->i >= p->n || p->s[p->i] != '"')
                return fail(p, "expected a double-quoted property name");
            if (string(p) != GL_OK)
                return GL_INVALID;
            skip_ws(p);
            if (p->i >= p->n || p->s[p->i] != ':')
                return fail(p, "expected ':'");
            p->i++;
            p->members++;
            skip_ws(p);
        }
        int rc = value(p);
        if (rc != GL_OK)
            return rc;
        skip_ws(p);
        if (p->i >= p->n)
            return fail(p, "unexpected end of input");
        if (p->s[p->i] == ',') {
            p->i++;
            continue;
        }
        if (p->s[p->i] == close) {
            p->i++;
            p->depth--;
            return GL_OK;
        }
        return fail(p, object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static int value(parser_t *p)
{
    if (p->i >= p->n)
        return fail(p, "unexpected end of input");
    switch (p->s[p->i]) {
    case '{': return container(p, true);
    case '[': return container(p, false);
    case '"': return string(p);
    case 't': return literal(p, "true");
    case 'f': return literal(p, "false");
    case 'n': return literal(p, "null");
    default:
        if (p->s[p->i] == '-' || (p->s[p->i] >= '0' && p->s[p->i] <= '9'))
            return number(p);
        return fail(p, "unexpected character");
    }
}

int gl_json_check(const char *text, size_t len, int max_depth, gl_err_t *err)
{
    return gl_json_check_nesting(text, len, max_depth, NULL, err);
}

int gl_json_check_nesting(const char *text, size_t len, int max_depth, int *nesting, gl_err_t *err)
{
    parser_t p = { (const unsigned char *)text, len, 0, 0, max_depth, 0, 0, err };
    skip_ws(&p);
    if (p.i == p.n) {
        gl_err_field(err, "body", "invalid JSON: empty document");
        return GL_INVALID;
    }
    int rc = value(&p);
    if (rc != GL_OK)
        return rc;
    skip_ws(&p);
    if (p.i != p.n)
        return fail(&p, "unexpected data after the value");
    if (nesting)
        *nesting = p.deepest;
    return GL_OK;
}

bool gl_json_member_text(const char *text, size_t len, const char *key, int max_depth, const char **at, size_t *n,
                         size_t *members)
{
    gl_err_t err;
    gl_err_clear(&err);
    parser_t p = { (const unsigned char *)text, len, 0, 0, max_depth, 0, 0, &err };
    size_t klen = strlen(key);
    bool found = false;
    skip_ws(&p);
    if (p.i >= p.n || p.s[p.i] != '{')
        return false;
    p.depth = 1;
    p.i++;
    skip_ws(&p);
    if (p.i < p.n && p.s[p.i] == '}')
        return false; /* {} */
    for (;;) {
        skip_ws(&p);
        if (p.i >= p.n || p.s[p.i] != '"')
            return false;
        size_t k0 = p.i + 1;
        if (string(&p) != GL_OK)
            return false;
        size_t k1 = p.i - 1; /* the closing quote */
        if (memchr(text + k0, '\\', k1 - k0))
            return false; /* an escaped name might be key: not compared, not guessed */
        bool match = k1 - k0 == klen && memcmp(text + k0, key, klen) == 0;
        skip_ws(&p);
        if (p.i >= p.n || p.s[p.i] != ':')
            return false;
        p.i++;
        skip_ws(&p);
        size_t v0 = p.i, m0 = p.members;
        if (value(&p) != GL_OK)
            return false;
        if (match) { /* the last of duplicates, as json-c and jsonb keep */
            found = true;
            *at = text + v0;
            *n = p.i - v0;
            if (members)
                *members = p.members - m0;
        }
        skip_ws(&p);
        if (p.i < p.n && p.s[p.i] == ',') {
            p.i++;
            continue;
        }
        if (p.i >= p.n || p.s[p.i] != '}')
            return false;
        p.i++;
        skip_ws(&p);
        return found && p.i == p.n;
    }
}
