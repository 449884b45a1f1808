/*
 * routes.c: the one table of API resources. A new resource file exports a
 * gl_resource_t and gets a row here; nothing else changes (a handler that
 * streams its request body also gets a row in streaming[]).
 */
#include "router.h"

#include "audit.h"
#include "credential_test.h"
#include "credentials.h"
#include "execution_files.h"
#include "executions.h"
#include "expressions.h"
#include "files.h"
#include "auth.h"
#include "health.h"
#include "invitations.h"
#include "keys.h"
#include "me.h"
#include "metrics.h"
#include "node_types_api.h"
#include "oauth2.h"
#include "openapi.h"
#include "orgs.h"
#include "queue_api.h"
#include "variables.h"
#include "workflow_io.h"
#include "workflow_shares.h"
#include "workflow_versions.h"
#include "workflows.h"

const gl_resource_t *const gl_resources[] = {
    &gl_resource_health,
    &gl_resource_openapi,
    &gl_resource_auth,
    &gl_resource_me,
    &gl_resource_orgs,
    &gl_resource_invitations,
    &gl_resource_keys,
    &gl_resource_audit,
    &gl_resource_node_types,
    &gl_resource_queue,
    &gl_resource_workflow_io,
    &gl_resource_workflows,
    &gl_resource_workflow_versions,
    &gl_resource_workflow_shares,
    &gl_resource_executions,
    &gl_resource_execution_files,
    &gl_resource_expressions,
    &gl_resource_credentials,
    &gl_resource_credential_test,
    &gl_resource_oauth2,
    &gl_resource_variables,
    &gl_resource_files,
    &gl_resource_metrics,
};

const size_t gl_resources_count = GL_NELEM(gl_resources);

/* the handlers that stream the request body themselves */
static const gl_handler_fn streaming[] = {
    gl_files_upload,
};

bool gl_route_streams_body(const gl_route_t *rt)
{
    for (size_t i = 0; i < GL_NELEM(streaming); i++)
        if (rt->handler == streaming[i])
            return true;
    return false;
}
