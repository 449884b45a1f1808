"""The database does not take the app role's word (issue 11, item 5).

Connects to PostgreSQL as glyphic_app, as an attacker holding its password
(or a SQL injection in a handler) would, and tries each way to act as
someone else: forging the request context with set_config, calling the
context writers, a look-alike temporary table, SECURITY DEFINER functions
given another user's id, sign-up past a closed switch, minting a session
without the password, reading password hashes. Each must fail.

No web server: the fixtures are written as the superuser. With
GLYPHIC_APP_ROLE_UPTO=6 the database is built from sql/001..006 only (the
code before this work) — every test then fails, which shows each one can.

MemberTest (issue 13, item 6): a login role that is merely a member of
glyphic_app or glyphic_executor has those roles' privileges but is not
trusted as glyphic_owner or glyphic_executor are; with
GLYPHIC_APP_ROLE_UPTO=9 (before sql/011) its tests fail.
"""
import base64
import glob
import hashlib
import os
import shutil
import unittest
import uuid

import harness

ENV = None
UPTO = int(os.environ.get("GLYPHIC_APP_ROLE_UPTO", "0"))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

ORG_A, ORG_B = str(uuid.uuid4()), str(uuid.uuid4())
ALICE, BOB, EVE = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
PW = "alice's long passphrase"


def mcf(password, n_log2=10):
    """A scrypt MCF hash as libscrypt writes it (N = 2^n_log2, r = 8, p = 1)."""
    salt = os.urandom(16)
    dk = hashlib.scrypt(password.encode(), salt=salt, n=1 << n_log2, r=8, p=1, dklen=64)
    return f"$s1${(n_log2 << 16) | (8 << 8) | 1:06x}${base64.b64encode(salt).decode()}${base64.b64encode(dk).decode()}"


def derive(settings, password):
    """The hash of password under a stored hash's settings ($s1$params$salt)."""
    _, _, params, salt = settings.split("$")
    p = int(params, 16)
    dk = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=1 << (p >> 16), r=(p >> 8) & 0xff,
                        p=p & 0xff, dklen=64)
    return f"{settings}${base64.b64encode(dk).decode()}"


def token_of(user):
    """A session for user, as a token text whose SHA-256 the database keeps."""
    token = uuid.uuid4().hex
    ENV.pg.psql(f"INSERT INTO glyphic.sessions (token_hash, user_id, expires_at) "
                f"VALUES (sha256('{token}'::bytea), '{user}', now() + interval '1 hour')")
    return token


def auth(token, org="NULL"):
    org = f"'{org}'" if org != "NULL" else org
    return f"SELECT count(*) FROM glyphic.auth_session(sha256('{token}'::bytea), {org}, 3600)"


def app(sql):
    """Runs sql as glyphic_app; returns (ok, last output line, stderr)."""
    r = ENV.pg.psql(sql, user="glyphic_app", check=False)
    lines = r.stdout.strip().splitlines()
    return r.returncode == 0, lines[-1] if lines else "", r.stderr


def su(sql):
    return ENV.pg.psql(sql)


APP_MEMBER, EXEC_MEMBER = "glyphic_app_blue", "glyphic_executor_blue"


def as_role(role, sql):
    """Runs sql as role; returns (ok, last output line, stderr)."""
    r = ENV.pg.psql(sql, user=role, check=False)
    lines = r.stdout.strip().splitlines()
    return r.returncode == 0, lines[-1] if lines else "", r.stderr


def setUpModule():
    global ENV
    ENV = harness.Env(workers=1, migrate=not UPTO)
    if UPTO:
        for f in sorted(glob.glob(os.path.join(ROOT, "sql", "[0-9][0-9][0-9]_*.sql"))):
            if int(os.path.basename(f)[:3]) <= UPTO:
                with open(f) as fh:
                    su("BEGIN;\n" + fh.read() + "\nCOMMIT;")
    su(f"INSERT INTO glyphic.orgs (id, name) VALUES ('{ORG_A}', 'A'), ('{ORG_B}', 'B');"
       f"INSERT INTO glyphic.users (id, email, name, password_hash) VALUES "
       f"('{ALICE}', 'alice@example.com', 'Alice', '{mcf(PW)}'), "
       f"('{BOB}', 'bob@example.com', 'Bob', '{mcf('bob passphrase here')}'), "
       f"('{EVE}', 'eve@example.com', 'Eve', '{mcf('eve passphrase here')}');"
       f"INSERT INTO glyphic.memberships (org_id, user_id, role) VALUES "
       f"('{ORG_A}', '{ALICE}', 'owner'), ('{ORG_B}', '{BOB}', 'owner'), ('{ORG_A}', '{EVE}', 'editor');"
       f"INSERT INTO glyphic.workflows (org_id, name, created_by) VALUES "
       f"('{ORG_B}', 'bob secret', '{BOB}'), ('{ORG_A}', 'alice private', '{ALICE}');"
       f"INSERT INTO glyphic.api_keys (org_id, user_id, name, prefix, key_hash, scopes) VALUES "
       f"('{ORG_B}', '{BOB}', 'k', 'bobkey', sha256('bobkey'::bytea), '{{read}}')")


def tearDownModule():
    if ENV:
        ENV.close()


def bob_rows():
    """What a glyphic_app session may see of Bob's org (0 is right)."""
    return f"SELECT (SELECT count(*) FROM glyphic.workflows WHERE org_id = '{ORG_B}') + " \
           f"(SELECT count(*) FROM glyphic.orgs WHERE id = '{ORG_B}') + " \
           f"(SELECT count(*) FROM glyphic.api_keys WHERE org_id = '{ORG_B}')"


class ContextTest(unittest.TestCase):
    def test_set_config_does_not_make_a_context(self):
        forged = (f"BEGIN; SELECT set_config('glyphic.user_id', '{BOB}', true), "
                  f"set_config('glyphic.org_id', '{ORG_B}', true), "
                  f"set_config('glyphic.org_ids', '{{{ORG_B}}}', true), "
                  f"set_config('glyphic.editor_org_ids', '{{{ORG_B}}}', true), "
                  f"set_config('glyphic.admin_org_ids', '{{{ORG_B}}}', true), "
                  f"set_config('glyphic.ctx', 'on', true); ")
        ok, out, _ = app(forged + bob_rows() + "; COMMIT;")
        self.assertTrue(not ok or out == "0", f"forged settings read Bob's rows: {out}")
        # after a real authentication as Alice, forging the settings adds nothing
        ok, out, _ = app(f"BEGIN; {auth(token_of(ALICE))}; " + forged[6:] + bob_rows() + "; COMMIT;")
        self.assertTrue(not ok or out == "0", f"forged settings read Bob's rows: {out}")

    def test_context_writers_are_not_callable(self):
        for call in (f"SELECT glyphic.set_context('{BOB}', '{ORG_B}')",
                     f"SELECT glyphic.enter('{BOB}', '{ORG_B}', false)",
                     f"SELECT glyphic.ctx_write('{BOB}', '{ORG_B}', '{{{ORG_B}}}', '{{{ORG_B}}}', '{{{ORG_B}}}')",
                     f"SELECT glyphic.ctx_set_org('{ORG_B}')"):
            with self.subTest(call=call):
                ok, out, err = app(f"BEGIN; {call}; {bob_rows()}; COMMIT;")
                self.assertFalse(ok and out != "0", f"{call} gave Bob's rows: {out}")

    def test_no_look_alike_temporary_table(self):
        for stmt in ("CREATE TEMPORARY TABLE glyphic_ctx (user_id uuid, org_id uuid, org_ids uuid[], "
                     "editor_org_ids uuid[], admin_org_ids uuid[])",
                     "CREATE TEMPORARY VIEW glyphic_ctx AS SELECT 1",
                     "CREATE FUNCTION pg_temp.f() RETURNS int LANGUAGE sql AS 'SELECT 1'"):
            with self.subTest(stmt=stmt):
                ok, _, err = app(stmt)
                self.assertFalse(ok, f"the app role created a temporary object: {stmt}")
        # even once the owner's table exists in the session (after a real
        # authentication), the app role cannot write into it or add to it
        tok = token_of(EVE)
        for stmt in (f"INSERT INTO pg_temp.glyphic_ctx VALUES ('{BOB}', '{ORG_B}', '{{{ORG_B}}}', '{{}}', '{{}}')",
                     f"UPDATE pg_temp.glyphic_ctx SET user_id = '{BOB}', org_id = '{ORG_B}', org_ids = '{{{ORG_B}}}'",
                     "DELETE FROM pg_temp.glyphic_ctx", "TRUNCATE pg_temp.glyphic_ctx", "DROP TABLE pg_temp.glyphic_ctx",
                     "CREATE TABLE pg_temp.other (x int)"):
            with self.subTest(stmt=stmt):
                ok, out, err = app(f"BEGIN; {auth(tok)}; {stmt}; {bob_rows()}; COMMIT;")
                self.assertFalse(ok, f"the app role changed the context table: {stmt} ({out})")
        self.assertEqual(su("SELECT has_database_privilege('glyphic_app', current_database(), 'TEMPORARY')"), "f")

    def test_context_ends_with_the_transaction(self):
        ok, out, _ = app(f"BEGIN; {auth(token_of(EVE))}; COMMIT; SELECT set_config('glyphic.ctx', 'on', false); "
                         f"SELECT coalesce(glyphic.current_user_id()::text, 'none')")
        self.assertTrue(ok)
        self.assertEqual(out, "none")

    def test_every_definer_puts_pg_temp_last(self):
        # glyphic_ctx's too, but for the module's C functions (no SQL
        # resolves a name by search_path in them; AuthKindsTest checks the
        # table kind's)
        rows = su("SELECT p.oid::regprocedure, coalesce(array_to_string(p.proconfig, ','), '') FROM pg_proc p "
                  "WHERE p.pronamespace IN ('glyphic'::regnamespace, 'glyphic_ctx'::regnamespace) AND p.prosecdef "
                  "AND p.prolang <> (SELECT l.oid FROM pg_language l WHERE l.lanname = 'c')").splitlines()
        self.assertTrue(rows)
        for row in rows:
            name, conf = row.split("|")
            with self.subTest(function=name):
                self.assertIn("search_path=glyphic, pg_temp", conf)


class ContextKindsTest(unittest.TestCase):
    """The request context in memory (sql/context/glyphic_context.c) and in
    the temporary table (sql/035) keep it alike: it lasts as long as the
    transaction that wrote it, a write in a subtransaction that rolls back
    is undone, one that is released stays, and only the owner writes it."""

    def use(self, kind):
        module = ENV.fcgi.settings.get("db.context_module")
        ENV.fcgi.write_conf(**{"db.context_module": module if kind == "memory" else "off"})
        try:
            out = ENV.glyphic("migrate").stdout
        finally:
            ENV.fcgi.write_conf(**{"db.context_module": module})
        self.assertEqual(su("SELECT glyphic_ctx.kind()"), kind, out)

    def tearDown(self):
        self.use("memory")

    def test_memory_is_what_this_build_installs(self):
        module = os.path.join(harness.BUILD, "sql", "context", "glyphic_context.so")
        self.assertTrue(os.path.exists(module), "glyphic_context.so is built (postgresql-server-dev-15)")
        self.assertEqual(su("SELECT glyphic_ctx.kind()"), "memory")
        # the names the policies call are wrappers PostgreSQL inlines
        plan = su("EXPLAIN VERBOSE SELECT glyphic.current_org_id(), glyphic.my_admin_org_ids()")
        self.assertIn("glyphic_ctx.org_id()", plan)

    def check(self, kind):
        self.use(kind)
        eve, alice, bob = token_of(EVE), token_of(ALICE), token_of(BOB)
        who = "SELECT coalesce(glyphic.current_user_id()::text, 'none') || ' ' || cardinality(glyphic.my_org_ids())"
        cases = [
            ("written, then the transaction ends", f"BEGIN; {auth(eve)}; COMMIT; {who}", "none 0"),
            ("a subtransaction that rolls back undoes its write",
             f"BEGIN; {auth(eve)}; SAVEPOINT s; {auth(alice)}; ROLLBACK TO s; {who}; COMMIT", f"{EVE} 1"),
            ("a released one keeps it", f"BEGIN; {auth(eve)}; SAVEPOINT s; {auth(alice)}; RELEASE s; {who}; COMMIT",
             f"{ALICE} 1"),
            ("released into a parent that rolls back: undone with it",
             f"BEGIN; {auth(eve)}; SAVEPOINT a; SAVEPOINT b; {auth(bob)}; RELEASE b; ROLLBACK TO a; {who}; COMMIT",
             f"{EVE} 1"),
            ("the first write in a subtransaction: none after its rollback",
             f"BEGIN; SAVEPOINT s; {auth(alice)}; ROLLBACK TO s; {who}; COMMIT", "none 0"),
            ("an exception block's write is undone with it",
             f"BEGIN; {auth(eve)}; DO $$ BEGIN PERFORM glyphic.auth_session(sha256('{bob}'::bytea), NULL, 3600); "
             f"RAISE EXCEPTION 'x'; EXCEPTION WHEN raise_exception THEN NULL; END $$; {who}; COMMIT", f"{EVE} 1"),
            ("rolled back: nothing", f"BEGIN; {auth(eve)}; ROLLBACK; {who}", "none 0"),
        ]
        for what, sql, want in cases:
            with self.subTest(kind=kind, case=what):
                ok, out, err = app(sql)  # one session: psql -c runs them all in one connection
                self.assertTrue(ok, err)
                self.assertEqual(out, want)
        # only the owner writes it, whichever it is
        ok, out, err = app(f"BEGIN; SELECT glyphic_ctx.write('{BOB}', '{ORG_B}', '{{{ORG_B}}}', '{{{ORG_B}}}', "
                           f"'{{{ORG_B}}}'); {bob_rows()}; COMMIT;")
        self.assertFalse(ok, out)
        self.assertIn("permission denied", err)
        # and what it holds is what the policies see
        ok, out, err = app(f"BEGIN; {auth(eve)}; {bob_rows()}; COMMIT;")
        self.assertEqual((ok, out), (True, "0"), err)
        ok, out, err = app(f"BEGIN; {auth(token_of(BOB))}; {bob_rows()}; COMMIT;")
        self.assertEqual((ok, out), (True, "3"), err)

    def test_in_memory(self):
        self.check("memory")

    def test_writes_in_one_savepoint_keep_one_undo(self):
        # 20,000 authentications inside one savepoint (the app role can loop
        # like this on its own token): the module keeps one saved state per
        # subtransaction, not one per write
        tok = token_of(EVE)
        out = su(f"BEGIN; SAVEPOINT s; DO $$ BEGIN FOR i IN 1..20000 LOOP "
                 f"PERFORM glyphic.auth_session(sha256('{tok}'::bytea), NULL, 3600); END LOOP; END $$; "
                 "SELECT total_bytes FROM pg_backend_memory_contexts WHERE name = 'glyphic request context'; "
                 "ROLLBACK TO s; SELECT coalesce(glyphic.current_user_id()::text, 'none'); COMMIT")
        used, who = out.splitlines()[-2:]
        self.assertLess(int(used), 64 * 1024, "the context's memory after 20,000 writes in one savepoint")
        self.assertEqual(who, "none")

    def test_a_module_that_went_away(self):
        # installed from a file that is then removed (a moved build, another
        # PostgreSQL): doctor fails, and migrate goes back to the table
        # instead of keeping functions every request would fail on
        module = ENV.fcgi.settings["db.context_module"]
        gone = os.path.join(ENV.base, "gone_context.so")
        shutil.copyfile(module, gone)
        os.chmod(gone, 0o644)
        try:
            ENV.fcgi.write_conf(**{"db.context_module": gone})
            self.assertIn(f"in memory ({gone})", ENV.glyphic("migrate").stdout)
            os.unlink(gone)
            r = ENV.glyphic("doctor", check=False)
            line = [x for x in r.stdout.splitlines() if "request context" in x]
            self.assertTrue(line and line[0].startswith("FAIL"), r.stdout)
            out = ENV.glyphic("migrate").stdout
            self.assertIn(f"the module {gone} did not load", out)
            self.assertEqual(su("SELECT glyphic_ctx.kind()"), "table")
            ok, got, err = app(f"BEGIN; {auth(token_of(ALICE))}; "
                               "SELECT glyphic.current_user_id(); COMMIT;")
            self.assertEqual((ok, got), (True, ALICE), err)
        finally:
            ENV.fcgi.write_conf(**{"db.context_module": module})

    def test_in_the_table(self):
        self.check("table")


class AuthKindsTest(unittest.TestCase):
    """glyphic_ctx.auth_session and auth_api_key (sql/036): the C functions
    of glyphic_context.so answer as the plpgsql of the table kind does, case
    by case: the row, the request context it leaves, and what it writes
    (an expired or idle session deleted, last_seen_at / last_used_at moved at
    most once a minute). Each case also has its expected answer, so two
    kinds that were wrong alike would fail too."""

    C1, C2, C3 = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    CAROL, DAVE = str(uuid.uuid4()), str(uuid.uuid4())

    @classmethod
    def setUpClass(cls):
        c1, c2, c3, carol, dave = cls.C1, cls.C2, cls.C3, cls.CAROL, cls.DAVE
        su(f"INSERT INTO glyphic.orgs (id, name) VALUES ('{c1}', 'C1'), ('{c2}', 'C2'), ('{c3}', 'C3');"
           f"INSERT INTO glyphic.users (id, email, name, password_hash) VALUES "
           f"('{carol}', 'carol@example.com', 'Carol', '{mcf('carol passphrase')}'), "
           f"('{dave}', 'dave@example.com', 'Dave', '{mcf('dave passphrase')}');"
           f"INSERT INTO glyphic.memberships (org_id, user_id, role, created_at) VALUES "
           f"('{c2}', '{carol}', 'admin', '2021-01-01'), ('{c1}', '{carol}', 'viewer', '2020-01-01'), "
           f"('{c3}', '{carol}', 'editor', '2022-01-01'), "
           f"('{c1}', '{dave}', 'editor', '2020-01-01'), ('{c2}', '{dave}', 'owner', '2021-01-01');"
           f"UPDATE glyphic.users SET active_org_id = '{c2}' WHERE id = '{dave}'")

    def session(self, user, expires="1 hour", seen="0 seconds"):
        token = uuid.uuid4().hex
        su(f"INSERT INTO glyphic.sessions (token_hash, user_id, expires_at, last_seen_at) VALUES "
           f"(sha256('{token}'::bytea), '{user}', now() + interval '{expires}', now() - interval '{seen}')")
        return token

    def key(self, user, org, column=None, value=None, used=None):
        """An API key of user in org (scopes read, write); column = value
        besides (revoked_at, expires_at); used: how long ago it was last used."""
        token = uuid.uuid4().hex
        used = f"now() - interval '{used}'" if used else "NULL"
        cols, vals = ("", "") if column is None else (f", {column}", f", {value}")
        su(f"INSERT INTO glyphic.api_keys (org_id, user_id, name, prefix, key_hash, scopes, last_used_at{cols}) "
           f"VALUES ('{org}', '{user}', 'k', '{token[:12]}', sha256('{token}'::bytea), '{{read,write}}', {used}{vals})")
        return token

    CONTEXT = ("SELECT coalesce(glyphic.current_user_id()::text, '-') || ' ' || "
               "coalesce(glyphic.current_org_id()::text, '-') || ' ' || "
               "(SELECT coalesce(string_agg(x::text, ',' ORDER BY x), '') FROM unnest(glyphic.my_org_ids()) x) || ' ' || "
               "(SELECT coalesce(string_agg(x::text, ',' ORDER BY x), '') "
               "   FROM unnest(glyphic.my_editor_org_ids()) x) || ' ' || "
               "(SELECT coalesce(string_agg(x::text, ',' ORDER BY x), '') FROM unnest(glyphic.my_admin_org_ids()) x)")

    def run_session(self, token, wanted="NULL", idle="3600"):
        """(rows, context, session row left: 'gone', 'moved' or 'kept')."""
        before = su(f"SELECT last_seen_at FROM glyphic.sessions WHERE token_hash = sha256('{token}'::bytea)")
        r = ENV.pg.psql(f"BEGIN; SELECT count(*) || ' ' || coalesce(string_agg(user_id || ' ' || "
                        f"coalesce(org_id::text, '-') || ' ' || coalesce(role, '-'), ';'), '') "
                        f"FROM glyphic_ctx.auth_session(sha256('{token}'::bytea), {wanted}, {idle}); "
                        f"{self.CONTEXT}; COMMIT;", user="glyphic_app", check=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        rows, ctx = r.stdout.strip().splitlines()
        after = su(f"SELECT last_seen_at FROM glyphic.sessions WHERE token_hash = sha256('{token}'::bytea)")
        left = "gone" if not after else "kept" if after == before else "moved"
        return rows.strip(), ctx.strip(), left

    def run_key(self, token):
        before = su(f"SELECT last_used_at FROM glyphic.api_keys WHERE key_hash = sha256('{token}'::bytea)")
        r = ENV.pg.psql(f"BEGIN; SELECT count(*) || ' ' || coalesce(string_agg(user_id || ' ' || org_id || ' ' || "
                        f"role || ' ' || array_to_string(scopes, ','), ';'), '') "
                        f"FROM glyphic_ctx.auth_api_key(sha256('{token}'::bytea)); {self.CONTEXT}; COMMIT;",
                        user="glyphic_app", check=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        rows, ctx = r.stdout.strip().splitlines()
        after = su(f"SELECT last_used_at FROM glyphic.api_keys WHERE key_hash = sha256('{token}'::bytea)")
        return rows.strip(), ctx.strip(), "kept" if after == before else "moved"

    def answers(self, kind):
        ContextKindsTest.use(self, kind)
        carol, dave, c1, c2, c3 = self.CAROL, self.DAVE, self.C1, self.C2, self.C3
        everything = f"{','.join(sorted([c1, c2, c3]))}"
        carol_ctx = (f"{everything} {','.join(sorted([c2, c3]))} {c2}")
        left = str(uuid.uuid4())
        su(f"INSERT INTO glyphic.users (id, email, name, password_hash) VALUES "
           f"('{left}', 'left-{left[:8]}@example.com', 'Left', '{mcf('left passphrase')}')")
        cases = {
            "no active org: the oldest membership":
                (self.run_session(self.session(carol)), (f"1 {carol} {c1} viewer", f"{carol} {c1} {carol_ctx}", "kept")),
            "the active org first": (self.run_session(self.session(dave)),
                                     (f"1 {dave} {c2} owner",
                                      f"{dave} {c2} {','.join(sorted([c1, c2]))} {','.join(sorted([c1, c2]))} {c2}",
                                      "kept")),
            "an org asked for": (self.run_session(self.session(carol), f"'{c3}'"),
                                 (f"1 {carol} {c3} editor", f"{carol} {c3} {carol_ctx}", "kept")),
            "an org not the user's": (self.run_session(self.session(carol), f"'{ORG_B}'"),
                                      (f"1 {carol} - -", f"{carol} - {carol_ctx}", "kept")),
            "unknown token": (self.run_session(uuid.uuid4().hex), ("0", "- -", "gone")),
            "expired: deleted": (self.run_session(self.session(carol, expires="-1 second")), ("0", "- -", "gone")),
            "idle: deleted": (self.run_session(self.session(carol, seen="2 hours")), ("0", "- -", "gone")),
            "no idle limit": (self.run_session(self.session(carol, seen="2 hours"), idle="NULL"),
                              (f"1 {carol} {c1} viewer", f"{carol} {c1} {carol_ctx}", "moved")),
            "seen 2 minutes ago: moved": (self.run_session(self.session(carol, seen="2 minutes")),
                                          (f"1 {carol} {c1} viewer", f"{carol} {c1} {carol_ctx}", "moved")),
            "seen 30 seconds ago: kept": (self.run_session(self.session(carol, seen="30 seconds")),
                                          (f"1 {carol} {c1} viewer", f"{carol} {c1} {carol_ctx}", "kept")),
            "a key": (self.run_key(self.key(carol, c2, used="10 seconds")),
                      (f"1 {carol} {c2} admin read,write", f"{carol} {c2} {c2} {c2} {c2}", "kept")),
            "a key not used for 2 minutes": (self.run_key(self.key(carol, c1, used="2 minutes")),
                                             (f"1 {carol} {c1} viewer read,write", f"{carol} {c1} {c1}", "moved")),
            "a key never used": (self.run_key(self.key(carol, c3)),
                                 (f"1 {carol} {c3} editor read,write", f"{carol} {c3} {c3} {c3}", "moved")),
            "a revoked key": (self.run_key(self.key(carol, c2, "revoked_at", "now()")), ("0", "- -", "kept")),
            "an expired key": (self.run_key(self.key(carol, c2, "expires_at", "now() - interval '1 second'")),
                               ("0", "- -", "kept")),
            "its maker left the org": (self.run_key(self.key(left, c2)), ("0", "- -", "kept")),
        }
        return cases

    def test_both_kinds_answer_alike(self):
        got = {kind: self.answers(kind) for kind in ("table", "memory")}
        for what, (table, want) in got["table"].items():
            with self.subTest(case=what):
                self.assertEqual(table, want, "table")
                self.assertEqual(got["memory"][what][0], want, "memory")

    def test_tables_stay_locked_to_the_end(self):
        # as the plpgsql's statements did: ACCESS SHARE on what it read
        # until the transaction ends, so no ALTER or DROP comes between
        for kind in ("table", "memory"):
            ContextKindsTest.use(self, kind)
            token = self.session(self.CAROL)
            ok, out, err = app(f"BEGIN; SELECT count(*) FROM glyphic_ctx.auth_session(sha256('{token}'::bytea), NULL, "
                               f"3600); SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_locks l "
                               f"JOIN pg_class c ON c.oid = l.relation WHERE l.pid = pg_backend_pid() AND "
                               f"l.mode = 'AccessShareLock' AND c.relname IN ('sessions', 'users', 'memberships'); "
                               f"COMMIT;")
            self.assertEqual((ok, out), (True, "memberships,sessions,users"), f"{kind}: {err}")

    def test_the_table_kinds_put_pg_temp_last(self):
        ContextKindsTest.use(self, "table")
        try:
            conf = su("SELECT string_agg(p.proname || ':' || coalesce(array_to_string(p.proconfig, ','), ''), ';' "
                      "ORDER BY p.proname) FROM pg_proc p WHERE p.pronamespace = 'glyphic_ctx'::regnamespace "
                      "AND p.proname LIKE 'auth%'")
        finally:
            ContextKindsTest.use(self, "memory")
        self.assertEqual(conf, "auth_api_key:search_path=glyphic, pg_temp;auth_session:search_path=glyphic, pg_temp")

    def test_the_old_names_call_them(self):
        ContextKindsTest.use(self, "memory")
        token = self.session(self.DAVE)
        ok, out, err = app(f"BEGIN; SELECT role FROM glyphic.auth_session(sha256('{token}'::bytea), NULL, 3600); "
                           f"COMMIT;")
        self.assertEqual((ok, out), (True, "owner"), err)
        key = self.key(self.DAVE, self.C1)
        ok, out, err = app(f"BEGIN; SELECT role FROM glyphic.auth_api_key(sha256('{key}'::bytea)); COMMIT;")
        self.assertEqual((ok, out), (True, "editor"), err)
        self.assertEqual(su("SELECT string_agg(p.proname || ':' || l.lanname, ',' ORDER BY p.proname) "
                            "FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang "
                            "WHERE p.pronamespace = 'glyphic_ctx'::regnamespace AND p.proname LIKE 'auth%'"),
                         "auth_api_key:c,auth_session:c")


class DefinerTest(unittest.TestCase):
    def test_create_org_for_someone_else(self):
        before = su(f"SELECT count(*) FROM glyphic.memberships WHERE user_id = '{BOB}'")
        for call in (f"SELECT glyphic.create_org('{BOB}', 'planted', NULL)",
                     "SELECT glyphic.create_org('planted', NULL)"):
            app(f"BEGIN; {call}; COMMIT;")
            app(f"BEGIN; {auth(token_of(EVE))}; {call}; COMMIT;")
        self.assertEqual(su(f"SELECT count(*) FROM glyphic.memberships WHERE user_id = '{BOB}'"), before)

    def test_accept_invitation_for_someone_else(self):
        token = uuid.uuid4().hex
        su(f"INSERT INTO glyphic.invitations (org_id, email, role, token_hash, expires_at) "
           f"VALUES ('{ORG_A}', 'bob@example.com', 'admin', sha256('{token}'::bytea), now() + interval '1 day')")
        for call in (f"SELECT * FROM glyphic.accept_invitation('{BOB}', sha256('{token}'::bytea), NULL)",
                     f"SELECT * FROM glyphic.accept_invitation(sha256('{token}'::bytea), NULL)"):
            app(f"BEGIN; {call}; COMMIT;")
            app(f"BEGIN; {auth(token_of(EVE))}; {call}; COMMIT;")
        self.assertEqual(su(f"SELECT count(*) FROM glyphic.memberships WHERE user_id = '{BOB}' "
                            f"AND org_id = '{ORG_A}'"), "0")

    def test_signup_past_the_closed_switch(self):
        # the installation has users and sign-up is closed (the default)
        if not UPTO:
            su("UPDATE glyphic.settings SET value = 'false' WHERE key = 'auth.open_signup'")
        h = mcf("mallory passphrase")
        for call in (f"SELECT * FROM glyphic.signup('mallory@example.com', 'M', '{h}', 'Mal', NULL, true, NULL)",
                     f"SELECT * FROM glyphic.signup('mallory@example.com', 'M', '{h}', 'Mal', NULL, NULL, "
                     f"sha256('x'::bytea), 3600, 'ua')"):
            app(f"BEGIN; SELECT set_config('glyphic.open_signup', 'true', true); {call}; COMMIT;")
        self.assertEqual(su("SELECT count(*) FROM glyphic.users WHERE email = 'mallory@example.com'"), "0")

    def test_no_session_without_the_password(self):
        tok = uuid.uuid4().hex
        settings = "$s1$0a0801$" + base64.b64encode(b"0123456789abcdef").decode()
        for call in (f"SELECT glyphic.login_record('bob@example.com', NULL, '{BOB}', true, sha256('{tok}'::bytea), "
                     f"3600, 'ua')",
                     f"SELECT * FROM glyphic.login('bob@example.com', NULL, '{derive(settings, 'guess')}', "
                     f"sha256('{tok}'::bytea), 3600, 'ua')",
                     f"SELECT * FROM glyphic.login('bob@example.com', NULL, NULL, sha256('{tok}'::bytea), 3600, 'ua')"):
            with self.subTest(call=call[:40]):
                app(f"BEGIN; {call}; COMMIT;")
                self.assertEqual(su(f"SELECT count(*) FROM glyphic.sessions WHERE token_hash = sha256('{tok}'::bytea)"),
                                 "0")

    def test_password_hashes_stay_in_the_database(self):
        stored = su(f"SELECT password_hash FROM glyphic.users WHERE id = '{BOB}'")
        dk = stored.rsplit("$", 1)[1]
        tok = token_of(BOB)
        for call in ("SELECT password_hash FROM glyphic.users",
                     "SELECT * FROM glyphic.login_lookup('bob@example.com')",
                     "SELECT * FROM glyphic.login_settings('bob@example.com', NULL)",
                     f"BEGIN; SELECT set_config('glyphic.user_id', '{BOB}', true); "
                     f"SELECT glyphic.my_password_hash(); COMMIT",
                     f"BEGIN; {auth(tok)}; SELECT * FROM glyphic.my_password_settings(NULL); COMMIT",
                     "SELECT * FROM glyphic.settings"):
            with self.subTest(call=call[:40]):
                r = ENV.pg.psql(call, user="glyphic_app", check=False)
                self.assertNotIn(dk, r.stdout)
        # an unknown email gets settings of the same shape, the same each time
        unknown = [app("SELECT settings FROM glyphic.login_settings('nobody@example.com', NULL)")[1] for _ in range(2)]
        self.assertRegex(unknown[0], r"^\$s1\$[0-9a-f]{6}\$[A-Za-z0-9+/]{22}==$")
        self.assertEqual(unknown[0], unknown[1])

    def test_log_in_is_throttled_in_the_database(self):
        su("DELETE FROM glyphic.login_attempts")
        settings = app("SELECT settings FROM glyphic.login_settings('alice@example.com', '192.0.2.7')")[1]
        waits = []
        for i in range(7):
            ok, out, _ = app(f"SELECT retry_after FROM glyphic.login('alice@example.com', '192.0.2.7', "
                             f"'{derive(settings, f'guess {i}')}', sha256('t{i}'::bytea), 3600, 'ua')")
            waits.append(out)
        self.assertEqual(waits[:5], ["0"] * 5)
        self.assertGreater(int(waits[5]), 0)
        # past the limit even the right password is refused
        tok = uuid.uuid4().hex
        ok, out, _ = app(f"SELECT retry_after FROM glyphic.login('alice@example.com', '192.0.2.7', "
                         f"'{derive(settings, PW)}', sha256('{tok}'::bytea), 3600, 'ua')")
        self.assertGreater(int(out), 0)
        su("DELETE FROM glyphic.login_attempts")
        # and once allowed, the right password works: a session, Alice's context
        ok, out, _ = app(f"BEGIN; SELECT user_id FROM glyphic.login('alice@example.com', '192.0.2.7', "
                         f"'{derive(settings, PW)}', sha256('{tok}'::bytea), 3600, 'ua'); "
                         f"SELECT glyphic.current_user_id(); COMMIT;")
        self.assertEqual(out, ALICE)
        # the failures are audited without the typed email in clear
        app(f"SELECT retry_after FROM glyphic.login('typo-secret@example.com', NULL, "
            f"'{derive(settings, 'x')}', sha256('u'::bytea), 3600, 'ua')")
        self.assertEqual(su("SELECT count(*) FROM glyphic.audit_log WHERE details::text LIKE '%typo-secret%'"), "0")
        self.assertGreaterEqual(int(su("SELECT count(*) FROM glyphic.audit_log WHERE action = 'auth.login_failed' "
                                       "AND details ? 'email_digest'")), 1)

    def test_password_change_needs_the_current_password(self):
        before = su(f"SELECT password_hash FROM glyphic.users WHERE id = '{BOB}'")
        tok = token_of(BOB)
        new = mcf("new bob passphrase")
        for call in (f"SELECT glyphic.set_my_password('{new}', NULL)",
                     f"SELECT glyphic.set_my_password('{derive(before.rsplit('$', 1)[0], 'wrong')}', '{new}', "
                     f"NULL, true, NULL)"):
            app(f"BEGIN; {auth(tok)}; {call}; COMMIT;")
            app(f"BEGIN; SELECT set_config('glyphic.user_id', '{BOB}', true); {call}; COMMIT;")
        self.assertEqual(su(f"SELECT password_hash FROM glyphic.users WHERE id = '{BOB}'"), before)

    def test_settings_and_internal_functions_are_closed(self):
        for call in ("SELECT glyphic.sync_settings('{\"auth.open_signup\": \"true\"}')",
                     "SELECT glyphic.setting('secret.key')",
                     "UPDATE glyphic.settings SET value = 'true'",
                     f"SELECT glyphic.session_start('{BOB}', sha256('s'::bytea), 3600, NULL, 'ua')",
                     f"SELECT glyphic.wf_readable_by(gen_random_uuid(), '{BOB}')",
                     f"SELECT glyphic.enqueue_trusted('workflow.run', '{{}}', '{ORG_B}', NULL, 5)"):
            with self.subTest(call=call[:40]):
                ok, _, err = app(call)
                self.assertFalse(ok)

    def test_enqueue_for_another_org(self):
        before = su("SELECT count(*) FROM glyphic.jobs")
        app(f"BEGIN; SELECT set_config('glyphic.org_id', '{ORG_B}', true); "
            f"SELECT glyphic.enqueue('workflow.run', '{{}}', 'default', '{ORG_B}'); COMMIT;")
        app(f"BEGIN; {auth(token_of(EVE))}; SELECT set_config('glyphic.org_id', '{ORG_B}', true); "
            f"SELECT glyphic.enqueue('workflow.run', '{{}}', 'default', '{ORG_B}'); COMMIT;")
        self.assertEqual(su("SELECT count(*) FROM glyphic.jobs"), before)

    def test_starter_cannot_be_named_by_the_app(self):
        wid = su(f"SELECT id FROM glyphic.workflows WHERE org_id = '{ORG_A}' AND name = 'alice private'")
        tok = token_of(EVE)
        # activated_by is not the app role's to write
        app(f"BEGIN; {auth(tok, ORG_A)}; UPDATE glyphic.workflows SET activated_by = '{ALICE}' "
            f"WHERE id = '{wid}'; COMMIT;")
        self.assertEqual(su(f"SELECT coalesce(activated_by::text, '') FROM glyphic.workflows WHERE id = '{wid}'"), "")
        # a workflow Eve inserts as active does not run on Alice's rights
        app(f"BEGIN; {auth(tok, ORG_A)}; INSERT INTO glyphic.workflows (org_id, name, created_by, active, "
            f"activated_by) VALUES ('{ORG_A}', 'eve planted', '{EVE}', true, '{ALICE}'); COMMIT;")
        self.assertNotEqual(su(f"SELECT coalesce(activated_by::text, '') FROM glyphic.workflows "
                               f"WHERE name = 'eve planted'"), ALICE)



class MemberTest(unittest.TestCase):
    """Login roles that are members of glyphic_app / glyphic_executor (as an
    operator would make for password rotation) borrow privileges, not trust."""

    @classmethod
    def setUpClass(cls):
        # cluster-wide roles: dropped first in case an earlier run left them
        for role, parent in ((APP_MEMBER, "glyphic_app"), (EXEC_MEMBER, "glyphic_executor")):
            su(f"DROP ROLE IF EXISTS {role}")
            su(f"CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS IN ROLE {parent}")

    @classmethod
    def tearDownClass(cls):
        for role in (APP_MEMBER, EXEC_MEMBER):
            su(f"DROP OWNED BY {role}")
            su(f"DROP ROLE IF EXISTS {role}")

    def test_members_are_members(self):
        self.assertEqual(su(f"SELECT pg_has_role('{APP_MEMBER}', 'glyphic_app', 'MEMBER'), "
                            f"pg_has_role('{EXEC_MEMBER}', 'glyphic_executor', 'MEMBER')"), "t|t")
        # the privileges come with it: the member may call enqueue at all
        ok, _, err = as_role(APP_MEMBER, "SELECT has_function_privilege('glyphic.enqueue(text, jsonb, text, uuid, "
                                         "smallint, timestamptz, integer, text, integer)', 'EXECUTE')")
        self.assertTrue(ok, err)

    def test_enqueue_for_another_org(self):
        before = su("SELECT count(*) FROM glyphic.jobs")
        for role in (APP_MEMBER, EXEC_MEMBER):
            with self.subTest(role=role):
                # no request context at all, and the context of Eve (org A)
                ok, _, err = as_role(role, f"SELECT glyphic.enqueue('workflow.run', '{{}}', 'default', '{ORG_B}')")
                self.assertFalse(ok, f"{role} enqueued for org B without a context")
                self.assertIn("only for the request's org", err)
                ok, _, err = as_role(role, f"SELECT glyphic.enqueue_bulk('workflow.run', "
                                           f"ARRAY['{{}}'::jsonb], 'default', '{ORG_B}')")
                self.assertFalse(ok, f"{role} bulk-enqueued for org B without a context")
        ok, _, err = as_role(APP_MEMBER, f"BEGIN; {auth(token_of(EVE), ORG_A)}; "
                                         f"SELECT glyphic.enqueue('workflow.run', '{{}}', 'default', '{ORG_B}'); COMMIT;")
        self.assertFalse(ok, "an app member enqueued for another org than its request's")
        self.assertEqual(su("SELECT count(*) FROM glyphic.jobs"), before)
        # the member still does what the app role may: its own request's org
        ok, out, err = as_role(APP_MEMBER, f"BEGIN; {auth(token_of(EVE), ORG_A)}; SELECT glyphic.enqueue("
                                           f"'member.test', '{{}}', 'member', '{ORG_A}') > 0; ROLLBACK;")
        self.assertTrue(ok, err)
        self.assertEqual(out, "t")

    def test_triggers_of_a_workflow_it_may_not_edit(self):
        bob_wf = su(f"SELECT id FROM glyphic.workflows WHERE org_id = '{ORG_B}' AND name = 'bob secret'")
        su(f"INSERT INTO glyphic.webhooks (org_id, workflow_id, version, node_id, path, method, mode) "
           f"VALUES ('{ORG_B}', '{bob_wf}', 1, 'hook', 'bob-member-test', 'POST', 'async') ON CONFLICT DO NOTHING")
        try:
            for role in (APP_MEMBER, EXEC_MEMBER):
                with self.subTest(role=role):
                    ok, _, err = as_role(role, f"SELECT glyphic.wf_sync_triggers('{bob_wf}', NULL)")
                    self.assertFalse(ok, f"{role} removed the triggers of Bob's workflow")
                    self.assertIn("not allowed to change this workflow", err)
                    ok, _, err = as_role(role, f"BEGIN; {auth(token_of(EVE), ORG_A)}; "
                                               f"SELECT glyphic.wf_sync_triggers('{bob_wf}', NULL); COMMIT;")
                    self.assertFalse(ok, f"{role} as Eve removed the triggers of Bob's workflow")
            self.assertEqual(su(f"SELECT count(*) FROM glyphic.webhooks WHERE path = 'bob-member-test'"), "1")
        finally:
            su("DELETE FROM glyphic.webhooks WHERE path = 'bob-member-test'")

    def test_starter_cannot_be_named_by_a_member(self):
        tok = token_of(EVE)
        as_role(APP_MEMBER, f"BEGIN; {auth(tok, ORG_A)}; INSERT INTO glyphic.workflows (org_id, name, created_by, "
                            f"active, activated_by) VALUES ('{ORG_A}', 'member planted', '{EVE}', true, '{ALICE}'); "
                            f"COMMIT;")
        self.assertEqual(su("SELECT count(*) FROM glyphic.workflows WHERE name = 'member planted'"), "1",
                         "the member could not insert a workflow at all (the test proves nothing then)")
        self.assertEqual(su("SELECT activated_by FROM glyphic.workflows WHERE name = 'member planted'"), EVE)
        # an execution it inserts runs on Eve's rights, not on the user it names
        wid = su("SELECT id FROM glyphic.workflows WHERE name = 'member planted'")
        ok, _, err = as_role(APP_MEMBER, f"BEGIN; {auth(tok, ORG_A)}; INSERT INTO glyphic.executions "
                                         f"(org_id, workflow_id, trigger, started_by) VALUES ('{ORG_A}', '{wid}', "
                                         f"'manual', '{ALICE}'); COMMIT;")
        self.assertTrue(ok, err)
        self.assertEqual(su(f"SELECT started_by FROM glyphic.executions WHERE workflow_id = '{wid}'"), EVE)

    def test_executor_member_is_not_the_executor(self):
        # row level security: trusted is current_user glyphic_executor by name
        ok, out, err = as_role(EXEC_MEMBER, "SELECT count(*) FROM glyphic.workflows")
        self.assertTrue(ok, err)
        self.assertEqual(out, "0")
        self.assertNotEqual(su("SELECT count(*) FROM glyphic.workflows"), "0")
        # and the database's own notion of trust
        ok, out, err = as_role(EXEC_MEMBER, "SELECT glyphic.role_trusted(session_user), "
                                            "glyphic.role_trusted('glyphic_executor')")
        self.assertTrue(ok, err)
        self.assertEqual(out, "f|t")

    def test_no_function_compares_the_caller_with_a_role_name(self):
        rows = su("SELECT p.oid::regprocedure FROM pg_proc p WHERE p.pronamespace = 'glyphic'::regnamespace "
                  "AND p.prosrc ~ '(session_user|current_user)\\s*(=|<>|!=)\\s*''glyphic_'")
        self.assertEqual(rows, "", "these compare the caller with one role name (a member gets through):\n" + rows)


if __name__ == "__main__":
    unittest.main(verbosity=2)
