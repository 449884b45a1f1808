/*
 * filestore.c: the content-addressed store (see filestore.h for the layout
 * and the protocol with the database).
 *
 * A writer's life: begin (a new temporary file) -> write* (hash and count;
 * refuse past the limit) -> seal (fsync, digest) -> finish (rename to the
 * final name, or drop the temporary file when the content exists; fsync the
 * directory) | abort (unlink). rename() within one file system is atomic:
 * the final name holds the whole content or does not exist.
 */
#include "filestore.h"

#include "utf8.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct gl_fs_writer {
    int fd;
    bool sealed;
    bool failed;
    int64_t size, max_bytes;
    EVP_MD_CTX *sha;        /* OpenSSL's SHA-256 (SHA-NI where the CPU has it: ~6x libsodium's) */
    char sha_hex[GL_SHA256_HEX_LEN + 1];
    char org_id[GL_UUID_LEN + 1];
    char dir[PATH_MAX];
    char tmp_path[PATH_MAX];
};

/* snprintf into out; false (and err set) when it did not fit. */
static bool path_fmt(char *out, size_t n, gl_err_t *err, const char *fmt, ...) GL_PRINTF(4, 5);
static bool path_fmt(char *out, size_t n, gl_err_t *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vsnprintf(out, n, fmt, ap);
    va_end(ap);
    if (r < 0 || (size_t)r >= n) {
        gl_err_set(err, "file store path too long");
        return false;
    }
    return true;
}

/* mkdir that accepts an existing directory; a new one's parent (if given)
 * is fsynced so the entry survives a crash. */
static int make_dir(const char *path, const char *parent, gl_err_t *err)
{
    if (mkdir(path, 0750) != 0) {
        if (errno == EEXIST)
            return GL_OK;
        gl_err_set(err, "cannot create %s: %s", path, strerror(errno));
        return GL_ERR;
    }
    if (!parent)
        return GL_OK;
    int pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (pfd >= 0) {
        (void)fsync(pfd);
        close(pfd);
    }
    return GL_OK;
}

static int fsync_dir(const char *path, gl_err_t *err)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        gl_err_set(err, "cannot sync %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return GL_ERR;
    }
    close(fd);
    return GL_OK;
}

static bool is_hex_lower(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return s[n] == '\0';
}

/* A UUID in the store's spelling: lowercase. */
static bool is_org_name(const char *s)
{
    if (!gl_is_uuid(s))
        return false;
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'F')
            return false;
    return true;
}

void gl_filestore_preload(void)
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (c)
        (void)EVP_DigestInit_ex(c, EVP_sha256(), NULL);
    EVP_MD_CTX_free(c);
}

static void writer_free(gl_fs_writer_t *w)
{
    EVP_MD_CTX_free(w->sha);
    free(w);
}

int gl_filestore_begin(const char *dir, const char *org_id, int64_t max_bytes, gl_fs_writer_t **out,
                       gl_err_t *err)
{
    *out = NULL;
    if (!is_org_name(org_id) || max_bytes <= 0) {
        gl_err_set(err, "file store: bad org id or limit");
        return GL_INVALID;
    }
    if (sodium_init() < 0) {
        gl_err_set(err, "libsodium failed to initialise");
        return GL_ERR;
    }
    gl_fs_writer_t *w = gl_xcalloc(1, sizeof *w);
    w->fd = -1;
    w->max_bytes = max_bytes;
    memcpy(w->org_id, org_id, GL_UUID_LEN + 1);
    char tmpdir[PATH_MAX];
    if (!path_fmt(w->dir, sizeof w->dir, err, "%s", dir) ||
        !path_fmt(tmpdir, sizeof tmpdir, err, "%s/tmp", dir) || make_dir(dir, NULL, err) != GL_OK ||
        make_dir(tmpdir, dir, err) != GL_OK) {
        writer_free(w);
        return GL_ERR;
    }
    for (int attempt = 0; attempt < 4 && w->fd < 0; attempt++) {
        unsigned char rnd[12];
        char hex[sizeof rnd * 2 + 1];
        randombytes_buf(rnd, sizeof rnd);
        sodium_bin2hex(hex, sizeof hex, rnd, sizeof rnd);
        if (!path_fmt(w->tmp_path, sizeof w->tmp_path, err, "%s/%s.part", tmpdir, hex)) {
            writer_free(w);
            return GL_ERR;
        }
        w->fd = open(w->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (w->fd < 0 && errno != EEXIST)
            break;
    }
    if (w->fd < 0) {
        gl_err_set(err, "cannot create a temporary file in %s: %s", tmpdir, strerror(errno));
        writer_free(w);
        return GL_ERR;
    }
    if (!(w->sha = EVP_MD_CTX_new()) || EVP_DigestInit_ex(w->sha, EVP_sha256(), NULL) != 1) {
        gl_err_set(err, "cannot start a SHA-256 digest");
        close(w->fd);
        unlink(w->tmp_path);
        writer_free(w);
        return GL_ERR;
    }
    *out = w;
    return GL_OK;
}

int gl_filestore_write(gl_fs_writer_t *w, const void *buf, size_t len, gl_err_t *err)
{
    if (w->sealed || w->failed) {
        gl_err_set(err, "file store: write after the end");
        return GL_ERR;
    }
    if (len > (size_t)(w->max_bytes - w->size)) {
        w->failed = true;
        gl_err_set(err, "the file is larger than the limit of %lld bytes", (long long)w->max_bytes);
        return GL_TOO_LARGE;
    }
    const unsigned char *p = buf;
    size_t left = len;
    while (left) {
        ssize_t n = write(w->fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            w->failed = true;
            gl_err_set(err, "cannot write to the file store: %s", n < 0 ? strerror(errno) : "no progress");
            return GL_ERR;
        }
        p += n;
        left -= (size_t)n;
    }
    if (EVP_DigestUpdate(w->sha, buf, len) != 1) {
        w->failed = true;
        gl_err_set(err, "the SHA-256 digest failed");
        return GL_ERR;
    }
    w->size += (int64_t)len;
    return GL_OK;
}

int gl_filestore_seal(gl_fs_writer_t *w, gl_err_t *err)
{
    if (w->sealed)
        return GL_OK;
    if (w->failed) {
        gl_err_set(err, "file store: sealing a failed write");
        return GL_ERR;
    }
    /* readable by the group: nginx's account belongs to it on a shared host */
    if (fchmod(w->fd, 0640) != 0 || fsync(w->fd) != 0) {
        w->failed = true;
        gl_err_set(err, "cannot sync %s: %s", w->tmp_path, strerror(errno));
        return GL_ERR;
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    if (EVP_DigestFinal_ex(w->sha, digest, &digest_len) != 1 || digest_len != 32) {
        w->failed = true;
        gl_err_set(err, "the SHA-256 digest failed");
        return GL_ERR;
    }
    sodium_bin2hex(w->sha_hex, sizeof w->sha_hex, digest, digest_len);
    w->sealed = true;
    return GL_OK;
}

int64_t gl_filestore_size(const gl_fs_writer_t *w)
{
    return w->size;
}

const char *gl_filestore_sha256(const gl_fs_writer_t *w)
{
    return w->sealed ? w->sha_hex : "";
}

bool gl_filestore_name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    bool ok = n > 0 && n <= GL_FILE_NAME_MAX && gl_utf8_valid(name, n) && strcmp(name, ".") != 0 &&
              strcmp(name, "..") != 0;
    for (size_t i = 0; ok && i < n; i++)
        ok = (unsigned char)name[i] >= 0x20 && name[i] != 0x7f && name[i] != '/' && name[i] != '\\';
    return ok;
}

void gl_filestore_name_clean(const char *raw, const char *fallback, char out[GL_FILE_NAME_MAX + 1])
{
    const char *base = raw ? raw : "";
    for (const char *p = base; *p; p++)
        if (*p == '/' || *p == '\\')
            base = p + 1;
    size_t n = strlen(base), o = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t len = gl_utf8_decode(base, n, i, &cp);
        bool bad = (cp == 0xFFFD && len == 1) || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 ||
                   cp == 0x2029;
        size_t put = bad ? 1 : len;
        if (o + put > GL_FILE_NAME_MAX)
            break;
        if (bad)
            out[o] = '_';
        else
            memcpy(out + o, base + i, len);
        o += put;
        i += len;
    }
    out[o] = '\0';
    if (o == 0 || strcmp(out, ".") == 0 || strcmp(out, "..") == 0)
        snprintf(out, GL_FILE_NAME_MAX + 1, "%s", fallback);
}

bool gl_filestore_type_ok(const char *type)
{
    size_t n = type ? strlen(type) : 0, slash = n ? strcspn(type, "/;") : 0;
    bool ok = n <= GL_MIME_TYPE_MAX && slash > 0 && type[slash] == '/' && slash + 1 < n && type[slash + 1] != ';';
    for (size_t i = 0; ok && i < n; i++)
        ok = (unsigned char)type[i] >= 0x20 && (unsigned char)type[i] < 0x7f;
    return ok;
}

void gl_filestore_disposition(const char *type, const char *name, char out[GL_DISPOSITION_MAX])
{
    static const char attr_extra[] = "!#$&+-.^_`|~", hex[] = "0123456789ABCDEF";
    char ascii[GL_FILE_NAME_MAX + 1], ext[GL_FILE_NAME_MAX * 3 + 1];
    size_t a = 0, e = 0;
    for (size_t i = 0; name[i] && a < GL_FILE_NAME_MAX; i++) {
        unsigned char c = (unsigned char)name[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        ascii[a++] = (c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '%') ? (char)c : '_';
        if (alnum || strchr(attr_extra, c)) {
            ext[e++] = (char)c;
        } else {
            ext[e++] = '%';
            ext[e++] = hex[c >> 4];
            ext[e++] = hex[c & 15];
        }
    }
    ascii[a] = '\0';
    ext[e] = '\0';
    snprintf(out, GL_DISPOSITION_MAX, "%s; filename=\"%s\"; filename*=UTF-8''%s",
             strcmp(type, "inline") == 0 ? "inline" : "attachment", ascii, ext);
}

int gl_filestore_rel_path(const char *org_id, const char *sha_hex, char *out, size_t out_len)
{
    if (!org_id || !sha_hex || !is_org_name(org_id) || strlen(sha_hex) != GL_SHA256_HEX_LEN ||
        !is_hex_lower(sha_hex, GL_SHA256_HEX_LEN))
        return GL_INVALID;
    int n = snprintf(out, out_len, "%s/%.2s/%s", org_id, sha_hex, sha_hex);
    return n > 0 && (size_t)n < out_len ? GL_OK : GL_INVALID;
}

void gl_filestore_abort(gl_fs_writer_t *w)
{
    if (!w)
        return;
    if (w->fd >= 0)
        close(w->fd);
    unlink(w->tmp_path);
    writer_free(w);
}

int gl_filestore_finish(gl_fs_writer_t *w, bool *created, gl_err_t *err)
{
    if (created)
        *created = false;
    if (gl_filestore_seal(w, err) != GL_OK) {
        gl_filestore_abort(w);
        return GL_ERR;
    }
    char org_dir[PATH_MAX], sub_dir[PATH_MAX], final[PATH_MAX];
    if (!path_fmt(org_dir, sizeof org_dir, err, "%s/%s", w->dir, w->org_id) ||
        !path_fmt(sub_dir, sizeof sub_dir, err, "%s/%.2s", org_dir, w->sha_hex) ||
        !path_fmt(final, sizeof final, err, "%s/%s", sub_dir, w->sha_hex) ||
        make_dir(org_dir, w->dir, err) != GL_OK || make_dir(sub_dir, org_dir, err) != GL_OK) {
        gl_filestore_abort(w);
        return GL_ERR;
    }
    close(w->fd);
    w->fd = -1;
    struct stat st;
    if (lstat(final, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == w->size) {
        /* the same bytes are there already (same org, same digest) */
        unlink(w->tmp_path);
        writer_free(w);
        return GL_OK;
    }
    /* absent (or, after a disk fault, of the wrong size: replaced) */
    if (rename(w->tmp_path, final) != 0) {
        gl_err_set(err, "cannot move a file into the store: %s", strerror(errno));
        gl_filestore_abort(w);
        return GL_ERR;
    }
    writer_free(w);
    if (fsync_dir(sub_dir, err) != GL_OK)
        return GL_ERR;
    if (created)
        *created = true;
    return GL_OK;
}

/* Removes the temporary files older than max_age_s. */
static int gc_temps(const char *dir, time_t max_age_s, gl_filestore_gc_t *rep, gl_err_t *err)
{
    char tmpdir[PATH_MAX], path[PATH_MAX];
    if (!path_fmt(tmpdir, sizeof tmpdir, err, "%s/tmp", dir))
        return GL_ERR;
    DIR *d = opendir(tmpdir);
    if (!d) {
        if (errno == ENOENT)
            return GL_OK;
        gl_err_set(err, "cannot read %s: %s", tmpdir, strerror(errno));
        return GL_ERR;
    }
    time_t now = time(NULL);
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".part") != 0)
            continue;
        struct stat st;
        if (!path_fmt(path, sizeof path, err, "%s/%s", tmpdir, e->d_name) || lstat(path, &st) != 0 ||
            !S_ISREG(st.st_mode) || now - st.st_mtime < max_age_s)
            continue;
        if (unlink(path) == 0) {
            rep->temp_files++;
            rep->temp_bytes += (int64_t)st.st_size;
        }
    }
    closedir(d);
    return GL_OK;
}

/* One content: asks refs, unlinks it when no row names it. */
static int gc_content(const char *path, const char *org, const char *sha, const gl_filestore_refs_t *refs,
                      gl_filestore_gc_t *rep, gl_err_t *err)
{
    bool referenced = true;
    int rc = refs->check(refs->ctx, org, sha, &referenced, err);
    if (rc == GL_OK) {
        struct stat st;
        if (referenced)
            rep->kept_files++;
        else if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && unlink(path) == 0) {
            rep->content_files++;
            rep->content_bytes += (int64_t)st.st_size;
        }
    }
    refs->release(refs->ctx);
    return rc;
}

/* The contents of one org's folder dir/org. */
static int gc_org(const char *dir, const char *org, const gl_filestore_refs_t *refs, gl_filestore_gc_t *rep,
                  gl_err_t *err)
{
    char org_dir[PATH_MAX], sub_dir[PATH_MAX], path[PATH_MAX];
    if (!path_fmt(org_dir, sizeof org_dir, err, "%s/%s", dir, org))
        return GL_ERR;
    DIR *d = opendir(org_dir);
    if (!d)
        return GL_OK; /* gone meanwhile, or not a folder */
    int rc = GL_OK;
    struct dirent *e;
    while (rc == GL_OK && (e = readdir(d))) {
        if (strlen(e->d_name) != 2 || !is_hex_lower(e->d_name, 2) ||
            !path_fmt(sub_dir, sizeof sub_dir, err, "%s/%s", org_dir, e->d_name))
            continue;
        DIR *s = opendir(sub_dir);
        if (!s)
            continue;
        struct dirent *f;
        while (rc == GL_OK && (f = readdir(s))) {
            if (strlen(f->d_name) != GL_SHA256_HEX_LEN || !is_hex_lower(f->d_name, GL_SHA256_HEX_LEN) ||
                strncmp(f->d_name, e->d_name, 2) != 0 ||
                !path_fmt(path, sizeof path, err, "%s/%s", sub_dir, f->d_name))
                continue;
            rc = gc_content(path, org, f->d_name, refs, rep, err);
        }
        closedir(s);
    }
    closedir(d);
    return rc;
}

int gl_filestore_gc(const char *dir, int temp_hours, const gl_filestore_refs_t *refs, gl_filestore_gc_t *rep,
                    gl_err_t *err)
{
    if (gc_temps(dir, (time_t)temp_hours * 3600, rep, err) != GL_OK)
        return GL_ERR;
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT)
            return GL_OK;
        gl_err_set(err, "cannot read %s: %s", dir, strerror(errno));
        return GL_ERR;
    }
    int rc = GL_OK;
    struct dirent *e;
    while (rc == GL_OK && (e = readdir(d)))
        if (is_org_name(e->d_name))
            rc = gc_org(dir, e->d_name, refs, rep, err);
    closedir(d);
    return rc;
}
