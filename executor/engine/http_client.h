/*
 * http_client.h: what every outbound request of the engine shares (the
 * http.request node's): one set of base options and one way of telling
 * why a transfer failed.
 *
 * Outbound guard (SSRF): core/outbound.h, the one the OAuth2 token
 * requests use too (core/oauth2_client.c), so a token URL obeys the same
 * rules as a workflow's URL. Every socket curl opens goes through it, which
 * sees the address curl is about to connect to — each address a name
 * resolved to, each redirect, whatever the URL's spelling (127.1,
 * 0x7f000001, [::ffff:127.0.0.1], localhost), also when a name's address
 * changes between look-ups (DNS rebinding) — and refuses any that is not
 * public unless the allow list (http.allow_private, core/ipnet.c) has it.
 * No proxy is used, also not from http_proxy and the like in the
 * environment: a proxy would connect on our behalf, past the guard.
 *
 * A workflow must not be able to map the internal network through the
 * errors: a name that does not resolve, an address refused by the guard,
 * a closed port and an unreachable host all fail with the same message
 * and the same retry behaviour ("could not connect"); the refused address
 * is logged for the operator. Timeouts keep their own message: only an
 * allowed address can be connected to long enough to time out.
 *
 * Credentials (http_auth.c): how each credential type goes on a request,
 * shared by http.request and the credential test (http_probe.c).
 *
 * Shared by the files of the engine only (gl__ prefix).
 */
#ifndef GL_HTTP_CLIENT_H
#define GL_HTTP_CLIENT_H

#include "buf.h"
#include "engine.h"
#include "outbound.h"

#include <curl/curl.h>
#include <json-c/json.h>

#define GL_HTTP_MAX_TIMEOUT_MS 3600000
#define GL_HTTP_CONNECT_TIMEOUT_MS 10000
#define GL_HTTP_BEAT_MS 5000

/* What the callbacks collect during one transfer. */
typedef struct {
    const gl_run_t *run;          /* io.heartbeat is called during long transfers; NULL: none */
    gl_buf_t body;
    json_object *headers;         /* of the last response (owned), when read */
    bool too_large;
    bool beat_failed;
    int64_t last_beat_ms;
    gl_outbound_t guard;          /* .allow: internal ranges allowed besides public addresses, or NULL */
    /* a credential is applied: redirects must stay on this origin
     * (scheme, host, port of the request's URL); NULL: anywhere */
    CURL *handle;
    const char *origin_url;
    bool left_origin;             /* a redirect to another origin was stopped */
    /* set: the body goes to sink instead of body, with no size cap here
     * (the sink's own); a sink's failure stops the transfer and is kept
     * in sink_rc (GL_OK: none) */
    int (*sink)(void *ud, const char *buf, size_t n);
    void *sink_ud;
    int sink_rc;
} gl__http_xfer_t;

/* Sets x up for a transfer whose response body may have max_body bytes. */
void gl__http_xfer_init(gl__http_xfer_t *x, const gl_run_t *run, const gl_ipnet_list_t *allow, size_t max_body);
/* Frees what x collected. */
void gl__http_xfer_free(gl__http_xfer_t *x);

/* The options every outbound request gets: the URL, http and https only
 * (also when redirected), the guard, no proxy, no signals, the user agent,
 * the timeout (connect timeout at most GL_HTTP_CONNECT_TIMEOUT_MS), the
 * body cap, the body collected into x, errors into errbuf
 * (CURL_ERROR_SIZE), heartbeats when x->run has them, and, when
 * x->origin_url is set, the check that keeps redirects on its origin. */
void gl__http_base_options(CURL *h, const char *url, int64_t timeout_ms, gl__http_xfer_t *x, char *errbuf);

/* url without userinfo, query and fragment (they may hold secrets), for
 * messages: curl_free it; NULL when url does not parse. */
char *gl__http_safe_url(const char *url);

/* Why a transfer failed (curl_easy_perform gave res), as a message naming
 * method and safe_url into msg[0..cap); returns whether a retry may help.
 * timeout_ms and deadline_cut describe the timeout it had. */
bool gl__http_failure(const gl__http_xfer_t *x, CURLcode res, const char *errbuf, const char *method,
                      const char *safe_url, int64_t timeout_ms, bool deadline_cut, char *msg, size_t cap);

/* ---- credentials on a request (http_auth.c) ---- */

/* What a credential sets on a request (http.request's table). */
typedef struct {
    const gl_cred_t *cred;
    const char *label;            /* the credential's name, for messages */
    const char *header;           /* the header it sets, or NULL */
    const char *query;            /* the query parameter it sets, or NULL */
    bool oauth2;                  /* Bearer access_token: a 401 may be tried again with a fresh token */
} gl__http_auth_t;

/* Told each form derived from a secret that travels (a Basic header's
 * base64, a URL-encoded query value), for redaction; s is not kept. */
typedef void (*gl__http_secret_fn)(void *ud, const char *s, size_t n);

/* Checks that cred (label: its name for messages; both must outlive a)
 * can be applied and fills *a. GL_OK, or GL_INVALID with a message naming
 * the credential (never a value) in msg[0..cap). */
int gl__http_auth_plan(const gl_cred_t *cred, const char *label, gl__http_auth_t *a, char *msg, size_t cap) GL_WUR;
/* The header line a->cred adds ("Name: value") into line (the caller
 * wipes and frees it); a->header is set. GL_OK or GL_INVALID with msg. */
int gl__http_auth_header(const gl__http_auth_t *a, gl_buf_t *line, gl__http_secret_fn secret, void *ud, char *msg,
                         size_t cap) GL_WUR;
/* Appends a->query=URL-encoded value to the query string qs ('&' first
 * when qs is not empty); a->query is set. GL_OK or GL_INVALID with msg. */
int gl__http_auth_query(const gl__http_auth_t *a, gl_buf_t *qs, gl__http_secret_fn secret, void *ud, char *msg,
                        size_t cap) GL_WUR;

/* Appends s[0..n) percent-encoded (all but ALPHA DIGIT - . _ ~, which is
 * what curl_easy_escape keeps). */
int gl__http_urlencode(gl_buf_t *b, const char *s, size_t n) GL_WUR;
/* An RFC 9110 token: the only characters a header name may have. */
bool gl__http_header_name_ok(const char *s);

#endif
