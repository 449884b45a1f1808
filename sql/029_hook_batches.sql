-- 029_hook_batches: direct webhook executions recorded a batch at a time.
--
-- glyphic-fcgi runs a quick webhook workflow itself and records it with
-- hook_record (022, 028): one statement and one commit per call. Under
-- load most of that statement's cost is per statement, not per row
-- (starting plpgsql's statements, the commit), so glyphic-events now
-- gathers the records that workers hand it while its previous batch is
-- being written and writes them with hook_record_many: one statement, one
-- commit, for every run it holds. A worker answers its caller only once
-- the batch committed.
--
-- p_runs: a JSON array of runs, each an object with hook_record's
-- arguments: path, version, id, item, status, steps, output, response,
-- error, started_ms. Runs with files are not batched. Returns one row per
-- run, in order:
--   recorded  the execution and its steps are written
--   alone     not written: only succeeded runs are batched (a failed one
--             may start an error workflow), the worker calls hook_record
--   changed   the webhook is gone or has another version: the worker looks
--             it up again (hook_record's 40001)
--   limited   the org is over its webhook limit (hook_record's NULL)
-- A run whose execution id exists already fails the whole statement
-- (unique violation), as hook_record would: the worker then records its
-- run alone, and an execution already written answers it.
SET LOCAL ROLE glyphic_owner;

CREATE FUNCTION glyphic.hook_record_many(p_runs jsonb)
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
  ), a AS MATERIALIZED (
    -- the org's webhook limit counts each admitted call, in order
    SELECT h.*, CASE WHEN h.status IS DISTINCT FROM 'succeeded' THEN 'alone'
                     WHEN h.h_org IS NULL THEN 'changed'
                     WHEN glyphic.org_webhook_admit(h.h_org) THEN 'recorded'
                     ELSE 'limited' END AS outcome
      FROM h ORDER BY h.ord
  ), e AS (
    INSERT INTO glyphic.executions (id, org_id, workflow_id, version, status, trigger, trigger_node, input, output,
                                    response, error, started_at, finished_at, started_by)
    SELECT a.id, a.h_org, a.h_workflow, a.version, a.status, 'webhook', a.h_node, jsonb_build_array(a.item),
           a.output, a.response, a.error, to_timestamp(a.started_ms / 1000.0), now(), a.h_starter
      FROM a WHERE a.outcome = 'recorded'
    RETURNING glyphic.executions.id, glyphic.executions.org_id
  ), s AS (
    INSERT INTO glyphic.execution_steps (execution_id, seq, org_id, node_id, run_index, attempt, status,
                                         input, output, state, error, started_at, finished_at)
    SELECT e.id, st.seq, e.org_id, st.node_id, st.run_index, st.attempt, st.status, st.input, st.output, st.state,
           st.error, to_timestamp(st.started_ms / 1000.0), to_timestamp(st.finished_ms / 1000.0)
      FROM e JOIN a ON a.id = e.id,
           jsonb_to_recordset(a.steps) AS st(seq integer, node_id text, run_index integer, attempt integer,
                                             status text, input jsonb, output jsonb, state jsonb, error jsonb,
                                             started_ms bigint, finished_ms bigint)
  )
  SELECT a.ord, a.id, a.outcome FROM a ORDER BY a.ord;
END
$$;

-- the app role records webhook calls (glyphic-events connects as it);
-- the executor has no use for it
REVOKE EXECUTE ON FUNCTION glyphic.hook_record_many(jsonb) FROM PUBLIC, glyphic_executor;
GRANT EXECUTE ON FUNCTION glyphic.hook_record_many(jsonb) TO glyphic_app;
