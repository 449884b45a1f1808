-- 010_trigger_rows: the webhook and schedule rows of an active workflow
-- come from the engine, not from SQL that knows node types.
--
-- wf_sync_triggers (003) derived the rows by reading the version's nodes
-- for the type names 'trigger.webhook' and 'trigger.schedule' and their
-- parameters. Node types belong to the engine (one descriptor per type,
-- executor/engine/nodes/), so the handler that activates or saves a
-- workflow now computes the rows from the stored, validated version with
-- gl_engine_triggers and passes them here: a JSON array of
--   {node_id, kind: "webhook", path, method, mode}
--   {node_id, kind: "schedule", cron, timezone}
--   {node_id, kind: "error"}  (and any kind without a table: no row)
-- This function keeps what is the database's: the edit right, the lock on
-- the workflow row, replacing the rows, the org of the rows, and that each
-- row names an enabled node of that version (the caller could otherwise
-- make rows no version holds). Behaviour is that of 003's function.
--
-- Likewise the node an error workflow starts at: exec_error_workflow (005,
-- 008) looked for the first node of type 'trigger.error' in the error
-- workflow's version. The handler that inserts a version now records it in
-- workflow_versions.error_trigger (gl_engine_trigger_node(def, "error"):
-- the first node, enabled or not, whose type's trigger kind is "error").
-- Versions saved before this file get it once, below, the old way.
SET LOCAL ROLE glyphic_owner;

ALTER TABLE glyphic.workflow_versions ADD COLUMN error_trigger text;
-- earlier versions: the first 'trigger.error' node, as 008's function
-- found it (only versions that have one are rewritten)
UPDATE glyphic.workflow_versions v
   SET error_trigger = (SELECT n->>'id' FROM jsonb_array_elements(v.definition->'nodes') WITH ORDINALITY AS t(n, ord)
                         WHERE n->>'type' = 'trigger.error' ORDER BY ord LIMIT 1)
 WHERE jsonb_typeof(v.definition->'nodes') = 'array'
   AND v.definition->'nodes' @> '[{"type": "trigger.error"}]';

-- 008's function, with the start node read from the version
CREATE OR REPLACE FUNCTION glyphic.exec_error_workflow(p_id uuid) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
  e glyphic.executions;
  def jsonb;
  target uuid;
  tver integer;
  tnode text;
  wname text;
BEGIN
  SELECT * INTO e FROM glyphic.executions WHERE id = p_id;
  IF NOT FOUND OR e.trigger = 'error' THEN
    RETURN NULL;  -- an error workflow's own failure does not cascade
  END IF;
  def := coalesce(e.definition, (SELECT v.definition FROM glyphic.workflow_versions v
                                   WHERE v.workflow_id = e.workflow_id AND v.version = e.version));
  IF def->'settings'->>'error_workflow_id' IS NULL THEN
    RETURN NULL;
  END IF;
  target := (def->'settings'->>'error_workflow_id')::uuid;
  SELECT w.current_version INTO tver FROM glyphic.workflows w
   WHERE w.id = target AND w.org_id = e.org_id AND w.deleted_at IS NULL
     AND glyphic.wf_readable_by(w.id, glyphic.exec_starter(e.id));
  IF NOT FOUND THEN
    UPDATE glyphic.executions
       SET error = coalesce(error, '{}') || jsonb_build_object('error_workflow', 'workflow not found')
     WHERE id = p_id;
    RETURN NULL;
  END IF;
  SELECT v.error_trigger INTO tnode
    FROM glyphic.workflow_versions v
   WHERE v.workflow_id = target AND v.version = tver;
  SELECT w.name INTO wname FROM glyphic.workflows w WHERE w.id = e.workflow_id;
  RETURN glyphic.exec_start(e.org_id, target, tver, NULL, 'error', tnode,
    jsonb_build_array(jsonb_build_object(
      'execution', jsonb_build_object('id', e.id, 'status', e.status, 'trigger', e.trigger,
                                      'error', e.error, 'started_at', e.started_at, 'finished_at', e.finished_at),
      'workflow', jsonb_build_object('id', e.workflow_id, 'name', wname, 'version', e.version))),
    e.id);
END
$$;


DROP FUNCTION glyphic.wf_sync_triggers(uuid, integer);

-- Replaces the webhook and schedule rows of a workflow with p_rows for
-- version p_version (NULL: removes them; p_rows may then be left out). It
-- first locks the workflow row, so a concurrent activate, save or delete
-- has committed (or waits) before the rows are replaced. The caller must be
-- allowed to edit the workflow; the rows take the workflow's org. Raises
-- unique_violation when a webhook path belongs to another workflow.
CREATE FUNCTION glyphic.wf_sync_triggers(p_workflow uuid, p_version integer, p_rows jsonb DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = glyphic, pg_temp AS $$
DECLARE
  org uuid;
BEGIN
  IF session_user = 'glyphic_app' AND NOT glyphic.wf_can_edit(p_workflow) THEN
    RAISE EXCEPTION 'not allowed to change this workflow' USING ERRCODE = '42501';
  END IF;
  IF p_version IS NOT NULL AND jsonb_typeof(p_rows) IS DISTINCT FROM 'array' THEN
    RAISE EXCEPTION 'the trigger rows of the version (a JSON array) are required' USING ERRCODE = '22023';
  END IF;
  SELECT w.org_id INTO org FROM glyphic.workflows w WHERE w.id = p_workflow FOR UPDATE;
  DELETE FROM glyphic.webhooks WHERE workflow_id = p_workflow;
  DELETE FROM glyphic.schedules WHERE workflow_id = p_workflow;
  IF p_version IS NULL THEN
    RETURN;
  END IF;
  IF EXISTS (
       SELECT 1 FROM jsonb_array_elements(p_rows) r
        WHERE jsonb_typeof(r) IS DISTINCT FROM 'object' OR NOT EXISTS (
                SELECT 1 FROM glyphic.workflow_versions v
                 CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(v.definition->'nodes') = 'array'
                                                              THEN v.definition->'nodes' ELSE '[]' END) n
                 WHERE v.workflow_id = p_workflow AND v.version = p_version
                   AND n->>'id' = r->>'node_id' AND NOT coalesce((n->>'disabled')::boolean, false))) THEN
    RAISE EXCEPTION 'a trigger row names no enabled node of version %', p_version USING ERRCODE = '22023';
  END IF;
  INSERT INTO glyphic.webhooks (org_id, workflow_id, version, node_id, path, method, mode)
  SELECT org, p_workflow, p_version, r->>'node_id', r->>'path', r->>'method', r->>'mode'
    FROM jsonb_array_elements(p_rows) r
   WHERE r->>'kind' = 'webhook';
  INSERT INTO glyphic.schedules (org_id, workflow_id, version, node_id, cron, timezone)
  SELECT org, p_workflow, p_version, r->>'node_id', r->>'cron', r->>'timezone'
    FROM jsonb_array_elements(p_rows) r
   WHERE r->>'kind' = 'schedule';
END
$$;

REVOKE EXECUTE ON FUNCTION glyphic.wf_sync_triggers(uuid, integer, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION glyphic.wf_sync_triggers(uuid, integer, jsonb) TO glyphic_app, glyphic_executor;
