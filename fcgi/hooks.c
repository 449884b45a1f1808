/*
 * hooks.c: /hooks/<path> — webhook triggers. Public: the path is the
 * capability, and the database functions it calls (hook_find, hook_enqueue,
 * hook_record), keyed on the path, grant nothing more.
 *
 * The call becomes one item {method, path, query, headers, body}: a JSON
 * body parsed, a form body as an object, anything else as text. Headers
 * that carry secrets (Authorization, Cookie, …) are kept out of it, so they
 * never land in execution data.
 *
 * Files: a multipart/form-data body, or a body of a binary type, is not
 * read by the worker before the handler (worker.c) but streamed into the
 * file store once the webhook is known (fcgi/hook_body.c): its file parts
 * become the item's "$binary" references, its other parts the body. The
 * files become rows of the execution the call starts, inserted by the hook
 * statement itself (sql/022) in a transaction that renames the contents
 * before it commits (hook_statement): the store's writer protocol. All
 * three paths take them: async, queued sync, and direct sync — whose quick
 * nodes see the files' metadata and read no bytes (no node that reads a
 * file's content is quick).
 *
 * Modes (the trigger's `mode`):
 *   async  the execution is queued; 202 {execution_id}.
 *   sync   the caller gets the workflow's response (flow.respond, else the
 *          first item of the last node's output). Two paths:
 *          direct  every node is quick and local (gl_engine_is_direct):
 *                  this worker runs the engine itself and records the
 *                  execution and all its steps in one statement;
 *          queued  otherwise: queue it with the SHA-256 of a secret made
 *                  for this call, and hand the call to glyphic-events
 *                  (X-Accel-Redirect to nginx's internal /_glyphic/wait/
 *                  location, with the secret and the trigger's timeout_ms,
 *                  default 30 s): it waits for the executor to announce
 *                  the end and answers. This worker is free at once.
 *
 * Per-org limit (limits.org_webhooks_per_minute, sql/016_org_limits.sql):
 * the statement that queues or records the execution counts the call, or
 * returns NULL and writes nothing when the org has had its calls this
 * calendar minute; the answer is then 429 rate_limited with Retry-After
 * (the seconds left in the minute). This worker then refuses that org's
 * calls itself until the minute ends — no run, no statement — so a flood
 * costs the database one statement per worker and minute. (A direct run is
 * computed before the statement that refuses it: the first refused call of
 * a minute runs its quick workflow for nothing, which has no effect
 * outside.)
 * Signed webhooks (the trigger's secret and signature): the signature is
 * checked before the item is built, on every path; a call that fails it
 * answers 401 and starts nothing (fcgi/webhook_signature.c). The cache
 * keeps the credential's sealed key (hook_find returns it with the
 * webhook, sql/017) and trusts it for GL_HOOK_SIG_RECHECK_MS: the hot case
 * stays one round trip, plus one lookup a second per worker and path. A
 * call that fails the check against a cached key looks the webhook up
 * again first, so a caller signing with a new key is served at once; an
 * old key is refused within a second.
 */
#include "hooks.h"

#include "files.h"

#include "hook_body.h"
#include "webhook_signature.h"
#include "engine.h"
#include "crypto.h"
#include "hook_batch.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_PATH 200
#define CACHE_SLOTS 32
#define LIMITED_SLOTS 16

static const gl_stmt_t q_find = {
    .name = "hook_find",
    .sql = "SELECT webhook_id, org_id, workflow_id, version, node_id, method, mode, definition::text, "
           "signature, secret, cred_id, cred_org_id, cred_key_id, cred_sealed "
           "FROM glyphic.hook_find($1, $2::uuid, $3::int)",
    .nparams = 3, .rows = true, .readonly = true,
};
#define FIND_SIG_COL 8 /* signature, secret, cred_… (gl_hook_sig_set) */
/* The last two parameters of both: the call's files as rows (NULL: none)
 * and files.max_bytes_per_org (sql/022). hook_enqueue queues without
 * ringing the queue's doorbell: q_ring rings it after the commit, in a
 * transaction of its own, so the call's commit does not hold PostgreSQL's
 * notification lock through its WAL flush (sql/039). */
static const gl_stmt_t q_enqueue = {
    .name = "hook_enqueue",
    .sql = "SELECT glyphic.hook_enqueue($1, $2::int, $3::jsonb, $4::uuid, $5::bytea, $6::jsonb, $7::bigint, true)",
    .nparams = 7, .rows = true,
};
static const gl_stmt_t q_ring = {
    .name = "queue_ring",
    .sql = "SELECT glyphic.queue_ring('default')",
    .nparams = 0, .rows = true,
};
static const gl_stmt_t q_record = {
    .name = "hook_record",
    .sql = "SELECT glyphic.hook_record($1, $2::int, $3::jsonb, $4, $5::jsonb, $6::jsonb, $7::jsonb, "
           "$8::jsonb, $9::bigint, $10::uuid, $11::jsonb, $12::bigint)",
    .nparams = 12, .rows = true,
};
/* the org's files cannot take a body of $2 bytes: its usage (sql/024) */
static const gl_stmt_t q_room = {
    .name = "hook_files_room",
    .sql = "SELECT used FROM glyphic.hook_files_room($1, $2::bigint, $3::bigint)",
    .nparams = 3, .rows = true, .readonly = true,
};
/* the file a direct call's execution answered with (sql/023) */
static const gl_stmt_t q_answer_file = {
    .name = "hook_answer_file",
    .sql = "SELECT org_id, sha256 FROM glyphic.hook_answer_file($1::uuid, NULL)",
    .nparams = 1, .rows = true, .readonly = true,
};

/* definitions by workflow and version, per worker: a hot webhook's
 * definition is parsed once, not per call */
typedef struct {
    char path[MAX_PATH + 1];
    char workflow[GL_UUID_LEN + 1];
    char org[GL_UUID_LEN + 1];
    char version_text[16];
    char node[72];
    char method[8];
    bool sync;
    int version;
    json_object *def;
    bool direct;
    int64_t timeout_ms;
    gl_hook_sig_t sig; /* signed webhooks: the check and the sealed key */
    unsigned long used;
} cached_t;

static cached_t cache[CACHE_SLOTS];
static unsigned long cache_clock;

/* orgs over their webhook calls this minute, by this worker's count of
 * refusals: refused here until until_ms (wall clock; the database's minute
 * is the same one when both run on one clock) */
static struct {
    char org[GL_UUID_LEN + 1];
    int64_t until_ms;
} limited[LIMITED_SLOTS];

static cached_t *cache_by_path(const char *path)
{
    for (int i = 0; i < CACHE_SLOTS; i++)
        if (cache[i].def && strcmp(cache[i].path, path) == 0) {
            cache[i].used = ++cache_clock;
            return &cache[i];
        }
    return NULL;
}

static int64_t trigger_timeout(json_object *def, const char *node_id)
{
    json_object *nodes, *params, *v;
    if (!json_object_object_get_ex(def, "nodes", &nodes))
        return 30000;
    for (size_t i = 0; i < json_object_array_length(nodes); i++) {
        json_object *n = json_object_array_get_idx(nodes, i), *id;
        if (json_object_object_get_ex(n, "id", &id) && strcmp(json_object_get_string(id), node_id) == 0 &&
            json_object_object_get_ex(n, "params", &params) && json_object_object_get_ex(params, "timeout_ms", &v) &&
            json_object_is_type(v, json_type_int)) {
            int64_t t = json_object_get_int64(v);
            /* glyphic-events waits (nginx's proxy_read_timeout for the
             * wait location is 3700 s) */
            return t < 100 ? 100 : t > 3600000 ? 3600000 : t;
        }
    }
    return 30000;
}

static void cache_drop(cached_t *c)
{
    if (!c)
        return;
    json_object_put(c->def);
    c->def = NULL;
    c->path[0] = '\0';
    gl_hook_sig_clear(&c->sig);
}

static cached_t *cache_put(const char *path, const PGresult *res, json_object *def)
{
    const char *workflow = PQgetvalue(res, 0, 2), *node_id = PQgetvalue(res, 0, 4);
    int version = (int)gl_db_int(res, 0, 3);
    cached_t *slot = cache_by_path(path);
    if (!slot) {
        /* a free slot, else the least recently used */
        slot = &cache[0];
        for (int i = 0; i < CACHE_SLOTS; i++) {
            if (!cache[i].def) {
                slot = &cache[i];
                break;
            }
            if (cache[i].used < slot->used)
                slot = &cache[i];
        }
    }
    if (slot->def != def)
        json_object_put(slot->def);
    snprintf(slot->path, sizeof slot->path, "%s", path);
    snprintf(slot->version_text, sizeof slot->version_text, "%d", version);
    snprintf(slot->node, sizeof slot->node, "%s", node_id);
    snprintf(slot->method, sizeof slot->method, "%s", PQgetvalue(res, 0, 5));
    slot->sync = strcmp(PQgetvalue(res, 0, 6), "sync") == 0;
    snprintf(slot->workflow, sizeof slot->workflow, "%s", workflow);
    snprintf(slot->org, sizeof slot->org, "%s", PQgetvalue(res, 0, 1));
    slot->version = version;
    slot->def = def;
    slot->direct = gl_engine_is_direct(def);
    slot->timeout_ms = trigger_timeout(def, node_id);
    gl_hook_sig_set(&slot->sig, res, FIND_SIG_COL, def, node_id);
    slot->used = ++cache_clock;
    return slot;
}

static bool path_ok(const char *p, size_t n)
{
    if (n == 0 || n > MAX_PATH)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
              c == '/' || c == '.'))
            return false;
    }
    return true;
}

/* True for a header an item must not carry: credentials a caller may send
 * by habit or by mistake (never what a workflow verifies: signatures such
 * as X-Hub-Signature stay), and those hooks.drop_headers names — a
 * comma-separated list, case-insensitive, a trailing '*' matching a prefix.
 * name is lower case. */
static bool secret_header(const gl_config_t *cfg, const char *name)
{
    static const char *const secret[] = { "authorization", "proxy-authorization", "cookie", "x-api-key",
                                          "x-glyphic-org", "x-auth-token", "api-key", "x-access-token",
                                          "x-csrf-token", "x-xsrf-token", "x-amz-security-token", NULL };
    for (int i = 0; secret[i]; i++)
        if (strcmp(name, secret[i]) == 0)
            return true;
    size_t name_len = strlen(name);
    for (const char *s = cfg->hooks_drop_headers; s && *s;) {
        size_t n = strcspn(s, ",");
        const char *e = s;
        size_t len = n;
        while (len && (*e == ' ' || *e == '\t'))
            e++, len--;
        while (len && (e[len - 1] == ' ' || e[len - 1] == '\t'))
            len--;
        bool prefix = len > 1 && e[len - 1] == '*';
        if (prefix)
            len--;
        if (len && (prefix ? name_len >= len : name_len == len) && strncasecmp(name, e, len) == 0)
            return true;
        s += n;
        if (*s == ',')
            s++;
    }
    return false;
}

/* a=1&b=2 into an object (a repeated name keeps its last value); NULL if malformed */
static json_object *form_object(gl_req_t *req, const char *s, size_t n)
{
    json_object *o = json_object_new_object();
    for (size_t i = 0; i < n;) {
        size_t len = 0;
        while (i + len < n && s[i + len] != '&')
            len++;
        const char *eq = memchr(s + i, '=', len);
        size_t klen = eq ? (size_t)(eq - (s + i)) : len;
        char *k = gl_url_decode(req->arena, s + i, klen);
        char *v = eq ? gl_url_decode(req->arena, eq + 1, len - klen - 1) : "";
        if (!k || !v || !gl_utf8_valid(k, strlen(k)) || !gl_utf8_valid(v, strlen(v))) {
            json_object_put(o);
            return NULL;
        }
        if (*k)
            json_object_object_add(o, k, json_object_new_string(v));
        i += len + 1;
    }
    return o;
}

json_object *gl_hooks_item(gl_req_t *req, const char *path, const gl_hook_body_t *files)
{
    json_object *item = json_object_new_object();
    json_object_object_add(item, "method", json_object_new_string(req->method));
    json_object_object_add(item, "path", json_object_new_string(path));
    json_object *q = form_object(req, req->query, strlen(req->query));
    if (!q) {
        json_object_put(item);
        gl_resp_error(req, 400, "invalid_query", "query",
                      "the query string must be UTF-8 with well-formed percent-encoding");
        return NULL;
    }
    json_object_object_add(item, "query", q);
    json_object *h = json_object_new_object();
    for (char **e = req->fcgx->envp; e && *e; e++) {
        const char *kv = *e;
        const char *name = NULL;
        if (strncmp(kv, "HTTP_", 5) == 0)
            name = kv + 5;
        else if (strncmp(kv, "CONTENT_TYPE=", 13) == 0 || strncmp(kv, "CONTENT_LENGTH=", 15) == 0)
            name = kv;
        if (!name)
            continue;
        const char *eq = strchr(name, '=');
        if (!eq || eq == name || eq - name > 100)
            continue;
        char key[128];
        size_t n = (size_t)(eq - name);
        for (size_t i = 0; i < n; i++)
            key[i] = name[i] == '_' ? '-' : (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
        key[n] = '\0';
        /* names and values both become JSON text the item is stored as */
        if (!gl_utf8_valid(key, n) || secret_header(req->cfg, key) || !gl_utf8_valid(eq + 1, strlen(eq + 1)))
            continue;
        json_object_object_add(h, key, json_object_new_string(eq + 1));
    }
    json_object_object_add(item, "headers", h);
    json_object *body = NULL;
    if (files) {
        /* streamed: the fields (multipart) and the files' references */
        json_object_object_add(item, "body", gl_hook_body_fields(files));
        json_object *bin = gl_hook_body_binary(files);
        if (bin)
            json_object_object_add(item, "$binary", bin);
        return item;
    }
    if (req->json) {
        body = json_object_get(req->json);
    } else if (req->body) {
        const char *ct = gl_req_env(req, "CONTENT_TYPE");
        if (ct && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0)
            body = form_object(req, req->body, req->body_len);
        else if (gl_utf8_valid(req->body, req->body_len))
            body = json_object_new_string_len(req->body, (int)req->body_len);
        if (!body) {
            json_object_put(item);
            gl_resp_error(req, 400, "invalid_body", "body",
                          "the body must be JSON, a form, or UTF-8 text (form fields too)");
            return NULL;
        }
    }
    json_object_object_add(item, "body", body);
    return item;
}

static const char *text(json_object *v)
{
    return v ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN) : NULL;
}

/* A file answer (flow.respond, respond_with binary): the database says
 * which content of which org the execution answered with (never the
 * workflow's word alone), and nginx sends it. */
static void send_file(gl_req_t *req, const char *execution_id, const gl_answer_t *a)
{
    const char *params[] = { execution_id };
    PGresult *res = NULL;
    gl_err_t err;
    gl_err_clear(&err);
    int rc = gl_db_query(req->db, &q_answer_file, params, req->arena, &res, &err);
    if (rc != GL_OK) {
        gl_resp_fail(req, rc, &err);
        return;
    }
    if (PQntuples(res) != 1) {
        gl_log(GL_LOG_WARN, "execution %s answered with file %s, which is not a file of its org", execution_id,
               a->file_id);
        gl_resp_error(req, 500, "workflow_failed", NULL,
                      "the workflow answered with a file that is not stored for its organization (execution %s)",
                      execution_id);
        return;
    }
    const char *disp = a->disposition;
    for (int i = 0; i < a->n_headers; i++)
        if (strcasecmp(a->names[i], "content-disposition") == 0)
            disp = a->values[i];
    gl_files_accel(req, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), a->content_type, disp);
}

/* Sends the workflow's answer (gl_answer_build). */
static void respond(gl_req_t *req, const char *execution_id, const char *status, json_object *output,
                    json_object *response, json_object *error)
{
    gl_answer_t a;
    gl_answer_build(&a, execution_id, status, output, response, error, req->cfg->http_respond_allow_scripts);
    gl_resp_header(req, "X-Glyphic-Execution", execution_id);
    gl_resp_header(req, "Content-Security-Policy", "sandbox");
    if (a.failed) {
        gl_resp_error(req, 500, "workflow_failed", NULL, "%s", a.message);
        return;
    }
    if (a.file) {
        send_file(req, execution_id, &a);
        return;
    }
    for (int i = 0; i < a.n_headers; i++)
        gl_resp_header(req, a.names[i], a.values[i]);
    req->content_type = a.content_type ? gl_arena_strdup(req->arena, a.content_type) : NULL;
    gl_resp_json(req, a.status, a.body, a.body_len);
}

/* ---- the per-org limit ---- */

/* When the org's calls are refused here (0: they are not). */
static int64_t limited_until(const char *org)
{
    int64_t now = gl_wall_ms();
    for (int i = 0; i < LIMITED_SLOTS; i++)
        if (limited[i].until_ms > now && strcmp(limited[i].org, org) == 0)
            return limited[i].until_ms;
    return 0;
}

/* Answers 429 rate_limited: the org's calls resume at until_ms. */
static void refuse(gl_req_t *req, int64_t until_ms)
{
    int64_t left = (until_ms - gl_wall_ms() + 999) / 1000;
    char secs[24];
    snprintf(secs, sizeof secs, "%lld", (long long)(left < 1 ? 1 : left));
    gl_resp_header(req, "Retry-After", secs);
    gl_resp_error(req, 429, "rate_limited", NULL,
                  "this webhook's organization has had its webhook calls for this minute; try again in %s seconds",
                  secs);
}

/* The database refused a call of org (the hook statement returned NULL):
 * refuse the org's calls here until the minute ends, and answer 429. */
static void refused_by_database(gl_req_t *req, const char *org)
{
    int64_t now = gl_wall_ms(), until = now - now % 60000 + 60000;
    int slot = 0;
    for (int i = 0; i < LIMITED_SLOTS; i++) {
        if (strcmp(limited[i].org, org) == 0 || limited[i].until_ms <= now) {
            slot = i;
            break;
        }
        if (limited[i].until_ms < limited[slot].until_ms)
            slot = i;
    }
    snprintf(limited[slot].org, sizeof limited[slot].org, "%s", org);
    limited[slot].until_ms = until;
    gl_log(GL_LOG_WARN, "org %s is over limits.org_webhooks_per_minute: its webhook calls are refused until the "
           "minute ends", org);
    refuse(req, until);
}

/* True when the hook statement's one value is NULL: the org is over its
 * limit, and nothing was written. */
static bool over_limit(const PGresult *res)
{
    return PQntuples(res) == 1 && PQgetisnull(res, 0, 0);
}

/* ---- the direct path ---- */

/* $env: the variables executor.env_allow names, read once per worker */
static json_object *gl_hooks_env(const gl_config_t *cfg)
{
    static json_object *env;
    if (!env)
        env = gl_engine_env(cfg->executor_env_allow);
    return env;
}

/* True when a statement failed because the webhook row it named is gone or
 * has another version (hook_enqueue / hook_record raise 40001): the cached
 * entry is stale. */
static bool stale(int rc, const gl_err_t *err)
{
    return rc != GL_OK && strcmp(err->sqlstate, "40001") == 0;
}

/* ---- the call's files ---- */

/* What the hook statements take of a call's files: the rows (NULL: none)
 * and the quota. */
typedef struct {
    gl_hook_body_t *body; /* NULL: the body brought no files */
    const char *rows;
    char max[24];
} hook_files_t;

/*
 * Runs a hook statement (hook_enqueue, hook_record). Without files it is
 * one statement that commits on its own. With files the store's writer
 * protocol (sql/019, sql/022) needs the rename between the rows' insert and
 * the commit: BEGIN and the statement in one round trip (it inserts the
 * rows under the org's files lock, held to the end of the transaction),
 * then the contents get their final names, then COMMIT — so gc, which asks
 * under that lock whether a row names a content, never removes one being
 * named, and a crash before the commit leaves contents no row names (gc
 * removes them) and no row without its content. A refused call (the org's
 * webhook limit: a NULL answer) is rolled back. hook_enqueue is followed
 * by q_ring once it has committed: pipelined with it when it commits on its
 * own, a statement of its own after the COMMIT otherwise (a ring that fails
 * is logged: the executors' poll finds the job). Same contract as
 * gl_db_query; *res is in the arena.
 */
static int hook_statement(gl_req_t *req, const gl_stmt_t *st, const char *const *params, hook_files_t *f,
                          PGresult **res, gl_err_t *err)
{
    bool ring = st == &q_enqueue;
    if (!f->rows)
        return ring ? gl_db_query_then(req->db, st, params, &q_ring, NULL, req->arena, res, err)
                    : gl_db_query(req->db, st, params, req->arena, res, err);
    int rc = gl_db_begin_query(req->db, st, params, req->arena, res, err);
    if (rc != GL_OK)
        return rc; /* (no transaction is left open) */
    if (PQntuples(*res) == 1 && PQgetisnull(*res, 0, 0)) {
        gl_db_rollback(req->db);
        return GL_OK;
    }
    rc = gl_hook_body_commit(f->body, err);
    if (rc == GL_OK)
        rc = gl_db_commit(req->db, err);
    if (rc != GL_OK) {
        gl_db_rollback(req->db);
        return rc;
    }
    if (ring) {
        gl_err_t e;
        gl_err_clear(&e);
        if (gl_db_query(req->db, &q_ring, NULL, req->arena, NULL, &e) != GL_OK)
            gl_log(GL_LOG_WARN, "ringing the queue after a webhook call failed: %s", e.msg);
    }
    return GL_OK;
}

/* Answers a hook statement's failure (not a stale cache entry). */
static void statement_failed(gl_req_t *req, int rc, const gl_err_t *err)
{
    if (strcmp(err->sqlstate, "GLQ01") == 0)
        gl_resp_error(req, 507, "quota_exceeded", NULL, "%s (files.max_bytes_per_org); nothing was stored",
                      err->msg);
    else
        gl_resp_fail(req, rc, err);
}

/* Hands a succeeded run without files to glyphic-events, which writes it
 * with the runs other workers hand it meanwhile (core/hook_batch.h). Its
 * outcome; UNSENT, ALONE and UNKNOWN mean: record it yourself. The run's
 * values are written straight into the message (gl_json_write). */
static gl_hb_outcome_t record_batched(gl_req_t *req, const cached_t *c, const char *id, const char *status,
                                      const char *started, json_object *item, const char *steps,
                                      const gl_run_result_t *rr)
{
    /* the worker's configuration does not change (a reload starts new workers) */
    static char path[256];
    static int known = -1; /* -1: not looked at yet; 0: no recorder */
    if (known < 0)
        known = gl_config_record_socket(req->cfg, path, sizeof path);
    if (!known)
        return GL_HB_UNSENT;
    gl_buf_t b;
    gl_buf_init(&b, GL_HOOK_BATCH_MAX_RUN);
    /* members in jsonb's order of keys (shorter first, then bytewise): the
     * database sorts each object's keys as it reads it, and an object in
     * order is one pass; pieces, not one printf: the texts run to
     * kilobytes, which printf copies slowly */
    int rc = gl_buf_puts(&b, "{\"id\":\"");
    rc |= gl_buf_puts(&b, id);
    rc |= gl_buf_puts(&b, "\",\"item\":");
    rc |= gl_json_write(&b, item);
    rc |= gl_buf_puts(&b, ",\"path\":\"");
    rc |= gl_buf_json_escape(&b, c->path, strlen(c->path));
    rc |= gl_buf_puts(&b, "\",\"error\":");
    rc |= gl_json_write(&b, rr->error);
    rc |= gl_buf_puts(&b, ",\"steps\":");
    rc |= gl_buf_puts(&b, steps);
    rc |= gl_buf_puts(&b, ",\"output\":");
    rc |= gl_json_write(&b, rr->output);
    rc |= gl_buf_puts(&b, ",\"status\":\"");
    rc |= gl_buf_puts(&b, status);
    rc |= gl_buf_puts(&b, "\",\"version\":");
    rc |= gl_buf_puts(&b, c->version_text);
    rc |= gl_buf_puts(&b, ",\"response\":");
    rc |= gl_json_write(&b, rr->response);
    rc |= gl_buf_puts(&b, ",\"started_ms\":");
    rc |= gl_buf_puts(&b, started);
    rc |= gl_buf_puts(&b, "}");
    int timeout = req->cfg->db_statement_timeout > 0 ? req->cfg->db_statement_timeout + 1000 : 60000;
    gl_hb_outcome_t o = rc == GL_OK ? gl_hb_record(path, b.data, b.len, timeout) : GL_HB_UNSENT;
    gl_buf_free(&b);
    return o;
}

/* GL_CONFLICT (no response set) when the cache entry turned out stale. */
static int run_direct(gl_req_t *req, cached_t *c, json_object *item, const char *id, hook_files_t *f)
{
    const char *version = c->version_text, *node = c->node;
    gl_steps_text_t steps;
    gl_steps_text_init(&steps);
    json_object *input = json_object_new_array();
    json_object_array_add(input, json_object_get(item));
    gl_run_t r;
    memset(&r, 0, sizeof r);
    r.definition = c->def;
    r.execution_id = id;
    r.workflow_id = c->workflow;
    r.trigger_node = node;
    r.input = input;
    int64_t started = gl_wall_ms();
    int64_t t = gl_engine_timeout_ms(c->def);
    int64_t limit = t > 0 && t < c->timeout_ms ? t : c->timeout_ms, budget = req->cfg->http_direct_budget_ms;
    r.deadline_ms = started + (limit < budget ? limit : budget); /* this worker is held that long at most */
    r.can_park = false;
    r.limits.max_items = req->cfg->executor_max_items;
    r.limits.allow_private = &req->cfg->http_allow_private;
    r.limits.allow_scripts = req->cfg->http_respond_allow_scripts;
    r.limits.max_bytes = (size_t)req->cfg->executor_max_execution_bytes;
    r.env = gl_hooks_env(req->cfg);
    r.io.record = gl_step_write_compact;
    r.io.ud = &steps;
    gl_run_result_t rr;
    gl_err_t err;
    gl_err_clear(&err);
    int rc = gl_engine_run(&r, &rr, &err);
    json_object_put(input);
    const char *steps_t = rc == GL_OK ? gl_steps_text(&steps) : NULL;
    if (rc != GL_OK || !steps_t) {
        gl_steps_text_free(&steps);
        gl_run_result_free(&rr);
        gl_resp_error(req, 500, "workflow_invalid", NULL, "the workflow cannot run: %s",
                      rc != GL_OK ? err.msg : "out of memory");
        return GL_OK;
    }
    const char *status = gl_run_status_name(rr.status);
    char started_s[24];
    snprintf(started_s, sizeof started_s, "%lld", (long long)started);
    gl_hb_outcome_t hb = GL_HB_UNSENT;
    if (!f->rows && rr.status == GL_RUN_SUCCEEDED)
        hb = record_batched(req, c, id, status, started_s, item, steps_t, &rr);
    bool was_stale = hb == GL_HB_CHANGED, refused = hb == GL_HB_LIMITED;
    rc = GL_OK;
    if (hb != GL_HB_RECORDED && hb != GL_HB_CHANGED && hb != GL_HB_LIMITED) {
        /* each text is rendered into its object's own buffer: copy before the next */
        char *item_t = gl_arena_strdup(req->arena, text(item));
        char *out_t = rr.output ? gl_arena_strdup(req->arena, text(rr.output)) : NULL;
        char *resp_t = rr.response ? gl_arena_strdup(req->arena, text(rr.response)) : NULL;
        char *err_t = rr.error ? gl_arena_strdup(req->arena, text(rr.error)) : NULL;
        const char *params[] = { c->path, version, item_t, status, steps_t, out_t, resp_t, err_t, started_s, id,
                                 f->rows, f->max };
        PGresult *res = NULL;
        rc = hook_statement(req, &q_record, params, f, &res, &err);
        if (rc != GL_OK && hb != GL_HB_UNSENT && strcmp(err.sqlstate, "23505") == 0) {
            /* the batch it was handed to was written after all: the id is taken by this very run */
            gl_log(GL_LOG_INFO, "execution %s was recorded by its batch", id);
            rc = GL_OK;
        } else {
            was_stale = stale(rc, &err);
            refused = rc == GL_OK && over_limit(res);
        }
    }
    gl_steps_text_free(&steps);
    if (was_stale)
        ; /* the caller looks the webhook up again */
    else if (rc != GL_OK)
        statement_failed(req, rc, &err);
    else if (refused)
        refused_by_database(req, c->org);
    else
        respond(req, id, status, rr.output, rr.response, rr.error);
    gl_run_result_free(&rr);
    return was_stale ? GL_CONFLICT : GL_OK;
}

/* ---- the queued paths ---- */

/* Queues the execution (async mode): 202. GL_CONFLICT (no response set)
 * when the cache entry turned out stale. */
static int run_async(gl_req_t *req, cached_t *c, json_object *item, const char *id, hook_files_t *f)
{
    const char *params[] = { c->path, c->version_text, text(item), id, NULL, f->rows, f->max };
    gl_err_t err;
    gl_err_clear(&err);
    PGresult *res = NULL;
    int rc = hook_statement(req, &q_enqueue, params, f, &res, &err);
    if (stale(rc, &err))
        return GL_CONFLICT;
    if (rc != GL_OK)
        statement_failed(req, rc, &err);
    else if (over_limit(res))
        refused_by_database(req, c->org);
    else {
        char *body = gl_arena_printf(req->arena, "{\"execution_id\":\"%s\",\"status\":\"queued\"}", id);
        gl_resp_json(req, 202, body, strlen(body));
    }
    return GL_OK;
}

/* Queues the execution and hands the call to glyphic-events, which waits
 * for its end. GL_CONFLICT (no response set) when the cache entry turned
 * out stale. */
static int run_queued(gl_req_t *req, cached_t *c, json_object *item, const char *id, hook_files_t *f)
{
    char secret[GL_TOKEN_LEN + 1], hash[GL_HASH_PARAM_LEN];
    gl_token_new(secret);
    gl_hash_param(secret, strlen(secret), hash);
    const char *params[] = { c->path, c->version_text, text(item), id, hash, f->rows, f->max };
    gl_err_t err;
    gl_err_clear(&err);
    PGresult *res = NULL;
    int rc = hook_statement(req, &q_enqueue, params, f, &res, &err);
    if (rc != GL_OK) {
        if (stale(rc, &err))
            return GL_CONFLICT;
        statement_failed(req, rc, &err);
        return GL_OK;
    }
    if (over_limit(res)) {
        refused_by_database(req, c->org);
        return GL_OK;
    }
    /* committed (webhooks run outside a transaction) before nginx follows
     * the redirect to glyphic-events, which reads it */
    gl_resp_header(req, "X-Accel-Redirect",
                   gl_arena_printf(req->arena, "/_glyphic/wait/%s?secret=%s&timeout_ms=%lld", id, secret,
                                   (long long)c->timeout_ms));
    /* a type without a charset: nginx keeps this answer's charset through
     * the redirects, and would add it to a file glyphic-events answers with */
    req->content_type = "application/octet-stream";
    gl_resp_json(req, 200, "{}", 2);
    return GL_OK;
}

/* A body with files (multipart or binary), read now that the webhook is
 * known: its signature header checked first (a bad one refuses the call
 * before a byte is stored), then the body streamed into the store with
 * every byte signed, then the signature compared — a mismatch removes
 * what was stored. GL_OK with *hb; else the answer is set. */
/* Refuses (507, nothing read) a body with files the org's quota could not
 * take, before it is streamed to disk: GL_OK when there is room (or no
 * quota), else the answer is set. */
static int room_for_body(gl_req_t *req, const char *path)
{
    const char *cl = gl_req_env(req, "CONTENT_LENGTH");
    int64_t len = 0, quota = req->cfg->files_max_bytes_per_org;
    if (quota <= 0 || !cl || gl_parse_i64(cl, 0, INT64_MAX, &len) != GL_OK)
        return GL_OK;
    char len_s[24], max_s[24];
    snprintf(len_s, sizeof len_s, "%lld", (long long)len);
    snprintf(max_s, sizeof max_s, "%lld", (long long)quota);
    const char *params[] = { path, len_s, max_s };
    PGresult *res = NULL;
    gl_err_t err;
    gl_err_clear(&err);
    int rc = gl_db_query(req->db, &q_room, params, req->arena, &res, &err);
    if (rc != GL_OK) {
        gl_resp_fail(req, rc, &err);
        return rc;
    }
    if (PQntuples(res) == 0)
        return GL_OK;
    gl_resp_error(req, 507, "quota_exceeded", NULL,
                  "the org's files would pass its quota of %lld bytes (files.max_bytes_per_org): it stores %s bytes, "
                  "and this call brings %lld more; nothing was stored", (long long)quota, PQgetvalue(res, 0, 0),
                  (long long)len);
    return GL_TOO_LARGE;
}

static int read_files(gl_req_t *req, cached_t *c, const char *path, gl_hook_body_kind_t kind, gl_hook_body_t **hb)
{
    gl_sig_stream_t st;
    char why[400];
    gl_sig_result_t sr = gl_hook_sig_begin(req, &c->sig, &st, why, sizeof why);
    if (sr != GL_SIG_OK) {
        gl_hook_sig_refuse(req, &c->sig, path, sr, why);
        return GL_INVALID;
    }
    if (room_for_body(req, path) != GL_OK) {
        gl_sig_stream_wipe(&st);
        return GL_INVALID;
    }
    bool sign = c->sig.scheme != GL_SIG_NONE;
    int rc = gl_hook_body_read(req, kind, c->org, sign ? &st : NULL, hb);
    if (rc != GL_OK) {
        gl_sig_stream_wipe(&st);
        return rc;
    }
    if (sign && (sr = gl_sig_stream_final(&st)) != GL_SIG_OK) {
        gl_hook_body_abort(*hb);
        *hb = NULL;
        gl_hook_sig_refuse(req, &c->sig, path, sr, "");
        return GL_INVALID;
    }
    return GL_OK;
}

/* Looks the webhook at p up (known: the entry cached for it, or NULL).
 * The entry, or NULL with the answer set. */
static cached_t *look_up(gl_req_t *req, const char *p, cached_t *known)
{
    char known_ver[16] = "";
    if (known)
        snprintf(known_ver, sizeof known_ver, "%d", known->version);
    const char *fp[] = { p, known ? known->workflow : NULL, known ? known_ver : NULL };
    gl_err_t err;
    gl_err_clear(&err);
    PGresult *res = NULL;
    int rc = gl_db_query(req->db, &q_find, fp, req->arena, &res, &err);
    if (rc != GL_OK) {
        gl_resp_fail(req, rc, &err);
        return NULL;
    }
    if (PQntuples(res) != 1) {
        /* gone: forget it, or every call would run the old definition
         * before finding out */
        cache_drop(known);
        gl_resp_error(req, 404, "not_found", NULL, "no active webhook at /hooks/%s", p);
        return NULL;
    }
    json_object *def = known ? known->def : NULL;
    if (!PQgetisnull(res, 0, 7))
        def = json_tokener_parse(PQgetvalue(res, 0, 7));
    if (!def) {
        cache_drop(known);
        gl_resp_error(req, 500, "internal", NULL, "the workflow's definition is unreadable");
        return NULL;
    }
    return cache_put(p, res, def);
}

void gl_hooks_handle(gl_req_t *req)
{
    const char *path = req->path + 7; /* after "/hooks/" */
    size_t plen = req->path_len - 7;
    if (!path_ok(path, plen)) {
        gl_resp_error(req, 404, "not_found", NULL, "no active webhook at this path");
        return;
    }
    char *p = gl_arena_strndup(req->arena, path, plen);
    json_object *item = NULL;
    char id[GL_UUID_LEN + 1];
    gl_uuid_v7(id);
    /* a body with files streams into the store once the webhook is known
     * (gl_req_read_body has not read it: worker.c) */
    gl_hook_body_kind_t kind = gl_hook_body_kind(req);
    hook_files_t files = { 0 };
    snprintf(files.max, sizeof files.max, "%lld", (long long)req->cfg->files_max_bytes_per_org);
    bool files_signed = false;
    /* A hot webhook costs one round trip: the worker trusts what it cached
     * for the path, and the statement that records or queues the execution
     * checks the webhook row still is that version (else 40001: look it up
     * again and go once more). */
    cached_t *c = cache_by_path(p);
    for (int round = 0; round < 2; round++) {
        bool looked_up = false;
        /* a body with files can be read and signed only once: a signed
         * webhook's key is looked up fresh before it is */
        bool fresh_key = kind != GL_HOOK_BODY_BUFFERED && !files.body && c && c->sig.scheme != GL_SIG_NONE;
        if (!c || round == 1 || gl_hook_sig_expired(&c->sig) || fresh_key) {
            if (!(c = look_up(req, p, c)))
                break;
            looked_up = true;
        }
        const char *want = req->head ? "GET" : req->method;
        if (strcmp(c->method, "ANY") != 0 && strcmp(c->method, want) != 0) {
            if (!looked_up)
                continue; /* the cached method may be stale: ask the database */
            gl_resp_header(req, "Allow", c->method);
            gl_resp_error(req, 405, "method_not_allowed", NULL, "this webhook accepts %s", c->method);
            break;
        }
        int64_t until = limited_until(c->org);
        if (kind != GL_HOOK_BODY_BUFFERED) {
            if (!files.body) {
                if (until) { /* refused before a byte is stored */
                    refuse(req, until);
                    break;
                }
                if (read_files(req, c, p, kind, &files.body) != GL_OK)
                    break;
                files.rows = gl_hook_body_rows(files.body);
                files_signed = c->sig.scheme != GL_SIG_NONE;
            } else if (c->sig.scheme != GL_SIG_NONE && !files_signed) {
                /* it turned signed since the body was read unsigned */
                gl_resp_error(req, 409, "conflict", NULL, "the webhook changed while it was called; call it again");
                break;
            }
        } else if (c->sig.scheme != GL_SIG_NONE) {
            char why[400];
            gl_sig_result_t sr = gl_hook_sig_verify(req, &c->sig, why, sizeof why);
            if (sr != GL_SIG_OK && !looked_up)
                continue; /* the cached check may be stale: ask the database */
            if (sr != GL_SIG_OK) {
                gl_hook_sig_refuse(req, &c->sig, p, sr, why);
                break;
            }
        }
        if (until) {
            refuse(req, until);
            break;
        }
        if (!item && !(item = gl_hooks_item(req, p, files.body)))
            break; /* it answered 400 */
        int rc;
        if (!c->sync)
            rc = run_async(req, c, item, id, &files);
        else if (c->direct)
            rc = run_direct(req, c, item, id, &files);
        else
            rc = run_queued(req, c, item, id, &files);
        if (rc != GL_CONFLICT)
            break;
        if (looked_up) {
            gl_resp_error(req, 409, "conflict", NULL, "the webhook changed while it was called; call it again");
            break;
        }
    }
    /* what was stored and not committed goes before the answer does */
    gl_hook_body_abort(files.body);
    json_object_put(item);
}
