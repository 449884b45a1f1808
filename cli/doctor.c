/*
 * doctor.c: `glyphic doctor` — checks an installation the way an operator
 * would after an install or on a bad day, and says for each check what to
 * do about it:
 *
 *   configuration     which file was read
 *   credential key    secrets.key_file opens (mode 0600, 64 hex digits)
 *   database (app)    db.url connects; its role neither superuser nor
 *                     BYPASSRLS (else row level security binds nothing);
 *                     the schema is this binary's; the database's encoding
 *                     is UTF8; every table holding an org's rows is under
 *                     FORCE ROW LEVEL SECURITY; the request context is in
 *                     memory (glyphic_context.so) or a temporary table
 *   database (executor)  db.executor_url connects
 *   executor          one has waited for work or finished jobs in the last
 *                     ten minutes, or no job has been due for two minutes
 *                     (else: is glyphic-executor running, or cron?)
 *   file store        files.dir exists and this account can write it; free
 *                     space (warn under 1 GiB or 5 %)
 *   database disk     the database's size; free space on PostgreSQL's
 *                     disk when db.admin_url's role may read data_directory
 *                     and the cluster is on this machine
 *   sockets           fcgi.socket and events.socket exist and nginx's
 *                     account (www-data, or --nginx-user) can connect
 *   nginx             `nginx -t` passes on --nginx-conf (/etc/nginx/nginx.conf)
 *                     and its configuration (`nginx -T`) passes requests to
 *                     fcgi.socket; as root only (nginx -t needs it)
 *
 * Each line: "ok", "warn" or "FAIL", the check, what it found; a warning or
 * failure has an indented "fix:" line. Exit 1 when a check failed, else 0.
 */
#include "doctor.h"

#include "crypto.h"
#include "db.h"
#include "migrate.h"
#include "vault.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct {
    int fails, warns;
} report_t;

enum { OK, WARN, FAIL };

static void say(report_t *r, int level, const char *check, const char *fix, const char *fmt, ...) GL_PRINTF(5, 6);
static void say(report_t *r, int level, const char *check, const char *fix, const char *fmt, ...)
{
    static const char *const tags[] = { "ok  ", "warn", "FAIL" };
    char what[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    printf("%s  %-20s %s\n", tags[level], check, what);
    if (level != OK && fix)
        printf("      %-20s fix: %s\n", "", fix);
    r->fails += level == FAIL;
    r->warns += level == WARN;
}

/* One-row, unprepared query; NULL (and err) when it failed or gave no row.
 * The caller clears the result. */
static PGresult *one_row(gl_db_t *db, const char *sql, gl_err_t *err)
{
    PGresult *res = NULL;
    if (gl_db_exec(db, sql, 0, NULL, true, NULL, &res, err) != GL_OK)
        return NULL;
    if (PQntuples(res) != 1) {
        PQclear(res);
        gl_err_set(err, "no answer");
        return NULL;
    }
    return res;
}

static gl_db_t *connect_as(const gl_config_t *cfg, const char *conninfo, bool trusted, gl_err_t *err)
{
    gl_db_opts_t opts = { .conninfo = conninfo, .appname = "glyphic-doctor",
                          .connect_timeout_s = cfg->db_connect_timeout, .trusted = trusted };
    gl_db_t *db = gl_db_new(&opts);
    if (gl_db_connect_now(db, err) != GL_OK) {
        gl_db_free(db);
        return NULL;
    }
    return db;
}

static void check_key(report_t *r, const gl_config_t *cfg)
{
    gl_vault_t *v = NULL;
    gl_err_t err;
    gl_err_clear(&err);
    if (gl_crypto_init() != GL_OK) {
        say(r, FAIL, "credential key", NULL, "libsodium cannot start");
        return;
    }
    if (gl_vault_load(cfg->secrets_key_file, cfg->secrets_old_key_files, &v, &err) == GL_OK)
        say(r, OK, "credential key", NULL, "%s opens", cfg->secrets_key_file);
    else
        say(r, FAIL, "credential key", "create it with `glyphic keygen FILE` (mode 0600, owned by the account the "
                                       "programs run as) and set secrets.key_file", "%s", err.msg);
    gl_vault_free(v);
}

static void check_role(report_t *r, gl_db_t *db)
{
    gl_err_t err;
    gl_err_clear(&err);
    PGresult *res = one_row(db, "SELECT current_user, r.rolsuper, r.rolbypassrls FROM pg_roles r "
                                "WHERE r.rolname = current_user", &err);
    if (!res) {
        say(r, FAIL, "app role", NULL, "cannot read the role: %s", err.msg);
        return;
    }
    bool super = PQgetvalue(res, 0, 1)[0] == 't', bypass = PQgetvalue(res, 0, 2)[0] == 't';
    if (super || bypass)
        say(r, FAIL, "app role", "log glyphic-fcgi in as glyphic_app (db.url user=glyphic_app), which row level "
                                 "security binds",
            "db.url logs in as %s, a %s: row level security does not bind it", PQgetvalue(res, 0, 0),
            super ? "superuser" : "role with BYPASSRLS");
    else
        say(r, OK, "app role", NULL, "%s (row level security binds it)", PQgetvalue(res, 0, 0));
    PQclear(res);
}

/* Three roles, or one (`glyphic migrate --single-role`): says what the
 * single-role layout does not guarantee. */
static void check_layout(report_t *r, gl_db_t *db)
{
    gl_err_t err;
    gl_err_clear(&err);
    PGresult *res = one_row(db, "SELECT n.nspowner::regrole::text, n.nspowner::regrole::text = current_user::text "
                                "FROM pg_namespace n WHERE n.nspname = 'glyphic'", &err);
    if (!res) {
        say(r, FAIL, "role layout", "run `glyphic migrate` (with db.admin_url)", "no schema glyphic: %s", err.msg);
        return;
    }
    const char *owner = PQgetvalue(res, 0, 0);
    if (strcmp(owner, "glyphic_owner") == 0)
        say(r, OK, "role layout", NULL, "three roles: glyphic_owner owns the schema; db.url's role only uses it");
    else if (PQgetvalue(res, 0, 1)[0] == 't')
        say(r, WARN, "role layout",
            "for the full guarantees install where an administrator can create the roles glyphic_owner, "
            "glyphic_app and glyphic_executor, and run `glyphic migrate` there (README: Install)",
            "single role: %s owns the schema and is also the app and the executor. Row level security still "
            "binds the programs' queries (a missed org filter cannot show another org's rows), but SQL run as "
            "%s can switch it off, read or change every org's rows, and call the executor's functions; "
            "the database no longer keeps the app from what only the executor may do",
            owner, owner);
    else
        say(r, FAIL, "role layout", "log glyphic-fcgi in as the role that owns the schema (single-role) or as "
                                    "glyphic_app (three roles)",
            "the schema is owned by %s, which is neither glyphic_owner nor db.url's role", owner);
    PQclear(res);
}

static void check_schema(report_t *r, gl_db_t *db)
{
    gl_err_t err;
    gl_err_clear(&err);
    PGresult *res = one_row(db, "SELECT coalesce(max(version), 0) FROM glyphic.schema_migrations", &err);
    if (!res) {
        say(r, FAIL, "schema", "run `glyphic migrate` (with db.admin_url)", "cannot read it: %s", err.msg);
        return;
    }
    int have = atoi(PQgetvalue(res, 0, 0)), want = gl_migrate_latest();
    PQclear(res);
    if (have == want)
        say(r, OK, "schema", NULL, "version %d, this binary's", have);
    else if (have < want)
        say(r, FAIL, "schema", "run `glyphic migrate` (with db.admin_url)", "version %d, this binary needs %d", have,
            want);
    else
        say(r, FAIL, "schema", "install the Glyphic that migrated it (or a newer one)",
            "version %d is newer than this binary's %d", have, want);
}

/* jsonb refuses a \u escape past ASCII unless the encoding is UTF8, so
 * such a workflow could not be saved (`glyphic migrate` installs only in
 * UTF8; a database that was converted since is found here). */
static void check_encoding(report_t *r, gl_db_t *db)
{
    const char *enc = PQparameterStatus(gl_db_conn(db), "server_encoding");
    if (enc && strcmp(enc, "UTF8") == 0)
        say(r, OK, "encoding", NULL, "UTF8");
    else
        say(r, FAIL, "encoding", "dump the database and restore it into one created with ENCODING 'UTF8'",
            "%s: workflows with characters past ASCII in \\u escapes cannot be saved", enc ? enc : "unknown");
}

/* Which request context `glyphic migrate` installed (sql/035). */
static void check_context(report_t *r, gl_db_t *db)
{
    gl_err_t err;
    gl_err_clear(&err);
    /* user_id() loads the module when it is the C one: a file that went
     * away fails every request */
    PGresult *res = one_row(db, "SELECT glyphic_ctx.kind(), glyphic_ctx.user_id() IS NULL", &err);
    if (!res) {
        say(r, FAIL, "request context", "run `glyphic migrate` (with db.admin_url): it reinstalls the module, or "
                                        "goes back to the table when it cannot", "cannot read it: %s", err.msg);
        return;
    }
    if (strcmp(PQgetvalue(res, 0, 0), "memory") == 0)
        say(r, OK, "request context", NULL, "in memory (glyphic_context.so)");
    else
        say(r, OK, "request context", NULL, "a temporary table (slower: `glyphic migrate` as a superuser installs "
                                            "glyphic_context.so; see db.context_module)");
    PQclear(res);
}

static void check_rls(report_t *r, gl_db_t *db)
{
    gl_err_t err;
    gl_err_clear(&err);
    PGresult *res = one_row(
        db,
        "SELECT count(*) FILTER (WHERE c.relrowsecurity AND c.relforcerowsecurity), "
        "coalesce(string_agg(c.relname, ', ' ORDER BY c.relname) "
        "  FILTER (WHERE NOT (c.relrowsecurity AND c.relforcerowsecurity)), '') "
        "FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'org_id' AND NOT a.attisdropped "
        "WHERE c.relnamespace = 'glyphic'::regnamespace AND c.relkind IN ('r', 'p')",
        &err);
    if (!res) {
        say(r, FAIL, "row level security", NULL, "cannot read it: %s", err.msg);
        return;
    }
    if (PQgetvalue(res, 0, 1)[0])
        say(r, FAIL, "row level security", "run `glyphic migrate`; if it stays, the schema was changed by hand",
            "not forced on: %.300s", PQgetvalue(res, 0, 1));
    else
        say(r, OK, "row level security", NULL, "forced on all %s tables that hold an org's rows",
            PQgetvalue(res, 0, 0));
    PQclear(res);
}

static void check_executor(report_t *r, gl_db_t *db)
{
    gl_err_t err;
    gl_err_clear(&err);
    PGresult *res = one_row(
        db,
        "SELECT (SELECT max(until) > now() - interval '10 minutes' FROM glyphic.queue_waiters) IS TRUE, "
        "       (SELECT max(minute) > now() - interval '10 minutes' FROM glyphic.job_stats) IS TRUE, "
        "       (SELECT count(*) FROM glyphic.jobs WHERE state = 'queued' AND run_at < now() - interval '2 minutes'), "
        "       (SELECT count(*) FROM glyphic.jobs WHERE state = 'dead')",
        &err);
    if (!res) {
        say(r, FAIL, "executor", NULL, "cannot read the queue: %s", err.msg);
        return;
    }
    bool seen = PQgetvalue(res, 0, 0)[0] == 't' || PQgetvalue(res, 0, 1)[0] == 't';
    long long late = atoll(PQgetvalue(res, 0, 2)), dead = atoll(PQgetvalue(res, 0, 3));
    static const char fix[] = "start glyphic-executor (`systemctl start glyphic-executor`, or the cron line "
                              "`* * * * * glyphic-executor --drain --max-seconds 55`)";
    if (late > 0)
        say(r, FAIL, "executor", fix, "%lld job(s) due for more than two minutes%s", late,
            seen ? "" : ", and no executor seen in ten minutes");
    else if (!seen)
        say(r, WARN, "executor", fix, "none seen in the last ten minutes (no job is late, so maybe none had work)");
    else
        say(r, OK, "executor", NULL, "seen in the last ten minutes; no job is late");
    if (dead > 0)
        say(r, WARN, "dead jobs", "see `glyphic queue stats`; `glyphic queue retry ID` runs one again",
            "%lld job(s) gave up after their last attempt", dead);
    PQclear(res);
}

/* Free space of the filesystem holding path: "12.3 GiB free (40 %)" in out;
 * true when it is low (under 1 GiB or 5 %). */
static bool free_space(const char *path, char *out, size_t n, bool *low)
{
    struct statvfs vfs;
    if (statvfs(path, &vfs) != 0)
        return false;
    double avail = (double)vfs.f_bavail * (double)vfs.f_frsize, total = (double)vfs.f_blocks * (double)vfs.f_frsize;
    double pct = total > 0 ? 100.0 * avail / total : 0;
    *low = avail < 1024.0 * 1024 * 1024 || pct < 5;
    snprintf(out, n, "%.1f GiB free (%.0f %%)", avail / (1024.0 * 1024 * 1024), pct);
    return true;
}

static void check_files(report_t *r, const gl_config_t *cfg)
{
    const char *dir = cfg->files_dir;
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        say(r, WARN, "file store", "create it, owned by the account the programs run as, mode 0750",
            "%s: %s", dir, stat(dir, &st) != 0 ? strerror(errno) : "not a folder");
        return;
    }
    if (access(dir, W_OK | X_OK) != 0)
        say(r, WARN, "file store", "run doctor as the account the programs run as, or give it the folder",
            "%s is not writable by this account", dir);
    char space[64];
    bool low = false;
    if (!free_space(dir, space, sizeof space, &low))
        say(r, WARN, "file store", NULL, "%s: cannot read its free space: %s", dir, strerror(errno));
    else
        say(r, low ? WARN : OK, "file store", "free space (or lower files.max_bytes_per_org; `glyphic files gc`)",
            "%s: %s", dir, space);
}

static void check_db_disk(report_t *r, const gl_config_t *cfg)
{
    gl_err_t err;
    gl_err_clear(&err);
    gl_db_opts_t opts = { .conninfo = cfg->db_admin_url, .appname = "glyphic-doctor",
                          .connect_timeout_s = cfg->db_connect_timeout, .trusted = true };
    gl_db_t *db = gl_db_new(&opts);
    PGresult *res = gl_db_connect_now(db, &err) == GL_OK
        ? one_row(db, "SELECT pg_database_size(current_database()) / 1048576.0, "
                      "(SELECT s.setting FROM pg_settings s WHERE s.name = 'data_directory')", &err)
        : NULL;
    gl_db_free(db);
    if (!res) {
        say(r, WARN, "database disk", "check db.admin_url", "cannot ask: %s", err.msg);
        return;
    }
    double mib = atof(PQgetvalue(res, 0, 0));
    char space[64];
    bool low = false;
    if (PQgetisnull(res, 0, 1))
        say(r, OK, "database disk", NULL, "%.0f MiB (db.admin_url's role may not see where PostgreSQL keeps it: "
                                          "watch that disk yourself)", mib);
    else if (!free_space(PQgetvalue(res, 0, 1), space, sizeof space, &low))
        say(r, OK, "database disk", NULL, "%.0f MiB (PostgreSQL's disk is not on this machine, or not visible)", mib);
    else
        say(r, low ? WARN : OK, "database disk", "free space on PostgreSQL's disk (and `glyphic prune`, "
                                                 "executions.retention_days)",
            "%.0f MiB; PostgreSQL's disk: %s", mib, space);
    PQclear(res);
}

/* Runs argv, its stdout and stderr into out (at most n - 1 bytes kept);
 * the exit status, or -1. */
static int run_capture(const char *const argv[], char *out, size_t n)
{
    int fd[2];
    if (pipe(fd) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(fd[1], 1);
        dup2(fd[1], 2);
        close(fd[0]);
        close(fd[1]);
        char *args[8] = { NULL };
        for (int i = 0; i < 7 && argv[i]; i++)
            args[i] = strdup(argv[i]);
        execvp(args[0], args);
        _exit(127);
    }
    close(fd[1]);
    size_t len = 0;
    for (;;) {
        char chunk[4096];
        ssize_t k = read(fd[0], chunk, sizeof chunk);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        size_t keep = (size_t)k < n - 1 - len ? (size_t)k : n - 1 - len;
        memcpy(out + len, chunk, keep);
        len += keep;
    }
    out[len] = '\0';
    close(fd[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void check_nginx(report_t *r, const gl_config_t *cfg, const char *conf)
{
    if (geteuid() != 0) {
        say(r, OK, "nginx", NULL, "not checked: `nginx -t` needs root (run glyphic doctor as root to include it)");
        return;
    }
    static char out[1 << 20];
    const char *const test[] = { "nginx", "-t", "-q", "-c", conf, NULL };
    int rc = run_capture(test, out, sizeof out);
    if (rc == 127 || rc < 0) {
        say(r, WARN, "nginx", "install nginx (or ignore this where nginx runs on another machine)",
            "nginx is not installed here");
        return;
    }
    if (rc != 0) {
        out[strcspn(out, "\n")] = '\0';
        say(r, FAIL, "nginx", "fix the configuration nginx -t names, then `nginx -s reload`", "%s: %.400s", conf,
            out);
        return;
    }
    const char *const dump[] = { "nginx", "-T", "-q", "-c", conf, NULL };
    char want[600];
    snprintf(want, sizeof want, "unix:%s", cfg->fcgi_socket);
    bool unix_socket = cfg->fcgi_socket[0] == '/';
    if (run_capture(dump, out, sizeof out) == 0 && (!unix_socket || strstr(out, want)))
        say(r, OK, "nginx", NULL, "%s passes nginx -t%s", conf,
            unix_socket ? " and passes requests to fcgi.socket" : "");
    else
        say(r, FAIL, "nginx", "render the snippets for this configuration (glyphic-render-nginx --snippets "
                              "--socket FCGI.SOCKET …), include them in your server block, `nginx -s reload`",
            "%s passes nginx -t but nothing in it passes requests to %s", conf, want);
}

/* Can the account user connect to the unix socket at path (write access)? */
static bool user_can_connect(const char *user, const struct stat *st)
{
    struct passwd *pw = getpwnam(user);
    if (!pw)
        return false;
    if (pw->pw_uid == 0 || pw->pw_uid == st->st_uid)
        return (st->st_mode & S_IWUSR) != 0 || pw->pw_uid == 0;
    if ((st->st_mode & S_IWOTH) != 0)
        return true;
    if ((st->st_mode & S_IWGRP) == 0)
        return false;
    if (pw->pw_gid == st->st_gid)
        return true;
    struct group *gr = getgrgid(st->st_gid);
    for (char **m = gr ? gr->gr_mem : NULL; m && *m; m++)
        if (strcmp(*m, user) == 0)
            return true;
    return false;
}

static void check_socket(report_t *r, const char *name, const char *path, const char *nginx_user)
{
    struct stat st;
    if (!path[0] || path[0] != '/') {
        say(r, OK, name, NULL, "%s (TCP: nothing to check on disk)", path[0] ? path : "(none)");
        return;
    }
    if (stat(path, &st) != 0 || !S_ISSOCK(st.st_mode)) {
        say(r, WARN, name, "start the program (with systemd, its .socket or .service unit)", "%s: %s", path,
            stat(path, &st) != 0 ? "absent: is the program running?" : "not a socket");
        return;
    }
    if (!getpwnam(nginx_user))
        say(r, OK, name, NULL, "%s (no account %s here to check nginx's access)", path, nginx_user);
    else if (user_can_connect(nginx_user, &st))
        say(r, OK, name, NULL, "%s (mode %04o; %s can connect)", path, (unsigned)(st.st_mode & 07777), nginx_user);
    else
        say(r, FAIL, name, "put nginx's account in the socket's group (`adduser www-data glyphic`) and keep "
                           "fcgi.socket_mode / events.socket_mode at 0660",
            "%s (mode %04o): %s cannot connect", path, (unsigned)(st.st_mode & 07777), nginx_user);
}

static void usage(FILE *out)
{
    fprintf(out, "usage: glyphic doctor [--nginx-user USER] [--nginx-conf FILE]\n"
                 "  check the configuration, the credential key, the database (roles, layout, schema, row\n"
                 "  level security, disk), the executor, the file store, the sockets nginx needs and\n"
                 "  nginx's configuration (as root: nginx -t, and that it passes requests to fcgi.socket);\n"
                 "  print each check with a fix; exit 1 when a check failed.\n"
                 "  --nginx-user: nginx's account (www-data); --nginx-conf: its main configuration file\n"
                 "  (/etc/nginx/nginx.conf)\n");
}

int gl_cli_doctor(const gl_config_t *cfg, int argc, char **argv)
{
    const char *nginx_user = "www-data", *nginx_conf = "/etc/nginx/nginx.conf";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--nginx-user") == 0 && i + 1 < argc) {
            nginx_user = argv[++i];
        } else if (strcmp(argv[i], "--nginx-conf") == 0 && i + 1 < argc) {
            nginx_conf = argv[++i];
        } else {
            bool help = strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0;
            usage(help ? stdout : stderr);
            return help ? 0 : 2;
        }
    }
    report_t r = { 0, 0 };
    say(&r, OK, "configuration", NULL, "%s", gl_config_source()[0] ? gl_config_source() : "(no file: defaults and "
                                                                                         "environment)");
    check_key(&r, cfg);
    gl_err_t err;
    gl_err_clear(&err);
    gl_db_t *app = connect_as(cfg, cfg->db_url, false, &err);
    if (!app) {
        say(&r, FAIL, "database (app)", "check db.url, that PostgreSQL runs, and pg_hba.conf", "%s", err.msg);
    } else {
        say(&r, OK, "database (app)", NULL, "db.url connects");
        check_role(&r, app);
        check_layout(&r, app);
        check_schema(&r, app);
        check_encoding(&r, app);
        check_rls(&r, app);
        check_context(&r, app);
        gl_db_free(app);
    }
    gl_err_clear(&err);
    gl_db_t *ex = connect_as(cfg, cfg->db_executor_url, true, &err);
    if (!ex) {
        say(&r, FAIL, "database (executor)", "check db.executor_url and pg_hba.conf", "%s", err.msg);
    } else {
        say(&r, OK, "database (executor)", NULL, "db.executor_url connects");
        check_executor(&r, ex);
        gl_db_free(ex);
    }
    check_db_disk(&r, cfg);
    check_files(&r, cfg);
    check_socket(&r, "fcgi socket", cfg->fcgi_socket, nginx_user);
    check_socket(&r, "events socket", cfg->events_socket, nginx_user);
    check_nginx(&r, cfg, nginx_conf);
    printf("%d failed, %d warning(s)\n", r.fails, r.warns);
    return r.fails ? 1 : 0;
}
