/*
 * node.h: what a node implementation sees. One file per node type in this
 * folder implements `int gl_node_<type>(gl_node_ctx_t *c)`; engine.c maps
 * the catalogue's type ids (catalogue.c) to them.
 *
 * A node reads its input items per port (c->in[i] follows the type's
 * inputs[] order), its parameters through gl_node_param (defaults from the
 * catalogue, expressions evaluated for one item), and appends its results
 * to c->out[i] (following the type's outputs[] order). It returns GL_OK, or
 * an error with the message set by gl_node_fail; c->retryable says whether
 * a retry may help (node retry settings decide whether there is one).
 */
#ifndef GL_NODE_H
#define GL_NODE_H

#include "engine.h"
#include "nodetypes.h"

#include <json-c/json.h>

typedef struct gl_exec gl_exec_t; /* engine internals */

typedef struct gl_node_ctx {
    gl_exec_t *exec;
    const gl_run_t *run;
    const gl_node_type_t *type;
    const char *node_id;
    const char *node_name;
    json_object *node;              /* the node's definition (borrowed) */
    json_object *params;            /* its "params" object (borrowed), may be NULL */
    json_object *in[GL_NODE_MAX_PORTS];  /* input arrays (borrowed), never NULL */
    json_object *out[GL_NODE_MAX_PORTS + 1]; /* output arrays (owned by the engine); the last slot is the error port */
    json_object *state_in;          /* the state this node left at its previous activation, or NULL */
    json_object *state_out;         /* new state (set a new reference), or NULL */
    json_object *response;          /* flow.respond: {status, headers, body} (new reference) */
    int attempt;
    int64_t deadline_ms;            /* wall clock; 0: none (node timeout and execution timeout) */
    int64_t park_until_ms;          /* flow.wait: park the execution until then */
    bool retryable;
    int64_t retry_after_ms;         /* a hint from the node (HTTP Retry-After), 0: none */
    char error[512];
} gl_node_ctx_t;

typedef int (*gl_node_fn)(gl_node_ctx_t *c);

/* Sets the error message; returns GL_INVALID for `return gl_node_fail(…)`. */
int gl_node_fail(gl_node_ctx_t *c, const char *fmt, ...) GL_PRINTF(2, 3);

/* Parameter `name` evaluated for input item `item` of the main input (-1:
 * no current item): the raw value, the catalogue default, or NULL (absent
 * with no default). Expressions in strings — also inside JSON objects and
 * arrays — are rendered. *out is a new reference (or NULL). On an
 * expression error the node's error is set (naming the parameter) and
 * GL_INVALID is returned. */
int gl_node_param(gl_node_ctx_t *c, const char *name, int item, json_object **out) GL_WUR;
/* Typed shortcuts over gl_node_param (the default applies when absent). */
int gl_node_param_str(gl_node_ctx_t *c, const char *name, int item, const char **out) GL_WUR; /* valid until the next call with this ctx */
int gl_node_param_int(gl_node_ctx_t *c, const char *name, int item, int64_t *out) GL_WUR;
int gl_node_param_bool(gl_node_ctx_t *c, const char *name, int item, bool *out) GL_WUR;

/* Item i of the main input (borrowed). */
json_object *gl_node_item(gl_node_ctx_t *c, int i);
/* Appends a new reference of v to output port index `port`. */
void gl_node_emit(gl_node_ctx_t *c, int port, json_object *v);
/* Emits every item of input `in` on output `out`. */
void gl_node_pass(gl_node_ctx_t *c, int in, int out);
/* Index of an output / input port by name, -1 if none. */
int gl_node_out_index(const gl_node_ctx_t *c, const char *port);

/* node implementations */
int gl_node_trigger_manual(gl_node_ctx_t *c);
int gl_node_trigger_webhook(gl_node_ctx_t *c);
int gl_node_trigger_schedule(gl_node_ctx_t *c);
int gl_node_trigger_error(gl_node_ctx_t *c);
int gl_node_http_request(gl_node_ctx_t *c);
int gl_node_data_set(gl_node_ctx_t *c);
int gl_node_flow_if(gl_node_ctx_t *c);
int gl_node_flow_switch(gl_node_ctx_t *c);
int gl_node_flow_merge(gl_node_ctx_t *c);
int gl_node_flow_split(gl_node_ctx_t *c);
int gl_node_flow_aggregate(gl_node_ctx_t *c);
int gl_node_flow_loop(gl_node_ctx_t *c);
int gl_node_flow_wait(gl_node_ctx_t *c);
int gl_node_flow_subworkflow(gl_node_ctx_t *c);
int gl_node_flow_respond(gl_node_ctx_t *c);
int gl_node_flow_noop(gl_node_ctx_t *c);

#endif
