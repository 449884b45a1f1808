/*
 * test_n8n_import.c: the n8n workflow converter (n8n_import.c,
 * n8n_export.c), table-driven. Conditions are converted and then evaluated
 * by the expression engine against an item, so each row checks what the
 * imported node decides, not the text the converter writes. Each group
 * names the n8n behaviour it reproduces (n8n's node definitions under
 * packages/nodes-base/nodes and its docs).
 */
#include "engine.h"
#include "gl_test.h"
#include "json.h"

static json_object *parse(const char *text)
{
    json_object *o = NULL;
    gl_err_t err;
    gl_err_clear(&err);
    if (gl_json_parse(text, strlen(text), 64, &o, &err) != GL_OK)
        FAIL_AT("test JSON does not parse: %s: %s", err.msg, text);
    return o;
}

/* converts a one-node workflow {name "N", type, typeVersion, parameters};
 * *problems gets the problems (new) */
static json_object *convert1(const char *type, const char *ver, const char *params, json_object **problems)
{
    char doc[8192];
    int n = snprintf(doc, sizeof doc,
                     "{\"name\":\"t\",\"nodes\":[{\"id\":\"n1\",\"name\":\"N\",\"type\":\"n8n-nodes-base.%s\","
                     "\"typeVersion\":%s,\"position\":[0,0],\"parameters\":%s}],\"connections\":{}}",
                     type, ver, params);
    ASSERT(n > 0 && (size_t)n < sizeof doc);
    json_object *d = parse(doc), *def = NULL;
    gl_err_t err;
    gl_err_clear(&err);
    ASSERT_EQ(gl_n8n_import(d, &def, problems, &err), GL_OK);
    json_object_put(d);
    return def;
}

static json_object *node0(json_object *def)
{
    json_object *nodes;
    ASSERT(json_object_object_get_ex(def, "nodes", &nodes));
    return json_object_array_get_idx(nodes, 0);
}

static json_object *param(json_object *def, const char *name)
{
    json_object *p, *v = NULL;
    ASSERT(json_object_object_get_ex(node0(def), "params", &p));
    json_object_object_get_ex(p, name, &v);
    return v;
}

static bool render_bool(const char *tmpl, const char *item)
{
    gl_expr_ctx_t c;
    memset(&c, 0, sizeof c);
    json_object *it = parse(item), *out = NULL;
    c.json = it;
    gl_err_t err;
    gl_err_clear(&err);
    if (gl_expr_render(tmpl, &c, &out, &err) != GL_OK)
        FAIL_AT("condition %s does not evaluate: %s", tmpl, err.msg);
    bool yes = gl_expr_truthy(out);
    json_object_put(out);
    json_object_put(it);
    return yes;
}

/* ---- values: n8n's leading '=' and literal text ---------------------- */

typedef struct {
    const char *n8n;  /* the parameter value as JSON text */
    const char *want; /* the Glyphic value as JSON text */
    const char *item; /* rendered against this item … */
    const char *out;  /* … gives this (JSON text), NULL: not rendered */
} value_row_t;

static const value_row_t value_rows[] = {
    /* n8n docs, "Expressions": a value starting with = is an expression */
    { "\"={{ $json.a }}\"", "\"{{ $json.a }}\"", "{\"a\":5}", "5" },
    { "\"=Hello {{ $json.name }}\"", "\"Hello {{ $json.name }}\"", "{\"name\":\"Ann\"}", "\"Hello Ann\"" },
    { "\"={{ $json.a }} and {{ $json.b }}\"", "\"{{ $json.a }} and {{ $json.b }}\"", "{\"a\":1,\"b\":2}", "\"1 and 2\"" },
    /* a '=' without braces is plain text after the = */
    { "\"=plain\"", "\"plain\"", "{}", "\"plain\"" },
    { "\"=\"", "\"\"", "{}", "\"\"" },
    /* without '=', a value is literal, also when it holds {{ }} */
    { "\"plain\"", "\"plain\"", "{}", "\"plain\"" },
    { "\"a {{ b }}\"", "\"{{ \\\"a {{ b }}\\\" }}\"", "{}", "\"a {{ b }}\"" },
    { "\"{{ $json.a }}\"", "\"{{ \\\"{{ $json.a }}\\\" }}\"", "{\"a\":1}", "\"{{ $json.a }}\"" },
    { "\"quote \\\" and \\\\ {{ x }}\"", NULL, "{}", "\"quote \\\" and \\\\ {{ x }}\"" },
    { "\"line\\nbreak {{\"", NULL, "{}", "\"line\\nbreak {{\"" },
    /* numbers and booleans stay what they are */
    { "3", "3", NULL, NULL },
    { "true", "true", NULL, NULL },
};

/* Set v1 values.string[].value: n8n's expression marking */
TEST(values_keep_expressions_and_literals)
{
    for (size_t i = 0; i < sizeof value_rows / sizeof value_rows[0]; i++) {
        const value_row_t *r = &value_rows[i];
        char params[1024];
        snprintf(params, sizeof params, "{\"values\":{\"string\":[{\"name\":\"f\",\"value\":%s}]}}", r->n8n);
        json_object *probs = NULL, *def = convert1("set", "1", params, &probs);
        ASSERT_EQ(json_object_array_length(probs), 0);
        json_object *fields = param(def, "fields"), *v = NULL;
        ASSERT(json_object_object_get_ex(fields, "f", &v));
        if (r->want) {
            json_object *w = parse(r->want);
            if (!json_object_equal(w, v))
                FAIL_AT("row %zu: %s became %s, not %s", i, r->n8n, json_object_to_json_string(v), r->want);
            json_object_put(w);
        }
        if (r->out) {
            gl_expr_ctx_t c;
            memset(&c, 0, sizeof c);
            json_object *it = parse(r->item), *out = NULL, *w = parse(r->out);
            c.json = it;
            gl_err_t err;
            gl_err_clear(&err);
            ASSERT_EQ(gl_expr_render_value(v, &c, &out, &err), GL_OK);
            if (!json_object_equal(w, out))
                FAIL_AT("row %zu: %s rendered %s, not %s", i, r->n8n, json_object_to_json_string(out), r->out);
            json_object_put(out);
            json_object_put(w);
            json_object_put(it);
        }
        json_object_put(def);
        json_object_put(probs);
    }
}

typedef struct {
    const char *value, *type, *item, *out;
} typed_row_t;

static const typed_row_t typed_rows[] = {
    /* Set v3.3+ (Set/v2/helpers/utils.ts prepareEntry): a string field gets
     * String(value), objects as JSON text; a number field a number */
    { "\"={{ $json.n }}\"", "string", "{\"n\":31}", "\"31\"" },
    { "\"={{ $json.o }}\"", "string", "{\"o\":{\"a\":1}}", "\"{\\\"a\\\":1}\"" },
    { "\"={{ $json.b }}\"", "string", "{\"b\":true}", "\"true\"" },
    { "\"={{ $json.s }}\"", "string", "{\"s\":\"x\"}", "\"x\"" },
    { "\"={{ $json.s }}\"", "number", "{\"s\":\"12\"}", "12" },
    { "\"={{ $json.n + 1 }}\"", "number", "{\"n\":1}", "2" },
    { "\"7\"", "number", "{}", "7" },
    { "\"2.5\"", "number", "{}", "2.5" },
    { "\"true\"", "boolean", "{}", "true" },
    { "\"false\"", "boolean", "{}", "false" },
    { "\"[1,2]\"", "array", "{}", "[1,2]" },
    { "\"{\\\"k\\\":\\\"{{ x }}\\\"}\"", "object", "{}", "{\"k\":\"{{ x }}\"}" },
    { "\"=n is {{ $json.n }}\"", "string", "{\"n\":3}", "\"n is 3\"" },
};

TEST(set_v3_field_types)
{
    for (size_t i = 0; i < sizeof typed_rows / sizeof typed_rows[0]; i++) {
        const typed_row_t *r = &typed_rows[i];
        char params[1024];
        snprintf(params, sizeof params,
                 "{\"assignments\":{\"assignments\":[{\"id\":\"1\",\"name\":\"f\",\"value\":%s,\"type\":\"%s\"}]}}",
                 r->value, r->type);
        json_object *probs = NULL, *def = convert1("set", "3.4", params, &probs);
        if (json_object_array_length(probs))
            FAIL_AT("row %zu: %s", i, json_object_to_json_string(probs));
        json_object *fields = param(def, "fields"), *v = NULL;
        ASSERT(json_object_object_get_ex(fields, "f", &v));
        gl_expr_ctx_t c;
        memset(&c, 0, sizeof c);
        json_object *it = parse(r->item), *out = NULL, *w = parse(r->out);
        c.json = it;
        gl_err_t err;
        gl_err_clear(&err);
        ASSERT_EQ(gl_expr_render_value(v, &c, &out, &err), GL_OK);
        if (!json_object_equal(w, out))
            FAIL_AT("row %zu: %s (%s) gave %s, not %s", i, r->value, r->type, json_object_to_json_string(out), r->out);
        json_object_put(out);
        json_object_put(w);
        json_object_put(it);
        json_object_put(def);
        json_object_put(probs);
    }
}

/* ---- conditions ------------------------------------------------------ */

typedef struct {
    const char *cond; /* one filter condition (IF v2) as JSON text */
    const char *item;
    bool want;
} cond_row_t;

#define C(l, r, t, op) "{\"leftValue\":" l ",\"rightValue\":" r ",\"operator\":{\"type\":\"" t "\",\"operation\":\"" op "\"}}"

static const cond_row_t cond_rows[] = {
    /* n8n filter parameter (packages/workflow FilterParameter): string operators */
    { C("\"={{ $json.s }}\"", "\"abc\"", "string", "equals"), "{\"s\":\"abc\"}", true },
    { C("\"={{ $json.s }}\"", "\"ABC\"", "string", "equals"), "{\"s\":\"abc\"}", false },
    { C("\"={{ $json.s }}\"", "\"abc\"", "string", "notEquals"), "{\"s\":\"abd\"}", true },
    { C("\"={{ $json.s }}\"", "\"b\"", "string", "contains"), "{\"s\":\"abc\"}", true },
    { C("\"={{ $json.s }}\"", "\"x\"", "string", "contains"), "{\"s\":\"abc\"}", false },
    { C("\"={{ $json.s }}\"", "\"x\"", "string", "notContains"), "{\"s\":\"abc\"}", true },
    { C("\"={{ $json.s }}\"", "\"ab\"", "string", "startsWith"), "{\"s\":\"abc\"}", true },
    { C("\"={{ $json.s }}\"", "\"bc\"", "string", "startsWith"), "{\"s\":\"abc\"}", false },
    { C("\"={{ $json.s }}\"", "\"ab\"", "string", "notStartsWith"), "{\"s\":\"abc\"}", false },
    { C("\"={{ $json.s }}\"", "\"bc\"", "string", "endsWith"), "{\"s\":\"abc\"}", true },
    { C("\"={{ $json.s }}\"", "\"bc\"", "string", "notEndsWith"), "{\"s\":\"abc\"}", false },
    /* regex / notRegex: "/pattern/flags" or a bare pattern, matched against String(left) */
    { C("\"={{ $json.s }}\"", "\"^a.c$\"", "string", "regex"), "{\"s\":\"abc\"}", true },
    { C("\"={{ $json.s }}\"", "\"^A.C$\"", "string", "regex"), "{\"s\":\"abc\"}", false },
    { C("\"={{ $json.s }}\"", "\"/^A.C$/i\"", "string", "regex"), "{\"s\":\"abc\"}", true },
    { C("\"={{ $json.s }}\"", "\"/\\\\d{3}/\"", "string", "regex"), "{\"s\":\"ab123\"}", true },
    { C("\"={{ $json.s }}\"", "\"/\\\\d{3}/\"", "string", "notRegex"), "{\"s\":\"ab12\"}", true },
    { C("\"={{ $json.s }}\"", "\"a/b\"", "string", "regex"), "{\"s\":\"xa/by\"}", true },
    { C("\"={{ $json.s }}\"", "\"^$\"", "string", "regex"), "{}", true },
    { C("\"={{ $json.s }}\"", "\"\"", "string", "exists"), "{\"s\":\"\"}", true },
    { C("\"={{ $json.s }}\"", "\"\"", "string", "exists"), "{}", false },
    { C("\"={{ $json.s }}\"", "\"\"", "string", "notExists"), "{}", true },
    { C("\"={{ $json.s }}\"", "\"\"", "string", "empty"), "{\"s\":\"\"}", true },
    { C("\"={{ $json.s }}\"", "\"\"", "string", "empty"), "{}", true },
    { C("\"={{ $json.s }}\"", "\"\"", "string", "notEmpty"), "{\"s\":\"x\"}", true },
    { C("\"={{ $json.s }}\"", "\"={{ $json.t }}\"", "string", "equals"), "{\"s\":\"q\",\"t\":\"q\"}", true },
    { C("\"=id-{{ $json.n }}\"", "\"id-4\"", "string", "equals"), "{\"n\":4}", true },
    { C("\"literal\"", "\"literal\"", "string", "equals"), "{}", true },
    /* number operators */
    { C("\"={{ $json.n }}\"", "5", "number", "equals"), "{\"n\":5}", true },
    { C("\"={{ $json.n }}\"", "5", "number", "notEquals"), "{\"n\":5}", false },
    { C("\"={{ $json.n }}\"", "5", "number", "gt"), "{\"n\":6}", true },
    { C("\"={{ $json.n }}\"", "5", "number", "gt"), "{\"n\":5}", false },
    { C("\"={{ $json.n }}\"", "5", "number", "gte"), "{\"n\":5}", true },
    { C("\"={{ $json.n }}\"", "5", "number", "lt"), "{\"n\":4}", true },
    { C("\"={{ $json.n }}\"", "5", "number", "lte"), "{\"n\":6}", false },
    { C("\"={{ $json.n }}\"", "\"\"", "number", "exists"), "{\"n\":0}", true },
    { C("\"={{ $json.n }}\"", "\"\"", "number", "empty"), "{}", true },
    /* boolean operators */
    { C("\"={{ $json.b }}\"", "\"\"", "boolean", "true"), "{\"b\":true}", true },
    { C("\"={{ $json.b }}\"", "\"\"", "boolean", "true"), "{\"b\":false}", false },
    { C("\"={{ $json.b }}\"", "\"\"", "boolean", "false"), "{\"b\":false}", true },
    { C("\"={{ $json.b }}\"", "true", "boolean", "equals"), "{\"b\":true}", true },
    { C("\"={{ $json.b }}\"", "true", "boolean", "notEquals"), "{\"b\":true}", false },
    /* array operators */
    { C("\"={{ $json.a }}\"", "2", "array", "contains"), "{\"a\":[1,2]}", true },
    { C("\"={{ $json.a }}\"", "3", "array", "contains"), "{\"a\":[1,2]}", false },
    { C("\"={{ $json.a }}\"", "3", "array", "notContains"), "{\"a\":[1,2]}", true },
    { C("\"={{ $json.a }}\"", "2", "array", "lengthEquals"), "{\"a\":[1,2]}", true },
    { C("\"={{ $json.a }}\"", "2", "array", "lengthNotEquals"), "{\"a\":[1,2]}", false },
    { C("\"={{ $json.a }}\"", "1", "array", "lengthGt"), "{\"a\":[1,2]}", true },
    { C("\"={{ $json.a }}\"", "2", "array", "lengthLt"), "{\"a\":[1,2]}", false },
    { C("\"={{ $json.a }}\"", "2", "array", "lengthGte"), "{\"a\":[1,2]}", true },
    { C("\"={{ $json.a }}\"", "1", "array", "lengthLte"), "{\"a\":[1,2]}", false },
    { C("\"={{ $json.a }}\"", "\"\"", "array", "empty"), "{\"a\":[]}", true },
    { C("\"={{ $json.a }}\"", "\"\"", "array", "notEmpty"), "{\"a\":[]}", false },
    /* dateTime operators: instants compared */
    { C("\"={{ $json.d }}\"", "\"2024-01-01T00:00:00Z\"", "dateTime", "after"), "{\"d\":\"2024-01-02\"}", true },
    { C("\"={{ $json.d }}\"", "\"2024-01-01T00:00:00Z\"", "dateTime", "before"), "{\"d\":\"2024-01-02\"}", false },
    { C("\"={{ $json.d }}\"", "\"2024-01-01T01:00:00+01:00\"", "dateTime", "equals"), "{\"d\":\"2024-01-01T00:00:00Z\"}", true },
    { C("\"={{ $json.d }}\"", "\"2024-01-01\"", "dateTime", "afterOrEquals"), "{\"d\":\"2024-01-01\"}", true },
    { C("\"={{ $json.d }}\"", "\"2024-01-01\"", "dateTime", "beforeOrEquals"), "{\"d\":\"2023-12-31\"}", true },
    { C("\"={{ $json.d }}\"", "\"2024-01-01\"", "dateTime", "notEquals"), "{\"d\":\"2023-12-31\"}", true },
    /* object operators */
    { C("\"={{ $json.o }}\"", "\"\"", "object", "empty"), "{\"o\":{}}", true },
    { C("\"={{ $json.o }}\"", "\"\"", "object", "notEmpty"), "{\"o\":{\"k\":1}}", true },
    { C("\"={{ $json.o }}\"", "\"\"", "object", "exists"), "{}", false },
};

/* If v2: one condition, combinator and */
TEST(if_v2_operators)
{
    for (size_t i = 0; i < sizeof cond_rows / sizeof cond_rows[0]; i++) {
        char params[2048];
        snprintf(params, sizeof params,
                 "{\"conditions\":{\"options\":{\"caseSensitive\":true},\"conditions\":[%s],\"combinator\":\"and\"}}",
                 cond_rows[i].cond);
        json_object *probs = NULL, *def = convert1("if", "2", params, &probs);
        if (json_object_array_length(probs))
            FAIL_AT("row %zu: %s", i, json_object_to_json_string(probs));
        const char *cond = json_object_get_string(param(def, "condition"));
        if (render_bool(cond, cond_rows[i].item) != cond_rows[i].want)
            FAIL_AT("row %zu: %s on %s is not %s (%s)", i, cond_rows[i].cond, cond_rows[i].item,
                    cond_rows[i].want ? "true" : "false", cond);
        json_object_put(def);
        json_object_put(probs);
    }
}

/* If v2: combinator or/and; options.caseSensitive false lowers both sides */
TEST(if_v2_combinator_and_case)
{
    const char *p = "{\"conditions\":{\"options\":{\"caseSensitive\":false},\"conditions\":["
                    C("\"={{ $json.s }}\"", "\"ABC\"", "string", "equals") ","
                    C("\"={{ $json.n }}\"", "1", "number", "gt") "],\"combinator\":\"or\"}}";
    json_object *probs = NULL, *def = convert1("if", "2.2", p, &probs);
    const char *cond = json_object_get_string(param(def, "condition"));
    ASSERT(render_bool(cond, "{\"s\":\"abc\",\"n\":0}"));
    ASSERT(render_bool(cond, "{\"s\":\"x\",\"n\":2}"));
    ASSERT(!render_bool(cond, "{\"s\":\"x\",\"n\":0}"));
    json_object_put(def);
    json_object_put(probs);
    /* no conditions: n8n's filter with nothing to check passes */
    def = convert1("if", "2", "{\"conditions\":{\"conditions\":[],\"combinator\":\"and\"}}", &probs);
    ASSERT(render_bool(json_object_get_string(param(def, "condition")), "{}"));
    json_object_put(def);
    json_object_put(probs);
}

typedef struct {
    const char *kind, *v1, *op, *v2, *item;
    bool want;
} v1_row_t;

static const v1_row_t v1_rows[] = {
    /* IF v1 (IfV1.node.ts): conditions by type */
    { "number", "\"={{ $json.n }}\"", "smaller", "3", "{\"n\":2}", true },
    { "number", "\"={{ $json.n }}\"", "smallerEqual", "3", "{\"n\":3}", true },
    { "number", "\"={{ $json.n }}\"", "larger", "3", "{\"n\":3}", false },
    { "number", "\"={{ $json.n }}\"", "largerEqual", "3", "{\"n\":3}", true },
    { "number", "\"={{ $json.n }}\"", "equal", "3", "{\"n\":3}", true },
    { "number", "\"={{ $json.n }}\"", "notEqual", "3", "{\"n\":3}", false },
    { "number", "\"={{ $json.n }}\"", "isEmpty", "0", "{}", true },
    { "number", "\"={{ $json.n }}\"", "isNotEmpty", "0", "{\"n\":1}", true },
    { "string", "\"={{ $json.s }}\"", "equal", "\"x\"", "{\"s\":\"x\"}", true },
    { "string", "\"={{ $json.s }}\"", "notEqual", "\"x\"", "{\"s\":\"x\"}", false },
    { "string", "\"={{ $json.s }}\"", "contains", "\"el\"", "{\"s\":\"hello\"}", true },
    { "string", "\"={{ $json.s }}\"", "notContains", "\"el\"", "{\"s\":\"hello\"}", false },
    { "string", "\"={{ $json.s }}\"", "startsWith", "\"he\"", "{\"s\":\"hello\"}", true },
    { "string", "\"={{ $json.s }}\"", "notStartsWith", "\"he\"", "{\"s\":\"hello\"}", false },
    { "string", "\"={{ $json.s }}\"", "endsWith", "\"lo\"", "{\"s\":\"hello\"}", true },
    { "string", "\"={{ $json.s }}\"", "notEndsWith", "\"lo\"", "{\"s\":\"hello\"}", false },
    { "string", "\"={{ $json.s }}\"", "regex", "\"/^h.l/\"", "{\"s\":\"hello\"}", true },
    { "string", "\"={{ $json.s }}\"", "regex", "\"/^H/i\"", "{\"s\":\"hello\"}", true },
    { "string", "\"={{ $json.s }}\"", "regex", "\"^H\"", "{\"s\":\"hello\"}", false },
    { "string", "\"={{ $json.s }}\"", "notRegex", "\"lo$\"", "{\"s\":\"hello\"}", false },
    { "string", "\"={{ $json.s }}\"", "isEmpty", "\"\"", "{\"s\":\"\"}", true },
    { "string", "\"={{ $json.s }}\"", "isNotEmpty", "\"\"", "{\"s\":\"\"}", false },
    { "dateTime", "\"={{ $json.d }}\"", "after", "\"2024-05-01T00:00:00Z\"", "{\"d\":\"2024-06-01\"}", true },
    { "dateTime", "\"={{ $json.d }}\"", "before", "\"2024-05-01T00:00:00Z\"", "{\"d\":\"2024-06-01\"}", false },
    { "boolean", "\"={{ $json.b }}\"", "equal", "true", "{\"b\":true}", true },
    { "boolean", "\"={{ $json.b }}\"", "notEqual", "true", "{\"b\":true}", false },
};

TEST(if_v1_conditions)
{
    for (size_t i = 0; i < sizeof v1_rows / sizeof v1_rows[0]; i++) {
        const v1_row_t *r = &v1_rows[i];
        char params[1024];
        snprintf(params, sizeof params,
                 "{\"conditions\":{\"%s\":[{\"value1\":%s,\"operation\":\"%s\",\"value2\":%s}]}}", r->kind, r->v1,
                 r->op, r->v2);
        json_object *probs = NULL, *def = convert1("if", "1", params, &probs);
        ASSERT_EQ(json_object_array_length(probs), 0);
        const char *cond = json_object_get_string(param(def, "condition"));
        if (render_bool(cond, r->item) != r->want)
            FAIL_AT("row %zu: %s %s %s on %s (%s)", i, r->v1, r->op, r->v2, r->item, cond);
        json_object_put(def);
        json_object_put(probs);
    }
    /* combineOperation any */
    json_object *probs = NULL, *def = convert1(
        "if", "1",
        "{\"combineOperation\":\"any\",\"conditions\":{\"number\":[{\"value1\":\"={{ $json.n }}\",\"operation\":"
        "\"larger\",\"value2\":10}],\"string\":[{\"value1\":\"={{ $json.s }}\",\"value2\":\"go\"}]}}",
        &probs);
    const char *cond = json_object_get_string(param(def, "condition"));
    ASSERT(render_bool(cond, "{\"n\":1,\"s\":\"go\"}"));
    ASSERT(!render_bool(cond, "{\"n\":1,\"s\":\"no\"}"));
    json_object_put(def);
    json_object_put(probs);
}

/* long expressions (real workflows have them) convert whole */
TEST(long_expressions)
{
    char longexpr[3000], params[8192];
    int n = snprintf(longexpr, sizeof longexpr, "={{ $json.a");
    while (n < 2000)
        n += snprintf(longexpr + n, sizeof longexpr - (size_t)n, " + $json.a");
    snprintf(longexpr + n, sizeof longexpr - (size_t)n, " }}");
    snprintf(params, sizeof params,
             "{\"conditions\":{\"number\":[{\"value1\":\"%s\",\"operation\":\"larger\",\"value2\":\"%s\"}]}}",
             longexpr, longexpr);
    json_object *probs = NULL, *def = convert1("if", "1", params, &probs);
    ASSERT_EQ(json_object_array_length(probs), 0);
    ASSERT(!render_bool(json_object_get_string(param(def, "condition")), "{\"a\":1}"));
    json_object_put(def);
    json_object_put(probs);
    snprintf(params, sizeof params, "{\"mode\":\"raw\",\"jsonOutput\":\"={ \\\"x\\\": %s }\"}", longexpr + 1);
    def = convert1("set", "3.4", params, &probs);
    ASSERT_EQ(json_object_array_length(probs), 0);
    json_object_put(def);
    json_object_put(probs);
}

/* ---- ports and connections -------------------------------------------- */

static json_object *convert_doc(const char *text, json_object **probs)
{
    json_object *d = parse(text), *def = NULL;
    gl_err_t err;
    gl_err_clear(&err);
    ASSERT_EQ(gl_n8n_import(d, &def, probs, &err), GL_OK);
    json_object_put(d);
    return def;
}

static bool has_edge(json_object *def, const char *from, const char *fp, const char *to, const char *tp)
{
    json_object *edges;
    ASSERT(json_object_object_get_ex(def, "edges", &edges));
    for (size_t i = 0; i < json_object_array_length(edges); i++) {
        json_object *e = json_object_array_get_idx(edges, i), *a, *b, *c, *d;
        json_object_object_get_ex(e, "from", &a);
        json_object_object_get_ex(e, "from_port", &b);
        json_object_object_get_ex(e, "to", &c);
        json_object_object_get_ex(e, "to_port", &d);
        if (!strcmp(json_object_get_string(a), from) && !strcmp(json_object_get_string(b), fp) &&
            !strcmp(json_object_get_string(c), to) && !strcmp(json_object_get_string(d), tp))
            return true;
    }
    return false;
}

#define NODE(id, name, type, ver, params) \
    "{\"id\":\"" id "\",\"name\":\"" name "\",\"type\":\"n8n-nodes-base." type "\",\"typeVersion\":" ver \
    ",\"position\":[0,0],\"parameters\":" params "}"
#define TO(name, idx) "{\"node\":\"" name "\",\"type\":\"main\",\"index\":" idx "}"

/* IF outputs 0/1 are true/false; Merge inputs 0/1 are input1/input2; a
 * Loop Over Items (v3) node's outputs are done/loop and the body's edge
 * back goes to its loop input; continueErrorOutput adds the error port */
TEST(connections_map_to_named_ports)
{
    json_object *probs = NULL;
    json_object *def = convert_doc(
        "{\"nodes\":[" NODE("t", "T", "manualTrigger", "1", "{}") "," NODE("i", "If", "if", "2", "{}") ","
        NODE("m", "Merge", "merge", "3", "{}") "," NODE("l", "Loop", "splitInBatches", "3", "{}") ","
        NODE("b", "Body", "noOp", "1", "{}") ","
        "{\"id\":\"h\",\"name\":\"Http\",\"type\":\"n8n-nodes-base.httpRequest\",\"typeVersion\":4.2,"
        "\"parameters\":{\"url\":\"https://example.com\"},\"onError\":\"continueErrorOutput\"},"
        NODE("e", "Err", "noOp", "1", "{}") "],"
        "\"connections\":{\"T\":{\"main\":[[" TO("If", "0") "]]},"
        "\"If\":{\"main\":[[" TO("Merge", "0") "],[" TO("Merge", "1") "]]},"
        "\"Merge\":{\"main\":[[" TO("Loop", "0") "]]},"
        "\"Loop\":{\"main\":[[" TO("Http", "0") "],[" TO("Body", "0") "]]},"
        "\"Body\":{\"main\":[[" TO("Loop", "0") "]]},"
        "\"Http\":{\"main\":[[],[" TO("Err", "0") "]]}}}",
        &probs);
    ASSERT_EQ(json_object_array_length(probs), 0);
    ASSERT(has_edge(def, "i", "true", "m", "input1"));
    ASSERT(has_edge(def, "i", "false", "m", "input2"));
    ASSERT(has_edge(def, "m", "main", "l", "main"));
    ASSERT(has_edge(def, "l", "done", "h", "main"));
    ASSERT(has_edge(def, "l", "batch", "b", "main"));
    ASSERT(has_edge(def, "b", "main", "l", "loop"));
    ASSERT(has_edge(def, "h", "error", "e", "main"));
    gl_problems_t *p = calloc(1, sizeof *p);
    ASSERT_EQ(gl_workflow_validate(def, &gl_wf_default_limits, p), GL_OK);
    free(p);
    json_object_put(def);
    json_object_put(probs);
}

/* Switch v1: a rule's `output` says where it goes; fallbackOutput an index */
TEST(switch_rule_outputs)
{
    json_object *probs = NULL;
    json_object *def = convert_doc(
        "{\"nodes\":[" NODE("t", "T", "manualTrigger", "1", "{}") ","
        NODE("s", "S", "switch", "1",
             "{\"dataType\":\"string\",\"value1\":\"={{ $json.k }}\",\"rules\":{\"rules\":[{\"value2\":\"a\",\"output\":2},"
             "{\"value2\":\"b\",\"output\":2}]},\"fallbackOutput\":0}") ","
        NODE("x", "X", "noOp", "1", "{}") "," NODE("y", "Y", "noOp", "1", "{}") "],"
        "\"connections\":{\"T\":{\"main\":[[" TO("S", "0") "]]},\"S\":{\"main\":[[" TO("X", "0") "],[],[" TO("Y", "0") "]]}}}",
        &probs);
    ASSERT_EQ(json_object_array_length(probs), 0);
    ASSERT(has_edge(def, "s", "out0", "y", "main"));
    ASSERT(has_edge(def, "s", "out1", "y", "main"));
    ASSERT(has_edge(def, "s", "fallback", "x", "main"));
    json_object_put(def);
    json_object_put(probs);
    /* v3: fallback "extra" is the output after the rules */
    def = convert_doc(
        "{\"nodes\":[" NODE("s", "S", "switch", "3",
                            "{\"rules\":{\"values\":[{\"conditions\":{\"conditions\":[" C("\"={{ $json.k }}\"", "\"a\"", "string", "equals")
                            "],\"combinator\":\"and\"}}]},\"options\":{\"fallbackOutput\":\"extra\"}}") ","
        NODE("x", "X", "noOp", "1", "{}") "," NODE("y", "Y", "noOp", "1", "{}") "],"
        "\"connections\":{\"S\":{\"main\":[[" TO("X", "0") "],[" TO("Y", "0") "]]}}}",
        &probs);
    ASSERT_EQ(json_object_array_length(probs), 0);
    ASSERT(has_edge(def, "s", "out0", "x", "main"));
    ASSERT(has_edge(def, "s", "fallback", "y", "main"));
    json_object *rules = param(def, "rules");
    ASSERT(render_bool(json_object_get_string(json_object_array_get_idx(rules, 0)), "{\"k\":\"a\"}"));
    json_object_put(def);
    json_object_put(probs);
}

/* ---- schedules --------------------------------------------------------- */

typedef struct {
    const char *rule, *cron;
} sched_row_t;

static const sched_row_t sched_rows[] = {
    /* Schedule Trigger (ScheduleTrigger.node.ts) interval rules */
    { "{}", "0 0 * * *" },
    { "{\"field\":\"days\",\"daysInterval\":2,\"triggerAtHour\":6}", "0 6 */2 * *" },
    { "{\"field\":\"hours\",\"hoursInterval\":3,\"triggerAtMinute\":15}", "15 */3 * * *" },
    { "{\"field\":\"hours\"}", "0 * * * *" },
    { "{\"field\":\"minutes\",\"minutesInterval\":1}", "* * * * *" },
    { "{\"field\":\"minutes\",\"minutesInterval\":30}", "*/30 * * * *" },
    { "{\"field\":\"weeks\",\"triggerAtDay\":[1,3,5],\"triggerAtHour\":9}", "0 9 * * 1,3,5" },
    { "{\"field\":\"months\",\"triggerAtDayOfMonth\":15,\"triggerAtHour\":12}", "0 12 15 * *" },
    { "{\"field\":\"months\",\"monthsInterval\":3}", "0 0 1 */3 *" },
    { "{\"field\":\"cronExpression\",\"expression\":\"5 4 * * sun\"}", "5 4 * * sun" },
    { "{\"field\":\"cronExpression\",\"expression\":\"0 5 4 * * *\"}", "5 4 * * *" },
    /* not importable: seconds */
    { "{\"field\":\"seconds\",\"secondsInterval\":30}", NULL },
    { "{\"field\":\"cronExpression\",\"expression\":\"*/10 * * * * *\"}", NULL },
    { "{\"field\":\"weeks\",\"weeksInterval\":2}", NULL },
    { "{\"field\":\"cronExpression\",\"expression\":\"* *\"}", NULL },
};

TEST(schedule_rules_to_cron)
{
    for (size_t i = 0; i < sizeof sched_rows / sizeof sched_rows[0]; i++) {
        char params[512];
        snprintf(params, sizeof params, "{\"rule\":{\"interval\":[%s]}}", sched_rows[i].rule);
        json_object *probs = NULL, *def = convert1("scheduleTrigger", "1.2", params, &probs);
        if (sched_rows[i].cron) {
            if (json_object_array_length(probs))
                FAIL_AT("row %zu: %s", i, json_object_to_json_string(probs));
            ASSERT_STR_EQ(json_object_get_string(param(def, "cron")), sched_rows[i].cron);
        } else {
            ASSERT_EQ(json_object_array_length(probs), 1);
        }
        json_object_put(def);
        json_object_put(probs);
    }
}

/* ---- files: binary bodies, multipart, responses saved as files ---------- */

/* params of the one node converted from (type, ver, params) as compact JSON */
static void expect_params(const char *type, const char *ver, const char *params, const char *const *want)
{
    json_object *probs = NULL, *def = convert1(type, ver, params, &probs);
    if (json_object_array_length(probs))
        FAIL_AT("%s %s: %s", type, params, json_object_to_json_string(probs));
    for (int i = 0; want[i]; i += 2) {
        json_object *v = param(def, want[i]);
        if (!v)
            FAIL_AT("%s: no param %s", params, want[i]);
        ASSERT_STR_EQ(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN), want[i + 1]);
    }
    json_object_put(def);
    json_object_put(probs);
}

TEST(http_and_respond_files)
{
    expect_params("httpRequest", "4.2",
                  "{\"url\":\"https://x\",\"method\":\"POST\",\"sendBody\":true,\"contentType\":\"binaryData\","
                  "\"inputDataFieldName\":\"pdf\"}",
                  (const char *const[]){ "body_type", "\"binary\"", "binary_property", "\"pdf\"", NULL });
    expect_params("httpRequest", "4.2",
                  "{\"url\":\"https://x\",\"method\":\"POST\",\"sendBody\":true,\"contentType\":\"multipart-form-data\","
                  "\"bodyParameters\":{\"parameters\":[{\"name\":\"note\",\"value\":\"hi\"},"
                  "{\"parameterType\":\"formBinaryData\",\"name\":\"doc\",\"inputDataFieldName\":\"data\"},"
                  "{\"parameterType\":\"formBinaryData\",\"name\":\"img\",\"inputDataFieldName\":\"pic\"}]}}",
                  (const char *const[]){ "body_type", "\"multipart\"", "body", "{\"note\":\"hi\"}", "binary_property",
                                         "\"doc:data,img:pic\"", NULL });
    expect_params("httpRequest", "4.2",
                  "{\"url\":\"https://x\",\"options\":{\"response\":{\"response\":{\"responseFormat\":\"file\","
                  "\"outputPropertyName\":\"img\"}}}}",
                  (const char *const[]){ "response_type", "\"file\"", "response_property", "\"img\"", NULL });
    expect_params("httpRequest", "1", "{\"url\":\"https://x\",\"responseFormat\":\"file\"}",
                  (const char *const[]){ "response_type", "\"file\"", "response_property", "\"data\"", NULL });
    expect_params("respondToWebhook", "1.1",
                  "{\"respondWith\":\"binary\",\"responseDataSource\":\"set\",\"inputFieldName\":\"report\"}",
                  (const char *const[]){ "respond_with", "\"binary\"", "binary_property", "\"report\"", NULL });
    expect_params("respondToWebhook", "1.1", "{\"respondWith\":\"binary\"}",
                  (const char *const[]){ "respond_with", "\"binary\"", "binary_property", "\"data\"", NULL });
    /* and back: export, then import, gives the same parameters */
    json_object *def = parse(
        "{\"nodes\":[{\"id\":\"h\",\"type\":\"http.request\",\"name\":\"H\",\"params\":{\"url\":\"https://x\","
        "\"method\":\"POST\",\"body_type\":\"multipart\",\"body\":{\"note\":\"hi\"},\"binary_property\":\"doc:data, img:pic\","
        "\"response_type\":\"file\",\"response_property\":\"out\"}},"
        "{\"id\":\"b\",\"type\":\"http.request\",\"name\":\"B\",\"params\":{\"url\":\"https://x\",\"method\":\"PUT\","
        "\"body_type\":\"binary\",\"binary_property\":\"out\"}},"
        "{\"id\":\"r\",\"type\":\"flow.respond\",\"name\":\"R\",\"params\":{\"respond_with\":\"binary\","
        "\"binary_property\":\"out\"}}],"
        "\"edges\":[{\"from\":\"h\",\"to\":\"b\"},{\"from\":\"b\",\"to\":\"r\"}]}");
    json_object *doc = NULL, *probs = NULL, *back = NULL, *probs2 = NULL, *nodes, *p, *v;
    gl_err_t err;
    gl_err_clear(&err);
    ASSERT_EQ(gl_n8n_export(def, "Files", &doc, &probs, &err), GL_OK);
    if (json_object_array_length(probs))
        FAIL_AT("%s", json_object_to_json_string(probs));
    ASSERT_EQ(gl_n8n_import(doc, &back, &probs2, &err), GL_OK);
    if (json_object_array_length(probs2))
        FAIL_AT("%s", json_object_to_json_string(probs2));
    static const char *const want[][3] = {
        { "0", "body_type", "\"multipart\"" },         { "0", "binary_property", "\"doc:data,img:pic\"" },
        { "0", "body", "{\"note\":\"hi\"}" },          { "0", "response_type", "\"file\"" },
        { "0", "response_property", "\"out\"" },       { "1", "body_type", "\"binary\"" },
        { "1", "binary_property", "\"out\"" },         { "2", "respond_with", "\"binary\"" },
        { "2", "binary_property", "\"out\"" },
    };
    json_object_object_get_ex(back, "nodes", &nodes);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        json_object_object_get_ex(json_object_array_get_idx(nodes, (size_t)atoi(want[i][0])), "params", &p);
        if (!json_object_object_get_ex(p, want[i][1], &v))
            FAIL_AT("node %s has no %s: %s", want[i][0], want[i][1], json_object_to_json_string(p));
        ASSERT_STR_EQ(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN), want[i][2]);
    }
    json_object_put(def);
    json_object_put(doc);
    json_object_put(probs);
    json_object_put(back);
    json_object_put(probs2);
}

/* ---- problems and placeholders ------------------------------------------ */

typedef struct {
    const char *type, *ver, *params, *msg;
} prob_row_t;

static const prob_row_t prob_rows[] = {
    { "code", "2", "{\"jsCode\":\"return []\"}", "no code node yet" },
    { "function", "1", "{}", "no code node yet" },
    { "slack", "2.2", "{}", "no Glyphic node" },
    { "googleSheets", "4.5", "{}", "no Glyphic node" },
    { "merge", "3", "{\"numberInputs\":3}", "more than two inputs" },
    { "merge", "2", "{\"mode\":\"combine\",\"combinationMode\":\"multiplex\"}", "not imported" },
    { "switch", "3", "{\"rules\":{\"values\":[]},\"options\":{\"allMatchingOutputs\":true}}", "all matching" },
    { "if", "2", "{\"conditions\":{\"conditions\":[" C("\"={{ $json.s }}\"", "\"^a\"", "string", "soundsLike") "]}}", "not imported" },
    { "wait", "1.1", "{\"resume\":\"webhook\"}", "not imported" },
    { "executeWorkflow", "1", "{\"workflowId\":\"a1B2c3\"}", "not a Glyphic workflow id" },
    { "webhook", "2", "{\"path\":\"x\",\"authentication\":\"basicAuth\"}", "authentication" },
    { "httpRequest", "4.2", "{\"url\":\"https://x\",\"sendBody\":true,\"contentType\":\"x-unknown\"}", "content type" },
    { "httpRequest", "4.2", "{\"url\":\"https://x\",\"options\":{\"allowUnauthorizedCerts\":true}}", "certificate" },
    { "httpRequest", "1", "{\"url\":\"https://x\",\"options\":{\"proxy\":\"http://p:3128\"}}", "proxy" },
    { "set", "3.4", "{\"mode\":\"raw\",\"jsonOutput\":\"{ \\\"a\\\": 1 } trailing\"}", "JSON output" },
};

TEST(unmappable_nodes_are_problems_and_placeholders)
{
    for (size_t i = 0; i < sizeof prob_rows / sizeof prob_rows[0]; i++) {
        const prob_row_t *r = &prob_rows[i];
        json_object *probs = NULL, *def = convert1(r->type, r->ver, r->params, &probs);
        if (json_object_array_length(probs) != 1)
            FAIL_AT("row %zu (%s): %s", i, r->type, json_object_to_json_string(probs));
        json_object *p = json_object_array_get_idx(probs, 0), *v;
        ASSERT(json_object_object_get_ex(p, "message", &v));
        ASSERT_CONTAINS(json_object_get_string(v), r->msg);
        ASSERT(json_object_object_get_ex(p, "node", &v));
        ASSERT_STR_EQ(json_object_get_string(v), "N");
        ASSERT(json_object_object_get_ex(p, "type", &v));
        ASSERT_CONTAINS(json_object_get_string(v), r->type);
        ASSERT(json_object_object_get_ex(p, "typeVersion", &v) && v);
        json_object *n = node0(def);
        ASSERT(json_object_object_get_ex(n, "type", &v));
        ASSERT_STR_EQ(json_object_get_string(v), "flow.noop");
        ASSERT(json_object_object_get_ex(n, "disabled", &v) && json_object_get_boolean(v));
        ASSERT(json_object_object_get_ex(n, "notes", &v));
        ASSERT_CONTAINS(json_object_get_string(v), r->type);
        json_object_put(def);
        json_object_put(probs);
    }
}

/* ---- shapes ------------------------------------------------------------- */

TEST(detects_the_shape)
{
    static const struct {
        const char *doc;
        bool n8n;
    } rows[] = {
        { "{\"nodes\":[{\"type\":\"n8n-nodes-base.noOp\"}],\"connections\":{}}", true },
        { "{\"nodes\":[{\"type\":\"@n8n/n8n-nodes-langchain.agent\"}],\"connections\":{}}", true },
        { "{\"nodes\":[],\"connections\":{}}", true },
        { "{\"nodes\":[{\"type\":\"flow.noop\"}],\"edges\":[]}", false },
        { "{\"nodes\":[{\"type\":\"n8n-nodes-base.noOp\"}],\"connections\":{},\"edges\":[]}", false },
        { "{\"format\":\"glyphic.workflow\",\"definition\":{}}", false },
        { "{\"nodes\":{},\"connections\":{}}", false },
        { "[]", false },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        json_object *d = parse(rows[i].doc);
        if (gl_n8n_is_export(d) != rows[i].n8n)
            FAIL_AT("row %zu: %s", i, rows[i].doc);
        json_object_put(d);
    }
    json_object *def = NULL, *probs = NULL, *d = parse("{\"nodes\":{}}");
    gl_err_t err;
    gl_err_clear(&err);
    ASSERT_EQ(gl_n8n_import(d, &def, &probs, &err), GL_INVALID);
    ASSERT_CONTAINS(err.msg, "not an n8n workflow export");
    json_object_put(d);
}

/* ---- export and back ---------------------------------------------------- */

/* a Glyphic workflow to n8n and in again: the same node types, the If's
 * condition still decides the same */
TEST(export_round_trip)
{
    json_object *def = parse(
        "{\"nodes\":[{\"id\":\"t\",\"type\":\"trigger.manual\",\"name\":\"T\"},"
        "{\"id\":\"s\",\"type\":\"data.set\",\"name\":\"Set\",\"params\":{\"fields\":{\"a\":\"{{ $json.x * 2 }}\",\"lit\":\"=x\",\"n\":3},\"mode\":\"replace\"}},"
        "{\"id\":\"i\",\"type\":\"flow.if\",\"name\":\"If\",\"params\":{\"condition\":\"{{ $json.a > 3 }}\"}},"
        "{\"id\":\"m\",\"type\":\"flow.merge\",\"name\":\"Merge\",\"params\":{\"mode\":\"join\",\"key\":\"id\",\"key2\":\"ref\",\"join\":\"left\"}},"
        "{\"id\":\"l\",\"type\":\"flow.loop\",\"name\":\"Loop\",\"params\":{\"batch_size\":2}},"
        "{\"id\":\"b\",\"type\":\"flow.noop\",\"name\":\"Body\"}],"
        "\"edges\":[{\"from\":\"t\",\"to\":\"s\"},{\"from\":\"s\",\"to\":\"i\"},"
        "{\"from\":\"i\",\"from_port\":\"true\",\"to\":\"m\",\"to_port\":\"input1\"},"
        "{\"from\":\"i\",\"from_port\":\"false\",\"to\":\"m\",\"to_port\":\"input2\"},"
        "{\"from\":\"m\",\"to\":\"l\"},{\"from\":\"l\",\"from_port\":\"batch\",\"to\":\"b\"},"
        "{\"from\":\"b\",\"to\":\"l\",\"to_port\":\"loop\"}],\"notes\":[{\"text\":\"hi\",\"position\":[1,2]}]}");
    json_object *doc = NULL, *probs = NULL, *back = NULL, *probs2 = NULL;
    gl_err_t err;
    gl_err_clear(&err);
    ASSERT_EQ(gl_n8n_export(def, "Round", &doc, &probs, &err), GL_OK);
    if (json_object_array_length(probs))
        FAIL_AT("%s", json_object_to_json_string(probs));
    ASSERT(gl_n8n_is_export(doc));
    ASSERT_EQ(gl_n8n_import(doc, &back, &probs2, &err), GL_OK);
    if (json_object_array_length(probs2))
        FAIL_AT("%s", json_object_to_json_string(probs2));
    json_object *n1, *n2;
    json_object_object_get_ex(def, "nodes", &n1);
    json_object_object_get_ex(back, "nodes", &n2);
    ASSERT_EQ(json_object_array_length(n1), json_object_array_length(n2));
    for (size_t i = 0; i < json_object_array_length(n1); i++) {
        json_object *a = json_object_array_get_idx(n1, i), *b = json_object_array_get_idx(n2, i), *ta, *tb;
        json_object_object_get_ex(a, "type", &ta);
        json_object_object_get_ex(b, "type", &tb);
        ASSERT_STR_EQ(json_object_get_string(ta), json_object_get_string(tb));
    }
    json_object *set = json_object_array_get_idx(n2, 1), *p, *f, *v;
    json_object_object_get_ex(set, "params", &p);
    json_object_object_get_ex(p, "fields", &f);
    ASSERT(json_object_object_get_ex(f, "lit", &v));
    ASSERT_STR_EQ(json_object_get_string(v), "{{ \"=x\" }}");
    json_object *ifn = json_object_array_get_idx(n2, 2), *c;
    json_object_object_get_ex(ifn, "params", &p);
    json_object_object_get_ex(p, "condition", &c);
    ASSERT(render_bool(json_object_get_string(c), "{\"a\":4}"));
    ASSERT(!render_bool(json_object_get_string(c), "{\"a\":3}"));
    ASSERT(has_edge(back, "b", "main", "l", "loop"));
    ASSERT(has_edge(back, "i", "false", "m", "input2"));
    json_object *notes;
    ASSERT(json_object_object_get_ex(back, "notes", &notes) && json_object_array_length(notes) == 1);
    gl_problems_t *pp = calloc(1, sizeof *pp);
    ASSERT_EQ(gl_workflow_validate(back, &gl_wf_default_limits, pp), GL_OK);
    free(pp);
    json_object_put(def);
    json_object_put(doc);
    json_object_put(probs);
    json_object_put(back);
    json_object_put(probs2);
    /* what n8n has no equivalent for */
    def = parse("{\"nodes\":[{\"id\":\"s\",\"type\":\"data.set\",\"name\":\"S\",\"params\":{\"rename\":{\"a\":\"b\"},\"fields\":{\"c\":1}}}],\"edges\":[]}");
    ASSERT_EQ(gl_n8n_export(def, "x", &doc, &probs, &err), GL_OK);
    ASSERT_EQ(json_object_array_length(probs), 1);
    json_object_put(def);
    json_object_put(doc);
    json_object_put(probs);
}

/* data.set that only renames goes to n8n as Rename Keys, and back */
TEST(export_rename_keys)
{
    json_object *def = parse("{\"nodes\":[{\"id\":\"s\",\"type\":\"data.set\",\"name\":\"S\",\"params\":{\"rename\":{\"a\":\"b\"}}}],\"edges\":[]}");
    json_object *doc = NULL, *probs = NULL, *back = NULL, *probs2 = NULL;
    gl_err_t err;
    gl_err_clear(&err);
    ASSERT_EQ(gl_n8n_export(def, "x", &doc, &probs, &err), GL_OK);
    ASSERT_EQ(json_object_array_length(probs), 0);
    ASSERT_CONTAINS(json_object_to_json_string(doc), "n8n-nodes-base.renameKeys");
    ASSERT_EQ(gl_n8n_import(doc, &back, &probs2, &err), GL_OK);
    ASSERT_EQ(json_object_array_length(probs2), 0);
    json_object *rn = param(back, "rename"), *v;
    ASSERT(json_object_object_get_ex(rn, "a", &v));
    ASSERT_STR_EQ(json_object_get_string(v), "b");
    json_object_put(def);
    json_object_put(doc);
    json_object_put(probs);
    json_object_put(back);
    json_object_put(probs2);
}

/* export of odd but valid definitions: no fields, fields as one expression */
TEST(export_odd_definitions)
{
    static const char *const defs[] = {
        "{\"nodes\":[{\"id\":\"s\",\"type\":\"data.set\",\"name\":\"S\"}],\"edges\":[]}",
        "{\"nodes\":[{\"id\":\"s\",\"type\":\"data.set\",\"name\":\"S\",\"params\":{\"fields\":\"{{ {a: 1} }}\"}}],\"edges\":[]}",
        "{\"nodes\":[{\"id\":\"h\",\"type\":\"http.request\",\"name\":\"H\"},{\"id\":\"r\",\"type\":\"flow.respond\",\"name\":\"R\"}],\"edges\":[{\"from\":\"h\",\"to\":\"r\"},{\"from\":\"x\",\"to\":\"r\"}]}",
        "{\"nodes\":[{\"id\":\"w\",\"type\":\"flow.switch\",\"name\":\"W\",\"params\":{\"rules\":[\"{{ true }}\"]}},{\"id\":\"n\",\"type\":\"flow.noop\",\"name\":\"N\"}],\"edges\":[{\"from\":\"w\",\"from_port\":\"fallback\",\"to\":\"n\"},{\"from\":\"w\",\"from_port\":\"error\",\"to\":\"n\"}]}",
        "{\"nodes\":[1,{}],\"edges\":[5],\"notes\":[3]}",
    };
    for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++) {
        json_object *def = parse(defs[i]), *doc = NULL, *probs = NULL, *back = NULL, *probs2 = NULL;
        gl_err_t err;
        gl_err_clear(&err);
        ASSERT_EQ(gl_n8n_export(def, "x", &doc, &probs, &err), GL_OK);
        ASSERT_EQ(gl_n8n_import(doc, &back, &probs2, &err), GL_OK);
        json_object_put(def);
        json_object_put(doc);
        json_object_put(probs);
        json_object_put(back);
        json_object_put(probs2);
    }
}

/* hostile input: deep, wide or odd documents end with problems, not crashes */
TEST(hostile_documents)
{
    static const char *const docs[] = {
        "{\"nodes\":[1,\"x\",null,[]],\"connections\":{}}",
        "{\"nodes\":[{\"name\":\"A\",\"type\":\"n8n-nodes-base.noOp\"}],\"connections\":{\"A\":{\"main\":[[{\"node\":\"A\",\"index\":0}]]}}}",
        "{\"nodes\":[{\"name\":\"A\",\"type\":\"n8n-nodes-base.noOp\"}],\"connections\":{\"A\":{\"main\":[[{\"node\":\"A\",\"index\":99}]],\"ai_tool\":[]}}}",
        "{\"nodes\":[{\"name\":\"A\",\"type\":\"n8n-nodes-base.noOp\"}],\"connections\":{\"A\":{\"main\":\"x\"},\"B\":5}}",
        "{\"nodes\":[{\"name\":\"A\",\"type\":\"n8n-nodes-base.noOp\"}],\"connections\":{\"A\":5}}",
        "{\"nodes\":[{\"name\":\"A\",\"type\":\"n8n-nodes-base.noOp\"}],\"connections\":{\"A\":{\"main\":[5,[7,{\"node\":5}]]}}}",
        "{\"nodes\":[{\"name\":\"A\",\"type\":\"n8n-nodes-base.set\",\"typeVersion\":\"3\",\"parameters\":[]}],\"connections\":{}}",
        "{\"nodes\":[{\"name\":\"A\",\"type\":\"n8n-nodes-base.if\",\"typeVersion\":2,\"parameters\":{\"conditions\":{\"conditions\":[1,null,{}]}}}],\"connections\":{}}",
        "{\"nodes\":[{\"name\":\"A\",\"type\":\"n8n-nodes-base.switch\",\"typeVersion\":1,\"parameters\":{\"rules\":{\"rules\":[{\"output\":-5},{\"output\":1000}]},\"fallbackOutput\":99999}}],\"connections\":{}}",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        json_object *d = parse(docs[i]), *def = NULL, *probs = NULL;
        gl_err_t err;
        gl_err_clear(&err);
        ASSERT_EQ(gl_n8n_import(d, &def, &probs, &err), GL_OK);
        gl_problems_t *p = calloc(1, sizeof *p);
        int rc = gl_workflow_validate(def, &gl_wf_default_limits, p); /* valid or not, it ends */
        ASSERT(rc == GL_OK || rc == GL_INVALID);
        free(p);
        json_object_put(d);
        json_object_put(def);
        json_object_put(probs);
    }
}

TEST_MAIN()
