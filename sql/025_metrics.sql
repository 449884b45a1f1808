-- 025_metrics: what GET /metrics reads from the database, and where the
-- executor's counters live.
--
-- glyphic-fcgi's own counters are in its memory (fcgi/metrics.c). What only
-- the database knows, and the counters of glyphic-executor — whose workers
-- come and go, and which runs from cron as often as not — are here:
--
--   glyphic.metric_counters   one row per series of the executor's
--       counters (claims, jobs, executions finished, step-duration
--       histogram buckets, lease rescues, database errors and reconnects).
--       Executor processes count in memory and add their deltas every few
--       seconds and when they exit (metrics_add), so a counter only grows,
--       across executor restarts and cron runs. Only aggregates: a name
--       from a fixed list and labels of fixed sets (status, trigger, node
--       type, bucket) — never an org, a workflow or a name.
--   glyphic.executor_workers  one row per executor worker process, busy or
--       idle, with when it said so; a worker that stopped saying (killed,
--       host gone) is left out after 2 minutes and removed after 10.
--
-- Functions (SECURITY DEFINER; REVOKEd from PUBLIC):
--
--   glyphic.metrics_add(p_deltas jsonb, p_owner text, p_busy boolean) RETURNS void
--       glyphic_executor only. p_deltas: [{"n": name, "l": labels, "v": delta}],
--       each added to its row (INSERT ... ON CONFLICT DO UPDATE SET
--       value = value + delta); a name outside the list, malformed labels
--       or a negative delta raise 23514 and add nothing. p_owner (the
--       worker's lease owner name), when given, records the worker as busy
--       or idle now; p_busy NULL removes it (the worker exits).
--   glyphic.metrics(p_fcgi_db_errors bigint, p_fcgi_db_reconnects bigint) RETURNS text
--       glyphic_app only (GET /metrics). The database's series in the
--       Prometheus text format, HELP and TYPE lines included; the
--       database families glyphic-fcgi shares with the executor
--       (glyphic_db_errors_total, glyphic_db_reconnects_total) get its
--       counts from the arguments, so each family comes out in one piece.
--       Counts of jobs and executions, ages: never an id, a name or data.
SET LOCAL ROLE glyphic_owner;

-- the families the executor may add to, with their help text; the
-- step-duration histogram's rows are its _bucket, _sum and _count samples
CREATE TABLE glyphic.metric_families (
  name text PRIMARY KEY,
  type text NOT NULL CHECK (type IN ('counter', 'histogram')),
  help text NOT NULL,
  ord  integer NOT NULL
);
INSERT INTO glyphic.metric_families (name, type, help, ord) VALUES
  ('glyphic_executor_jobs_claimed_total', 'counter', 'Jobs the executor claimed from the queue.', 1),
  ('glyphic_executor_jobs_total', 'counter', 'Jobs the executor ran, by result (succeeded, failed).', 2),
  ('glyphic_executor_executions_finished_total', 'counter',
   'Workflow executions the executor ended, by status and trigger.', 3),
  ('glyphic_executor_step_duration_seconds', 'histogram',
   'Time one node attempt took in the executor, by node type.', 4),
  ('glyphic_executor_lease_rescues_total', 'counter',
   'Jobs of stopped or silent executor workers put back in the queue by the maintainer.', 5),
  ('glyphic_db_errors_total', 'counter',
   'Database statements that failed and connection attempts that did not connect, by program.', 6),
  ('glyphic_db_reconnects_total', 'counter', 'Database connections made again after one was lost, by program.', 7);

CREATE TABLE glyphic.metric_counters (
  name   text NOT NULL,
  labels text NOT NULL DEFAULT ''
         CHECK (labels ~ '^([a-z_]+="[A-Za-z0-9_.+:-]{0,64}"(,[a-z_]+="[A-Za-z0-9_.+:-]{0,64}"){0,3})?$'),
  value  double precision NOT NULL DEFAULT 0 CHECK (value >= 0),
  PRIMARY KEY (name, labels),
  CHECK (name IN ('glyphic_executor_jobs_claimed_total', 'glyphic_executor_jobs_total',
                  'glyphic_executor_executions_finished_total', 'glyphic_executor_step_duration_seconds_bucket',
                  'glyphic_executor_step_duration_seconds_sum', 'glyphic_executor_step_duration_seconds_count',
                  'glyphic_executor_lease_rescues_total', 'glyphic_db_errors_total', 'glyphic_db_reconnects_total'))
);

-- rewritten every few seconds by every worker: not worth the WAL
CREATE UNLOGGED TABLE glyphic.executor_workers (
  owner      text PRIMARY KEY CHECK (length(owner) BETWEEN 1 AND 64),
  busy       boolean NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- only through the functions below
REVOKE ALL ON glyphic.metric_families, glyphic.metric_counters, glyphic.executor_workers
  FROM glyphic_app, glyphic_executor;

CREATE FUNCTION glyphic.metrics_add(p_deltas jsonb, p_owner text, p_busy boolean) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = glyphic, pg_temp AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM jsonb_array_elements(coalesce(p_deltas, '[]')) d
              WHERE jsonb_typeof(d->'v') IS DISTINCT FROM 'number' OR (d->>'v')::float8 < 0) THEN
    RAISE EXCEPTION 'a metric delta must be a number >= 0' USING ERRCODE = '23514';
  END IF;
  -- one row per series, in key order: concurrent workers lock rows in the
  -- same order and never deadlock
  INSERT INTO glyphic.metric_counters AS c (name, labels, value)
  SELECT d->>'n', coalesce(d->>'l', ''), sum((d->>'v')::float8)
    FROM jsonb_array_elements(coalesce(p_deltas, '[]')) d
   GROUP BY 1, 2
   ORDER BY 1, 2
  ON CONFLICT (name, labels) DO UPDATE SET value = c.value + excluded.value;
  IF p_owner IS NULL THEN
    RETURN;
  END IF;
  IF p_busy IS NULL THEN
    DELETE FROM glyphic.executor_workers WHERE owner = p_owner;
  ELSE
    INSERT INTO glyphic.executor_workers AS w (owner, busy, updated_at) VALUES (p_owner, p_busy, now())
    ON CONFLICT (owner) DO UPDATE SET busy = excluded.busy, updated_at = excluded.updated_at;
  END IF;
  DELETE FROM glyphic.executor_workers WHERE updated_at < now() - interval '10 minutes';
END
$$;

-- A label value as the text format wants it: backslash, quote and newline
-- escaped.
CREATE FUNCTION glyphic.metrics_label(p text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT replace(replace(replace(p, E'\\', E'\\\\'), '"', E'\\"'), E'\n', E'\\n')
$$;

-- The samples of the executor's counters: (family, sort key, line).
-- Histogram buckets sort by their bound within each label set, then _sum
-- and _count.
CREATE FUNCTION glyphic.metrics_counter_samples(p_fcgi_db_errors bigint, p_fcgi_db_reconnects bigint)
RETURNS TABLE (family text, k text, line text)
LANGUAGE sql STABLE AS $$
  WITH c AS (
    SELECT m.name, m.labels, m.value FROM glyphic.metric_counters m
    UNION ALL VALUES ('glyphic_db_errors_total', 'program="glyphic-fcgi"', p_fcgi_db_errors::float8),
                     ('glyphic_db_reconnects_total', 'program="glyphic-fcgi"', p_fcgi_db_reconnects::float8)
    UNION ALL SELECT f.name, '', 0 FROM glyphic.metric_families f
     WHERE f.type = 'counter' AND f.name IN ('glyphic_executor_jobs_claimed_total',
                                             'glyphic_executor_lease_rescues_total')
       AND NOT EXISTS (SELECT 1 FROM glyphic.metric_counters m WHERE m.name = f.name)
  )
  SELECT regexp_replace(c.name, '_(bucket|sum|count)$', ''),
         regexp_replace(c.labels, ',?le="[^"]*"', '')
           || CASE WHEN c.name LIKE '%\_bucket' THEN '|0|' || to_char(CASE WHEN c.labels LIKE '%le="+Inf"%' THEN 1e9
                   ELSE substring(c.labels FROM 'le="([0-9.]+)"')::numeric END, 'FM0000000000.000000')
                   WHEN c.name LIKE '%\_sum' THEN '|1' WHEN c.name LIKE '%\_count' THEN '|2' ELSE '' END,
         c.name || CASE WHEN c.labels = '' THEN '' ELSE '{' || c.labels || '}' END || ' ' || c.value::text
    FROM c
$$;

-- The database's own state now: queues, executions, executor workers.
CREATE FUNCTION glyphic.metrics_state_samples()
RETURNS TABLE (family text, type text, help text, ord integer, k text, line text)
LANGUAGE sql STABLE AS $$
  WITH g AS (SELECT j.queue, j.state, count(*) AS n FROM glyphic.jobs j GROUP BY j.queue, j.state),
  -- the default queue and every queue an executor waits on are there
  -- even when empty, so their series do not come and go
  q AS (SELECT g.queue FROM g UNION SELECT w.queue FROM glyphic.queue_waiters w UNION SELECT 'default'),
  states(state) AS (VALUES ('queued'), ('running'), ('failed'), ('dead'), ('canceled')),
  jobs AS (
    SELECT q.queue, s.state, coalesce(g.n, 0) AS n
      FROM q CROSS JOIN states s LEFT JOIN g ON g.queue = q.queue AND g.state = s.state),
  due AS (
    SELECT j.queue, count(*) AS n, extract(epoch FROM now() - min(j.run_at)) AS age
      FROM glyphic.jobs j WHERE j.state IN ('queued', 'failed') AND j.run_at <= now() GROUP BY j.queue),
  ex AS (SELECT e.status, e.trigger, count(*) AS n FROM glyphic.executions e GROUP BY e.status, e.trigger),
  w AS (SELECT b.busy, (SELECT count(*) FROM glyphic.executor_workers x
                         WHERE x.busy = b.busy AND x.updated_at > now() - interval '2 minutes') AS n
          FROM (VALUES (true), (false)) b(busy))
  SELECT 'glyphic_queue_jobs', 'gauge', 'Jobs in the queue, by queue and state (succeeded jobs are deleted).', 10,
         jobs.queue || '|' || jobs.state,
         format('glyphic_queue_jobs{queue="%s",state="%s"} %s', glyphic.metrics_label(jobs.queue), jobs.state, jobs.n)
    FROM jobs
  UNION ALL
  SELECT 'glyphic_queue_due_jobs', 'gauge', 'Jobs due now and not yet claimed (queued, or failed and due for a retry), by queue.', 11,
         q.queue, format('glyphic_queue_due_jobs{queue="%s"} %s', glyphic.metrics_label(q.queue), coalesce(due.n, 0))
    FROM q LEFT JOIN due ON due.queue = q.queue
  UNION ALL
  SELECT 'glyphic_queue_oldest_due_job_age_seconds', 'gauge',
         'How long the oldest due, unclaimed job has waited, by queue (0: none waits).', 12,
         q.queue, format('glyphic_queue_oldest_due_job_age_seconds{queue="%s"} %s', glyphic.metrics_label(q.queue),
                         round(coalesce(due.age, 0)::numeric, 3))
    FROM q LEFT JOIN due ON due.queue = q.queue
  UNION ALL
  SELECT 'glyphic_executions', 'gauge',
         'Stored workflow executions (finished ones until they are pruned), by status and trigger.', 13,
         ex.status || '|' || ex.trigger,
         format('glyphic_executions{status="%s",trigger="%s"} %s', ex.status, ex.trigger, ex.n)
    FROM ex
  UNION ALL
  SELECT 'glyphic_executor_workers', 'gauge',
         'Executor worker processes that reported in the last 2 minutes, by state (busy, idle).', 14,
         w.busy::text, format('glyphic_executor_workers{state="%s"} %s', CASE WHEN w.busy THEN 'busy' ELSE 'idle' END, w.n)
    FROM w
$$;

CREATE FUNCTION glyphic.metrics(p_fcgi_db_errors bigint, p_fcgi_db_reconnects bigint) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = glyphic, pg_temp SET jit = off AS $$
  WITH s AS (
    SELECT f.name AS family, f.type, f.help, f.ord, c.k, c.line
      FROM glyphic.metrics_counter_samples(p_fcgi_db_errors, p_fcgi_db_reconnects) c
      JOIN glyphic.metric_families f ON f.name = c.family
    UNION ALL
    SELECT * FROM glyphic.metrics_state_samples()
  ),
  blocks AS (
    SELECT s.ord, '# HELP ' || s.family || ' ' || s.help || E'\n# TYPE ' || s.family || ' ' || s.type || E'\n'
                  || string_agg(s.line || E'\n', '' ORDER BY s.k COLLATE "C") AS block
      FROM s GROUP BY s.ord, s.family, s.type, s.help
  )
  SELECT coalesce(string_agg(b.block, '' ORDER BY b.ord), '') FROM blocks b
$$;

REVOKE EXECUTE ON FUNCTION glyphic.metrics_add(jsonb, text, boolean), glyphic.metrics_label(text),
  glyphic.metrics_counter_samples(bigint, bigint), glyphic.metrics_state_samples(), glyphic.metrics(bigint, bigint)
  FROM PUBLIC, glyphic_app, glyphic_executor;
GRANT EXECUTE ON FUNCTION glyphic.metrics_add(jsonb, text, boolean) TO glyphic_executor;
GRANT EXECUTE ON FUNCTION glyphic.metrics(bigint, bigint) TO glyphic_app;
