/*
 * attempt.c: one activation of a node, as a state machine.
 *
 * An activation is a node's turn with the items waiting on its inputs. It
 * first replays what an earlier run of this execution recorded for it (a
 * recorded attempt never runs again), then makes attempts until one
 * succeeds, the retries are spent, or the execution must park. Each state
 * is a small function that does one thing and names the next state; one
 * switch runs them (gl__exec_activate).
 *
 *   REPLAY ─┬─ recorded success, or failure continued on the error port ─> DELIVER
 *     ^  │  ├─ recorded final failure ───────────────────────────> end FAILED
 *     └──┘  ├─ recorded wait not over ────────────────────────────> end PARK
 *  recorded ├─ nothing more recorded, a recorded wait is over ────> WAIT_OVER ─> RECORD
 *  retry or ├─ nothing more recorded, after a failed attempt ─────> BACKOFF
 *  wait     └─ nothing recorded ──────────────────────────────────> ATTEMPT
 *   BACKOFF ─── longer than limits.inline_wait_ms and can park ──> end PARK
 *           └── slept (renewing the lease) ─> ATTEMPT    lease lost: end STOP
 *   ATTEMPT ─── canceled ─> end STOP; step limit or deadline ─> end FAILED (unrecorded)
 *           ├── a node that is not quick: io.before_effect first ─ failed ─> end STOP
 *           │   (aborted), or it says canceled ─> end STOP
 *           ├── the node failed ──────────────────────────────────> FAILED
 *           ├── the node asks to wait, can park ──> PARK_STEP ─────> RECORD
 *           ├── the node asks to wait, cannot park ─> WAIT_INLINE ─> CHECK_OUTPUT or FAILED
 *           └── the node succeeded ───────────────────────────────> CHECK_OUTPUT
 *   CHECK_OUTPUT ── items, storability, bytes within the limits ──> RECORD (succeeded)
 *                └─ otherwise (not retryable, no response) ───────> FAILED
 *   FAILED ── retryable, attempts left ─> RECORD, then RETRY ─> BACKOFF (attempt + 1)
 *          ├─ continue_on_fail ─> RECORD (error items on the error port), then DELIVER
 *          └─ otherwise ────────> RECORD (error marked final), then end FAILED
 *   RECORD ── io.record failed ─> end STOP (aborted; resumed from what was recorded)
 *          └─ the state named before it (DELIVER, RETRY, end PARK, end FAILED)
 *   DELIVER ─ node state, response, output along the edges ─> end DONE
 *
 * Memory: the rule at the top of engine.c. An attempt owns its step's
 * input, output, state and error, its node context's out[] arrays,
 * state_out and response, and the empty array for unconnected inputs;
 * attempt_release puts them all, once, when a retry starts and at the end.
 */
#include "exec_int.h"

#include "json.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

typedef enum {
    A_REPLAY,       /* the next recorded step of this activation */
    A_WAIT_OVER,    /* a recorded wait is over: the node passes its items on */
    A_BACKOFF,      /* wait out the backoff after a failed attempt */
    A_ATTEMPT,      /* run the node once */
    A_PARK_STEP,    /* the node asks to wait and the execution can park */
    A_WAIT_INLINE,  /* the node asks to wait and the execution cannot park */
    A_CHECK_OUTPUT, /* what the node hands on is within the limits and storable */
    A_FAILED,       /* retry, continue on the error port, or fail the execution */
    A_RECORD,       /* io.record the step */
    A_RETRY,        /* the next attempt */
    A_DELIVER,      /* the output goes along the edges */
    A_END
} attempt_state_t;

typedef struct {
    gl_exec_t *x;
    node_t *nd;
    json_object **in;          /* the activation's inputs (borrowed) */
    outcome_t *o;              /* what the run loop learns of the end */
    int run_index;
    int attempt;
    int64_t last_fail_ms;      /* when the previous attempt failed */
    int64_t retry_hint_ms;     /* the node's Retry-After, 0: none */
    bool resumed_wait;         /* a recorded wait of this activation is over */
    bool keep_state;           /* DELIVER sets the node's state from the step */
    attempt_state_t then;      /* where RECORD goes on success */
    step_outcome_t outcome;    /* how it ends (at A_END) */
    json_object *empty;        /* owned: the input of unconnected ports */
    gl_node_ctx_t c;           /* this attempt's node context (owned parts: see above) */
    gl_step_t s;               /* this attempt's step (owned parts: see above) */
} attempt_t;

static attempt_state_t finish(attempt_t *a, step_outcome_t outcome)
{
    a->outcome = outcome;
    return A_END;
}

/* Puts everything this attempt owns, once; the attempt counters stay. */
static void attempt_release(attempt_t *a)
{
    json_object_put(a->s.input);
    json_object_put(a->s.output);
    json_object_put(a->s.state);
    json_object_put(a->s.error);
    json_object_put(a->c.state_out);
    json_object_put(a->c.response);
    for (int i = 0; i < N_SLOTS; i++)
        json_object_put(a->c.out[i]);
    json_object_put(a->empty);
    a->empty = NULL;
    memset(&a->c, 0, sizeof a->c);
    memset(&a->s, 0, sizeof a->s);
}

/* ---- helpers ---- */

static void sleep_ms(int64_t ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* Sleeps until the wall clock reaches until, in slices that renew the
 * job's lease; GL_ERR when the lease is lost. */
static int sleep_until(const gl_run_t *run, int64_t until)
{
    while (gl_wall_ms() < until) {
        int64_t left = until - gl_wall_ms();
        sleep_ms(left > 5000 ? 5000 : left);
        if (run->io.heartbeat && run->io.heartbeat(run->io.ud) != GL_OK)
            return GL_ERR;
    }
    return GL_OK;
}

/* A new error object for nd (the caller puts it). The message is cleaned to
 * whole UTF-8 characters: one cut mid-character, or bytes from afar. */
static json_object *error_obj(const node_t *nd, const char *msg)
{
    json_object *e = json_object_new_object();
    char clean[1024];
    gl_utf8_clean(clean, sizeof clean, msg);
    json_object_object_add(e, "message", json_object_new_string(clean));
    json_object_object_add(e, "node", json_object_new_string(nd->id));
    json_object_object_add(e, "node_name", json_object_new_string(nd->name));
    json_object_object_add(e, "node_type", json_object_new_string(nd->type->type));
    return e;
}

/* What a node hands on must be storable (gl_json_unstorable): its output,
 * its state and its webhook response. Fails the node, naming the value
 * and the reason. */
static int check_storable(gl_node_ctx_t *c, json_object *output)
{
    static const char *const what[] = { "output", "state", "response" };
    json_object *v[] = { output, c->state_out, c->response };
    char where[160];
    for (size_t i = 0; i < GL_NELEM(v); i++) {
        const char *why = v[i] ? gl_json_unstorable(v[i], where, sizeof where) : NULL;
        if (why)
            return gl_node_fail(c, "the node's %s cannot be stored: %s%s%s", what[i], where[0] ? where : "",
                                where[0] ? ": " : "", why);
    }
    return GL_OK;
}

/* The step's recorded input, a new object: {"port": items} per input port,
 * "main" for a trigger (gl_engine_step_items reads its first port back). */
static json_object *input_obj(const node_t *nd, json_object *const *in)
{
    json_object *o = json_object_new_object();
    int n = nd->n_in ? nd->n_in : 1;
    for (int i = 0; i < n; i++)
        json_object_object_add(o, nd->n_in ? nd->type->inputs[i] : "main", json_object_get(in[i]));
    return o;
}

json_object *gl_engine_step_items(const char *type_id, json_object *input)
{
    const gl_node_def_t *t = gl_node_def_find(type_id ? type_id : "");
    json_object *v;
    const char *port = t && t->inputs[0] ? t->inputs[0] : "main";
    if (!input || !json_object_object_get_ex(input, port, &v) || !json_object_is_type(v, json_type_array))
        return NULL;
    return v;
}

/* counted, not rendered: a rendered text would stay in the output object
 * (json-c keeps it) until the step is freed, doubling a large output */
static size_t out_bytes(json_object *o)
{
    return gl_json_rendered_len(o);
}

static int64_t backoff_for(const node_t *nd, int attempt, int64_t hint)
{
    int64_t b = nd->backoff_ms;
    for (int i = 1; i < attempt && b < 3600000; i++)
        b *= 2;
    if (b > 3600000)
        b = 3600000;
    return hint > b ? hint : b;
}

/* The next recorded step of activation r (borrowed from run->recorded), or
 * NULL. */
static json_object *next_recorded(gl_exec_t *x, int r)
{
    if (!x->run->recorded || x->rec_pos >= x->rec_n)
        return NULL;
    json_object *s = json_object_array_get_idx(x->run->recorded, x->rec_pos);
    if (obj_int(s, "run_index", -1) != r)
        return NULL;
    x->rec_pos++;
    x->steps_total++;
    int64_t seq = obj_int(s, "seq", 0);
    if (seq > x->seq)
        x->seq = (int)seq;
    return s;
}

/* The step's fields that io.begin and io.record see first. */
static void step_begin(attempt_t *a, int64_t now)
{
    node_t *nd = a->nd;
    a->s = (gl_step_t){ .run_index = a->run_index, .node_id = nd->id, .node_name = nd->name,
                        .node_type = nd->type->type, .attempt = a->attempt, .started_ms = now,
                        .effect = !nd->disabled && !nd->type->quick,
                        .trigger = strcmp(nd->type->category, "trigger") == 0 };
}

/* The node context of one attempt: borrowed inputs (unconnected ones get
 * a.empty), new output arrays, the deadline (the execution's, or the
 * node's timeout when sooner). */
static void ctx_init(attempt_t *a, int64_t now)
{
    node_t *nd = a->nd;
    gl_node_ctx_t *c = &a->c;
    memset(c, 0, sizeof *c);
    c->exec = a->x;
    c->run = a->x->run;
    c->type = nd->type;
    c->node_id = nd->id;
    c->node_name = nd->name;
    c->node = nd->def;
    c->params = nd->params;
    c->state_in = nd->state;
    c->attempt = a->attempt;
    int nin = nd->n_in ? nd->n_in : 1;
    a->empty = json_object_new_array();
    for (int i = 0; i < GL_NODE_MAX_PORTS; i++)
        c->in[i] = i < nin && a->in[i] ? a->in[i] : a->empty;
    for (int i = 0; i < nd->n_out; i++)
        c->out[i] = json_object_new_array();
    c->out[ERROR_PORT_SLOT] = json_object_new_array();
    c->deadline_ms = c->run->deadline_ms;
    if (nd->timeout_ms > 0 && (!c->deadline_ms || now + nd->timeout_ms < c->deadline_ms))
        c->deadline_ms = now + nd->timeout_ms;
}

/* A disabled node passes its first input to its first output. */
static int pass_through(gl_node_ctx_t *c, const node_t *nd)
{
    for (size_t i = 0; nd->n_out > 0 && i < json_object_array_length(c->in[0]); i++)
        json_object_array_add(c->out[0], json_object_get(json_object_array_get_idx(c->in[0], i)));
    return GL_OK;
}

/* The error as an item on the error port, per input item (one if none): a
 * new {"error": [...]} object. */
static json_object *error_items(json_object *error, json_object *in)
{
    json_object *output = json_object_new_object();
    json_object *items = json_object_new_array();
    size_t nitems = json_object_array_length(in);
    for (size_t i = 0; i < (nitems ? nitems : 1); i++) {
        json_object *it = json_object_new_object();
        json_object_object_add(it, "error", json_object_get(error));
        if (nitems)
            json_object_object_add(it, "item", json_object_get(json_object_array_get_idx(in, i)));
        json_object_array_add(items, it);
    }
    json_object_object_add(output, GL_NODE_ERROR_PORT, items);
    return output;
}

/* After the node ran, what it hands on cannot be: no output, no response,
 * and a retry would not help. The node's error is set. */
static attempt_state_t reject_output(attempt_t *a)
{
    json_object_put(a->s.output);
    a->s.output = NULL;
    json_object_put(a->c.response); /* a failed node answers nothing */
    a->c.response = NULL;
    a->c.retryable = false;
    return A_FAILED;
}

/* ---- the states ---- */

/* A recorded output (borrowed) goes on as if the node had just made it. */
static attempt_state_t replay_output(attempt_t *a, json_object *output, json_object *state)
{
    a->s.output = json_object_get(output);
    a->s.state = json_object_get(state);
    if (state && a->nd->sets_response)
        a->c.response = json_object_get(state);
    a->x->bytes += out_bytes(output); /* the limit is the execution's */
    return A_DELIVER;
}

static attempt_state_t st_replay(attempt_t *a)
{
    json_object *rec = next_recorded(a->x, a->run_index);
    if (!rec)
        return a->resumed_wait ? A_WAIT_OVER : a->attempt > 1 ? A_BACKOFF : A_ATTEMPT;
    const char *st = obj_str(rec, "status");
    json_object *out = NULL, *state = NULL, *error = NULL;
    json_object_object_get_ex(rec, "output", &out);
    json_object_object_get_ex(rec, "state", &state);
    json_object_object_get_ex(rec, "error", &error);
    bool failed = st && strcmp(st, "failed") == 0;
    if (st && strcmp(st, "succeeded") == 0)
        return replay_output(a, out, state);
    if (failed && out && json_object_is_type(out, json_type_object))
        return replay_output(a, out, NULL); /* it failed and continued on its error port */
    if (failed && obj_bool(error, "final")) {
        a->o->error = json_object_get(error); /* the attempt that failed the execution */
        return finish(a, STEP_FAILED);
    }
    if (st && strcmp(st, "waiting") == 0) {
        int64_t until = obj_int(state, "until", 0);
        if (gl_wall_ms() < until) {
            a->o->wait_until = until;
            return finish(a, STEP_PARK);
        }
        a->attempt = (int)obj_int(rec, "attempt", 1);
        a->resumed_wait = true;
        return A_REPLAY;
    }
    /* a failed attempt that was retried */
    a->attempt = (int)obj_int(rec, "attempt", 1) + 1;
    a->last_fail_ms = obj_int(rec, "finished_ms", 0);
    return A_REPLAY;
}

static attempt_state_t st_wait_over(attempt_t *a)
{
    step_begin(a, gl_wall_ms());
    a->s.finished_ms = a->s.started_ms;
    a->s.status = "succeeded";
    a->s.input = input_obj(a->nd, a->in);
    a->s.output = json_object_new_object();
    json_object_object_add(a->s.output, "main", json_object_get(a->in[0]));
    a->keep_state = false; /* as the wait left it */
    a->then = A_DELIVER;
    return A_RECORD;
}

static attempt_state_t st_backoff(attempt_t *a)
{
    const gl_run_t *run = a->x->run;
    int64_t due = a->last_fail_ms + backoff_for(a->nd, a->attempt - 1, a->retry_hint_ms);
    if (due - gl_wall_ms() > a->x->lim.inline_wait_ms && run->can_park) {
        a->o->wait_until = due;
        return finish(a, STEP_PARK);
    }
    if (sleep_until(run, due) != GL_OK) {
        snprintf(a->o->abort_msg, sizeof a->o->abort_msg, "lost the job's lease during a retry backoff");
        return finish(a, STEP_STOP);
    }
    return A_ATTEMPT;
}

static attempt_state_t st_attempt(attempt_t *a)
{
    gl_exec_t *x = a->x;
    const gl_run_t *run = x->run;
    if (x->cancel)
        return finish(a, STEP_STOP);
    if (x->steps_total >= x->lim.max_steps) {
        a->o->error = error_obj(a->nd, "the execution exceeds its maximum number of steps");
        return finish(a, STEP_FAILED);
    }
    if (run->deadline_ms && gl_wall_ms() > run->deadline_ms) {
        a->o->error = error_obj(a->nd, "the execution timed out");
        return finish(a, STEP_FAILED);
    }
    if (run->io.before_effect && !a->nd->disabled && !a->nd->type->quick) {
        bool cancel = false;
        gl_err_t err;
        gl_err_clear(&err);
        if (run->io.before_effect(run->io.ud, &cancel, &err) != GL_OK) {
            snprintf(a->o->abort_msg, sizeof a->o->abort_msg, "recording the steps before %.60s failed: %.150s",
                     a->nd->id, err.msg);
            gl_utf8_trim(a->o->abort_msg);
            return finish(a, STEP_STOP);
        }
        if (cancel) {
            x->cancel = true;
            return finish(a, STEP_STOP);
        }
    }
    int64_t now = gl_wall_ms();
    ctx_init(a, now);
    step_begin(a, now);
    if (run->io.begin)
        run->io.begin(run->io.ud, &a->s);
    int rc = a->nd->disabled ? pass_through(&a->c, a->nd) : a->nd->type->run(&a->c);
    a->s.finished_ms = gl_wall_ms();
    a->s.input = input_obj(a->nd, a->c.in);
    if (rc != GL_OK)
        return A_FAILED;
    if (a->c.park_until_ms > a->s.finished_ms)
        return run->can_park ? A_PARK_STEP : A_WAIT_INLINE;
    return A_CHECK_OUTPUT;
}

static attempt_state_t st_park_step(attempt_t *a)
{
    a->s.status = "waiting";
    a->s.state = json_object_new_object();
    json_object_object_add(a->s.state, "until", json_object_new_int64(a->c.park_until_ms));
    a->o->wait_until = a->c.park_until_ms;
    a->outcome = STEP_PARK;
    a->then = A_END;
    return A_RECORD;
}

/* No parking here (glyphic run, subworkflows): sleep, in slices that renew
 * the job's lease, within the execution's deadline. */
static attempt_state_t st_wait_inline(attempt_t *a)
{
    const gl_run_t *run = a->x->run;
    int rc = GL_OK;
    if (run->deadline_ms && a->c.park_until_ms > run->deadline_ms)
        rc = gl_node_fail(&a->c, "the wait ends after the execution's time limit");
    else if (sleep_until(run, a->c.park_until_ms) != GL_OK)
        rc = gl_node_fail(&a->c, "lost the job's lease while waiting");
    a->s.finished_ms = gl_wall_ms();
    return rc == GL_OK ? A_CHECK_OUTPUT : reject_output(a);
}

/* Output that cannot be kept fails the node: too many items on a port,
 * a value that cannot be stored, or the execution's data over its limit. */
static attempt_state_t st_check_output(attempt_t *a)
{
    gl_exec_t *x = a->x;
    node_t *nd = a->nd;
    gl_node_ctx_t *c = &a->c;
    a->s.output = json_object_new_object();
    for (int i = 0; i < nd->n_out; i++) {
        size_t n = json_object_array_length(c->out[i]);
        if (n > (size_t)x->lim.max_items) {
            gl_node_fail(c, "output '%s' has %zu items, more than the limit of %d", nd->type->outputs[i], n,
                         x->lim.max_items);
            return reject_output(a);
        }
        json_object_object_add(a->s.output, nd->type->outputs[i], json_object_get(c->out[i]));
    }
    if (check_storable(c, a->s.output) != GL_OK)
        return reject_output(a);
    x->bytes += out_bytes(a->s.output);
    if (x->bytes > x->lim.max_bytes) {
        gl_node_fail(c, "the execution's data exceeds the limit of %zu bytes", x->lim.max_bytes);
        return reject_output(a);
    }
    a->s.status = "succeeded";
    a->s.state = json_object_get(c->state_out);
    a->then = A_DELIVER;
    return A_RECORD;
}

static attempt_state_t st_failed(attempt_t *a)
{
    node_t *nd = a->nd;
    gl_node_ctx_t *c = &a->c;
    a->s.status = "failed";
    a->s.error = error_obj(nd, c->error[0] ? c->error : "the node failed");
    if (c->retryable && a->attempt < nd->retry_max) {
        a->retry_hint_ms = c->retry_after_ms;
        a->then = A_RETRY;
    } else if (nd->continue_on_fail) {
        a->s.output = error_items(a->s.error, c->in[0]);
        a->x->bytes += out_bytes(a->s.output); /* as REPLAY counts them */
        a->then = A_DELIVER;
    } else {
        /* marked so that a resumed run fails here too, without another attempt */
        json_object_object_add(a->s.error, "final", json_object_new_boolean(1));
        a->o->error = json_object_get(a->s.error);
        a->outcome = STEP_FAILED;
        a->then = A_END;
    }
    return A_RECORD;
}

/* *v redacted in place of itself (the old value is put). */
static void redact_slot(const gl_redact_t *r, json_object **v)
{
    json_object *nv = gl_redact_json(r, *v);
    json_object_put(*v);
    *v = nv;
}

/* Every secret value opened so far leaves the step before it is recorded
 * (engine.h): its input, output, state, error and webhook response. What
 * DELIVER then hands on is the redacted output, as a resumed run would
 * replay it. */
static void redact_step(attempt_t *a)
{
    const gl_redact_t *r = a->x->redact;
    json_object *old_error = a->s.error;
    if (gl_redact_count(r) == 0)
        return;
    redact_slot(r, &a->s.input);
    redact_slot(r, &a->s.output);
    redact_slot(r, &a->s.state);
    json_object_get(old_error); /* compared below */
    redact_slot(r, &a->s.error);
    if (a->o->error && a->o->error == old_error) {
        json_object_put(a->o->error);
        a->o->error = json_object_get(a->s.error);
    }
    json_object_put(old_error);
    redact_slot(r, &a->c.response);
}

static attempt_state_t st_record(attempt_t *a)
{
    gl_exec_t *x = a->x;
    redact_step(a);
    a->s.seq = ++x->seq;
    if (x->run->io.record) {
        bool cancel = false;
        gl_err_t err;
        gl_err_clear(&err);
        if (x->run->io.record(x->run->io.ud, &a->s, &cancel, &err) != GL_OK) {
            snprintf(a->o->abort_msg, sizeof a->o->abort_msg, "recording step %d failed: %.200s", a->s.seq,
                     err.msg);
            gl_utf8_trim(a->o->abort_msg); /* %.200s may cut a character */
            json_object_put(a->o->error); /* not failed: aborted, and resumed later */
            a->o->error = NULL;
            return finish(a, STEP_STOP);
        }
        if (cancel)
            x->cancel = true;
    }
    x->steps_recorded++;
    x->steps_total++;
    return a->then;
}

static attempt_state_t st_retry(attempt_t *a)
{
    a->last_fail_ms = a->s.finished_ms;
    attempt_release(a);
    a->attempt++;
    return A_BACKOFF;
}

static attempt_state_t st_deliver(attempt_t *a)
{
    gl_exec_t *x = a->x;
    node_t *nd = a->nd;
    if (a->keep_state) {
        json_object_put(nd->state);
        nd->state = json_object_get(a->s.state);
    }
    if (a->c.response && !x->response)
        x->response = json_object_get(a->c.response);
    gl__exec_accept(x, nd, a->s.output);
    return finish(a, STEP_DONE);
}

step_outcome_t gl__exec_activate(gl_exec_t *x, node_t *nd, json_object **in, outcome_t *o)
{
    attempt_t a = { .x = x, .nd = nd, .in = in, .o = o, .run_index = ++x->run_index, .attempt = 1,
                    .keep_state = true, .outcome = STEP_STOP };
    attempt_state_t st = A_REPLAY;
    nd->runs++;
    while (st != A_END) {
        switch (st) {
        case A_REPLAY: st = st_replay(&a); break;
        case A_WAIT_OVER: st = st_wait_over(&a); break;
        case A_BACKOFF: st = st_backoff(&a); break;
        case A_ATTEMPT: st = st_attempt(&a); break;
        case A_PARK_STEP: st = st_park_step(&a); break;
        case A_WAIT_INLINE: st = st_wait_inline(&a); break;
        case A_CHECK_OUTPUT: st = st_check_output(&a); break;
        case A_FAILED: st = st_failed(&a); break;
        case A_RECORD: st = st_record(&a); break;
        case A_RETRY: st = st_retry(&a); break;
        case A_DELIVER: st = st_deliver(&a); break;
        case A_END: break;
        }
    }
    attempt_release(&a);
    return a.outcome;
}
