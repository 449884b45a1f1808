/*
 * routes.c: the one table of API resources. A new resource file exports a
 * gl_resource_t and gets a row here; nothing else changes.
 */
#include "router.h"

#include "health.h"
#include "openapi.h"

const gl_resource_t *const gl_resources[] = {
    &gl_resource_health,
    &gl_resource_openapi,
};

const size_t gl_resources_count = GL_NELEM(gl_resources);
