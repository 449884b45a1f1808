/*
 * hooks.h: /hooks/<path>, the webhook triggers (see hooks.c).
 */
#ifndef GL_FCGI_HOOKS_H
#define GL_FCGI_HOOKS_H

#include "hook_body.h"
#include "http.h"

/* Handles a request whose path starts with /hooks/ (no session, no
 * transaction: each statement commits on its own). */
void gl_hooks_handle(gl_req_t *req);

/* The call as the trigger's one item {method, path, query, headers, body}
 * from the request's method, query string, FastCGI parameters (HTTP_*,
 * CONTENT_TYPE, CONTENT_LENGTH; credentials left out) and body (req->json,
 * else a form or UTF-8 text) — or, for a body that brought files (NULL:
 * none), the multipart fields as body and the files' references under
 * "$binary" (fcgi/hook_body.h). A new object the caller puts, or NULL with
 * a 400 answer set. Exported for the fuzz target. */
json_object *gl_hooks_item(gl_req_t *req, const char *path, const gl_hook_body_t *files);

#endif
