/*
 * flow.aggregate: collects all its items into one item {field: [items]};
 * with `fields` listed, one item {name: [values of name]} per listed field.
 * Binary data stays with the items it belongs to: each collected item
 * keeps its "$binary" inside the array (flow.split on that field gives the
 * items back with it), and the aggregate item has none of its own.
 */
#include "node.h"

#include <stdio.h>

/* `fields` given: {name: [each item's value of name]} per listed field
 * (n8n's "individual fields"); items without the field add nothing. */
static int run_fields(gl_node_ctx_t *c, json_object *fields)
{
    json_object *item = json_object_new_object();
    for (size_t f = 0; f < json_object_array_length(fields); f++) {
        json_object *fv = json_object_array_get_idx(fields, f);
        if (!json_object_is_type(fv, json_type_string) || !json_object_get_string_len(fv)) {
            json_object_put(item);
            return gl_node_fail(c, "parameter 'fields' must be an array of field names");
        }
        const char *name = json_object_get_string(fv);
        json_object *vals = json_object_new_array();
        for (size_t i = 0; i < json_object_array_length(c->in[0]); i++) {
            json_object *it = json_object_array_get_idx(c->in[0], i), *v;
            if (json_object_is_type(it, json_type_object) && json_object_object_get_ex(it, name, &v))
                json_object_array_add(vals, json_object_get(v));
        }
        json_object_object_add(item, name, vals);
    }
    gl_node_emit(c, 0, item);
    return GL_OK;
}

static int run(gl_node_ctx_t *c)
{
    const char *field;
    json_object *fields = NULL;
    if (gl_node_param(c, "fields", -1, &fields) != GL_OK)
        return GL_INVALID;
    if (fields && json_object_is_type(fields, json_type_array) && json_object_array_length(fields) > 0) {
        int rc = run_fields(c, fields);
        json_object_put(fields);
        return rc;
    }
    json_object_put(fields);
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
    .description = "Collects all items into one item holding an array, or the values of chosen fields into arrays.",
    .inputs = { "main" },
    .outputs = { "main" },
    .params = {
        { "field", GL_PARAM_STRING, "\"items\"", false, false, NULL, "name of the array field" },
        { "fields", GL_PARAM_JSON, "[]", false, false, NULL, "field names: the output is {name: [each item's value]} instead (items lacking the field add nothing)" },
    },
    .run = run,
    .quick = true,
};
