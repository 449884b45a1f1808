/* worker.h: one prefork worker: accept, dispatch, respond, repeat. */
#ifndef GL_FCGI_WORKER_H
#define GL_FCGI_WORKER_H

#include "config.h"
#include "vault.h"

/* The listening sockets: the API's, and webhooks' (-1: they share the
 * API's). With two, both are non-blocking and workers poll them. */
typedef struct {
    int api_fd;
    int hooks_fd;
} gl_listeners_t;

/* Serves requests until SIGTERM or cfg->fcgi_max_requests; an api_only
 * worker never takes from the webhooks socket. Returns the process exit
 * status. Runs in a forked child. */
int gl_worker_run(const gl_listeners_t *l, bool api_only, const gl_config_t *cfg, const gl_vault_t *vault);

#endif
