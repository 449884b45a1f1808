-- 018_variables: the org's variables, read in expressions as $vars (n8n's
-- custom variables). A variable is a key (letters, digits and '_', 1 to 50
-- characters, unique in the org) and a text value of at most 1000
-- characters, as n8n allows. They are plain configuration, not secrets:
-- every member of the org reads them (credentials hold secrets); editors,
-- admins and owners create, change and delete them. An org keeps at most
-- 1000 (the API refuses more). The executor (trusted) reads the variables
-- of the execution's org.
SET LOCAL ROLE glyphic_owner;

CREATE TABLE glyphic.variables (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id      uuid NOT NULL REFERENCES glyphic.orgs ON DELETE CASCADE,
  key         text NOT NULL CHECK (key ~ '^[A-Za-z0-9_]{1,50}$'),
  value       text NOT NULL CHECK (length(value) <= 1000),
  created_by  uuid REFERENCES glyphic.users ON DELETE SET NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, key)
);

ALTER TABLE glyphic.variables ENABLE ROW LEVEL SECURITY;
ALTER TABLE glyphic.variables FORCE ROW LEVEL SECURITY;
CREATE POLICY variables_trusted ON glyphic.variables USING ((SELECT glyphic.rls_trusted()));
CREATE POLICY variables_read ON glyphic.variables FOR SELECT
  USING (org_id = (SELECT glyphic.current_org_id()) AND org_id = ANY ((SELECT glyphic.my_org_ids())::uuid[]));
CREATE POLICY variables_create ON glyphic.variables FOR INSERT
  WITH CHECK (org_id = (SELECT glyphic.current_org_id()) AND org_id = ANY ((SELECT glyphic.my_editor_org_ids())::uuid[])
              AND created_by = (SELECT glyphic.current_user_id()));
CREATE POLICY variables_edit ON glyphic.variables FOR UPDATE
  USING (org_id = (SELECT glyphic.current_org_id()) AND org_id = ANY ((SELECT glyphic.my_editor_org_ids())::uuid[]))
  WITH CHECK (org_id = (SELECT glyphic.current_org_id()) AND org_id = ANY ((SELECT glyphic.my_editor_org_ids())::uuid[]));
CREATE POLICY variables_delete ON glyphic.variables FOR DELETE
  USING (org_id = (SELECT glyphic.current_org_id()) AND org_id = ANY ((SELECT glyphic.my_editor_org_ids())::uuid[]));
-- the app role changes only these columns (never org_id or created_by);
-- the executor only reads
REVOKE UPDATE ON glyphic.variables FROM glyphic_app;
GRANT UPDATE (key, value, updated_at) ON glyphic.variables TO glyphic_app;
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON glyphic.variables FROM glyphic_executor;
GRANT SELECT ON glyphic.variables TO glyphic_executor;
