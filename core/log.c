/*
 * log.c: line logger. Each line is formatted into one buffer and written
 * with a single write(2), so lines from several processes sharing the file
 * (O_APPEND) or a pipe do not interleave. Control characters in a message
 * are escaped so an event is always exactly one line.
 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

int gl_log_level_cur = GL_LOG_INFO;

static char log_prog[32] = "glyphic";
static char log_path[512];
static int log_fd = STDERR_FILENO;
static _Thread_local char log_ctx[160]; /* per thread: a helper thread logs without one */

static const char *const level_names[] = { "DEBUG", "INFO", "WARN", "ERROR" };

int gl_log_level_parse(const char *s)
{
    static const char *const names[] = { "debug", "info", "warn", "error" };
    for (size_t i = 0; i < GL_NELEM(names); i++)
        if (strcasecmp(s, names[i]) == 0)
            return (int)i;
    return -1;
}

static int open_log(void)
{
    if (!log_path[0])
        return STDERR_FILENO;
    int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    return fd;
}

int gl_log_init(const char *prog, int level, const char *path)
{
    snprintf(log_prog, sizeof log_prog, "%s", prog ? prog : "glyphic");
    gl_log_level_cur = level;
    if (log_fd != STDERR_FILENO)
        close(log_fd);
    if (snprintf(log_path, sizeof log_path, "%s", path ? path : "") >= (int)sizeof log_path) {
        log_fd = STDERR_FILENO; /* a cut path would name another file */
        log_path[0] = '\0';
        gl__log(GL_LOG_ERROR, "log file path longer than %zu bytes; logging to standard error", sizeof log_path - 1);
        return GL_ERR;
    }
    log_fd = open_log();
    if (log_fd < 0) {
        int saved = errno;
        log_fd = STDERR_FILENO;
        gl__log(GL_LOG_ERROR, "cannot open log file %s: %s", log_path, strerror(saved));
        log_path[0] = '\0';
        return GL_ERR;
    }
    return GL_OK;
}

void gl_log_reopen(void)
{
    if (!log_path[0])
        return;
    int fd = open_log();
    if (fd < 0)
        return; /* keep the old descriptor */
    if (log_fd != STDERR_FILENO)
        close(log_fd);
    log_fd = fd;
}

void gl_log_context(const char *ctx)
{
    if (!ctx)
        log_ctx[0] = '\0';
    else
        snprintf(log_ctx, sizeof log_ctx, "%s", ctx);
}

void gl__log(int level, const char *fmt, ...)
{
    if (level < GL_LOG_DEBUG || level > GL_LOG_ERROR)
        level = GL_LOG_ERROR;
    char line[2048];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s[%ld]%s%s: ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000, level_names[level], log_prog,
                     (long)getpid(), log_ctx[0] ? " " : "", log_ctx);
    if (n < 0)
        return;
    size_t pos = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;

    char msg[1536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);

    /* copy the message, escaping control characters; keep room for "\n" */
    for (const char *m = msg; *m && pos + 5 < sizeof line; m++) {
        unsigned char c = (unsigned char)*m;
        if (c == '\n' || c == '\r' || c == '\t') {
            line[pos++] = '\\';
            line[pos++] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
        } else if (c < 0x20 || c == 0x7f) {
            pos += (size_t)snprintf(line + pos, 5, "\\x%02x", c);
        } else {
            line[pos++] = (char)c;
        }
    }
    line[pos++] = '\n';
    ssize_t w;
    do {
        w = write(log_fd, line, pos);
    } while (w < 0 && errno == EINTR);
}
