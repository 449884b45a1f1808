-- 038: a claim and a batch's end cost the same whatever the backlog.
--
-- Two statements of the executor's batch lane read, once per batch, every
-- waiting job or an index entry per job claimed since the last vacuum: a
-- batch's work grew with the backlog, and a drain's with its square. Found
-- with auto_explain (log_nested_statements) on the executor's statements
-- during a drain; two workers drained about 40,000 quick executions at
-- 4,779-4,900 a second before, 5,680-5,874 after.
--
--   claim_jobs (016), step 1: "orgs with a job due" was an EXISTS, which
--   PostgreSQL turns into a semi join; its plan hashed every due job of
--   the queue (9,362 of them, 19 ms, for one org) to keep the orgs that
--   have one. It is now a scalar subquery, which is never made a join: per
--   org, the first due job by the claim index (jobs_claim_org), the order
--   the claim itself reads them in.
--
--   exec_finish_many (027, 037): the fences (the batch's jobs this worker
--   still holds, locked until the end) were a join of the jobs table with
--   the runs; estimated at one running job, the plan read every entry of
--   jobs_lease (one per job claimed since the last vacuum) and compared
--   each run with each job (21,170 comparisons, 3.7 ms, for 146 runs). It
--   is now a lateral lookup of each run's job by its key, in the order of
--   the jobs' ids (before, the plan chose the order): a fixed order, the
--   one heartbeat_jobs on the lease keeper's connection takes the same
--   jobs in when its plan reads them by the key.
--
-- Both answer as before; only the plans change. exec_finish_many is
-- replaced as the migrating role, which made it in 027 (see 037), and
-- claim_jobs as glyphic_owner, which made it in 016.

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
  SELECT array_agg(h.id) INTO held
    FROM (SELECT * FROM jsonb_to_recordset(p_runs) AS x(job bigint, attempt integer) ORDER BY x.job) r
   CROSS JOIN LATERAL (
     SELECT j.id FROM glyphic.jobs j
      WHERE j.id = r.job AND j.state = 'running' AND j.lease_owner = p_owner AND j.attempts = r.attempt
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

CREATE OR REPLACE FUNCTION glyphic.claim_jobs(p_queue text, p_owner text, p_limit integer, p_lease_seconds integer)
RETURNS TABLE (id bigint, kind text, payload jsonb, attempts integer, max_attempts integer, org_id uuid)
LANGUAGE plpgsql AS $$
DECLARE
  orgs uuid[];      -- orgs with a due job, in id order
  lims integer[];   -- their limits: 0 none, -1 another claim is serving the org
  sys boolean;      -- due jobs without an org wait too
  def integer;
BEGIN
  -- 1. the orgs with jobs waiting (skip scan), those with one due
  WITH RECURSIVE o(org) AS (
      (SELECT j.org_id FROM glyphic.jobs j
        WHERE j.queue = p_queue AND j.state IN ('queued', 'failed') AND j.org_id IS NOT NULL
        ORDER BY j.org_id LIMIT 1)
    UNION ALL
      SELECT (SELECT j.org_id FROM glyphic.jobs j
               WHERE j.queue = p_queue AND j.state IN ('queued', 'failed') AND j.org_id IS NOT NULL
                 AND j.org_id > o.org
               ORDER BY j.org_id LIMIT 1)
        FROM o WHERE o.org IS NOT NULL)
  SELECT array_agg(o.org ORDER BY o.org) INTO orgs
    FROM o
   WHERE o.org IS NOT NULL
     AND (SELECT true FROM glyphic.jobs d
           WHERE d.queue = p_queue AND d.org_id = o.org AND d.org_id IS NOT NULL
             AND d.state IN ('queued', 'failed') AND d.run_at <= now()
           ORDER BY d.priority, d.run_at, d.id
           LIMIT 1);

  IF orgs IS NULL THEN
    -- only jobs without an org: first in, first out (004)
    RETURN QUERY
    WITH c AS (
      SELECT j.id FROM glyphic.jobs j
       WHERE j.queue = p_queue AND j.state IN ('queued', 'failed') AND j.org_id IS NULL AND j.run_at <= now()
       ORDER BY j.priority, j.run_at, j.id
       LIMIT p_limit
       FOR UPDATE SKIP LOCKED),
    u AS (
      UPDATE glyphic.jobs j
         SET state = 'running', attempts = j.attempts + 1, lease_owner = p_owner, started = false,
             lease_expires_at = now() + make_interval(secs => p_lease_seconds), updated_at = now()
        FROM c WHERE j.id = c.id
      RETURNING j.id, j.kind, j.payload, j.attempts, j.max_attempts, j.org_id, j.priority, j.run_at)
    SELECT u.id, u.kind, u.payload, u.attempts, u.max_attempts, u.org_id FROM u
     ORDER BY u.priority, u.run_at, u.id;
    RETURN;
  END IF;

  sys := EXISTS (SELECT 1 FROM glyphic.jobs j
                  WHERE j.queue = p_queue AND j.state IN ('queued', 'failed') AND j.org_id IS NULL
                    AND j.run_at <= now());
  def := glyphic.org_limit_default('max_running');
  -- 2. limits; a limited org only with its lock (try: never wait for it)
  SELECT array_agg(CASE WHEN x.lim > 0
                             AND NOT pg_try_advisory_xact_lock(hashtextextended('glyphic.org_running:' || x.org, 0))
                        THEN -1 ELSE x.lim END ORDER BY x.ord)
    INTO lims
    FROM (SELECT u.ord, u.org, coalesce(l.max_running, def) AS lim
            FROM unnest(orgs) WITH ORDINALITY AS u(org, ord)
            LEFT JOIN glyphic.org_limits l ON l.org_id = u.org) x;

  -- 3. and 4. (a new snapshot: it sees the running jobs of earlier holders
  -- of the locks)
  RETURN QUERY
  WITH o AS (
    SELECT u.org, CASE WHEN u.lim = 0 THEN p_limit
                       WHEN u.lim < 0 THEN 0
                       ELSE least(p_limit, greatest(0, u.lim - (
                              SELECT count(*)::integer FROM glyphic.jobs r
                               WHERE r.org_id = u.org AND r.state = 'running' AND r.org_id IS NOT NULL)))
                  END AS cap
      FROM unnest(orgs, lims) AS u(org, lim)),
  s AS (
    SELECT ceil(p_limit::numeric / greatest(1, count(*) + sys::integer))::integer AS share
      FROM o WHERE o.cap > 0),
  c AS (
    SELECT x.id, x.org_id, x.priority, x.run_at
      FROM o CROSS JOIN s
     CROSS JOIN LATERAL (
       SELECT j.id, j.org_id, j.priority, j.run_at FROM glyphic.jobs j
        WHERE j.queue = p_queue AND j.org_id = o.org AND j.org_id IS NOT NULL
          AND j.state IN ('queued', 'failed') AND j.run_at <= now()
        ORDER BY j.priority, j.run_at, j.id
        LIMIT least(o.cap, s.share)
        FOR UPDATE SKIP LOCKED) x
     WHERE o.cap > 0
    UNION ALL
    SELECT x.id, NULL::uuid, x.priority, x.run_at
      FROM s
     CROSS JOIN LATERAL (
       SELECT j.id, j.priority, j.run_at FROM glyphic.jobs j
        WHERE j.queue = p_queue AND j.org_id IS NULL AND j.state IN ('queued', 'failed') AND j.run_at <= now()
        ORDER BY j.priority, j.run_at, j.id
        LIMIT s.share
        FOR UPDATE SKIP LOCKED) x
     WHERE sys),
  r AS (
    SELECT c.id, c.priority, c.run_at,
           row_number() OVER (PARTITION BY c.org_id ORDER BY c.priority, c.run_at, c.id) AS turn
      FROM c),
  pick AS (
    SELECT r.id, r.turn FROM r ORDER BY r.priority, r.turn, r.run_at, r.id LIMIT p_limit),
  u AS (
    UPDATE glyphic.jobs j
       SET state = 'running', attempts = j.attempts + 1, lease_owner = p_owner, started = false,
           lease_expires_at = now() + make_interval(secs => p_lease_seconds), updated_at = now()
      FROM pick WHERE j.id = pick.id
    RETURNING j.id, j.kind, j.payload, j.attempts, j.max_attempts, j.org_id, j.priority, pick.turn, j.run_at)
  SELECT u.id, u.kind, u.payload, u.attempts, u.max_attempts, u.org_id FROM u
   ORDER BY u.priority, u.turn, u.run_at, u.id;
END
$$;
