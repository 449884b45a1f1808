/*
 * session.h: who is calling. Authenticates a request by its session cookie
 * or its API key, sets the database's request context (user and org, for
 * row level security) in the request's transaction, and applies the
 * permission matrix (perm.c), CSRF rule and API-key scopes.
 */
#ifndef GL_FCGI_SESSION_H
#define GL_FCGI_SESSION_H

#include "http.h"
#include "perm.h"
#include "router.h"
#include "tokens.h"

#define GL_ORG_HEADER "HTTP_X_GLYPHIC_ORG"
#define GL_CSRF_HEADER "HTTP_X_CSRF_TOKEN"

/*
 * Starts the request's transaction with the authentication query in the
 * same round trip, fills req->auth and checks the rule. GL_OK with the
 * transaction open, or the error response is set (401, 403, 404) and the
 * rc returned (the caller rolls back). With ahead (a read route's one
 * statement, see router.h) that statement and COMMIT ride in the same
 * round trip too: GL_OK then means the transaction has ended and the
 * handler's gl_db_query of that statement gets its result.
 */
int gl_session_authorize(gl_req_t *req, const gl_perm_rule_t *rule, const gl_ahead_t *ahead) GL_WUR;

/*
 * Authenticates again in a new transaction, for a handler whose request's
 * transaction has ended early (gl_db_query_commit committed it) and that
 * must go on: the rule is the route's, so the answer is what
 * gl_session_authorize would have given now (401 if the session ended
 * meanwhile). GL_OK with the new transaction open; else the error response
 * is set and nothing is open.
 */
int gl_session_again(gl_req_t *req) GL_WUR;

/* Adds Set-Cookie for a new session token (max_age seconds), or clears
 * the cookie when token is NULL. */
void gl_session_cookie(gl_req_t *req, const char *token, int max_age);

/* The session token from the Cookie header (borrowed), or NULL. */
const char *gl_session_token(gl_req_t *req);

#endif
