/*
 * maintainer.c: the executor's maintenance process. Every glyphic-executor
 * starts one beside its workers; the one that holds an advisory lock (one
 * in the whole installation) does the work, the others stand by and try
 * for the lock every second, so when its executor stops another takes over
 * within a second.
 *
 *   every second:                fire due schedules (schedules.c)
 *   every executor.maintenance_interval seconds:
 *                                requeue the jobs of dead workers, prune old
 *                                jobs and executions, mark abandoned
 *                                executions failed, let live-progress watches
 *                                whose lease ran out go
 *   every hour (the first time one maintenance interval after the election):
 *                                the file store's gc (filestore_db.c): uploads
 *                                that never finished, older than files.temp_hours,
 *                                and the contents no row of glyphic.files names
 *
 * Each of these reads an index, never every execution. Pruning to
 * executions.keep_per_workflow looks at every workflow on the first pass
 * after election, then only at the workflows with an execution finished
 * since the last successful pass (plus a margin for transactions that were
 * still committing then).
 *
 * It never runs a job, so a long job cannot make a schedule late or a
 * rescue wait.
 */
#include "maintainer.h"

#include "db.h"
#include "filestore_db.h"
#include "lease.h"
#include "log.h"
#include "metrics.h"
#include "queue.h"
#include "workflow_job.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* seconds between two collections of the file store */
#define FILES_GC_INTERVAL_S 3600

/* pg_try_advisory_lock key of the elected maintainer: "glyphic maint" */
#define GL_MAINT_LOCK "7396519044872"

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static const gl_stmt_t q_lock = {
    .name = "maint_lock", .sql = "SELECT pg_try_advisory_lock(" GL_MAINT_LOCK ")", .nparams = 0, .rows = true,
};
static const gl_stmt_t q_exec_reap = {
    .name = "exec_reap", .sql = "SELECT glyphic.exec_reap()", .nparams = 0, .rows = true,
};
static const gl_stmt_t q_exec_prune = {
    .name = "exec_prune", .sql = "SELECT glyphic.exec_prune($1::int, $2::int, $3::int)", .nparams = 3, .rows = true,
};
static const gl_stmt_t q_watch_expire = {
    .name = "exec_watch_expire", .sql = "SELECT glyphic.exec_watch_expire()", .nparams = 0, .rows = true,
};

/* seconds added to the prune window: finished_at is its transaction's
 * start, which can precede the last pass by that transaction's length */
#define PRUNE_WINDOW_MARGIN_S 300

/* Runs a one-integer statement; logs a failure. */
static bool count_of(gl_db_t *db, const gl_stmt_t *q, const char *const *params, int64_t *n, const char *what)
{
    gl_err_t err;
    gl_err_clear(&err);
    PGresult *res = NULL;
    if (gl_db_query(db, q, params, NULL, &res, &err) != GL_OK) {
        gl_log(GL_LOG_WARN, "%s failed: %s", what, err.msg);
        return false;
    }
    *n = gl_db_int(res, 0, 0);
    PQclear(res);
    return true;
}

/* last_prune_ms: when the last successful execution prune started (0:
 * none since election, so the next one looks at every workflow). */
static void maintain(gl_db_t *db, const gl_config_t *cfg, int64_t *last_prune_ms)
{
    gl_err_t err;
    gl_err_clear(&err);
    int rescued = 0, pruned = 0;
    int quiet_s = GL_LEASE_QUIET_BEATS * gl_lease_beat_ms(cfg->executor_lease) / 1000;
    if (gl_queue_rescue(db, cfg->executor_lease, quiet_s, &rescued, &err) != GL_OK ||
        gl_queue_prune(db, cfg->executor_prune_days, &pruned, &err) != GL_OK) {
        gl_log(GL_LOG_WARN, "maintenance failed: %s", err.msg);
        return;
    }
    gl_exec_metrics_rescued(rescued);
    if (rescued || pruned)
        gl_log(GL_LOG_INFO, "maintenance: %d job(s) of stopped workers requeued, %d old job(s) pruned", rescued,
               pruned);
    char days[16], keep[16], window[24];
    snprintf(days, sizeof days, "%d", cfg->executions_retention_days);
    snprintf(keep, sizeof keep, "%d", cfg->executions_keep_per_workflow);
    int64_t started = gl_now_ms();
    int64_t window_s = *last_prune_ms ? (started - *last_prune_ms) / 1000 + PRUNE_WINDOW_MARGIN_S : 0;
    if (window_s > INT32_MAX)
        window_s = 0;
    snprintf(window, sizeof window, "%lld", (long long)window_s);
    const char *pp[] = { days, keep, window_s ? window : NULL };
    int64_t n = 0;
    if (count_of(db, &q_exec_prune, pp, &n, "pruning executions")) {
        *last_prune_ms = started;
        if (n > 0)
            gl_log(GL_LOG_INFO, "maintenance: %lld old execution(s) pruned", (long long)n);
    }
    if (count_of(db, &q_exec_reap, NULL, &n, "reaping abandoned executions") && n > 0)
        gl_log(GL_LOG_WARN, "maintenance: %lld abandoned execution(s) marked failed", (long long)n);
    if (count_of(db, &q_watch_expire, NULL, &n, "expiring live-progress watches") && n > 0)
        gl_log(GL_LOG_INFO, "maintenance: the watches of %lld execution(s) expired", (long long)n);
}

/* The maintainer's counts (rescues, its connection's errors) to the
 * database; what fails waits for the next pass. */
static void flush_metrics(gl_db_t *db)
{
    gl_err_t err;
    gl_err_clear(&err);
    static gl_exec_db_seen_t seen;
    gl_exec_metrics_db(&db, 1, &seen);
    if (gl_exec_metrics_flush(db, NULL, GL_EXEC_NO_STATE, &err) != GL_OK)
        gl_log(GL_LOG_DEBUG, "adding the metrics failed (kept for later): %s", err.msg);
}

/* The file store's garbage: what `glyphic files gc` removes. */
static void files_gc(gl_db_t *db, const gl_config_t *cfg)
{
    gl_err_t err;
    gl_err_clear(&err);
    gl_filestore_gc_t rep;
    memset(&rep, 0, sizeof rep);
    if (gl_filestore_gc_db(db, cfg, &rep, &err) != GL_OK)
        gl_log(GL_LOG_WARN, "file store gc failed: %s", err.msg);
    if (rep.content_files || rep.temp_files)
        gl_log(GL_LOG_INFO, "file store gc: %lld unreferenced file(s) (%lld bytes) and %lld unfinished upload(s) "
               "(%lld bytes) removed", (long long)rep.content_files, (long long)rep.content_bytes,
               (long long)rep.temp_files, (long long)rep.temp_bytes);
}

static void nap_until(int64_t when_ms)
{
    int64_t ms = when_ms - gl_now_ms();
    if (ms <= 0 || stop_requested)
        return;
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL); /* SIGTERM cuts it short */
}

int gl_maintainer_run(const gl_exec_opts_t *o)
{
    gl_exec_take_signals(on_stop);
    gl_log_context("maintainer");

    const gl_config_t *cfg = o->cfg;
    gl_db_opts_t dbo = { .conninfo = cfg->db_executor_url, .trusted = true, .appname = "glyphic-executor maintainer",
                         .connect_timeout_s = cfg->db_connect_timeout, .retry_interval_ms = 1000 };
    gl_db_t *db = gl_db_new(&dbo);
    bool elected = false;
    uint64_t elected_on = 0; /* the lock lives and dies with its connection */
    int64_t next_maintenance = 0, last_prune = 0, next_files_gc = 0;
    int status = 0;

    while (!stop_requested) {
        int64_t tick = gl_now_ms();
        gl_err_t err;
        gl_err_clear(&err);
        int rc = gl_db_ensure(db, &err);
        if (rc == GL_SCHEMA) {
            gl_log(GL_LOG_ERROR, "%s", err.msg);
            status = 1;
            break;
        }
        if (rc != GL_OK || gl_db_generation(db) != elected_on)
            elected = false;
        if (rc == GL_OK && !elected) {
            PGresult *res = NULL;
            if (gl_db_query(db, &q_lock, NULL, NULL, &res, &err) == GL_OK) {
                elected = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
                PQclear(res);
            }
            if (elected) {
                elected_on = gl_db_generation(db);
                last_prune = 0; /* another maintainer may have missed some */
                /* not at once: an executor starting with a backlog has
                 * better use for the CPU, and nothing is older than a lease */
                next_maintenance = gl_now_ms() + (int64_t)cfg->executor_maintenance_interval * 1000;
                next_files_gc = next_maintenance;
                gl_log(GL_LOG_INFO, "elected to run maintenance");
            }
        }
        if (elected) {
            int fired = 0;
            if (gl_schedules_fire(db, cfg, &fired, &err) != GL_OK)
                gl_log(GL_LOG_WARN, "firing schedules failed: %s", err.msg);
            else if (fired)
                gl_log(GL_LOG_INFO, "%d schedule firing(s)", fired);
            if (gl_now_ms() >= next_maintenance) {
                maintain(db, cfg, &last_prune);
                flush_metrics(db);
                next_maintenance = gl_now_ms() + (int64_t)cfg->executor_maintenance_interval * 1000;
            }
            if (gl_now_ms() >= next_files_gc) {
                files_gc(db, cfg);
                next_files_gc = gl_now_ms() + (int64_t)FILES_GC_INTERVAL_S * 1000;
            }
        }
        nap_until(tick + 1000);
    }
    if (gl_db_conn(db))
        flush_metrics(db);
    gl_db_free(db); /* the lock goes with the connection */
    return status;
}
