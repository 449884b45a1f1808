/*
 * record.h: glyphic-events writes glyphic-fcgi's direct webhook runs a
 * batch at a time (record.c, core/hook_batch.h).
 */
#ifndef GL_EVENTS_RECORD_H
#define GL_EVENTS_RECORD_H

#include "server.h"

typedef struct gl_recorder gl_recorder_t;

/* Listens on events.record_socket (or the default beside events.socket).
 * A socket that cannot be listened on is logged and leaves the workers
 * recording their own runs; NULL only when out of memory. */
gl_recorder_t *gl_recorder_new(gl_server_t *srv);
/* Stops listening and starting batches (before the database goes: the
 * batches it ends then answer "alone"). */
void gl_recorder_close(gl_recorder_t *rec);
void gl_recorder_free(gl_recorder_t *rec);

#endif
