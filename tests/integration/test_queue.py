"""The job queue and glyphic-executor against a real PostgreSQL: exactly
once, leases after SIGKILL, graceful SIGTERM, database restarts, retries,
dead jobs, rollback, unique keys, priorities, delayed jobs, drain mode."""
import os
import signal
import subprocess
import threading
import time
import unittest
import uuid

import harness

ENV = None
EXECUTOR = os.path.join(harness.BUILD, "executor", "glyphic-executor")


def setUpModule():
    global ENV
    ENV = harness.Env(workers=1, fcgi_extra={
        "executor.test_kinds": "true", "executor.lease": "3", "executor.poll_ms": "200",
        "executor.maintenance_interval": "1", "executor.batch": "50", "log.level": "info"})
    ENV.pg.psql("CREATE TABLE public.glyphic_test_runs (job_id bigint, attempt int, owner text, "
                "started_us bigint, sent_us bigint); GRANT INSERT, SELECT ON public.glyphic_test_runs TO glyphic_executor")
    ENV.start_all()
    ENV.fcgi.write_conf()


def tearDownModule():
    ENV.close()


def sql(q, user="glyphic_executor"):
    return ENV.pg.psql(q, user=user)


# The config file is written once (setUpModule): rewriting it while another
# executor starts would hand that one a half-written file.
def start(*args, stderr=None, env=None):
    return subprocess.Popen([EXECUTOR, "-c", ENV.fcgi.conf, *args], stdout=subprocess.DEVNULL,
                            stderr=stderr or subprocess.DEVNULL, start_new_session=True,
                            env=dict(os.environ, **env) if env else None)


def drain(*args, timeout=120, concurrency=None):
    """concurrency: executor.concurrency for this run (default: the configured one)"""
    env = dict(os.environ, GLYPHIC_EXECUTOR_CONCURRENCY=str(concurrency)) if concurrency else None
    return subprocess.run([EXECUTOR, "-c", ENV.fcgi.conf, "--drain", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


def bulk(kind, n, payload="{}", queue="default"):
    sql(f"SELECT glyphic.enqueue_bulk('{kind}', array_fill('{payload}'::jsonb, ARRAY[{n}]), '{queue}')")


def runs_per_job():
    out = sql("SELECT coalesce(sum(c), 0), count(*), coalesce(max(c), 0) FROM "
              "(SELECT job_id, count(*) AS c FROM public.glyphic_test_runs GROUP BY job_id) x", user="postgres")
    return tuple(int(v) for v in out.split("|"))


def live_jobs(queue="default"):
    return int(sql(f"SELECT count(*) FROM glyphic.jobs WHERE queue = '{queue}'"))


def async_webhook():
    """A user and the path of an active async webhook → data.set."""
    c = ENV.signup(f"ring-{uuid.uuid4().hex[:8]}@example.com")
    path = f"ring-{uuid.uuid4().hex[:8]}"
    trig = {"id": "hook", "type": "trigger.webhook", "name": "Hook", "params": {"path": path, "mode": "async"}}
    setn = {"id": "set", "type": "data.set", "name": "Set", "params": {"fields": {"rang": True}}}
    r = c.post("/api/workflows", {"name": "ring", "definition": {
        "nodes": [trig, setn], "edges": [{"from": "hook", "to": "set"}]}})
    assert r.status == 201, r
    r = c.post(f"/api/workflows/{r.json()['id']}/activate")
    assert r.status == 200, r
    return c, path


class QueueTest(unittest.TestCase):
    def setUp(self):
        ENV.pg.psql("TRUNCATE public.glyphic_test_runs; DELETE FROM glyphic.jobs; DELETE FROM glyphic.queue_waiters")

    def test_10000_jobs_4_executors_exactly_once(self):
        bulk("test.record", 10000)
        procs = [start("--drain", "--workers", "1", "--linger", "2") for _ in range(4)]
        for p in procs:
            self.assertEqual(p.wait(120), 0)
        rows, distinct, most = runs_per_job()
        self.assertEqual((rows, distinct, most), (10000, 10000, 1))
        self.assertEqual(live_jobs(), 0)
        owners = int(ENV.pg.psql("SELECT count(DISTINCT owner) FROM public.glyphic_test_runs"))
        self.assertEqual(owners, 4)  # all four shared the work

    def test_sigkill_in_flight_jobs_run_again_after_lease(self):
        bulk("test.record", 40, '{"sleep_ms": 100}')
        ex = start("--daemon", "--workers", "2")
        harness.wait_for(lambda: runs_per_job()[0] >= 6, what="jobs running")
        os.killpg(ex.pid, signal.SIGKILL)
        ex.wait()
        in_flight = int(sql("SELECT count(*) FROM glyphic.jobs WHERE state = 'running'"))
        self.assertGreater(in_flight, 0)
        r = drain("--workers", "2", "--linger", "5")
        self.assertEqual(r.returncode, 0, r.stderr)
        rows, distinct, most = runs_per_job()
        self.assertEqual(distinct, 40)
        self.assertEqual(live_jobs(), 0)
        self.assertLessEqual(most, 2)
        # the ones run twice are exactly ones whose first run was cut off
        self.assertLessEqual(rows - 40, in_flight)
        self.assertGreater(rows - 40, 0)

    def test_sigterm_finishes_in_flight_and_loses_nothing(self):
        bulk("test.record", 60, '{"sleep_ms": 50}')
        ex = start("--daemon", "--workers", "2")
        harness.wait_for(lambda: runs_per_job()[0] >= 6, what="jobs running")
        ex.send_signal(signal.SIGTERM)
        self.assertEqual(ex.wait(30), 0)
        self.assertEqual(int(sql("SELECT count(*) FROM glyphic.jobs WHERE state = 'running'")), 0)
        r = drain("--workers", "2", "--linger", "1")
        self.assertEqual(r.returncode, 0)
        self.assertEqual(runs_per_job(), (60, 60, 1))
        self.assertEqual(live_jobs(), 0)

    def test_database_restart_while_draining(self):
        bulk("test.record", 3000, '{"sleep_ms": 1}')
        ex = start("--drain", "--workers", "2", "--linger", "3", "--max-seconds", "100")
        harness.wait_for(lambda: runs_per_job()[0] >= 200, what="progress")
        ENV.pg.stop()
        time.sleep(0.5)
        ENV.pg.start()
        self.assertEqual(ex.wait(100), 0)
        # a job that failed while the database was away may wait for its
        # backoff past the drain's linger, and one whose lease the worker
        # could not hand back (the database away for good) for its lease
        # and the rescuer (a claim whose answer the restart took is handed
        # back on the next connection): not lost, so a later drain runs it
        if live_jobs():
            harness.wait_for(lambda: sql("SELECT count(*) FROM glyphic.jobs WHERE state = 'running' "
                                         "AND lease_expires_at > now()") == "0",
                             timeout=30, what="the leases of jobs claimed before the restart to run out")
            sql("SELECT glyphic.rescue_jobs()")
            self.assertEqual(drain("--workers", "1", "--linger", "8").returncode, 0)
        rows, distinct, most = runs_per_job()
        self.assertEqual(distinct, 3000)
        self.assertEqual(live_jobs(), 0)

    def test_a_claim_whose_answer_a_lost_connection_took_is_handed_back(self):
        """A claim can commit and its connection die before the answer
        arrives: the worker then holds leases it does not know of. On its
        next connection it hands back the unstarted jobs leased to it that
        it does not hold, instead of leaving them for an hour-long lease."""
        ex = start("--daemon", "--workers", "1")
        try:
            owner_of = ("SELECT substr(application_name, 18) FROM pg_stat_activity "
                        "WHERE application_name LIKE 'glyphic-executor %:%' LIMIT 1")
            harness.wait_for(lambda: sql(owner_of, user="postgres") != "", what="the worker connected")
            owner = sql(owner_of, user="postgres")
            ids = sql("SELECT string_agg(id::text, ',') FROM (SELECT glyphic.enqueue('test.record', "
                      "p_run_at => now() + interval '1 hour') AS id FROM generate_series(1, 5)) x")
            # what that claim would have left: leased to the worker for an hour
            sql(f"UPDATE glyphic.jobs SET state = 'running', lease_owner = '{owner}', attempts = attempts + 1, "
                f"lease_expires_at = now() + interval '1 hour', run_at = now() WHERE id IN ({ids})", user="postgres")
            sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                f"WHERE application_name = 'glyphic-executor {owner}'", user="postgres")
            harness.wait_for(lambda: live_jobs() == 0, timeout=30, what="the jobs of the lost claim to run")
            self.assertEqual(runs_per_job(), (5, 5, 1))
            self.assertEqual(sql("SELECT DISTINCT owner FROM public.glyphic_test_runs", user="postgres"), owner)
        finally:
            ex.send_signal(signal.SIGTERM)
            ex.wait(30)
        with open(ENV.fcgi.log, errors="replace") as log:
            self.assertIn("handed back 5 job(s) claimed as the connection was lost", log.read())

    def test_an_outcome_given_up_is_not_handed_back_with_the_lost_claims(self):
        """An outcome the database refuses for good is given up: the job
        ran, and runs again once its lease runs out. A reconnect in the
        meantime hands back the unstarted jobs leased to the worker that it
        does not know of, but not that one (test kinds never mark a job
        started): handed back, it would run again at once with its attempt
        refunded."""
        if os.environ.get("GLYPHIC_TEST_LAYOUT") == "single":
            self.skipTest("one role is all three there: a REVOKE from the executor's takes nothing")
        fail_fn = "glyphic.fail_jobs_json(jsonb, text)"
        with open(ENV.fcgi.log, "rb") as log:
            log.seek(0, os.SEEK_END)
            offset = log.tell()

        def log_since():
            with open(ENV.fcgi.log, "rb") as log:
                log.seek(offset)
                return log.read().decode(errors="replace")

        ex = None
        try:
            sql(f"REVOKE EXECUTE ON FUNCTION {fail_fn} FROM glyphic_executor", user="postgres")
            ex = start("--daemon", "--workers", "1")
            owner_of = ("SELECT substr(application_name, 18) FROM pg_stat_activity "
                        "WHERE application_name LIKE 'glyphic-executor %:%' LIMIT 1")
            harness.wait_for(lambda: sql(owner_of, user="postgres") != "", what="the worker connected")
            owner = sql(owner_of, user="postgres")
            failed = sql("SELECT glyphic.enqueue('test.fail', '{\"times\": 1}', p_max_attempts => 5)")
            harness.wait_for(lambda: f"job {failed}: its outcome cannot be recorded" in log_since(), timeout=30,
                             what="the worker to give the refused outcome up")
            # its lease as long as the lost claim's (this env's 3 s would let
            # the maintainer requeue it before the hand-back, proving nothing)
            self.assertEqual(sql(f"UPDATE glyphic.jobs SET lease_expires_at = now() + interval '1 hour' "
                                 f"WHERE id = {failed} AND state = 'running' RETURNING attempts, started",
                                 user="postgres").splitlines()[0], "1|f")
            # beside it a claim whose answer was lost: the hand-back runs
            lost = sql("SELECT glyphic.enqueue('test.record', p_run_at => now() + interval '1 hour')")
            sql(f"UPDATE glyphic.jobs SET state = 'running', lease_owner = '{owner}', attempts = attempts + 1, "
                f"lease_expires_at = now() + interval '1 hour', run_at = now() WHERE id = {lost}", user="postgres")
            sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                f"WHERE application_name = 'glyphic-executor {owner}'", user="postgres")
            harness.wait_for(lambda: "claimed as the connection was lost" in log_since(), timeout=30,
                             what="the worker to hand back what it does not know of")
            self.assertIn("handed back 1 job(s) claimed as the connection was lost", log_since())
            self.assertEqual(sql(f"SELECT state, attempts FROM glyphic.jobs WHERE id = {failed}"), "running|1")
            # the given-up job waits for its lease; then it runs again (attempt 2 succeeds)
            sql(f"GRANT EXECUTE ON FUNCTION {fail_fn} TO glyphic_executor", user="postgres")
            sql(f"UPDATE glyphic.jobs SET lease_expires_at = now() WHERE id = {failed}", user="postgres")
            harness.wait_for(lambda: sql(f"SELECT count(*) FROM glyphic.jobs WHERE id IN ({failed}, {lost})") == "0",
                             timeout=30, what="both jobs to run")
            self.assertEqual(log_since().count(f"job {failed}: its outcome cannot be recorded"), 1)
        finally:
            sql(f"GRANT EXECUTE ON FUNCTION {fail_fn} TO glyphic_executor", user="postgres")
            if ex:
                ex.send_signal(signal.SIGTERM)
                ex.wait(30)

    def test_retries_dead_and_fatal(self):
        ok = sql("SELECT glyphic.enqueue('test.fail', '{\"times\": 2}', p_max_attempts => 5, p_backoff_ms => 50)")
        dead = sql("SELECT glyphic.enqueue('test.fail', '{\"times\": 3}', p_max_attempts => 3, p_backoff_ms => 50)")
        fatal = sql("SELECT glyphic.enqueue('test.fatal', p_max_attempts => 5)")
        unknown = sql("SELECT glyphic.enqueue('no.such.kind')")
        r = drain("--workers", "1", "--linger", "3")
        self.assertEqual(r.returncode, 0)
        self.assertEqual(sql(f"SELECT count(*) FROM glyphic.jobs WHERE id = {ok}"), "0")  # succeeded on attempt 3
        self.assertEqual(sql(f"SELECT state, attempts FROM glyphic.jobs WHERE id = {dead}"), "dead|3")
        self.assertIn("attempt 3 fails", sql(f"SELECT last_error FROM glyphic.jobs WHERE id = {dead}"))
        self.assertEqual(sql(f"SELECT state, attempts FROM glyphic.jobs WHERE id = {fatal}"), "dead|1")
        self.assertEqual(sql(f"SELECT state FROM glyphic.jobs WHERE id = {unknown}"), "dead")
        stats = ENV.glyphic("queue", "stats").stdout
        self.assertIn('"dead":3', stats.replace(" ", ""))
        # retry of a dead job: one more attempt, which succeeds (attempt 4 > times 3)
        out = ENV.glyphic("queue", "retry", dead)
        self.assertIn("queued again", out.stdout)
        self.assertEqual(drain("--workers", "1", "--linger", "1").returncode, 0)
        self.assertEqual(sql(f"SELECT count(*) FROM glyphic.jobs WHERE id = {dead}"), "0")
        self.assertEqual(ENV.glyphic("queue", "retry", dead, check=False).returncode, 1)
        self.assertEqual(ENV.glyphic("queue", "retry", "abc", check=False).returncode, 2)

    def test_backoff_grows(self):
        jid = sql("SELECT glyphic.enqueue('test.fail', '{\"times\": 9}', p_max_attempts => 9, p_backoff_ms => 1000)")
        sql(f"UPDATE glyphic.jobs SET attempts = 4 WHERE id = {jid}")
        sql("SELECT * FROM glyphic.claim_jobs('default', 'me', 1, 60)")
        sql(f"SELECT glyphic.fail_jobs(ARRAY[{jid}]::bigint[], ARRAY['x'], ARRAY[true], 'me')")
        delay = float(sql(f"SELECT extract(epoch FROM run_at - updated_at) FROM glyphic.jobs WHERE id = {jid}"))
        self.assertTrue(16 * 0.75 - 0.1 <= delay <= 16 * 1.25 + 0.1, delay)  # 1 s * 2^(5-1), +-25% jitter

    def test_a_claim_and_a_batch_end_read_what_they_take_not_the_backlog(self):
        """sql/038: claim_jobs found the orgs with a job due through a semi
        join that read every due job, and exec_finish_many found its fences
        through every running job: work per batch grew with the backlog.
        Counted in index entries read by the statement's own transaction
        (pg_stat_get_xact_tuples_returned of jobs' indexes), as the executor's
        role."""
        org = ENV.signup(f"plans-{uuid.uuid4().hex[:8]}@example.com").me["org_id"]
        q = "plans"
        sql(f"SELECT glyphic.enqueue_bulk('test.noop', array_fill('{{}}'::jsonb, ARRAY[3000]), '{q}', '{org}')")
        read = ("SELECT coalesce(sum(pg_stat_get_xact_tuples_returned(i.indexrelid)), 0) FROM pg_index i "
                "WHERE i.indrelid = 'glyphic.jobs'::regclass")

        def reads(stmt):
            out = sql(f"BEGIN; {read}; {stmt}; {read}; COMMIT;").split("\n")
            return int(out[-1]) - int(out[0]), out[1:-1]

        try:
            # a backlog of 3,000 due jobs of one org: ten claimed
            n, claimed = reads(f"SELECT id FROM glyphic.claim_jobs('{q}', 'w1', 10, 60)")
            self.assertEqual(len(claimed), 10)
            self.assertLess(n, 300, "claim_jobs read the backlog to claim ten jobs")
            # 2,990 more running (the other worker's): w1 ends five of its ten
            self.assertEqual(len(sql(f"SELECT id FROM glyphic.claim_jobs('{q}', 'w2', 3000, 60)").split()), 2990)
            five, other = claimed[:5], claimed[5:]
            runs = ", ".join(f'{{"job": {j}, "attempt": 1, "id": "{uuid.uuid4()}", "status": "succeeded"}}'
                             for j in five)
            n, out = reads(f"SELECT job_id, outcome FROM glyphic.exec_finish_many('[{runs}]', 'w1')")
            self.assertEqual(sorted(out), sorted(f"{j}|ended" for j in five))  # no such executions: completed
            # less what completing five jobs reads (complete_jobs, which it
            # calls; its plan may take the running jobs' index as well)
            n_complete, out = reads(f"SELECT glyphic.complete_jobs(ARRAY[{','.join(other)}]::bigint[], 'w1')")
            self.assertEqual(out, ["5"])
            self.assertLess(n - n_complete, 300, "exec_finish_many read every running job to fence five")
            self.assertEqual(sql(f"SELECT count(*) FROM glyphic.jobs WHERE queue = '{q}'"), "2990")
        finally:
            sql(f"DELETE FROM glyphic.jobs WHERE queue = '{q}'", user="postgres")

    def test_rolled_back_enqueue_leaves_no_job_and_rings_no_bell(self):
        def wait_listening():
            # the listener is inside its sleep (so LISTEN is done), not a fixed pause
            harness.wait_for(lambda: ENV.pg.psql(
                "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
                "AND query LIKE 'SELECT pg_sleep(4)%'") == "1", what="listener sleeping")

        sql("SELECT glyphic.queue_wait('default', 'listener', 60)")
        listener = subprocess.Popen(
            [os.path.join(ENV.pg.bindir, "psql"), "-X", "-h", ENV.pg.sock, "-p", str(ENV.pg.port), "-U", "postgres",
             "-d", "glyphic", "-c", "LISTEN glyphic_jobs", "-c", "SELECT pg_sleep(4)", "-c", "SELECT 1"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        wait_listening()
        ENV.pg.psql("BEGIN; SELECT glyphic.enqueue('test.noop', '{\"rolled\": \"back\"}'); ROLLBACK;", user="glyphic_executor")
        self.assertEqual(live_jobs(), 0)
        sql("SELECT glyphic.enqueue('test.noop')")
        out, _ = listener.communicate(timeout=20)
        self.assertEqual(out.count('Asynchronous notification "glyphic_jobs"'), 1, out)
        # nobody waiting: no NOTIFY at all
        sql("DELETE FROM glyphic.queue_waiters")
        listener = subprocess.Popen(
            [os.path.join(ENV.pg.bindir, "psql"), "-X", "-h", ENV.pg.sock, "-p", str(ENV.pg.port), "-U", "postgres",
             "-d", "glyphic", "-c", "LISTEN glyphic_jobs", "-c", "SELECT pg_sleep(4)", "-c", "SELECT 1"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        wait_listening()
        sql("SELECT glyphic.enqueue('test.noop')")
        out, _ = listener.communicate(timeout=20)
        self.assertNotIn("Asynchronous notification", out)

    def test_a_ring_later_enqueue_rings_only_when_asked_after_its_commit(self):
        """sql/039: with glyphic.ring_later on, enqueue_trusted (what a
        webhook call's hook_enqueue runs) queues without a NOTIFY; queue_ring
        rings, and only while an executor waits."""
        def listen():
            p = subprocess.Popen(
                [os.path.join(ENV.pg.bindir, "psql"), "-X", "-h", ENV.pg.sock, "-p", str(ENV.pg.port), "-U",
                 "postgres", "-d", "glyphic", "-c", "LISTEN glyphic_jobs", "-c", "SELECT pg_sleep(3)", "-c",
                 "SELECT 1"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            harness.wait_for(lambda: ENV.pg.psql(
                "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
                "AND query LIKE 'SELECT pg_sleep(3)%'") == "1", what="listener sleeping")
            return p

        enqueue = ("SELECT glyphic.enqueue_trusted('test.noop', '{}', NULL, NULL, 1)")
        sql("SELECT glyphic.queue_wait('default', 'listener', 60)")
        listener = listen()
        ENV.pg.psql("BEGIN; SELECT set_config('glyphic.ring_later', 'on', true); " + enqueue + "; COMMIT;")
        self.assertEqual(live_jobs(), 1)
        out, _ = listener.communicate(timeout=20)
        self.assertNotIn("Asynchronous notification", out)
        # the same enqueue without the setting rings, as before
        listener = listen()
        ENV.pg.psql(enqueue)
        out, _ = listener.communicate(timeout=20)
        self.assertEqual(out.count('Asynchronous notification "glyphic_jobs"'), 1, out)
        # the ring after the commit, as the app role (glyphic-fcgi's)
        listener = listen()
        self.assertEqual(sql("SELECT glyphic.queue_ring('default')", user="glyphic_app"), "t")
        out, _ = listener.communicate(timeout=20)
        self.assertEqual(out.count('Asynchronous notification "glyphic_jobs"'), 1, out)
        # a webhook call's statement, as glyphic-fcgi sends it (the app
        # role), queues without a ring; without p_ring_later it rings
        _, path = async_webhook()
        version = sql(f"SELECT version FROM glyphic.webhooks WHERE path = '{path}'", user="postgres")
        def call(ring_later):
            return (f"SELECT glyphic.hook_enqueue('{path}', {version}, '{{}}', gen_random_uuid(), NULL, NULL, 0"
                    f"{ring_later}) IS NOT NULL")
        listener = listen()
        self.assertEqual(sql(call(", true"), user="glyphic_app"), "t")
        out, _ = listener.communicate(timeout=20)
        self.assertNotIn("Asynchronous notification", out)
        listener = listen()
        self.assertEqual(sql(call(""), user="glyphic_app"), "t")
        out, _ = listener.communicate(timeout=20)
        self.assertEqual(out.count('Asynchronous notification "glyphic_jobs"'), 1, out)
        # a session that set the flag itself does not silence a call that rings
        listener = listen()
        self.assertEqual(sql("SET glyphic.ring_later = on; " + call(""), user="glyphic_app"), "t")
        out, _ = listener.communicate(timeout=20)
        self.assertEqual(out.count('Asynchronous notification "glyphic_jobs"'), 1, out)
        # nobody waiting: no ring
        sql("DELETE FROM glyphic.queue_waiters")
        listener = listen()
        self.assertEqual(sql("SELECT glyphic.queue_ring('default')", user="glyphic_app"), "f")
        out, _ = listener.communicate(timeout=20)
        self.assertNotIn("Asynchronous notification", out)

    def test_a_webhook_call_wakes_a_waiting_executor_at_once(self):
        """glyphic-fcgi rings after hook_enqueue's commit: an executor that
        polls once a minute starts an async webhook's execution at once."""
        c, path = async_webhook()
        p = start("--daemon", "--workers", "1", env={"GLYPHIC_EXECUTOR_POLL_MS": "60000"})
        try:
            # it LISTENed, said it waits (valid for twice the poll), looked
            # once more and sleeps: its listen connection sits in ClientRead
            harness.wait_for(lambda: sql("SELECT count(*) FROM glyphic.queue_waiters "
                                         "WHERE until > now() + interval '100 seconds'") == "1",
                             what="the executor waiting")
            harness.wait_for(lambda: sql("SELECT count(*) FROM pg_stat_activity WHERE query = "
                                         "'LISTEN glyphic_jobs' AND state = 'idle'", user="postgres") != "0",
                             what="the executor listening")
            time.sleep(0.5)
            t0 = time.time()
            r = ENV.request("POST", "/hooks/" + path, body={"x": 1})
            self.assertEqual(r.status, 202, r)
            eid = r.json()["execution_id"]
            harness.wait_for(lambda: c.get(f"/api/executions/{eid}").json()["status"] == "succeeded",
                             timeout=20, what="the execution to finish")
            self.assertLess(time.time() - t0, 30)  # the poll alone would take up to 60 s
        finally:
            ENV.stop_executor(p)

    def test_unique_key(self):
        a = sql("SELECT glyphic.enqueue('test.noop', p_unique_key => 'order-1')")
        b = sql("SELECT glyphic.enqueue('test.noop', '{\"other\": 1}', p_unique_key => 'order-1')")
        self.assertEqual(a, b)
        self.assertEqual(live_jobs(), 1)
        self.assertEqual(sql(f"SELECT payload::text FROM glyphic.jobs WHERE id = {a}"), "{}")
        self.assertEqual(drain("--workers", "1", "--linger", "1").returncode, 0)
        c = sql("SELECT glyphic.enqueue('test.noop', p_unique_key => 'order-1')")
        self.assertNotEqual(a, c)  # the key is free once the job finished

    def test_priorities_and_delayed_jobs(self):
        sql("SELECT glyphic.enqueue('test.record', '{}', p_priority => 5::smallint) FROM generate_series(1, 20)")
        sql("SELECT glyphic.enqueue('test.record', '{}', p_priority => 0::smallint) FROM generate_series(1, 20)")
        later = sql("SELECT glyphic.enqueue('test.record', '{}', p_run_at => now() + interval '3 seconds')")
        # one at a time: with executor.concurrency N, priorities order the
        # jobs handed to the runners, and up to N start side by side
        self.assertEqual(drain("--workers", "1", "--linger", "1", concurrency=1).returncode, 0)
        ran = ENV.pg.psql("SELECT job_id FROM public.glyphic_test_runs ORDER BY started_us, job_id").split()
        ids = [int(x) for x in ran]
        self.assertEqual(len(ids), 40)
        self.assertNotIn(int(later), ids)  # not early
        # the 20 priority-0 jobs (enqueued last, so higher ids) ran first
        self.assertEqual(sorted(ids[:20]), sorted(ids)[20:])
        self.assertEqual(sql(f"SELECT state FROM glyphic.jobs WHERE id = {later}"), "queued")
        time.sleep(2.5)
        self.assertEqual(drain("--workers", "1", "--linger", "2").returncode, 0)
        self.assertIn(later, ENV.pg.psql("SELECT job_id FROM public.glyphic_test_runs").split())

    def test_drain_exits_when_idle_and_at_max_seconds(self):
        t0 = time.monotonic()
        self.assertEqual(drain("--workers", "2", "--linger", "1").returncode, 0)
        self.assertLess(time.monotonic() - t0, 10)
        bulk("test.sleep", 400, '{"ms": 200}')  # about 80 fit in 2 s with 8 at once
        t0 = time.monotonic()
        r = drain("--workers", "1", "--max-seconds", "2", "--linger", "30")
        elapsed = time.monotonic() - t0
        self.assertEqual(r.returncode, 0)
        self.assertLess(elapsed, 15)
        self.assertGreater(live_jobs(), 50)  # stopped with work left
        self.assertEqual(int(sql("SELECT count(*) FROM glyphic.jobs WHERE state = 'running'")), 0)

    def test_two_drains_share_without_duplicates(self):
        bulk("test.record", 2000)
        procs = [start("--drain", "--workers", "2", "--linger", "1") for _ in range(2)]
        for p in procs:
            self.assertEqual(p.wait(60), 0)
        self.assertEqual(runs_per_job(), (2000, 2000, 1))

    def test_long_job_keeps_its_lease_with_heartbeats(self):
        # the lease is 3 s; the job runs 7 s, renewing it: no rescue, one run
        jid = sql("SELECT glyphic.enqueue('test.sleep', '{\"ms\": 7000}')")
        ex = start("--daemon", "--workers", "2")
        try:
            harness.wait_for(lambda: sql(f"SELECT state FROM glyphic.jobs WHERE id = {jid}") == "running",
                             what="job running")
            time.sleep(5)  # past the first lease: the maintainer would rescue an unrenewed job
            self.assertEqual(sql(f"SELECT state, attempts FROM glyphic.jobs WHERE id = {jid}"), "running|1")
            harness.wait_for(lambda: live_jobs() == 0, timeout=20, what="job done")
        finally:
            ex.send_signal(signal.SIGTERM)
            ex.wait(30)
        self.assertNotIn("lease expired", open(ENV.fcgi.log, errors="replace").read())

    def test_cancel(self):
        jid = sql("SELECT glyphic.enqueue('test.noop', p_run_at => now() + interval '1 hour')")
        self.assertIn("canceled", ENV.glyphic("queue", "cancel", jid).stdout)
        self.assertEqual(sql(f"SELECT state FROM glyphic.jobs WHERE id = {jid}"), "canceled")
        self.assertEqual(ENV.glyphic("queue", "cancel", jid, check=False).returncode, 1)

    def test_usage_errors(self):
        for args in ((), ("--drain", "--daemon"), ("--drain", "--workers", "0"), ("--drain", "--linger", "x"), ("--frob",)):
            r = subprocess.run([EXECUTOR, "-c", ENV.fcgi.conf, *args], capture_output=True, text=True)
            self.assertEqual(r.returncode, 2, args)
        self.assertEqual(subprocess.run([EXECUTOR, "--help"], capture_output=True).returncode, 0)


class QueueApiTest(unittest.TestCase):
    def test_stats_for_org_admins_only(self):
        a = ENV.signup(f"q-{uuid.uuid4().hex[:6]}@example.com")
        b = ENV.signup(f"q-{uuid.uuid4().hex[:6]}@example.com")
        org = a.me["org_id"]
        sql(f"SELECT glyphic.enqueue('test.noop', p_org => '{org}', p_queue => 'api', "
            f"p_run_at => now() + interval '1 hour') FROM generate_series(1, 3)")
        sa = a.get("/api/queue/stats").json()
        self.assertEqual([(q["queue"], q["queued"]) for q in sa["queues"]], [("api", 3)])
        self.assertEqual(b.get("/api/queue/stats").json()["queues"], [])
        # the app role may enqueue only for the request's org
        r = ENV.pg.psql(f"BEGIN; {ENV.app_context(b.me['user']['id'], b.me['org_id'])}; "
                        f"SELECT glyphic.enqueue('test.noop', p_org => '{org}'); COMMIT;", user="glyphic_app", check=False)
        self.assertNotEqual(r.returncode, 0)
        sql("DELETE FROM glyphic.jobs WHERE queue = 'api'")


if __name__ == "__main__":
    unittest.main(verbosity=2)
