/*
 * queue.c: the queue client. Every call is one statement (a SQL function
 * of sql/004_queue.sql or 006_exactly_once.sql); id batches travel as
 * PostgreSQL array literals of integers, anything with text as JSON.
 */
#include "queue.h"

#include "buf.h"

#include <json-c/json.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const gl_stmt_t q_enqueue = {
    .name = "q_enqueue",
    .sql = "SELECT enqueue($1, coalesce($2::jsonb, '{}'), coalesce($3, 'default'), $4::uuid, $5::smallint, "
           "$6::timestamptz, $7, $8, $9)",
    .nparams = 9,
    .rows = true,
};
/* The claim is claim_jobs() (sql/016_org_limits.sql): fair between orgs
 * and within their limits, which takes more than one statement (an org's
 * lock, then a fresh snapshot to count its running jobs). */
static const gl_stmt_t q_claim = {
    .name = "q_claim",
    .sql = "SELECT c.id, c.kind, c.payload::text, c.attempts, c.max_attempts, coalesce(c.org_id::text, '') "
           "FROM claim_jobs($1, $2, $3::int, $4::int) c",
    .nparams = 4,
    .rows = true,
};
static const gl_stmt_t q_complete = {
    .name = "q_complete", .sql = "SELECT complete_jobs($1::bigint[], $2)", .nparams = 2, .rows = true,
};
static const gl_stmt_t q_fail = {
    .name = "q_fail", .sql = "SELECT fail_jobs_json($1::jsonb, $2)", .nparams = 2, .rows = true,
};
static const gl_stmt_t q_release = {
    .name = "q_release", .sql = "SELECT release_jobs($1::bigint[], $2)", .nparams = 2, .rows = true,
};
/* the running jobs leased to owner that it has not started (through the
 * partial index jobs_lease, which holds the running jobs of every worker;
 * asked once per reconnection) */
static const gl_stmt_t q_owned_unstarted = {
    .name = "q_owned_unstarted",
    .sql = "SELECT id FROM glyphic.jobs WHERE state = 'running' AND lease_owner = $1 AND NOT started "
           "ORDER BY id LIMIT 10000",
    .nparams = 1,
    .rows = true,
};
static const gl_stmt_t q_heartbeat = {
    .name = "q_heartbeat", .sql = "SELECT heartbeat_jobs($1::bigint[], $2, $3)", .nparams = 3, .rows = true,
};
static const gl_stmt_t q_wait = {
    .name = "q_wait", .sql = "SELECT queue_wait($1, $2, $3)", .nparams = 3, .rows = true,
};
static const gl_stmt_t q_rescue = {
    .name = "q_rescue", .sql = "SELECT rescue_jobs($1, $2)", .nparams = 2, .rows = true,
};
static const gl_stmt_t q_prune = { .name = "q_prune", .sql = "SELECT prune_jobs($1)", .nparams = 1, .rows = true };
static const gl_stmt_t q_cancel = { .name = "q_cancel", .sql = "SELECT cancel_job($1)", .nparams = 1, .rows = true };
static const gl_stmt_t q_retry = { .name = "q_retry", .sql = "SELECT retry_job($1)", .nparams = 1, .rows = true };
static const gl_stmt_t q_stats = { .name = "q_stats", .sql = "SELECT queue_stats()", .nparams = 0, .rows = true };

int gl_queue_enqueue(gl_db_t *db, const gl_job_spec_t *s, int64_t *id_out, gl_err_t *err)
{
    char prio[16], attempts[16], backoff[16];
    snprintf(prio, sizeof prio, "%d", s->priority);
    snprintf(attempts, sizeof attempts, "%d", s->max_attempts > 0 ? s->max_attempts : 10);
    snprintf(backoff, sizeof backoff, "%d", s->backoff_ms >= 0 ? s->backoff_ms : 1000);
    const char *params[] = { s->kind, s->payload, s->queue, s->org_id, prio, s->run_at, attempts,
                             s->unique_key, backoff };
    PGresult *res = NULL;
    int rc = gl_db_query(db, &q_enqueue, params, NULL, &res, err);
    if (rc != GL_OK)
        return rc;
    if (id_out)
        *id_out = gl_db_int(res, 0, 0);
    PQclear(res);
    return GL_OK;
}

int gl_queue_claim(gl_db_t *db, const char *queue, const char *owner, int limit, int lease_s,
                   gl_arena_t *arena, gl_job_t **jobs, int *n, gl_err_t *err)
{
    char lim[16], lease[16];
    snprintf(lim, sizeof lim, "%d", limit);
    snprintf(lease, sizeof lease, "%d", lease_s);
    const char *params[] = { queue, owner, lim, lease };
    PGresult *res = NULL;
    int rc = gl_db_query(db, &q_claim, params, arena, &res, err);
    if (rc != GL_OK)
        return rc;
    int rows = PQntuples(res);
    gl_job_t *out = gl_arena_calloc(arena, (size_t)(rows ? rows : 1), sizeof *out);
    for (int i = 0; i < rows; i++) {
        out[i].id = gl_db_int(res, i, 0);
        out[i].kind = PQgetvalue(res, i, 1);
        out[i].payload = PQgetvalue(res, i, 2);
        out[i].attempts = (int)gl_db_int(res, i, 3);
        out[i].max_attempts = (int)gl_db_int(res, i, 4);
        out[i].org_id = PQgetvalue(res, i, 5);
    }
    *jobs = out;
    *n = rows;
    return GL_OK;
}

/* "{1,2,3}" into b. */
static int id_array(gl_buf_t *b, const int64_t *ids, int n)
{
    int rc = gl_buf_puts(b, "{");
    for (int i = 0; i < n; i++)
        rc |= gl_buf_printf(b, "%s%lld", i ? "," : "", (long long)ids[i]);
    return rc | gl_buf_puts(b, "}");
}

/* A one-row, one-integer statement over an id array; *count (if given)
 * gets the integer. */
static int id_batch(gl_db_t *db, const gl_stmt_t *stmt, const int64_t *ids, int n, const char *owner,
                    const char *extra, int *count, gl_err_t *err)
{
    if (count)
        *count = 0;
    if (n == 0)
        return GL_OK;
    gl_buf_t b;
    gl_buf_init(&b, (size_t)n * 24 + 16);
    if (id_array(&b, ids, n) != GL_OK) {
        gl_buf_free(&b);
        return GL_TOO_LARGE;
    }
    const char *params[] = { b.data, owner, extra };
    PGresult *res = NULL;
    int rc = gl_db_query(db, stmt, params, NULL, &res, err);
    if (rc == GL_OK) {
        if (count && PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
            *count = (int)gl_db_int(res, 0, 0);
        PQclear(res);
    }
    gl_buf_free(&b);
    return rc;
}

int gl_queue_complete(gl_db_t *db, const int64_t *ids, int n, const char *owner, gl_err_t *err)
{
    return id_batch(db, &q_complete, ids, n, owner, NULL, NULL, err);
}

int gl_queue_release(gl_db_t *db, const int64_t *ids, int n, const char *owner, int *released, gl_err_t *err)
{
    return id_batch(db, &q_release, ids, n, owner, NULL, released, err);
}

int gl_queue_owned_unstarted(gl_db_t *db, const char *owner, gl_arena_t *arena, int64_t **ids, int *n,
                             gl_err_t *err)
{
    const char *params[] = { owner };
    PGresult *res = NULL;
    int rc = gl_db_query(db, &q_owned_unstarted, params, arena, &res, err);
    if (rc != GL_OK)
        return rc;
    int rows = PQntuples(res);
    int64_t *out = gl_arena_calloc(arena, (size_t)(rows ? rows : 1), sizeof *out);
    for (int i = 0; i < rows; i++)
        out[i] = gl_db_int(res, i, 0);
    *ids = out;
    *n = rows;
    return GL_OK;
}

int gl_queue_fail(gl_db_t *db, const int64_t *ids, const char *const *errors, const bool *retryable, int n,
                  const char *owner, gl_err_t *err)
{
    if (n == 0)
        return GL_OK;
    /* json-c escapes; the messages are made storable text first (a message
     * cut mid-character, or bytes from a remote server, would be refused) */
    json_object *arr = json_object_new_array_ext(n);
    char msg[GL_QUEUE_MAX_ERROR];
    for (int i = 0; i < n; i++) {
        json_object *f = json_object_new_object();
        json_object_object_add(f, "id", json_object_new_int64(ids[i]));
        size_t len = gl_utf8_clean(msg, sizeof msg, errors[i] ? errors[i] : "");
        json_object_object_add(f, "error", json_object_new_string_len(msg, (int)len));
        json_object_object_add(f, "retryable", json_object_new_boolean(retryable[i]));
        json_object_array_add(arr, f);
    }
    const char *params[] = { json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN), owner };
    PGresult *res = NULL;
    int rc = gl_db_query(db, &q_fail, params, NULL, &res, err);
    if (rc == GL_OK)
        PQclear(res);
    json_object_put(arr);
    return rc;
}

int gl_queue_heartbeat_one(gl_db_t *db, int64_t id, const char *owner, int lease_s, int *renewed,
                           gl_err_t *err)
{
    char ids[32], lease[16];
    snprintf(ids, sizeof ids, "{%lld}", (long long)id);
    snprintf(lease, sizeof lease, "%d", lease_s);
    const char *params[] = { ids, owner, lease };
    PGresult *res = NULL;
    int rc = gl_db_query(db, &q_heartbeat, params, NULL, &res, err);
    if (rc != GL_OK)
        return rc;
    *renewed = (int)gl_db_int(res, 0, 0);
    PQclear(res);
    return GL_OK;
}

int gl_queue_heartbeat(gl_db_t *db, const int64_t *ids, int n, const char *owner, int lease_s, gl_err_t *err)
{
    char lease[16];
    snprintf(lease, sizeof lease, "%d", lease_s);
    return id_batch(db, &q_heartbeat, ids, n, owner, lease, NULL, err);
}

int gl_queue_waiting(gl_db_t *db, const char *queue, const char *owner, double seconds, gl_err_t *err)
{
    char s[32];
    snprintf(s, sizeof s, "%.3f", seconds);
    const char *params[] = { queue, owner, s };
    PGresult *res = NULL;
    int rc = gl_db_query(db, &q_wait, params, NULL, &res, err);
    if (rc == GL_OK)
        PQclear(res);
    return rc;
}

static int scalar_int(gl_db_t *db, const gl_stmt_t *stmt, const char *const *params, int *n, gl_err_t *err)
{
    PGresult *res = NULL;
    int rc = gl_db_query(db, stmt, params, NULL, &res, err);
    if (rc != GL_OK)
        return rc;
    if (n)
        *n = (int)gl_db_int(res, 0, 0);
    PQclear(res);
    return GL_OK;
}

int gl_queue_rescue(gl_db_t *db, int lease_s, int quiet_s, int *n, gl_err_t *err)
{
    char lease[16], quiet[16];
    snprintf(lease, sizeof lease, "%d", lease_s);
    snprintf(quiet, sizeof quiet, "%d", quiet_s);
    const char *params[] = { lease, quiet };
    return scalar_int(db, &q_rescue, params, n, err);
}

int gl_queue_prune(gl_db_t *db, int days, int *n, gl_err_t *err)
{
    char d[16];
    snprintf(d, sizeof d, "%d", days);
    const char *params[] = { d };
    return scalar_int(db, &q_prune, params, n, err);
}

static int scalar_bool(gl_db_t *db, const gl_stmt_t *stmt, int64_t id, bool *found, gl_err_t *err)
{
    char s[24];
    snprintf(s, sizeof s, "%lld", (long long)id);
    const char *params[] = { s };
    PGresult *res = NULL;
    int rc = gl_db_query(db, stmt, params, NULL, &res, err);
    if (rc != GL_OK)
        return rc;
    *found = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return GL_OK;
}

int gl_queue_cancel(gl_db_t *db, int64_t id, bool *found, gl_err_t *err)
{
    return scalar_bool(db, &q_cancel, id, found, err);
}

int gl_queue_retry(gl_db_t *db, int64_t id, bool *found, gl_err_t *err)
{
    return scalar_bool(db, &q_retry, id, found, err);
}

int gl_queue_stats(gl_db_t *db, gl_arena_t *arena, const char **json, gl_err_t *err)
{
    PGresult *res = NULL;
    int rc = gl_db_query(db, &q_stats, NULL, arena, &res, err);
    if (rc != GL_OK)
        return rc;
    *json = PQgetvalue(res, 0, 0);
    return GL_OK;
}
