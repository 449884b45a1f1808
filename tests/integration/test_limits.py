"""Per-org limits (issue 14, item 8): webhook calls per minute, executions
running at once, and the operator's overrides (sql/016_org_limits.sql,
cli/org_limits.c).

- One org flooding its webhooks gets 429 rate_limited with Retry-After —
  async, direct sync and queued sync calls alike, nothing started — while
  another org's webhooks are served as usual.
- With a concurrency limit of 2, 50 queued executions of one org all
  finish, never more than 2 at once (from the recorded executions' start
  and end, and from the jobs table sampled while they run), while a second
  org's executions, queued after them, finish while the first org still has
  a backlog (the claim is fair between orgs).
- `glyphic org limits` refuses bad input with a clear message and exit
  status; the configured defaults reach the database at `glyphic migrate`.
- A member of an org cannot change its limits with SQL as the app role.

Real PostgreSQL, glyphic-fcgi, glyphic-events, nginx, glyphic-executor and
the local HTTP test server (slow answers)."""
import os
import signal
import subprocess
import threading
import time
import unittest
import uuid

import harness
from testserver import TestServer

ENV = None
SRV = None
EXECUTOR = os.path.join(harness.BUILD, "executor", "glyphic-executor")


def setUpModule():
    global ENV, SRV
    SRV = TestServer().start()
    ENV = harness.Env(workers=2, fcgi_extra={
        "executor.poll_ms": "200", "executor.maintenance_interval": "1", "log.level": "info",
        **harness.ALLOW_TEST_SERVER})
    ENV.start_all()


def tearDownModule():
    ENV.close()
    SRV.stop()


def sql(q):
    return ENV.pg.psql(q, user="postgres")


def user(prefix):
    return ENV.signup(f"{prefix}-{uuid.uuid4().hex[:8]}@example.com")


def limits(*args, check=True):
    return ENV.glyphic("org", "limits", *args, check=check)


def flow(path, mode="async", slow_ms=None, direct=True):
    trig = {"id": "hook", "type": "trigger.webhook", "name": "Hook",
            "params": {"path": path, "mode": mode, "method": "POST"}}
    if slow_ms:
        work = {"id": "work", "type": "http.request", "name": "Work",
                "params": {"url": f"{SRV.url}/slow/{slow_ms}"}}
    else:
        work = {"id": "work", "type": "data.set", "name": "Work", "params": {"fields": {"ok": True}}}
        if not direct:
            work["retry"] = {"max": 2}  # may retry: not run in glyphic-fcgi, queued for the executor
    return {"nodes": [trig, work], "edges": [{"from": "hook", "to": "work"}]}


def activate(c, d, name="Flow"):
    r = c.post("/api/workflows", {"name": name, "definition": d})
    assert r.status == 201, r
    wid = r.json()["id"]
    r = c.post(f"/api/workflows/{wid}/activate")
    assert r.status == 200, r
    return wid


def hook(path, body=None):
    return ENV.request("POST", "/hooks/" + path, body=body or {"x": 1})


def executions_of(org):
    return int(sql(f"SELECT count(*) FROM glyphic.executions WHERE org_id = '{org}'"))


def away_from_minute_end(margin=15):
    """Waits until the database's minute has at least margin seconds left, so
    a flood is counted within one minute."""
    while float(sql("SELECT extract(second FROM now())")) > 60 - margin:
        time.sleep(0.5)


def max_overlap(intervals):
    """The most intervals (start, end) open at one instant."""
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])  # ends first on ties
    best = cur = 0
    for _, d in events:
        cur += d
        best = max(best, cur)
    return best


class WebhookRateTest(unittest.TestCase):
    def test_a_flooding_org_gets_429_while_another_is_served(self):
        a, b = user("flood"), user("calm")
        org_a, org_b = a.me["org_id"], b.me["org_id"]
        tag = uuid.uuid4().hex[:6]
        p_async, p_direct, p_queued = f"a-async-{tag}", f"a-direct-{tag}", f"a-queued-{tag}"
        activate(a, flow(p_async))
        activate(a, flow(p_direct, mode="sync"))
        activate(a, flow(p_queued, mode="sync", direct=False))
        p_b = f"b-async-{tag}"
        activate(b, flow(p_b))
        limits(org_a, "--webhooks-per-minute", "5")
        limits(org_b, "--webhooks-per-minute", "100")  # counted, far from its limit
        away_from_minute_end()

        answers = [hook(p_direct).status for _ in range(3)]  # run in glyphic-fcgi: 200
        answers += [hook(p_async).status for _ in range(2)]
        # the first refusal is the database's (hook_record returns NULL);
        # then each glyphic-fcgi worker that was refused refuses by itself
        answers += [hook(p_direct).status]
        answers += [hook(p_async).status for _ in range(7)]
        self.assertEqual(answers, [200] * 3 + [202] * 2 + [429] * 8)
        for path in (p_direct, p_queued, p_async):
            r = hook(path)
            self.assertEqual(r.status, 429, (path, r))
            self.assertEqual(r.json()["error"]["code"], "rate_limited")
            retry = int(r.header("Retry-After"))
            self.assertTrue(1 <= retry <= 60, retry)
        # the hook statements themselves (what any worker asks first):
        # NULL, and nothing written
        ver = sql(f"SELECT version FROM glyphic.webhooks WHERE path = '{p_queued}'")
        dver = sql(f"SELECT version FROM glyphic.webhooks WHERE path = '{p_direct}'")
        out = ENV.pg.psql(
            f"SELECT glyphic.hook_enqueue('{p_queued}', {ver}, '{{}}', gen_random_uuid(), NULL) IS NULL, "
            f"glyphic.hook_record('{p_direct}', {dver}, '{{}}', 'succeeded', '[]', '[]', NULL, NULL, "
            f"(extract(epoch FROM now()) * 1000)::bigint, gen_random_uuid()) IS NULL", user="glyphic_app")
        self.assertEqual(out, "t|t")
        # nothing started past the limit: 5 executions, no job beyond them
        self.assertEqual(executions_of(org_a), 5)
        self.assertEqual(sql(f"SELECT count(*) FROM glyphic.jobs WHERE org_id = '{org_a}'"), "2")

        # the other org meanwhile: every call served
        statuses = [hook(p_b).status for _ in range(20)]
        self.assertEqual(statuses, [202] * 20)
        self.assertEqual(executions_of(org_b), 20)

        # each org sees its own usage against its limit
        st = a.get("/api/queue/stats")
        self.assertEqual(st.status, 200, st)
        lim = st.json()["limits"]
        self.assertEqual((lim["org_id"], lim["webhooks_this_minute"], lim["webhooks_per_minute"]), (org_a, 5, 5))
        self.assertTrue(1 <= lim["minute_resets_in"] <= 60, lim)
        lim_b = b.get("/api/queue/stats").json()["limits"]
        self.assertEqual((lim_b["webhooks_this_minute"], lim_b["webhooks_per_minute"]), (20, 100))

    def test_no_limit_by_default_and_a_new_minute_starts_over(self):
        c = user("free")
        org = c.me["org_id"]
        path = f"free-{uuid.uuid4().hex[:6]}"
        activate(c, flow(path))
        away_from_minute_end()
        self.assertEqual([hook(path).status for _ in range(30)], [202] * 30)
        self.assertIsNone(c.get("/api/queue/stats").json()["limits"]["webhooks_per_minute"])
        # a count of an earlier minute does not hold a call back
        limits(org, "--webhooks-per-minute", "1")
        sql(f"INSERT INTO glyphic.org_webhook_counts (org_id, backend, minute, calls) "
            f"VALUES ('{org}', -1, date_trunc('minute', now()) - interval '1 minute', 1000)")
        self.assertEqual(hook(path).status, 202)
        self.assertEqual(hook(path).status, 429)


class ConcurrencyTest(unittest.TestCase):
    def test_limit_of_two_and_another_org_not_delayed(self):
        a, b = user("burst"), user("other")
        org_a, org_b = a.me["org_id"], b.me["org_id"]
        tag = uuid.uuid4().hex[:6]
        wf_a = activate(a, flow(f"burst-{tag}", slow_ms=200))
        wf_b = activate(b, flow(f"other-{tag}", slow_ms=200))
        out = limits(org_a, "--max-running", "2").stdout
        self.assertRegex(out, r"max_running\s+2\s+this org")

        # queued before any executor runs: org A's 50 first, then org B's 5
        for i in range(50):
            self.assertEqual(hook(f"burst-{tag}", {"i": i}).status, 202)
        for i in range(5):
            self.assertEqual(hook(f"other-{tag}", {"i": i}).status, 202)

        running_seen, stop = [], threading.Event()

        def sample():
            while not stop.is_set():
                running_seen.append(int(sql(f"SELECT count(*) FROM glyphic.jobs WHERE org_id = '{org_a}' "
                                            f"AND state = 'running'")))
                time.sleep(0.05)

        sampler = threading.Thread(target=sample)
        sampler.start()
        with open(os.path.join(ENV.base, "executor-limits.stderr"), "w") as log:
            ex = subprocess.Popen([EXECUTOR, "-c", ENV.fcgi.conf, "--daemon", "--workers", "4"],
                                  stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
        try:
            harness.wait_for(lambda: sql(f"SELECT count(*) FROM glyphic.executions WHERE workflow_id IN "
                                         f"('{wf_a}', '{wf_b}') AND finished_at IS NULL") == "0",
                             timeout=120, what="the 55 executions")
        finally:
            stop.set()
            sampler.join()
            os.killpg(ex.pid, signal.SIGTERM)
            ex.wait(30)

        rows = [r.split("|") for r in sql(
            f"SELECT org_id, status, extract(epoch FROM started_at), extract(epoch FROM finished_at) "
            f"FROM glyphic.executions WHERE workflow_id IN ('{wf_a}', '{wf_b}')").splitlines()]
        runs_a = [(float(s), float(e)) for o, st, s, e in rows if o == org_a]
        runs_b = [(float(s), float(e)) for o, st, s, e in rows if o == org_b]
        self.assertEqual((len(runs_a), len(runs_b)), (50, 5))
        self.assertEqual({st for _, st, _, _ in rows}, {"succeeded"})
        # never more than 2 of org A at once (and 2 do run together)
        self.assertEqual(max_overlap(runs_a), 2)
        self.assertLessEqual(max(running_seen), 2, "org A had more than 2 jobs running")
        # org B did not wait for org A's backlog: when its last execution
        # ended, most of org A's were still to finish
        b_done = max(e for _, e in runs_b)
        a_left = sum(1 for _, e in runs_a if e > b_done)
        self.assertGreaterEqual(a_left, 25, f"org A had {a_left} executions left when org B's were done")
        # every job of org A ran once (none claimed and handed back in a loop)
        st = a.get("/api/queue/stats").json()["limits"]
        self.assertEqual((st["max_running"], st["running"], st["queued"]), (2, 0, 0))


class CliTest(unittest.TestCase):
    def test_show_set_and_back_to_default(self):
        c = user("cli")
        org = c.me["org_id"]
        name = f"Org {uuid.uuid4().hex[:8]}"
        sql(f"UPDATE glyphic.orgs SET name = '{name}' WHERE id = '{org}'")
        out = limits(name).stdout  # by its name, when no other org has it
        self.assertIn(f"org {org} ({name})", out)
        self.assertRegex(out, r"max_running\s+none\s+default \(limits.org_max_running\)")
        self.assertRegex(out, r"max_credentials\s+1000\s+default")
        out = limits(org, "--max-running=3", "--max-credentials", "0", "--webhooks-per-minute", "60").stdout
        self.assertRegex(out, r"max_running\s+3\s+this org")
        self.assertRegex(out, r"max_credentials\s+none\s+this org")
        self.assertRegex(out, r"webhooks_per_minute\s+60\s+this org")
        self.assertEqual(sql(f"SELECT max_running, webhooks_per_minute, max_credentials FROM glyphic.org_limits "
                             f"WHERE org_id = '{org}'"), "3|60|0")
        limits(org, "--max-running", "default")  # the others stay
        self.assertEqual(sql(f"SELECT coalesce(max_running, -1), webhooks_per_minute FROM glyphic.org_limits "
                             f"WHERE org_id = '{org}'"), "-1|60")
        limits(org, "--webhooks-per-minute", "default", "--max-credentials", "default")
        self.assertEqual(sql(f"SELECT count(*) FROM glyphic.org_limits WHERE org_id = '{org}'"), "0")

    def test_bad_input(self):
        c = user("bad")
        org = c.me["org_id"]
        cases = [
            ((), 2, "glyphic org limits: which org?"),
            (("--max-running", "2"), 2, "which org?"),
            ((org, "--max-running", "-1"), 2, "'-1' is not a whole number from 0 to 100000"),
            ((org, "--max-running", "two"), 2, "'two' is not a whole number"),
            ((org, "--webhooks-per-minute", "1e3"), 2, "'1e3' is not a whole number from 0 to 100000000"),
            ((org, "--max-credentials", "1000001"), 2, "from 0 to 1000000"),
            ((org, "--max-running"), 2, "--max-running needs a value"),
            ((org, "--max-running", "1", "--max-running", "2"), 2, "--max-running is given twice"),
            ((org, "--max-runing", "1"), 2, "unknown option '--max-runing'"),
            ((str(uuid.uuid4()),), 1, "no org has the id"),
            (("no such org name",), 1, "no org is named 'no such org name'"),
        ]
        for args, status, msg in cases:
            r = limits(*args, check=False)
            self.assertEqual(r.returncode, status, (args, r.stderr))
            self.assertIn(msg, r.stderr, args)
            self.assertEqual(r.stdout, "", args)
        r = ENV.glyphic("org", "frobnicate", check=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown subcommand 'frobnicate'", r.stderr)
        # two orgs of one name: the id is needed
        d = user("dup")
        sql(f"UPDATE glyphic.orgs SET name = 'Twin' WHERE id IN ('{org}', '{d.me['org_id']}')")
        r = limits("Twin", "--max-running", "1", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("more than one org is named 'Twin'; give the org's id", r.stderr)
        self.assertEqual(sql("SELECT count(*) FROM glyphic.org_limits o JOIN glyphic.orgs g ON g.id = o.org_id "
                             "WHERE g.name = 'Twin'"), "0")

    def test_configured_defaults_reach_the_database_at_migrate(self):
        c = user("conf")
        org = c.me["org_id"]
        self.assertEqual(sql(f"SELECT glyphic.org_limit_max_credentials('{org}')"), "1000")
        try:
            ENV.fcgi.settings["limits.org_max_credentials"] = "7"
            ENV.fcgi.settings["limits.org_max_running"] = "4"
            out = ENV.glyphic("migrate").stdout
            self.assertIn("database settings updated from the configuration: 2", out)
            self.assertEqual(sql(f"SELECT glyphic.org_limit_max_credentials('{org}'), "
                                 f"glyphic.org_limit('{org}', 'max_running')"), "7|4")
            limits(org, "--max-credentials", "9")
            self.assertEqual(sql(f"SELECT glyphic.org_limit_max_credentials('{org}')"), "9")
        finally:
            del ENV.fcgi.settings["limits.org_max_credentials"]
            del ENV.fcgi.settings["limits.org_max_running"]
            ENV.glyphic("migrate")
        self.assertEqual(sql(f"SELECT glyphic.org_limit('{org}', 'max_running')"), "0")
        r = ENV.pg.psql(f"SELECT glyphic.org_limit('{org}', 'max_runs')", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("unknown org limit max_runs", r.stderr)


class AppRoleTest(unittest.TestCase):
    """SQL as glyphic_app with a verified request context, as an attacker
    holding the app role (or a SQL injection in a handler) would have."""

    def app(self, ctx, q):
        r = ENV.pg.psql(f"BEGIN; {ctx}; {q}; COMMIT;", user="glyphic_app", check=False)
        return r.returncode == 0, r.stdout.strip().splitlines()[-1:] or [""], r.stderr

    def test_a_member_cannot_change_its_orgs_limits(self):
        owner, other = user("own"), user("oth")
        org, org2 = owner.me["org_id"], other.me["org_id"]
        limits(org, "--max-running", "2")
        limits(org2, "--max-running", "5")
        ctx = ENV.app_context(owner.me["user"]["id"], org)
        for q in (f"UPDATE glyphic.org_limits SET max_running = 1000 WHERE org_id = '{org}'",
                  f"INSERT INTO glyphic.org_limits (org_id, max_running) VALUES ('{org}', 0) "
                  f"ON CONFLICT (org_id) DO UPDATE SET max_running = 0",
                  f"DELETE FROM glyphic.org_limits WHERE org_id = '{org}'",
                  "TRUNCATE glyphic.org_limits",
                  f"UPDATE glyphic.settings SET value = '0' WHERE key = 'limits.org_max_running'",
                  f"DELETE FROM glyphic.org_webhook_counts WHERE org_id = '{org}'",
                  f"INSERT INTO glyphic.org_webhook_counts VALUES ('{org}', 1, now(), -1000000)",
                  f"SELECT glyphic.org_webhook_admit('{org}')",
                  f"SELECT glyphic.org_limit_default('max_running')",
                  f"SELECT glyphic.sync_settings('{{\"limits.org_max_running\": \"0\"}}')"):
            ok, _, err = self.app(ctx, q)
            self.assertFalse(ok, q)
            self.assertIn("permission denied", err, q)
        self.assertEqual(sql(f"SELECT max_running FROM glyphic.org_limits WHERE org_id = '{org}'"), "2")
        # members read their own org's row and limits, no other org's
        ok, out, err = self.app(ctx, "SELECT string_agg(max_running::text, ',') FROM glyphic.org_limits")
        self.assertTrue(ok, err)
        self.assertEqual(out, ["2"])
        ok, out, err = self.app(ctx, f"SELECT glyphic.org_limit('{org}', 'max_running'), "
                                     f"glyphic.org_limit_max_credentials('{org}')")
        self.assertTrue(ok, err)
        self.assertEqual(out, ["2|1000"])
        for q in (f"SELECT glyphic.org_limit('{org2}', 'max_running')",
                  f"SELECT glyphic.org_limit_max_credentials('{org2}')",
                  f"SELECT glyphic.org_usage('{org2}')"):
            ok, _, err = self.app(ctx, q)
            self.assertFalse(ok, q)
            self.assertIn("not a member of this org", err, q)
        # and over HTTP: no endpoint writes limits; stats only read them
        st = owner.get("/api/queue/stats")
        self.assertEqual(st.json()["limits"]["max_running"], 2)


if __name__ == "__main__":
    unittest.main()
