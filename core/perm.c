/*
 * perm.c: the permission matrix (mirrored in README.md, "Permissions").
 *
 *   action           viewer editor admin owner   API key scope
 *   self.read          x      x     x     x      read
 *   self.write         x      x     x     x      write
 *   account            x      x     x     x      (browser session only)
 *   keys               x      x     x     x      (browser session only; a key's
 *                                                scopes are capped by the role:
 *                                                write needs editor, admin needs admin)
 *   org.read           x      x     x     x      read
 *   org.manage                      x     x      admin
 *   audit.read                      x     x      admin
 *   queue.read                      x     x      read
 *   workflow.read      x      x     x     x      read
 *   workflow.write            x     x     x      write
 *   credential.read    x      x     x     x      read   (viewers: names and types only)
 *   credential.write          x     x     x      write
 *   oauth2.connect            x     x     x      (browser session only)
 *   variable.read      x      x     x     x      read
 *   variable.write            x     x     x      write
 *   file.read          x      x     x     x      read
 *   file.write                x     x     x      write
 *   oauth2.callback    (browser session only; the handler checks that the
 *                      session started the authorization and is still an
 *                      editor of the credential's org)
 *
 * Only owners may grant or take the owner role, and an org always keeps at
 * least one owner; those two rules live with the membership handlers.
 */
#include "perm.h"

#include <string.h>

/* { perm, name, denied, needs_auth, needs_org, session_only, min_role, scope } */
static const gl_perm_rule_t rules[] = {
    [GL_PERM_PUBLIC] = { GL_PERM_PUBLIC, "public", false, false, false, false, GL_ROLE_NONE, 0 },
    [GL_PERM_ANON_TX] = { GL_PERM_ANON_TX, "anonymous", false, false, false, false, GL_ROLE_NONE, 0 },
    [GL_PERM_SELF_READ] = { GL_PERM_SELF_READ, "self.read", false, true, false, false, GL_ROLE_NONE, GL_SCOPE_READ },
    [GL_PERM_SELF_WRITE] = { GL_PERM_SELF_WRITE, "self.write", false, true, false, false, GL_ROLE_NONE, GL_SCOPE_WRITE },
    [GL_PERM_ACCOUNT] = { GL_PERM_ACCOUNT, "account", false, true, false, true, GL_ROLE_NONE, 0 },
    [GL_PERM_KEYS] = { GL_PERM_KEYS, "keys", false, true, true, true, GL_ROLE_VIEWER, 0 },
    [GL_PERM_ORG_READ] = { GL_PERM_ORG_READ, "org.read", false, true, true, false, GL_ROLE_VIEWER, GL_SCOPE_READ },
    [GL_PERM_ORG_MANAGE] = { GL_PERM_ORG_MANAGE, "org.manage", false, true, true, false, GL_ROLE_ADMIN, GL_SCOPE_ADMIN },
    [GL_PERM_AUDIT_READ] = { GL_PERM_AUDIT_READ, "audit.read", false, true, true, false, GL_ROLE_ADMIN, GL_SCOPE_ADMIN },
    [GL_PERM_QUEUE_READ] = { GL_PERM_QUEUE_READ, "queue.read", false, true, true, false, GL_ROLE_ADMIN, GL_SCOPE_READ },
    [GL_PERM_WORKFLOW_READ] = { GL_PERM_WORKFLOW_READ, "workflow.read", false, true, true, false, GL_ROLE_VIEWER,
                                GL_SCOPE_READ },
    [GL_PERM_WORKFLOW_WRITE] = { GL_PERM_WORKFLOW_WRITE, "workflow.write", false, true, true, false, GL_ROLE_EDITOR,
                                 GL_SCOPE_WRITE },
    [GL_PERM_CREDENTIAL_READ] = { GL_PERM_CREDENTIAL_READ, "credential.read", false, true, true, false, GL_ROLE_VIEWER,
                                  GL_SCOPE_READ },
    [GL_PERM_CREDENTIAL_WRITE] = { GL_PERM_CREDENTIAL_WRITE, "credential.write", false, true, true, false,
                                   GL_ROLE_EDITOR, GL_SCOPE_WRITE },
    [GL_PERM_OAUTH2_CONNECT] = { GL_PERM_OAUTH2_CONNECT, "oauth2.connect", false, true, true, true, GL_ROLE_EDITOR,
                                 GL_SCOPE_WRITE },
    [GL_PERM_OAUTH2_CALLBACK] = { GL_PERM_OAUTH2_CALLBACK, "oauth2.callback", false, true, false, true, GL_ROLE_NONE,
                                  GL_SCOPE_WRITE },
    [GL_PERM_VARIABLE_READ] = { GL_PERM_VARIABLE_READ, "variable.read", false, true, true, false, GL_ROLE_VIEWER,
                                GL_SCOPE_READ },
    [GL_PERM_VARIABLE_WRITE] = { GL_PERM_VARIABLE_WRITE, "variable.write", false, true, true, false, GL_ROLE_EDITOR,
                                 GL_SCOPE_WRITE },
    [GL_PERM_FILE_READ] = { GL_PERM_FILE_READ, "file.read", false, true, true, false, GL_ROLE_VIEWER, GL_SCOPE_READ },
    [GL_PERM_FILE_WRITE] = { GL_PERM_FILE_WRITE, "file.write", false, true, true, false, GL_ROLE_EDITOR,
                             GL_SCOPE_WRITE },
};
/* the last permission has its row (a missing one in between is caught by
 * gl_perm_rule at run time and by test_perm) */
_Static_assert(GL_NELEM(rules) == GL_PERM__COUNT, "every permission needs a row in rules[]");

/* What an unknown or forgotten permission gets: authentication, an org, a
 * browser session, a role above owner and every scope — and denied first. */
static const gl_perm_rule_t denied = { GL_PERM_UNSET, "denied", true, true, true, true, GL_ROLE_OWNER + 1,
                                       GL_SCOPE_READ | GL_SCOPE_WRITE | GL_SCOPE_ADMIN };

const gl_perm_rule_t *gl_perm_rule(gl_perm_t perm)
{
    int p = (int)perm; /* an enum holds whatever int it was given */
    /* a zero-filled row (name NULL) is a row someone forgot */
    if (p <= (int)GL_PERM_UNSET || p >= (int)GL_PERM__COUNT || !rules[p].name || rules[p].perm != perm)
        return &denied;
    return &rules[p];
}

static const char *const role_names[] = { "none", "viewer", "editor", "admin", "owner" };

gl_role_t gl_role_parse(const char *s)
{
    for (int i = 1; i < (int)GL_NELEM(role_names); i++)
        if (s && strcmp(s, role_names[i]) == 0)
            return (gl_role_t)i;
    return GL_ROLE_NONE;
}

const char *gl_role_name(gl_role_t r)
{
    return r <= GL_ROLE_OWNER ? role_names[r] : "none";
}

unsigned gl_scopes_parse(const char *a)
{
    unsigned m = 0;
    if (!a)
        return 0;
    if (strstr(a, "read"))
        m |= GL_SCOPE_READ;
    if (strstr(a, "write"))
        m |= GL_SCOPE_WRITE;
    if (strstr(a, "admin"))
        m |= GL_SCOPE_ADMIN;
    return m;
}

bool gl_scope_allows(unsigned have, unsigned need)
{
    /* scopes are cumulative: admin implies write, write implies read */
    unsigned level = (have & GL_SCOPE_ADMIN) ? 3 : (have & GL_SCOPE_WRITE) ? 2 : (have & GL_SCOPE_READ) ? 1 : 0;
    unsigned want = (need & GL_SCOPE_ADMIN) ? 3 : (need & GL_SCOPE_WRITE) ? 2 : (need & GL_SCOPE_READ) ? 1 : 0;
    return level >= want;
}
