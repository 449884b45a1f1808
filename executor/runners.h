/*
 * runners.h: a worker's runner threads — the jobs one executor process runs
 * at once (executor.concurrency). A job waiting on the network (an
 * http.request, a credential's token refresh) then holds one thread and one
 * connection of its process, not the whole process.
 *
 * The worker's loop stays the only one to claim, begin, record outcomes and
 * count: it hands a copy of a job to a free runner (gl_runners_submit) and
 * gets each finished job back, on its own thread, through the done
 * callback it passes. Jobs are copied so that the loop can claim its next
 * batch while the last one's jobs still run. Each runner has its own connection (named like the worker's
 * others, so the rescuer counts it among them) and its own arena.
 */
#ifndef GL_EXECUTOR_RUNNERS_H
#define GL_EXECUTOR_RUNNERS_H

#include "db.h"
#include "job_kinds.h"

typedef struct gl_runners gl_runners_t;

/* What became of one job. */
typedef struct {
    const gl_job_t *job;
    gl_job_result_t result;
    double ms;           /* how long it ran */
    char error[512];     /* set when result is not GL_JOB_OK */
} gl_runner_done_t;

typedef void (*gl_runner_done_fn)(void *ud, const gl_runner_done_t *d);

/* Runs job on db (rolled back after it), using arena (reset after it): the
 * one way a job runs, inline or on a runner. */
void gl_run_job(const gl_job_t *job, gl_db_t *db, gl_arena_t *arena, const char *owner, int lease_s,
                bool test_kinds, gl_runner_done_t *out);

/* n threads (n >= 2), their signals blocked (the worker's loop takes them);
 * NULL when not one could be started (the loop then runs jobs itself). */
gl_runners_t *gl_runners_start(int n, const gl_db_opts_t *dbo, const char *owner, int lease_s, bool test_kinds);
/* Hands a copy of job to a free runner, first waiting for one; done is
 * called here for every job that finished meanwhile (its d->job is the
 * runner's copy, valid during the call). */
void gl_runners_submit(gl_runners_t *r, const gl_job_t *job, gl_runner_done_fn done, void *ud);
/* How many runners there are; how many of them run a job now (a finished
 * job not taken back yet does not count). */
int gl_runners_size(const gl_runners_t *r);
int gl_runners_running(gl_runners_t *r);
/* A descriptor that is readable while a job has ended that was not taken
 * back yet (gl_runners_collect takes them back): for poll(). */
int gl_runners_fd(const gl_runners_t *r);
/* Calls done for every job that finished; with wait_ms > 0, first waits up
 * to wait_ms until at least one has (none runs: no wait). */
void gl_runners_collect(gl_runners_t *r, int wait_ms, gl_runner_done_fn done, void *ud);
/* Waits until every job handed over has finished, calling done for each. */
void gl_runners_wait(gl_runners_t *r, gl_runner_done_fn done, void *ud);
/* Waits for what runs, stops the threads, closes their connections. */
void gl_runners_stop(gl_runners_t *r);

#endif
