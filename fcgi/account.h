/*
 * account.h: helpers the account resources share — input checks for emails,
 * passwords and names, and the audit log writer.
 */
#ifndef GL_FCGI_ACCOUNT_H
#define GL_FCGI_ACCOUNT_H

#include "http.h"

#define GL_PASSWORD_MIN 10
#define GL_PASSWORD_MAX 128
#define GL_NAME_MAX 100
#define GL_EMAIL_MAX 254

/* Trims and lowercases an email into the arena; NULL (and a 400 response
 * naming field) if it is not a plausible address. */
const char *gl_account_email(gl_req_t *req, const char *raw, const char *field);

/* Reads a required string field with bounds; NULL with a 400 response set. */
const char *gl_account_string(gl_req_t *req, json_object *body, const char *field, size_t min_len,
                              size_t max_len, bool required);

/* Rejects unknown fields of the body (400 naming the field); false if rejected.
 * A body that is not a JSON object is rejected too. */
bool gl_account_fields(gl_req_t *req, const char *const *allowed);

/* A copy of s (arena) cut to at most max bytes at a character boundary,
 * with anything that is not printable ASCII or valid UTF-8 replaced by '?'. */
char *gl_account_clean_text(gl_req_t *req, const char *s, size_t max);

/* Checks a new password's length (GL_PASSWORD_MIN..MAX bytes) and that it
 * is not a common password (400 weak_password); false with
 * a 400 naming field. */
bool gl_account_password_ok(gl_req_t *req, const char *pw, const char *field);

/* Appends an audit record in the current transaction: action, the target,
 * and details (a JSON object text or NULL). org_id NULL: the request's org. */
int gl_audit(gl_req_t *req, const char *org_id, const char *action, const char *target_type,
             const char *target_id, const char *details_json) GL_WUR;

#endif
