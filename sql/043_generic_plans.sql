-- 043: the queued run's functions keep generic plans.
--
-- A plpgsql function's statements are planned again on every call while
-- PostgreSQL's plan cache prefers custom plans, which it does for these
-- (the generic plan's estimate with row level security and parameters
-- came out dearer). Under queued sync webhook load, pg_stat_statements
-- (track = all, track_planning) showed the statements of claim_jobs
-- planned in 3.4 ms a claim, exec_load's in about 1.7 ms and
-- hook_enqueue's in about 1.4 ms, for statements that run in 0.1-1 ms:
-- most of the 8 ms of PostgreSQL CPU such a call took. Every statement in
-- them looks rows up by key or by the claim index with the queue as a
-- parameter, so one generic plan serves every call; test_queue's count of
-- the index entries a claim reads holds with it. A function's SET clause
-- also covers what it calls (hook_enqueue's exec_start and
-- enqueue_trusted).
SET LOCAL ROLE glyphic_owner;

ALTER FUNCTION glyphic.claim_jobs(text, text, integer, integer) SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION glyphic.exec_load(uuid, bigint, integer, text) SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION glyphic.hook_enqueue(text, integer, jsonb, uuid, bytea, jsonb, bigint, boolean)
  SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION glyphic.exec_finish(uuid, text, jsonb, jsonb, jsonb, timestamptz, jsonb, bigint, integer, text)
  SET plan_cache_mode = force_generic_plan;
