-- 042: the two reads of a waiting webhook call keep their plans.
--
-- glyphic-events reads a waiting call's outcome (hook_result) and the file
-- it answered with (hook_answer_file) when the call starts to wait and when
-- the execution's end is announced. Both were SQL functions with a SET
-- clause and SECURITY DEFINER, which PostgreSQL never inlines and parses,
-- rewrites (row level security included) and plans again on every call:
-- under queued sync webhook load (16 callers) that was 20% of
-- PostgreSQL's samples (perf: fmgr_sql under fmgr_security_definer), and
-- PostgreSQL used 142% of a CPU for 178 calls a second. As plpgsql
-- functions they keep their plans for the session. Same signatures,
-- results, owner, grants and search_path; the queries are 007's and 023's.
SET LOCAL ROLE glyphic_owner;

CREATE OR REPLACE FUNCTION glyphic.hook_result(p_id uuid, p_secret bytea)
RETURNS TABLE (org_id uuid, status text, output jsonb, response jsonb, error jsonb)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = glyphic, pg_temp AS $$
BEGIN
  RETURN QUERY
  SELECT e.org_id, e.status, e.output, e.response, e.error FROM glyphic.executions e
   WHERE e.id = p_id AND e.trigger = 'webhook' AND e.hook_wait IS NOT NULL
     AND e.hook_wait = sha256(p_secret);
END
$$;

CREATE OR REPLACE FUNCTION glyphic.hook_answer_file(p_id uuid, p_secret bytea)
RETURNS TABLE (org_id uuid, sha256 text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = glyphic, pg_temp AS $$
BEGIN
  RETURN QUERY
  SELECT f.org_id, encode(f.sha256, 'hex')
    FROM glyphic.executions e
    JOIN glyphic.files f ON f.org_id = e.org_id
   WHERE e.id = p_id AND e.trigger = 'webhook' AND e.status = 'succeeded'
     -- (a CASE: the cast only of what is a UUID, whatever order the planner picks)
     AND f.id = CASE WHEN (e.response #>> '{file,id}') ~ '^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$'
                     THEN (e.response #>> '{file,id}')::uuid END
     AND encode(f.sha256, 'hex') = e.response #>> '{file,sha256}'
     AND CASE WHEN p_secret IS NULL THEN e.hook_wait IS NULL AND e.finished_at > now() - interval '1 minute'
              ELSE e.hook_wait = sha256(p_secret) END;
END
$$;
