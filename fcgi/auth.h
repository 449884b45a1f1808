/* auth.h: sign-up, log-in, log-out. */
#ifndef GL_FCGI_AUTH_H
#define GL_FCGI_AUTH_H

#include "router.h"

extern const gl_resource_t gl_resource_auth;

#endif
