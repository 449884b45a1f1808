#include "buf.h"
#include "gl_test.h"

TEST(append_within_cap)
{
    gl_buf_t b;
    gl_buf_init(&b, 10);
    ASSERT_EQ(gl_buf_puts(&b, "hello"), GL_OK);
    ASSERT_EQ(gl_buf_printf(&b, "%d", 12345), GL_OK);
    ASSERT_STR_EQ(b.data, "hello12345");
    ASSERT_EQ(b.len, 10);
    ASSERT_EQ(gl_buf_puts(&b, "x"), GL_TOO_LARGE);
    ASSERT_STR_EQ(b.data, "hello12345"); /* unchanged on failure */
    gl_buf_free(&b);
}

TEST(printf_over_cap_fails_cleanly)
{
    gl_buf_t b;
    gl_buf_init(&b, 8);
    ASSERT_EQ(gl_buf_printf(&b, "%s", "123456789"), GL_TOO_LARGE);
    ASSERT_EQ(b.len, 0);
    gl_buf_free(&b);
}

TEST(reset_keeps_or_frees)
{
    gl_buf_t b;
    gl_buf_init(&b, 1 << 20);
    char big[5000];
    memset(big, 'a', sizeof big);
    ASSERT_EQ(gl_buf_append(&b, big, sizeof big), GL_OK);
    gl_buf_reset(&b, 1 << 20);
    ASSERT(b.data != NULL);
    ASSERT_EQ(b.len, 0);
    ASSERT_EQ(gl_buf_append(&b, big, sizeof big), GL_OK);
    gl_buf_reset(&b, 1024);
    ASSERT(b.data == NULL);
    gl_buf_free(&b);
}

TEST(json_escape)
{
    gl_buf_t b;
    gl_buf_init(&b, 1024);
    const char in[] = "a\"b\\c\nd\x01\x1f\tz\xc3\xa9";
    ASSERT_EQ(gl_buf_json_escape(&b, in, sizeof in - 1), GL_OK);
    ASSERT_STR_EQ(b.data, "a\\\"b\\\\c\\nd\\u0001\\u001f\\tz\xc3\xa9");
    gl_buf_free(&b);
}

TEST_MAIN()
