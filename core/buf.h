/*
 * buf.h: growable byte buffers with a named cap, and length-carrying string
 * views. A buffer never grows past its cap: appends fail with GL_TOO_LARGE
 * instead (curl's dynbuf). The contents are always NUL-terminated.
 */
#ifndef GL_BUF_H
#define GL_BUF_H

#include "gl.h"

#include <stdarg.h>
#include <string.h>

typedef struct {
    const char *p;
    size_t len;
} gl_str_t;

#define GL_STR(lit) ((gl_str_t){ (lit), sizeof(lit) - 1 })

static inline bool gl_str_eq(gl_str_t s, const char *z)
{
    size_t n = strlen(z);
    return s.len == n && memcmp(s.p, z, n) == 0;
}

typedef struct {
    char *data;  /* heap memory owned by the buffer; NULL until first append */
    size_t len;
    size_t cap;  /* allocated bytes */
    size_t max;  /* the most bytes the buffer may hold */
} gl_buf_t;

/* Sets up an empty buffer holding at most max bytes. */
void gl_buf_init(gl_buf_t *b, size_t max);
/* Frees the buffer's memory; it may be initialised again. */
void gl_buf_free(gl_buf_t *b);
/* Empties the buffer, keeping its memory unless it grew past keep bytes. */
void gl_buf_reset(gl_buf_t *b, size_t keep);

int gl_buf_append(gl_buf_t *b, const void *data, size_t n) GL_WUR;
int gl_buf_puts(gl_buf_t *b, const char *s) GL_WUR;
int gl_buf_printf(gl_buf_t *b, const char *fmt, ...) GL_PRINTF(2, 3) GL_WUR;
/* Appends s as the inside of a JSON string (no quotes), escaped. */
int gl_buf_json_escape(gl_buf_t *b, const char *s, size_t n) GL_WUR;
/* gl_buf_json_escape escaping '/' too, as json-c writes strings. */
int gl_buf_json_escape_json_c(gl_buf_t *b, const char *s, size_t n) GL_WUR;
/* Appends v in decimal (as printf's %lld / %llu, without printf). */
int gl_buf_int(gl_buf_t *b, int64_t v) GL_WUR;
int gl_buf_uint(gl_buf_t *b, uint64_t v) GL_WUR;
/* Appends s[0..n) percent-encoded: every byte but ALPHA DIGIT - . _ ~ as
 * %XX (upper-case hex, as curl_easy_escape writes it); fit for a query
 * string or an application/x-www-form-urlencoded body. */
int gl_buf_urlencode(gl_buf_t *b, const char *s, size_t n) GL_WUR;

#endif
