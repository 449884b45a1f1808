-- 026_fast_saves: what a workflow save costs the database.
--
-- A save (PUT /api/workflows/:id) appends a version, and the version's
-- insert policy (003's workflow_versions_append) calls wf_can_edit. As a
-- LANGUAGE sql function that is SECURITY DEFINER it is never inlined, and
-- PostgreSQL parses and plans its body again for every statement that calls
-- it: profiled under tests/bench/workflows, that planning (with the
-- plpgsql context readers it calls) was about a fifth of the database's
-- time per save. The same check in plpgsql keeps its plan for the session.
-- Same arguments, result, volatility, owner, grants and search_path (with
-- pg_temp last, as 008 set it for every SECURITY DEFINER function); the
-- executions policies (005) and the trigger-row functions (010, 013, 017)
-- call it too, and gain the same.
SET LOCAL ROLE glyphic_owner;

CREATE OR REPLACE FUNCTION glyphic.wf_can_edit(p_workflow uuid) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = glyphic, pg_temp AS $$
BEGIN
  RETURN EXISTS (SELECT 1 FROM glyphic.workflows w
                  WHERE w.id = p_workflow AND w.org_id = glyphic.current_org_id()
                    AND w.org_id = ANY (glyphic.my_editor_org_ids())
                    AND (w.org_id = ANY (glyphic.my_admin_org_ids()) OR w.created_by = glyphic.current_user_id()
                         OR glyphic.wf_shared_with_me(w.id, true)));
END
$$;

-- 012's trigger fills the parameters a new version lists in
-- generated_params; a save whose definition has none to generate (the
-- usual case: every webhook path set) passes '[]', and the function then
-- only checked that list and returned the row unchanged — after copying
-- the definition's nodes out of the row and back. The trigger now fires
-- only when there is something to check or fill: a list that is not an
-- array still reaches the function (and is refused there), as does any
-- non-empty one.
DROP TRIGGER workflow_versions_fill_generated ON glyphic.workflow_versions;
CREATE TRIGGER workflow_versions_fill_generated BEFORE INSERT ON glyphic.workflow_versions
  FOR EACH ROW
  WHEN (jsonb_typeof(NEW.generated_params) IS DISTINCT FROM 'array' OR jsonb_array_length(NEW.generated_params) > 0)
  EXECUTE FUNCTION glyphic.wf_fill_generated_params();
