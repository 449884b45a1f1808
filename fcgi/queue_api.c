/*
 * queue_api.c: GET /api/queue/stats — job counts by queue and state, the
 * oldest due job's wait and the last minute's throughput, for the orgs the
 * caller administers (row level security narrows the counts; the operator
 * sees every org's with `glyphic queue stats`).
 */
#include "queue_api.h"

#include "queue.h"

#include <string.h>

static void stats_get(gl_req_t *req)
{
    const char *json = NULL;
    gl_err_t err;
    gl_err_clear(&err);
    int rc = gl_queue_stats(req->db, req->arena, &json, &err);
    if (rc != GL_OK) {
        gl_resp_fail(req, rc, &err);
        return;
    }
    gl_resp_json(req, 200, json, strlen(json));
}

static const gl_route_t routes[] = {
    { "GET", "/api/queue/stats", stats_get, GL_PERM_QUEUE_READ, NULL },
};

const gl_resource_t gl_resource_queue = { "queue", routes, GL_NELEM(routes) };
