"""POST /api/expressions/preview: the editor's live preview of a parameter,
evaluated by the engine's evaluator with the engine's rules — against the
input of a node's last step in a real execution (run through a webhook on
the direct path), against a given item, or against an empty one; failures
as {error}; hostile expressions bounded; every bad request its 4xx; the
permission of reading the execution. Real PostgreSQL, glyphic-fcgi and
nginx."""
import json
import os
import signal
import subprocess
import threading
import time
import unittest
import uuid

import harness

ENV = None
PREVIEW = "/api/expressions/preview"
ADD = "{{ $json.body.a + $json.body.b }}"
EXECUTOR = os.path.join(harness.BUILD, "executor", "glyphic-executor")


def setUpModule():
    global ENV
    # $env: only what executor.env_allow names, and only for those who may edit
    os.environ["GL_PREVIEW_VISIBLE"] = "visible-value"
    os.environ["GL_PREVIEW_HIDDEN"] = "secret-value"
    # the evaluation's deadline is expressions.preview_budget_ms: 1 s here,
    # several times less than the hostile template below needs
    ENV = harness.Env(workers=2, fcgi_extra={"executor.env_allow": "GL_PREVIEW_VISIBLE",
                                             "expressions.preview_budget_ms": "1000"})
    ENV.start_all()


def tearDownModule():
    ENV.close()


def user(prefix="u"):
    return ENV.signup(f"{prefix}-{uuid.uuid4().hex[:8]}@example.com")


def add_flow(c, name="Preview flow"):
    """The README's Add workflow grown by a split, an If and a Set: active,
    sync, all quick and local (run by glyphic-fcgi itself). Returns the
    workflow id and its webhook path."""
    path = f"preview-{uuid.uuid4().hex[:8]}"
    nodes = [
        {"id": "hook", "type": "trigger.webhook", "name": "Hook", "params": {"path": path, "mode": "sync"}},
        {"id": "sum", "type": "data.set", "name": "Sum", "params": {"fields": {"total": ADD}}},
        {"id": "split", "type": "flow.split", "name": "Split", "params": {"field": "body.items"}},
        {"id": "check", "type": "flow.if", "name": "Check", "params": {"condition": "{{ $json.qty > 1 }}"}},
        {"id": "tag", "type": "data.set", "name": "Tag",
         "params": {"fields": {"big": True, "label": "{{ $json.name }} of {{ $node[\"Sum\"].json.total }}"}}},
        {"id": "reply", "type": "flow.respond", "name": "Reply",
         "params": {"body": "{{ { total: $node[\"Sum\"].json.total, first: $json.label } }}"}},
        {"id": "idle", "type": "flow.noop", "name": "Idle"},
        {"id": "manual", "type": "trigger.manual", "name": "Manual"},
    ]
    edges = [{"from": "hook", "to": "sum"}, {"from": "sum", "to": "split"}, {"from": "split", "to": "check"},
             {"from": "check", "from_port": "true", "to": "tag"}, {"from": "tag", "to": "reply"},
             {"from": "check", "from_port": "false", "to": "idle"}]
    r = c.post("/api/workflows", {"name": name, "definition": {"nodes": nodes, "edges": edges}})
    assert r.status == 201, r
    wid = r.json()["id"]
    r = c.post(f"/api/workflows/{wid}/activate")
    assert r.status == 200, r
    return wid, path


BODY = {"a": 2, "b": 3, "items": [{"name": "a", "qty": 1}, {"name": "b", "qty": 2}, {"name": "c", "qty": 3}]}


def run_flow(c, name="Preview flow"):
    """Runs the flow once through its webhook; returns (workflow id, execution)."""
    wid, path = add_flow(c, name)
    r = ENV.request("POST", "/hooks/" + path, body=BODY)
    assert r.status == 200, r
    assert r.json() == {"total": 5, "first": "b of 5"}, r
    eid = r.header("X-Glyphic-Execution")
    e = c.get(f"/api/executions/{eid}")
    assert e.status == 200, e
    return wid, e.json()


class PreviewTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.owner = user("owner")
        cls.wid, cls.execution = run_flow(cls.owner)
        cls.eid = cls.execution["id"]

    def preview(self, body, client=None, **kw):
        return (client or self.owner).post(PREVIEW, body, **kw)

    def value(self, expression, client=None, **ctx):
        r = self.preview({"expression": expression, **ctx}, client)
        self.assertEqual(r.status, 200, r)
        self.assertNotIn("error", r.json(), r)
        return r.json()["value"]

    def at(self, node, expression, item_index=None, client=None):
        ctx = {"execution_id": self.eid, "node_id": node}
        if item_index is not None:
            ctx["item_index"] = item_index
        return self.value(expression, client, **ctx)

    def failure(self, expression, **ctx):
        r = self.preview({"expression": expression, **ctx})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(list(r.json()), ["error"], r)
        self.assertTrue(r.json()["error"]["message"], r)
        return r.json()["error"]["message"]

    def bad(self, body, status, code, field=None, client=None, **kw):
        r = self.preview(body, client, **kw)
        self.assertEqual(r.status, status, r)
        err = r.json()["error"]
        self.assertEqual(err["code"], code, r)
        if field:
            self.assertEqual(err.get("field"), field, r)
        return err

    # ---- against a real execution ----

    def test_values_from_the_step_input(self):
        self.assertEqual(self.at("sum", ADD), 5)
        # one {{ }} keeps the type; text around it makes a string; no {{ is the text
        self.assertEqual(self.at("sum", "{{ $json.body }}"), BODY)
        self.assertEqual(self.at("sum", "total: " + ADD), "total: 5")
        self.assertEqual(self.at("sum", "{{ $json.body.a > 1 }}"), True)
        # as in n8n, even spaces around a lone {{ }} make it text
        self.assertEqual(self.at("sum", "  {{ $json.body.a > 1 }} "), "  true ")
        self.assertEqual(self.at("sum", "plain text"), "plain text")
        self.assertIsNone(self.at("sum", "{{ $json.nothing }}"))
        # objects as text: their keys in the order the step was stored in
        # (PostgreSQL's jsonb keeps shorter keys first), as GET shows them
        stored = [s for s in self.execution["steps"] if s["node_id"] == "sum"][0]["input"]["main"][0]
        self.assertEqual(self.at("sum", "{{ $json.body.items.length }} items: {{ $json.body.items }}"),
                         "3 items: " + json.dumps(stored["body"]["items"], separators=(",", ":")))

    def test_the_preview_agrees_with_the_run(self):
        """Each expression of the workflow, previewed at its node, gives what
        the run produced."""
        steps = {s["node_id"]: s for s in self.execution["steps"]}
        self.assertEqual(self.at("sum", ADD), steps["sum"]["output"]["main"][0]["total"])
        tag_out = steps["tag"]["output"]["main"]
        for i, item in enumerate(tag_out):
            self.assertEqual(self.at("tag", "{{ $json.name }} of {{ $node[\"Sum\"].json.total }}", i), item["label"])
        self.assertEqual(self.at("reply", "{{ { total: $node[\"Sum\"].json.total, first: $json.label } }}"),
                         {"total": 5, "first": "b of 5"})
        # the If sent b and c to true, a to false
        self.assertEqual([self.at("check", "{{ $json.qty > 1 }}", i) for i in range(3)], [False, True, True])

    def test_items_and_item_index(self):
        self.assertEqual(self.at("check", "{{ $json.name }}"), "a")
        self.assertEqual(self.at("check", "{{ $json.name }}", 2), "c")
        self.assertEqual(self.at("check", "{{ $itemIndex }}", 1), 1)
        self.assertEqual(self.at("check", "{{ $input.all().length }}", 1), 3)
        self.assertEqual(self.at("check", "{{ $input.item.json.name }}", 1), "b")
        self.assertEqual(self.at("check", "{{ $input.first().json.name }}", 2), "a")
        self.assertEqual(self.at("check", "{{ $input.last().json.qty }}"), 3)
        # the trigger's step: its items are the webhook's
        self.assertEqual(self.at("hook", "{{ $input.all().length }}"), 1)
        self.assertEqual(self.at("hook", "{{ $json.body.b }}"), 3)
        for index in (3, 10**6):
            err = self.bad({"expression": ADD, "execution_id": self.eid, "node_id": "check", "item_index": index},
                           400, "invalid", "item_index")
            self.assertIn("has 3 items", err["message"])

    def test_other_nodes_as_the_step_saw_them(self):
        self.assertEqual(self.at("tag", "{{ $node[\"Sum\"].json.total }}"), 5)
        self.assertEqual(self.at("tag", "{{ $(\"Sum\").item.json.body.a }}"), 2)
        self.assertEqual(self.at("reply", "{{ $node[\"Split\"].json.name }}"), "a")
        # an If's output: its taken branch first (true: b and c)
        self.assertEqual(self.at("reply", "{{ $node[\"Check\"].json.name }}"), "b")
        self.assertEqual(self.at("reply", "{{ $node[\"Tag\"].json.label }}"), "b of 5")
        # nodes that had not run yet when the step ran are not there (the
        # run would fail the same way)
        self.assertEqual(self.at("reply", "{{ $node[\"Check\"].json.qty }}"), 2)
        for node, other in (("sum", "Tag"), ("check", "Check"), ("tag", "Reply"), ("tag", "Manual")):
            msg = self.failure("{{ $node[\"%s\"].json }}" % other, execution_id=self.eid, node_id=node)
            self.assertEqual(msg, f"node '{other}' does not exist or has not run")

    def test_execution_and_workflow(self):
        self.assertEqual(self.at("tag", "{{ $execution.id }}"), self.eid)
        self.assertEqual(self.at("tag", "{{ $workflow.id }}"), self.wid)
        self.assertEqual(self.at("tag", "{{ $workflow.name }}"), "Preview flow")
        self.assertEqual(self.at("tag", "{{ $now.toMillis() > 0 && $today <= $now }}"), True)

    def test_env_for_those_who_may_edit(self):
        self.assertEqual(self.value("{{ $env.GL_PREVIEW_VISIBLE }}"), "visible-value")
        self.assertIsNone(self.value("{{ $env.GL_PREVIEW_HIDDEN }}"))
        viewer = ENV.member_of(self.owner, "viewer")
        r = self.preview({"expression": "{{ $env.GL_PREVIEW_VISIBLE }}"}, viewer)
        self.assertEqual(r.status, 200, r)
        self.assertIn("$env", r.json()["error"]["message"])
        self.assertNotIn("visible-value", r.body.decode())

    def test_unsaved_definition_run_by_the_executor(self):
        """An editor's test run (POST /api/workflows/{id}/run with an unsaved
        definition and two input items), run by glyphic-executor: the
        preview reads the definition stored with the execution."""
        wid, _ = add_flow(self.owner, "Saved")
        nodes = [{"id": "start", "type": "trigger.manual", "name": "Start"},
                 {"id": "times", "type": "data.set", "name": "Times",
                  "params": {"fields": {"y": "{{ $json.n * 10 }}", "of": "{{ $input.all().length }}"}}}]
        r = self.owner.post(f"/api/workflows/{wid}/run", {
            "definition": {"nodes": nodes, "edges": [{"from": "start", "to": "times"}]},
            "input": [{"n": 4}, {"n": 5}]})
        self.assertEqual(r.status, 202, r)
        eid = r.json()["id"]
        with open(os.path.join(ENV.base, "executor.stderr"), "w") as err:
            executor = subprocess.Popen([EXECUTOR, "-c", ENV.fcgi.conf, "--daemon"], stdout=subprocess.DEVNULL,
                                        stderr=err, start_new_session=True)
        got = {}

        def finished():
            got["e"] = self.owner.get(f"/api/executions/{eid}").json()
            return got["e"]["status"] in ("succeeded", "failed")

        try:
            harness.wait_for(finished, 60, "the execution to finish")
        finally:
            os.killpg(executor.pid, signal.SIGTERM)
            executor.wait(30)
        e = got["e"]
        self.assertEqual(e["status"], "succeeded", e)
        out = [s for s in e["steps"] if s["node_id"] == "times"][0]["output"]["main"]
        for i in range(2):
            r = self.preview({"expression": "{{ $json.n * 10 }}", "execution_id": eid, "node_id": "times",
                              "item_index": i})
            self.assertEqual(r.json(), {"value": out[i]["y"]}, r)
        r = self.preview({"expression": "{{ $input.all().length }}", "execution_id": eid, "node_id": "times"})
        self.assertEqual(r.json(), {"value": 2}, r)
        r = self.preview({"expression": "{{ $node[\"Start\"].json.n }}", "execution_id": eid, "node_id": "times"})
        self.assertEqual(r.json(), {"value": 4}, r)
        self.bad({"expression": ADD, "execution_id": eid, "node_id": "times", "item_index": 2},
                 400, "invalid", "item_index")
        # the saved version's nodes are not this execution's
        self.bad({"expression": ADD, "execution_id": eid, "node_id": "sum"}, 404, "not_found", "node_id")

    # ---- without an execution ----

    def test_json_context(self):
        self.assertEqual(self.value("{{ $json.a * 2 }}", json={"a": 21}), 42)
        self.assertEqual(self.value("{{ $json }}", json={"x": [1, {"y": None}]}), {"x": [1, {"y": None}]})
        self.assertEqual(self.value("{{ $input.all().length }}/{{ $input.first().json.a }}", json={"a": "z"}), "1/z")
        self.assertEqual(self.value("{{ $itemIndex }}", json={}, item_index=0), 0)
        self.assertIsNone(self.value("{{ $execution.id }}", json={"a": 1}))
        self.assertIsNone(self.value("{{ $workflow.name }}", json={"a": 1}))
        self.assertEqual(self.failure("{{ $node[\"Sum\"].json }}", json={"a": 1}),
                         "node 'Sum' does not exist or has not run")
        self.assertEqual(self.value("{{ (1.5).toFixed(2) + ' ' + 0.1 * 3 }}"), "1.50 0.30000000000000004")
        self.assertEqual(self.value("{{ 7 / 2 }}"), 3.5)

    def test_empty_context(self):
        self.assertEqual(self.value("{{ $json }}"), {})
        self.assertEqual(self.value("{{ $input.all().length }}"), 1)
        self.assertEqual(self.value("{{ 1 + 1 }}"), 2)
        self.assertEqual(self.value(""), "")
        self.assertEqual(self.value("{{ }}"), None)
        self.assertEqual(self.value("{{ not closed"), "{{ not closed")
        self.assertEqual(self.value("{{ 'é'.length }}", execution_id=None, node_id=None, json=None), 1)

    # ---- failures are previews too ----

    def test_errors_are_results(self):
        # columns count in the parameter's whole text
        self.assertEqual(self.failure("{{ 1 + }}"), "syntax error at column 8: unexpected '}'")
        self.assertEqual(self.failure("ab {{ $nope }}"), "syntax error at column 7: unknown variable '$nope'")
        self.assertEqual(self.failure("{{ x = 1 }}"), "syntax error at column 4: unknown variable 'x'")
        self.assertEqual(self.failure("{{ $json.body.a.toUpperCase() }}", execution_id=self.eid, node_id="sum"),
                         "a number has no method 'toUpperCase'")
        self.assertEqual(self.failure("{{ 'x'.repeat(2000000) }}"), "expression result exceeds 1048576 bytes")
        # what a run could not store either
        self.assertIn("cannot be previewed", self.failure("{{ 'a\\u0000b' }}"))

    def test_hostile_expressions_are_bounded(self):
        big = {"s": "a" * 600000, "n": "a" * 300000}
        last = "$json.s.lastIndexOf($json.n)"
        # one {{ }} of 10 searches through 600 KB: over its 100,000 steps
        msg = self.failure("{{ %s }}" % " + ".join([last] * 10), json=big)
        self.assertEqual(msg, "expression exceeds 100000 steps")
        # thousands of {{ }}, each within its steps: the time budget ends it
        one = "{{ %s }}" % " + ".join([last] * 4)
        template = " ".join([one] * (60000 // (len(one) + 1)))
        got = {}

        def call():
            got["r"] = self.preview({"expression": template, "json": big})

        th = threading.Thread(target=call)
        th.start()
        time.sleep(0.3)
        # the other worker answers meanwhile
        self.assertEqual(ENV.request("GET", "/api/health").status, 200)
        th.join(120)
        self.assertFalse(th.is_alive())
        r = got["r"]
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"error": {"message": "expression exceeded its time budget"}})
        for _ in range(4):
            self.assertEqual(ENV.request("GET", "/api/health").status, 200)

    # ---- bad requests ----

    def test_bad_bodies(self):
        e, n = self.eid, "sum"
        r = self.owner.request("POST", PREVIEW, body="{not json", headers={"Content-Type": "application/json"})
        self.assertEqual((r.status, r.json()["error"]["code"]), (400, "invalid_json"), r)
        r = self.owner.request("POST", PREVIEW)  # no body at all
        self.assertEqual((r.status, r.json()["error"]["code"], r.json()["error"]["field"]), (400, "invalid", "body"))
        self.bad([ADD], 400, "invalid", "body")
        self.bad({"expression": ADD, "extra": 1}, 400, "invalid", "extra")
        self.bad({}, 400, "invalid", "expression")
        self.bad({"json": {}}, 400, "invalid", "expression")
        for expression in (None, 5, ["{{ 1 }}"], {"a": "{{ 1 }}"}):
            self.bad({"expression": expression}, 400, "invalid", "expression")
        # the cap is a definition's parameter size (64 KiB)
        self.assertEqual(self.value("x" * 65536), "x" * 65536)
        err = self.bad({"expression": "x" * 65537}, 413, "too_large", "expression")
        self.assertIn("65536", err["message"])
        for eid in ("nope", e + "0", e[:-1], 5, True):
            self.bad({"expression": ADD, "execution_id": eid, "node_id": n}, 400, "invalid", "execution_id")
        for node in (5, "x" * 65, ["sum"]):
            self.bad({"expression": ADD, "execution_id": e, "node_id": node}, 400, "invalid", "node_id")
        self.bad({"expression": ADD, "execution_id": e}, 400, "invalid", "node_id")
        self.bad({"expression": ADD, "node_id": n}, 400, "invalid", "execution_id")
        for j in ([1], "x", 3):
            self.bad({"expression": ADD, "json": j}, 400, "invalid", "json")
        self.bad({"expression": ADD, "execution_id": e, "node_id": n, "json": {}}, 400, "invalid", "json")
        for index in (-1, -2**63, "0", 1.5, True, 1, 2**63 - 1):
            self.bad({"expression": ADD, "execution_id": e, "node_id": n, "item_index": index},
                     400, "invalid", "item_index")
        # without an execution there is one item
        self.bad({"expression": ADD, "item_index": 1}, 400, "invalid", "item_index")
        self.bad({"expression": ADD, "json": {}, "item_index": 1}, 400, "invalid", "item_index")
        r = self.owner.request("POST", PREVIEW, body="expression=1", headers={"Content-Type": "text/plain"})
        self.assertEqual(r.status, 415, r)

    def test_missing_executions_and_nodes(self):
        self.bad({"expression": ADD, "execution_id": str(uuid.uuid4()), "node_id": "sum"},
                 404, "not_found", "execution_id")
        err = self.bad({"expression": ADD, "execution_id": self.eid, "node_id": "ghost"}, 404, "not_found", "node_id")
        self.assertIn("ghost", err["message"])
        err = self.bad({"expression": ADD, "execution_id": self.eid, "node_id": "manual"},
                       404, "node_not_run", "node_id")
        self.assertIn("has not run", err["message"])

    # ---- who may preview ----

    def test_viewer_and_read_key_may_preview(self):
        viewer = ENV.member_of(self.owner, "viewer")
        # as GET /api/executions/{id}: the viewer must see the workflow first
        self.bad({"expression": ADD, "execution_id": self.eid, "node_id": "sum"}, 404, "not_found", "execution_id",
                 client=viewer)
        self.assertEqual(viewer.get(f"/api/executions/{self.eid}").status, 404)
        r = self.owner.put(f"/api/workflows/{self.wid}/shares/{viewer.me['user']['id']}", {"role": "viewer"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(viewer.get(f"/api/executions/{self.eid}").status, 200)
        self.assertEqual(self.at("sum", ADD, client=viewer), 5)
        self.assertEqual(self.at("tag", "{{ $node[\"Sum\"].json.total }}", client=viewer), 5)
        r = self.owner.post("/api/keys", {"name": "preview", "scopes": ["read"]})
        self.assertEqual(r.status, 201, r)
        key = ENV.client()
        key.key = r.json()["key"]
        self.assertEqual(self.at("sum", ADD, client=key), 5)  # no CSRF token with a key
        self.assertIsNone(key.csrf)
        # $env needs scope write, even for an owner's key
        r = self.preview({"expression": "{{ $env.GL_PREVIEW_VISIBLE }}"}, key)
        self.assertIn("$env", r.json()["error"]["message"])

    def test_other_orgs_execution_is_not_found(self):
        stranger = user("stranger")
        err = self.bad({"expression": ADD, "execution_id": self.eid, "node_id": "sum"}, 404, "not_found",
                       "execution_id", client=stranger)
        self.assertEqual(err["message"], "no such execution")
        # the same answer as for an execution that does not exist, and as GET
        self.assertEqual(stranger.get(f"/api/executions/{self.eid}").status, 404)
        # a preview without an execution is fine for anyone signed in
        self.assertEqual(self.value(ADD, stranger, json={"body": {"a": 2, "b": 3}}), 5)

    def test_authentication_and_csrf(self):
        r = ENV.request("POST", PREVIEW, body={"expression": ADD})
        self.assertEqual((r.status, r.json()["error"]["code"]), (401, "unauthorized"), r)
        r = ENV.request("POST", PREVIEW, body={"expression": ADD}, headers={"Authorization": "Bearer gk_nope"})
        self.assertEqual(r.status, 401, r)
        c = user("csrf")
        self.bad({"expression": ADD}, 403, "csrf_required", "X-CSRF-Token", client=c, csrf=False)
        self.bad({"expression": ADD}, 403, "csrf_invalid", "X-CSRF-Token", client=c,
                 headers={"X-CSRF-Token": "x" * 43})
        self.assertEqual(self.value(ADD, c, json={"body": {"a": 2, "b": 3}}), 5)
        # only POST
        r = c.get(PREVIEW)
        self.assertEqual(r.status, 405, r)


if __name__ == "__main__":
    unittest.main()
