/*
 * trigger.schedule: its item is the firing — {timestamp, scheduled_at,
 * timezone, cron} — built by the executor's scheduler (executor/schedules.c).
 * The engine hands the trigger's items to the fired trigger node as its
 * input; the node passes them on.
 */
#include "node.h"

int gl_node_trigger_schedule(gl_node_ctx_t *c)
{
    gl_node_pass(c, 0, 0);
    return GL_OK;
}
