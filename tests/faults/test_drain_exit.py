"""glyphic-executor --drain tells cron whether it reached the database: a
run that never could, or that ended with the database gone, exits 1 with a
message; one that did its work exits 0."""
import os
import subprocess
import time
import unittest

import faultlib as fl

E = None


def setUpModule():
    global E
    E = fl.env()


def tearDownModule():
    E.close()


def drain(*args, env=None, timeout=60):
    return subprocess.run([fl.EXECUTOR, "-c", E.fcgi.conf, "--drain", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


class DrainExitTest(unittest.TestCase):
    def test_unreachable_database_exits_1_with_a_message(self):
        bad = dict(os.environ, GLYPHIC_DB_EXECUTOR_URL=f"host={E.base}/nowhere port=1 dbname=glyphic "
                                                       f"user=glyphic_executor")
        t0 = time.monotonic()
        r = drain("--workers", "2", "--max-seconds", "4", env=bad)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("database", r.stderr)
        self.assertIn("unreachable", r.stderr)
        self.assertLess(time.monotonic() - t0, 30)

    def test_database_gone_at_the_end_exits_1(self):
        fl.sql(E, "SELECT glyphic.enqueue_bulk('test.sleep', array_fill('{\"ms\": 300}'::jsonb, ARRAY[100]))")
        p = subprocess.Popen([fl.EXECUTOR, "-c", E.fcgi.conf, "--drain", "--workers", "1", "--max-seconds", "5",
                              "--linger", "30"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            time.sleep(1.5)
            E.pg.stop()
            _, err = p.communicate(timeout=60)
        finally:
            E.pg.start()
        self.assertEqual(p.returncode, 1, err)
        self.assertIn("unreachable", err)

    def test_a_good_run_exits_0(self):
        fl.sql(E, "DELETE FROM glyphic.jobs")
        fl.sql(E, "SELECT glyphic.enqueue_bulk('test.noop', array_fill('{}'::jsonb, ARRAY[10]))")
        r = drain("--workers", "1", "--linger", "1")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(fl.sql(E, "SELECT count(*) FROM glyphic.jobs"), "0")


if __name__ == "__main__":
    unittest.main(verbosity=2)
