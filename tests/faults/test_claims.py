"""Claims fit the work: slow jobs spread over idle workers instead of
queueing behind one that claimed a whole batch."""
import time
import unittest

import faultlib as fl

E = None


def setUpModule():
    global E
    E = fl.env(**{"executor.batch": "100"})


def tearDownModule():
    E.close()


class ClaimTest(unittest.TestCase):
    def test_slow_jobs_spread_over_idle_executors(self):
        fl.sql(E, "TRUNCATE public.glyphic_test_runs; DELETE FROM glyphic.jobs")
        exs = [fl.start(E, "--workers", "1") for _ in range(2)]
        try:
            # both idle and waiting for the doorbell
            fl.wait_for(lambda: fl.sql(E, "SELECT count(*) FROM glyphic.queue_waiters") == "2", what="two waiters")
            t0 = time.monotonic()
            fl.sql(E, "SELECT glyphic.enqueue_bulk('test.record', array_fill('{\"sleep_ms\": 2000}'::jsonb, ARRAY[10]))")
            fl.wait_for(lambda: fl.sql(E, "SELECT count(*) FROM glyphic.jobs") == "0", timeout=60, what="the jobs")
            elapsed = time.monotonic() - t0
        finally:
            for p in exs:
                fl.stop(p)
        shares = sorted(int(v) for v in fl.sql(E, "SELECT count(*) FROM public.glyphic_test_runs GROUP BY owner").split())
        print(f"\n10 jobs of 2 s on two executors of one worker each: {elapsed:.1f} s, shares {shares} "
              f"(one worker alone: 20 s)", flush=True)
        self.assertEqual(sum(shares), 10)
        self.assertEqual(len(shares), 2)
        self.assertGreaterEqual(shares[0], 4)  # not all on the worker that claimed first


if __name__ == "__main__":
    unittest.main(verbosity=2)
