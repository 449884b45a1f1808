/* buf.c: capped growable buffers. */
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>

void gl_buf_init(gl_buf_t *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void gl_buf_free(gl_buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void gl_buf_reset(gl_buf_t *b, size_t keep)
{
    if (b->cap > keep) {
        gl_buf_free(b);
        return;
    }
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

static int reserve(gl_buf_t *b, size_t extra)
{
    size_t need;
    if (!gl_size_add(b->len, extra, &need) || need > b->max)
        return GL_TOO_LARGE;
    if (need + 1 <= b->cap)
        return GL_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need + 1) {
        if (!gl_size_mul(cap, 2, &cap))
            return GL_TOO_LARGE;
    }
    if (b->max < SIZE_MAX && cap > b->max + 1) /* (max + 1 would wrap) */
        cap = b->max + 1;
    b->data = gl_xrealloc(b->data, cap);
    b->cap = cap;
    return GL_OK;
}

int gl_buf_append(gl_buf_t *b, const void *data, size_t n)
{
    int rc = reserve(b, n);
    if (rc != GL_OK)
        return rc;
    if (n)
        memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
    return GL_OK;
}

int gl_buf_puts(gl_buf_t *b, const char *s)
{
    return gl_buf_append(b, s, strlen(s));
}

int gl_buf_printf(gl_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return GL_ERR;
    int rc = reserve(b, (size_t)n);
    if (rc != GL_OK)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return GL_OK;
}

static int json_escape(gl_buf_t *b, const char *s, size_t n, bool slash)
{
    static const char hex[] = "0123456789abcdef";
    size_t run = 0; /* start of the pending unescaped run */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\' && (c != '/' || !slash))
            continue;
        if (gl_buf_append(b, s + run, i - run) != GL_OK)
            return GL_TOO_LARGE;
        char esc[7] = { '\\', 0, 0, 0, 0, 0, 0 };
        size_t esc_len = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '/': esc[1] = '/'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            esc_len = 6;
        }
        if (gl_buf_append(b, esc, esc_len) != GL_OK)
            return GL_TOO_LARGE;
        run = i + 1;
    }
    return gl_buf_append(b, s + run, n - run);
}

int gl_buf_json_escape(gl_buf_t *b, const char *s, size_t n)
{
    return json_escape(b, s, n, false);
}

int gl_buf_json_escape_json_c(gl_buf_t *b, const char *s, size_t n)
{
    return json_escape(b, s, n, true);
}

static int put_digits(gl_buf_t *b, bool minus, uint64_t u)
{
    char d[24];
    size_t at = sizeof d;
    do {
        d[--at] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (minus)
        d[--at] = '-';
    return gl_buf_append(b, d + at, sizeof d - at);
}

int gl_buf_int(gl_buf_t *b, int64_t v)
{
    return put_digits(b, v < 0, v < 0 ? (uint64_t)-(v + 1) + 1 : (uint64_t)v);
}

int gl_buf_uint(gl_buf_t *b, uint64_t v)
{
    return put_digits(b, false, v);
}

int gl_buf_urlencode(gl_buf_t *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t run = 0; /* start of the pending run of bytes kept as they are */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
            c == '_' || c == '~')
            continue;
        char esc[3] = { '%', hex[c >> 4], hex[c & 15] };
        if (gl_buf_append(b, s + run, i - run) != GL_OK || gl_buf_append(b, esc, 3) != GL_OK)
            return GL_TOO_LARGE;
        run = i + 1;
    }
    return gl_buf_append(b, s + run, n - run) != GL_OK ? GL_TOO_LARGE : GL_OK;
}
