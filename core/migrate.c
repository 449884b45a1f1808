/* migrate.c: applies the compiled-in migrations (see migrate.h). */
#include "migrate.h"

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

static int apply_one(gl_db_t *db, const gl_migration_t *m, gl_err_t *err)
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
    rc = gl_db_exec_script(db, m->sql, err);
    if (rc == GL_OK)
        rc = gl_db_exec(db, q_record, 3, params, false, NULL, NULL, err);
    if (rc == GL_OK)
        return gl_db_commit(db, err);
    gl_db_rollback(db);
    return rc;
}

int gl_migrate_run(gl_db_t *db, FILE *out, gl_err_t *err)
{
    static const char q_lock[] = "SELECT pg_advisory_lock(" GL_MIGRATE_LOCK ")";
    static const char q_unlock[] = "SELECT pg_advisory_unlock(" GL_MIGRATE_LOCK ")";
    int rc = gl_db_exec(db, q_lock, 0, NULL, true, NULL, NULL, err);
    if (rc != GL_OK)
        return rc;

    PGresult *done = NULL;
    rc = applied(db, &done, err);
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
        rc = apply_one(db, m, err);
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
