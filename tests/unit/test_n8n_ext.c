/*
 * test_n8n_ext.c: n8n's extensions on numbers, arrays, objects and
 * booleans, its helper functions ($if, $ifEmpty, $not, $min, $max,
 * $average, $jmespath, $item, $items) and the variables $runIndex,
 * $parameter and $vars (executor/engine/expr_ext.c, jmespath.c).
 * Table-driven like test_expr.c: each row is an expression and either its
 * result as JSON text or a substring of the error. The comments name the
 * n8n behaviour a group reproduces (n8n's packages/workflow/test/
 * ExpressionExtensions/ tests and its documentation examples); the
 * JMESPath rows follow the examples of the JMESPath specification.
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
    json_object *json, *input, *fetch, *params, *vars, *people;
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
        fx.json = parse("{\"n\":42,\"name\":\"Ada\",\"tags\":[\"a\",\"b\"],"
                        "\"people\":[{\"name\":\"a\",\"age\":30},{\"name\":\"b\",\"age\":20},"
                        "{\"name\":\"c\",\"age\":40}]}");
        fx.input = parse("[{\"x\":1},{\"x\":2},{\"x\":3}]");
        fx.fetch = parse("[{\"id\":7},{\"id\":8}]");
        fx.params = parse("{\"url\":\"https://example.com\",\"method\":\"GET\"}");
        fx.vars = parse("{\"API_BASE\":\"https://api.example.com\",\"LIMIT\":\"10\"}");
    }
    gl_expr_ctx_t c;
    memset(&c, 0, sizeof c);
    c.json = fx.json;
    c.input = fx.input;
    c.item_index = 1;
    c.node_items = node_items;
    c.ud = &fx;
    c.now_ms = 1795635233123LL;
    c.run_index = 2;
    c.parameter = fx.params;
    c.vars = fx.vars;
    return c;
}

static void fixture_free(void)
{
    json_object_put(fx.json);
    json_object_put(fx.input);
    json_object_put(fx.fetch);
    json_object_put(fx.params);
    json_object_put(fx.vars);
    memset(&fx, 0, sizeof fx);
}

static const char *text(json_object *o)
{
    return o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN) : "null";
}

static void run_rows(const row_t *rows, size_t n, const gl_expr_ctx_t *ctx)
{
    int failures = 0;
    for (size_t i = 0; i < n; i++) {
        const row_t *r = &rows[i];
        json_object *out = NULL;
        gl_err_t err;
        gl_err_clear(&err);
        int rc = gl_expr_eval(r->src, ctx, &out, &err);
        if (r->want) {
            json_object *want = parse(r->want);
            if (rc != GL_OK) {
                fprintf(stderr, "row %zu: %s\n  want %s\n  got error: %s\n", i, r->src, r->want, err.msg);
                failures++;
            } else if (!json_object_equal(out, want)) {
                fprintf(stderr, "row %zu: %s\n  want %s\n  got  %s\n", i, r->src, r->want, text(out));
                failures++;
            }
            json_object_put(want);
        } else if (rc != GL_INVALID || !strstr(err.msg, r->err)) {
            fprintf(stderr, "row %zu: %s\n  want error containing \"%s\"\n  got rc %d: %s %s\n", i, r->src,
                    r->err, rc, rc == GL_OK ? text(out) : "", err.msg);
            failures++;
        }
        json_object_put(out);
    }
    if (failures)
        FAIL_AT("%d of %zu rows failed", failures, n);
}

static void run(const row_t *rows, size_t n)
{
    gl_expr_ctx_t ctx = make_ctx();
    run_rows(rows, n, &ctx);
    fixture_free();
}

TEST(numbers)
{
    static const row_t rows[] = {
        /* n8n number-extensions.test.ts: ceil, floor, abs */
        OK("(1.1).ceil()", "2"),
        OK("(1.9).floor()", "1"),
        OK("(-1.1).ceil()", "-1"),
        OK("(-1.1).floor()", "-2"),
        OK("(-1.7).abs()", "1.7"),
        OK("(1.7).abs()", "1.7"),
        /* round(decimalPlaces): +value.toFixed(decimalPlaces) */
        OK("(1.256).round()", "1"),
        OK("(1.256).round(1)", "1.3"),
        OK("(1.256).round(2)", "1.26"),
        OK("(1.5).round()", "2"),
        OK("(2.5).round()", "3"),
        OK("(-1.5).round()", "-2"),
        OK("(1.005).round(2)", "1"),
        OK("(123.456).round(5)", "123.456"),
        ERR("(1.5).round(101)", "between 0 and 100"),
        /* isEven / isOdd: integers only */
        OK("(42).isEven()", "true"),
        OK("(33).isEven()", "false"),
        OK("(33).isOdd()", "true"),
        OK("(-3).isOdd()", "true"),
        OK("(0).isEven()", "true"),
        ERR("(1.5).isEven()", "isEven() is only callable on integers"),
        ERR("(1.5).isOdd()", "isOdd() is only callable on integers"),
        /* isInteger */
        OK("(4).isInteger()", "true"),
        OK("(4.12).isInteger()", "false"),
        OK("(-4).isInteger()", "true"),
        /* toBoolean, toInt, toFloat */
        OK("(12).toBoolean()", "true"),
        OK("(0).toBoolean()", "false"),
        OK("(-1.3).toBoolean()", "true"),
        OK("(1.6).toInt()", "2"),
        OK("(1.4).toInt()", "1"),
        OK("(1.5).toFloat()", "1.5"),
        /* toDateTime(format) */
        OK("(1708695471).toDateTime('s').toISO()", "\"2024-02-23T13:37:51.000Z\""),
        OK("(1708695471000).toDateTime('ms').toISO()", "\"2024-02-23T13:37:51.000Z\""),
        OK("(1708695471000).toDateTime().toISO()", "\"2024-02-23T13:37:51.000Z\""),
        OK("(1708695471000000).toDateTime('us').toISO()", "\"2024-02-23T13:37:51.000Z\""),
        OK("(45345).toDateTime('excel').toISO()", "\"2024-02-23T00:00:00.000Z\""),
        ERR("(1).toDateTime('days')", "Unsupported format 'days'. toDateTime() supports 'ms', 's', 'us' and 'excel'."),
        /* format(locale, options): Intl.NumberFormat */
        OK("(123456.789).format()", "\"123,456.789\""),
        OK("(123456.789).format('en-US')", "\"123,456.789\""),
        OK("(123456.789).format('de-DE')", "\"123.456,789\""),
        OK("(1234.5678).format('en-US')", "\"1,234.568\""),
        OK("(1.005).format('en-US', {maximumFractionDigits: 2})", "\"1.01\""),
        OK("(123).format('en-US', {minimumFractionDigits: 2})", "\"123.00\""),
        OK("(999.9999).format('en-US')", "\"1,000\""),
        OK("(0.5).format('en-US', {style: 'percent'})", "\"50%\""),
        OK("(0.125).format('en-US', {style: 'percent', maximumFractionDigits: 1})", "\"12.5%\""),
        OK("(1234.5).format('en-US', {style: 'currency', currency: 'USD'})", "\"$1,234.50\""),
        OK("(-5).format('en-US', {style: 'currency', currency: 'EUR'})", "\"-\\u20ac5.00\""),
        OK("(123456.789).format('de-DE', {style: 'currency', currency: 'EUR'})", "\"123.456,79\\u00a0\\u20ac\""),
        OK("(1234567).format('en-US', {useGrouping: false})", "\"1234567\""),
        OK("(5).format('en-US', {minimumIntegerDigits: 3})", "\"005\""),
        OK("(-1234.5).format()", "\"-1,234.5\""),
        OK("(0).format()", "\"0\""),
        OK("(1e21).format()", "\"1,000,000,000,000,000,000,000\""),
        OK("(0.000001).format()", "\"0\""),
        ERR("(1).format('en-US', {style: 'currency'})", "Currency code is required"),
        ERR("(1).format('en-US', {notation: 'compact'})", "the option 'notation' is not supported"),
        ERR("(1).format('en-US', {maximumFractionDigits: 101})", "maximumFractionDigits value is out of range"),
        /* n8n number-extensions.test.ts (current) */
        OK("(1.2).ceil()", "2"),
        OK("(1.0).floor()", "1"),
        OK("(NaN).ceil()", "null"),
        OK("(1.3333333).round(3)", "1.333"),
        OK("(1.5001).round(0)", "2"),
        OK("(NaN).round(3)", "null"),
        OK("(0).isOdd()", "false"),
        ERR("(NaN).isOdd()", "isOdd() is only callable on integers"),
        ERR("(9.2).isEven()", "isEven() is only callable on integers"),
        OK("(1704085200000).toDateTime().toISO()", "\"2024-01-01T05:00:00.000Z\""),
        OK("(42144).toDateTime('excel').toISO()", "\"2015-05-20T00:00:00.000Z\""),
        OK("(42144.345).toInt()", "42144"),
        OK("(42144.545).toInt()", "42145"),
        OK("(42144.345).toFloat()", "42144.345"),
        OK("(-1.549).toBoolean()", "true"),
        OK("Number(100).format()", "\"100\""),
        /* native methods still win */
        OK("(1.5).toFixed(0)", "\"2\""),
        ERR("(1).nope()", "a number has no method 'nope'"),
    };
    run(rows, GL_NELEM(rows));
}

TEST(arrays)
{
    static const row_t rows[] = {
        /* n8n array-extensions.test.ts: sum, min, max, average */
        OK("[12, 1, 5].sum()", "18"),
        OK("[].sum()", "0"),
        OK("[12, 1, 5].min()", "1"),
        OK("[1, 12, 5].max()", "12"),
        OK("[12, 1, 5].average()", "6"),
        OK("[].average()", "0"),
        OK("[0.1, 0.2].sum()", "0.30000000000000004"),
        ERR("[1, '2'].sum()", "sum(): all array elements must be numbers"),
        ERR("[1, null].max()", "max(): all array elements must be numbers"),
        ERR("['a'].min()", "min(): all array elements must be numbers"),
        ERR("[{}].average()", "average(): all array elements must be numbers"),
        OK("[].max()", "null"), /* -Infinity, null in JSON */
        /* first, last, isEmpty, isNotEmpty */
        OK("['quick', 'brown', 'fox'].first()", "\"quick\""),
        OK("['quick', 'brown', 'fox'].last()", "\"fox\""),
        OK("[].first()", "null"),
        OK("[].isEmpty()", "true"),
        OK("[1].isEmpty()", "false"),
        OK("[1].isNotEmpty()", "true"),
        /* pluck */
        OK("[{name: 'Nathan', age: 42}, {name: 'Jan', city: 'Berlin'}].pluck('name')", "[\"Nathan\",\"Jan\"]"),
        OK("[{name: 'Nathan', age: 42}, {name: 'Jan', city: 'Berlin'}].pluck('age')", "[42]"),
        OK("[{a: 1, b: 2, c: 3}, {b: 4}].pluck('b', 'a')", "[[1,2],4]"),
        OK("[1, 'x', {a: 1}].pluck('a')", "[1]"),
        OK("[{a: 1}].pluck()", "[{\"a\":1}]"),
        /* unique / removeDuplicates */
        OK("['repeat', 'repeat', 'a', 'b', 'a'].unique()", "[\"repeat\",\"a\",\"b\"]"),
        OK("[1, 1.0, '1'].unique()", "[1,\"1\"]"),
        OK("[{a: 1}, {a: 1}, {a: 2}].unique()", "[{\"a\":1},{\"a\":2}]"),
        OK("[{a: 1, b: 2}, {a: 1, b: 3}, {a: 2}].unique('a')", "[{\"a\":1,\"b\":2},{\"a\":2}]"),
        OK("[{a: 1, b: 2}, {a: 1, b: 3}].unique('a', 'b')", "[{\"a\":1,\"b\":2},{\"a\":1,\"b\":3}]"),
        OK("[[1, 2], [1, 2], [2, 1]].unique()", "[[1,2],[2,1]]"),
        OK("[{b: 1, a: 2}, {a: 2, b: 1}].removeDuplicates()", "[{\"b\":1,\"a\":2}]"),
        /* compact */
        OK("[2, null, 1, ''].compact()", "[2,1]"),
        OK("[0, false, 'nil', {}, [], {a: null, b: 1}].compact()", "[0,false,{\"b\":1}]"),
        OK("[{a: {b: '', c: 'nil', d: 3}}].compact()", "[{\"a\":{\"d\":3}}]"),
        /* smartJoin */
        OK("[{name: 'Pam', age: 24}, {name: 'Kim', age: 30}].smartJoin('name', 'age')", "{\"Pam\":24,\"Kim\":30}"),
        OK("[{k: 1, v: 'x'}, {k: 2}, 5].smartJoin('k', 'v')", "{\"1\":\"x\"}"),
        ERR("[{}].smartJoin('name')", "smartJoin(): expected two string args"),
        ERR("[{}].smartJoin(1, 2)", "smartJoin(): expected two string args"),
        /* chunk */
        OK("[1, 2, 3, 4, 5, 6].chunk(2)", "[[1,2],[3,4],[5,6]]"),
        OK("[1, 2, 3, 4, 5].chunk(2)", "[[1,2],[3,4],[5]]"),
        OK("[].chunk(3)", "[]"),
        ERR("[1].chunk(0)", "chunk(): expected non-zero numeric arg, e.g. .chunk(5)"),
        ERR("[1].chunk('2')", "chunk(): expected non-zero numeric arg"),
        ERR("[1].chunk(-1)", "expected a positive size"),
        /* renameKeys */
        OK("[{name: 'bob'}, {name: 'meg'}].renameKeys('name', 'x')", "[{\"x\":\"bob\"},{\"x\":\"meg\"}]"),
        OK("[{a: 1, b: 2}, 3].renameKeys('a', 'c', 'b', 'd')", "[{\"c\":1,\"d\":2},3]"),
        OK("[{a: 1}].renameKeys('z', 'y')", "[{\"a\":1}]"),
        ERR("[{}].renameKeys('a')", "renameKeys(): expected an even amount of args"),
        ERR("[{}].renameKeys()", "renameKeys(): expected an even amount of args"),
        /* merge */
        OK("[{name: 'Nathan'}, {age: 42}].merge([{city: 'Berlin'}, {country: 'Germany'}])",
           "{\"name\":\"Nathan\",\"city\":\"Berlin\",\"age\":42,\"country\":\"Germany\"}"),
        OK("[{a: 1}, {a: 2, b: 3}].merge()", "{\"a\":1,\"b\":3}"),
        OK("[{a: 1}].merge([{a: 2, b: 2}])", "{\"a\":1,\"b\":2}"),
        OK("[{a: 1}, 'x', {c: 2}].merge()", "{\"a\":1,\"c\":2}"),
        ERR("[{a: 1}].merge({b: 1})", "merge(): expected array arg"),
        /* union, difference, intersection */
        OK("[1, 2].union([2, 3])", "[1,2,3]"),
        OK("[1, 1, 2].union([])", "[1,2]"),
        OK("[{a: 1}].union([{a: 1}, {a: 2}])", "[{\"a\":1},{\"a\":2}]"),
        OK("[1, 2, 3].difference([2, 3])", "[1]"),
        OK("[1, 2, 2, 4].difference([3])", "[1,2,4]"),
        OK("[1, 2].intersection([2, 3])", "[2]"),
        OK("[[1], 'a', 3].intersection(['a', [1]])", "[[1],\"a\"]"),
        ERR("[1].union(1)", "union(): expected array arg"),
        ERR("[1].difference('x')", "difference(): expected array arg"),
        ERR("[1].intersection()", "intersection(): expected array arg"),
        /* append */
        OK("['forget', 'me'].append('not')", "[\"forget\",\"me\",\"not\"]"),
        OK("[9, 0, 2].append(1, 0)", "[9,0,2,1,0]"),
        OK("[1].append([2, 3])", "[1,[2,3]]"),
        /* toJsonString and the casts that give undefined */
        OK("['quick', 'brown', 'fox'].toJsonString()", "\"[\\\"quick\\\",\\\"brown\\\",\\\"fox\\\"]\""),
        OK("[1, {a: null}].toJsonString()", "\"[1,{\\\"a\\\":null}]\""),
        OK("[1].toInt()", "null"),
        OK("[1].toBoolean()", "null"),
        OK("[1].toFloat()", "null"),
        OK("[1].toDateTime()", "null"),
        /* randomItem: one of the elements */
        OK("[7, 7, 7].randomItem()", "7"),
        OK("['a', 'b'].includes(['a', 'b'].randomItem())", "true"),
        OK("[].randomItem()", "null"),
        /* on data from the item */
        OK("$json.people.pluck('age').sum()", "90"),
        OK("$json.people.pluck('age').max()", "40"),
        OK("$json.tags.append('c').unique()", "[\"a\",\"b\",\"c\"]"),
        /* n8n array-extensions.test.ts (current): merge, mergeIntoObject, unique, union,
         * intersection, difference, compact, chunk on numberList, toJsonString, append */
        OK("[{ test1: 1, test2: 2 }, { test1: 1, test3: 3 }].merge([{ test1: 2, test3: 3 }, { test4: 4 }])",
           "{\"test1\":1,\"test2\":2,\"test3\":3,\"test4\":4}"),
        OK("[{ a: 1 }, { b: 2 }].merge([{ c: 3 }])", "{\"a\":1,\"c\":3}"),
        OK("[{ a: 1 }, { b: 2 }].mergeIntoObject([{ c: 3 }])", "{\"a\":1,\"c\":3,\"b\":2}"),
        OK("[{ a: 1 }].mergeIntoObject([{ b: 2 }, { c: 3 }])", "{\"a\":1,\"b\":2,\"c\":3}"),
        OK("[{ a: 1 }, { b: 2 }].mergeIntoObject([{ c: 3 }, 'not an object'])", "{\"a\":1,\"c\":3,\"b\":2}"),
        ERR("[{ a: 1 }].mergeIntoObject(1)", "mergeIntoObject(): expected array arg"),
        OK("[{ a: 1, some: null }, { a: 2, c: 'something' }, 2, 'asds', { b: 23 }, null, [1, 2]].merge()",
           "{\"a\":1,\"some\":null,\"c\":\"something\",\"b\":23}"),
        OK("[{ name: 'test1', value: 'value1' }, { name: 'test2', value: null }].smartJoin('name', 'value')",
           "{\"test1\":\"value1\",\"test2\":null}"),
        OK("[{ test1: 1, test2: 2 }, { test1: 1, test3: 3 }].renameKeys('test1', 'rename1', 'test3', 'rename3')",
           "[{\"rename1\":1,\"test2\":2},{\"rename1\":1,\"rename3\":3}]"),
        OK("[1, 2, 3, 'as', {}, {}, 1, 2, [1,2], '[sad]', '[sad]', null].unique()",
           "[1,2,3,\"as\",{},[1,2],\"[sad]\",null]"),
        OK("[{'name':'Nathan', age:42}, {'name':'Jan', age:16}, {'name':'Nathan', age:21}].unique('name')",
           "[{\"name\":\"Nathan\",\"age\":42},{\"name\":\"Jan\",\"age\":16}]"),
        OK("[{ test1: 1 }, { test2: 2 }].union([{ test1: 1, test3: 3 }, { test2: 2 }, { test4: 4 }])",
           "[{\"test1\":1},{\"test2\":2},{\"test1\":1,\"test3\":3},{\"test4\":4}]"),
        OK("[1, 2, 'dd', {}, null].union([1, {}, null, 3])", "[1,2,\"dd\",{},null,3]"),
        OK("[{ test1: 1 }, { test2: 2 }].intersection([{ test1: 1, test3: 3 }, { test2: 2 }, { test4: 4 }])",
           "[{\"test2\":2}]"),
        OK("[1, 2, 'dd', {}, null].intersection([1, {}, null])", "[1,{},null]"),
        OK("[{ test1: 1 }, { test2: 2 }].difference([{ test1: 1, test3: 3 }, { test2: 2 }, { test4: 4 }])",
           "[{\"test1\":1}]"),
        OK("[{ test1: 1 }, { test2: 2 }].difference([{ test1: 1 }, { test2: 2 }])", "[]"),
        OK("[1, 2, 'dd', {}, null, ['a', 1]].difference([1, {}, null, ['a', 1]])", "[2,\"dd\"]"),
        OK("[{ test1: 1, test2: undefined, test3: null }, null, undefined, 1, 2, 0, { test: 'asdf' }].compact()",
           "[{\"test1\":1},1,2,0,{\"test\":\"asdf\"}]"),
        OK("numberList(1, 20).chunk(5)", "[[1,2,3,4,5],[6,7,8,9,10],[11,12,13,14,15],[16,17,18,19,20]]"),
        ERR("numberList(1, 20).chunk(-1)", "chunk()"),
        ERR("numberList(1, 20).chunk(0)", "chunk()"),
        OK("[true, 1, 'one', {foo: 'bar'}].toJsonString()", "\"[true,1,\\\"one\\\",{\\\"foo\\\":\\\"bar\\\"}]\""),
        OK("[1,2,3].append(4,5,'done')", "[1,2,3,4,5,\"done\"]"),
        OK("[1,2,3,'imhere'].isNotEmpty()", "true"),
        OK("[1, 2, 3, 4, 5, 6].sum()", "21"),
        OK("[1, 2, 3, 4, 5, 6].average()", "3.5"),
        ERR("['1', 2, 3, 4, 5, 'bad'].average()", "average(): all array elements must be numbers"),
        OK("numberList(1, 20).toInt()", "null"),
        /* extended-functions.ts: numberList, zip */
        OK("numberList(1, 5)", "[1,2,3,4,5]"),
        OK("numberList(3, 1)", "[3,2,1]"),
        OK("numberList(2, 2)", "[2]"),
        ERR("numberList(0, 1e12)", "exceeds"),
        ERR("numberList('a', 2)", "numberList(): expected two numbers"),
        OK("zip(['a', 'b'], [1, 2])", "{\"a\":1,\"b\":2}"),
        ERR("zip(['a'], 1)", "keys and values must be arrays"),
        ERR("zip(['a'], [1, 2])", "keys and values not of equal length"),
        /* native methods still win; the item data is left as it was */
        OK("$json.tags.concat(['c'])", "[\"a\",\"b\",\"c\"]"),
        OK("$json.people.renameKeys('name', 'n').first()", "{\"n\":\"a\",\"age\":30}"),
        OK("$json.people.first()", "{\"name\":\"a\",\"age\":30}"),
    };
    run(rows, GL_NELEM(rows));
}

TEST(objects_and_booleans)
{
    static const row_t rows[] = {
        /* n8n object-extensions.test.ts */
        OK("({}).isEmpty()", "true"),
        OK("({name: 'Nathan'}).isEmpty()", "false"),
        OK("({name: 'Nathan'}).isNotEmpty()", "true"),
        OK("({name: 'Nathan', age: 42}).hasField('name')", "true"),
        OK("({name: 'Nathan', age: 42}).hasField('Name')", "false"),
        OK("({name: 'Nathan', age: 42}).hasField('inventedField')", "false"),
        OK("({name: 'Nathan', city: 'hanoi'}).removeField('name')", "{\"city\":\"hanoi\"}"),
        OK("({name: 'Nathan'}).removeField('x')", "{\"name\":\"Nathan\"}"),
        OK("({name: 'Mr Nathan', city: 'hanoi', age: 42}).removeFieldsContaining('Nathan')",
           "{\"city\":\"hanoi\",\"age\":42}"),
        OK("({name: 'Mr Nathan', city: 'hanoi', age: 42}).removeFieldsContaining('Han')",
           "{\"name\":\"Mr Nathan\",\"city\":\"hanoi\",\"age\":42}"),
        OK("({name: 'Mr Nathan', city: 'hanoi', age: 42}).removeFieldsContaining('nathan')",
           "{\"name\":\"Mr Nathan\",\"city\":\"hanoi\",\"age\":42}"),
        OK("({name: 'Mr Nathan', city: 'hanoi', age: 42}).removeFieldsContaining('han')", "{\"age\":42}"),
        ERR("({a: 'x'}).removeFieldsContaining('')", "removeFieldsContaining(): expected non-empty string arg"),
        ERR("({a: 'x'}).removeFieldsContaining(1)", "removeFieldsContaining(): expected non-empty string arg"),
        OK("({name: 'Mr Nathan', city: 'hanoi', age: 42}).keepFieldsContaining('Nathan')", "{\"name\":\"Mr Nathan\"}"),
        OK("({name: 'Mr Nathan', city: 'hanoi', age: 42}).keepFieldsContaining('nathan')", "{}"),
        OK("({name: 'Mr Nathan', city: 'hanoi', age: 42}).keepFieldsContaining('han')",
           "{\"name\":\"Mr Nathan\",\"city\":\"hanoi\"}"),
        ERR("({a: 'x'}).keepFieldsContaining()", "argument of keepFieldsContaining must be a non-empty string"),
        OK("({x: null, y: 2, z: ''}).compact()", "{\"y\":2}"),
        /* n8n tests emptiness before compacting: c stays as {} */
        OK("({a: 'nil', b: {}, c: {d: null}, e: {f: 1, g: ''}}).compact()", "{\"c\":{},\"e\":{\"f\":1}}"),
        OK("({name: 'Mr Nathan', city: 'hanoi'}).urlEncode()", "\"name=Mr+Nathan&city=hanoi\""),
        OK("({q: 'a&b=c/é', n: 1, t: true, z: null}).urlEncode()", "\"q=a%26b%3Dc%2F%C3%A9&n=1&t=true&z=null\""),
        OK("({l: [1, 2], o: {}}).urlEncode()", "\"l=1%2C2&o=%5Bobject+Object%5D\""),
        OK("({name: 'Mr Nathan', age: 42}).keys()", "[\"name\",\"age\"]"),
        OK("({name: 'Mr Nathan', age: 42}).values()", "[\"Mr Nathan\",42]"),
        OK("({name: 'Nathan', age: 42}).toJsonString()", "\"{\\\"name\\\":\\\"Nathan\\\",\\\"age\\\":42}\""),
        OK("({a: 1}).toInt()", "null"),
        OK("({a: 1}).toDateTime()", "null"),
        OK("$json.removeField('people').keys()", "[\"n\",\"name\",\"tags\"]"),
        OK("$json.keys().length", "4"),
        /* n8n boolean-extensions.test.ts */
        OK("true.toNumber()", "1"),
        OK("false.toNumber()", "0"),
        OK("true.toInt()", "1"),
        OK("false.toFloat()", "0"),
        OK("true.toBoolean()", "true"),
        OK("false.toBoolean()", "false"),
        OK("true.toDateTime()", "null"),
        /* n8n object-extensions.test.ts (current) */
        OK("({ test1: null, test2: undefined }).isEmpty()", "false"),
        OK("({ test1: 1, test2: 2, test3: 3 }).removeField('test2')", "{\"test1\":1,\"test3\":3}"),
        OK("({ test1: 'i exist', test2: 'i should be removed', test3: 'i should also be removed' }).removeFieldsContaining('removed')",
           "{\"test1\":\"i exist\"}"),
        OK("({ test1: 'i exist', test2: 'i should be removed', test3: { test4: 'me too' } }).keepFieldsContaining('exist')",
           "{\"test1\":\"i exist\"}"),
        OK("({ test1: 1, test2: '2', test3: undefined, test4: null }).compact()", "{\"test1\":1,\"test2\":\"2\"}"),
        OK("({ test1: 0, test2: false, test3: '', test4: 'nil' }).compact()", "{\"test1\":0,\"test2\":false}"),
        OK("({ test1: 1, test2: { nested1: null, nested2: 'value' }, test3: undefined }).compact()",
           "{\"test1\":1,\"test2\":{\"nested2\":\"value\"}}"),
        OK("({ test1: 1, test2: '2' }).urlEncode()", "\"test1=1&test2=2\""),
        OK("({ name: 'hello!()' }).urlEncode()", "\"name=hello%21%28%29\""),
        OK("({}).keys()", "[]"),
        OK("({ test1: 1, test2: 'value' }).values()", "[1,\"value\"]"),
        OK("({ test1: 1, test2: '2' }).toJsonString()", "\"{\\\"test1\\\":1,\\\"test2\\\":\\\"2\\\"}\""),
        OK("(1 > 2).toNumber()", "0"),
    };
    run(rows, GL_NELEM(rows));
}

TEST(helpers_and_variables)
{
    static const row_t rows[] = {
        /* n8n WorkflowDataProxy: $if */
        OK("$if(true, 'a', 'b')", "\"a\""),
        OK("$if(0, 'a', 'b')", "\"b\""),
        OK("$if($json.n > 40, 'big', 'small')", "\"big\""),
        OK("$if(false, 1)", "null"),
        ERR("$if(true)", "$if(): expected two or three arguments"),
        /* extended-functions.ts: $ifEmpty */
        OK("$ifEmpty('', 'default')", "\"default\""),
        OK("$ifEmpty(null, 1)", "1"),
        OK("$ifEmpty(undefined, 1)", "1"),
        OK("$ifEmpty([], 'e')", "\"e\""),
        OK("$ifEmpty({}, 'e')", "\"e\""),
        OK("$ifEmpty(0, 'e')", "0"),
        OK("$ifEmpty('x', 'e')", "\"x\""),
        OK("$ifEmpty([1], 'e')", "[1]"),
        ERR("$ifEmpty('x')", "expected two arguments (value, defaultValue) for this function"),
        /* $not, $min, $max, $average */
        OK("$not(true)", "false"),
        OK("$not('')", "true"),
        OK("$not(0)", "true"),
        OK("$min(4, 1, 3)", "1"),
        OK("$max(4, 1, 3)", "4"),
        OK("$min()", "null"),
        OK("$max(1, 'x')", "null"),
        OK("$average(1, 2, 3, 4)", "2.5"),
        OK("$average()", "0"),
        ERR("$average(1, '2')", "average(): all array elements must be numbers"),
        /* $items(), $item(i) (n8n's legacy data proxy) */
        OK("$items()", "[{\"json\":{\"x\":1}},{\"json\":{\"x\":2}},{\"json\":{\"x\":3}}]"),
        OK("$items().length", "3"),
        OK("$items('Fetch')", "[{\"json\":{\"id\":7}},{\"json\":{\"id\":8}}]"),
        OK("$items('Fetch', 0)[1].json.id", "8"),
        ERR("$items('Nope')", "node 'Nope' does not exist"),
        ERR("$items('Fetch', 1)", "only the first output (0)"),
        OK("$item(0).$json.x", "1"),
        OK("$item(2).json.x", "3"),
        OK("$item(1).$itemIndex", "1"),
        ERR("$item(5)", "no input item at index 5"),
        ERR("$item(-1)", "expected an item index"),
        /* $runIndex, $parameter, $vars */
        OK("$runIndex", "2"),
        OK("$parameter.url", "\"https://example.com\""),
        OK("$parameter['method']", "\"GET\""),
        OK("$vars.API_BASE + '/users'", "\"https://api.example.com/users\""),
        OK("$vars.LIMIT.toNumber === undefined", "true"),
        OK("Number($vars.LIMIT) + 1", "11"),
        OK("$vars.MISSING", "null"),
        OK("$vars.keys()", "[\"API_BASE\",\"LIMIT\"]"),
        OK("typeof $if", "\"function\""),
        ERR("$runIndex()", "$runIndex is not a function"),
        ERR("$vars()", "$vars is not a function"),
    };
    run(rows, GL_NELEM(rows));
}

TEST(defaults_without_context)
{
    gl_expr_ctx_t ctx;
    memset(&ctx, 0, sizeof ctx);
    static const row_t rows[] = {
        OK("$runIndex", "0"),
        OK("$parameter", "{}"),
        OK("$vars", "{}"),
        OK("$items()", "[]"),
        ERR("$item(0)", "no input item at index 0"),
    };
    run_rows(rows, GL_NELEM(rows), &ctx);
}

TEST(jmespath)
{
    static const row_t rows[] = {
        /* n8n's $jmespath(object, expression) */
        ERR("$jmespath('x', 'a')", "expected two arguments (Object, string) for this function"),
        ERR("$jmespath({}, 1)", "expected two arguments (Object, string) for this function"),
        /* JMESPath specification: identifiers and subexpressions */
        OK("$jmespath({a: 'foo', b: 'bar', c: 'baz'}, 'a')", "\"foo\""),
        OK("$jmespath({a: {b: {c: {d: 'value'}}}}, 'a.b.c.d')", "\"value\""),
        OK("$jmespath({a: {b: 1}}, 'a.x.y')", "null"),
        OK("$jmespath({'with space': 1}, '\"with space\"')", "1"),
        OK("$jmespath({a: [1]}, 'a.b')", "null"),
        /* index and slice */
        OK("$jmespath(['a', 'b', 'c', 'd', 'e', 'f'], '[1]')", "\"b\""),
        OK("$jmespath(['a', 'b', 'c', 'd', 'e', 'f'], '[-1]')", "\"f\""),
        OK("$jmespath(['a', 'b'], '[5]')", "null"),
        OK("$jmespath({a: {b: {c: [{d: [0, [1, 2]]}, {d: [3, 4]}]}}}, 'a.b.c[0].d[1][0]')", "1"),
        OK("$jmespath([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], '[0:5]')", "[0,1,2,3,4]"),
        OK("$jmespath([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], '[5:10]')", "[5,6,7,8,9]"),
        OK("$jmespath([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], '[::2]')", "[0,2,4,6,8]"),
        OK("$jmespath([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], '[::-1]')", "[9,8,7,6,5,4,3,2,1,0]"),
        OK("$jmespath([0, 1, 2, 3, 4], '[-2:]')", "[3,4]"),
        OK("$jmespath([0, 1, 2, 3, 4], '[10:]')", "[]"),
        OK("$jmespath([{a: 1}, {a: 2}, {a: 3}], '[1:].a')", "[2,3]"),
        ERR("$jmespath([1], '[::0]')", "a slice step cannot be 0"),
        /* list and object projections */
        OK("$jmespath({people: [{first: 'James', last: 'd'}, {first: 'Jacob', last: 'e'}, {first: 'Jayden', last: 'f'}, {missing: 'different'}], foo: {bar: 'baz'}}, 'people[*].first')",
           "[\"James\",\"Jacob\",\"Jayden\"]"),
        OK("$jmespath({people: [{age: 20, other: 'foo', name: 'Bob'}, {age: 25, other: 'bar', name: 'Fred'}]}, 'people[*].[name, age]')",
           "[[\"Bob\",20],[\"Fred\",25]]"),
        OK("$jmespath({ops: {functionA: {numArgs: 2}, functionB: {numArgs: 3}, functionC: {variadic: true}}}, 'ops.*.numArgs')",
           "[2,3]"),
        OK("$jmespath({a: [{b: 1}, {c: 2}]}, 'a[*].b')", "[1]"),
        OK("$jmespath({a: 'x'}, 'a[*]')", "null"),
        OK("$jmespath({a: [1, 2]}, 'a.*')", "null"),
        OK("$jmespath({reservations: [{instances: [{state: 'running'}, {state: 'stopped'}]}, {instances: [{state: 'terminated'}, {state: 'running'}]}]}, 'reservations[*].instances[*].state')",
           "[[\"running\",\"stopped\"],[\"terminated\",\"running\"]]"),
        /* flatten */
        OK("$jmespath({reservations: [{instances: [{state: 'running'}, {state: 'stopped'}]}, {instances: [{state: 'terminated'}, {state: 'running'}]}]}, 'reservations[].instances[].state')",
           "[\"running\",\"stopped\",\"terminated\",\"running\"]"),
        OK("$jmespath([[0, 1], 2, [3], 4, [5, [6, 7]]], '[]')", "[0,1,2,3,4,5,[6,7]]"),
        OK("$jmespath([[0, 1], 2, [3], 4, [5, [6, 7]]], '[][]')", "[0,1,2,3,4,5,6,7]"),
        /* filters and comparators */
        OK("$jmespath({machines: [{name: 'a', state: 'running'}, {name: 'b', state: 'stopped'}, {name: 'c', state: 'running'}]}, \"machines[?state=='running'].name\")",
           "[\"a\",\"c\"]"),
        OK("$jmespath([{a: 1}, {a: 5}, {a: 10}], '[?a > `3`].a')", "[5,10]"),
        OK("$jmespath([{a: 1}, {a: 5}, {a: 10}], '[?a <= `5`].a')", "[1,5]"),
        OK("$jmespath([{a: 1, b: 1}, {a: 2, b: 3}], '[?a == b]')", "[{\"a\":1,\"b\":1}]"),
        OK("$jmespath([{a: 1, b: 1}, {a: 2, b: 3}], '[?a != b].a')", "[2]"),
        OK("$jmespath([{a: 'x'}, {a: 'y'}], '[?a < `\"z\"`]')", "[]"),
        OK("$jmespath({a: [{b: {c: 1}}, {b: {c: 2}}]}, 'a[?b.c == `2`] | [0].b')", "{\"c\":2}"),
        OK("$jmespath([{a: [1]}, {a: []}, {a: {}}, {a: ''}, {a: 0}], '[?a] | length(@)')", "2"),
        /* ||, &&, ! */
        OK("$jmespath({a: null, b: 'x'}, 'a || b')", "\"x\""),
        OK("$jmespath({a: [], b: 'x'}, 'a && b')", "[]"),
        OK("$jmespath({a: 1, b: 'x'}, 'a && b')", "\"x\""),
        OK("$jmespath({a: true}, '!a')", "false"),
        OK("$jmespath([{a: true, b: false}, {a: true, b: true}], '[?a && !b]')", "[{\"a\":true,\"b\":false}]"),
        OK("$jmespath([{a: 1}, {b: 2}], '[?a || b]')", "[{\"a\":1},{\"b\":2}]"),
        /* multiselect lists and hashes */
        OK("$jmespath({a: 1, b: 2, c: 3}, '[a, c]')", "[1,3]"),
        OK("$jmespath({a: 1, b: 2, c: 3}, '{x: a, y: b}')", "{\"x\":1,\"y\":2}"),
        OK("$jmespath({people: [{name: 'a', age: 1}]}, 'people[].{n: name, a: age}')", "[{\"n\":\"a\",\"a\":1}]"),
        OK("$jmespath({a: {b: 1, c: 2}}, 'a.[b, c]')", "[1,2]"),
        OK("$jmespath({a: {b: 1, c: 2}}, 'a.{b: b}')", "{\"b\":1}"),
        OK("$jmespath({a: null}, 'a.[b]')", "null"),
        /* pipes, @, literals, raw strings */
        OK("$jmespath({people: [{first: 'James'}, {first: 'Jacob'}]}, 'people[*].first | [0]')", "\"James\""),
        OK("$jmespath([1, 2], '@')", "[1,2]"),
        OK("$jmespath({}, '`{\"a\": [1, true]}`')", "{\"a\":[1,true]}"),
        OK("$jmespath({}, \"'raw \\\\' string'\")", "\"raw ' string\""),
        OK("$jmespath({a: 'x'}, \"a == 'x'\")", "true"),
        OK("$jmespath({a: 1}, '(a)')", "1"),
        /* functions */
        OK("$jmespath({a: 'abc', b: [1, 2], c: {x: 1}}, '[length(a), length(b), length(c)]')", "[3,2,1]"),
        OK("$jmespath({s: 'h\\u00e9llo'}, 'length(s)')", "5"),
        OK("$jmespath({a: 1, b: 2}, 'keys(@)')", "[\"a\",\"b\"]"),
        OK("$jmespath({a: 1, b: 2}, 'values(@)')", "[1,2]"),
        OK("$jmespath([3, 1, 2], 'sort(@)')", "[1,2,3]"),
        OK("$jmespath(['b', 'a', 'c'], 'sort(@)')", "[\"a\",\"b\",\"c\"]"),
        OK("$jmespath({people: [{name: 'b', age: 30}, {name: 'a', age: 20}, {name: 'c', age: 30}]}, 'sort_by(people, &age)[].name')",
           "[\"a\",\"b\",\"c\"]"),
        OK("$jmespath({people: [{name: 'b', age: 30}, {name: 'a', age: 20}]}, 'max_by(people, &age).name')", "\"b\""),
        OK("$jmespath({people: [{name: 'b', age: 30}, {name: 'a', age: 20}]}, 'min_by(people, &age).name')", "\"a\""),
        OK("$jmespath([1, 2, 3], 'contains(@, `2`)')", "true"),
        OK("$jmespath({s: 'foobar'}, 'contains(s, `\"oba\"`)')", "true"),
        OK("$jmespath({a: ['x', 'y']}, \"join(', ', a)\")", "\"x, y\""),
        OK("$jmespath({s: 'foobar'}, \"starts_with(s, 'foo')\")", "true"),
        OK("$jmespath({s: 'foobar'}, \"ends_with(s, 'foo')\")", "false"),
        OK("$jmespath({a: [1, 2]}, 'to_string(a)')", "\"[1,2]\""),
        OK("$jmespath({a: 'x'}, 'to_string(a)')", "\"x\""),
        OK("$jmespath({a: '12.5', b: 'x', c: 3}, '[to_number(a), to_number(b), to_number(c)]')", "[12.5,null,3]"),
        OK("$jmespath({a: 1, b: 'x', c: null, d: [1], e: {}, f: true}, '[type(a), type(b), type(c), type(d), type(e), type(f)]')",
           "[\"number\",\"string\",\"null\",\"array\",\"object\",\"boolean\"]"),
        OK("$jmespath([1, 2, 3], 'reverse(@)')", "[3,2,1]"),
        OK("$jmespath({s: 'abc'}, 'reverse(s)')", "\"cba\""),
        OK("$jmespath([1, 2, 3.5], 'sum(@)')", "6.5"),
        OK("$jmespath([1, 2, 3], 'avg(@)')", "2"),
        OK("$jmespath([], 'avg(@)')", "null"),
        OK("$jmespath([1, 5, 3], '[min(@), max(@)]')", "[1,5]"),
        OK("$jmespath(['b', 'a'], 'max(@)')", "\"b\""),
        OK("$jmespath({a: null, b: null, c: 3}, 'not_null(a, b, c)')", "3"),
        OK("$jmespath({a: {x: 1}, b: {x: 2, y: 3}}, 'merge(a, b)')", "{\"x\":2,\"y\":3}"),
        OK("$jmespath({a: -1.5}, '[abs(a), ceil(a), floor(a)]')", "[1.5,-1,-2]"),
        OK("$jmespath([{a: 1}, {a: 2}, {b: 3}], 'map(&a, @)')", "[1,2,null]"),
        OK("$jmespath({a: 1}, 'to_array(a)')", "[1]"),
        OK("$jmespath({people: [{age: 1}, {age: 2}]}, 'length(people[?age > `1`])')", "1"),
        ERR("$jmespath([1, 'a'], 'sort(@)')", "invalid-type"),
        ERR("$jmespath({a: 1}, 'length(a)')", "invalid-type: length() got number as argument 1"),
        ERR("$jmespath({}, 'length(@, @)')", "invalid-arity"),
        ERR("$jmespath({}, 'nope(@)')", "unknown-function: nope()"),
        ERR("$jmespath([{a: 1}, {a: 'x'}], 'sort_by(@, &a)')", "invalid-type"),
        ERR("$jmespath([1], 'sort_by(@, a)')", "expects argument 2 to be an expression"),
        /* syntax errors */
        ERR("$jmespath({}, 'a.')", "jmespath: syntax error at column 3"),
        ERR("$jmespath({}, 'a[')", "jmespath: syntax error"),
        ERR("$jmespath({}, 'a = b')", "'=' is not an operator"),
        ERR("$jmespath({}, '\"a')", "unterminated string"),
        ERR("$jmespath({}, '`{bad`')", "bad JSON literal"),
        ERR("$jmespath({}, '[?a == `1`')", "expected ']'"),
        ERR("$jmespath({}, 'a b')", "unexpected token"),
        /* on the item */
        OK("$jmespath($json, 'people[?age > `25`].name')", "[\"a\",\"c\"]"),
        OK("$jmespath($json.people, 'max_by(@, &age).name')", "\"c\""),
        OK("$jmespath($json, 'tags[0]')", "\"a\""),
    };
    run(rows, GL_NELEM(rows));
}

/* n8n's $runIndex: a node inside a loop sees how many times it ran before;
 * $parameter is the node's parameters; $vars comes from the run */
static int collect_tag(void *ud, const gl_step_t *st, bool *cancel, gl_err_t *err)
{
    (void)cancel, (void)err;
    json_object *items;
    if (strcmp(st->node_id, "tag") == 0 && st->output && json_object_object_get_ex(st->output, "main", &items))
        for (size_t i = 0; i < json_object_array_length(items); i++)
            json_object_array_add(ud, json_object_get(json_object_array_get_idx(items, i)));
    return GL_OK;
}

TEST(run_index_parameter_and_vars_in_a_run)
{
    json_object *def = parse(
        "{\"nodes\":[{\"id\":\"start\",\"type\":\"trigger.manual\",\"name\":\"Start\"},"
        "{\"id\":\"split\",\"type\":\"flow.split\",\"name\":\"Split\",\"params\":{\"field\":\"users\"}},"
        "{\"id\":\"loop\",\"type\":\"flow.loop\",\"name\":\"Loop\",\"params\":{\"batch_size\":2}},"
        "{\"id\":\"tag\",\"type\":\"data.set\",\"name\":\"Tag\",\"params\":{\"fields\":{"
        "\"run\":\"{{ $runIndex }}\",\"base\":\"{{ $vars.BASE }}\",\"n\":\"{{ Object.keys($parameter.fields).length }}\"}}}],"
        "\"edges\":[{\"from\":\"start\",\"to\":\"split\"},{\"from\":\"split\",\"to\":\"loop\"},"
        "{\"from\":\"loop\",\"from_port\":\"batch\",\"to\":\"tag\"},{\"from\":\"tag\",\"to\":\"loop\",\"to_port\":\"loop\"}]}");
    json_object *input = parse("[{\"users\":[{\"u\":1},{\"u\":2},{\"u\":3},{\"u\":4},{\"u\":5}]}]");
    json_object *vars = parse("{\"BASE\":\"https://api.example.com\"}");
    json_object *got = json_object_new_array();
    gl_run_t r;
    memset(&r, 0, sizeof r);
    r.definition = def;
    r.input = input;
    r.vars = vars;
    r.io.record = collect_tag;
    r.io.ud = got;
    gl_run_result_t rr;
    gl_err_t err;
    gl_err_clear(&err);
    ASSERT_EQ(gl_engine_run(&r, &rr, &err), GL_OK);
    ASSERT_EQ(rr.status, GL_RUN_SUCCEEDED);
    gl_run_result_free(&rr);
    ASSERT_STR_EQ(text(got), "[{\"u\":1,\"run\":0,\"base\":\"https:\\/\\/api.example.com\",\"n\":3},"
                             "{\"u\":2,\"run\":0,\"base\":\"https:\\/\\/api.example.com\",\"n\":3},"
                             "{\"u\":3,\"run\":1,\"base\":\"https:\\/\\/api.example.com\",\"n\":3},"
                             "{\"u\":4,\"run\":1,\"base\":\"https:\\/\\/api.example.com\",\"n\":3},"
                             "{\"u\":5,\"run\":2,\"base\":\"https:\\/\\/api.example.com\",\"n\":3}]");
    ASSERT(gl_engine_uses_vars(def));
    ASSERT(!gl_engine_is_direct(def));
    json_object_put(got);
    json_object_put(vars);
    json_object_put(input);
    json_object_put(def);
}

TEST(hostile)
{
    gl_expr_ctx_t ctx = make_ctx();
    ctx.limits.max_steps = 20000;
    ctx.limits.max_output = 1 << 16;
    json_object *out = NULL;
    gl_err_t err;
    /* quadratic or multiplying work on data built in the expression ends
     * within the bounds (a result, or the step or size error) */
    /* the JMESPath parser's nesting is the expression's */
    for (int k = 0; k < 3; k++) {
        static const char opens[] = "(![";
        char src[1200];
        size_t n = (size_t)snprintf(src, sizeof src, "$jmespath({}, '");
        for (int i = 0; i < 400; i++)
            src[n++] = opens[k];
        snprintf(src + n, sizeof src - n, "a')");
        gl_err_clear(&err);
        int drc = gl_expr_eval(src, &ctx, &out, &err);
        if (drc != GL_INVALID || !strstr(err.msg, "nested too deeply"))
            FAIL_AT("%.40s…: rc %d %s", src, drc, err.msg);
    }
    static const char *const steps[] = {
        "$jmespath([1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30], "
        "'[*].[@, @, @, @, @, @, @, @, @, @, @, @, @, @, @, @, @, @, @, @][*][*][*]')",
        "'x'.repeat(5000).split('').unique()",
        "'x'.repeat(3000).split('').union('y'.repeat(3000).split(''))",
        "[$json.people, $json.people].chunk(1).chunk(1).compact().merge()",
    };
    for (size_t i = 0; i < GL_NELEM(steps); i++) {
        gl_err_clear(&err);
        int rc = gl_expr_eval(steps[i], &ctx, &out, &err);
        if (rc == GL_OK) {
            json_object_put(out);
            out = NULL;
            continue; /* fine if within the bounds */
        }
        ASSERT_EQ(rc, GL_INVALID);
        if (!strstr(err.msg, "steps") && !strstr(err.msg, "exceeds") && !strstr(err.msg, "not a function") &&
            !strstr(err.msg, "has no method"))
            FAIL_AT("%s: unexpected error %s", steps[i], err.msg);
    }
    /* JMESPath on a large array: every projection and sort is charged */
    json_object *big = json_object_new_array();
    for (int i = 0; i < 50000; i++) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "a", json_object_new_int(50000 - i));
        json_object_object_add(o, "s", json_object_new_string("some text here"));
        json_object_array_add(big, o);
    }
    json_object *item = json_object_new_object();
    json_object_object_add(item, "big", big);
    ctx.json = item;
    static const char *const big_rows[] = {
        "$jmespath($json, 'sort_by(big, &a)[].a')",
        "$jmespath($json, 'big[*].[a, s, a, s][]')",
        "$jmespath($json, 'big[?a > `0`] | sort_by(@, &s)')",
        "$jmespath($json, 'map(&to_string(@), big)')",
        "$json.big.unique()",
        "$json.big.pluck('a').sum()",
        "$json.big.union($json.big)",
        "$json.big.compact()",
    };
    for (size_t i = 0; i < GL_NELEM(big_rows); i++) {
        gl_err_clear(&err);
        int64_t t0 = gl_now_ms();
        int rc = gl_expr_eval(big_rows[i], &ctx, &out, &err);
        int64_t dt = gl_now_ms() - t0;
        ASSERT_EQ(rc, GL_INVALID);
        if (!strstr(err.msg, "steps") && !strstr(err.msg, "exceeds"))
            FAIL_AT("%s: unexpected error %s", big_rows[i], err.msg);
        fprintf(stderr, "%s: %s (%lld ms)\n", big_rows[i], err.msg, (long long)dt);
    }
    json_object_put(item);
    fixture_free();
}

TEST_MAIN()
