"""The credentials vault's API (issue 14, items 1-3): /api/credential-types
and /api/credentials under the same tenancy as the rest of the API.

Owners and editors create, change and delete; viewers see names and types
only; another org sees nothing (404). No answer ever holds a secret value or
its ciphertext. A PATCH keeps a secret left out and clears one set to null.
Deleting (or renaming) a credential that workflows use by name is 409 with
their list, unless ?force=true. Import reports the credentials the org does
not have. Every bad input is a 400 that names the field, and changes nothing.
The database is checked too: the sealed values open (vaultlib) only in the
row, field and org they were sealed for, and the app role's SQL cannot move
a row to another org or read another org's rows.

Real PostgreSQL, glyphic-fcgi and nginx."""
import json
import threading
import unittest
import uuid

import harness
import vaultlib

ENV = None
SECRET = "sk-" + uuid.uuid4().hex


def setUpModule():
    global ENV
    ENV = harness.Env(workers=2)
    ENV.start_all()


def tearDownModule():
    ENV.close()


def sql(q):
    return ENV.pg.psql(q, user="postgres")


def owner():
    return ENV.signup(f"cred-{uuid.uuid4().hex[:8]}@example.com")


def bearer(c, name="api", token=SECRET):
    r = c.post("/api/credentials", {"name": name, "type": "http.bearer", "secrets": {"token": token}})
    assert r.status == 201, r
    return r.json()


def no_secret(test, r, *values):
    text = r.body.decode(errors="replace")
    for v in values or (SECRET,):
        test.assertNotIn(v, text)
    test.assertNotIn('"secrets"', text)


class CredentialsApiTest(unittest.TestCase):
    def test_types_catalogue(self):
        c = owner()
        r = c.get("/api/credential-types")
        self.assertEqual(r.status, 200, r)
        types = {t["type"]: t for t in r.json()}
        self.assertEqual(set(types), {"http.header", "http.bearer", "http.basic", "http.query", "webhook.hmac",
                                      "oauth2.code", "oauth2.client", "generic"})
        token = next(f for f in types["http.bearer"]["fields"] if f["name"] == "token")
        self.assertTrue(token["secret"] and token["required"])
        refresh = next(f for f in types["oauth2.code"]["fields"] if f["name"] == "refresh_token")
        self.assertTrue(refresh["system"])
        self.assertTrue(types["oauth2.code"]["oauth2"])
        self.assertEqual(ENV.client().get("/api/credential-types").status, 401)

    def test_create_get_list_never_show_a_secret(self):
        c = owner()
        r = c.post("/api/credentials", {"name": "Stripe key", "type": "http.header",
                                        "fields": {"header_name": "X-Api-Key"}, "secrets": {"value": SECRET}})
        self.assertEqual(r.status, 201, r)
        no_secret(self, r)
        cred = r.json()
        self.assertEqual(cred["secrets_set"], ["value"])
        self.assertEqual(cred["fields"], {"header_name": "X-Api-Key"})
        self.assertEqual(r.header("Location"), f"/api/credentials/{cred['id']}")
        for resp in (c.get(f"/api/credentials/{cred['id']}"), c.get("/api/credentials")):
            self.assertEqual(resp.status, 200, resp)
            no_secret(self, resp)
        self.assertEqual([i["name"] for i in c.get("/api/credentials").json()["items"]], ["Stripe key"])
        self.assertEqual(c.get("/api/credentials?type=http.header").json()["items"][0]["id"], cred["id"])
        self.assertEqual(c.get("/api/credentials?type=http.basic").json()["items"], [])
        # the same name again
        r = c.post("/api/credentials", {"name": "Stripe key", "type": "http.bearer", "secrets": {"token": "x"}})
        self.assertEqual(r.status, 409, r)
        self.assertEqual(r.json()["error"]["code"], "name_taken")
        # in the database: sealed, bound to this row, org and field
        row = json.loads(sql(f"SELECT json_build_object('org', org_id, 'key', key_id, 's', secrets) "
                             f"FROM glyphic.credentials WHERE id = '{cred['id']}'"))
        key = vaultlib.read_key(ENV.fcgi.key_file)
        self.assertEqual(row["key"], vaultlib.key_id(key))
        sealed = row["s"]["value"]
        self.assertNotIn(SECRET, sealed)
        self.assertEqual(vaultlib.open_sealed(key, row["org"], cred["id"], "value", sealed), SECRET)
        other = str(uuid.uuid4())
        self.assertIsNone(vaultlib.open_sealed(key, row["org"], other, "value", sealed))
        self.assertIsNone(vaultlib.open_sealed(key, other, cred["id"], "value", sealed))
        self.assertIsNone(vaultlib.open_sealed(key, row["org"], cred["id"], "token", sealed))

    def test_patch_keeps_clears_and_replaces_secrets(self):
        c = owner()
        r = c.post("/api/credentials", {"name": "basic", "type": "http.basic", "fields": {"username": "ann"},
                                        "secrets": {"password": SECRET}})
        self.assertEqual(r.status, 201, r)
        cid = r.json()["id"]
        # a field change leaves the secret as it was
        r = c.patch(f"/api/credentials/{cid}", {"fields": {"username": "bob"}})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["secrets_set"], ["password"])
        self.assertEqual(r.json()["fields"], {"username": "bob"})
        key = vaultlib.read_key(ENV.fcgi.key_file)
        org = c.me["org_id"]

        def stored(field):
            text = sql(f"SELECT secrets->>'{field}' FROM glyphic.credentials WHERE id = '{cid}'")
            return vaultlib.open_sealed(key, org, cid, field, text) if text else None
        self.assertEqual(stored("password"), SECRET)
        new = "pw-" + uuid.uuid4().hex
        r = c.patch(f"/api/credentials/{cid}", {"secrets": {"password": new}})
        self.assertEqual(r.status, 200, r)
        no_secret(self, r, new, SECRET)
        self.assertEqual(stored("password"), new)
        # null clears (password is optional for basic auth)
        r = c.patch(f"/api/credentials/{cid}", {"secrets": {"password": None}})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["secrets_set"], [])
        self.assertIsNone(stored("password"))
        # a required one cannot be cleared
        b = bearer(c, "tok")
        r = c.patch(f"/api/credentials/{b['id']}", {"secrets": {"token": None}})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json()["error"]["field"], "secrets.token")
        r = c.patch(f"/api/credentials/{cid}", {"name": "basic 2"})
        self.assertEqual(r.json()["name"], "basic 2")

    def test_roles(self):
        admin = owner()
        cred = bearer(admin)
        viewer = ENV.member_of(admin, "viewer")
        editor = ENV.member_of(admin, "editor")
        # viewers: names and types only, no writes
        r = viewer.get("/api/credentials")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["items"], [{"id": cred["id"], "name": "api", "type": "http.bearer"}])
        r = viewer.get(f"/api/credentials/{cred['id']}")
        self.assertEqual(r.json(), {"id": cred["id"], "name": "api", "type": "http.bearer"})
        self.assertEqual(viewer.post("/api/credentials", {"name": "v", "type": "http.bearer",
                                                          "secrets": {"token": "x"}}).status, 403)
        self.assertEqual(viewer.patch(f"/api/credentials/{cred['id']}", {"name": "v"}).status, 403)
        self.assertEqual(viewer.delete(f"/api/credentials/{cred['id']}").status, 403)
        # editors do everything to them
        r = editor.post("/api/credentials", {"name": "e", "type": "generic", "fields": {"region": "eu"},
                                             "secrets": {"api_secret": "s"}})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(editor.patch(f"/api/credentials/{cred['id']}", {"name": "api2"}).status, 200)
        self.assertEqual(editor.delete(f"/api/credentials/{r.json()['id']}").status, 204)
        # another org: nothing
        stranger = owner()
        for resp in (stranger.get(f"/api/credentials/{cred['id']}"),
                     stranger.patch(f"/api/credentials/{cred['id']}", {"name": "mine"}),
                     stranger.delete(f"/api/credentials/{cred['id']}")):
            self.assertEqual(resp.status, 404, resp)
        self.assertEqual(stranger.get("/api/credentials").json()["items"], [])
        self.assertEqual(sql(f"SELECT name FROM glyphic.credentials WHERE id = '{cred['id']}'"), "api2")

    def test_bad_inputs_are_400_and_change_nothing(self):
        c = owner()
        cred = bearer(c)
        before = sql("SELECT count(*), max(updated_at) FROM glyphic.credentials")
        cases = [
            ({"name": "x", "type": "nope", "secrets": {}}, "type"),
            ({"name": "x", "type": "http.bearer"}, "secrets.token"),
            ({"name": "x", "type": "http.bearer", "secrets": {"token": ""}}, "secrets.token"),
            ({"name": "x", "type": "http.bearer", "secrets": {"token": 5}}, "secrets.token"),
            ({"name": "x", "type": "http.bearer", "secrets": {"token": "t", "other": "u"}}, "secrets.other"),
            ({"name": "x", "type": "http.bearer", "secrets": "t"}, "secrets"),
            ({"name": "x", "type": "http.bearer", "secrets": None}, "secrets"),
            ({"name": "x", "type": "http.header", "fields": {"header_name": "H"}, "secrets": {"header_name": "v"}},
             "secrets.header_name"),
            ({"name": "x", "type": "http.header", "fields": {"value": "v"}, "secrets": {"value": "v"}}, "fields.value"),
            ({"name": "x", "type": "oauth2.code", "fields": {"auth_url": "a", "token_url": "t", "client_id": "c"},
              "secrets": {"access_token": "t"}}, "secrets.access_token"),
            ({"name": "x", "type": "oauth2.client", "fields": {"token_url": "t", "client_id": "c",
                                                              "token_auth": "post"},
              "secrets": {"client_secret": "s"}}, "fields.token_auth"),
            ({"name": "x", "type": "http.bearer", "secrets": {"token": "t" * 70000}}, "secrets.token"),
            ({"name": "x", "type": "generic", "secrets": {"Bad-Name": "v"}}, "secrets"),
            ({"name": "x", "type": "generic", "fields": {"a": "1"}, "secrets": {"a": "2"}}, "secrets"),
            ({"name": "x", "type": "http.header", "fields": {"header_name": "X-A: b\r\nX-Evil"},
              "secrets": {"value": "v"}}, "fields.header_name"),
            ({"name": "x", "type": "http.basic", "fields": {"username": "a:b"}}, "fields.username"),
            ({"name": "x", "type": "oauth2.client", "fields": {"token_url": "file:///etc/passwd", "client_id": "c"},
              "secrets": {"client_secret": "s"}}, "fields.token_url"),
            ({"name": "x", "type": "generic", "fields": {"note": "two\nlines"}}, "fields.note"),
            ({"name": "a\nb", "type": "http.bearer", "secrets": {"token": "t"}}, "name"),
            ({"name": "", "type": "http.bearer", "secrets": {"token": "t"}}, "name"),
            ({"name": "n" * 101, "type": "http.bearer", "secrets": {"token": "t"}}, "name"),
            ({"name": "x", "type": "http.bearer", "secrets": {"token": "t"}, "extra": 1}, "extra"),
        ]
        for body, field in cases:
            r = c.post("/api/credentials", body)
            self.assertEqual(r.status, 400, (body if len(json.dumps(body)) < 300 else field, r))
            self.assertEqual(r.json()["error"]["field"], field, r)
        r = c.request("POST", "/api/credentials", b"{not json", {"Content-Type": "application/json"})
        self.assertEqual(r.status, 400, r)
        for body in ({"type": "http.basic"}, {"secrets": {"nope": "x"}}, {"fields": []}, {"name": 3}):
            r = c.patch(f"/api/credentials/{cred['id']}", body)
            self.assertEqual(r.status, 400, (body, r))
        for bad in ("/api/credentials/not-a-uuid", f"/api/credentials/{uuid.uuid4()}"):
            self.assertEqual(c.get(bad).status, 404)
        self.assertEqual(c.get("/api/credentials?limit=0").status, 400)
        self.assertEqual(c.get("/api/credentials?cursor=x").status, 400)
        self.assertEqual(sql("SELECT count(*), max(updated_at) FROM glyphic.credentials"), before)

    def test_delete_and_rename_in_use_are_409_unless_forced(self):
        c = owner()
        cred = bearer(c, "crm")
        d = {"nodes": [{"id": "t", "type": "trigger.manual", "name": "Start"},
                       {"id": "h", "type": "http.request", "name": "Call",
                        "params": {"url": "https://example.com/x", "credential": "crm"}}],
             "edges": [{"from": "t", "to": "h"}]}
        wf = c.post("/api/workflows", {"name": "Uses crm", "definition": d})
        self.assertEqual(wf.status, 201, wf)
        self.assertEqual(sql(f"SELECT credentials FROM glyphic.workflow_versions WHERE workflow_id = "
                             f"'{wf.json()['id']}'"), "{crm}")
        r = c.delete(f"/api/credentials/{cred['id']}")
        self.assertEqual(r.status, 409, r)
        err = r.json()["error"]
        self.assertEqual(err["code"], "credential_in_use")
        self.assertEqual(err["workflows"], [{"id": wf.json()["id"], "name": "Uses crm"}])
        r = c.patch(f"/api/credentials/{cred['id']}", {"name": "crm2"})
        self.assertEqual(r.status, 409, r)
        # an editor who cannot see the workflow still learns it exists, not its name
        editor = ENV.member_of(c, "editor")
        r = editor.delete(f"/api/credentials/{cred['id']}")
        self.assertEqual(r.status, 409, r)
        self.assertEqual(r.json()["error"]["workflows"], [{"id": wf.json()["id"], "name": None}])
        self.assertEqual(c.patch(f"/api/credentials/{cred['id']}?force=true", {"name": "crm2"}).status, 200)
        # the workflow now names a credential that is not there: deleting crm2 is free
        self.assertEqual(c.delete(f"/api/credentials/{cred['id']}").status, 204)
        self.assertEqual(c.get(f"/api/credentials/{cred['id']}").status, 404)
        other = bearer(c, "crm")
        self.assertEqual(c.delete(f"/api/credentials/{other['id']}").status, 409)
        self.assertEqual(c.delete(f"/api/credentials/{other['id']}?force=true").status, 204)

    def test_import_reports_only_missing_credentials(self):
        c = owner()
        bearer(c, "have")
        d = {"nodes": [{"id": "t", "type": "trigger.manual", "name": "Start"},
                       {"id": "a", "type": "http.request", "name": "A",
                        "params": {"url": "https://example.com/a", "credential": "have"}},
                       {"id": "b", "type": "http.request", "name": "B",
                        "params": {"url": "https://example.com/b", "credential": "lack"}}],
             "edges": [{"from": "t", "to": "a"}, {"from": "a", "to": "b"}]}
        wf = c.post("/api/workflows", {"name": "Two", "definition": d}).json()
        doc = c.get(f"/api/workflows/{wf['id']}/export").json()
        self.assertEqual(sorted(doc["credentials"]), ["have", "lack"])
        r = c.post("/api/workflows/import", doc)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["missing_credentials"], ["lack"])
        # another org has neither
        r = owner().post("/api/workflows/import", doc)
        self.assertEqual(sorted(r.json()["missing_credentials"]), ["have", "lack"])

    def test_stored_credentials_per_org_limit(self):
        c = owner()
        ENV.glyphic("org", "limits", c.me["org_id"], "--max-credentials", "2")
        bearer(c, "one")
        bearer(c, "two")
        r = c.post("/api/credentials", {"name": "three", "type": "http.bearer", "secrets": {"token": "t"}})
        self.assertEqual(r.status, 403, r)
        self.assertEqual(r.json()["error"]["code"], "limit_reached")
        self.assertEqual(sql(f"SELECT count(*) FROM glyphic.credentials WHERE org_id = '{c.me['org_id']}'"), "2")
        # another org is not limited by it
        bearer(owner(), "three")

    def test_two_inserts_at_once_cannot_both_take_the_last_place(self):
        # both requests queue behind the org's insert lock, held here, and go
        # on together: the second must count the first's row
        c = owner()
        org = c.me["org_id"]
        ENV.glyphic("org", "limits", org, "--max-credentials", "1")
        answers = []

        def insert(name):
            answers.append(c.post("/api/credentials", {"name": name, "type": "http.bearer",
                                                       "secrets": {"token": "t"}}).status)

        with harness.advisory_lock_held(ENV.pg, f"'glyphic.credentials:{org}'") as waiting:
            threads = [threading.Thread(target=insert, args=(n,)) for n in ("first", "second")]
            for t in threads:
                t.start()
            waiting(2)
        for t in threads:
            t.join(30)
        self.assertEqual(sorted(answers), [201, 403])
        self.assertEqual(sql(f"SELECT count(*) FROM glyphic.credentials WHERE org_id = '{org}'"), "1")

    def test_app_role_sql_stays_in_its_org(self):
        a, b = owner(), owner()
        cred = bearer(a)
        ctx = ENV.app_context(b.me["user"]["id"], b.me["org_id"])
        r = ENV.pg.psql(f"{ctx}; SELECT count(*) FROM glyphic.credentials WHERE id = '{cred['id']}'",
                        user="glyphic_app", check=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip().splitlines()[-1], "0")
        ctx_a = ENV.app_context(a.me["user"]["id"], a.me["org_id"])
        for stmt in (f"UPDATE glyphic.credentials SET org_id = '{b.me['org_id']}' WHERE id = '{cred['id']}'",
                     f"UPDATE glyphic.credentials SET type = 'generic' WHERE id = '{cred['id']}'",
                     f"UPDATE glyphic.credentials SET created_by = NULL WHERE id = '{cred['id']}'"):
            r = ENV.pg.psql(f"{ctx_a}; {stmt}", user="glyphic_app", check=False)
            self.assertNotEqual(r.returncode, 0, stmt)
            self.assertIn("permission denied", r.stderr)
        r = ENV.pg.psql(f"{ctx_a}; INSERT INTO glyphic.credentials (org_id, name, type, created_by) "
                        f"VALUES ('{b.me['org_id']}', 'planted', 'generic', NULL)", user="glyphic_app", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("row-level security", r.stderr)


if __name__ == "__main__":
    unittest.main()
