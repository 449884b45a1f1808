/*
 * expr_cache.c: the parsed {{ }} of templates, kept per thread.
 *
 * A workflow renders the same parameters on every run, and parsing them was
 * a twentieth of glyphic-fcgi's CPU on a quick webhook (perf, webhook ->
 * set -> respond). A thread keeps the trees of the last SLOTS templates it
 * rendered, each with its own copy of the template (the trees point into
 * it) on an arena of its own; the least recently used goes first. eval()
 * reads a tree and never changes it (const node_t), and never returns a
 * function that would hold one, so a kept tree serves any number of
 * renders. Per thread, without locks: glyphic-executor's runner threads
 * each have their cache, freed with the thread; glyphic-fcgi's workers have
 * one thread.
 *
 * What is not kept: templates longer than MAX_LEN (parsed per render as
 * before, so memory stays bounded: SLOTS * (MAX_LEN + its trees)), the
 * {{ }} past the PARTS-th of a template (parsed per render onto a scratch
 * arena the entry empties at each release), and a template one of whose
 * {{ }} failed to parse (it is dropped, and parsed anew per render, which
 * gives the error again). A render inside a render (none today) would find
 * the cache busy and parse on its own: the entry it holds cannot be
 * evicted under it.
 */
#include "expr_int.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 64
#define MAX_LEN 2048
#define PARTS 8

struct gl__tmpl {
    uint64_t hash;
    size_t len;
    int max_depth;
    char *src;         /* the template's copy; NULL: the slot is free */
    gl_arena_t *arena;   /* the trees */
    gl_arena_t *scratch; /* the trees past PARTS, for one render; NULL until needed */
    size_t n;
    bool drop; /* a {{ }} failed to parse: not kept */
    struct {
        size_t at, end;
        node_t *root;
    } part[PARTS];
    unsigned long used;
};

typedef struct {
    struct gl__tmpl slot[SLOTS];
    unsigned long clock;
    bool busy;
} cache_t;

static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static bool cache_ok;

static void entry_free(struct gl__tmpl *t)
{
    if (!t->src)
        return;
    gl_arena_destroy(t->arena);
    if (t->scratch)
        gl_arena_destroy(t->scratch);
    free(t->src);
    memset(t, 0, sizeof *t);
}

static void cache_free(void *p)
{
    cache_t *c = p;
    for (int i = 0; i < SLOTS; i++)
        entry_free(&c->slot[i]);
    free(c);
}

static void cache_key_make(void)
{
    cache_ok = pthread_key_create(&cache_key, cache_free) == 0;
}

static cache_t *cache(void)
{
    pthread_once(&cache_once, cache_key_make);
    if (!cache_ok)
        return NULL; /* out of keys: every render parses */
    cache_t *c = pthread_getspecific(cache_key);
    if (!c && (c = calloc(1, sizeof *c)) && pthread_setspecific(cache_key, c) != 0) {
        free(c);
        c = NULL;
    }
    return c;
}

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

gl__tmpl_t *gl__tmpl_hold(const char *tmpl, size_t n, int max_depth)
{
    if (n > MAX_LEN)
        return NULL;
    cache_t *c = cache();
    if (!c || c->busy)
        return NULL;
    uint64_t h = fnv1a(tmpl, n);
    struct gl__tmpl *victim = &c->slot[0];
    for (int i = 0; i < SLOTS; i++) {
        struct gl__tmpl *t = &c->slot[i];
        if (t->src && t->hash == h && t->len == n && t->max_depth == max_depth && memcmp(t->src, tmpl, n) == 0) {
            t->used = ++c->clock;
            c->busy = true;
            return t;
        }
        if (!t->src ? victim->src != NULL : victim->src && t->used < victim->used)
            victim = t;
    }
    entry_free(victim);
    char *src = malloc(n + 1);
    if (!src)
        return NULL;
    memcpy(src, tmpl, n);
    src[n] = '\0';
    victim->src = src;
    victim->hash = h;
    victim->len = n;
    victim->max_depth = max_depth;
    victim->arena = gl_arena_create(1024);
    victim->used = ++c->clock;
    c->busy = true;
    return victim;
}

node_t *gl__tmpl_part(gl__tmpl_t *t, size_t at, size_t *end, gl_err_t *err)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->part[i].at == at) {
            *end = t->part[i].end;
            return t->part[i].root;
        }
    bool keep = t->n < PARTS;
    if (!keep && !t->scratch)
        t->scratch = gl_arena_create(1024);
    ps_t ps;
    gl__expr_ps_init(&ps, t->src, keep ? t->arena : t->scratch, t->max_depth, err);
    ps.pos = at + 2;
    node_t *root = gl__expr_parse_embedded(&ps, end);
    if (!root) {
        t->drop = true; /* a failed parse left what it built on the arena */
    } else if (keep) {
        t->part[t->n].at = at;
        t->part[t->n].end = *end;
        t->part[t->n].root = root;
        t->n++;
    }
    return root;
}

void gl__tmpl_release(gl__tmpl_t *t)
{
    if (!t)
        return;
    cache_t *c = pthread_getspecific(cache_key);
    c->busy = false;
    if (t->drop)
        entry_free(t);
    else if (t->scratch)
        gl_arena_reset(t->scratch);
}
