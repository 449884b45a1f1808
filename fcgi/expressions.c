/*
 * expressions.c: POST /api/expressions/preview — the editor's live preview
 * of a parameter in expression mode. The server evaluates it with the
 * engine's evaluator and the engine's rules, so a preview cannot disagree
 * with a run:
 *  - the text is rendered as the engine renders a string parameter
 *    (gl_expr_render_value: text without {{ stays as it is; exactly one
 *    {{ }} keeps its value's type; otherwise each {{ }} becomes text);
 *  - with execution_id + node_id, the context is the one the node's last
 *    step in that execution had (gl_engine_step_items,
 *    gl_engine_node_items): $json = input item item_index of its first
 *    input port, $input = those items, $node["Name"] / $("Name") = each
 *    node's latest output recorded before that step, $execution.id,
 *    $workflow.id and .name; with json, the item is that object; with
 *    neither, one empty item. $now is now; $env holds what
 *    executor.env_allow names, read from this process's environment (as
 *    on the direct webhook path), and only for callers who may edit
 *    workflows: a viewer could otherwise read what only workflow authors
 *    can;
 *  - the same bounds as any expression (engine.h, expressions: 100,000 steps per
 *    {{ }}, nesting 64, 1 MiB per value built) and a deadline of its own,
 *    expressions.preview_budget_ms (500 ms): any signed-in user may call
 *    this, so a hostile expression holds a worker that long at most. The request's
 *    transaction ends before the evaluation.
 * An expression that does not parse or fails is a 200 {"error": {message}}:
 * a normal preview result. Reading follows GET /api/executions/{id}: row
 * level security shows an execution to whoever sees its workflow.
 */
#include "expressions.h"

#include "engine.h"

#include <stdio.h>
#include <string.h>

/* The execution's definition, workflow, the node's last step and, for
 * $node, every node's latest output recorded before that step. */
static const gl_stmt_t q_context = {
    .name = "expr_context",
    .sql = "SELECT jsonb_build_object('workflow_id', e.workflow_id, 'workflow_name', w.name, "
           "'definition', coalesce(e.definition, v.definition), "
           "'input', st.input, 'ran', st.seq IS NOT NULL, "
           "'outputs', CASE WHEN st.seq IS NOT NULL THEN coalesce((SELECT jsonb_object_agg(o.node_id, o.output) "
           "FROM (SELECT DISTINCT ON (s.node_id) s.node_id, s.output FROM steps s "
           "WHERE s.execution_id = e.id AND s.seq < st.seq AND s.status IN ('succeeded', 'failed') "
           "AND jsonb_typeof(s.output) = 'object' ORDER BY s.node_id, s.seq DESC) o), '{}') END)::text "
           "FROM executions e LEFT JOIN workflows w ON w.id = e.workflow_id "
           "LEFT JOIN workflow_versions v ON v.workflow_id = e.workflow_id AND v.version = e.version "
           "LEFT JOIN LATERAL (SELECT s.seq, s.input FROM steps s WHERE s.execution_id = e.id "
           "AND s.node_id = $2 ORDER BY s.seq DESC LIMIT 1) st ON true "
           "WHERE e.id = $1",
    .nparams = 2,
    .rows = true,
};

typedef struct {
    json_object *nodes;   /* the definition's nodes (borrowed) */
    json_object *outputs; /* {node id: output {"port": items}} (borrowed) */
} lookup_t;

static const char *str_of(json_object *o, const char *key)
{
    json_object *v;
    if (o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
        return json_object_get_string(v);
    return NULL;
}

/* The node of the definition with this id, or NULL. */
static json_object *find_node(json_object *nodes, const char *id)
{
    for (size_t i = 0; nodes && i < json_object_array_length(nodes); i++) {
        json_object *n = json_object_array_get_idx(nodes, i);
        const char *nid = str_of(n, "id");
        if (nid && strcmp(nid, id) == 0)
            return n;
    }
    return NULL;
}

/* $node["Name"]: as the engine's node_items_cb, the first node of that name
 * (the id when it has none) that has an output. */
static json_object *node_items(void *ud, const char *name)
{
    lookup_t *l = ud;
    for (size_t i = 0; l->nodes && i < json_object_array_length(l->nodes); i++) {
        json_object *n = json_object_array_get_idx(l->nodes, i), *out;
        const char *id = str_of(n, "id"), *nm = str_of(n, "name");
        if (!id || strcmp(nm ? nm : id, name) != 0 || !l->outputs ||
            !json_object_object_get_ex(l->outputs, id, &out))
            continue;
        return gl_engine_node_items(str_of(n, "type"), out);
    }
    return NULL;
}

/* $vars: the org's variables (every member may read them) */
static const gl_stmt_t q_vars = {
    .name = "expr_vars",
    .sql = "SELECT coalesce(json_object_agg(v.key, v.value), '{}')::text FROM variables v "
           "WHERE v.org_id = current_org_id()",
    .nparams = 0,
    .rows = true,
};

/* The org's variables when the expression mentions $vars (NULL: not
 * needed; *failed when they could not be read and the answer is set). */
static json_object *vars_for(gl_req_t *req, json_object *expression, bool *failed)
{
    *failed = false;
    if (!strstr(json_object_to_json_string(expression), "$vars"))
        return NULL;
    gl_err_t err;
    gl_err_clear(&err);
    PGresult *res = NULL;
    int rc = gl_db_query(req->db, &q_vars, NULL, req->arena, &res, &err);
    json_object *v = rc == GL_OK ? json_tokener_parse(PQgetvalue(res, 0, 0)) : NULL;
    if (!v) {
        *failed = true;
        if (rc == GL_OK)
            gl_resp_error(req, 500, "internal", NULL, "the org's variables cannot be read");
        else
            gl_resp_fail(req, rc, &err);
    }
    return v;
}

/* $env, read once per worker (as gl_hooks_env does for the direct path) */
static json_object *env_of(const gl_config_t *cfg)
{
    static json_object *env;
    if (!env)
        env = gl_engine_env(cfg->executor_env_allow);
    return env;
}

/* May the caller write workflows (and so already read $env in a run)? */
static bool may_edit(const gl_req_t *req)
{
    return req->auth.role >= GL_ROLE_EDITOR && (!req->auth.via_key || gl_scope_allows(req->auth.scopes, GL_SCOPE_WRITE));
}

/* A 200 {"error": {"message"}}: the preview's answer for an expression
 * that fails. */
static void send_failure(gl_req_t *req, const char *msg)
{
    json_object *o = json_object_new_object(), *e = json_object_new_object();
    char clean[sizeof ((gl_err_t *)0)->msg];
    gl_utf8_clean(clean, sizeof clean, msg);
    json_object_object_add(e, "message", json_object_new_string(clean));
    json_object_object_add(o, "error", e);
    size_t len = 0;
    const char *s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
    gl_resp_json(req, 200, s, len);
    json_object_put(o);
}

/* The request, checked. */
typedef struct {
    json_object *expression; /* a json string */
    const char *execution_id, *node_id; /* both or neither */
    json_object *json;       /* the item without an execution, or NULL */
    int64_t item_index;
} preview_req_t;

/* What the expression sees. */
typedef struct {
    json_object *item;       /* $json (borrowed; NULL: {}) */
    json_object *items;      /* $input (borrowed from doc, or owned) */
    json_object *own_items;  /* items when made here (released by the caller) */
    lookup_t lookup;
    const char *workflow_id, *workflow_name;
    json_object *vars;       /* $vars (owned; NULL: {}) */
} context_t;

/* Reads an optional string member: GL_NOTFOUND when absent or null, GL_OK,
 * or GL_INVALID with the 400 response set. */
static int opt_string(gl_req_t *req, const char *key, size_t max_len, const char *what, const char **out)
{
    gl_err_t err;
    gl_err_clear(&err);
    int rc = gl_json_get_string(req->json, key, false, max_len, out, &err);
    if (rc == GL_INVALID)
        gl_resp_error(req, 400, "invalid", key, "%s must be %s", key, what);
    return rc;
}

/* Checks the body into *p: true, or false with the 4xx response set. */
static bool read_request(gl_req_t *req, preview_req_t *p)
{
    static const char *const allowed[] = { "expression", "execution_id", "node_id", "item_index", "json", NULL };
    gl_err_t err;
    gl_err_clear(&err);
    json_object *body = req->json, *v;
    memset(p, 0, sizeof *p);
    if (!body || !json_object_is_type(body, json_type_object) || gl_json_only_keys(body, allowed, &err) != GL_OK) {
        gl_resp_error(req, 400, "invalid", err.field[0] ? err.field : "body", "%s",
                      err.msg[0] ? err.msg
                                 : "the body must be an object {expression, execution_id?, node_id?, item_index?, json?}");
        return false;
    }
    if (!json_object_object_get_ex(body, "expression", &v) || !json_object_is_type(v, json_type_string)) {
        gl_resp_error(req, 400, "invalid", "expression", "expression is required: the parameter's text, a string");
        return false;
    }
    p->expression = v;
    size_t max = gl_wf_default_limits.max_param_bytes; /* a parameter's limit in a definition */
    if ((size_t)json_object_get_string_len(v) > max) {
        gl_resp_error(req, 413, "too_large", "expression", "expression is %d bytes; the limit is %zu",
                      json_object_get_string_len(v), max);
        return false;
    }
    int has_e = opt_string(req, "execution_id", GL_UUID_LEN, "an execution id (a UUID)", &p->execution_id);
    if (has_e == GL_INVALID)
        return false;
    int has_n = opt_string(req, "node_id", 64, "a node id (a string of at most 64 bytes)", &p->node_id);
    if (has_n == GL_INVALID)
        return false;
    if (has_e == GL_OK && !gl_is_uuid(p->execution_id)) {
        gl_resp_error(req, 400, "invalid", "execution_id", "execution_id must be an execution id (a UUID)");
        return false;
    }
    if ((has_e == GL_OK) != (has_n == GL_OK)) {
        gl_resp_error(req, 400, "invalid", has_e == GL_OK ? "node_id" : "execution_id",
                      "execution_id and node_id go together: the input of that node's last step in that execution");
        return false;
    }
    if (json_object_object_get_ex(body, "json", &v) && v) {
        if (!json_object_is_type(v, json_type_object)) {
            gl_resp_error(req, 400, "invalid", "json", "json must be an object: the item's json");
            return false;
        }
        if (p->execution_id) {
            gl_resp_error(req, 400, "invalid", "json",
                          "json and execution_id exclude each other: the item is the one or comes from the other");
            return false;
        }
        p->json = v;
    }
    if (json_object_object_get_ex(body, "item_index", &v) && v) {
        if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0) {
            gl_resp_error(req, 400, "invalid", "item_index", "item_index must be an integer of 0 or more");
            return false;
        }
        p->item_index = json_object_get_int64(v);
    }
    return true;
}

/* The context of node_id's last step in the execution: true, or false with
 * the response set (404 when the execution is not visible, the node not in
 * the version it ran or not run; 400 for an item_index past its items). */
static bool load_step(gl_req_t *req, const preview_req_t *p, context_t *c)
{
    const char *params[] = { p->execution_id, p->node_id };
    gl_err_t err;
    gl_err_clear(&err);
    PGresult *res = NULL;
    int rc = gl_db_query(req->db, &q_context, params, req->arena, &res, &err);
    if (rc != GL_OK) {
        gl_resp_fail(req, rc, &err);
        return false;
    }
    if (PQntuples(res) == 0 || PQgetisnull(res, 0, 0)) {
        gl_resp_error(req, 404, "not_found", "execution_id", "no such execution");
        return false;
    }
    json_object *doc = NULL, *def = NULL, *ran = NULL, *input = NULL;
    /* as deep as the executor reads executions (executor/workflow_job.c) */
    if (gl_json_parse(PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0), 256, &doc, &err) != GL_OK) {
        gl_resp_fail(req, GL_ERR, &err);
        return false;
    }
    doc = gl_json_own(req->arena, doc);
    if (json_object_object_get_ex(doc, "definition", &def) && def)
        json_object_object_get_ex(def, "nodes", &c->lookup.nodes);
    if (c->lookup.nodes && !json_object_is_type(c->lookup.nodes, json_type_array))
        c->lookup.nodes = NULL;
    json_object *node = find_node(c->lookup.nodes, p->node_id);
    if (!node) {
        gl_resp_error(req, 404, "not_found", "node_id", "the workflow this execution ran has no node '%s'", p->node_id);
        return false;
    }
    if (!json_object_object_get_ex(doc, "ran", &ran) || !json_object_get_boolean(ran)) {
        gl_resp_error(req, 404, "node_not_run", "node_id", "node '%s' has not run in this execution", p->node_id);
        return false;
    }
    json_object_object_get_ex(doc, "input", &input);
    json_object_object_get_ex(doc, "outputs", &c->lookup.outputs);
    c->items = gl_engine_step_items(str_of(node, "type"), input);
    size_t n = c->items ? json_object_array_length(c->items) : 0;
    /* no items: the engine evaluates against an empty item */
    if (p->item_index >= (int64_t)(n ? n : 1)) {
        gl_resp_error(req, 400, "invalid", "item_index", "item_index %lld is out of range: the node's input has %zu item%s",
                      (long long)p->item_index, n, n == 1 ? "" : "s");
        return false;
    }
    c->item = n ? json_object_array_get_idx(c->items, (size_t)p->item_index) : NULL;
    if (!c->items)
        c->items = c->own_items = json_object_new_array();
    c->workflow_id = str_of(doc, "workflow_id");
    c->workflow_name = str_of(doc, "workflow_name");
    return true;
}

/* Without an execution: the one item (json, or an empty one). */
static bool one_item(gl_req_t *req, const preview_req_t *p, context_t *c)
{
    if (p->item_index != 0) {
        gl_resp_error(req, 400, "invalid", "item_index",
                      "item_index %lld is out of range: without an execution there is one item",
                      (long long)p->item_index);
        return false;
    }
    c->item = p->json;
    c->items = c->own_items = json_object_new_array();
    json_object_array_add(c->items, p->json ? json_object_get(p->json) : json_object_new_object());
    return true;
}

/* Renders the expression as the engine renders a string parameter and
 * sends {value} or {error}. */
static void evaluate(gl_req_t *req, const preview_req_t *p, context_t *c)
{
    bool editor = may_edit(req);
    if (!editor && strstr(json_object_get_string(p->expression), "$env")) {
        send_failure(req, "$env is shown only to those who may edit workflows (editors, admins and owners; "
                          "API keys with scope write)");
        return;
    }
    gl_expr_ctx_t e;
    memset(&e, 0, sizeof e);
    e.json = c->item;
    e.input = c->items;
    e.item_index = p->item_index;
    e.node_items = node_items;
    e.ud = &c->lookup;
    e.execution_id = p->execution_id;
    e.workflow_id = c->workflow_id;
    e.workflow_name = c->workflow_name;
    e.now_ms = gl_wall_ms();
    e.env = editor ? env_of(req->cfg) : NULL;
    e.limits.deadline_ms = e.now_ms + req->cfg->expressions_preview_budget_ms;
    e.vars = c->vars;
    json_object *out = NULL;
    gl_err_t err;
    gl_err_clear(&err);
    if (gl_expr_render_value(p->expression, &e, &out, &err) != GL_OK) {
        send_failure(req, err.msg[0] ? err.msg : "the expression failed");
        return;
    }
    char where[160] = "";
    const char *why = out ? gl_json_unstorable(out, where, sizeof where) : NULL;
    if (why) {
        json_object_put(out);
        char msg[sizeof err.msg];
        snprintf(msg, sizeof msg, "the value cannot be previewed: %s%s%s", where, where[0] ? ": " : "", why);
        send_failure(req, msg);
        return;
    }
    json_object *resp = json_object_new_object();
    json_object_object_add(resp, "value", out);
    size_t len = 0;
    const char *s = json_object_to_json_string_length(resp, JSON_C_TO_STRING_PLAIN, &len);
    gl_resp_json(req, 200, s, len);
    json_object_put(resp);
}

static void preview(gl_req_t *req)
{
    preview_req_t p;
    context_t c;
    memset(&c, 0, sizeof c);
    bool failed = false;
    if (!read_request(req, &p) || !(p.execution_id ? load_step(req, &p, &c) : one_item(req, &p, &c)) ||
        (c.vars = vars_for(req, p.expression, &failed), failed)) {
        json_object_put(c.own_items);
        return;
    }
    /* nothing more to read: no transaction stays open while it evaluates */
    gl_err_t err;
    gl_err_clear(&err);
    int rc = gl_db_commit(req->db, &err);
    req->tx_done = true;
    if (rc != GL_OK)
        gl_resp_fail(req, rc == GL_RETRY ? GL_CONFLICT : rc, &err);
    else
        evaluate(req, &p, &c);
    json_object_put(c.own_items);
    json_object_put(c.vars);
}

static const gl_route_t routes[] = {
    { "POST", "/api/expressions/preview", preview, GL_PERM_WORKFLOW_READ, NULL },
};

const gl_resource_t gl_resource_expressions = { "expressions", routes, GL_NELEM(routes) };
