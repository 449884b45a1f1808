"""The workflow store: definitions, validation, versions, sharing,
activation, import/export, and tenancy — through nginx, real PostgreSQL."""
import contextlib
import copy
import json
import os
import signal
import threading
import time
import unittest
import uuid

import harness

ENV = None
PW = "correct horse battery"


def setUpModule():
    global ENV
    ENV = harness.Env(workers=3).start_all()


def tearDownModule():
    ENV.close()


def signup(prefix):
    return ENV.signup(f"{prefix}-{uuid.uuid4().hex[:8]}@example.com", password=PW, name=prefix.title())


def member_of(admin, role):
    return ENV.member_of(admin, role, password=PW)


def definition(path=None, n_extra=0):
    nodes = [{"id": "trigger", "type": "trigger.webhook" if path else "trigger.manual", "name": "Trigger",
              "params": {"path": path} if path else {}, "position": [0, 0]},
             {"id": "fetch", "type": "http.request", "name": "Fetch",
              "params": {"url": "http://127.0.0.1:9/{{ $json.id }}", "method": "POST", "credential": "crm-token"},
              "retry": {"max": 3, "backoff_ms": 500}},
             {"id": "check", "type": "flow.if", "name": "Check", "params": {"condition": "{{ $json.ok }}"}},
             {"id": "set", "type": "data.set", "name": "Set", "params": {"fields": {"seen": True}}}]
    edges = [{"from": "trigger", "to": "fetch"}, {"from": "fetch", "to": "check"},
             {"from": "check", "from_port": "true", "to": "set"}]
    prev = "set"
    for i in range(n_extra):
        nodes.append({"id": f"n{i}", "type": "flow.noop", "name": f"Noop {i}"})
        edges.append({"from": prev, "to": f"n{i}"})
        prev = f"n{i}"
    return {"nodes": nodes, "edges": edges, "settings": {"timezone": "Europe/Berlin"}}


def create(c, name="Flow", d=None, tags=None):
    body = {"name": name, "definition": d or definition()}
    if tags is not None:
        body["tags"] = tags
    r = c.post("/api/workflows", body)
    assert r.status == 201, r
    return r.json()


def save(c, wid, d, base, message=None):
    body = {"definition": d, "base_version": base}
    if message:
        body["message"] = message
    return c.put(f"/api/workflows/{wid}", body)


class StoreTest(unittest.TestCase):
    def test_round_trip(self):
        a = signup("rt")
        wf = create(a, "Orders", tags=["sales"])
        wid = wf["id"]
        d = definition()
        versions = [d]
        for i in range(2, 4):
            d = copy.deepcopy(d)
            d["nodes"][3]["params"]["fields"]["step"] = i
            r = save(a, wid, d, i - 1, f"step {i}")
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.header("ETag"), f'"{i}"')
            versions.append(d)
        listing = a.get(f"/api/workflows/{wid}/versions").json()
        self.assertEqual([v["version"] for v in listing], [3, 2, 1])
        self.assertEqual(listing[0]["message"], "step 3")
        self.assertEqual(a.get(f"/api/workflows/{wid}/versions/2").json()["definition"], versions[1])
        self.assertEqual(a.post(f"/api/workflows/{wid}/versions/1/restore", {}).status, 428)
        r = a.post(f"/api/workflows/{wid}/versions/1/restore", {"base_version": 3})
        self.assertEqual(r.status, 200, r)
        wf = r.json()
        self.assertEqual((wf["version"], wf["definition"]), (4, versions[0]))
        self.assertEqual(a.get(f"/api/workflows/{wid}/versions").json()[0]["restored_from"], 1)
        exported = a.get(f"/api/workflows/{wid}/export")
        self.assertEqual(exported.status, 200)
        doc = exported.json()
        self.assertEqual(doc["format"], "glyphic.workflow")
        self.assertEqual(doc["credentials"], ["crm-token"])
        b = signup("other")
        r = b.post("/api/workflows/import", doc)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["missing_credentials"], ["crm-token"])
        imported = b.get(f"/api/workflows/{r.json()['id']}").json()
        self.assertEqual(imported["definition"], versions[0])
        self.assertEqual((imported["name"], imported["tags"]), ("Orders", ["sales"]))
        self.assertEqual(a.get(f"/api/workflows/{wid}").json()["definition"], versions[0])

    def test_saved_as_sent_read_as_stored(self):
        """A save stores the body's own text of the definition: spacing,
        escapes, numbers and a duplicate key (the last one counts, as when
        it is read) come back from PUT and GET as the same value."""
        a = signup("text")
        wid = create(a)["id"]
        d = definition()
        text = json.dumps(d, indent=3, ensure_ascii=True)
        # a duplicate key inside, and written twice at the top (the last one counts)
        text = text.replace('"seen": true', r'"seen": false, "seen": true, "note": "\\u00e9 \u00e9 \ud83d\ude00 / \/"')
        text = text.replace('"backoff_ms": 500', '"backoff_ms": 5e2, "backoff_ms": 500')
        first = json.dumps(definition(n_extra=1))
        body = f'{{"base_version": 1, "definition": {first},\n "definition" :{text} , "message":"as sent"}}'
        r = ENV.request("PUT", f"/api/workflows/{wid}", body=body, headers={
            "Content-Type": "application/json", "Cookie": f"glyphic_session={a.cookie}", "X-CSRF-Token": a.csrf})
        self.assertEqual(r.status, 200, r)
        want = json.loads(body)["definition"]
        self.assertEqual(want["nodes"][3]["params"]["fields"],
                         {"seen": True, "note": "\\u00e9 \u00e9 \U0001f600 / /"})
        self.assertEqual(r.json()["definition"], want)
        # the answer names each member once (a reader keeping the first of a repeated name would
        # otherwise read another value than the stored one)
        self.assertEqual(r.body.count(b'"seen"'), 1, r.body)
        self.assertEqual(r.body.count(b'"backoff_ms"'), 1, r.body)
        self.assertEqual(a.get(f"/api/workflows/{wid}").json()["definition"], want)
        self.assertEqual(a.get(f"/api/workflows/{wid}/versions/2").json()["definition"], want)
        # a generated path: the answer shows the one the database made
        d = definition(path=None)
        d["nodes"][0] = {"id": "trigger", "type": "trigger.webhook", "name": "Trigger", "params": {}}
        r = save(a, wid, d, 2)
        self.assertEqual(r.status, 200, r)
        path = r.json()["definition"]["nodes"][0]["params"]["path"]
        self.assertRegex(path, r"^[0-9a-f-]{36}$")
        self.assertEqual(a.get(f"/api/workflows/{wid}").json()["definition"]["nodes"][0]["params"]["path"], path)
        # without a repeated name, the answer is the definition's text as sent
        spaced = json.dumps(definition(), indent=5)
        body = f'{{"base_version": 3, "definition": {spaced}}}'
        r = ENV.request("PUT", f"/api/workflows/{wid}", body=body, headers={
            "Content-Type": "application/json", "Cookie": f"glyphic_session={a.cookie}", "X-CSRF-Token": a.csrf})
        self.assertEqual(r.status, 200, r)
        self.assertIn(spaced.encode(), r.body)
        self.assertEqual(r.json()["definition"], a.get(f"/api/workflows/{wid}").json()["definition"])

    def test_saves_killed_mid_way_leave_every_version_whole(self):
        """kill -9 of every FastCGI worker, again and again, while four clients save (a save and
        its COMMIT go in one round trip): each workflow's versions are 1..current_version, none
        missing, none twice; every save answered 200 is stored with its own message; the workers
        come back and save again."""
        a = signup("killed")
        wids = [create(a)["id"] for _ in range(4)]
        stop = threading.Event()
        answered = {wid: [] for wid in wids}  # (version, message) of each save answered 200
        errors = []

        def saver(wid):
            base = 1
            while not stop.is_set():
                marker = uuid.uuid4().hex
                try:
                    r = save(a, wid, definition(), base, marker)
                except OSError:
                    r = None  # the worker died under the call
                if r is not None and r.status == 200:
                    base = r.json()["version"]
                    answered[wid].append((base, marker))
                elif r is not None and r.status == 409:
                    base = r.json()["error"]["current_version"]
                elif r is not None and r.status not in (502, 503):
                    errors.append(r)
                    return
                else:
                    try:
                        base = a.get(f"/api/workflows/{wid}").json()["version"]
                    except (OSError, ValueError, KeyError):
                        time.sleep(0.05)

        threads = [threading.Thread(target=saver, args=(w,)) for w in wids]
        for t in threads:
            t.start()
        try:
            for _ in range(6):
                time.sleep(0.3)
                for pid in ENV.fcgi.workers():
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
            time.sleep(0.5)
        finally:
            stop.set()
            for t in threads:
                t.join(30)
        self.assertEqual(errors, [])
        for wid in wids:
            current = a.get(f"/api/workflows/{wid}").json()["version"]
            stored = ENV.pg.psql(f"SELECT count(*), count(DISTINCT version), min(version), max(version) "
                                 f"FROM glyphic.workflow_versions WHERE workflow_id = '{wid}'")
            self.assertEqual(stored, f"{current}|{current}|1|{current}", wid)
            for version, marker in answered[wid]:
                self.assertEqual(ENV.pg.psql(f"SELECT message FROM glyphic.workflow_versions "
                                             f"WHERE workflow_id = '{wid}' AND version = {version}"), marker)
            self.assertEqual(save(a, wid, definition(), current).status, 200)
        self.assertGreater(sum(len(v) for v in answered.values()), 20)

    def test_concurrent_saves_second_gets_409(self):
        a = signup("cc")
        e = member_of(a, "admin")
        wid = create(a)["id"]
        mine = definition()
        mine["nodes"][3]["params"]["fields"] = {"who": "first"}
        theirs = definition()
        theirs["nodes"][3]["params"]["fields"] = {"who": "second"}
        r1 = save(a, wid, mine, 1)
        self.assertEqual(r1.status, 200)
        r2 = e.put(f"/api/workflows/{wid}", {"definition": theirs}, headers={"If-Match": '"1"'})
        self.assertEqual(r2.status, 409, r2)
        err = r2.json()["error"]
        self.assertEqual(err["code"], "version_conflict")
        self.assertEqual(err["current_version"], 2)
        self.assertEqual(err["current"]["definition"], mine)
        self.assertEqual(a.get(f"/api/workflows/{wid}").json()["definition"], mine)
        # truly simultaneous saves from one base: exactly one wins
        results = []

        def go(c, d):
            results.append(save(c, wid, d, 2).status)
        ts = [threading.Thread(target=go, args=(c, d)) for c, d in ((a, mine), (e, theirs))]
        [t.start() for t in ts]
        [t.join() for t in ts]
        self.assertEqual(sorted(results), [200, 409])
        self.assertEqual(len(a.get(f"/api/workflows/{wid}/versions").json()), 3)

    def test_save_needs_a_base(self):
        a = signup("nb")
        wid = create(a)["id"]
        r = a.put(f"/api/workflows/{wid}", {"definition": definition()})
        self.assertEqual((r.status, r.json()["error"]["code"]), (428, "precondition_required"))
        r = a.put(f"/api/workflows/{wid}", {"definition": definition()}, headers={"If-Match": "junk"})
        self.assertEqual(r.status, 400)

    def test_list_search_filter_sort_paginate(self):
        a = signup("ls")
        for i in range(7):
            create(a, f"Flow {i:02d}", tags=["even"] if i % 2 == 0 else ["odd"])
        create(a, "Special report", tags=["x"])
        page = a.get("/api/workflows?sort=name&limit=3").json()
        names = [w["name"] for w in page["items"]]
        self.assertEqual(names, ["Flow 00", "Flow 01", "Flow 02"])
        seen = list(names)
        while page["next_cursor"]:
            page = a.get(f"/api/workflows?sort=name&limit=3&cursor={page['next_cursor']}").json()
            seen += [w["name"] for w in page["items"]]
        self.assertEqual(seen, sorted(seen, key=str.lower))
        self.assertEqual(len(seen), 8)
        self.assertEqual([w["name"] for w in a.get("/api/workflows?q=SPECIAL").json()["items"]], ["Special report"])
        self.assertEqual(len(a.get("/api/workflows?tag=even").json()["items"]), 4)
        self.assertEqual(len(a.get("/api/workflows?active=true").json()["items"]), 0)
        self.assertEqual(a.get("/api/workflows?sort=price").status, 400)
        self.assertEqual(a.get("/api/workflows?limit=0").status, 400)
        self.assertEqual(a.get("/api/workflows?cursor=nope").status, 400)
        self.assertEqual(a.get("/api/workflows?q=%ZZ").status, 200)

    def test_rename_tag_duplicate_delete_restore(self):
        a = signup("rd")
        wid = create(a, "Original", tags=["t1"])["id"]
        r = a.patch(f"/api/workflows/{wid}", {"name": "Renamed", "tags": ["t2", "t3"]})
        self.assertEqual((r.status, r.json()["name"], r.json()["tags"]), (200, "Renamed", ["t2", "t3"]))
        self.assertEqual(r.json()["version"], 1)  # metadata is not a new version
        r = a.post(f"/api/workflows/{wid}/duplicate", {})
        self.assertEqual(r.status, 201)
        dup = r.json()
        self.assertEqual((dup["name"], dup["version"], dup["tags"]), ("Renamed (copy)", 1, ["t2", "t3"]))
        self.assertNotEqual(dup["id"], wid)
        self.assertEqual(a.delete(f"/api/workflows/{wid}").status, 204)
        self.assertNotIn(wid, [w["id"] for w in a.get("/api/workflows").json()["items"]])
        self.assertIn(wid, [w["id"] for w in a.get("/api/workflows?deleted=true").json()["items"]])
        self.assertEqual(save(a, wid, definition(), 1).json()["error"]["code"], "deleted")
        self.assertEqual(a.post(f"/api/workflows/{wid}/restore").status, 200)
        self.assertEqual(save(a, wid, definition(), 1).status, 200)
        # permanent deletion only from the trash
        self.assertEqual(a.delete(f"/api/workflows/{wid}?permanent=true").status, 409)
        self.assertEqual(a.delete(f"/api/workflows/{wid}").status, 204)
        self.assertEqual(a.delete(f"/api/workflows/{wid}?permanent=true").status, 204)
        self.assertEqual(a.get(f"/api/workflows/{wid}").status, 404)
        self.assertEqual(ENV.pg.psql(f"SELECT count(*) FROM glyphic.workflow_versions WHERE workflow_id = '{wid}'"), "0")

    def test_prune_purges_old_trash_only(self):
        a = signup("pr")
        old, recent, live = (create(a, n)["id"] for n in ("old", "recent", "live"))
        for wid in (old, recent):
            self.assertEqual(a.delete(f"/api/workflows/{wid}").status, 204)
        ENV.pg.psql(f"UPDATE glyphic.workflows SET deleted_at = now() - interval '31 days' WHERE id = '{old}'")
        r = ENV.glyphic("prune")
        self.assertIn("workflows in the trash", r.stdout)
        self.assertEqual(a.get(f"/api/workflows/{old}").status, 404)
        self.assertEqual(a.get(f"/api/workflows/{recent}").status, 200)
        self.assertEqual(a.get(f"/api/workflows/{live}").status, 200)
        self.assertEqual(ENV.glyphic("prune", "extra", check=False).returncode, 2)

    def test_activation_and_webhook_conflicts(self):
        a = signup("act")
        b = signup("act2")
        path = f"orders-{uuid.uuid4().hex[:6]}"
        wa = create(a, d=definition(path))["id"]
        r = a.post(f"/api/workflows/{wa}/activate")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.json()["active"])
        self.assertEqual(ENV.pg.psql(f"SELECT method, mode, version FROM glyphic.webhooks WHERE path = '{path}'"),
                         "POST|async|1")
        # another org's workflow cannot take the path
        wb = create(b, d=definition(path))["id"]
        r = b.post(f"/api/workflows/{wb}/activate")
        self.assertEqual((r.status, r.json()["error"]["code"]), (409, "webhook_path_taken"))
        self.assertFalse(b.get(f"/api/workflows/{wb}").json()["active"])
        # saving an active workflow moves its triggers to the new version
        d2 = definition(path + "-v2")
        self.assertEqual(save(a, wa, d2, 1).status, 200)
        self.assertEqual(ENV.pg.psql(f"SELECT path, version FROM glyphic.webhooks WHERE workflow_id = '{wa}'"),
                         f"{path}-v2|2")
        # the old path is no longer served, but stays A's org's (sql/009)
        r = b.post(f"/api/workflows/{wb}/activate")
        self.assertEqual((r.status, r.json()["error"]["code"]), (409, "webhook_path_taken"))
        wb = create(b, d=definition(path + "-b"))["id"]
        self.assertEqual(b.post(f"/api/workflows/{wb}/activate").status, 200)
        # a save that would take another workflow's path is refused whole
        r = save(a, wa, definition(path + "-b"), 2)
        self.assertEqual(r.status, 409)
        self.assertEqual(a.get(f"/api/workflows/{wa}").json()["version"], 2)
        # deactivate frees the path; no trigger: cannot activate
        self.assertEqual(a.post(f"/api/workflows/{wa}/deactivate").status, 200)
        self.assertEqual(ENV.pg.psql(f"SELECT count(*) FROM glyphic.webhooks WHERE workflow_id = '{wa}'"), "0")
        manual = create(a)["id"]
        r = a.post(f"/api/workflows/{manual}/activate")
        self.assertEqual((r.status, r.json()["error"]["code"]), (400, "no_trigger"))
        sched = {"nodes": [{"id": "s", "type": "trigger.schedule", "params": {"cron": "*/5 * * * *",
                                                                                "timezone": "America/New_York"}}],
                 "edges": []}
        ws = create(a, d=sched)["id"]
        self.assertEqual(a.post(f"/api/workflows/{ws}/activate").status, 200)
        self.assertEqual(ENV.pg.psql(f"SELECT cron, timezone FROM glyphic.schedules WHERE workflow_id = '{ws}'"),
                         "*/5 * * * *|America/New_York")
        self.assertEqual(a.delete(f"/api/workflows/{ws}").status, 204)
        self.assertEqual(ENV.pg.psql(f"SELECT count(*) FROM glyphic.schedules WHERE workflow_id = '{ws}'"), "0")

    def test_node_types_catalogue(self):
        r = ENV.request("GET", "/api/node-types")
        self.assertEqual(r.status, 200)
        types = {t["id"]: t for t in r.json()}
        for t in ("trigger.manual", "trigger.webhook", "trigger.schedule", "trigger.error", "http.request",
                  "data.set", "flow.if", "flow.switch", "flow.merge", "flow.split", "flow.aggregate", "flow.loop",
                  "flow.wait", "flow.subworkflow", "flow.respond", "flow.noop"):
            self.assertIn(t, types)
        url = [p for p in types["http.request"]["params"] if p["name"] == "url"][0]
        self.assertEqual((url["type"], url["required"], url["expressions"]), ("string", True, True))
        self.assertEqual(types["flow.if"]["outputs"], ["true", "false"])
        self.assertEqual(types["trigger.webhook"]["inputs"], [])


def invalid_cases():
    good = definition("p")
    cases = []

    def case(name, mutate, node, field):
        d = copy.deepcopy(good)
        mutate(d)  # in place
        cases.append((name, d, node, field))
    case("cycle", lambda d: d["edges"].append({"from": "set", "to": "fetch"}), "fetch", "edges")
    case("self loop", lambda d: d["edges"].append({"from": "set", "to": "set"}), "set", "edges")
    case("dangling edge target", lambda d: d["edges"].append({"from": "set", "to": "ghost"}), "ghost", "edges[3].to")
    case("dangling edge source", lambda d: d["edges"].append({"from": "ghost", "to": "set"}), "ghost", "edges[3].from")
    case("unknown output port", lambda d: d["edges"].append({"from": "check", "from_port": "maybe", "to": "set"}),
         "check", "edges[3].from_port")
    case("unknown input port", lambda d: d["edges"].append({"from": "fetch", "to": "set", "to_port": "side"}),
         "set", "edges[3].to_port")
    case("edge into a trigger", lambda d: d["edges"].append({"from": "set", "to": "trigger"}), "trigger", "edges[3].to_port")
    case("unknown type", lambda d: d["nodes"][2].update(type="flow.maybe"), "check", "type")
    case("missing required parameter", lambda d: d["nodes"][1]["params"].pop("url"), "fetch", "params.url")
    case("empty required parameter", lambda d: d["nodes"][1]["params"].update(url=""), "fetch", "params.url")
    case("duplicate id", lambda d: d["nodes"].append({"id": "fetch", "type": "flow.noop"}), "fetch", "id")
    case("duplicate name", lambda d: d["nodes"].append({"id": "x", "type": "flow.noop", "name": "Fetch"}), "x", "name")
    case("bad id", lambda d: d["nodes"][3].update(id="has space"), "nodes[3]", "id")
    case("wrong parameter type", lambda d: d["nodes"][1]["params"].update(timeout_ms="soon"), "fetch", "params.timeout_ms")
    case("bad select option", lambda d: d["nodes"][1]["params"].update(method="FETCH"), "fetch", "params.method")
    case("unknown parameter", lambda d: d["nodes"][1]["params"].update(verb="GET"), "fetch", "params.verb")
    case("expression where not allowed", lambda d: d["nodes"][1]["params"].update(method="{{ $json.m }}"), "fetch", "params.method")
    case("params not an object", lambda d: d["nodes"][1].update(params=[1]), "fetch", "params")
    case("unknown node field", lambda d: d["nodes"][1].update(colour="red"), "fetch", "colour")
    case("bad retry", lambda d: d["nodes"][1].update(retry={"max": 99}), "fetch", "retry.max")
    case("bad position", lambda d: d["nodes"][1].update(position=[1]), "fetch", "position")
    case("oversized parameter", lambda d: d["nodes"][3]["params"].update(fields={"big": "x" * 70000}), "set", "params.fields")
    case("deep nesting", lambda d: d["nodes"][3]["params"].update(fields=json.loads('{"a":' * 14 + "1" + "}" * 14)),
         "set", "params.fields")
    case("duplicate webhook path", lambda d: d["nodes"].append({"id": "t2", "type": "trigger.webhook", "params": {"path": "p"}}),
         "t2", "params.path")
    case("bad webhook path", lambda d: d["nodes"][0]["params"].update(path="../etc"), "trigger", "params.path")
    case("bad cron", lambda d: d["nodes"].append({"id": "s", "type": "trigger.schedule", "params": {"cron": "every day"}}),
         "s", "params.cron")
    case("bad time zone", lambda d: d.update(settings={"timezone": "Mars/Olympus"}), "", "settings.timezone")
    case("unknown top-level field", lambda d: d.update(extra=1), "", "extra")
    case("nodes not an array", lambda d: d.update(nodes={"a": 1}), "", "nodes")
    case("edges not an array", lambda d: d.update(edges="none"), "", "edges")
    case("node not an object", lambda d: d["nodes"].append("node"), "nodes[4]", "nodes[4]")
    case("too many nodes", lambda d: d.update(nodes=[{"id": f"n{i}", "type": "flow.noop"} for i in range(501)]), "", "nodes")
    cases.append(("definition not an object", [1, 2], "", "definition"))
    cases.append(("definition a string", "nodes", "", "definition"))
    return cases


class ReviewRegressionTest(unittest.TestCase):
    def test_active_org_scopes_workflows(self):
        a = signup("scope")
        org_a = a.me["org_id"]
        wid = create(a)["id"]
        org_c = a.post("/api/orgs", {"name": "C"}).json()["id"]
        self.assertEqual(a.post(f"/api/orgs/{org_c}/switch").status, 200)
        # the workflow belongs to A: from C it is not there
        self.assertEqual(a.get(f"/api/workflows/{wid}").status, 404)
        self.assertEqual(a.delete(f"/api/workflows/{wid}").status, 404)
        self.assertEqual(a.get(f"/api/workflows/{wid}", headers={"X-Glyphic-Org": org_a}).status, 200)

    def test_app_role_cannot_grant_itself_shares_or_triggers(self):
        owner = signup("own2")
        org = owner.me["org_id"]
        wid = create(owner, d=definition(f"rr-{uuid.uuid4().hex[:6]}"))["id"]
        self.assertEqual(owner.post(f"/api/workflows/{wid}/activate").status, 200)
        viewer = member_of(owner, "viewer")
        editor = member_of(owner, "editor")
        for c in (viewer, editor):
            uid = c.me["user"]["id"]
            ctx = f"BEGIN; {ENV.app_context(uid, org)}; "
            for stmt in (f"INSERT INTO glyphic.workflow_shares VALUES ('{wid}', '{org}', '{uid}', 'editor')",
                         f"DELETE FROM glyphic.webhooks WHERE workflow_id = '{wid}'",
                         # with the list 012's trigger asks for, so only row level security decides
                         f"INSERT INTO glyphic.workflow_versions (workflow_id, version, org_id, definition, "
                         f"generated_params) VALUES ('{wid}', 99, '{org}', '{{}}', '[]')",
                         f"SELECT glyphic.wf_sync_triggers('{wid}', NULL)",
                         f"UPDATE glyphic.workflows SET created_by = '{uid}' WHERE id = '{wid}'"):
                # refused (an error) or filtered (no row): the state below tells
                ENV.pg.psql(ctx + stmt + "; COMMIT;", user="glyphic_app", check=False)
        self.assertEqual(ENV.pg.psql(f"SELECT count(*) FROM glyphic.workflow_shares WHERE workflow_id = '{wid}'"), "0")
        self.assertEqual(ENV.pg.psql(f"SELECT count(*) FROM glyphic.webhooks WHERE workflow_id = '{wid}'"), "1")
        self.assertEqual(ENV.pg.psql(f"SELECT max(version) FROM glyphic.workflow_versions WHERE workflow_id = '{wid}'"), "1")
        self.assertEqual(ENV.pg.psql(f"SELECT created_by FROM glyphic.workflows WHERE id = '{wid}'"), owner.me["user"]["id"])

    def test_trigger_rows_must_match_the_version(self):
        # 013: an activation's rows are computed by the handler; the database
        # still refuses a row whose values differ from the node's parameters
        owner = signup("rows")
        org = owner.me["org_id"]
        path = f"rows-{uuid.uuid4().hex[:6]}"
        wid = create(owner, d=definition(path))["id"]
        self.assertEqual(owner.post(f"/api/workflows/{wid}/activate").status, 200)
        ctx = f"BEGIN; {ENV.app_context(owner.me['user']['id'], org)}; "

        def sync(row):
            rows = json.dumps([dict({"node_id": "trigger", "kind": "webhook", "method": "POST", "mode": "async"},
                                    **row)])
            return ENV.pg.psql(ctx + f"SELECT glyphic.wf_sync_triggers('{wid}', 1, '{rows}'); COMMIT;",
                               user="glyphic_app", check=False)

        other = sync({"path": "not-in-the-version"})
        self.assertNotEqual(other.returncode, 0)
        self.assertIn("differs from its parameters", other.stderr)
        self.assertEqual(ENV.pg.psql(f"SELECT path FROM glyphic.webhooks WHERE workflow_id = '{wid}'"), path)
        same = sync({"path": path})
        self.assertEqual(same.returncode, 0, same.stderr)
        self.assertEqual(ENV.pg.psql(f"SELECT path FROM glyphic.webhooks WHERE workflow_id = '{wid}'"), path)

    def test_no_function_is_executable_by_public(self):
        # 013: 001's per-schema default could not take EXECUTE from PUBLIC
        self.assertEqual(ENV.pg.psql(
            "SELECT coalesce(string_agg(p.proname, ', '), '') FROM pg_proc p "
            "WHERE p.pronamespace = 'glyphic'::regnamespace AND has_function_privilege('public', p.oid, 'EXECUTE')"),
            "")

    def test_activate_and_delete_race_leaves_no_triggers(self):
        a = signup("race")
        for i in range(15):
            wid = create(a, d=definition(f"race-{uuid.uuid4().hex[:8]}"))["id"]
            ts = [threading.Thread(target=a.post, args=(f"/api/workflows/{wid}/activate",)),
                  threading.Thread(target=a.delete, args=(f"/api/workflows/{wid}",))]
            [t.start() for t in ts]
            [t.join() for t in ts]
            state = a.get(f"/api/workflows/{wid}").json()
            hooks = ENV.pg.psql(f"SELECT count(*) FROM glyphic.webhooks WHERE workflow_id = '{wid}'")
            if state["deleted_at"] or not state["active"]:
                self.assertEqual(hooks, "0", state)

    def test_hostile_numbers_and_text(self):
        a = signup("num")
        for text in ('{"name":"x","definition":{"nodes":[{"id":"s","type":"data.set","params":{"fields":{"a":1e131071}}}],"edges":[]}}',
                     '{"name":"x","definition":{"nodes":[],"edges":[]},"tags":[123456789012345678901234567890]}'):
            r = ENV.request("POST", "/api/workflows", body=text, headers={
                "Content-Type": "application/json", "Cookie": f"glyphic_session={a.cookie}", "X-CSRF-Token": a.csrf})
            self.assertEqual((r.status, r.json()["error"]["code"]), (400, "invalid_json"), r)
        r = a.post("/api/workflows", {"name": "x", "definition": {"nodes": [{"id": "n", "type": "flow.noop"}],
                                                                   "edges": [{"from": "n", "to": "\u00e9" * 60}]}})
        self.assertEqual(r.status, 400)
        r.body.decode("utf-8")  # valid UTF-8 even though the message cut the id
        wid = create(a, "\u20ac" * 66)["id"]
        self.assertEqual(a.post(f"/api/workflows/{wid}/duplicate", {}).status, 201)
        r = a.post("/api/workflows", {"name": "x", "definition": {"nodes": [], "edges": [],
                                                                   "settings": {"timezone": "leapseconds"}}})
        self.assertEqual(r.status, 400)

    def test_removed_member_loses_shares(self):
        owner = signup("rms")
        ed = member_of(owner, "editor")
        wid = create(owner)["id"]
        self.assertEqual(owner.put(f"/api/workflows/{wid}/shares/{ed.me['user']['id']}", {"role": "editor"}).status, 200)
        self.assertEqual(owner.delete(f"/api/orgs/{owner.me['org_id']}/members/{ed.me['user']['id']}").status, 204)
        self.assertEqual(ENV.pg.psql(f"SELECT count(*) FROM glyphic.workflow_shares WHERE workflow_id = '{wid}'"), "0")


class ValidationTest(unittest.TestCase):
    def test_invalid_definitions_are_400_and_write_nothing(self):
        a = signup("val")
        wid = create(a)["id"]
        before = ENV.pg.psql("SELECT count(*) FROM glyphic.workflow_versions")
        cases = invalid_cases()
        self.assertGreaterEqual(len(cases), 20)
        for name, d, node, field in cases:
            with self.subTest(case=name):
                for r in (a.post("/api/workflows", {"name": "x", "definition": d}), save(a, wid, d, 1)):
                    self.assertEqual(r.status, 400, r)
                    err = r.json()["error"]
                    self.assertEqual(err["code"], "invalid_definition", r)
                    self.assertIn({"node": node, "field": field},
                                  [{"node": p["node"], "field": p["field"]} for p in err["problems"]], err["problems"])
        self.assertEqual(ENV.pg.psql("SELECT count(*) FROM glyphic.workflow_versions"), before)
        self.assertEqual(a.get(f"/api/workflows/{wid}").json()["version"], 1)

    def test_repeats_are_named_once_each_against_the_first(self):
        # three nodes share a name and a webhook path, one id is used twice:
        # each repeat is reported once, naming the first node that has it
        a = signup("repeats")
        d = {"nodes": [{"id": f"h{i}", "type": "trigger.webhook", "name": "Same", "params": {"path": "one"}}
                       for i in range(3)] + [{"id": "h0", "type": "flow.noop", "name": "Other"}], "edges": []}
        r = a.post("/api/workflows", {"name": "repeats", "definition": d})
        self.assertEqual(r.status, 400, r)
        got = [(p["node"], p["field"], p["message"]) for p in r.json()["error"]["problems"]]
        self.assertEqual(got, [
            ("h0", "id", "duplicate node id 'h0'"),
            ("h1", "name", "node name 'Same' is used twice"),
            ("h1", "params.path", "webhook path 'one' is used by node 'h0' too"),
            ("h2", "name", "node name 'Same' is used twice"),
            ("h2", "params.path", "webhook path 'one' is used by node 'h0' too"),
        ])
        # the most nodes a definition may have, all alike: answered, the
        # problems capped
        big = {"nodes": [{"id": f"n{i}", "type": "trigger.webhook", "name": "Same", "params": {"path": "one"}}
                         for i in range(500)], "edges": []}
        r = a.post("/api/workflows", {"name": "big", "definition": big})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(len(r.json()["error"]["problems"]), 50)

    def test_sanctioned_loop_and_many_problems(self):
        a = signup("loop")
        d = {"nodes": [{"id": "t", "type": "trigger.manual"}, {"id": "loop", "type": "flow.loop"},
                       {"id": "body", "type": "flow.noop"}, {"id": "end", "type": "flow.noop"}],
             "edges": [{"from": "t", "to": "loop"}, {"from": "loop", "from_port": "batch", "to": "body"},
                       {"from": "body", "to": "loop", "to_port": "loop"}, {"from": "loop", "from_port": "done", "to": "end"},
                       {"from": "body", "from_port": "error", "to": "end"}]}
        self.assertEqual(a.post("/api/workflows", {"name": "loop", "definition": d}).status, 201)
        bad = {"nodes": [{"id": f"n{i}", "type": "nope"} for i in range(80)], "edges": []}
        err = a.post("/api/workflows", {"name": "bad", "definition": bad}).json()["error"]
        self.assertEqual(len(err["problems"]), 50)
        self.assertIn("first ones", err["message"])

    def test_bad_request_fields(self):
        a = signup("bf")
        for body, field in (({"definition": definition()}, "name"), ({"name": "", "definition": definition()}, "name"),
                            ({"name": "x"}, "definition"), ({"name": "x", "definition": definition(), "tags": "a"}, "tags"),
                            ({"name": "x", "definition": definition(), "tags": [""]}, "tags"),
                            ({"name": "x", "definition": definition(), "owner": "me"}, "owner"),
                            ({"name": "n" * 201, "definition": definition()}, "name")):
            r = a.post("/api/workflows", body)
            self.assertEqual((r.status, r.json()["error"].get("field")), (400, field), r)
        doc = {"format": "glyphic.workflow", "format_version": 1, "name": "x", "definition": definition()}
        for bad, field in (({**doc, "format": "n8n"}, "format"), ({**doc, "format_version": 9}, "format_version"),
                           ({k: v for k, v in doc.items() if k != "name"}, "name")):
            r = a.post("/api/workflows/import", bad)
            self.assertEqual((r.status, r.json()["error"]["field"]), (400, field), r)
        bad_doc = {**doc, "definition": {"nodes": [{"id": "x", "type": "vendor.magic"}, {"id": "y", "type": "ai.agent"}]}}
        r = a.post("/api/workflows/import", bad_doc)
        self.assertEqual(r.status, 400)
        self.assertEqual(sorted(p["message"] for p in r.json()["error"]["problems"]),
                         ["unknown node type 'ai.agent'", "unknown node type 'vendor.magic'"])


class SharingTenancyTest(unittest.TestCase):
    def test_visibility_and_sharing(self):
        owner = signup("own")
        org = owner.me["org_id"]
        ed1 = member_of(owner, "editor")
        ed2 = member_of(owner, "editor")
        viewer = member_of(owner, "viewer")
        admin = member_of(owner, "admin")
        wid = ed1.post("/api/workflows", {"name": "Ed1 private", "definition": definition()}).json()["id"]
        # editors see what they created or what was shared; admins and owners see all
        self.assertEqual(ed2.get(f"/api/workflows/{wid}").status, 404)
        self.assertEqual(viewer.get(f"/api/workflows/{wid}").status, 404)
        self.assertEqual(owner.get(f"/api/workflows/{wid}").status, 200)
        self.assertEqual(admin.get(f"/api/workflows/{wid}").status, 200)
        self.assertNotIn(wid, [w["id"] for w in ed2.get("/api/workflows").json()["items"]])
        # viewers cannot create; editors of others' workflows cannot share them
        self.assertEqual(viewer.post("/api/workflows", {"name": "v", "definition": definition()}).status, 403)
        self.assertEqual(ed2.put(f"/api/workflows/{wid}/shares/{ed2.me['user']['id']}", {"role": "editor"}).status, 404)
        # share read-only with ed2: visible, but saving is refused
        r = ed1.put(f"/api/workflows/{wid}/shares/{ed2.me['user']['id']}", {"role": "viewer"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(ed2.get(f"/api/workflows/{wid}").status, 200)
        r = save(ed2, wid, definition(), 1)
        self.assertEqual((r.status, r.json()["error"]["code"]), (403, "forbidden"))
        self.assertEqual(ed2.patch(f"/api/workflows/{wid}", {"name": "mine"}).status, 403)
        self.assertEqual(ed2.delete(f"/api/workflows/{wid}").status, 403)
        self.assertEqual(ed1.get(f"/api/workflows/{wid}").json()["version"], 1)
        # upgrade to editor: saving works
        self.assertEqual(ed1.put(f"/api/workflows/{wid}/shares/{ed2.me['user']['id']}", {"role": "editor"}).status, 200)
        self.assertEqual(save(ed2, wid, definition(), 1).status, 200)
        # an org viewer stays read-only even with an editor share
        self.assertEqual(ed1.put(f"/api/workflows/{wid}/shares/{viewer.me['user']['id']}", {"role": "editor"}).status, 200)
        self.assertEqual(viewer.get(f"/api/workflows/{wid}").status, 200)
        self.assertEqual(save(viewer, wid, definition(), 2).status, 403)
        shares = ed1.get(f"/api/workflows/{wid}/shares").json()
        self.assertEqual(sorted(s["role"] for s in shares), ["editor", "editor"])
        # unshare: gone again
        self.assertEqual(ed1.delete(f"/api/workflows/{wid}/shares/{ed2.me['user']['id']}").status, 204)
        self.assertEqual(ed2.get(f"/api/workflows/{wid}").status, 404)
        # sharing with a non-member is 404, with an invalid role 400
        stranger = signup("str")
        self.assertEqual(ed1.put(f"/api/workflows/{wid}/shares/{stranger.me['user']['id']}", {"role": "viewer"}).status, 404)
        self.assertEqual(ed1.put(f"/api/workflows/{wid}/shares/{ed2.me['user']['id']}", {"role": "owner"}).status, 400)
        # the same rules hold in the database for the app role
        uid = ed2.me["user"]["id"]
        seen = ENV.pg.psql(f"BEGIN; {ENV.app_context(uid, org)}; "
                           f"SELECT count(*) FROM glyphic.workflows WHERE id = '{wid}'; "
                           f"SELECT count(*) FROM glyphic.workflow_versions WHERE workflow_id = '{wid}'; COMMIT;",
                           user="glyphic_app").splitlines()
        self.assertEqual(seen[-2:], ["0", "0"])
        r = ENV.pg.psql(f"BEGIN; {ENV.app_context(uid, org)}; "
                        f"UPDATE glyphic.workflows SET name = 'x' WHERE id = '{wid}' RETURNING id; COMMIT;",
                        user="glyphic_app")
        self.assertNotIn(wid, r)
        r = ENV.pg.psql(f"UPDATE glyphic.workflow_versions SET message = 'x'", user="glyphic_app", check=False)
        self.assertNotEqual(r.returncode, 0)

    def test_other_org_is_404_everywhere(self):
        a = signup("ta")
        b = signup("tb")
        wid = create(a, d=definition(f"t-{uuid.uuid4().hex[:6]}"))["id"]
        checks = [("GET", f"/api/workflows/{wid}", None), ("PUT", f"/api/workflows/{wid}", {"definition": definition(), "base_version": 1}),
                  ("PATCH", f"/api/workflows/{wid}", {"name": "x"}), ("DELETE", f"/api/workflows/{wid}", None),
                  ("POST", f"/api/workflows/{wid}/duplicate", {}), ("POST", f"/api/workflows/{wid}/restore", {}),
                  ("POST", f"/api/workflows/{wid}/activate", {}), ("POST", f"/api/workflows/{wid}/deactivate", {}),
                  ("GET", f"/api/workflows/{wid}/versions", None), ("GET", f"/api/workflows/{wid}/versions/1", None),
                  ("POST", f"/api/workflows/{wid}/versions/1/restore", {"base_version": 1}),
                  ("GET", f"/api/workflows/{wid}/export", None), ("DELETE", f"/api/workflows/{wid}?permanent=true", None),
                  ("GET", f"/api/workflows/{wid}/shares", None),
                  ("PUT", f"/api/workflows/{wid}/shares/{b.me['user']['id']}", {"role": "viewer"})]
        for method, path, body in checks:
            with self.subTest(method=method, path=path):
                self.assertEqual(b.request(method, path, body=body).status, 404)
                # naming A's org explicitly does not help either
                self.assertEqual(b.request(method, path, body=body, headers={"X-Glyphic-Org": a.me["org_id"]}).status, 404)
        self.assertEqual(a.get(f"/api/workflows/{wid}").json()["version"], 1)
        self.assertEqual(b.get("/api/workflows").json()["items"], [])
        # an API key with read scope cannot write
        r = a.post("/api/keys", {"name": "r", "scopes": ["read"]})
        k = ENV.client()
        k.key = r.json()["key"]
        self.assertEqual(k.get(f"/api/workflows/{wid}").status, 200)
        self.assertEqual(k.put(f"/api/workflows/{wid}", {"definition": definition(), "base_version": 1}).status, 403)


if __name__ == "__main__":
    unittest.main(verbosity=2)


class OneTripReadTest(unittest.TestCase):
    """The reads that run their one statement in the round trip that authenticates (GET /api/me,
    a workflow, the list, an execution) refuse exactly like the others: the statement ran, but what
    it read never leaves when who asks may not have it."""

    def test_refusals_are_the_same_and_nothing_leaks(self):
        alice, eve = signup("alice"), signup("eve")
        wid = create(alice, name="Secret plan")["id"]
        r = alice.post(f"/api/workflows/{wid}/run", {})
        self.assertIn(r.status, (200, 201, 202), r)
        eid = r.json().get("execution_id") or r.json()["id"]
        paths = ["/api/me", f"/api/workflows/{wid}", "/api/workflows?limit=50", f"/api/executions/{eid}"]
        for path in paths:
            with self.subTest(path=path):
                ok = alice.get(path)
                self.assertEqual(ok.status, 200, ok)
                self.assertEqual(alice.request("HEAD", path).status, 200)
                # nobody, a made-up session, a malformed key, a made-up key: 401, nothing read
                anon = ENV.request("GET", path)
                self.assertEqual(anon.status, 401, anon)
                made_up = ENV.request("GET", path, headers={"Cookie": "glyphic_session=" + "A" * 43})
                self.assertEqual(made_up.status, 401, made_up)
                self.assertIn("glyphic_session=;", made_up.header("Set-Cookie") or "")
                for auth in ("Bearer nonsense", "Bearer gk_" + "A" * 43):
                    r = ENV.request("GET", path, headers={"Authorization": auth})
                    self.assertEqual(r.status, 401, r)
                    self.assertNotIn(b"Secret plan", r.body)
                # an org one is not in: 404, nothing of it
                r = eve.get(path, headers={"X-Glyphic-Org": alice.me["org_id"]})
                self.assertEqual(r.status, 404, r)
                self.assertNotIn(b"Secret plan", r.body)
        # another org's workflow and execution are not there; the list is one's own
        self.assertEqual(eve.get(f"/api/workflows/{wid}").status, 404)
        self.assertEqual(eve.get(f"/api/executions/{eid}").status, 404)
        self.assertNotIn(wid, eve.get("/api/workflows?limit=50").body.decode())
        # a signed-out session reads nothing any more, on the one-trip path as elsewhere
        cookie = alice.cookie
        self.assertEqual(alice.post("/api/auth/logout").status, 204)
        r = ENV.request("GET", f"/api/workflows/{wid}", headers={"Cookie": f"glyphic_session={cookie}"})
        self.assertEqual(r.status, 401, r)
        self.assertNotIn(b"Secret plan", r.body)

    def test_an_api_key_reads_by_its_scope_and_the_list_validates(self):
        bob = signup("bob")
        wid = create(bob, name="Keyed")["id"]
        key = bob.post("/api/keys", {"name": "reader", "scopes": ["read"]}).json()["key"]
        h = {"Authorization": f"Bearer {key}"}
        me = ENV.request("GET", "/api/me", headers=h)
        self.assertEqual(me.status, 200, me)
        self.assertEqual(me.json()["auth"], "api_key")
        self.assertNotIn("csrf_token", me.json())
        self.assertEqual(ENV.request("GET", f"/api/workflows/{wid}", headers=h).json()["name"], "Keyed")
        # the key's org only: another org named is 404 before anything is read
        other = signup("other")
        r = ENV.request("GET", "/api/workflows", headers={**h, "X-Glyphic-Org": other.me["org_id"]})
        self.assertEqual(r.status, 404, r)
        # a query the list refuses is a 400 from the usual path, after authentication
        for q, field in (("limit=0", "limit"), ("sort=size", "sort"), ("cursor=x", "cursor"), ("active=maybe", "active")):
            with self.subTest(q=q):
                r = ENV.request("GET", f"/api/workflows?{q}", headers=h)
                self.assertEqual(r.status, 400, r)
                self.assertEqual(r.json()["error"]["field"], field)
                self.assertEqual(ENV.request("GET", f"/api/workflows?{q}").status, 401)
        # a malformed id never reaches the database: 404
        self.assertEqual(ENV.request("GET", "/api/workflows/not-a-uuid", headers=h).status, 404)
        self.assertEqual(ENV.request("GET", "/api/executions/not-a-uuid", headers=h).status, 404)
