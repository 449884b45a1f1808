-- 044: the executions_starter trigger runs only when it has something to do.
--
-- exec_fill_starter (008, as 011 rewrote it) sets started_by to the signed-in user for a
-- role that is not trusted, and fills it when trusted code left it NULL;
-- a trusted insert that names its starter (the direct webhook path's
-- batches, hook_record_many, name the workflow's activating user) came
-- back unchanged, after a plpgsql call for every row: 3.8 us of
-- PostgreSQL's time per direct webhook call (track_functions = all, under
-- wrk). The trigger's WHEN now leaves those rows alone; every other row
-- still reaches the function, which decides as before.
SET LOCAL ROLE glyphic_owner;

DROP TRIGGER executions_starter ON glyphic.executions;
CREATE TRIGGER executions_starter BEFORE INSERT ON glyphic.executions
  FOR EACH ROW
  WHEN (NEW.started_by IS NULL OR NOT glyphic.role_trusted(current_user))
  EXECUTE FUNCTION glyphic.exec_fill_starter();
