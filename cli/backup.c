/*
 * backup.c: `glyphic backup DIR` and `glyphic restore DIR`.
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
 * A restore checks every part against the manifest before it touches
 * anything, refuses a database that already has a glyphic schema, creates
 * the roles the way migration 001 does (gl_migrate_create_roles), puts the
 * key file back (never over another key unless --replace-key) and the
 * files (never over other content), and runs pg_restore last, in one
 * transaction: a restore that fails can be run again as it is. main.c
 * then applies the migrations this binary has and the backup lacks.
 *
 * Exit status: 0 done, 1 failure, 2 usage.
 */
#include "backup.h"

#include "backup_io.h"
#include "db.h"
#include "json.h"
#include "migrate.h"
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

#define MANIFEST "manifest.json"
#define DUMP "glyphic.dump"
#define KEY "secret.key"
#define FILES "files"
#define FORMAT "glyphic-backup-1"
#define MAX_MANIFEST (1024 * 1024)
#define MAX_OLD_KEYS 16

typedef struct {
    const char *dir;
    const char *pg_bin;
    bool no_files;
    bool replace_key;
} opts_t;

static int parse_args(const char *cmd, int argc, char **argv, bool restore, opts_t *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--no-files") == 0)
            o->no_files = true;
        else if (restore && strcmp(argv[i], "--replace-key") == 0)
            o->replace_key = true;
        else if (strcmp(argv[i], "--pg-bin") == 0 && i + 1 < argc)
            o->pg_bin = argv[++i];
        else if (argv[i][0] != '-' && !o->dir)
            o->dir = argv[i];
        else {
            fprintf(stderr, "glyphic %s: unexpected argument '%s'\n", cmd, argv[i]);
            return 2;
        }
    }
    if (!o->dir) {
        fprintf(stderr, restore ? "usage: glyphic restore DIR [--replace-key] [--no-files] [--pg-bin DIR]\n"
                                : "usage: glyphic backup DIR [--no-files] [--pg-bin DIR]\n");
        return 2;
    }
    return 0;
}

static gl_db_t *admin_db(const gl_config_t *cfg, const char *appname)
{
    gl_db_opts_t opts = { .conninfo = cfg->db_admin_url, .appname = appname,
                          .connect_timeout_s = cfg->db_connect_timeout, .statement_timeout_ms = 0 };
    return gl_db_new(&opts);
}

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

/* Reads DIR/manifest.json; *out is released by the caller (json_object_put). */
static int read_manifest(const char *dir, json_object **out, gl_err_t *err)
{
    char path[PATH_MAX];
    if (gl__join(path, sizeof path, dir, MANIFEST, err) != GL_OK)
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
    } else if (gl_json_get_string(*out, "format", true, 64, &format, err) != GL_OK || strcmp(format, FORMAT) != 0) {
        gl_err_set(err, "%s is not a manifest this glyphic reads (format %s, want %s)", path,
                   format ? format : "missing", FORMAT);
        json_object_put(*out);
        *out = NULL;
        rc = GL_ERR;
    }
    free(buf);
    return rc;
}

/* Checks the part described by p (an object of the manifest): its file in
 * dir has the recorded size and SHA-256. */
static int check_part(const char *dir, json_object *p, const char **file_out, gl_err_t *err)
{
    const char *file = NULL, *sha = NULL;
    int64_t size = 0, got_size = 0;
    char path[PATH_MAX], got[GL_SHA256_HEX];
    if (gl_json_get_string(p, "file", true, 255, &file, err) != GL_OK ||
        gl_json_get_string(p, "sha256", true, 64, &sha, err) != GL_OK ||
        gl_json_get_int(p, "size", true, 0, INT64_MAX, &size, err) != GL_OK ||
        strchr(file, '/') || file[0] == '.') {
        gl_err_set(err, "manifest.json: a part is malformed");
        return GL_ERR;
    }
    if (gl__join(path, sizeof path, dir, file, err) != GL_OK || gl__hash_file(path, got, &got_size, err) != GL_OK)
        return GL_ERR;
    if (got_size != size || strcmp(got, sha) != 0) {
        gl_err_set(err, "%s does not match manifest.json (%lld bytes, sha256 %.12s…; recorded %lld bytes, "
                   "%.12s…): the backup is damaged", path, (long long)got_size, got, (long long)size, sha);
        return GL_ERR;
    }
    if (file_out)
        *file_out = file;
    return GL_OK;
}

/* ---- the file store -------------------------------------------------- */

typedef struct {
    int64_t count, bytes;
    char digest[GL_SHA256_HEX]; /* SHA-256 of "path\0sha256\n" for each file, in path order */
} tree_sum_t;

/*
 * Copies every file of paths from src_root to dst_root (parents created
 * 0750, as the file store makes them; each file keeps its mode), or only
 * hashes them when dst_root is NULL, and sums them up. A file already at
 * its destination with the same content is kept; one with other content
 * is an error (restore never overwrites the store).
 */
static int copy_tree(const char *src_root, const char *dst_root, const gl__paths_t *paths, tree_sum_t *sum,
                     gl_err_t *err)
{
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    memset(sum, 0, sizeof *sum);
    char src[PATH_MAX], dst[PATH_MAX], tmp[PATH_MAX + 16], sha[GL_SHA256_HEX], had[GL_SHA256_HEX];
    for (size_t i = 0; i < paths->n; i++) {
        int64_t size = 0, had_size = 0;
        struct stat s;
        if (gl__join(src, sizeof src, src_root, paths->v[i], err) != GL_OK || stat(src, &s) != 0)
            return GL_ERR;
        if (!dst_root) {
            if (gl__hash_file(src, sha, &size, err) != GL_OK)
                return GL_ERR;
        } else {
            if (gl__join(dst, sizeof dst, dst_root, paths->v[i], err) != GL_OK)
                return GL_ERR;
            char parent[PATH_MAX];
            snprintf(parent, sizeof parent, "%s", dst);
            *strrchr(parent, '/') = '\0';
            if (gl__mkdirs(parent, 0750, err) != GL_OK)
                return GL_ERR;
            int hrc = gl__hash_file(dst, had, &had_size, err);
            if (hrc == GL_OK) {
                if (gl__hash_file(src, sha, &size, err) != GL_OK)
                    return GL_ERR;
                if (strcmp(had, sha) != 0) {
                    gl_err_set(err, "%s exists with other content; not overwritten", dst);
                    return GL_CONFLICT;
                }
            } else if (hrc != GL_NOTFOUND) {
                return GL_ERR;
            } else {
                snprintf(tmp, sizeof tmp, "%s.copying", dst);
                unlink(tmp);
                if (gl__copy_file(src, tmp, s.st_mode & 07777, sha, &size, err) != GL_OK)
                    return GL_ERR;
                if (rename(tmp, dst) != 0) {
                    gl_err_set(err, "cannot rename %s: %s", tmp, strerror(errno));
                    unlink(tmp);
                    return GL_ERR;
                }
            }
        }
        crypto_hash_sha256_update(&st, (const unsigned char *)paths->v[i], strlen(paths->v[i]) + 1);
        crypto_hash_sha256_update(&st, (const unsigned char *)sha, 64);
        crypto_hash_sha256_update(&st, (const unsigned char *)"\n", 1);
        sum->count++;
        sum->bytes += size;
    }
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&st, h);
    sodium_bin2hex(sum->digest, sizeof sum->digest, h, sizeof h);
    return GL_OK;
}

/* Copies files_dir (without tmp/) into dst_root, which it creates. */
static int backup_files(const char *files_dir, const char *dst_root, tree_sum_t *sum, gl_err_t *err)
{
    gl__paths_t paths = { 0 };
    int rc = gl__walk(files_dir, "tmp", &paths, err);
    if (rc == GL_OK)
        rc = gl__mkdirs(dst_root, 0750, err);
    if (rc == GL_OK)
        rc = copy_tree(files_dir, dst_root, &paths, sum, err);
    gl__paths_free(&paths);
    return rc;
}

/* ---- glyphic backup -------------------------------------------------- */

static int read_schema_version(gl_db_t *db, int *version, gl_err_t *err)
{
    static const char q_exists[] = "SELECT to_regclass('glyphic.schema_migrations') IS NOT NULL";
    static const char q_version[] = "SELECT coalesce(max(version), 0) FROM glyphic.schema_migrations";
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
        gl__join(dst, sizeof dst, partial, KEY, err) != GL_OK ||
        gl__copy_file(cfg->secrets_key_file, dst, 0600, sha, &size, err) != GL_OK)
        return GL_ERR;
    json_object *p = part(KEY, size, sha);
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
        snprintf(name, sizeof name, "old-key-%d.key", n);
        if ((rc = gl_vault_file_key_id(path, id, err)) != GL_OK || (rc = gl__join(dst, sizeof dst, partial, name, err)) != GL_OK ||
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

static int do_backup(const gl_config_t *cfg, const opts_t *o, const char *partial, int schema, gl_err_t *err)
{
    char dump[PATH_MAX], path[PATH_MAX], sha[GL_SHA256_HEX], dump_arg[PATH_MAX + 16], when[32];
    int64_t size;
    iso_now(when);
    if (gl__join(dump, sizeof dump, partial, DUMP, err) != GL_OK)
        return GL_ERR;
    snprintf(dump_arg, sizeof dump_arg, "--file=%s", dump);
    const char *args[] = { "--format=custom", "--schema=glyphic", "--no-password", dump_arg,
                           "--dbname=application_name=glyphic-backup", NULL };
    printf("dumping the database (pg_dump --format=custom --schema=glyphic)\n");
    fflush(stdout);
    int rc = gl__run_pg_tool("pg_dump", o->pg_bin, cfg->db_admin_url, cfg->db_connect_timeout, args, err);
    if (rc != GL_OK)
        return rc;
    if (gl__hash_file(dump, sha, &size, err) != GL_OK)
        return GL_ERR;

    json_object *m = json_object_new_object(), *parts = json_object_new_object();
    json_object_object_add(m, "format", json_object_new_string(FORMAT));
    json_object_object_add(m, "glyphic_version", json_object_new_string(GL_VERSION));
    json_object_object_add(m, "schema_version", json_object_new_int(schema));
    json_object_object_add(m, "created_at", json_object_new_string(when));
    json_object_object_add(m, "parts", parts);
    json_object_object_add(parts, "database", part(DUMP, size, sha));

    rc = backup_keys(cfg, partial, parts, err);
    tree_sum_t sum = { 0 };
    if (rc == GL_OK && !o->no_files) {
        rc = gl__join(path, sizeof path, partial, FILES, err);
        if (rc == GL_OK)
            rc = backup_files(cfg->files_dir, path, &sum, err);
        if (rc == GL_OK) {
            json_object *f = json_object_new_object();
            json_object_object_add(f, "dir", json_object_new_string(FILES));
            json_object_object_add(f, "count", json_object_new_int64(sum.count));
            json_object_object_add(f, "bytes", json_object_new_int64(sum.bytes));
            json_object_object_add(f, "sha256", json_object_new_string(sum.digest));
            json_object_object_add(parts, "files", f);
        }
    }
    if (rc == GL_OK && gl__join(path, sizeof path, partial, MANIFEST, err) == GL_OK)
        rc = write_text(path, json_object_to_json_string_ext(m, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE),
                        err);
    json_object_put(m);
    if (rc == GL_OK)
        printf("database: %lld bytes (schema %d); key file; %s\n", (long long)size, schema,
               o->no_files ? "files left out (--no-files)" : "");
    if (rc == GL_OK && !o->no_files)
        printf("files: %lld file(s), %lld bytes\n", (long long)sum.count, (long long)sum.bytes);
    return rc;
}

static char *parent_of(const char *path)
{
    char *p = gl_xstrdup(path);
    char *slash = strrchr(p, '/');
    if (!slash)
        snprintf(p, strlen(p) + 1, ".");
    else if (slash == p)
        slash[1] = '\0';
    else
        *slash = '\0';
    return p;
}

int gl_cli_backup(const gl_config_t *cfg, int argc, char **argv)
{
    opts_t o;
    int status = parse_args("backup", argc, argv, false, &o);
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
    gl_db_t *db = admin_db(cfg, "glyphic-backup");
    int schema = 0;
    int rc = gl_db_connect_now(db, &err);
    if (rc == GL_OK)
        rc = read_schema_version(db, &schema, &err);
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
    char *parent = parent_of(dir);
    rc = do_backup(cfg, &o, partial, schema, &err);
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

/* ---- glyphic restore ------------------------------------------------- */

/* Every part of the backup in dir against its manifest, before anything is
 * touched. *files: the manifest's files part, or NULL when the backup has none. */
static int verify_backup(const char *dir, json_object *m, json_object **files, tree_sum_t *sum, gl_err_t *err)
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
    if (gl_json_get_object(parts, "database", true, &p, err) != GL_OK || check_part(dir, p, NULL, err) != GL_OK)
        return GL_ERR;
    if (gl_json_get_object(parts, "key", true, &p, err) != GL_OK || check_part(dir, p, NULL, err) != GL_OK)
        return GL_ERR;
    if (gl_json_get_array(parts, "old_keys", false, &old, err) == GL_OK) {
        for (size_t i = 0; i < json_object_array_length(old); i++)
            if (check_part(dir, json_object_array_get_idx(old, i), NULL, err) != GL_OK)
                return GL_ERR;
    }
    *files = NULL;
    if (gl_json_get_object(parts, "files", false, files, err) != GL_OK)
        return GL_OK;
    const char *sub = NULL, *digest = NULL;
    int64_t count = 0, bytes = 0;
    char root[PATH_MAX];
    if (gl_json_get_string(*files, "dir", true, 64, &sub, err) != GL_OK || strcmp(sub, FILES) != 0 ||
        gl_json_get_string(*files, "sha256", true, 64, &digest, err) != GL_OK ||
        gl_json_get_int(*files, "count", true, 0, INT64_MAX, &count, err) != GL_OK ||
        gl_json_get_int(*files, "bytes", true, 0, INT64_MAX, &bytes, err) != GL_OK) {
        gl_err_set(err, "manifest.json: the files part is malformed");
        return GL_ERR;
    }
    gl__paths_t paths = { 0 };
    int rc = gl__join(root, sizeof root, dir, FILES, err);
    if (rc == GL_OK)
        rc = gl__walk(root, NULL, &paths, err);
    if (rc == GL_OK)
        rc = copy_tree(root, NULL, &paths, sum, err);
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
    static const char q_rows[] = "SELECT (SELECT count(*) FROM glyphic.users), (SELECT count(*) FROM glyphic.workflows)";
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
    char *parent = parent_of(dst);
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
    if (gl__join(src, sizeof src, dir, KEY, err) != GL_OK)
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
    char *parent = parent_of(dst);
    int rc = gl__fsync_dir(parent, err);
    free(parent);
    return rc;
}

static int restore_files(const gl_config_t *cfg, const char *dir, tree_sum_t *sum, gl_err_t *err)
{
    char root[PATH_MAX];
    gl__paths_t paths = { 0 };
    int rc = gl__join(root, sizeof root, dir, FILES, err);
    if (rc == GL_OK)
        rc = gl__walk(root, NULL, &paths, err);
    if (rc == GL_OK)
        rc = gl__mkdirs(cfg->files_dir, 0750, err);
    if (rc == GL_OK)
        rc = copy_tree(root, cfg->files_dir, &paths, sum, err);
    gl__paths_free(&paths);
    return rc;
}

static int do_restore(const gl_config_t *cfg, const opts_t *o, json_object *m, gl_err_t *err)
{
    json_object *files = NULL, *parts = NULL, *key = NULL, *old = NULL;
    tree_sum_t sum = { 0 };
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

    gl_db_t *db = admin_db(cfg, "glyphic-restore");
    int rc = gl_db_connect_now(db, err);
    if (rc == GL_OK)
        rc = check_empty_database(db, err);
    if (rc == GL_OK)
        rc = gl_migrate_create_roles(db, err);
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
    if (gl__join(dump, sizeof dump, o->dir, DUMP, err) != GL_OK)
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
    opts_t o;
    int status = parse_args("restore", argc, argv, true, &o);
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
        fprintf(stderr, "glyphic restore: %s\n", err.msg);
        return 1;
    }
    printf("restored from %s; applying this glyphic's migrations\n", o.dir);
    return 0;
}
