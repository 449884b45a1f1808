"""Poison: output PostgreSQL cannot store fails its node (the execution
ends failed, recorded) instead of failing the job over and over; an
outcome the database refuses for good, or an error message cut inside a
UTF-8 sequence, does not stop a worker from draining."""
import json
import unittest

import faultlib as fl

E = None

# expression text with \u0000 escapes (the JSON around it carries "\\u0000")
NUL_FIELDS = {"x": "{{ 'a\\u0000b' }}", "y": "{{ 'x'.padEnd(3, '\\u0000') }}"}


def setUpModule():
    global E
    E = fl.env()


def tearDownModule():
    E.close()


class PoisonTest(unittest.TestCase):
    def poison_workflow(self, path, mode):
        a = fl.user(E)
        hook = fl.hook_node(path, mode)
        setn = {"id": "set", "type": "data.set", "name": "Poison", "params": {"fields": NUL_FIELDS}}
        return fl.create(a, [hook, setn], fl.chain(hook, setn))

    def check_failed_execution(self, wid):
        row = fl.sql(E, f"SELECT status, error::text FROM glyphic.executions WHERE workflow_id = '{wid}'")
        status, error = row.split("|", 1)
        self.assertEqual(status, "failed")
        err = json.loads(error)
        self.assertEqual(err["node"], "set")
        self.assertIn("main[0].x", err["message"])
        self.assertIn("NUL", err["message"])
        steps = fl.sql(E, f"SELECT string_agg(s.node_id || ':' || s.status, ',' ORDER BY s.seq) "
                          f"FROM glyphic.execution_steps s JOIN glyphic.executions e ON e.id = s.execution_id "
                          f"WHERE e.workflow_id = '{wid}'")
        self.assertEqual(steps, "hook:succeeded,set:failed")

    def test_poison_output_in_the_executor_fails_the_node_once(self):
        wid = self.poison_workflow("poison-async", "async")
        self.assertEqual(E.request("POST", "/hooks/poison-async", {"a": 1}).status, 202)
        ex = fl.start(E, "--workers", "1")
        try:
            fl.wait_for(lambda: fl.all_finished(E, wid, 1), timeout=30, what="the execution")
        finally:
            fl.stop(ex)
        self.check_failed_execution(wid)
        self.assertEqual(fl.sql(E, "SELECT count(*) FROM glyphic.jobs WHERE kind = 'workflow.run'"), "0")
        self.assertNotIn("gave up", fl.log_text(E))

    def test_poison_output_on_the_direct_path_is_recorded(self):
        wid = self.poison_workflow("poison-sync", "sync")
        r = E.request("POST", "/hooks/poison-sync", {"a": 1})
        self.assertEqual(r.status, 500, r)
        self.assertIn("cannot be stored", r.json()["error"]["message"])
        self.check_failed_execution(wid)

    def test_a_permanent_recording_error_does_not_wedge_the_worker(self):
        fl.sql(E, "TRUNCATE public.glyphic_test_runs; DELETE FROM glyphic.jobs")
        # the database refuses to complete one job, for good
        fl.sql(E, "CREATE FUNCTION public.refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                  "IF OLD.payload ? 'poison' THEN RAISE EXCEPTION 'refused on purpose' USING ERRCODE = 'P0001'; END IF; "
                  "RETURN OLD; END $$; CREATE TRIGGER refuse_poison BEFORE DELETE ON glyphic.jobs "
                  "FOR EACH ROW EXECUTE FUNCTION public.refuse_poison()")
        try:
            poison = fl.sql(E, "SELECT glyphic.enqueue('test.record', '{\"poison\": true}')")
            # a job kind of 30 three-byte characters: its "no handler" message
            # is cut at 64 bytes, inside a character
            euro = fl.sql(E, "SELECT glyphic.enqueue(repeat('€', 30))")
            fl.sql(E, "SELECT glyphic.enqueue_bulk('test.record', array_fill('{}'::jsonb, ARRAY[50]))")
            r = fl.start(E, "--workers", "1", "--linger", "2", mode="--drain")
            self.assertEqual(r.wait(60), 0)
            # the worker kept draining: everything else ran and was recorded
            self.assertEqual(fl.sql(E, "SELECT count(DISTINCT job_id) FROM public.glyphic_test_runs"), "51")
            self.assertEqual(fl.sql(E, f"SELECT count(*) FROM glyphic.jobs WHERE id NOT IN ({poison}, {euro})"), "0")
            state, err = fl.sql(E, f"SELECT state, last_error FROM glyphic.jobs WHERE id = {poison}").split("|", 1)
            self.assertEqual(state, "dead")
            self.assertIn("could not be recorded", err)
            state, err = fl.sql(E, f"SELECT state, last_error FROM glyphic.jobs WHERE id = {euro}").split("|", 1)
            self.assertEqual(state, "dead")
            self.assertIn("no handler for job kind '" + "€" * 21, err)
            # and a drain that comes later still works
            fl.sql(E, "SELECT glyphic.enqueue_bulk('test.record', array_fill('{}'::jsonb, ARRAY[20]))")
            self.assertEqual(fl.start(E, "--workers", "1", "--linger", "1", mode="--drain").wait(60), 0)
            self.assertEqual(fl.sql(E, "SELECT count(DISTINCT job_id) FROM public.glyphic_test_runs"), "71")
        finally:
            fl.sql(E, "DROP TRIGGER refuse_poison ON glyphic.jobs; DROP FUNCTION public.refuse_poison()")

    def test_an_outcome_that_cannot_be_recorded_at_all_is_given_up(self):
        fl.sql(E, "TRUNCATE public.glyphic_test_runs; DELETE FROM glyphic.jobs")
        # neither its success nor any failure can be recorded; only the
        # rescuer's update goes through
        fl.sql(E, "CREATE FUNCTION public.refuse_all() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                  "IF OLD.payload ? 'poison' AND (TG_OP = 'DELETE' OR NEW.last_error NOT LIKE 'lease lost%') THEN "
                  "RAISE EXCEPTION 'refused on purpose' USING ERRCODE = 'P0001'; END IF; "
                  "RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END; END $$; "
                  "CREATE TRIGGER refuse_all BEFORE DELETE OR UPDATE OF last_error ON glyphic.jobs "
                  "FOR EACH ROW EXECUTE FUNCTION public.refuse_all()")
        ex = fl.start(E, "--workers", "1")
        try:
            poison = fl.sql(E, "SELECT glyphic.enqueue('test.record', '{\"poison\": true}', p_max_attempts => 2)")
            fl.sql(E, "SELECT glyphic.enqueue_bulk('test.record', array_fill('{}'::jsonb, ARRAY[30]))")
            # not renewed any more: its lease runs out, it runs again, and
            # once out of attempts it is dead
            fl.wait_for(lambda: fl.sql(E, f"SELECT state FROM glyphic.jobs WHERE id = {poison}") == "dead",
                        timeout=60, what="the poison job dead")
            fl.sql(E, "SELECT glyphic.enqueue_bulk('test.record', array_fill('{}'::jsonb, ARRAY[20]))")
            fl.wait_for(lambda: fl.sql(E, "SELECT count(*) FROM glyphic.jobs") == "1", what="the others")
        finally:
            fl.stop(ex)
            fl.sql(E, "DROP TRIGGER refuse_all ON glyphic.jobs; DROP FUNCTION public.refuse_all()")
        self.assertEqual(fl.sql(E, f"SELECT count(*) FROM public.glyphic_test_runs WHERE job_id = {poison}"), "2")
        self.assertEqual(fl.sql(E, "SELECT count(DISTINCT job_id) FROM public.glyphic_test_runs"), "51")
        self.assertIn("lease lost", fl.sql(E, f"SELECT last_error FROM glyphic.jobs WHERE id = {poison}"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
