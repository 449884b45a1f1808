/*
 * credentials.h: the executor's credential source (engine.h's
 * gl_cred_source_t): credentials read from glyphic.credentials with the
 * worker's connection, opened with the keyring, OAuth2 tokens refreshed
 * under a row lock. One store per execution (its cache), shared with the
 * subworkflows it runs.
 */
#ifndef GL_EXECUTOR_CREDENTIALS_H
#define GL_EXECUTOR_CREDENTIALS_H

#include "engine.h"
#include "job_kinds.h"
#include "vault.h"

typedef struct gl_cred_store gl_cred_store_t;

/* A store for an execution of org org_id (copied) run by job: what it
 * opens lives in job->arena (wiped when the arena is reset) and its
 * queries use job->db. vault may be NULL (every credential then fails to
 * open, saying so); allow is http.allow_private for token requests. The
 * caller frees the store with gl_cred_store_free() before the job's arena
 * is reset. */
gl_cred_store_t *gl_cred_store_new(gl_job_ctx_t *job, const char *org_id, const gl_vault_t *vault,
                                   const gl_ipnet_list_t *allow);
void gl_cred_store_free(gl_cred_store_t *s);

/* The source to put in gl_run_t.creds. */
gl_cred_source_t gl_cred_store_source(gl_cred_store_t *s);

/* Replaces in text[0..cap) every secret value the store opened (for
 * messages the executor logs or stores outside the engine). */
void gl_cred_store_redact(const gl_cred_store_t *s, char *text, size_t cap);

#endif
