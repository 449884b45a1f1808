/*
 * execution_files.c: the files an execution stored (its nodes' binary data:
 * rows of glyphic.files whose execution_id is the execution) —
 *   GET /api/executions/:id/files             oldest first, cursor paging
 *   GET /api/executions/:id/files/:file_id    the bytes, sent by nginx
 * for whoever may read the execution (row level security shows it to
 * whoever sees its workflow). A download is answered as
 * GET /api/files/:id/content is (gl_files_send_row: X-Accel-Redirect to the
 * internal location, so the worker sends one small answer). Another org's
 * execution, another execution's file and an unknown id are all 404.
 */
#include "execution_files.h"

#include "files.h"

#include <stdio.h>

#define FILE_ITEM                                                                                              \
    "json_build_object('id', f.id, 'file_name', f.file_name, 'mime_type', f.mime_type, 'size', f.size, "      \
    "'sha256', encode(f.sha256, 'hex'), 'created_at', f.created_at)"

/* no row: the execution is not visible */
static const gl_stmt_t q_list = {
    .name = "exf_list",
    .sql = "WITH x AS (SELECT e.id FROM executions e WHERE e.id = $1), "
           "page AS (SELECT f.id, f.created_at, " FILE_ITEM " AS item FROM files f JOIN x ON f.execution_id = x.id "
           "WHERE f.org_id = current_org_id() "
           "AND ($2::uuid IS NULL OR (f.created_at, f.id) > (SELECT p.created_at, p.id FROM files p "
           "WHERE p.id = $2::uuid AND p.execution_id = x.id)) "
           "ORDER BY f.created_at, f.id LIMIT $3::int) "
           "SELECT json_build_object('items', coalesce((SELECT json_agg(p.item ORDER BY p.created_at, p.id) "
           "FROM page p), '[]'), 'next_cursor', CASE WHEN (SELECT count(*) FROM page) = $3::int THEN "
           "(SELECT p.id FROM page p ORDER BY p.created_at DESC, p.id DESC LIMIT 1) END) FROM x",
    .nparams = 3,
    .rows = true,
};

static const gl_stmt_t q_content = {
    .name = "exf_content",
    .sql = "SELECT f.org_id, encode(f.sha256, 'hex'), f.mime_type, f.file_name "
           "FROM executions e JOIN files f ON f.execution_id = e.id "
           "WHERE e.id = $1 AND f.id = $2 AND f.org_id = current_org_id()",
    .nparams = 2,
    .rows = true,
};

static void files_list(gl_req_t *req)
{
    const char *id = gl_req_param(req, "id");
    const char *cursor = gl_req_query(req, "cursor"), *limit = gl_req_query(req, "limit");
    int64_t n = 100;
    if (!gl_is_uuid(id)) {
        gl_resp_error(req, 404, "not_found", NULL, "no such execution");
        return;
    }
    if (limit && gl_parse_i64(limit, 1, 1000, &n) != GL_OK) {
        gl_resp_error(req, 400, "invalid", "limit", "limit must be an integer from 1 to 1000");
        return;
    }
    if (cursor && !gl_is_uuid(cursor)) {
        gl_resp_error(req, 400, "invalid", "cursor", "cursor must be the next_cursor of a previous page");
        return;
    }
    char ntext[16];
    snprintf(ntext, sizeof ntext, "%lld", (long long)n);
    const char *params[] = { id, cursor, ntext };
    gl_resp_query_json(req, 200, &q_list, params, "no such execution");
}

static void file_content(gl_req_t *req)
{
    const char *id = gl_req_param(req, "id"), *file_id = gl_req_param(req, "file_id");
    if (!gl_is_uuid(id) || !gl_is_uuid(file_id)) {
        gl_resp_error(req, 404, "not_found", NULL, "no such file in this execution");
        return;
    }
    const char *params[] = { id, file_id };
    gl_files_send_row(req, &q_content, params, "no such file in this execution");
}

static const gl_route_t routes[] = {
    { "GET", "/api/executions/:id/files", files_list, GL_PERM_WORKFLOW_READ, NULL },
    { "GET", "/api/executions/:id/files/:file_id", file_content, GL_PERM_WORKFLOW_READ, NULL },
};

const gl_resource_t gl_resource_execution_files = { "execution_files", routes, GL_NELEM(routes) };
