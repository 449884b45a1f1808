/*
 * http_client.c: the outbound HTTP of http.request (see http_client.h
 * for the guard and the rules).
 */
#include "http_client.h"

#include "log.h"

#include <stdio.h>
#include <string.h>

void gl__http_xfer_init(gl__http_xfer_t *x, const gl_run_t *run, const gl_ipnet_list_t *allow, size_t max_body)
{
    memset(x, 0, sizeof *x);
    x->run = run;
    x->guard.allow = allow;
    x->last_beat_ms = gl_now_ms();
    gl_buf_init(&x->body, max_body);
}

void gl__http_xfer_free(gl__http_xfer_t *x)
{
    gl_buf_free(&x->body);
    json_object_put(x->headers);
    x->headers = NULL;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    gl__http_xfer_t *x = ud;
    size_t n = size * nmemb;
    if (x->sink) {
        int rc = x->sink(x->sink_ud, ptr, n);
        if (rc == GL_OK)
            return n;
        x->sink_rc = rc;
        return 0; /* CURLE_WRITE_ERROR */
    }
    if (gl_buf_append(&x->body, ptr, n) != GL_OK) {
        x->too_large = true;
        return 0; /* CURLE_WRITE_ERROR */
    }
    return n;
}

/* Renews the job's lease every GL_HTTP_BEAT_MS; a failed renewal stops the transfer. */
static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    gl__http_xfer_t *x = ud;
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    int64_t now = gl_now_ms();
    if (now - x->last_beat_ms < GL_HTTP_BEAT_MS)
        return 0;
    x->last_beat_ms = now;
    if (x->run->io.heartbeat(x->run->io.ud) != GL_OK) {
        x->beat_failed = true;
        return 1;
    }
    return 0;
}

/* Scheme, host and port of url, lower-cased where case does not count,
 * into out; false when it does not parse. */
static bool origin_of(const char *url, char *out, size_t cap)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL;
    bool ok = false;
    if (!u)
        return false;
    if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
        int n = snprintf(out, cap, "%s://%s:%s", scheme, host, port);
        ok = n > 0 && (size_t)n < cap;
        for (char *p = out; ok && *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p + 32);
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return ok;
}

/* Before each request of a transfer (the first and every redirect's): a
 * request that carries a credential stays on its URL's origin. */
static int on_prereq(void *ud, char *primary_ip, char *local_ip, int primary_port, int local_port)
{
    gl__http_xfer_t *x = ud;
    char *now = NULL, a[600], b[600];
    (void)primary_ip, (void)local_ip, (void)primary_port, (void)local_port;
    if (curl_easy_getinfo(x->handle, CURLINFO_EFFECTIVE_URL, &now) != CURLE_OK || !now ||
        !origin_of(now, a, sizeof a) || !origin_of(x->origin_url, b, sizeof b) || strcmp(a, b) != 0) {
        x->left_origin = true;
        return CURL_PREREQFUNC_ABORT;
    }
    return CURL_PREREQFUNC_OK;
}

void gl__http_base_options(CURL *h, const char *url, int64_t timeout_ms, gl__http_xfer_t *x, char *errbuf)
{
    curl_easy_setopt(h, CURLOPT_URL, url);
    gl_outbound_guard(h, &x->guard); /* http(s) only, the address guard, no proxy, no signals */
    curl_easy_setopt(h, CURLOPT_USERAGENT, "Glyphic/" GL_VERSION);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)(timeout_ms < GL_HTTP_CONNECT_TIMEOUT_MS ? timeout_ms : GL_HTTP_CONNECT_TIMEOUT_MS));
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)(x->sink ? 0 : x->body.max));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    if (x->run && x->run->io.heartbeat) {
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, x);
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    }
    if (x->origin_url) {
        x->handle = h;
        curl_easy_setopt(h, CURLOPT_PREREQFUNCTION, on_prereq);
        curl_easy_setopt(h, CURLOPT_PREREQDATA, x);
    }
}

char *gl__http_safe_url(const char *url)
{
    CURLU *u = curl_url();
    char *out = NULL;
    if (!u)
        return NULL;
    if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK) {
        (void)curl_url_set(u, CURLUPART_USER, NULL, 0);
        (void)curl_url_set(u, CURLUPART_PASSWORD, NULL, 0);
        (void)curl_url_set(u, CURLUPART_OPTIONS, NULL, 0);
        (void)curl_url_set(u, CURLUPART_QUERY, NULL, 0);
        (void)curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0);
        if (curl_url_get(u, CURLUPART_URL, &out, 0) != CURLUE_OK)
            out = NULL;
    }
    curl_url_cleanup(u);
    return out;
}

bool gl__http_failure(const gl__http_xfer_t *x, CURLcode res, const char *errbuf, const char *method,
                      const char *safe_url, int64_t timeout_ms, bool deadline_cut, char *msg, size_t cap)
{
    const char *url = safe_url ? safe_url : "(url)";
    bool retryable = false;

    if (x->too_large || res == CURLE_FILESIZE_EXCEEDED) {
        snprintf(msg, cap, "response larger than %zu MiB", x->body.max >> 20);
        return false;
    }
    if (x->beat_failed) {
        snprintf(msg, cap, "%s %s stopped: the job's lease could not be renewed", method, url);
        return false;
    }
    if (x->left_origin) {
        snprintf(msg, cap, "%s %s was redirected to another origin: with a credential, redirects are followed "
                 "only on the request's own scheme, host and port", method, url);
        return false;
    }
    switch (res) {
    case CURLE_OPERATION_TIMEDOUT:
        snprintf(msg, cap, "%s %s timed out after %lld ms%s", method, url, (long long)timeout_ms,
                 deadline_cut ? " (node deadline)" : "");
        return true;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
        /* one message and one retry rule for all: see http_client.h */
        if (x->guard.refused[0])
            gl_log(GL_LOG_INFO, "request to %s refused: %s is not a public address (see http.allow_private)",
                   url, x->guard.refused);
        snprintf(msg, cap, "%s %s failed: could not connect (unknown host, connection refused, unreachable, "
                 "or an internal address not allowed by http.allow_private)", method, url);
        return true;
    case CURLE_TOO_MANY_REDIRECTS:
        snprintf(msg, cap, "%s %s: more than %ld redirects", method, url, 10L);
        return false;
    case CURLE_UNSUPPORTED_PROTOCOL:
        snprintf(msg, cap, "%s %s: redirected to a URL that is not http(s)", method, url);
        return false;
    case CURLE_URL_MALFORMAT:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_OUT_OF_MEMORY:
        break;
    default:
        retryable = true; /* resolve, connect, send, receive, TLS handshake … */
        break;
    }
    snprintf(msg, cap, "%s %s failed: %s", method, url, errbuf[0] ? errbuf : curl_easy_strerror(res));
    return retryable;
}
