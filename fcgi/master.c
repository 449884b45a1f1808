/*
 * master.c: the prefork master (fcgiwrap's and php-fpm's shape).
 *
 * The master never serves a request. It holds the listening socket, forks
 * the workers, and waits for signals synchronously with sigtimedwait():
 *   SIGCHLD        reap; a dead worker is replaced (with a growing delay if
 *                  workers die right after starting, so a crash loop does
 *                  not spin)
 *   SIGHUP         re-read the config; on success start a new generation of
 *                  workers and send SIGTERM to the old one, which finishes
 *                  its requests and exits
 *   SIGTERM/SIGINT stop: SIGTERM to every worker, repeated each second; the
 *                  ones still alive after fcgi.shutdown_timeout get SIGKILL
 * Workers exit by themselves after fcgi.max_requests and are replaced.
 */
#include "master.h"

#include "listen.h"
#include "log.h"
#include "worker.h"

#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define GL_MAX_WORKERS 512

typedef struct {
    pid_t pid;
    int generation;
    bool api_only;
    int64_t started_ms;
} slot_t;

typedef struct {
    slot_t slots[GL_MAX_WORKERS];
    int n_slots;
    int generation;
    int64_t respawn_at_ms;
    int backoff_ms;
} master_t;

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

/* Workers of the current generation that serve only the API. */
static int api_only_live(const master_t *m)
{
    int n = 0;
    for (int i = 0; i < m->n_slots; i++)
        n += m->slots[i].generation == m->generation && m->slots[i].api_only;
    return n;
}

/* Workers kept for the API: with a webhooks socket, fcgi.api_workers on
 * top of fcgi.workers (which take both), so webhooks keep every worker
 * they had. */
static int reserved(const gl_listeners_t *l, const gl_config_t *cfg)
{
    return l->hooks_fd < 0 ? 0 : cfg->fcgi_api_workers;
}

static int target(const gl_listeners_t *l, const gl_config_t *cfg)
{
    return cfg->fcgi_workers + reserved(l, cfg);
}

static void spawn(master_t *m, const gl_listeners_t *l, const gl_config_t *cfg)
{
    if (m->n_slots == GL_MAX_WORKERS)
        return;
    bool api_only = api_only_live(m) < reserved(l, cfg);
    pid_t pid = fork();
    if (pid < 0) {
        gl_log(GL_LOG_ERROR, "fork failed: %s", strerror(errno));
        m->respawn_at_ms = gl_now_ms() + 1000;
        return;
    }
    if (pid == 0) {
        int status = gl_worker_run(l, api_only, cfg);
        exit(status);
    }
    slot_t *s = &m->slots[m->n_slots++];
    s->pid = pid;
    s->generation = m->generation;
    s->api_only = api_only;
    s->started_ms = gl_now_ms();
    gl_log(GL_LOG_DEBUG, "started worker %ld (generation %d%s)", (long)pid, m->generation,
           api_only ? ", API only" : "");
}

static void reap(master_t *m, bool stopping)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (int i = 0; i < m->n_slots; i++) {
            if (m->slots[i].pid != pid)
                continue;
            int64_t lived = gl_now_ms() - m->slots[i].started_ms;
            bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
            if (WIFSIGNALED(status))
                gl_log(stopping ? GL_LOG_INFO : GL_LOG_WARN, "worker %ld killed by signal %d",
                       (long)pid, WTERMSIG(status));
            else if (!clean)
                gl_log(GL_LOG_WARN, "worker %ld exited with status %d", (long)pid,
                       WEXITSTATUS(status));
            else
                gl_log(GL_LOG_DEBUG, "worker %ld exited", (long)pid);
            if (!clean && lived < 1000 && !stopping) {
                /* died right after starting: back off before the next fork */
                m->backoff_ms = m->backoff_ms ? m->backoff_ms * 2 : 100;
                if (m->backoff_ms > 5000)
                    m->backoff_ms = 5000;
                m->respawn_at_ms = gl_now_ms() + m->backoff_ms;
            } else if (lived > 10000) {
                m->backoff_ms = 0;
            }
            m->slots[i] = m->slots[--m->n_slots];
            break;
        }
    }
}

static int live_in_generation(const master_t *m, int generation)
{
    int n = 0;
    for (int i = 0; i < m->n_slots; i++)
        n += m->slots[i].generation == generation;
    return n;
}

static void signal_all(master_t *m, int sig, int below_generation)
{
    for (int i = 0; i < m->n_slots; i++)
        if (m->slots[i].generation < below_generation)
            kill(m->slots[i].pid, sig);
}

static void reload(master_t *m, const gl_listeners_t *l, const char *config_path, gl_config_t *cfg)
{
    gl_config_t fresh;
    gl_err_t err;
    gl_err_clear(&err);
    if (gl_config_load(config_path, &fresh, &err) != GL_OK) {
        gl_log(GL_LOG_ERROR, "reload failed, keeping the running config: %s", err.msg);
        return;
    }
    if (strcmp(fresh.fcgi_socket, cfg->fcgi_socket) != 0 || strcmp(fresh.fcgi_hooks_socket, cfg->fcgi_hooks_socket) != 0)
        gl_log(GL_LOG_WARN, "fcgi.socket or fcgi.hooks_socket changed; a restart is needed to move a socket");
    gl_config_free(cfg);
    *cfg = fresh;
    if (gl_log_init("glyphic-fcgi", cfg->log_level, cfg->log_file) != GL_OK)
        gl_log(GL_LOG_WARN, "kept logging to standard error");
    m->generation++;
    m->respawn_at_ms = 0;
    for (int i = 0; i < target(l, cfg); i++)
        spawn(m, l, cfg);
    signal_all(m, SIGTERM, m->generation);
    gl_log(GL_LOG_INFO, "configuration reloaded; %d workers (generation %d)", target(l, cfg),
           m->generation);
}

static void shutdown_workers(master_t *m, sigset_t *set, int timeout_s)
{
    int64_t deadline = gl_now_ms() + (int64_t)timeout_s * 1000;
    int64_t next_kick = 0;
    while (m->n_slots > 0) {
        int64_t now = gl_now_ms();
        if (now >= deadline) {
            gl_log(GL_LOG_WARN, "%d worker(s) still busy after %d s; killing them", m->n_slots,
                   timeout_s);
            signal_all(m, SIGKILL, INT32_MAX);
            while (m->n_slots > 0 && waitpid(-1, NULL, 0) > 0)
                reap(m, true);
            m->n_slots = 0;
            return;
        }
        if (now >= next_kick) {
            signal_all(m, SIGTERM, INT32_MAX);
            next_kick = now + 1000;
        }
        struct timespec ts = { 0, 100 * 1000000L };
        (void)sigtimedwait(set, NULL, &ts);
        reap(m, true);
    }
}

int gl_master_run(const gl_listeners_t *l, const char *config_path, gl_config_t *cfg)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    static master_t m;
    memset(&m, 0, sizeof m);
    gl_log(GL_LOG_INFO, "glyphic-fcgi " GL_VERSION " starting %d workers", target(l, cfg));
    for (int i = 0; i < target(l, cfg); i++)
        spawn(&m, l, cfg);

    for (;;) {
        struct timespec ts = { 0, 250 * 1000000L };
        int sig = sigtimedwait(&set, NULL, &ts);
        if (sig == SIGTERM || sig == SIGINT) {
            gl_log(GL_LOG_INFO, "%s: stopping; in-flight requests may finish",
                   sig == SIGTERM ? "SIGTERM" : "SIGINT");
            break;
        }
        reap(&m, false);
        if (sig == SIGHUP)
            reload(&m, l, config_path, cfg);
        int missing = target(l, cfg) - live_in_generation(&m, m.generation);
        while (missing-- > 0 && gl_now_ms() >= m.respawn_at_ms)
            spawn(&m, l, cfg);
    }
    shutdown_workers(&m, &set, cfg->fcgi_shutdown_timeout);
    gl_log(GL_LOG_INFO, "stopped");
    return 0;
}
