/*
 * orgs.c: organizations and their members (/api/orgs…).
 *
 * The org a request works in comes from the path (:org); a caller who is
 * not a member gets 404, as for any object of another tenant. Membership
 * rules beyond the permission matrix: only an owner may grant the owner
 * role or change or remove an owner, and an org always keeps one owner —
 * the last owner can neither leave nor be demoted or removed (409).
 */
#include "orgs.h"

#include "account.h"
#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const gl_stmt_t q_list = {
    .name = "orgs_list",
    .sql = "SELECT coalesce(json_agg(json_build_object('id', o.id, 'name', o.name, 'role', m.role,"
           " 'created_at', o.created_at, 'active', o.id = current_org_id()) ORDER BY m.created_at), '[]') "
           "FROM memberships m JOIN orgs o ON o.id = m.org_id WHERE m.user_id = current_user_id()",
    .nparams = 0,
    .rows = true,
};

static const gl_stmt_t q_create = {
    .name = "orgs_create",
    .sql = "SELECT create_org($1, $2::inet)",
    .nparams = 2,
    .rows = true,
};

static const gl_stmt_t q_get = {
    .name = "orgs_get",
    .sql = "SELECT json_build_object('id', o.id, 'name', o.name, 'created_at', o.created_at, 'role', $2::text,"
           " 'members', (SELECT count(*) FROM memberships m WHERE m.org_id = o.id)) FROM orgs o WHERE o.id = $1",
    .nparams = 2,
    .rows = true,
};

static const gl_stmt_t q_rename = {
    .name = "orgs_rename",
    .sql = "UPDATE orgs SET name = $2 WHERE id = $1 "
           "RETURNING json_build_object('id', id, 'name', name, 'created_at', created_at)",
    .nparams = 2,
    .rows = true,
};

static const gl_stmt_t q_switch = {
    .name = "orgs_switch",
    .sql = "UPDATE users SET active_org_id = $1 WHERE id = current_user_id() "
           "RETURNING json_build_object('org_id', active_org_id)",
    .nparams = 1,
    .rows = true,
};

static const gl_stmt_t q_members = {
    .name = "orgs_members",
    .sql = "SELECT coalesce(json_agg(json_build_object('user_id', u.id, 'email', u.email, 'name', u.name,"
           " 'role', m.role, 'joined_at', m.created_at) ORDER BY m.created_at), '[]') "
           "FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.org_id = $1",
    .nparams = 1,
    .rows = true,
};

/* The target's role and the number of owners, locked against concurrent
 * changes so two admins cannot each remove "the other" last owner. */
static const gl_stmt_t q_member_lock = {
    .name = "orgs_member_lock",
    .sql = "SELECT m.role, (SELECT count(*) FROM memberships o WHERE o.org_id = $1 AND o.role = 'owner') "
           "FROM memberships m WHERE m.org_id = $1 AND m.user_id = $2 FOR UPDATE",
    .nparams = 2,
    .rows = true,
};

static const gl_stmt_t q_lock_org = {
    .name = "orgs_lock",
    .sql = "SELECT 1 FROM orgs WHERE id = $1 FOR UPDATE",
    .nparams = 1,
    .rows = true,
};

static const gl_stmt_t q_member_role = {
    .name = "orgs_member_role",
    .sql = "UPDATE memberships SET role = $3 WHERE org_id = $1 AND user_id = $2 "
           "RETURNING json_build_object('user_id', user_id, 'role', role)",
    .nparams = 3,
    .rows = true,
};

/* Leaving (or being removed) also ends what the member left behind: their
 * API keys in the org are revoked, their pending invitations and the
 * workflow shares they received dropped
 * (data-modifying WITH clauses always run to completion). */
static const gl_stmt_t q_member_delete = {
    .name = "orgs_member_delete",
    .sql = "WITH k AS (UPDATE api_keys SET revoked_at = now() "
           "           WHERE org_id = $1 AND user_id = $2 AND revoked_at IS NULL RETURNING 1), "
           "i AS (DELETE FROM invitations WHERE org_id = $1 AND invited_by = $2 AND accepted_at IS NULL RETURNING 1), "
           "s AS (DELETE FROM workflow_shares WHERE org_id = $1 AND user_id = $2 RETURNING 1) "
           "DELETE FROM memberships WHERE org_id = $1 AND user_id = $2",
    .nparams = 2,
    .rows = false,
};

/* A demoted admin's pending invitations go too. */
static const gl_stmt_t q_drop_invites = {
    .name = "orgs_drop_invites",
    .sql = "DELETE FROM invitations WHERE org_id = $1 AND invited_by = $2 AND accepted_at IS NULL",
    .nparams = 2,
    .rows = false,
};

static void orgs_get(gl_req_t *req)
{
    gl_resp_query_json(req, 200, &q_list, NULL, "no orgs");
}

static void orgs_post(gl_req_t *req)
{
    static const char *const allowed[] = { "name", NULL };
    if (!gl_account_fields(req, allowed))
        return;
    const char *name = gl_account_string(req, req->json, "name", 1, GL_NAME_MAX, true);
    if (!name)
        return;
    const char *params[] = { name, req->client_ip };
    gl_resp_query_json(req, 201, &q_create, params, "org not created");
}

static void org_get(gl_req_t *req)
{
    const char *params[] = { req->auth.org_id, gl_role_name((gl_role_t)req->auth.role) };
    gl_resp_query_json(req, 200, &q_get, params, "no such org");
}

static void org_patch(gl_req_t *req)
{
    static const char *const allowed[] = { "name", NULL };
    if (!gl_account_fields(req, allowed))
        return;
    const char *name = gl_account_string(req, req->json, "name", 1, GL_NAME_MAX, true);
    if (!name)
        return;
    const char *params[] = { req->auth.org_id, name };
    if (gl_resp_query_json(req, 200, &q_rename, params, "no such org") != GL_OK)
        return;
    char *details = gl_arena_printf(req->arena, "{\"name\":%s}",
                                    json_object_to_json_string(json_object_object_get(req->json, "name")));
    if (gl_audit(req, NULL, "org.rename", "org", req->auth.org_id, details) != GL_OK)
        return;
}

static void org_switch(gl_req_t *req)
{
    if (req->auth.via_key) {
        gl_resp_error(req, 403, "forbidden", NULL, "an API key is bound to its org");
        return;
    }
    const char *params[] = { req->auth.org_id };
    gl_resp_query_json(req, 200, &q_switch, params, "no such user");
}

static void members_get(gl_req_t *req)
{
    const char *params[] = { req->auth.org_id };
    gl_resp_query_json(req, 200, &q_members, params, "no such org");
}

/* Locks the org and reads the target member: its role (GL_ROLE_NONE if not
 * a member, with a 404 set) and the number of owners. */
static gl_role_t lock_member(gl_req_t *req, const char *user_id, long *owners)
{
    gl_err_t err;
    gl_err_clear(&err);
    PGresult *res = NULL;
    const char *po[] = { req->auth.org_id };
    int rc = gl_db_query(req->db, &q_lock_org, po, req->arena, &res, &err);
    if (rc == GL_OK) {
        const char *params[] = { req->auth.org_id, user_id };
        rc = gl_db_query(req->db, &q_member_lock, params, req->arena, &res, &err);
    }
    if (rc != GL_OK) {
        gl_resp_fail(req, rc, &err);
        return GL_ROLE_NONE;
    }
    if (PQntuples(res) != 1) {
        gl_resp_error(req, 404, "not_found", NULL, "no such member");
        return GL_ROLE_NONE;
    }
    *owners = (long)gl_db_int(res, 0, 1);
    return gl_role_parse(PQgetvalue(res, 0, 0));
}

static void member_patch(gl_req_t *req)
{
    static const char *const allowed[] = { "role", NULL };
    if (!gl_account_fields(req, allowed))
        return;
    const char *role_text = gl_account_string(req, req->json, "role", 1, 16, true);
    if (!role_text)
        return;
    gl_role_t role = gl_role_parse(role_text);
    if (role == GL_ROLE_NONE) {
        gl_resp_error(req, 400, "invalid", "role", "field 'role': one of owner, admin, editor, viewer");
        return;
    }
    const char *user_id = gl_req_param(req, "user");
    if (!gl_is_uuid(user_id)) {
        gl_resp_error(req, 404, "not_found", NULL, "no such member");
        return;
    }
    long owners = 0;
    gl_role_t current = lock_member(req, user_id, &owners);
    if (current == GL_ROLE_NONE)
        return;
    if ((role == GL_ROLE_OWNER || current == GL_ROLE_OWNER) && req->auth.role < GL_ROLE_OWNER) {
        gl_resp_error(req, 403, "forbidden", "role", "only an owner may grant or change the owner role");
        return;
    }
    if (current == GL_ROLE_OWNER && role != GL_ROLE_OWNER && owners <= 1) {
        gl_resp_error(req, 409, "last_owner", "role", "an org needs at least one owner; make another member owner first");
        return;
    }
    const char *params[] = { req->auth.org_id, user_id, gl_role_name(role) };
    if (role < GL_ROLE_ADMIN && current >= GL_ROLE_ADMIN) {
        gl_err_t err;
        gl_err_clear(&err);
        const char *pd[] = { req->auth.org_id, user_id };
        int rc = gl_db_query(req->db, &q_drop_invites, pd, NULL, NULL, &err);
        if (rc != GL_OK) {
            gl_resp_fail(req, rc, &err);
            return;
        }
    }
    if (gl_resp_query_json(req, 200, &q_member_role, params, "no such member") != GL_OK)
        return;
    char details[96];
    snprintf(details, sizeof details, "{\"from\":\"%s\",\"to\":\"%s\"}", gl_role_name(current), gl_role_name(role));
    if (gl_audit(req, NULL, "member.role", "user", user_id, details) != GL_OK)
        return;
}

static void member_delete(gl_req_t *req)
{
    const char *user_id = gl_req_param(req, "user");
    if (!gl_is_uuid(user_id)) {
        gl_resp_error(req, 404, "not_found", NULL, "no such member");
        return;
    }
    bool self = strcasecmp(user_id, req->auth.user_id) == 0;
    if (self && req->auth.via_key) {
        gl_resp_error(req, 403, "forbidden", NULL, "leave an org from a browser session, not with an API key");
        return;
    }
    if (!self && req->auth.role < GL_ROLE_ADMIN) {
        gl_resp_error(req, 403, "forbidden", NULL, "only admins and owners may remove members");
        return;
    }
    if (!self && req->auth.via_key && !(req->auth.scopes & GL_SCOPE_ADMIN)) {
        gl_resp_error(req, 403, "insufficient_scope", NULL, "removing members needs the admin scope");
        return;
    }
    long owners = 0;
    gl_role_t current = lock_member(req, user_id, &owners);
    if (current == GL_ROLE_NONE)
        return;
    if (!self && current == GL_ROLE_OWNER && req->auth.role < GL_ROLE_OWNER) {
        gl_resp_error(req, 403, "forbidden", NULL, "only an owner may remove an owner");
        return;
    }
    if (current == GL_ROLE_OWNER && owners <= 1) {
        gl_resp_error(req, 409, "last_owner", NULL,
                      "the last owner cannot leave or be removed; make another member owner first");
        return;
    }
    /* audit first: once the caller has left, the org is no longer theirs */
    if (gl_audit(req, NULL, self ? "member.leave" : "member.remove", "user", user_id, NULL) != GL_OK)
        return;
    const char *params[] = { req->auth.org_id, user_id };
    gl_err_t err;
    gl_err_clear(&err);
    int rc = gl_db_query(req->db, &q_member_delete, params, NULL, NULL, &err);
    if (rc != GL_OK) {
        gl_resp_fail(req, rc, &err);
        return;
    }
    gl_resp_json(req, 204, "", 0);
}

static const gl_route_t routes[] = {
    { "GET", "/api/orgs", orgs_get, GL_PERM_SELF_READ, NULL },
    { "POST", "/api/orgs", orgs_post, GL_PERM_ACCOUNT, NULL },
    { "GET", "/api/orgs/:org", org_get, GL_PERM_ORG_READ, NULL },
    { "PATCH", "/api/orgs/:org", org_patch, GL_PERM_ORG_MANAGE, NULL },
    { "POST", "/api/orgs/:org/switch", org_switch, GL_PERM_ORG_READ, NULL },
    { "GET", "/api/orgs/:org/members", members_get, GL_PERM_ORG_READ, NULL },
    { "PATCH", "/api/orgs/:org/members/:user", member_patch, GL_PERM_ORG_MANAGE, NULL },
    { "DELETE", "/api/orgs/:org/members/:user", member_delete, GL_PERM_ORG_READ, NULL },
};

const gl_resource_t gl_resource_orgs = { "orgs", routes, GL_NELEM(routes) };
