-- 002_accounts: users, orgs, memberships, sessions, API keys, invitations,
-- login attempts, the audit log, and row level security over all of them.
--
-- Request context: glyphic-fcgi authenticates each request through
-- auth_session() / auth_api_key() below, which set the transaction-local
-- settings glyphic.user_id and glyphic.org_id. Policies read them through
-- current_user_id() / current_org_id(). The app role (glyphic_app) owns
-- nothing and has no BYPASSRLS, so a query that forgets its WHERE clause
-- still sees only the rows of the user's orgs.
--
-- Privileged steps (sign-up, log-in, session and key lookup, accepting an
-- invitation) are SECURITY DEFINER functions owned by glyphic_owner; the
-- policies let the owner and the executor role through (rls_trusted()).
SET LOCAL ROLE glyphic_owner;

CREATE FUNCTION glyphic.current_user_id() RETURNS uuid
LANGUAGE sql STABLE AS $$ SELECT nullif(current_setting('glyphic.user_id', true), '')::uuid $$;

CREATE FUNCTION glyphic.current_org_id() RETURNS uuid
LANGUAGE sql STABLE AS $$ SELECT nullif(current_setting('glyphic.org_id', true), '')::uuid $$;

CREATE FUNCTION glyphic.rls_trusted() RETURNS boolean
LANGUAGE sql STABLE AS $$ SELECT current_user IN ('glyphic_owner', 'glyphic_executor') $$;

CREATE TABLE glyphic.orgs (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE glyphic.users (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email         text NOT NULL UNIQUE CHECK (email = lower(btrim(email)) AND length(email) <= 254),
  name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  password_hash text NOT NULL,
  prefs         jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(prefs) = 'object'),
  active_org_id uuid REFERENCES glyphic.orgs ON DELETE SET NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  password_changed_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE glyphic.memberships (
  org_id     uuid NOT NULL REFERENCES glyphic.orgs ON DELETE CASCADE,
  user_id    uuid NOT NULL REFERENCES glyphic.users ON DELETE CASCADE,
  role       text NOT NULL CHECK (role IN ('owner', 'admin', 'editor', 'viewer')),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, user_id)
);
CREATE INDEX memberships_user ON glyphic.memberships (user_id);

CREATE TABLE glyphic.sessions (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  token_hash   bytea NOT NULL UNIQUE,
  user_id      uuid NOT NULL REFERENCES glyphic.users ON DELETE CASCADE,
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,
  ip           inet,
  user_agent   text
);
CREATE INDEX sessions_user ON glyphic.sessions (user_id);

CREATE TABLE glyphic.api_keys (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id       uuid NOT NULL REFERENCES glyphic.orgs ON DELETE CASCADE,
  user_id      uuid NOT NULL REFERENCES glyphic.users ON DELETE CASCADE,
  name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  prefix       text NOT NULL UNIQUE,
  key_hash     bytea NOT NULL UNIQUE,
  scopes       text[] NOT NULL CHECK (scopes <@ ARRAY['read', 'write', 'admin'] AND cardinality(scopes) > 0),
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz,
  last_used_at timestamptz,
  revoked_at   timestamptz
);
CREATE INDEX api_keys_org ON glyphic.api_keys (org_id);

CREATE TABLE glyphic.invitations (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id      uuid NOT NULL REFERENCES glyphic.orgs ON DELETE CASCADE,
  email       text NOT NULL,
  role        text NOT NULL CHECK (role IN ('owner', 'admin', 'editor', 'viewer')),
  token_hash  bytea NOT NULL UNIQUE,
  invited_by  uuid REFERENCES glyphic.users ON DELETE SET NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  accepted_at timestamptz,
  accepted_by uuid REFERENCES glyphic.users ON DELETE SET NULL
);
CREATE INDEX invitations_org ON glyphic.invitations (org_id);

-- Failed and successful log-ins, counted per account and per address.
CREATE TABLE glyphic.login_attempts (
  id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email   text NOT NULL,
  ip      inet,
  success boolean NOT NULL,
  at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_attempts_email ON glyphic.login_attempts (email, at) WHERE NOT success;
CREATE INDEX login_attempts_ip ON glyphic.login_attempts (ip, at) WHERE NOT success;

CREATE TABLE glyphic.audit_log (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  org_id      uuid REFERENCES glyphic.orgs ON DELETE CASCADE,
  actor_id    uuid REFERENCES glyphic.users ON DELETE SET NULL,
  action      text NOT NULL,
  target_type text,
  target_id   text,
  ip          inet,
  details     jsonb NOT NULL DEFAULT '{}',
  at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_org ON glyphic.audit_log (org_id, id DESC);

-- The orgs the request's user belongs to, as set by set_context() at
-- authentication (transaction-local, like glyphic.user_id). Policies compare
-- against this list instead of querying memberships on every row check: one
-- membership read per request instead of one per policy evaluation. Policies
-- call these helpers as (SELECT f()) so each is evaluated once per query,
-- not once per row.
CREATE FUNCTION glyphic.my_org_ids() RETURNS uuid[]
LANGUAGE sql STABLE AS $$
  SELECT coalesce(nullif(current_setting('glyphic.org_ids', true), ''), '{}')::uuid[]
$$;

-- The subsets where the user is an editor or more, and an admin or more.
CREATE FUNCTION glyphic.my_editor_org_ids() RETURNS uuid[]
LANGUAGE sql STABLE AS $$
  SELECT coalesce(nullif(current_setting('glyphic.editor_org_ids', true), ''), '{}')::uuid[]
$$;

CREATE FUNCTION glyphic.my_admin_org_ids() RETURNS uuid[]
LANGUAGE sql STABLE AS $$
  SELECT coalesce(nullif(current_setting('glyphic.admin_org_ids', true), ''), '{}')::uuid[]
$$;

-- Policies per command: members read, admins write. Creating orgs and
-- memberships happens only in the SECURITY DEFINER functions below.
ALTER TABLE glyphic.orgs ENABLE ROW LEVEL SECURITY;
ALTER TABLE glyphic.orgs FORCE ROW LEVEL SECURITY;
CREATE POLICY orgs_trusted ON glyphic.orgs USING ((SELECT glyphic.rls_trusted()));
CREATE POLICY orgs_read ON glyphic.orgs FOR SELECT USING (id = ANY ((SELECT glyphic.my_org_ids())::uuid[]));
CREATE POLICY orgs_admin_update ON glyphic.orgs FOR UPDATE USING (id = ANY ((SELECT glyphic.my_admin_org_ids())::uuid[]));

ALTER TABLE glyphic.memberships ENABLE ROW LEVEL SECURITY;
ALTER TABLE glyphic.memberships FORCE ROW LEVEL SECURITY;
CREATE POLICY memberships_trusted ON glyphic.memberships USING ((SELECT glyphic.rls_trusted()));
CREATE POLICY memberships_read ON glyphic.memberships FOR SELECT USING (org_id = ANY ((SELECT glyphic.my_org_ids())::uuid[]));
CREATE POLICY memberships_admin_update ON glyphic.memberships FOR UPDATE USING (org_id = ANY ((SELECT glyphic.my_admin_org_ids())::uuid[]));
CREATE POLICY memberships_admin_or_self_delete ON glyphic.memberships FOR DELETE
  USING (org_id = ANY ((SELECT glyphic.my_admin_org_ids())::uuid[]) OR (org_id = ANY ((SELECT glyphic.my_org_ids())::uuid[]) AND user_id = (SELECT glyphic.current_user_id())));

-- Users see themselves and the members of their orgs; they change only
-- their own name, preferences and active org (column grants below): the
-- password hash is neither readable nor writable by the app role.
ALTER TABLE glyphic.users ENABLE ROW LEVEL SECURITY;
ALTER TABLE glyphic.users FORCE ROW LEVEL SECURITY;
CREATE POLICY users_trusted ON glyphic.users USING ((SELECT glyphic.rls_trusted()));
CREATE POLICY users_visible ON glyphic.users FOR SELECT
  USING (id = (SELECT glyphic.current_user_id()) OR EXISTS (SELECT 1 FROM glyphic.memberships m WHERE m.user_id = users.id));
CREATE POLICY users_self_update ON glyphic.users FOR UPDATE USING (id = (SELECT glyphic.current_user_id()));
REVOKE ALL ON glyphic.users FROM glyphic_app;
GRANT SELECT (id, email, name, prefs, active_org_id, created_at, password_changed_at) ON glyphic.users TO glyphic_app;
GRANT UPDATE (name, prefs, active_org_id) ON glyphic.users TO glyphic_app;

ALTER TABLE glyphic.sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE glyphic.sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY sessions_own ON glyphic.sessions
  USING ((SELECT glyphic.rls_trusted()) OR user_id = (SELECT glyphic.current_user_id()));

-- API keys: members see and manage their own; admins all of the org's.
ALTER TABLE glyphic.api_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE glyphic.api_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY api_keys_trusted ON glyphic.api_keys USING ((SELECT glyphic.rls_trusted()));
CREATE POLICY api_keys_own_or_admin ON glyphic.api_keys
  USING (org_id = ANY ((SELECT glyphic.my_admin_org_ids())::uuid[]) OR (org_id = ANY ((SELECT glyphic.my_org_ids())::uuid[]) AND user_id = (SELECT glyphic.current_user_id())))
  WITH CHECK (org_id = ANY ((SELECT glyphic.my_org_ids())::uuid[]) AND (user_id = (SELECT glyphic.current_user_id()) OR org_id = ANY ((SELECT glyphic.my_admin_org_ids())::uuid[])));

ALTER TABLE glyphic.invitations ENABLE ROW LEVEL SECURITY;
ALTER TABLE glyphic.invitations FORCE ROW LEVEL SECURITY;
CREATE POLICY invitations_admin ON glyphic.invitations
  USING ((SELECT glyphic.rls_trusted()) OR org_id = ANY ((SELECT glyphic.my_admin_org_ids())::uuid[]));

-- The audit log: admins read their orgs'; every member's actions append.
ALTER TABLE glyphic.audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE glyphic.audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_admin_read ON glyphic.audit_log FOR SELECT
  USING ((SELECT glyphic.rls_trusted()) OR org_id = ANY ((SELECT glyphic.my_admin_org_ids())::uuid[]));
CREATE POLICY audit_append ON glyphic.audit_log FOR INSERT
  WITH CHECK ((SELECT glyphic.rls_trusted()) OR org_id IS NULL OR org_id = ANY ((SELECT glyphic.my_org_ids())::uuid[]));

ALTER TABLE glyphic.login_attempts ENABLE ROW LEVEL SECURITY;
ALTER TABLE glyphic.login_attempts FORCE ROW LEVEL SECURITY;
CREATE POLICY login_attempts_trusted ON glyphic.login_attempts USING ((SELECT glyphic.rls_trusted()));
-- the audit log is append-only for the programs; log-in attempts go through functions
REVOKE UPDATE, DELETE ON glyphic.audit_log FROM glyphic_app;
REVOKE ALL ON glyphic.login_attempts FROM glyphic_app;

-- Sets the request context for the rest of the transaction: the user, the
-- org the request works in, and the orgs the user belongs to.
CREATE FUNCTION glyphic.set_context(p_user uuid, p_org uuid) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = glyphic AS $$
  SELECT set_config('glyphic.user_id', coalesce(p_user::text, ''), true),
         set_config('glyphic.org_id', coalesce(p_org::text, ''), true),
         set_config('glyphic.org_ids',
                    coalesce((SELECT array_agg(m.org_id)::text FROM glyphic.memberships m
                              WHERE m.user_id = p_user), '{}'), true),
         set_config('glyphic.editor_org_ids',
                    coalesce((SELECT array_agg(m.org_id)::text FROM glyphic.memberships m
                              WHERE m.user_id = p_user AND m.role IN ('owner', 'admin', 'editor')), '{}'), true),
         set_config('glyphic.admin_org_ids',
                    coalesce((SELECT array_agg(m.org_id)::text FROM glyphic.memberships m
                              WHERE m.user_id = p_user AND m.role IN ('owner', 'admin')), '{}'), true)
$$;

-- Sets the context from a user's memberships in one pass: their orgs, and
-- the org the request works in — the one asked for (if the user belongs to
-- it), else the user's active org, else the first org they joined. Returns
-- that org and the user's role there (NULLs when there is none). With
-- p_only (API keys), the context holds the wanted org alone: a key never
-- reaches its maker's other orgs.
CREATE FUNCTION glyphic.enter(p_user uuid, p_wanted uuid, p_only boolean, OUT org_id uuid, OUT role text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = glyphic AS $$
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
  PERFORM set_config('glyphic.user_id', p_user::text, true),
          set_config('glyphic.org_id', coalesce(org_id::text, ''), true),
          set_config('glyphic.org_ids', coalesce(array_remove(ids, NULL)::text, '{}'), true),
          set_config('glyphic.editor_org_ids', coalesce(editor_ids::text, '{}'), true),
          set_config('glyphic.admin_org_ids', coalesce(admin_ids::text, '{}'), true);
END
$$;

-- Authenticates a session token (its SHA-256) and sets the request context.
-- Idle sessions (last seen more than p_idle_seconds ago) and sessions past
-- their absolute expiry are deleted and yield no row. last_seen_at is
-- written at most once a minute.
CREATE FUNCTION glyphic.auth_session(p_token_hash bytea, p_wanted_org uuid, p_idle_seconds integer)
RETURNS TABLE (session_id uuid, user_id uuid, org_id uuid, role text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = glyphic AS $$
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
CREATE FUNCTION glyphic.auth_api_key(p_key_hash bytea)
RETURNS TABLE (key_id uuid, user_id uuid, org_id uuid, role text, scopes text[])
LANGUAGE plpgsql SECURITY DEFINER SET search_path = glyphic AS $$
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

-- Log-in throttle: failures for the account and for the address in the
-- window. Returns the seconds until the oldest counted failure leaves the
-- window once a limit is reached, else 0.
CREATE FUNCTION glyphic.login_blocked(p_email text, p_ip inet, p_window integer,
                                      p_max_account integer, p_max_ip integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = glyphic AS $$
DECLARE
  since timestamptz := now() - make_interval(secs => p_window);
  n_acct integer; n_ip integer; oldest timestamptz;
BEGIN
  -- one attempt per account at a time (until this transaction ends), so
  -- parallel guesses cannot all pass the count before any is recorded
  PERFORM pg_advisory_xact_lock(hashtext('glyphic.login:' || p_email));
  SELECT count(*), min(at) INTO n_acct, oldest FROM glyphic.login_attempts
   WHERE email = p_email AND NOT success AND at > since;
  IF n_acct >= p_max_account THEN
    RETURN greatest(1, ceil(extract(epoch FROM oldest + make_interval(secs => p_window) - now())))::integer;
  END IF;
  IF p_ip IS NOT NULL THEN
    SELECT count(*), min(at) INTO n_ip, oldest FROM glyphic.login_attempts
     WHERE ip = p_ip AND NOT success AND at > since;
    IF n_ip >= p_max_ip THEN
      RETURN greatest(1, ceil(extract(epoch FROM oldest + make_interval(secs => p_window) - now())))::integer;
    END IF;
  END IF;
  RETURN 0;
END
$$;

-- The stored hash for a log-in (NULL user when there is no such account).
CREATE FUNCTION glyphic.login_lookup(p_email text)
RETURNS TABLE (user_id uuid, password_hash text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = glyphic AS $$
  SELECT id, password_hash FROM glyphic.users WHERE email = p_email
$$;

-- Records a log-in attempt (and, on success, starts the session).
CREATE FUNCTION glyphic.login_record(p_email text, p_ip inet, p_user uuid, p_success boolean,
                                     p_token_hash bytea, p_lifetime integer, p_user_agent text)
RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = glyphic AS $$
DECLARE
  sid uuid;

BEGIN
  INSERT INTO glyphic.login_attempts (email, ip, success) VALUES (p_email, p_ip, p_success);
  IF p_success THEN
    INSERT INTO glyphic.sessions (token_hash, user_id, expires_at, ip, user_agent)
    VALUES (p_token_hash, p_user, now() + make_interval(secs => p_lifetime), p_ip, p_user_agent)
    RETURNING id INTO sid;
    PERFORM glyphic.enter(p_user, NULL, false);
    -- one row per org the user belongs to, so each org's admins see it
    INSERT INTO glyphic.audit_log (org_id, actor_id, action, target_type, target_id, ip)
    SELECT m.org_id, p_user, 'auth.login', 'user', p_user::text, p_ip
      FROM glyphic.memberships m WHERE m.user_id = p_user;
  ELSE
    INSERT INTO glyphic.audit_log (org_id, actor_id, action, target_type, target_id, ip, details)
    SELECT m.org_id, NULL, 'auth.login_failed', 'user', p_user::text, p_ip, '{}'
      FROM glyphic.memberships m WHERE m.user_id = p_user;
    IF p_user IS NULL THEN
      INSERT INTO glyphic.audit_log (org_id, action, target_type, ip, details)
      VALUES (NULL, 'auth.login_failed', 'email', p_ip, jsonb_build_object('email', p_email));
    END IF;
  END IF;
  RETURN sid;
END
$$;

-- The signed-in user's password hash (the app role cannot read the column).
CREATE FUNCTION glyphic.my_password_hash() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = glyphic AS $$
  SELECT password_hash FROM glyphic.users WHERE id = glyphic.current_user_id()
$$;

-- Sets the signed-in user's password hash and ends their other sessions.
CREATE FUNCTION glyphic.set_my_password(p_hash text, p_keep_session uuid) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = glyphic AS $$
  UPDATE glyphic.users SET password_hash = p_hash, password_changed_at = now()
   WHERE id = glyphic.current_user_id();
  DELETE FROM glyphic.sessions
   WHERE user_id = glyphic.current_user_id() AND id IS DISTINCT FROM p_keep_session;
$$;

-- Sign-up: creates the user; with an invitation token (its SHA-256) joins
-- that org, else creates a new org owned by the user. p_open: whether
-- sign-up without an invitation is allowed (the very first user of an
-- installation may always sign up). Raises unique_violation for a taken
-- email and 'P0002' (no_data_found) for a bad invitation.
CREATE FUNCTION glyphic.signup(p_email text, p_name text, p_password_hash text, p_org_name text,
                               p_invite_hash bytea, p_open boolean, p_ip inet)
RETURNS TABLE (user_id uuid, org_id uuid, role text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = glyphic AS $$
DECLARE
  uid uuid; oid uuid; r text; inv glyphic.invitations%ROWTYPE;
BEGIN
  IF p_invite_hash IS NOT NULL THEN
    SELECT * INTO inv FROM glyphic.invitations
     WHERE token_hash = p_invite_hash AND accepted_at IS NULL AND expires_at > now() FOR UPDATE;
    IF NOT FOUND OR inv.email IS DISTINCT FROM p_email THEN
      RAISE EXCEPTION 'invitation not found, expired, or for another email' USING ERRCODE = 'P0002';
    END IF;
  ELSIF NOT p_open AND EXISTS (SELECT 1 FROM glyphic.users) THEN
    RAISE EXCEPTION 'sign-up is by invitation only' USING ERRCODE = '42501';
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
  RETURN QUERY SELECT uid, oid, r;
END
$$;

-- Accepting an invitation as a signed-in user whose email it names.
CREATE FUNCTION glyphic.accept_invitation(p_user uuid, p_invite_hash bytea, p_ip inet)
RETURNS TABLE (org_id uuid, role text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = glyphic AS $$
DECLARE
  inv glyphic.invitations%ROWTYPE; em text;
BEGIN
  SELECT email INTO em FROM glyphic.users WHERE id = p_user;
  SELECT * INTO inv FROM glyphic.invitations
   WHERE token_hash = p_invite_hash AND accepted_at IS NULL AND expires_at > now() FOR UPDATE;
  IF NOT FOUND OR inv.email IS DISTINCT FROM em THEN
    RAISE EXCEPTION 'invitation not found, expired, or for another email' USING ERRCODE = 'P0002';
  END IF;
  IF EXISTS (SELECT 1 FROM glyphic.memberships m WHERE m.org_id = inv.org_id AND m.user_id = p_user) THEN
    RAISE EXCEPTION 'already a member' USING ERRCODE = '23505';
  END IF;
  INSERT INTO glyphic.memberships (org_id, user_id, role) VALUES (inv.org_id, p_user, inv.role);
  UPDATE glyphic.invitations SET accepted_at = now(), accepted_by = p_user WHERE id = inv.id;
  INSERT INTO glyphic.audit_log (org_id, actor_id, action, target_type, target_id, ip, details)
  VALUES (inv.org_id, p_user, 'member.join', 'user', p_user::text, p_ip, jsonb_build_object('role', inv.role));
  RETURN QUERY SELECT inv.org_id, inv.role;
END
$$;

-- Creating an org: the creator becomes its owner. Returns the org as JSON.
CREATE FUNCTION glyphic.create_org(p_user uuid, p_name text, p_ip inet) RETURNS json
LANGUAGE plpgsql SECURITY DEFINER SET search_path = glyphic AS $$
DECLARE o glyphic.orgs%ROWTYPE;
BEGIN
  INSERT INTO glyphic.orgs (name) VALUES (p_name) RETURNING * INTO o;
  INSERT INTO glyphic.memberships (org_id, user_id, role) VALUES (o.id, p_user, 'owner');
  INSERT INTO glyphic.audit_log (org_id, actor_id, action, target_type, target_id, ip)
  VALUES (o.id, p_user, 'org.create', 'org', o.id::text, p_ip);
  RETURN json_build_object('id', o.id, 'name', o.name, 'role', 'owner', 'created_at', o.created_at);
END
$$;

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA glyphic FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA glyphic TO glyphic_app, glyphic_executor;
