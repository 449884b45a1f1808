/* vault.c: see vault.h. */
#include "vault.h"

#include "crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_BYTES crypto_aead_xchacha20poly1305_ietf_ABYTES
#define KEY_FILE_MAX 80 /* 64 hex digits, a newline, and room to notice more */
#define AD_MAX 256

typedef struct {
    unsigned char *key; /* sodium_malloc'd, GL_VAULT_KEY_BYTES */
    char id[GL_VAULT_KEY_ID_LEN + 1];
} vkey_t;

struct gl_vault {
    vkey_t keys[GL_VAULT_MAX_KEYS]; /* keys[0] seals */
    int n_keys;
};

static void key_id_of(const unsigned char key[GL_VAULT_KEY_BYTES], char id[GL_VAULT_KEY_ID_LEN + 1])
{
    unsigned char h[GL_VAULT_KEY_ID_LEN / 2];
    crypto_generichash(h, sizeof h, key, GL_VAULT_KEY_BYTES, (const unsigned char *)"glyphic-key-id", 14);
    sodium_bin2hex(id, GL_VAULT_KEY_ID_LEN + 1, h, sizeof h);
}

/* Reads and checks the key file at path into key (64 hex digits, mode 0600). */
static int read_key(const char *path, unsigned char key[GL_VAULT_KEY_BYTES], gl_err_t *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        gl_err_set(err, "secrets key file %s cannot be read (%s): create one with `glyphic keygen %s` and set "
                   "secrets.key_file", path, strerror(errno), path);
        return GL_NOTFOUND;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        gl_err_set(err, "secrets key file %s is not a regular file", path);
        return GL_INVALID;
    }
    if (st.st_mode & 077) {
        close(fd);
        gl_err_set(err, "secrets key file %s may be read or written by group or others (mode %04o): run "
                   "`chmod 600 %s`", path, (unsigned)(st.st_mode & 07777), path);
        return GL_INVALID;
    }
    char text[KEY_FILE_MAX + 1];
    ssize_t got = read(fd, text, KEY_FILE_MAX);
    close(fd);
    if (got < 0) {
        gl_err_set(err, "secrets key file %s cannot be read: %s", path, strerror(errno));
        return GL_ERR;
    }
    size_t len = (size_t)got;
    if (len > 0 && text[len - 1] == '\n')
        len--;
    size_t bin_len = 0;
    int rc = GL_OK;
    if (len != GL_VAULT_KEY_BYTES * 2 ||
        sodium_hex2bin(key, GL_VAULT_KEY_BYTES, text, len, NULL, &bin_len, NULL) != 0 ||
        bin_len != GL_VAULT_KEY_BYTES) {
        gl_err_set(err, "secrets key file %s must hold exactly 64 hexadecimal digits (a 32-byte key); it holds "
                   "%zu bytes: write a new one with `glyphic keygen FILE`", path, (size_t)got);
        rc = GL_INVALID;
    }
    sodium_memzero(text, sizeof text);
    return rc;
}

static int add_key(gl_vault_t *v, const char *path, gl_err_t *err)
{
    unsigned char key[GL_VAULT_KEY_BYTES];
    int rc = read_key(path, key, err);
    if (rc != GL_OK)
        return rc;
    char id[GL_VAULT_KEY_ID_LEN + 1];
    key_id_of(key, id);
    if (gl_vault_has_key(v, id)) {
        sodium_memzero(key, sizeof key);
        return GL_OK;
    }
    if (v->n_keys == GL_VAULT_MAX_KEYS) {
        sodium_memzero(key, sizeof key);
        gl_err_set(err, "more than %d secrets keys configured", GL_VAULT_MAX_KEYS);
        return GL_INVALID;
    }
    vkey_t *k = &v->keys[v->n_keys];
    k->key = sodium_malloc(GL_VAULT_KEY_BYTES);
    if (!k->key) {
        sodium_memzero(key, sizeof key);
        gl_err_set(err, "cannot allocate locked memory for a key");
        return GL_ERR;
    }
    memcpy(k->key, key, sizeof key);
    sodium_memzero(key, sizeof key);
    (void)sodium_mprotect_readonly(k->key);
    memcpy(k->id, id, sizeof id);
    v->n_keys++;
    return GL_OK;
}

int gl_vault_load(const char *key_file, const char *old_key_files, gl_vault_t **out, gl_err_t *err)
{
    if (!key_file || !key_file[0]) {
        gl_err_set(err, "secrets.key_file is not set: create a key with `glyphic keygen FILE` and set "
                   "secrets.key_file to it");
        return GL_INVALID;
    }
    gl_vault_t *v = gl_xcalloc(1, sizeof *v);
    int rc = add_key(v, key_file, err);
    const char *p = old_key_files ? old_key_files : "";
    while (rc == GL_OK && *p) {
        size_t len = strcspn(p, ",");
        char path[4096];
        while (len > 0 && (*p == ' ' || *p == '\t'))
            p++, len--;
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len >= sizeof path) {
            gl_err_set(err, "secrets.old_key_files: a path is too long");
            rc = GL_INVALID;
            break;
        }
        if (len > 0) {
            memcpy(path, p, len);
            path[len] = '\0';
            rc = add_key(v, path, err);
        }
        p += strcspn(p, ",");
        if (*p == ',')
            p++;
    }
    if (rc != GL_OK) {
        gl_vault_free(v);
        return rc;
    }
    *out = v;
    return GL_OK;
}

void gl_vault_free(gl_vault_t *v)
{
    if (!v)
        return;
    for (int i = 0; i < v->n_keys; i++)
        sodium_free(v->keys[i].key);
    free(v);
}

const char *gl_vault_key_id(const gl_vault_t *v)
{
    return v->keys[0].id;
}

static const vkey_t *find_key(const gl_vault_t *v, const char *key_id)
{
    if (!key_id)
        return &v->keys[0];
    for (int i = 0; i < v->n_keys; i++)
        if (strcmp(v->keys[i].id, key_id) == 0)
            return &v->keys[i];
    return NULL;
}

bool gl_vault_has_key(const gl_vault_t *v, const char *key_id)
{
    return key_id && find_key(v, key_id) != NULL;
}

/* The associated data: a version tag and the four bindings, NUL-separated. */
static int make_ad(const gl_vault_ad_t *ad, const char *key_id, unsigned char out[AD_MAX], size_t *n, gl_err_t *err)
{
    int len = snprintf((char *)out, AD_MAX, "glyphic-credential-v1%c%s%c%s%c%s%c%s", 0, ad->org_id, 0, ad->cred_id,
                       0, key_id, 0, ad->field);
    if (len < 0 || len >= AD_MAX) {
        gl_err_set(err, "credential binding too long");
        return GL_INVALID;
    }
    *n = (size_t)len;
    return GL_OK;
}

int gl_vault_seal(const gl_vault_t *v, const char *key_id, const gl_vault_ad_t *ad, const char *plain, size_t n,
                  gl_arena_t *a, char **out, gl_err_t *err)
{
    const vkey_t *k = find_key(v, key_id);
    if (!k) {
        gl_err_set(err, "the key %.16s is not configured", key_id);
        return GL_NOTFOUND;
    }
    if (n > GL_VAULT_MAX_SECRET) {
        gl_err_set(err, "a secret value is longer than %d bytes", GL_VAULT_MAX_SECRET);
        return GL_TOO_LARGE;
    }
    unsigned char adb[AD_MAX];
    size_t ad_len;
    int rc = make_ad(ad, k->id, adb, &ad_len, err);
    if (rc != GL_OK)
        return rc;
    size_t sealed_len = NONCE_BYTES + n + TAG_BYTES;
    unsigned char *sealed = gl_arena_alloc(a, sealed_len);
    randombytes_buf(sealed, NONCE_BYTES);
    unsigned long long ct_len = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(sealed + NONCE_BYTES, &ct_len, (const unsigned char *)plain, n, adb,
                                               ad_len, NULL, sealed, k->key);
    size_t b64_len = sodium_base64_ENCODED_LEN(sealed_len, sodium_base64_VARIANT_ORIGINAL);
    *out = gl_arena_alloc(a, b64_len);
    sodium_bin2base64(*out, b64_len, sealed, sealed_len, sodium_base64_VARIANT_ORIGINAL);
    return GL_OK;
}

int gl_vault_open(const gl_vault_t *v, const char *key_id, const gl_vault_ad_t *ad, const char *sealed,
                  gl_arena_t *a, char **plain, size_t *n, gl_err_t *err)
{
    const vkey_t *k = key_id ? find_key(v, key_id) : NULL;
    if (!k) {
        gl_err_set(err, "sealed under key %.16s, which is not configured (secrets.key_file, secrets.old_key_files)",
                   key_id ? key_id : "(none)");
        return GL_NOTFOUND;
    }
    size_t text_len = strlen(sealed);
    size_t max_bin = text_len / 4 * 3 + 3;
    if (max_bin > NONCE_BYTES + TAG_BYTES + GL_VAULT_MAX_SECRET + 3) {
        gl_err_set(err, "sealed value too long");
        return GL_INVALID;
    }
    unsigned char *bin = gl_arena_alloc(a, max_bin);
    size_t bin_len = 0;
    if (sodium_base642bin(bin, max_bin, sealed, text_len, NULL, &bin_len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
        bin_len < NONCE_BYTES + TAG_BYTES) {
        gl_err_set(err, "sealed value is malformed");
        return GL_INVALID;
    }
    unsigned char adb[AD_MAX];
    size_t ad_len;
    int rc = make_ad(ad, k->id, adb, &ad_len, err);
    if (rc != GL_OK)
        return rc;
    size_t pt_max = bin_len - NONCE_BYTES - TAG_BYTES;
    char *pt = gl_wiped_alloc(a, pt_max + 1);
    unsigned long long pt_len = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt((unsigned char *)pt, &pt_len, NULL, bin + NONCE_BYTES,
                                                   bin_len - NONCE_BYTES, adb, ad_len, bin, k->key) != 0) {
        gl_err_set(err, "does not open: it was sealed for another credential, field or org, or changed");
        return GL_INVALID;
    }
    pt[pt_len] = '\0';
    *plain = pt;
    *n = (size_t)pt_len;
    return GL_OK;
}

int gl_vault_keygen(const char *path, gl_err_t *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        gl_err_set(err, "cannot create %s: %s", path, errno == EEXIST ? "it exists (a key is never overwritten)"
                                                                       : strerror(errno));
        return errno == EEXIST ? GL_CONFLICT : GL_ERR;
    }
    unsigned char key[GL_VAULT_KEY_BYTES];
    char text[GL_VAULT_KEY_BYTES * 2 + 2];
    randombytes_buf(key, sizeof key);
    sodium_bin2hex(text, sizeof text, key, sizeof key);
    sodium_memzero(key, sizeof key);
    size_t len = strlen(text);
    text[len++] = '\n';
    int rc = GL_OK;
    if (fchmod(fd, 0600) != 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) != 0) {
        gl_err_set(err, "cannot write %s: %s", path, strerror(errno));
        rc = GL_ERR;
    }
    sodium_memzero(text, sizeof text);
    if (close(fd) != 0 && rc == GL_OK) {
        gl_err_set(err, "cannot write %s: %s", path, strerror(errno));
        rc = GL_ERR;
    }
    if (rc != GL_OK)
        unlink(path);
    return rc;
}

int gl_vault_file_key_id(const char *path, char id[GL_VAULT_KEY_ID_LEN + 1], gl_err_t *err)
{
    unsigned char key[GL_VAULT_KEY_BYTES];
    int rc = read_key(path, key, err);
    if (rc == GL_OK)
        key_id_of(key, id);
    sodium_memzero(key, sizeof key);
    return rc;
}

int gl_vault_add_file(gl_vault_t *v, const char *path, gl_err_t *err)
{
    return add_key(v, path, err);
}
