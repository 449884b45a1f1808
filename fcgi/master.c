/*
 * master.c: the prefork master (fcgiwrap's and php-fpm's shape).
 *
 * The master never serves a request. It holds the listening socket and
 * runs the workers under core/supervisor.c: a worker that exits is
 * replaced (with a growing delay if workers die right after starting);
 * SIGHUP re-reads the config and, on success, starts a new generation of
 * workers while the old one finishes its requests; SIGTERM/SIGINT send
 * SIGTERM to every worker, repeated each second, and the ones still alive
 * after fcgi.shutdown_timeout get SIGKILL. Workers exit by themselves after
 * fcgi.max_requests and are replaced.
 */
#include "master.h"

#include "listen.h"
#include "log.h"
#include "metrics.h"
#include "supervisor.h"
#include "worker.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static bool is_listening_socket(int fd)
{
    int val = 0;
    socklen_t len = sizeof val;
    return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &val, &len) == 0 && val;
}

int gl_master_listen(const gl_config_t *cfg, bool *created, gl_err_t *err)
{
    *created = false;
    const char *lpid = getenv("LISTEN_PID");
    const char *lfds = getenv("LISTEN_FDS");
    int64_t pid = 0, nfds = 0;
    if (lpid && lfds && gl_parse_i64(lpid, 1, INT32_MAX, &pid) == GL_OK && pid == getpid() &&
        gl_parse_i64(lfds, 1, 64, &nfds) == GL_OK && is_listening_socket(3)) {
        gl_log(GL_LOG_INFO, "using the socket passed by systemd (fd 3)");
        return 3;
    }
    if (is_listening_socket(0)) {
        gl_log(GL_LOG_INFO, "using the listening socket on fd 0");
        return 0;
    }
    return gl_listen("fcgi.socket", cfg->fcgi_socket, cfg->fcgi_socket_mode, cfg->fcgi_backlog, created, err);
}

typedef struct {
    const gl_listeners_t *l;
    const char *config_path;
    gl_config_t *cfg;
    gl_vault_t *vault;
    gl_sup_t sup;
} master_t;

enum { ROLE_BOTH, ROLE_API_ONLY };

/* Workers kept for the API: with a webhooks socket, fcgi.api_workers on
 * top of fcgi.workers (which take both), so webhooks keep every worker
 * they had. */
static void size_roles(master_t *m)
{
    m->sup.roles[ROLE_BOTH].count = m->cfg->fcgi_workers;
    m->sup.roles[ROLE_API_ONLY].count = m->l->hooks_fd < 0 ? 0 : m->cfg->fcgi_api_workers;
    m->sup.shutdown_timeout_s = m->cfg->fcgi_shutdown_timeout;
}

static int run_worker(void *arg, int role)
{
    master_t *m = arg;
    return gl_worker_run(m->l, role == ROLE_API_ONLY, m->cfg, m->vault);
}

static int reload(void *arg)
{
    master_t *m = arg;
    gl_config_t fresh;
    gl_err_t err;
    gl_err_clear(&err);
    if (gl_config_load(m->config_path, &fresh, &err) != GL_OK) {
        gl_log(GL_LOG_ERROR, "reload failed, keeping the running config: %s", err.msg);
        return GL_INVALID;
    }
    gl_vault_t *vault = NULL;
    if (gl_vault_load(fresh.secrets_key_file, fresh.secrets_old_key_files, &vault, &err) != GL_OK) {
        gl_log(GL_LOG_ERROR, "reload failed, keeping the running config and keys: %s", err.msg);
        gl_config_free(&fresh);
        return GL_INVALID;
    }
    gl_vault_free(m->vault);
    m->vault = vault;
    if (strcmp(fresh.fcgi_socket, m->cfg->fcgi_socket) != 0 ||
        strcmp(fresh.fcgi_hooks_socket, m->cfg->fcgi_hooks_socket) != 0)
        gl_log(GL_LOG_WARN, "fcgi.socket or fcgi.hooks_socket changed; a restart is needed to move a socket");
    gl_config_free(m->cfg);
    *m->cfg = fresh;
    gl_log_set_json(m->cfg->log_json);
    if (gl_log_init("glyphic-fcgi", m->cfg->log_level, m->cfg->log_file) != GL_OK)
        gl_log(GL_LOG_WARN, "kept logging to standard error");
    size_roles(m);
    return GL_OK;
}

int gl_master_run(const gl_listeners_t *l, const char *config_path, gl_config_t *cfg, gl_vault_t *vault)
{
    static master_t m;
    m = (master_t){
        .l = l, .config_path = config_path, .cfg = cfg, .vault = vault,
        .sup = { .roles = { [ROLE_BOTH] = { "worker", 0, GL_SUP_KEEP, false },
                            [ROLE_API_ONLY] = { "API worker", 0, GL_SUP_KEEP, false } },
                 .n_roles = 2, .child = run_worker, .reload = reload, .arg = &m, .repeat_term = true },
    };
    size_roles(&m);
    gl_metrics_init(); /* before the first fork: every worker shares it */
    gl_log(GL_LOG_INFO, "glyphic-fcgi " GL_VERSION " starting %d workers",
           m.sup.roles[ROLE_BOTH].count + m.sup.roles[ROLE_API_ONLY].count);
    int status = gl_sup_run(&m.sup);
    gl_vault_free(m.vault);
    gl_log(GL_LOG_INFO, "stopped");
    return status;
}
