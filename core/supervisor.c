/*
 * supervisor.c: the prefork supervisor (see supervisor.h).
 */
#include "supervisor.h"

#include "log.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    pid_t pid;
    int role, generation;
    int64_t started_ms;
} slot_t;

typedef struct {
    gl_sup_t *s;
    slot_t slots[GL_SUP_MAX_CHILDREN];
    int n_slots;
    int generation;
    int ended[GL_SUP_MAX_ROLES]; /* of this generation, ended and not to be replaced */
    int64_t respawn_at_ms;
    int backoff_ms;
    int status;
    sigset_t set;
} sup_t;

static int live(const sup_t *m, int role)
{
    int n = 0;
    for (int i = 0; i < m->n_slots; i++)
        n += m->slots[i].generation == m->generation && (role < 0 || m->slots[i].role == role);
    return n;
}

static void spawn(sup_t *m, int role)
{
    if (m->n_slots == GL_SUP_MAX_CHILDREN)
        return;
    fflush(NULL); /* the child's exit() must not write the parent's buffers again */
    pid_t pid = fork();
    if (pid < 0) {
        gl_log(GL_LOG_ERROR, "fork failed: %s", strerror(errno));
        m->respawn_at_ms = gl_now_ms() + 1000;
        return;
    }
    if (pid == 0)
        exit(m->s->child(m->s->arg, role));
    slot_t *c = &m->slots[m->n_slots++];
    *c = (slot_t){ pid, role, m->generation, gl_now_ms() };
    gl_log(GL_LOG_DEBUG, "started %s %ld (generation %d)", m->s->roles[role].name, (long)pid, m->generation);
}

static void start_missing(sup_t *m)
{
    for (int r = 0; r < m->s->n_roles; r++) {
        int missing = m->s->roles[r].count - live(m, r) - m->ended[r];
        while (missing-- > 0 && gl_now_ms() >= m->respawn_at_ms)
            spawn(m, r);
    }
}

/* The child in slot i ended with wait status ws: logs it, counts it, and
 * backs off when it died right after starting. */
static void ended(sup_t *m, int i, int ws, bool stopping)
{
    slot_t c = m->slots[i];
    const gl_sup_role_t *role = &m->s->roles[c.role];
    bool clean = WIFEXITED(ws) && WEXITSTATUS(ws) == 0;
    if (WIFSIGNALED(ws))
        gl_log(stopping ? GL_LOG_INFO : GL_LOG_WARN, "%s %ld killed by signal %d", role->name, (long)c.pid,
               WTERMSIG(ws));
    else if (!clean)
        gl_log(GL_LOG_WARN, "%s %ld exited with status %d", role->name, (long)c.pid, WEXITSTATUS(ws));
    else
        gl_log(GL_LOG_DEBUG, "%s %ld exited", role->name, (long)c.pid);
    if (role->replace == GL_SUP_ONCE && !clean)
        m->status = 1;
    if (c.generation == m->generation &&
        (role->replace == GL_SUP_ONCE || (role->replace == GL_SUP_KEEP_FAILED && clean)))
        m->ended[c.role]++;
    int64_t lived = gl_now_ms() - c.started_ms;
    if (!clean && lived < 1000 && !stopping) {
        m->backoff_ms = m->backoff_ms ? m->backoff_ms * 2 : 100;
        if (m->backoff_ms > 5000)
            m->backoff_ms = 5000;
        m->respawn_at_ms = gl_now_ms() + m->backoff_ms;
    } else if (lived > 10000) {
        m->backoff_ms = 0;
    }
    m->slots[i] = m->slots[--m->n_slots];
}

/* The child pid ended with status ws: its slot is logged and counted. */
static void child_ended(sup_t *m, pid_t pid, int ws, bool stopping)
{
    for (int i = 0; i < m->n_slots; i++)
        if (m->slots[i].pid == pid) {
            ended(m, i, ws, stopping);
            return;
        }
}

static void reap(sup_t *m, bool stopping)
{
    int ws;
    pid_t pid;
    while ((pid = waitpid(-1, &ws, WNOHANG)) > 0)
        child_ended(m, pid, ws, stopping);
}

/* Every essential role has ended for good (none when no role is). */
static bool essentials_done(const sup_t *m)
{
    bool any = false;
    for (int r = 0; r < m->s->n_roles; r++) {
        if (!m->s->roles[r].essential)
            continue;
        any = true;
        if (live(m, r) > 0 || m->ended[r] < m->s->roles[r].count)
            return false;
    }
    return any;
}

static void signal_all(sup_t *m, int sig, int below_generation)
{
    for (int i = 0; i < m->n_slots; i++)
        if (m->slots[i].generation < below_generation)
            kill(m->slots[i].pid, sig);
}

static void new_generation(sup_t *m)
{
    m->generation++;
    memset(m->ended, 0, sizeof m->ended);
    m->respawn_at_ms = 0;
    start_missing(m);
    signal_all(m, SIGTERM, m->generation);
    gl_log(GL_LOG_INFO, "configuration reloaded; %d children (generation %d)", live(m, -1), m->generation);
}

static void stop_children(sup_t *m)
{
    int timeout_s = m->s->shutdown_timeout_s;
    int64_t deadline = timeout_s > 0 ? gl_now_ms() + (int64_t)timeout_s * 1000 : INT64_MAX;
    int64_t next_kick = 0;
    while (m->n_slots > 0) {
        int64_t now = gl_now_ms();
        if (now >= deadline) {
            gl_log(GL_LOG_WARN, "%d child(ren) still busy after %d s; killing them", m->n_slots, timeout_s);
            signal_all(m, SIGKILL, INT32_MAX);
            int ws;
            pid_t pid;
            while (m->n_slots > 0 && (pid = waitpid(-1, &ws, 0)) > 0)
                child_ended(m, pid, ws, true);
            m->n_slots = 0;
            return;
        }
        if (now >= next_kick) {
            signal_all(m, SIGTERM, INT32_MAX);
            next_kick = m->s->repeat_term ? now + 1000 : INT64_MAX;
        }
        struct timespec ts = { 0, 100 * 1000000L };
        (void)sigtimedwait(&m->set, NULL, &ts);
        reap(m, true);
    }
}

int gl_sup_run(gl_sup_t *s)
{
    static sup_t m;
    memset(&m, 0, sizeof m);
    m.s = s;
    sigemptyset(&m.set);
    sigaddset(&m.set, SIGCHLD);
    sigaddset(&m.set, SIGTERM);
    sigaddset(&m.set, SIGINT);
    sigaddset(&m.set, SIGHUP);
    sigaddset(&m.set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &m.set, NULL);
    signal(SIGPIPE, SIG_IGN);
    start_missing(&m);
    for (;;) {
        struct timespec ts = { 0, 250 * 1000000L };
        int sig = sigtimedwait(&m.set, NULL, &ts);
        if (sig == SIGTERM || sig == SIGINT) {
            gl_log(GL_LOG_INFO, "%s: stopping; work in flight finishes first", sig == SIGTERM ? "SIGTERM" : "SIGINT");
            break;
        }
        reap(&m, false);
        if (essentials_done(&m))
            break;
        if (sig == SIGHUP && s->reload && s->reload(s->arg) == GL_OK)
            new_generation(&m);
        if (sig == SIGUSR1) { /* logrotate: reopen the log file, here and in every child */
            gl_log_reopen();
            signal_all(&m, SIGUSR1, m.generation + 1);
        }
        start_missing(&m);
    }
    stop_children(&m);
    return m.status;
}
