/*
 * flow.wait: pauses the execution for `seconds` (mode duration) or until
 * an ISO 8601 time (mode until), then passes its items on. The engine
 * parks the execution: its step is recorded as waiting, the job ends, and
 * a job due at the end of the wait resumes it — no process waits. A time
 * already past passes the items on at once. Waits longer than a year are
 * refused.
 */
#include "node.h"

#include "dates.h"
#include "expr_date_int.h"

#include <string.h>

#define MAX_WAIT_MS (366LL * 86400 * 1000)

static int run(gl_node_ctx_t *c)
{
    const char *m;
    if (gl_node_param_str(c, "mode", 0, &m) != GL_OK)
        return GL_INVALID;
    bool until_mode = m && strcmp(m, "until") == 0;
    int64_t now = gl_wall_ms(), until;
    if (until_mode) {
        const char *s;
        if (gl_node_param_str(c, "until", 0, &s) != GL_OK)
            return GL_INVALID;
        /* 2026-11-25T19:33:53Z, …53.123Z, …53+01:00, 2026-11-25 (UTC midnight) */
        if (!s || !gl__date_iso_instant(s, strlen(s), &until))
            return gl_node_fail(c, "parameter 'until' must be an ISO 8601 time with a zone, e.g. 2026-12-01T09:00:00Z");
    } else {
        json_object *v;
        if (gl_node_param(c, "seconds", 0, &v) != GL_OK)
            return GL_INVALID;
        double secs = v && (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double) ||
                            json_object_is_type(v, json_type_string))
                          ? json_object_get_double(v)
                          : -1;
        json_object_put(v);
        if (!(secs >= 0))
            return gl_node_fail(c, "parameter 'seconds' must be a number of seconds, 0 or more");
        if (secs * 1000 > (double)MAX_WAIT_MS)
            return gl_node_fail(c, "waits are limited to 366 days");
        until = now + (int64_t)(secs * 1000);
    }
    if (until - now > MAX_WAIT_MS)
        return gl_node_fail(c, "waits are limited to 366 days");
    c->park_until_ms = until > now ? until : 0;
    gl_node_pass(c, 0, 0);
    return GL_OK;
}

static const char *const wait_modes[] = { "duration", "until", NULL };

const gl_node_def_t gl_node_flow_wait = {
    .type = "flow.wait",
    .display_name = "Wait",
    .category = "flow",
    .description = "Pauses the execution for a duration or until a time; no process waits.",
    .inputs = { "main" },
    .outputs = { "main" },
    .params = {
        { "mode", GL_PARAM_SELECT, "\"duration\"", false, false, wait_modes, "wait for a duration or until a time" },
        { "seconds", GL_PARAM_NUMBER, NULL, false, true, NULL, "duration mode: seconds to wait" },
        { "until", GL_PARAM_STRING, NULL, false, true, NULL, "until mode: an ISO 8601 time" },
    },
    .run = run,
    .quick = false,
};
