/* invitations.h: org invitations. */
#ifndef GL_FCGI_INVITATIONS_H
#define GL_FCGI_INVITATIONS_H

#include "router.h"

extern const gl_resource_t gl_resource_invitations;

#endif
