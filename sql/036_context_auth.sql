-- 036_context_auth: authentication joins the request context's schema.
--
-- glyphic_ctx.auth_session and glyphic_ctx.auth_api_key verify a session
-- token's or an API key's hash and write the request context, exactly as
-- 002's glyphic.auth_session and glyphic.auth_api_key did; glyphic-fcgi and
-- glyphic-events call these now. Like the context's readers (035) they come
-- in two implementations:
--
--   table   this file's plpgsql: 002's bodies, moved here unchanged but
--           for pg_temp last in their search_path (as 008 set it)
--   memory  sql/context/glyphic_context.c, installed over these by
--           `glyphic migrate` with the readers: the same checks and the
--           same context, from two index lookups instead of three planned
--           statements and two SECURITY DEFINER calls (which were most of
--           what an authenticated read cost the database)
--
-- glyphic.auth_session and glyphic.auth_api_key stay, as calls of these,
-- for whoever calls them by their old names.
--
-- Like 035 this file only creates or replaces: `glyphic migrate` runs it
-- again whenever it puts the plpgsql context back or makes glyphic_ctx
-- anew (a restored dump holds only the schema glyphic).
-- glyphic_ctx is made here too when it is missing, as 035 makes it: a dump
-- restored from before this migration holds no glyphic_ctx, and this
-- migration runs before `glyphic migrate` makes the rest of it again.
DO $$
BEGIN
  IF to_regnamespace('glyphic_ctx') IS NULL THEN
    CREATE SCHEMA glyphic_ctx AUTHORIZATION glyphic_owner;
  END IF;
END
$$;

SET LOCAL ROLE glyphic_owner;

-- Authenticates a session token (its SHA-256) and sets the request context.
-- Idle sessions (last seen more than p_idle_seconds ago) and sessions past
-- their absolute expiry are deleted and yield no row. last_seen_at is
-- written at most once a minute.
CREATE OR REPLACE FUNCTION glyphic_ctx.auth_session(p_token_hash bytea, p_wanted_org uuid, p_idle_seconds integer)
RETURNS TABLE (session_id uuid, user_id uuid, org_id uuid, role text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = glyphic, pg_temp AS $$
DECLARE
  s record;
  o record;
BEGIN
  SELECT x.id, x.user_id, x.expires_at, x.last_seen_at INTO s
    FROM glyphic.sessions x WHERE x.token_hash = p_token_hash;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  IF s.expires_at <= now() OR s.last_seen_at <= now() - make_interval(secs => p_idle_seconds) THEN
    DELETE FROM glyphic.sessions x WHERE x.id = s.id;
    RETURN;
  END IF;
  IF s.last_seen_at < now() - interval '60 seconds' THEN
    UPDATE glyphic.sessions x SET last_seen_at = now() WHERE x.id = s.id;
  END IF;
  o := glyphic.enter(s.user_id, p_wanted_org, false);
  session_id := s.id; user_id := s.user_id; org_id := o.org_id; role := o.role;
  RETURN NEXT;
END
$$;

-- Authenticates an API key (its SHA-256): the key's org and its creator's
-- current role there (a key never outlives its creator's membership).
CREATE OR REPLACE FUNCTION glyphic_ctx.auth_api_key(p_key_hash bytea)
RETURNS TABLE (key_id uuid, user_id uuid, org_id uuid, role text, scopes text[])
LANGUAGE plpgsql SECURITY DEFINER SET search_path = glyphic, pg_temp AS $$
DECLARE
  k glyphic.api_keys%ROWTYPE;
  r text;
BEGIN
  SELECT * INTO k FROM glyphic.api_keys WHERE key_hash = p_key_hash;
  IF NOT FOUND OR k.revoked_at IS NOT NULL OR (k.expires_at IS NOT NULL AND k.expires_at <= now()) THEN
    RETURN;
  END IF;
  SELECT e.role INTO r FROM glyphic.enter(k.user_id, k.org_id, true) e;
  IF r IS NULL THEN
    -- the key's maker left the org: the key is dead
    PERFORM glyphic.set_context(NULL, NULL);
    RETURN;
  END IF;
  IF k.last_used_at IS NULL OR k.last_used_at < now() - interval '60 seconds' THEN
    UPDATE glyphic.api_keys SET last_used_at = now() WHERE id = k.id;
  END IF;
  RETURN QUERY SELECT k.id, k.user_id, k.org_id, r, k.scopes;
END
$$;

REVOKE ALL ON FUNCTION glyphic_ctx.auth_session(bytea, uuid, integer), glyphic_ctx.auth_api_key(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION glyphic_ctx.auth_session(bytea, uuid, integer), glyphic_ctx.auth_api_key(bytea)
  TO glyphic_app, glyphic_executor;

-- The old names: calls of the above.
CREATE OR REPLACE FUNCTION glyphic.auth_session(p_token_hash bytea, p_wanted_org uuid, p_idle_seconds integer)
RETURNS TABLE (session_id uuid, user_id uuid, org_id uuid, role text)
LANGUAGE sql AS $$ SELECT * FROM glyphic_ctx.auth_session(p_token_hash, p_wanted_org, p_idle_seconds) $$;

CREATE OR REPLACE FUNCTION glyphic.auth_api_key(p_key_hash bytea)
RETURNS TABLE (key_id uuid, user_id uuid, org_id uuid, role text, scopes text[])
LANGUAGE sql AS $$ SELECT * FROM glyphic_ctx.auth_api_key(p_key_hash) $$;
