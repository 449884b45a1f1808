/*
 * http.h: one FastCGI request as handlers see it, and the response they
 * build. Handlers never write to the FastCGI stream themselves: they set a
 * status, headers and a JSON body, and the worker sends it once.
 */
#ifndef GL_HTTP_H
#define GL_HTTP_H

#include "arena.h"
#include "buf.h"
#include "config.h"
#include "db.h"
#include "json.h"

#include <fcgiapp.h>

#define GL_ROUTE_MAX_PARAMS 8

typedef struct gl_req {
    FCGX_Request *fcgx;
    gl_arena_t *arena;      /* freed when the request ends */
    const gl_config_t *cfg;
    gl_db_t *db;            /* the worker's connection */

    const char *method;     /* as sent; HEAD is routed as GET */
    const char *path;       /* raw path, without the query string */
    size_t path_len;
    const char *query;      /* raw query string, "" if none */
    const char *request_id;
    const char *body;       /* NUL-terminated copy, NULL if no body */
    size_t body_len;
    json_object *json;      /* parsed body (owned by the arena), NULL if none */

    int n_params;
    const char *param_names[GL_ROUTE_MAX_PARAMS];
    const char *param_values[GL_ROUTE_MAX_PARAMS]; /* percent-decoded */

    int status;             /* 0 until a response is set */
    bool head;
    gl_buf_t *headers;      /* extra "Name: value\r\n" lines */
    gl_buf_t *out;          /* response body */
} gl_req_t;

/* A FastCGI parameter (e.g. "HTTP_AUTHORIZATION"), NULL if absent. */
const char *gl_req_env(gl_req_t *req, const char *name);
/* A route parameter by name (":id" -> "id"), NULL if absent. */
const char *gl_req_param(gl_req_t *req, const char *name);

/* Sets a JSON response; the body is copied. */
void gl_resp_json(gl_req_t *req, int status, const char *json, size_t len);
/* Sets a JSON error response {"error":{"code","message","field"?,"request_id"}}. */
void gl_resp_error(gl_req_t *req, int status, const char *code, const char *field,
                   const char *fmt, ...) GL_PRINTF(5, 6);
/* Adds a response header; name and value must not contain CR or LF. */
void gl_resp_header(gl_req_t *req, const char *name, const char *value);
/* Maps an rc and its error context to the matching HTTP error response. */
void gl_resp_fail(gl_req_t *req, int rc, const gl_err_t *err);

/* Reason phrase of a status code. */
const char *gl_http_reason(int status);

/*
 * Reads and checks the request body (size, content type, JSON syntax and
 * depth) into req->body / req->json. Returns GL_OK, or sets the error
 * response (413, 415, 400) and returns GL_INVALID.
 */
int gl_req_read_body(gl_req_t *req) GL_WUR;

/* Writes the response set on req (or a 500 if none was) to the client. */
void gl_req_send(gl_req_t *req);

#endif
