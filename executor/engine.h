/*
 * engine.h: the execution engine's public header — the one thing of
 * executor/ that glyphic-fcgi (direct webhook path) and the glyphic CLI
 * (`glyphic run FILE`) include.
 *
 * The engine runs one execution of one workflow definition. It walks the
 * graph in dependency order: among the nodes that have input waiting, the
 * one earliest in topological order (edges into flow.loop's loop-back input
 * do not count) runs next, so a node fed by several branches runs once with
 * everything they sent. Items are JSON values (usually objects) passed in
 * arrays along edges; a port that produced no items does not activate the
 * nodes behind it.
 *
 * Every node attempt is a step, handed to io.record before the engine moves
 * on. The scheduler is deterministic, so a resumed execution (run.recorded
 * holds the steps recorded before a crash or a wait) replays: an activation
 * whose step succeeded takes the recorded output instead of running its
 * node again.
 */
#ifndef GL_ENGINE_H
#define GL_ENGINE_H

#include "gl.h"
#include "ipnet.h"

#include <json-c/json.h>
#include <stdint.h>

/* One node attempt, as it is recorded. */
typedef struct {
    int seq;                 /* 1-based, across the execution */
    int run_index;           /* the node activation (1-based, across the execution) */
    const char *node_id;
    const char *node_name;
    const char *node_type;
    int attempt;             /* 1-based within the activation */
    const char *status;      /* "succeeded", "failed", "waiting" */
    json_object *input;      /* {"port": [items]} */
    json_object *output;     /* {"port": [items]}, NULL when the attempt failed without continuing */
    json_object *state;      /* node state for its next activation, or NULL */
    json_object *error;      /* {"message", "node", "node_name", …} or NULL */
    int64_t started_ms, finished_ms;
} gl_step_t;

typedef struct {
    /* Durably records a step (the execution must not go on before it is).
     * Sets *cancel when the execution should stop before its next step.
     * GL_OK, or an error: the execution stops (status GL_RUN_ABORTED) and
     * is resumed later from what was recorded. */
    int (*record)(void *ud, const gl_step_t *step, bool *cancel, gl_err_t *err);
    /* Optional: a step starts (live progress). */
    void (*begin)(void *ud, const gl_step_t *step);
    /* Optional: runs another workflow (flow.subworkflow) with items as its
     * input; *out is a new array of the child's output items. */
    int (*subworkflow)(void *ud, const char *workflow_id, json_object *items, int depth, json_object **out,
                       gl_err_t *err);
    /* Optional: called between slices of long waits inside a node (HTTP
     * retry backoff); GL_OK to go on. */
    int (*heartbeat)(void *ud);
    void *ud;
} gl_engine_io_t;

typedef struct {
    int max_items;             /* items on one port of one step; 0: 10000 */
    size_t max_bytes;          /* bytes of all step outputs of the execution; 0: 16 MiB */
    int max_steps;             /* node attempts of the execution; 0: 10000 */
    int64_t inline_wait_ms;    /* retry backoffs up to this long are slept; longer ones park; 0: 5000 */
    /* Operator policy (glyphic.conf). The zero value is the safe default. */
    const gl_ipnet_list_t *allow_private; /* http.allow_private: internal ranges http.request may reach;
                                             NULL: public addresses only */
    bool allow_scripts;        /* http.respond_allow_scripts: flow.respond may send script content types */
} gl_engine_limits_t;

typedef struct {
    json_object *definition;   /* borrowed */
    const char *execution_id;  /* may be NULL (glyphic run) */
    const char *workflow_id;
    const char *workflow_name;
    const char *trigger_node;  /* the trigger that fired; NULL: the first trigger.manual, else first trigger */
    json_object *input;        /* the trigger's items (array, borrowed); NULL: [{}] */
    json_object *recorded;     /* steps recorded earlier (array of {seq, node_id, run_index, attempt, status,
                                  output, state, error, finished_ms}), borrowed, NULL: none */
    json_object *env;          /* $env: allowed variables (object, borrowed), NULL: {} */
    int64_t deadline_ms;       /* wall clock ms the execution must end by; 0: none */
    bool can_park;             /* false: flow.wait and long backoffs are errors (direct webhook path) */
    int depth;                 /* subworkflow nesting */
    gl_engine_limits_t limits;
    gl_engine_io_t io;
} gl_run_t;

typedef enum {
    GL_RUN_SUCCEEDED,
    GL_RUN_FAILED,     /* a node failed (after its retries) or a limit was hit */
    GL_RUN_WAITING,    /* parked until wait_until_ms (flow.wait, long retry backoff) */
    GL_RUN_CANCELED,
    GL_RUN_ABORTED,    /* io.record failed: nothing is lost, resume later */
} gl_run_status_t;

typedef struct {
    gl_run_status_t status;
    json_object *output;       /* the last step's output items (array), owned */
    json_object *response;     /* flow.respond's {status, headers, body}, owned, or NULL */
    json_object *error;        /* {message, node, node_name}, owned, or NULL */
    int64_t wait_until_ms;
    int steps;                 /* steps recorded by this run */
    char abort_msg[256];       /* GL_RUN_ABORTED: why */
} gl_run_result_t;

/* Runs (or resumes) the execution. Returns GL_OK with the outcome in *res
 * (free it with gl_run_result_free), or GL_INVALID when the definition
 * cannot run at all (err says why). */
int gl_engine_run(const gl_run_t *run, gl_run_result_t *res, gl_err_t *err) GL_WUR;
void gl_run_result_free(gl_run_result_t *res);

const char *gl_run_status_name(gl_run_status_t s);

/* True when every node of def is quick and local (no HTTP, waits,
 * subworkflows or retries), so it may run inside the web server. */
bool gl_engine_is_direct(json_object *def);

/*
 * Webhook answers (flow.respond) are served on the app's origin, so what a
 * workflow may put in them is an allow list:
 *
 * gl_engine_header_allowed: may a workflow set a response header of this
 * name? Content-Type, Content-Disposition, Content-Language, ETag,
 * Last-Modified, Location, Retry-After, and custom X- headers that are not
 * the server's (X-Glyphic-*, X-Accel-*, X-Request-Id, and the security
 * headers X-Frame-Options, X-Content-Type-Options, X-XSS-Protection …).
 * Case-insensitive.
 */
bool gl_engine_header_allowed(const char *name);

/* gl_engine_content_type_allowed: may a webhook answer carry this
 * Content-Type value? A well-formed `type/subtype[; parameters]` (no
 * commas, no control characters, at most 200 bytes), and, unless
 * allow_scripts (http.respond_allow_scripts), not a JavaScript MIME type
 * (text/javascript, application/javascript, application/ecmascript,
 * text/jscript … — what a browser would run as a classic or module
 * script). text/html is allowed: every webhook answer is sent with
 * Content-Security-Policy: sandbox, so it runs no script. */
bool gl_engine_content_type_allowed(const char *ct, bool allow_scripts);

/* gl_engine_response_header_check: the whole rule for one header of a
 * webhook answer: the name (gl_engine_header_allowed), a one-line value of
 * at most 1000 bytes, Content-Type by gl_engine_content_type_allowed, and
 * Location an http(s) URL or a path. NULL when allowed, else why not (a
 * static string, e.g. "is not an allowed response header"). */
const char *gl_engine_response_header_check(const char *name, const char *value, bool allow_scripts);

/* A step as JSON {seq, node_id, run_index, attempt, status, input, output,
 * state, error, started_ms, finished_ms} (the shape exec_insert_steps
 * takes); a new object. */
json_object *gl_step_json(const gl_step_t *s);
/* An io.record that appends each step (gl_step_json) to the JSON array ud:
 * for runs recorded in one statement at the end. */
int gl_step_collect(void *ud, const gl_step_t *s, bool *cancel, gl_err_t *err);

/*
 * What the engine gives a node's expressions, from a step as it is
 * recorded (shared with POST /api/expressions/preview, so a preview and a
 * run cannot disagree):
 *
 * gl_engine_step_items: the items of the step's first input port ($json,
 * $input), from its recorded input {"port": items}: the type's first
 * input, or "main" for a trigger. Borrowed; NULL when absent.
 *
 * gl_engine_node_items: what $node["Name"] / $("Name") gives for a node of
 * type type_id whose latest output is {"port": items}: the first port with
 * items (an If's taken branch), in the order of the type's outputs and then
 * the error port; else the first port present. Borrowed; NULL when none.
 */
json_object *gl_engine_step_items(const char *type_id, json_object *input);
json_object *gl_engine_node_items(const char *type_id, json_object *output);

/* $env for expressions: the environment variables named in allow
 * (comma-separated, executor.env_allow) that are set. A new object. */
json_object *gl_engine_env(const char *allow);

/* The workflow's settings.timeout_ms, 0 if none. */
int64_t gl_engine_timeout_ms(json_object *def);

#endif
