/*
 * oauth2_client.c: PKCE and the token endpoint request (see oauth2_client.h).
 */
#include "oauth2_client.h"

#include "crypto.h"
#include "json.h"
#include "outbound.h"

#include <curl/curl.h>
#include <math.h>
#include <stdint.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MAX_EXPIRES_IN (10LL * 366 * 86400) /* longer than this: taken as unknown */

void gl_oauth2_verifier(char out[GL_OAUTH2_VERIFIER_LEN + 1])
{
    gl_random_text(out, GL_OAUTH2_VERIFIER_LEN + 1, 32);
}

void gl_oauth2_challenge(const char *verifier, char out[GL_OAUTH2_VERIFIER_LEN + 1])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)verifier, strlen(verifier));
    sodium_bin2base64(out, GL_OAUTH2_VERIFIER_LEN + 1, h, sizeof h, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

size_t gl_oauth2_form_escape(const char *s, char *out)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
            c == '_' || c == '~') {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
    return o;
}

const char *gl_oauth2_outcome_name(gl_oauth2_outcome_t o)
{
    switch (o) {
    case GL_OAUTH2_OK: return "ok";
    case GL_OAUTH2_BAD_URL: return "bad_token_url";
    case GL_OAUTH2_UNREACHABLE: return "unreachable";
    case GL_OAUTH2_TIMEOUT: return "timeout";
    case GL_OAUTH2_REFUSED: return "token_refused";
    case GL_OAUTH2_BAD_RESPONSE: return "bad_token_response";
    }
    return "error";
}

/* Zeroes the string values of a (flat) JSON object, then releases it. */
static void scrub_put(json_object *obj)
{
    if (!obj)
        return;
    if (json_object_is_type(obj, json_type_object)) {
        json_object_object_foreach(obj, key, v)
        {
            (void)key;
            /* json-c owns the bytes and frees them right after: zeroing
             * them first is safe (hence the cast past const) */
            if (json_object_is_type(v, json_type_string))
                sodium_memzero((void *)(uintptr_t)json_object_get_string(v), (size_t)json_object_get_string_len(v));
        }
    }
    json_object_put(obj);
}

/* An error code that may be shown as it is: [a-z0-9_.-], 1 to 40 bytes. */
static bool plain_code(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-') || n >= 40)
            return false;
    }
    return n > 0;
}

/* A token we can keep and later send in a header: visible ASCII only. */
static bool token_ok(const char *s, size_t n)
{
    if (n == 0 || n > GL_OAUTH2_MAX_TOKEN)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return false;
    return true;
}

static int64_t expires_in(json_object *obj)
{
    json_object *v;
    int64_t secs = -1;
    if (!json_object_object_get_ex(obj, "expires_in", &v))
        return -1;
    if (json_object_is_type(v, json_type_int)) {
        secs = json_object_get_int64(v);
    } else if (json_object_is_type(v, json_type_double)) {
        double d = json_object_get_double(v);
        secs = isfinite(d) && d >= 1 && d <= (double)MAX_EXPIRES_IN ? (int64_t)d : -1;
    } else if (json_object_is_type(v, json_type_string)) {
        if (gl_parse_i64(json_object_get_string(v), 1, MAX_EXPIRES_IN, &secs) != GL_OK)
            secs = -1;
    }
    return secs >= 1 && secs <= MAX_EXPIRES_IN ? secs : -1;
}

int gl_oauth2_parse_response(long status, const char *body, size_t len, gl_arena_t *a, gl_oauth2_tokens_t *out,
                             gl_err_t *err)
{
    out->outcome = GL_OAUTH2_BAD_RESPONSE;
    out->http_status = status;
    out->retryable = false;
    out->error[0] = '\0';
    out->access_token = out->refresh_token = NULL;
    out->expires_in = -1;

    json_object *obj = NULL, *v = NULL;
    gl_err_t perr;
    gl_err_clear(&perr);
    if (len == 0 || gl_json_parse(body, len, 8, &obj, &perr) != GL_OK)
        obj = NULL;
    if (obj && !json_object_is_type(obj, json_type_object)) {
        scrub_put(obj);
        obj = NULL;
    }
    bool has_error = obj && json_object_object_get_ex(obj, "error", &v);
    if (has_error && json_object_is_type(v, json_type_string) && plain_code(json_object_get_string(v)))
        snprintf(out->error, sizeof out->error, "%s", json_object_get_string(v));
    if (status < 200 || status >= 300 || has_error) {
        out->outcome = GL_OAUTH2_REFUSED;
        out->retryable = status == 408 || status == 429 || status >= 500;
        gl_err_set(err, "answered HTTP %ld%s%s%s", status, out->error[0] ? " (" : "", out->error,
                   out->error[0] ? ")" : "");
        scrub_put(obj);
        return GL_ERR;
    }
    if (!obj) {
        gl_err_set(err, "answered HTTP %ld with something that is not a JSON object", status);
        return GL_ERR;
    }
    int rc = GL_ERR;
    if (!json_object_object_get_ex(obj, "access_token", &v) || !json_object_is_type(v, json_type_string) ||
        !token_ok(json_object_get_string(v), (size_t)json_object_get_string_len(v))) {
        gl_err_set(err, "answered without a usable access_token");
        goto out;
    }
    json_object *tt = NULL;
    if (json_object_object_get_ex(obj, "token_type", &tt) &&
        (!json_object_is_type(tt, json_type_string) || strcasecmp(json_object_get_string(tt), "bearer") != 0)) {
        gl_err_set(err, "answered with a token_type that is not Bearer");
        goto out;
    }
    json_object *rt = NULL;
    if (json_object_object_get_ex(obj, "refresh_token", &rt) && !json_object_is_type(rt, json_type_null) &&
        (!json_object_is_type(rt, json_type_string) ||
         !token_ok(json_object_get_string(rt), (size_t)json_object_get_string_len(rt)))) {
        gl_err_set(err, "answered with a refresh_token that is not a token");
        goto out;
    }
    out->access_token = gl_wiped_strdup(a, json_object_get_string(v), (size_t)json_object_get_string_len(v));
    if (rt && json_object_is_type(rt, json_type_string))
        out->refresh_token = gl_wiped_strdup(a, json_object_get_string(rt), (size_t)json_object_get_string_len(rt));
    out->expires_in = expires_in(obj);
    out->outcome = GL_OAUTH2_OK;
    rc = GL_OK;
out:
    scrub_put(obj);
    return rc;
}

/* --- the request */

typedef struct {
    char *data; /* max + 1 bytes of wiped arena memory */
    size_t len;
    size_t max;
    bool too_large;
} sink_t;

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    sink_t *s = ud;
    size_t bytes = size * n;
    if (bytes > s->max - s->len) {
        s->too_large = true;
        return 0; /* stops the transfer */
    }
    memcpy(s->data + s->len, p, bytes);
    s->len += bytes;
    return bytes;
}

/* Checks the URL (absolute http or https, no userinfo) and writes a copy
 * without query and fragment into the arena for messages. */
static int check_url(const char *url, gl_arena_t *a, const char **safe, gl_err_t *err)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *user = NULL, *s = NULL;
    int rc = GL_INVALID;
    if (!u)
        return GL_ERR;
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
        gl_err_set(err, "token_url is not an absolute http or https URL");
        goto out;
    }
    if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
        gl_err_set(err, "token_url must not hold a user name or password");
        goto out;
    }
    (void)curl_url_set(u, CURLUPART_QUERY, NULL, 0);
    (void)curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0);
    if (curl_url_get(u, CURLUPART_URL, &s, 0) != CURLUE_OK) {
        gl_err_set(err, "token_url is not an absolute http or https URL");
        goto out;
    }
    *safe = gl_arena_strdup(a, s);
    rc = GL_OK;
out:
    curl_free(scheme);
    curl_free(user);
    curl_free(s);
    curl_url_cleanup(u);
    return rc;
}

/* The form body: the pairs, then the client's id (and secret) unless they
 * go in Basic. Wiped arena memory. */
static char *form_body(const gl_oauth2_client_t *c, const char *const *form, size_t n_pairs, bool id_in_body,
                       bool secret_in_body, gl_arena_t *a, size_t *len)
{
    size_t cap = 1;
    for (size_t i = 0; i < 2 * n_pairs; i++)
        cap += 3 * strlen(form[i] ? form[i] : "") + 1;
    cap += 3 * strlen(c->client_id) + 16 + (secret_in_body ? 3 * strlen(c->client_secret) + 16 : 0);
    char *b = gl_wiped_alloc(a, cap);
    size_t o = 0;
    for (size_t i = 0; i < n_pairs; i++) {
        if (o)
            b[o++] = '&';
        o += gl_oauth2_form_escape(form[2 * i], b + o);
        b[o++] = '=';
        o += gl_oauth2_form_escape(form[2 * i + 1] ? form[2 * i + 1] : "", b + o);
    }
    if (id_in_body) {
        memcpy(b + o, "&client_id=", 11);
        o += 11;
        o += gl_oauth2_form_escape(c->client_id, b + o);
    }
    if (secret_in_body) {
        memcpy(b + o, "&client_secret=", 15);
        o += 15;
        o += gl_oauth2_form_escape(c->client_secret, b + o);
    }
    b[o] = '\0';
    *len = o;
    return b;
}

/* "Authorization: Basic base64(urlenc(id) ":" urlenc(secret))" in wiped
 * arena memory (RFC 6749 2.3.1). */
static char *basic_header(const gl_oauth2_client_t *c, gl_arena_t *a)
{
    size_t raw_cap = 3 * strlen(c->client_id) + 3 * strlen(c->client_secret) + 2;
    char *raw = gl_wiped_alloc(a, raw_cap);
    size_t n = gl_oauth2_form_escape(c->client_id, raw);
    raw[n++] = ':';
    n += gl_oauth2_form_escape(c->client_secret, raw + n);
    size_t b64_len = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
    char *h = gl_wiped_alloc(a, b64_len + 22);
    memcpy(h, "Authorization: Basic ", 21);
    sodium_bin2base64(h + 21, b64_len, (const unsigned char *)raw, n, sodium_base64_VARIANT_ORIGINAL);
    return h;
}

static int fail(gl_oauth2_tokens_t *out, gl_oauth2_outcome_t o, bool retryable, gl_err_t *err, const char *safe,
                const char *what)
{
    out->outcome = o;
    out->retryable = retryable;
    gl_err_set(err, "token endpoint %s: %s", safe, what);
    return GL_ERR;
}

int gl_oauth2_token_request(const gl_oauth2_client_t *c, const char *const *form, size_t n_pairs, gl_arena_t *a,
                            gl_oauth2_tokens_t *out, gl_err_t *err)
{
    memset(out, 0, sizeof *out);
    out->expires_in = -1;
    const char *safe = NULL;
    int rc = check_url(c->token_url, a, &safe, err);
    if (rc != GL_OK) {
        out->outcome = GL_OAUTH2_BAD_URL;
        if (rc == GL_ERR)
            gl_err_set(err, "cannot parse URLs (libcurl)");
        return GL_ERR;
    }
    bool has_secret = c->client_secret && *c->client_secret;
    bool basic = c->basic && has_secret;
    size_t body_len = 0;
    char *body = form_body(c, form, n_pairs, !basic, has_secret && !basic, a, &body_len);
    long timeout = c->timeout_ms <= 0 ? GL_OAUTH2_TIMEOUT_MS
                   : c->timeout_ms < GL_OAUTH2_MAX_TIMEOUT_MS ? c->timeout_ms
                                                              : GL_OAUTH2_MAX_TIMEOUT_MS;
    size_t max = c->max_response == 0 ? GL_OAUTH2_MAX_RESPONSE
                 : c->max_response < GL_OAUTH2_MAX_RESPONSE_CAP ? c->max_response
                                                                : GL_OAUTH2_MAX_RESPONSE_CAP;

    CURL *h = curl_easy_init();
    if (!h)
        return fail(out, GL_OAUTH2_UNREACHABLE, true, err, safe, "cannot initialise libcurl");
    struct curl_slist *headers = NULL, *n;
    const char *lines[] = { "Content-Type: application/x-www-form-urlencoded", "Accept: application/json",
                            "Expect:", basic ? basic_header(c, a) : NULL };
    for (size_t i = 0; i < GL_NELEM(lines) && lines[i]; i++) {
        if (!(n = curl_slist_append(headers, lines[i]))) {
            curl_slist_free_all(headers);
            curl_easy_cleanup(h);
            return fail(out, GL_OAUTH2_UNREACHABLE, true, err, safe, "out of memory");
        }
        headers = n;
    }
    sink_t sink = { gl_wiped_alloc(a, max + 1), 0, max, false };
    gl_outbound_t guard = { .allow = c->allow };
    gl_outbound_guard(h, &guard);
    curl_easy_setopt(h, CURLOPT_URL, c->token_url);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L); /* a redirect would carry the code and secret elsewhere */
    curl_easy_setopt(h, CURLOPT_USERAGENT, "Glyphic/" GL_VERSION);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     timeout < GL_OAUTH2_CONNECT_TIMEOUT_MS ? timeout : (long)GL_OAUTH2_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    CURLcode res = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(h);
    snprintf(out->refused, sizeof out->refused, "%s", guard.refused);

    if (sink.too_large || res == CURLE_FILESIZE_EXCEEDED) {
        char what[64];
        snprintf(what, sizeof what, "answer larger than %zu KiB", max >> 10);
        return fail(out, GL_OAUTH2_BAD_RESPONSE, false, err, safe, what);
    }
    switch (res) {
    case CURLE_OK:
        break;
    case CURLE_OPERATION_TIMEDOUT: {
        char what[64];
        snprintf(what, sizeof what, "no answer within %ld ms", timeout);
        return fail(out, GL_OAUTH2_TIMEOUT, true, err, safe, what);
    }
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
        /* one message for all, as http.request says it: the answer must not
         * map the internal network; the refused address is in out->refused */
        return fail(out, GL_OAUTH2_UNREACHABLE, true, err, safe,
                    "could not connect (unknown host, connection refused, unreachable, or an internal address "
                    "not allowed by http.allow_private)");
    case CURLE_URL_MALFORMAT:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_OUT_OF_MEMORY:
        return fail(out, GL_OAUTH2_UNREACHABLE, false, err, safe, curl_easy_strerror(res));
    default: /* resolve, connect, send, receive, TLS handshake … */
        return fail(out, GL_OAUTH2_UNREACHABLE, true, err, safe, curl_easy_strerror(res));
    }
    sink.data[sink.len] = '\0';
    gl_err_t perr;
    gl_err_clear(&perr);
    if (gl_oauth2_parse_response(status, sink.data, sink.len, a, out, &perr) != GL_OK) {
        fail(out, out->outcome, out->retryable, err, safe, perr.msg);
        return GL_ERR;
    }
    return GL_OK;
}
