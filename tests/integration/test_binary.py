"""Binary data of executions (issue 16, the engine part): data.convert run by
glyphic-executor turns items into a CSV file and back (quotes, delimiters,
line breaks, UTF-8); the file is a row of glyphic.files owned by the
execution, listed and downloaded through GET /api/executions/{id}/files…
(sent by nginx, 404 for another org or another execution); deleting an
execution releases its files while a content another execution names
survives until that one goes too (then gc removes it); a forged "$binary"
reference to another org's file does not open; the org's quota fails the
node and writes nothing; `glyphic run` has no file store and says so.

Real PostgreSQL, glyphic-fcgi, nginx and glyphic-executor, started here."""
import csv
import glob
import hashlib
import io
import json
import os
import signal
import subprocess
import time
import unittest
import urllib.parse
import uuid

import harness
from testserver import TestServer, pattern

ENV = None
QUOTA = 256 * 1024
EX = None
SRV = None

# quotes, delimiters, line breaks (LF and CRLF), spaces at the ends, UTF-8
ITEMS = [
    {"name": 'Ada "the first" Lovelace', "note": "commas, here", "city": "Zürich", "empty": ""},
    {"name": "two\nlines\r\nand more", "note": "  padded  ", "city": "東京 😀", "empty": "x"},
    {"name": '"""', "note": "tab\there;semi", "city": "São Paulo, BR", "empty": '"'},
]


def setUpModule():
    global ENV, EX, SRV
    SRV = TestServer().start()
    ENV = harness.Env(workers=2, fcgi_extra={
        "executor.lease": "5", "executor.poll_ms": "200", "executor.workers": "1", "log.level": "info",
        "files.max_bytes_per_org": str(QUOTA), **harness.ALLOW_TEST_SERVER})
    ENV.start_all()
    EX = ENV.start_executor()


def tearDownModule():
    ENV.close()
    if SRV:
        SRV.stop()


def sql(q):
    return ENV.pg.psql(q, user="postgres").strip()


def user(prefix="bin"):
    return ENV.signup(f"{prefix}-{uuid.uuid4().hex[:8]}@example.com")


def files_dir():
    return ENV.fcgi.settings["files.dir"]


def contents_of(org):
    return sorted(glob.glob(os.path.join(files_dir(), org, "??", "*")))


def temps():
    return sorted(glob.glob(os.path.join(files_dir(), "tmp", "*")))


def convert(nid, op, **params):
    return {"id": nid, "type": "data.convert", "name": nid.title(), "params": {"operation": op, **params}}


def workflow(c, *nodes):
    """A saved workflow: a manual trigger, then nodes in a chain."""
    trig = {"id": "t", "type": "trigger.manual", "name": "Start"}
    chain = [trig, *nodes]
    d = {"nodes": chain, "edges": [{"from": a["id"], "to": b["id"]} for a, b in zip(chain, chain[1:])]}
    r = c.post("/api/workflows", {"name": "Binary", "definition": d})
    assert r.status == 201, r
    return r.json()["id"]


def run(c, wid, items, timeout=30):
    r = c.post(f"/api/workflows/{wid}/run", {"input": items})
    assert r.status in (200, 201, 202), r
    eid = r.json()["id"]
    end = time.time() + timeout
    while time.time() < end:
        e = c.get(f"/api/executions/{eid}").json()
        if e["status"] in ("succeeded", "failed", "canceled"):
            return e
        time.sleep(0.1)
    raise AssertionError(f"execution {eid} did not finish")


def step_output(e, node_id):
    for s in e["steps"]:
        if s["node_id"] == node_id and s["status"] == "succeeded":
            return s["output"]["main"]
    raise AssertionError(f"no output of {node_id}: {e['steps']}")


def upload(c, data, name, mime="text/csv"):
    r = c.post("/api/files?name=" + urllib.parse.quote(name), body=data, headers={"Content-Type": mime})
    assert r.status == 201, r
    return r.json()


def ref_of(f):
    """The binary property naming an uploaded file (what a webhook or a node would write)."""
    return {k: f[k] for k in ("id", "file_name", "mime_type", "size", "sha256")}


class BinaryTest(unittest.TestCase):
    def test_csv_round_trip_and_download_through_nginx(self):
        c = user()
        org = c.me["org_id"]
        wid = workflow(c, convert("csv", "to_csv", file_name="people.csv"), convert("back", "from_csv"))
        e = run(c, wid, ITEMS)
        self.assertEqual(e["status"], "succeeded", e.get("error"))
        self.assertEqual(e["output"], ITEMS)
        # the step recorded a reference, not the bytes
        made = step_output(e, "csv")
        self.assertEqual(len(made), 1)
        self.assertEqual(list(made[0]), ["$binary"])
        ref = made[0]["$binary"]["data"]
        self.assertEqual(set(ref), {"id", "file_name", "mime_type", "size", "sha256"})
        self.assertEqual((ref["file_name"], ref["mime_type"]), ("people.csv", "text/csv"))
        # a row of the execution, in the org's usage
        listed = c.get(f"/api/executions/{e['id']}/files").json()
        self.assertIsNone(listed["next_cursor"])
        self.assertEqual([{k: f[k] for k in ref} for f in listed["items"]], [ref])
        self.assertEqual(set(listed["items"][0]), set(ref) | {"created_at"})
        self.assertEqual(sql(f"SELECT execution_id, created_by IS NULL FROM glyphic.files WHERE id = '{ref['id']}'"),
                         f"{e['id']}|t")
        self.assertEqual(c.get("/api/usage").json()["files"]["count"], 1)

        # the exact bytes, sent by nginx
        url = f"/api/executions/{e['id']}/files/{ref['id']}"
        d = c.get(url)
        self.assertEqual(d.status, 200, d)
        self.assertEqual(len(d.body), ref["size"])
        self.assertEqual(hashlib.sha256(d.body).hexdigest(), ref["sha256"])
        with open(os.path.join(files_dir(), org, ref["sha256"][:2], ref["sha256"]), "rb") as fh:
            self.assertEqual(fh.read(), d.body)
        rows = list(csv.reader(io.StringIO(d.body.decode("utf-8"), newline="")))
        # the header: the keys in first-seen order, as the items reached the node (the
        # execution's input is jsonb, which orders an object's keys its own way)
        self.assertEqual(rows[0], list(e["input"][0]))
        self.assertEqual([dict(zip(rows[0], r)) for r in rows[1:]], ITEMS)
        self.assertEqual(d.header("Content-Type"), "text/csv")
        self.assertIn('attachment; filename="people.csv"', d.header("Content-Disposition"))
        self.assertIsNone(d.header("X-Accel-Redirect"))
        self.assertIsNone(d.header("X-Request-Id"))  # not the worker's answer
        self.assertIn("sandbox", d.header("Content-Security-Policy"))
        self.assertEqual(d.header("X-Content-Type-Options"), "nosniff")
        rr = c.get(url, headers={"Range": "bytes=0-9"})
        self.assertEqual((rr.status, rr.body), (206, d.body[:10]))

        # another org: 404 for the execution's files, the file, and the upload API
        b = user("other")
        for path in (f"/api/executions/{e['id']}/files", url, f"/api/files/{ref['id']}/content"):
            self.assertEqual(b.get(path).status, 404, path)
        # the file under another execution of the same org, an unknown id, a bad id: 404
        e2 = run(c, wid, [{"just": "one"}])
        self.assertEqual(e2["status"], "succeeded", e2.get("error"))
        for path in (f"/api/executions/{e2['id']}/files/{ref['id']}",
                     f"/api/executions/{e['id']}/files/{uuid.uuid4()}",
                     f"/api/executions/{uuid.uuid4()}/files/{ref['id']}",
                     f"/api/executions/{uuid.uuid4()}/files",
                     f"/api/executions/{e['id']}/files/not-a-uuid"):
            r = c.get(path)
            self.assertEqual(r.status, 404, path)
            self.assertEqual(r.json()["error"]["code"], "not_found")
        # an upload is not an execution's file
        up = upload(c, b"a\n1\n", "up.csv")
        self.assertEqual(c.get(f"/api/executions/{e['id']}/files/{up['id']}").status, 404)

    def test_listing_pages(self):
        c = user()
        wid = workflow(c, convert("csv", "to_csv"), convert("json", "to_json", property="copy"))
        e = run(c, wid, [{"a": 1}])
        self.assertEqual(e["status"], "succeeded", e.get("error"))
        p1 = c.get(f"/api/executions/{e['id']}/files?limit=1").json()
        self.assertEqual([f["file_name"] for f in p1["items"]], ["data.csv"])
        p2 = c.get(f"/api/executions/{e['id']}/files?limit=1&cursor={p1['next_cursor']}").json()
        self.assertEqual([f["file_name"] for f in p2["items"]], ["data.json"])
        self.assertEqual(p2["items"][0]["mime_type"], "application/json")
        self.assertEqual(c.get(f"/api/executions/{e['id']}/files?limit=0").status, 400)
        self.assertEqual(c.get(f"/api/executions/{e['id']}/files?cursor=x").status, 400)
        d = c.get(f"/api/executions/{e['id']}/files/{p2['items'][0]['id']}")
        self.assertEqual(json.loads(d.body), [{}])  # the item held only $binary, which to_json leaves out

    def test_deleting_executions_releases_files_and_a_shared_content_survives(self):
        c = user()
        org = c.me["org_id"]
        wid = workflow(c, convert("csv", "to_csv"))
        e1, e2 = run(c, wid, ITEMS), run(c, wid, ITEMS)
        r1 = step_output(e1, "csv")[0]["$binary"]["data"]
        r2 = step_output(e2, "csv")[0]["$binary"]["data"]
        self.assertNotEqual(r1["id"], r2["id"])
        self.assertEqual(r1["sha256"], r2["sha256"])  # one content, two rows
        self.assertEqual(len(contents_of(org)), 1)
        self.assertEqual(c.get("/api/usage").json()["files"], {"bytes": r1["size"], "count": 2, "max_bytes": QUOTA})

        self.assertEqual(c.delete(f"/api/executions/{e1['id']}").status, 204)
        self.assertEqual(sql(f"SELECT count(*) FROM glyphic.files WHERE execution_id = '{e1['id']}'"), "0")
        self.assertEqual(c.get(f"/api/executions/{e1['id']}/files/{r1['id']}").status, 404)
        ENV.glyphic("files", "gc")
        self.assertEqual(len(contents_of(org)), 1)  # e2's row still names it
        self.assertEqual(c.get(f"/api/executions/{e2['id']}/files/{r2['id']}").status, 200)

        self.assertEqual(c.delete(f"/api/executions/{e2['id']}").status, 204)
        self.assertEqual(c.get("/api/usage").json()["files"], {"bytes": 0, "count": 0, "max_bytes": QUOTA})
        self.assertEqual(len(contents_of(org)), 1)  # left to gc
        out = ENV.glyphic("files", "gc").stdout
        self.assertIn(f"removed 1 unreferenced file(s), {r1['size']} bytes", out)
        self.assertEqual(contents_of(org), [])

    def test_forged_binary_reference_does_not_open(self):
        a, b = user("forger"), user("victim")
        secret = upload(b, b"card,pin\n4111,1234\n", "secret.csv")
        mine = upload(a, b"x,y\n1,2\n", "mine.csv")
        reader = convert("read", "from_csv")

        def forged(ref):
            setn = {"id": "set", "type": "data.set", "name": "Set", "params": {"fields": {"$binary": {"data": ref}}}}
            return run(a, workflow(a, setn, reader), [{}])

        # another org's file, its metadata copied whole: not a file of this org
        e = forged(ref_of(secret))
        self.assertEqual(e["status"], "failed")
        self.assertIn("no file with this id in this org", e["error"]["message"])
        self.assertNotIn("4111", json.dumps(e))
        # this org's own file with a forged size or digest: does not match its row
        for field, value in (("size", 4), ("sha256", secret["sha256"])):
            e = forged({**ref_of(mine), field: value})
            self.assertEqual(e["status"], "failed")
            self.assertIn("does not match the stored file", e["error"]["message"])
        # a path in the id or the digest is not a reference at all
        e = forged({**ref_of(mine), "sha256": "../../" + secret["sha256"][6:]})
        self.assertIn("binary property 'data' has no sha256", e["error"]["message"])
        # the org's own upload, as it is: an input item can carry it (test input)
        e = run(a, workflow(a, reader), [{"$binary": {"data": ref_of(mine)}}])
        self.assertEqual(e["status"], "succeeded", e.get("error"))
        self.assertEqual(e["output"], [{"x": "1", "y": "2"}])

    def test_quota_fails_the_node_and_writes_nothing(self):
        c = user("quota")
        org = c.me["org_id"]
        upload(c, os.urandom(QUOTA - 10 * 1024), "big.bin", "application/octet-stream")
        before = (contents_of(org), sql(f"SELECT count(*) FROM glyphic.files WHERE org_id = '{org}'"))
        wid = workflow(c, convert("csv", "to_csv"))
        e = run(c, wid, [{"i": i, "text": "x" * 100} for i in range(200)])  # ~21 KB of CSV
        self.assertEqual(e["status"], "failed")
        msg = e["error"]["message"]
        self.assertIn(f"would pass its quota of {QUOTA} bytes (files.max_bytes_per_org)", msg)
        self.assertIn("nothing was stored", msg)
        self.assertEqual(e["error"]["node"], "csv")
        self.assertEqual((contents_of(org), sql(f"SELECT count(*) FROM glyphic.files WHERE org_id = '{org}'")),
                         before)
        self.assertEqual(temps(), [])
        self.assertEqual(c.get(f"/api/executions/{e['id']}/files").json()["items"], [])
        # a small one still fits
        e = run(c, wid, [{"i": 1}])
        self.assertEqual(e["status"], "succeeded", e.get("error"))

    def test_sigkill_during_a_download_loses_nothing(self):
        global EX
        """The executor killed while http.request streams a response into
        the store: no file under a final name, no row; the job runs again
        on another executor and the file is whole; the half file goes at gc."""
        c = user("kill")
        org = c.me["org_id"]
        n = 200 * 1024
        get = {"id": "get", "type": "http.request", "name": "Get",
               "params": {"url": SRV.url + f"/slow-file/{n}/100", "response_type": "file"}}
        wid = workflow(c, get)
        before = set(temps())
        r = c.post(f"/api/workflows/{wid}/run", {"input": [{}]})
        self.assertEqual(r.status, 202, r)
        eid = r.json()["id"]

        def growing():
            new = [t for t in temps() if t not in before]
            return new[0] if new and os.path.getsize(new[0]) > 0 else None
        harness.wait_for(growing, what="the download's temporary file", timeout=20)
        half = growing()
        ENV.stop_executor(EX, signal.SIGKILL)
        self.assertLess(os.path.getsize(half), n)
        self.assertEqual(contents_of(org), [])
        self.assertEqual(sql(f"SELECT count(*) FROM glyphic.files WHERE org_id = '{org}'"), "0")
        EX = ENV.start_executor()  # the job's lease runs out; this one takes it again
        end = time.time() + 60
        while time.time() < end:
            e = c.get(f"/api/executions/{eid}").json()
            if e["status"] in ("succeeded", "failed", "canceled"):
                break
            time.sleep(0.2)
        self.assertEqual(e["status"], "succeeded", e.get("error"))
        ref = step_output(e, "get")[0]["$binary"]["data"]
        self.assertEqual((ref["size"], ref["sha256"]), (n, hashlib.sha256(pattern(n)).hexdigest()))
        self.assertEqual(sql(f"SELECT count(*) FROM glyphic.files WHERE execution_id = '{eid}'"), "1")
        with open(os.path.join(files_dir(), org, ref["sha256"][:2], ref["sha256"]), "rb") as fh:
            self.assertTrue(fh.read() == pattern(n))
        self.assertIn(half, temps())  # left for gc (files.temp_hours)
        old = time.time() - 25 * 3600
        os.utime(half, (old, old))
        self.assertIn("unfinished upload(s)", ENV.glyphic("files", "gc").stdout)
        self.assertNotIn(half, temps())

    def test_glyphic_run_has_no_file_store(self):
        wf = os.path.join(ENV.base, "convert.json")
        with open(wf, "w") as fh:
            json.dump({"nodes": [{"id": "m", "type": "trigger.manual", "name": "M"}, convert("csv", "to_csv")],
                       "edges": [{"from": "m", "to": "csv"}]}, fh)
        env = {k: v for k, v in os.environ.items() if not k.startswith("GLYPHIC_")}
        env["GLYPHIC_CONFIG"] = os.path.join(ENV.base, "empty.conf")
        open(env["GLYPHIC_CONFIG"], "w").close()
        r = subprocess.run([os.path.join(harness.BUILD, "cli", "glyphic"), "run", wf], capture_output=True,
                           text=True, env=env, timeout=60)
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("this node needs the file store, and this run has none", r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
