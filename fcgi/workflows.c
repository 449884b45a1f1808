/*
 * workflows.c: /api/workflows — create, get, list, rename and tag, save a
 * new version, duplicate, delete (soft, restorable; or permanently once in
 * the trash), restore, activate and deactivate.
 *
 * Every save appends an immutable version; a save names the version it was
 * based on (If-Match: "N", or base_version) and gets 409 with the current
 * workflow if another save came first. Row level security decides who sees
 * and edits what (sql/003_workflows.sql); these handlers turn "no row" into
 * 404, 403 or 409.
 */
#include "workflows.h"

#include "account.h"
#include "engine.h"
#include "log.h"
#include "workflow_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const gl_stmt_t q_insert = {
    .name = "wf_insert",
    .sql = "INSERT INTO workflows (org_id, name, tags, created_by) "
           "VALUES (current_org_id(), $1, ARRAY(SELECT jsonb_array_elements_text(coalesce($2::jsonb, '[]'))), "
           "current_user_id()) RETURNING id, org_id",
    .nparams = 2,
    .rows = true,
};

static const gl_stmt_t q_patch = {
    .name = "wf_patch",
    .sql = "UPDATE workflows SET name = coalesce($2, name), "
           "tags = CASE WHEN $3::jsonb IS NULL THEN tags ELSE ARRAY(SELECT jsonb_array_elements_text($3::jsonb)) END, "
           "updated_at = now() WHERE id = $1 AND deleted_at IS NULL RETURNING id",
    .nparams = 3,
    .rows = true,
};

/* for duplicate */
static const gl_stmt_t q_current = {
    .name = "wf_current",
    .sql = "SELECT w.name, v.definition::text, to_json(w.tags)::text FROM workflows w "
           "CROSS JOIN LATERAL (SELECT v.definition FROM workflow_versions v "
           "WHERE v.workflow_id = w.id AND v.version = w.current_version OFFSET 0) v "
           "WHERE w.id = $1 AND w.deleted_at IS NULL",
    .nparams = 1,
    .rows = true,
};

/* Trash and deactivate update (and so lock) the row first; the triggers
 * are removed by a following statement, which sees anything a concurrent
 * activation committed before the lock was ours. */
static const gl_stmt_t q_trash = {
    .name = "wf_trash",
    .sql = "UPDATE workflows SET deleted_at = now(), active = false, active_version = NULL "
           "WHERE id = $1 AND deleted_at IS NULL RETURNING id",
    .nparams = 1,
    .rows = true,
};

static const gl_stmt_t q_purge = {
    .name = "wf_purge",
    .sql = "DELETE FROM workflows WHERE id = $1 AND deleted_at IS NOT NULL RETURNING id",
    .nparams = 1,
    .rows = true,
};

static const gl_stmt_t q_restore = {
    .name = "wf_restore",
    .sql = "UPDATE workflows SET deleted_at = NULL, updated_at = now() WHERE id = $1 AND deleted_at IS NOT NULL RETURNING id",
    .nparams = 1,
    .rows = true,
};

static const gl_stmt_t q_activate = {
    .name = "wf_activate",
    .sql = "UPDATE workflows SET active = true, active_version = current_version, updated_at = now() "
           "WHERE id = $1 AND deleted_at IS NULL RETURNING current_version",
    .nparams = 1,
    .rows = true,
};

static const gl_stmt_t q_deactivate = {
    .name = "wf_deactivate",
    .sql = "UPDATE workflows SET active = false, active_version = NULL, updated_at = now() "
           "WHERE id = $1 AND deleted_at IS NULL RETURNING id",
    .nparams = 1,
    .rows = true,
};

static const gl_stmt_t q_unsync = {
    .name = "wf_unsync",
    .sql = "SELECT wf_sync_triggers($1, NULL)",
    .nparams = 1,
    .rows = true,
};

/* Lists: one statement per sort order (no SQL is built from input). The
 * cursor is the id of the last item of the previous page. */
#define LIST_FILTER                                                                              \
    "w.org_id = current_org_id() AND (CASE WHEN $5 THEN w.deleted_at IS NOT NULL ELSE w.deleted_at IS NULL END) " \
    "AND ($1::text IS NULL OR strpos(lower(w.name), lower($1)) > 0) "                          \
    "AND ($2::text IS NULL OR $2 = ANY (w.tags)) AND ($3::boolean IS NULL OR w.active = $3) "
#define LIST_ITEM                                                                                \
    "json_build_object('id', t.id, 'name', t.name, 'tags', t.tags, 'active', t.active, "        \
    "'version', t.current_version, 'created_by', t.created_by, 'created_at', t.created_at, "    \
    "'updated_at', t.updated_at, 'deleted_at', t.deleted_at)"
#define LIST_STMT(key, cmp, order)                                                               \
    "SELECT json_build_object('items', coalesce(json_agg(" LIST_ITEM " ORDER BY " order "), '[]'), " \
    "'next_cursor', CASE WHEN count(*) = $6 THEN (array_agg(t.id ORDER BY " order "))[$6] END) "  \
    "FROM (SELECT w.* FROM workflows w WHERE " LIST_FILTER                                      \
    "AND ($4::uuid IS NULL OR (" key ") " cmp " (SELECT " key " FROM workflows w WHERE w.id = $4)) " \
    "ORDER BY " order " LIMIT $6) t"

static const gl_stmt_t q_list_updated = {
    .name = "wf_list_updated",
    .sql = LIST_STMT("w.updated_at, w.id", "<", "updated_at DESC, id DESC"),
    .nparams = 6,
    .rows = true,
    .readonly = true,
};
static const gl_stmt_t q_list_created = {
    .name = "wf_list_created",
    .sql = LIST_STMT("w.created_at, w.id", "<", "created_at DESC, id DESC"),
    .nparams = 6,
    .rows = true,
    .readonly = true,
};
static const gl_stmt_t q_list_name = {
    .name = "wf_list_name",
    .sql = LIST_STMT("lower(w.name), w.id", ">", "lower(name), id"),
    .nparams = 6,
    .rows = true,
    .readonly = true,
};

/* The :id of the route, or NULL with a 404 set. */
static const char *wf_id(gl_req_t *req)
{
    const char *id = gl_req_param(req, "id");
    if (!gl_is_uuid(id)) {
        gl_resp_error(req, 404, "not_found", NULL, "no such workflow");
        return NULL;
    }
    return id;
}

static bool one_row(gl_req_t *req, const gl_stmt_t *stmt, const char *const *params, PGresult **res)
{
    gl_err_t err;
    gl_err_clear(&err);
    int rc = gl_db_query(req->db, stmt, params, req->arena, res, &err);
    if (rc != GL_OK) {
        gl_resp_fail(req, rc, &err);
        return false;
    }
    return true;
}

/* Creates a workflow with its version 1; used by create, duplicate, import. */
int gl_wf_create(gl_req_t *req, const char *name, const char *tags_json, const char *definition,
                 const char *message, char id_out[GL_UUID_LEN + 1])
{
    const char *params[] = { name, tags_json };
    PGresult *res = NULL;
    if (!one_row(req, &q_insert, params, &res))
        return GL_ERR;
    snprintf(id_out, GL_UUID_LEN + 1, "%s", PQgetvalue(res, 0, 0));
    const char *org = PQgetvalue(res, 0, 1);
    return gl_wf_append_version(req, id_out, "1", org, definition, message, NULL, false);
}

static const char *optional_message(gl_req_t *req)
{
    const char *m = gl_account_string(req, req->json, "message", 0, 500, false);
    return m;
}

static void wf_post(gl_req_t *req)
{
    static const char *const allowed[] = { "name", "definition", "tags", "message", NULL };
    if (!gl_account_fields(req, allowed))
        return;
    const char *name = gl_account_string(req, req->json, "name", 1, 200, true);
    if (!name)
        return;
    json_object *tags = json_object_object_get(req->json, "tags");
    const char *tags_json = NULL;
    if (tags && !(tags_json = gl_wf_tags(req, tags)))
        return;
    const char *message = optional_message(req);
    if (!message && req->status)
        return;
    const char *def = NULL;
    if (gl_wf_definition(req, json_object_object_get(req->json, "definition"), &def) != GL_OK)
        return;
    char id[GL_UUID_LEN + 1];
    if (gl_wf_create(req, name, tags_json, def, message, id) != GL_OK)
        return;
    if (gl_audit(req, NULL, "workflow.create", "workflow", id, NULL) != GL_OK)
        return;
    char loc[80];
    snprintf(loc, sizeof loc, "/api/workflows/%s", id);
    if (gl_wf_send(req, 201, id) == GL_OK)
        gl_resp_header(req, "Location", loc);
}

static void wf_get(gl_req_t *req)
{
    const char *id = wf_id(req);
    if (id)
        gl_wf_send(req, 200, id);
}

/* The list's statement and parameters from the query string (kept in the
 * arena); false when it is invalid, answered 400 when answer is set. */
static bool wf_list_query(gl_req_t *req, bool answer, gl_ahead_t *a)
{
    const char *q = gl_req_query(req, "q");
    const char *tag = gl_req_query(req, "tag");
    const char *active = gl_req_query(req, "active");
    const char *deleted = gl_req_query(req, "deleted");
    const char *sort = gl_req_query(req, "sort");
    const char *cursor = gl_req_query(req, "cursor");
    const char *limit = gl_req_query(req, "limit");
    const char *field = NULL, *why = NULL;
    int64_t n = 50;
    a->stmt = &q_list_updated;
    if (limit && gl_parse_i64(limit, 1, 200, &n) != GL_OK)
        field = "limit", why = "limit must be an integer from 1 to 200";
    else if ((active && strcmp(active, "true") && strcmp(active, "false")) ||
             (deleted && strcmp(deleted, "true") && strcmp(deleted, "false")))
        field = active ? "active" : "deleted", why = "use true or false";
    else if (cursor && !gl_is_uuid(cursor))
        field = "cursor", why = "cursor must be the next_cursor of a previous page";
    else if ((q && strlen(q) > 200) || (tag && strlen(tag) > 50))
        field = q && strlen(q) > 200 ? "q" : "tag", why = "search text too long";
    else if (sort && strcmp(sort, "name") == 0)
        a->stmt = &q_list_name;
    else if (sort && strcmp(sort, "created") == 0)
        a->stmt = &q_list_created;
    else if (sort && strcmp(sort, "updated") != 0)
        field = "sort", why = "sort is one of updated, created, name";
    if (field) {
        if (answer)
            gl_resp_error(req, 400, "invalid", field, "%s", why);
        return false;
    }
    a->params[0] = q && *q ? q : NULL;
    a->params[1] = tag && *tag ? tag : NULL;
    a->params[2] = active;
    a->params[3] = cursor;
    a->params[4] = deleted && strcmp(deleted, "true") == 0 ? "true" : "false";
    a->params[5] = gl_arena_printf(req->arena, "%lld", (long long)n);
    return true;
}

static bool wf_list_ahead(gl_req_t *req, gl_ahead_t *a)
{
    return wf_list_query(req, false, a);
}

static void wf_list(gl_req_t *req)
{
    gl_ahead_t a;
    memset(&a, 0, sizeof a);
    if (wf_list_query(req, true, &a))
        gl_resp_query_json(req, 200, a.stmt, a.params, "no workflows");
}

static void wf_patch(gl_req_t *req)
{
    static const char *const allowed[] = { "name", "tags", NULL };
    const char *id = wf_id(req);
    if (!id || !gl_account_fields(req, allowed))
        return;
    const char *name = gl_account_string(req, req->json, "name", 1, 200, false);
    if (!name && req->status)
        return;
    json_object *tags = json_object_object_get(req->json, "tags");
    const char *tags_json = NULL;
    if (tags && !(tags_json = gl_wf_tags(req, tags)))
        return;
    const char *params[] = { id, name, tags_json };
    PGresult *res = NULL;
    if (!one_row(req, &q_patch, params, &res))
        return;
    if (PQntuples(res) == 0) {
        gl_wf_explain_miss(req, id, NULL);
        return;
    }
    gl_wf_send(req, 200, id);
}

/* PUT /api/workflows/:id — save a new version. */
static void wf_put(gl_req_t *req)
{
    static const char *const allowed[] = { "definition", "message", "base_version", NULL };
    const char *id = wf_id(req);
    if (!id || !gl_account_fields(req, allowed))
        return;
    const char *base = gl_wf_base_version(req, true);
    if (!base)
        return;
    const char *message = optional_message(req);
    if (!message && req->status)
        return;
    json_object *def = json_object_object_get(req->json, "definition");
    const char *text = NULL;
    gl_wf_version_t v;
    if (gl_wf_definition(req, def, &text) != GL_OK || gl_wf_version_fields(req, def, text, &v) != GL_OK)
        return;
    gl_wf_save(req, id, base, &v, message);
}

/* The definition of a copy (arena text): the original's without the
 * values it had generated (a webhook's path), so the copy gets its own when
 * it is saved; values set by hand are copied. NULL with an error response
 * set on failure. */
static const char *copy_definition(gl_req_t *req, const char *text, size_t len)
{
    gl_err_t err;
    gl_err_clear(&err);
    json_object *def = NULL;
    if (gl_json_parse(text, len, 1000, &def, &err) != GL_OK) {
        gl_log(GL_LOG_ERROR, "duplicate: the stored definition does not parse: %s", err.msg);
        gl_resp_error(req, 500, "internal", NULL, "the stored definition cannot be read");
        return NULL;
    }
    gl_engine_strip_generated(def);
    const char *copy = gl_arena_strdup(req->arena, json_object_to_json_string_ext(def, JSON_C_TO_STRING_PLAIN));
    json_object_put(def);
    return copy;
}

static void wf_duplicate(gl_req_t *req)
{
    static const char *const allowed[] = { "name", NULL };
    const char *id = wf_id(req);
    if (!id || (req->json && !gl_account_fields(req, allowed)))
        return;
    const char *name = req->json ? gl_account_string(req, req->json, "name", 1, 200, false) : NULL;
    if (!name && req->status)
        return;
    const char *params[] = { id };
    PGresult *res = NULL;
    if (!one_row(req, &q_current, params, &res))
        return;
    if (PQntuples(res) == 0) {
        gl_resp_error(req, 404, "not_found", NULL, "no such workflow");
        return;
    }
    if (!name)
        name = gl_arena_printf(req->arena, "%s (copy)", gl_account_clean_text(req, PQgetvalue(res, 0, 0), 190));
    const char *tags_json = PQgetvalue(res, 0, 2);
    const char *def = copy_definition(req, PQgetvalue(res, 0, 1), (size_t)PQgetlength(res, 0, 1));
    if (!def)
        return;
    char new_id[GL_UUID_LEN + 1];
    if (gl_wf_create(req, name, tags_json, def, "duplicated", new_id) != GL_OK)
        return;
    if (gl_audit(req, NULL, "workflow.duplicate", "workflow", new_id, NULL) != GL_OK)
        return;
    gl_wf_send(req, 201, new_id);
}

static void wf_delete(gl_req_t *req)
{
    const char *id = wf_id(req);
    if (!id)
        return;
    const char *permanent = gl_req_query(req, "permanent");
    bool purge = permanent && strcmp(permanent, "true") == 0;
    const char *params[] = { id };
    PGresult *res = NULL;
    if (!one_row(req, purge ? &q_purge : &q_trash, params, &res))
        return;
    if (PQntuples(res) == 0) {
        if (purge) {
            gl_wf_explain_purge_miss(req, id);
            return;
        }
        gl_wf_explain_miss(req, id, NULL);
        return;
    }
    PGresult *un = NULL;
    if (!purge && !one_row(req, &q_unsync, params, &un))
        return;
    if (gl_audit(req, NULL, purge ? "workflow.purge" : "workflow.delete", "workflow", id, NULL) != GL_OK)
        return;
    gl_resp_json(req, 204, "", 0);
}

static void wf_restore(gl_req_t *req)
{
    const char *id = wf_id(req);
    if (!id)
        return;
    const char *params[] = { id };
    PGresult *res = NULL;
    if (!one_row(req, &q_restore, params, &res))
        return;
    if (PQntuples(res) == 0) {
        gl_resp_error(req, 404, "not_found", NULL, "no such workflow in the trash");
        return;
    }
    if (gl_audit(req, NULL, "workflow.restore", "workflow", id, NULL) != GL_OK)
        return;
    gl_wf_send(req, 200, id);
}

static void wf_activate(gl_req_t *req)
{
    const char *id = wf_id(req);
    if (!id)
        return;
    const char *params[] = { id };
    PGresult *res = NULL;
    if (!one_row(req, &q_activate, params, &res))
        return;
    if (PQntuples(res) == 0) {
        gl_wf_explain_miss(req, id, NULL);
        return;
    }
    if (gl_wf_sync_triggers(req, id, PQgetvalue(res, 0, 0), true) != GL_OK)
        return;
    if (gl_audit(req, NULL, "workflow.activate", "workflow", id, NULL) != GL_OK)
        return;
    gl_wf_send(req, 200, id);
}

static void wf_deactivate(gl_req_t *req)
{
    const char *id = wf_id(req);
    if (!id)
        return;
    const char *params[] = { id };
    PGresult *res = NULL;
    if (!one_row(req, &q_deactivate, params, &res))
        return;
    if (PQntuples(res) == 0) {
        gl_wf_explain_miss(req, id, NULL);
        return;
    }
    PGresult *un = NULL;
    if (!one_row(req, &q_unsync, params, &un))
        return;
    if (gl_audit(req, NULL, "workflow.deactivate", "workflow", id, NULL) != GL_OK)
        return;
    gl_wf_send(req, 200, id);
}

static const gl_route_t routes[] = {
    { "GET", "/api/workflows", wf_list, GL_PERM_WORKFLOW_READ, wf_list_ahead },
    { "POST", "/api/workflows", wf_post, GL_PERM_WORKFLOW_WRITE, NULL },
    { "GET", "/api/workflows/:id", wf_get, GL_PERM_WORKFLOW_READ, gl_wf_get_ahead },
    { "PUT", "/api/workflows/:id", wf_put, GL_PERM_WORKFLOW_WRITE, NULL },
    { "PATCH", "/api/workflows/:id", wf_patch, GL_PERM_WORKFLOW_WRITE, NULL },
    { "DELETE", "/api/workflows/:id", wf_delete, GL_PERM_WORKFLOW_WRITE, NULL },
    { "POST", "/api/workflows/:id/duplicate", wf_duplicate, GL_PERM_WORKFLOW_WRITE, NULL },
    { "POST", "/api/workflows/:id/restore", wf_restore, GL_PERM_WORKFLOW_WRITE, NULL },
    { "POST", "/api/workflows/:id/activate", wf_activate, GL_PERM_WORKFLOW_WRITE, NULL },
    { "POST", "/api/workflows/:id/deactivate", wf_deactivate, GL_PERM_WORKFLOW_WRITE, NULL },
};

const gl_resource_t gl_resource_workflows = { "workflows", routes, GL_NELEM(routes) };
