"""Schedules under a long job: the maintainer is a process of its own, so a
firing is not held up by the job a worker runs, and a due time missed while
no executor ran fires once, late, saying when it was due. Retention keeps
the newest executions of each workflow: every workflow on the first pass
after an election, then the workflows with an execution finished since."""
import time
import unittest

import faultlib as fl

E = None


def setUpModule():
    global E
    E = fl.env()


def tearDownModule():
    E.close()


def schedule_workflow():
    a = fl.user(E)
    tick = {"id": "tick", "type": "trigger.schedule", "name": "Tick", "params": {"cron": "* * * * *", "timezone": "UTC"}}
    noop = {"id": "noop", "type": "flow.noop", "name": "Noop"}
    return fl.create(a, [tick, noop], fl.chain(tick, noop))


def firings(wid, since="-infinity"):
    """(due, seconds late) of the workflow's schedule firings due at or after since (due times are kept
    to the millisecond)."""
    out = fl.sql(E, f"SELECT input->0->>'scheduled_at', extract(epoch FROM created_at - "
                    f"(input->0->>'scheduled_at')::timestamptz) FROM glyphic.executions "
                    f"WHERE workflow_id = '{wid}' AND trigger = 'schedule' "
                    f"AND (input->0->>'scheduled_at')::timestamptz > '{since}'::timestamptz - interval '1 millisecond' "
                    f"ORDER BY 1")
    return [(a, float(b)) for a, b in (line.split("|") for line in out.splitlines() if line)]


class MaintainerTest(unittest.TestCase):
    def test_firing_is_on_time_while_the_only_worker_runs_a_long_job(self):
        wid = schedule_workflow()
        job = fl.sql(E, "SELECT glyphic.enqueue('test.sleep', '{\"ms\": 15000}', p_queue => 'default')")
        ex = fl.start(E, "--workers", "1")
        try:
            fl.wait_for(lambda: fl.sql(E, f"SELECT state FROM glyphic.jobs WHERE id = {job}") == "running",
                        what="the long job")
            fl.wait_for(lambda: fl.sql(E, f"SELECT next_run_at IS NOT NULL FROM glyphic.schedules "
                                          f"WHERE workflow_id = '{wid}'") == "t", what="next_run_at")
            # fake time: due in two seconds, while the job still has ten to go (a firing at the minute
            # the executor started may have come before: it is not the one measured)
            due = fl.sql(E, f"UPDATE glyphic.schedules SET next_run_at = now() + interval '2 seconds' "
                            f"WHERE workflow_id = '{wid}' RETURNING next_run_at")
            fl.wait_for(lambda: firings(wid, due), timeout=30, what="the firing")
            self.assertEqual(fl.sql(E, f"SELECT state FROM glyphic.jobs WHERE id = {job}"), "running")
        finally:
            fl.stop(ex)
        # the minute may turn after the faked firing: that next firing is on time, not measured
        (_, late) = firings(wid, due)[0]
        print(f"\nfiring lateness with the only worker in a 15 s job: {late:.2f} s", flush=True)
        self.assertLess(late, 5)

    def test_due_times_missed_while_no_executor_ran_each_fire_once(self):
        wid = schedule_workflow()
        ex = fl.start(E, "--workers", "1")
        fl.wait_for(lambda: fl.sql(E, f"SELECT next_run_at IS NOT NULL FROM glyphic.schedules "
                                      f"WHERE workflow_id = '{wid}'") == "t", what="next_run_at")
        fl.stop(ex)
        # the executor was away for three and a half minutes
        # the due times missed are counted from the time set here, not from a
        # later now(): the minute may turn between two statements
        start = fl.sql(E, f"UPDATE glyphic.schedules SET next_run_at = date_trunc('minute', now()) "
                          f"- interval '3 minutes' WHERE workflow_id = '{wid}' RETURNING next_run_at")
        expect = fl.sql(E, "SELECT string_agg(to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), ' ' "
                           f"ORDER BY t) FROM generate_series('{start}'::timestamptz, '{start}'::timestamptz "
                           "+ interval '3 minutes', interval '1 minute') t").split()
        job = fl.sql(E, "SELECT glyphic.enqueue('test.sleep', '{\"ms\": 20000}')")
        ex = fl.start(E, "--workers", "1")
        try:
            fl.wait_for(lambda: len(firings(wid)) >= len(expect), timeout=30, what="the missed firings")
            time.sleep(2)  # and no more
            # they fired while the only worker ran the job
            self.assertEqual(fl.sql(E, f"SELECT state FROM glyphic.jobs WHERE id = {job}"), "running")
        finally:
            fl.stop(ex)
        got = [due for due, _ in firings(wid)]
        # the minute may have turned meanwhile: that firing is on time, not missed
        self.assertEqual(got[:len(expect)], expect)
        self.assertLessEqual(len(got) - len(expect), 1)
        self.assertEqual(len(set(got)), len(got))


class RetentionTest(unittest.TestCase):
    def test_keep_per_workflow_full_then_incremental(self):
        a = fl.user(E)
        manual = {"id": "start", "type": "trigger.manual", "name": "Start"}
        wa, wb, wc = (fl.create(a, [manual], [], active=False, name=n) for n in ("A", "B", "C"))
        org = fl.sql(E, f"SELECT org_id FROM glyphic.workflows WHERE id = '{wa}'")

        def add(wid, n, finished_ago="0 seconds", status="succeeded"):
            fin = "NULL" if status == "waiting" else f"now() - interval '{finished_ago}'"
            fl.sql(E, f"INSERT INTO glyphic.executions (org_id, workflow_id, version, status, trigger, created_at, "
                      f"finished_at) SELECT '{org}', '{wid}', 1, '{status}', 'manual', "
                      f"now() - interval '{finished_ago}' - make_interval(secs => 1000 - i), {fin} "
                      f"FROM generate_series(1, {n}) i")

        def count(wid, finished=True):
            return int(fl.sql(E, f"SELECT count(*) FROM glyphic.executions WHERE workflow_id = '{wid}' "
                                 f"AND (finished_at IS NOT NULL) = {finished}"))

        add(wa, 6)
        add(wa, 1, status="waiting")  # unfinished: never pruned, not counted
        add(wb, 2)
        add(wb, 1, "3 days")  # past retention_days
        add(wc, 5, "1 hour")
        newest_a = fl.sql(E, f"SELECT string_agg(id::text, ',' ORDER BY created_at DESC, id DESC) FROM "
                             f"(SELECT id, created_at FROM glyphic.executions WHERE workflow_id = '{wa}' "
                             f"AND finished_at IS NOT NULL ORDER BY created_at DESC, id DESC LIMIT 3) x")
        E.fcgi.settings.update({"executions.keep_per_workflow": "3", "executions.retention_days": "1"})
        E.fcgi.write_conf()
        ex = fl.start(E, "--workers", "1")
        try:
            # the first pass after election looks at every workflow
            fl.wait_for(lambda: (count(wa), count(wb), count(wc)) == (3, 2, 3), timeout=30, what="the first pass")
            self.assertEqual(count(wa, finished=False), 1)
            self.assertEqual(fl.sql(E, f"SELECT string_agg(id::text, ',' ORDER BY created_at DESC, id DESC) "
                                       f"FROM glyphic.executions WHERE workflow_id = '{wa}' "
                                       f"AND finished_at IS NOT NULL"), newest_a)
            # later passes: the workflows with an execution finished since
            add(wa, 2)
            fl.wait_for(lambda: count(wa) == 3, timeout=30, what="A pruned again")
            # (one that went over keep with an execution that finished long
            # ago, as by a hand-written row, waits for its next execution or
            # the next election)
            add(wc, 2, "1 hour")
            time.sleep(3)
            self.assertEqual(count(wc), 5)
        finally:
            fl.stop(ex)
        ex = fl.start(E, "--workers", "1")
        try:
            fl.wait_for(lambda: count(wc) == 3, timeout=30, what="the new maintainer's first pass")
        finally:
            fl.stop(ex)
            for k in ("executions.keep_per_workflow", "executions.retention_days"):
                E.fcgi.settings.pop(k, None)
            E.fcgi.write_conf()


if __name__ == "__main__":
    unittest.main(verbosity=2)
