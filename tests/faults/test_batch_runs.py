"""Quick executions run a batch at a time (sql/027_batch_runs.sql,
executor/workflow_job.c): read together without being taken up, run in
memory, recorded together with their jobs' completion. Shown here: a
backlog is recorded whole and in batches; SIGKILL of the executor mid-drain
loses and repeats nothing (the dead worker's jobs were never marked
started, so they go back at once); a batch mixing quick runs with HTTP
calls, a many-step loop and a canceled execution ends each as run alone
would; and exec_finish_many's fences and answers, called as the executor's
role."""
import json
import signal
import unittest
from concurrent.futures import ThreadPoolExecutor

import faultlib as fl
import harness
from testserver import TestServer

E = None
SRV = None


def setUpModule():
    global E, SRV
    SRV = TestServer().start()
    E = fl.env(**{"executor.batch": "50", **harness.ALLOW_TEST_SERVER})
    # count the executor's functions (pg_stat_user_functions) in this database
    fl.sql(E, "ALTER DATABASE glyphic SET track_functions = 'pl'")


def tearDownModule():
    E.close()
    SRV.stop()


def quick(path):
    hook = fl.hook_node(path)
    setn = {"id": "set", "type": "data.set", "name": "Set",
            "params": {"fields": {"total": "{{ $json.body.a + $json.body.b }}"}}}
    return [hook, setn], fl.chain(hook, setn)


def post_many(path, bodies):
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda b: E.request("POST", f"/hooks/{path}", b).status, bodies))
    assert codes == [202] * len(bodies), set(codes)


def calls(fn):
    v = fl.sql(E, f"SELECT coalesce(sum(calls), 0) FROM pg_stat_user_functions WHERE funcname = '{fn}'")
    return int(v)


def as_executor(q):
    return fl.sql(E, q, user="glyphic_executor")


class BatchRunsTest(unittest.TestCase):
    def setUp(self):
        fl.sql(E, "DELETE FROM glyphic.jobs")

    def check_quick(self, wid, n):
        self.assertEqual(fl.statuses(E, wid), {"succeeded": n})
        # every execution: its two steps once, its output, started and finished, no runner left
        out = fl.sql(E, f"SELECT count(*), count(DISTINCT s.execution_id), "
                        f"count(*) FILTER (WHERE s.node_id = 'set' AND (s.output->'main'->0->>'total')::int = "
                        f"(e.input->0->'body'->>'a')::int + 3) "
                        f"FROM glyphic.execution_steps s JOIN glyphic.executions e ON e.id = s.execution_id "
                        f"WHERE e.workflow_id = '{wid}'")
        self.assertEqual(out, f"{2 * n}|{n}|{n}")
        bad = fl.sql(E, f"SELECT count(*) FROM glyphic.executions WHERE workflow_id = '{wid}' AND "
                        f"(started_at IS NULL OR finished_at < started_at OR run_job IS NOT NULL "
                        f"OR (output->0->>'total')::int <> (input->0->'body'->>'a')::int + 3)")
        self.assertEqual(bad, "0")
        self.assertEqual(fl.sql(E, "SELECT count(*) FROM glyphic.jobs"), "0")

    def test_a_backlog_is_recorded_whole_and_in_batches(self):
        a = fl.user(E)
        wid = fl.create(a, *quick("backlog"))
        post_many("backlog", [{"a": i, "b": 3} for i in range(400)])
        fl.sql(E, "SELECT pg_stat_reset()")
        done0 = fl.sql(E, "SELECT coalesce(sum(succeeded), 0) FROM glyphic.job_stats")
        ex = fl.start(E, "--workers", "1")
        try:
            fl.wait_for(lambda: fl.all_finished(E, wid, 400), timeout=120, what="the backlog")
            fl.wait_for(lambda: fl.sql(E, "SELECT count(*) FROM glyphic.jobs") == "0", what="the jobs completed")
        finally:
            fl.stop(ex)
        self.check_quick(wid, 400)
        # recorded together: a few statements per batch of up to 50, none
        # of the one-by-one path's
        finishes = calls("exec_finish_many")
        self.assertGreaterEqual(finishes, 8)
        self.assertLess(finishes, 400 / 4)
        self.assertEqual(calls("exec_load"), 0)
        self.assertEqual(calls("exec_finish"), 0)
        # the jobs' completions are counted as any others'
        done = fl.sql(E, "SELECT coalesce(sum(succeeded), 0) FROM glyphic.job_stats")
        self.assertEqual(int(done) - int(done0), 400)

    def test_sigkill_mid_drain_loses_and_repeats_nothing(self):
        a = fl.user(E)
        wid = fl.create(a, *quick("killed"))
        post_many("killed", [{"a": i, "b": 3} for i in range(3000)])
        ex = fl.start(E, "--workers", "2")
        try:
            fl.wait_for(lambda: fl.statuses(E, wid).get("succeeded", 0) >= 300, timeout=120, what="a part done")
            fl.stop(ex, signal.SIGKILL)
            # what the dead workers held was never marked started: nothing
            # of it waits for the lease, nothing was half recorded
            self.assertEqual(fl.sql(E, "SELECT count(*) FROM glyphic.jobs WHERE started"), "0")
            self.assertEqual(fl.sql(E, f"SELECT count(*) FROM glyphic.executions WHERE workflow_id = '{wid}' "
                                       f"AND status NOT IN ('queued', 'succeeded')"), "0")
            self.assertEqual(fl.sql(E, f"SELECT count(*) FROM glyphic.executions e WHERE workflow_id = '{wid}' "
                                       f"AND status = 'queued' AND EXISTS (SELECT 1 FROM glyphic.execution_steps s "
                                       f"WHERE s.execution_id = e.id)"), "0")
            ex = fl.start(E, "--workers", "2")
            fl.wait_for(lambda: fl.all_finished(E, wid, 3000), timeout=180, what="the rest")
            fl.wait_for(lambda: fl.sql(E, "SELECT count(*) FROM glyphic.jobs") == "0", what="the jobs completed")
        finally:
            fl.stop(ex)
        self.check_quick(wid, 3000)
        self.assertNotIn("duplicate key", fl.log_text(E))

    def test_a_mixed_batch_ends_each_as_alone(self):
        a = fl.user(E)
        wq = fl.create(a, *quick("mixed-quick"), name="quick")
        hook = fl.hook_node("mixed-http")
        call = fl.http_node("call", SRV.url + "/json/mixed?k={{ $json.body.k }}")
        wh = fl.create(a, [hook, call], fl.chain(hook, call), name="http")
        # a quick workflow longer than a batched run collects: run again alone
        lh = fl.hook_node("mixed-loop")
        loop = {"id": "loop", "type": "flow.loop", "name": "Loop", "params": {"batch_size": 1}}
        body = {"id": "body", "type": "data.set", "name": "Body", "params": {"fields": {"twice": "{{ $json.i * 2 }}"}}}
        split = {"id": "split", "type": "flow.split", "name": "Items", "params": {"field": "body.items"}}
        wl = fl.create(a, [lh, split, loop, body],
                       [{"from": "hook", "to": "split"}, {"from": "split", "to": "loop"},
                        {"from": "loop", "from_port": "batch", "to": "body"},
                        {"from": "body", "to": "loop", "to_port": "loop"}], name="loop")
        SRV.reset()
        for k in range(30):
            self.assertEqual(E.request("POST", "/hooks/mixed-quick", {"a": k, "b": 3}).status, 202)
            if k % 3 == 0:
                self.assertEqual(E.request("POST", "/hooks/mixed-http", {"k": k}).status, 202)
            if k % 10 == 0:
                self.assertEqual(E.request("POST", "/hooks/mixed-loop", {"items": [{"i": i} for i in range(40)]}).status,
                                 202)
        # one quick execution canceled while queued
        victim = fl.sql(E, f"SELECT id FROM glyphic.executions WHERE workflow_id = '{wq}' ORDER BY created_at "
                           f"LIMIT 1")
        self.assertEqual(a.post(f"/api/executions/{victim}/cancel").status, 200)
        ex = fl.start(E, "--workers", "1")
        try:
            fl.wait_for(lambda: fl.all_finished(E, wq, 30) and fl.all_finished(E, wh, 10)
                        and fl.all_finished(E, wl, 3), timeout=120, what="the mixed batch")
            fl.wait_for(lambda: fl.sql(E, "SELECT count(*) FROM glyphic.jobs") == "0", what="the jobs completed")
        finally:
            fl.stop(ex)
        self.assertEqual(fl.statuses(E, wq), {"succeeded": 29, "canceled": 1})
        self.assertEqual(fl.sql(E, f"SELECT status FROM glyphic.executions WHERE id = '{victim}'"), "canceled")
        self.assertEqual(fl.sql(E, f"SELECT count(*) FROM glyphic.execution_steps WHERE execution_id = '{victim}'"),
                         "0")
        self.assertEqual(fl.statuses(E, wh), {"succeeded": 10})
        self.assertEqual(sorted(int(r["query"]["k"]) for r in SRV.requests("/json/mixed")), list(range(0, 30, 3)))
        self.assertEqual(fl.statuses(E, wl), {"succeeded": 3})
        seqs = fl.sql(E, f"SELECT string_agg(n::text, ',') FROM (SELECT count(*) AS n, max(seq) AS m "
                         f"FROM glyphic.execution_steps s JOIN glyphic.executions e ON e.id = s.execution_id "
                         f"WHERE e.workflow_id = '{wl}' GROUP BY e.id) x WHERE n = m")
        self.assertEqual(seqs, "83,83,83")

    def test_finish_many_fences_and_answers(self):
        a = fl.user(E)
        wid = fl.create(a, *quick("fenced"))
        for k in range(4):
            self.assertEqual(E.request("POST", "/hooks/fenced", {"a": k, "b": 3}).status, 202)
        jobs = as_executor("SELECT string_agg(c.id::text || ':' || c.attempts || ':' || (c.payload->>'execution_id'), "
                           "' ' ORDER BY c.id) FROM glyphic.claim_jobs('default', 'me', 10, 60) c").split()
        self.assertEqual(len(jobs), 4)
        jobs = [j.split(":") for j in jobs]
        ids = "ARRAY[" + ",".join(f"'{j[2]}'" for j in jobs) + "]::uuid[]"
        fresh = as_executor(f"SELECT count(*) FROM glyphic.exec_fresh_many({ids})")
        self.assertEqual(fresh, "4")
        # reading took nothing up and marked nothing started
        self.assertEqual(fl.sql(E, "SELECT count(*) FROM glyphic.jobs WHERE started"), "0")
        self.assertEqual(fl.statuses(E, wid), {"queued": 4})

        def run(j, status="succeeded"):
            return {"job": int(j[0]), "attempt": int(j[1]), "id": j[2], "status": status, "output": [{"x": 1}],
                    "response": None, "error": None, "started_ms": 1700000000000,
                    "steps": [{"seq": 1, "node_id": "hook", "run_index": 0, "attempt": 1, "status": "succeeded",
                               "input": None, "output": {"main": [{"x": 1}]}, "state": None, "error": None,
                               "started_ms": 1700000000000, "finished_ms": 1700000000001}]}

        def finish(runs, owner="me", check=True):
            q = (f"SELECT string_agg(job_id || ':' || outcome || ':' || coalesce(status, '-'), ' ' ORDER BY job_id) "
                 f"FROM glyphic.exec_finish_many('{json.dumps(runs)}'::jsonb, '{owner}')")
            if check:
                return as_executor(q)
            return E.pg.psql(q, user="glyphic_executor", check=False)

        # another owner's fence: nothing recorded, nothing completed
        self.assertEqual(finish([run(jobs[0])], owner="someone else"), "")
        self.assertEqual(fl.statuses(E, wid), {"queued": 4})
        self.assertEqual(fl.sql(E, "SELECT count(*) FROM glyphic.jobs"), "4")
        # a wrong attempt is another fence
        self.assertEqual(finish([dict(run(jobs[0]), attempt=int(jobs[0][1]) + 1)]), "")
        # only ends are taken
        r = finish([run(jobs[0], "waiting")], check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("ends only", r.stderr)
        # canceled meanwhile: ended; taken up by another runner: alone
        self.assertEqual(a.post(f"/api/executions/{jobs[1][2]}/cancel").status, 200)
        fl.sql(E, f"UPDATE glyphic.executions SET status = 'running', started_at = now(), run_job = 1, "
                  f"run_attempt = 1, run_owner = 'other' WHERE id = '{jobs[2][2]}'")
        out = finish([run(j) for j in jobs])
        self.assertEqual(out, f"{jobs[0][0]}:done:succeeded {jobs[1][0]}:ended:canceled "
                              f"{jobs[2][0]}:alone:running {jobs[3][0]}:done:succeeded")
        left = fl.sql(E, "SELECT string_agg(id::text, ' ') FROM glyphic.jobs")
        self.assertEqual(left, jobs[2][0])  # the alone one's job is untouched, the others completed
        steps = fl.sql(E, f"SELECT string_agg(execution_id::text, ' ' ORDER BY execution_id) "
                          f"FROM glyphic.execution_steps WHERE execution_id IN ('{jobs[0][2]}', '{jobs[1][2]}', "
                          f"'{jobs[2][2]}', '{jobs[3][2]}')")
        self.assertEqual(steps, " ".join(sorted([jobs[0][2], jobs[3][2]])))
        # a second finish of the same runs: their jobs are gone, nothing again
        self.assertEqual(finish([run(jobs[0]), run(jobs[3])]), "")

    def test_the_app_role_cannot_read_or_finish_batches(self):
        for call in ["glyphic.exec_fresh_many(ARRAY[gen_random_uuid()])",
                     "glyphic.exec_finish_many('[]', 'x')"]:
            r = E.pg.psql(f"SELECT * FROM {call}", user="glyphic_app", check=False)
            self.assertNotEqual(r.returncode, 0, call)
            self.assertIn("permission denied", r.stderr, call)


if __name__ == "__main__":
    unittest.main(verbosity=2)
