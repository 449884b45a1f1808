"""PostgreSQL restarted under webhook load loses no accepted execution
(issue 10: "the existing guarantees stay measured").

Client threads call an active async webhook without pause while PostgreSQL
is stopped (fast, then immediate), left down for a moment and started
again; glyphic-executor runs as --daemon throughout. Every call answered
2xx names an execution, and every one of those must end `succeeded`, with
each node run once. Calls made while the database is down may fail -- with
503 and JSON, never 500 -- and none may fail once it is back (beyond the
workers' db.retry_interval). The counts are printed.
"""
import os
import signal
import subprocess
import threading
import time
import unittest
import uuid

import harness

ENV = None
EXECUTOR = os.path.join(harness.BUILD, "executor", "glyphic-executor")
CLIENTS = 3
PAUSE_S = 0.05  # between one client's calls: load, not a benchmark
DOWN_S = 1.5
RETRY_INTERVAL_MS = 200


def setUpModule():
    global ENV
    # synchronous_commit on: an immediate stop is a crash, and a commit
    # acknowledged from WAL buffers not yet written would be lost with it
    ENV = harness.Env(workers=3, pg_settings={"synchronous_commit": "on"}, fcgi_extra={
        "db.retry_interval": str(RETRY_INTERVAL_MS), "log.level": "info",
        "executor.lease": "5", "executor.poll_ms": "200", "executor.maintenance_interval": "1",
        "executor.workers": "2"}).start_all()


def tearDownModule():
    ENV.close()


class Load:
    """Client threads calling /hooks/<path> until stopped; each call is
    (start time, end time, status, execution id or None, body)."""

    def __init__(self, path):
        self.path = path
        self.calls = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(i,)) for i in range(CLIENTS)]

    def run(self, k):
        n = 0
        while not self.stopping.is_set():
            n += 1
            t0 = time.monotonic()
            try:
                r = ENV.request("POST", "/hooks/" + self.path, body={"client": k, "n": n}, timeout=30)
                status, body = r.status, r.body
                eid = r.json().get("execution_id") if 200 <= status < 300 else None
            except (OSError, ValueError) as e:
                status, body, eid = 0, repr(e).encode(), None
            with self.lock:
                self.calls.append((t0, time.monotonic(), status, eid, body))
            self.stopping.wait(PAUSE_S)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        for t in self.threads:
            t.join(60)


class RestartUnderLoadTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.owner = ENV.signup(f"load-{uuid.uuid4().hex[:8]}@example.com")
        cls.stderr = open(os.path.join(ENV.base, "executor.stderr"), "w")
        cls.executor = subprocess.Popen([EXECUTOR, "-c", ENV.fcgi.conf, "--daemon"], stdout=subprocess.DEVNULL,
                                        stderr=cls.stderr, start_new_session=True)

    @classmethod
    def tearDownClass(cls):
        if cls.executor.poll() is None:
            os.killpg(cls.executor.pid, signal.SIGTERM)
            cls.executor.wait(30)
        cls.stderr.close()

    def make_hook(self):
        path = f"load-{uuid.uuid4().hex[:8]}"
        trig = {"id": "hook", "type": "trigger.webhook", "name": "Hook", "params": {"path": path, "mode": "async"}}
        setn = {"id": "set", "type": "data.set", "name": "Set",
                "params": {"fields": {"seen": "{{ $json.body.n }}"}}}
        r = self.owner.post("/api/workflows", {"name": path, "definition": {
            "nodes": [trig, setn], "edges": [{"from": "hook", "to": "set"}]}})
        self.assertEqual(r.status, 201, r)
        r = self.owner.post(f"/api/workflows/{r.json()['id']}/activate")
        self.assertEqual(r.status, 200, r)
        return path

    def restart_under_load(self, mode):
        path = self.make_hook()
        with Load(path) as load:
            time.sleep(1.0)
            ENV.pg.stop(mode)
            time.sleep(DOWN_S)
            ENV.pg.start()
            back = time.monotonic()
            time.sleep(2.0)
        calls = load.calls
        accepted = [c for c in calls if 200 <= c[2] < 300]
        failed = [c for c in calls if not 200 <= c[2] < 300]
        statuses = sorted({c[2] for c in failed})
        print(f"\n  {mode} restart: {len(calls)} calls, {len(accepted)} accepted, {len(failed)} failed "
              f"(statuses {statuses})", flush=True)
        self.assertGreater(len(accepted), 20)
        self.assertTrue(all(c[2] == 202 for c in accepted))
        # a failure is the database being away: 503 JSON, never 500
        for c in failed:
            self.assertEqual(c[2], 503, c)
            self.assertIn(b'"database_unavailable"', c[4])
        # once the database is back, nothing fails
        late = [c for c in failed if c[0] > back + RETRY_INTERVAL_MS / 1000 + 0.1]
        self.assertFalse(late, f"{len(late)} calls failed after the database was back: {late[:3]}")

        # every accepted call's execution finishes, succeeded, each node once
        ids = [c[3] for c in accepted]
        self.assertEqual(len(set(ids)), len(ids))
        id_list = "{" + ",".join(ids) + "}"

        def settled():
            return ENV.pg.psql("SELECT count(*) FROM glyphic.executions WHERE id = ANY($q$%s$q$::uuid[]) "
                               "AND status IN ('succeeded', 'failed', 'canceled')" % id_list) == str(len(ids))
        try:
            harness.wait_for(settled, timeout=60, what=f"{len(ids)} executions to finish")
        except TimeoutError:
            states = ENV.pg.psql("SELECT status, count(*) FROM glyphic.executions WHERE id = ANY($q$%s$q$::uuid[]) "
                                 "GROUP BY 1" % id_list).replace("\n", ", ")
            errors = [line for line in ENV.fcgi.log_text().splitlines()
                      if "glyphic-executor" in line and " ERROR " in line]
            self.fail(f"accepted executions did not finish within 60 s: {states}; "
                      f"executor errors ({len(errors)}): {errors[:3]}")
        rows = ENV.pg.psql(
            "SELECT e.status, count(s.*) FILTER (WHERE s.node_id = 'set'), count(*) FILTER (WHERE s.node_id = 'hook') "
            "FROM glyphic.executions e LEFT JOIN glyphic.steps s ON s.execution_id = e.id "
            "WHERE e.id = ANY($q$%s$q$::uuid[]) GROUP BY e.id, e.status" % id_list).splitlines()
        self.assertEqual(len(rows), len(ids), "an accepted execution is missing")
        bad = [r for r in rows if r != "succeeded|1|1"]
        self.assertFalse(bad, f"{len(bad)} of {len(ids)} executions did not succeed once: {bad[:5]}")
        print(f"  {mode} restart: all {len(ids)} accepted executions succeeded", flush=True)
        self.assertIsNone(self.executor.poll(), "the executor exited")

    def test_fast_restart(self):
        self.restart_under_load("fast")

    def test_immediate_restart(self):
        self.restart_under_load("immediate")


if __name__ == "__main__":
    unittest.main(verbosity=2)
