/*
 * test_http_node.c: the http.request node (and the credential test's
 * request, gl_engine_http_probe, which applies credentials the same way)
 * against the scripted local server
 * tests/integration/testserver.py, started per test case as a child process
 * (its stdin is a pipe from us: when we exit, however we exit, it stops).
 *
 * A node context is built by hand: the node's definition, its params, its
 * input items and a gl_run_t without io (c->exec stays NULL: the node needs
 * nothing of the engine's internals, and no test uses $node).
 */
#include "gl_test.h"

#include "ipnet.h"
#include "node.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- the test servers ---- */

#define MAX_SERVERS 3

static pid_t srv_pid[MAX_SERVERS];
static int srv_stdin[MAX_SERVERS];
static int n_srv;
static char base[64]; /* http://127.0.0.1:PORT, the first server */

/* The test server's address is loopback: the node reaches it only through
 * the operator's allow list, as glyphic.conf's http.allow_private = 127.0.0.1/32. */
static gl_ipnet_list_t allow_test_server;

static void server_stop(void)
{
    for (int i = 0; i < n_srv; i++) {
        close(srv_stdin[i]);
        kill(srv_pid[i], SIGTERM);
        while (waitpid(srv_pid[i], NULL, 0) < 0 && errno == EINTR) {
        }
    }
    n_srv = 0;
    curl_global_cleanup();
}

/* Starts testserver.py on host (a loopback address) and writes its URL
 * ("http://127.0.0.2:PORT", "http://[::1]:PORT") into url[0..64). */
static void server_start_at(const char *host, char *url)
{
    char script[1024], line[32];
    const char *file = __FILE__, *slash = strrchr(file, '/');
    int in[2], out[2];
    size_t got = 0;
    pid_t pid;

    ASSERT(slash != NULL && n_srv < MAX_SERVERS);
    ASSERT(snprintf(script, sizeof script, "%.*s/../integration/testserver.py", (int)(slash - file), file) <
           (int)sizeof script);
    ASSERT(pipe(in) == 0 && pipe(out) == 0);
    pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[0]), close(in[1]), close(out[0]), close(out[1]);
        execlp("python3", "python3", "-B", script, "--host", host, (char *)NULL);
        _exit(127);
    }
    close(in[0]), close(out[1]);
    if (n_srv == 0) {
        ASSERT_EQ(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
        atexit(server_stop);
    }
    srv_pid[n_srv] = pid;
    srv_stdin[n_srv++] = in[1];
    while (got < sizeof line - 1) { /* the first line is the port */
        ssize_t n = read(out[0], line + got, 1);
        if (n <= 0 || line[got] == '\n')
            break;
        got++;
    }
    close(out[0]);
    line[got] = '\0';
    int64_t port;
    if (gl_parse_i64(line, 1, 65535, &port) != GL_OK)
        FAIL_AT("test server on %s did not print its port (got \"%s\")", host, line);
    snprintf(url, 64, strchr(host, ':') ? "http://[%s]:%d" : "http://%s:%d", host, (int)port);
}

static void server_start(void)
{
    server_start_at("127.0.0.1", base);
}

/* ---- a node context ---- */

typedef struct {
    gl_run_t run;
    gl_node_ctx_t c;
    json_object *node;
    int beats;
    int beat_rc;
} fix_t;

static int on_beat(void *ud)
{
    fix_t *f = ud;
    f->beats++;
    return f->beat_rc;
}

/* text with every "BASE" replaced by the server's URL; caller frees */
static char *subst(const char *text)
{
    size_t cap = strlen(text) * 4 + 64, o = 0;
    char *s = gl_xmalloc(cap);
    for (const char *p = text; *p;) {
        if (strncmp(p, "BASE", 4) == 0) {
            o += (size_t)snprintf(s + o, cap - o, "%s", base);
            p += 4;
        } else {
            s[o++] = *p++;
        }
    }
    s[o] = '\0';
    return s;
}

static json_object *parse(const char *text)
{
    char *t = subst(text);
    json_object *o = json_tokener_parse(t);
    if (!o && strcmp(t, "null") != 0)
        FAIL_AT("bad JSON in test: %s", t);
    free(t);
    return o;
}

/* params and items are JSON texts; "BASE" in params is the server's URL */
static void fix_init(fix_t *f, const char *params, const char *items)
{
    memset(f, 0, sizeof *f);
    f->node = json_object_new_object();
    json_object_object_add(f->node, "id", json_object_new_string("fetch"));
    json_object_object_add(f->node, "type", json_object_new_string("http.request"));
    json_object_object_add(f->node, "name", json_object_new_string("Fetch"));
    json_object_object_add(f->node, "params", parse(params));
    f->c.run = &f->run;
    if (allow_test_server.n == 0) {
        gl_err_t err;
        ASSERT_EQ(gl_ipnet_parse_list("127.0.0.1/32", &allow_test_server, &err), GL_OK);
    }
    f->run.limits.allow_private = &allow_test_server;
    f->c.type = gl_node_def_find("http.request");
    ASSERT(f->c.type != NULL);
    f->c.node_id = "fetch";
    f->c.node_name = "Fetch";
    f->c.node = f->node;
    json_object_object_get_ex(f->node, "params", &f->c.params);
    f->c.attempt = 1;
    for (int i = 0; i < GL_NODE_MAX_PORTS; i++) {
        f->c.in[i] = i == 0 ? parse(items ? items : "[{}]") : json_object_new_array();
        f->c.out[i] = json_object_new_array();
    }
}

static void fix_heartbeat(fix_t *f, int rc)
{
    f->beat_rc = rc;
    f->run.io.heartbeat = on_beat;
    f->run.io.ud = f;
}

static void fix_free(fix_t *f)
{
    for (int i = 0; i < GL_NODE_MAX_PORTS; i++) {
        json_object_put(f->c.in[i]);
        json_object_put(f->c.out[i]);
    }
    json_object_put(f->node);
}

static int run(fix_t *f)
{
    return f->c.type->run(&f->c);
}

/* output item i of port 0 */
static json_object *out(fix_t *f, size_t i)
{
    if (i >= json_object_array_length(f->c.out[0]))
        FAIL_AT("no output item %zu (have %zu)", i, json_object_array_length(f->c.out[0]));
    return json_object_array_get_idx(f->c.out[0], i);
}

/* v at a dotted path ("body.query.id"), or NULL */
static json_object *at(json_object *v, const char *path)
{
    char key[128];
    while (v && *path) {
        size_t n = strcspn(path, ".");
        ASSERT(n < sizeof key);
        memcpy(key, path, n);
        key[n] = '\0';
        if (!json_object_object_get_ex(v, key, &v))
            return NULL;
        path += n + (path[n] == '.');
    }
    return v;
}

static const char *str_at(json_object *v, const char *path)
{
    json_object *s = at(v, path);
    if (!s || !json_object_is_type(s, json_type_string))
        FAIL_AT("%s is not a string in %s", path, json_object_to_json_string(v));
    return json_object_get_string(s);
}

static int64_t int_at(json_object *v, const char *path)
{
    json_object *s = at(v, path);
    if (!s || !json_object_is_type(s, json_type_int))
        FAIL_AT("%s is not an integer in %s", path, json_object_to_json_string(v));
    return json_object_get_int64(s);
}

/* Runs the node once and expects a failure whose message contains `msg`. */
static void expect_fail(const char *params, const char *msg, bool retryable)
{
    fix_t f;
    fix_init(&f, params, NULL);
    ASSERT(run(&f) != GL_OK);
    ASSERT_CONTAINS(f.c.error, msg);
    ASSERT_EQ(f.c.retryable, retryable);
    fix_free(&f);
}

/* ---- requests ---- */

TEST(get_echo)
{
    fix_t f;
    server_start();
    fix_init(&f,
             "{\"url\": \"BASE/echo?id={{ $json.id }}&keep=1#frag\","
             " \"query\": {\"q\": \"a b&c=d/é\", \"n\": 5, \"f\": 1.5, \"g\": 2.0, \"on\": true, \"tag\": [\"x\", \"y\"], \"who\": \"{{ $json.who }}\"},"
             " \"headers\": {\"X-Test\": \"yes\", \"X-Num\": 42, \"X-Item\": \"{{ $json.id * 2 }}\"}}",
             "[{\"id\": 7, \"who\": \"ann\"}, {\"id\": 8, \"who\": \"bob\"}]");
    ASSERT_EQ(run(&f), GL_OK);
    ASSERT_EQ(json_object_array_length(f.c.out[0]), 2);
    json_object *o = out(&f, 0);
    ASSERT_EQ(int_at(o, "status"), 200);
    ASSERT_STR_EQ(str_at(o, "headers.content-type"), "application/json");
    ASSERT_STR_EQ(str_at(o, "body.method"), "GET");
    ASSERT_STR_EQ(str_at(o, "body.path"), "/echo");
    ASSERT_STR_EQ(str_at(o, "body.query.id"), "7");
    ASSERT_STR_EQ(str_at(o, "body.query.keep"), "1");
    ASSERT_STR_EQ(str_at(o, "body.query.q"), "a b&c=d/é");
    ASSERT_STR_EQ(str_at(o, "body.query.n"), "5");
    ASSERT_STR_EQ(str_at(o, "body.query.f"), "1.5");
    ASSERT_STR_EQ(str_at(o, "body.query.g"), "2"); /* as JavaScript prints 2.0 */
    ASSERT_STR_EQ(str_at(o, "body.query.on"), "true");
    ASSERT_STR_EQ(str_at(o, "body.query.tag"), "y"); /* repeated; the server keeps the last */
    ASSERT_STR_EQ(str_at(o, "body.query.who"), "ann");
    ASSERT_STR_EQ(str_at(o, "body.headers.x-test"), "yes");
    ASSERT_STR_EQ(str_at(o, "body.headers.x-num"), "42");
    ASSERT_STR_EQ(str_at(o, "body.headers.x-item"), "14");
    ASSERT_STR_EQ(str_at(o, "body.headers.user-agent"), "Glyphic/" GL_VERSION);
    ASSERT(at(o, "body.headers.content-type") == NULL);
    o = out(&f, 1);
    ASSERT_STR_EQ(str_at(o, "body.query.id"), "8");
    ASSERT_STR_EQ(str_at(o, "body.query.who"), "bob");
    ASSERT_STR_EQ(str_at(o, "body.headers.x-item"), "16");
    fix_free(&f);
}

TEST(expression_in_path)
{
    fix_t f;
    server_start();
    fix_init(&f, "{\"url\": \"BASE/json/{{ $json.id }}\"}", "[{\"id\": \"abc\"}, {\"id\": 42}]");
    ASSERT_EQ(run(&f), GL_OK);
    ASSERT_STR_EQ(str_at(out(&f, 0), "body.path"), "/json/abc");
    ASSERT_STR_EQ(str_at(out(&f, 1), "body.path"), "/json/42");
    ASSERT_EQ(int_at(out(&f, 1), "body.n"), 1);
    fix_free(&f);
}

TEST(post_json)
{
    fix_t f;
    server_start();
    fix_init(&f,
             "{\"url\": \"BASE/echo\", \"method\": \"POST\", \"body_type\": \"json\","
             " \"body\": {\"a\": 1, \"b\": [true, null], \"s\": \"{{ $json.name }}\", \"u\": \"http://x/y\"}}",
             "[{\"name\": \"zoé\"}]");
    ASSERT_EQ(run(&f), GL_OK);
    json_object *o = out(&f, 0);
    ASSERT_STR_EQ(str_at(o, "body.method"), "POST");
    ASSERT_STR_EQ(str_at(o, "body.headers.content-type"), "application/json");
    ASSERT(at(o, "body.headers.expect") == NULL);
    ASSERT_EQ(int_at(o, "body.body.a"), 1);
    ASSERT_STR_EQ(str_at(o, "body.body.s"), "zoé");
    ASSERT_STR_EQ(str_at(o, "body.body.u"), "http://x/y");
    ASSERT_STR_EQ(json_object_to_json_string_ext(at(o, "body.body.b"), JSON_C_TO_STRING_PLAIN), "[true,null]");
    fix_free(&f);
}

TEST(json_body_keeps_content_type)
{
    fix_t f;
    server_start();
    fix_init(&f,
             "{\"url\": \"BASE/echo\", \"method\": \"PATCH\", \"body_type\": \"json\", \"body\": [1, 2],"
             " \"headers\": {\"content-type\": \"application/merge-patch+json\"}}",
             NULL);
    ASSERT_EQ(run(&f), GL_OK);
    json_object *o = out(&f, 0);
    ASSERT_STR_EQ(str_at(o, "body.method"), "PATCH");
    ASSERT_STR_EQ(str_at(o, "body.headers.content-type"), "application/merge-patch+json");
    ASSERT_STR_EQ(json_object_to_json_string_ext(at(o, "body.body"), JSON_C_TO_STRING_PLAIN), "[1,2]");
    fix_free(&f);
}

TEST(post_form)
{
    fix_t f;
    server_start();
    fix_init(&f,
             "{\"url\": \"BASE/echo\", \"method\": \"POST\", \"body_type\": \"form\","
             " \"body\": {\"a\": \"1 2\", \"b\": \"x&y=z\", \"list\": [1, 2], \"id\": \"{{ $json.id }}\"}}",
             "[{\"id\": 9}]");
    ASSERT_EQ(run(&f), GL_OK);
    json_object *o = out(&f, 0);
    ASSERT_STR_EQ(str_at(o, "body.headers.content-type"), "application/x-www-form-urlencoded");
    ASSERT_STR_EQ(str_at(o, "body.body"), "a=1%202&b=x%26y%3Dz&list=1&list=2&id=9");
    fix_free(&f);
}

TEST(form_needs_object)
{
    server_start();
    expect_fail("{\"url\": \"BASE/echo\", \"method\": \"POST\", \"body_type\": \"form\", \"body\": \"a=1\"}",
                "body_type form needs an object body", false);
    expect_fail("{\"url\": \"BASE/echo\", \"method\": \"POST\", \"body_type\": \"form\", \"body\": {\"a\": {\"b\": 1}}}",
                "form field 'a'", false);
}

TEST(raw_body)
{
    fix_t f;
    server_start();
    fix_init(&f,
             "{\"url\": \"BASE/echo\", \"method\": \"PUT\", \"body_type\": \"raw\", \"body\": \"id,name\\n{{ $json.id }},x\","
             " \"headers\": {\"Content-Type\": \"text/csv\"}}",
             "[{\"id\": 3}]");
    ASSERT_EQ(run(&f), GL_OK);
    json_object *o = out(&f, 0);
    ASSERT_STR_EQ(str_at(o, "body.method"), "PUT");
    ASSERT_STR_EQ(str_at(o, "body.headers.content-type"), "text/csv");
    ASSERT_STR_EQ(str_at(o, "body.body"), "id,name\n3,x");
    fix_free(&f);

    fix_init(&f, "{\"url\": \"BASE/echo\", \"method\": \"POST\", \"body_type\": \"raw\", \"body\": \"plain\"}", NULL);
    ASSERT_EQ(run(&f), GL_OK);
    ASSERT_STR_EQ(str_at(out(&f, 0), "body.headers.content-type"), "text/plain");
    ASSERT_STR_EQ(str_at(out(&f, 0), "body.body"), "plain");
    fix_free(&f);
}

TEST(other_methods)
{
    static const char *const ms[] = { "DELETE", "OPTIONS", "PUT", "POST", "GET" };
    char params[256];
    server_start();
    for (size_t i = 0; i < GL_NELEM(ms); i++) {
        fix_t f;
        snprintf(params, sizeof params, "{\"url\": \"BASE/echo\", \"method\": \"%s\"}", ms[i]);
        fix_init(&f, params, NULL);
        ASSERT_EQ(run(&f), GL_OK);
        ASSERT_STR_EQ(str_at(out(&f, 0), "body.method"), ms[i]);
        fix_free(&f);
    }
    fix_t f;
    /* an empty POST: Content-Length 0 and no made-up Content-Type */
    fix_init(&f, "{\"url\": \"BASE/echo\", \"method\": \"post\"}", NULL);
    ASSERT_EQ(run(&f), GL_OK);
    ASSERT_STR_EQ(str_at(out(&f, 0), "body.method"), "POST");
    ASSERT_STR_EQ(str_at(out(&f, 0), "body.headers.content-length"), "0");
    ASSERT(at(out(&f, 0), "body.headers.content-type") == NULL);
    fix_free(&f);
    fix_init(&f, "{\"url\": \"BASE/echo\", \"method\": \"HEAD\"}", NULL);
    ASSERT_EQ(run(&f), GL_OK);
    ASSERT_EQ(int_at(out(&f, 0), "status"), 200);
    ASSERT_STR_EQ(str_at(out(&f, 0), "body"), "");
    fix_free(&f);
    expect_fail("{\"url\": \"BASE/echo\", \"method\": \"TRACE\"}", "method 'TRACE' is not one of the choices", false);
}

/* ---- responses ---- */

TEST(text_response)
{
    fix_t f;
    server_start();
    fix_init(&f, "{\"url\": \"BASE/text\"}", NULL);
    ASSERT_EQ(run(&f), GL_OK);
    ASSERT_STR_EQ(str_at(out(&f, 0), "body"), "hello");
    ASSERT_CONTAINS(str_at(out(&f, 0), "headers.content-type"), "text/plain");
    fix_free(&f);
    expect_fail("{\"url\": \"BASE/text\", \"response_type\": \"json\"}", "is not valid JSON", false);
}

TEST(json_auto_detect)
{
    fix_t f;
    server_start();
    fix_init(&f, "{\"url\": \"BASE/json/a\"}", NULL);
    ASSERT_EQ(run(&f), GL_OK);
    ASSERT_STR_EQ(str_at(out(&f, 0), "body.path"), "/json/a");
    fix_free(&f);
    /* response_type text keeps the JSON as text */
    fix_init(&f, "{\"url\": \"BASE/json/a\", \"response_type\": \"text\"}", NULL);
    ASSERT_EQ(run(&f), GL_OK);
    ASSERT_STR_EQ(str_at(out(&f, 0), "body"), "{\"path\": \"/json/a\", \"n\": 2}");
    fix_free(&f);
}

TEST(invalid_utf8_replaced)
{
    fix_t f;
    server_start();
    fix_init(&f, "{\"url\": \"BASE/latin1\"}", NULL);
    ASSERT_EQ(run(&f), GL_OK);
    ASSERT_STR_EQ(str_at(out(&f, 0), "body"), "caf\xEF\xBF\xBD ok");
    fix_free(&f);
}

TEST(response_headers)
{
    fix_t f;
    server_start();
    fix_init(&f, "{\"url\": \"BASE/headers\"}", NULL);
    ASSERT_EQ(run(&f), GL_OK);
    ASSERT_STR_EQ(str_at(out(&f, 0), "headers.x-multi"), "a, b");
    ASSERT_STR_EQ(str_at(out(&f, 0), "headers.x-mixed-case"), "Yes");
    ASSERT_STR_EQ(str_at(out(&f, 0), "headers.content-length"), "12");
    fix_free(&f);
}

/* ---- status codes ---- */

TEST(status_404_fails)
{
    fix_t f;
    server_start();
    /* neither the userinfo nor the query may appear in the message */
    char *url = subst("{\"url\": \"BASE/status/404?token=s3cret\"}");
    char *p = strstr(url, "//");
    ASSERT(p);
    char params[512];
    snprintf(params, sizeof params, "%.*s//alice:pa55word@%s", (int)(p - url), url, p + 2);
    fix_init(&f, params, NULL);
    free(url);
    ASSERT(run(&f) != GL_OK);
    char want[128];
    snprintf(want, sizeof want, "HTTP 404 from GET %s/status/404", base);
    ASSERT_STR_EQ(f.c.error, want);
    ASSERT_EQ(f.c.retryable, false);
    ASSERT_EQ(f.c.retry_after_ms, 0);
    fix_free(&f);
}

TEST(status_404_passes_without_fail_on_status)
{
    fix_t f;
    server_start();
    fix_init(&f, "{\"url\": \"BASE/status/404\", \"fail_on_status\": false}", NULL);
    ASSERT_EQ(run(&f), GL_OK);
    ASSERT_EQ(int_at(out(&f, 0), "status"), 404);
    ASSERT_EQ(int_at(out(&f, 0), "body.status"), 404);
    fix_free(&f);
}

TEST(status_500_retryable)
{
    server_start();
    expect_fail("{\"url\": \"BASE/status/500\"}", "HTTP 500 from GET", true);
    expect_fail("{\"url\": \"BASE/status/503\"}", "HTTP 503 from GET", true);
    expect_fail("{\"url\": \"BASE/status/400\"}", "HTTP 400 from GET", false);
}

TEST(retry_after)
{
    fix_t f;
    server_start();
    fix_init(&f, "{\"url\": \"BASE/retry-after/k1/7\"}", NULL);
    ASSERT(run(&f) != GL_OK);
    ASSERT_CONTAINS(f.c.error, "HTTP 429 from GET");
    ASSERT_EQ(f.c.retryable, true);
    ASSERT_EQ(f.c.retry_after_ms, 7000);
    /* the retry succeeds */
    fix_free(&f);
    fix_init(&f, "{\"url\": \"BASE/retry-after/k1/7\"}", NULL);
    ASSERT_EQ(run(&f), GL_OK);
    ASSERT_EQ(int_at(out(&f, 0), "body.calls"), 2);
    fix_free(&f);

    /* an HTTP-date */
    fix_init(&f, "{\"url\": \"BASE/retry-after-date/k2/30\"}", NULL);
    ASSERT(run(&f) != GL_OK);
    ASSERT(f.c.retry_after_ms > 25000 && f.c.retry_after_ms <= 31000);
    fix_free(&f);

    /* capped at an hour */
    fix_init(&f, "{\"url\": \"BASE/retry-after/k3/99999\"}", NULL);
    ASSERT(run(&f) != GL_OK);
    ASSERT_EQ(f.c.retry_after_ms, 3600000);
    fix_free(&f);
}

/* ---- limits ---- */

TEST(timeout)
{
    fix_t f;
    server_start();
    fix_init(&f, "{\"url\": \"BASE/slow/2000\", \"timeout_ms\": 200}", NULL);
    int64_t t0 = gl_now_ms();
    ASSERT(run(&f) != GL_OK);
    int64_t took = gl_now_ms() - t0;
    ASSERT(took < 1500);
    ASSERT_CONTAINS(f.c.error, "timed out after 200 ms");
    ASSERT_EQ(f.c.retryable, true);
    fix_free(&f);
}

TEST(deadline_cuts_timeout)
{
    fix_t f;
    server_start();
    fix_init(&f, "{\"url\": \"BASE/slow/2000\"}", NULL);
    f.c.deadline_ms = gl_wall_ms() + 300;
    int64_t t0 = gl_now_ms();
    ASSERT(run(&f) != GL_OK);
    ASSERT(gl_now_ms() - t0 < 1500);
    ASSERT_CONTAINS(f.c.error, "timed out");
    ASSERT_CONTAINS(f.c.error, "(node deadline)");
    fix_free(&f);

    fix_init(&f, "{\"url\": \"BASE/echo\"}", NULL);
    f.c.deadline_ms = gl_wall_ms() - 1;
    ASSERT(run(&f) != GL_OK);
    ASSERT_CONTAINS(f.c.error, "deadline");
    fix_free(&f);
}

TEST(redirects_followed)
{
    fix_t f;
    server_start();
    fix_init(&f, "{\"url\": \"BASE/redirect/3\"}", NULL);
    ASSERT_EQ(run(&f), GL_OK);
    ASSERT_EQ(int_at(out(&f, 0), "status"), 200);
    ASSERT_STR_EQ(str_at(out(&f, 0), "body.path"), "/echo");
    ASSERT(at(out(&f, 0), "headers.location") == NULL); /* headers of the last response only */
    fix_free(&f);

    fix_init(&f, "{\"url\": \"BASE/redirect/10\"}", NULL);
    ASSERT_EQ(run(&f), GL_OK);
    fix_free(&f);
    expect_fail("{\"url\": \"BASE/redirect/11\"}", "more than 10 redirects", false);
}

TEST(redirect_to_other_protocols_refused)
{
    server_start();
    expect_fail("{\"url\": \"BASE/redirect-to?url=ftp://127.0.0.1/x\"}", "redirected to a URL that is not http(s)",
                false);
    expect_fail("{\"url\": \"BASE/redirect-to?url=file:///etc/passwd\"}", "redirected to a URL that is not http(s)",
                false);
    /* the message names the first URL, without its query */
    expect_fail("{\"url\": \"BASE/redirect-to?url=gopher://127.0.0.1/x\"}", "GET http://127.0.0.1:", false);
}

TEST(redirects_not_followed)
{
    fix_t f;
    server_start();
    fix_init(&f, "{\"url\": \"BASE/redirect/3\", \"follow_redirects\": false}", NULL);
    ASSERT_EQ(run(&f), GL_OK);
    ASSERT_EQ(int_at(out(&f, 0), "status"), 302);
    ASSERT_STR_EQ(str_at(out(&f, 0), "headers.location"), "/redirect/2");
    ASSERT_STR_EQ(str_at(out(&f, 0), "body"), "");
    fix_free(&f);
}

TEST(response_over_cap)
{
    fix_t f;
    server_start();
    expect_fail("{\"url\": \"BASE/big/9000000\"}", "response larger than 8 MiB", false);
    expect_fail("{\"url\": \"BASE/stream/9000000\"}", "response larger than 8 MiB", false);
    fix_init(&f, "{\"url\": \"BASE/stream/8388608\"}", NULL);
    ASSERT_EQ(run(&f), GL_OK);
    ASSERT_EQ(json_object_get_string_len(at(out(&f, 0), "body")), 8388608);
    fix_free(&f);
}

/* ---- refused input ---- */

TEST(bad_url)
{
    server_start();
    expect_fail("{\"url\": \"ftp://127.0.0.1/x\"}", "url must be an absolute http:// or https:// URL", false);
    expect_fail("{\"url\": \"/echo\"}", "url must be an absolute http:// or https:// URL", false);
    expect_fail("{\"url\": \"127.0.0.1/echo\"}", "url must be an absolute http:// or https:// URL", false);
    expect_fail("{\"url\": \"\"}", "url is empty", false);
    expect_fail("{}", "url is empty", false);
    expect_fail("{\"url\": \"{{ $json.missing }}\"}", "url is empty", false);
    expect_fail("{\"url\": \"http://\"}", "url is not a valid URL", false);
    expect_fail("{\"url\": \"http://a b/\"}", "url is not a valid URL", false);
    expect_fail("{\"url\": 42}", "url must be a string", false);
    expect_fail("{\"url\": \"BASE/echo\", \"query\": [1]}", "query must be an object", false);
    expect_fail("{\"url\": \"BASE/echo\", \"headers\": \"X-A: 1\"}", "headers must be an object", false);
}

TEST(header_injection_refused)
{
    fix_t f;
    server_start();
    expect_fail("{\"url\": \"BASE/json/h\", \"headers\": {\"X-A\": \"v\\r\\nX-Injected: 1\"}}", "contains CR, LF or NUL",
                false);
    expect_fail("{\"url\": \"BASE/json/h\", \"headers\": {\"X-A\": \"v\\nX-Injected: 1\"}}", "contains CR, LF or NUL",
                false);
    expect_fail("{\"url\": \"BASE/json/h\", \"headers\": {\"X-A\\r\\nX-B\": \"v\"}}", "is not valid", false);
    expect_fail("{\"url\": \"BASE/json/h\", \"headers\": {\"X A\": \"v\"}}", "is not valid", false);
    expect_fail("{\"url\": \"BASE/json/h\", \"headers\": {\"X-A\": {\"b\": 1}}}", "expected a string", false);
    /* none of them reached the server */
    fix_init(&f, "{\"url\": \"BASE/json/h\"}", NULL);
    ASSERT_EQ(run(&f), GL_OK);
    ASSERT_EQ(int_at(out(&f, 0), "body.n"), 1);
    fix_free(&f);
}

TEST(credential_not_available)
{
    server_start();
    expect_fail("{\"url\": \"BASE/echo\", \"credential\": \"my-api\"}",
                "credential 'my-api' cannot be used here: this run has no credential store", false);
    fix_t f;
    fix_init(&f, "{\"url\": \"BASE/echo\", \"credential\": \"\"}", NULL);
    ASSERT_EQ(run(&f), GL_OK);
    fix_free(&f);
}

/* ---- credentials (a source faked here; the executor's is tested end to end) ---- */

typedef struct {
    gl_cred_t cred, fresh;
    int gets, refreshes;
    int get_rc;
    char used[64];
} fake_src_t;

static int fake_get(void *arg, const char *name, int64_t deadline_ms, const gl_cred_t **out, gl_err_t *err)
{
    fake_src_t *f = arg;
    (void)deadline_ms;
    f->gets++;
    if (f->get_rc != GL_OK) {
        gl_err_set(err, "credential '%s' cannot be read now", name);
        return f->get_rc;
    }
    if (strcmp(name, f->cred.name) != 0) {
        gl_err_set(err, "credential '%s' not found", name);
        return GL_NOTFOUND;
    }
    *out = &f->cred;
    return GL_OK;
}

static int fake_refresh(void *arg, const char *name, const char *used, int64_t deadline_ms, const gl_cred_t **out,
                        gl_err_t *err)
{
    fake_src_t *f = arg;
    (void)name, (void)deadline_ms, (void)err;
    f->refreshes++;
    snprintf(f->used, sizeof f->used, "%s", used ? used : "");
    *out = &f->fresh;
    return GL_OK;
}

/* A fake source of one credential: type, fields (JSON text) and up to two secrets. */
static void fake_init(fake_src_t *f, const char *type, const char *fields, const char *k1, const char *v1,
                      const char *k2, const char *v2)
{
    memset(f, 0, sizeof *f);
    f->cred.name = "cred";
    f->cred.type = type;
    f->cred.fields = parse(fields);
    const char *k[] = { k1, k2 }, *v[] = { v1, v2 };
    for (int i = 0; i < 2; i++)
        if (k[i])
            f->cred.secrets[f->cred.n_secrets++] = (gl_cred_secret_t){ k[i], v[i], strlen(v[i]) };
    f->fresh = f->cred;
    f->fresh.n_secrets = 1;
    f->fresh.secrets[0] = (gl_cred_secret_t){ "access_token", "fresh-token", 11 };
}

static void fake_free(fake_src_t *f)
{
    json_object_put(f->cred.fields);
}

static void fix_cred(fix_t *f, fake_src_t *src)
{
    f->run.creds = (gl_cred_source_t){ .get = fake_get, .refresh = fake_refresh, .arg = src };
}

/* Runs params with src; the output item's body (the echo) must succeed. */
static json_object *run_cred(fix_t *f, fake_src_t *src, const char *params)
{
    fix_init(f, params, NULL);
    fix_cred(f, src);
    if (run(f) != GL_OK)
        FAIL_AT("failed: %s", f->c.error);
    return out(f, 0);
}

TEST(credential_types_applied)
{
    fake_src_t src;
    fix_t f;
    server_start();

    fake_init(&src, "http.bearer", "{}", "token", "tok-123", NULL, NULL);
    json_object *o = run_cred(&f, &src, "{\"url\": \"BASE/echo\", \"credential\": \"cred\", "
                                        "\"headers\": {\"authorization\": \"Bearer params\", \"X-A\": \"1\"}}");
    ASSERT_STR_EQ(str_at(o, "body.headers.authorization"), "Bearer tok-123");
    ASSERT_STR_EQ(str_at(o, "body.headers.x-a"), "1");
    fix_free(&f);
    fake_free(&src);

    fake_init(&src, "http.header", "{\"header_name\": \"X-Api-Key\"}", "value", "k-456", NULL, NULL);
    o = run_cred(&f, &src, "{\"url\": \"BASE/echo\", \"credential\": \"cred\", \"headers\": {\"X-API-KEY\": \"p\"}}");
    ASSERT_STR_EQ(str_at(o, "body.headers.x-api-key"), "k-456");
    fix_free(&f);
    fake_free(&src);

    fake_init(&src, "http.basic", "{\"username\": \"al\"}", "password", "pw:1", NULL, NULL);
    o = run_cred(&f, &src, "{\"url\": \"BASE/echo\", \"credential\": \"cred\"}");
    ASSERT_STR_EQ(str_at(o, "body.headers.authorization"), "Basic YWw6cHc6MQ==");
    fix_free(&f);
    fake_free(&src);

    fake_init(&src, "http.query", "{\"param_name\": \"key\"}", "value", "a b&c=d", NULL, NULL);
    o = run_cred(&f, &src, "{\"url\": \"BASE/echo?x=1\", \"credential\": \"cred\", "
                           "\"query\": {\"key\": \"params\", \"page\": 2}}");
    ASSERT_STR_EQ(str_at(o, "body.query.key"), "a b&c=d");
    ASSERT_STR_EQ(str_at(o, "body.query.page"), "2");
    ASSERT_STR_EQ(str_at(o, "body.query.x"), "1");
    fix_free(&f);
    fake_free(&src);

    fake_init(&src, "oauth2.client", "{}", "client_secret", "cs", "access_token", "at-789");
    o = run_cred(&f, &src, "{\"url\": \"BASE/echo\", \"credential\": \"cred\"}");
    ASSERT_STR_EQ(str_at(o, "body.headers.authorization"), "Bearer at-789");
    ASSERT_EQ(src.refreshes, 0);
    fix_free(&f);
    fake_free(&src);
}

TEST(credential_refused)
{
    static const struct {
        const char *type, *fields, *key, *value, *want;
        bool retryable;
    } cases[] = {
        { "generic", "{}", "k", "v", "credential 'cred' is of type generic, which http.request cannot apply", false },
        { "webhook.hmac", "{}", "secret", "v", "credential 'cred' is of type webhook.hmac, which http.request", false },
        { "http.header", "{}", "value", "v", "credential 'cred' (http.header) has no valid header_name", false },
        { "http.header", "{\"header_name\": \"X A\"}", "value", "v", "has no valid header_name", false },
        { "http.header", "{\"header_name\": \"X-A\"}", "value", "v\r\nX-Injected: 1", "its value contains CR, LF or NUL",
          false },
        { "http.bearer", "{}", "other", "v", "credential 'cred' (http.bearer) has no token", false },
        { "http.basic", "{}", "password", "v", "credential 'cred' (http.basic) has no username", false },
        { "http.query", "{}", "value", "v", "credential 'cred' (http.query) has no param_name", false },
    };
    fake_src_t src;
    fix_t f;
    server_start();
    for (size_t i = 0; i < GL_NELEM(cases); i++) {
        fake_init(&src, cases[i].type, cases[i].fields, cases[i].key, cases[i].value, NULL, NULL);
        fix_init(&f, "{\"url\": \"BASE/json/refused\", \"credential\": \"cred\"}", NULL);
        fix_cred(&f, &src);
        ASSERT(run(&f) != GL_OK);
        ASSERT_CONTAINS(f.c.error, cases[i].want);
        ASSERT_EQ(f.c.retryable, cases[i].retryable);
        fix_free(&f);
        fake_free(&src);
    }
    /* the source's answer: not found, or not now (retryable) */
    fake_init(&src, "http.bearer", "{}", "token", "t", NULL, NULL);
    fix_init(&f, "{\"url\": \"BASE/json/refused\", \"credential\": \"other\"}", NULL);
    fix_cred(&f, &src);
    ASSERT(run(&f) != GL_OK);
    ASSERT_STR_EQ(f.c.error, "credential 'other' not found");
    ASSERT(!f.c.retryable);
    fix_free(&f);
    src.get_rc = GL_UNAVAILABLE;
    fix_init(&f, "{\"url\": \"BASE/json/refused\", \"credential\": \"cred\"}", NULL);
    fix_cred(&f, &src);
    ASSERT(run(&f) != GL_OK);
    ASSERT_STR_EQ(f.c.error, "credential 'cred' cannot be read now");
    ASSERT(f.c.retryable);
    fix_free(&f);
    fake_free(&src);
    expect_fail("{\"url\": \"BASE/echo\", \"credential\": 5}", "credential must be the name of a credential", false);
    /* none of them reached the server */
    fix_init(&f, "{\"url\": \"BASE/json/refused\"}", NULL);
    ASSERT_EQ(run(&f), GL_OK);
    ASSERT_EQ(int_at(out(&f, 0), "body.n"), 1);
    fix_free(&f);
}

TEST(credential_oauth2_401_refreshed_once)
{
    fake_src_t src;
    fix_t f;
    server_start();
    fake_init(&src, "oauth2.code", "{}", "access_token", "old-token", "refresh_token", "rt");
    /* the API keeps refusing: one refresh, one more try, then the 401 stands */
    json_object *o = run_cred(&f, &src, "{\"url\": \"BASE/status/401\", \"credential\": \"cred\", "
                                        "\"fail_on_status\": false}");
    ASSERT_EQ(int_at(o, "status"), 401);
    ASSERT_EQ(src.refreshes, 1);
    ASSERT_STR_EQ(src.used, "old-token");
    fix_free(&f);
    /* not for other types */
    fake_free(&src);
    fake_init(&src, "http.bearer", "{}", "token", "t", NULL, NULL);
    fix_init(&f, "{\"url\": \"BASE/status/401\", \"credential\": \"cred\"}", NULL);
    fix_cred(&f, &src);
    ASSERT(run(&f) != GL_OK);
    ASSERT_CONTAINS(f.c.error, "HTTP 401 from GET");
    ASSERT_EQ(src.refreshes, 0);
    fix_free(&f);
    fake_free(&src);
}

/* A request with a credential follows redirects on its own origin only. */
TEST(credential_redirect_stays_on_origin)
{
    fake_src_t src;
    fix_t f;
    char params[512];
    int port;
    server_start();
    ASSERT_EQ(sscanf(base, "http://127.0.0.1:%d", &port), 1);
    fake_init(&src, "http.bearer", "{}", "token", "tok", NULL, NULL);
    json_object *o = run_cred(&f, &src, "{\"url\": \"BASE/redirect/2\", \"credential\": \"cred\"}");
    ASSERT_STR_EQ(str_at(o, "body.headers.authorization"), "Bearer tok");
    fix_free(&f);
    /* the same address by another name is another origin */
    snprintf(params, sizeof params,
             "{\"url\": \"BASE/redirect-to?url=http://localhost:%d/echo\", \"credential\": \"cred\"}", port);
    fix_init(&f, params, NULL);
    fix_cred(&f, &src);
    ASSERT(run(&f) != GL_OK);
    ASSERT_CONTAINS(f.c.error, "was redirected to another origin");
    ASSERT(!f.c.retryable);
    fix_free(&f);
    fake_free(&src);
    /* without a credential it is followed */
    snprintf(params, sizeof params, "{\"url\": \"BASE/redirect-to?url=http://127.0.0.1:%d/json/other\"}", port);
    fix_init(&f, params, NULL);
    ASSERT_EQ(run(&f), GL_OK);
    ASSERT_EQ(int_at(out(&f, 0), "body.n"), 1);
    fix_free(&f);
}

/* ---- items, errors, heartbeats ---- */

TEST(empty_input)
{
    fix_t f;
    server_start();
    fix_init(&f, "{\"url\": \"BASE/json/e\"}", "[]");
    ASSERT_EQ(run(&f), GL_OK);
    ASSERT_EQ(json_object_array_length(f.c.out[0]), 0);
    fix_free(&f);
    fix_init(&f, "{\"url\": \"BASE/json/e\"}", NULL);
    ASSERT_EQ(run(&f), GL_OK);
    ASSERT_EQ(int_at(out(&f, 0), "body.n"), 1);
    fix_free(&f);
}

TEST(one_item_fails_all)
{
    fix_t f;
    server_start();
    fix_init(&f, "{\"url\": \"BASE/status/{{ $json.code }}\"}", "[{\"code\": 200}, {\"code\": 404}, {\"code\": 200}]");
    ASSERT(run(&f) != GL_OK);
    ASSERT_CONTAINS(f.c.error, "HTTP 404 from GET");
    ASSERT_CONTAINS(f.c.error, "/status/404");
    fix_free(&f);
}

TEST(connection_refused_retryable)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof sa;
    ASSERT(s >= 0);
    ASSERT(bind(s, (struct sockaddr *)&sa, sizeof sa) == 0);
    ASSERT(getsockname(s, (struct sockaddr *)&sa, &len) == 0);
    snprintf(base, sizeof base, "http://127.0.0.1:%d", ntohs(sa.sin_port)); /* bound, not listening */
    expect_fail("{\"url\": \"BASE/echo\"}", "failed", true);
    close(s);
    curl_global_cleanup();
}

TEST(heartbeat_between_items)
{
    fix_t f;
    server_start();
    fix_init(&f, "{\"url\": \"BASE/echo\"}", "[{}, {}, {}]");
    fix_heartbeat(&f, GL_OK);
    ASSERT_EQ(run(&f), GL_OK);
    ASSERT_EQ(json_object_array_length(f.c.out[0]), 3);
    ASSERT(f.beats >= 2);
    fix_free(&f);

    fix_init(&f, "{\"url\": \"BASE/json/hb\"}", "[{}, {}]");
    fix_heartbeat(&f, GL_ERR);
    ASSERT(run(&f) != GL_OK);
    ASSERT_CONTAINS(f.c.error, "lease");
    fix_free(&f);
}

TEST(heartbeat_during_transfer)
{
    fix_t f;
    server_start();
    /* a lease that cannot be renewed stops a long transfer at the first beat (~5 s) */
    fix_init(&f, "{\"url\": \"BASE/slow/9000\"}", NULL);
    fix_heartbeat(&f, GL_ERR);
    int64_t t0 = gl_now_ms();
    ASSERT(run(&f) != GL_OK);
    int64_t took = gl_now_ms() - t0;
    /* (once seen failing in CI after about 2 s: the error says how) */
    if (took < 4500 || took >= 8000)
        FAIL_AT("the transfer ended after %lld ms, not at the first beat: %s", (long long)took, f.c.error);
    ASSERT_CONTAINS(f.c.error, "lease could not be renewed");
    ASSERT_EQ(f.beats, 1);
    fix_free(&f);
}

/* ---- the outbound guard (SSRF) ---- */

#define UNIFORM_FAILURE                                                                                         \
    "failed: could not connect (unknown host, connection refused, unreachable, or an internal address not "  \
    "allowed by http.allow_private)"

/* Runs GET url with allow (NULL: public addresses only); GL_OK or not, the
 * error in err[0..512), the output item's body.n (requests the server saw
 * for the path, this one included) in *n when it succeeded. */
static int get_with(const char *url, const char *allow, char *err, int64_t *n, bool *retryable)
{
    fix_t f;
    gl_ipnet_list_t list;
    gl_err_t perr;
    char params[512];
    int rc;

    ASSERT(snprintf(params, sizeof params, "{\"url\": \"%s\", \"timeout_ms\": 10000}", url) < (int)sizeof params);
    fix_init(&f, params, NULL);
    if (allow) {
        ASSERT_EQ(gl_ipnet_parse_list(allow, &list, &perr), GL_OK);
        f.run.limits.allow_private = &list;
    } else {
        f.run.limits.allow_private = NULL;
    }
    rc = run(&f);
    snprintf(err, 512, "%s", f.c.error);
    if (retryable)
        *retryable = f.c.retryable;
    if (rc == GL_OK && n)
        *n = int_at(out(&f, 0), "body.n");
    fix_free(&f);
    return rc;
}

/* The default refuses every spelling of a loopback address, and the same
 * URL works once the allow list names the address: the guard, not a closed
 * port, made the difference — and the refused attempt never reached the
 * server (its count is 1 on the allowed run). */
TEST(ssrf_default_refuses_every_spelling)
{
    char url6[64], url[160], err[512];
    int port4, port6;
    int64_t n = 0;

    server_start();
    server_start_at("::1", url6);
    ASSERT_EQ(sscanf(base, "http://127.0.0.1:%d", &port4), 1);
    ASSERT_EQ(sscanf(url6, "http://[::1]:%d", &port6), 1);
    static const struct {
        const char *host; /* %s in the URL */
        bool v6;          /* the server on ::1 */
    } rows[] = {
        { "127.0.0.1", false },        { "127.1", false },          { "0x7f000001", false },
        { "2130706433", false },       { "017700000001", false },   { "0177.0.0.1", false },
        { "0x7f.1", false },           { "localhost", false },      { "[::ffff:127.0.0.1]", false },
        { "[::ffff:7f00:1]", false },  { "[::1]", true },           { "[0:0:0:0:0:0:0:1]", true },
    };
    for (size_t i = 0; i < GL_NELEM(rows); i++) {
        ASSERT(snprintf(url, sizeof url, "http://%s:%d/json/spelling-%zu", rows[i].host,
                        rows[i].v6 ? port6 : port4, i) < (int)sizeof url);
        if (get_with(url, NULL, err, NULL, NULL) == GL_OK)
            FAIL_AT("%s was not refused", url);
        ASSERT_CONTAINS(err, UNIFORM_FAILURE);
        if (get_with(url, "127.0.0.0/8, ::1/128", err, &n, NULL) != GL_OK)
            FAIL_AT("%s with the allow list: %s", url, err);
        if (n != 1)
            FAIL_AT("%s: the server saw %lld requests, expected 1 (the refused one must not reach it)", url,
                    (long long)n);
    }
    /* forms that carry 127.0.0.1 but reach nothing here: refused all the same */
    static const char *const others[] = { "[::127.0.0.1]", "[64:ff9b::7f00:1]", "[::]", "0.0.0.0",
                                          "[2002:7f00:1::1]", "169.254.169.254", "[fd00:ec2::254]" };
    for (size_t i = 0; i < GL_NELEM(others); i++) {
        ASSERT(snprintf(url, sizeof url, "http://%s:%d/", others[i], port4) < (int)sizeof url);
        if (get_with(url, NULL, err, NULL, NULL) == GL_OK)
            FAIL_AT("%s was not refused", url);
        ASSERT_CONTAINS(err, UNIFORM_FAILURE);
    }
}

/* Checked again on every redirect: an allowed server that redirects to a
 * loopback address not in the list gets nowhere. */
TEST(ssrf_redirect_refused)
{
    char url6[64], url[256], err[512];
    int port6;
    int64_t n = 0;

    server_start();
    server_start_at("::1", url6);
    ASSERT_EQ(sscanf(url6, "http://[::1]:%d", &port6), 1);
    static const char *const targets[] = { "[::1]", "localhost", "[::ffff:127.0.0.1]" };
    for (size_t i = 0; i < GL_NELEM(targets); i++) {
        char to[96];
        ASSERT(snprintf(to, sizeof to, "http://%s:%d/json/r%zu", targets[i], port6, i) < (int)sizeof to);
        ASSERT(snprintf(url, sizeof url, "%s/redirect-to?url=%s", base, to) < (int)sizeof url);
        if (get_with(url, "127.0.0.1/32", err, NULL, NULL) == GL_OK)
            FAIL_AT("redirect to %s was not refused", to);
        ASSERT_CONTAINS(err, UNIFORM_FAILURE);
    }
    /* the first two reach the server on ::1 once it is allowed, and it saw them once */
    for (size_t i = 0; i < 2; i++) {
        char to[96];
        ASSERT(snprintf(to, sizeof to, "http://%s:%d/json/r%zu", targets[i], port6, i) < (int)sizeof to);
        ASSERT(snprintf(url, sizeof url, "%s/redirect-to?url=%s", base, to) < (int)sizeof url);
        if (get_with(url, "127.0.0.1/32, ::1/128", err, &n, NULL) != GL_OK)
            FAIL_AT("redirect to %s with ::1 allowed: %s", to, err);
        ASSERT_EQ(n, 1);
    }
}

/* The allow list lets exactly its ranges through. */
TEST(ssrf_allow_list_exact)
{
    char url2[64], url[128], err[512];
    int64_t n = 0;

    server_start();
    server_start_at("127.0.0.2", url2);
    snprintf(url, sizeof url, "%s/json/a", base);
    ASSERT_EQ(get_with(url, "127.0.0.1/32", err, &n, NULL), GL_OK);
    ASSERT(get_with(url, "127.0.0.2/32", err, NULL, NULL) != GL_OK);
    ASSERT(get_with(url, "127.0.0.0/31, 127.0.0.1/32", err, NULL, NULL) == GL_OK);
    ASSERT(get_with(url, "10.0.0.0/8, 192.168.0.0/16, 169.254.0.0/16, fc00::/7", err, NULL, NULL) != GL_OK);
    snprintf(url, sizeof url, "%s/json/b", url2);
    ASSERT(get_with(url, "127.0.0.1/32", err, NULL, NULL) != GL_OK);
    ASSERT_CONTAINS(err, UNIFORM_FAILURE);
    ASSERT(get_with(url, "127.0.0.0/31", err, NULL, NULL) != GL_OK); /* .0 and .1 */
    ASSERT_EQ(get_with(url, "127.0.0.2/32", err, &n, NULL), GL_OK);
    ASSERT_EQ(n, 1);
    ASSERT_EQ(get_with(url, "127.0.0.0/30", err, &n, NULL), GL_OK);
    ASSERT_EQ(n, 2);
    ASSERT_EQ(get_with(url, "::ffff:127.0.0.0/120", err, &n, NULL), GL_OK); /* the mapped form of 127.0.0.0/24 */
    ASSERT_EQ(n, 3);
}

/* A closed port, an address the guard refuses (a server listens there),
 * a name that does not resolve and a refused redirect fail with one message
 * and one retry rule: a workflow cannot tell them apart to map a network. */
TEST(ssrf_errors_uniform)
{
    char url2[64], url[256], first[256], want[512], err[512];
    bool retryable;

    server_start();
    server_start_at("127.0.0.2", url2);
    for (int i = 0; i < 4; i++) {
        switch (i) {
        case 0: snprintf(url, sizeof url, "http://127.0.0.1:1/x"); break;          /* closed port */
        case 1: snprintf(url, sizeof url, "%s/x", url2); break;                   /* refused, but listening */
        case 2: snprintf(url, sizeof url, "http://no-such-host.invalid/x"); break; /* no such name */
        default: snprintf(url, sizeof url, "%s/redirect-to?url=%s/x", base, url2); break;
        }
        /* the message names the first URL, without its query */
        snprintf(first, sizeof first, "%.*s", (int)strcspn(url, "?"), url);
        snprintf(want, sizeof want, "GET %s " UNIFORM_FAILURE, first);
        retryable = false;
        ASSERT(get_with(url, "127.0.0.1/32", err, NULL, &retryable) != GL_OK);
        ASSERT_STR_EQ(err, want);
        ASSERT(retryable);
    }
}

/* No proxy from the environment: it would connect on our behalf, past the
 * guard. With http_proxy pointing at a closed port the request still works
 * (it goes direct). */
TEST(no_proxy_from_environment)
{
    char url[128], err[512];
    int64_t n = 0;

    server_start();
    setenv("http_proxy", "http://127.0.0.1:1", 1);
    setenv("HTTPS_PROXY", "http://127.0.0.1:1", 1);
    setenv("ALL_PROXY", "http://127.0.0.1:1", 1);
    setenv("all_proxy", "http://127.0.0.1:1", 1);
    snprintf(url, sizeof url, "%s/json/direct", base);
    if (get_with(url, "127.0.0.1/32", err, &n, NULL) != GL_OK)
        FAIL_AT("went through the environment's proxy: %s", err);
    ASSERT_EQ(n, 1);
}

/* ---- the credential test's request (gl_engine_http_probe) ---- */

/* Probes BASE+path with the fake credential; GL_OK expected. */
static gl_http_probe_t probe(fake_src_t *src, const char *method, const char *path, const gl_ipnet_list_t *allow)
{
    gl_http_probe_t p;
    gl_err_t err;
    char url[256];
    gl_err_clear(&err);
    snprintf(url, sizeof url, "%s%s", base, path);
    ASSERT_EQ(gl_engine_http_probe(&src->cred, method, url, allow, 0, &p, &err), GL_OK);
    return p;
}

TEST(probe_statuses_and_messages)
{
    fake_src_t src;
    gl_err_t err;
    char want[300];
    server_start();
    ASSERT_EQ(gl_ipnet_parse_list("127.0.0.1/32", &allow_test_server, &err), GL_OK);
    fake_init(&src, "http.query", "{\"param_name\": \"key\"}", "value", "qs-secret-1", NULL, NULL);
    gl_http_probe_t p = probe(&src, "GET", "/echo?a=1#f", &allow_test_server);
    ASSERT(p.ok);
    ASSERT_EQ(p.status, 200);
    snprintf(want, sizeof want, "HTTP 200 from GET %s/echo", base);
    ASSERT_STR_EQ(p.message, want);
    snprintf(want, sizeof want, "%s/echo", base);
    ASSERT_STR_EQ(p.safe_url, want);
    fake_free(&src);

    fake_init(&src, "http.bearer", "{}", "token", "tok-1", NULL, NULL);
    p = probe(&src, "HEAD", "/status/401", &allow_test_server);
    ASSERT(!p.ok);
    ASSERT_EQ(p.status, 401);
    snprintf(want, sizeof want, "HTTP 401 from HEAD %s/status/401", base);
    ASSERT_STR_EQ(p.message, want);
    p = probe(&src, "POST", "/status/204", &allow_test_server);
    ASSERT(p.ok);
    ASSERT_EQ(p.status, 204);
    /* a long answer: read up to the cap, its status counts */
    p = probe(&src, "GET", "/stream/3000000", &allow_test_server);
    ASSERT(p.ok);
    ASSERT_EQ(p.status, 200);
    /* redirects: on the origin followed, elsewhere (localhost is another host) not */
    p = probe(&src, "GET", "/redirect/2", &allow_test_server);
    ASSERT_EQ(p.status, 200);
    snprintf(want, sizeof want, "/redirect-to?url=http://localhost:%s/echo", strrchr(base, ':') + 1);
    p = probe(&src, "GET", want, &allow_test_server);
    ASSERT(!p.ok);
    ASSERT_CONTAINS(p.message, "was redirected to another origin");
    fake_free(&src);
}

TEST(probe_refused_and_bad_input)
{
    fake_src_t src;
    gl_http_probe_t p;
    gl_err_t err;
    server_start();
    fake_init(&src, "http.bearer", "{}", "token", "tok-1", NULL, NULL);
    /* without the allow list the test server is an internal address */
    p = probe(&src, "GET", "/echo", NULL);
    ASSERT(!p.ok);
    ASSERT_EQ(p.status, 0);
    ASSERT_CONTAINS(p.message, "failed: could not connect (unknown host, connection refused, unreachable, or an "
                               "internal address not allowed by http.allow_private)");
    static const char *const bad_urls[] = { "", "ftp://127.0.0.1/x", "/echo", "http://", "127.0.0.1/echo" };
    for (size_t i = 0; i < GL_NELEM(bad_urls); i++) {
        gl_err_clear(&err);
        ASSERT_EQ(gl_engine_http_probe(&src.cred, "GET", bad_urls[i], NULL, 0, &p, &err), GL_INVALID);
        ASSERT_STR_EQ(err.field, "url");
        ASSERT_EQ(gl_engine_http_url_check(bad_urls[i], &err), GL_INVALID);
    }
    gl_err_clear(&err);
    ASSERT_EQ(gl_engine_http_probe(&src.cred, "DELETE", base, NULL, 0, &p, &err), GL_INVALID);
    ASSERT_STR_EQ(err.field, "method");
    fake_free(&src);
    /* a credential http.request cannot apply: said, nothing sent */
    fake_init(&src, "generic", "{}", "k", "v", NULL, NULL);
    p = probe(&src, "GET", "/json/probe-generic", NULL);
    ASSERT(!p.ok);
    ASSERT_EQ(p.status, 0);
    ASSERT_CONTAINS(p.message, "credential 'cred' is of type generic, which http.request cannot apply");
    fake_free(&src);
    fake_init(&src, "http.header", "{\"header_name\": \"X-A\"}", "value", "v\r\nX-Injected: 1", NULL, NULL);
    p = probe(&src, "GET", "/json/probe-generic", NULL);
    ASSERT_CONTAINS(p.message, "its value contains CR, LF or NUL");
    fake_free(&src);
}

TEST_MAIN()
