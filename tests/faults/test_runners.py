"""One executor process runs several executions at once (executor.concurrency,
executor/runners.c): executions waiting on HTTP calls are in flight
together (the test server's /together barrier answers only when that many
calls wait at once, so no timing is involved), one at a time when the
setting is 1; a call still running does not keep the process from
claiming and starting more; SIGTERM lets every running one finish; SIGKILL with all of
them in flight loses none and repeats only the calls in flight."""
import os
import signal
import unittest

import faultlib as fl
import harness
from testserver import TestServer

E = None
SRV = None


def setUpModule():
    global E, SRV
    SRV = TestServer().start()
    E = fl.env(**harness.ALLOW_TEST_SERVER)  # the test server is on loopback


def tearDownModule():
    E.close()
    SRV.stop()


def http_flow(a, path, url):
    hook = fl.hook_node(path)
    call = fl.http_node("call", url)
    return fl.create(a, [hook, call], fl.chain(hook, call))


def start_with(concurrency, *args):
    os.environ["GLYPHIC_EXECUTOR_CONCURRENCY"] = str(concurrency)
    try:
        return fl.start(E, "--workers", "1", *args)
    finally:
        del os.environ["GLYPHIC_EXECUTOR_CONCURRENCY"]


class RunnersTest(unittest.TestCase):
    def setUp(self):
        fl.sql(E, "DELETE FROM glyphic.jobs")
        SRV.reset()

    def post(self, path, n):
        for k in range(n):
            self.assertEqual(E.request("POST", f"/hooks/{path}", {"k": k}).status, 202)

    def test_http_waits_overlap_in_one_process(self):
        a = fl.user(E)
        wid = http_flow(a, "together-8", SRV.url + "/together/eight/8")
        self.post("together-8", 8)
        ex = start_with(8)
        try:
            fl.wait_for(lambda: fl.all_finished(E, wid, 8), timeout=60, what="the eight executions")
        finally:
            fl.stop(ex)
        # the barrier answered 200 only once all eight calls waited at once
        self.assertEqual(fl.statuses(E, wid), {"succeeded": 8})
        out = fl.sql(E, f"SELECT string_agg(DISTINCT s.output->'main'->0->'body'->>'waiting', ',') "
                        f"FROM glyphic.execution_steps s JOIN glyphic.executions e ON e.id = s.execution_id "
                        f"WHERE e.workflow_id = '{wid}' AND s.node_id = 'call'")
        self.assertEqual(out, "8")
        self.assertEqual(SRV.count("/together/eight/8"), 8)

    def test_a_running_call_does_not_hold_back_the_next_claim(self):
        # one execution's call waits at the barrier; the three that can meet
        # it are queued only then, so a later claim has to start them while
        # the first still runs (a loop that waited for its whole batch to
        # end before claiming again never would: the first call would get
        # its 504 after 20 s)
        a = fl.user(E)
        wid = http_flow(a, "meet-4", SRV.url + "/together/meet/4?wait_ms=20000")
        ex = start_with(4)
        try:
            self.post("meet-4", 1)
            fl.wait_for(lambda: SRV.count("/together/meet/4") == 1, timeout=30, what="the first call in flight")
            self.post("meet-4", 3)
            fl.wait_for(lambda: fl.all_finished(E, wid, 4), timeout=60, what="the four executions")
            fl.wait_for(lambda: fl.sql(E, "SELECT count(*) FROM glyphic.jobs") == "0", timeout=30,
                        what="their outcomes recorded")
        finally:
            fl.stop(ex)
        self.assertEqual(fl.statuses(E, wid), {"succeeded": 4})
        self.assertEqual(SRV.count("/together/meet/4"), 4)

    def test_concurrency_1_runs_one_at_a_time(self):
        a = fl.user(E)
        wid = http_flow(a, "together-2", SRV.url + "/together/two/2?wait_ms=1500")
        self.post("together-2", 2)
        ex = start_with(1)
        try:
            fl.wait_for(lambda: fl.all_finished(E, wid, 2), timeout=60, what="the two executions")
        finally:
            fl.stop(ex)
        # never two calls in flight: each waited alone and was answered 504
        self.assertEqual(fl.statuses(E, wid), {"failed": 2})
        self.assertEqual(SRV.count("/together/two/2"), 2)

    def test_sigterm_lets_every_running_execution_finish(self):
        a = fl.user(E)
        wid = http_flow(a, "term-8", SRV.url + "/slow/2000?k={{ $json.body.k }}")
        self.post("term-8", 8)
        ex = start_with(8)
        fl.wait_for(lambda: SRV.count("/slow/2000") == 8, timeout=30, what="eight calls in flight")
        os.killpg(ex.pid, signal.SIGTERM)
        self.assertEqual(ex.wait(60), 0)
        self.assertEqual(fl.statuses(E, wid), {"succeeded": 8})
        self.assertEqual(fl.sql(E, "SELECT count(*) FROM glyphic.jobs"), "0")
        self.assertEqual(sorted(int(r["query"]["k"]) for r in SRV.requests("/slow/2000")), list(range(8)))

    def test_sigkill_with_all_in_flight_loses_none(self):
        a = fl.user(E)
        wid = http_flow(a, "kill-8", SRV.url + "/slow/3000?k={{ $json.body.k }}")
        self.post("kill-8", 8)
        ex = start_with(8)
        try:
            fl.wait_for(lambda: SRV.count("/slow/3000") == 8, timeout=30, what="eight calls in flight")
            fl.stop(ex, signal.SIGKILL)
            ex = start_with(8)
            fl.wait_for(lambda: fl.all_finished(E, wid, 8), timeout=90, what="the eight executions")
        finally:
            fl.stop(ex)
        self.assertEqual(fl.statuses(E, wid), {"succeeded": 8})
        calls = [int(r["query"]["k"]) for r in SRV.requests("/slow/3000")]
        # each call at most twice: the one in flight at the SIGKILL may repeat
        self.assertEqual(sorted(set(calls)), list(range(8)))
        self.assertLessEqual(max(calls.count(k) for k in range(8)), 2)
        steps = fl.sql(E, f"SELECT count(*), count(DISTINCT (s.execution_id, s.node_id)) FROM glyphic.execution_steps s "
                          f"JOIN glyphic.executions e ON e.id = s.execution_id WHERE e.workflow_id = '{wid}'")
        self.assertEqual(steps, "16|16")
        self.assertEqual(fl.sql(E, "SELECT count(*) FROM glyphic.jobs"), "0")


if __name__ == "__main__":
    unittest.main(verbosity=2)
