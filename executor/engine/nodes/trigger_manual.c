/*
 * trigger.manual: starts an execution from the editor or the API. Its items are
 * the run request's input items, or one empty item.
 * The engine hands the trigger's items to the fired trigger node as its
 * input; the node passes them on.
 */
#include "node.h"

static int run(gl_node_ctx_t *c)
{
    gl_node_pass(c, 0, 0);
    return GL_OK;
}

const gl_node_def_t gl_node_trigger_manual = {
    .type = "trigger.manual",
    .display_name = "Manual trigger",
    .category = "trigger",
    .description = "Starts the workflow from the editor or the API, with optional input items.",
    .outputs = { "main" },
    .run = run,
    .quick = true,
    .trigger = true,
    .default_trigger = true,
};
