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
 * asks, the others wait on the row and find its token. The token request
 * is glyphic-fcgi's (core/oauth2_client.c: the outbound guard of
 * core/outbound.c and http.allow_private, no proxy, no redirect, a time
 * and size cap): a token_url is user input.
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
#include "oauth2_client.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
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
static const gl_stmt_t q_token = {
    .name = "cred_token",
    .sql = "UPDATE glyphic.credentials SET secrets = secrets || $3::jsonb, key_id = $4, "
           "token_expires_at = CASE WHEN $5::bigint IS NULL THEN NULL ELSE to_timestamp($5::bigint / 1000.0) END, "
           "status = 'ok', status_detail = NULL, updated_at = now() WHERE id = $1::uuid AND org_id = $2::uuid",
    .nparams = 5, .rows = false,
};
static const gl_stmt_t q_reauth = {
    .name = "cred_reauth",
    .sql = "UPDATE glyphic.credentials SET status = 'needs_reauth', status_detail = $3, updated_at = now() "
           "WHERE id = $1::uuid AND org_id = $2::uuid",
    .nparams = 3, .rows = false,
};

/* What the token endpoint granted. */
typedef struct {
    const char *access;   /* wiped arena memory (core/oauth2_client.h) */
    size_t access_len;
    const char *refresh;  /* a rotated refresh token, or NULL */
    size_t refresh_len;
    int64_t expires_ms;   /* wall clock; 0: no expiry given */
} grant_t;

#define REFUSED 1 /* token_request: the endpoint refused the grant; err says so */

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

/* Asks the token endpoint for a new access token (refresh: with the
 * refresh token, else by client credentials) through core/oauth2_client.c.
 * GL_OK with *g; REFUSED (the endpoint refused the grant: err says why,
 * detail what status_detail may say); GL_INVALID; GL_UNAVAILABLE (a later
 * try may succeed). */
static int token_request(gl_cred_store_t *s, const entry_t *e, bool refresh, int64_t timeout_ms, grant_t *g,
                         char *detail, size_t detail_cap, gl_err_t *err)
{
    const gl_cred_t *c = e->cred;
    const char *url = gl_cred_field(c, "token_url");
    const char *client_id = gl_cred_field(c, "client_id");
    const char *scope = gl_cred_field(c, "scope");
    const char *how = gl_cred_field(c, "token_auth");
    const char *secret = gl_cred_secret(c, "client_secret", NULL);
    const char *rt = gl_cred_secret(c, "refresh_token", NULL);

    memset(g, 0, sizeof *g);
    if (!url || !*url) {
        gl_err_set(err, "credential '" CRED_N "' has no token_url", e->name);
        return GL_INVALID;
    }
    if (!client_id || !*client_id) {
        gl_err_set(err, "credential '" CRED_N "' has no client_id", e->name);
        return GL_INVALID;
    }
    if (!refresh && !secret) {
        gl_err_set(err, "credential '" CRED_N "' has no client_secret", e->name);
        return GL_INVALID;
    }
    if (refresh && !rt) {
        gl_err_set(err, "credential '" CRED_N "' is not authorized yet: connect it to its provider first (OAuth2)",
                   e->name);
        return GL_INVALID;
    }
    const char *form[] = { "grant_type", refresh ? "refresh_token" : "client_credentials",
                           refresh ? "refresh_token" : "scope", refresh ? rt : scope };
    size_t n_pairs = refresh || (scope && *scope) ? 2 : 1;
    gl_oauth2_client_t client = {
        .token_url = url,
        .client_id = client_id,
        .client_secret = secret,
        .basic = how && strcasecmp(how, "basic") == 0,
        .allow = s->allow,
        .timeout_ms = (long)timeout_ms,
        .max_response = TOKEN_MAX_RESPONSE,
    };
    gl_oauth2_tokens_t t;
    gl_err_t terr;
    gl_err_clear(&terr);
    if (gl_oauth2_token_request(&client, form, n_pairs, s->job->arena, &t, &terr) == GL_OK) {
        g->access = t.access_token;
        g->access_len = strlen(t.access_token);
        if (t.refresh_token) {
            g->refresh = t.refresh_token;
            g->refresh_len = strlen(t.refresh_token);
        }
        if (t.expires_in > 0)
            g->expires_ms = gl_wall_ms() + t.expires_in * 1000;
        gl_redact_add(s->redact, g->access, g->access_len);
        if (g->refresh)
            gl_redact_add(s->redact, g->refresh, g->refresh_len);
        return GL_OK;
    }
    if (t.refused[0])
        gl_log(GL_LOG_INFO, "credential %s: token request refused: %s is not a public address (see "
               "http.allow_private)", e->id, t.refused);
    gl_redact_text(s->redact, terr.msg, sizeof terr.msg);
    if (t.outcome == GL_OAUTH2_REFUSED && !t.retryable && (t.http_status < 300 || t.http_status >= 400)) {
        snprintf(detail, detail_cap, "the token endpoint refused the %s (HTTP %ld%s%s)",
                 refresh ? "refresh token" : "client credentials", t.http_status, t.error[0] ? " " : "", t.error);
        gl_err_set(err, "credential '" CRED_N "'%s: %s", e->name, refresh ? " needs to be authorized again" : "",
                   detail);
        return REFUSED;
    }
    gl_err_set(err, "credential '" CRED_N "': token request: %s", e->name, terr.msg);
    return t.retryable ? GL_UNAVAILABLE : GL_INVALID;
}

/* Seals what was granted under the row's key and writes it (in the open
 * transaction). */
static int store_grant(gl_cred_store_t *s, const entry_t *e, const grant_t *g, gl_err_t *err)
{
    gl_arena_t *a = s->job->arena;
    /* the row's key seals the new fields too (all of a row's fields are
     * under its key_id); the current key only for a row with none */
    const char *key = e->key_id[0] && gl_vault_has_key(s->vault, e->key_id) ? e->key_id : NULL;
    if (!key && e->cred->n_secrets > 0) {
        gl_err_set(err, "credential '" CRED_N "': its key is not configured, the new token cannot be sealed", e->name);
        return GL_INVALID;
    }
    if (!key)
        key = gl_vault_key_id(s->vault);
    const char *fields[] = { "access_token", "refresh_token" };
    const char *values[] = { g->access, g->refresh };
    size_t lens[] = { g->access_len, g->refresh_len };
    json_object *patch = json_object_new_object();
    int rc = GL_OK;
    for (int i = 0; i < 2 && rc == GL_OK; i++) {
        gl_vault_ad_t ad = { .org_id = s->org_id, .cred_id = e->id, .field = fields[i] };
        char *sealed;
        if (!values[i])
            continue;
        rc = gl_vault_seal(s->vault, key, &ad, values[i], lens[i], a, &sealed, err);
        if (rc == GL_OK)
            json_object_object_add(patch, fields[i], json_object_new_string(sealed));
    }
    if (rc == GL_OK) {
        char exp[24];
        snprintf(exp, sizeof exp, "%lld", (long long)g->expires_ms);
        const char *params[] = { e->id, s->org_id, json_object_to_json_string_ext(patch, JSON_C_TO_STRING_PLAIN),
                                 key, g->expires_ms ? exp : NULL };
        gl_err_t derr;
        gl_err_clear(&derr);
        PGresult *res = NULL;
        if (gl_db_query(s->job->db, &q_token, params, NULL, &res, &derr) != GL_OK) {
            gl_err_set(err, "credential '" CRED_N "': the new token cannot be stored: %.120s", e->name, derr.msg);
            rc = GL_UNAVAILABLE;
        } else {
            PQclear(res);
        }
    }
    json_object_put(patch);
    return rc;
}

/* e's credential with the granted token (and refresh token) in place of
 * the old: a new gl_cred_t, the old one stays valid (engine.h). */
static void entry_take_grant(gl_cred_store_t *s, entry_t *e, const grant_t *g)
{
    gl_cred_t *c = gl_arena_alloc(s->job->arena, sizeof *c);
    *c = *e->cred;
    const char *fields[] = { "access_token", "refresh_token" };
    const char *values[] = { g->access, g->refresh };
    size_t lens[] = { g->access_len, g->refresh_len };
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
        c->secrets[at] = (gl_cred_secret_t){ fields[i], values[i], lens[i] };
    }
    e->cred = c;
    e->expires_ms = g->expires_ms;
}

/* Marks the row needs_reauth (in the open transaction). */
static void mark_reauth(gl_cred_store_t *s, entry_t *e, const char *detail)
{
    char clean[240];
    gl_utf8_clean(clean, sizeof clean, detail);
    gl_redact_text(s->redact, clean, sizeof clean);
    const char *params[] = { e->id, s->org_id, clean };
    gl_err_t derr;
    gl_err_clear(&derr);
    PGresult *res = NULL;
    if (gl_db_query(s->job->db, &q_reauth, params, NULL, &res, &derr) != GL_OK) {
        gl_log(GL_LOG_WARN, "credential %s: cannot mark it as needing authorization: %s", e->id, derr.msg);
        return;
    }
    PQclear(res);
    e->needs_reauth = true;
    snprintf(e->detail, sizeof e->detail, "%s", clean);
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
    int64_t timeout = TOKEN_TIMEOUT_MS;
    char detail[200];
    grant_t g;
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
    detail[0] = '\0';
    rc = token_request(s, e, refresh, timeout, &g, detail, sizeof detail, err);
    if (rc == REFUSED && refresh) {
        mark_reauth(s, e, detail);
        rc = gl_db_commit(s->job->db, &derr) == GL_OK ? GL_INVALID : GL_UNAVAILABLE;
        gl_log(GL_LOG_WARN, "credential %s needs to be authorized again: %s", e->id, detail);
        return rc;
    }
    if (rc == REFUSED)
        rc = GL_INVALID;
    if (rc == GL_OK)
        rc = store_grant(s, e, &g, err);
    if (rc != GL_OK) {
        gl_db_rollback(s->job->db);
        return rc;
    }
    if (gl_db_commit(s->job->db, &derr) != GL_OK) {
        gl_log(GL_LOG_WARN, "credential %s: a new token could not be stored: %s", e->id, derr.msg);
        gl_err_set(err, "credential '" CRED_N "': the new token cannot be stored: %.120s", e->name, derr.msg);
        return GL_UNAVAILABLE;
    }
    entry_take_grant(s, e, &g);
    gl_log(GL_LOG_INFO, "credential %s: new access token (%s)", e->id, refresh ? "refreshed" : "client credentials");
    return GL_OK;
}

