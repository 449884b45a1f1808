/*
 * rotate_key.c: `glyphic rotate-key --new KEYFILE`, re-sealing every
 * credential under a new master key while the servers run.
 *
 * The procedure (README "Rotating the master key"):
 *   1. `glyphic keygen NEW` writes the new key;
 *   2. the configuration names it as secrets.key_file and the old key in
 *      secrets.old_key_files; glyphic-fcgi reloads (SIGHUP) and the executor
 *      restarts, so from then on every program seals under NEW and opens
 *      under both;
 *   3. `glyphic rotate-key --new NEW` re-seals the rows still under another
 *      key, in batches of --batch rows, each batch one transaction that
 *      locks its rows (FOR UPDATE SKIP LOCKED: a row a server is changing
 *      is taken on a later pass), so a row is always wholly under one key;
 *   4. when it reports nothing left, the old key leaves old_key_files.
 *
 * Interrupted (even by SIGKILL), it is run again: committed batches stay
 * done, an open one rolled back, and it goes on with what is left. It
 * refuses a NEW that the configuration does not name: servers that lack it
 * could not open what it re-seals.
 *
 * Exit status: 0 every row under the new key; 1 rows that could not be
 * re-sealed (listed by id; never a value); 2 usage or configuration.
 */
#include "rotate_key.h"

#include "crypto.h"
#include "db.h"
#include "log.h"
#include "vault.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_FAILED 1000

typedef struct {
    gl_db_t *db;
    gl_vault_t *vault;
    const char *new_id;
    int batch;
    char *failed[MAX_FAILED]; /* ids that do not open, skipped by later passes */
    int n_failed;
} rotation_t;

/* The rows of one batch, locked: those under another key, skipping the ids
 * that failed before. */
static const char q_batch[] =
    "SELECT id, org_id, key_id, secrets FROM glyphic.credentials "
    "WHERE key_id IS DISTINCT FROM $1 AND secrets <> '{}' AND NOT (id = ANY ($2::uuid[])) "
    "ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED";
static const char q_update[] =
    "UPDATE glyphic.credentials SET secrets = $2::jsonb, key_id = $3 WHERE id = $1 AND key_id = $4";
static const char q_left[] =
    "SELECT count(*) FILTER (WHERE key_id IS DISTINCT FROM $1 AND secrets <> '{}'), count(*) "
    "FROM glyphic.credentials";

static char *failed_array(const rotation_t *r, gl_arena_t *a)
{
    size_t len = 3 + (size_t)r->n_failed * (GL_UUID_LEN + 1);
    char *s = gl_arena_alloc(a, len);
    size_t o = 0;
    s[o++] = '{';
    for (int i = 0; i < r->n_failed; i++) {
        if (i)
            s[o++] = ',';
        memcpy(s + o, r->failed[i], GL_UUID_LEN);
        o += GL_UUID_LEN;
    }
    s[o++] = '}';
    s[o] = '\0';
    return s;
}

static void add_failed(rotation_t *r, const char *id, const char *why)
{
    fprintf(stderr, "glyphic rotate-key: credential %s: %s\n", id, why);
    if (r->n_failed < MAX_FAILED)
        r->failed[r->n_failed++] = gl_xstrdup(id);
}

/* Re-seals one row's fields under the new key into *out (JSON text).
 * GL_INVALID when a field does not open (err says which). */
static int reseal(const rotation_t *r, const char *org, const char *id, const char *key_id, const char *secrets,
                  gl_arena_t *a, const char **out, gl_err_t *err)
{
    json_object *in = json_tokener_parse(secrets);
    if (!in || !json_object_is_type(in, json_type_object)) {
        json_object_put(in);
        gl_err_set(err, "its secrets are not a JSON object");
        return GL_INVALID;
    }
    json_object *res = json_object_new_object();
    int rc = GL_OK;
    json_object_object_foreach(in, field, val) {
        gl_vault_ad_t ad = { org, id, field };
        char *plain = NULL, *sealed = NULL;
        size_t n = 0;
        if (!json_object_is_type(val, json_type_string)) {
            gl_err_set(err, "field '%.64s' is not a sealed string", field);
            rc = GL_INVALID;
            break;
        }
        rc = gl_vault_open(r->vault, key_id, &ad, json_object_get_string(val), a, &plain, &n, err);
        if (rc == GL_OK)
            rc = gl_vault_seal(r->vault, r->new_id, &ad, plain, n, a, &sealed, err);
        if (rc != GL_OK) {
            char why[sizeof err->msg];
            memcpy(why, err->msg, sizeof why);
            gl_err_set(err, "field '%.64s' %.180s", field, why);
            rc = GL_INVALID;
            break;
        }
        json_object_object_add(res, field, json_object_new_string(sealed));
    }
    if (rc == GL_OK)
        *out = gl_arena_strdup(a, json_object_to_json_string_ext(res, JSON_C_TO_STRING_PLAIN));
    json_object_put(res);
    json_object_put(in);
    return rc;
}

/* One batch in one transaction; *n_done rows re-sealed, *n_seen rows taken. */
static int run_batch(rotation_t *r, gl_arena_t *a, int *n_done, int *n_seen, gl_err_t *err)
{
    *n_done = *n_seen = 0;
    char limit[16];
    snprintf(limit, sizeof limit, "%d", r->batch);
    const char *params[] = { r->new_id, failed_array(r, a), limit };
    PGresult *res = NULL;
    int rc = gl_db_begin(r->db, err);
    if (rc == GL_OK)
        rc = gl_db_exec(r->db, q_batch, 3, params, true, a, &res, err);
    for (int i = 0; rc == GL_OK && i < PQntuples(res); i++) {
        const char *id = PQgetvalue(res, i, 0), *org = PQgetvalue(res, i, 1);
        const char *key_id = PQgetisnull(res, i, 2) ? NULL : PQgetvalue(res, i, 2);
        const char *sealed = NULL;
        gl_err_t why;
        gl_err_clear(&why);
        (*n_seen)++;
        if (reseal(r, org, id, key_id, PQgetvalue(res, i, 3), a, &sealed, &why) != GL_OK) {
            add_failed(r, id, why.msg);
            continue;
        }
        const char *up[] = { id, sealed, r->new_id, key_id };
        rc = gl_db_exec(r->db, q_update, 4, up, false, a, NULL, err);
        if (rc == GL_OK)
            (*n_done)++;
    }
    if (rc == GL_OK)
        rc = gl_db_commit(r->db, err);
    else
        gl_db_rollback(r->db);
    return rc;
}

static int count_left(rotation_t *r, gl_arena_t *a, long long *left, long long *all, gl_err_t *err)
{
    const char *params[] = { r->new_id };
    PGresult *res = NULL;
    int rc = gl_db_exec(r->db, q_left, 1, params, true, a, &res, err);
    if (rc == GL_OK) {
        *left = gl_db_int(res, 0, 0);
        *all = gl_db_int(res, 0, 1);
    }
    return rc;
}

static int rotate(rotation_t *r, int sleep_ms, gl_err_t *err)
{
    gl_arena_t *a = gl_arena_create(0);
    long long left = 0, all = 0, done = 0;
    int rc = count_left(r, a, &left, &all, err);
    if (rc == GL_OK)
        printf("%lld of %lld credentials to re-seal under key %s\n", left, all, r->new_id);
    int idle_passes = 0;
    while (rc == GL_OK) {
        int n_done = 0, n_seen = 0;
        gl_arena_reset(a);
        rc = run_batch(r, a, &n_done, &n_seen, err);
        if (rc != GL_OK)
            break;
        done += n_done;
        if (n_done > 0)
            printf("re-sealed %lld of %lld\n", done, left);
        fflush(stdout);
        if (n_seen == 0) {
            /* nothing free to take: done, or rows locked by a server for now */
            long long now_left = 0, now_all = 0;
            rc = count_left(r, a, &now_left, &now_all, err);
            if (rc != GL_OK || now_left <= r->n_failed || ++idle_passes > 600)
                break;
            struct timespec ts = { 0, 100 * 1000000L };
            nanosleep(&ts, NULL);
            continue;
        }
        idle_passes = 0;
        if (sleep_ms > 0) {
            struct timespec ts = { sleep_ms / 1000, (long)(sleep_ms % 1000) * 1000000L };
            nanosleep(&ts, NULL);
        }
    }
    if (rc == GL_OK) {
        gl_arena_reset(a);
        rc = count_left(r, a, &left, &all, err);
    }
    gl_arena_destroy(a);
    if (rc != GL_OK)
        return rc;
    printf("done: %lld re-sealed in this run; %lld credential(s) not under key %s\n", done, left, r->new_id);
    return left == 0 ? GL_OK : GL_CONFLICT;
}

int gl_cli_rotate_key(const gl_config_t *cfg, int argc, char **argv)
{
    const char *new_file = NULL;
    int64_t batch = 100, sleep_ms = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--new") == 0 && i + 1 < argc)
            new_file = argv[++i];
        else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc) {
            if (gl_parse_i64(argv[++i], 1, 10000, &batch) != GL_OK) {
                fprintf(stderr, "glyphic rotate-key: --batch takes 1 to 10000\n");
                return 2;
            }
        } else if (strcmp(argv[i], "--sleep-ms") == 0 && i + 1 < argc) {
            if (gl_parse_i64(argv[++i], 0, 60000, &sleep_ms) != GL_OK) {
                fprintf(stderr, "glyphic rotate-key: --sleep-ms takes 0 to 60000\n");
                return 2;
            }
        } else {
            fprintf(stderr, "usage: glyphic rotate-key --new KEYFILE [--batch N] [--sleep-ms MS]\n");
            return 2;
        }
    }
    if (!new_file) {
        fprintf(stderr, "usage: glyphic rotate-key --new KEYFILE [--batch N] [--sleep-ms MS]\n");
        return 2;
    }
    gl_err_t err;
    gl_err_clear(&err);
    if (gl_crypto_init() != GL_OK) {
        fprintf(stderr, "glyphic rotate-key: libsodium cannot start\n");
        return 1;
    }
    char new_id[GL_VAULT_KEY_ID_LEN + 1];
    rotation_t r = { .batch = (int)batch, .new_id = new_id };
    if (gl_vault_file_key_id(new_file, new_id, &err) != GL_OK ||
        gl_vault_load(cfg->secrets_key_file, cfg->secrets_old_key_files, &r.vault, &err) != GL_OK) {
        fprintf(stderr, "glyphic rotate-key: %s\n", err.msg);
        return 2;
    }
    if (!gl_vault_has_key(r.vault, new_id)) {
        fprintf(stderr, "glyphic rotate-key: the configuration does not name %s (key %s): set secrets.key_file to it "
                "and list the old key in secrets.old_key_files, reload glyphic-fcgi and restart the executor, "
                "then run this again (servers without the new key could not open what is re-sealed)\n",
                new_file, new_id);
        gl_vault_free(r.vault);
        return 2;
    }
    if (strcmp(gl_vault_key_id(r.vault), new_id) != 0)
        fprintf(stderr, "glyphic rotate-key: note: secrets.key_file is not %s, so the servers still seal new "
                "secrets under key %s\n", new_file, gl_vault_key_id(r.vault));
    gl_db_opts_t opts = { .conninfo = cfg->db_admin_url, .trusted = true, .appname = "glyphic-rotate-key",
                          .connect_timeout_s = cfg->db_connect_timeout };
    r.db = gl_db_new(&opts);
    int rc = gl_db_connect_now(r.db, &err);
    if (rc == GL_OK)
        rc = rotate(&r, (int)sleep_ms, &err);
    int status = 0;
    if (rc == GL_CONFLICT) {
        fprintf(stderr, "glyphic rotate-key: %d credential(s) could not be re-sealed (listed above); the rest are "
                "under key %s\n", r.n_failed, new_id);
        status = 1;
    } else if (rc != GL_OK) {
        fprintf(stderr, "glyphic rotate-key: %s (run it again to go on)\n", err.msg);
        status = 1;
    }
    for (int i = 0; i < r.n_failed; i++)
        free(r.failed[i]);
    gl_db_free(r.db);
    gl_vault_free(r.vault);
    return status;
}
