-- 008_identity: the database no longer takes the app role's word for who
-- is asking, and child workflows run only when their starter may read them.
--
-- The request context (who the user is, the org the request works in, the
-- user's orgs) used to live in settings (set_config) any role may write.
-- Now it lives in a temporary table, pg_temp.glyphic_ctx, that only
-- SECURITY DEFINER functions owned by glyphic_owner create and write, and
-- only after they verified something the caller cannot make up:
--
--   auth_session   a session token's hash
--   auth_api_key   an API key's hash
--   login          an email and the scrypt hash of the password typed
--                  (computed with the stored salt, compared here: the stored
--                  hash never leaves the database)
--   signup         a new account (its password is the one just chosen)
--
-- The app role may read the table (the readers current_user_id() and
-- friends) but not write it, and it cannot create a look-alike: the
-- database's TEMPORARY privilege is revoked from PUBLIC and glyphic_app (a
-- SECURITY DEFINER function may still create a temporary table that the
-- caller then reads: PostgreSQL's pg_namespace_aclmask documents exactly
-- this). The table holds one row, rewritten at each authentication; it
-- counts only in the transaction that wrote it (the row carries that
-- transaction's id), like the transaction-local settings it replaces.
-- (Not ON COMMIT DELETE ROWS: truncating at every commit invalidated every
-- cached plan that reads the table, which cost milliseconds per request.)
-- The readers look at the table only when the transaction-local flag
-- glyphic.ctx is 'on'; the flag only spares sessions that never
-- authenticated (the executor, psql) a missing table — setting it by hand
-- gains nothing.
--
-- Functions that took the identity as a parameter (create_org,
-- accept_invitation, signup's p_open, login_record's p_user and p_success,
-- my_password_hash) are replaced by ones that derive it from the verified
-- context or from the database's own settings (glyphic.settings, written by
-- `glyphic migrate` from glyphic.conf).

-- Only the migrator (the database owner or a superuser) can change
-- database privileges.
DO $$
BEGIN
  EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC, glyphic_app', current_database());
  EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO glyphic_owner', current_database());
  IF has_database_privilege('glyphic_app', current_database(), 'TEMPORARY') THEN
    RAISE EXCEPTION 'glyphic_app can still create temporary tables in database %: run this migration as the '
                    'database owner or a superuser (db.admin_url)', current_database()
      USING ERRCODE = '42501';
  END IF;
END
$$;

SET LOCAL ROLE glyphic_owner;

-- Settings the database enforces itself, and its secret. Written by the
-- owner role only (glyphic migrate: sync_settings); the programs never
-- read this table directly.
CREATE TABLE glyphic.settings (
  key        text PRIMARY KEY,
  value      text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON glyphic.settings FROM glyphic_app, glyphic_executor;
INSERT INTO glyphic.settings (key, value) VALUES
  ('auth.open_signup', 'false'),
  ('auth.scrypt_n', '15'),
  ('auth.login_window', '900'),
  ('auth.login_max_account', '5'),
  ('auth.login_max_ip', '20'),
  ('auth.session_lifetime', '2592000'),
  -- keys the decoy salts of unknown emails and the hashed emails of the
  -- audit log (about 244 random bits)
  ('secret.key', replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''));

CREATE FUNCTION glyphic.setting(p_key text) RETURNS text
LANGUAGE sql STABLE AS $$ SELECT s.value FROM glyphic.settings s WHERE s.key = p_key $$;

-- Copies the enforced settings from the configuration (a JSON object of
-- key: text value; unknown keys are ignored). glyphic migrate calls it.
CREATE FUNCTION glyphic.sync_settings(p_settings jsonb) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  n integer;
BEGIN
  UPDATE glyphic.settings s SET value = p_settings->>s.key, updated_at = now()
   WHERE s.key NOT LIKE 'secret.%' AND p_settings ? s.key AND s.value IS DISTINCT FROM p_settings->>s.key;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END
$$;

-- The email as the audit log keeps it for a failed log-in to no account:
-- a keyed hash (the same typed text gives the same value, so repeated
-- attempts can be told apart, but a password typed into the email field
-- is not kept in clear).
CREATE FUNCTION glyphic.email_digest(p_email text) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT left(encode(sha256(convert_to(glyphic.setting('secret.key') || ':email:' || p_email, 'UTF8')), 'hex'), 32)
$$;

---------------------------------------------------------------------------
-- The request context
---------------------------------------------------------------------------

-- Writes the context (creating the session's table on first use). Called
-- only from the owner's SECURITY DEFINER functions, after they verified
-- the identity; revoked from the app role.
CREATE FUNCTION glyphic.ctx_write(p_user uuid, p_org uuid, p_org_ids uuid[], p_editor_org_ids uuid[],
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
    -- role in a session older than this migration
    RAISE EXCEPTION 'the request context table is not the owner''s' USING ERRCODE = '42501';
  END IF;
  UPDATE pg_temp.glyphic_ctx SET xact = pg_current_xact_id(), user_id = p_user, org_id = p_org,
         org_ids = coalesce(p_org_ids, '{}'), editor_org_ids = coalesce(p_editor_org_ids, '{}'),
         admin_org_ids = coalesce(p_admin_org_ids, '{}');
  PERFORM set_config('glyphic.ctx', 'on', true);
END
$$;

-- The readers: the row counts only in the transaction that wrote it (its
-- id: writing the row gave the transaction one; not now(), which several
-- transactions sent in one query string share). plpgsql: the table is
-- named only when the flag says it exists, and the plan is kept.
CREATE OR REPLACE FUNCTION glyphic.current_user_id() RETURNS uuid
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF current_setting('glyphic.ctx', true) = 'on' THEN
    RETURN (SELECT c.user_id FROM pg_temp.glyphic_ctx c WHERE c.xact = pg_current_xact_id_if_assigned());
  END IF;
  RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION glyphic.current_org_id() RETURNS uuid
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF current_setting('glyphic.ctx', true) = 'on' THEN
    RETURN (SELECT c.org_id FROM pg_temp.glyphic_ctx c WHERE c.xact = pg_current_xact_id_if_assigned());
  END IF;
  RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION glyphic.my_org_ids() RETURNS uuid[]
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF current_setting('glyphic.ctx', true) = 'on' THEN
    RETURN coalesce((SELECT c.org_ids FROM pg_temp.glyphic_ctx c WHERE c.xact = pg_current_xact_id_if_assigned()), '{}');
  END IF;
  RETURN '{}';
END
$$;

CREATE OR REPLACE FUNCTION glyphic.my_editor_org_ids() RETURNS uuid[]
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF current_setting('glyphic.ctx', true) = 'on' THEN
    RETURN coalesce((SELECT c.editor_org_ids FROM pg_temp.glyphic_ctx c WHERE c.xact = pg_current_xact_id_if_assigned()), '{}');
  END IF;
  RETURN '{}';
END
$$;

CREATE OR REPLACE FUNCTION glyphic.my_admin_org_ids() RETURNS uuid[]
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF current_setting('glyphic.ctx', true) = 'on' THEN
    RETURN coalesce((SELECT c.admin_org_ids FROM pg_temp.glyphic_ctx c WHERE c.xact = pg_current_xact_id_if_assigned()), '{}');
  END IF;
  RETURN '{}';
END
$$;

-- set_context and enter write the table now. Both stay owner-internal:
-- the app role may no longer call them (it used to, with any user id).
CREATE OR REPLACE FUNCTION glyphic.set_context(p_user uuid, p_org uuid) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = glyphic, pg_temp AS $$
  SELECT glyphic.ctx_write(p_user, p_org,
    (SELECT array_agg(m.org_id) FROM glyphic.memberships m WHERE m.user_id = p_user),
    (SELECT array_agg(m.org_id) FROM glyphic.memberships m
      WHERE m.user_id = p_user AND m.role IN ('owner', 'admin', 'editor')),
    (SELECT array_agg(m.org_id) FROM glyphic.memberships m
      WHERE m.user_id = p_user AND m.role IN ('owner', 'admin')))
$$;

CREATE OR REPLACE FUNCTION glyphic.enter(p_user uuid, p_wanted uuid, p_only boolean, OUT org_id uuid, OUT role text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = glyphic, pg_temp AS $$
DECLARE
  ids uuid[]; editor_ids uuid[]; admin_ids uuid[];
BEGIN
  SELECT array_agg(m.org_id),
         array_agg(m.org_id) FILTER (WHERE m.role IN ('owner', 'admin', 'editor')),
         array_agg(m.org_id) FILTER (WHERE m.role IN ('owner', 'admin')),
         (array_agg(m.org_id ORDER BY (m.org_id = u.active_org_id) DESC NULLS LAST, m.created_at)
            FILTER (WHERE p_wanted IS NULL OR m.org_id = p_wanted))[1],
         (array_agg(m.role ORDER BY (m.org_id = u.active_org_id) DESC NULLS LAST, m.created_at)
            FILTER (WHERE p_wanted IS NULL OR m.org_id = p_wanted))[1]
    INTO ids, editor_ids, admin_ids, org_id, role
    FROM glyphic.users u LEFT JOIN glyphic.memberships m
      ON m.user_id = u.id AND (NOT p_only OR m.org_id = p_wanted)
   WHERE u.id = p_user;
  PERFORM glyphic.ctx_write(p_user, org_id, array_remove(ids, NULL), editor_ids, admin_ids);
END
$$;

-- For trusted SECURITY DEFINER code that acts for an org without a user
-- (webhooks): a context of that org alone, with no user and no org lists.
CREATE FUNCTION glyphic.ctx_set_org(p_org uuid) RETURNS void
LANGUAGE sql AS $$ SELECT glyphic.ctx_write(NULL, p_org, '{}', '{}', '{}') $$;

---------------------------------------------------------------------------
-- Passwords: the stored hash never leaves the database
---------------------------------------------------------------------------

-- The scrypt MCF settings ("$s1$<params>$<salt>") of a stored hash.
CREATE FUNCTION glyphic.mcf_settings(p_hash text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT substring(p_hash FROM '^(\$s1\$[0-9a-f]{6}\$[A-Za-z0-9+/=]+)\$') $$;

-- Decoy settings for an email with no account: a salt derived from the
-- secret key (the same every time, like a real account's) at the current
-- cost, so the answer does not tell whether the account exists.
CREATE FUNCTION glyphic.mcf_decoy(p_email text) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT '$s1$' || lpad(to_hex((glyphic.setting('auth.scrypt_n')::integer << 16) | (8 << 8) | 1), 6, '0') || '$' ||
         encode(substring(sha256(convert_to(glyphic.setting('secret.key') || ':salt:' || p_email, 'UTF8')) FROM 1 FOR 16),
                'base64')
$$;

-- Compares a stored hash with one computed by the caller; both sides are
-- hashed first so the comparison's timing tells nothing about the stored one.
CREATE FUNCTION glyphic.mcf_equal(p_stored text, p_candidate text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT p_stored IS NOT NULL AND p_candidate IS NOT NULL
     AND sha256(convert_to(p_stored, 'UTF8')) = sha256(convert_to(p_candidate, 'UTF8'))
$$;

CREATE FUNCTION glyphic.mcf_valid(p_hash text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT p_hash ~ '^\$s1\$[0-9a-f]{6}\$[A-Za-z0-9+/=]{4,64}\$[A-Za-z0-9+/=]{4,128}$'
$$;

-- Seconds until a log-in for this email and address may be tried again
-- (0: now), by the database's own limits. Takes the account's advisory lock
-- for the rest of the transaction, so parallel guesses cannot all pass the
-- count before any is recorded.
CREATE FUNCTION glyphic.login_wait(p_email text, p_ip inet) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  win integer := glyphic.setting('auth.login_window')::integer;
  since timestamptz := now() - make_interval(secs => win);
  n integer; oldest timestamptz;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('glyphic.login:' || p_email));
  SELECT count(*), min(a.at) INTO n, oldest FROM glyphic.login_attempts a
   WHERE a.email = p_email AND NOT a.success AND a.at > since;
  IF n >= glyphic.setting('auth.login_max_account')::integer THEN
    RETURN greatest(1, ceil(extract(epoch FROM oldest + make_interval(secs => win) - now())))::integer;
  END IF;
  IF p_ip IS NOT NULL THEN
    SELECT count(*), min(a.at) INTO n, oldest FROM glyphic.login_attempts a
     WHERE a.ip = p_ip AND NOT a.success AND a.at > since;
    IF n >= glyphic.setting('auth.login_max_ip')::integer THEN
      RETURN greatest(1, ceil(extract(epoch FROM oldest + make_interval(secs => win) - now())))::integer;
    END IF;
  END IF;
  RETURN 0;
END
$$;

-- Step one of a log-in: the hash settings (cost and salt) to compute the
-- typed password's hash with — a decoy for an unknown email — or, past the
-- limits, the seconds to wait (and no settings).
CREATE FUNCTION glyphic.login_settings(p_email text, p_ip inet, OUT settings text, OUT retry_after integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = glyphic, pg_temp AS $$
BEGIN
  retry_after := glyphic.login_wait(p_email, p_ip);
  IF retry_after > 0 THEN
    RETURN;
  END IF;
  SELECT glyphic.mcf_settings(u.password_hash) INTO settings FROM glyphic.users u WHERE u.email = p_email;
  settings := coalesce(settings, glyphic.mcf_decoy(p_email));
END
$$;

-- Starts a session for a user the database verified (internal).
CREATE FUNCTION glyphic.session_start(p_user uuid, p_token_hash bytea, p_lifetime integer, p_ip inet,
                                      p_user_agent text) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
  sid uuid;
BEGIN
  INSERT INTO glyphic.sessions (token_hash, user_id, expires_at, ip, user_agent)
  VALUES (p_token_hash, p_user,
          now() + make_interval(secs => least(greatest(p_lifetime, 60),
                                              glyphic.setting('auth.session_lifetime')::integer)),
          p_ip, left(p_user_agent, 255))
  RETURNING id INTO sid;
  PERFORM glyphic.enter(p_user, NULL, false);
  RETURN sid;
END
$$;

-- Step two: the hash of the typed password, computed with the settings of
-- step one, is compared here. On success the session starts (its token's
-- hash given by the caller) and the request context is the user's; either
-- way the attempt is recorded and audited. retry_after > 0: refused by the
-- limits, nothing compared. A failed comparison is also written to the
-- server log, which a caller cannot roll back.
CREATE FUNCTION glyphic.login(p_email text, p_ip inet, p_candidate text, p_token_hash bytea, p_lifetime integer,
                              p_user_agent text)
RETURNS TABLE (retry_after integer, user_id uuid, session_id uuid)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = glyphic, pg_temp AS $$
DECLARE
  wait integer;
  u record;
  ok boolean;
  sid uuid;
BEGIN
  wait := glyphic.login_wait(p_email, p_ip);
  IF wait > 0 THEN
    RETURN QUERY SELECT wait, NULL::uuid, NULL::uuid;
    RETURN;
  END IF;
  SELECT x.id, x.password_hash INTO u FROM glyphic.users x WHERE x.email = p_email;
  ok := FOUND AND glyphic.mcf_equal(u.password_hash, p_candidate);
  INSERT INTO glyphic.login_attempts (email, ip, success) VALUES (p_email, p_ip, ok);
  IF ok THEN
    sid := glyphic.session_start(u.id, p_token_hash, p_lifetime, p_ip, p_user_agent);
    -- one row per org the user belongs to, so each org's admins see it
    INSERT INTO glyphic.audit_log (org_id, actor_id, action, target_type, target_id, ip)
    SELECT m.org_id, u.id, 'auth.login', 'user', u.id::text, p_ip
      FROM glyphic.memberships m WHERE m.user_id = u.id;
    RETURN QUERY SELECT 0, u.id, sid;
    RETURN;
  END IF;
  RAISE LOG 'glyphic: failed log-in (user %, address %)', coalesce(u.id::text, 'none'), coalesce(host(p_ip), '?');
  IF u.id IS NOT NULL THEN
    INSERT INTO glyphic.audit_log (org_id, actor_id, action, target_type, target_id, ip, details)
    SELECT m.org_id, NULL, 'auth.login_failed', 'user', u.id::text, p_ip, '{}'
      FROM glyphic.memberships m WHERE m.user_id = u.id;
  ELSE
    -- no account: the typed email is kept as a keyed hash, never in clear
    INSERT INTO glyphic.audit_log (org_id, action, target_type, ip, details)
    VALUES (NULL, 'auth.login_failed', 'email', p_ip,
            jsonb_build_object('email_digest', glyphic.email_digest(p_email)));
  END IF;
  RETURN QUERY SELECT 0, NULL::uuid, NULL::uuid;
END
$$;

-- The signed-in user's hash settings, to check their current password
-- with, or the seconds to wait past the log-in limits.
CREATE FUNCTION glyphic.my_password_settings(p_ip inet, OUT settings text, OUT retry_after integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = glyphic, pg_temp AS $$
DECLARE
  u record;
BEGIN
  SELECT x.email, x.password_hash INTO u FROM glyphic.users x WHERE x.id = glyphic.current_user_id();
  IF NOT FOUND THEN
    RETURN;
  END IF;
  retry_after := glyphic.login_wait(u.email, p_ip);
  IF retry_after = 0 THEN
    settings := glyphic.mcf_settings(u.password_hash);
  END IF;
END
$$;

-- Changes the signed-in user's password: p_current is the hash of the
-- current password computed with my_password_settings(). Returns 0 when
-- changed (the user's other sessions end, and their API keys are revoked
-- unless p_keep_keys), -1 when the current password is wrong (counted like
-- a failed log-in: the caller commits that), or the seconds to wait past
-- the log-in limits.
CREATE FUNCTION glyphic.set_my_password(p_current text, p_new_hash text, p_keep_session uuid, p_keep_keys boolean,
                                        p_ip inet) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = glyphic, pg_temp AS $$
DECLARE
  u record;
  wait integer;
BEGIN
  SELECT x.id, x.email, x.password_hash INTO u FROM glyphic.users x WHERE x.id = glyphic.current_user_id();
  IF NOT FOUND THEN
    RAISE EXCEPTION 'not signed in' USING ERRCODE = '42501';
  END IF;
  IF NOT glyphic.mcf_valid(p_new_hash) THEN
    RAISE EXCEPTION 'not a password hash' USING ERRCODE = '22023';
  END IF;
  wait := glyphic.login_wait(u.email, p_ip);
  IF wait > 0 THEN
    RETURN wait;
  END IF;
  IF NOT glyphic.mcf_equal(u.password_hash, p_current) THEN
    INSERT INTO glyphic.login_attempts (email, ip, success) VALUES (u.email, p_ip, false);
    RAISE LOG 'glyphic: wrong current password (user %)', u.id;
    RETURN -1;
  END IF;
  UPDATE glyphic.users SET password_hash = p_new_hash, password_changed_at = now() WHERE id = u.id;
  DELETE FROM glyphic.sessions WHERE sessions.user_id = u.id AND id IS DISTINCT FROM p_keep_session;
  IF NOT coalesce(p_keep_keys, false) THEN
    UPDATE glyphic.api_keys SET revoked_at = now() WHERE api_keys.user_id = u.id AND revoked_at IS NULL;
  END IF;
  RETURN 0;
END
$$;

---------------------------------------------------------------------------
-- Sign-up, invitations, orgs: the identity comes from the context
---------------------------------------------------------------------------

-- Sign-up: creates the user; with an invitation token (its SHA-256) joins
-- that org, else creates a new org owned by the user — allowed when the
-- database's auth.open_signup is on, or for the installation's first user.
-- Starts the new user's session (token hash from the caller) and enters
-- their context. Raises unique_violation for a taken email, P0002 for a
-- bad invitation and 42501 when sign-up is closed.
CREATE FUNCTION glyphic.signup(p_email text, p_name text, p_password_hash text, p_org_name text,
                               p_invite_hash bytea, p_ip inet, p_token_hash bytea, p_lifetime integer,
                               p_user_agent text)
RETURNS TABLE (user_id uuid, org_id uuid, role text, session_id uuid)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = glyphic, pg_temp AS $$
DECLARE
  uid uuid; oid uuid; r text; sid uuid; inv glyphic.invitations%ROWTYPE;
BEGIN
  IF NOT glyphic.mcf_valid(p_password_hash) THEN
    RAISE EXCEPTION 'not a password hash' USING ERRCODE = '22023';
  END IF;
  IF p_invite_hash IS NOT NULL THEN
    SELECT * INTO inv FROM glyphic.invitations
     WHERE token_hash = p_invite_hash AND accepted_at IS NULL AND expires_at > now() FOR UPDATE;
    IF NOT FOUND OR inv.email IS DISTINCT FROM p_email THEN
      RAISE EXCEPTION 'invitation not found, expired, or for another email' USING ERRCODE = 'P0002';
    END IF;
  ELSIF glyphic.setting('auth.open_signup') IS DISTINCT FROM 'true' THEN
    -- the first user may always sign up; the lock makes "first" hold
    -- under concurrent sign-ups
    PERFORM pg_advisory_xact_lock(hashtext('glyphic.first_signup'));
    IF EXISTS (SELECT 1 FROM glyphic.users) THEN
      RAISE EXCEPTION 'sign-up is by invitation only' USING ERRCODE = '42501';
    END IF;
  END IF;
  INSERT INTO glyphic.users (email, name, password_hash) VALUES (p_email, p_name, p_password_hash)
  RETURNING id INTO uid;
  IF p_invite_hash IS NOT NULL THEN
    oid := inv.org_id; r := inv.role;
    UPDATE glyphic.invitations SET accepted_at = now(), accepted_by = uid WHERE id = inv.id;
  ELSE
    INSERT INTO glyphic.orgs (name) VALUES (p_org_name) RETURNING id INTO oid;
    r := 'owner';
  END IF;
  INSERT INTO glyphic.memberships (org_id, user_id, role) VALUES (oid, uid, r);
  UPDATE glyphic.users SET active_org_id = oid WHERE id = uid;
  INSERT INTO glyphic.audit_log (org_id, actor_id, action, target_type, target_id, ip, details)
  VALUES (oid, uid, 'auth.signup', 'user', uid::text, p_ip,
          jsonb_build_object('role', r, 'invited', p_invite_hash IS NOT NULL));
  INSERT INTO glyphic.login_attempts (email, ip, success) VALUES (p_email, p_ip, true);
  sid := glyphic.session_start(uid, p_token_hash, p_lifetime, p_ip, p_user_agent);
  INSERT INTO glyphic.audit_log (org_id, actor_id, action, target_type, target_id, ip)
  VALUES (oid, uid, 'auth.login', 'user', uid::text, p_ip);
  RETURN QUERY SELECT uid, oid, r, sid;
END
$$;

-- Accepting an invitation as the signed-in user (whose email it names).
CREATE FUNCTION glyphic.accept_invitation(p_invite_hash bytea, p_ip inet)
RETURNS TABLE (org_id uuid, role text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = glyphic, pg_temp AS $$
DECLARE
  inv glyphic.invitations%ROWTYPE; em text; uid uuid := glyphic.current_user_id();
BEGIN
  SELECT email INTO em FROM glyphic.users WHERE id = uid;
  SELECT * INTO inv FROM glyphic.invitations
   WHERE token_hash = p_invite_hash AND accepted_at IS NULL AND expires_at > now() FOR UPDATE;
  IF uid IS NULL OR NOT FOUND OR inv.email IS DISTINCT FROM em THEN
    RAISE EXCEPTION 'invitation not found, expired, or for another email' USING ERRCODE = 'P0002';
  END IF;
  IF EXISTS (SELECT 1 FROM glyphic.memberships m WHERE m.org_id = inv.org_id AND m.user_id = uid) THEN
    RAISE EXCEPTION 'already a member' USING ERRCODE = '23505';
  END IF;
  INSERT INTO glyphic.memberships (org_id, user_id, role) VALUES (inv.org_id, uid, inv.role);
  UPDATE glyphic.invitations SET accepted_at = now(), accepted_by = uid WHERE id = inv.id;
  INSERT INTO glyphic.audit_log (org_id, actor_id, action, target_type, target_id, ip, details)
  VALUES (inv.org_id, uid, 'member.join', 'user', uid::text, p_ip, jsonb_build_object('role', inv.role));
  RETURN QUERY SELECT inv.org_id, inv.role;
END
$$;

-- Creating an org: the signed-in user becomes its owner. Returns the org
-- as JSON.
CREATE FUNCTION glyphic.create_org(p_name text, p_ip inet) RETURNS json
LANGUAGE plpgsql SECURITY DEFINER SET search_path = glyphic, pg_temp AS $$
DECLARE
  o glyphic.orgs%ROWTYPE; uid uuid := glyphic.current_user_id();
BEGIN
  IF uid IS NULL THEN
    RAISE EXCEPTION 'not signed in' USING ERRCODE = '42501';
  END IF;
  INSERT INTO glyphic.orgs (name) VALUES (p_name) RETURNING * INTO o;
  INSERT INTO glyphic.memberships (org_id, user_id, role) VALUES (o.id, uid, 'owner');
  INSERT INTO glyphic.audit_log (org_id, actor_id, action, target_type, target_id, ip)
  VALUES (o.id, uid, 'org.create', 'org', o.id::text, p_ip);
  RETURN json_build_object('id', o.id, 'name', o.name, 'role', 'owner', 'created_at', o.created_at);
END
$$;

-- The versions that took the identity (or the hash) from the caller.
DROP FUNCTION glyphic.login_lookup(text);
DROP FUNCTION glyphic.login_record(text, inet, uuid, boolean, bytea, integer, text);
DROP FUNCTION glyphic.login_blocked(text, inet, integer, integer, integer);
DROP FUNCTION glyphic.my_password_hash();
DROP FUNCTION glyphic.set_my_password(text, uuid);
DROP FUNCTION glyphic.signup(text, text, text, text, bytea, boolean, inet);
DROP FUNCTION glyphic.accept_invitation(uuid, bytea, inet);
DROP FUNCTION glyphic.create_org(uuid, text, inet);

-- The audit log: an entry the app role appends names the signed-in user
-- as its actor (or none), never someone else.
DROP POLICY audit_append ON glyphic.audit_log;
CREATE POLICY audit_append ON glyphic.audit_log FOR INSERT
  WITH CHECK ((SELECT glyphic.rls_trusted())
              OR ((org_id IS NULL OR org_id = ANY ((SELECT glyphic.my_org_ids())::uuid[]))
                  AND (actor_id IS NULL OR actor_id = (SELECT glyphic.current_user_id()))));

---------------------------------------------------------------------------
-- Who started an execution, and what its children may run
---------------------------------------------------------------------------

-- The user who last activated the workflow (or moved its active version):
-- webhooks and schedules run with that user's read rights.
ALTER TABLE glyphic.workflows ADD COLUMN activated_by uuid REFERENCES glyphic.users ON DELETE SET NULL;
-- The user on whose read rights the execution runs: the user of a manual
-- run or retry, the activating user for webhooks and schedules, the
-- parent's for subworkflows and error workflows.
ALTER TABLE glyphic.executions ADD COLUMN started_by uuid REFERENCES glyphic.users ON DELETE SET NULL;

CREATE FUNCTION glyphic.wf_track_activation() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    -- the app role cannot name someone else as the activating user
    IF current_user = 'glyphic_app' THEN
      NEW.activated_by := CASE WHEN NEW.active THEN glyphic.current_user_id() END;
    END IF;
  ELSIF NEW.active AND (NOT OLD.active OR NEW.active_version IS DISTINCT FROM OLD.active_version) THEN
    NEW.activated_by := coalesce(glyphic.current_user_id(), NEW.activated_by);
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER workflows_activation BEFORE INSERT OR UPDATE OF active, active_version ON glyphic.workflows
  FOR EACH ROW EXECUTE FUNCTION glyphic.wf_track_activation();

-- The user a webhook or schedule of this workflow starts executions for:
-- the activating user, else (activated before this migration) its creator.
CREATE FUNCTION glyphic.wf_starter(p_workflow uuid) RETURNS uuid
LANGUAGE sql STABLE AS $$
  SELECT coalesce(w.activated_by, w.created_by) FROM glyphic.workflows w WHERE w.id = p_workflow
$$;

-- The user an execution runs for. An execution without started_by (made
-- before this migration, or whose starter's account is gone) falls back to
-- its workflow's activating user, then its creator; with none of them the
-- execution has no rights to lend (NULL), and starts no private child.
CREATE FUNCTION glyphic.exec_starter(p_execution uuid) RETURNS uuid
LANGUAGE sql STABLE AS $$
  SELECT coalesce(e.started_by, w.activated_by, w.created_by)
    FROM glyphic.executions e JOIN glyphic.workflows w ON w.id = e.workflow_id
   WHERE e.id = p_execution
$$;

-- Could p_user read the workflow with GET /api/workflows/{id}? The
-- workflows_read rule for a given user: a member of its org who is an
-- admin or owner there, its creator, or someone it is shared with.
CREATE FUNCTION glyphic.wf_readable_by(p_workflow uuid, p_user uuid) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT p_user IS NOT NULL AND EXISTS (
    SELECT 1 FROM glyphic.workflows w
      JOIN glyphic.memberships m ON m.org_id = w.org_id AND m.user_id = p_user
     WHERE w.id = p_workflow AND w.deleted_at IS NULL
       AND (m.role IN ('owner', 'admin') OR w.created_by = p_user
            OR EXISTS (SELECT 1 FROM glyphic.workflow_shares s WHERE s.workflow_id = w.id AND s.user_id = p_user)))
$$;

-- Fills started_by. The app role's rows get the signed-in user whatever
-- they say; trusted code's rows keep what it set, else inherit the
-- parent's starter (subworkflows, error workflows, retries) or the
-- workflow's activating user (webhooks, schedules).
CREATE FUNCTION glyphic.exec_fill_starter() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF current_user = 'glyphic_app' THEN
    NEW.started_by := glyphic.current_user_id();
  ELSIF NEW.started_by IS NULL THEN
    -- the queries of exec_starter and wf_starter, written out: plpgsql
    -- keeps their plans, a call of an SQL function is planned every time
    -- (this runs for every execution, the direct webhook path's too)
    IF NEW.parent_id IS NOT NULL THEN
      SELECT coalesce(e.started_by, w.activated_by, w.created_by) INTO NEW.started_by
        FROM glyphic.executions e JOIN glyphic.workflows w ON w.id = e.workflow_id
       WHERE e.id = NEW.parent_id;
    ELSIF NEW.trigger IN ('webhook', 'schedule') THEN
      SELECT coalesce(w.activated_by, w.created_by) INTO NEW.started_by
        FROM glyphic.workflows w WHERE w.id = NEW.workflow_id;
    ELSE
      NEW.started_by := NEW.created_by;
    END IF;
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER executions_starter BEFORE INSERT ON glyphic.executions
  FOR EACH ROW EXECUTE FUNCTION glyphic.exec_fill_starter();

-- The error workflow starts only when the failed execution's starter could
-- read it; otherwise the failed execution's error says so, in the words of
-- a GET of a workflow one cannot see.
CREATE OR REPLACE FUNCTION glyphic.exec_error_workflow(p_id uuid) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
  e glyphic.executions;
  def jsonb;
  target uuid;
  tver integer;
  tnode text;
  wname text;
BEGIN
  SELECT * INTO e FROM glyphic.executions WHERE id = p_id;
  IF NOT FOUND OR e.trigger = 'error' THEN
    RETURN NULL;  -- an error workflow's own failure does not cascade
  END IF;
  def := coalesce(e.definition, (SELECT v.definition FROM glyphic.workflow_versions v
                                   WHERE v.workflow_id = e.workflow_id AND v.version = e.version));
  IF def->'settings'->>'error_workflow_id' IS NULL THEN
    RETURN NULL;
  END IF;
  target := (def->'settings'->>'error_workflow_id')::uuid;
  SELECT w.current_version INTO tver FROM glyphic.workflows w
   WHERE w.id = target AND w.org_id = e.org_id AND w.deleted_at IS NULL
     AND glyphic.wf_readable_by(w.id, glyphic.exec_starter(e.id));
  IF NOT FOUND THEN
    UPDATE glyphic.executions
       SET error = coalesce(error, '{}') || jsonb_build_object('error_workflow', 'workflow not found')
     WHERE id = p_id;
    RETURN NULL;
  END IF;
  SELECT n->>'id' INTO tnode
    FROM glyphic.workflow_versions v, jsonb_array_elements(v.definition->'nodes') n
   WHERE v.workflow_id = target AND v.version = tver AND n->>'type' = 'trigger.error'
   LIMIT 1;
  SELECT w.name INTO wname FROM glyphic.workflows w WHERE w.id = e.workflow_id;
  RETURN glyphic.exec_start(e.org_id, target, tver, NULL, 'error', tnode,
    jsonb_build_array(jsonb_build_object(
      'execution', jsonb_build_object('id', e.id, 'status', e.status, 'trigger', e.trigger,
                                      'error', e.error, 'started_at', e.started_at, 'finished_at', e.finished_at),
      'workflow', jsonb_build_object('id', e.workflow_id, 'name', wname, 'version', e.version))),
    e.id);
END
$$;

---------------------------------------------------------------------------
-- Enqueueing from trusted code does not depend on the request context
---------------------------------------------------------------------------

-- enqueue without the request-org check, for trusted callers only (the
-- owner's SECURITY DEFINER functions, the executor).
CREATE FUNCTION glyphic.enqueue_trusted(p_kind text, p_payload jsonb, p_org uuid, p_run_at timestamptz,
                                        p_max_attempts integer) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  jid bigint;
BEGIN
  INSERT INTO glyphic.jobs (kind, payload, queue, org_id, priority, run_at, max_attempts)
  VALUES (p_kind, p_payload, 'default', p_org, 0, coalesce(p_run_at, now()), p_max_attempts)
  RETURNING id INTO jid;
  IF (p_run_at IS NULL OR p_run_at <= now())
     AND EXISTS (SELECT 1 FROM glyphic.queue_waiters w WHERE w.queue = 'default' AND w.until > now()) THEN
    PERFORM pg_notify('glyphic_jobs', 'default');
  END IF;
  RETURN jid;
END
$$;

-- exec_start as in 005; a trusted caller (a webhook's SECURITY DEFINER
-- function, the executor) enqueues for the execution's org directly, so it
-- needs no request org in the context; the app role still goes through
-- enqueue's check.
CREATE OR REPLACE FUNCTION glyphic.exec_start(p_org uuid, p_workflow uuid, p_version integer, p_definition jsonb,
                                              p_trigger text, p_trigger_node text, p_input jsonb,
                                              p_parent uuid DEFAULT NULL, p_created_by uuid DEFAULT NULL,
                                              p_status text DEFAULT 'queued', p_id uuid DEFAULT NULL)
RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
  eid uuid;
BEGIN
  INSERT INTO glyphic.executions (id, org_id, workflow_id, version, definition, trigger, trigger_node, input,
                                  parent_id, created_by, status, started_at)
  VALUES (coalesce(p_id, gen_random_uuid()), p_org, p_workflow, p_version, p_definition, p_trigger, p_trigger_node,
          coalesce(p_input, '[]'),
          p_parent, p_created_by, p_status, CASE WHEN p_status = 'running' THEN now() END)
  RETURNING id INTO eid;
  IF p_status = 'queued' THEN
    IF glyphic.rls_trusted() THEN
      PERFORM glyphic.enqueue_trusted('workflow.run', jsonb_build_object('execution_id', eid), p_org, NULL, 5);
    ELSE
      PERFORM glyphic.enqueue('workflow.run', jsonb_build_object('execution_id', eid), 'default', p_org,
                              0::smallint, NULL, 5);
    END IF;
  END IF;
  RETURN eid;
END
$$;

---------------------------------------------------------------------------
-- Privileges
---------------------------------------------------------------------------

-- 001's default privileges granted EXECUTE on everything above to the app
-- and executor roles: take back what they must not call.
REVOKE EXECUTE ON FUNCTION glyphic.setting(text), glyphic.sync_settings(jsonb), glyphic.email_digest(text),
  glyphic.ctx_write(uuid, uuid, uuid[], uuid[], uuid[]), glyphic.ctx_set_org(uuid),
  glyphic.set_context(uuid, uuid), glyphic.enter(uuid, uuid, boolean),
  glyphic.mcf_decoy(text), glyphic.login_wait(text, inet),
  glyphic.session_start(uuid, bytea, integer, inet, text),
  glyphic.wf_starter(uuid), glyphic.exec_starter(uuid), glyphic.wf_readable_by(uuid, uuid),
  glyphic.enqueue_trusted(text, jsonb, uuid, timestamptz, integer)
  FROM PUBLIC, glyphic_app, glyphic_executor;
-- the executor starts children and error workflows (exec_error_workflow
-- runs as the executor, from exec_finish)
GRANT EXECUTE ON FUNCTION glyphic.exec_starter(uuid), glyphic.wf_readable_by(uuid, uuid),
  glyphic.wf_starter(uuid), glyphic.enqueue_trusted(text, jsonb, uuid, timestamptz, integer),
  glyphic.setting(text)
  TO glyphic_executor;
-- the log-in and account functions are the app's; the executor has no use
REVOKE EXECUTE ON FUNCTION glyphic.login_settings(text, inet), glyphic.login(text, inet, text, bytea, integer, text),
  glyphic.my_password_settings(inet), glyphic.set_my_password(text, text, uuid, boolean, inet),
  glyphic.signup(text, text, text, text, bytea, inet, bytea, integer, text),
  glyphic.accept_invitation(bytea, inet), glyphic.create_org(text, inet)
  FROM PUBLIC, glyphic_executor;

-- pg_temp last in every SECURITY DEFINER function's search_path (when it
-- is not named, PostgreSQL searches it first for tables). All of them,
-- whatever their signature, including those later migrations replace.
DO $$
DECLARE
  f regprocedure;
BEGIN
  FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
            WHERE p.pronamespace = 'glyphic'::regnamespace AND p.prosecdef LOOP
    EXECUTE format('ALTER FUNCTION %s SET search_path = glyphic, pg_temp', f);
  END LOOP;
END
$$;
