/*
 * outbound.c: the libcurl side of the outbound address guard (see
 * outbound.h); the address rule itself is gl_ipnet_allowed.
 */
#include "outbound.h"

#include <sys/socket.h>

/* curl calls this for every connection it opens, with the resolved
 * address. Refused: CURL_SOCKET_BAD. */
static curl_socket_t open_socket(void *ud, curlsocktype purpose, struct curl_sockaddr *a)
{
    gl_outbound_t *g = ud;
    if (purpose != CURLSOCKTYPE_IPCXN || !gl_ipnet_allowed(g->allow, &a->addr, a->addrlen)) {
        gl_ipnet_ntop(&a->addr, a->addrlen, g->refused, sizeof g->refused);
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype, a->protocol);
}

void gl_outbound_guard(CURL *h, gl_outbound_t *g)
{
    g->refused[0] = '\0';
    curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, g);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_PROXY, ""); /* "": no proxy, also not from the environment */
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
}
