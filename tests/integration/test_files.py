"""The file store and /api/files (issue 16, its foundation): uploads streamed
through nginx into files.dir, downloads sent by nginx with X-Accel-Redirect
(Range works), tenancy (404 across orgs, the internal location unreachable
from outside, row level security), roles, the per-file limit and the org's
quota (507, nothing written, two concurrent uploads cannot both take the
last of it), a worker killed in the middle of an upload, and gc.

Real PostgreSQL, glyphic-fcgi and nginx, started by the harness."""
import glob
import hashlib
import os
import signal
import socket
import struct
import subprocess
import threading
import time
import unittest
import urllib.parse
import uuid

import harness

ENV = None
MIB = 1 << 20
MAX_FILE = 56 * MIB
QUOTA = 64 * MIB


def setUpModule():
    global ENV
    ENV = harness.Env(workers=2, fcgi_extra={"files.max_file_bytes": str(MAX_FILE),
                                             "files.max_bytes_per_org": str(QUOTA)})
    ENV.start_all()


def tearDownModule():
    ENV.close()


def sql(q):
    return ENV.pg.psql(q, user="postgres").strip()


def owner():
    return ENV.signup(f"files-{uuid.uuid4().hex[:8]}@example.com")


def upload(c, data, name="data.bin", mime="application/octet-stream", expect=201):
    headers = {"Content-Type": mime} if mime else {}
    r = c.post("/api/files?name=" + urllib.parse.quote(name), body=data, headers=headers)
    if expect is not None:
        assert r.status == expect, r
    return r


def files_dir():
    return ENV.fcgi.settings["files.dir"]


def contents_of(org):
    """The content files of org on disk."""
    return sorted(glob.glob(os.path.join(files_dir(), org, "??", "*")))


def temps():
    return sorted(glob.glob(os.path.join(files_dir(), "tmp", "*")))


def gc():
    r = ENV.glyphic("files", "gc")
    return r.stdout


class FilesTest(unittest.TestCase):
    def test_upload_and_download_through_nginx(self):
        c = owner()
        data = os.urandom(MIB + 12345)
        name = "résumé 2024 \"final\".pdf"
        r = upload(c, data, name=name, mime="application/pdf")
        f = r.json()
        self.assertEqual(set(f), {"id", "file_name", "mime_type", "size", "sha256", "created_at", "created_by",
                                  "execution_id"})
        self.assertEqual(f["file_name"], name)
        self.assertEqual(f["mime_type"], "application/pdf")
        self.assertEqual(f["size"], len(data))
        self.assertEqual(f["sha256"], hashlib.sha256(data).hexdigest())
        self.assertEqual(r.header("Location"), f"/api/files/{f['id']}")
        self.assertEqual(c.get(f"/api/files/{f['id']}").json(), f)
        # the bytes on disk, under their final name
        sha = f["sha256"]
        path = os.path.join(files_dir(), c.me["org_id"], sha[:2], sha)
        with open(path, "rb") as fh:
            self.assertEqual(fh.read(), data)
        self.assertEqual(temps(), [])

        d = c.get(f"/api/files/{f['id']}/content")
        self.assertEqual(d.status, 200)
        self.assertEqual(d.body, data)
        self.assertEqual(d.header("Content-Type"), "application/pdf")
        cd = d.header("Content-Disposition")
        self.assertTrue(cd.startswith('attachment; filename="r'), cd)
        self.assertIn("filename*=UTF-8''r%C3%A9sum%C3%A9%202024%20%22final%22.pdf", cd)
        self.assertNotIn('\\"', cd)
        # sent by nginx: no trace of the worker's answer, nginx's own headers
        self.assertIsNone(d.header("X-Accel-Redirect"))
        self.assertIsNone(d.header("X-Request-Id"))
        self.assertEqual(d.header("Accept-Ranges"), "bytes")
        self.assertIn("sandbox", d.header("Content-Security-Policy"))
        self.assertEqual(d.header("X-Content-Type-Options"), "nosniff")
        # Range requests
        rr = c.get(f"/api/files/{f['id']}/content", headers={"Range": "bytes=1000-1999"})
        self.assertEqual(rr.status, 206)
        self.assertEqual(rr.body, data[1000:2000])
        self.assertEqual(rr.header("Content-Range"), f"bytes 1000-1999/{len(data)}")
        rr = c.get(f"/api/files/{f['id']}/content", headers={"Range": "bytes=-10"})
        self.assertEqual(rr.status, 206)
        self.assertEqual(rr.body, data[-10:])
        # listed, and counted in the usage
        items = c.get("/api/files").json()["items"]
        self.assertEqual([i["id"] for i in items], [f["id"]])
        self.assertEqual(c.get("/api/usage").json(),
                         {"files": {"bytes": len(data), "count": 1, "max_bytes": QUOTA}})

    def test_same_content_is_stored_once_and_gc_frees_it_with_its_last_row(self):
        c = owner()
        org = c.me["org_id"]
        data = b"the same bytes\n" * 1000
        f1 = upload(c, data, name="one.txt", mime="text/plain").json()
        f2 = upload(c, data, name="two.txt", mime="text/plain; charset=utf-8").json()
        self.assertNotEqual(f1["id"], f2["id"])
        self.assertEqual(f1["sha256"], f2["sha256"])
        self.assertEqual(len(contents_of(org)), 1)
        self.assertEqual(c.get("/api/usage").json()["files"], {"bytes": len(data), "count": 2, "max_bytes": QUOTA})
        self.assertEqual(c.get(f"/api/files/{f2['id']}/content").header("Content-Type"),
                         "text/plain; charset=utf-8")
        self.assertEqual(c.delete(f"/api/files/{f1['id']}").status, 204)
        self.assertEqual(c.get(f"/api/files/{f1['id']}").status, 404)
        out = gc()
        self.assertEqual(len(contents_of(org)), 1, out)  # f2 still names it
        self.assertEqual(c.get(f"/api/files/{f2['id']}/content").body, data)
        self.assertEqual(c.delete(f"/api/files/{f2['id']}").status, 204)
        self.assertEqual(c.get("/api/usage").json()["files"], {"bytes": 0, "count": 0, "max_bytes": QUOTA})
        self.assertEqual(len(contents_of(org)), 1)  # left to gc
        out = gc()
        self.assertIn(f"removed 1 unreferenced file(s), {len(data)} bytes", out)
        self.assertEqual(contents_of(org), [])

    def test_gc_removes_orphans_and_reports_them(self):
        c = owner()
        org = c.me["org_id"]
        kept = upload(c, b"kept").json()
        # an orphan: a content no row names (a commit that failed after the rename)
        orphan = os.urandom(777)
        sha = hashlib.sha256(orphan).hexdigest()
        os.makedirs(os.path.join(files_dir(), org, sha[:2]), exist_ok=True)
        with open(os.path.join(files_dir(), org, sha[:2], sha), "wb") as fh:
            fh.write(orphan)
        # a stranger in the store is not the store's to remove
        stranger = os.path.join(files_dir(), org, "notes.txt")
        with open(stranger, "w") as fh:
            fh.write("x")
        out = gc()
        self.assertIn("removed 1 unreferenced file(s), 777 bytes", out)
        self.assertFalse(os.path.exists(os.path.join(files_dir(), org, sha[:2], sha)))
        self.assertTrue(os.path.exists(stranger))
        self.assertEqual(c.get(f"/api/files/{kept['id']}/content").body, b"kept")
        r = ENV.glyphic("files", "gc", "extra", check=False)
        self.assertEqual(r.returncode, 2)
        r = ENV.glyphic("files", "--help")
        self.assertIn("usage: glyphic files gc", r.stdout)

    def test_elected_maintainer_collects_the_store(self):
        c = owner()
        org = c.me["org_id"]
        kept = upload(c, b"still named").json()
        orphan = os.urandom(321)
        sha = hashlib.sha256(orphan).hexdigest()
        path = os.path.join(files_dir(), org, sha[:2], sha)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(orphan)
        os.makedirs(os.path.join(files_dir(), "tmp"), exist_ok=True)
        stale = os.path.join(files_dir(), "tmp", "0123456789abcdef01234567.part")
        with open(stale, "wb") as fh:
            fh.write(b"crashed upload")
        old = time.time() - 25 * 3600
        os.utime(stale, (old, old))
        ENV.fcgi.write_conf(**{"executor.maintenance_interval": "1"})
        with open(os.path.join(ENV.base, "executor.stderr"), "a") as err:
            ex = subprocess.Popen([os.path.join(harness.BUILD, "executor", "glyphic-executor"), "-c", ENV.fcgi.conf,
                                   "--daemon", "--workers", "1"],
                                  stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
        try:
            harness.wait_for(lambda: not os.path.exists(path) and not os.path.exists(stale), 20,
                             "the maintainer's file store gc")
        finally:
            os.killpg(ex.pid, signal.SIGTERM)
            ex.wait(30)
        self.assertEqual(c.get(f"/api/files/{kept['id']}/content").body, b"still named")
        with open(ENV.fcgi.log, errors="replace") as fh:
            self.assertIn("file store gc: 1 unreferenced file(s) (321 bytes) and 1 unfinished upload(s)", fh.read())

    def test_other_org_gets_404_and_internal_location_is_unreachable(self):
        a, b = owner(), owner()
        f = upload(a, b"org a's secret").json()
        for path in (f"/api/files/{f['id']}", f"/api/files/{f['id']}/content"):
            r = b.get(path)
            self.assertEqual(r.status, 404, path)
            self.assertEqual(r.json()["error"]["code"], "not_found")
        self.assertEqual(b.delete(f"/api/files/{f['id']}").status, 404)
        self.assertEqual(b.get("/api/files").json()["items"], [])
        sha = f["sha256"]
        for path in (f"/_glyphic/files/{a.me['org_id']}/{sha[:2]}/{sha}",
                     f"/_glyphic/files/../files/{a.me['org_id']}/{sha[:2]}/{sha}",
                     f"/_glyphic/files/{a.me['org_id']}/"):
            for who in (b, a, ENV.client()):
                r = who.get(path)
                self.assertEqual(r.status, 404, (path, r))
                self.assertNotIn(b"secret", r.body)
        self.assertEqual(a.get(f"/api/files/{f['id']}/content").body, b"org a's secret")

    def test_app_role_sql_cannot_read_another_orgs_rows(self):
        a, b = owner(), owner()
        f = upload(a, b"rls").json()
        ctx_b = ENV.app_context(b.me["user"]["id"], b.me["org_id"])
        r = ENV.pg.psql(f"{ctx_b}; SELECT count(*) FROM glyphic.files WHERE id = '{f['id']}'",
                        user="glyphic_app", check=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip().splitlines()[-1], "0")
        r = ENV.pg.psql(f"{ctx_b}; WITH d AS (DELETE FROM glyphic.files WHERE id = '{f['id']}' RETURNING 1) "
                        f"SELECT count(*) FROM d", user="glyphic_app", check=False)
        self.assertEqual(r.stdout.strip().splitlines()[-1], "0")
        r = ENV.pg.psql(f"{ctx_b}; SELECT bytes FROM glyphic.files_usage('{a.me['org_id']}')",
                        user="glyphic_app", check=False)
        self.assertEqual(r.stdout.strip().splitlines()[-1], "0")
        ctx_a = ENV.app_context(a.me["user"]["id"], a.me["org_id"])
        r = ENV.pg.psql(f"{ctx_a}; UPDATE glyphic.files SET org_id = '{b.me['org_id']}' WHERE id = '{f['id']}'",
                        user="glyphic_app", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("permission denied", r.stderr)
        r = ENV.pg.psql(f"{ctx_a}; INSERT INTO glyphic.files (org_id, sha256, size, mime_type, file_name, created_by) "
                        f"VALUES ('{b.me['org_id']}', sha256('x'::bytea), 1, 'a/b', 'p', '{a.me['user']['id']}')",
                        user="glyphic_app", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("row-level security", r.stderr)
        self.assertEqual(sql(f"SELECT org_id FROM glyphic.files WHERE id = '{f['id']}'"), a.me["org_id"])
        # whoever writes, names and types that end up in headers stay one line
        for name, mime in (("a\nb", "text/plain"), ("a/b", "text/plain"), ("ok", "text/html\r\nX-Evil: 1")):
            r = ENV.pg.psql(f"INSERT INTO glyphic.files (org_id, sha256, size, mime_type, file_name) "
                            f"VALUES ('{a.me['org_id']}', sha256('x'::bytea), 1, E'{mime}', E'{name}')", check=False)
            self.assertNotEqual(r.returncode, 0, (name, mime))
            self.assertIn("check constraint", r.stderr)

    def test_viewer_reads_but_does_not_upload(self):
        o = owner()
        f = upload(o, b"shared").json()
        viewer = ENV.member_of(o, "viewer")
        editor = ENV.member_of(o, "editor")
        self.assertEqual(viewer.get(f"/api/files/{f['id']}/content").body, b"shared")
        self.assertEqual(len(viewer.get("/api/files").json()["items"]), 1)
        self.assertEqual(viewer.get("/api/usage").status, 200)
        r = upload(viewer, b"nope", expect=403)
        self.assertEqual(r.json()["error"]["code"], "forbidden")
        self.assertEqual(viewer.delete(f"/api/files/{f['id']}").status, 403)
        g = upload(editor, b"by the editor").json()
        self.assertEqual(g["created_by"], editor.me["user"]["id"])
        self.assertEqual(editor.delete(f"/api/files/{g['id']}").status, 204)
        self.assertEqual(int(sql(f"SELECT count(*) FROM glyphic.files WHERE org_id = '{o.me['org_id']}'")), 1)
        self.assertEqual(ENV.client().get("/api/files").status, 401)

    def test_bad_input_gets_clear_4xx(self):
        c = owner()
        cases = [
            ("/api/files", {"Content-Type": "text/plain"}, 400, "name"),
            ("/api/files?name=", {"Content-Type": "text/plain"}, 400, "name"),
            ("/api/files?name=a%2Fb", {"Content-Type": "text/plain"}, 400, "name"),
            ("/api/files?name=..", {"Content-Type": "text/plain"}, 400, "name"),
            ("/api/files?name=a%0Ab", {"Content-Type": "text/plain"}, 400, "name"),
            ("/api/files?name=%FF", {"Content-Type": "text/plain"}, 400, "name"),
            ("/api/files?name=" + "x" * 256, {"Content-Type": "text/plain"}, 400, "name"),
            ("/api/files?name=ok", {"Content-Type": "nonsense"}, 400, "Content-Type"),
        ]
        for path, headers, status, field in cases:
            r = c.post(path, body=b"some bytes", headers=headers)
            self.assertEqual(r.status, status, (path, r))
            self.assertEqual(r.json()["error"].get("field"), field, path)
        self.assertEqual(c.get("/api/files/not-a-uuid").status, 404)
        self.assertEqual(c.get(f"/api/files/{uuid.uuid4()}/content").status, 404)
        self.assertEqual(c.get("/api/files?limit=0").status, 400)
        self.assertEqual(c.get("/api/files?cursor=x").status, 400)
        self.assertEqual(c.put("/api/files", body={}).status, 405)
        # without a type: application/octet-stream; an empty file is a file
        f = upload(c, b"", name="empty", mime=None).json()
        self.assertEqual((f["mime_type"], f["size"]), ("application/octet-stream", 0))
        self.assertEqual(c.get(f"/api/files/{f['id']}/content").body, b"")
        self.assertEqual(temps(), [])
        self.assertEqual(int(sql(f"SELECT count(*) FROM glyphic.files WHERE org_id = '{c.me['org_id']}'")), 1)

    def test_paging(self):
        c = owner()
        ids = [upload(c, f"file {i}".encode(), name=f"f{i}").json()["id"] for i in range(5)]
        seen, cursor = [], None
        while True:
            page = c.get("/api/files?limit=2" + (f"&cursor={cursor}" if cursor else "")).json()
            seen += [i["id"] for i in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        self.assertEqual(seen, list(reversed(ids)))  # newest first

    def test_per_file_limit_is_413(self):
        c = owner()
        r = upload(c, b"\0" * (MAX_FILE + 1), expect=413)
        self.assertEqual(r.json()["error"]["code"], "body_too_large")
        self.assertEqual(contents_of(c.me["org_id"]), [])
        self.assertEqual(temps(), [])
        self.assertEqual(int(sql(f"SELECT count(*) FROM glyphic.files WHERE org_id = '{c.me['org_id']}'")), 0)

    def test_quota_exceeded_is_507_and_nothing_written(self):
        c = owner()
        org = c.me["org_id"]
        upload(c, os.urandom(40 * MIB))
        before = (contents_of(org), temps(), sql(f"SELECT count(*) FROM glyphic.files WHERE org_id = '{org}'"))
        r = upload(c, os.urandom(30 * MIB), expect=507)
        err = r.json()["error"]
        self.assertEqual(err["code"], "quota_exceeded")
        self.assertIn("quota", err["message"])
        self.assertIn(str(QUOTA), err["message"])
        after = (contents_of(org), temps(), sql(f"SELECT count(*) FROM glyphic.files WHERE org_id = '{org}'"))
        self.assertEqual(before, after)
        # two at once, each fitting alone, not both: the org's lock
        results = []

        def one():
            results.append(upload(c, os.urandom(20 * MIB), expect=None).status)
        threads = [threading.Thread(target=one) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(sorted(results), [201, 507])
        self.assertEqual(int(sql(f"SELECT count(*) FROM glyphic.files WHERE org_id = '{org}'")), 2)
        self.assertEqual(len(contents_of(org)), 2)
        self.assertEqual(temps(), [])
        self.assertLessEqual(c.get("/api/usage").json()["files"]["bytes"], QUOTA)
        # a content the org already stores costs nothing
        # (and other orgs have quotas of their own)
        self.assertEqual(upload(owner(), b"x" * MIB).status, 201)

    def test_50mb_upload_worker_rss(self):
        c = owner()
        data = os.urandom(50 * MIB)
        r, base, peak = harness.with_peak_rss(ENV.fcgi.workers(), lambda: upload(c, data, name="big.bin"))
        f = r.json()
        self.assertEqual(f["sha256"], hashlib.sha256(data).hexdigest())
        growth = harness.rss_growth(base, peak)
        self.assertLess(growth, 8 * 1024, f"a worker's RSS grew by {growth} KiB")
        print(f"\n50 MB upload: worker RSS grew by {growth} KiB", end=" ")
        d = c.get(f"/api/files/{f['id']}/content")
        self.assertEqual(hashlib.sha256(d.body).hexdigest(), f["sha256"])

    def test_sigkill_in_the_middle_of_an_upload(self):
        c = owner()
        org = c.me["org_id"]
        total = 4 * MIB
        # straight to glyphic-fcgi's socket: nginx would buffer the whole
        # body before a worker sees a byte
        sock = fcgi_begin(ENV.fcgi.socket, {
            "REQUEST_METHOD": "POST", "REQUEST_URI": "/api/files?name=half.bin", "DOCUMENT_URI": "/api/files",
            "CONTENT_TYPE": "application/octet-stream", "CONTENT_LENGTH": str(total),
            "HTTP_COOKIE": f"glyphic_session={c.cookie}", "HTTP_X_CSRF_TOKEN": c.csrf,
            "REMOTE_ADDR": "127.0.0.1",
        })
        try:
            fcgi_stdin(sock, os.urandom(total // 2))
            tmp = kill_worker_holding(ENV, temps)
        finally:
            sock.close()
        # no final name, no row; the temporary file is left for gc
        self.assertEqual(contents_of(org), [])
        self.assertEqual(int(sql(f"SELECT count(*) FROM glyphic.files WHERE org_id = '{org}'")), 0)
        self.assertEqual(temps(), [tmp])
        self.assertIn("removed 0 unfinished upload(s)", gc())  # younger than files.temp_hours
        old = time.time() - 25 * 3600
        os.utime(tmp, (old, old))
        out = gc()
        self.assertIn("removed 1 unfinished upload(s)", out)
        self.assertEqual(temps(), [])
        # the master replaced the worker; uploads go on
        harness.wait_for(lambda: len(ENV.fcgi.workers()) >= ENV.fcgi.total(), what="a new worker")
        self.assertEqual(upload(c, b"after").status, 201)


def proc_state(pid):
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def open_by(pid, path):
    for fd in glob.glob(f"/proc/{pid}/fd/*"):
        try:
            if os.readlink(fd) == path:
                return True
        except OSError:
            pass
    return False


def kill_worker_holding(env, temps):
    """SIGKILLs the glyphic-fcgi worker of env that holds one of temps()'s
    files open (a body it is receiving, written so far); returns the file."""
    holder = None
    deadline = time.time() + 10
    while holder is None and time.time() < deadline:
        for t in temps():
            for p in env.fcgi.workers():
                if open_by(p, t):
                    holder = (p, t)
        time.sleep(0.02)
    assert holder is not None, "no worker holds a temporary file"
    pid, tmp = holder
    assert os.path.getsize(tmp) > 0, tmp
    os.kill(pid, signal.SIGKILL)
    harness.wait_for(lambda: not os.path.exists(f"/proc/{pid}") or proc_state(pid) == "Z", what="the killed worker")
    return tmp


# A minimal FastCGI client: begin a request, send its parameters, then the
# body in pieces.
def fcgi_record(kind, content, req_id=1):
    return struct.pack(">BBHHBB", 1, kind, req_id, len(content), 0, 0) + content


def fcgi_pair(k, v):
    k, v = k.encode(), v.encode()

    def ln(n):
        return bytes([n]) if n < 128 else struct.pack(">I", n | 0x80000000)
    return ln(len(k)) + ln(len(v)) + k + v


def fcgi_begin(path, params):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.sendall(fcgi_record(1, struct.pack(">HB5x", 1, 0)))  # BEGIN_REQUEST, responder
    body = b"".join(fcgi_pair(k, v) for k, v in params.items())
    s.sendall(fcgi_record(4, body) + fcgi_record(4, b""))  # PARAMS
    return s


def fcgi_stdin(s, data):
    for i in range(0, len(data), 65535):
        s.sendall(fcgi_record(5, data[i:i + 65535]))


if __name__ == "__main__":
    unittest.main()
