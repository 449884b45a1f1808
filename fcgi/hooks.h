/*
 * hooks.h: /hooks/<path>, the webhook triggers (see hooks.c).
 */
#ifndef GL_FCGI_HOOKS_H
#define GL_FCGI_HOOKS_H

#include "http.h"

/* Handles a request whose path starts with /hooks/ (no session, no
 * transaction: each statement commits on its own). */
void gl_hooks_handle(gl_req_t *req);

#endif
