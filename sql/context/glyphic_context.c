/*
 * glyphic_context.c: the request context in the backend's memory, a
 * PostgreSQL module (sql/035_context_schema.sql says what it replaces).
 *
 * Row level security asks "who is the user, which org, which orgs" many
 * times per statement (current_org_id() and the other readers of
 * glyphic_ctx). Kept in a temporary table, each answer was a plpgsql call
 * with a scan of that table (about 10 µs) and each authentication an
 * UPDATE that gave the request a transaction id and a commit record. Here
 * the context is a few bytes of this backend's memory:
 *
 *   glyphic_ctx.write(user, org, org_ids, editor_org_ids, admin_org_ids)
 *       sets it; only the owner's SECURITY DEFINER functions may call it
 *       (EXECUTE is the owner's alone), after they verified the identity
 *   glyphic_ctx.user_id(), org_id(), org_ids(), editor_org_ids(),
 *   admin_org_ids()
 *       read it: NULL, or an empty array, when nothing set it
 *
 * It lasts as the table's row did: until the end of the transaction that
 * wrote it (commit, abort or PREPARE clears it), and a write made inside a
 * subtransaction that rolls back is undone, as the UPDATE was. No other
 * backend, and no later transaction, ever sees it.
 *
 *   glyphic_ctx.auth_session(token_hash, wanted_org, idle_seconds) and
 *   glyphic_ctx.auth_api_key(key_hash)
 *       verify a token and write the context (below, and sql/036)
 *
 * `glyphic migrate` installs these functions when its role is a superuser
 * (C functions need one) and the server can load this file; otherwise the
 * plpgsql versions of sql/035 and sql/036 stay. Built without sanitizers: it runs
 * inside the PostgreSQL server, which is not built with them.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

PG_MODULE_MAGIC;

enum { ORG_IDS, EDITOR_ORG_IDS, ADMIN_ORG_IDS, N_LISTS };

typedef struct {
    bool has_user, has_org;
    pg_uuid_t user, org;
    ArrayType *lists[N_LISTS]; /* in ctx_mcx; NULL: none given */
} ctx_t;

/* What a write inside a subtransaction replaced, to put back if that
 * subtransaction rolls back: one per subtransaction, the state before its
 * first write (later writes in it need no other), so a loop of writes in
 * one savepoint keeps one entry. Newest first. */
typedef struct undo {
    SubTransactionId subid;
    bool was_set;
    ctx_t was;
    struct undo *next;
} undo_t;

static MemoryContext ctx_mcx;
static bool is_set;
static ctx_t cur;
static undo_t *undo_top;

static void ctx_free(ctx_t *c)
{
    for (int i = 0; i < N_LISTS; i++)
        if (c->lists[i])
            pfree(c->lists[i]);
    memset(c, 0, sizeof *c);
}

/* At the end of a transaction: everything goes, and the memory with it
 * (what a write that failed halfway had copied included). */
static void clear_all(void)
{
    undo_top = NULL;
    memset(&cur, 0, sizeof cur);
    is_set = false;
    MemoryContextReset(ctx_mcx);
}

static void on_xact(XactEvent event, void *arg)
{
    (void)arg;
    switch (event) {
    case XACT_EVENT_COMMIT:
    case XACT_EVENT_PARALLEL_COMMIT:
    case XACT_EVENT_ABORT:
    case XACT_EVENT_PARALLEL_ABORT:
    case XACT_EVENT_PREPARE:
        /* also when a write failed before it set anything (its copies
         * are in ctx_mcx already) */
        if (is_set || undo_top || !ctx_mcx->isReset)
            clear_all();
        break;
    default:
        break;
    }
}

static void on_subxact(SubXactEvent event, SubTransactionId mine, SubTransactionId parent, void *arg)
{
    (void)arg;
    if (event == SUBXACT_EVENT_ABORT_SUB) {
        /* newest first: the last one put back is what was there before
         * the subtransaction's first write */
        while (undo_top && undo_top->subid == mine) {
            undo_t *u = undo_top;
            undo_top = u->next;
            ctx_free(&cur);
            cur = u->was;
            is_set = u->was_set;
            pfree(u);
        }
    } else if (event == SUBXACT_EVENT_COMMIT_SUB) {
        /* its writes now belong to the parent: undone if that rolls back */
        for (undo_t *u = undo_top; u && u->subid == mine; u = u->next)
            u->subid = parent;
    }
}

void _PG_init(void);

void _PG_init(void)
{
    static bool done;
    if (done)
        return;
    done = true;
    ctx_mcx = AllocSetContextCreate(TopMemoryContext, "glyphic request context", ALLOCSET_SMALL_SIZES);
    RegisterXactCallback(on_xact, NULL);
    RegisterSubXactCallback(on_subxact, NULL);
}

/* Makes next (its lists in ctx_mcx) the context, keeping what it replaces
 * for a subtransaction that may roll back. */
static void ctx_set(const ctx_t *next)
{
    MemoryContext old = MemoryContextSwitchTo(ctx_mcx);
    if (GetCurrentTransactionNestLevel() > 1 && !(undo_top && undo_top->subid == GetCurrentSubTransactionId())) {
        undo_t *u = palloc0(sizeof *u);
        u->subid = GetCurrentSubTransactionId();
        u->was_set = is_set;
        u->was = cur;
        u->next = undo_top;
        undo_top = u;
    } else
        ctx_free(&cur);
    cur = *next;
    is_set = true;
    MemoryContextSwitchTo(old);
}

PG_FUNCTION_INFO_V1(glyphic_ctx_write);

Datum glyphic_ctx_write(PG_FUNCTION_ARGS)
{
    ctx_t next;
    memset(&next, 0, sizeof next);
    next.has_user = !PG_ARGISNULL(0);
    if (next.has_user)
        next.user = *PG_GETARG_UUID_P(0);
    next.has_org = !PG_ARGISNULL(1);
    if (next.has_org)
        next.org = *PG_GETARG_UUID_P(1);
    MemoryContext old = MemoryContextSwitchTo(ctx_mcx);
    for (int i = 0; i < N_LISTS; i++)
        next.lists[i] = PG_ARGISNULL(2 + i) ? NULL : PG_GETARG_ARRAYTYPE_P_COPY(2 + i);
    MemoryContextSwitchTo(old);
    ctx_set(&next);
    PG_RETURN_VOID();
}

static Datum uuid_datum(const pg_uuid_t *u)
{
    pg_uuid_t *r = palloc(sizeof *r);
    *r = *u;
    return UUIDPGetDatum(r);
}

PG_FUNCTION_INFO_V1(glyphic_ctx_user_id);

Datum glyphic_ctx_user_id(PG_FUNCTION_ARGS)
{
    (void)fcinfo;
    if (!is_set || !cur.has_user)
        PG_RETURN_NULL();
    return uuid_datum(&cur.user);
}

PG_FUNCTION_INFO_V1(glyphic_ctx_org_id);

Datum glyphic_ctx_org_id(PG_FUNCTION_ARGS)
{
    (void)fcinfo;
    if (!is_set || !cur.has_org)
        PG_RETURN_NULL();
    return uuid_datum(&cur.org);
}

/* A copy of one list in the caller's memory; '{}' when there is none. */
static Datum list_datum(int i)
{
    if (!is_set || !cur.lists[i])
        return PointerGetDatum(construct_empty_array(UUIDOID));
    ArrayType *a = palloc(VARSIZE(cur.lists[i]));
    memcpy(a, cur.lists[i], VARSIZE(cur.lists[i]));
    return PointerGetDatum(a);
}

PG_FUNCTION_INFO_V1(glyphic_ctx_org_ids);

Datum glyphic_ctx_org_ids(PG_FUNCTION_ARGS)
{
    (void)fcinfo;
    return list_datum(ORG_IDS);
}

PG_FUNCTION_INFO_V1(glyphic_ctx_editor_org_ids);

Datum glyphic_ctx_editor_org_ids(PG_FUNCTION_ARGS)
{
    (void)fcinfo;
    return list_datum(EDITOR_ORG_IDS);
}

PG_FUNCTION_INFO_V1(glyphic_ctx_admin_org_ids);

Datum glyphic_ctx_admin_org_ids(PG_FUNCTION_ARGS)
{
    (void)fcinfo;
    return list_datum(ADMIN_ORG_IDS);
}

/*
 * Authentication: glyphic_ctx.auth_session and glyphic_ctx.auth_api_key,
 * what sql/036_context_auth.sql's plpgsql versions do (and 002's before
 * them), without an executor. Each verifies a token's hash by one index
 * lookup, reads the user's memberships by another, and writes the context
 * above directly: the plpgsql versions ran three planned statements, two
 * SECURITY DEFINER calls and a context write per request, which was most
 * of what an authenticated read cost the database (about 100 us of its
 * 260 us per GET /api/me).
 *
 * The lookups read the tables as the function's owner reads them, under
 * the statement's snapshot, and keep their locks (ACCESS SHARE) to the end
 * of the transaction, as the plpgsql's statements did; what they write (an
 * expired or idle session deleted, last_seen_at or last_used_at moved at
 * most once a minute) still goes through SQL, with SPI. Every name is the
 * schema glyphic's, found each call (a syscache lookup): a table or index
 * that is missing, or a column of another type, is an error, never a
 * misread.
 */

static Oid glyphic_nsp(void)
{
    return get_namespace_oid("glyphic", false);
}

static Oid rel_oid(Oid nsp, const char *name)
{
    Oid r = get_relname_relid(name, nsp);
    if (!OidIsValid(r))
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("glyphic.%s is missing", name)));
    return r;
}

/* A column's number, checked to be of the type the code reads. */
static AttrNumber column(Relation rel, const char *name, Oid type)
{
    TupleDesc d = RelationGetDescr(rel);
    for (int i = 0; i < d->natts; i++) {
        Form_pg_attribute a = TupleDescAttr(d, i);
        if (!a->attisdropped && strcmp(NameStr(a->attname), name) == 0) {
            if (a->atttypid != type)
                ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                                errmsg("%s.%s is not of the type glyphic_context.so reads", RelationGetRelationName(rel),
                                       name)));
            return a->attnum;
        }
    }
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                    errmsg("%s.%s is missing", RelationGetRelationName(rel), name)));
    return InvalidAttrNumber;
}

/* The rows of rel whose column attno equals v (eq: its equality function),
 * through the index named index, under the statement's snapshot. key must
 * last as long as the scan. */
static SysScanDesc scan_equal(Relation rel, Oid nsp, const char *index, AttrNumber attno, RegProcedure eq, Datum v,
                              ScanKeyData *key)
{
    ScanKeyInit(key, attno, BTEqualStrategyNumber, eq, v);
    return systable_beginscan(rel, rel_oid(nsp, index), true,
                              ActiveSnapshotSet() ? GetActiveSnapshot() : GetTransactionSnapshot(), 1, key);
}

static bool get_uuid(HeapTuple t, Relation rel, AttrNumber attno, pg_uuid_t *out)
{
    bool isnull;
    Datum d = heap_getattr(t, attno, RelationGetDescr(rel), &isnull);
    if (!isnull)
        *out = *DatumGetUUIDP(d);
    return !isnull;
}

static bool get_time(HeapTuple t, Relation rel, AttrNumber attno, TimestampTz *out)
{
    bool isnull;
    Datum d = heap_getattr(t, attno, RelationGetDescr(rel), &isnull);
    if (!isnull)
        *out = DatumGetTimestampTz(d);
    return !isnull;
}

static bool uuid_same(const pg_uuid_t *a, const pg_uuid_t *b)
{
    return memcmp(a->data, b->data, UUID_LEN) == 0;
}

/* Runs sql (one statement, $1 a uuid) as the function's owner. */
static void run_by_id(const char *sql, const pg_uuid_t *id)
{
    Oid type = UUIDOID;
    pg_uuid_t copy = *id;
    Datum v = UUIDPGetDatum(&copy);
    if (SPI_connect() != SPI_OK_CONNECT)
        elog(ERROR, "glyphic_context: SPI_connect failed");
    int rc = SPI_execute_with_args(sql, 1, &type, &v, NULL, false, 0);
    if (rc < 0)
        elog(ERROR, "glyphic_context: %s: %s", sql, SPI_result_code_string(rc));
    SPI_finish();
}

/* One list of org ids for the context, in ctx_mcx (NULL: none). */
static ArrayType *uuid_list(const pg_uuid_t *ids, int n)
{
    if (n == 0)
        return NULL;
    MemoryContext old = MemoryContextSwitchTo(ctx_mcx);
    Datum *d = palloc(sizeof *d * n);
    for (int i = 0; i < n; i++)
        d[i] = UUIDPGetDatum(&ids[i]);
    ArrayType *a = construct_array(d, n, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR);
    pfree(d);
    MemoryContextSwitchTo(old);
    return a;
}

/*
 * 008's glyphic.enter(): the context of user, in the org wanted (NULL: the
 * user's active org, else the oldest membership), with the lists of the
 * user's orgs; only: the lists hold the org wanted alone (an API key's).
 * *role: the user's role in the org entered, NULL when there is none.
 */
static void enter(Oid nsp, const pg_uuid_t *user, const pg_uuid_t *wanted, bool only, char **role)
{
    ScanKeyData key;
    HeapTuple t;
    *role = NULL;

    Relation users = table_open(rel_oid(nsp, "users"), AccessShareLock);
    SysScanDesc s = scan_equal(users, nsp, "users_pkey", column(users, "id", UUIDOID), F_UUID_EQ,
                               UUIDPGetDatum(user), &key);
    bool found = HeapTupleIsValid(t = systable_getnext(s)), has_active = false;
    pg_uuid_t active;
    if (found)
        has_active = get_uuid(t, users, column(users, "active_org_id", UUIDOID), &active);
    systable_endscan(s);
    table_close(users, NoLock);

    int n = 0, cap = 8, counts[N_LISTS] = { 0 };
    pg_uuid_t *lists[N_LISTS];
    for (int i = 0; i < N_LISTS; i++)
        lists[i] = palloc(sizeof(pg_uuid_t) * cap);
    bool chosen = false;
    pg_uuid_t org;
    int best_rank = 0;
    TimestampTz best_at = 0;
    if (found) {
        Relation m = table_open(rel_oid(nsp, "memberships"), AccessShareLock);
        AttrNumber m_org = column(m, "org_id", UUIDOID), m_role = column(m, "role", TEXTOID),
                   m_at = column(m, "created_at", TIMESTAMPTZOID);
        s = scan_equal(m, nsp, "memberships_user", column(m, "user_id", UUIDOID), F_UUID_EQ, UUIDPGetDatum(user),
                       &key);
        while (HeapTupleIsValid(t = systable_getnext(s))) {
            pg_uuid_t o;
            TimestampTz at = 0;
            bool isnull;
            if (!get_uuid(t, m, m_org, &o))
                continue;
            if (only && (!wanted || !uuid_same(&o, wanted)))
                continue;
            Datum rd = heap_getattr(t, m_role, RelationGetDescr(m), &isnull);
            char *r = isnull ? NULL : TextDatumGetCString(rd);
            get_time(t, m, m_at, &at);
            if (n == cap) {
                cap *= 2;
                for (int i = 0; i < N_LISTS; i++)
                    lists[i] = repalloc(lists[i], sizeof(pg_uuid_t) * cap);
            }
            n++;
            lists[ORG_IDS][counts[ORG_IDS]++] = o;
            bool admin = r && (strcmp(r, "owner") == 0 || strcmp(r, "admin") == 0);
            if (admin || (r && strcmp(r, "editor") == 0))
                lists[EDITOR_ORG_IDS][counts[EDITOR_ORG_IDS]++] = o;
            if (admin)
                lists[ADMIN_ORG_IDS][counts[ADMIN_ORG_IDS]++] = o;
            if (wanted && !uuid_same(&o, wanted))
                continue;
            /* ORDER BY (org_id = active_org_id) DESC NULLS LAST, created_at */
            int rank = !has_active ? 2 : uuid_same(&o, &active) ? 0 : 1;
            if (!chosen || rank < best_rank || (rank == best_rank && at < best_at)) {
                chosen = true;
                org = o;
                best_rank = rank;
                best_at = at;
                *role = r;
            }
        }
        systable_endscan(s);
        table_close(m, NoLock);
    }

    ctx_t next;
    memset(&next, 0, sizeof next);
    next.has_user = true;
    next.user = *user;
    next.has_org = chosen;
    if (chosen)
        next.org = org;
    for (int i = 0; i < N_LISTS; i++)
        next.lists[i] = uuid_list(lists[i], counts[i]);
    ctx_set(&next);
}

/* The one row a function of RETURNS TABLE gives, formed from values. */
static Datum result_row(FunctionCallInfo fcinfo, Datum *values, bool *nulls)
{
    TupleDesc desc;
    if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
        elog(ERROR, "glyphic_context: a function returning a row was called in a context that takes none");
    return HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls));
}

/* glyphic_ctx.auth_session(p_token_hash bytea, p_wanted_org uuid,
 * p_idle_seconds integer) RETURNS TABLE (session_id uuid, user_id uuid,
 * org_id uuid, role text): 002's glyphic.auth_session. */
static bool auth_session(FunctionCallInfo fcinfo, Datum *row)
{
    if (PG_ARGISNULL(0))
        return false;
    Oid nsp = glyphic_nsp();
    ScanKeyData key;
    Relation rel = table_open(rel_oid(nsp, "sessions"), AccessShareLock);
    AttrNumber a_id = column(rel, "id", UUIDOID), a_user = column(rel, "user_id", UUIDOID),
               a_expires = column(rel, "expires_at", TIMESTAMPTZOID),
               a_seen = column(rel, "last_seen_at", TIMESTAMPTZOID);
    SysScanDesc s = scan_equal(rel, nsp, "sessions_token_hash_key", column(rel, "token_hash", BYTEAOID), F_BYTEAEQ,
                               PG_GETARG_DATUM(0), &key);
    HeapTuple t = systable_getnext(s);
    bool found = HeapTupleIsValid(t);
    pg_uuid_t id, user;
    TimestampTz expires = 0, seen = 0;
    bool complete = found && get_uuid(t, rel, a_id, &id) && get_uuid(t, rel, a_user, &user) &&
                    get_time(t, rel, a_expires, &expires) && get_time(t, rel, a_seen, &seen);
    systable_endscan(s);
    table_close(rel, NoLock);
    if (!complete)
        return false; /* no such session (its columns are NOT NULL) */

    TimestampTz now = GetCurrentTransactionStartTimestamp();
    bool idle = !PG_ARGISNULL(2) && seen <= now - (TimestampTz)PG_GETARG_INT32(2) * USECS_PER_SEC;
    if (expires <= now || idle) {
        run_by_id("DELETE FROM glyphic.sessions x WHERE x.id OPERATOR(pg_catalog.=) $1", &id);
        return false;
    }
    if (seen < now - 60 * USECS_PER_SEC)
        run_by_id("UPDATE glyphic.sessions x SET last_seen_at = pg_catalog.now() "
                  "WHERE x.id OPERATOR(pg_catalog.=) $1",
                  &id);

    pg_uuid_t wanted;
    if (!PG_ARGISNULL(1))
        wanted = *PG_GETARG_UUID_P(1);
    char *role;
    enter(nsp, &user, PG_ARGISNULL(1) ? NULL : &wanted, false, &role);

    Datum values[4];
    bool nulls[4] = { false, false, !cur.has_org, role == NULL };
    values[0] = uuid_datum(&id);
    values[1] = uuid_datum(&user);
    values[2] = cur.has_org ? uuid_datum(&cur.org) : (Datum)0;
    values[3] = role ? CStringGetTextDatum(role) : (Datum)0;
    *row = result_row(fcinfo, values, nulls);
    return true;
}

/* glyphic_ctx.auth_api_key(p_key_hash bytea) RETURNS TABLE (key_id uuid,
 * user_id uuid, org_id uuid, role text, scopes text[]): 002's
 * glyphic.auth_api_key. */
static bool auth_api_key(FunctionCallInfo fcinfo, Datum *row)
{
    if (PG_ARGISNULL(0))
        return false;
    Oid nsp = glyphic_nsp();
    ScanKeyData key;
    Relation rel = table_open(rel_oid(nsp, "api_keys"), AccessShareLock);
    AttrNumber a_id = column(rel, "id", UUIDOID), a_org = column(rel, "org_id", UUIDOID),
               a_user = column(rel, "user_id", UUIDOID), a_scopes = column(rel, "scopes", TEXTARRAYOID),
               a_expires = column(rel, "expires_at", TIMESTAMPTZOID),
               a_used = column(rel, "last_used_at", TIMESTAMPTZOID),
               a_revoked = column(rel, "revoked_at", TIMESTAMPTZOID);
    SysScanDesc s = scan_equal(rel, nsp, "api_keys_key_hash_key", column(rel, "key_hash", BYTEAOID), F_BYTEAEQ,
                               PG_GETARG_DATUM(0), &key);
    HeapTuple t = systable_getnext(s);
    pg_uuid_t id, org, user;
    TimestampTz expires = 0, used = 0, revoked = 0;
    bool has_expiry = false, was_used = false, is_revoked = false, scopes_null = true;
    Datum scopes = (Datum)0;
    bool complete = HeapTupleIsValid(t) && get_uuid(t, rel, a_id, &id) && get_uuid(t, rel, a_org, &org) &&
                    get_uuid(t, rel, a_user, &user);
    if (complete) {
        has_expiry = get_time(t, rel, a_expires, &expires);
        was_used = get_time(t, rel, a_used, &used);
        is_revoked = get_time(t, rel, a_revoked, &revoked);
        Datum d = heap_getattr(t, a_scopes, RelationGetDescr(rel), &scopes_null);
        if (!scopes_null)
            scopes = PointerGetDatum(PG_DETOAST_DATUM_COPY(d));
    }
    systable_endscan(s);
    table_close(rel, NoLock);

    TimestampTz now = GetCurrentTransactionStartTimestamp();
    if (!complete || is_revoked || (has_expiry && expires <= now))
        return false;
    char *role;
    enter(nsp, &user, &org, true, &role);
    if (!role) {
        /* the key's maker left the org: the key is dead (and the context
         * is nobody's, as set_context(NULL, NULL) left it) */
        ctx_t none;
        memset(&none, 0, sizeof none);
        ctx_set(&none);
        return false;
    }
    if (!was_used || used < now - 60 * USECS_PER_SEC)
        run_by_id("UPDATE glyphic.api_keys x SET last_used_at = pg_catalog.now() "
                  "WHERE x.id OPERATOR(pg_catalog.=) $1",
                  &id);

    Datum values[5];
    bool nulls[5] = { false, false, false, false, scopes_null };
    values[0] = uuid_datum(&id);
    values[1] = uuid_datum(&user);
    values[2] = uuid_datum(&org);
    values[3] = CStringGetTextDatum(role);
    values[4] = scopes;
    *row = result_row(fcinfo, values, nulls);
    return true;
}

/* Both return one row or none: the first call does the work. */
static Datum one_row(FunctionCallInfo fcinfo, bool (*work)(FunctionCallInfo, Datum *))
{
    FuncCallContext *f;
    if (SRF_IS_FIRSTCALL()) {
        SRF_FIRSTCALL_INIT();
        Datum row;
        bool found = work(fcinfo, &row);
        f = SRF_PERCALL_SETUP();
        if (found)
            SRF_RETURN_NEXT(f, row);
        SRF_RETURN_DONE(f);
    }
    f = SRF_PERCALL_SETUP();
    SRF_RETURN_DONE(f);
}

PG_FUNCTION_INFO_V1(glyphic_ctx_auth_session);

Datum glyphic_ctx_auth_session(PG_FUNCTION_ARGS)
{
    return one_row(fcinfo, auth_session);
}

PG_FUNCTION_INFO_V1(glyphic_ctx_auth_api_key);

Datum glyphic_ctx_auth_api_key(PG_FUNCTION_ARGS)
{
    return one_row(fcinfo, auth_api_key);
}
