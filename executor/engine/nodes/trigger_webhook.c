/*
 * trigger.webhook: its item is the call to /hooks/<path> — {method, path,
 * query, headers, body} — built by glyphic-fcgi (fcgi/hooks.c).
 * The engine hands the trigger's items to the fired trigger node as its
 * input; the node passes them on.
 *
 * Signed webhooks: `secret` names a webhook.hmac credential of the
 * workflow's org and `signature` the scheme glyphic-fcgi checks before
 * anything starts (fcgi/webhook_signature.c): `stripe` or `github`. Both or
 * neither: a secret nobody checks, or a scheme without a key, is a mistake
 * the validator reports. The webhooks row carries both (sql/017), so the
 * hook's lookup finds the credential in the same statement.
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
static const char *const hook_signatures[] = { "none", "stripe", "github", NULL };

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

/* an HTTP header name (RFC 9110 token), as a caller's signature header */
static bool header_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 100)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-'))
            return false;
    }
    return true;
}

/* the node's `signature`, "none" when absent */
static const char *scheme_of(json_object *params)
{
    json_object *v = NULL;
    if (json_object_object_get_ex(params, "signature", &v) && json_object_is_type(v, json_type_string))
        return json_object_get_string(v);
    return "none";
}

static void validate(gl_node_check_t *chk, const gl_param_def_t *d, json_object *v)
{
    json_object *params = gl_node_check_params(chk), *secret = NULL;
    /* an empty path is no path: the database generates one (unique_generated) */
    if (strcmp(d->name, "path") == 0 && json_object_is_type(v, json_type_string) &&
        json_object_get_string_len(v) > 0 && !path_ok(json_object_get_string(v)))
        gl_node_problem(chk, "webhook path must be 1-200 characters of letters, digits, - _ . / "
                             "without a leading slash or '..'");
    if (strcmp(d->name, "secret") == 0 && strcmp(scheme_of(params), "none") == 0)
        gl_node_problem(chk, "a webhook secret needs a signature scheme: set signature to stripe or github");
    if (strcmp(d->name, "signature") == 0 && json_object_is_type(v, json_type_string) &&
        strcmp(json_object_get_string(v), "none") != 0 &&
        !(json_object_object_get_ex(params, "secret", &secret) && json_object_is_type(secret, json_type_string)))
        gl_node_problem(chk, "a signature scheme needs a secret: name a webhook.hmac credential in secret");
    if (strcmp(d->name, "signature_header") == 0 &&
        !(json_object_is_type(v, json_type_string) && header_ok(json_object_get_string(v))))
        gl_node_problem(chk, "signature_header must be a header name: 1-100 letters, digits and -");
    if (strcmp(d->name, "signature_tolerance_s") == 0 &&
        !(json_object_is_type(v, json_type_int) && json_object_get_int64(v) >= 1 &&
          json_object_get_int64(v) <= 86400))
        gl_node_problem(chk, "signature_tolerance_s must be a whole number of seconds from 1 to 86400");
}

/* {path, method, mode, secret, signature} of the webhooks row: secret is the
 * credential's name (null: none), signature the scheme ("none": unsigned).
 * Each key is the parameter's name and its value the parameter's, so the
 * database holds the row to the version (sql/013). */
static void trigger_row(json_object *def, json_object *node, json_object *row)
{
    (void)def;
    const char *path = gl_node_param_string(node, "path");
    const char *method = gl_node_param_string(node, "method");
    const char *mode = gl_node_param_string(node, "mode");
    const char *secret = gl_node_param_string(node, "secret");
    const char *signature = gl_node_param_string(node, "signature");
    json_object_object_add(row, "path", path ? json_object_new_string(path) : NULL);
    json_object_object_add(row, "method", json_object_new_string(method ? method : "POST"));
    json_object_object_add(row, "mode", json_object_new_string(mode ? mode : "async"));
    json_object_object_add(row, "secret", secret ? json_object_new_string(secret) : NULL);
    json_object_object_add(row, "signature", json_object_new_string(signature ? signature : "none"));
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
        { "secret", GL_PARAM_CREDENTIAL, NULL, false, false, NULL,
          "name of a webhook.hmac credential of the org: the HMAC-SHA256 key callers sign with (needs signature)" },
        { "signature", GL_PARAM_SELECT, "\"none\"", false, false, hook_signatures,
          "none: unsigned; stripe: header Stripe-Signature t=TIMESTAMP,v1=HEX where HEX is HMAC-SHA256 of "
          "\"TIMESTAMP.BODY\", TIMESTAMP within signature_tolerance_s of now; github: header X-Hub-Signature-256 "
          "sha256=HEX, HMAC-SHA256 of the raw body. A missing, malformed, wrong or stale signature answers 401 "
          "and starts nothing" },
        { "signature_header", GL_PARAM_STRING, NULL, false, false, NULL,
          "header that carries the signature (default: Stripe-Signature for stripe, X-Hub-Signature-256 for github)" },
        { "signature_tolerance_s", GL_PARAM_NUMBER, "300", false, false, NULL,
          "stripe: how many seconds the signed timestamp may be away from now, either way (1-86400)" },
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
