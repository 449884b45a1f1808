-- 037: an execution's end is announced (NOTIFY gx_<id>) only when somebody
-- can be listening: a synchronous webhook call waiting for it (hook_wait,
-- set in the transaction that queued it) or a live-progress stream
-- (watchers, as exec_step already does for steps).
--
-- Every NOTIFY takes PostgreSQL's one notification lock from the
-- pre-commit until the commit is flushed, so every executor transaction
-- that announced an end waited for the others' commits; most ends (async
-- webhooks, schedules, manual runs nobody watches) had no listener.
--
-- Why no listener is missed: glyphic-events LISTENs before it reads, and
-- a stream's exec_watch is an UPDATE of the same row, in the transaction
-- that then reads the execution (one statement snapshot each). If the
-- watch commits first, the end's UPDATE waits for it and reads watchers > 0
-- (READ COMMITTED re-reads the updated row), so it announces; if the end
-- updates first, the watch waits for its commit and the read that follows
-- sees the execution ended. A waiting call's hook_wait is written with the
-- execution, before any executor can run it.
--
-- A stream's watch is a lease (011): a stream whose renewals failed for a
-- whole lease is no longer counted, and misses an end as it already missed
-- the steps; it ends at executions.events_max_seconds at the latest and the
-- client reconnects and reads the state. 027 ran as the migrating role, which owns
-- exec_finish_many: a different, non-superuser role cannot replace it.
--
-- The functions are 006's exec_finish and 027's exec_finish_many with only
-- that changed, each replaced as the role that made it (027 ran as the
-- migrating role, 006 as glyphic_owner).

CREATE OR REPLACE FUNCTION glyphic.exec_finish_many(p_runs jsonb, p_owner text)
RETURNS TABLE (job_id bigint, outcome text, status text)
LANGUAGE plpgsql AS $$
DECLARE
  held bigint[];
  done_jobs bigint[];
  done_ids uuid[];
  done_status text[];
  done_heard boolean[];
  o_jobs bigint[];
  o_outcomes text[];
  o_status text[];
BEGIN
  IF EXISTS (SELECT 1 FROM jsonb_to_recordset(p_runs) AS r(status text)
              WHERE r.status IS NULL OR r.status NOT IN ('succeeded', 'failed', 'canceled')) THEN
    RAISE EXCEPTION 'exec_finish_many records ends only (succeeded, failed, canceled)' USING ERRCODE = '22023';
  END IF;
  -- the fences, held until the transaction ends
  SELECT array_agg(h.id) INTO held FROM (
    SELECT j.id FROM glyphic.jobs j
      JOIN jsonb_to_recordset(p_runs) AS r(job bigint, attempt integer) ON j.id = r.job
     WHERE j.state = 'running' AND j.lease_owner = p_owner AND j.attempts = r.attempt
       FOR UPDATE OF j) h;
  IF held IS NULL THEN
    RETURN;
  END IF;
  WITH r AS (
    SELECT * FROM jsonb_to_recordset(p_runs)
      AS r(job bigint, id uuid, status text, output jsonb, response jsonb, error jsonb, started_ms bigint)
     WHERE r.job = ANY (held)),
  x AS (
    UPDATE glyphic.executions e
       SET status = CASE WHEN e.cancel_requested THEN 'canceled' ELSE r.status END,
           output = CASE WHEN e.cancel_requested THEN e.output ELSE r.output END,
           response = CASE WHEN e.cancel_requested THEN e.response ELSE r.response END,
           error = CASE WHEN e.cancel_requested THEN jsonb_build_object('message', 'canceled') ELSE r.error END,
           started_at = CASE WHEN e.cancel_requested THEN NULL ELSE to_timestamp(r.started_ms / 1000.0) END,
           wait_until = NULL, finished_at = now()
      FROM r
     WHERE e.id = r.id AND e.status = 'queued' AND e.started_at IS NULL AND e.run_job IS NULL
    RETURNING r.job, e.id, e.status, e.watchers > 0 OR e.hook_wait IS NOT NULL AS heard)
  SELECT array_agg(x.job), array_agg(x.id), array_agg(x.status), array_agg(x.heard)
    INTO done_jobs, done_ids, done_status, done_heard FROM x;
  IF done_jobs IS NOT NULL THEN
    INSERT INTO glyphic.execution_steps (execution_id, seq, org_id, node_id, run_index, attempt, status,
                                         input, output, state, error, started_at, finished_at)
    SELECT e.id, s.seq, e.org_id, s.node_id, s.run_index, s.attempt, s.status, s.input, s.output, s.state,
           s.error, to_timestamp(s.started_ms / 1000.0), to_timestamp(s.finished_ms / 1000.0)
      FROM jsonb_to_recordset(p_runs) AS r(job bigint, id uuid, steps jsonb)
      JOIN unnest(done_jobs, done_status) AS d(job, status) ON d.job = r.job AND d.status <> 'canceled'
      JOIN glyphic.executions e ON e.id = r.id
     CROSS JOIN LATERAL jsonb_to_recordset(coalesce(r.steps, '[]'))
           AS s(seq integer, node_id text, run_index integer, attempt integer, status text, input jsonb,
                output jsonb, state jsonb, error jsonb, started_ms bigint, finished_ms bigint);
    PERFORM pg_notify('gx_' || d.id::text, d.status) FROM unnest(done_ids, done_status, done_heard) AS d(id, status, heard)
      WHERE d.heard;
    PERFORM glyphic.exec_error_workflow(d.id) FROM unnest(done_ids, done_status) AS d(id, status)
      WHERE d.status = 'failed';
  END IF;
  -- what ran is done; what had ended needs nothing more; what another
  -- runner took up meanwhile is left to exec_load
  SELECT array_agg(r.job),
         array_agg(CASE WHEN r.job = ANY (done_jobs) THEN 'done'
                        WHEN e.id IS NULL OR e.status IN ('succeeded', 'failed', 'canceled') THEN 'ended'
                        ELSE 'alone' END),
         array_agg(e.status)
    INTO o_jobs, o_outcomes, o_status
    FROM jsonb_to_recordset(p_runs) AS r(job bigint, id uuid)
    LEFT JOIN glyphic.executions e ON e.id = r.id
   WHERE r.job = ANY (held);
  PERFORM glyphic.complete_jobs(ARRAY(SELECT u.job FROM unnest(o_jobs, o_outcomes) AS u(job, outcome)
                                       WHERE u.outcome <> 'alone'), p_owner);
  RETURN QUERY SELECT u.job, u.outcome, u.status FROM unnest(o_jobs, o_outcomes, o_status) AS u(job, outcome, status);
END
$$;

SET LOCAL ROLE glyphic_owner;

CREATE OR REPLACE FUNCTION glyphic.exec_finish(p_id uuid, p_status text, p_output jsonb, p_response jsonb, p_error jsonb,
                                    p_wait_until timestamptz, p_steps jsonb,
                                    p_job bigint, p_attempt integer, p_owner text)
RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
  org uuid;
  heard boolean;
BEGIN
  PERFORM glyphic.job_fence(p_job, p_attempt, p_owner);
  UPDATE glyphic.executions
     SET status = p_status, output = coalesce(p_output, output), response = coalesce(p_response, response),
         error = p_error, wait_until = p_wait_until,
         finished_at = CASE WHEN p_status IN ('succeeded', 'failed', 'canceled') THEN now() END,
         run_job = NULL, run_attempt = NULL, run_owner = NULL
   WHERE id = p_id AND status IN ('running', 'queued', 'waiting')
  RETURNING org_id, watchers > 0 OR hook_wait IS NOT NULL INTO org, heard;
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
  IF heard THEN
    PERFORM pg_notify('gx_' || p_id::text, p_status);
  END IF;
  RETURN true;
END
$$;
