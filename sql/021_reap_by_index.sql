-- 021_reap_by_index: exec_reap reads jobs by index as the executor.
--
-- With 1M executions the abandoned-execution sweep took 37 s a pass: its
-- "has this execution a live job" check scanned all of glyphic.jobs once
-- per unfinished execution. jobs forces row level security, and PostgreSQL
-- puts a condition ahead of the policies (into an index scan) only when it
-- is leakproof; payload->>'execution_id' calls jsonb_object_field_text,
-- which is not, so the expression index jobs_execution (005) was used by
-- the superuser only. A stored generated column holds the same text, and
-- comparing it (texteq, leakproof) can use an index under the policies:
-- the sweep took 154 ms on the same data. It also runs without JIT, whose
-- compilation cost 0.3-0.5 s a pass for a statement that runs every 5 s.
SET LOCAL ROLE glyphic_owner;

ALTER TABLE glyphic.jobs
  ADD COLUMN execution_id text GENERATED ALWAYS AS (payload->>'execution_id') STORED;
DROP INDEX glyphic.jobs_execution;
CREATE INDEX jobs_execution ON glyphic.jobs (execution_id) WHERE kind = 'workflow.run';

CREATE OR REPLACE FUNCTION glyphic.exec_reap() RETURNS integer
LANGUAGE plpgsql SET jit = off AS $$
DECLARE
  n integer;
BEGIN
  WITH r AS (
    UPDATE glyphic.executions e
       SET status = 'failed', finished_at = now(),
           error = jsonb_build_object('message', CASE WHEN e.trigger = 'subworkflow'
                     THEN 'the parent execution ended before this subworkflow finished'
                     ELSE 'the executor gave up on this execution (its job failed too often)' END)
     WHERE e.finished_at IS NULL AND e.status IN ('queued', 'running')
       AND CASE WHEN e.trigger = 'subworkflow'
                THEN NOT EXISTS (SELECT 1 FROM glyphic.executions p WHERE p.id = e.parent_id
                                    AND p.status IN ('queued', 'running', 'waiting'))
                     AND e.created_at < now() - interval '1 minute'
                ELSE NOT EXISTS (SELECT 1 FROM glyphic.jobs j WHERE j.kind = 'workflow.run'
                                    AND j.execution_id = e.id::text
                                    AND j.state IN ('queued', 'running', 'failed')) END
    RETURNING 1)
  SELECT count(*)::integer INTO n FROM r;
  RETURN n;
END
$$;
