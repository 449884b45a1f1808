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

#endif
