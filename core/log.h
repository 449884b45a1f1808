/*
 * log.h: one line per event, on stderr or a file opened for append.
 *
 *   2026-11-25T17:20:00.123Z INFO glyphic-fcgi[4242] req=5f3a…: message
 *
 * or, with log.format = json,
 *
 *   {"time":"2026-11-25T17:20:00.123Z","level":"info","program":"glyphic-fcgi","pid":4242,
 *    "request_id":"5f3a…","message":"…"}
 *
 * gl_log() skips evaluating its arguments below the current level. The
 * context (request, job, execution ids) is set by the edge that owns it and
 * prefixed to every line until cleared. Never pass a secret to gl_log().
 */
#ifndef GL_LOG_H
#define GL_LOG_H

#include "gl.h"

typedef enum {
    GL_LOG_DEBUG = 0,
    GL_LOG_INFO = 1,
    GL_LOG_WARN = 2,
    GL_LOG_ERROR = 3,
} gl_log_level_t;

extern int gl_log_level_cur;

/* Program name for the prefix; level; path of a log file (NULL or "": stderr).
 * Returns GL_ERR (and keeps logging to stderr) if the file cannot be opened. */
int gl_log_init(const char *prog, int level, const char *path);
/* Reopens the log file (after logrotate moved it); SIGUSR1 does it too,
 * at the next line (gl_log_init installs the handler). */
void gl_log_reopen(void);
/* log.format = json: one JSON object per line (log.c). */
void gl_log_set_json(bool json);
/* Parses "debug" | "info" | "warn" | "error"; -1 if none of those. */
int gl_log_level_parse(const char *s);

/* Sets the context shown on every line, e.g. "req=abc"; NULL clears it. */
void gl_log_context(const char *ctx);

void gl__log(int level, const char *fmt, ...) GL_PRINTF(2, 3);

#define gl_log(level, ...)                          \
    do {                                            \
        if ((int)(level) >= gl_log_level_cur)       \
            gl__log((int)(level), __VA_ARGS__);     \
    } while (0)

#endif
