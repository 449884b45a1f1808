-- 033_inline_steps_checks: what 032 let through, closed.
--
-- 1. hook_record_many's check of a run's steps passed a step whose status,
--    attempt or seq was NULL (bool_and skips NULLs), and took any time: a
--    started_ms of 10^15 was stored, and then every read of glyphic.steps
--    that expanded it failed with "timestamp out of range" (22008), whole-
--    view queries included. Now a NULL fails the step, and its times must
--    be epoch milliseconds within years 1970-9999. A batch with such a step
--    fails whole (23514 from hook_bad_steps; a field of the wrong JSON type
--    fails it with 22P02, out of bigint's range with 22003), and nothing of
--    it is written.
-- 2. executions.steps is written by hook_record_many only. 032 kept the app
--    role from it by a column-level INSERT grant, which a later blanket
--    GRANT INSERT would silently undo. The app role's insert policy now
--    also requires steps IS NULL, so the database refuses it either way
--    (the executor role is trusted by executions_trusted and never writes
--    the column).
-- 3. hook_bad_steps only raises; nobody but hook_record_many (its owner's)
--    needs to call it.
SET LOCAL ROLE glyphic_owner;

ALTER POLICY executions_start ON glyphic.executions
  WITH CHECK (org_id = (SELECT glyphic.current_org_id()) AND glyphic.wf_can_edit(workflow_id) AND steps IS NULL);

REVOKE EXECUTE ON FUNCTION glyphic.hook_bad_steps(bigint) FROM PUBLIC, glyphic_app, glyphic_executor;

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
                      AND st.finished_ms BETWEEN 0 AND 253402300799999, false)), true)
                      AND count(DISTINCT st.seq) = count(*)
                      AND (a.steps IS NULL OR jsonb_typeof(a.steps) = 'array') AS ok
               FROM jsonb_to_recordset(CASE WHEN jsonb_typeof(a.steps) = 'array' THEN a.steps END)
                    AS st(seq integer, node_id text, run_index integer, attempt integer, status text,
                          started_ms bigint, finished_ms bigint)) n
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
