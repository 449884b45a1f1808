-- 040: a stored step names an output with the same items as its input
-- instead of repeating them.
--
-- A direct webhook run's steps are stored on its execution row (032), as
-- glyphic-fcgi rendered them, and most steps' input is the very items the
-- step before it put out (or, for a trigger or flow.respond, the items the
-- step itself puts out): webhook -> set -> respond wrote its item six
-- times in 1,836 bytes of steps. glyphic-fcgi now writes such a step with
-- "input_from": ["self" or "prev", output port, input port] in place of
-- "input" (gl_step_collect_compact: only when the input holds the very
-- same item objects, so the two read back the same).
--
-- Measured: with small items the column's compression had already removed
-- the repeats (653 bytes stored, the same WAL per call) and PostgreSQL's
-- CPU per batch of eight fell by about 3% (pgbench, 1,010-1,023 against
-- 1,023-1,097 us). With a 100 KB body, beyond the compressor's window,
-- the steps took 302 KB instead of 603 KB and a call wrote 542 KB of WAL
-- instead of 865 KB.
--
-- It names an output with the very same items, not necessarily where
-- they came from (a pass-through sibling before it may be named).
-- Readers expand it, so nothing that reads steps sees a difference:
-- glyphic.steps (the API, the live stream, retries) and hook_record (a
-- direct run recorded alone, which keeps rows; the executor's step
-- inserts never get the field and are as they were). "prev" is the step
-- before in the array, found with lag() over the array's order: one pass,
-- and the array is detoasted once per execution, not once per step.
-- hook_record_many checks the field's shape with the others (23514 for a
-- batch with a bad one). The view reads any stored shape without failing:
-- a port or step it cannot find gives {"<input port>": null}, an input
-- port that is not text gives NULL.
SET LOCAL ROLE glyphic_owner;

-- A stored step's input: p_input, else what p_from names of the step's own
-- output (p_self) or of the step before's (p_prev). One expression, so
-- PostgreSQL inlines it where it is used.
CREATE FUNCTION glyphic.step_input(p_input jsonb, p_from jsonb, p_self jsonb, p_prev jsonb) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT coalesce(p_input,
                  CASE WHEN jsonb_typeof(p_from -> 2) = 'string'
                       THEN jsonb_build_object(p_from ->> 2,
                                               CASE p_from ->> 0 WHEN 'self' THEN p_self WHEN 'prev' THEN p_prev END
                                               -> (p_from ->> 1)) END)
$$;

CREATE OR REPLACE VIEW glyphic.steps WITH (security_invoker = true) AS
  SELECT s.execution_id, s.seq, s.org_id, s.node_id, s.run_index, s.attempt, s.status, s.input, s.output,
         s.state, s.error, s.started_at, s.finished_at
    FROM glyphic.execution_steps s
  UNION ALL
  SELECT e.id, st.seq, e.org_id, st.node_id, st.run_index, st.attempt, st.status,
         glyphic.step_input(st.input, st.input_from, st.output, st.prev_output),
         st.output, st.state, st.error, to_timestamp(st.started_ms / 1000.0), to_timestamp(st.finished_ms / 1000.0)
    FROM glyphic.executions e
   CROSS JOIN LATERAL (
     SELECT x.*, lag(x.output) OVER (ORDER BY x.n) AS prev_output
       FROM ROWS FROM (jsonb_to_recordset(e.steps)
                       AS (seq integer, node_id text, run_index integer, attempt integer, status text,
                           input jsonb, input_from jsonb, output jsonb, state jsonb, error jsonb,
                           started_ms bigint, finished_ms bigint))
            WITH ORDINALITY AS x(seq, node_id, run_index, attempt, status, input, input_from, output, state, error,
                                 started_ms, finished_ms, n)) st
   WHERE e.steps IS NOT NULL;

-- 028's, expanding input_from as the view does (a direct run recorded
-- alone: failed, or with files).
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
  SELECT p_id, s.seq, h_org, s.node_id, s.run_index, s.attempt, s.status,
         glyphic.step_input(s.input, s.input_from, s.output, s.prev_output), s.output, s.state, s.error,
         to_timestamp(s.started_ms / 1000.0), to_timestamp(s.finished_ms / 1000.0)
    FROM (SELECT x.*, lag(x.output) OVER (ORDER BY x.n) AS prev_output
            FROM ROWS FROM (jsonb_to_recordset(p_steps)
                            AS (seq integer, node_id text, run_index integer, attempt integer, status text,
                                input jsonb, input_from jsonb, output jsonb, state jsonb, error jsonb,
                                started_ms bigint, finished_ms bigint))
                 WITH ORDINALITY AS x(seq, node_id, run_index, attempt, status, input, input_from, output, state,
                                      error, started_ms, finished_ms, n)) s;
  IF p_files IS NOT NULL THEN
    PERFORM glyphic.hook_files(h_org, p_id, p_files, p_max_bytes);
  END IF;
  IF p_status = 'failed' THEN
    PERFORM glyphic.exec_error_workflow(p_id);
  END IF;
  RETURN p_id;
END
$$;

-- 033's, with input_from's shape checked with the other fields.
CREATE OR REPLACE FUNCTION glyphic.hook_record_many(p_runs jsonb)
RETURNS TABLE (ord bigint, id uuid, outcome text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = glyphic, pg_temp AS $$
BEGIN
  IF jsonb_typeof(p_runs) IS DISTINCT FROM 'array' THEN
    RAISE EXCEPTION 'hook_record_many takes an array of runs' USING ERRCODE = '22023';
  END IF;
  RETURN QUERY
  WITH r AS MATERIALIZED (
    SELECT x.ord, x.path, x.version, x.id, x.item, x.status, x.steps, x.output, x.response, x.error, x.started_ms
      FROM ROWS FROM (jsonb_to_recordset(p_runs)
                      AS (path text, version integer, id uuid, item jsonb, status text, steps jsonb, output jsonb,
                          response jsonb, error jsonb, started_ms bigint))
           WITH ORDINALITY AS x(path, version, id, item, status, steps, output, response, error, started_ms, ord)
  ), h AS MATERIALIZED (
    -- the active webhook at each path, if it still is the version the
    -- worker cached, and the starter (the workflow's activating user)
    SELECT r.*, w.org_id AS h_org, w.workflow_id AS h_workflow, w.node_id AS h_node, w.starter AS h_starter
      FROM r LEFT JOIN LATERAL (
             SELECT x.org_id, x.workflow_id, x.node_id, coalesce(f.activated_by, f.created_by) AS starter
               FROM glyphic.webhooks x
               JOIN glyphic.workflows f ON f.id = x.workflow_id AND f.active AND f.deleted_at IS NULL
              WHERE x.path = r.path AND x.version = r.version) w ON true
  ), l AS MATERIALIZED (
    -- each org's webhook limit, as org_webhook_admit reads it (0: none)
    SELECT o.org_id,
           coalesce((SELECT m.webhooks_per_minute FROM glyphic.org_limits m WHERE m.org_id = o.org_id),
                    (SELECT s.value::integer FROM glyphic.settings s WHERE s.key = 'limits.org_webhooks_per_minute'),
                    0) AS lim
      FROM (SELECT DISTINCT h.h_org AS org_id FROM h WHERE h.h_org IS NOT NULL) o
  ), a AS MATERIALIZED (
    -- an org's limit counts each admitted call, in order
    SELECT h.*, CASE WHEN h.status IS DISTINCT FROM 'succeeded' THEN 'alone'
                     WHEN h.h_org IS NULL THEN 'changed'
                     WHEN (SELECT l.lim FROM l WHERE l.org_id = h.h_org) = 0 THEN 'recorded'
                     WHEN glyphic.org_webhook_admit(h.h_org) THEN 'recorded'
                     ELSE 'limited' END AS outcome
      FROM h ORDER BY h.ord
  ), v AS MATERIALIZED (
    -- each recorded run's steps, checked as execution_steps' types and
    -- constraints would check them: what the view reads back always reads
    -- (input, output, state and error are any JSON, as there). A NULL
    -- anywhere in a step's condition fails it (bool_and alone skips NULLs),
    -- and its times must fall within years 1970-9999, which to_timestamp
    -- reads back (a time out of range made every read of the view fail).
    SELECT a.ord, CASE WHEN n.ok THEN 'ok' ELSE glyphic.hook_bad_steps(a.ord) END AS checked
      FROM a, LATERAL (
             SELECT coalesce(bool_and(coalesce(
                      st.seq > 0 AND st.node_id IS NOT NULL AND st.run_index IS NOT NULL
                      AND st.attempt > 0 AND st.status IN ('succeeded', 'failed', 'waiting')
                      AND st.started_ms BETWEEN 0 AND 253402300799999
                      AND st.finished_ms BETWEEN 0 AND 253402300799999
                      AND (st.input_from IS NULL
                           OR CASE WHEN jsonb_typeof(st.input_from) = 'array'
                                   THEN jsonb_array_length(st.input_from) = 3
                                        AND st.input_from ->> 0 IN ('self', 'prev')
                                        AND jsonb_typeof(st.input_from -> 1) = 'string'
                                        AND jsonb_typeof(st.input_from -> 2) = 'string'
                                   ELSE false END), false)), true)
                      AND count(DISTINCT st.seq) = count(*)
                      AND (a.steps IS NULL OR jsonb_typeof(a.steps) = 'array') AS ok
               FROM jsonb_to_recordset(CASE WHEN jsonb_typeof(a.steps) = 'array' THEN a.steps END)
                    AS st(seq integer, node_id text, run_index integer, attempt integer, status text,
                          started_ms bigint, finished_ms bigint, input_from jsonb)) n
     WHERE a.outcome = 'recorded'
  ), e AS (
    INSERT INTO glyphic.executions (id, org_id, workflow_id, version, status, trigger, trigger_node, input, output,
                                    response, error, started_at, finished_at, started_by, steps)
    SELECT a.id, a.h_org, a.h_workflow, a.version, a.status, 'webhook', a.h_node, jsonb_build_array(a.item),
           a.output, a.response, a.error, to_timestamp(a.started_ms / 1000.0), now(), a.h_starter,
           a.steps
      FROM a JOIN v ON v.ord = a.ord AND v.checked = 'ok'
    RETURNING glyphic.executions.id
  )
  SELECT a.ord, a.id, a.outcome FROM a ORDER BY a.ord;
END
$$;
