/* files.h: the org's stored files API and GET /api/usage (see files.c). */
#ifndef GL_FCGI_FILES_H
#define GL_FCGI_FILES_H

#include "router.h"

extern const gl_resource_t gl_resource_files;
/* POST /api/files: streams the request body itself (routes.c) */
void gl_files_upload(gl_req_t *req);

#endif
