"""Credentials in use: http.request applies each type (header, bearer, basic,
query, OAuth2 code and client credentials) through glyphic-executor, secrets
are redacted from everything stored or sent, a ciphertext moved to another
row or org does not open, OAuth2 tokens are refreshed once for many
executions (also after a 401), a refused refresh marks the credential
needs_reauth, and a token URL obeys http.allow_private. Credentials are put
in the database with vaultlib (sealed as core/vault.c seals); the HTTP test
server and the OAuth2 provider are local (never the internet)."""
import glob
import http.client
import json
import os
import secrets as pysecrets
import signal
import subprocess
import time
import unittest
import uuid

import harness
import vaultlib
from oauth2_provider import OAuth2Provider
from testserver import TestServer

ENV = None
SRV = None
PROVIDER = None
EXECUTOR = None
EXECUTOR_ERR = None
CLIENT_SECRET = "cs-" + pysecrets.token_urlsafe(18)
SECRETS = [CLIENT_SECRET]  # every secret value a test stores: none may leak (ZzNoLeakTest)
SEEN = []                  # bodies of API answers and event streams the tests read
EXECUTOR_BIN = os.path.join(harness.BUILD, "executor", "glyphic-executor")


def setUpModule():
    global ENV, SRV, PROVIDER, EXECUTOR, EXECUTOR_ERR
    SRV = TestServer().start()
    PROVIDER = OAuth2Provider(client_secret=CLIENT_SECRET).start()
    ENV = harness.Env(workers=2, pg_settings={"log_statement": "all"}, fcgi_extra={
        "executor.lease": "5", "executor.poll_ms": "200", "executor.batch": "1", **harness.ALLOW_TEST_SERVER})
    ENV.start_all()
    ENV.fcgi.write_conf()
    # ten workers: ten executions can need one token at the same time
    EXECUTOR_ERR = open(os.path.join(ENV.base, "executor.stderr"), "w")
    EXECUTOR = subprocess.Popen([EXECUTOR_BIN, "-c", ENV.fcgi.conf, "--daemon", "--workers", "10"],
                                stdout=subprocess.DEVNULL, stderr=EXECUTOR_ERR, start_new_session=True)


def tearDownModule():
    if EXECUTOR and EXECUTOR.poll() is None:
        os.killpg(EXECUTOR.pid, signal.SIGTERM)
        EXECUTOR.wait(30)
    EXECUTOR_ERR.close()
    ENV.close()
    SRV.stop()
    PROVIDER.stop()


def secret(prefix):
    v = f"{prefix}-{pysecrets.token_urlsafe(12)}"
    SECRETS.append(v)
    return v


def sql(q):
    return ENV.pg.psql(q, user="postgres").strip()


def user(prefix="u"):
    return ENV.signup(f"{prefix}-{uuid.uuid4().hex[:8]}@example.com")


def org(c):
    return c.me["org_id"]


def cred(c, name, ctype, fields=None, secrets=None):
    return vaultlib.insert_credential(ENV, org(c), name, ctype, fields or {}, secrets or {})


def http_node(nid, url, credential, **params):
    return {"id": nid, "type": "http.request", "name": nid.title(),
            "params": {"url": url, "credential": credential, "timeout_ms": 10000, **params}}


def create(c, nodes, edges=None, active=False):
    if edges is None:
        edges = [{"from": a["id"], "to": b["id"]} for a, b in zip(nodes, nodes[1:])]
    r = c.post("/api/workflows", {"name": f"Flow {uuid.uuid4().hex[:6]}", "definition": {"nodes": nodes, "edges": edges}})
    assert r.status == 201, r
    wid = r.json()["id"]
    if active:
        r = c.post(f"/api/workflows/{wid}/activate")
        assert r.status == 200, r
    return wid


def manual(*nodes):
    return [{"id": "start", "type": "trigger.manual", "name": "Start"}, *nodes]


def start(c, wid):
    r = c.post(f"/api/workflows/{wid}/run")
    assert r.status == 202, r
    return r.json()["id"]


def wait_for(fn, timeout=60, what="condition"):
    end = time.time() + timeout
    while time.time() < end:
        v = fn()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def finished(c, eid, timeout=60):
    def done():
        r = c.get(f"/api/executions/{eid}")
        assert r.status == 200, r
        e = r.json()
        if e["status"] in ("succeeded", "failed", "canceled"):
            SEEN.append(r.body.decode())
            return e
        return None
    return wait_for(done, timeout, f"execution {eid} to finish")


def run(c, nodes, edges=None):
    """Runs a manual workflow to its end; the execution as the API shows it."""
    return finished(c, start(c, create(c, nodes, edges)))


def step(e, node_id):
    return [s for s in e["steps"] if s["node_id"] == node_id][-1]


def error_message(e):
    return e["error"]["message"]


def stored(eid):
    """Everything the database holds of the execution, as text."""
    return sql(f"SELECT row_to_json(x)::text FROM glyphic.executions x WHERE id = '{eid}'") + \
        sql(f"SELECT coalesce(string_agg(row_to_json(s)::text, ''), '') FROM glyphic.steps s "
            f"WHERE execution_id = '{eid}'")


def sse(path, cookie, timeout=30):
    conn = http.client.HTTPConnection("127.0.0.1", ENV.nginx.port, timeout=timeout)
    conn.request("GET", path, headers={"Cookie": f"glyphic_session={cookie}", "Accept": "text/event-stream"})
    r = conn.getresponse()
    assert r.status == 200, (r.status, r.read())
    text = []
    while True:
        line = r.fp.readline()
        if not line:
            break
        text.append(line.decode())
        if line.startswith(b"event: execution"):
            text.append(r.fp.readline().decode())
            break
    conn.close()
    return "".join(text)


class HttpTypesTest(unittest.TestCase):
    def assert_clean(self, c, eid, *values):
        body = c.get(f"/api/executions/{eid}").body.decode()
        db = stored(eid)
        for v in values:
            self.assertNotIn(v, body)
            self.assertNotIn(v, db)

    def test_each_type_reaches_the_server_and_is_redacted(self):
        a = user("types")
        hv, tok, pw, qv = secret("hdr"), secret("tok"), secret("pw"), secret("qv")
        cred(a, "hdr", "http.header", {"header_name": "X-Api-Key"}, {"value": hv})
        cred(a, "bearer", "http.bearer", {}, {"token": tok})
        cred(a, "basic", "http.basic", {"username": "alice"}, {"password": pw})
        cred(a, "query", "http.query", {"param_name": "api_key"}, {"value": qv})
        cases = {
            # a header the credential sets replaces the parameters' header of that name
            "hdr": ({"headers": {"x-api-key": "from-params", "X-Other": "kept"}},
                    lambda req: (req["headers"]["x-api-key"], req["headers"]["x-other"]), (hv, "kept"),
                    lambda out: out["body"]["headers"]["x-api-key"], "[redacted]"),
            "bearer": ({"headers": {"Authorization": "Bearer from-params"}},
                       lambda req: req["headers"]["authorization"], f"Bearer {tok}",
                       lambda out: out["body"]["headers"]["authorization"], "Bearer [redacted]"),
            "basic": ({}, lambda req: req["headers"]["authorization"],
                      "Basic " + __import__("base64").b64encode(f"alice:{pw}".encode()).decode(),
                      lambda out: out["body"]["headers"]["authorization"], "Basic [redacted]"),
            "query": ({"query": {"api_key": "from-params", "page": 2}},
                      lambda req: (req["query"]["api_key"], req["query"]["page"]), (qv, "2"),
                      lambda out: out["body"]["query"]["api_key"], "[redacted]"),
        }
        for name, (params, got, want, shown, redacted) in cases.items():
            with self.subTest(name):
                tag = uuid.uuid4().hex[:8]
                e = run(a, manual(http_node("fetch", f"{SRV.url}/echo?tag={tag}", name, **params)))
                self.assertEqual(e["status"], "succeeded", e)
                req = [r for r in SRV.requests("/echo") if r["query"].get("tag") == tag][-1]
                self.assertEqual(got(req), want)
                out = step(e, "fetch")["output"]["main"][0]
                self.assertEqual(shown(out), redacted)
                self.assertEqual(e["output"][0]["status"], 200)
                self.assert_clean(a, e["id"], hv, tok, pw, qv)

    def test_echoed_secret_redacted_downstream_in_output_answer_and_events(self):
        a = user("echo")
        tok = secret("echo")
        cred(a, "api", "http.bearer", {}, {"token": tok})
        fetch = http_node("fetch", SRV.url + "/echo", "api")
        copy = {"id": "copy", "type": "data.set", "name": "Copy", "params": {"mode": "replace", "fields": {
            "auth": "{{ $json.body.headers.authorization }}",
            "again": "{{ $node[\"Fetch\"].json.body.headers.authorization }}"}}}
        e = run(a, manual(fetch, copy))
        self.assertEqual(e["status"], "succeeded", e)
        # what later nodes got is what was stored: redacted
        self.assertEqual(e["output"], [{"auth": "Bearer [redacted]", "again": "Bearer [redacted]"}])
        self.assertEqual(step(e, "copy")["input"]["main"][0]["body"]["headers"]["authorization"],
                         "Bearer [redacted]")
        events = sse(f"/api/executions/{e['id']}/events", a.cookie)
        SEEN.append(events)
        self.assertIn('"node_id" : "copy"', events)
        self.assertNotIn(tok, events)
        # a sync webhook's answer (the last node's output)
        path = f"cred-{uuid.uuid4().hex[:6]}"
        hook = {"id": "hook", "type": "trigger.webhook", "name": "Hook", "params": {"path": path, "mode": "sync"}}
        create(a, [hook, fetch], active=True)
        r = ENV.request("POST", "/hooks/" + path, body={})
        SEEN.append(r.body.decode())
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["body"]["headers"]["authorization"], "Bearer [redacted]")
        self.assertNotIn(tok.encode(), r.body)

    def test_failures_name_the_credential_not_the_value(self):
        a = user("fail")
        hv = secret("fail")
        cred(a, "hdr", "http.header", {"header_name": "X-Key"}, {"value": hv})
        # the API refuses: the error names method and URL, never the key
        e = run(a, manual(http_node("fetch", SRV.url + "/status/401", "hdr")))
        self.assertEqual(e["status"], "failed")
        self.assertIn("HTTP 401 from GET", error_message(e))
        # with a credential, a redirect to another origin is not followed
        other = TestServer(host="127.0.0.1").start()
        try:
            e = run(a, manual(http_node("fetch", f"{SRV.url}/redirect-to?url={other.url}/echo", "hdr")))
            self.assertEqual(e["status"], "failed")
            self.assertIn("redirected to another origin", error_message(e))
            self.assertEqual(other.count("/echo"), 0)
        finally:
            other.stop()
        # the same origin is fine
        e = run(a, manual(http_node("fetch", f"{SRV.url}/redirect/2", "hdr")))
        self.assertEqual(e["status"], "succeeded", e)
        self.assertEqual(step(e, "fetch")["output"]["main"][0]["body"]["headers"]["x-key"], "[redacted]")
        # types http.request does not apply, and names that do not exist
        cred(a, "gen", "generic", {"a": "b"}, {"k": secret("gen")})
        cred(a, "hmac", "webhook.hmac", {}, {"secret": secret("hmac")})
        for name, msg in (("gen", "credential 'gen' is of type generic, which http.request cannot apply"),
                          ("hmac", "credential 'hmac' is of type webhook.hmac, which http.request cannot apply"),
                          ("nope", "credential 'nope' not found")):
            e = run(a, manual(http_node("fetch", SRV.url + "/echo", name)))
            self.assertEqual(e["status"], "failed", e)
            self.assertIn(msg, error_message(e))

    def test_moved_ciphertext_does_not_open(self):
        a, b = user("move-a"), user("move-b")
        sa, sb, sc = secret("sa"), secret("sb"), secret("sc")
        ida = cred(a, "one", "http.bearer", {}, {"token": sa})
        idb = cred(a, "two", "http.bearer", {}, {"token": sb})
        idc = cred(b, "one", "http.bearer", {}, {"token": sc})
        # the owner copies row one's ciphertext over row two, and over org b's row
        sql(f"UPDATE glyphic.credentials SET secrets = (SELECT secrets FROM glyphic.credentials WHERE id = '{ida}') "
            f"WHERE id IN ('{idb}', '{idc}')")
        for c, name in ((a, "two"), (b, "one")):
            e = run(c, manual(http_node("fetch", SRV.url + "/echo", name)))
            self.assertEqual(e["status"], "failed", e)
            msg = error_message(e)
            self.assertIn(f"credential '{name}' cannot be opened: its field 'token' does not open", msg)
            for v in (sa, sb, sc):
                self.assertNotIn(v, msg)
        # the original still opens
        e = run(a, manual(http_node("fetch", SRV.url + "/echo", "one")))
        self.assertEqual(e["status"], "succeeded", e)
        # a key the executor does not have
        sql(f"UPDATE glyphic.credentials SET key_id = 'ffffffffffffffff' WHERE id = '{ida}'")
        e = run(a, manual(http_node("fetch", SRV.url + "/echo", "one")))
        self.assertEqual(e["status"], "failed", e)
        self.assertIn("credential 'one' cannot be opened: its secrets were sealed under key ffffffffffffffff, "
                      "which is not configured", error_message(e))
        # org a cannot use org b's credential by naming it
        cred(b, "only-b", "http.bearer", {}, {"token": secret("onlyb")})
        e = run(a, manual(http_node("fetch", SRV.url + "/echo", "only-b")))
        self.assertIn("credential 'only-b' not found", error_message(e))


def oauth_fields(**extra):
    return {"auth_url": PROVIDER.authorize_url, "token_url": PROVIDER.token_url,
            "client_id": PROVIDER.client_id, **extra}


def add_refresh_token():
    rt = "rt-test-" + pysecrets.token_urlsafe(16)
    with PROVIDER.lock:
        PROVIDER.refresh.add(rt)
    SECRETS.append(rt)
    return rt


def code_cred(c, name, expired=True, token_auth="body"):
    cid = cred(c, name, "oauth2.code", oauth_fields(token_auth=token_auth),
               {"client_secret": CLIENT_SECRET, "access_token": secret("stale"), "refresh_token": add_refresh_token()})
    when = "now() - interval '1 hour'" if expired else "now() + interval '1 hour'"
    sql(f"UPDATE glyphic.credentials SET token_expires_at = {when} WHERE id = '{cid}'")
    return cid


def resource(name):
    return manual(http_node("fetch", PROVIDER.resource_url, name))


class OAuth2Test(unittest.TestCase):
    def tearDown(self):
        PROVIDER.set(expires_in=3600, fail_refresh=False, token_delay_ms=0)

    def test_client_credentials_token_got_once_and_reused(self):
        a = user("client")
        cid = cred(a, "svc", "oauth2.client", oauth_fields(token_auth="basic", scope="read"),
                   {"client_secret": CLIENT_SECRET})
        before = PROVIDER.counts()
        for _ in range(3):
            e = run(a, resource("svc"))
            self.assertEqual(e["status"], "succeeded", e)
            self.assertTrue(step(e, "fetch")["output"]["main"][0]["body"]["ok"])
        after = PROVIDER.counts()
        self.assertEqual(after["client_credentials"] - before["client_credentials"], 1)
        self.assertEqual(after["resource_ok"] - before["resource_ok"], 3)
        row = sql(f"SELECT secrets ? 'access_token', token_expires_at > now() + interval '50 minutes', status "
                  f"FROM glyphic.credentials WHERE id = '{cid}'")
        self.assertEqual(row, "t|t|ok")

    def test_expired_token_ten_concurrent_executions_one_refresh(self):
        a = user("ten")
        cid = code_cred(a, "crm")
        wid = create(a, resource("crm"))
        PROVIDER.set(token_delay_ms=500)  # the refresh takes a while: the others wait on the row
        before = PROVIDER.counts()
        ids = [start(a, wid) for _ in range(10)]
        runs = [finished(a, eid) for eid in ids]
        self.assertEqual([e["status"] for e in runs], ["succeeded"] * 10, [error_message(e) for e in runs
                                                                            if e["status"] != "succeeded"])
        after = PROVIDER.counts()
        self.assertEqual(after["refresh_token"] - before["refresh_token"], 1)
        self.assertEqual(after["resource_ok"] - before["resource_ok"], 10)
        # stored sealed: a new access token, the rotated refresh token, its expiry
        row = json.loads(sql(f"SELECT secrets::text FROM glyphic.credentials WHERE id = '{cid}'"))
        key = vaultlib.read_key(ENV.fcgi.key_file)
        at = vaultlib.open_sealed(key, org(a), cid, "access_token", row["access_token"])
        rt = vaultlib.open_sealed(key, org(a), cid, "refresh_token", row["refresh_token"])
        self.assertIn(at, PROVIDER.issued)
        self.assertIn(rt, PROVIDER.issued)
        self.assertEqual(sql(f"SELECT token_expires_at > now() + interval '50 minutes' FROM glyphic.credentials "
                             f"WHERE id = '{cid}'"), "t")

    def test_401_retried_once_with_one_fresh_token(self):
        a = user("401")
        code_cred(a, "crm", expired=False, token_auth="basic")
        wid = create(a, resource("crm"))
        e = finished(a, start(a, wid))  # the stored token is not the provider's: 401, refresh, retry
        self.assertEqual(e["status"], "succeeded", e)
        before = PROVIDER.counts()
        PROVIDER.expire_all()  # every token issued so far is refused now
        ids = [start(a, wid) for _ in range(5)]
        runs = [finished(a, eid) for eid in ids]
        self.assertEqual([e["status"] for e in runs], ["succeeded"] * 5)
        after = PROVIDER.counts()
        self.assertEqual(after["refresh_token"] - before["refresh_token"], 1)
        self.assertEqual(after["resource_ok"] - before["resource_ok"], 5)
        self.assertGreaterEqual(after["resource_401"] - before["resource_401"], 1)
        # a token that keeps being refused: one retry, then the 401 stands
        PROVIDER.set(expires_in=0)
        PROVIDER.expire_all()
        before = PROVIDER.counts()
        e = finished(a, start(a, wid))
        self.assertEqual(e["status"], "failed")
        self.assertIn("HTTP 401 from GET", error_message(e))
        after = PROVIDER.counts()
        self.assertEqual((after["refresh_token"] - before["refresh_token"],
                          after["resource_401"] - before["resource_401"]), (1, 2))

    def test_refused_refresh_marks_needs_reauth(self):
        a = user("reauth")
        cid = code_cred(a, "crm")
        PROVIDER.set(fail_refresh=True)
        before = PROVIDER.counts()
        e = run(a, resource("crm"))
        self.assertEqual(e["status"], "failed")
        self.assertIn("credential 'crm' needs to be authorized again: the token endpoint refused the refresh token "
                      "(HTTP 400 invalid_grant)", error_message(e))
        self.assertEqual(sql(f"SELECT status, status_detail FROM glyphic.credentials WHERE id = '{cid}'"),
                         "needs_reauth|the token endpoint refused the refresh token (HTTP 400 invalid_grant)")
        self.assertEqual(PROVIDER.counts()["token_errors"] - before["token_errors"], 1)
        # later runs fail at once, without asking the provider again
        PROVIDER.set(fail_refresh=False)
        e = run(a, resource("crm"))
        self.assertIn("credential 'crm' needs to be authorized again", error_message(e))
        self.assertEqual(PROVIDER.counts()["token_errors"] - before["token_errors"], 1)
        self.assertEqual(PROVIDER.counts()["refresh_token"], before["refresh_token"])

    def test_not_yet_authorized_and_client_refused(self):
        a = user("unauth")
        cred(a, "fresh", "oauth2.code", oauth_fields(), {"client_secret": CLIENT_SECRET})
        e = run(a, resource("fresh"))
        self.assertIn("credential 'fresh' is not authorized yet", error_message(e))
        cid = cred(a, "bad", "oauth2.client", oauth_fields(), {"client_secret": secret("wrong")})
        e = run(a, resource("bad"))
        self.assertIn("credential 'bad': the token endpoint refused the client credentials (HTTP 401 invalid_client)",
                      error_message(e))
        self.assertEqual(sql(f"SELECT status FROM glyphic.credentials WHERE id = '{cid}'"), "ok")

    def test_token_url_on_a_private_address_is_refused(self):
        a = user("private")
        other = OAuth2Provider(client_secret=CLIENT_SECRET, host="127.0.0.2").start()  # not on the allow list
        try:
            cred(a, "inside", "oauth2.client", {"token_url": other.token_url, "client_id": other.client_id},
                 {"client_secret": CLIENT_SECRET})
            e = run(a, resource("inside"))
            self.assertEqual(e["status"], "failed")
            self.assertIn(f"credential 'inside': token request: token endpoint {other.token_url}: could not connect",
                          error_message(e))
            self.assertEqual(other.counts()["client_credentials"], 0)
            cred(a, "ftp", "oauth2.client", {"token_url": "ftp://example.com/token", "client_id": "x"},
                 {"client_secret": CLIENT_SECRET})
            e = run(a, resource("ftp"))
            self.assertIn("token_url is not an absolute http or https URL", error_message(e))
        finally:
            other.stop()
        with open(ENV.fcgi.log, errors="replace") as f:
            self.assertIn("127.0.0.2 is not a public address", f.read())


class ZzNoLeakTest(unittest.TestCase):
    """Runs last: no secret value any test stored or any token the provider
    issued is in the database (pg_dump), a log line (PostgreSQL with
    log_statement=all, glyphic-fcgi, glyphic-executor, glyphic-events) or
    an API answer or event stream the tests read."""

    def test_no_secret_anywhere(self):
        argv = [os.path.join(ENV.pg.bindir, "pg_dump"), "-h", ENV.pg.sock, "-p", str(ENV.pg.port), "-U", "postgres",
                "glyphic"]
        if os.geteuid() == 0:
            argv = ["runuser", "-u", "postgres", "--"] + argv
        dump = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
        self.assertIn("[redacted]", dump)
        logs = {}
        for path in glob.glob(os.path.join(ENV.base, "*.log*")) + glob.glob(os.path.join(ENV.base, "*.stderr")):
            with open(path, errors="replace") as f:
                logs[path] = f.read()
        self.assertIn("execute cred_find", "".join(logs.values()))  # log_statement=all did log
        # executions listed and read through the API
        values = set(SECRETS) | set(PROVIDER.issued)
        self.assertGreater(len(values), 20)
        for v in values:
            self.assertNotIn(v, dump, "pg_dump")
            for path, text in logs.items():
                self.assertNotIn(v, text, path)
            for body in SEEN:
                self.assertNotIn(v, body)


if __name__ == "__main__":
    unittest.main()
