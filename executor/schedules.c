/*
 * schedules.c: fires due schedules. In one transaction: take the due rows
 * with FOR UPDATE SKIP LOCKED (schedules_due), start an execution for each,
 * and move each row's next_run_at to the first cron time after now. Two
 * executors never take the same row, and once one commits the row is no
 * longer due, so every due time fires once however many executors run. A
 * schedule that missed several times while nothing ran fires once (for the
 * latest of them) and then keeps to its cron.
 */
#include "run.h"

#include "cron.h"
#include "log.h"
#include "tz.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define BATCH "100"

static const gl_stmt_t q_due = {
    .name = "schedules_due",
    .sql = "SELECT id, org_id, workflow_id, version, node_id, cron, timezone, "
           "(extract(epoch FROM next_run_at) * 1000)::bigint, (extract(epoch FROM now()) * 1000)::bigint "
           "FROM glyphic.schedules_due($1::int)",
    .nparams = 1, .rows = true,
};
static const gl_stmt_t q_fire = {
    .name = "schedule_fire",
    .sql = "SELECT glyphic.exec_start($1::uuid, $2::uuid, $3::int, NULL, 'schedule', $4, $5::jsonb)",
    .nparams = 5, .rows = true,
};
static const gl_stmt_t q_next = {
    .name = "schedule_next",
    .sql = "UPDATE glyphic.schedules SET next_run_at = CASE WHEN $2::bigint IS NULL THEN 'infinity'::timestamptz "
           "ELSE to_timestamp($2::bigint / 1000.0) END WHERE id = $1::uuid",
    .nparams = 2, .rows = false,
};

static void iso(int64_t ms, char *out, size_t n) /* n >= 64 */
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, n, "%Y-%m-%dT%H:%M:%S", &tm);
    size_t len = strlen(out);
    snprintf(out + len, n - len, ".%03dZ", (int)(ms % 1000));
}

/* next fire time in ms after `after_ms`, or -1 when the schedule cannot fire */
static int64_t next_time(const char *spec, const char *zone, int64_t after_ms)
{
    gl_cron_t c;
    gl_tz_t *tz = NULL;
    gl_err_t err;
    gl_err_clear(&err);
    int64_t next = -1;
    if (gl_cron_parse(spec, &c, &err) != GL_OK || gl_tz_load(zone, &tz, &err) != GL_OK) {
        gl_log(GL_LOG_WARN, "schedule '%s' (%s) cannot fire: %s", spec, zone, err.msg);
        return -1;
    }
    int64_t n;
    if (gl_cron_next(&c, tz, after_ms / 1000, &n) == GL_OK)
        next = n * 1000;
    gl_tz_free(tz);
    return next;
}

static int fire_batch(gl_db_t *db, void *arg, gl_err_t *err)
{
    int *fired = arg;
    *fired = 0;
    const char *p[] = { BATCH };
    PGresult *res = NULL;
    int rc = gl_db_query(db, &q_due, p, NULL, &res, err);
    if (rc != GL_OK)
        return rc;
    int n = PQntuples(res);
    for (int i = 0; i < n && rc == GL_OK; i++) {
        const char *id = PQgetvalue(res, i, 0);
        const char *spec = PQgetvalue(res, i, 5), *zone = PQgetvalue(res, i, 6);
        bool never_computed = PQgetisnull(res, i, 7);
        int64_t due = gl_db_int(res, i, 7), now = gl_db_int(res, i, 8);
        if (!never_computed) {
            char due_s[64], now_s[64];
            iso(due, due_s, sizeof due_s);
            iso(now, now_s, sizeof now_s);
            json_object *item = json_object_new_object();
            json_object_object_add(item, "timestamp", json_object_new_string(now_s));
            json_object_object_add(item, "scheduled_at", json_object_new_string(due_s));
            json_object_object_add(item, "cron", json_object_new_string(spec));
            json_object_object_add(item, "timezone", json_object_new_string(zone));
            json_object *items = json_object_new_array();
            json_object_array_add(items, item);
            const char *fp[] = { PQgetvalue(res, i, 1), PQgetvalue(res, i, 2), PQgetvalue(res, i, 3),
                                 PQgetvalue(res, i, 4), json_object_to_json_string_ext(items, JSON_C_TO_STRING_PLAIN) };
            PGresult *r2 = NULL;
            rc = gl_db_query(db, &q_fire, fp, NULL, &r2, err);
            json_object_put(items);
            if (rc != GL_OK)
                break;
            PQclear(r2);
            (*fired)++;
        }
        int64_t next = next_time(spec, zone, now);
        char next_s[24];
        snprintf(next_s, sizeof next_s, "%lld", (long long)next);
        const char *np[] = { id, next >= 0 ? next_s : NULL };
        rc = gl_db_query(db, &q_next, np, NULL, NULL, err);
    }
    PQclear(res);
    return rc;
}

int gl_schedules_fire(gl_db_t *db, int *fired, gl_err_t *err)
{
    *fired = 0;
    return gl_db_tx(db, fire_batch, fired, err);
}
