/*
 * lease.h: the lease keeper — a thread of each executor worker process,
 * with its own database connection, that keeps the worker's leases alive
 * and hands back work the worker cannot start soon.
 *
 *   - every beat (gl_lease_beat_ms) it renews exactly the jobs the worker
 *     holds: the running one, finished ones whose outcome is not recorded
 *     yet, and claimed ones not started. A lease lapses only when the
 *     process is gone or cannot reach the database for a whole lease —
 *     never because a node, a batch or a flush took long;
 *   - when the worker's batch has been running longer than
 *     GL_LEASE_SLOW_MS, it releases the batch's unstarted jobs, so idle
 *     workers take them instead of waiting behind a slow one.
 *
 * The worker tells it what it claimed (gl_lease_hold), asks before each
 * job whether that job is still its to start (gl_lease_begin), and says
 * when it no longer holds a job (gl_lease_drop: outcome recorded, or given
 * up — then the lease runs out and the rescuer takes the job).
 */
#ifndef GL_EXECUTOR_LEASE_H
#define GL_EXECUTOR_LEASE_H

#include "db.h"

#include <stdint.h>

/* A batch running this long hands its unstarted jobs back. */
#define GL_LEASE_SLOW_MS 500

/* A worker with no connection left that renewed nothing for this many
 * beats is gone: the rescuer requeues its jobs that never started without
 * waiting for their leases (sql/006_exactly_once.sql, rescue_jobs). */
#define GL_LEASE_QUIET_BEATS 2

typedef struct gl_lease gl_lease_t;

/* How often leases of lease_s seconds are renewed: a third of the lease,
 * at least 1 s and at most 5 s. */
int gl_lease_beat_ms(int lease_s);

/* Starts the keeper for owner (copied) with its own connection (dbo's
 * strings are copied). Signals stay with the calling thread. Free with
 * gl_lease_stop(). */
gl_lease_t *gl_lease_start(const gl_db_opts_t *dbo, const char *owner, int lease_s);

/* Releases what it still should, stops the thread, frees everything. */
void gl_lease_stop(gl_lease_t *l);

/* The worker claimed ids[0..n) (in the order it will start them). */
void gl_lease_hold(gl_lease_t *l, const int64_t *ids, int n);

/* The worker is about to start job id: true if it may (the keeper did not
 * release it). */
bool gl_lease_begin(gl_lease_t *l, int64_t id);

/* The worker no longer holds ids[0..n): their leases are not renewed. */
void gl_lease_drop(gl_lease_t *l, const int64_t *ids, int n);

/* The worker gave up recording job id's outcome: its lease is no longer
 * renewed, and it is not handed back (it ran) but left to run out. */
void gl_lease_give_up(gl_lease_t *l, int64_t id);

/* Keeps in ids[0..n) those the worker knows nothing of — not held, not
 * being handed back by the keeper, no given-up outcome whose lease may
 * still run: claims whose answer it never read — and returns how many. */
int gl_lease_unknown(gl_lease_t *l, int64_t *ids, int n);

/* Hands every unstarted job of the batch back to the queue (graceful
 * stop, deadline): the keeper releases them at once, and retries each beat
 * while the database refuses (a last time when it stops). */
void gl_lease_release_unstarted(gl_lease_t *l);

#endif
