/*
 * auth.c: sign-up, log-in, log-out (/api/auth/…).
 *
 * Passwords are hashed with scrypt (libscrypt MCF strings) before the
 * database sees anything; the session token travels only in the cookie and
 * is stored as its SHA-256. The database never hands out a stored hash:
 * a log-in asks for the hash's cost and salt (login_settings), computes the
 * typed password's hash with them, and the database compares
 * (login) and starts the session itself. Failed log-ins are counted per
 * account and per client address (login_attempts, with the database's own
 * limits); past the limit the answer is 429 with Retry-After, whatever the
 * password. A log-in for an unknown email costs the same scrypt work as one
 * for a known email (the database answers with decoy settings).
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
    .sql = "SELECT user_id, org_id, role, session_id FROM signup($1, $2, $3, $4, $5, $6::inet, $7, $8, $9)",
    .nparams = 9,
    .rows = true,
};

/* Step one of a log-in: the stored hash's cost and salt (a decoy for an
 * unknown email), or the seconds to wait past the limits. */
static const gl_stmt_t q_settings = {
    .name = "auth_settings",
    .sql = "SELECT settings, retry_after FROM login_settings($1, $2::inet)",
    .nparams = 2,
    .rows = true,
};

/* Step two: the database compares the typed password's hash with the
 * stored one, records the attempt and, on success, starts the session. */
static const gl_stmt_t q_login = {
    .name = "auth_login",
    .sql = "SELECT retry_after, user_id, session_id FROM login($1, $2::inet, $3, $4, $5, $6)",
    .nparams = 6,
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

/* A new session token: its hash goes to the database (which starts the
 * session only after it verified the user), the token to the cookie. */
typedef struct {
    char token[GL_TOKEN_LEN + 1];
    char hash[GL_HASH_PARAM_LEN];
    char lifetime[16];
    const char *user_agent;
} new_session_t;

static void new_session(gl_req_t *req, new_session_t *ns)
{
    gl_token_new(ns->token);
    gl_hash_param(ns->token, strlen(ns->token), ns->hash);
    snprintf(ns->lifetime, sizeof ns->lifetime, "%d", req->cfg->auth_session_lifetime);
    const char *ua = gl_req_env(req, "HTTP_USER_AGENT");
    ns->user_agent = gl_account_clean_text(req, ua ? ua : "", 255);
}

/* The session started (the database set the request context to the user):
 * sets the cookie, answers with the user and the CSRF token. Wipes the
 * token. */
static void session_started(gl_req_t *req, new_session_t *ns, const char *user_id, int status)
{
    char csrf[GL_TOKEN_LEN + 1];
    gl_csrf_token(ns->token, csrf);
    gl_err_t err;
    gl_err_clear(&err);
    const char *p2[] = { user_id };
    PGresult *res = NULL;
    int rc = gl_db_query(req->db, &q_me_after_login, p2, req->arena, &res, &err);
    if (rc != GL_OK || PQntuples(res) != 1) {
        gl_resp_fail(req, rc == GL_OK ? GL_NOTFOUND : rc, &err);
        sodium_memzero(ns->token, sizeof ns->token);
        return;
    }
    const char *json = PQgetvalue(res, 0, 0);
    char *body = gl_arena_printf(req->arena, "%.*s, \"csrf_token\" : \"%s\"}",
                                 PQgetlength(res, 0, 0) - 1, json, csrf);
    gl_resp_json(req, status, body, strlen(body));
    gl_session_cookie(req, ns->token, req->cfg->auth_session_lifetime);
    sodium_memzero(ns->token, sizeof ns->token);
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
    new_session_t ns;
    new_session(req, &ns);
    const char *params[] = { email, name, mcf, org_name, invitation ? inv_hash : NULL, req->client_ip,
                             ns.hash, ns.lifetime, ns.user_agent };
    gl_err_t err;
    gl_err_clear(&err);
    PGresult *res = NULL;
    int rc = gl_db_query(req->db, &q_signup, params, req->arena, &res, &err);
    if (rc != GL_OK)
        sodium_memzero(ns.token, sizeof ns.token);
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
    session_started(req, &ns, PQgetvalue(res, 0, 0), 201);
}

/* Past the log-in limits (wait is the seconds to wait, "0" when not):
 * answers 429 with Retry-After and returns true. */
static bool too_many(gl_req_t *req, const char *wait)
{
    if (!wait || !*wait || strcmp(wait, "0") == 0)
        return false;
    gl_resp_header(req, "Retry-After", wait);
    gl_resp_error(req, 429, "too_many_attempts", NULL, "too many failed sign-ins; try again in %s seconds", wait);
    gl_log(GL_LOG_WARN, "log-in refused: too many failures (client %s)", req->client_ip ? req->client_ip : "?");
    return true;
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
    const char *ps[] = { email, req->client_ip };
    int rc = gl_db_query(req->db, &q_settings, ps, req->arena, &res, &err);
    if (rc != GL_OK) {
        gl_resp_fail(req, rc, &err);
        return;
    }
    if (too_many(req, PQgetvalue(res, 0, 1)))
        return;
    /* the same scrypt work whether or not the account exists: an unknown
     * email gets decoy settings */
    char candidate[GL_MCF_LEN];
    if (gl_password_derive(PQgetvalue(res, 0, 0), password, candidate) != GL_OK) {
        gl_resp_error(req, 500, "internal", NULL, "password hashing failed");
        return;
    }
    new_session_t ns;
    new_session(req, &ns);
    const char *pl[] = { email, req->client_ip, candidate, ns.hash, ns.lifetime, ns.user_agent };
    rc = gl_db_query(req->db, &q_login, pl, req->arena, &res, &err);
    sodium_memzero(candidate, sizeof candidate);
    if (rc != GL_OK) {
        sodium_memzero(ns.token, sizeof ns.token);
        gl_resp_fail(req, rc, &err);
        return;
    }
    if (too_many(req, PQgetvalue(res, 0, 0))) {
        sodium_memzero(ns.token, sizeof ns.token);
        return;
    }
    if (PQgetisnull(res, 0, 1)) {
        sodium_memzero(ns.token, sizeof ns.token);
        req->commit_on_error = true; /* the failure must be counted */
        gl_resp_error(req, 401, "invalid_credentials", NULL, "wrong email or password");
        return;
    }
    session_started(req, &ns, PQgetvalue(res, 0, 1), 200);
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
    { "POST", "/api/auth/signup", signup_post, GL_PERM_ANON_TX, NULL },
    { "POST", "/api/auth/login", login_post, GL_PERM_ANON_TX, NULL },
    { "POST", "/api/auth/logout", logout_post, GL_PERM_ACCOUNT, NULL },
};

const gl_resource_t gl_resource_auth = { "auth", routes, GL_NELEM(routes) };
