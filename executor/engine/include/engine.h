/*
 * engine.h: the workflow engine's one public header. The engine is a
 * library (executor/engine/): glyphic-executor runs queued executions with
 * it, glyphic-fcgi validates definitions, serves the node catalogue, runs
 * quick synchronous webhooks and previews expressions with it, and the
 * glyphic CLI runs workflow files with it. Nothing else of the engine is
 * visible to them: the build gives them this folder only.
 *
 * Sections: executions (gl_engine_run) with their credentials and binary
 * data, workflow definitions (validation), expressions, webhook answers,
 * the node catalogue.
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

#include "buf.h"
#include "filestore.h"
#include "gl.h"
#include "ipnet.h"
#include "oauth2_grant.h"

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
    bool effect;             /* the node is not quick: it may act outside the run (HTTP, waits, subworkflows,
                                files) */
    bool trigger;            /* a trigger node: its output is the run's input, the same when computed again */
    const char *status;      /* "succeeded", "failed", "waiting" */
    json_object *input;      /* {"port": [items]} */
    json_object *output;     /* {"port": [items]}, NULL when the attempt failed without continuing */
    json_object *state;      /* node state for its next activation, or NULL */
    json_object *error;      /* {"message", "node", "node_name", …} or NULL */
    int64_t started_ms, finished_ms;
} gl_step_t;

typedef struct {
    /* Records a step. Sets *cancel when the execution should stop before
     * its next step. GL_OK, or an error: the execution stops (status
     * GL_RUN_ABORTED) and is resumed later from what was recorded. With
     * before_effect set, it may hold steps back: every step must be
     * durable when before_effect returns, and the caller records what is
     * left with the run's end (a resumed run computes the steps of quick
     * nodes again; a node with side effects is repeated only when it was
     * the last one to run). */
    int (*record)(void *ud, const gl_step_t *step, bool *cancel, gl_err_t *err);
    /* Optional: a node that is not quick (HTTP, waits, subworkflows: it may
     * act outside the run) is about to start. Same answers as record. */
    int (*before_effect)(void *ud, bool *cancel, gl_err_t *err);
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

/*
 * Credentials. The engine knows neither the database nor the vault: the
 * program that runs it hands it a credential source (gl_run_t.creds), and
 * a node asks the source, through the engine, for a credential by the
 * name its parameter holds. glyphic-executor's source (executor/
 * credentials.c) reads the execution's org's row, opens its sealed fields
 * and keeps OAuth2 access tokens fresh; `glyphic run` and the web
 * server's direct path have none, and a node that needs a credential
 * fails there, saying so.
 *
 * Every secret value a source hands out (and every form a node derives
 * from one, gl_node_secret) joins the run's redaction list: each step's
 * input, output, state and error, the run's output, response and error
 * are redacted (core/redact.h) before io.record sees them or the run
 * returns them. A node's output is redacted before it goes on along the
 * edges too, so what later nodes get is what was stored, and a resumed
 * run replays exactly what the first one saw.
 */
#define GL_CRED_MAX_SECRETS 16

typedef struct {
    const char *name;          /* the secret field's name ("token", "access_token", …) */
    const char *value;         /* its opened value, NUL-terminated */
    size_t len;
} gl_cred_secret_t;

/* One credential, opened. All of it belongs to the source and stays valid
 * until the run ends (also after a refresh, which hands out a new one). */
typedef struct {
    const char *name;          /* as the workflow names it */
    const char *type;          /* "http.header", "oauth2.code", … (the credential types) */
    json_object *fields;       /* the non-secret fields: an object of strings */
    int n_secrets;
    gl_cred_secret_t secrets[GL_CRED_MAX_SECRETS];
} gl_cred_t;

/* A non-secret field's value, or NULL when absent or not a string. */
const char *gl_cred_field(const gl_cred_t *c, const char *field);
/* An opened secret field's value (*len its length when len is not NULL),
 * or NULL when the credential has no such field. */
const char *gl_cred_secret(const gl_cred_t *c, const char *field, size_t *len);
/* An OAuth2 credential (oauth2.code, oauth2.client) as core/oauth2_grant.h
 * asks for it: its token endpoint fields and secrets, with the row's
 * org_id, id and name (all borrowed from the arguments). */
gl_oauth2_cred_t gl_cred_oauth2(const gl_cred_t *c, const char *org_id, const char *id, const char *name);

typedef struct {
    /*
     * Opens the credential called name (of the execution's org) into *out.
     * For the OAuth2 types the secret field access_token holds a token
     * that is valid now: the source gets a new one first when the stored
     * one has expired or is about to. deadline_ms (wall clock, 0: none)
     * bounds any request the source makes. A source may answer from a
     * cache it keeps for the run.
     *
     * GL_OK; GL_NOTFOUND (no such credential); GL_INVALID (it cannot be
     * used: it does not open, it needs to be authorized again, the token
     * endpoint refused); GL_UNAVAILABLE (for now: the database or the
     * token endpoint cannot be reached — a retry may help). err->msg says
     * why and names the credential, never a secret value.
     */
    int (*get)(void *arg, const char *name, int64_t deadline_ms, const gl_cred_t **out, gl_err_t *err);
    /*
     * OAuth2 types: the API refused used_token (HTTP 401). A fresh token
     * into *out: one another run got meanwhile when the stored token is no
     * longer used_token, else a new one from the token endpoint — even
     * when the stored one has not expired. Same answers as get. NULL: the
     * source cannot refresh (the 401 stands).
     */
    int (*refresh)(void *arg, const char *name, const char *used_token, int64_t deadline_ms,
                   const gl_cred_t **out, gl_err_t *err);
    void *arg;
} gl_cred_source_t;

/*
 * Binary data. Items are JSON; an item that carries files is an object
 * with the reserved key "$binary", an object of binary properties by name
 * (names are JSON keys; nodes use "data" unless told otherwise):
 *
 *   {"name": "x", "$binary": {"data": {"id": "<glyphic.files row>", "file_name": "a.csv",
 *                                      "mime_type": "text/csv", "size": 123, "sha256": "<64 hex>"}}}
 *
 * The bytes live in the file store (core/filestore.h); items, recorded
 * steps and expressions carry only these references, so a resumed
 * execution replays the references and finds the same files. $json still
 * holds the "$binary" key; $binary is its value ({} when none).
 *
 * The engine knows neither the database nor the store's org: the program
 * that runs it hands it a file source (gl_run_t.files). glyphic-executor's
 * (executor/files.c) makes every file it commits a row of glyphic.files
 * owned by the execution (execution_id; deleted with it) and reads any
 * file of the execution's org; `glyphic run` and the web server's direct
 * path have none, and a node that needs files fails there, saying so
 * (such nodes are not quick, so a workflow using them is never direct).
 *
 * Nothing in an item is trusted: any workflow can write any "$binary"
 * JSON (data.set). A source opens a reference by its id within the run's
 * org only, checks its size and sha256 against the row, and takes the
 * path from the row, never from the item.
 */
#define GL_BINARY_KEY "$binary"
#define GL_BINARY_PROP_DEFAULT "data"

/* One binary property. id and sha256 are the row's; file_name and
 * mime_type point at their owner's strings (the property's JSON, or the
 * caller's arguments). */
typedef struct {
    char id[GL_UUID_LEN + 1];
    char sha256[GL_SHA256_HEX_LEN + 1];
    int64_t size;
    const char *file_name;
    const char *mime_type;
} gl_binary_ref_t;

/* A binary property's JSON (borrowed; ref's strings point into it) into
 * *ref: an object with id (a UUID), size (an integer >= 0) and sha256 (64
 * lowercase hex digits); file_name and mime_type when strings, else
 * "data" and application/octet-stream. GL_OK, or GL_INVALID with err
 * naming what is wrong. */
int gl_binary_ref_parse(json_object *prop, gl_binary_ref_t *ref, gl_err_t *err) GL_WUR;
/* A new object {id, file_name, mime_type, size, sha256} (the caller puts it). */
json_object *gl_binary_ref_json(const gl_binary_ref_t *ref);

typedef struct {
    /*
     * A new content of the execution's org: a writer (gl_filestore_begin)
     * bounded by the source's per-file limit (files.max_file_bytes), into
     * which the node streams with gl_filestore_write (GL_TOO_LARGE past
     * the limit). The node ends it with commit, or gl_filestore_abort.
     */
    int (*create)(void *arg, gl_fs_writer_t **out, gl_err_t *err);
    /*
     * Makes w's content a file of the execution called file_name, of type
     * mime_type (both already checked with gl_filestore_name_ok and
     * gl_filestore_type_ok), under the store's writer protocol; fills
     * ref's id, sha256 and size and points its file_name and mime_type at
     * the arguments. w is ended whatever happens (finished or aborted).
     * GL_OK; GL_TOO_LARGE: the org's quota (files.max_bytes_per_org) would
     * be passed — nothing is stored; GL_UNAVAILABLE: the database cannot
     * be reached (a retry may help); GL_ERR. err says why.
     */
    int (*commit)(void *arg, gl_fs_writer_t *w, const char *file_name, const char *mime_type, gl_binary_ref_t *ref,
                  gl_err_t *err);
    /*
     * Opens ref's content for reading: ref->id must be a file of the
     * execution's org (GL_NOTFOUND otherwise) whose size and sha256 are
     * ref's (GL_INVALID otherwise). *fd: a read-only descriptor
     * (O_CLOEXEC) at offset 0 of exactly ref->size bytes; the caller
     * closes it. GL_UNAVAILABLE, GL_ERR as commit.
     */
    int (*open)(void *arg, const gl_binary_ref_t *ref, int *fd, gl_err_t *err);
    void *arg;
} gl_file_source_t;

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
    json_object *vars;         /* $vars: the org's variables {key: value} (object, borrowed), NULL: {} */
    int64_t deadline_ms;       /* wall clock ms the execution must end by; 0: none */
    bool can_park;             /* false: flow.wait and long backoffs are errors (direct webhook path) */
    int depth;                 /* subworkflow nesting */
    gl_engine_limits_t limits;
    gl_engine_io_t io;
    gl_cred_source_t creds;    /* zero: none (a node that needs a credential fails) */
    gl_file_source_t files;    /* zero: none (a node that needs files fails) */
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

/* True when a string among def's nodes mentions $vars: the run needs the
 * org's variables (gl_run_t.vars). Such a workflow is never direct. */
bool gl_engine_uses_vars(json_object *def);

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
/* gl_step_collect for steps stored as one array (executions.steps, sql/040):
 * a step whose input holds the very same items as an output port of its
 * own or of the step before gets "input_from": ["self" or "prev", output
 * port, input port] in place of "input" — the items are written once, not
 * twice a step. Only where every reader expands it: glyphic.steps and
 * hook_record do (exec_insert_steps does not). */
int gl_step_collect_compact(void *ud, const gl_step_t *s, bool *cancel, gl_err_t *err);
/* gl_step_collect_compact's array as JSON text, written as the steps come
 * (glyphic-fcgi's direct path, whose steps go to the database as text):
 * no json object per step, and a step's members that are NULL (input,
 * output, state, error) are left out, which every reader takes as null. The ud of
 * gl_step_write_compact is a gl_steps_text_t; gl_steps_text closes the
 * array once the run is over and gives its text (NUL-terminated, owned by
 * t), NULL only when the memory for it cannot be had. */
typedef struct {
    gl_buf_t buf;
    json_object *prev_output; /* the last step's output (a reference): "prev" */
    size_t n;
} gl_steps_text_t;
void gl_steps_text_init(gl_steps_text_t *t);
int gl_step_write_compact(void *ud, const gl_step_t *s, bool *cancel, gl_err_t *err);
const char *gl_steps_text(gl_steps_text_t *t);
void gl_steps_text_free(gl_steps_text_t *t);

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


/* ---- Credential types --------------------------------------------- */
/*
 * The catalogue of credential types (credential_types.c): which fields each
 * has, which of them are secret, which the system writes (an OAuth2 token).
 * glyphic-fcgi serves it (GET /api/credential-types) and checks what users
 * store against it; http.request applies the types it knows.
 */
#define GL_CRED_MAX_FIELDS 16          /* fields of one type, or of one generic credential */
#define GL_CRED_MAX_FIELD_VALUE 4096   /* bytes of a non-secret field's value */
#define GL_CRED_MAX_SECRET_VALUE 65536 /* bytes of a secret field's value (GL_VAULT_MAX_SECRET) */

typedef struct {
    const char *name;
    const char *label;
    bool secret;
    bool required;
    bool system;  /* written by Glyphic (OAuth2 tokens), never by users */
    const char *help;
} gl_cred_field_def_t;

typedef struct {
    const char *type;
    const char *display_name;
    const char *description;
    bool any_fields; /* generic: any field names, every one secret unless listed */
    bool oauth2;     /* connected through GET /api/oauth2/start */
    gl_cred_field_def_t fields[GL_CRED_MAX_FIELDS]; /* ends at name NULL */
} gl_cred_type_t;

/* The type called type, or NULL. */
const gl_cred_type_t *gl_engine_cred_type_find(const char *type);

/* Appends the catalogue as a JSON array to out. */
int gl_engine_cred_types_json(gl_buf_t *out) GL_WUR;

/*
 * Checks what a user stores: fields (object of strings, or NULL when not
 * given) and secrets (object of strings or nulls — null clears —, or NULL)
 * against type t. With creating, required fields and secrets must be
 * present (on update, secrets_set lists the secret fields already stored,
 * NULL-terminated, which count as present unless cleared). On failure err
 * names the field (err->field "fields.x" or "secrets.x") and says why.
 */
int gl_engine_cred_check(const gl_cred_type_t *t, json_object *fields, json_object *secrets, bool creating,
                         const char *const *secrets_set, gl_err_t *err) GL_WUR;

/* True when field is a secret field of t (for generic: any field). */
bool gl_engine_cred_is_secret(const gl_cred_type_t *t, const char *field);

/*
 * Testing a credential (POST /api/credentials/{id}/test): one request to
 * url (absolute http or https) with cred applied exactly as http.request
 * applies it — the same table, the same outbound guard (allow:
 * http.allow_private; NULL: public addresses only), redirects followed
 * only on the URL's own origin, the same messages. method is GET, HEAD or
 * POST (without a body); the request takes at most timeout_ms (0 or more
 * than GL_HTTP_PROBE_TIMEOUT_MS: that), and at most 64 KiB of the answer
 * are read and dropped.
 *
 * GL_OK with *out, whether or not the API took the credential (a
 * credential that cannot be applied — a type http.request does not apply,
 * a missing field — is out->ok false with the reason, nothing sent);
 * GL_INVALID when method or url is not acceptable (err names the field),
 * nothing sent. Neither out nor err ever holds a secret or the answer's
 * body; a refused internal address reads "could not connect", as in
 * http.request, and is logged for the operator.
 */
#define GL_HTTP_PROBE_TIMEOUT_MS 10000

typedef struct {
    bool ok;                 /* the answer was 2xx */
    long status;             /* the last answer's HTTP status; 0: none */
    char message[512];       /* "HTTP 401 from GET https://host/path", "… failed: could not connect (…)" */
    char safe_url[512];      /* url without userinfo, query and fragment ("" if longer) */
} gl_http_probe_t;

int gl_engine_http_probe(const gl_cred_t *cred, const char *method, const char *url, const gl_ipnet_list_t *allow,
                         int64_t timeout_ms, gl_http_probe_t *out, gl_err_t *err) GL_WUR;

/* The probe's check of url alone (absolute http or https, a URL libcurl
 * takes, at most 8 KiB): GL_OK, or GL_INVALID with err (field "url"). */
int gl_engine_http_url_check(const char *url, gl_err_t *err) GL_WUR;

/* ---- Workflow definitions ---------------------------------------- */

/*
 * Workflow definitions — their validation against the node-type
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

/* ---- Expressions -------------------------------------------------- */

/*
 * The `{{ … }}` expression language of workflow parameters.
 *
 * The syntax and semantics are JavaScript's for what the language covers, so
 * common n8n expressions work unchanged: literals (numbers, strings, template
 * literals, arrays, objects), member access (`.`, `[]`, `?.`), the unary,
 * arithmetic, comparison, equality, logical, `??` and `?:` operators, the
 * n8n variables ($json, $binary, $input, $node, $("Name"), $execution,
 * $workflow, $now, $today, $env, $itemIndex), a library of string, array, number,
 * Math, JSON, Object and Luxon-style DateTime functions, arrow functions as
 * arguments of the array methods taking callbacks (map, filter, reduce,
 * sort…; bodies an expression or a block of const/let, if/else and return),
 * regular expressions (JavaScript's syntax, run by PCRE2 under the step
 * budget), n8n's extension methods, spread, `in`, `**`, the bitwise
 * operators, comments, `new Date(…)` and
 * `new RegExp(…)`. Assignment, loops, function declarations, other `new`
 * and a function as a value are errors (syntax errors where the parser
 * sees them).
 *
 * Differences from JavaScript, on purpose:
 *  - string lengths and indices count Unicode code points, not UTF-16 code
 *    units ("é".length and "😀".length are both 1);
 *  - case mapping covers all of Unicode's simple mappings (utf8proc), plus
 *    "ß".toUpperCase() == "SS" and "İ".toLowerCase() == "i̇" as in JavaScript;
 *    other one-to-many mappings (ligatures such as "ﬁ" → "FI", "ŉ", "ǰ") and
 *    final sigma are not applied ("ΟΔΟΣ".toLowerCase() is "οδοσ", not "οδος");
 *  - DateTime values carry a real IANA zone (the workflow's, ctx->tz, by
 *    default); two DateTimes are == when they denote the same millisecond;
 *  - an unknown variable is reported when the expression is parsed, even in a
 *    branch that would not run.
 *
 * Every evaluation is bounded (gl_expr_limits_t): steps, nesting and the size
 * of every string, array or object it builds. A step is one tree node
 * visited, one loop iteration inside a library call, or 64 bytes a library
 * call reads, compares, copies or writes, so every builtin pays for the work
 * it really does (a search of a 1 MiB string costs 16384 steps). Outputs
 * whose size is known in advance (repeat, padStart, padEnd) are refused
 * before anything is allocated. Beside the step count, an evaluation given a
 * deadline (limits.deadline_ms) checks the clock every few hundred steps
 * and fails with "expression exceeded its time budget" once it has passed:
 * a safety net should any charge be too low. Parser nesting (parentheses,
 * brackets, unary operators, arguments) is limited to max_depth; the height
 * of the syntax tree, which also grows with chains like a+b+c or a.b.c, is
 * limited to 4 * max_depth. max_depth is capped at 1024 (recursion uses the
 * C stack). Each {{ }} of a rendered string gets its own step budget.
 */



typedef struct {
    size_t max_steps;   /* evaluation steps (AST nodes visited + loop iterations inside library calls); 0 = 100000 */
    int max_depth;      /* nesting of the parser and evaluator; 0 = 64 */
    size_t max_output;  /* bytes of any string/array/object built; 0 = 1 MiB */
    int64_t deadline_ms; /* wall clock (gl_wall_ms) the evaluation must end by; 0 = none */
} gl_expr_limits_t;

typedef struct gl_expr_ctx {
    json_object *json;        /* $json: the current item (borrowed; NULL means {}); $binary is its "$binary" object
                                 ({} when none), and item wrappers ($input.item, $("Name").item, .all()…) are
                                 {json, binary} (binary only when the item has some, as in n8n) */
    json_object *input;       /* array of the node's input items (borrowed; NULL means []): $input.all(), $input.first(), $input.last(), $input.item (= the current item) */
    int64_t item_index;       /* $itemIndex */
    /* $node["Name"].json / $("Name").item.json etc: returns a borrowed array of that node's output items (first output port), or NULL when no node has that name or it has not run */
    json_object *(*node_items)(void *ud, const char *name);
    void *ud;
    const char *execution_id; /* $execution.id (NULL → null) */
    const char *workflow_id;  /* $workflow.id */
    const char *workflow_name;/* $workflow.name */
    int64_t now_ms;           /* $now, $today: milliseconds since the epoch, UTC */
    json_object *env;         /* $env: object of the variables the operator allows (borrowed; NULL → {}) */
    gl_expr_limits_t limits;
    const char *tz;           /* the workflow's IANA zone ($now, DateTime.local(), new Date(y, m…)); NULL or unknown: UTC */
    int64_t run_index;        /* $runIndex: how many times the node ran before in this execution (0 the first time) */
    json_object *parameter;   /* $parameter: the node's parameters as written (borrowed; NULL → {}) */
    json_object *vars;        /* $vars: the org's variables, {key: value} (borrowed; NULL → {}) */
} gl_expr_ctx_t;

/* true when s contains "{{" … "}}" */
bool gl_expr_has(const char *s);

/*
 * Evaluates one expression (without braces). *out is a new reference the
 * caller releases with json_object_put() (NULL for null/undefined).
 * GL_OK, or GL_INVALID with err->msg a clear message (syntax error with
 * column, type error, limit exceeded: "expression exceeds 100000 steps",
 * "expression result exceeds 1048576 bytes", "expression exceeded its time
 * budget" etc).
 */
int gl_expr_eval(const char *src, const gl_expr_ctx_t *ctx, json_object **out, gl_err_t *err) GL_WUR;

/*
 * Renders a parameter string. If the string is exactly one {{ expr }}
 * (nothing outside the braces, as n8n), the result is the expression's
 * value with its type kept (number, object…); otherwise each {{ }} is
 * replaced by its string form (strings as is, null/undefined as "", numbers
 * JS-style, objects/arrays as JSON text) and the result is a json string. A
 * string without {{ is returned as a json string unchanged. A "{{" with no
 * "}}" after it is literal text. Each {{ }} gets the full step budget.
 * *out is a new reference the caller releases (NULL when the single
 * expression is null or undefined).
 */
int gl_expr_render(const char *tmpl, const gl_expr_ctx_t *ctx, json_object **out, gl_err_t *err) GL_WUR;

/*
 * Recursively renders every string inside a JSON value (object values, array
 * elements; keys unchanged); returns a new value (*out, released by the
 * caller; values without strings may be shared with v). On error err->field
 * holds the path of the failing string ("headers.x", "list[2]") when it fits.
 */
int gl_expr_render_value(json_object *v, const gl_expr_ctx_t *ctx, json_object **out, gl_err_t *err) GL_WUR;

/* Truthiness in JavaScript's sense, for flow.if/switch conditions:
 * false for null, false, 0, NaN and "", true for everything else. */
bool gl_expr_truthy(json_object *v);

/* ---- Webhook answers ---------------------------------------------- */

/*
 * A synchronous webhook's answer, from a finished execution.
 *
 * glyphic-fcgi answers the direct path with it, glyphic-events the calls
 * it waited for: one rule for both. A succeeded execution answers what
 * flow.respond set ({status, headers, body}), else the first item of the
 * last node's output as JSON; anything else is a failure the program
 * renders as its 500 workflow_failed error.
 */



#define GL_ANSWER_MAX_HEADERS 32

typedef struct {
    bool failed;              /* render as 500 workflow_failed with message */
    char message[400];        /* failed: what to tell the caller */
    int status;               /* 100..599 */
    const char *content_type; /* NULL: application/json */
    const char *body;         /* the body text (points into the execution's JSON) */
    size_t body_len;
    int n_headers;
    const char *names[GL_ANSWER_MAX_HEADERS];
    const char *values[GL_ANSWER_MAX_HEADERS];
    /* A file answer (flow.respond's respond_with binary): the stored file
     * file_id (a UUID) of content file_sha256. The program asks the
     * database that the execution answered with that file of its own org
     * (hook_answer_file, sql/023) and hands it to nginx (X-Accel-Redirect
     * to /_glyphic/files/); body is empty, content_type is the file's type
     * (or the workflow's Content-Type), and the headers hold one
     * Content-Disposition (the workflow's, else made of the file's name,
     * in disposition). */
    bool file;
    const char *file_id;
    const char *file_sha256;
    char disposition[GL_DISPOSITION_MAX];
} gl_answer_t;

/* Fills *a for an execution that ended with status (succeeded, failed,
 * canceled) and the recorded output, response and error (each may be
 * NULL). a's strings point into those objects: keep them until a is sent.
 * Headers gl_engine_response_header_check refuses are left out
 * (allow_scripts: http.respond_allow_scripts). */
void gl_answer_build(gl_answer_t *a, const char *execution_id, const char *status, json_object *output,
                     json_object *response, json_object *error, bool allow_scripts);

/* ---- The node catalogue ------------------------------------------ */

/* Appends the node-type catalogue (GET /api/node-types) as a JSON array
 * to out. */
int gl_engine_node_types_json(gl_buf_t *out) GL_WUR;

/* Appends the distinct credential names the definition's nodes reference
 * (parameters of type credential holding a string), as a JSON array of
 * strings, to out. */
int gl_engine_credential_names(json_object *def, gl_buf_t *out) GL_WUR;

/* The triggers an active workflow with definition def serves: a new JSON
 * array (the caller puts it) of one object per enabled node whose type is
 * served while active, {node_id, kind} plus what that kind's table holds —
 * kind "webhook": path, method, mode; "schedule": cron, timezone (the
 * node's, else settings.timezone, else UTC); "error": nothing more. Empty
 * when there is none (such a workflow cannot be activated). def should be
 * valid (gl_workflow_validate); anything else is skipped. sql/010's
 * wf_sync_triggers takes this array as the rows to write. */
json_object *gl_engine_triggers(json_object *def);

/* The id of the first node of def, enabled or not, whose type's trigger
 * rows are of `kind` ("error": where an error workflow starts), borrowed
 * from def; NULL: none. */
const char *gl_engine_trigger_node(json_object *def, const char *kind);

/*
 * Generated parameters. A parameter a node type generates (a webhook's
 * path) that is saved empty — absent, null or "" — gets a value from the
 * database when the version is inserted: the value the same node (same id
 * and type) had in the workflow's previous version if that one was
 * generated and no other node of the new version uses it, else a new
 * random UUID (sql/012). A generated value is a version 4 UUID in lower
 * case, as gen_random_uuid() draws them.
 *
 * gl_engine_generated_params: the parameters of def the database must
 * generate, a new JSON array (the caller puts it) of {node_id, param}, one
 * per node, enabled or not, whose type generates a parameter and whose
 * value is empty; [] when there is none. def should be valid
 * (gl_workflow_validate); anything else is skipped. Every version insert
 * passes it (workflow_versions.generated_params).
 */
json_object *gl_engine_generated_params(json_object *def);

/* Removes from def (in place) every generated parameter's value that looks
 * generated, so a copy of the workflow gets values of its own when it is
 * saved; values set by hand stay. */
void gl_engine_strip_generated(json_object *def);

/* ---- n8n workflows ------------------------------------------------ */
/*
 * Conversion between n8n workflow exports and Glyphic definitions
 * (n8n_import.c, n8n_export.c): pure functions of JSON, nothing stored.
 *
 * gl_n8n_is_export: does doc look like an n8n export (a `nodes` array of
 * objects whose types are "n8n-nodes-…", a `connections` object, no
 * `edges`)?
 *
 * gl_n8n_import: *def a new definition (nodes, edges, settings, and
 * `notes` for Sticky Notes), *problems a new array of {node, type,
 * typeVersion, message}, one per node or connection that could not be
 * translated; such a node is a disabled flow.noop placeholder in *def
 * whose notes hold its n8n type and parameters. The caller refuses the
 * import when *problems is not empty unless a partial import was asked
 * for. GL_INVALID (err says why) when doc is not shaped like an export.
 *
 * gl_n8n_export: *doc a new n8n export {name, nodes, connections,
 * settings} of def, *problems as above for the nodes n8n has no
 * equivalent for (the caller refuses the export when there are any).
 */
bool gl_n8n_is_export(json_object *doc);
int gl_n8n_import(json_object *doc, json_object **def, json_object **problems, gl_err_t *err) GL_WUR;
int gl_n8n_export(json_object *def, const char *name, json_object **doc, json_object **problems,
                  gl_err_t *err) GL_WUR;

#endif
