/*
 * flow.subworkflow: runs another workflow of the same org with this
 * node's items as the input of its trigger (its trigger.manual, else its
 * first trigger), waits for it, and continues with its output. The child
 * is an execution of its own (trigger "subworkflow", parent set). Nesting
 * is limited to 5 levels. If the parent is interrupted while the child
 * runs, the child runs again from its start when the parent resumes.
 * The child runs only if the user the parent runs for (executions.
 * started_by: who ran it, or who activated its webhook or schedule) could
 * read it; otherwise the node fails with "workflow not found", as a GET
 * would answer.
 */
#include "node.h"

#include <stdio.h>
#include <string.h>

#define MAX_DEPTH 5

static int run(gl_node_ctx_t *c)
{
    const char *id;
    if (gl_node_param_str(c, "workflow_id", -1, &id) != GL_OK)
        return GL_INVALID;
    if (!id || !*id)
        return gl_node_fail(c, "parameter 'workflow_id' must name a workflow");
    if (!c->run->io.subworkflow)
        return gl_node_fail(c, "flow.subworkflow needs the server: it cannot run here");
    if (c->run->depth >= MAX_DEPTH)
        return gl_node_fail(c, "subworkflows nest more than %d levels deep", MAX_DEPTH);
    json_object *out = NULL;
    gl_err_t err;
    gl_err_clear(&err);
    char wid[64];
    snprintf(wid, sizeof wid, "%s", id);
    if (c->run->io.subworkflow(c->run->io.ud, wid, c->in[0], c->run->depth + 1, &out, &err) != GL_OK)
        return gl_node_fail(c, "workflow %s: %s", wid, err.msg);
    for (size_t i = 0; out && i < json_object_array_length(out); i++)
        gl_node_emit(c, 0, json_object_get(json_object_array_get_idx(out, i)));
    json_object_put(out);
    return GL_OK;
}

static void validate(gl_node_check_t *chk, const gl_param_def_t *d, json_object *v)
{
    if (strcmp(d->name, "workflow_id") == 0 && json_object_is_type(v, json_type_string) &&
        !gl_is_uuid(json_object_get_string(v)))
        gl_node_problem(chk, "workflow_id must be a workflow id");
}

const gl_node_def_t gl_node_flow_subworkflow = {
    .type = "flow.subworkflow",
    .display_name = "Run workflow",
    .category = "flow",
    .description = "Runs another workflow of the org with the items as input and continues with its output.",
    .inputs = { "main" },
    .outputs = { "main" },
    .params = {
        { "workflow_id", GL_PARAM_STRING, NULL, true, false, NULL, "the workflow to run" },
    },
    .validate = validate,
    .run = run,
    .quick = false,
};
