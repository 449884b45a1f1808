/* expressions.h: see expressions.c. */
#ifndef GL_FCGI_EXPRESSIONS_H
#define GL_FCGI_EXPRESSIONS_H

#include "router.h"

extern const gl_resource_t gl_resource_expressions;

#endif
