/*
 * job_loop.c: an executor worker process. Two connections of its own — one
 * to work on (claims, outcomes, the handlers' queries) and one that
 * LISTENs — and a lease keeper thread with a third (lease.c).
 *
 *   loop: record pending outcomes -> claim what it can start soon -> run
 *         each job, or hand it to a free runner thread -> record outcomes
 *         (two statements: complete, fail). With runners the loop claims
 *         again as soon as one is free: jobs of the last claim may still
 *         run (each runner has a copy of its job), and every runner busy
 *         means waiting for one, not for the whole batch
 *   idle: say "waiting" (queue_waiters), look once more, then poll() the
 *         LISTEN socket up to executor.poll_ms (and the runners' eventfd:
 *         a job that ends is recorded at once): NOTIFY is a doorbell, the
 *         table is the truth
 *
 * Claims fit the work: the worker keeps a moving average of how long its
 * jobs take and claims about CLAIM_HORIZON_MS of them (at most
 * executor.batch; FIRST_CLAIM before it knows), so quick jobs travel in
 * large batches and slow ones one at a time; a batch that turns out slow
 * (GL_LEASE_SLOW_MS) makes the keeper hand its unstarted jobs back to the
 * queue at once.
 *
 * Outcomes are recorded in batches: at the latest FLUSH_MS after a job
 * ended, at once when there is nothing to claim, and without runners also
 * before a job that is slow on average (SLOW_JOB_MS: a crash in it must not
 * run finished jobs again; with runners a crash ends the jobs running
 * beside it too, and a commit before each job would keep free runners
 * waiting on the loop). Until then the keeper renews their leases with the
 * rest, so a finished job is never rescued and run again. Outcomes survive
 * a lost connection and are recorded after reconnecting, and a claim that
 * committed while its answer was lost is handed back on the next connection
 * (release_lost_claims). An outcome the database
 * refuses for good (not a lost connection or a serialization failure) is
 * recorded one by one, then as a plain failure, then dropped with a log
 * line (its lease is no longer renewed, so it runs again later, until its
 * attempts are spent) — the worker never stops claiming because of one
 * job.
 *
 * SIGTERM: the running job finishes, unstarted jobs are released, outcomes
 * recorded, exit. In --drain mode the exit status says whether the run
 * reached the database: 1 when it gave up on an unreachable database
 * (GIVE_UP_MS), stopped while it was unreachable, or could not record
 * outcomes.
 */
#include "job_loop.h"

#include "arena.h"
#include "db.h"
#include "job_kinds.h"
#include "lease.h"
#include "log.h"
#include "metrics.h"
#include "queue.h"
#include "runners.h"

#include <errno.h>
#include <sodium.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#define CLAIM_HORIZON_MS 250.0 /* claim about this much work at once */
#define FIRST_CLAIM 8          /* what a worker claims before it knows how long jobs take */
#define FLUSH_MS 1000          /* a quick job's outcome waits at most this long for its batch */
#define SLOW_JOB_MS 50.0       /* outcomes are recorded before a job this slow (on average) */
#define INLINE_JOB_MS 1.0      /* with runner threads, jobs quicker than this (on average) run on the loop */
#define SOFT_RETRIES 3         /* tries of an outcome the server refused for a passing reason */
#define GIVE_UP_MS 30000       /* --drain: the database unreachable this long ends the run */

static volatile sig_atomic_t stop_requested;
/* written by on_stop, polled by the wait for the doorbell: a stop that
 * comes just before the poll (during a claim, a LISTEN) ends it at once,
 * not after executor.poll_ms. The runners' eventfd when there are runners,
 * else one of its own (-1: none could be made; the flag is still checked
 * before the wait). */
static volatile sig_atomic_t stop_wake_fd = -1;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
    if (stop_wake_fd >= 0) {
        int saved = errno;
        (void)eventfd_write(stop_wake_fd, 1);
        errno = saved;
    }
}

typedef struct {
    const gl_exec_opts_t *o;
    char owner[64];
    gl_db_t *work;
    gl_db_t *listen;
    uint64_t listening_on;    /* the connection LISTEN was issued on (gl_db_generation) */
    uint64_t claims_seen_on;  /* the connection lost claims were last looked for on */
    gl_lease_t *lease;
    double avg_job_ms;        /* moving average of job durations; 0: none yet */
    int64_t unreachable_since; /* 0: the database answered last time */
    bool reached;             /* the database answered at least once */
    /* outcomes waiting to be recorded */
    int64_t *ok, *failed;
    char **errors;
    bool *retryable;
    int n_ok, n_failed, cap;
    int64_t oldest_pending_ms;
    int soft_failures;        /* recording errors in a row that may pass (transient()) */
    gl_exec_db_seen_t db_seen; /* the loop's connections, for the metrics */
    gl_runners_t *runners;    /* executor.concurrency > 1: the threads jobs run on; NULL: here */
} worker_t;

static void nap(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL); /* a signal cuts it short, which is what we want */
}

/* May the same statement pass later? A lost connection: always (the
 * outcome waits for the database). A serialization failure, a timeout, or
 * what the server runs short of (53: disk, memory; 57: shutting down; 58:
 * I/O; XX: internal): SOFT_RETRIES times in a row — some of those fail the
 * same way every time, and a worker must not stop claiming for good. Not a
 * refusal of the data (22, 23, 42, P0, our own codes). */
static bool transient(worker_t *w, int rc, const gl_err_t *err)
{
    if (rc == GL_UNAVAILABLE && (!err->sqlstate[0] || strncmp(err->sqlstate, "08", 2) == 0))
        return true;
    bool soft = rc == GL_UNAVAILABLE || rc == GL_RETRY;
    static const char *const classes[] = { "40", "53", "57", "58", "XX" };
    for (size_t i = 0; i < GL_NELEM(classes) && !soft; i++)
        soft = strncmp(err->sqlstate, classes[i], 2) == 0;
    return soft && w->soft_failures++ < SOFT_RETRIES;
}

static void grow(worker_t *w, int need)
{
    if (need <= w->cap)
        return;
    int cap = w->cap ? w->cap : 64;
    while (cap < need)
        cap *= 2;
    w->ok = gl_xrealloc(w->ok, (size_t)cap * sizeof *w->ok);
    w->failed = gl_xrealloc(w->failed, (size_t)cap * sizeof *w->failed);
    w->errors = gl_xrealloc(w->errors, (size_t)cap * sizeof *w->errors);
    w->retryable = gl_xrealloc(w->retryable, (size_t)cap * sizeof *w->retryable);
    w->cap = cap;
}

static void add_ok(worker_t *w, int64_t id)
{
    grow(w, w->n_ok + 1);
    if (!w->n_ok && !w->n_failed)
        w->oldest_pending_ms = gl_now_ms();
    w->ok[w->n_ok++] = id;
}

/* Takes a copy of msg. */
static void add_failed(worker_t *w, int64_t id, const char *msg, bool retryable)
{
    grow(w, w->n_failed + 1);
    if (!w->n_ok && !w->n_failed)
        w->oldest_pending_ms = gl_now_ms();
    w->failed[w->n_failed] = id;
    w->errors[w->n_failed] = gl_xstrdup(msg);
    w->retryable[w->n_failed] = retryable;
    w->n_failed++;
}

/* Completions: all at once; after a permanent error one by one, and a job
 * whose success cannot be recorded is recorded as failed instead. */
static int flush_ok(worker_t *w)
{
    if (!w->n_ok)
        return GL_OK;
    gl_err_t err;
    gl_err_clear(&err);
    int rc = gl_queue_complete(w->work, w->ok, w->n_ok, w->owner, &err);
    if (rc == GL_OK) {
        gl_lease_drop(w->lease, w->ok, w->n_ok);
        w->n_ok = 0;
        return GL_OK;
    }
    gl_log(GL_LOG_WARN, "recording %d completion(s) failed: %s", w->n_ok, err.msg);
    if (transient(w, rc, &err))
        return rc;
    int keep = 0;
    for (int i = 0; i < w->n_ok; i++) {
        if (keep) { /* the database went away meanwhile: the rest wait */
            w->ok[keep++] = w->ok[i];
            continue;
        }
        rc = gl_queue_complete(w->work, &w->ok[i], 1, w->owner, &err);
        if (rc == GL_OK) {
            gl_lease_drop(w->lease, &w->ok[i], 1);
            continue;
        }
        if (transient(w, rc, &err)) {
            w->ok[keep++] = w->ok[i];
            continue;
        }
        char msg[400];
        snprintf(msg, sizeof msg, "the job succeeded but its success could not be recorded: %s", err.msg);
        gl_log(GL_LOG_ERROR, "job %lld: %s", (long long)w->ok[i], msg);
        add_failed(w, w->ok[i], msg, false);
    }
    w->n_ok = keep;
    return keep ? GL_UNAVAILABLE : GL_OK;
}

static void drop_failed(worker_t *w, int i)
{
    free(w->errors[i]);
    w->errors[i] = NULL;
}

/* Failures: all at once; after a permanent error one by one, then with a
 * plain message; one the database still refuses is dropped (its lease runs
 * out and it runs again). */
static int flush_failed(worker_t *w)
{
    if (!w->n_failed)
        return GL_OK;
    gl_err_t err;
    gl_err_clear(&err);
    int rc = gl_queue_fail(w->work, w->failed, (const char *const *)w->errors, w->retryable, w->n_failed, w->owner,
                           &err);
    if (rc == GL_OK) {
        for (int i = 0; i < w->n_failed; i++)
            drop_failed(w, i);
        gl_lease_drop(w->lease, w->failed, w->n_failed);
        w->n_failed = 0;
        return GL_OK;
    }
    gl_log(GL_LOG_WARN, "recording %d failure(s) failed: %s", w->n_failed, err.msg);
    if (transient(w, rc, &err))
        return rc;
    int keep = 0;
    for (int i = 0; i < w->n_failed; i++) {
        bool wait = keep > 0;
        if (!wait) {
            rc = gl_queue_fail(w->work, &w->failed[i], (const char *const *)&w->errors[i], &w->retryable[i], 1,
                               w->owner, &err);
            if (rc != GL_OK && !transient(w, rc, &err)) {
                static const char plain[] = "the job failed; its error could not be recorded";
                const char *msgs[] = { plain };
                rc = gl_queue_fail(w->work, &w->failed[i], msgs, &w->retryable[i], 1, w->owner, &err);
                if (rc != GL_OK && !transient(w, rc, &err)) {
                    gl_log(GL_LOG_ERROR, "job %lld: its outcome cannot be recorded (%s); dropped — it runs again "
                           "once its lease runs out", (long long)w->failed[i], err.msg);
                    gl_lease_give_up(w->lease, w->failed[i]);
                    drop_failed(w, i);
                    continue;
                }
            }
            wait = rc != GL_OK;
        }
        if (!wait) {
            gl_lease_drop(w->lease, &w->failed[i], 1);
            drop_failed(w, i);
            continue;
        }
        w->failed[keep] = w->failed[i];
        w->errors[keep] = w->errors[i];
        w->retryable[keep] = w->retryable[i];
        keep++;
    }
    w->n_failed = keep;
    return keep ? GL_UNAVAILABLE : GL_OK;
}

/* Records pending outcomes; what the database could not take now is kept
 * for the next try (GL_UNAVAILABLE). */
static int flush(worker_t *w)
{
    int a = flush_ok(w); /* may add failures */
    int b = flush_failed(w);
    if (!w->n_ok && !w->n_failed) {
        w->soft_failures = 0;
        return GL_OK;
    }
    w->oldest_pending_ms = gl_now_ms();
    return a != GL_OK ? a : b;
}

/* Makes sure the listening connection is up and LISTENing; *fresh (when
 * given) says whether it LISTENed just now: a bell rung before that was not
 * heard, so the worker says again that it waits and looks once more. */
static int ensure_listening(worker_t *w, bool *fresh)
{
    gl_err_t err;
    gl_err_clear(&err);
    if (fresh)
        *fresh = false;
    if (gl_db_ensure(w->listen, &err) != GL_OK)
        return GL_UNAVAILABLE;
    uint64_t gen = gl_db_generation(w->listen);
    if (gen == w->listening_on)
        return GL_OK;
    if (fresh)
        *fresh = true;
    if (gl_db_exec(w->listen, "LISTEN " GL_QUEUE_CHANNEL, 0, NULL, false, NULL, NULL, &err) != GL_OK) {
        gl_log(GL_LOG_WARN, "LISTEN failed: %s", err.msg);
        return GL_UNAVAILABLE;
    }
    w->listening_on = gl_db_generation(w->listen);
    return GL_OK;
}

/* Waits up to ms for a notification (or a stop, or a runner's job to
 * end). False, without waiting, when the worker must say again that it
 * waits: it LISTENs anew (the bells rung meanwhile were not heard). */
static bool wait_for_doorbell(worker_t *w, int ms)
{
    if (stop_requested)
        return true;
    bool fresh;
    if (ensure_listening(w, &fresh) != GL_OK) {
        nap(ms > 0 && ms < 500 ? ms : 500); /* (ms is 0 when it could not say it waits) */
        return true;
    }
    if (fresh)
        return false;
    gl_err_t err;
    if (gl_db_wait_notification(w->listen, ms, stop_wake_fd, &err) != GL_UNAVAILABLE)
        return true;
    gl_log(GL_LOG_WARN, "listen connection lost; reconnecting");
    w->listening_on = 0;
    if (gl_db_connect_now(w->listen, &err) != GL_OK)
        gl_log(GL_LOG_DEBUG, "listen reconnect: %s", err.msg);
    return true; /* LISTENs anew next time, and says again that it waits */
}

/* How long to wait for the doorbell: executor.poll_ms, cut by the
 * deadline and, unless jobs still run on runners, by --drain's linger. */
static int64_t remaining_ms(const worker_t *w, int64_t idle_since, bool running)
{
    int64_t now = gl_now_ms();
    int64_t r = w->o->cfg->executor_poll_ms;
    if (w->o->drain && !running && idle_since + w->o->linger_ms - now < r)
        r = idle_since + w->o->linger_ms - now;
    if (w->o->deadline_ms && w->o->deadline_ms - now < r)
        r = w->o->deadline_ms - now;
    return r < 0 ? 0 : r;
}

/* How many jobs to claim: about what the worker can start within
 * CLAIM_HORIZON_MS — free runners at once, busy ones as their jobs end —
 * 1..executor.batch; a few (with runners: one for each free runner) while
 * the worker has no measure yet. */
static int claim_limit(const worker_t *w)
{
    int batch = w->o->cfg->executor_batch;
    /* with runners, some may still run the last claim's jobs: those start
     * new ones only as they end */
    int running = w->runners ? gl_runners_running(w->runners) : 0;
    int free = w->runners ? gl_runners_size(w->runners) - running : 1;
    if (free < 1)
        free = 1;
    if (w->avg_job_ms <= 0) {
        int first = w->runners || FIRST_CLAIM < free ? free : FIRST_CLAIM;
        return batch < first ? batch : first;
    }
    double per = CLAIM_HORIZON_MS / w->avg_job_ms; /* jobs one runner ends in the horizon */
    double n = free * (per > 1 ? per : 1) + running * per;
    return n >= batch ? batch : n < 1 ? 1 : (int)n;
}

/* A job's end, on the loop's thread: counted, its outcome kept for the next
 * flush. */
/* Counts one ended job and queues its completion or failure; a failure
 * is logged under the job's id. */
static void settle(worker_t *w, const gl_job_t *job, gl_job_result_t result, const char *why)
{
    gl_exec_metrics_job(result == GL_JOB_OK);
    if (result == GL_JOB_OK) {
        add_ok(w, job->id);
        return;
    }
    char error[512];
    snprintf(error, sizeof error, "%s", why);
    gl_utf8_trim(error);
    char ctxs[64];
    snprintf(ctxs, sizeof ctxs, "job=%lld", (long long)job->id);
    gl_log_context(ctxs);
    gl_log(GL_LOG_INFO, "%s (attempt %d of %d)", error, job->attempts, job->max_attempts);
    gl_log_context(NULL);
    add_failed(w, job->id, error, result == GL_JOB_RETRY);
}

static void record_outcome(void *ud, const gl_runner_done_t *d)
{
    worker_t *w = ud;
    w->avg_job_ms = w->avg_job_ms > 0 ? 0.8 * w->avg_job_ms + 0.2 * d->ms : d->ms;
    settle(w, d->job, d->result, d->error);
}

/* Every runner runs a job: the next one waits for one of them. */
static bool all_busy(const worker_t *w)
{
    return gl_runners_running(w->runners) >= gl_runners_size(w->runners);
}

/* Records pending outcomes once the oldest has waited FLUSH_MS. */
static void flush_due(worker_t *w)
{
    if ((w->n_ok || w->n_failed) && gl_now_ms() - w->oldest_pending_ms >= FLUSH_MS)
        (void)flush(w); /* what fails waits for the next try */
}

/* Waits until a runner is free (or a stop is asked for), taking finished
 * jobs back and recording outcomes that are due meanwhile. */
static void wait_for_runner(worker_t *w)
{
    while (!stop_requested && all_busy(w)) {
        int ms = FLUSH_MS;
        if (w->n_ok || w->n_failed) {
            int64_t due = w->oldest_pending_ms + FLUSH_MS - gl_now_ms();
            ms = due < 1 ? 1 : due > FLUSH_MS ? FLUSH_MS : (int)due;
        }
        gl_runners_collect(w->runners, ms, record_outcome, w);
        flush_due(w);
    }
}

/* Runs job here, or hands it to a runner thread (its outcome comes back
 * through record_outcome when it ends). Jobs that take less than
 * INLINE_JOB_MS on average run here: handing them over costs more than
 * they do, and nothing of theirs waits. */
static bool to_runner(const worker_t *w)
{
    return w->runners && !(w->avg_job_ms > 0 && w->avg_job_ms < INLINE_JOB_MS);
}

static void run_one(worker_t *w, const gl_job_t *job, gl_arena_t *job_arena)
{
    if (to_runner(w)) {
        gl_runners_submit(w->runners, job, record_outcome, w); /* a runner is free, but after a stop it may wait */
        return;
    }
    const gl_config_t *cfg = w->o->cfg;
    gl_runner_done_t d;
    gl_run_job(job, w->work, job_arena, w->owner, cfg->executor_lease, cfg->executor_test_kinds, &d);
    record_outcome(w, &d);
}

/* Runs jobs[0 .. m) of one kind together (gl_job_batch_fn); their leases
 * are begun. Those the kind leaves run alone, here. */
static void run_together(worker_t *w, gl_job_batch_fn batch, const gl_job_t *jobs, int m, gl_arena_t *job_arena)
{
    const gl_config_t *cfg = w->o->cfg;
    gl_job_ctx_t *ctx = gl_xcalloc((size_t)m, sizeof *ctx);
    gl_job_batch_t *how = gl_xcalloc((size_t)m, sizeof *how);
    gl_job_result_t *result = gl_xcalloc((size_t)m, sizeof *result);
    for (int i = 0; i < m; i++)
        ctx[i] = (gl_job_ctx_t){ .job = &jobs[i], .db = w->work, .arena = job_arena, .owner = w->owner,
                                 .lease_s = cfg->executor_lease };
    int64_t t0 = gl_now_ms();
    batch(ctx, m, how, result);
    gl_db_rollback(w->work); /* a handler must not leave a transaction open */
    int together = 0;
    for (int i = 0; i < m; i++) {
        if (how[i] == GL_JOB_BATCH_ALONE)
            continue;
        together++;
        if (how[i] == GL_JOB_BATCH_DONE) {
            gl_exec_metrics_job(true);
            gl_lease_drop(w->lease, &jobs[i].id, 1); /* completed with its end */
        } else {
            settle(w, &jobs[i], result[i], ctx[i].error);
        }
    }
    if (together) {
        double ms = (double)(gl_now_ms() - t0) / together + 0.05;
        w->avg_job_ms = w->avg_job_ms > 0 ? 0.8 * w->avg_job_ms + 0.2 * ms : ms;
    }
    gl_arena_reset(job_arena);
    for (int i = 0; i < m; i++)
        if (how[i] == GL_JOB_BATCH_ALONE) {
            if (to_runner(w))
                wait_for_runner(w); /* after a stop, submit waits: begun, it runs as a running job finishes */
            run_one(w, &jobs[i], job_arena);
        }
    free(ctx);
    free(how);
    free(result);
}

static void run_batch(worker_t *w, gl_job_t *jobs, int n, gl_arena_t *job_arena)
{
    int64_t *ids = gl_xmalloc((size_t)n * sizeof *ids);
    for (int i = 0; i < n; i++)
        ids[i] = jobs[i].id;
    gl_lease_hold(w->lease, ids, n);
    free(ids);
    gl_exec_metrics_claimed(n);
    gl_exec_metrics_busy(true);
    int64_t batch_started = gl_now_ms();
    for (int i = 0; i < n;) {
        if (stop_requested || (w->o->deadline_ms && gl_now_ms() >= w->o->deadline_ms))
            break;
        /* without runners, record what is pending before a job that may be
         * slow (a crash in it must not run finished jobs again); with them,
         * a crash ends the jobs running beside it too, and a commit here
         * would keep free runners waiting: at least every FLUSH_MS */
        int64_t now = gl_now_ms();
        if ((w->n_ok || w->n_failed) &&
            ((!w->runners && w->avg_job_ms >= SLOW_JOB_MS) || now - batch_started >= GL_LEASE_SLOW_MS ||
             now - w->oldest_pending_ms >= FLUSH_MS))
            (void)flush(w); /* what fails waits for the end of the batch */
        /* quick jobs of a kind that runs them together: the run of them
         * that starts here, at most executor.batch */
        gl_job_batch_fn together = w->avg_job_ms < SLOW_JOB_MS ? gl_job_kind_batch(jobs[i].kind) : NULL;
        int m = 1;
        while (together && i + m < n && strcmp(jobs[i + m].kind, jobs[i].kind) == 0)
            m++;
        if (together && m >= 2) {
            int begun = 0;
            while (begun < m && gl_lease_begin(w->lease, jobs[i + begun].id))
                begun++;
            if (begun)
                run_together(w, together, &jobs[i], begun, job_arena);
            if (begun < m)
                break; /* the keeper handed the rest back: the batch was slow */
            i += m;
            continue;
        }
        if (to_runner(w))
            wait_for_runner(w);
        if (stop_requested || !gl_lease_begin(w->lease, jobs[i].id))
            break; /* stopping, or the keeper handed the rest back: the batch was slow */
        run_one(w, &jobs[i], job_arena);
        i++;
    }
    /* the jobs handed to runners may still run (they have their copies):
     * the loop claims again for the runners that are free */
    gl_lease_release_unstarted(w->lease);
}

/* On a new connection after a lost one: a claim whose answer the lost
 * connection never brought may have committed, leaving jobs leased to this
 * worker that it does not know of. It hands back the unstarted ones it
 * knows nothing of (gl_lease_unknown: they never ran here), rather than
 * leaving them to wait out their lease: a drain could otherwise end with
 * them still leased. */
static void release_lost_claims(worker_t *w, gl_arena_t *arena)
{
    uint64_t gen = gl_db_generation(w->work);
    if (gen == w->claims_seen_on)
        return;
    bool first = w->claims_seen_on == 0;
    w->claims_seen_on = gen; /* once per connection: a lost one brings it back here */
    if (first)
        return;
    gl_err_t err;
    gl_err_clear(&err);
    int64_t *ids = NULL;
    int n = 0;
    if (gl_queue_owned_unstarted(w->work, w->owner, arena, &ids, &n, &err) != GL_OK) {
        gl_log(GL_LOG_WARN, "looking for claims a lost connection left failed (their leases run out): %s", err.msg);
        return;
    }
    n = gl_lease_unknown(w->lease, ids, n);
    if (n == 0)
        return;
    int released = 0;
    if (gl_queue_release(w->work, ids, n, w->owner, &released, &err) != GL_OK)
        gl_log(GL_LOG_WARN, "handing back %d job(s) a lost connection claimed failed (their leases run out): %s", n,
               err.msg);
    else if (released > 0)
        gl_log(GL_LOG_INFO, "handed back %d job(s) claimed as the connection was lost", released);
}

/* The database did not answer: in --drain mode, give up after GIVE_UP_MS
 * (true: stop the run). */
static bool unreachable(worker_t *w, const gl_err_t *err)
{
    int64_t now = gl_now_ms();
    if (!w->unreachable_since)
        w->unreachable_since = now;
    if (!w->o->drain || now - w->unreachable_since < GIVE_UP_MS)
        return false;
    fprintf(stderr, "glyphic-executor: the database has been unreachable for %d s; giving up: %s\n",
            GIVE_UP_MS / 1000, err->msg[0] ? err->msg : "no connection");
    gl_log(GL_LOG_ERROR, "the database has been unreachable for %d s; giving up: %s", GIVE_UP_MS / 1000, err->msg);
    return true;
}

void gl_exec_take_signals(void (*on_stop_signal)(int))
{
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* the parent's death is ours */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Names the worker and opens its connections (lazily) and lease keeper. */
static void worker_open(worker_t *w, const gl_exec_opts_t *o)
{
    memset(w, 0, sizeof *w);
    w->o = o;
    char host[64] = "localhost";
    gethostname(host, sizeof host - 1);
    /* unique (pods of one deployment share host name prefixes and pids),
     * and short enough that "glyphic-executor <owner>" fits
     * application_name (63 bytes): the rescuer looks for the owner's
     * connections by it */
    snprintf(w->owner, sizeof w->owner, "%.20s:%ld:%08x", host, (long)getpid(), (unsigned)randombytes_random());
    char appname[96];
    snprintf(appname, sizeof appname, "glyphic-executor %s", w->owner);
    gl_db_opts_t dbo = { .conninfo = o->cfg->db_executor_url, .trusted = true, .appname = appname,
                         .connect_timeout_s = o->cfg->db_connect_timeout, .statement_timeout_ms = 0,
                         .retry_interval_ms = 1000 };
    w->work = gl_db_new(&dbo);
    w->listen = gl_db_new(&dbo);
    w->lease = gl_lease_start(&dbo, w->owner, o->cfg->executor_lease);
    if (o->cfg->executor_concurrency > 1)
        w->runners = gl_runners_start(o->cfg->executor_concurrency, &dbo, w->owner, o->cfg->executor_lease,
                                      o->cfg->executor_test_kinds);
}

/* Leaves nothing behind — outcomes recorded (a few tries), the waiter row
 * gone, everything closed — and returns the exit status (see the file
 * comment). */
static int worker_close(worker_t *w, int status, gl_err_t *err)
{
    const gl_exec_opts_t *o = w->o;
    if (w->runners) /* what still runs finishes, and its outcome is recorded */
        gl_runners_wait(w->runners, record_outcome, w);
    gl_runners_stop(w->runners);
    w->runners = NULL;
    for (int tries = 0; (w->n_ok || w->n_failed) && tries < 10; tries++) {
        if (flush(w) != GL_OK)
            nap(500);
    }
    if (o->drain && status == 0 && (!w->reached || w->unreachable_since)) {
        fprintf(stderr, "glyphic-executor: the run ended with the database unreachable%s%s\n",
                err->msg[0] ? ": " : "", err->msg);
        status = 1;
    }
    if (w->n_ok || w->n_failed) {
        /* only a lost connection keeps outcomes this long */
        gl_log(GL_LOG_ERROR, "the database is unreachable: could not record %d outcome(s); their jobs run again "
               "after their lease", w->n_ok + w->n_failed);
        if (o->drain && status == 0)
            fprintf(stderr, "glyphic-executor: the database is unreachable: could not record %d job outcome(s); "
                    "their jobs run again after their lease\n", w->n_ok + w->n_failed);
        status = 1;
    }
    if (gl_db_conn(w->work) && gl_queue_waiting(w->work, o->queue, w->owner, 0, err) != GL_OK)
        gl_log(GL_LOG_DEBUG, "could not clear the waiter row: %s", err->msg);
    gl_lease_stop(w->lease); /* the keeper flushes no more: the last counts go now */
    gl_db_t *dbs[] = { w->work, w->listen };
    gl_exec_metrics_db(dbs, 2, &w->db_seen);
    if (gl_db_conn(w->work) && gl_exec_metrics_flush(w->work, w->owner, GL_EXEC_GONE, err) != GL_OK)
        gl_log(GL_LOG_WARN, "adding the last metrics failed (they are lost): %s", err->msg);
    for (int i = 0; i < w->n_failed; i++)
        free(w->errors[i]);
    free(w->ok);
    free(w->failed);
    free(w->errors);
    free(w->retryable);
    gl_db_free(w->work);
    gl_db_free(w->listen);
    return status;
}

int gl_exec_worker_run(const gl_exec_opts_t *o)
{
    gl_exec_take_signals(on_stop);
    worker_t w;
    worker_open(&w, o);
    int own_wake_fd = -1;
    if (w.runners && gl_runners_fd(w.runners) >= 0)
        stop_wake_fd = gl_runners_fd(w.runners);
    else
        stop_wake_fd = own_wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (stop_requested && stop_wake_fd >= 0) /* a stop before the fd was there */
        (void)eventfd_write(stop_wake_fd, 1);
    gl_arena_t *batch_arena = gl_arena_create(65536);
    gl_arena_t *job_arena = gl_arena_create(16384);
    int64_t idle_since = gl_now_ms();
    int64_t announced_at = 0; /* when the worker last said it waits (0: never) */
    int status = 0;
    gl_err_t err;
    gl_err_clear(&err);

    gl_db_t *dbs[] = { w.work, w.listen };
    while (!stop_requested) {
        gl_exec_metrics_db(dbs, 2, &w.db_seen); /* the keeper adds them to the database */
        if (o->deadline_ms && gl_now_ms() >= o->deadline_ms)
            break;
        gl_err_clear(&err);
        /* with jobs still running on runners, outcomes wait for FLUSH_MS */
        bool running = w.runners && gl_runners_running(w.runners) > 0;
        int rc = (w.n_ok || w.n_failed) && (!running || gl_now_ms() - w.oldest_pending_ms >= FLUSH_MS)
                     ? flush(&w) : GL_OK;
        if (rc == GL_OK)
            rc = gl_db_ensure(w.work, &err);
        if (rc == GL_SCHEMA) {
            gl_log(GL_LOG_ERROR, "%s", err.msg);
            status = 1;
            break;
        }
        if (rc != GL_OK) {
            if (unreachable(&w, &err)) {
                status = 1;
                break;
            }
            nap(1000);
            continue;
        }
        w.unreachable_since = 0;
        w.reached = true;
        release_lost_claims(&w, batch_arena);
        if (running && all_busy(&w)) {
            wait_for_runner(&w); /* claim for the runners that are free */
            continue;
        }
        gl_arena_reset(batch_arena);
        gl_job_t *jobs = NULL;
        int n = 0;
        rc = gl_queue_claim(w.work, o->queue, w.owner, claim_limit(&w), o->cfg->executor_lease, batch_arena, &jobs,
                            &n, &err);
        if (rc != GL_OK) {
            gl_log(GL_LOG_WARN, "claim failed: %s", err.msg);
            nap(500);
            continue;
        }
        if (n == 0) {
            running = w.runners && gl_runners_running(w.runners) > 0;
            gl_exec_metrics_busy(running);
            if (running)
                idle_since = gl_now_ms(); /* not idle while jobs run */
            else if (o->drain && gl_now_ms() - idle_since >= o->linger_ms)
                break;
            int64_t now = gl_now_ms();
            if ((!announced_at || now - announced_at >= o->cfg->executor_poll_ms) &&
                ensure_listening(&w, NULL) == GL_OK) {
                /* LISTEN, say we wait, then look once more: a job committed
                 * before the announcement was visible rings no bell, and a
                 * bell rung before the LISTEN is not heard. It is good for
                 * twice executor.poll_ms, so one wait of up to poll_ms
                 * after it never outlives it. (Without LISTEN the wait
                 * below naps and the loop looks again.) */
                double secs = (double)o->cfg->executor_poll_ms * 2 / 1000.0;
                if (gl_queue_waiting(w.work, o->queue, w.owner, secs, &err) == GL_OK)
                    announced_at = now;
                continue;
            }
            /* nothing to claim: outcomes are recorded now, and as each of
             * the jobs still running ends (it wakes the wait) */
            if ((w.n_ok || w.n_failed) && flush(&w) != GL_OK)
                nap(200);
            int64_t ms = remaining_ms(&w, idle_since, running);
            int64_t valid = announced_at + 2 * (int64_t)o->cfg->executor_poll_ms - gl_now_ms();
            if (!wait_for_doorbell(&w, (int)(ms < valid ? ms : valid > 0 ? valid : 0)))
                announced_at = 0; /* it LISTENed anew: say so and look again */
            if (w.runners) {
                gl_runners_collect(w.runners, 0, record_outcome, &w);
                if ((w.n_ok || w.n_failed) && flush(&w) != GL_OK)
                    nap(200);
            }
            continue;
        }
        run_batch(&w, jobs, n, job_arena);
        if ((!w.runners || !gl_runners_running(w.runners)) && flush(&w) != GL_OK)
            nap(200);
        idle_since = gl_now_ms();
    }
    stop_wake_fd = -1; /* before the runners' fd goes (a later signal only sets the flag) */
    if (own_wake_fd >= 0)
        close(own_wake_fd);
    status = worker_close(&w, status, &err);
    gl_arena_destroy(batch_arena);
    gl_arena_destroy(job_arena);
    return status;
}
