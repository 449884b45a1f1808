/*
 * fuzz_webhook_body.c: a call to /hooks/<path> turned into the trigger's
 * item: the body after it is read (gl_req_take_body: JSON by Content-Type,
 * else raw), then gl_hooks_item (query string and form bodies decoded,
 * headers from the FastCGI parameters with credentials left out, text
 * bodies checked as UTF-8).
 *
 * Input, line by line: method (A-Z _ - as nginx passes it, else POST),
 * Content-Type, query string, header lines
 * "X_NAME=value" (sent as HTTP_X_NAME=value) up to an empty line; the
 * rest is the body. Invariants: a call is an item or a 400 answer; an
 * item is a JSON object PostgreSQL can store.
 */
#include "arena.h"
#include "fuzz.h"
#include "hooks.h"
#include "http.h"

#define MAX_PARAMS 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *method = fuzz_line(&data, &size), *ct = fuzz_line(&data, &size), *query = fuzz_line(&data, &size);
    /* nginx's request-line parser lets only A-Z, _ and - into a method */
    if (!*method || strspn(method, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_-") != strlen(method))
        method[0] = '\0';
    char *env[MAX_PARAMS + 3] = { 0 };
    int n_env = 0;
    while (size > 0) {
        char *h = fuzz_line(&data, &size);
        bool end = *h == '\0';
        if (!end && n_env < MAX_PARAMS && (env[n_env] = malloc(strlen(h) + 6)))
            snprintf(env[n_env], strlen(h) + 6, "HTTP_%s", h), n_env++;
        free(h);
        if (end)
            break;
    }
    char cl[40];
    snprintf(cl, sizeof cl, "CONTENT_LENGTH=%zu", size);
    char *ct_param = malloc(strlen(ct) + 14);
    snprintf(ct_param, strlen(ct) + 14, "CONTENT_TYPE=%s", ct);
    env[n_env] = ct_param;
    env[n_env + 1] = cl;

    gl_config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.http_max_json_depth = 64;
    cfg.hooks_drop_headers = "x-secret, x-internal-*";
    FCGX_Request fr;
    memset(&fr, 0, sizeof fr);
    fr.envp = env;
    gl_buf_t out, headers;
    gl_buf_init(&out, 1 << 20);
    gl_buf_init(&headers, 1 << 16);
    gl_req_t req;
    memset(&req, 0, sizeof req);
    req.fcgx = &fr;
    req.arena = gl_arena_create(4096);
    req.cfg = &cfg;
    req.method = *method ? method : "POST";
    req.path = "/hooks/fuzz";
    req.path_len = strlen(req.path);
    req.query = query;
    req.request_id = "fuzz";
    req.any_body = true;
    req.out = &out;
    req.headers = &headers;

    int rc = GL_OK;
    if (size > 0) {
        char *body = gl_arena_alloc(req.arena, size + 1);
        memcpy(body, data, size);
        body[size] = '\0';
        rc = gl_req_take_body(&req, body, size);
        FUZZ_CHECK(rc == GL_OK || (rc == GL_INVALID && req.status == 400));
    }
    if (rc == GL_OK) {
        json_object *item = gl_hooks_item(&req, "fuzz", NULL);
        FUZZ_CHECK(item || req.status == 400);
        if (item) {
            char where[128];
            const char *why = gl_json_unstorable(item, where, sizeof where);
            if (why)
                fprintf(stderr, "unstorable item: %s at %s\n", why, where);
            FUZZ_CHECK(!why);
            json_object_put(item);
        }
    }
    gl_arena_destroy(req.arena);
    gl_buf_free(&out);
    gl_buf_free(&headers);
    for (int i = 0; i < n_env; i++)
        free(env[i]);
    free(ct_param);
    free(method);
    free(ct);
    free(query);
    return 0;
}
