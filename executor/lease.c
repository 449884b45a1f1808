/*
 * lease.c: the lease keeper (see lease.h). One mutex guards the batch the
 * worker holds; the keeper never holds it across a database call.
 *
 *   batch:  ids[0 .. next)   started (or finished) by the worker
 *           ids[next .. n)   claimed, not started: the keeper may cut them
 *                            off (n = next) and release them
 */
#include "lease.h"

#include "log.h"
#include "queue.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TICK_MS 100

struct gl_lease {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    gl_db_t *db;
    char *owner;
    int lease_s;
    /* the batch (guarded by mu) */
    int64_t *ids;
    int n, next, cap;
    int64_t job_started_ms; /* 0: no job running */
    /* jobs the worker gave up on: never renewed (guarded by mu) */
    int64_t *forgotten;
    int n_forgotten;
    /* released by the keeper but not yet accepted by the database (keeper only) */
    int64_t *orphans;
    int n_orphans, orphans_cap;
};

int gl_lease_beat_ms(int lease_s)
{
    int ms = lease_s * 1000 / 3;
    return ms < 1000 ? 1000 : ms > 5000 ? 5000 : ms;
}

static void add_orphans(gl_lease_t *l, const int64_t *ids, int n)
{
    if (l->n_orphans + n > l->orphans_cap) {
        l->orphans_cap = (l->n_orphans + n) * 2;
        l->orphans = gl_xrealloc(l->orphans, (size_t)l->orphans_cap * sizeof *l->orphans);
    }
    memcpy(l->orphans + l->n_orphans, ids, (size_t)n * sizeof *ids);
    l->n_orphans += n;
}

static void release_orphans(gl_lease_t *l)
{
    if (l->n_orphans == 0)
        return;
    gl_err_t err;
    gl_err_clear(&err);
    if (gl_queue_release(l->db, l->orphans, l->n_orphans, l->owner, &err) != GL_OK) {
        gl_log(GL_LOG_WARN, "releasing %d job(s) failed (will retry): %s", l->n_orphans, err.msg);
        return;
    }
    gl_log(GL_LOG_DEBUG, "released %d job(s) waiting behind a slow one", l->n_orphans);
    l->n_orphans = 0;
}

static void *keeper(void *arg)
{
    gl_lease_t *l = arg;
    int beat = gl_lease_beat_ms(l->lease_s);
    int64_t next_beat = gl_now_ms() + beat;
    int64_t *cut = NULL;
    int cut_cap = 0;
    pthread_mutex_lock(&l->mu);
    while (!l->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += TICK_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&l->cv, &l->mu, &until);
        if (l->stop)
            break;
        /* a slow job: cut the unstarted rest off the batch */
        int n_cut = 0;
        int64_t now = gl_now_ms();
        if (l->job_started_ms && now - l->job_started_ms > GL_LEASE_SLOW_MS && l->next < l->n) {
            n_cut = l->n - l->next;
            if (n_cut > cut_cap) {
                cut_cap = n_cut;
                cut = gl_xrealloc(cut, (size_t)cut_cap * sizeof *cut);
            }
            memcpy(cut, l->ids + l->next, (size_t)n_cut * sizeof *cut);
            l->n = l->next;
        }
        bool beat_due = now >= next_beat;
        if (!n_cut && !beat_due && !l->n_orphans)
            continue;
        pthread_mutex_unlock(&l->mu);
        if (n_cut)
            add_orphans(l, cut, n_cut);
        release_orphans(l);
        if (beat_due) {
            gl_err_t err;
            gl_err_clear(&err);
            /* a failed renewal is tried again within a second (the
             * database restarting): the rescuer waits two beats */
            pthread_mutex_lock(&l->mu);
            int n_except = l->n_forgotten;
            int64_t except[GL_LEASE_MAX_FORGOTTEN];
            memcpy(except, l->forgotten, (size_t)n_except * sizeof *except);
            pthread_mutex_unlock(&l->mu);
            if (gl_queue_heartbeat_owner(l->db, l->owner, l->lease_s, except, n_except, NULL, &err) != GL_OK) {
                gl_log(GL_LOG_WARN, "renewing leases failed (will retry): %s", err.msg);
                next_beat = gl_now_ms() + 1000;
            } else {
                next_beat = gl_now_ms() + beat;
            }
        }
        pthread_mutex_lock(&l->mu);
    }
    pthread_mutex_unlock(&l->mu);
    release_orphans(l);
    free(cut);
    return NULL;
}

gl_lease_t *gl_lease_start(const gl_db_opts_t *dbo, const char *owner, int lease_s)
{
    gl_lease_t *l = gl_xmalloc(sizeof *l);
    memset(l, 0, sizeof *l);
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    l->db = gl_db_new(dbo);
    l->owner = gl_xstrdup(owner);
    l->lease_s = lease_s;
    /* the keeper takes no signals: SIGTERM must reach the worker's loop */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&l->thread, NULL, keeper, l);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        gl_log(GL_LOG_ERROR, "cannot start the lease keeper: %s", strerror(rc));
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
    pthread_join(l->thread, NULL);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    gl_db_free(l->db);
    free(l->owner);
    free(l->ids);
    free(l->orphans);
    free(l->forgotten);
    free(l);
}

void gl_lease_forget(gl_lease_t *l, int64_t id)
{
    pthread_mutex_lock(&l->mu);
    if (!l->forgotten)
        l->forgotten = gl_xmalloc(GL_LEASE_MAX_FORGOTTEN * sizeof *l->forgotten);
    if (l->n_forgotten == GL_LEASE_MAX_FORGOTTEN) { /* the oldest have long been rescued */
        memmove(l->forgotten, l->forgotten + 1, (GL_LEASE_MAX_FORGOTTEN - 1) * sizeof *l->forgotten);
        l->n_forgotten--;
    }
    l->forgotten[l->n_forgotten++] = id;
    pthread_mutex_unlock(&l->mu);
}

void gl_lease_hold(gl_lease_t *l, const int64_t *ids, int n)
{
    pthread_mutex_lock(&l->mu);
    if (n > l->cap) {
        l->cap = n;
        l->ids = gl_xrealloc(l->ids, (size_t)n * sizeof *l->ids);
    }
    if (n)
        memcpy(l->ids, ids, (size_t)n * sizeof *ids);
    l->n = n;
    l->next = 0;
    l->job_started_ms = 0;
    pthread_mutex_unlock(&l->mu);
}

bool gl_lease_begin(gl_lease_t *l, int64_t id)
{
    pthread_mutex_lock(&l->mu);
    bool ok = l->next < l->n && l->ids[l->next] == id;
    if (ok) {
        l->next++;
        l->job_started_ms = gl_now_ms();
    }
    pthread_mutex_unlock(&l->mu);
    return ok;
}

void gl_lease_end(gl_lease_t *l)
{
    pthread_mutex_lock(&l->mu);
    l->job_started_ms = 0;
    pthread_mutex_unlock(&l->mu);
}

int gl_lease_take_unstarted(gl_lease_t *l, int64_t **ids)
{
    pthread_mutex_lock(&l->mu);
    int n = l->n - l->next;
    *ids = NULL;
    if (n > 0) {
        *ids = gl_xmalloc((size_t)n * sizeof **ids);
        memcpy(*ids, l->ids + l->next, (size_t)n * sizeof **ids);
    }
    l->n = l->next;
    pthread_mutex_unlock(&l->mu);
    return n > 0 ? n : 0;
}
