/*
 * router.h: method + path patterns ("/api/workflows/:id") to handlers.
 * Each API resource file exports one gl_resource_t; routes.c lists them all.
 */
#ifndef GL_ROUTER_H
#define GL_ROUTER_H

#include "http.h"

typedef void (*gl_handler_fn)(gl_req_t *req);

#include "perm.h"

/*
 * The one statement a read route's handler runs, told from the request
 * alone (its path, query string and headers; never from who asks), so it
 * rides in the round trip that authenticates and ends the transaction
 * (gl_db_begin_query_ahead): the statement and its parameters, which must
 * be what the handler then passes to gl_db_query. False when it cannot
 * tell (the handler will refuse the request, or needs more than one
 * statement): the request then runs the usual way.
 */
typedef struct {
    const gl_stmt_t *stmt;
    const char *params[GL_DB_AHEAD_MAX_PARAMS];
} gl_ahead_t;
typedef bool (*gl_ahead_fn)(gl_req_t *req, gl_ahead_t *out);

/* The usual ahead function's body: stmt with the route's :id as its one
 * parameter, when :id is a uuid (else the handler answers 404 itself). */
bool gl_ahead_by_id(gl_req_t *req, const gl_stmt_t *stmt, gl_ahead_t *out);

typedef struct {
    const char *method;  /* "GET", "POST", "PUT", "PATCH", "DELETE" */
    const char *pattern; /* literal segments and ":name" parameters; ":org"
                            names the org the request works in */
    gl_handler_fn handler;
    gl_perm_t perm;      /* who may call it (perm.h); GL_PERM_PUBLIC: anyone;
                            left out (GL_PERM_UNSET): nobody */
    gl_ahead_fn ahead;   /* GET routes: the statement to run ahead, or NULL */
} gl_route_t;

typedef struct {
    const char *name;
    const gl_route_t *routes;
    size_t n_routes;
} gl_resource_t;

extern const gl_resource_t *const gl_resources[];
extern const size_t gl_resources_count;

/* Does the route's handler read the body itself, in chunks, from
 * req->fcgx->in (uploads)? The worker then neither reads nor checks it,
 * and drops what the handler left. routes.c lists these handlers. */
bool gl_route_streams_body(const gl_route_t *rt);

typedef enum {
    GL_ROUTE_FOUND,
    GL_ROUTE_NOT_FOUND,
    GL_ROUTE_BAD_METHOD, /* *allow lists the methods the path accepts */
    GL_ROUTE_BAD_PATH,   /* a parameter is not valid percent-encoding */
} gl_route_result_t;

/*
 * Finds the route for method and path (HEAD matches GET). On FOUND, *out is
 * the route and req's params are set (decoded into req->arena). On
 * BAD_METHOD, allow (of allow_len bytes) holds "GET, HEAD, POST" style text.
 */
gl_route_result_t gl_route_find(gl_req_t *req, const char *method, const char *path,
                                size_t path_len, const gl_route_t **out, char *allow,
                                size_t allow_len);

#endif
