"""The first write after a PostgreSQL restart (issue 10, item 5).

Every FastCGI worker holds one connection. When PostgreSQL restarts, each of
those connections dies while its worker is idle; once the database is back,
no request may fail -- least of all a worker's first request, whatever kind
of write it is: a sign-up or a log-in (public routes with their own
transaction), an authenticated write (BEGIN pipelined with the session
check), or a call to a webhook the worker has cached (no look-up first: the
first statement records or queues the execution).

Each round warms nothing new: it restarts PostgreSQL (fast or immediate),
waits until it accepts connections (with psql, not through a worker), then
sends more requests of one kind than there are workers, from as many
threads as there are workers, so every worker's first request after the
restart is of that kind. Every one must succeed.
"""
import concurrent.futures
import re
import time
import unittest
import uuid

import harness

ENV = None
WORKERS = 3
PASSWORD = "correct horse battery"


def setUpModule():
    global ENV
    # one socket for the API and webhooks: every worker must take webhook
    # calls, so that each can be shown holding a cached one across a restart
    ENV = harness.Env(workers=WORKERS, fcgi_extra={"db.retry_interval": "200",
                                                   "fcgi.hooks_socket": ""}).start_all()


def tearDownModule():
    ENV.close()


def chain(*nodes):
    return [{"from": a["id"], "to": b["id"]} for a, b in zip(nodes, nodes[1:])]


def hook_flow(path, mode):
    trig = {"id": "hook", "type": "trigger.webhook", "name": "Hook", "params": {"path": path, "mode": mode}}
    setn = {"id": "set", "type": "data.set", "name": "Set",
            "params": {"fields": {"sum": "{{ $json.body.a + $json.body.b }}"}}}
    resp = {"id": "respond", "type": "flow.respond", "name": "Respond",
            "params": {"body": "{{ { sum: $json.sum } }}"}}
    return {"nodes": [trig, setn, resp], "edges": chain(trig, setn, resp)}


def hook_pids(path):
    """Pids of the workers that have answered a call of /hooks/<path> (so
    cached it)."""
    pat = re.compile(r"glyphic-fcgi\[(\d+)\] req=\S+: POST /hooks/" + re.escape(path) + r" (\d+) ")
    return {int(m.group(1)) for m in pat.finditer(ENV.fcgi.log_text()) if m.group(2) in ("200", "202")}


def parallel(fns):
    """Runs the callables from WORKERS threads; returns their results in order."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return list(pool.map(lambda f: f(), fns))


class FirstWriteAfterRestartTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.owner = ENV.signup(f"owner-{uuid.uuid4().hex[:8]}@example.com")
        cls.login_email = f"login-{uuid.uuid4().hex[:8]}@example.com"
        ENV.signup(cls.login_email)
        cls.paths = {}
        for mode in ("async", "sync"):
            path = f"restart-{mode}-{uuid.uuid4().hex[:6]}"
            r = cls.owner.post("/api/workflows", {"name": mode, "definition": hook_flow(path, mode)})
            assert r.status == 201, r
            r = cls.owner.post(f"/api/workflows/{r.json()['id']}/activate")
            assert r.status == 200, r
            cls.paths[mode] = path
        # every worker connected and holding both webhooks in its cache
        pids = set(ENV.fcgi.workers())
        assert len(pids) == WORKERS, pids
        deadline = time.monotonic() + 30
        for path in cls.paths.values():
            while not pids <= hook_pids(path):
                assert time.monotonic() < deadline, f"not every worker cached {path}"
                parallel([lambda p=path: ENV.request("POST", "/hooks/" + p, body={"a": 1, "b": 2})] * WORKERS)
        assert ENV.pg.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'glyphic-fcgi'") \
            == str(WORKERS)

    def setUp(self):
        # the same workers all along: a replaced worker would start with a
        # fresh connection and prove nothing
        self.assertEqual(len(ENV.fcgi.workers()), WORKERS)
        self.pids = set(ENV.fcgi.workers())

    def tearDown(self):
        self.assertEqual(set(ENV.fcgi.workers()), self.pids, "a worker was replaced")

    def restart(self, mode):
        ENV.pg.stop(mode)
        ENV.pg.start()
        # up for real: the application role can run a statement
        harness.wait_for(lambda: ENV.pg.psql("SELECT 1", user="glyphic_app", check=False).returncode == 0,
                         what="PostgreSQL accepting the application role")
        # past db.retry_interval, so no worker's throttle remembers the outage
        time.sleep(0.3)

    def signup(self):
        return ENV.client().post("/api/auth/signup", {"email": f"s-{uuid.uuid4().hex[:10]}@example.com",
                                                      "password": PASSWORD, "name": "S"})

    def login(self):
        return ENV.client().post("/api/auth/login", {"email": self.login_email, "password": PASSWORD})

    def create(self):
        c = harness.Client(ENV)
        c.cookie, c.csrf = self.owner.cookie, self.owner.csrf
        return c.post("/api/workflows", {"name": "after-restart", "definition": hook_flow(
            f"unused-{uuid.uuid4().hex[:8]}", "async")})

    def hook(self, mode):
        return ENV.request("POST", "/hooks/" + self.paths[mode], body={"a": 2, "b": 3})

    def round(self, mode, kind, fn, want):
        self.restart(mode)
        n = 2 * WORKERS + 1
        results = parallel([fn] * n)
        statuses = [r.status for r in results]
        bad = [r for r in results if r.status != want]
        print(f"  {mode:9} {kind:12} {statuses}", flush=True)
        with self.subTest(mode=mode, kind=kind):
            self.assertFalse(bad, f"after a {mode} restart, {kind}: {len(bad)} of {n} failed: {bad[:3]}")
        return [r for r in results if r.status == want]

    def check_all(self, mode):
        self.round(mode, "sign-up", self.signup, 201)
        self.round(mode, "log-in", self.login, 200)
        self.round(mode, "create", self.create, 201)
        for r in self.round(mode, "hook async", lambda: self.hook("async"), 202):
            self.assertEqual(r.json()["status"], "queued")
        for r in self.round(mode, "hook direct", lambda: self.hook("sync"), 200):
            self.assertEqual(r.json(), {"sum": 5})

    def test_fast_restart(self):
        self.check_all("fast")

    def test_immediate_restart(self):
        self.check_all("immediate")


if __name__ == "__main__":
    unittest.main(verbosity=2)
