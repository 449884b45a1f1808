/*
 * workflow_job.c: the `workflow.run` job kind — one execution taken up by the
 * executor: load it (with the steps recorded so far), run the engine with
 * its steps recorded, then finish or park it.
 *
 * Round trips per execution: one to load, one to finish, and one before
 * each node with side effects (HTTP, waits, subworkflows, files) that
 * follows anything but the trigger: steps are held in memory and written
 * together — before such a node starts when a step other than the
 * trigger's is among them (a call that ended is not made again, and a
 * decision that led to this node, which may read $now or randomItem, is
 * not taken differently on resume), when COLLECT_MAX are held, and with the
 * end. The trigger's step is its run's input passed on: a resumed run
 * computes it again, the same. A watched execution (live progress), and a
 * failed attempt when a step of a node with side effects is among them (a
 * backoff may follow), are written at once; a run that aborts (lease lost,
 * the end not recorded) tries once to write them before it gives up. No
 * transaction stays open while a node works (each write is one autocommit
 * statement). A failure to record aborts the run and the job is retried:
 * the execution resumes from its last recorded step.
 *
 * One runner per execution: every statement that writes the run carries
 * the job's fencing token (job id, attempt, owner) and PostgreSQL refuses
 * it (SQLSTATE GLF01) once the job no longer holds its lease; exec_load
 * answers {"busy": true} while another live job runs the execution, and
 * this job is then dropped (see sql/006_exactly_once.sql).
 */
#include "workflow_job.h"

#include "buf.h"
#include "credentials.h"
#include "engine.h"
#include "files.h"
#include "json.h"
#include "log.h"
#include "metrics.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct {
    gl_job_ctx_t *job;
    const char *execution_id;
    const char *org_id;
    int watchers;
    int64_t last_beat_ms;  /* when the job's lease was last renewed */
    json_object *collected; /* quick workflows: steps not yet written */
    json_object *held;      /* other workflows: steps not yet written (io_hold) */
    bool held_effect;       /* one of them is of a node with side effects */
    bool held_decisive;     /* one of them is not a trigger's: written before a node with side effects */
    gl_cred_source_t creds; /* the execution's credential store, shared with its subworkflows */
    gl_exec_files_t files;  /* the execution's file source (each subworkflow has its own: its files are its own) */
    json_object **vars;     /* $vars: the org's variables, loaded when a definition first uses them
                               (shared with its subworkflows; the top run owns it) */
    bool fresh;             /* a batch's run of an execution not taken up: it writes nothing */
    bool overflow;          /* fresh, and more steps than COLLECT_MAX: to be run alone */
} run_io_t;

/* A quick workflow's steps are collected up to this many; past it (a long
 * loop) they are written and each further step is recorded as it ends, so
 * the lease is renewed, cancel is seen and no one statement grows huge. */
#define COLLECT_MAX 32

static const gl_stmt_t q_load = {
    .name = "exec_load", .sql = "SELECT glyphic.exec_load($1::uuid, $2::bigint, $3::int, $4)::text", .nparams = 4,
    .rows = true,
};
static const gl_stmt_t q_step = {
    .name = "exec_step",
    .sql = "SELECT cancel_requested, watchers FROM glyphic.exec_step($1::uuid, $2::int, $3, $4::int, $5::int, $6, "
           "$7::jsonb, $8::jsonb, $9::jsonb, $10::jsonb, $11::bigint, $12::bigint, $13::bigint, $14::int, $15)",
    .nparams = 15, .rows = true,
};
static const gl_stmt_t q_finish = {
    .name = "exec_finish",
    .sql = "SELECT glyphic.exec_finish($1::uuid, $2, $3::jsonb, $4::jsonb, $5::jsonb, "
           "CASE WHEN $6::bigint IS NULL THEN NULL ELSE to_timestamp($6::bigint / 1000.0) END, $7::jsonb, "
           "$8::bigint, $9::int, $10)",
    .nparams = 10, .rows = true,
};
/* after exec_finish's commit, in a transaction of its own: the end's
 * NOTIFY, when somebody listens, holds no lock through a flush (sql/041) */
static const gl_stmt_t q_announce = {
    .name = "exec_announce", .sql = "SELECT glyphic.exec_announce($1::uuid)", .nparams = 1, .rows = true,
};
static const gl_stmt_t q_vars = {
    .name = "exec_vars",
    .sql = "SELECT coalesce(json_object_agg(v.key, v.value), '{}')::text FROM glyphic.variables v "
           "WHERE v.org_id = $1::uuid",
    .nparams = 1, .rows = true, .readonly = true,
};
static const gl_stmt_t q_notify = {
    .name = "exec_notify", .sql = "SELECT pg_notify('gx_' || $1, $2)", .nparams = 2, .rows = true,
};
static const gl_stmt_t q_child = {
    .name = "exec_child",
    .sql = "SELECT glyphic.exec_start(w.org_id, w.id, w.current_version, NULL, 'subworkflow', NULL, $3::jsonb, "
           "$4::uuid, NULL, 'running'), w.name, v.definition::text "
           "FROM glyphic.workflows w CROSS JOIN LATERAL (SELECT v.definition FROM glyphic.workflow_versions v "
           "WHERE v.workflow_id = w.id AND v.version = w.current_version OFFSET 0) v "
           "WHERE w.id = $1::uuid AND w.org_id = $2::uuid AND w.deleted_at IS NULL "
           "AND glyphic.wf_readable_by(w.id, glyphic.exec_starter($4::uuid))",
    .nparams = 4, .rows = true,
};

/* The job's fencing token as statement parameters. */
typedef struct {
    char id[24], attempt[16];
    const char *owner;
} fence_t;

static void fence_of(const gl_job_ctx_t *job, fence_t *f)
{
    snprintf(f->id, sizeof f->id, "%lld", (long long)job->job->id);
    snprintf(f->attempt, sizeof f->attempt, "%d", job->job->attempts);
    f->owner = job->owner;
}

/* A write refused because the job lost its lease (GLF01). */
static bool fenced_out(const gl_err_t *err)
{
    return strcmp(err->sqlstate, "GLF01") == 0;
}

static const char *json_text(json_object *v)
{
    return v ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN) : NULL;
}

/* Runs a fenced statement that writes steps and answers (cancel_requested,
 * watchers): *cancel and io->watchers from its row. */
static int write_steps(run_io_t *io, const gl_stmt_t *stmt, const char *const *params, bool *cancel,
                       gl_err_t *err)
{
    PGresult *res = NULL;
    int rc = gl_db_query(io->job->db, stmt, params, NULL, &res, err);
    if (rc != GL_OK) {
        if (fenced_out(err))
            gl_err_set(err, "lost the job's lease: another runner may have the execution");
        return rc;
    }
    *cancel = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    io->watchers = (int)gl_db_int(res, 0, 1);
    PQclear(res);
    return GL_OK;
}

/* Many quick steps add up: keeps the lease, or another executor would
 * rescue the job and run the execution too. The lease may be half spent
 * when the job starts (it was claimed with its batch): renewed after a
 * quarter of it. */
static int keep_lease(run_io_t *io, gl_err_t *err)
{
    int64_t now = gl_wall_ms();
    if (now - io->last_beat_ms <= (int64_t)io->job->lease_s * 250)
        return GL_OK;
    if (gl_job_heartbeat(io->job) != GL_OK) {
        gl_err_set(err, "lost the job's lease");
        return GL_ERR;
    }
    io->last_beat_ms = now;
    return GL_OK;
}

static int io_record(void *ud, const gl_step_t *s, bool *cancel, gl_err_t *err)
{
    run_io_t *io = ud;
    gl_exec_metrics_step(s->node_type, s->finished_ms - s->started_ms);
    char seq[16], ri[16], att[16], st[24], fin[24];
    snprintf(seq, sizeof seq, "%d", s->seq);
    snprintf(ri, sizeof ri, "%d", s->run_index);
    snprintf(att, sizeof att, "%d", s->attempt);
    snprintf(st, sizeof st, "%lld", (long long)s->started_ms);
    snprintf(fin, sizeof fin, "%lld", (long long)s->finished_ms);
    /* json-c renders into each object's own buffer: copy each before the next */
    char *input = s->input ? strdup(json_text(s->input)) : NULL;
    char *output = s->output ? strdup(json_text(s->output)) : NULL;
    char *state = s->state ? strdup(json_text(s->state)) : NULL;
    char *error = s->error ? strdup(json_text(s->error)) : NULL;
    fence_t f;
    fence_of(io->job, &f);
    const char *params[] = { io->execution_id, seq, s->node_id, ri, att, s->status, input, output, state, error,
                             st, fin, f.id, f.attempt, f.owner };
    int rc = write_steps(io, &q_step, params, cancel, err);
    free(input);
    free(output);
    free(state);
    free(error);
    return rc == GL_OK ? keep_lease(io, err) : rc;
}

static const gl_stmt_t q_insert_steps = {
    .name = "exec_insert_steps",
    .sql = "SELECT glyphic.exec_insert_steps_fenced($1::uuid, $2::uuid, $3::jsonb, $4::bigint, $5::int, $6)",
    .nparams = 6, .rows = true,
};

static int io_collect(void *ud, const gl_step_t *s, bool *cancel, gl_err_t *err)
{
    run_io_t *io = ud;
    if (io->collected && json_object_array_length(io->collected) < COLLECT_MAX) {
        gl_exec_metrics_step(s->node_type, s->finished_ms - s->started_ms);
        return gl_step_collect(io->collected, s, cancel, err);
    }
    if (io->collected && io->fresh) {
        /* not taken up, so it may not record steps on its way: it is run
         * again alone, which does */
        io->overflow = true;
        gl_err_set(err, "more steps than a batched run collects");
        return GL_ERR;
    }
    if (io->collected) {
        fence_t f;
        fence_of(io->job, &f);
        const char *params[] = { io->execution_id, io->org_id, json_text(io->collected), f.id, f.attempt, f.owner };
        PGresult *res = NULL;
        int rc = gl_db_query(io->job->db, &q_insert_steps, params, NULL, &res, err);
        if (rc != GL_OK)
            return rc;
        PQclear(res);
        json_object_put(io->collected);
        io->collected = NULL;
    }
    return io_record(ud, s, cancel, err);
}

static const gl_stmt_t q_held = {
    .name = "exec_held",
    .sql = "SELECT coalesce(e.cancel_requested, true), coalesce(e.watchers, 0), "
           "CASE WHEN e.watchers > 0 THEN pg_notify('gx_' || $1, 'steps') IS NULL END " /* a stream reads them */
           "FROM (SELECT glyphic.exec_insert_steps_fenced($1::uuid, $2::uuid, $3::jsonb, $4::bigint, $5::int, $6)) w "
           "LEFT JOIN glyphic.executions e ON e.id = $1::uuid",
    .nparams = 6, .rows = true,
};

/* Writes the held steps in one statement (fenced), and learns whether the
 * execution is to stop and who watches it (a stream that began watching
 * since the last write is told, as exec_step tells it). */
static int write_held(run_io_t *io, bool *cancel, gl_err_t *err)
{
    if (!io->held || json_object_array_length(io->held) == 0)
        return GL_OK;
    fence_t f;
    fence_of(io->job, &f);
    const char *params[] = { io->execution_id, io->org_id, json_text(io->held), f.id, f.attempt, f.owner };
    int rc = write_steps(io, &q_held, params, cancel, err);
    if (rc != GL_OK)
        return rc;
    json_object_put(io->held);
    io->held = NULL;
    io->held_effect = false;
    io->held_decisive = false;
    return GL_OK;
}

/* record for a workflow that is not quick (see the file comment): the
 * step is held, and written with the others when it must be. */
static int io_hold(void *ud, const gl_step_t *s, bool *cancel, gl_err_t *err)
{
    run_io_t *io = ud;
    *cancel = false;
    bool now = io->watchers > 0 || (strcmp(s->status, "succeeded") != 0 && (s->effect || io->held_effect));
    if (now && !io->held)
        return io_record(ud, s, cancel, err);
    gl_exec_metrics_step(s->node_type, s->finished_ms - s->started_ms);
    if (!io->held)
        io->held = json_object_new_array();
    json_object_array_add(io->held, gl_step_json(s));
    io->held_effect |= s->effect;
    io->held_decisive |= !s->trigger;
    if (now || json_object_array_length(io->held) >= COLLECT_MAX) {
        int rc = write_held(io, cancel, err);
        if (rc != GL_OK)
            return rc;
    }
    return keep_lease(io, err);
}

/* A node with side effects is about to start: what ran before it, but the
 * trigger, must be durable first. */
static int io_before_effect(void *ud, bool *cancel, gl_err_t *err)
{
    run_io_t *io = ud;
    *cancel = false;
    return io->held_decisive ? write_held(io, cancel, err) : GL_OK;
}

static void io_begin(void *ud, const gl_step_t *s)
{
    run_io_t *io = ud;
    if (io->watchers <= 0)
        return;
    char msg[160];
    snprintf(msg, sizeof msg, "start %d %.100s %d", s->run_index, s->node_id, s->attempt);
    const char *params[] = { io->execution_id, msg };
    gl_err_t err;
    PGresult *res = NULL;
    if (gl_db_query(io->job->db, &q_notify, params, NULL, &res, &err) == GL_OK)
        PQclear(res);
}

static int io_heartbeat(void *ud)
{
    run_io_t *io = ud;
    io->last_beat_ms = gl_wall_ms();
    return gl_job_heartbeat(io->job);
}

/* Finishes or parks the execution; steps: those collected in memory, or NULL. */
static int finish(gl_job_ctx_t *job, const char *id, const char *status, json_object *output,
                  json_object *response, json_object *error, int64_t wait_until, json_object *steps, gl_err_t *err)
{
    char wu[24];
    snprintf(wu, sizeof wu, "%lld", (long long)wait_until);
    char *o = output ? strdup(json_text(output)) : NULL;
    char *r = response ? strdup(json_text(response)) : NULL;
    char *e = error ? strdup(json_text(error)) : NULL;
    char *st = steps ? strdup(json_text(steps)) : NULL;
    fence_t f;
    fence_of(job, &f);
    const char *params[] = { id, status, o, r, e, wait_until ? wu : NULL, st, f.id, f.attempt, f.owner };
    PGresult *res = NULL;
    const char *announce[] = { id };
    int rc = gl_db_query_then(job->db, &q_finish, params, &q_announce, announce, NULL, &res, err);
    free(o);
    free(r);
    free(e);
    free(st);
    if (rc == GL_OK) {
        if (strcmp(PQgetvalue(res, 0, 0), "t") != 0)
            gl_log(GL_LOG_WARN, "execution %s had already ended (canceled, reaped or deleted): its %s is dropped",
                   id, status);
        PQclear(res);
    }
    return rc;
}

/* $env: one per thread (json-c counts references without atomics, and
 * every run takes references to it), freed with its thread. */
static pthread_key_t env_key;
static pthread_once_t env_once = PTHREAD_ONCE_INIT;

static void env_free(void *env)
{
    json_object_put(env);
}

static void env_key_make(void)
{
    if (pthread_key_create(&env_key, env_free) != 0)
        abort(); /* only when the process is out of keys, at its first run */
}

static json_object *env_object(void)
{
    pthread_once(&env_once, env_key_make);
    json_object *env = pthread_getspecific(env_key);
    if (!env) {
        env = gl_engine_env(gl_workflow_job_env_allow);
        (void)pthread_setspecific(env_key, env);
    }
    return env;
}

const char *gl_workflow_job_env_allow;
gl_engine_limits_t gl_workflow_job_limits;
const gl_vault_t *gl_workflow_job_vault;
gl_exec_files_cfg_t gl_workflow_job_files;

static int io_subworkflow(void *ud, const char *workflow_id, json_object *items, int depth, json_object **out,
                          gl_err_t *err);

/* The org's variables into *io->vars when def uses them and they are not
 * loaded yet (once per execution). */
static int load_vars(run_io_t *io, json_object *def, gl_err_t *err)
{
    if (*io->vars || !gl_engine_uses_vars(def))
        return GL_OK;
    const char *params[] = { io->org_id };
    PGresult *res = NULL;
    int rc = gl_db_query(io->job->db, &q_vars, params, NULL, &res, err);
    if (rc != GL_OK)
        return rc;
    *io->vars = json_tokener_parse(PQgetvalue(res, 0, 0));
    PQclear(res);
    if (!*io->vars) {
        gl_err_set(err, "the org's variables cannot be read");
        return GL_ERR;
    }
    return GL_OK;
}

static void fill_run(gl_run_t *r, run_io_t *io, json_object *def)
{
    r->definition = def;
    r->env = env_object();
    r->limits = gl_workflow_job_limits;
    int64_t t = gl_engine_timeout_ms(def);
    r->deadline_ms = t > 0 ? gl_wall_ms() + t : 0;
    r->io.record = io_record;
    r->io.begin = io_begin;
    r->io.heartbeat = io_heartbeat;
    r->io.subworkflow = io_subworkflow;
    r->io.ud = io;
    r->creds = io->creds;
    r->files = gl_exec_files_source(&io->files, io->job, &gl_workflow_job_files, io->org_id, io->execution_id);
    r->vars = *io->vars;
}

/* A child execution, run here and now within the parent's job. */
static int io_subworkflow(void *ud, const char *workflow_id, json_object *items, int depth, json_object **out,
                          gl_err_t *err)
{
    run_io_t *parent = ud;
    *out = NULL;
    if (!gl_is_uuid(workflow_id)) {
        gl_err_set(err, "'%.40s' is not a workflow id", workflow_id);
        return GL_INVALID;
    }
    char *input = strdup(json_text(items));
    const char *params[] = { workflow_id, parent->org_id, input, parent->execution_id };
    PGresult *res = NULL;
    int rc = gl_db_query(parent->job->db, &q_child, params, NULL, &res, err);
    free(input);
    if (rc != GL_OK)
        return rc;
    if (PQntuples(res) != 1) {
        PQclear(res);
        /* missing, in the trash, of another org, or one the user the
         * parent runs for could not read: the same answer as a GET */
        gl_err_set(err, "workflow not found");
        return GL_NOTFOUND;
    }
    char child_id[40];
    snprintf(child_id, sizeof child_id, "%s", PQgetvalue(res, 0, 0));
    json_object *def = json_tokener_parse(PQgetvalue(res, 0, 2));
    char *name = strdup(PQgetvalue(res, 0, 1));
    PQclear(res);
    run_io_t io = { .job = parent->job, .execution_id = child_id, .org_id = parent->org_id,
                    .last_beat_ms = parent->last_beat_ms, .creds = parent->creds, .vars = parent->vars };
    if (def && (rc = load_vars(&io, def, err)) != GL_OK) {
        /* the child's row exists: end it as failed (when the database
         * answers; otherwise the maintainer reaps it) */
        json_object *e = json_object_new_object();
        json_object_object_add(e, "message", json_object_new_string("loading the org's variables failed"));
        gl_err_t ferr;
        gl_err_clear(&ferr);
        (void)finish(parent->job, child_id, "failed", NULL, NULL, e, 0, NULL, &ferr);
        json_object_put(e);
        json_object_put(def);
        free(name);
        return rc;
    }
    gl_run_t r;
    memset(&r, 0, sizeof r);
    fill_run(&r, &io, def);
    r.execution_id = child_id;
    r.workflow_id = workflow_id;
    r.workflow_name = name;
    r.input = items;
    r.depth = depth;
    r.can_park = false; /* a child's waits are slept: the parent holds the job */
    gl_run_result_t rr;
    gl_err_t eerr;
    gl_err_clear(&eerr);
    rc = def ? gl_engine_run(&r, &rr, &eerr) : GL_INVALID;
    if (rc != GL_OK) {
        json_object *e = json_object_new_object();
        json_object_object_add(e, "message", json_object_new_string(def ? eerr.msg : "the definition is unreadable"));
        if (finish(parent->job, child_id, "failed", NULL, NULL, e, 0, NULL, err) == GL_OK) {
            gl_exec_metrics_execution("failed", "subworkflow");
            gl_err_set(err, "%s", def ? eerr.msg : "the definition is unreadable");
        }
        json_object_put(e);
        json_object_put(def);
        free(name);
        return GL_INVALID;
    }
    const char *st = rr.status == GL_RUN_ABORTED ? NULL : gl_run_status_name(rr.status);
    if (st)
        rc = finish(parent->job, child_id, st, rr.output, rr.response, rr.error, 0, NULL, err);
    if (st && rc == GL_OK)
        gl_exec_metrics_execution(st, "subworkflow");
    if (rr.status == GL_RUN_SUCCEEDED && rc == GL_OK) {
        *out = json_object_get(rr.output);
    } else if (rc == GL_OK) {
        json_object *m = NULL;
        if (rr.error)
            json_object_object_get_ex(rr.error, "message", &m);
        gl_err_set(err, "the subworkflow %s%s%.200s", st ? st : "was interrupted", m ? ": " : "",
                   m ? json_object_get_string(m) : "");
        rc = rr.status == GL_RUN_ABORTED ? GL_ERR : GL_INVALID;
    }
    gl_run_result_free(&rr);
    json_object_put(def);
    free(name);
    return rc;
}

static const char *str_of(json_object *o, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
               ? json_object_get_string(v)
               : NULL;
}

/* Loads the execution named by the job's payload into *x (a new object the
 * caller puts) and its id into eid. GL_JOB_OK with *x NULL when there is
 * nothing to run (finished, canceled, deleted, or run by another live job);
 * anything else but GL_JOB_OK is the job's outcome, with ctx->error set. */
static gl_job_result_t load_execution(gl_job_ctx_t *ctx, char eid[40], json_object **x)
{
    *x = NULL;
    json_object *payload = json_tokener_parse(ctx->job->payload);
    const char *id = payload ? str_of(payload, "execution_id") : NULL;
    if (!id || !gl_is_uuid(id)) {
        json_object_put(payload);
        snprintf(ctx->error, sizeof ctx->error, "workflow.run: the payload names no execution");
        return GL_JOB_FATAL;
    }
    snprintf(eid, 40, "%s", id);
    json_object_put(payload);

    gl_err_t err;
    gl_err_clear(&err);
    fence_t f;
    fence_of(ctx, &f);
    const char *params[] = { eid, f.id, f.attempt, f.owner };
    PGresult *res = NULL;
    if (gl_db_query(ctx->db, &q_load, params, NULL, &res, &err) != GL_OK) {
        snprintf(ctx->error, sizeof ctx->error, "workflow.run %s: loading failed: %s", eid, err.msg);
        return GL_JOB_RETRY;
    }
    if (PQgetisnull(res, 0, 0)) {
        PQclear(res);
        return GL_JOB_OK; /* finished, canceled or deleted meanwhile */
    }
    json_tokener *tok = json_tokener_new_ex(256);
    json_object *loaded = json_tokener_parse_ex(tok, PQgetvalue(res, 0, 0), PQgetlength(res, 0, 0));
    json_tokener_free(tok);
    PQclear(res);
    json_object *busy = NULL, *def = NULL, *steps = NULL;
    if (loaded && json_object_object_get_ex(loaded, "busy", &busy)) {
        /* another live job runs it: that one finishes or parks it, and its
         * own job comes back if its worker dies — this one has no work */
        json_object *runner = NULL;
        json_object_object_get_ex(loaded, "runner", &runner);
        gl_log(GL_LOG_INFO, "execution %s is being run by job %lld; this job is dropped", eid,
               (long long)json_object_get_int64(runner));
        json_object_put(loaded);
        return GL_JOB_OK;
    }
    if (!loaded || !json_object_object_get_ex(loaded, "definition", &def) ||
        !json_object_object_get_ex(loaded, "steps", &steps)) {
        json_object_put(loaded);
        snprintf(ctx->error, sizeof ctx->error, "workflow.run %s: unreadable execution", eid);
        return GL_JOB_FATAL;
    }
    *x = loaded;
    return GL_JOB_OK;
}

/* Records how the engine's run ended (finish), or asks for a retry when
 * it aborted; rc_run is gl_engine_run's return. */
static gl_job_result_t record_end(gl_job_ctx_t *ctx, const char *eid, int rc_run, gl_run_result_t *rr,
                                  const gl_err_t *eerr, json_object *collected)
{
    gl_err_t err;
    gl_err_clear(&err);
    gl_job_result_t out = GL_JOB_OK;
    int rc = GL_OK;
    if (rc_run != GL_OK) {
        json_object *e = json_object_new_object();
        json_object_object_add(e, "message", json_object_new_string(eerr->msg));
        rc = finish(ctx, eid, "failed", NULL, NULL, e, 0, NULL, &err);
        json_object_put(e);
    } else if (rr->status == GL_RUN_ABORTED) {
        snprintf(ctx->error, sizeof ctx->error, "workflow.run %s: %s", eid, rr->abort_msg);
        out = GL_JOB_RETRY;
    } else {
        rc = finish(ctx, eid, gl_run_status_name(rr->status), rr->output, rr->response, rr->error,
                    rr->status == GL_RUN_WAITING ? rr->wait_until_ms : 0, collected, &err);
    }
    if (rc != GL_OK) {
        snprintf(ctx->error, sizeof ctx->error, "workflow.run %s: finishing failed: %s", eid, err.msg);
        out = GL_JOB_RETRY;
    }
    return out;
}

/* A quick run that ended, as exec_finish_many takes it (see batch_finish). */
static json_object *run_record(const gl_job_ctx_t *ctx, const char *eid, const char *status, json_object *output,
                               json_object *response, json_object *error, json_object *steps, int64_t started_ms)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "job", json_object_new_int64(ctx->job->id));
    json_object_object_add(o, "attempt", json_object_new_int(ctx->job->attempts));
    json_object_object_add(o, "id", json_object_new_string(eid));
    json_object_object_add(o, "status", json_object_new_string(status));
    json_object_object_add(o, "output", json_object_get(output));
    json_object_object_add(o, "response", json_object_get(response));
    json_object_object_add(o, "error", json_object_get(error));
    json_object_object_add(o, "steps", json_object_get(steps));
    json_object_object_add(o, "started_ms", json_object_new_int64(started_ms));
    return o;
}

/* Runs the loaded execution x (the caller's). Taken up by ctx's job
 * (exec_load) when fresh is NULL: recorded here, and the job's outcome
 * returned. Otherwise x is fresh (exec_fresh_many: not taken up, a quick
 * workflow) and the run writes nothing: an end is appended to fresh
 * (run_record) and *alone is false; anything else (a wait, an abort, more
 * steps than COLLECT_MAX) sets *alone — the job is to be run alone. */
static gl_job_result_t run_loaded(gl_job_ctx_t *ctx, const char *eid, json_object *x, json_object *fresh,
                                  bool *alone)
{
    json_object *def = NULL, *steps = NULL, *input = NULL, *w = NULL;
    json_object_object_get_ex(x, "definition", &def);
    json_object_object_get_ex(x, "steps", &steps);
    json_object_object_get_ex(x, "input", &input);
    json_object *vars = NULL;
    run_io_t io = { .job = ctx, .execution_id = eid, .org_id = str_of(x, "org_id"),
                    .last_beat_ms = gl_wall_ms(), .vars = &vars, .fresh = fresh != NULL };
    if (alone)
        *alone = true;
    gl_err_t verr;
    gl_err_clear(&verr);
    if (load_vars(&io, def, &verr) != GL_OK) {
        snprintf(ctx->error, sizeof ctx->error, "workflow.run %s: loading the org's variables failed: %s", eid,
                 verr.msg);
        return GL_JOB_RETRY;
    }
    /* credentials are opened on first use and kept for the execution
     * (its arena, wiped with it) */
    gl_cred_store_t *store = gl_cred_store_new(ctx, io.org_id, gl_workflow_job_vault,
                                               gl_workflow_job_limits.allow_private);
    io.creds = gl_cred_store_source(store);
    if (json_object_object_get_ex(x, "watchers", &w))
        io.watchers = json_object_get_int(w);

    gl_run_t r;
    memset(&r, 0, sizeof r);
    fill_run(&r, &io, def);
    r.execution_id = eid;
    r.workflow_id = str_of(x, "workflow_id");
    r.workflow_name = str_of(x, "workflow_name");
    r.trigger_node = str_of(x, "trigger_node");
    r.input = input;
    r.recorded = steps;
    r.can_park = true;
    /* A quick workflow (no HTTP, waits, subworkflows or retries: nothing
     * with side effects, nothing to resume) that nobody watches: its first
     * COLLECT_MAX steps are collected and recorded with its end, in one
     * statement instead of one per step. A crash before that runs it again
     * from the start. */
    if (json_object_array_length(steps) == 0 && io.watchers == 0 && gl_engine_is_direct(def)) {
        io.collected = json_object_new_array();
        r.io.record = io_collect;
        r.io.begin = NULL;
    } else if (fresh) {
        gl_cred_store_free(store);
        json_object_put(vars);
        return GL_JOB_OK; /* not quick: alone */
    } else {
        r.io.record = io_hold;
        r.io.before_effect = io_before_effect;
    }

    gl_run_result_t rr;
    gl_err_t eerr;
    gl_err_clear(&eerr);
    int64_t started_ms = gl_wall_ms();
    int rc_run = gl_engine_run(&r, &rr, &eerr);
    gl_job_result_t out = GL_JOB_OK;
    if (fresh) {
        if (io.overflow) {
            /* alone */
        } else if (rc_run != GL_OK) {
            json_object *e = json_object_new_object();
            json_object_object_add(e, "message", json_object_new_string(eerr.msg));
            json_object_array_add(fresh, run_record(ctx, eid, "failed", NULL, NULL, e, NULL, started_ms));
            json_object_put(e);
            *alone = false;
        } else if (rr.status == GL_RUN_SUCCEEDED || rr.status == GL_RUN_FAILED || rr.status == GL_RUN_CANCELED) {
            json_object_array_add(fresh, run_record(ctx, eid, gl_run_status_name(rr.status), rr.output, rr.response,
                                                    rr.error, io.collected, started_ms));
            *alone = false;
        }
    } else {
        out = record_end(ctx, eid, rc_run, &rr, &eerr, io.collected ? io.collected : io.held);
        if (out == GL_JOB_RETRY && io.held_effect) {
            /* a call that ended is not made again if this gets through
             * (fenced: only while the job still holds its lease) */
            bool cancel = false;
            gl_err_t herr;
            gl_err_clear(&herr);
            if (write_held(&io, &cancel, &herr) != GL_OK)
                gl_log(GL_LOG_WARN, "execution %s: its last steps could not be written either (%s): they run again",
                       eid, herr.msg);
        }
        /* an execution the database took as ended (not parked, not aborted) */
        const char *ended = rc_run != GL_OK            ? "failed"
                            : rr.status == GL_RUN_WAITING ? NULL
                                                          : gl_run_status_name(rr.status);
        if (out == GL_JOB_OK && ended)
            gl_exec_metrics_execution(ended, str_of(x, "trigger"));
    }
    if (rc_run == GL_OK)
        gl_run_result_free(&rr);
    json_object_put(io.collected);
    json_object_put(io.held);
    json_object_put(vars);
    /* the job's error is logged and stored with the job: no secret in it */
    gl_cred_store_redact(store, ctx->error, sizeof ctx->error);
    gl_cred_store_free(store);
    return out;
}

gl_job_result_t gl_workflow_job_run(gl_job_ctx_t *ctx)
{
    char eid[40];
    json_object *x = NULL;
    gl_job_result_t out = load_execution(ctx, eid, &x);
    if (out != GL_JOB_OK || !x)
        return out;
    out = run_loaded(ctx, eid, x, NULL, NULL);
    json_object_put(x);
    return out;
}

/* ---- batches ---------------------------------------------------------- */

static const gl_stmt_t q_fresh_many = {
    .name = "exec_fresh_many",
    .sql = "SELECT execution_id, execution FROM glyphic.exec_fresh_many($1::uuid[])",
    .nparams = 1, .rows = true, .readonly = true,
};
static const gl_stmt_t q_finish_many = {
    .name = "exec_finish_many",
    .sql = "SELECT job_id, outcome, status FROM glyphic.exec_finish_many($1::jsonb, $2)",
    .nparams = 2, .rows = true,
};

/* A run record's string (run_record sets them all); "" when missing. */
static const char *run_str(json_object *run, const char *key)
{
    json_object *v = NULL;
    const char *s = json_object_object_get_ex(run, key, &v) ? json_object_get_string(v) : NULL;
    return s ? s : "";
}

/* Records the batch's quick runs (runs[k] is ctx[at[k]]'s; trig[k] its
 * execution's trigger) with their jobs' completion, in one statement. */
static void batch_finish(gl_job_ctx_t *ctx, json_object *runs, const int *at, char **trig, gl_job_batch_t *how,
                         gl_job_result_t *result)
{
    size_t m = json_object_array_length(runs);
    if (!m)
        return;
    const char *params[] = { json_text(runs), ctx[at[0]].owner };
    PGresult *res = NULL;
    gl_err_t err;
    gl_err_clear(&err);
    int rc = gl_db_query(ctx[at[0]].db, &q_finish_many, params, NULL, &res, &err);
    if (rc != GL_OK && rc != GL_UNAVAILABLE && rc != GL_RETRY) {
        /* refused for its data: each runs alone, as it would have */
        gl_log(GL_LOG_WARN, "recording %zu quick executions together failed: each runs alone: %s", m, err.msg);
        return;
    }
    for (size_t k = 0; k < m; k++) {
        /* not answered for: the job is no longer this worker's (or the
         * database went away): as a fenced or failed exec_finish */
        gl_job_ctx_t *c = &ctx[at[k]];
        how[at[k]] = GL_JOB_BATCH_OUTCOME;
        result[at[k]] = GL_JOB_RETRY;
        snprintf(c->error, sizeof c->error, "workflow.run %s: finishing failed: %s",
                 run_str(json_object_array_get_idx(runs, k), "id"),
                 rc == GL_OK ? "the job no longer holds its lease" : err.msg);
    }
    for (int row = 0; rc == GL_OK && row < PQntuples(res); row++) {
        int64_t job = gl_db_int(res, row, 0);
        size_t k = 0;
        while (k < m && ctx[at[k]].job->id != job)
            k++;
        if (k == m)
            continue;
        const char *outcome = PQgetvalue(res, row, 1), *status = PQgetvalue(res, row, 2);
        json_object *run = json_object_array_get_idx(runs, k);
        ctx[at[k]].error[0] = '\0';
        if (strcmp(outcome, "alone") == 0) {
            how[at[k]] = GL_JOB_BATCH_ALONE; /* taken up by another runner meanwhile: exec_load decides */
            continue;
        }
        how[at[k]] = GL_JOB_BATCH_DONE;
        if (strcmp(outcome, "done") == 0)
            gl_exec_metrics_execution(status, trig[k]);
        else
            gl_log(GL_LOG_WARN, "execution %s had already ended (canceled, reaped or deleted): its %s is dropped",
                   run_str(run, "id"), run_str(run, "status"));
    }
    if (rc == GL_OK)
        PQclear(res);
}

void gl_workflow_jobs_run_batch(gl_job_ctx_t *ctx, int n, gl_job_batch_t *how, gl_job_result_t *result)
{
    for (int i = 0; i < n; i++)
        how[i] = GL_JOB_BATCH_ALONE;
    if (n <= 0)
        return;
    /* the executions the jobs name (an unreadable payload fails alone,
     * with its message), as an array literal */
    char (*eid)[40] = gl_xcalloc((size_t)n, sizeof *eid);
    gl_buf_t ids;
    gl_buf_init(&ids, (size_t)n * 40 + 8);
    int listed = 0, brc = GL_OK;
    for (int i = 0; i < n; i++) {
        json_object *payload = json_tokener_parse(ctx[i].job->payload);
        const char *id = payload ? str_of(payload, "execution_id") : NULL;
        if (id && gl_is_uuid(id)) {
            snprintf(eid[i], sizeof eid[i], "%s", id);
            if (gl_buf_printf(&ids, "%s%s", listed++ ? "," : "{", id) != GL_OK)
                brc = GL_TOO_LARGE;
        }
        json_object_put(payload);
    }
    if (listed && gl_buf_puts(&ids, "}") != GL_OK)
        brc = GL_TOO_LARGE;
    PGresult *res = NULL;
    gl_err_t err;
    gl_err_clear(&err);
    int rc = GL_ERR;
    if (listed && brc == GL_OK) { /* (the cap fits every id) */
        const char *params[] = { ids.data };
        rc = gl_db_query(ctx[0].db, &q_fresh_many, params, NULL, &res, &err);
        if (rc != GL_OK)
            gl_log(GL_LOG_WARN, "reading %d executions together failed: each runs alone: %s", listed, err.msg);
    }
    gl_buf_free(&ids);
    if (rc != GL_OK) {
        free(eid);
        return;
    }
    int fresh = PQntuples(res);
    int *at = gl_xmalloc((size_t)(fresh ? fresh : 1) * sizeof *at);
    char **trig = gl_xcalloc((size_t)(fresh ? fresh : 1), sizeof *trig);
    json_object *runs = json_object_new_array();
    for (int row = 0; row < fresh; row++) {
        int i = 0;
        while (i < n && strcasecmp(eid[i], PQgetvalue(res, row, 0)) != 0)
            i++;
        json_object *x = i < n ? json_tokener_parse(PQgetvalue(res, row, 1)) : NULL;
        if (!x)
            continue; /* cannot happen (the function builds it): alone */
        eid[i][0] = '\0'; /* a second job naming the same execution runs alone */
        char logctx[64];
        snprintf(logctx, sizeof logctx, "job=%lld", (long long)ctx[i].job->id);
        gl_log_context(logctx);
        size_t k = json_object_array_length(runs);
        bool alone = true;
        (void)run_loaded(&ctx[i], PQgetvalue(res, row, 0), x, runs, &alone);
        if (!alone) {
            at[k] = i;
            const char *t = str_of(x, "trigger");
            trig[k] = gl_xstrdup(t ? t : "");
        }
        json_object_put(x);
    }
    PQclear(res);
    gl_log_context(NULL);
    batch_finish(ctx, runs, at, trig, how, result);
    for (size_t k = 0; k < json_object_array_length(runs); k++)
        free(trig[k]);
    json_object_put(runs);
    free(at);
    free(trig);
    free(eid);
}
