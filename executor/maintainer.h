/* maintainer.h: the executor's maintenance process (schedules, rescue,
 * pruning), elected among all executors by an advisory lock. */
#ifndef GL_EXECUTOR_MAINTAINER_H
#define GL_EXECUTOR_MAINTAINER_H

#include "job_loop.h"

/* Runs until SIGTERM. Returns the process exit status. */
int gl_maintainer_run(const gl_exec_opts_t *o);

#endif
