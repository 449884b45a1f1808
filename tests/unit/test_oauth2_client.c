/*
 * test_oauth2_client.c: PKCE against RFC 7636's own example, the form
 * encoding, and which token endpoint answers are taken (and what is kept
 * of them) — the network half runs in tests/integration/test_oauth2.py.
 */
#include "gl_test.h"
#include "crypto.h"
#include "oauth2_client.h"

#include <string.h>

static gl_arena_t *arena(void)
{
    ASSERT(gl_crypto_init() == GL_OK);
    return gl_arena_create(0);
}

static int parse(gl_arena_t *a, long status, const char *body, gl_oauth2_tokens_t *t, gl_err_t *err)
{
    gl_err_clear(err);
    return gl_oauth2_parse_response(status, body, strlen(body), a, t, err);
}

TEST(pkce_matches_rfc7636_appendix_b)
{
    char ch[GL_OAUTH2_VERIFIER_LEN + 1];
    gl_oauth2_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", ch);
    ASSERT_STR_EQ(ch, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

TEST(verifiers_are_43_unreserved_characters_and_differ)
{
    ASSERT(gl_crypto_init() == GL_OK);
    char a[GL_OAUTH2_VERIFIER_LEN + 1], b[GL_OAUTH2_VERIFIER_LEN + 1];
    gl_oauth2_verifier(a);
    gl_oauth2_verifier(b);
    ASSERT_EQ(strlen(a), 43);
    ASSERT_EQ(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), 43);
    ASSERT(strcmp(a, b) != 0);
}

TEST(form_escape)
{
    char out[128];
    ASSERT_EQ(gl_oauth2_form_escape("a-b.c_d~e", out), 9);
    ASSERT_STR_EQ(out, "a-b.c_d~e");
    gl_oauth2_form_escape("x y+z&=/:?%\xc3\xa9", out);
    ASSERT_STR_EQ(out, "x%20y%2Bz%26%3D%2F%3A%3F%25%C3%A9");
    ASSERT_EQ(gl_oauth2_form_escape("", out), 0);
}

TEST(a_token_response_is_taken)
{
    gl_arena_t *a = arena();
    gl_oauth2_tokens_t t;
    gl_err_t err;
    ASSERT_EQ(parse(a, 200, "{\"access_token\":\"at-1\",\"token_type\":\"bearer\",\"expires_in\":3600,"
                            "\"refresh_token\":\"rt-1\",\"scope\":\"read\"}", &t, &err), GL_OK);
    ASSERT_EQ(t.outcome, GL_OAUTH2_OK);
    ASSERT_STR_EQ(t.access_token, "at-1");
    ASSERT_STR_EQ(t.refresh_token, "rt-1");
    ASSERT_EQ(t.expires_in, 3600);
    /* without refresh token, expires_in as a string, no token_type */
    ASSERT_EQ(parse(a, 201, "{\"access_token\":\"at-2\",\"expires_in\":\"60\"}", &t, &err), GL_OK);
    ASSERT(t.refresh_token == NULL);
    ASSERT_EQ(t.expires_in, 60);
    /* an expires_in that makes no sense is unknown, not an error */
    ASSERT_EQ(parse(a, 200, "{\"access_token\":\"at-3\",\"expires_in\":-5,\"refresh_token\":null}", &t, &err), GL_OK);
    ASSERT_EQ(t.expires_in, -1);
    ASSERT_EQ(parse(a, 200, "{\"access_token\":\"at-3\",\"expires_in\":\"soon\"}", &t, &err), GL_OK);
    ASSERT_EQ(t.expires_in, -1);
    gl_arena_destroy(a);
}

TEST(errors_are_refusals_with_a_plain_code_only)
{
    gl_arena_t *a = arena();
    gl_oauth2_tokens_t t;
    gl_err_t err;
    ASSERT_EQ(parse(a, 400, "{\"error\":\"invalid_grant\",\"error_description\":\"secret-echo\"}", &t, &err),
              GL_ERR);
    ASSERT_EQ(t.outcome, GL_OAUTH2_REFUSED);
    ASSERT_STR_EQ(t.error, "invalid_grant");
    ASSERT_STR_EQ(err.msg, "answered HTTP 400 (invalid_grant)");
    /* an error in a 200 is still an error; a code that is not plain is not repeated */
    ASSERT_EQ(parse(a, 200, "{\"error\":\"Bad <b>\",\"access_token\":\"x\"}", &t, &err), GL_ERR);
    ASSERT_EQ(t.outcome, GL_OAUTH2_REFUSED);
    ASSERT_STR_EQ(t.error, "");
    ASSERT(t.access_token == NULL);
    ASSERT_EQ(parse(a, 500, "<html>oops</html>", &t, &err), GL_ERR);
    ASSERT_EQ(t.outcome, GL_OAUTH2_REFUSED);
    ASSERT_STR_EQ(err.msg, "answered HTTP 500");
    gl_arena_destroy(a);
}

TEST(unusable_answers_are_refused_without_their_values)
{
    gl_arena_t *a = arena();
    gl_oauth2_tokens_t t;
    gl_err_t err;
    const char *bad[] = {
        "",
        "not json",
        "[\"access_token\"]",
        "{\"token_type\":\"bearer\"}",
        "{\"access_token\":\"\"}",
        "{\"access_token\":42}",
        "{\"access_token\":\"has space\"}",
        "{\"access_token\":\"line\\r\\nX-Evil: 1\"}",
        "{\"access_token\":\"at-ok\",\"token_type\":\"mac\"}",
        "{\"access_token\":\"at-ok\",\"refresh_token\":7}",
        "{\"access_token\":\"at-ok\",\"refresh_token\":\"a\\u0000b\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (parse(a, 200, bad[i], &t, &err) != GL_ERR || t.outcome != GL_OAUTH2_BAD_RESPONSE)
            FAIL_AT("taken: %s", bad[i]);
        if (t.access_token || strstr(err.msg, "at-ok") || strstr(err.msg, "has space"))
            FAIL_AT("%s: kept or repeated a value: %s", bad[i], err.msg);
    }
    gl_arena_destroy(a);
}

TEST(a_bad_token_url_is_refused_before_any_request)
{
    gl_arena_t *a = arena();
    const char *urls[] = { "", "ftp://example.com/token", "/token", "https://user:pw@example.com/token",
                           "file:///etc/passwd" };
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        gl_oauth2_client_t c = { .token_url = urls[i], .client_id = "id", .client_secret = "s3cret" };
        const char *form[] = { "grant_type", "authorization_code" };
        gl_oauth2_tokens_t t;
        gl_err_t err;
        gl_err_clear(&err);
        ASSERT_EQ(gl_oauth2_token_request(&c, form, 1, a, &t, &err), GL_ERR);
        if (t.outcome != GL_OAUTH2_BAD_URL)
            FAIL_AT("%s: outcome %d (%s)", urls[i], (int)t.outcome, err.msg);
        ASSERT(!strstr(err.msg, "pw") && !strstr(err.msg, "s3cret"));
    }
    gl_arena_destroy(a);
}

TEST(an_internal_address_is_refused_by_the_guard)
{
    gl_arena_t *a = arena();
    /* nothing listens there, and the guard refuses it before connecting */
    gl_oauth2_client_t c = { .token_url = "http://127.0.0.1:9/token?key=q-secret", .client_id = "id",
                             .client_secret = "s3cret", .timeout_ms = 2000 };
    const char *form[] = { "grant_type", "authorization_code", "code", "c" };
    gl_oauth2_tokens_t t;
    gl_err_t err;
    gl_err_clear(&err);
    ASSERT_EQ(gl_oauth2_token_request(&c, form, 2, a, &t, &err), GL_ERR);
    ASSERT_EQ(t.outcome, GL_OAUTH2_UNREACHABLE);
    ASSERT_STR_EQ(t.refused, "127.0.0.1");
    ASSERT_CONTAINS(err.msg, "token endpoint http://127.0.0.1:9/token: could not connect");
    ASSERT(!strstr(err.msg, "q-secret"));
    gl_arena_destroy(a);
}

TEST_MAIN()
