/*
 * wait.c: a synchronous webhook call waiting for the executor.
 *
 * glyphic-fcgi queues the execution with the SHA-256 of a secret made for
 * the call and answers nginx with X-Accel-Redirect to the internal
 * location /_glyphic/wait/<execution id>?secret=…&timeout_ms=…, which nginx
 * proxies here (as GET, without the body). This side listens on the
 * execution's channel, then reads its state with hook_result (the secret
 * is the capability), and answers once it ended — what the workflow
 * responded (engine.h's webhook answers, the rule glyphic-fcgi's direct path answers with),
 * or 504 when timeout_ms passes first, naming the execution, which goes on.
 */
#include "server.h"

#include "crypto.h"
#include "filestore.h"

#include "engine.h"
#include "log.h"

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char q_result[] =
    "SELECT org_id, status, output::text, response::text, error::text FROM hook_result($1, $2::bytea)";
/* the file the execution answered with, checked to be its org's (sql/023) */
static const char q_file[] = "SELECT org_id, sha256 FROM hook_answer_file($1, $2::bytea)";

#define MAX_TIMEOUT_MS 3600000
/* the outcome is read again while the call waits, after RECHECK_S, then
 * twice as long each time up to RECHECK_MAX_S: an end whose announcement
 * was lost (the executor killed between recording it and announcing it,
 * sql/041) is answered that late at most, and ten thousand long waits
 * cost a few hundred reads a second, not thousands */
#define RECHECK_S 5
#define RECHECK_MAX_S 60

typedef struct {
    gl_server_t *srv;
    struct evhttp_request *req;
    gl_ev_client_t client;
    struct event *timer;
    struct event *recheck;
    int recheck_s; /* the next re-read's delay */
    gl_pg_job_t *job;
    gl_pg_sub_t sub;
    char id[GL_UUID_LEN + 1];
    char secret[64];
    char org_key[48]; /* set once counted under its org */
    bool subscribed, dirty;
} wait_t;

static void wait_free(wait_t *w)
{
    gl_server_t *srv = w->srv;
    gl_ev_client_release(&w->client);
    gl_pg_cancel(w->job);
    if (w->subscribed)
        gl_pg_unsubscribe(srv->pg, &w->sub);
    if (w->timer)
        event_free(w->timer);
    if (w->recheck)
        event_free(w->recheck);
    if (w->org_key[0])
        gl_caps_put(srv->caps, w->org_key);
    srv->waits--;
    free(w);
}

static void on_gone(void *ud)
{
    wait_t *w = ud;
    w->req = NULL;
    wait_free(w);
}

/* A file answer (flow.respond, respond_with binary): nginx sends the
 * content the database says the execution answered with (file: the row of
 * hook_answer_file, none when it is not a file of the execution's org),
 * from its internal location. */
static void send_file(wait_t *w, const gl_answer_t *a, const PGresult *file)
{
    char rel[GL_FILESTORE_REL_LEN + 1], accel[sizeof "/_glyphic/files/" + GL_FILESTORE_REL_LEN];
    if (!file || PQntuples(file) != 1 ||
        gl_filestore_rel_path(PQgetvalue(file, 0, 0), PQgetvalue(file, 0, 1), rel, sizeof rel) != GL_OK) {
        gl_log(GL_LOG_WARN, "execution %s answered with file %s, which is not a file of its org", w->id,
               a->file_id ? a->file_id : "?");
        gl_ev_error(w->req, 500, "workflow_failed",
                    "the workflow answered with a file that is not stored for its organization (execution %s)",
                    w->id);
        return;
    }
    struct evkeyvalq *h = evhttp_request_get_output_headers(w->req);
    snprintf(accel, sizeof accel, "/_glyphic/files/%s", rel);
    evhttp_add_header(h, "X-Accel-Redirect", accel);
    for (int i = 0; i < a->n_headers; i++)
        if (strcasecmp(a->names[i], "content-disposition") == 0)
            evhttp_add_header(h, "Content-Disposition", a->values[i]);
    evhttp_add_header(h, "Content-Type", a->content_type ? a->content_type : "application/octet-stream");
    evhttp_send_reply(w->req, 200, NULL, NULL);
}

/* Answers with the execution's outcome and frees w. */
static void answer(wait_t *w, const PGresult *r, const PGresult *file)
{
    gl_ev_client_release(&w->client);
    json_object *out = PQgetisnull(r, 0, 2) ? NULL : json_tokener_parse(PQgetvalue(r, 0, 2));
    json_object *resp = PQgetisnull(r, 0, 3) ? NULL : json_tokener_parse(PQgetvalue(r, 0, 3));
    json_object *error = PQgetisnull(r, 0, 4) ? NULL : json_tokener_parse(PQgetvalue(r, 0, 4));
    gl_answer_t a;
    gl_answer_build(&a, w->id, PQgetvalue(r, 0, 1), out, resp, error, w->srv->cfg->http_respond_allow_scripts);
    struct evkeyvalq *h = evhttp_request_get_output_headers(w->req);
    evhttp_add_header(h, "X-Glyphic-Execution", w->id);
    evhttp_add_header(h, "Content-Security-Policy", "sandbox");
    if (!a.failed)
        evhttp_add_header(h, "Cache-Control", "no-store"); /* as glyphic-fcgi's answers (gl_ev_error sets its own) */
    if (a.failed) {
        gl_ev_error(w->req, 500, "workflow_failed", "%s", a.message);
    } else if (a.file) {
        send_file(w, &a, file);
    } else {
        for (int i = 0; i < a.n_headers; i++)
            evhttp_add_header(h, a.names[i], a.values[i]);
        evhttp_add_header(h, "Content-Type", a.content_type ? a.content_type : "application/json");
        struct evbuffer *b = evbuffer_new();
        if (b)
            evbuffer_add(b, a.body, a.body_len);
        evhttp_send_reply(w->req, a.status, NULL, b);
        if (b)
            evbuffer_free(b);
    }
    json_object_put(out);
    json_object_put(resp);
    json_object_put(error);
    w->req = NULL;
    wait_free(w);
}

static void fail(wait_t *w, int status, const char *code, const char *msg)
{
    gl_ev_client_release(&w->client);
    if (w->req) {
        evhttp_add_header(evhttp_request_get_output_headers(w->req), "X-Glyphic-Execution", w->id);
        gl_ev_error(w->req, status, code, "%s", msg);
    }
    w->req = NULL;
    wait_free(w);
}

static void ask(wait_t *w);

static void on_result(void *ud, PGresult *const *res, int n, const char *error)
{
    wait_t *w = ud;
    w->job = NULL;
    char msg[200];
    if (error || !res || n != 2 || !res[0]) {
        gl_log(GL_LOG_WARN, "wait %s: reading the outcome failed: %s", w->id, error ? error : "no result");
        snprintf(msg, sizeof msg, "the outcome of execution %s could not be read; it goes on", w->id);
        fail(w, 503, "database_unavailable", msg);
        return;
    }
    const PGresult *r = res[0];
    if (PQntuples(r) != 1) {
        fail(w, 404, "not_found", "no such webhook call");
        return;
    }
    if (!w->org_key[0]) {
        char key[48];
        snprintf(key, sizeof key, "wo:%s", PQgetvalue(r, 0, 0));
        if (!gl_caps_take(w->srv->caps, key, w->srv->cfg->events_max_waits_per_org)) {
            snprintf(msg, sizeof msg, "too many calls wait for this org's workflows; execution %s goes on", w->id);
            fail(w, 429, "too_many_waits", msg);
            return;
        }
        snprintf(w->org_key, sizeof w->org_key, "%s", key);
    }
    const char *status = PQgetvalue(r, 0, 1);
    if (strcmp(status, "succeeded") == 0 || strcmp(status, "failed") == 0 || strcmp(status, "canceled") == 0) {
        answer(w, r, res[1]);
        return;
    }
    if (w->dirty) {
        w->dirty = false;
        ask(w);
    }
}

static void ask(wait_t *w)
{
    if (w->job) {
        w->dirty = true;
        return;
    }
    gl_pg_stmt_t st[2] = { { q_result, 2, { w->id, w->secret } }, { q_file, 2, { w->id, w->secret } } };
    w->job = gl_pg_submit(w->srv->pg, st, 2, on_result, w);
    if (!w->job)
        fail(w, 503, "unavailable", "out of memory");
}

static void on_recheck(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    wait_t *w = arg;
    w->recheck_s = w->recheck_s * 2 < RECHECK_MAX_S ? w->recheck_s * 2 : RECHECK_MAX_S;
    struct timeval next = { w->recheck_s, 0 };
    (void)evtimer_add(w->recheck, &next); /* (a failure only leaves the announcement and the timeout) */
    ask(w);
}

static void on_ready(gl_pg_sub_t *sub)
{
    ask((wait_t *)((char *)sub - offsetof(wait_t, sub)));
}

static void on_notify(gl_pg_sub_t *sub, const char *payload)
{
    if (strcmp(payload, "succeeded") == 0 || strcmp(payload, "failed") == 0 || strcmp(payload, "canceled") == 0)
        ask((wait_t *)((char *)sub - offsetof(wait_t, sub)));
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    wait_t *w = arg;
    char msg[200];
    if (w->srv->stopping)
        snprintf(msg, sizeof msg, "the server is restarting; execution %s goes on", w->id);
    else
        snprintf(msg, sizeof msg, "the workflow did not respond in time; execution %s goes on", w->id);
    fail(w, w->srv->stopping ? 503 : 504, w->srv->stopping ? "unavailable" : "timeout", msg);
}

void gl_wait_handle(gl_server_t *srv, struct evhttp_request *req, const char *execution_id)
{
    char *secret = gl_ev_query(req, "secret"), *timeout = gl_ev_query(req, "timeout_ms");
    int64_t timeout_ms = 0;
    bool ok = gl_is_uuid(execution_id) && secret && strlen(secret) < 64 && timeout &&
              gl_parse_i64(timeout, 1, MAX_TIMEOUT_MS, &timeout_ms) == GL_OK;
    if (!ok) {
        free(secret);
        free(timeout);
        gl_ev_error(req, 400, "invalid", "a wait needs an execution id, its secret and timeout_ms");
        return;
    }
    free(timeout);
    if (srv->stopping || srv->waits >= srv->cfg->events_max_waits) {
        free(secret);
        evhttp_add_header(evhttp_request_get_output_headers(req), "X-Glyphic-Execution", execution_id);
        gl_ev_error(req, srv->stopping ? 503 : 429, srv->stopping ? "unavailable" : "too_many_waits",
                    "too many calls are waiting; execution %s goes on", execution_id);
        return;
    }
    wait_t *w = calloc(1, sizeof *w);
    if (!w) {
        free(secret);
        gl_ev_error(req, 503, "unavailable", "out of memory");
        return;
    }
    srv->waits++;
    w->srv = srv;
    w->req = req;
    snprintf(w->id, sizeof w->id, "%s", execution_id);
    for (char *p = w->id; *p; p++)
        if (*p >= 'A' && *p <= 'F')
            *p = (char)(*p + 32);
    snprintf(w->secret, sizeof w->secret, "%s", secret);
    free(secret);
    snprintf(w->sub.channel, sizeof w->sub.channel, "gx_%s", w->id);
    w->sub.ready = on_ready;
    w->sub.notify = on_notify;
    w->timer = evtimer_new(srv->base, on_timeout, w);
    w->recheck = evtimer_new(srv->base, on_recheck, w);
    w->recheck_s = RECHECK_S;
    struct timeval tv = { (time_t)(timeout_ms / 1000), (suseconds_t)(timeout_ms % 1000) * 1000 };
    struct timeval every = { RECHECK_S, 0 };
    if (!w->timer || !w->recheck || evtimer_add(w->timer, &tv) != 0 || evtimer_add(w->recheck, &every) != 0 ||
        !gl_ev_client_watch(&w->client, srv, req, on_gone, w)) {
        fail(w, 503, "unavailable", "out of memory");
        return;
    }
    w->subscribed = true;
    gl_pg_subscribe(srv->pg, &w->sub); /* on_ready asks */
}
