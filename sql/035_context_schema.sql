-- 035_context_schema: the request context gets a schema of its own,
-- glyphic_ctx, so that its implementation can be swapped.
--
-- The functions row level security calls (current_user_id(),
-- current_org_id(), my_org_ids(), my_editor_org_ids(), my_admin_org_ids())
-- and the one that writes the context (ctx_write) keep their names, but
-- become SQL wrappers of glyphic_ctx's functions, which PostgreSQL inlines
-- into the statement that calls them. glyphic_ctx holds one of two
-- implementations:
--
--   table   this file's: the temporary table of 008, plpgsql readers. Any
--           installation can have it.
--   memory  sql/context/glyphic_context.c, a module of C functions that
--           keep the context in the backend's memory; `glyphic migrate`
--           installs them over these when its role is a superuser and the
--           server loads the module (db.context_module). A reader call
--           costs a fraction of a microsecond instead of about 10, and an
--           authentication no longer takes a transaction id.
--
-- Both keep the context as 008 defined it: written only by the owner's
-- functions after they verified an identity, counting only in the
-- transaction that wrote it, undone with a subtransaction that rolls back.
--
-- glyphic_ctx is not part of `glyphic backup` (a dump of the schema
-- glyphic): a dump then holds no C function and restores anywhere, and the
-- wrappers are created without checking their bodies (pg_dump's
-- check_function_bodies = off). `glyphic migrate`, the last step of
-- `glyphic restore`, runs this file again when glyphic_ctx is missing, so
-- it creates or replaces only, and is safe to run twice.
-- Creating the schema needs CREATE on the database (as 008 needs its
-- owner): a superuser, the database's owner, or a role granted it. Once it
-- exists, this file runs as glyphic_owner alone (CREATE SCHEMA IF NOT
-- EXISTS checks the privilege even then, hence the DO block).
DO $$
BEGIN
  IF to_regnamespace('glyphic_ctx') IS NULL THEN
    CREATE SCHEMA glyphic_ctx AUTHORIZATION glyphic_owner;
  END IF;
END
$$;

SET LOCAL ROLE glyphic_owner;

REVOKE ALL ON SCHEMA glyphic_ctx FROM PUBLIC;
GRANT USAGE ON SCHEMA glyphic_ctx TO glyphic_app, glyphic_executor;

-- Writes the context (creating the session's table on first use); 008's.
CREATE OR REPLACE FUNCTION glyphic_ctx.write(p_user uuid, p_org uuid, p_org_ids uuid[], p_editor_org_ids uuid[],
                                             p_admin_org_ids uuid[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  t regclass := to_regclass('pg_temp.glyphic_ctx');
BEGIN
  IF t IS NULL THEN
    CREATE TEMPORARY TABLE glyphic_ctx (
      xact           xid8,         -- the (top-level) transaction it belongs to
      user_id        uuid,
      org_id         uuid,
      org_ids        uuid[],
      editor_org_ids uuid[],
      admin_org_ids  uuid[]
    );
    GRANT SELECT ON pg_temp.glyphic_ctx TO glyphic_app;
    INSERT INTO pg_temp.glyphic_ctx (xact) VALUES (NULL);
  ELSIF has_table_privilege('glyphic_app', t, 'UPDATE') THEN
    -- not the owner's (which the app role may only read): made by the app
    -- role in a session older than migration 008
    RAISE EXCEPTION 'the request context table is not the owner''s' USING ERRCODE = '42501';
  END IF;
  UPDATE pg_temp.glyphic_ctx SET xact = pg_current_xact_id(), user_id = p_user, org_id = p_org,
         org_ids = coalesce(p_org_ids, '{}'), editor_org_ids = coalesce(p_editor_org_ids, '{}'),
         admin_org_ids = coalesce(p_admin_org_ids, '{}');
  PERFORM set_config('glyphic.ctx', 'on', true);
END
$$;

-- The readers; 008's. The row counts only in the transaction that wrote it.
CREATE OR REPLACE FUNCTION glyphic_ctx.user_id() RETURNS uuid
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF pg_catalog.current_setting('glyphic.ctx', true) = 'on' THEN
    RETURN (SELECT c.user_id FROM pg_temp.glyphic_ctx c WHERE c.xact = pg_catalog.pg_current_xact_id_if_assigned());
  END IF;
  RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION glyphic_ctx.org_id() RETURNS uuid
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF pg_catalog.current_setting('glyphic.ctx', true) = 'on' THEN
    RETURN (SELECT c.org_id FROM pg_temp.glyphic_ctx c WHERE c.xact = pg_catalog.pg_current_xact_id_if_assigned());
  END IF;
  RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION glyphic_ctx.org_ids() RETURNS uuid[]
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF pg_catalog.current_setting('glyphic.ctx', true) = 'on' THEN
    RETURN coalesce((SELECT c.org_ids FROM pg_temp.glyphic_ctx c WHERE c.xact = pg_catalog.pg_current_xact_id_if_assigned()), '{}');
  END IF;
  RETURN '{}';
END
$$;

CREATE OR REPLACE FUNCTION glyphic_ctx.editor_org_ids() RETURNS uuid[]
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF pg_catalog.current_setting('glyphic.ctx', true) = 'on' THEN
    RETURN coalesce((SELECT c.editor_org_ids FROM pg_temp.glyphic_ctx c WHERE c.xact = pg_catalog.pg_current_xact_id_if_assigned()), '{}');
  END IF;
  RETURN '{}';
END
$$;

CREATE OR REPLACE FUNCTION glyphic_ctx.admin_org_ids() RETURNS uuid[]
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF pg_catalog.current_setting('glyphic.ctx', true) = 'on' THEN
    RETURN coalesce((SELECT c.admin_org_ids FROM pg_temp.glyphic_ctx c WHERE c.xact = pg_catalog.pg_current_xact_id_if_assigned()), '{}');
  END IF;
  RETURN '{}';
END
$$;

-- Which implementation is installed: 'table' here, 'memory' for the module.
CREATE OR REPLACE FUNCTION glyphic_ctx.kind() RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT 'table' $$;

-- Only the owner writes the context; anybody of ours may read it.
REVOKE ALL ON FUNCTION glyphic_ctx.write(uuid, uuid, uuid[], uuid[], uuid[]) FROM PUBLIC, glyphic_app, glyphic_executor;
REVOKE ALL ON FUNCTION glyphic_ctx.user_id(), glyphic_ctx.org_id(), glyphic_ctx.org_ids(),
  glyphic_ctx.editor_org_ids(), glyphic_ctx.admin_org_ids(), glyphic_ctx.kind() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION glyphic_ctx.user_id(), glyphic_ctx.org_id(), glyphic_ctx.org_ids(),
  glyphic_ctx.editor_org_ids(), glyphic_ctx.admin_org_ids(), glyphic_ctx.kind() TO glyphic_app, glyphic_executor;

-- The names the policies and functions use: wrappers PostgreSQL inlines.
CREATE OR REPLACE FUNCTION glyphic.current_user_id() RETURNS uuid
LANGUAGE sql STABLE AS $$ SELECT glyphic_ctx.user_id() $$;

CREATE OR REPLACE FUNCTION glyphic.current_org_id() RETURNS uuid
LANGUAGE sql STABLE AS $$ SELECT glyphic_ctx.org_id() $$;

CREATE OR REPLACE FUNCTION glyphic.my_org_ids() RETURNS uuid[]
LANGUAGE sql STABLE AS $$ SELECT glyphic_ctx.org_ids() $$;

CREATE OR REPLACE FUNCTION glyphic.my_editor_org_ids() RETURNS uuid[]
LANGUAGE sql STABLE AS $$ SELECT glyphic_ctx.editor_org_ids() $$;

CREATE OR REPLACE FUNCTION glyphic.my_admin_org_ids() RETURNS uuid[]
LANGUAGE sql STABLE AS $$ SELECT glyphic_ctx.admin_org_ids() $$;

CREATE OR REPLACE FUNCTION glyphic.ctx_write(p_user uuid, p_org uuid, p_org_ids uuid[], p_editor_org_ids uuid[],
                                             p_admin_org_ids uuid[]) RETURNS void
LANGUAGE sql AS $$ SELECT glyphic_ctx.write(p_user, p_org, p_org_ids, p_editor_org_ids, p_admin_org_ids) $$;
