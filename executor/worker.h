/* worker.h: one executor worker process: claim, run, record, repeat. */
#ifndef GL_EXECUTOR_WORKER_H
#define GL_EXECUTOR_WORKER_H

#include "config.h"

typedef struct {
    const gl_config_t *cfg;
    const char *queue;
    bool drain;          /* exit once idle for linger_ms */
    int64_t linger_ms;
    int64_t deadline_ms; /* monotonic; 0: none */
} gl_exec_opts_t;

/* Runs until SIGTERM, or (drain) idle or past the deadline. Returns the
 * process exit status. */
int gl_exec_worker_run(const gl_exec_opts_t *o);

#endif
