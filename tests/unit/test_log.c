#include "gl_test.h"
#include "log.h"

#include <stdlib.h>
#include <unistd.h>

static char *slurp(const char *p)
{
    FILE *f = fopen(p, "r");
    ASSERT(f);
    static char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static int evaluated;
static int side_effect(void)
{
    return ++evaluated;
}

TEST(one_line_per_event_with_context)
{
    char path[] = "/tmp/gl-log-test-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    ASSERT_EQ(gl_log_init("test", GL_LOG_INFO, path), GL_OK);
    gl_log_context("req=abc123");
    gl_log(GL_LOG_INFO, "two\nlines\rand\ttab \x01");
    gl_log_context(NULL);
    gl_log(GL_LOG_WARN, "no context");
    gl_log(GL_LOG_DEBUG, "hidden %d", side_effect());
    ASSERT_EQ(evaluated, 0); /* arguments below the level are not evaluated */
    char *text = slurp(path);
    ASSERT_CONTAINS(text, " INFO test[");
    ASSERT_CONTAINS(text, "] req=abc123: two\\nlines\\rand\\ttab \\x01\n");
    ASSERT_CONTAINS(text, " WARN test[");
    ASSERT(strstr(text, "hidden") == NULL);
    int lines = 0;
    for (char *c = text; *c; c++)
        lines += *c == '\n';
    ASSERT_EQ(lines, 2);
    unlink(path);
}

TEST(level_parse)
{
    ASSERT_EQ(gl_log_level_parse("debug"), GL_LOG_DEBUG);
    ASSERT_EQ(gl_log_level_parse("WARN"), GL_LOG_WARN);
    ASSERT_EQ(gl_log_level_parse("verbose"), -1);
}

TEST_MAIN()
