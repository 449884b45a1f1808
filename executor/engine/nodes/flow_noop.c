/*
 * flow.noop: passes its items on unchanged (a place to hang a note, or to
 * join branches).
 */
#include "node.h"

static int run(gl_node_ctx_t *c)
{
    gl_node_pass(c, 0, 0);
    return GL_OK;
}

const gl_node_def_t gl_node_flow_noop = {
    .type = "flow.noop",
    .display_name = "No operation",
    .category = "flow",
    .description = "Passes items through unchanged.",
    .inputs = { "main" },
    .outputs = { "main" },
    .run = run,
    .quick = true,
};
