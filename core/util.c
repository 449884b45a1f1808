/* util.c: error contexts, fatal-on-failure allocation, clocks, number parsing. */
#include "gl.h"
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void gl_err_clear(gl_err_t *err)
{
    if (err) {
        err->msg[0] = '\0';
        err->field[0] = '\0';
        err->sqlstate[0] = '\0';
    }
}

void gl_err_set(gl_err_t *err, const char *fmt, ...)
{
    if (!err)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    gl_utf8_trim(err->msg); /* a cut message must still be storable text */
}

void gl_err_field(gl_err_t *err, const char *field, const char *fmt, ...)
{
    if (!err)
        return;
    snprintf(err->field, sizeof err->field, "%s", field);
    gl_utf8_trim(err->field);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    gl_utf8_trim(err->msg);
}

static void oom(size_t n)
{
    gl_log(GL_LOG_ERROR, "out of memory allocating %zu bytes", n);
    abort();
}

void *gl_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *gl_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom(n * size);
    return p;
}

void *gl_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *gl_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = gl_xmalloc(n);
    memcpy(p, s, n);
    return p;
}

int64_t gl_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t gl_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int gl_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (!s || !*s)
        return GL_INVALID;
    errno = 0;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0')
        return GL_INVALID;
    if (v < min || v > max)
        return GL_INVALID;
    *out = (int64_t)v;
    return GL_OK;
}

bool gl_is_uuid(const char *s)
{
    static const int dash[] = { 8, 13, 18, 23 };
    if (!s || strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool is_dash = i == dash[0] || i == dash[1] || i == dash[2] || i == dash[3];
        char c = s[i];
        if (is_dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    }
    return true;
}

size_t gl_utf8_seq(const unsigned char *s, size_t len)
{
    if (len == 0)
        return 0;
    unsigned char c = s[0];
    size_t n;
    unsigned cp, min;
    if (c < 0x80)
        return c ? 1 : 0;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2; cp = c & 0x1f; min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3; cp = c & 0x0f; min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4; cp = c & 0x07; min = 0x10000;
    } else {
        return 0;
    }
    if (len < n)
        return 0;
    for (size_t k = 1; k < n; k++) {
        if ((s[k] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[k] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

bool gl_utf8_valid(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0, n; i < len; i += n)
        if ((n = gl_utf8_seq(u + i, len - i)) == 0)
            return false;
    return true;
}

size_t gl_utf8_clean(char *dst, size_t cap, const char *src)
{
    const unsigned char *u = (const unsigned char *)src;
    size_t len = strlen(src), out = 0;
    for (size_t i = 0; i < len;) {
        size_t n = gl_utf8_seq(u + i, len - i);
        size_t take = n ? n : 1;
        if (out + take >= cap)
            break;
        if (n)
            memcpy(dst + out, src + i, n);
        else
            dst[out] = '?';
        out += take;
        i += take;
    }
    dst[out] = '\0';
    return out;
}

void gl_utf8_trim(char *s)
{
    size_t len = strlen(s);
    /* walk back over at most three continuation bytes to the lead byte */
    size_t i = len;
    while (i > 0 && len - i < 4 && ((unsigned char)s[i - 1] & 0xc0) == 0x80)
        i--;
    if (i == 0 || (unsigned char)s[i - 1] < 0x80)
        return;
    if (gl_utf8_seq((const unsigned char *)s + i - 1, len - i + 1) == len - i + 1)
        return; /* the last character is whole */
    s[i - 1] = '\0';
}

unsigned gl_str_hash(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}
