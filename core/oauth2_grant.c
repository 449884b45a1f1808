/*
 * oauth2_grant.c: renewing a stored credential's access token (see
 * oauth2_grant.h).
 */
#include "oauth2_grant.h"

#include "json.h"
#include "log.h"
#include "utf8.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define CRED_N "%.80s" /* a credential's name in messages */

static const gl_stmt_t q_store = {
    .name = "oauth2_grant_store",
    .sql = "UPDATE glyphic.credentials SET secrets = secrets || $3::jsonb, key_id = $4, "
           "token_expires_at = CASE WHEN $5::bigint IS NULL THEN NULL ELSE to_timestamp($5::bigint / 1000.0) END, "
           "status = 'ok', status_detail = NULL, updated_at = now() WHERE id = $1::uuid AND org_id = $2::uuid",
    .nparams = 5, .rows = false,
};

static const gl_stmt_t q_reauth = {
    .name = "oauth2_grant_reauth",
    .sql = "UPDATE glyphic.credentials SET status = 'needs_reauth', status_detail = $3, updated_at = now() "
           "WHERE id = $1::uuid AND org_id = $2::uuid",
    .nparams = 3, .rows = false,
};

int64_t gl_oauth2_expires_ms(int64_t expires_in)
{
    return expires_in > 0 ? gl_wall_ms() + expires_in * 1000 : 0;
}

int gl_oauth2_grant(const gl_oauth2_cred_t *c, bool refresh, const gl_ipnet_list_t *allow, long timeout_ms,
                    size_t max_response, gl_arena_t *a, gl_oauth2_grant_t *g, gl_err_t *err)
{
    memset(g, 0, sizeof *g);
    if (!c->token_url || !*c->token_url) {
        gl_err_set(err, "credential '" CRED_N "' has no token_url", c->name);
        return GL_INVALID;
    }
    if (!c->client_id || !*c->client_id) {
        gl_err_set(err, "credential '" CRED_N "' has no client_id", c->name);
        return GL_INVALID;
    }
    if (!refresh && !c->client_secret) {
        gl_err_set(err, "credential '" CRED_N "' has no client_secret", c->name);
        return GL_INVALID;
    }
    if (refresh && !c->refresh_token) {
        gl_err_set(err, "credential '" CRED_N "' is not authorized yet: connect it to its provider first (OAuth2)",
                   c->name);
        return GL_INVALID;
    }
    const char *form[] = { "grant_type", refresh ? "refresh_token" : "client_credentials",
                           refresh ? "refresh_token" : "scope", refresh ? c->refresh_token : c->scope };
    size_t n_pairs = refresh || (c->scope && *c->scope) ? 2 : 1;
    gl_oauth2_client_t client = {
        .token_url = c->token_url,
        .client_id = c->client_id,
        .client_secret = c->client_secret,
        .basic = c->token_auth && strcasecmp(c->token_auth, "basic") == 0,
        .allow = allow,
        .timeout_ms = timeout_ms,
        .max_response = max_response,
    };
    gl_oauth2_tokens_t *t = &g->tokens;
    gl_err_t terr;
    gl_err_clear(&terr);
    if (gl_oauth2_token_request(&client, form, n_pairs, a, t, &terr) == GL_OK)
        return GL_OK;
    if (t->refused[0])
        gl_log(GL_LOG_INFO, "credential %s: token request refused: %s is not a public address (see "
               "http.allow_private)", c->id, t->refused);
    if (t->outcome == GL_OAUTH2_REFUSED && !t->retryable && (t->http_status < 300 || t->http_status >= 400)) {
        g->refused = true;
        snprintf(g->detail, sizeof g->detail, "the token endpoint refused the %s (HTTP %ld%s%s)",
                 refresh ? "refresh token" : "client credentials", t->http_status, t->error[0] ? " " : "", t->error);
        gl_err_set(err, "credential '" CRED_N "'%s: %s", c->name, refresh ? " needs to be authorized again" : "",
                   g->detail);
        return GL_INVALID;
    }
    gl_err_set(err, "credential '" CRED_N "': token request: %s", c->name, terr.msg);
    return t->retryable ? GL_UNAVAILABLE : GL_INVALID;
}

int gl_oauth2_store(gl_db_t *db, const gl_vault_t *vault, const gl_oauth2_cred_t *c, const char *row_key,
                    bool row_sealed, const gl_oauth2_tokens_t *t, int64_t expires_ms, gl_arena_t *a, gl_err_t *err)
{
    /* the row's key seals the new fields too (all of a row's fields are
     * under its key_id); the current key only for a row with none */
    const char *key = row_key && *row_key && gl_vault_has_key(vault, row_key) ? row_key : NULL;
    if (!key && row_sealed) {
        gl_err_set(err, "credential '" CRED_N "': its key is not configured, the new token cannot be sealed", c->name);
        return GL_INVALID;
    }
    if (!key)
        key = gl_vault_key_id(vault);
    const char *fields[] = { "access_token", "refresh_token" };
    const char *values[] = { t->access_token, t->refresh_token };
    json_object *patch = json_object_new_object();
    int rc = GL_OK;
    for (int i = 0; i < 2 && rc == GL_OK; i++) {
        gl_vault_ad_t ad = { .org_id = c->org_id, .cred_id = c->id, .field = fields[i] };
        char *sealed;
        if (!values[i])
            continue;
        rc = gl_vault_seal(vault, key, &ad, values[i], strlen(values[i]), a, &sealed, err);
        if (rc == GL_OK)
            json_object_object_add(patch, fields[i], json_object_new_string(sealed));
        else
            rc = GL_INVALID;
    }
    if (rc == GL_OK) {
        char exp[24];
        snprintf(exp, sizeof exp, "%lld", (long long)expires_ms);
        const char *params[] = { c->id, c->org_id, json_object_to_json_string_ext(patch, JSON_C_TO_STRING_PLAIN),
                                 key, expires_ms ? exp : NULL };
        gl_err_t derr;
        gl_err_clear(&derr);
        if (gl_db_query(db, &q_store, params, NULL, NULL, &derr) != GL_OK) {
            gl_err_set(err, "credential '" CRED_N "': the new token cannot be stored: %.120s", c->name, derr.msg);
            rc = GL_UNAVAILABLE;
        }
    }
    json_object_put(patch);
    return rc;
}

int gl_oauth2_mark_reauth(gl_db_t *db, const gl_oauth2_cred_t *c, const char *detail, gl_err_t *err)
{
    char clean[240];
    gl_utf8_clean(clean, sizeof clean, detail);
    const char *params[] = { c->id, c->org_id, clean };
    gl_err_t derr;
    gl_err_clear(&derr);
    if (gl_db_query(db, &q_reauth, params, NULL, NULL, &derr) != GL_OK) {
        gl_err_set(err, "credential '" CRED_N "': cannot mark it as needing authorization: %.120s", c->name,
                   derr.msg);
        return GL_UNAVAILABLE;
    }
    return GL_OK;
}
