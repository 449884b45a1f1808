/*
 * metrics.h: the executor's counters. A process counts in memory (atomic
 * adds: the worker's loop counts, its lease keeper flushes) and adds what
 * it counted to the database every few seconds and when it exits
 * (glyphic.metrics_add, sql/025_metrics.sql), so the counters glyphic-fcgi
 * serves on GET /metrics only grow, across executor restarts and cron runs.
 */
#ifndef GL_EXECUTOR_METRICS_H
#define GL_EXECUTOR_METRICS_H

#include "db.h"

/* How often a running process adds its counts to the database. */
#define GL_EXEC_METRICS_EVERY_MS 5000

void gl_exec_metrics_claimed(int n);
void gl_exec_metrics_job(bool succeeded);
/* An execution ended with status ("succeeded", "failed", "canceled") and
 * trigger ("manual", "webhook", …); values outside the fixed sets count as
 * "other". */
void gl_exec_metrics_execution(const char *status, const char *trigger);
/* A node attempt of node_type took ms milliseconds. Types beyond the
 * first 64 distinct ones (there are fewer) count as "other". */
void gl_exec_metrics_step(const char *node_type, int64_t ms);
void gl_exec_metrics_rescued(int n);
/* Is the worker running a batch now (the state it reports)? */
void gl_exec_metrics_busy(bool busy);
bool gl_exec_metrics_is_busy(void);

/* What a caller's connections had counted at its last call. */
typedef struct {
    uint64_t errors, reconnects;
} gl_exec_db_seen_t;

/* Counts what dbs[0..n) counted (errors, reconnects) since the caller's
 * last call; *seen is the caller's own (zeroed at first), and the handles
 * are the same each time. */
void gl_exec_metrics_db(gl_db_t *const *dbs, int n, gl_exec_db_seen_t *seen);

typedef enum { GL_EXEC_NO_STATE, GL_EXEC_IDLE, GL_EXEC_BUSY, GL_EXEC_GONE } gl_exec_state_t;

/*
 * Adds what was counted since the last flush to the database, in one
 * statement, with the state of the worker named owner (GL_EXEC_NO_STATE:
 * none, e.g. the maintainer; GL_EXEC_GONE: it exits). On failure the counts
 * are kept for the next flush and err says why. Call from one thread at a
 * time.
 */
int gl_exec_metrics_flush(gl_db_t *db, const char *owner, gl_exec_state_t state, gl_err_t *err) GL_WUR;

#endif
