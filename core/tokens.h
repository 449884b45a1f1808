/*
 * tokens.h: the credentials a request carries, read from its headers —
 * the session cookie and an API key in Authorization. Shared by
 * glyphic-fcgi and glyphic-events, so both accept exactly the same.
 */
#ifndef GL_TOKENS_H
#define GL_TOKENS_H

#include "crypto.h"
#include "gl.h"

#define GL_SESSION_COOKIE "glyphic_session"

/* True when s[0..n) is token text (base64url letters). */
bool gl_token_chars_ok(const char *s, size_t n);

/* The session token in a Cookie header value: the first well-formed
 * glyphic_session cookie (a sibling domain can plant more than one).
 * False when there is none. */
bool gl_cookie_session_token(const char *cookies, char out[GL_TOKEN_LEN + 1]);

/* The API key in an Authorization header value "Bearer gk_…": a pointer
 * into it, or NULL when the value is not a well-formed key. */
const char *gl_bearer_api_key(const char *authorization);

#endif
