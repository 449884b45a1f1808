/*
 * catalogue.c: the node-type catalogue (see nodetypes.h). The engine issue
 * implements these types in executor/engine/nodes/; this table is their contract:
 * ports, parameters, defaults, and which parameters take expressions.
 */
#include "nodetypes.h"
#include "engine.h"

#include <string.h>

static const char *const methods[] = { "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", NULL };
static const char *const hook_methods[] = { "GET", "POST", "PUT", "PATCH", "DELETE", "ANY", NULL };
static const char *const hook_modes[] = { "async", "sync", NULL };
static const char *const body_types[] = { "none", "json", "form", "raw", NULL };
static const char *const response_types[] = { "auto", "json", "text", NULL };
static const char *const set_modes[] = { "merge", "replace", NULL };
static const char *const combine[] = { "and", "or", NULL };
static const char *const merge_modes[] = { "append", "join", "wait", NULL };
static const char *const wait_modes[] = { "duration", "until", NULL };

const gl_node_type_t gl_node_types[] = {
    { "trigger.manual", "Manual trigger", "trigger", "Starts the workflow from the editor or the API, with optional input items.",
      true, { NULL }, { "main", NULL },
      { { NULL, 0, NULL, false, false, NULL, NULL } } },
    { "trigger.webhook", "Webhook", "trigger", "Starts the workflow when /hooks/<path> is called; query, headers and body become the item.",
      true, { NULL }, { "main", NULL },
      { { "path", GL_PARAM_STRING, NULL, false, false, NULL,
          "URL path under /hooks/ (letters, digits, - _ / .); left out: a generated, unguessable one (a UUID) "
          "that later saves keep" },
        { "method", GL_PARAM_SELECT, "\"POST\"", false, false, hook_methods, "HTTP method the hook accepts" },
        { "mode", GL_PARAM_SELECT, "\"async\"", false, false, hook_modes, "async: answer 202 at once; sync: answer with the workflow's response" },
        { "timeout_ms", GL_PARAM_NUMBER, "30000", false, false, NULL, "sync mode: longest wait for the response" },
        { "secret", GL_PARAM_CREDENTIAL, NULL, false, false, NULL, "credential holding an HMAC-SHA256 key to verify signatures" },
        { NULL, 0, NULL, false, false, NULL, NULL } } },
    { "trigger.schedule", "Schedule", "trigger", "Starts the workflow on a five-field cron schedule.",
      true, { NULL }, { "main", NULL },
      { { "cron", GL_PARAM_STRING, NULL, true, false, NULL, "minute hour day-of-month month day-of-week, with ranges, steps and lists" },
        { "timezone", GL_PARAM_STRING, "\"UTC\"", false, false, NULL, "IANA time zone, e.g. Europe/Berlin" },
        { NULL, 0, NULL, false, false, NULL, NULL } } },
    { "trigger.error", "Error trigger", "trigger", "Starts the workflow when another workflow that names it as error workflow fails.",
      true, { NULL }, { "main", NULL },
      { { NULL, 0, NULL, false, false, NULL, NULL } } },
    { "http.request", "HTTP Request", "action",
      "Calls a URL and returns the response as an item. Public addresses only, unless the operator lists "
      "internal ranges in http.allow_private.",
      false, { "main", NULL }, { "main", NULL },
      { { "method", GL_PARAM_SELECT, "\"GET\"", false, false, methods, "HTTP method" },
        { "url", GL_PARAM_STRING, NULL, true, true, NULL, "absolute http(s) URL; loopback, private and other internal addresses are refused unless the operator allows them (http.allow_private)" },
        { "query", GL_PARAM_JSON, "{}", false, true, NULL, "query parameters (object)" },
        { "headers", GL_PARAM_JSON, "{}", false, true, NULL, "request headers (object)" },
        { "body_type", GL_PARAM_SELECT, "\"none\"", false, false, body_types, "how the body is sent" },
        { "body", GL_PARAM_JSON, NULL, false, true, NULL, "request body" },
        { "timeout_ms", GL_PARAM_NUMBER, "30000", false, false, NULL, "request timeout" },
        { "follow_redirects", GL_PARAM_BOOLEAN, "true", false, false, NULL, "follow 3xx redirects" },
        { "response_type", GL_PARAM_SELECT, "\"auto\"", false, false, response_types, "parse the response as JSON or text" },
        { "fail_on_status", GL_PARAM_BOOLEAN, "true", false, false, NULL, "fail on a status of 400 or more" },
        { "credential", GL_PARAM_CREDENTIAL, NULL, false, false, NULL, "credential used for authentication" },
        { NULL, 0, NULL, false, false, NULL, NULL } } },
    { "data.set", "Set fields", "data", "Sets, renames or removes fields of each item.",
      false, { "main", NULL }, { "main", NULL },
      { { "fields", GL_PARAM_JSON, "{}", false, true, NULL, "fields to set: name -> value (values may be expressions)" },
        { "rename", GL_PARAM_JSON, "{}", false, false, NULL, "fields to rename: old -> new" },
        { "remove", GL_PARAM_JSON, "[]", false, false, NULL, "field names to remove" },
        { "mode", GL_PARAM_SELECT, "\"merge\"", false, false, set_modes, "merge into the item or replace it" },
        { NULL, 0, NULL, false, false, NULL, NULL } } },
    { "flow.if", "If", "flow", "Routes each item to true or false by a condition.",
      false, { "main", NULL }, { "true", "false", NULL },
      { { "condition", GL_PARAM_STRING, NULL, true, true, NULL, "an expression, true or false per item" },
        { NULL, 0, NULL, false, false, NULL, NULL } } },
    { "flow.switch", "Switch", "flow", "Routes each item to the output of the first rule it matches, else to fallback.",
      false, { "main", NULL }, { "out0", "out1", "out2", "out3", "out4", "out5", "out6", "out7", "fallback", NULL },
      { { "rules", GL_PARAM_JSON, "[]", true, true, NULL, "up to 8 conditions (expressions); rule n routes to outn" },
        { "combine", GL_PARAM_SELECT, "\"and\"", false, false, combine, "unused by single-condition rules" },
        { NULL, 0, NULL, false, false, NULL, NULL } } },
    { "flow.merge", "Merge", "flow", "Combines two inputs: append, join by key, or wait for both.",
      false, { "input1", "input2", NULL }, { "main", NULL },
      { { "mode", GL_PARAM_SELECT, "\"append\"", false, false, merge_modes, "how the inputs combine" },
        { "key", GL_PARAM_STRING, NULL, false, false, NULL, "join mode: the field both inputs share" },
        { NULL, 0, NULL, false, false, NULL, NULL } } },
    { "flow.split", "Split out", "flow", "Emits one item per element of an array field.",
      false, { "main", NULL }, { "main", NULL },
      { { "field", GL_PARAM_STRING, NULL, true, false, NULL, "the array field to split" },
        { NULL, 0, NULL, false, false, NULL, NULL } } },
    { "flow.aggregate", "Aggregate", "flow", "Collects all items into one item holding an array.",
      false, { "main", NULL }, { "main", NULL },
      { { "field", GL_PARAM_STRING, "\"items\"", false, false, NULL, "name of the array field" },
        { NULL, 0, NULL, false, false, NULL, NULL } } },
    { "flow.loop", "Loop over batches", "flow", "Feeds items to the loop body in batches; the body's end connects back to the loop input; done emits everything collected.",
      false, { "main", "loop", NULL }, { "batch", "done", NULL },
      { { "batch_size", GL_PARAM_NUMBER, "1", false, false, NULL, "items per batch" },
        { "max_iterations", GL_PARAM_NUMBER, "1000", false, false, NULL, "guard against runaway loops" },
        { NULL, 0, NULL, false, false, NULL, NULL } } },
    { "flow.wait", "Wait", "flow", "Pauses the execution for a duration or until a time; no process waits.",
      false, { "main", NULL }, { "main", NULL },
      { { "mode", GL_PARAM_SELECT, "\"duration\"", false, false, wait_modes, "wait for a duration or until a time" },
        { "seconds", GL_PARAM_NUMBER, NULL, false, true, NULL, "duration mode: seconds to wait" },
        { "until", GL_PARAM_STRING, NULL, false, true, NULL, "until mode: an ISO 8601 time" },
        { NULL, 0, NULL, false, false, NULL, NULL } } },
    { "flow.subworkflow", "Run workflow", "flow", "Runs another workflow of the org with the items as input and continues with its output.",
      false, { "main", NULL }, { "main", NULL },
      { { "workflow_id", GL_PARAM_STRING, NULL, true, false, NULL, "the workflow to run" },
        { NULL, 0, NULL, false, false, NULL, NULL } } },
    { "flow.respond", "Respond to webhook", "flow", "Sets the response of a synchronous webhook.",
      false, { "main", NULL }, { "main", NULL },
      { { "status", GL_PARAM_NUMBER, "200", false, true, NULL, "HTTP status" },
        { "headers", GL_PARAM_JSON, "{}", false, true, NULL, "response headers (object): Content-Type (no script types), Content-Disposition, Content-Language, ETag, Last-Modified, Location, Retry-After and custom X- headers; others fail the node" },
        { "body", GL_PARAM_JSON, NULL, false, true, NULL, "response body; default: the first item" },
        { NULL, 0, NULL, false, false, NULL, NULL } } },
    { "flow.noop", "No operation", "flow", "Passes items through unchanged.",
      false, { "main", NULL }, { "main", NULL },
      { { NULL, 0, NULL, false, false, NULL, NULL } } },
};

const size_t gl_node_types_count = GL_NELEM(gl_node_types);

const gl_node_type_t *gl_node_type_find(const char *id)
{
    for (size_t i = 0; i < gl_node_types_count; i++)
        if (strcmp(gl_node_types[i].id, id) == 0)
            return &gl_node_types[i];
    return NULL;
}

const gl_param_def_t *gl_node_param_find(const gl_node_type_t *t, const char *name)
{
    for (const gl_param_def_t *p = t->params; p->name; p++)
        if (strcmp(p->name, name) == 0)
            return p;
    return NULL;
}

static bool in_list(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (strcmp(*list, s) == 0)
            return true;
    return false;
}

bool gl_node_has_input(const gl_node_type_t *t, const char *port)
{
    return in_list(t->inputs, port);
}

bool gl_node_has_output(const gl_node_type_t *t, const char *port)
{
    return in_list(t->outputs, port) || (!t->trigger && strcmp(port, GL_NODE_ERROR_PORT) == 0);
}

const char *gl_param_type_name(gl_param_type_t t)
{
    static const char *const names[] = { "string", "number", "boolean", "select", "json", "code", "credential" };
    return (size_t)t < GL_NELEM(names) ? names[t] : "unknown";
}

static int str_list(gl_buf_t *out, const char *const *list)
{
    int rc = gl_buf_puts(out, "[");
    for (size_t i = 0; list && list[i]; i++) {
        rc |= gl_buf_printf(out, "%s\"", i ? "," : "");
        rc |= gl_buf_json_escape(out, list[i], strlen(list[i]));
        rc |= gl_buf_puts(out, "\"");
    }
    return rc | gl_buf_puts(out, "]");
}

static int quoted(gl_buf_t *out, const char *key, const char *val)
{
    int rc = gl_buf_printf(out, "\"%s\":\"", key);
    rc |= gl_buf_json_escape(out, val, strlen(val));
    return rc | gl_buf_puts(out, "\"");
}

int gl_engine_node_types_json(gl_buf_t *out)
{
    int rc = gl_buf_puts(out, "[");
    for (size_t i = 0; i < gl_node_types_count; i++) {
        const gl_node_type_t *t = &gl_node_types[i];
        rc |= gl_buf_puts(out, i ? ",{" : "{");
        rc |= quoted(out, "id", t->id);
        rc |= gl_buf_puts(out, ",");
        rc |= quoted(out, "name", t->name);
        rc |= gl_buf_puts(out, ",");
        rc |= quoted(out, "category", t->category);
        rc |= gl_buf_puts(out, ",");
        rc |= quoted(out, "description", t->description);
        rc |= gl_buf_printf(out, ",\"trigger\":%s,\"inputs\":", t->trigger ? "true" : "false");
        rc |= str_list(out, t->inputs);
        rc |= gl_buf_puts(out, ",\"outputs\":");
        rc |= str_list(out, t->outputs);
        if (!t->trigger)
            rc |= gl_buf_puts(out, ",\"error_output\":\"" GL_NODE_ERROR_PORT "\"");
        rc |= gl_buf_puts(out, ",\"params\":[");
        for (const gl_param_def_t *p = t->params; p->name; p++) {
            rc |= gl_buf_puts(out, p == t->params ? "{" : ",{");
            rc |= quoted(out, "name", p->name);
            rc |= gl_buf_printf(out, ",\"type\":\"%s\",\"required\":%s,\"expressions\":%s,\"default\":%s",
                                gl_param_type_name(p->type), p->required ? "true" : "false",
                                p->expressions ? "true" : "false", p->def ? p->def : "null");
            if (p->options) {
                rc |= gl_buf_puts(out, ",\"options\":");
                rc |= str_list(out, p->options);
            }
            rc |= gl_buf_puts(out, ",");
            rc |= quoted(out, "description", p->description ? p->description : "");
            rc |= gl_buf_puts(out, "}");
        }
        rc |= gl_buf_puts(out, "]}");
    }
    rc |= gl_buf_puts(out, "]");
    return rc ? GL_TOO_LARGE : GL_OK;
}

int gl_engine_credential_names(json_object *def, gl_buf_t *out)
{
    json_object *nodes = json_object_object_get(def, "nodes");
    const char *seen[256];
    int n_seen = 0;
    int rc = gl_buf_puts(out, "[");
    for (size_t i = 0; nodes && i < json_object_array_length(nodes); i++) {
        json_object *n = json_object_array_get_idx(nodes, i);
        const gl_node_type_t *t = gl_node_type_find(json_object_get_string(json_object_object_get(n, "type")));
        json_object *params = json_object_object_get(n, "params");
        if (!t || !params)
            continue;
        for (const gl_param_def_t *d = t->params; d->name; d++) {
            json_object *v = json_object_object_get(params, d->name);
            if (d->type != GL_PARAM_CREDENTIAL || !json_object_is_type(v, json_type_string))
                continue;
            const char *name = json_object_get_string(v);
            bool dup = false;
            for (int k = 0; k < n_seen; k++)
                dup |= strcmp(seen[k], name) == 0;
            if (dup || n_seen == (int)GL_NELEM(seen))
                continue;
            rc |= gl_buf_puts(out, n_seen ? ",\"" : "\"");
            rc |= gl_buf_json_escape(out, name, strlen(name));
            rc |= gl_buf_puts(out, "\"");
            seen[n_seen++] = name;
        }
    }
    return rc | gl_buf_puts(out, "]");
}
