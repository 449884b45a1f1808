/*
 * files.c: /api/files — the org's stored files — and GET /api/usage.
 *
 *   POST   /api/files?name=NAME   the body is the file (Content-Type: its
 *                                 type); streamed in chunks into the store,
 *                                 never held whole: 201 with its metadata
 *   GET    /api/files             newest first, cursor paging
 *   GET    /api/files/:id         metadata
 *   GET    /api/files/:id/content answered by nginx: this worker sends only
 *                                 X-Accel-Redirect to the internal location
 *                                 /_glyphic/files/<org>/<aa>/<sha256>
 *   DELETE /api/files/:id         the row; the content goes with the org's
 *                                 last row naming it, at the next gc
 *   GET    /api/usage             {files: {bytes, count, max_bytes}}
 *
 * An upload: the body streams (gl_req_stream_body) into a temporary file (SHA-256 and size as it
 * goes, refused past files.max_file_bytes: 413); then, under the org's
 * files lock (held to the commit), the quota check and the row's insert in
 * a new statement (so it sees every upload committed before the lock was
 * ours), then the rename to the final name. Over files.max_bytes_per_org:
 * 507 quota_exceeded, and the temporary file is removed — nothing written.
 * A content the org already stores costs no quota.
 */
#include "files.h"

#include "account.h"
#include "filestore.h"
#include "log.h"

#include <stdio.h>
#include <string.h>

#define ITEM_JSON                                                                                            \
    "json_build_object('id', f.id, 'file_name', f.file_name, 'mime_type', f.mime_type, 'size', f.size, "   \
    "'sha256', encode(f.sha256, 'hex'), 'created_at', f.created_at, 'created_by', f.created_by, "           \
    "'execution_id', f.execution_id)"

static const gl_stmt_t q_list = {
    .name = "file_list",
    .sql = "SELECT json_build_object('items', coalesce(json_agg(t.item ORDER BY t.created_at DESC, t.id DESC), '[]'), "
           "'next_cursor', CASE WHEN count(*) = $2 THEN (array_agg(t.id ORDER BY t.created_at DESC, t.id DESC))[$2] END) "
           "FROM (SELECT f.id, f.created_at, " ITEM_JSON " AS item "
           "FROM files f WHERE f.org_id = current_org_id() "
           "AND ($1::uuid IS NULL OR (f.created_at, f.id) < (SELECT p.created_at, p.id FROM files p WHERE p.id = $1)) "
           "ORDER BY f.created_at DESC, f.id DESC LIMIT $2) t",
    .nparams = 2,
    .rows = true,
};

static const gl_stmt_t q_get = {
    .name = "file_get",
    .sql = "SELECT " ITEM_JSON " FROM files f WHERE f.id = $1 AND f.org_id = current_org_id()",
    .nparams = 1,
    .rows = true,
};

static const gl_stmt_t q_content = {
    .name = "file_content",
    .sql = "SELECT f.org_id, encode(f.sha256, 'hex'), f.mime_type, f.file_name FROM files f "
           "WHERE f.id = $1 AND f.org_id = current_org_id()",
    .nparams = 1,
    .rows = true,
};

static const gl_stmt_t q_usage = {
    .name = "file_usage",
    .sql = "SELECT u.bytes, u.count FROM files_usage(current_org_id()) u",
    .nparams = 0,
    .rows = true,
};

static const gl_stmt_t q_usage_json = {
    .name = "file_usage_json",
    .sql = "SELECT json_build_object('files', json_build_object('bytes', u.bytes, 'count', u.count, "
           "'max_bytes', CASE WHEN $1::bigint > 0 THEN $1::bigint END)) FROM files_usage(current_org_id()) u",
    .nparams = 1,
    .rows = true,
};

/* The org's files lock, to the end of the transaction (sql/019_files.sql):
 * uploads of one org check the quota one at a time, and gc waits. */
static const gl_stmt_t q_lock = {
    .name = "file_lock",
    .sql = "SELECT pg_advisory_xact_lock(hashtextextended('glyphic.files:' || current_org_id(), 0))",
    .nparams = 0,
    .rows = true,
};

/* Inserts unless the content is new to the org and would take it past its
 * quota ($6, 0: none): no row back then. Runs after q_lock, as a statement
 * of its own, so its snapshot holds every upload committed before. */
static const gl_stmt_t q_insert = {
    .name = "file_insert",
    .sql = "INSERT INTO files (id, org_id, sha256, size, mime_type, file_name, created_by) "
           "SELECT $1, current_org_id(), decode($2, 'hex'), $3::bigint, $4, $5, current_user_id() "
           "WHERE $6::bigint = 0 "
           "OR EXISTS (SELECT 1 FROM files e WHERE e.org_id = current_org_id() AND e.sha256 = decode($2, 'hex')) "
           "OR (SELECT u.bytes FROM files_usage(current_org_id()) u) + $3::bigint <= $6::bigint "
           "RETURNING id",
    .nparams = 6,
    .rows = true,
};

static const gl_stmt_t q_delete = {
    .name = "file_delete",
    .sql = "DELETE FROM files WHERE id = $1 AND org_id = current_org_id()",
    .nparams = 1,
    .rows = false,
};

static const char *file_id(gl_req_t *req)
{
    const char *id = gl_req_param(req, "id");
    if (!gl_is_uuid(id)) {
        gl_resp_error(req, 404, "not_found", NULL, "no such file");
        return NULL;
    }
    return id;
}

static void answer_one(gl_req_t *req, int status, const char *id)
{
    const char *params[] = { id };
    gl_resp_query_json(req, status, &q_get, params, "no such file");
}

static void file_list(gl_req_t *req)
{
    const char *cursor = gl_req_query(req, "cursor"), *limit = gl_req_query(req, "limit");
    int64_t n = 100;
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
    const char *params[] = { cursor, ntext };
    gl_resp_query_json(req, 200, &q_list, params, "no files");
}

static void file_get(gl_req_t *req)
{
    const char *id = file_id(req);
    if (id)
        answer_one(req, 200, id);
}

void gl_files_accel(gl_req_t *req, const char *org_id, const char *sha_hex, const char *mime_type,
                    const char *disposition)
{
    char rel[GL_FILESTORE_REL_LEN + 1];
    if (gl_filestore_rel_path(org_id, sha_hex, rel, sizeof rel) != GL_OK) {
        gl_resp_error(req, 500, "internal", NULL, "internal error (request %s)", req->request_id);
        return;
    }
    /* nginx sends the bytes (and answers Range) from its internal location;
     * Content-Type and Content-Disposition are kept from this answer */
    char accel[sizeof "/_glyphic/files/" + GL_FILESTORE_REL_LEN];
    snprintf(accel, sizeof accel, "/_glyphic/files/%s", rel);
    gl_resp_header(req, "X-Accel-Redirect", accel);
    gl_resp_header(req, "Content-Disposition", disposition);
    /* (the table allows only printable ASCII here; a header stays one line
     * whatever a future writer does) */
    req->content_type =
        strpbrk(mime_type, "\r\n") ? "application/octet-stream" : gl_arena_strdup(req->arena, mime_type);
    req->status = 200;
}

void gl_files_send_row(gl_req_t *req, const gl_stmt_t *st, const char *const *params, const char *not_found)
{
    gl_err_t err;
    gl_err_clear(&err);
    PGresult *res = NULL;
    int rc = gl_db_query(req->db, st, params, req->arena, &res, &err);
    if (rc != GL_OK) {
        gl_resp_fail(req, rc, &err);
        return;
    }
    if (PQntuples(res) != 1) {
        gl_resp_error(req, 404, "not_found", NULL, "%s", not_found);
        return;
    }
    char disp[GL_DISPOSITION_MAX];
    gl_filestore_disposition("attachment", PQgetvalue(res, 0, 3), disp);
    gl_files_accel(req, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2), disp);
}

static void file_content(gl_req_t *req)
{
    const char *id = file_id(req);
    if (!id)
        return;
    const char *params[] = { id };
    gl_files_send_row(req, &q_content, params, "no such file");
}

/* The file name from ?name= (gl_filestore_name_ok). NULL: the error is set. */
static const char *upload_name(gl_req_t *req)
{
    const char *name = gl_req_query(req, "name");
    if (!name || !*name) {
        gl_resp_error(req, 400, "invalid", "name", "query parameter 'name' (the file's name) is required");
        return NULL;
    }
    if (!gl_filestore_name_ok(name)) {
        gl_resp_error(req, 400, "invalid", "name",
                      "query parameter 'name' must be a file name of at most %d bytes of UTF-8, without '/', '\\' "
                      "or control characters", GL_FILE_NAME_MAX);
        return NULL;
    }
    return name;
}

/* The type from Content-Type (application/octet-stream when absent;
 * gl_filestore_type_ok). NULL: the error is set. */
static const char *upload_type(gl_req_t *req)
{
    const char *ct = gl_req_env(req, "CONTENT_TYPE");
    if (!ct || !*ct)
        return "application/octet-stream";
    if (!gl_filestore_type_ok(ct)) {
        gl_resp_error(req, 400, "invalid", "Content-Type",
                      "Content-Type must be a media type such as application/pdf (at most %d characters)",
                      GL_MIME_TYPE_MAX);
        return NULL;
    }
    return ct;
}

static int to_writer(void *w, const char *buf, size_t len, gl_err_t *err)
{
    return gl_filestore_write(w, buf, len, err);
}

/* Streams len bytes of the body into w. GL_OK, or the error response is
 * set (413 past the per-file limit, 400 for a short body, 500). */
static int stream_body(gl_req_t *req, gl_fs_writer_t *w, int64_t len)
{
    gl_err_t err;
    gl_err_clear(&err);
    int rc = gl_req_stream_body(req, len, to_writer, w, &err);
    if (rc == GL_TOO_LARGE)
        gl_resp_error(req, 413, "body_too_large", "body", "the file is larger than the limit of %lld bytes",
                      (long long)req->cfg->files_max_file_bytes);
    else if (rc == GL_INVALID)
        gl_resp_error(req, 400, "bad_request", "body", "%s", err.msg);
    else if (rc != GL_OK)
        gl_resp_fail(req, rc, &err);
    return rc;
}

static void quota_exceeded(gl_req_t *req, int64_t used, int64_t size)
{
    gl_resp_error(req, 507, "quota_exceeded", NULL,
                  "this org stores %lld bytes of files; %lld more would pass its quota of %lld bytes "
                  "(files.max_bytes_per_org); delete files first",
                  (long long)used, (long long)size, (long long)req->cfg->files_max_bytes_per_org);
}

/* Usage of the org now: bytes into *bytes. GL_OK, or the response is set. */
static int usage_bytes(gl_req_t *req, int64_t *bytes)
{
    gl_err_t err;
    gl_err_clear(&err);
    PGresult *res = NULL;
    int rc = gl_db_query(req->db, &q_usage, NULL, req->arena, &res, &err);
    if (rc != GL_OK) {
        gl_resp_fail(req, rc, &err);
        return rc;
    }
    *bytes = PQntuples(res) == 1 ? gl_db_int(res, 0, 0) : 0;
    return GL_OK;
}

/* The row, under the org's lock, then the content's final name. GL_OK, or
 * the response is set and w is freed either way. */
static int commit_upload(gl_req_t *req, gl_fs_writer_t *w, const char *id, const char *name, const char *type)
{
    gl_err_t err;
    gl_err_clear(&err);
    PGresult *res = NULL;
    int rc = gl_db_query(req->db, &q_lock, NULL, req->arena, &res, &err);
    if (rc != GL_OK) {
        gl_filestore_abort(w);
        gl_resp_fail(req, rc, &err);
        return rc;
    }
    char size[24], max[24];
    snprintf(size, sizeof size, "%lld", (long long)gl_filestore_size(w));
    snprintf(max, sizeof max, "%lld", (long long)req->cfg->files_max_bytes_per_org);
    const char *params[] = { id, gl_filestore_sha256(w), size, type, name, max };
    rc = gl_db_query(req->db, &q_insert, params, req->arena, &res, &err);
    if (rc == GL_OK && PQntuples(res) == 0) {
        int64_t used = 0, n = gl_filestore_size(w);
        gl_filestore_abort(w);
        if (usage_bytes(req, &used) == GL_OK)
            quota_exceeded(req, used, n);
        return GL_TOO_LARGE;
    }
    if (rc != GL_OK) {
        gl_filestore_abort(w);
        gl_resp_fail(req, rc, &err);
        return rc;
    }
    /* renamed before the commit, under the lock: gc cannot take it away */
    rc = gl_filestore_finish(w, NULL, &err);
    if (rc != GL_OK) {
        gl_resp_fail(req, rc, &err);
        return rc;
    }
    return GL_OK;
}

/* (On a refusal the worker reads and drops what is left of the body.) */
void gl_files_upload(gl_req_t *req)
{
    const char *name = upload_name(req), *type = name ? upload_type(req) : NULL;
    const char *cl = gl_req_env(req, "CONTENT_LENGTH");
    int64_t len = -1, used = 0;
    if (!type)
        return;
    if (!cl || !*cl || gl_parse_i64(cl, 0, INT64_MAX, &len) != GL_OK) {
        gl_resp_error(req, 411, "length_required", "Content-Length", "an upload needs a Content-Length");
        return;
    }
    if (len > req->cfg->files_max_file_bytes) {
        gl_resp_error(req, 413, "body_too_large", "body", "the file of %lld bytes is larger than the limit of %lld bytes",
                      (long long)len, (long long)req->cfg->files_max_file_bytes);
        return;
    }
    /* refused before a byte is stored when even a new content would not
     * fit (re-uploading a stored content costs nothing, but is refused
     * here too when the org is that full) */
    if (usage_bytes(req, &used) != GL_OK)
        return;
    int64_t quota = req->cfg->files_max_bytes_per_org;
    if (quota > 0 && used + len > quota) {
        quota_exceeded(req, used, len);
        return;
    }
    gl_fs_writer_t *w = NULL;
    gl_err_t err;
    gl_err_clear(&err);
    int rc = gl_filestore_begin(req->cfg->files_dir, req->auth.org_id, req->cfg->files_max_file_bytes, &w, &err);
    if (rc != GL_OK) {
        gl_resp_fail(req, rc, &err);
        return;
    }
    if (stream_body(req, w, len) != GL_OK || (rc = gl_filestore_seal(w, &err)) != GL_OK) {
        if (req->status == 0)
            gl_resp_fail(req, rc, &err);
        gl_filestore_abort(w);
        return;
    }
    char id[GL_UUID_LEN + 1];
    gl_uuid_v4(id);
    if (commit_upload(req, w, id, name, type) != GL_OK)
        return;
    json_object *details = json_object_new_object();
    json_object_object_add(details, "file_name", json_object_new_string(name));
    json_object_object_add(details, "size", json_object_new_int64(len));
    rc = gl_audit(req, NULL, "file.create", "file", id,
                  gl_arena_strdup(req->arena, json_object_to_json_string_ext(details, JSON_C_TO_STRING_PLAIN)));
    json_object_put(details);
    if (rc != GL_OK)
        return;
    char loc[80];
    snprintf(loc, sizeof loc, "/api/files/%s", id);
    gl_resp_header(req, "Location", loc);
    answer_one(req, 201, id);
}

static void file_delete(gl_req_t *req)
{
    const char *id = file_id(req);
    if (!id)
        return;
    const char *params[] = { id };
    if (gl_resp_exec_one(req, &q_delete, params, "no such file") != GL_OK)
        return;
    if (gl_audit(req, NULL, "file.delete", "file", id, NULL) != GL_OK)
        return;
    gl_resp_json(req, 204, "", 0);
}

static void usage_get(gl_req_t *req)
{
    char max[24];
    snprintf(max, sizeof max, "%lld", (long long)req->cfg->files_max_bytes_per_org);
    const char *params[] = { max };
    gl_resp_query_json(req, 200, &q_usage_json, params, "no usage");
}

static const gl_route_t routes[] = {
    { "GET", "/api/files", file_list, GL_PERM_FILE_READ, NULL },
    { "POST", "/api/files", gl_files_upload, GL_PERM_FILE_WRITE, NULL },
    { "GET", "/api/files/:id", file_get, GL_PERM_FILE_READ, NULL },
    { "GET", "/api/files/:id/content", file_content, GL_PERM_FILE_READ, NULL },
    { "DELETE", "/api/files/:id", file_delete, GL_PERM_FILE_WRITE, NULL },
    { "GET", "/api/usage", usage_get, GL_PERM_FILE_READ, NULL },
};

const gl_resource_t gl_resource_files = { "files", routes, GL_NELEM(routes) };
