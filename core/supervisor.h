/*
 * supervisor.h: the prefork supervisor of glyphic-fcgi and glyphic-executor
 * (fcgiwrap's and php-fpm's shape). The parent never does the children's
 * work: it forks them, waits for signals synchronously with sigtimedwait()
 * and
 *   SIGCHLD        reaps; a child that died is replaced as its role says,
 *                  with a growing delay (100 ms doubling to 5 s) while
 *                  children die within a second of starting, so a crash
 *                  loop does not spin
 *   SIGHUP         calls reload (when set): on GL_OK a new generation of
 *                  children starts and the old one gets SIGTERM, finishes
 *                  its work and exits; without reload SIGHUP is ignored
 *   SIGTERM/SIGINT stops: SIGTERM to every child (repeated each second
 *                  with repeat_term); those still alive after
 *                  shutdown_timeout_s (0: no limit) get SIGKILL
 * A child starts with SIGCHLD, SIGTERM, SIGINT and SIGHUP blocked and
 * default dispositions: it installs its own handlers, then unblocks them.
 */
#ifndef GL_SUPERVISOR_H
#define GL_SUPERVISOR_H

#include "gl.h"

#define GL_SUP_MAX_CHILDREN 512
#define GL_SUP_MAX_ROLES 4

typedef enum {
    GL_SUP_KEEP,        /* always keep `count` running: replace any that exits */
    GL_SUP_KEEP_FAILED, /* replace one that fails (not one that exits 0) */
    GL_SUP_ONCE,        /* never replace; one that fails makes the exit status 1 */
} gl_sup_replace_t;

typedef struct {
    const char *name;         /* for the log: "worker", "maintainer" */
    int count;                /* how many of this role a generation runs */
    gl_sup_replace_t replace;
    bool essential;           /* when every child of the essential roles has
                                 ended for good, the supervisor stops the rest */
} gl_sup_role_t;

typedef struct {
    gl_sup_role_t roles[GL_SUP_MAX_ROLES];
    int n_roles;
    /* Runs in the child; its result is the child's exit status. */
    int (*child)(void *arg, int role);
    /* SIGHUP: may change roles[].count; GL_OK starts a new generation. */
    int (*reload)(void *arg);
    void *arg;
    int shutdown_timeout_s;
    bool repeat_term;
} gl_sup_t;

/*
 * Runs the children of every role until SIGTERM or SIGINT, or until the
 * essential roles are done. Blocks the signals above in the calling process
 * for good. Returns the exit status: 1 when a GL_SUP_ONCE child failed,
 * else 0.
 */
int gl_sup_run(gl_sup_t *s);

#endif
