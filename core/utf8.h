/*
 * utf8.h: UTF-8, the one place that decodes, encodes, checks and cuts it,
 * and maps case (through utf8proc's Unicode tables). gl.h includes it, so
 * every file has it.
 */
#ifndef GL_UTF8_H
#define GL_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Length (1-4) of the valid UTF-8 sequence at s[0..len): no overlongs,
 * surrogates or code points past U+10FFFF; 0 when it is not one, or is
 * NUL. */
size_t gl_utf8_seq(const unsigned char *s, size_t len);
/* True when s[0..len) is valid UTF-8 without NUL bytes. */
bool gl_utf8_valid(const char *s, size_t len);
/* Copies src (NUL-terminated) into dst[0..cap), cap >= 4, as valid UTF-8
 * that PostgreSQL can store: each byte that starts no valid sequence
 * becomes '?', and the text is cut at a character boundary to fit. Returns
 * the length written. */
size_t gl_utf8_clean(char *dst, size_t cap, const char *src);
/* Cuts an incomplete UTF-8 sequence off the end of s (a snprintf that
 * truncated mid-character). */
void gl_utf8_trim(char *s);

/* Decodes the code point at s[i] (i < n) into *cp and returns its byte
 * length; a byte that starts no valid sequence is U+FFFD of length 1, and
 * NUL is U+0000 of length 1. */
size_t gl_utf8_decode(const char *s, size_t n, size_t i, uint32_t *cp);
/* Writes code point cp (not a surrogate, at most U+10FFFF) as UTF-8;
 * returns its length, 1-4. */
size_t gl_utf8_encode(uint32_t cp, char out[4]);
/* Code points in s[0..n) (an invalid byte counts as one). */
size_t gl_utf8_count(const char *s, size_t n);
/* Byte offset of code point number idx in s[0..n) (n when past the end). */
size_t gl_utf8_offset(const char *s, size_t n, size_t idx);

/* The most bytes gl_utf8_case writes for one code point. */
#define GL_UTF8_CASE_MAX 8

/*
 * The upper- or lowercase form of code point cp, as JavaScript's
 * toUpperCase/toLowerCase give it outside any locale, into out as UTF-8;
 * returns its length. Unicode's simple mappings (utf8proc) plus the two
 * expansions of SpecialCasing that come up in real text: ß uppercases to
 * "SS" and İ lowercases to "i̇" (i + U+0307). The other unconditional
 * expansions (ligatures such as ﬁ → "FI", ŉ, ǰ, ΐ, Greek capitals with
 * ypogegrammeni) map simply or not at all, and final sigma is not told
 * apart: Σ lowercases to σ everywhere.
 */
size_t gl_utf8_case(uint32_t cp, bool upper, char out[GL_UTF8_CASE_MAX]);

#endif
