/* credentials.h: the credentials vault's API (see credentials.c). */
#ifndef GL_FCGI_CREDENTIALS_H
#define GL_FCGI_CREDENTIALS_H

#include "router.h"

extern const gl_resource_t gl_resource_credentials;

#endif
