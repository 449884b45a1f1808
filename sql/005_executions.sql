-- 005_executions: executions, their steps, and the functions that start,
-- record and finish them.
--
-- An execution is one run of one workflow version (or of an unsaved
-- definition, for test runs from the editor). Every node attempt is a row
-- of execution_steps, written before the engine moves on, so an execution
-- interrupted by a crash resumes from its last finished step: the engine
-- replays the recorded steps in order instead of running their nodes again.
--
-- Visibility: an execution is visible when its workflow is (the workflows
-- policies decide), so a member who cannot see a workflow cannot see its
-- runs either. The executor is trusted and sees everything.
SET LOCAL ROLE glyphic_owner;

CREATE TABLE glyphic.executions (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id           uuid NOT NULL,
  workflow_id      uuid NOT NULL,
  version          integer,            -- the version that ran; NULL: an unsaved definition
  definition       jsonb,              -- unsaved test runs only
  status           text NOT NULL DEFAULT 'queued'
                   CHECK (status IN ('queued', 'running', 'waiting', 'succeeded', 'failed', 'canceled')),
  trigger          text NOT NULL
                   CHECK (trigger IN ('manual', 'webhook', 'schedule', 'error', 'subworkflow', 'retry')),
  trigger_node     text,
  input            jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(input) = 'array'),
  output           jsonb,              -- the last node's output items
  response         jsonb,              -- what flow.respond set: {status, headers, body}
  error            jsonb,              -- {message, node, node_name}
  parent_id        uuid,               -- the execution that started this one (subworkflow, error workflow, retry)
  created_by       uuid REFERENCES glyphic.users ON DELETE SET NULL,
  cancel_requested boolean NOT NULL DEFAULT false,
  watchers         integer NOT NULL DEFAULT 0,  -- live event streams: steps are announced only when > 0
  wait_until       timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  started_at       timestamptz,
  finished_at      timestamptz,
  FOREIGN KEY (workflow_id, org_id) REFERENCES glyphic.workflows (id, org_id) ON DELETE CASCADE
);
CREATE INDEX executions_org_created ON glyphic.executions (org_id, created_at DESC, id DESC);
CREATE INDEX executions_workflow_created ON glyphic.executions (workflow_id, created_at DESC, id DESC);
CREATE INDEX executions_finished ON glyphic.executions (finished_at) WHERE finished_at IS NOT NULL;

CREATE TABLE glyphic.execution_steps (
  execution_id uuid NOT NULL REFERENCES glyphic.executions ON DELETE CASCADE,
  seq          integer NOT NULL CHECK (seq > 0),
  org_id       uuid NOT NULL,
  node_id      text NOT NULL,
  run_index    integer NOT NULL,       -- the node activation this attempt belongs to
  attempt      integer NOT NULL CHECK (attempt > 0),
  status       text NOT NULL CHECK (status IN ('succeeded', 'failed', 'waiting')),
  input        jsonb,                  -- items per input port
  output       jsonb,                  -- items per output port (a failed attempt that continued: its error port)
  state        jsonb,                  -- node state carried to its next activation (flow.loop)
  error        jsonb,
  started_at   timestamptz NOT NULL,
  finished_at  timestamptz NOT NULL,
  PRIMARY KEY (execution_id, seq)
);

ALTER TABLE glyphic.executions ENABLE ROW LEVEL SECURITY;
ALTER TABLE glyphic.executions FORCE ROW LEVEL SECURITY;
CREATE POLICY executions_trusted ON glyphic.executions USING ((SELECT glyphic.rls_trusted()));
CREATE POLICY executions_read ON glyphic.executions FOR SELECT
  USING (org_id = (SELECT glyphic.current_org_id())
         AND EXISTS (SELECT 1 FROM glyphic.workflows w WHERE w.id = executions.workflow_id));
CREATE POLICY executions_start ON glyphic.executions FOR INSERT
  WITH CHECK (org_id = (SELECT glyphic.current_org_id()) AND glyphic.wf_can_edit(workflow_id));
CREATE POLICY executions_change ON glyphic.executions FOR UPDATE
  USING (org_id = (SELECT glyphic.current_org_id()) AND glyphic.wf_can_edit(workflow_id));
CREATE POLICY executions_delete ON glyphic.executions FOR DELETE
  USING (org_id = (SELECT glyphic.current_org_id()) AND glyphic.wf_can_edit(workflow_id));
REVOKE UPDATE ON glyphic.executions FROM glyphic_app;
GRANT UPDATE (status, cancel_requested, finished_at, watchers) ON glyphic.executions TO glyphic_app;

ALTER TABLE glyphic.execution_steps ENABLE ROW LEVEL SECURITY;
ALTER TABLE glyphic.execution_steps FORCE ROW LEVEL SECURITY;
CREATE POLICY execution_steps_trusted ON glyphic.execution_steps USING ((SELECT glyphic.rls_trusted()));
CREATE POLICY execution_steps_read ON glyphic.execution_steps FOR SELECT
  USING (EXISTS (SELECT 1 FROM glyphic.executions e WHERE e.id = execution_steps.execution_id));
-- steps copied into a retry execution (retry from the failed step)
CREATE POLICY execution_steps_copy ON glyphic.execution_steps FOR INSERT
  WITH CHECK (EXISTS (SELECT 1 FROM glyphic.executions e WHERE e.id = execution_steps.execution_id
                        AND e.status = 'queued' AND e.trigger = 'retry' AND e.started_at IS NULL
                        AND e.org_id = (SELECT glyphic.current_org_id()) AND e.org_id = execution_steps.org_id
                        AND glyphic.wf_can_edit(e.workflow_id)));
REVOKE UPDATE, DELETE ON glyphic.execution_steps FROM glyphic_app;

-- Starts an execution: the row and its job, in the caller's transaction.
-- glyphic-fcgi calls it within a request (row level security decides
-- whether the user may run the workflow); the executor for schedules, error
-- workflows and subworkflows.
CREATE FUNCTION glyphic.exec_start(p_org uuid, p_workflow uuid, p_version integer, p_definition jsonb,
                                   p_trigger text, p_trigger_node text, p_input jsonb,
                                   p_parent uuid DEFAULT NULL, p_created_by uuid DEFAULT NULL,
                                   p_status text DEFAULT 'queued', p_id uuid DEFAULT NULL)
RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
  eid uuid;
BEGIN
  INSERT INTO glyphic.executions (id, org_id, workflow_id, version, definition, trigger, trigger_node, input,
                                  parent_id, created_by, status, started_at)
  VALUES (coalesce(p_id, gen_random_uuid()), p_org, p_workflow, p_version, p_definition, p_trigger, p_trigger_node,
          coalesce(p_input, '[]'),
          p_parent, p_created_by, p_status, CASE WHEN p_status = 'running' THEN now() END)
  RETURNING id INTO eid;
  IF p_status = 'queued' THEN
    PERFORM glyphic.enqueue('workflow.run', jsonb_build_object('execution_id', eid), 'default', p_org,
                            0::smallint, NULL, 5);
  END IF;
  RETURN eid;
END
$$;

-- The executor takes an execution up: marks it running and returns what
-- the engine needs (definition, input, the steps recorded so far), or NULL
-- when there is nothing to run (finished, canceled, or deleted).
CREATE FUNCTION glyphic.exec_load(p_id uuid) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  e glyphic.executions;
  def jsonb;
  wname text;
BEGIN
  SELECT * INTO e FROM glyphic.executions WHERE id = p_id FOR UPDATE;
  IF NOT FOUND OR e.status IN ('succeeded', 'failed', 'canceled') THEN
    RETURN NULL;
  END IF;
  IF e.cancel_requested THEN
    UPDATE glyphic.executions SET status = 'canceled', finished_at = now(),
           error = jsonb_build_object('message', 'canceled')
     WHERE id = p_id;
    PERFORM pg_notify('gx_' || p_id::text, 'canceled');
    RETURN NULL;
  END IF;
  SELECT w.name INTO wname FROM glyphic.workflows w WHERE w.id = e.workflow_id;
  IF e.definition IS NOT NULL THEN
    def := e.definition;
  ELSE
    SELECT v.definition INTO def FROM glyphic.workflow_versions v
     WHERE v.workflow_id = e.workflow_id AND v.version = e.version;
  END IF;
  UPDATE glyphic.executions SET status = 'running', started_at = coalesce(started_at, now()), wait_until = NULL
   WHERE id = p_id;
  RETURN jsonb_build_object(
    'id', e.id, 'org_id', e.org_id, 'workflow_id', e.workflow_id, 'workflow_name', wname,
    'version', e.version, 'definition', def, 'trigger', e.trigger, 'trigger_node', e.trigger_node,
    'input', e.input, 'parent_id', e.parent_id, 'watchers', e.watchers,
    'steps', coalesce((SELECT jsonb_agg(jsonb_build_object(
                 'seq', s.seq, 'node_id', s.node_id, 'run_index', s.run_index, 'attempt', s.attempt,
                 'status', s.status, 'output', s.output, 'state', s.state, 'error', s.error,
                 'finished_ms', (extract(epoch FROM s.finished_at) * 1000)::bigint) ORDER BY s.seq)
               FROM glyphic.execution_steps s WHERE s.execution_id = p_id), '[]'));
END
$$;

-- Records one node attempt. Returns (cancel_requested, watchers): the
-- engine stops before its next step when asked to, and announces steps
-- only while someone watches.
CREATE FUNCTION glyphic.exec_step(p_id uuid, p_seq integer, p_node text, p_run_index integer, p_attempt integer,
                                  p_status text, p_input jsonb, p_output jsonb, p_state jsonb, p_error jsonb,
                                  p_started_ms bigint, p_finished_ms bigint,
                                  OUT cancel_requested boolean, OUT watchers integer)
LANGUAGE plpgsql AS $$
DECLARE
  org uuid;
BEGIN
  SELECT e.org_id, e.cancel_requested, e.watchers INTO org, cancel_requested, watchers
    FROM glyphic.executions e WHERE e.id = p_id;
  IF NOT FOUND THEN
    -- the execution was deleted while it ran
    cancel_requested := true;
    watchers := 0;
    RETURN;
  END IF;
  INSERT INTO glyphic.execution_steps (execution_id, seq, org_id, node_id, run_index, attempt, status,
                                       input, output, state, error, started_at, finished_at)
  VALUES (p_id, p_seq, org, p_node, p_run_index, p_attempt, p_status, p_input, p_output, p_state, p_error,
          to_timestamp(p_started_ms / 1000.0), to_timestamp(p_finished_ms / 1000.0));
  IF watchers > 0 THEN
    PERFORM pg_notify('gx_' || p_id::text, 'step ' || p_seq);
  END IF;
END
$$;

-- Starts the workflow's error workflow (settings.error_workflow_id) for a
-- failed execution, when it names an existing workflow of the same org.
CREATE FUNCTION glyphic.exec_error_workflow(p_id uuid) RETURNS uuid
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
   WHERE w.id = target AND w.org_id = e.org_id AND w.deleted_at IS NULL;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  SELECT n->>'id' INTO tnode
    FROM glyphic.workflow_versions v, jsonb_array_elements(v.definition->'nodes') n
   WHERE v.workflow_id = target AND v.version = tver AND n->>'type' = 'trigger.error'
   LIMIT 1;
  SELECT w.name INTO wname FROM glyphic.workflows w WHERE w.id = e.workflow_id;
  RETURN glyphic.exec_start(e.org_id, target, tver, NULL, 'error', tnode,
    jsonb_build_array(jsonb_build_object(
      'execution', jsonb_build_object('id', e.id, 'status', e.status, 'trigger', e.trigger,
                                      'error', e.error, 'started_at', e.started_at, 'finished_at', e.finished_at),
      'workflow', jsonb_build_object('id', e.workflow_id, 'name', wname, 'version', e.version))),
    e.id);
END
$$;

-- Inserts steps given as a JSON array of {seq, node_id, run_index, attempt,
-- status, input, output, state, error, started_ms, finished_ms}: executions
-- whose steps were collected in memory and are recorded in one statement.
-- (plpgsql, not SQL: it keeps its plan; a SQL function called from plpgsql
-- is planned again on every call, which halved the direct webhook path)
CREATE FUNCTION glyphic.exec_insert_steps(p_id uuid, p_org uuid, p_steps jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO glyphic.execution_steps (execution_id, seq, org_id, node_id, run_index, attempt, status,
                                       input, output, state, error, started_at, finished_at)
  SELECT p_id, s.seq, p_org, s.node_id, s.run_index, s.attempt, s.status, s.input, s.output, s.state,
         s.error, to_timestamp(s.started_ms / 1000.0), to_timestamp(s.finished_ms / 1000.0)
    FROM jsonb_to_recordset(p_steps) AS s(seq integer, node_id text, run_index integer, attempt integer,
                                          status text, input jsonb, output jsonb, state jsonb, error jsonb,
                                          started_ms bigint, finished_ms bigint);
END
$$;

-- Finishes (or parks) an execution. 'waiting' parks it: a job at
-- p_wait_until resumes it, and no process waits meanwhile. A failure starts
-- the error workflow. Announces the end on the execution's channel. p_steps:
-- steps the executor collected in memory (quick workflows), recorded here.
CREATE FUNCTION glyphic.exec_finish(p_id uuid, p_status text, p_output jsonb, p_response jsonb, p_error jsonb,
                                    p_wait_until timestamptz DEFAULT NULL, p_steps jsonb DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
  org uuid;
BEGIN
  UPDATE glyphic.executions
     SET status = p_status, output = coalesce(p_output, output), response = coalesce(p_response, response),
         error = p_error, wait_until = p_wait_until,
         finished_at = CASE WHEN p_status IN ('succeeded', 'failed', 'canceled') THEN now() END
   WHERE id = p_id AND status IN ('running', 'queued', 'waiting')
  RETURNING org_id INTO org;
  IF NOT FOUND THEN
    RETURN false;
  END IF;
  IF p_steps IS NOT NULL THEN
    PERFORM glyphic.exec_insert_steps(p_id, org, p_steps);
  END IF;
  IF p_status = 'waiting' THEN
    PERFORM glyphic.enqueue('workflow.run', jsonb_build_object('execution_id', p_id), 'default', org,
                            0::smallint, p_wait_until, 5);
  ELSIF p_status = 'failed' THEN
    PERFORM glyphic.exec_error_workflow(p_id);
  END IF;
  PERFORM pg_notify('gx_' || p_id::text, p_status);
  RETURN true;
END
$$;

-- Webhooks. /hooks/<path> is public: these SECURITY DEFINER functions are
-- the capability a path grants, nothing more. hook_find returns the active
-- webhook and, unless the caller already holds that version (p_known), its
-- definition.
CREATE FUNCTION glyphic.hook_find(p_path text, p_known_workflow uuid, p_known_version integer)
RETURNS TABLE (webhook_id uuid, org_id uuid, workflow_id uuid, version integer, node_id text, method text,
               mode text, definition jsonb)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = glyphic AS $$
  SELECT h.id, h.org_id, h.workflow_id, h.version, h.node_id, h.method, h.mode,
         CASE WHEN h.workflow_id = p_known_workflow AND h.version = p_known_version THEN NULL
              ELSE (SELECT v.definition FROM glyphic.workflow_versions v
                     WHERE v.workflow_id = h.workflow_id AND v.version = h.version) END
    FROM glyphic.webhooks h
    JOIN glyphic.workflows w ON w.id = h.workflow_id AND w.active AND w.deleted_at IS NULL
   WHERE h.path = p_path
$$;

-- Queues an execution for a webhook call (async mode, and sync mode for
-- workflows that cannot run inside the web server).
CREATE FUNCTION glyphic.hook_enqueue(p_webhook uuid, p_version integer, p_item jsonb, p_id uuid) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = glyphic AS $$
DECLARE
  h glyphic.webhooks;
BEGIN
  SELECT * INTO h FROM glyphic.webhooks WHERE id = p_webhook AND version = p_version;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'the webhook changed; call it again' USING ERRCODE = '40001';
  END IF;
  -- the job belongs to the webhook's org (enqueue checks the request's org)
  PERFORM set_config('glyphic.org_id', h.org_id::text, true);
  RETURN glyphic.exec_start(h.org_id, h.workflow_id, h.version, NULL, 'webhook', h.node_id,
                            jsonb_build_array(p_item), NULL, NULL, 'queued', p_id);
END
$$;

-- Records an execution the web server ran itself (the direct path of
-- synchronous webhooks): the row and all its steps in one statement.
CREATE FUNCTION glyphic.hook_record(p_webhook uuid, p_version integer, p_item jsonb, p_status text,
                                    p_steps jsonb, p_output jsonb, p_response jsonb, p_error jsonb,
                                    p_started_ms bigint, p_id uuid)
RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = glyphic AS $$
DECLARE
  h glyphic.webhooks;
  eid uuid;
BEGIN
  SELECT * INTO h FROM glyphic.webhooks WHERE id = p_webhook AND version = p_version;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'the webhook changed; call it again' USING ERRCODE = '40001';
  END IF;
  INSERT INTO glyphic.executions (id, org_id, workflow_id, version, status, trigger, trigger_node, input, output,
                                  response, error, started_at, finished_at)
  VALUES (p_id, h.org_id, h.workflow_id, h.version, p_status, 'webhook', h.node_id, jsonb_build_array(p_item),
          p_output, p_response, p_error, to_timestamp(p_started_ms / 1000.0), now())
  RETURNING id INTO eid;
  PERFORM glyphic.exec_insert_steps(eid, h.org_id, p_steps);
  IF p_status = 'failed' THEN
    -- the error workflow's job belongs to this org (enqueue checks the request's org)
    PERFORM set_config('glyphic.org_id', h.org_id::text, true);
    PERFORM glyphic.exec_error_workflow(eid);
  END IF;
  RETURN eid;
END
$$;

-- The outcome of an execution a synchronous webhook started and waits for
-- (the caller made its id, and only asks once it was announced finished).
CREATE FUNCTION glyphic.hook_result(p_id uuid)
RETURNS TABLE (status text, output jsonb, response jsonb, error jsonb)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = glyphic AS $$
  SELECT e.status, e.output, e.response, e.error FROM glyphic.executions e
   WHERE e.id = p_id AND e.trigger = 'webhook'
$$;

-- A live-progress stream starts (+1) or ends (-1) watching an execution:
-- while any watch, the executor announces each step. (glyphic-fcgi checks
-- the execution is visible before it starts watching.)
CREATE FUNCTION glyphic.exec_watch(p_id uuid, p_delta integer) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = glyphic AS $$
  UPDATE glyphic.executions SET watchers = greatest(0, watchers + sign(p_delta)::integer) WHERE id = p_id
$$;

-- Schedules due now, locked for the caller's transaction (SKIP LOCKED: two
-- executors never take the same row). The caller fires each and moves its
-- next_run_at forward in the same transaction, so a due time fires once
-- however many executors run. Rows never computed (next_run_at NULL) come
-- too, for the caller to compute.
CREATE FUNCTION glyphic.schedules_due(p_limit integer)
RETURNS TABLE (id uuid, org_id uuid, workflow_id uuid, version integer, node_id text, cron text,
               timezone text, next_run_at timestamptz)
LANGUAGE sql AS $$
  SELECT s.id, s.org_id, s.workflow_id, s.version, s.node_id, s.cron, s.timezone, s.next_run_at
    FROM glyphic.schedules s
   WHERE s.next_run_at IS NULL OR s.next_run_at <= now()
   ORDER BY s.next_run_at NULLS FIRST
   LIMIT p_limit
   FOR UPDATE OF s SKIP LOCKED
$$;

-- Executions nothing will finish: their job is gone or dead (it failed
-- max_attempts times: load or finish kept failing, or a node kept killing
-- its process), or they are subworkflow children whose parent ended (a
-- resumed parent starts a new child). Marked failed, so they can be seen,
-- retried, deleted and pruned. Returns how many.
CREATE INDEX jobs_execution ON glyphic.jobs ((payload->>'execution_id')) WHERE kind = 'workflow.run';
CREATE FUNCTION glyphic.exec_reap() RETURNS integer
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
     WHERE e.status IN ('queued', 'running')
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

-- Retention: finished executions older than p_days, and those beyond the
-- newest p_keep of each workflow. Returns how many were deleted.
CREATE FUNCTION glyphic.exec_prune(p_days integer, p_keep integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  n integer := 0;
  m integer := 0;
BEGIN
  IF p_days > 0 THEN
    DELETE FROM glyphic.executions
     WHERE finished_at < now() - make_interval(days => p_days);
    GET DIAGNOSTICS n = ROW_COUNT;
  END IF;
  IF p_keep > 0 THEN
    DELETE FROM glyphic.executions e USING (
      SELECT x.id FROM (
        SELECT id, row_number() OVER (PARTITION BY workflow_id ORDER BY created_at DESC, id DESC) AS rn
          FROM glyphic.executions WHERE finished_at IS NOT NULL) x
       WHERE x.rn > p_keep) d
     WHERE e.id = d.id;
    GET DIAGNOSTICS m = ROW_COUNT;
  END IF;
  RETURN n + m;
END
$$;

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA glyphic FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA glyphic TO glyphic_app, glyphic_executor;
-- executor-only functions: the app role must not load, record or finish
-- executions behind row level security's back
REVOKE EXECUTE ON FUNCTION glyphic.exec_load(uuid), glyphic.exec_step(uuid, integer, text, integer, integer, text,
  jsonb, jsonb, jsonb, jsonb, bigint, bigint), glyphic.exec_finish(uuid, text, jsonb, jsonb, jsonb, timestamptz, jsonb),
  glyphic.exec_insert_steps(uuid, uuid, jsonb),
  glyphic.schedules_due(integer), glyphic.exec_prune(integer, integer), glyphic.exec_reap(),
  glyphic.exec_error_workflow(uuid) FROM glyphic_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON glyphic.executions, glyphic.execution_steps TO glyphic_executor;
