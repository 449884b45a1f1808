/*
 * test_n8n_lang.c: the syntax and evaluator core of the expression language
 * as n8n users write it (issue 15, part "lang"): arrow-function callbacks of
 * the array methods (map, filter, find…, reduce, sort, flatMap), closures,
 * block bodies, spread, `in`, comments, Unicode identifiers, NaN/Infinity,
 * `new Date`, the text around a lone {{ }}, and the bounds that still hold
 * when callbacks run. Each row is JavaScript's result, as n8n evaluates the
 * expression (checked with node), or a substring of the error; the comment
 * above a group names the n8n behaviour or test it reproduces.
 */
#include "engine.h"
#include "gl_test.h"
#include "json.h"

#include <time.h>

typedef struct {
    const char *src;
    const char *want; /* JSON text of the result, or NULL when an error is expected */
    const char *err;  /* substring of err.msg */
} row_t;

#define OK(s, w) { s, w, NULL }
#define ERR(s, e) { s, NULL, e }

#define STEPS "expression exceeds 100000 steps"
#define TOO_BIG "expression result exceeds 1048576 bytes"
#define NOT_VALUE "a function is not a value"

static const char *const item_json =
    "{\"items\":[1,2,3],\"nums\":[3,1,10,2],\"words\":[\"b\",\"a\",\"C\",\"aa\"],"
    "\"people\":[{\"name\":\"Ada\",\"age\":36},{\"name\":\"Bob\",\"age\":25},"
    "{\"name\":\"Cy\",\"age\":41}],"
    "\"Direcci\\u00f3n\":\"Calle 1\",\"\\u540d\\u524d\":\"\\u592a\\u90ce\",\"n\":42,"
    "\"obj\":{\"a\":1,\"b\":2},\"nested\":[[1,2],[3],[]],\"mixed\":[3,null,1,\"x\",true],"
    "\"contact\":null}";

static json_object *fx_json, *fx_input;

static json_object *parse(const char *text)
{
    json_object *o = NULL;
    gl_err_t err;
    gl_err_clear(&err);
    if (gl_json_parse(text, strlen(text), 64, &o, &err) != GL_OK)
        FAIL_AT("test JSON does not parse: %s: %s", err.msg, text);
    return o;
}

/* $json, with big: [0, 1, … 9999] and s1k: 1000 × "x" for the rows about bounds. */
static gl_expr_ctx_t make_ctx(void)
{
    if (!fx_json) {
        fx_json = parse(item_json);
        json_object *big = json_object_new_array();
        for (int i = 0; i < 10000; i++)
            json_object_array_add(big, json_object_new_int(i));
        json_object_object_add(fx_json, "big", big);
        char s1k[1001];
        memset(s1k, 'x', 1000);
        s1k[1000] = '\0';
        json_object_object_add(fx_json, "s1k", json_object_new_string(s1k));
        fx_input = parse("[{\"x\":1,\"tag\":\"a\"},{\"x\":5,\"tag\":\"b\"},{\"x\":3,\"tag\":\"a\"}]");
    }
    gl_expr_ctx_t c;
    memset(&c, 0, sizeof c);
    c.json = fx_json;
    c.input = fx_input;
    c.item_index = 0;
    c.now_ms = 1795635233123LL; /* 2026-11-25T19:33:53.123Z */
    return c;
}

static const char *text(json_object *o)
{
    return o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN) : "null";
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Runs every row (render: as a template); prints each failure and fails
 * at the end. A row taking more than 2 s is a failure too: the bounds hold
 * in time, not only in the end. */
static void run(const row_t *rows, size_t n, bool render)
{
    gl_expr_ctx_t ctx = make_ctx();
    int failures = 0;
    for (size_t i = 0; i < n; i++) {
        const row_t *r = &rows[i];
        json_object *out = NULL;
        gl_err_t err;
        gl_err_clear(&err);
        double t0 = now_ms();
        int rc = render ? gl_expr_render(r->src, &ctx, &out, &err)
                        : gl_expr_eval(r->src, &ctx, &out, &err);
        double took = now_ms() - t0;
        if (took > 2000) {
            fprintf(stderr, "row %zu: %.80s\n  took %.0f ms\n", i, r->src, took);
            failures++;
        }
        if (r->want) {
            json_object *want = parse(r->want);
            if (rc != GL_OK) {
                fprintf(stderr, "row %zu: %s\n  want %s\n  got error: %s\n", i, r->src, r->want,
                        err.msg);
                failures++;
            } else if (!json_object_equal(out, want)) {
                fprintf(stderr, "row %zu: %s\n  want %s\n  got  %.200s\n", i, r->src, r->want,
                        text(out));
                failures++;
            }
            json_object_put(want);
        } else if (rc != GL_INVALID || !strstr(err.msg, r->err)) {
            fprintf(stderr, "row %zu: %.200s\n  want error containing \"%s\"\n  got rc %d: %.200s %s\n",
                    i, r->src, r->err, rc, rc == GL_OK ? text(out) : "", err.msg);
            failures++;
        }
        json_object_put(out);
    }
    json_object_put(fx_json);
    json_object_put(fx_input);
    fx_json = fx_input = NULL;
    if (failures)
        FAIL_AT("%d of %zu rows failed", failures, n);
}

TEST(callbacks)
{
    static const row_t rows[] = {
        /* n8n docs (data transformation functions, arrays): map, filter
         * with an arrow function, JavaScript's Array.prototype semantics;
         * the callback gets (value, index, array) */
        OK("$json.items.map(x => x * 2)", "[2,4,6]"),
        OK("$json.items.map((x) => x + 1)", "[2,3,4]"),
        OK("$json.items.map((x, i) => x * i)", "[0,2,6]"),
        OK("$json.items.map((x, i, arr) => arr.length)", "[3,3,3]"),
        OK("$json.items.map(() => 'k')", "[\"k\",\"k\",\"k\"]"),
        OK("$json.items.map(x => ({v: x}))", "[{\"v\":1},{\"v\":2},{\"v\":3}]"),
        OK("$json.people.map(p => p.name)", "[\"Ada\",\"Bob\",\"Cy\"]"),
        OK("$json.people.map(p => p.name).join(', ')", "\"Ada, Bob, Cy\""),
        OK("$json.items.map(x => x > 1)", "[false,true,true]"),
        OK("[].map(x => x)", "[]"),
        OK("$json.items.map(x => undefined)", "[null,null,null]"),
        OK("$json.items.map(x => $json.contact)", "[null,null,null]"),
        /* built-in functions as callbacks, a common n8n idiom */
        OK("['1', '2', 'x'].map(Number)", "[1,2,null]"),
        OK("['a', '', 'b', 0, null].filter(Boolean)", "[\"a\",\"b\"]"),
        OK("[1, 2].map(String)", "[\"1\",\"2\"]"),
        OK("['10', '10', '10'].map(parseInt)", "[10,null,2]"), /* JavaScript's classic */
        /* n8n docs (Code/expressions cookbook): the items of the input */
        OK("$input.all().map(item => item.json.x)", "[1,5,3]"),
        OK("$input.all().filter(i => i.json.tag === 'a').length", "2"),
        OK("$input.all().reduce((sum, i) => sum + i.json.x, 0)", "9"),
        OK("$input.all().map(i => i.json).sort((a, b) => b.x - a.x)[0].x", "5"),
        OK("$input.all().some(i => i.json.x > 4)", "true"),
        OK("Object.keys($json.obj).map(k => $json.obj[k] * 10)", "[10,20]"),
        /* forEach has no side effect to have here: undefined */
        OK("$json.items.forEach(x => x)", "null"),
        OK("$json.items.filter(x => x % 2)", "[1,3]"),
        OK("$json.people.filter(p => p.age > 30).map(p => p.name)", "[\"Ada\",\"Cy\"]"),
        OK("$json.items.filter((x, i) => i > 0)", "[2,3]"),
        OK("$json.mixed.filter(x => typeof x === 'number')", "[3,1]"),
        OK("$json.people.find(p => p.age < 30).name", "\"Bob\""),
        OK("$json.people.find(p => p.age > 100)", "null"),
        OK("$json.people.findIndex(p => p.name === 'Cy')", "2"),
        OK("$json.people.findIndex(p => false)", "-1"),
        OK("$json.nums.findLast(x => x > 2)", "10"),
        OK("$json.nums.findLastIndex(x => x > 2)", "2"),
        OK("$json.nums.findLastIndex(x => x > 100)", "-1"),
        OK("$json.items.some(x => x > 2)", "true"),
        OK("$json.items.some(x => x > 3)", "false"),
        OK("$json.items.every(x => x > 0)", "true"),
        OK("$json.items.every(x => x > 1)", "false"),
        OK("[].every(x => false)", "true"),
        OK("[].some(x => true)", "false"),
        OK("!$json.items.some(x => x > 5)", "true"),
        /* reduce: with and without an initial value; TypeError when empty */
        OK("$json.items.reduce((a, b) => a + b)", "6"),
        OK("$json.items.reduce((a, b) => a + b, 10)", "16"),
        OK("$json.items.reduce((acc, x, i) => acc + i, 0)", "3"),
        OK("$json.people.reduce((acc, p) => acc + p.age, 0)", "102"),
        OK("$json.items.reduce((acc, x) => [...acc, x * 10], [])", "[10,20,30]"),
        OK("$json.items.reduce((acc, x) => acc.concat([x, x]), [])", "[1,1,2,2,3,3]"),
        OK("$json.people.reduce((best, p) => p.age > best.age ? p : best).name", "\"Cy\""),
        ERR("[].reduce((a, b) => a + b)", "Reduce of empty array with no initial value"),
        OK("[].reduce((a, b) => a + b, 'init')", "\"init\""),
        OK("[5].reduce((a, b) => a + b)", "5"),
        OK("$json.words.reduceRight((a, b) => a + b)", "\"aaCab\""),
        OK("$json.items.reduceRight((acc, x) => [...acc, x], [])", "[3,2,1]"),
        /* sort: without a comparator by strings, stable, a new array */
        OK("$json.nums.sort()", "[1,10,2,3]"),
        OK("$json.nums.sort((a, b) => a - b)", "[1,2,3,10]"),
        OK("$json.nums.sort((a, b) => b - a)", "[10,3,2,1]"),
        OK("$json.words.sort()", "[\"C\",\"a\",\"aa\",\"b\"]"),
        OK("$json.words.sort((a, b) => a.toLowerCase() < b.toLowerCase() ? -1 : 1)",
           "[\"a\",\"aa\",\"b\",\"C\"]"),
        OK("$json.people.sort((a, b) => (a.age > 30) - (b.age > 30)).map(p => p.name)",
           "[\"Bob\",\"Ada\",\"Cy\"]"),
        OK("$json.mixed.sort()", "[1,3,null,true,\"x\"]"),
        OK("[3, 1, 2].sort(() => 0)", "[3,1,2]"),
        OK("[3, 1, 2].sort(() => NaN)", "[3,1,2]"),
        /* comparators that are not consistent: Node's (V8's) result */
        OK("[3, 1, 2].sort((a, b) => a > b)", "[3,1,2]"),
        OK("[1, 2, 3].sort(() => 1)", "[1,2,3]"),
        OK("[1, 2, 3].sort(() => -1)", "[3,2,1]"),
        OK("[1, 2].sort(Number)", "[1,2]"),
        OK("$json.people.sort((a, b) => a.name < b.name ? 1 : -1)[0].name", "\"Cy\""),
        OK("[].sort()", "[]"),
        ERR("$json.items.sort(1)", "The comparison function must be either a function or undefined"),
        OK("$json.items.flatMap(x => [x, x * 10])", "[1,10,2,20,3,30]"),
        OK("$json.nested.flatMap(x => x)", "[1,2,3]"),
        OK("$json.items.flatMap(x => x)", "[1,2,3]"),
        OK("[[1, [2]]].flatMap(x => x)", "[1,[2]]"),
        /* template literals with arrows inside */
        OK("`${$json.items.map(x => `<${x}>`).join('')}`", "\"<1><2><3>\""),
        OK("$json.people.map(p => `${p.name} (${p.age})`).join('; ')",
           "\"Ada (36); Bob (25); Cy (41)\""),
        /* what is not a callback */
        ERR("$json.items.map()", "undefined is not a function (in Array.map)"),
        ERR("$json.items.reduce(1)", "a number is not a function"),
        ERR("$json.items.filter('x')", "a string is not a function"),
        ERR("$json.items.map(x => x(1))", "x is not a function"),
    };
    run(rows, GL_NELEM(rows), false);
}

TEST(closures_and_bodies)
{
    static const row_t rows[] = {
        /* closures: an inner arrow sees the outer one's parameters */
        OK("$json.items.map(x => $json.items.map(y => x * y))", "[[1,2,3],[2,4,6],[3,6,9]]"),
        OK("$json.items.map(x => $json.people.filter(p => p.age > x * 12).length)", "[3,3,1]"),
        OK("$json.people.map(p => $json.items.reduce((acc, i) => acc + i * p.age, 0))",
           "[216,150,246]"),
        OK("$json.items.map(x => [10].map(x => x + 1)[0])", "[11,11,11]"),
        OK("$json.items.map(x => $json.items.map(y => $json.items.map(z => x + y + z)))[2][2][2]",
           "9"),
        OK("$json.items.map(x => { const k = x * 10; return $json.items.map(y => k + y) })[1]",
           "[21,22,23]"),
        OK("$json.items.map(Math => Math + 1)", "[2,3,4]"), /* a parameter shadows a global */
        /* block bodies: const/let, if/else, return */
        OK("$json.items.map(x => { return x * 3; })", "[3,6,9]"),
        OK("$json.items.map(x => { const y = x * 2; return y + 1 })", "[3,5,7]"),
        OK("$json.items.map(x => { let z = x; if (x > 1) return 'big'; return z })",
           "[1,\"big\",\"big\"]"),
        OK("$json.items.map(x => { if (x === 1) { return 'one' } else if (x === 2) { return 'two' }"
           " else { return 'many' } })",
           "[\"one\",\"two\",\"many\"]"),
        OK("$json.items.map(x => { })", "[null,null,null]"),
        OK("$json.items.map(x => { const a = x, b = a * 2; return [a, b] })",
           "[[1,2],[2,4],[3,6]]"),
        OK("$json.items.map(x => { let y; return y })", "[null,null,null]"),
        OK("$json.items.map(x => {\n  const y = x\n  return y * 2\n})", "[2,4,6]"),
        OK("$json.items.map(x => { return\n x })", "[null,null,null]"), /* ASI after return */
        OK("$json.items.map(x => { if (x > 1) { const y = 'a'; return y } const y = 'b'; return y })",
           "[\"b\",\"a\",\"a\"]"),
        OK("$json.items.map(x => { var v = x; ; return v })", "[1,2,3]"),
        OK("$json.items.map(x => { x + 1; return x })", "[1,2,3]"), /* an expression statement */
        OK("$json.items.filter(x => { if (x % 2) return true })", "[1,3]"),
        OK("$json.items.map(x => { const o = {x, sq: x * x}; return o })",
           "[{\"x\":1,\"sq\":1},{\"x\":2,\"sq\":4},{\"x\":3,\"sq\":9}]"),
        ERR("$json.items.map(x => { const x = 1; return x })", "Identifier 'x' has already been declared"),
        ERR("$json.items.map((a, a) => a)", "Identifier 'a' has already been declared"),
        ERR("$json.items.map(x => { const y = y + 1; return y })", "Cannot access 'y' before initialization"),
        ERR("$json.items.map(x => { const y; return 1 })", "missing initializer in const declaration"),
        ERR("$json.items.map(x => { for (;;) {} })", "'for' is not supported in an arrow function's body"),
        ERR("$json.items.map(x => { while (x) {} })", "'while' is not supported"),
        ERR("$json.items.map(x => { throw 1 })", "'throw' is not supported"),
        ERR("$json.items.map(x => { x = 2; return x })", "assignment is not allowed"),
        ERR("$json.items.map(x => { if (x) const y = 1; return 1 })",
            "a declaration cannot be the body of if or else"),
        ERR("$json.items.map(x => { return 1 2 })", "expected ';'"),
        ERR("$json.items.map(x => { return 1", "expected '}' to close the block"),
        /* destructuring, as in Object.entries(o).map(([k, v]) => …) */
        OK("Object.entries($json.obj).map(([k, v]) => k + '=' + v).join('&')", "\"a=1&b=2\""),
        OK("$json.people.map(({name, age}) => `${name}:${age}`)", "[\"Ada:36\",\"Bob:25\",\"Cy:41\"]"),
        OK("$json.people.map(({name: n}, i) => n + i)", "[\"Ada0\",\"Bob1\",\"Cy2\"]"),
        OK("$json.people.map((p, i, [first]) => first.name)", "[\"Ada\",\"Ada\",\"Ada\"]"),
        OK("$json.nested.map(([a, , c]) => [a, c])", "[[1,null],[3,null],[null,null]]"),
        OK("$json.nested.map(([, b]) => b)", "[2,null,null]"),
        OK("$json.people.map(p => { const {'name': n} = p; return n })", "[\"Ada\",\"Bob\",\"Cy\"]"),
        OK("$json.items.map(x => { const [a, b] = [x, x * 2], {length} = 'abc'; return a + b + length })",
           "[6,9,12]"),
        OK("Object.entries($json.obj).reduce((acc, [k, v]) => acc + v, 0)", "3"),
        OK("$json.items.map(({a}) => a)", "[null,null,null]"),
        ERR("[null].map(([a]) => a)", "Cannot read properties of null"),
        ERR("$json.items.map(({a: {b}}) => b)", "unexpected '{'"),
        ERR("$json.items.map(([a, ...r]) => a)", "rest elements are not supported"),
        ERR("$json.items.map(([a = 1]) => a)", "default values in destructuring are not supported"),
        ERR("$json.items.map(([a, a]) => a)", "Identifier 'a' has already been declared"),
        ERR("$json.items.map(x => { const {a} = null })", "Cannot read properties of null (reading 'a')"),
        ERR("$json.items.map(x => { const [a]; return 1 })", "missing initializer in destructuring declaration"),
        ERR("$json.items.map((...a) => a)", "rest parameters are not supported"),
        ERR("$json.items.map((a = 1) => a)", "default parameter values are not supported"),
        OK("$json.people.map(p => { const {name} = p; return name })", "[\"Ada\",\"Bob\",\"Cy\"]"),
        ERR("$json.items.map(true => 1)", "'true' cannot be the name of a parameter"),
        ERR("$json.items.map(x => y)", "unknown variable 'y'"),
        ERR("$json.items.map(x => { const y = 1 }).concat(y)", "unknown variable 'y'"),
        ERR("$json.items.map(x =>", "unexpected end of expression"),
        ERR("return 1", "'return' is only allowed in an arrow function's body"),
        /* a function is only an argument: n8n ("this is a function, please add ()") */
        ERR("x => x", NOT_VALUE),
        ERR("[x => x]", NOT_VALUE),
        ERR("({f: () => 1})", NOT_VALUE),
        ERR("(x => x * 2)", NOT_VALUE),
        ERR("$json.items.map(x => y => 1)", NOT_VALUE),
        ERR("$json.items.map(x => { return () => 1 })", NOT_VALUE),
        ERR("1 + x => 2", "an arrow function cannot be an operand here"),
        ERR("1 + (a, b) => 2", "an arrow function cannot be an operand here"),
        ERR("($json.n + 1) => 1", "invalid arrow function parameters"),
    };
    run(rows, GL_NELEM(rows), false);
}

TEST(syntax)
{
    static const row_t rows[] = {
        /* spread in array and object literals and in arguments */
        OK("[...$json.items, 4]", "[1,2,3,4]"),
        OK("[0, ...$json.items, ...[9]]", "[0,1,2,3,9]"),
        OK("[...'h\\u00e9llo']", "[\"h\",\"\\u00e9\",\"l\",\"l\",\"o\"]"),
        OK("({...$json.obj, b: 3})", "{\"a\":1,\"b\":3}"),
        OK("({b: 3, ...$json.obj})", "{\"a\":1,\"b\":2}"),
        OK("({...null, ...undefined, ...1, a: 1})", "{\"a\":1}"),
        OK("({...[5, 6]})", "{\"0\":5,\"1\":6}"),
        OK("({...$json.obj, ...{c: [...$json.items]}})", "{\"a\":1,\"b\":2,\"c\":[1,2,3]}"),
        OK("Math.max(...$json.nums)", "10"),
        OK("Math.min(...$json.nums, -1)", "-1"),
        OK("$json.items.map(x => ({x}))", "[{\"x\":1},{\"x\":2},{\"x\":3}]"),
        ERR("[...1]", "a number is not iterable"),
        ERR("[...null]", "undefined or null is not iterable"),
        ERR("Math.max(...$json.obj)", "an object is not iterable"),
        /* n8n ExpressionFixtures: 'domain' in $json && $json.domain != null */
        OK("'domain' in $json && $json.domain != null", "false"),
        OK("'a' in $json.obj", "true"),
        OK("'z' in $json.obj", "false"),
        OK("0 in $json.items", "true"),
        OK("3 in $json.items", "false"),
        OK("'length' in $json.items", "true"),
        OK("!('a' in $json.obj)", "false"),
        OK("'contact' in $json", "true"),
        ERR("'a' in 'abc'", "Cannot use 'in' operator to search for 'a' in a string"),
        ERR("'x' in null", "Cannot use 'in' operator to search for 'x' in null"),
        /* comments */
        OK("1 + /* two */ 2", "3"),
        OK("1 + 2 // trailing", "3"),
        OK("/* lead */ $json.n", "42"),
        OK("$json.items.map(x => { // double it\n return x * 2 })", "[2,4,6]"),
        OK("'/* not a comment */'", "\"/* not a comment */\""),
        OK("`// nor ${1}`", "\"// nor 1\""),
        ERR("1 /* unterminated", "unterminated comment"),
        /* Unicode identifiers: $json.Dirección, $json.名前 */
        OK("$json.Direcci\xc3\xb3n", "\"Calle 1\""),
        OK("$json.\xe5\x90\x8d\xe5\x89\x8d", "\"\\u592a\\u90ce\""),
        OK("$json.items.map(n\xc3\xbamero => n\xc3\xbamero * 2)", "[2,4,6]"),
        OK("({ caf\xc3\xa9: 1 }).caf\xc3\xa9", "1"),
        ERR("$json.a\xe2\x80\x94" "b", "unexpected character"), /* an em dash */
        ERR("$json.\xc2\xa7", "unexpected character '\xc2\xa7'"), /* a section sign */
        /* NaN and Infinity are numbers until JSON output (JSON.stringify: null) */
        OK("NaN", "null"),
        OK("[NaN, Infinity, -Infinity]", "[null,null,null]"),
        OK("typeof NaN", "\"number\""),
        OK("Infinity > 1e308", "true"),
        OK("1 / 0 === Infinity", "true"),
        OK("isNaN(0 / 0)", "true"),
        OK("JSON.stringify({a: NaN, b: Infinity})", "\"{\\\"a\\\":null,\\\"b\\\":null}\""),
        /* a difference: arrays and objects hold JSON, where NaN is null */
        OK("[NaN].includes(NaN)", "false"),
        OK("[NaN][0]", "null"),
        OK("[NaN].indexOf(NaN)", "-1"),
        OK("String(-Infinity)", "\"-Infinity\""),
        OK("Infinity - Infinity", "null"),
        /* exponent, bitwise, void */
        OK("2 ** 10", "1024"),
        OK("2 ** 3 ** 2", "512"),
        OK("(-2) ** 2", "4"),
        OK("2 ** -1", "0.5"),
        OK("1 ** NaN", "null"),
        OK("5 & 3", "1"),
        OK("5 | 3", "7"),
        OK("5 ^ 3", "6"),
        OK("~5", "-6"),
        OK("1 << 31", "-2147483648"),
        OK("-16 >> 2", "-4"),
        OK("-1 >>> 0", "4294967295"),
        OK("-1 >>> 28", "15"),
        OK("1 | 2 & 3", "3"),
        OK("1 + 2 << 1", "6"),
        OK("4294967297 | 0", "1"),
        OK("NaN | 0", "0"),
        OK("3.7 | 0", "3"),
        OK("void 0", "null"),
        OK("typeof void 0", "\"undefined\""),
        ERR("-2 ** 2", "a unary operator before '**' needs parentheses"),
        /* n8n ExpressionFixtures: a trailing ';' is allowed */
        OK("Math.floor(Math.min(1, 2) * 100);", "100"),
        ERR("1; 2", "only one expression is allowed"),
        /* new Date(…) (the dates part gives it all of JavaScript's Date) */
        OK("new Date('2023-02-09T13:22:54.187Z').getTime()", "1675948974187"),
        OK("new Date(0).toISOString()", "\"1970-01-01T00:00:00.000Z\""),
        OK("new Date()", "\"2026-11-25T19:33:53.123Z\""),
        OK("new Date", "\"2026-11-25T19:33:53.123Z\""),
        OK("(new Date(86400000)).getTime() / 1000", "86400"),
        ERR("new Map()", "'new Map' is not supported (only new Date(…) and new RegExp(…))"),
        ERR("new 1", "unexpected '1'"),
        ERR("Date()", "Date is not a function"),
    };
    run(rows, GL_NELEM(rows), false);
}

TEST(templates)
{
    static const row_t rows[] = {
        /* n8n keeps the text around a lone {{ }} (ExpressionFixtures:
         * '= {{$json["dig check CF"].data["stdout"]}}' is ' testout') */
        OK(" {{ 1 }}", "\" 1\""),
        OK("{{ 1 }} ", "\"1 \""),
        OK("{{ 1 }}", "1"),
        OK("{{ [1, 2] }}", "[1,2]"),
        OK("\n{{ $json.n }}", "\"\\n42\""),
        OK(" {{$json[\"n\"]}}", "\" 42\""),
        OK("{{ Math.min(1, 2); }}", "1"),
        OK("{{ 1 + 1 // a comment up to the closing braces }}", "2"),
        OK("{{ /* a */ 1 }}{{ 2 /* b */ }}", "\"12\""),
        OK("{{ NaN }} {{ Infinity }}", "\"NaN Infinity\""),
        OK("{{ NaN }}", "null"),
        OK("{{ $json.items.map(x => { return {v: x} }) }}", "[{\"v\":1},{\"v\":2},{\"v\":3}]"),
        OK("{{ $json.items.map(x => ({v: x})) }}", "[{\"v\":1},{\"v\":2},{\"v\":3}]"),
        OK("ids: {{ $json.people.map(p => p.name).join(',') }}", "\"ids: Ada,Bob,Cy\""),
        OK("{{ $json.items.filter(x => x > 1) }} and {{ $json.items.some(x => x > 2) }}",
           "\"[2,3] and true\""),
        ERR("{{ x => x }}", NOT_VALUE),
        ERR("{{ $json.items.map(x => }}", "unexpected '}'"),
    };
    run(rows, GL_NELEM(rows), true);
}

/* piece nested n times around mid: open^n mid close^n; the caller frees it. */
static char *nest(const char *open, int n, const char *mid, const char *close)
{
    size_t len = (strlen(open) + strlen(close)) * (size_t)n + strlen(mid) + 1;
    char *s = malloc(len);
    ASSERT(s);
    size_t at = 0;
    for (int i = 0; i < n; i++, at += strlen(open))
        memcpy(s + at, open, strlen(open));
    memcpy(s + at, mid, strlen(mid));
    at += strlen(mid);
    for (int i = 0; i < n; i++, at += strlen(close))
        memcpy(s + at, close, strlen(close));
    s[at] = '\0';
    return s;
}

TEST(bounds)
{
    static const row_t rows[] = {
        /* every call is charged; what fits, fits */
        OK("$json.big.map(x => x * 2).length", "10000"),
        OK("$json.big.filter(x => x % 1000 === 0)", "[0,1000,2000,3000,4000,5000,6000,7000,8000,9000]"),
        OK("[...$json.big, ...$json.big].length", "20000"),
        OK("Math.max(...$json.big)", "9999"),
        OK("$json.big.reduce((a, b) => a + b)", "49995000"),
        /* nested callbacks: the steps run out */
        ERR("$json.big.map(x => $json.big.map(y => y)).length", STEPS),
        ERR("$json.items.map(x => $json.big.map(y => $json.big.map(z => z)))", STEPS),
        ERR("$json.big.map(x => $json.big.slice(0, 9).map(y => y))", STEPS),
        /* sorts: n log n charged up front; comparator calls as they come */
        ERR("$json.big.sort()", STEPS),
        ERR("$json.big.sort((a, b) => a - b)", STEPS),
        /* reduce building huge strings and arrays: the steps or the output bound */
        ERR("$json.big.reduce((s, x) => s + 'xxxxxxxxxx', '')", STEPS),
        ERR("$json.items.reduce(s => s + s, $json.s1k.repeat(300))", TOO_BIG),
        ERR("$json.big.reduce(acc => [acc, acc], 0)", TOO_BIG),
        ERR("$json.big.reduce(acc => ({l: acc, r: acc}), 0)", TOO_BIG),
        /* sharing hidden from the size estimates ([acc, acc][0] is borrowed):
         * the accumulator's walk finds it */
        ERR("$json.big.reduce(acc => [acc, acc].slice(0), 0)", TOO_BIG),
        ERR("$json.big.reduce(acc => [[acc, acc][0], [acc, acc][1]], 0)", TOO_BIG),
        /* an accumulator growing by one element per call, and a big one
         * passed along by a cheap call of a tall body: its walks are few
         * and charged */
        OK("$json.big.slice(0, 300).reduce((acc, x) => [...acc, x], []).length", "300"),
        OK("$json.big.reduce(acc => true ? acc : [[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]], $json.big).length",
           "10000"),
        ERR("$json.big.reduce((acc, x) => [...acc, x], []).length", STEPS),
        /* nesting without growth: the walk's depth bound */
        ERR("$json.big.reduce(acc => [acc], 0)", "value nested too deeply"),
        ERR("$json.big.reduce(acc => ({a: acc}), 0)", "value nested too deeply"),
        /* a result sharing data many times: its real size is checked */
        ERR("$json.big.map(x => $json)", TOO_BIG),
        ERR("$json.big.slice(0, 2000).map(x => $json.s1k)", TOO_BIG),
        ERR("Math.max(...$json.big, ...$json.big)", "too many arguments (at most 16384)"),
        ERR("$json.big.flatMap(x => $json.big)", TOO_BIG),
    };
    run(rows, GL_NELEM(rows), false);

    /* deep nesting of arrows and blocks ends at the parser's bounds */
    gl_expr_ctx_t ctx = make_ctx();
    const char *deep[][3] = {
        { "$json.items.map(x => ", "1", ")" },
        { "$json.items.map(x => { return ", "1", " })" },
        { "$json.items.map(x => { if (x) ", "1", " })" },
        { "$json.items.map(x => {{", "1", "}})" },
        { "[...", "[1]", "]" },
    };
    for (size_t i = 0; i < GL_NELEM(deep); i++) {
        char *src = nest(deep[i][0], 1000, deep[i][1], deep[i][2]);
        json_object *out = NULL;
        gl_err_t err;
        gl_err_clear(&err);
        int rc = gl_expr_eval(src, &ctx, &out, &err);
        if (rc != GL_INVALID || !strstr(err.msg, "nested too deeply"))
            FAIL_AT("%.60s…: want \"nested too deeply\", got rc %d \"%s\"", src, rc, err.msg);
        json_object_put(out);
        free(src);
    }
    /* within the default depth, nested arrows run */
    char *src = nest("[1].map(x => ", 20, "x", ")");
    json_object *out = NULL;
    gl_err_t err;
    gl_err_clear(&err);
    ASSERT_EQ(gl_expr_eval(src, &ctx, &out, &err), GL_OK);
    free(src);
    json_object_put(out);
    json_object_put(fx_json);
    json_object_put(fx_input);
    fx_json = fx_input = NULL;
}

TEST_MAIN()
