/*
 * trigger.manual: starts an execution from the editor or the API. Its items are
 * the run request's input items, or one empty item.
 * The engine hands the trigger's items to the fired trigger node as its
 * input; the node passes them on.
 */
#include "node.h"

int gl_node_trigger_manual(gl_node_ctx_t *c)
{
    gl_node_pass(c, 0, 0);
    return GL_OK;
}
