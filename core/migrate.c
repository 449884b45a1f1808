/* migrate.c: applies the compiled-in migrations (see migrate.h). */
#include "migrate.h"

#include "buf.h"
#include "db.h"
#include "log.h"

#include <assert.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* An arbitrary constant key for pg_advisory_lock: "glyphic migrate". */
#define GL_MIGRATE_LOCK "7396519044871"

int gl_migrate_latest(void)
{
    return gl_migrations_count ? gl_migrations[gl_migrations_count - 1].version : 0;
}

static void checksum(const char *sql, char out[65])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)sql, strlen(sql));
    sodium_bin2hex(out, 65, h, sizeof h);
}

/* Reads the applied versions and checksums; *res is cleared by the caller. */
static int applied(gl_db_t *db, PGresult **res, gl_err_t *err)
{
    static const char q_exists[] = "SELECT to_regclass('glyphic.schema_migrations') IS NOT NULL";
    static const char q_list[] =
        "SELECT version, checksum FROM glyphic.schema_migrations ORDER BY version";
    PGresult *r = NULL;
    int rc = gl_db_exec(db, q_exists, 0, NULL, true, NULL, &r, err);
    if (rc != GL_OK)
        return rc;
    bool exists = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    if (!exists) {
        *res = NULL;
        return GL_OK;
    }
    return gl_db_exec(db, q_list, 0, NULL, true, NULL, res, err);
}

static bool is_applied(const PGresult *res, int version, const char **sum)
{
    if (!res)
        return false;
    for (int i = 0; i < PQntuples(res); i++) {
        if ((int)gl_db_int(res, i, 0) == version) {
            *sum = PQgetvalue(res, i, 1);
            return true;
        }
    }
    return false;
}

static int max_applied(const PGresult *res)
{
    int m = 0;
    for (int i = 0; res && i < PQntuples(res); i++) {
        int v = (int)gl_db_int(res, i, 0);
        if (v > m)
            m = v;
    }
    return m;
}

/*
 * Single-role installations (`glyphic migrate --single-role`): one database
 * role owns the schema and is also the app and the executor, for hosts that
 * give a customer one database and one role without CREATEROLE. The
 * migrations are written for three roles; here each one's text is rewritten
 * before it runs, and its recorded checksum stays the original's:
 *   - the patches below, for the few checks that only mean something when
 *     the app role is not the owner (each must match, or migrate stops);
 *   - REVOKE statements lose our role names from their grantee lists (and
 *     go when nobody is left): they take from the app and the executor what
 *     the owner, the same role here, must keep;
 *   - every glyphic_owner, glyphic_app and glyphic_executor becomes the
 *     role (a name that needs no quoting, so it reads the same as an
 *     identifier and inside a string);
 * and after each migration, in its transaction, SINGLE_ROLE_AFTER: the role
 * gets back what a migration revoked from "the app role"; trust is by
 * settings instead of by role: glyphic.trusted (set by the executor's and
 * the CLI's sessions, gl_db_opts_t.trusted), or an application_name of
 * 'glyphic definer', which every SECURITY DEFINER function sets for its own
 * duration (those of the schemas glyphic and glyphic_ctx, where the
 * three-role layout switches to the owner role; a non-superuser may not
 * put a custom setting such as glyphic.* in a function's SET clause, so a
 * built-in one that changes nothing else is used, and it shows in
 * pg_stat_activity while such a function runs); and
 * row level security is forced on every table that has it, so it binds
 * the owner too.
 */
static const struct {
    int version;
    const char *find, *replace;
} single_role_patches[] = {
    /* the TEMPORARY privilege keeps the app role from faking the request
     * context table; an owner can write the real one anyway */
    { 8,
      "  EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC, glyphic_app', current_database());\n"
      "  EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO glyphic_owner', current_database());\n"
      "  IF has_database_privilege('glyphic_app', current_database(), 'TEMPORARY') THEN",
      "  IF false THEN" },
    /* the context table is the owner's own: of course the owner may write it */
    { 8, "ELSIF has_table_privilege('glyphic_app', t, 'UPDATE') THEN", "ELSIF false THEN" },
    { 35, "ELSIF has_table_privilege('glyphic_app', t, 'UPDATE') THEN", "ELSIF false THEN" },
    /* trust is by settings here, which role_trusted() reads (044's WHEN) */
    { 45, "current_user NOT IN ('glyphic_owner', 'glyphic_executor')", "NOT glyphic.role_trusted(current_user)" },
};

static const char SINGLE_ROLE_AFTER[] =
    "REVOKE ALL ON SCHEMA glyphic FROM PUBLIC;\n"
    "GRANT ALL ON ALL TABLES IN SCHEMA glyphic TO glyphic_owner;\n"
    "GRANT ALL ON ALL SEQUENCES IN SCHEMA glyphic TO glyphic_owner;\n"
    "GRANT EXECUTE ON ALL ROUTINES IN SCHEMA glyphic TO glyphic_owner;\n"
    "DO $$\n"
    "DECLARE\n"
    "  f regprocedure;\n"
    "  t regclass;\n"
    "BEGIN\n"
    "  IF to_regprocedure('glyphic.rls_trusted()') IS NOT NULL THEN\n"
    "    CREATE OR REPLACE FUNCTION glyphic.rls_trusted() RETURNS boolean LANGUAGE sql STABLE AS $f$\n"
    "      SELECT COALESCE(pg_catalog.current_setting('glyphic.trusted', true), '')\n"
    "               OPERATOR(pg_catalog.=) 'on'\n"
    "          OR pg_catalog.current_setting('application_name') OPERATOR(pg_catalog.=) 'glyphic definer'\n"
    "    $f$;\n"
    "  END IF;\n"
    "  IF to_regprocedure('glyphic.role_trusted(name)') IS NOT NULL THEN\n"
    "    CREATE OR REPLACE FUNCTION glyphic.role_trusted(p_role name) RETURNS boolean LANGUAGE sql STABLE AS $f$\n"
    "      SELECT COALESCE(pg_catalog.current_setting('glyphic.trusted', true), '')\n"
    "               OPERATOR(pg_catalog.=) 'on'\n"
    "    $f$;\n"
    "  END IF;\n"
    "  FOR f IN SELECT p.oid::regprocedure FROM pg_proc p\n"
    "            WHERE p.pronamespace IN ('glyphic'::regnamespace, to_regnamespace('glyphic_ctx')) AND p.prosecdef\n"
    "              AND NOT coalesce('application_name=glyphic definer' = ANY (p.proconfig), false) LOOP\n"
    "    EXECUTE format('ALTER FUNCTION %s SET application_name = ''glyphic definer''', f);\n"
    "  END LOOP;\n"
    "  FOR t IN SELECT c.oid::regclass FROM pg_class c\n"
    "            WHERE c.relnamespace = 'glyphic'::regnamespace AND c.relrowsecurity\n"
    "              AND NOT c.relforcerowsecurity LOOP\n"
    "    EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', t);\n"
    "  END LOOP;\n"
    "END\n"
    "$$;\n";

/* The role names the migrations are written with. */
static const char *const our_roles[] = { "glyphic_owner", "glyphic_app", "glyphic_executor" };

static bool ident_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '$';
}

/* Appends sql to b with each of our three role names, as a whole word,
 * replaced by role. */
static int rename_roles(gl_buf_t *b, const char *sql, const char *role)
{
    const char *p = sql;
    while (*p) {
        size_t n = 0;
        if (p == sql || !ident_char(p[-1]))
            for (size_t i = 0; i < GL_NELEM(our_roles) && !n; i++) {
                size_t k = strlen(our_roles[i]);
                if (strncmp(p, our_roles[i], k) == 0 && !ident_char(p[k]))
                    n = k;
            }
        int rc = n ? gl_buf_puts(b, role) : gl_buf_append(b, p, 1);
        if (rc != GL_OK)
            return rc;
        p += n ? n : 1;
    }
    return gl_buf_append(b, "", 1);
}

static bool is_our_role(const char *p, size_t n)
{
    for (size_t i = 0; i < GL_NELEM(our_roles); i++)
        if (strlen(our_roles[i]) == n && memcmp(p, our_roles[i], n) == 0)
            return true;
    return false;
}

/* Appends the REVOKE statement [stmt, end) (end at its ';') to b without our
 * role names among its grantees; nothing if no grantee is left. */
static int revoke_without_us(gl_buf_t *b, const char *stmt, const char *end)
{
    const char *from = NULL;
    for (const char *p = stmt; p + 6 <= end; p++)
        if (strncmp(p, "FROM", 4) == 0 && (p[-1] == ' ' || p[-1] == '\n') && (p[4] == ' ' || p[4] == '\n'))
            from = p;
    if (!from)
        return gl_buf_append(b, stmt, (size_t)(end - stmt) + 1);
    gl_buf_t list;
    gl_buf_init(&list, 4096);
    int rc = GL_OK;
    for (const char *p = from + 5; rc == GL_OK && p < end;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end, *a = p, *z = stop;
        while (a < z && (*a == ' ' || *a == '\n'))
            a++;
        while (z > a && (z[-1] == ' ' || z[-1] == '\n'))
            z--;
        if (z > a && !is_our_role(a, (size_t)(z - a))) {
            if (list.len)
                rc = gl_buf_puts(&list, ", ");
            if (rc == GL_OK)
                rc = gl_buf_append(&list, a, (size_t)(z - a));
        }
        p = stop + 1;
    }
    if (rc == GL_OK && list.len) {
        rc = gl_buf_append(b, stmt, (size_t)(from - stmt) + 5);
        if (rc == GL_OK)
            rc = gl_buf_append(b, list.data, list.len);
        if (rc == GL_OK)
            rc = gl_buf_puts(b, ";");
    }
    gl_buf_free(&list);
    return rc;
}

/* Copies sql to b with the REVOKE statements that start a line rewritten by
 * revoke_without_us. */
static int drop_our_revokes(gl_buf_t *b, const char *sql)
{
    const char *p = sql;
    int rc = GL_OK;
    while (rc == GL_OK && *p) {
        const char *end = (p == sql || p[-1] == '\n') && strncmp(p, "REVOKE ", 7) == 0 ? strchr(p, ';') : NULL;
        if (end) {
            rc = revoke_without_us(b, p, end);
            p = end + 1;
        } else {
            rc = gl_buf_append(b, p, 1);
            p++;
        }
    }
    return rc == GL_OK ? gl_buf_append(b, "", 1) : rc;
}

/* The text of migration m for a single-role installation owned by role,
 * in b (NUL-terminated). */
static int single_role_text(const gl_migration_t *m, const char *role, gl_buf_t *b, gl_err_t *err)
{
    char *text = strdup(m->sql);
    for (size_t i = 0; text && i < GL_NELEM(single_role_patches); i++) {
        if (single_role_patches[i].version != m->version)
            continue;
        char *at = strstr(text, single_role_patches[i].find);
        if (!at) {
            free(text);
            gl_err_set(err, "migration %03d: its single-role patch %zu no longer matches", m->version, i + 1);
            return GL_ERR;
        }
        /* the text with the patch in place, in a copy sized for it (a
         * replacement may be longer than what it replaces) */
        size_t head = (size_t)(at - text), nf = strlen(single_role_patches[i].find);
        size_t nr = strlen(single_role_patches[i].replace), tail = strlen(at + nf);
        char *patched = malloc(head + nr + tail + 1);
        if (patched) {
            memcpy(patched, text, head);
            memcpy(patched + head, single_role_patches[i].replace, nr);
            memcpy(patched + head + nr, at + nf, tail + 1);
        }
        free(text);
        text = patched;
    }
    gl_buf_t mid;
    gl_buf_init(&mid, 4u << 20);
    int rc = text ? drop_our_revokes(&mid, text) : GL_ERR;
    if (rc == GL_OK)
        rc = rename_roles(b, mid.data, role);
    gl_buf_free(&mid);
    free(text);
    if (rc != GL_OK)
        gl_err_set(err, "out of memory");
    return rc;
}

/* Runs one compiled-in script as the layout wants it. */
static int run_script(gl_db_t *db, const gl_migration_t *m, const char *sql, const char *single_role,
                      gl_err_t *err)
{
    if (!single_role)
        return gl_db_exec_script(db, sql, err);
    gl_buf_t b;
    gl_buf_init(&b, 4u << 20);
    gl_migration_t tmp = { m ? m->version : 0, m ? m->name : "after", sql };
    int rc = single_role_text(&tmp, single_role, &b, err);
    if (rc == GL_OK)
        rc = gl_db_exec_script(db, b.data, err);
    gl_buf_free(&b);
    return rc;
}

/* Runs migration m in one transaction, recorded in schema_migrations. */
static int apply_one(gl_db_t *db, const gl_migration_t *m, const char *single_role, gl_err_t *err)
{
    static const char q_record[] =
        "INSERT INTO glyphic.schema_migrations (version, name, checksum) VALUES ($1, $2, $3)";
    char sum[65];
    checksum(m->sql, sum);
    char ver[16];
    snprintf(ver, sizeof ver, "%d", m->version);
    const char *params[] = { ver, m->name, sum };

    int rc = gl_db_begin(db, err);
    if (rc != GL_OK)
        return rc;
    rc = run_script(db, m, m->sql, single_role, err);
    if (rc == GL_OK && single_role)
        rc = run_script(db, NULL, SINGLE_ROLE_AFTER, single_role, err);
    if (rc == GL_OK)
        rc = gl_db_exec(db, q_record, 3, params, false, NULL, NULL, err);
    if (rc == GL_OK)
        return gl_db_commit(db, err);
    gl_db_rollback(db);
    return rc;
}

/*
 * Finds the installation's layout: an existing schema owned by glyphic_owner
 * is three-role, one owned by another role is single-role (owned by that
 * role); a new one is what the caller asked for. role gets the single role's
 * name, or "" for three roles.
 */
static int layout(gl_db_t *db, bool want_single, char role[64], gl_err_t *err)
{
    static const char q[] =
        "SELECT current_user, quote_ident(current_user) = current_user::text, "
        "  (SELECT n.nspowner::regrole::text FROM pg_namespace n WHERE n.nspname = 'glyphic'), "
        "  r.rolsuper OR r.rolcreaterole, "
        "  (SELECT count(*) FROM pg_roles t "
        "    WHERE t.rolname IN ('glyphic_owner', 'glyphic_app', 'glyphic_executor')) = 3, r.rolsuper, "
        "  current_setting('server_encoding') "
        "FROM pg_roles r WHERE r.rolname = current_user";
    PGresult *res = NULL;
    int rc = gl_db_exec(db, q, 0, NULL, true, NULL, &res, err);
    if (rc != GL_OK)
        return rc;
    const char *me = PQgetvalue(res, 0, 0), *owner = PQgetvalue(res, 0, 2);
    bool plain = PQgetvalue(res, 0, 1)[0] == 't', exists = !PQgetisnull(res, 0, 2);
    bool can_create = PQgetvalue(res, 0, 3)[0] == 't', roles = PQgetvalue(res, 0, 4)[0] == 't';
    bool super = PQgetvalue(res, 0, 5)[0] == 't';
    const char *encoding = PQgetvalue(res, 0, 6);
    role[0] = '\0';
    rc = GL_ERR;
    if (!exists && strcmp(encoding, "UTF8") != 0) {
        /* jsonb refuses a \u escape of a character past ASCII in any other
         * encoding, so saving such a workflow would fail (22P05) */
        gl_err_set(err, "the database's encoding is %s; Glyphic needs UTF8: create it with "
                        "`CREATE DATABASE name ENCODING 'UTF8' TEMPLATE template0` (or initdb -E UTF8)", encoding);
    } else if (exists && strcmp(owner, "glyphic_owner") == 0) {
        if (want_single)
            gl_err_set(err, "this database has the three-role layout (glyphic_owner owns the schema): "
                            "run `glyphic migrate` without --single-role");
        else
            rc = GL_OK;
    } else if (exists) {
        if (strcmp(owner, me) != 0 && !super)
            gl_err_set(err, "this is a single-role installation owned by %s: run `glyphic migrate` as %s "
                            "(db.admin_url), not as %s", owner, owner, me);
        else
            snprintf(role, 64, "%s", owner), rc = GL_OK;
    } else if (want_single) {
        if (super)
            gl_err_set(err, "--single-role is for a role of one's own, not a superuser: set db.admin_url to the "
                            "role that is to own the schema");
        else if (!plain)
            gl_err_set(err, "--single-role needs a role name that reads the same unquoted (lower case letters, "
                            "digits, _), not \"%s\"", me);
        else
            snprintf(role, 64, "%s", me), rc = GL_OK;
    } else if (!can_create && !roles) {
        gl_err_set(err, "role %s cannot create the roles glyphic_owner, glyphic_app and glyphic_executor (it has "
                        "no CREATEROLE): have an administrator create them (or run this migration as one), or "
                        "install with one role of your own: `glyphic migrate --single-role`", me);
    } else
        rc = GL_OK;
    PQclear(res);
    return rc;
}

/*
 * The request context's implementation (sql/035_context_schema.sql): the
 * C functions of glyphic_context.so when module is a file the server loads
 * and this role is a superuser (C functions need one), else 035's plpgsql.
 * First, glyphic_ctx is made again if it is missing (a restored dump holds
 * only the schema glyphic). Each change is one transaction; a module that
 * does not load leaves the table context, with a line saying why.
 */
#define CONTEXT_SINCE 35

/* The migrations that make glyphic_ctx's table implementation (each only
 * creates or replaces, and runs again when it is put back). */
static const int context_files[] = { 35, 36 };

static const struct {
    const char *sig, *types, *ret, *symbol, *attrs;
    bool app; /* the app and executor roles may call it (else the owner alone) */
} context_funcs[] = {
    { "write(p_user uuid, p_org uuid, p_org_ids uuid[], p_editor_org_ids uuid[], p_admin_org_ids uuid[])",
      "(uuid, uuid, uuid[], uuid[], uuid[])", "void", "glyphic_ctx_write", "VOLATILE", false },
    { "user_id()", "()", "uuid", "glyphic_ctx_user_id", "STABLE", true },
    { "org_id()", "()", "uuid", "glyphic_ctx_org_id", "STABLE", true },
    { "org_ids()", "()", "uuid[]", "glyphic_ctx_org_ids", "STABLE", true },
    { "editor_org_ids()", "()", "uuid[]", "glyphic_ctx_editor_org_ids", "STABLE", true },
    { "admin_org_ids()", "()", "uuid[]", "glyphic_ctx_admin_org_ids", "STABLE", true },
    /* 036's: they read and write as their owner */
    { "auth_session(p_token_hash bytea, p_wanted_org uuid, p_idle_seconds integer)", "(bytea, uuid, integer)",
      "TABLE (session_id uuid, user_id uuid, org_id uuid, role text)", "glyphic_ctx_auth_session",
      "VOLATILE SECURITY DEFINER", true },
    { "auth_api_key(p_key_hash bytea)", "(bytea)",
      "TABLE (key_id uuid, user_id uuid, org_id uuid, role text, scopes text[])", "glyphic_ctx_auth_api_key",
      "VOLATILE SECURITY DEFINER", true },
};

static const gl_migration_t *migration(int version)
{
    for (int i = 0; i < gl_migrations_count; i++)
        if (gl_migrations[i].version == version)
            return &gl_migrations[i];
    return NULL;
}

/* Runs the context's migrations (035, 036) again, unrecorded, in one
 * transaction: between two, the readers would be the table's while the
 * authentication still wrote the module's memory (every request would find
 * an empty context), and a failure of the second would leave it so. */
static int context_table(gl_db_t *db, const char *single_role, gl_err_t *err)
{
    int rc = gl_db_begin(db, err);
    if (rc != GL_OK)
        return rc;
    for (size_t i = 0; rc == GL_OK && i < GL_NELEM(context_files); i++) {
        const gl_migration_t *m = migration(context_files[i]);
        if (!m) {
            gl_err_set(err, "migration %03d is not in this build", context_files[i]);
            rc = GL_ERR;
            break;
        }
        rc = run_script(db, m, m->sql, single_role, err);
    }
    if (rc == GL_OK && single_role)
        rc = run_script(db, NULL, SINGLE_ROLE_AFTER, single_role, err);
    if (rc == GL_OK)
        return gl_db_commit(db, err);
    gl_db_rollback(db);
    return rc;
}

static int context_memory(gl_db_t *db, const char *module, gl_err_t *err)
{
    char *lit = PQescapeLiteral(gl_db_conn(db), module, strlen(module));
    if (!lit) {
        gl_err_set(err, "cannot quote the module's path");
        return GL_ERR;
    }
    gl_buf_t b;
    gl_buf_init(&b, 1u << 20);
    int rc = GL_OK;
    for (size_t i = 0; rc == GL_OK && i < GL_NELEM(context_funcs); i++)
        rc = gl_buf_printf(&b, "CREATE OR REPLACE FUNCTION glyphic_ctx.%s RETURNS %s LANGUAGE c %s AS %s, '%s';\n",
                           context_funcs[i].sig, context_funcs[i].ret, context_funcs[i].attrs, lit,
                           context_funcs[i].symbol);
    /* owned and granted as 035 has them, also if one was missing and is
     * created here (by the superuser, who would own it) */
    for (size_t i = 0; rc == GL_OK && i < GL_NELEM(context_funcs); i++) {
        char sig[128];
        const char *paren = strchr(context_funcs[i].sig, '(');
        snprintf(sig, sizeof sig, "glyphic_ctx.%.*s", (int)(paren - context_funcs[i].sig), context_funcs[i].sig);
        const char *types = context_funcs[i].types;
        bool app = context_funcs[i].app;
        rc = gl_buf_printf(&b, "ALTER FUNCTION %s%s OWNER TO glyphic_owner;\n"
                               "REVOKE ALL ON FUNCTION %s%s FROM PUBLIC;\n%s ON FUNCTION %s%s %s;\n",
                           sig, types, sig, types, app ? "GRANT EXECUTE" : "REVOKE ALL", sig, types,
                           app ? "TO glyphic_app, glyphic_executor" : "FROM glyphic_app, glyphic_executor");
    }
    if (rc == GL_OK)
        rc = gl_buf_puts(&b, "CREATE OR REPLACE FUNCTION glyphic_ctx.kind() RETURNS text LANGUAGE sql IMMUTABLE "
                             "AS $$ SELECT 'memory' $$;\n");
    PQfreemem(lit);
    if (rc != GL_OK) {
        gl_buf_free(&b);
        gl_err_set(err, "out of memory");
        return rc;
    }
    rc = gl_db_begin(db, err);
    if (rc == GL_OK)
        rc = gl_db_exec_script(db, b.data, err);
    gl_buf_free(&b);
    if (rc == GL_OK)
        return gl_db_commit(db, err);
    gl_db_rollback(db);
    return rc;
}

/* Whether the installed functions answer: a C install whose file is gone
 * (moved, or built for another PostgreSQL) fails every request. */
static bool context_answers(gl_db_t *db, gl_err_t *why)
{
    return gl_db_exec(db, "SELECT glyphic_ctx.user_id() IS NULL", 0, NULL, true, NULL, NULL, why) == GL_OK;
}

static int context_step(gl_db_t *db, const char *single_role, const char *module, FILE *out, gl_err_t *err)
{
    static const char q[] =
        "SELECT to_regprocedure('glyphic_ctx.user_id()') IS NOT NULL, "
        "  (SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = current_user), "
        "  coalesce((SELECT l.lanname FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang "
        "             WHERE p.oid = to_regprocedure('glyphic_ctx.user_id()')), ''), "
        "  coalesce((SELECT p.probin FROM pg_proc p WHERE p.oid = to_regprocedure('glyphic_ctx.user_id()')), ''), "
        "  coalesce((SELECT n.nspowner = g.nspowner FROM pg_namespace n, pg_namespace g "
        "             WHERE n.nspname = 'glyphic_ctx' AND g.nspname = 'glyphic'), true), "
        "  (SELECT count(*) FROM pg_proc p WHERE p.pronamespace = to_regnamespace('glyphic_ctx') "
        "     AND p.prolang = (SELECT l.oid FROM pg_language l WHERE l.lanname = 'c') "
        "     AND p.probin = (SELECT u.probin FROM pg_proc u WHERE u.oid = to_regprocedure('glyphic_ctx.user_id()')))";
    PGresult *res = NULL;
    int rc = gl_db_exec(db, q, 0, NULL, true, NULL, &res, err);
    if (rc != GL_OK)
        return rc;
    bool exists = PQgetvalue(res, 0, 0)[0] == 't', super = PQgetvalue(res, 0, 1)[0] == 't';
    bool is_c = strcmp(PQgetvalue(res, 0, 2), "c") == 0;
    /* every function of the module is installed, from that file */
    bool same = is_c && module && strcmp(PQgetvalue(res, 0, 3), module) == 0 &&
                strtol(PQgetvalue(res, 0, 5), NULL, 10) == (long)GL_NELEM(context_funcs);
    bool ours = PQgetvalue(res, 0, 4)[0] == 't';
    PQclear(res);
    if (!ours) {
        gl_err_set(err, "the schema glyphic_ctx belongs to another role than the schema glyphic: drop it (it holds "
                        "no data) and run glyphic migrate again");
        return GL_ERR;
    }
    if (!exists && (rc = context_table(db, single_role, err)) != GL_OK)
        return rc;
    bool want = module && *module && !single_role;
    gl_err_t why;
    gl_err_clear(&why);
    if (want && super) {
        if (same && exists && context_answers(db, &why)) {
            fprintf(out, "request context: in memory (%s)\n", module);
            return GL_OK;
        }
        if (context_memory(db, module, &why) == GL_OK && context_answers(db, &why)) {
            fprintf(out, "request context: in memory (%s)\n", module);
            return GL_OK;
        }
        fprintf(out, "request context: the module %s did not load (%s)\n", module, why.msg);
    } else if (want && is_c && exists) {
        /* installed by a superuser earlier: this role cannot install it
         * again, so it stays while it answers */
        if (context_answers(db, &why)) {
            fprintf(out, "request context: in memory (installed earlier; db.admin_url's role is not a superuser, "
                         "which changing it needs)\n");
            return GL_OK;
        }
        fprintf(out, "request context: the module installed earlier does not load (%s)\n", why.msg);
    }
    /* the module's functions give way to 035's */
    if (is_c && exists && (rc = context_table(db, single_role, err)) != GL_OK)
        return rc;
    fprintf(out, "request context: a temporary table (%s)\n",
            single_role ? "the single-role layout has no superuser to install glyphic_context.so"
            : !want ? "db.context_module is off, or no glyphic_context.so was found"
            : !super ? "db.admin_url's role is not a superuser, which C functions need"
                     : "the module did not load");
    return GL_OK;
}

int gl_migrate_run(gl_db_t *db, bool single_role, const char *context_module, FILE *out, gl_err_t *err)
{
    static const char q_lock[] = "SELECT pg_advisory_lock(" GL_MIGRATE_LOCK ")";
    static const char q_unlock[] = "SELECT pg_advisory_unlock(" GL_MIGRATE_LOCK ")";
    int rc = gl_db_exec(db, q_lock, 0, NULL, true, NULL, NULL, err);
    if (rc != GL_OK)
        return rc;

    char role[64];
    rc = layout(db, single_role, role, err);
    PGresult *done = NULL;
    if (rc == GL_OK)
        rc = applied(db, &done, err);
    if (rc == GL_OK && role[0] && !done)
        fprintf(out, "installing with one role, %s (single-role layout)\n", role);
    if (rc == GL_OK && max_applied(done) > gl_migrate_latest()) {
        gl_err_set(err, "database schema is at version %d but this binary knows only up to %d; "
                   "upgrade glyphic", max_applied(done), gl_migrate_latest());
        rc = GL_SCHEMA;
    }
    int n_applied = 0;
    for (int i = 0; rc == GL_OK && i < gl_migrations_count; i++) {
        const gl_migration_t *m = &gl_migrations[i];
        const char *sum;
        if (is_applied(done, m->version, &sum))
            continue;
        int64_t t0 = gl_now_ms();
        rc = apply_one(db, m, role[0] ? role : NULL, err);
        if (rc != GL_OK) {
            char why[sizeof err->msg];
            snprintf(why, sizeof why, "%s", err ? err->msg : "");
            gl_err_set(err, "migration %03d_%s failed (rolled back): %s", m->version, m->name, why);
            break;
        }
        n_applied++;
        fprintf(out, "applied %03d_%s (%lld ms)\n", m->version, m->name,
                (long long)(gl_now_ms() - t0));
    }
    PQclear(done);
    if (rc == GL_OK)
        fprintf(out, n_applied ? "schema is at version %d\n" : "schema is up to date (version %d)\n",
                gl_migrate_latest());
    if (rc == GL_OK && gl_migrate_latest() >= CONTEXT_SINCE)
        rc = context_step(db, role[0] ? role : NULL, context_module, out, err);

    gl_err_t e2;
    if (gl_db_exec(db, q_unlock, 0, NULL, true, NULL, NULL, &e2) != GL_OK)
        gl_log(GL_LOG_WARN, "advisory unlock failed: %s", e2.msg);
    return rc;
}

int gl_migrate_create_roles(gl_db_t *db, gl_err_t *err)
{
    /* 001_init.sql is released, so never edited: its roles block is the
     * text from "DO $$" to the "$$;" that closes it */
    assert(gl_migrations_count > 0 && gl_migrations[0].version == 1);
    const char *sql = gl_migrations[0].sql;
    const char *start = strstr(sql, "DO $$");
    const char *end = start ? strstr(start + 5, "$$;") : NULL;
    assert(start && end && strstr(start, "CREATE ROLE glyphic_executor") < end);
    size_t n = (size_t)(end + 3 - start);
    char *block = gl_xmalloc(n + 1);
    memcpy(block, start, n);
    block[n] = '\0';
    int rc = gl_db_exec_script(db, block, err);
    free(block);
    return rc;
}

int gl_migrate_status(gl_db_t *db, FILE *out, gl_err_t *err)
{
    PGresult *done = NULL;
    int rc = applied(db, &done, err);
    if (rc != GL_OK)
        return rc;
    int bad = 0;
    for (int i = 0; i < gl_migrations_count; i++) {
        const gl_migration_t *m = &gl_migrations[i];
        const char *sum;
        char want[65];
        checksum(m->sql, want);
        if (!is_applied(done, m->version, &sum))
            fprintf(out, "pending  %03d_%s\n", m->version, m->name);
        else if (strcmp(sum, want) != 0) {
            fprintf(out, "CHANGED  %03d_%s (applied text differs from this binary's)\n",
                    m->version, m->name);
            bad++;
        } else
            fprintf(out, "applied  %03d_%s\n", m->version, m->name);
    }
    int newest = max_applied(done);
    if (newest > gl_migrate_latest()) {
        fprintf(out, "database is at version %d, newer than this binary (%d)\n", newest,
                gl_migrate_latest());
        bad++;
    }
    PQclear(done);
    if (bad) {
        gl_err_set(err, "%d migration(s) do not match this binary", bad);
        return GL_ERR;
    }
    return GL_OK;
}
