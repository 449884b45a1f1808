/*
 * server.h: what glyphic-events' parts share — the loop, the database,
 * the caps on open connections, and the helpers every handler answers
 * with.
 *
 * Each held request (a live-progress stream, a webhook wait) watches its
 * client: evhttp alone notices a closed client only when it next writes,
 * so a held request also waits for its socket to become readable and
 * ends at once on end-of-file.
 */
#ifndef GL_EVENTS_SERVER_H
#define GL_EVENTS_SERVER_H

#include "config.h"
#include "gl.h"
#include "pg.h"

#include <event2/event.h>
#include <event2/http.h>

typedef struct gl_caps gl_caps_t;

typedef struct {
    struct event_base *base;
    const gl_config_t *cfg;
    gl_pg_t *pg;
    gl_caps_t *caps;
    int streams;   /* open live-progress streams */
    int waits;     /* webhook calls waiting */
    bool stopping;
} gl_server_t;

/* ---- answers ---- */

/* A JSON error {"error":{"code","message","request_id"}}; 429 and 503 get
 * Retry-After: 1. */
void gl_ev_error(struct evhttp_request *req, int status, const char *code, const char *fmt, ...)
    GL_PRINTF(4, 5);
/* A request header's value, or NULL. */
const char *gl_ev_header(struct evhttp_request *req, const char *name);
/* A query parameter's value (decoded, in a new string the caller frees),
 * or NULL. */
char *gl_ev_query(struct evhttp_request *req, const char *name);

/* ---- a held request's client ---- */

typedef struct {
    struct evhttp_request *req;
    struct evhttp_connection *evcon;
    struct event *eof;
    void (*gone)(void *ud); /* the client closed: the owner frees itself */
    void *ud;
} gl_ev_client_t;

/* Starts watching req's client; false when that cannot be done. */
bool gl_ev_client_watch(gl_ev_client_t *c, gl_server_t *srv, struct evhttp_request *req, void (*gone)(void *),
                        void *ud);
/* Stops watching (before the owner answers and frees itself). */
void gl_ev_client_release(gl_ev_client_t *c);
/* Bytes written to the client that it has not read yet. */
size_t gl_ev_client_backlog(const gl_ev_client_t *c);

/* ---- caps ---- */

gl_caps_t *gl_caps_new(void);
void gl_caps_free(gl_caps_t *caps);
/* Counts one more under key unless it already holds limit; false then. */
bool gl_caps_take(gl_caps_t *caps, const char *key, int limit);
void gl_caps_put(gl_caps_t *caps, const char *key);

/* ---- the handlers ---- */

void gl_stream_handle(gl_server_t *srv, struct evhttp_request *req, const char *execution_id);
void gl_wait_handle(gl_server_t *srv, struct evhttp_request *req, const char *execution_id);

#endif
