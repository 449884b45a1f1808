/*
 * flow.if: routes each item to `true` or `false` by its condition,
 * evaluated for that item. The condition is truthy in JavaScript's sense,
 * except that the strings "true" and "false" (a condition written without
 * {{ }}) mean what they say.
 */
#include "node.h"

int gl_node_flow_if(gl_node_ctx_t *c)
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
