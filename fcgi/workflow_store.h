/*
 * workflow_store.h: what the workflow resources share — checking a
 * definition from a request body, appending a version, explaining why an
 * update touched no row, and rendering a workflow.
 */
#ifndef GL_FCGI_WORKFLOW_STORE_H
#define GL_FCGI_WORKFLOW_STORE_H

#include "http.h"
#include "router.h"

/*
 * Validates the definition def (a member of the request body): GL_OK with
 * *text set to its compact JSON (arena memory), else a 400
 * invalid_definition response listing every problem is set.
 */
int gl_wf_definition(gl_req_t *req, json_object *def, const char **text) GL_WUR;

/* The columns of a version row, all derived from its validated definition
 * (arena text; error_trigger is borrowed from the definition's JSON). */
typedef struct {
    const char *definition;    /* compact JSON, from gl_wf_definition */
    const char *error_trigger; /* id of the error trigger node, or NULL */
    const char *generated;     /* JSON array: the parameters the database generates */
    const char *credentials;   /* JSON array: the credential names it uses */
} gl_wf_version_t;

/* Fills *out from def (validated) and text, its compact JSON; def must live
 * as long as *out is used. GL_OK, else an error response is set. */
int gl_wf_version_fields(gl_req_t *req, json_object *def, const char *text, gl_wf_version_t *out) GL_WUR;

/* Saves version v of workflow id on top of base_version, with message (may
 * be NULL), in one statement, and sends the workflow (200, ETag) — after
 * moving the triggers of an active workflow (409 when a webhook path is
 * taken). On a miss: 404, 403 or 409 as gl_wf_explain_miss sets them. */
int gl_wf_save(gl_req_t *req, const char *id, const char *base_version, const gl_wf_version_t *v,
               const char *message);

/* Appends version `version` of workflow id with definition text, then, if
 * the workflow is active, moves its triggers to that version (409 when a
 * webhook path is taken). Error responses are set on failure. */
int gl_wf_append_version(gl_req_t *req, const char *id, const char *version, const char *org_id,
                         const char *definition, const char *message, const char *restored_from,
                         bool active) GL_WUR;

/* Moves workflow id's webhook and schedule rows to version (the caller's
 * UPDATE holds the row), as gl_engine_triggers computes them from that
 * version's stored definition: 409 webhook_path_taken when a path belongs
 * to another active workflow; with need_trigger, 400 no_trigger when the
 * version has no trigger an active workflow serves. Error responses are
 * set on failure. */
int gl_wf_sync_triggers(gl_req_t *req, const char *id, const char *version, bool need_trigger) GL_WUR;

/*
 * After an UPDATE of workflow id matched no row: sets 404 (not visible),
 * 409 deleted / version_conflict (with the current workflow), or 403 (visible
 * but not editable by the caller). base_version may be NULL.
 */
void gl_wf_explain_miss(gl_req_t *req, const char *id, const char *base_version);

/* After a permanent delete matched no row: 404 (not visible), 409 (not in
 * the trash), or 403 (the caller may not delete it). */
void gl_wf_explain_purge_miss(gl_req_t *req, const char *id);

/* Sends the workflow (with its current definition) with status, and its
 * version as the ETag. 404 if not visible. */
int gl_wf_send(gl_req_t *req, int status, const char *id);
/* GET /api/workflows/:id's one statement, run ahead (router.h). */
bool gl_wf_get_ahead(gl_req_t *req, gl_ahead_t *a);

/* Reads the base version of a save: the If-Match header ("3" or W/"3"), or
 * the body's base_version. NULL (with a 428 response set) if neither. */
const char *gl_wf_base_version(gl_req_t *req, bool required);

/* Tags from a JSON array of strings as a JSON text for SQL, or NULL with a
 * 400 response set. */
const char *gl_wf_tags(gl_req_t *req, json_object *tags);

#endif
