/*
 * runners.c: a worker's runner threads (see runners.h). One mutex guards
 * the slots; a runner never holds it while it works.
 *
 *   slot free:      job NULL
 *   slot running:   job set, finished false  (the runner works on it)
 *   slot finished:  job set, finished true   (until the loop takes it back)
 */
#include "runners.h"

#include "arena.h"
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    gl_runners_t *pool;
    pthread_t thread;
    pthread_cond_t cv;   /* this slot got a job, or stop (one runner woken, not all) */
    gl_db_t *db;
    gl_arena_t *arena;
    const gl_job_t *job; /* &copy while the slot is taken */
    bool finished;
    gl_runner_done_t out;
    gl_job_t copy;       /* the job handed over, its strings in mem: the loop's claim may be gone */
    char *mem;
    size_t mem_cap;
} slot_t;

struct gl_runners {
    pthread_mutex_t mu;
    int ended_fd;            /* eventfd: a runner's job ended (for the loop's poll) */
    pthread_cond_t finished; /* a slot finished (the loop waits on it) */
    bool stop;
    int n;
    slot_t *slots;
    char *owner;
    int lease_s;
    bool test_kinds;
};

void gl_run_job(const gl_job_t *job, gl_db_t *db, gl_arena_t *arena, const char *owner, int lease_s,
                bool test_kinds, gl_runner_done_t *out)
{
    char ctxs[64];
    snprintf(ctxs, sizeof ctxs, "job=%lld", (long long)job->id);
    gl_log_context(ctxs);
    gl_job_ctx_t ctx = { .job = job, .db = db, .arena = arena, .owner = owner, .lease_s = lease_s };
    gl_job_fn fn = gl_job_kind_find(job->kind, test_kinds);
    int64_t t0 = gl_now_ms();
    if (!fn) {
        snprintf(ctx.error, sizeof ctx.error, "no handler for job kind '%.64s'", job->kind);
        out->result = GL_JOB_FATAL;
    } else {
        out->result = fn(&ctx);
    }
    out->ms = (double)(gl_now_ms() - t0) + 0.05; /* a clock tick hides sub-ms jobs */
    out->job = job;
    snprintf(out->error, sizeof out->error, "%s", out->result == GL_JOB_OK ? "" : ctx.error);
    gl_db_rollback(db); /* a handler must not leave a transaction open */
    gl_log_context(NULL);
    gl_arena_reset(arena);
}

static void *runner_main(void *arg)
{
    slot_t *s = arg;
    gl_runners_t *r = s->pool;
    pthread_mutex_lock(&r->mu);
    for (;;) {
        while (!r->stop && !(s->job && !s->finished))
            pthread_cond_wait(&s->cv, &r->mu);
        if (!(s->job && !s->finished))
            break; /* stop, and nothing handed over */
        const gl_job_t *job = s->job;
        pthread_mutex_unlock(&r->mu);
        gl_runner_done_t out;
        gl_run_job(job, s->db, s->arena, r->owner, r->lease_s, r->test_kinds, &out);
        pthread_mutex_lock(&r->mu);
        s->out = out;
        s->finished = true;
        pthread_cond_signal(&r->finished);
        if (r->ended_fd >= 0)
            (void)eventfd_write(r->ended_fd, 1);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

gl_runners_t *gl_runners_start(int n, const gl_db_opts_t *dbo, const char *owner, int lease_s, bool test_kinds)
{
    gl_runners_t *r = gl_xcalloc(1, sizeof *r);
    pthread_mutex_init(&r->mu, NULL);
    r->ended_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); /* -1: the loop's waits just do not end early */
    pthread_condattr_t monotonic;
    pthread_condattr_init(&monotonic);
    pthread_condattr_setclock(&monotonic, CLOCK_MONOTONIC);
    pthread_cond_init(&r->finished, &monotonic);
    pthread_condattr_destroy(&monotonic);
    r->owner = gl_xstrdup(owner);
    r->lease_s = lease_s;
    r->test_kinds = test_kinds;
    r->slots = gl_xcalloc((size_t)n, sizeof *r->slots);
    /* the loop's thread takes SIGTERM and SIGINT: the runners never do */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGHUP);
    sigaddset(&block, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    for (int i = 0; i < n; i++) {
        slot_t *s = &r->slots[i];
        s->pool = r;
        pthread_cond_init(&s->cv, NULL);
        s->db = gl_db_new(dbo);
        s->arena = gl_arena_create(16384);
        if (pthread_create(&s->thread, NULL, runner_main, s) != 0) {
            gl_log(GL_LOG_WARN, "could not start runner thread %d of %d: runs %d job(s) at once", i + 1, n, i);
            pthread_cond_destroy(&s->cv);
            gl_db_free(s->db);
            gl_arena_destroy(s->arena);
            break;
        }
        r->n++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (r->n == 0) { /* none started: the loop runs its jobs itself */
        gl_runners_stop(r);
        return NULL;
    }
    return r;
}

/* Copies job into slot s (strings into its own memory). */
static void keep_copy(slot_t *s, const gl_job_t *job)
{
    const char *str[] = { job->kind, job->payload, job->org_id };
    size_t len[GL_NELEM(str)], need = 0;
    for (size_t i = 0; i < GL_NELEM(str); i++) {
        len[i] = str[i] ? strlen(str[i]) + 1 : 0;
        need += len[i];
    }
    if (need > s->mem_cap) {
        free(s->mem);
        s->mem = gl_xmalloc(need);
        s->mem_cap = need;
    }
    const char *at[GL_NELEM(str)];
    size_t off = 0;
    for (size_t i = 0; i < GL_NELEM(str); i++) {
        at[i] = str[i] ? memcpy(s->mem + off, str[i], len[i]) : NULL;
        off += len[i];
    }
    s->copy = *job;
    s->copy.kind = at[0];
    s->copy.payload = at[1];
    s->copy.org_id = at[2];
    s->job = &s->copy;
}

/* Takes back every finished slot's outcome (under the lock) into out. */
static int take_finished(gl_runners_t *r, gl_runner_done_t *out)
{
    int k = 0;
    for (int i = 0; i < r->n; i++) {
        slot_t *s = &r->slots[i];
        if (s->job && s->finished) {
            out[k++] = s->out;
            s->job = NULL;
            s->finished = false;
        }
    }
    return k;
}

/* Gives every finished job back through done, the lock released meanwhile;
 * whether there was any. Called and returns with the lock held. */
static bool give_back(gl_runners_t *r, gl_runner_done_t *out, gl_runner_done_fn done, void *ud)
{
    int k = take_finished(r, out);
    if (!k)
        return false;
    pthread_mutex_unlock(&r->mu);
    for (int i = 0; i < k; i++)
        done(ud, &out[i]);
    pthread_mutex_lock(&r->mu);
    return true;
}

void gl_runners_submit(gl_runners_t *r, const gl_job_t *job, gl_runner_done_fn done, void *ud)
{
    gl_runner_done_t *out = gl_xmalloc((size_t)r->n * sizeof *out);
    pthread_mutex_lock(&r->mu);
    for (;;) {
        (void)give_back(r, out, done, ud);
        int i = 0;
        while (i < r->n && r->slots[i].job)
            i++;
        if (i < r->n) {
            keep_copy(&r->slots[i], job);
            r->slots[i].finished = false;
            pthread_cond_signal(&r->slots[i].cv);
            break;
        }
        pthread_cond_wait(&r->finished, &r->mu);
    }
    pthread_mutex_unlock(&r->mu);
    free(out);
}

int gl_runners_running(gl_runners_t *r)
{
    int k = 0;
    pthread_mutex_lock(&r->mu);
    for (int i = 0; i < r->n; i++)
        k += r->slots[i].job && !r->slots[i].finished;
    pthread_mutex_unlock(&r->mu);
    return k;
}

int gl_runners_fd(const gl_runners_t *r)
{
    return r->ended_fd;
}

int gl_runners_size(const gl_runners_t *r)
{
    return r->n;
}

void gl_runners_collect(gl_runners_t *r, int wait_ms, gl_runner_done_fn done, void *ud)
{
    gl_runner_done_t *out = gl_xmalloc((size_t)r->n * sizeof *out);
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += wait_ms / 1000;
    until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    if (r->ended_fd >= 0) {
        eventfd_t seen;
        (void)eventfd_read(r->ended_fd, &seen); /* before taking back: a job ending later rings again */
    }
    pthread_mutex_lock(&r->mu);
    for (;;) {
        if (give_back(r, out, done, ud) || wait_ms <= 0)
            break;
        bool busy = false;
        for (int i = 0; i < r->n && !busy; i++)
            busy = r->slots[i].job != NULL;
        if (!busy || pthread_cond_timedwait(&r->finished, &r->mu, &until) == ETIMEDOUT) {
            (void)give_back(r, out, done, ud);
            break;
        }
    }
    pthread_mutex_unlock(&r->mu);
    free(out);
}

void gl_runners_wait(gl_runners_t *r, gl_runner_done_fn done, void *ud)
{
    gl_runner_done_t *out = gl_xmalloc((size_t)(r->n ? r->n : 1) * sizeof *out);
    pthread_mutex_lock(&r->mu);
    for (;;) {
        if (give_back(r, out, done, ud))
            continue;
        bool busy = false;
        for (int i = 0; i < r->n && !busy; i++)
            busy = r->slots[i].job != NULL;
        if (!busy)
            break;
        pthread_cond_wait(&r->finished, &r->mu);
    }
    pthread_mutex_unlock(&r->mu);
    free(out);
}

static void drop_done(void *ud, const gl_runner_done_t *d)
{
    (void)ud;
    (void)d;
}

void gl_runners_stop(gl_runners_t *r)
{
    if (!r)
        return;
    gl_runners_wait(r, drop_done, NULL); /* the loop waits before it stops: nothing is left here */
    pthread_mutex_lock(&r->mu);
    r->stop = true;
    for (int i = 0; i < r->n; i++)
        pthread_cond_signal(&r->slots[i].cv);
    pthread_mutex_unlock(&r->mu);
    for (int i = 0; i < r->n; i++) {
        pthread_join(r->slots[i].thread, NULL);
        pthread_cond_destroy(&r->slots[i].cv);
        gl_db_free(r->slots[i].db);
        gl_arena_destroy(r->slots[i].arena);
        free(r->slots[i].mem);
    }
    pthread_cond_destroy(&r->finished);
    pthread_mutex_destroy(&r->mu);
    if (r->ended_fd >= 0)
        close(r->ended_fd);
    free(r->slots);
    free(r->owner);
    free(r);
}
