/*
 * node.h: what a node type is. Each file in this folder is one node type:
 * it exports one descriptor, `const gl_node_def_t gl_node_<name>`, which
 * says everything the rest of the engine knows of the type — its ports,
 * its parameters with their defaults, the checks of the validator beyond
 * the parameter table (.validate), what it runs (.run), whether it may run
 * inside the web server (.quick), and what the run loop and the trigger
 * rows must know of it, as data. catalogue.c lists every descriptor once;
 * GET /api/node-types, the validator (validate.c), the run loop (engine.c)
 * and gl_engine_triggers read them there. No code outside a node's own
 * file compares type names. Adding a node type is adding a file here and
 * a line to catalogue.c's table.
 *
 * A node's run function reads its input items per port (c->in[i] follows
 * the type's inputs[] order), its parameters through gl_node_param
 * (defaults from the descriptor, expressions evaluated for one item), and
 * appends its results to c->out[i] (following the type's outputs[] order).
 * It returns GL_OK, or an error with the message set by gl_node_fail;
 * c->retryable says whether a retry may help (node retry settings decide
 * whether there is one).
 */
#ifndef GL_NODE_H
#define GL_NODE_H

#include "buf.h"
#include "engine.h"
#include "gl.h"

#include <json-c/json.h>

typedef enum {
    GL_PARAM_STRING,
    GL_PARAM_NUMBER,
    GL_PARAM_BOOLEAN,
    GL_PARAM_SELECT,
    GL_PARAM_JSON,
    GL_PARAM_CODE,
    GL_PARAM_CREDENTIAL,
} gl_param_type_t;

typedef struct {
    const char *name;
    gl_param_type_t type;
    const char *def;          /* default as JSON text, NULL: none */
    bool required;
    bool expressions;         /* may hold {{ … }} expressions */
    const char *const *options; /* GL_PARAM_SELECT: NULL-terminated choices */
    const char *description;
} gl_param_def_t;

#define GL_NODE_MAX_PORTS 10
#define GL_NODE_MAX_PARAMS 16

/* Every non-trigger node also has this output: with continue_on_fail set,
 * a failure becomes an item here instead of failing the execution. */
#define GL_NODE_ERROR_PORT "error"

typedef struct gl_exec gl_exec_t;           /* engine internals */
typedef struct gl_node_ctx gl_node_ctx_t;
typedef struct gl_node_check gl_node_check_t; /* validate.c: one parameter being checked */

typedef int (*gl_node_fn)(gl_node_ctx_t *c);
/* Checks parameter d's value v (present, not null, within the size limits
 * and expression rules) beyond what its gl_param_def_t says; reports with
 * gl_node_problem. */
typedef void (*gl_node_validate_fn)(gl_node_check_t *chk, const gl_param_def_t *d, json_object *v);
/* Adds to `row` (a new trigger row {node_id, kind}) what the trigger's
 * table needs of enabled node `node` of definition `def` (both borrowed). */
typedef void (*gl_node_trigger_row_fn)(json_object *def, json_object *node, json_object *row);

typedef struct gl_node_def {
    const char *type;         /* "http.request" */
    const char *display_name; /* "HTTP Request" */
    const char *category;     /* "trigger", "action", "data", "flow" */
    const char *description;
    const char *inputs[GL_NODE_MAX_PORTS];  /* NULL-terminated; none for a trigger */
    const char *outputs[GL_NODE_MAX_PORTS]; /* NULL-terminated */
    gl_param_def_t params[GL_NODE_MAX_PARAMS]; /* ends with a row whose name is NULL */
    gl_node_validate_fn validate; /* NULL: the parameter table says it all */
    gl_node_fn run;
    bool quick;               /* quick and local: may run inside the web server (direct webhooks) */
    /* what the validator and the run loop must know of particular types */
    bool trigger;             /* starts executions; has no inputs */
    bool default_trigger;     /* the trigger a run starts at when it names none (first such node) */
    bool sets_response;       /* its state is the webhook response {status, headers, body} */
    const char *loop_input;   /* an input an edge may run back into, closing the one sanctioned loop */
    /* a string parameter whose non-empty values no two nodes of this type
     * share (a webhook's path), and what the message calls it */
    const char *unique_param;
    const char *unique_what;
    /* the unique parameter saved empty (absent, null or "") gets a value:
     * a random UUID the database draws, which later saves of the node keep
     * (gl_engine_generated_params, sql/012) */
    bool unique_generated;
    /* a trigger an active workflow serves: the kind of its trigger row
     * ("webhook", "schedule", "error"; NULL: none, e.g. the manual trigger)
     * and what the row holds besides {node_id, kind} (NULL: nothing) */
    const char *trigger_kind;
    gl_node_trigger_row_fn trigger_row;
} gl_node_def_t;

/* the catalogue (catalogue.c): every descriptor, in the order served */
extern const gl_node_def_t *const gl_node_defs[];
extern const size_t gl_node_defs_count;

/* The descriptor of type id, or NULL. */
const gl_node_def_t *gl_node_def_find(const char *type);
/* The parameter of t with this name, or NULL. */
const gl_param_def_t *gl_node_param_find(const gl_node_def_t *t, const char *name);
bool gl_node_has_input(const gl_node_def_t *t, const char *port);
bool gl_node_has_output(const gl_node_def_t *t, const char *port);
const char *gl_param_type_name(gl_param_type_t t);

/* Reports a problem with the parameter chk is checking (validate.c). */
void gl_node_problem(gl_node_check_t *chk, const char *fmt, ...) GL_PRINTF(2, 3);
/* The "params" object of the node chk is checking (borrowed), or NULL: for
 * rules that tie one parameter to another. */
json_object *gl_node_check_params(gl_node_check_t *chk);
/* A node's string parameter `name` (borrowed), or NULL when it is absent or
 * not a string; for trigger_row functions. */
const char *gl_node_param_string(json_object *node, const char *name);

struct gl_node_ctx {
    gl_exec_t *exec;
    const gl_run_t *run;
    const gl_node_def_t *type;
    const char *node_id;
    const char *node_name;
    json_object *node;              /* the node's definition (borrowed) */
    json_object *params;            /* its "params" object (borrowed), may be NULL */
    json_object *in[GL_NODE_MAX_PORTS];  /* input arrays (borrowed), never NULL */
    json_object *out[GL_NODE_MAX_PORTS + 1]; /* output arrays (owned by the engine); the last slot is the error port */
    json_object *state_in;          /* the state this node left at its previous activation, or NULL */
    json_object *state_out;         /* new state (set a new reference), or NULL */
    json_object *response;          /* sets_response types: {status, headers, body} (new reference) */
    int attempt;
    int64_t deadline_ms;            /* wall clock; 0: none (node timeout and execution timeout) */
    int64_t park_until_ms;          /* flow.wait: park the execution until then */
    bool retryable;
    int64_t retry_after_ms;         /* a hint from the node (HTTP Retry-After), 0: none */
    char error[512];
};

/* Sets the error message; returns GL_INVALID for `return gl_node_fail(…)`. */
int gl_node_fail(gl_node_ctx_t *c, const char *fmt, ...) GL_PRINTF(2, 3);

/* Parameter `name` evaluated for input item `item` of the main input (-1:
 * no current item): the raw value, the descriptor's default, or NULL (absent
 * with no default). Expressions in strings — also inside JSON objects and
 * arrays — are rendered. *out is a new reference (or NULL). On an
 * expression error the node's error is set (naming the parameter) and
 * GL_INVALID is returned. */
int gl_node_param(gl_node_ctx_t *c, const char *name, int item, json_object **out) GL_WUR;
/* Typed shortcuts over gl_node_param (the default applies when absent). */
int gl_node_param_str(gl_node_ctx_t *c, const char *name, int item, const char **out) GL_WUR; /* valid until the next call with this ctx */
int gl_node_param_int(gl_node_ctx_t *c, const char *name, int item, int64_t *out) GL_WUR;
int gl_node_param_bool(gl_node_ctx_t *c, const char *name, int item, bool *out) GL_WUR;

/*
 * Credentials (engine.h). gl_node_credential opens the credential called
 * name through the run's source into *out (valid until the run ends) and
 * lists its secret values for redaction; gl_node_credential_refresh asks
 * for a fresh OAuth2 token after the API refused used_token. On failure
 * the node's error is set (naming the credential), c->retryable says
 * whether a retry may help, and the source's code is returned. A node
 * that sends a form derived from a secret (a Basic header's base64) lists
 * that form too, with gl_node_secret (copied).
 */
int gl_node_credential(gl_node_ctx_t *c, const char *name, const gl_cred_t **out) GL_WUR;
int gl_node_credential_refresh(gl_node_ctx_t *c, const char *name, const char *used_token,
                               const gl_cred_t **out) GL_WUR;
void gl_node_secret(gl_node_ctx_t *c, const char *s, size_t n);

/*
 * Binary data (engine.h: items with "$binary", the run's file source).
 *
 * gl_node_binary: item i of the main input's binary property `prop` into
 * *ref (pointing into the item). When the item has no such property, or
 * it is not a file reference, the node fails naming the item, the
 * property and the properties the item has.
 *
 * gl_node_file_open: opens ref's content through the run's source: *fd a
 * read-only descriptor of exactly ref->size bytes, which the caller
 * closes. The source checks that the file is the org's and matches ref.
 *
 * gl_node_file_create, gl_node_file_write, gl_node_file_commit: a new file
 * of the execution, streamed: create a writer (bounded by the per-file
 * limit), write into it as the bytes come (a libcurl write callback can
 * call gl_node_file_write directly), then commit it with a name and a
 * media type: *prop a new binary property {id, file_name, mime_type, size,
 * sha256} (the caller puts it, or hands it to gl_node_set_binary). A write
 * that fails leaves the writer to the caller, who aborts it
 * (gl_filestore_abort); commit ends it whatever happens. gl_node_file_put
 * is the three at once for bytes in memory.
 *
 * Each fails the node with a clear message (no file source in this run,
 * the per-file limit files.max_file_bytes, the org's quota
 * files.max_bytes_per_org, a name or type the store refuses, a reference
 * that does not open) and returns the source's code; c->retryable is set
 * when the database could not be reached.
 */
int gl_node_binary(gl_node_ctx_t *c, int i, const char *prop, gl_binary_ref_t *ref) GL_WUR;
int gl_node_file_open(gl_node_ctx_t *c, const gl_binary_ref_t *ref, int *fd) GL_WUR;
int gl_node_file_create(gl_node_ctx_t *c, gl_fs_writer_t **w) GL_WUR;
int gl_node_file_write(gl_node_ctx_t *c, gl_fs_writer_t *w, const void *buf, size_t len) GL_WUR;
int gl_node_file_commit(gl_node_ctx_t *c, gl_fs_writer_t *w, const char *file_name, const char *mime_type,
                        json_object **prop) GL_WUR;
int gl_node_file_put(gl_node_ctx_t *c, const void *buf, size_t len, const char *file_name, const char *mime_type,
                     json_object **prop) GL_WUR;
/* Sets item["$binary"][name] = prop (taking the caller's reference),
 * making "$binary" an object first when it is absent or not one. */
void gl_node_set_binary(json_object *item, const char *name, json_object *prop);

/* What a node may still add to the execution, for nodes that make many
 * items from one input (a parsed file): *max_items on one output port
 * (limits.max_items) and *bytes_left of the execution's data
 * (limits.max_bytes less what earlier steps output). Checked again, as
 * for every node, when it returns. */
void gl_node_limits(gl_node_ctx_t *c, int *max_items, size_t *bytes_left);

/* Item i of the main input (borrowed). */
json_object *gl_node_item(gl_node_ctx_t *c, int i);
/* Appends v to output port index `port`, taking the caller's reference: pass
 * a new object, or json_object_get() of a borrowed one; do not put it after. */
void gl_node_emit(gl_node_ctx_t *c, int port, json_object *v);
/* Emits every item of input `in` on output `out`. */
void gl_node_pass(gl_node_ctx_t *c, int in, int out);
/* Index of an output / input port by name, -1 if none. */
int gl_node_out_index(const gl_node_ctx_t *c, const char *port);

#endif
