/*
 * crypto.h: tokens, hashes and password hashing (libsodium, libscrypt).
 * Secrets handled here are never logged; callers wipe what they keep.
 */
#ifndef GL_CRYPTO_H
#define GL_CRYPTO_H

#include "arena.h"
#include "gl.h"

#define GL_TOKEN_BYTES 32
#define GL_TOKEN_LEN 43       /* base64url of 32 bytes, no padding */
#define GL_HASH_PARAM_LEN 67  /* "\\x" + 64 hex digits + NUL: a bytea parameter */
#define GL_MCF_LEN 128

/* Initialises libsodium; call once at start-up. */
int gl_crypto_init(void) GL_WUR;

/* A random (version 4) UUID as lowercase text. */
#define GL_UUID_LEN 36 /* a UUID as text */
void gl_uuid_v4(char out[37]);
/* A time-ordered (version 7, RFC 9562) UUID as lowercase text: the Unix
 * time in milliseconds, then 74 random bits. Rows keyed by these go in at
 * the right end of their primary key's index, as a v4 key's go anywhere:
 * an insert touches the pages the last ones touched (fewer pages to read,
 * to write back and to log whole after a checkpoint). Ids of rows made
 * often (executions). */
void gl_uuid_v7(char out[37]);
/* A random 256-bit token as base64url text in out[GL_TOKEN_LEN + 1]. */
void gl_token_new(char out[GL_TOKEN_LEN + 1]);

/* Random bytes as base64url text: n_bytes of randomness into out (cap out_len). */
void gl_random_text(char *out, size_t out_len, size_t n_bytes);

/* SHA-256 of s[0..n) as a bytea text parameter ("\\x…") in out. */
void gl_hash_param(const char *s, size_t n, char out[GL_HASH_PARAM_LEN]);

/* The CSRF token of a session: base64url(SHA-256("glyphic-csrf:" token)) in
 * out[GL_TOKEN_LEN + 1]. Derived, never stored: it cannot be turned back
 * into the session token, and differs from the stored token hash. */
void gl_csrf_token(const char *session_token, char out[GL_TOKEN_LEN + 1]);

/* scrypt MCF hash of password (N = 2^n_log2, r = 8, p = 1) into mcf. */
int gl_password_hash(const char *password, int n_log2, char mcf[GL_MCF_LEN]) GL_WUR;

/* True when password matches the MCF string (constant-time comparison).
 * With mcf NULL it does the same work against a dummy hash of cost
 * 2^dummy_n_log2 and returns false, so unknown accounts take as long as
 * known ones. */
bool gl_password_check(const char *mcf, const char *password, int dummy_n_log2);

/*
 * The scrypt MCF hash of password under the settings of a stored hash
 * ("$s1$<params>$<salt>", the stored string without its last field), into
 * mcf: what gl_password_hash would have stored for this password with that
 * salt and cost. The database compares it with the stored hash itself, so
 * the stored hash never has to leave it. GL_INVALID for settings that are
 * not scrypt MCF settings (or a cost above 2^22).
 */
int gl_password_derive(const char *settings, const char *password, char mcf[GL_MCF_LEN]) GL_WUR;

/* True when password is on the common-password list shipped with Glyphic
 * (core/common_passwords.txt, compared without regard to ASCII case). */
bool gl_password_common(const char *password);

/* Constant-time equality of two NUL-terminated strings. */
bool gl_str_secure_eq(const char *a, const char *b);

/* n bytes of a's memory that are zeroed (sodium_memzero) when the arena is
 * reset or destroyed: for opened secrets and what is derived from them. */
char *gl_wiped_alloc(gl_arena_t *a, size_t n);
/* s[0..n) copied into such memory, NUL-terminated. */
char *gl_wiped_strdup(gl_arena_t *a, const char *s, size_t n);

#endif
