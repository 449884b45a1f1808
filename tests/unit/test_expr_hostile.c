/*
 * test_expr_hostile.c: expressions written or fed to burn CPU. The data is
 * the attacker's (a webhook body lands in $json: 1 MiB strings, near-miss
 * needles, 100k-element arrays), the expressions are the kind a workflow
 * author writes, or long ones that repeat a linear operation thousands of
 * times. Each row must end, with its result or with the expected kind of
 * error (steps, output bound, time budget, unsupported), and within
 * BOUND_MS: a generous safety net, far above what a row takes (a few ms to
 * a few tens of ms), that fails the test when an evaluation is quadratic
 * again or a charge is missing (lastIndexOf of 512 KiB in 1 MiB took
 * minutes before it was linear).
 */
#include "engine.h"
#include "gl_test.h"

#include <time.h>

/* Sanitizer builds check memory ranges on every call (memmem's whole
 * haystack, at each of 100k calls of a split): slower, not quadratic */
#ifdef __SANITIZE_ADDRESS__
#define BOUND_MS 10000
#else
#define BOUND_MS 2000
#endif
#define MIB ((size_t)1 << 20)

#define STEPS "expression exceeds 100000 steps"
#define TOO_BIG "expression result exceeds 1048576 bytes"
#define TIME "expression exceeded its time budget"

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

/* n copies of c, then tail; the caller frees it. */
static char *fill(char c, size_t n, const char *tail)
{
    size_t t = strlen(tail);
    char *s = malloc(n + t + 1);
    ASSERT(s);
    memset(s, c, n);
    memcpy(s + n, tail, t + 1);
    return s;
}

static json_object *jstr_fill(char c, size_t n, const char *tail)
{
    char *s = fill(c, n, tail);
    json_object *j = json_object_new_string_len(s, (int)strlen(s));
    free(s);
    return j;
}

/* $json: what an anonymous caller can send (the same strings twice, so
 * that comparisons cannot stop at a shared pointer). */
static json_object *hostile_json(void)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "big", jstr_fill('a', MIB, ""));
    json_object_object_add(o, "big2", jstr_fill('a', MIB, ""));
    json_object_object_add(o, "half", jstr_fill('a', MIB / 2, ""));
    json_object_object_add(o, "miss", jstr_fill('a', 1000, "b"));
    json_object_object_add(o, "near", jstr_fill('a', MIB / 2 - 1, "b"));
    json_object_object_add(o, "digits", jstr_fill('1', MIB, ""));
    json_object_object_add(o, "small", jstr_fill('x', 10000, ""));
    json_object *nums = json_object_new_array(), *words = json_object_new_array();
    for (int i = 0; i < 100000; i++)
        json_object_array_add(nums, json_object_new_int(100000 - i));
    for (int i = 0; i < 20000; i++)
        json_object_array_add(words, json_object_new_string("word"));
    json_object_object_add(o, "nums", nums);
    json_object_object_add(o, "words", words);
    json_object *twins = json_object_new_array();
    json_object_array_add(twins, jstr_fill('a', MIB / 2, ""));
    json_object_array_add(twins, jstr_fill('a', MIB / 2, ""));
    json_object_object_add(o, "twins", twins);
    json_object *keys = json_object_new_object();
    char *k1 = fill('k', 400000, "1"), *k2 = fill('k', 400000, "2");
    json_object_object_add(keys, k1, json_object_new_int(1));
    json_object_object_add(keys, k2, json_object_new_int(2));
    free(k1);
    free(k2);
    json_object_object_add(o, "bigkeys", keys);
    return o;
}

static json_object *fx_json;

static gl_expr_ctx_t make_ctx(void)
{
    if (!fx_json)
        fx_json = hostile_json();
    gl_expr_ctx_t c;
    memset(&c, 0, sizeof c);
    c.json = fx_json;
    c.now_ms = 1795635233123LL;
    return c;
}

static const char *text(json_object *o)
{
    return o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN) : "null";
}

/* Evaluates one row, checks its outcome and its time; returns the failures. */
static int check(const row_t *r, const gl_expr_ctx_t *ctx, bool render)
{
    json_object *out = NULL;
    gl_err_t err;
    gl_err_clear(&err);
    double t0 = now_ms();
    int rc = render ? gl_expr_render(r->src, ctx, &out, &err) : gl_expr_eval(r->src, ctx, &out, &err);
    double took = now_ms() - t0;
    int failures = 0;
    if (getenv("GL_TEST_TIMES")) /* for measuring by hand */
        fprintf(stderr, "%8.1f ms  %.70s\n", took, r->src);
    if (took > BOUND_MS) {
        fprintf(stderr, "%.80s…\n  took %.0f ms, more than %d ms\n", r->src, took, BOUND_MS);
        failures++;
    }
    if (r->want) {
        json_object *want = json_tokener_parse(r->want);
        if (rc != GL_OK || !json_object_equal(out, want)) {
            fprintf(stderr, "%.80s…\n  want %s\n  got rc %d %s %.80s\n", r->src, r->want, rc,
                    err.msg, rc == GL_OK ? text(out) : "");
            failures++;
        }
        json_object_put(want);
    } else if (rc != GL_INVALID || !strstr(err.msg, r->err)) {
        fprintf(stderr, "%.80s…\n  want error containing \"%s\"\n  got rc %d \"%s\" %.80s\n", r->src,
                r->err, rc, err.msg, rc == GL_OK ? text(out) : "");
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
        failures += check(&rows[i], &ctx, false);
    json_object_put(fx_json);
    fx_json = NULL;
    if (failures)
        FAIL_AT("%d of %zu rows failed", failures, n);
}

/* piece repeated n times, joined by sep, inside open … close; the caller
 * frees it. */
static char *chain(const char *open, const char *piece, const char *sep, int n, const char *close)
{
    size_t len = strlen(open) + strlen(close) + (size_t)n * (strlen(piece) + strlen(sep)) + 1;
    char *s = malloc(len);
    ASSERT(s);
    size_t at = 0;
    memcpy(s, open, strlen(open));
    at += strlen(open);
    for (int i = 0; i < n; i++) {
        if (i) {
            memcpy(s + at, sep, strlen(sep));
            at += strlen(sep);
        }
        memcpy(s + at, piece, strlen(piece));
        at += strlen(piece);
    }
    memcpy(s + at, close, strlen(close) + 1);
    return s;
}

TEST(searches)
{
    static const row_t rows[] = {
        /* overlapping needles: lastIndexOf was quadratic here */
        OK("$json.big.lastIndexOf($json.half)", "524288"),
        OK("$json.big.lastIndexOf($json.half, 1000)", "1000"),
        OK("$json.big.lastIndexOf($json.near)", "-1"),
        OK("$json.big.lastIndexOf($json.miss)", "-1"),
        OK("$json.big.lastIndexOf('a')", "1048575"),
        OK("$json.big.lastIndexOf('')", "1048576"),
        OK("$json.big.indexOf($json.near)", "-1"),
        OK("$json.big.indexOf($json.miss)", "-1"),
        OK("$json.big.indexOf($json.half, 1000)", "1000"),
        OK("$json.big.includes($json.near)", "false"),
        OK("$json.big.includes($json.half)", "true"),
        OK("$json.big.startsWith($json.near)", "false"),
        OK("$json.big.endsWith($json.half)", "true"),
        OK("$json.half.split($json.miss).length", "1"),
        ERR("$json.big.split($json.miss)", TOO_BIG), /* one element of 1 MiB: over the bound */
        OK("$json.big.replaceAll($json.near, 'x').length", "1048576"),
        OK("$json.big.replace($json.half, '').length", "524288"),
        OK("$json.big.length", "1048576"),
        OK("$json.twins.indexOf($json.near)", "-1"),
        OK("$json.twins.includes($json.half)", "true"),
        OK("$json.twins.lastIndexOf($json.half)", "1"),
        OK("$json.nums.lastIndexOf(1)", "99999"),
        OK("$json.nums.indexOf(100000)", "0"),
        ERR("$json.nums.indexOf(-1)", STEPS),
        ERR("$json.nums.concat($json.nums).indexOf(-1)", TOO_BIG),
        ERR("$json.big.split('a').length", STEPS),
        ERR("$json.big.split('').length", TOO_BIG),
    };
    run(rows, GL_NELEM(rows));
}

TEST(builders)
{
    static const row_t rows[] = {
        /* refused before anything is allocated */
        ERR("'x'.repeat(1e9)", TOO_BIG),
        ERR("'x'.repeat(2147483648)", TOO_BIG),
        ERR("$json.big.repeat(2)", TOO_BIG),
        ERR("'x'.repeat(Infinity)", "Invalid count value"),
        ERR("'x'.repeat(-1)", "Invalid count value"),
        ERR("'x'.padStart(1e12)", TOO_BIG),
        ERR("'x'.padEnd(1e6, '\\u00e9')", TOO_BIG),
        ERR("'x'.padStart(400000, '\\ud83d\\ude00')", TOO_BIG),
        ERR("$json.big.padEnd(1048577)", TOO_BIG),
        OK("'x'.padStart(1000000).length", "1000000"),
        OK("$json.small.padEnd(1048576, $json.half).length", "1048576"),
        /* growth through replace, split and join */
        ERR("$json.big.replaceAll('a', 'bb')", STEPS),
        ERR("$json.big.replaceAll('', '-')", STEPS),
        ERR("$json.half.replaceAll('a', $json.small)", TOO_BIG),
        ERR("$json.big.replaceAll('a', '$`')", TOO_BIG),
        ERR("$json.half.replace($json.half, '$&$&$&')", TOO_BIG),
        ERR("$json.small.replaceAll('x', \"$'\")", TOO_BIG),
        ERR("$json.small.split('').join($json.small)", TOO_BIG),
        ERR("$json.small.split('').join('yy').split('').join('zz').split('').join('ww')", STEPS),
        OK("$json.small.split('').join('').split('').join('').length", "10000"),
        OK("$json.words.join(' ').split(' ').join(',').length", "99999"),
        ERR("`${$json.big}${$json.big}`", TOO_BIG),
        ERR("$json.big + $json.big", TOO_BIG),
        ERR("$json.big.concat($json.big)", TOO_BIG),
        ERR("[$json.big, $json.big].join('')", TOO_BIG),
        OK("$json.big.toUpperCase().length", "1048576"),
        OK("$now.toFormat($json.small).length", "10000"),
    };
    run(rows, GL_NELEM(rows));
}

TEST(arrays_and_json)
{
    static const row_t rows[] = {
        /* sort charges n log n comparisons up front: refused before it sorts */
        ERR("$json.nums.sort()", STEPS),
        ERR("$json.nums.sort().reverse()", STEPS),
        ERR("$json.nums.sort((a, b) => a - b)", STEPS),
        OK("$json.nums.slice(0, 40000).reverse()[0]", "60001"),
        ERR("$json.nums.reverse()", TOO_BIG),
        ERR("$json.nums.slice(0, 60000).reverse().reverse()", STEPS),
        OK("$json.nums.length", "100000"),
        ERR("$json.nums.join(',')", STEPS),
        ERR("JSON.stringify($json.nums)", STEPS),
        ERR("JSON.stringify($json)", TOO_BIG),
        OK("JSON.parse(JSON.stringify($json.words)).length", "20000"),
        OK("JSON.parse(JSON.stringify($json.half)).length", "524288"),
        ERR("JSON.parse(JSON.stringify($json.words.concat($json.words, $json.words)))", STEPS),
        ERR("JSON.parse($json.big)", "JSON.parse"),
        ERR("JSON.parse('['.repeat(50000))", "JSON.parse"),
        ERR("JSON.parse(JSON.stringify($json.big))", TOO_BIG),
        OK("JSON.parse(JSON.stringify(JSON.parse(JSON.stringify($json.half)))).length", "524288"),
        ERR("JSON.parse(JSON.stringify(JSON.parse(JSON.stringify(JSON.parse(JSON.stringify("
            "JSON.parse(JSON.stringify($json.half))))))))", STEPS),
        OK("Object.keys($json.bigkeys).length", "2"),
        /* arrays and objects taken from data count 16 bytes per element:
         * they are shared, not copied */
        OK("Object.entries($json.bigkeys).concat(Object.entries($json.bigkeys)).length", "4"),
        ERR("[Object.keys($json.bigkeys), Object.keys($json.bigkeys)]", TOO_BIG),
        ERR("Object.keys($json.nums).length", TOO_BIG),
        ERR("Object.values($json.nums).length", TOO_BIG),
        OK("DateTime.fromISO($json.digits).isValid", "false"), /* Luxon: an invalid DateTime */
        OK("Number($json.digits)", "null"),
        OK("parseInt($json.digits) > 0", "true"),
        OK("$json.big == $json.big2", "true"),
    };
    run(rows, GL_NELEM(rows));
}

/* A long expression repeating a linear operation on borrowed data: each
 * costs one step in tree nodes, so only the bytes it charges stop it (a
 * 1 MiB compare is 16384 steps: the budget ends after six). Without the
 * byte charges, each of these did 10000 passes over 1 MiB. */
TEST(amplification)
{
    static const char *const pieces[] = {
        "$json.big===$json.big2",
        "$json.big==$json.big2",
        "$json.big<$json.big2",
        "+$json.digits",
        "parseFloat($json.digits)",
        "$json.bigkeys[$json.big]",
        "Object.keys($json.bigkeys).length",
        "$json.twins.indexOf($json.near)",
        "$json.big.includes($json.near)",
        "$json.big.lastIndexOf($json.near)",
        "$json.big.length",
        "$json.big.trim().length",
        "$json.big.slice(1).length",
        "$json.big.toLowerCase().length",
        "$json.big.replace('b', '').length",
        "$json.half.split($json.miss).length",
        "JSON.stringify($json.half).length",
        "JSON.parse(`\"${$json.half}\"`).length",
        "`${$json.half}`.length",
        "$json.half.padEnd(1048576).length",
    };
    gl_expr_ctx_t ctx = make_ctx();
    int failures = 0;
    for (size_t i = 0; i < GL_NELEM(pieces); i++) {
        char *src = chain("[", pieces[i], ",", 10000, "].length");
        row_t r = ERR(src, STEPS);
        failures += check(&r, &ctx, false);
        free(src);
    }
    json_object_put(fx_json);
    fx_json = NULL;
    if (failures)
        FAIL_AT("%d of %zu rows failed", failures, GL_NELEM(pieces));
}

/* Deep chains of method calls and nesting end at the parser's bounds. */
TEST(deep_chains)
{
    gl_expr_ctx_t ctx = make_ctx();
    int failures = 0;
    char *src = chain("$json.small", ".trim()", "", 20000, "");
    row_t r = ERR(src, "nested too deeply");
    failures += check(&r, &ctx, false);
    free(src);
    src = chain("$json.small", ".split('').join('')", "", 5000, "");
    r = (row_t)ERR(src, "nested too deeply");
    failures += check(&r, &ctx, false);
    free(src);
    src = chain("$json.small", ".split('').join('')", "", 20, ".length");
    r = (row_t)ERR(src, STEPS);
    failures += check(&r, &ctx, false);
    free(src);
    /* a template of many {{ }}: each has the whole step budget */
    src = chain("", "{{ $json.big.lastIndexOf($json.half) }}", " ", 20, "");
    char *want = chain("\"", "524288", " ", 20, "\"");
    r = (row_t)OK(src, want);
    failures += check(&r, &ctx, true);
    free(src);
    free(want);
    json_object_put(fx_json);
    fx_json = NULL;
    if (failures)
        FAIL_AT("%d rows failed", failures);
}

/* The clock is the safety net: with the step budget out of the way, an
 * evaluation past its deadline stops with the time-budget error, soon. */
TEST(deadline)
{
    gl_expr_ctx_t ctx = make_ctx();
    int failures = 0;

    /* a deadline already past: even the smallest expression stops */
    ctx.limits.deadline_ms = gl_wall_ms() - 1;
    row_t r = ERR("1 + 1", TIME);
    failures += check(&r, &ctx, false);
    r = (row_t)ERR("{{ 1 + 1 }}", TIME);
    failures += check(&r, &ctx, true);

    /* a budget of steps too large to matter: 30000 compares of 1 MiB
     * would take seconds; 300 ms after the start, the clock stops them */
    ctx.limits.max_steps = (size_t)1 << 40;
    char *src = chain("[", "$json.big===$json.big2", ",", 30000, "].length");
    ctx.limits.deadline_ms = gl_wall_ms() + 300;
    double t0 = now_ms();
    r = (row_t)ERR(src, TIME);
    failures += check(&r, &ctx, false);
    double took = now_ms() - t0;
    if (took < 250) {
        fprintf(stderr, "stopped after %.0f ms, before the deadline\n", took);
        failures++;
    }
    free(src);

    /* a template whose {{ }} each stay within their steps, but not all
     * together within the deadline */
    src = chain("", "{{ $json.big.lastIndexOf($json.half) }}", " ", 2000, "");
    ctx.limits.deadline_ms = gl_wall_ms() + 300;
    r = (row_t)ERR(src, TIME);
    failures += check(&r, &ctx, true);
    free(src);

    /* the same with a deadline far away: the work is done */
    ctx.limits.deadline_ms = gl_wall_ms() + 60000;
    r = (row_t)OK("[$json.big===$json.big2, $json.big.lastIndexOf($json.half)]", "[true,524288]");
    failures += check(&r, &ctx, false);
    json_object_put(fx_json);
    fx_json = NULL;
    if (failures)
        FAIL_AT("%d rows failed", failures);
}

TEST_MAIN()
