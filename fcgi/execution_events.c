/*
 * execution_events.c: GET /api/executions/:id/events — live progress as
 * server-sent events.
 *
 *   event: step.started   data {run_index, node_id, attempt}      (no id)
 *   id: <seq>
 *   event: step           data {seq, node_id, run_index, attempt, status, error, started_at, finished_at, items}
 *   event: execution      data {id, status, error}                (last; the stream ends)
 *
 * Finished steps come from execution_steps, in seq order, so a client that
 * reconnects with Last-Event-ID (or ?last_event_id=) gets every step after
 * the last it saw. The handler LISTENs on the execution's channel before it
 * first reads, so nothing recorded in between is missed; the executor
 * announces steps only while someone watches (executions.watchers). Each
 * read runs in a transaction of its own that authenticates again, so row
 * level security applies to every read. A stream lives at most
 * executions.events_max_seconds; a comment line every 15 s keeps proxies
 * from timing it out. The worker is busy for the stream's life: size
 * fcgi.workers for the number of editors watching at once.
 */
#include "execution_events.h"

#include "log.h"
#include "session.h"

#include <poll.h>
#include <stdio.h>
#include <string.h>

static const gl_stmt_t q_watch = {
    .name = "ev_watch",
    .sql = "SELECT e.status, glyphic.exec_watch(e.id, $2::int) FROM executions e WHERE e.id = $1",
    .nparams = 2, .rows = true,
};
static const gl_stmt_t q_unwatch = {
    .name = "ev_unwatch", .sql = "SELECT glyphic.exec_watch($1::uuid, -1)", .nparams = 1, .rows = true,
};
/* steps after a seq, and the execution's state (one row per step, or one
 * row with a NULL seq when there is none) */
static const gl_stmt_t q_steps = {
    .name = "ev_steps",
    .sql = "SELECT e.status, e.error::text, s.seq, json_build_object('seq', s.seq, 'node_id', s.node_id, "
           "'run_index', s.run_index, 'attempt', s.attempt, 'status', s.status, 'error', s.error, "
           "'started_at', s.started_at, 'finished_at', s.finished_at, 'items', "
           "(SELECT json_object_agg(k, jsonb_array_length(v)) FROM jsonb_each(s.output) AS o(k, v) "
           "WHERE jsonb_typeof(v) = 'array'))::text, s.run_index, s.attempt, s.node_id "
           "FROM executions e LEFT JOIN execution_steps s ON s.execution_id = e.id AND s.seq > $2::int "
           "WHERE e.id = $1 ORDER BY s.seq LIMIT 1000",
    .nparams = 2, .rows = true,
};

static int put(gl_req_t *req, const char *s, size_t n)
{
    if (FCGX_PutStr(s, (int)n, req->fcgx->out) != (int)n || FCGX_FFlush(req->fcgx->out) != 0)
        return GL_ERR;
    return GL_OK;
}

/* The last attempt announced as started, (run_index, attempt): a step's
 * started event always comes before its finished one, and once. A finished
 * step read before its "start" notification was processed gets its started
 * event first; the late notification is then dropped. */
typedef struct {
    int run_index, attempt;
} started_t;

static bool after(const started_t *s, int run_index, int attempt)
{
    return run_index > s->run_index || (run_index == s->run_index && attempt > s->attempt);
}

static int send_started(gl_req_t *req, started_t *st, int run_index, const char *node, int attempt)
{
    if (!after(st, run_index, attempt))
        return GL_OK;
    st->run_index = run_index;
    st->attempt = attempt;
    json_object *n = json_object_new_string(node);
    char *ev = gl_arena_printf(req->arena,
                               "event: step.started\ndata: {\"run_index\":%d,\"node_id\":%s,\"attempt\":%d}\n\n",
                               run_index, json_object_to_json_string(n), attempt);
    json_object_put(n);
    return put(req, ev, strlen(ev));
}

/* Sends the steps after *last; true when the execution has ended (its last
 * event sent). GL_ERR when the client or the database went away. */
static int send_steps(gl_req_t *req, const char *id, int *last, started_t *st, bool *ended)
{
    const gl_perm_rule_t *rule = gl_perm_rule(GL_PERM_WORKFLOW_READ);
    if (gl_session_authorize(req, rule) != GL_OK) {
        gl_db_rollback(req->db);
        return GL_ERR; /* the session ended meanwhile */
    }
    char after[16];
    snprintf(after, sizeof after, "%d", *last);
    const char *params[] = { id, after };
    gl_err_t err;
    gl_err_clear(&err);
    PGresult *res = NULL;
    int rc = gl_db_query(req->db, &q_steps, params, req->arena, &res, &err);
    gl_db_rollback(req->db); /* read only */
    if (rc != GL_OK || PQntuples(res) == 0)
        return GL_ERR;
    for (int i = 0; i < PQntuples(res); i++) {
        if (PQgetisnull(res, i, 2))
            continue;
        if (send_started(req, st, (int)gl_db_int(res, i, 4), PQgetvalue(res, i, 6), (int)gl_db_int(res, i, 5)) !=
            GL_OK)
            return GL_ERR;
        char *ev = gl_arena_printf(req->arena, "id: %s\nevent: step\ndata: %s\n\n", PQgetvalue(res, i, 2),
                                   PQgetvalue(res, i, 3));
        if (put(req, ev, strlen(ev)) != GL_OK)
            return GL_ERR;
        *last = (int)gl_db_int(res, i, 2);
    }
    const char *status = PQgetvalue(res, 0, 0);
    *ended = PQntuples(res) < 1000 && (strcmp(status, "succeeded") == 0 || strcmp(status, "failed") == 0 ||
                                      strcmp(status, "canceled") == 0);
    if (*ended) {
        char *ev = gl_arena_printf(req->arena, "event: execution\ndata: {\"id\":\"%s\",\"status\":\"%s\",\"error\":%s}\n\n",
                                   id, status, PQgetisnull(res, 0, 1) ? "null" : PQgetvalue(res, 0, 1));
        if (put(req, ev, strlen(ev)) != GL_OK)
            return GL_ERR;
    }
    return GL_OK;
}

static void events_get(gl_req_t *req)
{
    const char *id = gl_req_param(req, "id");
    if (!gl_is_uuid(id)) {
        gl_resp_error(req, 404, "not_found", NULL, "no such execution");
        return;
    }
    const char *leid = gl_req_env(req, "HTTP_LAST_EVENT_ID");
    if (!leid)
        leid = gl_req_query(req, "last_event_id");
    int64_t last = 0;
    if (leid && gl_parse_i64(leid, 0, INT32_MAX, &last) != GL_OK) {
        gl_resp_error(req, 400, "invalid", "Last-Event-ID", "Last-Event-ID must be a step number");
        return;
    }
    /* visible? (row level security) — and count this stream as a watcher */
    const char *params[] = { id, "1" };
    gl_err_t err;
    gl_err_clear(&err);
    PGresult *res = NULL;
    int rc = gl_db_query(req->db, &q_watch, params, req->arena, &res, &err);
    if (rc != GL_OK) {
        gl_resp_fail(req, rc, &err);
        return;
    }
    if (PQntuples(res) == 0) {
        gl_resp_error(req, 404, "not_found", NULL, "no such execution");
        return;
    }
    rc = gl_db_commit(req->db, &err);
    req->tx_done = true;
    char chan[64];
    snprintf(chan, sizeof chan, "gx_%s", id);
    /* what an earlier stream or webhook wait on this connection left queued */
    gl_db_drain_notifications(req->db);
    if (rc != GL_OK || (rc = gl_db_listen(req->db, true, chan, &err)) != GL_OK) {
        gl_resp_fail(req, rc != GL_OK ? rc : GL_UNAVAILABLE, &err);
        return;
    }
    req->streamed = true;
    const char *head = "Status: 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
                       "Cache-Control: no-store\r\nX-Accel-Buffering: no\r\n\r\nretry: 1000\n\n";
    int cur = (int)last;
    started_t started = { 0, 0 };
    bool ended = false;
    int64_t deadline = gl_now_ms() + (int64_t)req->cfg->executions_events_max_seconds * 1000;
    int64_t keepalive = gl_now_ms() + 15000;
    PGconn *conn = gl_db_conn(req->db);
    uint64_t gen = gl_db_generation(req->db);
    if (put(req, head, strlen(head)) == GL_OK && send_steps(req, id, &cur, &started, &ended) == GL_OK) {
        /* a connection replaced under a statement lost the LISTEN: end the
         * stream, the browser comes back with Last-Event-ID */
        while (!ended && gl_now_ms() < deadline && conn && gl_db_generation(req->db) == gen) {
            /* a statement on this connection may have read notifications
             * already: take those before waiting for the socket */
            PGnotify *n = PQnotifies(conn);
            if (!n) {
                struct pollfd pfd = { PQsocket(conn), POLLIN, 0 };
                int64_t wait = keepalive - gl_now_ms();
                if (wait > deadline - gl_now_ms())
                    wait = deadline - gl_now_ms();
                if (poll(&pfd, 1, (int)(wait > 0 ? wait : 0)) < 0 || PQconsumeInput(conn) == 0)
                    break;
                n = PQnotifies(conn);
            }
            bool changed = false;
            for (; n != NULL; n = PQnotifies(conn)) {
                int ri = 0, att = 0;
                char node[101];
                if (strcmp(n->relname, chan) != 0) {
                    /* left over from an earlier stream on this connection */
                } else if (sscanf(n->extra, "start %d %100s %d", &ri, node, &att) == 3) {
                    if (send_started(req, &started, ri, node, att) != GL_OK)
                        ended = true;
                } else {
                    changed = true;
                }
                PQfreemem(n);
            }
            if (ended)
                break;
            if (changed && send_steps(req, id, &cur, &started, &ended) != GL_OK)
                break;
            if (gl_now_ms() >= keepalive) {
                if (put(req, ": keepalive\n\n", 13) != GL_OK)
                    break;
                keepalive = gl_now_ms() + 15000;
            }
        }
    }
    if (gl_db_listen(req->db, false, chan, &err) != GL_OK)
        gl_log(GL_LOG_WARN, "UNLISTEN failed: %s", err.msg);
    const char *up[] = { id };
    if (gl_db_query(req->db, &q_unwatch, up, req->arena, &res, &err) != GL_OK)
        gl_log(GL_LOG_WARN, "unwatching execution %s failed: %s", id, err.msg);
    req->status = 200;
}

static const gl_route_t routes[] = {
    { "GET", "/api/executions/:id/events", events_get, GL_PERM_WORKFLOW_READ },
};

const gl_resource_t gl_resource_execution_events = { "execution_events", routes, GL_NELEM(routes) };
