/*
 * org_limits.c: `glyphic org limits ORG [--max-running N] [--webhooks-per-minute N]
 * [--max-credentials N]` — the operator's per-org overrides of the limits.*
 * defaults (sql/016_org_limits.sql), shown with what the org uses now.
 *
 * ORG is an org's id, or its name when exactly one org has it. N is a whole
 * number (0: no limit) or `default` (the configured default again). Every
 * change is one statement as db.admin_url; the org's members may read the
 * row, only the owner role writes it.
 */
#include "org_limits.h"

#include "crypto.h"
#include "db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *option;  /* --max-running */
    int64_t max;         /* the column's CHECK bound */
    bool given;
    bool is_default;     /* `default`: back to the configured value */
    char value[24];
} limit_arg_t;

static const char q_org_by_name[] = "SELECT o.id::text FROM glyphic.orgs o WHERE o.name = $1 LIMIT 2";
static const char q_org_by_id[] = "SELECT o.id::text FROM glyphic.orgs o WHERE o.id = $1::uuid";
/* $2, $4, $6: whether to change max_running, webhooks_per_minute,
 * max_credentials; $3, $5, $7: their new values (NULL: the default) */
static const char q_set[] =
    "INSERT INTO glyphic.org_limits AS l (org_id, max_running, webhooks_per_minute, max_credentials) "
    "VALUES ($1::uuid, $3::int, $5::int, $7::int) "
    "ON CONFLICT (org_id) DO UPDATE SET "
    "max_running = CASE WHEN $2::bool THEN EXCLUDED.max_running ELSE l.max_running END, "
    "webhooks_per_minute = CASE WHEN $4::bool THEN EXCLUDED.webhooks_per_minute ELSE l.webhooks_per_minute END, "
    "max_credentials = CASE WHEN $6::bool THEN EXCLUDED.max_credentials ELSE l.max_credentials END, "
    "updated_at = now()";
/* a row that overrides nothing says nothing */
static const char q_tidy[] =
    "DELETE FROM glyphic.org_limits WHERE org_id = $1::uuid AND max_running IS NULL "
    "AND webhooks_per_minute IS NULL AND max_credentials IS NULL";
/* one row per limit: name, override (NULL: none), effective value (0: no
 * limit), and what the org uses of it */
static const char q_show[] =
    "SELECT n.name, CASE n.name WHEN 'max_running' THEN l.max_running WHEN 'webhooks_per_minute' "
    "THEN l.webhooks_per_minute ELSE l.max_credentials END, glyphic.org_limit(o.id, n.name), "
    "CASE n.name WHEN 'max_running' THEN format('running %s, queued %s', u->>'running', u->>'queued') "
    "WHEN 'webhooks_per_minute' THEN format('%s this minute', u->>'webhooks_this_minute') "
    "ELSE format('%s stored', u->>'credentials') END, o.name "
    "FROM glyphic.orgs o LEFT JOIN glyphic.org_limits l ON l.org_id = o.id "
    "CROSS JOIN LATERAL (SELECT glyphic.org_usage(o.id)::jsonb AS u) x "
    "CROSS JOIN unnest(ARRAY['max_running', 'webhooks_per_minute', 'max_credentials']) WITH ORDINALITY AS n(name, ord) "
    "WHERE o.id = $1::uuid ORDER BY n.ord";

static void usage(FILE *out)
{
    fprintf(out, "usage: glyphic org limits ORG [--max-running N] [--webhooks-per-minute N] "
                 "[--max-credentials N]\n"
                 "  ORG  an org's id, or its name when no other org has it\n"
                 "  N    a whole number (0: no limit), or 'default' for the configured limits.org_* value\n");
}

/* Parses argv[3..] into args; 0, or 2 after a message. */
static int parse(int argc, char **argv, limit_arg_t *args, size_t n_args)
{
    for (int i = 3; i < argc; i++) {
        const char *opt = argv[i], *val = NULL;
        size_t opt_len = strcspn(opt, "=");
        limit_arg_t *a = NULL;
        for (size_t k = 0; k < n_args; k++)
            if (strlen(args[k].option) == opt_len && strncmp(opt, args[k].option, opt_len) == 0)
                a = &args[k];
        if (!a) {
            fprintf(stderr, "glyphic org limits: unknown option '%s'\n", opt);
            usage(stderr);
            return 2;
        }
        if (opt[opt_len] == '=')
            val = opt + opt_len + 1;
        else if (i + 1 < argc)
            val = argv[++i];
        if (!val) {
            fprintf(stderr, "glyphic org limits: %s needs a value (a whole number, 0 for no limit, or 'default')\n",
                    a->option);
            return 2;
        }
        if (a->given) {
            fprintf(stderr, "glyphic org limits: %s is given twice\n", a->option);
            return 2;
        }
        a->given = true;
        int64_t v;
        if (strcmp(val, "default") == 0) {
            a->is_default = true;
        } else if (gl_parse_i64(val, 0, a->max, &v) == GL_OK) {
            snprintf(a->value, sizeof a->value, "%lld", (long long)v);
        } else {
            fprintf(stderr, "glyphic org limits: %s: '%s' is not a whole number from 0 to %lld (0: no limit) or "
                            "'default'\n", a->option, val, (long long)a->max);
            return 2;
        }
    }
    return 0;
}

/* The org's id for ORG (an id, or a name only one org has) into id;
 * 0, or 1 after a message. */
static int find_org(gl_db_t *db, const char *org, char id[GL_UUID_LEN + 1], gl_err_t *err)
{
    const char *params[] = { org };
    PGresult *res = NULL;
    bool by_id = gl_is_uuid(org);
    if (gl_db_exec(db, by_id ? q_org_by_id : q_org_by_name, 1, params, true, NULL, &res, err) != GL_OK) {
        fprintf(stderr, "glyphic org limits: %s\n", err->msg);
        return 1;
    }
    int rows = PQntuples(res);
    if (rows == 1)
        snprintf(id, GL_UUID_LEN + 1, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    if (rows == 0) {
        if (by_id)
            fprintf(stderr, "glyphic org limits: no org has the id %s\n", org);
        else
            fprintf(stderr, "glyphic org limits: no org is named '%s' (give an org's id or exact name)\n", org);
        return 1;
    }
    if (rows > 1) {
        fprintf(stderr, "glyphic org limits: more than one org is named '%s'; give the org's id\n", org);
        return 1;
    }
    return 0;
}

static int set_limits(gl_db_t *db, const char *id, const limit_arg_t *args, gl_err_t *err)
{
    const char *params[7] = { id };
    for (int k = 0; k < 3; k++) {
        params[1 + 2 * k] = args[k].given ? "true" : "false";
        params[2 + 2 * k] = args[k].given && !args[k].is_default ? args[k].value : NULL;
    }
    int rc = gl_db_exec(db, q_set, 7, params, false, NULL, NULL, err);
    if (rc == GL_OK)
        rc = gl_db_exec(db, q_tidy, 1, params, false, NULL, NULL, err);
    return rc;
}

static int show(gl_db_t *db, const char *id, gl_err_t *err)
{
    const char *params[] = { id };
    PGresult *res = NULL;
    int rc = gl_db_exec(db, q_show, 1, params, true, NULL, &res, err);
    if (rc != GL_OK)
        return rc;
    if (PQntuples(res) > 0)
        printf("org %s (%s)\n", id, PQgetvalue(res, 0, 4));
    printf("%-20s %-10s %-42s %s\n", "limit", "value", "from", "in use");
    for (int i = 0; i < PQntuples(res); i++) {
        const char *name = PQgetvalue(res, i, 0), *eff = PQgetvalue(res, i, 2);
        char from[64];
        if (PQgetisnull(res, i, 1))
            snprintf(from, sizeof from, "default (limits.org_%s)", name);
        else
            snprintf(from, sizeof from, "this org");
        printf("%-20s %-10s %-42s %s\n", name, strcmp(eff, "0") == 0 ? "none" : eff, from, PQgetvalue(res, i, 3));
    }
    PQclear(res);
    return GL_OK;
}

int gl_cli_org(const gl_config_t *cfg, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "limits") != 0) {
        if (argc < 2)
            fprintf(stderr, "glyphic org: a subcommand is needed\n");
        else
            fprintf(stderr, "glyphic org: unknown subcommand '%s'\n", argv[1]);
        usage(stderr);
        return 2;
    }
    if (argc < 3 || argv[2][0] == '-' || !argv[2][0]) {
        fprintf(stderr, "glyphic org limits: which org? (an org's id or name)\n");
        usage(stderr);
        return 2;
    }
    limit_arg_t args[] = {
        { .option = "--max-running", .max = 100000 },
        { .option = "--webhooks-per-minute", .max = 100000000 },
        { .option = "--max-credentials", .max = 1000000 },
    };
    int status = parse(argc, argv, args, GL_NELEM(args));
    if (status)
        return status;
    gl_db_opts_t opts = { .conninfo = cfg->db_admin_url, .trusted = true, .appname = "glyphic-org",
                          .connect_timeout_s = cfg->db_connect_timeout };
    gl_db_t *db = gl_db_new(&opts);
    gl_err_t err;
    gl_err_clear(&err);
    char id[GL_UUID_LEN + 1];
    int rc = gl_db_connect_now(db, &err);
    if (rc != GL_OK) {
        fprintf(stderr, "glyphic org limits: %s\n", err.msg);
        gl_db_free(db);
        return 1;
    }
    status = find_org(db, argv[2], id, &err);
    if (!status && (args[0].given || args[1].given || args[2].given))
        rc = set_limits(db, id, args, &err);
    if (!status && rc == GL_OK)
        rc = show(db, id, &err);
    if (!status && rc != GL_OK) {
        fprintf(stderr, "glyphic org limits: %s\n", err.msg);
        status = 1;
    }
    gl_db_free(db);
    return status;
}
