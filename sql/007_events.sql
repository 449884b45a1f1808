-- 007_events: what glyphic-events asks, and webhook functions keyed on
-- the capability the caller holds.
--
-- Webhooks. /hooks/<path> is public and the path is the capability: the
-- functions behind it take the path, never a row id the app role could
-- have read elsewhere. A synchronous call the executor must run is handed
-- from glyphic-fcgi to glyphic-events, which waits for the end and reads
-- the outcome with hook_result. That read needs a secret made for the one
-- call (glyphic-fcgi keeps it out of the database: only its SHA-256 is
-- stored), so knowing an execution id is not enough to read its answer.
--
-- Live progress. exec_watch counts a stream as a watcher only for an
-- execution the request's context may read, so a caller cannot make the
-- executor announce another org's steps, nor silence them.
SET LOCAL ROLE glyphic_owner;

ALTER TABLE glyphic.executions ADD COLUMN hook_wait bytea;  -- SHA-256 of the waiting call's secret

DROP FUNCTION glyphic.hook_enqueue(uuid, integer, jsonb, uuid);
DROP FUNCTION glyphic.hook_record(uuid, integer, jsonb, text, jsonb, jsonb, jsonb, jsonb, bigint, uuid);
DROP FUNCTION glyphic.hook_result(uuid);
DROP FUNCTION glyphic.exec_watch(uuid, integer);

-- Queues an execution for a webhook call (async mode, and sync mode for
-- workflows that cannot run inside the web server). p_wait: the SHA-256 of
-- the secret a synchronous caller's wait will present to hook_result.
CREATE FUNCTION glyphic.hook_enqueue(p_path text, p_version integer, p_item jsonb, p_id uuid, p_wait bytea)
RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = glyphic, pg_temp AS $$
DECLARE
  h glyphic.webhooks;
  eid uuid;
BEGIN
  -- the active webhook at the path, if it still is the version the caller
  -- cached (else 40001: look it up again)
  SELECT x.* INTO h FROM glyphic.webhooks x
    JOIN glyphic.workflows w ON w.id = x.workflow_id AND w.active AND w.deleted_at IS NULL
   WHERE x.path = p_path AND x.version = p_version;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'the webhook changed; call it again' USING ERRCODE = '40001';
  END IF;
  IF p_wait IS NOT NULL AND length(p_wait) <> 32 THEN
    RAISE EXCEPTION 'a wait secret hash is 32 bytes' USING ERRCODE = '22023';
  END IF;
  eid := glyphic.exec_start(h.org_id, h.workflow_id, h.version, NULL, 'webhook', h.node_id,
                            jsonb_build_array(p_item), NULL, NULL, 'queued', p_id);
  IF p_wait IS NOT NULL THEN
    UPDATE glyphic.executions SET hook_wait = p_wait WHERE id = eid;
  END IF;
  RETURN eid;
END
$$;

-- Records an execution the web server ran itself (the direct path of
-- synchronous webhooks): the row and all its steps in one statement.
CREATE FUNCTION glyphic.hook_record(p_path text, p_version integer, p_item jsonb, p_status text,
                                    p_steps jsonb, p_output jsonb, p_response jsonb, p_error jsonb,
                                    p_started_ms bigint, p_id uuid)
RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = glyphic, pg_temp AS $$
DECLARE
  h glyphic.webhooks;
  eid uuid;
BEGIN
  SELECT x.* INTO h FROM glyphic.webhooks x
    JOIN glyphic.workflows w ON w.id = x.workflow_id AND w.active AND w.deleted_at IS NULL
   WHERE x.path = p_path AND x.version = p_version;
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
    PERFORM glyphic.exec_error_workflow(eid);
  END IF;
  RETURN eid;
END
$$;

-- The state of an execution a synchronous webhook call waits for, to the
-- holder of that call's secret: its status (queued and running too), and
-- once ended its output, response and error. No row for a wrong secret.
CREATE FUNCTION glyphic.hook_result(p_id uuid, p_secret bytea)
RETURNS TABLE (org_id uuid, status text, output jsonb, response jsonb, error jsonb)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = glyphic, pg_temp AS $$
  SELECT e.org_id, e.status, e.output, e.response, e.error FROM glyphic.executions e
   WHERE e.id = p_id AND e.trigger = 'webhook' AND e.hook_wait IS NOT NULL
     AND e.hook_wait = sha256(p_secret)
$$;

-- May the request's context read this execution? (executions_read and
-- workflows_read, for the SECURITY DEFINER functions that must check it.)
CREATE FUNCTION glyphic.exec_visible(p_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = glyphic, pg_temp AS $$
  SELECT EXISTS (
    SELECT 1 FROM glyphic.executions e JOIN glyphic.workflows w ON w.id = e.workflow_id
     WHERE e.id = p_id AND e.org_id = glyphic.current_org_id() AND w.org_id = e.org_id
       AND w.org_id = ANY (glyphic.my_org_ids())
       AND (w.org_id = ANY (glyphic.my_admin_org_ids()) OR w.created_by = glyphic.current_user_id()
            OR glyphic.wf_shared_with_me(w.id, false)))
$$;

-- A live-progress stream starts (+1) or ends (-1) watching an execution
-- the request may read: while any watch, the executor announces each
-- step. Returns the execution's status, or NULL when it is not visible.
CREATE FUNCTION glyphic.exec_watch(p_id uuid, p_delta integer) RETURNS text
LANGUAGE sql SECURITY DEFINER SET search_path = glyphic, pg_temp AS $$
  UPDATE glyphic.executions SET watchers = greatest(0, watchers + sign(p_delta)::integer)
   WHERE id = p_id AND glyphic.exec_visible(p_id)
  RETURNING status
$$;
