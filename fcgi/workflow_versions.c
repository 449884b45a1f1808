/*
 * workflow_versions.c: /api/workflows/:id/versions — the immutable history
 * of a workflow: list, get one, and restore one (a new version whose
 * definition equals the old one; the history is never rewritten).
 */
#include "workflow_versions.h"

#include "workflow_store.h"

#include <stdio.h>
#include <string.h>

/* Newest first, at most $2 from before version $3 (NULL: the newest). */
static const gl_stmt_t q_list = {
    .name = "wfv_list",
    .sql = "SELECT CASE WHEN EXISTS (SELECT 1 FROM workflows w WHERE w.id = $1) THEN "
           "coalesce((SELECT json_agg(json_build_object('version', v.version, 'author_id', v.author_id,"
           " 'message', v.message, 'restored_from', v.restored_from, 'created_at', v.created_at)"
           " ORDER BY v.version DESC) FROM (SELECT * FROM workflow_versions v WHERE v.workflow_id = $1"
           " AND ($3::int IS NULL OR v.version < $3::int) ORDER BY v.version DESC LIMIT $2) v), '[]') END",
    .nparams = 3,
    .rows = true,
};

static const gl_stmt_t q_get = {
    .name = "wfv_get",
    .sql = "SELECT json_build_object('workflow_id', v.workflow_id, 'version', v.version, 'author_id', v.author_id,"
           " 'message', v.message, 'restored_from', v.restored_from, 'created_at', v.created_at,"
           " 'definition', v.definition) FROM workflow_versions v WHERE v.workflow_id = $1 AND v.version = $2",
    .nparams = 2,
    .rows = true,
};

static const gl_stmt_t q_bump_any = {
    .name = "wfv_bump",
    .sql = "UPDATE workflows SET current_version = current_version + 1, updated_at = now() "
           "WHERE id = $1 AND deleted_at IS NULL AND ($2::int IS NULL OR current_version = $2::int) "
           "AND EXISTS (SELECT 1 FROM workflow_versions v WHERE v.workflow_id = $1 AND v.version = $3) "
           "RETURNING current_version, org_id, active, "
           "(SELECT v.definition::text FROM workflow_versions v WHERE v.workflow_id = $1 AND v.version = $3)",
    .nparams = 3,
    .rows = true,
};

static bool ids(gl_req_t *req, const char **id, const char **version)
{
    *id = gl_req_param(req, "id");
    *version = gl_req_param(req, "version");
    int64_t v;
    if (!gl_is_uuid(*id)) {
        gl_resp_error(req, 404, "not_found", NULL, "no such workflow");
        return false;
    }
    if (*version && gl_parse_i64(*version, 1, INT32_MAX, &v) != GL_OK) {
        gl_resp_error(req, 404, "not_found", NULL, "no such version");
        return false;
    }
    return true;
}

static void versions_get(gl_req_t *req)
{
    const char *id, *version;
    if (!ids(req, &id, &version))
        return;
    int64_t limit = 100, before = 0;
    const char *l = gl_req_query(req, "limit"), *b = gl_req_query(req, "before");
    if ((l && gl_parse_i64(l, 1, 500, &limit) != GL_OK) || (b && gl_parse_i64(b, 1, INT32_MAX, &before) != GL_OK)) {
        gl_resp_error(req, 400, "invalid", l ? "limit" : "before", "limit is 1-500, before a version number");
        return;
    }
    char lt[16], bt[16];
    snprintf(lt, sizeof lt, "%lld", (long long)limit);
    snprintf(bt, sizeof bt, "%lld", (long long)before);
    const char *params[] = { id, lt, b ? bt : NULL };
    gl_resp_query_json(req, 200, &q_list, params, "no such workflow");
}

static void version_get(gl_req_t *req)
{
    const char *id, *version;
    if (!ids(req, &id, &version))
        return;
    const char *params[] = { id, version };
    gl_resp_query_json(req, 200, &q_get, params, "no such version");
}

static void version_restore(gl_req_t *req)
{
    const char *id, *version;
    if (!ids(req, &id, &version))
        return;
    if (req->json && (!json_object_is_type(req->json, json_type_object) ||
                      json_object_object_length(req->json) > 1 ||
                      (json_object_object_length(req->json) == 1 &&
                       !json_object_object_get_ex(req->json, "base_version", NULL)))) {
        gl_resp_error(req, 400, "invalid", "body", "the body may only hold base_version");
        return;
    }
    const char *base = gl_wf_base_version(req, true);
    if (!base)
        return;
    const char *params[] = { id, base, version };
    gl_err_t err;
    gl_err_clear(&err);
    PGresult *res = NULL;
    int rc = gl_db_query(req->db, &q_bump_any, params, req->arena, &res, &err);
    if (rc != GL_OK) {
        gl_resp_fail(req, rc, &err);
        return;
    }
    if (PQntuples(res) == 0) {
        const char *pv[] = { id, version };
        PGresult *v = NULL;
        if (gl_db_query(req->db, &q_get, pv, req->arena, &v, &err) == GL_OK && PQntuples(v) == 0) {
            gl_resp_error(req, 404, "not_found", NULL, "no such version");
            return;
        }
        gl_wf_explain_miss(req, id, base);
        return;
    }
    /* the history may hold what today's validator refuses: check it again */
    json_object *def = NULL;
    const char *text = NULL;
    if (gl_json_parse(PQgetvalue(res, 0, 3), (size_t)PQgetlength(res, 0, 3), 1000, &def, &err) != GL_OK) {
        gl_resp_fail(req, GL_ERR, &err);
        return;
    }
    gl_json_own(req->arena, def);
    if (gl_wf_definition(req, def, &text) != GL_OK)
        return;
    char *message = gl_arena_printf(req->arena, "restored version %s", version);
    bool active = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
    if (gl_wf_append_version(req, id, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), text,
                             message, version, active) != GL_OK)
        return;
    gl_wf_send(req, 200, id);
}

static const gl_route_t routes[] = {
    { "GET", "/api/workflows/:id/versions", versions_get, GL_PERM_WORKFLOW_READ, NULL },
    { "GET", "/api/workflows/:id/versions/:version", version_get, GL_PERM_WORKFLOW_READ, NULL },
    { "POST", "/api/workflows/:id/versions/:version/restore", version_restore, GL_PERM_WORKFLOW_WRITE, NULL },
};

const gl_resource_t gl_resource_workflow_versions = { "workflow_versions", routes, GL_NELEM(routes) };
