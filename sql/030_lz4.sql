-- 030_lz4: large JSON values compressed with lz4 where the server has it.
--
-- Workflow definitions (a 50-node one is about 15 KB) and execution data
-- are stored compressed (TOAST) with PostgreSQL's default, pglz, whose
-- compression took 8% of the database's CPU in a save of a 50-node
-- workflow (tests/bench/workflows, perf). lz4 compresses several times
-- faster for a similar size. It applies to values written from now on;
-- values stored before stay as they are, and both read the same. A server
-- built without lz4 keeps pglz (a notice says so).
SET LOCAL ROLE glyphic_owner;

DO $$
BEGIN
  ALTER TABLE glyphic.workflow_versions ALTER COLUMN definition SET COMPRESSION lz4;
  ALTER TABLE glyphic.executions
    ALTER COLUMN definition SET COMPRESSION lz4,
    ALTER COLUMN input SET COMPRESSION lz4,
    ALTER COLUMN output SET COMPRESSION lz4,
    ALTER COLUMN response SET COMPRESSION lz4;
  ALTER TABLE glyphic.execution_steps
    ALTER COLUMN input SET COMPRESSION lz4,
    ALTER COLUMN output SET COMPRESSION lz4,
    ALTER COLUMN state SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
  RAISE NOTICE 'this PostgreSQL has no lz4: large values stay compressed with pglz';
END
$$;
