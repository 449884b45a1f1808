/*
 * credential_types.c: the catalogue of credential types, and the check of
 * what a user stores against it (see engine.h, "Credential types").
 *
 * A type is one row here. Fields are strings; secret ones are sealed by
 * glyphic-fcgi (core/vault.c) and never sent back; system ones (OAuth2
 * tokens) are written only by the OAuth2 callback and the executor.
 */
#include "engine.h"

#include <stdio.h>
#include <string.h>

static const gl_cred_type_t types[] = {
    { "http.header", "Header API key", "Sends a secret in a request header of your choice (X-API-Key: …).", false,
      false,
      { { "header_name", "Header name", false, true, false, "e.g. X-API-Key" },
        { "value", "Value", true, true, false, "the key sent in that header" } } },
    { "http.bearer", "Bearer token", "Sends Authorization: Bearer <token>.", false, false,
      { { "token", "Token", true, true, false, "the bearer token" } } },
    { "http.basic", "Basic auth", "Sends Authorization: Basic with a user name and password.", false, false,
      { { "username", "User name", false, true, false, NULL },
        { "password", "Password", true, false, false, NULL } } },
    { "http.query", "Query-string key", "Appends a secret to the URL's query string (?api_key=…).", false, false,
      { { "param_name", "Parameter name", false, true, false, "e.g. api_key" },
        { "value", "Value", true, true, false, "the key sent in that parameter" } } },
    { "webhook.hmac", "HMAC webhook secret",
      "The shared secret a webhook trigger verifies signatures with (Stripe-style or GitHub-style HMAC-SHA256).",
      false, false, { { "secret", "Signing secret", true, true, false, "as the sending service shows it" } } },
    { "oauth2.code", "OAuth2 (authorization code)",
      "Connects an account at an OAuth2 provider through the browser (authorization code with PKCE); the executor "
      "renews the access token with the refresh token.",
      false, true,
      { { "auth_url", "Authorization URL", false, true, false, "the provider's authorization endpoint" },
        { "token_url", "Token URL", false, true, false, "the provider's token endpoint" },
        { "client_id", "Client ID", false, true, false, NULL },
        { "scope", "Scope", false, false, false, "space-separated scopes" },
        { "token_auth", "Client authentication", false, false, false,
          "body (client_id and client_secret in the form, the default) or basic (HTTP Basic)" },
        { "client_secret", "Client secret", true, false, false, NULL },
        { "access_token", "Access token", true, false, true, "written when the account is connected" },
        { "refresh_token", "Refresh token", true, false, true, "written when the account is connected" } } },
    { "oauth2.client", "OAuth2 (client credentials)",
      "Gets an access token with the client credentials grant; the executor asks for a new one when it expires.",
      false, false,
      { { "token_url", "Token URL", false, true, false, "the provider's token endpoint" },
        { "client_id", "Client ID", false, true, false, NULL },
        { "scope", "Scope", false, false, false, "space-separated scopes" },
        { "token_auth", "Client authentication", false, false, false,
          "body (client_id and client_secret in the form, the default) or basic (HTTP Basic)" },
        { "client_secret", "Client secret", true, true, false, NULL },
        { "access_token", "Access token", true, false, true, "written by the executor" } } },
    { "generic", "Generic key/value",
      "Any named values, for nodes and expressions to come: plain fields and secret fields of your own naming.",
      true, false, { { NULL, NULL, false, false, false, NULL } } },
};

const gl_cred_type_t *gl_engine_cred_type_find(const char *type)
{
    for (size_t i = 0; type && i < GL_NELEM(types); i++)
        if (strcmp(types[i].type, type) == 0)
            return &types[i];
    return NULL;
}

static const gl_cred_field_def_t *field_def(const gl_cred_type_t *t, const char *name)
{
    for (int i = 0; i < GL_CRED_MAX_FIELDS && t->fields[i].name; i++)
        if (strcmp(t->fields[i].name, name) == 0)
            return &t->fields[i];
    return NULL;
}

bool gl_engine_cred_is_secret(const gl_cred_type_t *t, const char *field)
{
    const gl_cred_field_def_t *d = field_def(t, field);
    return t->any_fields ? true : d && d->secret;
}

static int put_str(gl_buf_t *b, const char *s)
{
    if (!s)
        return gl_buf_puts(b, "null");
    json_object *j = json_object_new_string(s);
    int rc = gl_buf_puts(b, json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
    json_object_put(j);
    return rc;
}

int gl_engine_cred_types_json(gl_buf_t *out)
{
    int rc = gl_buf_puts(out, "[");
    for (size_t i = 0; i < GL_NELEM(types); i++) {
        const gl_cred_type_t *t = &types[i];
        rc |= gl_buf_puts(out, i ? ",{\"type\":" : "{\"type\":");
        rc |= put_str(out, t->type);
        rc |= gl_buf_puts(out, ",\"display_name\":");
        rc |= put_str(out, t->display_name);
        rc |= gl_buf_puts(out, ",\"description\":");
        rc |= put_str(out, t->description);
        rc |= gl_buf_puts(out, t->any_fields ? ",\"any_fields\":true" : ",\"any_fields\":false");
        rc |= gl_buf_puts(out, t->oauth2 ? ",\"oauth2\":true,\"fields\":[" : ",\"oauth2\":false,\"fields\":[");
        for (int f = 0; f < GL_CRED_MAX_FIELDS && t->fields[f].name; f++) {
            const gl_cred_field_def_t *d = &t->fields[f];
            rc |= gl_buf_puts(out, f ? ",{\"name\":" : "{\"name\":");
            rc |= put_str(out, d->name);
            rc |= gl_buf_puts(out, ",\"label\":");
            rc |= put_str(out, d->label);
            rc |= gl_buf_puts(out, d->secret ? ",\"secret\":true" : ",\"secret\":false");
            rc |= gl_buf_puts(out, d->required ? ",\"required\":true" : ",\"required\":false");
            rc |= gl_buf_puts(out, d->system ? ",\"system\":true" : ",\"system\":false");
            rc |= gl_buf_puts(out, ",\"help\":");
            rc |= put_str(out, d->help);
            rc |= gl_buf_puts(out, "}");
        }
        rc |= gl_buf_puts(out, "]}");
    }
    rc |= gl_buf_puts(out, "]");
    return rc ? GL_TOO_LARGE : GL_OK;
}

static bool name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64 || s[0] < 'a' || s[0] > 'z')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

/* A non-secret value's form: one line of text; a header name an HTTP token;
 * a URL absolute http(s); a user name without ':' (Basic auth splits on it). */
static bool format_ok(const char *name, const char *v, const char **why)
{
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p < 0x20 || *p == 0x7f) {
            *why = "must be one line of text without control characters";
            return false;
        }
    size_t n = strlen(v);
    if (strcmp(name, "header_name") == 0 || strcmp(name, "param_name") == 0) {
        static const char tchar[] = "!#$%&'*+-.^_`|~";
        for (size_t i = 0; i < n; i++)
            if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') || (v[i] >= '0' && v[i] <= '9') ||
                  strchr(tchar, v[i]))) {
                *why = "must be a header or parameter name (letters, digits and !#$%&'*+-.^_`|~)";
                return false;
            }
    }
    if (n > 4 && strcmp(name + strlen(name) - 4, "_url") == 0 && strncmp(v, "https://", 8) != 0 &&
        strncmp(v, "http://", 7) != 0) {
        *why = "must be an absolute http:// or https:// URL";
        return false;
    }
    if (strcmp(name, "username") == 0 && strchr(v, ':')) {
        *why = "must not contain ':' (Basic auth separates user name and password with it)";
        return false;
    }
    return true;
}

/* Checks one object of values (fields or secrets). */
static int check_values(const gl_cred_type_t *t, json_object *obj, bool secret_side, gl_err_t *err)
{
    const char *side = secret_side ? "secrets" : "fields";
    if (!json_object_is_type(obj, json_type_object)) {
        gl_err_field(err, side, "'%s' must be an object of strings", side);
        return GL_INVALID;
    }
    if (json_object_object_length(obj) > GL_CRED_MAX_FIELDS) {
        gl_err_field(err, side, "at most %d %s", GL_CRED_MAX_FIELDS, side);
        return GL_INVALID;
    }
    json_object_object_foreach(obj, name, val) {
        char where[96];
        snprintf(where, sizeof where, "%s.%.64s", side, name);
        if (!name_ok(name)) {
            gl_err_field(err, side, "'%.64s' is not a field name (lowercase letters, digits and _, up to 64)", name);
            return GL_INVALID;
        }
        const gl_cred_field_def_t *d = field_def(t, name);
        if (!t->any_fields && !d) {
            gl_err_field(err, where, "type %s has no field '%s'", t->type, name);
            return GL_INVALID;
        }
        if (d && d->secret != secret_side) {
            gl_err_field(err, where, "field '%s' belongs in '%s'", name, d->secret ? "secrets" : "fields");
            return GL_INVALID;
        }
        if (d && d->system) {
            gl_err_field(err, where, "field '%s' is written by Glyphic, not set by hand", name);
            return GL_INVALID;
        }
        if (val == NULL && secret_side)
            continue; /* clears it */
        if (!json_object_is_type(val, json_type_string)) {
            gl_err_field(err, where, "field '%s' must be a string%s", name, secret_side ? " or null" : "");
            return GL_INVALID;
        }
        size_t max = secret_side ? GL_CRED_MAX_SECRET_VALUE : GL_CRED_MAX_FIELD_VALUE;
        if ((size_t)json_object_get_string_len(val) > max) {
            gl_err_field(err, where, "field '%s' is longer than %zu bytes", name, max);
            return GL_INVALID;
        }
        const char *why = NULL;
        if (!secret_side && !format_ok(name, json_object_get_string(val), &why)) {
            gl_err_field(err, where, "field '%s' %s", name, why);
            return GL_INVALID;
        }
    }
    return GL_OK;
}

static bool listed(const char *const *names, const char *name)
{
    for (int i = 0; names && names[i]; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

int gl_engine_cred_check(const gl_cred_type_t *t, json_object *fields, json_object *secrets, bool creating,
                         const char *const *secrets_set, gl_err_t *err)
{
    int rc = GL_OK;
    if (fields && (rc = check_values(t, fields, false, err)) != GL_OK)
        return rc;
    if (secrets && (rc = check_values(t, secrets, true, err)) != GL_OK)
        return rc;
    if (t->any_fields && fields && secrets) {
        json_object_object_foreach(fields, name, val) {
            (void)val;
            if (json_object_object_get_ex(secrets, name, NULL)) {
                gl_err_field(err, "secrets", "'%.64s' is both a field and a secret", name);
                return GL_INVALID;
            }
        }
    }
    for (int i = 0; i < GL_CRED_MAX_FIELDS && t->fields[i].name; i++) {
        const gl_cred_field_def_t *d = &t->fields[i];
        if (!d->required)
            continue;
        json_object *side = d->secret ? secrets : fields, *v = NULL;
        bool given = side && json_object_object_get_ex(side, d->name, &v);
        bool present;
        if (given)
            present = v != NULL && json_object_get_string_len(v) > 0;
        else if (d->secret)
            present = !creating && listed(secrets_set, d->name); /* kept unless cleared */
        else
            present = !creating && !fields; /* fields given replace the stored ones */
        if (!present) {
            char where[96];
            snprintf(where, sizeof where, "%s.%s", d->secret ? "secrets" : "fields", d->name);
            gl_err_field(err, where, "type %s needs field '%s'", t->type, d->name);
            return GL_INVALID;
        }
    }
    json_object *ta = NULL;
    if (fields && json_object_object_get_ex(fields, "token_auth", &ta) && ta) {
        const char *v = json_object_get_string(ta);
        if (strcmp(v, "body") != 0 && strcmp(v, "basic") != 0 && v[0]) {
            gl_err_field(err, "fields.token_auth", "token_auth is body or basic");
            return GL_INVALID;
        }
    }
    return GL_OK;
}
