"""Signed webhooks end to end: trigger.webhook's `secret` (a webhook.hmac
credential of the org) and `signature` (stripe or github), checked by
glyphic-fcgi before anything starts, on the direct sync path, the queued sync
path and in async mode — real PostgreSQL, nginx, glyphic-fcgi,
glyphic-events and an executor. Credentials are put in the database with
their secret sealed from Python (vaultlib), as the credentials API would."""
import hashlib
import hmac
import json
import os
import signal
import subprocess
import time
import unittest
import uuid

import harness
import vaultlib

ENV = None
EXECUTOR = None
EXECUTOR_ERR = None
EXECUTOR_BIN = os.path.join(harness.BUILD, "executor", "glyphic-executor")
SECRETS = []      # every credential secret stored: none may show up in logs or answers
RESPONSES = []    # every answer of a /hooks/ call


def setUpModule():
    global ENV, EXECUTOR, EXECUTOR_ERR
    ENV = harness.Env(workers=2, fcgi_extra={"executor.poll_ms": "200", "executor.workers": "1",
                                             "log.level": "debug"})
    ENV.start_all()
    ENV.fcgi.write_conf()
    EXECUTOR_ERR = open(os.path.join(ENV.base, "executor.stderr"), "w")
    EXECUTOR = subprocess.Popen([EXECUTOR_BIN, "-c", ENV.fcgi.conf, "--daemon"], stdout=subprocess.DEVNULL,
                                stderr=EXECUTOR_ERR, start_new_session=True)


def tearDownModule():
    if EXECUTOR and EXECUTOR.poll() is None:
        os.killpg(EXECUTOR.pid, signal.SIGTERM)
        EXECUTOR.wait(30)
    EXECUTOR_ERR.close()
    ENV.close()


def sql(q):
    return ENV.pg.psql(q, user="postgres")


def user():
    return ENV.signup(f"sig-{uuid.uuid4().hex[:8]}@example.com")


def secret_value():
    s = "whsec_" + uuid.uuid4().hex
    SECRETS.append(s)
    return s


def credential(c, name, value, ctype="webhook.hmac"):
    return vaultlib.insert_credential(ENV, c.me["org_id"], name, ctype, {}, {"secret": value})


def flow(path, mode="sync", queued=False, **sig):
    """webhook -> set total = a + b -> respond (sync), with the trigger's
    signature parameters sig; queued: the set node may retry, so a sync
    call is not run directly but queued and answered by glyphic-events."""
    trig = {"id": "hook", "type": "trigger.webhook", "name": "Hook", "params": {"path": path, "mode": mode, **sig}}
    setn = {"id": "set", "type": "data.set", "name": "Set",
            "params": {"fields": {"total": "{{ $json.body.a + $json.body.b }}"}}}
    if queued:
        setn["retry"] = {"max": 2}
    nodes, edges = [trig, setn], [{"from": "hook", "to": "set"}]
    if mode == "sync":
        nodes.append({"id": "respond", "type": "flow.respond", "name": "Respond",
                      "params": {"body": "{{ { total: $json.total } }}"}})
        edges.append({"from": "set", "to": "respond"})
    return {"nodes": nodes, "edges": edges}


def activate(c, definition, name="Signed"):
    r = c.post("/api/workflows", {"name": name, "definition": definition})
    assert r.status == 201, r
    wid = r.json()["id"]
    r = c.post(f"/api/workflows/{wid}/activate")
    assert r.status == 200, r
    return wid


def executions(wid):
    return int(sql(f"SELECT count(*) FROM glyphic.executions WHERE workflow_id = '{wid}'"))


def jobs(org):
    return int(sql(f"SELECT count(*) FROM glyphic.jobs WHERE org_id = '{org}'"))


def stripe_header(secret, body, t=None):
    t = int(time.time()) if t is None else t
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def github_header(secret, body):
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def call(path, body, headers=None, content_type="application/json"):
    h = {"Content-Type": content_type, **(headers or {})}
    r = ENV.request("POST", "/hooks/" + path, body=body, headers=h)
    RESPONSES.append(r)
    return r


def wait_for(fn, timeout=30, what="condition"):
    end = time.time() + timeout
    while time.time() < end:
        v = fn()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class SignedWebhooks(unittest.TestCase):
    def refused(self, r, header):
        self.assertEqual(r.status, 401, r)
        e = r.json()["error"]
        self.assertEqual(e["code"], "invalid_signature", r)
        self.assertEqual(e.get("field"), header)
        return e["message"]

    def stripe_refusals(self, path, secret, body, header="Stripe-Signature"):
        """Every way a Stripe-style call can be wrong: 401 each time."""
        now = int(time.time())
        msgs = {}
        msgs["tampered"] = self.refused(call(path, body + b" ", {header: stripe_header(secret, body)}), header)
        msgs["wrong"] = self.refused(call(path, body, {header: stripe_header("whsec_wrong", body)}), header)
        msgs["old"] = self.refused(call(path, body, {header: stripe_header(secret, body, now - 400)}), header)
        msgs["future"] = self.refused(call(path, body, {header: stripe_header(secret, body, now + 400)}), header)
        msgs["missing"] = self.refused(call(path, body), header)
        msgs["malformed"] = self.refused(call(path, body, {header: "v1=" + "0" * 64}), header)
        msgs["garbage"] = self.refused(call(path, body, {header: "hello"}), header)
        self.assertIn("does not match", msgs["tampered"])
        self.assertIn("does not match", msgs["wrong"])
        self.assertIn("seconds away", msgs["old"])
        self.assertIn("seconds away", msgs["future"])
        self.assertIn("missing", msgs["missing"])
        self.assertIn("malformed", msgs["malformed"])

    def github_refusals(self, path, secret, body, header="X-Hub-Signature-256", ct="application/json"):
        # (a body tampered into broken JSON is refused before, 400 invalid_json)
        self.refused(call(path, body + b" ", {header: github_header(secret, body)}, ct), header)
        self.refused(call(path, body, {header: github_header("not the secret", body)}, ct), header)
        self.refused(call(path, body, None, ct), header)
        self.refused(call(path, body, {header: github_header(secret, body)[7:]}, ct), header)  # no sha256=
        self.refused(call(path, body, {header: "sha256=abc"}, ct), header)

    def test_stripe_sync_direct(self):
        c = user()
        s = secret_value()
        credential(c, "stripe", s)
        path = f"st-{uuid.uuid4().hex[:8]}"
        wid = activate(c, flow(path, signature="stripe", secret="stripe"))
        # the raw body is what is signed: spacing a re-serialisation would lose
        body = b'{"a": 2,   "b": 3}'
        self.stripe_refusals(path, s, body)
        self.assertEqual(executions(wid), 0)
        r = call(path, body, {"Stripe-Signature": stripe_header(s, body)})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"total": 5})
        self.assertEqual(executions(wid), 1)
        # a replay within the window is accepted (Stripe's design: the window bounds it)
        h = stripe_header(s, body)
        self.assertEqual(call(path, body, {"Stripe-Signature": h}).status, 200)
        self.assertEqual(call(path, body, {"Stripe-Signature": h}).status, 200)
        # several v1 (a sender rolling its key): one matching is enough
        t = int(time.time())
        both = f"t={t},v1={'0' * 64},v1={stripe_header(s, body, t).split('v1=')[1]},v0=ignored"
        self.assertEqual(call(path, body, {"Stripe-Signature": both}).status, 200)
        self.stripe_refusals(path, s, body)  # now with the check cached in the workers
        self.assertEqual(executions(wid), 4)

    def test_github_sync_direct_published_vector(self):
        # GitHub's documented example: this secret and payload, this signature
        c = user()
        SECRETS.append("It's a Secret to Everybody")
        credential(c, "gh", "It's a Secret to Everybody")
        path = f"gh-{uuid.uuid4().hex[:8]}"
        d = flow(path, signature="github", secret="gh")
        d["nodes"][1]["params"]["fields"] = {"total": "{{ $json.body }}"}
        wid = activate(c, d)
        body = b"Hello, World!"
        sig = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        self.assertEqual(github_header("It's a Secret to Everybody", body), sig)
        r = call(path, body, {"X-Hub-Signature-256": sig}, content_type="text/plain")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"total": "Hello, World!"})
        self.github_refusals(path, "It's a Secret to Everybody", body, ct="text/plain")
        self.assertEqual(executions(wid), 1)
        # the signature header stays in the item (it is no secret)
        item = json.loads(sql(f"SELECT input->0 FROM glyphic.executions WHERE workflow_id = '{wid}'"))
        self.assertEqual(item["headers"]["x-hub-signature-256"], sig)

    def test_custom_header_and_tolerance(self):
        c = user()
        s = secret_value()
        credential(c, "k", s)
        path = f"cu-{uuid.uuid4().hex[:8]}"
        wid = activate(c, flow(path, signature="stripe", secret="k", signature_header="X-Signature",
                               signature_tolerance_s=60))
        body = b'{"a": 1, "b": 1}'
        now = int(time.time())
        # the default header is not read
        self.refused(call(path, body, {"Stripe-Signature": stripe_header(s, body)}), "X-Signature")
        self.refused(call(path, body, {"X-Signature": stripe_header(s, body, now - 120)}), "X-Signature")
        self.assertEqual(call(path, body, {"X-Signature": stripe_header(s, body, now - 30)}).status, 200)
        self.assertEqual(executions(wid), 1)

    def test_async_mode(self):
        c = user()
        org = c.me["org_id"]
        s1, s2 = secret_value(), secret_value()
        credential(c, "a1", s1)
        credential(c, "a2", s2)
        p1, p2 = f"as-{uuid.uuid4().hex[:8]}", f"ag-{uuid.uuid4().hex[:8]}"
        w1 = activate(c, flow(p1, mode="async", signature="stripe", secret="a1"))
        w2 = activate(c, flow(p2, mode="async", signature="github", secret="a2"))
        body = b'{"a": 20, "b": 3}'
        self.stripe_refusals(p1, s1, body)
        self.github_refusals(p2, s2, body)
        self.assertEqual((executions(w1), executions(w2), jobs(org)), (0, 0, 0))  # nothing queued
        r1 = call(p1, body, {"Stripe-Signature": stripe_header(s1, body)})
        r2 = call(p2, body, {"X-Hub-Signature-256": github_header(s2, body)})
        self.assertEqual((r1.status, r2.status), (202, 202), (r1, r2))
        for r in (r1, r2):
            eid = r.json()["execution_id"]
            wait_for(lambda: sql(f"SELECT status FROM glyphic.executions WHERE id = '{eid}'") == "succeeded",
                     what="the execution")
            self.assertEqual(json.loads(sql(f"SELECT output->0->>'total' FROM glyphic.executions "
                                            f"WHERE id = '{eid}'")), 23)
        self.assertEqual((executions(w1), executions(w2)), (1, 1))

    def test_queued_sync_mode(self):
        c = user()
        s = secret_value()
        credential(c, "q", s)
        path = f"qs-{uuid.uuid4().hex[:8]}"
        wid = activate(c, flow(path, queued=True, signature="stripe", secret="q"))
        body = b'{"a": 4, "b": 5}'
        self.stripe_refusals(path, s, body)
        self.assertEqual(executions(wid), 0)
        r = call(path, body, {"Stripe-Signature": stripe_header(s, body)})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"total": 9})
        self.assertEqual(executions(wid), 1)
        # the github scheme on the same path after a save
        d = flow(path, queued=True, signature="github", secret="q")
        r = c.put(f"/api/workflows/{wid}", {"definition": d, "base_version": 1})
        self.assertEqual(r.status, 200, r)
        self.refused(call(path, body, {"Stripe-Signature": stripe_header(s, body)}), "X-Hub-Signature-256")
        r = call(path, body, {"X-Hub-Signature-256": github_header(s, body)})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(executions(wid), 2)

    def test_other_orgs_credential_is_not_used(self):
        a, b = user(), user()
        sb = secret_value()
        credential(b, "shared", sb)  # org B's, same name
        path = f"oo-{uuid.uuid4().hex[:8]}"
        wid = activate(a, flow(path, signature="stripe", secret="shared"))
        body = b'{"a": 1, "b": 2}'
        mark = len(ENV.fcgi.log_text())
        msg = self.refused(call(path, body, {"Stripe-Signature": stripe_header(sb, body)}), "Stripe-Signature")
        self.assertIn("does not match", msg)  # the caller is not told the credential is missing
        self.assertEqual(executions(wid), 0)
        log = ENV.fcgi.log_text()[mark:]
        self.assertIn("no credential of type webhook.hmac named 'shared'", log)
        # a credential of another type with that name is not used either
        sa = secret_value()
        credential(a, "shared", sa, ctype="http.bearer")
        self.refused(call(path, body, {"Stripe-Signature": stripe_header(sa, body)}), "Stripe-Signature")
        # once org A has its own, it is used at once (the missing one was not cached)
        sql(f"DELETE FROM glyphic.credentials WHERE org_id = '{a.me['org_id']}' AND name = 'shared'")
        sa2 = secret_value()
        credential(a, "shared", sa2)
        self.assertEqual(call(path, body, {"Stripe-Signature": stripe_header(sa2, body)}).status, 200)
        self.refused(call(path, body, {"Stripe-Signature": stripe_header(sb, body)}), "Stripe-Signature")
        self.assertEqual(executions(wid), 1)

    def test_changed_secret_applies_within_a_second(self):
        c = user()
        org = c.me["org_id"]
        old, new = secret_value(), secret_value()
        cid = credential(c, "rot", old)
        path = f"ch-{uuid.uuid4().hex[:8]}"
        wid = activate(c, flow(path, signature="github", secret="rot"))
        w2 = activate(c, flow(path + "-async", mode="async", signature="github", secret="rot"))
        body = b'{"a": 1, "b": 1}'
        for _ in range(6):  # every worker caches the old key
            self.assertEqual(call(path, body, {"X-Hub-Signature-256": github_header(old, body)}).status, 200)
            self.assertEqual(call(path + "-async", body, {"X-Hub-Signature-256": github_header(old, body)}).status,
                             202)
        key = vaultlib.read_key(ENV.fcgi.key_file)
        sealed = vaultlib.seal(key, org, cid, "secret", new)
        sql(f"UPDATE glyphic.credentials SET secrets = jsonb_build_object('secret', '{sealed}') WHERE id = '{cid}'")
        # a call signed with the new key is served at once (a failed check
        # against a cached key looks the credential up again) ...
        self.assertEqual(call(path, body, {"X-Hub-Signature-256": github_header(new, body)}).status, 200)
        # ... and within a second every worker has let go of the old one
        time.sleep(1.2)
        for _ in range(6):
            self.refused(call(path, body, {"X-Hub-Signature-256": github_header(old, body)}), "X-Hub-Signature-256")
            self.refused(call(path + "-async", body, {"X-Hub-Signature-256": github_header(old, body)}),
                         "X-Hub-Signature-256")
        self.assertEqual((executions(wid), executions(w2)), (7, 6))
        self.assertEqual(call(path + "-async", body, {"X-Hub-Signature-256": github_header(new, body)}).status, 202)
        # a deleted credential: nothing is accepted any more
        sql(f"DELETE FROM glyphic.credentials WHERE id = '{cid}'")
        time.sleep(1.2)
        for _ in range(4):
            self.refused(call(path, body, {"X-Hub-Signature-256": github_header(new, body)}), "X-Hub-Signature-256")
        self.assertEqual((executions(wid), executions(w2)), (7, 7))

    def test_credential_that_does_not_open(self):
        c = user()
        org = c.me["org_id"]
        s = secret_value()
        # sealed for another credential id: it does not open in this row
        key = vaultlib.read_key(ENV.fcgi.key_file)
        sealed = vaultlib.seal(key, org, str(uuid.uuid4()), "secret", s)
        cid = str(uuid.uuid4())
        sql(f"INSERT INTO glyphic.credentials (id, org_id, name, type, secrets, key_id) VALUES ('{cid}', '{org}', "
            f"'moved', 'webhook.hmac', jsonb_build_object('secret', '{sealed}'), '{vaultlib.key_id(key)}')")
        path = f"mv-{uuid.uuid4().hex[:8]}"
        wid = activate(c, flow(path, signature="stripe", secret="moved"))
        body = b'{"a": 1, "b": 2}'
        mark = len(ENV.fcgi.log_text())
        msg = self.refused(call(path, body, {"Stripe-Signature": stripe_header(s, body)}), "Stripe-Signature")
        self.assertEqual(msg, "the signature does not match")
        self.assertIn(f"credential 'moved' ({cid}) does not open", ENV.fcgi.log_text()[mark:])
        # a credential without the secret field
        sql(f"INSERT INTO glyphic.credentials (org_id, name, type) VALUES ('{org}', 'empty', 'webhook.hmac')")
        p2 = f"em-{uuid.uuid4().hex[:8]}"
        w2 = activate(c, flow(p2, signature="github", secret="empty"))
        self.refused(call(p2, body, {"X-Hub-Signature-256": github_header("", body)}), "X-Hub-Signature-256")
        self.assertIn("has no secret set", ENV.fcgi.log_text()[mark:])
        self.assertEqual((executions(wid), executions(w2)), (0, 0))

    def test_validation(self):
        c = user()
        for sig, problem in (({"secret": "k"}, "params.secret"),
                             ({"secret": "k", "signature": "none"}, "params.secret"),
                             ({"signature": "stripe"}, "params.signature"),
                             ({"secret": "k", "signature": "md5"}, "params.signature"),
                             ({"secret": "k", "signature": "github", "signature_header": "X Sig"},
                              "params.signature_header"),
                             ({"secret": "k", "signature": "stripe", "signature_tolerance_s": 0},
                              "params.signature_tolerance_s")):
            r = c.post("/api/workflows", {"name": "bad", "definition": flow("v-" + uuid.uuid4().hex[:8], **sig)})
            self.assertEqual(r.status, 400, (sig, r))
            self.assertEqual(r.json()["error"]["code"], "invalid_definition")
            self.assertIn(problem, json.dumps(r.json()), sig)
        # the database refuses a signed row without a credential name, whoever writes it
        out = ENV.pg.psql("INSERT INTO glyphic.webhooks (org_id, workflow_id, version, node_id, path, method, mode, "
                          "signature) SELECT org_id, id, 1, 'x', 'never', 'POST', 'sync', 'stripe' "
                          "FROM glyphic.workflows LIMIT 1", user="postgres", check=False)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("webhooks_signature", out.stderr)

    def test_unsigned_webhooks_unchanged(self):
        c = user()
        path = f"un-{uuid.uuid4().hex[:8]}"
        wid = activate(c, flow(path))
        r = call(path, b'{"a": 1, "b": 2}', {"Stripe-Signature": "whatever"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(executions(wid), 1)

    def test_zz_secrets_never_in_logs_or_answers(self):
        # runs last (unittest sorts by name): every secret stored so far
        self.assertGreater(len(SECRETS), 5)
        self.assertGreater(len(RESPONSES), 50)
        texts = [ENV.fcgi.log_text()]
        for name in os.listdir(ENV.base):
            p = os.path.join(ENV.base, name)
            if os.path.isfile(p) and (name.endswith(".log") or name.endswith(".stderr")):
                with open(p, errors="replace") as f:
                    texts.append(f.read())
        for r in RESPONSES:
            texts.append(r.body.decode(errors="replace") + json.dumps(r.headers))
        texts.append(sql("SELECT coalesce(string_agg(input::text || coalesce(output::text, '') || "
                         "coalesce(error::text, ''), ''), '') FROM glyphic.executions"))
        for s in SECRETS:
            for t in texts:
                self.assertNotIn(s, t)


if __name__ == "__main__":
    unittest.main()
