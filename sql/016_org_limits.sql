-- 016_org_limits: per-org limits — executions running at once, webhook
-- calls per minute, stored credentials — and claims that are fair between
-- orgs.
--
-- Functions for other parts of the schema (all SECURITY DEFINER, EXECUTE
-- granted to glyphic_app and glyphic_executor):
--
--   glyphic.org_limit(p_org uuid, p_name text) RETURNS integer
--       p_name 'max_running', 'webhooks_per_minute' or 'max_credentials':
--       the org's override, else the configured default; 0 means no limit.
--       Another name raises 22023. The app role may ask only about an org
--       of its request context (else 42501); trusted roles about any.
--   glyphic.org_limit_max_credentials(p_org uuid) RETURNS integer
--       org_limit(p_org, 'max_credentials'): the most credentials the org
--       may store, 0 for no limit. The credentials API checks a new
--       credential against it (count of the org's rows >= limit: refused).
--   glyphic.org_usage(p_org uuid) RETURNS json
--       the org's usage against its limits (GET /api/queue/stats "limits").
--
-- Defaults. The configuration (glyphic.conf: limits.org_max_running,
-- limits.org_webhooks_per_minute, limits.org_max_credentials; 0 = no
-- limit) lives in C, but the database enforces the limits, and the app
-- role must not be the one to say what they are. So the defaults are rows
-- of glyphic.settings (008) that `glyphic migrate` copies from the
-- configuration, like the auth.* ones; a changed glyphic.conf takes effect
-- at the next `glyphic migrate`.
--
-- Overrides. glyphic.org_limits holds a row per org the operator set
-- something for (`glyphic org limits ORG --max-running N …`, as
-- db.admin_url): a NULL column means the default. Members of the org read
-- it (row level security); only the owner role (and superusers) write it.
--
-- Running executions. A workflow run of an org is running while its job is
-- (claimed, until its outcome is recorded), so a worker's claimed but not
-- yet started jobs count too: "at most N at once" holds for what may start.
-- (Jobs with an org are executions' runs: glyphic-fcgi enqueues only
-- through exec_start.) Subworkflows run inside their parent's job and
-- count with it. The direct path of synchronous webhooks (a quick workflow
-- run inside a glyphic-fcgi worker) is not a job and does not count: it is
-- bounded by the workers and http.direct_budget_ms, and counted by the
-- per-minute webhook limit below.
--
-- Fair claims. claim_jobs (004, 006) took due jobs first in, first out
-- across the whole queue, so one org's burst of ten thousand jobs ran
-- before another org's one. Now a claim of up to p_limit jobs:
--   1. finds the orgs with jobs waiting in the queue (a skip scan of
--      jobs_claim_org: one index probe per such org) and keeps those with
--      one due;
--   2. for each org with a concurrency limit, takes the org's transaction
--      advisory lock without waiting: an org another claim is serving right
--      now is skipped (it is not claimed and released, just left queued);
--   3. in a new statement — whose snapshot sees the claims that held the
--      lock before — counts the org's running jobs, so no two claims give an
--      org more than its limit; an org at its limit is skipped the same way;
--   4. takes from each org (and from the jobs without an org) at most its
--      share of the batch, ceil(p_limit / groups with work), and orders the
--      batch round-robin: every org's first job, then every org's second,
--      by priority first. A burst of one org waits behind at most one share
--      of every other org's work, and another org's job runs at the next
--      claim of any worker.
-- When no org has jobs waiting (system jobs, the queue benchmark) the claim
-- is 004's first in, first out statement. Cost: one index probe per org
-- with waiting jobs and a sort of at most p_limit + orgs rows.
--
-- Webhook calls per minute. A calendar-minute window per org: hook_enqueue
-- and hook_record (the one statement a hot webhook call makes) first ask
-- org_webhook_admit, which returns false past the limit — the hook function
-- then returns NULL and writes nothing (glyphic-fcgi answers 429
-- rate_limited with Retry-After: the seconds left in the minute). With no
-- limit (the default) that is one lookup. With one, each glyphic-fcgi
-- connection counts its own calls in its own row of
-- org_webhook_counts (keyed by org and backend pid: no two connections
-- ever wait for each other's row), and the check sums the org's rows of
-- this minute. Calls in flight on other connections are not seen yet, so
-- a burst may pass the limit by at most the number of connections. The
-- table is unlogged (a crash forgets the minute's counts); prune_jobs
-- removes rows older than the last minute.
SET LOCAL ROLE glyphic_owner;

---------------------------------------------------------------------------
-- Limits: defaults and overrides
---------------------------------------------------------------------------

INSERT INTO glyphic.settings (key, value) VALUES
  ('limits.org_max_running', '0'),
  ('limits.org_webhooks_per_minute', '0'),
  ('limits.org_max_credentials', '1000')
ON CONFLICT (key) DO NOTHING;

CREATE TABLE glyphic.org_limits (
  org_id              uuid PRIMARY KEY REFERENCES glyphic.orgs ON DELETE CASCADE,
  max_running         integer CHECK (max_running BETWEEN 0 AND 100000),
  webhooks_per_minute integer CHECK (webhooks_per_minute BETWEEN 0 AND 100000000),
  max_credentials     integer CHECK (max_credentials BETWEEN 0 AND 1000000),
  updated_at          timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE glyphic.org_limits ENABLE ROW LEVEL SECURITY;
ALTER TABLE glyphic.org_limits FORCE ROW LEVEL SECURITY;
CREATE POLICY org_limits_trusted ON glyphic.org_limits USING ((SELECT glyphic.rls_trusted()));
CREATE POLICY org_limits_read ON glyphic.org_limits FOR SELECT
  USING (org_id = ANY ((SELECT glyphic.my_org_ids())::uuid[]));
-- the operator's (the owner role, or a superuser) alone to write
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON glyphic.org_limits FROM glyphic_app, glyphic_executor;
GRANT SELECT ON glyphic.org_limits TO glyphic_app, glyphic_executor;

-- The configured default of a limit (its glyphic.settings row), 0 when none.
CREATE FUNCTION glyphic.org_limit_default(p_name text) RETURNS integer
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = glyphic, pg_temp AS $$
  SELECT coalesce((SELECT s.value::integer FROM glyphic.settings s WHERE s.key = 'limits.org_' || p_name), 0)
$$;

-- See the top of this file.
CREATE FUNCTION glyphic.org_limit(p_org uuid, p_name text) RETURNS integer
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = glyphic, pg_temp AS $$
DECLARE
  v integer;
BEGIN
  IF p_name IS NULL OR p_name NOT IN ('max_running', 'webhooks_per_minute', 'max_credentials') THEN
    RAISE EXCEPTION 'unknown org limit %', coalesce(p_name, 'NULL') USING ERRCODE = '22023';
  END IF;
  IF NOT glyphic.role_trusted(session_user) AND NOT coalesce(p_org = ANY (glyphic.my_org_ids()), false) THEN
    RAISE EXCEPTION 'not a member of this org' USING ERRCODE = '42501';
  END IF;
  SELECT CASE p_name WHEN 'max_running' THEN l.max_running
                     WHEN 'webhooks_per_minute' THEN l.webhooks_per_minute
                     ELSE l.max_credentials END
    INTO v FROM glyphic.org_limits l WHERE l.org_id = p_org;
  RETURN coalesce(v, glyphic.org_limit_default(p_name));
END
$$;

CREATE FUNCTION glyphic.org_limit_max_credentials(p_org uuid) RETURNS integer
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = glyphic, pg_temp AS $$
  SELECT glyphic.org_limit(p_org, 'max_credentials')
$$;

---------------------------------------------------------------------------
-- Running executions: fair claims
---------------------------------------------------------------------------

-- Jobs without an org keep 004's claim index (with a narrower predicate);
-- jobs of orgs get one keyed by org, for the skip scan and the per-org
-- claim; running jobs of orgs are counted through their own small index.
-- Every job is in exactly one of the first two, so an enqueue writes as
-- many index entries as before.
DROP INDEX glyphic.jobs_claim;
CREATE INDEX jobs_claim ON glyphic.jobs (queue, priority, run_at, id)
  WHERE state IN ('queued', 'failed') AND org_id IS NULL;
CREATE INDEX jobs_claim_org ON glyphic.jobs (queue, org_id, priority, run_at, id)
  WHERE state IN ('queued', 'failed') AND org_id IS NOT NULL;
CREATE INDEX jobs_running_org ON glyphic.jobs (org_id) WHERE state = 'running' AND org_id IS NOT NULL;

-- Claims up to p_limit due jobs of the queue for p_owner, leased for
-- p_lease_seconds, fairly between orgs and within their limits (see the
-- top of this file), in the order they should run. queue.c calls it.
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
     AND EXISTS (SELECT 1 FROM glyphic.jobs d
                  WHERE d.queue = p_queue AND d.org_id = o.org AND d.state IN ('queued', 'failed')
                    AND d.run_at <= now());

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

---------------------------------------------------------------------------
-- Webhook calls per minute
---------------------------------------------------------------------------

CREATE UNLOGGED TABLE glyphic.org_webhook_counts (
  org_id  uuid NOT NULL,
  backend integer NOT NULL,          -- pg_backend_pid() of the counting connection
  minute  timestamptz NOT NULL,      -- the calendar minute counted
  calls   integer NOT NULL,
  PRIMARY KEY (org_id, backend)
);
ALTER TABLE glyphic.org_webhook_counts ENABLE ROW LEVEL SECURITY;
ALTER TABLE glyphic.org_webhook_counts FORCE ROW LEVEL SECURITY;
CREATE POLICY org_webhook_counts_trusted ON glyphic.org_webhook_counts USING ((SELECT glyphic.rls_trusted()));
-- written by the hook functions (as the owner); the executor's maintainer
-- prunes it (prune_jobs); members see their org's count through org_usage
REVOKE ALL ON glyphic.org_webhook_counts FROM glyphic_app;
REVOKE INSERT, UPDATE, TRUNCATE ON glyphic.org_webhook_counts FROM glyphic_executor;
GRANT SELECT, DELETE ON glyphic.org_webhook_counts TO glyphic_executor;

-- Counts one webhook call of p_org in this minute, or returns false (and
-- counts nothing) when the org has had its limit of calls in it. Runs
-- inside the hook functions (as the owner).
CREATE FUNCTION glyphic.org_webhook_admit(p_org uuid) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
  lim integer;
  this_minute timestamptz := date_trunc('minute', now());
BEGIN
  SELECT coalesce((SELECT l.webhooks_per_minute FROM glyphic.org_limits l WHERE l.org_id = p_org),
                  (SELECT s.value::integer FROM glyphic.settings s WHERE s.key = 'limits.org_webhooks_per_minute'),
                  0)
    INTO lim;
  IF lim = 0 THEN
    RETURN true;
  END IF;
  IF (SELECT coalesce(sum(c.calls), 0) FROM glyphic.org_webhook_counts c
       WHERE c.org_id = p_org AND c.minute = this_minute) >= lim THEN
    RETURN false;
  END IF;
  INSERT INTO glyphic.org_webhook_counts AS c (org_id, backend, minute, calls)
  VALUES (p_org, pg_backend_pid(), this_minute, 1)
  ON CONFLICT (org_id, backend) DO UPDATE
     SET calls = CASE WHEN c.minute = EXCLUDED.minute THEN c.calls + 1 ELSE 1 END, minute = EXCLUDED.minute;
  RETURN true;
END
$$;

-- 007's hook_enqueue: NULL, and nothing written, past the org's webhook
-- limit.
CREATE OR REPLACE FUNCTION glyphic.hook_enqueue(p_path text, p_version integer, p_item jsonb, p_id uuid,
                                                p_wait bytea)
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
  eid := glyphic.exec_start(h.org_id, h.workflow_id, h.version, NULL, 'webhook', h.node_id,
                            jsonb_build_array(p_item), NULL, NULL, 'queued', p_id);
  IF p_wait IS NOT NULL THEN
    UPDATE glyphic.executions SET hook_wait = p_wait WHERE id = eid;
  END IF;
  RETURN eid;
END
$$;

-- 007's hook_record: NULL, and nothing written, past the org's webhook
-- limit (the workflow ran in the web server, but only computed: a direct
-- workflow has no node that reaches anything outside).
CREATE OR REPLACE FUNCTION glyphic.hook_record(p_path text, p_version integer, p_item jsonb, p_status text,
                                               p_steps jsonb, p_output jsonb, p_response jsonb, p_error jsonb,
                                               p_started_ms bigint, p_id uuid)
RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = glyphic, pg_temp AS $$
DECLARE
  h glyphic.webhooks;
  eid uuid;
BEGIN
  SELECT x.* INTO h FROM glyphic.webhooks x
    JOIN glyphic.workflows w ON w.id = x.workflow_id AND w.active AND w.deleted_at IS NULL
   WHERE x.path = p_path AND x.version = p_version;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'the webhook changed; call it again' USING ERRCODE = '40001';
  END IF;
  IF NOT glyphic.org_webhook_admit(h.org_id) THEN
    RETURN NULL;
  END IF;
  INSERT INTO glyphic.executions (id, org_id, workflow_id, version, status, trigger, trigger_node, input, output,
                                  response, error, started_at, finished_at)
  VALUES (p_id, h.org_id, h.workflow_id, h.version, p_status, 'webhook', h.node_id, jsonb_build_array(p_item),
          p_output, p_response, p_error, to_timestamp(p_started_ms / 1000.0), now())
  RETURNING id INTO eid;
  PERFORM glyphic.exec_insert_steps(eid, h.org_id, p_steps);
  IF p_status = 'failed' THEN
    PERFORM glyphic.exec_error_workflow(eid);
  END IF;
  RETURN eid;
END
$$;

-- 004's prune_jobs, and webhook counts older than the last minute.
CREATE OR REPLACE FUNCTION glyphic.prune_jobs(p_days integer) RETURNS integer
LANGUAGE sql AS $$
  WITH d AS (DELETE FROM glyphic.jobs WHERE state IN ('dead', 'canceled')
              AND finished_at < now() - make_interval(days => p_days) RETURNING 1),
  s AS (DELETE FROM glyphic.job_stats WHERE minute < now() - interval '7 days' RETURNING 1),
  w AS (DELETE FROM glyphic.org_webhook_counts WHERE minute < date_trunc('minute', now()) - interval '1 minute'
        RETURNING 1)
  SELECT count(*)::integer FROM d
$$;

---------------------------------------------------------------------------
-- Usage against the limits
---------------------------------------------------------------------------

-- See the top of this file: {org_id, running, max_running, queued,
-- webhooks_this_minute, webhooks_per_minute, minute_resets_in,
-- max_credentials}; a limit of 0 (none) is null. For a member of the org
-- (else 42501) or a trusted role.
CREATE FUNCTION glyphic.org_usage(p_org uuid) RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = glyphic, pg_temp AS $$
BEGIN
  IF NOT glyphic.role_trusted(session_user) AND NOT coalesce(p_org = ANY (glyphic.my_org_ids()), false) THEN
    RAISE EXCEPTION 'not a member of this org' USING ERRCODE = '42501';
  END IF;
  RETURN json_build_object(
    'org_id', p_org,
    'running', (SELECT count(*) FROM glyphic.jobs r WHERE r.org_id = p_org AND r.state = 'running'
                   AND r.org_id IS NOT NULL),
    'max_running', nullif(glyphic.org_limit(p_org, 'max_running'), 0),
    'queued', (SELECT count(*) FROM glyphic.jobs q WHERE q.org_id = p_org AND q.org_id IS NOT NULL
                  AND q.state IN ('queued', 'failed') AND q.run_at <= now()),
    'webhooks_this_minute', (SELECT coalesce(sum(c.calls), 0) FROM glyphic.org_webhook_counts c
                              WHERE c.org_id = p_org AND c.minute = date_trunc('minute', now())),
    'webhooks_per_minute', nullif(glyphic.org_limit(p_org, 'webhooks_per_minute'), 0),
    'minute_resets_in', ceil(extract(epoch FROM date_trunc('minute', now()) + interval '1 minute' - now()))::integer,
    'max_credentials', nullif(glyphic.org_limit(p_org, 'max_credentials'), 0));
END
$$;

-- 004's queue_stats, with the request org's usage against its limits
-- ("limits": null without a request org, as for the operator's CLI).
CREATE OR REPLACE FUNCTION glyphic.queue_stats() RETURNS json
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
    'limits', (SELECT glyphic.org_usage(o) FROM glyphic.current_org_id() o WHERE o IS NOT NULL),
    'at', now())
$$;

---------------------------------------------------------------------------
-- Privileges
---------------------------------------------------------------------------

REVOKE EXECUTE ON FUNCTION glyphic.org_limit_default(text), glyphic.org_limit(uuid, text),
  glyphic.org_limit_max_credentials(uuid), glyphic.org_webhook_admit(uuid), glyphic.org_usage(uuid)
  FROM PUBLIC;
-- the claim's default; the hook functions' check (they run as the owner)
REVOKE EXECUTE ON FUNCTION glyphic.org_limit_default(text) FROM glyphic_app;
GRANT EXECUTE ON FUNCTION glyphic.org_limit_default(text) TO glyphic_executor;
REVOKE EXECUTE ON FUNCTION glyphic.org_webhook_admit(uuid) FROM glyphic_app, glyphic_executor;
GRANT EXECUTE ON FUNCTION glyphic.org_limit(uuid, text), glyphic.org_limit_max_credentials(uuid),
  glyphic.org_usage(uuid) TO glyphic_app, glyphic_executor;
