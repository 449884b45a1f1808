/*
 * lease.c: the lease keeper (see lease.h). One mutex guards what the
 * worker holds; the keeper never holds it across a database call.
 *
 *   held:   every job the worker holds (renewed each beat)
 *   batch:  ids[0 .. next)   started (or finished) by the worker
 *           ids[next .. n)   claimed, not started: once the batch is
 *                            slow the keeper cuts them off (n = next),
 *                            takes them out of held and releases them
 */
#include "lease.h"

#include "log.h"
#include "metrics.h"
#include "queue.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TICK_MS 100

typedef struct {
    int64_t *ids;
    int n, cap;
} idset_t;

struct gl_lease {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    gl_db_t *db;
    char *owner;
    int lease_s;
    /* guarded by mu */
    idset_t held;
    idset_t batch;
    int next;
    int64_t batch_started_ms;
    /* to be released, not yet accepted by the database (guarded by mu) */
    idset_t orphans;
    bool orphans_new;   /* release them now rather than at the next beat */
    /* jobs whose outcome was given up, until their lease has surely run
     * out (guarded by mu): gl_lease_unknown must not hand them back */
    idset_t given_up;
    int64_t *given_up_until; /* ms, parallel to given_up.ids */
    int given_up_cap;
    gl_exec_db_seen_t db_seen; /* the keeper thread's, for the metrics */
};

int gl_lease_beat_ms(int lease_s)
{
    int ms = lease_s * 1000 / 3;
    return ms < 1000 ? 1000 : ms > 5000 ? 5000 : ms;
}

static void set_add(idset_t *s, const int64_t *ids, int n)
{
    if (s->n + n > s->cap) {
        s->cap = (s->n + n) * 2;
        s->ids = gl_xrealloc(s->ids, (size_t)s->cap * sizeof *s->ids);
    }
    if (n)
        memcpy(s->ids + s->n, ids, (size_t)n * sizeof *ids);
    s->n += n;
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Removes ids[0..n) from s (order of the rest kept). */
static void set_remove(idset_t *s, const int64_t *ids, int n)
{
    if (!n || !s->n)
        return;
    int64_t *sorted = gl_xmalloc((size_t)n * sizeof *sorted);
    memcpy(sorted, ids, (size_t)n * sizeof *sorted);
    qsort(sorted, (size_t)n, sizeof *sorted, cmp_id);
    int keep = 0;
    for (int i = 0; i < s->n; i++)
        if (!bsearch(&s->ids[i], sorted, (size_t)n, sizeof *sorted, cmp_id))
            s->ids[keep++] = s->ids[i];
    s->n = keep;
    free(sorted);
}

/* Removes ids[0..n) from the given-up set (under mu). */
static void forget_given_up(gl_lease_t *l, const int64_t *ids, int n)
{
    int keep = 0;
    for (int i = 0; i < l->given_up.n; i++) {
        bool drop = false;
        for (int j = 0; j < n && !drop; j++)
            drop = l->given_up.ids[i] == ids[j];
        if (!drop) {
            l->given_up.ids[keep] = l->given_up.ids[i];
            l->given_up_until[keep++] = l->given_up_until[i];
        }
    }
    l->given_up.n = keep;
}

/* Releases a copy of the orphans (taken under mu by the caller) and, once
 * the database took them, forgets them. Called without mu. */
static bool release_orphans(gl_lease_t *l, idset_t *copy)
{
    if (copy->n == 0)
        return true;
    gl_err_t err;
    gl_err_clear(&err);
    if (gl_queue_release(l->db, copy->ids, copy->n, l->owner, NULL, &err) != GL_OK) {
        gl_log(GL_LOG_WARN, "releasing %d job(s) failed (will retry): %s", copy->n, err.msg);
        return false;
    }
    gl_log(GL_LOG_DEBUG, "released %d unstarted job(s)", copy->n);
    pthread_mutex_lock(&l->mu);
    set_remove(&l->orphans, copy->ids, copy->n);
    pthread_mutex_unlock(&l->mu);
    return true;
}

static struct timespec deadline_in(int ms)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_nsec += (long)ms * 1000000L;
    t.tv_sec += t.tv_nsec / 1000000000L;
    t.tv_nsec %= 1000000000L;
    return t;
}

/* With the heartbeat: the worker's counts and whether it is busy, to the
 * database (what fails is kept for the next time). */
static void flush_metrics(gl_lease_t *l)
{
    gl_err_t err;
    gl_err_clear(&err);
    gl_exec_metrics_db(&l->db, 1, &l->db_seen); /* the keeper's own connection */
    gl_exec_state_t state = gl_exec_metrics_is_busy() ? GL_EXEC_BUSY : GL_EXEC_IDLE;
    if (gl_exec_metrics_flush(l->db, l->owner, state, &err) != GL_OK)
        gl_log(GL_LOG_DEBUG, "adding the metrics failed (kept for the next beat): %s", err.msg);
}

static void *keeper(void *arg)
{
    gl_lease_t *l = arg;
    int beat = gl_lease_beat_ms(l->lease_s);
    int64_t next_beat = gl_now_ms() + beat, next_metrics = 0;
    idset_t renew = { 0 }, release = { 0 };
    pthread_mutex_lock(&l->mu);
    while (!l->stop) {
        struct timespec until = deadline_in(TICK_MS);
        pthread_cond_timedwait(&l->cv, &l->mu, &until);
        if (l->stop)
            break;
        int64_t now = gl_now_ms();
        /* a slow batch: cut the unstarted rest off */
        if (l->batch_started_ms && now - l->batch_started_ms > GL_LEASE_SLOW_MS && l->next < l->batch.n) {
            int cut = l->batch.n - l->next;
            set_add(&l->orphans, l->batch.ids + l->next, cut);
            set_remove(&l->held, l->batch.ids + l->next, cut);
            l->batch.n = l->next;
            l->orphans_new = true;
        }
        bool beat_due = now >= next_beat;
        if (!l->orphans_new && !beat_due)
            continue;
        /* orphans go back at once when new, else are retried each beat */
        l->orphans_new = false;
        release.n = 0;
        set_add(&release, l->orphans.ids, l->orphans.n);
        renew.n = 0;
        if (beat_due)
            set_add(&renew, l->held.ids, l->held.n);
        pthread_mutex_unlock(&l->mu);
        bool released = release_orphans(l, &release);
        if (beat_due) {
            gl_err_t err;
            gl_err_clear(&err);
            /* a failed renewal is tried again within a second (the
             * database restarting): the rescuer waits a whole lease for
             * a started job, and two beats for an unstarted one */
            if (gl_queue_heartbeat(l->db, renew.ids, renew.n, l->owner, l->lease_s, &err) != GL_OK || !released) {
                if (err.msg[0])
                    gl_log(GL_LOG_WARN, "renewing %d lease(s) failed (will retry): %s", renew.n, err.msg);
                next_beat = gl_now_ms() + 1000;
            } else {
                next_beat = gl_now_ms() + beat;
            }
            if (gl_now_ms() >= next_metrics) {
                flush_metrics(l);
                next_metrics = gl_now_ms() + GL_EXEC_METRICS_EVERY_MS;
            }
        }
        pthread_mutex_lock(&l->mu);
    }
    release.n = 0;
    set_add(&release, l->orphans.ids, l->orphans.n);
    pthread_mutex_unlock(&l->mu);
    (void)release_orphans(l, &release); /* a last try; else their leases run out */
    free(renew.ids);
    free(release.ids);
    return NULL;
}

gl_lease_t *gl_lease_start(const gl_db_opts_t *dbo, const char *owner, int lease_s)
{
    gl_lease_t *l = gl_xmalloc(sizeof *l);
    memset(l, 0, sizeof *l);
    pthread_mutex_init(&l->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* a clock step must not stall renewals */
    pthread_cond_init(&l->cv, &ca);
    pthread_condattr_destroy(&ca);
    /* every statement of the keeper ends well within a lease, and a
     * server that vanished without a word is noticed as soon */
    gl_db_opts_t o = *dbo;
    o.statement_timeout_ms = gl_lease_beat_ms(lease_s);
    o.tcp_user_timeout_ms = gl_lease_beat_ms(lease_s);
    l->db = gl_db_new(&o);
    l->owner = gl_xstrdup(owner);
    l->lease_s = lease_s;
    /* the keeper takes no signals: SIGTERM must reach the worker's loop */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&l->thread, NULL, keeper, l);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        gl_log(GL_LOG_ERROR, "cannot start the lease keeper (error %d)", rc);
        abort(); /* like an allocation failure: nothing sensible to do */
    }
    return l;
}

void gl_lease_stop(gl_lease_t *l)
{
    if (!l)
        return;
    pthread_mutex_lock(&l->mu);
    l->stop = true;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->thread, NULL); /* bounded: its statements and TCP time out */
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    gl_db_free(l->db);
    free(l->owner);
    free(l->held.ids);
    free(l->batch.ids);
    free(l->orphans.ids);
    free(l->given_up.ids);
    free(l->given_up_until);
    free(l);
}

void gl_lease_hold(gl_lease_t *l, const int64_t *ids, int n)
{
    pthread_mutex_lock(&l->mu);
    /* claimed again (a release whose answer was lost had gone through):
     * what was to be released or forgotten of them is past */
    set_remove(&l->orphans, ids, n);
    forget_given_up(l, ids, n);
    set_add(&l->held, ids, n);
    l->batch.n = 0;
    set_add(&l->batch, ids, n);
    l->next = 0;
    l->batch_started_ms = gl_now_ms();
    pthread_mutex_unlock(&l->mu);
}

bool gl_lease_begin(gl_lease_t *l, int64_t id)
{
    pthread_mutex_lock(&l->mu);
    bool ok = l->next < l->batch.n && l->batch.ids[l->next] == id;
    if (ok)
        l->next++;
    pthread_mutex_unlock(&l->mu);
    return ok;
}

void gl_lease_drop(gl_lease_t *l, const int64_t *ids, int n)
{
    pthread_mutex_lock(&l->mu);
    set_remove(&l->held, ids, n);
    pthread_mutex_unlock(&l->mu);
}

/* Forgets given-up outcomes whose lease has surely run out (under mu). */
static void prune_given_up(gl_lease_t *l)
{
    int64_t now = gl_now_ms();
    int live = 0;
    for (int i = 0; i < l->given_up.n; i++)
        if (l->given_up_until[i] > now) {
            l->given_up.ids[live] = l->given_up.ids[i];
            l->given_up_until[live++] = l->given_up_until[i];
        }
    l->given_up.n = live;
}

void gl_lease_give_up(gl_lease_t *l, int64_t id)
{
    pthread_mutex_lock(&l->mu);
    set_remove(&l->held, &id, 1);
    prune_given_up(l);
    forget_given_up(l, &id, 1);
    if (l->given_up.n + 1 > l->given_up_cap) {
        l->given_up_cap = (l->given_up.n + 1) * 2;
        l->given_up_until = gl_xrealloc(l->given_up_until, (size_t)l->given_up_cap * sizeof *l->given_up_until);
    }
    l->given_up_until[l->given_up.n] = gl_now_ms() + 2000L * l->lease_s;
    set_add(&l->given_up, &id, 1);
    pthread_mutex_unlock(&l->mu);
}

static bool in_set(const idset_t *s, int64_t id)
{
    for (int i = 0; i < s->n; i++)
        if (s->ids[i] == id)
            return true;
    return false;
}

int gl_lease_unknown(gl_lease_t *l, int64_t *ids, int n)
{
    pthread_mutex_lock(&l->mu);
    prune_given_up(l);
    int keep = 0;
    for (int i = 0; i < n; i++)
        if (!in_set(&l->held, ids[i]) && !in_set(&l->orphans, ids[i]) && !in_set(&l->given_up, ids[i]))
            ids[keep++] = ids[i];
    pthread_mutex_unlock(&l->mu);
    return keep;
}

void gl_lease_release_unstarted(gl_lease_t *l)
{
    pthread_mutex_lock(&l->mu);
    int n = l->batch.n - l->next;
    if (n > 0) {
        set_add(&l->orphans, l->batch.ids + l->next, n);
        set_remove(&l->held, l->batch.ids + l->next, n);
        l->orphans_new = true;
        pthread_cond_signal(&l->cv);
    }
    l->batch.n = l->next;
    l->batch_started_ms = 0;
    pthread_mutex_unlock(&l->mu);
}
