#include "arena.h"
#include "gl_test.h"

#include <stdint.h>

static int cleaned;
static void count_cleanup(void *p)
{
    cleaned += *(int *)p;
}

TEST(alignment_and_reuse)
{
    gl_arena_t *a = gl_arena_create(256);
    for (size_t n = 1; n < 100; n++) {
        void *p = gl_arena_alloc(a, n);
        ASSERT_EQ((uintptr_t)p % 16, 0);
        memset(p, 0xab, n);
    }
    ASSERT(gl_arena_used(a) >= 4950);
    gl_arena_reset(a);
    ASSERT_EQ(gl_arena_used(a), 0);
    char *s = gl_arena_strdup(a, "after reset");
    ASSERT_STR_EQ(s, "after reset");
    gl_arena_destroy(a);
}

TEST(large_allocations_get_their_own_block)
{
    gl_arena_t *a = gl_arena_create(1024);
    char *small1 = gl_arena_alloc(a, 16);
    char *big = gl_arena_alloc(a, 100000);
    memset(big, 1, 100000);
    char *small2 = gl_arena_alloc(a, 16);
    /* the small allocation still comes from the first block, next to small1 */
    ASSERT_EQ(small2 - small1, 16);
    gl_arena_reset(a);
    big = gl_arena_alloc(a, 100000); /* freed and allocated again: ASan checks */
    memset(big, 2, 100000);
    gl_arena_destroy(a);
}

TEST(cleanups_run_on_reset_and_destroy_in_reverse)
{
    gl_arena_t *a = gl_arena_create(0);
    int one = 1, ten = 10;
    gl_arena_on_cleanup(a, count_cleanup, &one);
    gl_arena_on_cleanup(a, count_cleanup, &ten);
    gl_arena_reset(a);
    ASSERT_EQ(cleaned, 11);
    gl_arena_reset(a); /* no double run */
    ASSERT_EQ(cleaned, 11);
    gl_arena_on_cleanup(a, count_cleanup, &one);
    gl_arena_destroy(a);
    ASSERT_EQ(cleaned, 12);
}

TEST(printf_and_strndup)
{
    gl_arena_t *a = gl_arena_create(64);
    char *s = gl_arena_printf(a, "%s-%d-%s", "x", 42, "a longer string than the block size of sixty-four bytes");
    ASSERT_STR_EQ(s, "x-42-a longer string than the block size of sixty-four bytes");
    ASSERT_STR_EQ(gl_arena_strndup(a, "abcdef", 3), "abc");
    int *z = gl_arena_calloc(a, 10, sizeof(int));
    for (int i = 0; i < 10; i++)
        ASSERT_EQ(z[i], 0);
    gl_arena_destroy(a);
}

TEST_MAIN()
