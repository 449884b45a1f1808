/* node_types_api.h: the node-type catalogue resource. */
#ifndef GL_FCGI_NODE_TYPES_API_H
#define GL_FCGI_NODE_TYPES_API_H

#include "router.h"

extern const gl_resource_t gl_resource_node_types;

#endif
