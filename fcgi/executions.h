/* executions.h: see executions.c. */
#ifndef GL_FCGI_EXECUTIONS_H
#define GL_FCGI_EXECUTIONS_H

#include "router.h"

extern const gl_resource_t gl_resource_executions;

#endif
