/* backup_io.c: what backup.c and restore.c share: files, child processes, arguments (see backup_io.h). */
#include "backup_io.h"

#include "db.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libpq-fe.h>
#include <limits.h>
#include <sodium.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define COPY_CHUNK (256 * 1024)

void gl__paths_free(gl__paths_t *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->v[i]);
    free(p->v);
    memset(p, 0, sizeof *p);
}

static void paths_push(gl__paths_t *p, const char *s)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 64;
        size_t bytes;
        if (!gl_size_mul(p->cap, sizeof *p->v, &bytes))
            abort();
        p->v = gl_xrealloc(p->v, bytes);
    }
    p->v[p->n++] = gl_xstrdup(s);
}

int gl__join(char *buf, size_t cap, const char *a, const char *b, gl_err_t *err)
{
    int n = a[0] ? snprintf(buf, cap, "%s/%s", a, b) : snprintf(buf, cap, "%s", b);
    if (n < 0 || (size_t)n >= cap) {
        gl_err_set(err, "path too long: %s/%s", a, b);
        return GL_TOO_LARGE;
    }
    return GL_OK;
}

static int write_all(int fd, const unsigned char *p, size_t n, const char *path, gl_err_t *err)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            gl_err_set(err, "cannot write %s: %s", path, strerror(errno));
            return GL_ERR;
        }
        p += w;
        n -= (size_t)w;
    }
    return GL_OK;
}

/* Reads src_fd to its end, hashing, and writes it to dst_fd when >= 0. */
static int pump(int src_fd, const char *src, int dst_fd, const char *dst, char sha[GL_SHA256_HEX],
                int64_t *size, gl_err_t *err)
{
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    unsigned char *buf = gl_xmalloc(COPY_CHUNK);
    int64_t total = 0;
    int rc = GL_OK;
    for (;;) {
        ssize_t n = read(src_fd, buf, COPY_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            gl_err_set(err, "cannot read %s: %s", src, strerror(errno));
            rc = GL_ERR;
            break;
        }
        if (n == 0)
            break;
        crypto_hash_sha256_update(&st, buf, (size_t)n);
        total += n;
        if (dst_fd >= 0 && (rc = write_all(dst_fd, buf, (size_t)n, dst, err)) != GL_OK)
            break;
    }
    free(buf);
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&st, h);
    sodium_bin2hex(sha, GL_SHA256_HEX, h, sizeof h);
    *size = total;
    return rc;
}

int gl__hash_file(const char *path, char sha[GL_SHA256_HEX], int64_t *size, gl_err_t *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        gl_err_set(err, "cannot open %s: %s", path, strerror(errno));
        return errno == ENOENT ? GL_NOTFOUND : GL_ERR;
    }
    int rc = pump(fd, path, -1, NULL, sha, size, err);
    close(fd);
    return rc;
}

int gl__copy_file(const char *src, const char *dst, unsigned mode, char sha[GL_SHA256_HEX], int64_t *size,
                  gl_err_t *err)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        gl_err_set(err, "cannot open %s: %s", src, strerror(errno));
        return GL_ERR;
    }
    int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, (mode_t)mode);
    if (out < 0) {
        gl_err_set(err, "cannot create %s: %s", dst, strerror(errno));
        close(in);
        return GL_ERR;
    }
    int rc = pump(in, src, out, dst, sha, size, err);
    close(in);
    /* the umask may have narrowed mode; a disk that fills up may say so only
     * at fsync or close */
    if (rc == GL_OK && (fchmod(out, (mode_t)mode) != 0 || fsync(out) != 0)) {
        gl_err_set(err, "cannot write %s: %s", dst, strerror(errno));
        rc = GL_ERR;
    }
    if (close(out) != 0 && rc == GL_OK) {
        gl_err_set(err, "cannot write %s: %s", dst, strerror(errno));
        rc = GL_ERR;
    }
    if (rc != GL_OK)
        unlink(dst);
    return rc;
}

static int walk_dir(const char *root, const char *rel, const char *skip_top, gl__paths_t *out, gl_err_t *err)
{
    char dir[PATH_MAX], child_rel[PATH_MAX], child[PATH_MAX];
    int rc = gl__join(dir, sizeof dir, root, rel, err);
    if (rc != GL_OK)
        return rc;
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT && !rel[0])
            return GL_OK;
        gl_err_set(err, "cannot read folder %s: %s", dir, strerror(errno));
        return GL_ERR;
    }
    struct dirent *e;
    while (rc == GL_OK && (errno = 0, e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (!rel[0] && skip_top && strcmp(e->d_name, skip_top) == 0)
            continue;
        if ((rc = gl__join(child_rel, sizeof child_rel, rel, e->d_name, err)) != GL_OK ||
            (rc = gl__join(child, sizeof child, root, child_rel, err)) != GL_OK)
            break;
        struct stat st;
        if (lstat(child, &st) != 0) {
            gl_err_set(err, "cannot stat %s: %s", child, strerror(errno));
            rc = GL_ERR;
        } else if (S_ISDIR(st.st_mode))
            rc = walk_dir(root, child_rel, skip_top, out, err);
        else if (S_ISREG(st.st_mode))
            paths_push(out, child_rel);
        else
            fprintf(stderr, "skipping %s: not a regular file\n", child);
    }
    if (rc == GL_OK && errno != 0) {
        gl_err_set(err, "cannot read folder %s: %s", dir, strerror(errno));
        rc = GL_ERR;
    }
    closedir(d);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int gl__walk(const char *root, const char *skip_top, gl__paths_t *out, gl_err_t *err)
{
    int rc = walk_dir(root, "", skip_top, out, err);
    if (rc == GL_OK && out->n > 1)
        qsort(out->v, out->n, sizeof *out->v, cmp_str);
    return rc;
}

int gl__mkdirs(const char *path, unsigned mode, gl_err_t *err)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
        gl_err_set(err, "path too long: %s", path);
        return GL_TOO_LARGE;
    }
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char was = *p;
        *p = '\0';
        if (mkdir(buf, (mode_t)mode) != 0 && errno != EEXIST) {
            gl_err_set(err, "cannot create folder %s: %s", buf, strerror(errno));
            return GL_ERR;
        }
        *p = was;
        if (!was)
            return GL_OK;
    }
}

int gl__fsync_dir(const char *path, gl_err_t *err)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        gl_err_set(err, "cannot flush folder %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return GL_ERR;
    }
    close(fd);
    return GL_OK;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

void gl__remove_tree(const char *path)
{
    nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* "NAME=value", the caller frees it. */
static char *env_entry(const char *name, const char *value)
{
    size_t n = strlen(name) + strlen(value) + 2;
    char *s = gl_xmalloc(n);
    snprintf(s, n, "%s=%s", name, value);
    return s;
}

/*
 * The child's environment: ours, with conninfo's settings in their libpq
 * variables (replacing any of the same name), and PGCONNECT_TIMEOUT when
 * conninfo does not set one. NULL-terminated; freed with free_env().
 */
static char **pg_env(const char *conninfo, int connect_timeout_s, const char *tool, gl_err_t *err)
{
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &perr);
    if (!opts) {
        gl_err_set(err, "db.admin_url: %s", perr ? gl_str_trim(perr) : "out of memory");
        PQfreemem(perr);
        return NULL;
    }
    size_t n_opts = 0, n_env = 0;
    for (PQconninfoOption *o = opts; o->keyword; o++)
        n_opts++;
    while (environ[n_env])
        n_env++;
    /* the session acts for every org: a single-role installation trusts it
     * by this setting (core/migrate.c); the three-role layout ignores it */
#define TRUSTED "-c glyphic.trusted=on"
    char **ours = gl_xcalloc(n_opts + 3, sizeof *ours);
    size_t n_ours = 0;
    bool timeout_set = false, options_set = false;
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val || !o->val[0])
            continue;
        if (!o->envvar) {
            gl_err_set(err, "db.admin_url sets %s, which %s cannot be given without its command line",
                       o->keyword, tool);
            for (size_t i = 0; i < n_ours; i++)
                free(ours[i]);
            free(ours);
            PQconninfoFree(opts);
            return NULL;
        }
        timeout_set |= strcmp(o->keyword, "connect_timeout") == 0;
        if (strcmp(o->keyword, "options") == 0) {
            options_set = true;
            char *both = gl_xmalloc(strlen(o->val) + sizeof " " TRUSTED);
            sprintf(both, "%s %s", o->val, TRUSTED);
            ours[n_ours++] = env_entry(o->envvar, both);
            free(both);
        } else
            ours[n_ours++] = env_entry(o->envvar, o->val);
    }
    PQconninfoFree(opts);
    if (!options_set)
        ours[n_ours++] = env_entry("PGOPTIONS", TRUSTED);
    if (!timeout_set && connect_timeout_s > 0) {
        char t[16];
        snprintf(t, sizeof t, "%d", connect_timeout_s);
        ours[n_ours++] = env_entry("PGCONNECT_TIMEOUT", t);
    }
    char **env = gl_xcalloc(n_env + n_ours + 1, sizeof *env);
    size_t k = 0;
    for (size_t i = 0; i < n_env; i++) {
        bool replaced = false;
        for (size_t j = 0; j < n_ours && !replaced; j++) {
            size_t len = (size_t)(strchr(ours[j], '=') - ours[j]) + 1;
            replaced = strncmp(environ[i], ours[j], len) == 0;
        }
        if (!replaced)
            env[k++] = gl_xstrdup(environ[i]);
    }
    for (size_t j = 0; j < n_ours; j++)
        env[k++] = ours[j];
    free(ours);
    return env;
}

static void free_env(char **env)
{
    for (size_t i = 0; env && env[i]; i++) {
        sodium_memzero(env[i], strlen(env[i])); /* PGPASSWORD */
        free(env[i]);
    }
    free(env);
}

int gl__run_pg_tool(const char *tool, const char *bindir, const char *conninfo, int connect_timeout_s,
                    const char *const *args, gl_err_t *err)
{
    char path[PATH_MAX];
    if (bindir && gl__join(path, sizeof path, bindir, tool, err) != GL_OK)
        return GL_ERR;
    char **env = pg_env(conninfo, connect_timeout_s, tool, err);
    if (!env)
        return GL_INVALID;
    size_t n_args = 0;
    while (args[n_args])
        n_args++;
    char **argv = gl_xcalloc(n_args + 2, sizeof *argv);
    argv[0] = (char *)(uintptr_t)tool;
    for (size_t i = 0; i < n_args; i++)
        argv[i + 1] = (char *)(uintptr_t)args[i];

    pid_t pid;
    int e = bindir ? posix_spawn(&pid, path, NULL, NULL, argv, env) : posix_spawnp(&pid, tool, NULL, NULL, argv, env);
    free(argv);
    free_env(env);
    if (e != 0) {
        if (e == ENOENT)
            gl_err_set(err, "%s not found %s%s (install PostgreSQL's client programs, e.g. the package "
                       "postgresql-client, or name their folder with --pg-bin DIR)",
                       tool, bindir ? "in " : "in PATH", bindir ? bindir : "");
        else
            gl_err_set(err, "cannot start %s: %s", tool, strerror(e));
        return e == ENOENT ? GL_NOTFOUND : GL_ERR;
    }
    /* no time limit: a large database takes as long as it takes, and the
     * tool's own connect_timeout bounds the wait for an absent server */
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            gl_err_set(err, "waiting for %s: %s", tool, strerror(errno));
            return GL_ERR;
        }
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return GL_OK;
    if (WIFEXITED(status))
        gl_err_set(err, "%s failed (exit status %d; its message is above)", tool, WEXITSTATUS(status));
    else
        gl_err_set(err, "%s was killed by signal %d", tool, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    return GL_ERR;
}

/* ---- shared by backup.c and restore.c ---------------------------------- */


int gl__backup_args(const char *cmd, int argc, char **argv, bool restore, gl__backup_opts_t *o)
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

gl_db_t *gl__admin_db(const gl_config_t *cfg, const char *appname)
{
    gl_db_opts_t opts = { .conninfo = cfg->db_admin_url, .appname = appname, .trusted = true,
                          .connect_timeout_s = cfg->db_connect_timeout, .statement_timeout_ms = 0 };
    return gl_db_new(&opts);
}


/* fsync of dir and of each folder above it up to root, so the names of
 * the files copied into dir (and of dir itself) survive a crash. dir "":
 * nothing to do. */
static int flush_up(const char *dir, const char *root, gl_err_t *err)
{
    char d[PATH_MAX];
    size_t root_len = strlen(root);
    snprintf(d, sizeof d, "%s", dir);
    while (d[0] && strlen(d) >= root_len) {
        if (gl__fsync_dir(d, err) != GL_OK)
            return GL_ERR;
        char *slash = strrchr(d, '/');
        if (!slash || strlen(d) == root_len)
            break;
        *slash = '\0';
    }
    return GL_OK;
}

int gl__copy_tree(const char *src_root, const char *dst_root, const gl__paths_t *paths, gl__tree_sum_t *sum,
                  gl_err_t *err)
{
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    memset(sum, 0, sizeof *sum);
    char src[PATH_MAX], dst[PATH_MAX], tmp[PATH_MAX + 16], sha[GL_SHA256_HEX], had[GL_SHA256_HEX];
    char parent[PATH_MAX], synced[PATH_MAX] = "";
    for (size_t i = 0; i < paths->n; i++) {
        int64_t size = 0, had_size = 0;
        struct stat s;
        if (gl__join(src, sizeof src, src_root, paths->v[i], err) != GL_OK)
            return GL_ERR;
        if (stat(src, &s) != 0) {
            gl_err_set(err, "cannot stat %s: %s", src, strerror(errno));
            return GL_ERR;
        }
        if (!dst_root) {
            if (gl__hash_file(src, sha, &size, err) != GL_OK)
                return GL_ERR;
        } else {
            if (gl__join(dst, sizeof dst, dst_root, paths->v[i], err) != GL_OK)
                return GL_ERR;
            snprintf(parent, sizeof parent, "%s", dst);
            *strrchr(parent, '/') = '\0';
            if (strcmp(parent, synced) != 0) {
                if (flush_up(synced, dst_root, err) != GL_OK || gl__mkdirs(parent, 0750, err) != GL_OK)
                    return GL_ERR;
                snprintf(synced, sizeof synced, "%s", parent);
            }
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
    if (dst_root && flush_up(synced, dst_root, err) != GL_OK)
        return GL_ERR;
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&st, h);
    sodium_bin2hex(sum->digest, sizeof sum->digest, h, sizeof h);
    return GL_OK;
}

char *gl__parent_of(const char *path)
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
