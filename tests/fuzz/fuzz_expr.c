/*
 * fuzz_expr.c: the expression language, parser and evaluator together.
 * The first byte picks gl_expr_eval (one expression) or gl_expr_render (a
 * parameter template with {{ }}); the rest is the source, cut at a NUL.
 * The context has items, $input, $node["Fetch"], $env and a fixed $now, so
 * member access and the library reach real values. Step and size limits
 * are lower than the defaults to keep each input fast; an input that is
 * slow despite them is a finding (libFuzzer's -timeout).
 */
#include "engine.h"
#include "fuzz.h"
#include "json.h"

static json_object *item, *input, *fetch, *env;

static json_object *parse(const char *text)
{
    json_object *o = NULL;
    gl_err_t err;
    if (gl_json_parse(text, strlen(text), 64, &o, &err) != GL_OK)
        abort();
    return o;
}

static json_object *node_items(void *ud, const char *name)
{
    (void)ud;
    return strcmp(name, "Fetch") == 0 ? fetch : NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    item = parse("{\"body\":{\"name\":\"Ada Lovelace\",\"email\":\" ada@example.com \"},\"items\":[1,2,3],"
                 "\"tags\":[\"a\",\"b\"],\"n\":42,\"price\":9.5,\"neg\":-3,\"flag\":true,\"nothing\":null,"
                 "\"s\":\"h\\u00e9llo w\\u00f6rld \\u2713 a\\ud83d\\ude00b \\u0130\\u00df\",\"big\":1e308,"
                 "\"date\":\"2026-01-31T10:00:00Z\",\"list\":[{\"id\":1,\"name\":\"one\"},{\"id\":2}]}");
    input = parse("[{\"x\":1},{\"x\":2.5},{\"x\":\"3\"}]");
    fetch = parse("[{\"id\":7,\"title\":\"fetched\"},{\"id\":8}]");
    env = parse("{\"API_URL\":\"https://api.example.com\"}");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    bool render = data[0] & 1;
    char *src = fuzz_cstr(data + 1, size - 1);
    gl_expr_ctx_t c;
    memset(&c, 0, sizeof c);
    c.json = item;
    c.input = input;
    c.item_index = 1;
    c.node_items = node_items;
    c.execution_id = "exec-1";
    c.workflow_id = "wf-1";
    c.workflow_name = "Fuzz";
    c.now_ms = 1769853600000; /* 2026-01-31T10:00:00Z */
    c.env = env;
    c.limits.max_steps = 20000;
    c.limits.max_depth = 64;
    c.limits.max_output = 64 * 1024;
    json_object *out = NULL;
    gl_err_t err;
    gl_err_clear(&err);
    int rc = render ? gl_expr_render(src, &c, &out, &err) : gl_expr_eval(src, &c, &out, &err);
    FUZZ_CHECK(rc == GL_OK || rc == GL_INVALID);
    if (rc == GL_OK) {
        /* a result the storability check passes is JSON the strict checker takes */
        char where[128];
        size_t len = 0;
        const char *text = json_object_to_json_string_length(out, JSON_C_TO_STRING_PLAIN, &len);
        if (!gl_json_unstorable(out, where, sizeof where))
            FUZZ_CHECK(gl_json_check(text, len, 1024, &err) == GL_OK);
        (void)gl_expr_truthy(out);
    } else {
        FUZZ_CHECK(err.msg[0]);
        FUZZ_CHECK(out == NULL);
    }
    json_object_put(out);
    free(src);
    return 0;
}
