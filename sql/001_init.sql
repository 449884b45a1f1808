-- 001_init: the schema, the roles the programs connect as, the migration log.
--
-- Roles (cluster-wide; created only if missing, so several databases of one
-- cluster can share them):
--   glyphic_owner     owns the schema and every table; `glyphic migrate`
--                     runs as it (this first migration needs a superuser,
--                     or a role with CREATEROLE that is a member of it)
--   glyphic_app       glyphic-fcgi: not an owner, NOBYPASSRLS, so row level
--                     security applies to every query it makes
--   glyphic_executor  glyphic-executor
-- No passwords are set here: the operator sets them (ALTER ROLE … PASSWORD)
-- or authenticates by peer/cert in pg_hba.conf.

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'glyphic_owner') THEN
    CREATE ROLE glyphic_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'glyphic_app') THEN
    CREATE ROLE glyphic_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'glyphic_executor') THEN
    CREATE ROLE glyphic_executor LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
  END IF;
END
$$;

CREATE SCHEMA IF NOT EXISTS glyphic AUTHORIZATION glyphic_owner;
REVOKE ALL ON SCHEMA glyphic FROM PUBLIC;
GRANT USAGE ON SCHEMA glyphic TO glyphic_app, glyphic_executor;

-- Everything below is created by, and so owned by, the owner role.
SET LOCAL ROLE glyphic_owner;

ALTER DEFAULT PRIVILEGES FOR ROLE glyphic_owner IN SCHEMA glyphic
  GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO glyphic_app, glyphic_executor;
ALTER DEFAULT PRIVILEGES FOR ROLE glyphic_owner IN SCHEMA glyphic
  GRANT USAGE, SELECT ON SEQUENCES TO glyphic_app, glyphic_executor;
ALTER DEFAULT PRIVILEGES FOR ROLE glyphic_owner IN SCHEMA glyphic
  REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE glyphic_owner IN SCHEMA glyphic
  GRANT EXECUTE ON FUNCTIONS TO glyphic_app, glyphic_executor;

CREATE TABLE glyphic.schema_migrations (
  version    integer PRIMARY KEY CHECK (version > 0),
  name       text NOT NULL,
  checksum   text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
);
-- the programs read the version at connect time; only migrate writes it
REVOKE INSERT, UPDATE, DELETE ON glyphic.schema_migrations FROM glyphic_app, glyphic_executor;
