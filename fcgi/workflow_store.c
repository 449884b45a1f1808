/* workflow_store.c: shared pieces of the workflow resources (see the header). */
#include "workflow_store.h"

#include "log.h"
#include "engine.h"
#include "session.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const gl_stmt_t q_version_insert = {
    .name = "wf_version_insert",
    .sql = "INSERT INTO workflow_versions (workflow_id, version, org_id, definition, author_id, message, restored_from, "
           "error_trigger, generated_params, credentials) VALUES ($1, $2, $3, $4::jsonb, current_user_id(), $5, $6, $7, "
           "$8::jsonb, ARRAY(SELECT jsonb_array_elements_text($9::jsonb)))",
    .nparams = 9,
    .rows = false,
};

/* A separate statement: it sees the version a concurrent save committed
 * while the caller's UPDATE waited for the workflow row. */
static const gl_stmt_t q_version_def = {
    .name = "wf_version_def",
    .sql = "SELECT definition::text FROM workflow_versions WHERE workflow_id = $1 AND version = $2::int",
    .nparams = 2,
    .rows = true,
};

/* the caller's UPDATE of the workflow row already holds its lock; $3: the
 * trigger rows gl_engine_triggers computed from the version (sql/010) */
static const gl_stmt_t q_sync = {
    .name = "wf_sync",
    .sql = "WITH s AS (SELECT wf_sync_triggers($1, $2::int, $3::jsonb)) "
           "UPDATE workflows SET active_version = $2::int WHERE id = $1 AND (SELECT true FROM s)",
    .nparams = 3,
    .rows = false,
};

static const gl_stmt_t q_state = {
    .name = "wf_state",
    .sql = "SELECT current_version, deleted_at IS NOT NULL FROM workflows WHERE id = $1",
    .nparams = 1,
    .rows = true,
};

/* The current version by its whole key: as a plain join on (workflow_id,
 * version) the generic plan found the versions by workflow_id alone and
 * checked row level security on every one of them before keeping the
 * current (slower with every save); the fenced lateral subquery looks the
 * one row up. The same form wherever a workflow's current definition is
 * read (workflows.c, workflow_io.c, the executor's workflow_job.c). */
static const gl_stmt_t q_get = {
    .name = "wf_get",
    .sql = "SELECT json_build_object('id', w.id, 'name', w.name, 'tags', w.tags, 'active', w.active,"
           " 'active_version', w.active_version, 'version', w.current_version, 'created_by', w.created_by,"
           " 'created_at', w.created_at, 'updated_at', w.updated_at, 'deleted_at', w.deleted_at,"
           " 'definition', v.definition)::text, w.current_version "
           "FROM workflows w CROSS JOIN LATERAL (SELECT v.definition FROM workflow_versions v "
           "WHERE v.workflow_id = w.id AND v.version = w.current_version OFFSET 0) v "
           "WHERE w.id = $1",
    .nparams = 1,
    .rows = true,
    .readonly = true,
};

bool gl_wf_get_ahead(gl_req_t *req, gl_ahead_t *a)
{
    return gl_ahead_by_id(req, &q_get, a);
}

/*
 * A save in one statement (PUT /api/workflows/:id): bumps the workflow's
 * version if it is still base_version ($2), appends the new version, and
 * renders the workflow as q_get does — the definition as stored (the insert
 * trigger of sql/012 may have filled generated parameters), taken from the
 * inserted row instead of being read back. No row: the bump matched
 * nothing (gl_wf_explain_miss says why). The version's RLS check
 * (wf_can_edit) sees the workflow row as it was before the bump, which
 * changes neither its org nor its author.
 */
static const gl_stmt_t q_save = {
    .name = "wf_save",
    .sql = "WITH w AS (UPDATE workflows SET current_version = current_version + 1, updated_at = now() "
           "WHERE id = $1 AND deleted_at IS NULL AND current_version = $2::int "
           "RETURNING id, org_id, name, tags, active, active_version, current_version, created_by, created_at, "
           "updated_at, deleted_at), "
           "v AS (INSERT INTO workflow_versions (workflow_id, version, org_id, definition, author_id, message, "
           "restored_from, error_trigger, generated_params, credentials) "
           "SELECT w.id, w.current_version, w.org_id, $3::jsonb, current_user_id(), $4, NULL, $5, $6::jsonb, "
           "ARRAY(SELECT jsonb_array_elements_text($7::jsonb)) FROM w RETURNING definition) "
           "SELECT json_build_object('id', w.id, 'name', w.name, 'tags', w.tags, 'active', w.active,"
           " 'active_version', w.active_version, 'version', w.current_version, 'created_by', w.created_by,"
           " 'created_at', w.created_at, 'updated_at', w.updated_at, 'deleted_at', w.deleted_at,"
           " 'definition', v.definition)::text, w.current_version, w.active FROM w, v",
    .nparams = 7,
    .rows = true,
};

/*
 * The same save for a version with no parameters to generate (every
 * webhook path set: the usual case), where no trigger changes the stored
 * definition: the answer renders it from the parameter, parsed once, and
 * the version insert has no RETURNING, which made PostgreSQL check the
 * version's read policy (a look-up of the workflow under its own policy,
 * four context reader calls) on every save.
 */
#define SAVE_PLAIN_SQL(only)                                                                                \
    "WITH d AS MATERIALIZED (SELECT $3::jsonb AS definition), "                                            \
    "w AS (UPDATE workflows SET current_version = current_version + 1, updated_at = now() "              \
    "WHERE id = $1 AND deleted_at IS NULL AND current_version = $2::int" only " "                        \
    "RETURNING id, org_id, name, tags, active, active_version, current_version, created_by, created_at, " \
    "updated_at, deleted_at), "                                                                            \
    "v AS (INSERT INTO workflow_versions (workflow_id, version, org_id, definition, author_id, message, "  \
    "restored_from, error_trigger, generated_params, credentials) "                                       \
    "SELECT w.id, w.current_version, w.org_id, d.definition, current_user_id(), $4, NULL, $5, $6::jsonb, " \
    "ARRAY(SELECT jsonb_array_elements_text($7::jsonb)) FROM w, d) "                                     \
    "SELECT json_build_object('id', w.id, 'name', w.name, 'tags', w.tags, 'active', w.active,"           \
    " 'active_version', w.active_version, 'version', w.current_version, 'created_by', w.created_by,"     \
    " 'created_at', w.created_at, 'updated_at', w.updated_at, 'deleted_at', w.deleted_at)::text,"         \
    " w.current_version, w.active FROM w"

static const gl_stmt_t q_save_plain = {
    .name = "wf_save_plain",
    .sql = SAVE_PLAIN_SQL(""),
    .nparams = 7,
    .rows = true,
};

/* The same for a workflow that is not active: nothing but the save is
 * left to do, so it rides with the COMMIT (gl_db_query_commit). */
static const gl_stmt_t q_save_inactive = {
    .name = "wf_save_inactive",
    .sql = SAVE_PLAIN_SQL(" AND NOT active"),
    .nparams = 7,
    .rows = true,
};

int gl_wf_definition(gl_req_t *req, json_object *def, const char **text)
{
    gl_problems_t *p = gl_arena_alloc(req->arena, sizeof *p);
    if (!def) {
        gl_resp_error(req, 400, "invalid", "definition", "field 'definition' is required");
        return GL_INVALID;
    }
    if (gl_workflow_validate(def, NULL, p) == GL_OK) {
        /* the body's own text of it when def is the body's "definition"
         * (checked JSON, stored as jsonb by the same rules as json-c's
         * reading) and no member name repeats in it (a save's answer shows
         * the text, and a reader that keeps the first of a repeated name
         * would read another value than the one stored); else json-c
         * renders it. Rendering 10 KB took a tenth of a 50-node save's
         * time in glyphic-fcgi. */
        const char *at;
        size_t n, members;
        if (req->json && req->body && def == json_object_object_get(req->json, "definition") &&
            gl_json_member_text(req->body, req->body_len, "definition", req->cfg->http_max_json_depth, &at, &n,
                                &members) &&
            members == gl_json_members(def))
            *text = gl_arena_strndup(req->arena, at, n);
        else
            *text = gl_arena_strdup(req->arena, json_object_to_json_string_ext(def, JSON_C_TO_STRING_PLAIN));
        return GL_OK;
    }
    gl_buf_t *b = req->out;
    gl_buf_reset(b, SIZE_MAX);
    int rc = gl_buf_printf(b, "{\"error\":{\"code\":\"invalid_definition\",\"message\":\"the definition has %d problem%s%s\","
                              "\"field\":\"definition\",\"request_id\":\"%s\",\"problems\":",
                           p->n, p->n == 1 ? "" : "s", p->truncated ? " (first ones listed)" : "", req->request_id);
    rc |= gl_problems_json(p, b);
    rc |= gl_buf_puts(b, "}}");
    req->status = rc == GL_OK ? 400 : 500;
    return GL_INVALID;
}

int gl_wf_version_fields(gl_req_t *req, json_object *def, const char *text, gl_wf_version_t *out)
{
    out->definition = text;
    /* where the version starts when it runs as an error workflow (sql/010),
     * and the parameters the database generates (sql/012) */
    out->error_trigger = gl_engine_trigger_node(def, "error");
    json_object *generated = gl_engine_generated_params(def);
    out->generated = gl_arena_strdup(req->arena, json_object_to_json_string_ext(generated, JSON_C_TO_STRING_PLAIN));
    json_object_put(generated);
    /* the credentials it names, so deleting one can say who uses it (sql/014) */
    gl_buf_t creds;
    gl_buf_init(&creds, 1 << 20);
    if (gl_engine_credential_names(def, &creds) != GL_OK) {
        gl_buf_free(&creds);
        gl_resp_error(req, 400, "invalid", "definition", "the definition names too many credentials");
        return GL_INVALID;
    }
    out->credentials = gl_arena_strdup(req->arena, creds.data);
    gl_buf_free(&creds);
    return GL_OK;
}

int gl_wf_append_version(gl_req_t *req, const char *id, const char *version, const char *org_id,
                         const char *definition, const char *message, const char *restored_from,
                         bool active)
{
    gl_err_t err;
    gl_err_clear(&err);
    json_object *def = NULL;
    int rc = gl_json_parse(definition, strlen(definition), 1000, &def, &err);
    if (rc != GL_OK) {
        /* the text of a validated definition: should not happen */
        gl_log(GL_LOG_ERROR, "workflow %s version %s: definition does not parse: %s", id, version, err.msg);
        gl_resp_error(req, 500, "internal", NULL, "the definition cannot be stored");
        return GL_ERR;
    }
    /* error_trigger is borrowed from def: def lives until the insert ran */
    gl_wf_version_t v;
    rc = gl_wf_version_fields(req, def, definition, &v);
    if (rc == GL_OK) {
        const char *params[] = { id, version, org_id, v.definition, message, restored_from, v.error_trigger,
                                 v.generated, v.credentials };
        rc = gl_db_query(req->db, &q_version_insert, params, NULL, NULL, &err);
        if (rc != GL_OK)
            gl_resp_fail(req, rc, &err);
    }
    json_object_put(def);
    if (rc != GL_OK)
        return rc;
    return active ? gl_wf_sync_triggers(req, id, version, false) : GL_OK;
}

/* 200 with the saved workflow: a save's row (its JSON, its version) and,
 * when the row has no definition, the definition's text as it was sent.
 * That is the value stored (nothing was generated in it); only the order
 * of its members and the spelling of its numbers and escapes may differ
 * from the stored jsonb's rendering, which GET gives. PostgreSQL
 * rendering 10 KB of jsonb again was a twentieth of a 50-node save. */
static int answer_saved(gl_req_t *req, PGresult *res, const char *definition)
{
    char etag[24];
    snprintf(etag, sizeof etag, "\"%s\"", PQgetvalue(res, 0, 1));
    gl_resp_header(req, "ETag", etag);
    const char *row = PQgetvalue(res, 0, 0);
    size_t len = (size_t)PQgetlength(res, 0, 0);
    if (!definition || len < 2 || row[len - 1] != '}') {
        gl_resp_json(req, 200, row, len);
        return GL_OK;
    }
    gl_resp_json(req, 200, row, len - 1); /* without its closing brace */
    if (req->status == 200 && (gl_buf_puts(req->out, ", \"definition\" : ") != GL_OK ||
                               gl_buf_puts(req->out, definition) != GL_OK || gl_buf_puts(req->out, "}") != GL_OK))
        gl_resp_error(req, 500, "internal", NULL, "response too large");
    return GL_OK;
}

/*
 * Workflows this worker last saw active: their saves skip the quick path
 * (which would match nothing, then authenticate again). A hint only: a
 * wrong one costs a round trip, never a wrong answer. Direct-mapped by the
 * id's hash; each worker is one process with one thread.
 */
#define ACTIVE_SEEN_SLOTS 64
static char active_seen[ACTIVE_SEEN_SLOTS][40];

static char *active_slot(const char *id)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const char *c = id; *c; c++)
        h = (h ^ (unsigned char)*c) * 16777619u;
    return active_seen[h % ACTIVE_SEEN_SLOTS];
}

static bool seen_active(const char *id)
{
    return strcmp(active_slot(id), id) == 0;
}

static void note_active(const char *id, bool active)
{
    char *slot = active_slot(id);
    if (active && strlen(id) < sizeof active_seen[0])
        strcpy(slot, id);
    else if (!active && strcmp(slot, id) == 0)
        slot[0] = '\0';
}

int gl_wf_save(gl_req_t *req, const char *id, const char *base_version, const gl_wf_version_t *v,
               const char *message)
{
    gl_err_t err;
    gl_err_clear(&err);
    PGresult *res = NULL;
    const char *params[] = { id, base_version, v->definition, message, v->error_trigger, v->generated,
                             v->credentials };
    bool plain = v->generated && strcmp(v->generated, "[]") == 0;
    int rc;
    /* The usual case, in one round trip with the COMMIT: the save is the
     * request's last statement unless the workflow is active, and its
     * answer (the definition and a little more) must fit the response
     * before it is committed. */
    if (plain && !seen_active(id) && strlen(v->definition) + (64u << 10) < req->out->max) {
        rc = gl_db_query_commit(req->db, &q_save_inactive, params, req->arena, &res, &err);
        if (rc != GL_OK) {
            gl_resp_fail(req, rc, &err);
            return rc;
        }
        if (PQntuples(res) == 1)
            return answer_saved(req, res, v->definition);
        /* It matched nothing, and wrote nothing: the workflow is active,
         * or gone, deleted, or saved by someone else meanwhile. The save
         * below tells which, in a transaction of its own. */
        if ((rc = gl_session_again(req)) != GL_OK)
            return rc;
    }
    rc = gl_db_query(req->db, plain ? &q_save_plain : &q_save, params, req->arena, &res, &err);
    if (rc != GL_OK) {
        gl_resp_fail(req, rc, &err);
        return rc;
    }
    if (PQntuples(res) == 0) {
        gl_wf_explain_miss(req, id, base_version);
        return GL_CONFLICT;
    }
    note_active(id, strcmp(PQgetvalue(res, 0, 2), "t") == 0);
    if (strcmp(PQgetvalue(res, 0, 2), "t") == 0) {
        /* an active workflow's trigger rows move to the new version, and
         * that changes its active_version: render it again afterwards */
        rc = gl_wf_sync_triggers(req, id, PQgetvalue(res, 0, 1), false);
        return rc == GL_OK ? gl_wf_send(req, 200, id) : rc;
    }
    return answer_saved(req, res, plain ? v->definition : NULL);
}

/* The trigger rows of version `version` of workflow id as stored (with the
 * webhook paths the database generated): *rows is JSON text in the arena,
 * *count its length; a version that is not there has none. Sets an error
 * response on failure. */
static int trigger_rows(gl_req_t *req, const char *id, const char *version, const char **rows, size_t *count)
{
    gl_err_t err;
    gl_err_clear(&err);
    PGresult *res = NULL;
    const char *params[] = { id, version };
    int rc = gl_db_query(req->db, &q_version_def, params, req->arena, &res, &err);
    if (rc != GL_OK) {
        gl_resp_fail(req, rc, &err);
        return rc;
    }
    json_object *def = NULL;
    if (PQntuples(res) == 1 &&
        gl_json_parse(PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0), 1000, &def, &err) != GL_OK) {
        gl_log(GL_LOG_ERROR, "workflow %s version %s: stored definition does not parse: %s", id, version, err.msg);
        gl_resp_error(req, 500, "internal", NULL, "the stored definition cannot be read");
        return GL_ERR;
    }
    json_object *list = gl_engine_triggers(def);
    *count = json_object_array_length(list);
    *rows = gl_arena_strdup(req->arena, json_object_to_json_string_ext(list, JSON_C_TO_STRING_PLAIN));
    json_object_put(list);
    json_object_put(def);
    return GL_OK;
}

int gl_wf_sync_triggers(gl_req_t *req, const char *id, const char *version, bool need_trigger)
{
    const char *rows = NULL;
    size_t count = 0;
    int rc = trigger_rows(req, id, version, &rows, &count);
    if (rc != GL_OK)
        return rc;
    if (need_trigger && count == 0) {
        gl_resp_error(req, 400, "no_trigger", "definition",
                      "only a workflow with an enabled webhook, schedule or error trigger can be activated");
        return GL_INVALID;
    }
    gl_err_t err;
    gl_err_clear(&err);
    const char *params[] = { id, version, rows };
    rc = gl_db_query(req->db, &q_sync, params, NULL, NULL, &err);
    if (rc == GL_CONFLICT) {
        /* One answer whether another workflow serves the path or another
         * org holds it (sql/009): nothing beyond what calling it tells. */
        gl_resp_error(req, 409, "webhook_path_taken", "definition",
                      "a webhook path of this workflow is not available; choose another, "
                      "or leave the path out to get a generated one");
        return rc;
    }
    if (rc != GL_OK)
        gl_resp_fail(req, rc, &err);
    return rc;
}

void gl_wf_explain_miss(gl_req_t *req, const char *id, const char *base_version)
{
    gl_err_t err;
    gl_err_clear(&err);
    PGresult *res = NULL;
    const char *params[] = { id };
    int rc = gl_db_query(req->db, &q_state, params, req->arena, &res, &err);
    if (rc != GL_OK) {
        gl_resp_fail(req, rc, &err);
        return;
    }
    if (PQntuples(res) == 0) {
        gl_resp_error(req, 404, "not_found", NULL, "no such workflow");
        return;
    }
    if (strcmp(PQgetvalue(res, 0, 1), "t") == 0) {
        gl_resp_error(req, 409, "deleted", NULL, "the workflow is deleted; restore it first");
        return;
    }
    if (base_version && strcmp(PQgetvalue(res, 0, 0), base_version) != 0) {
        /* stale base: answer with the current workflow so the editor can offer a choice */
        const char *current = gl_arena_strdup(req->arena, PQgetvalue(res, 0, 0));
        PGresult *cur = NULL;
        if (gl_db_query(req->db, &q_get, params, req->arena, &cur, &err) != GL_OK || PQntuples(cur) != 1) {
            gl_resp_error(req, 409, "version_conflict", "base_version",
                          "the workflow changed since version %s; it is at version %s", base_version, current);
            return;
        }
        gl_buf_t *b = req->out;
        gl_buf_reset(b, SIZE_MAX);
        int brc = gl_buf_printf(b, "{\"error\":{\"code\":\"version_conflict\",\"message\":\"the workflow changed since "
                                   "version %s; it is at version %s\",\"field\":\"base_version\",\"request_id\":\"%s\","
                                   "\"current_version\":%s,\"current\":",
                                base_version, current, req->request_id, current);
        brc |= gl_buf_append(b, PQgetvalue(cur, 0, 0), (size_t)PQgetlength(cur, 0, 0));
        brc |= gl_buf_puts(b, "}}");
        req->status = brc == GL_OK ? 409 : 500;
        return;
    }
    gl_resp_error(req, 403, "forbidden", NULL, "you may view this workflow but not change it");
}

void gl_wf_explain_purge_miss(gl_req_t *req, const char *id)
{
    gl_err_t err;
    gl_err_clear(&err);
    PGresult *res = NULL;
    const char *params[] = { id };
    int rc = gl_db_query(req->db, &q_state, params, req->arena, &res, &err);
    if (rc != GL_OK) {
        gl_resp_fail(req, rc, &err);
        return;
    }
    if (PQntuples(res) == 0)
        gl_resp_error(req, 404, "not_found", NULL, "no such workflow");
    else if (strcmp(PQgetvalue(res, 0, 1), "t") != 0)
        gl_resp_error(req, 409, "not_deleted", NULL, "only a workflow in the trash can be deleted permanently");
    else
        gl_resp_error(req, 403, "forbidden", NULL, "only an admin or the workflow's creator may delete it");
}

int gl_wf_send(gl_req_t *req, int status, const char *id)
{
    gl_err_t err;
    gl_err_clear(&err);
    PGresult *res = NULL;
    const char *params[] = { id };
    int rc = gl_db_query(req->db, &q_get, params, req->arena, &res, &err);
    if (rc != GL_OK) {
        gl_resp_fail(req, rc, &err);
        return rc;
    }
    if (PQntuples(res) != 1) {
        gl_resp_error(req, 404, "not_found", NULL, "no such workflow");
        return GL_NOTFOUND;
    }
    char etag[24];
    snprintf(etag, sizeof etag, "\"%s\"", PQgetvalue(res, 0, 1));
    gl_resp_header(req, "ETag", etag);
    gl_resp_json(req, status, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
    return GL_OK;
}

const char *gl_wf_base_version(gl_req_t *req, bool required)
{
    const char *im = gl_req_env(req, "HTTP_IF_MATCH");
    int64_t v = 0;
    if (im && *im) {
        if (strncmp(im, "W/", 2) == 0)
            im += 2;
        size_t n = strlen(im);
        char digits[24];
        if (n >= 3 && n < sizeof digits + 2 && im[0] == '"' && im[n - 1] == '"') {
            snprintf(digits, sizeof digits, "%.*s", (int)(n - 2), im + 1);
            if (gl_parse_i64(digits, 1, INT32_MAX, &v) == GL_OK)
                return gl_arena_printf(req->arena, "%lld", (long long)v);
        }
        gl_resp_error(req, 400, "invalid", "If-Match", "If-Match must be the workflow's ETag, e.g. \"3\"");
        return NULL;
    }
    gl_err_t err;
    gl_err_clear(&err);
    int rc = req->json ? gl_json_get_int(req->json, "base_version", false, 1, INT32_MAX, &v, &err) : GL_NOTFOUND;
    if (rc == GL_OK)
        return gl_arena_printf(req->arena, "%lld", (long long)v);
    if (rc == GL_INVALID) {
        gl_resp_error(req, 400, "invalid", err.field, "%s", err.msg);
        return NULL;
    }
    if (required)
        gl_resp_error(req, 428, "precondition_required", "base_version",
                      "name the version this save is based on: If-Match: \"N\" or base_version");
    return NULL;
}

const char *gl_wf_tags(gl_req_t *req, json_object *tags)
{
    if (!json_object_is_type(tags, json_type_array) || json_object_array_length(tags) > 20) {
        gl_resp_error(req, 400, "invalid", "tags", "field 'tags': an array of at most 20 strings");
        return NULL;
    }
    for (size_t i = 0; i < json_object_array_length(tags); i++) {
        json_object *t = json_object_array_get_idx(tags, i);
        if (!json_object_is_type(t, json_type_string) || json_object_get_string_len(t) < 1 ||
            json_object_get_string_len(t) > 50) {
            gl_resp_error(req, 400, "invalid", "tags", "field 'tags': each tag is a string of 1-50 characters");
            return NULL;
        }
    }
    return gl_arena_strdup(req->arena, json_object_to_json_string_ext(tags, JSON_C_TO_STRING_PLAIN));
}
