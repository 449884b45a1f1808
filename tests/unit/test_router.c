#include "gl_test.h"
#include "router.h"

static int hits;
static void h_list(gl_req_t *r) { (void)r; hits = 1; }
static void h_get(gl_req_t *r) { (void)r; hits = 2; }
static void h_put(gl_req_t *r) { (void)r; hits = 3; }
static void h_run(gl_req_t *r) { (void)r; hits = 4; }

static const gl_route_t test_routes[] = {
    { "GET", "/api/things", h_list, GL_PERM_PUBLIC, NULL },
    { "GET", "/api/things/:id", h_get, GL_PERM_PUBLIC, NULL },
    { "PUT", "/api/things/:id", h_put, GL_PERM_PUBLIC, NULL },
    { "POST", "/api/things/:id/runs/:run", h_run, GL_PERM_PUBLIC, NULL },
};
static const gl_resource_t things = { "things", test_routes, 4 };
const gl_resource_t *const gl_resources[] = { &things };
const size_t gl_resources_count = 1;

static gl_route_result_t find(gl_req_t *req, const char *method, const char *path,
                              const gl_route_t **rt, char *allow)
{
    memset(req, 0, sizeof *req);
    req->arena = gl_arena_create(0);
    return gl_route_find(req, method, path, strlen(path), rt, allow, 64);
}

TEST(matches_literals_and_params)
{
    gl_req_t req;
    const gl_route_t *rt;
    char allow[64];
    ASSERT_EQ(find(&req, "GET", "/api/things", &rt, allow), GL_ROUTE_FOUND);
    rt->handler(&req);
    ASSERT_EQ(hits, 1);
    gl_arena_destroy(req.arena);

    ASSERT_EQ(find(&req, "PUT", "/api/things/a%20b", &rt, allow), GL_ROUTE_FOUND);
    rt->handler(&req);
    ASSERT_EQ(hits, 3);
    ASSERT_STR_EQ(gl_req_param(&req, "id"), "a b");
    gl_arena_destroy(req.arena);

    ASSERT_EQ(find(&req, "POST", "/api/things/t1/runs/r%2F2", &rt, allow), GL_ROUTE_FOUND);
    ASSERT_STR_EQ(gl_req_param(&req, "id"), "t1");
    ASSERT_STR_EQ(gl_req_param(&req, "run"), "r/2");
    ASSERT(gl_req_param(&req, "nope") == NULL);
    gl_arena_destroy(req.arena);
}

TEST(head_routes_as_get)
{
    gl_req_t req;
    const gl_route_t *rt;
    char allow[64];
    ASSERT_EQ(find(&req, "HEAD", "/api/things/9", &rt, allow), GL_ROUTE_FOUND);
    rt->handler(&req);
    ASSERT_EQ(hits, 2);
    gl_arena_destroy(req.arena);
}

TEST(not_found_and_bad_method)
{
    gl_req_t req;
    const gl_route_t *rt;
    char allow[64];
    static const char *const missing[] = { "/api/thing", "/api/things/", "/api/things/1/",
                                           "/api/things//runs/x", "/api/things/1/runs",
                                           "/api/thingsX", "", "/" };
    for (size_t i = 0; i < sizeof missing / sizeof *missing; i++) {
        if (find(&req, "GET", missing[i], &rt, allow) != GL_ROUTE_NOT_FOUND)
            FAIL_AT("matched %s", missing[i]);
        gl_arena_destroy(req.arena);
    }
    ASSERT_EQ(find(&req, "DELETE", "/api/things/1", &rt, allow), GL_ROUTE_BAD_METHOD);
    ASSERT_STR_EQ(allow, "GET, HEAD, PUT");
    gl_arena_destroy(req.arena);
}

TEST(bad_percent_encoding)
{
    gl_req_t req;
    const gl_route_t *rt;
    char allow[64];
    static const char *const bad[] = { "/api/things/%", "/api/things/%4", "/api/things/%zz",
                                       "/api/things/a%00b" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (find(&req, "GET", bad[i], &rt, allow) != GL_ROUTE_BAD_PATH)
            FAIL_AT("accepted %s", bad[i]);
        gl_arena_destroy(req.arena);
    }
}

TEST_MAIN()
