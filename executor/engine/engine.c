/*
 * engine.c: runs one execution (see engine.h for the model).
 *
 * State per node: items waiting on each input port, the node's state from
 * its previous activation (flow.loop, flow.respond) and its latest output
 * (for $node["Name"] in expressions). The loop picks the waiting node that
 * comes first in topological order, runs it (or replays its recorded step),
 * records the step, and delivers its output along the edges.
 */
#include "engine.h"

#include "json.h"
#include "log.h"
#include "node.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define ERROR_PORT_SLOT GL_NODE_MAX_PORTS /* out[] slot of the error port */
#define N_SLOTS (GL_NODE_MAX_PORTS + 1)

/* What the run loop must know of particular node types, from their
 * descriptors (nodes/node.h). */
static bool type_loops_back(const gl_node_def_t *t) { return t->loop_input != NULL; }
static bool type_sets_response(const gl_node_def_t *t) { return t->sets_response; }
static bool type_default_trigger(const gl_node_def_t *t) { return t->default_trigger; }

typedef struct {
    int to;        /* node index */
    int to_port;   /* input index */
} edge_t;

typedef struct {
    const char *id;
    const char *name;
    json_object *def;
    json_object *params;
    const gl_node_def_t *type;
    bool disabled;
    bool continue_on_fail;
    int retry_max;         /* attempts in all */
    int64_t backoff_ms;
    int64_t timeout_ms;
    int rank;              /* topological position */
    int n_in, n_out;
    edge_t *edges[N_SLOTS]; /* per output slot (error port at ERROR_PORT_SLOT) */
    int n_edges[N_SLOTS];
    json_object *pending[GL_NODE_MAX_PORTS]; /* arrays, or NULL */
    bool waiting;          /* has pending input */
    json_object *state;
    json_object *last_out; /* {"port": items} of its latest activation */
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
    json_object *response;
    json_object *last_items;
    json_object *scratch;   /* gl_node_param_str's value */
    size_t rec_pos;         /* next recorded step to replay */
    size_t rec_n;
    gl_engine_limits_t lim;
};

static int eng_err(gl_err_t *err, int rc, const char *field, const char *fmt, ...) GL_PRINTF(4, 5);
static int eng_err(gl_err_t *err, int rc, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    snprintf(err->field, sizeof err->field, "%s", field ? field : "");
    return rc;
}

static void sleep_ms(int64_t ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0) {
    }
}

int gl_node_fail(gl_node_ctx_t *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->error, sizeof c->error, fmt, ap);
    va_end(ap);
    return GL_INVALID;
}

json_object *gl_node_item(gl_node_ctx_t *c, int i)
{
    if (i < 0 || (size_t)i >= json_object_array_length(c->in[0]))
        return NULL;
    return json_object_array_get_idx(c->in[0], (size_t)i);
}

void gl_node_emit(gl_node_ctx_t *c, int port, json_object *v)
{
    if (port < 0 || port >= N_SLOTS || !c->out[port]) {
        json_object_put(v);
        return;
    }
    json_object_array_add(c->out[port], v ? v : json_object_new_object());
}

void gl_node_pass(gl_node_ctx_t *c, int in, int out)
{
    for (size_t i = 0; i < json_object_array_length(c->in[in]); i++)
        gl_node_emit(c, out, json_object_get(json_object_array_get_idx(c->in[in], i)));
}

int gl_node_out_index(const gl_node_ctx_t *c, const char *port)
{
    for (int i = 0; c->type->outputs[i]; i++)
        if (strcmp(c->type->outputs[i], port) == 0)
            return i;
    return -1;
}

/* ---- expressions ---- */

json_object *gl_engine_node_items(const char *type_id, json_object *output)
{
    const gl_node_def_t *t = gl_node_def_find(type_id ? type_id : "");
    if (!output || !json_object_is_type(output, json_type_object))
        return NULL;
    /* the ports in the order a live run writes them (a recorded output read
     * back from jsonb has its keys in another order) */
    const char *ports[GL_NODE_MAX_PORTS + 1];
    int n = 0;
    for (; t && n < GL_NODE_MAX_PORTS && t->outputs[n]; n++)
        ports[n] = t->outputs[n];
    ports[n++] = GL_NODE_ERROR_PORT;
    json_object *first = NULL, *v;
    for (int i = 0; i < n; i++) {
        if (!json_object_object_get_ex(output, ports[i], &v) || !json_object_is_type(v, json_type_array))
            continue;
        if (!first)
            first = v;
        if (json_object_array_length(v) > 0)
            return v;
    }
    return first;
}

static json_object *node_items_cb(void *ud, const char *name)
{
    gl_exec_t *x = ud;
    for (int i = 0; i < x->n; i++) {
        node_t *nd = &x->nodes[i];
        if (strcmp(nd->name, name) != 0 || !nd->last_out)
            continue;
        return gl_engine_node_items(nd->type->type, nd->last_out);
    }
    return NULL;
}

static void expr_ctx(gl_node_ctx_t *c, int item, gl_expr_ctx_t *e)
{
    memset(e, 0, sizeof *e);
    e->json = gl_node_item(c, item);
    e->input = c->in[0];
    e->item_index = item < 0 ? 0 : item;
    e->node_items = node_items_cb;
    e->ud = c->exec;
    e->execution_id = c->run->execution_id;
    e->workflow_id = c->run->workflow_id;
    e->workflow_name = c->run->workflow_name;
    e->now_ms = gl_wall_ms();
    e->env = c->run->env;
    /* the node's deadline (the execution's, or the node's timeout when
     * sooner): an expression still running then fails the node */
    e->limits.deadline_ms = c->deadline_ms;
}

int gl_node_param(gl_node_ctx_t *c, const char *name, int item, json_object **out)
{
    *out = NULL;
    const gl_param_def_t *pd = gl_node_param_find(c->type, name);
    json_object *raw = NULL;
    json_object *owned = NULL;
    if (c->params && json_object_object_get_ex(c->params, name, &raw) && raw) {
        /* present */
    } else if (pd && pd->def) {
        owned = raw = json_tokener_parse(pd->def);
    } else {
        return GL_OK;
    }
    if (!pd || !pd->expressions) {
        *out = owned ? owned : json_object_get(raw);
        return GL_OK;
    }
    gl_expr_ctx_t e;
    expr_ctx(c, item, &e);
    gl_err_t err;
    gl_err_clear(&err);
    int rc = gl_expr_render_value(raw, &e, out, &err);
    json_object_put(owned);
    if (rc != GL_OK) {
        *out = NULL;
        return gl_node_fail(c, "parameter '%s': %s", name, err.msg);
    }
    /* an expression may hand back objects that belong to items (other
     * nodes' outputs): the node gets its own copy to change */
    if (*out && (json_object_is_type(*out, json_type_object) || json_object_is_type(*out, json_type_array))) {
        json_object *copy = NULL;
        if (json_object_deep_copy(*out, &copy, NULL) != 0) {
            json_object_put(*out);
            *out = NULL;
            return gl_node_fail(c, "parameter '%s': out of memory", name);
        }
        json_object_put(*out);
        *out = copy;
    }
    return GL_OK;
}

int gl_node_param_str(gl_node_ctx_t *c, const char *name, int item, const char **out)
{
    *out = NULL;
    json_object *v;
    if (gl_node_param(c, name, item, &v) != GL_OK)
        return GL_INVALID;
    json_object_put(c->exec->scratch);
    c->exec->scratch = v;
    if (!v)
        return GL_OK;
    if (json_object_is_type(v, json_type_string))
        *out = json_object_get_string(v);
    else
        *out = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
    return GL_OK;
}

int gl_node_param_int(gl_node_ctx_t *c, const char *name, int item, int64_t *out)
{
    json_object *v;
    if (gl_node_param(c, name, item, &v) != GL_OK)
        return GL_INVALID;
    int rc = GL_OK;
    if (!v) {
        /* keep *out */
    } else if (json_object_is_type(v, json_type_int)) {
        *out = json_object_get_int64(v);
    } else if (json_object_is_type(v, json_type_double)) {
        *out = (int64_t)json_object_get_double(v);
    } else if (json_object_is_type(v, json_type_string)) {
        const char *s = json_object_get_string(v);
        char *end;
        long long n = strtoll(s, &end, 10);
        if (end == s || *end)
            rc = gl_node_fail(c, "parameter '%s' must be a number, got \"%.60s\"", name, s);
        else
            *out = n;
    } else {
        rc = gl_node_fail(c, "parameter '%s' must be a number, got %s", name, gl_json_type_name(v));
    }
    json_object_put(v);
    return rc;
}

int gl_node_param_bool(gl_node_ctx_t *c, const char *name, int item, bool *out)
{
    json_object *v;
    if (gl_node_param(c, name, item, &v) != GL_OK)
        return GL_INVALID;
    if (v) {
        if (json_object_is_type(v, json_type_string)) {
            const char *s = json_object_get_string(v);
            *out = strcmp(s, "true") == 0 ? true : strcmp(s, "false") == 0 ? false : gl_expr_truthy(v);
        } else {
            *out = gl_expr_truthy(v);
        }
    }
    json_object_put(v);
    return GL_OK;
}

/* ---- the graph ---- */

static int port_index(const char *const *ports, const char *name)
{
    for (int i = 0; ports[i]; i++)
        if (strcmp(ports[i], name) == 0)
            return i;
    return -1;
}

static int count_ports(const char *const *ports)
{
    int n = 0;
    while (ports[n])
        n++;
    return n;
}

static int find_node(gl_exec_t *x, const char *id)
{
    for (int i = 0; i < x->n; i++)
        if (strcmp(x->nodes[i].id, id) == 0)
            return i;
    return -1;
}

static int64_t obj_int(json_object *o, const char *key, int64_t def)
{
    json_object *v;
    if (o && json_object_object_get_ex(o, key, &v) && (json_object_is_type(v, json_type_int)))
        return json_object_get_int64(v);
    return def;
}

static bool obj_bool(json_object *o, const char *key)
{
    json_object *v;
    return o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_boolean) &&
           json_object_get_boolean(v);
}

static const char *obj_str(json_object *o, const char *key)
{
    json_object *v;
    if (o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
        return json_object_get_string(v);
    return NULL;
}

static bool is_loop_back(const node_t *to, int to_port)
{
    return type_loops_back(to->type) && to_port == port_index(to->type->inputs, to->type->loop_input);
}

/* Builds nodes, edges and ranks. The definition was validated when it was
 * saved, but a run may get an unsaved one: anything unusable is GL_INVALID. */
static int build(gl_exec_t *x, json_object *def, gl_err_t *err)
{
    json_object *nodes, *edges = NULL;
    if (!json_object_is_type(def, json_type_object) || !json_object_object_get_ex(def, "nodes", &nodes) ||
        !json_object_is_type(nodes, json_type_array))
        return eng_err(err, GL_INVALID, "definition", "the definition has no nodes array");
    json_object_object_get_ex(def, "edges", &edges);
    size_t n = json_object_array_length(nodes);
    if (n == 0 || n > 1000)
        return eng_err(err, GL_INVALID, "nodes", "a workflow needs 1 to 1000 nodes");
    x->nodes = calloc(n, sizeof *x->nodes);
    if (!x->nodes)
        return eng_err(err, GL_ERR, NULL, "out of memory");
    x->n = (int)n;
    for (size_t i = 0; i < n; i++) {
        node_t *nd = &x->nodes[i];
        nd->def = json_object_array_get_idx(nodes, i);
        nd->id = obj_str(nd->def, "id");
        const char *type = obj_str(nd->def, "type");
        nd->name = obj_str(nd->def, "name");
        if (!nd->id || !type)
            return eng_err(err, GL_INVALID, "nodes", "node %zu has no id or type", i);
        if (!nd->name)
            nd->name = nd->id;
        nd->type = gl_node_def_find(type);
        if (!nd->type)
            return eng_err(err, GL_INVALID, "nodes", "node '%.60s' has an unknown type '%.60s'", nd->id, type);
        json_object_object_get_ex(nd->def, "params", &nd->params);
        nd->disabled = obj_bool(nd->def, "disabled");
        nd->continue_on_fail = obj_bool(nd->def, "continue_on_fail");
        json_object *retry = NULL;
        json_object_object_get_ex(nd->def, "retry", &retry);
        nd->retry_max = (int)obj_int(retry, "max", 1);
        if (nd->retry_max < 1)
            nd->retry_max = 1;
        if (nd->retry_max > 10)
            nd->retry_max = 10;
        nd->backoff_ms = obj_int(retry, "backoff_ms", 1000);
        nd->timeout_ms = obj_int(nd->def, "timeout_ms", 0);
        nd->n_in = count_ports(nd->type->inputs);
        nd->n_out = count_ports(nd->type->outputs);
        for (size_t j = 0; j < i; j++)
            if (strcmp(x->nodes[j].id, nd->id) == 0)
                return eng_err(err, GL_INVALID, "nodes", "two nodes have the id '%.60s'", nd->id);
    }
    size_t ne = edges && json_object_is_type(edges, json_type_array) ? json_object_array_length(edges) : 0;
    int *indeg = calloc(n, sizeof *indeg);
    if (!indeg)
        return eng_err(err, GL_ERR, NULL, "out of memory");
    int rc = GL_OK;
    for (size_t i = 0; i < ne && rc == GL_OK; i++) {
        json_object *e = json_object_array_get_idx(edges, i);
        const char *from = obj_str(e, "from"), *to = obj_str(e, "to");
        const char *fp = obj_str(e, "from_port"), *tp = obj_str(e, "to_port");
        int a = from ? find_node(x, from) : -1, b = to ? find_node(x, to) : -1;
        if (a < 0 || b < 0) {
            rc = eng_err(err, GL_INVALID, "edges", "edge %zu joins unknown nodes", i);
            break;
        }
        node_t *na = &x->nodes[a], *nb = &x->nodes[b];
        int op = fp ? port_index(na->type->outputs, fp) : 0;
        if (fp && op < 0 && strcmp(fp, GL_NODE_ERROR_PORT) == 0 && !na->type->trigger)
            op = ERROR_PORT_SLOT;
        int ip = tp ? port_index(nb->type->inputs, tp) : 0;
        if (op < 0 || ip < 0 || nb->n_in == 0) {
            rc = eng_err(err, GL_INVALID, "edges", "edge %zu names a port its node lacks", i);
            break;
        }
        edge_t *grown = realloc(na->edges[op], (size_t)(na->n_edges[op] + 1) * sizeof *grown);
        if (!grown) {
            rc = eng_err(err, GL_ERR, NULL, "out of memory");
            break;
        }
        na->edges[op] = grown;
        grown[na->n_edges[op]++] = (edge_t){ b, ip };
        if (!is_loop_back(nb, ip))
            indeg[b]++;
    }
    /* Kahn's algorithm; ties in definition order */
    int rank = 0;
    bool *done = rc == GL_OK ? calloc(n, sizeof *done) : NULL;
    if (rc == GL_OK && !done)
        rc = eng_err(err, GL_ERR, NULL, "out of memory");
    while (rc == GL_OK && rank < (int)n) {
        int pick = -1;
        for (int i = 0; i < (int)n; i++)
            if (!done[i] && indeg[i] == 0) {
                pick = i;
                break;
            }
        if (pick < 0) {
            rc = eng_err(err, GL_INVALID, "edges", "the workflow has a cycle that does not pass through a flow.loop");
            break;
        }
        done[pick] = true;
        x->nodes[pick].rank = rank++;
        node_t *np = &x->nodes[pick];
        for (int p = 0; p < N_SLOTS; p++)
            for (int k = 0; k < np->n_edges[p]; k++)
                if (!is_loop_back(&x->nodes[np->edges[p][k].to], np->edges[p][k].to_port))
                    indeg[np->edges[p][k].to]--;
    }
    free(done);
    free(indeg);
    return rc;
}

static void exec_free(gl_exec_t *x)
{
    for (int i = 0; i < x->n; i++) {
        node_t *nd = &x->nodes[i];
        for (int p = 0; p < N_SLOTS; p++)
            free(nd->edges[p]);
        for (int p = 0; p < GL_NODE_MAX_PORTS; p++)
            json_object_put(nd->pending[p]);
        json_object_put(nd->state);
        json_object_put(nd->last_out);
    }
    free(x->nodes);
    json_object_put(x->response);
    json_object_put(x->last_items);
    json_object_put(x->scratch);
}

static void deliver(gl_exec_t *x, node_t *nd, int slot, json_object *items)
{
    size_t len = json_object_array_length(items);
    if (len == 0)
        return;
    for (int k = 0; k < nd->n_edges[slot]; k++) {
        node_t *to = &x->nodes[nd->edges[slot][k].to];
        int tp = nd->edges[slot][k].to_port;
        if (!to->pending[tp])
            to->pending[tp] = json_object_new_array_ext((int)len);
        for (size_t i = 0; i < len; i++)
            json_object_array_add(to->pending[tp], json_object_get(json_object_array_get_idx(items, i)));
        to->waiting = true;
    }
}

static const char *slot_name(const node_t *nd, int slot)
{
    return slot == ERROR_PORT_SLOT ? GL_NODE_ERROR_PORT : nd->type->outputs[slot];
}

/* Takes a recorded or fresh {"port": items} output: delivers it, keeps it
 * for $node lookups and as the execution's latest output. */
static void accept_output(gl_exec_t *x, node_t *nd, json_object *output)
{
    json_object *first_nonempty = NULL;
    for (int slot = 0; slot < N_SLOTS; slot++) {
        if (slot >= nd->n_out && slot != ERROR_PORT_SLOT)
            continue;
        json_object *items;
        if (!json_object_object_get_ex(output, slot_name(nd, slot), &items) ||
            !json_object_is_type(items, json_type_array))
            continue;
        if (!first_nonempty && json_object_array_length(items) > 0)
            first_nonempty = items;
        deliver(x, nd, slot, items);
    }
    json_object_put(nd->last_out);
    nd->last_out = json_object_get(output);
    json_object_put(x->last_items);
    x->last_items = first_nonempty ? json_object_get(first_nonempty) : json_object_new_array();
}

/* What a node hands on must be storable (gl_json_unstorable): its output,
 * its state and its webhook response. Fails the node, not retryable,
 * naming the value and the reason. */
static int check_storable(gl_node_ctx_t *c, json_object *output)
{
    static const char *const what[] = { "output", "state", "response" };
    json_object *v[] = { output, c->state_out, c->response };
    char where[160];
    for (size_t i = 0; i < GL_NELEM(v); i++) {
        const char *why = v[i] ? gl_json_unstorable(v[i], where, sizeof where) : NULL;
        if (why)
            return gl_node_fail(c, "the node's %s cannot be stored: %s%s%s", what[i], where[0] ? where : "",
                                where[0] ? ": " : "", why);
    }
    return GL_OK;
}

static json_object *error_obj(const node_t *nd, const char *msg)
{
    json_object *e = json_object_new_object();
    char clean[1024];
    gl_utf8_clean(clean, sizeof clean, msg); /* a message cut mid-character, or bytes from afar */
    json_object_object_add(e, "message", json_object_new_string(clean));
    json_object_object_add(e, "node", json_object_new_string(nd->id));
    json_object_object_add(e, "node_name", json_object_new_string(nd->name));
    json_object_object_add(e, "node_type", json_object_new_string(nd->type->type));
    return e;
}

typedef enum { STEP_DONE, STEP_FAILED, STEP_PARK, STEP_STOP } step_outcome_t;

typedef struct {
    gl_run_result_t *res;
    json_object *error;     /* the execution's error when it fails */
    int64_t wait_until;
    char abort_msg[256];
} outcome_t;

static int record(gl_exec_t *x, gl_step_t *s, outcome_t *o)
{
    s->seq = ++x->seq;
    if (!x->run->io.record) {
        x->steps_recorded++;
        x->steps_total++;
        return GL_OK;
    }
    bool cancel = false;
    gl_err_t err;
    gl_err_clear(&err);
    if (x->run->io.record(x->run->io.ud, s, &cancel, &err) != GL_OK) {
        snprintf(o->abort_msg, sizeof o->abort_msg, "recording step %d failed: %.200s", s->seq, err.msg);
        return GL_ERR;
    }
    x->steps_recorded++;
    x->steps_total++;
    if (cancel)
        x->cancel = true;
    return GL_OK;
}

/* The step's recorded input: {"port": items} per input port, "main" for a
 * trigger (gl_engine_step_items reads its first port back). */
static json_object *input_obj(const node_t *nd, json_object *const *in)
{
    json_object *o = json_object_new_object();
    int n = nd->n_in ? nd->n_in : 1;
    for (int i = 0; i < n; i++)
        json_object_object_add(o, nd->n_in ? nd->type->inputs[i] : "main", json_object_get(in[i]));
    return o;
}

json_object *gl_engine_step_items(const char *type_id, json_object *input)
{
    const gl_node_def_t *t = gl_node_def_find(type_id ? type_id : "");
    json_object *v;
    const char *port = t && t->inputs[0] ? t->inputs[0] : "main";
    if (!input || !json_object_object_get_ex(input, port, &v) || !json_object_is_type(v, json_type_array))
        return NULL;
    return v;
}

static size_t out_bytes(json_object *o)
{
    size_t len = 0;
    json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
    return len;
}

static int64_t backoff_for(const node_t *nd, int attempt, int64_t hint)
{
    int64_t b = nd->backoff_ms;
    for (int i = 1; i < attempt && b < 3600000; i++)
        b *= 2;
    if (b > 3600000)
        b = 3600000;
    return hint > b ? hint : b;
}

/* The recorded steps of activation r, one after another. */
static json_object *next_recorded(gl_exec_t *x, int r)
{
    if (!x->run->recorded || x->rec_pos >= x->rec_n)
        return NULL;
    json_object *s = json_object_array_get_idx(x->run->recorded, x->rec_pos);
    if (obj_int(s, "run_index", -1) != r)
        return NULL;
    x->rec_pos++;
    x->steps_total++;
    int64_t seq = obj_int(s, "seq", 0);
    if (seq > x->seq)
        x->seq = (int)seq;
    return s;
}

/*
 * One activation of nd with inputs in[] (owned here): replays what was
 * recorded for it, then runs attempts until one succeeds, the retries are
 * spent, or the execution must park.
 */
static step_outcome_t activate(gl_exec_t *x, node_t *nd, json_object **in, outcome_t *o)
{
    const gl_run_t *run = x->run;
    int r = ++x->run_index;
    int attempt = 1;
    int64_t last_fail_ms = 0, hint = 0;
    json_object *rec;
    bool resumed_wait = false;
    while ((rec = next_recorded(x, r)) != NULL) {
        const char *st = obj_str(rec, "status");
        json_object *out = NULL;
        json_object_object_get_ex(rec, "output", &out);
        json_object *state = NULL;
        json_object_object_get_ex(rec, "state", &state);
        if (st && strcmp(st, "succeeded") == 0) {
            json_object_put(nd->state);
            nd->state = state ? json_object_get(state) : NULL;
            if (state && type_sets_response(nd->type) && !x->response)
                x->response = json_object_get(state);
            x->bytes += out_bytes(out); /* the limit is the execution's */
            accept_output(x, nd, out);
            return STEP_DONE;
        }
        if (st && strcmp(st, "failed") == 0 && out && json_object_is_type(out, json_type_object)) {
            json_object_put(nd->state); /* as the live run left it */
            nd->state = NULL;
            x->bytes += out_bytes(out);
            accept_output(x, nd, out); /* it failed and continued on its error port */
            return STEP_DONE;
        }
        json_object *rerr = NULL;
        if (st && strcmp(st, "failed") == 0 && json_object_object_get_ex(rec, "error", &rerr) &&
            obj_bool(rerr, "final")) {
            /* the attempt that failed the execution: it stays failed */
            o->error = json_object_get(rerr);
            return STEP_FAILED;
        }
        if (st && strcmp(st, "waiting") == 0) {
            int64_t until = obj_int(state, "until", 0);
            if (gl_wall_ms() < until) {
                o->wait_until = until;
                return STEP_PARK;
            }
            attempt = (int)obj_int(rec, "attempt", 1);
            resumed_wait = true;
            continue;
        }
        attempt = (int)obj_int(rec, "attempt", 1) + 1;
        last_fail_ms = obj_int(rec, "finished_ms", 0);
    }
    if (resumed_wait) {
        /* the wait is over: the node passes its items on */
        gl_step_t s = { .run_index = r, .node_id = nd->id, .node_name = nd->name, .node_type = nd->type->type,
                        .attempt = attempt, .status = "succeeded" };
        s.started_ms = s.finished_ms = gl_wall_ms();
        s.input = input_obj(nd, in);
        s.output = json_object_new_object();
        json_object_object_add(s.output, "main", json_object_get(in[0]));
        int rc = record(x, &s, o);
        if (rc == GL_OK)
            accept_output(x, nd, s.output);
        json_object_put(s.input);
        json_object_put(s.output);
        return rc == GL_OK ? STEP_DONE : STEP_STOP;
    }
    if (attempt > 1) {
        /* a failed attempt was recorded before: wait out its backoff */
        int64_t due = last_fail_ms + backoff_for(nd, attempt - 1, 0);
        int64_t left = due - gl_wall_ms();
        if (left > x->lim.inline_wait_ms && run->can_park) {
            o->wait_until = due;
            return STEP_PARK;
        }
        sleep_ms(left);
    }

    for (;; attempt++) {
        if (x->cancel)
            return STEP_STOP;
        if (x->steps_total >= x->lim.max_steps) {
            o->error = error_obj(nd, "");
            json_object_object_add(o->error, "message",
                                   json_object_new_string("the execution exceeds its maximum number of steps"));
            return STEP_FAILED;
        }
        if (run->deadline_ms && gl_wall_ms() > run->deadline_ms) {
            o->error = error_obj(nd, "the execution timed out");
            return STEP_FAILED;
        }
        gl_node_ctx_t c;
        memset(&c, 0, sizeof c);
        c.exec = x;
        c.run = run;
        c.type = nd->type;
        c.node_id = nd->id;
        c.node_name = nd->name;
        c.node = nd->def;
        c.params = nd->params;
        c.state_in = nd->state;
        c.attempt = attempt;
        int nin = nd->n_in ? nd->n_in : 1;
        for (int i = 0; i < GL_NODE_MAX_PORTS; i++)
            c.in[i] = i < nin ? in[i] : NULL;
        json_object *empty = json_object_new_array();
        for (int i = 0; i < GL_NODE_MAX_PORTS; i++)
            if (!c.in[i])
                c.in[i] = empty;
        for (int i = 0; i < nd->n_out; i++)
            c.out[i] = json_object_new_array();
        c.out[ERROR_PORT_SLOT] = json_object_new_array();
        int64_t now = gl_wall_ms();
        c.deadline_ms = run->deadline_ms;
        if (nd->timeout_ms > 0 && (!c.deadline_ms || now + nd->timeout_ms < c.deadline_ms))
            c.deadline_ms = now + nd->timeout_ms;

        gl_step_t s = { .run_index = r, .node_id = nd->id, .node_name = nd->name, .node_type = nd->type->type,
                        .attempt = attempt, .started_ms = now };
        if (run->io.begin)
            run->io.begin(run->io.ud, &s);
        int rc;
        if (nd->disabled) {
            /* a disabled node passes its first input to its first output */
            for (size_t i = 0; nd->n_out > 0 && i < json_object_array_length(c.in[0]); i++)
                json_object_array_add(c.out[0], json_object_get(json_object_array_get_idx(c.in[0], i)));
            rc = GL_OK;
        } else {
            rc = nd->type->run(&c);
        }
        s.finished_ms = gl_wall_ms();
        s.input = input_obj(nd, c.in);
        step_outcome_t outcome = STEP_DONE;
        bool retry = false;

        if (rc == GL_OK && c.park_until_ms > s.finished_ms && run->can_park) {
            s.status = "waiting";
            s.state = json_object_new_object();
            json_object_object_add(s.state, "until", json_object_new_int64(c.park_until_ms));
            o->wait_until = c.park_until_ms;
            outcome = STEP_PARK;
        } else if (rc == GL_OK) {
            if (c.park_until_ms > s.finished_ms) {
                /* no parking here (glyphic run, subworkflows): sleep, in
                 * slices that renew the job's lease, within the deadline */
                if (run->deadline_ms && c.park_until_ms > run->deadline_ms) {
                    rc = gl_node_fail(&c, "the wait ends after the execution's time limit");
                } else {
                    while (rc == GL_OK && gl_wall_ms() < c.park_until_ms) {
                        int64_t left = c.park_until_ms - gl_wall_ms();
                        sleep_ms(left > 5000 ? 5000 : left);
                        if (run->io.heartbeat && run->io.heartbeat(run->io.ud) != GL_OK)
                            rc = gl_node_fail(&c, "lost the job's lease while waiting");
                    }
                }
                s.finished_ms = gl_wall_ms();
            }
            s.output = json_object_new_object();
            for (int i = 0; i < nd->n_out; i++) {
                if (json_object_array_length(c.out[i]) > (size_t)x->lim.max_items) {
                    rc = gl_node_fail(&c, "output '%s' has %zu items, more than the limit of %d",
                                      nd->type->outputs[i], json_object_array_length(c.out[i]), x->lim.max_items);
                    break;
                }
                json_object_object_add(s.output, nd->type->outputs[i], json_object_get(c.out[i]));
            }
            if (rc == GL_OK)
                rc = check_storable(&c, s.output);
            if (rc == GL_OK) {
                x->bytes += out_bytes(s.output);
                if (x->bytes > x->lim.max_bytes)
                    rc = gl_node_fail(&c, "the execution's data exceeds the limit of %zu bytes", x->lim.max_bytes);
            }
            if (rc == GL_OK) {
                s.status = "succeeded";
                s.state = c.state_out ? json_object_get(c.state_out) : NULL;
            } else {
                json_object_put(s.output);
                s.output = NULL;
                json_object_put(c.response); /* a failed node answers nothing */
                c.response = NULL;
                c.retryable = false;
            }
        }
        if (rc != GL_OK) {
            s.status = "failed";
            s.error = error_obj(nd, c.error[0] ? c.error : "the node failed");
            if (c.retryable && attempt < nd->retry_max) {
                retry = true;
                hint = c.retry_after_ms;
            } else if (nd->continue_on_fail) {
                /* the error becomes an item on the error port, per input item */
                s.output = json_object_new_object();
                json_object *items = json_object_new_array();
                size_t nitems = json_object_array_length(c.in[0]);
                for (size_t i = 0; i < (nitems ? nitems : 1); i++) {
                    json_object *it = json_object_new_object();
                    json_object_object_add(it, "error", json_object_get(s.error));
                    if (nitems)
                        json_object_object_add(it, "item", json_object_get(json_object_array_get_idx(c.in[0], i)));
                    json_object_array_add(items, it);
                }
                json_object_object_add(s.output, GL_NODE_ERROR_PORT, items);
            } else {
                /* marked so that a resumed run fails here too, without
                 * another attempt */
                json_object_object_add(s.error, "final", json_object_new_boolean(1));
                o->error = json_object_get(s.error);
                outcome = STEP_FAILED;
            }
        }
        int rrc = record(x, &s, o);
        if (rrc == GL_OK && outcome == STEP_DONE && !retry) {
            json_object_put(nd->state);
            nd->state = s.state ? json_object_get(s.state) : NULL;
            if (c.response && !x->response)
                x->response = json_object_get(c.response);
            accept_output(x, nd, s.output);
        }
        json_object_put(s.input);
        json_object_put(s.output);
        json_object_put(s.state);
        json_object_put(s.error);
        json_object_put(c.state_out);
        json_object_put(c.response);
        for (int i = 0; i < N_SLOTS; i++)
            json_object_put(c.out[i]);
        json_object_put(empty);
        if (rrc != GL_OK) {
            json_object_put(o->error);
            o->error = NULL;
            return STEP_STOP;
        }
        if (!retry)
            return outcome;
        int64_t b = backoff_for(nd, attempt, hint);
        if (b > x->lim.inline_wait_ms && run->can_park) {
            o->wait_until = s.finished_ms + b;
            return STEP_PARK;
        }
        /* short backoffs are slept, renewing the job's lease */
        int64_t until = gl_wall_ms() + b;
        while (gl_wall_ms() < until) {
            int64_t left = until - gl_wall_ms();
            sleep_ms(left > 5000 ? 5000 : left);
            if (run->io.heartbeat && run->io.heartbeat(run->io.ud) != GL_OK) {
                snprintf(o->abort_msg, sizeof o->abort_msg, "lost the job's lease during a retry backoff");
                return STEP_STOP;
            }
        }
    }
}

static int pick_next(gl_exec_t *x)
{
    int best = -1;
    for (int i = 0; i < x->n; i++)
        if (x->nodes[i].waiting && (best < 0 || x->nodes[i].rank < x->nodes[best].rank))
            best = i;
    if (best >= 0)
        return best;
    /* nothing waits: a loop whose body sent nothing back goes on */
    for (int i = 0; i < x->n; i++)
        if (x->nodes[i].state && type_loops_back(x->nodes[i].type) &&
            (best < 0 || x->nodes[i].rank < x->nodes[best].rank))
            best = i;
    return best;
}

static int find_trigger(gl_exec_t *x, const char *want)
{
    if (want) {
        int i = find_node(x, want);
        return i >= 0 && x->nodes[i].type->trigger ? i : -1;
    }
    for (int i = 0; i < x->n; i++)
        if (type_default_trigger(x->nodes[i].type))
            return i;
    for (int i = 0; i < x->n; i++)
        if (x->nodes[i].type->trigger)
            return i;
    return -1;
}

int gl_engine_run(const gl_run_t *run, gl_run_result_t *res, gl_err_t *err)
{
    memset(res, 0, sizeof *res);
    gl_exec_t x;
    memset(&x, 0, sizeof x);
    x.run = run;
    x.lim = run->limits;
    if (x.lim.max_items <= 0)
        x.lim.max_items = 10000;
    if (x.lim.max_bytes == 0)
        x.lim.max_bytes = 16u << 20;
    if (x.lim.max_steps <= 0)
        x.lim.max_steps = 10000;
    if (x.lim.inline_wait_ms <= 0)
        x.lim.inline_wait_ms = 5000;
    x.rec_n = run->recorded ? json_object_array_length(run->recorded) : 0;
    int rc = build(&x, run->definition, err);
    int t = rc == GL_OK ? find_trigger(&x, run->trigger_node) : -1;
    if (rc == GL_OK && t < 0)
        rc = eng_err(err, GL_INVALID, "nodes",
                        run->trigger_node ? "the trigger node '%.60s' is not in the workflow"
                                          : "the workflow has no trigger node%.0s",
                        run->trigger_node ? run->trigger_node : "");
    if (rc != GL_OK) {
        exec_free(&x);
        return rc;
    }
    node_t *tn = &x.nodes[t];
    if (run->input && json_object_array_length(run->input) > 0) {
        tn->pending[0] = json_object_get(run->input);
    } else {
        tn->pending[0] = json_object_new_array();
        json_object_array_add(tn->pending[0], json_object_new_object());
    }
    tn->waiting = true;

    outcome_t o;
    memset(&o, 0, sizeof o);
    res->status = GL_RUN_SUCCEEDED;
    for (;;) {
        if (x.cancel) {
            res->status = GL_RUN_CANCELED;
            break;
        }
        int i = pick_next(&x);
        if (i < 0)
            break;
        node_t *nd = &x.nodes[i];
        json_object *in[GL_NODE_MAX_PORTS] = { 0 };
        for (int p = 0; p < GL_NODE_MAX_PORTS; p++) {
            in[p] = nd->pending[p] ? nd->pending[p] : json_object_new_array();
            nd->pending[p] = NULL;
        }
        nd->waiting = false;
        step_outcome_t so = activate(&x, nd, in, &o);
        for (int p = 0; p < GL_NODE_MAX_PORTS; p++)
            json_object_put(in[p]);
        if (so == STEP_DONE)
            continue;
        if (so == STEP_FAILED) {
            res->status = GL_RUN_FAILED;
            res->error = o.error;
            o.error = NULL;
        } else if (so == STEP_PARK) {
            res->status = GL_RUN_WAITING;
            res->wait_until_ms = o.wait_until;
        } else if (x.cancel && !o.abort_msg[0]) {
            res->status = GL_RUN_CANCELED;
        } else {
            res->status = GL_RUN_ABORTED;
            snprintf(res->abort_msg, sizeof res->abort_msg, "%s", o.abort_msg);
        }
        break;
    }
    res->output = x.last_items ? json_object_get(x.last_items) : json_object_new_array();
    res->response = x.response ? json_object_get(x.response) : NULL;
    res->steps = x.steps_recorded;
    json_object_put(o.error);
    exec_free(&x);
    return GL_OK;
}

void gl_run_result_free(gl_run_result_t *res)
{
    json_object_put(res->output);
    json_object_put(res->response);
    json_object_put(res->error);
    memset(res, 0, sizeof *res);
}

const char *gl_run_status_name(gl_run_status_t s)
{
    switch (s) {
    case GL_RUN_SUCCEEDED:
        return "succeeded";
    case GL_RUN_FAILED:
        return "failed";
    case GL_RUN_WAITING:
        return "waiting";
    case GL_RUN_CANCELED:
        return "canceled";
    case GL_RUN_ABORTED:
        return "aborted";
    }
    return "unknown";
}

bool gl_engine_is_direct(json_object *def)
{
    json_object *nodes;
    if (!def || !json_object_object_get_ex(def, "nodes", &nodes) || !json_object_is_type(nodes, json_type_array))
        return false;
    for (size_t i = 0; i < json_object_array_length(nodes); i++) {
        json_object *n = json_object_array_get_idx(nodes, i);
        const char *type = obj_str(n, "type");
        const gl_node_def_t *t = gl_node_def_find(type);
        if (!t)
            return false;
        if (obj_bool(n, "disabled"))
            continue;
        json_object *retry = NULL;
        json_object_object_get_ex(n, "retry", &retry);
        if (!t->quick || obj_int(retry, "max", 1) > 1)
            return false;
    }
    return true;
}

int64_t gl_engine_timeout_ms(json_object *def)
{
    json_object *settings = NULL;
    json_object_object_get_ex(def, "settings", &settings);
    return obj_int(settings, "timeout_ms", 0);
}

json_object *gl_engine_env(const char *allow)
{
    json_object *env = json_object_new_object();
    while (allow && *allow) {
        const char *comma = strchr(allow, ',');
        size_t n = comma ? (size_t)(comma - allow) : strlen(allow);
        char name[128];
        if (n > 0 && n < sizeof name) {
            memcpy(name, allow, n);
            name[n] = '\0';
            const char *v = getenv(name);
            if (v)
                json_object_object_add(env, name, json_object_new_string(v));
        }
        allow = comma ? comma + 1 : NULL;
    }
    return env;
}

json_object *gl_step_json(const gl_step_t *s)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "seq", json_object_new_int(s->seq));
    json_object_object_add(o, "node_id", json_object_new_string(s->node_id));
    json_object_object_add(o, "run_index", json_object_new_int(s->run_index));
    json_object_object_add(o, "attempt", json_object_new_int(s->attempt));
    json_object_object_add(o, "status", json_object_new_string(s->status));
    json_object_object_add(o, "input", json_object_get(s->input));
    json_object_object_add(o, "output", json_object_get(s->output));
    json_object_object_add(o, "state", json_object_get(s->state));
    json_object_object_add(o, "error", json_object_get(s->error));
    json_object_object_add(o, "started_ms", json_object_new_int64(s->started_ms));
    json_object_object_add(o, "finished_ms", json_object_new_int64(s->finished_ms));
    return o;
}

int gl_step_collect(void *ud, const gl_step_t *s, bool *cancel, gl_err_t *err)
{
    (void)err;
    json_object_array_add((json_object *)ud, gl_step_json(s));
    *cancel = false;
    return GL_OK;
}
