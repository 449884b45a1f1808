/*
 * flow.respond: sets the response of a synchronous webhook — {status,
 * headers, body}; the body defaults to the first item — and passes its
 * items on. The response is also the node's state, so a resumed execution
 * still knows it. The first flow.respond to run wins.
 *
 * Headers follow the allow list of answer.c (gl_engine_response_header_check).
 * A header that is not allowed fails the node, naming the header and why:
 * dropping it quietly would send an answer the author did not write, and
 * the step's error shows at once what to change.
 */
#include "node.h"

#include <string.h>
#include <strings.h>

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
    if (gl_node_param(c, "body", 0, &body) != GL_OK) {
        json_object_put(headers);
        return GL_INVALID;
    }
    json_object *r = json_object_new_object();
    json_object_object_add(r, "status", json_object_new_int64(status));
    json_object_object_add(r, "headers", headers ? headers : json_object_new_object());
    json_object *first = gl_node_item(c, 0);
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
        { "body", GL_PARAM_JSON, NULL, false, true, NULL, "response body; default: the first item" },
    },
    .run = run,
    .quick = true,
    .sets_response = true,
};
