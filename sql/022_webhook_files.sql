-- 022_webhook_files: webhooks take files.
--
-- A webhook call with a multipart/form-data or raw binary body brings files
-- (fcgi/hook_body.c streams them into the file store). Each becomes a row
-- of glyphic.files owned by the execution the call starts (execution_id;
-- created_by NULL: the caller is anonymous), so retention deleting the
-- execution deletes the rows and gc then the contents (019).
--
-- The caller of /hooks/ has no session, and the app role's insert policy on
-- files wants created_by = the current user and no execution: the rows are
-- inserted here, by the SECURITY DEFINER hook functions, keyed on the path
-- as they are, in the statement that queues or records the execution. The
-- store's writer protocol (019) holds: the caller (glyphic-fcgi) runs the
-- hook statement in an explicit transaction, then renames the contents to
-- their final names (gl_filestore_finish), then commits; hook_files takes
-- the org's files lock, which the transaction holds to its commit, so gc
-- never removes a content these rows are about to name.
--
-- The quota: the contents new to the org (each distinct content once) may
-- not take it past p_max_bytes (files.max_bytes_per_org; 0: no limit), else
-- GLQ01 and nothing is written (the caller rolls back, 507). A content the
-- org stores already costs nothing.
SET LOCAL ROLE glyphic_owner;

-- p_files: [{id, sha256 (hex), size, mime_type, file_name}], as glyphic-fcgi
-- wrote them to the store. Called by hook_enqueue and hook_record only.
CREATE FUNCTION glyphic.hook_files(p_org uuid, p_execution uuid, p_files jsonb, p_max_bytes bigint)
RETURNS void
LANGUAGE plpgsql SET search_path = glyphic, pg_temp AS $$
DECLARE
  used bigint;
  more bigint;
BEGIN
  IF jsonb_typeof(p_files) IS DISTINCT FROM 'array' THEN
    RAISE EXCEPTION 'the files of a webhook call are a JSON array' USING ERRCODE = '22023';
  END IF;
  PERFORM pg_advisory_xact_lock(hashtextextended('glyphic.files:' || p_org, 0));
  -- Statements of their own after the lock: a volatile function takes a
  -- new snapshot for each, so these see every file committed before the
  -- lock was ours (two calls cannot both take the quota's last bytes).
  IF p_max_bytes > 0 THEN
    SELECT coalesce(sum(n.size), 0) INTO more
      FROM (SELECT DISTINCT ON (x.sha256) x.sha256, x.size
              FROM jsonb_to_recordset(p_files) AS x(sha256 text, size bigint) ORDER BY x.sha256) n
     WHERE NOT EXISTS (SELECT 1 FROM glyphic.files e WHERE e.org_id = p_org AND e.sha256 = decode(n.sha256, 'hex'));
    SELECT u.bytes INTO used FROM glyphic.files_usage(p_org) u;
    IF more > 0 AND used + more > p_max_bytes THEN
      RAISE EXCEPTION 'the files of this call (% bytes new to the org) would take it past its quota of % bytes; '
                      'it stores % bytes', more, p_max_bytes, used USING ERRCODE = 'GLQ01';
    END IF;
  END IF;
  INSERT INTO glyphic.files (id, org_id, sha256, size, mime_type, file_name, execution_id)
  SELECT x.id, p_org, decode(x.sha256, 'hex'), x.size, x.mime_type, x.file_name, p_execution
    FROM jsonb_to_recordset(p_files) AS x(id uuid, sha256 text, size bigint, mime_type text, file_name text);
END
$$;
REVOKE EXECUTE ON FUNCTION glyphic.hook_files(uuid, uuid, jsonb, bigint) FROM PUBLIC, glyphic_app, glyphic_executor;

-- 016's hook_enqueue, and the call's files (p_files, NULL: none) as rows
-- of the queued execution.
DROP FUNCTION glyphic.hook_enqueue(text, integer, jsonb, uuid, bytea);
CREATE FUNCTION glyphic.hook_enqueue(p_path text, p_version integer, p_item jsonb, p_id uuid, p_wait bytea,
                                     p_files jsonb DEFAULT NULL, p_max_bytes bigint DEFAULT 0)
RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = glyphic, pg_temp AS $$
DECLARE
  h glyphic.webhooks;
  eid uuid;
BEGIN
  -- the active webhook at the path, if it still is the version the caller
  -- cached (else 40001: look it up again)
  SELECT x.* INTO h FROM glyphic.webhooks x
    JOIN glyphic.workflows w ON w.id = x.workflow_id AND w.active AND w.deleted_at IS NULL
   WHERE x.path = p_path AND x.version = p_version;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'the webhook changed; call it again' USING ERRCODE = '40001';
  END IF;
  IF p_wait IS NOT NULL AND length(p_wait) <> 32 THEN
    RAISE EXCEPTION 'a wait secret hash is 32 bytes' USING ERRCODE = '22023';
  END IF;
  IF NOT glyphic.org_webhook_admit(h.org_id) THEN
    RETURN NULL;
  END IF;
  eid := glyphic.exec_start(h.org_id, h.workflow_id, h.version, NULL, 'webhook', h.node_id,
                            jsonb_build_array(p_item), NULL, NULL, 'queued', p_id);
  IF p_wait IS NOT NULL THEN
    UPDATE glyphic.executions SET hook_wait = p_wait WHERE id = eid;
  END IF;
  IF p_files IS NOT NULL THEN
    PERFORM glyphic.hook_files(h.org_id, eid, p_files, p_max_bytes);
  END IF;
  RETURN eid;
END
$$;

-- 016's hook_record, and the call's files as rows of the recorded
-- execution (the direct path: its quick nodes see the files' metadata,
-- and none reads the bytes).
DROP FUNCTION glyphic.hook_record(text, integer, jsonb, text, jsonb, jsonb, jsonb, jsonb, bigint, uuid);
CREATE FUNCTION glyphic.hook_record(p_path text, p_version integer, p_item jsonb, p_status text,
                                    p_steps jsonb, p_output jsonb, p_response jsonb, p_error jsonb,
                                    p_started_ms bigint, p_id uuid,
                                    p_files jsonb DEFAULT NULL, p_max_bytes bigint DEFAULT 0)
RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = glyphic, pg_temp AS $$
DECLARE
  h glyphic.webhooks;
  eid uuid;
BEGIN
  SELECT x.* INTO h FROM glyphic.webhooks x
    JOIN glyphic.workflows w ON w.id = x.workflow_id AND w.active AND w.deleted_at IS NULL
   WHERE x.path = p_path AND x.version = p_version;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'the webhook changed; call it again' USING ERRCODE = '40001';
  END IF;
  IF NOT glyphic.org_webhook_admit(h.org_id) THEN
    RETURN NULL;
  END IF;
  INSERT INTO glyphic.executions (id, org_id, workflow_id, version, status, trigger, trigger_node, input, output,
                                  response, error, started_at, finished_at)
  VALUES (p_id, h.org_id, h.workflow_id, h.version, p_status, 'webhook', h.node_id, jsonb_build_array(p_item),
          p_output, p_response, p_error, to_timestamp(p_started_ms / 1000.0), now())
  RETURNING id INTO eid;
  PERFORM glyphic.exec_insert_steps(eid, h.org_id, p_steps);
  IF p_files IS NOT NULL THEN
    PERFORM glyphic.hook_files(h.org_id, eid, p_files, p_max_bytes);
  END IF;
  IF p_status = 'failed' THEN
    PERFORM glyphic.exec_error_workflow(eid);
  END IF;
  RETURN eid;
END
$$;
