/*
 * arena.h: a per-request (or per-execution) bump allocator.
 *
 * Everything a request touches is allocated here and freed at once by
 * gl_arena_reset() or gl_arena_destroy(); foreign objects (PGresult,
 * json_object, CURL handles) hang on it as cleanup hooks so the same call
 * releases them (nginx's pool with ngx_pool_cleanup_add).
 */
#ifndef GL_ARENA_H
#define GL_ARENA_H

#include "gl.h"

#include <stdarg.h>

typedef struct gl_arena gl_arena_t;
typedef void (*gl_cleanup_fn)(void *data);

/* Creates an arena whose blocks are block_size bytes (0: 8 KiB).
 * The caller frees it with gl_arena_destroy(). */
gl_arena_t *gl_arena_create(size_t block_size);

/* Runs the cleanup hooks (last added first) and frees every block. */
void gl_arena_destroy(gl_arena_t *a);

/* Runs the cleanup hooks and frees every block but the first, which is kept
 * for the next request. Memory handed out before is invalid afterwards. */
void gl_arena_reset(gl_arena_t *a);

/* Memory owned by the arena, 16-byte aligned; never NULL (aborts on OOM). */
void *gl_arena_alloc(gl_arena_t *a, size_t n);
void *gl_arena_calloc(gl_arena_t *a, size_t n, size_t size);
char *gl_arena_strdup(gl_arena_t *a, const char *s);
char *gl_arena_strndup(gl_arena_t *a, const char *s, size_t n);
char *gl_arena_printf(gl_arena_t *a, const char *fmt, ...) GL_PRINTF(2, 3);
char *gl_arena_vprintf(gl_arena_t *a, const char *fmt, va_list ap) GL_PRINTF(2, 0);

/* Registers fn(data) to run when the arena is reset or destroyed. */
void gl_arena_on_cleanup(gl_arena_t *a, gl_cleanup_fn fn, void *data);

/* Bytes handed out since creation or the last reset (for tests and stats). */
size_t gl_arena_used(const gl_arena_t *a);

#endif
