/*
 * job_kinds.c: the table of job kinds. workflow.run (workflow_job.c) runs executions;
 * the test.* kinds exist for tests and benchmarks
 * and are registered only with executor.test_kinds = true:
 *
 *   test.noop     succeeds
 *   test.sleep    {"ms": N} sleeps N ms (renewing its lease meanwhile), then
 *                 succeeds
 *   test.fail     {"times": N} fails (retryable) while attempts <= N
 *   test.fatal    fails, not retryable
 *   test.record   {"t_us": T, "sleep_ms": S} inserts (job id, attempt, owner,
 *                 start time on CLOCK_MONOTONIC and T, in microseconds) into
 *                 public.glyphic_test_runs — every start, even one whose
 *                 completion is then lost — sleeps S ms, and succeeds
 */
#include "job_kinds.h"

#include "json.h"
#include "log.h"
#include "workflow_job.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static int64_t payload_int(const gl_job_ctx_t *c, const char *key, int64_t def)
{
    json_object *o = NULL;
    gl_err_t err;
    if (gl_json_parse(c->job->payload, strlen(c->job->payload), 32, &o, &err) != GL_OK)
        return def;
    json_object *v;
    int64_t out = def;
    if (json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_int))
        out = json_object_get_int64(v);
    json_object_put(o);
    return out;
}

static gl_job_result_t run_noop(gl_job_ctx_t *c)
{
    (void)c;
    return GL_JOB_OK;
}

int gl_job_heartbeat(gl_job_ctx_t *ctx)
{
    gl_err_t err;
    gl_err_clear(&err);
    int n = 0;
    int rc = gl_queue_heartbeat_one(ctx->db, ctx->job->id, ctx->owner, ctx->lease_s, &n, &err);
    if (rc != GL_OK) {
        /* the database cannot be asked now: the lease keeper goes on
         * renewing, and every write of the job is fenced — stopping a
         * transfer for this would only make it run twice */
        gl_log(GL_LOG_DEBUG, "lease check skipped: %s", err.msg);
        return GL_OK;
    }
    return n == 1 ? GL_OK : GL_NOTFOUND;
}

static gl_job_result_t run_sleep(gl_job_ctx_t *c)
{
    int64_t left = payload_int(c, "ms", 100);
    /* sleep in slices of a third of the lease, renewing it between them */
    int64_t slice = (int64_t)c->lease_s * 1000 / 3;
    if (slice < 1)
        slice = 1;
    while (left > 0) {
        int64_t ms = left < slice ? left : slice;
        struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
        while (nanosleep(&ts, &ts) != 0) {
        }
        left -= ms;
        if (left > 0 && gl_job_heartbeat(c) != GL_OK) {
            snprintf(c->error, sizeof c->error, "test.sleep: lost the lease");
            return GL_JOB_RETRY;
        }
    }
    return GL_JOB_OK;
}

static gl_job_result_t run_fail(gl_job_ctx_t *c)
{
    if (c->job->attempts <= payload_int(c, "times", 1)) {
        snprintf(c->error, sizeof c->error, "test.fail: attempt %d fails on purpose", c->job->attempts);
        return GL_JOB_RETRY;
    }
    return GL_JOB_OK;
}

static gl_job_result_t run_fatal(gl_job_ctx_t *c)
{
    snprintf(c->error, sizeof c->error, "test.fatal: not retryable");
    return GL_JOB_FATAL;
}

static gl_job_result_t run_record(gl_job_ctx_t *c)
{
    static const gl_stmt_t q_run = {
        .name = "test_record",
        .sql = "INSERT INTO public.glyphic_test_runs (job_id, attempt, owner, started_us, sent_us) "
               "VALUES ($1, $2, $3, $4, $5)",
        .nparams = 5,
        .rows = false,
    };
    char id[24], attempt[16], started[24], sent[24];
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now); /* comparable across processes */
    snprintf(started, sizeof started, "%lld", (long long)now.tv_sec * 1000000 + now.tv_nsec / 1000);
    snprintf(id, sizeof id, "%lld", (long long)c->job->id);
    snprintf(attempt, sizeof attempt, "%d", c->job->attempts);
    snprintf(sent, sizeof sent, "%lld", (long long)payload_int(c, "t_us", 0));
    const char *params[] = { id, attempt, c->owner, started, sent };
    gl_err_t err;
    gl_err_clear(&err);
    if (gl_db_query(c->db, &q_run, params, NULL, NULL, &err) != GL_OK) {
        snprintf(c->error, sizeof c->error, "test.record: %s", err.msg);
        return GL_JOB_RETRY;
    }
    int64_t ms = payload_int(c, "sleep_ms", 0);
    if (ms > 0) {
        struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
        while (nanosleep(&ts, &ts) != 0) {
        }
    }
    return GL_JOB_OK;
}

static const gl_job_kind_t kinds[] = {
    { "workflow.run", gl_workflow_job_run, gl_workflow_jobs_run_batch },
    { NULL, NULL, NULL },
};

static const gl_job_kind_t test_kinds_table[] = {
    { "test.noop", run_noop, NULL },
    { "test.sleep", run_sleep, NULL },
    { "test.fail", run_fail, NULL },
    { "test.fatal", run_fatal, NULL },
    { "test.record", run_record, NULL },
    { NULL, NULL, NULL },
};

gl_job_fn gl_job_kind_find(const char *kind, bool test_kinds)
{
    for (const gl_job_kind_t *k = kinds; k->kind; k++)
        if (strcmp(k->kind, kind) == 0)
            return k->run;
    if (test_kinds)
        for (const gl_job_kind_t *k = test_kinds_table; k->kind; k++)
            if (strcmp(k->kind, kind) == 0)
                return k->run;
    return NULL;
}

gl_job_batch_fn gl_job_kind_batch(const char *kind)
{
    for (const gl_job_kind_t *k = kinds; k->kind; k++)
        if (strcmp(k->kind, kind) == 0)
            return k->batch;
    return NULL;
}
