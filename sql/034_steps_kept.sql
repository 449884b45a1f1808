-- 034_steps_kept: executions.steps is written once, by hook_record_many.
--
-- 033 made the app role's insert policy want executions.steps empty, so a
-- blanket GRANT INSERT cannot reopen the column. An UPDATE was still open
-- the same way: the app role may update its org's executions (the
-- executions_change policy), and only the column-level grant of 005 kept
-- it off steps; a later blanket GRANT UPDATE would let a user write steps
-- that hook_record_many's check never saw (a time out of range makes every
-- read of glyphic.steps that expands it fail, other orgs' included). This
-- trigger refuses any change of the column by an untrusted role, whatever
-- the grants. It fires only for an UPDATE that names the column.
--
-- (033's header says a started_ms of 10^15 made the view fail: that one
-- reads back, as year 33658; 10^16 ms is the first power of ten that
-- to_timestamp refuses. 033's check refuses both, as any time past 9999.)
SET LOCAL ROLE glyphic_owner;

CREATE FUNCTION glyphic.executions_steps_kept() RETURNS trigger
LANGUAGE plpgsql SET search_path = glyphic, pg_temp AS $$
BEGIN
  IF NOT glyphic.rls_trusted() THEN
    RAISE EXCEPTION 'an execution''s steps are written when it is recorded, and never changed'
      USING ERRCODE = '42501';
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER executions_steps_kept BEFORE UPDATE OF steps ON glyphic.executions
  FOR EACH ROW WHEN (NEW.steps IS DISTINCT FROM OLD.steps)
  EXECUTE FUNCTION glyphic.executions_steps_kept();
