-- 028_fast_hooks: what recording a direct webhook execution costs the
-- database.
--
-- hook_record (022) inserted the execution, whose BEFORE INSERT trigger
-- (008's exec_fill_starter) then looked the workflow up again for the
-- starter, and called exec_insert_steps, a second plpgsql function, for
-- the steps. The webhook's lookup already joins the workflow: it now reads
-- the starter there and hands it in (the trigger keeps what trusted code
-- set), and the steps are inserted here. Same signature, result, owner,
-- grants and search_path.
SET LOCAL ROLE glyphic_owner;

CREATE OR REPLACE FUNCTION glyphic.hook_record(p_path text, p_version integer, p_item jsonb, p_status text,
                                               p_steps jsonb, p_output jsonb, p_response jsonb, p_error jsonb,
                                               p_started_ms bigint, p_id uuid,
                                               p_files jsonb DEFAULT NULL, p_max_bytes bigint DEFAULT 0)
RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = glyphic, pg_temp AS $$
DECLARE
  h_org uuid;
  h_workflow uuid;
  h_version integer;
  h_node text;
  starter uuid;
BEGIN
  SELECT x.org_id, x.workflow_id, x.version, x.node_id, coalesce(w.activated_by, w.created_by)
    INTO h_org, h_workflow, h_version, h_node, starter
    FROM glyphic.webhooks x
    JOIN glyphic.workflows w ON w.id = x.workflow_id AND w.active AND w.deleted_at IS NULL
   WHERE x.path = p_path AND x.version = p_version;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'the webhook changed; call it again' USING ERRCODE = '40001';
  END IF;
  IF NOT glyphic.org_webhook_admit(h_org) THEN
    RETURN NULL;
  END IF;
  INSERT INTO glyphic.executions (id, org_id, workflow_id, version, status, trigger, trigger_node, input, output,
                                  response, error, started_at, finished_at, started_by)
  VALUES (p_id, h_org, h_workflow, h_version, p_status, 'webhook', h_node, jsonb_build_array(p_item),
          p_output, p_response, p_error, to_timestamp(p_started_ms / 1000.0), now(), starter);
  INSERT INTO glyphic.execution_steps (execution_id, seq, org_id, node_id, run_index, attempt, status,
                                       input, output, state, error, started_at, finished_at)
  SELECT p_id, s.seq, h_org, s.node_id, s.run_index, s.attempt, s.status, s.input, s.output, s.state,
         s.error, to_timestamp(s.started_ms / 1000.0), to_timestamp(s.finished_ms / 1000.0)
    FROM jsonb_to_recordset(p_steps) AS s(seq integer, node_id text, run_index integer, attempt integer,
                                          status text, input jsonb, output jsonb, state jsonb, error jsonb,
                                          started_ms bigint, finished_ms bigint);
  IF p_files IS NOT NULL THEN
    PERFORM glyphic.hook_files(h_org, p_id, p_files, p_max_bytes);
  END IF;
  IF p_status = 'failed' THEN
    PERFORM glyphic.exec_error_workflow(p_id);
  END IF;
  RETURN p_id;
END
$$;
