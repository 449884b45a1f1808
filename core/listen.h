/*
 * listen.h: a listening socket from a configured address — a unix socket
 * path (a stale socket file is replaced, one in use is refused, the file
 * gets mode), or host:port for TCP. glyphic-fcgi and glyphic-events.
 */
#ifndef GL_LISTEN_H
#define GL_LISTEN_H

#include "gl.h"

/* Returns the listening fd (close-on-exec), or -1 with err set. what
 * names the key in messages (e.g. "fcgi.socket"); *created is true when a
 * socket file was made (the caller unlinks it when done). */
int gl_listen(const char *what, const char *spec, int mode, int backlog, bool *created, gl_err_t *err) GL_WUR;

#endif
