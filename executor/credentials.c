/*
 * credentials.c: the executor's credential source (credentials.h,
 * engine.h). A node names a credential; the store reads its row of the
 * execution's org with the worker's connection (the executor's role is
 * trusted by row level security), opens each sealed field with the
 * keyring (bound to org, credential, key and field: a ciphertext moved to
 * another row or org does not open), and keeps it for the rest of the
 * execution (its arena; opened values are wiped with it). Every value it
 * opens also goes into the store's redaction list, for the executor's own
 * messages. OAuth2 tokens are kept fresh by credentials_oauth2.c.
 *
 * Messages name the credential, never a value.
 */
#include "credentials_int.h"

#include "json.h"
#include "log.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const gl_stmt_t q_find = {
    .name = "cred_find",
    .sql = "SELECT " ROW_COLS " FROM glyphic.credentials WHERE org_id = $1::uuid AND name = $2",
    .nparams = 2, .rows = true, .readonly = true,
};

gl_cred_store_t *gl_cred_store_new(gl_job_ctx_t *job, const char *org_id, const gl_vault_t *vault,
                                   const gl_ipnet_list_t *allow)
{
    gl_cred_store_t *s = gl_xcalloc(1, sizeof *s);
    s->job = job;
    snprintf(s->org_id, sizeof s->org_id, "%s", org_id ? org_id : "");
    s->vault = vault;
    s->allow = allow;
    s->redact = gl_redact_new();
    return s;
}

void gl_cred_store_free(gl_cred_store_t *s)
{
    if (!s)
        return;
    gl_redact_free(s->redact);
    free(s);
}

void gl_cred_store_redact(const gl_cred_store_t *s, char *text, size_t cap)
{
    if (s)
        gl_redact_text(s->redact, text, cap);
}

static bool is_oauth2(const char *type)
{
    return strcmp(type, "oauth2.code") == 0 || strcmp(type, "oauth2.client") == 0;
}

/* ---- reading and opening a row ---- */

/* Opens every sealed field of secrets (the row's) into c. */
static int open_secrets(gl_cred_store_t *s, const entry_t *e, gl_cred_t *c, json_object *secrets, gl_err_t *err)
{
    gl_arena_t *a = s->job->arena;
    if (json_object_object_length(secrets) == 0)
        return GL_OK;
    if (!s->vault) {
        gl_err_set(err, "credential '" CRED_N "' cannot be opened: no secrets key is configured", e->name);
        return GL_INVALID;
    }
    json_object_object_foreach(secrets, field, val) {
        gl_vault_ad_t ad = { .org_id = s->org_id, .cred_id = e->id, .field = field };
        gl_err_t verr;
        char *plain;
        size_t n;
        if (c->n_secrets == GL_CRED_MAX_SECRETS) {
            gl_err_set(err, "credential '" CRED_N "' has more than %d secret fields", e->name, GL_CRED_MAX_SECRETS);
            return GL_INVALID;
        }
        if (!json_object_is_type(val, json_type_string)) {
            gl_err_set(err, "credential '" CRED_N "' cannot be opened: its field '%.64s' is not a sealed value",
                       e->name, field);
            return GL_INVALID;
        }
        gl_err_clear(&verr);
        int rc = gl_vault_open(s->vault, e->key_id[0] ? e->key_id : NULL, &ad, json_object_get_string(val), a,
                               &plain, &n, &verr);
        if (rc == GL_NOTFOUND) {
            gl_err_set(err, "credential '" CRED_N "' cannot be opened: its secrets were %s", e->name, verr.msg);
            return GL_INVALID;
        }
        if (rc != GL_OK) {
            bool says = strncmp(verr.msg, "does not open", 13) == 0;
            gl_err_set(err, "credential '" CRED_N "' cannot be opened: its field '%.64s' %s%s", e->name, field,
                       says ? "" : "does not open: ", verr.msg);
            return GL_INVALID;
        }
        c->secrets[c->n_secrets++] = (gl_cred_secret_t){ gl_arena_strdup(a, field), plain, n };
        gl_redact_add(s->redact, plain, n);
    }
    return GL_OK;
}

/* A new entry (in the arena) for row 0 of res, the credential called name. */
int gl__cred_entry_from_row(gl_cred_store_t *s, const char *name, PGresult *res, entry_t **out, gl_err_t *err)
{
    gl_arena_t *a = s->job->arena;
    entry_t *e = gl_arena_calloc(a, 1, sizeof *e);
    gl_cred_t *c = gl_arena_calloc(a, 1, sizeof *c);
    json_object *fields = json_tokener_parse(PQgetvalue(res, 0, 2));
    json_object *secrets = json_tokener_parse(PQgetvalue(res, 0, 3));

    e->name = gl_arena_strdup(a, name);
    snprintf(e->id, sizeof e->id, "%s", PQgetvalue(res, 0, 0));
    if (!PQgetisnull(res, 0, 4))
        snprintf(e->key_id, sizeof e->key_id, "%s", PQgetvalue(res, 0, 4));
    e->needs_reauth = strcmp(PQgetvalue(res, 0, 5), "needs_reauth") == 0;
    snprintf(e->detail, sizeof e->detail, "%s", PQgetisnull(res, 0, 6) ? "" : PQgetvalue(res, 0, 6));
    gl_utf8_trim(e->detail);
    e->expires_ms = PQgetisnull(res, 0, 7) ? 0 : gl_db_int(res, 0, 7);
    c->name = e->name;
    c->type = gl_arena_strdup(a, PQgetvalue(res, 0, 1));
    if (!json_object_is_type(fields, json_type_object)) {
        json_object_put(fields);
        fields = json_object_new_object();
    }
    c->fields = gl_json_own(a, fields);
    e->cred = c;
    int rc = json_object_is_type(secrets, json_type_object) ? open_secrets(s, e, c, secrets, err) : GL_INVALID;
    if (rc == GL_INVALID && !err->msg[0])
        gl_err_set(err, "credential '" CRED_N "' cannot be opened: its secrets are unreadable", name);
    json_object_put(secrets);
    *out = rc == GL_OK ? e : NULL;
    return rc;
}

/* Reads and opens the credential called name. */
static int read_entry(gl_cred_store_t *s, const char *name, entry_t **out, gl_err_t *err)
{
    const char *params[] = { s->org_id, name };
    PGresult *res = NULL;
    gl_err_t derr;
    gl_err_clear(&derr);
    if (gl_db_query(s->job->db, &q_find, params, NULL, &res, &derr) != GL_OK) {
        gl_err_set(err, "credential '" CRED_N "' cannot be read now: %.120s", name, derr.msg);
        return GL_UNAVAILABLE;
    }
    if (PQntuples(res) != 1) {
        PQclear(res);
        gl_err_set(err, "credential '" CRED_N "' not found (no credential of this workflow's organization has "
                   "that name)", name);
        return GL_NOTFOUND;
    }
    int rc = gl__cred_entry_from_row(s, name, res, out, err);
    PQclear(res);
    return rc;
}

/* ---- the source ---- */

static entry_t *find(gl_cred_store_t *s, const char *name)
{
    for (entry_t *e = s->entries; e; e = e->next)
        if (strcmp(e->name, name) == 0)
            return e;
    return NULL;
}

/* The cached entry for name, read and opened on first use. */
static int entry_for(gl_cred_store_t *s, const char *name, entry_t **out, gl_err_t *err)
{
    if ((*out = find(s, name)) != NULL)
        return GL_OK;
    int rc = read_entry(s, name, out, err);
    if (rc == GL_OK) {
        (*out)->next = s->entries;
        s->entries = *out;
    }
    return rc;
}

static int src_get(void *arg, const char *name, int64_t deadline_ms, const gl_cred_t **out, gl_err_t *err)
{
    gl_cred_store_t *s = arg;
    entry_t *e;
    *out = NULL;
    int rc = entry_for(s, name, &e, err);
    if (rc != GL_OK)
        return rc;
    if (is_oauth2(e->cred->type)) {
        if (e->needs_reauth)
            return gl__cred_reauth_error(e, err);
        if (!gl__cred_token_fresh(e) && (rc = gl__cred_renew(s, e, false, NULL, deadline_ms, err)) != GL_OK)
            return rc;
    }
    *out = e->cred;
    return GL_OK;
}

static int src_refresh(void *arg, const char *name, const char *used_token, int64_t deadline_ms,
                       const gl_cred_t **out, gl_err_t *err)
{
    gl_cred_store_t *s = arg;
    entry_t *e;
    *out = NULL;
    int rc = entry_for(s, name, &e, err);
    if (rc != GL_OK)
        return rc;
    if (!is_oauth2(e->cred->type)) {
        gl_err_set(err, "credential '" CRED_N "' (%s) has no token to refresh", name, e->cred->type);
        return GL_INVALID;
    }
    if ((rc = gl__cred_renew(s, e, true, used_token, deadline_ms, err)) != GL_OK)
        return rc;
    *out = e->cred;
    return GL_OK;
}

gl_cred_source_t gl_cred_store_source(gl_cred_store_t *s)
{
    return (gl_cred_source_t){ .get = src_get, .refresh = src_refresh, .arg = s };
}
