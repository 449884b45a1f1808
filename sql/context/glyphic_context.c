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
 * `glyphic migrate` installs these functions when its role is a superuser
 * (C functions need one) and the server can load this file; otherwise the
 * plpgsql versions of sql/035 stay. Built without sanitizers: it runs
 * inside the PostgreSQL server, which is not built with them.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/memutils.h"
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
        if (is_set || undo_top)
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

PG_FUNCTION_INFO_V1(glyphic_ctx_write);

Datum glyphic_ctx_write(PG_FUNCTION_ARGS)
{
    MemoryContext old = MemoryContextSwitchTo(ctx_mcx);
    ctx_t next;
    memset(&next, 0, sizeof next);
    next.has_user = !PG_ARGISNULL(0);
    if (next.has_user)
        next.user = *PG_GETARG_UUID_P(0);
    next.has_org = !PG_ARGISNULL(1);
    if (next.has_org)
        next.org = *PG_GETARG_UUID_P(1);
    for (int i = 0; i < N_LISTS; i++)
        next.lists[i] = PG_ARGISNULL(2 + i) ? NULL : PG_GETARG_ARRAYTYPE_P_COPY(2 + i);
    if (GetCurrentTransactionNestLevel() > 1 && !(undo_top && undo_top->subid == GetCurrentSubTransactionId())) {
        undo_t *u = palloc0(sizeof *u);
        u->subid = GetCurrentSubTransactionId();
        u->was_set = is_set;
        u->was = cur;
        u->next = undo_top;
        undo_top = u;
    } else
        ctx_free(&cur);
    cur = next;
    is_set = true;
    MemoryContextSwitchTo(old);
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
