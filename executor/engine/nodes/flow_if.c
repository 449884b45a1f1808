/*
 * flow.if: routes each item to `true` or `false` by its condition,
 * evaluated for that item. The condition is truthy in JavaScript's sense,
 * except that the strings "true" and "false" (a condition written without
 * {{ }}) mean what they say.
 */
#include "node.h"

static int run(gl_node_ctx_t *c)
{
    size_t n = json_object_array_length(c->in[0]);
    for (size_t i = 0; i < n; i++) {
        bool yes = false;
        if (gl_node_param_bool(c, "condition", (int)i, &yes) != GL_OK)
            return GL_INVALID;
        gl_node_emit(c, yes ? 0 : 1, json_object_get(gl_node_item(c, (int)i)));
    }
    return GL_OK;
}

const gl_node_def_t gl_node_flow_if = {
    .type = "flow.if",
    .display_name = "If",
    .category = "flow",
    .description = "Routes each item to true or false by a condition.",
    .inputs = { "main" },
    .outputs = { "true", "false" },
    .params = {
        { "condition", GL_PARAM_STRING, NULL, true, true, NULL, "an expression, true or false per item" },
    },
    .run = run,
    .quick = true,
};
