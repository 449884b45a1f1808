/*
 * record.c: direct webhook runs recorded a batch at a time (hook_batch.h,
 * sql/029_hook_batches.sql).
 *
 * glyphic-fcgi's workers connect to events.record_socket and hand over one
 * run each (a length-prefixed JSON object); each waits for its outcome.
 * Runs queue here. One batch is written at a time, as one hook_record_many
 * statement — one commit — over every run that queued while the previous
 * batch was being written: a lone call is written at once, and under load
 * the cost of a statement and its commit is shared by the calls that
 * arrived meanwhile (one at a time makes the batches as large as the load
 * allows, and leaves glyphic-events' other connections to the streams and
 * waits). Each run's worker gets its outcome once the batch's statement and
 * commit are done (the pipeline's sync, pg.c).
 *
 * A batch the database refuses (bad data in one run, a lost connection),
 * and every run that arrives while no connection is up, is answered
 * "alone": its worker then records it with hook_record, which says what
 * was wrong with which. A frame that is
 * not one JSON object ends its connection. Runs of a worker that went away
 * are still written (its caller retries; the worker had chosen their ids).
 */
#include "record.h"

#include "buf.h"
#include "hook_batch.h"
#include "json.h"
#include "listen.h"
#include "log.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_BATCH_RUNS 64
#define MAX_BATCH_BYTES (8u << 20) /* a batch takes more runs while below this */
#define MAX_QUEUED_BYTES (256u << 20) /* past it, new runs are answered "alone" */

typedef struct peer peer_t;

typedef struct run {
    struct run *next;
    peer_t *peer; /* NULL once the worker went away */
    char *json;
    size_t len;
} run_t;

struct peer {
    peer_t *next, *prev;
    gl_recorder_t *rec;
    struct bufferevent *bev;
    int pending; /* its runs queued or in a batch */
    bool gone;   /* closed: kept (without its events) until its runs are answered */
};

typedef struct batch {
    gl_recorder_t *rec;
    run_t *runs[MAX_BATCH_RUNS];
    int n;
} batch_t;

struct gl_recorder {
    gl_server_t *srv;
    struct evconnlistener *lis;
    bool created;
    char path[256];
    run_t *head, *tail;
    size_t queued_bytes;
    bool writing; /* a batch is being written (one at a time: see above) */
    bool closing; /* no more batches start */
    peer_t *peers;
    uint64_t batches, runs; /* written, for the log */
};

static void reply(peer_t *p, gl_hb_outcome_t o)
{
    const char *w = gl_hb_word(o);
    size_t n = strlen(w);
    unsigned char head[4];
    gl_hb_put_len(head, (uint32_t)n);
    if (bufferevent_write(p->bev, head, sizeof head) != 0 || bufferevent_write(p->bev, w, n) != 0)
        gl_log(GL_LOG_WARN, "record socket: cannot answer a worker");
}

static void peer_free(peer_t *p)
{
    gl_recorder_t *rec = p->rec;
    if (p->prev)
        p->prev->next = p->next;
    else
        rec->peers = p->next;
    if (p->next)
        p->next->prev = p->prev;
    bufferevent_free(p->bev);
    free(p);
}

/* The worker went away: its queued runs stay (they are still written) but
 * nobody is answered. */
static void peer_gone(peer_t *p)
{
    gl_recorder_t *rec = p->rec;
    for (run_t *r = rec->head; r; r = r->next)
        if (r->peer == p) {
            r->peer = NULL;
            p->pending--;
        }
    if (p->pending > 0) {
        /* runs in batches being written: it lives on, silent, until they end */
        p->gone = true;
        bufferevent_disable(p->bev, EV_READ | EV_WRITE);
        return;
    }
    peer_free(p);
}

static void answer(run_t *r, gl_hb_outcome_t o)
{
    peer_t *p = r->peer;
    if (p) {
        p->pending--;
        if (!p->gone)
            reply(p, o);
        else if (p->pending == 0)
            peer_free(p); /* gone while this run was being written */
    }
    free(r->json);
    free(r);
}

static void kick(gl_recorder_t *rec);

static void batch_done(void *ud, PGresult *const *res, int n, const char *error)
{
    batch_t *b = ud;
    gl_recorder_t *rec = b->rec;
    const PGresult *r = n > 0 ? res[0] : NULL;
    int rows = !error && r ? PQntuples(r) : 0;
    if (error)
        gl_log(GL_LOG_WARN, "a batch of %d webhook runs was not written (%s): each worker records its own", b->n,
               error);
    for (int i = 0; i < b->n; i++) {
        gl_hb_outcome_t o = GL_HB_ALONE;
        if (i < rows && !PQgetisnull(r, i, 1))
            o = gl_hb_parse(PQgetvalue(r, i, 1), (size_t)PQgetlength(r, i, 1));
        answer(b->runs[i], o == GL_HB_UNKNOWN ? GL_HB_ALONE : o);
    }
    if (!error) {
        rec->batches++;
        rec->runs += (uint64_t)b->n;
    }
    rec->writing = false;
    free(b);
    kick(rec);
}

/* Starts the next batch when runs wait and none is being written. */
static void kick(gl_recorder_t *rec)
{
    static const char sql[] = "SELECT ord, outcome FROM glyphic.hook_record_many($1::jsonb)";
    if (rec->head && !gl_pg_up(rec->srv->pg)) {
        /* no connection to write with (the database is down, or being
         * connected to): each worker records its own run now, rather than
         * waiting here until its timeout */
        while (rec->head) {
            run_t *r = rec->head;
            rec->head = r->next;
            rec->queued_bytes -= r->len;
            answer(r, GL_HB_ALONE);
        }
        rec->tail = NULL;
        return;
    }
    while (rec->head && !rec->writing && !rec->closing) {
        batch_t *b = calloc(1, sizeof *b);
        if (!b)
            return; /* the next run or batch end tries again */
        b->rec = rec;
        gl_buf_t body;
        gl_buf_init(&body, (size_t)MAX_BATCH_BYTES + GL_HOOK_BATCH_MAX_RUN + 2u * MAX_BATCH_RUNS);
        int rc = gl_buf_puts(&body, "[");
        while (rc == GL_OK && rec->head && b->n < MAX_BATCH_RUNS && (b->n == 0 || body.len < MAX_BATCH_BYTES)) {
            run_t *r = rec->head;
            rc = gl_buf_append(&body, b->n ? "," : "", b->n ? 1 : 0);
            if (rc == GL_OK)
                rc = gl_buf_append(&body, r->json, r->len);
            if (rc != GL_OK)
                break;
            rec->head = r->next;
            if (!rec->head)
                rec->tail = NULL;
            rec->queued_bytes -= r->len;
            r->next = NULL;
            b->runs[b->n++] = r;
        }
        if (rc == GL_OK)
            rc = gl_buf_puts(&body, "]");
        gl_pg_stmt_t st = { .sql = sql, .nparams = 1, .params = { body.data } };
        if (rc != GL_OK || !gl_pg_submit(rec->srv->pg, &st, 1, batch_done, b)) {
            gl_log(GL_LOG_WARN, "cannot start a batch of webhook runs: each worker records its own");
            for (int i = 0; i < b->n; i++)
                answer(b->runs[i], GL_HB_ALONE);
            free(b);
            gl_buf_free(&body);
            continue;
        }
        gl_buf_free(&body);
        rec->writing = true;
    }
}

static void on_read(struct bufferevent *bev, void *arg)
{
    peer_t *p = arg;
    gl_recorder_t *rec = p->rec;
    struct evbuffer *in = bufferevent_get_input(bev);
    for (;;) {
        unsigned char head[4];
        if (evbuffer_copyout(in, head, sizeof head) < (ssize_t)sizeof head)
            return;
        uint32_t len = gl_hb_get_len(head);
        if (len == 0 || len > GL_HOOK_BATCH_MAX_RUN) {
            gl_log(GL_LOG_WARN, "record socket: a frame of %u bytes; closing that connection", len);
            peer_gone(p);
            return;
        }
        if (evbuffer_get_length(in) < sizeof head + len)
            return;
        evbuffer_drain(in, sizeof head);
        run_t *r = calloc(1, sizeof *r);
        char *json = malloc(len + 1);
        if (!r || !json) {
            free(r);
            free(json);
            evbuffer_drain(in, len);
            reply(p, GL_HB_ALONE);
            continue;
        }
        evbuffer_remove(in, json, len);
        json[len] = '\0';
        gl_err_t err;
        gl_err_clear(&err);
        if (json[0] != '{' || gl_json_check(json, len, 64, &err) != GL_OK) {
            gl_log(GL_LOG_WARN, "record socket: a frame that is not one JSON object; closing that connection");
            free(json);
            free(r);
            peer_gone(p);
            return;
        }
        r->json = json;
        r->len = len;
        if (rec->queued_bytes + len > MAX_QUEUED_BYTES || rec->srv->stopping) {
            reply(p, GL_HB_ALONE);
            free(json);
            free(r);
            continue;
        }
        r->peer = p;
        p->pending++;
        if (rec->tail)
            rec->tail->next = r;
        else
            rec->head = r;
        rec->tail = r;
        rec->queued_bytes += len;
    }
}

static void on_read_then_kick(struct bufferevent *bev, void *arg)
{
    peer_t *p = arg;
    gl_recorder_t *rec = p->rec;
    on_read(bev, arg);
    kick(rec); /* p may be gone: rec was read first */
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
        peer_gone(arg);
}

static void on_accept(struct evconnlistener *lis, evutil_socket_t fd, struct sockaddr *sa, int socklen, void *arg)
{
    (void)lis;
    (void)sa;
    (void)socklen;
    gl_recorder_t *rec = arg;
    peer_t *p = calloc(1, sizeof *p);
    struct bufferevent *bev =
        p ? bufferevent_socket_new(rec->srv->base, fd, BEV_OPT_CLOSE_ON_FREE) : NULL;
    if (!bev) {
        free(p);
        evutil_closesocket(fd);
        return;
    }
    p->rec = rec;
    p->bev = bev;
    p->next = rec->peers;
    if (rec->peers)
        rec->peers->prev = p;
    rec->peers = p;
    bufferevent_setcb(bev, on_read_then_kick, NULL, on_event, p);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
}

gl_recorder_t *gl_recorder_new(gl_server_t *srv)
{
    gl_recorder_t *rec = calloc(1, sizeof *rec);
    if (!rec)
        return NULL;
    rec->srv = srv;
    if (!gl_config_record_socket(srv->cfg, rec->path, sizeof rec->path))
        return rec; /* off */
    gl_err_t err;
    gl_err_clear(&err);
    /* as trusted as db.url: only this account (glyphic-fcgi runs as the same) */
    int fd = gl_listen("events.record_socket", rec->path, 0600, 1024, &rec->created, &err);
    if (fd < 0 || evutil_make_socket_nonblocking(fd) != 0 ||
        !(rec->lis = evconnlistener_new(srv->base, on_accept, rec, LEV_OPT_CLOSE_ON_FREE, -1, fd))) {
        if (fd >= 0 && !rec->lis)
            close(fd);
        gl_log(GL_LOG_WARN, "%s: webhook runs are recorded by each worker", fd < 0 ? err.msg : "cannot listen");
        if (rec->created)
            unlink(rec->path);
        rec->created = false;
        rec->path[0] = '\0';
        return rec;
    }
    gl_log(GL_LOG_INFO, "recording direct webhook runs in batches on %s", rec->path);
    return rec;
}

void gl_recorder_close(gl_recorder_t *rec)
{
    if (!rec)
        return;
    rec->closing = true;
    if (rec->lis)
        evconnlistener_free(rec->lis);
    rec->lis = NULL;
    if (rec->created)
        unlink(rec->path);
    rec->created = false;
}

void gl_recorder_free(gl_recorder_t *rec)
{
    if (!rec)
        return;
    gl_recorder_close(rec);
    /* queued runs are not written: their workers get end-of-file and
     * record them themselves */
    while (rec->head) {
        run_t *r = rec->head;
        rec->head = r->next;
        free(r->json);
        free(r);
    }
    while (rec->peers)
        peer_free(rec->peers);
    if (rec->batches)
        gl_log(GL_LOG_INFO, "wrote %llu webhook runs in %llu batches", (unsigned long long)rec->runs,
               (unsigned long long)rec->batches);
    free(rec);
}
