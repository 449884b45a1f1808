-- 045: the executions_starter trigger's WHEN names the trusted roles
-- instead of calling glyphic.role_trusted().
--
-- 044 gave the trigger WHEN (started_by IS NULL OR NOT
-- glyphic.role_trusted(current_user)), so that a trusted insert naming its
-- starter skips exec_fill_starter's plpgsql call. But a trigger's WHEN is
-- prepared again by every statement that fires it, and role_trusted, an
-- SQL function, is inlined there: its body is parsed and analysed once per
-- statement. On the direct webhook path, one statement per batch of runs
-- (hook_record_many), that preparation was 3% of PostgreSQL's CPU (perf,
-- under wrk: ExecBRInsertTriggers 4.2% of samples, of which expression_planner
-- 3.1%), as much as the calls it saved. Written out, the condition costs
-- almost nothing to prepare (ExecBRInsertTriggers 1.2%).
--
-- The condition is only ever wider than what the function does: it lets
-- through every row but a named starter under glyphic_owner or
-- glyphic_executor by name, the roles rls_trusted() trusts and for which
-- role_trusted() is true, so exec_fill_starter leaves those rows as they
-- are. A superuser, or a role that is a member of a trusted one, reaches
-- the function, which decides as before.
--
-- A single-role installation has one role for all three, trusted by its
-- settings: core/migrate.c puts 044's condition back for it (its
-- role_trusted() reads those settings).
SET LOCAL ROLE glyphic_owner;

DROP TRIGGER executions_starter ON glyphic.executions;
CREATE TRIGGER executions_starter BEFORE INSERT ON glyphic.executions
  FOR EACH ROW
  WHEN (NEW.started_by IS NULL OR current_user NOT IN ('glyphic_owner', 'glyphic_executor'))
  EXECUTE FUNCTION glyphic.exec_fill_starter();
