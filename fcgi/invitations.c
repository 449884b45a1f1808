/*
 * invitations.c: inviting people into an org. No mail server is needed:
 * creating an invitation returns its token (shown once; the database keeps
 * its SHA-256) and an accept link for the admin to pass on. The invitee
 * accepts by signing up with the token, or, already signed in with the
 * invited email, with POST /api/invitations/accept.
 */
#include "invitations.h"

#include "account.h"
#include "crypto.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

static const gl_stmt_t q_create = {
    .name = "inv_create",
    .sql = "INSERT INTO invitations (org_id, email, role, token_hash, invited_by, expires_at) "
           "VALUES (current_org_id(), $1, $2, $3, current_user_id(), now() + make_interval(secs => $4::int)) "
           "RETURNING json_build_object('id', id, 'email', email, 'role', role, 'expires_at', expires_at)::text, id",
    .nparams = 4,
    .rows = true,
};

static const gl_stmt_t q_list = {
    .name = "inv_list",
    .sql = "SELECT coalesce(json_agg(json_build_object('id', id, 'email', email, 'role', role,"
           " 'invited_by', invited_by, 'created_at', created_at, 'expires_at', expires_at) ORDER BY created_at DESC), '[]') "
           "FROM invitations WHERE org_id = current_org_id() AND accepted_at IS NULL AND expires_at > now()",
    .nparams = 0,
    .rows = true,
};

static const gl_stmt_t q_delete = {
    .name = "inv_delete",
    .sql = "DELETE FROM invitations WHERE id = $1 AND org_id = current_org_id() AND accepted_at IS NULL",
    .nparams = 1,
    .rows = false,
};

static const gl_stmt_t q_accept = {
    .name = "inv_accept",
    .sql = "SELECT json_build_object('org_id', a.org_id, 'role', a.role) "
           "FROM accept_invitation($1, $2::inet) a",
    .nparams = 2,
    .rows = true,
};

static void inv_post(gl_req_t *req)
{
    static const char *const allowed[] = { "email", "role", NULL };
    if (!gl_account_fields(req, allowed))
        return;
    const char *raw = gl_account_string(req, req->json, "email", 1, 1024, true);
    if (!raw)
        return;
    const char *email = gl_account_email(req, raw, "email");
    if (!email)
        return;
    const char *role_text = gl_account_string(req, req->json, "role", 1, 16, true);
    if (!role_text)
        return;
    gl_role_t role = gl_role_parse(role_text);
    if (role == GL_ROLE_NONE) {
        gl_resp_error(req, 400, "invalid", "role", "field 'role': one of owner, admin, editor, viewer");
        return;
    }
    if (role == GL_ROLE_OWNER && req->auth.role < GL_ROLE_OWNER) {
        gl_resp_error(req, 403, "forbidden", "role", "only an owner may invite an owner");
        return;
    }
    char token[GL_TOKEN_LEN + 1], hash[GL_HASH_PARAM_LEN], ttl[16];
    gl_token_new(token);
    gl_hash_param(token, strlen(token), hash);
    snprintf(ttl, sizeof ttl, "%d", req->cfg->auth_invite_ttl);
    const char *params[] = { email, gl_role_name(role), hash, ttl };
    gl_err_t err;
    gl_err_clear(&err);
    PGresult *res = NULL;
    int rc = gl_db_query(req->db, &q_create, params, req->arena, &res, &err);
    if (rc != GL_OK) {
        sodium_memzero(token, sizeof token);
        gl_resp_fail(req, rc, &err);
        return;
    }
    char details[300];
    snprintf(details, sizeof details, "{\"email\":\"%s\",\"role\":\"%s\"}", email, gl_role_name(role));
    if (gl_audit(req, NULL, "member.invite", "invitation", PQgetvalue(res, 0, 1), details) != GL_OK) {
        sodium_memzero(token, sizeof token);
        return;
    }
    const char *json = PQgetvalue(res, 0, 0);
    size_t len = (size_t)PQgetlength(res, 0, 0);
    char *body = gl_arena_printf(req->arena, "%.*s, \"token\" : \"%s\", \"accept_url\" : \"/invite#token=%s\"}",
                                 (int)(len - 1), json, token, token);
    sodium_memzero(token, sizeof token);
    gl_resp_json(req, 201, body, strlen(body));
    sodium_memzero(body, strlen(body));
}

static void inv_get(gl_req_t *req)
{
    gl_resp_query_json(req, 200, &q_list, NULL, "no invitations");
}

static void inv_delete(gl_req_t *req)
{
    const char *id = gl_req_param(req, "id");
    if (!gl_is_uuid(id)) {
        gl_resp_error(req, 404, "not_found", NULL, "no such invitation");
        return;
    }
    const char *params[] = { id };
    if (gl_resp_exec_one(req, &q_delete, params, "no such invitation") != GL_OK)
        return;
    if (gl_audit(req, NULL, "member.invite_revoke", "invitation", id, NULL) != GL_OK)
        return;
    gl_resp_json(req, 204, "", 0);
}

static void inv_accept(gl_req_t *req)
{
    static const char *const allowed[] = { "token", NULL };
    if (!gl_account_fields(req, allowed))
        return;
    const char *token = gl_account_string(req, req->json, "token", 1, 256, true);
    if (!token)
        return;
    char hash[GL_HASH_PARAM_LEN];
    gl_hash_param(token, strlen(token), hash);
    const char *params[] = { hash, req->client_ip };
    gl_err_t err;
    gl_err_clear(&err);
    PGresult *res = NULL;
    int rc = gl_db_query(req->db, &q_accept, params, req->arena, &res, &err);
    if (rc == GL_CONFLICT) {
        gl_resp_error(req, 409, "conflict", NULL, "you are already a member of this org");
        return;
    }
    if (rc != GL_OK && strcmp(err.sqlstate, "P0002") == 0) {
        gl_resp_error(req, 404, "not_found", "token", "invitation not found, expired, or for another email");
        return;
    }
    if (rc != GL_OK) {
        gl_resp_fail(req, rc, &err);
        return;
    }
    gl_resp_json(req, 200, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
}

static const gl_route_t routes[] = {
    { "POST", "/api/orgs/:org/invitations", inv_post, GL_PERM_ORG_MANAGE, NULL },
    { "GET", "/api/orgs/:org/invitations", inv_get, GL_PERM_ORG_MANAGE, NULL },
    { "DELETE", "/api/orgs/:org/invitations/:id", inv_delete, GL_PERM_ORG_MANAGE, NULL },
    { "POST", "/api/invitations/accept", inv_accept, GL_PERM_ACCOUNT, NULL },
};

const gl_resource_t gl_resource_invitations = { "invitations", routes, GL_NELEM(routes) };
