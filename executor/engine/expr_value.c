/*
 * expr_value.c: values and their coercions. A val_t owns one reference to
 * its json object (see expr_int.h); this file turns values into JSON, into
 * strings and numbers (ToString, ToNumber, ToPrimitive), compares them
 * (==, ===, <) and applies the binary operators, all under the evaluation
 * budget: steps (also for the bytes compared or converted), the deadline,
 * the output bound and the error context of ev_t.
 */
#include "expr_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *const gl__expr_var_names[VAR_COUNT] = {
    "$json", "$input", "$node", "$", "$execution", "$workflow", "$now", "$today", "$env",
    "$itemIndex", "Math", "JSON", "Object", "Array", "DateTime", "Number", "String",
    "Boolean", "parseInt", "parseFloat", "isNaN", "isFinite",
    "Date",
    "$if", "$ifEmpty", "$not", "$min", "$max", "$average", "$jmespath", "$item", "$items",
    "$runIndex", "$parameter", "$vars", "numberList", "zip",
    "$binary",
};

const val_t gl__expr_undef = { 0 };

/* A value for borrowed JSON data: containers and strings take a reference. */
val_t gl__expr_vjson(json_object *j)
{
    switch (json_object_get_type(j)) {
    case json_type_null: return vmk(V_NULL);
    case json_type_boolean: return vbool(json_object_get_boolean(j));
    case json_type_int:
    case json_type_double: return vnum(json_object_get_double(j));
    case json_type_string: return vown(V_STR, json_object_get(j), 0);
    case json_type_array: return vown(V_ARR, json_object_get(j), 0);
    case json_type_object: return vown(V_OBJ, json_object_get(j), 0);
    }
    return vmk(V_UNDEF);
}

/* Estimated JSON size, for the output bound. */
size_t gl__expr_vsize(const val_t *v)
{
    switch (v->k) {
    case V_STR: return sn(v) + 2;
    case V_ARR: return v->size ? v->size : 16 + 16 * json_object_array_length(v->j);
    case V_OBJ: return v->size ? v->size : 16 + 16 * (size_t)json_object_object_length(v->j);
    case V_DATE: return 26;
    default: return 8;
    }
}

static json_object *num_json(double d)
{
    if (!isfinite(d))
        return NULL;
    if (d == trunc(d) && fabs(d) <= MAX_SAFE)
        return json_object_new_int64((int64_t)d);
    char s[42];
    gl__expr_num_fmt(d, s);
    /* JavaScript writes integral values below 1e21 out in digits; past 64
     * bits that text would be an integer json-c clamps and the strict
     * parser refuses: ".0" keeps it the same double */
    size_t n = strlen(s);
    if (fabs(d) >= 9223372036854775808.0 && !strpbrk(s, ".e") && n + 2 < sizeof s)
        memcpy(s + n, ".0", 3);
    return json_object_new_double_s(d, s);
}

/* A new reference for JSON output (NULL for JSON null). */
json_object *gl__expr_vto_json(const val_t *v)
{
    switch (v->k) {
    case V_BOOL: return json_object_new_boolean(v->b);
    case V_NUM: return num_json(v->n);
    case V_STR:
    case V_ARR:
    case V_OBJ: return json_object_get(v->j);
    case V_DATE: return gl__expr_date_json(v);
    case V_NS: return ns_is_function(v->ns) ? NULL : json_object_new_object();
    case V_NODE:
    case V_REGEX: return json_object_new_object();
    default: return NULL;
    }
}

bool gl__expr_vtruthy(const val_t *v)
{
    switch (v->k) {
    case V_UNDEF:
    case V_NULL:
    case V_SHORT: return false;
    case V_BOOL: return v->b;
    case V_NUM: return !(v->n == 0 || isnan(v->n));
    case V_STR: return sn(v) > 0;
    default: return true;
    }
}

const char *gl__expr_vtype_name(const val_t *v)
{
    switch (v->k) {
    case V_UNDEF: return "undefined";
    case V_NULL: return "null";
    case V_BOOL: return "a boolean";
    case V_NUM: return "a number";
    case V_STR: return "a string";
    case V_ARR: return "an array";
    case V_OBJ: return "an object";
    case V_DATE: return gl__expr_date_type_name(v);
    case V_REGEX: return "a RegExp";
    case V_NS: return ns_is_function(v->ns) ? "a function" : "an object";
    default: return "an object";
    }
}

int gl__expr_fail(ev_t *ev, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    gl_err_set(ev->err, "%s", msg);
    return GL_INVALID;
}

int gl__expr_too_big(ev_t *ev)
{
    return gl__expr_fail(ev, "expression result exceeds %zu bytes", ev->max_out);
}

/* The step count is the budget; the clock, read every CLOCK_EVERY steps
 * (and whenever one charge spans that many), is the safety net for a
 * builtin whose charge would not match its work. A charge is made before
 * the work it pays for, so the work between two looks at the clock is
 * bounded by CLOCK_EVERY steps plus one call's charge. */
int gl__expr_charge(ev_t *ev, size_t n)
{
    if (n > ev->max_steps - ev->steps) {
        ev->steps = ev->max_steps;
        return gl__expr_fail(ev, "expression exceeds %zu steps", ev->max_steps);
    }
    ev->steps += n;
    if (n < ev->clock_left) {
        ev->clock_left -= n;
        return GL_OK;
    }
    ev->clock_left = CLOCK_EVERY;
    if (ev->deadline && gl_now_ms() >= ev->deadline) {
        ev->clock_left = 0; /* and at every later charge */
        return gl__expr_fail(ev, "expression exceeded its time budget");
    }
    return GL_OK;
}

int gl__expr_charge_bytes(ev_t *ev, size_t n)
{
    size_t steps = n / BYTES_PER_STEP;
    ev->bytes += n % BYTES_PER_STEP;
    if (ev->bytes >= BYTES_PER_STEP) {
        ev->bytes -= BYTES_PER_STEP;
        steps++;
    }
    return steps ? gl__expr_charge(ev, steps) : GL_OK;
}

int gl__expr_charge_pass(ev_t *ev, size_t n)
{
    return gl__expr_charge(ev, 1 + n / BYTES_PER_STEP);
}

int gl__expr_app(ev_t *ev, gl_buf_t *b, const char *p, size_t n)
{
    TRY(gl__expr_charge_bytes(ev, n));
    return gl_buf_append(b, p, n) == GL_OK ? GL_OK : gl__expr_too_big(ev);
}

int gl__expr_apps(ev_t *ev, gl_buf_t *b, const char *s)
{
    return gl__expr_app(ev, b, s, strlen(s));
}

/* Hands the buffer's text over as a string value and frees the buffer. */
int gl__expr_buf_val(gl_buf_t *b, val_t *out)
{
    *out = vstr_n(b->data ? b->data : "", b->len);
    gl_buf_free(b);
    return GL_OK;
}

/* JavaScript's ToString, appended to b. */
int gl__expr_to_string(ev_t *ev, const val_t *v, gl_buf_t *b, int depth)
{
    char tmp[40];
    switch (v->k) {
    case V_UNDEF:
    case V_SHORT: return gl__expr_apps(ev, b, "undefined");
    case V_NULL: return gl__expr_apps(ev, b, "null");
    case V_BOOL: return gl__expr_apps(ev, b, v->b ? "true" : "false");
    case V_NUM: gl__expr_num_fmt(v->n, tmp); return gl__expr_apps(ev, b, tmp);
    case V_STR: return gl__expr_app(ev, b, sp(v), sn(v));
    case V_DATE: return gl__expr_date_to_string(ev, v, b);
    case V_ARR: return gl__expr_arr_join(ev, v->j, ",", 1, b, depth);
    case V_REGEX: return gl__expr_regex_to_string(ev, v, b);
    case V_NS:
        if (ns_is_function(v->ns)) {
            TRY(gl__expr_apps(ev, b, "function "));
            TRY(gl__expr_apps(ev, b, gl__expr_var_names[v->ns]));
            return gl__expr_apps(ev, b, "() { [native code] }");
        }
        return gl__expr_apps(ev, b, "[object Object]");
    default: return gl__expr_apps(ev, b, "[object Object]");
    }
}

int gl__expr_arr_join(ev_t *ev, json_object *arr, const char *sep, size_t sep_n, gl_buf_t *b,
                      int depth)
{
    if (depth > VALUE_DEPTH)
        return gl__expr_fail(ev, "value nested too deeply");
    size_t n = json_object_array_length(arr);
    for (size_t i = 0; i < n; i++) {
        TRY(gl__expr_charge(ev, 1));
        if (i)
            TRY(gl__expr_app(ev, b, sep, sep_n));
        val_t e = gl__expr_vjson(json_object_array_get_idx(arr, i));
        int rc = nullish(&e) ? GL_OK : gl__expr_to_string(ev, &e, b, depth + 1);
        vfree(&e);
        if (rc != GL_OK)
            return rc;
    }
    return GL_OK;
}

int gl__expr_to_sv(ev_t *ev, const val_t *v, sv_t *s)
{
    gl_buf_init(&s->buf, ev->max_out);
    if (v->k == V_STR) {
        s->p = sp(v);
        s->n = sn(v);
        return GL_OK;
    }
    int rc = gl__expr_to_string(ev, v, &s->buf, 0);
    if (rc != GL_OK) {
        gl_buf_free(&s->buf);
        return rc;
    }
    if (gl_buf_append(&s->buf, "", 0) != GL_OK) { /* make sure data is allocated */
        gl_buf_free(&s->buf);
        return gl__expr_too_big(ev);
    }
    s->p = s->buf.data;
    s->n = s->buf.len;
    return GL_OK;
}

int gl__expr_str_arg(ev_t *ev, const val_t *a, size_t na, size_t i, const char *def, sv_t *s)
{
    const val_t *v = arg(a, na, i);
    if (v->k == V_UNDEF) {
        gl_buf_init(&s->buf, 0);
        s->p = def;
        s->n = strlen(def);
        return GL_OK;
    }
    return gl__expr_to_sv(ev, v, s);
}

void gl__expr_sv_free(sv_t *s)
{
    gl_buf_free(&s->buf);
}

int gl__expr_to_number(ev_t *ev, const val_t *v, double *d)
{
    switch (v->k) {
    case V_NULL: *d = 0; return GL_OK;
    case V_BOOL: *d = v->b ? 1 : 0; return GL_OK;
    case V_NUM: *d = v->n; return GL_OK;
    case V_STR:
        TRY(gl__expr_charge_bytes(ev, sn(v)));
        *d = gl__expr_str_to_num(sp(v), sn(v));
        return GL_OK;
    case V_DATE: *d = gl__expr_date_num(v); return GL_OK;
    case V_ARR: {
        sv_t s;
        TRY(gl__expr_to_sv(ev, v, &s));
        *d = gl__expr_str_to_num(s.p, s.n);
        gl__expr_sv_free(&s);
        return GL_OK;
    }
    default: *d = NAN; return GL_OK;
    }
}

int gl__expr_num_arg(ev_t *ev, const val_t *args, size_t nargs, size_t i, double def, double *d)
{
    const val_t *v = arg(args, nargs, i);
    if (v->k == V_UNDEF) {
        *d = def;
        return GL_OK;
    }
    return gl__expr_to_number(ev, v, d);
}

/* ToPrimitive: arrays and objects become strings, DateTimes numbers. */
static int to_prim(ev_t *ev, const val_t *v, val_t *out)
{
    if (v->k == V_DATE) {
        *out = vnum(gl__expr_date_num(v));
        return GL_OK;
    }
    if (v->k == V_ARR || v->k == V_OBJ || v->k == V_NS || v->k == V_NODE || v->k == V_REGEX) {
        gl_buf_t b;
        gl_buf_init(&b, ev->max_out);
        int rc = gl__expr_to_string(ev, v, &b, 0);
        if (rc != GL_OK) {
            gl_buf_free(&b);
            return rc;
        }
        return gl__expr_buf_val(&b, out);
    }
    *out = vdup(v);
    return GL_OK;
}

bool gl__expr_strict_eq(const val_t *a, const val_t *b)
{
    if (a->k != b->k)
        return nullish(a) && nullish(b) && a->k != V_NULL && b->k != V_NULL;
    switch (a->k) {
    case V_BOOL: return a->b == b->b;
    case V_NUM: return a->n == b->n;
    case V_STR: return sn(a) == sn(b) && memcmp(sp(a), sp(b), sn(a)) == 0;
    case V_DATE: return a->ms == b->ms;
    case V_NS: return a->ns == b->ns;
    case V_ARR:
    case V_OBJ:
    case V_NODE:
    case V_REGEX: return a->j == b->j;
    default: return true;
    }
}

/* Charges the bytes gl__expr_strict_eq(a, b) compares. */
int gl__expr_charge_eq(ev_t *ev, const val_t *a, const val_t *b)
{
    if (a->k == V_STR && b->k == V_STR && sn(a) == sn(b))
        return gl__expr_charge_bytes(ev, sn(a));
    return GL_OK;
}

static bool is_objlike(const val_t *v)
{
    return v->k == V_ARR || v->k == V_OBJ || v->k == V_DATE || v->k == V_NS || v->k == V_NODE ||
           v->k == V_REGEX;
}

/* JavaScript's IsLooselyEqual (==). */
static int loose_eq(ev_t *ev, const val_t *a, const val_t *b, bool *res, int depth)
{
    if (a->k == b->k || (nullish(a) && nullish(b))) {
        TRY(gl__expr_charge_eq(ev, a, b));
        *res = nullish(a) ? nullish(b) : gl__expr_strict_eq(a, b);
        return GL_OK;
    }
    if (nullish(a) || nullish(b) || depth > 4) {
        *res = false;
        return GL_OK;
    }
    if (a->k == V_NUM && b->k == V_STR) {
        TRY(gl__expr_charge_bytes(ev, sn(b)));
        *res = a->n == gl__expr_str_to_num(sp(b), sn(b));
        return GL_OK;
    }
    if (a->k == V_STR && b->k == V_NUM)
        return loose_eq(ev, b, a, res, depth + 1);
    if (a->k == V_BOOL) {
        val_t n = vnum(a->b ? 1 : 0);
        return loose_eq(ev, &n, b, res, depth + 1);
    }
    if (b->k == V_BOOL) {
        val_t n = vnum(b->b ? 1 : 0);
        return loose_eq(ev, a, &n, res, depth + 1);
    }
    if (is_objlike(a) != is_objlike(b)) {
        const val_t *o = is_objlike(a) ? a : b, *p = is_objlike(a) ? b : a;
        val_t prim;
        TRY(to_prim(ev, o, &prim));
        int rc = loose_eq(ev, &prim, p, res, depth + 1);
        vfree(&prim);
        return rc;
    }
    *res = false;
    return GL_OK;
}

static int byte_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    return c ? c : (an < bn ? -1 : an > bn);
}

/* Both operands to primitives (*pa and *pb, freed by the caller with
 * vfree), or neither on failure. */
static int to_prims(ev_t *ev, const val_t *a, const val_t *b, val_t *pa, val_t *pb)
{
    TRY(to_prim(ev, a, pa));
    int rc = to_prim(ev, b, pb);
    if (rc != GL_OK)
        vfree(pa);
    return rc;
}

static int relational(ev_t *ev, int op, const val_t *a, const val_t *b, val_t *out)
{
    val_t pa, pb;
    TRY(to_prims(ev, a, b, &pa, &pb));
    int rc = GL_OK;
    bool res = false;
    if (pa.k == V_STR && pb.k == V_STR) {
        rc = gl__expr_charge_pass(ev, sn(&pa) < sn(&pb) ? sn(&pa) : sn(&pb));
        int c = rc == GL_OK ? byte_cmp(sp(&pa), sn(&pa), sp(&pb), sn(&pb)) : 0;
        res = op == OP_LT ? c < 0 : op == OP_LE ? c <= 0 : op == OP_GT ? c > 0 : c >= 0;
    } else {
        double x = 0, y = 0;
        if ((rc = gl__expr_to_number(ev, &pa, &x)) == GL_OK)
            rc = gl__expr_to_number(ev, &pb, &y);
        res = op == OP_LT ? x < y : op == OP_LE ? x <= y : op == OP_GT ? x > y : x >= y;
    }
    vfree(&pa);
    vfree(&pb);
    *out = vbool(res);
    return rc;
}

static int add(ev_t *ev, const val_t *a, const val_t *b, val_t *out)
{
    val_t pa, pb;
    TRY(to_prims(ev, a, b, &pa, &pb));
    int rc = GL_OK;
    if (pa.k == V_STR || pb.k == V_STR) {
        gl_buf_t buf;
        gl_buf_init(&buf, ev->max_out);
        rc = gl__expr_to_string(ev, &pa, &buf, 0);
        if (rc == GL_OK)
            rc = gl__expr_to_string(ev, &pb, &buf, 0);
        if (rc == GL_OK)
            rc = gl__expr_buf_val(&buf, out);
        else
            gl_buf_free(&buf);
    } else {
        double x = 0, y = 0;
        if ((rc = gl__expr_to_number(ev, &pa, &x)) == GL_OK)
            rc = gl__expr_to_number(ev, &pb, &y);
        *out = vnum(x + y);
    }
    vfree(&pa);
    vfree(&pb);
    return rc;
}

int gl__expr_binary(ev_t *ev, int op, const val_t *a, const val_t *b, val_t *out)
{
    double x, y;
    bool eq;
    switch (op) {
    case OP_ADD: return add(ev, a, b, out);
    case OP_LT:
    case OP_LE:
    case OP_GT:
    case OP_GE: return relational(ev, op, a, b, out);
    case OP_EQ:
    case OP_NE:
        TRY(loose_eq(ev, a, b, &eq, 0));
        *out = vbool(op == OP_EQ ? eq : !eq);
        return GL_OK;
    case OP_SEQ:
    case OP_SNE:
        TRY(gl__expr_charge_eq(ev, a, b));
        eq = gl__expr_strict_eq(a, b);
        *out = vbool(op == OP_SEQ ? eq : !eq);
        return GL_OK;
    default: break;
    }
    TRY(gl__expr_to_number(ev, a, &x));
    TRY(gl__expr_to_number(ev, b, &y));
    switch (op) {
    case OP_SUB: *out = vnum(x - y); break;
    case OP_MUL: *out = vnum(x * y); break;
    case OP_DIV: *out = vnum(x / y); break;
    default: *out = vnum(isinf(y) && isfinite(x) ? x : fmod(x, y)); break;
    }
    return GL_OK;
}

const char *gl__expr_type_of(const val_t *v)
{
    switch (v->k) {
    case V_UNDEF:
    case V_SHORT: return "undefined";
    case V_BOOL: return "boolean";
    case V_NUM: return "number";
    case V_STR: return "string";
    case V_NS: return ns_is_function(v->ns) ? "function" : "object";
    default: return "object";
    }
}
