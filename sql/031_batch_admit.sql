-- 031_batch_admit: a batch of webhook runs looks its orgs' webhook limits
-- up once per org, not once per run.
--
-- hook_record_many (029) called org_webhook_admit (016) for every run: a
-- plpgsql call and two lookups (the org's limit, then the default) each,
-- about a tenth of the statement's time in a profile of batches of eight,
-- although an org without a limit (the default: 0) is never counted. The
-- limit is now read once per org of the batch, in the statement; only
-- runs of an org with a limit go through org_webhook_admit, which counts
-- them in order as before. Same signature, result, owner, grants and
-- search_path.
SET LOCAL ROLE glyphic_owner;

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
