/* variables.h: the org's variables API (see variables.c). */
#ifndef GL_FCGI_VARIABLES_H
#define GL_FCGI_VARIABLES_H

#include "router.h"

extern const gl_resource_t gl_resource_variables;

#endif
