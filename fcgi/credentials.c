/*
 * credentials.c: /api/credentials and /api/credential-types — the org's
 * credentials vault.
 *
 * A credential is named (unique in the org; workflows refer to it by name),
 * typed (the engine's catalogue, gl_engine_cred_type_find), with plain
 * `fields` and sealed `secrets`. This file seals (core/vault.c: each secret
 * field on its own, bound to org, credential id, key id and field name) and
 * never opens: no answer holds a secret value or its ciphertext, only the
 * names of the secret fields that are set (`secrets_set`). Viewers see
 * id, name and type; editors see the rest and create, change and delete.
 * Row level security (sql/014) enforces the org and the roles again.
 *
 * A row keeps one key: an update seals under the row's key_id while the
 * keyring has it (during a rotation both keys are configured), so
 * `glyphic rotate-key`, which locks the row, never meets a row with fields
 * under two keys.
 */
#include "credentials.h"

#include "account.h"
#include "engine.h"
#include "log.h"

#include <stdio.h>
#include <string.h>


static const gl_stmt_t q_list = {
    .name = "cred_list",
    .sql = "SELECT json_build_object('items', coalesce(json_agg(t.item ORDER BY t.name, t.id), '[]'), "
           "'next_cursor', CASE WHEN count(*) = $3 THEN (array_agg(t.id ORDER BY t.name, t.id))[$3] END) "
           "FROM (SELECT c.id, c.name, "
           "CASE WHEN $2 THEN json_build_object('id', c.id, 'name', c.name, 'type', c.type, 'fields', c.fields, "
           "'secrets_set', ARRAY(SELECT jsonb_object_keys(c.secrets) ORDER BY 1), 'status', c.status, "
           "'status_detail', c.status_detail, 'token_expires_at', c.token_expires_at, 'created_by', c.created_by, "
           "'created_at', c.created_at, 'updated_at', c.updated_at) "
           "ELSE json_build_object('id', c.id, 'name', c.name, 'type', c.type) END AS item "
           "FROM credentials c WHERE c.org_id = current_org_id() AND ($4::text IS NULL OR c.type = $4) "
           "AND ($1::uuid IS NULL OR (c.name, c.id) > (SELECT p.name, p.id FROM credentials p WHERE p.id = $1)) "
           "ORDER BY c.name, c.id LIMIT $3) t",
    .nparams = 4,
    .rows = true,
};

static const gl_stmt_t q_get = {
    .name = "cred_get",
    .sql = "SELECT json_build_object('id', c.id, 'name', c.name, 'type', c.type, 'fields', c.fields, "
           "'secrets_set', ARRAY(SELECT jsonb_object_keys(c.secrets) ORDER BY 1), 'status', c.status, "
           "'status_detail', c.status_detail, 'token_expires_at', c.token_expires_at, 'created_by', c.created_by, "
           "'created_at', c.created_at, 'updated_at', c.updated_at) "
           "FROM credentials c WHERE c.id = $1 AND c.org_id = current_org_id()",
    .nparams = 1,
    .rows = true,
};

static const gl_stmt_t q_get_brief = {
    .name = "cred_get_brief",
    .sql = "SELECT json_build_object('id', c.id, 'name', c.name, 'type', c.type) "
           "FROM credentials c WHERE c.id = $1 AND c.org_id = current_org_id()",
    .nparams = 1,
    .rows = true,
};

/* One insert of an org at a time: an advisory lock on the org for the
 * transaction, taken by a statement of its own before q_insert. In one
 * statement the count would read the snapshot taken before the lock was
 * granted, and two concurrent inserts could both take the last place. */
static const gl_stmt_t q_lock_org = {
    .name = "cred_lock_org",
    .sql = "SELECT pg_advisory_xact_lock(hashtextextended('glyphic.credentials:' || current_org_id(), 0))",
    .nparams = 0,
    .rows = true,
};

/* Inserts unless the org is at its limit of stored credentials (sql/016's
 * org_limit_max_credentials, 0: none): no row back then. Runs after
 * q_lock_org. */
static const gl_stmt_t q_insert = {
    .name = "cred_insert",
    .sql = "WITH lim AS (SELECT org_limit_max_credentials(current_org_id()) AS n) "
           "INSERT INTO credentials (id, org_id, name, type, fields, secrets, key_id, created_by) "
           "SELECT $1, current_org_id(), $2, $3, $4::jsonb, $5::jsonb, $6, current_user_id() FROM lim "
           "WHERE lim.n = 0 OR (SELECT count(*) FROM credentials c WHERE c.org_id = current_org_id()) < lim.n "
           "RETURNING (SELECT n FROM lim)",
    .nparams = 6,
    .rows = true,
};

/* the row to change, locked: a rotation or a token refresh waits (or is
 * waited for) */
static const gl_stmt_t q_lock = {
    .name = "cred_lock",
    .sql = "SELECT c.type, c.key_id, c.name, ARRAY(SELECT jsonb_object_keys(c.secrets) ORDER BY 1)::text "
           "FROM credentials c WHERE c.id = $1 AND c.org_id = current_org_id() FOR UPDATE",
    .nparams = 1,
    .rows = true,
};

static const gl_stmt_t q_update = {
    .name = "cred_update",
    .sql = "UPDATE credentials SET name = coalesce($2, name), fields = coalesce($3::jsonb, fields), "
           "secrets = (secrets - $4::text[]) || $5::jsonb, key_id = $6, updated_at = now() "
           "WHERE id = $1 AND key_id IS NOT DISTINCT FROM $7",
    .nparams = 7,
    .rows = false,
};

static const gl_stmt_t q_used_by = {
    .name = "cred_used_by",
    .sql = "SELECT coalesce(json_agg(json_build_object('id', u.workflow_id, 'name', u.name)), '[]'), count(*) "
           "FROM cred_used_by($1) u",
    .nparams = 1,
    .rows = true,
};

static const gl_stmt_t q_delete = {
    .name = "cred_delete",
    .sql = "DELETE FROM credentials WHERE id = $1 AND org_id = current_org_id()",
    .nparams = 1,
    .rows = false,
};

static bool is_editor(const gl_req_t *req)
{
    return req->auth.role >= GL_ROLE_EDITOR;
}

static void types_get(gl_req_t *req)
{
    gl_buf_t b;
    gl_buf_init(&b, 1 << 20);
    if (gl_engine_cred_types_json(&b) != GL_OK) {
        gl_buf_free(&b);
        gl_resp_error(req, 500, "internal", NULL, "the catalogue does not fit");
        return;
    }
    char *body = gl_arena_strdup(req->arena, b.data);
    gl_buf_free(&b);
    gl_resp_json(req, 200, body, strlen(body));
}

static void cred_list(gl_req_t *req)
{
    const char *cursor = gl_req_query(req, "cursor"), *limit = gl_req_query(req, "limit");
    const char *type = gl_req_query(req, "type");
    int64_t n = 100;
    if (limit && gl_parse_i64(limit, 1, 500, &n) != GL_OK) {
        gl_resp_error(req, 400, "invalid", "limit", "limit must be an integer from 1 to 500");
        return;
    }
    if (cursor && !gl_is_uuid(cursor)) {
        gl_resp_error(req, 400, "invalid", "cursor", "cursor must be the next_cursor of a previous page");
        return;
    }
    if (type && !gl_engine_cred_type_find(type)) {
        gl_resp_error(req, 400, "invalid", "type", "no credential type '%.64s' (see /api/credential-types)", type);
        return;
    }
    char ntext[16];
    snprintf(ntext, sizeof ntext, "%lld", (long long)n);
    const char *params[] = { cursor, is_editor(req) ? "true" : "false", ntext, type };
    gl_resp_query_json(req, 200, &q_list, params, "no credentials");
}

static const char *cred_id(gl_req_t *req)
{
    const char *id = gl_req_param(req, "id");
    if (!gl_is_uuid(id)) {
        gl_resp_error(req, 404, "not_found", NULL, "no such credential");
        return NULL;
    }
    return id;
}

static void cred_get(gl_req_t *req)
{
    const char *id = cred_id(req);
    if (!id)
        return;
    const char *params[] = { id };
    gl_resp_query_json(req, 200, is_editor(req) ? &q_get : &q_get_brief, params, "no such credential");
}

/* A name: 1 to 100 bytes of printable text (workflows refer to it, and a
 * node's credential parameter holds at most 100 bytes: validate.c). */
static const char *cred_name(gl_req_t *req, bool required)
{
    const char *name = gl_account_string(req, req->json, "name", 1, 100, required);
    if (!name)
        return NULL;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p == 0x7f) {
            gl_resp_error(req, 400, "invalid", "name", "field 'name': no control characters");
            return NULL;
        }
    if (name[0] == ' ' || name[strlen(name) - 1] == ' ') {
        gl_resp_error(req, 400, "invalid", "name", "field 'name': no leading or trailing spaces");
        return NULL;
    }
    return name;
}

/* Seals every string of secrets (an object; nulls are skipped) under key_id
 * into a JSON object text in *out. */
static int seal_all(gl_req_t *req, const char *id, const char *key_id, json_object *secrets, const char **out)
{
    json_object *sealed = json_object_new_object();
    int rc = GL_OK;
    gl_err_t err;
    gl_err_clear(&err);
    if (secrets) {
        json_object_object_foreach(secrets, field, val) {
            if (!val)
                continue;
            gl_vault_ad_t ad = { req->auth.org_id, id, field };
            char *text = NULL;
            rc = gl_vault_seal(req->vault, key_id, &ad, json_object_get_string(val),
                               (size_t)json_object_get_string_len(val), req->arena, &text, &err);
            if (rc != GL_OK)
                break;
            json_object_object_add(sealed, field, json_object_new_string(text));
        }
    }
    if (rc == GL_OK)
        *out = gl_arena_strdup(req->arena, json_object_to_json_string_ext(sealed, JSON_C_TO_STRING_PLAIN));
    else {
        gl_log(GL_LOG_ERROR, "credential %s: cannot seal: %s", id, err.msg);
        gl_resp_error(req, 500, "internal", NULL, "the secrets cannot be sealed");
    }
    json_object_put(sealed);
    return rc;
}

/* The optional `fields` and `secrets` objects of the body (NULL if absent). */
static bool parts(gl_req_t *req, json_object **fields, json_object **secrets)
{
    *fields = *secrets = NULL;
    json_object_object_get_ex(req->json, "fields", fields);
    json_object_object_get_ex(req->json, "secrets", secrets);
    if (json_object_object_get_ex(req->json, "fields", NULL) && !*fields) {
        gl_resp_error(req, 400, "invalid", "fields", "'fields' must be an object of strings");
        return false;
    }
    if (json_object_object_get_ex(req->json, "secrets", NULL) && !*secrets) {
        gl_resp_error(req, 400, "invalid", "secrets", "'secrets' must be an object of strings");
        return false;
    }
    return true;
}

static void answer_one(gl_req_t *req, int status, const char *id)
{
    const char *params[] = { id };
    gl_resp_query_json(req, status, &q_get, params, "no such credential");
}

static void cred_create(gl_req_t *req)
{
    static const char *const allowed[] = { "name", "type", "fields", "secrets", NULL };
    if (!gl_account_fields(req, allowed))
        return;
    const char *name = cred_name(req, true);
    if (!name)
        return;
    const char *type = gl_account_string(req, req->json, "type", 1, 64, true);
    if (!type)
        return;
    const gl_cred_type_t *t = gl_engine_cred_type_find(type);
    if (!t) {
        gl_resp_error(req, 400, "invalid", "type", "no credential type '%.64s' (see /api/credential-types)", type);
        return;
    }
    json_object *fields = NULL, *secrets = NULL;
    if (!parts(req, &fields, &secrets))
        return;
    gl_err_t err;
    gl_err_clear(&err);
    if (gl_engine_cred_check(t, fields, secrets, true, NULL, &err) != GL_OK) {
        gl_resp_error(req, 400, "invalid", err.field, "%s", err.msg);
        return;
    }
    char id[GL_UUID_LEN + 1];
    gl_uuid_v4(id);
    const char *sealed = NULL;
    if (seal_all(req, id, NULL, secrets, &sealed) != GL_OK)
        return;
    const char *params[] = { id, name, type, fields ? json_object_to_json_string(fields) : "{}", sealed,
                             gl_vault_key_id(req->vault) };
    PGresult *res = NULL;
    int rc = gl_db_query(req->db, &q_lock_org, NULL, req->arena, &res, &err);
    if (rc == GL_OK)
        rc = gl_db_query(req->db, &q_insert, params, req->arena, &res, &err);
    if (rc == GL_OK && PQntuples(res) == 0) {
        gl_resp_error(req, 403, "limit_reached", NULL,
                      "this org stores as many credentials as its limit allows (see GET /api/queue/stats); delete "
                      "one or ask the operator to raise limits.org_max_credentials");
        return;
    }
    if (rc == GL_CONFLICT) {
        gl_resp_error(req, 409, "name_taken", "name", "a credential of this org is already called '%.200s'", name);
        return;
    }
    if (rc != GL_OK) {
        gl_resp_fail(req, rc, &err);
        return;
    }
    json_object *details = json_object_new_object();
    json_object_object_add(details, "name", json_object_new_string(name));
    json_object_object_add(details, "type", json_object_new_string(type));
    rc = gl_audit(req, NULL, "credential.create", "credential", id,
                  gl_arena_strdup(req->arena, json_object_to_json_string_ext(details, JSON_C_TO_STRING_PLAIN)));
    json_object_put(details);
    if (rc != GL_OK)
        return;
    char loc[80];
    snprintf(loc, sizeof loc, "/api/credentials/%s", id);
    gl_resp_header(req, "Location", loc);
    answer_one(req, 201, id);
}

/* Answers 409 credential_in_use with the workflows that use `name` and
 * returns false, or returns true when none does. */
static bool unused(gl_req_t *req, const char *name, const char *doing)
{
    const char *params[] = { name };
    gl_err_t err;
    gl_err_clear(&err);
    PGresult *res = NULL;
    int rc = gl_db_query(req->db, &q_used_by, params, req->arena, &res, &err);
    if (rc != GL_OK) {
        gl_resp_fail(req, rc, &err);
        return false;
    }
    if (gl_db_int(res, 0, 1) == 0)
        return true;
    char *body = gl_arena_printf(req->arena,
                                 "{\"error\":{\"code\":\"credential_in_use\",\"message\":\"%lld workflow(s) use this "
                                 "credential by name; %s anyway with ?force=true\",\"request_id\":\"%s\","
                                 "\"workflows\":%s}}",
                                 (long long)gl_db_int(res, 0, 1), doing, req->request_id ? req->request_id : "",
                                 PQgetvalue(res, 0, 0));
    gl_resp_json(req, 409, body, strlen(body));
    return false;
}

static bool forced(gl_req_t *req)
{
    const char *force = gl_req_query(req, "force");
    return force && strcmp(force, "true") == 0;
}

/* Splits "{a,b}" (a text[] as text) into a NULL-terminated list. */
static const char **names_of(gl_req_t *req, const char *arr)
{
    size_t n = 1;
    for (const char *p = arr; *p; p++)
        n += *p == ',';
    const char **out = gl_arena_calloc(req->arena, n + 1, sizeof *out);
    char *s = gl_arena_strdup(req->arena, arr[0] == '{' ? arr + 1 : arr);
    size_t len = strlen(s), i = 0;
    if (len && s[len - 1] == '}')
        s[--len] = '\0';
    for (char *p = s; *p && i < n;) {
        out[i++] = p;
        char *comma = strchr(p, ',');
        if (!comma)
            break;
        *comma = '\0';
        p = comma + 1;
    }
    return out;
}

/* The secret fields a PATCH clears (nulls) as a text[] literal's elements:
 * field names are [a-z0-9_], so "{a,b}" needs no quoting. */
static const char *cleared(gl_req_t *req, json_object *secrets)
{
    gl_buf_t b;
    gl_buf_init(&b, 4096);
    int rc = gl_buf_puts(&b, "{");
    bool first = true;
    if (secrets) {
        json_object_object_foreach(secrets, field, val) {
            if (val)
                continue;
            rc |= gl_buf_puts(&b, first ? "" : ",");
            rc |= gl_buf_puts(&b, field);
            first = false;
        }
    }
    rc |= gl_buf_puts(&b, "}");
    char *out = rc ? NULL : gl_arena_strdup(req->arena, b.data);
    gl_buf_free(&b);
    return out;
}

/* The key the changed secrets are sealed under: the row's own while the
 * keyring has it; else the sealing key, but only when no sealed field of the
 * row stays as it is (a row keeps one key). NULL with 409 set otherwise. */
static const char *key_for(gl_req_t *req, const char *row_key, const char *const *set, json_object *secrets)
{
    if (row_key && gl_vault_has_key(req->vault, row_key))
        return row_key;
    for (int i = 0; set && set[i]; i++)
        if (!secrets || !json_object_object_get_ex(secrets, set[i], NULL)) {
            gl_resp_error(req, 409, "key_unavailable", "secrets",
                          "this credential is sealed under a key this server does not have (see "
                          "secrets.old_key_files); give every secret field again to re-seal it");
            return NULL;
        }
    return gl_vault_key_id(req->vault);
}

static void cred_patch(gl_req_t *req)
{
    static const char *const allowed[] = { "name", "fields", "secrets", NULL };
    const char *id = cred_id(req);
    if (!id || !gl_account_fields(req, allowed))
        return;
    const char *name = NULL;
    if (json_object_object_get_ex(req->json, "name", NULL) && !(name = cred_name(req, true)))
        return;
    json_object *fields = NULL, *secrets = NULL;
    if (!parts(req, &fields, &secrets))
        return;
    const char *params[] = { id };
    gl_err_t err;
    gl_err_clear(&err);
    PGresult *res = NULL;
    int rc = gl_db_query(req->db, &q_lock, params, req->arena, &res, &err);
    if (rc != GL_OK) {
        gl_resp_fail(req, rc, &err);
        return;
    }
    if (PQntuples(res) == 0) {
        gl_resp_error(req, 404, "not_found", NULL, "no such credential");
        return;
    }
    const gl_cred_type_t *t = gl_engine_cred_type_find(PQgetvalue(res, 0, 0));
    const char *row_key = PQgetisnull(res, 0, 1) ? NULL : PQgetvalue(res, 0, 1);
    const char *old_name = PQgetvalue(res, 0, 2);
    const char *const *set = names_of(req, PQgetvalue(res, 0, 3));
    if (!t) {
        gl_resp_error(req, 409, "conflict", "type", "this credential's type is not known to this server");
        return;
    }
    if (gl_engine_cred_check(t, fields, secrets, false, set, &err) != GL_OK) {
        gl_resp_error(req, 400, "invalid", err.field, "%s", err.msg);
        return;
    }
    if (name && strcmp(name, old_name) != 0 && !forced(req) && !unused(req, old_name, "rename it"))
        return;
    const char *key = key_for(req, row_key, set, secrets), *sealed = NULL, *clear = cleared(req, secrets);
    if (!key)
        return;
    if (!clear) {
        gl_resp_error(req, 400, "invalid", "secrets", "too many secret fields");
        return;
    }
    if (seal_all(req, id, key, secrets, &sealed) != GL_OK)
        return;
    const char *up[] = { id, name, fields ? json_object_to_json_string(fields) : NULL, clear, sealed, key, row_key };
    rc = gl_db_query(req->db, &q_update, up, NULL, NULL, &err);
    if (rc == GL_CONFLICT) {
        gl_resp_error(req, 409, "name_taken", "name", "a credential of this org is already called '%.200s'", name);
        return;
    }
    if (rc != GL_OK) {
        gl_resp_fail(req, rc, &err);
        return;
    }
    if (gl_audit(req, NULL, "credential.update", "credential", id, NULL) != GL_OK)
        return;
    answer_one(req, 200, id);
}

static void cred_delete(gl_req_t *req)
{
    const char *id = cred_id(req);
    if (!id)
        return;
    const char *params[] = { id };
    gl_err_t err;
    gl_err_clear(&err);
    PGresult *res = NULL;
    int rc = gl_db_query(req->db, &q_lock, params, req->arena, &res, &err);
    if (rc != GL_OK) {
        gl_resp_fail(req, rc, &err);
        return;
    }
    if (PQntuples(res) == 0) {
        gl_resp_error(req, 404, "not_found", NULL, "no such credential");
        return;
    }
    const char *name = PQgetvalue(res, 0, 2);
    if (!forced(req) && !unused(req, name, "delete it"))
        return;
    if (gl_resp_exec_one(req, &q_delete, params, "no such credential") != GL_OK)
        return;
    json_object *details = json_object_new_object();
    json_object_object_add(details, "name", json_object_new_string(name));
    rc = gl_audit(req, NULL, "credential.delete", "credential", id,
                  gl_arena_strdup(req->arena, json_object_to_json_string_ext(details, JSON_C_TO_STRING_PLAIN)));
    json_object_put(details);
    if (rc != GL_OK)
        return;
    gl_resp_json(req, 204, "", 0);
}

static const gl_route_t routes[] = {
    { "GET", "/api/credential-types", types_get, GL_PERM_CREDENTIAL_READ, NULL },
    { "GET", "/api/credentials", cred_list, GL_PERM_CREDENTIAL_READ, NULL },
    { "POST", "/api/credentials", cred_create, GL_PERM_CREDENTIAL_WRITE, NULL },
    { "GET", "/api/credentials/:id", cred_get, GL_PERM_CREDENTIAL_READ, NULL },
    { "PATCH", "/api/credentials/:id", cred_patch, GL_PERM_CREDENTIAL_WRITE, NULL },
    { "DELETE", "/api/credentials/:id", cred_delete, GL_PERM_CREDENTIAL_WRITE, NULL },
};

const gl_resource_t gl_resource_credentials = { "credentials", routes, GL_NELEM(routes) };
