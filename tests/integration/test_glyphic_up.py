"""The README's run command: scripts/glyphic-up brings up a private cluster,
glyphic-fcgi and nginx, serves /api/health, stops cleanly, and reuses its
state on the next start."""
import http.client
import os
import shutil
import subprocess
import tempfile
import unittest

import harness

UP = os.path.join(harness.SRC, "scripts", "glyphic-up")


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

    def health(self):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            c.request("GET", "/api/health")
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()

    def test_start_stop_restart(self):
        r = self.up("--detach", "--port", str(self.port))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn(f"http://127.0.0.1:{self.port}/", r.stdout)
        self.assertIn("creating the PostgreSQL cluster", r.stdout)
        status, body = self.health()
        self.assertEqual(status, 200, body)
        self.assertIn(b'"status":"ok"', body)

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

    def test_bad_arguments(self):
        r = self.up("--port", "eighty")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--port", r.stderr)
        r = self.up("--frobnicate")
        self.assertEqual(r.returncode, 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
