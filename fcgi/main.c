/*
 * main.c: glyphic-fcgi — options, configuration, the start-up schema check,
 * then the prefork master.
 */
#include "config.h"
#include "crypto.h"
#include "listen.h"
#include "db.h"
#include "filestore.h"
#include "log.h"
#include "master.h"
#include "migrate.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: glyphic-fcgi [-c FILE] [--check] [--help] [--version]\n"
            "\n"
            "The Glyphic API server: a prefork FastCGI responder behind nginx.\n"
            "\n"
            "  -c, --config FILE  read FILE (default: $GLYPHIC_CONFIG, else %s if present)\n"
            "      --check        load and validate the configuration, print it, exit\n"
            "  -h, --help         this text\n"
            "  -V, --version      print the version\n"
            "\n"
            "Listening: the socket systemd passes (LISTEN_FDS), a listening socket on fd 0\n"
            "(spawn-fcgi), or fcgi.socket (a unix socket path, or host:port for TCP).\n"
            "With fcgi.hooks_socket, webhooks come on a socket of their own and\n"
            "fcgi.api_workers more workers serve only the API: a webhook flood cannot starve it.\n"
            "Signals: SIGTERM/SIGINT finish in-flight requests and stop; SIGHUP re-reads the\n"
            "configuration and replaces the workers gracefully.\n"
            "\n"
            "Configuration keys (file `key = value`, or the environment variable):\n",
            GL_CONFIG_DEFAULT_PATH);
    gl_config_help(out);
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
        case 'V': printf("glyphic-fcgi %s (schema %d)\n", GL_VERSION, gl_migrate_latest()); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "glyphic-fcgi: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }

    gl_config_t cfg;
    gl_err_t err;
    gl_err_clear(&err);
    if (gl_config_load(config_path, &cfg, &err) != GL_OK) {
        fprintf(stderr, "glyphic-fcgi: %s\n", err.msg);
        return 2;
    }
    if (check) {
        printf("# config file: %s\n", gl_config_source()[0] ? gl_config_source() : "(none)");
        gl_config_dump(&cfg, stdout);
        gl_config_free(&cfg);
        return 0;
    }
    gl_log_set_json(cfg.log_json);
    if (gl_log_init("glyphic-fcgi", cfg.log_level, cfg.log_file) != GL_OK)
        fprintf(stderr, "glyphic-fcgi: logging to standard error\n");
    gl_vault_t *vault = NULL;
    if (gl_crypto_init() != GL_OK ||
        gl_vault_load(cfg.secrets_key_file, cfg.secrets_old_key_files, &vault, &err) != GL_OK) {
        fprintf(stderr, "glyphic-fcgi: %s\n", err.msg[0] ? err.msg : "libsodium cannot start");
        gl_log(GL_LOG_ERROR, "%s", err.msg[0] ? err.msg : "libsodium cannot start");
        gl_config_free(&cfg);
        return 2;
    }
    /* OpenSSL's digest tables, loaded once before the workers fork and
     * shared by them (the file store's SHA-256) */
    gl_filestore_preload();
    /* once, before the workers fork (the OAuth2 token request) */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "glyphic-fcgi: libcurl cannot start\n");
        gl_vault_free(vault);
        gl_config_free(&cfg);
        return 2;
    }

    /* Refuse a schema newer than this binary; a database that is down now
     * is fine — workers connect when it is back. */
    gl_db_opts_t opts = { .conninfo = cfg.db_url, .appname = "glyphic-fcgi",
                          .connect_timeout_s = cfg.db_connect_timeout,
                          .statement_timeout_ms = cfg.db_statement_timeout, .require_rls = true };
    if (gl_db_startup_check(&opts, "glyphic-fcgi", "serving 503 until it is") != GL_OK) {
        gl_vault_free(vault);
        gl_config_free(&cfg);
        return 1;
    }

    bool created = false;
    int fd = gl_master_listen(&cfg, &created, &err);
    if (fd < 0) {
        gl_log(GL_LOG_ERROR, "%s", err.msg);
        gl_vault_free(vault);
        gl_config_free(&cfg);
        return 1;
    }
    gl_log(GL_LOG_INFO, "listening on %s", created ? cfg.fcgi_socket : "an inherited socket");
    char *socket_path = created ? strdup(cfg.fcgi_socket) : NULL;
    gl_listeners_t l = { fd, -1 };
    bool hooks_created = false;
    char *hooks_path = NULL;
    int status = 1;
    if (cfg.fcgi_hooks_socket[0]) {
        l.hooks_fd = gl_listen("fcgi.hooks_socket", cfg.fcgi_hooks_socket, cfg.fcgi_socket_mode, cfg.fcgi_backlog,
                               &hooks_created, &err);
        if (l.hooks_fd < 0) {
            gl_log(GL_LOG_ERROR, "%s", err.msg);
            goto out;
        }
        hooks_path = hooks_created ? strdup(cfg.fcgi_hooks_socket) : NULL;
        /* workers poll both: a lost race for a connection must not block */
        if (fcntl(l.api_fd, F_SETFL, fcntl(l.api_fd, F_GETFL) | O_NONBLOCK) != 0 ||
            fcntl(l.hooks_fd, F_SETFL, fcntl(l.hooks_fd, F_GETFL) | O_NONBLOCK) != 0) {
            gl_log(GL_LOG_ERROR, "cannot make the listening sockets non-blocking: %s", strerror(errno));
            goto out;
        }
        gl_log(GL_LOG_INFO, "webhooks on %s; %d more worker(s) serve only the API", cfg.fcgi_hooks_socket,
               cfg.fcgi_api_workers);
    }
    status = gl_master_run(&l, config_path, &cfg, vault);
    vault = NULL;
out:
    close(fd);
    if (l.hooks_fd >= 0)
        close(l.hooks_fd);
    if (socket_path)
        unlink(socket_path);
    if (hooks_path)
        unlink(hooks_path);
    free(socket_path);
    free(hooks_path);
    gl_vault_free(vault);
    gl_config_free(&cfg);
    return status;
}
