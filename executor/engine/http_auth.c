/*
 * http_auth.c: how a credential goes on an outbound request (see
 * http_client.h) — http.request's table, shared with the credential test
 * (http_probe.c) so the two cannot disagree:
 *
 *   http.header    header `header_name: value`
 *   http.bearer    Authorization: Bearer token
 *   http.basic     Authorization: Basic base64(username:password)
 *   http.query     query parameter `param_name=value` (URL-encoded)
 *   oauth2.code, oauth2.client
 *                  Authorization: Bearer access_token
 *
 * Other types (generic, webhook.hmac) are refused. Messages name the
 * credential by its label, never a value. What is built from a secret
 * (a header line, an encoded query value) is wiped before it is freed; a
 * form derived from a secret that travels (a Basic header's base64, the
 * URL-encoded query value) is reported through the caller's callback for
 * redaction.
 */
#include "http_client.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int gl__http_urlencode(gl_buf_t *b, const char *s, size_t n)
{
    if (n == 0) /* curl would take 0 as "use strlen" */
        return GL_OK;
    if (n > INT32_MAX)
        return GL_TOO_LARGE;
    char *esc = curl_easy_escape(NULL, s, (int)n);
    if (!esc)
        abort(); /* out of memory */
    int rc = gl_buf_puts(b, esc);
    curl_free(esc);
    return rc;
}

bool gl__http_header_name_ok(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              strchr("!#$%&'*+-.^_`|~", ch)))
            return false;
    }
    return true;
}

/* True when s[0..n) may go into a header line. */
static bool header_value_ok(const char *s, size_t n)
{
    return !memchr(s, '\r', n) && !memchr(s, '\n', n) && !memchr(s, '\0', n);
}

/* A secret field the credential's type requires, checked for a header. */
static int secret_for_header(const gl__http_auth_t *a, const char *field, bool required, char *msg, size_t cap)
{
    size_t n = 0;
    const char *v = gl_cred_secret(a->cred, field, &n);
    if (!v && required) {
        snprintf(msg, cap, "credential '%s' (%s) has no %s", a->label, a->cred->type, field);
        return GL_INVALID;
    }
    if (v && !header_value_ok(v, n)) {
        snprintf(msg, cap, "credential '%s': its %s contains CR, LF or NUL", a->label, field);
        return GL_INVALID;
    }
    return GL_OK;
}

static int refuse(char *msg, size_t cap, const char *label, const char *what)
{
    snprintf(msg, cap, "credential '%s' %s", label, what);
    return GL_INVALID;
}

int gl__http_auth_plan(const gl_cred_t *cred, const char *label, gl__http_auth_t *a, char *msg, size_t cap)
{
    const char *type = cred->type;
    memset(a, 0, sizeof *a);
    a->cred = cred;
    a->label = label;
    if (strcmp(type, "http.header") == 0) {
        a->header = gl_cred_field(cred, "header_name");
        if (!a->header || !gl__http_header_name_ok(a->header))
            return refuse(msg, cap, label, "(http.header) has no valid header_name");
        return secret_for_header(a, "value", true, msg, cap);
    }
    if (strcmp(type, "http.bearer") == 0) {
        a->header = "Authorization";
        return secret_for_header(a, "token", true, msg, cap);
    }
    if (strcmp(type, "http.basic") == 0) {
        a->header = "Authorization";
        if (!gl_cred_field(cred, "username"))
            return refuse(msg, cap, label, "(http.basic) has no username");
        return secret_for_header(a, "password", false, msg, cap);
    }
    if (strcmp(type, "http.query") == 0) {
        a->query = gl_cred_field(cred, "param_name");
        if (!a->query || !*a->query)
            return refuse(msg, cap, label, "(http.query) has no param_name");
        if (!gl_cred_secret(cred, "value", NULL))
            return refuse(msg, cap, label, "(http.query) has no value");
        return GL_OK;
    }
    if (strcmp(type, "oauth2.code") == 0 || strcmp(type, "oauth2.client") == 0) {
        a->header = "Authorization";
        a->oauth2 = true;
        return secret_for_header(a, "access_token", true, msg, cap);
    }
    snprintf(msg, cap, "credential '%s' is of type %s, which http.request cannot apply (it applies http.header, "
             "http.bearer, http.basic, http.query, oauth2.code and oauth2.client)", label, type);
    return GL_INVALID;
}

/* "Authorization: Basic base64(username:password)" into line. */
static int basic_line(const gl__http_auth_t *a, gl_buf_t *line, gl__http_secret_fn secret, void *ud)
{
    size_t n = 0;
    const char *user = gl_cred_field(a->cred, "username");
    const char *pass = gl_cred_secret(a->cred, "password", &n);
    gl_buf_t plain;
    gl_buf_init(&plain, 64 << 10);
    int rc = gl_buf_printf(&plain, "%s:", user);
    if (rc == GL_OK && n)
        rc = gl_buf_append(&plain, pass, n);
    if (rc == GL_OK) {
        size_t b64_len = sodium_base64_ENCODED_LEN(plain.len, sodium_base64_VARIANT_ORIGINAL);
        char *b64 = gl_xmalloc(b64_len);
        sodium_bin2base64(b64, b64_len, (const unsigned char *)plain.data, plain.len, sodium_base64_VARIANT_ORIGINAL);
        if (secret)
            secret(ud, b64, strlen(b64)); /* the password as it travels */
        rc = gl_buf_printf(line, "Authorization: Basic %s", b64);
        sodium_memzero(b64, b64_len);
        free(b64);
    }
    if (plain.data)
        sodium_memzero(plain.data, plain.len);
    gl_buf_free(&plain);
    return rc;
}

int gl__http_auth_header(const gl__http_auth_t *a, gl_buf_t *line, gl__http_secret_fn secret, void *ud, char *msg,
                         size_t cap)
{
    const char *type = a->cred->type;
    size_t n = 0;
    int rc;

    if (strcmp(type, "http.header") == 0) {
        const char *v = gl_cred_secret(a->cred, "value", &n);
        rc = gl_buf_printf(line, n ? "%s: %s" : "%s;", a->header, v);
    } else if (strcmp(type, "http.basic") == 0) {
        rc = basic_line(a, line, secret, ud);
    } else {
        const char *field = strcmp(type, "http.bearer") == 0 ? "token" : "access_token";
        rc = gl_buf_printf(line, "Authorization: Bearer %s", gl_cred_secret(a->cred, field, NULL));
    }
    if (rc != GL_OK) {
        snprintf(msg, cap, "credential '%s' too large for a header", a->label);
        return GL_INVALID;
    }
    return GL_OK;
}

int gl__http_auth_query(const gl__http_auth_t *a, gl_buf_t *qs, gl__http_secret_fn secret, void *ud, char *msg,
                        size_t cap)
{
    size_t n = 0;
    const char *v = gl_cred_secret(a->cred, "value", &n);
    gl_buf_t enc;
    gl_buf_init(&enc, qs->max);
    int rc = gl__http_urlencode(&enc, v, n);
    if (rc == GL_OK && secret)
        secret(ud, enc.data, enc.len); /* as it travels */
    if (rc != GL_OK || (qs->len && gl_buf_append(qs, "&", 1) != GL_OK) ||
        gl__http_urlencode(qs, a->query, strlen(a->query)) != GL_OK || gl_buf_append(qs, "=", 1) != GL_OK ||
        gl_buf_append(qs, enc.data ? enc.data : "", enc.len) != GL_OK) {
        snprintf(msg, cap, "query too large");
        rc = GL_INVALID;
    }
    if (enc.data)
        sodium_memzero(enc.data, enc.len);
    gl_buf_free(&enc);
    return rc;
}
