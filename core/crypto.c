/* crypto.c: see crypto.h. */
#include "crypto.h"

#include <libscrypt.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

int gl_crypto_init(void)
{
    return sodium_init() < 0 ? GL_ERR : GL_OK;
}

void gl_random_text(char *out, size_t out_len, size_t n_bytes)
{
    unsigned char buf[64];
    if (n_bytes > sizeof buf)
        n_bytes = sizeof buf;
    randombytes_buf(buf, n_bytes);
    sodium_bin2base64(out, out_len, buf, n_bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(buf, sizeof buf);
}

/* b as text: 8-4-4-4-12 lowercase hex digits */
static void uuid_text(const unsigned char b[16], char out[37])
{
    static const char hex[] = "0123456789abcdef";
    int o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    out[o] = '\0';
}

void gl_uuid_v4(char out[37])
{
    unsigned char b[16];
    randombytes_buf(b, sizeof b);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    uuid_text(b, out);
}

void gl_uuid_v7(char out[37])
{
    unsigned char b[16];
    randombytes_buf(b, sizeof b);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    for (int i = 0; i < 6; i++)
        b[i] = (unsigned char)(ms >> (40 - 8 * i));
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x70);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    uuid_text(b, out);
}

void gl_token_new(char out[GL_TOKEN_LEN + 1])
{
    gl_random_text(out, GL_TOKEN_LEN + 1, GL_TOKEN_BYTES);
}

void gl_hash_param(const char *s, size_t n, char out[GL_HASH_PARAM_LEN])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)s, n);
    out[0] = '\\';
    out[1] = 'x';
    sodium_bin2hex(out + 2, GL_HASH_PARAM_LEN - 2, h, sizeof h);
}

void gl_csrf_token(const char *session_token, char out[GL_TOKEN_LEN + 1])
{
    static const char prefix[] = "glyphic-csrf:";
    crypto_hash_sha256_state st;
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const unsigned char *)prefix, sizeof prefix - 1);
    crypto_hash_sha256_update(&st, (const unsigned char *)session_token, strlen(session_token));
    crypto_hash_sha256_final(&st, h);
    sodium_bin2base64(out, GL_TOKEN_LEN + 1, h, sizeof h, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

int gl_password_hash(const char *password, int n_log2, char mcf[GL_MCF_LEN])
{
    if (n_log2 < 10 || n_log2 > 22)
        return GL_INVALID;
    char buf[GL_MCF_LEN];
    memset(buf, 0, sizeof buf);
    if (libscrypt_hash(buf, password, (uint32_t)1 << n_log2, 8, 1) <= 0)
        return GL_ERR;
    snprintf(mcf, GL_MCF_LEN, "%s", buf);
    return GL_OK;
}

bool gl_password_check(const char *mcf, const char *password, int dummy_n_log2)
{
    /* a hash of a random password at the configured cost, made once */
    static char dummy[GL_MCF_LEN];
    static int dummy_cost;
    if (!mcf) {
        if (!dummy[0] || dummy_cost != dummy_n_log2) {
            char pw[GL_TOKEN_LEN + 1];
            gl_token_new(pw);
            if (gl_password_hash(pw, dummy_n_log2, dummy) != GL_OK)
                return false;
            dummy_cost = dummy_n_log2;
        }
        mcf = dummy;
    }
    char copy[GL_MCF_LEN];
    if (strlen(mcf) >= sizeof copy)
        return false;
    snprintf(copy, sizeof copy, "%s", mcf); /* libscrypt_check writes into it */
    bool ok = libscrypt_check(copy, password) > 0;
    return ok && mcf != dummy;
}

int gl_password_derive(const char *settings, const char *password, char mcf[GL_MCF_LEN])
{
    /* "$s1$" six hex digits of (log2 N << 16 | r << 8 | p) "$" base64 salt */
    if (!settings || strncmp(settings, "$s1$", 4) != 0 || strlen(settings) < 12 || settings[10] != '$')
        return GL_INVALID;
    char hex[7];
    memcpy(hex, settings + 4, 6);
    hex[6] = '\0';
    char *end;
    unsigned long params = strtoul(hex, &end, 16);
    if (*end != '\0')
        return GL_INVALID;
    unsigned n_log2 = (unsigned)(params >> 16) & 0xff, r = (unsigned)(params >> 8) & 0xff, p = (unsigned)params & 0xff;
    if (n_log2 < 1 || n_log2 > 22 || r < 1 || p < 1 || (uint64_t)r * p > 64)
        return GL_INVALID;
    const char *salt_b64 = settings + 11;
    size_t salt_b64_len = strlen(salt_b64);
    unsigned char salt[64];
    size_t salt_len = 0;
    if (salt_b64_len == 0 || salt_b64_len > 88 ||
        sodium_base642bin(salt, sizeof salt, salt_b64, salt_b64_len, NULL, &salt_len, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        return GL_INVALID;
    unsigned char dk[SCRYPT_HASH_LEN];
    if (libscrypt_scrypt((const uint8_t *)password, strlen(password), salt, salt_len, (uint64_t)1 << n_log2, r, p,
                         dk, sizeof dk) != 0)
        return GL_ERR;
    char dk_b64[sodium_base64_ENCODED_LEN(SCRYPT_HASH_LEN, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(dk_b64, sizeof dk_b64, dk, sizeof dk, sodium_base64_VARIANT_ORIGINAL);
    sodium_memzero(dk, sizeof dk);
    int n = snprintf(mcf, GL_MCF_LEN, "%s$%s", settings, dk_b64);
    return n > 0 && n < GL_MCF_LEN ? GL_OK : GL_INVALID;
}

extern const char gl_common_passwords[]; /* generated from core/common_passwords.txt */

bool gl_password_common(const char *password)
{
    size_t n = strlen(password);
    if (n == 0)
        return false;
    /* one pass over the list's lines (about 15,000: some 100 microseconds) */
    for (const char *line = gl_common_passwords; *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        if (len == n && line[0] != '#' && strncasecmp(line, password, n) == 0)
            return true;
        if (!nl)
            break;
        line = nl + 1;
    }
    return false;
}

bool gl_str_secure_eq(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb)
        return false;
    return sodium_memcmp(a, b, la) == 0;
}

typedef struct {
    void *p;
    size_t n;
} wipe_t;

static void wipe(void *data)
{
    wipe_t *w = data;
    sodium_memzero(w->p, w->n);
}

char *gl_wiped_alloc(gl_arena_t *a, size_t n)
{
    char *p = gl_arena_alloc(a, n);
    wipe_t *w = gl_arena_alloc(a, sizeof *w);
    w->p = p;
    w->n = n;
    gl_arena_on_cleanup(a, wipe, w);
    return p;
}

char *gl_wiped_strdup(gl_arena_t *a, const char *s, size_t n)
{
    char *p = gl_wiped_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}
