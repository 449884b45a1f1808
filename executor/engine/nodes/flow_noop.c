/*
 * flow.noop: passes its items on unchanged (a place to hang a note, or to
 * join branches).
 */
#include "node.h"

int gl_node_flow_noop(gl_node_ctx_t *c)
{
    gl_node_pass(c, 0, 0);
    return GL_OK;
}
