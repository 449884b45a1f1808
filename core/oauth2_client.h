/*
 * oauth2_client.h: the client side of OAuth2 (RFC 6749) that the programs share —
 * PKCE (RFC 7636, method S256) and one request to a token endpoint: the
 * authorization-code exchange of glyphic-fcgi (fcgi/oauth2.c) and the
 * executor's renewals (executor/credentials_oauth2.c: refresh_token and
 * client_credentials grants).
 *
 * The token request is a form POST (grant_type and the grant's fields)
 * with the client authenticated in the body (client_id, client_secret) or
 * with HTTP Basic (RFC 6749 2.3.1: both form-urlencoded first); it asks for
 * JSON, follows no redirect, is bounded in time (the caller's timeout, at
 * most GL_OAUTH2_MAX_TIMEOUT_MS) and size (the caller's cap, at most
 * GL_OAUTH2_MAX_RESPONSE_CAP), and connects
 * only where the outbound guard allows (core/outbound.h,
 * http.allow_private).
 *
 * Secrets. The client secret and the tokens are never written to err or to
 * a log line; messages name the endpoint without userinfo, query or
 * fragment. What this file holds of them (the form body, the Basic
 * header, the response body, the tokens it returns) is arena memory wiped
 * when the arena is reset, and json-c's copies are zeroed before they are
 * freed; libcurl's own copy of the header list is freed, not wiped.
 */
#ifndef GL_OAUTH2_CLIENT_H
#define GL_OAUTH2_CLIENT_H

#include "arena.h"
#include "gl.h"
#include "ipnet.h"

#define GL_OAUTH2_VERIFIER_LEN 43          /* base64url of 32 random bytes; also the S256 challenge's length */
#define GL_OAUTH2_TIMEOUT_MS 10000         /* a token request's time unless the caller says otherwise */
#define GL_OAUTH2_MAX_TIMEOUT_MS 60000     /* the longest a caller may ask for */
#define GL_OAUTH2_CONNECT_TIMEOUT_MS 5000
#define GL_OAUTH2_MAX_RESPONSE (64u << 10) /* largest token response read unless the caller says otherwise */
#define GL_OAUTH2_MAX_RESPONSE_CAP (1u << 20) /* the largest a caller may ask for */
#define GL_OAUTH2_MAX_TOKEN 65536          /* longest access or refresh token kept (the vault's limit) */

/* A new PKCE code verifier: 32 random bytes as base64url, no padding. */
void gl_oauth2_verifier(char out[GL_OAUTH2_VERIFIER_LEN + 1]);

/* The S256 code challenge of verifier: base64url(SHA-256(verifier)), no
 * padding (43 characters). */
void gl_oauth2_challenge(const char *verifier, char out[GL_OAUTH2_VERIFIER_LEN + 1]);

/* Appends s percent-encoded as application/x-www-form-urlencoded wants it
 * (everything but ALPHA DIGIT - . _ ~ as %XX) into out, which has room for
 * 3 * strlen(s) + 1 bytes; returns the bytes written (out is terminated). */
size_t gl_oauth2_form_escape(const char *s, char *out);

typedef struct {
    const char *token_url;
    const char *client_id;
    const char *client_secret;    /* NULL or "": none (a public client) */
    bool basic;                   /* client authentication with HTTP Basic, else in the form body */
    const gl_ipnet_list_t *allow; /* http.allow_private: ranges allowed besides public addresses */
    long timeout_ms;              /* 0: GL_OAUTH2_TIMEOUT_MS; at most GL_OAUTH2_MAX_TIMEOUT_MS (a node's
                                     deadline cuts the executor's) */
    size_t max_response;          /* bytes of the answer; 0: GL_OAUTH2_MAX_RESPONSE; at most
                                     GL_OAUTH2_MAX_RESPONSE_CAP */
} gl_oauth2_client_t;

typedef enum {
    GL_OAUTH2_OK = 0,
    GL_OAUTH2_BAD_URL,      /* token_url is not an absolute http(s) URL without userinfo */
    GL_OAUTH2_UNREACHABLE,  /* unknown host, connection refused, unreachable, or an address the guard refused */
    GL_OAUTH2_TIMEOUT,
    GL_OAUTH2_REFUSED,      /* the endpoint answered an OAuth2 error or a status of 400 or more */
    GL_OAUTH2_BAD_RESPONSE, /* an answer that is not a usable token response */
} gl_oauth2_outcome_t;

typedef struct {
    gl_oauth2_outcome_t outcome;
    long http_status;     /* 0 without an answer */
    bool retryable;       /* a failure a later try may not see: timeout, no connection, most transport
                             errors, HTTP 408, 429 and 5xx */
    char error[48];       /* the endpoint's error code ("invalid_grant") when it sent a plain one, else "" */
    char refused[48];     /* an address the guard refused, "" if none: for the operator's log */
    char *access_token;   /* arena memory, wiped at reset; NULL unless GL_OAUTH2_OK */
    char *refresh_token;  /* the same; NULL when the answer had none */
    int64_t expires_in;   /* seconds; -1 when the answer did not say */
} gl_oauth2_tokens_t;

/* What an outcome is called in messages and redirects ("unreachable"). */
const char *gl_oauth2_outcome_name(gl_oauth2_outcome_t o);

/*
 * POSTs form (n_pairs name/value pairs: "grant_type", "authorization_code",
 * "code", …) to c->token_url and reads the token response into *out.
 * Returns GL_OK with out->outcome GL_OAUTH2_OK, or GL_ERR with the outcome
 * and a message in err (never a secret; it names the endpoint). Waits at
 * most the client's timeout.
 */
int gl_oauth2_token_request(const gl_oauth2_client_t *c, const char *const *form, size_t n_pairs, gl_arena_t *a,
                            gl_oauth2_tokens_t *out, gl_err_t *err) GL_WUR;

/*
 * Reads a token endpoint's answer (HTTP status, body[0..len)) into *out:
 * GL_OK for a 2xx JSON object with a string access_token (token_type, when
 * present, must be Bearer; expires_in a positive number of seconds, or a
 * string of digits, else unknown), GL_ERR otherwise with the outcome and
 * err. gl_oauth2_token_request's second half; the unit tests call it.
 */
int gl_oauth2_parse_response(long status, const char *body, size_t len, gl_arena_t *a, gl_oauth2_tokens_t *out,
                             gl_err_t *err) GL_WUR;

#endif
