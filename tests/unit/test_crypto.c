#include "crypto.h"
#include "gl_test.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

/* The settings of a stored hash: everything before its last '$'. */
static void settings_of(const char *mcf, char *out, size_t n)
{
    snprintf(out, n, "%s", mcf);
    *strrchr(out, '$') = '\0';
}

/* The milliseconds of a version 7 UUID's first 48 bits. */
static uint64_t v7_ms(const char *u)
{
    char hex[13];
    memcpy(hex, u, 8);
    memcpy(hex + 8, u + 9, 4);
    hex[12] = '\0';
    return strtoull(hex, NULL, 16);
}

TEST(uuid_v7_is_time_ordered)
{
    ASSERT_EQ(gl_crypto_init(), GL_OK);
    char a[GL_UUID_LEN + 1], b[GL_UUID_LEN + 1], c[GL_UUID_LEN + 1], v4[GL_UUID_LEN + 1];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    gl_uuid_v7(a);
    gl_uuid_v7(b);
    usleep(2000);
    gl_uuid_v7(c);
    gl_uuid_v4(v4);
    ASSERT(gl_is_uuid(a) && gl_is_uuid(c));
    ASSERT_EQ(a[14], '7'); /* the version */
    ASSERT(strchr("89ab", a[19]) != NULL); /* the RFC variant */
    ASSERT_EQ(v4[14], '4');
    ASSERT(v7_ms(a) >= now && v7_ms(a) <= now + 1000);
    ASSERT(strcmp(a, b) != 0); /* the same millisecond, other random bits */
    ASSERT(v7_ms(c) > v7_ms(a));
    ASSERT(strcmp(c, a) > 0 && strcmp(c, b) > 0); /* as text and as uuid, later sorts last */
}

TEST(derive_matches_stored_hash)
{
    ASSERT_EQ(gl_crypto_init(), GL_OK);
    char mcf[GL_MCF_LEN], settings[GL_MCF_LEN], again[GL_MCF_LEN];
    ASSERT_EQ(gl_password_hash("correct horse battery", 10, mcf), GL_OK);
    settings_of(mcf, settings, sizeof settings);
    ASSERT_EQ(gl_password_derive(settings, "correct horse battery", again), GL_OK);
    ASSERT_STR_EQ(again, mcf);
    ASSERT_EQ(gl_password_derive(settings, "correct horse batterY", again), GL_OK);
    ASSERT(strcmp(again, mcf) != 0);
    ASSERT(gl_password_check(again, "correct horse batterY", 10));
}

TEST(derive_refuses_bad_settings)
{
    ASSERT_EQ(gl_crypto_init(), GL_OK);
    char out[GL_MCF_LEN];
    ASSERT_EQ(gl_password_derive("", "x", out), GL_INVALID);
    ASSERT_EQ(gl_password_derive("$2b$10$abcdefghijklmnopqrstuv", "x", out), GL_INVALID);
    ASSERT_EQ(gl_password_derive("$s1$zz0801$c2FsdHNhbHRzYWx0c2FsdA==", "x", out), GL_INVALID);
    ASSERT_EQ(gl_password_derive("$s1$1f0801$c2FsdHNhbHRzYWx0c2FsdA==", "x", out), GL_INVALID); /* 2^31 */
    ASSERT_EQ(gl_password_derive("$s1$0a0801$not base64!", "x", out), GL_INVALID);
    /* a decoy salt as the database makes it (16 bytes, standard base64) */
    ASSERT_EQ(gl_password_derive("$s1$0a0801$c2FsdHNhbHRzYWx0c2FsdA==", "x", out), GL_OK);
    ASSERT(strncmp(out, "$s1$0a0801$c2FsdHNhbHRzYWx0c2FsdA==$", 36) == 0);
}

TEST(common_passwords)
{
    ASSERT(gl_password_common("password1234"));
    ASSERT(gl_password_common("PassWord1234"));
    ASSERT(gl_password_common("qwertyuiop"));
    ASSERT(gl_password_common("1234567890"));
    ASSERT(gl_password_common("iloveyou123"));
    ASSERT(!gl_password_common("correct horse battery"));
    ASSERT(!gl_password_common("benchmark password"));
    ASSERT(!gl_password_common("x7#Kq!2vLp9w"));
    ASSERT(!gl_password_common(""));
}

TEST_MAIN()
