-- 011_fail_closed: trust that membership cannot borrow, live-progress
-- watches that expire, and maintenance that reads indexes instead of every
-- execution.
--
-- Trust. Some checks ran only for the app role, named exactly:
--   wf_sync_triggers, enqueue, enqueue_bulk   IF session_user = 'glyphic_app' AND <not allowed>
--   wf_track_activation, exec_fill_starter   IF current_user = 'glyphic_app' THEN <force the user>
-- so any other caller was trusted — among them a login role that is merely
-- a member of glyphic_app (an operator's glyphic_app_blue for password
-- rotation, say), which has all of the app role's privileges and none of
-- its checks. The rule is turned around: only glyphic_owner and
-- glyphic_executor themselves (and superusers, whom nothing binds anyway)
-- are trusted; everyone else, members of those roles included, is checked
-- like the app role. Membership lends privileges, never trust. (A member of
-- glyphic_executor that does not SET ROLE gets no rls_trusted() either —
-- that compares current_user by name — so it sees no rows and may enqueue
-- for no org: refused, not trusted.)
--
-- The checks are rewritten in place (pg_get_functiondef, the comparison
-- replaced, CREATE OR REPLACE as the owner) rather than copied here, so
-- whatever body an earlier migration gave these functions is kept; the
-- block fails if a comparison of a role name it does not know remains.
--
-- Live progress. executions.watchers counted streams up (+1) and down
-- (-1), and a stream that ended abnormally — glyphic-events killed, the
-- database away when the -1 was sent, the session signed out before it (the
-- -1 runs under the stream's own authentication) — left it raised for
-- good: the executor then announced every step of that execution to
-- nobody, and its direct (in-process) path was refused. A count is now a
-- lease: +1 and each renewal (glyphic-events renews every stream at its
-- keepalive) push watch_until ahead; the maintainer sets the count of an
-- execution whose lease ran out back to 0 (exec_watch_expire). A count
-- stays raised at most one lease past the last live stream.
--
-- Maintenance. exec_reap filtered executions by status and exec_prune
-- numbered every finished execution (a window function over all of them)
-- every executor.maintenance_interval seconds: both read the whole table.
-- exec_reap now reads a partial index of the unfinished; exec_prune finds,
-- per workflow, the p_keep-th newest finished execution in an index and
-- deletes what is older, and it looks only at workflows with an execution
-- finished in the last p_window_s seconds (the maintainer passes the time
-- since its last successful pass; NULL: every workflow).
SET LOCAL ROLE glyphic_owner;

---------------------------------------------------------------------------
-- Trust
---------------------------------------------------------------------------

-- Is p_role trusted to act for any org and any user? Only the owner and
-- executor roles by name, and superusers. Callers pass session_user in a
-- SECURITY DEFINER function (where current_user is the owner) and
-- current_user elsewhere.
CREATE FUNCTION glyphic.role_trusted(p_role name) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT p_role IN ('glyphic_owner', 'glyphic_executor')
      OR EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = p_role AND r.rolsuper)
$$;
REVOKE EXECUTE ON FUNCTION glyphic.role_trusted(name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION glyphic.role_trusted(name) TO glyphic_app, glyphic_executor;

DO $$
DECLARE
  f regprocedure;
  def text;
  pat constant text := '(session_user|current_user)\s*=\s*''glyphic_app''';
BEGIN
  FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
            WHERE p.pronamespace = 'glyphic'::regnamespace AND p.prosrc ~ pat LOOP
    def := regexp_replace(pg_get_functiondef(f), pat, 'NOT glyphic.role_trusted(\1)', 'g');
    EXECUTE def;
    RAISE NOTICE 'checks every caller but the trusted roles: %', f;
  END LOOP;
  -- nothing may compare the caller with one of our role names by itself
  IF EXISTS (SELECT 1 FROM pg_proc p WHERE p.pronamespace = 'glyphic'::regnamespace
                AND p.prosrc ~ '(session_user|current_user)\s*(=|<>|!=)\s*''glyphic_') THEN
    RAISE EXCEPTION 'a function still compares session_user or current_user with a role name';
  END IF;
END
$$;

---------------------------------------------------------------------------
-- Live-progress watches expire
---------------------------------------------------------------------------

ALTER TABLE glyphic.executions ADD COLUMN watch_until timestamptz;
-- the expiry sweep's index: only executions someone counts as watched
CREATE INDEX executions_watched ON glyphic.executions (watch_until) WHERE watchers > 0;
-- counts raised before this migration get one lease: a live stream renews
-- it, a leaked one runs out
UPDATE glyphic.executions SET watch_until = now() + interval '60 seconds' WHERE watchers > 0;

DROP FUNCTION glyphic.exec_watch(uuid, integer);

-- A live-progress stream starts (+1), renews (0) or ends (-1) watching an
-- execution the request may read: while the count is above 0 the executor
-- announces each step. +1 and 0 extend the lease by p_ttl_s seconds (5 to
-- 3600); a renewal also raises a count the sweep had already expired back
-- to 1. Returns the execution's status, or NULL when it is not visible.
CREATE FUNCTION glyphic.exec_watch(p_id uuid, p_delta integer, p_ttl_s integer DEFAULT 60) RETURNS text
LANGUAGE sql SECURITY DEFINER SET search_path = glyphic, pg_temp AS $$
  UPDATE glyphic.executions
     SET watchers = CASE WHEN p_delta = 0 THEN greatest(watchers, 1)
                         ELSE greatest(0, watchers + sign(p_delta)::integer) END,
         watch_until = CASE WHEN p_delta < 0 THEN watch_until
                            ELSE greatest(watch_until, now() + make_interval(secs => least(greatest(p_ttl_s, 5), 3600)))
                       END
   WHERE id = p_id AND glyphic.exec_visible(p_id)
  RETURNING status
$$;
REVOKE EXECUTE ON FUNCTION glyphic.exec_watch(uuid, integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION glyphic.exec_watch(uuid, integer, integer) TO glyphic_app;

-- The maintainer's sweep: counts whose lease ran out (or that have none:
-- the app role may write watchers directly) go back to 0. Returns how many.
CREATE FUNCTION glyphic.exec_watch_expire() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  n integer;
BEGIN
  UPDATE glyphic.executions SET watchers = 0, watch_until = NULL
   WHERE watchers > 0 AND (watch_until < now() OR watch_until IS NULL);
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END
$$;

---------------------------------------------------------------------------
-- Maintenance through indexes
---------------------------------------------------------------------------

-- exec_reap's WHERE status IN ('queued', 'running') matches this predicate,
-- so it reads only the unfinished executions
CREATE INDEX executions_unfinished ON glyphic.executions (created_at) WHERE status IN ('queued', 'running');
-- the newest finished executions of a workflow, in exec_prune's order;
-- org_id is included because the row level security filter (FORCEd: it
-- applies to the executor's queries too) reads it: with it the scan is
-- index-only
CREATE INDEX executions_workflow_finished ON glyphic.executions (workflow_id, created_at DESC, id DESC)
  INCLUDE (org_id) WHERE finished_at IS NOT NULL;

DROP FUNCTION glyphic.exec_prune(integer, integer);

-- Retention: finished executions older than p_days, and those beyond the
-- newest p_keep of each workflow — of the workflows that had an execution
-- finish in the last p_window_s seconds (NULL: of every workflow; only
-- those can have gone over p_keep since a pass that covered them). Returns
-- how many were deleted.
-- (jit off: the per-workflow OFFSET makes the planner's estimates large
-- enough to compile the DELETE, which took 1-3 s of a pass that reads a few
-- thousand index entries.)
CREATE FUNCTION glyphic.exec_prune(p_days integer, p_keep integer, p_window_s integer DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql SET jit = off AS $$
DECLARE
  n integer := 0;
  m integer := 0;
  wfs uuid[];
BEGIN
  IF p_days > 0 THEN
    DELETE FROM glyphic.executions
     WHERE finished_at < now() - make_interval(days => p_days);
    GET DIAGNOSTICS n = ROW_COUNT;
  END IF;
  IF p_keep > 0 THEN
    IF p_window_s IS NULL THEN
      SELECT array_agg(w.id) INTO wfs FROM glyphic.workflows w;
    ELSE
      SELECT array_agg(DISTINCT x.workflow_id) INTO wfs FROM glyphic.executions x
       WHERE x.finished_at >= now() - make_interval(secs => p_window_s);
    END IF;
    -- per workflow: the p_keep-th newest finished execution, then all
    -- finished ones older than it (both from executions_workflow_finished)
    DELETE FROM glyphic.executions e
     USING unnest(coalesce(wfs, '{}')) AS w(id)
     CROSS JOIN LATERAL (SELECT x.created_at, x.id FROM glyphic.executions x
                          WHERE x.workflow_id = w.id AND x.finished_at IS NOT NULL
                          ORDER BY x.created_at DESC, x.id DESC OFFSET p_keep - 1 LIMIT 1) k
     WHERE e.workflow_id = w.id AND e.finished_at IS NOT NULL
       AND (e.created_at, e.id) < (k.created_at, k.id);
    GET DIAGNOSTICS m = ROW_COUNT;
  END IF;
  RETURN n + m;
END
$$;

-- executor-only
REVOKE EXECUTE ON FUNCTION glyphic.exec_prune(integer, integer, integer), glyphic.exec_watch_expire()
  FROM PUBLIC, glyphic_app;
GRANT EXECUTE ON FUNCTION glyphic.exec_prune(integer, integer, integer), glyphic.exec_watch_expire()
  TO glyphic_executor;
