/*
 * main.c: glyphic-events — the requests that must wait, held in one event
 * loop (libevent's evhttp) so that no prefork worker of glyphic-fcgi is
 * ever held by a slow client:
 *
 *   GET /api/executions/{id}/events   live progress (stream.c)
 *   GET /_glyphic/wait/{id}           a synchronous webhook call waiting
 *                                     for the executor (wait.c; nginx's
 *                                     internal location, after glyphic-fcgi
 *                                     queued the execution)
 *
 * and, on events.record_socket, glyphic-fcgi's direct webhook runs, written
 * a batch at a time (record.c).
 *
 * nginx is the only client: it listens on events.socket (a unix socket by
 * default). The database is reached through pg.c, never blocking the loop.
 */
#include "config.h"
#include "crypto.h"
#include "db.h"
#include "listen.h"
#include "log.h"
#include "migrate.h"
#include "record.h"
#include "server.h"

#include <event2/event.h>
#include <event2/http.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: glyphic-events [-c FILE] [--check] [--help] [--version]\n"
            "\n"
            "Glyphic's event server: live-progress streams and synchronous webhook calls\n"
            "waiting for the executor, thousands at once in one process, behind nginx.\n"
            "\n"
            "  -c, --config FILE  read FILE (default: $GLYPHIC_CONFIG, else %s if present)\n"
            "      --check        load and validate the configuration, print it, exit\n"
            "  -h, --help         this text\n"
            "  -V, --version      print the version\n"
            "\n"
            "Listening: events.socket (a unix socket path, or host:port). nginx routes\n"
            "GET /api/executions/{id}/events here, and the internal location\n"
            "/_glyphic/wait/ that glyphic-fcgi's X-Accel-Redirect hands waiting webhook\n"
            "calls to (see nginx/glyphic-server.conf.in).\n"
            "Direct webhook runs: glyphic-fcgi's workers hand the records of the quick\n"
            "webhook runs they ran themselves to events.record_socket; they are written\n"
            "a batch at a time (one statement and commit for the runs that arrive while\n"
            "the previous batches are written). Without glyphic-events each worker\n"
            "writes its own.\n"
            "Signals: SIGTERM/SIGINT close every held request (clients reconnect; waiting\n"
            "webhook calls get 503 from nginx, their executions go on) and stop.\n"
            "\n"
            "Configuration keys (file `key = value`, or the environment variable):\n",
            GL_CONFIG_DEFAULT_PATH);
    gl_config_help(out);
}

typedef struct {
    gl_server_t srv;
    struct evhttp *http;
} app_t;

static void route(struct evhttp_request *req, void *arg)
{
    gl_server_t *srv = arg;
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    static const char ev_prefix[] = "/api/executions/", ev_suffix[] = "/events", wait_prefix[] = "/_glyphic/wait/";
    if (!path) {
        gl_ev_error(req, 404, "not_found", "no such resource");
        return;
    }
    size_t n = strlen(path);
    bool is_events = n == sizeof ev_prefix - 1 + GL_UUID_LEN + sizeof ev_suffix - 1 &&
                     strncmp(path, ev_prefix, sizeof ev_prefix - 1) == 0 &&
                     strcmp(path + n - (sizeof ev_suffix - 1), ev_suffix) == 0;
    bool is_wait = n == sizeof wait_prefix - 1 + GL_UUID_LEN && strncmp(path, wait_prefix, sizeof wait_prefix - 1) == 0;
    if (!is_events && !is_wait) {
        gl_ev_error(req, 404, "not_found", "no such resource");
        return;
    }
    if (cmd != EVHTTP_REQ_GET && !(is_wait && cmd == EVHTTP_REQ_HEAD)) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET");
        gl_ev_error(req, 405, "method_not_allowed", "only GET");
        return;
    }
    char id[GL_UUID_LEN + 1];
    memcpy(id, is_events ? path + sizeof ev_prefix - 1 : path + sizeof wait_prefix - 1, GL_UUID_LEN);
    id[GL_UUID_LEN] = '\0';
    if (is_events)
        gl_stream_handle(srv, req, id);
    else
        gl_wait_handle(srv, req, id);
}

static void on_stop(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    app_t *app = arg;
    gl_log(GL_LOG_INFO, "signal %d: closing %d streams and %d waits, stopping", (int)sig, app->srv.streams,
           app->srv.waits);
    app->srv.stopping = true;
    /* frees every connection: each held request ends through its close
     * callback, and nginx tells its client */
    evhttp_free(app->http);
    app->http = NULL;
    event_base_loopexit(app->srv.base, NULL);
}

static int serve(const gl_config_t *cfg)
{
    gl_err_t err;
    gl_err_clear(&err);
    bool created = false;
    int fd = gl_listen("events.socket", cfg->events_socket, cfg->events_socket_mode, 4096, &created, &err);
    if (fd < 0) {
        gl_log(GL_LOG_ERROR, "%s", err.msg);
        fprintf(stderr, "glyphic-events: %s\n", err.msg);
        return 1;
    }
    app_t app;
    memset(&app, 0, sizeof app);
    app.srv.cfg = cfg;
    app.srv.base = event_base_new();
    app.srv.caps = gl_caps_new();
    app.http = app.srv.base ? evhttp_new(app.srv.base) : NULL;
    app.srv.pg = app.srv.base ? gl_pg_new(app.srv.base, cfg) : NULL;
    gl_recorder_t *rec = app.srv.pg ? gl_recorder_new(&app.srv) : NULL;
    struct event *sigterm = NULL, *sigint = NULL;
    int status = 1;
    if (!app.http || !app.srv.pg || !rec || !app.srv.caps || evutil_make_socket_nonblocking(fd) != 0 ||
        !evhttp_accept_socket_with_handle(app.http, fd)) {
        gl_log(GL_LOG_ERROR, "cannot set the event loop up");
        goto out;
    }
    evhttp_set_allowed_methods(app.http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                             EVHTTP_REQ_DELETE | EVHTTP_REQ_PATCH | EVHTTP_REQ_OPTIONS);
    evhttp_set_max_headers_size(app.http, 16384);
    evhttp_set_max_body_size(app.http, 0);
    evhttp_set_timeout(app.http, 3600 * 24); /* held requests end by their own timers */
    evhttp_set_gencb(app.http, route, &app.srv);
    signal(SIGPIPE, SIG_IGN);
    /* every held request is a descriptor: take what the hard limit allows */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            gl_log(GL_LOG_WARN, "cannot raise the open file limit: %s", strerror(errno));
    }
    sigterm = evsignal_new(app.srv.base, SIGTERM, on_stop, &app);
    sigint = evsignal_new(app.srv.base, SIGINT, on_stop, &app);
    if (!sigterm || !sigint || event_add(sigterm, NULL) != 0 || event_add(sigint, NULL) != 0)
        goto out;
    gl_log(GL_LOG_INFO, "listening on %s", cfg->events_socket);
    status = event_base_dispatch(app.srv.base) < 0 ? 1 : 0;
out:
    if (sigterm)
        event_free(sigterm);
    if (sigint)
        event_free(sigint);
    if (app.http)
        evhttp_free(app.http);
    gl_recorder_close(rec);
    gl_pg_free(app.srv.pg);
    gl_recorder_free(rec);
    gl_caps_free(app.srv.caps);
    if (app.srv.base)
        event_base_free(app.srv.base);
    if (created)
        unlink(cfg->events_socket);
    return status;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "config", required_argument, NULL, 'c' },
        { "check", no_argument, NULL, 'k' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    const char *config_path = NULL;
    bool check = false;
    int opt;
    while ((opt = getopt_long(argc, argv, "c:hV", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c': config_path = optarg; break;
        case 'k': check = true; break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("glyphic-events %s (schema %d)\n", GL_VERSION, gl_migrate_latest()); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "glyphic-events: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    gl_config_t cfg;
    gl_err_t err;
    gl_err_clear(&err);
    if (gl_config_load(config_path, &cfg, &err) != GL_OK) {
        fprintf(stderr, "glyphic-events: %s\n", err.msg);
        return 2;
    }
    if (check) {
        printf("# config file: %s\n", gl_config_source()[0] ? gl_config_source() : "(none)");
        gl_config_dump(&cfg, stdout);
        gl_config_free(&cfg);
        return 0;
    }
    gl_log_set_json(cfg.log_json);
    if (gl_log_init("glyphic-events", cfg.log_level, cfg.log_file) != GL_OK)
        fprintf(stderr, "glyphic-events: logging to standard error\n");
    if (gl_crypto_init() != GL_OK) {
        fprintf(stderr, "glyphic-events: cannot initialise libsodium\n");
        gl_config_free(&cfg);
        return 1;
    }
    /* the same start-up checks as glyphic-fcgi: the app role, a schema this
     * binary knows; a database that is down now is fine */
    gl_db_opts_t opts = { .conninfo = cfg.db_url, .appname = "glyphic-events",
                          .connect_timeout_s = cfg.db_connect_timeout,
                          .statement_timeout_ms = cfg.db_statement_timeout, .require_rls = true };
    if (gl_db_startup_check(&opts, "glyphic-events", "connecting in the background") != GL_OK) {
        gl_config_free(&cfg);
        return 1;
    }
    int status = serve(&cfg);
    gl_config_free(&cfg);
    return status;
}
