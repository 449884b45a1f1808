/*
 * utf8.c: UTF-8 (see utf8.h). Case mapping uses utf8proc, which tracks the
 * Unicode character database, instead of tables of our own.
 */
#include "utf8.h"

#include <string.h>
#include <utf8proc.h>

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

size_t gl_utf8_decode(const char *s, size_t n, size_t i, uint32_t *cp)
{
    const unsigned char *u = (const unsigned char *)s + i;
    if (u[0] < 0x80) {
        *cp = u[0];
        return 1;
    }
    size_t len = gl_utf8_seq(u, n - i);
    if (len == 0) {
        *cp = 0xFFFD;
        return 1;
    }
    static const unsigned char lead_mask[] = { 0, 0, 0x1f, 0x0f, 0x07 };
    uint32_t v = u[0] & lead_mask[len];
    for (size_t k = 1; k < len; k++)
        v = (v << 6) | (u[k] & 0x3f);
    *cp = v;
    return len;
}

size_t gl_utf8_encode(uint32_t cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

size_t gl_utf8_count(const char *s, size_t n)
{
    size_t count = 0;
    uint32_t cp;
    for (size_t i = 0; i < n; i += gl_utf8_decode(s, n, i, &cp))
        count++;
    return count;
}

size_t gl_utf8_offset(const char *s, size_t n, size_t idx)
{
    size_t i = 0;
    uint32_t cp;
    while (idx > 0 && i < n) {
        i += gl_utf8_decode(s, n, i, &cp);
        idx--;
    }
    return i;
}

size_t gl_utf8_case(uint32_t cp, bool upper, char out[GL_UTF8_CASE_MAX])
{
    if (upper && cp == 0xDF) { /* ß */
        memcpy(out, "SS", 2);
        return 2;
    }
    if (!upper && cp == 0x130) { /* İ: i and a combining dot above */
        memcpy(out, "i\xCC\x87", 3);
        return 3;
    }
    utf8proc_int32_t m = upper ? utf8proc_toupper((utf8proc_int32_t)cp) : utf8proc_tolower((utf8proc_int32_t)cp);
    return gl_utf8_encode((uint32_t)m, out);
}
