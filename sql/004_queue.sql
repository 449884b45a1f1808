-- 004_queue: the durable job queue.
--
--   enqueue ──> queued ──claim──> running ──complete──> (deleted; counted in job_stats)
--                 ^   \                 │  \
--                 │    cancel           │   fail, retryable, attempts left
--                 │      v              │      v
--                 │   canceled          │   failed (waits until run_at, then claimable)
--                 │                     │
--                 │                     └─ fail, not retryable or out of attempts ──> dead
--                 └──── rescue (lease expired) / retry (dead or canceled) ────────────┘
--
-- A claim takes up to a batch of due jobs (priority, then run_at) with
-- FOR UPDATE SKIP LOCKED and gives them a lease; a worker that dies loses its
-- lease and the rescuer puts the jobs back. Succeeded jobs are deleted at
-- once, so the claim index only ever holds live jobs; a per-minute counter
-- keeps throughput visible.
--
-- NOTIFY is a doorbell: enqueue rings it only for a job that is due now and
-- only when an executor has said it is waiting (queue_waiters), so a busy
-- system pays no commit-time NOTIFY lock per job. The table is the truth:
-- executors also poll.
SET LOCAL ROLE glyphic_owner;

CREATE TABLE glyphic.jobs (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  queue            text NOT NULL DEFAULT 'default' CHECK (length(queue) BETWEEN 1 AND 64),
  kind             text NOT NULL CHECK (length(kind) BETWEEN 1 AND 64),
  payload          jsonb NOT NULL DEFAULT '{}',
  org_id           uuid REFERENCES glyphic.orgs ON DELETE CASCADE,
  priority         smallint NOT NULL DEFAULT 0,
  run_at           timestamptz NOT NULL DEFAULT now(),
  attempts         integer NOT NULL DEFAULT 0,
  max_attempts     integer NOT NULL DEFAULT 10 CHECK (max_attempts BETWEEN 1 AND 1000),
  backoff_ms       integer NOT NULL DEFAULT 1000 CHECK (backoff_ms BETWEEN 0 AND 86400000),
  state            text NOT NULL DEFAULT 'queued'
                   CHECK (state IN ('queued', 'running', 'failed', 'dead', 'canceled')),
  lease_owner      text,
  lease_expires_at timestamptz,
  last_error       text,
  unique_key       text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  finished_at      timestamptz
);
-- every job is inserted, updated and deleted within seconds: vacuum after
-- a few thousand dead rows rather than a fraction of the table, or claims
-- wade through dead index entries after a burst
ALTER TABLE glyphic.jobs SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 2000,
                              autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 2000);
CREATE INDEX jobs_claim ON glyphic.jobs (queue, priority, run_at, id) WHERE state IN ('queued', 'failed');
CREATE INDEX jobs_lease ON glyphic.jobs (lease_expires_at) WHERE state = 'running';
CREATE INDEX jobs_finished ON glyphic.jobs (finished_at) WHERE state IN ('dead', 'canceled');
CREATE INDEX jobs_org ON glyphic.jobs (org_id) WHERE org_id IS NOT NULL;
-- at most one queued-or-running job per key; a duplicate enqueue returns the
-- existing job's id and changes nothing
CREATE UNIQUE INDEX jobs_unique_key ON glyphic.jobs (unique_key)
  WHERE unique_key IS NOT NULL AND state IN ('queued', 'running', 'failed');

-- completions per minute, queue and org (throughput without keeping rows)
CREATE TABLE glyphic.job_stats (
  minute    timestamptz NOT NULL,
  queue     text NOT NULL,
  org_id    uuid,
  succeeded bigint NOT NULL DEFAULT 0,
  failed    bigint NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX job_stats_key ON glyphic.job_stats (minute, queue, coalesce(org_id, '00000000-0000-0000-0000-000000000000'));

-- executors waiting for work (see the file comment): a row per waiting
-- worker, valid until `until`, refreshed while it waits, deleted when it
-- wakes; a worker that died leaves a row that simply expires
CREATE UNLOGGED TABLE glyphic.queue_waiters (
  queue text NOT NULL,
  owner text NOT NULL,
  until timestamptz NOT NULL,
  PRIMARY KEY (queue, owner)
);

ALTER TABLE glyphic.jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE glyphic.jobs FORCE ROW LEVEL SECURITY;
CREATE POLICY jobs_trusted ON glyphic.jobs USING ((SELECT glyphic.rls_trusted()));
CREATE POLICY jobs_org_read ON glyphic.jobs FOR SELECT
  USING (org_id = ANY ((SELECT glyphic.my_admin_org_ids())::uuid[]));
ALTER TABLE glyphic.job_stats ENABLE ROW LEVEL SECURITY;
ALTER TABLE glyphic.job_stats FORCE ROW LEVEL SECURITY;
CREATE POLICY job_stats_trusted ON glyphic.job_stats USING ((SELECT glyphic.rls_trusted()));
CREATE POLICY job_stats_org_read ON glyphic.job_stats FOR SELECT
  USING (org_id = ANY ((SELECT glyphic.my_admin_org_ids())::uuid[]));
REVOKE INSERT, UPDATE, DELETE ON glyphic.jobs, glyphic.job_stats FROM glyphic_app;
REVOKE ALL ON glyphic.queue_waiters FROM glyphic_app;
GRANT SELECT ON glyphic.queue_waiters TO glyphic_app;

-- Enqueues one job in the caller's transaction and returns its id (the
-- existing job's id for a duplicate unique_key). glyphic-fcgi may enqueue
-- only for the request's org; the executor for any.
CREATE FUNCTION glyphic.enqueue(p_kind text, p_payload jsonb DEFAULT '{}', p_queue text DEFAULT 'default',
                                p_org uuid DEFAULT NULL, p_priority smallint DEFAULT 0,
                                p_run_at timestamptz DEFAULT NULL, p_max_attempts integer DEFAULT 10,
                                p_unique_key text DEFAULT NULL, p_backoff_ms integer DEFAULT 1000)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = glyphic AS $$
DECLARE
  jid bigint;
BEGIN
  -- inside this SECURITY DEFINER function current_user is the owner: the
  -- caller is session_user
  IF session_user = 'glyphic_app' AND p_org IS DISTINCT FROM glyphic.current_org_id() THEN
    RAISE EXCEPTION 'jobs may be enqueued only for the request''s org' USING ERRCODE = '42501';
  END IF;
  INSERT INTO glyphic.jobs (kind, payload, queue, org_id, priority, run_at, max_attempts, unique_key, backoff_ms)
  VALUES (p_kind, p_payload, p_queue, p_org, p_priority, coalesce(p_run_at, now()), p_max_attempts,
          p_unique_key, p_backoff_ms)
  ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL AND state IN ('queued', 'running', 'failed')
  DO NOTHING
  RETURNING id INTO jid;
  IF jid IS NULL THEN
    SELECT j.id INTO jid FROM glyphic.jobs j
     WHERE j.unique_key = p_unique_key AND j.state IN ('queued', 'running', 'failed');
    RETURN jid;
  END IF;
  IF (p_run_at IS NULL OR p_run_at <= now())
     AND EXISTS (SELECT 1 FROM glyphic.queue_waiters w WHERE w.queue = p_queue AND w.until > now()) THEN
    PERFORM pg_notify('glyphic_jobs', p_queue);
  END IF;
  RETURN jid;
END
$$;

-- Enqueues many jobs of one kind (one per payload) with one NOTIFY.
CREATE FUNCTION glyphic.enqueue_bulk(p_kind text, p_payloads jsonb[], p_queue text DEFAULT 'default',
                                     p_org uuid DEFAULT NULL, p_priority smallint DEFAULT 0,
                                     p_max_attempts integer DEFAULT 10)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = glyphic AS $$
DECLARE
  n integer;
BEGIN
  IF session_user = 'glyphic_app' AND p_org IS DISTINCT FROM glyphic.current_org_id() THEN
    RAISE EXCEPTION 'jobs may be enqueued only for the request''s org' USING ERRCODE = '42501';
  END IF;
  INSERT INTO glyphic.jobs (kind, payload, queue, org_id, priority, max_attempts)
  SELECT p_kind, p, p_queue, p_org, p_priority, p_max_attempts FROM unnest(p_payloads) p;
  GET DIAGNOSTICS n = ROW_COUNT;
  IF n > 0 AND EXISTS (SELECT 1 FROM glyphic.queue_waiters w WHERE w.queue = p_queue AND w.until > now()) THEN
    PERFORM pg_notify('glyphic_jobs', p_queue);
  END IF;
  RETURN n;
END
$$;

-- A worker says it waits on a queue for up to p_seconds (p_seconds 0: it
-- woke up).
CREATE FUNCTION glyphic.queue_wait(p_queue text, p_owner text, p_seconds double precision) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF p_seconds <= 0 THEN
    DELETE FROM glyphic.queue_waiters WHERE queue = p_queue AND owner = p_owner;
  ELSE
    INSERT INTO glyphic.queue_waiters AS w (queue, owner, until)
    VALUES (p_queue, p_owner, now() + make_interval(secs => p_seconds))
    ON CONFLICT (queue, owner) DO UPDATE SET until = EXCLUDED.until;
  END IF;
END
$$;

-- Claims up to p_limit due jobs of the queue for p_owner, leased for
-- p_lease_seconds, in the order they should run. One statement.
-- (plpgsql, not SQL: a SQL function is planned again on every call, a
-- plpgsql one keeps its plans — this runs once per claim)
CREATE FUNCTION glyphic.claim_jobs(p_queue text, p_owner text, p_limit integer, p_lease_seconds integer)
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
       SET state = 'running', attempts = j.attempts + 1, lease_owner = p_owner,
           lease_expires_at = now() + make_interval(secs => p_lease_seconds), updated_at = now()
      FROM c WHERE j.id = c.id
    RETURNING j.id, j.kind, j.payload, j.attempts, j.max_attempts, j.org_id, j.priority, j.run_at)
  SELECT u.id, u.kind, u.payload, u.attempts, u.max_attempts, u.org_id FROM u
   ORDER BY u.priority, u.run_at, u.id;
END
$$;

-- Records a batch of successes: the jobs are deleted and counted.
CREATE FUNCTION glyphic.complete_jobs(p_ids bigint[], p_owner text) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  n integer;
BEGIN
  WITH d AS (
    DELETE FROM glyphic.jobs j WHERE j.id = ANY (p_ids) AND j.state = 'running' AND j.lease_owner = p_owner
    RETURNING j.queue, j.org_id),
  s AS (
    INSERT INTO glyphic.job_stats AS st (minute, queue, org_id, succeeded)
    SELECT date_trunc('minute', now()), d.queue, d.org_id, count(*) FROM d GROUP BY d.queue, d.org_id
    ON CONFLICT (minute, queue, coalesce(org_id, '00000000-0000-0000-0000-000000000000'))
    DO UPDATE SET succeeded = st.succeeded + EXCLUDED.succeeded
    RETURNING st.succeeded)
  SELECT count(*)::integer INTO n FROM d;
  RETURN n;
END
$$;

-- Records a batch of failures. A retryable failure with attempts left waits
-- (state failed) for exponential backoff with jitter, capped at an hour;
-- anything else is dead (kept, visible, retryable by hand).
CREATE FUNCTION glyphic.fail_jobs(p_ids bigint[], p_errors text[], p_retryable boolean[], p_owner text)
RETURNS integer
LANGUAGE sql AS $$
  WITH f AS (SELECT * FROM unnest(p_ids, p_errors, p_retryable) AS f(id, err, retryable)),
  u AS (
    UPDATE glyphic.jobs j
       SET state = CASE WHEN f.retryable AND j.attempts < j.max_attempts THEN 'failed' ELSE 'dead' END,
           run_at = CASE WHEN f.retryable AND j.attempts < j.max_attempts
                         THEN now() + make_interval(secs => least(3600.0,
                                j.backoff_ms / 1000.0 * power(2, least(j.attempts - 1, 20)))
                                * (0.75 + random() * 0.5))
                         ELSE j.run_at END,
           finished_at = CASE WHEN f.retryable AND j.attempts < j.max_attempts THEN NULL ELSE now() END,
           last_error = left(f.err, 2000), lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
      FROM f WHERE j.id = f.id AND j.state = 'running' AND j.lease_owner = p_owner
    RETURNING j.queue, j.org_id),
  s AS (
    INSERT INTO glyphic.job_stats AS st (minute, queue, org_id, failed)
    SELECT date_trunc('minute', now()), u.queue, u.org_id, count(*) FROM u GROUP BY u.queue, u.org_id
    ON CONFLICT (minute, queue, coalesce(org_id, '00000000-0000-0000-0000-000000000000'))
    DO UPDATE SET failed = st.failed + EXCLUDED.failed
    RETURNING st.failed)
  SELECT count(*)::integer FROM u
$$;

-- Puts jobs the worker claimed but did not start back (graceful stop).
CREATE FUNCTION glyphic.release_jobs(p_ids bigint[], p_owner text) RETURNS integer
LANGUAGE sql AS $$
  WITH r AS (
    UPDATE glyphic.jobs j SET state = 'queued', attempts = greatest(j.attempts - 1, 0), lease_owner = NULL,
                              lease_expires_at = NULL, updated_at = now()
     WHERE j.id = ANY (p_ids) AND j.state = 'running' AND j.lease_owner = p_owner RETURNING 1)
  SELECT count(*)::integer FROM r
$$;

-- Extends the leases of jobs still running for p_owner.
CREATE FUNCTION glyphic.heartbeat_jobs(p_ids bigint[], p_owner text, p_lease_seconds integer) RETURNS integer
LANGUAGE sql AS $$
  WITH h AS (
    UPDATE glyphic.jobs j SET lease_expires_at = now() + make_interval(secs => p_lease_seconds)
     WHERE j.id = ANY (p_ids) AND j.state = 'running' AND j.lease_owner = p_owner RETURNING 1)
  SELECT count(*)::integer FROM h
$$;

-- Jobs whose lease expired (their worker died) go back to the queue, or to
-- dead when they have no attempts left.
CREATE FUNCTION glyphic.rescue_jobs() RETURNS integer
LANGUAGE sql AS $$
  WITH r AS (
    UPDATE glyphic.jobs j
       SET state = CASE WHEN j.attempts >= j.max_attempts THEN 'dead' ELSE 'queued' END,
           finished_at = CASE WHEN j.attempts >= j.max_attempts THEN now() END,
           last_error = 'lease expired (worker ' || coalesce(j.lease_owner, '?') || ' stopped)',
           lease_owner = NULL, lease_expires_at = NULL, run_at = now(), updated_at = now()
     WHERE j.state = 'running' AND j.lease_expires_at < now() RETURNING 1)
  SELECT count(*)::integer FROM r
$$;

CREATE FUNCTION glyphic.cancel_job(p_id bigint) RETURNS boolean
LANGUAGE sql AS $$
  WITH c AS (
    UPDATE glyphic.jobs SET state = 'canceled', finished_at = now(), lease_owner = NULL,
                            lease_expires_at = NULL, updated_at = now()
     WHERE id = p_id AND state IN ('queued', 'failed', 'running') RETURNING 1)
  SELECT EXISTS (SELECT 1 FROM c)
$$;

-- Gives a dead or canceled job another go: queued now, with one more
-- attempt allowed if it had used them all (its history of attempts stays).
CREATE FUNCTION glyphic.retry_job(p_id bigint) RETURNS boolean
LANGUAGE sql AS $$
  WITH r AS (
    UPDATE glyphic.jobs SET state = 'queued', run_at = now(), finished_at = NULL, updated_at = now(),
                            max_attempts = greatest(max_attempts, attempts + 1)
     WHERE id = p_id AND state IN ('dead', 'canceled') RETURNING queue)
  SELECT EXISTS (SELECT 1 FROM r)
$$;

-- Removes dead and canceled jobs finished more than p_days ago, and old stats.
CREATE FUNCTION glyphic.prune_jobs(p_days integer) RETURNS integer
LANGUAGE sql AS $$
  WITH d AS (DELETE FROM glyphic.jobs WHERE state IN ('dead', 'canceled')
              AND finished_at < now() - make_interval(days => p_days) RETURNING 1),
  s AS (DELETE FROM glyphic.job_stats WHERE minute < now() - interval '7 days' RETURNING 1)
  SELECT count(*)::integer FROM d
$$;

-- Counts by queue and state, the oldest due job's wait, and completions in
-- the last minute — of the orgs the caller administers, or of everything for
-- the trusted roles (the operator's CLI, the executor).
CREATE FUNCTION glyphic.queue_stats() RETURNS json
LANGUAGE sql STABLE AS $$
  SELECT json_build_object(
    'queues', coalesce((SELECT json_agg(q ORDER BY q.queue) FROM (
        SELECT j.queue,
               count(*) FILTER (WHERE j.state = 'queued') AS queued,
               count(*) FILTER (WHERE j.state = 'running') AS running,
               count(*) FILTER (WHERE j.state = 'failed') AS failed,
               count(*) FILTER (WHERE j.state = 'dead') AS dead,
               count(*) FILTER (WHERE j.state = 'canceled') AS canceled,
               round(extract(epoch FROM now() - min(j.run_at) FILTER (WHERE j.state IN ('queued', 'failed')
                                                                    AND j.run_at <= now())))::bigint
                 AS oldest_due_seconds
          FROM glyphic.jobs j GROUP BY j.queue) q), '[]'),
    'last_minute', (SELECT json_build_object('succeeded', coalesce(sum(s.succeeded), 0),
                                             'failed', coalesce(sum(s.failed), 0))
                      FROM glyphic.job_stats s WHERE s.minute >= date_trunc('minute', now() - interval '1 minute')),
    'at', now())
$$;

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA glyphic FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA glyphic TO glyphic_app, glyphic_executor;
-- the worker-side functions are the executor's
REVOKE EXECUTE ON FUNCTION glyphic.claim_jobs, glyphic.complete_jobs, glyphic.fail_jobs, glyphic.release_jobs,
  glyphic.heartbeat_jobs, glyphic.rescue_jobs, glyphic.prune_jobs, glyphic.queue_wait FROM glyphic_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON glyphic.queue_waiters TO glyphic_executor;
