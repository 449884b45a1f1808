/*
 * engine.c: runs one execution (see engine.h for the model): the graph and
 * its walk. One activation of a node (replay, attempts, retries, parking,
 * recording, delivery) is attempt.c's state machine.
 *
 * State per node: items waiting on each input port, the node's state from
 * its previous activation (flow.loop, flow.respond) and its latest output
 * (for $node["Name"] in expressions). The loop picks the waiting node that
 * comes first in topological order, activates it (attempt.c runs it or
 * replays its recorded step, records the step and hands its output back
 * here), and delivers the output along the edges.
 *
 * Memory, the one rule of the run loop (engine.c, attempt.c): json-c
 * reference counts. Every json_object pointer is either
 *   - owned: it holds one reference, and its holder puts it exactly once
 *     (json_object_put(NULL) does nothing, so release is unconditional), or
 *   - borrowed: it holds none and is used only while its owner keeps it.
 * Struct fields say which (exec_int.h, attempt.c). A function that hands
 * out a reference says "new, the caller puts"; one that keeps a value it
 * is given takes its own reference (json_object_get) and says so; to store
 * a borrowed value, get it. Owned parts are released in one place each: an
 * execution's in exec_free, an attempt's in attempt_release. Definitions
 * and recorded steps belong to the caller (gl_run_t) and are only borrowed.
 */
#include "exec_int.h"

#include "json.h"
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* What the run loop must know of particular node types, from their
 * descriptors (nodes/node.h). */
static bool type_loops_back(const gl_node_def_t *t) { return t->loop_input != NULL; }
static bool type_sets_response(const gl_node_def_t *t) { return t->sets_response; }
static bool type_default_trigger(const gl_node_def_t *t) { return t->default_trigger; }

/* Sets err (a message cut anywhere, e.g. a node id at %.60s, is cleaned to
 * whole UTF-8 characters: it may be stored) and returns rc. */
static int eng_err(gl_err_t *err, int rc, const char *field, const char *fmt, ...) GL_PRINTF(4, 5);
static int eng_err(gl_err_t *err, int rc, const char *field, const char *fmt, ...)
{
    char msg[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    gl_utf8_clean(err->msg, sizeof err->msg, msg);
    snprintf(err->field, sizeof err->field, "%s", field ? field : "");
    return rc;
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
    json_object *settings = NULL, *tz = NULL; /* n8n: the workflow's settings.timezone */
    if (json_object_object_get_ex(c->run->definition, "settings", &settings) &&
        json_object_object_get_ex(settings, "timezone", &tz) && json_object_is_type(tz, json_type_string))
        e->tz = json_object_get_string(tz);
    e->vars = c->run->vars;
    e->parameter = c->params;
    for (int i = 0; c->exec && i < c->exec->n; i++) /* $runIndex: the node's earlier activations */
        if (c->exec->nodes[i].id == c->node_id)
            e->run_index = c->exec->nodes[i].runs > 0 ? c->exec->nodes[i].runs - 1 : 0;
    /* the node's deadline (the execution's, or the node's timeout when
     * sooner): an expression still running then fails the node */
    e->limits.deadline_ms = c->deadline_ms;
}

/* A parameter's default (JSON text in the catalogue), made anew for each
 * use: the common shapes without json_tokener, which costs a tokener and
 * a locale switch per call (a twentieth of a quick webhook's CPU went to
 * parsing defaults). NULL for null, as json_tokener_parse gives. */
static json_object *default_value(const char *def)
{
    size_t n = strlen(def);
    if (n >= 2 && def[0] == '"' && def[n - 1] == '"' && !memchr(def + 1, '\\', n - 2) &&
        !memchr(def + 1, '"', n - 2))
        return json_object_new_string_len(def + 1, (int)(n - 2));
    if (strcmp(def, "true") == 0 || strcmp(def, "false") == 0)
        return json_object_new_boolean(def[0] == 't');
    if (strcmp(def, "null") == 0)
        return NULL;
    if (strcmp(def, "{}") == 0)
        return json_object_new_object();
    if (strcmp(def, "[]") == 0)
        return json_object_new_array();
    size_t digits = def[0] == '-' ? 1 : 0;
    while (def[digits] >= '0' && def[digits] <= '9')
        digits++;
    if (digits == n && n > (def[0] == '-' ? 1u : 0u) && n < 16)
        return json_object_new_int64(strtoll(def, NULL, 10));
    return json_tokener_parse(def);
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
        owned = raw = default_value(pd->def);
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

static bool is_loop_back(const node_t *to, int to_port)
{
    return type_loops_back(to->type) && to_port == port_index(to->type->inputs, to->type->loop_input);
}

/* Node i of the definition, from its JSON (borrowed). */
static int build_node(gl_exec_t *x, size_t i, json_object *def, gl_err_t *err)
{
    node_t *nd = &x->nodes[i];
    nd->def = def;
    nd->id = obj_str(def, "id");
    const char *type = obj_str(def, "type");
    nd->name = obj_str(def, "name");
    if (!nd->id || !type)
        return eng_err(err, GL_INVALID, "nodes", "node %zu has no id or type", i);
    if (!nd->name)
        nd->name = nd->id;
    nd->type = gl_node_def_find(type);
    if (!nd->type)
        return eng_err(err, GL_INVALID, "nodes", "node '%.60s' has an unknown type '%.60s'", nd->id, type);
    nd->sets_response = type_sets_response(nd->type);
    json_object_object_get_ex(def, "params", &nd->params);
    nd->disabled = obj_bool(def, "disabled");
    nd->continue_on_fail = obj_bool(def, "continue_on_fail");
    json_object *retry = NULL;
    json_object_object_get_ex(def, "retry", &retry);
    nd->retry_max = (int)obj_int(retry, "max", 1);
    if (nd->retry_max < 1)
        nd->retry_max = 1;
    if (nd->retry_max > 10)
        nd->retry_max = 10;
    nd->backoff_ms = obj_int(retry, "backoff_ms", 1000);
    nd->timeout_ms = obj_int(def, "timeout_ms", 0);
    nd->n_in = count_ports(nd->type->inputs);
    nd->n_out = count_ports(nd->type->outputs);
    for (size_t j = 0; j < i; j++)
        if (strcmp(x->nodes[j].id, nd->id) == 0)
            return eng_err(err, GL_INVALID, "nodes", "two nodes have the id '%.60s'", nd->id);
    return GL_OK;
}

/* Edge i (borrowed JSON) joins its nodes; indeg[] counts the edges into
 * each node that are not a loop's way back. */
static int build_edge(gl_exec_t *x, size_t i, json_object *e, int *indeg, gl_err_t *err)
{
    const char *from = obj_str(e, "from"), *to = obj_str(e, "to");
    const char *fp = obj_str(e, "from_port"), *tp = obj_str(e, "to_port");
    int a = from ? find_node(x, from) : -1, b = to ? find_node(x, to) : -1;
    if (a < 0 || b < 0)
        return eng_err(err, GL_INVALID, "edges", "edge %zu joins unknown nodes", i);
    node_t *na = &x->nodes[a], *nb = &x->nodes[b];
    int op = fp ? port_index(na->type->outputs, fp) : 0;
    if (fp && op < 0 && strcmp(fp, GL_NODE_ERROR_PORT) == 0 && !na->type->trigger)
        op = ERROR_PORT_SLOT;
    int ip = tp ? port_index(nb->type->inputs, tp) : 0;
    if (op < 0 || ip < 0 || nb->n_in == 0)
        return eng_err(err, GL_INVALID, "edges", "edge %zu names a port its node lacks", i);
    edge_t *grown = realloc(na->edges[op], (size_t)(na->n_edges[op] + 1) * sizeof *grown);
    if (!grown)
        return eng_err(err, GL_ERR, NULL, "out of memory");
    na->edges[op] = grown;
    grown[na->n_edges[op]++] = (edge_t){ b, ip };
    if (!is_loop_back(nb, ip))
        indeg[b]++;
    return GL_OK;
}

/* Ranks the nodes by Kahn's algorithm, ties in definition order; indeg[]
 * is used up. A cycle must pass through a loop's way back. */
static int rank_nodes(gl_exec_t *x, int *indeg, gl_err_t *err)
{
    bool *done = calloc((size_t)x->n, sizeof *done);
    if (!done)
        return eng_err(err, GL_ERR, NULL, "out of memory");
    int rc = GL_OK;
    for (int rank = 0; rank < x->n; rank++) {
        int pick = -1;
        for (int i = 0; i < x->n && pick < 0; i++)
            if (!done[i] && indeg[i] == 0)
                pick = i;
        if (pick < 0) {
            rc = eng_err(err, GL_INVALID, "edges", "the workflow has a cycle that does not pass through a flow.loop");
            break;
        }
        done[pick] = true;
        node_t *np = &x->nodes[pick];
        np->rank = rank;
        for (int p = 0; p < N_SLOTS; p++)
            for (int k = 0; k < np->n_edges[p]; k++)
                if (!is_loop_back(&x->nodes[np->edges[p][k].to], np->edges[p][k].to_port))
                    indeg[np->edges[p][k].to]--;
    }
    free(done);
    return rc;
}

/* Builds nodes, edges and ranks from def (borrowed for the execution's
 * life). The definition was validated when it was saved, but a run may get
 * an unsaved one: anything unusable is GL_INVALID. */
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
        int rc = build_node(x, i, json_object_array_get_idx(nodes, i), err);
        if (rc != GL_OK)
            return rc;
    }
    size_t ne = edges && json_object_is_type(edges, json_type_array) ? json_object_array_length(edges) : 0;
    int *indeg = calloc(n, sizeof *indeg);
    if (!indeg)
        return eng_err(err, GL_ERR, NULL, "out of memory");
    int rc = GL_OK;
    for (size_t i = 0; i < ne && rc == GL_OK; i++)
        rc = build_edge(x, i, json_object_array_get_idx(edges, i), indeg, err);
    if (rc == GL_OK)
        rc = rank_nodes(x, indeg, err);
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
    gl_redact_free(x->redact);
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

/* See exec_int.h. */
void gl__exec_accept(gl_exec_t *x, node_t *nd, json_object *output)
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

/* The execution of run, built, with its trigger holding the run's input;
 * exec_free releases it whatever this returns. */
static int exec_init(gl_exec_t *x, const gl_run_t *run, gl_err_t *err)
{
    memset(x, 0, sizeof *x);
    x->run = run;
    x->lim = run->limits;
    if (x->lim.max_items <= 0)
        x->lim.max_items = 10000;
    if (x->lim.max_bytes == 0)
        x->lim.max_bytes = 16u << 20;
    if (x->lim.max_steps <= 0)
        x->lim.max_steps = 10000;
    if (x->lim.inline_wait_ms <= 0)
        x->lim.inline_wait_ms = 5000;
    x->rec_n = run->recorded ? json_object_array_length(run->recorded) : 0;
    int rc = build(x, run->definition, err);
    if (rc != GL_OK)
        return rc;
    int t = find_trigger(x, run->trigger_node);
    if (t < 0)
        return eng_err(err, GL_INVALID, "nodes",
                       run->trigger_node ? "the trigger node '%.60s' is not in the workflow"
                                         : "the workflow has no trigger node%.0s",
                       run->trigger_node ? run->trigger_node : "");
    node_t *tn = &x->nodes[t];
    if (run->input && json_object_array_length(run->input) > 0) {
        tn->pending[0] = json_object_get(run->input);
    } else {
        tn->pending[0] = json_object_new_array();
        json_object_array_add(tn->pending[0], json_object_new_object());
    }
    tn->waiting = true;
    return GL_OK;
}

/* Activates node nd with what waits on its inputs (the activation borrows
 * them; they are put here). */
static step_outcome_t activate_next(gl_exec_t *x, node_t *nd, outcome_t *o)
{
    json_object *in[GL_NODE_MAX_PORTS] = { 0 };
    for (int p = 0; p < GL_NODE_MAX_PORTS; p++) {
        in[p] = nd->pending[p] ? nd->pending[p] : json_object_new_array();
        nd->pending[p] = NULL;
    }
    nd->waiting = false;
    step_outcome_t so = gl__exec_activate(x, nd, in, o);
    for (int p = 0; p < GL_NODE_MAX_PORTS; p++)
        json_object_put(in[p]);
    return so;
}

/* The run's status from how its last activation ended; takes o->error. */
static void set_status(const gl_exec_t *x, step_outcome_t so, outcome_t *o, gl_run_result_t *res)
{
    if (so == STEP_FAILED) {
        res->status = GL_RUN_FAILED;
        res->error = o->error;
        o->error = NULL;
    } else if (so == STEP_PARK) {
        res->status = GL_RUN_WAITING;
        res->wait_until_ms = o->wait_until;
    } else if (x->cancel && !o->abort_msg[0]) {
        res->status = GL_RUN_CANCELED;
    } else {
        res->status = GL_RUN_ABORTED;
        snprintf(res->abort_msg, sizeof res->abort_msg, "%s", o->abort_msg);
    }
}

int gl_engine_run(const gl_run_t *run, gl_run_result_t *res, gl_err_t *err)
{
    memset(res, 0, sizeof *res);
    gl_exec_t x;
    int rc = exec_init(&x, run, err);
    if (rc != GL_OK) {
        exec_free(&x);
        return rc;
    }
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
        step_outcome_t so = activate_next(&x, &x.nodes[i], &o);
        if (so != STEP_DONE) {
            set_status(&x, so, &o, res);
            break;
        }
    }
    res->output = x.last_items ? json_object_get(x.last_items) : json_object_new_array();
    res->response = x.response ? json_object_get(x.response) : NULL;
    res->steps = x.steps_recorded;
    if (gl_redact_count(x.redact) > 0) {
        /* what the run returns leaves no secret either (engine.h) */
        json_object *v[] = { res->output, res->response, res->error };
        res->output = gl_redact_json(x.redact, v[0]);
        res->response = gl_redact_json(x.redact, v[1]);
        res->error = gl_redact_json(x.redact, v[2]);
        for (size_t i = 0; i < GL_NELEM(v); i++)
            json_object_put(v[i]);
        gl_redact_text(x.redact, res->abort_msg, sizeof res->abort_msg);
    }
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

/* Does a string inside v mention $vars? */
static bool mentions_vars(json_object *v, int depth)
{
    if (depth > 64)
        return true; /* deeper than a definition validates: assume so */
    switch (json_object_get_type(v)) {
    case json_type_string: return strstr(json_object_get_string(v), "$vars") != NULL;
    case json_type_array:
        for (size_t i = 0; i < json_object_array_length(v); i++)
            if (mentions_vars(json_object_array_get_idx(v, i), depth + 1))
                return true;
        return false;
    case json_type_object: {
        json_object_object_foreach(v, k, child)
        {
            (void)k;
            if (mentions_vars(child, depth + 1))
                return true;
        }
        return false;
    }
    default: return false;
    }
}

bool gl_engine_uses_vars(json_object *def)
{
    json_object *nodes;
    return def && json_object_object_get_ex(def, "nodes", &nodes) && mentions_vars(nodes, 0);
}

bool gl_engine_is_direct(json_object *def)
{
    json_object *nodes;
    if (!def || !json_object_object_get_ex(def, "nodes", &nodes) || !json_object_is_type(nodes, json_type_array))
        return false;
    if (gl_engine_uses_vars(def)) /* the org's variables are loaded by the executor */
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

/* True when a and b hold the very same items, in order (deliver() hands
 * the items of an output port on by reference, in a new array). */
static bool same_items(json_object *a, json_object *b)
{
    if (a == b)
        return true;
    if (!json_object_is_type(b, json_type_array))
        return false;
    size_t n = json_object_array_length(a);
    if (json_object_array_length(b) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (json_object_array_get_idx(a, i) != json_object_array_get_idx(b, i))
            return false;
    return true;
}

/* Where the step's one input port's items come from, when they are the
 * very items of an output port of the step itself (*self) or of the step
 * before (prev_output): that port's name and the input port's, borrowed
 * from the step's objects. false otherwise. */
static bool input_source(const gl_step_t *s, json_object *prev_output, bool *self, const char **out_port,
                         const char **in_port)
{
    if (!s->input || !json_object_is_type(s->input, json_type_object) || json_object_object_length(s->input) != 1)
        return false;
    struct json_object_iterator it = json_object_iter_begin(s->input);
    *in_port = json_object_iter_peek_name(&it);
    json_object *items = json_object_iter_peek_value(&it);
    if (!items || !json_object_is_type(items, json_type_array) || json_object_array_length(items) == 0)
        return false;
    json_object *outputs[2] = { s->output, prev_output };
    for (int k = 0; k < 2; k++) {
        if (!outputs[k] || !json_object_is_type(outputs[k], json_type_object))
            continue;
        json_object_object_foreach(outputs[k], port, v) {
            if (!same_items(items, v))
                continue;
            *self = k == 0;
            *out_port = port;
            return true;
        }
    }
    return false;
}

/* input_source as the step's "input_from": ["self" or "prev", output port, input port] */
static json_object *input_from(const gl_step_t *s, json_object *prev)
{
    json_object *prev_output = NULL;
    bool self;
    const char *out_port, *in_port;
    if (prev && !json_object_object_get_ex(prev, "output", &prev_output))
        prev_output = NULL;
    if (!input_source(s, prev_output, &self, &out_port, &in_port))
        return NULL;
    json_object *src = json_object_new_array_ext(3);
    json_object_array_add(src, json_object_new_string(self ? "self" : "prev"));
    json_object_array_add(src, json_object_new_string(out_port));
    json_object_array_add(src, json_object_new_string(in_port));
    return src;
}

/* gl_step_json, with "input_from" in place of "input" when source is given */
static json_object *step_json(const gl_step_t *s, json_object *source)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "seq", json_object_new_int(s->seq));
    json_object_object_add(o, "node_id", json_object_new_string(s->node_id));
    json_object_object_add(o, "run_index", json_object_new_int(s->run_index));
    json_object_object_add(o, "attempt", json_object_new_int(s->attempt));
    json_object_object_add(o, "status", json_object_new_string(s->status));
    if (source)
        json_object_object_add(o, "input_from", source);
    else
        json_object_object_add(o, "input", json_object_get(s->input));
    json_object_object_add(o, "output", json_object_get(s->output));
    json_object_object_add(o, "state", json_object_get(s->state));
    json_object_object_add(o, "error", json_object_get(s->error));
    json_object_object_add(o, "started_ms", json_object_new_int64(s->started_ms));
    json_object_object_add(o, "finished_ms", json_object_new_int64(s->finished_ms));
    return o;
}

json_object *gl_step_json(const gl_step_t *s)
{
    return step_json(s, NULL);
}

int gl_step_collect(void *ud, const gl_step_t *s, bool *cancel, gl_err_t *err)
{
    (void)err;
    json_object_array_add((json_object *)ud, gl_step_json(s));
    *cancel = false;
    return GL_OK;
}

int gl_step_collect_compact(void *ud, const gl_step_t *s, bool *cancel, gl_err_t *err)
{
    (void)err;
    json_object *steps = ud;
    size_t n = json_object_array_length(steps);
    json_object *prev = n ? json_object_array_get_idx(steps, n - 1) : NULL;
    json_object_array_add(steps, step_json(s, input_from(s, prev)));
    *cancel = false;
    return GL_OK;
}

void gl_steps_text_init(gl_steps_text_t *t)
{
    memset(t, 0, sizeof *t);
    gl_buf_init(&t->buf, SIZE_MAX);
}

void gl_steps_text_free(gl_steps_text_t *t)
{
    json_object_put(t->prev_output);
    gl_buf_free(&t->buf);
    memset(t, 0, sizeof *t);
}

static int put_int(gl_buf_t *b, const char *key, int64_t v)
{
    int rc = gl_buf_puts(b, key);
    return rc != GL_OK ? rc : gl_buf_int(b, v);
}

static int put_str(gl_buf_t *b, const char *key, const char *v)
{
    int rc = gl_buf_puts(b, key);
    rc = rc != GL_OK ? rc : gl_buf_append(b, "\"", 1);
    rc = rc != GL_OK ? rc : gl_buf_json_escape(b, v, strlen(v));
    return rc != GL_OK ? rc : gl_buf_append(b, "\"", 1);
}

/* a member whose value is JSON; none when it is NULL (read back as null) */
static int put_json(gl_buf_t *b, const char *key, json_object *v)
{
    if (!v)
        return GL_OK;
    int rc = gl_buf_puts(b, key);
    return rc != GL_OK ? rc : gl_json_write(b, v);
}

int gl_step_write_compact(void *ud, const gl_step_t *s, bool *cancel, gl_err_t *err)
{
    gl_steps_text_t *t = ud;
    gl_buf_t *b = &t->buf;
    bool self;
    const char *out_port = NULL, *in_port = NULL;
    bool from = input_source(s, t->prev_output, &self, &out_port, &in_port);
    size_t before = b->len; /* a step not written whole is taken back */
    /* members in jsonb's order of keys (shorter first, then bytewise): the
     * database sorts each object's keys as it reads it, and an object in
     * order is one pass */
    int rc = gl_buf_puts(b, t->n ? ",{" : "[{");
    rc = rc != GL_OK ? rc : put_int(b, "\"seq\":", s->seq);
    rc = rc != GL_OK ? rc : put_json(b, ",\"error\":", s->error);
    if (!from)
        rc = rc != GL_OK ? rc : put_json(b, ",\"input\":", s->input);
    rc = rc != GL_OK ? rc : put_json(b, ",\"state\":", s->state);
    rc = rc != GL_OK ? rc : put_json(b, ",\"output\":", s->output);
    rc = rc != GL_OK ? rc : put_str(b, ",\"status\":", s->status);
    rc = rc != GL_OK ? rc : put_int(b, ",\"attempt\":", s->attempt);
    rc = rc != GL_OK ? rc : put_str(b, ",\"node_id\":", s->node_id);
    rc = rc != GL_OK ? rc : put_int(b, ",\"run_index\":", s->run_index);
    if (from) {
        rc = rc != GL_OK ? rc : put_str(b, ",\"input_from\":[", self ? "self" : "prev");
        rc = rc != GL_OK ? rc : put_str(b, ",", out_port);
        rc = rc != GL_OK ? rc : put_str(b, ",", in_port);
        rc = rc != GL_OK ? rc : gl_buf_append(b, "]", 1);
    }
    rc = rc != GL_OK ? rc : put_int(b, ",\"started_ms\":", s->started_ms);
    rc = rc != GL_OK ? rc : put_int(b, ",\"finished_ms\":", s->finished_ms);
    rc = rc != GL_OK ? rc : gl_buf_append(b, "}", 1);
    if (rc != GL_OK) {
        b->len = before;
        if (b->data)
            b->data[before] = '\0';
        gl_err_set(err, "the execution's steps are too large to record");
        return rc;
    }
    json_object_put(t->prev_output);
    t->prev_output = json_object_get(s->output);
    t->n++;
    *cancel = false;
    return GL_OK;
}

const char *gl_steps_text(gl_steps_text_t *t)
{
    if (gl_buf_append(&t->buf, t->n ? "]" : "[]", t->n ? 1 : 2) != GL_OK)
        return NULL;
    return t->buf.data;
}
