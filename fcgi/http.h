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
#include "vault.h"
#include "crypto.h"
#include "db.h"
#include "json.h"
#include "perm.h"

#include <fcgiapp.h>

#define GL_ROUTE_MAX_PARAMS 8

/* Who is calling, filled in by session.c before the handler runs. */
typedef struct {
    bool authenticated;
    bool via_key;                       /* an API key, not a browser session */
    char user_id[GL_UUID_LEN + 1];
    char org_id[GL_UUID_LEN + 1];       /* "" when the request has no org */
    int role;                           /* gl_role_t in that org */
    unsigned scopes;                    /* API keys only: gl_scope_t bits */
    char session_id[GL_UUID_LEN + 1];
    char key_id[GL_UUID_LEN + 1];
    char csrf[64];                      /* browser sessions only */
} gl_auth_t;

typedef struct gl_req {
    FCGX_Request *fcgx;
    gl_arena_t *arena;      /* freed when the request ends */
    const gl_config_t *cfg;
    const gl_vault_t *vault; /* the master keys: seals; opens only for webhook signatures, the OAuth2
                                callback and credential tests */
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

    gl_auth_t auth;
    const gl_perm_rule_t *rule; /* the route's permission rule; NULL before routing */
    const char *client_ip;  /* REMOTE_ADDR, NULL if absent */
    bool commit_on_error;   /* keep the transaction's writes even on a 4xx */
    bool any_body;          /* accept bodies of any type (webhooks): non-JSON ones stay raw */
    bool tx_done;           /* the handler ended its transaction itself (streams) */
    bool streamed;          /* the handler wrote the response itself */
    const char *content_type; /* NULL: application/json; charset=utf-8 */

    int status;             /* 0 until a response is set */
    bool head;
    gl_buf_t *headers;      /* extra "Name: value\r\n" lines */
    gl_buf_t *out;          /* response body */
} gl_req_t;

/* A FastCGI parameter (e.g. "HTTP_AUTHORIZATION"), NULL if absent. */
const char *gl_req_env(gl_req_t *req, const char *name);
/* A query-string argument by name, percent- and plus-decoded into the
 * arena; NULL if absent or malformed. */
const char *gl_req_query(gl_req_t *req, const char *name);
/* Percent- and plus-decodes v[0..vlen) into the arena; NULL if malformed
 * or it holds NUL. */
char *gl_url_decode(gl_arena_t *a, const char *v, size_t vlen);
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

/* Runs a prepared statement whose one row, one column is a JSON text and
 * sends it with the status; 404 with not_found_msg when no row comes back.
 * Returns the rc (the error response is already set on failure). */
int gl_resp_query_json(gl_req_t *req, int status, const gl_stmt_t *stmt,
                       const char *const *params, const char *not_found_msg);

/* Runs a prepared statement that must change exactly one row: GL_OK, or
 * the error response is set (404 with not_found_msg when no row changed). */
int gl_resp_exec_one(gl_req_t *req, const gl_stmt_t *stmt, const char *const *params,
                     const char *not_found_msg) GL_WUR;

/* Reason phrase of a status code. */
const char *gl_http_reason(int status);

/*
 * Reads and checks the request body (size, content type, JSON syntax and
 * depth) into req->body / req->json. Returns GL_OK, or sets the error
 * response (413, 415, 400) and returns GL_INVALID.
 */
int gl_req_read_body(gl_req_t *req) GL_WUR;

/* The second half of gl_req_read_body, for a body already read: takes
 * body[0..len) (NUL-terminated, in the arena) as req->body and, when the
 * Content-Type is JSON, parses it into req->json. GL_OK, or the error
 * response is set (400) and GL_INVALID. The fuzz targets call it. */
int gl_req_take_body(gl_req_t *req, char *body, size_t len) GL_WUR;

/* What gl_req_stream_body hands each chunk of the body to: GL_OK to go
 * on, else an error (err set) that stops the reading. */
typedef int (*gl_body_sink_fn)(void *ud, const char *buf, size_t len, gl_err_t *err);

#define GL_BODY_CHUNK (64u << 10)

/*
 * Reads len bytes of the request body (its Content-Length) from FastCGI
 * stdin in chunks of at most GL_BODY_CHUNK bytes, into one buffer of
 * req->arena, and hands each to sink as it comes: a body of any size costs
 * one chunk of memory (uploads, webhook files). GL_OK; the sink's error
 * (nothing more is read); or GL_INVALID when the body ended early (err says
 * after how many bytes). Sets no response: the caller answers. What is
 * left unread the worker drops after the handler (worker.c).
 */
int gl_req_stream_body(gl_req_t *req, int64_t len, gl_body_sink_fn sink, void *ud, gl_err_t *err) GL_WUR;

/* Writes the response set on req (or a 500 if none was) to the client. */
void gl_req_send(gl_req_t *req);

#endif
