/* files.h: the org's stored files API and GET /api/usage (see files.c). */
#ifndef GL_FCGI_FILES_H
#define GL_FCGI_FILES_H

#include "router.h"

extern const gl_resource_t gl_resource_files;
/* POST /api/files: streams the request body itself (routes.c) */
void gl_files_upload(gl_req_t *req);

/* Answers a download of a stored content as GET /api/files/:id/content
 * does: runs st with params, whose one row is (org_id, sha256 hex,
 * mime_type, file_name) — the caller's statement decides who may read it
 * — and answers X-Accel-Redirect to nginx's internal location
 * /_glyphic/files/<org>/<aa>/<sha256>, Content-Type mime_type,
 * Content-Disposition attachment with file_name (RFC 6266); no row: 404
 * not_found with the message not_found. */
void gl_files_send_row(gl_req_t *req, const gl_stmt_t *st, const char *const *params, const char *not_found);
/* The X-Accel-Redirect answer for the content (org_id, sha_hex), with
 * Content-Type mime_type and the Content-Disposition value disposition
 * as it is (a webhook's file answer, engine.h's gl_answer_t). The strings
 * may point into a result: what the answer keeps is copied. */
void gl_files_accel(gl_req_t *req, const char *org_id, const char *sha_hex, const char *mime_type,
                    const char *disposition);

#endif
