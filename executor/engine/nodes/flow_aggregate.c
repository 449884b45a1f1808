/*
 * flow.aggregate: collects all its items into one item {field: [items]}.
 */
#include "node.h"

#include <stdio.h>

static int run(gl_node_ctx_t *c)
{
    const char *field;
    if (gl_node_param_str(c, "field", -1, &field) != GL_OK)
        return GL_INVALID;
    if (!field || !*field)
        return gl_node_fail(c, "parameter 'field' must not be empty");
    json_object *all = json_object_new_array();
    for (size_t i = 0; i < json_object_array_length(c->in[0]); i++)
        json_object_array_add(all, json_object_get(json_object_array_get_idx(c->in[0], i)));
    json_object *item = json_object_new_object();
    json_object_object_add(item, field, all);
    gl_node_emit(c, 0, item);
    return GL_OK;
}

const gl_node_def_t gl_node_flow_aggregate = {
    .type = "flow.aggregate",
    .display_name = "Aggregate",
    .category = "flow",
    .description = "Collects all items into one item holding an array.",
    .inputs = { "main" },
    .outputs = { "main" },
    .params = {
        { "field", GL_PARAM_STRING, "\"items\"", false, false, NULL, "name of the array field" },
    },
    .run = run,
    .quick = true,
};
