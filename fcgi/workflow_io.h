/* workflow_io.h: workflow export and import. */
#ifndef GL_FCGI_WORKFLOW_IO_H
#define GL_FCGI_WORKFLOW_IO_H

#include "router.h"

extern const gl_resource_t gl_resource_workflow_io;

#endif
