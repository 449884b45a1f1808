/*
 * gl_test.h: a minimal unit-test runner. A test file defines cases with
 * TEST(name) and ends with TEST_MAIN(); ctest runs each case as its own
 * process (`test_x name`), so one crash cannot hide another failure.
 * Assertions print both sides (libuv's ASSERT_EQ).
 */
#ifndef GL_TEST_H
#define GL_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name;
    void (*fn)(void);
} gl_test_case_t;

#define GL_TEST_MAX 128
static gl_test_case_t gl_test_cases[GL_TEST_MAX];
static int gl_test_n;

#define TEST(name)                                                          \
    static void test_##name(void);                                          \
    __attribute__((constructor)) static void register_##name(void)         \
    {                                                                       \
        if (gl_test_n < GL_TEST_MAX)                                        \
            gl_test_cases[gl_test_n++] = (gl_test_case_t){ #name, test_##name }; \
    }                                                                       \
    static void test_##name(void)

#define FAIL_AT(...)                                                        \
    do {                                                                    \
        fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                     \
        fprintf(stderr, __VA_ARGS__);                                       \
        fputc('\n', stderr);                                                \
        exit(1);                                                            \
    } while (0)

#define ASSERT(cond)                                                        \
    do {                                                                    \
        if (!(cond))                                                        \
            FAIL_AT("assertion failed: %s", #cond);                         \
    } while (0)

#define ASSERT_EQ(a, b)                                                     \
    do {                                                                    \
        int64_t a_ = (int64_t)(a), b_ = (int64_t)(b);                       \
        if (a_ != b_)                                                       \
            FAIL_AT("%s == %s: %" PRId64 " != %" PRId64, #a, #b, a_, b_);   \
    } while (0)

#define ASSERT_STR_EQ(a, b)                                                 \
    do {                                                                    \
        const char *a_ = (a), *b_ = (b);                                    \
        if (!a_ || !b_ || strcmp(a_, b_) != 0)                              \
            FAIL_AT("%s == %s: \"%s\" != \"%s\"", #a, #b, a_ ? a_ : "(null)", \
                    b_ ? b_ : "(null)");                                    \
    } while (0)

#define ASSERT_CONTAINS(hay, needle)                                        \
    do {                                                                    \
        const char *h_ = (hay), *n_ = (needle);                             \
        if (!h_ || !strstr(h_, n_))                                         \
            FAIL_AT("\"%s\" does not contain \"%s\"", h_ ? h_ : "(null)", n_); \
    } while (0)

#define TEST_MAIN()                                                         \
    int main(int argc, char **argv)                                         \
    {                                                                       \
        if (argc == 2 && strcmp(argv[1], "--list") == 0) {                  \
            for (int i = 0; i < gl_test_n; i++)                             \
                puts(gl_test_cases[i].name);                                \
            return 0;                                                       \
        }                                                                   \
        int ran = 0;                                                        \
        for (int i = 0; i < gl_test_n; i++) {                               \
            if (argc > 1 && strcmp(argv[1], gl_test_cases[i].name) != 0)    \
                continue;                                                   \
            gl_test_cases[i].fn();                                          \
            ran++;                                                          \
        }                                                                   \
        if (!ran) {                                                         \
            fprintf(stderr, "no such test case\n");                         \
            return 1;                                                       \
        }                                                                   \
        return 0;                                                           \
    }

#endif
