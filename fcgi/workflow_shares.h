/* workflow_shares.h: sharing workflows with org members. */
#ifndef GL_FCGI_WORKFLOW_SHARES_H
#define GL_FCGI_WORKFLOW_SHARES_H

#include "router.h"

extern const gl_resource_t gl_resource_workflow_shares;

#endif
