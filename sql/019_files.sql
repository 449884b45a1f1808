-- 019_files: metadata of the files an org stores (uploads through
-- POST /api/files now; the binary properties of items, webhook uploads and
-- node downloads later). The bytes live on disk, content-addressed:
-- files.dir/<org_id>/<first 2 hex of sha256>/<sha256 hex>, written once per
-- (org, sha256) however many rows name them (core/filestore.c).
--
-- A row is one named reference to a content: many rows may name the same
-- (org_id, sha256). An org's usage is the sum of the sizes of its distinct
-- contents (glyphic.files_usage). A content whose last row is gone is left
-- on disk until the garbage collector (`glyphic files gc`, the elected
-- maintainer) removes it; gc and every writer take the org's files lock
-- (pg_advisory_xact_lock(hashtextextended('glyphic.files:' || org_id, 0)))
-- around "is it referenced" and the rename or unlink, so gc never removes a
-- content a committing upload is about to name.
--
-- execution_id names the execution that owns the file (NULL: uploaded
-- through the API, kept until deleted); when retention deletes the
-- execution its rows go with it, and the content with its last row.
--
-- Every member reads the org's files; editors, admins and owners upload
-- and delete them. Rows are never updated by the app.
SET LOCAL ROLE glyphic_owner;

CREATE TABLE glyphic.files (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id       uuid NOT NULL REFERENCES glyphic.orgs ON DELETE CASCADE,
  sha256       bytea NOT NULL CHECK (octet_length(sha256) = 32),
  size         bigint NOT NULL CHECK (size >= 0),
  -- both end up in response headers: printable, no line breaks
  mime_type    text NOT NULL CHECK (mime_type ~ '^[ -~]{1,255}$'),
  file_name    text NOT NULL CHECK (length(file_name) BETWEEN 1 AND 255 AND file_name !~ '[[:cntrl:]/\\]'),
  created_by   uuid REFERENCES glyphic.users ON DELETE SET NULL,
  execution_id uuid REFERENCES glyphic.executions ON DELETE CASCADE,
  created_at   timestamptz NOT NULL DEFAULT now()
);
-- usage, "is this content still named", and the list's order
CREATE INDEX files_content ON glyphic.files (org_id, sha256);
CREATE INDEX files_list ON glyphic.files (org_id, created_at DESC, id DESC);
CREATE INDEX files_execution ON glyphic.files (execution_id) WHERE execution_id IS NOT NULL;

ALTER TABLE glyphic.files ENABLE ROW LEVEL SECURITY;
ALTER TABLE glyphic.files FORCE ROW LEVEL SECURITY;
CREATE POLICY files_trusted ON glyphic.files USING ((SELECT glyphic.rls_trusted()));
CREATE POLICY files_read ON glyphic.files FOR SELECT
  USING (org_id = (SELECT glyphic.current_org_id()) AND org_id = ANY ((SELECT glyphic.my_org_ids())::uuid[]));
CREATE POLICY files_create ON glyphic.files FOR INSERT
  WITH CHECK (org_id = (SELECT glyphic.current_org_id()) AND org_id = ANY ((SELECT glyphic.my_editor_org_ids())::uuid[])
              AND created_by = (SELECT glyphic.current_user_id()) AND execution_id IS NULL);
CREATE POLICY files_delete ON glyphic.files FOR DELETE
  USING (org_id = (SELECT glyphic.current_org_id()) AND org_id = ANY ((SELECT glyphic.my_editor_org_ids())::uuid[]));
-- the app role inserts, reads and deletes, never updates; the executor
-- (trusted) reads and inserts (an execution's files) and deletes nothing
-- itself (its executions' rows go with them)
REVOKE UPDATE, TRUNCATE ON glyphic.files FROM glyphic_app;
REVOKE UPDATE, DELETE, TRUNCATE ON glyphic.files FROM glyphic_executor;
GRANT SELECT, INSERT ON glyphic.files TO glyphic_executor;

-- What an org stores: bytes counts each distinct content once (the disk
-- holds it once), count is the number of rows (files as the API lists them).
CREATE FUNCTION glyphic.files_usage(p_org uuid, OUT bytes bigint, OUT count bigint)
LANGUAGE sql STABLE AS $$
  SELECT (SELECT coalesce(sum(c.size), 0)::bigint
          FROM (SELECT DISTINCT ON (f.sha256) f.size FROM glyphic.files f WHERE f.org_id = p_org
                ORDER BY f.sha256) c),
         (SELECT count(*) FROM glyphic.files f WHERE f.org_id = p_org)
$$;
