-- 023_webhook_file_answers: a synchronous webhook may answer with a stored
-- file (flow.respond, respond_with binary).
--
-- The execution's response then holds {status, headers, file: {id, sha256,
-- size, file_name, mime_type, disposition}}, which a workflow wrote: it
-- proves nothing. Before the server that answers the call (glyphic-fcgi's
-- direct path, glyphic-events for a queued call) hands the file to nginx
-- (X-Accel-Redirect to the internal /_glyphic/files/<org>/<aa>/<sha256>),
-- it asks here for the row: a file of the execution's own org, with the id
-- AND the sha256 the response names. Only the file the execution answered
-- with is ever returned, so the function tells a caller nothing the call's
-- answer does not send anyway.
--
-- Who may ask: the waiting call's secret (its SHA-256 is the execution's
-- hook_wait, as for hook_result); or, for the direct path, which records
-- the execution and answers in the same request and has no secret, no
-- secret for an execution without hook_wait that finished within the last
-- minute.
SET LOCAL ROLE glyphic_owner;

CREATE FUNCTION glyphic.hook_answer_file(p_id uuid, p_secret bytea)
RETURNS TABLE (org_id uuid, sha256 text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = glyphic, pg_temp AS $$
  SELECT f.org_id, encode(f.sha256, 'hex')
    FROM glyphic.executions e
    JOIN glyphic.files f ON f.org_id = e.org_id
   WHERE e.id = p_id AND e.trigger = 'webhook' AND e.status = 'succeeded'
     -- (a CASE: the cast only of what is a UUID, whatever order the planner picks)
     AND f.id = CASE WHEN (e.response #>> '{file,id}') ~ '^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$'
                     THEN (e.response #>> '{file,id}')::uuid END
     AND encode(f.sha256, 'hex') = e.response #>> '{file,sha256}'
     AND CASE WHEN p_secret IS NULL THEN e.hook_wait IS NULL AND e.finished_at > now() - interval '1 minute'
              ELSE e.hook_wait = sha256(p_secret) END
$$;
