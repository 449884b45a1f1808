-- 011_fail_closed: trust that membership cannot borrow.
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
