/*
 * workflow_shares.c: /api/workflows/:id/shares — sharing a workflow with
 * another member of its org as viewer or editor. Org owners and admins see
 * every workflow anyway; the workflow's creator or an admin may share it.
 * An editor share lets an org editor change the workflow; an org viewer
 * stays read-only whatever the share says.
 */
#include "workflow_shares.h"

#include "account.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const gl_stmt_t q_list = {
    .name = "wfs_list",
    .sql = "SELECT CASE WHEN w.id IS NULL THEN NULL ELSE coalesce((SELECT json_agg(json_build_object('user_id', s.user_id,"
           " 'email', u.email, 'name', u.name, 'role', s.role, 'created_at', s.created_at) ORDER BY s.created_at)"
           " FROM workflow_shares s JOIN users u ON u.id = s.user_id WHERE s.workflow_id = w.id), '[]') END "
           "FROM (SELECT 1) one LEFT JOIN workflows w ON w.id = $1 AND w.deleted_at IS NULL",
    .nparams = 1,
    .rows = true,
};

/* May the caller share this workflow? NULL row: not visible. */
static const gl_stmt_t q_can_share = {
    .name = "wfs_can_share",
    .sql = "SELECT w.org_id, (w.org_id = ANY (my_admin_org_ids()) "
           "OR (w.created_by = current_user_id() AND w.org_id = ANY (my_editor_org_ids()))), "
           "w.created_by FROM workflows w WHERE w.id = $1 AND w.deleted_at IS NULL",
    .nparams = 1,
    .rows = true,
};

static const gl_stmt_t q_upsert = {
    .name = "wfs_upsert",
    .sql = "INSERT INTO workflow_shares (workflow_id, org_id, user_id, role) "
           "SELECT $1, $2, m.user_id, $4 FROM memberships m WHERE m.org_id = $2 AND m.user_id = $3 "
           "ON CONFLICT (workflow_id, user_id) DO UPDATE SET role = EXCLUDED.role "
           "RETURNING json_build_object('user_id', user_id, 'role', role)",
    .nparams = 4,
    .rows = true,
};

static const gl_stmt_t q_delete = {
    .name = "wfs_delete",
    .sql = "DELETE FROM workflow_shares WHERE workflow_id = $1 AND user_id = $2",
    .nparams = 2,
    .rows = false,
};

static void shares_get(gl_req_t *req)
{
    const char *id = gl_req_param(req, "id");
    if (!gl_is_uuid(id)) {
        gl_resp_error(req, 404, "not_found", NULL, "no such workflow");
        return;
    }
    const char *params[] = { id };
    gl_resp_query_json(req, 200, &q_list, params, "no such workflow");
}

/* Checks the caller may share :id; returns the org id, or NULL with the
 * error response set. */
static const char *may_share(gl_req_t *req, const char *id, const char *user)
{
    if (!gl_is_uuid(id)) {
        gl_resp_error(req, 404, "not_found", NULL, "no such workflow");
        return NULL;
    }
    if (!gl_is_uuid(user)) {
        gl_resp_error(req, 404, "not_found", NULL, "no such member");
        return NULL;
    }
    const char *params[] = { id };
    gl_err_t err;
    gl_err_clear(&err);
    PGresult *res = NULL;
    int rc = gl_db_query(req->db, &q_can_share, params, req->arena, &res, &err);
    if (rc != GL_OK) {
        gl_resp_fail(req, rc, &err);
        return NULL;
    }
    if (PQntuples(res) == 0) {
        gl_resp_error(req, 404, "not_found", NULL, "no such workflow");
        return NULL;
    }
    if (strcmp(PQgetvalue(res, 0, 1), "t") != 0) {
        gl_resp_error(req, 403, "forbidden", NULL, "only the workflow's creator or an org admin may share it");
        return NULL;
    }
    if (strcasecmp(PQgetvalue(res, 0, 2), user) == 0) {
        gl_resp_error(req, 400, "invalid", "user", "the creator already owns this workflow");
        return NULL;
    }
    return gl_arena_strdup(req->arena, PQgetvalue(res, 0, 0));
}

static void share_put(gl_req_t *req)
{
    static const char *const allowed[] = { "role", NULL };
    const char *id = gl_req_param(req, "id"), *user = gl_req_param(req, "user");
    if (!gl_account_fields(req, allowed))
        return;
    const char *role = gl_account_string(req, req->json, "role", 1, 16, true);
    if (!role)
        return;
    if (strcmp(role, "viewer") != 0 && strcmp(role, "editor") != 0) {
        gl_resp_error(req, 400, "invalid", "role", "field 'role': viewer or editor");
        return;
    }
    const char *org = may_share(req, id, user);
    if (!org)
        return;
    const char *params[] = { id, org, user, role };
    if (gl_resp_query_json(req, 200, &q_upsert, params, "no such member of this org") != GL_OK)
        return;
    char *details = gl_arena_printf(req->arena, "{\"user_id\":\"%s\",\"role\":\"%s\"}", user, role);
    if (gl_audit(req, org, "workflow.share", "workflow", id, details) != GL_OK)
        return;
}

static void share_delete(gl_req_t *req)
{
    const char *id = gl_req_param(req, "id"), *user = gl_req_param(req, "user");
    const char *org = may_share(req, id, user);
    if (!org)
        return;
    const char *params[] = { id, user };
    if (gl_resp_exec_one(req, &q_delete, params, "the workflow is not shared with this user") != GL_OK)
        return;
    char *details = gl_arena_printf(req->arena, "{\"user_id\":\"%s\"}", user);
    if (gl_audit(req, org, "workflow.unshare", "workflow", id, details) != GL_OK)
        return;
    gl_resp_json(req, 204, "", 0);
}

static const gl_route_t routes[] = {
    { "GET", "/api/workflows/:id/shares", shares_get, GL_PERM_WORKFLOW_READ, NULL },
    { "PUT", "/api/workflows/:id/shares/:user", share_put, GL_PERM_WORKFLOW_WRITE, NULL },
    { "DELETE", "/api/workflows/:id/shares/:user", share_delete, GL_PERM_WORKFLOW_WRITE, NULL },
};

const gl_resource_t gl_resource_workflow_shares = { "workflow_shares", routes, GL_NELEM(routes) };
