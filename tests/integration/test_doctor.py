"""`glyphic doctor` (issue 17, item 6): on a healthy installation every
check passes (exit 0); each way an installation goes wrong makes its own
check fail with a fix (exit 1): a key file others can read, db.url logging
in as a superuser, the database down, a table's row level security not
forced, a job due for minutes with no executor, a socket nginx's account
cannot open. Real PostgreSQL, glyphic-fcgi, glyphic-events and an
executor, started here."""
import os
import re
import signal
import subprocess
import time
import unittest

import harness

ENV = None
GLYPHIC = os.path.join(harness.BUILD, "cli", "glyphic")
EXECUTOR = os.path.join(harness.BUILD, "executor", "glyphic-executor")


def setUpModule():
    global ENV
    ENV = harness.Env(workers=2, fcgi_extra={"executor.poll_ms": "200", "executor.workers": "1"})
    ENV.start_all()
    ENV.fcgi.write_conf()


def tearDownModule():
    ENV.close()


def sql(q):
    return ENV.pg.psql(q, user="postgres").strip()


def doctor(*args, conf=None, changes=None):
    """Runs glyphic doctor on ENV's configuration with changes (key: value,
    None drops the key); returns (exit status, {check: (tag, line)}, output)."""
    path = conf or ENV.fcgi.conf
    if changes:
        with open(ENV.fcgi.conf) as fh:
            lines = [line for line in fh if line.split("=", 1)[0].strip() not in changes]
        path = os.path.join(ENV.base, "doctor.conf")
        with open(path, "w") as fh:
            fh.writelines(lines)
            for k, v in changes.items():
                if v is not None:
                    fh.write(f"{k} = {v}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLYPHIC_")}
    if "--nginx-conf" not in args:  # the test's nginx, not the machine's
        args = (*args, "--nginx-conf", os.path.join(ENV.nginx.dir, "nginx.conf"))
    r = subprocess.run([GLYPHIC, "-c", path, "doctor", *args], capture_output=True, text=True, env=env, timeout=60)
    checks = {}
    for line in r.stdout.splitlines():
        m = re.match(r"^(ok|warn|FAIL)\s+(\S.{0,19}?)\s{2,}(.*)$", line)
        if m:
            checks[m.group(2).strip()] = (m.group(1), m.group(3))
    return r.returncode, checks, r.stdout + r.stderr


class DoctorTest(unittest.TestCase):
    def test_a_healthy_installation_passes(self):
        # an executor that found the queue empty has waited for work
        ex = subprocess.Popen([EXECUTOR, "-c", ENV.fcgi.conf, "--daemon"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            harness.wait_for(lambda: sql("SELECT count(*) FROM glyphic.queue_waiters") != "0", what="a waiting executor")
            rc, checks, out = doctor("--nginx-user", "root")
        finally:
            os.killpg(ex.pid, signal.SIGTERM)
            ex.wait(30)
        self.assertEqual(rc, 0, out)
        for name in ("configuration", "credential key", "database (app)", "app role", "role layout", "schema",
                     "encoding", "row level security", "request context", "database (executor)", "executor", "database disk", "fcgi socket",
                     "events socket", "nginx"):
            self.assertEqual(checks.get(name, ("missing",))[0], "ok", f"{name}:\n{out}")
        self.assertIn("failed", out.splitlines()[-1])
        self.assertRegex(checks["row level security"][1], r"forced on all \d+ tables")
        self.assertRegex(checks["role layout"][1], r"^three roles")
        self.assertEqual(checks["request context"][1], "in memory (glyphic_context.so)")
        # the test's superuser sees the cluster's data directory
        self.assertRegex(checks["database disk"][1], r"^\d+ MiB; PostgreSQL's disk: [\d.]+ GiB free")
        if harness.IS_ROOT:
            self.assertIn("passes nginx -t and passes requests to fcgi.socket", checks["nginx"][1])

    @unittest.skipUnless(harness.IS_ROOT, "nginx -t needs root")
    def test_nginx_broken_or_without_glyphic(self):
        bad = os.path.join(ENV.base, "nginx-bad.conf")
        with open(os.path.join(ENV.nginx.dir, "nginx.conf")) as fh:
            text = fh.read()
        with open(bad, "w") as fh:
            fh.write(text.replace("events {", "events { no_such_directive on;", 1))
        rc, checks, out = doctor("--nginx-user", "root", "--nginx-conf", bad)
        self.assertEqual(rc, 1, out)
        self.assertEqual(checks["nginx"][0], "FAIL", out)
        self.assertIn("no_such_directive", checks["nginx"][1])
        other = os.path.join(ENV.base, "nginx-other.conf")
        with open(other, "w") as fh:
            fh.write(f"pid {ENV.base}/other.pid; error_log {ENV.base}/other-error.log;\n"
                     "events { worker_connections 16; }\n"
                     "http { access_log off; server { listen 127.0.0.1:1; location / { return 204; } } }\n")
        rc, checks, out = doctor("--nginx-user", "root", "--nginx-conf", other)
        self.assertEqual(rc, 1, out)
        self.assertIn("nothing in it passes requests to unix:" + ENV.fcgi.socket, checks["nginx"][1])

    def test_key_file_others_can_read(self):
        key = os.path.join(ENV.base, "loose.key")
        with open(ENV.fcgi.settings["secrets.key_file"]) as src, open(key, "w") as dst:
            dst.write(src.read())
        os.chmod(key, 0o644)
        rc, checks, out = doctor(changes={"secrets.key_file": key})
        self.assertEqual(rc, 1, out)
        self.assertEqual(checks["credential key"][0], "FAIL", out)
        self.assertIn("chmod 600", checks["credential key"][1])
        self.assertIn("fix:", out)

    def test_app_role_that_bypasses_rls(self):
        rc, checks, out = doctor(changes={"db.url": ENV.pg.conninfo("postgres")})
        self.assertEqual(rc, 1, out)
        self.assertEqual(checks["app role"][0], "FAIL", out)
        self.assertIn("superuser", checks["app role"][1])

    def test_database_down(self):
        rc, checks, out = doctor(changes={"db.url": f"host={ENV.pg.sock} port=1 dbname=glyphic user=glyphic_app",
                                          "db.connect_timeout": "2"})
        self.assertEqual(rc, 1, out)
        self.assertEqual(checks["database (app)"][0], "FAIL", out)
        self.assertNotIn("app role", checks)

    def test_rls_not_forced(self):
        sql("ALTER TABLE glyphic.variables NO FORCE ROW LEVEL SECURITY")
        try:
            rc, checks, out = doctor("--nginx-user", "root")
        finally:
            sql("ALTER TABLE glyphic.variables FORCE ROW LEVEL SECURITY")
        self.assertEqual(rc, 1, out)
        self.assertEqual(checks["row level security"][0], "FAIL", out)
        self.assertIn("variables", checks["row level security"][1])

    def test_late_job_and_no_executor(self):
        sql("INSERT INTO glyphic.jobs (kind, run_at) VALUES ('test.doctor', now() - interval '5 minutes')")
        try:
            rc, checks, out = doctor("--nginx-user", "root")
        finally:
            sql("DELETE FROM glyphic.jobs WHERE kind = 'test.doctor'")
        self.assertEqual(rc, 1, out)
        self.assertEqual(checks["executor"][0], "FAIL", out)
        self.assertIn("due for more than two minutes", checks["executor"][1])
        self.assertIn("glyphic-executor", out)

    def test_socket_nginx_cannot_open(self):
        os.chmod(ENV.fcgi.socket, 0o660)  # (the harness's is 0666) root's group only: not for nobody
        try:
            rc, checks, out = doctor("--nginx-user", "nobody")
        finally:
            os.chmod(ENV.fcgi.socket, 0o666)
        self.assertEqual(rc, 1, out)
        self.assertEqual(checks["fcgi socket"][0], "FAIL", out)
        self.assertIn("nobody cannot connect", checks["fcgi socket"][1])

    def test_usage(self):
        rc, _, out = doctor("--bogus")
        self.assertEqual(rc, 2)
        self.assertIn("usage: glyphic doctor", out)


if __name__ == "__main__":
    unittest.main()
