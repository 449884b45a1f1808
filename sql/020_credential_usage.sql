-- 020_credential_usage: GET /api/queue/stats's "limits" shows the org's
-- stored credentials (`credentials`) against its limit of them
-- (`max_credentials`), as it shows running executions and webhook calls.
-- 016's org_usage with one more key; its privileges stay (CREATE OR
-- REPLACE keeps the owner and the grants).
SET LOCAL ROLE glyphic_owner;

-- {org_id, running, max_running, queued, webhooks_this_minute,
-- webhooks_per_minute, minute_resets_in, credentials, max_credentials}; a
-- limit of 0 (none) is null. For a member of the org (else 42501) or a
-- trusted role.
CREATE OR REPLACE FUNCTION glyphic.org_usage(p_org uuid) RETURNS json
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = glyphic, pg_temp AS $$
BEGIN
  IF NOT glyphic.role_trusted(session_user) AND NOT coalesce(p_org = ANY (glyphic.my_org_ids()), false) THEN
    RAISE EXCEPTION 'not a member of this org' USING ERRCODE = '42501';
  END IF;
  RETURN json_build_object(
    'org_id', p_org,
    'running', (SELECT count(*) FROM glyphic.jobs r WHERE r.org_id = p_org AND r.state = 'running'
                   AND r.org_id IS NOT NULL),
    'max_running', nullif(glyphic.org_limit(p_org, 'max_running'), 0),
    'queued', (SELECT count(*) FROM glyphic.jobs q WHERE q.org_id = p_org AND q.org_id IS NOT NULL
                  AND q.state IN ('queued', 'failed') AND q.run_at <= now()),
    'webhooks_this_minute', (SELECT coalesce(sum(c.calls), 0) FROM glyphic.org_webhook_counts c
                              WHERE c.org_id = p_org AND c.minute = date_trunc('minute', now())),
    'webhooks_per_minute', nullif(glyphic.org_limit(p_org, 'webhooks_per_minute'), 0),
    'minute_resets_in', ceil(extract(epoch FROM date_trunc('minute', now()) + interval '1 minute' - now()))::integer,
    'credentials', (SELECT count(*) FROM glyphic.credentials k WHERE k.org_id = p_org),
    'max_credentials', nullif(glyphic.org_limit(p_org, 'max_credentials'), 0));
END
$$;
