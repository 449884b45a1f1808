/*
 * worker.c: a prefork worker. It holds one database connection, one arena
 * and two response buffers for its whole life, and reuses them for every
 * request.
 *
 * Signals: SIGTERM/SIGINT set a flag and tell libfcgi to stop accepting.
 * They are blocked while a request is handled, so no read or write of a
 * request is interrupted; they are unblocked only around accept(), which
 * FCGI_FAIL_ACCEPT_ON_INTR makes return on a signal (or, with a webhooks
 * socket, only inside epoll_pwait()). A signal that lands
 * between the flag check and accept() is caught by the master, which repeats
 * SIGTERM every second during shutdown.
 */
#include "worker.h"

#include "db.h"
#include "hooks.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "router.h"
#include "session.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#define GL_MAX_RESPONSE (64u << 20)   /* largest response body we assemble */
#define GL_KEEP_RESPONSE (256u << 10) /* response memory kept between requests */

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
    FCGX_ShutdownPending();
}

typedef struct {
    const gl_config_t *cfg;
    const gl_vault_t *vault;
    gl_db_t *db;
    gl_arena_t *arena;
    gl_buf_t headers;
    gl_buf_t out;
    unsigned long counter;
} worker_t;

static bool valid_request_id(const char *id)
{
    size_t n = 0;
    for (; id[n]; n++) {
        char c = id[n];
        bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  c == '-' || c == '_';
        if (!ok || n >= 64)
            return false;
    }
    return n > 0;
}

/*
 * Runs a route. Public routes run as they are; every other route runs in
 * one transaction that starts with authentication (which sets the row level
 * security context) and commits only if the response is a success — a
 * request is all or nothing. A handler that must keep its writes on a 4xx
 * (a failed log-in is recorded) sets req->commit_on_error.
 */
static void run_route(gl_req_t *req, const gl_route_t *route)
{
    const gl_perm_rule_t *rule = gl_perm_rule(route->perm);
    if (rule->denied) {
        /* a route without a (known) permission: nobody may call it */
        gl_log(GL_LOG_ERROR, "route %s %s has no permission rule (%d): denied", route->method, route->pattern,
               (int)route->perm);
        gl_resp_error(req, 403, "forbidden", NULL, "nobody may do this");
        return;
    }
    if (rule->perm == GL_PERM_PUBLIC) {
        route->handler(req);
        return;
    }
    gl_err_t err;
    gl_err_clear(&err);
    int rc;
    req->rule = rule;
    if (rule->needs_auth) {
        /* opens the transaction in the same round trip as authentication;
         * a read route that can tell its one statement from the request
         * has it run there too, and the transaction ends there */
        gl_ahead_t ahead;
        memset(&ahead, 0, sizeof ahead);
        bool one_trip = route->ahead && (strcmp(req->method, "GET") == 0 || req->head) && route->ahead(req, &ahead);
        if (gl_session_authorize(req, rule, one_trip ? &ahead : NULL) != GL_OK) {
            gl_db_rollback(req->db);
            return;
        }
        req->tx_done = one_trip;
    } else if ((rc = gl_db_begin(req->db, &err)) != GL_OK) {
        gl_resp_fail(req, rc, &err);
        return;
    }
    if (req->auth.authenticated) {
        char ctx[160];
        snprintf(ctx, sizeof ctx, "req=%s user=%s%s%s", req->request_id, req->auth.user_id,
                 req->auth.org_id[0] ? " org=" : "", req->auth.org_id);
        gl_log_context(ctx);
    }
    route->handler(req);
    if (req->tx_done)
        return;
    if (req->status == 0 || (req->status >= 400 && !req->commit_on_error)) {
        gl_db_rollback(req->db);
        return;
    }
    rc = gl_db_commit(req->db, &err);
    if (rc != GL_OK) {
        gl_resp_fail(req, rc == GL_RETRY ? GL_CONFLICT : rc, &err);
        gl_db_rollback(req->db);
    }
}

/* Reads and drops what is left of a request's stdin, until its end, an
 * error, or limit bytes (limit < 0: no limit). */
static void drain_stdin(FCGX_Stream *in, long limit)
{
    char sink[16384];
    while (FCGX_HasSeenEOF(in) != EOF && limit != 0) {
        int want = limit < 0 || limit > (long)sizeof sink ? (int)sizeof sink : (int)limit;
        int n = FCGX_GetStr(sink, want, in);
        if (n <= 0)
            break;
        if (limit > 0)
            limit -= n;
    }
}

/* Routes and runs the request; returns the route that took it (NULL: a
 * webhook, or no route), for the metrics. */
static const gl_route_t *dispatch(gl_req_t *req)
{
    bool hook = req->path_len > 7 && strncmp(req->path, "/hooks/", 7) == 0;
    req->any_body = hook;
    const gl_route_t *route = NULL;
    char allow[64];
    gl_route_result_t found = GL_ROUTE_NOT_FOUND;
    if (!hook)
        found = gl_route_find(req, req->method, req->path, req->path_len, &route, allow, sizeof allow);
    /* an upload's body, and a webhook's that brings files, is streamed by
     * its handler, never held whole */
    bool streamed = hook ? gl_hook_body_kind(req) != GL_HOOK_BODY_BUFFERED
                         : found == GL_ROUTE_FOUND && gl_route_streams_body(route);
    if (!streamed && gl_req_read_body(req) != GL_OK)
        return found == GL_ROUTE_FOUND ? route : NULL;
    if (hook) {
        gl_hooks_handle(req);
    } else {
        switch (found) {
        case GL_ROUTE_FOUND:
            run_route(req, route);
            break;
        case GL_ROUTE_NOT_FOUND:
            gl_resp_error(req, 404, "not_found", NULL, "no such endpoint: %.*s", (int)req->path_len,
                          req->path);
            break;
        case GL_ROUTE_BAD_METHOD:
            gl_resp_header(req, "Allow", allow);
            gl_resp_error(req, 405, "method_not_allowed", NULL, "%s is not allowed here; allowed: %s",
                          req->method, allow);
            break;
        case GL_ROUTE_BAD_PATH:
            gl_resp_error(req, 400, "bad_request", NULL, "malformed percent-encoding in the path");
            break;
        }
    }
    if (streamed) {
        /* what the handler left of the body (it refused early, or
         * authentication did): read and dropped, so nginx finishes sending
         * it and the answer reaches the client */
        drain_stdin(req->fcgx->in, -1);
    }
    return found == GL_ROUTE_FOUND ? route : NULL;
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void handle(worker_t *w, FCGX_Request *fr)
{
    int64_t t0_us = now_us();
    gl_req_t req;
    memset(&req, 0, sizeof req);
    req.fcgx = fr;
    req.arena = w->arena;
    req.cfg = w->cfg;
    req.vault = w->vault;
    req.db = w->db;
    req.headers = &w->headers;
    req.out = &w->out;

    const char *id = gl_req_env(&req, "REQUEST_ID");
    if (id && valid_request_id(id))
        req.request_id = id;
    else
        req.request_id = gl_arena_printf(w->arena, "%x-%lx", (unsigned)getpid(), ++w->counter);
    char ctx[96];
    snprintf(ctx, sizeof ctx, "req=%s", req.request_id);
    gl_log_context(ctx);

    const char *method = gl_req_env(&req, "REQUEST_METHOD");
    req.method = method && *method ? method : "GET";
    req.head = strcmp(req.method, "HEAD") == 0;
    const char *uri = gl_req_env(&req, "REQUEST_URI");
    if (!uri || !*uri)
        uri = gl_req_env(&req, "DOCUMENT_URI");
    if (!uri || !*uri)
        uri = "/";
    const char *q = strchr(uri, '?');
    req.path = uri;
    req.path_len = q ? (size_t)(q - uri) : strlen(uri);
    req.query = q ? q + 1 : "";
    /* nginx behind a unix socket says "unix:": only real addresses go to
     * the database's inet columns */
    req.client_ip = gl_req_env(&req, "REMOTE_ADDR");
    if (req.client_ip) {
        unsigned char addr[sizeof(struct in6_addr)];
        if (inet_pton(AF_INET, req.client_ip, addr) != 1 && inet_pton(AF_INET6, req.client_ip, addr) != 1)
            req.client_ip = NULL;
    }

    uint64_t trips = gl_db_round_trips(w->db);
    const gl_route_t *route = dispatch(&req);
    trips = gl_db_round_trips(w->db) - trips;
    gl_req_send(&req);
    int64_t took_us = now_us() - t0_us;
    if (w->cfg->metrics_enabled) {
        bool hook = !route && req.path_len > 7 && strncmp(req.path, "/hooks/", 7) == 0;
        gl_metrics_request(route, hook, req.method, req.status ? req.status : 500, took_us, trips);
        gl_metrics_db(w->db);
    }

    /* a handler bug must not leak a transaction into the next request */
    gl_db_rollback(w->db);
    gl_log(GL_LOG_DEBUG, "%s %.*s %d %lld ms, %llu database round trip(s)", req.method, (int)req.path_len,
           req.path, req.status, (long long)(took_us / 1000), (unsigned long long)trips);
    gl_log_context(NULL);
    gl_arena_reset(w->arena);
    gl_buf_reset(&w->out, GL_KEEP_RESPONSE);
    gl_buf_reset(&w->headers, 4096);
}

/* How the connection to nginx is closed. libfcgi shuts down its sending
 * side and waits, up to 2 s, for nginx to close its own, reading whatever
 * nginx still sends: a sleep and a wake-up in every request. Once the
 * request's stdin has ended (its empty record), nginx sends nothing more
 * on the connection (fastcgi_keep_conn is off), so nothing is left unread
 * and a plain close loses nothing. So what is left of stdin is read, up to
 * a small remainder, and a request read to its end is closed at once; one
 * whose body was left unread beyond that (an early refusal of a large
 * upload) keeps libfcgi's lingering close. */
#define GL_DRAIN_MAX (64 * 1024)

static void close_at_once_when_read(FCGX_Request *fr)
{
    drain_stdin(fr->in, GL_DRAIN_MAX);
    /* only where libfcgi will close now: a kept connection (keep_conn on)
     * would carry the flag to its next request */
    if (!fr->keepConnection && FCGX_HasSeenEOF(fr->in) == EOF && FCGX_GetError(fr->in) == 0)
        FCGX_Detach(fr);
}

/* The next request: a blocking accept on the one socket, or (non-blocking
 * sockets: there is a webhooks socket) wait on the epoll set ep with the
 * stop signals unblocked, then accept on a ready socket (another worker may
 * have taken the connection: wait again). The sockets are in ep with
 * EPOLLEXCLUSIVE, so a connection wakes one waiting worker, not all.
 * Returns the request, or NULL with *rc (0: stop requested). */
static FCGX_Request *next_request(FCGX_Request reqs[2], int ep, const sigset_t *none, const sigset_t *stop_set,
                                  int *rc)
{
    *rc = 0;
    if (ep < 0) {
        sigprocmask(SIG_SETMASK, none, NULL); /* a pending SIGTERM lands here */
        if (stop_requested)
            return NULL;
        int arc = FCGX_Accept_r(&reqs[0]);
        sigprocmask(SIG_SETMASK, stop_set, NULL);
        if (arc < 0) {
            *rc = stop_requested ? 0 : arc;
            return NULL;
        }
        return &reqs[0];
    }
    for (;;) {
        struct epoll_event ev[2];
        int n = epoll_pwait(ep, ev, 2, -1, none);
        if (stop_requested)
            return NULL;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            *rc = -errno;
            return NULL;
        }
        for (int i = 0; i < n; i++) {
            FCGX_Request *r = &reqs[ev[i].data.u32];
            int arc = FCGX_Accept_r(r);
            if (arc >= 0)
                return r;
            if (arc != -EAGAIN && arc != -EWOULDBLOCK && arc != -ECONNABORTED) {
                *rc = arc;
                return NULL;
            }
        }
    }
}

/* The epoll set a worker waits on (-1: one socket, blocking accept). */
static int wait_set(const gl_listeners_t *l, bool api_only)
{
    if (l->hooks_fd < 0)
        return -1;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        return -2;
    struct epoll_event api = { .events = EPOLLIN | EPOLLEXCLUSIVE, .data.u32 = 0 };
    struct epoll_event hooks = { .events = EPOLLIN | EPOLLEXCLUSIVE, .data.u32 = 1 };
    if (epoll_ctl(ep, EPOLL_CTL_ADD, l->api_fd, &api) != 0 ||
        (!api_only && epoll_ctl(ep, EPOLL_CTL_ADD, l->hooks_fd, &hooks) != 0)) {
        close(ep);
        return -2;
    }
    return ep;
}

int gl_worker_run(const gl_listeners_t *l, bool api_only, const gl_config_t *cfg, const gl_vault_t *vault)
{
    /* die with the master rather than serve on unsupervised */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (api_only)
        prctl(PR_SET_NAME, "glyphic-fcgi-a"); /* ps tells the workers kept for the API */

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop; /* no SA_RESTART: accept() must return */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGCHLD, SIG_DFL);

    sigset_t stop_set, none;
    sigemptyset(&stop_set);
    sigaddset(&stop_set, SIGTERM);
    sigaddset(&stop_set, SIGINT);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &stop_set, NULL);

    if (FCGX_Init() != 0) {
        gl_log(GL_LOG_ERROR, "FCGX_Init failed");
        return 1;
    }
    /* with two sockets every worker waits on both (non-blocking); an
     * API-only worker on the API's alone */
    FCGX_Request fr[2];
    int ep = wait_set(l, api_only);
    if (ep == -2) {
        gl_log(GL_LOG_ERROR, "epoll: %s", strerror(errno));
        return 1;
    }
    if (FCGX_InitRequest(&fr[0], l->api_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0 ||
        (l->hooks_fd >= 0 && FCGX_InitRequest(&fr[1], l->hooks_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0)) {
        gl_log(GL_LOG_ERROR, "FCGX_InitRequest failed");
        return 1;
    }

    worker_t w;
    memset(&w, 0, sizeof w);
    w.cfg = cfg;
    w.vault = vault;
    gl_db_opts_t opts = {
        .conninfo = cfg->db_url,
        .appname = "glyphic-fcgi",
        .connect_timeout_s = cfg->db_connect_timeout,
        .statement_timeout_ms = cfg->db_statement_timeout,
        .retry_interval_ms = cfg->db_retry_interval,
        .require_rls = true,
    };
    w.db = gl_db_new(&opts);
    w.arena = gl_arena_create(16384);
    gl_buf_init(&w.headers, 16384);
    gl_buf_init(&w.out, GL_MAX_RESPONSE);

    gl_err_t err;
    gl_err_clear(&err);
    int rc = gl_db_ensure(w.db, &err);
    if (rc == GL_SCHEMA || rc == GL_UNSAFE) {
        gl_log(GL_LOG_ERROR, "%s", err.msg);
    } else if (rc != GL_OK) {
        gl_log(GL_LOG_WARN, "database not reachable yet (will retry per request): %s", err.msg);
    }

    long served = 0;
    int status = 0;
    while (!stop_requested) {
        if (cfg->fcgi_max_requests > 0 && served >= cfg->fcgi_max_requests) {
            gl_log(GL_LOG_DEBUG, "served %ld requests; recycling", served);
            break;
        }
        int arc;
        FCGX_Request *r = next_request(fr, ep, &none, &stop_set, &arc);
        if (!r) {
            if (arc == 0 || stop_requested)
                break;
            gl_log(GL_LOG_ERROR, "accept failed: %s", strerror(-arc));
            status = 1;
            break;
        }
        handle(&w, r);
        close_at_once_when_read(r);
        FCGX_Finish_r(r);
        served++;
    }

    if (ep >= 0)
        close(ep);
    gl_db_free(w.db);
    gl_arena_destroy(w.arena);
    gl_buf_free(&w.headers);
    gl_buf_free(&w.out);
    return status;
}
