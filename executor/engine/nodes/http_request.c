/*
 * http_request.c: the http.request node — one HTTP request per input item,
 * one output item per request:
 *
 *   {"status": 200, "headers": {"content-type": "…", …}, "body": <JSON or text>}
 *
 * (with output "body", n8n's layout: the body itself, see emit_body).
 *
 * Per item: the parameters are evaluated for that item, checked (absolute
 * http(s) URL, string-valued headers without CR/LF, a body matching
 * body_type), the request runs on the activation's one curl easy handle
 * (reset between items), and the response becomes the item. Any failure
 * fails the whole activation: the engine retries or records it, and the
 * outputs of a failed attempt are discarded.
 *
 * Limits: the response body is capped at GL_MAX_HTTP_RESPONSE, the request
 * body at GL_MAX_HTTP_REQUEST; at most GL_HTTP_MAX_REDIRS redirects; only
 * http and https, also when redirected; the timeout is timeout_ms cut to
 * what is left of the node's deadline, the connect timeout at most 10 s.
 * During a transfer the job's lease is renewed every GL_HTTP_BEAT_MS through
 * io.heartbeat, and the transfer stops when that fails.
 *
 * Error messages name the method and the URL without userinfo, query or
 * fragment (they may hold secrets): "HTTP 404 from GET https://host/path".
 * Network errors, timeouts, 429 and 5xx are retryable; Retry-After on 429
 * and 503 becomes c->retry_after_ms (at most an hour).
 *
 * Every connection goes through the outbound guard of http_client.h
 * (http.allow_private), with its uniform "could not connect" message.
 *
 * Credentials. The `credential` parameter names one of the org's
 * credentials (engine.h); its type says how it is applied (http_auth.c,
 * shared with the credential test of http_probe.c):
 *   http.header    header `header_name: value`
 *   http.bearer    Authorization: Bearer token
 *   http.basic     Authorization: Basic base64(username:password)
 *   http.query     query parameter `param_name=value` (URL-encoded)
 *   oauth2.code, oauth2.client
 *                  Authorization: Bearer access_token (kept fresh by the
 *                  source); a 401 is tried once more with a fresh token
 * A header or query parameter the credential sets replaces one of the same
 * name from the parameters. Other types (generic, webhook.hmac) are
 * refused. With a credential, redirects are followed only on the
 * request's own origin (scheme, host, port): a secret never follows a
 * redirect to another host. What the credential adds that is not a secret
 * value itself (a Basic header's base64) is listed for redaction too.
 */
#include "node.h"

#include "buf.h"
#include "http_client.h"
#include "json.h"
#include "log.h"
#include "multipart.h"

#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define GL_MAX_HTTP_RESPONSE (8u << 20)
#define GL_MAX_HTTP_REQUEST (8u << 20)
#define GL_HTTP_MAX_REDIRS 10L
#define GL_HTTP_RETRY_AFTER_MAX_MS 3600000
#define GL_HTTP_JSON_DEPTH 128
#define GL_HTTP_MAX_FILES 16

typedef enum { BODY_NONE, BODY_JSON, BODY_FORM, BODY_RAW, BODY_BINARY, BODY_MULTIPART } body_type_t;
typedef enum { RESP_AUTO, RESP_JSON, RESP_TEXT, RESP_FILE } resp_type_t;

static const char *const methods[] = { "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", NULL };
static const char *const body_types[] = { "none", "json", "form", "raw", "binary", "multipart", NULL };
static const char *const resp_types[] = { "auto", "json", "text", "file", NULL };
static const char *const out_kinds[] = { "response", "body", NULL };

/* One request, built from the parameters for one item. */
typedef struct {
    const char *method;        /* an entry of methods[] */
    char *url;                 /* what is requested (curl_free) */
    char *safe_url;            /* for messages: no userinfo, query, fragment (curl_free) */
    struct curl_slist *headers; /* from the parameters (without the credential's) */
    gl_buf_t body;             /* request body, when has_body */
    bool has_body;
    body_type_t body_type;
    resp_type_t resp_type;
    int64_t timeout_ms;
    bool deadline_cut;         /* timeout_ms was cut to the node's deadline */
    bool follow;
    bool fail_on_status;
    /* the credential applied (engine.h) and what it sets (http_client.h),
     * or auth.cred NULL; an OAuth2 one's 401 is tried once more with a
     * fresh token */
    gl__http_auth_t auth;
    char cred_name[208];
    /* files sent (body_type binary: fds[0], the whole body; multipart:
     * one per file part), read as curl asks and rewound for each transfer */
    int fds[GL_HTTP_MAX_FILES];
    int n_fds;
    int64_t upload_size;       /* body_type binary */
    const char *upload_type;   /* body_type binary: its media type (the item's) */
    curl_mime *mime;           /* body_type multipart */
    gl_fs_writer_t *file;      /* response_type file: the response body's file, until committed */
    int64_t status_seen;       /* response_type file: the status the body came with (0: none yet) */
    gl_node_ctx_t *ctx;        /* response_type file: for the sink */
    CURL *handle;              /* the activation's handle (the multipart body is bound to it) */
    char resp_prop[128];       /* response_type file: the binary property it fills */
} http_req_t;

typedef gl__http_xfer_t http_xfer_t;

static int option_index(const char *const *opts, const char *s)
{
    for (int i = 0; s && opts[i]; i++)
        if (strcasecmp(opts[i], s) == 0)
            return i;
    return -1;
}

/* A new JSON string of s[0..len): invalid UTF-8 bytes and NULs (which
 * PostgreSQL's jsonb refuses) become U+FFFD. The caller owns the result. */
static json_object *utf8_string(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, n, cap;

    while (i < len && (n = gl_utf8_seq(u + i, len - i)) > 0)
        i += n;
    if (i == len)
        return json_object_new_string_len(s, (int)len);

    gl_buf_t b;
    if (!gl_size_mul(len, 3, &cap))
        abort(); /* len is capped far below this */
    gl_buf_init(&b, cap + 1);
    if (gl_buf_append(&b, s, i) != GL_OK)
        abort();
    while (i < len) {
        n = gl_utf8_seq(u + i, len - i);
        if (gl_buf_append(&b, n ? s + i : "\xEF\xBF\xBD", n ? n : 3) != GL_OK)
            abort(); /* at most 3 bytes out per byte in: fits */
        i += n ? n : 1;
    }
    json_object *v = json_object_new_string_len(b.data ? b.data : "", (int)b.len);
    gl_buf_free(&b);
    return v;
}

/* The text of a scalar as JavaScript would print it (strings as they are,
 * 14.0 as "14", null as ""): borrowed from v or written to tmp. False for
 * objects and arrays. */
static bool scalar_text(json_object *v, char tmp[32], const char **s, size_t *n)
{
    double d;

    switch (v ? json_object_get_type(v) : json_type_null) {
    case json_type_null:
        *s = "";
        break;
    case json_type_string:
        *s = json_object_get_string(v);
        *n = (size_t)json_object_get_string_len(v);
        return true;
    case json_type_int:
    case json_type_boolean:
        *s = json_object_get_string(v);
        break;
    case json_type_double:
        d = json_object_get_double(v);
        if (isnan(d))
            *s = "NaN";
        else if (isinf(d))
            *s = d > 0 ? "Infinity" : "-Infinity";
        else if (fabs(d) < 1e15 && d == (double)(long long)d)
            snprintf(tmp, 32, "%lld", (long long)d), *s = tmp;
        else if (snprintf(tmp, 32, "%.15g", d), strtod(tmp, NULL) == d)
            *s = tmp;
        else
            snprintf(tmp, 32, "%.17g", d), *s = tmp;
        break;
    default:
        return false;
    }
    *n = strlen(*s);
    return true;
}

/* Appends name=value pairs of obj, percent-encoded and joined by '&', to b.
 * Arrays repeat the name. `what` names the parameter in errors. A pair
 * named skip (NULL: none) is left out: the credential sets it. */
static int encode_pairs(gl_node_ctx_t *c, json_object *obj, const char *what, const char *skip, gl_buf_t *b)
{
    json_object_object_foreach(obj, key, val) {
        if (skip && strcmp(key, skip) == 0)
            continue;
        size_t n_vals = json_object_is_type(val, json_type_array) ? json_object_array_length(val) : 1;
        for (size_t i = 0; i < n_vals; i++) {
            json_object *v = json_object_is_type(val, json_type_array) ? json_object_array_get_idx(val, i) : val;
            char tmp[32];
            const char *s;
            size_t n;
            if (!scalar_text(v, tmp, &s, &n))
                return gl_node_fail(c, "%s '%s': expected a string, number, boolean or array of them", what, key);
            if ((b->len && gl_buf_append(b, "&", 1) != GL_OK) || gl__http_urlencode(b, key, strlen(key)) != GL_OK ||
                gl_buf_append(b, "=", 1) != GL_OK || gl__http_urlencode(b, s, n) != GL_OK)
                return gl_node_fail(c, "%s too large", what);
        }
    }
    return GL_OK;
}

/* Parameter `name` for item `item` as a string (NULL when absent or null).
 * *holder owns the value (the caller puts it, also on error); *out points
 * into it. Not gl_node_param_str: its value lives in the engine's scratch
 * slot, and this node keeps several strings at once. */
static int param_string(gl_node_ctx_t *c, const char *name, int item, json_object **holder, const char **out)
{
    int rc = gl_node_param(c, name, item, holder);
    *out = NULL;
    if (rc != GL_OK)
        return rc;
    if (*holder && !json_object_is_type(*holder, json_type_string))
        return gl_node_fail(c, "%s must be a string, got %s", name, gl_json_type_name(*holder));
    *out = *holder ? json_object_get_string(*holder) : NULL;
    return GL_OK;
}

/* Parameter `name` as the index of one of opts (case-insensitive). */
static int param_option(gl_node_ctx_t *c, const char *name, int item, const char *const *opts, int *out)
{
    json_object *v;
    const char *s;
    int rc = param_string(c, name, item, &v, &s);
    if (rc == GL_OK && (*out = option_index(opts, s)) < 0)
        rc = gl_node_fail(c, "%s '%.32s' is not one of the choices", name, s ? s : "");
    json_object_put(v);
    return rc;
}

/* ---- credentials ---- */

static void slist_add(struct curl_slist **l, const char *s);

/* A form derived from a secret (http_client.h): listed for redaction. */
static void derived_secret(void *ud, const char *s, size_t n)
{
    gl_node_secret(ud, s, n);
}

/* r->auth, from the credential parameter: nothing when it is absent or "". */
static int req_cred(gl_node_ctx_t *c, int item, http_req_t *r)
{
    json_object *v = NULL;
    const gl_cred_t *cred = NULL;
    const char *name = NULL;
    int rc = gl_node_param(c, "credential", item, &v);
    if (rc != GL_OK)
        return rc;
    if (v && !json_object_is_type(v, json_type_string)) {
        json_object_put(v);
        return gl_node_fail(c, "credential must be the name of a credential (a string)");
    }
    name = v ? json_object_get_string(v) : "";
    if (!*name) {
        json_object_put(v);
        return GL_OK;
    }
    snprintf(r->cred_name, sizeof r->cred_name, "%s", name);
    gl_utf8_trim(r->cred_name);
    rc = gl_node_credential(c, name, &cred);
    json_object_put(v);
    if (rc != GL_OK)
        return rc;
    c->retryable = false;
    if (gl__http_auth_plan(cred, r->cred_name, &r->auth, c->error, sizeof c->error) != GL_OK)
        return GL_INVALID;
    return GL_OK;
}

/* The headers sent: the parameters' and the credential's, a new list
 * into *out (the caller frees it with curl_slist_free_all). */
static int send_headers(gl_node_ctx_t *c, const http_req_t *r, struct curl_slist **out)
{
    gl_buf_t line;
    int rc = GL_OK;
    *out = NULL;
    for (const struct curl_slist *l = r->headers; l; l = l->next)
        slist_add(out, l->data);
    if (!r->auth.cred || !r->auth.header)
        return GL_OK;
    gl_buf_init(&line, 128 << 10);
    rc = gl__http_auth_header(&r->auth, &line, derived_secret, c, c->error, sizeof c->error);
    if (rc == GL_OK)
        slist_add(out, line.data);
    if (line.data)
        sodium_memzero(line.data, line.len);
    gl_buf_free(&line);
    return rc;
}

/* r->url and r->safe_url from the url and query parameters. */
static int req_url(gl_node_ctx_t *c, int item, http_req_t *r)
{
    json_object *url_v = NULL, *query = NULL;
    const char *url;
    CURLU *u = NULL;
    CURLUcode uc;
    gl_buf_t qs;
    int rc;

    gl_buf_init(&qs, GL_MAX_HTTP_REQUEST);
    if ((rc = param_string(c, "url", item, &url_v, &url)) != GL_OK)
        goto done;
    if (!url || !*url) {
        rc = gl_node_fail(c, "url is empty");
        goto done;
    }
    if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0) {
        rc = gl_node_fail(c, "url must be an absolute http:// or https:// URL");
        goto done;
    }
    if (!(u = curl_url()))
        abort();
    if ((uc = curl_url_set(u, CURLUPART_URL, url, 0)) != CURLUE_OK) {
        rc = gl_node_fail(c, "url is not a valid URL (%s)", curl_url_strerror(uc));
        goto done;
    }
    if ((rc = gl_node_param(c, "query", item, &query)) != GL_OK)
        goto done;
    if (query && !json_object_is_type(query, json_type_object)) {
        rc = gl_node_fail(c, "query must be an object, got %s", gl_json_type_name(query));
        goto done;
    }
    if (query && (rc = encode_pairs(c, query, "query parameter", r->auth.query, &qs)) != GL_OK)
        goto done;
    if (r->auth.query &&
        (rc = gl__http_auth_query(&r->auth, &qs, derived_secret, c, c->error, sizeof c->error)) != GL_OK)
        goto done;
    if (qs.len && curl_url_set(u, CURLUPART_QUERY, qs.data, CURLU_APPENDQUERY) != CURLUE_OK) {
        rc = gl_node_fail(c, "url with query is not a valid URL");
        goto done;
    }
    if (curl_url_get(u, CURLUPART_URL, &r->url, 0) != CURLUE_OK) {
        rc = gl_node_fail(c, "url is not a valid URL");
        goto done;
    }
    /* the URL for messages: no credentials, no query secrets */
    r->safe_url = gl__http_safe_url(r->url);
    rc = GL_OK;
done:
    json_object_put(url_v);
    json_object_put(query);
    gl_buf_free(&qs);
    curl_url_cleanup(u);
    return rc;
}

static void slist_add(struct curl_slist **l, const char *s)
{
    struct curl_slist *n = curl_slist_append(*l, s);
    if (!n) {
        gl_log(GL_LOG_ERROR, "out of memory");
        abort();
    }
    *l = n;
}

/* r->headers from the headers parameter, plus the defaults the user did not
 * set (Content-Type for bodies; no Expect: 100-continue). */
static int req_headers(gl_node_ctx_t *c, int item, http_req_t *r)
{
    json_object *hdrs = NULL;
    bool has_ctype = false, has_expect = false;
    gl_buf_t line;
    int rc;

    if ((rc = gl_node_param(c, "headers", item, &hdrs)) != GL_OK)
        return rc;
    if (hdrs && !json_object_is_type(hdrs, json_type_object)) {
        rc = gl_node_fail(c, "headers must be an object, got %s", gl_json_type_name(hdrs));
        json_object_put(hdrs);
        return rc;
    }
    gl_buf_init(&line, 64 << 10);
    rc = GL_OK;
    has_ctype = r->auth.header && strcasecmp(r->auth.header, "content-type") == 0;
    has_expect = r->auth.header && strcasecmp(r->auth.header, "expect") == 0;
    if (hdrs) {
        json_object_object_foreach(hdrs, name, val) {
            char tmp[32];
            const char *s;
            size_t n;
            if (!gl__http_header_name_ok(name)) {
                rc = gl_node_fail(c, "header name '%.64s' is not valid", name);
                break;
            }
            if (!val)
                continue; /* null: header not sent */
            if (r->auth.header && strcasecmp(name, r->auth.header) == 0)
                continue; /* the credential sets it */
            if (!scalar_text(val, tmp, &s, &n)) {
                rc = gl_node_fail(c, "header '%s': expected a string, got %s", name, gl_json_type_name(val));
                break;
            }
            if (memchr(s, '\r', n) || memchr(s, '\n', n) || strlen(s) != n) {
                rc = gl_node_fail(c, "header '%s': value contains CR, LF or NUL", name);
                break;
            }
            has_ctype |= strcasecmp(name, "content-type") == 0;
            has_expect |= strcasecmp(name, "expect") == 0;
            gl_buf_reset(&line, 64 << 10);
            /* "Name;" is curl's way to send a header with an empty value */
            if (gl_buf_printf(&line, n ? "%s: %s" : "%s;", name, s) != GL_OK) {
                rc = gl_node_fail(c, "header '%s' too large", name);
                break;
            }
            slist_add(&r->headers, line.data);
        }
    }
    if (rc == GL_OK && !has_ctype && r->body_type == BODY_JSON)
        slist_add(&r->headers, "Content-Type: application/json");
    if (rc == GL_OK && !has_ctype && r->body_type == BODY_FORM)
        slist_add(&r->headers, "Content-Type: application/x-www-form-urlencoded");
    if (rc == GL_OK && !has_ctype && r->body_type == BODY_RAW)
        slist_add(&r->headers, "Content-Type: text/plain");
    if (rc == GL_OK && !has_ctype && r->body_type == BODY_BINARY) {
        gl_buf_reset(&line, 64 << 10);
        if (gl_buf_printf(&line, "Content-Type: %s", r->upload_type) == GL_OK)
            slist_add(&r->headers, line.data);
    }
    if (rc == GL_OK && !has_ctype && r->body_type == BODY_NONE)
        slist_add(&r->headers, "Content-Type:"); /* not curl's form type for an empty POST */
    if (rc == GL_OK && !has_expect)
        slist_add(&r->headers, "Expect:");
    gl_buf_free(&line);
    json_object_put(hdrs);
    return rc;
}

/* ---- files sent ---- */

static size_t on_read(char *buf, size_t size, size_t n, void *ud)
{
    int fd = *(int *)ud;
    ssize_t got;
    do
        got = read(fd, buf, size * n);
    while (got < 0 && errno == EINTR);
    return got < 0 ? CURL_READFUNC_ABORT : (size_t)got;
}

static int on_seek(void *ud, curl_off_t offset, int origin)
{
    return lseek(*(int *)ud, (off_t)offset, origin) < 0 ? CURL_SEEKFUNC_FAIL : CURL_SEEKFUNC_OK;
}

/* Opens item `item`'s binary property prop to send it: its descriptor is
 * added to r->fds (closed by req_free). */
static int open_upload(gl_node_ctx_t *c, int item, http_req_t *r, const char *prop, gl_binary_ref_t *ref)
{
    if (r->n_fds >= GL_HTTP_MAX_FILES)
        return gl_node_fail(c, "at most %d files per request", GL_HTTP_MAX_FILES);
    int rc = gl_node_binary(c, item, prop, ref);
    if (rc == GL_OK && (rc = gl_node_file_open(c, ref, &r->fds[r->n_fds])) == GL_OK)
        r->n_fds++;
    return rc;
}

/* A media type fit for a header: the file's, else application/octet-stream. */
static const char *file_type(const gl_binary_ref_t *ref)
{
    return ref->mime_type && gl_filestore_type_ok(ref->mime_type) ? ref->mime_type : "application/octet-stream";
}

/* body_type binary: the body is the file binary_property names. */
static int body_binary(gl_node_ctx_t *c, int item, http_req_t *r)
{
    json_object *v = NULL;
    const char *prop;
    gl_binary_ref_t ref;
    int rc = param_string(c, "binary_property", item, &v, &prop);
    if (rc == GL_OK && (rc = open_upload(c, item, r, prop && *prop ? prop : GL_BINARY_PROP_DEFAULT, &ref)) == GL_OK) {
        r->upload_size = ref.size;
        r->upload_type = file_type(&ref);
    }
    json_object_put(v);
    return rc;
}

/* body_type multipart: a text part per field of the body object (strings
 * as they are, other values as JSON). */
static int mime_fields(gl_node_ctx_t *c, int item, http_req_t *r)
{
    json_object *body = NULL;
    int rc = gl_node_param(c, "body", item, &body);
    if (rc != GL_OK)
        return rc;
    if (body && !json_object_is_type(body, json_type_object))
        rc = gl_node_fail(c, "body_type multipart needs an object body (its fields are the text parts), got %s",
                          gl_json_type_name(body));
    if (rc != GL_OK || !body) {
        json_object_put(body);
        return rc;
    }
    json_object_object_foreach(body, k, v)
    {
        char tmp[32];
        const char *t;
        size_t n;
        if (!scalar_text(v, tmp, &t, &n))
            t = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN), n = strlen(t);
        curl_mimepart *part = curl_mime_addpart(r->mime);
        if (!part || curl_mime_name(part, k) != CURLE_OK || curl_mime_data(part, t, n) != CURLE_OK) {
            rc = gl_node_fail(c, "out of memory for the multipart body");
            break;
        }
    }
    json_object_put(body);
    return rc;
}

/* One entry of binary_property for multipart, "prop" or "field:prop"
 * (spaces around either trimmed): a file part. */
static int mime_file(gl_node_ctx_t *c, int item, http_req_t *r, char *spec)
{
    char *colon = strchr(spec, ':');
    char *field = spec, *prop = colon ? colon + 1 : spec;
    if (colon)
        *colon = '\0';
    field = gl_str_trim(field);
    prop = prop == spec ? field : gl_str_trim(prop);
    if (!*field || !*prop)
        return gl_node_fail(c, "binary_property: each entry is a property or field:property, separated by commas");
    gl_binary_ref_t ref;
    int rc = open_upload(c, item, r, prop, &ref);
    if (rc != GL_OK)
        return rc;
    curl_mimepart *part = curl_mime_addpart(r->mime);
    if (!part || curl_mime_name(part, field) != CURLE_OK || curl_mime_filename(part, ref.file_name) != CURLE_OK ||
        curl_mime_type(part, file_type(&ref)) != CURLE_OK ||
        curl_mime_data_cb(part, (curl_off_t)ref.size, on_read, on_seek, NULL, &r->fds[r->n_fds - 1]) != CURLE_OK)
        return gl_node_fail(c, "out of memory for the multipart body");
    return GL_OK;
}

/* body_type multipart: the body's fields, then a file part per entry of
 * binary_property. */
static int body_multipart(gl_node_ctx_t *c, int item, http_req_t *r)
{
    json_object *v = NULL;
    const char *list = NULL;
    if (!(r->mime = curl_mime_init(r->handle)))
        return gl_node_fail(c, "out of memory for the multipart body");
    int rc = mime_fields(c, item, r);
    if (rc == GL_OK)
        rc = param_string(c, "binary_property", item, &v, &list);
    for (const char *p = list && *list ? list : GL_BINARY_PROP_DEFAULT; rc == GL_OK && *p;) {
        size_t n = strcspn(p, ",");
        char spec[256];
        if (n >= sizeof spec) {
            rc = gl_node_fail(c, "binary_property: an entry is longer than %zu bytes", sizeof spec - 1);
            break;
        }
        memcpy(spec, p, n);
        spec[n] = '\0';
        p += n + (p[n] == ',');
        rc = mime_file(c, item, r, spec);
    }
    json_object_put(v);
    return rc;
}

/* r->body from the body parameter, encoded as r->body_type says. */
static int req_body(gl_node_ctx_t *c, int item, http_req_t *r)
{
    json_object *body = NULL;
    const char *s;
    size_t n;
    int rc;

    if (r->body_type == BODY_NONE)
        return GL_OK;
    r->has_body = true;
    if (r->body_type == BODY_BINARY)
        return body_binary(c, item, r);
    if (r->body_type == BODY_MULTIPART)
        return body_multipart(c, item, r);
    if ((rc = gl_node_param(c, "body", item, &body)) != GL_OK)
        return rc;
    switch (r->body_type) {
    case BODY_JSON:
        s = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        rc = gl_buf_append(&r->body, s, strlen(s));
        break;
    case BODY_FORM:
        if (body && !json_object_is_type(body, json_type_object)) {
            rc = gl_node_fail(c, "body_type form needs an object body, got %s", gl_json_type_name(body));
            goto done;
        }
        rc = body ? encode_pairs(c, body, "form field", NULL, &r->body) : GL_OK;
        if (rc != GL_OK)
            goto done;
        break;
    default: /* BODY_RAW: strings as they are, other values as JSON text */
        if (!body || json_object_is_type(body, json_type_string)) {
            s = body ? json_object_get_string(body) : "";
            n = body ? (size_t)json_object_get_string_len(body) : 0;
        } else {
            s = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
            n = strlen(s);
        }
        rc = gl_buf_append(&r->body, s, n);
        break;
    }
    if (rc != GL_OK)
        rc = gl_node_fail(c, "request body larger than %u MiB", GL_MAX_HTTP_REQUEST >> 20);
done:
    json_object_put(body);
    return rc;
}


/* response_type file: r->resp_prop from response_property. */
static int req_resp_prop(gl_node_ctx_t *c, int item, http_req_t *r)
{
    json_object *v = NULL;
    const char *prop;
    int rc = param_string(c, "response_property", item, &v, &prop);
    if (rc == GL_OK && prop && (!*prop || strlen(prop) >= sizeof r->resp_prop))
        rc = gl_node_fail(c, "response_property must be a name of 1 to %zu bytes", sizeof r->resp_prop - 1);
    if (rc == GL_OK)
        snprintf(r->resp_prop, sizeof r->resp_prop, "%s", prop ? prop : GL_BINARY_PROP_DEFAULT);
    json_object_put(v);
    return rc;
}

/* Fills r from the parameters evaluated for input item `item`. */
static int req_build(gl_node_ctx_t *c, int item, http_req_t *r)
{
    int m, bt, rt, rc;
    int64_t left;

    if ((rc = param_option(c, "method", item, methods, &m)) != GL_OK ||
        (rc = param_option(c, "body_type", item, body_types, &bt)) != GL_OK ||
        (rc = param_option(c, "response_type", item, resp_types, &rt)) != GL_OK ||
        (rc = gl_node_param_int(c, "timeout_ms", item, &r->timeout_ms)) != GL_OK ||
        (rc = gl_node_param_bool(c, "follow_redirects", item, &r->follow)) != GL_OK ||
        (rc = gl_node_param_bool(c, "fail_on_status", item, &r->fail_on_status)) != GL_OK)
        return rc;
    r->method = methods[m];
    r->body_type = (body_type_t)bt;
    r->resp_type = (resp_type_t)rt;
    if (r->timeout_ms < 1 || r->timeout_ms > GL_HTTP_MAX_TIMEOUT_MS)
        return gl_node_fail(c, "timeout_ms must be between 1 and %d", GL_HTTP_MAX_TIMEOUT_MS);
    if (c->deadline_ms > 0) {
        left = c->deadline_ms - gl_wall_ms();
        if (left <= 0)
            return gl_node_fail(c, "no time left for the request (node deadline passed)");
        if (left < r->timeout_ms)
            r->timeout_ms = left, r->deadline_cut = true;
    }
    /* the credential before the URL and the headers: it may set a query
     * parameter or a header they must leave out */
    if ((rc = req_cred(c, item, r)) != GL_OK || (rc = req_url(c, item, r)) != GL_OK ||
        (rc = req_body(c, item, r)) != GL_OK || (rc = req_headers(c, item, r)) != GL_OK)
        return rc;
    return r->resp_type == RESP_FILE ? req_resp_prop(c, item, r) : GL_OK;
}

static void req_free(http_req_t *r)
{
    for (int i = 0; i < r->n_fds; i++)
        close(r->fds[i]);
    curl_mime_free(r->mime);
    gl_filestore_abort(r->file);
    curl_free(r->url);
    curl_free(r->safe_url);
    curl_slist_free_all(r->headers);
    gl_buf_free(&r->body);
}

/* The final response's headers (not a redirect's or a 1xx's) into
 * x->headers, through libcurl's header API: names lower-cased, repeated
 * headers joined with ", ", names that are not tokens skipped. */
static void read_headers(CURL *h, http_xfer_t *x)
{
    char name[128];
    x->headers = json_object_new_object();
    for (struct curl_header *hd = NULL; (hd = curl_easy_nextheader(h, CURLH_HEADER, -1, hd)) != NULL;) {
        size_t name_len = strlen(hd->name);
        bool token = name_len > 0 && name_len < sizeof name;
        for (size_t i = 0; token && i < name_len; i++) {
            unsigned char ch = (unsigned char)hd->name[i];
            name[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : (char)ch;
            token = ch > ' ' && ch < 0x7F && ch != ':';
        }
        if (!token)
            continue;
        name[name_len] = '\0';
        json_object *prev;
        if (json_object_object_get_ex(x->headers, name, &prev)) {
            gl_buf_t b;
            gl_buf_init(&b, 256 << 10);
            if (gl_buf_printf(&b, "%s, %s", json_object_get_string(prev), hd->value) == GL_OK)
                json_object_object_add(x->headers, name, utf8_string(b.data, b.len));
            gl_buf_free(&b);
        } else {
            json_object_object_add(x->headers, name, utf8_string(hd->value, strlen(hd->value)));
        }
    }
}

static void set_method(CURL *h, http_req_t *r)
{
    bool is_post = strcmp(r->method, "POST") == 0;
    bool needs_body = is_post || strcmp(r->method, "PUT") == 0 || strcmp(r->method, "PATCH") == 0;

    if (strcmp(r->method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (r->body_type == BODY_MULTIPART || r->body_type == BODY_BINARY) {
        /* files stream from the store; rewound for each transfer */
        for (int i = 0; i < r->n_fds; i++)
            (void)lseek(r->fds[i], 0, SEEK_SET);
        if (r->mime) {
            curl_easy_setopt(h, CURLOPT_MIMEPOST, r->mime);
        } else {
            curl_easy_setopt(h, CURLOPT_POST, 1L);
            curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
            curl_easy_setopt(h, CURLOPT_READDATA, &r->fds[0]);
            curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
            curl_easy_setopt(h, CURLOPT_SEEKDATA, &r->fds[0]);
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->upload_size);
        }
        if (!is_post)
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
    } else if (r->has_body || needs_body) {
        /* an empty POST/PUT/PATCH still says Content-Length: 0 */
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, r->body.data ? r->body.data : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body.len);
        if (!is_post)
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
    } else if (strcmp(r->method, "GET") != 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
    }
}

static void set_options(CURL *h, http_req_t *r, struct curl_slist *headers, http_xfer_t *x, char *errbuf)
{
    if (r->auth.cred && r->follow)
        x->origin_url = r->url; /* a secret does not follow a redirect elsewhere */
    gl__http_base_options(h, r->url, r->timeout_ms, x, errbuf);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, r->follow ? 1L : 0L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, GL_HTTP_MAX_REDIRS);
    set_method(h, r);
}

/* Reports a failed transfer: message and whether a retry may help. */
static int fail_transfer(gl_node_ctx_t *c, const http_req_t *r, const http_xfer_t *x, CURLcode res,
                         const char *errbuf)
{
    if (x->sink_rc != GL_OK)
        return x->sink_rc; /* the file store's refusal, already the node's error */
    char msg[sizeof c->error];
    c->retryable = gl__http_failure(x, res, errbuf, r->method, r->safe_url, r->timeout_ms, r->deadline_cut, msg,
                                    sizeof msg);
    return gl_node_fail(c, "%s", msg);
}

/* Retry-After (delay-seconds or HTTP-date) in ms, capped; 0 when absent or past. */
static int64_t retry_after_ms(json_object *headers)
{
    json_object *h;
    const char *s;
    int64_t ms = 0, secs;

    if (!json_object_object_get_ex(headers, "retry-after", &h))
        return 0;
    s = json_object_get_string(h);
    if (s[0] >= '0' && s[0] <= '9') {
        size_t digits = strspn(s, "0123456789");
        if (s[digits] != '\0')
            return 0;
        if (digits > 7 || gl_parse_i64(s, 0, 9999999, &secs) != GL_OK)
            return GL_HTTP_RETRY_AFTER_MAX_MS;
        ms = secs * 1000;
    } else {
        time_t t = curl_getdate(s, NULL);
        if (t < 0)
            return 0;
        ms = (int64_t)t * 1000 - gl_wall_ms();
    }
    if (ms < 0)
        return 0;
    return ms < GL_HTTP_RETRY_AFTER_MAX_MS ? ms : GL_HTTP_RETRY_AFTER_MAX_MS;
}

/* True for application/json and any type/subtype+json, parameters ignored. */
static bool is_json_type(const char *ct)
{
    size_t n;
    if (!ct)
        return false;
    n = strcspn(ct, "; \t");
    if (n == 16 && strncasecmp(ct, "application/json", 16) == 0)
        return true;
    return n > 5 && strncasecmp(ct + n - 5, "+json", 5) == 0;
}

/* ---- a response saved as a file (response_type file) ---- */

/* The body streams into r->file, unless its status fails the request
 * (fail_on_status): then it is dropped. */
static int file_sink(void *ud, const char *buf, size_t n)
{
    http_req_t *r = ud;
    if (!r->status_seen) {
        long st = 0;
        curl_easy_getinfo(r->handle, CURLINFO_RESPONSE_CODE, &st);
        r->status_seen = st > 0 ? st : 200;
    }
    if (r->status_seen >= 400 && r->fail_on_status)
        return GL_OK;
    return gl_node_file_write(r->ctx, r->file, buf, n);
}

/* A new file for the next transfer's body (the last one's dropped). */
static int start_file(gl_node_ctx_t *c, http_req_t *r, http_xfer_t *x)
{
    gl_filestore_abort(r->file);
    r->file = NULL;
    r->status_seen = 0;
    int rc = gl_node_file_create(c, &r->file);
    if (rc == GL_OK) {
        x->sink = file_sink;
        x->sink_ud = r;
    }
    return rc;
}

/* The file's name: Content-Disposition's filename, else the last segment
 * of the URL's path, else "data"; cleaned (gl_filestore_name_clean). */
static void file_name_of(CURL *h, json_object *headers, char out[GL_FILE_NAME_MAX + 1])
{
    json_object *cd = NULL;
    char buf[1024 + 4], *raw = NULL, *url = NULL, *path = NULL;
    gl_mp_disposition_t d = { 0 };
    gl_err_t err;
    if (json_object_object_get_ex(headers, "content-disposition", &cd) && json_object_get_string_len(cd) <= 1024 &&
        gl_mp_disposition_parse(json_object_get_string(cd), (size_t)json_object_get_string_len(cd), &d, buf,
                                sizeof buf, &err) == GL_OK && d.file_name) {
        gl_filestore_name_clean(d.file_name, "data", out);
        return;
    }
    CURLU *u = curl_url();
    if (u && curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &url) == CURLE_OK && url &&
        curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PATH, &path, CURLU_URLDECODE) == CURLUE_OK)
        raw = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    gl_filestore_name_clean(raw && *raw ? raw : "data", "data", out);
    curl_free(path);
    curl_url_cleanup(u);
}

/* The output item of a response saved as a file: {status, headers,
 * "$binary": {response_property: the file}}. */
static int file_result(gl_node_ctx_t *c, CURL *h, http_req_t *r, http_xfer_t *x, long status, const char *ctype,
                       json_object **out)
{
    char name[GL_FILE_NAME_MAX + 1];
    json_object *prop = NULL;
    gl_fs_writer_t *w = r->file;
    file_name_of(h, x->headers, name);
    r->file = NULL; /* commit ends it */
    int rc = gl_node_file_commit(c, w, name, ctype && gl_filestore_type_ok(ctype) ? ctype : "application/octet-stream",
                                 &prop);
    if (rc != GL_OK)
        return rc;
    *out = json_object_new_object();
    json_object_object_add(*out, "status", json_object_new_int((int)status));
    json_object_object_add(*out, "headers", x->headers ? x->headers : json_object_new_object());
    x->headers = NULL;
    gl_node_set_binary(*out, r->resp_prop, prop);
    return GL_OK;
}

/* The output item for a finished transfer, or a failure by status or body. */
static int http_result(gl_node_ctx_t *c, CURL *h, http_req_t *r, http_xfer_t *x, json_object **out)
{
    long status = 0;
    char *ctype = NULL;
    json_object *body = NULL;
    gl_err_t err;

    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ctype);
    if (status >= 400 && r->fail_on_status) {
        c->retryable = status == 429 || status >= 500;
        if (status == 429 || status == 503)
            c->retry_after_ms = retry_after_ms(x->headers);
        return gl_node_fail(c, "HTTP %ld from %s %s", status, r->method, r->safe_url ? r->safe_url : "(url)");
    }
    if (r->resp_type == RESP_FILE)
        return file_result(c, h, r, x, status, ctype, out);
    const char *data = x->body.data ? x->body.data : "";
    if (r->resp_type == RESP_JSON && x->body.len == 0) {
        body = NULL; /* no content: null */
    } else if (r->resp_type == RESP_JSON ||
               (r->resp_type == RESP_AUTO && x->body.len && is_json_type(ctype))) {
        gl_err_clear(&err);
        if (gl_json_parse(data, x->body.len, GL_HTTP_JSON_DEPTH, &body, &err) != GL_OK) {
            if (r->resp_type == RESP_JSON) {
                c->retryable = false;
                return gl_node_fail(c, "response of %s %s is not valid JSON: %s", r->method,
                                    r->safe_url ? r->safe_url : "(url)", err.msg);
            }
            body = utf8_string(data, x->body.len);
        }
    } else {
        body = utf8_string(data, x->body.len);
    }
    *out = json_object_new_object();
    json_object_object_add(*out, "status", json_object_new_int((int)status));
    json_object_object_add(*out, "headers", x->headers ? x->headers : json_object_new_object());
    x->headers = NULL;
    json_object_object_add(*out, "body", body);
    return GL_OK;
}

/* One transfer of r on h, sending the headers it builds into *headers
 * (the caller frees them after resetting h); *rc is set when they cannot
 * be built. What the response left in h stays until h is reset. */
static CURLcode transfer(gl_node_ctx_t *c, CURL *h, http_req_t *r, http_xfer_t *x, char *errbuf,
                         struct curl_slist **headers, int *rc)
{
    CURLcode res = CURLE_OK;

    curl_easy_reset(h);
    curl_slist_free_all(*headers);
    *headers = NULL;
    if ((*rc = send_headers(c, r, headers)) != GL_OK)
        return CURLE_OK;
    set_options(h, r, *headers, x, errbuf);
    res = curl_easy_perform(h);
    if (res == CURLE_OK)
        read_headers(h, x);
    return res;
}

/* One request for input item `item`; *out is the new output item (owned). */
static int http_one(gl_node_ctx_t *c, CURL *h, int item, json_object **out)
{
    http_req_t r = { 0 };
    http_xfer_t x;
    struct curl_slist *headers = NULL;
    char errbuf[CURL_ERROR_SIZE];
    CURLcode res;
    long status = 0;
    int rc;

    gl_buf_init(&r.body, GL_MAX_HTTP_REQUEST);
    gl__http_xfer_init(&x, c->run, c->run ? c->run->limits.allow_private : NULL, GL_MAX_HTTP_RESPONSE);
    errbuf[0] = '\0';
    r.ctx = c;
    r.handle = h;
    if ((rc = req_build(c, item, &r)) != GL_OK || (r.resp_type == RESP_FILE && (rc = start_file(c, &r, &x)) != GL_OK))
        goto done;
    res = transfer(c, h, &r, &x, errbuf, &headers, &rc);
    if (rc != GL_OK)
        goto done;
    if (res == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (res == CURLE_OK && status == 401 && r.auth.oauth2) {
        /* the API refused the token: once more with a fresh one */
        const char *used = gl_cred_secret(r.auth.cred, "access_token", NULL);
        const gl_cred_t *fresh = NULL;
        if ((rc = gl_node_credential_refresh(c, r.cred_name, used, &fresh)) != GL_OK ||
            (rc = gl__http_auth_plan(fresh, r.cred_name, &r.auth, c->error, sizeof c->error)) != GL_OK)
            goto done;
        gl__http_xfer_free(&x);
        gl__http_xfer_init(&x, c->run, c->run ? c->run->limits.allow_private : NULL, GL_MAX_HTTP_RESPONSE);
        errbuf[0] = '\0';
        if (r.resp_type == RESP_FILE && (rc = start_file(c, &r, &x)) != GL_OK)
            goto done;
        res = transfer(c, h, &r, &x, errbuf, &headers, &rc);
        if (rc != GL_OK)
            goto done;
    }
    rc = res == CURLE_OK ? http_result(c, h, &r, &x, out) : fail_transfer(c, &r, &x, res, errbuf);
done:
    curl_easy_reset(h); /* drops its pointers into r, x, headers and errbuf; keeps the connection */
    curl_slist_free_all(headers);
    req_free(&r);
    gl__http_xfer_free(&x);
    return rc;
}

/* output "body" (n8n's layout): the response body is the item — an
 * object as it is, each element of an array an item of its own (an
 * object, else {"data": element}), anything else {"data": body}. */
static void emit_body(gl_node_ctx_t *c, json_object *resp)
{
    json_object *body = NULL, *bin = NULL;
    json_object_object_get_ex(resp, "body", &body);
    if (json_object_object_get_ex(resp, GL_BINARY_KEY, &bin)) {
        /* a response saved as a file: an item of its file alone, as n8n's */
        json_object *o = json_object_new_object();
        json_object_object_add(o, GL_BINARY_KEY, json_object_get(bin));
        gl_node_emit(c, 0, o);
    } else if (json_object_is_type(body, json_type_array)) {
        for (size_t k = 0; k < json_object_array_length(body); k++) {
            json_object *e = json_object_array_get_idx(body, k);
            if (json_object_is_type(e, json_type_object)) {
                gl_node_emit(c, 0, json_object_get(e));
            } else {
                json_object *o = json_object_new_object();
                json_object_object_add(o, "data", json_object_get(e));
                gl_node_emit(c, 0, o);
            }
        }
    } else if (json_object_is_type(body, json_type_object)) {
        gl_node_emit(c, 0, json_object_get(body));
    } else {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "data", json_object_get(body));
        gl_node_emit(c, 0, o);
    }
    json_object_put(resp);
}

static int run(gl_node_ctx_t *c)
{
    size_t n_items = json_object_array_length(c->in[0]);
    CURL *h;
    int rc = GL_OK;
    json_object *om = NULL;
    if (gl_node_param(c, "output", -1, &om) != GL_OK)
        return GL_INVALID;
    bool body_only = json_object_is_type(om, json_type_string) && strcmp(json_object_get_string(om), "body") == 0;
    json_object_put(om);

    c->retryable = false;
    c->retry_after_ms = 0;
    if (n_items == 0)
        return GL_OK;
    if (n_items > INT32_MAX)
        return gl_node_fail(c, "too many input items");
    h = curl_easy_init();
    if (!h) {
        c->retryable = true;
        return gl_node_fail(c, "cannot initialise libcurl");
    }
    for (size_t i = 0; i < n_items && rc == GL_OK; i++) {
        json_object *item = NULL;
        if (i > 0 && c->run && c->run->io.heartbeat && c->run->io.heartbeat(c->run->io.ud) != GL_OK) {
            rc = gl_node_fail(c, "stopped: the job's lease could not be renewed");
            break;
        }
        rc = http_one(c, h, (int)i, &item);
        if (rc == GL_OK && body_only)
            emit_body(c, item); /* takes item */
        else if (rc == GL_OK)
            gl_node_emit(c, 0, item); /* takes item */
    }
    curl_easy_cleanup(h);
    return rc;
}


const gl_node_def_t gl_node_http_request = {
    .type = "http.request",
    .display_name = "HTTP Request",
    .category = "action",
    .description = "Calls a URL and returns the response as an item. Public addresses only, unless the operator lists "
                   "internal ranges in http.allow_private.",
    .inputs = { "main" },
    .outputs = { "main" },
    .params = {
        { "method", GL_PARAM_SELECT, "\"GET\"", false, false, methods, "HTTP method" },
        { "url", GL_PARAM_STRING, NULL, true, true, NULL, "absolute http(s) URL; loopback, private and other internal addresses are refused unless the operator allows them (http.allow_private)" },
        { "query", GL_PARAM_JSON, "{}", false, true, NULL, "query parameters (object)" },
        { "headers", GL_PARAM_JSON, "{}", false, true, NULL, "request headers (object)" },
        { "body_type", GL_PARAM_SELECT, "\"none\"", false, false, body_types, "how the body is sent: none, json, form (urlencoded), raw (text), binary (the file binary_property names, streamed), multipart (multipart/form-data: the body object's fields as text parts, the files binary_property names as file parts)" },
        { "body", GL_PARAM_JSON, NULL, false, true, NULL, "request body" },
        { "binary_property", GL_PARAM_STRING, "\"data\"", false, true, NULL, "body_type binary: the item's binary property sent as the body; multipart: the properties sent as file parts, comma-separated, each prop or field:prop" },
        { "timeout_ms", GL_PARAM_NUMBER, "30000", false, false, NULL, "request timeout" },
        { "follow_redirects", GL_PARAM_BOOLEAN, "true", false, false, NULL, "follow 3xx redirects" },
        { "response_type", GL_PARAM_SELECT, "\"auto\"", false, false, resp_types, "parse the response as JSON or text, or save it as a file (streamed to the file store, as the binary property response_property)" },
        { "response_property", GL_PARAM_STRING, "\"data\"", false, true, NULL, "response_type file: the binary property the file becomes" },
        { "fail_on_status", GL_PARAM_BOOLEAN, "true", false, false, NULL, "fail on a status of 400 or more" },
        { "output", GL_PARAM_SELECT, "\"response\"", false, false, out_kinds, "response: one item {status, headers, body} per request; body: the response body as the item, an array's elements as items (n8n's layout)" },
        { "credential", GL_PARAM_CREDENTIAL, NULL, false, false, NULL, "name of the credential applied to each request (http.header, http.bearer, http.basic, http.query, oauth2.code or oauth2.client)" },
    },
    .run = run,
    .quick = false,
};
