/* workflows.h: the workflow resource, and creation shared with import. */
#ifndef GL_FCGI_WORKFLOWS_H
#define GL_FCGI_WORKFLOWS_H

#include "router.h"

extern const gl_resource_t gl_resource_workflows;

/* Creates a workflow (name, tags as a JSON array text or NULL) with version
 * 1 = definition (validated JSON text). The id goes to id_out; on failure
 * the error response is set. */
int gl_wf_create(gl_req_t *req, const char *name, const char *tags_json, const char *definition,
                 const char *message, char id_out[GL_UUID_LEN + 1]) GL_WUR;

#endif
