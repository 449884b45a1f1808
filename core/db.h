/*
 * db.h: database access over libpq.
 *
 * Every statement is a static literal with $1..$n; values travel only as
 * parameters. Statements that run per request are gl_stmt_t rows, prepared
 * once per connection on first use. Each call checks the exact result status
 * it expects and classifies failures by SQLSTATE. A lost connection is
 * re-established on the next call (throttled by db.retry_interval); a
 * read-only statement that failed because the connection dropped is retried
 * once on the new connection, outside a transaction.
 *
 * A server restart kills every idle connection without the program
 * knowing. So before a statement outside a transaction (and before BEGIN)
 * the socket is checked with one poll(): if the server has closed it, the
 * connection is replaced at once and the statement goes to the new one --
 * the first write after a restart does not fail. BEGIN itself is sent once
 * more on a new connection if the old one broke under it (BEGIN changes
 * nothing). What the check reads from the socket is kept by libpq: a
 * LISTENing caller looks at PQnotifies before it polls the socket, as it
 * must after any statement anyway.
 */
#ifndef GL_DB_H
#define GL_DB_H

#include "arena.h"
#include "gl.h"

#include <libpq-fe.h>

typedef struct gl_db gl_db_t;

typedef struct {
    const char *name; /* prepared statement name, unique in the program */
    const char *sql;
    int nparams;
    bool rows;     /* returns rows (PGRES_TUPLES_OK) or not (PGRES_COMMAND_OK) */
    bool readonly; /* safe to retry on a new connection */
} gl_stmt_t;

typedef struct {
    const char *conninfo;      /* libpq connection string or URI */
    const char *appname;       /* application_name, e.g. "glyphic-fcgi" */
    int connect_timeout_s;
    int tcp_user_timeout_ms;   /* 0: the system's; else TCP gives up on a silent peer after this (keepalives too) */
    int statement_timeout_ms;  /* 0: none */
    int retry_interval_ms;     /* least time between connection attempts */
    bool require_rls;          /* refuse a role that bypasses row level security */
    bool trusted;              /* acts for every org (executor, CLI): on a single-role
                                * installation the database trusts the session by the
                                * setting glyphic.trusted, which this sets (see migrate.h) */
} gl_db_opts_t;

/* A handle; it connects on first use. Freed with gl_db_free(). The strings in
 * opts are copied. */
gl_db_t *gl_db_new(const gl_db_opts_t *opts);
/* Cancels a running statement, closes the connection, frees the handle. */
void gl_db_free(gl_db_t *db);

/*
 * Connects if not connected: GL_OK; GL_UNAVAILABLE if the server cannot be
 * reached (or the last attempt was less than retry_interval ago);
 * GL_SCHEMA if the database's schema is newer than this binary knows;
 * GL_UNSAFE if require_rls is set and the role is a superuser, has
 * BYPASSRLS, or is one of the roles the policies trust.
 */
int gl_db_ensure(gl_db_t *db, gl_err_t *err) GL_WUR;
/* The integer in a result field PostgreSQL rendered from an integer
 * column (0 for NULL or anything unparsable). */
int64_t gl_db_int(const PGresult *res, int row, int col);

/* Connects now regardless of the retry interval (start-up checks). */
int gl_db_connect_now(gl_db_t *db, gl_err_t *err) GL_WUR;

/* A program's start-up check: one connection with opts. A schema newer
 * than this binary, or a role that bypasses row level security where
 * opts->require_rls, is fatal (logged and printed as "prog: …"; that code
 * is returned). A database that is down is not: it is logged as a warning
 * with meanwhile saying what the program does until it is back, and GL_OK
 * is returned. */
int gl_db_startup_check(const gl_db_opts_t *opts, const char *prog, const char *meanwhile) GL_WUR;

/* Schema version read when the connection was made (0: not migrated). */
int gl_db_schema_version(const gl_db_t *db);
/* Which connection this is: a number that changes with every new
 * connection (0: none). Session state — LISTEN, an advisory lock — lives
 * only as long as one generation. */
uint64_t gl_db_generation(const gl_db_t *db);
/* For metrics: *errors, the statements that failed and the connection
 * attempts that did not connect; *reconnects, the connections made after
 * the first. Both only grow over the handle's life. */
void gl_db_counts(const gl_db_t *db, uint64_t *errors, uint64_t *reconnects);
/* The underlying connection (NULL when disconnected), for LISTEN and COPY. */
PGconn *gl_db_conn(gl_db_t *db);

/*
 * Runs a prepared statement. params holds stmt->nparams strings (NULL for SQL
 * NULL). On GL_OK *res is the result; if arena is given it is cleared when
 * the arena is reset, else the caller calls PQclear(). On failure no result
 * is returned and err holds the message and SQLSTATE.
 * Errors: GL_UNAVAILABLE (no connection; or the statement ran past
 * statement_timeout or lock_timeout: gl_db_timed_out tells), GL_CONFLICT
 * (unique violation), GL_INVALID (data or constraint error), GL_RETRY
 * (serialization failure or deadlock), GL_ERR (anything else).
 */
int gl_db_query(gl_db_t *db, const gl_stmt_t *stmt, const char *const *params,
                gl_arena_t *arena, PGresult **res, gl_err_t *err) GL_WUR;

/* Runs a static statement unprepared (start-up and admin work). Same
 * contract as gl_db_query; res may be NULL when no result is wanted. */
int gl_db_exec(gl_db_t *db, const char *sql, int nparams, const char *const *params,
               bool rows, gl_arena_t *arena, PGresult **res, gl_err_t *err) GL_WUR;

/* Runs a multi-statement script compiled into the binary (migrations only:
 * it takes no parameters). */
int gl_db_exec_script(gl_db_t *db, const char *sql, gl_err_t *err) GL_WUR;

/* Starts a transaction (on a new connection if the idle one turned out to
 * be dead). */
int gl_db_begin(gl_db_t *db, gl_err_t *err) GL_WUR;

/* BEGIN and a prepared statement in one round trip (libpq pipeline mode):
 * the request's first statement rides with its transaction's start. Same
 * contract as gl_db_query; on failure no transaction is left open. */
int gl_db_begin_query(gl_db_t *db, const gl_stmt_t *stmt, const char *const *params,
                      gl_arena_t *arena, PGresult **res, gl_err_t *err) GL_WUR;

#define GL_DB_AHEAD_MAX_PARAMS 8
/*
 * A whole read-only request in one round trip: BEGIN, stmt (authentication,
 * which sets the row level security context), then `ahead` — the one
 * statement the request needs, read-only (ahead->readonly) — then COMMIT,
 * pipelined. stmt's outcome comes back as from gl_db_begin_query (on
 * failure nothing is kept). ahead's outcome, success or failure, is kept:
 * the next gl_db_query of the same statement with the same parameters gets
 * it. The transaction has ended then, so until gl_db_rollback ends the
 * request every other statement fails with GL_ERR (and is logged): a
 * handler that needs a second statement shows in its tests instead of
 * running outside the transaction its context lives in. gl_db_commit is a
 * no-op meanwhile. If stmt finds nobody, ahead ran with no context: row
 * level security showed it nothing, and gl_db_rollback drops it.
 */
int gl_db_begin_query_ahead(gl_db_t *db, const gl_stmt_t *stmt, const char *const *params,
                            const gl_stmt_t *ahead, const char *const *ahead_params,
                            gl_arena_t *arena, PGresult **res, gl_err_t *err) GL_WUR;
/*
 * The request's last statement and COMMIT in one round trip (libpq
 * pipeline mode). Same contract as gl_db_query; on success the transaction
 * is committed, gl_db_commit is a no-op and, as after
 * gl_db_begin_query_ahead, every later statement fails with GL_ERR until
 * gl_db_rollback ends the request. On failure (of the statement or of the
 * COMMIT) nothing was kept and the transaction waits for gl_db_rollback.
 * A lost connection leaves the outcome unknown, as for gl_db_commit.
 */
int gl_db_query_commit(gl_db_t *db, const gl_stmt_t *stmt, const char *const *params,
                       gl_arena_t *arena, PGresult **res, gl_err_t *err) GL_WUR;
/*
 * stmt on its own, outside any transaction (it commits alone), then `then`
 * in a transaction of its own that starts after stmt's commit: one round
 * trip (libpq pipeline mode, a Sync after each). For work that must follow
 * a commit and may be lost, such as a doorbell (NOTIFY) that would hold
 * PostgreSQL's notification lock through stmt's commit flush. stmt's
 * outcome as from gl_db_query (a lost connection is not retried); `then`
 * runs whatever stmt's outcome, and its failure is only logged.
 */
int gl_db_query_then(gl_db_t *db, const gl_stmt_t *stmt, const char *const *params, const gl_stmt_t *then,
                     const char *const *then_params, gl_arena_t *arena, PGresult **res, gl_err_t *err) GL_WUR;
/* Round trips to the server so far: statements sent and waited for (a
 * pipeline counts once; connecting does not count). Only grows. */
uint64_t gl_db_round_trips(const gl_db_t *db);
int gl_db_commit(gl_db_t *db, gl_err_t *err) GL_WUR;
/* Rolls back if a transaction is open; never fails (a lost connection has
 * rolled back already). */
void gl_db_rollback(gl_db_t *db);

/* Runs fn inside BEGIN … COMMIT, rolling back if fn or COMMIT fails, and
 * running it again (at most 3 times) on serialization failure or deadlock. */
typedef int (*gl_db_tx_fn)(gl_db_t *db, void *ctx, gl_err_t *err);
int gl_db_tx(gl_db_t *db, gl_db_tx_fn fn, void *ctx, gl_err_t *err) GL_WUR;

/* True when the failure err describes was a statement cancelled by
 * statement_timeout (or a cancel request) or a lock wait cut by
 * lock_timeout: the transaction rolled back, and trying again later may
 * pass. Such failures come back as GL_UNAVAILABLE. */
bool gl_db_timed_out(const gl_err_t *err);

/* LISTEN (on) or UNLISTEN on a channel, quoted as an identifier (names
 * up to 63 bytes). Notifications stay queued in libpq after an UNLISTEN:
 * drop them with gl_db_drain_notifications before the connection serves
 * another listener. */
int gl_db_listen(gl_db_t *db, bool on, const char *channel, gl_err_t *err) GL_WUR;
void gl_db_drain_notifications(gl_db_t *db);

/*
 * Waits up to timeout_ms for a notification on a connection that LISTENs,
 * and drops what arrived (they are doorbells: their payloads are not
 * kept). GL_OK: one or more came; GL_NOTFOUND: the deadline passed, or a
 * signal cut the wait short, or wake_fd (unless -1) became readable;
 * GL_UNAVAILABLE: the connection is lost (the caller reconnects and LISTENs
 * again), with libpq's message in err.
 */
int gl_db_wait_notification(gl_db_t *db, int timeout_ms, int wake_fd, gl_err_t *err) GL_WUR;

#endif
