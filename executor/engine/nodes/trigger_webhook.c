/*
 * trigger.webhook: its item is the call to /hooks/<path> — {method, path,
 * query, headers, body} — built by glyphic-fcgi (fcgi/hooks.c).
 * The engine hands the trigger's items to the fired trigger node as its
 * input; the node passes them on.
 */
#include "node.h"

#include <string.h>

static int run(gl_node_ctx_t *c)
{
    gl_node_pass(c, 0, 0);
    return GL_OK;
}

static const char *const hook_methods[] = { "GET", "POST", "PUT", "PATCH", "DELETE", "ANY", NULL };
static const char *const hook_modes[] = { "async", "sync", NULL };

static bool path_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 200 || s[0] == '/' || strstr(s, "..") || strstr(s, "//"))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              c == '-' || c == '.' || c == '/'))
            return false;
    }
    return true;
}

static void validate(gl_node_check_t *chk, const gl_param_def_t *d, json_object *v)
{
    /* an empty path is no path: the database generates one (unique_generated) */
    if (strcmp(d->name, "path") == 0 && json_object_is_type(v, json_type_string) &&
        json_object_get_string_len(v) > 0 && !path_ok(json_object_get_string(v)))
        gl_node_problem(chk, "webhook path must be 1-200 characters of letters, digits, - _ . / "
                             "without a leading slash or '..'");
}

/* {path, method, mode} of the webhooks row */
static void trigger_row(json_object *def, json_object *node, json_object *row)
{
    (void)def;
    const char *path = gl_node_param_string(node, "path");
    const char *method = gl_node_param_string(node, "method");
    const char *mode = gl_node_param_string(node, "mode");
    json_object_object_add(row, "path", path ? json_object_new_string(path) : NULL);
    json_object_object_add(row, "method", json_object_new_string(method ? method : "POST"));
    json_object_object_add(row, "mode", json_object_new_string(mode ? mode : "async"));
}

const gl_node_def_t gl_node_trigger_webhook = {
    .type = "trigger.webhook",
    .display_name = "Webhook",
    .category = "trigger",
    .description = "Starts the workflow when /hooks/<path> is called; query, headers and body become the item.",
    .outputs = { "main" },
    .params = {
        { "path", GL_PARAM_STRING, NULL, false, false, NULL,
          "URL path under /hooks/ (letters, digits, - _ / .); left out: a generated, unguessable one (a UUID) "
          "that later saves keep" },
        { "method", GL_PARAM_SELECT, "\"POST\"", false, false, hook_methods, "HTTP method the hook accepts" },
        { "mode", GL_PARAM_SELECT, "\"async\"", false, false, hook_modes, "async: answer 202 at once; sync: answer with the workflow's response" },
        { "timeout_ms", GL_PARAM_NUMBER, "30000", false, false, NULL, "sync mode: longest wait for the response" },
        { "secret", GL_PARAM_CREDENTIAL, NULL, false, false, NULL, "credential holding an HMAC-SHA256 key to verify signatures" },
    },
    .validate = validate,
    .run = run,
    .quick = true,
    .trigger = true,
    .unique_param = "path",
    .unique_what = "webhook path",
    .unique_generated = true,
    .trigger_kind = "webhook",
    .trigger_row = trigger_row,
};
