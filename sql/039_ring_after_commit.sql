-- 039: a webhook call rings the queue's doorbell after its commit, in a
-- transaction of its own, not in the transaction that queues the job.
--
-- A transaction that NOTIFYs holds PostgreSQL's one notification lock from
-- its pre-commit until its commit is flushed. enqueue (004, 008) rings
-- when a row of queue_waiters says an executor waits, and that row stays
-- valid for twice executor.poll_ms after an idle worker last refreshed it
-- (it is not removed when the worker wakes). So while executors ran, every
-- async webhook call NOTIFYed, and the calls' commits queued behind one
-- another for that lock, one WAL flush each, instead of sharing a flush:
-- with wrk on an async webhook, 248-285 calls a second with an executor
-- waiting against 1,199-1,431 without one (pg_stat_activity: the backends
-- waited on Lock:object in hook_enqueue).
--
-- Now glyphic-fcgi calls hook_enqueue with p_ring_later, which queues the
-- job without ringing, and pipelines `SELECT glyphic.queue_ring('default')`
-- after the call's Sync: the same round trip, a second implicit
-- transaction. Its NOTIFY takes a transaction id, but the transaction
-- writes nothing else, so its commit record is not flushed before it
-- returns (as with synchronous_commit off) and the lock is held for
-- microseconds. While an executor waits, a call so takes two transaction
-- ids instead of one.
--
-- Why no wake-up is lost: queue_ring reads queue_waiters after the job is
-- committed. An executor LISTENs before it announces itself, and claims
-- once more after its announcement (job_loop.c). One that announced itself
-- before that read is rung; one that announced itself after it claims with
-- a snapshot that sees the job.
--
-- A call that failed (a stale webhook, the org over its limit) rings too:
-- the ring is sent before the call's outcome is known. It wakes a waiting
-- executor for nothing, once per call, as a job that turned out not due
-- would.
SET LOCAL ROLE glyphic_owner;

-- Rings the doorbell of p_queue if an executor waits on it; true when it
-- rang. For a caller whose enqueue ran with glyphic.ring_later on, after
-- that enqueue's commit.
CREATE FUNCTION glyphic.queue_ring(p_queue text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM glyphic.queue_waiters w WHERE w.queue = p_queue AND w.until > now()) THEN
    PERFORM pg_notify('glyphic_jobs', p_queue);
    RETURN true;
  END IF;
  RETURN false;
END
$$;

-- 008's enqueue_trusted; with glyphic.ring_later on (set by the
-- transaction's caller, who rings after its commit) it does not ring.
CREATE OR REPLACE FUNCTION glyphic.enqueue_trusted(p_kind text, p_payload jsonb, p_org uuid, p_run_at timestamptz,
                                                   p_max_attempts integer) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  jid bigint;
BEGIN
  INSERT INTO glyphic.jobs (kind, payload, queue, org_id, priority, run_at, max_attempts)
  VALUES (p_kind, p_payload, 'default', p_org, 0, coalesce(p_run_at, now()), p_max_attempts)
  RETURNING id INTO jid;
  IF (p_run_at IS NULL OR p_run_at <= now())
     AND current_setting('glyphic.ring_later', true) IS DISTINCT FROM 'on'
     AND EXISTS (SELECT 1 FROM glyphic.queue_waiters w WHERE w.queue = 'default' AND w.until > now()) THEN
    PERFORM pg_notify('glyphic_jobs', 'default');
  END IF;
  RETURN jid;
END
$$;

-- 022's hook_enqueue, and p_ring_later: queue without ringing (the caller
-- calls queue_ring('default') after the commit).
DROP FUNCTION glyphic.hook_enqueue(text, integer, jsonb, uuid, bytea, jsonb, bigint);
CREATE FUNCTION glyphic.hook_enqueue(p_path text, p_version integer, p_item jsonb, p_id uuid, p_wait bytea,
                                     p_files jsonb DEFAULT NULL, p_max_bytes bigint DEFAULT 0,
                                     p_ring_later boolean DEFAULT false)
RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = glyphic, pg_temp AS $$
DECLARE
  h glyphic.webhooks;
  eid uuid;
BEGIN
  -- the active webhook at the path, if it still is the version the caller
  -- cached (else 40001: look it up again)
  SELECT x.* INTO h FROM glyphic.webhooks x
    JOIN glyphic.workflows w ON w.id = x.workflow_id AND w.active AND w.deleted_at IS NULL
   WHERE x.path = p_path AND x.version = p_version;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'the webhook changed; call it again' USING ERRCODE = '40001';
  END IF;
  IF p_wait IS NOT NULL AND length(p_wait) <> 32 THEN
    RAISE EXCEPTION 'a wait secret hash is 32 bytes' USING ERRCODE = '22023';
  END IF;
  IF NOT glyphic.org_webhook_admit(h.org_id) THEN
    RETURN NULL;
  END IF;
  -- (set either way: a value the caller's session set does not count)
  PERFORM set_config('glyphic.ring_later', CASE WHEN p_ring_later THEN 'on' ELSE 'off' END, true);
  eid := glyphic.exec_start(h.org_id, h.workflow_id, h.version, NULL, 'webhook', h.node_id,
                            jsonb_build_array(p_item), NULL, NULL, 'queued', p_id);
  PERFORM set_config('glyphic.ring_later', 'off', true);
  IF p_wait IS NOT NULL THEN
    UPDATE glyphic.executions SET hook_wait = p_wait WHERE id = eid;
  END IF;
  IF p_files IS NOT NULL THEN
    PERFORM glyphic.hook_files(h.org_id, eid, p_files, p_max_bytes);
  END IF;
  RETURN eid;
END
$$;
