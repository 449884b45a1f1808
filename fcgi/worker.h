/* worker.h: one prefork worker: accept, dispatch, respond, repeat. */
#ifndef GL_FCGI_WORKER_H
#define GL_FCGI_WORKER_H

#include "config.h"

/* Serves requests on listen_fd until SIGTERM or cfg->fcgi_max_requests;
 * returns the process exit status. Runs in a forked child. */
int gl_worker_run(int listen_fd, const gl_config_t *cfg);

#endif
