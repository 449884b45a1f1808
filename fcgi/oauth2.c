/*
 * oauth2.c: the OAuth2 authorization-code flow (RFC 6749 4.1 with PKCE,
 * RFC 7636) that connects an `oauth2.code` credential:
 *
 *   GET /api/oauth2/start?credential=ID
 *       An editor's browser session. Makes a random state (single use,
 *       bound to the session, ten minutes) and a PKCE verifier, keeps them
 *       in glyphic.oauth2_states (the state's hash; the verifier sealed
 *       with the vault, sql/015_oauth2.sql), and answers 302 to the
 *       credential's auth_url with response_type=code, client_id,
 *       redirect_uri, scope, state, code_challenge (S256).
 *
 *   GET /api/oauth2/callback?code=…&state=…   (or ?error=…&state=…)
 *       The provider sends the browser back. The state must exist, belong
 *       to this session and not have expired; its row is deleted in the
 *       request's transaction (a bad state is 400 and changes nothing). The
 *       code is exchanged at the credential's token_url (grant_type
 *       authorization_code, code, redirect_uri, code_verifier; the client
 *       authenticated per token_auth: `body` or `basic`), and access_token
 *       and refresh_token are sealed into the credential under the row's
 *       key, with token_expires_at, status 'ok'. The answer is 303 to the
 *       editor's credential page: /credentials/ID?oauth2=connected, or
 *       ?oauth2=error&reason=…[&error=<the provider's code>] — a URL never
 *       holds a secret.
 *
 * The callback URL (redirect_uri) is oauth2.redirect_url when set, else
 * built from the scheme and Host of the start request as nginx passes them
 * (REQUEST_SCHEME, HTTP_HOST); the one the start used is kept with the
 * state and repeated in the token request, as RFC 6749 4.1.3 wants.
 *
 * Departure from "only the executor opens secrets": the callback opens the
 * client secret (and the verifier) in glyphic-fcgi, because the exchange
 * must happen within the browser's request. The token request is bounded:
 * at most GL_OAUTH2_TIMEOUT_MS (10 s), 64 KiB of answer, no redirects,
 * and only to addresses http.allow_private allows besides public ones
 * (core/oauth2_client.c, core/outbound.c). Nothing of a token or of the client
 * secret reaches a log line, a response body or a redirect.
 */
#include "oauth2.h"

#include "account.h"
#include "crypto.h"
#include "log.h"
#include "oauth2_client.h"
#include "session.h"
#include "vault.h"

#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define STATE_TTL "10 minutes"
#define VERIFIER_FIELD "oauth2.verifier" /* no credential field may have this name (it has a dot) */
#define MAX_URL 2048
#define MAX_CODE 4096
#define MAX_LOCATION 3072 /* the whole response head must fit nginx's fastcgi_buffer_size (one 4 KiB page) */

static const gl_stmt_t q_cred = {
    .name = "oauth2_cred",
    .sql = "SELECT org_id, type, fields->>'auth_url', fields->>'token_url', fields->>'client_id', "
           "fields->>'scope' FROM credentials WHERE id = $1",
    .nparams = 1,
    .rows = true,
};

/* each start drops its user's expired states and keeps the newest 19 */
static const gl_stmt_t q_prune = {
    .name = "oauth2_prune",
    .sql = "DELETE FROM oauth2_states WHERE user_id = current_user_id() AND (expires_at <= now() OR state_hash IN "
           "(SELECT state_hash FROM oauth2_states WHERE user_id = current_user_id() "
           " ORDER BY created_at DESC OFFSET 19))",
    .nparams = 0,
    .rows = false,
};

static const gl_stmt_t q_insert = {
    .name = "oauth2_state_insert",
    .sql = "INSERT INTO oauth2_states (state_hash, session_id, user_id, org_id, credential_id, verifier, key_id, "
           "redirect_uri, expires_at) VALUES ($1, $2, current_user_id(), $3, $4, $5, $6, $7, "
           "now() + interval '" STATE_TTL "')",
    .nparams = 7,
    .rows = false,
};

/* the state's row, taken: whether it is this session's and still live */
static const gl_stmt_t q_take = {
    .name = "oauth2_state_take",
    .sql = "DELETE FROM oauth2_states WHERE state_hash = $1 AND user_id = current_user_id() "
           "RETURNING session_id = $2::uuid, expires_at > now(), org_id, credential_id, verifier, key_id, "
           "redirect_uri",
    .nparams = 2,
    .rows = true,
};

/* enters the state's org when the session works in another one */
static const gl_stmt_t q_enter = {
    .name = "oauth2_enter",
    .sql = "SELECT org_id, role FROM glyphic_ctx.auth_session($1, $2, $3)",
    .nparams = 3,
    .rows = true,
};

static const gl_stmt_t q_cred_secret = {
    .name = "oauth2_cred_secret",
    .sql = "SELECT type, fields->>'token_url', fields->>'client_id', fields->>'token_auth', "
           "secrets->>'client_secret', key_id FROM credentials WHERE id = $1",
    .nparams = 1,
    .rows = true,
};

/* the row is locked from here to the commit, so its key cannot change
 * under the tokens being sealed (rotation, another callback) */
static const gl_stmt_t q_lock = {
    .name = "oauth2_cred_lock",
    .sql = "SELECT key_id FROM credentials WHERE id = $1 AND type = 'oauth2.code' FOR UPDATE",
    .nparams = 1,
    .rows = true,
};

/* a token response without refresh_token keeps the one stored before */
static const gl_stmt_t q_store = {
    .name = "oauth2_store",
    .sql = "UPDATE credentials SET secrets = secrets || jsonb_strip_nulls(jsonb_build_object("
           "'access_token', $2::text, 'refresh_token', $3::text)), key_id = $4, "
           "token_expires_at = CASE WHEN $5::bigint > 0 THEN now() + make_interval(secs => $5::bigint) END, "
           "status = 'ok', status_detail = NULL, updated_at = now() WHERE id = $1",
    .nparams = 5,
    .rows = false,
};

/* --- shared bits */

static bool query(gl_req_t *req, const gl_stmt_t *stmt, const char *const *params, PGresult **res)
{
    gl_err_t err;
    gl_err_clear(&err);
    int rc = gl_db_query(req->db, stmt, params, req->arena, res, &err);
    if (rc != GL_OK) {
        gl_resp_fail(req, rc, &err);
        return false;
    }
    return true;
}

static const char *col(PGresult *res, int c)
{
    return PQgetisnull(res, 0, c) ? NULL : PQgetvalue(res, 0, c);
}

/* An absolute http(s) URL the browser may be sent to: parses, no fragment,
 * visible ASCII, at most MAX_URL bytes. */
static bool url_ok(const char *u)
{
    if (!u || !*u || strlen(u) > MAX_URL)
        return false;
    for (const char *p = u; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '#')
            return false;
    CURLU *h = curl_url();
    char *scheme = NULL;
    bool ok = h && curl_url_set(h, CURLUPART_URL, u, 0) == CURLUE_OK &&
              curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
              (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0);
    curl_free(scheme);
    curl_url_cleanup(h);
    return ok;
}

/* s form-urlencoded into the arena */
static char *esc(gl_req_t *req, const char *s)
{
    char *out = gl_arena_alloc(req->arena, 3 * strlen(s) + 1);
    gl_oauth2_form_escape(s, out);
    return out;
}

/* The callback URL: oauth2.redirect_url, else scheme://Host/api/oauth2/callback. */
static const char *redirect_uri(gl_req_t *req)
{
    if (req->cfg->oauth2_redirect_url[0])
        return req->cfg->oauth2_redirect_url;
    const char *scheme = gl_req_env(req, "REQUEST_SCHEME");
    const char *https = gl_req_env(req, "HTTPS");
    const char *host = gl_req_env(req, "HTTP_HOST");
    if (!scheme || !*scheme)
        scheme = https && *https && strcmp(https, "off") != 0 ? "https" : "http";
    if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)
        return NULL;
    size_t n = host ? strlen(host) : 0;
    if (n == 0 || n > 255)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        char c = host[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                  c == '-' || c == ':' || c == '[' || c == ']';
        if (!ok)
            return NULL;
    }
    return gl_arena_printf(req->arena, "%s://%s/api/oauth2/callback", scheme, host);
}

/* --- GET /api/oauth2/start */

static void oauth2_start(gl_req_t *req)
{
    const char *cred = gl_req_query(req, "credential");
    if (!cred || !gl_is_uuid(cred)) {
        gl_resp_error(req, 400, "invalid", "credential", "credential (a credential id) is required");
        return;
    }
    const char *p_cred[] = { cred };
    PGresult *res = NULL;
    if (!query(req, &q_cred, p_cred, &res))
        return;
    if (PQntuples(res) == 0) {
        gl_resp_error(req, 404, "not_found", "credential", "no such credential");
        return;
    }
    const char *org = col(res, 0), *type = col(res, 1), *auth_url = col(res, 2), *token_url = col(res, 3);
    const char *client_id = col(res, 4), *scope = col(res, 5);
    if (strcmp(type, "oauth2.code") != 0) {
        gl_resp_error(req, 400, "wrong_type", "credential",
                      "the credential is of type %s; only oauth2.code credentials connect through the browser", type);
        return;
    }
    if (!url_ok(auth_url)) {
        gl_resp_error(req, 400, "invalid_credential", "auth_url",
                      "the credential's auth_url must be an absolute http or https URL without a fragment");
        return;
    }
    if (!url_ok(token_url)) {
        gl_resp_error(req, 400, "invalid_credential", "token_url",
                      "the credential's token_url must be an absolute http or https URL");
        return;
    }
    if (!client_id || !*client_id || strlen(client_id) > 1024) {
        gl_resp_error(req, 400, "invalid_credential", "client_id", "the credential has no client_id");
        return;
    }
    if (scope && strlen(scope) > 2048) {
        gl_resp_error(req, 400, "invalid_credential", "scope", "the credential's scope is longer than 2048 bytes");
        return;
    }
    const char *callback = redirect_uri(req);
    if (!callback) {
        gl_resp_error(req, 400, "no_redirect_url", NULL,
                      "cannot build the callback URL from this request's Host; set oauth2.redirect_url");
        return;
    }

    char state[GL_TOKEN_LEN + 1], verifier[GL_OAUTH2_VERIFIER_LEN + 1], challenge[GL_OAUTH2_VERIFIER_LEN + 1];
    char state_hash[GL_HASH_PARAM_LEN];
    gl_token_new(state);
    gl_hash_param(state, strlen(state), state_hash);
    gl_oauth2_verifier(verifier);
    gl_oauth2_challenge(verifier, challenge);
    gl_err_t err;
    gl_err_clear(&err);
    char *sealed = NULL;
    gl_vault_ad_t ad = { org, cred, VERIFIER_FIELD };
    int rc = gl_vault_seal(req->vault, NULL, &ad, verifier, strlen(verifier), req->arena, &sealed, &err);
    sodium_memzero(verifier, sizeof verifier);
    if (rc != GL_OK) {
        gl_resp_fail(req, GL_ERR, &err);
        return;
    }
    PGresult *none = NULL;
    if (!query(req, &q_prune, NULL, &none))
        return;
    const char *p_ins[] = { state_hash, req->auth.session_id, org, cred, sealed, gl_vault_key_id(req->vault),
                            callback };
    if (!query(req, &q_insert, p_ins, &none))
        return;

    const char *sep = strchr(auth_url, '?') ? (strchr("?&", auth_url[strlen(auth_url) - 1]) ? "" : "&") : "?";
    char *location = gl_arena_printf(
        req->arena, "%s%sresponse_type=code&client_id=%s&redirect_uri=%s%s%s&state=%s&code_challenge=%s"
                    "&code_challenge_method=S256",
        auth_url, sep, esc(req, client_id), esc(req, callback), scope && *scope ? "&scope=" : "",
        scope && *scope ? esc(req, scope) : "", state, challenge);
    if (strlen(location) > MAX_LOCATION) {
        gl_resp_error(req, 400, "invalid_credential", NULL,
                      "the authorization URL would be longer than %d bytes; shorten auth_url, client_id or scope",
                      MAX_LOCATION);
        return;
    }
    gl_buf_t body;
    gl_buf_init(&body, 2 * MAX_LOCATION + 64);
    if (gl_buf_puts(&body, "{\"authorize_url\":\"") != GL_OK ||
        gl_buf_json_escape(&body, location, strlen(location)) != GL_OK || gl_buf_puts(&body, "\"}") != GL_OK) {
        gl_buf_free(&body);
        gl_resp_error(req, 500, "internal", NULL, "the authorization URL is too long");
        return;
    }
    gl_resp_header(req, "Location", location);
    gl_resp_header(req, "Referrer-Policy", "no-referrer");
    gl_resp_json(req, 302, body.data, body.len);
    gl_buf_free(&body);
}

/* --- GET /api/oauth2/callback */

typedef struct {
    const char *org;
    const char *cred;
    const char *verifier_sealed;
    const char *verifier_key;
    const char *redirect_uri;
} pending_t;

/* Ends the callback on the credential's page (303): the state is spent
 * (committed), nothing else was written. reason and error are plain codes. */
static void back_to_credential(gl_req_t *req, const char *cred, const char *reason, const char *error)
{
    char *loc;
    if (!reason)
        loc = gl_arena_printf(req->arena, "/credentials/%s?oauth2=connected", cred);
    else
        loc = gl_arena_printf(req->arena, "/credentials/%s?oauth2=error&reason=%s%s%s", cred, reason,
                              error && *error ? "&error=" : "", error && *error ? esc(req, error) : "");
    gl_resp_header(req, "Location", loc);
    gl_resp_header(req, "Referrer-Policy", "no-referrer");
    char *body = gl_arena_printf(req->arena, "{\"location\":\"%s\"}", loc); /* ids and plain codes only */
    gl_resp_json(req, 303, body, strlen(body));
}

static void failed(gl_req_t *req, const pending_t *p, const char *reason, const char *error, const char *why)
{
    gl_log(GL_LOG_INFO, "oauth2 callback for credential %s failed (%s): %s", p->cred, reason, why);
    back_to_credential(req, p->cred, reason, error);
}

/* A provider's error code as it may appear in our redirect: [a-z0-9_], 1-40. */
static const char *plain(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 40)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return NULL;
    return s;
}

/* Makes the transaction work in org (the state's) with the caller's role
 * there; false (error response set or *role 0) when it cannot. */
static bool enter_org(gl_req_t *req, const char *org, int *role)
{
    *role = GL_ROLE_NONE;
    if (strcmp(org, req->auth.org_id) == 0) {
        *role = req->auth.role;
        return true;
    }
    const char *token = gl_session_token(req);
    if (!token) {
        gl_resp_error(req, 401, "unauthorized", NULL, "sign in first");
        return false;
    }
    char hash[GL_HASH_PARAM_LEN], idle[16];
    gl_hash_param(token, strlen(token), hash);
    snprintf(idle, sizeof idle, "%d", req->cfg->auth_session_idle);
    const char *params[] = { hash, org, idle };
    PGresult *res = NULL;
    if (!query(req, &q_enter, params, &res))
        return false;
    if (PQntuples(res) == 1 && col(res, 0) && strcmp(col(res, 0), org) == 0 && col(res, 1))
        *role = gl_role_parse(col(res, 1));
    return true;
}

/* Takes the state's row. GL_OK with *p; else the 400 is set (and a spent,
 * expired row stays deleted). */
static int take_state(gl_req_t *req, const char *state, pending_t *p)
{
    char hash[GL_HASH_PARAM_LEN];
    gl_hash_param(state, strlen(state), hash);
    const char *params[] = { hash, req->auth.session_id };
    PGresult *res = NULL;
    if (!query(req, &q_take, params, &res))
        return GL_ERR;
    if (PQntuples(res) == 0) {
        gl_resp_error(req, 400, "invalid_state", "state",
                      "unknown or already used state; start the authorization again");
        return GL_INVALID;
    }
    if (strcmp(col(res, 0), "t") != 0) {
        /* rolled back: the session that started it may still finish */
        gl_resp_error(req, 400, "invalid_state", "state",
                      "this authorization was started in another session; start it again here");
        return GL_INVALID;
    }
    if (strcmp(col(res, 1), "t") != 0) {
        req->commit_on_error = true; /* the expired row goes */
        gl_resp_error(req, 400, "invalid_state", "state", "the authorization expired; start it again");
        return GL_INVALID;
    }
    p->org = col(res, 2);
    p->cred = col(res, 3);
    p->verifier_sealed = col(res, 4);
    p->verifier_key = col(res, 5);
    p->redirect_uri = col(res, 6);
    return GL_OK;
}

/* Seals the tokens under the row's key and stores them; false with the
 * reason when it cannot (the error response is set on a database error). */
static bool store_tokens(gl_req_t *req, const pending_t *p, const gl_oauth2_tokens_t *t, const char **reason)
{
    const char *p_id[] = { p->cred };
    PGresult *res = NULL;
    if (!query(req, &q_lock, p_id, &res))
        return false;
    if (PQntuples(res) == 0) {
        *reason = "credential_changed";
        return false;
    }
    const char *key = col(res, 0) ? col(res, 0) : gl_vault_key_id(req->vault);
    if (!gl_vault_has_key(req->vault, key)) {
        *reason = "key_missing";
        return false;
    }
    gl_err_t err;
    gl_err_clear(&err);
    char *access = NULL, *refresh = NULL;
    gl_vault_ad_t ad_a = { p->org, p->cred, "access_token" }, ad_r = { p->org, p->cred, "refresh_token" };
    if (gl_vault_seal(req->vault, key, &ad_a, t->access_token, strlen(t->access_token), req->arena, &access,
                      &err) != GL_OK ||
        (t->refresh_token && gl_vault_seal(req->vault, key, &ad_r, t->refresh_token, strlen(t->refresh_token),
                                           req->arena, &refresh, &err) != GL_OK)) {
        gl_log(GL_LOG_WARN, "oauth2: cannot seal the tokens of credential %s: %s", p->cred, err.msg);
        *reason = "key_missing";
        return false;
    }
    char expires[24];
    snprintf(expires, sizeof expires, "%lld", (long long)t->expires_in);
    const char *params[] = { p->cred, access, refresh, key, expires };
    if (!query(req, &q_store, params, &res))
        return false;
    *reason = NULL;
    return true;
}

static void exchange(gl_req_t *req, const pending_t *p, const char *code)
{
    const char *p_id[] = { p->cred };
    PGresult *res = NULL;
    if (!query(req, &q_cred_secret, p_id, &res))
        return;
    if (PQntuples(res) == 0 || strcmp(col(res, 0), "oauth2.code") != 0) {
        failed(req, p, "credential_changed", NULL, "the credential is gone or no longer of type oauth2.code");
        return;
    }
    const char *token_url = col(res, 1), *client_id = col(res, 2), *token_auth = col(res, 3);
    const char *secret_sealed = col(res, 4), *row_key = col(res, 5);
    bool basic = token_auth && strcmp(token_auth, "basic") == 0;
    if (!token_url || !client_id || !*client_id || (token_auth && !basic && strcmp(token_auth, "body") != 0)) {
        failed(req, p, "invalid_credential", NULL, "token_url, client_id or token_auth is missing or wrong");
        return;
    }

    gl_err_t err;
    gl_err_clear(&err);
    char *secret = NULL, *verifier = NULL;
    size_t n = 0;
    gl_vault_ad_t ad_v = { p->org, p->cred, VERIFIER_FIELD };
    if (gl_vault_open(req->vault, p->verifier_key, &ad_v, p->verifier_sealed, req->arena, &verifier, &n, &err) !=
        GL_OK) {
        failed(req, p, "state_unreadable", NULL, err.msg);
        return;
    }
    gl_vault_ad_t ad_s = { p->org, p->cred, "client_secret" };
    if (secret_sealed &&
        (!row_key || gl_vault_open(req->vault, row_key, &ad_s, secret_sealed, req->arena, &secret, &n, &err) !=
                         GL_OK)) {
        failed(req, p, "key_missing", NULL, row_key ? err.msg : "the credential's secrets have no key id");
        return;
    }

    const char *form[] = { "grant_type", "authorization_code", "code", code, "redirect_uri", p->redirect_uri,
                           "code_verifier", verifier };
    gl_oauth2_client_t client = {
        .token_url = token_url,
        .client_id = client_id,
        .client_secret = secret,
        .basic = basic,
        .allow = &req->cfg->http_allow_private,
        .timeout_ms = GL_OAUTH2_TIMEOUT_MS,
    };
    gl_oauth2_tokens_t t;
    if (gl_oauth2_token_request(&client, form, GL_NELEM(form) / 2, req->arena, &t, &err) != GL_OK) {
        if (t.refused[0])
            gl_log(GL_LOG_INFO, "oauth2 token request refused: %s is not a public address (see http.allow_private)",
                   t.refused);
        failed(req, p, gl_oauth2_outcome_name(t.outcome), t.error, err.msg);
        return;
    }
    const char *reason = NULL;
    if (!store_tokens(req, p, &t, &reason)) {
        if (reason)
            failed(req, p, reason, NULL, "the tokens could not be sealed under the credential's key");
        return;
    }
    if (gl_audit(req, p->org, "credential.oauth2_connect", "credential", p->cred, NULL) != GL_OK)
        return;
    gl_log(GL_LOG_INFO, "oauth2: credential %s connected", p->cred);
    back_to_credential(req, p->cred, NULL, NULL);
}

static void oauth2_callback(gl_req_t *req)
{
    const char *state = gl_req_query(req, "state");
    const char *code = gl_req_query(req, "code");
    const char *error = gl_req_query(req, "error");
    if (!state || strlen(state) != GL_TOKEN_LEN || !gl_token_chars_ok(state, GL_TOKEN_LEN)) {
        gl_resp_error(req, 400, "invalid_state", "state", "state is missing or malformed");
        return;
    }
    if (!error && (!code || !*code || strlen(code) > MAX_CODE)) {
        gl_resp_error(req, 400, "invalid", "code", "code (at most %d bytes) or error is required", MAX_CODE);
        return;
    }
    pending_t p;
    if (take_state(req, state, &p) != GL_OK)
        return;
    if (error) {
        const char *e = plain(error);
        failed(req, &p, e && strcmp(e, "access_denied") == 0 ? "access_denied" : "provider_error", e,
               "the provider answered with an error");
        return;
    }
    int role = GL_ROLE_NONE;
    if (!enter_org(req, p.org, &role))
        return;
    if (role < GL_ROLE_EDITOR) {
        failed(req, &p, "forbidden", NULL, "the user is no longer an editor of the credential's org");
        return;
    }
    exchange(req, &p, code);
}

static const gl_route_t routes[] = {
    { "GET", "/api/oauth2/start", oauth2_start, GL_PERM_OAUTH2_CONNECT, NULL },
    { "GET", "/api/oauth2/callback", oauth2_callback, GL_PERM_OAUTH2_CALLBACK, NULL },
};

const gl_resource_t gl_resource_oauth2 = { "oauth2", routes, GL_NELEM(routes) };
