"""Timeouts answer retryable JSON errors (issue 10, item 6).

A statement that runs past db.statement_timeout (SQLSTATE 57014) or waits
past the role's lock_timeout (55P03) rolls back; the client gets 503
`database_timeout` with Retry-After -- not 500 `internal` -- and the worker
goes on serving. Requests are made slow by holding an ACCESS EXCLUSIVE lock
on the tables they need from a superuser's psql. And when glyphic-fcgi does
not answer within nginx's fastcgi_read_timeout, nginx answers a JSON 504
`gateway_timeout` (without Retry-After: the request may still complete).
"""
import os
import subprocess
import time
import unittest
import uuid

import harness

ENV = None
STATEMENT_TIMEOUT_MS = 2000
LOCKER = "glyphic-test-locker"


def setUpModule():
    global ENV
    ENV = harness.Env(workers=2, fcgi_extra={"db.statement_timeout": str(STATEMENT_TIMEOUT_MS)}).start_all()


def tearDownModule():
    ENV.close()


def lock(*tables):
    """Holds ACCESS EXCLUSIVE locks on glyphic.<tables> until unlock()."""
    sql = "BEGIN; " + "".join(f"LOCK TABLE glyphic.{t} IN ACCESS EXCLUSIVE MODE; " for t in tables) + \
        "SELECT pg_sleep(60); COMMIT;"
    p = subprocess.Popen([os.path.join(ENV.pg.bindir, "psql"), "-X", "-q", "-h", ENV.pg.sock, "-p", str(ENV.pg.port),
                          "-U", "postgres", "-d", "glyphic", "-c", sql],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ, PGAPPNAME=LOCKER))
    harness.wait_for(lambda: ENV.pg.psql(
        "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
        f"WHERE a.application_name = '{LOCKER}' AND l.locktype = 'relation' AND l.granted "
        "AND l.mode = 'AccessExclusiveLock'") == str(len(tables)), what="locks held")
    return p


def unlock(p):
    ENV.pg.psql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '{LOCKER}'")
    p.wait(15)


def hook_flow(path):
    trig = {"id": "hook", "type": "trigger.webhook", "name": "Hook", "params": {"path": path, "mode": "async"}}
    setn = {"id": "set", "type": "data.set", "name": "Set", "params": {"fields": {"ok": True}}}
    return {"nodes": [trig, setn], "edges": [{"from": "hook", "to": "set"}]}


class TimeoutTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.owner = ENV.signup(f"timeouts-{uuid.uuid4().hex[:8]}@example.com")
        cls.path = f"timeouts-{uuid.uuid4().hex[:6]}"
        r = cls.owner.post("/api/workflows", {"name": "t", "definition": hook_flow(cls.path)})
        assert r.status == 201, r
        r = cls.owner.post(f"/api/workflows/{r.json()['id']}/activate")
        assert r.status == 200, r
        # both workers cache the webhook: the timed-out statement is the write
        for _ in range(6):
            r = ENV.request("POST", "/hooks/" + cls.path, body={})
            assert r.status == 202, r

    def assertTimeout(self, r, what):
        self.assertEqual(r.status, 503, f"{what}: {r}")
        self.assertTrue(r.header("Content-Type").startswith("application/json"), r.headers)
        err = r.json()["error"]
        self.assertEqual(err["code"], "database_timeout", f"{what}: {r}")
        self.assertIn("try again", err["message"])
        self.assertEqual(err["request_id"], r.header("X-Request-Id"))
        self.assertEqual(r.header("Retry-After"), "1", what)

    def assertServing(self, pids):
        """Every request kind works again, from the same workers."""
        for _ in range(6):
            self.assertEqual(self.owner.get("/api/workflows").status, 200)
            self.assertEqual(ENV.request("POST", "/hooks/" + self.path, body={}).status, 202)
        r = self.owner.post("/api/workflows", {"name": "after", "definition": hook_flow(f"x-{uuid.uuid4().hex[:6]}")})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(ENV.request("GET", "/api/health").status, 200)
        self.assertEqual(set(ENV.fcgi.workers()), pids)

    def requests_under_lock(self):
        return [
            ("list", lambda: self.owner.get("/api/workflows")),
            ("create", lambda: self.owner.post("/api/workflows", {"name": "slow", "definition": hook_flow(
                f"s-{uuid.uuid4().hex[:6]}")})),
            ("webhook", lambda: ENV.request("POST", "/hooks/" + self.path, body={})),
        ]

    def test_statement_timeout_is_503_with_retry_after(self):
        pids = set(ENV.fcgi.workers())
        before = ENV.pg.psql("SELECT count(*) FROM glyphic.executions")
        locker = lock("workflows", "executions")
        try:
            for what, call in self.requests_under_lock():
                t0 = time.monotonic()
                r = call()
                took = time.monotonic() - t0
                self.assertTimeout(r, what)
                self.assertGreaterEqual(took, STATEMENT_TIMEOUT_MS / 1000 * 0.9, what)
            # what needs no locked table is served meanwhile
            self.assertEqual(ENV.request("GET", "/api/health").status, 200)
        finally:
            unlock(locker)
        self.assertIn("database timeout (57014)", ENV.fcgi.log_text())
        self.assertEqual(ENV.pg.psql("SELECT count(*) FROM glyphic.executions"), before, "a timed-out call left a row")
        self.assertServing(pids)

    def test_lock_timeout_is_503_with_retry_after(self):
        ENV.pg.psql("ALTER ROLE glyphic_app SET lock_timeout = '300ms'")
        ENV.fcgi.stop()  # new connections take the role's setting
        ENV.fcgi.start()
        try:
            for _ in range(4):  # connect both workers and cache the webhook
                ENV.request("POST", "/hooks/" + self.path, body={})
            pids = set(ENV.fcgi.workers())
            locker = lock("workflows", "executions")
            try:
                for what, call in self.requests_under_lock():
                    t0 = time.monotonic()
                    r = call()
                    self.assertTimeout(r, what)
                    self.assertLess(time.monotonic() - t0, STATEMENT_TIMEOUT_MS / 1000, what)
            finally:
                unlock(locker)
            self.assertIn("database timeout (55P03)", ENV.fcgi.log_text())
            self.assertServing(pids)
        finally:
            ENV.pg.psql("ALTER ROLE glyphic_app RESET lock_timeout")
            ENV.fcgi.stop()
            ENV.fcgi.start()

    def test_upstream_timeout_is_json_504(self):
        # nginx gives up after 1 s; the worker's statement times out at 2 s
        ENV.nginx.stop()
        ENV.nginx.start(extra_args=("--fcgi-read-timeout", "1s"))
        try:
            pids = set(ENV.fcgi.workers())
            locker = lock("workflows", "executions")
            try:
                for what, call in self.requests_under_lock():
                    r = call()
                    self.assertEqual(r.status, 504, f"{what}: {r}")
                    self.assertTrue(r.header("Content-Type").startswith("application/json"), r.headers)
                    err = r.json()["error"]
                    self.assertEqual(err["code"], "gateway_timeout", what)
                    self.assertIn("may still complete", err["message"])
                    self.assertRegex(err["request_id"], r"^[0-9a-f]{32}$")
                    self.assertIsNone(r.header("Retry-After"))
                    self.assertEqual(r.header("X-Content-Type-Options"), "nosniff")
            finally:
                unlock(locker)
            time.sleep(STATEMENT_TIMEOUT_MS / 1000)  # the workers finish the abandoned requests
            self.assertServing(pids)
        finally:
            ENV.nginx.stop()
            ENV.nginx.start()


if __name__ == "__main__":
    unittest.main(verbosity=2)
