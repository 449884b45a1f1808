/*
 * fuzz_http_parse.c: what glyphic-fcgi itself parses of a request
 * (libfcgi parses the FastCGI records): the route table match with its
 * percent-decoded parameters (gl_route_find), query string arguments
 * (gl_req_query, gl_url_decode), the session cookie
 * (gl_cookie_session_token) and the API key in Authorization
 * (gl_bearer_api_key).
 *
 * Input, line by line: method, path, query string, Cookie value,
 * Authorization value, then query argument names to look up.
 */
#include "arena.h"
#include "fuzz.h"
#include "http.h"
#include "router.h"
#include "tokens.h"

static void check_route(gl_req_t *req, const char *method, const char *path)
{
    const gl_route_t *route = NULL;
    char allow[128];
    gl_route_result_t r = gl_route_find(req, method, path, strlen(path), &route, allow, sizeof allow);
    if (r == GL_ROUTE_FOUND) {
        FUZZ_CHECK(route && req->n_params >= 0 && req->n_params <= GL_ROUTE_MAX_PARAMS);
        for (int i = 0; i < req->n_params; i++) {
            FUZZ_CHECK(req->param_names[i] && req->param_values[i] && *req->param_values[i]);
            FUZZ_CHECK(gl_req_param(req, req->param_names[i]) != NULL);
        }
    } else if (r == GL_ROUTE_BAD_METHOD) {
        FUZZ_CHECK(allow[0]);
    }
}

static void check_query(gl_req_t *req, const char *name)
{
    const char *v = gl_req_query(req, name);
    if (v)
        FUZZ_CHECK(strlen(v) <= strlen(req->query));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *method = fuzz_line(&data, &size), *path = fuzz_line(&data, &size), *query = fuzz_line(&data, &size);
    char *cookie = fuzz_line(&data, &size), *auth = fuzz_line(&data, &size);
    gl_req_t req;
    memset(&req, 0, sizeof req);
    req.arena = gl_arena_create(4096);
    req.method = method;
    req.path = path;
    req.path_len = strlen(path);
    req.query = query;
    check_route(&req, method, path);

    static const char *const names[] = { "limit", "cursor", "status", "workflow_id", "before", "q", "" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        check_query(&req, names[i]);
    while (size > 0) {
        char *name = fuzz_line(&data, &size);
        check_query(&req, name);
        free(name);
    }
    char *all = gl_url_decode(req.arena, query, strlen(query));
    FUZZ_CHECK(!all || strlen(all) <= strlen(query));

    char token[GL_TOKEN_LEN + 1];
    if (gl_cookie_session_token(cookie, token))
        FUZZ_CHECK(strlen(token) == GL_TOKEN_LEN && gl_token_chars_ok(token, GL_TOKEN_LEN));
    const char *key = gl_bearer_api_key(auth);
    if (key)
        FUZZ_CHECK(key >= auth && key < auth + strlen(auth) && strncmp(key, "gk_", 3) == 0);

    gl_arena_destroy(req.arena);
    free(method);
    free(path);
    free(query);
    free(cookie);
    free(auth);
    return 0;
}
