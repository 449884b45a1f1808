-- 006_exactly_once: one runner per execution, leases that follow the
-- worker rather than the job, and outcomes that cannot poison the queue.
--
-- Fencing. A workflow.run job runs an execution under a lease: the job row
-- (id, attempts, lease_owner) is the fencing token. exec_load hands an
-- execution to a job only when no other live job holds it (the execution
-- remembers its runner), and every later write of the run — a step, the
-- steps collected in memory, the finish — checks that the job row still
-- names the same owner and attempt. A runner whose lease was taken from it
-- (rescued after it could not reach the database for a whole lease) stops
-- at its next write instead of racing the new runner.
--
-- Leases. A worker renews every job it holds — running, finished but not
-- yet recorded, claimed but not started — in one statement (heartbeat_jobs,
-- 004), from a thread of its own, so a long node, a long batch or a slow
-- outcome flush never lets a lease lapse. A workflow run that has not
-- started (jobs.started false) is requeued as soon as its worker's
-- connections are gone (every executor
-- connection carries its owner in application_name); anything that may
-- have started waits for its lease to expire, since a worker cut off from
-- the database may still be working on it.
--
-- The queue's states (004) with this file's paths:
--
--   queued ──claim──> running ──complete──> (deleted)
--     ^  ^               │ │ └─ fail ──> failed / dead
--     │  └── release ────┘ │      (unstarted: graceful stop, or a slow batch)
--     └──── rescue ────────┘      (lease expired; or, for a workflow run that
--                                   has not started, its worker's connections
--                                   gone and no renewal for two beats)
SET LOCAL ROLE glyphic_owner;

ALTER TABLE glyphic.executions
  ADD COLUMN run_job bigint,       -- the job that took this execution up last (exec_load)
  ADD COLUMN run_attempt integer,  -- its attempt: (run_job, run_attempt, run_owner) is the runner
  ADD COLUMN run_owner text;
-- set by exec_load when a workflow run takes its execution up (or finds it
-- ended or busy), reset by every claim: a running job that has not started
-- can go back at once
ALTER TABLE glyphic.jobs ADD COLUMN started boolean NOT NULL DEFAULT false;

-- Does job p_job still run as attempt p_attempt under p_owner?
CREATE FUNCTION glyphic.job_holds(p_job bigint, p_attempt integer, p_owner text) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT EXISTS (SELECT 1 FROM glyphic.jobs j
                  WHERE j.id = p_job AND j.state = 'running' AND j.lease_owner = p_owner
                    AND j.attempts = p_attempt)
$$;

-- Raises GLF01 unless the job still holds its lease (see the file comment).
-- The job row stays key-share-locked until the caller's statement ends, so
-- the rescuer (FOR UPDATE SKIP LOCKED) cannot take the job between the
-- check and the write it guards, while lease renewals (which change no
-- key) go on.
CREATE FUNCTION glyphic.job_fence(p_job bigint, p_attempt integer, p_owner text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM glyphic.jobs j
   WHERE j.id = p_job AND j.state = 'running' AND j.lease_owner = p_owner AND j.attempts = p_attempt
     FOR KEY SHARE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'job % no longer holds its lease (attempt %, owner %)', p_job, p_attempt, p_owner
      USING ERRCODE = 'GLF01';
  END IF;
END
$$;

-- exec_load with a runner: as 005's, plus {"busy": true} when another live
-- job runs the execution (the caller drops its job: the runner finishes or
-- parks the execution, and its own job comes back if it dies).
DROP FUNCTION glyphic.exec_load(uuid);
CREATE FUNCTION glyphic.exec_load(p_id uuid, p_job bigint, p_attempt integer, p_owner text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  e glyphic.executions;
  def jsonb;
  wname text;
BEGIN
  -- the fence, and the mark that this job has started (one row write)
  UPDATE glyphic.jobs j SET started = true
   WHERE j.id = p_job AND j.state = 'running' AND j.lease_owner = p_owner AND j.attempts = p_attempt;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'job % no longer holds its lease (attempt %, owner %)', p_job, p_attempt, p_owner
      USING ERRCODE = 'GLF01';
  END IF;
  SELECT * INTO e FROM glyphic.executions WHERE id = p_id FOR UPDATE;
  IF NOT FOUND OR e.status IN ('succeeded', 'failed', 'canceled') THEN
    RETURN NULL;
  END IF;
  IF e.run_job IS NOT NULL
     AND (e.run_job, e.run_attempt, e.run_owner) IS DISTINCT FROM (p_job, p_attempt, p_owner)
     AND glyphic.job_holds(e.run_job, e.run_attempt, e.run_owner) THEN
    RETURN jsonb_build_object('busy', true, 'runner', e.run_job);
  END IF;
  IF e.cancel_requested THEN
    UPDATE glyphic.executions SET status = 'canceled', finished_at = now(),
           error = jsonb_build_object('message', 'canceled')
     WHERE id = p_id;
    PERFORM pg_notify('gx_' || p_id::text, 'canceled');
    RETURN NULL;
  END IF;
  SELECT w.name INTO wname FROM glyphic.workflows w WHERE w.id = e.workflow_id;
  IF e.definition IS NOT NULL THEN
    def := e.definition;
  ELSE
    SELECT v.definition INTO def FROM glyphic.workflow_versions v
     WHERE v.workflow_id = e.workflow_id AND v.version = e.version;
  END IF;
  UPDATE glyphic.executions SET status = 'running', started_at = coalesce(started_at, now()), wait_until = NULL,
         run_job = p_job, run_attempt = p_attempt, run_owner = p_owner
   WHERE id = p_id;
  RETURN jsonb_build_object(
    'id', e.id, 'org_id', e.org_id, 'workflow_id', e.workflow_id, 'workflow_name', wname,
    'version', e.version, 'definition', def, 'trigger', e.trigger, 'trigger_node', e.trigger_node,
    'input', e.input, 'parent_id', e.parent_id, 'watchers', e.watchers,
    'steps', coalesce((SELECT jsonb_agg(jsonb_build_object(
                 'seq', s.seq, 'node_id', s.node_id, 'run_index', s.run_index, 'attempt', s.attempt,
                 'status', s.status, 'output', s.output, 'state', s.state, 'error', s.error,
                 'finished_ms', (extract(epoch FROM s.finished_at) * 1000)::bigint) ORDER BY s.seq)
               FROM glyphic.execution_steps s WHERE s.execution_id = p_id), '[]'));
END
$$;

-- exec_step, fenced: the step is written only while the job holds its lease.
DROP FUNCTION glyphic.exec_step(uuid, integer, text, integer, integer, text, jsonb, jsonb, jsonb, jsonb, bigint,
                                bigint);
CREATE FUNCTION glyphic.exec_step(p_id uuid, p_seq integer, p_node text, p_run_index integer, p_attempt integer,
                                  p_status text, p_input jsonb, p_output jsonb, p_state jsonb, p_error jsonb,
                                  p_started_ms bigint, p_finished_ms bigint,
                                  p_job bigint, p_job_attempt integer, p_owner text,
                                  OUT cancel_requested boolean, OUT watchers integer)
LANGUAGE plpgsql AS $$
DECLARE
  org uuid;
BEGIN
  PERFORM glyphic.job_fence(p_job, p_job_attempt, p_owner);
  SELECT e.org_id, e.cancel_requested, e.watchers INTO org, cancel_requested, watchers
    FROM glyphic.executions e WHERE e.id = p_id;
  IF NOT FOUND THEN
    -- the execution was deleted while it ran
    cancel_requested := true;
    watchers := 0;
    RETURN;
  END IF;
  INSERT INTO glyphic.execution_steps (execution_id, seq, org_id, node_id, run_index, attempt, status,
                                       input, output, state, error, started_at, finished_at)
  VALUES (p_id, p_seq, org, p_node, p_run_index, p_attempt, p_status, p_input, p_output, p_state, p_error,
          to_timestamp(p_started_ms / 1000.0), to_timestamp(p_finished_ms / 1000.0));
  IF watchers > 0 THEN
    PERFORM pg_notify('gx_' || p_id::text, 'step ' || p_seq);
  END IF;
END
$$;

-- Steps collected in memory, written under the job's fence.
CREATE FUNCTION glyphic.exec_insert_steps_fenced(p_id uuid, p_org uuid, p_steps jsonb,
                                                 p_job bigint, p_attempt integer, p_owner text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM glyphic.job_fence(p_job, p_attempt, p_owner);
  PERFORM glyphic.exec_insert_steps(p_id, p_org, p_steps);
END
$$;

-- exec_finish, fenced. The runner is forgotten when the execution ends or
-- parks, so the job that resumes a parked execution takes it up at once.
DROP FUNCTION glyphic.exec_finish(uuid, text, jsonb, jsonb, jsonb, timestamptz, jsonb);
CREATE FUNCTION glyphic.exec_finish(p_id uuid, p_status text, p_output jsonb, p_response jsonb, p_error jsonb,
                                    p_wait_until timestamptz, p_steps jsonb,
                                    p_job bigint, p_attempt integer, p_owner text)
RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
  org uuid;
BEGIN
  PERFORM glyphic.job_fence(p_job, p_attempt, p_owner);
  UPDATE glyphic.executions
     SET status = p_status, output = coalesce(p_output, output), response = coalesce(p_response, response),
         error = p_error, wait_until = p_wait_until,
         finished_at = CASE WHEN p_status IN ('succeeded', 'failed', 'canceled') THEN now() END,
         run_job = NULL, run_attempt = NULL, run_owner = NULL
   WHERE id = p_id AND status IN ('running', 'queued', 'waiting')
  RETURNING org_id INTO org;
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
  PERFORM pg_notify('gx_' || p_id::text, p_status);
  RETURN true;
END
$$;

-- Releases claimed but unstarted jobs (a graceful stop, or a worker whose
-- batch turned out slow) and rings the doorbell for idle executors. A job
-- that has started is never released (a late retry of a release must not
-- hand back a job its worker claimed again and took up meanwhile).
CREATE OR REPLACE FUNCTION glyphic.release_jobs(p_ids bigint[], p_owner text) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  n integer;
  q text;
BEGIN
  WITH r AS (
    UPDATE glyphic.jobs j SET state = 'queued', attempts = greatest(j.attempts - 1, 0), lease_owner = NULL,
                              lease_expires_at = NULL, updated_at = now()
     WHERE j.id = ANY (p_ids) AND j.state = 'running' AND j.lease_owner = p_owner AND NOT j.started
    RETURNING j.queue)
  SELECT count(*)::integer, min(r.queue) INTO n, q FROM r;
  IF n > 0 AND EXISTS (SELECT 1 FROM glyphic.queue_waiters w WHERE w.queue = q AND w.until > now()) THEN
    PERFORM pg_notify('glyphic_jobs', q);
  END IF;
  RETURN n;
END
$$;

-- Failures as one JSON array [{id, error, retryable}] (no hand-escaped
-- array literals): the same rules as fail_jobs.
CREATE FUNCTION glyphic.fail_jobs_json(p_failures jsonb, p_owner text) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  n integer;
BEGIN
  SELECT glyphic.fail_jobs(array_agg((f.v->>'id')::bigint ORDER BY f.ord), array_agg(f.v->>'error' ORDER BY f.ord),
                           array_agg((f.v->>'retryable')::boolean ORDER BY f.ord), p_owner)
    INTO n
    FROM jsonb_array_elements(p_failures) WITH ORDINALITY AS f(v, ord);
  RETURN coalesce(n, 0);
END
$$;

-- Claims as in 004, resetting started (queue.c's prepared claim does the same).
CREATE OR REPLACE FUNCTION glyphic.claim_jobs(p_queue text, p_owner text, p_limit integer, p_lease_seconds integer)
RETURNS TABLE (id bigint, kind text, payload jsonb, attempts integer, max_attempts integer, org_id uuid)
LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY
  WITH c AS (
    SELECT j.id FROM glyphic.jobs j
     WHERE j.queue = p_queue AND j.state IN ('queued', 'failed') AND j.run_at <= now()
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
END
$$;

-- Requeues (or kills, when out of attempts) the jobs of dead workers: every
-- job whose lease expired, and sooner a workflow run that has not started
-- (exec_load never took its execution up) whose owner has no connection
-- left and has not renewed its lease for p_quiet seconds. Requeuing such a
-- job early is safe even when its worker is alive but cut off: exec_load's
-- fence would refuse it that job — and exec_load's fence is the write of
-- started, so a rescue that raced it sees started and leaves the job
-- alone. A workflow
-- run that had not started gets its attempt back. Executor connections are
-- named 'glyphic-executor <owner>'.
CREATE FUNCTION glyphic.rescue_jobs(p_lease_seconds integer, p_quiet_seconds integer) RETURNS integer
LANGUAGE sql AS $$
  WITH dead AS (
    SELECT j.id, (j.kind = 'workflow.run' AND NOT j.started) AS unstarted FROM glyphic.jobs j
     WHERE j.state = 'running'
       AND (j.lease_expires_at < now()
            OR (j.kind = 'workflow.run' AND NOT j.started
                AND j.lease_expires_at < now() + make_interval(secs => p_lease_seconds - p_quiet_seconds)
                AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a
                                 WHERE a.application_name = 'glyphic-executor ' || j.lease_owner)))
     FOR UPDATE SKIP LOCKED),
  r AS (
    UPDATE glyphic.jobs j
       SET state = CASE WHEN NOT dead.unstarted AND j.attempts >= j.max_attempts THEN 'dead' ELSE 'queued' END,
           attempts = CASE WHEN dead.unstarted THEN greatest(j.attempts - 1, 0) ELSE j.attempts END,
           finished_at = CASE WHEN NOT dead.unstarted AND j.attempts >= j.max_attempts THEN now() END,
           last_error = 'lease lost (worker ' || coalesce(j.lease_owner, '?') || ' stopped)',
           lease_owner = NULL, lease_expires_at = NULL, run_at = now(), updated_at = now(), started = false
      FROM dead WHERE j.id = dead.id RETURNING 1)
  SELECT count(*)::integer FROM r
$$;

-- new functions are the executor's alone (001's default privileges grant
-- EXECUTE to glyphic_app too; replaced functions keep the grants they had)
REVOKE EXECUTE ON FUNCTION glyphic.job_holds(bigint, integer, text), glyphic.job_fence(bigint, integer, text),
  glyphic.exec_load(uuid, bigint, integer, text),
  glyphic.exec_step(uuid, integer, text, integer, integer, text, jsonb, jsonb, jsonb, jsonb, bigint, bigint, bigint,
                    integer, text),
  glyphic.exec_insert_steps_fenced(uuid, uuid, jsonb, bigint, integer, text),
  glyphic.exec_finish(uuid, text, jsonb, jsonb, jsonb, timestamptz, jsonb, bigint, integer, text),
  glyphic.fail_jobs_json(jsonb, text),
  glyphic.rescue_jobs(integer, integer) FROM PUBLIC, glyphic_app;
GRANT EXECUTE ON FUNCTION glyphic.job_holds(bigint, integer, text), glyphic.job_fence(bigint, integer, text),
  glyphic.exec_load(uuid, bigint, integer, text),
  glyphic.exec_step(uuid, integer, text, integer, integer, text, jsonb, jsonb, jsonb, jsonb, bigint, bigint, bigint,
                    integer, text),
  glyphic.exec_insert_steps_fenced(uuid, uuid, jsonb, bigint, integer, text),
  glyphic.exec_finish(uuid, text, jsonb, jsonb, jsonb, timestamptz, jsonb, bigint, integer, text),
  glyphic.fail_jobs_json(jsonb, text),
  glyphic.rescue_jobs(integer, integer) TO glyphic_executor;
