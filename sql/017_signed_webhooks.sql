-- 017_signed_webhooks: a webhook may require an HMAC signature.
--
-- trigger.webhook's `secret` names a credential of type webhook.hmac in the
-- workflow's org (its sealed field `secret` is the key) and `signature` the
-- scheme: 'stripe' (Stripe-Signature: t=…,v1=… over "t.body", with a
-- replay window) or 'github' (X-Hub-Signature-256: sha256=… over the raw
-- body). glyphic-fcgi checks the signature before anything starts
-- (fcgi/webhook_signature.c); a call that fails the check starts nothing.
--
-- The webhooks row carries the credential's name and the scheme (the
-- handler's trigger row, held to the node's parameters like every other
-- value of the row, sql/013), so hook_find returns, with the webhook, the
-- credential's id, org, key id and sealed key (LEFT JOIN on the webhook's
-- org and the name, type webhook.hmac): no second round trip to find the
-- key. A credential of another org, or of another type, with that name is
-- never joined. Each glyphic-fcgi worker keeps what hook_find returned with
-- the definition it caches and asks again at most a second later (or at
-- once when a call fails the check), so a changed, renamed or deleted
-- credential applies within a second.
SET LOCAL ROLE glyphic_owner;

ALTER TABLE glyphic.webhooks
  ADD COLUMN secret text,     -- name of a webhook.hmac credential of the org; NULL: unsigned
  ADD COLUMN signature text,  -- 'stripe' or 'github'; NULL: unsigned
  -- both or neither: a signed webhook without a key, or a key nobody
  -- checks, is refused (fail closed)
  ADD CONSTRAINT webhooks_signature CHECK (
    (signature IS NULL AND secret IS NULL) OR (signature IN ('stripe', 'github') AND secret IS NOT NULL));

-- 013's function, writing secret and signature ('none': NULL) too
CREATE OR REPLACE FUNCTION glyphic.wf_sync_triggers(p_workflow uuid, p_version integer, p_rows jsonb DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = glyphic, pg_temp AS $$
DECLARE
  org uuid;
BEGIN
  IF NOT glyphic.role_trusted(session_user) AND NOT glyphic.wf_can_edit(p_workflow) THEN
    RAISE EXCEPTION 'not allowed to change this workflow' USING ERRCODE = '42501';
  END IF;
  IF p_version IS NOT NULL AND jsonb_typeof(p_rows) IS DISTINCT FROM 'array' THEN
    RAISE EXCEPTION 'the trigger rows of the version (a JSON array) are required' USING ERRCODE = '22023';
  END IF;
  SELECT w.org_id INTO org FROM glyphic.workflows w WHERE w.id = p_workflow FOR UPDATE;
  DELETE FROM glyphic.webhooks WHERE workflow_id = p_workflow;
  DELETE FROM glyphic.schedules WHERE workflow_id = p_workflow;
  IF p_version IS NULL THEN
    RETURN;
  END IF;
  IF EXISTS (
       SELECT 1 FROM jsonb_array_elements(p_rows) r
        WHERE jsonb_typeof(r) IS DISTINCT FROM 'object' OR NOT EXISTS (
                SELECT 1 FROM glyphic.workflow_versions v
                 CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(v.definition->'nodes') = 'array'
                                                              THEN v.definition->'nodes' ELSE '[]' END) n
                 WHERE v.workflow_id = p_workflow AND v.version = p_version
                   AND n->>'id' = r->>'node_id' AND NOT coalesce((n->>'disabled')::boolean, false)
                   AND NOT EXISTS (
                         SELECT 1 FROM jsonb_each(r) kv
                          WHERE kv.key NOT IN ('node_id', 'kind')
                            AND jsonb_typeof(n->'params') = 'object' AND jsonb_typeof(n->'params'->kv.key) = 'string'
                            AND n->'params'->kv.key IS DISTINCT FROM kv.value))) THEN
    RAISE EXCEPTION 'a trigger row names no enabled node of version %, or differs from its parameters', p_version
      USING ERRCODE = '22023';
  END IF;
  INSERT INTO glyphic.webhooks (org_id, workflow_id, version, node_id, path, method, mode, secret, signature)
  SELECT org, p_workflow, p_version, r->>'node_id', r->>'path', r->>'method', r->>'mode',
         r->>'secret', nullif(r->>'signature', 'none')
    FROM jsonb_array_elements(p_rows) r
   WHERE r->>'kind' = 'webhook';
  INSERT INTO glyphic.schedules (org_id, workflow_id, version, node_id, cron, timezone)
  SELECT org, p_workflow, p_version, r->>'node_id', r->>'cron', r->>'timezone'
    FROM jsonb_array_elements(p_rows) r
   WHERE r->>'kind' = 'schedule';
END
$$;

-- 005's function, with the webhook's signature scheme and credential
DROP FUNCTION glyphic.hook_find(text, uuid, integer);
CREATE FUNCTION glyphic.hook_find(p_path text, p_known_workflow uuid, p_known_version integer)
RETURNS TABLE (webhook_id uuid, org_id uuid, workflow_id uuid, version integer, node_id text, method text,
               mode text, definition jsonb, signature text, secret text, cred_id uuid, cred_org_id uuid,
               cred_key_id text, cred_sealed text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = glyphic, pg_temp AS $$
  SELECT h.id, h.org_id, h.workflow_id, h.version, h.node_id, h.method, h.mode,
         CASE WHEN h.workflow_id = p_known_workflow AND h.version = p_known_version THEN NULL
              ELSE (SELECT v.definition FROM glyphic.workflow_versions v
                     WHERE v.workflow_id = h.workflow_id AND v.version = h.version) END,
         h.signature, h.secret, c.id, c.org_id, c.key_id, c.secrets->>'secret'
    FROM glyphic.webhooks h
    JOIN glyphic.workflows w ON w.id = h.workflow_id AND w.active AND w.deleted_at IS NULL
    LEFT JOIN glyphic.credentials c
      ON h.secret IS NOT NULL AND c.org_id = h.org_id AND c.name = h.secret AND c.type = 'webhook.hmac'
   WHERE h.path = p_path
$$;

REVOKE EXECUTE ON FUNCTION glyphic.hook_find(text, uuid, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION glyphic.hook_find(text, uuid, integer) TO glyphic_app;
