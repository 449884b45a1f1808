/*
 * multipart.h: a streaming parser of multipart/form-data bodies (RFC 7578
 * over the multipart syntax of RFC 2046). The body is fed in chunks of any
 * size, cut anywhere; the parser hands on each part's headers once, then
 * its data in pieces, then its end — so a caller can stream a file part to
 * disk as it arrives and never holds the body.
 *
 *   [preamble CRLF] "--" boundary [LWSP] CRLF
 *   part-headers CRLF
 *   data CRLF "--" boundary [LWSP] CRLF      (another part follows)
 *   ...
 *   data CRLF "--" boundary "--" [epilogue]  (the close delimiter)
 *
 * The first delimiter may open the body without a CRLF before it. Lines
 * end with CRLF only. A part's headers are at most GL_MP_HEADER_MAX bytes,
 * not folded, free of control characters; Content-Disposition is required
 * (type form-data, a non-empty name), Content-Type is passed on, other
 * headers are ignored. Nothing is buffered but one part's headers: the
 * delimiter being matched across a chunk's edge is a prefix of the known
 * delimiter, so the parser needs no copy of those bytes.
 *
 * Header values (Content-Disposition of parts, and of raw bodies) are read
 * by gl_mp_disposition_parse: `type *(; name=value)` with token or quoted
 * values (backslash escapes), and RFC 8187's filename*=UTF-8''… .
 */
#ifndef GL_MULTIPART_H
#define GL_MULTIPART_H

#include "arena.h"
#include "gl.h"

#define GL_MP_BOUNDARY_MAX 70  /* RFC 2046 */
#define GL_MP_HEADER_MAX 8192  /* the header block of one part */
#define GL_MP_MAX_PARTS 100    /* parts of one body, by default */

/* One part as its headers describe it; the strings live until the
 * part's begin callback returns. */
typedef struct {
    const char *name;         /* the form field's name: never NULL or empty */
    const char *file_name;    /* filename*= (UTF-8) or filename=, as sent (unsanitised); NULL: a field,
                               * not a file */
    const char *content_type; /* the part's Content-Type; NULL: none */
} gl_mp_part_t;

/* What the parser calls. Each returns GL_OK, or an error (with err set)
 * that stops the parser and is returned by the gl_multipart_feed call. */
typedef struct {
    int (*begin)(void *ud, const gl_mp_part_t *part, gl_err_t *err);
    int (*data)(void *ud, const char *buf, size_t len, gl_err_t *err);
    int (*end)(void *ud, gl_err_t *err);
    void *ud;
} gl_mp_handler_t;

typedef struct gl_multipart gl_multipart_t;

/* True when content_type is multipart/form-data (any parameters). */
bool gl_multipart_is_form(const char *content_type);

/* The boundary parameter of a multipart Content-Type into out (at least
 * GL_MP_BOUNDARY_MAX + 1 bytes): GL_OK, or GL_INVALID (err set) when it is
 * missing or not 1-70 of RFC 2046's characters. */
int gl_multipart_boundary(const char *content_type, char *out, size_t out_len, gl_err_t *err) GL_WUR;

/* A parser of a body with that boundary, calling h (copied), refusing the
 * part after max_parts. Allocated in a (about 17 KiB; freed with it). */
gl_multipart_t *gl_multipart_new(gl_arena_t *a, const char *boundary, int max_parts, const gl_mp_handler_t *h);

/*
 * Parses buf[0..len), the next bytes of the body. GL_OK; GL_INVALID (err
 * says what is malformed) or a callback's error, after which every call
 * returns that error again. Bytes after the close delimiter are ignored.
 */
int gl_multipart_feed(gl_multipart_t *mp, const char *buf, size_t len, gl_err_t *err) GL_WUR;

/* The body ended: GL_OK when the close delimiter was seen, else GL_INVALID
 * (or the error that stopped the parser). */
int gl_multipart_end(gl_multipart_t *mp, gl_err_t *err) GL_WUR;

/* Parts begun so far. */
int gl_multipart_parts(const gl_multipart_t *mp);

/* A Content-Disposition value, parsed. */
typedef struct {
    const char *type;      /* "form-data", "attachment", … as sent */
    const char *name;      /* NULL: absent */
    const char *file_name; /* filename*= when it is valid UTF-8, else filename=; NULL: neither */
} gl_mp_disposition_t;

/*
 * Parses the Content-Disposition value s[0..n): a type, then `; name=value`
 * parameters (names case-insensitive, the first of a name counts, unknown
 * ones ignored), each value a token or a quoted string whose backslash
 * escapes are undone. The strings go into out[0..out_len) — n + 4 bytes
 * always suffice — and *d points into it. GL_OK, or GL_INVALID with err
 * set.
 */
int gl_mp_disposition_parse(const char *s, size_t n, gl_mp_disposition_t *d, char *out, size_t out_len,
                            gl_err_t *err) GL_WUR;

#endif
