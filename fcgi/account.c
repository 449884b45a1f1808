/* account.c: input checks shared by the account resources, and the audit writer. */
#include "account.h"

#include "crypto.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static const gl_stmt_t q_audit = {
    .name = "audit_insert",
    .sql = "INSERT INTO audit_log (org_id, actor_id, action, target_type, target_id, ip, details) "
           "VALUES ($1, nullif($2, '')::uuid, $3, $4, $5, $6::inet, coalesce($7::jsonb, '{}'))",
    .nparams = 7,
    .rows = false,
};

int gl_audit(gl_req_t *req, const char *org_id, const char *action, const char *target_type,
             const char *target_id, const char *details_json)
{
    const char *org = org_id ? org_id : (req->auth.org_id[0] ? req->auth.org_id : NULL);
    const char *params[] = { org, req->auth.user_id, action, target_type, target_id, req->client_ip,
                             details_json };
    gl_err_t err;
    gl_err_clear(&err);
    int rc = gl_db_query(req->db, &q_audit, params, NULL, NULL, &err);
    if (rc != GL_OK)
        gl_resp_fail(req, rc, &err);
    return rc;
}

char *gl_account_clean_text(gl_req_t *req, const char *s, size_t max)
{
    size_t in_len = strlen(s);
    char *out = gl_arena_alloc(req->arena, (in_len < max ? in_len : max) + 1);
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)s, *end = p + in_len;
    while (*p) {
        size_t n = gl_utf8_seq(p, (size_t)(end - p));
        bool ok = n > 0 && (n > 1 || (*p >= 0x20 && *p != 0x7f));
        if (!ok)
            n = 1;
        size_t w = ok ? n : 1;
        if (o + w > max)
            break;
        if (ok)
            memcpy(out + o, p, n);
        else
            out[o] = '?';
        o += w;
        p += n;
    }
    out[o] = '\0';
    return out;
}

bool gl_account_password_ok(gl_req_t *req, const char *pw, const char *field)
{
    size_t n = strlen(pw);
    if (n < GL_PASSWORD_MIN || n > GL_PASSWORD_MAX) {
        gl_resp_error(req, 400, "invalid", field, "field '%s': the password must be %d to %d characters", field,
                      GL_PASSWORD_MIN, GL_PASSWORD_MAX);
        return false;
    }
    if (gl_password_common(pw)) {
        gl_resp_error(req, 400, "weak_password", field,
                      "field '%s': this password is on the list of common passwords; choose another", field);
        return false;
    }
    return true;
}

const char *gl_account_email(gl_req_t *req, const char *raw, const char *field)
{
    while (*raw == ' ' || *raw == '\t')
        raw++;
    size_t n = strlen(raw);
    while (n && (raw[n - 1] == ' ' || raw[n - 1] == '\t'))
        n--;
    if (n == 0 || n > GL_EMAIL_MAX) {
        gl_resp_error(req, 400, "invalid", field, "field '%s': an email address of at most %d characters is required",
                      field, GL_EMAIL_MAX);
        return NULL;
    }
    char *e = gl_arena_strndup(req->arena, raw, n);
    size_t at = 0, n_at = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)e[i];
        if (c <= 0x20 || c >= 0x7f || strchr("\"(),:;<>[\\]", c)) {
            gl_resp_error(req, 400, "invalid", field, "field '%s': not a valid email address", field);
            return NULL;
        }
        if (c == '@') {
            at = i;
            n_at++;
        }
        e[i] = (char)tolower(c);
    }
    const char *domain = e + at + 1;
    if (n_at != 1 || at == 0 || at > 64 || !*domain || !strchr(domain, '.') || domain[0] == '.' ||
        e[n - 1] == '.' || strstr(domain, "..")) {
        gl_resp_error(req, 400, "invalid", field, "field '%s': not a valid email address", field);
        return NULL;
    }
    return e;
}

const char *gl_account_string(gl_req_t *req, json_object *body, const char *field, size_t min_len,
                              size_t max_len, bool required)
{
    gl_err_t err;
    gl_err_clear(&err);
    const char *s = NULL;
    int rc = gl_json_get_string(body, field, required, max_len, &s, &err);
    if (rc == GL_NOTFOUND)
        return NULL;
    if (rc != GL_OK) {
        gl_resp_error(req, 400, "invalid", err.field, "%s", err.msg);
        return NULL;
    }
    if (strlen(s) < min_len) {
        gl_resp_error(req, 400, "invalid", field, "field '%s': at least %zu characters are required",
                      field, min_len);
        return NULL;
    }
    return s;
}

bool gl_account_fields(gl_req_t *req, const char *const *allowed)
{
    if (!req->json || !json_object_is_type(req->json, json_type_object)) {
        gl_resp_error(req, 400, "invalid", "body", "the request body must be a JSON object");
        return false;
    }
    gl_err_t err;
    gl_err_clear(&err);
    if (gl_json_only_keys(req->json, allowed, &err) != GL_OK) {
        gl_resp_error(req, 400, "invalid", err.field, "%s", err.msg);
        return false;
    }
    return true;
}
