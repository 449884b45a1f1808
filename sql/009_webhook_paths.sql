-- 009_webhook_paths: a webhook path stays its org's, and paths left out
-- are generated.
--
-- Reservation. /hooks/<path> is one URL space for the whole installation,
-- and callers keep calling a URL after its workflow stops serving it. So a
-- path, once a workflow has served it (a webhooks row was made for it), is
-- reserved to that workflow's org for as long as that workflow exists —
-- deactivated, saved without the path, or in the trash — and goes only with
-- the workflow (deleted for good, or its org deleted). Another org cannot
-- serve it meanwhile: its activation or save fails like one that collides
-- with an active webhook (unique_violation, 409 webhook_path_taken), so the
-- answer does not tell a reserved path from an active one.
--
-- Within its org a path moves freely: another workflow of the org may serve
-- it as soon as no active workflow does (the webhooks table's unique path
-- still allows one at a time). That is what n8n does, and what a rewrite
-- needs: duplicate the workflow, deactivate the old one, activate the new
-- one, and the URL handed out keeps working.
--
-- The webhooks table keeps its meaning (the live webhooks); the reservation
-- is a row per (path, workflow that served it) in webhook_paths, written
-- only by the trigger on webhooks below, removed by the foreign key's
-- cascade.
--
-- Generated paths. A trigger.webhook node saved without a path (absent,
-- null or "") gets one: the path its node (same id) had in the workflow's
-- previous version when that one was generated, so editing does not change
-- the URL; else a new random UUID (version 4: 122 random bits), as n8n does.
-- A path shaped like such a UUID counts as generated: a duplicated workflow
-- gets new ones (wf_without_generated_paths), custom paths are copied.
SET LOCAL ROLE glyphic_owner;

CREATE TABLE glyphic.webhook_paths (
  path        text NOT NULL,
  org_id      uuid NOT NULL,
  workflow_id uuid NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (path, workflow_id),
  FOREIGN KEY (workflow_id, org_id) REFERENCES glyphic.workflows (id, org_id) ON DELETE CASCADE
);
CREATE INDEX webhook_paths_workflow ON glyphic.webhook_paths (workflow_id);

-- members see their orgs' reservations; only the trigger below writes them
ALTER TABLE glyphic.webhook_paths ENABLE ROW LEVEL SECURITY;
ALTER TABLE glyphic.webhook_paths FORCE ROW LEVEL SECURITY;
CREATE POLICY webhook_paths_trusted ON glyphic.webhook_paths USING ((SELECT glyphic.rls_trusted()));
CREATE POLICY webhook_paths_read ON glyphic.webhook_paths FOR SELECT
  USING (org_id = ANY ((SELECT glyphic.my_org_ids())::uuid[]));
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON glyphic.webhook_paths FROM glyphic_app, glyphic_executor;

-- Reserves a webhook row's path to its org before the row is written, or
-- raises unique_violation when another org holds it. The advisory lock
-- makes the check and the insert one step per path: of two orgs taking a
-- new path at once, the second sees the first's row once it commits (and
-- the webhooks row it then makes collides with the first's anyway).
CREATE FUNCTION glyphic.webhook_path_reserve() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = glyphic, pg_temp AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('glyphic.webhook_path:' || NEW.path));
  IF EXISTS (SELECT 1 FROM glyphic.webhook_paths r WHERE r.path = NEW.path AND r.org_id <> NEW.org_id) THEN
    RAISE EXCEPTION 'this webhook path is not available' USING ERRCODE = '23505';
  END IF;
  INSERT INTO glyphic.webhook_paths (path, org_id, workflow_id) VALUES (NEW.path, NEW.org_id, NEW.workflow_id)
  ON CONFLICT (path, workflow_id) DO NOTHING;
  RETURN NEW;
END
$$;
CREATE TRIGGER webhooks_reserve_path BEFORE INSERT OR UPDATE OF path, org_id, workflow_id ON glyphic.webhooks
  FOR EACH ROW EXECUTE FUNCTION glyphic.webhook_path_reserve();

-- A generated path: a version 4 UUID in lower case (gen_random_uuid()).
CREATE FUNCTION glyphic.wf_path_is_generated(p_path text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(p_path ~ '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$', false)
$$;

-- The definition with its generated webhook paths left out (a copy gets
-- its own on save); anything that is not a definition comes back as is.
CREATE FUNCTION glyphic.wf_without_generated_paths(p_def jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN jsonb_typeof(p_def->'nodes') = 'array' THEN
    jsonb_set(p_def, '{nodes}', coalesce((
      SELECT jsonb_agg(CASE WHEN n->>'type' = 'trigger.webhook' AND jsonb_typeof(n->'params'->'path') = 'string'
                                 AND glyphic.wf_path_is_generated(n->'params'->>'path')
                            THEN n #- '{params,path}' ELSE n END ORDER BY ord)
        FROM jsonb_array_elements(p_def->'nodes') WITH ORDINALITY AS t(n, ord)), '[]'))
  ELSE p_def END
$$;

-- Fills the path of every trigger.webhook node saved without one (see the
-- top of this file). Runs for every new version, whoever inserts it; one
-- pass over the nodes, however many need a path.
CREATE FUNCTION glyphic.wf_fill_webhook_paths() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = glyphic, pg_temp AS $$
DECLARE
  nodes jsonb := NEW.definition->'nodes';
  kept jsonb;  -- node id -> its generated path in the previous version
  used jsonb;  -- path -> true, for the paths this version names
BEGIN
  IF jsonb_typeof(nodes) IS DISTINCT FROM 'array' OR NOT EXISTS (
       SELECT 1 FROM jsonb_array_elements(nodes) n
        WHERE jsonb_typeof(n) = 'object' AND n->>'type' = 'trigger.webhook'
          AND coalesce(n->'params'->>'path', '') = '') THEN
    RETURN NEW;
  END IF;
  SELECT coalesce(jsonb_object_agg(o->>'id', o->'params'->>'path'), '{}') INTO kept
    FROM glyphic.workflow_versions v
   CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(v.definition->'nodes') = 'array'
                                                THEN v.definition->'nodes' ELSE '[]' END) o
   WHERE v.workflow_id = NEW.workflow_id
     AND v.version = (SELECT max(p.version) FROM glyphic.workflow_versions p
                       WHERE p.workflow_id = NEW.workflow_id AND p.version < NEW.version)
     AND o->>'type' = 'trigger.webhook' AND o->>'id' IS NOT NULL
     AND glyphic.wf_path_is_generated(o->'params'->>'path');
  SELECT coalesce(jsonb_object_agg(x.path, true), '{}') INTO used
    FROM (SELECT DISTINCT n->'params'->>'path' AS path FROM jsonb_array_elements(nodes) n
           WHERE coalesce(n->'params'->>'path', '') <> '') x;
  SELECT jsonb_agg(CASE
           WHEN jsonb_typeof(n) = 'object' AND n->>'type' = 'trigger.webhook'
                AND coalesce(n->'params'->>'path', '') = ''
           THEN jsonb_set(n, '{params}',
                  CASE WHEN jsonb_typeof(n->'params') = 'object' THEN n->'params' ELSE '{}' END
                  || jsonb_build_object('path', CASE
                       -- the node's path of the previous version, unless another node took it
                       WHEN kept ? (n->>'id') AND NOT used ? (kept->>(n->>'id')) THEN kept->>(n->>'id')
                       ELSE gen_random_uuid()::text END))
           ELSE n END ORDER BY ord) INTO nodes
    FROM jsonb_array_elements(nodes) WITH ORDINALITY AS t(n, ord);
  NEW.definition := jsonb_set(NEW.definition, '{nodes}', nodes);
  RETURN NEW;
END
$$;
CREATE TRIGGER workflow_versions_fill_paths BEFORE INSERT ON glyphic.workflow_versions
  FOR EACH ROW EXECUTE FUNCTION glyphic.wf_fill_webhook_paths();

-- Installations upgraded to this file: reserve what is live now, then what
-- earlier versions served (their webhook executions still recorded), each
-- path to one org — the one serving it now, else the one that served it last.
INSERT INTO glyphic.webhook_paths (path, org_id, workflow_id)
SELECT h.path, h.org_id, h.workflow_id FROM glyphic.webhooks h
ON CONFLICT DO NOTHING;
WITH served AS (
  SELECT n->'params'->>'path' AS path, e.org_id, e.workflow_id, max(e.created_at) AS last_call
    FROM glyphic.executions e
    JOIN glyphic.workflow_versions v ON v.workflow_id = e.workflow_id AND v.version = e.version
    CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(v.definition->'nodes') = 'array'
                                                 THEN v.definition->'nodes' ELSE '[]' END) n
   WHERE e.trigger = 'webhook' AND n->>'id' = e.trigger_node AND n->>'type' = 'trigger.webhook'
     AND coalesce(n->'params'->>'path', '') <> ''
   GROUP BY 1, 2, 3),
owner AS (
  SELECT DISTINCT ON (s.path) s.path, s.org_id FROM served s ORDER BY s.path, s.last_call DESC)
INSERT INTO glyphic.webhook_paths (path, org_id, workflow_id)
SELECT s.path, s.org_id, s.workflow_id FROM served s JOIN owner o ON o.path = s.path AND o.org_id = s.org_id
 WHERE NOT EXISTS (SELECT 1 FROM glyphic.webhook_paths r WHERE r.path = s.path AND r.org_id <> s.org_id)
ON CONFLICT DO NOTHING;

-- the trigger functions run only as triggers: nobody calls them
REVOKE EXECUTE ON FUNCTION glyphic.webhook_path_reserve(), glyphic.wf_fill_webhook_paths()
  FROM PUBLIC, glyphic_app, glyphic_executor;
