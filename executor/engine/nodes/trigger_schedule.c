/*
 * trigger.schedule: its item is the firing — {timestamp, scheduled_at,
 * timezone, cron} — built by the executor's scheduler (executor/schedules.c).
 * The engine hands the trigger's items to the fired trigger node as its
 * input; the node passes them on.
 */
#include "node.h"

#include "cron.h"
#include "tz.h"

#include <string.h>

static int run(gl_node_ctx_t *c)
{
    gl_node_pass(c, 0, 0);
    return GL_OK;
}

static void validate(gl_node_check_t *chk, const gl_param_def_t *d, json_object *v)
{
    if (!json_object_is_type(v, json_type_string))
        return;
    gl_err_t err;
    gl_err_clear(&err);
    if (strcmp(d->name, "cron") == 0) {
        gl_cron_t cron;
        if (gl_cron_parse(json_object_get_string(v), &cron, &err) != GL_OK)
            gl_node_problem(chk, "%s", err.msg);
    } else if (strcmp(d->name, "timezone") == 0) {
        gl_tz_t *zone = NULL;
        if (gl_tz_load(json_object_get_string(v), &zone, &err) != GL_OK)
            gl_node_problem(chk, "%s", err.msg);
        gl_tz_free(zone);
    }
}

/* {cron, timezone} of the schedules row: the node's zone, else the
 * workflow's (settings.timezone), else UTC */
static void trigger_row(json_object *def, json_object *node, json_object *row)
{
    const char *cron = gl_node_param_string(node, "cron");
    const char *tz = gl_node_param_string(node, "timezone");
    json_object *settings = NULL, *v = NULL;
    if (!tz && json_object_object_get_ex(def, "settings", &settings) &&
        json_object_object_get_ex(settings, "timezone", &v) && json_object_is_type(v, json_type_string))
        tz = json_object_get_string(v);
    json_object_object_add(row, "cron", cron ? json_object_new_string(cron) : NULL);
    json_object_object_add(row, "timezone", json_object_new_string(tz ? tz : "UTC"));
}

const gl_node_def_t gl_node_trigger_schedule = {
    .type = "trigger.schedule",
    .display_name = "Schedule",
    .category = "trigger",
    .description = "Starts the workflow on a five-field cron schedule.",
    .outputs = { "main" },
    .params = {
        { "cron", GL_PARAM_STRING, NULL, true, false, NULL, "minute hour day-of-month month day-of-week, with ranges, steps and lists" },
        { "timezone", GL_PARAM_STRING, "\"UTC\"", false, false, NULL, "IANA time zone, e.g. Europe/Berlin" },
    },
    .validate = validate,
    .run = run,
    .quick = true,
    .trigger = true,
    .trigger_kind = "schedule",
    .trigger_row = trigger_row,
};
