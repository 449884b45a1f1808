/*
 * credentials_int.h: what the executor's credential store (credentials.c)
 * and its OAuth2 part (credentials_oauth2.c) share. Included by those two
 * files only (gl__cred_ prefix).
 */
#ifndef GL_EXECUTOR_CREDENTIALS_INT_H
#define GL_EXECUTOR_CREDENTIALS_INT_H

#include "buf.h"
#include "credentials.h"
#include "db.h"
#include "redact.h"

#define CRED_N "%.80s" /* a credential's name in messages */

/* The columns both read a credential's row with (gl__cred_entry_from_row). */
#define ROW_COLS "id::text, type, fields::text, secrets::text, key_id, status, status_detail, " \
                 "(extract(epoch FROM token_expires_at) * 1000)::bigint"

/* One credential the execution opened (all of it in the job's arena). */
typedef struct entry {
    struct entry *next;
    const char *name;
    char id[40];
    char key_id[GL_VAULT_KEY_ID_LEN + 1]; /* "" when the row has none */
    const gl_cred_t *cred;
    int64_t expires_ms;                   /* token_expires_at; 0: none known */
    bool needs_reauth;
    char detail[240];                     /* status_detail */
} entry_t;

struct gl_cred_store {
    gl_job_ctx_t *job;
    char org_id[40];
    const gl_vault_t *vault;
    const gl_ipnet_list_t *allow;
    entry_t *entries;                     /* in job->arena */
    gl_redact_t *redact;                  /* every value opened */
};

/* A new entry (in the arena) for row 0 of res (ROW_COLS), the credential
 * called name, its secrets opened. */
int gl__cred_entry_from_row(gl_cred_store_t *s, const char *name, PGresult *res, entry_t **out,
                            gl_err_t *err) GL_WUR;

/* OAuth2 (credentials_oauth2.c). Does e hold an access token with more
 * than 30 s left (or no known expiry)? */
bool gl__cred_token_fresh(const entry_t *e);
/* "credential 'X' needs to be authorized again (…)" into err; GL_INVALID. */
int gl__cred_reauth_error(const entry_t *e, gl_err_t *err);
/* A new access token for e (see credentials_oauth2.c): e is read again
 * and updated. force: the API refused used (a 401). */
int gl__cred_renew(gl_cred_store_t *s, entry_t *e, bool force, const char *used, int64_t deadline_ms,
                   gl_err_t *err) GL_WUR;

#endif
