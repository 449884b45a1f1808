/*
 * redact.h: replacing secret values by "[redacted]".
 *
 * An execution that opens credentials collects every secret value it
 * opened (and the forms a node derived from them: a Basic header's base64,
 * a URL-encoded query value) in a redaction list; whatever it stores or
 * sends — step data, errors, its output and answer, log lines — goes
 * through the list first.
 *
 * Rule: a value of GL_REDACT_MIN_SUBSTRING bytes or more is replaced
 * wherever it occurs, inside any string and any object key. A shorter one
 * ("a", "42") is replaced only where a whole string or key equals it:
 * replacing every "a" inside every text would destroy the data and hide
 * nothing (a value that short is no secret anyway). The empty string is
 * never a secret. Longer values are matched first, so one that contains
 * another is replaced whole.
 *
 * The list copies what it is given and wipes its copies when freed.
 */
#ifndef GL_REDACT_H
#define GL_REDACT_H

#include "buf.h"
#include "gl.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#define GL_REDACTED "[redacted]"
#define GL_REDACT_MIN_SUBSTRING 4
#define GL_REDACT_MAX_VALUE (1u << 20) /* bytes of one value; longer ones are ignored */
#define GL_REDACT_MAX_VALUES 512 /* values kept; more are ignored (a list this long is a bug) */

typedef struct gl_redact gl_redact_t;

/* A new, empty list; the caller frees it with gl_redact_free(). */
gl_redact_t *gl_redact_new(void);
/* Wipes the copies and frees the list (NULL: nothing). */
void gl_redact_free(gl_redact_t *r);

/* Adds s[0..n) (copied); also its percent-encoded form when that differs
 * (a value that travelled in a URL). Empty values and values already
 * listed are ignored. */
void gl_redact_add(gl_redact_t *r, const char *s, size_t n);

/* How many values are listed (0 for NULL): nothing to do when 0. */
size_t gl_redact_count(const gl_redact_t *r);

/* True when s[0..n) holds a listed value (by the rule above). */
bool gl_redact_found(const gl_redact_t *r, const char *s, size_t n);

/*
 * v with every listed value replaced, in strings and object keys, at any
 * depth: a new reference the caller puts. When nothing in v is listed
 * (the common case) that is v itself with one more reference; otherwise
 * the parts that changed are new and the rest is shared with v (v is
 * never changed). NULL for NULL.
 */
json_object *gl_redact_json(const gl_redact_t *r, json_object *v);

/* Replaces listed values in the NUL-terminated text s (capacity cap) in
 * place; a result longer than cap - 1 is cut at a whole UTF-8 character.
 * True when something was replaced. */
bool gl_redact_text(const gl_redact_t *r, char *s, size_t cap);

#endif
