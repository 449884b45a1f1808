#include "crypto.h"
#include "gl_test.h"

#include <stdio.h>

/* The settings of a stored hash: everything before its last '$'. */
static void settings_of(const char *mcf, char *out, size_t n)
{
    snprintf(out, n, "%s", mcf);
    *strrchr(out, '$') = '\0';
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
