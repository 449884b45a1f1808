/*
 * flow.split: one item per element of an array field. Object elements
 * become items as they are (with their own "$binary", if any: what
 * flow.aggregate collected comes back whole); other values become
 * {field: value}. The split item's binary data is not copied to the new
 * items. An item without that array field is an error naming the item.
 */
#include "node.h"

#include <stdio.h>
#include <string.h>

static int run(gl_node_ctx_t *c)
{
    const char *f;
    if (gl_node_param_str(c, "field", -1, &f) != GL_OK)
        return GL_INVALID;
    if (!f || !*f)
        return gl_node_fail(c, "parameter 'field' must not be empty");
    char field[256];
    if (snprintf(field, sizeof field, "%s", f) >= (int)sizeof field)
        return gl_node_fail(c, "parameter 'field' is longer than %zu bytes", sizeof field - 1);
    size_t n = json_object_array_length(c->in[0]);
    for (size_t i = 0; i < n; i++) {
        json_object *item = gl_node_item(c, (int)i), *arr = NULL;
        /* a dotted path reaches into nested objects */
        json_object *cur = item;
        for (const char *seg = field + strspn(field, "."); cur && *seg; seg += strspn(seg, ".")) {
            char key[sizeof field];
            size_t len = strcspn(seg, ".");
            memcpy(key, seg, len); /* fits: a piece of field */
            key[len] = '\0';
            seg += len;
            json_object *next = NULL;
            if (!json_object_is_type(cur, json_type_object) || !json_object_object_get_ex(cur, key, &next))
                next = NULL;
            cur = next;
        }
        arr = cur;
        if (!arr || !json_object_is_type(arr, json_type_array))
            return gl_node_fail(c, "item %zu has no array field '%.100s'", i, field);
        const char *leaf = strrchr(field, '.') ? strrchr(field, '.') + 1 : field;
        for (size_t k = 0; k < json_object_array_length(arr); k++) {
            json_object *v = json_object_array_get_idx(arr, k);
            if (json_object_is_type(v, json_type_object)) {
                gl_node_emit(c, 0, json_object_get(v));
            } else {
                json_object *o = json_object_new_object();
                json_object_object_add(o, leaf, json_object_get(v));
                gl_node_emit(c, 0, o);
            }
        }
    }
    return GL_OK;
}

const gl_node_def_t gl_node_flow_split = {
    .type = "flow.split",
    .display_name = "Split out",
    .category = "flow",
    .description = "Emits one item per element of an array field.",
    .inputs = { "main" },
    .outputs = { "main" },
    .params = {
        { "field", GL_PARAM_STRING, NULL, true, false, NULL, "the array field to split" },
    },
    .run = run,
    .quick = true,
};
