"""The execution engine end to end: webhooks (sync and async), the executor
resuming after SIGKILL, retries, continue-on-fail, error workflows, durable
waits, schedules with two executors, live progress (SSE), the executions API
and `glyphic run` — real PostgreSQL, nginx, executors, and a local HTTP test
server (never the internet)."""
import http.client
import json
import os
import signal
import subprocess
import time
import unittest
import uuid

import harness
from testserver import TestServer

ENV = None
SRV = None
EXECUTOR = os.path.join(harness.BUILD, "executor", "glyphic-executor")
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def setUpModule():
    global ENV, SRV
    SRV = TestServer().start()
    # $env: only what executor.env_allow names is visible to expressions
    os.environ["GL_TEST_VISIBLE"] = "yes"
    os.environ["GL_TEST_HIDDEN"] = "secret-value"
    ENV = harness.Env(workers=3, fcgi_extra={
        "executor.lease": "3", "executor.poll_ms": "200", "executor.maintenance_interval": "1",
        "executor.batch": "10", "executor.workers": "1", "log.level": "info",
        "executor.env_allow": "GL_TEST_VISIBLE,GL_TEST_UNSET", **harness.ALLOW_TEST_SERVER})
    ENV.start_all()
    ENV.fcgi.write_conf()


def tearDownModule():
    ENV.close()
    SRV.stop()


def start_executor(*args):
    return ENV.start_executor(*args, log=f"executor-{uuid.uuid4().hex[:6]}.stderr")


def stop_executor(p, sig=signal.SIGTERM):
    ENV.stop_executor(p, sig)


def sql(q):
    return ENV.pg.psql(q, user="postgres")


def user(prefix="u"):
    return ENV.signup(f"{prefix}-{uuid.uuid4().hex[:8]}@example.com")


def create(c, nodes, edges, settings=None, active=False, name="Flow"):
    d = {"nodes": nodes, "edges": edges}
    if settings:
        d["settings"] = settings
    r = c.post("/api/workflows", {"name": name, "definition": d})
    assert r.status == 201, r
    wid = r.json()["id"]
    if active:
        r = c.post(f"/api/workflows/{wid}/activate")
        assert r.status == 200, r
    return wid


def chain(*nodes):
    return [{"from": a["id"], "to": b["id"]} for a, b in zip(nodes, nodes[1:])]


def http_node(nid, path, **extra):
    n = {"id": nid, "type": "http.request", "name": nid.title(), "params": {"url": SRV.url + path}}
    n.update(extra)
    return n


def wait_for(fn, timeout=30, what="condition"):
    end = time.time() + timeout
    while time.time() < end:
        v = fn()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def finished(c, eid, timeout=30):
    def done():
        r = c.get(f"/api/executions/{eid}")
        assert r.status == 200, r
        e = r.json()
        return e if e["status"] in ("succeeded", "failed", "canceled") else None
    return wait_for(done, timeout, f"execution {eid} to finish")


def hook(method, path, body=None, headers=None):
    return ENV.request(method, "/hooks/" + path, body=body, headers=headers)


def order_flow(path, mode):
    trig = {"id": "hook", "type": "trigger.webhook", "name": "Hook", "params": {"path": path, "mode": mode}}
    fetch = http_node("fetch", "/echo", params={"url": SRV.url + "/echo?order={{ $json.body.order }}",
                                               "method": "POST", "body_type": "json",
                                               "body": {"qty": "{{ $json.body.qty }}"}})
    check = {"id": "check", "type": "flow.if", "name": "Check",
             "params": {"condition": "{{ $json.status == 200 && $json.body.body.qty > 2 }}"}}
    setn = {"id": "set", "type": "data.set", "name": "Set", "params": {
        "mode": "replace",
        "fields": {"order": "{{ $node[\"Hook\"].json.body.order }}", "big": True,
                   "total": "{{ $json.body.body.qty * 10 }}", "label": "order {{ $json.body.query.order }}"}}}
    resp = {"id": "respond", "type": "flow.respond", "name": "Respond",
            "params": {"status": 201, "headers": {"X-Order": "{{ $json.order }}"}}}
    return [trig, fetch, check, setn, resp], [
        {"from": "hook", "to": "fetch"}, {"from": "fetch", "to": "check"},
        {"from": "check", "from_port": "true", "to": "set"}, {"from": "set", "to": "respond"}]


class WebhookTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ex = start_executor()

    @classmethod
    def tearDownClass(cls):
        stop_executor(cls.ex)

    def test_sync_webhook_answers_with_the_computed_body(self):
        a = user("sync")
        path = f"orders-{uuid.uuid4().hex[:6]}"
        nodes, edges = order_flow(path, "sync")
        create(a, nodes, edges, active=True)
        r = hook("POST", path, {"order": "A-17", "qty": 3})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json(), {"order": "A-17", "big": True, "total": 30, "label": "order A-17"})
        self.assertEqual(r.header("X-Order"), "A-17")
        eid = r.header("X-Glyphic-Execution")
        e = finished(a, eid)
        self.assertEqual(e["status"], "succeeded")
        self.assertEqual([s["node_id"] for s in e["steps"]], ["hook", "fetch", "check", "set", "respond"])
        # the false branch: no flow.respond ran, so the last node's output answers
        r = hook("POST", path, {"order": "B-1", "qty": 1})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["status"], 200)

    def test_async_webhook_answers_202_and_keeps_every_step(self):
        a = user("async")
        path = f"orders-{uuid.uuid4().hex[:6]}"
        nodes, edges = order_flow(path, "async")
        create(a, nodes, edges, active=True)
        r = hook("POST", path, {"order": "C-9", "qty": 5}, headers={"Authorization": "Bearer s3cret-token"})
        self.assertEqual(r.status, 202, r)
        eid = r.json()["execution_id"]
        e = finished(a, eid)
        self.assertEqual(e["status"], "succeeded", e)
        steps = {s["node_id"]: s for s in e["steps"]}
        self.assertEqual(set(steps), {"hook", "fetch", "check", "set", "respond"})
        self.assertEqual(steps["hook"]["output"]["main"][0]["body"], {"order": "C-9", "qty": 5})
        self.assertEqual(steps["fetch"]["input"]["main"][0]["body"]["order"], "C-9")
        self.assertEqual(steps["fetch"]["output"]["main"][0]["body"]["body"], {"qty": 5})
        self.assertEqual(steps["check"]["output"]["true"][0]["status"], 200)
        self.assertEqual(steps["check"]["output"]["false"], [])
        self.assertEqual(steps["set"]["output"]["main"][0]["total"], 50)
        self.assertEqual(e["response"]["status"], 201)
        # the secret header never reached execution data
        self.assertNotIn(b"s3cret-token", a.get(f"/api/executions/{eid}").body)
        self.assertNotIn("s3cret", sql(f"SELECT input::text FROM glyphic.executions WHERE id = '{eid}'"))

    def test_direct_path_for_quick_workflows(self):
        a = user("direct")
        path = f"quick-{uuid.uuid4().hex[:6]}"
        trig = {"id": "hook", "type": "trigger.webhook", "name": "Hook", "params": {"path": path, "mode": "sync"}}
        setn = {"id": "set", "type": "data.set", "name": "Set",
                "params": {"fields": {"sum": "{{ $json.body.a + $json.body.b }}"}}}
        resp = {"id": "respond", "type": "flow.respond", "name": "Respond",
                "params": {"body": "{{ { sum: $json.sum } }}"}}
        create(a, [trig, setn, resp], chain(trig, setn, resp), active=True)
        r = hook("POST", path, {"a": 2, "b": 3})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"sum": 5})
        e = a.get(f"/api/executions/{r.header('X-Glyphic-Execution')}").json()
        self.assertEqual(e["status"], "succeeded")
        self.assertEqual(len(e["steps"]), 3)
        self.assertEqual(e["steps"][1]["output"]["main"][0]["sum"], 5)
        # every worker caches the definition; a new version takes over at once
        for _ in range(6):
            self.assertEqual(hook("POST", path, {"a": 1, "b": 1}).json(), {"sum": 2})
        wid = a.get("/api/workflows").json()["items"][0]["id"]
        setn["params"]["fields"]["sum"] = "{{ $json.body.a * $json.body.b }}"
        r = a.put(f"/api/workflows/{wid}", {"definition": {"nodes": [trig, setn, resp], "edges": chain(trig, setn, resp)},
                                            "base_version": 1})
        self.assertEqual(r.status, 200, r)
        for _ in range(6):
            self.assertEqual(hook("POST", path, {"a": 3, "b": 4}).json(), {"sum": 12})
        # switched to async: 202 from every worker
        trig["params"]["mode"] = "async"
        r = a.put(f"/api/workflows/{wid}", {"definition": {"nodes": [trig, setn, resp], "edges": chain(trig, setn, resp)},
                                            "base_version": 2})
        self.assertEqual(r.status, 200, r)
        ids = []
        for _ in range(6):
            r = hook("POST", path, {"a": 3, "b": 4})
            self.assertEqual(r.status, 202)
            ids.append(r.json()["execution_id"])
        # the executor runs a quick workflow and records its steps with its end
        for eid in ids:
            e = finished(a, eid)
            self.assertEqual(e["status"], "succeeded", e)
            self.assertEqual([s["node_id"] for s in e["steps"]], ["hook", "set", "respond"])
            self.assertEqual(e["steps"][1]["output"]["main"][0]["sum"], 12)
            self.assertEqual((e["output"][0]["body"], e["output"][0]["sum"]), ({"a": 3, "b": 4}, 12))
        self.assertEqual(a.post(f"/api/workflows/{wid}/deactivate").status, 200)
        for _ in range(6):
            self.assertEqual(hook("POST", path, {"a": 3, "b": 4}).status, 404)

    def test_direct_path_failure_answers_500_and_starts_the_error_workflow(self):
        a = user("direct-fail")
        etrig = {"id": "err", "type": "trigger.error", "name": "On error"}
        handler = create(a, [etrig], [], name="Handler")
        path = f"fails-{uuid.uuid4().hex[:6]}"
        trig = {"id": "hook", "type": "trigger.webhook", "name": "Hook", "params": {"path": path, "mode": "sync"}}
        setn = {"id": "set", "type": "data.set", "name": "Set",
                "params": {"fields": {"x": "{{ $json.body.missing.deeper }}"}}}
        create(a, [trig, setn], chain(trig, setn), settings={"error_workflow_id": handler}, active=True)
        r = hook("POST", path, {"a": 1})
        self.assertEqual(r.status, 500, r)
        self.assertEqual(r.json()["error"]["code"], "workflow_failed")
        self.assertIn("parameter 'fields'", r.json()["error"]["message"])
        e = a.get(f"/api/executions/{r.header('X-Glyphic-Execution')}").json()
        self.assertEqual(e["status"], "failed")
        self.assertEqual(e["error"]["node"], "set")
        lst = a.get(f"/api/executions?workflow_id={handler}").json()["executions"]
        self.assertEqual(len(lst), 1)
        self.assertEqual(lst[0]["parent_id"], e["id"])

    def test_answer_headers_are_an_allow_list(self):
        a = user("headers")

        def respond_flow(headers, body="x"):
            path = f"h-{uuid.uuid4().hex[:6]}"
            trig = {"id": "hook", "type": "trigger.webhook", "name": "Hook",
                    "params": {"path": path, "mode": "sync", "method": "GET"}}
            resp = {"id": "respond", "type": "flow.respond", "name": "Respond",
                    "params": {"headers": headers, "body": body}}
            create(a, [trig, resp], chain(trig, resp), active=True)
            return hook("GET", path)

        # not on the list: refused, and the execution's step says why
        for bad in ("Set-Cookie", "X-Accel-Redirect", "Content-Security-Policy", "Cache-Control",
                    "Access-Control-Allow-Origin", "Link", "X-Frame-Options", "X-Glyphic-Execution"):
            r = respond_flow({bad: "glyphic_session=evil; Path=/"})
            self.assertEqual(r.status, 500, (bad, r))
            self.assertIn(f"response header '{bad}' is not an allowed response header", r.json()["error"]["message"])
            self.assertIsNone(r.header("Set-Cookie"))
            self.assertIsNone(r.header("Access-Control-Allow-Origin"))
            step = [s for s in finished(a, r.header("X-Glyphic-Execution"))["steps"] if s["node_id"] == "respond"][0]
            self.assertEqual(step["status"], "failed")
            self.assertIn("is not an allowed response header", step["error"]["message"])
        # a script type would pass the editor's script-src 'self': refused
        for ct in ("application/javascript", "text/javascript; charset=utf-8", "text/plain, text/javascript"):
            r = respond_flow({"Content-Type": ct}, "alert(document.cookie)")
            self.assertEqual(r.status, 500, (ct, r))
            self.assertIn("response header 'Content-Type", r.json()["error"]["message"])
            self.assertNotEqual(r.header("Content-Type"), ct)
        # what is on the list goes through
        r = respond_flow({"Content-Type": "text/csv", "Content-Disposition": "attachment; filename=\"a.csv\"",
                          "ETag": "\"v1\"", "Last-Modified": "Wed, 02 Dec 2026 08:00:00 GMT",
                          "Content-Language": "de", "X-Trace-Id": "t-1"}, "a,b\n1,2\n")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, b"a,b\n1,2\n")
        for k, v in (("Content-Type", "text/csv"), ("Content-Disposition", 'attachment; filename="a.csv"'),
                     ("ETag", '"v1"'), ("Content-Language", "de"), ("X-Trace-Id", "t-1")):
            self.assertEqual(r.header(k), v, k)
        self.assertEqual(r.header("Cache-Control"), "no-store")
        # an HTML answer is sandboxed: no script runs with the app's origin
        r = respond_flow({"Content-Type": "text/html", "X-Custom": "1"}, "<script>alert(1)</script>")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, b"<script>alert(1)</script>")
        self.assertEqual(r.header("X-Custom"), "1")
        csp = [v for k, v in r.headers if k.lower() == "content-security-policy"]
        self.assertIn("sandbox", csp)
        self.assertEqual(r.header("X-Content-Type-Options"), "nosniff")

    def test_set_copies_what_expressions_hand_it(self):
        # a value taken from an item is copied: changing it neither changes
        # the item other nodes see nor builds a cycle (which crashed json-c)
        a = user("copy")
        path = f"copy-{uuid.uuid4().hex[:6]}"
        trig = {"id": "hook", "type": "trigger.webhook", "name": "Hook", "params": {"path": path, "mode": "sync"}}
        setn = {"id": "set", "type": "data.set", "name": "Set", "params": {
            "mode": "replace",
            "fields": {"c": "{{ $json.body.customer }}", "c.vip": True,
                       "x": "{{ $json.body }}", "x.y.self": "{{ $json.body }}"}}}
        after = {"id": "after", "type": "data.set", "name": "After", "params": {
            "mode": "replace", "fields": {"set": "{{ $json }}", "hook": "{{ $node['Hook'].json.body }}"}}}
        create(a, [trig, setn, after], chain(trig, setn, after), active=True)
        r = hook("POST", path, {"customer": {"name": "Ada"}})
        self.assertEqual(r.status, 200, r)
        out = r.json()
        self.assertEqual(out["hook"], {"customer": {"name": "Ada"}})
        self.assertEqual(out["set"]["c"], {"name": "Ada", "vip": True})
        self.assertEqual(out["set"]["x"]["y"]["self"], {"customer": {"name": "Ada"}})

    def test_env_shows_only_allowed_variables(self):
        a = user("env")
        path = f"env-{uuid.uuid4().hex[:6]}"
        trig = {"id": "hook", "type": "trigger.webhook", "name": "Hook", "params": {"path": path, "mode": "sync"}}
        resp = {"id": "respond", "type": "flow.respond", "name": "Respond", "params": {
            "body": "{{ { v: $env.GL_TEST_VISIBLE, h: $env.GL_TEST_HIDDEN ?? 'none', u: $env.GL_TEST_UNSET ?? 'none' } }}"}}
        create(a, [trig, resp], chain(trig, resp), active=True)
        r = hook("POST", path, {})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"v": "yes", "h": "none", "u": "none"})

    def test_bad_webhook_calls(self):
        a = user("badhook")
        path = f"only-get-{uuid.uuid4().hex[:6]}"
        trig = {"id": "hook", "type": "trigger.webhook", "name": "Hook",
                "params": {"path": path, "method": "GET", "mode": "sync"}}
        noop = {"id": "noop", "type": "flow.noop", "name": "Noop"}
        create(a, [trig, noop], chain(trig, noop), active=True)
        self.assertEqual(hook("GET", path + "?x=1").status, 200)
        r = hook("POST", path, {"x": 1})
        self.assertEqual(r.status, 405, r)
        self.assertEqual(r.json()["error"]["code"], "method_not_allowed")
        self.assertEqual(hook("GET", "nope-" + uuid.uuid4().hex).status, 404)
        self.assertEqual(hook("GET", "bad%20path").status, 404)
        self.assertEqual(hook("GET", "x" * 300).status, 404)
        r = ENV.request("GET", "/hooks/" + path, body=b"{not json", headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 400, r)
        r = ENV.request("GET", "/hooks/" + path, body=b"\xff\xfe", headers={"Content-Type": "text/plain"})
        self.assertEqual(r.status, 400, r)
        r = ENV.request("GET", "/hooks/" + path, body=b"a=1&b=%zz",
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(r.status, 400, r)
        # text and form bodies become the item's body
        r = ENV.request("GET", "/hooks/" + path, body=b"a=1&b=two",
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(r.json()["body"], {"a": "1", "b": "two"})
        r = ENV.request("GET", "/hooks/" + path, body=b"plain words", headers={"Content-Type": "text/plain"})
        self.assertEqual(r.json()["body"], "plain words")
        # a deactivated workflow's hook is gone
        wid = a.get("/api/workflows").json()["items"][0]["id"]
        self.assertEqual(a.post(f"/api/workflows/{wid}/deactivate").status, 200)
        self.assertEqual(hook("GET", path).status, 404)


class ResilienceTest(unittest.TestCase):
    def test_sigkill_between_steps_resumes_without_rerunning_finished_nodes(self):
        a = user("kill")
        key = uuid.uuid4().hex[:8]
        trig = {"id": "start", "type": "trigger.manual", "name": "Start"}
        first = http_node("first", f"/json/first-{key}")
        slow = http_node("slow", f"/slow/2500?k={key}")
        last = http_node("last", f"/json/last-{key}")
        wid = create(a, [trig, first, slow, last], chain(trig, first, slow, last))
        ex = start_executor()
        try:
            r = a.post(f"/api/workflows/{wid}/run", {"input": [{"n": 1}]})
            self.assertEqual(r.status, 202, r)
            eid = r.json()["id"]
            wait_for(lambda: SRV.count(f"/slow/2500") >= 1 and
                     len(a.get(f"/api/executions/{eid}").json()["steps"]) >= 2, what="the first steps")
        finally:
            stop_executor(ex, signal.SIGKILL)
        self.assertEqual(a.get(f"/api/executions/{eid}").json()["status"], "running")
        ex = start_executor()
        try:
            e = finished(a, eid, timeout=60)
        finally:
            stop_executor(ex)
        self.assertEqual(e["status"], "succeeded", e)
        self.assertEqual(SRV.count(f"/json/first-{key}"), 1)
        self.assertEqual(SRV.count(f"/json/last-{key}"), 1)
        # each node has exactly one succeeded step
        done = [s["node_id"] for s in e["steps"] if s["status"] == "succeeded"]
        self.assertEqual(sorted(done), ["first", "last", "slow", "start"])

    def test_quick_workflow_with_many_steps_is_recorded_whole(self):
        # a quick workflow's first steps are collected, then written, then
        # each further step is recorded as it ends
        a = user("quick-long")
        trig = {"id": "start", "type": "trigger.manual", "name": "Start"}
        loop = {"id": "loop", "type": "flow.loop", "name": "Loop", "params": {"batch_size": 1}}
        body = {"id": "body", "type": "data.set", "name": "Body", "params": {"fields": {"twice": "{{ $json.i * 2 }}"}}}
        wid = create(a, [trig, loop, body], [{"from": "start", "to": "loop"},
                                             {"from": "loop", "from_port": "batch", "to": "body"},
                                             {"from": "body", "to": "loop", "to_port": "loop"}])
        ex = start_executor()
        try:
            eid = a.post(f"/api/workflows/{wid}/run", {"input": [{"i": i} for i in range(40)]}).json()["id"]
            e = finished(a, eid)
        finally:
            stop_executor(ex)
        self.assertEqual(e["status"], "succeeded", e)
        self.assertEqual([s["seq"] for s in e["steps"]], list(range(1, 83)))
        self.assertEqual(sorted(x["twice"] for x in e["output"]), [2 * i for i in range(40)])

    def test_abandoned_execution_is_marked_failed(self):
        a = user("reap")
        trig = {"id": "start", "type": "trigger.manual", "name": "Start"}
        wid = create(a, [trig], [])
        eid = a.post(f"/api/workflows/{wid}/run").json()["id"]
        # its job is lost (as when it failed max_attempts times and was pruned)
        sql(f"DELETE FROM glyphic.jobs WHERE payload->>'execution_id' = '{eid}'")
        ex = start_executor()
        try:
            e = finished(a, eid)
        finally:
            stop_executor(ex)
        self.assertEqual(e["status"], "failed")
        self.assertIn("gave up", e["error"]["message"])
        self.assertEqual(a.delete(f"/api/executions/{eid}").status, 204)

    def test_abandoned_sweep_reads_jobs_by_index(self):
        # exec_reap as the executor runs it (row level security on jobs):
        # its "has this execution a live job" check must be an index scan,
        # or a pass costs a scan of jobs per unfinished execution (37 s with
        # 1M executions). Sequential scans are priced out, so only a check
        # the policies let through to the index shows one.
        a = user("reapplan")
        wid = create(a, [{"id": "start", "type": "trigger.manual", "name": "Start"}], [])
        a.post(f"/api/workflows/{wid}/run")
        r = ENV.pg.psql("LOAD 'auto_explain'; SET auto_explain.log_min_duration = 0; "
                        "SET auto_explain.log_nested_statements = on; SET auto_explain.log_level = notice; "
                        "SET enable_seqscan = off; BEGIN; SET LOCAL ROLE glyphic_executor; "
                        "SELECT glyphic.exec_reap(); ROLLBACK;", user="postgres", check=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        plan = r.stderr
        self.assertIn("Update on executions", plan)
        self.assertIn("jobs_execution on jobs j", plan)
        self.assertNotIn("Seq Scan on jobs", plan)
        # with few rows the planner hashes the jobs once; with many
        # executions it asks per execution, and then the execution's id
        # must be the index condition under the policies (a scan of the
        # whole partial index, filtered row by row, is no better than a
        # Seq Scan)
        r = ENV.pg.psql("SET enable_seqscan = off; BEGIN; SET LOCAL ROLE glyphic_executor; "
                        "EXPLAIN SELECT 1 FROM glyphic.jobs j WHERE j.kind = 'workflow.run' "
                        f"AND j.execution_id = '{uuid.uuid4()}' AND j.state IN ('queued', 'running', 'failed'); "
                        "ROLLBACK;", user="postgres")
        self.assertRegex(r, r"Index (Only )?Scan using jobs_execution on jobs j.*\n\s+Index Cond: \(execution_id = ", r)

    def test_long_execution_keeps_its_lease(self):
        # twelve slow steps take longer than executor.lease (3 s): the executor
        # renews the lease as it records steps, so the maintainer (an idle
        # executor of another queue, elected first) never rescues the job
        # and the third executor never runs the execution a second time
        a = user("lease")
        trig = {"id": "start", "type": "trigger.manual", "name": "Start"}
        loop = {"id": "loop", "type": "flow.loop", "name": "Loop", "params": {"batch_size": 1}}
        slow = http_node("slow", "/slow/450")
        wid = create(a, [trig, loop, slow], [{"from": "start", "to": "loop"},
                                             {"from": "loop", "from_port": "batch", "to": "slow"},
                                             {"from": "slow", "to": "loop", "to_port": "loop"}])
        before = SRV.count("/slow/450")
        exs = [start_executor("--queue", "elsewhere")]
        time.sleep(1.5)
        exs += [start_executor(), start_executor()]
        try:
            eid = a.post(f"/api/workflows/{wid}/run", {"input": [{"i": i} for i in range(12)]}).json()["id"]
            e = finished(a, eid, timeout=60)
        finally:
            for p in exs:
                stop_executor(p)
        self.assertEqual(e["status"], "succeeded", e)
        self.assertEqual(SRV.count("/slow/450") - before, 12)
        self.assertEqual(len([s for s in e["steps"] if s["node_id"] == "slow"]), 12)
        self.assertEqual(len(e["output"]), 12)

    def test_retry_continue_on_fail_and_error_workflow(self):
        a = user("retry")
        key = uuid.uuid4().hex[:8]
        ex = start_executor()
        try:
            trig = {"id": "start", "type": "trigger.manual", "name": "Start"}
            flaky = http_node("flaky", f"/flaky/{key}/2", retry={"max": 3, "backoff_ms": 100})
            wid = create(a, [trig, flaky], chain(trig, flaky))
            e = finished(a, a.post(f"/api/workflows/{wid}/run").json()["id"])
            self.assertEqual(e["status"], "succeeded", e)
            attempts = [(s["attempt"], s["status"]) for s in e["steps"] if s["node_id"] == "flaky"]
            self.assertEqual(attempts, [(1, "failed"), (2, "failed"), (3, "succeeded")])

            # continue on fail: the error flows on as an item
            bad = http_node("bad", "/status/500", continue_on_fail=True)
            note = {"id": "note", "type": "data.set", "name": "Note",
                    "params": {"fields": {"caught": "{{ $json.error.message }}"}}}
            wid = create(a, [trig, bad, note], [{"from": "start", "to": "bad"},
                                                {"from": "bad", "from_port": "error", "to": "note"}])
            e = finished(a, a.post(f"/api/workflows/{wid}/run").json()["id"])
            self.assertEqual(e["status"], "succeeded", e)
            self.assertIn("HTTP 500", e["output"][0]["caught"])

            # an error workflow receives the failure
            etrig = {"id": "err", "type": "trigger.error", "name": "On error"}
            enoop = {"id": "log", "type": "flow.noop", "name": "Log"}
            handler = create(a, [etrig, enoop], chain(etrig, enoop), name="Handler")
            failing = http_node("boom", "/status/404")
            wid = create(a, [trig, failing], chain(trig, failing), settings={"error_workflow_id": handler})
            e = finished(a, a.post(f"/api/workflows/{wid}/run").json()["id"])
            self.assertEqual(e["status"], "failed")
            self.assertIn("HTTP 404", e["error"]["message"])
            self.assertEqual(e["error"]["node"], "boom")
            lst = wait_for(lambda: a.get(f"/api/executions?workflow_id={handler}").json()["executions"],
                           what="the error workflow")
            he = finished(a, lst[0]["id"])
            self.assertEqual(he["trigger"], "error")
            self.assertEqual(he["parent_id"], e["id"])
            item = he["steps"][0]["output"]["main"][0]
            self.assertEqual(item["execution"]["id"], e["id"])
            self.assertIn("HTTP 404", item["execution"]["error"]["message"])
            self.assertEqual(item["workflow"]["id"], wid)
        finally:
            stop_executor(ex)

    def test_steps_are_written_together_before_side_effects_and_with_the_end(self):
        # rows one transaction wrote share their xmin; the execution row's is
        # that of its last write, the end
        a = user("writes")
        key = uuid.uuid4().hex[:8]
        trig = {"id": "start", "type": "trigger.manual", "name": "Start"}
        one = http_node("one", f"/json/one-{key}")
        two = http_node("two", f"/json/two-{key}")
        flaky = http_node("flaky", f"/flaky/{key}/1", retry={"max": 2, "backoff_ms": 100})
        done = {"id": "done", "type": "data.set", "name": "Done", "params": {"fields": {"ok": True}}}
        pick = {"id": "pick", "type": "data.set", "name": "Pick", "params": {"fields": {"at": "{{ $now }}"}}}
        flows = [create(a, [trig, one, done], chain(trig, one, done)),
                 create(a, [trig, one, two, done], chain(trig, one, two, done)),
                 create(a, [trig, flaky, done], chain(trig, flaky, done)),
                 create(a, [trig, pick, one], chain(trig, pick, one))]
        ex = start_executor()
        try:
            eids = [a.post(f"/api/workflows/{w}/run").json()["id"] for w in flows]
            runs = [finished(a, eid) for eid in eids]
        finally:
            stop_executor(ex)
        self.assertEqual([e["status"] for e in runs], ["succeeded"] * 4, runs)

        def writes(eid):
            return sql(f"SELECT string_agg(g, ' | ' ORDER BY first) FROM ("
                       f"SELECT min(s.seq) AS first, string_agg(s.node_id, ',' ORDER BY s.seq) || "
                       f"CASE WHEN s.xmin::text = e.xmin::text THEN ' +end' ELSE '' END AS g "
                       f"FROM glyphic.execution_steps s JOIN glyphic.executions e ON e.id = s.execution_id "
                       f"WHERE s.execution_id = '{eid}' GROUP BY s.xmin::text, e.xmin::text) x").strip()
        # one call: taken up, then everything with the end
        self.assertEqual(writes(eids[0]), "start,one,done +end")
        # a call that ended is written before the next one starts
        self.assertEqual(writes(eids[1]), "start,one | two,done +end")
        # a failed attempt of a call is written at once, before the backoff
        self.assertEqual(writes(eids[2]), "start,flaky | flaky,done +end")
        # what ran before a call, but the trigger, is written before it starts
        # (it may have read $now: a resumed run must not decide otherwise)
        self.assertEqual(writes(eids[3]), "start,pick | one +end")

    def test_cancel_stops_a_running_execution_before_its_next_step(self):
        a = user("cancel")
        key = uuid.uuid4().hex[:8]
        trig = {"id": "start", "type": "trigger.manual", "name": "Start"}
        slow = http_node("slow", "/slow/1501")
        nxt = http_node("next", f"/json/next-{key}")
        wid = create(a, [trig, slow, nxt], chain(trig, slow, nxt))
        ex = start_executor()
        try:
            eid = a.post(f"/api/workflows/{wid}/run").json()["id"]
            # the trigger's step is written with the slow one's, before "next"
            wait_for(lambda: SRV.count("/slow/1501") == 1, what="the slow call in flight")
            r = a.post(f"/api/executions/{eid}/cancel")
            self.assertEqual((r.status, r.json()["status"]), (202, "running"), r)
            e = finished(a, eid)
        finally:
            stop_executor(ex)
        self.assertEqual(e["status"], "canceled", e)
        self.assertEqual([s["node_id"] for s in e["steps"]], ["start", "slow"])
        self.assertEqual(SRV.count(f"/json/next-{key}"), 0)

    def test_wait_parks_the_execution_and_no_process_waits(self):
        a = user("wait")
        trig = {"id": "start", "type": "trigger.manual", "name": "Start"}
        wait = {"id": "wait", "type": "flow.wait", "name": "Wait", "params": {"seconds": 2}}
        after = {"id": "after", "type": "data.set", "name": "After", "params": {"fields": {"woke": True}}}
        wid = create(a, [trig, wait, after], chain(trig, wait, after))
        ex = start_executor()
        try:
            t0 = time.time()
            eid = a.post(f"/api/workflows/{wid}/run").json()["id"]
            wait_for(lambda: a.get(f"/api/executions/{eid}").json()["status"] == "waiting", what="waiting")
            # parked: its job is queued for later, nothing holds it
            jobs = sql(f"SELECT state, run_at > now() FROM glyphic.jobs WHERE payload->>'execution_id' = '{eid}'")
            self.assertEqual(jobs.strip(), "queued|t")
            self.assertEqual(sql("SELECT count(*) FROM glyphic.jobs WHERE state = 'running'").strip(), "0")
            e = finished(a, eid)
            self.assertGreaterEqual(time.time() - t0, 2.0)
        finally:
            stop_executor(ex)
        self.assertEqual(e["status"], "succeeded", e)
        self.assertEqual(e["output"], [{"woke": True}])
        self.assertEqual([s["status"] for s in e["steps"] if s["node_id"] == "wait"], ["waiting", "succeeded"])


class ScheduleTest(unittest.TestCase):
    def test_two_executors_fire_each_due_time_once(self):
        a = user("sched")
        trig = {"id": "tick", "type": "trigger.schedule", "name": "Tick",
                "params": {"cron": "*/5 * * * *", "timezone": "Europe/Berlin"}}
        noop = {"id": "noop", "type": "flow.noop", "name": "Noop"}
        wid = create(a, [trig, noop], chain(trig, noop), active=True)
        count = lambda: int(sql(f"SELECT count(*) FROM glyphic.executions WHERE workflow_id = '{wid}'"))  # noqa
        exs = [start_executor(), start_executor()]
        try:
            # a new schedule gets its next time without firing
            wait_for(lambda: sql(f"SELECT next_run_at IS NOT NULL FROM glyphic.schedules WHERE workflow_id = '{wid}'")
                     .strip() == "t", what="next_run_at")
            self.assertEqual(count(), 0)
            nxt = sql(f"SELECT extract(minute FROM next_run_at)::int % 5, next_run_at > now() "
                      f"FROM glyphic.schedules WHERE workflow_id = '{wid}'").strip()
            self.assertEqual(nxt, "0|t")
            # fake time: make the schedule due again and again while both
            # executors run — away from a real */5 boundary, which would
            # add a real firing to the count
            to_boundary = 300 - time.time() % 300
            if to_boundary < 90:
                time.sleep(to_boundary + 2)
                wait_for(lambda: sql(f"SELECT next_run_at > now() FROM glyphic.schedules WHERE workflow_id = '{wid}'")
                         .strip() == "t", what="the real due time to pass")
            base = count()
            for i in range(1, 11):
                sql(f"UPDATE glyphic.schedules SET next_run_at = now() - interval '1 second' WHERE workflow_id = '{wid}'")
                wait_for(lambda: sql(f"SELECT next_run_at > now() FROM glyphic.schedules WHERE workflow_id = '{wid}'")
                         .strip() == "t", what="the schedule to fire")
                time.sleep(0.3)
                self.assertEqual(count(), base + i)
            # missed for half an hour (the due time, then six more on the
            # cron): each fires once, late, saying when it was due
            sql(f"UPDATE glyphic.schedules SET next_run_at = now() - interval '30 minutes' WHERE workflow_id = '{wid}'")
            wait_for(lambda: sql(f"SELECT next_run_at > now() FROM glyphic.schedules WHERE workflow_id = '{wid}'")
                     .strip() == "t", what="the missed schedule")
            time.sleep(1.5)
            self.assertEqual(count(), base + 17)
            due = sql(f"SELECT input->0->>'scheduled_at' FROM glyphic.executions WHERE workflow_id = '{wid}' "
                      f"ORDER BY created_at DESC LIMIT 7").split()
            self.assertEqual(len(set(due)), 7)
            self.assertEqual(sum(1 for d in due if d[14:16] in ("00", "05", "10", "15", "20", "25", "30", "35", "40",
                                                                 "45", "50", "55") and d[17:23] == "00.000"), 6)
            # missed for longer than executor.schedule_catchup (an hour): only the last hour's times fire
            sql(f"UPDATE glyphic.schedules SET next_run_at = now() - interval '3 hours' WHERE workflow_id = '{wid}'")
            wait_for(lambda: sql(f"SELECT next_run_at > now() FROM glyphic.schedules WHERE workflow_id = '{wid}'")
                     .strip() == "t", what="the long-missed schedule")
            time.sleep(1.5)
            self.assertEqual(count(), base + 17 + 12)
            lst = a.get(f"/api/executions?workflow_id={wid}&trigger=schedule&limit=1").json()["executions"]
            e = finished(a, lst[0]["id"])
            self.assertEqual(e["status"], "succeeded")
            self.assertEqual(e["steps"][0]["output"]["main"][0]["cron"], "*/5 * * * *")
        finally:
            for p in exs:
                stop_executor(p)


def sse(path, cookie, last_event_id=None, timeout=30):
    conn = http.client.HTTPConnection("127.0.0.1", ENV.nginx.port, timeout=timeout)
    hdrs = {"Cookie": f"glyphic_session={cookie}", "Accept": "text/event-stream"}
    if last_event_id is not None:
        hdrs["Last-Event-ID"] = str(last_event_id)
    conn.request("GET", path, headers=hdrs)
    r = conn.getresponse()
    assert r.status == 200, (r.status, r.read())
    assert r.getheader("Content-Type").startswith("text/event-stream")
    events, cur = [], {}
    while True:
        line = r.fp.readline()
        if not line:
            break
        line = line.decode().rstrip("\n")
        if line == "":
            if cur:
                events.append(cur)
                if cur.get("event") == "execution":
                    break
            cur = {}
        elif not line.startswith(":"):
            k, _, v = line.partition(": ")
            cur[k] = v
    conn.close()
    return events


class EventsTest(unittest.TestCase):
    def test_sse_steps_in_order_and_resume(self):
        a = user("sse")
        trig = {"id": "start", "type": "trigger.manual", "name": "Start"}
        s1 = http_node("one", "/slow/300")
        s2 = http_node("two", "/slow/300")
        s3 = {"id": "three", "type": "flow.noop", "name": "Three"}
        wid = create(a, [trig, s1, s2, s3], chain(trig, s1, s2, s3))
        eid = a.post(f"/api/workflows/{wid}/run").json()["id"]
        ex = start_executor()
        try:
            events = sse(f"/api/executions/{eid}/events", a.cookie)
        finally:
            stop_executor(ex)
        steps = [json.loads(e["data"]) for e in events if e.get("event") == "step"]
        self.assertEqual([s["node_id"] for s in steps], ["start", "one", "two", "three"])
        # the stream watched from the start: each step was announced as it began, before it ended
        started = [json.loads(e["data"])["node_id"] for e in events if e.get("event") == "step.started"]
        self.assertEqual(started, ["start", "one", "two", "three"])
        order = [(e["event"], json.loads(e["data"])["node_id"]) for e in events
                 if e.get("event") in ("step", "step.started")]
        for node in ("one", "two", "three"):
            self.assertLess(order.index(("step.started", node)), order.index(("step", node)))
        self.assertEqual([int(e["id"]) for e in events if e.get("event") == "step"], [1, 2, 3, 4])
        self.assertEqual(json.loads(events[-1]["data"])["status"], "succeeded")
        # resume after the second step
        again = sse(f"/api/executions/{eid}/events", a.cookie, last_event_id=2)
        self.assertEqual([json.loads(e["data"])["node_id"] for e in again if e.get("event") == "step"],
                         ["two", "three"])
        # another user's stream: 404
        b = user("sse-other")
        r = b.get(f"/api/executions/{eid}/events")
        self.assertEqual(r.status, 404, r)
        r = a.get(f"/api/executions/{eid}/events", headers={"Last-Event-ID": "x"})
        self.assertEqual(r.status, 400, r)


class AnnouncementTest(unittest.TestCase):
    def test_an_end_is_announced_only_where_somebody_can_listen(self):
        """exec_finish and exec_finish_many NOTIFY gx_<id> only for an
        execution a stream watches (watchers) or a call waits for
        (hook_wait): every NOTIFY serializes its transaction's commit with
        the others' (sql/037). A listener on all four channels hears the
        two that can have a listener, and only those; quick and not quick
        workflows (a retry makes one not quick, so it ends through
        exec_finish)."""
        a = user("announce")
        trig = {"id": "start", "type": "trigger.manual", "name": "Start"}
        quick = {"id": "set", "type": "data.set", "name": "Set", "params": {"fields": {"x": 1}}}
        slow = dict(quick, retry={"max": 2})
        wq = create(a, [trig, quick], chain(trig, quick))
        ws = create(a, [trig, slow], chain(trig, slow))
        run = {name: a.post(f"/api/workflows/{wid}/run").json()["id"]
               for name, wid in (("quick", wq), ("quick waited", wq), ("slow", ws), ("slow watched", ws))}
        sql(f"UPDATE glyphic.executions SET hook_wait = sha256('x'::bytea) WHERE id = '{run['quick waited']}'")
        sql(f"UPDATE glyphic.executions SET watchers = 1, watch_until = now() + interval '5 minutes' "
            f"WHERE id = '{run['slow watched']}'")
        listens = [a for eid in run.values() for a in ("-c", f'LISTEN "gx_{eid}"')]
        # psql prints what it heard after each command: a long sleep, cut
        # short (pg_cancel_backend) once every execution has ended
        listener = subprocess.Popen(
            [os.path.join(ENV.pg.bindir, "psql"), "-X", "-h", ENV.pg.sock, "-p", str(ENV.pg.port), "-U", "postgres",
             "-d", "glyphic", *listens, "-c", "SELECT pg_sleep(120)", "-c", "SELECT 1"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        asleep = "SELECT pid FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'SELECT pg_sleep(120)%'"
        wait_for(lambda: ENV.pg.psql(asleep), what="listener sleeping")
        ex = start_executor()
        try:
            ends = {name: finished(a, eid)["status"] for name, eid in run.items()}
        finally:
            stop_executor(ex)
        time.sleep(0.5)  # a NOTIFY is delivered once its transaction committed: well before this
        sql(f"SELECT pg_cancel_backend(pid) FROM ({asleep}) x")
        out, _ = listener.communicate(timeout=30)
        self.assertEqual(set(ends.values()), {"succeeded"}, ends)
        # the end's own announcement (a watched run's steps are announced too)
        heard = {name for name, eid in run.items() if f'"gx_{eid}" with payload "succeeded"' in out}
        self.assertEqual(heard, {"quick waited", "slow watched"}, out)
        sql(f"UPDATE glyphic.executions SET watchers = 0 WHERE id = '{run['slow watched']}'")


class ApiTest(unittest.TestCase):
    def test_run_list_get_cancel_retry_delete_and_tenancy(self):
        a, b = user("api-a"), user("api-b")
        trig = {"id": "start", "type": "trigger.manual", "name": "Start"}
        fail = http_node("fail", "/status/500")
        wid = create(a, [trig, fail], chain(trig, fail))
        # runs queue up (no executor yet)
        r = a.post(f"/api/workflows/{wid}/run", {"input": [{"x": 1}, {"x": 2}]})
        self.assertEqual(r.status, 202, r)
        eid = r.json()["id"]
        self.assertEqual(a.get(f"/api/executions/{eid}").json()["input"], [{"x": 1}, {"x": 2}])
        # cancel a queued one: canceled at once
        r2 = a.post(f"/api/workflows/{wid}/run").json()["id"]
        r = a.post(f"/api/executions/{r2}/cancel")
        self.assertEqual((r.status, r.json()["status"]), (200, "canceled"))
        self.assertEqual(a.post(f"/api/executions/{r2}/cancel").status, 409)
        # unsaved definition (editor test run)
        d = {"nodes": [trig, {"id": "set", "type": "data.set", "name": "Set", "params": {"fields": {"y": 2}}}],
             "edges": [{"from": "start", "to": "set"}]}
        r3 = a.post(f"/api/workflows/{wid}/run", {"definition": d}).json()["id"]
        ex = start_executor()
        try:
            e = finished(a, eid)
            self.assertEqual(e["status"], "failed")
            self.assertEqual(finished(a, r3)["output"], [{"y": 2}])
            # retry from the failed step: the trigger step is carried over, not re-run
            r = a.post(f"/api/executions/{eid}/retry")
            self.assertEqual(r.status, 202, r)
            e2 = finished(a, r.json()["id"])
            self.assertEqual(e2["trigger"], "retry")
            self.assertEqual(e2["parent_id"], eid)
            self.assertEqual(e2["steps"][0]["node_id"], "start")
            self.assertEqual(e2["steps"][0]["finished_at"], e["steps"][0]["finished_at"])
            r = a.post(f"/api/executions/{eid}/retry", {"from": "start"})
            self.assertEqual(r.status, 202, r)
            e3 = finished(a, r.json()["id"])
            self.assertNotEqual(e3["steps"][0]["finished_at"], e["steps"][0]["finished_at"])
        finally:
            stop_executor(ex)
        # list with filters and pages
        lst = a.get(f"/api/executions?workflow_id={wid}&limit=2").json()
        self.assertEqual(len(lst["executions"]), 2)
        nxt = a.get(f"/api/executions?workflow_id={wid}&limit=2&cursor={lst['next_cursor']}").json()
        seen = {x["id"] for x in lst["executions"]} | {x["id"] for x in nxt["executions"]}
        self.assertEqual(len(seen), 4)
        self.assertEqual({x["status"] for x in a.get(f"/api/executions?status=canceled").json()["executions"]},
                         {"canceled"})
        self.assertEqual(a.get(f"/api/executions?trigger=retry").json()["executions"][0]["trigger"], "retry")
        # bad inputs
        for q in ("status=done", "trigger=x", "workflow_id=1", "cursor=abc", "limit=0", "since=yesterday"):
            r = a.get(f"/api/executions?{q}")
            self.assertEqual(r.status, 400, (q, r))
        for body in ({"input": {"x": 1}}, {"input": [1]}, {"nope": 1}, {"input": [{}] * 1001},
                     {"definition": {"nodes": [{"id": "x", "type": "no.such", "name": "X"}], "edges": []}},
                     {"trigger_node": 5}):
            r = a.post(f"/api/workflows/{wid}/run", body)
            self.assertEqual(r.status, 400, (body, r))
        self.assertEqual(a.post(f"/api/executions/{eid}/retry", {"from": "middle"}).status, 400)
        # tenancy: b sees none of it
        self.assertEqual(b.get(f"/api/executions/{eid}").status, 404)
        self.assertEqual(b.post(f"/api/executions/{eid}/cancel").status, 404)
        self.assertEqual(b.post(f"/api/executions/{eid}/retry").status, 404)
        self.assertEqual(b.delete(f"/api/executions/{eid}").status, 404)
        self.assertEqual(b.post(f"/api/workflows/{wid}/run").status, 404)
        self.assertEqual(b.get(f"/api/executions?workflow_id={wid}").json()["executions"], [])
        # the app role sees nothing without a context
        self.assertEqual(ENV.pg.psql("SELECT count(*) FROM glyphic.executions", user="glyphic_app").strip(), "0")
        self.assertEqual(ENV.pg.psql("SELECT count(*) FROM glyphic.execution_steps", user="glyphic_app").strip(), "0")
        self.assertEqual(ENV.pg.psql("SELECT count(*) FROM glyphic.steps", user="glyphic_app").strip(), "0")
        # delete a finished one
        self.assertEqual(a.delete(f"/api/executions/{eid}").status, 204)
        self.assertEqual(a.get(f"/api/executions/{eid}").status, 404)


def member_of(admin, role):
    return ENV.member_of(admin, role)


class PermissionTest(unittest.TestCase):
    def test_read_only_share_sees_runs_but_cannot_change_them(self):
        a = user("perm")
        trig = {"id": "start", "type": "trigger.manual", "name": "Start"}
        wid = create(a, [trig], [])
        queued = a.post(f"/api/workflows/{wid}/run").json()["id"]
        ed = member_of(a, "editor")
        self.assertEqual(ed.get(f"/api/executions/{queued}").status, 404)  # not shared yet
        r = a.put(f"/api/workflows/{wid}/shares/{ed.me['user']['id']}", {"role": "viewer"})
        self.assertIn(r.status, (200, 201), r)
        self.assertEqual(ed.get(f"/api/executions/{queued}").status, 200)
        self.assertEqual(ed.post(f"/api/executions/{queued}/cancel").status, 403)
        self.assertEqual(ed.post(f"/api/workflows/{wid}/run").status, 403)
        self.assertEqual(a.post(f"/api/executions/{queued}/cancel").status, 200)
        self.assertEqual(ed.delete(f"/api/executions/{queued}").status, 403)
        self.assertEqual(ed.post(f"/api/executions/{queued}/retry").status, 403)
        self.assertEqual(a.get(f"/api/executions/{queued}").json()["status"], "canceled")
        viewer = member_of(a, "viewer")
        self.assertEqual(viewer.post(f"/api/executions/{queued}/cancel").status, 403)

UNIFORM = ("failed: could not connect (unknown host, connection refused, unreachable, "
           "or an internal address not allowed by http.allow_private)")


class OutboundGuardTest(unittest.TestCase):
    """http.request reaches only public addresses and what http.allow_private
    lists (here 127.0.0.1/32, the test server), through the executor and
    `glyphic run`."""

    @classmethod
    def setUpClass(cls):
        cls.ex = start_executor()
        cls.other = TestServer(host="127.0.0.2").start()  # loopback, listening, not on the list

    @classmethod
    def tearDownClass(cls):
        stop_executor(cls.ex)
        cls.other.stop()

    def fetch(self, a, url):
        """A sync webhook whose http.request fetches url; the answer."""
        path = f"g-{uuid.uuid4().hex[:6]}"
        trig = {"id": "hook", "type": "trigger.webhook", "name": "Hook", "params": {"path": path, "mode": "sync"}}
        fetch = {"id": "fetch", "type": "http.request", "name": "Fetch",
                 "params": {"url": url, "timeout_ms": 10000}}
        create(a, [trig, fetch], chain(trig, fetch), active=True)
        return hook("POST", path, {})

    def test_internal_addresses_refused_and_errors_uniform(self):
        a = user("guard")
        r = self.fetch(a, SRV.url + "/json/allowed")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["body"], {"path": "/json/allowed", "n": 1})
        other_port = self.other.port
        cases = [
            f"http://127.0.0.2:{other_port}/json/direct",                            # refused, though listening
            f"http://2130706434:{other_port}/json/decimal",                         # 127.0.0.2, spelled as a number
            f"http://[::ffff:127.0.0.2]:{other_port}/json/mapped",
            SRV.url + f"/redirect-to?url=http://127.0.0.2:{other_port}/json/redirected",  # allowed, then not
            "http://127.0.0.1:1/closed",                                              # allowed, closed port
            "http://no-such-host.invalid/x",                                          # no such name
            "http://169.254.169.254/latest/meta-data/",                               # cloud metadata
        ]
        for url in cases:
            r = self.fetch(a, url)
            self.assertEqual(r.status, 500, (url, r))
            first = url.split("?")[0].replace("2130706434", "127.0.0.2")  # messages show curl's normal form
            self.assertIn(f"GET {first} {UNIFORM}", r.json()["error"]["message"], url)
        for p in ("/json/direct", "/json/decimal", "/json/mapped", "/json/redirected"):
            self.assertEqual(self.other.count(p), 0, p)

    def test_glyphic_run_applies_the_allow_list(self):
        glyphic = os.path.join(harness.BUILD, "cli", "glyphic")
        wf = os.path.join(ENV.base, "guard.json")
        with open(wf, "w") as fh:
            json.dump({"nodes": [{"id": "m", "type": "trigger.manual", "name": "M"},
                                 {"id": "h", "type": "http.request", "name": "H",
                                  "params": {"url": SRV.url + "/json/cli"}}],
                       "edges": [{"from": "m", "to": "h"}]}, fh)
        env = {k: v for k, v in os.environ.items() if not k.startswith("GLYPHIC_")}
        env["GLYPHIC_CONFIG"] = os.path.join(ENV.base, "empty.conf")
        open(env["GLYPHIC_CONFIG"], "w").close()
        r = subprocess.run([glyphic, "run", wf], capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual(r.returncode, 1, r)
        self.assertIn(UNIFORM, r.stdout)
        self.assertIn("127.0.0.1 is not a public address", r.stderr)  # the operator's log line
        self.assertEqual(SRV.count("/json/cli"), 0)
        env["GLYPHIC_HTTP_ALLOW_PRIVATE"] = "127.0.0.1/32"
        r = subprocess.run([glyphic, "run", wf], capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(SRV.count("/json/cli"), 1)

    def test_bad_allow_list_is_a_startup_error(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("GLYPHIC_")}
        env["GLYPHIC_HTTP_ALLOW_PRIVATE"] = "10.1.2.5/24"
        for argv in ([os.path.join(harness.BUILD, "cli", "glyphic"), "-c", ENV.fcgi.conf, "config"],
                     [EXECUTOR, "-c", ENV.fcgi.conf, "--drain"],
                     [os.path.join(harness.BUILD, "fcgi", "glyphic-fcgi"), "-c", ENV.fcgi.conf, "--check"]):
            r = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60)
            self.assertEqual(r.returncode, 2, (argv, r))
            self.assertIn("http.allow_private: '10.1.2.5/24' has bits set past the prefix length", r.stderr)


    def test_webhook_executions_are_started_by_the_activating_user(self):
        """A webhook's execution runs for whoever activated the workflow
        (else its creator), on the direct path as on the queued one."""
        owner = user("hookown")
        ed = member_of(owner, "editor")
        for mode in ("sync", "async"):
            path = f"starter-{mode}-{uuid.uuid4().hex[:6]}"
            hook = {"id": "hook", "type": "trigger.webhook", "name": "Hook", "params": {"path": path, "mode": mode}}
            setn = {"id": "set", "type": "data.set", "name": "Set", "params": {"fields": {"ok": "{{ 1 }}"}}}
            wid = create(ed, [hook, setn], chain(hook, setn))  # created by the editor
            self.assertEqual(owner.post(f"/api/workflows/{wid}/activate").status, 200)  # activated by the admin
            r = ENV.request("POST", f"/hooks/{path}", {"x": 1})
            self.assertEqual(r.status, 200 if mode == "sync" else 202, r)
            if mode == "async":
                ex = start_executor()
                try:
                    wait_for(lambda: sql(f"SELECT count(*) FROM glyphic.executions WHERE workflow_id = '{wid}' "
                                         f"AND status = 'succeeded'") == "1", what="the queued run")
                finally:
                    stop_executor(ex)
            got = sql(f"SELECT status, started_by FROM glyphic.executions WHERE workflow_id = '{wid}'")
            self.assertEqual(got, f"succeeded|{owner.me['user']['id']}", mode)

    def test_children_obey_the_starters_read_rights(self):
        """An editor cannot run an owner's private workflow through
        flow.subworkflow or as an error workflow; a read share lets them."""
        owner = user("subown")
        ed = member_of(owner, "editor")
        trig = {"id": "start", "type": "trigger.manual", "name": "Start"}
        secret = {"id": "set", "type": "data.set", "name": "Set", "params": {"fields": {"secret": "owner only"}}}
        private = create(owner, [trig, secret], chain(trig, secret), name="Private")
        etrig = {"id": "err", "type": "trigger.error", "name": "On error"}
        enoop = {"id": "log", "type": "flow.noop", "name": "Log"}
        handler = create(owner, [etrig, enoop], chain(etrig, enoop), name="Private handler")
        self.assertEqual(ed.get(f"/api/workflows/{private}").status, 404)
        call = {"id": "call", "type": "flow.subworkflow", "name": "Call", "params": {"workflow_id": private}}
        caller = create(ed, [trig, call], chain(trig, call), name="Caller")
        failing = http_node("boom", "/status/404")
        erring = create(ed, [trig, failing], chain(trig, failing), settings={"error_workflow_id": handler})
        ex = start_executor()
        try:
            e = finished(ed, ed.post(f"/api/workflows/{caller}/run").json()["id"])
            self.assertEqual(e["status"], "failed", e)
            self.assertEqual(e["started_by"], ed.me["user"]["id"])
            self.assertIn("workflow not found", e["error"]["message"])
            self.assertNotIn("owner only", json.dumps(e))
            e = finished(ed, ed.post(f"/api/workflows/{erring}/run").json()["id"])
            self.assertEqual(e["status"], "failed", e)
            self.assertEqual(e["error"].get("error_workflow"), "workflow not found")
            self.assertEqual(owner.get(f"/api/executions?workflow_id={handler}").json()["executions"], [])
            # the owner's own runs of the same workflows may use them
            e = finished(owner, owner.post(f"/api/workflows/{caller}/run").json()["id"])
            self.assertEqual(e["status"], "succeeded", e)
            # a read share is enough
            for wid in (private, handler):
                r = owner.put(f"/api/workflows/{wid}/shares/{ed.me['user']['id']}", {"role": "viewer"})
                self.assertIn(r.status, (200, 201), r)
            e = finished(ed, ed.post(f"/api/workflows/{caller}/run").json()["id"])
            self.assertEqual(e["status"], "succeeded", e)
            self.assertEqual(e["output"], [{"secret": "owner only"}])
            child = sql(f"SELECT started_by FROM glyphic.executions WHERE parent_id = '{e['id']}'")
            self.assertEqual(child, ed.me["user"]["id"])
            e = finished(ed, ed.post(f"/api/workflows/{erring}/run").json()["id"])
            self.assertNotIn("error_workflow", e["error"])
            lst = wait_for(lambda: owner.get(f"/api/executions?workflow_id={handler}").json()["executions"],
                           what="the error workflow")
            self.assertEqual(lst[0]["started_by"], ed.me["user"]["id"])
        finally:
            stop_executor(ex)


class CliRunTest(unittest.TestCase):
    def test_examples_run_without_a_server(self):
        glyphic = os.path.join(harness.BUILD, "cli", "glyphic")
        examples = sorted(f for f in os.listdir(os.path.join(ROOT, "examples")) if f.endswith(".json")
                          and not f.endswith(".input.json"))
        self.assertGreaterEqual(len(examples), 3)
        for f in examples:
            args = [glyphic, "run", os.path.join(ROOT, "examples", f)]
            inp = os.path.join(ROOT, "examples", f.replace(".json", ".input.json"))
            if os.path.exists(inp):
                args += ["--input", inp]
            r = subprocess.run(args, capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 0, (f, r.stdout, r.stderr))
            self.assertIn("execution succeeded", r.stdout)
        r = subprocess.run([glyphic, "run", "/nonexistent.json"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        bad = os.path.join(ENV.base, "bad.json")
        with open(bad, "w") as fh:
            json.dump({"nodes": [{"id": "x", "type": "no.such", "name": "X"}], "edges": []}, fh)
        r = subprocess.run([glyphic, "run", bad], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("no.such", r.stderr)


if __name__ == "__main__":
    unittest.main()
