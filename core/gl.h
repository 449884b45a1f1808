/*
 * gl.h: what every Glyphic file needs — the return-code enum, the error
 * context a failing function writes its message into, and the allocation
 * wrappers that abort (with a log line) instead of returning NULL.
 */
#ifndef GL_H
#define GL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "utf8.h" /* UTF-8 is everyone's */

#define GL_WUR __attribute__((warn_unused_result))
#define GL_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define GL_NELEM(a) (sizeof(a) / sizeof((a)[0]))

typedef enum {
    GL_OK = 0,
    GL_ERR = -1,          /* anything not listed below */
    GL_NOTFOUND = -2,
    GL_CONFLICT = -3,
    GL_TOO_LARGE = -4,
    GL_INVALID = -5,      /* bad input: the message says what and where */
    GL_RETRY = -6,        /* serialization failure or deadlock: try again */
    GL_UNAVAILABLE = -7,  /* the database (or another service) is unreachable */
    GL_SCHEMA = -8,       /* database schema newer than this binary */
    GL_UNSAFE = -9,       /* connected as a role that bypasses row level security */
} gl_rc_t;

/*
 * Error context. The function that fails writes one short, lowercase,
 * factual message; `field` names the input field at fault when there is one;
 * `sqlstate` carries PostgreSQL's code when the failure came from there.
 */
typedef struct {
    char msg[256];
    char field[96];
    char sqlstate[6];
} gl_err_t;

void gl_err_set(gl_err_t *err, const char *fmt, ...) GL_PRINTF(2, 3);
void gl_err_field(gl_err_t *err, const char *field, const char *fmt, ...) GL_PRINTF(3, 4);
void gl_err_clear(gl_err_t *err);

/* Allocation failure is fatal (logged, then abort): callers need no checks. */
void *gl_xmalloc(size_t n);
void *gl_xcalloc(size_t n, size_t size);
void *gl_xrealloc(void *p, size_t n);
char *gl_xstrdup(const char *s);

/* Overflow-checked size arithmetic: false when the result would overflow. */
static inline bool gl_size_add(size_t a, size_t b, size_t *out)
{
    return !__builtin_add_overflow(a, b, out);
}
static inline bool gl_size_mul(size_t a, size_t b, size_t *out)
{
    return !__builtin_mul_overflow(a, b, out);
}

/* Monotonic and wall clocks in milliseconds. */
int64_t gl_now_ms(void);
int64_t gl_wall_ms(void);

/* Strict decimal parse of a whole string: no sign games, no trailing junk. */
int gl_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out) GL_WUR;

/* True when s is a canonical lowercase or uppercase UUID (NULL: false). */
bool gl_is_uuid(const char *s);

/* s without the spaces and tabs at its ends: cut in place, returns a
 * pointer into s. */
char *gl_str_trim(char *s);

/* FNV-1a of a string: for small in-memory hash tables. */
unsigned gl_str_hash(const char *s);

#endif
