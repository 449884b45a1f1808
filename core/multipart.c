/*
 * multipart.c: the streaming multipart/form-data parser (see multipart.h).
 *
 * States: PREAMBLE (looking for the first delimiter, dropping bytes) ->
 * AFTER (the delimiter matched: "--" ends the body, else blanks and CRLF
 * open a part) -> HEADERS (one part's header block, buffered, up to its
 * empty line) -> BODY (data up to the next delimiter) -> AFTER … ->
 * EPILOGUE (dropped). One small function per state, one switch.
 *
 * Finding the delimiter "CRLF--boundary" in data cut into chunks: CR
 * occurs in the delimiter only at its start (a boundary has no CR), so a
 * failed partial match never hides the start of another — scanning goes on
 * at the byte that failed — and a partial match at a chunk's end is a
 * prefix of the delimiter: the parser remembers its length, not its bytes.
 * Data runs between CRs are handed on whole (memchr), so a chunk costs a
 * few callbacks, not one per CR.
 */
#include "multipart.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

typedef enum { MP_PREAMBLE, MP_AFTER, MP_HEADERS, MP_BODY, MP_EPILOGUE } mp_state_t;

/* MP_AFTER's steps */
enum { AFTER_START, AFTER_DASH, AFTER_BLANK, AFTER_CR };

struct gl_multipart {
    gl_mp_handler_t h;
    mp_state_t state;
    int after;              /* MP_AFTER: where in "--" or [blanks] CRLF */
    char delim[4 + GL_MP_BOUNDARY_MAX + 1]; /* CRLF "--" boundary */
    size_t dlen;
    size_t m;               /* bytes of delim matched at the end of the last chunk */
    int parts, max_parts;
    int rc;                 /* the error that stopped the parser; GL_OK: none */
    gl_err_t err;
    size_t hlen;
    char hbuf[GL_MP_HEADER_MAX];
    char vbuf[GL_MP_HEADER_MAX + 16]; /* the values of the part being begun */
};

/* ---- header values ---- */

static bool blank(char c)
{
    return c == ' ' || c == '\t';
}

/* RFC 9110's tchar */
static bool tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

typedef struct {
    const char *s;
    size_t n, pos;
    char *out;    /* where values are written */
    size_t cap, o;
} hv_t;

static void skip_blanks(hv_t *h)
{
    while (h->pos < h->n && blank(h->s[h->pos]))
        h->pos++;
}

static bool put(hv_t *h, char c)
{
    if (h->o >= h->cap)
        return false;
    h->out[h->o++] = c;
    return true;
}

/* A token or a quoted string at h->pos, written NUL-terminated to out at
 * h->o. GL_OK or GL_INVALID. */
static int read_value(hv_t *h, gl_err_t *err)
{
    bool room = true;
    if (h->pos < h->n && h->s[h->pos] == '"') {
        h->pos++;
        for (;;) {
            if (h->pos == h->n) {
                gl_err_set(err, "unterminated quoted string in a header value");
                return GL_INVALID;
            }
            char c = h->s[h->pos++];
            if (c == '"')
                break;
            if (c == '\\') {
                if (h->pos == h->n) {
                    gl_err_set(err, "unterminated quoted string in a header value");
                    return GL_INVALID;
                }
                c = h->s[h->pos++];
            }
            room = room && put(h, c);
        }
    } else {
        while (h->pos < h->n && h->s[h->pos] != ';' && !blank(h->s[h->pos]))
            room = room && put(h, h->s[h->pos++]);
    }
    if (!(room && put(h, '\0'))) {
        gl_err_set(err, "header value too long");
        return GL_INVALID;
    }
    return GL_OK;
}

/* The next `; name=value` of h: 1 with *name (not NUL-terminated), its
 * length and the value at out + *value_at; 0 at the end; GL_INVALID. */
static int next_param(hv_t *h, const char **name, size_t *name_len, size_t *value_at, gl_err_t *err)
{
    skip_blanks(h);
    if (h->pos == h->n)
        return 0;
    if (h->s[h->pos] != ';') {
        gl_err_set(err, "expected ';' between header parameters");
        return GL_INVALID;
    }
    h->pos++;
    skip_blanks(h);
    if (h->pos == h->n)
        return 0; /* a trailing ';' */
    size_t start = h->pos;
    while (h->pos < h->n && tchar(h->s[h->pos]))
        h->pos++;
    *name = h->s + start;
    *name_len = h->pos - start;
    if (*name_len == 0) {
        gl_err_set(err, "a header parameter without a name");
        return GL_INVALID;
    }
    skip_blanks(h);
    if (h->pos == h->n || h->s[h->pos] != '=') {
        gl_err_set(err, "header parameter %.*s has no value", (int)(*name_len > 40 ? 40 : *name_len), *name);
        return GL_INVALID;
    }
    h->pos++;
    skip_blanks(h);
    *value_at = h->o;
    int rc = read_value(h, err);
    return rc == GL_OK ? 1 : rc;
}

static bool name_is(const char *name, size_t len, const char *want)
{
    return len == strlen(want) && strncasecmp(name, want, len) == 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* RFC 8187's charset'language'percent-encoded, decoded in place: true when
 * the charset is UTF-8 and the result valid UTF-8 without NUL. */
static bool ext_value(char *v)
{
    char *q1 = strchr(v, '\''), *q2 = q1 ? strchr(q1 + 1, '\'') : NULL;
    if (!q2 || q1 - v != 5 || strncasecmp(v, "utf-8", 5) != 0)
        return false;
    size_t o = 0;
    for (const char *p = q2 + 1; *p; p++) {
        char c = *p;
        if (c == '%') {
            int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);
            if (lo < 0)
                return false;
            c = (char)(hi * 16 + lo);
            p += 2;
        }
        v[o++] = c;
    }
    v[o] = '\0';
    return gl_utf8_valid(v, o);
}

int gl_mp_disposition_parse(const char *s, size_t n, gl_mp_disposition_t *d, char *out, size_t out_len,
                            gl_err_t *err)
{
    memset(d, 0, sizeof *d);
    hv_t h = { .s = s, .n = n, .out = out, .cap = out_len };
    skip_blanks(&h);
    size_t start = h.pos;
    while (h.pos < n && tchar(s[h.pos]))
        h.pos++;
    if (h.pos == start) {
        gl_err_set(err, "Content-Disposition has no type");
        return GL_INVALID;
    }
    for (size_t i = start; i < h.pos; i++)
        if (!put(&h, s[i]))
            break;
    if (!put(&h, '\0')) {
        gl_err_set(err, "header value too long");
        return GL_INVALID;
    }
    d->type = out;
    const char *name, *plain = NULL, *ext = NULL;
    size_t name_len, at;
    int rc;
    while ((rc = next_param(&h, &name, &name_len, &at, err)) == 1) {
        char *v = out + at;
        if (!d->name && name_is(name, name_len, "name"))
            d->name = v;
        else if (!plain && name_is(name, name_len, "filename"))
            plain = v;
        else if (!ext && name_is(name, name_len, "filename*") && ext_value(v))
            ext = v;
        else
            h.o = at; /* not kept: its room is reused */
    }
    if (rc != 0)
        return rc;
    d->file_name = ext ? ext : plain;
    return GL_OK;
}

bool gl_multipart_is_form(const char *ct)
{
    if (!ct)
        return false;
    while (blank(*ct))
        ct++;
    return strncasecmp(ct, "multipart/form-data", 19) == 0 &&
           (ct[19] == '\0' || ct[19] == ';' || blank(ct[19]));
}

/* RFC 2046's bchars */
static bool bchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("'()+_,-./:=? ", c) != NULL);
}

int gl_multipart_boundary(const char *ct, char *out, size_t out_len, gl_err_t *err)
{
    char vals[1024];
    size_t n = ct ? strlen(ct) : 0;
    if (n + 4 > sizeof vals) {
        gl_err_set(err, "Content-Type is longer than %zu bytes", sizeof vals - 4);
        return GL_INVALID;
    }
    hv_t h = { .s = ct, .n = n, .pos = ct ? strcspn(ct, ";") : 0, .out = vals, .cap = sizeof vals };
    const char *name, *boundary = NULL;
    size_t name_len, at;
    int rc;
    while ((rc = next_param(&h, &name, &name_len, &at, err)) == 1) {
        if (!boundary && name_is(name, name_len, "boundary"))
            boundary = vals + at;
        else
            h.o = at;
    }
    if (rc != 0)
        return rc;
    size_t blen = boundary ? strlen(boundary) : 0;
    bool ok = blen > 0 && blen <= GL_MP_BOUNDARY_MAX && blen < out_len && boundary[blen - 1] != ' ';
    for (size_t i = 0; ok && i < blen; i++)
        ok = bchar(boundary[i]);
    if (!ok) {
        gl_err_set(err, boundary ? "the multipart boundary must be 1-%d letters, digits or '()+_,-./:=? "
                                 : "a multipart Content-Type needs a boundary parameter (at most %d characters)",
                   GL_MP_BOUNDARY_MAX);
        return GL_INVALID;
    }
    memcpy(out, boundary, blen + 1);
    return GL_OK;
}

/* ---- the parser ---- */

gl_multipart_t *gl_multipart_new(gl_arena_t *a, const char *boundary, int max_parts, const gl_mp_handler_t *h)
{
    gl_multipart_t *mp = gl_arena_calloc(a, 1, sizeof *mp);
    mp->h = *h;
    mp->max_parts = max_parts;
    mp->state = MP_PREAMBLE;
    size_t blen = strnlen(boundary, GL_MP_BOUNDARY_MAX);
    memcpy(mp->delim, "\r\n--", 4);
    memcpy(mp->delim + 4, boundary, blen);
    mp->dlen = 4 + blen;
    mp->m = 2; /* the first delimiter may open the body: its CRLF counts as seen */
    gl_err_clear(&mp->err);
    return mp;
}

int gl_multipart_parts(const gl_multipart_t *mp)
{
    return mp->parts;
}

static void fail(gl_multipart_t *mp, const char *fmt, ...) GL_PRINTF(2, 3);
static void fail(gl_multipart_t *mp, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(mp->err.msg, sizeof mp->err.msg, fmt, ap);
    va_end(ap);
    mp->rc = GL_INVALID;
}

/* A callback's answer: a failure stops the parser with its error. */
static bool called(gl_multipart_t *mp, int rc, const gl_err_t *err)
{
    if (rc == GL_OK)
        return true;
    mp->err = *err;
    if (!mp->err.msg[0])
        snprintf(mp->err.msg, sizeof mp->err.msg, "the multipart body was refused");
    mp->rc = rc;
    return false;
}

static bool emit(gl_multipart_t *mp, const char *p, size_t n)
{
    gl_err_t err;
    gl_err_clear(&err);
    return n == 0 || called(mp, mp->h.data(mp->h.ud, p, n, &err), &err);
}

/* The delimiter matched: the part (if any) ends. */
static void delimiter(gl_multipart_t *mp)
{
    bool in_part = mp->state == MP_BODY;
    mp->state = MP_AFTER;
    mp->after = AFTER_START;
    mp->m = 0;
    gl_err_t err;
    gl_err_clear(&err);
    if (in_part)
        called(mp, mp->h.end(mp->h.ud, &err), &err);
}

/* PREAMBLE and BODY: p[0..n) up to the delimiter; in BODY what comes
 * before it is the part's data. Returns the bytes consumed. */
static size_t scan(gl_multipart_t *mp, const char *p, size_t n)
{
    bool data = mp->state == MP_BODY;
    size_t i = 0, start = 0;
    if (mp->m > 0) {
        /* a match carried over from the last chunk */
        size_t carried = mp->m;
        while (i < n && mp->m < mp->dlen && p[i] == mp->delim[mp->m])
            mp->m++, i++;
        if (mp->m == mp->dlen) {
            delimiter(mp);
            return i;
        }
        if (i == n)
            return n;
        /* it was data after all: the carried bytes (a prefix of the
         * delimiter) and p[0..i), which hold no CR */
        if (data && !emit(mp, mp->delim, carried))
            return n;
        mp->m = 0;
    }
    while (i < n) {
        const char *cr = memchr(p + i, '\r', n - i);
        if (!cr)
            break;
        size_t at = (size_t)(cr - p), k = 0;
        while (at + k < n && k < mp->dlen && p[at + k] == mp->delim[k])
            k++;
        if (k == mp->dlen || at + k == n) {
            if (data && !emit(mp, p + start, at - start))
                return n;
            if (k == mp->dlen) {
                delimiter(mp);
                return at + k;
            }
            mp->m = k; /* a partial match at the chunk's end */
            return n;
        }
        i = at + k; /* the byte that failed may start the delimiter */
    }
    if (data)
        emit(mp, p + start, n - start);
    return n;
}

/* AFTER: one byte after a delimiter. */
static void after(gl_multipart_t *mp, char c)
{
    switch (mp->after) {
    case AFTER_START:
    case AFTER_BLANK:
        if (c == '-' && mp->after == AFTER_START)
            mp->after = AFTER_DASH;
        else if (blank(c))
            mp->after = AFTER_BLANK;
        else if (c == '\r')
            mp->after = AFTER_CR;
        else
            fail(mp, "a multipart boundary line must end with CRLF (or -- after the last part)");
        return;
    case AFTER_DASH:
        if (c == '-')
            mp->state = MP_EPILOGUE;
        else
            fail(mp, "a multipart boundary line must end with CRLF (or -- after the last part)");
        return;
    case AFTER_CR:
        if (c != '\n') {
            fail(mp, "a multipart boundary line must end with CRLF (or -- after the last part)");
            return;
        }
        if (mp->parts == mp->max_parts) {
            fail(mp, "the multipart body has more than %d parts", mp->max_parts);
            return;
        }
        mp->parts++;
        mp->state = MP_HEADERS;
        mp->hlen = 0;
        return;
    }
}

/* A header line, line[0..n), is "Name: value", unfolded, without control
 * characters: the name's length, or 0 (and the parser failed). */
static size_t line_ok(gl_multipart_t *mp, const char *line, size_t n)
{
    if (blank(line[0])) {
        fail(mp, "folded part headers are not supported");
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)line[i] < 0x20 && line[i] != '\t') || line[i] == 0x7f) {
            fail(mp, "a control character in a part's headers");
            return 0;
        }
    const char *colon = memchr(line, ':', n);
    size_t name_len = colon ? (size_t)(colon - line) : 0;
    for (size_t i = 0; i < name_len; i++)
        if (!tchar(line[i]))
            name_len = 0;
    if (name_len == 0)
        fail(mp, "a part's header line is not 'Name: value'");
    return name_len;
}

/* Content-Disposition or Content-Type, value v[0..n), into *part (values
 * in mp->vbuf at *o). */
static bool header(gl_multipart_t *mp, const char *name, size_t name_len, const char *v, size_t n,
                   gl_mp_part_t *part, size_t *o, bool *have_disp)
{
    while (n && blank(*v))
        v++, n--;
    while (n && blank(v[n - 1]))
        n--;
    if (name_is(name, name_len, "content-disposition")) {
        if (*have_disp) {
            fail(mp, "a part has two Content-Disposition headers");
            return false;
        }
        *have_disp = true;
        gl_mp_disposition_t d;
        gl_err_t err;
        gl_err_clear(&err);
        if (gl_mp_disposition_parse(v, n, &d, mp->vbuf + *o, sizeof mp->vbuf - *o, &err) != GL_OK) {
            fail(mp, "a part's Content-Disposition: %s", err.msg);
            return false;
        }
        if (strcasecmp(d.type, "form-data") != 0 || !d.name || !*d.name) {
            fail(mp, "a part's Content-Disposition must be form-data with a name");
            return false;
        }
        part->name = d.name;
        part->file_name = d.file_name;
        *o += n + 4;
    } else if (name_is(name, name_len, "content-type") && !part->content_type) {
        memcpy(mp->vbuf + *o, v, n);
        mp->vbuf[*o + n] = '\0';
        part->content_type = mp->vbuf + *o;
        *o += n + 1;
    }
    return true;
}

/* The header block in hbuf is complete (every line of it ends with CRLF):
 * check every line, read the two headers, begin the part. */
static void begin_part(gl_multipart_t *mp)
{
    size_t end = mp->hlen - 2; /* without the empty line's CRLF */
    for (size_t i = 0; i < end;) {
        size_t n = (size_t)((const char *)memmem(mp->hbuf + i, end - i + 2, "\r\n", 2) - (mp->hbuf + i));
        if (!line_ok(mp, mp->hbuf + i, n))
            return;
        i += n + 2;
    }
    gl_mp_part_t part = { 0 };
    size_t o = 0;
    bool have_disp = false;
    for (size_t i = 0; i < end;) {
        const char *line = mp->hbuf + i;
        size_t n = (size_t)((const char *)memmem(line, end - i + 2, "\r\n", 2) - line);
        size_t name_len = (size_t)((const char *)memchr(line, ':', n) - line);
        if (!header(mp, line, name_len, line + name_len + 1, n - name_len - 1, &part, &o, &have_disp))
            return;
        i += n + 2;
    }
    if (!have_disp) {
        fail(mp, "a part has no Content-Disposition header");
        return;
    }
    gl_err_t err;
    gl_err_clear(&err);
    if (called(mp, mp->h.begin(mp->h.ud, &part, &err), &err)) {
        mp->state = MP_BODY;
        mp->m = 0;
    }
}

/* HEADERS: bytes of the header block, up to its empty line. Returns the
 * bytes consumed. */
static size_t headers(gl_multipart_t *mp, const char *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        if (mp->hlen == sizeof mp->hbuf) {
            fail(mp, "a part's headers are longer than %d bytes", GL_MP_HEADER_MAX);
            return n;
        }
        char c = p[i++];
        mp->hbuf[mp->hlen++] = c;
        size_t h = mp->hlen;
        if (c == '\n' && h >= 2 && mp->hbuf[h - 2] == '\r' &&
            (h == 2 || (h >= 4 && mp->hbuf[h - 3] == '\n' && mp->hbuf[h - 4] == '\r'))) {
            begin_part(mp);
            return i;
        }
    }
    return n;
}

int gl_multipart_feed(gl_multipart_t *mp, const char *buf, size_t len, gl_err_t *err)
{
    size_t i = 0;
    while (i < len && mp->rc == GL_OK) {
        switch (mp->state) {
        case MP_PREAMBLE:
        case MP_BODY:
            i += scan(mp, buf + i, len - i);
            break;
        case MP_AFTER:
            after(mp, buf[i++]);
            break;
        case MP_HEADERS:
            i += headers(mp, buf + i, len - i);
            break;
        case MP_EPILOGUE:
            i = len;
            break;
        }
    }
    if (mp->rc != GL_OK) {
        *err = mp->err;
        return mp->rc;
    }
    return GL_OK;
}

int gl_multipart_end(gl_multipart_t *mp, gl_err_t *err)
{
    if (mp->rc == GL_OK && mp->state != MP_EPILOGUE)
        fail(mp, mp->parts == 0 && mp->state == MP_PREAMBLE
                     ? "the multipart body has no boundary line (--%s)"
                     : "the multipart body ends before its closing boundary (--%s--)",
             mp->delim + 4);
    if (mp->rc != GL_OK) {
        *err = mp->err;
        return mp->rc;
    }
    return GL_OK;
}
