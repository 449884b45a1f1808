"""The org's variables ($vars, n8n's custom variables; issue 15):
/api/variables under the same tenancy as the rest of the API, and a workflow
that reads {{ $vars.KEY }} run by glyphic-executor.

Every member reads keys and values; editors, admins and owners create,
change and delete; viewers get 403 for writes; another org sees nothing
(404) and its API-role SQL cannot read, move or plant a row (row level
security). Keys follow n8n's rule (^[A-Za-z0-9_]{1,50}$), values are
strings of at most 1000 characters; every bad input is a 400 that names the
field and changes nothing; an org keeps at most 1000 variables.

Real PostgreSQL, glyphic-fcgi, glyphic-executor and nginx."""
import os
import signal
import subprocess
import threading
import time
import unittest
import uuid

import harness

ENV = None
EXECUTOR = None
EXECUTOR_ERR = None
EXECUTOR_BIN = os.path.join(harness.BUILD, "executor", "glyphic-executor")


def setUpModule():
    global ENV, EXECUTOR, EXECUTOR_ERR
    ENV = harness.Env(workers=2, fcgi_extra={"executor.lease": "5", "executor.poll_ms": "200",
                                             "executor.batch": "1"})
    ENV.start_all()
    ENV.fcgi.write_conf()
    EXECUTOR_ERR = open(os.path.join(ENV.base, "executor.stderr"), "w")
    EXECUTOR = subprocess.Popen([EXECUTOR_BIN, "-c", ENV.fcgi.conf, "--daemon", "--workers", "2"],
                                stdout=subprocess.DEVNULL, stderr=EXECUTOR_ERR, start_new_session=True)


def tearDownModule():
    if EXECUTOR and EXECUTOR.poll() is None:
        os.killpg(EXECUTOR.pid, signal.SIGTERM)
        EXECUTOR.wait(30)
    if EXECUTOR_ERR:
        EXECUTOR_ERR.close()
    ENV.close()


def sql(q):
    return ENV.pg.psql(q, user="postgres").strip()


def owner():
    return ENV.signup(f"var-{uuid.uuid4().hex[:8]}@example.com")


def create(c, key, value):
    r = c.post("/api/variables", {"key": key, "value": value})
    assert r.status == 201, r
    return r.json()


def wait_for(fn, timeout=60, what="condition"):
    end = time.time() + timeout
    while time.time() < end:
        v = fn()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class VariablesApiTest(unittest.TestCase):
    def test_crud(self):
        c = owner()
        v = create(c, "API_BASE", "https://api.example.com")
        self.assertEqual(v["key"], "API_BASE")
        self.assertEqual(v["value"], "https://api.example.com")
        r = c.get(f"/api/variables/{v['id']}")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["value"], "https://api.example.com")
        create(c, "a_limit", "10")
        items = c.get("/api/variables").json()["items"]
        self.assertEqual([i["key"] for i in items], ["API_BASE", "a_limit"])
        # the same key again
        r = c.post("/api/variables", {"key": "API_BASE", "value": "x"})
        self.assertEqual(r.status, 409, r)
        self.assertEqual(r.json()["error"]["code"], "key_taken")
        # change the value, then the key
        r = c.patch(f"/api/variables/{v['id']}", {"value": "https://v2.example.com"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["value"], "https://v2.example.com")
        r = c.patch(f"/api/variables/{v['id']}", {"key": "BASE"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json()["key"], r.json()["value"]), ("BASE", "https://v2.example.com"))
        r = c.patch(f"/api/variables/{v['id']}", {"key": "a_limit"})
        self.assertEqual(r.status, 409, r)
        # an empty value is a value
        r = c.patch(f"/api/variables/{v['id']}", {"value": ""})
        self.assertEqual((r.status, r.json()["value"]), (200, ""))
        # paging
        page = c.get("/api/variables?limit=1").json()
        self.assertEqual(len(page["items"]), 1)
        rest = c.get(f"/api/variables?limit=1&cursor={page['next_cursor']}").json()
        self.assertEqual([i["key"] for i in rest["items"]], ["a_limit"])
        # delete
        self.assertEqual(c.delete(f"/api/variables/{v['id']}").status, 204)
        self.assertEqual(c.get(f"/api/variables/{v['id']}").status, 404)
        self.assertEqual(c.delete(f"/api/variables/{v['id']}").status, 404)
        self.assertEqual(ENV.client().get("/api/variables").status, 401)
        # audited by key, never by value
        actions = sql(f"SELECT string_agg(action, ',' ORDER BY id) FROM glyphic.audit_log "
                      f"WHERE target_type = 'variable' AND org_id = '{c.me['org_id']}'")
        self.assertEqual(actions.split(","), ["variable.create", "variable.create", "variable.update",
                                              "variable.update", "variable.update", "variable.delete"])

    def test_bad_inputs_are_400_and_change_nothing(self):
        c = owner()
        v = create(c, "GOOD", "1")
        cases = [
            ({"key": "has space", "value": "x"}, "key"),
            ({"key": "dash-ed", "value": "x"}, "key"),
            ({"key": "", "value": "x"}, "key"),
            ({"key": "k" * 51, "value": "x"}, "key"),
            ({"key": "\u00e9t\u00e9", "value": "x"}, "key"),
            ({"key": 5, "value": "x"}, "key"),
            ({"value": "x"}, "key"),
            ({"key": "OK1"}, "value"),
            ({"key": "OK2", "value": 5}, "value"),
            ({"key": "OK3", "value": None}, "value"),
            ({"key": "OK4", "value": {"a": 1}}, "value"),
            ({"key": "OK5", "value": "x" * 1001}, "value"),
            ({"key": "OK6", "value": "x", "secret": True}, "secret"),
        ]
        for body, field in cases:
            r = c.post("/api/variables", body)
            self.assertEqual(r.status, 400, (body, r))
            self.assertEqual(r.json()["error"].get("field"), field, (body, r))
        # 1000 characters (not bytes) is the limit
        self.assertEqual(c.post("/api/variables", {"key": "LONG", "value": "\u00e9" * 1000}).status, 201)
        for body, field in (({"key": "bad key"}, "key"), ({"value": 7}, "value"), ({"id": "x"}, "id")):
            r = c.patch(f"/api/variables/{v['id']}", body)
            self.assertEqual(r.status, 400, (body, r))
        r = c.post("/api/variables", "not json", headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(c.get("/api/variables?limit=0").status, 400)
        self.assertEqual(c.get("/api/variables?cursor=nope").status, 400)
        self.assertEqual(c.get("/api/variables/not-a-uuid").status, 404)
        self.assertEqual(c.patch(f"/api/variables/{uuid.uuid4()}", {"value": "x"}).status, 404)
        self.assertEqual(sorted(i["key"] for i in c.get("/api/variables").json()["items"]), ["GOOD", "LONG"])
        self.assertEqual(c.get(f"/api/variables/{v['id']}").json()["value"], "1")

    def test_roles(self):
        admin = owner()
        v = create(admin, "SHARED", "visible")
        viewer = ENV.member_of(admin, "viewer")
        editor = ENV.member_of(admin, "editor")
        # every member reads keys and values: variables are not secrets
        self.assertEqual(viewer.get(f"/api/variables/{v['id']}").json()["value"], "visible")
        self.assertEqual([i["key"] for i in viewer.get("/api/variables").json()["items"]], ["SHARED"])
        for r in (viewer.post("/api/variables", {"key": "NOPE", "value": "x"}),
                  viewer.patch(f"/api/variables/{v['id']}", {"value": "x"}),
                  viewer.delete(f"/api/variables/{v['id']}")):
            self.assertEqual(r.status, 403, r)
        e = create(editor, "BY_EDITOR", "e")
        self.assertEqual(editor.patch(f"/api/variables/{v['id']}", {"value": "changed"}).status, 200)
        self.assertEqual(editor.delete(f"/api/variables/{e['id']}").status, 204)
        self.assertEqual(admin.get(f"/api/variables/{v['id']}").json()["value"], "changed")

    def test_another_org_sees_nothing(self):
        a, b = owner(), owner()
        v = create(a, "MINE", "a's")
        self.assertEqual(b.get(f"/api/variables/{v['id']}").status, 404)
        self.assertEqual(b.patch(f"/api/variables/{v['id']}", {"value": "b's"}).status, 404)
        self.assertEqual(b.delete(f"/api/variables/{v['id']}").status, 404)
        self.assertEqual(b.get("/api/variables").json()["items"], [])
        # the same key in another org is another variable
        create(b, "MINE", "b's")
        self.assertEqual(a.get(f"/api/variables/{v['id']}").json()["value"], "a's")

    def test_app_role_sql_stays_in_its_org(self):
        a, b = owner(), owner()
        v = create(a, "TENANT", "a")
        ctx_b = ENV.app_context(b.me["user"]["id"], b.me["org_id"])
        r = ENV.pg.psql(f"{ctx_b}; SELECT count(*) FROM glyphic.variables WHERE id = '{v['id']}'",
                        user="glyphic_app", check=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip().splitlines()[-1], "0")
        r = ENV.pg.psql(f"{ctx_b}; WITH u AS (UPDATE glyphic.variables SET value = 'x' WHERE id = '{v['id']}' "
                        f"RETURNING 1) SELECT count(*) FROM u", user="glyphic_app", check=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip().splitlines()[-1], "0")
        ctx_a = ENV.app_context(a.me["user"]["id"], a.me["org_id"])
        for stmt in (f"UPDATE glyphic.variables SET org_id = '{b.me['org_id']}' WHERE id = '{v['id']}'",
                     f"UPDATE glyphic.variables SET created_by = NULL WHERE id = '{v['id']}'"):
            r = ENV.pg.psql(f"{ctx_a}; {stmt}", user="glyphic_app", check=False)
            self.assertNotEqual(r.returncode, 0, stmt)
            self.assertIn("permission denied", r.stderr)
        r = ENV.pg.psql(f"{ctx_a}; INSERT INTO glyphic.variables (org_id, key, value, created_by) "
                        f"VALUES ('{b.me['org_id']}', 'PLANTED', 'x', '{a.me['user']['id']}')",
                        user="glyphic_app", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("row-level security", r.stderr)
        # the table's own rules hold whoever writes
        r = ENV.pg.psql(f"INSERT INTO glyphic.variables (org_id, key, value) VALUES ('{a.me['org_id']}', 'a b', 'x')",
                        check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertEqual(sql(f"SELECT value FROM glyphic.variables WHERE id = '{v['id']}'"), "a")

    def test_per_org_limit(self):
        c = owner()
        org = c.me["org_id"]
        user = c.me["user"]["id"]
        sql(f"INSERT INTO glyphic.variables (org_id, key, value, created_by) "
            f"SELECT '{org}', 'K' || i, 'v', '{user}' FROM generate_series(1, 999) i")
        self.assertEqual(c.post("/api/variables", {"key": "LAST", "value": "x"}).status, 201)
        r = c.post("/api/variables", {"key": "ONE_TOO_MANY", "value": "x"})
        self.assertEqual(r.status, 403, r)
        self.assertEqual(r.json()["error"]["code"], "limit_reached")
        self.assertEqual(sql(f"SELECT count(*) FROM glyphic.variables WHERE org_id = '{org}'"), "1000")
        # another org is not limited by it
        create(owner(), "ONE_TOO_MANY", "x")

    def test_two_inserts_at_once_cannot_both_take_the_last_place(self):
        # both requests queue behind the org's insert lock, held here, and go
        # on together: the second must count the first's row
        c = owner()
        org = c.me["org_id"]
        user = c.me["user"]["id"]
        sql(f"INSERT INTO glyphic.variables (org_id, key, value, created_by) "
            f"SELECT '{org}', 'K' || i, 'v', '{user}' FROM generate_series(1, 999) i")
        answers = []

        def insert(key):
            answers.append(c.post("/api/variables", {"key": key, "value": "x"}).status)

        with harness.advisory_lock_held(ENV.pg, f"'glyphic.variables:{org}'") as waiting:
            threads = [threading.Thread(target=insert, args=(k,)) for k in ("FIRST", "SECOND")]
            for t in threads:
                t.start()
            waiting(2)
        for t in threads:
            t.join(30)
        self.assertEqual(sorted(answers), [201, 403])
        self.assertEqual(sql(f"SELECT count(*) FROM glyphic.variables WHERE org_id = '{org}'"), "1000")


class VariablesInWorkflowsTest(unittest.TestCase):
    def run_flow(self, c, fields):
        nodes = [{"id": "start", "type": "trigger.manual", "name": "Start"},
                 {"id": "set", "type": "data.set", "name": "Set", "params": {"fields": fields}}]
        r = c.post("/api/workflows", {"name": f"Vars {uuid.uuid4().hex[:6]}",
                                      "definition": {"nodes": nodes, "edges": [{"from": "start", "to": "set"}]}})
        self.assertEqual(r.status, 201, r)
        r = c.post(f"/api/workflows/{r.json()['id']}/run")
        self.assertEqual(r.status, 202, r)
        eid = r.json()["id"]

        def done():
            e = c.get(f"/api/executions/{eid}").json()
            return e if e["status"] in ("succeeded", "failed", "canceled") else None
        return wait_for(done, 60, f"execution {eid}")

    def test_a_workflow_reads_its_orgs_variables(self):
        a, b = owner(), owner()
        create(a, "API_BASE", "https://api.example.com")
        create(a, "LIMIT", "25")
        create(b, "API_BASE", "https://other-org.example.com")
        e = self.run_flow(a, {"url": "{{ $vars.API_BASE }}/users", "limit": "{{ Number($vars.LIMIT) + 1 }}",
                              "missing": "{{ $vars.NOPE ?? 'none' }}", "count": "{{ Object.keys($vars).length }}"})
        self.assertEqual(e["status"], "succeeded", e)
        self.assertEqual(e["output"], [{"url": "https://api.example.com/users", "limit": 26, "missing": "none",
                                        "count": 2}])
        # a change shows in the next execution
        vid = a.get("/api/variables").json()["items"][0]["id"]
        a.patch(f"/api/variables/{vid}", {"value": "https://v2.example.com"})
        e = self.run_flow(a, {"url": "{{ $vars.API_BASE }}"})
        self.assertEqual(e["output"], [{"url": "https://v2.example.com"}])
        # an org without variables reads {}
        e = self.run_flow(owner(), {"v": "{{ $vars }}", "x": "{{ $vars.API_BASE ?? 'unset' }}"})
        self.assertEqual(e["status"], "succeeded", e)
        self.assertEqual(e["output"], [{"v": {}, "x": "unset"}])

    def test_the_expression_preview_reads_them(self):
        a, b = owner(), owner()
        create(a, "GREETING", "hello")
        create(b, "GREETING", "other org")
        viewer = ENV.member_of(a, "viewer")
        for c in (a, viewer):
            r = c.post("/api/expressions/preview", {"expression": "{{ $vars.GREETING }} world"})
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json(), {"value": "hello world"})
        r = b.post("/api/expressions/preview", {"expression": "{{ $vars }}"})
        self.assertEqual(r.json(), {"value": {"GREETING": "other org"}})


if __name__ == "__main__":
    unittest.main()
