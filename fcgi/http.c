/*
 * http.c: request input (parameters, body) and response output. The body is
 * read into the worker's capped buffer and parsed with the configured depth
 * limit; the response is assembled in buffers reused across requests and
 * written with two FCGX_PutStr calls.
 */
#include "http.h"

#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

const char *gl_req_env(gl_req_t *req, const char *name)
{
    return FCGX_GetParam(name, req->fcgx->envp);
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

char *gl_url_decode(gl_arena_t *a, const char *v, size_t vlen)
{
    char *out = gl_arena_alloc(a, vlen + 1);
    size_t o = 0;
    for (size_t i = 0; i < vlen; i++) {
        if (v[i] == '+') {
            out[o++] = ' ';
        } else if (v[i] == '%') {
            int hi = i + 2 < vlen ? hex_digit(v[i + 1]) : -1;
            int lo = i + 2 < vlen ? hex_digit(v[i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                return NULL;
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[o++] = v[i];
        }
    }
    out[o] = '\0';
    return out;
}

const char *gl_req_query(gl_req_t *req, const char *name)
{
    size_t klen = strlen(name);
    for (const char *p = req->query; p && *p;) {
        size_t n = strcspn(p, "&");
        if (n > klen && strncmp(p, name, klen) == 0 && p[klen] == '=')
            return gl_url_decode(req->arena, p + klen + 1, n - klen - 1);
        p += n;
        if (*p == '&')
            p++;
    }
    return NULL;
}

const char *gl_req_param(gl_req_t *req, const char *name)
{
    for (int i = 0; i < req->n_params; i++)
        if (strcmp(req->param_names[i], name) == 0)
            return req->param_values[i];
    return NULL;
}

const char *gl_http_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 302: return "Found";
    case 303: return "See Other";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 428: return "Precondition Required";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 507: return "Insufficient Storage";
    default: return "Unknown";
    }
}

void gl_resp_json(gl_req_t *req, int status, const char *json, size_t len)
{
    req->status = status;
    gl_buf_reset(req->out, SIZE_MAX);
    if (gl_buf_append(req->out, json, len) != GL_OK) {
        gl_log(GL_LOG_ERROR, "response body of %zu bytes exceeds the response cap", len);
        gl_buf_reset(req->out, SIZE_MAX);
        req->status = 500;
        if (gl_buf_puts(req->out, "{\"error\":{\"code\":\"internal\",\"message\":\"response too large\"}}") != GL_OK)
            gl_log(GL_LOG_ERROR, "cannot even send an error body");
    }
}

void gl_resp_header(gl_req_t *req, const char *name, const char *value)
{
    if (strpbrk(name, "\r\n:") || strpbrk(value, "\r\n")) {
        gl_log(GL_LOG_ERROR, "refusing header with CR/LF: %s", name);
        return;
    }
    if (gl_buf_printf(req->headers, "%s: %s\r\n", name, value) != GL_OK)
        gl_log(GL_LOG_ERROR, "response headers too large; dropped %s", name);
}

void gl_resp_error(gl_req_t *req, int status, const char *code, const char *field,
                   const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);

    gl_buf_t *b = req->out;
    gl_buf_reset(b, SIZE_MAX);
    req->status = status;
    int rc = gl_buf_puts(b, "{\"error\":{\"code\":\"");
    rc |= gl_buf_json_escape(b, code, strlen(code));
    rc |= gl_buf_puts(b, "\",\"message\":\"");
    rc |= gl_buf_json_escape(b, msg, strlen(msg));
    rc |= gl_buf_puts(b, "\"");
    if (field && *field) {
        rc |= gl_buf_puts(b, ",\"field\":\"");
        rc |= gl_buf_json_escape(b, field, strlen(field));
        rc |= gl_buf_puts(b, "\"");
    }
    rc |= gl_buf_puts(b, ",\"request_id\":\"");
    rc |= gl_buf_json_escape(b, req->request_id, strlen(req->request_id));
    rc |= gl_buf_puts(b, "\"}}");
    if (rc != GL_OK)
        gl_log(GL_LOG_ERROR, "error response did not fit the response buffer");
    if (status >= 500)
        gl_log(GL_LOG_ERROR, "%s %.*s -> %d %s: %s", req->method, (int)req->path_len, req->path,
               status, code, msg);
    else
        gl_log(GL_LOG_DEBUG, "%s %.*s -> %d %s: %s", req->method, (int)req->path_len, req->path,
               status, code, msg);
}

void gl_resp_fail(gl_req_t *req, int rc, const gl_err_t *err)
{
    const char *field = err ? err->field : NULL;
    switch (rc) {
    case GL_NOTFOUND:
        gl_resp_error(req, 404, "not_found", field, "%s", err->msg);
        break;
    case GL_CONFLICT:
        gl_resp_error(req, 409, "conflict", field, "%s", err->msg);
        break;
    case GL_INVALID:
        gl_resp_error(req, 400, "invalid", field, "%s", err->msg);
        break;
    case GL_TOO_LARGE:
        gl_resp_error(req, 413, "too_large", field, "%s", err->msg);
        break;
    case GL_RETRY:
        gl_resp_error(req, 409, "conflict", NULL, "a concurrent change got in the way; try again");
        break;
    case GL_UNAVAILABLE:
        gl_resp_header(req, "Retry-After", "1");
        if (gl_db_timed_out(err)) {
            /* statement_timeout or lock_timeout: rolled back, worth a retry */
            gl_resp_error(req, 503, "database_timeout", NULL, "the database did not answer in time; try again");
            gl_log(GL_LOG_WARN, "database timeout (%s): %s", err->sqlstate, err->msg);
            break;
        }
        gl_resp_error(req, 503, "database_unavailable", NULL, "the database is unavailable");
        gl_log(GL_LOG_WARN, "database unavailable: %s", err->msg);
        break;
    case GL_SCHEMA:
        gl_resp_error(req, 503, "schema_too_new", NULL, "%s", err->msg);
        break;
    case GL_UNSAFE:
        gl_log(GL_LOG_ERROR, "%s", err->msg);
        gl_resp_error(req, 503, "unsafe_configuration", NULL, "the server is misconfigured; see its log");
        break;
    default:
        /* the detail goes to the log, never to the client */
        gl_log(GL_LOG_ERROR, "internal error: %s", err ? err->msg : "");
        gl_resp_error(req, 500, "internal", NULL, "internal error (request %s)", req->request_id);
        break;
    }
}

int gl_resp_query_json(gl_req_t *req, int status, const gl_stmt_t *stmt,
                       const char *const *params, const char *not_found_msg)
{
    gl_err_t err;
    gl_err_clear(&err);
    PGresult *res = NULL;
    int rc = gl_db_query(req->db, stmt, params, req->arena, &res, &err);
    if (rc != GL_OK) {
        gl_resp_fail(req, rc, &err);
        return rc;
    }
    if (PQntuples(res) == 0 || PQgetisnull(res, 0, 0)) {
        gl_resp_error(req, 404, "not_found", NULL, "%s", not_found_msg);
        return GL_NOTFOUND;
    }
    /* PostgreSQL rendered the JSON: send it as it is */
    gl_resp_json(req, status, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
    return GL_OK;
}

int gl_resp_exec_one(gl_req_t *req, const gl_stmt_t *stmt, const char *const *params,
                     const char *not_found_msg)
{
    gl_err_t err;
    gl_err_clear(&err);
    PGresult *res = NULL;
    int rc = gl_db_query(req->db, stmt, params, req->arena, &res, &err);
    if (rc != GL_OK) {
        gl_resp_fail(req, rc, &err);
        return rc;
    }
    if (strcmp(PQcmdTuples(res), "1") != 0) {
        gl_resp_error(req, 404, "not_found", NULL, "%s", not_found_msg);
        return GL_NOTFOUND;
    }
    return GL_OK;
}

/* True for application/json and any application/…+json, with parameters. */
static bool is_json_type(const char *ct)
{
    if (!ct)
        return false;
    size_t n = strcspn(ct, ";");
    while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    if (n == 16 && strncasecmp(ct, "application/json", 16) == 0)
        return true;
    return n > 17 && strncasecmp(ct, "application/", 12) == 0 &&
           strncasecmp(ct + n - 5, "+json", 5) == 0;
}

int gl_req_read_body(gl_req_t *req)
{
    const char *cl = gl_req_env(req, "CONTENT_LENGTH");
    int64_t len = 0;
    if (cl && *cl && gl_parse_i64(cl, 0, INT64_MAX, &len) != GL_OK) {
        gl_resp_error(req, 400, "bad_request", NULL, "invalid Content-Length");
        return GL_INVALID;
    }
    if (len == 0)
        return GL_OK;
    int64_t max = req->cfg->http_max_body;
    if (len > max) {
        gl_resp_error(req, 413, "body_too_large", "body",
                      "request body of %lld bytes exceeds the limit of %lld bytes",
                      (long long)len, (long long)max);
        return GL_INVALID;
    }
    bool json_type = is_json_type(gl_req_env(req, "CONTENT_TYPE"));
    if (!json_type && !req->any_body) {
        gl_resp_error(req, 415, "unsupported_media_type", "Content-Type",
                      "request bodies must be JSON (Content-Type: application/json)");
        return GL_INVALID;
    }
    char *body = gl_arena_alloc(req->arena, (size_t)len + 1);
    size_t got = 0;
    while (got < (size_t)len) {
        int n = FCGX_GetStr(body + got, (int)((size_t)len - got), req->fcgx->in);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    if (got != (size_t)len) {
        gl_resp_error(req, 400, "bad_request", "body", "request body ended after %zu of %lld bytes",
                      got, (long long)len);
        return GL_INVALID;
    }
    body[got] = '\0';
    return gl_req_take_body(req, body, got);
}

int gl_req_stream_body(gl_req_t *req, int64_t len, gl_body_sink_fn sink, void *ud, gl_err_t *err)
{
    char *buf = gl_arena_alloc(req->arena, GL_BODY_CHUNK);
    int64_t got = 0;
    while (got < len) {
        int want = (int)(len - got < GL_BODY_CHUNK ? len - got : GL_BODY_CHUNK);
        int n = FCGX_GetStr(buf, want, req->fcgx->in);
        if (n <= 0)
            break;
        int rc = sink(ud, buf, (size_t)n, err);
        if (rc != GL_OK)
            return rc;
        got += n;
    }
    if (got != len) {
        gl_err_field(err, "body", "request body ended after %lld of %lld bytes", (long long)got, (long long)len);
        return GL_INVALID;
    }
    return GL_OK;
}

int gl_req_take_body(gl_req_t *req, char *body, size_t len)
{
    req->body = body;
    req->body_len = len;
    if (!is_json_type(gl_req_env(req, "CONTENT_TYPE")))
        return GL_OK; /* a webhook's form or text body */

    gl_err_t err;
    gl_err_clear(&err);
    json_object *obj = NULL;
    int rc = gl_json_parse(body, len, req->cfg->http_max_json_depth, &obj, &err);
    if (rc == GL_TOO_LARGE) {
        gl_resp_error(req, 400, "json_too_deep", "body", "%s", err.msg);
        return GL_INVALID;
    }
    if (rc != GL_OK) {
        gl_resp_error(req, 400, "invalid_json", "body", "%s", err.msg);
        return GL_INVALID;
    }
    req->json = gl_json_own(req->arena, obj);
    return GL_OK;
}

void gl_req_send(gl_req_t *req)
{
    if (req->streamed)
        return;
    if (req->status == 0)
        gl_resp_error(req, 500, "internal", NULL, "the handler produced no response");
    char head[512];
    int n = snprintf(head, sizeof head,
                     "Status: %d %s\r\n"
                     "Content-Type: %s\r\n"
                     "Cache-Control: no-store\r\n"
                     "X-Request-Id: %s\r\n"
                     "Content-Length: %zu\r\n",
                     req->status, gl_http_reason(req->status),
                     req->content_type ? req->content_type : "application/json; charset=utf-8", req->request_id,
                     req->out->len);
    if (n < 0 || (size_t)n >= sizeof head)
        return;
    FCGX_PutStr(head, n, req->fcgx->out);
    if (req->headers->len)
        FCGX_PutStr(req->headers->data, (int)req->headers->len, req->fcgx->out);
    FCGX_PutStr("\r\n", 2, req->fcgx->out);
    if (!req->head && req->out->len)
        FCGX_PutStr(req->out->data, (int)req->out->len, req->fcgx->out);
}
