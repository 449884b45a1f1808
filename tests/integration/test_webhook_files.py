"""Webhooks take files (issue 16, "In"): multipart/form-data and raw binary
bodies streamed through nginx and glyphic-fcgi into the file store, their
files rows of the execution the call starts, on the async path, the direct
sync path and the queued sync path (an executor reads the uploaded file);
the worker's memory stays flat for 50 MB; malformed bodies, the per-file
limit, the org's quota and a wrong signature write nothing; a SIGKILL in
the middle leaves no final file and no row; another org cannot read the
files. Real PostgreSQL, nginx, glyphic-fcgi, glyphic-events and an
executor, started by the harness."""
import glob
import hashlib
import hmac
import json
import os
import threading
import time
import unittest
import uuid

import harness
import vaultlib
from testserver import TestServer, pattern
from test_files import fcgi_begin, fcgi_record, fcgi_stdin, kill_worker_holding

ENV = None
SRV = None
MIB = 1 << 20
MAX_FILE = 56 * MIB
QUOTA = 64 * MIB
BOUNDARY = "----glyphicTestBoundary7MA4YWxkTrZu0gW"


def setUpModule():
    global ENV, SRV
    SRV = TestServer().start()
    ENV = harness.Env(workers=2, fcgi_extra={
        "files.max_file_bytes": str(MAX_FILE), "files.max_bytes_per_org": str(QUOTA),
        "executor.poll_ms": "200", "executor.workers": "1", "log.level": "info", **harness.ALLOW_TEST_SERVER})
    ENV.start_all()
    ENV.start_executor()


def tearDownModule():
    ENV.close()
    if SRV:
        SRV.stop()


def sql(q):
    return ENV.pg.psql(q, user="postgres").strip()


def owner():
    return ENV.signup(f"hookfiles-{uuid.uuid4().hex[:8]}@example.com")


def files_dir():
    return ENV.fcgi.settings["files.dir"]


def contents_of(org):
    return sorted(glob.glob(os.path.join(files_dir(), org, "??", "*")))


def temps():
    return sorted(glob.glob(os.path.join(files_dir(), "tmp", "*")))


def rows_of(org):
    return int(sql(f"SELECT count(*) FROM glyphic.files WHERE org_id = '{org}'"))


def executions_of(wid):
    return int(sql(f"SELECT count(*) FROM glyphic.executions WHERE workflow_id = '{wid}'"))


def trigger_item(eid):
    return json.loads(sql(f"SELECT input->0 FROM glyphic.executions WHERE id = '{eid}'"))


def file_rows(eid):
    out = sql(f"SELECT coalesce(json_agg(json_build_object('id', id, 'org_id', org_id, 'sha256', "
              f"encode(sha256, 'hex'), 'size', size, 'mime_type', mime_type, 'file_name', file_name, "
              f"'created_by', created_by, 'execution_id', execution_id) ORDER BY size), '[]') "
              f"FROM glyphic.files WHERE execution_id = '{eid}'")
    return json.loads(out)


def fcgi_answer(sock, timeout=10):
    """The status and body of a FastCGI answer: its STDOUT records up to END_REQUEST."""
    sock.settimeout(timeout)
    buf, out = b"", b""
    while True:
        while len(buf) < 8 or len(buf) < 8 + int.from_bytes(buf[4:6], "big") + buf[6]:
            chunk = sock.recv(65536)
            if not chunk:
                raise AssertionError("the worker closed the connection without an answer")
            buf += chunk
        kind, n, pad = buf[1], int.from_bytes(buf[4:6], "big"), buf[6]
        content, buf = buf[8:8 + n], buf[8 + n + pad:]
        if kind == 6:
            out += content
        elif kind == 3:
            break
    head, _, body = out.partition(b"\r\n\r\n")
    status = int(head.split(b"Status: ", 1)[1][:3])
    return status, body


def on_disk(org, sha):
    with open(os.path.join(files_dir(), org, sha[:2], sha), "rb") as fh:
        return fh.read()


def hook(path, mode="async", respond=None, middle=None, **params):
    """trigger.webhook -> [middle nodes] -> [flow.respond (sync)]"""
    trig = {"id": "hook", "type": "trigger.webhook", "name": "Hook",
            "params": {"path": path, "mode": mode, **params}}
    nodes = [trig, *(middle or [])]
    if mode == "sync":
        nodes.append({"id": "respond", "type": "flow.respond", "name": "Respond", "params": respond or {}})
    return {"nodes": nodes, "edges": [{"from": a["id"], "to": b["id"]} for a, b in zip(nodes, nodes[1:])]}


def activate(c, definition):
    r = c.post("/api/workflows", {"name": "Files in", "definition": definition})
    assert r.status == 201, r
    wid = r.json()["id"]
    r = c.post(f"/api/workflows/{wid}/activate")
    assert r.status == 200, r
    return wid


def new_hook(c, mode="async", **kw):
    path = "files-" + uuid.uuid4().hex[:10]
    return path, activate(c, hook(path, mode, **kw))


def multipart(parts, boundary=BOUNDARY):
    """parts: (name, text) fields and (name, filename, content_type, bytes) files."""
    out = [b"preamble, ignored\r\n"]
    for p in parts:
        out.append(f"--{boundary}\r\n".encode())
        if len(p) == 2:
            out.append(f'Content-Disposition: form-data; name="{p[0]}"\r\n\r\n'.encode())
            out.append(p[1].encode() if isinstance(p[1], str) else p[1])
        else:
            name, filename, ctype, data = p
            out.append(f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'.encode())
            if ctype:
                out.append(f"Content-Type: {ctype}\r\n".encode())
            out.append(b"\r\n")
            out.append(data)
        out.append(b"\r\n")
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out)


def post(path, body, content_type=f"multipart/form-data; boundary={BOUNDARY}", headers=None, timeout=60):
    h = {"Content-Type": content_type, **(headers or {})}
    return ENV.request("POST", "/hooks/" + path, body=body, headers=h, timeout=timeout)


def ref(data, name, mime):
    """What a binary property says of data, but its id."""
    return {"file_name": name, "mime_type": mime, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def without_id(r):
    return {k: v for k, v in r.items() if k != "id"}


def with_worker_rss(call):
    """call()'s result, and the most any glyphic-fcgi worker's RSS grew (KiB) while it ran."""
    out, base, peak = harness.with_peak_rss(ENV.fcgi.workers(), call)
    return out, harness.rss_growth(base, peak)


def nothing_written(test, org, wid, before_contents):
    test.assertEqual(rows_of(org), 0)
    test.assertEqual(executions_of(wid), 0)
    test.assertEqual(contents_of(org), before_contents)
    test.assertEqual(temps(), [])


class WebhookFilesTest(unittest.TestCase):
    def test_50mb_multipart_async_through_nginx_worker_rss(self):
        c = owner()
        org = c.me["org_id"]
        path, wid = new_hook(c)
        data = os.urandom(50 * MIB)
        body = multipart([("note", "quarterly report"), ("report", "q3.bin", "application/octet-stream", data)])
        r, growth = with_worker_rss(lambda: post(path, body))
        self.assertEqual(r.status, 202, r)
        eid = r.json()["execution_id"]
        print(f"\n50 MB multipart webhook: worker RSS grew by {growth} KiB", end=" ")
        self.assertLess(growth, 8 * 1024, f"a worker's RSS grew by {growth} KiB")
        item = trigger_item(eid)
        self.assertEqual(item["body"], {"note": "quarterly report"})
        self.assertEqual(list(item["$binary"]), ["report"])
        bref = item["$binary"]["report"]
        self.assertEqual(without_id(bref), ref(data, "q3.bin", "application/octet-stream"))
        rows = file_rows(eid)
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0]["id"], bref["id"])
        self.assertEqual((rows[0]["org_id"], rows[0]["created_by"], rows[0]["execution_id"]), (org, None, eid))
        self.assertEqual(rows[0]["sha256"], hashlib.sha256(data).hexdigest())
        self.assertEqual(on_disk(org, bref["sha256"]), data)
        self.assertEqual(temps(), [])
        self.assertIn(r.header("Content-Type"), ("application/json", "application/json; charset=utf-8"))

    def test_raw_binary_bodies(self):
        c = owner()
        org = c.me["org_id"]
        path, wid = new_hook(c)
        pdf = b"%PDF-1.7\n" + os.urandom(300000) + b"\n%%EOF\n"
        r = post(path, pdf, content_type="application/pdf",
                 headers={"Content-Disposition": 'attachment; filename="invoice 42.pdf"'})
        self.assertEqual(r.status, 202, r)
        item = trigger_item(r.json()["execution_id"])
        self.assertIsNone(item["body"])
        self.assertEqual(list(item["$binary"]), ["data"])
        self.assertEqual(without_id(item["$binary"]["data"]), ref(pdf, "invoice 42.pdf", "application/pdf"))
        self.assertEqual(on_disk(org, hashlib.sha256(pdf).hexdigest()), pdf)
        # without a name: "data"; RFC 8187's filename*; a path is cut to its last part
        png = b"\x89PNG\r\n\x1a\n" + os.urandom(1000)
        for headers, name in (({}, "data"),
                              ({"Content-Disposition": "inline; filename*=UTF-8''%E2%82%AC%20rates.png"}, "€ rates.png"),
                              ({"Content-Disposition": 'attachment; filename="../../etc/x.png"'}, "x.png")):
            r = post(path, png, content_type="image/png", headers=headers)
            self.assertEqual(r.status, 202, r)
            b = trigger_item(r.json()["execution_id"])["$binary"]["data"]
            self.assertEqual(without_id(b), ref(png, name, "image/png"))
        r = post(path, b"\x00\x01raw", content_type="application/octet-stream")
        self.assertEqual(trigger_item(r.json()["execution_id"])["$binary"]["data"]["size"], 5)
        # JSON, forms and text keep their behaviour: no file
        for body, ctype, want in ((b'{"a": 1}', "application/json", {"a": 1}),
                                  (b"a=1&b=x+y", "application/x-www-form-urlencoded", {"a": "1", "b": "x y"}),
                                  (b"plain words", "text/plain", "plain words"),
                                  (b"<a>1</a>", "application/xml", "<a>1</a>")):
            r = post(path, body, content_type=ctype)
            self.assertEqual(r.status, 202, (ctype, r))
            item = trigger_item(r.json()["execution_id"])
            self.assertEqual(item["body"], want)
            self.assertNotIn("$binary", item)
        self.assertEqual(rows_of(org), 5)
        self.assertEqual(int(sql(f"SELECT count(*) FROM glyphic.files WHERE org_id = '{org}' "
                                 f"AND execution_id IS NOT NULL AND created_by IS NULL")), 5)
        self.assertEqual(executions_of(wid), 9)
        self.assertEqual(temps(), [])

    def test_fields_and_several_files_on_the_direct_sync_path(self):
        c = owner()
        org = c.me["org_id"]
        path, wid = new_hook(c, mode="sync")  # trigger -> flow.respond: quick, run in the worker
        doc, img = os.urandom(20000), os.urandom(7000)
        a, b = b"first of many", b"second of many"
        body = multipart([
            ("a", "1"), ("greeting", "héllo\r\nwörld"), ("a", "2"),
            ("doc", "report.pdf", "application/pdf", doc),
            ("img", "../../evil.png", "image/png", img),
            ("files[]", "a.txt", "text/plain; charset=utf-8", a),
            ("files[]", "b.txt", "text/plain", b),
            ("empty", "empty.bin", None, b""),
            ("unchosen", "", "application/octet-stream", b""),
        ])
        r = post(path, body)
        self.assertEqual(r.status, 200, r)
        eid = r.header("X-Glyphic-Execution")
        answer = r.json()  # flow.respond's default: the first item, the trigger's
        self.assertEqual(answer["body"], {"a": "2", "greeting": "héllo\r\nwörld"})
        bins = answer["$binary"]
        self.assertEqual(sorted(bins), ["doc", "empty", "files0", "files1", "img"])
        self.assertEqual(without_id(bins["doc"]), ref(doc, "report.pdf", "application/pdf"))
        self.assertEqual(without_id(bins["img"]), ref(img, "evil.png", "image/png"))
        self.assertEqual(without_id(bins["files0"]), ref(a, "a.txt", "text/plain; charset=utf-8"))
        self.assertEqual(without_id(bins["files1"]), ref(b, "b.txt", "text/plain"))
        self.assertEqual(without_id(bins["empty"]), ref(b"", "empty.bin", "application/octet-stream"))
        self.assertEqual(trigger_item(eid)["$binary"], bins)
        self.assertEqual(sql(f"SELECT status FROM glyphic.executions WHERE id = '{eid}'"), "succeeded")
        rows = file_rows(eid)
        self.assertEqual(sorted(r_["id"] for r_ in rows), sorted(v["id"] for v in bins.values()))
        for name, data in (("doc", doc), ("img", img), ("files0", a), ("files1", b), ("empty", b"")):
            self.assertEqual(on_disk(org, bins[name]["sha256"]), data, name)
        self.assertEqual(temps(), [])
        # the org reads them like any file, and the execution's files list them
        f = c.get(f"/api/files/{bins['doc']['id']}").json()
        self.assertEqual((f["execution_id"], f["created_by"], f["size"]), (eid, None, len(doc)))
        self.assertEqual(c.get(f"/api/files/{bins['doc']['id']}/content").body, doc)
        listed = c.get(f"/api/executions/{eid}/files").json()["items"]
        self.assertEqual(len(listed), 5)
        self.assertEqual(c.get(f"/api/executions/{eid}/files/{bins['img']['id']}").body, img)
        # retention: deleting the execution deletes its rows, then gc the contents
        self.assertEqual(c.delete(f"/api/executions/{eid}").status, 204)
        self.assertEqual(rows_of(org), 0)
        ENV.glyphic("files", "gc")
        self.assertEqual(contents_of(org), [])

    def test_queued_sync_path_executor_reads_the_file(self):
        c = owner()
        path, wid = new_hook(c, mode="sync", middle=[
            {"id": "csv", "type": "data.convert", "name": "Read", "params": {"operation": "from_csv", "property": "sheet"}}])
        csv = "name,city\r\nAda,London\r\n\"Grace, R.\",\"New York\"\r\n".encode()
        r = post(path, multipart([("sheet", "people.csv", "text/csv", csv)]), timeout=60)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"name": "Ada", "city": "London"})
        eid = r.header("X-Glyphic-Execution")
        self.assertEqual(len(file_rows(eid)), 1)
        self.assertEqual(trigger_item(eid)["$binary"]["sheet"]["file_name"], "people.csv")

    def test_malformed_multipart_is_400_and_writes_nothing(self):
        c = owner()
        org = c.me["org_id"]
        path, wid = new_hook(c)
        f = ("f", "f.bin", "application/octet-stream", os.urandom(100000))
        good = multipart([f])
        long_header = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x\"\r\n"
                       f"X-Long: {'a' * 9000}\r\n\r\nx\r\n--{BOUNDARY}--\r\n").encode()
        many = multipart([f] + [(f"p{i}", "v") for i in range(100)])
        big_field = multipart([f, ("small", "y" * 1000), ("big", "x" * ((1 << 20) - 999))])  # http.max_body
        cases = [
            ("multipart/form-data", good, "boundary"),
            (f"multipart/form-data; boundary={BOUNDARY}", good[:-len(f"--{BOUNDARY}--\r\n")], "closing boundary"),
            (f"multipart/form-data; boundary={BOUNDARY}", good[:-50], "closing boundary"),
            (f"multipart/form-data; boundary={BOUNDARY}", b"no parts here", "no boundary line"),
            (f"multipart/form-data; boundary={BOUNDARY}", long_header, "longer than 8192 bytes"),
            (f"multipart/form-data; boundary={BOUNDARY}", many, "more than 100 parts"),
            (f"multipart/form-data; boundary={BOUNDARY}", big_field, "http.max_body"),
            (f"multipart/form-data; boundary={BOUNDARY}", multipart([f, ("bad", b"\xff\xfe")]), "not UTF-8"),
            (f"multipart/form-data; boundary={BOUNDARY}",
             good.replace(b'name="f"; ', b""), "form-data with a name"),
        ]
        for ctype, body, says in cases:
            r = post(path, body, content_type=ctype)
            self.assertEqual(r.status, 400, (says, r))
            e = r.json()["error"]
            self.assertEqual(e["code"], "invalid_multipart", (says, e))
            self.assertIn(says, e["message"])
            nothing_written(self, org, wid, [])
        # a body past files.max_file_bytes: nginx's 413 (client_max_body_size agrees)
        r = post(path, b"\0" * (MAX_FILE + 1), content_type="application/octet-stream")
        self.assertEqual(r.status, 413, r)
        self.assertEqual(r.json()["error"]["code"], "body_too_large")
        with open(os.path.join(ENV.nginx.dir, "glyphic-hooks.conf")) as fh:
            self.assertIn(f"client_max_body_size {MAX_FILE};", fh.read())
        # glyphic's own 413, for one that reaches it (from another front end)
        sock = fcgi_begin(ENV.fcgi.settings["fcgi.hooks_socket"], {
            "REQUEST_METHOD": "POST", "REQUEST_URI": f"/hooks/{path}", "DOCUMENT_URI": f"/hooks/{path}",
            "CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}", "CONTENT_LENGTH": str(MAX_FILE + 1),
            "REMOTE_ADDR": "127.0.0.1"})
        try:
            sock.sendall(fcgi_record(5, b""))  # the body's end: the worker answers on its length alone
            status, answer = fcgi_answer(sock)
        finally:
            sock.close()
        self.assertEqual(status, 413, answer)
        self.assertEqual(json.loads(answer)["error"]["code"], "body_too_large")
        nothing_written(self, org, wid, [])
        # and the same body, well formed, is taken
        self.assertEqual(post(path, good).status, 202)

    def test_quota_is_507_and_writes_nothing(self):
        c = owner()
        org = c.me["org_id"]
        path, wid = new_hook(c)
        stored = os.urandom(40 * MIB)
        r = c.post("/api/files?name=stored.bin", body=stored, headers={"Content-Type": "application/octet-stream"})
        self.assertEqual(r.status, 201, r)
        before = contents_of(org)
        extra = os.urandom(30 * MIB)
        r = post(path, multipart([("note", "x"), ("big", "big.bin", "application/octet-stream", extra)]))
        self.assertEqual(r.status, 507, r)
        e = r.json()["error"]
        self.assertEqual(e["code"], "quota_exceeded")
        self.assertIn(str(QUOTA), e["message"])
        self.assertEqual(rows_of(org), 1)
        self.assertEqual(executions_of(wid), 0)
        self.assertEqual(contents_of(org), before)
        self.assertEqual(temps(), [])
        # a raw body too
        r = post(path, extra, content_type="application/zip")
        self.assertEqual(r.status, 507, r)
        self.assertEqual((rows_of(org), executions_of(wid), contents_of(org), temps()), (1, 0, before, []))
        # refused before the body is read (sql/024): a worker reading it
        # would have it in a temporary file, which the sampler below sees
        seen = set()
        done = threading.Event()

        def watch():
            while not done.is_set():
                seen.update(temps())
                time.sleep(0.002)
        t = threading.Thread(target=watch)
        t.start()
        try:
            r = post(path, extra, content_type="application/zip")
        finally:
            done.set()
            t.join()
        self.assertEqual(r.status, 507, r)
        self.assertIn("this call brings", r.json()["error"]["message"])
        self.assertEqual(seen, set())
        # a content the org stores already costs nothing (when the body fits
        # the room left: the early check counts every byte of it)
        small = os.urandom(MIB)
        self.assertEqual(post(path, small, content_type="application/octet-stream").status, 202)
        after = contents_of(org)
        r = post(path, small, content_type="application/octet-stream")
        self.assertEqual(r.status, 202, r)
        self.assertEqual((rows_of(org), contents_of(org)), (3, after))
        # two calls at once for the last room: one is stored, the other
        # refused (by the early check or under the files lock), whole
        results = []
        bodies = [os.urandom(12 * MIB), os.urandom(12 * MIB)]
        threads = [threading.Thread(target=lambda b=b: results.append(
            post(path, b, content_type="application/octet-stream").status)) for b in bodies]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(sorted(results), [202, 507])
        self.assertEqual(rows_of(org), 4)
        self.assertEqual(len(contents_of(org)), len(after) + 1)
        self.assertEqual(temps(), [])

    def test_sigkill_in_the_middle_of_a_webhook_upload(self):
        c = owner()
        org = c.me["org_id"]
        path, wid = new_hook(c)
        body = multipart([("f", "half.bin", "application/octet-stream", os.urandom(4 * MIB))])
        # straight to glyphic-fcgi's webhook socket: nginx would buffer the
        # whole body before a worker sees a byte
        sock = fcgi_begin(ENV.fcgi.settings["fcgi.hooks_socket"], {
            "REQUEST_METHOD": "POST", "REQUEST_URI": f"/hooks/{path}", "DOCUMENT_URI": f"/hooks/{path}",
            "CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}", "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": "127.0.0.1",
        })
        try:
            fcgi_stdin(sock, body[:len(body) // 2])
            tmp = kill_worker_holding(ENV, temps)
        finally:
            sock.close()
        self.assertEqual(contents_of(org), [])
        self.assertEqual(rows_of(org), 0)
        self.assertEqual(executions_of(wid), 0)
        self.assertEqual(temps(), [tmp])  # left for gc (files.temp_hours)
        old = time.time() - 25 * 3600
        os.utime(tmp, (old, old))
        self.assertIn("removed 1 unfinished upload(s)", ENV.glyphic("files", "gc").stdout)
        self.assertEqual(temps(), [])
        harness.wait_for(lambda: len(ENV.fcgi.workers()) >= ENV.fcgi.total(), what="a new worker")
        self.assertEqual(post(path, body).status, 202)

    def test_signed_multipart(self):
        c = owner()
        org = c.me["org_id"]
        secret = "whsec_" + uuid.uuid4().hex
        vaultlib.insert_credential(ENV, org, "hook key", "webhook.hmac", {}, {"secret": secret})
        path, wid = new_hook(c, secret="hook key", signature="github")
        data = os.urandom(2 * MIB)
        body = multipart([("kind", "scan"), ("scan", "scan.tiff", "image/tiff", data)])
        good = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        bad = "sha256=" + hmac.new(b"whsec_wrong", body, hashlib.sha256).hexdigest()
        tampered = body.replace(b"scan.tiff", b"scan.tif_")
        for headers, b, says in (({"X-Hub-Signature-256": bad}, body, "does not match"),
                                 ({"X-Hub-Signature-256": good}, tampered, "does not match"),
                                 ({}, body, "missing"),
                                 ({"X-Hub-Signature-256": "sha256=zz"}, body, "malformed")):
            r = post(path, b, headers=headers)
            self.assertEqual(r.status, 401, (says, r))
            e = r.json()["error"]
            self.assertEqual((e["code"], e["field"]), ("invalid_signature", "X-Hub-Signature-256"))
            self.assertIn(says, e["message"])
            nothing_written(self, org, wid, [])
        r = post(path, body, headers={"X-Hub-Signature-256": good})
        self.assertEqual(r.status, 202, r)
        item = trigger_item(r.json()["execution_id"])
        self.assertEqual(item["body"], {"kind": "scan"})
        self.assertEqual(without_id(item["$binary"]["scan"]), ref(data, "scan.tiff", "image/tiff"))
        self.assertEqual(on_disk(org, item["$binary"]["scan"]["sha256"]), data)
        # stripe-style over a raw body: "TIMESTAMP." + the bytes
        secret2 = "whsec_" + uuid.uuid4().hex
        vaultlib.insert_credential(ENV, org, "stripe key", "webhook.hmac", {}, {"secret": secret2})
        path2, wid2 = new_hook(c, secret="stripe key", signature="stripe")
        t = int(time.time())
        sig = hmac.new(secret2.encode(), f"{t}.".encode() + data, hashlib.sha256).hexdigest()
        r = post(path2, data, content_type="image/tiff", headers={"Stripe-Signature": f"t={t},v1={sig}"})
        self.assertEqual(r.status, 202, r)
        r = post(path2, data + b"!", content_type="image/tiff", headers={"Stripe-Signature": f"t={t},v1={sig}"})
        self.assertEqual(r.status, 401, r)
        self.assertEqual(executions_of(wid2), 1)
        self.assertEqual(temps(), [])

    def test_another_org_cannot_read_the_files(self):
        a, b = owner(), owner()
        path, wid = new_hook(a)
        secret = b"org a's upload " + os.urandom(64)
        r = post(path, multipart([("f", "a.bin", "application/octet-stream", secret)]))
        self.assertEqual(r.status, 202, r)
        eid = r.json()["execution_id"]
        fid = trigger_item(eid)["$binary"]["f"]["id"]
        self.assertEqual(a.get(f"/api/files/{fid}/content").body, secret)
        for p in (f"/api/files/{fid}", f"/api/files/{fid}/content", f"/api/executions/{eid}/files/{fid}"):
            r = b.get(p)
            self.assertEqual(r.status, 404, (p, r))
            self.assertNotIn(secret, r.body)
        self.assertEqual(b.get("/api/files").json()["items"], [])
        # an anonymous caller has no way in either
        self.assertEqual(ENV.client().get(f"/api/files/{fid}").status, 401)


def http_node(nid, url, **params):
    return {"id": nid, "type": "http.request", "name": nid.title(), "params": {"url": url, **params}}


def execution(eid, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        row = sql(f"SELECT status FROM glyphic.executions WHERE id = '{eid}'")
        if row in ("succeeded", "failed", "canceled"):
            return json.loads(sql(f"SELECT json_build_object('status', status, 'error', error, 'steps', "
                                  f"(SELECT json_agg(json_build_object('node_id', s.node_id, 'status', s.status, "
                                  f"'output', s.output) ORDER BY s.seq) FROM glyphic.execution_steps s "
                                  f"WHERE s.execution_id = e.id)) FROM glyphic.executions e WHERE id = '{eid}'"))
        time.sleep(0.1)
    raise AssertionError(f"execution {eid} did not finish")


def output_of(e, node_id):
    for st in e["steps"] or []:
        if st["node_id"] == node_id and st["status"] == "succeeded":
            return st["output"]["main"][0]
    raise AssertionError(f"no output of {node_id}: {e}")


def from_nginx(test, r):
    """The answer was sent by nginx from its internal files location: no
    header the worker's answers carry, the location's own policy, and what
    nginx's static module adds."""
    test.assertIsNone(r.header("X-Glyphic-Execution"))
    test.assertEqual(r.header("Content-Security-Policy"), "sandbox; default-src 'none'")
    if r.status == 200:
        test.assertEqual(r.header("Accept-Ranges"), "bytes")
    test.assertIsNotNone(r.header("ETag"))
    test.assertIsNotNone(r.header("Last-Modified"))


def respond_binary(prop="data", **params):
    return {"respond_with": "binary", "binary_property": prop, **params}


class FileAnswersTest(unittest.TestCase):
    """flow.respond answers with a file (served by nginx), http.request saves
    and sends files."""

    def test_50mb_multipart_sync_webhook_answers_the_same_bytes_through_nginx(self):
        c = owner()
        sha = {"id": "sha", "type": "data.set", "name": "Digest",
               "params": {"fields": {"sha256": "{{ $binary.report.sha256 }}", "size": "{{ $binary.report.size }}"}}}
        path, wid = new_hook(c, "sync", middle=[sha], respond=respond_binary("report"))
        data = os.urandom(50 * MIB)
        body = multipart([("note", "q3"), ("report", "q3 résumé.pdf", "application/pdf", data)])
        r, growth = with_worker_rss(lambda: post(path, body, timeout=120))
        self.assertEqual(r.status, 200, r.body[:300])
        print(f"\n50 MB multipart in, the file back: worker RSS grew by {growth} KiB", end=" ")
        self.assertLess(growth, 8 * 1024, f"a worker's RSS grew by {growth} KiB")
        self.assertEqual(len(r.body), len(data))
        self.assertTrue(r.body == data, "the bytes that came back differ")
        self.assertEqual(r.header("Content-Type"), "application/pdf")
        self.assertEqual(r.header("Content-Disposition"),
                         "attachment; filename=\"q3 r__sum__.pdf\"; filename*=UTF-8''q3%20r%C3%A9sum%C3%A9.pdf")
        from_nginx(self, r)
        # the workflow computed the digest from the file's metadata: the bytes' own
        eid = sql(f"SELECT id FROM glyphic.executions WHERE workflow_id = '{wid}'")
        e = execution(eid)
        self.assertEqual(e["status"], "succeeded")
        out = output_of(e, "sha")
        self.assertEqual((out["sha256"], out["size"]), (hashlib.sha256(data).hexdigest(), len(data)))
        self.assertEqual(temps(), [])

    def test_range_requests_and_inline(self):
        c = owner()
        path, _ = new_hook(c, "sync", respond=respond_binary(disposition="inline"))
        data = pattern(100000)
        r = post(path, data, content_type="image/png", headers={"Range": "bytes=1000-1999"})
        self.assertEqual(r.status, 206, r.body[:300])
        self.assertEqual(r.body, data[1000:2000])
        self.assertEqual(r.header("Content-Range"), "bytes 1000-1999/100000")
        self.assertEqual(r.header("Content-Type"), "image/png")
        self.assertTrue(r.header("Content-Disposition").startswith('inline; filename="data"'), r.header("Content-Disposition"))
        from_nginx(self, r)
        r = post(path, data, content_type="image/png")
        self.assertEqual((r.status, r.body), (200, data))

    def test_a_script_type_is_answered_as_octet_stream(self):
        c = owner()
        path, _ = new_hook(c, "sync", respond=respond_binary())
        r = post(path, multipart([("data", "x.js", "application/javascript", b"alert(1)")]))
        self.assertEqual(r.status, 200, r.body[:300])
        self.assertEqual(r.header("Content-Type"), "application/octet-stream")
        self.assertEqual(r.body, b"alert(1)")
        # the workflow's own Content-Type and Content-Disposition win
        path, _ = new_hook(c, "sync", respond=respond_binary(headers={
            "Content-Type": "text/csv; charset=utf-8", "Content-Disposition": "attachment; filename=\"x.csv\""}))
        r = post(path, b"a,b\n1,2\n", content_type="application/octet-stream")
        self.assertEqual((r.status, r.body), (200, b"a,b\n1,2\n"))
        self.assertEqual(r.header("Content-Type"), "text/csv; charset=utf-8")
        self.assertEqual(r.header("Content-Disposition"), 'attachment; filename="x.csv"')

    def test_queued_sync_path_http_download_then_file_answer(self):
        c = owner()
        org = c.me["org_id"]
        get = http_node("get", SRV.url + "/file/300000", response_type="file")
        path, wid = new_hook(c, "sync", middle=[get], respond=respond_binary())
        r = post(path, b"", content_type="application/json")
        self.assertEqual(r.status, 200, r.body[:300])
        self.assertTrue(r.body == pattern(300000), "the bytes differ")
        self.assertEqual(r.header("Content-Type"), "application/pdf")
        self.assertIn("filename*=UTF-8''r%C3%A9sum%C3%A9.pdf", r.header("Content-Disposition"))
        from_nginx(self, r)
        eid = sql(f"SELECT id FROM glyphic.executions WHERE workflow_id = '{wid}'")
        item = output_of(execution(eid), "get")
        self.assertEqual(item["status"], 200)
        self.assertNotIn("body", item)
        ref_ = item["$binary"]["data"]
        self.assertEqual(without_id(ref_), ref(pattern(300000), "résumé.pdf", "application/pdf"))
        rows = file_rows(eid)
        self.assertEqual([x["id"] for x in rows], [ref_["id"]])
        self.assertEqual(on_disk(org, ref_["sha256"]), pattern(300000))

    def test_http_request_names_and_output_layouts(self):
        c = owner()
        # no Content-Disposition: the URL's last segment; output body: the file alone
        get = http_node("get", SRV.url + "/blob/pic%20one.png", response_type="file", output="body",
                        response_property="image")
        path, wid = new_hook(c, "async", middle=[get])
        r = post(path, b"{}", content_type="application/json")
        self.assertEqual(r.status, 202, r)
        item = output_of(execution(r.json()["execution_id"]), "get")
        self.assertEqual(list(item), ["$binary"])
        self.assertEqual(without_id(item["$binary"]["image"]), ref(pattern(1000), "pic one.png", "image/png"))

    def test_http_request_sends_a_file_as_the_body_and_as_multipart(self):
        c = owner()
        raw = http_node("raw", SRV.url + "/upload", method="PUT", body_type="binary")
        form = http_node("form", SRV.url + "/upload", method="POST", body_type="multipart",
                         binary_property="doc:data, again:data", body={"note": "héllo", "n": 3})
        path = "files-" + uuid.uuid4().hex[:10]
        trig = {"id": "hook", "type": "trigger.webhook", "name": "Hook", "params": {"path": path, "mode": "async"}}
        activate(c, {"nodes": [trig, raw, form], "edges": [{"from": "hook", "to": "raw"}, {"from": "hook", "to": "form"}]})
        data = pattern(3 * MIB + 7)
        r = post(path, data, content_type="image/png")
        self.assertEqual(r.status, 202, r)
        e = execution(r.json()["execution_id"])
        self.assertEqual(e["status"], "succeeded", e["error"])
        sent = output_of(e, "raw")["body"]
        self.assertEqual((sent["method"], sent["content_type"], sent["size"], sent["sha256"]),
                         ("PUT", "image/png", len(data), hashlib.sha256(data).hexdigest()))
        sent = output_of(e, "form")["body"]
        self.assertTrue(sent["content_type"].startswith("multipart/form-data; boundary="), sent["content_type"])
        parts = {p["name"]: p for p in sent["parts"]}
        self.assertEqual(sorted(parts), ["again", "doc", "n", "note"])
        self.assertEqual((parts["note"]["text"], parts["n"]["text"]), ("héllo", "3"))
        for name in ("doc", "again"):
            self.assertEqual((parts[name]["filename"], parts[name]["content_type"], parts[name]["size"],
                              parts[name]["sha256"]), ("data", "image/png", len(data), hashlib.sha256(data).hexdigest()))

    def test_file_answer_errors(self):
        c = owner()
        # no such property: the node fails naming it
        path, _ = new_hook(c, "sync", respond=respond_binary("nope"))
        r = post(path, b"x", content_type="image/png")
        self.assertEqual(r.status, 500)
        self.assertIn("has no binary property 'nope'", r.json()["error"]["message"])
        # a file answer is 200; other headers cannot go with it
        for params, says in (({"status": 201}, "status 200"), ({"headers": {"X-Trace": "1"}}, "cannot go with a file")):
            path, _ = new_hook(c, "sync", respond=respond_binary(**params))
            r = post(path, b"x", content_type="image/png")
            self.assertEqual(r.status, 500, r.body[:200])
            self.assertIn(says, r.json()["error"]["message"])
        # a download too large for files.max_file_bytes fails the node; nothing stays
        c = owner()
        org = c.me["org_id"]
        before = contents_of(org)
        get = http_node("get", SRV.url + f"/file/{MAX_FILE + 1}", response_type="file")
        path, wid = new_hook(c, "async", middle=[get])
        r = post(path, b"{}", content_type="application/json")
        e = execution(r.json()["execution_id"], timeout=60)
        self.assertEqual(e["status"], "failed")
        self.assertIn("files.max_file_bytes", e["error"]["message"])
        self.assertEqual(contents_of(org), before)
        self.assertEqual(temps(), [])
        self.assertEqual(rows_of(org), 0)

    def test_another_orgs_file_is_never_answered(self):
        a, b = owner(), owner()
        # b's file, uploaded through the API
        secret = b"card,pin\n4111,1234\n"
        r = b.post("/api/files?name=secret.csv", body=secret, headers={"Content-Type": "text/csv"})
        self.assertEqual(r.status, 201, r)
        theirs = r.json()
        forged = {k: theirs[k] for k in ("id", "sha256", "size", "file_name", "mime_type")}
        setn = {"id": "set", "type": "data.set", "name": "Set", "params": {"fields": {"$binary": {"data": forged}}}}
        # the direct path (quick nodes) and the queued one (an executor runs it)
        wait = {"id": "w", "type": "flow.noop", "name": "Noop"}
        slow = http_node("get", SRV.url + "/json/x")
        for middle in ([setn], [slow, setn]):
            path, _ = new_hook(a, "sync", middle=[*middle, wait], respond=respond_binary())
            r = post(path, b"{}", content_type="application/json")
            self.assertEqual(r.status, 500, r.body[:300])
            self.assertEqual(r.json()["error"]["code"], "workflow_failed")
            self.assertIn("not stored for its organization", r.json()["error"]["message"])
            self.assertNotIn(b"4111", r.body)
        # the function the servers ask, as the app role: nothing for a guess
        out = ENV.pg.psql(f"SELECT count(*) FROM glyphic.hook_answer_file('{uuid.uuid4()}', NULL)",
                          user="glyphic_app").strip()
        self.assertEqual(out, "0")
        # the internal location, asked for directly: 404
        r = ENV.request("GET", f"/_glyphic/files/{b.me['org_id']}/{theirs['sha256'][:2]}/{theirs['sha256']}")
        self.assertEqual(r.status, 404)
        self.assertNotIn(b"4111", r.body)


if __name__ == "__main__":
    unittest.main()
