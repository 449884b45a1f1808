/*
 * test_perm.c: the permission table fails closed. Every permission has its
 * own row, anything else gets the denied rule, and every route of the real
 * route table (fcgi/routes.c) names a permission that has one.
 */
#include "gl_test.h"
#include "router.h"

TEST(every_permission_has_its_row)
{
    for (int p = GL_PERM_UNSET + 1; p < GL_PERM__COUNT; p++) {
        const gl_perm_rule_t *r = gl_perm_rule((gl_perm_t)p);
        if (r->denied || r->perm != (gl_perm_t)p || !r->name || !*r->name)
            FAIL_AT("permission %d has no row of its own in core/perm.c (got \"%s\")", p, r->name);
    }
}

TEST(unknown_values_are_denied)
{
    const int values[] = { GL_PERM_UNSET, GL_PERM__COUNT, GL_PERM__COUNT + 1, 1000, -1, -1000 };
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        const gl_perm_rule_t *r = gl_perm_rule((gl_perm_t)values[i]);
        ASSERT(r != NULL);
        if (!r->denied)
            FAIL_AT("permission %d is not denied (got \"%s\")", values[i], r->name);
        /* and if a caller forgot to look at denied, the rest still refuses */
        ASSERT(r->needs_auth && r->needs_org && r->session_only);
        ASSERT(r->min_role > GL_ROLE_OWNER);
    }
}

TEST(only_public_and_anonymous_skip_authentication)
{
    for (int p = GL_PERM_UNSET + 1; p < GL_PERM__COUNT; p++) {
        const gl_perm_rule_t *r = gl_perm_rule((gl_perm_t)p);
        bool anonymous = p == GL_PERM_PUBLIC || p == GL_PERM_ANON_TX;
        if (r->needs_auth == anonymous)
            FAIL_AT("%s: needs_auth is %d", r->name, r->needs_auth);
    }
}

TEST(a_route_without_a_permission_is_denied)
{
    /* a row that leaves perm out (positional rows cannot: the build's
     * -Wmissing-field-initializers; designated ones can) is zero-filled */
    static const gl_route_t forgot = { .method = "GET", .pattern = "/api/forgot" };
    ASSERT_EQ(forgot.perm, GL_PERM_UNSET);
    ASSERT(gl_perm_rule(forgot.perm)->denied);
}

TEST(every_route_names_a_permission)
{
    size_t n = 0;
    for (size_t i = 0; i < gl_resources_count; i++) {
        const gl_resource_t *res = gl_resources[i];
        for (size_t j = 0; j < res->n_routes; j++, n++) {
            const gl_route_t *rt = &res->routes[j];
            if (gl_perm_rule(rt->perm)->denied)
                FAIL_AT("%s %s (resource %s) names no permission with a rule", rt->method, rt->pattern, res->name);
        }
    }
    ASSERT(n > 20);
}

TEST_MAIN()
