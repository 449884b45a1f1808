/*
 * trigger.error: its item describes the failed execution — {execution:
 * {id, status, error, …}, workflow: {id, name, version}} — built by
 * exec_error_workflow() in sql/005_executions.sql.
 * The engine hands the trigger's items to the fired trigger node as its
 * input; the node passes them on.
 */
#include "node.h"

int gl_node_trigger_error(gl_node_ctx_t *c)
{
    gl_node_pass(c, 0, 0);
    return GL_OK;
}
