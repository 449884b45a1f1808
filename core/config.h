/*
 * config.h: Glyphic's configuration, one table of keys.
 *
 * Sources, later wins: built-in defaults, the config file (`key = value`
 * lines, `#` comments), then environment variables (GLYPHIC_ + the key in
 * upper case with dots as underscores: db.url -> GLYPHIC_DB_URL). Everything
 * is parsed and validated into a new struct before it replaces the old one.
 */
#ifndef GL_CONFIG_H
#define GL_CONFIG_H

#include "gl.h"
#include "ipnet.h"

#include <stdio.h>

#define GL_CONFIG_DEFAULT_PATH "/etc/glyphic/glyphic.conf"

typedef struct {
    int log_level;
    char *log_file;
    bool log_json;         /* log.format = json: one JSON object per line */

    char *db_url;          /* libpq conninfo for glyphic-fcgi (app role) */
    char *db_executor_url; /* libpq conninfo for glyphic-executor */
    char *db_admin_url;    /* libpq conninfo for `glyphic migrate` (owner or superuser) */
    char *db_context_module; /* glyphic_context.so for migrate: a path, "auto" or "off" */
    int db_connect_timeout;
    int db_statement_timeout;
    int db_retry_interval;

    char *fcgi_socket;
    int fcgi_socket_mode;
    int fcgi_workers;
    char *fcgi_hooks_socket;
    int fcgi_api_workers;
    int fcgi_max_requests;
    int fcgi_backlog;
    int fcgi_shutdown_timeout;
    bool metrics_enabled;   /* GET /metrics is served and requests counted */

    int http_max_body;
    int http_max_json_depth;
    int http_direct_budget_ms;
    int expressions_preview_budget_ms;

    char *hooks_drop_headers; /* header names left out of webhook items, comma-separated */

    gl_ipnet_list_t http_allow_private; /* ranges http.request may reach besides public addresses */
    bool http_respond_allow_scripts;     /* flow.respond may answer with a script content type */
    char *oauth2_redirect_url;           /* the OAuth2 callback URL; "": from the request's scheme and Host */

    bool auth_open_signup;
    bool auth_cookie_secure;
    int auth_session_idle;
    int auth_session_lifetime;
    int auth_scrypt_n;
    int auth_login_window;
    int auth_login_max_account;
    int auth_login_max_ip;
    int auth_invite_ttl;

    int workflows_trash_days;

    /* per-org limits (0: none); the database enforces its copy (glyphic migrate) */
    int limits_org_max_running;
    int limits_org_webhooks_per_minute;
    int limits_org_max_credentials;

    char *executor_queue;
    int executor_workers;
    int executor_batch;
    int executor_concurrency;
    int executor_lease;
    int executor_poll_ms;
    int executor_maintenance_interval;
    int executor_schedule_catchup;
    int executor_prune_days;
    bool executor_test_kinds;
    char *executor_env_allow;
    int executor_max_items;
    int executor_max_execution_bytes;
    char *secrets_key_file;
    char *secrets_old_key_files;
    int executions_retention_days;
    int executions_keep_per_workflow;
    int executions_events_max_seconds;
    char *files_dir;              /* the file store (filestore.h) */
    int64_t files_max_file_bytes;
    int64_t files_max_bytes_per_org; /* 0: no limit */
    int files_temp_hours;
    char *events_socket;
    int events_socket_mode;
    char *events_record_socket; /* see gl_config_record_socket */
    int events_db_connections;
    int events_max_streams;
    int events_max_streams_per_org;
    int events_max_streams_per_user;
    int events_max_waits;
    int events_max_waits_per_org;
} gl_config_t;

/*
 * Loads defaults, then the file at path (NULL: $GLYPHIC_CONFIG, else
 * GL_CONFIG_DEFAULT_PATH if it exists), then the environment, into *out.
 * A file named explicitly (argument or $GLYPHIC_CONFIG) must exist.
 * On failure *out is left untouched and err says which key or line is wrong.
 * The caller frees *out with gl_config_free().
 */
int gl_config_load(const char *path, gl_config_t *out, gl_err_t *err) GL_WUR;
void gl_config_free(gl_config_t *cfg);

/* Where glyphic-events takes direct webhook runs' records
 * (events.record_socket, else record.sock in events.socket's directory when
 * that is a path), written into buf; false when there is none (off, or
 * events.socket is host:port) or it does not fit. */
bool gl_config_record_socket(const gl_config_t *cfg, char *buf, size_t cap);

/* Path actually read by the last successful load ("" if none). */
const char *gl_config_source(void);

/* Writes every key with its value (passwords in conninfo strings masked). */
void gl_config_dump(const gl_config_t *cfg, FILE *out);
/* Writes the key table: key, environment variable, default, description. */
void gl_config_help(FILE *out);
/* Writes a configuration file that sets nothing: every key commented out
 * at its default, under its description and environment variable
 * (`glyphic config --example`, installed as glyphic.conf.example). */
void gl_config_example(FILE *out);

/* Number of online CPUs, at least 1. */
int gl_config_ncpu(void);

#endif
