/* keys.h: API keys. */
#ifndef GL_FCGI_KEYS_H
#define GL_FCGI_KEYS_H

#include "router.h"

extern const gl_resource_t gl_resource_keys;

#endif
