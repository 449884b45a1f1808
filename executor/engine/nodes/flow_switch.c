/*
 * flow.switch: each item goes to the output of the first rule that holds
 * for it (rule n → out<n>), else to `fallback`. `rules` is an array of up
 * to 8 conditions, each an expression string (or a boolean).
 */
#include "engine.h"
#include "node.h"

#include <string.h>

#define MAX_RULES 8

static int run(gl_node_ctx_t *c)
{
    int fallback = gl_node_out_index(c, "fallback");
    size_t n = json_object_array_length(c->in[0]);
    for (size_t i = 0; i < n; i++) {
        json_object *rules;
        if (gl_node_param(c, "rules", (int)i, &rules) != GL_OK)
            return GL_INVALID;
        if (!rules || !json_object_is_type(rules, json_type_array)) {
            json_object_put(rules);
            return gl_node_fail(c, "parameter 'rules' must be an array of conditions");
        }
        size_t nr = json_object_array_length(rules);
        if (nr > MAX_RULES) {
            json_object_put(rules);
            return gl_node_fail(c, "parameter 'rules' has %zu rules; at most %d", nr, MAX_RULES);
        }
        int port = fallback;
        for (size_t r = 0; r < nr; r++) {
            json_object *v = json_object_array_get_idx(rules, r);
            const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
            bool yes = s ? strcmp(s, "true") == 0 || (strcmp(s, "false") != 0 && gl_expr_truthy(v))
                         : gl_expr_truthy(v);
            if (yes) {
                port = (int)r;
                break;
            }
        }
        json_object_put(rules);
        gl_node_emit(c, port, json_object_get(gl_node_item(c, (int)i)));
    }
    return GL_OK;
}

static const char *const combine[] = { "and", "or", NULL };

static void validate(gl_node_check_t *chk, const gl_param_def_t *d, json_object *v)
{
    if (strcmp(d->name, "rules") == 0 && (!json_object_is_type(v, json_type_array) || json_object_array_length(v) > 8))
        gl_node_problem(chk, "rules must be an array of at most 8 conditions (outputs out0-out7)");
}

const gl_node_def_t gl_node_flow_switch = {
    .type = "flow.switch",
    .display_name = "Switch",
    .category = "flow",
    .description = "Routes each item to the output of the first rule it matches, else to fallback.",
    .inputs = { "main" },
    .outputs = { "out0", "out1", "out2", "out3", "out4", "out5", "out6", "out7", "fallback" },
    .params = {
        { "rules", GL_PARAM_JSON, "[]", true, true, NULL, "up to 8 conditions (expressions); rule n routes to outn" },
        { "combine", GL_PARAM_SELECT, "\"and\"", false, false, combine, "unused by single-condition rules" },
    },
    .validate = validate,
    .run = run,
    .quick = true,
};
