/*
 * job_kinds.h: job kinds and the functions that run them. The engine
 * registers workflow executions here; tests register the test.* kinds.
 */
#ifndef GL_EXECUTOR_JOB_KINDS_H
#define GL_EXECUTOR_JOB_KINDS_H

#include "arena.h"
#include "db.h"
#include "queue.h"

typedef enum {
    GL_JOB_OK = 0,
    GL_JOB_RETRY,  /* failed; try again after backoff if attempts are left */
    GL_JOB_FATAL,  /* failed; never retry (straight to dead) */
} gl_job_result_t;

typedef struct {
    const gl_job_t *job;
    gl_db_t *db;          /* the worker's connection, in autocommit */
    gl_arena_t *arena;    /* reset after the job */
    const char *owner;
    int lease_s;          /* the lease a heartbeat renews */
    char error[512];      /* set on failure */
} gl_job_ctx_t;

/* Renews the running job's lease and says whether it is still ours. The
 * worker's lease keeper (lease.c) renews every job it holds anyway; a long
 * handler calls this now and then to learn that its job was canceled or
 * taken from it. GL_NOTFOUND when the lease is no longer ours (stop working
 * on it); GL_OK otherwise, also when the database cannot be reached just
 * now (the job's writes are fenced, so going on is safe). */
int gl_job_heartbeat(gl_job_ctx_t *ctx) GL_WUR;

typedef gl_job_result_t (*gl_job_fn)(gl_job_ctx_t *ctx);

/* What running a batch of jobs together made of one of them. */
typedef enum {
    GL_JOB_BATCH_ALONE = 0, /* not run: run it alone (its lease is begun) */
    GL_JOB_BATCH_OUTCOME,   /* run: record result[i] as any job's outcome */
    GL_JOB_BATCH_DONE,      /* run, and its completion already recorded with its end */
} gl_job_batch_t;

/* Runs ctx[0 .. n) — jobs of one kind, each lease begun, sharing one
 * connection — together where the kind can; sets how[i], and result[i]
 * (with ctx[i].error) for GL_JOB_BATCH_OUTCOME. */
typedef void (*gl_job_batch_fn)(gl_job_ctx_t *ctx, int n, gl_job_batch_t *how, gl_job_result_t *result);

typedef struct {
    const char *kind;
    gl_job_fn run;
    gl_job_batch_fn batch; /* NULL: one at a time only */
} gl_job_kind_t;

/* The handler of kind, or NULL. test.* kinds only when enabled. */
gl_job_fn gl_job_kind_find(const char *kind, bool test_kinds);

/* The kind's batch runner, or NULL. */
gl_job_batch_fn gl_job_kind_batch(const char *kind);

#endif
