/*
 * pg.c: PostgreSQL from the event loop (see pg.h).
 *
 * Each connection is a small state machine driven by its socket's events:
 *
 *   down ──retry timer──> connecting ──PQconnectPoll OK──> ready <──> busy
 *     ^                        │                             │         │
 *     └──────── failure ───────┴─────────────────────────────┴─────────┘
 *
 * A job connection in pipeline mode sends a job's statements and a sync in
 * one write and reads the results in order until PGRES_PIPELINE_SYNC. The
 * listener sends LISTEN/UNLISTEN for every channel whose wanted state
 * differs from its state on the server, batched in one simple query.
 */
#include "pg.h"

#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHAN_BUCKETS 1024
#define MAX_BATCH 200
#define MAX_QUEUED 20000 /* jobs waiting for a connection; more: gl_pg_submit refuses */
#define MAX_PREPARED 64  /* statements prepared per connection; others are sent unnamed */

struct gl_pg_job {
    gl_pg_job_t *next;
    int n;
    const char *sql[GL_PG_MAX_STMTS];
    int nparams[GL_PG_MAX_STMTS];
    char *params[GL_PG_MAX_STMTS][GL_PG_MAX_PARAMS];
    gl_pg_done_fn done; /* NULL once canceled */
    void *ud;
    bool sent; /* went to a connection (it may run, or have run) */
};

typedef enum { C_DOWN, C_CONNECTING, C_READY, C_BUSY } cstate_t;

typedef struct {
    bool prep; /* the prepare of sql as "ev<num>"; else a run of it */
    int num;   /* -1: run unnamed */
    const char *sql;
} cmd_t;

typedef struct {
    const char *sql;
    int num;
} prep_t;

typedef struct chan {
    struct chan *next;
    char name[64];
    gl_pg_sub_t *subs;
    bool want;      /* someone subscribes */
    bool listening; /* LISTEN in effect on the server */
    bool pending;   /* a command for it is in flight */
} chan_t;

typedef struct conn {
    gl_pg_t *pg;
    bool listener;
    PGconn *c;
    cstate_t st;
    struct event *ev;    /* readable (persistent), or what connecting waits for */
    struct event *wev;   /* writable, while a flush is incomplete */
    struct event *retry; /* the next connection attempt, or the connect deadline */
    struct event *failed; /* a failure found while sending, handled from the loop */
    char why[256];
    int fd;
    /* a job connection's job in flight */
    gl_pg_job_t *job;
    PGresult *res[GL_PG_MAX_STMTS];
    int idx;
    /* its commands in order: a statement, or the prepare of one before it */
    cmd_t cmds[2 * GL_PG_MAX_STMTS];
    int n_cmds, cmd;
    /* the statements prepared on this connection ("ev<num>"), by the
     * address of their text (gl_pg_stmt_t.sql is a string literal) */
    prep_t prep[MAX_PREPARED];
    int n_prep, next_num;
    char err[256];
    /* the listener's batch in flight */
    chan_t *batch[MAX_BATCH];
    int n_batch;
} conn_t;

struct gl_pg {
    struct event_base *base;
    const gl_config_t *cfg;
    conn_t *conns;
    int n_conns;
    conn_t lsn;
    gl_pg_job_t *head, *tail;
    int queued;
    chan_t *chans[CHAN_BUCKETS];
};

static void conn_start(conn_t *k);
static void conn_fail(conn_t *k, const char *why);
static void on_socket(evutil_socket_t fd, short what, void *arg);
static void dispatch(gl_pg_t *pg);
static void listener_kick(gl_pg_t *pg);

/* ---- jobs ---- */

static void job_free(gl_pg_job_t *j)
{
    for (int i = 0; i < j->n; i++)
        for (int p = 0; p < j->nparams[i]; p++)
            free(j->params[i][p]);
    free(j);
}

gl_pg_job_t *gl_pg_submit(gl_pg_t *pg, const gl_pg_stmt_t *stmts, int n, gl_pg_done_fn done, void *ud)
{
    if (pg->queued >= MAX_QUEUED)
        return NULL;
    gl_pg_job_t *j = calloc(1, sizeof *j);
    if (!j || n < 1 || n > GL_PG_MAX_STMTS) {
        free(j);
        return NULL;
    }
    j->n = n;
    j->done = done;
    j->ud = ud;
    for (int i = 0; i < n; i++) {
        j->sql[i] = stmts[i].sql;
        j->nparams[i] = stmts[i].nparams;
        for (int p = 0; p < stmts[i].nparams; p++) {
            if (stmts[i].params[p] && !(j->params[i][p] = strdup(stmts[i].params[p]))) {
                job_free(j);
                return NULL;
            }
        }
    }
    if (pg->tail)
        pg->tail->next = j;
    else
        pg->head = j;
    pg->tail = j;
    pg->queued++;
    dispatch(pg);
    return j;
}

bool gl_pg_cancel(gl_pg_job_t *job)
{
    if (!job)
        return false;
    job->done = NULL;
    return job->sent;
}

bool gl_pg_up(const gl_pg_t *pg)
{
    for (int i = 0; i < pg->n_conns; i++)
        if (pg->conns[i].st == C_READY || pg->conns[i].st == C_BUSY)
            return true;
    return false;
}

int gl_pg_queued(const gl_pg_t *pg)
{
    return pg->queued;
}

/* Ends k's job: synced when its sync came back (its statements committed,
 * or on an error rolled back together), else the connection went first and
 * the callback gets no results (whether they committed is unknown). */
static void job_end(conn_t *k, const char *error, bool synced)
{
    gl_pg_job_t *j = k->job;
    k->job = NULL;
    if (j && j->done)
        j->done(j->ud, synced ? k->res : NULL, synced ? j->n : 0, error);
    for (int i = 0; i < GL_PG_MAX_STMTS; i++) {
        PQclear(k->res[i]);
        k->res[i] = NULL;
    }
    if (j)
        job_free(j);
}

/* ---- connections ---- */

static void conn_events_free(conn_t *k)
{
    if (k->ev)
        event_free(k->ev);
    if (k->wev)
        event_free(k->wev);
    k->ev = k->wev = NULL;
    k->fd = -1;
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    conn_t *k = arg;
    if (k->st == C_CONNECTING) /* the connect deadline passed */
        conn_fail(k, "timed out connecting");
    else
        conn_start(k);
}

static void chans_lost(gl_pg_t *pg)
{
    for (int b = 0; b < CHAN_BUCKETS; b++)
        for (chan_t **pp = &pg->chans[b]; *pp;) {
            chan_t *ch = *pp;
            if (!ch->want && !ch->subs) { /* its UNLISTEN went with the connection */
                *pp = ch->next;
                free(ch);
                continue;
            }
            ch->listening = ch->pending = false;
            for (gl_pg_sub_t *s = ch->subs; s; s = s->next)
                s->active = false;
            pp = &ch->next;
        }
}

/* The connection failed: end what it was doing, try again later. */
static void conn_fail(conn_t *k, const char *why)
{
    if (k->st != C_DOWN)
        gl_log(GL_LOG_WARN, "database connection %s: %s", k->listener ? "(listener) lost" : "lost", why);
    conn_events_free(k);
    if (k->c)
        PQfinish(k->c);
    k->c = NULL;
    k->st = C_DOWN;
    k->n_prep = 0; /* they went with the connection */
    if (k->job)
        job_end(k, why, false);
    if (k->listener) {
        k->n_batch = 0;
        chans_lost(k->pg);
    }
    struct timeval tv = { k->pg->cfg->db_retry_interval / 1000, (k->pg->cfg->db_retry_interval % 1000) * 1000 };
    evtimer_add(k->retry, &tv);
}

static void on_failed(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    conn_t *k = arg;
    conn_fail(k, k->why);
}

/* A failure found while sending, which may be inside gl_pg_submit or a
 * callback: it is handled from the loop, so no callback runs before
 * gl_pg_submit returns and no list a caller walks changes under it. */
static void conn_fail_later(conn_t *k, const char *why)
{
    snprintf(k->why, sizeof k->why, "%s", why && *why ? why : "write failed");
    k->why[strcspn(k->why, "\n")] = '\0';
    k->st = C_BUSY; /* nothing more is sent on it */
    if (k->ev)
        event_del(k->ev);
    if (k->wev)
        event_del(k->wev);
    event_active(k->failed, EV_TIMEOUT, 0);
}

static bool conn_watch(conn_t *k, short what)
{
    int fd = PQsocket(k->c);
    if (fd < 0)
        return false;
    if (fd != k->fd || !k->ev) {
        conn_events_free(k);
        k->fd = fd;
        k->ev = event_new(k->pg->base, fd, EV_READ | EV_PERSIST, on_socket, k);
        k->wev = event_new(k->pg->base, fd, EV_WRITE, on_socket, k);
        if (!k->ev || !k->wev)
            return false;
    }
    if (what & EV_READ)
        event_add(k->ev, NULL);
    else
        event_del(k->ev);
    if (what & EV_WRITE)
        event_add(k->wev, NULL);
    else
        event_del(k->wev);
    return true;
}

static void conn_start(conn_t *k)
{
    const gl_config_t *cfg = k->pg->cfg;
    char timeout[16], opts[96];
    snprintf(timeout, sizeof timeout, "%d", cfg->db_connect_timeout);
    snprintf(opts, sizeof opts, "-c search_path=glyphic,pg_temp -c statement_timeout=%d", cfg->db_statement_timeout);
    /* keepalives: a database host that vanished without a word is noticed
     * (TCP only; unix sockets ignore them) */
    const char *const keys[] = { "dbname", "application_name", "connect_timeout", "options", "keepalives",
                                 "keepalives_idle", "keepalives_interval", "keepalives_count", NULL };
    const char *const vals[] = { cfg->db_url, "glyphic-events", timeout, opts, "1", "10", "5", "3", NULL };
    k->c = PQconnectStartParams(keys, vals, 1);
    if (!k->c || PQstatus(k->c) == CONNECTION_BAD) {
        conn_fail(k, k->c ? PQerrorMessage(k->c) : "out of memory");
        return;
    }
    k->st = C_CONNECTING;
    /* PQconnectPoll does not enforce connect_timeout: the loop does */
    struct timeval tv = { cfg->db_connect_timeout, 0 };
    evtimer_add(k->retry, &tv);
    if (!conn_watch(k, EV_WRITE))
        conn_fail(k, "no socket");
}

static void connecting(conn_t *k)
{
    switch (PQconnectPoll(k->c)) {
    case PGRES_POLLING_READING:
        if (!conn_watch(k, EV_READ))
            conn_fail(k, "no socket");
        return;
    case PGRES_POLLING_WRITING:
        if (!conn_watch(k, EV_WRITE))
            conn_fail(k, "no socket");
        return;
    case PGRES_POLLING_OK:
        break;
    default: {
        char why[256];
        snprintf(why, sizeof why, "%s", PQerrorMessage(k->c));
        why[strcspn(why, "\n")] = '\0';
        conn_fail(k, why);
        return;
    }
    }
    if (PQsetnonblocking(k->c, 1) != 0 || (!k->listener && PQenterPipelineMode(k->c) != 1) ||
        !conn_watch(k, EV_READ)) {
        conn_fail(k, "cannot set the connection up");
        return;
    }
    k->st = C_READY;
    evtimer_del(k->retry);
    gl_log(GL_LOG_DEBUG, "database connection%s ready", k->listener ? " (listener)" : "");
    if (k->listener)
        listener_kick(k->pg);
    else
        dispatch(k->pg);
}

/* Writes what libpq buffered; false on failure. */
static bool flush(conn_t *k)
{
    int f = PQflush(k->c);
    if (f < 0)
        return false;
    return conn_watch(k, f == 1 ? EV_READ | EV_WRITE : EV_READ);
}

/* The number sql is (or is being) prepared under on k, or -1. */
static int prepared_num(const conn_t *k, const char *sql)
{
    for (int i = 0; i < k->n_prep; i++)
        if (k->prep[i].sql == sql)
            return k->prep[i].num;
    for (int i = 0; i < k->n_cmds; i++)
        if (k->cmds[i].prep && k->cmds[i].sql == sql)
            return k->cmds[i].num;
    return -1;
}

/* Sends a job's statements and its sync. Each statement is prepared on
 * the connection the first time it comes (in the same pipeline, before its
 * first run), so its plan is kept: parsing and planning every run was most
 * of what a batch of webhook records cost beside its own work. */
static void send_job(conn_t *k, gl_pg_job_t *j)
{
    j->sent = true;
    k->job = j;
    k->idx = 0;
    k->n_cmds = k->cmd = 0;
    k->err[0] = '\0';
    k->st = C_BUSY;
    int pending = 0; /* prepares sent in this job */
    for (int i = 0; i < j->n; i++) {
        int num = prepared_num(k, j->sql[i]);
        char name[16];
        bool ok = true;
        if (num < 0 && k->n_prep + pending < MAX_PREPARED) {
            pending++;
            num = k->next_num++;
            snprintf(name, sizeof name, "ev%d", num);
            ok = PQsendPrepare(k->c, name, j->sql[i], j->nparams[i], NULL) == 1;
            k->cmds[k->n_cmds++] = (cmd_t){ .prep = true, .num = num, .sql = j->sql[i] };
        }
        if (ok && num >= 0) {
            snprintf(name, sizeof name, "ev%d", num);
            ok = PQsendQueryPrepared(k->c, name, j->nparams[i], (const char *const *)j->params[i], NULL, NULL, 0) == 1;
        } else if (ok) {
            ok = PQsendQueryParams(k->c, j->sql[i], j->nparams[i], NULL, (const char *const *)j->params[i], NULL,
                                   NULL, 0) == 1;
        }
        k->cmds[k->n_cmds++] = (cmd_t){ .prep = false, .num = num, .sql = j->sql[i] };
        if (!ok) {
            conn_fail_later(k, PQerrorMessage(k->c));
            return;
        }
    }
    if (PQpipelineSync(k->c) != 1 || !flush(k))
        conn_fail_later(k, PQerrorMessage(k->c));
}

static void dispatch(gl_pg_t *pg)
{
    for (int i = 0; i < pg->n_conns && pg->head; i++) {
        conn_t *k = &pg->conns[i];
        if (k->st != C_READY)
            continue;
        gl_pg_job_t *j = pg->head;
        pg->head = j->next;
        if (!pg->head)
            pg->tail = NULL;
        pg->queued--;
        j->next = NULL;
        if (!j->done) { /* canceled while it waited */
            job_free(j);
            i--;
            continue;
        }
        send_job(k, j);
    }
}

/* A named statement that failed because the schema changed under it
 * ("cached plan must not change result type", 0A000) or is gone (26000)
 * is prepared anew, under a new name, the next time it runs. */
static void forget_if_stale(conn_t *k, const PGresult *r, const char *sql)
{
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    if (!state || (strcmp(state, "0A000") != 0 && strcmp(state, "26000") != 0))
        return;
    for (int i = 0; i < k->n_prep; i++)
        if (k->prep[i].sql == sql) {
            k->prep[i] = k->prep[--k->n_prep];
            return;
        }
}

/* Reads a job connection's results; ends the job at its sync. */
static void job_read(conn_t *k)
{
    while (k->c && !PQisBusy(k->c)) {
        PGresult *r = PQgetResult(k->c);
        bool prep = k->cmd < k->n_cmds && k->cmds[k->cmd].prep;
        if (!r) { /* the end of one command's results */
            if (!prep)
                k->idx++;
            k->cmd++;
            continue;
        }
        ExecStatusType st = PQresultStatus(r);
        if (prep && st == PGRES_COMMAND_OK) {
            /* kept from now on (a prepared statement outlives a rollback) */
            if (k->n_prep < MAX_PREPARED)
                k->prep[k->n_prep++] = (prep_t){ .sql = k->cmds[k->cmd].sql, .num = k->cmds[k->cmd].num };
            PQclear(r);
            continue;
        }
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            job_end(k, k->err[0] ? k->err : NULL, true);
            k->st = C_READY;
            dispatch(k->pg);
            return;
        }
        if (st == PGRES_FATAL_ERROR && !prep && k->cmd < k->n_cmds && k->cmds[k->cmd].num >= 0)
            forget_if_stale(k, r, k->cmds[k->cmd].sql);
        if (st == PGRES_FATAL_ERROR && !k->err[0]) {
            snprintf(k->err, sizeof k->err, "%s", PQresultErrorMessage(r));
            k->err[strcspn(k->err, "\n")] = '\0';
        } else if (st == PGRES_PIPELINE_ABORTED && !k->err[0]) {
            snprintf(k->err, sizeof k->err, "aborted");
        }
        if (!prep && k->idx < GL_PG_MAX_STMTS && !k->res[k->idx] &&
            (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK))
            k->res[k->idx] = r;
        else
            PQclear(r);
    }
}

/* ---- the listener ---- */

static unsigned chan_hash(const char *s)
{
    return gl_str_hash(s) % CHAN_BUCKETS;
}

static chan_t *chan_find(gl_pg_t *pg, const char *name)
{
    for (chan_t *ch = pg->chans[chan_hash(name)]; ch; ch = ch->next)
        if (strcmp(ch->name, name) == 0)
            return ch;
    return NULL;
}

static void chan_drop(gl_pg_t *pg, chan_t *ch)
{
    chan_t **pp = &pg->chans[chan_hash(ch->name)];
    while (*pp != ch)
        pp = &(*pp)->next;
    *pp = ch->next;
    free(ch);
}

static void chan_ready(chan_t *ch)
{
    for (gl_pg_sub_t *s = ch->subs, *next; s; s = next) {
        next = s->next;
        if (!s->active) {
            s->active = true;
            s->ready(s); /* may unsubscribe s itself */
        }
    }
}

/* Sends LISTEN/UNLISTEN for channels whose wanted state differs. */
static void listener_kick(gl_pg_t *pg)
{
    conn_t *k = &pg->lsn;
    if (k->st != C_READY)
        return;
    /* "UNLISTEN \"<name>\";": at most 9 + 2 + 63 + 1 bytes each */
    char sql[MAX_BATCH * 80 + 1];
    size_t len = 0;
    for (int b = 0; b < CHAN_BUCKETS && k->n_batch < MAX_BATCH; b++)
        for (chan_t *ch = pg->chans[b]; ch && k->n_batch < MAX_BATCH; ch = ch->next) {
            if (ch->pending || ch->want == ch->listening)
                continue;
            int n = snprintf(sql + len, sizeof sql - len, "%s \"%s\";", ch->want ? "LISTEN" : "UNLISTEN", ch->name);
            if (n < 0 || (size_t)n >= sizeof sql - len) {
                sql[len] = '\0';
                goto send; /* full: the rest goes in the next batch */
            }
            len += (size_t)n;
            ch->pending = true;
            k->batch[k->n_batch++] = ch;
        }
send:
    if (k->n_batch == 0)
        return;
    k->st = C_BUSY;
    if (PQsendQuery(k->c, sql) != 1 || !flush(k))
        conn_fail_later(k, PQerrorMessage(k->c));
}

static void listener_batch_done(conn_t *k, bool ok)
{
    gl_pg_t *pg = k->pg;
    int n = k->n_batch;
    k->n_batch = 0;
    for (int i = 0; i < n; i++) {
        chan_t *ch = k->batch[i];
        ch->pending = false;
        if (ok)
            ch->listening = !ch->listening;
    }
    for (int i = 0; i < n; i++) {
        chan_t *ch = k->batch[i];
        if (!ch->want && !ch->listening && !ch->subs)
            chan_drop(pg, ch);
        else if (ch->listening && ch->want)
            chan_ready(ch);
    }
}

static void listener_read(conn_t *k)
{
    bool failed = false;
    while (k->st == C_BUSY && !PQisBusy(k->c)) {
        PGresult *r = PQgetResult(k->c);
        if (!r) {
            listener_batch_done(k, !failed);
            k->st = C_READY;
            if (failed) {
                conn_fail(k, "LISTEN failed");
                return;
            }
            listener_kick(k->pg);
            break;
        }
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            failed = true;
        PQclear(r);
    }
    PGnotify *n;
    while (k->c && (n = PQnotifies(k->c)) != NULL) {
        chan_t *ch = chan_find(k->pg, n->relname);
        if (ch && ch->listening)
            for (gl_pg_sub_t *s = ch->subs, *next; s; s = next) {
                next = s->next;
                if (s->active)
                    s->notify(s, n->extra); /* may unsubscribe s itself */
            }
        PQfreemem(n);
    }
}

void gl_pg_subscribe(gl_pg_t *pg, gl_pg_sub_t *s)
{
    chan_t *ch = chan_find(pg, s->channel);
    if (!ch) {
        ch = calloc(1, sizeof *ch);
        if (!ch)
            return; /* never ready: the subscriber's deadline ends it */
        snprintf(ch->name, sizeof ch->name, "%s", s->channel);
        unsigned b = chan_hash(ch->name);
        ch->next = pg->chans[b];
        pg->chans[b] = ch;
    }
    s->active = false;
    s->next = ch->subs;
    ch->subs = s;
    ch->want = true;
    if (ch->listening && !ch->pending) {
        s->active = true;
        s->ready(s);
        return;
    }
    listener_kick(pg);
}

void gl_pg_unsubscribe(gl_pg_t *pg, gl_pg_sub_t *s)
{
    chan_t *ch = chan_find(pg, s->channel);
    if (!ch)
        return;
    for (gl_pg_sub_t **pp = &ch->subs; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    s->next = NULL;
    s->active = false;
    if (ch->subs)
        return;
    ch->want = false;
    if (!ch->listening && !ch->pending)
        chan_drop(pg, ch);
    else
        listener_kick(pg);
}

/* ---- events ---- */

static void on_socket(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    conn_t *k = arg;
    if (k->st == C_CONNECTING) {
        connecting(k);
        return;
    }
    if (what & EV_WRITE) {
        if (!flush(k)) {
            conn_fail(k, PQerrorMessage(k->c));
            return;
        }
    }
    if (!(what & EV_READ))
        return;
    if (PQconsumeInput(k->c) != 1) {
        char why[256];
        snprintf(why, sizeof why, "%s", PQerrorMessage(k->c));
        why[strcspn(why, "\n")] = '\0';
        conn_fail(k, why);
        return;
    }
    if (k->listener)
        listener_read(k);
    else if (k->st == C_BUSY)
        job_read(k);
}

static void conn_init(gl_pg_t *pg, conn_t *k, bool listener)
{
    k->pg = pg;
    k->listener = listener;
    k->fd = -1;
    k->st = C_DOWN;
    k->retry = evtimer_new(pg->base, on_retry, k);
    k->failed = evtimer_new(pg->base, on_failed, k);
}

gl_pg_t *gl_pg_new(struct event_base *base, const gl_config_t *cfg)
{
    gl_pg_t *pg = calloc(1, sizeof *pg);
    if (!pg)
        return NULL;
    pg->base = base;
    pg->cfg = cfg;
    pg->n_conns = cfg->events_db_connections;
    pg->conns = calloc((size_t)pg->n_conns, sizeof *pg->conns);
    if (!pg->conns) {
        free(pg);
        return NULL;
    }
    conn_init(pg, &pg->lsn, true);
    conn_start(&pg->lsn);
    for (int i = 0; i < pg->n_conns; i++) {
        conn_init(pg, &pg->conns[i], false);
        conn_start(&pg->conns[i]);
    }
    return pg;
}

static void conn_close(conn_t *k)
{
    conn_events_free(k);
    if (k->retry)
        event_free(k->retry);
    if (k->failed)
        event_free(k->failed);
    k->retry = k->failed = NULL;
    if (k->job)
        job_end(k, "shutting down", false);
    if (k->c)
        PQfinish(k->c);
    k->c = NULL;
}

void gl_pg_free(gl_pg_t *pg)
{
    if (!pg)
        return;
    conn_close(&pg->lsn);
    for (int i = 0; i < pg->n_conns; i++)
        conn_close(&pg->conns[i]);
    free(pg->conns);
    while (pg->head) {
        gl_pg_job_t *j = pg->head;
        pg->head = j->next;
        if (j->done)
            j->done(j->ud, NULL, 0, "shutting down");
        job_free(j);
    }
    for (int b = 0; b < CHAN_BUCKETS; b++)
        while (pg->chans[b]) {
            chan_t *ch = pg->chans[b];
            pg->chans[b] = ch->next;
            free(ch);
        }
    free(pg);
}
