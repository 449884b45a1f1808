-- 003_workflows: workflows, their immutable versions, sharing, and the
-- webhook and schedule rows derived from an active workflow's triggers.
--
-- Visibility (enforced here, not only in handlers): org owners and admins
-- see every workflow of the org; other members see the workflows they
-- created and those shared with them. Editing needs the editor role or more
-- in the org, and either admin rights, authorship, or an editor share.
-- Versions are append-only: the app role may insert them, never change them.
SET LOCAL ROLE glyphic_owner;

CREATE TABLE glyphic.workflows (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id          uuid NOT NULL REFERENCES glyphic.orgs ON DELETE CASCADE,
  name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  tags            text[] NOT NULL DEFAULT '{}' CHECK (cardinality(tags) <= 20),
  active          boolean NOT NULL DEFAULT false,
  active_version  integer,
  current_version integer NOT NULL DEFAULT 1,
  created_by      uuid REFERENCES glyphic.users ON DELETE SET NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  deleted_at      timestamptz,
  UNIQUE (id, org_id)   -- lets dependent rows pin the workflow's org
);
CREATE INDEX workflows_org_updated ON glyphic.workflows (org_id, updated_at DESC, id DESC);
CREATE INDEX workflows_org_name ON glyphic.workflows (org_id, lower(name), id);
CREATE INDEX workflows_tags ON glyphic.workflows USING gin (tags);

CREATE TABLE glyphic.workflow_versions (
  workflow_id   uuid NOT NULL,
  version       integer NOT NULL CHECK (version > 0),
  org_id        uuid NOT NULL,
  definition    jsonb NOT NULL,
  author_id     uuid REFERENCES glyphic.users ON DELETE SET NULL,
  message       text CHECK (length(message) <= 500),
  restored_from integer,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workflow_id, version),
  FOREIGN KEY (workflow_id, org_id) REFERENCES glyphic.workflows (id, org_id) ON DELETE CASCADE
);

CREATE TABLE glyphic.workflow_shares (
  workflow_id uuid NOT NULL,
  org_id      uuid NOT NULL,
  user_id     uuid NOT NULL REFERENCES glyphic.users ON DELETE CASCADE,
  role        text NOT NULL CHECK (role IN ('viewer', 'editor')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workflow_id, user_id),
  FOREIGN KEY (workflow_id, org_id) REFERENCES glyphic.workflows (id, org_id) ON DELETE CASCADE
);
CREATE INDEX workflow_shares_user ON glyphic.workflow_shares (user_id);

-- /hooks/<path> is one URL space for the whole installation: a path belongs
-- to at most one active workflow.
CREATE TABLE glyphic.webhooks (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id      uuid NOT NULL,
  workflow_id uuid NOT NULL,
  version     integer NOT NULL,
  node_id     text NOT NULL,
  path        text NOT NULL UNIQUE,
  method      text NOT NULL,
  mode        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (workflow_id, org_id) REFERENCES glyphic.workflows (id, org_id) ON DELETE CASCADE
);
CREATE INDEX webhooks_workflow ON glyphic.webhooks (workflow_id);

CREATE TABLE glyphic.schedules (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id      uuid NOT NULL,
  workflow_id uuid NOT NULL,
  version     integer NOT NULL,
  node_id     text NOT NULL,
  cron        text NOT NULL,
  timezone    text NOT NULL,
  next_run_at timestamptz,            -- computed by the executor (engine issue)
  created_at  timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (workflow_id, org_id) REFERENCES glyphic.workflows (id, org_id) ON DELETE CASCADE
);
CREATE INDEX schedules_workflow ON glyphic.schedules (workflow_id);
CREATE INDEX schedules_due ON glyphic.schedules (next_run_at);

CREATE FUNCTION glyphic.wf_shared_with_me(p_workflow uuid, p_editor boolean) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = glyphic AS $$
  SELECT EXISTS (SELECT 1 FROM glyphic.workflow_shares s
                  WHERE s.workflow_id = p_workflow AND s.user_id = glyphic.current_user_id()
                    AND (NOT p_editor OR s.role = 'editor'))
$$;

-- May the request's user change this workflow? (The workflows_edit rule,
-- for the SECURITY DEFINER functions that must check it themselves.)
CREATE FUNCTION glyphic.wf_can_edit(p_workflow uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = glyphic AS $$
  SELECT EXISTS (SELECT 1 FROM glyphic.workflows w
                  WHERE w.id = p_workflow AND w.org_id = glyphic.current_org_id()
                    AND w.org_id = ANY (glyphic.my_editor_org_ids())
                    AND (w.org_id = ANY (glyphic.my_admin_org_ids()) OR w.created_by = glyphic.current_user_id()
                         OR glyphic.wf_shared_with_me(w.id, true)))
$$;

-- Workflows live in the request's org: one of another org (even one the
-- user belongs to) is not visible until the request works in that org.
ALTER TABLE glyphic.workflows ENABLE ROW LEVEL SECURITY;
ALTER TABLE glyphic.workflows FORCE ROW LEVEL SECURITY;
CREATE POLICY workflows_trusted ON glyphic.workflows USING ((SELECT glyphic.rls_trusted()));
CREATE POLICY workflows_read ON glyphic.workflows FOR SELECT
  USING (org_id = (SELECT glyphic.current_org_id()) AND org_id = ANY ((SELECT glyphic.my_org_ids())::uuid[]) AND (
           org_id = ANY ((SELECT glyphic.my_admin_org_ids())::uuid[]) OR created_by = (SELECT glyphic.current_user_id()) OR glyphic.wf_shared_with_me(id, false)));
CREATE POLICY workflows_create ON glyphic.workflows FOR INSERT
  WITH CHECK (org_id = (SELECT glyphic.current_org_id()) AND org_id = ANY ((SELECT glyphic.my_editor_org_ids())::uuid[]) AND created_by = (SELECT glyphic.current_user_id()));
CREATE POLICY workflows_edit ON glyphic.workflows FOR UPDATE
  USING (org_id = (SELECT glyphic.current_org_id()) AND org_id = ANY ((SELECT glyphic.my_editor_org_ids())::uuid[]) AND (
           org_id = ANY ((SELECT glyphic.my_admin_org_ids())::uuid[]) OR created_by = (SELECT glyphic.current_user_id()) OR glyphic.wf_shared_with_me(id, true)));
CREATE POLICY workflows_delete ON glyphic.workflows FOR DELETE
  USING (org_id = (SELECT glyphic.current_org_id()) AND (org_id = ANY ((SELECT glyphic.my_admin_org_ids())::uuid[]) OR (org_id = ANY ((SELECT glyphic.my_editor_org_ids())::uuid[]) AND created_by = (SELECT glyphic.current_user_id()))));
-- the app role changes only these columns (never org_id or created_by)
REVOKE UPDATE ON glyphic.workflows FROM glyphic_app;
GRANT UPDATE (name, tags, active, active_version, current_version, updated_at, deleted_at)
  ON glyphic.workflows TO glyphic_app;

-- a version is visible when its workflow is, appended when it is editable
ALTER TABLE glyphic.workflow_versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE glyphic.workflow_versions FORCE ROW LEVEL SECURITY;
CREATE POLICY workflow_versions_trusted ON glyphic.workflow_versions USING ((SELECT glyphic.rls_trusted()));
CREATE POLICY workflow_versions_read ON glyphic.workflow_versions FOR SELECT
  USING (EXISTS (SELECT 1 FROM glyphic.workflows w WHERE w.id = workflow_versions.workflow_id));
CREATE POLICY workflow_versions_append ON glyphic.workflow_versions FOR INSERT
  WITH CHECK (glyphic.wf_can_edit(workflow_versions.workflow_id));
REVOKE UPDATE, DELETE ON glyphic.workflow_versions FROM glyphic_app;

-- shares: seen with the workflow; given and taken by the org's admins or
-- the workflow's creator (an editor); a member may drop their own
ALTER TABLE glyphic.workflow_shares ENABLE ROW LEVEL SECURITY;
ALTER TABLE glyphic.workflow_shares FORCE ROW LEVEL SECURITY;
CREATE POLICY workflow_shares_trusted ON glyphic.workflow_shares USING ((SELECT glyphic.rls_trusted()));
CREATE POLICY workflow_shares_read ON glyphic.workflow_shares FOR SELECT
  USING (EXISTS (SELECT 1 FROM glyphic.workflows w WHERE w.id = workflow_shares.workflow_id));
CREATE POLICY workflow_shares_manage ON glyphic.workflow_shares FOR ALL
  USING (org_id = (SELECT glyphic.current_org_id()) AND (org_id = ANY ((SELECT glyphic.my_admin_org_ids())::uuid[]) OR (org_id = ANY ((SELECT glyphic.my_editor_org_ids())::uuid[]) AND EXISTS (
           SELECT 1 FROM glyphic.workflows w WHERE w.id = workflow_shares.workflow_id AND w.created_by = (SELECT glyphic.current_user_id())))))
  WITH CHECK (org_id = (SELECT glyphic.current_org_id()) AND (org_id = ANY ((SELECT glyphic.my_admin_org_ids())::uuid[]) OR (org_id = ANY ((SELECT glyphic.my_editor_org_ids())::uuid[]) AND EXISTS (
           SELECT 1 FROM glyphic.workflows w WHERE w.id = workflow_shares.workflow_id AND w.created_by = (SELECT glyphic.current_user_id())))));
CREATE POLICY workflow_shares_leave ON glyphic.workflow_shares FOR DELETE
  USING (user_id = (SELECT glyphic.current_user_id()));

-- trigger rows: members read them; only wf_sync_triggers() writes them
ALTER TABLE glyphic.webhooks ENABLE ROW LEVEL SECURITY;
ALTER TABLE glyphic.webhooks FORCE ROW LEVEL SECURITY;
CREATE POLICY webhooks_trusted ON glyphic.webhooks USING ((SELECT glyphic.rls_trusted()));
CREATE POLICY webhooks_read ON glyphic.webhooks FOR SELECT
  USING (org_id = ANY ((SELECT glyphic.my_org_ids())::uuid[]));

ALTER TABLE glyphic.schedules ENABLE ROW LEVEL SECURITY;
ALTER TABLE glyphic.schedules FORCE ROW LEVEL SECURITY;
CREATE POLICY schedules_trusted ON glyphic.schedules USING ((SELECT glyphic.rls_trusted()));
CREATE POLICY schedules_read ON glyphic.schedules FOR SELECT
  USING (org_id = ANY ((SELECT glyphic.my_org_ids())::uuid[]));

-- Derives the webhook and schedule rows of a workflow from one of its
-- versions (NULL: remove them). It first locks the workflow row, so a
-- concurrent activate, save or delete has committed (or waits) before the
-- rows are replaced. The caller must be allowed to edit the workflow; the
-- rows take the workflow's org. Raises unique_violation when a webhook path
-- belongs to another workflow.
CREATE FUNCTION glyphic.wf_sync_triggers(p_workflow uuid, p_version integer) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = glyphic AS $$
DECLARE
  def jsonb;
  org uuid;
BEGIN
  IF session_user = 'glyphic_app' AND NOT glyphic.wf_can_edit(p_workflow) THEN
    RAISE EXCEPTION 'not allowed to change this workflow' USING ERRCODE = '42501';
  END IF;
  SELECT w.org_id INTO org FROM glyphic.workflows w WHERE w.id = p_workflow FOR UPDATE;
  DELETE FROM glyphic.webhooks WHERE workflow_id = p_workflow;
  DELETE FROM glyphic.schedules WHERE workflow_id = p_workflow;
  IF p_version IS NULL THEN
    RETURN;
  END IF;
  SELECT v.definition INTO def FROM glyphic.workflow_versions v
   WHERE v.workflow_id = p_workflow AND v.version = p_version;
  INSERT INTO glyphic.webhooks (org_id, workflow_id, version, node_id, path, method, mode)
  SELECT org, p_workflow, p_version, n->>'id', n->'params'->>'path',
         coalesce(n->'params'->>'method', 'POST'), coalesce(n->'params'->>'mode', 'async')
    FROM jsonb_array_elements(def->'nodes') n
   WHERE n->>'type' = 'trigger.webhook' AND NOT coalesce((n->>'disabled')::boolean, false);
  INSERT INTO glyphic.schedules (org_id, workflow_id, version, node_id, cron, timezone)
  SELECT org, p_workflow, p_version, n->>'id', n->'params'->>'cron',
         coalesce(n->'params'->>'timezone', def->'settings'->>'timezone', 'UTC')
    FROM jsonb_array_elements(def->'nodes') n
   WHERE n->>'type' = 'trigger.schedule' AND NOT coalesce((n->>'disabled')::boolean, false);
END
$$;

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA glyphic FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA glyphic TO glyphic_app, glyphic_executor;
