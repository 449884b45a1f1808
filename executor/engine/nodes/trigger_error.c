/*
 * trigger.error: its item describes the failed execution — {execution:
 * {id, status, error, …}, workflow: {id, name, version}} — built by
 * exec_error_workflow() (sql/010_trigger_rows.sql), which starts the error
 * workflow at the node its version recorded as error_trigger: the first
 * node of trigger kind "error" (gl_engine_trigger_node).
 * The engine hands the trigger's items to the fired trigger node as its
 * input; the node passes them on.
 */
#include "node.h"

static int run(gl_node_ctx_t *c)
{
    gl_node_pass(c, 0, 0);
    return GL_OK;
}

const gl_node_def_t gl_node_trigger_error = {
    .type = "trigger.error",
    .display_name = "Error trigger",
    .category = "trigger",
    .description = "Starts the workflow when another workflow that names it as error workflow fails.",
    .outputs = { "main" },
    .run = run,
    .quick = true,
    .trigger = true,
    .trigger_kind = "error",
};
