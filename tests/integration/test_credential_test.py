"""POST /api/credentials/{id}/test (issue 14, item 3): does a credential work?

HTTP types: the credential goes on one request to the URL the editor gives,
exactly as http.request puts it; the local test server (testserver.py, on
127.0.0.1, which http.allow_private lets through) records what arrived.
oauth2.client: a client-credentials token request at the mock provider
(oauth2_provider.py), nothing stored. oauth2.code: a stored token that has
not expired is enough; an expired one is refreshed as the executor
refreshes it (the new tokens sealed into the row), and a refused refresh
marks the row needs_reauth. webhook.hmac and generic are not testable.

Editors and above only, other orgs' credentials are 404, bad bodies 400,
one test per org at a time (429 busy while another holds the org's lock),
audited without the URL's query or userinfo; no secret ever shows in an
answer or in glyphic-fcgi's log.

Real PostgreSQL, glyphic-fcgi and nginx."""
import base64
import json
import os
import secrets as pysecrets
import subprocess
import unittest
import uuid

import harness
import vaultlib
from oauth2_provider import OAuth2Provider
from testserver import TestServer

ENV = None
SRV = None       # the API, on an allowed address
OTHER = None     # another origin on an allowed address (redirect target)
PRIVATE = None   # a server on 127.0.0.2, which http.allow_private does not list
PROV = None      # the OAuth2 provider
SEEN = []        # every answer's body, searched for secrets at the end
SECRETS = []     # every secret value the tests stored
CLIENT_SECRET = "client-secret-" + pysecrets.token_hex(8)


def setUpModule():
    global ENV, SRV, OTHER, PRIVATE, PROV
    SRV = TestServer().start()
    OTHER = TestServer().start()
    PRIVATE = TestServer(host="127.0.0.2").start()
    PROV = OAuth2Provider(client_id="glyphic-client", client_secret=CLIENT_SECRET).start()
    SECRETS.append(CLIENT_SECRET)
    ENV = harness.Env(workers=2, fcgi_extra=dict(harness.ALLOW_TEST_SERVER)).start_all()


def tearDownModule():
    try:
        log = ENV.fcgi.log_text()
        for s in SECRETS:
            assert s not in log, "a secret is in glyphic-fcgi's log"
            for body in SEEN:
                assert s.encode() not in body, "a secret is in an answer"
    finally:
        ENV.close()
        for s in (SRV, OTHER, PRIVATE, PROV):
            s.stop()


def sql(q):
    return ENV.pg.psql(q)


def secret(prefix="s"):
    v = f"{prefix}-{pysecrets.token_hex(12)}"
    SECRETS.append(v)
    return v


def owner():
    return ENV.signup(f"ct-{uuid.uuid4().hex[:8]}@example.com")


def create(c, ctype, fields=None, secrets=None, name=None):
    r = c.post("/api/credentials", {"name": name or f"c-{uuid.uuid4().hex[:8]}", "type": ctype,
                                    "fields": fields or {}, "secrets": secrets or {}})
    assert r.status == 201, r
    return r.json()["id"]


def try_cred(c, cid, body=None, **kw):
    r = c.request("POST", f"/api/credentials/{cid}/test", body=body, **kw)
    SEEN.append(r.body)
    return r


def audits(cid):
    out = sql(f"SELECT details::text FROM glyphic.audit_log WHERE action = 'credential.test' AND target_id = '{cid}' "
              "ORDER BY id")
    return [json.loads(line) for line in out.splitlines() if line]


class HttpTypesTest(unittest.TestCase):
    def setUp(self):
        SRV.reset()
        OTHER.reset()
        PRIVATE.reset()

    def ok(self, r, status=200):
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["status"], status, r)
        self.assertIs(r.json()["ok"], 200 <= status < 300, r)

    def test_header(self):
        c = owner()
        value = secret("hdr")
        cid = create(c, "http.header", {"header_name": "X-Api-Key"}, {"value": value})
        r = try_cred(c, cid, {"url": SRV.url + "/echo?page=2", "method": "GET"})
        self.ok(r)
        self.assertEqual(r.json()["message"], f"HTTP 200 from GET {SRV.url}/echo")
        got = SRV.requests("/echo")
        self.assertEqual(len(got), 1)
        self.assertEqual(got[0]["headers"]["x-api-key"], value)
        self.assertEqual(got[0]["query"], {"page": "2"})
        self.assertEqual(got[0]["method"], "GET")
        self.assertNotIn(value.encode(), r.body)

    def test_bearer_head(self):
        c = owner()
        token = secret("tok")
        cid = create(c, "http.bearer", {}, {"token": token})
        r = try_cred(c, cid, {"url": SRV.url + "/echo", "method": "HEAD"})
        self.ok(r)
        got = SRV.requests("/echo")[-1]
        self.assertEqual(got["method"], "HEAD")
        self.assertEqual(got["headers"]["authorization"], f"Bearer {token}")

    def test_basic_post(self):
        c = owner()
        password = secret("pw")
        cid = create(c, "http.basic", {"username": "ann"}, {"password": password})
        r = try_cred(c, cid, {"url": SRV.url + "/echo", "method": "POST"})
        self.ok(r)
        got = SRV.requests("/echo")[-1]
        self.assertEqual(got["method"], "POST")
        self.assertEqual(got["body"], "")
        self.assertEqual(got["headers"]["authorization"],
                         "Basic " + base64.b64encode(f"ann:{password}".encode()).decode())
        self.assertNotIn("content-type", got["headers"])
        SECRETS.append(base64.b64encode(f"ann:{password}".encode()).decode())

    def test_query(self):
        c = owner()
        value = secret("q") + " &=+"
        cid = create(c, "http.query", {"param_name": "api_key"}, {"value": value})
        r = try_cred(c, cid, {"url": SRV.url + "/echo?a=1"})
        self.ok(r)
        got = SRV.requests("/echo")[-1]
        self.assertEqual(got["query"], {"a": "1", "api_key": value})
        self.assertNotIn("api_key", r.json()["message"])
        self.assertNotIn(b"api_key", r.body)

    def test_status_401(self):
        c = owner()
        cid = create(c, "http.bearer", {}, {"token": secret()})
        r = try_cred(c, cid, {"url": SRV.url + "/status/401"})
        self.ok(r, 401)
        self.assertEqual(r.json()["message"], f"HTTP 401 from GET {SRV.url}/status/401")

    def test_internal_address_refused(self):
        c = owner()
        cid = create(c, "http.bearer", {}, {"token": secret()})
        r = try_cred(c, cid, {"url": PRIVATE.url + "/echo"})
        self.assertEqual(r.status, 200, r)
        body = r.json()
        self.assertIs(body["ok"], False)
        self.assertIsNone(body["status"])
        self.assertEqual(body["message"], f"GET {PRIVATE.url}/echo failed: could not connect (unknown host, "
                         "connection refused, unreachable, or an internal address not allowed by "
                         "http.allow_private)")
        self.assertEqual(PRIVATE.count("/echo"), 0)
        # a closed port reads the same
        closed = harness.free_port()
        r = try_cred(c, cid, {"url": f"http://127.0.0.1:{closed}/x"})
        self.assertEqual(r.json()["message"].split(" failed: ")[1], body["message"].split(" failed: ")[1])

    def test_redirect_to_another_origin_is_not_followed(self):
        c = owner()
        token = secret()
        cid = create(c, "http.bearer", {}, {"token": token})
        r = try_cred(c, cid, {"url": SRV.url + "/redirect-to?url=" + OTHER.url + "/echo"})
        self.assertEqual(r.status, 200, r)
        self.assertIs(r.json()["ok"], False)
        self.assertIn("was redirected to another origin", r.json()["message"])
        self.assertEqual(OTHER.count("/echo"), 0)
        # on the same origin it is followed
        r = try_cred(c, cid, {"url": SRV.url + "/redirect/2"})
        self.ok(r)
        self.assertEqual(SRV.requests("/echo")[-1]["headers"]["authorization"], f"Bearer {token}")

    def test_large_answer_is_cut_and_dropped(self):
        c = owner()
        cid = create(c, "http.bearer", {}, {"token": secret()})
        r = try_cred(c, cid, {"url": SRV.url + "/stream/3000000"})
        self.ok(r)
        self.assertLess(len(r.body), 400)

    def test_audited_without_query_or_userinfo(self):
        c = owner()
        cid = create(c, "http.query", {"param_name": "k"}, {"value": secret()})
        r = try_cred(c, cid, {"url": f"http://user:pw@127.0.0.1:{SRV.port}/echo?x=hidden#frag"})
        self.ok(r)
        [a] = audits(cid)
        self.assertEqual(a["url"], f"{SRV.url}/echo")
        self.assertEqual(a["method"], "GET")
        self.assertIs(a["ok"], True)
        self.assertEqual(a["status"], 200)
        self.assertEqual(a["type"], "http.query")
        self.assertNotIn("hidden", json.dumps(a))
        self.assertNotIn("pw", r.json()["message"])


class OAuth2Test(unittest.TestCase):
    def tearDown(self):
        PROV.set(expires_in=3600, fail_refresh=False, token_delay_ms=0)

    def fields(self, **extra):
        return {"auth_url": PROV.authorize_url, "token_url": PROV.token_url, "client_id": PROV.client_id, **extra}

    def insert(self, c, ctype, secrets, expired=None):
        cid = vaultlib.insert_credential(ENV, c.me["org_id"], f"o-{uuid.uuid4().hex[:8]}", ctype, self.fields(),
                                         secrets)
        if expired is not None:
            when = "now() - interval '1 hour'" if expired else "now() + interval '1 hour'"
            sql(f"UPDATE glyphic.credentials SET token_expires_at = {when} WHERE id = '{cid}'")
        return cid

    def refresh_token(self):
        rt = "rt-test-" + pysecrets.token_urlsafe(16)
        with PROV.lock:
            PROV.refresh.add(rt)
        SECRETS.append(rt)
        return rt

    def stored(self, cid):
        row = sql("SELECT org_id, coalesce(secrets->>'access_token', ''), coalesce(secrets->>'refresh_token', ''), "
                  "status, coalesce(status_detail, ''), token_expires_at > now() "
                  f"FROM glyphic.credentials WHERE id = '{cid}'")
        org, at, rt, status, detail, future = row.split("|")
        key = vaultlib.read_key(ENV.fcgi.key_file)
        op = lambda f, t: vaultlib.open_sealed(key, org, cid, f, t) if t else None
        return op("access_token", at), op("refresh_token", rt), status, detail, future == "t"

    def test_client_credentials(self):
        c = owner()
        cid = create(c, "oauth2.client", {"token_url": PROV.token_url, "client_id": PROV.client_id},
                     {"client_secret": CLIENT_SECRET})
        before = PROV.counts()["client_credentials"]
        r = try_cred(c, cid)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"ok": True, "status": 200,
                                    "message": "the token endpoint issued an access token (not stored)"})
        self.assertEqual(PROV.counts()["client_credentials"], before + 1)
        self.assertEqual(self.stored(cid)[0], None)  # not stored
        self.assertNotIn(PROV.issued[-1].encode(), r.body)
        SECRETS.append(PROV.issued[-1])
        # an empty object is no body too
        self.assertEqual(try_cred(c, cid, {}).json()["ok"], True)
        SECRETS.append(PROV.issued[-1])

    def test_client_credentials_refused(self):
        c = owner()
        cid = create(c, "oauth2.client", {"token_url": PROV.token_url, "client_id": PROV.client_id},
                     {"client_secret": "wrong-" + secret()})
        r = try_cred(c, cid)
        self.assertEqual(r.status, 200, r)
        self.assertIs(r.json()["ok"], False)
        self.assertEqual(r.json()["status"], 401)
        self.assertIn("refused the client credentials (HTTP 401 invalid_client)", r.json()["message"])
        self.assertEqual(self.stored(cid)[2], "ok")  # a client is not marked: its secret is the user's to fix

    def test_code_fresh_token_needs_no_request(self):
        c = owner()
        cid = self.insert(c, "oauth2.code", {"client_secret": CLIENT_SECRET, "access_token": secret("at"),
                                             "refresh_token": self.refresh_token()}, expired=False)
        before = PROV.counts()
        r = try_cred(c, cid)
        self.assertEqual(r.status, 200, r)
        self.assertIs(r.json()["ok"], True)
        self.assertIsNone(r.json()["status"])
        self.assertIn("the stored access token is valid for", r.json()["message"])
        self.assertEqual(PROV.counts(), before)

    def test_code_expired_token_is_refreshed_and_stored(self):
        c = owner()
        old_rt = self.refresh_token()
        cid = self.insert(c, "oauth2.code", {"client_secret": CLIENT_SECRET, "access_token": secret("at"),
                                             "refresh_token": old_rt}, expired=True)
        before = PROV.counts()["refresh_token"]
        r = try_cred(c, cid)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"ok": True, "status": 200, "message": "the access token was refreshed"})
        self.assertEqual(PROV.counts()["refresh_token"], before + 1)
        at, rt, status, detail, future = self.stored(cid)
        self.assertEqual([at, rt], PROV.issued[-2:])
        SECRETS.extend(PROV.issued[-2:])
        self.assertEqual((status, future), ("ok", True))
        # now fresh: the next test asks nobody
        r = try_cred(c, cid)
        self.assertIn("the stored access token is valid", r.json()["message"])
        self.assertEqual(PROV.counts()["refresh_token"], before + 1)

    def test_code_refused_refresh_marks_needs_reauth(self):
        c = owner()
        cid = self.insert(c, "oauth2.code", {"client_secret": CLIENT_SECRET, "access_token": secret("at"),
                                             "refresh_token": self.refresh_token()}, expired=True)
        PROV.set(fail_refresh=True)
        r = try_cred(c, cid)
        self.assertEqual(r.status, 200, r)
        self.assertIs(r.json()["ok"], False)
        self.assertEqual(r.json()["status"], 400)
        self.assertIn("needs to be authorized again", r.json()["message"])
        _, _, status, detail, _ = self.stored(cid)
        self.assertEqual(status, "needs_reauth")
        self.assertIn("refused the refresh token (HTTP 400 invalid_grant)", detail)
        # marked: the next test says so without asking
        PROV.set(fail_refresh=False)
        errors = PROV.counts()["token_errors"]
        r = try_cred(c, cid)
        self.assertIs(r.json()["ok"], False)
        self.assertIn("needs to be authorized again", r.json()["message"])
        self.assertEqual(PROV.counts()["token_errors"], errors)

    def test_code_row_held_by_a_renewal_is_busy(self):
        c = owner()
        cid = self.insert(c, "oauth2.code", {"client_secret": CLIENT_SECRET, "access_token": secret("at"),
                                             "refresh_token": self.refresh_token()}, expired=True)
        before = PROV.counts()["refresh_token"]
        pg = ENV.pg
        proc = subprocess.Popen([os.path.join(pg.bindir, "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                                 "-h", pg.sock, "-p", str(pg.port), "-U", "postgres", "-d", "glyphic"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            # as a workflow's renewal holds it
            proc.stdin.write(f"BEGIN; SELECT 'locked' FROM glyphic.credentials WHERE id = '{cid}' FOR UPDATE;\n")
            proc.stdin.flush()
            self.assertEqual(proc.stdout.readline().strip(), "locked")
            r = try_cred(c, cid)
            self.assertEqual(r.status, 429, r)
            self.assertEqual(r.json()["error"]["code"], "busy")
            self.assertEqual(r.header("Retry-After"), "5")
        finally:
            proc.stdin.write("COMMIT;\n")
            proc.stdin.close()
            proc.wait(timeout=20)
            proc.stdout.close()
        self.assertEqual(PROV.counts()["refresh_token"], before)
        self.assertEqual(audits(cid), [])
        r = try_cred(c, cid)
        self.assertEqual(r.json()["ok"], True, r)

    def test_code_not_connected(self):
        c = owner()
        cid = self.insert(c, "oauth2.code", {"client_secret": CLIENT_SECRET})
        r = try_cred(c, cid)
        self.assertEqual(r.status, 200, r)
        self.assertIs(r.json()["ok"], False)
        self.assertIn("is not authorized yet", r.json()["message"])

    def test_oauth2_takes_no_url(self):
        c = owner()
        cid = self.insert(c, "oauth2.code", {"client_secret": CLIENT_SECRET})
        r = try_cred(c, cid, {"url": SRV.url + "/echo"})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json()["error"]["field"], "url")


class RulesTest(unittest.TestCase):
    def test_roles_and_tenancy(self):
        c = owner()
        cid = create(c, "http.bearer", {}, {"token": secret()})
        body = {"url": SRV.url + "/echo"}
        for role, want in (("viewer", 403), ("editor", 200), ("admin", 200)):
            m = ENV.member_of(c, role)
            r = try_cred(m, cid, body)
            self.assertEqual(r.status, want, (role, r))
        stranger = owner()
        r = try_cred(stranger, cid, body)
        self.assertEqual(r.status, 404, r)
        self.assertEqual(try_cred(c, str(uuid.uuid4()), body).status, 404)
        self.assertEqual(try_cred(c, "not-a-uuid", body).status, 404)

    def test_not_testable(self):
        c = owner()
        for ctype, secrets in (("webhook.hmac", {"secret": secret()}), ("generic", {"k": secret()})):
            cid = create(c, ctype, {}, secrets)
            r = try_cred(c, cid, {"url": SRV.url + "/echo"})
            self.assertEqual(r.status, 400, r)
            self.assertEqual(r.json()["error"]["code"], "not_testable")
            self.assertIn("message", r.json()["error"])

    def test_bad_bodies(self):
        c = owner()
        cid = create(c, "http.bearer", {}, {"token": secret()})
        cases = [
            (None, "url"),
            ([1], "body"),
            ({"method": "GET"}, "url"),
            ({"url": 5}, "url"),
            ({"url": ""}, "url"),
            ({"url": "ftp://127.0.0.1/x"}, "url"),
            ({"url": "/relative"}, "url"),
            ({"url": "http://"}, "url"),
            ({"url": SRV.url, "method": "DELETE"}, "method"),
            ({"url": SRV.url, "method": 1}, "method"),
            ({"url": SRV.url, "extra": 1}, "extra"),
            ({"url": "http://x/" + "a" * 9000}, "url"),
        ]
        for body, field in cases:
            r = try_cred(c, cid, body)
            self.assertEqual(r.status, 400, (body, r))
            self.assertEqual(r.json()["error"]["field"], field, (body, r))
        self.assertEqual(audits(cid), [])

    def test_one_test_per_org_at_a_time(self):
        c = owner()
        cid = create(c, "http.bearer", {}, {"token": secret()})
        org = c.me["org_id"]
        with harness.advisory_lock_held(ENV.pg, f"'glyphic.credential_test:{org}'"):
            r = try_cred(c, cid, {"url": SRV.url + "/echo"})
            self.assertEqual(r.status, 429, r)
            self.assertEqual(r.json()["error"]["code"], "busy")
            self.assertEqual(r.header("Retry-After"), "10")
            # another org is not held up
            d = owner()
            other = create(d, "http.bearer", {}, {"token": secret()})
            self.assertEqual(try_cred(d, other, {"url": SRV.url + "/echo"}).status, 200)
        self.assertEqual(try_cred(c, cid, {"url": SRV.url + "/echo"}).status, 200)


class UsageTest(unittest.TestCase):
    def test_queue_stats_show_stored_credentials_against_the_limit(self):
        c = owner()
        org = c.me["org_id"]
        lim = c.get("/api/queue/stats").json()["limits"]
        self.assertEqual((lim["credentials"], lim["max_credentials"]), (0, 1000))
        for _ in range(3):
            create(c, "http.bearer", {}, {"token": secret()})
        other = owner()
        create(other, "http.bearer", {}, {"token": secret()})
        lim = c.get("/api/queue/stats").json()["limits"]
        self.assertEqual((lim["credentials"], lim["max_credentials"]), (3, 1000))
        ENV.glyphic("org", "limits", org, "--max-credentials", "3")
        lim = c.get("/api/queue/stats").json()["limits"]
        self.assertEqual((lim["credentials"], lim["max_credentials"]), (3, 3))
        r = c.post("/api/credentials", {"name": "one more", "type": "http.bearer", "secrets": {"token": "x"}})
        self.assertEqual(r.status, 403, r)
        out = ENV.glyphic("org", "limits", org).stdout
        self.assertRegex(out, r"max_credentials\s+3\s+this org\s+3 stored")
        ENV.glyphic("org", "limits", org, "--max-credentials", "0")
        lim = c.get("/api/queue/stats").json()["limits"]
        self.assertEqual((lim["credentials"], lim["max_credentials"]), (3, None))


if __name__ == "__main__":
    unittest.main()
