-- 041: an execution the executor ran alone announces its end after the
-- commit that records it, in a transaction of its own.
--
-- exec_finish (037) NOTIFYed gx_<id> in the transaction that recorded the
-- end when a synchronous webhook call or a live-progress stream listened.
-- A transaction that NOTIFYs holds PostgreSQL's one notification lock
-- until its commit is flushed, so those ends were recorded one WAL flush
-- after another, and the rings of webhook calls (039) waited behind them:
-- a sync webhook whose workflow the executor runs (one with a node that
-- is not quick) took 112-149 calls a second with 16 callers, p50 95-123
-- ms, pg_stat_activity showing Lock:object in exec_finish and queue_ring.
--
-- Now exec_finish does not NOTIFY, and glyphic-executor pipelines
-- exec_announce(id) after it (gl_db_query_then): it reads the execution
-- after the end is committed and NOTIFYs when somebody listens. Its
-- transaction writes nothing else, so its commit waits for no flush.
-- A listener misses nothing: glyphic-events and a stream LISTEN before
-- they read, and the announcement is made after the end is visible. An
-- executor killed between the two leaves the end unannounced:
-- glyphic-events reads a waiting call's outcome again every few seconds
-- (events/wait.c), and a stream's client reads the state when it
-- reconnects. exec_finish_many (the batched runs) announces in its own
-- transaction as before: one flush per batch, not per execution.
--
-- exec_finish is 037's with only the NOTIFY removed (replaced as
-- glyphic_owner, who made it in 006).
SET LOCAL ROLE glyphic_owner;

CREATE OR REPLACE FUNCTION glyphic.exec_finish(p_id uuid, p_status text, p_output jsonb, p_response jsonb, p_error jsonb,
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
  RETURN true;
END
$$;

-- Announces an execution's state on gx_<id> when a waiting webhook call
-- or a live-progress stream listens for it; true when it did.
CREATE FUNCTION glyphic.exec_announce(p_id uuid) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
  st text;
BEGIN
  SELECT e.status INTO st FROM glyphic.executions e
   WHERE e.id = p_id AND (e.watchers > 0 OR e.hook_wait IS NOT NULL);
  IF NOT FOUND THEN
    RETURN false;
  END IF;
  PERFORM pg_notify('gx_' || p_id::text, st);
  RETURN true;
END
$$;
REVOKE EXECUTE ON FUNCTION glyphic.exec_announce(uuid) FROM PUBLIC, glyphic_app;
GRANT EXECUTE ON FUNCTION glyphic.exec_announce(uuid) TO glyphic_executor;
