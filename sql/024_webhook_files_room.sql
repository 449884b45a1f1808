-- 024_webhook_files_room: a webhook call that brings files is refused
-- before its body is read when the org's files could not take it.
--
-- hook_files (022) checks the quota when the rows are inserted, after the
-- body has been streamed to disk: exact, but a caller could make the
-- server write a body of up to files.max_file_bytes only to remove it.
-- glyphic-fcgi now asks first, with the body's length (nginx passes
-- Content-Length): no row back means there is room. It counts the whole
-- body, so it errs on the side of refusing (a multipart body's headers, a
-- content the org stores already), as POST /api/files's check does; the
-- exact check at the insert stays.
--
-- Keyed on the webhook's path, the capability the caller holds already; it
-- tells no more than an upload of that size would.
SET LOCAL ROLE glyphic_owner;

CREATE FUNCTION glyphic.hook_files_room(p_path text, p_bytes bigint, p_max_bytes bigint)
RETURNS TABLE (used bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = glyphic, pg_temp AS $$
  SELECT u.bytes FROM glyphic.webhooks x CROSS JOIN LATERAL glyphic.files_usage(x.org_id) u
   WHERE x.path = p_path AND p_max_bytes > 0 AND u.bytes + p_bytes > p_max_bytes
$$;
