/*
 * exec_int.h: what the run loop (engine.c), the attempt state machine
 * (attempt.c) and the nodes' credentials (creds.c) share: one execution in
 * memory, its nodes and their edges. Included only by those files. Functions shared between them carry
 * the gl__exec_ prefix; the small json readers below are static inline and
 * keep their short names (no linkage).
 *
 * Memory follows the one rule written at the top of engine.c: every
 * json_object pointer is owned (holds one reference) or borrowed, and the
 * fields below say which.
 */
#ifndef GL_EXEC_INT_H
#define GL_EXEC_INT_H

#include "engine.h"
#include "node.h"
#include "redact.h"

#include <json-c/json.h>

#define ERROR_PORT_SLOT GL_NODE_MAX_PORTS /* out[] slot of the error port */
#define N_SLOTS (GL_NODE_MAX_PORTS + 1)

typedef struct {
    int to;        /* node index */
    int to_port;   /* input index */
} edge_t;

typedef struct {
    const char *id;        /* borrowed from def */
    const char *name;      /* borrowed from def */
    json_object *def;      /* borrowed: the run's definition owns it */
    json_object *params;   /* borrowed from def, or NULL */
    const gl_node_def_t *type;
    bool sets_response;    /* its recorded state is the webhook response (flow.respond) */
    bool disabled;
    bool continue_on_fail;
    int retry_max;         /* attempts in all */
    int64_t backoff_ms;
    int64_t timeout_ms;
    int rank;              /* topological position */
    int n_in, n_out;
    edge_t *edges[N_SLOTS]; /* per output slot (error port at ERROR_PORT_SLOT), malloc'd */
    int n_edges[N_SLOTS];
    json_object *pending[GL_NODE_MAX_PORTS]; /* owned arrays, or NULL */
    bool waiting;          /* has pending input */
    json_object *state;    /* owned, or NULL */
    json_object *last_out; /* owned: {"port": items} of its latest activation */
    int runs;              /* activations so far in this run ($runIndex is runs - 1 during one) */
} node_t;

struct gl_exec {
    const gl_run_t *run;
    node_t *nodes;
    int n;
    int seq;
    int run_index;
    size_t bytes;
    int steps_recorded;     /* by this run */
    int steps_total;        /* of the execution: replayed and new */
    bool cancel;
    json_object *response;  /* owned, or NULL */
    json_object *last_items; /* owned, or NULL */
    json_object *scratch;   /* owned: gl_node_param_str's value */
    size_t rec_pos;         /* next recorded step to replay */
    size_t rec_n;
    gl_engine_limits_t lim;
    gl_redact_t *redact;    /* owned: the secret values opened so far, or NULL (creds.c) */
};

/* How an activation ends. */
typedef enum {
    STEP_DONE,   /* its output went along the edges: the run goes on */
    STEP_FAILED, /* the execution fails with outcome_t.error */
    STEP_PARK,   /* the execution waits until outcome_t.wait_until */
    STEP_STOP    /* canceled, or aborted with outcome_t.abort_msg */
} step_outcome_t;

typedef struct {
    json_object *error;     /* owned: the execution's error when it fails */
    int64_t wait_until;
    char abort_msg[256];
} outcome_t;

/* One activation of nd with inputs in[] (borrowed: the caller puts them):
 * attempt.c's state machine. */
step_outcome_t gl__exec_activate(gl_exec_t *x, node_t *nd, json_object **in, outcome_t *o);

/* Takes a recorded or fresh {"port": items} output (borrowed; a reference
 * is kept): delivers it along nd's edges, keeps it for $node lookups and
 * as the execution's latest output. */
void gl__exec_accept(gl_exec_t *x, node_t *nd, json_object *output);

static inline int64_t obj_int(json_object *o, const char *key, int64_t def)
{
    json_object *v;
    if (o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_int))
        return json_object_get_int64(v);
    return def;
}

static inline bool obj_bool(json_object *o, const char *key)
{
    json_object *v;
    return o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_boolean) &&
           json_object_get_boolean(v);
}

/* o[key] when it is a string (borrowed), else NULL. */
static inline const char *obj_str(json_object *o, const char *key)
{
    json_object *v;
    if (o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
        return json_object_get_string(v);
    return NULL;
}

#endif
