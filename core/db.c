/*
 * db.c: the one module that owns libpq results. Each call checks the status
 * it expects, copies nothing it does not need, clears results on every path
 * and maps SQLSTATEs to gl_rc_t (PostgreSQL's fe_utils, pgbench's error
 * handling, pgqd's reconnect loop).
 */
#include "db.h"

#include "log.h"
#include "migrate.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GL_DB_MAX_PREPARED 256

struct gl_db {
    PGconn *conn;
    char *conninfo;
    char *appname;
    int connect_timeout_s;
    int tcp_user_timeout_ms;
    int statement_timeout_ms;
    int retry_interval_ms;
    bool require_rls;
    bool trusted;
    int64_t last_attempt_ms;
    bool attempted;
    int schema_version;
    uint64_t generation; /* successful connections so far */
    uint64_t n_errors;   /* failed statements and connection attempts (metrics) */
    uint64_t n_round_trips; /* statements sent and answers awaited (metrics) */
    int tx_depth;
    int n_prepared;
    const gl_stmt_t *prepared[GL_DB_MAX_PREPARED];
    struct {
        bool sealed;              /* the request's transaction ended in its one round trip */
        const gl_stmt_t *stmt;    /* the statement run ahead, until taken */
        char *params[GL_DB_AHEAD_MAX_PARAMS];
        PGresult *res;            /* its result (NULL when it failed) */
        int rc;
        gl_err_t err;
    } ahead;
};

static int take_ahead(gl_db_t *db, const gl_stmt_t *stmt, const char *const *params, gl_arena_t *arena,
                      PGresult **res, gl_err_t *err);
static void release_ahead(gl_db_t *db);

int64_t gl_db_int(const PGresult *res, int row, int col)
{
    int64_t v = 0;
    if (PQgetisnull(res, row, col) || gl_parse_i64(PQgetvalue(res, row, col), INT64_MIN, INT64_MAX, &v) != GL_OK)
        return 0;
    return v;
}

gl_db_t *gl_db_new(const gl_db_opts_t *opts)
{
    gl_db_t *db = gl_xcalloc(1, sizeof *db);
    db->conninfo = gl_xstrdup(opts->conninfo ? opts->conninfo : "");
    db->appname = gl_xstrdup(opts->appname ? opts->appname : "glyphic");
    db->connect_timeout_s = opts->connect_timeout_s > 0 ? opts->connect_timeout_s : 5;
    db->tcp_user_timeout_ms = opts->tcp_user_timeout_ms;
    db->statement_timeout_ms = opts->statement_timeout_ms;
    db->retry_interval_ms = opts->retry_interval_ms;
    db->require_rls = opts->require_rls;
    db->trusted = opts->trusted;
    return db;
}

static void disconnect(gl_db_t *db)
{
    if (!db->conn)
        return;
    if (PQtransactionStatus(db->conn) == PQTRANS_ACTIVE) {
        PGcancel *c = PQgetCancel(db->conn);
        if (c) {
            char buf[256];
            (void)PQcancel(c, buf, sizeof buf);
            PQfreeCancel(c);
        }
    }
    PQfinish(db->conn);
    db->conn = NULL;
    db->n_prepared = 0;
    db->tx_depth = 0;
}

void gl_db_free(gl_db_t *db)
{
    if (!db)
        return;
    disconnect(db);
    release_ahead(db);
    free(db->conninfo);
    free(db->appname);
    free(db);
}

PGconn *gl_db_conn(gl_db_t *db)
{
    return db->conn;
}

int gl_db_schema_version(const gl_db_t *db)
{
    return db->schema_version;
}

/*
 * True when the server has closed this connection while the program was
 * not using it: a restart, a fast or immediate shutdown, an administrator's
 * pg_terminate_backend. The server says why (an error message, handled as a
 * notice), then closes the socket; libpq notices neither until it reads, so
 * read what waits -- the message, then the end of file -- until libpq has
 * marked the connection bad. Notifications read on the way stay queued for
 * PQnotifies. One poll() when nothing waits.
 */
static bool closed_by_server(gl_db_t *db)
{
    PGconn *c = db->conn;
    for (int i = 0; i < 4 && PQstatus(c) == CONNECTION_OK; i++) {
        struct pollfd pfd = { .fd = PQsocket(c), .events = POLLIN };
        if (pfd.fd < 0 || poll(&pfd, 1, 0) <= 0 || PQconsumeInput(c) == 0)
            break;
    }
    return PQstatus(c) != CONNECTION_OK;
}

/* Copies the error of res (or of the connection) into err; returns its rc. */
static int classify(gl_db_t *db, const PGresult *res, gl_err_t *err)
{
    db->n_errors++;
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (!msg || !*msg)
        msg = db->conn ? PQerrorMessage(db->conn) : "no connection";
    gl_err_set(err, "%s", msg);
    if (err) {
        /* libpq messages end in a newline; a log line must not */
        size_t n = strlen(err->msg);
        while (n && (err->msg[n - 1] == '\n' || err->msg[n - 1] == ' '))
            err->msg[--n] = '\0';
        snprintf(err->sqlstate, sizeof err->sqlstate, "%s", state ? state : "");
    }
    if (!db->conn || PQstatus(db->conn) == CONNECTION_BAD)
        return GL_UNAVAILABLE;
    if (!state) /* libpq's own error: often a socket that broke under the statement */
        return closed_by_server(db) ? GL_UNAVAILABLE : GL_ERR;
    if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0)
        return GL_RETRY;
    /* statement_timeout (57014, also a cancel) and lock_timeout (55P03):
     * the statement was rolled back; the same request may well pass later */
    if (strcmp(state, "57014") == 0 || strcmp(state, "55P03") == 0)
        return GL_UNAVAILABLE;
    if (strcmp(state, "23505") == 0)
        return GL_CONFLICT;
    if (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0)
        return GL_INVALID;
    if (strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 ||
        strcmp(state, "57P02") == 0 || strcmp(state, "57P03") == 0)
        return GL_UNAVAILABLE;
    return GL_ERR;
}

static int read_schema_version(gl_db_t *db, gl_err_t *err)
{
    static const char q_exists[] =
        "SELECT to_regclass('glyphic.schema_migrations') IS NOT NULL";
    static const char q_version[] =
        "SELECT coalesce(max(version), 0) FROM glyphic.schema_migrations";
    PGresult *res = PQexecParams(db->conn, q_exists, 0, NULL, NULL, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        int rc = classify(db, res, err);
        PQclear(res);
        return rc;
    }
    bool exists = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    db->schema_version = 0;
    if (!exists)
        return GL_OK;
    res = PQexecParams(db->conn, q_version, 0, NULL, NULL, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        int rc = classify(db, res, err);
        PQclear(res);
        return rc;
    }
    db->schema_version = (int)gl_db_int(res, 0, 0);
    PQclear(res);
    return GL_OK;
}

/* What the server says outside a statement's result -- a NOTICE from a
 * function, or why it is about to close the connection -- goes to our log,
 * not to stderr. */
static void on_notice(void *arg, const PGresult *res)
{
    (void)arg;
    const char *sev = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
    const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    bool loud = sev && (strcmp(sev, "WARNING") == 0 || strcmp(sev, "ERROR") == 0 ||
                        strcmp(sev, "FATAL") == 0 || strcmp(sev, "PANIC") == 0);
    gl_log(loud ? GL_LOG_WARN : GL_LOG_DEBUG, "database %s: %s", sev ? sev : "notice", msg ? msg : "");
}

int gl_db_connect_now(gl_db_t *db, gl_err_t *err)
{
    disconnect(db);
    db->attempted = true;
    db->last_attempt_ms = gl_now_ms();

    char timeout[16], user_timeout[16], idle[16];
    snprintf(timeout, sizeof timeout, "%d", db->connect_timeout_s);
    snprintf(user_timeout, sizeof user_timeout, "%d", db->tcp_user_timeout_ms);
    snprintf(idle, sizeof idle, "%d", db->tcp_user_timeout_ms / 1000 > 1 ? db->tcp_user_timeout_ms / 1000 : 1);
    /* with a TCP timeout, a peer that vanished without a word is noticed
     * within it (unix sockets ignore these) */
    const char *const keys[] = { "dbname", "application_name", "connect_timeout", "tcp_user_timeout",
                                 "keepalives_idle", "keepalives_interval", "keepalives_count", NULL };
    const char *const vals[] = { db->conninfo, db->appname, timeout, user_timeout, idle, idle, "2", NULL };
    int n_keys = db->tcp_user_timeout_ms > 0 ? 7 : 3;
    const char *k[8], *v[8];
    for (int i = 0; i < n_keys; i++)
        k[i] = keys[i], v[i] = vals[i];
    k[n_keys] = v[n_keys] = NULL;
    db->conn = PQconnectdbParams(k, v, 1);
    if (!db->conn || PQstatus(db->conn) != CONNECTION_OK) {
        db->n_errors++;
        gl_err_set(err, "cannot connect to the database: %s",
                   db->conn ? PQerrorMessage(db->conn) : "out of memory");
        if (err) {
            size_t n = strlen(err->msg);
            while (n && err->msg[n - 1] == '\n')
                err->msg[--n] = '\0';
        }
        disconnect(db);
        return GL_UNAVAILABLE;
    }
    PQsetNoticeReceiver(db->conn, on_notice, NULL);

    /* pin the search path and the statement timeout for this session; the
     * path is the one every SECURITY DEFINER function runs with (pg_temp
     * last), so a plan cached under one is valid under the other; and
     * glyphic.trusted, which only a single-role installation reads (the
     * three-role layout trusts by role) */
    static const char q_setup[] =
        "SELECT set_config('search_path', 'glyphic, pg_temp', false), "
        "set_config('statement_timeout', $1, false), set_config('glyphic.trusted', $2, false)";
    char st[16];
    snprintf(st, sizeof st, "%d", db->statement_timeout_ms);
    const char *params[] = { st, db->trusted ? "on" : "off" };
    PGresult *res = PQexecParams(db->conn, q_setup, 2, NULL, params, NULL, NULL, 0);
    int rc = PQresultStatus(res) == PGRES_TUPLES_OK ? GL_OK : classify(db, res, err);
    PQclear(res);
    if (rc == GL_OK)
        rc = read_schema_version(db, err);
    if (rc == GL_OK && db->require_rls) {
        /* a member of the owner or executor role, or of a superuser or BYPASSRLS
         * role, can SET ROLE to it */
        static const char q_role[] =
            "SELECT r.rolsuper OR r.rolbypassrls OR r.rolname IN ('glyphic_owner', 'glyphic_executor') "
            "OR EXISTS (SELECT 1 FROM pg_roles t WHERE (t.rolsuper OR t.rolbypassrls "
            "OR t.rolname IN ('glyphic_owner', 'glyphic_executor')) AND t.oid <> r.oid "
            "AND pg_has_role(r.oid, t.oid, 'MEMBER')), r.rolname "
            "FROM pg_roles r WHERE r.rolname = current_user";
        res = PQexecParams(db->conn, q_role, 0, NULL, NULL, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
            rc = classify(db, res, err) == GL_UNAVAILABLE ? GL_UNAVAILABLE : GL_ERR;
        else if (strcmp(PQgetvalue(res, 0, 0), "t") == 0) {
            gl_err_set(err, "refusing to serve as database role '%s': it bypasses row level security, or is "
                            "a member of a role that does (connect as glyphic_app; see db.url)",
                       PQgetvalue(res, 0, 1));
            PQclear(res);
            disconnect(db);
            return GL_UNSAFE;
        }
        PQclear(res);
    }
    if (rc != GL_OK) {
        disconnect(db);
        return rc == GL_UNAVAILABLE ? rc : GL_ERR;
    }
    if (db->schema_version > gl_migrate_latest()) {
        gl_err_set(err,
                   "database schema is at version %d but this binary knows only up to %d: "
                   "refusing to run against a newer schema; upgrade glyphic",
                   db->schema_version, gl_migrate_latest());
        disconnect(db);
        return GL_SCHEMA;
    }
    db->generation++;
    return GL_OK;
}

int gl_db_startup_check(const gl_db_opts_t *opts, const char *prog, const char *meanwhile)
{
    gl_err_t err;
    gl_err_clear(&err);
    gl_db_t *db = gl_db_new(opts);
    int rc = db ? gl_db_connect_now(db, &err) : GL_UNAVAILABLE;
    gl_db_free(db);
    if (rc == GL_SCHEMA || rc == GL_UNSAFE) {
        gl_log(GL_LOG_ERROR, "%s", err.msg);
        fprintf(stderr, "%s: %s\n", prog, err.msg);
        return rc;
    }
    if (rc != GL_OK)
        gl_log(GL_LOG_WARN, "database not reachable at start-up (%s): %s", meanwhile, err.msg);
    return GL_OK;
}

uint64_t gl_db_generation(const gl_db_t *db)
{
    return db->conn ? db->generation : 0;
}

void gl_db_counts(const gl_db_t *db, uint64_t *errors, uint64_t *reconnects)
{
    *errors = db->n_errors;
    *reconnects = db->generation > 1 ? db->generation - 1 : 0;
}

int gl_db_ensure(gl_db_t *db, gl_err_t *err)
{
    if (db->conn && PQstatus(db->conn) == CONNECTION_OK)
        return GL_OK;
    if (db->attempted && gl_now_ms() - db->last_attempt_ms < db->retry_interval_ms) {
        gl_err_set(err, "database unavailable (next connection attempt within %d ms)",
                   db->retry_interval_ms);
        return GL_UNAVAILABLE;
    }
    int rc = gl_db_connect_now(db, err);
    if (rc == GL_OK)
        gl_log(GL_LOG_INFO, "connected to the database (schema version %d)", db->schema_version);
    return rc;
}

/*
 * gl_db_ensure, and before the first statement outside a transaction a
 * check that the server has not closed the connection meanwhile: after a
 * restart every idle connection is dead, and a write sent on it would fail
 * (and could not be retried: it might have run). Found dead, the connection
 * is replaced at once, whatever db.retry_interval says.
 */
static int ensure_live(gl_db_t *db, gl_err_t *err)
{
    if (db->conn && db->tx_depth == 0 && PQtransactionStatus(db->conn) == PQTRANS_IDLE &&
        closed_by_server(db)) {
        gl_log(GL_LOG_WARN, "the database closed the connection while it was idle; reconnecting");
        disconnect(db);
        db->attempted = false;
    }
    return gl_db_ensure(db, err);
}

static bool is_prepared(const gl_db_t *db, const gl_stmt_t *stmt)
{
    for (int i = 0; i < db->n_prepared; i++)
        if (db->prepared[i] == stmt)
            return true;
    return false;
}

static int prepare(gl_db_t *db, const gl_stmt_t *stmt, gl_err_t *err)
{
    if (is_prepared(db, stmt))
        return GL_OK;
    if (db->n_prepared == GL_DB_MAX_PREPARED) {
        gl_err_set(err, "too many prepared statements");
        return GL_ERR;
    }
    db->n_round_trips++;
    PGresult *res = PQprepare(db->conn, stmt->name, stmt->sql, stmt->nparams, NULL);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        int rc = classify(db, res, err);
        PQclear(res);
        gl_log(GL_LOG_ERROR, "prepare %s failed: %s", stmt->name, err ? err->msg : "");
        return rc;
    }
    PQclear(res);
    db->prepared[db->n_prepared++] = stmt;
    return GL_OK;
}

static void clear_result(void *p)
{
    PQclear(p);
}

/* Checks res against the expected status and hands it out or clears it. */
static int finish(gl_db_t *db, PGresult *res, bool rows, gl_arena_t *arena, PGresult **out,
                  gl_err_t *err)
{
    ExecStatusType want = rows ? PGRES_TUPLES_OK : PGRES_COMMAND_OK;
    if (PQresultStatus(res) != want) {
        int rc = classify(db, res, err);
        if (PQresultStatus(res) == PGRES_TUPLES_OK || PQresultStatus(res) == PGRES_COMMAND_OK) {
            gl_err_set(err, "unexpected result status %s", PQresStatus(PQresultStatus(res)));
            rc = GL_ERR;
        }
        PQclear(res);
        return rc;
    }
    if (!out)
        PQclear(res);
    else {
        *out = res;
        if (arena)
            gl_arena_on_cleanup(arena, clear_result, res);
    }
    return GL_OK;
}

/* True when the statement may be tried again on a fresh connection. */
static bool lost_and_retryable(gl_db_t *db, bool readonly)
{
    return readonly && db->tx_depth == 0 && db->conn && PQstatus(db->conn) == CONNECTION_BAD;
}

int gl_db_query(gl_db_t *db, const gl_stmt_t *stmt, const char *const *params,
                gl_arena_t *arena, PGresult **res, gl_err_t *err)
{
    if (db->ahead.sealed)
        return take_ahead(db, stmt, params, arena, res, err);
    for (int attempt = 0;; attempt++) {
        int rc = ensure_live(db, err);
        if (rc != GL_OK)
            return rc;
        rc = prepare(db, stmt, err);
        if (rc == GL_OK) {
            db->n_round_trips++;
            PGresult *r = PQexecPrepared(db->conn, stmt->name, stmt->nparams, params, NULL, NULL, 0);
            rc = finish(db, r, stmt->rows, arena, res, err);
            if (rc == GL_OK)
                return GL_OK;
        }
        if (attempt == 0 && lost_and_retryable(db, stmt->readonly)) {
            gl_log(GL_LOG_WARN, "database connection lost; reconnecting");
            db->attempted = false; /* reconnect at once, not after the interval */
            continue;
        }
        if (db->conn && PQstatus(db->conn) == CONNECTION_BAD)
            disconnect(db);
        return rc;
    }
}

int gl_db_exec(gl_db_t *db, const char *sql, int nparams, const char *const *params,
               bool rows, gl_arena_t *arena, PGresult **res, gl_err_t *err)
{
    if (db->ahead.sealed)
        return take_ahead(db, NULL, NULL, NULL, NULL, err);
    int rc = ensure_live(db, err);
    if (rc != GL_OK)
        return rc;
    db->n_round_trips++;
    PGresult *r = PQexecParams(db->conn, sql, nparams, NULL, params, NULL, NULL, 0);
    rc = finish(db, r, rows, arena, res, err);
    if (rc != GL_OK && db->conn && PQstatus(db->conn) == CONNECTION_BAD)
        disconnect(db);
    return rc;
}

int gl_db_exec_script(gl_db_t *db, const char *sql, gl_err_t *err)
{
    int rc = ensure_live(db, err);
    if (rc != GL_OK)
        return rc;
    PGresult *r = PQexec(db->conn, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        PQclear(r);
        return GL_OK;
    }
    rc = classify(db, r, err);
    PQclear(r);
    return rc == GL_OK ? GL_ERR : rc;
}

int gl_db_begin(gl_db_t *db, gl_err_t *err)
{
    if (db->ahead.sealed)
        return take_ahead(db, NULL, NULL, NULL, NULL, err);
    for (int attempt = 0;; attempt++) {
        int rc = ensure_live(db, err);
        if (rc != GL_OK)
            return rc;
        db->n_round_trips++;
        PGresult *r = PQexecParams(db->conn, "BEGIN", 0, NULL, NULL, NULL, NULL, 0);
        rc = finish(db, r, false, NULL, NULL, err);
        if (rc == GL_OK) {
            db->tx_depth = 1;
            return GL_OK;
        }
        if (!db->conn || PQstatus(db->conn) != CONNECTION_BAD)
            return rc;
        disconnect(db);
        if (attempt > 0)
            return rc;
        /* BEGIN changes nothing: a connection that broke under it is
         * replaced and the transaction starts on the new one */
        gl_log(GL_LOG_WARN, "database connection lost; reconnecting");
        db->attempted = false;
    }
}

/* Reads the results of one pipelined query: its result, then the NULL
 * that ends it. Returns the result (NULL if the connection broke). */
static PGresult *pipeline_result(PGconn *conn)
{
    PGresult *r = PQgetResult(conn);
    if (r) {
        PGresult *end = PQgetResult(conn);
        PQclear(end); /* NULL after a query's result */
    }
    return r;
}

/* Reads a pipeline's n query results into rs (NULL from the first that
 * did not come), then its Sync. An error that comes before the Sync (an
 * implicit transaction's commit that failed) goes to *before_sync when it
 * is given. True when the Sync came and the connection is still good. */
static bool pipeline_read(PGconn *c, PGresult **rs, int n, PGresult **before_sync)
{
    for (int i = 0; i < n; i++)
        if (!(rs[i] = pipeline_result(c)))
            return false;
    for (int k = 0; k < 4 && PQstatus(c) != CONNECTION_BAD; k++) {
        PGresult *r = PQgetResult(c);
        if (r && PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            return PQstatus(c) != CONNECTION_BAD;
        }
        if (r && before_sync && !*before_sync) {
            *before_sync = r;
            continue;
        }
        PQclear(r);
    }
    return false;
}

/* A lost connection in the middle of a pipeline: nothing it sent is known
 * to have run. */
static int pipeline_lost(gl_db_t *db, PGresult **rs, int n, gl_err_t *err, bool *lost)
{
    for (int i = 0; i < n; i++)
        PQclear(rs[i]);
    db->n_errors++;
    gl_err_set(err, "database connection lost");
    *lost = true;
    return GL_UNAVAILABLE;
}

static void release_ahead(gl_db_t *db)
{
    PQclear(db->ahead.res);
    for (int i = 0; i < GL_DB_AHEAD_MAX_PARAMS; i++)
        free(db->ahead.params[i]);
    memset(&db->ahead, 0, sizeof db->ahead);
}

/* Keeps the statement run ahead and its outcome for gl_db_query to take. */
static void keep_ahead(gl_db_t *db, const gl_stmt_t *ahead, const char *const *params, PGresult *r)
{
    db->ahead.sealed = true;
    db->ahead.stmt = ahead;
    for (int i = 0; i < ahead->nparams; i++)
        db->ahead.params[i] = params[i] ? gl_xstrdup(params[i]) : NULL;
    gl_err_clear(&db->ahead.err);
    db->ahead.rc = finish(db, r, ahead->rows, NULL, &db->ahead.res, &db->ahead.err);
}

/* A statement's commit failed after its result was read (r is the
 * commit's error): what was read is not to be trusted, so *res goes (it
 * is cleared here unless the arena owns it). Returns the failure's code. */
static int commit_failed(gl_db_t *db, const PGresult *r, gl_arena_t *arena, PGresult **res, gl_err_t *err)
{
    int rc = classify(db, r, err);
    if (res && *res && !arena)
        PQclear(*res);
    if (res)
        *res = NULL;
    return rc == GL_OK ? GL_ERR : rc;
}

/* One attempt of gl_db_begin_query(_ahead); *lost is set when the
 * connection broke before anything was known to run. */
static int begin_query_once(gl_db_t *db, const gl_stmt_t *stmt, const char *const *params,
                            const gl_stmt_t *ahead, const char *const *ahead_params,
                            gl_arena_t *arena, PGresult **res, gl_err_t *err, bool *lost)
{
    *lost = false;
    int rc = ensure_live(db, err);
    if (rc == GL_OK) /* outside the pipeline: first use only */
        rc = prepare(db, stmt, err);
    if (rc == GL_OK && ahead)
        rc = prepare(db, ahead, err);
    if (rc != GL_OK) {
        *lost = db->conn && PQstatus(db->conn) == CONNECTION_BAD;
        return rc;
    }
    PGconn *c = db->conn;
    /* Alone, stmt opens the handler's transaction: BEGIN, stmt. With a
     * statement ahead the whole transaction is in the pipeline: stmt and
     * ahead with no BEGIN, so the Sync ends the implicit transaction they
     * share (committed if both ran, rolled back at the first failure,
     * which leaves nothing open). */
    int n = 2;
    PGresult *rs[2] = { NULL, NULL };
    db->n_round_trips++;
    if (PQenterPipelineMode(c) != 1 ||
        (!ahead && PQsendQueryParams(c, "BEGIN", 0, NULL, NULL, NULL, NULL, 0) != 1) ||
        PQsendQueryPrepared(c, stmt->name, stmt->nparams, params, NULL, NULL, 0) != 1 ||
        (ahead && PQsendQueryPrepared(c, ahead->name, ahead->nparams, ahead_params, NULL, NULL, 0) != 1) ||
        PQpipelineSync(c) != 1)
        return pipeline_lost(db, rs, n, err, lost);
    /* an implicit transaction that fails to commit answers with its error
     * before the Sync */
    PGresult *r_commit = NULL;
    if (!pipeline_read(c, rs, n, ahead ? &r_commit : NULL)) {
        PQclear(r_commit);
        return pipeline_lost(db, rs, n, err, lost);
    }
    PQexitPipelineMode(c);
    if (!ahead) {
        if (PQresultStatus(rs[0]) != PGRES_COMMAND_OK) {
            rc = classify(db, rs[0], err);
            PQclear(rs[0]);
            PQclear(rs[1]);
            gl_db_rollback(db);
            return rc == GL_OK ? GL_ERR : rc;
        }
        PQclear(rs[0]);
        db->tx_depth = 1;
        rc = finish(db, rs[1], stmt->rows, arena, res, err);
        if (rc != GL_OK)
            gl_db_rollback(db);
        return rc;
    }
    db->tx_depth = 1;
    rc = finish(db, rs[0], stmt->rows, arena, res, err);
    if (rc == GL_OK && r_commit)
        rc = commit_failed(db, r_commit, arena, res, err);
    PQclear(r_commit);
    gl_db_rollback(db); /* nothing is open after the Sync: only forgets the depth */
    if (rc == GL_OK)
        keep_ahead(db, ahead, ahead_params, rs[1]); /* its failure is the handler's to answer */
    else
        PQclear(rs[1]);
    return rc;
}

int gl_db_query_commit(gl_db_t *db, const gl_stmt_t *stmt, const char *const *params,
                       gl_arena_t *arena, PGresult **res, gl_err_t *err)
{
    if (db->ahead.sealed)
        return take_ahead(db, NULL, NULL, NULL, NULL, err);
    if (db->tx_depth != 1) {
        gl_err_set(err, "statement %s cannot commit: no transaction of the request is open", stmt->name);
        gl_log(GL_LOG_ERROR, "%s", err->msg);
        return GL_ERR;
    }
    int rc = ensure_live(db, err);
    if (rc == GL_OK) /* outside the pipeline: first use only */
        rc = prepare(db, stmt, err);
    if (rc != GL_OK)
        return rc;
    PGconn *c = db->conn;
    PGresult *rs[2] = { NULL, NULL };
    bool lost = false;
    db->n_round_trips++;
    if (PQenterPipelineMode(c) != 1 ||
        PQsendQueryPrepared(c, stmt->name, stmt->nparams, params, NULL, NULL, 0) != 1 ||
        PQsendQueryParams(c, "COMMIT", 0, NULL, NULL, NULL, NULL, 0) != 1 || PQpipelineSync(c) != 1)
        rc = pipeline_lost(db, rs, 2, err, &lost);
    bool synced = rc == GL_OK && pipeline_read(c, rs, 2, NULL);
    /* a connection that broke after the COMMIT answered leaves the outcome
     * known: only the connection is to be replaced */
    if (rc == GL_OK && !synced && (!rs[1] || PQresultStatus(rs[1]) != PGRES_COMMAND_OK))
        rc = pipeline_lost(db, rs, 2, err, &lost);
    if (rc != GL_OK) {
        /* the commit's outcome is unknown, as when COMMIT alone loses its
         * connection */
        disconnect(db);
        db->tx_depth = 0;
        return rc;
    }
    if (synced)
        PQexitPipelineMode(c);
    rc = finish(db, rs[0], stmt->rows, arena, res, err);
    if (rc == GL_OK && PQresultStatus(rs[1]) != PGRES_COMMAND_OK)
        rc = commit_failed(db, rs[1], arena, res, err); /* COMMIT itself failed: nothing was kept */
    PQclear(rs[1]);
    if (!synced)
        disconnect(db); /* committed; the next request connects anew */
    if (rc != GL_OK)
        return rc; /* the block in error waits for gl_db_rollback */
    db->tx_depth = 0;
    db->ahead.sealed = true; /* committed: nothing more may run in it */
    return GL_OK;
}

int gl_db_query_then(gl_db_t *db, const gl_stmt_t *stmt, const char *const *params, const gl_stmt_t *then,
                     const char *const *then_params, gl_arena_t *arena, PGresult **res, gl_err_t *err)
{
    if (db->ahead.sealed)
        return take_ahead(db, NULL, NULL, NULL, NULL, err);
    if (db->tx_depth != 0) {
        gl_err_set(err, "statement %s cannot commit alone: a transaction of the request is open", stmt->name);
        gl_log(GL_LOG_ERROR, "%s", err->msg);
        return GL_ERR;
    }
    int rc = ensure_live(db, err);
    if (rc == GL_OK) /* outside the pipeline: first use only */
        rc = prepare(db, stmt, err);
    if (rc == GL_OK)
        rc = prepare(db, then, err);
    if (rc != GL_OK) {
        if (db->conn && PQstatus(db->conn) == CONNECTION_BAD)
            disconnect(db);
        return rc;
    }
    PGconn *c = db->conn;
    PGresult *rs[2] = { NULL, NULL }, *r_commit = NULL;
    bool lost = false;
    db->n_round_trips++;
    if (PQenterPipelineMode(c) != 1 || PQsendQueryPrepared(c, stmt->name, stmt->nparams, params, NULL, NULL, 0) != 1 ||
        PQpipelineSync(c) != 1 ||
        PQsendQueryPrepared(c, then->name, then->nparams, then_params, NULL, NULL, 0) != 1 ||
        PQpipelineSync(c) != 1 || !pipeline_read(c, rs, 1, &r_commit)) {
        /* stmt's commit is not known to have happened, nor not to */
        PQclear(r_commit);
        rc = pipeline_lost(db, rs, 1, err, &lost);
        disconnect(db);
        return rc;
    }
    /* stmt's outcome is known: taken before then's is read, so a connection
     * lost meanwhile does not change it */
    rc = finish(db, rs[0], stmt->rows, arena, res, err);
    if (rc == GL_OK && r_commit)
        rc = commit_failed(db, r_commit, arena, res, err);
    PQclear(r_commit);
    /* then's only matters to the log */
    PGresult *then_commit = NULL;
    bool synced = pipeline_read(c, rs + 1, 1, &then_commit);
    if (!synced)
        gl_log(GL_LOG_WARN, "%s after %s: the database connection was lost", then->name, stmt->name);
    else if (PQresultStatus(rs[1]) != (then->rows ? PGRES_TUPLES_OK : PGRES_COMMAND_OK))
        gl_log(GL_LOG_WARN, "%s after %s failed: %s", then->name, stmt->name, PQresultErrorMessage(rs[1]));
    else if (then_commit)
        gl_log(GL_LOG_WARN, "%s after %s failed to commit: %s", then->name, stmt->name,
               PQresultErrorMessage(then_commit));
    PQclear(rs[1]);
    PQclear(then_commit);
    if (synced)
        PQexitPipelineMode(c);
    else
        disconnect(db);
    return rc;
}

/* A statement while the request's one round trip has ended its
 * transaction: the one run ahead (with the same parameters) gets its
 * outcome; any other is a handler that needs more than the route said. */
static int take_ahead(gl_db_t *db, const gl_stmt_t *stmt, const char *const *params, gl_arena_t *arena,
                      PGresult **res, gl_err_t *err)
{
    bool same = stmt && db->ahead.stmt == stmt;
    for (int i = 0; same && i < stmt->nparams; i++) {
        const char *a = db->ahead.params[i], *b = params ? params[i] : NULL;
        same = (!a && !b) || (a && b && strcmp(a, b) == 0);
    }
    if (!same) {
        gl_err_t e;
        gl_err_set(err ? err : &e, "statement %s after the request's transaction ended (its route runs one "
                   "statement ahead: %s)", stmt ? stmt->name : "(text)",
                   db->ahead.stmt ? db->ahead.stmt->name : "taken");
        gl_log(GL_LOG_ERROR, "%s", (err ? err : &e)->msg);
        return GL_ERR;
    }
    int rc = db->ahead.rc;
    if (rc != GL_OK) {
        if (err)
            *err = db->ahead.err;
    } else if (res) {
        *res = db->ahead.res;
        if (arena)
            gl_arena_on_cleanup(arena, clear_result, *res);
        db->ahead.res = NULL;
    }
    db->ahead.stmt = NULL; /* taken: a second time is another statement */
    return rc;
}

int gl_db_begin_query(gl_db_t *db, const gl_stmt_t *stmt, const char *const *params,
                      gl_arena_t *arena, PGresult **res, gl_err_t *err)
{
    return gl_db_begin_query_ahead(db, stmt, params, NULL, NULL, arena, res, err);
}

int gl_db_begin_query_ahead(gl_db_t *db, const gl_stmt_t *stmt, const char *const *params,
                            const gl_stmt_t *ahead, const char *const *ahead_params,
                            gl_arena_t *arena, PGresult **res, gl_err_t *err)
{
    if (db->ahead.sealed)
        return take_ahead(db, NULL, NULL, NULL, NULL, err);
    if (ahead && (!ahead->readonly || ahead->nparams > GL_DB_AHEAD_MAX_PARAMS)) {
        gl_err_set(err, "statement %s cannot run ahead (it is not read-only, or has too many parameters)",
                   ahead->name);
        gl_log(GL_LOG_ERROR, "%s", err->msg);
        return GL_ERR;
    }
    bool lost = false;
    int rc = begin_query_once(db, stmt, params, ahead, ahead_params, arena, res, err, &lost);
    if (rc != GL_OK && lost && db->tx_depth == 0) {
        /* the server restarted under us: a broken connection ran nothing
         * that survives, so reconnect and try once more */
        gl_log(GL_LOG_WARN, "database connection lost; reconnecting");
        disconnect(db);
        db->attempted = false;
        rc = begin_query_once(db, stmt, params, ahead, ahead_params, arena, res, err, &lost);
    }
    if (rc != GL_OK && lost)
        disconnect(db);
    return rc;
}

int gl_db_commit(gl_db_t *db, gl_err_t *err)
{
    if (db->ahead.sealed)
        return GL_OK; /* committed in the round trip */
    int rc = gl_db_exec(db, "COMMIT", 0, NULL, false, NULL, NULL, err);
    db->tx_depth = 0;
    return rc;
}

void gl_db_rollback(gl_db_t *db)
{
    db->tx_depth = 0;
    if (db->ahead.sealed || db->ahead.stmt)
        release_ahead(db);
    if (!db->conn || PQstatus(db->conn) != CONNECTION_OK ||
        PQtransactionStatus(db->conn) == PQTRANS_IDLE)
        return;
    db->n_round_trips++;
    PGresult *r = PQexec(db->conn, "ROLLBACK");
    PQclear(r);
}

uint64_t gl_db_round_trips(const gl_db_t *db)
{
    return db->n_round_trips;
}

int gl_db_tx(gl_db_t *db, gl_db_tx_fn fn, void *ctx, gl_err_t *err)
{
    int rc = GL_ERR;
    for (int attempt = 0; attempt < 3; attempt++) {
        rc = gl_db_begin(db, err);
        if (rc != GL_OK)
            return rc;
        rc = fn(db, ctx, err);
        if (rc == GL_OK)
            rc = gl_db_commit(db, err);
        else
            gl_db_rollback(db);
        if (rc != GL_RETRY)
            return rc;
        gl_log(GL_LOG_DEBUG, "transaction retry %d: %s", attempt + 1, err ? err->msg : "");
    }
    return rc;
}

bool gl_db_timed_out(const gl_err_t *err)
{
    return err && (strcmp(err->sqlstate, "57014") == 0 || strcmp(err->sqlstate, "55P03") == 0);
}

int gl_db_listen(gl_db_t *db, bool on, const char *channel, gl_err_t *err)
{
    PGconn *conn = gl_db_conn(db);
    if (!conn) {
        gl_err_set(err, "no database connection");
        return GL_UNAVAILABLE;
    }
    char *ident = PQescapeIdentifier(conn, channel, strlen(channel));
    if (!ident) {
        gl_err_set(err, "cannot quote the channel name");
        return GL_ERR;
    }
    char sql[160];
    snprintf(sql, sizeof sql, "%s %s", on ? "LISTEN" : "UNLISTEN", ident);
    PQfreemem(ident);
    return gl_db_exec(db, sql, 0, NULL, false, NULL, NULL, err);
}

/* Frees every notification libpq has queued; returns how many. */
static int drop_notifications(PGconn *conn)
{
    PGnotify *n;
    int count = 0;
    for (; (n = PQnotifies(conn)) != NULL; count++)
        PQfreemem(n);
    return count;
}

void gl_db_drain_notifications(gl_db_t *db)
{
    PGconn *conn = gl_db_conn(db);
    if (conn && PQconsumeInput(conn) != 0)
        (void)drop_notifications(conn);
}

int gl_db_wait_notification(gl_db_t *db, int timeout_ms, int wake_fd, gl_err_t *err)
{
    PGconn *conn = gl_db_conn(db);
    if (!conn || PQstatus(conn) != CONNECTION_OK) {
        gl_err_set(err, "no connection to wait on");
        return GL_UNAVAILABLE;
    }
    if (drop_notifications(conn) > 0) /* one came in with an earlier result */
        return GL_OK;
    struct pollfd pfd[2] = { { .fd = PQsocket(conn), .events = POLLIN }, { .fd = wake_fd, .events = POLLIN } };
    int rc = poll(pfd, wake_fd >= 0 ? 2 : 1, timeout_ms < 0 ? 0 : timeout_ms);
    if (rc <= 0 || !(pfd[0].revents & (POLLIN | POLLERR | POLLHUP))) /* the deadline, a signal, wake_fd */
        return GL_NOTFOUND;
    if (PQconsumeInput(conn) == 0) {
        gl_err_set(err, "%s", PQerrorMessage(conn));
        return GL_UNAVAILABLE;
    }
    return drop_notifications(conn) > 0 ? GL_OK : GL_NOTFOUND;
}
