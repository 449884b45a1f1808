#include "gl_test.h"
#include "json.h"
#include "engine.h"

static int validate(const char *text, gl_problems_t *p)
{
    json_object *o = NULL;
    gl_err_t err;
    gl_err_clear(&err);
    if (gl_json_parse(text, strlen(text), 64, &o, &err) != GL_OK)
        FAIL_AT("test JSON does not parse: %s", err.msg);
    int rc = gl_workflow_validate(o, NULL, p);
    json_object_put(o);
    return rc;
}

static bool has(const gl_problems_t *p, const char *node, const char *field)
{
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->items[i].node, node) == 0 && strcmp(p->items[i].field, field) == 0)
            return true;
    return false;
}

TEST(valid_definitions)
{
    gl_problems_t p;
    ASSERT_EQ(validate("{\"nodes\":[],\"edges\":[]}", &p), GL_OK);
    ASSERT_EQ(validate("{\"nodes\":[{\"id\":\"t\",\"type\":\"trigger.manual\"},"
                       "{\"id\":\"a\",\"type\":\"flow.if\",\"params\":{\"condition\":\"{{ $json.x > 1 }}\"}},"
                       "{\"id\":\"b\",\"type\":\"flow.merge\"}],"
                       "\"edges\":[{\"from\":\"t\",\"to\":\"a\"},{\"from\":\"a\",\"from_port\":\"true\",\"to\":\"b\",\"to_port\":\"input1\"},"
                       "{\"from\":\"a\",\"from_port\":\"false\",\"to\":\"b\",\"to_port\":\"input2\"}]}", &p), GL_OK);
    /* the sanctioned loop: back into flow.loop's loop input */
    ASSERT_EQ(validate("{\"nodes\":[{\"id\":\"l\",\"type\":\"flow.loop\"},{\"id\":\"b\",\"type\":\"flow.noop\"}],"
                       "\"edges\":[{\"from\":\"l\",\"from_port\":\"batch\",\"to\":\"b\"},"
                       "{\"from\":\"b\",\"to\":\"l\",\"to_port\":\"loop\"}]}", &p), GL_OK);
}

TEST(cycles)
{
    gl_problems_t p;
    /* the same loop into the main input is a cycle */
    ASSERT_EQ(validate("{\"nodes\":[{\"id\":\"l\",\"type\":\"flow.loop\"},{\"id\":\"b\",\"type\":\"flow.noop\"}],"
                       "\"edges\":[{\"from\":\"l\",\"from_port\":\"batch\",\"to\":\"b\"},"
                       "{\"from\":\"b\",\"to\":\"l\"}]}", &p), GL_INVALID);
    ASSERT(has(&p, "l", "edges") || has(&p, "b", "edges"));
    ASSERT_EQ(validate("{\"nodes\":[{\"id\":\"a\",\"type\":\"flow.noop\"},{\"id\":\"b\",\"type\":\"flow.noop\"},"
                       "{\"id\":\"c\",\"type\":\"flow.noop\"}],\"edges\":[{\"from\":\"a\",\"to\":\"b\"},"
                       "{\"from\":\"b\",\"to\":\"c\"},{\"from\":\"c\",\"to\":\"a\"}]}", &p), GL_INVALID);
    ASSERT_CONTAINS(p.items[0].message, "cycle");
}

/* a webhook path may be left out (or empty): the database generates one on
 * save (sql/009); one given is still checked, and unique */
TEST(webhook_path_optional)
{
    gl_problems_t p;
    ASSERT_EQ(validate("{\"nodes\":[{\"id\":\"a\",\"type\":\"trigger.webhook\"},"
                       "{\"id\":\"b\",\"type\":\"trigger.webhook\",\"params\":{\"path\":\"\"}},"
                       "{\"id\":\"c\",\"type\":\"trigger.webhook\",\"params\":{\"path\":\"\"}},"
                       "{\"id\":\"d\",\"type\":\"trigger.webhook\",\"params\":{\"path\":null}}],\"edges\":[]}", &p),
              GL_OK);
    ASSERT_EQ(validate("{\"nodes\":[{\"id\":\"a\",\"type\":\"trigger.webhook\",\"params\":{\"path\":\"/x\"}},"
                       "{\"id\":\"b\",\"type\":\"trigger.webhook\",\"params\":{\"path\":\"y\"}},"
                       "{\"id\":\"c\",\"type\":\"trigger.webhook\",\"params\":{\"path\":\"y\"}}],\"edges\":[]}", &p),
              GL_INVALID);
    ASSERT_EQ(p.n, 2);
    ASSERT(has(&p, "a", "params.path"));
    ASSERT(has(&p, "c", "params.path"));
}

/* a secret without a signature scheme, or a scheme without a secret, is a
 * mistake; so are a bad header name and a tolerance out of range */
TEST(webhook_signature_params)
{
    gl_problems_t p;
    ASSERT_EQ(validate("{\"nodes\":[{\"id\":\"a\",\"type\":\"trigger.webhook\",\"params\":{\"path\":\"a\","
                       "\"secret\":\"k\",\"signature\":\"stripe\",\"signature_tolerance_s\":60}},"
                       "{\"id\":\"b\",\"type\":\"trigger.webhook\",\"params\":{\"path\":\"b\",\"secret\":\"k\","
                       "\"signature\":\"github\",\"signature_header\":\"X-Signature\"}},"
                       "{\"id\":\"c\",\"type\":\"trigger.webhook\",\"params\":{\"path\":\"c\","
                       "\"signature\":\"none\"}}],\"edges\":[]}", &p),
              GL_OK);
    ASSERT_EQ(validate("{\"nodes\":[{\"id\":\"a\",\"type\":\"trigger.webhook\",\"params\":{\"path\":\"a\","
                       "\"secret\":\"k\"}},"
                       "{\"id\":\"b\",\"type\":\"trigger.webhook\",\"params\":{\"path\":\"b\",\"secret\":\"k\","
                       "\"signature\":\"none\"}},"
                       "{\"id\":\"c\",\"type\":\"trigger.webhook\","
                       "\"params\":{\"path\":\"c\",\"signature\":\"github\"}},"
                       "{\"id\":\"d\",\"type\":\"trigger.webhook\",\"params\":{\"path\":\"d\",\"secret\":\"k\","
                       "\"signature\":\"hmac\"}},"
                       "{\"id\":\"e\",\"type\":\"trigger.webhook\",\"params\":{\"path\":\"e\",\"secret\":\"k\","
                       "\"signature\":\"stripe\",\"signature_header\":\"Bad Header\",\"signature_tolerance_s\":0}},"
                       "{\"id\":\"f\",\"type\":\"trigger.webhook\",\"params\":{\"path\":\"f\",\"secret\":\"k\","
                       "\"signature\":\"stripe\",\"signature_header\":\"\",\"signature_tolerance_s\":1.5}}],"
                       "\"edges\":[]}", &p),
              GL_INVALID);
    ASSERT(has(&p, "a", "params.secret"));
    ASSERT(has(&p, "b", "params.secret"));
    ASSERT(has(&p, "c", "params.signature"));
    ASSERT(has(&p, "d", "params.signature"));
    ASSERT(has(&p, "e", "params.signature_header"));
    ASSERT(has(&p, "e", "params.signature_tolerance_s"));
    ASSERT(has(&p, "f", "params.signature_header"));
    ASSERT(has(&p, "f", "params.signature_tolerance_s"));
    ASSERT_EQ(p.n, 8);
}

TEST(problems_name_node_and_field)
{
    gl_problems_t p;
    ASSERT_EQ(validate("{\"nodes\":[{\"id\":\"h\",\"type\":\"http.request\",\"params\":{\"method\":\"FLY\"}},"
                       "{\"id\":\"h\",\"type\":\"flow.noop\"},{\"id\":\"x\",\"type\":\"no.such\"}],"
                       "\"edges\":[{\"from\":\"h\",\"to\":\"ghost\"}]}", &p), GL_INVALID);
    ASSERT(has(&p, "h", "params.url"));
    ASSERT(has(&p, "h", "params.method"));
    ASSERT(has(&p, "h", "id"));
    ASSERT(has(&p, "x", "type"));
    ASSERT(has(&p, "ghost", "edges[0].to"));
    gl_buf_t b;
    gl_buf_init(&b, 1 << 16);
    ASSERT_EQ(gl_problems_json(&p, &b), GL_OK);
    ASSERT_CONTAINS(b.data, "\"field\":\"params.url\"");
    gl_buf_free(&b);
}

TEST_MAIN()
