"""Claims fit the work: slow jobs spread over idle workers instead of
queueing behind one that claimed a whole batch — one job at a time per
worker (executor.concurrency 1), and with runner threads, where a worker
takes no more than it runs at once."""
import os
import time
import unittest

import faultlib as fl

E = None


def setUpModule():
    global E
    E = fl.env(**{"executor.batch": "100"})


def tearDownModule():
    E.close()


def start(concurrency):
    os.environ["GLYPHIC_EXECUTOR_CONCURRENCY"] = str(concurrency)
    try:
        return fl.start(E, "--workers", "1")
    finally:
        del os.environ["GLYPHIC_EXECUTOR_CONCURRENCY"]


class ClaimTest(unittest.TestCase):
    def run_ten(self, concurrency):
        """Ten jobs of 2 s on two idle executors of one worker each: the
        elapsed time and how many each ran."""
        fl.sql(E, "TRUNCATE public.glyphic_test_runs; DELETE FROM glyphic.jobs")
        exs = [start(concurrency) for _ in range(2)]
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
        print(f"\n10 jobs of 2 s on two executors of one worker each, {concurrency} at once: {elapsed:.1f} s, "
              f"shares {shares}", flush=True)
        self.assertEqual(sum(shares), 10)
        self.assertEqual(len(shares), 2)
        return shares

    def test_slow_jobs_spread_over_idle_executors(self):
        shares = self.run_ten(1)
        self.assertGreaterEqual(shares[0], 4)  # not all on the worker that claimed first

    def test_a_worker_with_runners_claims_what_it_runs_at_once(self):
        # eight at once: the first worker takes eight (all running), the
        # other the two left — none waits behind a busy runner
        shares = self.run_ten(8)
        self.assertLessEqual(shares[1], 8)
        self.assertGreaterEqual(shares[0], 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
