/*
 * files.h: the executor's file source (engine.h's gl_file_source_t): the
 * binary data of an execution, stored in files.dir and named by rows of
 * glyphic.files that the execution owns (execution_id), through the
 * worker's connection. One per execution run (a subworkflow's child gets
 * its own: its files are its own).
 */
#ifndef GL_EXECUTOR_FILES_H
#define GL_EXECUTOR_FILES_H

#include "engine.h"
#include "job_kinds.h"

/* The store's settings (from the configuration, set once at start-up). */
typedef struct {
    const char *dir;           /* files.dir */
    int64_t max_file_bytes;    /* files.max_file_bytes */
    int64_t max_bytes_per_org; /* files.max_bytes_per_org, 0: no limit */
} gl_exec_files_cfg_t;

/* One execution's source; the caller keeps it (on its stack) while the
 * run uses it. */
typedef struct {
    gl_job_ctx_t *job;
    const gl_exec_files_cfg_t *cfg;
    char org_id[GL_UUID_LEN + 1];
    char execution_id[GL_UUID_LEN + 1];
} gl_exec_files_t;

/* Sets f up for execution_id of org_id (both copied) run by job, and
 * returns the source to put in gl_run_t.files (zero — no files — when cfg
 * has no dir). */
gl_file_source_t gl_exec_files_source(gl_exec_files_t *f, gl_job_ctx_t *job, const gl_exec_files_cfg_t *cfg,
                                      const char *org_id, const char *execution_id);

#endif
