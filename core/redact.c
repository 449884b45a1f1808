/* redact.c: see redact.h. */
#include "redact.h"

#include <sodium.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#define NO_CAP (SIZE_MAX >> 2) /* what is redacted was in memory already: no cap of its own */

typedef struct {
    char *s; /* malloc'd, wiped when freed */
    size_t n;
} secret_t;

struct gl_redact {
    secret_t *v; /* longest first */
    size_t n, cap;
};

gl_redact_t *gl_redact_new(void)
{
    return gl_xcalloc(1, sizeof(gl_redact_t));
}

void gl_redact_free(gl_redact_t *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        sodium_memzero(r->v[i].s, r->v[i].n);
        free(r->v[i].s);
    }
    free(r->v);
    free(r);
}

size_t gl_redact_count(const gl_redact_t *r)
{
    return r ? r->n : 0;
}

static void add_one(gl_redact_t *r, const char *s, size_t n)
{
    size_t at = 0;
    if (n == 0 || r->n >= GL_REDACT_MAX_VALUES)
        return;
    for (size_t i = 0; i < r->n; i++)
        if (r->v[i].n == n && memcmp(r->v[i].s, s, n) == 0)
            return;
    while (at < r->n && r->v[at].n >= n)
        at++;
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 8;
        r->v = gl_xrealloc(r->v, r->cap * sizeof *r->v);
    }
    memmove(r->v + at + 1, r->v + at, (r->n - at) * sizeof *r->v);
    r->v[at].s = gl_xmalloc(n);
    memcpy(r->v[at].s, s, n);
    r->v[at].n = n;
    r->n++;
}

void gl_redact_add(gl_redact_t *r, const char *s, size_t n)
{
    if (!r || !s || n == 0 || n > GL_REDACT_MAX_VALUE)
        return;
    add_one(r, s, n);
    gl_buf_t enc;
    gl_buf_init(&enc, NO_CAP);
    if (gl_buf_urlencode(&enc, s, n) != GL_OK)
        abort(); /* no cap */
    if (enc.len != n)
        add_one(r, enc.data, enc.len);
    if (enc.data)
        sodium_memzero(enc.data, enc.len);
    gl_buf_free(&enc);
}

/* The listed value that matches s[0..n) at its start, by the rule of
 * redact.h (whole: s[0..n) is the whole string), or NULL. */
static const secret_t *match_at(const gl_redact_t *r, const char *s, size_t n, bool whole)
{
    for (size_t i = 0; i < r->n; i++) {
        const secret_t *v = &r->v[i];
        if (v->n > n || memcmp(s, v->s, v->n) != 0)
            continue;
        if (v->n >= GL_REDACT_MIN_SUBSTRING || (whole && v->n == n))
            return v;
    }
    return NULL;
}

bool gl_redact_found(const gl_redact_t *r, const char *s, size_t n)
{
    if (!r || r->n == 0)
        return false;
    for (size_t i = 0; i < r->n; i++) {
        const secret_t *v = &r->v[i];
        if (v->n < GL_REDACT_MIN_SUBSTRING) {
            if (v->n == n && memcmp(s, v->s, n) == 0)
                return true;
        } else if (v->n <= n && memmem(s, n, v->s, v->n)) {
            return true;
        }
    }
    return false;
}

/* s[0..n) with listed values replaced, appended to b (found first). */
static void redact_into(const gl_redact_t *r, const char *s, size_t n, gl_buf_t *b)
{
    size_t i = 0, plain = 0;
    const secret_t *m;

    while (i < n) {
        if ((m = match_at(r, s + i, n - i, i == 0)) == NULL) {
            i++;
            continue;
        }
        if (gl_buf_append(b, s + plain, i - plain) != GL_OK || gl_buf_puts(b, GL_REDACTED) != GL_OK)
            abort(); /* the buffer has no cap */
        i += m->n;
        plain = i;
    }
    if (gl_buf_append(b, s + plain, n - plain) != GL_OK)
        abort();
}

static json_object *redact_string(const gl_redact_t *r, json_object *v)
{
    const char *s = json_object_get_string(v);
    size_t n = (size_t)json_object_get_string_len(v);
    if (!gl_redact_found(r, s, n))
        return json_object_get(v);
    gl_buf_t b;
    gl_buf_init(&b, NO_CAP);
    redact_into(r, s, n, &b);
    json_object *out = json_object_new_string_len(b.data ? b.data : "", (int)b.len);
    gl_buf_free(&b);
    return out;
}

static json_object *walk(const gl_redact_t *r, json_object *v);

static json_object *redact_object(const gl_redact_t *r, json_object *v)
{
    json_object *copy = NULL;
    size_t done = 0;

    json_object_object_foreach(v, key, val) {
        json_object *nv = walk(r, val);
        bool key_hit = gl_redact_found(r, key, strlen(key));
        if (!copy && (nv != val || key_hit)) {
            /* the first change: copy what came before it */
            copy = json_object_new_object();
            size_t k = 0;
            json_object_object_foreach(v, pkey, pval) {
                if (k++ == done)
                    break;
                json_object_object_add(copy, pkey, json_object_get(pval));
            }
        }
        if (copy && key_hit) {
            gl_buf_t b;
            gl_buf_init(&b, NO_CAP);
            redact_into(r, key, strlen(key), &b);
            if (gl_buf_append(&b, "", 1) != GL_OK)
                abort();
            /* two keys redacted alike: the later one wins, as in a JSON object */
            json_object_object_add(copy, b.data, nv);
            gl_buf_free(&b);
        } else if (copy) {
            json_object_object_add(copy, key, nv);
        } else {
            json_object_put(nv); /* nv is val with a reference */
        }
        done++;
    }
    return copy ? copy : json_object_get(v);
}

static json_object *redact_array(const gl_redact_t *r, json_object *v)
{
    size_t n = json_object_array_length(v);
    json_object *copy = NULL;

    for (size_t i = 0; i < n; i++) {
        json_object *el = json_object_array_get_idx(v, i);
        json_object *nv = walk(r, el);
        if (!copy && nv != el) {
            copy = json_object_new_array_ext((int)n);
            for (size_t k = 0; k < i; k++)
                json_object_array_add(copy, json_object_get(json_object_array_get_idx(v, k)));
        }
        if (copy)
            json_object_array_add(copy, nv);
        else
            json_object_put(nv);
    }
    return copy ? copy : json_object_get(v);
}

static json_object *walk(const gl_redact_t *r, json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_string:
        return redact_string(r, v);
    case json_type_object:
        return redact_object(r, v);
    case json_type_array:
        return redact_array(r, v);
    default:
        return json_object_get(v);
    }
}

json_object *gl_redact_json(const gl_redact_t *r, json_object *v)
{
    if (!v)
        return NULL;
    if (!r || r->n == 0)
        return json_object_get(v);
    return walk(r, v);
}

bool gl_redact_text(const gl_redact_t *r, char *s, size_t cap)
{
    if (!r || r->n == 0 || !s || cap == 0)
        return false;
    size_t n = strlen(s);
    if (!gl_redact_found(r, s, n))
        return false;
    gl_buf_t b;
    gl_buf_init(&b, NO_CAP);
    redact_into(r, s, n, &b);
    size_t m = b.len < cap - 1 ? b.len : cap - 1;
    memcpy(s, b.data, m);
    s[m] = '\0';
    gl_buf_free(&b);
    gl_utf8_trim(s);
    return true;
}
