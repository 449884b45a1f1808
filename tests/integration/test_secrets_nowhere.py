"""No secret in clear anywhere (issue 14, "What it must show").

Credentials with known values are stored through the API and used by
workflows: http.request with every HTTP credential type against the local
test server (which echoes the request back, secrets included), an OAuth2
client-credentials credential against the local provider, a signed webhook,
on the success path and on failure paths. Then everything the run left is
searched for the values: a pg_dump of the database, PostgreSQL's log with
log_statement=all (parameters included), nginx's access and error logs,
every glyphic log and standard error, every API response of the run
(credentials, executions, steps, the live-progress stream, exports) and the
sync webhook answers. None may hold a value; the echoed values must show as
[redacted] where they were stored.

Real PostgreSQL, glyphic-fcgi, glyphic-events, an executor and nginx."""
import glob
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
from oauth2_provider import OAuth2Provider
from testserver import TestServer

ENV = SRV = PROVIDER = EX = None
EXECUTOR = os.path.join(harness.BUILD, "executor", "glyphic-executor")
RESPONSES = []  # every body the API answered in this run
TAG = uuid.uuid4().hex[:10]
SECRETS = {
    "bearer": f"bearer-{TAG}-Zq7",
    "header": f"header-{TAG}-Kx2",
    "password": f"password-{TAG}-Mv9",
    "query": f"query-{TAG}-Pw4",
    "hmac": f"hmac-{TAG}-Tn5",
    "client_secret": f"client-{TAG}-Hb3",
}


def setUpModule():
    global ENV, SRV, PROVIDER, EX
    SRV = TestServer().start()
    PROVIDER = OAuth2Provider(client_id="cid", client_secret=SECRETS["client_secret"]).start()
    ENV = harness.Env(workers=2, pg_settings={"log_statement": "'all'", "log_min_error_statement": "info"},
                      fcgi_extra={"log.level": "debug", "executor.poll_ms": "100", **harness.ALLOW_TEST_SERVER})
    ENV.nginx.access_log = os.path.join(ENV.base, "nginx-access.log")
    ENV.start_all()
    ENV.fcgi.write_conf()
    with open(os.path.join(ENV.base, "executor-secrets.stderr"), "w") as err:
        EX = subprocess.Popen([EXECUTOR, "-c", ENV.fcgi.conf, "--daemon"], stdout=subprocess.DEVNULL, stderr=err)


def tearDownModule():
    if EX:
        EX.send_signal(signal.SIGTERM)
        EX.wait(timeout=30)
    for part in (ENV, SRV, PROVIDER):
        if part:
            part.close() if part is ENV else part.stop()


def keep(r):
    RESPONSES.append(r.body.decode(errors="replace"))
    RESPONSES.append(json.dumps(dict(r.headers)) if hasattr(r, "headers") else "")
    return r


def sql(q):
    return ENV.pg.psql(q, user="postgres")


def create_credential(c, name, ctype, fields, secrets):
    r = keep(c.post("/api/credentials", {"name": name, "type": ctype, "fields": fields, "secrets": secrets}))
    assert r.status == 201, r
    return r.json()["id"]


def http_node(nid, url, cred, **extra):
    return {"id": nid, "type": "http.request", "name": nid,
            "params": {"url": url, "credential": cred, **extra}}


def chain(c, name, nodes, activate=True):
    edges = [{"from": a["id"], "to": b["id"]} for a, b in zip(nodes, nodes[1:])]
    r = keep(c.post("/api/workflows", {"name": name, "definition": {"nodes": nodes, "edges": edges}}))
    assert r.status == 201, r
    wid = r.json()["id"]
    if activate:
        r = keep(c.post(f"/api/workflows/{wid}/activate"))
        assert r.status == 200, r
    return wid


def wait_finished(c, wid, n, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = c.get(f"/api/executions?workflow_id={wid}&limit=50")
        items = r.json().get("executions", []) if r.status == 200 else []
        done = [e for e in items if e.get("status") in ("succeeded", "failed", "canceled")]
        if len(done) >= n:
            return done
        time.sleep(0.2)
    raise AssertionError(f"workflow {wid}: fewer than {n} executions finished")


class SecretsNowhereTest(unittest.TestCase):
    def test_no_secret_value_is_found_anywhere(self):
        c = ENV.signup(f"sec-{TAG}@example.com")
        create_credential(c, "bearer", "http.bearer", {}, {"token": SECRETS["bearer"]})
        create_credential(c, "header", "http.header", {"header_name": "X-Api-Key"}, {"value": SECRETS["header"]})
        create_credential(c, "basic", "http.basic", {"username": "alice"}, {"password": SECRETS["password"]})
        create_credential(c, "query", "http.query", {"param_name": "api_key"}, {"value": SECRETS["query"]})
        create_credential(c, "hmac", "webhook.hmac", {}, {"secret": SECRETS["hmac"]})
        create_credential(c, "oauth", "oauth2.client", {"token_url": PROVIDER.token_url, "client_id": "cid"},
                          {"client_secret": SECRETS["client_secret"]})

        # success: a signed sync webhook, every credential type, echoes answered back
        path = f"sec-{TAG}"
        nodes = [{"id": "hook", "type": "trigger.webhook", "name": "Hook",
                  "params": {"path": path, "mode": "sync", "secret": "hmac", "signature": "github"}},
                 http_node("bearer", SRV.url + "/echo", "bearer"),
                 http_node("header", SRV.url + "/echo", "header"),
                 http_node("basic", SRV.url + "/echo", "basic"),
                 http_node("query", SRV.url + "/echo", "query"),
                 http_node("oauth", PROVIDER.resource_url, "oauth"),
                 {"id": "all", "type": "flow.respond", "name": "Respond",
                  "params": {"body": "{{ { bearer: $node['bearer'].json, header: $node['header'].json, "
                                     "basic: $node['basic'].json, query: $node['query'].json } }}"}}]
        ok_wf = chain(c, "Secrets OK", nodes)
        body = json.dumps({"hello": "world"}).encode()
        sig = "sha256=" + hmac.new(SECRETS["hmac"].encode(), body, hashlib.sha256).hexdigest()
        r = keep(ENV.request("POST", f"/hooks/{path}", body,
                             {"Content-Type": "application/json", "X-Hub-Signature-256": sig}, timeout=60))
        self.assertEqual(r.status, 200, r)
        answer = r.body.decode()
        self.assertIn("[redacted]", answer)
        # the test server did get the real values
        seen = json.dumps(SRV.requests("/echo"))
        for k in ("bearer", "header", "query"):
            self.assertIn(SECRETS[k], seen)

        # failure paths: a refused status with the key in the query, and a bad signature
        fail_wf = chain(c, "Secrets fail", [
            {"id": "t", "type": "trigger.manual", "name": "Start"},
            http_node("q500", SRV.url + "/status/500", "query"),
        ], activate=False)
        r = keep(c.post(f"/api/workflows/{fail_wf}/run", {"input": [{}]}))
        self.assertIn(r.status, (200, 201, 202), r)
        r = keep(ENV.request("POST", f"/hooks/{path}", body,
                             {"Content-Type": "application/json", "X-Hub-Signature-256": "sha256=" + "0" * 64}))
        self.assertEqual(r.status, 401, r)

        wait_finished(c, ok_wf, 1)
        failed = wait_finished(c, fail_wf, 1)
        self.assertEqual(failed[0]["status"], "failed")

        # read back everything a user can
        for wid in (ok_wf, fail_wf):
            lst = keep(c.get(f"/api/executions?workflow_id={wid}&limit=50"))
            for e in lst.json()["executions"]:
                detail = keep(c.get(f"/api/executions/{e['id']}"))
                self.assertEqual(detail.status, 200, detail)
                self.assertIn("steps", detail.json())
                keep(c.get(f"/api/executions/{e['id']}/events"))
            keep(c.get(f"/api/workflows/{wid}/export"))
        creds = keep(c.get("/api/credentials"))
        for cr in creds.json()["items"]:
            keep(c.get(f"/api/credentials/{cr['id']}"))
        steps = sql("SELECT string_agg(coalesce(output::text, '') || coalesce(error::text, ''), ' ') "
                    "FROM glyphic.steps")
        self.assertIn("[redacted]", steps)

        # everything the run left
        time.sleep(0.5)
        dump = subprocess.run(ENV.pg._as_pg([os.path.join(ENV.pg.bindir, "pg_dump"), "-h", ENV.pg.sock, "-p",
                                             str(ENV.pg.port), "-U", "postgres", "glyphic"]),
                              capture_output=True, text=True, check=True).stdout
        self.assertIn("glyphic.credentials", dump)
        places = {"pg_dump": dump, "API responses": "\n".join(RESPONSES)}
        for f in [ENV.pg.log, ENV.nginx.access_log] + glob.glob(os.path.join(ENV.base, "*.log")) + \
                glob.glob(os.path.join(ENV.base, "*.stderr")) + glob.glob(os.path.join(ENV.nginx.dir, "**/*.log"),
                                                                            recursive=True):
            with open(f, errors="replace") as fh:
                places[f] = fh.read()
        self.assertIn("glyphic.credentials", places[ENV.pg.log], "log_statement=all did not log")
        values = list(SECRETS.values()) + list(PROVIDER.issued)
        self.assertTrue(PROVIDER.issued, "the provider issued no token")
        for where, text in places.items():
            for v in values:
                self.assertNotIn(v, text, f"a secret value is in {where}")


if __name__ == "__main__":
    unittest.main()
