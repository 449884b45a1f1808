/*
 * backup_io.h: what `glyphic backup` and `glyphic restore` do to files and
 * child processes (backup_io.c): copies that hash as they go and reach the
 * disk before they count, a sorted walk of a folder tree, and PostgreSQL's
 * client programs run without a shell, their connection passed through the
 * environment (never the command line, where `ps` shows it).
 */
#ifndef GL_CLI_BACKUP_IO_H
#define GL_CLI_BACKUP_IO_H

#include "config.h"
#include "gl.h"

#include <stdint.h>

#define GL_SHA256_HEX 65 /* 64 hex digits and a NUL */

/* Paths relative to a walked root, sorted; freed with gl__paths_free(). */
typedef struct {
    char **v;
    size_t n, cap;
} gl__paths_t;

/* A backup folder's names (backup.c describes the layout). */
#define GL_BACKUP_MANIFEST "manifest.json"
#define GL_BACKUP_DUMP "glyphic.dump"
#define GL_BACKUP_KEY "secret.key"
#define GL_BACKUP_OLD_KEY "old-key-%d.key" /* N = 1, 2... */
#define GL_BACKUP_FILES "files"
#define GL_BACKUP_FORMAT "glyphic-backup-1"

struct gl_db;

/* The command line of glyphic backup and restore. */
typedef struct {
    const char *dir;
    const char *pg_bin;
    bool no_files;
    bool replace_key;
} gl__backup_opts_t;

/* Parses argv (argv[0] the command) into *o; restore: --replace-key is
 * allowed. Returns 0, or the exit status 2 after a usage message. */
int gl__backup_args(const char *cmd, int argc, char **argv, bool restore, gl__backup_opts_t *o);

/* A handle on db.admin_url (not yet connected); gl_db_free() frees it. */
struct gl_db *gl__admin_db(const gl_config_t *cfg, const char *appname);

/* What a copied (or hashed) file tree sums up to. */
typedef struct {
    int64_t count, bytes;
    char digest[GL_SHA256_HEX]; /* SHA-256 of "path\0sha256\n" for each file, in path order */
} gl__tree_sum_t;

/*
 * Copies every file of paths from src_root to dst_root (parents created
 * 0750, as the file store makes them; each file keeps its mode), or only
 * hashes them when dst_root is NULL, and sums them up. A file already at
 * its destination with the same content is kept; one with other content
 * is GL_CONFLICT (a restore never overwrites the store).
 */
int gl__copy_tree(const char *src_root, const char *dst_root, const gl__paths_t *paths, gl__tree_sum_t *sum,
                  gl_err_t *err) GL_WUR;

/* The folder holding path ("." for a bare name); the caller frees it. */
char *gl__parent_of(const char *path);


void gl__paths_free(gl__paths_t *p);

/* Copies src to dst, a new file (O_EXCL) with mode, flushed to disk
 * (fsync) before it returns GL_OK; *sha (hex) and *size describe what was
 * copied. On failure dst is removed. */
int gl__copy_file(const char *src, const char *dst, unsigned mode, char sha[GL_SHA256_HEX], int64_t *size,
                  gl_err_t *err) GL_WUR;

/* The SHA-256 (hex) and size of the file at path. */
int gl__hash_file(const char *path, char sha[GL_SHA256_HEX], int64_t *size, gl_err_t *err) GL_WUR;

/* The regular files under root, as paths relative to it, sorted; a
 * top-level folder named skip_top (may be NULL) is left out, and so is
 * anything that is neither a folder nor a regular file (said on stderr).
 * A missing root is an empty list. */
int gl__walk(const char *root, const char *skip_top, gl__paths_t *out, gl_err_t *err) GL_WUR;

/* Creates path and its missing parents with mode (existing ones are kept). */
int gl__mkdirs(const char *path, unsigned mode, gl_err_t *err) GL_WUR;

/* fsync of a folder, so the names created in it survive a crash. */
int gl__fsync_dir(const char *path, gl_err_t *err) GL_WUR;

/* Removes path and everything under it (a backup that did not finish). */
void gl__remove_tree(const char *path);

/* "a/b" into buf[cap]; GL_TOO_LARGE when it does not fit. */
int gl__join(char *buf, size_t cap, const char *a, const char *b, gl_err_t *err) GL_WUR;

/*
 * Runs the PostgreSQL client program tool (pg_dump, pg_restore) with args
 * (NULL-terminated, after argv[0]) and waits for it. bindir: the folder
 * holding it, or NULL to search PATH. conninfo is taken apart
 * (PQconninfoParse) and each of its settings handed over in its libpq
 * environment variable (PGHOST, PGPASSWORD...), so no password reaches
 * argv; the tool's own messages go to our stderr. GL_NOTFOUND when tool
 * cannot be found, GL_ERR when it fails (err says how).
 */
int gl__run_pg_tool(const char *tool, const char *bindir, const char *conninfo, int connect_timeout_s,
                    const char *const *args, gl_err_t *err) GL_WUR;

#endif
