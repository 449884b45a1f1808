/*
 * test_node_defs.c: every node-type descriptor in the catalogue's table
 * (executor/engine/catalogue.c) is complete and consistent — so adding a
 * node type is adding a file and a line, and this test says what the
 * descriptor lacks.
 */
#include "gl_test.h"
#include "json.h"
#include "node.h"
#include "engine.h"

static bool valid_port_list(const char *const *ports, int *count)
{
    int n = 0;
    for (; n < GL_NODE_MAX_PORTS && ports[n]; n++) {
        if (!*ports[n] || strcmp(ports[n], GL_NODE_ERROR_PORT) == 0)
            return false;
        for (int j = 0; j < n; j++)
            if (strcmp(ports[j], ports[n]) == 0)
                return false;
    }
    *count = n;
    return n < GL_NODE_MAX_PORTS; /* room for the terminating NULL */
}

/* A default is valid JSON of its parameter's own type. */
static void check_default(const gl_node_def_t *t, const gl_param_def_t *d)
{
    json_object *o = NULL;
    gl_err_t err;
    if (gl_json_parse(d->def, strlen(d->def), 8, &o, &err) != GL_OK)
        FAIL_AT("%s.%s: default %s is not JSON", t->type, d->name, d->def);
    bool ok = false;
    switch (d->type) {
    case GL_PARAM_STRING:
    case GL_PARAM_CODE:
    case GL_PARAM_CREDENTIAL:
        ok = json_object_is_type(o, json_type_string);
        break;
    case GL_PARAM_NUMBER:
        ok = json_object_is_type(o, json_type_int) || json_object_is_type(o, json_type_double);
        break;
    case GL_PARAM_BOOLEAN:
        ok = json_object_is_type(o, json_type_boolean);
        break;
    case GL_PARAM_SELECT:
        for (const char *const *opt = d->options; json_object_is_type(o, json_type_string) && *opt; opt++)
            ok |= strcmp(*opt, json_object_get_string(o)) == 0;
        break;
    case GL_PARAM_JSON:
        ok = true;
        break;
    }
    if (!ok)
        FAIL_AT("%s.%s: default %s is not a valid %s", t->type, d->name, d->def, gl_param_type_name(d->type));
    json_object_put(o);
}

/* The validator accepts the default as the parameter's value, with the
 * type's own checks (its validate callback). */
static void check_default_validates(const gl_node_def_t *t, const gl_param_def_t *d)
{
    char text[1024], field[96];
    snprintf(text, sizeof text, "{\"nodes\":[{\"id\":\"n\",\"type\":\"%s\",\"params\":{\"%s\":%s}}]}", t->type,
             d->name, d->def);
    snprintf(field, sizeof field, "params.%s", d->name);
    json_object *def = NULL;
    gl_err_t err;
    ASSERT_EQ(gl_json_parse(text, strlen(text), 16, &def, &err), GL_OK);
    gl_problems_t p;
    int rc = gl_workflow_validate(def, NULL, &p);
    (void)rc; /* other parameters may lack values: only this one counts */
    for (int i = 0; i < p.n; i++)
        if (strcmp(p.items[i].field, field) == 0)
            FAIL_AT("%s.%s: the validator refuses the default: %s", t->type, d->name, p.items[i].message);
    json_object_put(def);
}

static void check_params(const gl_node_def_t *t)
{
    int n = 0;
    for (const gl_param_def_t *d = t->params; n < GL_NODE_MAX_PARAMS && d->name; d++, n++) {
        if (!*d->name || !d->description || !*d->description)
            FAIL_AT("%s: parameter %d has no name or description", t->type, n);
        if (gl_node_param_find(t, d->name) != d)
            FAIL_AT("%s.%s: named twice", t->type, d->name);
        if ((d->type == GL_PARAM_SELECT) != (d->options != NULL))
            FAIL_AT("%s.%s: options belong to select parameters, and every select has them", t->type, d->name);
        if (d->options && !d->options[0])
            FAIL_AT("%s.%s: a select without options", t->type, d->name);
        if (d->def) {
            check_default(t, d);
            check_default_validates(t, d);
        }
    }
    if (n >= GL_NODE_MAX_PARAMS)
        FAIL_AT("%s: the params array needs a terminating row (at most %d parameters)", t->type,
                GL_NODE_MAX_PARAMS - 1);
}

TEST(every_descriptor_is_complete)
{
    ASSERT(gl_node_defs_count >= 16);
    int default_triggers = 0;
    for (size_t i = 0; i < gl_node_defs_count; i++) {
        const gl_node_def_t *t = gl_node_defs[i];
        ASSERT(t != NULL);
        if (!t->type || !*t->type || !t->display_name || !*t->display_name || !t->category || !*t->category ||
            !t->description || !*t->description)
            FAIL_AT("descriptor %zu (%s): type, display_name, category and description are required", i,
                    t->type ? t->type : "?");
        if (gl_node_def_find(t->type) != t)
            FAIL_AT("%s: listed twice, or another descriptor has its type", t->type);
        if (!t->run)
            FAIL_AT("%s: no run function", t->type);
        int n_in = 0, n_out = 0;
        if (!valid_port_list(t->inputs, &n_in) || !valid_port_list(t->outputs, &n_out))
            FAIL_AT("%s: port names must be non-empty, distinct, not '%s', fewer than %d", t->type,
                    GL_NODE_ERROR_PORT, GL_NODE_MAX_PORTS);
        if (n_out == 0)
            FAIL_AT("%s: no outputs", t->type);
        if (t->trigger != (n_in == 0))
            FAIL_AT("%s: a trigger has no inputs, every other node has some", t->type);
        if (!t->trigger && (t->default_trigger || t->trigger_kind || t->trigger_row))
            FAIL_AT("%s: trigger properties on a node that is no trigger", t->type);
        if (t->trigger_row && !t->trigger_kind)
            FAIL_AT("%s: a trigger row without a kind", t->type);
        if (t->loop_input && !gl_node_has_input(t, t->loop_input))
            FAIL_AT("%s: loop input '%s' is not one of its inputs", t->type, t->loop_input);
        if (t->loop_input && strcmp(t->inputs[0], t->loop_input) == 0)
            FAIL_AT("%s: the loop input cannot be the main (first) input", t->type);
        if (t->unique_param) {
            const gl_param_def_t *u = gl_node_param_find(t, t->unique_param);
            if (!u || u->type != GL_PARAM_STRING || !t->unique_what)
                FAIL_AT("%s: unique_param must name a string parameter, with unique_what", t->type);
            if (t->unique_generated && (!u || u->required || u->def))
                FAIL_AT("%s: a generated parameter is optional and has no default", t->type);
        }
        if (t->unique_generated && !t->unique_param)
            FAIL_AT("%s: unique_generated without a unique_param", t->type);
        default_triggers += t->default_trigger;
        check_params(t);
    }
    ASSERT_EQ(default_triggers, 1);
}

TEST(catalogue_json_lists_every_descriptor)
{
    ASSERT(gl_node_has_output(gl_node_def_find("http.request"), "error"));
    ASSERT(!gl_node_has_output(gl_node_def_find("trigger.manual"), "error"));
    ASSERT(gl_node_def_find("no.such") == NULL);
    ASSERT(gl_node_def_find(NULL) == NULL);
    gl_buf_t b;
    gl_buf_init(&b, 1 << 20);
    ASSERT_EQ(gl_engine_node_types_json(&b), GL_OK);
    json_object *o = NULL;
    gl_err_t err;
    ASSERT_EQ(gl_json_parse(b.data, b.len, 16, &o, &err), GL_OK);
    ASSERT_EQ(json_object_array_length(o), gl_node_defs_count);
    for (size_t i = 0; i < gl_node_defs_count; i++) {
        json_object *it = json_object_array_get_idx(o, i);
        ASSERT_STR_EQ(json_object_get_string(json_object_object_get(it, "id")), gl_node_defs[i]->type);
        ASSERT_STR_EQ(json_object_get_string(json_object_object_get(it, "name")), gl_node_defs[i]->display_name);
    }
    json_object_put(o);
    gl_buf_free(&b);
}

static json_object *triggers_of(const char *text)
{
    json_object *def = NULL;
    gl_err_t err;
    if (gl_json_parse(text, strlen(text), 16, &def, &err) != GL_OK)
        FAIL_AT("test JSON does not parse: %s", err.msg);
    json_object *rows = gl_engine_triggers(def);
    json_object_put(def);
    return rows;
}

TEST(trigger_rows)
{
    json_object *rows = triggers_of(
        "{\"settings\":{\"timezone\":\"Europe/Berlin\"},\"nodes\":["
        "{\"id\":\"m\",\"type\":\"trigger.manual\"},"
        "{\"id\":\"h\",\"type\":\"trigger.webhook\",\"params\":{\"path\":\"a/b\",\"mode\":\"sync\"}},"
        "{\"id\":\"off\",\"type\":\"trigger.webhook\",\"disabled\":true,\"params\":{\"path\":\"x\"}},"
        "{\"id\":\"s\",\"type\":\"trigger.schedule\",\"params\":{\"cron\":\"* * * * *\"}},"
        "{\"id\":\"s2\",\"type\":\"trigger.schedule\",\"params\":{\"cron\":\"0 1 * * *\",\"timezone\":\"Asia/Tokyo\"}},"
        "{\"id\":\"e\",\"type\":\"trigger.error\"},"
        "{\"id\":\"n\",\"type\":\"flow.noop\"}]}");
    ASSERT_STR_EQ(json_object_to_json_string_ext(rows, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
                  "[{\"node_id\":\"h\",\"kind\":\"webhook\",\"path\":\"a/b\",\"method\":\"POST\",\"mode\":\"sync\","
                  "\"secret\":null,\"signature\":\"none\"},"
                  "{\"node_id\":\"s\",\"kind\":\"schedule\",\"cron\":\"* * * * *\",\"timezone\":\"Europe/Berlin\"},"
                  "{\"node_id\":\"s2\",\"kind\":\"schedule\",\"cron\":\"0 1 * * *\",\"timezone\":\"Asia/Tokyo\"},"
                  "{\"node_id\":\"e\",\"kind\":\"error\"}]");
    json_object_put(rows);
    rows = triggers_of("{\"nodes\":[{\"id\":\"s\",\"type\":\"trigger.schedule\",\"params\":{\"cron\":\"* * * * *\"}}]}");
    ASSERT_STR_EQ(json_object_to_json_string_ext(rows, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
                  "[{\"node_id\":\"s\",\"kind\":\"schedule\",\"cron\":\"* * * * *\",\"timezone\":\"UTC\"}]");
    json_object_put(rows);
    /* a signed webhook's row names its credential and scheme (sql/017) */
    rows = triggers_of("{\"nodes\":[{\"id\":\"h\",\"type\":\"trigger.webhook\",\"params\":{\"path\":\"p\","
                       "\"secret\":\"stripe key\",\"signature\":\"stripe\",\"signature_tolerance_s\":60}}]}");
    ASSERT_STR_EQ(json_object_to_json_string_ext(rows, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
                  "[{\"node_id\":\"h\",\"kind\":\"webhook\",\"path\":\"p\",\"method\":\"POST\",\"mode\":\"async\","
                  "\"secret\":\"stripe key\",\"signature\":\"stripe\"}]");
    json_object_put(rows);
    rows = triggers_of("{\"nodes\":[{\"id\":\"m\",\"type\":\"trigger.manual\"}]}");
    ASSERT_EQ(json_object_array_length(rows), 0);
    json_object_put(rows);
    json_object *def = NULL;
    gl_err_t err;
    const char *text = "{\"nodes\":[{\"id\":\"m\",\"type\":\"trigger.manual\"},"
                       "{\"id\":\"e1\",\"type\":\"trigger.error\",\"disabled\":true},"
                       "{\"id\":\"e2\",\"type\":\"trigger.error\"}]}";
    ASSERT_EQ(gl_json_parse(text, strlen(text), 16, &def, &err), GL_OK);
    ASSERT_STR_EQ(gl_engine_trigger_node(def, "error"), "e1"); /* the first, enabled or not */
    ASSERT(gl_engine_trigger_node(def, "webhook") == NULL);
    json_object_put(def);
    rows = triggers_of("[1]");
    ASSERT_EQ(json_object_array_length(rows), 0);
    json_object_put(rows);
}

static char *plain(json_object *o)
{
    return strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}

TEST(generated_params)
{
    const char *text =
        "{\"nodes\":["
        "{\"id\":\"absent\",\"type\":\"trigger.webhook\"},"
        "{\"id\":\"noparams\",\"type\":\"trigger.webhook\",\"params\":{\"mode\":\"sync\"}},"
        "{\"id\":\"null\",\"type\":\"trigger.webhook\",\"params\":{\"path\":null}},"
        "{\"id\":\"empty\",\"type\":\"trigger.webhook\",\"disabled\":true,\"params\":{\"path\":\"\"}},"
        "{\"id\":\"custom\",\"type\":\"trigger.webhook\",\"params\":{\"path\":\"a/b\"}},"
        "{\"id\":\"gen\",\"type\":\"trigger.webhook\",\"params\":{\"path\":\"0f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b\"}},"
        "{\"id\":\"upper\",\"type\":\"trigger.webhook\",\"params\":{\"path\":\"0F1E2D3C-4B5A-4978-8A6B-5C4D3E2F1A0B\"}},"
        "{\"id\":\"v1\",\"type\":\"trigger.webhook\",\"params\":{\"path\":\"0f1e2d3c-4b5a-1978-8a6b-5c4d3e2f1a0b\"}},"
        "{\"id\":\"http\",\"type\":\"http.request\",\"params\":{\"url\":\"https://x.test\"}},"
        "{\"id\":\"other\",\"type\":\"data.set\",\"params\":{\"path\":\"0f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b\"}}]}";
    json_object *def = NULL;
    gl_err_t err;
    ASSERT_EQ(gl_json_parse(text, strlen(text), 16, &def, &err), GL_OK);
    json_object *list = gl_engine_generated_params(def);
    char *s = plain(list);
    ASSERT_STR_EQ(s, "[{\"node_id\":\"absent\",\"param\":\"path\"},{\"node_id\":\"noparams\",\"param\":\"path\"},"
                     "{\"node_id\":\"null\",\"param\":\"path\"},{\"node_id\":\"empty\",\"param\":\"path\"}]");
    free(s);
    json_object_put(list);
    /* a copy: only values shaped like the database's (lower-case v4 UUIDs) of generating types go */
    gl_engine_strip_generated(def);
    s = plain(json_object_object_get(def, "nodes"));
    ASSERT(strstr(s, "{\"id\":\"gen\",\"type\":\"trigger.webhook\",\"params\":{}}") != NULL);
    ASSERT(strstr(s, "\"a/b\"") && strstr(s, "0F1E2D3C-") && strstr(s, "-1978-"));
    ASSERT(strstr(s, "{\"id\":\"other\",\"type\":\"data.set\",\"params\":{\"path\":\"0f1e2d3c-") != NULL);
    free(s);
    list = gl_engine_generated_params(def); /* the stripped node now needs one */
    s = plain(list);
    ASSERT(strstr(s, "{\"node_id\":\"gen\",\"param\":\"path\"}") != NULL);
    free(s);
    json_object_put(list);
    json_object_put(def);
    for (const char *bad = "[1]"; bad; bad = strcmp(bad, "[1]") == 0 ? "{\"nodes\":{}}" : NULL) {
        ASSERT_EQ(gl_json_parse(bad, strlen(bad), 16, &def, &err), GL_OK);
        list = gl_engine_generated_params(def);
        ASSERT_EQ(json_object_array_length(list), 0);
        gl_engine_strip_generated(def);
        json_object_put(list);
        json_object_put(def);
    }
}

TEST_MAIN()
