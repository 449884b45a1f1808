/* json.c: bounded parsing and typed access over json-c. */
#include "json.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

int gl_json_parse(const char *text, size_t len, int max_depth, json_object **out,
                  gl_err_t *err)
{
    if (len > (size_t)INT32_MAX) {
        gl_err_field(err, "body", "JSON document too large");
        return GL_TOO_LARGE;
    }
    int nesting = 0;
    int rc = gl_json_check_nesting(text, len, max_depth, &nesting, err);
    if (rc != GL_OK)
        return rc;
    /* the text is valid JSON now; json-c builds the objects, with a stack
     * as deep as the text needs (one of max_depth entries was a 32 KB
     * calloc for every body) */
    json_tokener *tok = json_tokener_new_ex(nesting + 1);
    if (!tok) {
        gl_err_set(err, "out of memory");
        return GL_ERR;
    }
    json_object *obj = json_tokener_parse_ex(tok, text, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    if (jerr == json_tokener_continue) {
        /* a bare number needs to see the end of input to be complete */
        obj = json_tokener_parse_ex(tok, "", 1);
        jerr = json_tokener_get_error(tok);
    }
    json_tokener_free(tok);
    if (jerr != json_tokener_success) {
        json_object_put(obj);
        gl_err_field(err, "body", "invalid JSON: %s", json_tokener_error_desc(jerr));
        return GL_INVALID;
    }
    *out = obj; /* NULL for the JSON literal null */
    return GL_OK;
}

size_t gl_json_members(json_object *v)
{
    size_t n = 0;
    if (json_object_is_type(v, json_type_object)) {
        json_object_object_foreach(v, key, member)
        {
            (void)key;
            n += 1 + gl_json_members(member);
        }
    } else if (json_object_is_type(v, json_type_array)) {
        size_t len = json_object_array_length(v);
        for (size_t i = 0; i < len; i++)
            n += gl_json_members(json_object_array_get_idx(v, i));
    }
    return n;
}

static void put_obj(void *p)
{
    json_object_put(p);
}

json_object *gl_json_own(gl_arena_t *a, json_object *obj)
{
    if (obj)
        gl_arena_on_cleanup(a, put_obj, obj);
    return obj;
}

const char *gl_json_type_name(json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null: return "null";
    case json_type_boolean: return "a boolean";
    case json_type_double: return "a number";
    case json_type_int: return "a number";
    case json_type_object: return "an object";
    case json_type_array: return "an array";
    case json_type_string: return "a string";
    }
    return "an unknown type";
}

/* Looks key up; GL_NOTFOUND (or GL_INVALID when required) if absent or null. */
static int lookup(json_object *obj, const char *key, bool required, json_object **v,
                  gl_err_t *err)
{
    if (!json_object_is_type(obj, json_type_object)) {
        gl_err_field(err, key, "expected an object containing '%s', got %s", key,
                     gl_json_type_name(obj));
        return GL_INVALID;
    }
    if (!json_object_object_get_ex(obj, key, v) || json_object_is_type(*v, json_type_null)) {
        if (required) {
            gl_err_field(err, key, "field '%s' is required", key);
            return GL_INVALID;
        }
        return GL_NOTFOUND;
    }
    return GL_OK;
}

static int wrong_type(const char *key, const char *want, json_object *v, gl_err_t *err)
{
    gl_err_field(err, key, "field '%s': expected %s, got %s", key, want, gl_json_type_name(v));
    return GL_INVALID;
}

int gl_json_get_string(json_object *obj, const char *key, bool required, size_t max_len,
                       const char **out, gl_err_t *err)
{
    json_object *v;
    int rc = lookup(obj, key, required, &v, err);
    if (rc != GL_OK)
        return rc;
    if (!json_object_is_type(v, json_type_string))
        return wrong_type(key, "a string", v, err);
    if ((size_t)json_object_get_string_len(v) > max_len) {
        gl_err_field(err, key, "field '%s': longer than %zu bytes", key, max_len);
        return GL_INVALID;
    }
    *out = json_object_get_string(v);
    return GL_OK;
}

int gl_json_get_int(json_object *obj, const char *key, bool required, int64_t min,
                    int64_t max, int64_t *out, gl_err_t *err)
{
    json_object *v;
    int rc = lookup(obj, key, required, &v, err);
    if (rc != GL_OK)
        return rc;
    if (!json_object_is_type(v, json_type_int))
        return wrong_type(key, "an integer", v, err);
    errno = 0;
    int64_t n = json_object_get_int64(v);
    if (errno != 0 || n < min || n > max) {
        gl_err_field(err, key, "field '%s': must be from %lld to %lld", key, (long long)min,
                     (long long)max);
        return GL_INVALID;
    }
    *out = n;
    return GL_OK;
}

int gl_json_get_bool(json_object *obj, const char *key, bool required, bool *out,
                     gl_err_t *err)
{
    json_object *v;
    int rc = lookup(obj, key, required, &v, err);
    if (rc != GL_OK)
        return rc;
    if (!json_object_is_type(v, json_type_boolean))
        return wrong_type(key, "a boolean", v, err);
    *out = json_object_get_boolean(v);
    return GL_OK;
}

int gl_json_get_object(json_object *obj, const char *key, bool required, json_object **out,
                       gl_err_t *err)
{
    json_object *v;
    int rc = lookup(obj, key, required, &v, err);
    if (rc != GL_OK)
        return rc;
    if (!json_object_is_type(v, json_type_object))
        return wrong_type(key, "an object", v, err);
    *out = v;
    return GL_OK;
}

int gl_json_get_array(json_object *obj, const char *key, bool required, json_object **out,
                      gl_err_t *err)
{
    json_object *v;
    int rc = lookup(obj, key, required, &v, err);
    if (rc != GL_OK)
        return rc;
    if (!json_object_is_type(v, json_type_array))
        return wrong_type(key, "an array", v, err);
    *out = v;
    return GL_OK;
}

int gl_json_only_keys(json_object *obj, const char *const *allowed, gl_err_t *err)
{
    json_object_object_foreach(obj, key, val)
    {
        (void)val;
        bool ok = false;
        for (const char *const *a = allowed; *a; a++)
            if (strcmp(*a, key) == 0) {
                ok = true;
                break;
            }
        if (!ok) {
            gl_err_field(err, key, "unknown field '%s'", key);
            return GL_INVALID;
        }
    }
    return GL_OK;
}

#define STORABLE_MAX_DEPTH 512

static const char *text_problem(const char *s, size_t len)
{
    if (gl_utf8_valid(s, len))
        return NULL;
    return memchr(s, '\0', len) ? "text holds a NUL character (\\u0000)" : "text is not valid UTF-8";
}

/* Appends ".key" or "[i]" to where (cut silently when it is full). */
static void path_push(char *where, size_t cap, size_t at, const char *key, size_t idx)
{
    if (at >= cap)
        return;
    if (key)
        snprintf(where + at, cap - at, "%s%.64s", at ? "." : "", key);
    else
        snprintf(where + at, cap - at, "[%zu]", idx);
}

/* where NULL: no path is kept (the walk that finds nothing wrong) */
static const char *unstorable(json_object *v, char *where, size_t cap, int depth)
{
    if (depth > STORABLE_MAX_DEPTH)
        return "nested too deeply";
    size_t at = where ? strlen(where) : 0;
    switch (json_object_get_type(v)) {
    case json_type_double:
        return isfinite(json_object_get_double(v)) ? NULL : "number is not finite (NaN or Infinity)";
    case json_type_string:
        return text_problem(json_object_get_string(v), (size_t)json_object_get_string_len(v));
    case json_type_array:
        for (size_t i = 0, n = json_object_array_length(v); i < n; i++) {
            if (where)
                path_push(where, cap, at, NULL, i);
            const char *why = unstorable(json_object_array_get_idx(v, i), where, cap, depth + 1);
            if (why)
                return why;
            if (where)
                where[at < cap ? at : cap - 1] = '\0';
        }
        return NULL;
    case json_type_object: {
        json_object_object_foreach(v, key, val) {
            if (where)
                path_push(where, cap, at, key, 0);
            const char *why = text_problem(key, strlen(key)) ? "a key is not valid UTF-8 text"
                                                              : unstorable(val, where, cap, depth + 1);
            if (why)
                return why;
            if (where)
                where[at < cap ? at : cap - 1] = '\0';
        }
        return NULL;
    }
    default:
        return NULL;
    }
}

/* json-c's escaping (json_escape_str, no JSON_C_TO_STRING_NOSLASHESCAPE):
 * the quote, backslash, slash and \b \t \n \f \r take two characters,
 * other control characters six (\u00XX), everything else one */
static size_t escaped_len(const char *s, size_t n)
{
    size_t len = n;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\' || c == '/' || c == '\b' || c == '\t' || c == '\n' || c == '\f' || c == '\r')
            len += 1;
        else if (c < 0x20)
            len += 5;
    }
    return len;
}

static size_t digits(uint64_t u)
{
    size_t n = 1;
    while (u >= 10) {
        u /= 10;
        n++;
    }
    return n;
}

/*
 * json-c's own rendering of v, counted: rendered as the one element of a
 * scratch array, so that the text json-c keeps is the scratch array's
 * (reused from one call to the next, freed with it), not v's.
 */
static size_t rendered_by_json_c(json_object *v, json_object **scratch)
{
    if (!*scratch && !(*scratch = json_object_new_array_ext(1)))
        return 0;
    if (json_object_array_put_idx(*scratch, 0, json_object_get(v)) != 0) { /* puts the last one */
        json_object_put(v); /* out of memory: the reference taken for it */
        return 0;
    }
    size_t len = 0;
    json_object_to_json_string_length(*scratch, JSON_C_TO_STRING_PLAIN, &len);
    return len >= 2 ? len - 2 : 0; /* [v] */
}

static size_t rendered_len(json_object *v, int depth, json_object **scratch)
{
    if (!v)
        return 4; /* null */
    if (depth > 1024)
        return rendered_by_json_c(v, scratch); /* json-c renders the rest, recursively as deep */
    switch (json_object_get_type(v)) {
    case json_type_null: return 4;
    case json_type_boolean: return json_object_get_boolean(v) ? 4 : 5;
    case json_type_int: {
        int64_t i = json_object_get_int64(v);
        if (i == INT64_MAX)
            return digits(json_object_get_uint64(v)); /* or one past int64 */
        return i < 0 ? 1 + digits((uint64_t)-(i + 1) + 1) : digits((uint64_t)i);
    }
    case json_type_string:
        return 2 + escaped_len(json_object_get_string(v), (size_t)json_object_get_string_len(v));
    case json_type_array: {
        size_t n = json_object_array_length(v), len = 2 + (n ? n - 1 : 0);
        for (size_t i = 0; i < n; i++)
            len += rendered_len(json_object_array_get_idx(v, i), depth + 1, scratch);
        return len;
    }
    case json_type_object: {
        size_t len = 2, n = 0;
        json_object_object_foreach(v, key, val) {
            len += 3 + escaped_len(key, strlen(key)) + rendered_len(val, depth + 1, scratch); /* "key": */
            n++;
        }
        return len + (n ? n - 1 : 0);
    }
    default: /* double: json-c's format (or the text it was parsed from) */
        return rendered_by_json_c(v, scratch);
    }
}

size_t gl_json_rendered_len(json_object *v)
{
    json_object *scratch = NULL;
    size_t len = rendered_len(v, 0, &scratch);
    json_object_put(scratch);
    return len;
}

static int write_value(gl_buf_t *b, json_object *v, int depth, json_object **scratch)
{
    if (!v)
        return gl_buf_append(b, "null", 4);
    if (depth > 1024)
        goto by_json_c; /* json-c renders the rest, recursively as deep */
    switch (json_object_get_type(v)) {
    case json_type_null: return gl_buf_append(b, "null", 4);
    case json_type_boolean: return json_object_get_boolean(v) ? gl_buf_append(b, "true", 4)
                                                              : gl_buf_append(b, "false", 5);
    case json_type_int: {
        int64_t i = json_object_get_int64(v);
        if (i == INT64_MAX)
            return gl_buf_uint(b, json_object_get_uint64(v)); /* or one past int64 */
        return gl_buf_int(b, i);
    }
    case json_type_string: {
        int rc = gl_buf_append(b, "\"", 1);
        if (rc == GL_OK)
            rc = gl_buf_json_escape_json_c(b, json_object_get_string(v), (size_t)json_object_get_string_len(v));
        return rc != GL_OK ? rc : gl_buf_append(b, "\"", 1);
    }
    case json_type_array: {
        int rc = gl_buf_append(b, "[", 1);
        size_t n = json_object_array_length(v);
        for (size_t i = 0; i < n && rc == GL_OK; i++) {
            if (i)
                rc = gl_buf_append(b, ",", 1);
            if (rc == GL_OK)
                rc = write_value(b, json_object_array_get_idx(v, i), depth + 1, scratch);
        }
        return rc != GL_OK ? rc : gl_buf_append(b, "]", 1);
    }
    case json_type_object: {
        int rc = gl_buf_append(b, "{", 1);
        bool first = true;
        json_object_object_foreach(v, key, val) {
            if (rc != GL_OK)
                break;
            rc = gl_buf_append(b, first ? "\"" : ",\"", first ? 1 : 2);
            first = false;
            rc = rc != GL_OK ? rc : gl_buf_json_escape_json_c(b, key, strlen(key));
            rc = rc != GL_OK ? rc : gl_buf_append(b, "\":", 2);
            rc = rc != GL_OK ? rc : write_value(b, val, depth + 1, scratch);
        }
        return rc != GL_OK ? rc : gl_buf_append(b, "}", 1);
    }
    default: /* double: json-c's format (or the text it was parsed from) */
        break;
    }
by_json_c:
    /* as the one element of a scratch array, so that v keeps no text */
    if (!*scratch && !(*scratch = json_object_new_array_ext(1)))
        return GL_ERR;
    if (json_object_array_put_idx(*scratch, 0, json_object_get(v)) != 0) { /* puts the last one */
        json_object_put(v); /* out of memory: the reference taken for it */
        return GL_ERR;
    }
    size_t len = 0;
    const char *t = json_object_to_json_string_length(*scratch, JSON_C_TO_STRING_PLAIN, &len);
    if (!t || len < 2)
        return GL_ERR;
    return gl_buf_append(b, t + 1, len - 2); /* [v] */
}

int gl_json_write(gl_buf_t *b, json_object *v)
{
    json_object *scratch = NULL;
    int rc = write_value(b, v, 0, &scratch);
    json_object_put(scratch);
    return rc;
}

const char *gl_json_unstorable(json_object *v, char *where, size_t cap)
{
    where[0] = '\0';
    /* the usual answer is "nothing": found without writing paths, which
     * are only written when walking again to name what was found */
    if (!unstorable(v, NULL, 0, 0))
        return NULL;
    return unstorable(v, where, cap, 0);
}
