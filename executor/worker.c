/*
 * worker.c: an executor worker. Two connections: one to work on (claims,
 * outcomes, maintenance, the handlers' own queries) and one that LISTENs.
 *
 *   loop: record pending outcomes -> maintenance (if elected) -> claim a
 *         batch -> run each job -> record the batch's outcomes (two
 *         statements: complete, fail)
 *   idle: say "waiting" (queue_waiters), look once more, then poll() the
 *         LISTEN socket up to executor.poll_ms: NOTIFY is a doorbell, the
 *         table is the truth
 *
 * Outcomes not yet recorded survive a lost connection and are recorded
 * after reconnecting (the lease is still ours), so a database restart does
 * not make a finished job run again. SIGTERM: the running job finishes,
 * the batch's unstarted jobs are released, outcomes recorded, exit.
 */
#include "worker.h"

#include "arena.h"
#include "db.h"
#include "handlers.h"
#include "run.h"
#include "log.h"
#include "queue.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

/* pg_try_advisory_lock key of the elected maintainer: "glyphic maint" */
#define GL_MAINT_LOCK "7396519044872"

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

typedef struct {
    const gl_exec_opts_t *o;
    char owner[96];
    gl_db_t *work;
    gl_db_t *listen;
    PGconn *listening_on;   /* the connection LISTEN was issued on */
    bool maintainer;
    int64_t next_maintenance;
    int64_t next_schedules;
    /* outcomes waiting to be recorded */
    int64_t *ok, *failed;
    char **errors;
    bool *retryable;
    int n_ok, n_failed, cap;
} worker_t;

static void nap(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL); /* a signal cuts it short, which is what we want */
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

/* Records pending outcomes; keeps them on failure for the next try. */
static int flush(worker_t *w)
{
    gl_err_t err;
    gl_err_clear(&err);
    if (w->n_ok) {
        if (gl_queue_complete(w->work, w->ok, w->n_ok, w->owner, &err) != GL_OK) {
            gl_log(GL_LOG_WARN, "recording %d completions failed (will retry): %s", w->n_ok, err.msg);
            return GL_ERR;
        }
        w->n_ok = 0;
    }
    if (w->n_failed) {
        if (gl_queue_fail(w->work, w->failed, (const char *const *)w->errors, w->retryable, w->n_failed,
                          w->owner, &err) != GL_OK) {
            gl_log(GL_LOG_WARN, "recording %d failures failed (will retry): %s", w->n_failed, err.msg);
            return GL_ERR;
        }
        for (int i = 0; i < w->n_failed; i++)
            free(w->errors[i]);
        w->n_failed = 0;
    }
    return GL_OK;
}

static const gl_stmt_t q_exec_reap = {
    .name = "exec_reap", .sql = "SELECT glyphic.exec_reap()", .nparams = 0, .rows = true,
};
static const gl_stmt_t q_exec_prune = {
    .name = "exec_prune", .sql = "SELECT glyphic.exec_prune($1::int, $2::int)", .nparams = 2, .rows = true,
};

/* Every second: fire due schedules (only the elected maintainer does;
 * SKIP LOCKED would keep two from firing a time twice anyway). */
static void fire_schedules(worker_t *w)
{
    int64_t now = gl_now_ms();
    if (!w->maintainer || now < w->next_schedules)
        return;
    w->next_schedules = now + 1000;
    int fired = 0;
    gl_err_t err;
    gl_err_clear(&err);
    if (gl_schedules_fire(w->work, &fired, &err) != GL_OK)
        gl_log(GL_LOG_WARN, "firing schedules failed: %s", err.msg);
    else if (fired)
        gl_log(GL_LOG_INFO, "%d schedule(s) fired", fired);
}

static void maintenance(worker_t *w)
{
    int64_t now = gl_now_ms();
    fire_schedules(w);
    if (now < w->next_maintenance)
        return;
    w->next_maintenance = now + (int64_t)w->o->cfg->executor_maintenance_interval * 1000;
    gl_err_t err;
    gl_err_clear(&err);
    PGconn *conn = gl_db_conn(w->work);
    if (!w->maintainer) {
        PGresult *res = NULL;
        if (gl_db_exec(w->work, "SELECT pg_try_advisory_lock(" GL_MAINT_LOCK ")", 0, NULL, true, NULL, &res,
                       &err) != GL_OK)
            return;
        w->maintainer = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
        PQclear(res);
        if (w->maintainer)
            gl_log(GL_LOG_INFO, "elected to run maintenance");
    }
    (void)conn;
    if (!w->maintainer)
        return;
    int rescued = 0, pruned = 0;
    if (gl_queue_rescue(w->work, &rescued, &err) != GL_OK ||
        gl_queue_prune(w->work, w->o->cfg->executor_prune_days, &pruned, &err) != GL_OK) {
        gl_log(GL_LOG_WARN, "maintenance failed: %s", err.msg);
        return;
    }
    if (rescued || pruned)
        gl_log(GL_LOG_INFO, "maintenance: %d job(s) with expired leases requeued, %d old job(s) pruned", rescued,
               pruned);
    char days[16], keep[16];
    snprintf(days, sizeof days, "%d", w->o->cfg->executions_retention_days);
    snprintf(keep, sizeof keep, "%d", w->o->cfg->executions_keep_per_workflow);
    const char *pp[] = { days, keep };
    PGresult *res = NULL;
    if (gl_db_query(w->work, &q_exec_prune, pp, NULL, &res, &err) != GL_OK) {
        gl_log(GL_LOG_WARN, "pruning executions failed: %s", err.msg);
        return;
    }
    if (gl_db_int(res, 0, 0) > 0)
        gl_log(GL_LOG_INFO, "maintenance: %lld old execution(s) pruned", (long long)gl_db_int(res, 0, 0));
    PQclear(res);
    if (gl_db_query(w->work, &q_exec_reap, NULL, NULL, &res, &err) != GL_OK) {
        gl_log(GL_LOG_WARN, "reaping abandoned executions failed: %s", err.msg);
        return;
    }
    if (gl_db_int(res, 0, 0) > 0)
        gl_log(GL_LOG_WARN, "maintenance: %lld abandoned execution(s) marked failed", (long long)gl_db_int(res, 0, 0));
    PQclear(res);
}

/* Makes sure the listening connection is up and LISTENing. */
static int ensure_listening(worker_t *w)
{
    gl_err_t err;
    gl_err_clear(&err);
    if (gl_db_ensure(w->listen, &err) != GL_OK)
        return GL_UNAVAILABLE;
    PGconn *c = gl_db_conn(w->listen);
    if (c == w->listening_on)
        return GL_OK;
    if (gl_db_exec(w->listen, "LISTEN " GL_QUEUE_CHANNEL, 0, NULL, false, NULL, NULL, &err) != GL_OK) {
        gl_log(GL_LOG_WARN, "LISTEN failed: %s", err.msg);
        return GL_UNAVAILABLE;
    }
    w->listening_on = c;
    return GL_OK;
}

/* Waits up to ms for a notification (or a signal). */
static void wait_for_doorbell(worker_t *w, int ms)
{
    if (ensure_listening(w) != GL_OK) {
        nap(ms < 1000 ? ms : 1000);
        return;
    }
    PGconn *c = gl_db_conn(w->listen);
    struct pollfd pfd = { .fd = PQsocket(c), .events = POLLIN };
    int rc = poll(&pfd, 1, ms);
    if (rc > 0) {
        if (!PQconsumeInput(c)) {
            gl_log(GL_LOG_WARN, "listen connection lost; reconnecting");
            w->listening_on = NULL;
            gl_err_t err;
            if (gl_db_connect_now(w->listen, &err) != GL_OK)
                gl_log(GL_LOG_DEBUG, "listen reconnect: %s", err.msg);
            return;
        }
        PGnotify *n;
        while ((n = PQnotifies(c)) != NULL)
            PQfreemem(n);
    }
}

static int64_t remaining_ms(const worker_t *w, int64_t idle_since)
{
    int64_t now = gl_now_ms();
    int64_t r = w->o->cfg->executor_poll_ms;
    if (w->o->drain && idle_since + w->o->linger_ms - now < r)
        r = idle_since + w->o->linger_ms - now;
    if (w->o->deadline_ms && w->o->deadline_ms - now < r)
        r = w->o->deadline_ms - now;
    return r < 0 ? 0 : r;
}

static void run_batch(worker_t *w, gl_job_t *jobs, int n, gl_arena_t *job_arena)
{
    const gl_config_t *cfg = w->o->cfg;
    int64_t last_beat = gl_now_ms();
    grow(w, w->n_ok + w->n_failed + n);
    for (int i = 0; i < n; i++) {
        bool past_deadline = w->o->deadline_ms && gl_now_ms() >= w->o->deadline_ms;
        if (stop_requested || past_deadline) {
            int64_t *rest = gl_xmalloc((size_t)(n - i) * sizeof *rest);
            for (int k = i; k < n; k++)
                rest[k - i] = jobs[k].id;
            gl_err_t err;
            if (gl_queue_release(w->work, rest, n - i, w->owner, &err) != GL_OK)
                gl_log(GL_LOG_WARN, "releasing %d unstarted job(s) failed (their lease will expire): %s", n - i,
                       err.msg);
            free(rest);
            return;
        }
        if (gl_now_ms() - last_beat > (int64_t)cfg->executor_lease * 500) {
            int64_t *rest = gl_xmalloc((size_t)(n - i) * sizeof *rest);
            for (int k = i; k < n; k++)
                rest[k - i] = jobs[k].id;
            gl_err_t err;
            if (gl_queue_heartbeat(w->work, rest, n - i, w->owner, cfg->executor_lease, &err) != GL_OK)
                gl_log(GL_LOG_WARN, "heartbeat failed: %s", err.msg);
            free(rest);
            last_beat = gl_now_ms();
        }
        char ctxs[64];
        snprintf(ctxs, sizeof ctxs, "job=%lld", (long long)jobs[i].id);
        gl_log_context(ctxs);
        gl_job_ctx_t ctx = { .job = &jobs[i], .db = w->work, .arena = job_arena, .owner = w->owner,
                             .lease_s = cfg->executor_lease };
        gl_job_fn fn = gl_handler_find(jobs[i].kind, cfg->executor_test_kinds);
        gl_job_result_t r;
        if (!fn) {
            snprintf(ctx.error, sizeof ctx.error, "no handler for job kind '%.64s'", jobs[i].kind);
            r = GL_JOB_FATAL;
        } else {
            r = fn(&ctx);
        }
        gl_db_rollback(w->work); /* a handler must not leave a transaction open */
        if (r == GL_JOB_OK) {
            w->ok[w->n_ok++] = jobs[i].id;
        } else {
            gl_log(GL_LOG_INFO, "%s (attempt %d of %d)", ctx.error, jobs[i].attempts, jobs[i].max_attempts);
            w->failed[w->n_failed] = jobs[i].id;
            w->errors[w->n_failed] = gl_xstrdup(ctx.error);
            w->retryable[w->n_failed] = r == GL_JOB_RETRY;
            w->n_failed++;
        }
        gl_log_context(NULL);
        gl_arena_reset(job_arena);
    }
}

int gl_exec_worker_run(const gl_exec_opts_t *o)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* the parent's death is ours */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);

    worker_t w;
    memset(&w, 0, sizeof w);
    w.o = o;
    char host[64] = "localhost";
    gethostname(host, sizeof host - 1);
    snprintf(w.owner, sizeof w.owner, "%s:%ld", host, (long)getpid());
    gl_db_opts_t dbo = { .conninfo = o->cfg->db_executor_url, .appname = "glyphic-executor",
                         .connect_timeout_s = o->cfg->db_connect_timeout, .statement_timeout_ms = 0,
                         .retry_interval_ms = 1000 };
    w.work = gl_db_new(&dbo);
    w.listen = gl_db_new(&dbo);
    gl_arena_t *batch_arena = gl_arena_create(65536);
    gl_arena_t *job_arena = gl_arena_create(16384);
    int batch = o->cfg->executor_batch;
    int64_t idle_since = gl_now_ms();
    bool announced = false;
    int status = 0;
    int64_t done = 0;

    while (!stop_requested) {
        if (o->deadline_ms && gl_now_ms() >= o->deadline_ms)
            break;
        gl_err_t err;
        gl_err_clear(&err);
        if ((w.n_ok || w.n_failed) && flush(&w) != GL_OK) {
            nap(1000);
            continue;
        }
        int rc = gl_db_ensure(w.work, &err);
        if (rc == GL_SCHEMA) {
            gl_log(GL_LOG_ERROR, "%s", err.msg);
            status = 1;
            break;
        }
        if (rc != GL_OK) {
            w.maintainer = false; /* a new connection holds no lock */
            nap(1000);
            continue;
        }
        maintenance(&w);
        gl_arena_reset(batch_arena);
        gl_job_t *jobs = NULL;
        int n = 0;
        rc = gl_queue_claim(w.work, o->queue, w.owner, batch, o->cfg->executor_lease, batch_arena, &jobs, &n, &err);
        if (rc != GL_OK) {
            gl_log(GL_LOG_WARN, "claim failed: %s", err.msg);
            w.maintainer = false;
            nap(500);
            continue;
        }
        if (n == 0) {
            if (o->drain && gl_now_ms() - idle_since >= o->linger_ms)
                break;
            if (!announced) {
                /* say we wait, then look once more: a job committed before
                 * the announcement was visible rings no bell */
                double secs = (double)o->cfg->executor_poll_ms * 2 / 1000.0;
                if (gl_queue_waiting(w.work, o->queue, w.owner, secs, &err) == GL_OK)
                    announced = true;
                continue;
            }
            wait_for_doorbell(&w, (int)remaining_ms(&w, idle_since));
            announced = false;
            continue;
        }
        run_batch(&w, jobs, n, job_arena);
        done += n;
        if (flush(&w) != GL_OK)
            nap(200);
        idle_since = gl_now_ms();
    }
    /* leave nothing behind: outcomes recorded (a few tries), waiter row gone */
    for (int tries = 0; (w.n_ok || w.n_failed) && tries < 10; tries++) {
        if (flush(&w) != GL_OK)
            nap(500);
    }
    if (w.n_ok || w.n_failed)
        gl_log(GL_LOG_ERROR, "could not record %d outcome(s); their jobs will run again after the lease expires",
               w.n_ok + w.n_failed);
    gl_err_t err;
    if (gl_db_conn(w.work) && gl_queue_waiting(w.work, o->queue, w.owner, 0, &err) != GL_OK)
        gl_log(GL_LOG_DEBUG, "could not clear the waiter row: %s", err.msg);
    gl_log(GL_LOG_DEBUG, "worker done after %lld job(s)", (long long)done);
    for (int i = 0; i < w.n_failed; i++)
        free(w.errors[i]);
    free(w.ok);
    free(w.failed);
    free(w.errors);
    free(w.retryable);
    gl_db_free(w.work);
    gl_db_free(w.listen);
    gl_arena_destroy(batch_arena);
    gl_arena_destroy(job_arena);
    return status;
}
