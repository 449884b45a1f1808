"""The README's run command: scripts/glyphic-up brings up a private cluster,
glyphic-fcgi and nginx, serves /api/health, stops cleanly, and reuses its
state on the next start. Run as root (as CI does), the programs run as the
unprivileged account `glyphic`, logs are mode 0640, and a var/ the account
cannot reach moves to /var/lib/glyphic/."""
import glob
import hashlib
import http.client
import os
import pwd
import re
import shutil
import stat
import subprocess
import tempfile
import unittest

import harness

UP = os.path.join(harness.SRC, "scripts", "glyphic-up")
ACCOUNT = "glyphic"


def uids(pid):
    """The real, effective, saved and filesystem uids of a process."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Uid:"):
                return [int(x) for x in line.split()[1:]]
    raise AssertionError(f"no Uid line for {pid}")


def descendants(pid):
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        for d in os.listdir("/proc"):
            try:
                with open(f"/proc/{d}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == parent:
                        found.append(int(d))
                        todo.append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    return found


def argv0(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().split(b"\0")[0].decode(errors="replace")
    except OSError:
        return ""


def pid_in(path):
    with open(path) as f:
        return int(f.read().split()[0])


def check_unprivileged(test, var):
    """As root: glyphic-fcgi (master and workers), glyphic-events,
    glyphic-executor (and its workers) and nginx's workers run as the
    account; nginx's master stays root; logs are 0640; the configuration is
    root:glyphic 0640; the account's database login is not a superuser."""
    acct = pwd.getpwnam(ACCOUNT)
    test.assertNotEqual(acct.pw_uid, 0)
    run = os.path.join(var, "run")
    for name in ("glyphic-fcgi", "glyphic-events", "glyphic-executor"):
        pid = pid_in(os.path.join(run, name + ".pid"))
        # (the pid file is written at the fork; the executor has no ready
        # file to wait for: wait for the program itself)
        harness.wait_for(lambda: os.path.basename(argv0(pid)) == name, 10, f"{name} to run")
        procs = [pid] + descendants(pid)
        if name == "glyphic-fcgi":
            test.assertGreaterEqual(len(procs), 2, "glyphic-fcgi has no workers")
        for p in procs:
            test.assertEqual(uids(p), [acct.pw_uid] * 4, f"{name} process {p}")
    master = pid_in(os.path.join(var, "nginx", "run", "nginx.pid"))
    test.assertEqual(uids(master)[0], 0)
    # (workers switch user before they name themselves)
    harness.wait_for(lambda: any(argv0(c) == "nginx: worker process" for c in descendants(master)), 10,
                     "nginx's workers")
    workers = [c for c in descendants(master) if argv0(c) == "nginx: worker process"]
    for p in workers:
        test.assertEqual(uids(p), [acct.pw_uid] * 4, f"nginx worker {p}")

    logs = [f for f in glob.glob(os.path.join(var, "log", "*")) if os.path.isfile(f)]
    for name in ("glyphic-fcgi.log", "supervisor.log", "nginx-error.log", "nginx-access.log",
                 "glyphic-fcgi.stderr", "glyphic-events.stderr", "glyphic-executor.stderr"):
        test.assertIn(os.path.join(var, "log", name), logs)
    for f in logs:
        st = os.stat(f)
        test.assertEqual(stat.S_IMODE(st.st_mode), 0o640, f)
        if not f.endswith(("supervisor.log", "initdb.log")):
            test.assertEqual(st.st_uid, acct.pw_uid, f)
    st = os.stat(os.path.join(var, "glyphic.conf"))
    test.assertEqual((stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid), (0o640, 0, acct.pw_gid))
    test.assertEqual(os.stat(os.path.join(var, "sock", "fcgi.sock")).st_uid, acct.pw_uid)
    # the file store: written by the account, served by nginx from files.dir
    st = os.stat(os.path.join(var, "files"))
    test.assertEqual((stat.S_IMODE(st.st_mode), st.st_uid), (0o750, acct.pw_uid))
    with open(os.path.join(var, "nginx", "glyphic-server.conf")) as f:
        text = f.read()
    test.assertRegex(text, r"include /\S*/glyphic-files\.conf;")
    test.assertIn("client_max_body_size 268435456;", text)
    with open(os.path.join(var, "nginx", "glyphic-files.conf")) as f:
        test.assertRegex(f.read(), r"location /_glyphic/files/ \{\s*internal;\s*alias /\S*/files/;")

    # peer authentication: the account logs in as the app's role, never as
    # the superuser (whoever runs as it cannot step around row level security)
    sock = os.path.join(os.path.realpath(os.path.join(var, "pg")), "sock")
    psql = [os.path.join(harness.pg_bindir(), "psql"), "-X", "-A", "-t", "-h", sock, "-d", "glyphic"]

    def as_account(*args):
        return subprocess.run(["runuser", "-u", ACCOUNT, "--", *psql, *args], capture_output=True,
                              text=True, cwd="/", timeout=60)
    r = as_account("-U", "glyphic_app", "-c", "SELECT current_user")
    test.assertEqual(r.stdout.strip(), "glyphic_app", r.stderr)
    r = as_account("-U", "postgres", "-c", "SELECT 1")
    test.assertNotEqual(r.returncode, 0)
    test.assertIn("Peer authentication failed", r.stderr)


class GlyphicUpTest(unittest.TestCase):
    def setUp(self):
        self.var = tempfile.mkdtemp(prefix="glyphic-up-", dir="/tmp")
        os.chmod(self.var, 0o755)
        self.port = harness.free_port()
        self.env = dict(os.environ, GLYPHIC_VAR=os.path.join(self.var, "var"),
                        GLYPHIC_BUILD_DIR=harness.BUILD)

    def tearDown(self):
        self.up("stop")
        shutil.rmtree(self.var, ignore_errors=True)

    def up(self, *args):
        return subprocess.run([UP, "--no-install", *args], capture_output=True, text=True,
                              env=self.env, timeout=300)

    def health(self, path="/api/health"):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            c.request("GET", path)
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()

    def check_editor(self):
        """/ serves web/dist (scripts/build-web built it), and every file
        of it: as root, read by the account's nginx workers."""
        status, body = self.health("/")
        self.assertEqual(status, 200, body)
        self.assertIn(b"<title>Glyphic", body)
        for asset in re.findall(rb'(?:src|href)="(/assets/[^"]+)"', body):
            status, _ = self.health(asset.decode())
            self.assertEqual(status, 200, asset)

    def test_start_stop_restart(self):
        r = self.up("--detach", "--port", str(self.port))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn(f"http://127.0.0.1:{self.port}/", r.stdout)
        self.assertIn("creating the PostgreSQL cluster", r.stdout)
        status, body = self.health()
        self.assertEqual(status, 200, body)
        self.assertIn(b'"status":"ok"', body)
        self.check_editor()
        if os.geteuid() == 0:
            check_unprivileged(self, self.env["GLYPHIC_VAR"])

        again = self.up("--detach", "--port", str(self.port))
        self.assertEqual(again.returncode, 1)
        self.assertIn("already running", again.stderr)
        status = self.up("status")
        self.assertEqual(status.returncode, 0, status.stdout)
        self.assertIn("executor:     running", status.stdout)

        stop = self.up("stop")
        self.assertEqual(stop.returncode, 0, stop.stderr)
        self.assertIn("PostgreSQL stopped", stop.stdout)
        self.assertEqual(self.up("status").returncode, 1)
        with self.assertRaises(OSError):
            self.health()

        # second start reuses the cluster and the schema
        r = self.up("--detach", "--port", str(self.port))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertNotIn("creating the PostgreSQL cluster", r.stdout)
        self.assertIn("up to date", r.stdout)
        self.assertEqual(self.health()[0], 200)

    @unittest.skipUnless(os.geteuid() == 0, "as root only")
    def test_var_out_of_the_accounts_reach(self):
        # a tree under /root, say: the account cannot enter var/'s folder,
        # so var/ moves to /var/lib/glyphic/var-<id> and is a link to it
        base = tempfile.mkdtemp(prefix="glyphic-up-root-", dir="/tmp")  # mode 0700
        var = os.path.join(base, "var")
        vid = hashlib.sha1(var.encode()).hexdigest()[:12]
        moved = f"/var/lib/glyphic/var-{vid}"
        self.env["GLYPHIC_VAR"] = var
        try:
            r = self.up("--detach", "--port", str(self.port))
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn(f"it is a link to {moved} now", r.stdout)
            self.assertEqual(os.readlink(var), moved)
            self.assertEqual(self.health()[0], 200)
            check_unprivileged(self, moved)
            st = self.up("status")
            self.assertEqual(st.returncode, 0, st.stdout)
            self.assertIn(moved, st.stdout)
            stop = self.up("stop")
            self.assertEqual(stop.returncode, 0, stop.stderr)
            self.assertIn("PostgreSQL stopped", stop.stdout)
            # and it starts again from there
            r = self.up("--detach", "--port", str(self.port))
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertNotIn("link to", r.stdout)
            self.assertEqual(self.health()[0], 200)
        finally:
            self.up("stop")
            shutil.rmtree(base, ignore_errors=True)
            for d in glob.glob(f"/var/lib/glyphic/*-{vid}"):
                shutil.rmtree(d, ignore_errors=True)

    def test_bad_arguments(self):
        r = self.up("--port", "eighty")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--port", r.stderr)
        r = self.up("--frobnicate")
        self.assertEqual(r.returncode, 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
