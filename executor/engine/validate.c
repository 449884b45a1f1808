/*
 * validate.c: definition validation (see engine.h). Checks, in order:
 * shape of the document; each node (id, type, name, params against the
 * type's descriptor, and what the descriptor's validate callback adds,
 * settings); each edge (existing nodes and ports); uniqueness of ids, names
 * and of the parameters a descriptor declares unique (a webhook's path);
 * and cycles — none allowed except one that runs back into a descriptor's
 * loop input (flow.loop's "loop"), the one sanctioned loop.
 */
#include "engine.h"

#include "node.h"
#include "tz.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

const gl_wf_limits_t gl_wf_default_limits = {
    .max_nodes = 500,
    .max_edges = 2000,
    .max_param_bytes = 65536,
    .max_param_depth = 12,
};

/* Replaces, in place, every byte that is not part of a valid UTF-8
 * sequence with '?': messages quote input cut at byte counts ("%.60s"),
 * which may split a character, and a response must stay valid UTF-8. */
static void utf8_repair(char *s)
{
    unsigned char *p = (unsigned char *)s, *end = p + strlen(s);
    while (p < end) {
        size_t n = gl_utf8_seq(p, (size_t)(end - p));
        if (n == 0) {
            *p++ = '?';
            continue;
        }
        p += n;
    }
}

static void problem(gl_problems_t *p, const char *node, const char *field, const char *fmt, ...)
    GL_PRINTF(4, 5);

static void problem(gl_problems_t *p, const char *node, const char *field, const char *fmt, ...)
{
    if (p->n == GL_WF_MAX_PROBLEMS) {
        p->truncated = true;
        return;
    }
    gl_problem_t *it = &p->items[p->n++];
    snprintf(it->node, sizeof it->node, "%s", node ? node : "");
    snprintf(it->field, sizeof it->field, "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(it->message, sizeof it->message, fmt, ap);
    va_end(ap);
    utf8_repair(it->node);
    utf8_repair(it->field);
    utf8_repair(it->message);
}

static const char *type_name(json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null: return "null";
    case json_type_boolean: return "a boolean";
    case json_type_double:
    case json_type_int: return "a number";
    case json_type_object: return "an object";
    case json_type_array: return "an array";
    case json_type_string: return "a string";
    }
    return "unknown";
}

static bool id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static int depth_of(json_object *v)
{
    int d = 0;
    if (json_object_is_type(v, json_type_object)) {
        json_object_object_foreach(v, k, child)
        {
            (void)k;
            int cd = depth_of(child);
            if (cd > d)
                d = cd;
        }
        return d + 1;
    }
    if (json_object_is_type(v, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            int cd = depth_of(json_object_array_get_idx(v, i));
            if (cd > d)
                d = cd;
        }
        return d + 1;
    }
    return 0;
}

static bool is_expression(json_object *v)
{
    return json_object_is_type(v, json_type_string) && strstr(json_object_get_string(v), "{{");
}

static bool has_expression(json_object *v)
{
    if (is_expression(v))
        return true;
    if (json_object_is_type(v, json_type_object)) {
        json_object_object_foreach(v, k, child)
        {
            (void)k;
            if (has_expression(child))
                return true;
        }
    } else if (json_object_is_type(v, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(v); i++)
            if (has_expression(json_object_array_get_idx(v, i)))
                return true;
    }
    return false;
}

/* A time zone gl_tz_load can load; err says why not. */
static bool timezone_ok(const char *tz, gl_err_t *err)
{
    gl_tz_t *zone = NULL;
    if (gl_tz_load(tz, &zone, err) != GL_OK)
        return false;
    gl_tz_free(zone);
    return true;
}

struct gl_node_check {
    gl_problems_t *p;
    const char *node;
    const char *field;
    json_object *params;
};

json_object *gl_node_check_params(gl_node_check_t *chk)
{
    return chk->params;
}

void gl_node_problem(gl_node_check_t *chk, const char *fmt, ...)
{
    char msg[sizeof chk->p->items[0].message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    problem(chk->p, chk->node, chk->field, "%s", msg);
}

/* Presence, size, depth and expressions; false: no further checks. */
static bool check_param_shape(gl_problems_t *p, const char *node, const char *field, const gl_param_def_t *d,
                              json_object *v, const gl_wf_limits_t *lim)
{
    if (json_object_is_type(v, json_type_null)) {
        if (d->required)
            problem(p, node, field, "parameter '%s' is required", d->name);
        return false;
    }
    size_t len = strlen(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
    if (len > lim->max_param_bytes) {
        problem(p, node, field, "parameter '%s' is %zu bytes; the limit is %zu", d->name, len, lim->max_param_bytes);
        return false;
    }
    if (depth_of(v) > lim->max_param_depth) {
        problem(p, node, field, "parameter '%s' is nested deeper than %d levels", d->name, lim->max_param_depth);
        return false;
    }
    if (!d->expressions && has_expression(v)) {
        problem(p, node, field, "parameter '%s' does not take expressions", d->name);
        return false;
    }
    return true;
}

/* The value against the parameter's type. */
static void check_param_type(gl_problems_t *p, const char *node, const char *field, const gl_param_def_t *d,
                             json_object *v)
{
    bool expr = is_expression(v);
    switch (d->type) {
    case GL_PARAM_STRING:
    case GL_PARAM_CODE:
        if (!json_object_is_type(v, json_type_string))
            problem(p, node, field, "parameter '%s' must be a string, not %s", d->name, type_name(v));
        else if (d->required && json_object_get_string_len(v) == 0)
            problem(p, node, field, "parameter '%s' is required", d->name);
        break;
    case GL_PARAM_NUMBER:
        if (!expr && !json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
            problem(p, node, field, "parameter '%s' must be a number, not %s", d->name, type_name(v));
        break;
    case GL_PARAM_BOOLEAN:
        if (!expr && !json_object_is_type(v, json_type_boolean))
            problem(p, node, field, "parameter '%s' must be true or false, not %s", d->name, type_name(v));
        break;
    case GL_PARAM_SELECT: {
        bool ok = false;
        if (json_object_is_type(v, json_type_string))
            for (const char *const *o = d->options; *o; o++)
                if (strcmp(*o, json_object_get_string(v)) == 0)
                    ok = true;
        if (!ok)
            problem(p, node, field, "parameter '%s' must be one of the listed options", d->name);
        break;
    }
    case GL_PARAM_JSON:
        break;
    case GL_PARAM_CREDENTIAL:
        if (!json_object_is_type(v, json_type_string) || json_object_get_string_len(v) == 0 ||
            json_object_get_string_len(v) > 100)
            problem(p, node, field, "parameter '%s' must name a credential", d->name);
        break;
    }
}

static void check_param(gl_problems_t *p, const char *node, const gl_node_def_t *t, json_object *params,
                        const gl_param_def_t *d, json_object *v, const gl_wf_limits_t *lim)
{
    char field[96] = "params.";
    /* for every parameter of every node: a copy, not a printf */
    size_t n = strlen(d->name);
    if (n > sizeof field - sizeof "params.")
        n = sizeof field - sizeof "params.";
    memcpy(field + sizeof "params." - 1, d->name, n);
    field[sizeof "params." - 1 + n] = '\0';
    if (!check_param_shape(p, node, field, d, v, lim))
        return;
    check_param_type(p, node, field, d, v);
    /* type-specific rules the parameter table cannot express */
    if (t->validate) {
        gl_node_check_t chk = { p, node, field, params };
        t->validate(&chk, d, v);
    }
}

static void check_int_field(gl_problems_t *p, const char *node, json_object *obj, const char *key,
                            const char *field, int64_t min, int64_t max)
{
    json_object *v;
    if (!json_object_object_get_ex(obj, key, &v))
        return;
    if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < min || json_object_get_int64(v) > max)
        problem(p, node, field, "'%s' must be an integer from %lld to %lld", key, (long long)min, (long long)max);
}

/* name, notes, position, flags, timeout and retry of node `id` */
static void check_node_settings(gl_problems_t *p, const char *id, json_object *n)
{
    json_object *v;
    if (json_object_object_get_ex(n, "name", &v) &&
        (!json_object_is_type(v, json_type_string) || json_object_get_string_len(v) == 0 ||
         json_object_get_string_len(v) > 100))
        problem(p, id, "name", "node name must be a string of 1-100 characters");
    if (json_object_object_get_ex(n, "notes", &v) &&
        (!json_object_is_type(v, json_type_string) || json_object_get_string_len(v) > 10000))
        problem(p, id, "notes", "notes must be a string of at most 10000 characters");
    if (json_object_object_get_ex(n, "position", &v)) {
        bool ok = json_object_is_type(v, json_type_array) && json_object_array_length(v) == 2;
        for (size_t i = 0; ok && i < 2; i++) {
            json_object *c = json_object_array_get_idx(v, i);
            ok = json_object_is_type(c, json_type_int) || json_object_is_type(c, json_type_double);
        }
        if (!ok)
            problem(p, id, "position", "position must be [x, y] numbers");
    }
    for (const char *b = "continue_on_fail"; b; b = strcmp(b, "disabled") ? "disabled" : NULL) {
        if (json_object_object_get_ex(n, b, &v) && !json_object_is_type(v, json_type_boolean))
            problem(p, id, b, "'%s' must be true or false", b);
    }
    check_int_field(p, id, n, "timeout_ms", "timeout_ms", 1, 86400000);
    if (json_object_object_get_ex(n, "retry", &v)) {
        if (!json_object_is_type(v, json_type_object))
            problem(p, id, "retry", "retry must be an object {max, backoff_ms}");
        else {
            json_object_object_foreach(v, rk, rv)
            {
                (void)rv;
                if (strcmp(rk, "max") != 0 && strcmp(rk, "backoff_ms") != 0)
                    problem(p, id, "retry", "unknown retry field '%.40s'", rk);
            }
            check_int_field(p, id, v, "max", "retry.max", 0, 10);
            check_int_field(p, id, v, "backoff_ms", "retry.backoff_ms", 0, 3600000);
        }
    }
}

/* node `id`'s params against its type t */
static void check_node_params(gl_problems_t *p, const char *id, json_object *n, const gl_node_def_t *t,
                              const gl_wf_limits_t *lim)
{
    json_object *params = NULL;
    if (json_object_object_get_ex(n, "params", &params) && !json_object_is_type(params, json_type_object)) {
        problem(p, id, "params", "params must be an object, not %s", type_name(params));
        return;
    }
    if (params) {
        json_object_object_foreach(params, pk, pv)
        {
            (void)pv;
            if (!gl_node_param_find(t, pk)) {
                char field[96];
                snprintf(field, sizeof field, "params.%.80s", pk);
                problem(p, id, field, "node type %s has no parameter '%.60s'", t->type, pk);
            }
        }
    }
    for (const gl_param_def_t *d = t->params; d->name; d++) {
        json_object *pv = NULL;
        if (params)
            json_object_object_get_ex(params, d->name, &pv);
        check_param(p, id, t, params, d, pv, lim);
    }
}

/* nodes[idx]: sets *type_out and *id_out when they are usable */
static void check_node(gl_problems_t *p, json_object *n, size_t idx, const gl_wf_limits_t *lim,
                       const gl_node_def_t **type_out, const char **id_out)
{
    static const char *const keys[] = { "id", "type", "name", "params", "position", "retry", "timeout_ms",
                                        "continue_on_fail", "disabled", "notes", NULL };
    char where[32], digits[24];
    size_t nd = 0;
    do /* "nodes[idx]", without printf: it is done for every node of every save */
        digits[nd++] = (char)('0' + idx % 10);
    while ((idx /= 10) && nd < sizeof digits);
    memcpy(where, "nodes[", 6);
    for (size_t k = 0; k < nd; k++)
        where[6 + k] = digits[nd - 1 - k];
    where[6 + nd] = ']';
    where[7 + nd] = '\0';
    *type_out = NULL;
    *id_out = NULL;
    if (!json_object_is_type(n, json_type_object)) {
        problem(p, where, where, "a node must be an object, not %s", type_name(n));
        return;
    }
    json_object *v;
    const char *id = where;
    if (!json_object_object_get_ex(n, "id", &v) || !json_object_is_type(v, json_type_string) ||
        !id_ok(json_object_get_string(v)))
        problem(p, where, "id", "node id must be 1-64 letters, digits, - or _");
    else
        id = *id_out = json_object_get_string(v);

    json_object_object_foreach(n, key, val)
    {
        (void)val;
        bool known = false;
        for (const char *const *k = keys; *k && !known; k++)
            known = strcmp(*k, key) == 0;
        if (!known)
            problem(p, id, key, "unknown node field '%.60s'", key);
    }

    if (!json_object_object_get_ex(n, "type", &v) || !json_object_is_type(v, json_type_string)) {
        problem(p, id, "type", "node type is required");
        return;
    }
    const gl_node_def_t *t = gl_node_def_find(json_object_get_string(v));
    if (!t) {
        problem(p, id, "type", "unknown node type '%.60s'", json_object_get_string(v));
        return;
    }
    *type_out = t;
    check_node_settings(p, id, n);
    check_node_params(p, id, n, t, lim);
}

typedef struct {
    const char *id;
    const gl_node_def_t *type;
    int color; /* DFS: 0 new, 1 on the stack, 2 done */
    int *out;  /* indexes of successor nodes */
    int n_out, cap_out;
} vertex_t;

/* Vertex lookup by id: a sorted index searched by bisection, so large
 * definitions cost n log n, not n squared. */
static _Thread_local vertex_t *sort_base; /* per thread: executors run definitions on several */

static int cmp_vertex(const void *a, const void *b)
{
    const vertex_t *x = &sort_base[*(const int *)a], *y = &sort_base[*(const int *)b];
    return strcmp(x->id, y->id);
}

typedef struct {
    int *order; /* indexes of vertices with an id, sorted by id */
    int n;
} vindex_t;

static void vindex_build(vindex_t *ix, vertex_t *vs, int n)
{
    ix->order = gl_xmalloc(((size_t)n + 1) * sizeof *ix->order);
    ix->n = 0;
    for (int i = 0; i < n; i++)
        if (vs[i].id)
            ix->order[ix->n++] = i;
    sort_base = vs;
    qsort(ix->order, (size_t)ix->n, sizeof *ix->order, cmp_vertex);
}

static int find_vertex(const vindex_t *ix, vertex_t *vs, const char *id)
{
    int lo = 0, hi = ix->n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        int c = strcmp(vs[ix->order[mid]].id, id);
        if (c == 0)
            return ix->order[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

typedef struct {
    int from, to;
    const char *fp, *tp;
    size_t idx;
} edge_key_t;

static int cmp_edge(const void *a, const void *b)
{
    const edge_key_t *x = a, *y = b;
    if (x->from != y->from)
        return x->from < y->from ? -1 : 1;
    if (x->to != y->to)
        return x->to < y->to ? -1 : 1;
    int c = strcmp(x->fp, y->fp);
    if (c)
        return c;
    c = strcmp(x->tp, y->tp);
    if (c)
        return c;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static void add_succ(vertex_t *v, int to)
{
    if (v->n_out == v->cap_out) {
        v->cap_out = v->cap_out ? v->cap_out * 2 : 4;
        v->out = gl_xrealloc(v->out, (size_t)v->cap_out * sizeof *v->out);
    }
    v->out[v->n_out++] = to;
}

/* Iterative DFS; reports the first node found on a cycle. */
static void find_cycle(gl_problems_t *p, vertex_t *vs, int n)
{
    int *stack = gl_xmalloc(((size_t)n + 1) * sizeof *stack);
    int *next = gl_xcalloc((size_t)n + 1, sizeof *next);
    for (int s = 0; s < n; s++) {
        if (vs[s].color || !vs[s].id)
            continue;
        int top = 0;
        stack[top] = s;
        vs[s].color = 1;
        next[s] = 0;
        while (top >= 0) {
            int u = stack[top];
            if (next[u] < vs[u].n_out) {
                int w = vs[u].out[next[u]++];
                if (vs[w].color == 1) {
                    problem(p, vs[w].id, "edges",
                            "cycle through node '%s' (only edges into a flow.loop node's loop input may close a loop)",
                            vs[w].id);
                    free(stack);
                    free(next);
                    return;
                }
                if (vs[w].color == 0) {
                    vs[w].color = 1;
                    next[w] = 0;
                    stack[++top] = w;
                }
            } else {
                vs[u].color = 2;
                top--;
            }
        }
    }
    free(stack);
    free(next);
}

static const char *str_field(json_object *o, const char *key, const char *def)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v))
        return def;
    return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static void check_edges(gl_problems_t *p, json_object *edges, vertex_t *vs, int n_nodes)
{
    size_t n = json_object_array_length(edges);
    vindex_t ix;
    vindex_build(&ix, vs, n_nodes);
    edge_key_t *keys = gl_xmalloc((n + 1) * sizeof *keys);
    size_t n_keys = 0;
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(edges, i);
        char where[32];
        snprintf(where, sizeof where, "edges[%zu]", i);
        if (!json_object_is_type(e, json_type_object)) {
            problem(p, "", where, "an edge must be an object {from, from_port, to, to_port}");
            continue;
        }
        json_object_object_foreach(e, k, val)
        {
            (void)val;
            if (strcmp(k, "from") && strcmp(k, "to") && strcmp(k, "from_port") && strcmp(k, "to_port"))
                problem(p, "", where, "unknown edge field '%.40s'", k);
        }
        const char *from = str_field(e, "from", NULL), *to = str_field(e, "to", NULL);
        const char *fp = str_field(e, "from_port", "main"), *tp = str_field(e, "to_port", "main");
        char field[48];
        if (!from || !to || !fp || !tp) {
            problem(p, "", where, "an edge needs string 'from' and 'to' (and optional string ports)");
            continue;
        }
        int a = find_vertex(&ix, vs, from), b = find_vertex(&ix, vs, to);
        if (a < 0) {
            snprintf(field, sizeof field, "%s.from", where);
            problem(p, from, field, "edge from unknown node '%.60s'", from);
        }
        if (b < 0) {
            snprintf(field, sizeof field, "%s.to", where);
            problem(p, to, field, "edge to unknown node '%.60s'", to);
        }
        if (a < 0 || b < 0 || !vs[a].type || !vs[b].type)
            continue;
        if (!gl_node_has_output(vs[a].type, fp)) {
            snprintf(field, sizeof field, "%s.from_port", where);
            problem(p, from, field, "node type %s has no output '%.40s'", vs[a].type->type, fp);
            continue;
        }
        if (!gl_node_has_input(vs[b].type, tp)) {
            snprintf(field, sizeof field, "%s.to_port", where);
            problem(p, to, field, vs[b].type->trigger ? "a trigger has no inputs"
                                                      : "node type %s has no input '%.40s'",
                    vs[b].type->type, tp);
            continue;
        }
        /* the sanctioned loop: back into a loop input (flow.loop's) */
        bool loop_back = vs[b].type->loop_input && strcmp(tp, vs[b].type->loop_input) == 0;
        if (!loop_back)
            add_succ(&vs[a], b);
        keys[n_keys++] = (edge_key_t){ a, b, fp, tp, i };
    }
    /* duplicates sit next to each other once sorted */
    qsort(keys, n_keys, sizeof *keys, cmp_edge);
    for (size_t k = 1; k < n_keys; k++) {
        if (keys[k].from == keys[k - 1].from && keys[k].to == keys[k - 1].to &&
            strcmp(keys[k].fp, keys[k - 1].fp) == 0 && strcmp(keys[k].tp, keys[k - 1].tp) == 0) {
            char where[32];
            snprintf(where, sizeof where, "edges[%zu]", keys[k].idx);
            problem(p, vs[keys[k].from].id, where, "duplicate edge");
        }
    }
    free(keys);
    free(ix.order);
}

static void check_settings(gl_problems_t *p, json_object *s)
{
    if (!json_object_is_type(s, json_type_object)) {
        problem(p, "", "settings", "settings must be an object");
        return;
    }
    json_object_object_foreach(s, k, v)
    {
        if (strcmp(k, "timeout_ms") == 0) {
            if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 1 ||
                json_object_get_int64(v) > 7 * 86400000LL)
                problem(p, "", "settings.timeout_ms", "'timeout_ms' must be an integer from 1 to 604800000");
        } else if (strcmp(k, "error_workflow_id") == 0) {
            if (!json_object_is_type(v, json_type_string) || !gl_is_uuid(json_object_get_string(v)))
                problem(p, "", "settings.error_workflow_id", "'error_workflow_id' must be a workflow id");
        } else if (strcmp(k, "timezone") == 0) {
            gl_err_t err;
            gl_err_clear(&err);
            if (!json_object_is_type(v, json_type_string))
                problem(p, "", "settings.timezone", "unknown time zone");
            else if (!timezone_ok(json_object_get_string(v), &err))
                problem(p, "", "settings.timezone", "%s", err.msg);
        } else {
            char field[96];
            snprintf(field, sizeof field, "settings.%.80s", k);
            problem(p, "", field, "unknown setting '%.60s'", k);
        }
    }
}

/* notes: canvas notes the engine ignores (an n8n Sticky Note imports as
 * one): at most 200 of {text (at most 10000 characters), position [x, y],
 * size [w, h]} */
static void check_notes(gl_problems_t *p, json_object *notes)
{
    if (!json_object_is_type(notes, json_type_array) || json_object_array_length(notes) > 200) {
        problem(p, "", "notes", "notes must be an array of at most 200 {text, position, size}");
        return;
    }
    for (size_t i = 0; i < json_object_array_length(notes); i++) {
        json_object *nt = json_object_array_get_idx(notes, i), *v;
        char field[32];
        snprintf(field, sizeof field, "notes[%zu]", i);
        if (!json_object_is_type(nt, json_type_object)) {
            problem(p, "", field, "a note is {text (at most 10000 characters), position [x, y], size [w, h]}");
            continue;
        }
        bool ok = true;
        json_object_object_foreach(nt, k, val)
        {
            if (!strcmp(k, "text"))
                ok = ok && json_object_is_type(val, json_type_string) && json_object_get_string_len(val) <= 10000;
            else if (!strcmp(k, "position") || !strcmp(k, "size")) {
                ok = ok && json_object_is_type(val, json_type_array) && json_object_array_length(val) == 2;
                for (size_t c = 0; ok && c < 2; c++) {
                    v = json_object_array_get_idx(val, c);
                    ok = json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double);
                }
            } else
                ok = false;
        }
        if (!ok)
            problem(p, "", field, "a note is {text (at most 10000 characters), position [x, y], size [w, h]}");
    }
}

/* The top level: sets *nodes and *edges (may be NULL); false: nothing
 * further can be checked. */
static bool check_document(gl_problems_t *p, json_object *def, const gl_wf_limits_t *lim, json_object **nodes,
                           json_object **edges)
{
    json_object *settings = NULL;
    *nodes = *edges = NULL;
    if (!json_object_is_type(def, json_type_object)) {
        problem(p, "", "definition", "a definition must be an object {nodes, edges}, not %s", type_name(def));
        return false;
    }
    json_object_object_foreach(def, key, val)
    {
        (void)val;
        if (strcmp(key, "nodes") && strcmp(key, "edges") && strcmp(key, "settings") && strcmp(key, "notes"))
            problem(p, "", key, "unknown field '%.60s' (expected nodes, edges, settings, notes)", key);
    }
    json_object *notes = NULL;
    if (json_object_object_get_ex(def, "notes", &notes))
        check_notes(p, notes);
    if (!json_object_object_get_ex(def, "nodes", nodes) || !json_object_is_type(*nodes, json_type_array)) {
        problem(p, "", "nodes", "'nodes' must be an array");
        return false;
    }
    if (json_object_object_get_ex(def, "edges", edges) && !json_object_is_type(*edges, json_type_array)) {
        problem(p, "", "edges", "'edges' must be an array");
        return false;
    }
    if (json_object_object_get_ex(def, "settings", &settings))
        check_settings(p, settings);
    size_t n = json_object_array_length(*nodes);
    if (n > (size_t)lim->max_nodes) {
        problem(p, "", "nodes", "%zu nodes; the limit is %d", n, lim->max_nodes);
        return false;
    }
    if (*edges && json_object_array_length(*edges) > (size_t)lim->max_edges) {
        problem(p, "", "edges", "%zu edges; the limit is %d", json_object_array_length(*edges), lim->max_edges);
        return false;
    }
    return true;
}

/* The value of node n's unique parameter (a webhook's path), or NULL:
 * none, or empty (generated on save: never the same as another). */
static const char *unique_value(const vertex_t *v, json_object *n)
{
    json_object *params;
    if (!v->type || !v->type->unique_param || !json_object_object_get_ex(n, "params", &params) ||
        !json_object_is_type(params, json_type_object))
        return NULL;
    const char *s = str_field(params, v->type->unique_param, NULL);
    return s && *s ? s : NULL;
}

/*
 * A set of strings, each with a tag (a node type, or NULL) and the index of
 * the node it was first seen on: duplicate ids, names and unique parameters
 * are found in one pass in node order (a pass over every earlier node for
 * each node cost n squared hash lookups: a tenth of a 50-node save).
 */
typedef struct {
    const char *key;
    const void *tag;
    size_t idx;
} seen_slot_t;

typedef struct {
    seen_slot_t *slots;
    size_t mask;
} seen_t;

static void seen_init(seen_t *s, size_t n)
{
    size_t cap = 16;
    while (cap < 2 * n + 2)
        cap *= 2;
    s->slots = gl_xcalloc(cap, sizeof *s->slots);
    s->mask = cap - 1;
}

/* The index of the node key (with tag) was first seen on, or (size_t)-1
 * after recording it for node idx. */
static size_t seen_add(seen_t *s, const char *key, const void *tag, size_t idx)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)(uintptr_t)tag;
    for (const unsigned char *c = (const unsigned char *)key; *c; c++)
        h = (h ^ *c) * 1099511628211ull;
    for (size_t i = (size_t)h & s->mask;; i = (i + 1) & s->mask) {
        seen_slot_t *e = &s->slots[i];
        if (!e->key) {
            *e = (seen_slot_t){ key, tag, idx };
            return (size_t)-1;
        }
        if (e->tag == tag && strcmp(e->key, key) == 0)
            return e->idx;
    }
}

/* names ($node["Name"] references them) and unique parameters are unique:
 * each node that repeats one is named, with the first that has it */
static void check_unique(gl_problems_t *p, json_object *nodes, const vertex_t *vs, size_t n)
{
    seen_t names, values;
    seen_init(&names, n);
    seen_init(&values, n);
    for (size_t i = 0; i < n; i++) {
        json_object *ni = json_object_array_get_idx(nodes, i);
        if (!vs[i].id || !json_object_is_type(ni, json_type_object))
            continue;
        const char *name = str_field(ni, "name", NULL);
        if (name && seen_add(&names, name, NULL, i) != (size_t)-1)
            problem(p, vs[i].id, "name", "node name '%.60s' is used twice", name);
        const char *val = unique_value(&vs[i], ni);
        size_t j = val ? seen_add(&values, val, vs[i].type, i) : (size_t)-1;
        if (j != (size_t)-1) {
            char field[96];
            snprintf(field, sizeof field, "params.%s", vs[i].type->unique_param);
            problem(p, vs[i].id, field, "%s '%.60s' is used by node '%s' too", vs[i].type->unique_what, val,
                    vs[j].id);
        }
    }
    free(names.slots);
    free(values.slots);
}

int gl_workflow_validate(json_object *def, const gl_wf_limits_t *lim, gl_problems_t *p)
{
    memset(p, 0, sizeof *p);
    if (!lim)
        lim = &gl_wf_default_limits;
    json_object *nodes, *edges;
    if (!check_document(p, def, lim, &nodes, &edges))
        return GL_INVALID;
    size_t n = json_object_array_length(nodes);
    vertex_t *vs = gl_xcalloc(n + 1, sizeof *vs);
    seen_t ids;
    seen_init(&ids, n);
    for (size_t i = 0; i < n; i++) {
        check_node(p, json_object_array_get_idx(nodes, i), i, lim, &vs[i].type, &vs[i].id);
        if (vs[i].id && seen_add(&ids, vs[i].id, NULL, i) != (size_t)-1) {
            problem(p, vs[i].id, "id", "duplicate node id '%s'", vs[i].id);
            vs[i].id = NULL;
        }
    }
    free(ids.slots);
    check_unique(p, nodes, vs, n);
    if (edges)
        check_edges(p, edges, vs, (int)n);
    if (p->n == 0)
        find_cycle(p, vs, (int)n);
    for (size_t i = 0; i < n; i++)
        free(vs[i].out);
    free(vs);
    return p->n ? GL_INVALID : GL_OK;
}

int gl_problems_json(const gl_problems_t *p, gl_buf_t *out)
{
    int rc = gl_buf_puts(out, "[");
    for (int i = 0; i < p->n; i++) {
        const gl_problem_t *it = &p->items[i];
        rc |= gl_buf_puts(out, i ? ",{\"node\":\"" : "{\"node\":\"");
        rc |= gl_buf_json_escape(out, it->node, strlen(it->node));
        rc |= gl_buf_puts(out, "\",\"field\":\"");
        rc |= gl_buf_json_escape(out, it->field, strlen(it->field));
        rc |= gl_buf_puts(out, "\",\"message\":\"");
        rc |= gl_buf_json_escape(out, it->message, strlen(it->message));
        rc |= gl_buf_puts(out, "\"}");
    }
    rc |= gl_buf_puts(out, "]");
    return rc ? GL_TOO_LARGE : GL_OK;
}
