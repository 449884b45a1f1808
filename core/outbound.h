/*
 * outbound.h: the guard on every outbound HTTP connection made with
 * libcurl: the engine's http.request (executor/engine/http_client.c) and
 * the OAuth2 token requests (core/oauth2_client.c: glyphic-fcgi's code
 * exchange, the executor's renewals).
 *
 * Every socket curl opens goes through the guard, which sees the address
 * curl is about to connect to — each address a name resolved to, whatever
 * the URL's spelling (127.1, [::ffff:127.0.0.1], localhost), also when a
 * name's address changes between look-ups — and refuses any that is not
 * public unless the allow list (http.allow_private) holds it
 * (core/ipnet.h). No proxy is used, also not from http_proxy and the like
 * in the environment: a proxy would connect on our behalf, past the guard.
 */
#ifndef GL_OUTBOUND_H
#define GL_OUTBOUND_H

#include "ipnet.h"

#include <curl/curl.h>

typedef struct {
    const gl_ipnet_list_t *allow; /* ranges allowed besides public addresses, or NULL */
    char refused[48];             /* the last address the guard refused, "" if none */
} gl_outbound_t;

/*
 * Sets on h: the guard (g must outlive the transfer; g->refused is
 * cleared), http and https only (also when redirected), no proxy, no
 * signals. A refused address fails the transfer with
 * CURLE_COULDNT_CONNECT (or curl tries the name's next address).
 */
void gl_outbound_guard(CURL *h, gl_outbound_t *g);

#endif
