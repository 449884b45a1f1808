/* execution_events.h: see execution_events.c. */
#ifndef GL_FCGI_EXECUTION_EVENTS_H
#define GL_FCGI_EXECUTION_EVENTS_H

#include "router.h"

extern const gl_resource_t gl_resource_execution_events;

#endif
