/*
 * fuzz.h: what the libFuzzer targets share (tests/fuzz, scripts/fuzz).
 * Each target defines LLVMFuzzerTestOneInput; a broken invariant aborts
 * (FUZZ_CHECK), which libFuzzer reports as a crash with its input saved.
 */
#ifndef GL_FUZZ_H
#define GL_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CHECK(cond)                                                              \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                  \
        }                                                                             \
    } while (0)

/* data[0..size) as a NUL-terminated string (cut at the first NUL), malloc'd:
 * the caller frees it. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* Splits off the next line of *data (up to '\n', which is consumed) as a
 * malloc'd NUL-terminated string the caller frees; the rest stays in
 * *data and *size. */
static inline char *fuzz_line(const uint8_t **data, size_t *size)
{
    const uint8_t *nl = memchr(*data, '\n', *size);
    size_t n = nl ? (size_t)(nl - *data) : *size;
    char *s = fuzz_cstr(*data, n);
    *data += nl ? n + 1 : n;
    *size -= nl ? n + 1 : n;
    return s;
}

#endif
