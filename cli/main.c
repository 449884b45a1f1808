/*
 * main.c: `glyphic`, the operator's command-line tool.
 *
 *   glyphic migrate [--status]   apply pending migrations / list them
 *   glyphic prune                remove expired sessions, old log-in attempts,
 *                                stale invitations and old trash (for cron)
 *   glyphic org limits ORG ...   show or set an org's limits (org_limits.c)
 *   glyphic files gc             remove unreferenced stored files (files_gc.c)
 *   glyphic run FILE [--input F] run a workflow file here, no database (run_file.c)
 *   glyphic import FILE          convert an n8n export to a Glyphic document (run_file.c)
 *   glyphic keygen FILE          write a new master key for credential secrets
 *   glyphic rotate-key --new F   re-seal every credential under the key in F (rotate_key.c)
 *   glyphic backup DIR           the database, the key file and the files, with a manifest (backup.c)
 *   glyphic restore DIR          put a backup back into a new database, then migrate (backup.c)
 *   glyphic config               print the effective configuration
 *   glyphic version              print versions
 *
 * Exit status: 0 success, 1 failure, 2 usage or configuration error.
 */
#include "backup.h"
#include "config.h"
#include "crypto.h"
#include "db.h"
#include "doctor.h"
#include "files_gc.h"
#include "log.h"
#include "migrate.h"
#include "org_limits.h"
#include "queue.h"
#include "rotate_key.h"
#include "run_file.h"
#include "vault.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: glyphic [-c FILE] COMMAND [ARGS]\n"
            "\n"
            "Commands:\n"
            "  migrate            apply pending schema migrations (connects with db.admin_url;\n"
            "                     the first migration creates roles, so it needs a superuser),\n"
            "                     then copies the auth.* and limits.* settings the database\n"
            "                     enforces (open sign-up, log-in limits, session lifetime,\n"
            "                     per-org limits) into it\n"
            "  migrate --single-role\n"
            "                     install into a database where you have one role and no\n"
            "                     CREATEROLE (shared hosts): that role (db.admin_url's, the\n"
            "                     same as db.url's and db.executor_url's) owns the schema and\n"
            "                     is the app and the executor; row level security still binds\n"
            "                     it, but SQL as that role could switch it off (`glyphic\n"
            "                     doctor` says what is weaker). Later `migrate`s keep the layout\n"
            "  migrate --status   list applied and pending migrations; exit 1 if an applied\n"
            "                     migration differs from this binary's or the schema is newer\n"
            "  prune              remove expired and idle sessions, log-in attempts older than a day,\n"
            "                     invitations expired for 30 days, and workflows in the trash\n"
            "                     longer than workflows.trash_days (run it daily from cron)\n"
            "  org limits ORG [--max-running N] [--webhooks-per-minute N] [--max-credentials N]\n"
            "                     show an org's limits and what it uses of them; with options, set\n"
            "                     the org's own (N: a whole number, 0 for no limit, or 'default'\n"
            "                     for the limits.org_* value). ORG: its id, or its name if unique\n"
            "  files gc           remove from files.dir the uploads that never finished (older than\n"
            "                     files.temp_hours) and the contents no file names any more; print\n"
            "                     what was freed (glyphic-executor's maintainer does it hourly)\n"
            "  queue stats        job counts by queue and state, oldest due job, last minute's\n"
            "                     throughput (all orgs)\n"
            "  queue retry ID     queue a dead or canceled job again\n"
            "  queue cancel ID    cancel a queued, waiting or running job\n"
            "  run FILE.json [--input ITEMS.json] [--env NAME]... [--quiet]\n"
            "                     run a workflow file (Glyphic or n8n export) in this process (no database or server) and\n"
            "                     print each step's output; exit 1 if the execution fails\n"
            "                     (http.allow_private and http.respond_allow_scripts apply)\n"
            "  import N8N.json [--partial] [--name NAME]\n"
            "                     convert an n8n workflow export into a Glyphic workflow document\n"
            "                     on standard output (no database); exit 1 listing the nodes that\n"
            "                     cannot be converted, unless --partial (disabled placeholders).\n"
            "                     glyphic run also runs an n8n export directly\n"
            "  keygen FILE        write a new random master key for credential secrets to FILE\n"
            "                     (created with mode 0600, never overwritten); point\n"
            "                     secrets.key_file at it. Needs no configuration.\n"
            "  rotate-key --new KEYFILE [--batch N] [--sleep-ms MS]\n"
            "                     re-seal every credential under the key in KEYFILE, N rows per\n"
            "                     transaction (100), pausing MS between batches (0), while the\n"
            "                     servers run. The configuration must already name KEYFILE as\n"
            "                     secrets.key_file (old key in secrets.old_key_files). Resumable:\n"
            "                     run it again after an interruption. Exit 1 if rows remain\n"
            "  backup DIR [--no-files] [--pg-bin BINDIR]\n"
            "                     write a backup into DIR, a new or empty folder: glyphic.dump\n"
            "                     (pg_dump --format=custom of the schema glyphic, as db.admin_url),\n"
            "                     the key files (secrets.key_file, secrets.old_key_files), files.dir\n"
            "                     (unless --no-files) and manifest.json (versions, sizes, SHA-256).\n"
            "                     Written into DIR.partial, renamed at the end; exit 1 leaves no DIR.\n"
            "                     BINDIR: where pg_dump is (default: PATH). DIR holds the key: keep\n"
            "                     it secret\n"
            "  restore DIR [--replace-key] [--no-files] [--pg-bin BINDIR]\n"
            "                     restore a backup into the database of db.admin_url, which must have\n"
            "                     no glyphic schema: check every part against the manifest, create\n"
            "                     the roles if missing, put the key at secrets.key_file (another key\n"
            "                     there is refused unless --replace-key, which keeps it as\n"
            "                     FILE.before-restore) and the files in files.dir, pg_restore in one\n"
            "                     transaction, then migrate as glyphic migrate does\n"
            "  doctor [--nginx-user USER]\n"
            "                     check the installation: configuration, credential key, database\n"
            "                     (roles, schema, row level security), executor activity, file\n"
            "                     store, sockets for nginx; each check with a fix; exit 1 on a failure\n"
            "  config             print the effective configuration (passwords masked)\n"
            "  config --example   print a configuration file with every key commented out at\n"
            "                     its default (needs no configuration)\n"
            "  version            print the program and schema versions\n"
            "\n"
            "Options:\n"
            "  -c, --config FILE  read FILE (default: $GLYPHIC_CONFIG, else %s if present)\n"
            "  -h, --help         this text\n"
            "      --version      print the program and schema versions (as glyphic version)\n"
            "\n"
            "Exit status: 0 success, 1 failure, 2 usage or configuration error.\n"
            "\n"
            "Configuration keys (file `key = value`, or the environment variable):\n",
            GL_CONFIG_DEFAULT_PATH);
    gl_config_help(out);
}

/*
 * Copies the settings the database enforces itself (sql/008_identity.sql:
 * who may sign up, the log-in limits, the session lifetime, the scrypt
 * cost of decoy salts, the per-org limits' defaults) from the configuration
 * into glyphic.settings, so a changed glyphic.conf takes effect there at
 * the next `glyphic migrate`.
 */
static int sync_settings(gl_db_t *db, const gl_config_t *cfg, gl_err_t *err)
{
    static const char q_sync[] = "SELECT glyphic.sync_settings($1::jsonb)";
    char json[768];
    int n = snprintf(json, sizeof json,
                     "{\"auth.open_signup\": \"%s\", \"auth.scrypt_n\": \"%d\", \"auth.login_window\": \"%d\", "
                     "\"auth.login_max_account\": \"%d\", \"auth.login_max_ip\": \"%d\", "
                     "\"auth.session_lifetime\": \"%d\", \"limits.org_max_running\": \"%d\", "
                     "\"limits.org_webhooks_per_minute\": \"%d\", \"limits.org_max_credentials\": \"%d\"}",
                     cfg->auth_open_signup ? "true" : "false", cfg->auth_scrypt_n, cfg->auth_login_window,
                     cfg->auth_login_max_account, cfg->auth_login_max_ip, cfg->auth_session_lifetime,
                     cfg->limits_org_max_running, cfg->limits_org_webhooks_per_minute,
                     cfg->limits_org_max_credentials);
    if (n <= 0 || (size_t)n >= sizeof json) {
        gl_err_set(err, "settings do not fit");
        return GL_ERR;
    }
    const char *params[] = { json };
    PGresult *res = NULL;
    int rc = gl_db_exec(db, q_sync, 1, params, true, NULL, &res, err);
    if (rc != GL_OK)
        return rc;
    if (strcmp(PQgetvalue(res, 0, 0), "0") != 0)
        printf("database settings updated from the configuration: %s\n", PQgetvalue(res, 0, 0));
    PQclear(res);
    return GL_OK;
}

/*
 * db.context_module as the server is to load it: "off" is none; "auto" is
 * glyphic_context.so beside this program, built (build/cli/glyphic, so
 * build/sql/context/) or installed (bin/glyphic, so lib/glyphic/), if
 * there; a path is made absolute ($libdir/... is the server's own folder).
 */
static const char *context_module(const gl_config_t *cfg, char path[PATH_MAX])
{
    const char *v = cfg->db_context_module;
    if (!v || !*v || strcmp(v, "off") == 0)
        return NULL;
    if (strcmp(v, "auto") != 0) {
        if (v[0] == '/' || strncmp(v, "$libdir/", 8) == 0 || !realpath(v, path))
            return v;
        return path;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return NULL;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return NULL;
    *slash = '\0';
    static const char *const near[] = { "/../sql/context/glyphic_context.so",
                                        "/../" GL_LIBDIR "/glyphic/glyphic_context.so" };
    for (size_t i = 0; i < sizeof near / sizeof near[0]; i++) {
        char cand[PATH_MAX];
        if (snprintf(cand, sizeof cand, "%s%s", exe, near[i]) < (int)sizeof cand && realpath(cand, path))
            return path;
    }
    return NULL;
}

/* glyphic migrate [--status] [--single-role]; also the last step of glyphic
 * restore (which keeps the layout the schema has). */
static int migrate(const gl_config_t *cfg, bool status, bool single_role)
{
    gl_db_opts_t opts = { .conninfo = cfg->db_admin_url, .trusted = true, .appname = "glyphic-migrate",
                          .connect_timeout_s = cfg->db_connect_timeout,
                          .statement_timeout_ms = 0 };
    gl_db_t *db = gl_db_new(&opts);
    gl_err_t err;
    gl_err_clear(&err);
    char module[PATH_MAX];
    int rc = gl_db_connect_now(db, &err);
    if (rc == GL_OK)
        rc = status ? gl_migrate_status(db, stdout, &err)
                    : gl_migrate_run(db, single_role, context_module(cfg, module), stdout, &err);
    if (rc == GL_OK && !status)
        rc = sync_settings(db, cfg, &err);
    gl_db_free(db);
    if (rc != GL_OK) {
        fprintf(stderr, "glyphic migrate: %s\n", err.msg);
        return 1;
    }
    return 0;
}

static int cmd_migrate(const gl_config_t *cfg, int argc, char **argv)
{
    bool status = false, single_role = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--status") == 0)
            status = true;
        else if (strcmp(argv[i], "--single-role") == 0)
            single_role = true;
        else {
            fprintf(stderr, "glyphic migrate: unknown argument '%s'\n", argv[i]);
            return 2;
        }
    }
    return migrate(cfg, status, single_role);
}

/* Housekeeping statements of `glyphic prune`: each removes what nobody can
 * use any more. They run as db.admin_url, across all orgs. */
static const struct {
    const char *what;
    const char *sql;
    bool uses_days;
} prune_steps[] = {
    { "expired or idle sessions",
      "DELETE FROM glyphic.sessions WHERE $1::int IS NOT NULL AND "
      "(expires_at < now() OR last_seen_at < now() - make_interval(secs => $2::int))",
      true },
    { "log-in attempts older than a day",
      "DELETE FROM glyphic.login_attempts WHERE at < now() - interval '1 day'", false },
    { "invitations expired for 30 days",
      "DELETE FROM glyphic.invitations WHERE expires_at < now() - interval '30 days'", false },
    { "workflows in the trash past workflows.trash_days",
      "DELETE FROM glyphic.workflows WHERE $1::int > 0 AND deleted_at < now() - make_interval(days => $1::int) "
      "AND $2::int IS NOT NULL", true },
};

static int cmd_prune(const gl_config_t *cfg)
{
    gl_db_opts_t opts = { .conninfo = cfg->db_admin_url, .trusted = true, .appname = "glyphic-prune",
                          .connect_timeout_s = cfg->db_connect_timeout };
    gl_db_t *db = gl_db_new(&opts);
    gl_err_t err;
    gl_err_clear(&err);
    int rc = gl_db_connect_now(db, &err);
    char days[16], idle[16];
    snprintf(days, sizeof days, "%d", cfg->workflows_trash_days);
    snprintf(idle, sizeof idle, "%d", cfg->auth_session_idle);
    for (size_t i = 0; rc == GL_OK && i < GL_NELEM(prune_steps); i++) {
        const char *params[] = { days, idle };
        PGresult *res = NULL;
        rc = gl_db_exec(db, prune_steps[i].sql, prune_steps[i].uses_days ? 2 : 0,
                        prune_steps[i].uses_days ? params : NULL, false, NULL, &res, &err);
        if (rc == GL_OK) {
            printf("removed %s %s\n", PQcmdTuples(res), prune_steps[i].what);
            PQclear(res);
        }
    }
    gl_db_free(db);
    if (rc != GL_OK) {
        fprintf(stderr, "glyphic prune: %s\n", err.msg);
        return 1;
    }
    return 0;
}

static int cmd_queue(const gl_config_t *cfg, int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : "";
    int64_t id = 0;
    bool needs_id = strcmp(sub, "retry") == 0 || strcmp(sub, "cancel") == 0;
    if (!(strcmp(sub, "stats") == 0 && argc == 2) && !(needs_id && argc == 3)) {
        fprintf(stderr, "usage: glyphic queue stats | retry ID | cancel ID\n");
        return 2;
    }
    if (needs_id && gl_parse_i64(argv[2], 1, INT64_MAX, &id) != GL_OK) {
        fprintf(stderr, "glyphic queue %s: '%s' is not a job id\n", sub, argv[2]);
        return 2;
    }
    gl_db_opts_t opts = { .conninfo = cfg->db_admin_url, .trusted = true, .appname = "glyphic-queue",
                          .connect_timeout_s = cfg->db_connect_timeout };
    gl_db_t *db = gl_db_new(&opts);
    gl_arena_t *a = gl_arena_create(0);
    gl_err_t err;
    gl_err_clear(&err);
    int rc = gl_db_connect_now(db, &err), status = 0;
    if (rc == GL_OK && !needs_id) {
        const char *json = NULL;
        rc = gl_queue_stats(db, a, &json, &err);
        if (rc == GL_OK)
            printf("%s\n", json);
    } else if (rc == GL_OK) {
        bool found = false;
        rc = strcmp(sub, "retry") == 0 ? gl_queue_retry(db, id, &found, &err) : gl_queue_cancel(db, id, &found, &err);
        if (rc == GL_OK && !found) {
            fprintf(stderr, "glyphic queue %s: no job %lld in a state that allows it\n", sub, (long long)id);
            status = 1;
        } else if (rc == GL_OK)
            printf("job %lld %s\n", (long long)id, strcmp(sub, "retry") == 0 ? "queued again" : "canceled");
    }
    if (rc != GL_OK) {
        fprintf(stderr, "glyphic queue: %s\n", err.msg);
        status = 1;
    }
    gl_arena_destroy(a);
    gl_db_free(db);
    return status;
}

static int cmd_keygen(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: glyphic keygen FILE\n");
        return 2;
    }
    gl_err_t err;
    gl_err_clear(&err);
    char id[GL_VAULT_KEY_ID_LEN + 1];
    if (gl_crypto_init() != GL_OK) {
        fprintf(stderr, "glyphic keygen: libsodium cannot start\n");
        return 1;
    }
    if (gl_vault_keygen(argv[1], &err) != GL_OK || gl_vault_file_key_id(argv[1], id, &err) != GL_OK) {
        fprintf(stderr, "glyphic keygen: %s\n", err.msg);
        return 1;
    }
    printf("wrote key %s to %s (mode 0600)\n", id, argv[1]);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "config", required_argument, NULL, 'c' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    const char *config_path = NULL;
    int opt;
    /* "+": stop at the command so its own options are left to it */
    while ((opt = getopt_long(argc, argv, "+c:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c': config_path = optarg; break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("glyphic %s (schema %d)\n", GL_VERSION, gl_migrate_latest()); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[optind];
    if (strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "version") == 0) {
        printf("glyphic %s (schema %d)\n", GL_VERSION, gl_migrate_latest());
        return 0;
    }

    if (strcmp(cmd, "config") == 0 && optind + 1 < argc && strcmp(argv[optind + 1], "--example") == 0) {
        if (optind + 2 < argc) {
            fprintf(stderr, "usage: glyphic config [--example]\n");
            return 2;
        }
        gl_config_example(stdout);
        return 0;
    }
    if (strcmp(cmd, "keygen") == 0)
        return cmd_keygen(argc - optind, argv + optind);
    if (strcmp(cmd, "import") == 0)
        return gl_cli_import(argc - optind, argv + optind);

    gl_config_t cfg;
    gl_err_t err;
    gl_err_clear(&err);
    if (gl_config_load(config_path, &cfg, &err) != GL_OK) {
        fprintf(stderr, "glyphic: %s\n", err.msg);
        return 2;
    }
    gl_log_set_json(cfg.log_json);
    (void)gl_log_init("glyphic", cfg.log_level, cfg.log_file);
    int status;
    if (strcmp(cmd, "run") == 0)
        status = gl_cli_run(&cfg, argc - optind, argv + optind);
    else if (strcmp(cmd, "migrate") == 0)
        status = cmd_migrate(&cfg, argc - optind, argv + optind);
    else if (strcmp(cmd, "rotate-key") == 0)
        status = gl_cli_rotate_key(&cfg, argc - optind, argv + optind);
    else if (strcmp(cmd, "queue") == 0)
        status = cmd_queue(&cfg, argc - optind, argv + optind);
    else if (strcmp(cmd, "backup") == 0)
        status = gl_cli_backup(&cfg, argc - optind, argv + optind);
    else if (strcmp(cmd, "restore") == 0) {
        status = gl_cli_restore(&cfg, argc - optind, argv + optind);
        if (status == 0)
            status = migrate(&cfg, false, false);
    } else if (strcmp(cmd, "doctor") == 0)
        status = gl_cli_doctor(&cfg, argc - optind, argv + optind);
    else if (strcmp(cmd, "files") == 0)
        status = gl_cli_files(&cfg, argc - optind, argv + optind);
    else if (strcmp(cmd, "org") == 0)
        status = gl_cli_org(&cfg, argc - optind, argv + optind);
    else if (strcmp(cmd, "prune") == 0)
        status = argc - optind > 1 ? 2 : cmd_prune(&cfg);
    else if (strcmp(cmd, "config") == 0) {
        printf("# config file: %s\n", gl_config_source()[0] ? gl_config_source() : "(none)");
        gl_config_dump(&cfg, stdout);
        status = 0;
    } else {
        fprintf(stderr, "glyphic: unknown command '%s' (see glyphic --help)\n", cmd);
        status = 2;
    }
    gl_config_free(&cfg);
    return status;
}
