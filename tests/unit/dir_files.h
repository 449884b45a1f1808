/*
 * dir_files.h: a file source (engine.h's gl_file_source_t) for unit tests:
 * the real file store (core/filestore.c) in a temporary folder, with an
 * in-memory table of rows standing in for glyphic.files. It keeps the
 * executor's rules (executor/files.c): a commit is refused past the quota
 * (distinct contents of the org counted once) and writes nothing; open
 * finds a row by id AND org, checks size and sha256, and takes the path
 * from the row.
 *
 * Unlike the executor's rows, ids are derived from the content and the
 * name, so a node run again after a resume makes the same reference and a
 * resumed run can be compared with the first one byte for byte; commits
 * counts what was stored, so a test can tell a replayed step from one run
 * again.
 */
#ifndef GL_TEST_DIR_FILES_H
#define GL_TEST_DIR_FILES_H

#include "engine.h"
#include "filestore.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DIR_FILES_ORG "0000000a-0000-4000-8000-00000000000a"
#define DIR_FILES_OTHER_ORG "0000000b-0000-4000-8000-00000000000b"
#define DIR_FILES_MAX_ROWS 64

typedef struct {
    char id[GL_UUID_LEN + 1], org[GL_UUID_LEN + 1], sha[GL_SHA256_HEX_LEN + 1];
    int64_t size;
} dir_row_t;

typedef struct {
    char dir[64];
    const char *org;          /* the run's org */
    int64_t max_file;         /* per file (files.max_file_bytes) */
    int64_t quota;            /* per org, 0: none (files.max_bytes_per_org) */
    dir_row_t rows[DIR_FILES_MAX_ROWS];
    int n_rows;
    int commits, opens;
} dir_files_t;

static inline void dir_files_init(dir_files_t *d)
{
    memset(d, 0, sizeof *d);
    snprintf(d->dir, sizeof d->dir, "/tmp/gl-unit-files-XXXXXX");
    if (!mkdtemp(d->dir)) {
        fprintf(stderr, "mkdtemp failed\n");
        exit(1);
    }
    d->org = DIR_FILES_ORG;
    d->max_file = 1 << 20;
}

static inline int dir_files_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static inline void dir_files_free(dir_files_t *d)
{
    nftw(d->dir, dir_files_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* The contents on disk of org (temporary files not counted). */
static inline int dir_files_on_disk(const dir_files_t *d, const char *org)
{
    int n = 0;
    for (int i = 0; i < d->n_rows; i++) {
        bool dup = false;
        for (int j = 0; j < i; j++)
            dup |= strcmp(d->rows[j].sha, d->rows[i].sha) == 0 && strcmp(d->rows[j].org, d->rows[i].org) == 0;
        char rel[GL_FILESTORE_REL_LEN + 1], path[256];
        struct stat st;
        if (!dup && strcmp(d->rows[i].org, org) == 0 &&
            gl_filestore_rel_path(d->rows[i].org, d->rows[i].sha, rel, sizeof rel) == GL_OK &&
            snprintf(path, sizeof path, "%s/%s", d->dir, rel) > 0 && stat(path, &st) == 0)
            n++;
    }
    return n;
}

/* Files left in the store's tmp/ (an aborted write leaves none). */
static inline int dir_files_temps(const dir_files_t *d)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "ls -A %s/tmp 2>/dev/null | wc -l", d->dir);
    FILE *f = popen(cmd, "r");
    int n = 0;
    if (f && fscanf(f, "%d", &n) != 1)
        n = -1;
    if (f)
        pclose(f);
    return n;
}

static inline int64_t dir_files_usage(const dir_files_t *d, const char *org)
{
    int64_t bytes = 0;
    for (int i = 0; i < d->n_rows; i++) {
        bool dup = false;
        for (int j = 0; j < i; j++)
            dup |= strcmp(d->rows[j].sha, d->rows[i].sha) == 0 && strcmp(d->rows[j].org, d->rows[i].org) == 0;
        if (!dup && strcmp(d->rows[i].org, org) == 0)
            bytes += d->rows[i].size;
    }
    return bytes;
}

static inline int dir_create(void *arg, gl_fs_writer_t **out, gl_err_t *err)
{
    dir_files_t *d = arg;
    return gl_filestore_begin(d->dir, d->org, d->max_file, out, err);
}

/* A row (org, w's content) under an id made of the content and the name. */
static inline int dir_commit_as(dir_files_t *d, const char *org, gl_fs_writer_t *w, const char *name,
                                gl_binary_ref_t *ref, gl_err_t *err)
{
    if (gl_filestore_seal(w, err) != GL_OK) {
        gl_filestore_abort(w);
        return GL_ERR;
    }
    const char *sha = gl_filestore_sha256(w);
    int64_t size = gl_filestore_size(w), used = dir_files_usage(d, org);
    bool known = false;
    for (int i = 0; i < d->n_rows; i++)
        known |= strcmp(d->rows[i].org, org) == 0 && strcmp(d->rows[i].sha, sha) == 0;
    if (d->quota > 0 && !known && used + size > d->quota) {
        gl_err_set(err, "the org's files would pass its quota of %lld bytes (files.max_bytes_per_org): it stores "
                        "%lld bytes, and this file has %lld more", (long long)d->quota, (long long)used,
                   (long long)size);
        gl_filestore_abort(w);
        return GL_TOO_LARGE;
    }
    if (d->n_rows == DIR_FILES_MAX_ROWS) {
        gl_filestore_abort(w);
        gl_err_set(err, "test table full");
        return GL_ERR;
    }
    /* the id: sha256(name) folded over the content's, as a v4 UUID */
    unsigned h = 2166136261u;
    for (const char *p = name; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    dir_row_t *r = &d->rows[d->n_rows];
    snprintf(r->id, sizeof r->id, "%.8s-%.4s-4%.3s-8%.3s-%.4s%08x", sha, sha + 8, sha + 12, sha + 15, sha + 18, h);
    for (int i = 0; i < d->n_rows; i++)
        if (strcmp(d->rows[i].id, r->id) == 0 && strcmp(d->rows[i].org, org) == 0)
            r = &d->rows[i]; /* the same content and name again: the same row */
    if (r == &d->rows[d->n_rows])
        d->n_rows++;
    snprintf(r->org, sizeof r->org, "%s", org);
    snprintf(r->sha, sizeof r->sha, "%s", sha);
    r->size = size;
    memcpy(ref->id, r->id, sizeof ref->id);
    memcpy(ref->sha256, r->sha, sizeof ref->sha256);
    ref->size = size;
    d->commits++;
    return gl_filestore_finish(w, NULL, err);
}

static inline int dir_commit(void *arg, gl_fs_writer_t *w, const char *file_name, const char *mime_type,
                             gl_binary_ref_t *ref, gl_err_t *err)
{
    dir_files_t *d = arg;
    ref->file_name = file_name;
    ref->mime_type = mime_type;
    return dir_commit_as(d, d->org, w, file_name, ref, err);
}

static inline int dir_open(void *arg, const gl_binary_ref_t *ref, int *fd, gl_err_t *err)
{
    dir_files_t *d = arg;
    *fd = -1;
    for (int i = 0; i < d->n_rows; i++) {
        dir_row_t *r = &d->rows[i];
        if (strcmp(r->id, ref->id) != 0 || strcmp(r->org, d->org) != 0)
            continue;
        if (r->size != ref->size || strcmp(r->sha, ref->sha256) != 0) {
            gl_err_set(err, "the reference does not match the stored file (its size or sha256 differ)");
            return GL_INVALID;
        }
        char rel[GL_FILESTORE_REL_LEN + 1], path[256];
        if (gl_filestore_rel_path(r->org, r->sha, rel, sizeof rel) != GL_OK)
            return GL_ERR;
        snprintf(path, sizeof path, "%s/%s", d->dir, rel);
        *fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (*fd < 0) {
            gl_err_set(err, "the stored content is missing");
            return GL_ERR;
        }
        d->opens++;
        return GL_OK;
    }
    gl_err_set(err, "no file with this id in this org");
    return GL_NOTFOUND;
}

static inline gl_file_source_t dir_files_source(dir_files_t *d)
{
    gl_file_source_t s = { .create = dir_create, .commit = dir_commit, .open = dir_open, .arg = d };
    return s;
}

/* Stores bytes as a file of org (an upload): its binary property JSON,
 * new (the caller puts it). */
static inline json_object *dir_files_put(dir_files_t *d, const char *org, const void *bytes, size_t len,
                                         const char *name, const char *mime)
{
    gl_fs_writer_t *w = NULL;
    gl_err_t err;
    gl_err_clear(&err);
    gl_binary_ref_t ref = { .file_name = name, .mime_type = mime };
    if (gl_filestore_begin(d->dir, org, (int64_t)len + 1, &w, &err) != GL_OK ||
        gl_filestore_write(w, bytes, len, &err) != GL_OK || dir_commit_as(d, org, w, name, &ref, &err) != GL_OK) {
        fprintf(stderr, "dir_files_put: %s\n", err.msg);
        exit(1);
    }
    d->commits--; /* an upload, not a node's file */
    return gl_binary_ref_json(&ref);
}

/* The bytes of the file ref names (a new NUL-terminated string; *len its
 * length), read through the source. */
static inline char *dir_files_read(dir_files_t *d, json_object *prop, size_t *len)
{
    gl_binary_ref_t ref;
    gl_err_t err;
    gl_err_clear(&err);
    int fd = -1;
    if (gl_binary_ref_parse(prop, &ref, &err) != GL_OK || dir_open(d, &ref, &fd, &err) != GL_OK) {
        fprintf(stderr, "dir_files_read: %s\n", err.msg);
        exit(1);
    }
    char *buf = malloc((size_t)ref.size + 1);
    ssize_t n = read(fd, buf, (size_t)ref.size);
    close(fd);
    if (n != ref.size) {
        fprintf(stderr, "dir_files_read: short read\n");
        exit(1);
    }
    buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

#endif
