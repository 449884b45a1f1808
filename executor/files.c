/*
 * files.c: the executor's file source (files.h, engine.h). A node streams a
 * new content into a writer of the file store (core/filestore.c); commit
 * then follows the store's writer protocol (sql/019_files.sql), in one
 * short transaction on the worker's connection:
 *
 *   seal (fsync, digest) -> BEGIN -> the org's files lock -> INSERT the
 *   row (execution_id: this execution; refused past the quota, in the
 *   same statement, unless the org stores that content already) ->
 *   finish (rename to the final name) -> COMMIT
 *
 * so gc, which asks under the same lock whether a row names a content
 * before it unlinks it, never removes a content that is being named, and
 * a content over the quota is never stored (its temporary file goes).
 * A crash between the rename and the commit leaves a content no row names:
 * the next gc removes it.
 *
 * Reading trusts nothing the item says but the id: the row is read by id
 * AND the execution's org, the item's size and sha256 must be the row's,
 * and the path is made of the row's org and digest. The executor's role
 * is trusted by row level security, so the org condition is written here.
 */
#include "files.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const gl_stmt_t q_lock = {
    .name = "xfiles_lock",
    .sql = "SELECT pg_advisory_xact_lock(hashtextextended('glyphic.files:' || $1::uuid, 0))",
    .nparams = 1, .rows = true,
};

/* A statement of its own after the lock, so its snapshot holds every file
 * committed before the lock was ours. */
static const gl_stmt_t q_insert = {
    .name = "xfiles_insert",
    .sql = "INSERT INTO glyphic.files (id, org_id, sha256, size, mime_type, file_name, execution_id) "
           "SELECT $1::uuid, $2::uuid, decode($3, 'hex'), $4::bigint, $5, $6, $7::uuid "
           "WHERE $8::bigint = 0 "
           "OR EXISTS (SELECT 1 FROM glyphic.files e WHERE e.org_id = $2::uuid AND e.sha256 = decode($3, 'hex')) "
           "OR (SELECT u.bytes FROM glyphic.files_usage($2::uuid) u) + $4::bigint <= $8::bigint "
           "RETURNING id",
    .nparams = 8, .rows = true,
};

static const gl_stmt_t q_usage = {
    .name = "xfiles_usage",
    .sql = "SELECT u.bytes FROM glyphic.files_usage($1::uuid) u",
    .nparams = 1, .rows = true,
};

static const gl_stmt_t q_row = {
    .name = "xfiles_row",
    .sql = "SELECT encode(f.sha256, 'hex'), f.size FROM glyphic.files f WHERE f.id = $1::uuid AND f.org_id = $2::uuid",
    .nparams = 2, .rows = true, .readonly = true,
};

static int create(void *arg, gl_fs_writer_t **out, gl_err_t *err)
{
    gl_exec_files_t *f = arg;
    return gl_filestore_begin(f->cfg->dir, f->org_id, f->cfg->max_file_bytes, out, err);
}

/* One statement of the commit's transaction; its result is cleared. */
static int tx_query(gl_exec_files_t *f, const gl_stmt_t *st, const char *const *params, bool *row, gl_err_t *err)
{
    PGresult *res = NULL;
    int rc = gl_db_query(f->job->db, st, params, NULL, &res, err);
    if (rc != GL_OK)
        return rc;
    if (row)
        *row = PQntuples(res) > 0;
    PQclear(res);
    return GL_OK;
}

/* The quota's refusal, with what the org stores now (read in the
 * transaction, under the lock). */
static int over_quota(gl_exec_files_t *f, int64_t size, gl_err_t *err)
{
    const char *params[] = { f->org_id };
    PGresult *res = NULL;
    long long used = -1;
    gl_err_t uerr;
    gl_err_clear(&uerr);
    if (gl_db_query(f->job->db, &q_usage, params, NULL, &res, &uerr) == GL_OK) {
        used = PQntuples(res) == 1 ? (long long)gl_db_int(res, 0, 0) : -1;
        PQclear(res);
    }
    if (used >= 0)
        gl_err_set(err, "the org's files would pass its quota of %lld bytes (files.max_bytes_per_org): it stores "
                        "%lld bytes, and this file has %lld more; nothing was stored",
                   (long long)f->cfg->max_bytes_per_org, used, (long long)size);
    else
        gl_err_set(err, "the org's files would pass its quota of %lld bytes (files.max_bytes_per_org); nothing was "
                        "stored", (long long)f->cfg->max_bytes_per_org);
    return GL_TOO_LARGE;
}

static int commit(void *arg, gl_fs_writer_t *w, const char *file_name, const char *mime_type, gl_binary_ref_t *ref,
                  gl_err_t *err)
{
    gl_exec_files_t *f = arg;
    if (gl_filestore_seal(w, err) != GL_OK) {
        gl_filestore_abort(w);
        return GL_ERR;
    }
    char id[GL_UUID_LEN + 1], size[24], quota[24], sha[GL_SHA256_HEX_LEN + 1];
    gl_uuid_v4(id);
    snprintf(sha, sizeof sha, "%s", gl_filestore_sha256(w));
    int64_t n = gl_filestore_size(w);
    snprintf(size, sizeof size, "%lld", (long long)n);
    snprintf(quota, sizeof quota, "%lld", (long long)f->cfg->max_bytes_per_org);
    const char *lock_params[] = { f->org_id };
    const char *params[] = { id, f->org_id, sha, size, mime_type, file_name, f->execution_id, quota };
    bool inserted = false;
    int rc = gl_db_begin(f->job->db, err);
    if (rc == GL_OK && (rc = tx_query(f, &q_lock, lock_params, NULL, err)) == GL_OK &&
        (rc = tx_query(f, &q_insert, params, &inserted, err)) == GL_OK && !inserted)
        rc = over_quota(f, n, err);
    if (rc != GL_OK) {
        gl_db_rollback(f->job->db);
        gl_filestore_abort(w);
        return rc;
    }
    /* renamed before the commit, under the lock: gc cannot take it away */
    if ((rc = gl_filestore_finish(w, NULL, err)) != GL_OK) {
        gl_db_rollback(f->job->db);
        return rc;
    }
    if ((rc = gl_db_commit(f->job->db, err)) != GL_OK) {
        gl_db_rollback(f->job->db); /* the content stays, unnamed, until gc */
        return rc;
    }
    memcpy(ref->id, id, sizeof ref->id);
    memcpy(ref->sha256, sha, sizeof ref->sha256);
    ref->size = n;
    ref->file_name = file_name;
    ref->mime_type = mime_type;
    gl_log(GL_LOG_DEBUG, "execution %s stored file %s (%lld bytes)", f->execution_id, id, (long long)n);
    return GL_OK;
}

static int open_file(void *arg, const gl_binary_ref_t *ref, int *fd, gl_err_t *err)
{
    gl_exec_files_t *f = arg;
    *fd = -1;
    const char *params[] = { ref->id, f->org_id };
    PGresult *res = NULL;
    int rc = gl_db_query(f->job->db, &q_row, params, NULL, &res, err);
    if (rc != GL_OK)
        return rc;
    if (PQntuples(res) != 1) {
        PQclear(res);
        gl_err_set(err, "no file with this id in this org");
        return GL_NOTFOUND;
    }
    char sha[GL_SHA256_HEX_LEN + 1], rel[GL_FILESTORE_REL_LEN + 1], path[4096];
    snprintf(sha, sizeof sha, "%s", PQgetvalue(res, 0, 0));
    int64_t size = gl_db_int(res, 0, 1);
    PQclear(res);
    if (size != ref->size || strcmp(sha, ref->sha256) != 0) {
        gl_err_set(err, "the reference does not match the stored file (its size or sha256 differ)");
        return GL_INVALID;
    }
    if (gl_filestore_rel_path(f->org_id, sha, rel, sizeof rel) != GL_OK ||
        snprintf(path, sizeof path, "%s/%s", f->cfg->dir, rel) >= (int)sizeof path) {
        gl_err_set(err, "the file store's path is too long");
        return GL_ERR;
    }
    struct stat st;
    *fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    const char *why = *fd < 0 || fstat(*fd, &st) != 0 ? strerror(errno)
                      : !S_ISREG(st.st_mode)          ? "not a regular file"
                      : st.st_size != size            ? "not of its row's size"
                                                      : NULL;
    if (why) {
        if (*fd >= 0)
            close(*fd);
        *fd = -1;
        gl_log(GL_LOG_ERROR, "file %s of org %s: its content %s is missing or damaged: %s", ref->id, f->org_id,
               path, why);
        gl_err_set(err, "the stored content is missing or damaged (the operator's log says more)");
        return GL_ERR;
    }
    return GL_OK;
}

gl_file_source_t gl_exec_files_source(gl_exec_files_t *f, gl_job_ctx_t *job, const gl_exec_files_cfg_t *cfg,
                                      const char *org_id, const char *execution_id)
{
    gl_file_source_t src;
    memset(&src, 0, sizeof src);
    memset(f, 0, sizeof *f);
    f->job = job;
    f->cfg = cfg;
    snprintf(f->org_id, sizeof f->org_id, "%s", org_id ? org_id : "");
    snprintf(f->execution_id, sizeof f->execution_id, "%s", execution_id ? execution_id : "");
    if (!cfg || !cfg->dir || !*cfg->dir || !gl_is_uuid(f->org_id) || !gl_is_uuid(f->execution_id))
        return src;
    src.create = create;
    src.commit = commit;
    src.open = open_file;
    src.arg = f;
    return src;
}
