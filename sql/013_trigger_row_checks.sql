-- 013_trigger_row_checks: the trigger rows an activation passes are held to
-- the version they name, and no glyphic function is executable by PUBLIC.
--
-- 010 made the handler compute a version's webhook and schedule rows
-- (gl_engine_triggers, from the validated definition) and checked only that
-- each row names an enabled node of that version. Now every value of a row
-- (path, method, mode, cron, timezone …: every key but node_id and kind)
-- whose name is a text parameter the node sets must equal that parameter, so a
-- caller cannot serve a path or a schedule the version does not hold.
-- Values the definition leaves to a default (a webhook's method, a
-- schedule's time zone from the workflow's settings) are the handler's,
-- as are the rows' kinds: the database knows no node types (the engine's
-- descriptors do), and whoever may activate the workflow may edit it.
--
-- 001 revoked EXECUTE from PUBLIC with a default privilege IN SCHEMA
-- glyphic, which PostgreSQL cannot apply (a per-schema default can only
-- add to the global one), so functions created without an explicit REVOKE
-- (hook_enqueue, hook_record, hook_result, exec_visible and others) were
-- executable by PUBLIC. Revoked here for all of them, and the global
-- default for the owner's future functions; glyphic_app and
-- glyphic_executor keep what they were granted.
SET LOCAL ROLE glyphic_owner;

CREATE OR REPLACE FUNCTION glyphic.wf_sync_triggers(p_workflow uuid, p_version integer, p_rows jsonb DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = glyphic, pg_temp AS $$
DECLARE
  org uuid;
BEGIN
  IF NOT glyphic.role_trusted(session_user) AND NOT glyphic.wf_can_edit(p_workflow) THEN
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
                   AND n->>'id' = r->>'node_id' AND NOT coalesce((n->>'disabled')::boolean, false)
                   AND NOT EXISTS (
                         SELECT 1 FROM jsonb_each(r) kv
                          WHERE kv.key NOT IN ('node_id', 'kind')
                            AND jsonb_typeof(n->'params') = 'object' AND jsonb_typeof(n->'params'->kv.key) = 'string'
                            AND n->'params'->kv.key IS DISTINCT FROM kv.value))) THEN
    RAISE EXCEPTION 'a trigger row names no enabled node of version %, or differs from its parameters', p_version
      USING ERRCODE = '22023';
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

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA glyphic FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE glyphic_owner REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

-- role_trusted (011) runs in every enqueue and every execution insert. As
-- a SQL function with a SET clause it could not be inlined, and it read
-- pg_roles on every call: a webhook execution cost two such calls. Now the
-- common answers (glyphic_app: no; glyphic_owner, glyphic_executor: yes)
-- are an expression the planner inlines into its caller (no SET clause, no
-- subquery; operators named in pg_catalog, so no search_path can change
-- them), and only another role asks the catalogue whether it is a superuser.
CREATE FUNCTION glyphic.role_is_superuser(p_role name) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT coalesce((SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = p_role), false)
$$;
REVOKE EXECUTE ON FUNCTION glyphic.role_is_superuser(name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION glyphic.role_is_superuser(name) TO glyphic_app, glyphic_executor;

CREATE OR REPLACE FUNCTION glyphic.role_trusted(p_role name) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN p_role OPERATOR(pg_catalog.=) 'glyphic_app'::pg_catalog.name THEN false
              WHEN p_role OPERATOR(pg_catalog.=) 'glyphic_owner'::pg_catalog.name
                OR p_role OPERATOR(pg_catalog.=) 'glyphic_executor'::pg_catalog.name THEN true
              ELSE glyphic.role_is_superuser(p_role) END
$$;

-- 011's executions_unfinished index had status in its predicate, so every
-- queued -> running change of an execution became a non-HOT update that
-- wrote all of the table's indexes (the async webhook path measured 0.6x).
-- The unfinished are indexed by finished_at IS NULL instead (finished_at
-- is indexed already, so its change was never HOT), and exec_reap says so.
DROP INDEX glyphic.executions_unfinished;
CREATE INDEX executions_unfinished ON glyphic.executions (created_at) WHERE finished_at IS NULL;

CREATE OR REPLACE FUNCTION glyphic.exec_reap() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  n integer;
BEGIN
  WITH r AS (
    UPDATE glyphic.executions e
       SET status = 'failed', finished_at = now(),
           error = jsonb_build_object('message', CASE WHEN e.trigger = 'subworkflow'
                     THEN 'the parent execution ended before this subworkflow finished'
                     ELSE 'the executor gave up on this execution (its job failed too often)' END)
     WHERE e.finished_at IS NULL AND e.status IN ('queued', 'running')
       AND CASE WHEN e.trigger = 'subworkflow'
                THEN NOT EXISTS (SELECT 1 FROM glyphic.executions p WHERE p.id = e.parent_id
                                    AND p.status IN ('queued', 'running', 'waiting'))
                     AND e.created_at < now() - interval '1 minute'
                ELSE NOT EXISTS (SELECT 1 FROM glyphic.jobs j WHERE j.kind = 'workflow.run'
                                    AND j.payload->>'execution_id' = e.id::text
                                    AND j.state IN ('queued', 'running', 'failed')) END
    RETURNING 1)
  SELECT count(*)::integer INTO n FROM r;
  RETURN n;
END
$$;
