/*
 * expr_lib.c: property access and method dispatch, with the library parts
 * that are about data rather than text or numbers: arrays, objects and
 * booleans, Object.keys/values/entries, Array.isArray, and the n8n item
 * helpers ($input, $node, $("Name")). `a.b(…)` is looked up here by the
 * receiver's type and the name `b` in the tables the other library files
 * export; the array methods taking a callback (map, filter, reduce, sort…)
 * call it through gl__expr_call_fn (expr.c).
 */
#include "expr_int.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>

json_object *gl__expr_item_binary(json_object *item)
{
    json_object *bin = NULL;
    if (json_object_is_type(item, json_type_object) && json_object_object_get_ex(item, GL_BINARY_KEY, &bin) &&
        json_object_is_type(bin, json_type_object))
        return bin;
    return NULL;
}

/* {json: item, binary: item's "$binary"}: the n8n item wrapper around
 * borrowed data; binary only when the item has some, as in n8n (json
 * keeps the reserved "$binary" key: $json is the item unchanged). */
json_object *gl__expr_wrap_item(json_object *item)
{
    json_object *o = json_object_new_object(), *bin = gl__expr_item_binary(item);
    json_object_object_add(o, "json", json_object_get(item));
    if (bin)
        json_object_object_add(o, "binary", json_object_get(bin));
    return o;
}

static val_t vwrap(json_object *item)
{
    return vown(V_OBJ, gl__expr_wrap_item(item), 16 + gl__expr_json_size(item));
}

/* [{json: item}, …] for a borrowed array of items. */
static int wrap_all(ev_t *ev, json_object *items, val_t *out)
{
    size_t n = json_object_array_length(items), size = 16;
    TRY(gl__expr_charge(ev, n));
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        json_object *item = json_object_array_get_idx(items, i);
        int rc = gl__expr_arr_add(ev, arr, &size, gl__expr_wrap_item(item), 24 + gl__expr_json_size(item));
        if (rc != GL_OK) {
            json_object_put(arr);
            return rc;
        }
    }
    *out = vown(V_ARR, arr, size);
    return GL_OK;
}

/* ------------------------------------------------------------------------ */
/* Property access                                                          */

/* Canonical array index: "0", "17"; not "01", "-1", "1.5". */
bool gl__expr_array_index(const char *s, size_t n, size_t *idx)
{
    if (n == 0 || n > 15 || (n > 1 && s[0] == '0'))
        return false;
    size_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(s[i]))
            return false;
        v = v * 10 + (size_t)(s[i] - '0');
    }
    *idx = v;
    return true;
}

static int no_such_node(ev_t *ev, const char *name)
{
    return gl__expr_fail(ev, "node '%.80s' does not exist or has not run", name);
}

/* The node's items, or NULL (also when the budget ran out: *rc says). */
static json_object *node_lookup(ev_t *ev, const char *name, size_t len, int *rc)
{
    if ((*rc = gl__expr_charge_pass(ev, len)) != GL_OK)
        return NULL;
    if (!ev->ctx->node_items || memchr(name, 0, len))
        return NULL;
    return ev->ctx->node_items(ev->ctx->ud, name);
}

static int ns_prop(ev_t *ev, const val_t *o, const char *name, size_t len, val_t *out)
{
    *out = vmk(V_UNDEF);
    switch (o->ns) {
    case VAR_MATH:
        if (name_is(name, len, "PI"))
            *out = vnum(M_PI);
        else if (name_is(name, len, "E"))
            *out = vnum(M_E);
        return GL_OK;
    case VAR_NUMBER:
        if (name_is(name, len, "MAX_SAFE_INTEGER"))
            *out = vnum(MAX_SAFE - 1);
        else if (name_is(name, len, "MIN_SAFE_INTEGER"))
            *out = vnum(-(MAX_SAFE - 1));
        else if (name_is(name, len, "EPSILON"))
            *out = vnum(2.220446049250313e-16);
        return GL_OK;
    case VAR_DATETIME: return gl__expr_date_ns_prop(ev, o->ns, name, len, out);
    case VAR_INPUT:
        if (name_is(name, len, "item") && ev->ctx->json) {
            *out = vwrap(ev->ctx->json);
        } else if (name_is(name, len, "item")) { /* $json is {} when there is no item */
            json_object *item = json_object_new_object();
            json_object_object_add(item, "json", json_object_new_object());
            *out = vown(V_OBJ, item, 32);
        }
        return GL_OK;
    case VAR_NODE: {
        int rc;
        json_object *items = node_lookup(ev, name, len, &rc);
        TRY(rc);
        if (!items)
            return no_such_node(ev, name);
        if (json_object_array_length(items) == 0)
            return gl__expr_fail(ev, "node '%.80s' has no output items", name);
        *out = vwrap(json_object_array_get_idx(items, 0));
        return GL_OK;
    }
    default: return GL_OK;
    }
}

/* $("Name").item: the item at $itemIndex, or the only item (n8n's paired
 * item for the common one-to-one and one-to-many flows). */
static int node_item(ev_t *ev, const val_t *o, val_t *out)
{
    size_t n = json_object_array_length(o->j);
    int64_t idx = ev->ctx->item_index;
    if (idx >= 0 && (size_t)idx < n)
        *out = vwrap(json_object_array_get_idx(o->j, (size_t)idx));
    else if (n == 1)
        *out = vwrap(json_object_array_get_idx(o->j, 0));
    else
        return gl__expr_fail(ev, "node '%.80s' has no item at index %" PRId64,
                             json_object_get_string(o->aux), idx);
    return GL_OK;
}

int gl__expr_get_prop(ev_t *ev, const val_t *o, const char *name, size_t len, val_t *out)
{
    size_t idx;
    *out = vmk(V_UNDEF);
    switch (o->k) {
    case V_UNDEF:
    case V_NULL:
    case V_SHORT:
        return gl__expr_fail(ev, "Cannot read properties of %s (reading '%.*s')",
                             o->k == V_NULL ? "null" : "undefined", (int)(len > 60 ? 60 : len),
                             name);
    case V_STR: {
        TRY(gl__expr_charge_pass(ev, sn(o)));
        if (name_is(name, len, "length")) {
            *out = vnum((double)gl_utf8_count(sp(o), sn(o)));
        } else if (gl__expr_array_index(name, len, &idx)) {
            size_t at = gl_utf8_offset(sp(o), sn(o), idx);
            if (at < sn(o)) {
                uint32_t cp;
                *out = vstr_n(sp(o) + at, gl_utf8_decode(sp(o), sn(o), at, &cp));
            }
        }
        return GL_OK;
    }
    case V_ARR:
        if (gl__expr_regex_arr_prop(o, name, len, out))
            return GL_OK;
        if (name_is(name, len, "length"))
            *out = vnum((double)json_object_array_length(o->j));
        else if (gl__expr_array_index(name, len, &idx) && idx < json_object_array_length(o->j))
            *out = gl__expr_vjson(json_object_array_get_idx(o->j, idx));
        return GL_OK;
    case V_OBJ: {
        json_object *child;
        TRY(gl__expr_charge_bytes(ev, len)); /* the key is hashed and compared */
        if (!memchr(name, 0, len) && json_object_object_get_ex(o->j, name, &child))
            *out = gl__expr_vjson(child);
        return GL_OK;
    }
    case V_DATE: return gl__expr_date_field(ev, o, name, len, out);
    case V_NS: return ns_prop(ev, o, name, len, out);
    case V_REGEX: return gl__expr_regex_prop(ev, o, name, len, out);
    case V_NODE:
        if (name_is(name, len, "item"))
            return node_item(ev, o, out);
        if (name_is(name, len, "isExecuted"))
            *out = vbool(true);
        return GL_OK;
    default: return GL_OK;
    }
}

/* The property name a computed key stands for. */
int gl__expr_key_sv(ev_t *ev, const val_t *key, sv_t *s)
{
    return gl__expr_to_sv(ev, key, s);
}

/* ------------------------------------------------------------------------ */
/* The library: methods are looked up by receiver type and name             */

static method_fn find_method(const methods_t *t, const char *name, size_t len)
{
    for (size_t i = 0; i < t->n; i++)
        if (name_is(name, len, t->v[i].name))
            return t->v[i].fn;
    return NULL;
}

/* Arrays */

static json_object *elem(const val_t *self, size_t i)
{
    return json_object_array_get_idx(self->j, i);
}

static size_t alen(const val_t *self)
{
    return json_object_array_length(self->j);
}

static int a_join(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    sv_t sep = { ",", 1, { 0 } };
    gl_buf_init(&sep.buf, 0);
    if (arg(a, na, 0)->k != V_UNDEF)
        TRY(gl__expr_to_sv(ev, arg(a, na, 0), &sep));
    gl_buf_t b;
    gl_buf_init(&b, ev->max_out);
    int rc = gl__expr_arr_join(ev, self->j, sep.p, sep.n, &b, 0);
    gl__expr_sv_free(&sep);
    if (rc != GL_OK) {
        gl_buf_free(&b);
        return rc;
    }
    return gl__expr_buf_val(&b, out);
}

static int a_to_string(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)a, (void)na;
    return a_join(ev, self, NULL, 0, out);
}

/* indexOf (mode 0), lastIndexOf (1), includes (2, SameValueZero). */
static int a_search(ev_t *ev, const val_t *self, const val_t *a, size_t na, int mode, val_t *out)
{
    size_t n = alen(self), first, count;
    double from;
    TRY(gl__expr_num_arg(ev, a, na, 1, mode == 1 ? INFINITY : 0, &from));
    from = isnan(from) ? 0 : trunc(from);
    if (mode != 1) {
        first = gl__expr_rel_idx(from, n);
        count = n - first;
    } else { /* backwards from min(from, n - 1), or n + from when negative */
        double k = from >= 0 ? fmin(from, (double)n - 1) : (double)n + from;
        first = k < 0 ? 0 : (size_t)k;
        count = k < 0 ? 0 : first + 1;
    }
    const val_t *x = arg(a, na, 0);
    double found = -1;
    for (size_t k = 0; k < count; k++) {
        size_t i = mode == 1 ? first - k : first + k;
        TRY(gl__expr_charge(ev, 1));
        val_t e = gl__expr_vjson(elem(self, i));
        int rc = gl__expr_charge_eq(ev, &e, x);
        if (rc != GL_OK) {
            vfree(&e);
            return rc;
        }
        bool eq = gl__expr_strict_eq(&e, x) ||
                  (mode == 2 && e.k == V_NUM && x->k == V_NUM && isnan(e.n) && isnan(x->n));
        vfree(&e);
        if (eq) {
            found = (double)i;
            break;
        }
    }
    *out = mode == 2 ? vbool(found >= 0) : vnum(found);
    return GL_OK;
}

static int a_index_of(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    return a_search(ev, self, a, na, 0, out);
}

static int a_last_index_of(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    return a_search(ev, self, a, na, 1, out);
}

static int a_includes(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    return a_search(ev, self, a, na, 2, out);
}

/* A new array of self's elements [from, to), reversed when rev. */
static int a_copy(ev_t *ev, const val_t *self, size_t from, size_t to, bool rev, val_t *out)
{
    size_t size = 16;
    json_object *arr = json_object_new_array();
    for (size_t k = from; k < to; k++) {
        json_object *e = elem(self, rev ? to - 1 - (k - from) : k);
        int rc = gl__expr_charge(ev, 1);
        if (rc == GL_OK)
            rc = gl__expr_arr_add(ev, arr, &size, json_object_get(e), gl__expr_json_size(e));
        if (rc != GL_OK) {
            json_object_put(arr);
            return rc;
        }
    }
    *out = vown(V_ARR, arr, size);
    return GL_OK;
}

static int a_slice(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    double s, e;
    TRY(gl__expr_num_arg(ev, a, na, 0, 0, &s));
    TRY(gl__expr_num_arg(ev, a, na, 1, INFINITY, &e));
    size_t from = gl__expr_rel_idx(s, alen(self)), to = gl__expr_rel_idx(e, alen(self));
    return a_copy(ev, self, from, from < to ? to : from, false, out);
}

static int a_reverse(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)a, (void)na;
    return a_copy(ev, self, 0, alen(self), true, out);
}

static int a_concat(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    TRY(a_copy(ev, self, 0, alen(self), false, out));
    int rc = GL_OK;
    for (size_t i = 0; rc == GL_OK && i < na; i++) {
        if (a[i].k != V_ARR) {
            rc = gl__expr_arr_add_val(ev, out->j, &out->size, &a[i]);
            continue;
        }
        for (size_t k = 0; rc == GL_OK && k < alen(&a[i]); k++) {
            json_object *e = elem(&a[i], k);
            rc = gl__expr_charge(ev, 1);
            if (rc == GL_OK)
                rc = gl__expr_arr_add(ev, out->j, &out->size, json_object_get(e),
                                      gl__expr_json_size(e));
        }
    }
    if (rc != GL_OK)
        vfree(out);
    return rc;
}

static int a_first(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)ev, (void)a, (void)na;
    *out = alen(self) ? gl__expr_vjson(elem(self, 0)) : vmk(V_UNDEF);
    return GL_OK;
}

static int a_last(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)ev, (void)a, (void)na;
    *out = alen(self) ? gl__expr_vjson(elem(self, alen(self) - 1)) : vmk(V_UNDEF);
    return GL_OK;
}

static int a_at(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    double i;
    TRY(gl__expr_num_arg(ev, a, na, 0, 0, &i));
    i = isnan(i) ? 0 : trunc(i);
    if (i < 0)
        i += (double)alen(self);
    *out = i >= 0 && i < (double)alen(self) ? gl__expr_vjson(elem(self, (size_t)i)) : vmk(V_UNDEF);
    return GL_OK;
}

/* Methods taking a callback (an arrow function or a built-in function such
 * as Number): fn(value, index, array), JavaScript's semantics. Each call is
 * charged by gl__expr_call_fn; the results are built under the bound. */

static int need_fn(ev_t *ev, const val_t *a, size_t na, const char *method)
{
    const val_t *fn = arg(a, na, 0);
    if (gl__expr_is_fn(fn))
        return GL_OK;
    return gl__expr_fail(ev, "%s is not a function (in Array.%s)",
                         fn->k == V_UNDEF ? "undefined" : gl__expr_vtype_name(fn), method);
}

/* fn(self[i], i, self) */
static int call_at(ev_t *ev, const val_t *fn, const val_t *self, size_t i, val_t *out)
{
    val_t args[3] = { gl__expr_vjson(elem(self, i)), vnum((double)i), *self };
    int rc = gl__expr_call_fn(ev, fn, args, 3, out);
    vfree(&args[0]);
    return rc;
}

/* fn(self[i], i, self) is truthy */
static int test_at(ev_t *ev, const val_t *fn, const val_t *self, size_t i, bool *t)
{
    val_t r;
    TRY(call_at(ev, fn, self, i, &r));
    *t = gl__expr_vtruthy(&r);
    vfree(&r);
    return GL_OK;
}

enum { CB_MAP, CB_FILTER, CB_FLATMAP, CB_FOREACH };

static int a_build(ev_t *ev, const val_t *self, const val_t *a, size_t na, int mode, val_t *out)
{
    static const char *const names[] = { "map", "filter", "flatMap", "forEach" };
    TRY(need_fn(ev, a, na, names[mode]));
    json_object *arr = json_object_new_array();
    size_t size = 16, n = alen(self);
    int rc = GL_OK;
    for (size_t i = 0; rc == GL_OK && i < n; i++) {
        val_t r;
        if ((rc = call_at(ev, &a[0], self, i, &r)) != GL_OK)
            break;
        if (mode == CB_MAP) {
            rc = gl__expr_arr_add_val(ev, arr, &size, &r);
        } else if (mode == CB_FILTER) {
            json_object *e = elem(self, i);
            if (gl__expr_vtruthy(&r))
                rc = gl__expr_arr_add(ev, arr, &size, json_object_get(e), gl__expr_json_size(e));
        } else if (mode == CB_FLATMAP && r.k == V_ARR) {
            for (size_t k = 0; rc == GL_OK && k < alen(&r); k++) {
                json_object *e = elem(&r, k);
                if ((rc = gl__expr_charge(ev, 1)) == GL_OK)
                    rc = gl__expr_arr_add(ev, arr, &size, json_object_get(e),
                                          gl__expr_json_size(e));
            }
        } else if (mode == CB_FLATMAP) {
            rc = gl__expr_arr_add_val(ev, arr, &size, &r);
        }
        vfree(&r);
    }
    if (rc != GL_OK || mode == CB_FOREACH) {
        json_object_put(arr);
        *out = vmk(V_UNDEF);
        return rc;
    }
    *out = vown(V_ARR, arr, size);
    return GL_OK;
}

static int a_map(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    return a_build(ev, self, a, na, CB_MAP, out);
}

static int a_filter(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    return a_build(ev, self, a, na, CB_FILTER, out);
}

static int a_flat_map(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    return a_build(ev, self, a, na, CB_FLATMAP, out);
}

static int a_for_each(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    return a_build(ev, self, a, na, CB_FOREACH, out);
}

enum { F_FIND, F_FINDINDEX, F_FINDLAST, F_FINDLASTINDEX, F_SOME, F_EVERY };

static int a_find_any(ev_t *ev, const val_t *self, const val_t *a, size_t na, int mode, val_t *out)
{
    static const char *const names[] = { "find", "findIndex", "findLast", "findLastIndex",
                                         "some", "every" };
    TRY(need_fn(ev, a, na, names[mode]));
    size_t n = alen(self);
    bool back = mode == F_FINDLAST || mode == F_FINDLASTINDEX;
    for (size_t k = 0; k < n; k++) {
        size_t i = back ? n - 1 - k : k;
        bool t;
        TRY(test_at(ev, &a[0], self, i, &t));
        if (mode == F_EVERY ? t : !t)
            continue;
        switch (mode) {
        case F_FIND:
        case F_FINDLAST: *out = gl__expr_vjson(elem(self, i)); break;
        case F_SOME: *out = vbool(true); break;
        case F_EVERY: *out = vbool(false); break;
        default: *out = vnum((double)i); break;
        }
        return GL_OK;
    }
    *out = mode == F_SOME ? vbool(false) : mode == F_EVERY ? vbool(true)
           : mode == F_FIND || mode == F_FINDLAST ? vmk(V_UNDEF) : vnum(-1);
    return GL_OK;
}

static int a_find(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    return a_find_any(ev, self, a, na, F_FIND, out);
}

static int a_find_index(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    return a_find_any(ev, self, a, na, F_FINDINDEX, out);
}

static int a_find_last(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    return a_find_any(ev, self, a, na, F_FINDLAST, out);
}

static int a_find_last_index(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    return a_find_any(ev, self, a, na, F_FINDLASTINDEX, out);
}

static int a_some(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    return a_find_any(ev, self, a, na, F_SOME, out);
}

static int a_every(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    return a_find_any(ev, self, a, na, F_EVERY, out);
}

/* The accumulator of reduce is checked with a walk (gl__expr_check_value,
 * which charges it) whenever the calls since the last walk could have
 * nested it past VALUE_DEPTH / 2 more levels: a call nests it at most by
 * the height of the callback's body and by the steps it took, so a walk
 * comes at most once every VALUE_DEPTH / 2 steps; one that shares itself
 * ([acc, acc]) is stopped by its size. */
static int reduce_any(ev_t *ev, const val_t *self, const val_t *a, size_t na, bool right,
                      val_t *out)
{
    TRY(need_fn(ev, a, na, right ? "reduceRight" : "reduce"));
    size_t n = alen(self), k = 0;
    val_t acc;
    if (na >= 2) {
        acc = a[1].k == V_FUNC ? vmk(V_UNDEF) : vdup(&a[1]);
    } else if (n == 0) {
        return gl__expr_fail(ev, "Reduce of empty array with no initial value");
    } else {
        acc = gl__expr_vjson(elem(self, right ? n - 1 : 0));
        k = 1;
    }
    int height = a[0].k == V_FUNC ? a[0].fn->height : 1, grown = 0;
    for (; k < n; k++) {
        size_t i = right ? n - 1 - k : k;
        val_t args[4] = { acc, gl__expr_vjson(elem(self, i)), vnum((double)i), *self }, r;
        size_t before = ev->steps;
        int rc = gl__expr_call_fn(ev, &a[0], args, 4, &r);
        size_t took = ev->steps - before;
        vfree(&args[1]);
        vfree(&acc);
        if (rc == GL_OK && (grown += took < (size_t)height ? (int)took : height) >= VALUE_DEPTH / 2) {
            grown = 0;
            if ((rc = gl__expr_check_value(ev, &r)) != GL_OK)
                vfree(&r);
        }
        if (rc != GL_OK)
            return rc;
        acc = r;
    }
    *out = acc;
    return GL_OK;
}

static int a_reduce(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    return reduce_any(ev, self, a, na, false, out);
}

static int a_reduce_right(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    return reduce_any(ev, self, a, na, true, out);
}

/* sort: stable (a merge sort); undefined last; without a comparator by
 * the elements' strings (UTF-8 bytes: code point order, which differs from
 * JavaScript's UTF-16 order only between U+E000–U+FFFF and the astral
 * planes). The comparisons of the default order are charged up front. */
typedef struct {
    ev_t *ev;
    const val_t *self, *fn;
    sv_t *keys; /* without a comparator: each element's string */
} sorter_t;

/* *after: the element x (earlier) goes after y (later). */
static int sort_cmp(sorter_t *s, size_t x, size_t y, bool *after)
{
    if (!s->fn) {
        const sv_t *p = &s->keys[x], *q = &s->keys[y];
        size_t m = p->n < q->n ? p->n : q->n;
        TRY(gl__expr_charge_bytes(s->ev, m));
        int c = memcmp(p->p, q->p, m);
        *after = c > 0 || (c == 0 && p->n > q->n);
        return GL_OK;
    }
    /* fn(later, earlier) < 0 moves the later one first, as V8's sort
     * asks it: the same order for a consistent comparator, and the same
     * result as n8n (Node) for the common inconsistent ones, such as
     * (a, b) => a > b, which never answers < 0 and so leaves the order */
    val_t args[2] = { gl__expr_vjson(elem(s->self, y)), gl__expr_vjson(elem(s->self, x)) }, r;
    int rc = gl__expr_call_fn(s->ev, s->fn, args, 2, &r);
    vfree(&args[0]);
    vfree(&args[1]);
    double d = 0;
    if (rc == GL_OK)
        rc = gl__expr_to_number(s->ev, &r, &d);
    vfree(&r);
    *after = d < 0;
    return rc;
}

static int merge_sort(sorter_t *s, size_t *v, size_t *tmp, size_t n)
{
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) {
                bool after;
                TRY(sort_cmp(s, v[i], v[j], &after));
                tmp[k++] = after ? v[j++] : v[i++];
            }
            while (i < mid)
                tmp[k++] = v[i++];
            while (j < hi)
                tmp[k++] = v[j++];
        }
        memcpy(v, tmp, n * sizeof *v);
    }
    return GL_OK;
}

static int a_sort(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    const val_t *fn = arg(a, na, 0);
    if (fn->k != V_UNDEF && !gl__expr_is_fn(fn))
        return gl__expr_fail(ev, "The comparison function must be either a function or "
                                 "undefined");
    size_t n = alen(self), lg = 1, m = 0;
    while (((size_t)1 << lg) < n)
        lg++;
    TRY(gl__expr_charge(ev, n));
    if (fn->k == V_UNDEF)
        TRY(gl__expr_charge(ev, n * lg));
    sorter_t s = { ev, self, fn->k == V_UNDEF ? NULL : fn, NULL };
    size_t *v = gl_xmalloc((n ? n : 1) * sizeof *v), *tmp = gl_xmalloc((n ? n : 1) * sizeof *tmp);
    int rc = GL_OK;
    if (!s.fn)
        s.keys = gl_xcalloc(n ? n : 1, sizeof *s.keys);
    for (size_t i = 0; i < n && rc == GL_OK; i++) { /* undefined (JSON null here) too sorts */
        if (!s.fn) {
            val_t e = gl__expr_vjson(elem(self, i));
            rc = gl__expr_to_sv(ev, &e, &s.keys[i]);
            vfree(&e);
            if (rc != GL_OK) {
                gl_buf_init(&s.keys[i].buf, 0);
                break;
            }
        }
        v[m++] = i;
    }
    if (rc == GL_OK)
        rc = merge_sort(&s, v, tmp, m);
    if (rc == GL_OK) {
        json_object *arr = json_object_new_array();
        size_t size = 16;
        for (size_t i = 0; i < m && rc == GL_OK; i++) {
            json_object *e = elem(self, v[i]);
            rc = gl__expr_arr_add(ev, arr, &size, json_object_get(e), gl__expr_json_size(e));
        }
        if (rc == GL_OK)
            *out = vown(V_ARR, arr, size);
        else
            json_object_put(arr);
    }
    if (s.keys)
        for (size_t i = 0; i < n; i++)
            gl__expr_sv_free(&s.keys[i]);
    free(s.keys);
    free(v);
    free(tmp);
    return rc;
}

static const method_t arr_methods[] = {
    { "join", a_join }, { "includes", a_includes }, { "indexOf", a_index_of },
    { "lastIndexOf", a_last_index_of }, { "slice", a_slice }, { "concat", a_concat },
    { "reverse", a_reverse }, { "first", a_first }, { "last", a_last }, { "at", a_at },
    { "isEmpty", gl__expr_m_is_empty }, { "isNotEmpty", gl__expr_m_is_not_empty },
    { "toString", a_to_string },
    { "map", a_map }, { "filter", a_filter }, { "find", a_find }, { "findIndex", a_find_index },
    { "findLast", a_find_last }, { "findLastIndex", a_find_last_index }, { "some", a_some },
    { "every", a_every }, { "reduce", a_reduce }, { "reduceRight", a_reduce_right },
    { "sort", a_sort }, { "flatMap", a_flat_map }, { "forEach", a_for_each },
};

/* Objects and booleans */

int gl__expr_o_has_own(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    sv_t k;
    TRY(gl__expr_to_sv(ev, arg(a, na, 0), &k));
    int rc = gl__expr_charge_bytes(ev, k.n);
    if (rc == GL_OK)
        *out = vbool(!memchr(k.p, 0, k.n) && json_object_object_get_ex(self->j, k.p, NULL));
    gl__expr_sv_free(&k);
    return rc;
}

static int o_to_string(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)ev, (void)self, (void)a, (void)na;
    *out = vstr_n("[object Object]", 15);
    return GL_OK;
}

static const method_t obj_methods[] = {
    { "isEmpty", gl__expr_m_is_empty }, { "isNotEmpty", gl__expr_m_is_not_empty },
    { "hasOwnProperty", gl__expr_o_has_own }, { "toString", o_to_string },
};

static int b_to_string(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)ev, (void)a, (void)na;
    *out = self->b ? vstr_n("true", 4) : vstr_n("false", 5);
    return GL_OK;
}

static const method_t bool_methods[] = { { "toString", b_to_string } };

/* Adds what Object.keys (mode 0), values (1) or entries (2) lists for
 * the member key: v to arr. */
static int list_add(ev_t *ev, json_object *arr, size_t *size, int mode, const char *key, json_object *v)
{
    json_object *e = mode == 0 ? json_object_new_string(key) : json_object_get(v);
    size_t e_size = mode == 0 ? strlen(key) + 2 : gl__expr_json_size(v);
    if (mode == 2) {
        json_object *pair = json_object_new_array();
        json_object_array_add(pair, json_object_new_string(key));
        json_object_array_add(pair, e);
        e = pair;
        e_size += strlen(key) + 24;
    }
    return gl__expr_arr_add(ev, arr, size, e, e_size);
}

/* Object.keys (mode 0), values (1), entries (2). */
static int object_list(ev_t *ev, const val_t *a, size_t na, int mode, val_t *out)
{
    const val_t *o = arg(a, na, 0);
    if (nullish(o))
        return gl__expr_fail(ev, "Cannot convert undefined or null to object");
    json_object *arr = json_object_new_array();
    size_t size = 16;
    int rc = GL_OK;
    char idx[32];
    if (o->k == V_OBJ) {
        struct json_object_iterator it = json_object_iter_begin(o->j);
        struct json_object_iterator end = json_object_iter_end(o->j);
        while (rc == GL_OK && !json_object_iter_equal(&it, &end)) {
            const char *key = json_object_iter_peek_name(&it);
            json_object *v = json_object_iter_peek_value(&it);
            json_object_iter_next(&it);
            if ((rc = gl__expr_charge_pass(ev, strlen(key))) != GL_OK) /* copied */
                break;
            rc = list_add(ev, arr, &size, mode, key, v);
        }
    } else if (o->k == V_ARR) {
        for (size_t i = 0; rc == GL_OK && i < alen(o); i++) {
            if ((rc = gl__expr_charge(ev, 1)) != GL_OK)
                break;
            snprintf(idx, sizeof idx, "%zu", i);
            json_object *v = elem(o, i);
            rc = list_add(ev, arr, &size, mode, idx, v);
        }
    }
    if (rc != GL_OK) {
        json_object_put(arr);
        return rc;
    }
    *out = vown(V_ARR, arr, size);
    return GL_OK;
}

static int ob_keys(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    return object_list(ev, a, na, 0, out);
}

static int ob_values(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    return object_list(ev, a, na, 1, out);
}

static int ob_entries(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    return object_list(ev, a, na, 2, out);
}

static int ar_is_array(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)ev, (void)self;
    *out = vbool(arg(a, na, 0)->k == V_ARR);
    return GL_OK;
}

/* $("Name") */
int gl__expr_g_dollar(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    const val_t *name = arg(a, na, 0);
    if (name->k != V_STR)
        return gl__expr_fail(ev, "$() expects a node name, got %s", gl__expr_vtype_name(name));
    int rc;
    json_object *items = node_lookup(ev, sp(name), sn(name), &rc);
    TRY(rc);
    if (!items || !json_object_is_type(items, json_type_array))
        return no_such_node(ev, sp(name));
    *out = vmk(V_NODE);
    out->j = json_object_get(items);
    out->aux = json_object_get(name->j);
    return GL_OK;
}

static int in_all(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self, (void)a, (void)na;
    if (!ev->ctx->input) {
        *out = vown(V_ARR, json_object_new_array(), 16);
        return GL_OK;
    }
    return wrap_all(ev, ev->ctx->input, out);
}

static int in_first_last(ev_t *ev, bool last, val_t *out)
{
    size_t n = ev->ctx->input ? json_object_array_length(ev->ctx->input) : 0;
    *out = n ? vwrap(json_object_array_get_idx(ev->ctx->input, last ? n - 1 : 0)) : vmk(V_UNDEF);
    return GL_OK;
}

static int in_first(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self, (void)a, (void)na;
    return in_first_last(ev, false, out);
}

static int in_last(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self, (void)a, (void)na;
    return in_first_last(ev, true, out);
}

static const methods_t arr_table = { arr_methods, GL_NELEM(arr_methods) };
static const methods_t obj_table = { obj_methods, GL_NELEM(obj_methods) };
static const methods_t bool_table = { bool_methods, GL_NELEM(bool_methods) };

static const ns_method_t lib_ns[] = {
    { VAR_OBJECT, "keys", ob_keys }, { VAR_OBJECT, "values", ob_values },
    { VAR_OBJECT, "entries", ob_entries }, { VAR_ARRAY, "isArray", ar_is_array },
    { VAR_INPUT, "all", in_all }, { VAR_INPUT, "first", in_first }, { VAR_INPUT, "last", in_last },
};
static const ns_methods_t lib_ns_table = { lib_ns, GL_NELEM(lib_ns) };

/* Math.round, DateTime.now…: the namespaces' functions, wherever they live. */
static method_fn ns_method(int ns, const char *name, size_t len)
{
    static const ns_methods_t *const tables[] = { &gl__expr_num_ns, &gl__expr_json_ns,
                                                  &lib_ns_table, &gl__expr_date_ns };
    for (size_t t = 0; t < GL_NELEM(tables); t++)
        for (size_t i = 0; i < tables[t]->n; i++)
            if (tables[t]->v[i].ns == ns && name_is(name, len, tables[t]->v[i].name))
                return tables[t]->v[i].fn;
    return NULL;
}

/* $("Name").first() / .last() / .all() / .itemMatching(i) */
static int node_method(ev_t *ev, const val_t *self, const char *name, size_t len,
                       const val_t *a, size_t na, val_t *out)
{
    size_t n = json_object_array_length(self->j);
    if (name_is(name, len, "all"))
        return wrap_all(ev, self->j, out);
    if (name_is(name, len, "first") || name_is(name, len, "last")) {
        bool last = name_is(name, len, "last");
        *out = n ? vwrap(json_object_array_get_idx(self->j, last ? n - 1 : 0)) : vmk(V_UNDEF);
        return GL_OK;
    }
    if (name_is(name, len, "itemMatching")) {
        double i;
        TRY(gl__expr_num_arg(ev, a, na, 0, NAN, &i));
        *out = i >= 0 && i < (double)n ? vwrap(json_object_array_get_idx(self->j, (size_t)i))
                                       : vmk(V_UNDEF);
        return GL_OK;
    }
    return GL_NOTFOUND;
}

int gl__expr_call_method(ev_t *ev, const val_t *self, const char *name, size_t len,
                         const val_t *a, size_t na, val_t *out)
{
    method_fn fn = NULL;
    switch (self->k) {
    case V_UNDEF:
    case V_NULL:
    case V_SHORT: return gl__expr_get_prop(ev, self, name, len, out); /* the JS error */
    case V_STR:
        fn = find_method(&gl__expr_str_methods, name, len);
        if (!fn)
            fn = find_method(&gl__expr_str_n8n_methods, name, len);
        if (!fn)
            fn = find_method(&gl__expr_str_n8n_text_methods, name, len);
        break;
    case V_ARR: fn = find_method(&arr_table, name, len); break;
    case V_OBJ: fn = find_method(&obj_table, name, len); break;
    case V_NUM: fn = find_method(&gl__expr_num_methods, name, len); break;
    case V_BOOL: fn = find_method(&bool_table, name, len); break;
    case V_DATE: fn = gl__expr_date_method(self, name, len); break;
    case V_NS: fn = ns_method(self->ns, name, len); break;
    case V_REGEX: fn = find_method(&gl__expr_regex_methods, name, len); break;
    case V_NODE: {
        int rc = node_method(ev, self, name, len, a, na, out);
        if (rc != GL_NOTFOUND)
            return rc;
        break;
    }
    case V_FUNC: break;
    }
    if (!fn) /* n8n's extensions (expr_ext.c), after the native methods */
        fn = gl__expr_ext_method(self->k, name, len);
    if (fn)
        return fn(ev, self, a, na, out);
    if (self->k == V_NS)
        return gl__expr_fail(ev, "%s.%.*s is not a function", gl__expr_var_names[self->ns],
                             (int)(len > 60 ? 60 : len), name);
    return gl__expr_fail(ev, "%s has no method '%.*s'", gl__expr_vtype_name(self),
                         (int)(len > 60 ? 60 : len), name);
}
