/*
 * hook_body.c: a webhook call's files, streamed into the store (see the
 * header). The body is read in chunks (gl_req_stream_body, the reader
 * POST /api/files uses); each chunk goes to the signature check first,
 * then to the multipart parser (core/multipart.c), whose parts go to a
 * writer of the file store each (a file) or to a capped buffer (a field),
 * or, for a binary body, straight to one writer. So the worker holds one
 * chunk, one part's headers and the fields, whatever the size of the
 * files.
 *
 * Every writer is aborted by a cleanup on the request's arena unless it
 * was committed: an error on any path, a refused signature, a quota or a
 * rate limit leave no temporary file behind, and a crash leaves at most
 * temporary files, which gc removes (files.temp_hours).
 */
#include "hook_body.h"

#include "filestore.h"
#include "multipart.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

typedef struct {
    const char *prop;      /* the part's field name ("data" for a binary body) */
    const char *file_name; /* cleaned: a name the files table takes */
    const char *mime_type;
    char id[GL_UUID_LEN + 1];
    gl_fs_writer_t *w;     /* sealed once the part ended; NULL once committed or aborted */
    int64_t size;
    char sha[GL_SHA256_HEX_LEN + 1];
} hook_file_t;

struct gl_hook_body {
    gl_req_t *req;
    const char *org_id;
    gl_sig_stream_t *sig;
    gl_multipart_t *mp;     /* NULL: a binary body (files[0]) */
    hook_file_t files[GL_MP_MAX_PARTS];
    int n_files;
    hook_file_t *cur;       /* the file part being read; NULL: a field */
    bool cur_unnamed;       /* it came with filename="" */
    const char *field_name;
    gl_buf_t field;         /* the field being read */
    size_t fields_len;      /* bytes of the fields before it */
    json_object *fields;
    int sink_rc;            /* the last chunk's outcome */
};

/* ---- which bodies stream ---- */

/* Types whose bodies the item carries as text (or JSON, or a form): they
 * are read whole, as before files came in. */
static bool text_type(const char *ct)
{
    static const char *const text[] = {
        "application/json", "application/x-www-form-urlencoded", "application/xml", "application/javascript",
        "application/ecmascript", "application/x-ndjson", "application/ndjson", "application/yaml",
        "application/x-yaml", "application/graphql", "application/csp-report", NULL,
    };
    while (*ct == ' ' || *ct == '\t')
        ct++;
    size_t n = strcspn(ct, ";");
    while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    if (n >= 5 && strncasecmp(ct, "text/", 5) == 0)
        return true;
    if (n > 5 && (strncasecmp(ct + n - 5, "+json", 5) == 0 || strncasecmp(ct + n - 4, "+xml", 4) == 0))
        return true;
    for (int i = 0; text[i]; i++)
        if (n == strlen(text[i]) && strncasecmp(ct, text[i], n) == 0)
            return true;
    return false;
}

gl_hook_body_kind_t gl_hook_body_kind(gl_req_t *req)
{
    const char *cl = gl_req_env(req, "CONTENT_LENGTH"), *ct = gl_req_env(req, "CONTENT_TYPE");
    int64_t len = 0;
    if (!cl || gl_parse_i64(cl, 1, INT64_MAX, &len) != GL_OK || !ct)
        return GL_HOOK_BODY_BUFFERED; /* (an invalid length: gl_req_read_body answers it) */
    if (gl_multipart_is_form(ct))
        return GL_HOOK_BODY_MULTIPART;
    /* a type that is not a media type is read as text, as before */
    if (!gl_filestore_type_ok(ct) || text_type(ct))
        return GL_HOOK_BODY_BUFFERED;
    return GL_HOOK_BODY_BINARY;
}

/* ---- writers ---- */

static void abort_all(gl_hook_body_t *b)
{
    for (int i = 0; i < GL_MP_MAX_PARTS; i++) {
        gl_filestore_abort(b->files[i].w);
        b->files[i].w = NULL;
    }
}

/* the arena's cleanup: nothing outlives the request but committed files */
static void cleanup(void *data)
{
    gl_hook_body_t *b = data;
    abort_all(b);
    gl_buf_free(&b->field);
    json_object_put(b->fields);
}

/* A new file of b: its writer begun. */
static int file_begin(gl_hook_body_t *b, const char *prop, const char *raw_name, const char *fallback_name,
                      const char *type, gl_err_t *err)
{
    const gl_config_t *cfg = b->req->cfg;
    hook_file_t *f = &b->files[b->n_files];
    int rc = gl_filestore_begin(cfg->files_dir, b->org_id, cfg->files_max_file_bytes, &f->w, err);
    if (rc != GL_OK)
        return rc;
    b->n_files++;
    char name[GL_FILE_NAME_MAX + 1];
    gl_filestore_name_clean(raw_name, fallback_name, name);
    f->prop = gl_arena_strdup(b->req->arena, prop);
    f->file_name = gl_arena_strdup(b->req->arena, name);
    f->mime_type = type && gl_filestore_type_ok(type) ? gl_arena_strdup(b->req->arena, type)
                                                      : "application/octet-stream";
    gl_uuid_v4(f->id);
    b->cur = f;
    return GL_OK;
}

/* The file's last byte came: sealed (fsync, digest). */
static int file_end(gl_hook_body_t *b, gl_err_t *err)
{
    hook_file_t *f = b->cur;
    b->cur = NULL;
    int rc = gl_filestore_seal(f->w, err);
    if (rc != GL_OK)
        return rc;
    f->size = gl_filestore_size(f->w);
    memcpy(f->sha, gl_filestore_sha256(f->w), sizeof f->sha);
    if (b->cur_unnamed && f->size == 0) {
        /* a form's file input left empty: a browser sends filename="" and
         * no bytes; no file */
        gl_filestore_abort(f->w);
        f->w = NULL;
        b->n_files--;
    }
    return GL_OK;
}

/* ---- the multipart parser's callbacks ---- */

static int part_begin(void *ud, const gl_mp_part_t *part, gl_err_t *err)
{
    gl_hook_body_t *b = ud;
    if (!gl_utf8_valid(part->name, strlen(part->name))) {
        gl_err_set(err, "a part's name must be UTF-8");
        return GL_INVALID;
    }
    if (part->file_name) {
        b->cur_unnamed = part->file_name[0] == '\0';
        return file_begin(b, part->name, part->file_name, "file", part->content_type, err);
    }
    b->field_name = gl_arena_strdup(b->req->arena, part->name);
    gl_buf_reset(&b->field, 1 << 16);
    return GL_OK;
}

static int part_data(void *ud, const char *buf, size_t len, gl_err_t *err)
{
    gl_hook_body_t *b = ud;
    if (b->cur)
        return gl_filestore_write(b->cur->w, buf, len, err);
    if (gl_buf_append(&b->field, buf, len) != GL_OK) {
        gl_err_set(err, "the multipart body's fields (parts without a filename) are larger than %d bytes "
                        "(http.max_body)", b->req->cfg->http_max_body);
        return GL_INVALID;
    }
    return GL_OK;
}

static int part_end(void *ud, gl_err_t *err)
{
    gl_hook_body_t *b = ud;
    if (b->cur)
        return file_end(b, err);
    if (!gl_utf8_valid(b->field.data ? b->field.data : "", b->field.len)) {
        gl_err_set(err, "field '%.80s' is not UTF-8 text (send a file part, with a filename, for bytes)",
                   b->field_name);
        return GL_INVALID;
    }
    /* a repeated name keeps its last value, as a urlencoded form does */
    json_object_object_add(b->fields, b->field_name,
                           json_object_new_string_len(b->field.data ? b->field.data : "", (int)b->field.len));
    /* the fields together stay within http.max_body */
    b->fields_len += b->field.len;
    b->field.max = (size_t)b->req->cfg->http_max_body - b->fields_len;
    return GL_OK;
}

/* ---- reading ---- */

/* Each chunk of the body: signed as it came, then parsed or stored. */
static int sink(void *ud, const char *buf, size_t len, gl_err_t *err)
{
    gl_hook_body_t *b = ud;
    if (b->sig)
        gl_sig_stream_update(b->sig, buf, len);
    int rc = b->mp ? gl_multipart_feed(b->mp, buf, len, err) : gl_filestore_write(b->files[0].w, buf, len, err);
    b->sink_rc = rc;
    return rc;
}

/* The binary body's file: named by a Content-Disposition filename if one
 * came, else "data". */
static int binary_begin(gl_hook_body_t *b, gl_err_t *err)
{
    const char *cd = gl_req_env(b->req, "HTTP_CONTENT_DISPOSITION"), *raw = NULL;
    gl_mp_disposition_t d;
    if (cd) {
        size_t n = strlen(cd);
        char *out = gl_arena_alloc(b->req->arena, n + 4);
        gl_err_t ignored;
        gl_err_clear(&ignored);
        if (gl_mp_disposition_parse(cd, n, &d, out, n + 4, &ignored) == GL_OK)
            raw = d.file_name;
    }
    b->cur_unnamed = false;
    return file_begin(b, "data", raw, "data", gl_req_env(b->req, "CONTENT_TYPE"), err);
}

/* The answer for rc, the error that stopped the reading (short: the body
 * ended before its Content-Length). */
static void refuse(gl_hook_body_t *b, int rc, const gl_err_t *err, bool short_body)
{
    gl_req_t *req = b->req;
    if (rc == GL_TOO_LARGE)
        gl_resp_error(req, 413, "body_too_large", "body", "a file is larger than the limit of %lld bytes "
                      "(files.max_file_bytes)", (long long)req->cfg->files_max_file_bytes);
    else if (short_body)
        gl_resp_error(req, 400, "bad_request", "body", "%s", err->msg);
    else if (rc == GL_INVALID)
        gl_resp_error(req, 400, "invalid_multipart", "body", "%s", err->msg);
    else
        gl_resp_fail(req, rc, err);
}

int gl_hook_body_read(gl_req_t *req, gl_hook_body_kind_t kind, const char *org_id, gl_sig_stream_t *sig,
                      gl_hook_body_t **out)
{
    *out = NULL;
    int64_t len = 0, max = req->cfg->files_max_file_bytes;
    if (gl_parse_i64(gl_req_env(req, "CONTENT_LENGTH"), 0, INT64_MAX, &len) != GL_OK || len > max) {
        gl_resp_error(req, 413, "body_too_large", "body", "a webhook body with files may be at most %lld bytes "
                      "(files.max_file_bytes)", (long long)max);
        return GL_TOO_LARGE;
    }
    gl_hook_body_t *b = gl_arena_calloc(req->arena, 1, sizeof *b);
    b->req = req;
    b->org_id = org_id;
    b->sig = sig;
    gl_buf_init(&b->field, (size_t)req->cfg->http_max_body);
    gl_arena_on_cleanup(req->arena, cleanup, b);
    gl_err_t err;
    gl_err_clear(&err);
    int rc;
    bool short_body = false;
    if (kind == GL_HOOK_BODY_MULTIPART) {
        char boundary[GL_MP_BOUNDARY_MAX + 1];
        if (gl_multipart_boundary(gl_req_env(req, "CONTENT_TYPE"), boundary, sizeof boundary, &err) != GL_OK) {
            gl_resp_error(req, 400, "invalid_multipart", "Content-Type", "%s", err.msg);
            return GL_INVALID;
        }
        b->fields = json_object_new_object();
        gl_mp_handler_t h = { part_begin, part_data, part_end, b };
        b->mp = gl_multipart_new(req->arena, boundary, GL_MP_MAX_PARTS, &h);
        rc = gl_req_stream_body(req, len, sink, b, &err);
        short_body = rc != GL_OK && b->sink_rc == GL_OK;
        if (rc == GL_OK)
            rc = gl_multipart_end(b->mp, &err);
    } else {
        rc = binary_begin(b, &err);
        if (rc == GL_OK) {
            rc = gl_req_stream_body(req, len, sink, b, &err);
            short_body = rc != GL_OK && b->sink_rc == GL_OK;
        }
        if (rc == GL_OK && (rc = gl_filestore_seal(b->files[0].w, &err)) == GL_OK) {
            b->files[0].size = gl_filestore_size(b->files[0].w);
            memcpy(b->files[0].sha, gl_filestore_sha256(b->files[0].w), sizeof b->files[0].sha);
        }
    }
    if (rc != GL_OK) {
        abort_all(b);
        refuse(b, rc, &err, short_body);
        return rc;
    }
    *out = b;
    return GL_OK;
}

/* ---- what the item and the rows say ---- */

json_object *gl_hook_body_fields(const gl_hook_body_t *b)
{
    return b->fields ? json_object_get(b->fields) : NULL;
}

/* The property name of file i: its field's name without a trailing "[]",
 * numbered when other files share it. Into the arena. */
static const char *prop_name(const gl_hook_body_t *b, int i, json_object *taken)
{
    gl_arena_t *a = b->req->arena;
    size_t n = strlen(b->files[i].prop);
    if (n > 2 && strcmp(b->files[i].prop + n - 2, "[]") == 0)
        n -= 2;
    int shared = 0, index = 0;
    for (int k = 0; k < b->n_files; k++) {
        size_t m = strlen(b->files[k].prop);
        bool same = (m == n || (m == n + 2 && strcmp(b->files[k].prop + n, "[]") == 0)) &&
                    strncmp(b->files[k].prop, b->files[i].prop, n) == 0;
        shared += same;
        index += same && k < i;
    }
    char *name = shared > 1 ? gl_arena_printf(a, "%.*s%d", (int)n, b->files[i].prop, index)
                            : gl_arena_strndup(a, b->files[i].prop, n);
    /* (a field that names itself like a numbered one: later ones get _2, _3…) */
    for (int k = 2; json_object_object_get_ex(taken, name, NULL); k++)
        name = gl_arena_printf(a, "%.*s%s_%d", (int)n, b->files[i].prop,
                               shared > 1 ? gl_arena_printf(a, "%d", index) : "", k);
    return name;
}

json_object *gl_hook_body_binary(const gl_hook_body_t *b)
{
    if (b->n_files == 0)
        return NULL;
    json_object *bin = json_object_new_object();
    for (int i = 0; i < b->n_files; i++) {
        const hook_file_t *f = &b->files[i];
        json_object *ref = json_object_new_object();
        json_object_object_add(ref, "id", json_object_new_string(f->id));
        json_object_object_add(ref, "file_name", json_object_new_string(f->file_name));
        json_object_object_add(ref, "mime_type", json_object_new_string(f->mime_type));
        json_object_object_add(ref, "size", json_object_new_int64(f->size));
        json_object_object_add(ref, "sha256", json_object_new_string(f->sha));
        json_object_object_add(bin, b->mp ? prop_name(b, i, bin) : "data", ref);
    }
    return bin;
}

const char *gl_hook_body_rows(const gl_hook_body_t *b)
{
    if (b->n_files == 0)
        return NULL;
    json_object *rows = json_object_new_array();
    for (int i = 0; i < b->n_files; i++) {
        const hook_file_t *f = &b->files[i];
        json_object *r = json_object_new_object();
        json_object_object_add(r, "id", json_object_new_string(f->id));
        json_object_object_add(r, "sha256", json_object_new_string(f->sha));
        json_object_object_add(r, "size", json_object_new_int64(f->size));
        json_object_object_add(r, "mime_type", json_object_new_string(f->mime_type));
        json_object_object_add(r, "file_name", json_object_new_string(f->file_name));
        json_object_array_add(rows, r);
    }
    const char *text = gl_arena_strdup(b->req->arena, json_object_to_json_string_ext(rows, JSON_C_TO_STRING_PLAIN));
    json_object_put(rows);
    return text;
}

int gl_hook_body_commit(gl_hook_body_t *b, gl_err_t *err)
{
    for (int i = 0; i < b->n_files; i++) {
        gl_fs_writer_t *w = b->files[i].w;
        b->files[i].w = NULL;
        int rc = gl_filestore_finish(w, NULL, err); /* frees w whatever the outcome */
        if (rc != GL_OK) {
            abort_all(b);
            return rc;
        }
    }
    return GL_OK;
}

void gl_hook_body_abort(gl_hook_body_t *b)
{
    if (b)
        abort_all(b);
}
