/*
 * executions.c: runs and their history —
 *   POST   /api/workflows/:id/run        run the saved workflow, or an unsaved definition (editor test runs)
 *   GET    /api/executions               list (workflow_id, status, trigger, since, until; cursor pages)
 *   GET    /api/executions/:id           one, with every step
 *   POST   /api/executions/:id/cancel    queued/waiting: canceled now; running: stops before its next step
 *   POST   /api/executions/:id/retry     a new execution: from the failed step (default) or from the start
 *   DELETE /api/executions/:id           a finished execution
 * Live progress is glyphic-events (events/stream.c). Row level security shows an
 * execution to whoever sees its workflow (sql/005_executions.sql).
 */
#include "executions.h"

#include "crypto.h"
#include "workflow_store.h"

#include <stdio.h>
#include <string.h>

#define MAX_INPUT_ITEMS 1000

static const gl_stmt_t q_run = {
    .name = "ex_run",
    .sql = "SELECT glyphic.exec_start(w.org_id, w.id, CASE WHEN $2::jsonb IS NULL THEN w.current_version END, "
           "$2::jsonb, 'manual', $3, $4::jsonb, NULL, current_user_id()) "
           "FROM workflows w WHERE w.id = $1 AND w.deleted_at IS NULL AND w.org_id = current_org_id()",
    .nparams = 4, .rows = true,
};

#define SUMMARY                                                                                             \
    "json_build_object('id', e.id, 'workflow_id', e.workflow_id, 'version', e.version, 'status', e.status, " \
    "'trigger', e.trigger, 'trigger_node', e.trigger_node, 'parent_id', e.parent_id, "                       \
    "'created_by', e.created_by, 'started_by', e.started_by, 'created_at', e.created_at, "                  \
    "'started_at', e.started_at, "                                                                           \
    "'finished_at', e.finished_at, 'wait_until', e.wait_until, 'cancel_requested', e.cancel_requested, "     \
    "'error', e.error)"

/* newest first; the cursor is "<created_at in µs>_<id>" of the last row */
static const gl_stmt_t q_list = {
    .name = "ex_list",
    .sql = "SELECT json_build_object('executions', coalesce(json_agg(" SUMMARY " ORDER BY e.created_at DESC, e.id DESC), '[]'), "
           "'next_cursor', CASE WHEN count(*) = $7 THEN "
           "(array_agg((extract(epoch FROM e.created_at) * 1000000)::bigint || '_' || e.id "
           "ORDER BY e.created_at DESC, e.id DESC))[$7] END) "
           "FROM (SELECT e.id, e.workflow_id, e.version, e.status, e.trigger, e.trigger_node, e.parent_id, e.created_by, "
           "e.started_by, e.created_at, e.started_at, e.finished_at, e.wait_until, e.cancel_requested, e.error "
           "FROM executions e WHERE e.org_id = current_org_id() "
           "AND ($1::uuid IS NULL OR e.workflow_id = $1::uuid) AND ($2::text IS NULL OR e.status = $2) "
           "AND ($3::text IS NULL OR e.trigger = $3) AND ($4::timestamptz IS NULL OR e.created_at >= $4::timestamptz) "
           "AND ($5::timestamptz IS NULL OR e.created_at < $5::timestamptz) "
           "AND ($6::text IS NULL OR (e.created_at, e.id) < (to_timestamp(split_part($6, '_', 1)::bigint / 1000000.0), "
           "split_part($6, '_', 2)::uuid)) "
           "ORDER BY e.created_at DESC, e.id DESC LIMIT $7) e",
    .nparams = 7, .rows = true,
};

static const gl_stmt_t q_get = {
    .name = "ex_get",
    .sql = "SELECT (jsonb_build_object('input', e.input, 'output', e.output, 'response', e.response, "
           "'definition', e.definition, 'steps', coalesce((SELECT jsonb_agg(jsonb_build_object("
           "'seq', s.seq, 'node_id', s.node_id, 'run_index', s.run_index, 'attempt', s.attempt, 'status', s.status, "
           "'input', s.input, 'output', s.output, 'error', s.error, 'started_at', s.started_at, "
           "'finished_at', s.finished_at) ORDER BY s.seq) FROM steps s WHERE s.execution_id = e.id), '[]')) "
           "|| " SUMMARY "::jsonb)::text FROM executions e WHERE e.id = $1",
    .nparams = 1, .rows = true, .readonly = true,
};

/* queued or waiting: canceled at once; running: asked to stop */
static const gl_stmt_t q_cancel = {
    .name = "ex_cancel",
    .sql = "WITH u AS (UPDATE executions SET cancel_requested = true, "
           "status = CASE WHEN status IN ('queued', 'waiting') THEN 'canceled' ELSE status END, "
           "finished_at = CASE WHEN status IN ('queued', 'waiting') THEN now() ELSE finished_at END "
           "WHERE id = $1 AND status IN ('queued', 'waiting', 'running') RETURNING id, status) "
           "SELECT u.status, pg_notify('gx_' || u.id, u.status) FROM u",
    .nparams = 1, .rows = true,
};

static const gl_stmt_t q_status = {
    .name = "ex_status", .sql = "SELECT status FROM executions WHERE id = $1", .nparams = 1, .rows = true,
};

/* a retry runs the same version (or definition) with the same input; from
 * the failed step it carries over every step before the failed activation
 * (all of them when none failed: a time limit or a cancel stopped it), so
 * the engine replays them instead of running their nodes again */
static const gl_stmt_t q_retry = {
    .name = "ex_retry",
    .sql = "SELECT glyphic.exec_start(e.org_id, e.workflow_id, e.version, e.definition, 'retry', e.trigger_node, "
           "e.input, e.id, current_user_id(), 'queued', $2::uuid) "
           "FROM executions e WHERE e.id = $1 AND e.status IN ('failed', 'canceled') "
           "AND EXISTS (SELECT 1 FROM workflows w WHERE w.id = e.workflow_id AND w.deleted_at IS NULL)",
    .nparams = 2, .rows = true,
};
static const gl_stmt_t q_copy_steps = {
    .name = "ex_copy_steps",
    .sql = "INSERT INTO execution_steps (execution_id, seq, org_id, node_id, run_index, attempt, status, input, "
           "output, state, error, started_at, finished_at) "
           "SELECT $2::uuid, s.seq, s.org_id, s.node_id, s.run_index, s.attempt, s.status, s.input, s.output, s.state, "
           "s.error, s.started_at, s.finished_at FROM steps s WHERE s.execution_id = $1 "
           "AND s.run_index < coalesce((SELECT min(f.run_index) FROM steps f WHERE f.execution_id = $1 "
           "AND f.status = 'failed' AND f.output IS NULL AND NOT EXISTS (SELECT 1 FROM steps g "
           "WHERE g.execution_id = $1 AND g.run_index = f.run_index AND g.seq > f.seq)), "
           "(SELECT max(m.run_index) + 1 FROM steps m WHERE m.execution_id = $1))",
    .nparams = 2, .rows = false,
};

static const gl_stmt_t q_delete = {
    .name = "ex_delete",
    .sql = "DELETE FROM executions WHERE id = $1 AND status IN ('succeeded', 'failed', 'canceled') RETURNING id",
    .nparams = 1, .rows = true,
};

static bool execution_id(gl_req_t *req, const char **id)
{
    *id = gl_req_param(req, "id");
    if (!gl_is_uuid(*id)) {
        gl_resp_error(req, 404, "not_found", NULL, "no such execution");
        return false;
    }
    return true;
}

static void send_created(gl_req_t *req, const char *id)
{
    char *body = gl_arena_printf(req->arena, "{\"id\":\"%s\",\"status\":\"queued\"}", id);
    gl_resp_header(req, "Location", gl_arena_printf(req->arena, "/api/executions/%s", id));
    gl_resp_json(req, 202, body, strlen(body));
}

static void workflow_run(gl_req_t *req)
{
    const char *id = gl_req_param(req, "id");
    if (!gl_is_uuid(id)) {
        gl_resp_error(req, 404, "not_found", NULL, "no such workflow");
        return;
    }
    json_object *input = NULL, *def = NULL, *v;
    const char *trigger = NULL, *def_text = NULL;
    if (req->json) {
        static const char *const allowed[] = { "input", "definition", "trigger_node", NULL };
        gl_err_t err;
        gl_err_clear(&err);
        if (!json_object_is_type(req->json, json_type_object) || gl_json_only_keys(req->json, allowed, &err) != GL_OK) {
            gl_resp_error(req, 400, "invalid", err.field[0] ? err.field : "body", "%s",
                          err.msg[0] ? err.msg : "the body must be an object {input, definition, trigger_node}");
            return;
        }
        if (json_object_object_get_ex(req->json, "input", &input)) {
            if (!json_object_is_type(input, json_type_array) || json_object_array_length(input) > MAX_INPUT_ITEMS) {
                gl_resp_error(req, 400, "invalid", "input", "input must be an array of at most %d items",
                              MAX_INPUT_ITEMS);
                return;
            }
            for (size_t i = 0; i < json_object_array_length(input); i++)
                if (!json_object_is_type(json_object_array_get_idx(input, i), json_type_object)) {
                    gl_resp_error(req, 400, "invalid", "input", "input item %zu must be an object", i);
                    return;
                }
        }
        if (json_object_object_get_ex(req->json, "trigger_node", &v)) {
            if (!json_object_is_type(v, json_type_string) || json_object_get_string_len(v) > 64) {
                gl_resp_error(req, 400, "invalid", "trigger_node", "trigger_node must be a node id");
                return;
            }
            trigger = json_object_get_string(v);
        }
        if (json_object_object_get_ex(req->json, "definition", &def) && gl_wf_definition(req, def, &def_text) != GL_OK)
            return;
    }
    char eid[GL_UUID_LEN + 1];
    const char *params[] = { id, def_text, trigger,
                             input ? json_object_to_json_string_ext(input, JSON_C_TO_STRING_PLAIN) : NULL };
    gl_err_t err;
    gl_err_clear(&err);
    PGresult *res = NULL;
    int rc = gl_db_query(req->db, &q_run, params, req->arena, &res, &err);
    if (rc != GL_OK) {
        if (strcmp(err.sqlstate, "42501") == 0) {
            gl_resp_error(req, 403, "forbidden", NULL, "you may not run this workflow");
            return;
        }
        gl_resp_fail(req, rc, &err);
        return;
    }
    if (PQntuples(res) != 1) {
        gl_resp_error(req, 404, "not_found", NULL, "no such workflow");
        return;
    }
    snprintf(eid, sizeof eid, "%s", PQgetvalue(res, 0, 0));
    send_created(req, eid);
}

static bool one_of(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return true;
    return false;
}

static bool valid_cursor(const char *c)
{
    const char *us = strchr(c, '_');
    if (!us || us == c || us - c > 18 || !gl_is_uuid(us + 1)) /* µs since 1970 fit 18 digits until 33658 */
        return false;
    for (const char *p = c; p < us; p++)
        if (*p < '0' || *p > '9')
            return false;
    return true;
}

static bool valid_time(const char *t)
{
    /* 2026-11-25, 2026-11-25T19:33:53Z, with fraction and offset */
    size_t n = strlen(t);
    if (n < 10 || n > 40)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789-:T.Z+ ", t[i]))
            return false;
    return t[4] == '-' && t[7] == '-';
}

static void executions_list(gl_req_t *req)
{
    static const char *const statuses[] = { "queued", "running", "waiting", "succeeded", "failed", "canceled", NULL };
    static const char *const triggers[] = { "manual", "webhook", "schedule", "error", "subworkflow", "retry", NULL };
    const char *wf = gl_req_query(req, "workflow_id"), *status = gl_req_query(req, "status");
    const char *trigger = gl_req_query(req, "trigger"), *since = gl_req_query(req, "since");
    const char *until = gl_req_query(req, "until"), *cursor = gl_req_query(req, "cursor");
    const char *l = gl_req_query(req, "limit");
    int64_t limit = 50;
    if (wf && !gl_is_uuid(wf))
        gl_resp_error(req, 400, "invalid", "workflow_id", "workflow_id must be a workflow id");
    else if (status && !one_of(status, statuses))
        gl_resp_error(req, 400, "invalid", "status", "status is one of queued, running, waiting, succeeded, failed, canceled");
    else if (trigger && !one_of(trigger, triggers))
        gl_resp_error(req, 400, "invalid", "trigger", "trigger is one of manual, webhook, schedule, error, subworkflow, retry");
    else if (since && !valid_time(since))
        gl_resp_error(req, 400, "invalid", "since", "since must be an ISO 8601 time");
    else if (until && !valid_time(until))
        gl_resp_error(req, 400, "invalid", "until", "until must be an ISO 8601 time");
    else if (cursor && !valid_cursor(cursor))
        gl_resp_error(req, 400, "invalid", "cursor", "cursor must be the next_cursor of a previous page");
    else if (l && gl_parse_i64(l, 1, 500, &limit) != GL_OK)
        gl_resp_error(req, 400, "invalid", "limit", "limit is 1-500");
    if (req->status)
        return;
    char lt[16];
    snprintf(lt, sizeof lt, "%lld", (long long)limit);
    const char *params[] = { wf, status, trigger, since, until, cursor, lt };
    gl_err_t err;
    gl_err_clear(&err);
    PGresult *res = NULL;
    int rc = gl_db_query(req->db, &q_list, params, req->arena, &res, &err);
    if (rc != GL_OK) {
        if (rc == GL_INVALID) /* a time PostgreSQL cannot read */
            gl_resp_error(req, 400, "invalid", since ? "since" : "until", "since and until must be ISO 8601 times");
        else
            gl_resp_fail(req, rc, &err);
        return;
    }
    gl_resp_json(req, 200, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
}

static bool execution_get_ahead(gl_req_t *req, gl_ahead_t *a)
{
    return gl_ahead_by_id(req, &q_get, a);
}

static void execution_get(gl_req_t *req)
{
    const char *id;
    if (!execution_id(req, &id))
        return;
    const char *params[] = { id };
    gl_resp_query_json(req, 200, &q_get, params, "no such execution");
}

/* Why a change found no row: 404 when the execution is not visible; 403
 * when its state allowed the change (so row level security refused it: the
 * user may see the workflow but not edit it); else 409 with its status. */
static void explain_state(gl_req_t *req, const char *id, const char *what, const char *const *allowed)
{
    const char *params[] = { id };
    gl_err_t err;
    gl_err_clear(&err);
    PGresult *res = NULL;
    int rc = gl_db_query(req->db, &q_status, params, req->arena, &res, &err);
    if (rc != GL_OK)
        gl_resp_fail(req, rc, &err);
    else if (PQntuples(res) == 0)
        gl_resp_error(req, 404, "not_found", NULL, "no such execution");
    else if (one_of(PQgetvalue(res, 0, 0), allowed))
        gl_resp_error(req, 403, "forbidden", NULL, "you may not change this workflow's executions");
    else
        gl_resp_error(req, 409, "conflict", NULL, "the execution is %s: %s", PQgetvalue(res, 0, 0), what);
}

/* Runs a statement that changes the execution (id) and returns a row when
 * it did. NULL, with the response set, when it failed or changed nothing
 * (explain_state says why: allowed lists the states the change needs). */
static PGresult *change(gl_req_t *req, const gl_stmt_t *stmt, const char *id, const char *what,
                        const char *const *allowed)
{
    const char *params[] = { id };
    gl_err_t err;
    gl_err_clear(&err);
    PGresult *res = NULL;
    int rc = gl_db_query(req->db, stmt, params, req->arena, &res, &err);
    if (rc != GL_OK) {
        gl_resp_fail(req, rc, &err);
        return NULL;
    }
    if (PQntuples(res) == 0) {
        explain_state(req, id, what, allowed);
        return NULL;
    }
    return res;
}

static void execution_cancel(gl_req_t *req)
{
    static const char *const cancelable[] = { "queued", "waiting", "running", NULL };
    const char *id;
    PGresult *res;
    if (!execution_id(req, &id) ||
        !(res = change(req, &q_cancel, id, "only queued, waiting or running executions can be canceled", cancelable)))
        return;
    bool now = strcmp(PQgetvalue(res, 0, 0), "canceled") == 0;
    char *body = gl_arena_printf(req->arena, "{\"id\":\"%s\",\"status\":\"%s\",\"cancel_requested\":true}", id,
                                 PQgetvalue(res, 0, 0));
    gl_resp_json(req, now ? 200 : 202, body, strlen(body));
}

static void execution_retry(gl_req_t *req)
{
    const char *id;
    if (!execution_id(req, &id))
        return;
    bool from_start = false;
    json_object *v;
    if (req->json) {
        if (!json_object_is_type(req->json, json_type_object) || json_object_object_length(req->json) > 1 ||
            (json_object_object_length(req->json) == 1 && !json_object_object_get_ex(req->json, "from", &v)) ||
            (json_object_object_get_ex(req->json, "from", &v) &&
             (!json_object_is_type(v, json_type_string) ||
              (strcmp(json_object_get_string(v), "failed") && strcmp(json_object_get_string(v), "start"))))) {
            gl_resp_error(req, 400, "invalid", "from", "the body may only hold from: \"failed\" or \"start\"");
            return;
        }
        from_start = json_object_object_get_ex(req->json, "from", &v) && strcmp(json_object_get_string(v), "start") == 0;
    }
    char nid[GL_UUID_LEN + 1];
    gl_uuid_v7(nid);
    const char *params[] = { id, nid };
    gl_err_t err;
    gl_err_clear(&err);
    PGresult *res = NULL;
    int rc = gl_db_query(req->db, &q_retry, params, req->arena, &res, &err);
    if (rc == GL_OK && PQntuples(res) == 0) {
        static const char *const none[] = { NULL }; /* a failed one missing here: its workflow is in the trash */
        explain_state(req, id, "only failed or canceled executions of workflows not in the trash can be retried",
                      none);
        return;
    }
    if (rc == GL_OK && !from_start) {
        const char *cp[] = { id, nid };
        rc = gl_db_query(req->db, &q_copy_steps, cp, req->arena, NULL, &err);
    }
    if (rc != GL_OK) {
        if (strcmp(err.sqlstate, "42501") == 0)
            gl_resp_error(req, 403, "forbidden", NULL, "you may not run this workflow");
        else
            gl_resp_fail(req, rc, &err);
        return;
    }
    send_created(req, nid);
}

static void execution_delete(gl_req_t *req)
{
    static const char *const finished[] = { "succeeded", "failed", "canceled", NULL };
    const char *id;
    if (execution_id(req, &id) && change(req, &q_delete, id, "cancel it before deleting it", finished))
        gl_resp_json(req, 204, "", 0);
}

static const gl_route_t routes[] = {
    { "POST", "/api/workflows/:id/run", workflow_run, GL_PERM_WORKFLOW_WRITE, NULL },
    { "GET", "/api/executions", executions_list, GL_PERM_WORKFLOW_READ, NULL },
    { "GET", "/api/executions/:id", execution_get, GL_PERM_WORKFLOW_READ, execution_get_ahead },
    { "POST", "/api/executions/:id/cancel", execution_cancel, GL_PERM_WORKFLOW_WRITE, NULL },
    { "POST", "/api/executions/:id/retry", execution_retry, GL_PERM_WORKFLOW_WRITE, NULL },
    { "DELETE", "/api/executions/:id", execution_delete, GL_PERM_WORKFLOW_WRITE, NULL },
};

const gl_resource_t gl_resource_executions = { "executions", routes, GL_NELEM(routes) };
