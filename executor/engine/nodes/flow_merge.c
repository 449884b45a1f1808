/*
 * flow.merge: combines input1 and input2. It runs once both branches
 * before it have run (the engine's topological order), with whatever they
 * sent:
 *   append  input1's items, then input2's
 *   join    for each input1 item, each input2 item with an equal `key`
 *           field: the two merged (input2's fields win); unmatched items
 *           are dropped (an inner join)
 *   wait    input1's items, only when both inputs sent something
 */
#include "node.h"

#include <stdio.h>
#include <string.h>

static json_object *merged(json_object *a, json_object *b)
{
    json_object *o = json_object_new_object();
    json_object *src[2] = { a, b };
    for (int s = 0; s < 2; s++) {
        if (!json_object_is_type(src[s], json_type_object))
            continue;
        json_object_object_foreach(src[s], k, v) json_object_object_add(o, k, json_object_get(v));
    }
    return o;
}

static int run(gl_node_ctx_t *c)
{
    const char *m;
    if (gl_node_param_str(c, "mode", -1, &m) != GL_OK)
        return GL_INVALID;
    char mode[16];
    snprintf(mode, sizeof mode, "%s", m ? m : "append");
    size_t n1 = json_object_array_length(c->in[0]), n2 = json_object_array_length(c->in[1]);
    if (strcmp(mode, "append") == 0) {
        gl_node_pass(c, 0, 0);
        gl_node_pass(c, 1, 0);
    } else if (strcmp(mode, "wait") == 0) {
        if (n1 > 0 && n2 > 0)
            gl_node_pass(c, 0, 0);
    } else if (strcmp(mode, "join") == 0) {
        const char *key;
        if (gl_node_param_str(c, "key", -1, &key) != GL_OK)
            return GL_INVALID;
        if (!key || !*key)
            return gl_node_fail(c, "join mode needs the parameter 'key'");
        for (size_t i = 0; i < n1; i++) {
            json_object *a = json_object_array_get_idx(c->in[0], i), *ka;
            if (!json_object_is_type(a, json_type_object) || !json_object_object_get_ex(a, key, &ka))
                continue;
            const char *sa = json_object_to_json_string_ext(ka, JSON_C_TO_STRING_PLAIN);
            char abuf[512];
            snprintf(abuf, sizeof abuf, "%s", sa);
            for (size_t j = 0; j < n2; j++) {
                json_object *b = json_object_array_get_idx(c->in[1], j), *kb;
                if (!json_object_is_type(b, json_type_object) || !json_object_object_get_ex(b, key, &kb))
                    continue;
                if (strcmp(abuf, json_object_to_json_string_ext(kb, JSON_C_TO_STRING_PLAIN)) == 0)
                    gl_node_emit(c, 0, merged(a, b));
            }
        }
    } else {
        return gl_node_fail(c, "unknown mode '%.20s'", mode);
    }
    return GL_OK;
}

static const char *const merge_modes[] = { "append", "join", "wait", NULL };

const gl_node_def_t gl_node_flow_merge = {
    .type = "flow.merge",
    .display_name = "Merge",
    .category = "flow",
    .description = "Combines two inputs: append, join by key, or wait for both.",
    .inputs = { "input1", "input2" },
    .outputs = { "main" },
    .params = {
        { "mode", GL_PARAM_SELECT, "\"append\"", false, false, merge_modes, "how the inputs combine" },
        { "key", GL_PARAM_STRING, NULL, false, false, NULL, "join mode: the field both inputs share" },
    },
    .run = run,
    .quick = true,
};
