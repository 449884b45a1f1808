/*
 * variables.c: /api/variables — the org's variables, which expressions read
 * as $vars (n8n's custom variables).
 *
 * A variable is a key (letters, digits and '_', 1 to 50 characters, unique
 * in the org) and a string value of at most 1000 characters. Variables are
 * configuration, not secrets: every member reads keys and values; editors,
 * admins and owners create, change and delete them; an org keeps at most
 * VARIABLES_MAX. Row level security (sql/018) enforces the org and the
 * roles again. The executor loads the org's variables once per execution.
 */
#include "variables.h"

#include "account.h"
#include "log.h"

#include <stdio.h>
#include <string.h>

#define VARIABLES_MAX 1000
#define KEY_MAX 50
#define VALUE_MAX 1000

#define ITEM_JSON                                                                                  \
    "json_build_object('id', v.id, 'key', v.key, 'value', v.value, 'created_by', v.created_by, " \
    "'created_at', v.created_at, 'updated_at', v.updated_at)"

static const gl_stmt_t q_list = {
    .name = "var_list",
    .sql = "SELECT json_build_object('items', coalesce(json_agg(t.item ORDER BY t.key, t.id), '[]'), "
           "'next_cursor', CASE WHEN count(*) = $2 THEN (array_agg(t.id ORDER BY t.key, t.id))[$2] END) "
           "FROM (SELECT v.id, v.key, " ITEM_JSON " AS item "
           "FROM variables v WHERE v.org_id = current_org_id() "
           "AND ($1::uuid IS NULL OR (v.key, v.id) > (SELECT p.key, p.id FROM variables p WHERE p.id = $1)) "
           "ORDER BY v.key, v.id LIMIT $2) t",
    .nparams = 2,
    .rows = true,
};

static const gl_stmt_t q_get = {
    .name = "var_get",
    .sql = "SELECT " ITEM_JSON " FROM variables v WHERE v.id = $1 AND v.org_id = current_org_id()",
    .nparams = 1,
    .rows = true,
};

/* One insert of an org at a time: an advisory lock on the org for the
 * transaction, taken by a statement of its own before q_insert (in one
 * statement the count would read the snapshot taken before the lock was
 * granted, and two concurrent inserts could both take the last place). */
static const gl_stmt_t q_lock_org = {
    .name = "var_lock_org",
    .sql = "SELECT pg_advisory_xact_lock(hashtextextended('glyphic.variables:' || current_org_id(), 0))",
    .nparams = 0,
    .rows = true,
};

/* Inserts unless the org has VARIABLES_MAX ($4) already: no row back then.
 * Runs after q_lock_org. */
static const gl_stmt_t q_insert = {
    .name = "var_insert",
    .sql = "INSERT INTO variables (id, org_id, key, value, created_by) "
           "SELECT $1, current_org_id(), $2, $3, current_user_id() "
           "WHERE (SELECT count(*) FROM variables c WHERE c.org_id = current_org_id()) < $4::int "
           "RETURNING id",
    .nparams = 4,
    .rows = true,
};

static const gl_stmt_t q_update = {
    .name = "var_update",
    .sql = "UPDATE variables SET key = coalesce($2, key), value = coalesce($3, value), updated_at = now() "
           "WHERE id = $1 AND org_id = current_org_id()",
    .nparams = 3,
    .rows = false,
};

static const gl_stmt_t q_delete = {
    .name = "var_delete",
    .sql = "DELETE FROM variables WHERE id = $1 AND org_id = current_org_id()",
    .nparams = 1,
    .rows = false,
};

static const char *var_id(gl_req_t *req)
{
    const char *id = gl_req_param(req, "id");
    if (!gl_is_uuid(id)) {
        gl_resp_error(req, 404, "not_found", NULL, "no such variable");
        return NULL;
    }
    return id;
}

/* The key: 1 to 50 of [A-Za-z0-9_], as n8n's. */
static const char *var_key(gl_req_t *req, bool required)
{
    const char *key = gl_account_string(req, req->json, "key", 1, KEY_MAX, required);
    if (!key)
        return NULL;
    for (const char *p = key; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_')) {
            gl_resp_error(req, 400, "invalid", "key",
                          "field 'key': only letters, digits and '_' (it is read as $vars.KEY)");
            return NULL;
        }
    return key;
}

/* The value: a string of at most 1000 characters (code points), "" allowed. */
static const char *var_value(gl_req_t *req, bool required)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(req->json, "value", &v)) {
        if (required)
            gl_resp_error(req, 400, "invalid", "value", "field 'value' is required");
        return NULL;
    }
    if (!json_object_is_type(v, json_type_string)) {
        gl_resp_error(req, 400, "invalid", "value", "field 'value' must be a string");
        return NULL;
    }
    const char *s = json_object_get_string(v);
    size_t n = (size_t)json_object_get_string_len(v);
    if (memchr(s, 0, n) || !gl_utf8_valid(s, n)) {
        gl_resp_error(req, 400, "invalid", "value", "field 'value' must be UTF-8 text without NUL");
        return NULL;
    }
    if (gl_utf8_count(s, n) > VALUE_MAX) {
        gl_resp_error(req, 400, "invalid", "value", "field 'value' is longer than %d characters", VALUE_MAX);
        return NULL;
    }
    return s;
}

static void answer_one(gl_req_t *req, int status, const char *id)
{
    const char *params[] = { id };
    gl_resp_query_json(req, status, &q_get, params, "no such variable");
}

static void var_list(gl_req_t *req)
{
    const char *cursor = gl_req_query(req, "cursor"), *limit = gl_req_query(req, "limit");
    int64_t n = 100;
    if (limit && gl_parse_i64(limit, 1, 1000, &n) != GL_OK) {
        gl_resp_error(req, 400, "invalid", "limit", "limit must be an integer from 1 to 1000");
        return;
    }
    if (cursor && !gl_is_uuid(cursor)) {
        gl_resp_error(req, 400, "invalid", "cursor", "cursor must be the next_cursor of a previous page");
        return;
    }
    char ntext[16];
    snprintf(ntext, sizeof ntext, "%lld", (long long)n);
    const char *params[] = { cursor, ntext };
    gl_resp_query_json(req, 200, &q_list, params, "no variables");
}

static void var_get(gl_req_t *req)
{
    const char *id = var_id(req);
    if (id)
        answer_one(req, 200, id);
}

static int audit_key(gl_req_t *req, const char *action, const char *id, const char *key)
{
    json_object *details = json_object_new_object();
    json_object_object_add(details, "key", json_object_new_string(key));
    int rc = gl_audit(req, NULL, action, "variable", id,
                      gl_arena_strdup(req->arena, json_object_to_json_string_ext(details, JSON_C_TO_STRING_PLAIN)));
    json_object_put(details);
    return rc;
}

static void var_create(gl_req_t *req)
{
    static const char *const allowed[] = { "key", "value", NULL };
    if (!gl_account_fields(req, allowed))
        return;
    const char *key = var_key(req, true);
    if (!key)
        return;
    const char *value = var_value(req, true);
    if (!value)
        return;
    char id[GL_UUID_LEN + 1], max[16];
    gl_uuid_v4(id);
    snprintf(max, sizeof max, "%d", VARIABLES_MAX);
    const char *params[] = { id, key, value, max };
    gl_err_t err;
    gl_err_clear(&err);
    PGresult *res = NULL;
    int rc = gl_db_query(req->db, &q_lock_org, NULL, req->arena, &res, &err);
    if (rc == GL_OK)
        rc = gl_db_query(req->db, &q_insert, params, req->arena, &res, &err);
    if (rc == GL_OK && PQntuples(res) == 0) {
        gl_resp_error(req, 403, "limit_reached", NULL, "this org has %d variables, as many as it may keep; delete one",
                      VARIABLES_MAX);
        return;
    }
    if (rc == GL_CONFLICT) {
        gl_resp_error(req, 409, "key_taken", "key", "this org already has a variable '%.50s'", key);
        return;
    }
    if (rc != GL_OK) {
        gl_resp_fail(req, rc, &err);
        return;
    }
    if (audit_key(req, "variable.create", id, key) != GL_OK)
        return;
    char loc[80];
    snprintf(loc, sizeof loc, "/api/variables/%s", id);
    gl_resp_header(req, "Location", loc);
    answer_one(req, 201, id);
}

static void var_patch(gl_req_t *req)
{
    static const char *const allowed[] = { "key", "value", NULL };
    const char *id = var_id(req);
    if (!id || !gl_account_fields(req, allowed))
        return;
    const char *key = NULL, *value = NULL;
    if (json_object_object_get_ex(req->json, "key", NULL) && !(key = var_key(req, true)))
        return;
    if (json_object_object_get_ex(req->json, "value", NULL) && !(value = var_value(req, true)))
        return;
    const char *params[] = { id, key, value };
    gl_err_t err;
    gl_err_clear(&err);
    PGresult *res = NULL;
    int rc = gl_db_query(req->db, &q_update, params, req->arena, &res, &err);
    if (rc == GL_CONFLICT) {
        gl_resp_error(req, 409, "key_taken", "key", "this org already has a variable '%.50s'", key ? key : "");
        return;
    }
    if (rc != GL_OK) {
        gl_resp_fail(req, rc, &err);
        return;
    }
    if (strcmp(PQcmdTuples(res), "1") != 0) {
        gl_resp_error(req, 404, "not_found", NULL, "no such variable");
        return;
    }
    if (gl_audit(req, NULL, "variable.update", "variable", id, NULL) != GL_OK)
        return;
    answer_one(req, 200, id);
}

static void var_delete(gl_req_t *req)
{
    const char *id = var_id(req);
    if (!id)
        return;
    const char *params[] = { id };
    if (gl_resp_exec_one(req, &q_delete, params, "no such variable") != GL_OK)
        return;
    if (gl_audit(req, NULL, "variable.delete", "variable", id, NULL) != GL_OK)
        return;
    gl_resp_json(req, 204, "", 0);
}

static const gl_route_t routes[] = {
    { "GET", "/api/variables", var_list, GL_PERM_VARIABLE_READ, NULL },
    { "POST", "/api/variables", var_create, GL_PERM_VARIABLE_WRITE, NULL },
    { "GET", "/api/variables/:id", var_get, GL_PERM_VARIABLE_READ, NULL },
    { "PATCH", "/api/variables/:id", var_patch, GL_PERM_VARIABLE_WRITE, NULL },
    { "DELETE", "/api/variables/:id", var_delete, GL_PERM_VARIABLE_WRITE, NULL },
};

const gl_resource_t gl_resource_variables = { "variables", routes, GL_NELEM(routes) };
