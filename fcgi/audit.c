/*
 * audit.c: GET /api/audit — the active org's audit log for its owners and
 * admins, newest first, paginated by cursor (?before=<id>&limit=N). The
 * writer, gl_audit(), lives in account.c.
 */
#include "audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const gl_stmt_t q_page = {
    .name = "audit_page",
    .sql = "WITH page AS (SELECT a.* FROM audit_log a WHERE a.org_id = current_org_id() "
           "              AND ($1::bigint IS NULL OR a.id < $1) ORDER BY a.id DESC LIMIT $2) "
           "SELECT json_build_object('items', coalesce(json_agg(json_build_object('id', p.id, 'at', p.at,"
           " 'action', p.action, 'actor_id', p.actor_id, 'target_type', p.target_type, 'target_id', p.target_id,"
           " 'ip', host(p.ip), 'details', p.details) ORDER BY p.id DESC), '[]'),"
           " 'next_before', CASE WHEN count(*) = $2 THEN min(p.id) END) FROM page p",
    .nparams = 2,
    .rows = true,
};

static void audit_get(gl_req_t *req)
{
    int64_t limit = 50, before = 0;
    const char *l = gl_req_query(req, "limit");
    const char *b = gl_req_query(req, "before");
    if (l && gl_parse_i64(l, 1, 500, &limit) != GL_OK) {
        gl_resp_error(req, 400, "invalid", "limit", "limit must be an integer from 1 to 500");
        return;
    }
    if (b && gl_parse_i64(b, 1, INT64_MAX, &before) != GL_OK) {
        gl_resp_error(req, 400, "invalid", "before", "before must be an audit entry id");
        return;
    }
    char ltext[24], btext[24];
    snprintf(ltext, sizeof ltext, "%lld", (long long)limit);
    snprintf(btext, sizeof btext, "%lld", (long long)before);
    const char *params[] = { b ? btext : NULL, ltext };
    gl_resp_query_json(req, 200, &q_page, params, "no audit log");
}

static const gl_route_t routes[] = {
    { "GET", "/api/audit", audit_get, GL_PERM_AUDIT_READ, NULL },
};

const gl_resource_t gl_resource_audit = { "audit", routes, GL_NELEM(routes) };
