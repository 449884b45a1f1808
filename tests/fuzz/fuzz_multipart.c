/*
 * fuzz_multipart.c: the streaming multipart/form-data parser (core/multipart.c)
 * that webhook uploads go through, and the header values around it.
 *
 * Input, line by line: a Content-Type (its boundary is used, else "b"),
 * a chunk size (digits; 1 + the number % 97), then the body. Invariants:
 * the body parses to the same parts, data and outcome whether it is fed
 * whole, in chunks of that size, or in chunks of growing sizes; parts
 * begin with a non-empty name, data comes only inside a part, at most
 * max_parts parts; a Content-Disposition parse never runs out of its
 * n + 4 bytes; a cleaned file name is always one the files table takes.
 */
#include "arena.h"
#include "filestore.h"
#include "fuzz.h"
#include "multipart.h"

#define MAX_PARTS 5

typedef struct {
    char *log;
    size_t len, cap;
    bool in_part;
    int parts;
} rec_t;

static void put(rec_t *r, const void *p, size_t n)
{
    if (r->len + n + 1 > r->cap) {
        r->cap = (r->len + n + 1) * 2;
        r->log = realloc(r->log, r->cap);
        if (!r->log)
            abort();
    }
    memcpy(r->log + r->len, p, n);
    r->len += n;
    r->log[r->len] = '\0';
}

static int on_begin(void *ud, const gl_mp_part_t *p, gl_err_t *err)
{
    (void)err;
    rec_t *r = ud;
    FUZZ_CHECK(!r->in_part);
    FUZZ_CHECK(p->name && *p->name);
    FUZZ_CHECK(++r->parts <= MAX_PARTS);
    r->in_part = true;
    put(r, "[", 1);
    put(r, p->name, strlen(p->name) + 1);
    if (p->file_name)
        put(r, p->file_name, strlen(p->file_name) + 1);
    if (p->content_type)
        put(r, p->content_type, strlen(p->content_type) + 1);
    put(r, "]", 1);
    return GL_OK;
}

static int on_data(void *ud, const char *buf, size_t len, gl_err_t *err)
{
    (void)err;
    rec_t *r = ud;
    FUZZ_CHECK(r->in_part && len > 0);
    put(r, buf, len);
    return GL_OK;
}

static int on_end(void *ud, gl_err_t *err)
{
    (void)err;
    rec_t *r = ud;
    FUZZ_CHECK(r->in_part);
    r->in_part = false;
    put(r, "$", 1);
    return GL_OK;
}

/* Parses body in chunks of chunk(i) bytes (0: whole); the log into r,
 * the outcome and message into rc and msg. */
static void run(const char *boundary, const uint8_t *body, size_t n, size_t step, bool growing, rec_t *r, int *rc,
                char msg[256])
{
    gl_arena_t *a = gl_arena_create(4096);
    gl_mp_handler_t h = { on_begin, on_data, on_end, r };
    gl_multipart_t *mp = gl_multipart_new(a, boundary, MAX_PARTS, &h);
    gl_err_t err;
    gl_err_clear(&err);
    *rc = GL_OK;
    for (size_t at = 0; at < n && *rc == GL_OK;) {
        size_t k = step ? step : n;
        if (k > n - at)
            k = n - at;
        *rc = gl_multipart_feed(mp, (const char *)body + at, k, &err);
        at += k;
        if (growing)
            step++;
    }
    if (*rc == GL_OK)
        *rc = gl_multipart_end(mp, &err);
    snprintf(msg, 256, "%s", *rc == GL_OK ? "" : err.msg);
    FUZZ_CHECK(*rc == GL_OK || *rc == GL_INVALID);
    FUZZ_CHECK(*rc != GL_OK || !r->in_part);
    gl_arena_destroy(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *ct = fuzz_line(&data, &size), *step_text = fuzz_line(&data, &size);
    char boundary[GL_MP_BOUNDARY_MAX + 1];
    gl_err_t err;
    gl_err_clear(&err);
    if (gl_multipart_boundary(ct, boundary, sizeof boundary, &err) != GL_OK)
        snprintf(boundary, sizeof boundary, "b");
    size_t step = 1 + strtoul(step_text, NULL, 10) % 97;

    rec_t whole = { 0 }, cut = { 0 }, grow = { 0 };
    int rc_whole, rc_cut, rc_grow;
    char msg_whole[256], msg_cut[256], msg_grow[256];
    run(boundary, data, size, 0, false, &whole, &rc_whole, msg_whole);
    run(boundary, data, size, step, false, &cut, &rc_cut, msg_cut);
    run(boundary, data, size, 1, true, &grow, &rc_grow, msg_grow);
    FUZZ_CHECK(rc_whole == rc_cut && rc_whole == rc_grow);
    FUZZ_CHECK(strcmp(msg_whole, msg_cut) == 0 && strcmp(msg_whole, msg_grow) == 0);
    FUZZ_CHECK(whole.len == cut.len && whole.len == grow.len);
    FUZZ_CHECK(whole.len == 0 || (memcmp(whole.log, cut.log, whole.len) == 0 &&
                                  memcmp(whole.log, grow.log, whole.len) == 0));

    /* the body as one Content-Disposition value, and as a file name */
    char *out = malloc(size + 4);
    gl_mp_disposition_t d;
    if (gl_mp_disposition_parse((const char *)data, size, &d, out, size + 4, &err) != GL_OK)
        FUZZ_CHECK(strstr(err.msg, "too long") == NULL);
    free(out);
    char *text = fuzz_cstr(data, size), clean[GL_FILE_NAME_MAX + 1];
    gl_filestore_name_clean(text, "file", clean);
    FUZZ_CHECK(gl_filestore_name_ok(clean));
    free(text);

    free(whole.log);
    free(cut.log);
    free(grow.log);
    free(ct);
    free(step_text);
    return 0;
}
