/*
 * expr_json.c: JSON text and JSON data. JSON.stringify and the interpolation
 * of arrays and objects write JSON text here, charging steps as they go;
 * arrays and objects the library builds grow through gl__expr_arr_add and
 * gl__expr_obj_add, which keep an estimate of their serialized size under
 * the output bound. Also JSON.parse, through the same strict parser as
 * request bodies.
 */
#include "expr_int.h"

#include "json.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* JSON equality                                                            */

static bool json_is_num(json_object *j)
{
    json_type t = json_object_get_type(j);
    return t == json_type_int || t == json_type_double;
}

int gl__expr_json_equal(ev_t *ev, json_object *a, json_object *b, bool nan_equal, int depth, bool *eq)
{
    TRY(gl__expr_charge(ev, 1));
    if (depth > VALUE_DEPTH)
        return gl__expr_fail(ev, "value nested too deeply");
    json_type ta = json_object_get_type(a);
    *eq = false;
    if (json_is_num(a) && json_is_num(b)) {
        double x = json_object_get_double(a), y = json_object_get_double(b);
        *eq = x == y || (nan_equal && isnan(x) && isnan(y));
        return GL_OK;
    }
    if (ta != json_object_get_type(b))
        return GL_OK;
    switch (ta) {
    case json_type_null: *eq = true; return GL_OK;
    case json_type_boolean: *eq = json_object_get_boolean(a) == json_object_get_boolean(b); return GL_OK;
    case json_type_string: {
        size_t n = (size_t)json_object_get_string_len(a);
        if (n != (size_t)json_object_get_string_len(b))
            return GL_OK;
        TRY(gl__expr_charge_bytes(ev, n));
        *eq = memcmp(json_object_get_string(a), json_object_get_string(b), n) == 0;
        return GL_OK;
    }
    case json_type_array: {
        size_t n = json_object_array_length(a);
        if (n != json_object_array_length(b))
            return GL_OK;
        for (size_t i = 0; i < n; i++) {
            TRY(gl__expr_json_equal(ev, json_object_array_get_idx(a, i), json_object_array_get_idx(b, i), nan_equal,
                                    depth + 1, eq));
            if (!*eq)
                return GL_OK;
        }
        *eq = true;
        return GL_OK;
    }
    case json_type_object: {
        if (json_object_object_length(a) != json_object_object_length(b))
            return GL_OK;
        json_object_object_foreach(a, k, v)
        {
            json_object *w;
            TRY(gl__expr_charge_bytes(ev, strlen(k)));
            if (!json_object_object_get_ex(b, k, &w))
                return GL_OK;
            TRY(gl__expr_json_equal(ev, v, w, nan_equal, depth + 1, eq));
            if (!*eq)
                return GL_OK;
        }
        *eq = true;
        return GL_OK;
    }
    default: return GL_OK;
    }
}

/* ------------------------------------------------------------------------ */
/* JSON text (JSON.stringify and interpolation of arrays and objects)       */

/* s[0..n) as a JSON string, escaped as JSON.stringify does (core/buf.c). */
static int jw_str(ev_t *ev, gl_buf_t *b, const char *s, size_t n)
{
    TRY(gl__expr_charge_pass(ev, n));
    size_t before = b->len;
    if (gl_buf_append(b, "\"", 1) != GL_OK || gl_buf_json_escape(b, s, n) != GL_OK ||
        gl_buf_append(b, "\"", 1) != GL_OK)
        return gl__expr_too_big(ev);
    return gl__expr_charge_bytes(ev, b->len - before);
}

static int jw_nl(ev_t *ev, gl_buf_t *b, const char *ind, size_t ind_n, int level)
{
    if (!ind_n)
        return GL_OK;
    TRY(gl__expr_app(ev, b, "\n", 1));
    for (int i = 0; i < level; i++)
        TRY(gl__expr_app(ev, b, ind, ind_n));
    return GL_OK;
}

static int jw(ev_t *ev, gl_buf_t *b, json_object *j, const char *ind, size_t ind_n, int level)
{
    char tmp[40];
    TRY(gl__expr_charge(ev, 1));
    if (level > VALUE_DEPTH)
        return gl__expr_fail(ev, "value nested too deeply");
    switch (json_object_get_type(j)) {
    case json_type_null: return gl__expr_apps(ev, b, "null");
    case json_type_boolean:
        return gl__expr_apps(ev, b, json_object_get_boolean(j) ? "true" : "false");
    case json_type_int:
    case json_type_double: {
        double d = json_object_get_double(j);
        if (!isfinite(d))
            return gl__expr_apps(ev, b, "null");
        if (json_object_get_type(j) == json_type_int && fabs(d) <= MAX_SAFE)
            snprintf(tmp, sizeof tmp, "%" PRId64, json_object_get_int64(j));
        else
            gl__expr_num_fmt(d, tmp);
        return gl__expr_apps(ev, b, tmp);
    }
    case json_type_string:
        return jw_str(ev, b, json_object_get_string(j), (size_t)json_object_get_string_len(j));
    case json_type_array: {
        size_t n = json_object_array_length(j);
        if (!n)
            return gl__expr_apps(ev, b, "[]");
        TRY(gl__expr_app(ev, b, "[", 1));
        for (size_t i = 0; i < n; i++) {
            if (i)
                TRY(gl__expr_app(ev, b, ",", 1));
            TRY(jw_nl(ev, b, ind, ind_n, level + 1));
            TRY(jw(ev, b, json_object_array_get_idx(j, i), ind, ind_n, level + 1));
        }
        TRY(jw_nl(ev, b, ind, ind_n, level));
        return gl__expr_app(ev, b, "]", 1);
    }
    case json_type_object: {
        if (json_object_object_length(j) == 0)
            return gl__expr_apps(ev, b, "{}");
        TRY(gl__expr_app(ev, b, "{", 1));
        struct json_object_iterator it = json_object_iter_begin(j);
        struct json_object_iterator end = json_object_iter_end(j);
        for (bool first = true; !json_object_iter_equal(&it, &end); first = false) {
            const char *key = json_object_iter_peek_name(&it);
            json_object *v = json_object_iter_peek_value(&it);
            json_object_iter_next(&it);
            if (!first)
                TRY(gl__expr_app(ev, b, ",", 1));
            TRY(jw_nl(ev, b, ind, ind_n, level + 1));
            TRY(jw_str(ev, b, key, strlen(key)));
            TRY(gl__expr_app(ev, b, ":", 1));
            if (ind_n)
                TRY(gl__expr_app(ev, b, " ", 1));
            TRY(jw(ev, b, v, ind, ind_n, level + 1));
        }
        TRY(jw_nl(ev, b, ind, ind_n, level));
        return gl__expr_app(ev, b, "}", 1);
    }
    }
    return GL_OK;
}

/* JSON text of a value; false in *defined for undefined and functions. */
int gl__expr_jw_val(ev_t *ev, gl_buf_t *b, const val_t *v, const char *ind, size_t ind_n,
                    bool *defined)
{
    char tmp[40];
    *defined = true;
    switch (v->k) {
    case V_UNDEF:
    case V_SHORT: *defined = false; return GL_OK;
    case V_NS:
        if (ns_is_function(v->ns)) {
            *defined = false;
            return GL_OK;
        }
        return gl__expr_apps(ev, b, "{}");
    case V_NODE:
    case V_REGEX: return gl__expr_apps(ev, b, "{}");
    case V_DATE: {
        json_object *j = gl__expr_date_json(v);
        int rc = j ? jw_str(ev, b, json_object_get_string(j), (size_t)json_object_get_string_len(j))
                   : gl__expr_apps(ev, b, "null");
        json_object_put(j);
        return rc;
    }
    case V_NUM:
        if (!isfinite(v->n))
            return gl__expr_apps(ev, b, "null");
        gl__expr_num_fmt(v->n, tmp);
        return gl__expr_apps(ev, b, tmp);
    default: {
        json_object *j = gl__expr_vto_json(v);
        int rc = jw(ev, b, j, ind, ind_n, 0);
        json_object_put(j);
        return rc;
    }
    }
}

/* ------------------------------------------------------------------------ */
/* Building arrays and objects under the output bound                       */

size_t gl__expr_json_size(json_object *j)
{
    switch (json_object_get_type(j)) {
    case json_type_string: return (size_t)json_object_get_string_len(j) + 2;
    case json_type_array: return 16 + 16 * json_object_array_length(j);
    case json_type_object: return 16 + 16 * (size_t)json_object_object_length(j);
    default: return 8;
    }
}

/* Appends elem (a reference the call takes over) to arr, whose estimated
 * size is *size; elem_size is elem's. */
int gl__expr_arr_add(ev_t *ev, json_object *arr, size_t *size, json_object *elem, size_t elem_size)
{
    if (!gl_size_add(*size, elem_size + 8, size) || *size > ev->max_out) {
        json_object_put(elem);
        return gl__expr_too_big(ev);
    }
    json_object_array_add(arr, elem);
    return GL_OK;
}

int gl__expr_arr_add_val(ev_t *ev, json_object *arr, size_t *size, const val_t *v)
{
    return gl__expr_arr_add(ev, arr, size, gl__expr_vto_json(v), gl__expr_vsize(v));
}

int gl__expr_obj_add(ev_t *ev, json_object *obj, size_t *size, const char *key, json_object *v,
                     size_t v_size)
{
    if (!gl_size_add(*size, v_size + strlen(key) + 8, size) || *size > ev->max_out) {
        json_object_put(v);
        return gl__expr_too_big(ev);
    }
    json_object_object_add(obj, key, v);
    return GL_OK;
}

static /* ------------------------------------------------------------------------ */
/* JSON.parse, JSON.stringify                                               */

int j_parse(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    sv_t text;
    gl_err_t jerr;
    json_object *j = NULL;
    TRY(gl__expr_to_sv(ev, arg(a, na, 0), &text));
    int rc = gl__expr_charge(ev, 1 + text.n / 32);
    if (rc == GL_OK) {
        gl_err_clear(&jerr);
        if (gl_json_parse(text.p, text.n, ev->max_depth, &j, &jerr) != GL_OK)
            rc = gl__expr_fail(ev, "JSON.parse: %s", jerr.msg);
    }
    size_t n = text.n;
    gl__expr_sv_free(&text);
    TRY(rc);
    *out = gl__expr_vjson(j);
    if (out->k == V_ARR || out->k == V_OBJ)
        out->size = n + 16;
    json_object_put(j);
    return GL_OK;
}

static int j_stringify(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)self;
    char ind[16];
    size_t ind_n = 0;
    const val_t *rep = arg(a, na, 1), *sp_arg = arg(a, na, 2);
    bool defined;
    if (!nullish(rep))
        return gl__expr_fail(ev, "JSON.stringify: replacer functions and key lists are not "
                                 "supported");
    if (sp_arg->k == V_NUM) {
        double w = isnan(sp_arg->n) ? 0 : fmin(10, trunc(sp_arg->n));
        for (; ind_n < (size_t)(w < 0 ? 0 : w); ind_n++)
            ind[ind_n] = ' ';
    } else if (sp_arg->k == V_STR) {
        ind_n = gl_utf8_offset(sp(sp_arg), sn(sp_arg), 10);
        memcpy(ind, sp(sp_arg), ind_n > sizeof ind ? sizeof ind : ind_n);
        ind_n = ind_n > sizeof ind ? sizeof ind : ind_n;
    }
    gl_buf_t b;
    gl_buf_init(&b, ev->max_out);
    int rc = gl__expr_jw_val(ev, &b, arg(a, na, 0), ind, ind_n, &defined);
    if (rc != GL_OK || !defined) {
        gl_buf_free(&b);
        *out = vmk(V_UNDEF);
        return rc;
    }
    return gl__expr_buf_val(&b, out);
}

static const ns_method_t json_ns[] = {
    { VAR_JSONNS, "parse", j_parse }, { VAR_JSONNS, "stringify", j_stringify },
};

const ns_methods_t gl__expr_json_ns = { json_ns, GL_NELEM(json_ns) };

/* n8n's toJsonString() on any value: JSON.stringify without indentation. */
int gl__expr_to_json_string(ev_t *ev, const val_t *self, const val_t *a, size_t na, val_t *out)
{
    (void)a, (void)na;
    gl_buf_t b;
    bool defined;
    gl_buf_init(&b, ev->max_out);
    int rc = gl__expr_jw_val(ev, &b, self, "", 0, &defined);
    if (rc != GL_OK) {
        gl_buf_free(&b);
        return rc;
    }
    return gl__expr_buf_val(&b, out);
}
