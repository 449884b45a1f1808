/* oauth2.h: the OAuth2 authorization-code flow (/api/oauth2/start and /callback). */
#ifndef GL_FCGI_OAUTH2_H
#define GL_FCGI_OAUTH2_H

#include "router.h"

extern const gl_resource_t gl_resource_oauth2;

#endif
