/*
 * test_vault.c: key files are refused unless they are private and the right
 * length; a sealed value opens only where it was sealed (same org,
 * credential, field and key); an old key still opens, and only the sealing
 * key seals by default.
 */
#include "gl_test.h"
#include "crypto.h"
#include "vault.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/gl-test-vault-XXXXXX";

static const char *path_in(const char *name)
{
    static char buf[4][128];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, 128, "%s/%s", dir, name);
    return p;
}

static void setup(void)
{
    ASSERT(gl_crypto_init() == GL_OK);
    ASSERT(mkdtemp(dir) != NULL);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    ASSERT(f != NULL);
    fputs(text, f);
    fclose(f);
    ASSERT(chmod(path, mode) == 0);
}

static gl_vault_t *load(const char *key, const char *old)
{
    gl_vault_t *v = NULL;
    gl_err_t err;
    gl_err_clear(&err);
    if (gl_vault_load(key, old, &v, &err) != GL_OK)
        FAIL_AT("load %s: %s", key, err.msg);
    return v;
}

TEST(keygen_writes_a_private_key_and_never_overwrites)
{
    setup();
    gl_err_t err;
    gl_err_clear(&err);
    const char *k = path_in("a.key");
    ASSERT(gl_vault_keygen(k, &err) == GL_OK);
    struct stat st;
    ASSERT(stat(k, &st) == 0);
    ASSERT_EQ(st.st_mode & 0777, 0600);
    ASSERT_EQ(st.st_size, 65);
    char id[GL_VAULT_KEY_ID_LEN + 1];
    ASSERT(gl_vault_file_key_id(k, id, &err) == GL_OK);
    ASSERT(gl_vault_keygen(k, &err) == GL_CONFLICT);
    char id2[GL_VAULT_KEY_ID_LEN + 1];
    ASSERT(gl_vault_file_key_id(k, id2, &err) == GL_OK);
    ASSERT_STR_EQ(id, id2);
}

TEST(bad_key_files_are_refused_with_a_fix)
{
    setup();
    gl_vault_t *v = NULL;
    gl_err_t err;
    gl_err_clear(&err);
    ASSERT(gl_vault_load(path_in("missing.key"), "", &v, &err) == GL_NOTFOUND);
    ASSERT(strstr(err.msg, "glyphic keygen") != NULL);
    ASSERT(gl_vault_load("", "", &v, &err) == GL_INVALID);

    const char *open_key = path_in("open.key");
    ASSERT(gl_vault_keygen(open_key, &err) == GL_OK);
    ASSERT(chmod(open_key, 0640) == 0);
    ASSERT(gl_vault_load(open_key, "", &v, &err) == GL_INVALID);
    ASSERT(strstr(err.msg, "chmod 600") != NULL);
    ASSERT(chmod(open_key, 0604) == 0);
    ASSERT(gl_vault_load(open_key, "", &v, &err) == GL_INVALID);

    const char *shorter = path_in("short.key");
    write_file(shorter, "00112233445566778899aabbccddeeff\n", 0600);
    ASSERT(gl_vault_load(shorter, "", &v, &err) == GL_INVALID);
    ASSERT(strstr(err.msg, "64 hexadecimal digits") != NULL);
    const char *not_hex = path_in("nothex.key");
    write_file(not_hex, "zz112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n", 0600);
    ASSERT(gl_vault_load(not_hex, "", &v, &err) == GL_INVALID);
    const char *longer = path_in("long.key");
    write_file(longer, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00\n", 0600);
    ASSERT(gl_vault_load(longer, "", &v, &err) == GL_INVALID);

    /* an old key file is checked the same way */
    const char *good = path_in("good.key");
    ASSERT(gl_vault_keygen(good, &err) == GL_OK);
    ASSERT(gl_vault_load(good, shorter, &v, &err) == GL_INVALID);
    ASSERT(v == NULL);
}

TEST(a_sealed_value_opens_only_where_it_was_sealed)
{
    setup();
    gl_err_t err;
    gl_err_clear(&err);
    const char *k = path_in("k.key");
    ASSERT(gl_vault_keygen(k, &err) == GL_OK);
    gl_vault_t *v = load(k, NULL);
    gl_arena_t *a = gl_arena_create(0);
    const char *org = "11111111-1111-4111-8111-111111111111", *org2 = "22222222-2222-4222-8222-222222222222";
    const char *cred = "33333333-3333-4333-8333-333333333333", *cred2 = "44444444-4444-4444-8444-444444444444";
    gl_vault_ad_t ad = { org, cred, "token" };
    char *sealed = NULL, *plain = NULL;
    size_t n = 0;
    ASSERT(gl_vault_seal(v, NULL, &ad, "s3cret-value", 12, a, &sealed, &err) == GL_OK);
    ASSERT(strstr(sealed, "s3cret") == NULL);
    ASSERT(gl_vault_open(v, gl_vault_key_id(v), &ad, sealed, a, &plain, &n, &err) == GL_OK);
    ASSERT_STR_EQ(plain, "s3cret-value");
    ASSERT_EQ(n, 12);

    gl_vault_ad_t other_org = { org2, cred, "token" }, other_cred = { org, cred2, "token" },
                  other_field = { org, cred, "password" };
    ASSERT(gl_vault_open(v, gl_vault_key_id(v), &other_org, sealed, a, &plain, &n, &err) == GL_INVALID);
    ASSERT(strstr(err.msg, "s3cret") == NULL);
    ASSERT(gl_vault_open(v, gl_vault_key_id(v), &other_cred, sealed, a, &plain, &n, &err) == GL_INVALID);
    ASSERT(gl_vault_open(v, gl_vault_key_id(v), &other_field, sealed, a, &plain, &n, &err) == GL_INVALID);
    ASSERT(gl_vault_open(v, "0000000000000000", &ad, sealed, a, &plain, &n, &err) == GL_NOTFOUND);
    ASSERT(gl_vault_open(v, gl_vault_key_id(v), &ad, "not base64!", a, &plain, &n, &err) == GL_INVALID);
    /* one flipped character */
    char *tampered = gl_arena_strdup(a, sealed);
    tampered[10] = tampered[10] == 'A' ? 'B' : 'A';
    ASSERT(gl_vault_open(v, gl_vault_key_id(v), &ad, tampered, a, &plain, &n, &err) == GL_INVALID);
    /* two seals of one value differ (random nonces) */
    char *again = NULL;
    ASSERT(gl_vault_seal(v, NULL, &ad, "s3cret-value", 12, a, &again, &err) == GL_OK);
    ASSERT(strcmp(again, sealed) != 0);
    gl_arena_destroy(a);
    gl_vault_free(v);
}

TEST(rotation_keeps_old_keys_for_opening)
{
    setup();
    gl_err_t err;
    gl_err_clear(&err);
    const char *old = path_in("old.key"), *new_key = path_in("new.key");
    ASSERT(gl_vault_keygen(old, &err) == GL_OK);
    ASSERT(gl_vault_keygen(new_key, &err) == GL_OK);
    gl_vault_t *before = load(old, NULL);
    gl_arena_t *a = gl_arena_create(0);
    gl_vault_ad_t ad = { "o", "c", "f" };
    char *sealed = NULL, *plain = NULL;
    size_t n = 0;
    ASSERT(gl_vault_seal(before, NULL, &ad, "v", 1, a, &sealed, &err) == GL_OK);
    char old_id[GL_VAULT_KEY_ID_LEN + 1];
    snprintf(old_id, sizeof old_id, "%s", gl_vault_key_id(before));

    gl_vault_t *during = load(new_key, old);
    ASSERT(strcmp(gl_vault_key_id(during), old_id) != 0);
    ASSERT(gl_vault_has_key(during, old_id));
    ASSERT(gl_vault_open(during, old_id, &ad, sealed, a, &plain, &n, &err) == GL_OK);
    ASSERT_STR_EQ(plain, "v");
    /* a value sealed under the old key does not open as if under the new one */
    ASSERT(gl_vault_open(during, gl_vault_key_id(during), &ad, sealed, a, &plain, &n, &err) == GL_INVALID);
    /* sealing may name the old key (a row not yet rotated keeps one key) */
    char *resealed = NULL;
    ASSERT(gl_vault_seal(during, old_id, &ad, "w", 1, a, &resealed, &err) == GL_OK);
    ASSERT(gl_vault_open(before, old_id, &ad, resealed, a, &plain, &n, &err) == GL_OK);
    gl_arena_destroy(a);
    gl_vault_free(before);
    gl_vault_free(during);
}

TEST_MAIN()
