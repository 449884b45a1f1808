/* me.h: the signed-in user's own resources. */
#ifndef GL_FCGI_ME_H
#define GL_FCGI_ME_H

#include "router.h"

extern const gl_resource_t gl_resource_me;

#endif
