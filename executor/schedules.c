/*
 * schedules.c: fires due schedules. In one transaction: take the due rows
 * with FOR UPDATE SKIP LOCKED (schedules_due), start an execution for each
 * due time, and move each row's next_run_at to its first cron time after
 * the last one fired. Two executors never take the same row, and once one
 * commits the row is no longer due, so every due time fires once however
 * many executors run.
 *
 * A due time is never skipped by lateness alone: times missed while no
 * maintainer ran fire once each, late, with scheduled_at saying when they
 * were due — those at most executor.schedule_catchup seconds late; older
 * ones are skipped (with a log line), so a week's outage does not start
 * ten thousand runs. At most FIRE_MAX times per schedule fire per pass;
 * the rest fire on the next pass, a second later.
 */
#include "workflow_job.h"

#include "cron.h"
#include "log.h"
#include "tz.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define BATCH "100"
#define FIRE_MAX 100

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

/* A schedule's cron and zone, parsed once per pass. */
typedef struct {
    gl_cron_t cron;
    gl_tz_t *tz; /* NULL: the schedule cannot fire */
} sched_t;

static void sched_open(sched_t *sc, const char *spec, const char *zone)
{
    gl_err_t err;
    gl_err_clear(&err);
    sc->tz = NULL;
    if (gl_cron_parse(spec, &sc->cron, &err) != GL_OK || gl_tz_load(zone, &sc->tz, &err) != GL_OK) {
        gl_log(GL_LOG_WARN, "schedule '%s' (%s) cannot fire: %s", spec, zone, err.msg);
        gl_tz_free(sc->tz);
        sc->tz = NULL;
    }
}

/* The first fire time after after_ms (whole seconds), in ms; -1: none. */
static int64_t next_time(const sched_t *sc, int64_t after_ms)
{
    int64_t n;
    if (!sc->tz || gl_cron_next(&sc->cron, sc->tz, after_ms / 1000, &n) != GL_OK)
        return -1;
    return n * 1000;
}

typedef struct {
    const gl_config_t *cfg;
    int fired;
} fire_ctx_t;

/* Starts one execution of schedule row i of res for due time due_ms. */
static int fire_one(gl_db_t *db, PGresult *res, int i, int64_t due_ms, int64_t now_ms, gl_err_t *err)
{
    char due_s[64], now_s[64];
    iso(due_ms, due_s, sizeof due_s);
    iso(now_ms, now_s, sizeof now_s);
    json_object *item = json_object_new_object();
    json_object_object_add(item, "timestamp", json_object_new_string(now_s));
    json_object_object_add(item, "scheduled_at", json_object_new_string(due_s));
    json_object_object_add(item, "cron", json_object_new_string(PQgetvalue(res, i, 5)));
    json_object_object_add(item, "timezone", json_object_new_string(PQgetvalue(res, i, 6)));
    json_object *items = json_object_new_array();
    json_object_array_add(items, item);
    const char *fp[] = { PQgetvalue(res, i, 1), PQgetvalue(res, i, 2), PQgetvalue(res, i, 3), PQgetvalue(res, i, 4),
                         json_object_to_json_string_ext(items, JSON_C_TO_STRING_PLAIN) };
    PGresult *r2 = NULL;
    int rc = gl_db_query(db, &q_fire, fp, NULL, &r2, err);
    json_object_put(items);
    if (rc == GL_OK)
        PQclear(r2);
    return rc;
}

static int fire_batch(gl_db_t *db, void *arg, gl_err_t *err)
{
    fire_ctx_t *fc = arg;
    fc->fired = 0;
    const char *p[] = { BATCH };
    PGresult *res = NULL;
    int rc = gl_db_query(db, &q_due, p, NULL, &res, err);
    if (rc != GL_OK)
        return rc;
    int n = PQntuples(res);
    for (int i = 0; i < n && rc == GL_OK; i++) {
        const char *id = PQgetvalue(res, i, 0);
        sched_t sc;
        sched_open(&sc, PQgetvalue(res, i, 5), PQgetvalue(res, i, 6));
        int64_t now = gl_db_int(res, i, 8);
        int64_t next;
        if (PQgetisnull(res, i, 7)) {
            next = next_time(&sc, now); /* never computed: the first time from now on */
        } else {
            next = gl_db_int(res, i, 7);
            int64_t oldest = now - (int64_t)fc->cfg->executor_schedule_catchup * 1000;
            if (next < oldest) {
                gl_log(GL_LOG_WARN, "schedule %s: due times more than %d s ago are skipped (executor.schedule_catchup)",
                       id, fc->cfg->executor_schedule_catchup);
                next = next_time(&sc, oldest - 1000);
            }
            for (int k = 0; rc == GL_OK && next >= 0 && next <= now && k < FIRE_MAX; k++) {
                rc = fire_one(db, res, i, next, now, err);
                if (rc == GL_OK) {
                    fc->fired++;
                    next = next_time(&sc, next);
                }
            }
        }
        gl_tz_free(sc.tz);
        if (rc != GL_OK)
            break;
        char next_s[24];
        snprintf(next_s, sizeof next_s, "%lld", (long long)next);
        const char *np[] = { id, next >= 0 ? next_s : NULL };
        rc = gl_db_query(db, &q_next, np, NULL, NULL, err);
    }
    PQclear(res);
    return rc;
}

int gl_schedules_fire(gl_db_t *db, const gl_config_t *cfg, int *fired, gl_err_t *err)
{
    fire_ctx_t fc = { .cfg = cfg, .fired = 0 };
    int rc = gl_db_tx(db, fire_batch, &fc, err);
    *fired = rc == GL_OK ? fc.fired : 0;
    return rc;
}
