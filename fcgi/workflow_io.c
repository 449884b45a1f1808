/*
 * workflow_io.c: export and import of workflows as one self-contained JSON
 * document:
 *
 *   { "format": "glyphic.workflow", "format_version": 1, "name": "…",
 *     "tags": [ … ], "definition": { … }, "credentials": [ "name", … ] }
 *
 * Credentials are referenced by name only — a document never holds a
 * secret. Import validates the definition like any save (unknown node types
 * are listed as problems, 400) and reports the credentials the document
 * names that this org does not have.
 *
 * An n8n workflow export (a `nodes` array of n8n node types and a
 * `connections` object) is recognised by its shape and converted
 * (gl_n8n_import): 422 n8n_unmappable listing the nodes that cannot be
 * converted, unless ?partial=true, which imports them as disabled
 * placeholders. GET …/export?format=n8n writes an n8n export back
 * (gl_n8n_export), 422 when a node has no n8n equivalent.
 */
#include "workflow_io.h"

#include "account.h"
#include "engine.h"
#include "workflow_store.h"
#include "workflows.h"

#include <stdio.h>
#include <string.h>

#define GL_WF_FORMAT "glyphic.workflow"

static void n8n_refuse(gl_req_t *req, json_object *problems, const char *what);

static const gl_stmt_t q_export = {
    .name = "wfio_export",
    .sql = "SELECT w.name, to_json(w.tags)::text, v.definition::text FROM workflows w "
           "CROSS JOIN LATERAL (SELECT v.definition FROM workflow_versions v "
           "WHERE v.workflow_id = w.id AND v.version = w.current_version OFFSET 0) v "
           "WHERE w.id = $1 AND w.deleted_at IS NULL",
    .nparams = 1,
    .rows = true,
};

/* GET …/export?format=n8n: the n8n export of the current version, or 422
 * listing the nodes n8n has no equivalent for */
static void wf_export_n8n(gl_req_t *req, const char *id, const char *name, json_object *def)
{
    json_object *doc = NULL, *problems = NULL;
    gl_err_t err;
    gl_err_clear(&err);
    if (gl_n8n_export(def, name, &doc, &problems, &err) != GL_OK) {
        gl_resp_error(req, 500, "internal", NULL, "%s", err.msg);
        return;
    }
    gl_json_own(req->arena, doc);
    gl_json_own(req->arena, problems);
    if (json_object_array_length(problems)) {
        n8n_refuse(req, problems, "exported to n8n");
        return;
    }
    const char *text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN);
    char *disp = gl_arena_printf(req->arena, "attachment; filename=\"workflow-%s.n8n.json\"", id);
    gl_resp_header(req, "Content-Disposition", disp);
    gl_resp_json(req, 200, text, strlen(text));
}

static void wf_export(gl_req_t *req)
{
    const char *id = gl_req_param(req, "id");
    const char *format = gl_req_query(req, "format");
    if (format && strcmp(format, "n8n") != 0 && strcmp(format, "glyphic") != 0) {
        gl_resp_error(req, 400, "invalid", "format", "format must be glyphic or n8n");
        return;
    }
    if (!gl_is_uuid(id)) {
        gl_resp_error(req, 404, "not_found", NULL, "no such workflow");
        return;
    }
    const char *params[] = { id };
    gl_err_t err;
    gl_err_clear(&err);
    PGresult *res = NULL;
    int rc = gl_db_query(req->db, &q_export, params, req->arena, &res, &err);
    if (rc != GL_OK) {
        gl_resp_fail(req, rc, &err);
        return;
    }
    if (PQntuples(res) != 1) {
        gl_resp_error(req, 404, "not_found", NULL, "no such workflow");
        return;
    }
    const char *name = PQgetvalue(res, 0, 0);
    json_object *def = NULL;
    if (gl_json_parse(PQgetvalue(res, 0, 2), (size_t)PQgetlength(res, 0, 2), 1000, &def, &err) != GL_OK) {
        gl_resp_fail(req, GL_ERR, &err);
        return;
    }
    gl_json_own(req->arena, def);
    if (format && strcmp(format, "n8n") == 0) {
        wf_export_n8n(req, id, name, def);
        return;
    }
    gl_buf_t *b = req->out;
    gl_buf_reset(b, SIZE_MAX);
    rc = gl_buf_puts(b, "{\"format\":\"" GL_WF_FORMAT "\",\"format_version\":1,\"name\":\"");
    rc |= gl_buf_json_escape(b, name, strlen(name));
    rc |= gl_buf_puts(b, "\",\"tags\":");
    rc |= gl_buf_append(b, PQgetvalue(res, 0, 1), (size_t)PQgetlength(res, 0, 1));
    rc |= gl_buf_puts(b, ",\"definition\":");
    rc |= gl_buf_append(b, PQgetvalue(res, 0, 2), (size_t)PQgetlength(res, 0, 2));
    rc |= gl_buf_puts(b, ",\"credentials\":");
    rc |= gl_engine_credential_names(def, b);
    rc |= gl_buf_puts(b, "}");
    if (rc != GL_OK) {
        gl_resp_error(req, 500, "internal", NULL, "export too large");
        return;
    }
    req->status = 200;
    char *disp = gl_arena_printf(req->arena, "attachment; filename=\"workflow-%s.json\"", id);
    gl_resp_header(req, "Content-Disposition", disp);
}

/* Of the names in $1 (a JSON array), those no credential of the request's
 * org is called (every member sees the org's credentials' names). */
static const gl_stmt_t q_missing = {
    .name = "wfio_missing_credentials",
    .sql = "SELECT coalesce(json_agg(n.name ORDER BY n.name), '[]') FROM jsonb_array_elements_text($1::jsonb) n(name) "
           "WHERE NOT EXISTS (SELECT 1 FROM credentials c WHERE c.org_id = current_org_id() AND c.name = n.name)",
    .nparams = 1,
    .rows = true,
};

/* 422 unmappable: the n8n problems as a clear error */
static void n8n_refuse(gl_req_t *req, json_object *problems, const char *what)
{
    size_t n = json_object_array_length(problems);
    gl_buf_t *b = req->out;
    gl_buf_reset(b, SIZE_MAX);
    int rc = gl_buf_printf(b, "{\"error\":{\"code\":\"n8n_unmappable\",\"message\":\"%zu n8n node%s or "
                              "connection%s cannot be %s%s\",\"request_id\":\"%s\",\"problems\":",
                           n, n == 1 ? "" : "s", n == 1 ? "" : "s", what,
                           strcmp(what, "imported") == 0 ? " (import with ?partial=true to get placeholders)" : "",
                           req->request_id);
    rc |= gl_buf_puts(b, json_object_to_json_string_ext(problems, JSON_C_TO_STRING_PLAIN));
    rc |= gl_buf_puts(b, "}}");
    req->status = rc == GL_OK ? 422 : 500;
}

/* POST /api/workflows/import with an n8n export: converted, then imported
 * like a Glyphic document; the answer also lists the problems a partial
 * import replaced with placeholders. */
static void wf_import_n8n(gl_req_t *req)
{
    const char *partial = gl_req_query(req, "partial");
    bool part = partial && strcmp(partial, "true") == 0;
    if (partial && !part && strcmp(partial, "false") != 0) {
        gl_resp_error(req, 400, "invalid", "partial", "partial must be true or false");
        return;
    }
    json_object *nm = json_object_object_get(req->json, "name");
    const char *name = "Imported from n8n";
    if (nm) {
        if (!json_object_is_type(nm, json_type_string) || json_object_get_string_len(nm) < 1 ||
            json_object_get_string_len(nm) > 200 ||
            strlen(json_object_get_string(nm)) != (size_t)json_object_get_string_len(nm)) {
            gl_resp_error(req, 400, "invalid", "name", "name must be a string of 1-200 characters");
            return;
        }
        name = json_object_get_string(nm);
    }
    json_object *def = NULL, *problems = NULL;
    gl_err_t err;
    gl_err_clear(&err);
    if (gl_n8n_import(req->json, &def, &problems, &err) != GL_OK) {
        gl_resp_error(req, 400, "invalid", "nodes", "%s", err.msg);
        return;
    }
    gl_json_own(req->arena, def);
    gl_json_own(req->arena, problems);
    if (json_object_array_length(problems) && !part) {
        n8n_refuse(req, problems, "imported");
        return;
    }
    const char *text = NULL;
    if (gl_wf_definition(req, def, &text) != GL_OK)
        return;
    char id[GL_UUID_LEN + 1];
    if (gl_wf_create(req, name, NULL, text, "imported from n8n", id) != GL_OK)
        return;
    if (gl_audit(req, NULL, "workflow.import", "workflow", id, NULL) != GL_OK)
        return;
    gl_buf_t names;
    gl_buf_init(&names, 1 << 20);
    if (gl_engine_credential_names(def, &names) != GL_OK) {
        gl_buf_free(&names);
        gl_resp_error(req, 500, "internal", NULL, "too many credentials");
        return;
    }
    const char *params[] = { gl_arena_strdup(req->arena, names.data) };
    gl_buf_free(&names);
    PGresult *res = NULL;
    int rc = gl_db_query(req->db, &q_missing, params, req->arena, &res, &err);
    if (rc != GL_OK) {
        gl_resp_fail(req, rc, &err);
        return;
    }
    char *body = gl_arena_printf(req->arena, "{\"id\":\"%s\",\"missing_credentials\":%s,\"format\":\"n8n\",\"problems\":%s}",
                                 id, PQgetvalue(res, 0, 0),
                                 json_object_to_json_string_ext(problems, JSON_C_TO_STRING_PLAIN));
    char loc[80];
    snprintf(loc, sizeof loc, "/api/workflows/%s", id);
    gl_resp_header(req, "Location", loc);
    gl_resp_json(req, 201, body, strlen(body));
}

static void wf_import(gl_req_t *req)
{
    if (gl_n8n_is_export(req->json)) {
        wf_import_n8n(req);
        return;
    }
    static const char *const allowed[] = { "format", "format_version", "name", "tags", "definition",
                                           "credentials", NULL };
    if (!gl_account_fields(req, allowed))
        return;
    const char *format = gl_account_string(req, req->json, "format", 1, 64, true);
    if (!format)
        return;
    if (strcmp(format, GL_WF_FORMAT) != 0) {
        gl_resp_error(req, 400, "invalid", "format", "not a Glyphic workflow document (format must be \"" GL_WF_FORMAT "\")");
        return;
    }
    gl_err_t err;
    gl_err_clear(&err);
    int64_t fv = 0;
    if (gl_json_get_int(req->json, "format_version", true, 1, 1000, &fv, &err) != GL_OK) {
        gl_resp_error(req, 400, "invalid", err.field, "%s", err.msg);
        return;
    }
    if (fv != 1) {
        gl_resp_error(req, 400, "invalid", "format_version", "format_version %lld is newer than this server reads (1)",
                      (long long)fv);
        return;
    }
    const char *name = gl_account_string(req, req->json, "name", 1, 200, true);
    if (!name)
        return;
    json_object *tags = json_object_object_get(req->json, "tags");
    const char *tags_json = NULL;
    if (tags && !(tags_json = gl_wf_tags(req, tags)))
        return;
    json_object *def = json_object_object_get(req->json, "definition");
    const char *text = NULL;
    if (gl_wf_definition(req, def, &text) != GL_OK)
        return;
    char id[GL_UUID_LEN + 1];
    if (gl_wf_create(req, name, tags_json, text, "imported", id) != GL_OK)
        return;
    if (gl_audit(req, NULL, "workflow.import", "workflow", id, NULL) != GL_OK)
        return;
    /* the credentials it names that the org does not have (by name) */
    gl_buf_t names;
    gl_buf_init(&names, 1 << 20);
    if (gl_engine_credential_names(def, &names) != GL_OK) {
        gl_buf_free(&names);
        gl_resp_error(req, 500, "internal", NULL, "too many credentials");
        return;
    }
    const char *params[] = { gl_arena_strdup(req->arena, names.data) };
    gl_buf_free(&names);
    gl_err_clear(&err);
    PGresult *res = NULL;
    int rc = gl_db_query(req->db, &q_missing, params, req->arena, &res, &err);
    if (rc != GL_OK) {
        gl_resp_fail(req, rc, &err);
        return;
    }
    char *body = gl_arena_printf(req->arena, "{\"id\":\"%s\",\"missing_credentials\":%s}", id,
                                 PQgetvalue(res, 0, 0));
    char loc[80];
    snprintf(loc, sizeof loc, "/api/workflows/%s", id);
    gl_resp_header(req, "Location", loc);
    gl_resp_json(req, 201, body, strlen(body));
}

static const gl_route_t routes[] = {
    { "GET", "/api/workflows/:id/export", wf_export, GL_PERM_WORKFLOW_READ, NULL },
    { "POST", "/api/workflows/import", wf_import, GL_PERM_WORKFLOW_WRITE, NULL },
};

const gl_resource_t gl_resource_workflow_io = { "workflow_io", routes, GL_NELEM(routes) };
