/*
 * creds.c: credentials as nodes see them (engine.h explains the model).
 * A node asks for a credential by name through gl_node_credential; the
 * run's source (gl_run_t.creds) opens it; every secret value it hands out
 * joins the execution's redaction list, which attempt.c and engine.c
 * apply to everything recorded or returned.
 */
#include "exec_int.h"

#include <string.h>

gl_oauth2_cred_t gl_cred_oauth2(const gl_cred_t *c, const char *org_id, const char *id, const char *name)
{
    return (gl_oauth2_cred_t){
        .org_id = org_id,
        .id = id,
        .name = name,
        .token_url = gl_cred_field(c, "token_url"),
        .client_id = gl_cred_field(c, "client_id"),
        .scope = gl_cred_field(c, "scope"),
        .token_auth = gl_cred_field(c, "token_auth"),
        .client_secret = gl_cred_secret(c, "client_secret", NULL),
        .refresh_token = gl_cred_secret(c, "refresh_token", NULL),
    };
}

const char *gl_cred_field(const gl_cred_t *c, const char *field)
{
    json_object *v;
    if (!c || !c->fields || !json_object_object_get_ex(c->fields, field, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

const char *gl_cred_secret(const gl_cred_t *c, const char *field, size_t *len)
{
    for (int i = 0; c && i < c->n_secrets; i++) {
        if (strcmp(c->secrets[i].name, field) == 0) {
            if (len)
                *len = c->secrets[i].len;
            return c->secrets[i].value;
        }
    }
    return NULL;
}

void gl_node_secret(gl_node_ctx_t *c, const char *s, size_t n)
{
    if (!c->exec || !s || n == 0)
        return; /* a node run by hand (unit tests) has no execution */
    if (!c->exec->redact)
        c->exec->redact = gl_redact_new();
    gl_redact_add(c->exec->redact, s, n);
}

/* The outcome of a source's call, for the node: its secrets listed for
 * redaction, or its error as the node's. */
static int took(gl_node_ctx_t *c, int rc, const gl_cred_t *cred, const gl_err_t *err)
{
    if (rc == GL_OK) {
        for (int i = 0; i < cred->n_secrets; i++)
            gl_node_secret(c, cred->secrets[i].value, cred->secrets[i].len);
        return GL_OK;
    }
    c->retryable = rc == GL_UNAVAILABLE;
    gl_node_fail(c, "%s", err->msg[0] ? err->msg : "the credential cannot be used");
    return rc;
}

int gl_node_credential(gl_node_ctx_t *c, const char *name, const gl_cred_t **out)
{
    gl_err_t err;
    *out = NULL;
    if (!c->run || !c->run->creds.get) {
        c->retryable = false;
        gl_node_fail(c, "credential '%.200s' cannot be used here: this run has no credential store (credentials "
                        "are opened by glyphic-executor; `glyphic run` and the web server's direct path have none)",
                     name);
        return GL_INVALID;
    }
    gl_err_clear(&err);
    int rc = c->run->creds.get(c->run->creds.arg, name, c->deadline_ms, out, &err);
    return took(c, rc, *out, &err);
}

int gl_node_credential_refresh(gl_node_ctx_t *c, const char *name, const char *used_token, const gl_cred_t **out)
{
    gl_err_t err;
    *out = NULL;
    if (!c->run || !c->run->creds.refresh) {
        c->retryable = false;
        gl_node_fail(c, "credential '%.200s' cannot be refreshed here", name);
        return GL_INVALID;
    }
    gl_err_clear(&err);
    int rc = c->run->creds.refresh(c->run->creds.arg, name, used_token, c->deadline_ms, out, &err);
    return took(c, rc, *out, &err);
}
