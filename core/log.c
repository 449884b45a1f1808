/*
 * log.c: line logger. Each line is formatted into one buffer and written
 * with a single write(2), so lines from several processes sharing the file
 * (O_APPEND) or a pipe do not interleave. Control characters in a message
 * are escaped so an event is always exactly one line.
 *
 * With log.format = json each line is one JSON object: time, level,
 * program, pid, the context's fields (req= becomes request_id; user, org,
 * job, execution, workflow by their names; a bare word is "context") and
 * message, escaped as JSON (bytes that are not UTF-8 as \u00XX).
 *
 * SIGUSR1 asks for the log file to be reopened (logrotate's postrotate):
 * the handler only sets a flag, and the next line opens the file anew.
 * Installed by gl_log_init; a fork keeps it, so every worker reopens its
 * own descriptor when it gets the signal (a supervisor passes it on).
 */
#include "log.h"

#include "utf8.h"

#include <signal.h>
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
static const char *const level_json[] = { "debug", "info", "warn", "error" };
static bool log_json;
static volatile sig_atomic_t reopen_pending;

static void on_usr1(int sig)
{
    (void)sig;
    reopen_pending = 1;
}

void gl_log_set_json(bool json)
{
    log_json = json;
}

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
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    (void)sigaction(SIGUSR1, &sa, NULL);
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

/* Appends s as JSON string content (no quotes) to line[*pos..cap-8). */
static void json_text(char *line, size_t cap, size_t *pos, const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n = strlen(s);
    for (size_t i = 0; i < n && *pos + 8 < cap;) {
        unsigned char c = u[i];
        size_t seq = c >= 0x80 ? gl_utf8_seq(u + i, n - i) : 1;
        if (c >= 0x80 && seq > 0 && *pos + seq + 8 < cap) {
            memcpy(line + *pos, u + i, seq);
            *pos += seq;
            i += seq;
            continue;
        }
        if (c == '"' || c == '\\') {
            line[(*pos)++] = '\\';
            line[(*pos)++] = (char)c;
        } else if (c == '\n') {
            memcpy(line + *pos, "\\n", 2), *pos += 2;
        } else if (c < 0x20 || c >= 0x7f) {
            *pos += (size_t)snprintf(line + *pos, 7, "\\u%04x", c); /* a byte that is not UTF-8: as Latin-1 */
        } else {
            line[(*pos)++] = (char)c;
        }
        i++;
    }
}

/* The context's "k=v" words as JSON members (",\"request_id\":\"…\"") into line. */
static void json_context(char *line, size_t cap, size_t *pos)
{
    char ctx[sizeof log_ctx];
    snprintf(ctx, sizeof ctx, "%s", log_ctx);
    for (char *save = NULL, *w = strtok_r(ctx, " ", &save); w && *pos + 32 < cap; w = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(w, '=');
        const char *key = "context", *val = w;
        if (eq) {
            *eq = '\0';
            key = strcmp(w, "req") == 0 ? "request_id" : strcmp(w, "exec") == 0 ? "execution" : w;
            val = eq + 1;
        }
        line[(*pos)++] = ',';
        line[(*pos)++] = '"';
        json_text(line, cap, pos, key);
        memcpy(line + *pos, "\":\"", 3), *pos += 3;
        json_text(line, cap, pos, val);
        line[(*pos)++] = '"';
    }
}

void gl__log(int level, const char *fmt, ...)
{
    if (level < GL_LOG_DEBUG || level > GL_LOG_ERROR)
        level = GL_LOG_ERROR;
    if (reopen_pending) {
        reopen_pending = 0;
        gl_log_reopen();
    }
    char line[2048], when[80];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
    int n = log_json ? snprintf(line, sizeof line, "{\"time\":\"%s\",\"level\":\"%s\",\"program\":\"%s\",\"pid\":%ld",
                                when, level_json[level], log_prog, (long)getpid())
                     : snprintf(line, sizeof line, "%s %s %s[%ld]%s%s: ", when, level_names[level], log_prog,
                                (long)getpid(), log_ctx[0] ? " " : "", log_ctx);
    if (n < 0)
        return;
    size_t pos = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;

    char msg[1536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);

    if (log_json) {
        json_context(line, sizeof line, &pos);
        memcpy(line + pos, ",\"message\":\"", 12), pos += 12;
        json_text(line, sizeof line - 3, &pos, msg);
        line[pos++] = '"';
        line[pos++] = '}';
    } else {
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
    }
    line[pos++] = '\n';
    ssize_t w;
    do {
        w = write(log_fd, line, pos);
    } while (w < 0 && errno == EINTR);
}
