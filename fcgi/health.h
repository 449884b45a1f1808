/* health.h: the service-status resource (/api/health, /api/version). */
#ifndef GL_FCGI_HEALTH_H
#define GL_FCGI_HEALTH_H

#include "router.h"

extern const gl_resource_t gl_resource_health;

#endif
