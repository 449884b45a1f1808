/*
 * http_probe.c: one request with a credential applied, to see whether an
 * API takes it (gl_engine_http_probe, engine.h) — what
 * POST /api/credentials/{id}/test does for the HTTP types.
 *
 * It is http.request's request, cut down: the credential goes on exactly
 * as the node puts it (http_auth.c), the options and the outbound guard
 * are the node's (gl__http_base_options: http.allow_private, no proxy,
 * http(s) only), redirects are followed only on the URL's own origin (as
 * the node does with a credential), and a failure reads as the node's
 * would ("HTTP 401 from GET https://host/path", "… failed: could not
 * connect (…)"). The request has no body and no headers of its own; at
 * most GL_HTTP_PROBE_MAX_BODY bytes of the answer are read, and dropped:
 * the caller learns the status, never the body.
 */
#include "http_client.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define GL_HTTP_PROBE_MAX_BODY (64u << 10)
#define GL_HTTP_PROBE_MAX_REDIRS 10L
#define GL_HTTP_PROBE_MAX_URL 8192

int gl_engine_http_url_check(const char *url, gl_err_t *err)
{
    CURLU *u;
    CURLUcode uc;

    if (!url || !*url || strlen(url) > GL_HTTP_PROBE_MAX_URL ||
        (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0)) {
        gl_err_field(err, "url", "url must be an absolute http:// or https:// URL of at most %d bytes",
                     GL_HTTP_PROBE_MAX_URL);
        return GL_INVALID;
    }
    if (!(u = curl_url()))
        abort();
    uc = curl_url_set(u, CURLUPART_URL, url, 0);
    curl_url_cleanup(u);
    if (uc != CURLUE_OK) {
        gl_err_field(err, "url", "url is not a valid URL (%s)", curl_url_strerror(uc));
        return GL_INVALID;
    }
    return GL_OK;
}

/* url (checked) with the credential's query parameter (http.query) into
 * *out (the caller wipes and curl_frees it). GL_INVALID with msg when it
 * does not fit. */
static int with_query(const gl__http_auth_t *a, const char *url, char **out, char *msg, size_t cap)
{
    CURLU *u = curl_url();
    gl_buf_t qs;
    int rc = GL_OK;

    if (!u)
        abort();
    *out = NULL;
    gl_buf_init(&qs, 1u << 20);
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
        rc = GL_INVALID, snprintf(msg, cap, "url is not a valid URL");
    if (rc == GL_OK && a->query)
        rc = gl__http_auth_query(a, &qs, NULL, NULL, msg, cap);
    if (rc == GL_OK && qs.len && curl_url_set(u, CURLUPART_QUERY, qs.data, CURLU_APPENDQUERY) != CURLUE_OK)
        rc = GL_INVALID, snprintf(msg, cap, "url with the credential's query parameter is not a valid URL");
    if (rc == GL_OK && curl_url_get(u, CURLUPART_URL, out, 0) != CURLUE_OK)
        rc = GL_INVALID, snprintf(msg, cap, "url is not a valid URL");
    if (qs.data)
        sodium_memzero(qs.data, qs.len);
    gl_buf_free(&qs);
    curl_url_cleanup(u);
    return rc;
}

/* The header list: the credential's line, and no Content-Type or Expect
 * of curl's own (as http.request sends a request without a body). */
static int probe_headers(const gl__http_auth_t *a, struct curl_slist **out, char *msg, size_t cap)
{
    gl_buf_t line;
    int rc = GL_OK;
    bool ctype = a->header && strcasecmp(a->header, "content-type") == 0;
    bool expect = a->header && strcasecmp(a->header, "expect") == 0;
    const char *extra[] = { ctype ? NULL : "Content-Type:", expect ? NULL : "Expect:" };

    *out = NULL;
    for (size_t i = 0; i < GL_NELEM(extra); i++)
        if (extra[i] && !(*out = curl_slist_append(*out, extra[i])))
            abort();
    if (!a->header)
        return GL_OK;
    gl_buf_init(&line, 128 << 10);
    rc = gl__http_auth_header(a, &line, NULL, NULL, msg, cap);
    if (rc == GL_OK && !(*out = curl_slist_append(*out, line.data)))
        abort();
    if (line.data)
        sodium_memzero(line.data, line.len);
    gl_buf_free(&line);
    return rc;
}

int gl_engine_http_probe(const gl_cred_t *cred, const char *method, const char *url, const gl_ipnet_list_t *allow,
                         int64_t timeout_ms, gl_http_probe_t *out, gl_err_t *err)
{
    gl__http_auth_t a;
    char *full = NULL, *safe = NULL, errbuf[CURL_ERROR_SIZE];
    struct curl_slist *headers = NULL;
    gl__http_xfer_t x;
    CURL *h = NULL;
    CURLcode res;
    long status = 0;
    bool answered;

    memset(out, 0, sizeof *out);
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 && strcmp(method, "POST") != 0) {
        gl_err_field(err, "method", "method must be GET, HEAD or POST");
        return GL_INVALID;
    }
    if (timeout_ms <= 0 || timeout_ms > GL_HTTP_PROBE_TIMEOUT_MS)
        timeout_ms = GL_HTTP_PROBE_TIMEOUT_MS;
    if (gl_engine_http_url_check(url, err) != GL_OK)
        return GL_INVALID;
    safe = gl__http_safe_url(url);
    snprintf(out->safe_url, sizeof out->safe_url, "%s", safe && strlen(safe) < sizeof out->safe_url ? safe : "");
    /* what is wrong with the credential goes to out->message: nothing is sent */
    if (gl__http_auth_plan(cred, cred->name ? cred->name : "", &a, out->message, sizeof out->message) != GL_OK ||
        with_query(&a, url, &full, out->message, sizeof out->message) != GL_OK ||
        probe_headers(&a, &headers, out->message, sizeof out->message) != GL_OK)
        goto done;

    if (!(h = curl_easy_init())) {
        snprintf(out->message, sizeof out->message, "cannot initialise libcurl");
        goto done;
    }
    errbuf[0] = '\0';
    gl__http_xfer_init(&x, NULL, allow, GL_HTTP_PROBE_MAX_BODY);
    x.origin_url = full; /* a secret does not follow a redirect elsewhere */
    gl__http_base_options(h, full, timeout_ms, &x, errbuf);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, GL_HTTP_PROBE_MAX_REDIRS);
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
    }
    res = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    /* a long answer is cut after the cap: its status is what counts */
    answered = status > 0 && !x.left_origin &&
                (res == CURLE_OK || x.too_large || res == CURLE_FILESIZE_EXCEEDED);
    out->status = status;
    if (answered) {
        out->ok = status >= 200 && status < 300;
        snprintf(out->message, sizeof out->message, "HTTP %ld from %s %s", status, method, safe ? safe : "(url)");
    } else {
        (void)gl__http_failure(&x, res, errbuf, method, safe, timeout_ms, false, out->message, sizeof out->message);
        if (!x.left_origin)
            out->status = 0;
    }
    if (x.body.data)
        sodium_memzero(x.body.data, x.body.len); /* it may echo the secret */
    gl__http_xfer_free(&x);
done:
    if (h)
        curl_easy_cleanup(h);
    curl_slist_free_all(headers);
    if (full) {
        sodium_memzero(full, strlen(full)); /* it may hold the credential's query value */
        curl_free(full);
    }
    curl_free(safe);
    return GL_OK;
}
