/*
 * json.h: JSON helpers over json-c: a bounded, strict parser and typed
 * getters that say what is wrong and where ("field 'email': expected a
 * string, got a number").
 */
#ifndef GL_JSON_H
#define GL_JSON_H

#include "arena.h"
#include "buf.h"
#include "gl.h"

#include <json-c/json.h>

/*
 * Parses exactly one JSON value from text[0..len): strict RFC 8259 syntax,
 * valid UTF-8, nesting at most max_depth, nothing but whitespace after it.
 * On success *out is a new reference the caller releases with
 * json_object_put() (or gl_json_own() to hang it on an arena).
 * Errors: GL_INVALID with err->msg naming the offset, or GL_TOO_LARGE when the
 * nesting is too deep (err->field is "body" in both cases).
 */
int gl_json_parse(const char *text, size_t len, int max_depth, json_object **out,
                  gl_err_t *err) GL_WUR;

/* Checks that text[0..len) is exactly one RFC 8259 JSON value (valid UTF-8,
 * no \u0000, nesting at most max_depth). GL_OK, GL_INVALID, or GL_TOO_LARGE
 * for nesting; err->msg names the offset. Allocates nothing. */
int gl_json_check(const char *text, size_t len, int max_depth, gl_err_t *err) GL_WUR;
/* The same, and on GL_OK *nesting is the value's deepest nesting (0 for
 * a scalar, 1 for a flat array or object). */
int gl_json_check_nesting(const char *text, size_t len, int max_depth, int *nesting, gl_err_t *err) GL_WUR;

/*
 * The text of member `key` of the JSON object in text[0..len): the value of
 * the last top-level member of that name (json-c and jsonb both keep the
 * last of duplicates), as *at and *n, a span of text. The whole text is
 * checked as gl_json_check does (nesting at most max_depth), so the span is
 * valid JSON that PostgreSQL's jsonb takes. *members (unless NULL) is the
 * number of object members written in the span: more than gl_json_members
 * counts in what json-c reads of it when a name repeats in an object. False
 * when the text is not a valid object, has no such member, or spells a
 * member name with escapes (such a name is not decoded, so it is not
 * guessed at).
 */
bool gl_json_member_text(const char *text, size_t len, const char *key, int max_depth, const char **at,
                         size_t *n, size_t *members) GL_WUR;

/* Hands obj to the arena: it is released when the arena is reset. */
/* Members of the objects in v, nested ones included. json-c keeps one of
 * a repeated name, so fewer than its text's when a name repeats. */
size_t gl_json_members(json_object *v);

json_object *gl_json_own(gl_arena_t *a, json_object *obj);

/* The name of a json-c type as a user reads it: "a string", "an object"... */
const char *gl_json_type_name(json_object *v);

/*
 * Can PostgreSQL store v as jsonb? It refuses text with a NUL character
 * (\u0000) or bytes that are not UTF-8 (in values and in keys), and
 * numbers that are not finite (json-c writes NaN and Infinity, which are
 * not JSON). Returns NULL when it can; else the reason, with the path of
 * the first offending value (e.g. "main[0].name") written into
 * where[0..cap). Depth is bounded by the parser's limits; deeper values
 * than 512 levels are reported as such.
 */
const char *gl_json_unstorable(json_object *v, char *where, size_t cap);

/*
 * The length of v as json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN)
 * renders it, counted without rendering it (no allocation, and nothing
 * kept in v: json-c keeps a rendered text in the object until it is
 * freed). Doubles are rendered by json-c, one at a time, for its own
 * format, inside a scratch array freed before it returns: v keeps nothing.
 */
size_t gl_json_rendered_len(json_object *v);

/*
 * Appends v's JSON text to b: the very text
 * json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN) gives, written
 * straight into b (json-c renders into a buffer it allocates in v and keeps
 * there until v is freed, and writes every integer with snprintf). Doubles
 * are json-c's, as in gl_json_rendered_len. GL_TOO_LARGE past b's cap.
 */
int gl_json_write(gl_buf_t *b, json_object *v) GL_WUR;

/*
 * Typed getters. `required` false: a missing key (or JSON null) leaves *out
 * untouched and returns GL_NOTFOUND. A present value of the wrong type or out
 * of bounds is GL_INVALID with err->field = key. Strings are borrowed from
 * obj (valid while obj lives); max_len counts bytes.
 */
int gl_json_get_string(json_object *obj, const char *key, bool required, size_t max_len,
                       const char **out, gl_err_t *err) GL_WUR;
int gl_json_get_int(json_object *obj, const char *key, bool required, int64_t min,
                    int64_t max, int64_t *out, gl_err_t *err) GL_WUR;
int gl_json_get_bool(json_object *obj, const char *key, bool required, bool *out,
                     gl_err_t *err) GL_WUR;
int gl_json_get_object(json_object *obj, const char *key, bool required, json_object **out,
                       gl_err_t *err) GL_WUR;
int gl_json_get_array(json_object *obj, const char *key, bool required, json_object **out,
                      gl_err_t *err) GL_WUR;

/* GL_INVALID naming the first key of obj not in the NULL-terminated list. */
int gl_json_only_keys(json_object *obj, const char *const *allowed, gl_err_t *err) GL_WUR;

#endif
