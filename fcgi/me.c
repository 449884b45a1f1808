/*
 * me.c: the signed-in user's own resources: /api/me, preferences, password
 * and sessions. Every query names current_user_id(); row level security
 * would hide other users' rows anyway.
 */
#include "me.h"

#include "account.h"
#include "crypto.h"
#include "session.h"

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

/* The hash and the email (for the guess counter); the app role cannot read
 * password_hash itself. */
static const gl_stmt_t q_hash = {
    .name = "me_hash",
    .sql = "SELECT my_password_hash(), email, login_blocked(email, $1::inet, $2, $3, $4) "
           "FROM users WHERE id = current_user_id()",
    .nparams = 4,
    .rows = true,
};

static const gl_stmt_t q_guess = {
    .name = "me_guess",
    .sql = "SELECT login_record($1, $2::inet, current_user_id(), false, NULL, NULL, NULL)",
    .nparams = 2,
    .rows = true,
};

static const gl_stmt_t q_password = {
    .name = "me_password",
    .sql = "SELECT set_my_password($1, $2::uuid)",
    .nparams = 2,
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

static void password_put(gl_req_t *req)
{
    static const char *const allowed[] = { "current_password", "new_password", NULL };
    if (!gl_account_fields(req, allowed))
        return;
    const char *cur = gl_account_string(req, req->json, "current_password", 1, GL_PASSWORD_MAX, true);
    if (!cur)
        return;
    const char *next = gl_account_string(req, req->json, "new_password", 0, 4096, true);
    if (!next)
        return;
    if (!gl_account_password_ok(req, next, "new_password"))
        return;
    gl_err_t err;
    gl_err_clear(&err);
    PGresult *res = NULL;
    gl_throttle_t t;
    gl_account_throttle(req, &t);
    const char *ph[] = { req->client_ip, t.window, t.max_account, t.max_ip };
    int rc = gl_db_query(req->db, &q_hash, ph, req->arena, &res, &err);
    if (rc != GL_OK || PQntuples(res) != 1) {
        gl_resp_fail(req, rc == GL_OK ? GL_NOTFOUND : rc, &err);
        return;
    }
    /* guesses at the current password count like failed log-ins */
    const char *wait = PQgetvalue(res, 0, 2);
    if (strcmp(wait, "0") != 0) {
        gl_resp_header(req, "Retry-After", wait);
        gl_resp_error(req, 429, "too_many_attempts", NULL, "too many wrong passwords; try again in %s seconds", wait);
        return;
    }
    if (!gl_password_check(PQgetvalue(res, 0, 0), cur, req->cfg->auth_scrypt_n)) {
        const char *pg[] = { PQgetvalue(res, 0, 1), req->client_ip };
        rc = gl_db_query(req->db, &q_guess, pg, NULL, NULL, &err);
        if (rc != GL_OK) {
            gl_resp_fail(req, rc, &err);
            return;
        }
        req->commit_on_error = true;
        gl_resp_error(req, 400, "invalid", "current_password", "the current password is wrong");
        return;
    }
    char mcf[GL_MCF_LEN];
    if (gl_password_hash(next, req->cfg->auth_scrypt_n, mcf) != GL_OK) {
        gl_resp_error(req, 500, "internal", NULL, "password hashing failed");
        return;
    }
    const char *params[] = { mcf, req->auth.session_id };
    rc = gl_db_query(req->db, &q_password, params, req->arena, &res, &err);
    if (rc != GL_OK) {
        gl_resp_fail(req, rc, &err);
        return;
    }
    if (gl_audit(req, NULL, "auth.password_change", "user", req->auth.user_id, NULL) != GL_OK)
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
    { "GET", "/api/me", me_get, GL_PERM_SELF_READ },
    { "GET", "/api/me/prefs", prefs_get, GL_PERM_SELF_READ },
    { "PUT", "/api/me/prefs", prefs_put, GL_PERM_SELF_WRITE },
    { "PUT", "/api/me/password", password_put, GL_PERM_ACCOUNT },
    { "GET", "/api/me/sessions", sessions_get, GL_PERM_ACCOUNT },
    { "DELETE", "/api/me/sessions/:id", session_delete, GL_PERM_ACCOUNT },
};

const gl_resource_t gl_resource_me = { "me", routes, GL_NELEM(routes) };
