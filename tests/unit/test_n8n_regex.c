/*
 * test_n8n_regex.c: regular expressions (JavaScript's syntax through PCRE2),
 * the string methods that take them, and n8n's string extensions. Each row
 * is an expression and either its result as JSON text or a substring of
 * the expected error; each group names the n8n or JavaScript behaviour it
 * reproduces. Every row must also end within BOUND_MS (the hostile ones
 * with their error), a safety net far above what a row takes.
 */
#include "engine.h"
#include "expr_int.h"
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
#define TOO_BIG "expression result exceeds 1048576 bytes"

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
        /* a range with a set at one end: the '-' is literal (Annex B) */
        OK("'a-b.c@x.io'.match(/[\\w-\\.]+@/)[0]", "\"a-b.c@\""),
        OK("'a-1x'.match(/[\\d-x]+/g)", "[\"-1x\"]"),
        OK("'a b-z'.match(/[\\s-z]+/g)", "[\" \",\"-z\"]"),
        OK("'-'.match(/[a-\\d]/)[0]", "\"-\""),
        OK("/[\\w-]+/.exec('ab-c d')[0]", "\"ab-c\""),
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
        OK("/[\\B]/.test('B')", "true"),
        OK("/\\k/.test('k')", "true"),
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
        OK("/\\101/.test('A')", "true"),          /* legacy octal: no 101 groups */
        OK("/\\01/.test('\\u0001')", "true"),
        OK("/\\8/.test('8')", "true"),            /* \\8 without 8 groups: the digit */
        OK("/(a)\\1/.test('aa')", "true"),
        OK("/[\\B]/.test('B')", "true"),
        OK("/\\k/.test('k')", "true"),
        OK("/\\1(a)/.test('a')", "true"),          /* a reference before its group: empty */
        OK("/[\\1]/.test('\\u0001')", "true"),    /* in a class: octal */
        OK("/(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)\\10/.test('abcdefghijj')", "true"),
        OK("/(a)\\10/.test('a\\b')", "true"),       /* one group: \\10 is octal 010 */
        ERR("/a/.nope('a')", "a RegExp has no method 'nope'"),
    };
    run(rows, GL_NELEM(rows));
}

/* String.prototype methods with regexes: MDN's replace, replaceAll, match,
 * matchAll, split and search pages (GetSubstitution's $ patterns) */
TEST(string_methods)
{
    static const row_t rows[] = {
        OK("'a-b-c'.replace(/-/, '+')", "\"a+b-c\""),
        OK("'a-b-c'.replace(/-/g, '+')", "\"a+b+c\""),
        OK("'John Smith'.replace(/(\\w+)\\s(\\w+)/, '$2, $1')", "\"Smith, John\""),
        OK("'abc'.replace(/b/, '[$&]')", "\"a[b]c\""),
        OK("'abc'.replace(/b/, '[$`]')", "\"a[a]c\""),
        OK("'abc'.replace(/b/, \"[$']\")", "\"a[c]c\""),
        OK("'abc'.replace(/b/, '$$')", "\"a$c\""),
        OK("'abc'.replace(/(b)/, '$2')", "\"a$2c\""),   /* no group 2: literal */
        OK("'abc'.replace(/(b)/, '$0')", "\"a$0c\""),
        OK("'abc'.replace(/(b)/, '$01')", "\"abc\""),    /* $01 is group 1 */
        OK("'abc'.replace(/(b)/, '$10')", "\"ab0c\""),   /* $10 with one group: $1 then 0 */
        OK("'abcdefghijk'.replace(/(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)/, '$11$10')", "\"kj\""),
        OK("'abc'.replace(/(x)?b/, '[$1]')", "\"a[]c\""), /* an unset group is empty */
        OK("'2026-11-25'.replace(/(?<y>\\d+)-(?<m>\\d+)-(?<d>\\d+)/, '$<d>.$<m>.$<y>')",
           "\"25.11.2026\""),
        OK("'ab'.replace(/(?<x>a)/, '$<nope>')", "\"b\""),
        OK("'ab'.replace(/(a)/, '$<x>')", "\"$<x>b\""),  /* no named groups: literal */
        OK("'ab'.replace(/(?<x>a)/, '$<x')", "\"$<xb\""),
        OK("'abc'.replace(/x*/g, '-')", "\"-a-b-c-\""),   /* empty matches advance */
        OK("'😀😀'.replace(/(?:)/g, '-')", "\"-😀-😀-\""),
        OK("'aaa'.replace(/a/gy, 'b')", "\"bbb\""),
        OK("'xaa'.replace(/a/gy, 'b')", "\"xaa\""),       /* sticky: only from the start */
        OK("'Hello World'.replace(/o/gi, '0')", "\"Hell0 W0rld\""),
        OK("'a.b.c'.replace('.', '!')", "\"a!b.c\""),     /* a string pattern is not a regex */
        OK("'a-b-c'.replaceAll(/-/g, '+')", "\"a+b+c\""),
        OK("'a-b-c'.replaceAll('-', '+')", "\"a+b+c\""),
        ERR("'a-b'.replaceAll(/-/, '+')", "TypeError: replaceAll must be called with a global RegExp"),
        OK("'line1\\nline2'.replace(/^/gm, '> ')", "\"> line1\\n> line2\""),
        OK("'café'.replace(/é/, 'e')", "\"cafe\""),
        OK("$json.csv.split(/\\s*,\\s*/)", "[\"a\",\"b\",\"c\",\"d\"]"),
        OK("'a1b2c3'.split(/\\d/)", "[\"a\",\"b\",\"c\",\"\"]"),
        OK("'a1b2c3'.split(/(\\d)/)", "[\"a\",\"1\",\"b\",\"2\",\"c\",\"3\",\"\"]"),
        OK("'a1b2c3'.split(/(\\d)/, 3)", "[\"a\",\"1\",\"b\"]"),
        OK("'a1b2c3'.split(/\\d/, 0)", "[]"),
        OK("'abc'.split(/(?:)/)", "[\"a\",\"b\",\"c\"]"),
        OK("''.split(/,/)", "[\"\"]"),
        OK("''.split(/(?:)/)", "[]"),
        OK("'a,b'.split(/(,)|(;)/)", "[\"a\",\",\",null,\"b\"]"),
        OK("'😀x😀'.split(/x/)", "[\"😀\",\"😀\"]"),
        OK("'ab'.split(/a*?/)", "[\"a\",\"b\"]"),
        OK("'ab'.split(/a*/)", "[\"\",\"b\"]"),
        OK("'one two  three'.split(/\\s+/)", "[\"one\",\"two\",\"three\"]"),
        OK("'a,b'.split(',')", "[\"a\",\"b\"]"),          /* a string separator is no regex */
        OK("'a.b'.split('.')", "[\"a\",\"b\"]"),
        OK("$json.email.match(/[\\w.]+@[\\w.]+/g)", "[\"ada@example.com\",\"bob@test.org\"]"),
        OK("$json.email.match(/(\\w+)@(\\w+)/)", "[\"ada@example\",\"ada\",\"example\"]"),
        OK("$json.email.match(/(\\w+)@(\\w+)/).index", "9"),
        OK("'abc'.match(/x/)", "null"),
        OK("'abc'.match(/x/g)", "null"),
        OK("'abc'.match(/(?:)/g)", "[\"\",\"\",\"\",\"\"]"),
        OK("'a.c'.match('.')", "[\"a\"]"),                /* a string is made a regex */
        OK("'abc'.match()", "[\"\"]"),
        OK("'x1y22'.match(/\\d+/g).length", "2"),
        OK("'test1test2'.matchAll(/t(e)(st(\\d?))/g)",
           "[[\"test1\",\"e\",\"st1\",\"1\"],[\"test2\",\"e\",\"st2\",\"2\"]]"),
        OK("'test1test2'.matchAll(/t(e)(st(\\d?))/g)[1].index", "5"),
        OK("'a1b2'.matchAll('\\\\d')", "[[\"1\"],[\"2\"]]"),
        OK("'abc'.matchAll(/x/g)", "[]"),
        ERR("'abc'.matchAll(/b/)", "TypeError: matchAll must be called with a global RegExp"),
        OK("'hello world'.search(/o/)", "4"),
        OK("'hello world'.search(/x/)", "-1"),
        OK("'héllo wörld'.search(/w/)", "6"),
        OK("'a.b'.search('.')", "0"),
        OK("'ab'.search(/b/g)", "1"),                     /* search ignores g */
        OK("/(\\d+)/.exec($json.n)", "[\"42\",\"42\"]"), /* the subject is ToString'd */
        OK("/null/.test(null)", "true"),
        OK("$json.multi.match(/^t\\w+$/gm)", "[\"two\",\"three\"]"),
        OK("$json.multi.replace(/\\n/g, ' | ')", "\"one | two | three\""),
        OK("$json.price.replace(/[^\\d.]/g, '')", "\"1234.50\""),
        OK("$json.name.match(/\\p{Lu}/gu)", "[\"Z\",\"Ł\"]"),
        OK("'x'.replace(/x/, '$')", "\"$\""),
        OK("'x'.replace(/x/, 'a$')", "\"a$\""),
        /* JavaScript string methods n8n expressions use */
        OK("'e\\u0301'.normalize()", "\"\\u00e9\""),
        OK("'\\u00e9'.normalize('NFD').length", "2"),
        OK("'ﬁ'.normalize('NFKC')", "\"fi\""),
        ERR("'a'.normalize('x')", "RangeError"),
        OK("'a'.localeCompare('b')", "-1"),
        OK("'b'.localeCompare('a')", "1"),
        OK("'a'.localeCompare('a')", "0"),
        OK("'a'.localeCompare('B')", "-1"),          /* not code point order */
        OK("'résumé'.localeCompare('resume')", "1"), /* accents only break ties */
        OK("'résumé'.localeCompare('resumes')", "-1"),
        OK("'a'.localeCompare('A')", "-1"),          /* lower case first */
        OK("'ab'.localeCompare('a')", "1"),
        OK("'abc'.toLocaleUpperCase()", "\"ABC\""),
        OK("'ÀB'.toLocaleLowerCase()", "\"àb\""),
        OK("'  a  '.trimLeft() + '|' + '  a  '.trimRight()", "\"a  |  a\""),
    };
    run(rows, GL_NELEM(rows));
}

/* Hostile patterns and subjects: each ends within the bounds, with its
 * result or with the clear error (n8n runs JavaScript's backtracking
 * engine, which would hang on these) */
TEST(hostile)
{
    static const row_t rows[] = {
        ERR("/(a+)+$/.test($json.evil30)", COMPLEX),
        /* PCRE2 sees at once that a required character is missing */
        OK("/(a|a)*b$/.test($json.evil30.slice(0, -1) + 'c')", "false"),
        ERR("/(a|a)*(?:b|c)$/.test($json.evil30.slice(0, -1) + 'd')", COMPLEX),
        ERR("/(a|aa)+$/.test($json.evil5k)", COMPLEX),
        ERR("/(.*a){20}/.test($json.evil30.repeat(2))", COMPLEX),
        ERR("/^(\\w+\\s?)*$/.test('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!')", COMPLEX),
        OK("/(x+x+)+y/.test('xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx')", "false"),
        ERR("/(x+x+)+(?:y|z)/.test('xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx')", COMPLEX),
        ERR("$json.evil30.replace(/(a+)+$/g, 'x')", COMPLEX),
        ERR("$json.evil30.split(/(a+)+$/)", COMPLEX),
        ERR("$json.evil30.match(/(a+)+$/g)", COMPLEX),
        ERR("$json.evil30.search(/(a*)*$/)", COMPLEX),
        /* linear patterns on a 1 MiB subject: pay for the bytes, fine */
        OK("/b/.test($json.big)", "false"),
        OK("/a$/.test($json.big)", "true"),
        OK("$json.big.search(/b/)", "-1"),
        OK("$json.big.replace(/a+/, 'x')", "\"x\""),
        ERR("$json.big.match(/a+/)", TOO_BIG), /* the match and the input: over 1 MiB */
        /* many matches: each one costs steps */
        ERR("$json.big.replace(/a/g, 'b')", STEPS),
        ERR("$json.big.match(/a/g)", STEPS),
        ERR("$json.big.split(/(?:)/)", STEPS),
        ERR("$json.big.matchAll(/a/g)", TOO_BIG),
        OK("$json.spaces.replace(/\\s+x/g, '')", "\"\""), /* quadratic in JavaScript */
        OK("$json.spaces.replace(/\\s+(?:x|y)$/g, '')", "\"\""),
        /* big alternations and nesting */
        ERR("/((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((a))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))/.test('a')",
            "Invalid regular expression"),
        ERR("/(?:a{1000}){1000}{1000}/.test('a')", "Invalid regular expression"),
        ERR("$json.evil5k.replace(/(?:a|b|c|d|e|aa|bb|cc|dd|ee)*(?:!x|y)/g, '')", COMPLEX),
    };
    run(rows, GL_NELEM(rows));
}

/* n8n's string extensions: n8n's StringExtensions.test.ts and the examples
 * of string-extensions.ts */
TEST(n8n_extensions)
{
    static const row_t rows[] = {
        /* isEmpty, isNotEmpty, isBlank, isNotBlank, length */
        OK("'NotBlank'.isEmpty()", "false"),
        OK("''.isEmpty()", "true"),
        OK("'NotBlank'.isNotEmpty()", "true"),
        OK("''.isNotEmpty()", "false"),
        OK("'   '.isBlank()", "true"),
        OK("''.isBlank()", "true"),
        OK("'  hello  '.isBlank()", "false"),
        OK("'  hello  '.isNotBlank()", "true"),
        OK("'   '.isNotBlank()", "false"),
        OK("'String'.length()", "6"),
        OK("'Zoë'.length()", "3"),
        /* hash */
        OK("'12345'.hash('base64')", "\"MTIzNDU=\""),
        OK("'12345'.hash('md5')", "\"827ccb0eea8a706c4c34a16891f84e7b\""),
        OK("'12345'.hash()", "\"827ccb0eea8a706c4c34a16891f84e7b\""),
        OK("'hello'.hash()", "\"5d41402abc4b2a76b9719d911017c592\""),
        OK("'12345'.hash('sha1')", "\"8cb2237d0679ca88db6464eac60da96345513964\""),
        OK("'12345'.hash('SHA1')", "\"8cb2237d0679ca88db6464eac60da96345513964\""),
        OK("'12345'.hash('sha224')", "\"a7470858e79c282bc2f6adfd831b132672dfd1224c1e78cbf5bcd057\""),
        OK("'12345'.hash('sha256')",
           "\"5994471abb01112afcc18159f6cc74b4f511b99806da59b3caf5a9c173cacfc5\""),
        OK("'12345'.hash('sha384')",
           "\"0fa76955abfa9dafd83facca8343a92aa09497f98101086611b0bfa95dbc0dcc661d62e9568a5a032ba81960f3e55d4a\""),
        OK("'12345'.hash('sha512')",
           "\"3627909a29c31381a071ec27f7c9ca97726182aed29a7ddd2e54353322cfb30abb9e3a6df2ac2c20fe23436311d678564d0c8d305930575f60e2d3d048184d79\""),
        OK("'12345'.hash('sha3')",
           "\"0a2a1719bf3ce682afdbedf3b23857818d526efbe7fcb372b31347c26239a0f916c398b7ad8dd0ee76e8e388604d0b0f925d5e913ad2d3165b9b35b3844cd5e6\""),
        ERR("'12345'.hash('invalid')", "Unknown algorithm invalid"),
        /* urlEncode, urlDecode */
        OK("'string with spaces'.urlEncode(false)", "\"string%20with%20spaces\""),
        OK("'string%20with%20spaces'.urlDecode(false)", "\"string with spaces\""),
        OK("'name=Nathan Automat'.urlEncode()", "\"name%3DNathan%20Automat\""),
        OK("'name=Nathan Automat'.urlEncode(true)", "\"name=Nathan%20Automat\""),
        OK("'name%3DNathan%20Automat'.urlDecode()", "\"name=Nathan Automat\""),
        OK("'name%3DNathan%20Automat'.urlDecode(true)", "\"name%3DNathan Automat\""),
        OK("'é ✓'.urlEncode()", "\"%C3%A9%20%E2%9C%93\""),
        OK("'%C3%A9'.urlDecode()", "\"é\""),
        ERR("'%E0%A4%A'.urlDecode()", "URI malformed"),
        ERR("'%FF'.urlDecode()", "URI malformed"),
        /* removeTags, removeMarkdown */
        OK("'<html><head>test</head></html>'.removeTags()", "\"test\""),
        OK("'<b>bold</b>, <a>link</a>'.removeTags()", "\"bold, link\""),
        OK("'<html><head>test</head></html>'.removeMarkdown()", "\"test\""),
        OK("'*bold*, [link]()'.removeMarkdown()", "\"bold, link\""),
        OK("'# Title\\n\\nSome **strong** `code`'.removeMarkdown()", "\"Title\\n\\nSome strong code\""),
        OK("'- item one\\n- item two'.removeMarkdown()", "\"item one\\nitem two\""),
        /* toDate, toDateTime */
        OK("'2022-09-01T19:42:28.164Z'.toDate()", "\"2022-09-01T19:42:28.164Z\""),
        ERR("'2022-09-32T19:42:28.164Z'.toDate()", "cannot convert to date"),
        OK("'2008-11-11'.toDateTime()", "\"2008-11-11T00:00:00.000Z\""),
        /* n8n reads ISO text with setZone: the offset written is kept */
        OK("'2024-03-29T18:06:31.798+01:00'.toDateTime()", "\"2024-03-29T18:06:31.798+01:00\""),
        OK("'2024-03-29T18:06:31.798+01:00'.toDateTime().toMillis()", "1711731991798"),
        OK("'2024-03-29 18:06:31'.toDateTime()", "\"2024-03-29T18:06:31.000Z\""),
        OK("'1713976144063'.toDateTime('ms')", "\"2024-04-24T16:29:04.063Z\""),
        OK("'1713976144'.toDateTime('s')", "\"2024-04-24T16:29:04.000Z\""),
        OK("'45000'.toDateTime('excel')", "\"2023-03-15T00:00:00.000Z\""),
        OK("'2008-11-11'.toDateTime().year", "2008"),
        OK("'Wed, 21 Oct 2015 07:28:00 GMT'.toDateTime()", "\"2015-10-21T07:28:00.000Z\""),
        OK("'Fri, 29 Mar 2024 18:08:01 +0100'.toDateTime()", "\"2024-03-29T18:08:01.000+01:00\""),
        OK("'Fri, 29 Mar 2024 18:08:01 -0230'.toDateTime()", "\"2024-03-29T18:08:01.000-02:30\""),
        /* a known difference: V8's legacy Date.parse forms such as 1-Feb-2024 are not read */
        ERR("'1-Feb-2024'.toDateTime()", "cannot convert to Luxon DateTime"),
        OK("'Feb 1, 2024'.toDateTime()", "\"2024-02-01T00:00:00.000Z\""),
        OK("'Sun Nov  6 08:49:37 1994'.toDateTime()", "\"1994-11-06T08:49:37.000Z\""),
        ERR("'31 Feb 2024'.toDateTime()", "cannot convert to Luxon DateTime"),
        ERR("'Foo 1 2024'.toDateTime()", "cannot convert to Luxon DateTime"),
        OK("'31-01-2024'.toDateTime('dd-MM-yyyy')", "\"2024-01-31T00:00:00.000Z\""),
        /* with a format n8n returns Luxon's fromFormat as is: an invalid DateTime (null in JSON) */
        OK("'31-13-2024'.toDateTime('dd-MM-yyyy')", "null"),
        OK("'31-13-2024'.toDateTime('dd-MM-yyyy').isValid", "false"),
        ERR("'hi'.toDateTime()", "cannot convert to Luxon DateTime"),
        /* toFloat, toInt, toNumber (currency symbols go first) */
        OK("'1.1'.toFloat()", "1.1"),
        OK("'1.1'.toDecimalNumber()", "1.1"),
        OK("'$1.5'.toFloat()", "1.5"),
        ERR("'1,5'.toFloat()", "cannot convert to float, expected . as decimal separator"),
        ERR("'abc'.toFloat()", "cannot convert to float"),
        OK("'1.1'.toInt()", "1"),
        OK("'1.1'.toWholeNumber()", "1"),
        OK("'1.5'.toInt()", "1"),
        OK("'€42'.toInt()", "42"),
        OK("'ff'.toInt(16)", "255"),
        ERR("'x'.toInt()", "cannot convert to integer"),
        OK("'123'.toNumber()", "123"),
        OK("'1.23E10'.toNumber()", "12300000000"),
        OK("'£ 12.5'.toNumber()", "12.5"),
        ERR("'12abc'.toNumber()", "cannot convert to number"),
        /* quote */
        OK("'test'.quote()", "\"\\\"test\\\"\""),
        OK("'\\\"test\\\"'.quote()", "\"\\\"\\\\\\\"test\\\\\\\"\\\"\""),
        OK("'Nathan says \"hi\"'.quote()", "\"\\\"Nathan says \\\\\\\"hi\\\\\\\"\\\"\""),
        OK("\"it's\".quote(\"'\")", "\"'it\\\\'s'\""),
        OK("'a\\\\b'.quote()", "\"\\\"a\\\\\\\\b\\\"\""),
        /* isNumeric */
        OK("''.isNumeric()", "false"),
        OK("'asdf'.isNumeric()", "false"),
        OK("'1234'.isNumeric()", "true"),
        OK("'4e4'.isNumeric()", "true"),
        OK("'4.4'.isNumeric()", "true"),
        OK("'123E23'.isNumeric()", "true"),
        OK("'1 2'.isNumeric()", "false"),
        OK("'0x1F'.isNumeric()", "true"),
        /* isUrl */
        OK("'https://example.com/'.isUrl()", "true"),
        OK("'http://example.com/'.isUrl()", "true"),
        OK("'ftp://example.com/'.isUrl()", "true"),
        OK("'example.com'.isUrl()", "false"),
        OK("'www.example.com'.isUrl()", "false"),
        OK("'https://www.example.com/'.isUrl()", "true"),
        OK("'https://example.com/path?query=1'.isUrl()", "true"),
        OK("'https://example.com/path#fragment'.isUrl()", "true"),
        OK("'https://example.com:8080'.isUrl()", "true"),
        OK("'https://example.com#fragment'.isUrl()", "true"),
        OK("'http:///'.isUrl()", "false"),
        OK("'https://'.isUrl()", "false"),
        OK("''.isUrl()", "false"),
        /* isDomain */
        OK("'example.com'.isDomain()", "true"),
        OK("'asdf'.isDomain()", "false"),
        OK("'https://example.com/'.isDomain()", "false"),
        OK("'www.example.com'.isDomain()", "true"),
        OK("'subdomain.example.com'.isDomain()", "true"),
        OK("'example.co.uk'.isDomain()", "true"),
        OK("'example.'.isDomain()", "false"),
        OK("'.com'.isDomain()", "false"),
        OK("'example..com'.isDomain()", "false"),
        OK("'example_com'.isDomain()", "false"),
        OK("'example com'.isDomain()", "false"),
        OK("'123.com'.isDomain()", "true"),
        OK("'xn--80aswg.xn--p1ai'.isDomain()", "true"),
        OK("'example.com:8080'.isDomain()", "true"),
        OK("''.isDomain()", "false"),
        /* toSnakeCase, toSentenceCase, toTitleCase */
        OK("'I am a test!'.toSnakeCase()", "\"i_am_a_test\""),
        OK("'i_am_a_test'.toSnakeCase()", "\"i_am_a_test\""),
        OK("'quick brown $FOX'.toSnakeCase()", "\"quick_brown_fox\""),
        OK("'i am a test! i have multiple types of Punctuation. or do i?'.toSentenceCase()",
           "\"I am a test! I have multiple types of punctuation. Or do i?\""),
        OK("'i am a test!'.toSentenceCase()", "\"I am a test!\""),
        OK("'quick! brown FOX'.toSentenceCase()", "\"Quick! Brown fox\""),
        OK("'élan VITAL'.toSentenceCase()", "\"Élan vital\""),
        OK("'quick a brown fox'.toTitleCase()", "\"Quick a Brown Fox\""),
        OK("'the lord of the rings'.toTitleCase()", "\"The Lord of the Rings\""),
        OK("'what is it for'.toTitleCase()", "\"What Is It For\""),
        OK("'an iPhone review'.toTitleCase()", "\"An iPhone Review\""),   /* mixed case kept */
        OK("'visit http://n8n.io now'.toTitleCase()", "\"Visit http://n8n.io Now\""),
        OK("'well-known facts'.toTitleCase()", "\"Well-Known Facts\""),
        /* extractUrl, extractDomain, extractEmail, isEmail, extractUrlPath */
        OK("'I am a test with a url: https://example.net/ and I am a test with an email: test@example.org'.extractUrl()",
           "\"https://example.net/\""),
        OK("'Check this out: https://subdomain.example.com:3000/path?q=1#hash'.extractUrl()",
           "\"https://subdomain.example.com:3000/path?q=1#hash\""),
        OK("'Invalid URL: http:///example.com'.extractUrl()", "null"),
        OK("'Mixed content: https://www.example.com and http://www.example.org'.extractUrl()",
           "\"https://www.example.com\""),
        OK("'Localhost URL: http://localhost:8080/test?x=1'.extractUrl()",
           "\"http://localhost:8080/test?x=1\""),
        OK("'IP URL: http://192.168.1.1:8000/path?q=value#frag'.extractUrl()",
           "\"http://192.168.1.1:8000/path?q=value#frag\""),
        OK("'test@example.org'.extractDomain()", "\"example.org\""),
        OK("'https://example.org/'.extractDomain()", "\"example.org\""),
        OK("'https://www.google.com'.extractDomain()", "\"www.google.com\""),
        OK("'ftp://ftp.example.com'.extractDomain()", "\"ftp.example.com\""),
        OK("'google.com'.extractDomain()", "\"google.com\""),
        OK("'//example.com'.extractDomain()", "\"example.com\""),
        OK("'mailto:john.doe@example.com'.extractDomain()", "\"example.com\""),
        OK("'tel:+1-555-123-4567'.extractDomain()", "null"),
        OK("'name+tag@example.com'.extractDomain()", "\"example.com\""),
        OK("'first.last@example.co.uk'.extractDomain()", "\"example.co.uk\""),
        OK("'www.example.net?test=1213'.extractDomain()", "\"www.example.net\""),
        OK("'www.example.net#tesdt123'.extractDomain()", "\"www.example.net\""),
        OK("'https://192.168.1.1'.extractDomain()", "\"192.168.1.1\""),
        OK("'https://localhost?test=123'.extractDomain()", "\"localhost\""),
        OK("'https://www.example_with_underscore.com'.extractDomain()",
           "\"www.example_with_underscore.com\""),
        OK("'https://www.example.com:8080'.extractDomain()", "\"www.example.com\""),
        OK("'I am a test with a url: https://example.net/ and I am a test with an email: test@example.org'.extractEmail()",
           "\"test@example.org\""),
        OK("'no mail here'.extractEmail()", "null"),
        OK("'test@example.com'.isEmail()", "true"),
        OK("'aaaaaaaa'.isEmail()", "false"),
        OK("'test @ n8n'.isEmail()", "false"),
        OK("\"It's me@example.com\".isEmail()", "false"),
        OK("\"It's me@example.com\".extractEmail().extractDomain()", "\"example.com\""),
        OK("'https://example.com/orders/1/detail#hash?foo=bar'.extractUrlPath()",
           "\"/orders/1/detail\""),
        OK("'http://n8n.io'.extractUrlPath()", "\"/\""),
        OK("'Check out http://n8n.io/workflows'.extractUrl().extractUrlPath()", "\"/workflows\""),
        OK("'hi'.extractUrlPath()", "null"),
        /* parseJson, toJsonString, toBoolean */
        OK("'{\"test1\":1,\"test2\":\"2\"}'.parseJson()", "{\"test1\":1,\"test2\":\"2\"}"),
        ERR("\"{'test1':1,'test2':'2'}\".parseJson()", "Parsing failed. Check you're using double quotes"),
        ERR("'No JSON here'.parseJson()", "Parsing failed"),
        OK("'[1,2]'.parseJson()[1]", "2"),
        OK("'The \"best\" colours: red\\nbrown'.toJsonString()",
           "\"\\\"The \\\\\\\"best\\\\\\\" colours: red\\\\nbrown\\\"\""),
        OK("'foo'.toJsonString()", "\"\\\"foo\\\"\""),
        OK("'False'.toBoolean()", "false"),
        OK("''.toBoolean()", "false"),
        OK("'0'.toBoolean()", "false"),
        OK("'no'.toBoolean()", "false"),
        OK("'TRUE'.toBoolean()", "true"),
        OK("'hello'.toBoolean()", "true"),
        /* base64 */
        OK("'n8n test'.base64Encode()", "\"bjhuIHRlc3Q=\""),
        OK("'bjhuIHRlc3Q='.base64Decode()", "\"n8n test\""),
        OK("'hello'.base64Encode()", "\"aGVsbG8=\""),
        OK("'aGVsbG8'.base64Decode()", "\"hello\""),
        OK("'Zoë'.base64Encode().base64Decode()", "\"Zoë\""),
        OK("'_w'.base64Decode()", "\"\\ufffd\""),
        /* replaceSpecialChars */
        OK("'déjà'.replaceSpecialChars()", "\"deja\""),
        OK("'Łódź straße Æsir'.replaceSpecialChars()", "\"Lodz strasse AEsir\""),
        OK("'北京'.replaceSpecialChars()", "\"??\""),
    };
    run(rows, GL_NELEM(rows));
}

/* new RegExp(pattern, flags): the entry point the parser's `new` calls
 * (MDN's RegExp() constructor) */
static val_t str_val(const char *s)
{
    return vstr_n(s, strlen(s));
}

TEST(regexp_constructor)
{
    static const gl_expr_ctx_t ctx;
    gl_err_t err;
    ev_t ev;
    memset(&ev, 0, sizeof ev);
    ev.ctx = &ctx;
    ev.err = &err;
    ev.max_steps = 100000;
    ev.max_out = (size_t)1 << 20;
    ev.max_depth = 64;
    val_t a[2] = { str_val("a/b+"), str_val("gi") }, re, re2, out;
    gl_err_clear(&err);
    ASSERT_EQ(gl__expr_regex_new(&ev, a, 2, &re), GL_OK);
    ASSERT_EQ(re.k, V_REGEX);
    ASSERT_STR_EQ(sp(&re), "a\\/b+");                      /* source escapes the slash */
    ASSERT_STR_EQ(json_object_get_string(re.aux), "gi");
    /* new RegExp(re) keeps the flags, new RegExp(re, 'm') replaces them */
    ASSERT_EQ(gl__expr_regex_new(&ev, &re, 1, &re2), GL_OK);
    ASSERT_STR_EQ(sp(&re2), "a\\/b+");
    ASSERT_STR_EQ(json_object_get_string(re2.aux), "gi");
    vfree(&re2);
    val_t b[2] = { re, str_val("m") };
    ASSERT_EQ(gl__expr_regex_new(&ev, b, 2, &re2), GL_OK);
    ASSERT_STR_EQ(json_object_get_string(re2.aux), "m");
    vfree(&b[1]);
    /* the made regex matches like a literal */
    val_t subj = str_val("xA/BBy");
    ASSERT_EQ(gl__expr_regex_exec(&ev, &re, &subj, &out), GL_OK);
    ASSERT_STR_EQ(json_object_to_json_string_ext(out.j, JSON_C_TO_STRING_PLAIN), "[\"A\\/BB\"]");
    vfree(&out);
    vfree(&subj);
    vfree(&re2);
    vfree(&re);
    /* no arguments: the empty pattern */
    ASSERT_EQ(gl__expr_regex_new(&ev, NULL, 0, &re), GL_OK);
    ASSERT_STR_EQ(sp(&re), "(?:)");
    vfree(&re);
    /* bad flags, bad pattern */
    vfree(&a[1]);
    a[1] = str_val("gx");
    ASSERT_EQ(gl__expr_regex_new(&ev, a, 2, &re), GL_INVALID);
    ASSERT(strstr(err.msg, "Invalid regular expression flags"));
    vfree(&a[0]);
    vfree(&a[1]);
    a[0] = str_val("(");
    ASSERT_EQ(gl__expr_regex_new(&ev, a, 1, &re), GL_INVALID);
    ASSERT(strstr(err.msg, "Invalid regular expression: /(/"));
    vfree(&a[0]);
}

/* Generated patterns: a huge alternation, a pattern over the length cap */
TEST(hostile_generated)
{
    gl_expr_ctx_t ctx = make_ctx();
    size_t cap = 200000, at = 0;
    char *src = malloc(cap);
    ASSERT(src);
    at += (size_t)snprintf(src, cap, "/^(?:");
    for (int i = 0; i < 3000; i++)
        at += (size_t)snprintf(src + at, cap - at, "%sw%d", i ? "|" : "", i);
    snprintf(src + at, cap - at, ")+$/.test('w1w2w2999w17')");
    row_t ok = OK(src, "true");
    int failures = check(&ok, &ctx, 0);
    /* 3000 alternatives fit; 40000 bytes do not */
    at = (size_t)snprintf(src, cap, "/");
    for (int i = 0; i < 40000; i++)
        src[at++] = 'a';
    snprintf(src + at, cap - at, "/.test('a')");
    row_t too_long = ERR(src, "pattern longer than 32768 bytes");
    failures += check(&too_long, &ctx, 1);
    /* the same as a string made a regex */
    at = (size_t)snprintf(src, cap, "'a'.match('");
    for (int i = 0; i < 40000; i++)
        src[at++] = 'a';
    snprintf(src + at, cap - at, "')");
    failures += check(&too_long, &ctx, 2);
    free(src);
    json_object_put(fx_json);
    fx_json = NULL;
    ASSERT_EQ(failures, 0);
}

TEST_MAIN()
