/*
 * hook_batch.h: glyphic-fcgi's direct webhook runs recorded a batch at a
 * time by glyphic-events (sql/029_hook_batches.sql).
 *
 * The protocol, on a unix stream socket (events.record_socket): the worker
 * sends a frame — a 4-byte big-endian length, then that many bytes: one
 * run, a JSON object with hook_record's arguments (path, version, id, item,
 * status, steps, output, response, error, started_ms) — and reads back one
 * frame holding one word, its outcome:
 *
 *   recorded  written and committed, with every other run of its batch
 *   changed   the webhook moved: look it up again (hook_record's 40001)
 *   limited   the org is over its webhook limit (hook_record's NULL)
 *   alone     not written: record it yourself with hook_record
 *
 * glyphic-events writes the runs that arrive while its previous batches are
 * being written with one statement, so under load one commit covers many
 * calls; a lone call waits for nothing but its own statement. No answer (a
 * glyphic-events that is down, stopped or stalled) is not an outcome: the
 * run may or may not be written, so the worker records it itself, and the
 * execution id it chose makes that idempotent — a batch that did commit
 * meets the worker's hook_record with a unique violation on that id.
 */
#ifndef GL_HOOK_BATCH_H
#define GL_HOOK_BATCH_H

#include "gl.h"

#include <stddef.h>
#include <stdint.h>

#define GL_HOOK_BATCH_MAX_RUN (32u << 20) /* bytes of one run's JSON */

typedef enum {
    GL_HB_RECORDED,
    GL_HB_CHANGED,
    GL_HB_LIMITED,
    GL_HB_ALONE,   /* answered: not written */
    GL_HB_UNSENT,  /* nothing was sent (no socket, or it refused): not written */
    GL_HB_UNKNOWN, /* sent, no answer: it may be written */
} gl_hb_outcome_t;

/* A frame's 4-byte big-endian length, written and read (both sides). */
static inline void gl_hb_put_len(unsigned char out[4], uint32_t n)
{
    out[0] = (unsigned char)(n >> 24);
    out[1] = (unsigned char)(n >> 16);
    out[2] = (unsigned char)(n >> 8);
    out[3] = (unsigned char)n;
}

static inline uint32_t gl_hb_get_len(const unsigned char in[4])
{
    return (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 | in[3];
}

/* The outcome's word on the wire, and back (GL_HB_UNKNOWN for any other). */
const char *gl_hb_word(gl_hb_outcome_t o);
gl_hb_outcome_t gl_hb_parse(const char *word, size_t n);

/* Hands one run to glyphic-events at path and waits up to timeout_ms for
 * its outcome. Keeps one connection per process; after a failed connect it
 * does not try again for a second (GL_HB_UNSENT meanwhile). */
gl_hb_outcome_t gl_hb_record(const char *path, const char *run, size_t len, int timeout_ms);

#endif
