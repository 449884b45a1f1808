/*
 * keys.c: API keys (/api/keys). A key belongs to one org and the user who
 * made it; its scopes are read, write and admin (cumulative), capped by the
 * maker's role: write needs editor, admin needs admin. The full key
 * (gk_<prefix>_<secret>) is shown once, at creation; the database keeps its
 * SHA-256 and the visible prefix. Members list and revoke their own keys;
 * admins and owners see and revoke every key of the org.
 */
#include "keys.h"

#include "account.h"
#include "crypto.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

static const gl_stmt_t q_list = {
    .name = "keys_list",
    .sql = "SELECT coalesce(json_agg(json_build_object('id', k.id, 'name', k.name, 'prefix', k.prefix,"
           " 'scopes', k.scopes, 'user_id', k.user_id, 'created_at', k.created_at, 'expires_at', k.expires_at,"
           " 'last_used_at', k.last_used_at, 'revoked_at', k.revoked_at) ORDER BY k.created_at DESC), '[]') "
           "FROM api_keys k WHERE k.org_id = current_org_id() AND (k.user_id = current_user_id() OR $1)",
    .nparams = 1,
    .rows = true,
};

static const gl_stmt_t q_create = {
    .name = "keys_create",
    .sql = "INSERT INTO api_keys (org_id, user_id, name, prefix, key_hash, scopes, expires_at) "
           "VALUES (current_org_id(), current_user_id(), $1, $2, $3, $4::text[], "
           "        CASE WHEN $5::int > 0 THEN now() + make_interval(days => $5::int) END) "
           "RETURNING json_build_object('id', id, 'name', name, 'prefix', prefix, 'scopes', scopes,"
           " 'created_at', created_at, 'expires_at', expires_at)::text, id",
    .nparams = 5,
    .rows = true,
};

static const gl_stmt_t q_revoke = {
    .name = "keys_revoke",
    .sql = "UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND org_id = current_org_id() "
           "AND (user_id = current_user_id() OR $2) AND revoked_at IS NULL",
    .nparams = 2,
    .rows = false,
};

static const char *is_admin(gl_req_t *req)
{
    return req->auth.role >= GL_ROLE_ADMIN ? "true" : "false";
}

static void keys_get(gl_req_t *req)
{
    const char *params[] = { is_admin(req) };
    gl_resp_query_json(req, 200, &q_list, params, "no keys");
}

static void keys_post(gl_req_t *req)
{
    static const char *const allowed[] = { "name", "scopes", "expires_in_days", NULL };
    if (!gl_account_fields(req, allowed))
        return;
    const char *name = gl_account_string(req, req->json, "name", 1, GL_NAME_MAX, true);
    if (!name)
        return;
    gl_err_t err;
    gl_err_clear(&err);
    json_object *scopes = NULL;
    if (gl_json_get_array(req->json, "scopes", true, &scopes, &err) != GL_OK) {
        gl_resp_error(req, 400, "invalid", err.field, "%s", err.msg);
        return;
    }
    size_t n = json_object_array_length(scopes);
    if (n == 0 || n > 3) {
        gl_resp_error(req, 400, "invalid", "scopes", "field 'scopes': one to three of read, write, admin");
        return;
    }
    unsigned mask = 0;
    for (size_t i = 0; i < n; i++) {
        json_object *s = json_object_array_get_idx(scopes, i);
        const char *v = json_object_is_type(s, json_type_string) ? json_object_get_string(s) : "";
        unsigned bit = strcmp(v, "read") == 0 ? GL_SCOPE_READ : strcmp(v, "write") == 0 ? GL_SCOPE_WRITE
                     : strcmp(v, "admin") == 0 ? GL_SCOPE_ADMIN : 0;
        if (!bit || (mask & bit)) {
            gl_resp_error(req, 400, "invalid", "scopes", "field 'scopes': each of read, write, admin at most once");
            return;
        }
        mask |= bit;
    }
    if (((mask & GL_SCOPE_WRITE) && req->auth.role < GL_ROLE_EDITOR) ||
        ((mask & GL_SCOPE_ADMIN) && req->auth.role < GL_ROLE_ADMIN)) {
        gl_resp_error(req, 403, "forbidden", "scopes", "your role may not create a key with these scopes");
        return;
    }
    int64_t days = 0;
    int rc = gl_json_get_int(req->json, "expires_in_days", false, 1, 3650, &days, &err);
    if (rc == GL_INVALID) {
        gl_resp_error(req, 400, "invalid", err.field, "%s", err.msg);
        return;
    }

    char prefix[24], secret[GL_TOKEN_LEN + 1], key[80], hash[GL_HASH_PARAM_LEN], arr[32], dtext[16];
    char rnd[16];
    gl_random_text(rnd, sizeof rnd, 6); /* 8 characters */
    snprintf(prefix, sizeof prefix, "gk_%s", rnd);
    gl_token_new(secret);
    snprintf(key, sizeof key, "%s_%s", prefix, secret);
    gl_hash_param(key, strlen(key), hash);
    snprintf(arr, sizeof arr, "{%s%s%s%s%s}", (mask & GL_SCOPE_READ) ? "read" : "",
             (mask & GL_SCOPE_READ) && (mask & (GL_SCOPE_WRITE | GL_SCOPE_ADMIN)) ? "," : "",
             (mask & GL_SCOPE_WRITE) ? "write" : "", (mask & GL_SCOPE_WRITE) && (mask & GL_SCOPE_ADMIN) ? "," : "",
             (mask & GL_SCOPE_ADMIN) ? "admin" : "");
    snprintf(dtext, sizeof dtext, "%lld", (long long)days);
    const char *params[] = { name, prefix, hash, arr, dtext };
    PGresult *res = NULL;
    rc = gl_db_query(req->db, &q_create, params, req->arena, &res, &err);
    sodium_memzero(secret, sizeof secret);
    if (rc != GL_OK) {
        sodium_memzero(key, sizeof key);
        gl_resp_fail(req, rc, &err);
        return;
    }
    char details[64];
    snprintf(details, sizeof details, "{\"prefix\":\"%s\"}", prefix);
    if (gl_audit(req, NULL, "key.create", "api_key", PQgetvalue(res, 0, 1), details) != GL_OK)
        return;
    /* the key itself never goes to the database: splice it into the JSON
     * PostgreSQL rendered (base64url needs no escaping) */
    const char *json = PQgetvalue(res, 0, 0);
    size_t len = (size_t)PQgetlength(res, 0, 0);
    char *body = gl_arena_printf(req->arena, "%.*s, \"key\" : \"%s\"}", (int)(len - 1), json, key);
    sodium_memzero(key, sizeof key);
    gl_resp_json(req, 201, body, strlen(body));
    sodium_memzero(body, strlen(body));
}

static void key_delete(gl_req_t *req)
{
    const char *id = gl_req_param(req, "id");
    if (!gl_is_uuid(id)) {
        gl_resp_error(req, 404, "not_found", NULL, "no such key");
        return;
    }
    const char *params[] = { id, is_admin(req) };
    if (gl_resp_exec_one(req, &q_revoke, params, "no such key") != GL_OK)
        return;
    if (gl_audit(req, NULL, "key.revoke", "api_key", id, NULL) != GL_OK)
        return;
    gl_resp_json(req, 204, "", 0);
}

static const gl_route_t routes[] = {
    { "GET", "/api/keys", keys_get, GL_PERM_KEYS, NULL },
    { "POST", "/api/keys", keys_post, GL_PERM_KEYS, NULL },
    { "DELETE", "/api/keys/:id", key_delete, GL_PERM_KEYS, NULL },
};

const gl_resource_t gl_resource_keys = { "keys", routes, GL_NELEM(routes) };
