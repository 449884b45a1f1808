/*
 * test_expr.c: the expression language, table-driven. Each row is an
 * expression (or a template for the render tables) and either the expected
 * result as JSON text or a substring of the expected error message.
 */
#include "engine.h"
#include "gl_test.h"
#include "json.h"

typedef struct {
    const char *src;
    const char *want; /* JSON text of the result, or NULL when an error is expected */
    const char *err;  /* substring of err.msg */
} row_t;

#define OK(s, w) { s, w, NULL }
#define ERR(s, e) { s, NULL, e }

static const char *const item_json =
    "{\"body\":{\"name\":\"Ada Lovelace\",\"email\":\" ada@example.com \"},"
    "\"items\":[1,2,3],\"tags\":[\"a\",\"b\"],\"n\":42,\"price\":9.5,\"zero\":0,\"neg\":-3,"
    "\"flag\":true,\"nothing\":null,\"empty\":\"\",\"emptyArr\":[],\"emptyObj\":{},"
    "\"nested\":{\"deep\":{\"x\":[10,{\"y\":\"z\"}]}},"
    "\"unicode\":\"h\\u00e9llo w\\u00f6rld \\u2713\",\"emoji\":\"a\\ud83d\\ude00b\","
    "\"str_num\":\"12\",\"date\":\"2026-01-31T10:00:00Z\","
    "\"list\":[{\"id\":1,\"name\":\"one\"},{\"id\":2,\"name\":\"two\"}],\"key with space\":5}";

static json_object *parse(const char *text)
{
    json_object *o = NULL;
    gl_err_t err;
    gl_err_clear(&err);
    if (gl_json_parse(text, strlen(text), 64, &o, &err) != GL_OK)
        FAIL_AT("test JSON does not parse: %s: %s", err.msg, text);
    return o;
}

typedef struct {
    json_object *json, *input, *fetch, *env;
} fixture_t;

static fixture_t fx;

static json_object *node_items(void *ud, const char *name)
{
    fixture_t *f = ud;
    return strcmp(name, "Fetch") == 0 ? f->fetch : NULL;
}

static gl_expr_ctx_t make_ctx(void)
{
    if (!fx.json) {
        fx.json = parse(item_json);
        fx.input = parse("[{\"x\":1},{\"x\":2},{\"x\":3}]");
        fx.fetch = parse("[{\"id\":7,\"title\":\"fetched\"},{\"id\":8}]");
        fx.env = parse("{\"API_URL\":\"https://api.example.com\"}");
    }
    gl_expr_ctx_t c;
    memset(&c, 0, sizeof c);
    c.json = fx.json;
    c.input = fx.input;
    c.item_index = 1;
    c.node_items = node_items;
    c.ud = &fx;
    c.execution_id = "exec-1";
    c.workflow_id = "wf-1";
    c.workflow_name = "My flow";
    c.now_ms = 1795635233123LL; /* 2026-11-25T19:33:53.123Z, a Wednesday */
    c.env = fx.env;
    return c;
}

static void fixture_free(void)
{
    json_object_put(fx.json);
    json_object_put(fx.input);
    json_object_put(fx.fetch);
    json_object_put(fx.env);
    memset(&fx, 0, sizeof fx);
}

static const char *text(json_object *o)
{
    return o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN) : "null";
}

/* Runs every row; prints each failure and fails at the end. */
static void run_rows(const row_t *rows, size_t n, const gl_expr_ctx_t *ctx, bool render)
{
    int failures = 0;
    for (size_t i = 0; i < n; i++) {
        const row_t *r = &rows[i];
        json_object *out = NULL;
        gl_err_t err;
        gl_err_clear(&err);
        int rc = render ? gl_expr_render(r->src, ctx, &out, &err)
                        : gl_expr_eval(r->src, ctx, &out, &err);
        if (r->want) {
            json_object *want = parse(r->want);
            if (rc != GL_OK) {
                fprintf(stderr, "row %zu: %s\n  want %s\n  got error: %s\n", i, r->src, r->want,
                        err.msg);
                failures++;
            } else if (!json_object_equal(out, want)) {
                fprintf(stderr, "row %zu: %s\n  want %s\n  got  %s\n", i, r->src, r->want,
                        text(out));
                failures++;
            }
            json_object_put(want);
        } else if (rc != GL_INVALID || !strstr(err.msg, r->err)) {
            fprintf(stderr, "row %zu: %s\n  want error containing \"%s\"\n  got rc %d: %s %s\n",
                    i, r->src, r->err, rc, rc == GL_OK ? text(out) : "", err.msg);
            failures++;
        }
        json_object_put(out);
    }
    if (failures)
        FAIL_AT("%d of %zu rows failed", failures, n);
}

static void run(const row_t *rows, size_t n, bool render)
{
    gl_expr_ctx_t ctx = make_ctx();
    run_rows(rows, n, &ctx, render);
    fixture_free();
}

TEST(literals_and_operators)
{
    static const row_t rows[] = {
        OK("1", "1"),
        OK("1.5", "1.5"),
        OK("1e3", "1000"),
        OK("2.5E-1", "0.25"),
        OK("0x1F", "31"),
        OK("0b101", "5"),
        OK(".5", "0.5"),
        OK("'a' + \"b\"", "\"ab\""),
        OK("'it\\'s'", "\"it's\""),
        OK("'\\u00e9\\t\\x41'", "\"\\u00e9\\tA\""),
        OK("'\\u{1F600}'.length", "1"),
        OK("'\\ud83d\\ude00' == '\\u{1F600}'", "true"),
        OK("`x=${1 + 2}!`", "\"x=3!\""),
        OK("`a${`b${'c'}`}d`", "\"abcd\""),
        OK("`${[1, 2]}|${null}|${undefined}`", "\"1,2|null|undefined\""),
        OK("true", "true"),
        OK("false", "false"),
        OK("null", "null"),
        OK("undefined", "null"),
        OK("NaN", "null"),
        OK("[1, 'a', [true, null]]", "[1,\"a\",[true,null]]"),
        OK("[1, 2,]", "[1,2]"),
        OK("[]", "[]"),
        OK("{a: 1, \"b c\": [2], 3: 'x', 'd': {e: null}}", "{\"a\":1,\"b c\":[2],\"3\":\"x\",\"d\":{\"e\":null}}"),
        OK("{}", "{}"),
        OK("1 + 2 * 3", "7"),
        OK("(1 + 2) * 3", "9"),
        OK("10 - 4 - 3", "3"),
        OK("2 * 3 % 4", "2"),
        OK("7 / 2", "3.5"),
        OK("7 % 3", "1"),
        OK("-7 % 3", "-1"),
        OK("5.5 % 2", "1.5"),
        OK("1 / 0", "null"),
        OK("0.1 + 0.2", "0.30000000000000004"),
        OK("-(-3)", "3"),
        OK("-2 * -3", "6"),
        OK("+'5'", "5"),
        OK("+''", "0"),
        OK("!0", "true"),
        OK("!!'x'", "true"),
        OK("!1 == false", "true"),
        OK("typeof 1", "\"number\""),
        OK("typeof 'a'", "\"string\""),
        OK("typeof null", "\"object\""),
        OK("typeof undefined", "\"undefined\""),
        OK("typeof $json.missing", "\"undefined\""),
        OK("typeof $json", "\"object\""),
        OK("typeof parseInt", "\"function\""),
        OK("typeof $now", "\"object\""),
        OK("typeof !1", "\"boolean\""),
        OK("1 < 2", "true"),
        OK("2 <= 2", "true"),
        OK("3 > 4", "false"),
        OK("3 >= 4", "false"),
        OK("'b' > 'a'", "true"),
        OK("'10' < '9'", "true"),
        OK("'10' < 9", "false"),
        OK("null >= 0", "true"),
        OK("undefined < 1", "false"),
        OK("'abc' < 'abd'", "true"),
        OK("1 + 2 > 2 && 3 < 4", "true"),
        OK("1 ? 'a' : 'b'", "\"a\""),
        OK("0 ? 'a' : 1 ? 'b' : 'c'", "\"b\""),
        OK("1 && 2", "2"),
        OK("0 && 2", "0"),
        OK("0 || 'x'", "\"x\""),
        OK("'' || null", "null"),
        OK("null ?? 'd'", "\"d\""),
        OK("0 ?? 'd'", "0"),
        OK("(null || 0) ?? 1", "0"),
        OK("false && $json.nothing.x", "false"),
        OK("true || $json.nothing.x", "true"),
        OK("$json.n ?? $json.nothing.x", "42"),
        OK("9007199254740993", "9007199254740992"),
        OK("2 * 4503599627370497", "9.007199254740994e15"),
        OK("1e300 * 10", "1e301"),
        OK("-0", "0"),
    };
    run(rows, GL_NELEM(rows), false);
}

TEST(coercion_and_equality)
{
    static const row_t rows[] = {
        OK("1 + 2 + '3'", "\"33\""),
        OK("'1' + 2 + 3", "\"123\""),
        OK("'5' - 2", "3"),
        OK("'5' * '2'", "10"),
        OK("'a' * 1", "null"),
        OK("true + 1", "2"),
        OK("null + 1", "1"),
        OK("undefined + 1", "null"),
        OK("[1, 2] + ''", "\"1,2\""),
        OK("'' + {}", "\"[object Object]\""),
        OK("({}) + 1", "\"[object Object]1\""),
        OK("[] + []", "\"\""),
        OK("[5] * 2", "10"),
        OK("'x' + null + undefined", "\"xnullundefined\""),
        OK("'n=' + 1.50", "\"n=1.5\""),
        OK("1 == '1'", "true"),
        OK("1 === '1'", "false"),
        OK("null == undefined", "true"),
        OK("null === undefined", "false"),
        OK("0 == ''", "true"),
        OK("0 == false", "true"),
        OK("'1' != 1", "false"),
        OK("'1' !== 1", "true"),
        OK("NaN == NaN", "false"),
        OK("NaN != NaN", "true"),
        OK("[1] == 1", "true"),
        OK("null == 0", "false"),
        OK("null == false", "false"),
        OK("true == 'true'", "false"),
        OK("true == '1'", "true"),
        OK("'1,2' == [1, 2]", "true"),
        OK("[1] == [1]", "false"),
        OK("$json.items == $json.items", "true"),
        OK("$json.items === $json.items", "true"),
        OK("'a' === 'a'", "true"),
        OK("$json.str_num == 12", "true"),
        OK("$json.str_num * 2", "24"),
        OK("$json.price * 2", "19"),
        OK("$json.price + 0.25", "9.75"),
        OK("$now == $now", "true"),
        OK("$now > DateTime.fromISO('2026-01-01')", "true"),
        OK("$now.plus(1, 'day') - $now", "86400000"),
    };
    run(rows, GL_NELEM(rows), false);
}

TEST(variables)
{
    static const row_t rows[] = {
        OK("$json.body.name.toUpperCase()", "\"ADA LOVELACE\""),
        OK("$json.items.length > 2 ? 'many' : 'few'", "\"many\""),
        OK("$json.tags.length > 2 ? 'many' : 'few'", "\"few\""),
        OK("$node[\"Fetch\"].json.id", "7"),
        OK("$node.Fetch.json.title", "\"fetched\""),
        OK("$input.first().json.x", "1"),
        OK("$input.last().json.x", "3"),
        OK("$input.all().length", "3"),
        OK("$input.all()[1].json.x", "2"),
        OK("$input.first()", "{\"json\":{\"x\":1}}"),
        OK("$input.item.json.n", "42"),
        OK("$('Fetch').item.json.id", "8"),
        OK("$('Fetch').first().json.id", "7"),
        OK("$('Fetch').last().json.id", "8"),
        OK("$('Fetch').all().length", "2"),
        OK("$(\"Fetch\").all()[0].json.title", "\"fetched\""),
        OK("$('Fetch').isExecuted", "true"),
        OK("$('Fetch').itemMatching(0).json.id", "7"),
        OK("$execution.id", "\"exec-1\""),
        OK("$workflow.id", "\"wf-1\""),
        OK("$workflow.name", "\"My flow\""),
        OK("$itemIndex", "1"),
        OK("$env.API_URL", "\"https://api.example.com\""),
        OK("$env.OTHER", "null"),
        OK("$json['key with space']", "5"),
        OK("$json.nested.deep.x[1].y", "\"z\""),
        OK("$json.nested['deep'].x[0]", "10"),
        OK("$json.list[1].name", "\"two\""),
        OK("$json.items[5]", "null"),
        OK("$json.items['1']", "2"),
        OK("$json.items[1.0]", "2"),
        OK("$json.tags[-1]", "null"),
        OK("$json.items[$itemIndex]", "2"),
        OK("$json.body", "{\"name\":\"Ada Lovelace\",\"email\":\" ada@example.com \"}"),
        OK("$json.nothing", "null"),
        OK("$json.missing", "null"),
        OK("$json.nothing?.x", "null"),
        OK("$json.nothing?.x.y.z", "null"),
        OK("$json.missing?.[0]", "null"),
        OK("$json.nothing?.toUpperCase()", "null"),
        OK("$json.body?.name", "\"Ada Lovelace\""),
        OK("$json.tags?.[1]", "\"b\""),
        OK("$json.n.length", "null"),
        ERR("($json.nothing?.x).y", "Cannot read properties of undefined (reading 'y')"),
        ERR("x", "unknown variable 'x'"),
        ERR("$foo.bar", "unknown variable '$foo'"),
        ERR("1 + items", "syntax error at column 5: unknown variable 'items'"),
        ERR("$json.nothing.b", "Cannot read properties of null (reading 'b')"),
        ERR("$json.missing.b", "Cannot read properties of undefined (reading 'b')"),
        ERR("$json.missing[0]", "Cannot read properties of undefined (reading '0')"),
        ERR("$json.missing.toUpperCase()", "Cannot read properties of undefined (reading 'toUpperCase')"),
        ERR("undefined.x", "Cannot read properties of undefined (reading 'x')"),
        ERR("$('Nope').item", "node 'Nope' does not exist or has not run"),
        ERR("$node['Nope'].json", "node 'Nope' does not exist or has not run"),
        ERR("$(1)", "$() expects a node name"),
        ERR("$json.n.foo()", "a number has no method 'foo'"),
        ERR("$json.body()", "an object has no method 'body'"),
        ERR("Math()", "Math is not a function"),
        ERR("(1)()", "a number is not a function"),
        ERR("Math.foo(1)", "Math.foo is not a function"),
    };
    run(rows, GL_NELEM(rows), false);
}

TEST(strings)
{
    static const row_t rows[] = {
        OK("$json.unicode.length", "13"),
        OK("$json.emoji.length", "3"),
        OK("$json.unicode.toUpperCase()", "\"H\\u00c9LLO W\\u00d6RLD \\u2713\""),
        OK("'\\u00c0\\u00c9\\u00ce'.toLowerCase()", "\"\\u00e0\\u00e9\\u00ee\""),
        OK("'stra\\u00dfe'.toUpperCase()", "\"STRASSE\""),
        OK("'\\u0391\\u0392\\u0393'.toLowerCase()", "\"\\u03b1\\u03b2\\u03b3\""),
        OK("'\\u043f\\u0440\\u0438'.toUpperCase()", "\"\\u041f\\u0420\\u0418\""),
        /* case mapping is Unicode's (utf8proc), as JavaScript's outside a locale */
        OK("'\\u01c6'.toUpperCase()", "\"\\u01c4\""),              /* ǆ → Ǆ */
        OK("'\\u0131'.toUpperCase()", "\"I\""),                     /* dotless ı → I */
        OK("'I'.toLowerCase()", "\"i\""),                           /* not Turkish ı */
        OK("'\\u0130'.toLowerCase()", "\"i\\u0307\""),             /* İ → i̇ */
        OK("'\\u00df'.toUpperCase()", "\"SS\""),
        OK("'\\u017f'.toUpperCase()", "\"S\""),                     /* long s */
        OK("'\\u0561\\u10d0'.toUpperCase()", "\"\\u0531\\u1c90\""), /* Armenian, Georgian */
        OK("'\\u0391\\u03a3'.toLowerCase()", "\"\\u03b1\\u03c3\""), /* no final sigma (JS: ς) */
        OK("$json.body.email.trim()", "\"ada@example.com\""),
        OK("$json.body.email.trimStart()", "\"ada@example.com \""),
        OK("$json.body.email.trimEnd()", "\" ada@example.com\""),
        OK("'\\u00a0\\n x \\t'.trim()", "\"x\""),
        OK("'a,b,,c'.split(',')", "[\"a\",\"b\",\"\",\"c\"]"),
        OK("'a,b,c'.split(',', 2)", "[\"a\",\"b\"]"),
        OK("'a, b'.split(', ')", "[\"a\",\"b\"]"),
        OK("'abc'.split('')", "[\"a\",\"b\",\"c\"]"),
        OK("'abc'.split()", "[\"abc\"]"),
        OK("'a\\u{1F600}'.split('')", "[\"a\",\"\\ud83d\\ude00\"]"),
        OK("''.split(',')", "[\"\"]"),
        OK("'a,'.split(',')", "[\"a\",\"\"]"),
        OK("'hello'.includes('ell')", "true"),
        OK("'hello'.includes('l', 4)", "false"),
        OK("'hello'.startsWith('he')", "true"),
        OK("'hello'.startsWith('l', 2)", "true"),
        OK("'hello'.endsWith('lo')", "true"),
        OK("'hello'.endsWith('l', 4)", "true"),
        OK("'hello'.indexOf('l')", "2"),
        OK("'hello'.indexOf('l', 3)", "3"),
        OK("'hello'.indexOf('z')", "-1"),
        OK("'h\\u00e9llo'.indexOf('l')", "2"),
        OK("'hello'.lastIndexOf('l')", "3"),
        OK("'hello'.lastIndexOf('l', 2)", "2"),
        OK("'hello'.lastIndexOf('l', 1)", "-1"),
        OK("'hello'.lastIndexOf('')", "5"),
        OK("'hello'.lastIndexOf('', 2)", "2"),
        OK("'hello'.lastIndexOf('', -3)", "0"),
        OK("'hello'.lastIndexOf('hello!')", "-1"),
        OK("'hello'.lastIndexOf('hello')", "0"),
        OK("'aaaa'.lastIndexOf('aa')", "2"),
        OK("'aaaa'.lastIndexOf('aa', 1)", "1"),
        OK("'h\\u00e9ll\\u00e9'.lastIndexOf('\\u00e9')", "4"),
        OK("'h\\u00e9ll\\u00e9'.lastIndexOf('\\u00e9', 3)", "1"),
        OK("'a\\ud83d\\ude00b\\ud83d\\ude00'.lastIndexOf('\\ud83d\\ude00', 100)", "3"),
        OK("'hello'.slice(1, 3)", "\"el\""),
        OK("'hello'.slice(-3)", "\"llo\""),
        OK("'hello'.slice(3, 1)", "\"\""),
        OK("'h\\u00e9llo'.slice(1, 2)", "\"\\u00e9\""),
        OK("'hello'.substring(3, 1)", "\"el\""),
        OK("'hello'.substring(-2)", "\"hello\""),
        OK("'hello'.substr(1, 3)", "\"ell\""),
        OK("'a-b-c'.replace('-', '+')", "\"a+b-c\""),
        OK("'a-b-c'.replaceAll('-', '+')", "\"a+b+c\""),
        OK("'abc'.replace('b', '[$&]')", "\"a[b]c\""),
        OK("'abc'.replace('x', 'y')", "\"abc\""),
        OK("'ab'.replaceAll('', '-')", "\"-a-b-\""),
        OK("'aaa'.replaceAll('aa', 'b')", "\"ba\""),
        OK("'5'.padStart(3, '0')", "\"005\""),
        OK("'5'.padEnd(3)", "\"5  \""),
        OK("'abc'.padStart(2)", "\"abc\""),
        OK("'x'.padStart(6, 'ab')", "\"ababax\""),
        OK("'ab'.padStart(7, 'xyz')", "\"xyzxyab\""),
        OK("'x'.padStart(5, '\\u00e9a')", "\"\\u00e9a\\u00e9ax\""),
        OK("'x'.padEnd(3, '\\ud83d\\ude00')", "\"x\\ud83d\\ude00\\ud83d\\ude00\""),
        OK("'x'.padEnd(1, 'ab')", "\"x\""),
        OK("'x'.padStart(3, '')", "\"x\""),
        OK("'abc'.padEnd(NaN)", "\"abc\""),
        OK("'x'.padStart(2.9, 'y')", "\"yx\""),
        OK("'a1b1c'.replaceAll('1', '$`')", "\"aaba1bc\""),
        OK("'aXbX'.replace('X', \"$'\")", "\"abXbX\""),
        OK("'ab'.repeat(3)", "\"ababab\""),
        OK("'x'.repeat(0)", "\"\""),
        OK("'hello'.charAt(1)", "\"e\""),
        OK("'hello'.charAt(10)", "\"\""),
        OK("'abc'.at(-1)", "\"c\""),
        OK("'A'.charCodeAt(0)", "65"),
        OK("'hello'[0]", "\"h\""),
        OK("$json.emoji[1]", "\"\\ud83d\\ude00\""),
        OK("'a'.concat('b', 1, null)", "\"ab1null\""),
        OK("''.isEmpty()", "true"),
        OK("'x'.isNotEmpty()", "true"),
        OK("'abc'.toString()", "\"abc\""),
        OK("$json.body.name.split(' ')[1].toLowerCase()", "\"lovelace\""),
        ERR("'x'.repeat(-1)", "Invalid count value: -1"),
        ERR("'x'.repeat(Infinity)", "Invalid count value: Infinity"),
        ERR("'abc'.foo()", "a string has no method 'foo'"),
    };
    run(rows, GL_NELEM(rows), false);
}

TEST(arrays_objects_json)
{
    static const row_t rows[] = {
        OK("$json.items.join('-')", "\"1-2-3\""),
        OK("$json.items.join()", "\"1,2,3\""),
        OK("[1, null, [2, 3]].join(';')", "\"1;;2,3\""),
        OK("$json.items.includes(2)", "true"),
        OK("$json.items.includes('2')", "false"),
        OK("[NaN].includes(NaN)", "false"),
        OK("[0/0].indexOf(0/0)", "-1"),
        OK("$json.tags.indexOf('b')", "1"),
        OK("[1, 2, 1].lastIndexOf(1)", "2"),
        OK("$json.items.slice(1)", "[2,3]"),
        OK("$json.items.slice(-2, -1)", "[2]"),
        OK("$json.items.concat([4, 5], 6)", "[1,2,3,4,5,6]"),
        OK("$json.items.reverse()", "[3,2,1]"),
        OK("$json.items.reverse() && $json.items", "[1,2,3]"),
        OK("$json.items.first()", "1"),
        OK("$json.items.last()", "3"),
        OK("$json.emptyArr.first()", "null"),
        OK("$json.emptyArr.isEmpty()", "true"),
        OK("$json.items.isEmpty()", "false"),
        OK("$json.items.isNotEmpty()", "true"),
        OK("$json.items.at(-1)", "3"),
        OK("$json.list.length", "2"),
        OK("$json.items.toString()", "\"1,2,3\""),
        OK("Object.keys($json.body)", "[\"name\",\"email\"]"),
        OK("Object.values({a: 1, b: 'x'})", "[1,\"x\"]"),
        OK("Object.entries({a: 1})", "[[\"a\",1]]"),
        OK("Object.keys(['x', 'y'])", "[\"0\",\"1\"]"),
        OK("Object.keys(5)", "[]"),
        OK("$json.emptyObj.isEmpty()", "true"),
        OK("$json.body.hasOwnProperty('name')", "true"),
        OK("$json.body.hasOwnProperty('age')", "false"),
        OK("JSON.parse('{\"a\":[1,2]}').a[1]", "2"),
        OK("JSON.parse('\"x\"')", "\"x\""),
        OK("JSON.stringify({a: [1, 'x'], b: null})", "\"{\\\"a\\\":[1,\\\"x\\\"],\\\"b\\\":null}\""),
        OK("JSON.stringify([1, 2], null, 2)", "\"[\\n  1,\\n  2\\n]\""),
        OK("JSON.stringify({a: 1}, null, '--')", "\"{\\n--\\\"a\\\": 1\\n}\""),
        OK("JSON.stringify('a\\nb')", "\"\\\"a\\\\nb\\\"\""),
        OK("JSON.stringify(undefined)", "null"),
        OK("JSON.stringify(1 / 0)", "\"null\""),
        OK("JSON.stringify(0.5)", "\"0.5\""),
        OK("JSON.stringify($now)", "\"\\\"2026-11-25T19:33:53.123Z\\\"\""),
        OK("JSON.stringify($json.list[0])", "\"{\\\"id\\\":1,\\\"name\\\":\\\"one\\\"}\""),
        OK("Array.isArray($json.items)", "true"),
        OK("Array.isArray($json.body)", "false"),
        ERR("Object.keys(null)", "Cannot convert undefined or null to object"),
        ERR("JSON.parse('{bad')", "JSON.parse:"),
        ERR("JSON.stringify(1, 1)", "replacer"),
        /* map exists now (arrow-function callbacks): a number is no callback */
        ERR("$json.items.map(1)", "a number is not a function (in Array.map)"),
    };
    run(rows, GL_NELEM(rows), false);
}

TEST(numbers_and_math)
{
    static const row_t rows[] = {
        OK("(3.14159).toFixed(2)", "\"3.14\""),
        OK("(1.005).toFixed(2)", "\"1.00\""),
        OK("(2.5).toFixed(0)", "\"3\""),
        OK("(1.25).toFixed(1)", "\"1.3\""),
        OK("(-1.5).toFixed(0)", "\"-2\""),
        OK("(0).toFixed(2)", "\"0.00\""),
        OK("(9.995).toFixed(2)", "\"9.99\""),
        OK("(99.5).toFixed(0)", "\"100\""),
        OK("(123.456).toFixed()", "\"123\""),
        OK("(1e21).toFixed(2)", "\"1e+21\""),
        OK("$json.price.toFixed(2)", "\"9.50\""),
        OK("(255).toString(16)", "\"ff\""),
        OK("(10).toString()", "\"10\""),
        OK("(-255).toString(2)", "\"-11111111\""),
        OK("Number('42')", "42"),
        OK("Number('  12.5  ')", "12.5"),
        OK("Number('')", "0"),
        OK("Number('12px')", "null"),
        OK("Number('0x10')", "16"),
        OK("Number('-Infinity') < 0", "true"),
        OK("Number(true)", "1"),
        OK("Number(null)", "0"),
        OK("Number(undefined)", "null"),
        OK("Number([5])", "5"),
        OK("Number($now)", "1795635233123"),
        OK("String(123)", "\"123\""),
        OK("String(null)", "\"null\""),
        OK("String([1, [2, 3]])", "\"1,2,3\""),
        OK("String({})", "\"[object Object]\""),
        OK("String(1e21)", "\"1e+21\""),
        OK("String(0.000001)", "\"0.000001\""),
        OK("String(1e-7)", "\"1e-7\""),
        OK("String(-0)", "\"0\""),
        OK("String(123456789012345680000)", "\"123456789012345680000\""),
        OK("String(1 / 3)", "\"0.3333333333333333\""),
        OK("String(-1.5e-10)", "\"-1.5e-10\""),
        OK("String(100)", "\"100\""),
        OK("Boolean('')", "false"),
        OK("Boolean('0')", "true"),
        OK("Boolean([])", "true"),
        OK("Boolean()", "false"),
        OK("parseInt('42px')", "42"),
        OK("parseInt('  -17')", "-17"),
        OK("parseInt('ff', 16)", "255"),
        OK("parseInt('0x1A')", "26"),
        OK("parseInt('abc')", "null"),
        OK("parseInt('101', 2)", "5"),
        OK("parseInt('9', 8)", "null"),
        OK("parseInt(12.9)", "12"),
        OK("parseFloat('3.14abc')", "3.14"),
        OK("parseFloat('.5')", "0.5"),
        OK("parseFloat('-1e3x')", "-1000"),
        OK("parseFloat('x')", "null"),
        OK("isNaN('abc')", "true"),
        OK("isNaN('12')", "false"),
        OK("isFinite('12')", "true"),
        OK("isFinite(1 / 0)", "false"),
        OK("Number.isInteger(5.0)", "true"),
        OK("Number.isInteger('5')", "false"),
        OK("Number.isNaN('x')", "false"),
        OK("Number.MAX_SAFE_INTEGER", "9007199254740991"),
        OK("Math.round(2.5)", "3"),
        OK("Math.round(-2.5)", "-2"),
        OK("Math.round(2.4)", "2"),
        OK("Math.floor(-1.5)", "-2"),
        OK("Math.ceil(1.1)", "2"),
        OK("Math.abs(-3)", "3"),
        OK("Math.min(3, 1, 2)", "1"),
        OK("Math.max(3, '7', 2)", "7"),
        OK("Math.max()", "null"),
        OK("Math.max(1, 'x')", "null"),
        OK("Math.pow(2, 10)", "1024"),
        OK("Math.pow(1, Infinity)", "null"),
        OK("Math.sqrt(16)", "4"),
        OK("Math.trunc(-4.7)", "-4"),
        OK("Math.sign(-3)", "-1"),
        OK("Math.PI > 3.14", "true"),
        OK("Math.round($json.price)", "10"),
        ERR("(1).toFixed(101)", "between 0 and 100"),
        ERR("(1).toString(1)", "radix must be between 2 and 36"),
        ERR("Math.random()", "Math.random is not a function"),
    };
    run(rows, GL_NELEM(rows), false);
}

TEST(dates)
{
    static const row_t rows[] = {
        OK("$now.toISO()", "\"2026-11-25T19:33:53.123Z\""),
        OK("$now", "\"2026-11-25T19:33:53.123Z\""),
        OK("$today.toISO()", "\"2026-11-25T00:00:00.000Z\""),
        OK("$now.toMillis()", "1795635233123"),
        OK("$now.toSeconds()", "1795635233.123"),
        OK("$now.toUnixInteger()", "1795635233"),
        OK("$now.toISODate()", "\"2026-11-25\""),
        OK("[$now.year, $now.month, $now.day, $now.hour, $now.minute, $now.second, $now.millisecond]",
           "[2026,11,25,19,33,53,123]"),
        OK("$now.weekday", "3"),
        OK("$now.toFormat('yyyy-MM-dd HH:mm:ss.SSS')", "\"2026-11-25 19:33:53.123\""),
        OK("$now.toFormat(\"dd/MM/yy 'at' H:m\")", "\"25/11/26 at 19:33\""),
        OK("$now.toFormat('d MMM yyyy, EEEE')", "\"25 Nov 2026, Wednesday\""),
        OK("$now.toFormat(\"yyyy'T'HH\")", "\"2026T19\""),
        OK("DateTime.fromISO('2026-03-05T04:05:06Z').toFormat('M/d H:mm:ss h a')", "\"3/5 4:05:06 4 AM\""),
        OK("$now.plus(1, 'day').toISO()", "\"2026-11-26T19:33:53.123Z\""),
        OK("$now.plus(2, 'hours').toISO()", "\"2026-11-25T21:33:53.123Z\""),
        OK("$now.plus({days: 1, hours: 2}).toISO()", "\"2026-11-26T21:33:53.123Z\""),
        OK("DateTime.fromISO('2026-01-31').plus(1, 'month').toISODate()", "\"2026-02-28\""),
        OK("DateTime.fromISO('2024-01-31').plus({months: 1}).toISODate()", "\"2024-02-29\""),
        OK("DateTime.fromISO('2024-02-29').plus(1, 'years').toISODate()", "\"2025-02-28\""),
        OK("DateTime.fromISO('2026-03-31').minus(1, 'month').toISODate()", "\"2026-02-28\""),
        OK("$now.minus(2, 'weeks').toISODate()", "\"2026-11-11\""),
        OK("$now.minus({minutes: 34}).toFormat('HH:mm')", "\"18:59\""),
        OK("$now.plus(1000).toISO()", "\"2026-11-25T19:33:54.123Z\""),
        OK("DateTime.fromISO('2026-12-31T23:59:59Z').plus(1, 'second').toISO()", "\"2027-01-01T00:00:00.000Z\""),
        OK("$now.startOf('month').toISO()", "\"2026-11-01T00:00:00.000Z\""),
        OK("$now.startOf('week').toISODate()", "\"2026-11-23\""),
        OK("$now.startOf('year').toISO()", "\"2026-01-01T00:00:00.000Z\""),
        OK("$now.startOf('quarter').toISODate()", "\"2026-10-01\""),
        OK("$now.startOf('hour').toISO()", "\"2026-11-25T19:00:00.000Z\""),
        OK("$now.startOf('day').toMillis() == $today.toMillis()", "true"),
        OK("$now.endOf('month').toISO()", "\"2026-11-30T23:59:59.999Z\""),
        OK("$now.endOf('day').toISO()", "\"2026-11-25T23:59:59.999Z\""),
        OK("DateTime.fromISO('2026-03-01T12:30:00+02:00').toISO()", "\"2026-03-01T10:30:00.000Z\""),
        OK("DateTime.fromISO('2026-03-01T12:30-0130').toISO()", "\"2026-03-01T14:00:00.000Z\""),
        OK("DateTime.fromISO($json.date).toMillis()", "1769853600000"),
        OK("DateTime.fromISO('2026-03-01T12:30:00.5Z').millisecond", "500"),
        OK("DateTime.fromISO('2026-03').toISO()", "\"2026-03-01T00:00:00.000Z\""),
        OK("DateTime.fromMillis(0).toISO()", "\"1970-01-01T00:00:00.000Z\""),
        OK("DateTime.fromMillis(-1).toISO()", "\"1969-12-31T23:59:59.999Z\""),
        OK("DateTime.fromSeconds(1.5).toMillis()", "1500"),
        OK("DateTime.now().toMillis() == $now.toMillis()", "true"),
        OK("DateTime.utc(2024, 2, 29).toISO()", "\"2024-02-29T00:00:00.000Z\""),
        OK("`${$now}`", "\"2026-11-25T19:33:53.123Z\""),
        OK("String($today)", "\"2026-11-25T00:00:00.000Z\""),
        OK("[$today]", "[\"2026-11-25T00:00:00.000Z\"]"),
        OK("{at: $today}", "{\"at\":\"2026-11-25T00:00:00.000Z\"}"),
        OK("$now.isValid", "true"),
        /* Luxon: unparsable text gives an invalid DateTime (isValid false, JSON null), not an error */
        OK("DateTime.fromISO('2026-02-30').isValid", "false"),
        OK("DateTime.fromISO('yesterday')", "null"),
        OK("DateTime.fromISO('2026-01-01T25:00').toString()", "\"Invalid DateTime\""),
        ERR("DateTime.fromISO(5)", "expects a string"),
        ERR("DateTime.fromMillis(1e20)", "date out of range"),
        ERR("$now.plus(1, 'fortnight')", "unknown unit 'fortnight'"),
        ERR("$now.plus('x')", "plus() expects"),
        /* Luxon: the fraction of a month is 30 days' worth: 1 month + 15 days */
        OK("$now.plus(1.5, 'months').toISO()", "\"2027-01-09T19:33:53.123Z\""),
        ERR("$now.plus(100000, 'years')", "date out of range"),
        ERR("$now.toFormat(1)", "toFormat() expects a format string"),
        OK("DateTime.utc(2023, 2, 29).isValid", "false"),
    };
    run(rows, GL_NELEM(rows), false);
}

TEST(templates)
{
    static const row_t rows[] = {
        OK("Hello {{ $json.body.name }}!", "\"Hello Ada Lovelace!\""),
        OK("{{ $json.n }}", "42"),
        /* n8n keeps the text around a lone {{ }}: a string, not the array */
        OK("  {{ $json.items }}\n", "\"  [1,2,3]\\n\""),
        OK("{{ $json.body.name.toUpperCase() }}", "\"ADA LOVELACE\""),
        OK("{{ $json.items.length > 2 ? 'many' : 'few' }}", "\"many\""),
        OK("{{ $node[\"Fetch\"].json.id }}", "7"),
        OK("{{ $input.first().json.x }}", "1"),
        OK("{{$json.flag}}", "true"),
        OK("{{ $json.nothing }}", "null"),
        OK("{{ $json.missing }}", "null"),
        OK("n={{ $json.n }}, items={{ $json.items }}", "\"n=42, items=[1,2,3]\""),
        OK("x{{ $json.nothing }}y{{ $json.missing }}z", "\"xyz\""),
        OK("{{ 1 }}{{ 2 }}", "\"12\""),
        OK("no expressions", "\"no expressions\""),
        OK("", "\"\""),
        OK("{{ unclosed", "\"{{ unclosed\""),
        OK("{{ 1 }} {{ 2", "\"1 {{ 2\""),
        OK("v: {{ 0.1 + 0.2 }}", "\"v: 0.30000000000000004\""),
        OK("{{ 1/0 }} and {{ 0/0 }}", "\"Infinity and NaN\""),
        OK("{{ {a: {b: 1}} }}", "{\"a\":{\"b\":1}}"),
        OK("obj {{ {a: 'x', n: [1]} }}", "\"obj {\\\"a\\\":\\\"x\\\",\\\"n\\\":[1]}\""),
        OK("{{ $now }}", "\"2026-11-25T19:33:53.123Z\""),
        OK("at {{ $now }}", "\"at 2026-11-25T19:33:53.123Z\""),
        OK("Today is {{ $today.toFormat('yyyy-MM-dd') }}", "\"Today is 2026-11-25\""),
        OK("{{ '}}' }}", "\"}}\""),
        OK("{{ `a${'}'}b` }}", "\"a}b\""),
        OK("{{ }}", "null"),
        OK("a{{ }}b", "\"ab\""),
        OK("{{ $json.emoji }} \\u2713", "\"a\\ud83d\\ude00b \\\\u2713\""),
        OK("{{ true }} {{ 1.5 }} {{ 'x' }}", "\"true 1.5 x\""),
        OK("{{ $execution.id }}/{{ $workflow.name }}", "\"exec-1/My flow\""),
        ERR("{{ 1 + }}", "syntax error at column 8: unexpected '}'"),
        ERR("a {{ x }}", "syntax error at column 6: unknown variable 'x'"),
        ERR("{{ $json.missing.x }}", "Cannot read properties of undefined (reading 'x')"),
        ERR("{{ 1 }} {{ $json.nothing.y }}", "Cannot read properties of null (reading 'y')"),
        ERR("{{ 1 2 }}", "unexpected '2'"),
    };
    run(rows, GL_NELEM(rows), true);
}

TEST(syntax_errors)
{
    static const row_t rows[] = {
        ERR("", "empty expression"),
        ERR("   ", "empty expression"),
        ERR("1 +", "syntax error at column 4: unexpected end of expression"),
        ERR("(1 + 2", "expected ')'"),
        ERR("1 2", "syntax error at column 3: unexpected '2'"),
        ERR("$json.a = 1", "assignment is not allowed"),
        ERR("$json.a += 1", "assignment is not allowed"),
        /* arrow functions, `new Date`, declarations in arrow bodies, `&`, `**`,
         * spread and `void` are part of the language now (n8n compatibility,
         * tests/unit/test_n8n_lang.c): these rows show what still is not */
        ERR("(a, b) => a", "a function is not a value"),
        ERR("() => 1", "a function is not a value"),
        ERR("new Map()", "'new Map' is not supported"),
        ERR("function f() { return 1 }", "function definitions are not supported"),
        ERR("for (;;) {}", "loops are not supported"),
        ERR("while (true) 1", "loops are not supported"),
        ERR("let a = 1", "declarations are only allowed in an arrow function's body"),
        ERR("1; 2", "only one expression is allowed"),
        ERR("'abc", "syntax error at column 1: unterminated string"),
        ERR("`abc", "unterminated template literal"),
        ERR("`${1 + }`", "unexpected '}'"),
        ERR("$json.", "expected a property name after '.'"),
        ERR("[1, 2", "expected ']'"),
        ERR("[1,,2]", "array holes are not supported"),
        ERR("{a 1}", "expected ':'"),
        ERR("{a}", "unknown variable 'a'"), /* shorthand {a: a} */
        ERR("{'a'}", "expected ':' after the property name"),
        ERR("{[1]: 2}", "computed property names are not supported"),
        ERR("-2 ** 2", "a unary operator before '**' needs parentheses"),
        ERR("$json.n++", "increment and decrement are not supported"),
        ERR("/ab", "unterminated regular expression"), /* regexes are supported now */
        ERR("1 \xc2\xa4 2", "syntax error at column 3: unexpected character"),
        ERR("3in", "identifier starts immediately after a number"),
        ERR("01", "leading zero"),
        ERR("'\\x4'", "invalid \\x escape"),
        ERR("'\\u12'", "invalid \\u escape"),
        ERR("(1, 2)", "the comma operator is not supported"),
        ERR("$json.a?.(1)", "optional calls"),
        ERR("this", "'this' is not supported"),
        ERR("$json.n instanceof 1", "operator 'instanceof' is not supported"),
        ERR("...$json.items", "spread syntax is only allowed in [], {} and arguments"),
        ERR("1 ?? 2 || 3", "cannot be mixed"),
        ERR("delete $json.a", "unexpected 'delete'"),
        ERR("1 ? 2", "expected ':' but the expression ended"),
        ERR("Math.max(1,", "unexpected end of expression"),
    };
    run(rows, GL_NELEM(rows), false);
}

static char *repeat_str(const char *open, int n, const char *mid, const char *close)
{
    size_t len = (strlen(open) + strlen(close)) * (size_t)n + strlen(mid) + 1;
    char *s = malloc(len);
    ASSERT(s);
    s[0] = '\0';
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

static void expect_error(const char *src, const gl_expr_ctx_t *ctx, const char *want)
{
    json_object *out = NULL;
    gl_err_t err;
    gl_err_clear(&err);
    int rc = gl_expr_eval(src, ctx, &out, &err);
    if (rc != GL_INVALID || !strstr(err.msg, want))
        FAIL_AT("%.60s…: want error \"%s\", got rc %d \"%s\" %s", src, want, rc, err.msg, text(out));
    json_object_put(out);
}

TEST(limits)
{
    static const row_t rows[] = {
        ERR("'x'.repeat(200000)", "expression exceeds 100000 steps"),
        ERR("'a,'.repeat(90000).split(',')", "expression exceeds 100000 steps"),
        ERR("'x'.repeat(1000).repeat(1000).repeat(2)", "expression result exceeds 1048576 bytes"),
        ERR("'x'.repeat(1000).repeat(1000).padEnd(2000000)", "expression result exceeds 1048576 bytes"),
        OK("'x'.repeat(1000).repeat(1000).length", "1000000"),
        OK("'ab'.repeat(40000).length", "80000"),
    };
    run(rows, GL_NELEM(rows), false);

    gl_expr_ctx_t ctx = make_ctx();
    char *deep = repeat_str("(", 1000, "1", ")");
    expect_error(deep, &ctx, "expression nested too deeply");
    free(deep);
    deep = repeat_str("[", 1000, "1", "]");
    expect_error(deep, &ctx, "expression nested too deeply");
    free(deep);
    deep = repeat_str("!", 1000, "1", "");
    expect_error(deep, &ctx, "expression nested too deeply");
    free(deep);
    deep = repeat_str("1+", 2000, "1", "");
    expect_error(deep, &ctx, "expression nested too deeply");
    free(deep);
    deep = repeat_str("`${", 1000, "1", "}`");
    expect_error(deep, &ctx, "expression nested too deeply");
    free(deep);
    deep = repeat_str("{a:", 1000, "1", "}");
    expect_error(deep, &ctx, "expression nested too deeply");
    free(deep);
    deep = repeat_str("Math.abs(", 1000, "1", ")");
    expect_error(deep, &ctx, "expression nested too deeply");
    free(deep);
    deep = repeat_str("1?", 1000, "1", ":1");
    expect_error(deep, &ctx, "expression nested too deeply");
    free(deep);

    /* within the default depth: 60 parentheses are fine */
    deep = repeat_str("(", 60, "1", ")");
    json_object *out = NULL;
    gl_err_t err;
    ASSERT_EQ(gl_expr_eval(deep, &ctx, &out, &err), GL_OK);
    ASSERT_EQ(json_object_get_int(out), 1);
    json_object_put(out);
    free(deep);

    /* caller-chosen limits */
    ctx.limits.max_steps = 10;
    expect_error("1+1+1+1+1+1+1+1+1+1+1", &ctx, "expression exceeds 10 steps");
    ctx.limits.max_steps = 0;
    ctx.limits.max_depth = 3;
    expect_error("((((1))))", &ctx, "expression nested too deeply");
    ctx.limits.max_depth = 0;
    ctx.limits.max_output = 100;
    expect_error("'abcdefghij'.repeat(11)", &ctx, "expression result exceeds 100 bytes");
    expect_error("['x'.repeat(60), 'y'.repeat(60)]", &ctx, "expression result exceeds 100 bytes");
    expect_error("{a: 'x'.repeat(50), b: 'y'.repeat(50)}", &ctx, "expression result exceeds 100 bytes");
    expect_error("JSON.stringify($json)", &ctx, "expression result exceeds 100 bytes");
    expect_error("'x'.padStart(1000)", &ctx, "expression result exceeds 100 bytes");
    expect_error("[1,2,3,4,5,6].concat([1,2,3,4,5,6])", &ctx, "expression result exceeds 100 bytes");
    out = NULL;
    ASSERT_EQ(gl_expr_render("{{ 'x'.repeat(60) }}{{ 'y'.repeat(60) }}", &ctx, &out, &err), GL_INVALID);
    ASSERT_CONTAINS(err.msg, "exceeds 100 bytes");
    ASSERT(out == NULL);
    fixture_free();
}

TEST(render_value)
{
    gl_expr_ctx_t ctx = make_ctx();
    json_object *params = parse(
        "{\"url\":\"{{ $env.API_URL }}/items/{{ $json.n }}\",\"count\":\"{{ $json.items.length }}\","
        "\"list\":[\"{{ $json.tags[0] }}\",5,{\"deep\":\"{{ $json.flag }}\"}],"
        "\"plain\":\"text\",\"num\":3,\"n\":null,\"{{ key }}\":\"{{ $json.nothing }}\"}");
    json_object *want = parse(
        "{\"url\":\"https://api.example.com/items/42\",\"count\":3,"
        "\"list\":[\"a\",5,{\"deep\":true}],\"plain\":\"text\",\"num\":3,\"n\":null,"
        "\"{{ key }}\":null}");
    json_object *out = NULL;
    gl_err_t err;
    gl_err_clear(&err);
    ASSERT_EQ(gl_expr_render_value(params, &ctx, &out, &err), GL_OK);
    if (!json_object_equal(out, want))
        FAIL_AT("got %s", text(out));
    json_object_put(out);
    json_object_put(want);
    json_object_put(params);

    params = parse("{\"a\":{\"b\":[\"ok\",\"{{ nope }}\"]}}");
    out = NULL;
    ASSERT_EQ(gl_expr_render_value(params, &ctx, &out, &err), GL_INVALID);
    ASSERT(out == NULL);
    ASSERT_STR_EQ(err.field, "a.b[1]");
    ASSERT_CONTAINS(err.msg, "unknown variable 'nope'");
    json_object_put(params);

    /* a bare string and a value without strings */
    params = json_object_new_string("{{ $json.tags }}");
    ASSERT_EQ(gl_expr_render_value(params, &ctx, &out, &err), GL_OK);
    ASSERT_STR_EQ(text(out), "[\"a\",\"b\"]");
    json_object_put(out);
    json_object_put(params);
    ASSERT_EQ(gl_expr_render_value(NULL, &ctx, &out, &err), GL_OK);
    ASSERT(out == NULL);
    fixture_free();
}

TEST(context_defaults_and_helpers)
{
    json_object *out = NULL;
    gl_err_t err;
    gl_err_clear(&err);
    /* a NULL context: every variable has its empty value */
    ASSERT_EQ(gl_expr_eval("$json", NULL, &out, &err), GL_OK);
    ASSERT_STR_EQ(text(out), "{}");
    json_object_put(out);
    ASSERT_EQ(gl_expr_eval("[$input.all(), $input.first(), $env, $execution.id, $itemIndex]", NULL, &out, &err), GL_OK);
    ASSERT_STR_EQ(text(out), "[[],null,{},null,0]");
    json_object_put(out);
    ASSERT_EQ(gl_expr_eval("$input.item.json", NULL, &out, &err), GL_OK);
    ASSERT_STR_EQ(text(out), "{}");
    json_object_put(out);
    ASSERT_EQ(gl_expr_eval("$('Fetch')", NULL, &out, &err), GL_INVALID);
    ASSERT_CONTAINS(err.msg, "does not exist or has not run");
    ASSERT_EQ(gl_expr_eval("$now", NULL, &out, &err), GL_OK);
    ASSERT_STR_EQ(text(out), "\"1970-01-01T00:00:00.000Z\"");
    json_object_put(out);
    ASSERT_EQ(gl_expr_eval(NULL, NULL, &out, &err), GL_INVALID);

    ASSERT(gl_expr_has("a {{ b }}"));
    ASSERT(gl_expr_has("{{}}"));
    ASSERT(!gl_expr_has("{{ a"));
    ASSERT(!gl_expr_has("}} {{"));
    ASSERT(!gl_expr_has("plain"));
    ASSERT(!gl_expr_has(NULL));

    static const struct {
        const char *json;
        bool truthy;
    } t[] = {
        { "null", false }, { "false", false }, { "true", true }, { "0", false }, { "0.0", false },
        { "-1", true }, { "0.5", true }, { "\"\"", false }, { "\"0\"", true }, { "[]", true },
        { "{}", true },
    };
    for (size_t i = 0; i < GL_NELEM(t); i++) {
        json_object *v = parse(t[i].json);
        if (gl_expr_truthy(v) != t[i].truthy)
            FAIL_AT("truthy(%s) should be %d", t[i].json, t[i].truthy);
        json_object_put(v);
    }
    /* results keep their type: int, double, string */
    gl_expr_ctx_t ctx = make_ctx();
    ASSERT_EQ(gl_expr_eval("$json.n + 1", &ctx, &out, &err), GL_OK);
    ASSERT(json_object_is_type(out, json_type_int));
    json_object_put(out);
    ASSERT_EQ(gl_expr_eval("$json.n / 8", &ctx, &out, &err), GL_OK);
    ASSERT(json_object_is_type(out, json_type_double));
    ASSERT_STR_EQ(json_object_to_json_string(out), "5.25");
    json_object_put(out);
    ASSERT_EQ(gl_expr_eval("0.1 + 0.2", &ctx, &out, &err), GL_OK);
    ASSERT_STR_EQ(json_object_to_json_string(out), "0.30000000000000004");
    json_object_put(out);
    /* evaluation leaves the caller's data as it was */
    ASSERT_EQ(gl_expr_eval("$json.items.reverse().concat($json.items)", &ctx, &out, &err), GL_OK);
    json_object_put(out);
    ASSERT_STR_EQ(text(json_object_object_get(fx.json, "items")), "[1,2,3]");
    fixture_free();
}

/* found by fuzz_expr: 202.0E18 was written "202000000000000000000", an
 * integer past 64 bits that the strict parser refuses and json-c clamps, so
 * a step output holding it could not be read back as it was */
TEST(big_integral_doubles_stay_json)
{
    gl_expr_ctx_t ctx = make_ctx();
    json_object *out = NULL;
    gl_err_t err;
    static const char *const rows[][2] = {
        { "202.0E18", "202000000000000000000.0" }, { "-Math.pow(2, 63)", "-9223372036854776000.0" },
        { "Math.pow(2, 62)", "4611686018427388000" }, { "1e21", "1e+21" }, { "Math.pow(2, 53) + 2", "9007199254740994" },
    };
    for (size_t i = 0; i < GL_NELEM(rows); i++) {
        gl_err_clear(&err);
        ASSERT_EQ(gl_expr_eval(rows[i][0], &ctx, &out, &err), GL_OK);
        const char *t = json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN);
        ASSERT_STR_EQ(t, rows[i][1]);
        ASSERT_EQ(gl_json_check(t, strlen(t), 8, &err), GL_OK);
        json_object_put(out);
    }
    /* as text it is still JavaScript's */
    ASSERT_EQ(gl_expr_render("{{ 202.0E18 }} x", &ctx, &out, &err), GL_OK);
    ASSERT_STR_EQ(json_object_get_string(out), "202000000000000000000 x");
    json_object_put(out);
    fixture_free();
}

/* $binary and the item wrappers' binary: the current item's "$binary"
 * object ({} when none); $json keeps the reserved key. */
static json_object *bin_nodes(void *ud, const char *name)
{
    return strcmp(name, "Convert") == 0 ? ud : NULL;
}

TEST(binary_properties)
{
#define REF(id, name) "{\"id\":\"" id "\",\"file_name\":\"" name "\",\"mime_type\":\"text/csv\",\"size\":12," \
                      "\"sha256\":\"" "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" "\"}"
    json_object *item = parse("{\"name\":\"x\",\"$binary\":{\"data\":" REF("00000000-0000-4000-8000-000000000001",
                              "a.csv") ",\"report\":" REF("00000000-0000-4000-8000-000000000002", "r é.csv") "}}");
    json_object *input = parse("[{\"plain\":1},{\"name\":\"x\",\"$binary\":{\"data\":" REF(
        "00000000-0000-4000-8000-000000000001", "a.csv") "}}]");
    json_object *conv = parse("[{\"$binary\":{\"data\":" REF("00000000-0000-4000-8000-000000000003", "out.csv") "}}]");
    json_object *odd = parse("{\"$binary\":\"not an object\"}");
    static const row_t rows[] = {
        OK("$binary.data.file_name", "\"a.csv\""),
        OK("$binary.data.mime_type", "\"text/csv\""),
        OK("$binary.data.size", "12"),
        OK("$binary.report.file_name", "\"r é.csv\""),
        OK("Object.keys($binary)", "[\"data\",\"report\"]"),
        OK("$binary.data.id", "\"00000000-0000-4000-8000-000000000001\""),
        OK("$binary.nope", "null"),
        OK("$json.name", "\"x\""),
        OK("$json['$binary'].data.file_name", "\"a.csv\""),
        OK("Object.keys($json)", "[\"name\",\"$binary\"]"),
        OK("$input.item.binary.report.file_name", "\"r é.csv\""),
        OK("$input.item.json.name", "\"x\""),
        OK("$input.first().binary", "null"),
        OK("$input.first()", "{\"json\":{\"plain\":1}}"),
        OK("$input.last().binary.data.file_name", "\"a.csv\""),
        OK("$input.all().map(i => i.binary ? i.binary.data.size : 0)", "[0,12]"),
        OK("$('Convert').item.binary.data.file_name", "\"out.csv\""),
        OK("$('Convert').first().binary.data.sha256.length", "64"),
        OK("$node['Convert'].binary.data.file_name", "\"out.csv\""),
        OK("$items('Convert')[0].binary.data.file_name", "\"out.csv\""),
        OK("$item(1).$binary.data.file_name", "\"a.csv\""),
        OK("$item(0).$binary", "{}"),
        ERR("$binary.nope.file_name", "Cannot read properties of undefined (reading 'file_name')"),
        ERR("$binary()", "$binary is not a function"),
    };
    gl_expr_ctx_t c;
    memset(&c, 0, sizeof c);
    c.json = item;
    c.input = input;
    c.item_index = 0;
    c.node_items = bin_nodes;
    c.ud = conv;
    run_rows(rows, GL_NELEM(rows), &c, false);
    static const row_t none[] = {
        OK("$binary", "{}"),
        OK("Object.keys($binary).length", "0"),
        OK("$binary.data", "null"),
    };
    c.json = NULL;
    run_rows(none, GL_NELEM(none), &c, false);
    c.json = odd; /* a "$binary" that is not an object is no binary data */
    run_rows(none, GL_NELEM(none), &c, false);
    static const row_t render[] = {
        OK("{{ $binary.data.file_name }} ({{ $binary.data.size }} bytes)", "\"a.csv (12 bytes)\""),
    };
    c.json = item;
    run_rows(render, GL_NELEM(render), &c, true);
    json_object_put(item);
    json_object_put(input);
    json_object_put(conv);
    json_object_put(odd);
#undef REF
}

/* A template's parsed {{ }} are kept for the next render of it (per
 * thread, expr_cache.c): each render must still evaluate with its own
 * context and limits, and what is not kept must render the same. */
static void render_is(const char *tmpl, const gl_expr_ctx_t *ctx, const char *want)
{
    json_object *out = NULL;
    gl_err_t err;
    gl_err_clear(&err);
    if (gl_expr_render(tmpl, ctx, &out, &err) != GL_OK)
        FAIL_AT("%.60s: %s", tmpl, err.msg);
    ASSERT_STR_EQ(text(out), want);
    json_object_put(out);
}

static void render_fails(const char *tmpl, const gl_expr_ctx_t *ctx, const char *want)
{
    json_object *out = NULL;
    gl_err_t err;
    gl_err_clear(&err);
    ASSERT_EQ(gl_expr_render(tmpl, ctx, &out, &err), GL_INVALID);
    ASSERT_CONTAINS(err.msg, want);
    ASSERT(out == NULL);
}

TEST(kept_templates)
{
    json_object *one = parse("{\"n\":1}"), *five = parse("{\"n\":5}");
    gl_expr_ctx_t ctx;
    memset(&ctx, 0, sizeof ctx);
    /* the same template, other items: its kept trees read each render's */
    for (int round = 0; round < 3; round++) {
        ctx.json = one;
        render_is("{{ $json.n }} and {{ $json.n + 1 }}", &ctx, "\"1 and 2\"");
        render_is("{{ $json.n * 10 }}", &ctx, "10");
        ctx.json = five;
        render_is("{{ $json.n }} and {{ $json.n + 1 }}", &ctx, "\"5 and 6\"");
        render_is("{{ $json.n * 10 }}", &ctx, "50");
    }
    /* a syntax error, every time, and the next template is not harmed */
    for (int round = 0; round < 3; round++) {
        render_fails("{{ $json.n }} {{ 1 + }}", &ctx, "syntax error at column");
        render_is("{{ $json.n }} {{ 1 + 1 }}", &ctx, "\"5 2\"");
    }
    /* more {{ }} than an entry keeps */
    for (int round = 0; round < 3; round++)
        render_is("{{1}}{{2}}{{3}}{{4}}{{5}}{{6}}{{7}}{{8}}{{9}}{{ $json.n * 2 }}", &ctx, "\"12345678910\"");
    /* more templates than a thread keeps: the first ones are evicted and parsed again */
    for (int round = 0; round < 2; round++)
        for (int k = 0; k < 150; k++) {
            char tmpl[64], want[32];
            snprintf(tmpl, sizeof tmpl, "{{ $json.n + %d }} items", k);
            snprintf(want, sizeof want, "\"%d items\"", 5 + k);
            render_is(tmpl, &ctx, want);
        }
    /* the limits are each render's: a tree parsed under a higher nesting limit is not used under a lower */
    for (int round = 0; round < 2; round++) {
        ctx.limits.max_depth = 0;
        render_is("{{ ((((1)))) }}", &ctx, "1");
        ctx.limits.max_depth = 3;
        render_fails("{{ ((((1)))) }}", &ctx, "expression nested too deeply");
    }
    ctx.limits.max_depth = 0;
    /* longer than an entry takes: parsed per render */
    size_t n = 6000;
    char *big = malloc(n + 1);
    ASSERT(big != NULL);
    memset(big, 'x', n);
    memcpy(big, "{{ $json.n }}", 13);
    big[n] = '\0';
    for (int round = 0; round < 2; round++) {
        json_object *out = NULL;
        gl_err_t err;
        ASSERT_EQ(gl_expr_render(big, &ctx, &out, &err), GL_OK);
        ASSERT_EQ(strncmp(json_object_get_string(out), "5xxx", 4), 0);
        ASSERT_EQ((size_t)json_object_get_string_len(out), n - 12);
        json_object_put(out);
    }
    free(big);
    json_object_put(one);
    json_object_put(five);
}

TEST_MAIN()
