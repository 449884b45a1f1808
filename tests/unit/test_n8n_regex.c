/*
 * test_n8n_regex.c: regular expressions (JavaScript's syntax through PCRE2),
 * the string methods that take them, and n8n's string extensions. Each row
 * is an expression and either its result as JSON text or a substring of
 * the expected error; each group names the n8n or JavaScript behaviour it
 * reproduces. Every row must also end within BOUND_MS (the hostile ones
 * with their error), a safety net far above what a row takes.
 */
#include "engine.h"
#include "gl_test.h"
#include "json.h"

#include <time.h>

#ifdef __SANITIZE_ADDRESS__
#define BOUND_MS 10000
#else
#define BOUND_MS 2000
#endif

#define COMPLEX "regular expression too complex"
#define STEPS "expression exceeds 100000 steps"

typedef struct {
    const char *src;
    const char *want; /* JSON text of the result, or NULL when an error is expected */
    const char *err;  /* substring of err.msg */
} row_t;

#define OK(s, w) { s, w, NULL }
#define ERR(s, e) { s, NULL, e }

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static json_object *jstr_fill(char c, size_t n, const char *tail)
{
    size_t t = strlen(tail);
    char *s = malloc(n + t + 1);
    ASSERT(s);
    memset(s, c, n);
    memcpy(s + n, tail, t + 1);
    json_object *j = json_object_new_string_len(s, (int)(n + t));
    free(s);
    return j;
}

static json_object *fx_json;

static gl_expr_ctx_t make_ctx(void)
{
    if (!fx_json) {
        gl_err_t err;
        static const char text[] =
            "{\"email\":\"Contact: ada@example.com, bob@test.org\",\"date\":\"2026-01-31\","
            "\"csv\":\"a, b,c ,d\",\"multi\":\"one\\ntwo\\nthree\",\"name\":\"Zoë Łukasz\","
            "\"price\":\"$1,234.50\",\"empty\":\"\",\"n\":42}";
        gl_err_clear(&err);
        if (gl_json_parse(text, strlen(text), 64, &fx_json, &err) != GL_OK)
            FAIL_AT("fixture: %s", err.msg);
        json_object_object_add(fx_json, "evil30", jstr_fill('a', 30, "b"));
        json_object_object_add(fx_json, "evil5k", jstr_fill('a', 5000, "!"));
        json_object_object_add(fx_json, "big", jstr_fill('a', (size_t)1 << 20, ""));
        json_object_object_add(fx_json, "spaces", jstr_fill(' ', 100000, "x"));
    }
    gl_expr_ctx_t c;
    memset(&c, 0, sizeof c);
    c.json = fx_json;
    c.now_ms = 1795635233123LL; /* 2026-11-25T19:33:53.123Z */
    return c;
}

static const char *text(json_object *o)
{
    return o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN) : "null";
}

static int check(const row_t *r, const gl_expr_ctx_t *ctx, size_t i)
{
    json_object *out = NULL;
    gl_err_t err;
    gl_err_clear(&err);
    double t0 = now_ms();
    int rc = gl_expr_eval(r->src, ctx, &out, &err);
    double took = now_ms() - t0;
    int failures = 0;
    if (getenv("GL_TEST_TIMES"))
        fprintf(stderr, "%8.1f ms  %.70s\n", took, r->src);
    if (took > BOUND_MS) {
        fprintf(stderr, "row %zu: %.80s\n  took %.0f ms, more than %d ms\n", i, r->src, took,
                BOUND_MS);
        failures++;
    }
    if (r->want) {
        json_object *want = NULL;
        gl_err_t jerr;
        if (gl_json_parse(r->want, strlen(r->want), 64, &want, &jerr) != GL_OK)
            FAIL_AT("row %zu: bad JSON in the row: %s", i, r->want);
        if (rc != GL_OK || !json_object_equal(out, want)) {
            fprintf(stderr, "row %zu: %.100s\n  want %s\n  got rc %d %s %.200s\n", i, r->src,
                    r->want, rc, err.msg, rc == GL_OK ? text(out) : "");
            failures++;
        }
        json_object_put(want);
    } else if (rc != GL_INVALID || !strstr(err.msg, r->err)) {
        fprintf(stderr, "row %zu: %.100s\n  want error containing \"%s\"\n  got rc %d \"%s\" %.80s\n",
                i, r->src, r->err, rc, err.msg, rc == GL_OK ? text(out) : "");
        failures++;
    }
    json_object_put(out);
    return failures;
}

static void run(const row_t *rows, size_t n)
{
    gl_expr_ctx_t ctx = make_ctx();
    int failures = 0;
    for (size_t i = 0; i < n; i++)
        failures += check(&rows[i], &ctx, i);
    json_object_put(fx_json);
    fx_json = NULL;
    if (failures)
        FAIL_AT("%d of %zu rows failed", failures, n);
}

/* RegExp literals and objects: MDN's RegExp reference, n8n expressions
 * that test and exec */
TEST(regex_values)
{
    static const row_t rows[] = {
        OK("/ab+c/.test('xabbbc')", "true"),
        OK("/ab+c/.test('ac')", "false"),
        OK("/AB/i.test('xaby')", "true"),
        OK("/^b/m.test('a\\nb')", "true"),
        OK("/^b/.test('a\\nb')", "false"),
        OK("/a.b/.test('a\\nb')", "false"),
        OK("/a.b/s.test('a\\nb')", "true"),
        OK("/a$/.test('a\\n')", "false"),       /* $ is the end only, not before a final \n */
        OK("/a$/m.test('a\\nb')", "true"),
        OK("/a/g.source", "\"a\""),
        OK("/a/gimsuy.flags", "\"gimsuy\""),
        OK("/a/yig.flags", "\"giy\""),            /* canonical order */
        OK("/a/g.global", "true"),
        OK("/a/.global", "false"),
        OK("/a/i.ignoreCase", "true"),
        OK("/a/m.multiline", "true"),
        OK("/a/s.dotAll", "true"),
        OK("/a/u.unicode", "true"),
        OK("/a/y.sticky", "true"),
        OK("/a/.lastIndex", "0"),
        OK("/a\\/b/.source", "\"a\\\\/b\""),
        OK("/[/]/.test('a/b')", "true"),           /* a class may hold an unescaped slash */
        OK("/[/]/.source", "\"[/]\""),
        OK("/a/g.toString()", "\"/a/g\""),
        OK("'' + /x+/i", "\"/x+/i\""),
        OK("`${/a/}`", "\"/a/\""),
        OK("typeof /a/", "\"object\""),
        OK("JSON.stringify(/a/)", "\"{}\""),
        OK("JSON.stringify({r: /a/})", "\"{\\\"r\\\":{}}\""),
        OK("/a/", "{}"),
        OK("!!/a/", "true"),
        OK("4 / 2 / 1", "2"),                       /* division is still division */
        OK("[8][0] / 2", "4"),
        OK("(8) /2/ 2", "2"),
        OK("/=/.test('a=b')", "true"),             /* a literal may start with = */
        OK("/a/.exec('xay')", "[\"a\"]"),
        OK("/(\\d+)-(\\d+)/.exec('tel 12-345 x')", "[\"12-345\",\"12\",\"345\"]"),
        OK("/(\\d+)-(\\d+)/.exec('tel 12-345 x').index", "4"),
        OK("/(\\d+)-(\\d+)/.exec('tel 12-345 x').input", "\"tel 12-345 x\""),
        OK("/(a)|(b)/.exec('b')", "[\"b\",null,\"b\"]"),
        OK("/x/.exec('abc')", "null"),
        OK("/(?<year>\\d{4})-(?<month>\\d{2})/.exec('on 2026-11-25').groups",
           "{\"year\":\"2026\",\"month\":\"11\"}"),
        OK("/(?<year>\\d{4})/.exec('in 1999').groups.year", "\"1999\""),
        OK("/(\\d)/.exec('a1').groups", "null"),
        OK("/é/.exec('caféé').index", "3"),        /* indices count code points */
        OK("/b/y.test('ab')", "false"),            /* sticky: only at lastIndex 0 */
        OK("/a/y.test('ab')", "true"),
        OK("/\\u00e9/.test('é')", "true"),
        OK("/\\u{1F600}/u.test('x😀')", "true"),
        OK("/\\ud83d\\ude00/.test('😀')", "true"),  /* a surrogate pair in two escapes */
        OK("/^.$/u.test('😀')", "true"),
        OK("/^.$/.test('😀')", "true"),            /* strings are code points here, not UTF-16 */
        OK("/\\x41/.test('A')", "true"),
        OK("/\\x4/.test('x4')", "true"),           /* \\x without two hex digits is an x */
        OK("/\\0/.test('a\\0b')", "true"),
        OK("/a\\vb/.test('a\\u000bb')", "true"),   /* \\v is the vertical tab, not PCRE2's class */
        OK("/\\s/.test('\\u00a0')", "true"),       /* JavaScript's \\s has the Unicode spaces */
        OK("/\\s/.test('\\ufeff')", "true"),
        OK("/\\S/.test('\\u2003')", "false"),
        OK("/[\\s]/.test('\\u3000')", "true"),
        OK("/\\d/.test('٣')", "false"),            /* \\d is ASCII */
        OK("/\\w/.test('é')", "false"),            /* \\w is ASCII */
        OK("/\\bfoo\\b/.test('a foo b')", "true"),
        OK("/\\p{L}+/u.exec('123 Zoë!')[0]", "\"Zoë\""),
        OK("/\\p{Lu}/u.test('a')", "false"),
        OK("/ZOË/i.test('zoë')", "true"),          /* case folding beyond ASCII */
        OK("/[^]/.test('\\n')", "true"),           /* [^] is any character */
        OK("/a[]/.test('a')", "false"),            /* [] matches nothing */
        OK("/[[]/.test('[')", "true"),             /* [ is literal inside a class */
        OK("/[a-c]+/.exec('xxbcay')[0]", "\"bca\""),
        OK("/\\A/.test('A')", "true"),             /* identity escapes, not PCRE2's \\A */
        OK("/\\Q/.test('Q')", "true"),
        OK("/a{2}/.test('aa')", "true"),
        OK("/a{,2}/.test('a{,2}')", "true"),       /* not a quantifier: literal */
        OK("/a{2,}?/.exec('aaaa')[0]", "\"aa\""),
        OK("/x*?y/.exec('xxy')[0]", "\"xxy\""),
        OK("/(?<=\\$)\\d+/.exec('cost $42')[0]", "\"42\""),
        OK("/(?<!\\$)\\b\\d+/.exec('$42 17')[0]", "\"17\""),
        OK("/\\d+(?=%)/.exec('7 of 50%')[0]", "\"50\""),
        OK("/\\d+(?!%)/.exec('50% 7')[0]", "\"5\""),
        OK("/(a)\\1/.test('aa')", "true"),
        OK("/(?<q>['\"]).*?\\k<q>/.exec(\"say 'hi' now\")[0]", "\"'hi'\""),
        OK("/a#b/.test('a#b')", "true"),
        OK("/\\p{Script=Greek}+/u.exec('abc αβγ')[0]", "\"αβγ\""),
        OK("/\\P{L}+/u.exec('ab12cd')[0]", "\"12\""),
        OK("/\\p{General_Category=Nd}/u.test('7')", "true"),
        ERR("/a/x", "invalid regular expression flag 'x'"),
        ERR("/a/gg", "invalid regular expression flag 'g'"),
        ERR("/abc", "unterminated regular expression"),
        ERR("/a[/", "unterminated regular expression"),
        ERR("/(/.test('a')", "Invalid regular expression: /(/"),
        ERR("/a**/.test('a')", "Invalid regular expression"),
        ERR("/a++/.test('a')", "nothing to repeat"),         /* possessive: not JavaScript */
        ERR("/(?>a)/.test('a')", "invalid group"),            /* atomic group: not JavaScript */
        ERR("/(?R)/.test('a')", "invalid group"),
        ERR("/(*LIMIT_MATCH=9)a/.test('a')", "nothing to repeat"),
        ERR("/(?i)a/.test('a')", "invalid group"),
        ERR("/\\01/.test('a')", "octal escapes are not supported"),
        ERR("/a/.nope('a')", "a RegExp has no method 'nope'"),
    };
    run(rows, GL_NELEM(rows));
}

TEST_MAIN()
