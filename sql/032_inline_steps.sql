-- 032_inline_steps: the steps of a batched direct webhook run are stored on
-- its execution row, as one jsonb array, not as rows of execution_steps.
--
-- A direct run is finished when it is recorded: its steps are written
-- once, together, and never changed. As rows, each step cost a heap
-- insert, a primary key entry and a foreign key check (SELECT … FOR KEY
-- SHARE on the execution): about 45% of hook_record_many's time per run in
-- batches of eight (three steps a run; pgbench, one connection, as
-- glyphic-events writes). Stored on the row they cost one more jsonb value,
-- compressed with the execution's data.
--
-- Readers read glyphic.steps, which is execution_steps and the stored
-- arrays expanded, with the same columns: the API, the live stream and
-- the expression preview use it, and a retry copies from it. It is a
-- security_invoker view, so the caller's row level security applies to
-- both tables as before (a step is visible when its execution is).
--
-- executions.steps holds, per step, the fields execution_steps has
-- (seq, node_id, run_index, attempt, status, input, output, state, error)
-- with started_ms and finished_ms (epoch milliseconds) for its times, as
-- glyphic-fcgi sent them. hook_record_many checks the typed fields as the
-- view reads them and as execution_steps' constraints would (23514
-- otherwise, and nothing of the batch is written), so what the view reads
-- back always reads. Checking them costs a fraction of what rebuilding the
-- array from typed values did (which took all of the gain). Executions run
-- by the executor, and direct runs recorded alone (hook_record: failed
-- runs, runs with files), keep rows.
--
-- Measured (tests/bench/executions' workflow, 16 workers, durable, same
-- run alternating with 031): PostgreSQL CPU per execution 174-198 us
-- against 220-298, 3,021-3,632 executions/s against 2,380-3,209.
SET LOCAL ROLE glyphic_owner;

ALTER TABLE glyphic.executions ADD COLUMN steps jsonb;
DO $$
BEGIN
  ALTER TABLE glyphic.executions ALTER COLUMN steps SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
  RAISE NOTICE 'this PostgreSQL has no lz4: stored steps are compressed with pglz';
END
$$;
-- Written by hook_record_many only. The app role may insert executions
-- (exec_start runs as it) and update a few of their columns (005): every
-- column but this one. A column added to executions later needs its own
-- GRANT INSERT to glyphic_app.
DO $$
DECLARE
  cols text;
BEGIN
  SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO cols
    FROM pg_attribute a
   WHERE a.attrelid = 'glyphic.executions'::regclass AND a.attnum > 0 AND NOT a.attisdropped
     AND a.attname <> 'steps';
  REVOKE INSERT ON glyphic.executions FROM glyphic_app;
  EXECUTE format('GRANT INSERT (%s) ON glyphic.executions TO glyphic_app', cols);
END
$$;

CREATE VIEW glyphic.steps WITH (security_invoker = true) AS
  SELECT s.execution_id, s.seq, s.org_id, s.node_id, s.run_index, s.attempt, s.status, s.input, s.output,
         s.state, s.error, s.started_at, s.finished_at
    FROM glyphic.execution_steps s
  UNION ALL
  SELECT e.id, st.seq, e.org_id, st.node_id, st.run_index, st.attempt, st.status, st.input, st.output,
         st.state, st.error, to_timestamp(st.started_ms / 1000.0), to_timestamp(st.finished_ms / 1000.0)
    FROM glyphic.executions e,
         jsonb_to_recordset(e.steps) AS st(seq integer, node_id text, run_index integer, attempt integer,
                                           status text, input jsonb, output jsonb, state jsonb, error jsonb,
                                           started_ms bigint, finished_ms bigint)
   WHERE e.steps IS NOT NULL;
REVOKE ALL ON glyphic.steps FROM glyphic_app, glyphic_executor;
GRANT SELECT ON glyphic.steps TO glyphic_app, glyphic_executor;

-- a run whose steps execution_steps would refuse fails its whole batch
CREATE FUNCTION glyphic.hook_bad_steps(p_ord bigint) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'run % of the batch: its steps are not valid steps', p_ord USING ERRCODE = '23514';
END
$$;
REVOKE EXECUTE ON FUNCTION glyphic.hook_bad_steps(bigint) FROM PUBLIC;

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
    -- (input, output, state and error are any JSON, as there)
    SELECT a.ord, CASE WHEN n.ok THEN 'ok' ELSE glyphic.hook_bad_steps(a.ord) END AS checked
      FROM a, LATERAL (
             SELECT coalesce(bool_and(st.seq > 0 AND st.node_id IS NOT NULL AND st.run_index IS NOT NULL
                                      AND st.attempt > 0 AND st.status IN ('succeeded', 'failed', 'waiting')
                                      AND st.started_ms IS NOT NULL AND st.finished_ms IS NOT NULL), true)
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
