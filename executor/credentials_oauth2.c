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
 * is made like http.request's (gl_engine_http_call: the outbound guard
 * and http.allow_private, no proxy, timeouts): a token_url is user input.
 * A refresh token the endpoint refuses (4xx) marks the credential
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

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TOKEN_EARLY_MS 30000   /* a token with less than this left is renewed before use */
#define TOKEN_TIMEOUT_MS 30000 /* a token request, at most (cut to the node's deadline) */
#define LOCK_EXTRA_MS 5000     /* waiting for another run's renewal: its request's time and this */
#define TOKEN_MAX_RESPONSE (256u << 10)

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
    const char *access;   /* wiped arena memory */
    size_t access_len;
    const char *refresh;  /* a rotated refresh token, or NULL */
    size_t refresh_len;
    int64_t expires_ms;   /* wall clock; 0: no expiry given */
} grant_t;

#define REFUSED 1 /* token_request: the endpoint refused (4xx); err says so */

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

/* An OAuth2 error code from a refusal's body, when it looks like one
 * ("invalid_grant"): nothing else of the body is repeated. */
static void oauth_error_code(const gl_buf_t *body, char *out, size_t cap)
{
    json_object *o = NULL, *v;
    gl_err_t err;
    out[0] = '\0';
    if (!body->len || gl_json_parse(body->data, body->len, 16, &o, &err) != GL_OK)
        return;
    if (json_object_object_get_ex(o, "error", &v) && json_object_is_type(v, json_type_string)) {
        const char *code = json_object_get_string(v);
        size_t n = strlen(code);
        static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-";
        if (n > 0 && n < cap && n <= 64 && strspn(code, ok) == n)
            memcpy(out, code, n + 1);
    }
    json_object_put(o);
}

/* A string member of a token answer that may go into a header. */
static const char *token_member(json_object *o, const char *key, size_t *n)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    const char *s = json_object_get_string(v);
    *n = (size_t)json_object_get_string_len(v);
    if (*n == 0 || *n > GL_VAULT_MAX_SECRET)
        return NULL;
    for (size_t i = 0; i < *n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return NULL;
    return s;
}

/* The granted token from a 2xx answer. */
static int parse_grant(gl_cred_store_t *s, const entry_t *e, const gl_buf_t *body, grant_t *g, gl_err_t *err)
{
    json_object *o = NULL, *v;
    gl_err_t perr;
    size_t n = 0;
    const char *tok;
    memset(g, 0, sizeof *g);
    if (!body->len || gl_json_parse(body->data, body->len, 16, &o, &perr) != GL_OK ||
        !json_object_is_type(o, json_type_object) || !(tok = token_member(o, "access_token", &n))) {
        json_object_put(o);
        gl_err_set(err, "credential '" CRED_N "': the token endpoint's answer holds no usable access_token", e->name);
        return GL_INVALID;
    }
    g->access = gl__cred_secret_dup(s->job->arena, tok, n);
    g->access_len = n;
    if ((tok = token_member(o, "refresh_token", &n)) != NULL) {
        g->refresh = gl__cred_secret_dup(s->job->arena, tok, n);
        g->refresh_len = n;
    }
    int64_t secs = 0;
    if (json_object_object_get_ex(o, "expires_in", &v)) {
        if (json_object_is_type(v, json_type_int))
            secs = json_object_get_int64(v);
        else if (json_object_is_type(v, json_type_double))
            secs = (int64_t)json_object_get_double(v);
        else if (json_object_is_type(v, json_type_string) &&
                 gl_parse_i64(json_object_get_string(v), 0, INT32_MAX, &secs) != GL_OK)
            secs = 0;
    }
    if (secs > 0 && secs < (int64_t)100 * 365 * 86400)
        g->expires_ms = gl_wall_ms() + secs * 1000;
    gl_redact_add(s->redact, g->access, g->access_len);
    if (g->refresh)
        gl_redact_add(s->redact, g->refresh, g->refresh_len);
    json_object_put(o);
    return GL_OK;
}

/* Appends "&name=value" (URL-encoded; no '&' first) to the form. */
static int form_add(gl_buf_t *b, const char *name, const char *value, size_t n)
{
    if ((b->len && gl_buf_append(b, "&", 1) != GL_OK) || gl_buf_puts(b, name) != GL_OK ||
        gl_buf_append(b, "=", 1) != GL_OK || gl_buf_urlencode(b, value, n) != GL_OK)
        return GL_TOO_LARGE;
    return GL_OK;
}

/* The request's form and, for token_auth basic, its Authorization line. */
static int token_form(const entry_t *e, bool refresh, gl_buf_t *form, gl_buf_t *auth, gl_err_t *err)
{
    const gl_cred_t *c = e->cred;
    const char *client_id = gl_cred_field(c, "client_id");
    const char *scope = gl_cred_field(c, "scope");
    const char *how = gl_cred_field(c, "token_auth");
    size_t secret_len = 0, rt_len = 0;
    const char *secret = gl_cred_secret(c, "client_secret", &secret_len);
    const char *rt = gl_cred_secret(c, "refresh_token", &rt_len);
    bool basic = how && strcasecmp(how, "basic") == 0;
    int rc;

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
    rc = refresh ? form_add(form, "grant_type", "refresh_token", 13) : form_add(form, "grant_type",
                                                                                 "client_credentials", 18);
    if (rc == GL_OK && refresh)
        rc = form_add(form, "refresh_token", rt, rt_len);
    if (rc == GL_OK && !refresh && scope && *scope)
        rc = form_add(form, "scope", scope, strlen(scope));
    if (rc == GL_OK && !basic) {
        rc = form_add(form, "client_id", client_id, strlen(client_id));
        if (rc == GL_OK && secret)
            rc = form_add(form, "client_secret", secret, secret_len);
    } else if (rc == GL_OK) {
        /* RFC 6749 2.3.1: both URL-encoded, then Basic */
        gl_buf_t plain;
        gl_buf_init(&plain, 2 * GL_VAULT_MAX_SECRET * 3 + 8);
        rc = gl_buf_urlencode(&plain, client_id, strlen(client_id));
        if (rc == GL_OK)
            rc = gl_buf_append(&plain, ":", 1);
        if (rc == GL_OK && secret)
            rc = gl_buf_urlencode(&plain, secret, secret_len);
        if (rc == GL_OK) {
            size_t b64_len = sodium_base64_ENCODED_LEN(plain.len, sodium_base64_VARIANT_ORIGINAL);
            char *b64 = gl_xmalloc(b64_len);
            sodium_bin2base64(b64, b64_len, (const unsigned char *)plain.data, plain.len,
                              sodium_base64_VARIANT_ORIGINAL);
            rc = gl_buf_printf(auth, "Authorization: Basic %s", b64);
            sodium_memzero(b64, b64_len);
            free(b64);
        }
        gl__cred_buf_wipe_free(&plain);
    }
    if (rc != GL_OK) {
        gl_err_set(err, "credential '" CRED_N "': its token request is too large", e->name);
        return GL_INVALID;
    }
    return GL_OK;
}

/* Asks the token endpoint for a new access token (refresh: with the
 * refresh token, else by client credentials). GL_OK with *g; REFUSED
 * (4xx, err says why, detail what status_detail may say); GL_INVALID;
 * GL_UNAVAILABLE. */
static int token_request(gl_cred_store_t *s, const entry_t *e, bool refresh, int64_t timeout_ms, grant_t *g,
                         char *detail, size_t detail_cap, gl_err_t *err)
{
    const char *url = gl_cred_field(e->cred, "token_url");
    gl_buf_t form, auth;
    gl_http_reply_t rep;
    char code[72];
    int rc;

    if (!url || !*url) {
        gl_err_set(err, "credential '" CRED_N "' has no token_url", e->name);
        return GL_INVALID;
    }
    gl_buf_init(&form, 4 * GL_VAULT_MAX_SECRET);
    gl_buf_init(&auth, 4 * GL_VAULT_MAX_SECRET);
    if ((rc = token_form(e, refresh, &form, &auth, err)) != GL_OK) {
        gl__cred_buf_wipe_free(&form);
        gl__cred_buf_wipe_free(&auth);
        return rc;
    }
    const char *headers[] = { "Content-Type: application/x-www-form-urlencoded", "Accept: application/json",
                              auth.len ? auth.data : NULL, NULL };
    gl_http_call_t call = { .method = "POST", .url = url, .headers = headers, .body = form.data ? form.data : "",
                            .body_len = form.len, .timeout_ms = timeout_ms, .max_response = TOKEN_MAX_RESPONSE,
                            .allow_private = s->allow };
    rc = gl_engine_http_call(&call, &rep);
    gl__cred_buf_wipe_free(&form);
    gl__cred_buf_wipe_free(&auth);
    if (rc != GL_OK) {
        gl_redact_text(s->redact, rep.error, sizeof rep.error);
        gl_err_set(err, "credential '" CRED_N "': token request: %s", e->name, rep.error);
        rc = rep.retryable ? GL_UNAVAILABLE : GL_INVALID;
    } else if (rep.status >= 200 && rep.status < 300) {
        rc = parse_grant(s, e, &rep.body, g, err);
    } else if (rep.status >= 400 && rep.status < 500 && rep.status != 408 && rep.status != 429) {
        oauth_error_code(&rep.body, code, sizeof code);
        snprintf(detail, detail_cap, "the token endpoint refused the %s (HTTP %ld%s%s)",
                 refresh ? "refresh token" : "client credentials", rep.status, code[0] ? " " : "", code);
        gl_err_set(err, "credential '" CRED_N "'%s: %s", e->name,
                   refresh ? " needs to be authorized again" : "", detail);
        rc = REFUSED;
    } else {
        gl_err_set(err, "credential '" CRED_N "': the token endpoint answered HTTP %ld", e->name, rep.status);
        rc = rep.status >= 300 && rep.status < 400 ? GL_INVALID : GL_UNAVAILABLE;
    }
    if (rep.body.data)
        sodium_memzero(rep.body.data, rep.body.len);
    gl_http_reply_free(&rep);
    return rc;
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

