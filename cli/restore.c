/*
 * restore.c: `glyphic restore DIR`, a backup of `glyphic backup` (backup.c
 * describes its layout) put back into the database of db.admin_url.
 *
 * It checks every part against the manifest before it touches anything,
 * refuses a database that already has a glyphic schema, creates the roles
 * the way migration 001 does (gl_migrate_create_roles), puts the key file
 * back (never over another key unless --replace-key) and the files (never
 * over other content), and runs pg_restore last, in one transaction: a
 * restore that fails leaves the database as it was, and can be run again
 * as it is. main.c then applies the migrations this binary has and the
 * backup lacks, so an older backup comes back upgraded.
 *
 * Exit status: 0 done, 1 failure, 2 usage.
 */
#include "backup.h"

#include "backup_io.h"
#include "db.h"
#include "json.h"
#include "migrate.h"
#include "vault.h"

#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_MANIFEST (1024 * 1024)

/* ---- the manifest ---------------------------------------------------- */

/* Reads DIR/manifest.json; *out is released by the caller (json_object_put). */
static int read_manifest(const char *dir, json_object **out, gl_err_t *err)
{
    char path[PATH_MAX];
    if (gl__join(path, sizeof path, dir, GL_BACKUP_MANIFEST, err) != GL_OK)
        return GL_ERR;
    FILE *f = fopen(path, "r");
    if (!f) {
        gl_err_set(err, "cannot open %s: %s (is %s a glyphic backup?)", path, strerror(errno), dir);
        return GL_ERR;
    }
    char *buf = gl_xmalloc(MAX_MANIFEST + 1);
    size_t n = fread(buf, 1, MAX_MANIFEST + 1, f);
    bool bad = ferror(f) != 0;
    fclose(f);
    int rc = GL_OK;
    const char *format = NULL;
    if (bad || n > MAX_MANIFEST) {
        gl_err_set(err, "cannot read %s%s", path, bad ? "" : ": larger than 1 MiB");
        rc = GL_ERR;
    } else if (gl_json_parse(buf, n, 8, out, err) != GL_OK) {
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err->msg);
        gl_err_set(err, "%s is not JSON: %s", path, why);
        rc = GL_ERR;
    } else if (gl_json_get_string(*out, "format", true, 64, &format, err) != GL_OK ||
               strcmp(format, GL_BACKUP_FORMAT) != 0) {
        gl_err_set(err, "%s is not a manifest this glyphic reads (format %s, want %s)", path,
                   format ? format : "missing", GL_BACKUP_FORMAT);
        json_object_put(*out);
        *out = NULL;
        rc = GL_ERR;
    }
    free(buf);
    return rc;
}

/* Checks the part described by p (an object of the manifest): it names the
 * file want, and that file in dir has the recorded size and SHA-256. */
static int check_part(const char *dir, json_object *p, const char *want, gl_err_t *err)
{
    const char *file = NULL, *sha = NULL;
    int64_t size = 0, got_size = 0;
    char path[PATH_MAX], got[GL_SHA256_HEX];
    if (gl_json_get_string(p, "file", true, 255, &file, err) != GL_OK ||
        gl_json_get_string(p, "sha256", true, 64, &sha, err) != GL_OK ||
        gl_json_get_int(p, "size", true, 0, INT64_MAX, &size, err) != GL_OK || strcmp(file, want) != 0) {
        gl_err_set(err, "manifest.json: the part %s is malformed", want);
        return GL_ERR;
    }
    if (gl__join(path, sizeof path, dir, file, err) != GL_OK || gl__hash_file(path, got, &got_size, err) != GL_OK)
        return GL_ERR;
    if (got_size != size || strcmp(got, sha) != 0) {
        gl_err_set(err, "%s does not match manifest.json (%lld bytes, sha256 %.12s...; recorded %lld bytes, "
                   "%.12s...): the backup is damaged", path, (long long)got_size, got, (long long)size, sha);
        return GL_ERR;
    }
    return GL_OK;
}

/* ---- glyphic restore ------------------------------------------------- */

/* Every part of the backup in dir against its manifest, before anything is
 * touched. *files: the manifest's files part, or NULL when the backup has none. */
static int verify_backup(const char *dir, json_object *m, json_object **files, gl__tree_sum_t *sum, gl_err_t *err)
{
    json_object *parts = NULL, *p = NULL, *old = NULL;
    int64_t schema = 0;
    if (gl_json_get_int(m, "schema_version", true, 1, INT32_MAX, &schema, err) != GL_OK ||
        gl_json_get_object(m, "parts", true, &parts, err) != GL_OK) {
        gl_err_set(err, "manifest.json: schema_version or parts missing");
        return GL_ERR;
    }
    if (schema > gl_migrate_latest()) {
        gl_err_set(err, "the backup is of schema %lld, newer than this glyphic knows (%d): restore it with the "
                   "glyphic that made it, or a newer one", (long long)schema, gl_migrate_latest());
        return GL_SCHEMA;
    }
    if (gl_json_get_object(parts, "database", true, &p, err) != GL_OK ||
        check_part(dir, p, GL_BACKUP_DUMP, err) != GL_OK)
        return GL_ERR;
    if (gl_json_get_object(parts, "key", true, &p, err) != GL_OK || check_part(dir, p, GL_BACKUP_KEY, err) != GL_OK)
        return GL_ERR;
    if (gl_json_get_array(parts, "old_keys", false, &old, err) == GL_OK) {
        for (size_t i = 0; i < json_object_array_length(old); i++) {
            char name[32];
            snprintf(name, sizeof name, GL_BACKUP_OLD_KEY, (int)i + 1);
            if (check_part(dir, json_object_array_get_idx(old, i), name, err) != GL_OK)
                return GL_ERR;
        }
    }
    *files = NULL;
    if (gl_json_get_object(parts, "files", false, files, err) != GL_OK)
        return GL_OK;
    const char *sub = NULL, *digest = NULL;
    int64_t count = 0, bytes = 0;
    char root[PATH_MAX];
    if (gl_json_get_string(*files, "dir", true, 64, &sub, err) != GL_OK || strcmp(sub, GL_BACKUP_FILES) != 0 ||
        gl_json_get_string(*files, "sha256", true, 64, &digest, err) != GL_OK ||
        gl_json_get_int(*files, "count", true, 0, INT64_MAX, &count, err) != GL_OK ||
        gl_json_get_int(*files, "bytes", true, 0, INT64_MAX, &bytes, err) != GL_OK) {
        gl_err_set(err, "manifest.json: the files part is malformed");
        return GL_ERR;
    }
    gl__paths_t paths = { 0 };
    int rc = gl__join(root, sizeof root, dir, GL_BACKUP_FILES, err);
    if (rc == GL_OK)
        rc = gl__walk(root, NULL, &paths, err);
    if (rc == GL_OK)
        rc = gl__copy_tree(root, NULL, &paths, sum, err);
    gl__paths_free(&paths);
    if (rc == GL_OK && (sum->count != count || sum->bytes != bytes || strcmp(sum->digest, digest) != 0)) {
        gl_err_set(err, "%s does not match manifest.json (%lld file(s), %lld bytes; recorded %lld, %lld): "
                   "the backup is damaged", root, (long long)sum->count, (long long)sum->bytes, (long long)count,
                   (long long)bytes);
        rc = GL_ERR;
    }
    return rc;
}

/* The restore goes into a database without a glyphic schema. */
static int check_empty_database(gl_db_t *db, gl_err_t *err)
{
    static const char q_schema[] =
        "SELECT to_regnamespace('glyphic') IS NOT NULL, "
        "to_regclass('glyphic.users') IS NOT NULL AND to_regclass('glyphic.workflows') IS NOT NULL, "
        "current_database()";
    static const char q_rows[] =
        "SELECT (SELECT count(*) FROM glyphic.users), (SELECT count(*) FROM glyphic.workflows)";
    PGresult *res = NULL;
    int rc = gl_db_exec(db, q_schema, 0, NULL, true, NULL, &res, err);
    if (rc != GL_OK)
        return rc;
    bool exists = strcmp(PQgetvalue(res, 0, 0), "t") == 0, tables = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
    char name[128];
    snprintf(name, sizeof name, "%s", PQgetvalue(res, 0, 2));
    PQclear(res);
    if (!exists)
        return GL_OK;
    char what[128] = "a glyphic schema";
    if (tables && gl_db_exec(db, q_rows, 0, NULL, true, NULL, &res, err) == GL_OK) {
        snprintf(what, sizeof what, "a glyphic schema with %s user(s) and %s workflow(s)", PQgetvalue(res, 0, 0),
                 PQgetvalue(res, 0, 1));
        PQclear(res);
    }
    gl_err_set(err, "database %s already holds %s; restore into a new database (createdb, then point "
               "db.admin_url at it), or remove it first: DROP SCHEMA glyphic CASCADE", name, what);
    return GL_CONFLICT;
}

/* A backup of a single-role installation goes back as that role: its
 * functions name it (they grant to it), and it owns what pg_restore makes. */
static int check_single_role(gl_db_t *db, const char *role, gl_err_t *err)
{
    PGresult *res = NULL;
    int rc = gl_db_exec(db, "SELECT current_user::text", 0, NULL, true, NULL, &res, err);
    if (rc != GL_OK)
        return rc;
    if (strcmp(PQgetvalue(res, 0, 0), role) != 0) {
        gl_err_set(err, "this is a backup of a single-role installation owned by %s: restore it as %s "
                        "(db.admin_url), not as %s", role, role, PQgetvalue(res, 0, 0));
        rc = GL_CONFLICT;
    }
    PQclear(res);
    return rc;
}

/*
 * Where the key goes: secrets.key_file. Fine when it is missing or holds the
 * same key; another key is refused unless replace (it is then kept as
 * FILE.before-restore). *in_place: it already holds the backup's key.
 */
static int check_key_target(const gl_config_t *cfg, const char *want_id, bool replace, bool *in_place, gl_err_t *err)
{
    const char *dst = cfg->secrets_key_file;
    char id[GL_VAULT_KEY_ID_LEN + 1], kept[PATH_MAX];
    struct stat st;
    *in_place = false;
    char *parent = gl__parent_of(dst);
    bool parent_ok = stat(parent, &st) == 0 && S_ISDIR(st.st_mode);
    if (!parent_ok)
        gl_err_set(err, "secrets.key_file %s: its folder %s does not exist", dst, parent);
    free(parent);
    if (!parent_ok)
        return GL_ERR;
    if (lstat(dst, &st) != 0)
        return GL_OK;
    gl_err_t e2;
    if (gl_vault_file_key_id(dst, id, &e2) == GL_OK && strcmp(id, want_id) == 0) {
        *in_place = true;
        return GL_OK;
    }
    if (!replace) {
        gl_err_set(err, "secrets.key_file %s holds another key than the backup's (%s): point secrets.key_file at "
                   "a new path, or give --replace-key (the present file is kept as %s.before-restore)", dst, want_id,
                   dst);
        return GL_CONFLICT;
    }
    snprintf(kept, sizeof kept, "%s.before-restore", dst);
    if (lstat(kept, &st) == 0) {
        gl_err_set(err, "%s exists: move it away first", kept);
        return GL_CONFLICT;
    }
    return GL_OK;
}

static int restore_key(const gl_config_t *cfg, const char *dir, gl_err_t *err)
{
    const char *dst = cfg->secrets_key_file;
    char src[PATH_MAX], tmp[PATH_MAX], kept[PATH_MAX], sha[GL_SHA256_HEX];
    int64_t size;
    struct stat st;
    if (gl__join(src, sizeof src, dir, GL_BACKUP_KEY, err) != GL_OK)
        return GL_ERR;
    snprintf(tmp, sizeof tmp, "%s.restoring", dst);
    snprintf(kept, sizeof kept, "%s.before-restore", dst);
    unlink(tmp);
    if (gl__copy_file(src, tmp, 0600, sha, &size, err) != GL_OK)
        return GL_ERR;
    if (lstat(dst, &st) == 0 && link(dst, kept) != 0) {
        gl_err_set(err, "cannot keep %s as %s: %s", dst, kept, strerror(errno));
        unlink(tmp);
        return GL_ERR;
    }
    if (rename(tmp, dst) != 0) {
        gl_err_set(err, "cannot rename %s to %s: %s", tmp, dst, strerror(errno));
        unlink(tmp);
        return GL_ERR;
    }
    char *parent = gl__parent_of(dst);
    int rc = gl__fsync_dir(parent, err);
    free(parent);
    return rc;
}

static int restore_files(const gl_config_t *cfg, const char *dir, gl__tree_sum_t *sum, gl_err_t *err)
{
    char root[PATH_MAX];
    gl__paths_t paths = { 0 };
    int rc = gl__join(root, sizeof root, dir, GL_BACKUP_FILES, err);
    if (rc == GL_OK)
        rc = gl__walk(root, NULL, &paths, err);
    if (rc == GL_OK)
        rc = gl__mkdirs(cfg->files_dir, 0750, err);
    if (rc == GL_OK)
        rc = gl__copy_tree(root, cfg->files_dir, &paths, sum, err);
    gl__paths_free(&paths);
    return rc;
}

static int do_restore(const gl_config_t *cfg, const gl__backup_opts_t *o, json_object *m, gl_err_t *err)
{
    json_object *files = NULL, *parts = NULL, *key = NULL, *old = NULL;
    gl__tree_sum_t sum = { 0 };
    const char *key_id = NULL;
    bool in_place = false;
    if (verify_backup(o->dir, m, &files, &sum, err) != GL_OK)
        return GL_ERR;
    printf("%s: every part matches manifest.json\n", o->dir);
    if (gl_json_get_object(m, "parts", true, &parts, err) != GL_OK ||
        gl_json_get_object(parts, "key", true, &key, err) != GL_OK ||
        gl_json_get_string(key, "key_id", true, GL_VAULT_KEY_ID_LEN, &key_id, err) != GL_OK)
        return GL_ERR;
    if (check_key_target(cfg, key_id, o->replace_key, &in_place, err) != GL_OK)
        return GL_ERR;

    const char *single_role = NULL;
    int got = gl_json_get_string(m, "single_role", false, 63, &single_role, err);
    if (got != GL_OK && got != GL_NOTFOUND)
        return GL_ERR;
    gl_db_t *db = gl__admin_db(cfg, "glyphic-restore");
    int rc = gl_db_connect_now(db, err);
    if (rc == GL_OK)
        rc = check_empty_database(db, err);
    if (rc == GL_OK)
        rc = single_role ? check_single_role(db, single_role, err) : gl_migrate_create_roles(db, err);
    gl_db_free(db);
    if (rc != GL_OK)
        return rc;

    if (in_place)
        printf("key %s: already at %s\n", key_id, cfg->secrets_key_file);
    else if (restore_key(cfg, o->dir, err) != GL_OK)
        return GL_ERR;
    else
        printf("key %s: written to %s (mode 0600; give it to the account the programs run as)\n", key_id,
               cfg->secrets_key_file);
    if (gl_json_get_array(parts, "old_keys", false, &old, err) == GL_OK && json_object_array_length(old) > 0)
        printf("the backup also holds %zu older key(s) (old-key-N.key): credentials not yet re-sealed by "
               "glyphic rotate-key need them in secrets.old_key_files\n", json_object_array_length(old));

    if (files && o->no_files)
        printf("files: left out (--no-files)\n");
    else if (files) {
        if (restore_files(cfg, o->dir, &sum, err) != GL_OK)
            return GL_ERR;
        printf("files: %lld file(s), %lld bytes in %s\n", (long long)sum.count, (long long)sum.bytes, cfg->files_dir);
    } else
        printf("files: none in this backup (made with --no-files)\n");
    char dump[PATH_MAX], dump_arg[PATH_MAX];
    if (gl__join(dump, sizeof dump, o->dir, GL_BACKUP_DUMP, err) != GL_OK)
        return GL_ERR;
    snprintf(dump_arg, sizeof dump_arg, "%s", dump);
    const char *args[] = { "--exit-on-error", "--single-transaction", "--no-password",
                           "--dbname=application_name=glyphic-restore", dump_arg, NULL };
    printf("restoring the database (pg_restore --single-transaction)\n");
    fflush(stdout);
    if (gl__run_pg_tool("pg_restore", o->pg_bin, cfg->db_admin_url, cfg->db_connect_timeout, args, err) != GL_OK)
        return GL_ERR;

    return GL_OK;
}

int gl_cli_restore(const gl_config_t *cfg, int argc, char **argv)
{
    gl__backup_opts_t o;
    int status = gl__backup_args("restore", argc, argv, true, &o);
    if (status)
        return status;
    gl_err_t err;
    gl_err_clear(&err);
    json_object *m = NULL;
    int rc = read_manifest(o.dir, &m, &err);
    if (rc == GL_OK)
        rc = do_restore(cfg, &o, m, &err);
    json_object_put(m);
    if (rc != GL_OK) {
        /* pg_restore is the last step and one transaction */
        fprintf(stderr, "glyphic restore: %s\nglyphic restore: the database was not changed\n", err.msg);
        return 1;
    }
    printf("restored from %s; applying this glyphic's migrations\n", o.dir);
    return 0;
}
