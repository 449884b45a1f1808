"""Bounded CPU on the direct webhook path: an anonymous caller sends data
that makes a workflow's expressions expensive. A search that used to be
quadratic answers at once; work that stays within every expression's step
budget but not within http.direct_budget_ms (2000 ms by default) fails the
execution mid-expression, recorded like any failure and answered 500
workflow_failed, and the API keeps answering meanwhile and afterwards.
Real PostgreSQL, glyphic-fcgi and nginx; no executor (the direct path runs
inside glyphic-fcgi)."""
import threading
import time
import unittest
import uuid

import harness

ENV = None
BOUND_S = 15  # safety net for hostile calls: the budget is 2 s


def setUpModule():
    global ENV
    ENV = harness.Env(workers=2)
    ENV.start_all()


def tearDownModule():
    ENV.close()


def hook(path, body):
    return ENV.request("POST", "/hooks/" + path, body=body, timeout=150)


def direct_flow(c, nodes):
    """An active sync webhook at a fresh path running the data.set nodes
    given as {id: fields}, one after the other (all quick and local: the
    direct path)."""
    path = f"hostile-{uuid.uuid4().hex[:8]}"
    trig = {"id": "hook", "type": "trigger.webhook", "name": "Hook", "params": {"path": path, "mode": "sync"}}
    chain = [trig] + [{"id": nid, "type": "data.set", "name": nid.title(), "params": {"fields": fields}}
                      for nid, fields in nodes.items()]
    d = {"nodes": chain, "edges": [{"from": a["id"], "to": b["id"]} for a, b in zip(chain, chain[1:])]}
    r = c.post("/api/workflows", {"name": "Hostile", "definition": d})
    assert r.status == 201, r
    r = c.post(f"/api/workflows/{r.json()['id']}/activate")
    assert r.status == 200, r
    return path


# 600 KB of 'a' and a needle of 300 KB of 'a': every position of the first
# half is a hit of the overlapping needle (lastIndexOf used to walk them all,
# comparing 300 KB each: minutes)
BODY = {"s": "a" * 600000, "n": "a" * 300000}
LAST = "$json.body.s.lastIndexOf($json.body.n)"


class DirectBudgetTest(unittest.TestCase):
    def test_quadratic_search_answers_at_once(self):
        a = ENV.signup(f"search-{uuid.uuid4().hex[:8]}@example.com")
        path = direct_flow(a, {"set": {"i": "{{ %s }}" % LAST}})
        t0 = time.monotonic()
        r = hook(path, BODY)
        took = time.monotonic() - t0
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["i"], 300000)
        self.assertLess(took, BOUND_S)

    def test_work_past_the_budget_fails_the_execution(self):
        a = ENV.signup(f"budget-{uuid.uuid4().hex[:8]}@example.com")
        # each {{ }} costs about 75,000 of its 100,000 steps (four linear
        # searches through 600 KB), and each parameter holds as many as fit
        # in 64 KB; four such nodes are several seconds of work, more than
        # the 2 s budget
        one = "{{ %s }}" % " + ".join([LAST] * 4)
        template = " ".join([one] * (60000 // (len(one) + 1)))
        path = direct_flow(a, {f"set{i}": {"x": template} for i in range(4)})
        got = {}

        def call():
            t0 = time.monotonic()
            got["r"] = hook(path, BODY)
            got["took"] = time.monotonic() - t0

        t = threading.Thread(target=call)
        t.start()
        time.sleep(0.5)
        # one worker is busy with the hostile call; the other answers
        self.assertEqual(ENV.request("GET", "/api/health").status, 200)
        t.join(150)
        self.assertFalse(t.is_alive())
        r = got["r"]
        self.assertEqual(r.status, 500, r)
        err = r.json()["error"]
        self.assertEqual(err["code"], "workflow_failed")
        self.assertIn("expression exceeded its time budget", err["message"])
        self.assertLess(got["took"], BOUND_S)
        e = a.get(f"/api/executions/{r.header('X-Glyphic-Execution')}").json()
        self.assertEqual(e["status"], "failed")
        # which node the budget runs out in depends on the machine's speed
        self.assertIn(e["error"]["node"], {"set0", "set1", "set2", "set3"})
        self.assertIn("time budget", e["error"]["message"])
        # and both workers answer again
        for _ in range(4):
            self.assertEqual(ENV.request("GET", "/api/health").status, 200)

    def test_steps_bound_each_expression(self):
        a = ENV.signup(f"steps-{uuid.uuid4().hex[:8]}@example.com")
        # one {{ }} of 10 searches through 600 KB: over its 100,000 steps
        path = direct_flow(a, {"set": {"x": "{{ %s }}" % " + ".join([LAST] * 10)}})
        t0 = time.monotonic()
        r = hook(path, BODY)
        self.assertLess(time.monotonic() - t0, BOUND_S)
        self.assertEqual(r.status, 500, r)
        self.assertIn("expression exceeds 100000 steps", r.json()["error"]["message"])
        self.assertEqual(ENV.request("GET", "/api/health").status, 200)


if __name__ == "__main__":
    unittest.main()
