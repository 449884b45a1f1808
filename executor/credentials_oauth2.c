/*
 * credentials_oauth2.c: OAuth2 access tokens for the executor's credential
 * store (credentials.c).
 *
 * OAuth2 (oauth2.code, oauth2.client). The sealed access_token is used
 * while it has more than TOKEN_EARLY_MS left (or no known expiry). Else,
 * and when the API refused it (refresh after a 401), the store renews it
 * in a short transaction of its own:
 *
 *   BEGIN; lock_timeout; SELECT … FOR UPDATE   (waits while another run renews)
 *   read the row again: another run renewed already?
 *       yes (a fresh token that is not the one the API refused) → ROLLBACK, use it
 *   ask the token endpoint (refresh_token grant for oauth2.code,
 *       client_credentials for oauth2.client) while holding the lock
 *   seal the new access token (and a rotated refresh token) under the
 *       row's key; UPDATE secrets, token_expires_at, status 'ok'; COMMIT
 *
 * so ten executions that need a new token at once cause one request: one
 * asks, the others wait on the row and find its token. The grant and the
 * writes after it are core/oauth2_grant.c's, which glyphic-fcgi's
 * credential test shares; the token request is core/oauth2_client.c's
 * (the outbound guard of core/outbound.c and http.allow_private, no proxy,
 * no redirect, a time and size cap): a token_url is user input.
 * A refresh token the endpoint refuses (4xx, or an OAuth2 error in any
 * answer but 408, 429 and 5xx) marks the credential
 * needs_reauth with a status_detail (no secret in it), committed; the node
 * fails saying the credential must be authorized again. A client that the
 * endpoint refuses fails the node without marking the row (its secret is
 * the user's to fix, not an authorization to renew). An endpoint that
 * cannot be reached, times out or answers 5xx/429 rolls back and the node
 * may retry.
 *
 * Messages name the credential, never a value.
 */
#include "credentials_int.h"

#include "json.h"
#include "log.h"
#include "oauth2_grant.h"
#include "utf8.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define TOKEN_EARLY_MS 30000   /* a token with less than this left is renewed before use */
#define TOKEN_TIMEOUT_MS 30000 /* a token request, at most (cut to the node's deadline) */
#define LOCK_EXTRA_MS 5000     /* waiting for another run's renewal: its request's time and this */
#define TOKEN_MAX_RESPONSE (256u << 10) /* bytes of a token answer, at most */

static const gl_stmt_t q_lock = {
    .name = "cred_lock",
    .sql = "SELECT " ROW_COLS " FROM glyphic.credentials WHERE id = $1::uuid AND org_id = $2::uuid FOR UPDATE",
    .nparams = 2, .rows = true,
};
static const gl_stmt_t q_lock_timeout = {
    .name = "cred_lock_timeout", .sql = "SELECT set_config('lock_timeout', $1, true)", .nparams = 1, .rows = true,
};
bool gl__cred_token_fresh(const entry_t *e)
{
    const char *tok = gl_cred_secret(e->cred, "access_token", NULL);
    return tok && *tok && (e->expires_ms == 0 || e->expires_ms - gl_wall_ms() > TOKEN_EARLY_MS);
}

int gl__cred_reauth_error(const entry_t *e, gl_err_t *err)
{
    gl_err_set(err, "credential '" CRED_N "' needs to be authorized again%s%.150s%s", e->name,
               e->detail[0] ? " (" : "", e->detail, e->detail[0] ? ")" : "");
    return GL_INVALID;
}

/* e's credential with the granted token (and refresh token) in place of
 * the old: a new gl_cred_t, the old one stays valid (engine.h). */
static void entry_take_grant(gl_cred_store_t *s, entry_t *e, const gl_oauth2_tokens_t *t, int64_t expires_ms)
{
    gl_cred_t *c = gl_arena_alloc(s->job->arena, sizeof *c);
    *c = *e->cred;
    const char *fields[] = { "access_token", "refresh_token" };
    const char *values[] = { t->access_token, t->refresh_token };
    for (int i = 0; i < 2; i++) {
        int at = 0;
        if (!values[i])
            continue;
        while (at < c->n_secrets && strcmp(c->secrets[at].name, fields[i]) != 0)
            at++;
        if (at == GL_CRED_MAX_SECRETS)
            continue; /* full: cannot happen, the row was opened with room checked */
        if (at == c->n_secrets)
            c->n_secrets++;
        c->secrets[at] = (gl_cred_secret_t){ fields[i], values[i], strlen(values[i]) };
    }
    e->cred = c;
    e->expires_ms = expires_ms;
}

/* Marks the row needs_reauth (in the open transaction). */
static void mark_reauth(gl_cred_store_t *s, entry_t *e, const char *detail)
{
    char clean[240];
    gl_oauth2_cred_t gc = gl_cred_oauth2(e->cred, s->org_id, e->id, e->name);
    gl_err_t derr;
    snprintf(clean, sizeof clean, "%s", detail);
    gl_redact_text(s->redact, clean, sizeof clean);
    gl_err_clear(&derr);
    if (gl_oauth2_mark_reauth(s->job->db, &gc, clean, &derr) != GL_OK) {
        gl_log(GL_LOG_WARN, "credential %s: %s", e->id, derr.msg);
        return;
    }
    e->needs_reauth = true;
    gl_utf8_clean(e->detail, sizeof e->detail, clean);
}

/* The row locked and read again into *e (in the open transaction). */
static int lock_and_reread(gl_cred_store_t *s, entry_t *e, int64_t wait_ms, gl_err_t *err)
{
    char lt[32];
    const char *lt_params[] = { lt };
    const char *params[] = { e->id, s->org_id };
    PGresult *res = NULL;
    gl_err_t derr;
    entry_t *fresh;

    snprintf(lt, sizeof lt, "%lldms", (long long)wait_ms);
    gl_err_clear(&derr);
    int rc = gl_db_query(s->job->db, &q_lock_timeout, lt_params, NULL, &res, &derr);
    if (rc == GL_OK) {
        PQclear(res);
        rc = gl_db_query(s->job->db, &q_lock, params, NULL, &res, &derr);
    }
    if (rc != GL_OK) {
        if (gl_db_timed_out(&derr))
            gl_err_set(err, "credential '" CRED_N "': another execution is getting its token and has not finished",
                       e->name);
        else
            gl_err_set(err, "credential '" CRED_N "' cannot be read now: %.120s", e->name, derr.msg);
        return GL_UNAVAILABLE;
    }
    if (PQntuples(res) != 1) {
        PQclear(res);
        gl_err_set(err, "credential '" CRED_N "' was deleted", e->name);
        return GL_NOTFOUND;
    }
    rc = gl__cred_entry_from_row(s, e->name, res, &fresh, err);
    PQclear(res);
    if (rc == GL_OK) {
        fresh->next = e->next;
        *e = *fresh;
    }
    return rc;
}

/* A new access token for e: see the top of this file. force: the API
 * refused used (a 401), so a token that has not expired is renewed too,
 * unless the stored one is no longer used. */
int gl__cred_renew(gl_cred_store_t *s, entry_t *e, bool force, const char *used, int64_t deadline_ms, gl_err_t *err)
{
    int64_t timeout = TOKEN_TIMEOUT_MS, expires_ms;
    gl_oauth2_grant_t g;
    gl_err_t derr;
    int rc;

    if (deadline_ms > 0) {
        int64_t left = deadline_ms - gl_wall_ms();
        if (left <= 0) {
            gl_err_set(err, "credential '" CRED_N "': no time left to get a new token (node deadline)", e->name);
            return GL_INVALID;
        }
        if (left < timeout)
            timeout = left;
    }
    if (!s->vault) {
        gl_err_set(err, "credential '" CRED_N "' cannot be opened: no secrets key is configured", e->name);
        return GL_INVALID;
    }
    gl_err_clear(&derr);
    if (gl_db_begin(s->job->db, &derr) != GL_OK) {
        gl_err_set(err, "credential '" CRED_N "' cannot be read now: %.120s", e->name, derr.msg);
        return GL_UNAVAILABLE;
    }
    rc = lock_and_reread(s, e, timeout + LOCK_EXTRA_MS, err);
    if (rc == GL_OK && e->needs_reauth)
        rc = gl__cred_reauth_error(e, err);
    if (rc != GL_OK) {
        gl_db_rollback(s->job->db);
        return rc;
    }
    const char *stored = gl_cred_secret(e->cred, "access_token", NULL);
    if (gl__cred_token_fresh(e) && (!force || !used || strcmp(stored, used) != 0)) {
        gl_db_rollback(s->job->db); /* another run renewed it: nothing to write */
        return GL_OK;
    }
    if (deadline_ms > 0 && deadline_ms - gl_wall_ms() < timeout) {
        timeout = deadline_ms - gl_wall_ms(); /* what waiting for the row left */
        if (timeout <= 0) {
            gl_db_rollback(s->job->db);
            gl_err_set(err, "credential '" CRED_N "': no time left to get a new token (node deadline)", e->name);
            return GL_INVALID;
        }
    }
    bool refresh = strcmp(e->cred->type, "oauth2.code") == 0;
    gl_oauth2_cred_t gc = gl_cred_oauth2(e->cred, s->org_id, e->id, e->name);
    rc = gl_oauth2_grant(&gc, refresh, s->allow, (long)timeout, TOKEN_MAX_RESPONSE, s->job->arena, &g, err);
    gl_redact_text(s->redact, err->msg, sizeof err->msg);
    if (rc == GL_OK) {
        gl_redact_add(s->redact, g.tokens.access_token, strlen(g.tokens.access_token));
        if (g.tokens.refresh_token)
            gl_redact_add(s->redact, g.tokens.refresh_token, strlen(g.tokens.refresh_token));
    }
    if (rc != GL_OK && g.refused && refresh) {
        mark_reauth(s, e, g.detail);
        rc = gl_db_commit(s->job->db, &derr) == GL_OK ? GL_INVALID : GL_UNAVAILABLE;
        gl_log(GL_LOG_WARN, "credential %s needs to be authorized again: %s", e->id, g.detail);
        return rc;
    }
    expires_ms = gl_oauth2_expires_ms(g.tokens.expires_in);
    if (rc == GL_OK)
        rc = gl_oauth2_store(s->job->db, s->vault, &gc, e->key_id, e->cred->n_secrets > 0, &g.tokens, expires_ms,
                             s->job->arena, err);
    if (rc != GL_OK) {
        gl_db_rollback(s->job->db);
        return rc;
    }
    if (gl_db_commit(s->job->db, &derr) != GL_OK) {
        gl_log(GL_LOG_WARN, "credential %s: a new token could not be stored: %s", e->id, derr.msg);
        gl_err_set(err, "credential '" CRED_N "': the new token cannot be stored: %.120s", e->name, derr.msg);
        return GL_UNAVAILABLE;
    }
    entry_take_grant(s, e, &g.tokens, expires_ms);
    gl_log(GL_LOG_INFO, "credential %s: new access token (%s)", e->id, refresh ? "refreshed" : "client credentials");
    return GL_OK;
}

