/*
 * config.c: the key table and its parser (Redis's createIntConfig, nginx's
 * ngx_command_t): each row names a key, its type, default, bounds and where
 * it lives in gl_config_t. Adding a key is adding a row and a field.
 */
#include "config.h"

#include "ipnet.h"
#include "log.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef enum { T_STR, T_INT, T_I64, T_BOOL, T_LEVEL, T_MODE, T_NETS, T_LOGFMT } ctype_t;

typedef struct {
    const char *key;
    ctype_t type;
    size_t off;
    const char *def;
    int64_t min, max;
    bool conninfo; /* mask password= when printed */
    const char *help;
} key_t_;

#define OFF(f) offsetof(gl_config_t, f)

static const key_t_ keys[] = {
    { "log.level", T_LEVEL, OFF(log_level), "info", 0, 3, false,
      "debug, info, warn or error" },
    { "log.file", T_STR, OFF(log_file), "", 0, 0, false,
      "append log lines to this file (reopened on SIGUSR1, for logrotate); empty: standard error" },
    { "log.format", T_LOGFMT, OFF(log_json), "text", 0, 1, false,
      "text: one line per event; json: one JSON object per line (time, level, program, pid, request_id, user, org, "
      "job, execution where known, message)" },
    { "db.url", T_STR, OFF(db_url), "dbname=glyphic user=glyphic_app", 0, 0, true,
      "libpq connection string of glyphic-fcgi (the app role, subject to row level security)" },
    { "db.executor_url", T_STR, OFF(db_executor_url), "dbname=glyphic user=glyphic_executor", 0, 0, true,
      "libpq connection string of glyphic-executor" },
    { "db.admin_url", T_STR, OFF(db_admin_url), "dbname=glyphic", 0, 0, true,
      "libpq connection string of `glyphic migrate` (a superuser for the first migration, which creates roles)" },
    { "db.context_module", T_STR, OFF(db_context_module), "auto", 0, 0, false,
      "glyphic_context.so, which `glyphic migrate` installs to keep the request context in memory (when "
      "db.admin_url is a superuser's; the PostgreSQL server must be able to read the file): a path, auto "
      "(the one built or installed beside glyphic), or off (a temporary table, as without it)" },
    { "db.connect_timeout", T_INT, OFF(db_connect_timeout), "5", 1, 300, false,
      "seconds to wait for a database connection" },
    { "db.statement_timeout", T_INT, OFF(db_statement_timeout), "30000", 0, 3600000, false,
      "milliseconds a statement may run (0: no limit)" },
    { "db.retry_interval", T_INT, OFF(db_retry_interval), "1000", 0, 60000, false,
      "milliseconds between reconnection attempts while the database is down" },
    { "fcgi.socket", T_STR, OFF(fcgi_socket), "/run/glyphic/fcgi.sock", 0, 0, false,
      "unix socket glyphic-fcgi listens on (unless it inherits one on fd 0 or from systemd)" },
    { "fcgi.socket_mode", T_MODE, OFF(fcgi_socket_mode), "0660", 0, 0777, false,
      "permissions of the socket file (octal)" },
    { "fcgi.workers", T_INT, OFF(fcgi_workers), "0", 0, 256, false,
      "worker processes; 0: eight per CPU, at most 32 (a worker mostly waits for the database: more of them "
      "let more webhook calls share a commit, see events.record_socket)" },
    { "fcgi.hooks_socket", T_STR, OFF(fcgi_hooks_socket), "", 0, 0, false,
      "a second socket for /hooks/ (nginx sends webhooks there); empty: webhooks share fcgi.socket" },
    { "fcgi.api_workers", T_INT, OFF(fcgi_api_workers), "1", 0, 256, false,
      "with fcgi.hooks_socket: workers beside fcgi.workers that serve only the API, so a webhook flood "
      "cannot take every worker" },
    { "fcgi.max_requests", T_INT, OFF(fcgi_max_requests), "100000", 0, 100000000, false,
      "a worker is replaced after this many requests (0: never)" },
    { "fcgi.backlog", T_INT, OFF(fcgi_backlog), "1024", 1, 65535, false,
      "listen backlog of the socket" },
    { "fcgi.shutdown_timeout", T_INT, OFF(fcgi_shutdown_timeout), "30", 1, 3600, false,
      "seconds in-flight requests get to finish on SIGTERM before workers are killed" },
    { "metrics.enabled", T_BOOL, OFF(metrics_enabled), "true", 0, 1, false,
      "glyphic-fcgi answers GET /metrics (Prometheus text format; nginx lets only allowed addresses reach it) "
      "and counts requests for it; false: 404 and nothing counted" },
    { "http.max_body", T_INT, OFF(http_max_body), "1048576", 1024, 1073741824, false,
      "largest request body in bytes (413 above; keep nginx client_max_body_size at least this)" },
    { "http.max_json_depth", T_INT, OFF(http_max_json_depth), "32", 2, 1000, false,
      "deepest nesting of arrays and objects accepted in a JSON body" },
    { "hooks.drop_headers", T_STR, OFF(hooks_drop_headers), "", 0, 0, false,
      "comma-separated request headers left out of webhook items besides the built-in credential headers "
      "(case-insensitive; a trailing * matches a prefix, e.g. x-internal-*)" },
    { "http.direct_budget_ms", T_INT, OFF(http_direct_budget_ms), "2000", 100, 115000, false,
      "milliseconds a sync webhook run directly in a glyphic-fcgi worker may take in all (the "
      "workflow's or trigger's timeout when shorter); past it the execution fails" },
    { "expressions.preview_budget_ms", T_INT, OFF(expressions_preview_budget_ms), "500", 50, 115000, false,
      "milliseconds one POST /api/expressions/preview may evaluate (the editor's live preview; an "
      "expression of a real workflow takes microseconds, the cap bounds how long a caller holds a worker)" },
    { "http.allow_private", T_NETS, OFF(http_allow_private), "", 0, 0, false,
      "address ranges http.request may reach besides public addresses, comma-separated CIDRs "
      "(e.g. 10.1.2.0/24, fd00::/8, 127.0.0.1/32); loopback, private, link-local and other "
      "internal addresses are refused unless listed" },
    { "http.respond_allow_scripts", T_BOOL, OFF(http_respond_allow_scripts), "false", 0, 1, false,
      "let flow.respond answer with a script content type (text/javascript and the like) on the app's origin" },
    { "oauth2.redirect_url", T_STR, OFF(oauth2_redirect_url), "", 0, 0, false,
      "the OAuth2 callback URL registered at providers (https://glyphic.example.com/api/oauth2/callback); "
      "empty: built from the scheme and Host of the request that starts the authorization" },
    { "auth.open_signup", T_BOOL, OFF(auth_open_signup), "false", 0, 1, false,
      "anyone may sign up (and gets an org of their own); false: only the first user, then by invitation" },
    { "auth.cookie_secure", T_BOOL, OFF(auth_cookie_secure), "true", 0, 1, false,
      "mark the session cookie Secure (HTTPS only); false only for plain-HTTP localhost" },
    { "auth.session_idle", T_INT, OFF(auth_session_idle), "604800", 60, 31536000, false,
      "seconds a session may go unused before it ends" },
    { "auth.session_lifetime", T_INT, OFF(auth_session_lifetime), "2592000", 60, 31536000, false,
      "seconds after which a session ends however much it is used" },
    { "auth.scrypt_n", T_INT, OFF(auth_scrypt_n), "15", 10, 22, false,
      "scrypt cost for new password hashes: N = 2^value (r = 8, p = 1)" },
    { "auth.login_window", T_INT, OFF(auth_login_window), "900", 10, 86400, false,
      "seconds over which failed log-ins are counted" },
    { "auth.login_max_account", T_INT, OFF(auth_login_max_account), "5", 1, 1000, false,
      "failed log-ins per account within the window before log-in answers 429" },
    { "auth.login_max_ip", T_INT, OFF(auth_login_max_ip), "20", 1, 100000, false,
      "failed log-ins per client address within the window before log-in answers 429" },
    { "auth.invite_ttl", T_INT, OFF(auth_invite_ttl), "604800", 60, 31536000, false,
      "seconds an invitation stays valid" },
    { "workflows.trash_days", T_INT, OFF(workflows_trash_days), "30", 0, 36500, false,
      "days a deleted workflow stays in the trash before `glyphic prune` removes it (0: never)" },
    { "limits.org_max_running", T_INT, OFF(limits_org_max_running), "0", 0, 100000, false,
      "workflow executions of one org running at once (0: no limit); the rest wait in the queue. "
      "The database's copy is updated by `glyphic migrate`; `glyphic org limits` overrides it per org" },
    { "limits.org_webhooks_per_minute", T_INT, OFF(limits_org_webhooks_per_minute), "0", 0, 100000000, false,
      "webhook calls one org's workflows may take per calendar minute (0: no limit); past it /hooks/ answers "
      "429 rate_limited. Copied and overridden like limits.org_max_running" },
    { "limits.org_max_credentials", T_INT, OFF(limits_org_max_credentials), "1000", 0, 1000000, false,
      "credentials one org may store (0: no limit). Copied and overridden like limits.org_max_running" },
    { "executor.queue", T_STR, OFF(executor_queue), "default", 0, 0, false,
      "the queue glyphic-executor works on" },
    { "executor.workers", T_INT, OFF(executor_workers), "0", 0, 256, false,
      "executor worker processes; 0: the number of CPUs" },
    { "executor.concurrency", T_INT, OFF(executor_concurrency), "8", 1, 256, false,
      "jobs each worker process runs at once, on threads of its own (each with its own database connection): "
      "an execution waiting on the network holds one of them, not the process" },
    { "executor.batch", T_INT, OFF(executor_batch), "200", 1, 10000, false,
      "most jobs claimed per round trip; a worker claims fewer when its jobs take long (about 250 ms of work)" },
    { "executor.lease", T_INT, OFF(executor_lease), "60", 2, 86400, false,
      "seconds a claimed job is leased; a worker that dies loses its jobs after this" },
    { "executor.poll_ms", T_INT, OFF(executor_poll_ms), "1000", 10, 600000, false,
      "longest wait between looks at the table when no NOTIFY arrives" },
    { "executor.maintenance_interval", T_INT, OFF(executor_maintenance_interval), "5", 1, 3600, false,
      "seconds between maintenance runs (requeuing the jobs of stopped workers, pruning) by the elected maintainer" },
    { "executor.schedule_catchup", T_INT, OFF(executor_schedule_catchup), "3600", 60, 604800, false,
      "a schedule's due times missed (no executor ran) fire once each, late, when at most this many seconds "
      "late; older ones are skipped" },
    { "executor.prune_days", T_INT, OFF(executor_prune_days), "7", 1, 3650, false,
      "days dead and canceled jobs are kept" },
    { "executor.test_kinds", T_BOOL, OFF(executor_test_kinds), "false", 0, 1, false,
      "register the test.* job kinds (tests and benchmarks only)" },
    { "executor.env_allow", T_STR, OFF(executor_env_allow), "", 0, 0, false,
      "comma-separated environment variables expressions may read as $env.NAME (none by default)" },
    { "executor.max_items", T_INT, OFF(executor_max_items), "10000", 1, 10000000, false,
      "most items one node may put out on one port" },
    { "executor.max_execution_bytes", T_INT, OFF(executor_max_execution_bytes), "16777216", 65536, 1073741824, false,
      "most bytes of node output one execution may produce (all steps together)" },
    { "secrets.key_file", T_STR, OFF(secrets_key_file), "/etc/glyphic/secret.key", 0, 0, false,
      "file holding the master key that seals credential secrets (64 hex digits, mode 0600; `glyphic keygen FILE` "
      "writes one); glyphic-fcgi and glyphic-executor refuse to start without it" },
    { "secrets.old_key_files", T_STR, OFF(secrets_old_key_files), "", 0, 0, false,
      "comma-separated key files that still open credentials sealed before a key rotation (never used to seal)" },
    { "executions.retention_days", T_INT, OFF(executions_retention_days), "30", 0, 36500, false,
      "days finished executions are kept before the executor prunes them (0: forever)" },
    { "executions.keep_per_workflow", T_INT, OFF(executions_keep_per_workflow), "10000", 0, 100000000, false,
      "finished executions kept per workflow, newest first (0: no limit)" },
    { "executions.events_max_seconds", T_INT, OFF(executions_events_max_seconds), "300", 1, 86400, false,
      "longest life of one live-progress stream (GET /api/executions/{id}/events); clients reconnect" },
    { "files.dir", T_STR, OFF(files_dir), "/var/lib/glyphic/files", 0, 0, false,
      "where stored files live (uploads, and later binary data of executions), outside the web root: "
      "DIR/<org>/<aa>/<sha256> and DIR/tmp/; nginx serves it through an internal location (render-nginx "
      "--files-dir), so its account must be able to read it (group). glyphic-up: var/files" },
    { "files.max_file_bytes", T_I64, OFF(files_max_file_bytes), "268435456", 1, INT64_C(1) << 40, false,
      "largest file in bytes (413 above); render-nginx --max-file-body sets nginx's client_max_body_size "
      "for /api/files to it" },
    { "files.max_bytes_per_org", T_I64, OFF(files_max_bytes_per_org), "1073741824", 0, INT64_C(1) << 50, false,
      "bytes of stored files one org may hold, each distinct content counted once (0: no limit); past it "
      "uploads answer 507 quota_exceeded" },
    { "files.temp_hours", T_INT, OFF(files_temp_hours), "24", 1, 8760, false,
      "hours after which an unfinished upload's temporary file (left by a crash) is removed by "
      "`glyphic files gc` and the executor's maintainer" },
    { "events.socket", T_STR, OFF(events_socket), "/run/glyphic/events.sock", 0, 0, false,
      "where glyphic-events listens for nginx: a unix socket path, or host:port" },
    { "events.socket_mode", T_MODE, OFF(events_socket_mode), "0660", 0, 0777, false,
      "permissions of the events socket file (octal)" },
    { "events.record_socket", T_STR, OFF(events_record_socket), "", 0, 0, false,
      "where glyphic-events takes the records of glyphic-fcgi's direct webhook runs and writes them a batch at a "
      "time (a unix socket path; empty: record.sock beside events.socket when that is a path; off: every worker "
      "writes its own)" },
    { "events.db_connections", T_INT, OFF(events_db_connections), "2", 1, 64, false,
      "database connections glyphic-events asks through (besides its one LISTEN connection)" },
    { "events.max_streams", T_INT, OFF(events_max_streams), "10000", 1, 1000000, false,
      "live-progress streams open at once, in all (429 above)" },
    { "events.max_streams_per_org", T_INT, OFF(events_max_streams_per_org), "2000", 1, 1000000, false,
      "live-progress streams open at once in one org" },
    { "events.max_streams_per_user", T_INT, OFF(events_max_streams_per_user), "100", 1, 1000000, false,
      "live-progress streams open at once by one user (or API key's user)" },
    { "events.max_waits", T_INT, OFF(events_max_waits), "10000", 1, 1000000, false,
      "synchronous webhook calls waiting for the executor at once, in all (429 above)" },
    { "events.max_waits_per_org", T_INT, OFF(events_max_waits_per_org), "2000", 1, 1000000, false,
      "synchronous webhook calls waiting at once for one org's workflows" },
};

static char source_path[512];

const char *gl_config_source(void)
{
    return source_path;
}

int gl_config_ncpu(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (int)n;
}

static void *field(gl_config_t *cfg, const key_t_ *k)
{
    return (char *)cfg + k->off;
}

static int set_value(gl_config_t *cfg, const key_t_ *k, const char *val, gl_err_t *err)
{
    int64_t v = 0;
    switch (k->type) {
    case T_STR: {
        char **p = field(cfg, k);
        free(*p);
        *p = gl_xstrdup(val);
        return GL_OK;
    }
    case T_BOOL:
        if (strcmp(val, "true") == 0 || strcmp(val, "on") == 0 || strcmp(val, "1") == 0 ||
            strcmp(val, "yes") == 0)
            *(bool *)field(cfg, k) = true;
        else if (strcmp(val, "false") == 0 || strcmp(val, "off") == 0 || strcmp(val, "0") == 0 ||
                 strcmp(val, "no") == 0)
            *(bool *)field(cfg, k) = false;
        else {
            gl_err_field(err, k->key, "%s: expected true or false", k->key);
            return GL_INVALID;
        }
        return GL_OK;
    case T_LOGFMT:
        if (strcmp(val, "text") != 0 && strcmp(val, "json") != 0) {
            gl_err_field(err, k->key, "%s: expected text or json", k->key);
            return GL_INVALID;
        }
        *(bool *)field(cfg, k) = strcmp(val, "json") == 0;
        return GL_OK;
    case T_LEVEL: {
        int lvl = gl_log_level_parse(val);
        if (lvl < 0) {
            gl_err_field(err, k->key, "%s: expected debug, info, warn or error", k->key);
            return GL_INVALID;
        }
        *(int *)field(cfg, k) = lvl;
        return GL_OK;
    }
    case T_MODE: {
        char *end = NULL;
        errno = 0;
        long m = strtol(val, &end, 8);
        if (errno || end == val || *end || m < k->min || m > k->max) {
            gl_err_field(err, k->key, "%s: expected an octal mode such as 0660", k->key);
            return GL_INVALID;
        }
        *(int *)field(cfg, k) = (int)m;
        return GL_OK;
    }
    case T_NETS:
        if (gl_ipnet_parse_list(val, field(cfg, k), err) != GL_OK) {
            char why[sizeof err->msg];
            snprintf(why, sizeof why, "%s", err->msg);
            gl_err_field(err, k->key, "%s: %s", k->key, why);
            return GL_INVALID;
        }
        return GL_OK;
    case T_INT:
        if (gl_parse_i64(val, k->min, k->max, &v) != GL_OK) {
            gl_err_field(err, k->key, "%s: expected an integer from %lld to %lld", k->key,
                         (long long)k->min, (long long)k->max);
            return GL_INVALID;
        }
        *(int *)field(cfg, k) = (int)v;
        return GL_OK;
    case T_I64:
        if (gl_parse_i64(val, k->min, k->max, &v) != GL_OK) {
            gl_err_field(err, k->key, "%s: expected an integer from %lld to %lld", k->key,
                         (long long)k->min, (long long)k->max);
            return GL_INVALID;
        }
        *(int64_t *)field(cfg, k) = v;
        return GL_OK;
    }
    return GL_ERR;
}

/* oauth2.redirect_url: empty, or an absolute http(s) URL of visible ASCII
 * without a fragment (providers compare it byte for byte). */
static int check_redirect_url(const char *u, gl_err_t *err)
{
    if (!*u)
        return GL_OK;
    bool ok = strncmp(u, "https://", 8) == 0 || strncmp(u, "http://", 7) == 0;
    for (const char *p = u; ok && *p; p++)
        ok = (unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f && *p != '#';
    if (!ok || strlen(u) > 1024) {
        gl_err_field(err, "oauth2.redirect_url",
                     "oauth2.redirect_url: expected an absolute http:// or https:// URL without spaces or a "
                     "fragment, at most 1024 bytes");
        return GL_INVALID;
    }
    return GL_OK;
}

static const key_t_ *find_key(const char *key)
{
    for (size_t i = 0; i < GL_NELEM(keys); i++)
        if (strcmp(keys[i].key, key) == 0)
            return &keys[i];
    return NULL;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

static int parse_file(FILE *f, const char *path, gl_config_t *cfg, gl_err_t *err)
{
    char line[4096];
    int lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t len = strlen(line);
        if (len == sizeof line - 1 && line[len - 1] != '\n') {
            gl_err_set(err, "%s:%d: line too long", path, lineno);
            return GL_INVALID;
        }
        char *s = trim(line);
        if (*s == '\0' || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            gl_err_set(err, "%s:%d: expected `key = value`", path, lineno);
            return GL_INVALID;
        }
        *eq = '\0';
        char *key = trim(s);
        char *val = trim(eq + 1);
        size_t vlen = strlen(val);
        if (vlen >= 2 && val[0] == '"' && val[vlen - 1] == '"') {
            val[vlen - 1] = '\0';
            val++;
        }
        const key_t_ *k = find_key(key);
        if (!k) {
            gl_err_set(err, "%s:%d: unknown key '%s'", path, lineno, key);
            return GL_INVALID;
        }
        gl_err_t e2;
        gl_err_clear(&e2);
        if (set_value(cfg, k, val, &e2) != GL_OK) {
            gl_err_field(err, k->key, "%s:%d: %s", path, lineno, e2.msg);
            return GL_INVALID;
        }
    }
    return GL_OK;
}

static void env_name(const char *key, char *out, size_t n)
{
    size_t pos = (size_t)snprintf(out, n, "GLYPHIC_");
    for (const char *k = key; *k && pos + 1 < n; k++)
        out[pos++] = *k == '.' ? '_' : (char)toupper((unsigned char)*k);
    out[pos] = '\0';
}

bool gl_config_record_socket(const gl_config_t *cfg, char *buf, size_t cap)
{
    const char *set = cfg->events_record_socket ? cfg->events_record_socket : "";
    int n;
    if (strcmp(set, "off") == 0)
        return false;
    if (*set) {
        n = snprintf(buf, cap, "%s", set);
    } else {
        const char *ev = cfg->events_socket ? cfg->events_socket : "";
        const char *slash = strrchr(ev, '/');
        if (ev[0] != '/' || !slash)
            return false;
        n = snprintf(buf, cap, "%.*s/record.sock", (int)(slash - ev), ev);
    }
    return n > 0 && (size_t)n < cap;
}

void gl_config_free(gl_config_t *cfg)
{
    for (size_t i = 0; i < GL_NELEM(keys); i++) {
        if (keys[i].type == T_STR) {
            char **p = field(cfg, &keys[i]);
            free(*p);
            *p = NULL;
        }
    }
}

int gl_config_load(const char *path, gl_config_t *out, gl_err_t *err)
{
    gl_config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    for (size_t i = 0; i < GL_NELEM(keys); i++) {
        if (set_value(&cfg, &keys[i], keys[i].def, err) != GL_OK) {
            gl_config_free(&cfg);
            return GL_ERR; /* a bad default is a programming error */
        }
    }

    bool explicit = true;
    if (!path || !*path) {
        path = getenv("GLYPHIC_CONFIG");
        if (!path || !*path) {
            path = GL_CONFIG_DEFAULT_PATH;
            explicit = false;
        }
    }
    char used[512] = "";
    FILE *f = fopen(path, "r");
    if (!f && (explicit || errno != ENOENT)) {
        gl_err_set(err, "cannot read config file %s: %s", path, strerror(errno));
        gl_config_free(&cfg);
        return GL_INVALID;
    }
    if (f) {
        int rc = parse_file(f, path, &cfg, err);
        fclose(f);
        if (rc != GL_OK) {
            gl_config_free(&cfg);
            return rc;
        }
        if (snprintf(used, sizeof used, "%s", path) >= (int)sizeof used)
            gl_utf8_trim(used); /* only reported (gl_config_source), never opened again */
    }

    for (size_t i = 0; i < GL_NELEM(keys); i++) {
        char name[96];
        env_name(keys[i].key, name, sizeof name);
        const char *v = getenv(name);
        if (!v)
            continue;
        gl_err_t e2;
        gl_err_clear(&e2);
        if (set_value(&cfg, &keys[i], v, &e2) != GL_OK) {
            gl_err_field(err, keys[i].key, "environment %s: %s", name, e2.msg);
            gl_config_free(&cfg);
            return GL_INVALID;
        }
    }
    if (check_redirect_url(cfg.oauth2_redirect_url, err) != GL_OK) {
        gl_config_free(&cfg);
        return GL_INVALID;
    }
    if (cfg.fcgi_workers == 0)
        cfg.fcgi_workers = 8 * gl_config_ncpu() < 32 ? 8 * gl_config_ncpu() : 32;
    if (cfg.executor_workers == 0)
        cfg.executor_workers = gl_config_ncpu();

    snprintf(source_path, sizeof source_path, "%s", used);
    *out = cfg;
    return GL_OK;
}

/* Masks the value of password=... in a key=value conninfo and the password
 * part of a postgresql://user:password@host URI. */
static void print_masked(FILE *out, const char *v)
{
    const char *at = strstr(v, "://");
    if (at) {
        const char *cred_end = strchr(at + 3, '@');
        const char *colon = cred_end ? memchr(at + 3, ':', (size_t)(cred_end - (at + 3))) : NULL;
        if (colon) {
            fprintf(out, "%.*s:***%s", (int)(colon - v), v, cred_end);
            return;
        }
    }
    const char *p = strstr(v, "password");
    if (!p) {
        fputs(v, out);
        return;
    }
    const char *q = p + strlen("password");
    while (*q == ' ')
        q++;
    if (*q != '=') {
        fputs(v, out);
        return;
    }
    q++;
    while (*q == ' ')
        q++;
    fprintf(out, "%.*s***", (int)(q - v), v);
    if (*q == '\'') {
        q++;
        while (*q && *q != '\'')
            q += (*q == '\\' && q[1]) ? 2 : 1;
        if (*q)
            q++;
    } else {
        while (*q && *q != ' ')
            q++;
    }
    fputs(q, out);
}

void gl_config_dump(const gl_config_t *cfg, FILE *out)
{
    static const char *const lv[] = { "debug", "info", "warn", "error" };
    gl_config_t *c = (gl_config_t *)(uintptr_t)cfg;
    for (size_t i = 0; i < GL_NELEM(keys); i++) {
        const key_t_ *k = &keys[i];
        fprintf(out, "%s = ", k->key);
        switch (k->type) {
        case T_STR:
            if (k->conninfo)
                print_masked(out, *(char **)field(c, k));
            else
                fputs(*(char **)field(c, k), out);
            break;
        case T_INT: fprintf(out, "%d", *(int *)field(c, k)); break;
        case T_I64: fprintf(out, "%lld", (long long)*(int64_t *)field(c, k)); break;
        case T_BOOL: fputs(*(bool *)field(c, k) ? "true" : "false", out); break;
        case T_MODE: fprintf(out, "%04o", (unsigned)*(int *)field(c, k)); break;
        case T_LEVEL: fputs(lv[*(int *)field(c, k)], out); break;
        case T_LOGFMT: fputs(*(bool *)field(c, k) ? "json" : "text", out); break;
        case T_NETS: {
            char text[GL_IPNET_MAX * 48];
            gl_ipnet_format_list(field(c, k), text, sizeof text);
            fputs(text, out);
            break;
        }
        }
        fputc('\n', out);
    }
}

void gl_config_example(FILE *out)
{
    fprintf(out, "# glyphic.conf: Glyphic's configuration, read by glyphic-fcgi, glyphic-events,\n"
                 "# glyphic-executor and glyphic (-c FILE, $GLYPHIC_CONFIG, else /etc/glyphic/glyphic.conf).\n"
                 "# One `key = value` per line; # starts a comment. A key's environment variable,\n"
                 "# when set, wins over the file. Every key below is commented out at its default.\n"
                 "# Written by `glyphic config --example` (glyphic %s).\n",
            GL_VERSION);
    for (size_t i = 0; i < GL_NELEM(keys); i++) {
        char name[96];
        env_name(keys[i].key, name, sizeof name);
        fprintf(out, "\n# %s (%s)\n#%s = %s\n", keys[i].help, name, keys[i].key, keys[i].def);
    }
}

void gl_config_help(FILE *out)
{
    for (size_t i = 0; i < GL_NELEM(keys); i++) {
        char name[96];
        env_name(keys[i].key, name, sizeof name);
        fprintf(out, "  %-22s %-30s default: %s\n      %s\n", keys[i].key, name,
                keys[i].def[0] ? keys[i].def : "(empty)", keys[i].help);
    }
}
