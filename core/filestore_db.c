/*
 * filestore_db.c: gl_filestore_gc with the database's answer to "does a
 * row name this content?", asked under the org's files lock (the lock an
 * upload holds from its row's insert to its commit), so a content is never
 * removed while an upload that names it is committing.
 */
#include "filestore_db.h"

static const gl_stmt_t q_referenced = {
    .name = "files_gc_referenced",
    .sql = "SELECT pg_advisory_xact_lock(hashtextextended('glyphic.files:' || $1, 0)), "
           "EXISTS (SELECT 1 FROM glyphic.files f WHERE f.org_id = $1::uuid AND f.sha256 = decode($2, 'hex'))",
    .nparams = 2,
    .rows = true,
};

typedef struct {
    gl_db_t *db;
    bool in_tx;
} gc_ctx_t;

static int check(void *ctx, const char *org_id, const char *sha_hex, bool *referenced, gl_err_t *err)
{
    gc_ctx_t *c = ctx;
    *referenced = true;
    int rc = gl_db_begin(c->db, err);
    if (rc != GL_OK)
        return rc;
    c->in_tx = true;
    const char *params[] = { org_id, sha_hex };
    PGresult *res = NULL;
    rc = gl_db_query(c->db, &q_referenced, params, NULL, &res, err);
    if (rc != GL_OK)
        return rc;
    *referenced = PQntuples(res) != 1 || PQgetvalue(res, 0, 1)[0] != 'f';
    PQclear(res);
    return GL_OK;
}

/* Ends the check's transaction: the unlink has happened (or not) by now. */
static void release(void *ctx)
{
    gc_ctx_t *c = ctx;
    if (!c->in_tx)
        return;
    c->in_tx = false;
    gl_err_t err;
    gl_err_clear(&err);
    if (gl_db_commit(c->db, &err) != GL_OK)
        gl_db_rollback(c->db);
}

int gl_filestore_gc_db(gl_db_t *db, const gl_config_t *cfg, gl_filestore_gc_t *rep, gl_err_t *err)
{
    gc_ctx_t c = { .db = db, .in_tx = false };
    gl_filestore_refs_t refs = { .check = check, .release = release, .ctx = &c };
    return gl_filestore_gc(cfg->files_dir, cfg->files_temp_hours, &refs, rep, err);
}
