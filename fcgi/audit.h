/* audit.h: the audit log resource. */
#ifndef GL_FCGI_AUDIT_H
#define GL_FCGI_AUDIT_H

#include "router.h"

extern const gl_resource_t gl_resource_audit;

#endif
