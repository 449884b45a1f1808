"""Accounts, sessions, API keys, orgs, invitations, audit and tenancy.

Runs against a real PostgreSQL (with log_statement=all, so the log check at
the end also covers what reaches the database) and a real nginx.
"""
import hashlib
import os
import subprocess
import unittest
import uuid

import harness

ENV = None
SECRETS = []      # every password and token handed out, grepped for in the logs at the end
PW = "correct horse battery"


def setUpModule():
    global ENV
    ENV = harness.Env(workers=2, fcgi_extra={"auth.login_max_account": "5", "auth.login_max_ip": "12"})
    ENV.pg.psql("ALTER SYSTEM SET log_statement = 'all'", db="postgres")
    ENV.pg.psql("SELECT pg_reload_conf()", db="postgres")
    ENV.start_all()
    SECRETS.append(PW)


def tearDownModule():
    ENV.close()


def signup(prefix, **kw):
    email = f"{prefix}-{uuid.uuid4().hex[:8]}@example.com"
    c = ENV.signup(email, password=PW, name=prefix.title(), **kw)
    c.email = email
    SECRETS.extend([c.cookie, c.csrf])
    return c


def login(email, password=PW):
    c = ENV.client()
    r = c.post("/api/auth/login", {"email": email, "password": password})
    if r.status == 200:
        SECRETS.extend([c.cookie, c.csrf])
    return c, r


def make_key(c, scopes, name="k"):
    r = c.post("/api/keys", {"name": name, "scopes": scopes})
    assert r.status == 201, r
    key = r.json()["key"]
    SECRETS.append(key)
    k = ENV.client()
    k.key = key
    return k, r.json()


def invite(admin, org, email, role):
    r = admin.post(f"/api/orgs/{org}/invitations", {"email": email, "role": role})
    assert r.status == 201, r
    SECRETS.append(r.json()["token"])
    return r.json()


def member_of(admin, role, prefix="member"):
    """A new user who joined admin's org with role, via an invitation."""
    org = admin.me["org_id"]
    email = f"{prefix}-{uuid.uuid4().hex[:8]}@example.com"
    token = invite(admin, org, email, role)["token"]
    c = ENV.client()
    r = c.post("/api/auth/signup", {"email": email, "password": PW, "name": prefix, "invitation": token})
    assert r.status == 201, r
    c.me = r.json()
    c.email = email
    SECRETS.extend([c.cookie, c.csrf])
    return c


def count(table):
    return int(ENV.pg.psql(f"SELECT count(*) FROM glyphic.{table}"))


class SignupLoginTest(unittest.TestCase):
    def test_signup_creates_org_and_owner(self):
        a = signup("alice")
        self.assertEqual(a.me["orgs"][0]["role"], "owner")
        self.assertEqual(a.me["org_id"], a.me["orgs"][0]["id"])
        me = a.get("/api/me").json()
        self.assertEqual(me["user"]["email"], a.email)
        self.assertEqual(me["org"]["role"], "owner")
        self.assertEqual(me["auth"], "session")
        self.assertTrue(me["csrf_token"])

    def test_cookie_attributes(self):
        c = ENV.client()
        r = c.post("/api/auth/signup", {"email": f"ck-{uuid.uuid4().hex[:6]}@example.com", "password": PW,
                                        "name": "C"})
        cookie = r.header("Set-Cookie")
        self.assertIn("HttpOnly", cookie)
        self.assertIn("SameSite=Lax", cookie)
        self.assertIn("Path=/", cookie)
        self.assertNotIn("Secure", cookie)  # auth.cookie_secure = false in the tests
        SECRETS.extend([c.cookie, c.csrf])

    def test_email_normalized_and_unique(self):
        a = signup("norm")
        shouted = "  " + a.email.upper() + " "
        r = ENV.client().post("/api/auth/signup", {"email": shouted, "password": PW, "name": "X"})
        self.assertEqual(r.status, 409)
        self.assertEqual(r.json()["error"]["code"], "email_taken")
        c, r = login(shouted)
        self.assertEqual(r.status, 200, r)

    def test_password_hash_is_scrypt_mcf(self):
        a = signup("hash")
        h = ENV.pg.psql(f"SELECT password_hash FROM glyphic.users WHERE email = '{a.email}'")
        self.assertTrue(h.startswith("$s1$"), h)
        self.assertNotIn(PW, h)

    def test_login_logout(self):
        a = signup("lo")
        c, r = login(a.email)
        self.assertEqual(r.status, 200)
        self.assertEqual(c.get("/api/me").status, 200)
        old_cookie = c.cookie
        r = c.post("/api/auth/logout")
        self.assertEqual(r.status, 204)
        self.assertIsNone(c.cookie)  # cleared by Set-Cookie
        c.cookie = old_cookie        # a stolen copy of the cookie is dead too
        r = c.get("/api/me")
        self.assertEqual(r.status, 401)
        self.assertEqual(r.json()["error"]["code"], "unauthorized")

    def test_wrong_password_and_unknown_email_look_alike(self):
        a = signup("wp")
        _, r1 = login(a.email, "wrong password!!")
        _, r2 = login("nobody-" + a.email, "wrong password!!")
        self.assertEqual((r1.status, r2.status), (401, 401))
        self.assertEqual(r1.json()["error"]["message"], r2.json()["error"]["message"])
        ENV.pg.psql("DELETE FROM glyphic.login_attempts")

    def test_bad_input_is_400_and_writes_nothing(self):
        users, orgs = count("users"), count("orgs")
        good = {"email": "ok@example.com", "password": PW, "name": "N"}
        cases = [
            ({**good, "email": "a" * 250 + "@example.com"}, "email"),
            ({**good, "email": "no-at-sign"}, "email"),
            ({**good, "email": "two@@example.com"}, "email"),
            ({**good, "email": "sp ace@example.com"}, "email"),
            ({**good, "email": "x@nodot"}, "email"),
            ({**good, "email": "x@example..com"}, "email"),
            ({**good, "email": 5}, "email"),
            ({**good, "password": "short"}, "password"),
            ({**good, "password": "p" * 129}, "password"),
            ({**good, "password": ["list"]}, "password"),
            ({**good, "name": ""}, "name"),
            ({**good, "name": "n" * 101}, "name"),
            ({**good, "admin": True}, "admin"),
            ({"password": PW, "name": "N"}, "email"),
            ({**good, "org_name": 7}, "org_name"),
        ]
        for body, field in cases:
            with self.subTest(field=field, body=str(body)[:60]):
                r = ENV.client().post("/api/auth/signup", body)
                self.assertEqual(r.status, 400, r)
                self.assertEqual(r.json()["error"]["field"], field, r)
        for raw in (b"{not json", b"[]", b'"str"', b"null"):
            r = ENV.request("POST", "/api/auth/signup", body=raw, headers={"Content-Type": "application/json"})
            self.assertEqual(r.status, 400, r)
        r = ENV.client().post("/api/auth/login", {"email": "x@example.com", "password": PW, "extra": 1})
        self.assertEqual(r.json()["error"]["field"], "extra")
        self.assertEqual((count("users"), count("orgs")), (users, orgs))


class BruteForceTest(unittest.TestCase):
    def setUp(self):
        ENV.pg.psql("DELETE FROM glyphic.login_attempts")

    tearDown = setUp

    def test_account_lockout_then_window_passes(self):
        a = signup("bf")
        for i in range(5):
            _, r = login(a.email, f"guess number {i}")
            self.assertEqual(r.status, 401)
        _, r = login(a.email, "guess number 6")
        self.assertEqual(r.status, 429)
        self.assertEqual(r.json()["error"]["code"], "too_many_attempts")
        self.assertGreater(int(r.header("Retry-After")), 0)
        _, r = login(a.email)  # the right password is refused too
        self.assertEqual(r.status, 429)
        # the audit log shows the attempts
        audit = a.get("/api/audit?limit=100").json()["items"]
        self.assertEqual(sum(1 for e in audit if e["action"] == "auth.login_failed"), 5)
        # once the window has passed (moved back in time here), the password works
        ENV.pg.psql("UPDATE glyphic.login_attempts SET at = at - interval '1 hour'")
        _, r = login(a.email)
        self.assertEqual(r.status, 200)

    def test_per_address_limit(self):
        for i in range(12):
            _, r = login(f"ghost{i}@example.com", "whatever password")
            self.assertEqual(r.status, 401)
        a = signup("ip")
        _, r = login(a.email)
        self.assertEqual(r.status, 429)


class SessionsTest(unittest.TestCase):
    def test_csrf_required_for_cookie_mutations(self):
        a = signup("csrf")
        r = a.put("/api/me/prefs", {"theme": "dark"}, csrf=False)
        self.assertEqual(r.status, 403)
        self.assertEqual(r.json()["error"]["code"], "csrf_required")
        r = a.put("/api/me/prefs", {"theme": "dark"}, headers={"X-CSRF-Token": "forged"})
        self.assertEqual(r.status, 403)
        self.assertEqual(r.json()["error"]["code"], "csrf_invalid")
        self.assertEqual(a.get("/api/me/prefs").json(), {})  # nothing written
        self.assertEqual(a.put("/api/me/prefs", {"theme": "dark"}).status, 200)

    def test_expired_and_idle_sessions_rejected(self):
        a = signup("exp")
        ENV.pg.psql(f"UPDATE glyphic.sessions s SET expires_at = now() - interval '1 second' "
                    f"FROM glyphic.users u WHERE u.id = s.user_id AND u.email = '{a.email}'")
        self.assertEqual(a.get("/api/me").status, 401)
        b = signup("idle")
        ENV.pg.psql(f"UPDATE glyphic.sessions s SET last_seen_at = now() - interval '30 days' "
                    f"FROM glyphic.users u WHERE u.id = s.user_id AND u.email = '{b.email}'")
        self.assertEqual(b.get("/api/me").status, 401)

    def test_garbage_cookies_and_headers(self):
        for cookie in ("glyphic_session=", "glyphic_session=" + "A" * 43, "glyphic_session=../../etc",
                       "glyphic_session=" + "x" * 5000, "other=1; glyphic_session=" + "\u00e9" * 43):
            r = ENV.request("GET", "/api/me", headers={"Cookie": cookie.encode("utf-8").decode("latin-1")})
            self.assertEqual(r.status, 401, cookie)
        for auth in ("Bearer", "Bearer ", "Basic Zm9vOmJhcg==", "Bearer gk_short", "Bearer gk_" + "a" * 60):
            r = ENV.request("GET", "/api/me", headers={"Authorization": auth})
            self.assertEqual(r.status, 401, auth)
        a = signup("hdr")
        r = a.get("/api/me", headers={"X-Glyphic-Org": "not-a-uuid"})
        self.assertEqual(r.status, 400)

    def test_password_change_ends_other_sessions(self):
        a = signup("pwc")
        other, _ = login(a.email)
        self.assertEqual(other.get("/api/me").status, 200)
        r = a.put("/api/me/password", {"current_password": "not it at all", "new_password": "a new password!"})
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json()["error"]["field"], "current_password")
        r = a.put("/api/me/password", {"current_password": PW, "new_password": "short"})
        self.assertEqual(r.json()["error"]["field"], "new_password")
        SECRETS.append("a new password!")
        r = a.put("/api/me/password", {"current_password": PW, "new_password": "a new password!"})
        self.assertEqual(r.status, 204, r)
        self.assertEqual(other.get("/api/me").status, 401)
        self.assertEqual(a.get("/api/me").status, 200)
        self.assertEqual(login(a.email)[1].status, 401)
        self.assertEqual(login(a.email, "a new password!")[1].status, 200)
        ENV.pg.psql("DELETE FROM glyphic.login_attempts")

    def test_password_change_revokes_api_keys_unless_kept(self):
        a = signup("pwk")
        k, _ = make_key(a, ["read"])
        self.assertEqual(k.get("/api/me").status, 200)
        SECRETS.extend(["second password!", "third password!!"])
        r = a.put("/api/me/password", {"current_password": PW, "new_password": "second password!",
                                       "keep_api_keys": True})
        self.assertEqual(r.status, 204, r)
        self.assertEqual(k.get("/api/me").status, 200)
        r = a.put("/api/me/password", {"current_password": "second password!", "new_password": "third password!!",
                                       "keep_api_keys": "yes"})
        self.assertEqual((r.status, r.json()["error"]["field"]), (400, "keep_api_keys"))
        r = a.put("/api/me/password", {"current_password": "second password!", "new_password": "third password!!"})
        self.assertEqual(r.status, 204, r)
        self.assertEqual(k.get("/api/me").status, 401)
        self.assertTrue(all(x["revoked_at"] for x in a.get("/api/keys").json()))
        ENV.pg.psql("DELETE FROM glyphic.login_attempts")

    def test_common_passwords_are_refused(self):
        r = ENV.client().post("/api/auth/signup", {"email": f"weak-{uuid.uuid4().hex[:6]}@example.com",
                                                   "password": "Password1234", "name": "W"})
        self.assertEqual((r.status, r.json()["error"]["code"], r.json()["error"]["field"]),
                         (400, "weak_password", "password"))
        a = signup("weak")
        email = f"weakinv-{uuid.uuid4().hex[:6]}@example.com"
        token = invite(a, a.me["org_id"], email, "viewer")["token"]
        r = ENV.client().post("/api/auth/signup", {"email": email, "password": "qwertyuiop", "name": "W",
                                                   "invitation": token})
        self.assertEqual((r.status, r.json()["error"]["code"]), (400, "weak_password"))
        r = a.put("/api/me/password", {"current_password": PW, "new_password": "iloveyou123"})
        self.assertEqual((r.status, r.json()["error"]["code"], r.json()["error"]["field"]),
                         (400, "weak_password", "new_password"))
        # nothing was written: the invitation still works with a good password
        r = ENV.client().post("/api/auth/signup", {"email": email, "password": PW, "name": "W", "invitation": token})
        self.assertEqual(r.status, 201, r)
        SECRETS.append(r.header("Set-Cookie").split(";")[0].split("=", 1)[1])

    def test_failed_log_in_to_no_account_keeps_no_email(self):
        typed = f"my-secret-typo-{uuid.uuid4().hex[:6]}@example.com"
        _, r = login(typed, "whatever it was")
        self.assertEqual(r.status, 401)
        rows = ENV.pg.psql("SELECT details::text FROM glyphic.audit_log WHERE action = 'auth.login_failed' "
                           "AND target_type = 'email' ORDER BY id DESC LIMIT 1")
        self.assertNotIn("my-secret-typo", rows)
        self.assertIn("email_digest", rows)
        self.assertEqual(ENV.pg.psql(f"SELECT count(*) FROM glyphic.audit_log WHERE details::text LIKE '%{typed}%'"),
                         "0")
        # a known account's failed log-in names the user, as before
        a = signup("known")
        _, r = login(a.email, "not the password")
        self.assertEqual(r.status, 401)
        self.assertEqual(ENV.pg.psql(f"SELECT count(*) FROM glyphic.audit_log WHERE action = 'auth.login_failed' "
                                     f"AND target_id = '{a.me['user']['id']}'"), "1")
        ENV.pg.psql("DELETE FROM glyphic.login_attempts")

    def test_list_and_revoke_sessions(self):
        a = signup("sess")
        other, _ = login(a.email)
        sessions = a.get("/api/me/sessions").json()
        self.assertEqual(len(sessions), 2)
        self.assertEqual(sum(s["current"] for s in sessions), 1)
        victim = [s for s in sessions if not s["current"]][0]["id"]
        self.assertEqual(a.delete(f"/api/me/sessions/{victim}").status, 204)
        self.assertEqual(other.get("/api/me").status, 401)
        self.assertEqual(a.delete(f"/api/me/sessions/{victim}").status, 404)
        self.assertEqual(a.delete("/api/me/sessions/not-a-uuid").status, 404)

    def test_prefs(self):
        a = signup("prefs")
        self.assertEqual(a.put("/api/me/prefs", {"theme": "dark", "tz": "Europe/Paris"}).status, 200)
        self.assertEqual(a.get("/api/me/prefs").json(), {"theme": "dark", "tz": "Europe/Paris"})
        self.assertEqual(a.put("/api/me/prefs", [1, 2]).status, 400)
        r = a.put("/api/me/prefs", {"blob": "x" * 20000})
        self.assertEqual(r.status, 413)
        self.assertEqual(a.get("/api/me/prefs").json()["theme"], "dark")


class KeysTest(unittest.TestCase):
    def test_key_auth_scopes_and_revocation(self):
        a = signup("keys")
        rk, info = make_key(a, ["read"], "reader")
        self.assertTrue(info["key"].startswith(info["prefix"] + "_"))
        self.assertEqual(rk.get("/api/me").json()["auth"], "api_key")
        self.assertEqual(rk.get(f"/api/orgs/{a.me['org_id']}").status, 200)
        r = rk.put("/api/me/prefs", {"x": 1})
        self.assertEqual(r.status, 403)
        self.assertEqual(r.json()["error"]["code"], "insufficient_scope")
        self.assertEqual(rk.get("/api/audit").status, 403)
        # keys need no CSRF header and cannot mint keys
        wk, _ = make_key(a, ["write"], "writer")
        self.assertEqual(wk.put("/api/me/prefs", {"x": 1}).status, 200)
        self.assertEqual(wk.post("/api/keys", {"name": "n", "scopes": ["read"]}).status, 403)
        # listing shows prefixes, never the keys or hashes
        listing = a.get("/api/keys")
        self.assertEqual(listing.status, 200)
        self.assertNotIn(info["key"].encode(), listing.body)
        self.assertNotIn(b"hash", listing.body)
        # the database keeps only a hash
        digest = hashlib.sha256(info["key"].encode()).hexdigest()
        stored = ENV.pg.psql(f"SELECT count(*) FROM glyphic.api_keys WHERE prefix = '{info['prefix']}' "
                             f"AND key_hash = '\\x{digest}'::bytea")
        self.assertEqual(stored, "1")
        # revoke: 401 afterwards
        self.assertEqual(a.delete(f"/api/keys/{info['id']}").status, 204)
        r = rk.get("/api/me")
        self.assertEqual(r.status, 401)
        self.assertEqual(a.delete(f"/api/keys/{info['id']}").status, 404)
        # last use is recorded
        used = [k for k in a.get("/api/keys").json() if k["name"] == "writer"][0]
        self.assertIsNotNone(used["last_used_at"])

    def test_key_validation_and_role_caps(self):
        a = signup("kv")
        for body, field in (({"name": "", "scopes": ["read"]}, "name"), ({"name": "k", "scopes": []}, "scopes"),
                            ({"name": "k", "scopes": ["root"]}, "scopes"), ({"name": "k", "scopes": "read"}, "scopes"),
                            ({"name": "k", "scopes": ["read", "read"]}, "scopes"),
                            ({"name": "k", "scopes": ["read"], "expires_in_days": 0}, "expires_in_days")):
            r = a.post("/api/keys", body)
            self.assertEqual(r.status, 400, r)
            self.assertEqual(r.json()["error"]["field"], field)
        v = member_of(a, "viewer")
        self.assertEqual(v.post("/api/keys", {"name": "k", "scopes": ["write"]}).status, 403)
        self.assertEqual(v.post("/api/keys", {"name": "k", "scopes": ["read"]}).status, 201)
        e = member_of(a, "editor")
        self.assertEqual(e.post("/api/keys", {"name": "k", "scopes": ["admin"]}).status, 403)

    def test_expired_key_and_key_of_removed_member(self):
        a = signup("kx")
        k, info = make_key(a, ["read"])
        ENV.pg.psql(f"UPDATE glyphic.api_keys SET expires_at = now() - interval '1 second' WHERE id = '{info['id']}'")
        self.assertEqual(k.get("/api/me").status, 401)
        ed = member_of(a, "editor")
        ek, _ = make_key(ed, ["read"])
        self.assertEqual(ek.get("/api/me").status, 200)
        self.assertEqual(a.delete(f"/api/orgs/{a.me['org_id']}/members/{ed.me['user']['id']}").status, 204)
        self.assertEqual(ek.get("/api/me").status, 401)


class OrgsTest(unittest.TestCase):
    def test_roles_and_permissions(self):
        a = signup("owner")
        org = a.me["org_id"]
        v = member_of(a, "viewer")
        ed = member_of(a, "editor")
        ad = member_of(a, "admin")
        self.assertEqual(v.get(f"/api/orgs/{org}").json()["role"], "viewer")
        self.assertEqual(len(v.get(f"/api/orgs/{org}/members").json()), 4)
        for c in (v, ed):
            self.assertEqual(c.patch(f"/api/orgs/{org}", {"name": "mine"}).status, 403)
            self.assertEqual(c.post(f"/api/orgs/{org}/invitations", {"email": "z@example.com", "role": "viewer"}).status, 403)
            self.assertEqual(c.get("/api/audit").status, 403)
            self.assertEqual(c.patch(f"/api/orgs/{org}/members/{a.me['user']['id']}", {"role": "viewer"}).status, 403)
        self.assertEqual(ad.patch(f"/api/orgs/{org}", {"name": "Renamed"}).status, 200)
        self.assertEqual(a.get(f"/api/orgs/{org}").json()["name"], "Renamed")
        # admins manage members but not owners
        self.assertEqual(ad.patch(f"/api/orgs/{org}/members/{v.me['user']['id']}", {"role": "editor"}).status, 200)
        self.assertEqual(ad.patch(f"/api/orgs/{org}/members/{v.me['user']['id']}", {"role": "owner"}).status, 403)
        self.assertEqual(ad.delete(f"/api/orgs/{org}/members/{a.me['user']['id']}").status, 403)
        self.assertEqual(ad.post(f"/api/orgs/{org}/invitations", {"email": "o@example.com", "role": "owner"}).status, 403)
        r = ad.patch(f"/api/orgs/{org}/members/{v.me['user']['id']}", {"role": "god"})
        self.assertEqual((r.status, r.json()["error"]["field"]), (400, "role"))
        # audit shows role changes
        actions = [e["action"] for e in a.get("/api/audit?limit=200").json()["items"]]
        for act in ("member.role", "org.rename", "member.invite", "auth.signup"):
            self.assertIn(act, actions)

    def test_last_owner_cannot_leave_or_be_demoted(self):
        a = signup("last")
        org, me = a.me["org_id"], a.me["user"]["id"]
        r = a.delete(f"/api/orgs/{org}/members/{me}")
        self.assertEqual((r.status, r.json()["error"]["code"]), (409, "last_owner"))
        r = a.patch(f"/api/orgs/{org}/members/{me}", {"role": "admin"})
        self.assertEqual((r.status, r.json()["error"]["code"]), (409, "last_owner"))
        b = member_of(a, "admin")
        self.assertEqual(a.patch(f"/api/orgs/{org}/members/{b.me['user']['id']}", {"role": "owner"}).status, 200)
        self.assertEqual(a.delete(f"/api/orgs/{org}/members/{me}").status, 204)  # leave
        self.assertEqual(a.get(f"/api/orgs/{org}").status, 404)
        self.assertEqual(b.get(f"/api/orgs/{org}/members").status, 200)

    def test_create_switch_and_header(self):
        a = signup("multi")
        first = a.me["org_id"]
        r = a.post("/api/orgs", {"name": "Second"})
        self.assertEqual(r.status, 201)
        second = r.json()["id"]
        self.assertEqual(len(a.get("/api/orgs").json()), 2)
        self.assertEqual(a.get("/api/me").json()["org"]["id"], first)
        self.assertEqual(a.get("/api/me", headers={"X-Glyphic-Org": second}).json()["org"]["id"], second)
        self.assertEqual(a.post(f"/api/orgs/{second}/switch").status, 200)
        self.assertEqual(a.get("/api/me").json()["org"]["id"], second)
        self.assertEqual(a.post("/api/orgs", {"name": ""}).status, 400)

    def test_invitation_flows(self):
        a = signup("inv")
        org = a.me["org_id"]
        b = signup("invitee")
        inv = invite(a, org, b.email, "editor")
        self.assertTrue(inv["accept_url"].endswith(inv["token"]))
        pending = a.get(f"/api/orgs/{org}/invitations").json()
        self.assertEqual(len(pending), 1)
        self.assertNotIn("token", pending[0])
        # a different signed-in user cannot use it
        c = signup("stranger")
        self.assertEqual(c.post("/api/invitations/accept", {"token": inv["token"]}).status, 404)
        r = b.post("/api/invitations/accept", {"token": inv["token"]})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["role"], "editor")
        self.assertEqual(b.post("/api/invitations/accept", {"token": inv["token"]}).status, 404)
        self.assertEqual(b.get(f"/api/orgs/{org}").json()["role"], "editor")
        # revoke a pending invitation
        inv2 = invite(a, org, "later@example.com", "viewer")
        self.assertEqual(a.delete(f"/api/orgs/{org}/invitations/{inv2['id']}").status, 204)
        r = ENV.client().post("/api/auth/signup", {"email": "later@example.com", "password": PW, "name": "L",
                                                   "invitation": inv2["token"]})
        self.assertEqual((r.status, r.json()["error"]["field"]), (400, "invitation"))

    def test_signup_closed_without_invitation(self):
        a = signup("closed")
        inv = invite(a, a.me["org_id"], "joiner@example.com", "viewer")
        # the database enforces it: glyphic migrate copies it there
        ENV.fcgi.write_conf(**{"auth.open_signup": "false"})
        ENV.glyphic("migrate")
        try:
            harness.wait_for(lambda: ENV.client().post("/api/auth/signup", {
                "email": f"x{uuid.uuid4().hex[:6]}@example.com", "password": PW, "name": "X"}).status == 403,
                what="closed sign-up")
            r = ENV.client().post("/api/auth/signup", {"email": "joiner@example.com", "password": PW, "name": "J",
                                                       "invitation": inv["token"]})
            self.assertEqual(r.status, 201, r)
            SECRETS.append(r.header("Set-Cookie").split(";")[0].split("=", 1)[1])
        finally:
            ENV.fcgi.write_conf(**{"auth.open_signup": "true"})
            ENV.glyphic("migrate")

    def test_audit_pagination(self):
        a = signup("pg")
        for i in range(5):
            a.patch(f"/api/orgs/{a.me['org_id']}", {"name": f"name {i}"})
        page = a.get("/api/audit?limit=2").json()
        self.assertEqual(len(page["items"]), 2)
        nxt = a.get(f"/api/audit?limit=2&before={page['next_before']}").json()
        self.assertLess(nxt["items"][0]["id"], page["items"][-1]["id"])
        self.assertEqual(a.get("/api/audit?limit=0").status, 400)
        self.assertEqual(a.get("/api/audit?before=abc").status, 400)


class TenancyTest(unittest.TestCase):
    def test_other_orgs_objects_are_404(self):
        a = signup("ta")
        b = signup("tb")
        org_a = a.me["org_id"]
        _, key = make_key(a, ["read"])
        sess_a = [s for s in a.get("/api/me/sessions").json() if s["current"]][0]["id"]
        inv = invite(a, org_a, "someone@example.com", "viewer")
        checks = [
            ("GET", f"/api/orgs/{org_a}", None),
            ("PATCH", f"/api/orgs/{org_a}", {"name": "pwned"}),
            ("POST", f"/api/orgs/{org_a}/switch", {}),
            ("GET", f"/api/orgs/{org_a}/members", None),
            ("PATCH", f"/api/orgs/{org_a}/members/{a.me['user']['id']}", {"role": "viewer"}),
            ("DELETE", f"/api/orgs/{org_a}/members/{a.me['user']['id']}", None),
            ("GET", f"/api/orgs/{org_a}/invitations", None),
            ("POST", f"/api/orgs/{org_a}/invitations", {"email": "e@example.com", "role": "owner"}),
            ("DELETE", f"/api/orgs/{org_a}/invitations/{inv['id']}", None),
            ("DELETE", f"/api/keys/{key['id']}", None),
            ("DELETE", f"/api/me/sessions/{sess_a}", None),
            ("GET", "/api/audit", None, ),
        ]
        for method, path, body in checks:
            with self.subTest(method=method, path=path):
                hdrs = {"X-Glyphic-Org": org_a} if path == "/api/audit" else None
                r = b.request(method, path, body=body, headers=hdrs)
                self.assertEqual(r.status, 404, r)
        # and nothing changed
        self.assertEqual(a.get(f"/api/orgs/{org_a}").json()["name"], a.me["orgs"][0]["name"])
        self.assertEqual(len(a.get("/api/keys").json()), 1)
        self.assertEqual(a.get("/api/me").status, 200)
        # B's keys cannot reach A's org either
        bk, _ = make_key(b, ["admin"])
        self.assertEqual(bk.get(f"/api/orgs/{org_a}").status, 404)
        self.assertEqual(bk.get("/api/audit", headers={"X-Glyphic-Org": org_a}).status, 404)

    def test_rls_as_the_app_role(self):
        a = signup("rlsa")
        b = signup("rlsb")
        make_key(a, ["read"])
        make_key(b, ["read"])
        invite(a, a.me["org_id"], "r1@example.com", "viewer")
        invite(b, b.me["org_id"], "r2@example.com", "viewer")
        uid, org = a.me["user"]["id"], a.me["org_id"]
        # org-owned tables and the column naming the org
        tables = {"orgs": "id", "memberships": "org_id", "api_keys": "org_id", "invitations": "org_id",
                  "audit_log": "org_id"}
        for table, col in tables.items():
            with self.subTest(table=table):
                total = int(ENV.pg.psql(f"SELECT count(*) FROM glyphic.{table}"))
                out = ENV.pg.psql(f"BEGIN; {ENV.app_context(uid)}; "
                                  f"SELECT count(*), count(*) FILTER (WHERE {col} <> '{org}') FROM glyphic.{table}; "
                                  f"COMMIT;", user="glyphic_app")
                seen, foreign = map(int, out.splitlines()[-1].split("|"))
                self.assertGreater(seen, 0)
                self.assertEqual(foreign, 0, f"{table}: rows of another org visible")
                self.assertLess(seen, total)
                # no context at all: nothing
                none = ENV.pg.psql(f"SELECT count(*) FROM glyphic.{table}", user="glyphic_app")
                self.assertEqual(none, "0")
        # user-owned tables: only A's own sessions, only A and A's peers
        out = ENV.pg.psql(f"BEGIN; {ENV.app_context(uid)}; "
                          f"SELECT count(*) FILTER (WHERE user_id <> '{uid}') FROM glyphic.sessions; COMMIT;",
                          user="glyphic_app")
        self.assertEqual(out.splitlines()[-1], "0")
        out = ENV.pg.psql(f"BEGIN; {ENV.app_context(uid)}; "
                          f"SELECT count(*) FROM glyphic.users WHERE email = '{b.email}'; COMMIT;", user="glyphic_app")
        self.assertEqual(out.splitlines()[-1], "0")
        # the app role cannot write outside its context either
        r = ENV.pg.psql(f"BEGIN; {ENV.app_context(uid)}; "
                        f"UPDATE glyphic.orgs SET name = 'x' WHERE id = '{b.me['org_id']}'; COMMIT;",
                        user="glyphic_app")
        self.assertEqual(ENV.pg.psql(f"SELECT name FROM glyphic.orgs WHERE id = '{b.me['org_id']}'"),
                         b.me["orgs"][0]["name"])
        self.assertEqual(ENV.pg.psql("SELECT count(*) FROM glyphic.login_attempts", user="glyphic_app", check=False).returncode, 1)


class HardeningTest(unittest.TestCase):
    def test_api_key_context_is_its_org_only(self):
        a = signup("ko")
        org_a = a.me["org_id"]
        org_b = a.post("/api/orgs", {"name": "Other"}).json()["id"]
        k, info = make_key(a, ["read"])
        orgs = k.get("/api/orgs").json()
        self.assertEqual([o["id"] for o in orgs], [org_a])
        self.assertEqual(len(k.get("/api/me").json()["orgs"]), 1)
        self.assertEqual(k.get(f"/api/orgs/{org_b}").status, 404)
        digest = hashlib.sha256(info["key"].encode()).hexdigest()
        out = ENV.pg.psql(f"BEGIN; SELECT count(*) FROM glyphic.auth_api_key('\\x{digest}'); "
                          f"SELECT glyphic.my_org_ids(); COMMIT;", user="glyphic_app")
        self.assertEqual(out.splitlines()[-1], "{" + org_a + "}")

    def test_rls_checks_roles_on_writes(self):
        a = signup("rw")
        v = member_of(a, "viewer")
        org, vid, aid = a.me["org_id"], v.me["user"]["id"], a.me["user"]["id"]
        ctx = f"BEGIN; {ENV.app_context(vid, org)}; "
        for stmt in (f"UPDATE glyphic.memberships SET role = 'owner' WHERE user_id = '{vid}'",
                     f"UPDATE glyphic.orgs SET name = 'pwned' WHERE id = '{org}'",
                     f"DELETE FROM glyphic.memberships WHERE user_id = '{aid}'",
                     "UPDATE glyphic.api_keys SET revoked_at = NULL"):
            ENV.pg.psql(ctx + stmt + "; COMMIT;", user="glyphic_app")
        self.assertEqual(ENV.pg.psql(f"SELECT role FROM glyphic.memberships WHERE user_id = '{vid}'"), "viewer")
        self.assertNotEqual(ENV.pg.psql(f"SELECT name FROM glyphic.orgs WHERE id = '{org}'"), "pwned")
        self.assertEqual(ENV.pg.psql(f"SELECT count(*) FROM glyphic.memberships WHERE user_id = '{aid}'"), "1")
        # nobody reads password hashes through the app role
        r = ENV.pg.psql(ctx + "SELECT password_hash FROM glyphic.users; COMMIT;", user="glyphic_app", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("permission denied", r.stderr)

    def test_removed_member_leaves_nothing_usable(self):
        a = signup("rm")
        org = a.me["org_id"]
        bob = member_of(a, "admin")
        k, _ = make_key(bob, ["admin"])
        alt = f"alt-{uuid.uuid4().hex[:6]}@example.com"
        token = invite(bob, org, alt, "admin")["token"]
        self.assertEqual(a.delete(f"/api/orgs/{org}/members/{bob.me['user']['id']}").status, 204)
        r = ENV.client().post("/api/auth/signup", {"email": alt, "password": PW, "name": "Alt", "invitation": token})
        self.assertEqual(r.status, 400)  # the invitation went with its issuer
        # re-invited later, the old key stays dead
        token2 = invite(a, org, bob.email, "viewer")["token"]
        self.assertEqual(bob.post("/api/invitations/accept", {"token": token2}).status, 200)
        self.assertEqual(k.get("/api/me").status, 401)

    def test_password_guesses_are_throttled(self):
        ENV.pg.psql("DELETE FROM glyphic.login_attempts")
        a = signup("pg")
        for i in range(5):
            r = a.put("/api/me/password", {"current_password": f"guess {i} wrong", "new_password": "whatever new pw"})
            self.assertEqual(r.status, 400)
        r = a.put("/api/me/password", {"current_password": PW, "new_password": "whatever new pw"})
        self.assertEqual((r.status, r.json()["error"]["code"]), (429, "too_many_attempts"))
        ENV.pg.psql("DELETE FROM glyphic.login_attempts")

    def test_odd_text_does_not_break_sign_in(self):
        r = ENV.client().post("/api/auth/signup", {"email": f"emo-{uuid.uuid4().hex[:6]}@example.com",
                                                   "password": PW, "name": "\U0001F600" * 24})
        self.assertEqual(r.status, 201, r)
        a = signup("ua")
        # UTF-8 cut at byte 255 mid-character, and a Latin-1 byte: http.client
        # sends header text as Latin-1, so these strings carry the raw bytes
        for raw in (("x" * 254 + "\u00e9" * 10).encode("utf-8"), "caf\u00e9".encode("latin-1")):
            c = ENV.client()
            r = c.post("/api/auth/login", {"email": a.email, "password": PW},
                       headers={"User-Agent": raw.decode("latin-1")})
            self.assertEqual(r.status, 200, r)
            SECRETS.extend([c.cookie, c.csrf])

    def test_refuses_a_role_that_bypasses_rls(self):
        conf = os.path.join(ENV.base, "unsafe.conf")
        with open(ENV.fcgi.conf) as f, open(conf, "w") as g:
            g.write(f.read().replace("user=glyphic_app", "user=postgres").replace(ENV.fcgi.socket, ENV.fcgi.socket + "2"))
        r = subprocess.run([os.path.join(harness.BUILD, "fcgi", "glyphic-fcgi"), "-c", conf],
                           capture_output=True, text=True, timeout=20)
        self.assertEqual(r.returncode, 1)
        self.assertIn("bypasses row level security", r.stderr)

    def test_refuses_a_member_of_a_trusted_role(self):
        # a login role in glyphic_executor (or glyphic_owner) can SET ROLE to it
        for parent in ("glyphic_executor", "glyphic_owner"):
            with self.subTest(parent=parent):
                role = f"{parent}_member_fcgi"
                ENV.pg.psql(f"DROP ROLE IF EXISTS {role}")
                ENV.pg.psql(f"CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS IN ROLE {parent}")
                try:
                    conf = os.path.join(ENV.base, "member.conf")
                    with open(ENV.fcgi.conf) as f, open(conf, "w") as g:
                        g.write(f.read().replace("user=glyphic_app", f"user={role}")
                                .replace(ENV.fcgi.socket, ENV.fcgi.socket + "3"))
                    r = subprocess.run([os.path.join(harness.BUILD, "fcgi", "glyphic-fcgi"), "-c", conf],
                                       capture_output=True, text=True, timeout=20)
                    self.assertEqual(r.returncode, 1, r.stderr)
                    self.assertIn(f"refusing to serve as database role '{role}'", r.stderr)
                finally:
                    ENV.pg.psql(f"DROP ROLE IF EXISTS {role}")


class RestartTest(unittest.TestCase):
    def test_sessions_survive_a_database_restart(self):
        a = signup("restart")
        k, _ = make_key(a, ["read"])
        self.assertEqual(a.get("/api/me").status, 200)
        ENV.pg.stop()
        try:
            r = a.get("/api/me")
            self.assertEqual((r.status, r.json()["error"]["code"]), (503, "database_unavailable"))
        finally:
            ENV.pg.start()
        harness.wait_for(lambda: a.get("/api/me").status == 200, what="authenticated requests back")
        ENV.pg.stop()
        ENV.pg.start()
        # connections died under the workers: the next requests reconnect
        self.assertEqual([a.get("/api/me").status for _ in range(6)], [200] * 6)
        self.assertEqual([k.get("/api/me").status for _ in range(6)], [200] * 6)


class ZLogsTest(unittest.TestCase):
    """Runs last (classes run in name order): no secret in any log."""

    def test_no_secret_in_logs(self):
        self.assertGreater(len(SECRETS), 20)
        logs = []
        for root, _, files in os.walk(ENV.base):
            for f in files:
                if f.endswith(".log") or f.endswith(".stderr") or "log" in root.split(os.sep)[-1]:
                    path = os.path.join(root, f)
                    with open(path, errors="replace") as fh:
                        logs.append((path, fh.read()))
        self.assertTrue(any("postgres.log" in p for p, _ in logs))
        self.assertTrue(any("statement:" in t for _, t in logs), "log_statement=all did not log")
        for secret in filter(None, SECRETS):
            for path, text in logs:
                self.assertNotIn(secret, text, f"a secret appears in {path}")


if __name__ == "__main__":
    unittest.main(verbosity=2)
