/*
 * queue.h: the client of the durable job queue (sql/004_queue.sql) — used
 * by glyphic-fcgi to enqueue inside a request's transaction, and by
 * glyphic-executor to claim, complete, fail, heartbeat and maintain.
 */
#ifndef GL_QUEUE_H
#define GL_QUEUE_H

#include "arena.h"
#include "db.h"
#include "gl.h"

#define GL_QUEUE_CHANNEL "glyphic_jobs"
/* A job's recorded error is cut to this many bytes (at a character). */
#define GL_QUEUE_MAX_ERROR 2000

typedef struct {
    const char *kind;          /* required */
    const char *payload;       /* JSON text; NULL: {} */
    const char *queue;         /* NULL: "default" */
    const char *org_id;        /* NULL: a system job */
    int priority;              /* lower runs first */
    const char *run_at;        /* timestamptz text; NULL: now */
    int max_attempts;          /* 0: 10 */
    int backoff_ms;            /* base of the exponential backoff; <0: 1000 */
    const char *unique_key;    /* NULL: none; a duplicate returns the existing id */
} gl_job_spec_t;

typedef struct {
    int64_t id;
    const char *kind;
    const char *payload;       /* JSON text */
    int attempts;              /* this one included */
    int max_attempts;
    const char *org_id;        /* "" for system jobs */
} gl_job_t;

/* Enqueues in the current transaction (if any): the job and its NOTIFY
 * happen only if that transaction commits. */
int gl_queue_enqueue(gl_db_t *db, const gl_job_spec_t *spec, int64_t *id_out, gl_err_t *err) GL_WUR;

/* Claims up to limit due jobs of queue for owner, in the order to run them:
 * round-robin between orgs, none of an org at its limits.org_max_running;
 * *jobs (arena) and *n. */
int gl_queue_claim(gl_db_t *db, const char *queue, const char *owner, int limit, int lease_s,
                   gl_arena_t *arena, gl_job_t **jobs, int *n, gl_err_t *err) GL_WUR;

/* Batch outcomes; each is one statement. */
int gl_queue_complete(gl_db_t *db, const int64_t *ids, int n, const char *owner, gl_err_t *err) GL_WUR;
int gl_queue_fail(gl_db_t *db, const int64_t *ids, const char *const *errors, const bool *retryable, int n,
                  const char *owner, gl_err_t *err) GL_WUR;
/* *released (if given): how many went back (unstarted, still owner's). */
int gl_queue_release(gl_db_t *db, const int64_t *ids, int n, const char *owner, int *released, gl_err_t *err) GL_WUR;
/* The running jobs leased to owner and not started, *ids (arena) and *n
 * (at most 10000): after a lost connection, those owner never heard it
 * claim are among them. */
int gl_queue_owned_unstarted(gl_db_t *db, const char *owner, gl_arena_t *arena, int64_t **ids, int *n,
                             gl_err_t *err) GL_WUR;

/* Renews the leases of ids[0..n) still running under owner. */
int gl_queue_heartbeat(gl_db_t *db, const int64_t *ids, int n, const char *owner, int lease_s,
                       gl_err_t *err) GL_WUR;

/* Renews one running job's lease; *renewed is 1, or 0 when the job is no
 * longer running under owner (rescued, canceled). */
int gl_queue_heartbeat_one(gl_db_t *db, int64_t id, const char *owner, int lease_s, int *renewed,
                           gl_err_t *err) GL_WUR;

/* Says owner waits on queue for up to seconds (0: stopped waiting). */
int gl_queue_waiting(gl_db_t *db, const char *queue, const char *owner, double seconds, gl_err_t *err) GL_WUR;

/* Maintenance: the jobs of dead workers back to the queue (lease expired,
 * or no connection left and no renewal for quiet_s seconds); old
 * dead/canceled jobs out. */
int gl_queue_rescue(gl_db_t *db, int lease_s, int quiet_s, int *n, gl_err_t *err) GL_WUR;
int gl_queue_prune(gl_db_t *db, int days, int *n, gl_err_t *err) GL_WUR;

/* Operator actions; *found false when no job was in a state that allows it. */
int gl_queue_cancel(gl_db_t *db, int64_t id, bool *found, gl_err_t *err) GL_WUR;
int gl_queue_retry(gl_db_t *db, int64_t id, bool *found, gl_err_t *err) GL_WUR;

/* Counts by queue and state, oldest due wait, last minute's throughput, as
 * JSON (arena copy) — what the caller's role may see. */
int gl_queue_stats(gl_db_t *db, gl_arena_t *arena, const char **json, gl_err_t *err) GL_WUR;

#endif
