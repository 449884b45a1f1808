/*
 * fuzz_webhook_signature.c: the signature headers of signed webhooks
 * (fcgi/webhook_signature.c) under a fixed key. Input: a header value (the
 * first line), then the body. The header is checked as Stripe-Signature
 * (at a fixed clock) and as X-Hub-Signature-256. Invariants: a result is
 * one the header lists; nothing the input holds verifies unless it is the
 * right HMAC (a forged match would be a finding); a header made right for
 * the body verifies, and one byte of the body changed makes it not.
 */
#include "fuzz.h"
#include "webhook_signature.h"

#include <sodium.h>

#define KEY "whsec_fuzz_key"
#define NOW 1700000000

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (sodium_init() < 0)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *header = fuzz_line(&data, &size);
    const char *body = (const char *)data;
    const unsigned char *key = (const unsigned char *)KEY;
    gl_sig_result_t r = gl_sig_stripe_verify(key, strlen(KEY), header, body, size, NOW, 300);
    FUZZ_CHECK(r >= GL_SIG_OK && r <= GL_SIG_MISMATCH);
    gl_sig_result_t g = gl_sig_github_verify(key, strlen(KEY), header, body, size);
    FUZZ_CHECK(g >= GL_SIG_OK && g <= GL_SIG_MISMATCH);
    if (g == GL_SIG_OK) { /* the input holds the right HMAC: it must be it */
        char hex[65];
        gl_sig_hmac_hex(key, strlen(KEY), NULL, 0, body, size, hex);
        for (char *c = header; *c; c++)
            *c = (*c >= 'A' && *c <= 'F') ? (char)(*c + 32) : *c;
        FUZZ_CHECK(strstr(header, hex) != NULL);
    }
    /* round trip: the right header for this body */
    char hex[65], good[128];
    gl_sig_hmac_hex(key, strlen(KEY), "1700000100.", 11, body, size, hex);
    snprintf(good, sizeof good, "t=1700000100,v1=%s", hex);
    FUZZ_CHECK(gl_sig_stripe_verify(key, strlen(KEY), good, body, size, NOW, 300) == GL_SIG_OK);
    if (size > 0) {
        char *copy = malloc(size);
        if (!copy)
            abort();
        memcpy(copy, body, size);
        copy[size / 2] ^= 1;
        FUZZ_CHECK(gl_sig_stripe_verify(key, strlen(KEY), good, copy, size, NOW, 300) == GL_SIG_MISMATCH);
        free(copy);
    }
    free(header);
    return 0;
}
