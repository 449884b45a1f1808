/* files.h: the org's stored files API and GET /api/usage (see files.c). */
#ifndef GL_FCGI_FILES_H
#define GL_FCGI_FILES_H

#include "router.h"

extern const gl_resource_t gl_resource_files;
/* POST /api/files: streams the request body itself (routes.c) */
void gl_files_upload(gl_req_t *req);

/* Answers a download of a stored content (org_id, sha_hex) as
 * GET /api/files/:id/content does: X-Accel-Redirect to nginx's internal
 * location /_glyphic/files/<org>/<aa>/<sha256>, Content-Type mime_type,
 * Content-Disposition attachment with file_name (RFC 6266). The caller
 * has checked that the request may read it. The strings may point into a
 * result: what the answer keeps is copied into the request's arena. */
void gl_files_send(gl_req_t *req, const char *org_id, const char *sha_hex, const char *mime_type,
                   const char *file_name);
/* The same with the Content-Disposition value disposition as it is (a
 * webhook's file answer, engine.h's gl_answer_t). */
void gl_files_accel(gl_req_t *req, const char *org_id, const char *sha_hex, const char *mime_type,
                    const char *disposition);

#endif
