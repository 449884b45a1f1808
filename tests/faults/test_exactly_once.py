"""Exactly once under faults: a batch far longer than the lease, a node
longer than the lease, four overlapping drains, and SIGKILL mid-step —
every side effect happens once (only a step in flight at a SIGKILL may
repeat). Also measures how soon a SIGKILLed worker's jobs run again."""
import os
import signal
import subprocess
import time
import unittest

import faultlib as fl
import harness
from testserver import TestServer

E = None
SRV = None


def setUpModule():
    global E, SRV
    SRV = TestServer().start()
    E = fl.env(**{"executor.batch": "10", **harness.ALLOW_TEST_SERVER})  # the test server is on loopback


def tearDownModule():
    E.close()
    SRV.stop()


def runs_per_job():
    out = fl.sql(E, "SELECT coalesce(sum(c), 0), count(*), coalesce(max(c), 0) FROM "
                    "(SELECT job_id, count(*) AS c FROM public.glyphic_test_runs GROUP BY job_id) x")
    return tuple(int(v) for v in out.split("|"))


class ExactlyOnceTest(unittest.TestCase):
    def setUp(self):
        fl.sql(E, "TRUNCATE public.glyphic_test_runs; DELETE FROM glyphic.jobs")
        SRV.reset()

    def test_batch_longer_than_the_lease_runs_every_side_effect_once(self):
        # lease 3 s. Ten jobs of 0.7 s and eight executions, two of them with
        # a node that takes 4.5 s: claimed in batches of up to ten, they keep
        # a worker busy for many leases
        a = fl.user(E)
        slow = fl.http_node("slow", SRV.url + "/slow/{{ $json.body.ms }}?k={{ $json.body.k }}")
        mark = fl.http_node("mark", SRV.url + "/json/done?k={{ $node[\"Hook\"].json.body.k }}")
        hook = fl.hook_node("long-batch")
        wid = fl.create(a, [hook, slow, mark], fl.chain(hook, slow, mark))
        fl.sql(E, "SELECT glyphic.enqueue_bulk('test.record', array_fill('{\"sleep_ms\": 700}'::jsonb, ARRAY[10]))")
        for k in range(8):
            r = E.request("POST", "/hooks/long-batch", {"k": k, "ms": 4500 if k in (2, 5) else 1500})
            self.assertEqual(r.status, 202, r)
        # an executor with no work of its own runs maintenance (it is
        # elected first), so leases are watched while the other one works
        idle = fl.start(E, "--workers", "1", "--queue", "idle")
        fl.wait_for(lambda: "elected to run maintenance" in fl.log_text(E), what="the idle executor elected")
        ex = fl.start(E, "--workers", "2")
        try:
            fl.wait_for(lambda: fl.all_finished(E, wid, 8) and runs_per_job()[1] == 10
                        and fl.sql(E, "SELECT count(*) FROM glyphic.jobs") == "0", timeout=120, what="the batch")
        finally:
            fl.stop(ex)
            fl.stop(idle)
        self.assertEqual(fl.statuses(E, wid), {"succeeded": 8})
        called = sorted(r["query"]["k"] for p in ("/slow/1500", "/slow/4500") for r in SRV.requests(p))
        self.assertEqual(called, [str(k) for k in range(8)])  # each slow call once
        self.assertEqual(sorted(r["query"]["k"] for r in SRV.requests("/json/done")), [str(k) for k in range(8)])
        self.assertEqual(runs_per_job(), (10, 10, 1))
        steps = fl.sql(E, f"SELECT count(*), count(DISTINCT (s.execution_id, s.node_id)) FROM glyphic.execution_steps s "
                          f"JOIN glyphic.executions e ON e.id = s.execution_id WHERE e.workflow_id = '{wid}'")
        self.assertEqual(steps, "24|24")
        self.assertNotIn("duplicate key", fl.log_text(E))
        self.assertEqual(fl.sql(E, "SELECT count(*) FROM glyphic.jobs"), "0")

    def test_4000_jobs_4_drains_exactly_once(self):
        fl.sql(E, "SELECT glyphic.enqueue_bulk('test.record', array_fill('{}'::jsonb, ARRAY[4000]))")
        drains = [fl.start(E, "--workers", "1", "--linger", "2", mode="--drain") for _ in range(4)]
        for p in drains:
            self.assertEqual(p.wait(120), 0)
        self.assertEqual(runs_per_job(), (4000, 4000, 1))
        self.assertEqual(int(fl.sql(E, "SELECT count(DISTINCT owner) FROM public.glyphic_test_runs")), 4)
        self.assertEqual(fl.sql(E, "SELECT count(*) FROM glyphic.jobs"), "0")

    def test_sigkill_mid_step_repeats_only_the_step_in_flight(self):
        a = fl.user(E)
        hook = fl.hook_node("kill-mid-step")
        first = fl.http_node("first", SRV.url + "/json/first")
        slow = fl.http_node("slow", SRV.url + "/slow/2500")
        last = fl.http_node("last", SRV.url + "/json/last")
        wid = fl.create(a, [hook, first, slow, last], fl.chain(hook, first, slow, last))
        self.assertEqual(E.request("POST", "/hooks/kill-mid-step", {"x": 1}).status, 202)
        ex = fl.start(E, "--workers", "1")
        fl.wait_for(lambda: SRV.count("/slow/2500") == 1, what="the slow step in flight")
        fl.stop(ex, signal.SIGKILL)
        ex = fl.start(E, "--workers", "1")
        try:
            fl.wait_for(lambda: fl.all_finished(E, wid, 1), timeout=60, what="the execution to resume")
        finally:
            fl.stop(ex)
        self.assertEqual(fl.statuses(E, wid), {"succeeded": 1})
        self.assertEqual((SRV.count("/json/first"), SRV.count("/slow/2500"), SRV.count("/json/last")), (1, 2, 1))
        nodes = fl.sql(E, f"SELECT string_agg(s.node_id, ',' ORDER BY s.seq) FROM glyphic.execution_steps s "
                          f"JOIN glyphic.executions e ON e.id = s.execution_id WHERE e.workflow_id = '{wid}'")
        self.assertEqual(nodes, "hook,first,slow,last")

    def test_a_refused_end_does_not_repeat_the_call_before_it(self):
        # the call's step waits to be written with the end; the database
        # refuses that end once (a trigger, counted by a sequence, which a
        # rollback does not undo): the run writes the step before it gives
        # up, so the retry replays the call instead of making it again
        a = fl.user(E)
        hook = fl.hook_node("refused-end")
        call = fl.http_node("call", SRV.url + "/json/refused-end")
        wid = fl.create(a, [hook, call], fl.chain(hook, call))
        fl.sql(E, "CREATE SEQUENCE public.refuse_end_seq; "
                  "CREATE FUNCTION public.refuse_end() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER "
                  "SET search_path = pg_catalog AS $$ BEGIN "
                  "IF nextval('public.refuse_end_seq') = 1 THEN RAISE EXCEPTION 'refused on purpose'; END IF; "
                  "RETURN NEW; END $$; "
                  "CREATE TRIGGER refuse_end BEFORE UPDATE ON glyphic.executions FOR EACH ROW "
                  f"WHEN (NEW.status = 'succeeded' AND NEW.workflow_id = '{wid}') "
                  "EXECUTE FUNCTION public.refuse_end()")
        try:
            self.assertEqual(E.request("POST", "/hooks/refused-end", {"x": 1}).status, 202)
            ex = fl.start(E, "--workers", "1")
            try:
                fl.wait_for(lambda: fl.all_finished(E, wid, 1), timeout=60, what="the execution")
            finally:
                fl.stop(ex)
            refused = fl.sql(E, "SELECT last_value FROM public.refuse_end_seq")
        finally:
            fl.sql(E, "DROP TRIGGER refuse_end ON glyphic.executions; DROP FUNCTION public.refuse_end(); "
                      "DROP SEQUENCE public.refuse_end_seq")
        self.assertEqual(refused, "2")  # refused once, then let through
        self.assertEqual(fl.statuses(E, wid), {"succeeded": 1})
        self.assertEqual(SRV.count("/json/refused-end"), 1)
        steps = fl.sql(E, f"SELECT string_agg(s.node_id, ',' ORDER BY s.seq) FROM glyphic.execution_steps s "
                          f"JOIN glyphic.executions e ON e.id = s.execution_id WHERE e.workflow_id = '{wid}'")
        self.assertEqual(steps, "hook,call")

    def test_sigkilled_worker_unstarted_runs_go_back_at_once_the_started_one_waits(self):
        # shipped lease and maintenance interval. A worker dies holding
        # claimed workflow runs: those it never started must not wait for
        # the lease (60 s); those it started must (its worker might only be
        # cut off, still calling out)
        a = fl.user(E)
        hook = fl.hook_node("recovery")
        call = fl.http_node("call", SRV.url + "/slow/40?k={{ $json.body.k }}")
        wid = fl.create(a, [hook, call], fl.chain(hook, call))
        for k in range(120):
            self.assertEqual(E.request("POST", "/hooks/recovery", {"k": k}).status, 202)
        envv = dict(os.environ, GLYPHIC_EXECUTOR_LEASE="60", GLYPHIC_EXECUTOR_MAINTENANCE_INTERVAL="5")
        log = open(os.path.join(E.base, "executor-recovery.stderr"), "w")
        ex = subprocess.Popen([fl.EXECUTOR, "-c", E.fcgi.conf, "--daemon", "--workers", "1"],
                              stdout=subprocess.DEVNULL, stderr=log, env=envv, start_new_session=True)
        log.close()
        try:
            fl.wait_for(lambda: SRV.count("/slow/40") >= 20, what="executions running")
            # between two batches the worker holds nothing: wait for a batch
            owner = fl.wait_for(lambda: fl.sql(E, "SELECT lease_owner FROM glyphic.jobs WHERE state = 'running' "
                                                  "AND lease_owner IS NOT NULL LIMIT 1"), every=0.01,
                                what="a claimed batch")
            os.kill(int(owner.split(":")[-2]), signal.SIGKILL)
            t0 = time.monotonic()
            held = int(fl.sql(E, f"SELECT count(*) FROM glyphic.jobs WHERE lease_owner = '{owner}'"))
            # started: the one in flight, and finished ones whose end the
            # worker had not recorded yet (running them again is a no-op)
            started = fl.sql(E, f"SELECT id FROM glyphic.jobs WHERE lease_owner = '{owner}' AND started").split()
            ids = f"ARRAY[{','.join(started) or 'NULL'}]::bigint[]"
            inflight = int(fl.sql(E, f"SELECT count(*) FROM glyphic.executions WHERE run_job = ANY ({ids})"))
            unstarted = f"SELECT count(*) FROM glyphic.jobs WHERE lease_owner = '{owner}' AND id <> ALL ({ids})"
            fl.wait_for(lambda: fl.sql(E, unstarted) == "0", timeout=90, every=0.05,
                        what="the dead worker's unstarted runs requeued")
            requeued = time.monotonic() - t0
            fl.wait_for(lambda: fl.statuses(E, wid).get("succeeded", 0) == 120 - inflight, timeout=90,
                        what="the other executions")
            # the started run is still leased to the dead worker: it waits
            # for its lease, not for a guess that its worker is gone
            left = fl.sql(E, f"SELECT count(*) FROM glyphic.jobs WHERE lease_owner = '{owner}'")
            elapsed = time.monotonic() - t0
        finally:
            fl.stop(ex)
        print(f"\nrecovery after SIGKILL of a worker holding {held} claimed run(s) ({len(started)} started, "
              f"{inflight} in flight), "
              f"lease 60 s, maintenance 5 s: unstarted ones requeued after {requeued:.1f} s", flush=True)
        self.assertLess(requeued, 30)
        self.assertLess(elapsed, 55)
        self.assertEqual(int(left), len(started))
        calls = [r["query"]["k"] for r in SRV.requests("/slow/40")]
        self.assertEqual(len(calls), len(set(calls)))  # nothing ran twice
        self.assertGreaterEqual(len(set(calls)), 120 - len(started))

    def test_a_live_worker_cut_off_for_less_than_its_lease_keeps_its_run(self):
        # lease 30 s (renewed every 5 s). The worker running a 20 s call
        # loses its connections and cannot log in again for 15 s: it is
        # alive, so nobody else may start that call again
        a = fl.user(E)
        hook = fl.hook_node("cut-off")
        slow = fl.http_node("slow", SRV.url + "/slow/20000")
        done = fl.http_node("done", SRV.url + "/json/cut-off-done")
        wid = fl.create(a, [hook, slow, done], fl.chain(hook, slow, done))
        envv = dict(os.environ, GLYPHIC_EXECUTOR_LEASE="30")
        log = open(os.path.join(E.base, "executor-cutoff.stderr"), "w")
        ex = subprocess.Popen([fl.EXECUTOR, "-c", E.fcgi.conf, "--daemon", "--workers", "2"],
                              stdout=subprocess.DEVNULL, stderr=log, env=envv, start_new_session=True)
        log.close()
        try:
            self.assertEqual(E.request("POST", "/hooks/cut-off", {}).status, 202)
            fl.wait_for(lambda: SRV.count("/slow/20000") == 1, what="the slow call in flight")
            owner = fl.sql(E, "SELECT lease_owner FROM glyphic.jobs WHERE state = 'running' AND kind = 'workflow.run'")
            fl.sql(E, "ALTER ROLE glyphic_executor NOLOGIN")
            try:
                n = fl.sql(E, f"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                              f"WHERE application_name = 'glyphic-executor {owner}'")
                self.assertGreaterEqual(int(n), 1)
                time.sleep(15)  # longer than two beats, shorter than the lease
            finally:
                fl.sql(E, "ALTER ROLE glyphic_executor LOGIN")
            fl.wait_for(lambda: fl.all_finished(E, wid, 1), timeout=60, what="the execution")
        finally:
            fl.stop(ex)
        self.assertEqual(fl.statuses(E, wid), {"succeeded": 1})
        self.assertEqual((SRV.count("/slow/20000"), SRV.count("/json/cut-off-done")), (1, 1))
    def test_the_app_role_cannot_run_fence_or_rescue(self):
        # glyphic-fcgi's role must not load, record, finish, renew, release
        # or rescue behind the executor's back
        calls = ["glyphic.exec_load(gen_random_uuid(), 1, 1, 'x')",
                 "glyphic.exec_finish(gen_random_uuid(), 'failed', NULL, NULL, NULL, NULL, NULL, 1, 1, 'x')",
                 "glyphic.exec_insert_steps_fenced(gen_random_uuid(), gen_random_uuid(), '[]', 1, 1, 'x')",
                 "glyphic.job_fence(1, 1, 'x')", "glyphic.job_holds(1, 1, 'x')",
                 "glyphic.fail_jobs_json('[]', 'x')", "glyphic.rescue_jobs(60, 10)",
                 "glyphic.release_jobs(ARRAY[1]::bigint[], 'x')", "glyphic.heartbeat_jobs(ARRAY[1]::bigint[], 'x', 60)",
                 "glyphic.claim_jobs('default', 'x', 1, 60)"]
        for call in calls:
            r = E.pg.psql(f"SELECT {call}", user="glyphic_app", check=False)
            self.assertNotEqual(r.returncode, 0, call)
            self.assertIn("permission denied", r.stderr, call)


if __name__ == "__main__":
    unittest.main(verbosity=2)
