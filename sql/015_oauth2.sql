-- 015_oauth2: the pending authorizations of the OAuth2 code flow.
--
-- GET /api/oauth2/start?credential=ID sends the browser to the provider
-- with a random `state` and a PKCE challenge; GET /api/oauth2/callback
-- comes back with the state and a code. Between the two, a row here holds
-- what the callback needs and may trust:
--
--   state_hash    SHA-256 of the state (the state itself is never stored)
--   session_id    the browser session that started it: the callback must
--                 come with the same session
--   user_id, org_id, credential_id
--                 who connects which credential (the credential must be in
--                 that org; the row goes when the credential does)
--   verifier      the PKCE code verifier, sealed by glyphic-fcgi with the
--                 vault (core/vault.h) bound to the org, the credential and
--                 the field name "oauth2.verifier" (no credential field can
--                 be called that), under the key key_id: the callback sends
--                 it to the token endpoint, so it is kept recoverable, never
--                 in clear
--   redirect_uri  the callback URL sent to the provider, which the token
--                 request must repeat
--   expires_at    ten minutes after the start
--
-- A state is single use: the callback deletes its row in the request's
-- transaction. Rows end with their session, user, org or credential, and
-- each start deletes its user's expired rows and keeps at most 20.
--
-- Visibility: a user sees and deletes only their own rows; a row is made
-- only by an editor of the request's org, for the user themselves and one
-- of their own sessions. Nobody updates a row. The executor has no use for
-- the table.
SET LOCAL ROLE glyphic_owner;

CREATE TABLE glyphic.oauth2_states (
  state_hash    bytea PRIMARY KEY CHECK (length(state_hash) = 32),
  session_id    uuid NOT NULL REFERENCES glyphic.sessions ON DELETE CASCADE,
  user_id       uuid NOT NULL REFERENCES glyphic.users ON DELETE CASCADE,
  org_id        uuid NOT NULL,
  credential_id uuid NOT NULL,
  verifier      text NOT NULL CHECK (length(verifier) BETWEEN 1 AND 200),
  key_id        text NOT NULL CHECK (key_id ~ '^[0-9a-f]{16}$'),
  redirect_uri  text NOT NULL CHECK (length(redirect_uri) BETWEEN 1 AND 2048),
  created_at    timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL,
  FOREIGN KEY (credential_id, org_id) REFERENCES glyphic.credentials (id, org_id) ON DELETE CASCADE
);
CREATE INDEX oauth2_states_user ON glyphic.oauth2_states (user_id, created_at);
CREATE INDEX oauth2_states_session ON glyphic.oauth2_states (session_id);
CREATE INDEX oauth2_states_credential ON glyphic.oauth2_states (credential_id);

ALTER TABLE glyphic.oauth2_states ENABLE ROW LEVEL SECURITY;
ALTER TABLE glyphic.oauth2_states FORCE ROW LEVEL SECURITY;
CREATE POLICY oauth2_states_trusted ON glyphic.oauth2_states USING ((SELECT glyphic.rls_trusted()));
CREATE POLICY oauth2_states_read ON glyphic.oauth2_states FOR SELECT
  USING (user_id = (SELECT glyphic.current_user_id()));
CREATE POLICY oauth2_states_create ON glyphic.oauth2_states FOR INSERT
  WITH CHECK (user_id = (SELECT glyphic.current_user_id())
              AND org_id = (SELECT glyphic.current_org_id())
              AND org_id = ANY ((SELECT glyphic.my_editor_org_ids())::uuid[])
              -- one of the user's own sessions (sessions are visible only to their user)
              AND EXISTS (SELECT 1 FROM glyphic.sessions s
                           WHERE s.id = session_id AND s.user_id = (SELECT glyphic.current_user_id())));
CREATE POLICY oauth2_states_delete ON glyphic.oauth2_states FOR DELETE
  USING (user_id = (SELECT glyphic.current_user_id()));
REVOKE UPDATE, TRUNCATE ON glyphic.oauth2_states FROM glyphic_app;
REVOKE ALL ON glyphic.oauth2_states FROM glyphic_executor;
