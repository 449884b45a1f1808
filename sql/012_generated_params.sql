-- 012_generated_params: the parameters the database generates (a webhook's
-- path) are named by the engine, not by SQL that knows node types.
--
-- 009's trigger filled the path of every node of type 'trigger.webhook'
-- saved without one, and wf_without_generated_paths stripped generated
-- paths from such nodes for a copy. Node types belong to the engine (one
-- descriptor per type, executor/engine/nodes/), so now:
--
-- * The handler that inserts a version passes, in the new column
--   workflow_versions.generated_params, what gl_engine_generated_params
--   computed from the validated definition: a JSON array of
--   {node_id, param}, one per node whose type generates a parameter and
--   whose value is empty (absent, null or ""). The trigger below fills
--   exactly those, by 009's rule: the value the same node (same id and
--   type) had in the workflow's previous version when that one was
--   generated (wf_path_is_generated) and no node of the new version uses it
--   as that parameter, so editing does not change the URL; else a new
--   random UUID (version 4: 122 random bits). An entry whose parameter has
--   a value is left alone. The column keeps the list: what the database
--   was asked to generate for that version (NULL for versions saved before
--   this file).
-- * A version inserted without the list (NULL, or not an array) is
--   refused: the app role may insert versions itself (003's
--   workflow_versions_append policy), and the database no longer knows
--   which nodes need a value, so an insert that does not say is not let
--   through with a webhook that has no path. An entry that is not
--   {node_id, param} with strings, or names no node of the version, is
--   refused too.
-- * A copy's generated values are stripped in C (gl_engine_strip_generated,
--   fcgi/workflows.c's duplicate), so wf_without_generated_paths goes.
--
-- wf_path_is_generated (009) stays: it knows the shape of a value the
-- database draws, not a node type.
SET LOCAL ROLE glyphic_owner;

ALTER TABLE glyphic.workflow_versions ADD COLUMN generated_params jsonb;

DROP TRIGGER workflow_versions_fill_paths ON glyphic.workflow_versions;
DROP FUNCTION glyphic.wf_fill_webhook_paths();
DROP FUNCTION glyphic.wf_without_generated_paths(jsonb);

-- Fills the parameters NEW.generated_params lists (see the top of this
-- file). Runs for every new version, whoever inserts it; one pass over the
-- nodes, however many need a value.
CREATE FUNCTION glyphic.wf_fill_generated_params() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = glyphic, pg_temp AS $$
DECLARE
  nodes jsonb := CASE WHEN jsonb_typeof(NEW.definition->'nodes') = 'array' THEN NEW.definition->'nodes' ELSE '[]' END;
  wanted jsonb := NEW.generated_params;
BEGIN
  IF jsonb_typeof(wanted) IS DISTINCT FROM 'array' THEN
    RAISE EXCEPTION 'a new version names the parameters to generate (generated_params, a JSON array)'
      USING ERRCODE = '22023';
  END IF;
  IF EXISTS (
       SELECT 1 FROM jsonb_array_elements(wanted) g
        WHERE jsonb_typeof(g->'node_id') IS DISTINCT FROM 'string' OR jsonb_typeof(g->'param') IS DISTINCT FROM 'string'
           OR NOT EXISTS (SELECT 1 FROM jsonb_array_elements(nodes) n
                           WHERE jsonb_typeof(n) = 'object' AND n->>'id' = g->>'node_id')) THEN
    RAISE EXCEPTION 'a parameter to generate is not {node_id, param} of a node of the version'
      USING ERRCODE = '22023';
  END IF;
  IF jsonb_array_length(wanted) = 0 THEN
    RETURN NEW;
  END IF;
  WITH want AS (
    SELECT DISTINCT g->>'node_id' AS node_id, g->>'param' AS param FROM jsonb_array_elements(wanted) g),
  prev AS (
    SELECT o FROM glyphic.workflow_versions v
     CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(v.definition->'nodes') = 'array'
                                                  THEN v.definition->'nodes' ELSE '[]' END) o
     WHERE v.workflow_id = NEW.workflow_id
       AND v.version = (SELECT max(p.version) FROM glyphic.workflow_versions p
                         WHERE p.workflow_id = NEW.workflow_id AND p.version < NEW.version))
  SELECT jsonb_agg(CASE WHEN f.vals IS NULL THEN n
                        ELSE jsonb_set(n, '{params}', CASE WHEN jsonb_typeof(n->'params') = 'object'
                                                           THEN n->'params' ELSE '{}' END || f.vals) END
                   ORDER BY ord) INTO nodes
    FROM jsonb_array_elements(nodes) WITH ORDINALITY AS t(n, ord)
    LEFT JOIN LATERAL (
      SELECT jsonb_object_agg(w.param, coalesce(
               -- the node's value of the previous version, unless another node took it
               (SELECT o->'params'->>w.param FROM prev
                 WHERE o->>'id' = w.node_id AND o->>'type' = n->>'type'
                   AND glyphic.wf_path_is_generated(o->'params'->>w.param)
                   AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(nodes) m
                                    WHERE m->'params'->>w.param = o->'params'->>w.param)
                 LIMIT 1),
               gen_random_uuid()::text)) AS vals
        FROM want w
       WHERE jsonb_typeof(n) = 'object' AND w.node_id = n->>'id' AND coalesce(n->'params'->>w.param, '') = '') f
      ON true;
  NEW.definition := jsonb_set(NEW.definition, '{nodes}', nodes);
  RETURN NEW;
END
$$;
CREATE TRIGGER workflow_versions_fill_generated BEFORE INSERT ON glyphic.workflow_versions
  FOR EACH ROW EXECUTE FUNCTION glyphic.wf_fill_generated_params();

-- the trigger function runs only as a trigger: nobody calls it
REVOKE EXECUTE ON FUNCTION glyphic.wf_fill_generated_params() FROM PUBLIC, glyphic_app, glyphic_executor;
