"""The OAuth2 authorization-code flow (issue 14, part 4): GET /api/oauth2/start
sends the browser to the provider with a single-use, session-bound state
and a PKCE challenge; GET /api/oauth2/callback exchanges the code at the
credential's token endpoint and seals the tokens into the credential.

Real PostgreSQL, glyphic-fcgi and nginx (harness.py) and a local OAuth2
provider (oauth2_provider.py) on 127.0.0.1, which http.allow_private lets
through; a second provider on 127.0.0.2 stands for a token endpoint on an
internal address that is not allowed. Credentials are written from Python
(vaultlib.py seals their secrets as core/vault.c does); the tokens the
callback stores are opened here with the same key and compared with what
the provider issued.
"""
import http.client
import os
import signal
import unittest
import urllib.parse
import uuid

import harness
import vaultlib
from oauth2_provider import OAuth2Provider

ENV = None
PROV = None      # the provider on an allowed address
PRIVATE = None   # one on 127.0.0.2, not allowed
BASIC = None     # one whose client secret needs escaping, for token_auth basic
SEEN = []        # every response body the tests got, searched for secrets at the end
SECRET = "provider-client-secret-0f3c"
BASIC_SECRET = "p@ss:w+rd/% ok&=;"  # ASCII: the provider compares with compare_digest


def setUpModule():
    global ENV, PROV, PRIVATE, BASIC
    PROV = OAuth2Provider(client_id="glyphic-client", client_secret=SECRET).start()
    PRIVATE = OAuth2Provider(client_id="glyphic-client", client_secret=SECRET, host="127.0.0.2").start()
    BASIC = OAuth2Provider(client_id="id with space+plus", client_secret=BASIC_SECRET).start()
    ENV = harness.Env(workers=2, fcgi_extra={"http.allow_private": "127.0.0.1/32"}).start_all()


def tearDownModule():
    ENV.close()
    for p in (PROV, PRIVATE, BASIC):
        p.stop()


def user(prefix="u"):
    return ENV.signup(f"{prefix}-{uuid.uuid4().hex[:8]}@example.com")


def sql(q):
    return ENV.pg.psql(q)


def key():
    return vaultlib.read_key(ENV.fcgi.key_file)


def credential(c, provider=None, name=None, ctype="oauth2.code", secret=SECRET, **fields):
    provider = provider or PROV
    f = {"auth_url": provider.authorize_url, "token_url": provider.token_url, "client_id": provider.client_id,
         "scope": "read write"}
    f.update(fields)
    f = {k: v for k, v in f.items() if v is not None}
    secrets = {"client_secret": secret} if secret is not None else {}
    return vaultlib.insert_credential(ENV, c.me["org_id"], name or f"cred-{uuid.uuid4().hex[:8]}", ctype, f,
                                      secrets)


def get(c, path, **kw):
    r = c.get(path, **kw)
    SEEN.append(r.body)
    return r


def start(c, cid):
    r = get(c, f"/api/oauth2/start?credential={cid}")
    assert r.status == 302, r
    return r


def authorize(location):
    """What the browser does at the provider: GET the authorize URL; the
    provider approves at once and answers 302 to the callback."""
    u = urllib.parse.urlsplit(location)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    try:
        conn.request("GET", u.path + "?" + u.query)
        r = conn.getresponse()
        body = r.read()
        assert r.status == 302, (r.status, body)
        return r.getheader("Location")
    finally:
        conn.close()


def callback_path(url):
    u = urllib.parse.urlsplit(url)
    return u.path + "?" + u.query


def query_of(url):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))


def stored(cid):
    """(access_token, refresh_token, key_id, expires in seconds or None, status) of the credential: the
    tokens opened with the key file, None when absent."""
    row = sql("SELECT org_id, coalesce(secrets->>'access_token', ''), coalesce(secrets->>'refresh_token', ''), "
              "coalesce(key_id, ''), coalesce(round(extract(epoch FROM token_expires_at - now()))::text, ''), "
              f"status FROM glyphic.credentials WHERE id = '{cid}'")
    org, at, rt, kid, exp, status = row.split("|")
    k = key()
    op = lambda field, text: vaultlib.open_sealed(k, org, cid, field, text) if text else None
    return op("access_token", at), op("refresh_token", rt), kid, int(exp) if exp else None, status


def states(cid):
    return int(sql(f"SELECT count(*) FROM glyphic.oauth2_states WHERE credential_id = '{cid}'"))


class FlowTest(unittest.TestCase):
    def connect(self, c, cid, provider=None):
        """start -> provider -> callback; returns the callback's answer."""
        loc = start(c, cid).header("Location")
        back = authorize(loc)
        return get(c, callback_path(back)), loc, back

    def assertConnected(self, r, cid):
        self.assertEqual(r.status, 303, r)
        self.assertEqual(r.header("Location"), f"/credentials/{cid}?oauth2=connected")

    def assertRefusedTo(self, r, cid, reason, error=None):
        self.assertEqual(r.status, 303, r)
        q = query_of(r.header("Location"))
        self.assertTrue(r.header("Location").startswith(f"/credentials/{cid}?"), r.header("Location"))
        self.assertEqual(q.get("oauth2"), "error")
        self.assertEqual(q.get("reason"), reason, r.header("Location"))
        self.assertEqual(q.get("error"), error)

    def assertNothingStored(self, cid):
        at, rt, _, exp, _ = stored(cid)
        self.assertEqual((at, rt, exp), (None, None, None))

    def test_full_code_flow(self):
        a = user("flow")
        cid = credential(a)
        sql(f"UPDATE glyphic.credentials SET status = 'needs_reauth', status_detail = 'refresh failed' "
            f"WHERE id = '{cid}'")
        before = PROV.counts()["authorization_code"]
        r = start(a, cid)
        loc = r.header("Location")
        self.assertEqual(r.json()["authorize_url"], loc)
        self.assertEqual(r.header("Referrer-Policy"), "no-referrer")
        self.assertTrue(loc.startswith(PROV.authorize_url + "?"), loc)
        q = query_of(loc)
        self.assertEqual(q["response_type"], "code")
        self.assertEqual(q["client_id"], PROV.client_id)
        self.assertEqual(q["redirect_uri"], f"http://127.0.0.1:{ENV.nginx.port}/api/oauth2/callback")
        self.assertEqual(q["scope"], "read write")
        self.assertEqual(q["code_challenge_method"], "S256")
        self.assertEqual(len(q["code_challenge"]), 43)
        self.assertEqual(len(q["state"]), 43)
        # the state is kept hashed, the verifier sealed: neither in clear
        self.assertEqual(states(cid), 1)
        row = sql(f"SELECT encode(state_hash, 'hex'), verifier FROM glyphic.oauth2_states "
                  f"WHERE credential_id = '{cid}'")
        self.assertNotIn(q["state"], row)
        self.assertEqual(row.split("|")[0], __import__("hashlib").sha256(q["state"].encode()).hexdigest())

        back = authorize(loc)
        r = get(a, callback_path(back))
        self.assertConnected(r, cid)
        self.assertEqual(PROV.counts()["authorization_code"], before + 1)
        at, rt, kid, exp, status = stored(cid)
        # the last two values the provider issued are this exchange's access and refresh token
        self.assertEqual((at, rt), (PROV.issued[-2], PROV.issued[-1]))
        self.assertEqual(kid, vaultlib.key_id(key()))
        self.assertTrue(3500 <= exp <= 3600, exp)
        self.assertEqual(status, "ok")
        self.assertEqual(sql(f"SELECT status_detail IS NULL FROM glyphic.credentials WHERE id = '{cid}'"), "t")
        # the client secret is untouched and still opens
        cs = sql(f"SELECT secrets->>'client_secret' FROM glyphic.credentials WHERE id = '{cid}'")
        self.assertEqual(vaultlib.open_sealed(key(), a.me["org_id"], cid, "client_secret", cs), SECRET)
        self.assertEqual(states(cid), 0)
        self.assertEqual(sql(f"SELECT count(*) FROM glyphic.audit_log WHERE action = 'credential.oauth2_connect' "
                             f"AND target_id = '{cid}'"), "1")

    def test_basic_client_authentication_escapes_id_and_secret(self):
        a = user("basic")
        cid = credential(a, provider=BASIC, secret=BASIC_SECRET, token_auth="basic", scope=None)
        loc = start(a, cid).header("Location")
        self.assertNotIn("scope=", loc)
        r = get(a, callback_path(authorize(loc)))
        self.assertConnected(r, cid)
        at, rt, _, _, _ = stored(cid)
        self.assertEqual((at, rt), (BASIC.issued[-2], BASIC.issued[-1]))

    def test_reconnecting_replaces_the_tokens(self):
        a = user("again")
        cid = credential(a)
        self.assertConnected(self.connect(a, cid)[0], cid)
        first = stored(cid)[0]
        self.assertConnected(self.connect(a, cid)[0], cid)
        at, rt, _, _, _ = stored(cid)
        self.assertNotEqual(at, first)
        self.assertEqual((at, rt), (PROV.issued[-2], PROV.issued[-1]))

    def test_bad_state_is_refused_and_nothing_stored(self):
        a = user("badstate")
        cid = credential(a)
        loc = start(a, cid).header("Location")
        back = authorize(loc)
        code = query_of(back)["code"]
        before = PROV.counts()["authorization_code"]
        for state in ("A" * 43, "", "short", "x" * 44, "%00" * 3, "a/b" + "c" * 40):
            r = get(a, f"/api/oauth2/callback?code={code}&state={state}")
            self.assertEqual(r.status, 400, (state, r))
            self.assertEqual(r.json()["error"]["code"], "invalid_state")
            self.assertEqual(r.json()["error"]["field"], "state")
        r = get(a, f"/api/oauth2/callback?code={code}")
        self.assertEqual(r.status, 400, r)
        # neither code nor error
        r = get(a, f"/api/oauth2/callback?state={query_of(back)['state']}")
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json()["error"]["field"], "code")
        self.assertEqual(PROV.counts()["authorization_code"], before)
        self.assertNothingStored(cid)
        # the real state still works: bad attempts spent nothing
        self.assertEqual(states(cid), 1)
        self.assertConnected(get(a, callback_path(back)), cid)

    def test_replayed_state_is_refused(self):
        a = user("replay")
        cid = credential(a)
        r, _, back = self.connect(a, cid)
        self.assertConnected(r, cid)
        first = stored(cid)
        # the expiry as stored, not "seconds from now", which moves between two reads
        expires = lambda: sql(f"SELECT token_expires_at FROM glyphic.credentials WHERE id = '{cid}'")
        first_expiry = expires()
        before = PROV.counts()["authorization_code"]
        r = get(a, callback_path(back))
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json()["error"]["code"], "invalid_state")
        self.assertIn("already used", r.json()["error"]["message"])
        self.assertEqual(PROV.counts()["authorization_code"], before)
        self.assertEqual(stored(cid)[:3] + stored(cid)[4:], first[:3] + first[4:])
        self.assertEqual(expires(), first_expiry)

    def test_state_from_another_session_is_refused(self):
        a = user("sess")
        cid = credential(a)
        loc = start(a, cid).header("Location")
        back = authorize(loc)
        # the same user signed in elsewhere
        other = ENV.client()
        r = other.post("/api/auth/login", {"email": a.me["user"]["email"], "password": "correct horse battery"})
        self.assertEqual(r.status, 200, r)
        self.assertNotEqual(other.cookie, a.cookie)
        r = get(other, callback_path(back))
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json()["error"]["code"], "invalid_state")
        self.assertIn("another session", r.json()["error"]["message"])
        # another user entirely: the state is not even visible
        b = user("thief")
        r = get(b, callback_path(back))
        self.assertEqual(r.status, 400, r)
        self.assertIn("unknown", r.json()["error"]["message"])
        # no session at all
        r = ENV.request("GET", callback_path(back))
        self.assertEqual(r.status, 401, r)
        self.assertNothingStored(cid)
        # the session that started it still finishes
        self.assertConnected(get(a, callback_path(back)), cid)

    def test_expired_state_is_refused_and_spent(self):
        a = user("exp")
        cid = credential(a)
        back = authorize(start(a, cid).header("Location"))
        sql(f"UPDATE glyphic.oauth2_states SET expires_at = now() - interval '1 second' "
            f"WHERE credential_id = '{cid}'")
        before = PROV.counts()["authorization_code"]
        r = get(a, callback_path(back))
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json()["error"]["code"], "invalid_state")
        self.assertIn("expired", r.json()["error"]["message"])
        self.assertEqual(states(cid), 0)
        self.assertEqual(PROV.counts()["authorization_code"], before)
        self.assertNothingStored(cid)
        # and starts expire after ten minutes
        start(a, cid)
        self.assertEqual(sql(f"SELECT expires_at - created_at FROM glyphic.oauth2_states "
                             f"WHERE credential_id = '{cid}'"), "00:10:00")

    def test_who_may_start(self):
        a = user("owner")
        cid = credential(a)
        viewer = ENV.member_of(a, "viewer")
        r = get(viewer, f"/api/oauth2/start?credential={cid}")
        self.assertEqual(r.status, 403, r)
        self.assertEqual(r.json()["error"]["code"], "forbidden")
        editor = ENV.member_of(a, "editor")
        self.assertEqual(get(editor, f"/api/oauth2/start?credential={cid}").status, 302)
        # API keys cannot: a browser flow needs a session
        k = a.post("/api/keys", {"name": "k", "scopes": ["read", "write"]})
        self.assertEqual(k.status, 201, k)
        bot = ENV.client()
        bot.key = k.json()["key"]
        r = get(bot, f"/api/oauth2/start?credential={cid}")
        self.assertEqual(r.status, 403, r)
        # nobody signed in
        self.assertEqual(ENV.request("GET", f"/api/oauth2/start?credential={cid}").status, 401)
        self.assertEqual(states(cid), 1)

    def test_bad_start_requests(self):
        a = user("bad")
        b = user("other")
        theirs = credential(b)
        cases = [
            ("", 400, "invalid"),
            ("?credential=", 400, "invalid"),
            ("?credential=not-a-uuid", 400, "invalid"),
            (f"?credential={uuid.uuid4()}", 404, "not_found"),
            (f"?credential={theirs}", 404, "not_found"),  # another org's credential
            (f"?credential={credential(a, ctype='http.bearer')}", 400, "wrong_type"),
            (f"?credential={credential(a, ctype='oauth2.client')}", 400, "wrong_type"),
            (f"?credential={credential(a, auth_url=None)}", 400, "invalid_credential"),
            (f"?credential={credential(a, auth_url='javascript:alert(1)')}", 400, "invalid_credential"),
            (f"?credential={credential(a, auth_url='https://p.example/auth#frag')}", 400, "invalid_credential"),
            (f"?credential={credential(a, token_url='ftp://p.example/token')}", 400, "invalid_credential"),
            (f"?credential={credential(a, client_id=None)}", 400, "invalid_credential"),
            (f"?credential={credential(a, scope=' ' * 1500)}", 400, "invalid_credential"),  # URL too long
        ]
        for q, status, code in cases:
            r = get(a, "/api/oauth2/start" + q)
            self.assertEqual(r.status, status, (q, r))
            self.assertEqual(r.json()["error"]["code"], code, (q, r))
        self.assertEqual(int(sql("SELECT count(*) FROM glyphic.oauth2_states s JOIN glyphic.credentials c "
                                 f"ON c.id = s.credential_id WHERE c.org_id IN ('{a.me['org_id']}', "
                                 f"'{b.me['org_id']}')")), 0)
        # a POST is not a route
        self.assertEqual(a.post(f"/api/oauth2/start?credential={theirs}").status, 405)

    def test_redirect_url_from_host_or_configuration(self):
        a = user("redir")
        cid = credential(a)
        # built from the Host the request came with, which must look like a host name
        r = get(a, f"/api/oauth2/start?credential={cid}", headers={"Host": f"localhost:{ENV.nginx.port}"})
        self.assertEqual(query_of(r.header("Location"))["redirect_uri"],
                         f"http://localhost:{ENV.nginx.port}/api/oauth2/callback")
        r = get(a, f"/api/oauth2/start?credential={cid}", headers={"Host": "under_score.example"})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json()["error"]["code"], "no_redirect_url")
        # oauth2.redirect_url wins, and the exchange repeats it
        url = f"http://localhost:{ENV.nginx.port}/api/oauth2/callback"
        before = set(ENV.fcgi.workers())
        ENV.fcgi.write_conf(**{"oauth2.redirect_url": url})
        try:
            ENV.fcgi.proc.send_signal(signal.SIGHUP)
            harness.wait_for(lambda: not before & set(ENV.fcgi.workers())
                             and len(ENV.fcgi.workers()) == ENV.fcgi.total(), what="reloaded workers")
            loc = start(a, cid).header("Location")
            self.assertEqual(query_of(loc)["redirect_uri"], url)
            back = authorize(loc)
            self.assertTrue(back.startswith(url + "?"), back)
            self.assertConnected(get(a, callback_path(back)), cid)
        finally:
            before = set(ENV.fcgi.workers())
            ENV.fcgi.write_conf(**{"oauth2.redirect_url": ""})
            ENV.fcgi.proc.send_signal(signal.SIGHUP)
            harness.wait_for(lambda: not before & set(ENV.fcgi.workers())
                             and len(ENV.fcgi.workers()) == ENV.fcgi.total(), what="reloaded workers")

    def test_auth_url_with_a_query_keeps_it(self):
        a = user("q")
        cid = credential(a, auth_url=PROV.authorize_url + "?prompt=consent")
        loc = start(a, cid).header("Location")
        self.assertTrue(loc.startswith(PROV.authorize_url + "?prompt=consent&response_type=code&"), loc)
        self.assertConnected(get(a, callback_path(authorize(loc))), cid)

    def test_provider_error_redirects_with_the_error(self):
        a = user("denied")
        cid = credential(a)
        state = query_of(start(a, cid).header("Location"))["state"]
        r = get(a, f"/api/oauth2/callback?error=access_denied&error_description=no+thanks&state={state}")
        self.assertRefusedTo(r, cid, "access_denied", "access_denied")
        self.assertNothingStored(cid)
        self.assertEqual(states(cid), 0)  # spent
        # another provider error, and one that is not a plain code
        state = query_of(start(a, cid).header("Location"))["state"]
        r = get(a, f"/api/oauth2/callback?error=temporarily_unavailable&state={state}")
        self.assertRefusedTo(r, cid, "provider_error", "temporarily_unavailable")
        state = query_of(start(a, cid).header("Location"))["state"]
        r = get(a, f"/api/oauth2/callback?error=%3Cscript%3E&state={state}")
        self.assertRefusedTo(r, cid, "provider_error")
        self.assertNothingStored(cid)

    def test_token_endpoint_refusal(self):
        a = user("refused")
        cid = credential(a, secret="not-the-secret")
        r, _, _ = self.connect(a, cid)
        self.assertRefusedTo(r, cid, "token_refused", "invalid_client")
        self.assertNothingStored(cid)
        self.assertNotIn("not-the-secret", ENV.fcgi.log_text())
        # a public client (no secret) is refused the same way by this provider
        cid = credential(a, secret=None)
        r, _, _ = self.connect(a, cid)
        self.assertRefusedTo(r, cid, "token_refused", "invalid_client")

    def test_private_token_url_refused_unless_allowed(self):
        a = user("ssrf")
        cid = credential(a, provider=PRIVATE)
        r, _, _ = self.connect(a, cid, provider=PRIVATE)
        self.assertRefusedTo(r, cid, "unreachable")
        # the provider never saw a token request
        self.assertEqual(PRIVATE.counts()["authorization_code"], 0)
        self.assertEqual(PRIVATE.counts()["token_errors"], 0)
        self.assertNothingStored(cid)
        self.assertIn("127.0.0.2 is not a public address (see http.allow_private)", ENV.fcgi.log_text())
        # spelled otherwise, still refused
        for url in (f"http://localhost:{PRIVATE.server.server_address[1]}/token",
                    f"http://[::ffff:127.0.0.2]:{PRIVATE.server.server_address[1]}/token"):
            cid = credential(a, provider=PRIVATE, token_url=url)
            r, _, _ = self.connect(a, cid, provider=PRIVATE)
            self.assertRefusedTo(r, cid, "unreachable")
        self.assertEqual(PRIVATE.counts()["authorization_code"], 0)

    def test_callback_enters_the_org_of_the_state(self):
        a = user("home")
        b = user("away")
        # a is an editor in b's org too, but works in their own org
        r = b.post(f"/api/orgs/{b.me['org_id']}/invitations", {"email": a.me["user"]["email"], "role": "editor"})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(a.post("/api/invitations/accept", {"token": r.json()["token"]}).status, 200)
        cid = credential(b)
        self.assertEqual(get(a, f"/api/oauth2/start?credential={cid}").status, 404)  # not a's active org
        r = get(a, f"/api/oauth2/start?credential={cid}", headers={"X-Glyphic-Org": b.me["org_id"]})
        self.assertEqual(r.status, 302, r)
        back = authorize(r.header("Location"))
        self.assertConnected(get(a, callback_path(back)), cid)
        self.assertEqual(stored(cid)[0], PROV.issued[-2])

    def test_an_editor_demoted_meanwhile_stores_nothing(self):
        a = user("boss")
        ed = ENV.member_of(a, "editor")
        cid = credential(a)
        back = authorize(start(ed, cid).header("Location"))
        sql(f"UPDATE glyphic.memberships SET role = 'viewer' WHERE user_id = '{ed.me['user']['id']}'")
        r = get(ed, callback_path(back))
        self.assertRefusedTo(r, cid, "forbidden")
        self.assertNothingStored(cid)

    def test_a_credential_deleted_meanwhile_takes_its_states(self):
        a = user("gone")
        cid = credential(a)
        back = authorize(start(a, cid).header("Location"))
        sql(f"DELETE FROM glyphic.credentials WHERE id = '{cid}'")
        self.assertEqual(states(cid), 0)
        r = get(a, callback_path(back))
        self.assertEqual(r.status, 400, r)

    def test_states_per_user_are_capped(self):
        a = user("many")
        cid = credential(a)
        for _ in range(25):
            start(a, cid)
        self.assertEqual(states(cid), 20)

    def test_the_app_role_cannot_forge_or_read_states(self):
        a = user("rls")
        b = user("rls2")
        cid = credential(a)
        start(a, cid)
        ctx = ENV.app_context(b.me["user"]["id"])
        out = ENV.pg.psql(f"{ctx}; SELECT count(*) FROM glyphic.oauth2_states", user="glyphic_app")
        self.assertEqual(out.splitlines()[-1], "0")
        r = ENV.pg.psql(f"{ctx}; UPDATE glyphic.oauth2_states SET expires_at = now() + interval '1 day'",
                        user="glyphic_app", check=False)
        self.assertNotEqual(r.returncode, 0)
        # b cannot make a state for a's credential (another org), nor for a's session
        sess = sql(f"SELECT id FROM glyphic.sessions WHERE user_id = '{a.me['user']['id']}' LIMIT 1")
        r = ENV.pg.psql(f"{ctx}; INSERT INTO glyphic.oauth2_states (state_hash, session_id, user_id, org_id, "
                        f"credential_id, verifier, key_id, redirect_uri, expires_at) VALUES (sha256('x'), '{sess}', "
                        f"'{b.me['user']['id']}', '{a.me['org_id']}', '{cid}', 'v', '0123456789abcdef', 'http://x', "
                        f"now() + interval '1 hour')", user="glyphic_app", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("row-level security", r.stderr)

    def test_zz_no_token_or_secret_in_logs_or_answers(self):
        """Runs last in this class: everything above has logged by now."""
        a = user("last")
        cid = credential(a)
        self.assertConnected(self.connect(a, cid)[0], cid)
        values = [v for p in (PROV, PRIVATE, BASIC) for v in p.issued] + [SECRET, BASIC_SECRET]
        self.assertGreater(len(values), 10)
        logs = ENV.fcgi.log_text()
        for path in (ENV.fcgi.log + ".stderr", ENV.pg.log):
            if os.path.exists(path):
                with open(path, errors="replace") as f:
                    logs += f.read()
        self.assertIn("oauth2: credential", logs)  # the log is the right one
        bodies = b"\n".join(SEEN).decode(errors="replace")
        for v in values:
            self.assertNotIn(v, logs)
            self.assertNotIn(v, bodies)


if __name__ == "__main__":
    unittest.main()
