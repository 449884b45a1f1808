/*
 * perm.h: the permission matrix — the one place that says which role and
 * which API-key scope each kind of action needs. Routes name a gl_perm_t;
 * the dispatcher checks it before the handler runs.
 *
 * It fails closed: the zero value (a route that forgot its permission), a
 * value outside the enum and a permission whose table row is missing all
 * get the denied rule, which nobody passes.
 */
#ifndef GL_PERM_H
#define GL_PERM_H

#include "gl.h"

typedef enum {
    GL_PERM_UNSET = 0,     /* no permission named: denied to everyone */
    GL_PERM_PUBLIC,        /* no authentication, no transaction context */
    GL_PERM_ANON_TX,       /* no authentication, but runs in a transaction (sign-up, log-in) */
    GL_PERM_SELF_READ,     /* the signed-in user's own data */
    GL_PERM_SELF_WRITE,
    GL_PERM_ACCOUNT,       /* password, sessions, log-out, API keys: browser sessions only */
    GL_PERM_KEYS,          /* one's API keys in the active org: browser sessions only */
    GL_PERM_ORG_READ,      /* an org, its members */
    GL_PERM_ORG_MANAGE,    /* rename, invite, change roles, remove members */
    GL_PERM_AUDIT_READ,
    GL_PERM_QUEUE_READ,    /* the org's jobs: counts and throughput */
    GL_PERM_WORKFLOW_READ,
    GL_PERM_WORKFLOW_WRITE,
    GL_PERM_CREDENTIAL_READ,  /* the org's credentials: names and types (viewers), fields too (editors) */
    GL_PERM_CREDENTIAL_WRITE, /* create, change, delete and test credentials */
    GL_PERM_OAUTH2_CONNECT, /* send the browser to an OAuth2 provider for a credential: browser sessions only */
    GL_PERM_OAUTH2_CALLBACK, /* the provider's redirect back: the session that started it (the handler checks) */
    GL_PERM_VARIABLE_READ,   /* the org's variables ($vars): keys and values, every member */
    GL_PERM_VARIABLE_WRITE,  /* create, change, delete variables */
    GL_PERM_FILE_READ,       /* the org's stored files: list, metadata, download, usage; every member */
    GL_PERM_FILE_WRITE,      /* upload and delete files */
    GL_PERM__COUNT
} gl_perm_t;

typedef enum {
    GL_ROLE_NONE = 0,
    GL_ROLE_VIEWER = 1,
    GL_ROLE_EDITOR = 2,
    GL_ROLE_ADMIN = 3,
    GL_ROLE_OWNER = 4,
} gl_role_t;

typedef enum {
    GL_SCOPE_READ = 1,
    GL_SCOPE_WRITE = 2,
    GL_SCOPE_ADMIN = 4,
} gl_scope_t;

typedef struct {
    gl_perm_t perm;
    const char *name;
    bool denied;         /* the denied rule: refuse before anything else */
    bool needs_auth;
    bool needs_org;      /* the request must work in an org the caller belongs to */
    bool session_only;   /* API keys may not do this */
    gl_role_t min_role;  /* GL_ROLE_NONE: any member (or no org needed) */
    unsigned scope;      /* the API-key scope it needs */
} gl_perm_rule_t;

/* The rule of perm (static storage, never NULL): the denied rule for
 * GL_PERM_UNSET, an unknown value or a permission the table lacks. */
const gl_perm_rule_t *gl_perm_rule(gl_perm_t perm);
gl_role_t gl_role_parse(const char *s);
const char *gl_role_name(gl_role_t r);
/* Parses a PostgreSQL text[] of scopes ("{read,write}") into a bit mask. */
unsigned gl_scopes_parse(const char *pg_array);
/* Does an API key holding scopes have lets it do what needs need?
 * (Cumulative: admin implies write, write implies read.) */
bool gl_scope_allows(unsigned have, unsigned need);

#endif
