/*
 * stream.c: GET /api/executions/{id}/events — live progress as server-sent
 * events, held in the event loop.
 *
 *   event: step.started   data {run_index, node_id, attempt}      (no id)
 *   id: <seq>
 *   event: step           data {seq, node_id, run_index, attempt, status, error, started_at, finished_at, items}
 *   event: execution      data {id, status, error}                (last; the stream ends)
 *
 * Every read is one job that authenticates first (auth_session or
 * auth_api_key, the functions glyphic-fcgi uses) and then reads under the
 * context it set, so row level security applies to each read and a
 * session that ends stops its streams. The permission is glyphic-fcgi's
 * workflow.read rule (core/perm.c).
 *
 *   auth + visible? ──> caps ──> LISTEN gx_<id> ──> read (+ watch) ──> …
 *                                                    ^ notification
 *
 * Finished steps come from glyphic.steps (sql/032) in seq order, so a client that
 * reconnects with Last-Event-ID (or ?last_event_id=) gets every step after
 * the last it saw. The channel is listened to before the first read, so
 * nothing recorded in between is missed. The executor announces steps
 * only while someone watches (executions.watchers, exec_watch). A comment
 * every 15 s keeps proxies from timing the stream out, and each keepalive
 * reads again (unless a read is running), so what a lost announcement did
 * not tell arrives within a keepalive or two; a stream lives at most
 * executions.events_max_seconds.
 *
 * A watch is a lease of WATCH_LEASE_BEATS keepalive periods, renewed at
 * each keepalive: the -1 at the end is sent but may never arrive (this
 * process killed, the database away, the session signed out), and then the
 * executor's maintainer lets the count fall back once the lease runs out
 * (sql/011_fail_closed.sql). The +1 runs in the first read's job; a stream
 * whose +1 surely did not count (that job rolled back, or never went out)
 * sends no -1, which would take another stream's place.
 */
#include "server.h"

#include "crypto.h"
#include "db.h"
#include "log.h"
#include "perm.h"
#include "tokens.h"

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char q_auth_session[] = "SELECT session_id, user_id, org_id, role, NULL FROM glyphic_ctx.auth_session($1, $2, $3)";
static const char q_auth_key[] = "SELECT key_id, user_id, org_id, role, scopes FROM glyphic_ctx.auth_api_key($1)";
static const char q_visible[] = "SELECT status FROM executions WHERE id = $1";
static const char q_watch[] = "SELECT exec_watch($1, $2, $3)";
/* steps after a seq, and the execution's state (one row per step, or one
 * row with a NULL seq when there is none) */
static const char q_steps[] =
    "SELECT e.status, e.error::text, s.seq, json_build_object('seq', s.seq, 'node_id', s.node_id, "
    "'run_index', s.run_index, 'attempt', s.attempt, 'status', s.status, 'error', s.error, "
    "'started_at', s.started_at, 'finished_at', s.finished_at, 'items', "
    "(SELECT json_object_agg(k, jsonb_array_length(v)) FROM jsonb_each(s.output) AS o(k, v) "
    "WHERE jsonb_typeof(v) = 'array'))::text, s.run_index, s.attempt, s.node_id "
    "FROM executions e LEFT JOIN steps s ON s.execution_id = e.id AND s.seq > $2::int "
    "WHERE e.id = $1 ORDER BY s.seq LIMIT 1000";

#define KEEPALIVE_S 15
/* a watch lasts this many keepalive periods unless renewed */
#define WATCH_LEASE_BEATS 4
/* a client this far behind is dropped; it resumes with Last-Event-ID */
#define MAX_BACKLOG (1u << 20)

typedef struct {
    gl_server_t *srv;
    struct evhttp_request *req;
    gl_ev_client_t client;
    struct event *timer;
    gl_pg_job_t *job;
    gl_pg_sub_t sub;
    char id[GL_UUID_LEN + 1];
    char hash[GL_HASH_PARAM_LEN];
    char wanted[GL_UUID_LEN + 1];
    bool via_key;
    char user_key[48], org_key[48]; /* cap keys, once counted */
    char lease_s[16];        /* the watch's lease, in seconds */
    bool counted, subscribed, watching, streaming, dirty;
    bool beat_read;          /* the read running is a keepalive's */
    bool watch_read;         /* the read running starts the watch (+1) */
    int last;                /* the last step sent */
    int started_ri, started_att; /* the last attempt announced as started */
    int64_t deadline_ms;
} stream_t;

static void stream_read(stream_t *s);

static void ignore(void *ud, PGresult *const *res, int n, const char *error)
{
    (void)ud;
    (void)res;
    (void)n;
    if (error)
        gl_log(GL_LOG_DEBUG, "unwatching or renewing a watch failed: %s", error);
}

/* Ends the stream and frees it; the client may already be gone. */
static void stream_free(stream_t *s)
{
    gl_server_t *srv = s->srv;
    gl_ev_client_release(&s->client);
    if (s->job && !gl_pg_cancel(s->job) && s->watch_read)
        s->watching = false; /* its +1 was still waiting: it never runs */
    if (s->subscribed)
        gl_pg_unsubscribe(srv->pg, &s->sub);
    if (s->timer)
        event_free(s->timer);
    if (s->watching) {
        /* fire and forget: the count goes down if the session still reads it */
        char idle[16];
        snprintf(idle, sizeof idle, "%d", srv->cfg->auth_session_idle);
        gl_pg_stmt_t st[2] = {
            s->via_key ? (gl_pg_stmt_t){ q_auth_key, 1, { s->hash } }
                       : (gl_pg_stmt_t){ q_auth_session, 3, { s->hash, s->wanted[0] ? s->wanted : NULL, idle } },
            { q_watch, 3, { s->id, "-1", s->lease_s } },
        };
        gl_pg_submit(srv->pg, st, 2, ignore, NULL);
    }
    if (s->counted) {
        gl_caps_put(srv->caps, s->user_key);
        gl_caps_put(srv->caps, s->org_key);
        srv->streams--;
    }
    free(s);
}

static void stream_end(stream_t *s)
{
    gl_ev_client_release(&s->client);
    if (s->req && s->streaming)
        evhttp_send_reply_end(s->req);
    else if (s->req) /* never started (the listener did not come back in time) */
        gl_ev_error(s->req, 503, "unavailable", "the live-progress stream could not start; try again");
    s->req = NULL;
    stream_free(s);
}

static void on_gone(void *ud)
{
    stream_t *s = ud;
    s->req = NULL; /* freed with its connection */
    stream_free(s);
}

static bool put(stream_t *s, const char *text, size_t n)
{
    if (gl_ev_client_backlog(&s->client) > MAX_BACKLOG)
        return false;
    struct evbuffer *b = evbuffer_new();
    if (!b || evbuffer_add(b, text, n) != 0) {
        if (b)
            evbuffer_free(b);
        return false;
    }
    evhttp_send_reply_chunk(s->req, b);
    evbuffer_free(b);
    return true;
}

static bool send_started(stream_t *s, int run_index, const char *node, int attempt)
{
    if (!(run_index > s->started_ri || (run_index == s->started_ri && attempt > s->started_att)))
        return true;
    s->started_ri = run_index;
    s->started_att = attempt;
    json_object *n = json_object_new_string(node);
    char ev[512];
    int len = snprintf(ev, sizeof ev, "event: step.started\ndata: {\"run_index\":%d,\"node_id\":%s,\"attempt\":%d}\n\n",
                       run_index, json_object_to_json_string(n), attempt);
    json_object_put(n);
    return len > 0 && (size_t)len < sizeof ev && put(s, ev, (size_t)len);
}

/* The authentication statement of every job. */
static gl_pg_stmt_t auth_stmt(stream_t *s, char idle[16])
{
    snprintf(idle, 16, "%d", s->srv->cfg->auth_session_idle);
    if (s->via_key)
        return (gl_pg_stmt_t){ q_auth_key, 1, { s->hash } };
    return (gl_pg_stmt_t){ q_auth_session, 3, { s->hash, s->wanted[0] ? s->wanted : NULL, idle } };
}

/* ---- reading steps ---- */

static void on_steps(void *ud, PGresult *const *res, int n, const char *error)
{
    stream_t *s = ud;
    s->job = NULL;
    bool beat = s->beat_read, plus = s->watch_read;
    s->beat_read = s->watch_read = false;
    if (error && plus && res)
        s->watching = false; /* its +1 rolled back with the read: no -1 to send */
    if (error && beat) {
        /* a keepalive's read met a database error: the stream stays, and
         * the next keepalive (or notification) reads again */
        gl_log(GL_LOG_DEBUG, "stream %s: reading at the keepalive failed: %s", s->id, error);
        if (s->dirty) {
            s->dirty = false;
            stream_read(s);
        }
        return;
    }
    const PGresult *steps = res && n >= 1 ? res[n - 1] : NULL;
    if (error || !res || !res[0] || PQntuples(res[0]) == 0 || !steps || PQntuples(steps) == 0) {
        /* the session ended, the execution went, or the database is away:
         * end; the browser comes back with Last-Event-ID */
        if (error)
            gl_log(GL_LOG_WARN, "stream %s: reading steps failed: %s", s->id, error);
        stream_end(s);
        return;
    }
    for (int i = 0; i < PQntuples(steps); i++) {
        if (PQgetisnull(steps, i, 2))
            continue;
        if (!send_started(s, (int)gl_db_int(steps, i, 4), PQgetvalue(steps, i, 6), (int)gl_db_int(steps, i, 5)))
            goto fail;
        struct evbuffer *b = gl_ev_client_backlog(&s->client) > MAX_BACKLOG ? NULL : evbuffer_new();
        if (!b)
            goto fail;
        evbuffer_add_printf(b, "id: %s\nevent: step\ndata: %s\n\n", PQgetvalue(steps, i, 2), PQgetvalue(steps, i, 3));
        evhttp_send_reply_chunk(s->req, b);
        evbuffer_free(b);
        s->last = (int)gl_db_int(steps, i, 2);
    }
    const char *status = PQgetvalue(steps, 0, 0);
    bool ended = PQntuples(steps) < 1000 && (strcmp(status, "succeeded") == 0 || strcmp(status, "failed") == 0 ||
                                            strcmp(status, "canceled") == 0);
    if (ended) {
        struct evbuffer *b = evbuffer_new();
        if (b) {
            evbuffer_add_printf(b, "event: execution\ndata: {\"id\":\"%s\",\"status\":\"%s\",\"error\":%s}\n\n", s->id,
                                status, PQgetisnull(steps, 0, 1) ? "null" : PQgetvalue(steps, 0, 1));
            evhttp_send_reply_chunk(s->req, b);
            evbuffer_free(b);
        }
        stream_end(s);
        return;
    }
    if (PQntuples(steps) >= 1000 || s->dirty) {
        s->dirty = false;
        stream_read(s);
    }
    return;
fail:
    stream_end(s);
}

static void stream_read(stream_t *s)
{
    if (s->job) {
        s->dirty = true; /* read again when this read ends */
        return;
    }
    char idle[16], after[16];
    snprintf(after, sizeof after, "%d", s->last);
    gl_pg_stmt_t st[3];
    int n = 0;
    st[n++] = auth_stmt(s, idle);
    if (!s->watching) {
        st[n++] = (gl_pg_stmt_t){ q_watch, 3, { s->id, "1", s->lease_s } };
        /* from now on the end sends -1, even if this read is cut short or
         * its connection goes (the +1 may have committed); not if the read
         * failed and so rolled back (on_steps) */
        s->watching = true;
        s->watch_read = true;
    }
    st[n++] = (gl_pg_stmt_t){ q_steps, 2, { s->id, after } };
    s->job = gl_pg_submit(s->srv->pg, st, n, on_steps, s);
    if (!s->job) {
        if (s->watch_read) /* its +1 never went out */
            s->watching = s->watch_read = false;
        stream_end(s);
    }
}

/* ---- the channel ---- */

static void on_ready(gl_pg_sub_t *sub)
{
    stream_t *s = (stream_t *)((char *)sub - offsetof(stream_t, sub));
    if (!s->streaming) {
        struct evkeyvalq *h = evhttp_request_get_output_headers(s->req);
        evhttp_add_header(h, "Content-Type", "text/event-stream; charset=utf-8");
        evhttp_add_header(h, "Cache-Control", "no-store");
        evhttp_add_header(h, "X-Accel-Buffering", "no");
        evhttp_send_reply_start(s->req, 200, "OK");
        s->streaming = true;
        if (!put(s, "retry: 1000\n\n", 13)) {
            stream_end(s);
            return;
        }
    }
    stream_read(s); /* what was recorded before (or while the listener was away) */
}

/* The word of text at *p up to the next space (or the end) into out[0..cap);
 * false when it is empty or does not fit. Moves *p past it and one space. */
static bool next_word(const char **p, char *out, size_t cap)
{
    size_t n = strcspn(*p, " ");
    if (n == 0 || n >= cap)
        return false;
    memcpy(out, *p, n);
    out[n] = '\0';
    *p += n + ((*p)[n] == ' ');
    return true;
}

/* "start RUN_INDEX NODE ATTEMPT", what the executor NOTIFYs as a node starts. */
static bool parse_started(const char *payload, int *ri, char node[101], int *att)
{
    char num1[16], num2[16];
    int64_t v1, v2;
    const char *p = payload;
    if (strncmp(p, "start ", 6) != 0)
        return false;
    p += 6;
    if (!next_word(&p, num1, sizeof num1) || !next_word(&p, node, 101) || !next_word(&p, num2, sizeof num2) ||
        *p || gl_parse_i64(num1, 0, INT32_MAX, &v1) != GL_OK || gl_parse_i64(num2, 0, INT32_MAX, &v2) != GL_OK)
        return false;
    *ri = (int)v1;
    *att = (int)v2;
    return true;
}

static void on_notify(gl_pg_sub_t *sub, const char *payload)
{
    stream_t *s = (stream_t *)((char *)sub - offsetof(stream_t, sub));
    int ri = 0, att = 0;
    char node[101];
    if (parse_started(payload, &ri, node, &att)) {
        if (!send_started(s, ri, node, att))
            stream_end(s);
        return;
    }
    stream_read(s);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    stream_t *s = arg;
    if (gl_now_ms() >= s->deadline_ms || s->srv->stopping) {
        stream_end(s);
        return;
    }
    if (s->streaming && !put(s, ": keepalive\n\n", 13)) {
        stream_end(s);
        return;
    }
    if (!s->watching)
        return;
    char idle[16], after[16];
    gl_pg_stmt_t st[3] = { auth_stmt(s, idle), { q_watch, 3, { s->id, "0", s->lease_s } } };
    if (s->job) {
        /* a read is running: renew the lease alone, fire and forget like
         * the -1 (that read ends the stream if its authentication fails) */
        gl_pg_submit(s->srv->pg, st, 2, ignore, NULL);
        return;
    }
    /* renew the lease and read again in one job: a step or an end whose
     * announcement was lost (a crash between its commit and its NOTIFY)
     * reaches the stream within a keepalive or two, and a session that
     * ended ends the stream (on_steps). A database error keeps the stream
     * for the next keepalive, and so does a full queue. */
    snprintf(after, sizeof after, "%d", s->last);
    st[2] = (gl_pg_stmt_t){ q_steps, 2, { s->id, after } };
    s->job = gl_pg_submit(s->srv->pg, st, 3, on_steps, s);
    s->beat_read = s->job != NULL;
}

/* ---- authentication and the caps ---- */

static void on_auth(void *ud, PGresult *const *res, int n, const char *error)
{
    stream_t *s = ud;
    s->job = NULL;
    gl_server_t *srv = s->srv;
    const gl_config_t *cfg = srv->cfg;
    if (error || !res || n != 2 || !res[0] || !res[1]) {
        gl_log(GL_LOG_WARN, "stream %s: authentication failed: %s", s->id, error ? error : "no result");
        gl_ev_error(s->req, 503, "database_unavailable", "the database is not answering; try again");
        goto done;
    }
    const PGresult *a = res[0];
    if (PQntuples(a) == 0) {
        evhttp_add_header(evhttp_request_get_output_headers(s->req), "WWW-Authenticate", "Bearer realm=\"glyphic\"");
        gl_ev_error(s->req, 401, "unauthorized", "%s",
                    s->via_key ? "invalid, expired or revoked API key" : "session expired or signed out; sign in again");
        goto done;
    }
    const gl_perm_rule_t *rule = gl_perm_rule(GL_PERM_WORKFLOW_READ);
    const char *user = PQgetvalue(a, 0, 1), *org = PQgetvalue(a, 0, 2);
    gl_role_t role = gl_role_parse(PQgetisnull(a, 0, 3) ? NULL : PQgetvalue(a, 0, 3));
    if (PQgetisnull(a, 0, 2) || (s->via_key && s->wanted[0] && strcasecmp(s->wanted, org) != 0)) {
        gl_ev_error(s->req, 404, "not_found", "%s", s->wanted[0] ? "no such org" : "you belong to no org");
        goto done;
    }
    if (rule->denied || role < rule->min_role) {
        gl_ev_error(s->req, 403, "forbidden", "your role (%s) may not do this (%s needs %s)", gl_role_name(role),
                    rule->name, gl_role_name(rule->min_role));
        goto done;
    }
    if (s->via_key && !gl_scope_allows(gl_scopes_parse(PQgetvalue(a, 0, 4)), rule->scope)) {
        gl_ev_error(s->req, 403, "insufficient_scope", "this API key lacks the scope %s needs", rule->name);
        goto done;
    }
    if (PQntuples(res[1]) == 0) {
        gl_ev_error(s->req, 404, "not_found", "no such execution");
        goto done;
    }
    snprintf(s->user_key, sizeof s->user_key, "su:%s", user);
    snprintf(s->org_key, sizeof s->org_key, "so:%s", org);
    if (srv->streams >= cfg->events_max_streams) {
        gl_ev_error(s->req, 429, "too_many_streams", "too many live-progress streams are open; try again later");
        goto done;
    }
    if (!gl_caps_take(srv->caps, s->org_key, cfg->events_max_streams_per_org)) {
        gl_ev_error(s->req, 429, "too_many_streams", "your org has %d live-progress streams open; close some",
                    cfg->events_max_streams_per_org);
        goto done;
    }
    if (!gl_caps_take(srv->caps, s->user_key, cfg->events_max_streams_per_user)) {
        gl_caps_put(srv->caps, s->org_key);
        gl_ev_error(s->req, 429, "too_many_streams", "you have %d live-progress streams open; close some",
                    cfg->events_max_streams_per_user);
        goto done;
    }
    s->counted = true;
    srv->streams++;
    s->subscribed = true;
    gl_pg_subscribe(srv->pg, &s->sub); /* on_ready starts the stream */
    return;
done:
    s->req = NULL; /* answered: evhttp frees it */
    stream_free(s);
}

void gl_stream_handle(gl_server_t *srv, struct evhttp_request *req, const char *execution_id)
{
    if (!gl_is_uuid(execution_id)) {
        gl_ev_error(req, 404, "not_found", "no such execution");
        return;
    }
    const char *leid = gl_ev_header(req, "Last-Event-ID");
    char *q = leid ? NULL : gl_ev_query(req, "last_event_id");
    int64_t last = 0;
    bool bad = (leid || q) && gl_parse_i64(leid ? leid : q, 0, INT32_MAX, &last) != GL_OK;
    free(q);
    if (bad) {
        gl_ev_error(req, 400, "invalid", "Last-Event-ID must be a step number");
        return;
    }
    const char *wanted = gl_ev_header(req, "X-Glyphic-Org");
    if (wanted && *wanted && !gl_is_uuid(wanted)) {
        gl_ev_error(req, 400, "invalid", "X-Glyphic-Org must be an org id");
        return;
    }
    const char *authz = gl_ev_header(req, "Authorization");
    const char *key = authz && *authz ? gl_bearer_api_key(authz) : NULL;
    char token[GL_TOKEN_LEN + 1];
    if (authz && *authz && !key) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate", "Bearer realm=\"glyphic\"");
        gl_ev_error(req, 401, "unauthorized", "malformed Authorization header (expected: Bearer gk_…)");
        return;
    }
    if (!key && !gl_cookie_session_token(gl_ev_header(req, "Cookie"), token)) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate", "Bearer realm=\"glyphic\"");
        gl_ev_error(req, 401, "unauthorized", "sign in first");
        return;
    }
    if (srv->stopping) {
        gl_ev_error(req, 503, "unavailable", "the server is restarting; try again");
        return;
    }
    stream_t *s = calloc(1, sizeof *s);
    if (!s) {
        gl_ev_error(req, 503, "unavailable", "out of memory");
        return;
    }
    s->srv = srv;
    s->req = req;
    s->last = (int)last;
    s->via_key = key != NULL;
    snprintf(s->id, sizeof s->id, "%s", execution_id);
    for (char *p = s->id; *p; p++)
        if (*p >= 'A' && *p <= 'F')
            *p = (char)(*p + 32); /* the channel is named in lower case */
    if (wanted && *wanted)
        snprintf(s->wanted, sizeof s->wanted, "%s", wanted);
    if (key)
        gl_hash_param(key, strlen(key), s->hash);
    else
        gl_hash_param(token, strlen(token), s->hash);
    snprintf(s->sub.channel, sizeof s->sub.channel, "gx_%s", s->id);
    s->sub.ready = on_ready;
    s->sub.notify = on_notify;
    s->deadline_ms = gl_now_ms() + (int64_t)srv->cfg->executions_events_max_seconds * 1000;
    s->timer = event_new(srv->base, -1, EV_PERSIST, on_timer, s);
    int max_s = srv->cfg->executions_events_max_seconds;
    struct timeval tv = { max_s < KEEPALIVE_S ? max_s : KEEPALIVE_S, 0 };
    snprintf(s->lease_s, sizeof s->lease_s, "%d", WATCH_LEASE_BEATS * (int)tv.tv_sec);
    if (!s->timer || event_add(s->timer, &tv) != 0 || !gl_ev_client_watch(&s->client, srv, req, on_gone, s)) {
        gl_ev_error(req, 503, "unavailable", "out of memory");
        s->req = NULL;
        stream_free(s);
        return;
    }
    char idle[16];
    gl_pg_stmt_t st[2] = { auth_stmt(s, idle), { q_visible, 1, { s->id } } };
    s->job = gl_pg_submit(srv->pg, st, 2, on_auth, s);
    if (!s->job) {
        gl_ev_error(req, 503, "unavailable", "out of memory");
        s->req = NULL;
        stream_free(s);
    }
}
