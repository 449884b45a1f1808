/*
 * session.c: request authentication (see session.h).
 *
 * One round trip: glyphic_ctx.auth_session() / auth_api_key() are SQL
 * functions that look the token's SHA-256 up, enforce expiry, pick the org
 * and write the request context (the user, the org, the user's orgs) that
 * the row level security policies read, which only those functions may
 * write (sql/035_context_schema.sql, sql/036_context_auth.sql). Tokens
 * themselves never reach the database or a log; only their hashes do.
 */
#include "session.h"

#include "crypto.h"
#include "log.h"
#include "tokens.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const gl_stmt_t q_auth_session = {
    .name = "auth_session",
    .sql = "SELECT session_id, user_id, org_id, role FROM glyphic_ctx.auth_session($1, $2, $3)",
    .nparams = 3,
    .rows = true,
};

static const gl_stmt_t q_auth_key = {
    .name = "auth_api_key",
    .sql = "SELECT key_id, user_id, org_id, role, scopes FROM glyphic_ctx.auth_api_key($1)",
    .nparams = 1,
    .rows = true,
};

const char *gl_session_token(gl_req_t *req)
{
    char token[GL_TOKEN_LEN + 1];
    if (!gl_cookie_session_token(gl_req_env(req, "HTTP_COOKIE"), token))
        return NULL;
    return gl_arena_strdup(req->arena, token);
}

void gl_session_cookie(gl_req_t *req, const char *token, int max_age)
{
    char v[256];
    snprintf(v, sizeof v, GL_SESSION_COOKIE "=%s; Path=/; HttpOnly; SameSite=Lax; Max-Age=%d%s",
             token ? token : "", token ? max_age : 0, req->cfg->auth_cookie_secure ? "; Secure" : "");
    gl_resp_header(req, "Set-Cookie", v);
}

/* The API key from "Authorization: Bearer gk_…", or NULL. */
static const char *bearer_key(gl_req_t *req, bool *present)
{
    const char *h = gl_req_env(req, "HTTP_AUTHORIZATION");
    *present = h && *h;
    return *present ? gl_bearer_api_key(h) : NULL;
}

static void copy_field(char *dst, size_t cap, const PGresult *res, int col)
{
    snprintf(dst, cap, "%s", PQgetisnull(res, 0, col) ? "" : PQgetvalue(res, 0, col));
}

static int unauthorized(gl_req_t *req, const char *why)
{
    gl_resp_header(req, "WWW-Authenticate", "Bearer realm=\"glyphic\"");
    gl_resp_error(req, 401, "unauthorized", NULL, "%s", why);
    return GL_INVALID;
}

int gl_session_again(gl_req_t *req)
{
    gl_db_rollback(req->db); /* ends what is left of the first transaction */
    if (!req->rule || !req->rule->needs_auth) {
        gl_resp_error(req, 500, "internal", NULL, "this route has no authentication to repeat");
        return GL_ERR;
    }
    int rc = gl_session_authorize(req, req->rule, NULL);
    if (rc != GL_OK)
        gl_db_rollback(req->db);
    return rc;
}

static bool is_safe_method(const char *m)
{
    return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;
}

int gl_session_authorize(gl_req_t *req, const gl_perm_rule_t *rule, const gl_ahead_t *ahead)
{
    gl_auth_t *a = &req->auth;
    memset(a, 0, sizeof *a);
    if (rule->denied) {
        gl_resp_error(req, 403, "forbidden", NULL, "nobody may do this");
        return GL_INVALID;
    }

    /* the org asked for: the route's :org, else the X-Glyphic-Org header */
    const char *wanted = gl_req_param(req, "org");
    if (!wanted) {
        wanted = gl_req_env(req, GL_ORG_HEADER);
        if (wanted && *wanted && !gl_is_uuid(wanted)) {
            gl_resp_error(req, 400, "invalid", "X-Glyphic-Org", "X-Glyphic-Org must be an org id");
            return GL_INVALID;
        }
        if (wanted && !*wanted)
            wanted = NULL;
    } else if (!gl_is_uuid(wanted)) {
        gl_resp_error(req, 404, "not_found", NULL, "no such org");
        return GL_NOTFOUND;
    }

    gl_err_t err;
    gl_err_clear(&err);
    PGresult *res = NULL;
    char hash[GL_HASH_PARAM_LEN];
    bool auth_header = false;
    const char *key = bearer_key(req, &auth_header);
    int rc;
    if (auth_header) {
        if (!key)
            return unauthorized(req, "malformed Authorization header (expected: Bearer gk_…)");
        gl_hash_param(key, strlen(key), hash);
        const char *params[] = { hash };
        rc = gl_db_begin_query_ahead(req->db, &q_auth_key, params, ahead ? ahead->stmt : NULL,
                                     ahead ? ahead->params : NULL, req->arena, &res, &err);
        if (rc != GL_OK) {
            gl_resp_fail(req, rc, &err);
            return rc;
        }
        if (PQntuples(res) == 0)
            return unauthorized(req, "invalid, expired or revoked API key");
        a->via_key = true;
        copy_field(a->key_id, sizeof a->key_id, res, 0);
        copy_field(a->user_id, sizeof a->user_id, res, 1);
        copy_field(a->org_id, sizeof a->org_id, res, 2);
        a->role = gl_role_parse(PQgetvalue(res, 0, 3));
        a->scopes = gl_scopes_parse(PQgetvalue(res, 0, 4));
        if (wanted && strcasecmp(wanted, a->org_id) != 0) {
            gl_resp_error(req, 404, "not_found", NULL, "no such org");
            return GL_NOTFOUND;
        }
    } else {
        const char *token = gl_session_token(req);
        if (!token)
            return unauthorized(req, "sign in first");
        gl_hash_param(token, strlen(token), hash);
        char idle[16];
        snprintf(idle, sizeof idle, "%d", req->cfg->auth_session_idle);
        const char *params[] = { hash, wanted, idle };
        rc = gl_db_begin_query_ahead(req->db, &q_auth_session, params, ahead ? ahead->stmt : NULL,
                                     ahead ? ahead->params : NULL, req->arena, &res, &err);
        if (rc != GL_OK) {
            gl_resp_fail(req, rc, &err);
            return rc;
        }
        if (PQntuples(res) == 0) {
            gl_session_cookie(req, NULL, 0);
            return unauthorized(req, "session expired or signed out; sign in again");
        }
        copy_field(a->session_id, sizeof a->session_id, res, 0);
        copy_field(a->user_id, sizeof a->user_id, res, 1);
        copy_field(a->org_id, sizeof a->org_id, res, 2);
        a->role = gl_role_parse(PQgetisnull(res, 0, 3) ? NULL : PQgetvalue(res, 0, 3));
        gl_csrf_token(token, a->csrf);
    }
    a->authenticated = true;

    if (a->via_key && rule->session_only) {
        gl_resp_error(req, 403, "forbidden", NULL, "API keys cannot do this; sign in with a browser session");
        return GL_INVALID;
    }
    if (!a->via_key && !is_safe_method(req->method)) {
        /* cookie-authenticated mutations carry the CSRF token in a header */
        const char *sent = gl_req_env(req, GL_CSRF_HEADER);
        if (!sent || !*sent) {
            gl_resp_error(req, 403, "csrf_required", "X-CSRF-Token",
                          "the X-CSRF-Token header is required for this request");
            return GL_INVALID;
        }
        if (!gl_str_secure_eq(sent, a->csrf)) {
            gl_resp_error(req, 403, "csrf_invalid", "X-CSRF-Token", "the X-CSRF-Token header does not match the session");
            return GL_INVALID;
        }
    }
    if (rule->needs_org && !a->org_id[0]) {
        gl_resp_error(req, 404, "not_found", NULL, wanted ? "no such org" : "you belong to no org");
        return GL_NOTFOUND;
    }
    if (rule->min_role != GL_ROLE_NONE && a->role < (int)rule->min_role) {
        gl_resp_error(req, 403, "forbidden", NULL, "your role (%s) may not do this (%s needs %s)",
                      gl_role_name((gl_role_t)a->role), rule->name, gl_role_name(rule->min_role));
        return GL_INVALID;
    }
    if (a->via_key && !gl_scope_allows(a->scopes, rule->scope)) {
        gl_resp_error(req, 403, "insufficient_scope", NULL, "this API key lacks the scope %s needs",
                      rule->name);
        return GL_INVALID;
    }
    return GL_OK;
}
