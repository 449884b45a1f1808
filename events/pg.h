/*
 * pg.h: PostgreSQL from the event loop, never blocking it.
 *
 * A few connections (events.db_connections) run jobs: up to GL_PG_MAX_STMTS
 * statements sent in one pipeline (libpq's pipeline mode, one round trip)
 * and run in one implicit transaction, so an authentication and the reads
 * it allows share the request context. Jobs wait in one FIFO queue for a
 * free connection. One more connection only listens: channels are
 * reference counted (LISTEN on the first subscriber, UNLISTEN after the
 * last) and each notification goes to the channel's subscribers.
 *
 * Connections are made asynchronously and made again after a loss (every
 * db.retry_interval). A job on a lost connection ends with an error; a
 * lost listener readies every subscriber again once its channel is
 * listened to anew: it must read again what it may have missed. Callbacks
 * never run inside gl_pg_submit, gl_pg_subscribe's caller excepted (ready
 * may come at once).
 */
#ifndef GL_EVENTS_PG_H
#define GL_EVENTS_PG_H

#include "config.h"
#include "gl.h"

#include <event2/event.h>
#include <libpq-fe.h>

#define GL_PG_MAX_STMTS 4
#define GL_PG_MAX_PARAMS 4

typedef struct gl_pg gl_pg_t;
typedef struct gl_pg_job gl_pg_job_t;

/* One statement: sql must be a string literal (or live as long as the
 * process, never changing): each job connection prepares it the first time
 * and knows it by its address; the parameters are copied. */
typedef struct {
    const char *sql;
    int nparams;
    const char *params[GL_PG_MAX_PARAMS];
} gl_pg_stmt_t;

/* A job's end: res[i] is statement i's result (NULL where it did not run),
 * or error is set (the first failure's message). A job's statements run in
 * one implicit transaction: with an error and res set (it may hold the
 * results of the statements before the failure), none of them took effect;
 * with res NULL and n 0 the connection went (or glyphic-events stopped)
 * before the job's end came back, and whether they did is unknown. The
 * results are cleared after the call. */
typedef void (*gl_pg_done_fn)(void *ud, PGresult *const *res, int n, const char *error);

/* A subscriber to a channel. notify gets each payload; ready is called
 * once the channel is listened to, and again once it is listened to anew
 * after the listener lost its connection (notifications may have been
 * missed meanwhile: read again). */
typedef struct gl_pg_sub {
    char channel[64];
    void (*notify)(struct gl_pg_sub *s, const char *payload);
    void (*ready)(struct gl_pg_sub *s);
    /* private */
    struct gl_pg_sub *next;
    bool active;
} gl_pg_sub_t;

gl_pg_t *gl_pg_new(struct event_base *base, const gl_config_t *cfg);
void gl_pg_free(gl_pg_t *pg);

/* Queues a job; returns its handle (for gl_pg_cancel), NULL when out of
 * memory or too many jobs wait already. done is never called before
 * gl_pg_submit returns. */
gl_pg_job_t *gl_pg_submit(gl_pg_t *pg, const gl_pg_stmt_t *stmts, int n, gl_pg_done_fn done, void *ud);
/* Its callback will not be called. Returns whether the job went to a
 * connection (it may still run, or have run); false: it was still waiting
 * and never runs (or job is NULL). */
bool gl_pg_cancel(gl_pg_job_t *job);

/* Subscribes s (channel filled in, callbacks set); ready comes once the
 * LISTEN is in effect. */
void gl_pg_subscribe(gl_pg_t *pg, gl_pg_sub_t *s);
void gl_pg_unsubscribe(gl_pg_t *pg, gl_pg_sub_t *s);

/* True when a job connection is up (connected, idle or running a job). */
bool gl_pg_up(const gl_pg_t *pg);

/* Jobs waiting for a connection (for the health line in the log). */
int gl_pg_queued(const gl_pg_t *pg);

#endif
