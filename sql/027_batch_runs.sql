-- 027_batch_runs: quick executions run and recorded a batch at a time.
--
-- An executor worker claims jobs in batches (004), but ran each workflow.run
-- job with its own statements: exec_load (mark the job started, take the
-- execution up), then exec_finish (the fence, the execution's end, its
-- steps), then the batch's complete_jobs. Profiled draining a backlog of
-- webhook -> set -> respond executions, PostgreSQL took 83% of the CPU, most
-- of it starting and ending statements (executor start-up of each plpgsql
-- statement, CHECK constraints parsed again per statement, a hash join per
-- jsonb_to_recordset), not doing the rows' work. These two functions do the
-- same for a whole batch in a fixed number of statements.
--
-- exec_fresh_many reads the fresh executions among a batch's: queued, never
-- started, not canceled, not watched. It writes nothing: a quick workflow
-- (no HTTP, waits, subworkflows or retries: nothing with side effects) is
-- run in memory from what it returns, and its job is never marked started,
-- so a worker that dies meanwhile has its jobs handed back at once.
--
-- exec_finish_many records a batch of such runs and completes their jobs in
-- one transaction: an execution is never finished while its job still
-- waits to be completed. Its fences are the jobs it is handed that this
-- worker still holds (locked until the transaction ends); a run whose job
-- is no longer held is left alone and not returned, as exec_finish would
-- refuse it (GLF01). Per job it answers:
--   done   the execution ended as run (its steps stored), or canceled when
--          cancel was asked meanwhile (as exec_load cancels it); job
--          completed; status says which
--   ended  the execution had ended meanwhile (canceled, reaped, deleted):
--          nothing recorded, job completed (exec_load answers NULL for it)
--   alone  the execution is no longer fresh (taken up by another runner):
--          nothing recorded, job untouched; the caller runs it through
--          exec_load, which decides as it always has
-- Only ends are taken (succeeded, failed, canceled).

CREATE FUNCTION glyphic.exec_fresh_many(p_ids uuid[])
RETURNS TABLE (execution_id uuid, execution text)
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN QUERY
  SELECT e.id, jsonb_build_object(
           'id', e.id, 'org_id', e.org_id, 'workflow_id', e.workflow_id, 'workflow_name', w.name,
           'version', e.version, 'definition', coalesce(e.definition, v.definition), 'trigger', e.trigger,
           'trigger_node', e.trigger_node, 'input', e.input, 'parent_id', e.parent_id, 'watchers', e.watchers,
           'steps', '[]'::jsonb)::text
    FROM glyphic.executions e
    LEFT JOIN glyphic.workflows w ON w.id = e.workflow_id
    LEFT JOIN glyphic.workflow_versions v
           ON e.definition IS NULL AND v.workflow_id = e.workflow_id AND v.version = e.version
   WHERE e.id = ANY (p_ids) AND e.status = 'queued' AND e.started_at IS NULL AND e.run_job IS NULL
     AND NOT e.cancel_requested AND e.watchers = 0;
END
$$;

-- p_runs: [{job, attempt, id, status, output, response, error, steps,
-- started_ms}], steps as exec_insert_steps takes them (or null).
CREATE FUNCTION glyphic.exec_finish_many(p_runs jsonb, p_owner text)
RETURNS TABLE (job_id bigint, outcome text, status text)
LANGUAGE plpgsql AS $$
DECLARE
  held bigint[];
  done_jobs bigint[];
  done_ids uuid[];
  done_status text[];
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
    RETURNING r.job, e.id, e.status)
  SELECT array_agg(x.job), array_agg(x.id), array_agg(x.status) INTO done_jobs, done_ids, done_status FROM x;
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
    PERFORM pg_notify('gx_' || d.id::text, d.status) FROM unnest(done_ids, done_status) AS d(id, status);
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

-- the executor's alone, as 006's
REVOKE EXECUTE ON FUNCTION glyphic.exec_fresh_many(uuid[]), glyphic.exec_finish_many(jsonb, text)
  FROM PUBLIC, glyphic_app;
GRANT EXECUTE ON FUNCTION glyphic.exec_fresh_many(uuid[]), glyphic.exec_finish_many(jsonb, text)
  TO glyphic_executor;
