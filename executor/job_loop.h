/* job_loop.h: one executor worker process: claim, run, record, repeat. */
#ifndef GL_EXECUTOR_JOB_LOOP_H
#define GL_EXECUTOR_JOB_LOOP_H

#include "config.h"

typedef struct {
    const gl_config_t *cfg;
    const char *queue;
    bool drain;          /* exit once idle for linger_ms */
    int64_t linger_ms;
    int64_t deadline_ms; /* monotonic; 0: none */
} gl_exec_opts_t;

/* In a child the executor forked: SIGTERM and SIGINT call on_stop_signal
 * (which only sets a flag), SIGHUP and SIGPIPE are ignored, nothing is
 * blocked, and the parent's death kills the child. */
void gl_exec_take_signals(void (*on_stop_signal)(int));

/* Runs until SIGTERM, or (drain) idle or past the deadline. Returns the
 * process exit status. */
int gl_exec_worker_run(const gl_exec_opts_t *o);

#endif
