"""GET /metrics end to end: real PostgreSQL, glyphic-fcgi (2 workers and an
API worker), glyphic-events, nginx and glyphic-executor. Counters move by
exactly what was done (requests by route pattern, executions by status and
trigger, claims, step durations by node type), Prometheus' own promtool
accepts the text, nginx refuses addresses it was not told to allow, no id
or email leaks into the output, and counters survive an executor restart,
a --drain run from cron and a SIGHUP reload of glyphic-fcgi."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import unittest
import uuid

import harness

ENV = None
EXECUTOR = os.path.join(harness.BUILD, "executor", "glyphic-executor")
FLUSH_WAIT = 20  # the executor adds its counts every 5 s (and at exit)


def setUpModule():
    global ENV
    ENV = harness.Env(workers=2, fcgi_extra={
        "executor.lease": "3", "executor.poll_ms": "200", "executor.maintenance_interval": "1",
        "executor.workers": "1", "log.level": "info", **harness.ALLOW_TEST_SERVER})
    try:
        ENV.fcgi.start()
        ENV.events.start()
        # loopback may scrape (the default), and 127.0.0.3 because it is
        # allowed here; 127.0.0.2, also loopback to the kernel, is not
        ENV.nginx.start(extra_args=("--metrics-allow", "127.0.0.3"))
    except Exception:
        ENV.close()
        raise


def tearDownModule():
    ENV.close()


def http_get(path, source="127.0.0.1"):
    """GET through nginx from a chosen loopback address; (status, body)."""
    with socket.create_connection(("127.0.0.1", ENV.nginx.port), timeout=30, source_address=(source, 0)) as s:
        s.sendall(f"GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), head.decode(errors="replace"), body.decode()


def scrape_text():
    status, head, body = http_get("/metrics")
    assert status == 200, (status, body[:500])
    assert "text/plain; version=0.0.4" in head, head
    return body


LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def parse(text):
    """{(name, frozenset of labels): value} of every sample."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = LINE.match(line)
        assert m, f"not a sample line: {line!r}"
        labels = frozenset(LABEL.findall(m.group(2) or ""))
        key = (m.group(1), labels)
        assert key not in out, f"duplicate series {line!r}"
        out[key] = float(m.group(3))
    return out


def scrape():
    return parse(scrape_text())


def val(m, name, **labels):
    return m.get((name, frozenset(labels.items())), 0.0)


def total(m, name, **labels):
    """Sum over every series of name whose labels include labels."""
    want = set(labels.items())
    return sum(v for (n, ls), v in m.items() if n == name and want <= set(ls))


def start_executor():
    return subprocess.Popen([EXECUTOR, "-c", ENV.fcgi.conf, "--daemon"], stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(ENV.base, f"executor-{uuid.uuid4().hex[:6]}.stderr"), "w"),
                            start_new_session=True)


def stop_executor(p):
    if p.poll() is None:
        os.killpg(p.pid, signal.SIGTERM)
        p.wait(30)


def user():
    return ENV.signup(f"metrics-{uuid.uuid4().hex[:8]}@example.com")


def create(c, nodes, active=False):
    edges = [{"from": a["id"], "to": b["id"]} for a, b in zip(nodes, nodes[1:])]
    r = c.post("/api/workflows", {"name": "Metrics flow", "definition": {"nodes": nodes, "edges": edges}})
    assert r.status == 201, r
    wid = r.json()["id"]
    if active:
        r = c.post(f"/api/workflows/{wid}/activate")
        assert r.status == 200, r
    return wid


def manual_flow(c, fail=False):
    trig = {"id": "start", "type": "trigger.manual", "name": "Start", "params": {}}
    if fail:
        # nothing listens on that port: the node, and the execution, fail
        closed = harness.free_port()
        step = {"id": "fetch", "type": "http.request", "name": "Fetch",
                "params": {"url": f"http://127.0.0.1:{closed}/nothing"}}
    else:
        step = {"id": "set", "type": "data.set", "name": "Set", "params": {"fields": {"x": 1}}}
    return create(c, [trig, step])


def run(c, wid):
    r = c.post(f"/api/workflows/{wid}/run", {})
    assert r.status in (200, 201, 202), r
    return r.json().get("execution_id") or r.json().get("id")


def finished(c, eid, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        e = c.get(f"/api/executions/{eid}").json()
        if e["status"] in ("succeeded", "failed", "canceled"):
            return e
        time.sleep(0.1)
    raise AssertionError(f"execution {eid} did not finish")


def wait_scrape(pred, what, timeout=FLUSH_WAIT):
    end = time.time() + timeout
    while True:
        m = scrape()
        if pred(m):
            return m
        if time.time() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.5)


EXECUTOR_COUNTERS = ("glyphic_executor_jobs_claimed_total", "glyphic_executor_jobs_total",
                     "glyphic_executor_executions_finished_total", "glyphic_executor_step_duration_seconds_count",
                     "glyphic_executor_step_duration_seconds_bucket")


class MetricsTest(unittest.TestCase):
    def assertMonotonic(self, before, after, prefix):
        for (name, labels), v in before.items():
            if name.startswith(prefix) and (name.endswith("_total") or name.endswith("_count")
                                            or name.endswith("_bucket") or name.endswith("_sum")):
                self.assertGreaterEqual(after.get((name, labels), -1), v, f"{name}{dict(labels)} went down")

    def test_requests_counted_by_route_pattern(self):
        c = user()
        wid = manual_flow(c)
        before = scrape()
        for _ in range(3):
            self.assertEqual(c.get(f"/api/workflows/{wid}").status, 200)
        for _ in range(2):
            self.assertEqual(ENV.request("GET", f"/api/no-such-{uuid.uuid4().hex}").status, 404)
        after = scrape()
        route = dict(route="/api/workflows/{id}", method="GET")
        self.assertEqual(val(after, "glyphic_http_requests_total", **route, status="200")
                         - val(before, "glyphic_http_requests_total", **route, status="200"), 3)
        self.assertEqual(val(after, "glyphic_http_request_duration_seconds_count", **route)
                         - val(before, "glyphic_http_request_duration_seconds_count", **route), 3)
        self.assertEqual(val(after, "glyphic_http_request_duration_seconds_bucket", **route, le="+Inf")
                         - val(before, "glyphic_http_request_duration_seconds_bucket", **route, le="+Inf"), 3)
        other = dict(route="other", method="GET", status="404")
        self.assertEqual(val(after, "glyphic_http_requests_total", **other)
                         - val(before, "glyphic_http_requests_total", **other), 2)
        # the scrape before this one is counted; the raw path never is
        self.assertEqual(val(after, "glyphic_http_requests_total", route="/metrics", method="GET", status="200")
                         - val(before, "glyphic_http_requests_total", route="/metrics", method="GET", status="200"), 1)
        text = scrape_text()
        self.assertNotIn(wid, text)
        self.assertNotIn("no-such-", text)
        # the pool: 2 workers and the API worker, and their memory
        self.assertEqual(val(after, "glyphic_fcgi_workers"), ENV.fcgi.total())
        self.assertGreater(val(after, "glyphic_fcgi_resident_memory_bytes"), 1 << 20)
        self.assertEqual(val(after, "glyphic_database_up"), 1)

    def test_reads_take_one_database_round_trip(self):
        """GET /api/me, a workflow, the list and an execution: authentication, the read and the
        transaction's end go in one round trip. Each worker prepares a statement the first time it
        runs it (one more trip each): the read, and for an API key its own authentication — a worker
        that served none of the cookie run prepares both — so a run of n requests may take n plus two
        per worker (two trips per request would be 2n)."""
        c = user()
        wid = manual_flow(c)
        eid = run(c, wid)
        key = c.post("/api/keys", {"name": "reads", "scopes": ["read"]}).json()["key"]
        reads = [("/api/me", "/api/me", None), (f"/api/workflows/{wid}", "/api/workflows/{id}", None),
                 ("/api/workflows?limit=50", "/api/workflows", None),
                 (f"/api/executions/{eid}", "/api/executions/{id}", None),
                 (f"/api/workflows/{wid}", "/api/workflows/{id}", {"Authorization": f"Bearer {key}"})]
        n, workers = 30, ENV.fcgi.total()
        for path, route, headers in reads:
            with self.subTest(path=path, key=bool(headers)):
                before = scrape()
                for _ in range(n):
                    r = ENV.request("GET", path, headers=headers or {"Cookie": f"glyphic_session={c.cookie}"})
                    self.assertEqual(r.status, 200, r)
                after = scrape()
                labels = dict(route=route, method="GET")
                trips = val(after, "glyphic_http_db_round_trips_total", **labels) - \
                    val(before, "glyphic_http_db_round_trips_total", **labels)
                served = val(after, "glyphic_http_requests_total", **labels, status="200") - \
                    val(before, "glyphic_http_requests_total", **labels, status="200")
                self.assertEqual(served, n)
                print(f"\n{path}: {trips / n:.2f} database round trips per request", flush=True)
                self.assertGreaterEqual(trips, n)
                self.assertLessEqual(trips, n + 2 * workers)
        # the execution stays queued: cancel it, so the executor tests do not run it
        self.assertEqual(c.post(f"/api/executions/{eid}/cancel").status, 200)
        # a write still takes its round trips, and they are counted too
        before = scrape()
        self.assertEqual(c.patch(f"/api/workflows/{wid}", {"name": "Renamed"}).status, 200)
        after = scrape()
        labels = dict(route="/api/workflows/{id}", method="PATCH")
        self.assertGreaterEqual(val(after, "glyphic_http_db_round_trips_total", **labels)
                                - val(before, "glyphic_http_db_round_trips_total", **labels), 3)

    def test_a_save_takes_two_round_trips(self):
        """PUT of a workflow that is not active: authentication (with BEGIN), then the save with
        the COMMIT. A miss (a stale base) answers 409 as before, from a transaction of its own."""
        c = user()
        wid = manual_flow(c)
        d = c.get(f"/api/workflows/{wid}").json()["definition"]
        n, workers = 20, ENV.fcgi.total()
        before = scrape()
        for v in range(1, n + 1):
            r = c.put(f"/api/workflows/{wid}", {"definition": d, "base_version": v})
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json()["version"], v + 1)
            self.assertEqual(r.json()["definition"], d)
        after = scrape()
        labels = dict(route="/api/workflows/{id}", method="PUT")
        trips = val(after, "glyphic_http_db_round_trips_total", **labels) - \
            val(before, "glyphic_http_db_round_trips_total", **labels)
        print(f"\nPUT /api/workflows/{{id}}: {trips / n:.2f} database round trips per save", flush=True)
        self.assertGreaterEqual(trips, 2 * n)
        self.assertLessEqual(trips, 2 * n + 2 * workers)  # each worker prepares the save once
        r = c.put(f"/api/workflows/{wid}", {"definition": d, "base_version": 1})
        self.assertEqual((r.status, r.json()["error"]["code"]), (409, "version_conflict"), r)
        self.assertEqual(c.get(f"/api/workflows/{wid}").json()["version"], n + 1)
        # an active workflow: once a worker has seen it active, its saves go the way they went
        # before (authentication, the save, its triggers moved, the answer read again, COMMIT),
        # not through the quick attempt and a second authentication
        hook = {"id": "hook", "type": "trigger.webhook", "name": "Hook",
                "params": {"path": f"metrics-{uuid.uuid4().hex[:8]}"}}
        set_node = {"id": "set", "type": "data.set", "name": "Set", "params": {"fields": {"x": 1}}}
        aid = create(c, [hook, set_node], active=True)
        d = c.get(f"/api/workflows/{aid}").json()["definition"]
        before = scrape()
        for v in range(1, n + 1):
            r = c.put(f"/api/workflows/{aid}", {"definition": d, "base_version": v})
            self.assertEqual(r.status, 200, r)
            self.assertEqual((r.json()["version"], r.json()["active_version"]), (v + 1, v + 1))
        after = scrape()
        trips = val(after, "glyphic_http_db_round_trips_total", **labels) - \
            val(before, "glyphic_http_db_round_trips_total", **labels)
        print(f"PUT /api/workflows/{{id}}, active: {trips / n:.2f} database round trips per save", flush=True)
        self.assertLessEqual(trips, 6 * n + 4 * workers)
        self.assertEqual(ENV.pg.psql(f"SELECT version FROM glyphic.webhooks WHERE workflow_id = '{aid}'"), str(n + 1))

    def test_executions_claims_and_steps_through_the_database(self):
        ex = start_executor()
        try:
            c = user()
            ok_wid = manual_flow(c)
            bad_wid = manual_flow(c, fail=True)
            path = f"metrics-{uuid.uuid4().hex[:6]}"
            hook_async = create(c, [{"id": "hook", "type": "trigger.webhook", "name": "Hook",
                                     "params": {"path": path, "mode": "async"}},
                                    {"id": "set", "type": "data.set", "name": "Set", "params": {"fields": {"y": 2}}}],
                                active=True)
            self.assertTrue(hook_async)
            before = wait_scrape(lambda m: total(m, "glyphic_executor_workers") == 1, "the executor worker to report")
            self.assertEqual(finished(c, run(c, ok_wid))["status"], "succeeded")
            self.assertEqual(finished(c, run(c, bad_wid))["status"], "failed")
            r = ENV.request("POST", "/hooks/" + path, {"a": 1})
            self.assertEqual(r.status, 202, r)
            self.assertEqual(finished(c, r.json()["execution_id"])["status"], "succeeded")

            def delta(m, name, **labels):
                return val(m, name, **labels) - val(before, name, **labels)
            fin = "glyphic_executor_executions_finished_total"
            after = wait_scrape(lambda m: delta(m, "glyphic_executor_jobs_claimed_total") >= 3
                                and total(m, fin) - total(before, fin) >= 3, "the executor's counts")
            self.assertEqual(delta(after, "glyphic_executor_jobs_claimed_total"), 3)
            self.assertEqual(delta(after, "glyphic_executor_jobs_total", result="succeeded"), 3)
            self.assertEqual(delta(after, fin, status="succeeded", trigger="manual"), 1)
            self.assertEqual(delta(after, fin, status="failed", trigger="manual"), 1)
            self.assertEqual(delta(after, fin, status="succeeded", trigger="webhook"), 1)
            self.assertEqual(total(after, fin) - total(before, fin), 3)
            steps = "glyphic_executor_step_duration_seconds_count"
            self.assertEqual(delta(after, steps, node_type="trigger.manual"), 2)
            self.assertEqual(delta(after, steps, node_type="data.set"), 2)
            self.assertEqual(delta(after, steps, node_type="http.request"), 1)
            self.assertEqual(delta(after, steps, node_type="trigger.webhook"), 1)
            self.assertEqual(delta(after, "glyphic_executor_step_duration_seconds_bucket",
                                   node_type="data.set", le="+Inf"), 2)
            # what the database holds now: executions by status and trigger
            self.assertEqual(delta(after, "glyphic_executions", status="succeeded", trigger="manual"), 1)
            self.assertEqual(delta(after, "glyphic_executions", status="failed", trigger="manual"), 1)
            self.assertEqual(delta(after, "glyphic_executions", status="succeeded", trigger="webhook"), 1)
            self.assertEqual(total(after, "glyphic_executor_workers"), 1)
            self.assertEqual(val(after, "glyphic_queue_jobs", queue="default", state="running"), 0)
            self.assertEqual(val(after, "glyphic_queue_due_jobs", queue="default"), 0)
            self.assertTrue(("glyphic_queue_oldest_due_job_age_seconds", frozenset({("queue", "default")})) in after)
        finally:
            stop_executor(ex)
        # a stopped worker says so: it is no longer counted
        m = scrape()
        self.assertEqual(total(m, "glyphic_executor_workers"), 0)

    def test_counters_survive_executor_restarts_and_drain_runs(self):
        c = user()
        wid = manual_flow(c)
        ex = start_executor()
        try:
            self.assertEqual(finished(c, run(c, wid))["status"], "succeeded")
        finally:
            stop_executor(ex)  # flushes its last counts as it exits
        first = scrape()
        # a queued job and a dead one, with no executor running
        eid = run(c, wid)
        ENV.pg.psql("SELECT glyphic.enqueue('test.never', '{}', 'metrics-dead')")
        ENV.pg.psql("UPDATE glyphic.jobs SET state = 'dead' WHERE queue = 'metrics-dead'")
        queued = scrape()
        self.assertEqual(val(queued, "glyphic_queue_jobs", queue="default", state="queued"), 1)
        self.assertEqual(val(queued, "glyphic_queue_due_jobs", queue="default"), 1)
        self.assertGreaterEqual(val(queued, "glyphic_queue_oldest_due_job_age_seconds", queue="default"), 0)
        self.assertEqual(val(queued, "glyphic_queue_jobs", queue="metrics-dead", state="dead"), 1)
        # cron's run: it exits when the queue is idle, and its counts are in
        r = subprocess.run([EXECUTOR, "-c", ENV.fcgi.conf, "--drain", "--linger", "0", "--max-seconds", "60"],
                           capture_output=True, text=True, timeout=90)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(finished(c, eid)["status"], "succeeded")
        after = scrape()
        self.assertEqual(val(after, "glyphic_executor_jobs_claimed_total")
                         - val(first, "glyphic_executor_jobs_claimed_total"), 1)
        self.assertEqual(val(after, "glyphic_executor_executions_finished_total", status="succeeded", trigger="manual")
                         - val(first, "glyphic_executor_executions_finished_total", status="succeeded",
                               trigger="manual"), 1)
        self.assertMonotonic(first, after, "glyphic_executor_")
        self.assertEqual(val(after, "glyphic_queue_jobs", queue="default", state="queued"), 0)
        ENV.pg.psql("DELETE FROM glyphic.jobs WHERE queue = 'metrics-dead'")

    def test_subworkflows_counted(self):
        c = user()
        child = manual_flow(c)
        parent = create(c, [{"id": "start", "type": "trigger.manual", "name": "Start", "params": {}},
                            {"id": "call", "type": "flow.subworkflow", "name": "Call", "params": {"workflow_id": child}}])
        before = scrape()
        eid = run(c, parent)
        r = subprocess.run([EXECUTOR, "-c", ENV.fcgi.conf, "--drain", "--linger", "0", "--max-seconds", "60"],
                           capture_output=True, text=True, timeout=90)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(finished(c, eid)["status"], "succeeded")
        after = scrape()
        fin = "glyphic_executor_executions_finished_total"
        steps = "glyphic_executor_step_duration_seconds_count"
        for name, labels, n in ((fin, dict(status="succeeded", trigger="manual"), 1),
                                (fin, dict(status="succeeded", trigger="subworkflow"), 1),
                                (steps, dict(node_type="flow.subworkflow"), 1),
                                (steps, dict(node_type="trigger.manual"), 2),
                                (steps, dict(node_type="data.set"), 1),
                                ("glyphic_executions", dict(status="succeeded", trigger="subworkflow"), 1)):
            self.assertEqual(val(after, name, **labels) - val(before, name, **labels), n, (name, labels))

    def test_single_role_installation(self):
        """glyphic migrate --single-role: one role without CREATEROLE owns
        the schema and is app and executor; the functions work the same."""
        role = f"gmsr{uuid.uuid4().hex[:6]}"
        ENV.pg.psql(f"CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS", db="postgres")
        ENV.pg.psql(f"CREATE DATABASE {role} OWNER {role}", db="postgres")
        conninfo = ENV.pg.conninfo(role, role)
        conf = os.path.join(ENV.base, f"{role}.conf")
        settings = dict(ENV.fcgi.settings, **{"db.url": conninfo, "db.executor_url": conninfo,
                                              "db.admin_url": conninfo, "executor.test_kinds": "true",
                                              "log.file": os.path.join(ENV.base, f"{role}.log")})
        with open(conf, "w") as f:
            f.writelines(f'{k} = "{v}"\n' for k, v in settings.items())
        r = subprocess.run([os.path.join(harness.BUILD, "cli", "glyphic"), "-c", conf, "migrate", "--single-role"],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        ENV.pg.psql("SELECT glyphic.enqueue('test.noop'), glyphic.enqueue('test.noop')", db=role)
        r = subprocess.run([EXECUTOR, "-c", conf, "--drain", "--linger", "0", "--max-seconds", "60"],
                           capture_output=True, text=True, timeout=90)
        self.assertEqual(r.returncode, 0, r.stderr)
        text = ENV.pg.psql("SELECT glyphic.metrics(0, 0)", user=role, db=role) + "\n"
        m = parse(text)
        self.assertEqual(val(m, "glyphic_executor_jobs_claimed_total"), 2)
        self.assertEqual(val(m, "glyphic_executor_jobs_total", result="succeeded"), 2)
        self.assertEqual(val(m, "glyphic_queue_jobs", queue="default", state="queued"), 0)
        self.assertEqual(total(m, "glyphic_executor_workers"), 0)  # the drain run's worker said it left
        p = subprocess.run([shutil.which("promtool") or "promtool", "check", "metrics"], input=text,
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_sighup_reload_keeps_counting(self):
        before = scrape()
        old = set(ENV.fcgi.workers())
        ENV.fcgi.proc.send_signal(signal.SIGHUP)
        harness.wait_for(lambda: len(ENV.fcgi.workers()) == ENV.fcgi.total() and not old & set(ENV.fcgi.workers()),
                         what="a new generation of workers")
        for _ in range(4):
            self.assertEqual(ENV.request("GET", "/api/version").status, 200)
        after = scrape()
        self.assertMonotonic(before, after, "glyphic_http_")
        self.assertEqual(val(after, "glyphic_http_requests_total", route="/api/version", method="GET", status="200")
                         - val(before, "glyphic_http_requests_total", route="/api/version", method="GET",
                               status="200"), 4)
        # metrics.enabled = false: 404, nothing counted; back on, counting
        # resumes where it was
        try:
            ENV.fcgi.write_conf(**{"metrics.enabled": "false"})
            old = set(ENV.fcgi.workers())
            ENV.fcgi.proc.send_signal(signal.SIGHUP)
            harness.wait_for(lambda: not old & set(ENV.fcgi.workers()), what="workers with metrics off")
            self.assertEqual(http_get("/metrics")[0], 404)
            self.assertEqual(ENV.request("GET", "/api/version").status, 200)
        finally:
            ENV.fcgi.write_conf(**{"metrics.enabled": "true"})
            old = set(ENV.fcgi.workers())
            ENV.fcgi.proc.send_signal(signal.SIGHUP)
            harness.wait_for(lambda: len(ENV.fcgi.workers()) == ENV.fcgi.total() and not old & set(ENV.fcgi.workers()),
                             what="workers with metrics on")
        again = scrape()
        self.assertEqual(val(again, "glyphic_http_requests_total", route="/api/version", method="GET", status="200"),
                         val(after, "glyphic_http_requests_total", route="/api/version", method="GET", status="200"))
        self.assertMonotonic(after, again, "glyphic_http_")

    def test_only_allowed_addresses_may_scrape(self):
        self.assertEqual(http_get("/metrics", source="127.0.0.1")[0], 200)
        self.assertEqual(http_get("/metrics", source="127.0.0.3")[0], 200)  # --metrics-allow
        before = scrape()
        status, _, body = http_get("/metrics", source="127.0.0.2")
        self.assertEqual(status, 403, body)
        self.assertNotIn("glyphic_", body)
        # nginx refused it: glyphic-fcgi never saw the request
        after = scrape()
        self.assertEqual(total(after, "glyphic_http_requests_total", route="/metrics", status="403"), 0)
        self.assertEqual(val(after, "glyphic_http_requests_total", route="/metrics", method="GET", status="200")
                         - val(before, "glyphic_http_requests_total", route="/metrics", method="GET",
                               status="200"), 1)
        # the rendered rule is what was asked for
        with open(os.path.join(ENV.nginx.dir, "glyphic-server.conf")) as f:
            conf = f.read()
        self.assertRegex(conf, r"location = /metrics \{\s*allow 127\.0\.0\.1; allow ::1; allow 127\.0\.0\.3;\s*"
                               r"deny all;")

    def test_database_errors_and_reconnects(self):
        ex = start_executor()
        try:
            fcgi = dict(program="glyphic-fcgi")
            executor = dict(program="glyphic-executor")
            before = wait_scrape(lambda m: total(m, "glyphic_executor_workers") == 1, "the executor worker to report")
            ENV.pg.stop("fast")
            try:
                # glyphic-fcgi answers without its database: its own series
                # only, and the failed connection counted
                for _ in range(3):
                    self.assertEqual(ENV.request("GET", "/api/health").status, 503)
                down = scrape()
                self.assertEqual(val(down, "glyphic_database_up"), 0)
                self.assertGreater(val(down, "glyphic_db_errors_total", **fcgi),
                                   val(before, "glyphic_db_errors_total", **fcgi))
                self.assertFalse([k for k in down if k[0].startswith("glyphic_executor_")])
                p = subprocess.run([shutil.which("promtool") or "promtool", "check", "metrics"],
                                   input=scrape_text(), capture_output=True, text=True, timeout=60)
                self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
                time.sleep(2)  # the executor's connections try, and fail, meanwhile
            finally:
                ENV.pg.start()
            harness.wait_for(lambda: all(ENV.request("GET", "/api/health").status == 200 for _ in range(6)),
                             timeout=20, what="glyphic-fcgi back")
            after = wait_scrape(lambda m: val(m, "glyphic_db_reconnects_total", **executor)
                                > val(before, "glyphic_db_reconnects_total", **executor)
                                and val(m, "glyphic_db_errors_total", **executor)
                                > val(before, "glyphic_db_errors_total", **executor),
                                "the executor's reconnects and errors")
            self.assertGreater(val(after, "glyphic_db_reconnects_total", **fcgi),
                               val(before, "glyphic_db_reconnects_total", **fcgi))
            self.assertEqual(val(after, "glyphic_database_up"), 1)
        finally:
            stop_executor(ex)

    def test_database_side_is_locked_down(self):
        def refused(q, user):
            r = ENV.pg.psql(q, user=user, check=False)
            self.assertNotEqual(r.returncode, 0, f"{user} may: {q}")
            return r.stderr
        # the app role reads the aggregate, and nothing else; only the
        # executor adds, and only counts of the known series
        self.assertIn("permission denied", refused("SELECT glyphic.metrics_add('[]', NULL, NULL)", "glyphic_app"))
        self.assertIn("permission denied", refused("SELECT glyphic.metrics(0, 0)", "glyphic_executor"))
        for table in ("metric_counters", "executor_workers", "metric_families"):
            for role in ("glyphic_app", "glyphic_executor"):
                self.assertIn("permission denied", refused(f"SELECT * FROM glyphic.{table}", role))
        self.assertIn("permission denied",
                      refused("UPDATE glyphic.metric_counters SET value = 0", "glyphic_executor"))
        before = scrape()
        for delta, why in (({"n": "glyphic_executor_jobs_claimed_total", "l": "", "v": -5}, "must be a number >= 0"),
                           ({"n": "glyphic_org_secrets_total", "l": "", "v": 1}, "check constraint"),
                           ({"n": "glyphic_executor_jobs_total", "l": 'result="x"} 1\nglyphic_org{a="b', "v": 1},
                            "check constraint")):
            arg = json.dumps([delta]).replace("'", "''")
            self.assertIn(why, refused(f"SELECT glyphic.metrics_add('{arg}', NULL, NULL)", "glyphic_executor"))
        after = scrape()
        self.assertEqual(val(after, "glyphic_executor_jobs_claimed_total"),
                         val(before, "glyphic_executor_jobs_claimed_total"))
        self.assertFalse([k for k in after if k[0].startswith("glyphic_org")])

    def test_zz_promtool_accepts_it_and_nothing_identifies_a_tenant(self):
        promtool = shutil.which("promtool")
        self.assertIsNotNone(promtool, "promtool is missing: install Debian's prometheus package "
                                       "(scripts/install-deps)")
        # every family present: a step histogram, executions, queues
        c = user()
        wid = manual_flow(c)
        eid = run(c, wid)
        r = subprocess.run([EXECUTOR, "-c", ENV.fcgi.conf, "--drain", "--linger", "0", "--max-seconds", "60"],
                           capture_output=True, text=True, timeout=90)
        self.assertEqual(r.returncode, 0, r.stderr)
        finished(c, eid)
        text = scrape_text()
        for family in ("glyphic_http_requests_total", "glyphic_http_request_duration_seconds",
                       "glyphic_db_errors_total", "glyphic_db_reconnects_total", "glyphic_fcgi_resident_memory_bytes",
                       "glyphic_fcgi_workers", "glyphic_queue_jobs", "glyphic_queue_due_jobs",
                       "glyphic_queue_oldest_due_job_age_seconds", "glyphic_executions",
                       "glyphic_executor_jobs_claimed_total", "glyphic_executor_jobs_total",
                       "glyphic_executor_executions_finished_total", "glyphic_executor_step_duration_seconds",
                       "glyphic_executor_lease_rescues_total", "glyphic_executor_workers", "glyphic_database_up"):
            self.assertIn(f"# TYPE {family} ", text)
        p = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, f"promtool: {p.stdout}{p.stderr}")
        # no org, user, workflow or execution id, and no email
        ids = ENV.pg.psql("SELECT id::text FROM glyphic.orgs UNION ALL SELECT id::text FROM glyphic.users "
                          "UNION ALL SELECT id::text FROM glyphic.workflows UNION ALL SELECT id::text FROM "
                          "glyphic.executions UNION ALL SELECT email FROM glyphic.users").split()
        self.assertGreater(len(ids), 5)
        for v in ids:
            self.assertNotIn(v, text)
        self.assertNotIn("@", text)


if __name__ == "__main__":
    unittest.main(verbosity=2)
