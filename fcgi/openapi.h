/* openapi.h: the API description resource. */
#ifndef GL_FCGI_OPENAPI_H
#define GL_FCGI_OPENAPI_H

#include "router.h"

extern const gl_resource_t gl_resource_openapi;

#endif
