/*
 * auth.c: sign-up, log-in, log-out (/api/auth/…).
 *
 * Passwords are hashed with scrypt (libscrypt MCF strings) before the
 * database sees anything; the session token travels only in the cookie and
 * is stored as its SHA-256. Failed log-ins are counted per account and per
 * client address (login_attempts); past the limit the answer is 429 with
 * Retry-After, whatever the password. A log-in for an unknown email costs
 * the same scrypt work as one for a known email.
 */
#include "auth.h"

#include "account.h"
#include "crypto.h"
#include "log.h"
#include "session.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

static const gl_stmt_t q_signup = {
    .name = "auth_signup",
    .sql = "SELECT user_id, org_id, role FROM signup($1, $2, $3, $4, $5, $6, $7::inet)",
    .nparams = 7,
    .rows = true,
};

static const gl_stmt_t q_blocked = {
    .name = "auth_blocked",
    .sql = "SELECT login_blocked($1, $2::inet, $3, $4, $5)",
    .nparams = 5,
    .rows = true,
};

static const gl_stmt_t q_lookup = {
    .name = "auth_lookup",
    .sql = "SELECT user_id, password_hash FROM login_lookup($1)",
    .nparams = 1,
    .rows = true,
};

static const gl_stmt_t q_record = {
    .name = "auth_record",
    .sql = "SELECT login_record($1, $2::inet, $3, $4, $5, $6, $7)",
    .nparams = 7,
    .rows = true,
};

/* The signed-in user and their orgs, as PostgreSQL renders it (the CSRF
 * token is added in C: it never travels to the database). */
static const gl_stmt_t q_me_after_login = {
    .name = "auth_me",
    .sql = "SELECT json_build_object("
           "'user', json_build_object('id', u.id, 'email', u.email, 'name', u.name),"
           "'org_id', current_org_id(),"
           "'orgs', coalesce((SELECT json_agg(json_build_object('id', o.id, 'name', o.name, 'role', m.role)"
           "                  ORDER BY m.created_at) FROM memberships m JOIN orgs o ON o.id = m.org_id"
           "                  WHERE m.user_id = u.id), '[]'))::text FROM users u WHERE u.id = $1",
    .nparams = 1,
    .rows = true,
};

static const gl_stmt_t q_logout = {
    .name = "auth_logout",
    .sql = "DELETE FROM sessions WHERE id = $1",
    .nparams = 1,
    .rows = false,
};

/* Starts a session for user_id: records the successful log-in, sets the
 * cookie, answers with the user and the CSRF token. */
static void start_session(gl_req_t *req, const char *email, const char *user_id, int status)
{
    char token[GL_TOKEN_LEN + 1], csrf[GL_TOKEN_LEN + 1], hash[GL_HASH_PARAM_LEN];
    char lifetime[16];
    gl_token_new(token);
    gl_csrf_token(token, csrf);
    gl_hash_param(token, strlen(token), hash);
    snprintf(lifetime, sizeof lifetime, "%d", req->cfg->auth_session_lifetime);
    const char *ua = gl_req_env(req, "HTTP_USER_AGENT");
    const char *ua_short = gl_account_clean_text(req, ua ? ua : "", 255);
    const char *params[] = { email, req->client_ip, user_id, "true", hash, lifetime, ua_short };
    gl_err_t err;
    gl_err_clear(&err);
    int rc = gl_db_query(req->db, &q_record, params, NULL, NULL, &err);
    if (rc != GL_OK) {
        gl_resp_fail(req, rc, &err);
        return;
    }
    const char *p2[] = { user_id };
    PGresult *res = NULL;
    rc = gl_db_query(req->db, &q_me_after_login, p2, req->arena, &res, &err);
    if (rc != GL_OK || PQntuples(res) != 1) {
        gl_resp_fail(req, rc == GL_OK ? GL_NOTFOUND : rc, &err);
        sodium_memzero(token, sizeof token);
        return;
    }
    const char *json = PQgetvalue(res, 0, 0);
    char *body = gl_arena_printf(req->arena, "%.*s, \"csrf_token\" : \"%s\"}",
                                 PQgetlength(res, 0, 0) - 1, json, csrf);
    gl_resp_json(req, status, body, strlen(body));
    gl_session_cookie(req, token, req->cfg->auth_session_lifetime);
    sodium_memzero(token, sizeof token);
}

static void signup_post(gl_req_t *req)
{
    static const char *const allowed[] = { "email", "password", "name", "org_name", "invitation", NULL };
    if (!gl_account_fields(req, allowed))
        return;
    const char *email_raw = gl_account_string(req, req->json, "email", 1, 1024, true);
    if (!email_raw)
        return;
    const char *email = gl_account_email(req, email_raw, "email");
    if (!email)
        return;
    const char *password = gl_account_string(req, req->json, "password", 0, 4096, true);
    if (!password || !gl_account_password_ok(req, password, "password"))
        return;
    const char *name = gl_account_string(req, req->json, "name", 1, GL_NAME_MAX, true);
    if (!name)
        return;
    const char *org_name = gl_account_string(req, req->json, "org_name", 1, GL_NAME_MAX, false);
    if (!org_name && req->status)
        return;
    const char *invitation = gl_account_string(req, req->json, "invitation", 1, 256, false);
    if (!invitation && req->status)
        return;
    if (!org_name)
        org_name = gl_arena_printf(req->arena, "%s's org", gl_account_clean_text(req, name, 90));

    char mcf[GL_MCF_LEN];
    if (gl_password_hash(password, req->cfg->auth_scrypt_n, mcf) != GL_OK) {
        gl_resp_error(req, 500, "internal", NULL, "password hashing failed");
        return;
    }
    char inv_hash[GL_HASH_PARAM_LEN];
    if (invitation)
        gl_hash_param(invitation, strlen(invitation), inv_hash);
    const char *params[] = { email, name, mcf, org_name, invitation ? inv_hash : NULL,
                             req->cfg->auth_open_signup ? "true" : "false", req->client_ip };
    gl_err_t err;
    gl_err_clear(&err);
    PGresult *res = NULL;
    int rc = gl_db_query(req->db, &q_signup, params, req->arena, &res, &err);
    if (rc == GL_CONFLICT) {
        gl_resp_error(req, 409, "email_taken", "email", "an account with this email exists; sign in instead");
        return;
    }
    if (rc != GL_OK && strcmp(err.sqlstate, "P0002") == 0) {
        gl_resp_error(req, 400, "invalid", "invitation", "invitation not found, expired, or for another email");
        return;
    }
    if (rc != GL_OK && strcmp(err.sqlstate, "42501") == 0) {
        gl_resp_error(req, 403, "signup_closed", NULL, "sign-up is by invitation only on this server");
        return;
    }
    if (rc != GL_OK) {
        gl_resp_fail(req, rc, &err);
        return;
    }
    start_session(req, email, PQgetvalue(res, 0, 0), 201);
}

static void login_post(gl_req_t *req)
{
    static const char *const allowed[] = { "email", "password", NULL };
    if (!gl_account_fields(req, allowed))
        return;
    const char *email_raw = gl_account_string(req, req->json, "email", 1, 1024, true);
    if (!email_raw)
        return;
    const char *email = gl_account_email(req, email_raw, "email");
    if (!email)
        return;
    const char *password = gl_account_string(req, req->json, "password", 1, GL_PASSWORD_MAX, true);
    if (!password)
        return;

    gl_err_t err;
    gl_err_clear(&err);
    PGresult *res = NULL;
    gl_throttle_t t;
    gl_account_throttle(req, &t);
    const char *pb[] = { email, req->client_ip, t.window, t.max_account, t.max_ip };
    int rc = gl_db_query(req->db, &q_blocked, pb, req->arena, &res, &err);
    if (rc != GL_OK) {
        gl_resp_fail(req, rc, &err);
        return;
    }
    const char *wait = PQgetvalue(res, 0, 0);
    if (strcmp(wait, "0") != 0) {
        gl_resp_header(req, "Retry-After", wait);
        gl_resp_error(req, 429, "too_many_attempts", NULL,
                      "too many failed sign-ins; try again in %s seconds", wait);
        gl_log(GL_LOG_WARN, "log-in refused: too many failures (client %s)",
               req->client_ip ? req->client_ip : "?");
        return;
    }

    const char *pl[] = { email };
    rc = gl_db_query(req->db, &q_lookup, pl, req->arena, &res, &err);
    if (rc != GL_OK) {
        gl_resp_fail(req, rc, &err);
        return;
    }
    bool found = PQntuples(res) == 1;
    const char *user_id = found ? PQgetvalue(res, 0, 0) : NULL;
    bool ok = gl_password_check(found ? PQgetvalue(res, 0, 1) : NULL, password, req->cfg->auth_scrypt_n);
    if (!ok) {
        const char *pr[] = { email, req->client_ip, user_id, "false", NULL, NULL, NULL };
        rc = gl_db_query(req->db, &q_record, pr, NULL, NULL, &err);
        if (rc != GL_OK) {
            gl_resp_fail(req, rc, &err);
            return;
        }
        req->commit_on_error = true; /* the failure must be counted */
        gl_resp_error(req, 401, "invalid_credentials", NULL, "wrong email or password");
        return;
    }
    start_session(req, email, user_id, 200);
}

static void logout_post(gl_req_t *req)
{
    const char *params[] = { req->auth.session_id };
    gl_err_t err;
    gl_err_clear(&err);
    int rc = gl_db_query(req->db, &q_logout, params, NULL, NULL, &err);
    if (rc != GL_OK) {
        gl_resp_fail(req, rc, &err);
        return;
    }
    if (gl_audit(req, NULL, "auth.logout", "session", req->auth.session_id, NULL) != GL_OK)
        return;
    gl_session_cookie(req, NULL, 0);
    gl_resp_json(req, 204, "", 0);
}

static const gl_route_t routes[] = {
    { "POST", "/api/auth/signup", signup_post, GL_PERM_ANON_TX },
    { "POST", "/api/auth/login", login_post, GL_PERM_ANON_TX },
    { "POST", "/api/auth/logout", logout_post, GL_PERM_ACCOUNT },
};

const gl_resource_t gl_resource_auth = { "auth", routes, GL_NELEM(routes) };
