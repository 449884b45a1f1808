/*
 * vault.h: the master keys and the sealing of credential secrets.
 *
 * Each secret field of a credential is sealed on its own with
 * XChaCha20-Poly1305 (libsodium's IETF AEAD) under a 32-byte master key read
 * from a file. The associated data binds the org id, the credential id, the
 * key id and the field's name, so a sealed value copied to another field,
 * credential or org does not open. A sealed value is stored as base64 text
 * of nonce || ciphertext (with its tag).
 *
 * A key file holds the key as 64 hexadecimal digits (and an optional
 * newline), mode 0600 or stricter; `glyphic keygen FILE` writes one. A key's
 * id is the first 8 bytes of BLAKE2b(key) as 16 hex digits: rows store it,
 * and rotation (`glyphic rotate-key`) re-seals every row whose id is not the
 * new key's.
 *
 * The keyring holds the sealing key (secrets.key_file) and any number of
 * keys that still open older rows (secrets.old_key_files). Keys live in
 * memory locked with sodium_malloc and are wiped when the keyring is freed.
 */
#ifndef GL_VAULT_H
#define GL_VAULT_H

#include "arena.h"
#include "gl.h"

#include <stdbool.h>
#include <stddef.h>

#define GL_VAULT_KEY_BYTES 32
#define GL_VAULT_KEY_ID_LEN 16 /* hex digits of a key id */
#define GL_VAULT_MAX_KEYS 8
#define GL_VAULT_MAX_SECRET 65536 /* bytes of one secret field's value */

typedef struct gl_vault gl_vault_t;

/* What a sealed value is bound to. All three are required. */
typedef struct {
    const char *org_id;
    const char *cred_id;
    const char *field;
} gl_vault_ad_t;

/*
 * Loads the keyring: key_file seals and opens; old_key_files (comma-separated
 * paths, may be NULL or empty) only open. Refuses a missing file, one that
 * group or others may read or write, or one that does not hold exactly 64 hex
 * digits; err says which file and how to fix it. The caller frees *out with
 * gl_vault_free().
 */
int gl_vault_load(const char *key_file, const char *old_key_files, gl_vault_t **out, gl_err_t *err) GL_WUR;
void gl_vault_free(gl_vault_t *v);

/* The id of the sealing key (GL_VAULT_KEY_ID_LEN hex digits), owned by v. */
const char *gl_vault_key_id(const gl_vault_t *v);

/* True when the keyring holds the key with this id. */
bool gl_vault_has_key(const gl_vault_t *v, const char *key_id);

/*
 * Seals plain[0..n) under the key key_id (NULL: the sealing key) bound to
 * *ad, as base64 text in *out (arena memory). GL_NOTFOUND when the keyring
 * lacks key_id, GL_TOO_LARGE past GL_VAULT_MAX_SECRET.
 */
int gl_vault_seal(const gl_vault_t *v, const char *key_id, const gl_vault_ad_t *ad, const char *plain, size_t n,
                  gl_arena_t *a, char **out, gl_err_t *err) GL_WUR;

/*
 * Opens a sealed value (base64 text) sealed under key_id and bound to *ad:
 * *plain is NUL-terminated arena memory that is wiped when the arena is reset
 * or destroyed; *n its length. GL_NOTFOUND when the keyring lacks key_id;
 * GL_INVALID when it does not open (tampered, or bound to another field,
 * credential, org or key). err never holds the value.
 */
int gl_vault_open(const gl_vault_t *v, const char *key_id, const gl_vault_ad_t *ad, const char *sealed,
                  gl_arena_t *a, char **plain, size_t *n, gl_err_t *err) GL_WUR;

/* Writes a new random key to path (created with mode 0600; an existing file
 * is never overwritten: GL_CONFLICT). */
int gl_vault_keygen(const char *path, gl_err_t *err) GL_WUR;

/* The id of the key in the file at path (checked like gl_vault_load) into
 * id[GL_VAULT_KEY_ID_LEN + 1]. */
int gl_vault_file_key_id(const char *path, char id[GL_VAULT_KEY_ID_LEN + 1], gl_err_t *err) GL_WUR;

/* Adds the key in the file at path to the keyring (opening and sealing),
 * unless it is there already. */
int gl_vault_add_file(gl_vault_t *v, const char *path, gl_err_t *err) GL_WUR;

#endif
