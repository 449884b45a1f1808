/*
 * test_answer.c: what a workflow may put in a webhook answer — the header
 * allow list and the content-type rule (executor/engine/answer.c), and flow.respond
 * failing with a clear error for what is refused.
 */
#include "gl_test.h"

#include "node.h"

TEST(header_allow_list)
{
    static const char *const ok[] = {
        "Content-Type", "content-type", "Content-Disposition", "Content-Language", "ETag", "etag",
        "Last-Modified", "Location", "Retry-After", "X-Custom", "x-trace-id", "X-Robots-Tag", "X-Frame",
        "X-Glyphicish", "X-Accelerate", "X-Request-Ids-Seen",
    };
    static const char *const refused[] = {
        /* not on the list: a header we did not think of is refused */
        "Set-Cookie", "Set-Cookie2", "Cache-Control", "Expires", "Refresh", "Link", "Vary", "Content-Length",
        "Transfer-Encoding", "Connection", "Status", "Content-Security-Policy",
        "Content-Security-Policy-Report-Only", "Strict-Transport-Security", "Referrer-Policy",
        "Permissions-Policy", "Clear-Site-Data", "Alt-Svc", "Access-Control-Allow-Origin",
        "Access-Control-Allow-Credentials", "Cross-Origin-Opener-Policy", "Cross-Origin-Resource-Policy",
        "Service-Worker-Allowed", "Content-Encoding", "WWW-Authenticate", "Server", "Upgrade", "Trailer",
        "Origin-Agent-Cluster", "Document-Policy", "Report-To", "NEL", "Accept-CH", "Timing-Allow-Origin",
        "SourceMap", "Link", "Keep-Alive", "Location2", "ContentType",
        /* X- headers that are the server's, a proxy's, or security headers */
        "X-Glyphic-Execution", "x-glyphic-anything", "X-Accel-Redirect", "X-Accel-Buffering", "X-Request-Id",
        "X-Frame-Options", "X-Frame-Options-Extra", "X-Content-Type-Options", "X-XSS-Protection",
        "X-Content-Security-Policy", "X-WebKit-CSP", "X-Permitted-Cross-Domain-Policies",
        "X-DNS-Prefetch-Control", "X-Download-Options", "X-Sendfile", "X-Lighttpd-Send-File",
        "X-LiteSpeed-Location", "X-Forwarded-For", "X-",
        /* not tokens of our narrow alphabet */
        "", "X Custom", "X_Custom", "X-Custom:", "X-Custom\r\nSet-Cookie", "Ünïcode",
        "X-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    };
    for (size_t i = 0; i < GL_NELEM(ok); i++)
        if (!gl_engine_header_allowed(ok[i]))
            FAIL_AT("'%s' refused", ok[i]);
    for (size_t i = 0; i < GL_NELEM(refused); i++)
        if (gl_engine_header_allowed(refused[i]))
            FAIL_AT("'%s' allowed", refused[i]);
}

TEST(content_types)
{
    static const char *const ok[] = {
        "application/json", "application/json; charset=utf-8", "text/plain", "TEXT/PLAIN;charset=UTF-8",
        "text/html; charset=utf-8", "text/csv", "application/pdf", "image/png", "image/svg+xml",
        "application/octet-stream", "application/xml", "text/css", "application/wasm", " text/plain ",
        "application/vnd.api+json", "text/javascript-not", "text/javascripts", "application/jsonp",
    };
    static const char *const scripts[] = {
        "text/javascript", "application/javascript", "Application/JavaScript; charset=utf-8",
        "text/ecmascript", "application/ecmascript", "application/x-javascript", "application/x-ecmascript",
        "text/x-javascript", "text/x-ecmascript", "text/jscript", "text/livescript", "text/javascript1.0",
        "text/javascript1.5", " text/javascript", "text/javascript ;x=y", "TEXT/JAVASCRIPT",
    };
    static const char *const malformed[] = {
        "", "text", "text/", "/plain", "text/plain, text/javascript", "text/plain; a=\"b,c\"", "text /plain",
        "text/pl ain", "text/plain\r\nX-A: b", "tëxt/plain", "text/plain\x7f", "text/(plain)",
    };
    for (size_t i = 0; i < GL_NELEM(ok); i++)
        if (!gl_engine_content_type_allowed(ok[i], false))
            FAIL_AT("'%s' refused", ok[i]);
    for (size_t i = 0; i < GL_NELEM(scripts); i++) {
        if (gl_engine_content_type_allowed(scripts[i], false))
            FAIL_AT("'%s' allowed without http.respond_allow_scripts", scripts[i]);
        if (!gl_engine_content_type_allowed(scripts[i], true))
            FAIL_AT("'%s' refused with http.respond_allow_scripts", scripts[i]);
        ASSERT_CONTAINS(gl_engine_response_header_check("Content-Type", scripts[i], false), "is a script type");
    }
    for (size_t i = 0; i < GL_NELEM(malformed); i++) {
        if (gl_engine_content_type_allowed(malformed[i], true))
            FAIL_AT("'%s' allowed", malformed[i]);
        ASSERT_CONTAINS(gl_engine_response_header_check("content-type", malformed[i], true),
                        strpbrk(malformed[i], "\r\n\x7f") ? "one-line" : "is not a media type");
    }
    char long_type[256];
    memset(long_type, 'a', sizeof long_type - 1);
    long_type[sizeof long_type - 1] = '\0';
    long_type[4] = '/';
    ASSERT(!gl_engine_content_type_allowed(long_type, false));
    ASSERT(!gl_engine_content_type_allowed(NULL, true));
}

TEST(header_values)
{
    ASSERT(gl_engine_response_header_check("X-Custom", "anything; goes, here", false) == NULL);
    ASSERT(gl_engine_response_header_check("Content-Disposition", "attachment; filename=\"a.csv\"", false) == NULL);
    ASSERT(gl_engine_response_header_check("Location", "https://example.com/thanks", false) == NULL);
    ASSERT(gl_engine_response_header_check("location", "/hooks/next", false) == NULL);
    ASSERT_CONTAINS(gl_engine_response_header_check("Location", "javascript:alert(1)", false),
                    "must be an http(s) URL or a path");
    ASSERT_CONTAINS(gl_engine_response_header_check("Location", "data:text/html,x", false), "http(s) URL");
    ASSERT_CONTAINS(gl_engine_response_header_check("X-Custom", "a\r\nSet-Cookie: x=1", false), "one-line");
    ASSERT_CONTAINS(gl_engine_response_header_check("X-Custom", "a\x01", false), "one-line");
    ASSERT_CONTAINS(gl_engine_response_header_check("X-Custom", NULL, false), "must be a string");
    ASSERT_CONTAINS(gl_engine_response_header_check("Set-Cookie", "a=b", false), "is not an allowed response header");
    char big[1100];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ASSERT_CONTAINS(gl_engine_response_header_check("X-Custom", big, false), "at most 1000 bytes");
}

/* ---- flow.respond ---- */

typedef struct {
    gl_run_t run;
    gl_node_ctx_t c;
    json_object *node;
} fix_t;

static void fix_init(fix_t *f, const char *params, bool allow_scripts)
{
    memset(f, 0, sizeof *f);
    f->node = json_object_new_object();
    json_object_object_add(f->node, "id", json_object_new_string("respond"));
    json_object_object_add(f->node, "type", json_object_new_string("flow.respond"));
    json_object_object_add(f->node, "name", json_object_new_string("Respond"));
    json_object *p = json_tokener_parse(params);
    ASSERT(p != NULL);
    json_object_object_add(f->node, "params", p);
    f->run.limits.allow_scripts = allow_scripts;
    f->c.run = &f->run;
    f->c.type = gl_node_def_find("flow.respond");
    ASSERT(f->c.type != NULL);
    f->c.node_id = "respond";
    f->c.node_name = "Respond";
    f->c.node = f->node;
    f->c.params = p;
    f->c.attempt = 1;
    for (int i = 0; i < GL_NODE_MAX_PORTS; i++) {
        f->c.in[i] = i == 0 ? json_tokener_parse("[{\"a\": 1}]") : json_object_new_array();
        f->c.out[i] = json_object_new_array();
    }
}

static void fix_free(fix_t *f)
{
    for (int i = 0; i < GL_NODE_MAX_PORTS; i++) {
        json_object_put(f->c.in[i]);
        json_object_put(f->c.out[i]);
    }
    json_object_put(f->c.response);
    json_object_put(f->c.state_out);
    json_object_put(f->node);
}

static void respond_fails(const char *params, bool allow_scripts, const char *msg)
{
    fix_t f;
    fix_init(&f, params, allow_scripts);
    if (f.c.type->run(&f.c) == GL_OK)
        FAIL_AT("flow.respond with %s succeeded", params);
    ASSERT_CONTAINS(f.c.error, msg);
    ASSERT(f.c.response == NULL);
    fix_free(&f);
}

static void respond_ok(const char *params, bool allow_scripts)
{
    fix_t f;
    fix_init(&f, params, allow_scripts);
    if (f.c.type->run(&f.c) != GL_OK)
        FAIL_AT("flow.respond with %s: %s", params, f.c.error);
    ASSERT(f.c.response != NULL);
    fix_free(&f);
}

TEST(flow_respond_refuses_with_a_clear_error)
{
    respond_ok("{\"headers\": {\"Content-Type\": \"text/csv\", \"Content-Disposition\": \"attachment; filename=a.csv\","
               " \"ETag\": \"\\\"v1\\\"\", \"X-Trace\": \"t\", \"Location\": \"/x\"}}",
               false);
    respond_ok("{\"headers\": {\"Content-Type\": \"text/html; charset=utf-8\"}}", false);
    respond_fails("{\"headers\": {\"Set-Cookie\": \"a=b\"}}", false,
                  "response header 'Set-Cookie' is not an allowed response header");
    respond_fails("{\"headers\": {\"Cache-Control\": \"public, max-age=600\"}}", false,
                  "response header 'Cache-Control' is not an allowed response header");
    respond_fails("{\"headers\": {\"X-Accel-Redirect\": \"/internal/\"}}", false, "is not an allowed response header");
    respond_fails("{\"headers\": {\"Access-Control-Allow-Origin\": \"*\"}}", false, "is not an allowed");
    respond_fails("{\"headers\": {\"Content-Type\": \"application/javascript\"}}", false,
                  "response header 'Content-Type: application/javascript' is a script type");
    respond_fails("{\"headers\": {\"content-type\": \"text/plain, text/javascript\"}}", false, "is not a media type");
    respond_fails("{\"headers\": {\"Location\": \"javascript:alert(1)\"}}", false, "http(s) URL or a path");
    respond_fails("{\"headers\": {\"X-Custom\": 5}}", false, "response header 'X-Custom' must be a string");
    respond_fails("{\"headers\": {\"X-Custom\": \"a\\u0000b\"}}", false, "one-line");
    /* the operator's switch */
    respond_ok("{\"headers\": {\"Content-Type\": \"text/javascript; charset=utf-8\"}}", true);
}

TEST_MAIN()
