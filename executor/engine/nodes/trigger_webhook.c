/*
 * trigger.webhook: its item is the call to /hooks/<path> — {method, path,
 * query, headers, body} — built by glyphic-fcgi (fcgi/hooks.c).
 * The engine hands the trigger's items to the fired trigger node as its
 * input; the node passes them on.
 */
#include "node.h"

int gl_node_trigger_webhook(gl_node_ctx_t *c)
{
    gl_node_pass(c, 0, 0);
    return GL_OK;
}
