/*
 * binary.c: binary data as nodes see it (engine.h explains the model). A
 * binary property is a reference {id, file_name, mime_type, size, sha256}
 * under an item's "$binary" key; the bytes are in the file store, reached
 * only through the run's source (gl_run_t.files), which commits new files
 * to the execution and opens a reference after checking it against its
 * row. What is here: reading and writing references, and the node helpers
 * that call the source and turn its answers into node errors.
 */
#include "exec_int.h"

#include <stdio.h>
#include <string.h>

int gl_binary_ref_parse(json_object *prop, gl_binary_ref_t *ref, gl_err_t *err)
{
    memset(ref, 0, sizeof *ref);
    json_object *v = NULL;
    if (!json_object_is_type(prop, json_type_object)) {
        gl_err_set(err, "is not a file reference (an object {id, file_name, mime_type, size, sha256})");
        return GL_INVALID;
    }
    const char *id = obj_str(prop, "id"), *sha = obj_str(prop, "sha256");
    if (!id || !gl_is_uuid(id)) {
        gl_err_set(err, "has no file id (\"id\": a UUID)");
        return GL_INVALID;
    }
    if (!json_object_object_get_ex(prop, "size", &v) || !json_object_is_type(v, json_type_int) ||
        json_object_get_int64(v) < 0) {
        gl_err_set(err, "has no size (\"size\": the number of bytes)");
        return GL_INVALID;
    }
    ref->size = json_object_get_int64(v);
    bool hex = sha && strlen(sha) == GL_SHA256_HEX_LEN;
    for (size_t i = 0; hex && i < GL_SHA256_HEX_LEN; i++)
        hex = (sha[i] >= '0' && sha[i] <= '9') || (sha[i] >= 'a' && sha[i] <= 'f');
    if (!hex) {
        gl_err_set(err, "has no sha256 (\"sha256\": 64 lowercase hex digits)");
        return GL_INVALID;
    }
    memcpy(ref->id, id, GL_UUID_LEN);
    memcpy(ref->sha256, sha, GL_SHA256_HEX_LEN);
    ref->file_name = obj_str(prop, "file_name");
    ref->mime_type = obj_str(prop, "mime_type");
    if (!ref->file_name)
        ref->file_name = GL_BINARY_PROP_DEFAULT;
    if (!ref->mime_type)
        ref->mime_type = "application/octet-stream";
    return GL_OK;
}

json_object *gl_binary_ref_json(const gl_binary_ref_t *ref)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_string(ref->id));
    json_object_object_add(o, "file_name", json_object_new_string(ref->file_name ? ref->file_name : ""));
    json_object_object_add(o, "mime_type", json_object_new_string(ref->mime_type ? ref->mime_type : ""));
    json_object_object_add(o, "size", json_object_new_int64(ref->size));
    json_object_object_add(o, "sha256", json_object_new_string(ref->sha256));
    return o;
}

void gl_node_set_binary(json_object *item, const char *name, json_object *prop)
{
    json_object *bin = NULL;
    if (!json_object_is_type(item, json_type_object)) {
        json_object_put(prop);
        return;
    }
    if (!json_object_object_get_ex(item, GL_BINARY_KEY, &bin) || !json_object_is_type(bin, json_type_object)) {
        bin = json_object_new_object();
        json_object_object_add(item, GL_BINARY_KEY, bin);
    }
    json_object_object_add(bin, name, prop);
}

/* The names of bin's properties, quoted, for a message: "'a', 'b'" or
 * "none". */
static const char *prop_names(json_object *bin, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    if (json_object_is_type(bin, json_type_object)) {
        json_object_object_foreach(bin, k, v) {
            (void)v;
            int n = snprintf(buf + len, cap - len, "%s'%.40s'", len ? ", " : "", k);
            if (n < 0 || (size_t)n >= cap - len) {
                snprintf(buf + len, cap - len, ", …");
                break;
            }
            len += (size_t)n;
        }
    }
    return len ? buf : "none";
}

int gl_node_binary(gl_node_ctx_t *c, int i, const char *prop, gl_binary_ref_t *ref)
{
    json_object *item = gl_node_item(c, i), *bin = NULL, *p = NULL;
    char names[200];
    if (!json_object_is_type(item, json_type_object) || !json_object_object_get_ex(item, GL_BINARY_KEY, &bin) ||
        !json_object_is_type(bin, json_type_object) || !json_object_object_get_ex(bin, prop, &p)) {
        memset(ref, 0, sizeof *ref);
        return gl_node_fail(c, "item %d has no binary property '%.100s' (its binary properties: %s)", i, prop,
                            prop_names(bin, names, sizeof names));
    }
    gl_err_t err;
    gl_err_clear(&err);
    if (gl_binary_ref_parse(p, ref, &err) != GL_OK)
        return gl_node_fail(c, "item %d: binary property '%.100s' %s", i, prop, err.msg);
    return GL_OK;
}

/* The run's source, or NULL with the node failed. */
static const gl_file_source_t *source(gl_node_ctx_t *c)
{
    if (c->run && c->run->files.create && c->run->files.commit && c->run->files.open)
        return &c->run->files;
    c->retryable = false;
    gl_node_fail(c, "this node needs the file store, and this run has none (files are kept by glyphic-executor; "
                    "`glyphic run` and the web server's direct path have none)");
    return NULL;
}

/* The source's answer rc as the node's outcome: its message, prefixed. */
static int source_failed(gl_node_ctx_t *c, int rc, const char *prefix, const gl_err_t *err)
{
    c->retryable = rc == GL_UNAVAILABLE;
    gl_node_fail(c, "%s%s", prefix, err->msg[0] ? err->msg : "the file store failed");
    return rc;
}

int gl_node_file_open(gl_node_ctx_t *c, const gl_binary_ref_t *ref, int *fd)
{
    *fd = -1;
    const gl_file_source_t *src = source(c);
    if (!src)
        return GL_INVALID;
    gl_err_t err;
    gl_err_clear(&err);
    int rc = src->open(src->arg, ref, fd, &err);
    if (rc == GL_OK)
        return GL_OK;
    char prefix[200];
    snprintf(prefix, sizeof prefix, "file '%.100s' (%s): ", ref->file_name ? ref->file_name : "", ref->id);
    return source_failed(c, rc, prefix, &err);
}

int gl_node_file_create(gl_node_ctx_t *c, gl_fs_writer_t **w)
{
    *w = NULL;
    const gl_file_source_t *src = source(c);
    if (!src)
        return GL_INVALID;
    gl_err_t err;
    gl_err_clear(&err);
    int rc = src->create(src->arg, w, &err);
    return rc == GL_OK ? GL_OK : source_failed(c, rc, "cannot store a file: ", &err);
}

int gl_node_file_write(gl_node_ctx_t *c, gl_fs_writer_t *w, const void *buf, size_t len)
{
    gl_err_t err;
    gl_err_clear(&err);
    int rc = gl_filestore_write(w, buf, len, &err);
    if (rc == GL_TOO_LARGE)
        gl_node_fail(c, "%s (files.max_file_bytes)", err.msg);
    else if (rc != GL_OK)
        gl_node_fail(c, "%s", err.msg);
    return rc;
}

int gl_node_file_commit(gl_node_ctx_t *c, gl_fs_writer_t *w, const char *file_name, const char *mime_type,
                        json_object **prop)
{
    *prop = NULL;
    const gl_file_source_t *src = source(c);
    if (!src || !gl_filestore_name_ok(file_name) || !gl_filestore_type_ok(mime_type)) {
        gl_filestore_abort(w);
        if (!src)
            return GL_INVALID;
        if (!gl_filestore_name_ok(file_name))
            return gl_node_fail(c, "the file name '%.100s' is not allowed: 1 to %d bytes of UTF-8 without '/', "
                                   "'\\' or control characters", file_name ? file_name : "", GL_FILE_NAME_MAX);
        return gl_node_fail(c, "'%.100s' is not a media type (type/subtype, printable ASCII, at most %d characters)",
                            mime_type ? mime_type : "", GL_MIME_TYPE_MAX);
    }
    gl_binary_ref_t ref;
    memset(&ref, 0, sizeof ref);
    gl_err_t err;
    gl_err_clear(&err);
    int rc = src->commit(src->arg, w, file_name, mime_type, &ref, &err);
    if (rc != GL_OK)
        return source_failed(c, rc, "", &err);
    ref.file_name = file_name;
    ref.mime_type = mime_type;
    *prop = gl_binary_ref_json(&ref);
    return GL_OK;
}

int gl_node_file_put(gl_node_ctx_t *c, const void *buf, size_t len, const char *file_name, const char *mime_type,
                     json_object **prop)
{
    gl_fs_writer_t *w = NULL;
    *prop = NULL;
    int rc = gl_node_file_create(c, &w);
    if (rc != GL_OK)
        return rc;
    if ((rc = gl_node_file_write(c, w, buf, len)) != GL_OK) {
        gl_filestore_abort(w);
        return rc;
    }
    return gl_node_file_commit(c, w, file_name, mime_type, prop);
}

void gl_node_limits(gl_node_ctx_t *c, int *max_items, size_t *bytes_left)
{
    if (!c->exec) { /* a node run by hand (unit tests): the defaults */
        *max_items = c->run && c->run->limits.max_items > 0 ? c->run->limits.max_items : 10000;
        *bytes_left = c->run && c->run->limits.max_bytes ? c->run->limits.max_bytes : 16u << 20;
        return;
    }
    *max_items = c->exec->lim.max_items;
    *bytes_left = c->exec->bytes < c->exec->lim.max_bytes ? c->exec->lim.max_bytes - c->exec->bytes : 0;
}
