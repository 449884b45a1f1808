"""Webhook paths and the webhook item (issue 11, items 6 and 8).

A path an org's workflow has served stays that org's while the workflow
exists (deactivated, saved without it, in the trash): another org cannot
take it and receive its callers' payloads; deleting the workflow for good
frees it. A webhook node saved without a path gets a generated, unguessable
one that later saves keep. Credential-like request headers (built in, and
hooks.drop_headers) never reach an execution's item; a query string that is
not UTF-8 or not well percent-encoded answers 400 invalid_query.

Real PostgreSQL, glyphic-fcgi and nginx; no executor (async calls are only
queued, which records the item)."""
import json
import re
import threading
import unittest
import uuid

import harness

ENV = None
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def setUpModule():
    global ENV
    ENV = harness.Env(workers=2, fcgi_extra={"hooks.drop_headers": " X-Tenant-Secret , x-internal-*"})
    ENV.start_all()


def tearDownModule():
    ENV.close()


def sql(q):
    return ENV.pg.psql(q, user="postgres")


def user(prefix):
    return ENV.signup(f"{prefix}-{uuid.uuid4().hex[:8]}@example.com")


def hook_def(path=None, mode="async", method="POST", extra_params=None):
    params = {"mode": mode, "method": method, **(extra_params or {})}
    if path is not None:
        params["path"] = path
    trig = {"id": "hook", "type": "trigger.webhook", "name": "Hook", "params": params}
    noop = {"id": "noop", "type": "flow.noop", "name": "Noop"}
    return {"nodes": [trig, noop], "edges": [{"from": "hook", "to": "noop"}]}


def create(c, d, name="Flow"):
    r = c.post("/api/workflows", {"name": name, "definition": d})
    assert r.status == 201, r
    return r.json()


def save(c, wid, d, base):
    return c.put(f"/api/workflows/{wid}", {"definition": d, "base_version": base})


def path_of(wf, node="hook"):
    return [n for n in wf["definition"]["nodes"] if n["id"] == node][0]["params"].get("path")


def call(path, body=None, method="POST", headers=None):
    return ENV.request(method, "/hooks/" + path, body=body if body is not None else {"n": 1}, headers=headers)


def runs(wid):
    return int(sql(f"SELECT count(*) FROM glyphic.executions WHERE workflow_id = '{wid}'"))


class TakeoverTest(unittest.TestCase):
    def assert_taken(self, r):
        """The one answer for a path another org holds, live or reserved."""
        self.assertEqual(r.status, 409, r)
        err = r.json()["error"]
        self.assertEqual((err["code"], err["field"]), ("webhook_path_taken", "definition"))
        return err["message"]

    def test_a_freed_path_stays_with_its_org(self):
        a, b = user("a"), user("b")
        path = f"x-{uuid.uuid4().hex[:8]}"
        wa = create(a, hook_def(path))["id"]
        self.assertEqual(a.post(f"/api/workflows/{wa}/activate").status, 200)
        self.assertEqual(call(path).status, 202)
        self.assertEqual(runs(wa), 1)

        wb = create(b, hook_def(path))["id"]
        live_msg = self.assert_taken(b.post(f"/api/workflows/{wb}/activate"))

        # deactivated: the path is free of webhooks, still A's
        self.assertEqual(a.post(f"/api/workflows/{wa}/deactivate").status, 200)
        self.assertEqual(sql(f"SELECT count(*) FROM glyphic.webhooks WHERE path = '{path}'"), "0")
        reserved_msg = self.assert_taken(b.post(f"/api/workflows/{wb}/activate"))
        # reserved and active answer alike, and name no org or workflow
        self.assertEqual(live_msg, reserved_msg)
        for secret in (wa, a.me["org_id"], path):
            self.assertNotIn(secret, reserved_msg)
        self.assertFalse(b.get(f"/api/workflows/{wb}").json()["active"])
        self.assertEqual(call(path).status, 404)  # A's callers reach nobody, least of all B
        self.assertEqual(runs(wb), 0)

        # an active workflow of B cannot take it by a save either, whole
        wb2 = create(b, hook_def(f"b-own-{uuid.uuid4().hex[:6]}"))["id"]
        self.assertEqual(b.post(f"/api/workflows/{wb2}/activate").status, 200)
        self.assert_taken(save(b, wb2, hook_def(path), 1))
        self.assertEqual(b.get(f"/api/workflows/{wb2}").json()["version"], 1)

        # A reactivates: its own path
        self.assertEqual(a.post(f"/api/workflows/{wa}/activate").status, 200)
        self.assertEqual(call(path).status, 202)
        # A saves without it: the old URL is gone, and still A's
        self.assertEqual(save(a, wa, hook_def(path + "-v2"), 1).status, 200)
        self.assertEqual(call(path).status, 404)
        self.assert_taken(b.post(f"/api/workflows/{wb}/activate"))
        # in the trash: still A's
        self.assertEqual(a.delete(f"/api/workflows/{wa}").status, 204)
        self.assert_taken(b.post(f"/api/workflows/{wb}/activate"))
        self.assertEqual(call(path).status, 404)
        self.assertEqual(runs(wb), 0)
        # deleted for good: free
        self.assertEqual(a.delete(f"/api/workflows/{wa}?permanent=true").status, 204)
        self.assertEqual(sql(f"SELECT count(*) FROM glyphic.webhook_paths WHERE path = '{path}'"), "0")
        self.assertEqual(b.post(f"/api/workflows/{wb}/activate").status, 200)
        self.assertEqual(call(path).status, 202)
        self.assertEqual(runs(wb), 1)
        # and now B's: A cannot take it back
        wa2 = create(a, hook_def(path))["id"]
        self.assert_taken(a.post(f"/api/workflows/{wa2}/activate"))

    def test_within_an_org_a_path_moves_once_no_workflow_serves_it(self):
        a = user("move")
        path = f"m-{uuid.uuid4().hex[:8]}"
        old = create(a, hook_def(path))["id"]
        new = create(a, hook_def(path), name="Flow v2")["id"]
        self.assertEqual(a.post(f"/api/workflows/{old}/activate").status, 200)
        self.assert_taken(a.post(f"/api/workflows/{new}/activate"))  # one active at a time
        self.assertEqual(a.post(f"/api/workflows/{old}/deactivate").status, 200)
        self.assertEqual(a.post(f"/api/workflows/{new}/activate").status, 200)
        self.assertEqual(call(path).status, 202)
        self.assertEqual((runs(old), runs(new)), (0, 1))
        # the org holds it while either workflow exists
        b = user("move-b")
        wb = create(b, hook_def(path))["id"]
        self.assertEqual(a.post(f"/api/workflows/{new}/deactivate").status, 200)
        self.assertEqual(a.delete(f"/api/workflows/{new}").status, 204)
        self.assertEqual(a.delete(f"/api/workflows/{new}?permanent=true").status, 204)
        self.assert_taken(b.post(f"/api/workflows/{wb}/activate"))
        self.assertEqual(a.delete(f"/api/workflows/{old}").status, 204)
        self.assertEqual(a.delete(f"/api/workflows/{old}?permanent=true").status, 204)
        self.assertEqual(b.post(f"/api/workflows/{wb}/activate").status, 200)

    def test_two_orgs_taking_a_new_path_at_once_one_wins(self):
        a, b = user("race-a"), user("race-b")
        for _ in range(8):
            path = f"race-{uuid.uuid4().hex[:8]}"
            wa, wb = create(a, hook_def(path))["id"], create(b, hook_def(path))["id"]
            out = {}
            ts = [threading.Thread(target=lambda c=c, w=w: out.__setitem__(w, c.post(f"/api/workflows/{w}/activate")))
                  for c, w in ((a, wa), (b, wb))]
            [t.start() for t in ts]
            [t.join() for t in ts]
            self.assertEqual(sorted(r.status for r in out.values()), [200, 409], out)
            self.assertEqual(sql(f"SELECT count(DISTINCT org_id) FROM glyphic.webhook_paths WHERE path = '{path}'"), "1")

    def test_reservations_are_written_only_by_the_database(self):
        a = user("rls")
        path = f"r-{uuid.uuid4().hex[:8]}"
        wid = create(a, hook_def(path))["id"]
        self.assertEqual(a.post(f"/api/workflows/{wid}/activate").status, 200)
        org = a.me["org_id"]
        # table privileges: refused before any row level security context matters
        for stmt in (f"DELETE FROM glyphic.webhook_paths WHERE path = '{path}'",
                     f"UPDATE glyphic.webhook_paths SET created_at = now() WHERE path = '{path}'",
                     f"INSERT INTO glyphic.webhook_paths (path, org_id, workflow_id) VALUES ('z-{path}', '{org}', '{wid}')",
                     "SELECT glyphic.webhook_path_reserve()"):
            r = ENV.pg.psql(stmt, user="glyphic_app", check=False)
            self.assertNotEqual(r.returncode, 0, stmt)
            self.assertIn("permission denied", r.stderr)
        self.assertEqual(sql(f"SELECT count(*) FROM glyphic.webhook_paths WHERE path LIKE '%{path}'"), "1")
        # and without a member's context the app role sees none
        self.assertEqual(ENV.pg.psql("SELECT count(*) FROM glyphic.webhook_paths", user="glyphic_app"), "0")


class GeneratedPathTest(unittest.TestCase):
    def test_a_path_left_out_is_generated_and_kept(self):
        a = user("gen")
        wf = create(a, hook_def())
        wid, p1 = wf["id"], path_of(wf)
        self.assertRegex(p1, UUID4)
        # saves keep it: sent back as read, left out again, or empty
        d = a.get(f"/api/workflows/{wid}").json()["definition"]
        r = save(a, wid, d, 1)
        self.assertEqual((r.status, path_of(r.json())), (200, p1))
        r = save(a, wid, hook_def(mode="sync"), 2)
        self.assertEqual((r.status, path_of(r.json())), (200, p1))
        r = save(a, wid, hook_def(path=""), 3)
        self.assertEqual((r.status, path_of(r.json())), (200, p1))
        self.assertEqual(a.post(f"/api/workflows/{wid}/activate").status, 200)
        self.assertEqual(call(p1).status, 202)
        # a custom path replaces it; leaving the custom one out generates anew
        custom = f"custom-{uuid.uuid4().hex[:6]}"
        self.assertEqual(path_of(save(a, wid, hook_def(custom), 4).json()), custom)
        p2 = path_of(save(a, wid, hook_def(), 5).json())
        self.assertRegex(p2, UUID4)
        self.assertNotIn(p2, (p1, custom))
        # a new node (another id) gets its own
        d = hook_def()
        d["nodes"].append({"id": "hook2", "type": "trigger.webhook", "name": "Hook 2", "params": {}})
        wf = save(a, wid, d, 6).json()
        self.assertEqual(path_of(wf), p2)
        self.assertRegex(path_of(wf, "hook2"), UUID4)
        self.assertNotEqual(path_of(wf, "hook2"), p2)

    def test_generated_paths_are_long_random_and_distinct(self):
        a = user("rand")
        paths = [path_of(create(a, hook_def())) for _ in range(20)]
        for p in paths:
            self.assertRegex(p, UUID4)  # 122 random bits each
        self.assertEqual(len(set(paths)), len(paths))
        # no shared prefix or suffix beyond chance: not a counter or a clock
        self.assertEqual(len({p[:8] for p in paths}), len(paths))
        self.assertEqual(len({p[-12:] for p in paths}), len(paths))

    def test_a_copy_gets_its_own_generated_path_and_keeps_custom_ones(self):
        a = user("dup")
        custom = f"keep-{uuid.uuid4().hex[:6]}"
        d = hook_def()
        d["nodes"].append({"id": "named", "type": "trigger.webhook", "name": "Named", "params": {"path": custom}})
        wf = create(a, d)
        r = a.post(f"/api/workflows/{wf['id']}/duplicate")
        self.assertEqual(r.status, 201, r)
        copy = r.json()
        self.assertRegex(path_of(copy), UUID4)
        self.assertNotEqual(path_of(copy), path_of(wf))
        self.assertEqual(path_of(copy, "named"), custom)

    def test_the_catalogue_says_path_is_optional(self):
        types = {t["id"]: t for t in ENV.request("GET", "/api/node-types").json()}
        path = [p for p in types["trigger.webhook"]["params"] if p["name"] == "path"][0]
        self.assertFalse(path["required"])
        self.assertIn("generated", path["description"])


class GeneratedParamsSqlTest(unittest.TestCase):
    """The database fills exactly the parameters the handler names
    (workflow_versions.generated_params, sql/012); it knows no node type."""

    def app_insert(self, owner, wid, version, d, generated):
        """Inserts a version as the app role with owner's context; psql's result."""
        org = owner.me["org_id"]
        ctx = ENV.app_context(owner.me["user"]["id"], org)
        gen = "NULL" if generated is None else "'" + generated + "'"
        d_sql = json.dumps(d).replace("'", "''")
        return ENV.pg.psql(f"BEGIN; {ctx}; INSERT INTO glyphic.workflow_versions "
                           f"(workflow_id, version, org_id, definition, generated_params) "
                           f"VALUES ('{wid}', {version}, '{org}', '{d_sql}', {gen}); COMMIT;",
                           user="glyphic_app", check=False)

    def stored(self, wid, version):
        return json.loads(sql(f"SELECT definition::text FROM glyphic.workflow_versions "
                              f"WHERE workflow_id = '{wid}' AND version = {version}"))

    def test_an_insert_that_does_not_name_them_is_refused(self):
        a = user("sqlgen")
        wid = create(a, hook_def())["id"]
        for gen in (None, "{}", '"hook"', '[{"node_id": "nope", "param": "path"}]', '[{"node_id": "hook"}]', "[1]"):
            with self.subTest(generated=gen):
                r = self.app_insert(a, wid, 2, hook_def(), gen)
                self.assertNotEqual(r.returncode, 0, gen)
                self.assertRegex(r.stderr, "parameters? to generate")
        self.assertEqual(sql(f"SELECT max(version) FROM glyphic.workflow_versions WHERE workflow_id = '{wid}'"), "1")

    def test_exactly_the_listed_parameters_are_filled(self):
        a = user("sqlgen2")
        wf = create(a, hook_def())
        wid, p1 = wf["id"], path_of(wf)
        # the handler recorded what it asked for
        self.assertEqual(json.loads(sql(f"SELECT generated_params::text FROM glyphic.workflow_versions "
                                        f"WHERE workflow_id = '{wid}' AND version = 1")),
                         [{"node_id": "hook", "param": "path"}])
        d = hook_def()
        d["nodes"].append({"id": "hook2", "type": "trigger.webhook", "name": "Hook 2", "params": {}})
        # listed: filled (hook keeps its path); not listed: left as is
        self.assertEqual(self.app_insert(a, wid, 2, d, '[{"node_id": "hook", "param": "path"}]').returncode, 0)
        v2 = self.stored(wid, 2)
        self.assertEqual(path_of({"definition": v2}), p1)
        self.assertIsNone(path_of({"definition": v2}, "hook2"))
        # an empty list fills nothing; a listed parameter that has a value is left alone
        self.assertEqual(self.app_insert(a, wid, 3, hook_def(), "[]").returncode, 0)
        self.assertIsNone(path_of({"definition": self.stored(wid, 3)}))
        self.assertEqual(self.app_insert(a, wid, 4, hook_def("mine"), '[{"node_id": "hook", "param": "path"}]')
                         .returncode, 0)
        self.assertEqual(path_of({"definition": self.stored(wid, 4)}), "mine")

    def test_a_kept_path_another_node_took_is_generated_anew(self):
        a = user("took")
        wf = create(a, hook_def())
        wid, p1 = wf["id"], path_of(wf)
        d = hook_def()
        d["nodes"].append({"id": "hook2", "type": "trigger.webhook", "name": "Hook 2", "params": {"path": p1}})
        r = save(a, wid, d, 1)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(path_of(r.json(), "hook2"), p1)
        self.assertRegex(path_of(r.json()), UUID4)
        self.assertNotEqual(path_of(r.json()), p1)

    def test_a_restored_version_keeps_the_path_of_its_node(self):
        a = user("restore")
        wf = create(a, hook_def())
        wid, p1 = wf["id"], path_of(wf)
        self.assertEqual(path_of(save(a, wid, hook_def("custom-" + uuid.uuid4().hex[:6]), 1).json())[:7], "custom-")
        r = a.post(f"/api/workflows/{wid}/versions/1/restore", {"base_version": 2})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(path_of(r.json()), p1)  # version 1 holds it, and is restored as it was


class ItemTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.a = user("item")
        cls.async_path = f"item-{uuid.uuid4().hex[:8]}"
        cls.sync_path = f"item-sync-{uuid.uuid4().hex[:8]}"
        for p, mode in ((cls.async_path, "async"), (cls.sync_path, "sync")):
            wid = create(cls.a, hook_def(p, mode=mode, method="ANY"))["id"]
            assert cls.a.post(f"/api/workflows/{wid}/activate").status == 200

    def test_credential_headers_never_reach_the_item(self):
        dropped = {"Authorization": "Bearer tok-authz", "Cookie": "sid=tok-cookie", "X-Api-Key": "tok-xapikey",
                   "X-Auth-Token": "tok-xauth", "Api-Key": "tok-apikey", "X-Access-Token": "tok-access",
                   "X-CSRF-Token": "tok-csrf", "X-XSRF-Token": "tok-xsrf", "X-Amz-Security-Token": "tok-amz",
                   "Proxy-Authorization": "Basic tok-proxy",
                   # hooks.drop_headers: a name (any case) and a prefix
                   "x-tenant-secret": "tok-tenant", "X-Internal-Route": "tok-internal"}
        kept = {"X-Hub-Signature-256": "sha256=abc", "X-Request-Source": "tests", "X-Tenant": "t1"}
        for path in (self.async_path, self.sync_path):
            with self.subTest(path=path):
                r = call(path, {"k": 1}, headers={**dropped, **kept})
                self.assertIn(r.status, (200, 202), r)
                eid = r.json()["execution_id"] if r.status == 202 else r.header("X-Glyphic-Execution")
                e = self.a.get(f"/api/executions/{eid}").json()
                headers = e["input"][0]["headers"]
                for name, value in kept.items():
                    self.assertEqual(headers.get(name.lower()), value)
                for name in dropped:
                    self.assertNotIn(name.lower(), headers)
                stored = sql(f"SELECT input::text || coalesce(output::text, '') || "
                             f"coalesce((SELECT string_agg(s.input::text || s.output::text, '') "
                             f"FROM glyphic.steps s WHERE s.execution_id = e.id), '') "
                             f"FROM glyphic.executions e WHERE id = '{eid}'")
                self.assertIn("sha256=abc", stored)
                for value in dropped.values():
                    self.assertNotIn(value.split()[-1].split("=")[-1], stored)

    def test_a_query_that_is_not_utf8_answers_400(self):
        before = int(sql("SELECT count(*) FROM glyphic.executions"))
        for q in ("a=%FF", "a=%zz", "ok=1&b=%E2%82", "a=%C3", "%FF=1", "a=%00", "a=%4"):
            for path in (self.async_path, self.sync_path):
                with self.subTest(q=q, path=path):
                    r = call(f"{path}?{q}", method="GET", body=b"")
                    self.assertEqual(r.status, 400, r)
                    err = r.json()["error"]
                    self.assertEqual((err["code"], err["field"]), ("invalid_query", "query"))
        self.assertEqual(int(sql("SELECT count(*) FROM glyphic.executions")), before)
        r = call(f"{self.sync_path}?a=%C3%A9&b=x+y&c", method="GET", body=b"")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["query"], {"a": "\u00e9", "b": "x y", "c": ""})


if __name__ == "__main__":
    unittest.main()
