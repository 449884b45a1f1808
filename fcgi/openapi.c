/*
 * openapi.c: GET /api/openapi.json — the API description (fcgi/openapi.json,
 * compiled in). Every resource file's routes must appear in it; a test
 * checks that the two agree.
 */
#include "openapi.h"

extern const char gl_openapi_json[];
extern const size_t gl_openapi_json_len;

static void openapi_get(gl_req_t *req)
{
    gl_resp_json(req, 200, gl_openapi_json, gl_openapi_json_len);
}

static const gl_route_t routes[] = {
    { "GET", "/api/openapi.json", openapi_get, GL_PERM_PUBLIC, NULL },
};

const gl_resource_t gl_resource_openapi = { "openapi", routes, GL_NELEM(routes) };
