"""The Debian package (issue 17): scripts/package builds glyphic_<v>_<arch>.deb
and lintian reports no error; dpkg -i installs it beside Debian's nginx and
PostgreSQL (the system user, /var/lib/glyphic, the credential key, the
conffiles); the installed programs, run as the user glyphic with the
package's paths (/run/glyphic sockets, /var/lib/glyphic/files) against a
PostgreSQL cluster of the test's own, answer a webhook workflow and a
queued run through an nginx that includes the package's snippets as its
worker user www-data, which serves GET /metrics that promtool accepts, and
`glyphic doctor` finds nothing wrong; dpkg --purge leaves nothing running
and nothing of its state.

It installs into the system, so it runs as root only (CI is root); where
systemd is not PID 1 it starts the units' command lines itself."""
import glob
import json
import os
import pwd
import shutil
import signal
import stat
import subprocess
import tempfile
import time
import types
import unittest
import uuid

import harness

BASE = None
DEB = None
PG = None
PROCS = []
NGINX = None


def sh(*args, check=True, **kw):
    r = subprocess.run(list(args), capture_output=True, text=True, timeout=600, **kw)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({r.returncode}): {r.stdout[-2000:]} {r.stderr[-2000:]}")
    return r


def setUpModule():
    global BASE, DEB
    if not harness.IS_ROOT or not shutil.which("dpkg"):
        raise unittest.SkipTest("installs a Debian package: root on a Debian system only")
    if subprocess.run(["dpkg-query", "-W", "glyphic"], capture_output=True).returncode == 0:
        raise unittest.SkipTest("a glyphic package is installed already: not touching it")
    BASE = tempfile.mkdtemp(prefix="glyphic-package-")
    os.chmod(BASE, 0o711)  # the user glyphic reaches PostgreSQL's socket below it
    out = sh(os.path.join(harness.SRC, "scripts", "package"), "--out", BASE, "--lintian").stdout
    DEB = out.strip().splitlines()[-1]
    sh("dpkg", "-i", DEB)


def tearDownModule():
    stop_stack()
    if PG:
        PG.stop()
    if subprocess.run(["dpkg-query", "-W", "glyphic"], capture_output=True).returncode == 0:
        subprocess.run(["dpkg", "--purge", "glyphic"], capture_output=True)
    if BASE:
        shutil.rmtree(BASE, ignore_errors=True)


def stop_stack():
    global NGINX
    if NGINX:
        subprocess.run(["nginx", "-p", BASE, "-c", os.path.join(BASE, "nginx.conf"), "-s", "stop"],
                       capture_output=True)
        NGINX = None
    for p in PROCS:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)  # runuser and the program under it
    for p in PROCS:
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
    PROCS.clear()
    shutil.rmtree("/run/glyphic", ignore_errors=True)


def as_glyphic(*argv, log):
    """A program of the package as the units run it (User=glyphic)."""
    with open(os.path.join(BASE, log), "w") as err:
        return subprocess.Popen(["runuser", "-u", "glyphic", "--", *argv], stdout=subprocess.DEVNULL, stderr=err,
                                start_new_session=True)


class PackageTest(unittest.TestCase):
    def test_a_package_metadata(self):
        info = sh("dpkg-deb", "-f", DEB, "Package", "Version", "Depends", "Recommends").stdout
        self.assertIn("Package: glyphic", info)
        for lib in ("libfcgi0ldbl", "libpq5", "libjson-c5", "libcurl4", "libsodium23", "libscrypt0"):
            self.assertIn(lib, info)
        self.assertIn("nginx | nginx-light", info)
        self.assertRegex(os.path.basename(DEB), r"^glyphic_\d+\.\d+\.\d+_[a-z0-9]+\.deb$")

    def test_b_installed_layout(self):
        u = pwd.getpwnam("glyphic")
        self.assertLess(u.pw_uid, 1000)  # a system user
        for path, mode, owner in (("/var/lib/glyphic", 0o750, "glyphic"), ("/var/lib/glyphic/files", 0o750, "glyphic"),
                                  ("/etc/glyphic/secret.key", 0o600, "glyphic"),
                                  ("/etc/glyphic/glyphic.conf", 0o640, "root")):
            st = os.stat(path)
            self.assertEqual((stat.S_IMODE(st.st_mode), pwd.getpwuid(st.st_uid).pw_name), (mode, owner), path)
        conffiles = sh("dpkg-query", "-W", "-f", "${Conffiles}", "glyphic").stdout
        for f in ("/etc/glyphic/glyphic.conf", "/etc/nginx/snippets/glyphic/glyphic-server.conf",
                  "/etc/logrotate.d/glyphic"):
            self.assertIn(f, conffiles)
        for prog in ("glyphic-fcgi", "glyphic-events", "glyphic-executor", "glyphic"):
            self.assertRegex(sh(f"/usr/bin/{prog}", "--version").stdout, rf"^{prog} \d")
            self.assertTrue(os.path.exists(f"/usr/share/man/man1/{prog}.1.gz"))
        for unit in ("glyphic-fcgi.socket", "glyphic-fcgi.service", "glyphic-executor.service",
                     "glyphic-drain.timer"):
            with open(f"/usr/lib/systemd/system/{unit}") as fh:
                text = fh.read()
            if "ExecStart=" in text:
                self.assertIn("ExecStart=/usr/bin/", text)
                self.assertIn("-c /etc/glyphic/glyphic.conf", text)
        # www-data reads the store and the sockets through the group
        self.assertIn("glyphic", sh("id", "-nG", "www-data").stdout.split())

    def test_c_smoke_through_the_package_nginx(self):
        global PG, NGINX
        PG = harness.Postgres(BASE)
        PG.init()
        PG.start()
        PG.createdb()
        os.chmod(PG.sock, 0o755)
        conf = os.path.join(BASE, "glyphic.conf")
        with open(conf, "w") as fh:
            fh.write(f"db.url = {PG.conninfo('glyphic_app')}\n"
                     f"db.executor_url = {PG.conninfo('glyphic_executor')}\n"
                     f"db.admin_url = {PG.conninfo('postgres')}\n"
                     "auth.cookie_secure = false\n"
                     "executor.poll_ms = 200\n"
                     "executor.workers = 1\n"
                     "fcgi.workers = 2\n")
        os.chmod(conf, 0o644)
        sh("/usr/bin/glyphic", "-c", conf, "migrate")
        os.makedirs("/run/glyphic", exist_ok=True)
        shutil.chown("/run/glyphic", "glyphic", "glyphic")
        PROCS.append(as_glyphic("/usr/bin/glyphic-fcgi", "-c", conf, log="fcgi.stderr"))
        PROCS.append(as_glyphic("/usr/bin/glyphic-events", "-c", conf, log="events.stderr"))
        PROCS.append(as_glyphic("/usr/bin/glyphic-executor", "-c", conf, "--daemon", log="executor.stderr"))
        harness.wait_for(lambda: os.path.exists("/run/glyphic/fcgi.sock") and os.path.exists("/run/glyphic/events.sock"),
                         timeout=20, what="the package's sockets")
        port = harness.free_port()
        tmp = os.path.join(BASE, "nginx-tmp")
        os.makedirs(tmp)
        shutil.chown(tmp, "www-data")
        with open(os.path.join(BASE, "nginx.conf"), "w") as fh:
            fh.write(f"user www-data;\npid {BASE}/nginx.pid;\nerror_log {BASE}/nginx-error.log;\n"
                     "events { worker_connections 256; }\n"
                     f"http {{\n  client_body_temp_path {tmp}/body; fastcgi_temp_path {tmp}/fastcgi;\n"
                     f"  proxy_temp_path {tmp}/proxy; uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;\n"
                     f"  access_log off;\n"
                     "  include /etc/nginx/snippets/glyphic/glyphic-http.conf;\n"
                     f"  server {{ listen 127.0.0.1:{port}; include /etc/nginx/snippets/glyphic/glyphic-server.conf; }}\n"
                     "}\n")
        sh("nginx", "-t", "-p", BASE, "-c", os.path.join(BASE, "nginx.conf"))
        sh("nginx", "-p", BASE, "-c", os.path.join(BASE, "nginx.conf"))
        NGINX = True
        stack = types.SimpleNamespace(nginx=types.SimpleNamespace(port=port))
        stack.request = types.MethodType(harness.Env.request, stack)
        harness.wait_for(lambda: stack.request("GET", "/api/health").status == 200, timeout=20,
                         what="the API through nginx")
        # the editor from /usr/share/glyphic/web
        r = stack.request("GET", "/")
        self.assertEqual(r.status, 200)
        self.assertIn(b"<html", r.body.lower())
        c = harness.Client(stack)
        r = c.post("/api/auth/signup", {"email": f"pkg-{uuid.uuid4().hex[:6]}@example.com",
                                        "password": "correct horse battery", "name": "Packager"})
        self.assertEqual(r.status, 201, r)
        path = "pkg-" + uuid.uuid4().hex[:8]
        d = {"nodes": [{"id": "h", "type": "trigger.webhook", "name": "Hook", "params": {"path": path, "mode": "sync"}},
                       {"id": "s", "type": "data.set", "name": "Set", "params": {"fields": {"sum": "{{ $json.body.a + 2 }}"}}},
                       {"id": "r", "type": "flow.respond", "name": "Respond", "params": {"body": {"sum": "{{ $json.sum }}"}}}],
             "edges": [{"from": "h", "to": "s"}, {"from": "s", "to": "r"}]}
        r = c.post("/api/workflows", {"name": "Package smoke", "definition": d})
        self.assertEqual(r.status, 201, r)
        wid = r.json()["id"]
        self.assertEqual(c.post(f"/api/workflows/{wid}/activate").status, 200)
        r = stack.request("POST", f"/hooks/{path}", body={"a": 40})
        self.assertEqual((r.status, r.json()), (200, {"sum": 42}), r)
        # a queued run, finished by the package's executor
        r = c.post(f"/api/workflows/{wid}/run", {"input": [{"body": {"a": 1}}]})
        self.assertEqual(r.status, 202, r)
        eid = r.json()["id"]
        end = time.time() + 30
        while time.time() < end and c.get(f"/api/executions/{eid}").json()["status"] != "succeeded":
            time.sleep(0.2)
        self.assertEqual(c.get(f"/api/executions/{eid}").json()["output"], [{"body": {"a": 1}, "sum": 3}])
        # a file goes to the package's store, readable by nginx through the group
        r = c.post("/api/files?name=a.txt", body=b"hello", headers={"Content-Type": "text/plain"})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(c.get(f"/api/files/{r.json()['id']}/content").body, b"hello")
        self.assertTrue(glob.glob("/var/lib/glyphic/files/*/??/*"))
        # GET /metrics through the package's nginx snippet (loopback may
        # scrape), the executor's counts in it, and Prometheus' own check
        promtool = shutil.which("promtool")
        self.assertIsNotNone(promtool, "promtool is missing: Debian's prometheus package (scripts/install-deps)")
        scraped = {}

        def counted():
            r = stack.request("GET", "/metrics")
            scraped["r"] = r
            return r.status == 200 and (b'glyphic_executor_executions_finished_total{status="succeeded",'
                                        b'trigger="manual"} 1\n') in r.body
        harness.wait_for(counted, timeout=30, what="the executor's counts in /metrics")
        r = scraped["r"]
        self.assertIn("text/plain; version=0.0.4", r.header("Content-Type"))
        self.assertIn(b'glyphic_http_requests_total{route="/hooks/{path}",method="POST",status="200"} 1\n', r.body)
        p = sh(promtool, "check", "metrics", input=r.body.decode(), check=False)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        # and the operator's check of the whole installation
        p = sh("/usr/bin/glyphic", "-c", conf, "doctor", "--nginx-conf", os.path.join(BASE, "nginx.conf"), check=False)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_z_purge_leaves_nothing(self):
        stop_stack()
        sh("dpkg", "--purge", "glyphic")
        self.assertNotEqual(subprocess.run(["dpkg-query", "-W", "glyphic"], capture_output=True).returncode, 0)
        running = subprocess.run(["pgrep", "-u", "glyphic"], capture_output=True, text=True).stdout.split()
        self.assertEqual(running, [], "processes of the user glyphic are still running")
        self.assertEqual(subprocess.run(["pgrep", "-f", "/usr/bin/glyphic"], capture_output=True).stdout, b"")
        for path in ("/var/lib/glyphic", "/etc/glyphic", "/etc/nginx/snippets/glyphic", "/usr/bin/glyphic-fcgi",
                     "/usr/lib/systemd/system/glyphic-fcgi.service", "/usr/share/glyphic"):
            self.assertFalse(os.path.exists(path), path)


if __name__ == "__main__":
    unittest.main()
