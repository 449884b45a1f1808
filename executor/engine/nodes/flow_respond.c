/*
 * flow.respond: sets the response of a synchronous webhook — {status,
 * headers, body}; the body defaults to the first item — and passes its
 * items on. The response is also the node's state, so a resumed execution
 * still knows it. The first flow.respond to run wins.
 *
 * With respond_with "binary" the answer is a stored file instead: the
 * binary property `binary_property` of the first item, {status, headers,
 * file: {id, file_name, mime_type, size, sha256, disposition}}. The server
 * that answers (glyphic-fcgi's direct path, glyphic-events) checks that the
 * file is the execution's org's and hands it to nginx (X-Accel-Redirect),
 * which sends the bytes and answers Range; nginx keeps only Content-Type
 * and Content-Disposition of the answer's headers then, so a file answer
 * is 200 (206 for a range) and other headers fail the node.
 *
 * Headers follow the allow list of answer.c (gl_engine_response_header_check).
 * A header that is not allowed fails the node, naming the header and why:
 * dropping it quietly would send an answer the author did not write, and
 * the step's error shows at once what to change.
 */
#include "node.h"

#include <string.h>
#include <strings.h>

static const char *const respond_with[] = { "body", "binary", NULL };
static const char *const dispositions[] = { "attachment", "inline", NULL };

/* A file answer's headers: Content-Type and Content-Disposition only. */
static int file_headers_ok(gl_node_ctx_t *c, json_object *headers)
{
    json_object_object_foreach(headers, k, v)
    {
        (void)v;
        if (strcasecmp(k, "content-type") != 0 && strcasecmp(k, "content-disposition") != 0)
            return gl_node_fail(c, "response header '%.60s' cannot go with a file answer: nginx sends the file and "
                                   "keeps only Content-Type and Content-Disposition", k);
    }
    return GL_OK;
}

/* The file answer: r["file"] from the first item's binary property. */
static int file_answer(gl_node_ctx_t *c, int64_t status, json_object *headers, json_object *r)
{
    json_object *prop = NULL, *disp = NULL;
    gl_binary_ref_t ref;
    if (status != 200)
        return gl_node_fail(c, "a file answer is sent with status 200 (206 for a range), not %lld", (long long)status);
    if (headers && file_headers_ok(c, headers) != GL_OK)
        return GL_INVALID;
    if (!gl_node_item(c, 0))
        return gl_node_fail(c, "respond_with binary needs an input item that has the file");
    if (gl_node_param(c, "binary_property", 0, &prop) != GL_OK || gl_node_param(c, "disposition", 0, &disp) != GL_OK) {
        json_object_put(prop);
        return GL_INVALID;
    }
    const char *name = json_object_is_type(prop, json_type_string) ? json_object_get_string(prop) : "data";
    const char *d = json_object_is_type(disp, json_type_string) ? json_object_get_string(disp) : "attachment";
    int rc = strcmp(d, "attachment") != 0 && strcmp(d, "inline") != 0
                 ? gl_node_fail(c, "parameter 'disposition' must be attachment or inline")
                 : gl_node_binary(c, 0, name, &ref);
    if (rc == GL_OK) {
        json_object *f = gl_binary_ref_json(&ref);
        json_object_object_add(f, "disposition", json_object_new_string(d));
        json_object_object_add(r, "file", f);
    }
    json_object_put(prop);
    json_object_put(disp);
    return rc;
}

static int run(gl_node_ctx_t *c)
{
    int64_t status = 200;
    json_object *headers = NULL, *body = NULL;
    if (gl_node_param_int(c, "status", 0, &status) != GL_OK)
        return GL_INVALID;
    if (status < 200 || status > 599)
        return gl_node_fail(c, "parameter 'status' must be an HTTP status from 200 to 599, got %lld",
                            (long long)status);
    if (gl_node_param(c, "headers", 0, &headers) != GL_OK)
        return GL_INVALID;
    if (headers && !json_object_is_type(headers, json_type_object)) {
        json_object_put(headers);
        return gl_node_fail(c, "parameter 'headers' must be an object");
    }
    if (headers) {
        bool allow_scripts = c->run && c->run->limits.allow_scripts;
        json_object_object_foreach(headers, k, v)
        {
            const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
            const char *why = s && strlen(s) != (size_t)json_object_get_string_len(v)
                                  ? "must be a one-line string of at most 1000 bytes" /* holds a NUL */
                                  : gl_engine_response_header_check(k, s, allow_scripts);
            if (why) {
                /* the message names k: format it before k is freed */
                int rc = s && strcasecmp(k, "content-type") == 0
                             ? gl_node_fail(c, "response header '%.60s: %.60s' %s", k, s, why)
                             : gl_node_fail(c, "response header '%.60s' %s", k, why);
                json_object_put(headers);
                return rc;
            }
        }
    }
    json_object *with = NULL;
    if (gl_node_param(c, "respond_with", 0, &with) != GL_OK) {
        json_object_put(headers);
        return GL_INVALID;
    }
    bool binary = json_object_is_type(with, json_type_string) && strcmp(json_object_get_string(with), "binary") == 0;
    json_object_put(with);
    if (!binary && gl_node_param(c, "body", 0, &body) != GL_OK) {
        json_object_put(headers);
        return GL_INVALID;
    }
    json_object *r = json_object_new_object();
    json_object_object_add(r, "status", json_object_new_int64(status));
    json_object_object_add(r, "headers", headers ? headers : json_object_new_object());
    if (binary && file_answer(c, status, headers, r) != GL_OK) {
        json_object_put(r);
        return GL_INVALID;
    }
    json_object *first = gl_node_item(c, 0);
    if (!binary)
        json_object_object_add(r, "body", body ? body : first ? json_object_get(first) : NULL);
    c->response = r;
    c->state_out = json_object_get(r);
    gl_node_pass(c, 0, 0);
    return GL_OK;
}

const gl_node_def_t gl_node_flow_respond = {
    .type = "flow.respond",
    .display_name = "Respond to webhook",
    .category = "flow",
    .description = "Sets the response of a synchronous webhook.",
    .inputs = { "main" },
    .outputs = { "main" },
    .params = {
        { "status", GL_PARAM_NUMBER, "200", false, true, NULL, "HTTP status" },
        { "headers", GL_PARAM_JSON, "{}", false, true, NULL, "response headers (object): Content-Type (no script types), Content-Disposition, Content-Language, ETag, Last-Modified, Location, Retry-After and custom X- headers; others fail the node" },
        { "respond_with", GL_PARAM_SELECT, "\"body\"", false, false, respond_with, "body: the body parameter (or the first item) as JSON or text; binary: the first item's file (binary_property), sent by nginx" },
        { "body", GL_PARAM_JSON, NULL, false, true, NULL, "response body; default: the first item" },
        { "binary_property", GL_PARAM_STRING, "\"data\"", false, true, NULL, "respond_with binary: the first item's binary property to answer with" },
        { "disposition", GL_PARAM_SELECT, "\"attachment\"", false, false, dispositions, "respond_with binary: attachment (a download) or inline (shown by the browser); the file name is the property's unless headers set Content-Disposition" },
    },
    .run = run,
    .quick = true,
    .sets_response = true,
};
