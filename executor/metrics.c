/*
 * metrics.c: the executor's counters (see metrics.h). Each process keeps
 * its own, in plain arrays indexed by fixed label sets; the worker's loop
 * adds with __atomic_fetch_add and a flush takes them with
 * __atomic_exchange_n (putting them back when the database refuses), so a
 * count is sent once, whichever thread flushes.
 *
 * Labels are bounded: execution status and trigger are fixed sets, and a
 * node type is one of the engine's registered types (a validated
 * definition names no other) — at most MAX_TYPES of them are told apart.
 */
#include "metrics.h"

#include "buf.h"
#include "log.h"

#include <pthread.h>
#include <string.h>

#define N_STEP_BUCKETS 16
#define MAX_TYPES 64
#define TYPE_LEN 64

static const char *const step_le[N_STEP_BUCKETS] = { "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
                                                     "0.1",   "0.25",   "0.5",   "1",    "2.5",   "5",
                                                     "10",    "30",     "60",    "300" };
static const int64_t step_ms[N_STEP_BUCKETS] = { 1,   2,    5,    10,    25,    50,    100,   250,
                                                 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000 };

static const char *const statuses[] = { "succeeded", "failed", "canceled", "other" };
static const char *const triggers[] = { "manual", "webhook", "schedule", "error", "subworkflow", "retry", "other" };
#define N_ST GL_NELEM(statuses)
#define N_TR GL_NELEM(triggers)

typedef struct {
    uint64_t bucket[N_STEP_BUCKETS + 1]; /* not cumulative; the last is +Inf */
    uint64_t sum_ms;
} step_hist_t;

static struct {
    uint64_t claimed, jobs_ok, jobs_failed, rescued, db_errors, db_reconnects;
    uint64_t executions[N_ST][N_TR];
    step_hist_t steps[MAX_TYPES + 1]; /* [MAX_TYPES]: "other" */
    char type_name[MAX_TYPES][TYPE_LEN + 1];
    int n_types;   /* published with release: a name is written before */
    int busy;
} m;

static void add(uint64_t *c, uint64_t n)
{
    __atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

static uint64_t take(uint64_t *c)
{
    return __atomic_exchange_n(c, 0, __ATOMIC_RELAXED);
}

void gl_exec_metrics_claimed(int n)
{
    if (n > 0)
        add(&m.claimed, (uint64_t)n);
}

void gl_exec_metrics_job(bool succeeded)
{
    add(succeeded ? &m.jobs_ok : &m.jobs_failed, 1);
}

void gl_exec_metrics_rescued(int n)
{
    if (n > 0)
        add(&m.rescued, (uint64_t)n);
}

void gl_exec_metrics_busy(bool busy)
{
    __atomic_store_n(&m.busy, busy ? 1 : 0, __ATOMIC_RELAXED);
}

bool gl_exec_metrics_is_busy(void)
{
    return __atomic_load_n(&m.busy, __ATOMIC_RELAXED) != 0;
}

static size_t index_of(const char *const *set, size_t n, const char *v)
{
    for (size_t i = 0; v && i + 1 < n; i++)
        if (strcmp(set[i], v) == 0)
            return i;
    return n - 1;
}

void gl_exec_metrics_execution(const char *status, const char *trigger)
{
    add(&m.executions[index_of(statuses, N_ST, status)][index_of(triggers, N_TR, trigger)], 1);
}

/* A node type fit for a label: what the registry's ids look like. */
static bool plain_type(const char *t)
{
    size_t n = 0;
    for (; t[n]; n++) {
        char c = t[n];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-') || n >= TYPE_LEN)
            return false;
    }
    return n > 0;
}

static pthread_mutex_t register_lock = PTHREAD_MUTEX_INITIALIZER;

/* The histogram of a node type, registering it on first sight (runner
 * threads register one at a time; readers see a name before its count). */
static step_hist_t *hist_of(const char *type)
{
    if (!type || !plain_type(type))
        return &m.steps[MAX_TYPES];
    int n = __atomic_load_n(&m.n_types, __ATOMIC_ACQUIRE);
    for (int i = 0; i < n; i++)
        if (strcmp(m.type_name[i], type) == 0)
            return &m.steps[i];
    pthread_mutex_lock(&register_lock);
    n = __atomic_load_n(&m.n_types, __ATOMIC_ACQUIRE);
    step_hist_t *h = &m.steps[MAX_TYPES];
    for (int i = 0; i < n; i++)
        if (strcmp(m.type_name[i], type) == 0)
            h = &m.steps[i];
    if (h == &m.steps[MAX_TYPES] && n < MAX_TYPES) {
        snprintf(m.type_name[n], sizeof m.type_name[n], "%s", type);
        __atomic_store_n(&m.n_types, n + 1, __ATOMIC_RELEASE);
        h = &m.steps[n];
    }
    pthread_mutex_unlock(&register_lock);
    return h;
}

void gl_exec_metrics_step(const char *node_type, int64_t ms)
{
    step_hist_t *h = hist_of(node_type);
    if (ms < 0)
        ms = 0;
    int b = 0;
    while (b < N_STEP_BUCKETS && ms > step_ms[b])
        b++;
    add(&h->bucket[b], 1);
    add(&h->sum_ms, (uint64_t)ms);
}

void gl_exec_metrics_db(gl_db_t *const *dbs, int n, gl_exec_db_seen_t *seen)
{
    uint64_t errors = 0, reconnects = 0;
    for (int i = 0; i < n; i++) {
        uint64_t e, r;
        gl_db_counts(dbs[i], &e, &r);
        errors += e;
        reconnects += r;
    }
    if (errors > seen->errors)
        add(&m.db_errors, errors - seen->errors);
    if (reconnects > seen->reconnects)
        add(&m.db_reconnects, reconnects - seen->reconnects);
    seen->errors = errors;
    seen->reconnects = reconnects;
}

/* ---- the flush: take, send, or put back ---- */

/* What one flush took, to send or to put back. */
typedef struct {
    uint64_t claimed, jobs_ok, jobs_failed, rescued, db_errors, db_reconnects;
    uint64_t executions[N_ST][N_TR];
    step_hist_t steps[MAX_TYPES + 1];
    int n_types;
} taken_t;

static void move_all(taken_t *t, bool back)
{
    uint64_t *mine[] = { &m.claimed, &m.jobs_ok, &m.jobs_failed, &m.rescued, &m.db_errors, &m.db_reconnects };
    uint64_t *theirs[] = { &t->claimed, &t->jobs_ok, &t->jobs_failed, &t->rescued, &t->db_errors,
                           &t->db_reconnects };
    for (size_t i = 0; i < GL_NELEM(mine); i++) {
        if (back)
            add(mine[i], *theirs[i]);
        else
            *theirs[i] = take(mine[i]);
    }
    for (size_t s = 0; s < N_ST; s++)
        for (size_t k = 0; k < N_TR; k++) {
            if (back)
                add(&m.executions[s][k], t->executions[s][k]);
            else
                t->executions[s][k] = take(&m.executions[s][k]);
        }
    if (!back)
        t->n_types = __atomic_load_n(&m.n_types, __ATOMIC_ACQUIRE);
    for (int i = 0; i <= MAX_TYPES; i++) {
        if (i < MAX_TYPES && i >= t->n_types)
            continue;
        for (int b = 0; b <= N_STEP_BUCKETS; b++) {
            if (back)
                add(&m.steps[i].bucket[b], t->steps[i].bucket[b]);
            else
                t->steps[i].bucket[b] = take(&m.steps[i].bucket[b]);
        }
        if (back)
            add(&m.steps[i].sum_ms, t->steps[i].sum_ms);
        else
            t->steps[i].sum_ms = take(&m.steps[i].sum_ms);
    }
}

typedef struct {
    gl_buf_t buf;
    int rc;
    int n; /* deltas written */
} json_t;

static void delta(json_t *j, const char *name, const char *labels, const char *value)
{
    if (j->rc == GL_OK)
        j->rc = gl_buf_printf(&j->buf, "%s{\"n\":\"%s\",\"l\":\"", j->n ? "," : "", name);
    if (j->rc == GL_OK)
        j->rc = gl_buf_json_escape(&j->buf, labels, strlen(labels));
    if (j->rc == GL_OK)
        j->rc = gl_buf_printf(&j->buf, "\",\"v\":%s}", value);
    j->n++;
}

static void count(json_t *j, const char *name, const char *labels, uint64_t v)
{
    char text[24];
    snprintf(text, sizeof text, "%llu", (unsigned long long)v);
    if (v)
        delta(j, name, labels, text);
}

/* A node type's histogram: every bucket (cumulative), so a type's series
 * are complete from its first flush. */
static void step_deltas(json_t *j, const char *type, const step_hist_t *h)
{
    uint64_t total = 0;
    for (int b = 0; b <= N_STEP_BUCKETS; b++)
        total += h->bucket[b];
    if (!total)
        return;
    char labels[160], text[32];
    uint64_t cum = 0;
    for (int b = 0; b <= N_STEP_BUCKETS; b++) {
        cum += h->bucket[b];
        snprintf(labels, sizeof labels, "node_type=\"%s\",le=\"%s\"", type, b < N_STEP_BUCKETS ? step_le[b] : "+Inf");
        snprintf(text, sizeof text, "%llu", (unsigned long long)cum);
        delta(j, "glyphic_executor_step_duration_seconds_bucket", labels, text);
    }
    snprintf(labels, sizeof labels, "node_type=\"%s\"", type);
    snprintf(text, sizeof text, "%llu.%03llu", (unsigned long long)(h->sum_ms / 1000),
             (unsigned long long)(h->sum_ms % 1000));
    delta(j, "glyphic_executor_step_duration_seconds_sum", labels, text);
    snprintf(text, sizeof text, "%llu", (unsigned long long)total);
    delta(j, "glyphic_executor_step_duration_seconds_count", labels, text);
}

static void all_deltas(json_t *j, const taken_t *t)
{
    count(j, "glyphic_executor_jobs_claimed_total", "", t->claimed);
    count(j, "glyphic_executor_jobs_total", "result=\"succeeded\"", t->jobs_ok);
    count(j, "glyphic_executor_jobs_total", "result=\"failed\"", t->jobs_failed);
    count(j, "glyphic_executor_lease_rescues_total", "", t->rescued);
    count(j, "glyphic_db_errors_total", "program=\"glyphic-executor\"", t->db_errors);
    count(j, "glyphic_db_reconnects_total", "program=\"glyphic-executor\"", t->db_reconnects);
    for (size_t s = 0; s < N_ST; s++)
        for (size_t k = 0; k < N_TR; k++) {
            char labels[96];
            snprintf(labels, sizeof labels, "status=\"%s\",trigger=\"%s\"", statuses[s], triggers[k]);
            count(j, "glyphic_executor_executions_finished_total", labels, t->executions[s][k]);
        }
    for (int i = 0; i < t->n_types; i++)
        step_deltas(j, m.type_name[i], &t->steps[i]);
    step_deltas(j, "other", &t->steps[MAX_TYPES]);
}

static const gl_stmt_t q_add = {
    .name = "metrics_add",
    .sql = "SELECT glyphic.metrics_add($1::jsonb, $2, $3::boolean)",
    .nparams = 3,
    .rows = true,
};

int gl_exec_metrics_flush(gl_db_t *db, const char *owner, gl_exec_state_t state, gl_err_t *err)
{
    static taken_t t; /* large; one flush at a time (metrics.h) */
    memset(&t, 0, sizeof t);
    move_all(&t, false);
    json_t j = { .rc = GL_OK };
    gl_buf_init(&j.buf, 1u << 20);
    if (gl_buf_puts(&j.buf, "[") != GL_OK)
        j.rc = GL_TOO_LARGE;
    all_deltas(&j, &t);
    if (j.rc == GL_OK)
        j.rc = gl_buf_puts(&j.buf, "]");
    int rc = j.rc;
    if (rc == GL_OK && (j.n || state != GL_EXEC_NO_STATE)) {
        const char *busy = state == GL_EXEC_BUSY ? "true" : state == GL_EXEC_IDLE ? "false" : NULL;
        const char *params[] = { j.buf.data, state == GL_EXEC_NO_STATE ? NULL : owner, busy };
        PGresult *res = NULL;
        rc = gl_db_query(db, &q_add, params, NULL, &res, err);
        if (rc == GL_OK)
            PQclear(res);
    } else if (rc != GL_OK) {
        gl_err_set(err, "the metrics do not fit their buffer");
    }
    gl_buf_free(&j.buf);
    if (rc != GL_OK)
        move_all(&t, true);
    return rc;
}
