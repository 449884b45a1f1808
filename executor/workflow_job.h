/*
 * workflow_job.h: the workflow.run job kind and the executor's scheduler.
 */
#ifndef GL_EXECUTOR_WORKFLOW_JOB_H
#define GL_EXECUTOR_WORKFLOW_JOB_H

#include "config.h"
#include "engine.h"
#include "files.h"
#include "job_kinds.h"
#include "vault.h"

/* Set once at start-up from the configuration. */
extern const char *gl_workflow_job_env_allow; /* executor.env_allow: names $env may read */
extern gl_engine_limits_t gl_workflow_job_limits;
extern const gl_vault_t *gl_workflow_job_vault; /* the master keys: opens credentials */
extern gl_exec_files_cfg_t gl_workflow_job_files; /* the file store: binary data of executions */

/* Runs (or resumes) the execution named by the job's payload. */
gl_job_result_t gl_workflow_job_run(gl_job_ctx_t *ctx);

/* Runs a batch of workflow.run jobs (gl_job_batch_fn): the fresh executions
 * are taken up in one statement; the quick ones (gl_engine_is_direct) run
 * in memory and end in one statement that also completes their jobs; the
 * others taken up run as gl_workflow_job_run would run them, after that.
 * Jobs whose execution was not fresh are left to run alone. */
void gl_workflow_jobs_run_batch(gl_job_ctx_t *ctx, int n, gl_job_batch_t *how, gl_job_result_t *result);

/* Fires every due time of every due schedule (elected maintainer, about
 * every second; see schedules.c for missed times): *fired counts
 * executions started. */
int gl_schedules_fire(gl_db_t *db, const gl_config_t *cfg, int *fired, gl_err_t *err) GL_WUR;

#endif
