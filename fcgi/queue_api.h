/* queue_api.h: the job queue's statistics for org admins. */
#ifndef GL_FCGI_QUEUE_API_H
#define GL_FCGI_QUEUE_API_H

#include "router.h"

extern const gl_resource_t gl_resource_queue;

#endif
