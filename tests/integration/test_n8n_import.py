"""n8n workflow exports through the API: POST /api/workflows/import detects
them, converts them (422 n8n_unmappable unless ?partial=true), and GET
/api/workflows/{id}/export?format=n8n writes them back; the corpus of
tests/compat/n8n imports through the API, and an imported webhook workflow
runs through the API's execution path — real PostgreSQL and nginx."""
import glob
import json
import os
import signal
import subprocess
import time
import unittest
import uuid

import harness

ENV = None
PW = "correct horse battery"
CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "compat", "n8n")


EXECUTOR = os.path.join(harness.BUILD, "executor", "glyphic-executor")


def setUpModule():
    global ENV
    ENV = harness.Env(workers=2, fcgi_extra={"executor.poll_ms": "200", "executor.workers": "1"}).start_all()
    ENV.fcgi.write_conf()


def tearDownModule():
    ENV.close()


def signup(prefix):
    return ENV.signup(f"{prefix}-{uuid.uuid4().hex[:8]}@example.com", password=PW, name=prefix.title())


def n8n_node(name, type_, ver, params, **extra):
    d = {"parameters": params, "id": uuid.uuid4().hex[:12], "name": name, "type": "n8n-nodes-base." + type_,
         "typeVersion": ver, "position": [0, 0]}
    d.update(extra)
    return d


def doc(nodes, conns, name="From n8n"):
    return {"name": name, "nodes": nodes, "connections": conns, "settings": {"executionOrder": "v1"}, "pinData": {}}


def link(a, b):
    return {a: {"main": [[{"node": b, "type": "main", "index": 0}]]}}


TRIG = n8n_node("Start", "manualTrigger", 1, {})


class ImportTest(unittest.TestCase):
    def test_corpus_imports_through_the_api(self):
        a = signup("corpus")
        n = 0
        for path in sorted(glob.glob(os.path.join(CORPUS, "*.json"))):
            if path.endswith(".expected.json"):
                continue
            with open(path[:-5] + ".expected.json") as f:
                exp = json.load(f)
            with open(path) as f:
                body = json.loads(f.read().replace("__BASE__", "http://127.0.0.1:9"))
            r = a.post("/api/workflows/import", body)
            if "problems" in exp:
                self.assertEqual(r.status, 422, (path, r))
                self.assertEqual(r.json()["error"]["code"], "n8n_unmappable")
                continue
            self.assertEqual(r.status, 201, (path, r))
            n += 1
            wid = r.json()["id"]
            self.assertEqual(r.json()["problems"], [])
            wf = a.get(f"/api/workflows/{wid}").json()
            self.assertEqual(wf["name"], body["name"])
            names = {nd["name"] for nd in wf["definition"]["nodes"]}
            self.assertTrue({x["name"] for x in body["nodes"] if x["type"] != "n8n-nodes-base.stickyNote"} <= names)
            # and back to n8n, and in again: the same node types in the same places
            r = a.get(f"/api/workflows/{wid}/export?format=n8n")
            self.assertEqual(r.status, 200, (path, r))
            r2 = a.post("/api/workflows/import", r.json())
            self.assertEqual(r2.status, 201, (path, r2))
            again = a.get(f"/api/workflows/{r2.json()['id']}").json()["definition"]
            self.assertEqual(sorted((x["name"], x["type"]) for x in again["nodes"]),
                             sorted((x["name"], x["type"]) for x in wf["definition"]["nodes"]), path)
            self.assertEqual(len(again["edges"]), len(wf["definition"]["edges"]), path)
            self.assertEqual(len(again.get("notes", [])), len(wf["definition"].get("notes", [])), path)
        self.assertGreaterEqual(n, 30)

    def test_refused_then_partial_with_placeholders(self):
        a = signup("partial")
        d = doc([TRIG, n8n_node("Code", "code", 2, {"jsCode": "return []"}), n8n_node("After", "noOp", 1, {})],
                {**link("Start", "Code"), **link("Code", "After")})
        r = a.post("/api/workflows/import", d)
        self.assertEqual(r.status, 422, r)
        err = r.json()["error"]
        self.assertEqual(err["code"], "n8n_unmappable")
        self.assertEqual(err["problems"][0]["node"], "Code")
        self.assertEqual(err["problems"][0]["type"], "n8n-nodes-base.code")
        self.assertEqual(err["problems"][0]["typeVersion"], 2)
        self.assertIn("no code node yet", err["problems"][0]["message"])
        self.assertEqual(len(a.get("/api/workflows").json()["items"]), 0, "nothing half-written")
        r = a.post("/api/workflows/import?partial=true", d)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(len(r.json()["problems"]), 1)
        wf = a.get(f"/api/workflows/{r.json()['id']}").json()
        code = [x for x in wf["definition"]["nodes"] if x["name"] == "Code"][0]
        self.assertEqual(code["type"], "flow.noop")
        self.assertTrue(code["disabled"])
        self.assertIn("n8n-nodes-base.code", code["notes"])
        self.assertIn("jsCode", code["notes"])
        self.assertEqual(a.post("/api/workflows/import?partial=maybe", d).status, 400)

    def test_bad_inputs(self):
        a = signup("bad")
        # connection to a node that does not exist: a problem, refused
        r = a.post("/api/workflows/import", doc([TRIG], link("Start", "Ghost")))
        self.assertEqual(r.status, 422, r)
        self.assertIn("does not exist", r.json()["error"]["problems"][0]["message"])
        # a cycle outside a loop: Glyphic's validator refuses it (400 invalid_definition)
        s1, s2 = n8n_node("A", "noOp", 1, {}), n8n_node("B", "noOp", 1, {})
        r = a.post("/api/workflows/import", doc([TRIG, s1, s2], {**link("Start", "A"), **link("A", "B"), **link("B", "A")}))
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json()["error"]["code"], "invalid_definition")
        # hostile names: kept as names (cut to 100 characters), never as ids
        hostile = "<script>alert(1)</script>\"'; DROP TABLE x; --" + "é" * 80
        r = a.post("/api/workflows/import", doc([TRIG, n8n_node(hostile, "noOp", 1, {}, id="../../etc")], link("Start", hostile)))
        self.assertEqual(r.status, 201, r)
        wf = a.get(f"/api/workflows/{r.json()['id']}").json()
        node = [x for x in wf["definition"]["nodes"] if x["type"] == "flow.noop"][0]
        self.assertEqual(node["name"], hostile.encode()[:100].decode(errors="ignore"))
        self.assertNotEqual(node["id"], "../../etc")
        # duplicate names
        r = a.post("/api/workflows/import", doc([TRIG, n8n_node("Start", "noOp", 1, {})], {}))
        self.assertEqual(r.status, 422, r)
        # malformed: nodes not objects, name not a string
        r = a.post("/api/workflows/import", {"nodes": [{"type": "n8n-nodes-base.noOp"}], "connections": {}})
        self.assertEqual(r.status, 422, r)
        r = a.post("/api/workflows/import", doc([TRIG], {}, name=5))
        self.assertEqual(r.status, 400, r)
        # not JSON at all
        r = a.request("POST", "/api/workflows/import", b"{nodes:", headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 400, r)
        # oversized: more nodes than a definition may hold
        many = [TRIG] + [n8n_node(f"N{i}", "noOp", 1, {}) for i in range(501)]
        r = a.post("/api/workflows/import", doc(many, {}))
        self.assertIn(r.status, (400, 413), r)

    def test_viewers_cannot_import_and_orgs_are_apart(self):
        a = signup("owner")
        v = ENV.member_of(a, "viewer", password=PW)
        d = doc([TRIG, n8n_node("Nothing", "noOp", 1, {})], link("Start", "Nothing"))
        self.assertEqual(v.post("/api/workflows/import", d).status, 403)
        r = a.post("/api/workflows/import", d)
        self.assertEqual(r.status, 201, r)
        wid = r.json()["id"]
        other = signup("other")
        self.assertEqual(other.get(f"/api/workflows/{wid}/export?format=n8n").status, 404)
        self.assertEqual(a.get(f"/api/workflows/{wid}/export?format=n8n").status, 200)

    def test_export_round_trip(self):
        a = signup("export")
        path = f"n8n-{uuid.uuid4().hex[:8]}"
        d = doc([n8n_node("Webhook", "webhook", 2, {"path": path, "httpMethod": "POST", "responseMode": "responseNode"}),
                 n8n_node("Edit Fields", "set", 3.4, {"assignments": {"assignments": [
                     {"id": "1", "name": "sum", "value": "={{ $json.body.a + $json.body.b }}", "type": "number"}]},
                     "options": {}}),
                 n8n_node("Respond", "respondToWebhook", 1.1, {"respondWith": "json",
                                                               "responseBody": "={ \"sum\": \"{{ $json.sum }}\" }"})],
                {**link("Webhook", "Edit Fields"), **link("Edit Fields", "Respond")}, name="Adder")
        r = a.post("/api/workflows/import", d)
        self.assertEqual(r.status, 201, r)
        wid = r.json()["id"]
        # the API's execution path: the imported webhook answers
        self.assertEqual(a.post(f"/api/workflows/{wid}/activate").status, 200)
        r = ENV.request("POST", "/hooks/" + path, body={"a": 2, "b": 3})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"sum": "5"})
        # back to n8n, and in again
        r = a.get(f"/api/workflows/{wid}/export?format=n8n")
        self.assertEqual(r.status, 200, r)
        n8n = r.json()
        self.assertEqual(n8n["name"], "Adder")
        self.assertEqual({x["type"] for x in n8n["nodes"]},
                         {"n8n-nodes-base.webhook", "n8n-nodes-base.set", "n8n-nodes-base.respondToWebhook"})
        self.assertEqual(n8n["connections"]["Webhook"]["main"][0][0]["node"], "Edit Fields")
        n8n["nodes"][0]["parameters"]["path"] = path + "-2"
        r = a.post("/api/workflows/import", n8n)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(a.get(f"/api/workflows/{wid}/export?format=xml").status, 400)
        # a node without an n8n equivalent: 422 with the list
        r = a.post("/api/workflows", {"name": "Renamer", "definition": {"nodes": [
            {"id": "t", "type": "trigger.manual", "name": "T"},
            {"id": "s", "type": "data.set", "name": "S", "params": {"rename": {"a": "b"}, "fields": {"c": 1}}}],
            "edges": [{"from": "t", "to": "s"}]}})
        self.assertEqual(r.status, 201, r)
        r = a.get(f"/api/workflows/{r.json()['id']}/export?format=n8n")
        self.assertEqual(r.status, 422, r)
        self.assertEqual(r.json()["error"]["problems"][0]["node"], "S")


def finished(c, eid, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        e = c.get(f"/api/executions/{eid}").json()
        if e["status"] in ("succeeded", "failed", "canceled"):
            return e
        time.sleep(0.1)
    raise AssertionError(f"execution {eid} did not finish")


class RunThroughApiTest(unittest.TestCase):
    """The corpus's runnable cases (no HTTP: no test server here) run by
    the executor after an API import give the outputs they give with
    glyphic run; Execute Workflow calls an imported workflow by its id."""

    @classmethod
    def setUpClass(cls):
        with open(os.path.join(ENV.base, "executor-n8n.stderr"), "w") as err:
            cls.ex = subprocess.Popen([EXECUTOR, "-c", ENV.fcgi.conf, "--daemon"], stdout=subprocess.DEVNULL,
                                      stderr=err, start_new_session=True)

    @classmethod
    def tearDownClass(cls):
        if cls.ex.poll() is None:
            os.killpg(cls.ex.pid, signal.SIGTERM)
            cls.ex.wait(30)

    def test_corpus_outputs_through_the_executor(self):
        a = signup("runs")
        ran = 0
        for path in sorted(glob.glob(os.path.join(CORPUS, "*.json"))):
            if path.endswith(".expected.json"):
                continue
            with open(path[:-5] + ".expected.json") as f:
                exp = json.load(f)
            with open(path) as f:
                text = f.read()
            if "output" not in exp or exp.get("requires") or "__BASE__" in text:
                continue
            r = a.post("/api/workflows/import", json.loads(text))
            self.assertEqual(r.status, 201, (path, r))
            r = a.post(f"/api/workflows/{r.json()['id']}/run")
            self.assertEqual(r.status, 202, (path, r))
            e = finished(a, r.json()["id"])
            self.assertEqual(e["status"], "succeeded", (path, e.get("error")))
            self.assertEqual(e["output"], exp["output"], path)
            ran += 1
        self.assertGreaterEqual(ran, 15)

    def test_execute_workflow_calls_the_imported_child(self):
        a = signup("sub")
        child = doc([TRIG, n8n_node("Double", "set", 3.4, {"assignments": {"assignments": [
            {"id": "1", "name": "twice", "value": "={{ $json.n * 2 }}", "type": "number"}]}, "options": {}})],
            link("Start", "Double"), name="Child")
        r = a.post("/api/workflows/import", child)
        self.assertEqual(r.status, 201, r)
        cid = r.json()["id"]
        parent = doc([TRIG, n8n_node("Seed", "set", 3.4, {"assignments": {"assignments": [
            {"id": "1", "name": "n", "value": "21", "type": "number"}]}, "options": {}}),
            n8n_node("Call", "executeWorkflow", 1, {"workflowId": cid})],
            {**link("Start", "Seed"), **link("Seed", "Call")}, name="Parent")
        r = a.post("/api/workflows/import", parent)
        self.assertEqual(r.status, 201, r)
        r = a.post(f"/api/workflows/{r.json()['id']}/run")
        self.assertEqual(r.status, 202, r)
        e = finished(a, r.json()["id"])
        self.assertEqual(e["status"], "succeeded", e.get("error"))
        call = [s for s in e["steps"] if s["node_id"] and s["output"] and "main" in s["output"]][-1]
        # Edit Fields 3.4 keeps only the fields it sets (includeOtherFields off)
        self.assertEqual(call["output"]["main"], [{"twice": 42}])


if __name__ == "__main__":
    unittest.main()
