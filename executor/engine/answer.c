/*
 * answer.c: a synchronous webhook's answer — what a workflow may put in it
 * (flow.respond), and the answer built from a finished execution
 * (engine.h, webhook answers), which glyphic-fcgi's direct path and glyphic-events send.
 *
 * A webhook answers on the app's own origin. Whatever it sends is trusted
 * by browsers as the app's: a cookie would be the app's cookie, a script
 * served from /hooks/ passes the editor's `script-src 'self'`, a header
 * can steer nginx (X-Accel-*) or weaken the security headers. So headers
 * are an allow list, not a deny list — a header name we did not think of
 * is refused, not let through:
 *
 *   Content-Type         a well-formed media type; script types only with
 *                        http.respond_allow_scripts (below)
 *   Content-Disposition  downloads (attachment; filename=…)
 *   Content-Language
 *   ETag, Last-Modified  validators, for clients' conditional logic
 *   Location             an http(s) URL or a path: redirects (form posts,
 *                        OAuth callbacks) — /hooks/ can then redirect
 *                        anywhere, one reason to serve it from its own host
 *   Retry-After          for 429 and 503 answers
 *   X-*                  custom headers, except the server's own and the
 *                        legacy security headers (server_x[] below)
 *
 * Cache-Control stays refused: every answer is sent with Cache-Control:
 * no-store (a second, conflicting one would be ambiguous), and a cacheable
 * answer on a shared cache would hand one caller's answer to the next.
 *
 * Content types. With X-Content-Type-Options: nosniff (nginx sends it on
 * every location), a browser runs a response as a script — classic,
 * module, worker or service worker — only when its type is a JavaScript
 * MIME type. Those are refused unless the operator turns
 * http.respond_allow_scripts on. text/html, SVG and XML are allowed: every
 * webhook answer carries Content-Security-Policy: sandbox, so such a
 * document runs no script, submits no form and has an opaque origin.
 * text/css is allowed: the editor's policy already allows inline styles.
 */
#include "engine.h"

#include <stdio.h>

#include <string.h>
#include <strings.h>

#define MAX_VALUE 1000
#define MAX_CONTENT_TYPE 200

static const char *const allowed_names[] = { "content-type", "content-disposition", "content-language", "etag",
                                             "last-modified", "location", "retry-after", NULL };

/* X- headers that belong to the server or a proxy in front of it, or are
 * (legacy) security headers; prefixes end in '-'. */
static const char *const server_x[] = {
    "x-glyphic-", "x-accel-", "x-request-id", "x-frame-options", "x-content-type-options", "x-xss-protection",
    "x-content-security-policy", "x-webkit-csp", "x-permitted-cross-domain-policies", "x-dns-prefetch-control",
    "x-download-options", "x-sendfile", "x-lighttpd-send-file", "x-litespeed-", "x-forwarded-", NULL,
};

/* The JavaScript MIME type essences (WHATWG MIME Sniffing). */
static const char *const script_types[] = {
    "application/ecmascript", "application/javascript", "application/x-ecmascript", "application/x-javascript",
    "text/ecmascript",        "text/javascript",        "text/javascript1.0",       "text/javascript1.1",
    "text/javascript1.2",     "text/javascript1.3",     "text/javascript1.4",       "text/javascript1.5",
    "text/jscript",           "text/livescript",        "text/x-ecmascript",        "text/x-javascript",
    NULL,
};

static bool is_tchar(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

bool gl_engine_header_allowed(const char *k)
{
    size_t n = strlen(k);
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((k[i] >= 'a' && k[i] <= 'z') || (k[i] >= 'A' && k[i] <= 'Z') || (k[i] >= '0' && k[i] <= '9') ||
              k[i] == '-'))
            return false;
    for (int i = 0; allowed_names[i]; i++)
        if (strcasecmp(k, allowed_names[i]) == 0)
            return true;
    if (n < 3 || strncasecmp(k, "x-", 2) != 0)
        return false;
    for (int i = 0; server_x[i]; i++) {
        size_t len = strlen(server_x[i]);
        bool prefix = server_x[i][len - 1] == '-';
        /* "x-frame-options" also refuses "x-frame-options-…": a look-alike is no custom header */
        if (strncasecmp(k, server_x[i], len) == 0 && (prefix || k[len] == '\0' || k[len] == '-'))
            return false;
    }
    return true;
}

typedef enum { CT_OK, CT_MALFORMED, CT_SCRIPT } ct_verdict_t;

static ct_verdict_t content_type_verdict(const char *ct, bool allow_scripts)
{
    size_t n = strlen(ct), i = 0, type_start, slash, end;
    char essence[64];

    if (n == 0 || n > MAX_CONTENT_TYPE)
        return CT_MALFORMED;
    for (size_t j = 0; j < n; j++) {
        unsigned char ch = (unsigned char)ct[j];
        /* a comma splits the value into several types, and browsers pick one: refuse */
        if ((ch < 0x20 && ch != '\t') || ch >= 0x7F || ch == ',')
            return CT_MALFORMED;
    }
    while (ct[i] == ' ' || ct[i] == '\t')
        i++;
    type_start = i;
    while (is_tchar((unsigned char)ct[i]))
        i++;
    if (i == type_start || ct[i] != '/')
        return CT_MALFORMED;
    slash = i++;
    while (is_tchar((unsigned char)ct[i]))
        i++;
    if (i == slash + 1)
        return CT_MALFORMED;
    end = i;
    while (ct[i] == ' ' || ct[i] == '\t')
        i++;
    if (ct[i] != '\0' && ct[i] != ';')
        return CT_MALFORMED;
    if (allow_scripts)
        return CT_OK;
    if (end - type_start >= sizeof essence)
        return CT_OK; /* longer than any script type */
    for (size_t j = type_start; j < end; j++) {
        char ch = ct[j];
        essence[j - type_start] = (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch;
    }
    essence[end - type_start] = '\0';
    for (int k = 0; script_types[k]; k++)
        if (strcmp(essence, script_types[k]) == 0)
            return CT_SCRIPT;
    return CT_OK;
}

bool gl_engine_content_type_allowed(const char *ct, bool allow_scripts)
{
    return ct && content_type_verdict(ct, allow_scripts) == CT_OK;
}

const char *gl_engine_response_header_check(const char *name, const char *value, bool allow_scripts)
{
    if (!gl_engine_header_allowed(name))
        return "is not an allowed response header (allowed: Content-Type, Content-Disposition, Content-Language, "
               "ETag, Last-Modified, Location, Retry-After, and X- headers that are not the server's)";
    if (!value)
        return "must be a string";
    size_t n = strlen(value);
    if (n > MAX_VALUE)
        return "must be a one-line string of at most 1000 bytes";
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)value[i] < 0x20 && value[i] != '\t') || value[i] == 0x7F)
            return "must be a one-line string of at most 1000 bytes";
    if (strcasecmp(name, "content-type") == 0) {
        switch (content_type_verdict(value, allow_scripts)) {
        case CT_OK: break;
        case CT_SCRIPT:
            return "is a script type, refused on the app's origin (the operator can allow it with "
                   "http.respond_allow_scripts)";
        case CT_MALFORMED:
            return "is not a media type such as text/plain or application/json; charset=utf-8 (no commas, at "
                   "most 200 bytes)";
        }
    }
    if (strcasecmp(name, "location") == 0 && strncasecmp(value, "http://", 7) != 0 &&
        strncasecmp(value, "https://", 8) != 0 && value[0] != '/')
        return "must be an http(s) URL or a path starting with /";
    return NULL;
}

/* ---- the answer ---- */

static void failed(gl_answer_t *a, const char *execution_id, const char *status, json_object *error)
{
    json_object *m = NULL;
    if (error)
        json_object_object_get_ex(error, "message", &m);
    a->failed = true;
    a->status = 500;
    snprintf(a->message, sizeof a->message, "the workflow %s (execution %s)%s%.300s", status, execution_id,
             m ? ": " : "", m ? json_object_get_string(m) : "");
}

/* The response's file (flow.respond, respond_with binary) into a: false
 * when it has none or it is not a file reference. The file's type unless
 * the workflow set Content-Type (a script type, or one the store would
 * refuse, goes as application/octet-stream), and a Content-Disposition
 * made of its name unless the workflow set one. */
static bool file_answer(gl_answer_t *a, json_object *file, bool allow_scripts)
{
    gl_binary_ref_t ref;
    gl_err_t err;
    json_object *d = NULL;
    if (!file || gl_binary_ref_parse(file, &ref, &err) != GL_OK)
        return false;
    a->file = true;
    a->file_id = json_object_get_string(json_object_object_get(file, "id"));
    a->file_sha256 = json_object_get_string(json_object_object_get(file, "sha256"));
    bool type_ok = gl_filestore_type_ok(ref.mime_type) && gl_engine_content_type_allowed(ref.mime_type, allow_scripts);
    if (!a->content_type)
        a->content_type = type_ok ? ref.mime_type : "application/octet-stream";
    for (int i = 0; i < a->n_headers; i++)
        if (strcasecmp(a->names[i], "content-disposition") == 0)
            return true;
    char name[GL_FILE_NAME_MAX + 1];
    gl_filestore_name_clean(ref.file_name, "data", name);
    json_object_object_get_ex(file, "disposition", &d);
    gl_filestore_disposition(d ? json_object_get_string(d) : "attachment", name, a->disposition);
    if (a->n_headers < GL_ANSWER_MAX_HEADERS) {
        a->names[a->n_headers] = "Content-Disposition";
        a->values[a->n_headers++] = a->disposition;
    }
    return true;
}

void gl_answer_build(gl_answer_t *a, const char *execution_id, const char *status, json_object *output,
                     json_object *response, json_object *error, bool allow_scripts)
{
    memset(a, 0, sizeof *a);
    if (strcmp(status, "succeeded") != 0) {
        failed(a, execution_id, status, error);
        return;
    }
    a->status = 200;
    json_object *body = NULL, *v;
    if (response) {
        if (json_object_object_get_ex(response, "status", &v))
            a->status = json_object_get_int(v);
        if (json_object_object_get_ex(response, "headers", &v) && json_object_is_type(v, json_type_object)) {
            json_object_object_foreach(v, k, hv)
            {
                /* checked again when sent: an answer recorded by an older
                 * version may hold what flow.respond now refuses */
                const char *s = json_object_is_type(hv, json_type_string) ? json_object_get_string(hv) : NULL;
                if (gl_engine_response_header_check(k, s, allow_scripts))
                    continue;
                if (strcasecmp(k, "content-type") == 0)
                    a->content_type = s;
                else if (a->n_headers < GL_ANSWER_MAX_HEADERS) {
                    a->names[a->n_headers] = k;
                    a->values[a->n_headers++] = s;
                }
            }
        }
        json_object *file = NULL;
        json_object_object_get_ex(response, "file", &file);
        if (file_answer(a, file, allow_scripts)) {
            a->status = 200; /* nginx sends the file: 200, 206 for a range */
            a->body = "";
            return;
        }
        json_object_object_get_ex(response, "body", &body);
    } else if (output && json_object_is_type(output, json_type_array) && json_object_array_length(output) > 0) {
        body = json_object_array_get_idx(output, 0);
    }
    /* no 1xx: 101 would make nginx tunnel the caller's bytes to the server */
    if (a->status < 200 || a->status > 599)
        a->status = 200;
    if (body && json_object_is_type(body, json_type_string) && a->content_type && !strstr(a->content_type, "json")) {
        a->body = json_object_get_string(body);
        a->body_len = (size_t)json_object_get_string_len(body);
        return;
    }
    a->content_type = NULL;
    a->body = body ? json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN) : "{}";
    a->body_len = strlen(a->body);
}
