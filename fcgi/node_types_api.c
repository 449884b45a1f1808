/*
 * node_types_api.c: GET /api/node-types — the node-type catalogue
 * (executor/engine/catalogue.c) as JSON, for the editor. Rendered once per worker.
 */
#include "node_types_api.h"

#include "log.h"
#include "engine.h"

static void node_types_get(gl_req_t *req)
{
    static gl_buf_t cached;
    if (!cached.data) {
        gl_buf_init(&cached, 1 << 20);
        if (gl_engine_node_types_json(&cached) != GL_OK) {
            gl_buf_free(&cached);
            gl_resp_error(req, 500, "internal", NULL, "catalogue too large");
            return;
        }
    }
    gl_resp_header(req, "Cache-Control", "public, max-age=300");
    gl_resp_json(req, 200, cached.data, cached.len);
}

static const gl_route_t routes[] = {
    { "GET", "/api/node-types", node_types_get, GL_PERM_PUBLIC, NULL },
};

const gl_resource_t gl_resource_node_types = { "node_types", routes, GL_NELEM(routes) };
