/*
 * backup.c: `glyphic backup DIR` (restore.c puts one back; backup_io.c
 * holds what both do to files and child processes).
 *
 * A backup is a folder:
 *
 *   DIR/glyphic.dump     pg_dump --format=custom of the schema glyphic (db.admin_url)
 *   DIR/secret.key       the master key of secrets.key_file (mode 0600)
 *   DIR/old-key-N.key    the keys of secrets.old_key_files, if any
 *   DIR/files/           files.dir as it is laid out, without tmp/ (unless --no-files)
 *   DIR/manifest.json    versions, time, and the size and SHA-256 of each part
 *
 * It is written into DIR.partial and renamed to DIR only once every part is
 * on disk (fsync), so a backup that fails — pg_dump missing, the database
 * gone, a full disk — leaves no DIR that looks whole: DIR.partial is
 * removed and the exit status is 1.
 *
 * Exit status: 0 done, 1 failure, 2 usage.
 */
#include "backup.h"

#include "backup_io.h"
#include "db.h"
#include "vault.h"

#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_OLD_KEYS 16

/* ---- the manifest ---------------------------------------------------- */

static json_object *part(const char *file, int64_t size, const char *sha)
{
    json_object *p = json_object_new_object();
    json_object_object_add(p, "file", json_object_new_string(file));
    json_object_object_add(p, "size", json_object_new_int64(size));
    json_object_object_add(p, "sha256", json_object_new_string(sha));
    return p;
}

static int write_text(const char *path, const char *text, gl_err_t *err)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
        gl_err_set(err, "path too long: %s", path);
        return GL_ERR;
    }
    FILE *f = fopen(tmp, "wx");
    if (!f) {
        gl_err_set(err, "cannot create %s: %s", tmp, strerror(errno));
        return GL_ERR;
    }
    bool ok = fputs(text, f) >= 0 && fputc('\n', f) != EOF && fflush(f) == 0 && fsync(fileno(f)) == 0;
    int e = errno;
    if (fclose(f) != 0 && ok) {
        ok = false;
        e = errno;
    }
    if (!ok || rename(tmp, path) != 0) {
        gl_err_set(err, "cannot write %s: %s", path, strerror(ok ? errno : e));
        unlink(tmp);
        return GL_ERR;
    }
    return GL_OK;
}

/* Copies files_dir (without tmp/) into dst_root, which it creates. */
static int backup_files(const char *files_dir, const char *dst_root, gl__tree_sum_t *sum, gl_err_t *err)
{
    gl__paths_t paths = { 0 };
    int rc = gl__walk(files_dir, "tmp", &paths, err);
    if (rc == GL_OK)
        rc = gl__mkdirs(dst_root, 0750, err);
    if (rc == GL_OK)
        rc = gl__copy_tree(files_dir, dst_root, &paths, sum, err);
    gl__paths_free(&paths);
    return rc;
}

/* ---- glyphic backup -------------------------------------------------- */

/* The schema's version, and in owner the role that owns it: glyphic_owner,
 * or the one role of a single-role installation (glyphic migrate
 * --single-role). */
static int read_schema(gl_db_t *db, int *version, char owner[64], gl_err_t *err)
{
    static const char q_exists[] = "SELECT to_regclass('glyphic.schema_migrations') IS NOT NULL";
    static const char q_version[] =
        "SELECT coalesce(max(version), 0), "
        "  (SELECT n.nspowner::regrole::text FROM pg_namespace n WHERE n.nspname = 'glyphic') "
        "FROM glyphic.schema_migrations";
    PGresult *res = NULL;
    int rc = gl_db_exec(db, q_exists, 0, NULL, true, NULL, &res, err);
    if (rc != GL_OK)
        return rc;
    bool exists = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (!exists) {
        gl_err_set(err, "the database of db.admin_url has no glyphic schema: nothing to back up");
        return GL_NOTFOUND;
    }
    rc = gl_db_exec(db, q_version, 0, NULL, true, NULL, &res, err);
    if (rc == GL_OK) {
        *version = (int)gl_db_int(res, 0, 0);
        snprintf(owner, 64, "%s", PQgetvalue(res, 0, 1));
        PQclear(res);
    }
    return rc;
}

/* DIR must not exist, or be an empty folder (rename() replaces one). */
static int check_target(const char *dir, gl_err_t *err)
{
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (errno == ENOENT)
            return GL_OK;
        gl_err_set(err, "cannot use %s: %s", dir, strerror(errno));
        return GL_ERR;
    }
    bool empty = false;
    DIR *d = S_ISDIR(st.st_mode) ? opendir(dir) : NULL;
    if (d) {
        struct dirent *e;
        empty = true;
        while (empty && (e = readdir(d)) != NULL)
            empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
        closedir(d);
    }
    if (!empty) {
        gl_err_set(err, "%s exists and is not an empty folder: back up into a new one", dir);
        return GL_CONFLICT;
    }
    return GL_OK;
}

/* The keys: secret.key, and old-key-N.key for each of secrets.old_key_files. */
static int backup_keys(const gl_config_t *cfg, const char *partial, json_object *parts, gl_err_t *err)
{
    char dst[PATH_MAX], sha[GL_SHA256_HEX], id[GL_VAULT_KEY_ID_LEN + 1];
    int64_t size;
    if (gl_vault_file_key_id(cfg->secrets_key_file, id, err) != GL_OK ||
        gl__join(dst, sizeof dst, partial, GL_BACKUP_KEY, err) != GL_OK ||
        gl__copy_file(cfg->secrets_key_file, dst, 0600, sha, &size, err) != GL_OK)
        return GL_ERR;
    json_object *p = part(GL_BACKUP_KEY, size, sha);
    json_object_object_add(p, "key_id", json_object_new_string(id));
    json_object_object_add(parts, "key", p);

    json_object *old = json_object_new_array();
    json_object_object_add(parts, "old_keys", old);
    char *list = gl_xstrdup(cfg->secrets_old_key_files ? cfg->secrets_old_key_files : "");
    int rc = GL_OK, n = 0;
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); rc == GL_OK && tok; tok = strtok_r(NULL, ",", &save)) {
        char *path = gl_str_trim(tok), name[32];
        if (!path[0])
            continue;
        if (++n > MAX_OLD_KEYS) {
            gl_err_set(err, "more than %d secrets.old_key_files", MAX_OLD_KEYS);
            rc = GL_ERR;
            break;
        }
        snprintf(name, sizeof name, GL_BACKUP_OLD_KEY, n);
        if ((rc = gl_vault_file_key_id(path, id, err)) != GL_OK ||
            (rc = gl__join(dst, sizeof dst, partial, name, err)) != GL_OK ||
            (rc = gl__copy_file(path, dst, 0600, sha, &size, err)) != GL_OK)
            break;
        p = part(name, size, sha);
        json_object_object_add(p, "key_id", json_object_new_string(id));
        json_object_array_add(old, p);
    }
    free(list);
    return rc;
}

static void iso_now(char out[32])
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int do_backup(const gl_config_t *cfg, const gl__backup_opts_t *o, const char *partial, int schema,
                     const char *owner, gl_err_t *err)
{
    char dump[PATH_MAX], path[PATH_MAX], sha[GL_SHA256_HEX], dump_arg[PATH_MAX + 16], when[32];
    int64_t size;
    iso_now(when);
    if (gl__join(dump, sizeof dump, partial, GL_BACKUP_DUMP, err) != GL_OK)
        return GL_ERR;
    snprintf(dump_arg, sizeof dump_arg, "--file=%s", dump);
    /* row security stays on (a single-role owner is under FORCE ROW LEVEL
     * SECURITY; the session is trusted, gl__run_pg_tool), not refused */
    const char *args[] = { "--format=custom", "--schema=glyphic", "--enable-row-security", "--no-password", dump_arg,
                           "--dbname=application_name=glyphic-backup", NULL };
    printf("dumping the database (pg_dump --format=custom --schema=glyphic)\n");
    fflush(stdout);
    int rc = gl__run_pg_tool("pg_dump", o->pg_bin, cfg->db_admin_url, cfg->db_connect_timeout, args, err);
    if (rc != GL_OK)
        return rc;
    if (gl__hash_file(dump, sha, &size, err) != GL_OK)
        return GL_ERR;

    json_object *m = json_object_new_object(), *parts = json_object_new_object();
    json_object_object_add(m, "format", json_object_new_string(GL_BACKUP_FORMAT));
    json_object_object_add(m, "glyphic_version", json_object_new_string(GL_VERSION));
    json_object_object_add(m, "schema_version", json_object_new_int(schema));
    json_object_object_add(m, "created_at", json_object_new_string(when));
    if (strcmp(owner, "glyphic_owner") != 0)
        json_object_object_add(m, "single_role", json_object_new_string(owner));
    json_object_object_add(m, "parts", parts);
    json_object_object_add(parts, "database", part(GL_BACKUP_DUMP, size, sha));

    rc = backup_keys(cfg, partial, parts, err);
    gl__tree_sum_t sum = { 0 };
    if (rc == GL_OK && !o->no_files) {
        rc = gl__join(path, sizeof path, partial, GL_BACKUP_FILES, err);
        if (rc == GL_OK)
            rc = backup_files(cfg->files_dir, path, &sum, err);
        if (rc == GL_OK) {
            json_object *f = json_object_new_object();
            json_object_object_add(f, "dir", json_object_new_string(GL_BACKUP_FILES));
            json_object_object_add(f, "count", json_object_new_int64(sum.count));
            json_object_object_add(f, "bytes", json_object_new_int64(sum.bytes));
            json_object_object_add(f, "sha256", json_object_new_string(sum.digest));
            json_object_object_add(parts, "files", f);
        }
    }
    int style = JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE;
    if (rc == GL_OK)
        rc = gl__join(path, sizeof path, partial, GL_BACKUP_MANIFEST, err);
    if (rc == GL_OK)
        rc = write_text(path, json_object_to_json_string_ext(m, style), err);
    json_object_put(m);
    if (rc == GL_OK && o->no_files)
        printf("database: %lld bytes (schema %d); key files; files left out (--no-files)\n", (long long)size, schema);
    else if (rc == GL_OK)
        printf("database: %lld bytes (schema %d); key files; files: %lld file(s), %lld bytes\n", (long long)size,
               schema, (long long)sum.count, (long long)sum.bytes);
    return rc;
}

int gl_cli_backup(const gl_config_t *cfg, int argc, char **argv)
{
    gl__backup_opts_t o;
    int status = gl__backup_args("backup", argc, argv, false, &o);
    if (status)
        return status;
    gl_err_t err;
    gl_err_clear(&err);
    char dir[PATH_MAX], partial[PATH_MAX];
    size_t len = strlen(o.dir);
    while (len > 1 && o.dir[len - 1] == '/')
        len--;
    if (len >= sizeof dir) {
        fprintf(stderr, "glyphic backup: path too long\n");
        return 2;
    }
    snprintf(dir, sizeof dir, "%.*s", (int)len, o.dir);
    if (snprintf(partial, sizeof partial, "%.*s.partial", (int)len, o.dir) >= (int)sizeof partial) {
        fprintf(stderr, "glyphic backup: path too long\n");
        return 2;
    }

    struct stat st;
    if (stat(partial, &st) == 0) {
        fprintf(stderr, "glyphic backup: %s exists (a backup that did not finish?); remove it first\n", partial);
        return 1;
    }
    gl_db_t *db = gl__admin_db(cfg, "glyphic-backup");
    int schema = 0;
    char owner[64] = "";
    int rc = gl_db_connect_now(db, &err);
    if (rc == GL_OK)
        rc = read_schema(db, &schema, owner, &err);
    gl_db_free(db);
    if (rc != GL_OK) {
        fprintf(stderr, "glyphic backup: %s\n", err.msg);
        return 1;
    }
    char id[GL_VAULT_KEY_ID_LEN + 1];
    if (gl_vault_file_key_id(cfg->secrets_key_file, id, &err) != GL_OK) {
        fprintf(stderr, "glyphic backup: the credential key must be in a backup: %s\n", err.msg);
        return 1;
    }
    if (check_target(dir, &err) != GL_OK) {
        fprintf(stderr, "glyphic backup: %s\n", err.msg);
        return 1;
    }
    if (mkdir(partial, 0700) != 0) {
        fprintf(stderr, "glyphic backup: cannot create %s: %s\n", partial, strerror(errno));
        return 1;
    }
    char *parent = gl__parent_of(dir);
    rc = do_backup(cfg, &o, partial, schema, owner, &err);
    if (rc == GL_OK)
        rc = gl__fsync_dir(partial, &err);
    if (rc == GL_OK && rename(partial, dir) != 0) {
        gl_err_set(&err, "cannot rename %s to %s: %s", partial, dir, strerror(errno));
        rc = GL_ERR;
    }
    if (rc == GL_OK)
        rc = gl__fsync_dir(parent, &err);
    free(parent);
    if (rc != GL_OK) {
        gl__remove_tree(partial);
        fprintf(stderr, "glyphic backup: %s\nglyphic backup: nothing was written (%s removed)\n", err.msg, partial);
        return 1;
    }
    printf("backup written to %s (key %s)\n"
           "it holds the credential key: keep it as secret as %s, and a copy apart from the database\n",
           dir, id, cfg->secrets_key_file);
    return 0;
}
