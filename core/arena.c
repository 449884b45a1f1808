/*
 * arena.c: block-chained bump allocator with cleanup hooks.
 *
 * Small requests are carved from the current block; a request larger than a
 * quarter of the block size gets a block of its own so it does not waste the
 * rest of the current one. Cleanup hooks are themselves arena memory, kept in
 * a LIFO list.
 */
#include "arena.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GL_ARENA_ALIGN 16
#define GL_ARENA_DEFAULT_BLOCK 8192

struct block {
    struct block *next;
    size_t size; /* usable bytes after the header */
    size_t used;
    _Alignas(GL_ARENA_ALIGN) unsigned char data[];
};

struct cleanup {
    struct cleanup *next;
    gl_cleanup_fn fn;
    void *data;
};

struct gl_arena {
    struct block *head;  /* current block; the chain holds every block */
    struct block *first; /* kept across resets */
    struct cleanup *cleanups;
    size_t block_size;
    size_t used;
};

static struct block *block_new(size_t size)
{
    size_t total;
    if (!gl_size_add(sizeof(struct block), size, &total))
        abort();
    struct block *b = gl_xmalloc(total);
    b->next = NULL;
    b->size = size;
    b->used = 0;
    return b;
}

gl_arena_t *gl_arena_create(size_t block_size)
{
    gl_arena_t *a = gl_xcalloc(1, sizeof *a);
    a->block_size = block_size ? block_size : GL_ARENA_DEFAULT_BLOCK;
    a->first = a->head = block_new(a->block_size);
    return a;
}

static void run_cleanups(gl_arena_t *a)
{
    struct cleanup *c = a->cleanups;
    a->cleanups = NULL;
    while (c) {
        struct cleanup *next = c->next;
        c->fn(c->data);
        c = next;
    }
}

void gl_arena_reset(gl_arena_t *a)
{
    run_cleanups(a);
    struct block *b = a->head;
    while (b) {
        struct block *next = b->next;
        if (b != a->first)
            free(b);
        b = next;
    }
    a->head = a->first;
    a->first->next = NULL;
    a->first->used = 0;
    a->used = 0;
}

void gl_arena_destroy(gl_arena_t *a)
{
    if (!a)
        return;
    gl_arena_reset(a);
    free(a->first);
    free(a);
}

void *gl_arena_alloc(gl_arena_t *a, size_t n)
{
    size_t need;
    if (!gl_size_add(n, GL_ARENA_ALIGN - 1, &need))
        abort();
    need &= ~(size_t)(GL_ARENA_ALIGN - 1);
    if (need == 0)
        need = GL_ARENA_ALIGN;
    a->used += need;

    struct block *b = a->head;
    if (b->size - b->used >= need) {
        void *p = b->data + b->used;
        b->used += need;
        return p;
    }
    if (need > a->block_size / 4) {
        /* A block of its own, linked behind the current one so the current
         * block keeps serving small requests. */
        struct block *big = block_new(need);
        big->used = need;
        big->next = b->next;
        b->next = big;
        return big->data;
    }
    struct block *nb = block_new(a->block_size);
    nb->next = a->head;
    a->head = nb;
    nb->used = need;
    return nb->data;
}

void *gl_arena_calloc(gl_arena_t *a, size_t n, size_t size)
{
    size_t total;
    if (!gl_size_mul(n, size, &total))
        abort();
    void *p = gl_arena_alloc(a, total);
    memset(p, 0, total);
    return p;
}

char *gl_arena_strndup(gl_arena_t *a, const char *s, size_t n)
{
    char *p = gl_arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *gl_arena_strdup(gl_arena_t *a, const char *s)
{
    return gl_arena_strndup(a, s, strlen(s));
}

char *gl_arena_vprintf(gl_arena_t *a, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return gl_arena_strdup(a, "");
    char *p = gl_arena_alloc(a, (size_t)n + 1);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    return p;
}

char *gl_arena_printf(gl_arena_t *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *p = gl_arena_vprintf(a, fmt, ap);
    va_end(ap);
    return p;
}

void gl_arena_on_cleanup(gl_arena_t *a, gl_cleanup_fn fn, void *data)
{
    struct cleanup *c = gl_arena_alloc(a, sizeof *c);
    c->fn = fn;
    c->data = data;
    c->next = a->cleanups;
    a->cleanups = c;
}

size_t gl_arena_used(const gl_arena_t *a)
{
    return a->used;
}
