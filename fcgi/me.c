/*
 * me.c: the signed-in user's own resources: /api/me, preferences, password
 * and sessions. Every query names current_user_id(); row level security
 * would hide other users' rows anyway.
 */
#include "me.h"

#include "account.h"
#include "crypto.h"
#include "session.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define GL_PREFS_MAX 16384

static const gl_stmt_t q_me = {
    .name = "me_get",
    .sql = "SELECT json_build_object("
           "'user', json_build_object('id', u.id, 'email', u.email, 'name', u.name, 'created_at', u.created_at),"
           "'org', (SELECT json_build_object('id', o.id, 'name', o.name, 'role', m.role)"
           "        FROM orgs o JOIN memberships m ON m.org_id = o.id AND m.user_id = u.id"
           "        WHERE o.id = current_org_id()),"
           "'orgs', coalesce((SELECT json_agg(json_build_object('id', o.id, 'name', o.name, 'role', m.role)"
           "                  ORDER BY m.created_at) FROM memberships m JOIN orgs o ON o.id = m.org_id"
           "                  WHERE m.user_id = u.id), '[]'),"
           "'auth', $1::text)::text "
           "FROM users u WHERE u.id = current_user_id()",
    .nparams = 1,
    .rows = true,
    .readonly = true,
};

static const gl_stmt_t q_prefs_get = {
    .name = "me_prefs_get",
    .sql = "SELECT prefs::text FROM users WHERE id = current_user_id()",
    .nparams = 0,
    .rows = true,
};

static const gl_stmt_t q_prefs_put = {
    .name = "me_prefs_put",
    .sql = "UPDATE users SET prefs = $1::jsonb WHERE id = current_user_id() RETURNING prefs::text",
    .nparams = 1,
    .rows = true,
};

/* The current password's hash settings (the app role never sees the hash
 * itself), or the seconds to wait past the log-in limits. */
static const gl_stmt_t q_pw_settings = {
    .name = "me_pw_settings",
    .sql = "SELECT settings, retry_after FROM my_password_settings($1::inet)",
    .nparams = 1,
    .rows = true,
};

/* The database checks the current password's hash itself; see
 * set_my_password in sql/008_identity.sql for the answers. */
static const gl_stmt_t q_password = {
    .name = "me_password",
    .sql = "SELECT set_my_password($1, $2, $3::uuid, $4::boolean, $5::inet)",
    .nparams = 5,
    .rows = true,
};

static const gl_stmt_t q_sessions = {
    .name = "me_sessions",
    .sql = "SELECT coalesce(json_agg(json_build_object('id', id, 'created_at', created_at,"
           " 'last_seen_at', last_seen_at, 'expires_at', expires_at, 'ip', host(ip),"
           " 'user_agent', user_agent, 'current', id = $1::uuid) ORDER BY last_seen_at DESC), '[]') "
           "FROM sessions WHERE user_id = current_user_id()",
    .nparams = 1,
    .rows = true,
};

static const gl_stmt_t q_session_delete = {
    .name = "me_session_delete",
    .sql = "DELETE FROM sessions WHERE id = $1 AND user_id = current_user_id()",
    .nparams = 1,
    .rows = false,
};

/* who asks decides only the last field, and how they ask is in the headers */
static bool me_ahead(gl_req_t *req, gl_ahead_t *a)
{
    const char *h = gl_req_env(req, "HTTP_AUTHORIZATION");
    a->stmt = &q_me;
    a->params[0] = h && *h ? "api_key" : "session";
    return true;
}

static void me_get(gl_req_t *req)
{
    const char *params[] = { req->auth.via_key ? "api_key" : "session" };
    if (gl_resp_query_json(req, 200, &q_me, params, "no such user") != GL_OK || req->auth.via_key)
        return;
    /* browser sessions get their CSRF token back (derived in C, never stored) */
    gl_buf_t *out = req->out;
    if (out->len < 2 || out->data[out->len - 1] != '}')
        return;
    out->len--;
    if (gl_buf_printf(out, ", \"csrf_token\" : \"%s\"}", req->auth.csrf) != GL_OK)
        gl_resp_error(req, 500, "internal", NULL, "response too large");
}

static void prefs_get(gl_req_t *req)
{
    gl_resp_query_json(req, 200, &q_prefs_get, NULL, "no such user");
}

static void prefs_put(gl_req_t *req)
{
    if (!req->json || !json_object_is_type(req->json, json_type_object)) {
        gl_resp_error(req, 400, "invalid", "body", "preferences must be a JSON object");
        return;
    }
    if (req->body_len > GL_PREFS_MAX) {
        gl_resp_error(req, 413, "too_large", "body", "preferences are limited to %d bytes", GL_PREFS_MAX);
        return;
    }
    const char *params[] = { req->body };
    gl_resp_query_json(req, 200, &q_prefs_put, params, "no such user");
}

/* The seconds to wait past the log-in limits ("0" or empty: none): answers
 * 429 with Retry-After and returns true. */
static bool too_many(gl_req_t *req, const char *wait)
{
    if (!wait || !*wait || strcmp(wait, "0") == 0)
        return false;
    gl_resp_header(req, "Retry-After", wait);
    gl_resp_error(req, 429, "too_many_attempts", NULL, "too many wrong passwords; try again in %s seconds", wait);
    return true;
}

static void password_put(gl_req_t *req)
{
    static const char *const allowed[] = { "current_password", "new_password", "keep_api_keys", NULL };
    if (!gl_account_fields(req, allowed))
        return;
    const char *cur = gl_account_string(req, req->json, "current_password", 1, GL_PASSWORD_MAX, true);
    if (!cur)
        return;
    const char *next = gl_account_string(req, req->json, "new_password", 0, 4096, true);
    if (!next)
        return;
    bool keep_keys = false;
    json_object *kk;
    if (json_object_object_get_ex(req->json, "keep_api_keys", &kk)) {
        if (!json_object_is_type(kk, json_type_boolean)) {
            gl_resp_error(req, 400, "invalid", "keep_api_keys", "field 'keep_api_keys' must be true or false");
            return;
        }
        keep_keys = json_object_get_boolean(kk);
    }
    if (!gl_account_password_ok(req, next, "new_password"))
        return;
    gl_err_t err;
    gl_err_clear(&err);
    PGresult *res = NULL;
    const char *ps[] = { req->client_ip };
    int rc = gl_db_query(req->db, &q_pw_settings, ps, req->arena, &res, &err);
    if (rc != GL_OK || PQntuples(res) != 1) {
        gl_resp_fail(req, rc == GL_OK ? GL_NOTFOUND : rc, &err);
        return;
    }
    /* guesses at the current password count like failed log-ins */
    if (too_many(req, PQgetvalue(res, 0, 1)))
        return;
    char current[GL_MCF_LEN], mcf[GL_MCF_LEN];
    if (gl_password_derive(PQgetvalue(res, 0, 0), cur, current) != GL_OK ||
        gl_password_hash(next, req->cfg->auth_scrypt_n, mcf) != GL_OK) {
        gl_resp_error(req, 500, "internal", NULL, "password hashing failed");
        return;
    }
    const char *params[] = { current, mcf, req->auth.session_id, keep_keys ? "true" : "false", req->client_ip };
    rc = gl_db_query(req->db, &q_password, params, req->arena, &res, &err);
    sodium_memzero(current, sizeof current);
    if (rc != GL_OK) {
        gl_resp_fail(req, rc, &err);
        return;
    }
    const char *answer = PQgetvalue(res, 0, 0);
    if (strcmp(answer, "-1") == 0) {
        req->commit_on_error = true; /* the wrong guess is counted */
        gl_resp_error(req, 400, "invalid", "current_password", "the current password is wrong");
        return;
    }
    if (too_many(req, answer))
        return;
    if (gl_audit(req, NULL, "auth.password_change", "user", req->auth.user_id,
                 keep_keys ? "{\"api_keys\": \"kept\"}" : "{\"api_keys\": \"revoked\"}") != GL_OK)
        return;
    gl_resp_json(req, 204, "", 0);
}

static void sessions_get(gl_req_t *req)
{
    const char *params[] = { req->auth.session_id };
    gl_resp_query_json(req, 200, &q_sessions, params, "no sessions");
}

static void session_delete(gl_req_t *req)
{
    const char *id = gl_req_param(req, "id");
    if (!gl_is_uuid(id)) {
        gl_resp_error(req, 404, "not_found", NULL, "no such session");
        return;
    }
    const char *params[] = { id };
    if (gl_resp_exec_one(req, &q_session_delete, params, "no such session") != GL_OK)
        return;
    if (gl_audit(req, NULL, "auth.session_revoke", "session", id, NULL) != GL_OK)
        return;
    if (strcmp(id, req->auth.session_id) == 0)
        gl_session_cookie(req, NULL, 0);
    gl_resp_json(req, 204, "", 0);
}

static const gl_route_t routes[] = {
    { "GET", "/api/me", me_get, GL_PERM_SELF_READ, me_ahead },
    { "GET", "/api/me/prefs", prefs_get, GL_PERM_SELF_READ, NULL },
    { "PUT", "/api/me/prefs", prefs_put, GL_PERM_SELF_WRITE, NULL },
    { "PUT", "/api/me/password", password_put, GL_PERM_ACCOUNT, NULL },
    { "GET", "/api/me/sessions", sessions_get, GL_PERM_ACCOUNT, NULL },
    { "DELETE", "/api/me/sessions/:id", session_delete, GL_PERM_ACCOUNT, NULL },
};

const gl_resource_t gl_resource_me = { "me", routes, GL_NELEM(routes) };
