/* orgs.h: organizations and members. */
#ifndef GL_FCGI_ORGS_H
#define GL_FCGI_ORGS_H

#include "router.h"

extern const gl_resource_t gl_resource_orgs;

#endif
