/*
 * webhook_signature.c: the signature check of signed webhooks (see the
 * header). The pure part (gl_sig_*) parses a header and compares HMACs; the
 * rest (gl_hook_sig_*) is what fcgi/hooks.c calls with the credential
 * hook_find returned (sql/017).
 *
 * This is the one place glyphic-fcgi opens a sealed secret: everywhere else
 * it only seals (credentials API), and the executor opens what nodes use.
 * A direct sync webhook runs inside glyphic-fcgi, and every path (direct,
 * queued, async) must refuse a bad signature before anything starts, so
 * the key is opened here, per call, into the request's arena (wiped when
 * the request ends); a worker caches only the sealed text, and looks it up
 * again after GL_HOOK_SIG_RECHECK_MS (fcgi/hooks.c).
 */
#include "webhook_signature.h"

#include "log.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_HEADER 4096 /* longer signature headers are malformed */
#define MAC_BYTES crypto_auth_hmacsha256_BYTES
#define MAC_HEX (2 * MAC_BYTES)

gl_sig_scheme_t gl_sig_scheme_parse(const char *s)
{
    if (s && strcmp(s, "stripe") == 0)
        return GL_SIG_STRIPE;
    if (s && strcmp(s, "github") == 0)
        return GL_SIG_GITHUB;
    return GL_SIG_NONE;
}

const char *gl_sig_default_header(gl_sig_scheme_t scheme)
{
    return scheme == GL_SIG_STRIPE ? "Stripe-Signature" : scheme == GL_SIG_GITHUB ? "X-Hub-Signature-256" : "";
}

void gl_sig_hmac_hex(const unsigned char *key, size_t key_len, const char *prefix, size_t prefix_len,
                     const char *body, size_t body_len, char out[65])
{
    crypto_auth_hmacsha256_state st;
    unsigned char mac[MAC_BYTES];
    crypto_auth_hmacsha256_init(&st, key, key_len);
    if (prefix_len)
        crypto_auth_hmacsha256_update(&st, (const unsigned char *)prefix, prefix_len);
    if (body_len)
        crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, body_len);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_memzero(&st, sizeof st);
    sodium_bin2hex(out, MAC_HEX + 1, mac, sizeof mac);
}

/* s[0..n) is exactly MAC_HEX hex digits: decoded into mac */
static bool hex_mac(const char *s, size_t n, unsigned char mac[MAC_BYTES])
{
    if (n != MAC_HEX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    }
    size_t got = 0;
    return sodium_hex2bin(mac, MAC_BYTES, s, n, NULL, &got, NULL) == 0 && got == MAC_BYTES;
}

static bool space(char c)
{
    return c == ' ' || c == '\t';
}

/* trims blanks off s[0..*n) */
static const char *trim(const char *s, size_t *n)
{
    while (*n && space(*s))
        s++, (*n)--;
    while (*n && space(s[*n - 1]))
        (*n)--;
    return s;
}

/* The HMAC over prefix || body begins: the body follows through
 * gl_sig_stream_update. */
static gl_sig_result_t start(gl_sig_stream_t *st, const unsigned char *key, size_t key_len, const char *prefix,
                             size_t prefix_len)
{
    crypto_auth_hmacsha256_init(&st->hmac, key, key_len);
    if (prefix_len)
        crypto_auth_hmacsha256_update(&st->hmac, (const unsigned char *)prefix, prefix_len);
    st->started = true;
    return GL_SIG_OK;
}

/* Stripe-Signature: the signatures into st, the HMAC of "TIMESTAMP." begun */
static gl_sig_result_t stripe_begin(gl_sig_stream_t *st, const unsigned char *key, size_t key_len,
                                    const char *header, int64_t now_s, int64_t tolerance_s)
{
    size_t hlen = strlen(header);
    if (hlen > MAX_HEADER)
        return GL_SIG_MALFORMED;
    const char *t_text = NULL;
    size_t t_len = 0;
    for (size_t i = 0; i <= hlen;) {
        size_t len = strcspn(header + i, ",");
        const char *e = trim(header + i, &len);
        i += strcspn(header + i, ",") + 1;
        if (len == 0)
            continue; /* "a,,b" or a trailing comma */
        const char *eq = memchr(e, '=', len);
        if (!eq || eq == e)
            return GL_SIG_MALFORMED;
        size_t klen = (size_t)(eq - e), vlen = len - klen - 1;
        if (klen == 1 && e[0] == 't') {
            if (t_text || vlen == 0 || vlen > 12 || strspn(eq + 1, "0123456789") < vlen)
                return GL_SIG_MALFORMED;
            t_text = eq + 1;
            t_len = vlen;
        } else if (klen == 2 && e[0] == 'v' && e[1] == '1') {
            if (st->n_want == GL_SIG_MAX_V1 || !hex_mac(eq + 1, vlen, st->want[st->n_want]))
                return GL_SIG_MALFORMED;
            st->n_want++;
        }
        /* other schemes (v0, …) are not ours to check */
    }
    if (!t_text || st->n_want == 0)
        return GL_SIG_MALFORMED;
    char digits[16];
    memcpy(digits, t_text, t_len);
    digits[t_len] = '\0';
    int64_t t;
    if (gl_parse_i64(digits, 0, INT64_MAX, &t) != GL_OK)
        return GL_SIG_MALFORMED;
    if (t < now_s - tolerance_s || t > now_s + tolerance_s)
        return GL_SIG_STALE;
    /* the signed payload is "TIMESTAMP.BODY", the timestamp as sent */
    digits[t_len] = '.';
    return start(st, key, key_len, digits, t_len + 1);
}

/* X-Hub-Signature-256: the signature into st, the HMAC begun */
static gl_sig_result_t github_begin(gl_sig_stream_t *st, const unsigned char *key, size_t key_len,
                                    const char *header)
{
    size_t n = strlen(header);
    if (n > MAX_HEADER)
        return GL_SIG_MALFORMED;
    const char *s = trim(header, &n);
    if (n < 7 || strncasecmp(s, "sha256=", 7) != 0 || !hex_mac(s + 7, n - 7, st->want[0]))
        return GL_SIG_MALFORMED;
    st->n_want = 1;
    return start(st, key, key_len, NULL, 0);
}

gl_sig_result_t gl_sig_stream_begin(gl_sig_stream_t *st, gl_sig_scheme_t scheme, const unsigned char *key,
                                    size_t key_len, const char *header, int64_t now_s, int64_t tolerance_s)
{
    memset(st, 0, sizeof *st);
    if (!header)
        return GL_SIG_MISSING;
    gl_sig_result_t r = scheme == GL_SIG_STRIPE ? stripe_begin(st, key, key_len, header, now_s, tolerance_s)
                        : scheme == GL_SIG_GITHUB ? github_begin(st, key, key_len, header)
                                                  : GL_SIG_MALFORMED;
    if (r != GL_SIG_OK)
        gl_sig_stream_wipe(st);
    return r;
}

void gl_sig_stream_update(gl_sig_stream_t *st, const void *buf, size_t len)
{
    if (st->started && len)
        crypto_auth_hmacsha256_update(&st->hmac, buf, len);
}

gl_sig_result_t gl_sig_stream_final(gl_sig_stream_t *st)
{
    if (!st->started)
        return GL_SIG_MISMATCH;
    unsigned char mac[MAC_BYTES];
    crypto_auth_hmacsha256_final(&st->hmac, mac);
    int match = 0;
    for (int k = 0; k < st->n_want; k++)
        match |= sodium_memcmp(mac, st->want[k], MAC_BYTES) == 0;
    sodium_memzero(mac, sizeof mac);
    gl_sig_stream_wipe(st);
    return match ? GL_SIG_OK : GL_SIG_MISMATCH;
}

void gl_sig_stream_wipe(gl_sig_stream_t *st)
{
    sodium_memzero(st, sizeof *st);
}

/* A whole body: begin, update, final. */
static gl_sig_result_t verify_whole(gl_sig_scheme_t scheme, const unsigned char *key, size_t key_len,
                                    const char *header, const char *body, size_t body_len, int64_t now_s,
                                    int64_t tolerance_s)
{
    gl_sig_stream_t st;
    gl_sig_result_t r = gl_sig_stream_begin(&st, scheme, key, key_len, header, now_s, tolerance_s);
    if (r != GL_SIG_OK)
        return r;
    gl_sig_stream_update(&st, body, body_len);
    return gl_sig_stream_final(&st);
}

gl_sig_result_t gl_sig_stripe_verify(const unsigned char *key, size_t key_len, const char *header,
                                     const char *body, size_t body_len, int64_t now_s, int64_t tolerance_s)
{
    return verify_whole(GL_SIG_STRIPE, key, key_len, header, body, body_len, now_s, tolerance_s);
}

gl_sig_result_t gl_sig_github_verify(const unsigned char *key, size_t key_len, const char *header,
                                     const char *body, size_t body_len)
{
    return verify_whole(GL_SIG_GITHUB, key, key_len, header, body, body_len, 0, 0);
}

/* ---- a webhook's check, as a worker keeps it ---- */

void gl_hook_sig_clear(gl_hook_sig_t *s)
{
    free(s->secret_name);
    free(s->sealed);
    memset(s, 0, sizeof *s);
}

static char *dup_or_null(const PGresult *res, int col)
{
    if (PQgetisnull(res, 0, col))
        return NULL;
    char *p = strdup(PQgetvalue(res, 0, col));
    if (!p)
        abort();
    return p;
}

/* the params object of node node_id of def (borrowed), or NULL */
static json_object *node_params(json_object *def, const char *node_id)
{
    json_object *nodes = NULL, *params = NULL;
    if (!json_object_object_get_ex(def, "nodes", &nodes) || !json_object_is_type(nodes, json_type_array))
        return NULL;
    for (size_t i = 0; i < json_object_array_length(nodes); i++) {
        json_object *n = json_object_array_get_idx(nodes, i), *id = NULL;
        if (json_object_object_get_ex(n, "id", &id) && json_object_is_type(id, json_type_string) &&
            strcmp(json_object_get_string(id), node_id) == 0 && json_object_object_get_ex(n, "params", &params))
            return params;
    }
    return NULL;
}

bool gl_hook_sig_expired(const gl_hook_sig_t *s)
{
    return s->scheme != GL_SIG_NONE && gl_now_ms() - s->loaded_ms > GL_HOOK_SIG_RECHECK_MS;
}

void gl_hook_sig_set(gl_hook_sig_t *s, const PGresult *res, int col, json_object *def, const char *node_id)
{
    gl_hook_sig_clear(s);
    s->loaded_ms = gl_now_ms();
    s->scheme = PQgetisnull(res, 0, col) ? GL_SIG_NONE : gl_sig_scheme_parse(PQgetvalue(res, 0, col));
    if (s->scheme == GL_SIG_NONE && !PQgetisnull(res, 0, col + 1))
        s->scheme = GL_SIG_STRIPE; /* cannot happen (sql/017's CHECK); never let a secret go unchecked */
    if (s->scheme == GL_SIG_NONE)
        return;
    json_object *params = node_params(def, node_id), *v = NULL;
    const char *header = gl_sig_default_header(s->scheme);
    if (json_object_object_get_ex(params, "signature_header", &v) && json_object_is_type(v, json_type_string) &&
        json_object_get_string_len(v) > 0 && json_object_get_string_len(v) < (int)sizeof s->header)
        header = json_object_get_string(v);
    snprintf(s->header, sizeof s->header, "%s", header);
    /* the FastCGI parameter nginx passes it as */
    int n = snprintf(s->env_name, sizeof s->env_name, "HTTP_%s", s->header);
    for (int i = 5; i < n && i < (int)sizeof s->env_name - 1; i++) {
        char c = s->env_name[i];
        s->env_name[i] = c == '-' ? '_' : (c >= 'a' && c <= 'z') ? (char)(c - 32) : c;
    }
    s->tolerance_s = GL_SIG_DEFAULT_TOLERANCE;
    if (json_object_object_get_ex(params, "signature_tolerance_s", &v) && json_object_is_type(v, json_type_int) &&
        json_object_get_int64(v) >= 1 && json_object_get_int64(v) <= 86400)
        s->tolerance_s = json_object_get_int64(v);
    s->secret_name = dup_or_null(res, col + 1);
    s->have_cred = !PQgetisnull(res, 0, col + 2);
    if (s->have_cred) {
        snprintf(s->cred_id, sizeof s->cred_id, "%s", PQgetvalue(res, 0, col + 2));
        snprintf(s->cred_org, sizeof s->cred_org, "%s", PQgetvalue(res, 0, col + 3));
        snprintf(s->key_id, sizeof s->key_id, "%s", PQgetvalue(res, 0, col + 4));
        s->sealed = dup_or_null(res, col + 5);
    }
}

/* Opens the webhook's key into req->arena: GL_OK, else why[] says why not. */
static int open_key(gl_req_t *req, const gl_hook_sig_t *s, char **key, size_t *key_len, char *why, size_t why_len)
{
    const char *name = s->secret_name ? s->secret_name : "";
    if (!s->have_cred) {
        snprintf(why, why_len, "the org has no credential of type webhook.hmac named '%.100s'", name);
        return GL_NOTFOUND;
    }
    if (!s->sealed || !s->key_id[0]) {
        snprintf(why, why_len, "credential '%.100s' (%s) has no secret set", name, s->cred_id);
        return GL_NOTFOUND;
    }
    if (!req->vault) {
        snprintf(why, why_len, "no keyring is loaded");
        return GL_ERR;
    }
    gl_vault_ad_t ad = { .org_id = s->cred_org, .cred_id = s->cred_id, .field = "secret" };
    gl_err_t err;
    gl_err_clear(&err);
    if (gl_vault_open(req->vault, s->key_id, &ad, s->sealed, req->arena, key, key_len, &err) != GL_OK) {
        /* err names the key and what failed, never the value */
        snprintf(why, why_len, "credential '%.100s' (%s) does not open: %s", name, s->cred_id, err.msg);
        return GL_INVALID;
    }
    if (*key_len == 0) {
        snprintf(why, why_len, "credential '%.100s' (%s) has an empty secret", name, s->cred_id);
        return GL_INVALID;
    }
    return GL_OK;
}

gl_sig_result_t gl_hook_sig_begin(gl_req_t *req, const gl_hook_sig_t *s, gl_sig_stream_t *st, char *why,
                                  size_t why_len)
{
    memset(st, 0, sizeof *st);
    if (why_len)
        why[0] = '\0';
    if (s->scheme == GL_SIG_NONE)
        return GL_SIG_OK;
    const char *header = gl_req_env(req, s->env_name);
    if (!header)
        return GL_SIG_MISSING;
    char *key = NULL;
    size_t key_len = 0;
    if (open_key(req, s, &key, &key_len, why, why_len) != GL_OK)
        return GL_SIG_NOKEY;
    return gl_sig_stream_begin(st, s->scheme, (const unsigned char *)key, key_len, header, gl_wall_ms() / 1000,
                               s->tolerance_s);
}

gl_sig_result_t gl_hook_sig_verify(gl_req_t *req, const gl_hook_sig_t *s, char *why, size_t why_len)
{
    if (s->scheme == GL_SIG_NONE)
        return GL_SIG_OK;
    gl_sig_stream_t st;
    gl_sig_result_t r = gl_hook_sig_begin(req, s, &st, why, why_len);
    if (r != GL_SIG_OK)
        return r;
    gl_sig_stream_update(&st, req->body ? req->body : "", req->body_len);
    return gl_sig_stream_final(&st);
}

void gl_hook_sig_refuse(gl_req_t *req, const gl_hook_sig_t *s, const char *path, gl_sig_result_t result,
                        const char *why)
{
    const char *h = s->header;
    switch (result) {
    case GL_SIG_MISSING:
        gl_log(GL_LOG_INFO, "webhook /hooks/%s: refused a call without its %s header", path, h);
        gl_resp_error(req, 401, "invalid_signature", h, "the signature header %s is missing", h);
        return;
    case GL_SIG_MALFORMED:
        gl_log(GL_LOG_INFO, "webhook /hooks/%s: refused a call with a malformed %s header", path, h);
        gl_resp_error(req, 401, "invalid_signature", h, "the signature header %s is malformed (expected %s)", h,
                      s->scheme == GL_SIG_STRIPE ? "t=TIMESTAMP,v1=HEX" : "sha256=HEX");
        return;
    case GL_SIG_STALE:
        gl_log(GL_LOG_INFO, "webhook /hooks/%s: refused a call whose signature timestamp is stale", path);
        gl_resp_error(req, 401, "invalid_signature", h,
                      "the signature's timestamp is more than %lld seconds away from the server's clock",
                      (long long)s->tolerance_s);
        return;
    case GL_SIG_NOKEY:
        /* the caller cannot fix this: it hears what a wrong signature hears,
         * the operator reads the reason */
        gl_log(GL_LOG_WARN, "webhook /hooks/%s: cannot check signatures: %s", path, why && *why ? why : "no key");
        break;
    case GL_SIG_MISMATCH:
    case GL_SIG_OK:
        gl_log(GL_LOG_INFO, "webhook /hooks/%s: refused a call whose signature does not match", path);
        break;
    }
    gl_resp_error(req, 401, "invalid_signature", h, "the signature does not match");
}
