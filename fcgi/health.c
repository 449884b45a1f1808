/*
 * health.c: GET /api/health — is the database reachable, and is its schema
 * the one this binary expects? One prepared statement, one round trip, never
 * cached: the answer is the database's state now.
 */
#include "health.h"

#include "log.h"
#include "migrate.h"

#include <stdio.h>
#include <stdlib.h>

static const gl_stmt_t q_schema = {
    .name = "health_schema",
    .sql = "SELECT max(version) FROM schema_migrations",
    .nparams = 0,
    .rows = true,
    .readonly = true,
};

static void unavailable(gl_req_t *req, const char *database, const char *version,
                        const char *code, const char *message)
{
    char body[512];
    int n = snprintf(body, sizeof body,
                     "{\"status\":\"unavailable\",\"database\":\"%s\",\"schema_version\":%s,"
                     "\"schema_expected\":%d,\"version\":\"" GL_VERSION "\","
                     "\"error\":{\"code\":\"%s\",\"message\":\"%s\",\"request_id\":\"%s\"}}",
                     database, version, gl_migrate_latest(), code, message, req->request_id);
    gl_resp_header(req, "Retry-After", "1");
    gl_resp_json(req, 503, body, (size_t)n);
}

static void health_get(gl_req_t *req)
{
    gl_err_t err;
    gl_err_clear(&err);
    PGresult *res = NULL;
    int rc = gl_db_query(req->db, &q_schema, NULL, req->arena, &res, &err);
    if (rc == GL_SCHEMA) {
        unavailable(req, "ok", "null", "schema_too_new",
                    "the database schema is newer than this server; upgrade glyphic");
        return;
    }
    if (rc == GL_UNSAFE) {
        gl_log(GL_LOG_ERROR, "%s", err.msg);
        unavailable(req, "ok", "null", "unsafe_configuration",
                    "the server connects as a role that bypasses row level security; see its log");
        return;
    }
    if (rc != GL_OK && gl_db_timed_out(&err)) {
        gl_log(GL_LOG_WARN, "health: database timeout: %s", err.msg);
        unavailable(req, "timeout", "null", "database_timeout", "the database did not answer in time");
        return;
    }
    if (rc != GL_OK) {
        gl_log(GL_LOG_WARN, "health: database unavailable: %s", err.msg);
        unavailable(req, "unreachable", "null", "database_unavailable", "the database is unreachable");
        return;
    }
    int version = (int)gl_db_int(res, 0, 0);
    char vtext[16];
    snprintf(vtext, sizeof vtext, "%d", version);
    if (version > gl_migrate_latest()) {
        unavailable(req, "ok", vtext, "schema_too_new",
                    "the database schema is newer than this server; upgrade glyphic");
        return;
    }
    if (version < gl_migrate_latest()) {
        unavailable(req, "ok", vtext, "migrations_pending",
                    "the database schema is older than this server; run glyphic migrate");
        return;
    }
    char body[256];
    int n = snprintf(body, sizeof body,
                     "{\"status\":\"ok\",\"database\":\"ok\",\"schema_version\":%d,"
                     "\"schema_expected\":%d,\"version\":\"" GL_VERSION "\"}",
                     version, gl_migrate_latest());
    gl_resp_json(req, 200, body, (size_t)n);
}

/* GET /api/version: no database. */
static void version_get(gl_req_t *req)
{
    char body[160];
    int n = snprintf(body, sizeof body,
                     "{\"name\":\"glyphic\",\"version\":\"" GL_VERSION "\",\"schema_version\":%d}",
                     gl_migrate_latest());
    gl_resp_json(req, 200, body, (size_t)n);
}

static const gl_route_t routes[] = {
    { "GET", "/api/health", health_get, GL_PERM_PUBLIC, NULL },
    { "GET", "/api/version", version_get, GL_PERM_PUBLIC, NULL },
};

const gl_resource_t gl_resource_health = { "health", routes, GL_NELEM(routes) };
