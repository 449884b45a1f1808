/* Signed webhooks: the header parsing and HMAC checks of
 * fcgi/webhook_signature.c, with GitHub's published test vector and a
 * Stripe-style vector computed independently (Python's hmac module). */
#include "gl_test.h"
#include "webhook_signature.h"

#include <sodium.h>

#define K(s) (const unsigned char *)(s), strlen(s)

/* GitHub, "Validating webhook deliveries": this secret and payload give
 * this X-Hub-Signature-256. */
#define GH_SECRET "It's a Secret to Everybody"
#define GH_BODY "Hello, World!"
#define GH_SIG "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"

/* python3 -c 'import hmac,hashlib; print(hmac.new(b"whsec_test_secret_0123456789",
 *   b"1700000000." + BODY, hashlib.sha256).hexdigest())' */
#define ST_SECRET "whsec_test_secret_0123456789"
#define ST_BODY "{\"id\":\"evt_1\",\"object\":\"event\",\"type\":\"payment_intent.succeeded\"}"
#define ST_T 1700000000
#define ST_HEX "e3c7f0afae65c4b272b26adf64c78f8ed739bb2aff5a58dd05a355b102e834ca"
#define ST_OTHER "0000000000000000000000000000000000000000000000000000000000000000"

static gl_sig_result_t stripe(const char *secret, const char *header, const char *body, int64_t now)
{
    return gl_sig_stripe_verify(K(secret), header, body, strlen(body), now, 300);
}

static gl_sig_result_t github(const char *secret, const char *header, const char *body)
{
    return gl_sig_github_verify(K(secret), header, body, strlen(body));
}

TEST(github_published_vector)
{
    ASSERT(sodium_init() >= 0);
    char hex[65];
    gl_sig_hmac_hex(K(GH_SECRET), NULL, 0, GH_BODY, strlen(GH_BODY), hex);
    ASSERT_STR_EQ(hex, GH_SIG + 7);
    ASSERT_EQ(github(GH_SECRET, GH_SIG, GH_BODY), GL_SIG_OK);
    /* upper-case hex and surrounding blanks are the same signature */
    ASSERT_EQ(github(GH_SECRET, " sha256=757107EA0EB2509FC211221CCE984B8A37570B6D7586C22C46F4379C8B043E17 ", GH_BODY),
              GL_SIG_OK);
}

TEST(github_refusals)
{
    ASSERT(sodium_init() >= 0);
    ASSERT_EQ(github(GH_SECRET, NULL, GH_BODY), GL_SIG_MISSING);
    ASSERT_EQ(github(GH_SECRET, GH_SIG, "Hello, World?"), GL_SIG_MISMATCH);     /* tampered body */
    ASSERT_EQ(github("It's a Secret to Everybody!", GH_SIG, GH_BODY), GL_SIG_MISMATCH); /* wrong key */
    ASSERT_EQ(github(GH_SECRET, GH_SIG + 7, GH_BODY), GL_SIG_MALFORMED);       /* no sha256= */
    ASSERT_EQ(github(GH_SECRET, "sha1=757107ea0eb2509fc211221cce984b8a37570b6d", GH_BODY), GL_SIG_MALFORMED);
    ASSERT_EQ(github(GH_SECRET, "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e1", GH_BODY),
              GL_SIG_MALFORMED); /* 63 digits */
    ASSERT_EQ(github(GH_SECRET, "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17a", GH_BODY),
              GL_SIG_MALFORMED); /* 65 digits */
    ASSERT_EQ(github(GH_SECRET, "sha256=z57107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", GH_BODY),
              GL_SIG_MALFORMED);
    ASSERT_EQ(github(GH_SECRET, "", GH_BODY), GL_SIG_MALFORMED);
    ASSERT_EQ(github(GH_SECRET, "sha256=", GH_BODY), GL_SIG_MALFORMED);
}

TEST(stripe_vector)
{
    ASSERT(sodium_init() >= 0);
    char hex[65];
    gl_sig_hmac_hex(K(ST_SECRET), "1700000000.", 11, ST_BODY, strlen(ST_BODY), hex);
    ASSERT_STR_EQ(hex, ST_HEX);
    ASSERT_EQ(stripe(ST_SECRET, "t=1700000000,v1=" ST_HEX, ST_BODY, ST_T), GL_SIG_OK);
    /* any v1 may match; other schemes are ignored; blanks around elements */
    ASSERT_EQ(stripe(ST_SECRET, "t=1700000000,v1=" ST_OTHER ",v1=" ST_HEX ",v0=abc", ST_BODY, ST_T), GL_SIG_OK);
    ASSERT_EQ(stripe(ST_SECRET, "v1=" ST_HEX ", t=1700000000", ST_BODY, ST_T), GL_SIG_OK);
    /* within the window, either way */
    ASSERT_EQ(stripe(ST_SECRET, "t=1700000000,v1=" ST_HEX, ST_BODY, ST_T + 300), GL_SIG_OK);
    ASSERT_EQ(stripe(ST_SECRET, "t=1700000000,v1=" ST_HEX, ST_BODY, ST_T - 300), GL_SIG_OK);
}

TEST(stripe_refusals)
{
    ASSERT(sodium_init() >= 0);
    const char *good = "t=1700000000,v1=" ST_HEX;
    ASSERT_EQ(stripe(ST_SECRET, NULL, ST_BODY, ST_T), GL_SIG_MISSING);
    ASSERT_EQ(stripe(ST_SECRET, good, ST_BODY " ", ST_T), GL_SIG_MISMATCH);          /* tampered body */
    ASSERT_EQ(stripe("whsec_other", good, ST_BODY, ST_T), GL_SIG_MISMATCH);          /* wrong key */
    ASSERT_EQ(stripe(ST_SECRET, "t=1700000001,v1=" ST_HEX, ST_BODY, ST_T), GL_SIG_MISMATCH); /* another t */
    ASSERT_EQ(stripe(ST_SECRET, "t=1700000000,v1=" ST_OTHER, ST_BODY, ST_T), GL_SIG_MISMATCH);
    ASSERT_EQ(stripe(ST_SECRET, good, ST_BODY, ST_T + 301), GL_SIG_STALE);           /* too old */
    ASSERT_EQ(stripe(ST_SECRET, good, ST_BODY, ST_T - 301), GL_SIG_STALE);           /* too far ahead */
    ASSERT_EQ(stripe(ST_SECRET, "v1=" ST_HEX, ST_BODY, ST_T), GL_SIG_MALFORMED);     /* no t */
    ASSERT_EQ(stripe(ST_SECRET, "t=1700000000", ST_BODY, ST_T), GL_SIG_MALFORMED);   /* no v1 */
    ASSERT_EQ(stripe(ST_SECRET, "t=1700000000,v0=" ST_HEX, ST_BODY, ST_T), GL_SIG_MALFORMED);
    ASSERT_EQ(stripe(ST_SECRET, "t=17e8,v1=" ST_HEX, ST_BODY, ST_T), GL_SIG_MALFORMED);
    ASSERT_EQ(stripe(ST_SECRET, "t=-1,v1=" ST_HEX, ST_BODY, ST_T), GL_SIG_MALFORMED);
    ASSERT_EQ(stripe(ST_SECRET, "t=,v1=" ST_HEX, ST_BODY, ST_T), GL_SIG_MALFORMED);
    ASSERT_EQ(stripe(ST_SECRET, "t=1700000000,t=1700000000,v1=" ST_HEX, ST_BODY, ST_T), GL_SIG_MALFORMED);
    ASSERT_EQ(stripe(ST_SECRET, "t=1700000000,v1=abc", ST_BODY, ST_T), GL_SIG_MALFORMED);
    ASSERT_EQ(stripe(ST_SECRET, "t=1700000000,v1", ST_BODY, ST_T), GL_SIG_MALFORMED);
    ASSERT_EQ(stripe(ST_SECRET, "garbage", ST_BODY, ST_T), GL_SIG_MALFORMED);
    ASSERT_EQ(stripe(ST_SECRET, "", ST_BODY, ST_T), GL_SIG_MALFORMED);
    ASSERT_EQ(stripe(ST_SECRET, "t=1234567890123,v1=" ST_HEX, ST_BODY, ST_T), GL_SIG_MALFORMED); /* 13 digits */
    /* at most GL_SIG_MAX_V1 signatures are compared */
    char many[2048];
    int n = snprintf(many, sizeof many, "t=1700000000");
    for (int i = 0; i <= GL_SIG_MAX_V1; i++)
        n += snprintf(many + n, sizeof many - (size_t)n, ",v1=%s", ST_HEX);
    ASSERT_EQ(stripe(ST_SECRET, many, ST_BODY, ST_T), GL_SIG_MALFORMED);
    /* a header of 5000 bytes is not read */
    char big[5100];
    memset(big, ' ', sizeof big);
    memcpy(big, good, strlen(good));
    big[5000] = '\0';
    ASSERT_EQ(stripe(ST_SECRET, big, ST_BODY, ST_T), GL_SIG_MALFORMED);
}

/* the raw body is what is signed: bytes that are not text, and NULs */
TEST(raw_bytes_are_signed)
{
    ASSERT(sodium_init() >= 0);
    const char body[] = { 'a', '\0', (char)0xff, 'b' };
    char hex[65], header[128];
    gl_sig_hmac_hex(K(ST_SECRET), "42.", 3, body, sizeof body, hex);
    snprintf(header, sizeof header, "t=42,v1=%s", hex);
    ASSERT_EQ(gl_sig_stripe_verify(K(ST_SECRET), header, body, sizeof body, 42, 10), GL_SIG_OK);
    ASSERT_EQ(gl_sig_stripe_verify(K(ST_SECRET), header, body, 1, 42, 10), GL_SIG_MISMATCH);
    gl_sig_hmac_hex(K(ST_SECRET), NULL, 0, "", 0, hex);
    ASSERT_STR_EQ(hex, "4c97ae561714c7e1d8dd5bdf39470712f31896c71b69ad8485a949d1cf776e61"); /* Python's hmac */
}

/* streamed: the same answers whatever the pieces the body comes in, and a
 * bad header refused before any body */
TEST(streamed_body_in_pieces)
{
    ASSERT(sodium_init() >= 0);
    const char *body = ST_BODY;
    size_t n = strlen(body);
    for (size_t cut = 0; cut <= n; cut++) {
        gl_sig_stream_t st;
        ASSERT_EQ(gl_sig_stream_begin(&st, GL_SIG_STRIPE, K(ST_SECRET), "t=1700000000,v1=" ST_HEX, ST_T, 300),
                  GL_SIG_OK);
        gl_sig_stream_update(&st, body, cut);
        gl_sig_stream_update(&st, body + cut, n - cut);
        ASSERT_EQ(gl_sig_stream_final(&st), GL_SIG_OK);
        ASSERT_EQ(gl_sig_stream_begin(&st, GL_SIG_GITHUB, K(GH_SECRET), GH_SIG, 0, 0), GL_SIG_OK);
        gl_sig_stream_update(&st, GH_BODY, cut < strlen(GH_BODY) ? cut : strlen(GH_BODY));
        gl_sig_stream_update(&st, GH_BODY + (cut < strlen(GH_BODY) ? cut : strlen(GH_BODY)),
                             strlen(GH_BODY) - (cut < strlen(GH_BODY) ? cut : strlen(GH_BODY)));
        ASSERT_EQ(gl_sig_stream_final(&st), GL_SIG_OK);
    }
    gl_sig_stream_t st;
    /* one byte missing, or one too many */
    ASSERT_EQ(gl_sig_stream_begin(&st, GL_SIG_GITHUB, K(GH_SECRET), GH_SIG, 0, 0), GL_SIG_OK);
    gl_sig_stream_update(&st, GH_BODY, strlen(GH_BODY) - 1);
    ASSERT_EQ(gl_sig_stream_final(&st), GL_SIG_MISMATCH);
    ASSERT_EQ(gl_sig_stream_begin(&st, GL_SIG_GITHUB, K(GH_SECRET), GH_SIG, 0, 0), GL_SIG_OK);
    gl_sig_stream_update(&st, GH_BODY, strlen(GH_BODY));
    gl_sig_stream_update(&st, "\n", 1);
    ASSERT_EQ(gl_sig_stream_final(&st), GL_SIG_MISMATCH);
    /* refused at begin: nothing to finish; a final anyway never matches */
    ASSERT_EQ(gl_sig_stream_begin(&st, GL_SIG_GITHUB, K(GH_SECRET), NULL, 0, 0), GL_SIG_MISSING);
    ASSERT_EQ(gl_sig_stream_begin(&st, GL_SIG_GITHUB, K(GH_SECRET), "sha256=xyz", 0, 0), GL_SIG_MALFORMED);
    ASSERT_EQ(gl_sig_stream_begin(&st, GL_SIG_STRIPE, K(ST_SECRET), "t=1700000000,v1=" ST_HEX, ST_T + 301, 300),
              GL_SIG_STALE);
    ASSERT_EQ(gl_sig_stream_final(&st), GL_SIG_MISMATCH);
    /* the state is wiped after final */
    ASSERT_EQ(gl_sig_stream_begin(&st, GL_SIG_GITHUB, K(GH_SECRET), GH_SIG, 0, 0), GL_SIG_OK);
    ASSERT_EQ(gl_sig_stream_final(&st), GL_SIG_MISMATCH);
    static const gl_sig_stream_t zero;
    ASSERT(memcmp(&st, &zero, sizeof st) == 0);
}

/* what a worker keeps of hook_find's row: header, its FastCGI name, tolerance */
TEST(hook_check_from_row)
{
    ASSERT(sodium_init() >= 0);
    static char names[6][16] = { "signature", "secret", "cred_id", "cred_org_id", "cred_key_id", "cred_sealed" };
    PGresult *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
    PGresAttDesc attrs[6];
    memset(attrs, 0, sizeof attrs);
    for (int i = 0; i < 6; i++) {
        attrs[i].name = names[i];
        attrs[i].format = 0;
        attrs[i].typid = 25;
        attrs[i].typlen = -1;
        attrs[i].atttypmod = -1;
    }
    ASSERT(PQsetResultAttrs(res, 6, attrs));
    char vals[6][40] = { "github", "gh key", "0b6f7e8c-2d7a-4d40-9a59-4b1f4b1f4b1f",
                         "1c6f7e8c-2d7a-4d40-9a59-4b1f4b1f4b1f", "0123456789abcdef", "c2VhbGVk" };
    for (int i = 0; i < 6; i++)
        ASSERT(PQsetvalue(res, 0, i, vals[i], (int)strlen(vals[i])));
    json_object *def = json_tokener_parse(
        "{\"nodes\":[{\"id\":\"x\"},{\"id\":\"h\",\"params\":{\"signature_header\":\"X-My-sig\"}}]}");
    gl_hook_sig_t s;
    memset(&s, 0, sizeof s);
    gl_hook_sig_set(&s, res, 0, def, "h");
    ASSERT_EQ(s.scheme, GL_SIG_GITHUB);
    ASSERT_STR_EQ(s.header, "X-My-sig");
    ASSERT_STR_EQ(s.env_name, "HTTP_X_MY_SIG");
    ASSERT_EQ(s.tolerance_s, 300);
    ASSERT(s.have_cred);
    ASSERT_STR_EQ(s.cred_org, vals[3]);
    ASSERT_STR_EQ(s.sealed, "c2VhbGVk");
    gl_hook_sig_set(&s, res, 0, def, "x"); /* the default header */
    ASSERT_STR_EQ(s.env_name, "HTTP_X_HUB_SIGNATURE_256");
    gl_hook_sig_clear(&s);
    ASSERT_EQ(s.scheme, GL_SIG_NONE);
    json_object_put(def);
    PQclear(res);
}

TEST_MAIN()
