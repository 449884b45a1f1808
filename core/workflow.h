/*
 * workflow.h: workflow definitions — their validation against the node-type
 * catalogue. A definition is
 *
 *   { "nodes": [ { "id", "type", "name", "params", "position", "retry",
 *                  "timeout_ms", "continue_on_fail", "disabled", "notes" } ],
 *     "edges": [ { "from", "from_port", "to", "to_port" } ],
 *     "settings": { "timeout_ms", "error_workflow_id", "timezone" } }
 *
 * Validation collects every problem (up to a cap), each naming the node and
 * the field, so the editor can mark them all at once.
 */
#ifndef GL_WORKFLOW_H
#define GL_WORKFLOW_H

#include "buf.h"
#include "gl.h"

#include <json-c/json.h>

#define GL_WF_MAX_PROBLEMS 50

typedef struct {
    char node[72];    /* node id ("" for the workflow as a whole) */
    char field[96];   /* e.g. "params.url", "edges[3].to" */
    char message[200];
} gl_problem_t;

typedef struct {
    gl_problem_t items[GL_WF_MAX_PROBLEMS];
    int n;
    bool truncated;
} gl_problems_t;

typedef struct {
    int max_nodes;
    int max_edges;
    size_t max_param_bytes;  /* one parameter value, serialized */
    int max_param_depth;     /* nesting inside one parameter value */
} gl_wf_limits_t;

extern const gl_wf_limits_t gl_wf_default_limits;

/* Checks def; GL_OK when it is a valid definition, else GL_INVALID with the
 * problems in *out. */
int gl_workflow_validate(json_object *def, const gl_wf_limits_t *limits, gl_problems_t *out) GL_WUR;

/* Appends the problems as a JSON array of {node, field, message}. */
int gl_problems_json(const gl_problems_t *p, gl_buf_t *out) GL_WUR;

#endif
