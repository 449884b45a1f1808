"""Direct webhook runs recorded a batch at a time (sql/029_hook_batches.sql,
events/record.c, core/hook_batch.h).

glyphic-fcgi's workers hand the records of the quick webhook runs they ran
to glyphic-events, which writes the runs that arrived while its previous
batch was being written in one statement, and answers each worker after
the commit. Shown here: calls that arrive while a batch waits are written
together in one statement; SIGKILL of glyphic-events with a batch in
flight loses and repeats nothing, whether that batch then commits or not
(the workers record their runs themselves, and the execution id they chose
makes that idempotent); without glyphic-events every call is still
recorded; hostile frames on the record socket close only their own
connection; and hook_record_many's answers, called as the app role."""
import json
import os
import re
import signal
import socket
import struct
import subprocess
import threading
import time
import unittest
import uuid
from concurrent.futures import ThreadPoolExecutor

import faultlib as fl
import harness

E = None
C = None
BODY = {"a": 2, "b": 3}


def setUpModule():
    global E, C
    E = fl.env(workers=8)
    C = fl.user(E, "batch")
    hook = fl.hook_node("batched", mode="sync")
    setn = {"id": "set", "type": "data.set", "name": "Set",
            "params": {"fields": {"total": "{{ $json.body.a + $json.body.b }}"}}}
    resp = {"id": "respond", "type": "flow.respond", "name": "Respond",
            "params": {"body": "{{ { total: $json.total } }}"}}
    fl.create(C, [hook, setn, resp], fl.chain(hook, setn, resp))


def tearDownModule():
    E.close()


def record_socket():
    return os.path.join(E.base, "record.sock")


def events_up():
    """glyphic-events serving, its record socket listening."""
    if E.events.proc is None or E.events.proc.poll() is not None:
        E.events.start()
    fl.wait_for(lambda: os.path.exists(record_socket()), 20, "the record socket")


def call(_=None):
    r = E.request("POST", "/hooks/batched", BODY)
    return r.status, (r.json().get("total") if r.status == 200 else r.body[:200])


def executions():
    return int(fl.sql(E, "SELECT count(*) FROM glyphic.executions WHERE trigger = 'webhook'"))


def steps_per_execution():
    out = fl.sql(E, "SELECT count(s.seq) FROM glyphic.executions e LEFT JOIN glyphic.steps s "
                    "ON s.execution_id = e.id WHERE e.trigger = 'webhook' GROUP BY e.id")
    return {int(x) for x in out.split()}


def written_batches():
    """(runs, batches) the last glyphic-events says it wrote, from its exit line (in log.file)."""
    m = re.findall(r"glyphic-events\[\d+\]: wrote (\d+) webhook runs in (\d+) batches", fl.log_text(E))
    return (int(m[-1][0]), int(m[-1][1])) if m else (0, 0)


class Locked:
    """Holds a lock that stops a batch's insert (and a lone hook_record's)
    until released, in a psql session of its own."""

    def __enter__(self):
        self.p = subprocess.Popen([os.path.join(E.pg.bindir, "psql"), "-X", "-q", "-h", E.pg.sock, "-p",
                                   str(E.pg.port), "-U", "postgres", "-d", "glyphic"],
                                  stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        self.p.stdin.write("BEGIN; LOCK TABLE glyphic.executions IN EXCLUSIVE MODE;\n"
                           "SELECT pg_sleep(0);\n")
        self.p.stdin.flush()
        fl.wait_for(lambda: fl.sql(E, "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                                      "WHERE c.relname = 'executions' AND l.mode = 'ExclusiveLock' "
                                      "AND l.granted") == "1", 20, "the lock")
        return self

    def waiting(self):
        return int(fl.sql(E, "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                             "WHERE c.relname = 'executions' AND NOT l.granted"))

    def __exit__(self, *exc):
        self.p.stdin.write("COMMIT;\n")
        self.p.stdin.close()
        self.p.wait(30)


def record_connections():
    """Connections glyphic-events has accepted on its record socket: a
    worker connects when it hands over its first run (after fresh_events,
    its first run since), then writes that run's frame at once."""
    path = record_socket()
    with open("/proc/net/unix") as f:
        next(f)
        # Num RefCount Protocol Flags Type St Inode Path; St 03: connected
        return sum(1 for line in f if line.split()[5:6] == ["03"] and line.rstrip().endswith(" " + path))


def start_calls(n, threads=8):
    pool = ThreadPoolExecutor(threads)
    return pool, [pool.submit(call) for _ in range(n)]


def fresh_events():
    """glyphic-events started anew (its counts from zero), its socket listening;
    the workers' connect back-off (1 s after a refused connect) passed."""
    E.events.stop()
    events_up()
    time.sleep(1.2)


class HookBatchesTest(unittest.TestCase):
    def setUp(self):
        events_up()
        fl.sql(E, "DELETE FROM glyphic.executions")

    def test_calls_arriving_meanwhile_share_one_statement(self):
        fresh_events()
        with Locked() as lock:
            pool, futs = start_calls(1)
            fl.wait_for(lambda: lock.waiting() >= 1, 30, "the first batch to wait for the lock")
            more = [pool.submit(call) for _ in range(6)]  # they queue in glyphic-events meanwhile
            time.sleep(1.5)
        results = [f.result(60) for f in futs + more]
        pool.shutdown()
        self.assertEqual(results, [(200, 5)] * 7)
        self.assertEqual(executions(), 7)
        self.assertEqual(steps_per_execution(), {3})
        E.events.stop()
        runs, batches = written_batches()
        self.assertEqual(runs, 7)
        self.assertEqual(batches, 2, "the six calls that came while the first batch waited went in one statement")
        self.assertNotIn("recorded by its batch", fl.log_text(E))

    def _kill_mid_batch(self, commit):
        lock = Locked().__enter__()
        try:
            pool, futs = start_calls(6)
            fl.wait_for(lambda: lock.waiting() >= 1, 30, "a batch to wait for the lock")
            time.sleep(1.0)
            pid = fl.sql(E, "SELECT pid FROM pg_stat_activity WHERE query LIKE '%hook_record_many%' "
                            "AND application_name = 'glyphic-events' AND state = 'active'").split()
            self.assertEqual(len(pid), 1)
            if commit:
                # the batch commits while glyphic-events cannot read its answer,
                # then glyphic-events dies: its workers never hear of the commit
                E.events.proc.send_signal(signal.SIGSTOP)
                lock.__exit__(None, None, None)
                lock = None
                fl.wait_for(lambda: fl.sql(E, f"SELECT state FROM pg_stat_activity WHERE pid = {pid[0]}") == "idle",
                            30, "the batch to commit")
            E.events.proc.send_signal(signal.SIGKILL)
            E.events.proc.wait(10)
            if not commit:
                # its statement, still waiting for the lock, ends without a commit
                fl.sql(E, f"SELECT pg_terminate_backend({pid[0]})")
                time.sleep(0.5)  # the workers saw end-of-file and record their runs themselves
        finally:
            if lock:
                lock.__exit__(None, None, None)
        results = [f.result(60) for f in futs]
        pool.shutdown()
        self.assertEqual(results, [(200, 5)] * 6, "every call answered as if nothing had happened")
        self.assertEqual(executions(), 6, "each call recorded once")
        self.assertEqual(steps_per_execution(), {3})
        return fl.log_text(E).count("recorded by its batch")

    def test_sigkill_with_a_batch_that_committed(self):
        before = fl.log_text(E).count("recorded by its batch")
        self.assertGreaterEqual(self._kill_mid_batch(commit=True) - before, 1,
                                "a worker found its run written by the batch it had handed it to")

    def test_sigkill_with_a_batch_that_did_not(self):
        before = fl.log_text(E).count("recorded by its batch")
        self.assertEqual(self._kill_mid_batch(commit=False), before)

    def test_workers_killed_with_their_runs_in_glyphic_events(self):
        """SIGKILL of every fcgi worker while their runs wait in glyphic-events
        (one batch being written, the rest queued): a run that was handed over
        has already run, so it is still written, once; glyphic-events is not
        disturbed by answers nobody reads, and the new workers batch again."""
        fresh_events()
        recorded_by_batch = fl.log_text(E).count("recorded by its batch")
        with Locked() as lock:
            pool, futs = start_calls(6)
            fl.wait_for(lambda: lock.waiting() >= 1, 30, "a batch to wait for the lock")
            # each of the six calls holds a worker until its answer, so six
            # workers have handed their runs over once six are connected
            fl.wait_for(lambda: record_connections() == 6, 60, "six workers to hand their runs over")
            self.assertEqual(executions(), 0)
            killed = E.fcgi.workers()
            for pid in killed:
                os.kill(pid, signal.SIGKILL)
            statuses = [f.result(60)[0] for f in futs]
            pool.shutdown()
        self.assertEqual(statuses, [503] * 6, "their callers were cut off (nginx answers 503 for a lost worker)")
        fl.wait_for(lambda: executions() == 6, 30, "the six runs to be written")
        self.assertEqual(steps_per_execution(), {3})
        self.assertIsNone(E.events.proc.poll(), "glyphic-events still serves")
        fl.wait_for(lambda: set(E.fcgi.workers()) - set(killed), 30, "new workers")
        fl.wait_for(lambda: call() == (200, 5), 30, "calls answered again")
        self.assertEqual([call() for _ in range(3)], [(200, 5)] * 3)
        self.assertEqual(executions(), 10)
        E.events.stop()
        self.assertEqual(written_batches()[0], 10, "every run went through glyphic-events, none was written twice")
        self.assertEqual(fl.log_text(E).count("recorded by its batch"), recorded_by_batch)
        fresh_events()

    def test_without_glyphic_events_every_call_is_recorded(self):
        E.events.stop()
        self.assertFalse(os.path.exists(record_socket()))
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(call, range(40)))
        self.assertEqual(results, [(200, 5)] * 40)
        self.assertEqual(executions(), 40)
        fresh_events()
        self.assertEqual([call() for _ in range(3)], [(200, 5)] * 3)
        E.events.stop()
        self.assertEqual(written_batches()[0], 3, "batched again once glyphic-events is back")

    def test_without_its_database_glyphic_events_sends_the_runs_back_at_once(self):
        fresh_events()
        fl.sql(E, "ALTER ROLE glyphic_app CONNECTION LIMIT 0")  # the workers keep theirs
        try:
            fl.sql(E, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE application_name = 'glyphic-events'")
            fl.wait_for(lambda: fl.sql(E, "SELECT count(*) FROM pg_stat_activity "
                                          "WHERE application_name = 'glyphic-events'") == "0",
                        20, "glyphic-events to lose its connections")
            t0 = time.monotonic()
            results = [call() for _ in range(3)]
            took = time.monotonic() - t0
        finally:
            fl.sql(E, "ALTER ROLE glyphic_app CONNECTION LIMIT -1")
        self.assertEqual(results, [(200, 5)] * 3)
        self.assertEqual(executions(), 3)
        # answered "alone" at once, not after db.statement_timeout (30 s) each
        self.assertLess(took, 10)

    def test_hostile_frames_close_only_their_connection(self):
        def conn():
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(10)
            s.connect(record_socket())
            return s

        def reply(s):
            head = s.recv(4)
            if len(head) < 4:
                return None
            return s.recv(struct.unpack(">I", head)[0]).decode()

        for frame in (struct.pack(">I", 0xFFFFFFFF), struct.pack(">I", 0),
                      struct.pack(">I", 9) + b"not json!", struct.pack(">I", 2) + b"[]",
                      struct.pack(">I", 4) + b"{\"a\""):
            with self.subTest(frame=frame[:12]):
                s = conn()
                s.sendall(frame)
                self.assertIsNone(reply(s), "the connection is closed")
                s.close()
        # a well-formed run for a path that is no webhook: changed, nothing written
        s = conn()
        run = json.dumps({"path": "no-such-hook", "version": 1, "id": str(uuid.uuid4()), "item": {},
                          "status": "succeeded", "steps": [], "output": None, "response": None,
                          "error": None, "started_ms": 0}).encode()
        s.sendall(struct.pack(">I", len(run)) + run)
        self.assertEqual(reply(s), "changed")
        # half a frame, then gone
        s.sendall(struct.pack(">I", 100) + b"{")
        s.close()
        self.assertEqual([call() for _ in range(3)], [(200, 5)] * 3)
        self.assertEqual(executions(), 3)
        self.assertIsNone(E.events.proc.poll(), "glyphic-events still serves")


class InlineStepsTest(unittest.TestCase):
    """A batched run's steps are stored on its execution row (sql/032) and
    read back through glyphic.steps as if they were rows."""

    def run_call(self):
        r = E.request("POST", "/hooks/batched", BODY)
        self.assertEqual(r.status, 200, r.body[:200])
        return r.header("X-Glyphic-Execution")

    def test_read_back_as_rows(self):
        events_up()
        inline = self.run_call()
        # the same workflow recorded alone (glyphic-events down): rows
        E.events.stop()
        try:
            alone = self.run_call()
        finally:
            events_up()
        self.assertEqual(fl.sql(E, f"SELECT jsonb_array_length(steps) FROM glyphic.executions WHERE id = '{inline}'"),
                         "3")
        self.assertEqual(fl.sql(E, f"SELECT count(*) FROM glyphic.execution_steps WHERE execution_id = '{inline}'"),
                         "0")
        self.assertEqual(fl.sql(E, f"SELECT steps IS NULL FROM glyphic.executions WHERE id = '{alone}'"), "t")
        self.assertEqual(fl.sql(E, f"SELECT count(*) FROM glyphic.execution_steps WHERE execution_id = '{alone}'"),
                         "3")
        # the API answers both alike: same fields, same values but times
        got = {}
        for eid in (inline, alone):
            r = C.get(f"/api/executions/{eid}")
            self.assertEqual(r.status, 200, r.body[:200])
            steps = r.json()["steps"]
            for s in steps:
                self.assertRegex(s.pop("started_at"), r"^\d{4}-\d\d-\d\dT")
                self.assertRegex(s.pop("finished_at"), r"^\d{4}-\d\d-\d\dT")
            got[eid] = steps
        self.assertEqual([s["node_id"] for s in got[inline]], ["hook", "set", "respond"])
        self.assertEqual([s["seq"] for s in got[inline]], [1, 2, 3])
        self.assertEqual(got[inline][1]["output"]["main"][0]["total"], 5)
        self.assertEqual(got[inline], got[alone])
        # each step's input was stored as where it came from (sql/040), and
        # reads back as the items themselves: the hook's and the respond's
        # are their own output, the set's the output of the step before
        stored = json.loads(fl.sql(E, f"SELECT steps FROM glyphic.executions WHERE id = '{inline}'"))
        self.assertEqual([("input" in st, st.get("input_from")) for st in stored],
                         [(False, ["self", "main", "main"]), (False, ["prev", "main", "main"]),
                          (False, ["self", "main", "main"])])
        steps = got[inline]
        self.assertEqual(steps[0]["input"], steps[0]["output"])
        self.assertEqual(steps[0]["input"]["main"][0]["body"], BODY)
        self.assertEqual(steps[1]["input"], steps[0]["output"])
        self.assertEqual(steps[2]["input"], steps[1]["output"])
        self.assertNotEqual(steps[1]["input"], steps[1]["output"])
        # the live stream of a finished execution: its steps, then its end
        r = C.get(f"/api/executions/{inline}/events")
        self.assertEqual(r.status, 200, r.body[:200])
        text = r.body.decode()
        self.assertEqual(text.count("event: step\n"), 3, text[:500])
        self.assertIn("event: execution\n", text)
        # another org sees none of it, through the view either
        other = fl.user(E, "other")
        self.assertEqual(other.get(f"/api/executions/{inline}").status, 404)
        self.assertEqual(E.pg.psql(f"SELECT count(*) FROM glyphic.steps WHERE execution_id = '{inline}'",
                                   user="glyphic_app").strip(), "0")

    def test_bad_steps_refused(self):
        version = int(fl.sql(E, "SELECT version FROM glyphic.webhooks WHERE path = 'batched'"))
        before = executions()
        step = {"seq": 1, "node_id": "hook", "run_index": 0, "attempt": 1, "status": "succeeded",
                "output": {"main": [BODY]}, "started_ms": 1, "finished_ms": 2}
        bad = {"a status execution_steps refuses": [dict(step, status="bogus")],
               "seq 0": [dict(step, seq=0)],
               "a seq twice": [step, dict(step, node_id="set")],
               "no node": [dict(step, node_id=None)],
               "no time": [dict(step, finished_ms=None)],
               "no status": [dict(step, status=None)],
               "no attempt": [dict(step, attempt=None)],
               "no seq": [dict(step, seq=None)],
               "no run index": [step, dict(step, seq=2, run_index=None)],
               "a time the view could not read back": [dict(step, started_ms=10 ** 16)],
               "a time after year 9999 (to_timestamp reads it, the API's clients may not)":
                   [dict(step, started_ms=10 ** 15)],
               "a time before 1970": [dict(step, finished_ms=-1)],
               "an input from a step that is neither itself nor the one before":
                   [dict(step, input_from=["first", "main", "main"])],
               "an input from that is not an array": [dict(step, input_from="prev")],
               "an input from with a port that is not text": [dict(step, input_from=["prev", 1, "main"])],
               "an input from without its input port": [dict(step, input_from=["self", "main"])],
               "not an array": {"seq": 1}}
        for what, steps in bad.items():
            good = HookRecordManyTest.run_of(None, "batched", version)
            run = dict(good, id=str(uuid.uuid4()), steps=steps)
            r = HookRecordManyTest.run_many(None, [good, run])
            self.assertNotEqual(r.returncode, 0, what)
            self.assertIn("not valid steps", r.stderr, what)
        # refused by their JSON types before any check: the batch fails all the same
        wrong = {"a seq that is text": ([dict(step, seq="one")], "invalid input syntax"),
                 "a time past bigint": ([dict(step, started_ms=10 ** 30)], "out of range"),
                 "a step that is not an object": ([1, 2], "array of objects")}
        for what, (steps, says) in wrong.items():
            good = HookRecordManyTest.run_of(None, "batched", version)
            r = HookRecordManyTest.run_many(None, [good, dict(good, id=str(uuid.uuid4()), steps=steps)])
            self.assertNotEqual(r.returncode, 0, what)
            self.assertIn(says, r.stderr, what)
        self.assertEqual(executions(), before, "a refused batch wrote nothing")
        # and the view still reads every execution
        self.assertRegex(fl.sql(E, "SELECT count(*), max(started_at) FROM glyphic.steps"), r"^\d+\|\d{4}-")

    def test_app_role_cannot_write_steps(self):
        r = E.pg.psql("INSERT INTO glyphic.executions (id, steps) VALUES (gen_random_uuid(), '[]')",
                      user="glyphic_app", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("permission denied", r.stderr)
        # the other columns it may still insert (refused here by row level security, not by privilege)
        r = E.pg.psql("INSERT INTO glyphic.executions (id) VALUES (gen_random_uuid())", user="glyphic_app",
                      check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertNotIn("permission denied", r.stderr)
        # a blanket grant would not undo it: the insert policy wants no steps
        org, wf, ver, user = fl.sql(E, "SELECT org_id, id, current_version, created_by FROM glyphic.workflows "
                                       "LIMIT 1").split("|")
        token = uuid.uuid4().hex

        def insert(steps):
            return E.pg.psql(
                "BEGIN; GRANT INSERT ON glyphic.executions TO glyphic_app; "
                "INSERT INTO glyphic.sessions (token_hash, user_id, expires_at) "
                f"VALUES (sha256('{token}'::bytea), '{user}', now() + interval '1 hour'); "
                "SET LOCAL ROLE glyphic_app; "
                f"SELECT count(*) FROM glyphic.auth_session(sha256('{token}'::bytea), '{org}', 3600); "
                "INSERT INTO glyphic.executions (id, org_id, workflow_id, version, trigger, steps) "
                f"VALUES (gen_random_uuid(), '{org}', '{wf}', {ver}, 'manual', {steps}); ROLLBACK",
                check=False)
        r = insert("NULL")
        self.assertEqual(r.returncode, 0, r.stderr)  # the context lets it insert an execution
        r = insert("'[]'")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("row-level security", r.stderr)

        # nor would a blanket UPDATE grant let it change them afterwards
        # (sql/034): its policy lets it update its org's executions
        def update(change):
            return E.pg.psql(
                "BEGIN; GRANT INSERT, UPDATE ON glyphic.executions TO glyphic_app; "
                "INSERT INTO glyphic.sessions (token_hash, user_id, expires_at) "
                f"VALUES (sha256('{token}'::bytea), '{user}', now() + interval '1 hour'); "
                "SET LOCAL ROLE glyphic_app; "
                f"SELECT count(*) FROM glyphic.auth_session(sha256('{token}'::bytea), '{org}', 3600); "
                "INSERT INTO glyphic.executions (id, org_id, workflow_id, version, trigger) "
                f"VALUES ('00000000-0000-4000-8000-000000000034', '{org}', '{wf}', {ver}, 'manual'); "
                f"UPDATE glyphic.executions SET {change} WHERE id = '00000000-0000-4000-8000-000000000034' "
                "RETURNING 'updated'; ROLLBACK",
                check=False)
        r = update("status = 'canceled'")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("updated", r.stdout)  # the policy lets it update that row
        bad = json.dumps([{"seq": 1, "node_id": "x", "run_index": 0, "attempt": 1, "status": "succeeded",
                           "started_ms": 10**16, "finished_ms": 10**16}])
        for change in (f"steps = '{bad}'", "steps = '[]'", "status = 'canceled', steps = coalesce(steps, '[]')"):
            r = update(change)
            self.assertNotEqual(r.returncode, 0, change)
            self.assertIn("never changed", r.stderr, change)
        r = update("steps = NULL")  # naming the column without changing it is no change
        self.assertEqual(r.returncode, 0, r.stderr)
        # nor may it call the check's raiser
        r = E.pg.psql("SELECT glyphic.hook_bad_steps(1)", user="glyphic_app", check=False)
        self.assertIn("permission denied", r.stderr)
        # the view is read only
        self.assertEqual(fl.sql(E, "SELECT has_table_privilege('glyphic_app', 'glyphic.steps', 'SELECT'), "
                                   "has_table_privilege('glyphic_app', 'glyphic.steps', 'INSERT,UPDATE,DELETE')"),
                         "t|f")


class HookRecordManyTest(unittest.TestCase):
    """The function itself, as the app role (glyphic-events connects as it)."""

    def run_many(self, runs, user="glyphic_app"):
        q = f"SELECT string_agg(outcome, ',' ORDER BY ord) FROM glyphic.hook_record_many('{json.dumps(runs)}')"
        return E.pg.psql(q, user=user, check=False)

    def run_of(self, path, version, status="succeeded"):
        return {"path": path, "version": version, "id": str(uuid.uuid4()), "item": {"body": BODY},
                "status": status, "steps": [{"seq": 1, "node_id": "hook", "run_index": 0, "attempt": 1,
                                             "status": "succeeded", "output": {"main": [BODY]},
                                             "started_ms": 1, "finished_ms": 2}],
                "output": [BODY], "response": None, "error": None, "started_ms": 1}

    def test_answers(self):
        version = int(fl.sql(E, "SELECT version FROM glyphic.webhooks WHERE path = 'batched'"))
        runs = [self.run_of("batched", version), self.run_of("batched", version + 1),
                self.run_of("nowhere", 1), self.run_of("batched", version, status="failed")]
        r = self.run_many(runs)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), "recorded,changed,changed,alone")
        ids = ",".join(f"'{x['id']}'" for x in runs)
        self.assertEqual(fl.sql(E, f"SELECT count(*) FROM glyphic.executions WHERE id IN ({ids})"), "1")
        # the same id again: the whole statement fails, nothing more is written
        r = self.run_many([self.run_of("batched", version), runs[0]])
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("duplicate key", r.stderr)
        self.assertEqual(fl.sql(E, f"SELECT count(*) FROM glyphic.executions WHERE id IN ({ids})"), "1")

    def test_org_limit(self):
        org = fl.sql(E, "SELECT org_id FROM glyphic.webhooks WHERE path = 'batched'")
        version = int(fl.sql(E, "SELECT version FROM glyphic.webhooks WHERE path = 'batched'"))
        fl.sql(E, f"INSERT INTO glyphic.org_limits (org_id, webhooks_per_minute) VALUES ('{org}', 2) "
                  "ON CONFLICT (org_id) DO UPDATE SET webhooks_per_minute = 2")
        fl.sql(E, "DELETE FROM glyphic.org_webhook_counts")
        try:
            r = self.run_many([self.run_of("batched", version) for _ in range(3)])
            self.assertEqual(r.stdout.strip(), "recorded,recorded,limited", r.stderr)
        finally:
            fl.sql(E, f"DELETE FROM glyphic.org_limits WHERE org_id = '{org}'")
            fl.sql(E, "DELETE FROM glyphic.org_webhook_counts")

    def test_org_limit_default(self):
        """The limit is read once per org of a batch (031), as org_webhook_admit
        reads it: the org's own (NULL: none set) over the default."""
        org = fl.sql(E, "SELECT org_id FROM glyphic.webhooks WHERE path = 'batched'")
        version = int(fl.sql(E, "SELECT version FROM glyphic.webhooks WHERE path = 'batched'"))
        counted = "SELECT coalesce(sum(calls), 0) FROM glyphic.org_webhook_counts"
        fl.sql(E, "INSERT INTO glyphic.settings (key, value) VALUES ('limits.org_webhooks_per_minute', '2') "
                  "ON CONFLICT (key) DO UPDATE SET value = '2'")
        fl.sql(E, "DELETE FROM glyphic.org_webhook_counts")
        try:
            # no row of its own: the default
            r = self.run_many([self.run_of("batched", version) for _ in range(3)])
            self.assertEqual(r.stdout.strip(), "recorded,recorded,limited", r.stderr)
            # a row without a webhook limit: still the default
            fl.sql(E, "DELETE FROM glyphic.org_webhook_counts")
            fl.sql(E, f"INSERT INTO glyphic.org_limits (org_id, max_running) VALUES ('{org}', 5)")
            r = self.run_many([self.run_of("batched", version), self.run_of("nowhere", 1),
                               self.run_of("batched", version), self.run_of("batched", version)])
            self.assertEqual(r.stdout.strip(), "recorded,changed,recorded,limited", r.stderr)
            # the org's own 0 (no limit) over the default: nothing limited, nothing counted
            fl.sql(E, "DELETE FROM glyphic.org_webhook_counts")
            fl.sql(E, f"UPDATE glyphic.org_limits SET webhooks_per_minute = 0 WHERE org_id = '{org}'")
            r = self.run_many([self.run_of("batched", version) for _ in range(4)])
            self.assertEqual(r.stdout.strip(), "recorded,recorded,recorded,recorded", r.stderr)
            self.assertEqual(fl.sql(E, counted), "0")
        finally:
            fl.sql(E, f"DELETE FROM glyphic.org_limits WHERE org_id = '{org}'")
            fl.sql(E, "UPDATE glyphic.settings SET value = '0' WHERE key = 'limits.org_webhooks_per_minute'")
            fl.sql(E, "DELETE FROM glyphic.org_webhook_counts")

    def test_not_an_array(self):
        r = E.pg.psql("SELECT * FROM glyphic.hook_record_many('{}')", user="glyphic_app", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("array of runs", r.stderr)

    def test_the_executor_may_not_call_it(self):
        r = self.run_many([], user="glyphic_executor")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("permission denied", r.stderr)


if __name__ == "__main__":
    unittest.main()
