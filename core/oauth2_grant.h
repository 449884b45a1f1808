/*
 * oauth2_grant.h: renewing a stored credential's access token — the two
 * grants a credential makes without a browser (RFC 6749 6: refresh_token,
 * for oauth2.code; 4.4: client_credentials, for oauth2.client) and what is
 * written afterwards: the new tokens sealed under the row's key, or the
 * row marked needs_reauth.
 *
 * Shared by the executor's credential store (executor/credentials_oauth2.c,
 * which renews before a node's request) and glyphic-fcgi's credential test
 * (fcgi/credential_test.c), so a test renews exactly as a workflow does.
 * Both call the writes inside a transaction that holds the credential's
 * row (SELECT … FOR UPDATE): one renewal of a row at a time, and a row's
 * key cannot change under the tokens being sealed.
 *
 * The token request itself is core/oauth2_client.c's (the outbound guard,
 * no redirect, a time and size cap). Messages name the credential, never
 * a value.
 */
#ifndef GL_OAUTH2_GRANT_H
#define GL_OAUTH2_GRANT_H

#include "db.h"
#include "oauth2_client.h"
#include "vault.h"

/* A credential as a renewal needs it: its row, its fields and its opened
 * secrets (borrowed). */
typedef struct {
    const char *org_id;
    const char *id;
    const char *name;          /* for messages */
    const char *token_url;
    const char *client_id;
    const char *scope;         /* NULL or "": none asked (client credentials) */
    const char *token_auth;    /* "basic": HTTP Basic; else the form body */
    const char *client_secret; /* NULL: none */
    const char *refresh_token; /* NULL: none */
} gl_oauth2_cred_t;

typedef struct {
    gl_oauth2_tokens_t tokens; /* GL_OK: what was granted (wiped arena memory) */
    bool refused;              /* the endpoint refused the grant itself (not for now): detail says so */
    char detail[200];          /* when refused: what status_detail may say ("the token endpoint refused …") */
} gl_oauth2_grant_t;

/*
 * Asks c's token endpoint for a new access token: with the refresh token
 * (refresh) or by client credentials. timeout_ms and max_response as in
 * gl_oauth2_client_t; allow is http.allow_private. GL_OK with g->tokens;
 * GL_INVALID (the credential lacks what the grant needs, a bad answer, or
 * g->refused); GL_UNAVAILABLE (unreachable, a timeout, 5xx, 429: a later
 * try may pass). err names the credential. A refused internal address is
 * logged for the operator.
 */
int gl_oauth2_grant(const gl_oauth2_cred_t *c, bool refresh, const gl_ipnet_list_t *allow, long timeout_ms,
                    size_t max_response, gl_arena_t *a, gl_oauth2_grant_t *g, gl_err_t *err) GL_WUR;

/*
 * In the open transaction that holds the row: seals t's access token (and
 * its refresh token, when given) under the row's key (row_key; when the
 * row has none and no sealed field — row_sealed false — the vault's
 * sealing key) and stores them with token_expires_at (expires_ms, wall
 * clock; 0: unknown) and status 'ok'. GL_OK; GL_INVALID (the row's key is
 * not configured); GL_UNAVAILABLE (the database).
 */
int gl_oauth2_store(gl_db_t *db, const gl_vault_t *vault, const gl_oauth2_cred_t *c, const char *row_key,
                    bool row_sealed, const gl_oauth2_tokens_t *t, int64_t expires_ms, gl_arena_t *a,
                    gl_err_t *err) GL_WUR;

/*
 * In the open transaction that holds the row: marks it needs_reauth with
 * detail (cleaned to valid UTF-8, at most 239 bytes; never a secret).
 * GL_OK or GL_UNAVAILABLE.
 */
int gl_oauth2_mark_reauth(gl_db_t *db, const gl_oauth2_cred_t *c, const char *detail, gl_err_t *err) GL_WUR;

/* The wall-clock time (ms) a token granted now with expires_in seconds
 * expires; 0 when expires_in is unknown (-1). */
int64_t gl_oauth2_expires_ms(int64_t expires_in);

#endif
