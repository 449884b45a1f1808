/*
 * webhook_signature.h: signed webhooks — the HMAC-SHA256 signature a
 * trigger.webhook with a `secret` and a `signature` scheme requires of its
 * callers, checked by glyphic-fcgi before anything starts (fcgi/hooks.c).
 *
 *   stripe  header Stripe-Signature: t=TIMESTAMP,v1=HEX[,v1=HEX…] (other
 *           keys, such as v0, are ignored): HEX is the HMAC-SHA256 of
 *           "TIMESTAMP.BODY" under the key, in hex; TIMESTAMP (Unix seconds)
 *           must be within the tolerance of now, either way. Any v1 may
 *           match (a sender rolling its key signs with both).
 *   github  header X-Hub-Signature-256: sha256=HEX, the HMAC-SHA256 of the
 *           body.
 *
 * BODY is the raw request body, byte for byte. Comparisons are constant
 * time (sodium_memcmp).
 */
#ifndef GL_WEBHOOK_SIGNATURE_H
#define GL_WEBHOOK_SIGNATURE_H

#include "http.h"

#include <json-c/json.h>
#include <libpq-fe.h>
#include <sodium.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    GL_SIG_NONE = 0,
    GL_SIG_STRIPE,
    GL_SIG_GITHUB,
} gl_sig_scheme_t;

typedef enum {
    GL_SIG_OK = 0,
    GL_SIG_MISSING,   /* no signature header */
    GL_SIG_MALFORMED, /* not the scheme's shape */
    GL_SIG_STALE,     /* stripe: the timestamp is outside the tolerance */
    GL_SIG_MISMATCH,  /* well-formed, but no signature matches */
    GL_SIG_NOKEY,     /* the credential is missing or does not open: the
                       * caller cannot fix it and hears "does not match" */
} gl_sig_result_t;

#define GL_SIG_MAX_V1 8            /* stripe: v1 signatures compared at most */
#define GL_HOOK_SIG_RECHECK_MS 1000 /* how long a worker trusts the credential it looked up */
#define GL_SIG_DEFAULT_TOLERANCE 300

/* "stripe", "github"; anything else (NULL, "none") is GL_SIG_NONE. */
gl_sig_scheme_t gl_sig_scheme_parse(const char *s);
/* The scheme's default header: "Stripe-Signature", "X-Hub-Signature-256". */
const char *gl_sig_default_header(gl_sig_scheme_t scheme);

/* The HMAC-SHA256 of prefix || body under key, in lower-case hex into
 * out[65]. */
void gl_sig_hmac_hex(const unsigned char *key, size_t key_len, const char *prefix, size_t prefix_len,
                     const char *body, size_t body_len, char out[65]);

/* A Stripe-Signature header value (NULL: none) against body, at now_s
 * (Unix seconds). */
gl_sig_result_t gl_sig_stripe_verify(const unsigned char *key, size_t key_len, const char *header,
                                     const char *body, size_t body_len, int64_t now_s, int64_t tolerance_s);
/* An X-Hub-Signature-256 header value (NULL: none) against body. */
gl_sig_result_t gl_sig_github_verify(const unsigned char *key, size_t key_len, const char *header,
                                     const char *body, size_t body_len);

/*
 * The same checks for a body that streams (a webhook's files): begin reads
 * the header — a missing, malformed or stale one is refused before a byte
 * of the body is read — and starts the HMAC; update takes the body as it
 * comes, byte for byte; final compares (constant time) and wipes the state.
 * After a begin that did not answer GL_SIG_OK there is nothing to finish;
 * a state given up on is wiped with gl_sig_stream_wipe. The two functions
 * above are begin, one update and final.
 */
typedef struct {
    crypto_auth_hmacsha256_state hmac;
    unsigned char want[GL_SIG_MAX_V1][crypto_auth_hmacsha256_BYTES];
    int n_want;
    bool started;
} gl_sig_stream_t;

gl_sig_result_t gl_sig_stream_begin(gl_sig_stream_t *st, gl_sig_scheme_t scheme, const unsigned char *key,
                                    size_t key_len, const char *header, int64_t now_s, int64_t tolerance_s);
void gl_sig_stream_update(gl_sig_stream_t *st, const void *buf, size_t len);
gl_sig_result_t gl_sig_stream_final(gl_sig_stream_t *st);
void gl_sig_stream_wipe(gl_sig_stream_t *st);

/*
 * What a worker keeps of one webhook's signature check: the scheme, the
 * header and tolerance (from the trigger's parameters), and the credential
 * as hook_find returned it (sql/017) — its sealed key, never the key in
 * clear. Zeroed: unsigned. Strings are malloc'd: gl_hook_sig_clear frees.
 */
typedef struct {
    gl_sig_scheme_t scheme;
    char header[101];     /* header name, as configured */
    char env_name[112];   /* its FastCGI parameter: HTTP_STRIPE_SIGNATURE */
    int64_t tolerance_s;
    char *secret_name;    /* the credential's name (for the log) */
    bool have_cred;       /* the org has a webhook.hmac credential of that name */
    char cred_id[GL_UUID_LEN + 1];
    char cred_org[GL_UUID_LEN + 1];
    char key_id[32];
    char *sealed;         /* the sealed `secret` field; NULL: not set */
    int64_t loaded_ms;    /* gl_now_ms() of the lookup */
} gl_hook_sig_t;

/* Fills *s from row 0 of a hook_find result (columns col.. are signature,
 * secret, cred_id, cred_org_id, cred_key_id, cred_sealed) and the
 * parameters of node node_id of def. Frees what *s held. */
void gl_hook_sig_set(gl_hook_sig_t *s, const PGresult *res, int col, json_object *def, const char *node_id);
void gl_hook_sig_clear(gl_hook_sig_t *s);
/* True for a signed webhook's check looked up more than
 * GL_HOOK_SIG_RECHECK_MS ago: the credential may have changed since. */
bool gl_hook_sig_expired(const gl_hook_sig_t *s);

/*
 * Checks req's signature (the raw body, req->body) against the webhook's
 * check *s: GL_SIG_OK or why not; for GL_SIG_NOKEY, why[] says what is
 * wrong with the credential (for the log: never the key). The key is
 * opened into req->arena, which wipes it when the request ends. Logs and
 * answers nothing: the caller may look the webhook up again and retry
 * before it refuses (gl_hook_sig_refuse).
 */
gl_sig_result_t gl_hook_sig_verify(gl_req_t *req, const gl_hook_sig_t *s, char *why, size_t why_len);

/* gl_hook_sig_verify for a body that streams: checks the header, opens
 * the key (into req->arena) and begins *st with it. GL_SIG_OK (also for an
 * unsigned webhook, whose *st takes updates and is never finished): feed
 * the body to gl_sig_stream_update, then gl_sig_stream_final; else why not,
 * as gl_hook_sig_verify says it. */
gl_sig_result_t gl_hook_sig_begin(gl_req_t *req, const gl_hook_sig_t *s, gl_sig_stream_t *st, char *why,
                                  size_t why_len);

/* Answers 401 invalid_signature for result and logs why (never the key). */
void gl_hook_sig_refuse(gl_req_t *req, const gl_hook_sig_t *s, const char *path, gl_sig_result_t result,
                        const char *why);

#endif
