/*
 * expr.c: the `{{ … }}` expression language (see engine.h, expressions for what it covers):
 * the public API and the evaluation of the syntax tree.
 *
 * Design. An expression is parsed by recursive descent (precedence climbing
 * for binary operators) into a tree allocated on an arena that lives for one
 * gl_expr_eval/render call; unknown variables and unsupported syntax
 * (assignment, `new`, loops, functions, regular expressions) are rejected
 * there, with a column. The tree is then walked by eval(), which produces
 * val_t values:
 *
 *   undefined, null, boolean, number (a double, as in JavaScript), string,
 *   array, object, DateTime (UTC milliseconds), a namespace or built-in
 *   function (Math, $input, parseInt…), a node reference ($("Name")).
 *
 * Strings, arrays and objects are json-c objects; a val_t owns one reference
 * to its json object and vfree() drops it, so data taken from the context is
 * shared, never copied. There are no function values: `a.b(…)` is a method
 * call dispatched on the type of `a` and the name `b`, `f(…)` a call of a
 * built-in global.
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
 *   expr_text.c   UTF-8 code points, numbers to and from text
 *   expr_value.c  values, budget and errors, coercions, operators
 *   expr_json.c   JSON text, building arrays/objects under the bound, JSON.*
 *   expr_lib.c    property access, method dispatch, arrays, objects, items
 *   expr_str.c    string methods
 *   expr_num.c    number methods, Math, Number, global functions
 *   expr_date.c   DateTime
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

static int var_value(ev_t *ev, int var, val_t *out)
{
    const gl_expr_ctx_t *c = ev->ctx;
    json_object *o;
    switch (var) {
    case VAR_JSON:
        *out = c->json ? gl__expr_vjson(c->json) : vown(V_OBJ, json_object_new_object(), 16);
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
    case VAR_NOW: return gl__expr_mk_date(ev, (double)c->now_ms, out);
    case VAR_TODAY:
        return gl__expr_mk_date(
            ev, (double)(gl_date_floor_div(c->now_ms, GL_DATE_MS_PER_DAY) * GL_DATE_MS_PER_DAY), out);
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

static int eval_call(ev_t *ev, const node_t *nd, val_t *out)
{
    const node_t *callee = nd->a;
    val_t self = vmk(V_UNDEF), args[MAX_ARGS] = { 0 }, key = vmk(V_UNDEF);
    const char *name = NULL;
    size_t name_len = 0, na = 0;
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
    } else {
        TRY(eval(ev, callee, &self));
        rc = gl__expr_fail(ev, "%s is not a function", gl__expr_vtype_name(&self));
        vfree(&self);
        return rc;
    }
    rc = GL_OK;
    for (; na < nd->n && rc == GL_OK; na++) {
        rc = eval(ev, nd->kids[na], &args[na]);
        if (rc != GL_OK)
            break;
        if (args[na].k == V_SHORT)
            args[na].k = V_UNDEF;
    }
    if (rc == GL_OK)
        rc = name ? gl__expr_call_method(ev, &self, name, name_len, args, na, out)
                  : gl__expr_global_fn(self.ns)(ev, &self, args, na, out);
    for (size_t i = 0; i < na; i++)
        vfree(&args[i]);
    if (name == ks.p && name)
        gl__expr_sv_free(&ks);
    vfree(&key);
    vfree(&self);
    return rc;
}

static int eval_array(ev_t *ev, const node_t *nd, val_t *out)
{
    json_object *arr = json_object_new_array();
    size_t size = 16;
    for (size_t i = 0; i < nd->n; i++) {
        val_t v;
        int rc = eval(ev, nd->kids[i], &v);
        if (rc == GL_OK) {
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
        int rc = eval(ev, nd->kids[i], &v);
        if (rc == GL_OK && memchr(nd->keys[i], 0, nd->key_lens[i]))
            rc = gl__expr_fail(ev, "property names may not contain NUL");
        if (rc == GL_OK) {
            rc = gl__expr_obj_add(ev, obj, &size, nd->keys[i], gl__expr_vto_json(&v),
                                  gl__expr_vsize(&v));
            vfree(&v);
        }
        if (rc != GL_OK) {
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
    case N_BIN:
        TRY(eval(ev, nd->a, &a));
        if ((rc = eval(ev, nd->b, &b)) == GL_OK) {
            rc = gl__expr_binary(ev, nd->op, &a, &b, out);
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
        if (rc == GL_OK) {
            *out = gl__expr_vto_json(&v);
            vfree(&v);
        }
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

/* Evaluates every {{ }} of tmpl (which has at least one). */
static int render(const char *tmpl, ev_t *ev, gl_arena_t *arena, json_object **out)
{
    gl_buf_t b;
    val_t single = vmk(V_UNDEF);
    size_t i = 0, n_expr = 0, n = strlen(tmpl);
    bool only_space = true;
    int rc = GL_OK;
    ps_t ps;
    if (n > ev->max_out)
        return gl__expr_fail(ev, "parameter longer than %zu bytes", ev->max_out);
    gl__expr_ps_init(&ps, tmpl, arena, ev->max_depth, ev->err);
    gl_buf_init(&b, ev->max_out);
    while (rc == GL_OK) {
        const char *open = strstr(tmpl + i, "{{");
        if (!open || !strstr(open + 2, "}}"))
            break;
        size_t at = (size_t)(open - tmpl), end = 0;
        only_space = only_space && all_space(tmpl + i, at - i);
        if ((rc = gl__expr_app(ev, &b, tmpl + i, at - i)) != GL_OK)
            break;
        val_t v = vmk(V_UNDEF);
        const char *close = strstr(open + 2, "}}");
        if (all_space(open + 2, (size_t)(close - open - 2))) {
            end = (size_t)(close - tmpl) + 2; /* {{ }} is undefined */
        } else {
            ps.pos = at + 2;
            node_t *root = gl__expr_parse_embedded(&ps, &end);
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
        only_space = only_space && all_space(tmpl + i, n - i);
        if (n_expr == 1 && only_space)
            *out = gl__expr_vto_json(&single);
        else if ((rc = gl__expr_app(ev, &b, tmpl + i, n - i)) == GL_OK)
            *out = json_object_new_string_len(b.data ? b.data : "", (int)b.len);
    }
    vfree(&single);
    gl_buf_free(&b);
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
    gl_arena_t *arena = gl_arena_create(0);
    int rc = render(tmpl, &ev, arena, out);
    gl_arena_destroy(arena);
    return rc;
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
