/*
 * hook_body.h: the body of a webhook call that carries files, streamed from
 * FastCGI stdin into the file store and never held whole (fcgi/hooks.c):
 *
 *   multipart/form-data   each file part (a part with a filename) becomes a
 *                         binary property named by its field; the other
 *                         parts become fields of the item's body
 *   a binary type         the body becomes one binary property, `data`
 *                         (application/octet-stream, images, application/pdf:
 *                         any media type that is not JSON, a form or text)
 *
 * Fields are held in memory up to http.max_body in all; files are written
 * as they arrive, each up to files.max_file_bytes. What was written stays
 * in temporary files until gl_hook_body_commit gives the contents their
 * final names (inside the transaction that inserts their rows), or is
 * removed by gl_hook_body_abort — or, whatever happens in between, when
 * the request's arena is reset.
 */
#ifndef GL_FCGI_HOOK_BODY_H
#define GL_FCGI_HOOK_BODY_H

#include "http.h"
#include "webhook_signature.h"

typedef enum {
    GL_HOOK_BODY_BUFFERED = 0, /* no body, JSON, a form, text: read whole, as before (gl_req_read_body) */
    GL_HOOK_BODY_MULTIPART,
    GL_HOOK_BODY_BINARY,
} gl_hook_body_kind_t;

/* How req's body is read, from its Content-Type and Content-Length (an
 * empty body is BUFFERED whatever its type). */
gl_hook_body_kind_t gl_hook_body_kind(gl_req_t *req);

typedef struct gl_hook_body gl_hook_body_t;

/*
 * Reads req's body of kind (MULTIPART or BINARY) into the file store under
 * org_id, each chunk also fed to sig (gl_sig_stream_update) before it is
 * parsed, so a signature covers the raw bytes. GL_OK with *out (in
 * req->arena); else the response is set — 413 body_too_large (the body, or
 * one file, past files.max_file_bytes), 400 invalid_multipart (malformed,
 * too many parts, a field past http.max_body or not UTF-8), 400 bad_request
 * (the body ended early), 500 — and nothing is left on disk.
 */
int gl_hook_body_read(gl_req_t *req, gl_hook_body_kind_t kind, const char *org_id, gl_sig_stream_t *sig,
                      gl_hook_body_t **out) GL_WUR;

/* The item's body: the fields (multipart; {} when none), NULL for a
 * binary body. A new reference the caller puts. */
json_object *gl_hook_body_fields(const gl_hook_body_t *b);

/* The item's "$binary": {name: {id, file_name, mime_type, size, sha256}},
 * NULL when no file came. Names are the parts' field names, a trailing
 * "[]" dropped; a name that several files share is numbered from 0
 * ("files0", "files1"), as n8n does. A new reference the caller puts. */
json_object *gl_hook_body_binary(const gl_hook_body_t *b);

/* The files as rows for hook_enqueue / hook_record (sql/022):
 * [{id, sha256, size, mime_type, file_name}] in req->arena; NULL: none. */
const char *gl_hook_body_rows(const gl_hook_body_t *b);

/* Gives every content its final name (gl_filestore_finish), to be called
 * inside the transaction that inserted the rows, before its commit. On
 * failure the rest are removed and err says why. */
int gl_hook_body_commit(gl_hook_body_t *b, gl_err_t *err) GL_WUR;

/* Removes what was written and not committed (b may be NULL). */
void gl_hook_body_abort(gl_hook_body_t *b);

#endif
