/*
 * catalogue.c: the node-type catalogue — the one table of every node
 * type's descriptor (see nodes/node.h), one line each, in the order
 * GET /api/node-types serves them, plus lookup and rendering. Adding a node
 * type is adding its file in nodes/ and its line here.
 */
#include "node.h"
#include "engine.h"

#include <string.h>

/* Every node type, one line each, in the catalogue's order (the editor's
 * palette follows it): NODE(x) names the descriptor gl_node_x of nodes/x.c. */
#define NODE_TYPES(NODE) \
    NODE(trigger_manual) \
    NODE(trigger_webhook) \
    NODE(trigger_schedule) \
    NODE(trigger_error) \
    NODE(http_request) \
    NODE(data_set) \
    NODE(data_convert) \
    NODE(flow_if) \
    NODE(flow_switch) \
    NODE(flow_merge) \
    NODE(flow_split) \
    NODE(flow_aggregate) \
    NODE(flow_loop) \
    NODE(flow_wait) \
    NODE(flow_subworkflow) \
    NODE(flow_respond) \
    NODE(flow_noop)

#define DECLARE(x) extern const gl_node_def_t gl_node_##x;
NODE_TYPES(DECLARE)
#undef DECLARE

#define ENTRY(x) &gl_node_##x,
const gl_node_def_t *const gl_node_defs[] = { NODE_TYPES(ENTRY) };
#undef ENTRY

const size_t gl_node_defs_count = GL_NELEM(gl_node_defs);

const gl_node_def_t *gl_node_def_find(const char *type)
{
    for (size_t i = 0; type && i < gl_node_defs_count; i++)
        if (strcmp(gl_node_defs[i]->type, type) == 0)
            return gl_node_defs[i];
    return NULL;
}

const gl_param_def_t *gl_node_param_find(const gl_node_def_t *t, const char *name)
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

bool gl_node_has_input(const gl_node_def_t *t, const char *port)
{
    return in_list(t->inputs, port);
}

bool gl_node_has_output(const gl_node_def_t *t, const char *port)
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
    for (size_t i = 0; i < gl_node_defs_count; i++) {
        const gl_node_def_t *t = gl_node_defs[i];
        rc |= gl_buf_puts(out, i ? ",{" : "{");
        rc |= quoted(out, "id", t->type);
        rc |= gl_buf_puts(out, ",");
        rc |= quoted(out, "name", t->display_name);
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
        const gl_node_def_t *t = gl_node_def_find(json_object_get_string(json_object_object_get(n, "type")));
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

const char *gl_node_param_string(json_object *node, const char *name)
{
    json_object *params = NULL, *v = NULL;
    if (!json_object_object_get_ex(node, "params", &params) || !json_object_object_get_ex(params, name, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

json_object *gl_engine_triggers(json_object *def)
{
    json_object *rows = json_object_new_array(), *nodes = NULL;
    if (!json_object_object_get_ex(def, "nodes", &nodes) || !json_object_is_type(nodes, json_type_array))
        return rows;
    for (size_t i = 0; i < json_object_array_length(nodes); i++) {
        json_object *n = json_object_array_get_idx(nodes, i), *id = NULL, *v = NULL;
        const gl_node_def_t *t = gl_node_def_find(json_object_get_string(json_object_object_get(n, "type")));
        if (!t || !t->trigger_kind || !json_object_object_get_ex(n, "id", &id) ||
            !json_object_is_type(id, json_type_string))
            continue;
        if (json_object_object_get_ex(n, "disabled", &v) && json_object_get_boolean(v))
            continue;
        json_object *row = json_object_new_object();
        json_object_object_add(row, "node_id", json_object_get(id));
        json_object_object_add(row, "kind", json_object_new_string(t->trigger_kind));
        if (t->trigger_row)
            t->trigger_row(def, n, row);
        json_object_array_add(rows, row);
    }
    return rows;
}

const char *gl_engine_trigger_node(json_object *def, const char *kind)
{
    json_object *nodes = NULL, *id = NULL;
    if (!kind || !json_object_object_get_ex(def, "nodes", &nodes) || !json_object_is_type(nodes, json_type_array))
        return NULL;
    for (size_t i = 0; i < json_object_array_length(nodes); i++) {
        json_object *n = json_object_array_get_idx(nodes, i);
        const gl_node_def_t *t = gl_node_def_find(json_object_get_string(json_object_object_get(n, "type")));
        if (t && t->trigger_kind && strcmp(t->trigger_kind, kind) == 0 && json_object_object_get_ex(n, "id", &id) &&
            json_object_is_type(id, json_type_string))
            return json_object_get_string(id);
    }
    return NULL;
}

/* The parameter node n's type generates when it is empty, or NULL. */
static const char *generated_param(json_object *n)
{
    const gl_node_def_t *t = gl_node_def_find(json_object_get_string(json_object_object_get(n, "type")));
    return t && t->unique_generated ? t->unique_param : NULL;
}

/* A generated value: a version 4 UUID in lower case (sql/009's
 * wf_path_is_generated says the same for the database). */
static bool looks_generated(const char *s)
{
    static const char shape[] = "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx";
    if (strlen(s) != sizeof shape - 1)
        return false;
    for (size_t i = 0; shape[i]; i++) {
        char c = s[i];
        bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
        if ((shape[i] == 'x' && !hex) || (shape[i] == 'y' && !strchr("89ab", c)) ||
            (shape[i] != 'x' && shape[i] != 'y' && c != shape[i]))
            return false;
    }
    return true;
}

json_object *gl_engine_generated_params(json_object *def)
{
    json_object *list = json_object_new_array(), *nodes = NULL;
    if (!json_object_object_get_ex(def, "nodes", &nodes) || !json_object_is_type(nodes, json_type_array))
        return list;
    for (size_t i = 0; i < json_object_array_length(nodes); i++) {
        json_object *n = json_object_array_get_idx(nodes, i), *id = NULL, *params = NULL, *v = NULL;
        const char *param = generated_param(n);
        if (!param || !json_object_object_get_ex(n, "id", &id) || !json_object_is_type(id, json_type_string))
            continue;
        /* as the database reads it: params->>param is NULL or "" */
        if (json_object_object_get_ex(n, "params", &params) && json_object_is_type(params, json_type_object) &&
            json_object_object_get_ex(params, param, &v) && v &&
            !(json_object_is_type(v, json_type_string) && json_object_get_string_len(v) == 0))
            continue;
        json_object *item = json_object_new_object();
        json_object_object_add(item, "node_id", json_object_get(id));
        json_object_object_add(item, "param", json_object_new_string(param));
        json_object_array_add(list, item);
    }
    return list;
}

void gl_engine_strip_generated(json_object *def)
{
    json_object *nodes = NULL;
    if (!json_object_object_get_ex(def, "nodes", &nodes) || !json_object_is_type(nodes, json_type_array))
        return;
    for (size_t i = 0; i < json_object_array_length(nodes); i++) {
        json_object *n = json_object_array_get_idx(nodes, i), *params = NULL, *v = NULL;
        const char *param = generated_param(n);
        if (param && json_object_object_get_ex(n, "params", &params) &&
            json_object_object_get_ex(params, param, &v) && json_object_is_type(v, json_type_string) &&
            looks_generated(json_object_get_string(v)))
            json_object_object_del(params, param);
    }
}
