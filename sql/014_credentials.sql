-- 014_credentials: the credentials vault.
--
-- A credential belongs to an org and is named (unique in the org: workflow
-- definitions, exports and imports refer to it by name). Its non-secret
-- fields are plain jsonb; each secret field is sealed on its own by the
-- programs (core/vault.c: XChaCha20-Poly1305 under a master key read from a
-- file the database never sees, bound to org id, credential id, key id and
-- field name) and stored in `secrets` as {field: base64(nonce || ciphertext)}.
-- `key_id` says which master key sealed every field of the row; rotation
-- (`glyphic rotate-key`) re-seals rows whose key_id is not the new key's.
-- The database holds no key: a dump, a replica or the app role's SELECT
-- shows ciphertext only.
--
-- Visibility: every member of the org sees the row (the API shows viewers
-- names and types only); editors create, change and delete. The org and the
-- creator of a row never change. The executor (trusted) reads any row and
-- writes what a token refresh changes.
--
-- workflow_versions.credentials lists the credential names a version's
-- nodes reference (gl_engine_credential_names, computed by the handler that
-- saves the version), so deleting a credential can name the workflows that
-- still use it without SQL knowing node types. Versions saved before this
-- file get it from the two parameters that could name a credential then
-- (http.request's `credential`, trigger.webhook's `secret`).
SET LOCAL ROLE glyphic_owner;

CREATE TABLE glyphic.credentials (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id           uuid NOT NULL REFERENCES glyphic.orgs ON DELETE CASCADE,
  name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  type             text NOT NULL CHECK (type ~ '^[a-z][a-z0-9_.]{0,63}$'),
  fields           jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(fields) = 'object'),
  secrets          jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(secrets) = 'object'),
  key_id           text CHECK (key_id ~ '^[0-9a-f]{16}$'),
  -- 'ok', or 'needs_reauth' after an OAuth2 refresh failed (status_detail says why)
  status           text NOT NULL DEFAULT 'ok' CHECK (status IN ('ok', 'needs_reauth')),
  status_detail    text CHECK (length(status_detail) <= 500),
  token_expires_at timestamptz,          -- OAuth2: when the sealed access token expires
  created_by       uuid REFERENCES glyphic.users ON DELETE SET NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, name),
  UNIQUE (id, org_id),
  -- a row with sealed fields says under which key
  CHECK (secrets = '{}' OR key_id IS NOT NULL)
);
-- rotation walks the rows not yet under the new key
CREATE INDEX credentials_key ON glyphic.credentials (key_id);

ALTER TABLE glyphic.credentials ENABLE ROW LEVEL SECURITY;
ALTER TABLE glyphic.credentials FORCE ROW LEVEL SECURITY;
CREATE POLICY credentials_trusted ON glyphic.credentials USING ((SELECT glyphic.rls_trusted()));
CREATE POLICY credentials_read ON glyphic.credentials FOR SELECT
  USING (org_id = (SELECT glyphic.current_org_id()) AND org_id = ANY ((SELECT glyphic.my_org_ids())::uuid[]));
CREATE POLICY credentials_create ON glyphic.credentials FOR INSERT
  WITH CHECK (org_id = (SELECT glyphic.current_org_id()) AND org_id = ANY ((SELECT glyphic.my_editor_org_ids())::uuid[])
              AND created_by = (SELECT glyphic.current_user_id()));
CREATE POLICY credentials_edit ON glyphic.credentials FOR UPDATE
  USING (org_id = (SELECT glyphic.current_org_id()) AND org_id = ANY ((SELECT glyphic.my_editor_org_ids())::uuid[]))
  WITH CHECK (org_id = (SELECT glyphic.current_org_id()) AND org_id = ANY ((SELECT glyphic.my_editor_org_ids())::uuid[]));
CREATE POLICY credentials_delete ON glyphic.credentials FOR DELETE
  USING (org_id = (SELECT glyphic.current_org_id()) AND org_id = ANY ((SELECT glyphic.my_editor_org_ids())::uuid[]));
-- the app role changes only these columns (never id, org_id, type or created_by)
REVOKE UPDATE ON glyphic.credentials FROM glyphic_app;
GRANT UPDATE (name, fields, secrets, key_id, status, status_detail, token_expires_at, updated_at)
  ON glyphic.credentials TO glyphic_app;
-- the executor refreshes tokens and re-seals; it never creates or deletes
REVOKE INSERT, DELETE ON glyphic.credentials FROM glyphic_executor;
REVOKE UPDATE ON glyphic.credentials FROM glyphic_executor;
GRANT UPDATE (secrets, key_id, status, status_detail, token_expires_at, updated_at)
  ON glyphic.credentials TO glyphic_executor;

ALTER TABLE glyphic.workflow_versions ADD COLUMN credentials text[];
-- (the app role may insert versions; 003 revoked UPDATE and DELETE)
ALTER TABLE glyphic.workflow_versions DISABLE TRIGGER USER;
UPDATE glyphic.workflow_versions v
   SET credentials = coalesce((
         SELECT array_agg(DISTINCT p.value ORDER BY p.value)
           FROM jsonb_array_elements(CASE WHEN jsonb_typeof(v.definition->'nodes') = 'array'
                                          THEN v.definition->'nodes' ELSE '[]' END) n,
                LATERAL (SELECT n->'params'->>'credential' AS value
                         UNION ALL SELECT n->'params'->>'secret') p
          WHERE jsonb_typeof(n->'params') = 'object' AND p.value IS NOT NULL AND p.value <> ''), '{}');
ALTER TABLE glyphic.workflow_versions ENABLE TRIGGER USER;

-- The workflows of the request's org whose current or active version uses
-- the credential named p_name, with their names when the request's user may
-- see them (NULL otherwise: the count still says they exist). For
-- DELETE /api/credentials/{id}, which answers 409 with this list.
CREATE FUNCTION glyphic.cred_used_by(p_name text)
RETURNS TABLE (workflow_id uuid, name text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = glyphic, pg_temp AS $$
  SELECT w.id,
         CASE WHEN w.org_id = ANY (glyphic.my_admin_org_ids()) OR w.created_by = glyphic.current_user_id()
                   OR glyphic.wf_shared_with_me(w.id, false) THEN w.name END
    FROM glyphic.workflows w
   WHERE w.org_id = glyphic.current_org_id() AND w.org_id = ANY (glyphic.my_org_ids()) AND w.deleted_at IS NULL
     AND EXISTS (SELECT 1 FROM glyphic.workflow_versions v
                  WHERE v.workflow_id = w.id AND v.version IN (w.current_version, w.active_version)
                    AND p_name = ANY (v.credentials))
   ORDER BY w.name, w.id
$$;

REVOKE EXECUTE ON FUNCTION glyphic.cred_used_by(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION glyphic.cred_used_by(text) TO glyphic_app;
