/*
 * metrics.c: GET /metrics, in Prometheus' text format (version 0.0.4).
 *
 * Two sources, one answer:
 *   - the pool's own counters (requests by route, method and status, their
 *     latency histogram, database errors and reconnects of glyphic-fcgi),
 *     kept in one MAP_SHARED anonymous region the master maps before it
 *     forks. Workers add to it with __atomic builtins as a request ends: no
 *     lock, no system call, no database. The region lives as long as the
 *     master, so worker restarts and SIGHUP reloads keep counting; a
 *     restart of the master starts from zero, as Prometheus expects of a
 *     counter;
 *   - what only the database knows (queue depth, executions, the
 *     executor's counters flushed there: sql/025_metrics.sql), in one
 *     round trip at scrape time through glyphic.metrics(), which renders
 *     its own families. glyphic-fcgi's database counters travel with the
 *     call, so the families both programs report come out whole.
 * Memory of the pool (master and workers) is read from /proc at scrape
 * time.
 *
 * Labels stay bounded: a route is the router's pattern with its method,
 * written as OpenAPI writes it ("/api/workflows/:id" is
 * "/api/workflows/{id}"), never the raw path; every webhook is
 * "/hooks/{path}" and a path no route takes is "other", both by method from
 * a fixed list; a status is one of 100..599.
 */
#include "metrics.h"

#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define N_BUCKETS 13
#define N_STATUS 500 /* status codes 100..599 */

static const char *const bucket_le[N_BUCKETS] = { "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
                                                  "0.25",  "0.5",    "1",     "2.5",  "5",     "10" };
static const int64_t bucket_us[N_BUCKETS] = { 1000,   2500,   5000,    10000,   25000,   50000,   100000,
                                              250000, 500000, 1000000, 2500000, 5000000, 10000000 };

static const char *const methods[] = { "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other" };
#define N_METHODS GL_NELEM(methods)

typedef struct {
    uint64_t status[N_STATUS];       /* requests by status code - 100 */
    uint64_t bucket[N_BUCKETS + 1];  /* requests by latency bucket (not cumulative; the last is +Inf) */
    uint64_t sum_us;
    uint64_t round_trips;            /* database round trips of these requests */
} slot_t;

typedef struct {
    uint64_t db_errors;
    uint64_t db_reconnects;
    slot_t slots[]; /* the routes in table order, then hooks by method, then other by method */
} shared_t;

static shared_t *shared;
static size_t n_routes;
static uint64_t seen_errors, seen_reconnects; /* this worker's connection, at its last report */

void gl_metrics_init(void)
{
    for (size_t r = 0; r < gl_resources_count; r++)
        n_routes += gl_resources[r]->n_routes;
    size_t n_slots = n_routes + 2 * N_METHODS;
    size_t len = sizeof(shared_t) + n_slots * sizeof(slot_t);
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        gl_log(GL_LOG_ERROR, "metrics: cannot map %zu bytes of shared counters; metrics are off", len);
        return;
    }
    shared = p; /* zero-filled; never unmapped: it lives as long as the process */
}

/* The slot of a route: its place in the resource tables. */
static size_t route_slot(const gl_route_t *route)
{
    size_t base = 0;
    for (size_t r = 0; r < gl_resources_count; r++) {
        const gl_resource_t *res = gl_resources[r];
        if (route >= res->routes && route < res->routes + res->n_routes)
            return base + (size_t)(route - res->routes);
        base += res->n_routes;
    }
    return SIZE_MAX;
}

static size_t method_index(const char *method)
{
    for (size_t i = 0; i + 1 < N_METHODS; i++)
        if (strcmp(method, methods[i]) == 0)
            return i;
    return N_METHODS - 1;
}

static void add(uint64_t *c, uint64_t n)
{
    __atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

static uint64_t get(const uint64_t *c)
{
    return __atomic_load_n(c, __ATOMIC_RELAXED);
}

void gl_metrics_request(const gl_route_t *route, bool hook, const char *method, int status, int64_t usec,
                        uint64_t round_trips)
{
    if (!shared)
        return;
    size_t slot = route ? route_slot(route) : SIZE_MAX;
    if (slot == SIZE_MAX)
        slot = n_routes + (hook ? 0 : N_METHODS) + method_index(method);
    slot_t *s = &shared->slots[slot];
    /* a status outside 100..599 cannot leave glyphic-fcgi (gl_req_send
     * sends 500 for a missing one): count it as 500 too */
    int code = status >= 100 && status <= 599 ? status : 500;
    add(&s->status[code - 100], 1);
    size_t b = 0;
    while (b < N_BUCKETS && usec > bucket_us[b])
        b++;
    add(&s->bucket[b], 1);
    add(&s->sum_us, usec > 0 ? (uint64_t)usec : 0);
    if (round_trips)
        add(&s->round_trips, round_trips);
}

void gl_metrics_db(const gl_db_t *db)
{
    if (!shared || !db)
        return;
    uint64_t errors, reconnects;
    gl_db_counts(db, &errors, &reconnects);
    if (errors > seen_errors)
        add(&shared->db_errors, errors - seen_errors);
    if (reconnects > seen_reconnects)
        add(&shared->db_reconnects, reconnects - seen_reconnects);
    seen_errors = errors;
    seen_reconnects = reconnects;
}

/* ---- rendering ---- */

typedef struct {
    gl_buf_t *out;
    int rc; /* the first failed append */
} emit_t;

static void emit(emit_t *e, const char *fmt, ...) GL_PRINTF(2, 3);

static void emit(emit_t *e, const char *fmt, ...)
{
    if (e->rc != GL_OK)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof line) {
        e->rc = GL_TOO_LARGE;
        return;
    }
    e->rc = gl_buf_append(e->out, line, (size_t)n);
}

/* A route pattern as OpenAPI writes it: ":id" becomes "{id}". Patterns are
 * literals of the route table: no quote, backslash or newline to escape. */
static const char *openapi_form(const char *pattern, char *buf, size_t len)
{
    size_t o = 0;
    bool in_param = false;
    for (const char *p = pattern; *p && o + 2 < len; p++) {
        if (*p == ':') {
            buf[o++] = '{';
            in_param = true;
            continue;
        }
        if (*p == '/' && in_param) {
            buf[o++] = '}';
            in_param = false;
        }
        buf[o++] = *p;
    }
    if (in_param)
        buf[o++] = '}';
    buf[o] = '\0';
    return buf;
}

/* The route and method labels of a slot; the route is written into buf. */
static const char *slot_labels(size_t slot, char *buf, size_t len, const char **method)
{
    if (slot >= n_routes) {
        size_t k = slot - n_routes;
        *method = methods[k % N_METHODS];
        return k < N_METHODS ? "/hooks/{path}" : "other";
    }
    size_t base = 0;
    for (size_t r = 0; r < gl_resources_count; r++) {
        const gl_resource_t *res = gl_resources[r];
        if (slot < base + res->n_routes) {
            *method = res->routes[slot - base].method;
            return openapi_form(res->routes[slot - base].pattern, buf, len);
        }
        base += res->n_routes;
    }
    *method = "other";
    return "other";
}

static void render_requests(emit_t *e, size_t n_slots)
{
    emit(e, "# HELP glyphic_http_requests_total Requests glyphic-fcgi answered, by route pattern, method and "
            "status.\n# TYPE glyphic_http_requests_total counter\n");
    for (size_t i = 0; i < n_slots; i++) {
        char buf[256];
        const char *method, *route = slot_labels(i, buf, sizeof buf, &method);
        for (int c = 0; c < N_STATUS; c++) {
            uint64_t n = get(&shared->slots[i].status[c]);
            if (n)
                emit(e, "glyphic_http_requests_total{route=\"%s\",method=\"%s\",status=\"%d\"} %llu\n", route,
                     method, c + 100, (unsigned long long)n);
        }
    }
}

static void render_round_trips(emit_t *e, size_t n_slots)
{
    emit(e, "# HELP glyphic_http_db_round_trips_total Times glyphic-fcgi waited for the database while answering "
            "requests, by route pattern and method (divided by the route's requests: round trips per "
            "request).\n# TYPE glyphic_http_db_round_trips_total counter\n");
    for (size_t i = 0; i < n_slots; i++) {
        uint64_t n = get(&shared->slots[i].round_trips);
        if (!n)
            continue;
        char buf[256];
        const char *method, *route = slot_labels(i, buf, sizeof buf, &method);
        emit(e, "glyphic_http_db_round_trips_total{route=\"%s\",method=\"%s\"} %llu\n", route, method,
             (unsigned long long)n);
    }
}

static void render_latency(emit_t *e, size_t n_slots)
{
    emit(e, "# HELP glyphic_http_request_duration_seconds Time glyphic-fcgi took to answer a request, by route "
            "pattern and method.\n# TYPE glyphic_http_request_duration_seconds histogram\n");
    for (size_t i = 0; i < n_slots; i++) {
        const slot_t *s = &shared->slots[i];
        uint64_t counts[N_BUCKETS + 1], total = 0;
        for (int b = 0; b <= N_BUCKETS; b++)
            total += counts[b] = get(&s->bucket[b]);
        if (!total)
            continue;
        char buf[256];
        const char *method, *route = slot_labels(i, buf, sizeof buf, &method);
        uint64_t cum = 0;
        for (int b = 0; b <= N_BUCKETS; b++) {
            cum += counts[b];
            emit(e, "glyphic_http_request_duration_seconds_bucket{route=\"%s\",method=\"%s\",le=\"%s\"} %llu\n",
                 route, method, b < N_BUCKETS ? bucket_le[b] : "+Inf", (unsigned long long)cum);
        }
        uint64_t us = get(&s->sum_us);
        emit(e, "glyphic_http_request_duration_seconds_sum{route=\"%s\",method=\"%s\"} %llu.%06llu\n", route, method,
             (unsigned long long)(us / 1000000), (unsigned long long)(us % 1000000));
        emit(e, "glyphic_http_request_duration_seconds_count{route=\"%s\",method=\"%s\"} %llu\n", route, method,
             (unsigned long long)total);
    }
}

/* Resident bytes of a process (0 when it is gone). */
static uint64_t rss_of(long pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/statm", pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    char line[128];
    uint64_t bytes = 0;
    if (fgets(line, sizeof line, f)) {
        char *p = strchr(line, ' ');
        char *end = NULL;
        unsigned long long pages = p ? strtoull(p + 1, &end, 10) : 0;
        if (end && end != p + 1)
            bytes = (uint64_t)pages * (uint64_t)sysconf(_SC_PAGESIZE);
    }
    fclose(f);
    return bytes;
}

/* The pool: the master (this worker's parent) and its children, which the
 * kernel lists in /proc/PID/task/PID/children. */
static void render_memory(emit_t *e)
{
    long master = (long)getppid();
    uint64_t rss = rss_of(master);
    int workers = 0;
    char path[96], list[8192];
    snprintf(path, sizeof path, "/proc/%ld/task/%ld/children", master, master);
    FILE *f = fopen(path, "re");
    size_t len = f ? fread(list, 1, sizeof list - 1, f) : 0;
    if (f)
        fclose(f);
    list[len] = '\0';
    for (char *p = list, *end;; p = end) {
        long pid = strtol(p, &end, 10);
        if (end == p || pid <= 0)
            break;
        rss += rss_of(pid);
        workers++;
    }
    emit(e, "# HELP glyphic_fcgi_resident_memory_bytes Resident memory of the glyphic-fcgi pool: the master and "
            "its workers together.\n# TYPE glyphic_fcgi_resident_memory_bytes gauge\n"
            "glyphic_fcgi_resident_memory_bytes %llu\n", (unsigned long long)rss);
    emit(e, "# HELP glyphic_fcgi_workers Worker processes of the glyphic-fcgi pool (during a reload, both "
            "generations).\n# TYPE glyphic_fcgi_workers gauge\nglyphic_fcgi_workers %d\n", workers);
}

/* The database families when the database cannot render them: glyphic-fcgi's
 * own counts alone. */
static void render_db_local(emit_t *e)
{
    emit(e, "# HELP glyphic_db_errors_total Database statements that failed and connection attempts that did "
            "not connect, by program.\n# TYPE glyphic_db_errors_total counter\n"
            "glyphic_db_errors_total{program=\"glyphic-fcgi\"} %llu\n",
         (unsigned long long)get(&shared->db_errors));
    emit(e, "# HELP glyphic_db_reconnects_total Database connections made again after one was lost, by "
            "program.\n# TYPE glyphic_db_reconnects_total counter\n"
            "glyphic_db_reconnects_total{program=\"glyphic-fcgi\"} %llu\n",
         (unsigned long long)get(&shared->db_reconnects));
}

/* One round trip: the families only the database knows, rendered by it,
 * with glyphic-fcgi's database counters merged in (sql/025_metrics.sql). */
static const gl_stmt_t q_metrics = {
    .name = "metrics",
    .sql = "SELECT glyphic.metrics($1::bigint, $2::bigint)",
    .nparams = 2,
    .rows = true,
    .readonly = true,
};

static void render_database(gl_req_t *req, emit_t *e)
{
    char errors[24], reconnects[24];
    snprintf(errors, sizeof errors, "%llu", (unsigned long long)get(&shared->db_errors));
    snprintf(reconnects, sizeof reconnects, "%llu", (unsigned long long)get(&shared->db_reconnects));
    const char *params[] = { errors, reconnects };
    gl_err_t err;
    gl_err_clear(&err);
    PGresult *res = NULL;
    int rc = gl_db_query(req->db, &q_metrics, params, req->arena, &res, &err);
    bool up = rc == GL_OK && PQntuples(res) == 1 && !PQgetisnull(res, 0, 0);
    if (!up)
        gl_log(GL_LOG_WARN, "metrics: the database's series are left out: %s", rc == GL_OK ? "no answer" : err.msg);
    emit(e, "# HELP glyphic_database_up Whether the database answered this scrape (its series are missing "
            "when 0).\n# TYPE glyphic_database_up gauge\nglyphic_database_up %d\n", up ? 1 : 0);
    if (!up) {
        render_db_local(e);
        return;
    }
    if (e->rc == GL_OK)
        e->rc = gl_buf_append(e->out, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
}

/* GET /metrics. Public to glyphic-fcgi: nginx lets only allowed addresses
 * reach it (render-nginx --metrics-allow). */
static void metrics_get(gl_req_t *req)
{
    if (!req->cfg->metrics_enabled) {
        gl_resp_error(req, 404, "not_found", NULL, "metrics are turned off (metrics.enabled)");
        return;
    }
    if (!shared) {
        gl_resp_error(req, 503, "unavailable", NULL, "metrics could not be set up; see the log");
        return;
    }
    gl_metrics_db(req->db); /* this worker's counts up to now */
    gl_buf_reset(req->out, SIZE_MAX);
    emit_t e = { .out = req->out, .rc = GL_OK };
    size_t n_slots = n_routes + 2 * N_METHODS;
    render_requests(&e, n_slots);
    render_round_trips(&e, n_slots);
    render_latency(&e, n_slots);
    render_memory(&e);
    render_database(req, &e);
    if (e.rc != GL_OK) {
        gl_resp_error(req, 500, "internal", NULL, "the metrics do not fit the response");
        return;
    }
    req->status = 200;
    req->content_type = "text/plain; version=0.0.4; charset=utf-8";
}

static const gl_route_t routes[] = {
    { "GET", "/metrics", metrics_get, GL_PERM_PUBLIC, NULL },
};

const gl_resource_t gl_resource_metrics = { "metrics", routes, GL_NELEM(routes) };
