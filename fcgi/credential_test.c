/*
 * credential_test.c: POST /api/credentials/{id}/test — does the
 * credential work? An editor's question, answered with one request:
 *
 *   http.header, http.bearer, http.basic, http.query
 *       body {"url": "https://api.example.com/me", "method": "GET"|"HEAD"|"POST"}:
 *       the credential goes on one request to url exactly as http.request
 *       puts it (the engine's gl_engine_http_probe: its outbound guard and
 *       http.allow_private, redirects only on the URL's origin, its
 *       messages), at most 10 s; ok when the answer is 2xx.
 *   oauth2.client
 *       no body: a client-credentials token request to token_url; ok when
 *       the provider issues a token. The token is not stored (the executor
 *       gets its own when a workflow needs one).
 *   oauth2.code
 *       no body: ok when the stored access token has more than 30 s left
 *       (or no known expiry); else, with a refresh token, the row is
 *       locked and read again (a workflow may have renewed it meanwhile)
 *       and refreshed exactly as the executor refreshes it
 *       (core/oauth2_grant.c): new tokens sealed and stored, or a refused
 *       refresh token marks the row needs_reauth.
 *   webhook.hmac, generic
 *       400 not_testable: nothing to call.
 *
 * The answer is 200 {"ok", "status", "message"} whatever the outcome:
 * status is the HTTP status of the request made (null when none was made
 * or none answered), message says what happened ("HTTP 401 from GET
 * https://host/path", "… could not connect (…)") and never holds a secret
 * or the answer's body. The test is audited (credential.test) with the
 * URL without userinfo, query and fragment.
 *
 * Opening secrets. Like the direct webhook's signature check and the
 * OAuth2 callback, this is a place where glyphic-fcgi opens sealed
 * secrets: the credential's fields are opened into the request's arena
 * (wiped when the request ends) because the test must answer within the
 * editor's request.
 *
 * A test holds a worker for up to about 12 s (the 10 s request and a 2 s
 * wait for the row), so an org runs one test at a time: a transaction
 * advisory lock on the org, taken without waiting (released when the
 * request's transaction ends); a second test meanwhile is 429 busy with
 * Retry-After.
 */
#include "credential_test.h"

#include "account.h"
#include "engine.h"
#include "log.h"
#include "oauth2_grant.h"
#include "vault.h"

#include <stdio.h>
#include <string.h>

#define TOKEN_EARLY_MS 30000       /* as the executor: a token with less left is renewed before use */
#define ROW_WAIT "2000ms"          /* waiting for a workflow that renews the token right now */
#define TEST_MAX_URL 8192
#define BUSY_RETRY_AFTER "10"      /* seconds: the longest a test takes */

/* one test of the org at a time (the lock goes with the transaction) */
static const gl_stmt_t q_org_lock = {
    .name = "cred_test_org_lock",
    .sql = "SELECT pg_try_advisory_xact_lock(hashtextextended('glyphic.credential_test:' || current_org_id(), 0))",
    .nparams = 0,
    .rows = true,
};

#define ROW_COLS "c.id::text, c.org_id::text, c.name, c.type, c.fields::text, c.secrets::text, c.key_id, " \
                 "c.status, c.status_detail, (extract(epoch FROM c.token_expires_at) * 1000)::bigint"

static const gl_stmt_t q_row = {
    .name = "cred_test_row",
    .sql = "SELECT " ROW_COLS " FROM credentials c WHERE c.id = $1 AND c.org_id = current_org_id()",
    .nparams = 1,
    .rows = true,
};

/* the row again, locked as the executor locks it to renew a token */
static const gl_stmt_t q_row_lock = {
    .name = "cred_test_row_lock",
    .sql = "SELECT " ROW_COLS " FROM credentials c WHERE c.id = $1 AND c.org_id = current_org_id() FOR UPDATE",
    .nparams = 1,
    .rows = true,
};

static const gl_stmt_t q_row_wait = {
    .name = "cred_test_row_wait",
    .sql = "SELECT set_config('lock_timeout', '" ROW_WAIT "', true)",
    .nparams = 0,
    .rows = true,
};

/* A credential's row, its secrets opened (arena memory). */
typedef struct {
    const char *id, *org, *name, *type, *key_id, *status, *detail;
    const char *fields_text, *secrets_text;
    int64_t expires_ms; /* token_expires_at; 0: none known */
    gl_cred_t cred;
} row_t;

/* What the test found. */
typedef struct {
    bool ok;
    long status;            /* 0: none */
    char message[512];
    const char *url;        /* HTTP types: the URL without userinfo, query and fragment, for the audit */
    const char *method;
} outcome_t;

static const char *col(PGresult *res, int c)
{
    return PQgetisnull(res, 0, c) ? NULL : PQgetvalue(res, 0, c);
}

/* Reads the row with stmt into *row (copied into the arena). GL_OK,
 * GL_NOTFOUND, or the database's code with err. */
static int read_row(gl_req_t *req, const gl_stmt_t *stmt, const char *id, row_t *row, gl_err_t *err)
{
    const char *params[] = { id };
    PGresult *res = NULL;
    int rc = gl_db_query(req->db, stmt, params, req->arena, &res, err);
    if (rc != GL_OK)
        return rc;
    if (PQntuples(res) != 1)
        return GL_NOTFOUND;
    memset(row, 0, sizeof *row);
    row->id = col(res, 0);
    row->org = col(res, 1);
    row->name = col(res, 2);
    row->type = col(res, 3);
    row->fields_text = col(res, 4);
    row->secrets_text = col(res, 5);
    row->key_id = col(res, 6);
    row->status = col(res, 7);
    row->detail = col(res, 8);
    row->expires_ms = col(res, 9) ? gl_db_int(res, 0, 9) : 0;
    return GL_OK;
}

/* Opens every sealed field of the row into row->cred (wiped with the
 * arena). GL_OK, or GL_INVALID with the reason in msg (never a value). */
static int open_row(gl_req_t *req, row_t *row, char *msg, size_t cap)
{
    gl_cred_t *c = &row->cred;
    json_object *fields = json_tokener_parse(row->fields_text ? row->fields_text : "{}");
    json_object *secrets = json_tokener_parse(row->secrets_text ? row->secrets_text : "{}");
    int rc = GL_OK;

    memset(c, 0, sizeof *c);
    c->name = row->name;
    c->type = row->type;
    if (!json_object_is_type(fields, json_type_object)) {
        json_object_put(fields);
        fields = json_object_new_object();
    }
    c->fields = gl_json_own(req->arena, fields);
    if (!json_object_is_type(secrets, json_type_object)) {
        snprintf(msg, cap, "credential '%.80s' cannot be opened: its secrets are unreadable", row->name);
        json_object_put(secrets);
        return GL_INVALID;
    }
    json_object_object_foreach(secrets, field, val) {
        gl_vault_ad_t ad = { .org_id = row->org, .cred_id = row->id, .field = field };
        gl_err_t verr;
        char *plain = NULL;
        size_t n = 0;
        if (c->n_secrets == GL_CRED_MAX_SECRETS || !json_object_is_type(val, json_type_string)) {
            snprintf(msg, cap, "credential '%.80s' cannot be opened: its field '%.64s' is not a sealed value",
                     row->name, field);
            rc = GL_INVALID;
            break;
        }
        gl_err_clear(&verr);
        int vrc = gl_vault_open(req->vault, row->key_id, &ad, json_object_get_string(val), req->arena, &plain, &n,
                                &verr);
        if (vrc != GL_OK) {
            bool says = strncmp(verr.msg, "does not open", 13) == 0;
            if (vrc == GL_NOTFOUND)
                snprintf(msg, cap, "credential '%.80s' cannot be opened: its secrets were %s", row->name, verr.msg);
            else
                snprintf(msg, cap, "credential '%.80s' cannot be opened: its field '%.64s' %s%s", row->name, field,
                         says ? "" : "does not open: ", verr.msg);
            rc = GL_INVALID;
            break;
        }
        c->secrets[c->n_secrets++] = (gl_cred_secret_t){ gl_arena_strdup(req->arena, field), plain, n };
    }
    json_object_put(secrets);
    return rc;
}

/* ---- the HTTP types */

static void test_http(gl_req_t *req, const row_t *row, const char *method, const char *url, outcome_t *out)
{
    gl_http_probe_t probe;
    gl_err_t err;
    gl_err_clear(&err);
    if (gl_engine_http_probe(&row->cred, method, url, &req->cfg->http_allow_private, GL_HTTP_PROBE_TIMEOUT_MS,
                             &probe, &err) != GL_OK) {
        /* the body was checked before: only a URL curl takes apart differently comes here */
        snprintf(out->message, sizeof out->message, "%s", err.msg);
        return;
    }
    out->ok = probe.ok;
    out->status = probe.status;
    snprintf(out->message, sizeof out->message, "%s", probe.message);
    out->url = gl_arena_strdup(req->arena, probe.safe_url);
}

/* ---- OAuth2 */

static void test_client(gl_req_t *req, const row_t *row, outcome_t *out)
{
    gl_oauth2_cred_t gc = gl_cred_oauth2(&row->cred, row->org, row->id, row->name);
    gl_oauth2_grant_t g;
    gl_err_t err;
    gl_err_clear(&err);
    int rc = gl_oauth2_grant(&gc, false, &req->cfg->http_allow_private, GL_OAUTH2_TIMEOUT_MS, 0, req->arena, &g,
                             &err);
    out->status = g.tokens.http_status;
    out->ok = rc == GL_OK;
    if (out->ok)
        snprintf(out->message, sizeof out->message, "the token endpoint issued an access token (not stored)");
    else
        snprintf(out->message, sizeof out->message, "%s", err.msg);
}

/* Does the row hold an access token with more than TOKEN_EARLY_MS left
 * (or no known expiry)? */
static bool token_fresh(const row_t *row)
{
    const char *tok = gl_cred_secret(&row->cred, "access_token", NULL);
    return tok && *tok && (row->expires_ms == 0 || row->expires_ms - gl_wall_ms() > TOKEN_EARLY_MS);
}

static void fresh_message(const row_t *row, outcome_t *out, const char *how)
{
    out->ok = true;
    if (row->expires_ms == 0)
        snprintf(out->message, sizeof out->message, "%s access token has no known expiry", how);
    else
        snprintf(out->message, sizeof out->message, "%s access token is valid for %lld more minutes", how,
                 (long long)((row->expires_ms - gl_wall_ms()) / 60000));
}

static bool needs_reauth(const row_t *row, outcome_t *out)
{
    if (!row->status || strcmp(row->status, "needs_reauth") != 0)
        return false;
    snprintf(out->message, sizeof out->message, "credential '%.80s' needs to be authorized again%s%.150s%s",
             row->name, row->detail ? " (" : "", row->detail ? row->detail : "", row->detail ? ")" : "");
    return true;
}

/* Locks the row as the executor does to renew its token, and reads and
 * opens it again into *row. True to go on (or with out->message set when
 * it does not open); false with the answer set (429 while a workflow
 * renews it, 404, a database error). */
static bool lock_row(gl_req_t *req, row_t *row, outcome_t *out)
{
    gl_err_t err;
    gl_err_clear(&err);
    PGresult *res = NULL;
    const char *id = row->id;
    int rc = gl_db_query(req->db, &q_row_wait, NULL, req->arena, &res, &err);
    if (rc == GL_OK)
        rc = read_row(req, &q_row_lock, id, row, &err);
    if (rc == GL_UNAVAILABLE && gl_db_timed_out(&err)) {
        gl_resp_header(req, "Retry-After", "5");
        gl_resp_error(req, 429, "busy", NULL, "a workflow is renewing this credential's token right now; try again "
                      "in a few seconds");
        return false;
    }
    if (rc == GL_NOTFOUND) {
        gl_resp_error(req, 404, "not_found", NULL, "no such credential");
        return false;
    }
    if (rc != GL_OK) {
        gl_resp_fail(req, rc, &err);
        return false;
    }
    (void)open_row(req, row, out->message, sizeof out->message);
    return true;
}

/* With the row locked: the refresh-token grant, then the new tokens sealed
 * and stored, or the row marked needs_reauth when the provider refused
 * (core/oauth2_grant.c, as the executor). False with the answer set on a
 * database error. */
static bool refresh(gl_req_t *req, const row_t *row, outcome_t *out)
{
    gl_oauth2_cred_t gc = gl_cred_oauth2(&row->cred, row->org, row->id, row->name);
    gl_oauth2_grant_t g;
    gl_err_t err;
    gl_err_clear(&err);
    int rc = gl_oauth2_grant(&gc, true, &req->cfg->http_allow_private, GL_OAUTH2_TIMEOUT_MS, 0, req->arena, &g,
                             &err);
    out->status = g.tokens.http_status;
    if (rc == GL_OK) {
        rc = gl_oauth2_store(req->db, req->vault, &gc, row->key_id, row->cred.n_secrets > 0, &g.tokens,
                             gl_oauth2_expires_ms(g.tokens.expires_in), req->arena, &err);
        if (rc == GL_UNAVAILABLE) {
            gl_resp_fail(req, rc, &err);
            return false;
        }
        out->ok = rc == GL_OK;
        snprintf(out->message, sizeof out->message, "%s", out->ok ? "the access token was refreshed" : err.msg);
        if (out->ok)
            gl_log(GL_LOG_INFO, "credential %s: new access token (refreshed by a test)", row->id);
        return true;
    }
    snprintf(out->message, sizeof out->message, "%s", err.msg);
    if (g.refused) {
        gl_err_clear(&err);
        if (gl_oauth2_mark_reauth(req->db, &gc, g.detail, &err) != GL_OK) {
            gl_resp_fail(req, GL_UNAVAILABLE, &err);
            return false;
        }
        gl_log(GL_LOG_WARN, "credential %s needs to be authorized again: %s", row->id, g.detail);
    }
    return true;
}

/* oauth2.code: false when the answer is set already (429, 404, or a
 * database error). */
static bool test_code(gl_req_t *req, row_t *row, outcome_t *out)
{
    if (needs_reauth(row, out))
        return true;
    if (token_fresh(row)) {
        fresh_message(row, out, "the stored");
        return true;
    }
    if (!gl_cred_secret(&row->cred, "refresh_token", NULL)) {
        snprintf(out->message, sizeof out->message, "credential '%.80s' %s: connect it to its provider (OAuth2)",
                 row->name, gl_cred_secret(&row->cred, "access_token", NULL)
                                ? "has an expired access token and no refresh token"
                                : "is not authorized yet");
        return true;
    }
    if (!lock_row(req, row, out))
        return false;
    if (out->message[0] || needs_reauth(row, out)) /* it no longer opens, or a workflow was refused meanwhile */
        return true;
    if (token_fresh(row)) {
        fresh_message(row, out, "a workflow renewed it meanwhile: the");
        return true;
    }
    return refresh(req, row, out);
}

/* ---- the request */

/* The types a test sends one request with, as http.request applies them. */
static bool http_type(const char *type)
{
    static const char *const types[] = { "http.header", "http.bearer", "http.basic", "http.query" };
    for (size_t i = 0; i < GL_NELEM(types); i++)
        if (strcmp(type, types[i]) == 0)
            return true;
    return false;
}

/* The body of an HTTP type's test: url and method. False with the 400 set. */
static bool http_body(gl_req_t *req, const char **url, const char **method)
{
    static const char *const allowed[] = { "url", "method", NULL };
    if (!req->json) {
        gl_resp_error(req, 400, "invalid", "url", "give the URL to test the credential against: {\"url\": "
                      "\"https://…\", \"method\": \"GET\"}");
        return false;
    }
    if (!gl_account_fields(req, allowed))
        return false;
    if (!(*url = gl_account_string(req, req->json, "url", 1, TEST_MAX_URL, true)))
        return false;
    *method = gl_account_string(req, req->json, "method", 1, 8, false);
    if (req->status)
        return false;
    if (!*method)
        *method = "GET";
    if (strcmp(*method, "GET") != 0 && strcmp(*method, "HEAD") != 0 && strcmp(*method, "POST") != 0) {
        gl_resp_error(req, 400, "invalid", "method", "method must be GET, HEAD or POST");
        return false;
    }
    /* the URL rules of http.request, before anything is opened */
    gl_err_t err;
    gl_err_clear(&err);
    if (gl_engine_http_url_check(*url, &err) != GL_OK) {
        gl_resp_error(req, 400, "invalid", "url", "%s", err.msg);
        return false;
    }
    return true;
}

/* An OAuth2 type's test takes no body (an empty object is fine). */
static bool oauth2_body(gl_req_t *req, const char *type)
{
    if (!req->json)
        return true;
    if (!json_object_is_type(req->json, json_type_object)) {
        gl_resp_error(req, 400, "invalid", "body", "the request body must be a JSON object");
        return false;
    }
    json_object_object_foreach(req->json, key, val) {
        (void)val;
        gl_resp_error(req, 400, "invalid", key, "%s credentials are tested at their token endpoint: send no "
                      "'%.32s' (no body at all)", type, key);
        return false;
    }
    return true;
}

static void answer(gl_req_t *req, const row_t *row, const outcome_t *out)
{
    json_object *details = json_object_new_object();
    json_object_object_add(details, "name", json_object_new_string(row->name));
    json_object_object_add(details, "type", json_object_new_string(row->type));
    if (out->url) {
        json_object_object_add(details, "method", json_object_new_string(out->method));
        json_object_object_add(details, "url", json_object_new_string(out->url));
    }
    json_object_object_add(details, "ok", json_object_new_boolean(out->ok));
    json_object_object_add(details, "status", out->status ? json_object_new_int((int)out->status) : NULL);
    int rc = gl_audit(req, NULL, "credential.test", "credential", row->id,
                      gl_arena_strdup(req->arena, json_object_to_json_string_ext(details, JSON_C_TO_STRING_PLAIN)));
    json_object_put(details);
    if (rc != GL_OK)
        return;
    gl_log(GL_LOG_INFO, "credential %s (%s) tested: %s (HTTP status %ld)", row->id, row->type,
           out->ok ? "ok" : "failed", out->status);
    json_object *body = json_object_new_object();
    json_object_object_add(body, "ok", json_object_new_boolean(out->ok));
    json_object_object_add(body, "status", out->status ? json_object_new_int((int)out->status) : NULL);
    json_object_object_add(body, "message", json_object_new_string(out->message));
    const char *text = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    gl_resp_json(req, 200, text, strlen(text));
    json_object_put(body);
}

static void cred_test(gl_req_t *req)
{
    const char *id = gl_req_param(req, "id");
    if (!gl_is_uuid(id)) {
        gl_resp_error(req, 404, "not_found", NULL, "no such credential");
        return;
    }
    row_t row;
    gl_err_t err;
    gl_err_clear(&err);
    int rc = read_row(req, &q_row, id, &row, &err);
    if (rc == GL_NOTFOUND) {
        gl_resp_error(req, 404, "not_found", NULL, "no such credential");
        return;
    }
    if (rc != GL_OK) {
        gl_resp_fail(req, rc, &err);
        return;
    }
    const char *type = row.type, *url = NULL, *method = NULL;
    bool http = http_type(type), client = strcmp(type, "oauth2.client") == 0, code = strcmp(type, "oauth2.code") == 0;
    if (!http && !client && !code) {
        gl_resp_error(req, 400, "not_testable", NULL, "%s credentials cannot be tested: there is no request to "
                      "make with them (the HTTP and OAuth2 types can be)", type);
        return;
    }
    if (http ? !http_body(req, &url, &method) : !oauth2_body(req, type))
        return;

    PGresult *res = NULL;
    if ((rc = gl_db_query(req->db, &q_org_lock, NULL, req->arena, &res, &err)) != GL_OK) {
        gl_resp_fail(req, rc, &err);
        return;
    }
    if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
        gl_resp_header(req, "Retry-After", BUSY_RETRY_AFTER);
        gl_resp_error(req, 429, "busy", NULL, "another credential test of this org is running; one runs at a time");
        return;
    }

    outcome_t out = { .method = method };
    if (open_row(req, &row, out.message, sizeof out.message) == GL_OK) {
        if (http)
            test_http(req, &row, method, url, &out);
        else if (client)
            test_client(req, &row, &out);
        else if (!test_code(req, &row, &out))
            return;
    }
    answer(req, &row, &out);
}

static const gl_route_t routes[] = {
    { "POST", "/api/credentials/:id/test", cred_test, GL_PERM_CREDENTIAL_WRITE, NULL },
};

const gl_resource_t gl_resource_credential_test = { "credential_test", routes, GL_NELEM(routes) };
