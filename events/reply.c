/*
 * reply.c: answers, client watching and caps for glyphic-events (see
 * server.h).
 */
#include "server.h"

#include "log.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/keyvalq_struct.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>

/* ---- answers ---- */

const char *gl_ev_header(struct evhttp_request *req, const char *name)
{
    return evhttp_find_header(evhttp_request_get_input_headers(req), name);
}

char *gl_ev_query(struct evhttp_request *req, const char *name)
{
    const char *q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
    if (!q)
        return NULL;
    struct evkeyvalq kv;
    TAILQ_INIT(&kv);
    if (evhttp_parse_query_str(q, &kv) != 0)
        return NULL;
    const char *v = evhttp_find_header(&kv, name);
    char *out = v ? strdup(v) : NULL;
    evhttp_clear_headers(&kv);
    return out;
}

void gl_ev_error(struct evhttp_request *req, int status, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *rid = gl_ev_header(req, "X-Request-Id");
    json_object *o = json_object_new_object(), *e = json_object_new_object();
    json_object_object_add(e, "code", json_object_new_string(code));
    json_object_object_add(e, "message", json_object_new_string(msg));
    if (rid)
        json_object_object_add(e, "request_id", json_object_new_string(rid));
    json_object_object_add(o, "error", e);
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", "application/json");
    evhttp_add_header(h, "Cache-Control", "no-store");
    if (status == 429 || status == 503)
        evhttp_add_header(h, "Retry-After", "1");
    struct evbuffer *b = evbuffer_new();
    if (b) {
        evbuffer_add_printf(b, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        evhttp_send_reply(req, status, NULL, b);
        evbuffer_free(b);
    } else {
        evhttp_send_reply(req, status, NULL, NULL);
    }
    json_object_put(o);
}

/* ---- a held request's client ---- */

static void on_closed(struct evhttp_connection *evcon, void *arg)
{
    (void)evcon;
    gl_ev_client_t *c = arg;
    /* evhttp detaches a request it was still sending when it finds the
     * connection broken, and leaves it to its owner to free; a request
     * still attached (the client closed, on_readable) goes with the
     * connection */
    struct evhttp_request *req = c->req;
    bool detached = req && evhttp_request_get_connection(req) == NULL;
    if (c->eof)
        event_free(c->eof);
    c->eof = NULL;
    c->evcon = NULL;
    c->gone(c->ud); /* frees c */
    if (detached)
        evhttp_request_free(req);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    gl_ev_client_t *c = arg;
    char ch;
    ssize_t n = recv(fd, &ch, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n > 0)
        return; /* a request after this one (not sent by nginx): left for evhttp */
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        event_add(c->eof, NULL); /* woken for nothing: keep watching */
        return;
    }
    /* end of file or an error: the client is gone. Freeing the connection
     * frees its request and calls on_closed. */
    evhttp_connection_free(c->evcon);
}

bool gl_ev_client_watch(gl_ev_client_t *c, gl_server_t *srv, struct evhttp_request *req, void (*gone)(void *),
                        void *ud)
{
    c->req = req;
    c->evcon = evhttp_request_get_connection(req);
    c->gone = gone;
    c->ud = ud;
    c->eof = NULL;
    struct bufferevent *bev = c->evcon ? evhttp_connection_get_bufferevent(c->evcon) : NULL;
    if (!bev)
        return false;
    c->eof = event_new(srv->base, bufferevent_getfd(bev), EV_READ, on_readable, c);
    if (!c->eof || event_add(c->eof, NULL) != 0)
        return false;
    evhttp_connection_set_closecb(c->evcon, on_closed, c);
    return true;
}

void gl_ev_client_release(gl_ev_client_t *c)
{
    if (c->eof)
        event_free(c->eof);
    c->eof = NULL;
    if (c->evcon)
        evhttp_connection_set_closecb(c->evcon, NULL, NULL);
    c->evcon = NULL;
}

size_t gl_ev_client_backlog(const gl_ev_client_t *c)
{
    struct bufferevent *bev = c->evcon ? evhttp_connection_get_bufferevent(c->evcon) : NULL;
    return bev ? evbuffer_get_length(bufferevent_get_output(bev)) : 0;
}

/* ---- caps: counts per key in a small hash table ---- */

#define CAP_BUCKETS 4096

typedef struct cap {
    struct cap *next;
    int n;
    char key[];
} cap_t;

struct gl_caps {
    cap_t *b[CAP_BUCKETS];
};

static unsigned cap_hash(const char *s)
{
    return gl_str_hash(s) % CAP_BUCKETS;
}

gl_caps_t *gl_caps_new(void)
{
    return calloc(1, sizeof(gl_caps_t));
}

void gl_caps_free(gl_caps_t *caps)
{
    if (!caps)
        return;
    for (int i = 0; i < CAP_BUCKETS; i++)
        while (caps->b[i]) {
            cap_t *c = caps->b[i];
            caps->b[i] = c->next;
            free(c);
        }
    free(caps);
}

bool gl_caps_take(gl_caps_t *caps, const char *key, int limit)
{
    cap_t **pp = &caps->b[cap_hash(key)];
    for (cap_t *c = *pp; c; c = c->next)
        if (strcmp(c->key, key) == 0) {
            if (c->n >= limit)
                return false;
            c->n++;
            return true;
        }
    if (limit < 1)
        return false;
    size_t len = strlen(key);
    cap_t *c = malloc(sizeof *c + len + 1);
    if (!c)
        return false;
    memcpy(c->key, key, len + 1);
    c->n = 1;
    c->next = *pp;
    *pp = c;
    return true;
}

void gl_caps_put(gl_caps_t *caps, const char *key)
{
    for (cap_t **pp = &caps->b[cap_hash(key)]; *pp; pp = &(*pp)->next) {
        cap_t *c = *pp;
        if (strcmp(c->key, key) != 0)
            continue;
        if (--c->n <= 0) {
            *pp = c->next;
            free(c);
        }
        return;
    }
}
