/* workflow_versions.h: a workflow's version history. */
#ifndef GL_FCGI_WORKFLOW_VERSIONS_H
#define GL_FCGI_WORKFLOW_VERSIONS_H

#include "router.h"

extern const gl_resource_t gl_resource_workflow_versions;

#endif
