/*
 * expr.c: the `{{ … }}` expression language (see engine.h, expressions for what it covers):
 * the public API and the evaluation of the syntax tree.
 *
 * Design. An expression is parsed by recursive descent (precedence climbing
 * for binary operators) into a tree allocated on an arena that lives for one
 * gl_expr_eval call (a template's trees are kept for the next render of
 * the same template: expr_cache.c); unknown variables and unsupported syntax
 * (assignment, loops, function declarations) are rejected there, with a
 * column. The tree is then walked by eval(), which produces val_t values:
 *
 *   undefined, null, boolean, number (a double, as in JavaScript), string,
 *   array, object, date (milliseconds and a zone), a namespace or built-in
 *   function (Math, $input, parseInt…), a node reference ($("Name")).
 *
 * Strings, arrays and objects are json-c objects; a val_t owns one reference
 * to its json object and vfree() drops it, so data taken from the context is
 * shared, never copied. `a.b(…)` is a method call dispatched on the type of
 * `a` and the name `b`, `f(…)` a call of a built-in global.
 *
 * Arrow functions are the only function values, and only as arguments of a
 * call: eval_call turns an N_ARROW argument into a V_FUNC (the node and the
 * frame it closes over, ev->frame), the method calls it through
 * gl__expr_call_fn, which makes a frame for its parameters and
 * declarations (slots resolved by the parser, see expr_parse.c) and
 * evaluates the body. eval() never returns a V_FUNC, so a function cannot
 * outlive the call that made it, nor the frames it closes over; there is no
 * recursion (functions have no names), so calls nest no deeper than the
 * tree, and every call and every node of its body are charged as steps.
 *
 * Bounds: every tree node visited, every loop iteration inside a library
 * function and every BYTES_PER_STEP bytes a library function reads,
 * compares or writes cost a step, charged before the work (so a search in a
 * string pays for the string's length, an append for what it appends);
 * parser nesting and tree height are capped; every string is built in a
 * gl_buf capped at max_output, and every array or object carries an
 * estimate of its serialized size (`size`), checked when it grows; outputs
 * whose size is known up front are refused before they are allocated. Data
 * borrowed from the context counts 16 bytes per element: it is shared, not
 * built. With a deadline, gl__expr_charge also reads the monotonic clock
 * every CLOCK_EVERY steps, so an evaluation ends soon after its deadline
 * even if a charge were wrong.
 *
 * Files. The language is one unit split by concern; all share expr_int.h
 * (the value type, the tree, the evaluator state and the gl__expr_ names):
 *
 *   expr.c        public API, evaluation of the tree
 *   expr_parse.c  lexer and parser
 *   expr_cache.c  parsed templates, kept per thread
 *   expr_text.c   UTF-8 code points, numbers to and from text
 *   expr_value.c  values, budget and errors, coercions, operators
 *   expr_json.c   JSON text, building arrays/objects under the bound, JSON.*
 *   expr_lib.c    property access, method dispatch, arrays, objects, items
 *   expr_str.c    string methods
 *   expr_str_n8n.c  n8n's string extensions: checks, casts, hash, base64
 *   expr_str_n8n_text.c  n8n's string extensions that edit text
 *   expr_regex.c  regular expressions (PCRE2), string methods that take them
 *   expr_regex_js.c  JavaScript's regex syntax into PCRE2's
 *   expr_num.c    number methods, Math, Number, global functions
 *   expr_date.c   dates: DateTime, Duration, Date (the files are listed in expr_date_int.h)
 */
#include "expr_int.h"

#include <math.h>
#include <stdio.h>

#define DEF_STEPS 100000
#define DEF_DEPTH 64
#define DEF_OUTPUT ((size_t)1 << 20)
#define MAX_OUTPUT_CAP ((size_t)1 << 30) /* json-c string lengths are ints */
#define MAX_DEPTH_CAP 1024

/* ------------------------------------------------------------------------ */
/* Evaluation                                                               */

static int eval(ev_t *ev, const node_t *nd, val_t *out);

#define MAX_SPREAD_ARGS 16384 /* arguments a call's spread may produce */

/* A growable list of values (arguments, spread elements). */
typedef struct {
    val_t *v;
    size_t n, cap;
    val_t fixed[MAX_ARGS];
} vlist_t;

static int eval_args(ev_t *ev, const node_t *nd, vlist_t *l);
static int no_func(ev_t *ev, val_t *out);
static void vl_init(vlist_t *l);
static void vl_free(vlist_t *l);

/* JavaScript's ToInt32. */
static int32_t to_int32(double d)
{
    if (!isfinite(d))
        return 0;
    double m = fmod(trunc(d), 4294967296.0);
    if (m < 0)
        m += 4294967296.0;
    return (int32_t)(uint32_t)m;
}

/* A parameter or declared name: a copy of its slot. */
static int eval_local(ev_t *ev, const node_t *nd, val_t *out)
{
    gl_frame_t *f = ev->frame;
    for (int i = 0; f && i < nd->op; i++)
        f = f->up;
    if (!f || (size_t)nd->slot >= f->n)
        return gl__expr_fail(ev, "internal error: no frame for '%.*s'", (int)nd->len, nd->s);
    *out = vdup(&f->slots[nd->slot]);
    return GL_OK;
}

/* key in o */
static int eval_in(ev_t *ev, const val_t *key, const val_t *o, val_t *out)
{
    sv_t k;
    size_t idx;
    TRY(gl__expr_key_sv(ev, key, &k));
    int rc = gl__expr_charge_pass(ev, k.n);
    bool has = false;
    switch (o->k) {
    case V_OBJ: has = !memchr(k.p, 0, k.n) && json_object_object_get_ex(o->j, k.p, NULL); break;
    case V_ARR:
        has = name_is(k.p, k.n, "length") ||
              (gl__expr_array_index(k.p, k.n, &idx) && idx < json_object_array_length(o->j));
        break;
    case V_NODE: has = name_is(k.p, k.n, "item") || name_is(k.p, k.n, "isExecuted"); break;
    case V_DATE:
    case V_NS: break;
    default:
        if (rc == GL_OK)
            rc = gl__expr_fail(ev, "Cannot use 'in' operator to search for '%.*s' in %s",
                               (int)(k.n > 60 ? 60 : k.n), k.p,
                               o->k == V_UNDEF || o->k == V_SHORT ? "undefined"
                               : o->k == V_NULL                   ? "null"
                                                                  : gl__expr_vtype_name(o));
    }
    gl__expr_sv_free(&k);
    if (rc == GL_OK)
        *out = vbool(has);
    return rc;
}

/* The operators gl__expr_binary does not know: in, **, bitwise. */
static int eval_binary(ev_t *ev, int op, const val_t *a, const val_t *b, val_t *out)
{
    double x, y;
    if (op == OP_IN)
        return eval_in(ev, a, b, out);
    if (op < OP_POW || op > OP_USHR)
        return gl__expr_binary(ev, op, a, b, out);
    TRY(gl__expr_to_number(ev, a, &x));
    TRY(gl__expr_to_number(ev, b, &y));
    int32_t i = to_int32(x), j = to_int32(y);
    uint32_t sh = (uint32_t)j & 31;
    switch (op) {
    case OP_POW: /* JavaScript: 1 ** NaN and (-1) ** ±Infinity are NaN */
        *out = vnum(isnan(y) || (fabs(x) == 1 && isinf(y)) ? (double)NAN : pow(x, y));
        break;
    case OP_BAND: *out = vnum((double)(i & j)); break;
    case OP_BOR: *out = vnum((double)(i | j)); break;
    case OP_BXOR: *out = vnum((double)(i ^ j)); break;
    case OP_SHL: *out = vnum((double)(int32_t)((uint32_t)i << sh)); break;
    case OP_SHR: *out = vnum((double)(i < 0 ? ~(~i >> sh) : i >> sh)); break;
    default: *out = vnum((double)((uint32_t)i >> sh)); break;
    }
    return GL_OK;
}

/* Statements of an arrow function's body. *ret: a return ran (*out its value). */
static int exec(ev_t *ev, const node_t *nd, bool *ret, val_t *out)
{
    val_t v;
    TRY(gl__expr_charge(ev, 1));
    switch (nd->k) {
    case N_BLOCK:
        for (size_t i = 0; i < nd->n && !*ret; i++)
            TRY(exec(ev, nd->kids[i], ret, out));
        return GL_OK;
    case N_DECL: {
        gl_frame_t *f = ev->frame;
        if (nd->a)
            TRY(eval(ev, nd->a, &v));
        else
            v = vmk(V_UNDEF);
        if (v.k == V_SHORT)
            v.k = V_UNDEF;
        vfree(&f->slots[nd->slot]);
        f->slots[nd->slot] = v;
        return GL_OK;
    }
    case N_RETURN:
        *ret = true;
        if (nd->a)
            return eval(ev, nd->a, out);
        *out = vmk(V_UNDEF);
        return GL_OK;
    case N_IF: {
        TRY(eval(ev, nd->a, &v));
        bool t = gl__expr_vtruthy(&v);
        vfree(&v);
        if (t)
            return exec(ev, nd->b, ret, out);
        return nd->c ? exec(ev, nd->c, ret, out) : GL_OK;
    }
    default: /* an expression statement */
        TRY(eval(ev, nd, &v));
        vfree(&v);
        return GL_OK;
    }
}

bool gl__expr_is_fn(const val_t *fn)
{
    return fn->k == V_FUNC || (fn->k == V_NS && gl__expr_global_fn(fn->ns));
}

/* Adds j's JSON text length (roughly) to *size and its nodes to *nodes;
 * false past limit or too deep. */
static bool walk_size(json_object *j, size_t limit, size_t *size, size_t *nodes, int depth,
                      bool *deep)
{
    if (depth > VALUE_DEPTH) {
        *deep = true;
        return false;
    }
    (*nodes)++;
    switch (json_object_get_type(j)) {
    case json_type_string: *size += (size_t)json_object_get_string_len(j) + 3; break;
    case json_type_array: {
        size_t n = json_object_array_length(j);
        *size += 2;
        for (size_t i = 0; i < n && *size <= limit; i++)
            if (!walk_size(json_object_array_get_idx(j, i), limit, size, nodes, depth + 1, deep))
                return false;
        break;
    }
    case json_type_object: {
        struct json_object_iterator it = json_object_iter_begin(j);
        struct json_object_iterator end = json_object_iter_end(j);
        *size += 2;
        while (*size <= limit && !json_object_iter_equal(&it, &end)) {
            *size += strlen(json_object_iter_peek_name(&it)) + 4;
            if (!walk_size(json_object_iter_peek_value(&it), limit, size, nodes, depth + 1,
                           deep))
                return false;
            json_object_iter_next(&it);
        }
        break;
    }
    default: *size += 2; break;
    }
    return *size <= limit;
}

/* The walk reads at most max_out / 2 nodes; it is charged as a pass over
 * 64 nodes per step once done. */
int gl__expr_check_value(ev_t *ev, const val_t *v)
{
    size_t size = 0, nodes = 0;
    bool deep = false;
    if (v->k != V_ARR && v->k != V_OBJ)
        return GL_OK;
    bool ok = walk_size(v->j, ev->max_out, &size, &nodes, 0, &deep);
    TRY(gl__expr_charge_bytes(ev, nodes));
    if (ok)
        return GL_OK;
    return deep ? gl__expr_fail(ev, "value nested too deeply") : gl__expr_too_big(ev);
}

int gl__expr_call_fn(ev_t *ev, const val_t *fn, const val_t *a, size_t na, val_t *out)
{
    *out = vmk(V_UNDEF);
    if (fn->k == V_NS && gl__expr_global_fn(fn->ns)) { /* .map(Number), .filter(Boolean) */
        TRY(gl__expr_charge(ev, 1));
        int rc = gl__expr_global_fn(fn->ns)(ev, fn, a, na, out);
        return rc == GL_OK ? no_func(ev, out) : rc;
    }
    if (fn->k != V_FUNC)
        return gl__expr_fail(ev, "%s is not a function",
                             fn->k == V_UNDEF ? "undefined" : gl__expr_vtype_name(fn));
    const node_t *arrow = fn->fn;
    TRY(gl__expr_charge(ev, 1));
    if (ev->depth >= 4 * ev->max_depth + 8)
        return gl__expr_fail(ev, "expression nested too deeply");
    val_t fixed[8];
    gl_frame_t frame = { fn->env, fixed, (size_t)arrow->slot };
    if (frame.n > GL_NELEM(fixed))
        frame.slots = gl_xmalloc(frame.n * sizeof *frame.slots);
    for (size_t i = 0; i < frame.n; i++) {
        frame.slots[i] = vmk(V_UNDEF);
        if (i < (size_t)arrow->op && i < na && a[i].k != V_SHORT && a[i].k != V_FUNC)
            frame.slots[i] = vdup(&a[i]);
    }
    gl_frame_t *saved = ev->frame;
    ev->frame = &frame;
    ev->depth++;
    ev->calls++;
    int rc = GL_OK;
    bool ret = false;
    for (size_t i = 0; rc == GL_OK && i < arrow->n; i++) /* destructured parameters */
        rc = exec(ev, arrow->kids[i], &ret, out);
    if (rc != GL_OK) {
        /* below: the frame is released */
    } else if (arrow->a->k == N_BLOCK) {
        rc = exec(ev, arrow->a, &ret, out);
        if (rc == GL_OK && !ret)
            *out = vmk(V_UNDEF);
    } else {
        rc = eval(ev, arrow->a, out);
    }
    ev->depth--;
    ev->frame = saved;
    for (size_t i = 0; i < frame.n; i++)
        vfree(&frame.slots[i]);
    if (frame.slots != fixed)
        free(frame.slots);
    if (rc != GL_OK)
        vfree(out);
    else if (out->k == V_SHORT)
        out->k = V_UNDEF;
    return rc;
}

int gl__expr_new(ev_t *ev, int ns, const val_t *a, size_t na, val_t *out)
{
    switch (ns) {
    case VAR_DATE: return gl__expr_date_new(ev, a, na, out);
    case NEW_REGEXP: return gl__expr_regex_new(ev, a, na, out);
    default:
        return gl__expr_fail(ev, "%s is not a constructor",
                             ns >= 0 && ns < VAR_COUNT ? gl__expr_var_names[ns] : "this");
    }
}

static int eval_new(ev_t *ev, const node_t *nd, val_t *out)
{
    vlist_t args;
    vl_init(&args);
    int rc = eval_args(ev, nd, &args);
    if (rc == GL_OK)
        rc = gl__expr_new(ev, nd->op, args.v, args.n, out);
    if (rc == GL_OK)
        rc = no_func(ev, out);
    vl_free(&args);
    return rc;
}

static int var_value(ev_t *ev, int var, val_t *out)
{
    const gl_expr_ctx_t *c = ev->ctx;
    json_object *o;
    switch (var) {
    case VAR_JSON:
        *out = c->json ? gl__expr_vjson(c->json) : vown(V_OBJ, json_object_new_object(), 16);
        return GL_OK;
    case VAR_BINARY:
        o = gl__expr_item_binary(c->json);
        *out = o ? gl__expr_vjson(o) : vown(V_OBJ, json_object_new_object(), 16);
        return GL_OK;
    case VAR_ENV:
        *out = c->env ? gl__expr_vjson(c->env) : vown(V_OBJ, json_object_new_object(), 16);
        return GL_OK;
    case VAR_EXECUTION:
        o = json_object_new_object();
        json_object_object_add(o, "id", c->execution_id ? json_object_new_string(c->execution_id) : NULL);
        *out = vown(V_OBJ, o, 0);
        return GL_OK;
    case VAR_WORKFLOW:
        o = json_object_new_object();
        json_object_object_add(o, "id", c->workflow_id ? json_object_new_string(c->workflow_id) : NULL);
        json_object_object_add(o, "name", c->workflow_name ? json_object_new_string(c->workflow_name) : NULL);
        *out = vown(V_OBJ, o, 0);
        return GL_OK;
    case VAR_NOW: return gl__expr_date_now(ev, false, out);
    case VAR_TODAY: return gl__expr_date_now(ev, true, out);
    case VAR_ITEMINDEX: *out = vnum((double)c->item_index); return GL_OK;
    case VAR_RUNINDEX:
    case VAR_PARAMETER:
    case VAR_VARS: return gl__expr_ext_var(ev, var, out);
    default:
        *out = vmk(V_NS);
        out->ns = var;
        return GL_OK;
    }
}

static int eval_member(ev_t *ev, const node_t *nd, val_t *out)
{
    val_t o, key;
    sv_t ks;
    TRY(eval(ev, nd->a, &o));
    if (o.k == V_SHORT || (nd->opt && nullish(&o))) {
        vfree(&o);
        *out = vmk(V_SHORT);
        return GL_OK;
    }
    int rc;
    if (nd->k == N_MEMBER) {
        rc = gl__expr_get_prop(ev, &o, nd->s, nd->len, out);
    } else if ((rc = eval(ev, nd->b, &key)) == GL_OK) {
        if ((rc = gl__expr_key_sv(ev, &key, &ks)) == GL_OK) {
            rc = gl__expr_get_prop(ev, &o, ks.p, ks.n, out);
            gl__expr_sv_free(&ks);
        }
        vfree(&key);
    }
    vfree(&o);
    return rc;
}


static void vl_init(vlist_t *l)
{
    l->v = l->fixed;
    l->n = 0;
    l->cap = MAX_ARGS;
}

static void vl_free(vlist_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        vfree(&l->v[i]);
    if (l->v != l->fixed)
        free(l->v);
}

/* Takes over v, also on failure. */
static int vl_push(ev_t *ev, vlist_t *l, val_t *v)
{
    if (l->n == l->cap) {
        if (l->cap >= MAX_SPREAD_ARGS) {
            vfree(v);
            return gl__expr_fail(ev, "too many arguments (at most %d)", MAX_SPREAD_ARGS);
        }
        val_t *nv = gl_xmalloc(2 * l->cap * sizeof *nv);
        memcpy(nv, l->v, l->n * sizeof *nv);
        if (l->v != l->fixed)
            free(l->v);
        l->v = nv;
        l->cap *= 2;
    }
    if (v->k == V_SHORT)
        v->k = V_UNDEF;
    l->v[l->n++] = *v;
    return GL_OK;
}

typedef int (*each_fn)(ev_t *ev, void *ud, val_t *e, const char *key);

/* Calls fn with each element of the iterable v (arrays, strings by code
 * point), fn taking over the element; key: the element's index as text. */
static int spread_each(ev_t *ev, const val_t *v, bool objects, each_fn fn, void *ud)
{
    char key[32];
    int rc = GL_OK;
    if (v->k == V_ARR) {
        size_t n = json_object_array_length(v->j);
        for (size_t i = 0; rc == GL_OK && i < n; i++) {
            if ((rc = gl__expr_charge(ev, 1)) != GL_OK)
                break;
            val_t e = gl__expr_vjson(json_object_array_get_idx(v->j, i));
            snprintf(key, sizeof key, "%zu", i);
            rc = fn(ev, ud, &e, key);
        }
        return rc;
    }
    if (v->k == V_STR) {
        const char *p = sp(v);
        size_t n = sn(v), i = 0, k = 0;
        while (rc == GL_OK && i < n) {
            uint32_t cp;
            size_t l = gl_utf8_decode(p, n, i, &cp);
            if ((rc = gl__expr_charge(ev, 1)) != GL_OK)
                break;
            val_t e = vstr_n(p + i, l);
            snprintf(key, sizeof key, "%zu", k++);
            rc = fn(ev, ud, &e, key);
            i += l;
        }
        return rc;
    }
    if (objects && v->k == V_OBJ) {
        struct json_object_iterator it = json_object_iter_begin(v->j);
        struct json_object_iterator end = json_object_iter_end(v->j);
        while (rc == GL_OK && !json_object_iter_equal(&it, &end)) {
            const char *name = json_object_iter_peek_name(&it);
            val_t e = gl__expr_vjson(json_object_iter_peek_value(&it));
            json_object_iter_next(&it);
            if ((rc = gl__expr_charge_pass(ev, strlen(name))) != GL_OK) {
                vfree(&e);
                break;
            }
            rc = fn(ev, ud, &e, name);
        }
        return rc;
    }
    if (objects) /* {...null}, {...1}: nothing */
        return GL_OK;
    return gl__expr_fail(ev, "%s is not iterable", nullish(v) ? "undefined or null"
                                                               : gl__expr_vtype_name(v));
}

static int push_arg(ev_t *ev, void *ud, val_t *e, const char *key)
{
    (void)key;
    return vl_push(ev, ud, e);
}

/* Evaluates a call's arguments into l: spreads expanded, arrow functions
 * as V_FUNC values closing over the current frame. */
static int eval_args(ev_t *ev, const node_t *nd, vlist_t *l)
{
    for (size_t i = 0; i < nd->n; i++) {
        const node_t *k = nd->kids[i];
        val_t v;
        if (k->k == N_ARROW) {
            TRY(gl__expr_charge(ev, 1));
            v = vmk(V_FUNC);
            v.fn = k;
            v.env = ev->frame;
            TRY(vl_push(ev, l, &v));
            continue;
        }
        TRY(eval(ev, k->k == N_SPREAD ? k->a : k, &v));
        if (k->k != N_SPREAD) {
            TRY(vl_push(ev, l, &v));
            continue;
        }
        int rc = spread_each(ev, &v, false, push_arg, l);
        vfree(&v);
        TRY(rc);
    }
    return GL_OK;
}

/* A method may hand an argument back (a V_FUNC): it is no value. */
static int no_func(ev_t *ev, val_t *out)
{
    if (out->k != V_FUNC)
        return GL_OK;
    vfree(out);
    return gl__expr_fail(ev, "a function is not a value: arrow functions can only be passed "
                             "to methods such as map or filter");
}

static int eval_call(ev_t *ev, const node_t *nd, val_t *out)
{
    const node_t *callee = nd->a;
    val_t self = vmk(V_UNDEF), key = vmk(V_UNDEF);
    vlist_t args;
    const char *name = NULL;
    size_t name_len = 0;
    sv_t ks = { 0 };
    int rc;
    if (callee->k == N_MEMBER || callee->k == N_INDEX) {
        TRY(eval(ev, callee->a, &self));
        if (self.k == V_SHORT || (callee->opt && nullish(&self))) {
            vfree(&self);
            *out = vmk(V_SHORT);
            return GL_OK;
        }
        if (callee->k == N_MEMBER) {
            name = callee->s;
            name_len = callee->len;
        } else {
            if ((rc = eval(ev, callee->b, &key)) != GL_OK ||
                (rc = gl__expr_key_sv(ev, &key, &ks)) != GL_OK) {
                vfree(&key);
                vfree(&self);
                return rc;
            }
            name = ks.p;
            name_len = ks.n;
        }
    } else if (callee->k == N_VAR && gl__expr_global_fn(callee->op)) {
        self = vmk(V_NS);
        self.ns = callee->op;
    } else if (callee->k == N_VAR) {
        return gl__expr_fail(ev, "%s is not a function", gl__expr_var_names[callee->op]);
    } else if (callee->k == N_LOCAL) {
        return gl__expr_fail(ev, "%.*s is not a function", (int)callee->len, callee->s);
    } else {
        TRY(eval(ev, callee, &self));
        rc = gl__expr_fail(ev, "%s is not a function", gl__expr_vtype_name(&self));
        vfree(&self);
        return rc;
    }
    vl_init(&args);
    rc = eval_args(ev, nd, &args);
    if (rc == GL_OK)
        rc = name ? gl__expr_call_method(ev, &self, name, name_len, args.v, args.n, out)
                  : gl__expr_global_fn(self.ns)(ev, &self, args.v, args.n, out);
    if (rc == GL_OK)
        rc = no_func(ev, out);
    vl_free(&args);
    if (name == ks.p && name)
        gl__expr_sv_free(&ks);
    vfree(&key);
    vfree(&self);
    return rc;
}

typedef struct {
    json_object *j;
    size_t size;
} build_t;

static int add_elem(ev_t *ev, void *ud, val_t *e, const char *key)
{
    build_t *b = ud;
    (void)key;
    int rc = gl__expr_arr_add_val(ev, b->j, &b->size, e);
    vfree(e);
    return rc;
}

static int add_member(ev_t *ev, void *ud, val_t *e, const char *key)
{
    build_t *b = ud;
    int rc = gl__expr_obj_add(ev, b->j, &b->size, key, gl__expr_vto_json(e), gl__expr_vsize(e));
    vfree(e);
    return rc;
}

static int eval_array(ev_t *ev, const node_t *nd, val_t *out)
{
    json_object *arr = json_object_new_array();
    size_t size = 16;
    for (size_t i = 0; i < nd->n; i++) {
        val_t v;
        const node_t *k = nd->kids[i];
        int rc = eval(ev, k->k == N_SPREAD ? k->a : k, &v);
        if (rc == GL_OK && k->k == N_SPREAD) {
            build_t b = { arr, size };
            rc = spread_each(ev, &v, false, add_elem, &b);
            size = b.size;
            vfree(&v);
        } else if (rc == GL_OK) {
            rc = gl__expr_arr_add_val(ev, arr, &size, &v);
            vfree(&v);
        }
        if (rc != GL_OK) {
            json_object_put(arr);
            return rc;
        }
    }
    *out = vown(V_ARR, arr, size);
    return GL_OK;
}

static int eval_object(ev_t *ev, const node_t *nd, val_t *out)
{
    json_object *obj = json_object_new_object();
    size_t size = 16;
    for (size_t i = 0; i < nd->n; i++) {
        val_t v;
        const node_t *k = nd->kids[i];
        int rc = eval(ev, k->k == N_SPREAD ? k->a : k, &v);
        if (rc == GL_OK && k->k == N_SPREAD) {
            build_t b = { obj, size };
            rc = spread_each(ev, &v, true, add_member, &b);
            size = b.size;
            vfree(&v);
            if (rc == GL_OK)
                continue;
        }
        if (rc == GL_OK && memchr(nd->keys[i], 0, nd->key_lens[i]))
            rc = gl__expr_fail(ev, "property names may not contain NUL");
        if (rc == GL_OK) {
            rc = gl__expr_obj_add(ev, obj, &size, nd->keys[i], gl__expr_vto_json(&v),
                                  gl__expr_vsize(&v));
            vfree(&v);
        }
        if (rc != GL_OK) {
            vfree(&v);
            json_object_put(obj);
            return rc;
        }
    }
    *out = vown(V_OBJ, obj, size);
    return GL_OK;
}

static int eval_template(ev_t *ev, const node_t *nd, val_t *out)
{
    gl_buf_t b;
    gl_buf_init(&b, ev->max_out);
    for (size_t i = 0; i < nd->n; i++) {
        val_t v;
        int rc = eval(ev, nd->kids[i], &v);
        if (rc == GL_OK) {
            rc = gl__expr_to_string(ev, &v, &b, 0);
            vfree(&v);
        }
        if (rc != GL_OK) {
            gl_buf_free(&b);
            return rc;
        }
    }
    return gl__expr_buf_val(&b, out);
}

static int eval_unary(ev_t *ev, const node_t *nd, val_t *out)
{
    val_t v;
    double d = 0;
    TRY(eval(ev, nd->a, &v));
    int rc = GL_OK;
    switch (nd->op) {
    case OP_NOT: *out = vbool(!gl__expr_vtruthy(&v)); break;
    case OP_TYPEOF: {
        const char *t = gl__expr_type_of(&v);
        *out = vstr_n(t, strlen(t));
        break;
    }
    case OP_VOID: *out = vmk(V_UNDEF); break;
    case OP_BNOT:
        rc = gl__expr_to_number(ev, &v, &d);
        *out = vnum((double)~to_int32(d));
        break;
    default:
        rc = gl__expr_to_number(ev, &v, &d);
        *out = vnum(nd->op == OP_NEG ? -d : d);
    }
    vfree(&v);
    return rc;
}

static int eval_logical(ev_t *ev, const node_t *nd, val_t *out)
{
    TRY(eval(ev, nd->a, out));
    bool take_left = nd->k == N_AND ? !gl__expr_vtruthy(out)
                     : nd->k == N_OR ? gl__expr_vtruthy(out)
                                     : !nullish(out);
    if (take_left)
        return GL_OK;
    vfree(out);
    return eval(ev, nd->b, out);
}

static int eval_node(ev_t *ev, const node_t *nd, val_t *out)
{
    val_t a, b;
    int rc;
    switch (nd->k) {
    case N_LIT:
        switch (nd->op) {
        case LIT_NULL: *out = vmk(V_NULL); break;
        case LIT_TRUE: *out = vbool(true); break;
        case LIT_FALSE: *out = vbool(false); break;
        case LIT_NUM: *out = vnum(nd->num); break;
        default: *out = vmk(V_UNDEF); break;
        }
        return GL_OK;
    case N_REGEX: return gl__expr_regex_lit(ev, nd->s, (size_t)nd->op, nd->s + nd->op + 1,
                                            nd->len - (size_t)nd->op - 1, out);
    case N_STR:
        if (nd->len > ev->max_out)
            return gl__expr_too_big(ev);
        TRY(gl__expr_charge_bytes(ev, nd->len));
        *out = vstr_n(nd->s, nd->len);
        return GL_OK;
    case N_TMPL: return eval_template(ev, nd, out);
    case N_ARR: return eval_array(ev, nd, out);
    case N_OBJ: return eval_object(ev, nd, out);
    case N_VAR: return var_value(ev, nd->op, out);
    case N_MEMBER:
    case N_INDEX: return eval_member(ev, nd, out);
    case N_CALL: return eval_call(ev, nd, out);
    case N_UNARY: return eval_unary(ev, nd, out);
    case N_AND:
    case N_OR:
    case N_NULLISH: return eval_logical(ev, nd, out);
    case N_COND:
        TRY(eval(ev, nd->a, &a));
        rc = eval(ev, gl__expr_vtruthy(&a) ? nd->b : nd->c, out);
        vfree(&a);
        return rc;
    case N_CHAIN:
        TRY(eval(ev, nd->a, out));
        if (out->k == V_SHORT)
            out->k = V_UNDEF;
        return GL_OK;
    case N_LOCAL: return eval_local(ev, nd, out);
    case N_NEW: return eval_new(ev, nd, out);
    case N_ARROW:
        return gl__expr_fail(ev, "a function is not a value: arrow functions can only be "
                                 "passed to methods such as map or filter");
    case N_BIN:
        TRY(eval(ev, nd->a, &a));
        if ((rc = eval(ev, nd->b, &b)) == GL_OK) {
            rc = eval_binary(ev, nd->op, &a, &b, out);
            vfree(&b);
        }
        vfree(&a);
        return rc;
    default: return gl__expr_fail(ev, "internal error: unknown node");
    }
}

static int eval(ev_t *ev, const node_t *nd, val_t *out)
{
    *out = vmk(V_UNDEF);
    TRY(gl__expr_charge(ev, 1));
    if (ev->depth >= 4 * ev->max_depth + 8)
        return gl__expr_fail(ev, "expression nested too deeply");
    ev->depth++;
    int rc = eval_node(ev, nd, out);
    ev->depth--;
    if (rc != GL_OK)
        vfree(out);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* The public API                                                           */

static const gl_expr_ctx_t empty_ctx;

static void ev_init(ev_t *ev, const gl_expr_ctx_t *ctx, gl_err_t *err)
{
    memset(ev, 0, sizeof *ev);
    ev->ctx = ctx;
    ev->err = err;
    ev->max_steps = ctx->limits.max_steps ? ctx->limits.max_steps : DEF_STEPS;
    ev->max_depth = ctx->limits.max_depth > 0 ? ctx->limits.max_depth : DEF_DEPTH;
    if (ev->max_depth > MAX_DEPTH_CAP) /* recursion uses the C stack */
        ev->max_depth = MAX_DEPTH_CAP;
    ev->max_out = ctx->limits.max_output ? ctx->limits.max_output : DEF_OUTPUT;
    if (ev->max_out > MAX_OUTPUT_CAP)
        ev->max_out = MAX_OUTPUT_CAP;
    /* the caller's deadline is wall clock; the evaluator reads the
     * monotonic clock, which no clock adjustment moves */
    if (ctx->limits.deadline_ms) {
        ev->deadline = gl_now_ms() + (ctx->limits.deadline_ms - gl_wall_ms());
        if (ev->deadline == 0) /* 0 means none */
            ev->deadline = -1;
    }
}

bool gl_expr_has(const char *s)
{
    const char *open = s ? strstr(s, "{{") : NULL;
    return open && strstr(open + 2, "}}");
}

int gl_expr_eval(const char *src, const gl_expr_ctx_t *ctx, json_object **out, gl_err_t *err)
{
    ev_t ev;
    *out = NULL;
    ev_init(&ev, ctx ? ctx : &empty_ctx, err);
    if (!src)
        return gl__expr_fail(&ev, "empty expression");
    if (strlen(src) > ev.max_out)
        return gl__expr_fail(&ev, "expression longer than %zu bytes", ev.max_out);
    gl_arena_t *arena = gl_arena_create(0);
    ps_t ps;
    gl__expr_ps_init(&ps, src, arena, ev.max_depth, err);
    node_t *root = gl__expr_parse_all(&ps);
    int rc = GL_INVALID;
    if (root) {
        val_t v;
        rc = eval(&ev, root, &v);
        if (rc == GL_OK && ev.calls) /* callbacks can build what the estimates miss */
            rc = gl__expr_check_value(&ev, &v);
        if (rc == GL_OK)
            *out = gl__expr_vto_json(&v);
        vfree(&v);
    }
    gl_arena_destroy(arena);
    return rc;
}

/* The string form of an interpolated value: strings as is, null and
 * undefined as nothing, arrays and objects as JSON text. */
static int interpolate(ev_t *ev, const val_t *v, gl_buf_t *b)
{
    bool defined;
    switch (v->k) {
    case V_UNDEF:
    case V_NULL:
    case V_SHORT: return GL_OK;
    case V_ARR:
    case V_OBJ:
    case V_NODE: return gl__expr_jw_val(ev, b, v, "", 0, &defined);
    case V_NS: return ns_is_function(v->ns) ? GL_OK : gl__expr_apps(ev, b, "{}");
    default: return gl__expr_to_string(ev, v, b, 0);
    }
}

static bool all_space(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strchr(" \t\r\n", s[i]))
            return false;
    return true;
}

/* Evaluates every {{ }} of tmpl (which has at least one). A template that
 * is one {{ }} and nothing else has its value, with its type; anything
 * around it, even a space, makes it text (as n8n: ' {{ 1 }}' is " 1"). */
static int render(const char *tmpl, ev_t *ev, json_object **out)
{
    gl_arena_t *arena = NULL; /* the trees of a template the cache does not keep */
    gl_buf_t b;
    val_t single = vmk(V_UNDEF);
    size_t i = 0, n_expr = 0, n = strlen(tmpl);
    bool alone = true;
    int rc = GL_OK;
    ps_t ps;
    if (n > ev->max_out)
        return gl__expr_fail(ev, "parameter longer than %zu bytes", ev->max_out);
    gl__tmpl_t *kept = gl__tmpl_hold(tmpl, n, ev->max_depth);
    if (!kept) {
        arena = gl_arena_create(0);
        gl__expr_ps_init(&ps, tmpl, arena, ev->max_depth, ev->err);
    }
    gl_buf_init(&b, ev->max_out);
    while (rc == GL_OK) {
        const char *open = strstr(tmpl + i, "{{");
        if (!open || !strstr(open + 2, "}}"))
            break;
        size_t at = (size_t)(open - tmpl), end = 0;
        alone = alone && at == i;
        if ((rc = gl__expr_app(ev, &b, tmpl + i, at - i)) != GL_OK)
            break;
        val_t v = vmk(V_UNDEF);
        const char *close = strstr(open + 2, "}}");
        if (all_space(open + 2, (size_t)(close - open - 2))) {
            end = (size_t)(close - tmpl) + 2; /* {{ }} is undefined */
        } else {
            node_t *root;
            if (kept) {
                root = gl__tmpl_part(kept, at, &end, ev->err);
            } else {
                ps.pos = at + 2;
                root = gl__expr_parse_embedded(&ps, &end);
            }
            if (!root) {
                rc = GL_INVALID;
                break;
            }
            ev->steps = 0; /* each {{ }} has the whole budget */
            if ((rc = eval(ev, root, &v)) != GL_OK)
                break;
        }
        if (++n_expr == 1)
            single = vdup(&v);
        rc = interpolate(ev, &v, &b);
        vfree(&v);
        i = end;
    }
    if (rc == GL_OK) {
        alone = alone && i == n;
        if (n_expr == 1 && alone)
            *out = gl__expr_vto_json(&single);
        else if ((rc = gl__expr_app(ev, &b, tmpl + i, n - i)) == GL_OK)
            *out = json_object_new_string_len(b.data ? b.data : "", (int)b.len);
    }
    vfree(&single);
    gl_buf_free(&b);
    gl__tmpl_release(kept);
    if (arena)
        gl_arena_destroy(arena);
    return rc;
}

int gl_expr_render(const char *tmpl, const gl_expr_ctx_t *ctx, json_object **out, gl_err_t *err)
{
    ev_t ev;
    *out = NULL;
    if (!gl_expr_has(tmpl)) {
        *out = json_object_new_string(tmpl ? tmpl : "");
        return GL_OK;
    }
    ev_init(&ev, ctx ? ctx : &empty_ctx, err);
    return render(tmpl, &ev, out);
}

static int render_rec(json_object *v, const gl_expr_ctx_t *ctx, json_object **out,
                      gl_err_t *err, int depth, char *path, size_t path_len)
{
    size_t cap = sizeof err->field;
    *out = NULL;
    if (depth > VALUE_DEPTH) {
        gl_err_set(err, "value nested too deeply");
        return GL_INVALID;
    }
    switch (json_object_get_type(v)) {
    case json_type_string: {
        const char *s = json_object_get_string(v);
        if (!gl_expr_has(s)) {
            *out = json_object_get(v);
            return GL_OK;
        }
        int rc = gl_expr_render(s, ctx, out, err);
        if (rc != GL_OK && err)
            snprintf(err->field, cap, "%s", path);
        return rc;
    }
    case json_type_array: {
        json_object *arr = json_object_new_array();
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            json_object *e;
            snprintf(path + path_len, cap - path_len, "[%zu]", i);
            size_t l = strlen(path);
            int rc = render_rec(json_object_array_get_idx(v, i), ctx, &e, err, depth + 1, path, l);
            path[path_len] = '\0';
            if (rc != GL_OK) {
                json_object_put(arr);
                return rc;
            }
            json_object_array_add(arr, e);
        }
        *out = arr;
        return GL_OK;
    }
    case json_type_object: {
        json_object *obj = json_object_new_object();
        struct json_object_iterator it = json_object_iter_begin(v);
        struct json_object_iterator end = json_object_iter_end(v);
        while (!json_object_iter_equal(&it, &end)) {
            const char *key = json_object_iter_peek_name(&it);
            json_object *e, *child = json_object_iter_peek_value(&it);
            json_object_iter_next(&it);
            snprintf(path + path_len, cap - path_len, "%s%s", path_len ? "." : "", key);
            size_t l = strlen(path);
            int rc = render_rec(child, ctx, &e, err, depth + 1, path, l);
            path[path_len] = '\0';
            if (rc != GL_OK) {
                json_object_put(obj);
                return rc;
            }
            json_object_object_add(obj, key, e);
        }
        *out = obj;
        return GL_OK;
    }
    default: *out = json_object_get(v); return GL_OK;
    }
}

int gl_expr_render_value(json_object *v, const gl_expr_ctx_t *ctx, json_object **out,
                         gl_err_t *err)
{
    char path[sizeof err->field] = "";
    return render_rec(v, ctx, out, err, 0, path, 0);
}

bool gl_expr_truthy(json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null: return false;
    case json_type_boolean: return json_object_get_boolean(v);
    case json_type_int:
    case json_type_double: {
        double d = json_object_get_double(v);
        return !(d == 0 || isnan(d));
    }
    case json_type_string: return json_object_get_string_len(v) > 0;
    default: return true;
    }
}
