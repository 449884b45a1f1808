"""Shared hosts without root (issue 17): Unix users the test creates, each
with a PostgreSQL role that has no CREATEROLE and one database it owns.

The first builds Glyphic from source in its home and installs it with
`cmake --install build --prefix ~/.local`, installs the schema with
`glyphic migrate --single-role` (plain `glyphic migrate` says why it cannot
and what to do), runs glyphic-fcgi and glyphic-events under its own account
on sockets in its home that nginx's user (www-data, a member of the
customer's group) opens through the group, and runs
`glyphic-executor --drain` the way cron starts it (a bare environment). A
webhook workflow answers through nginx, a queued run is finished by the
cron-style executor, two orgs of the installation do not see each other, and
row level security binds the owner role itself (its rows are visible only
with the executor's setting). `glyphic doctor` passes and says what the
single-role layout does not guarantee.

The second customer has an installation of its own on the same server and
the same PostgreSQL cluster (its own role, database, sockets, files, nginx
server, executors): the same e-mail address and webhook path exist in both;
each executor finishes only its installation's jobs; a daemon executor that
looks at the table only once a minute starts a job of its own installation
at once (its NOTIFY) and never one of the other; each installation elects
its own maintainer (advisory locks are per database).

It creates users and changes www-data's groups, so it runs as root only
(CI is root)."""
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
import uuid

import harness

BASE = None
PG = None
USERS = []
PROCS = []
NGINXES = []
HOOK_PATH = "shop-orders"


def sh(*args, check=True, **kw):
    r = subprocess.run(list(args), capture_output=True, text=True, timeout=600, **kw)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({r.returncode}): {r.stdout[-3000:]} {r.stderr[-3000:]}")
    return r


class Customer:
    """A Unix account, its PostgreSQL role and database, and its config."""

    def __init__(self, tag):
        self.name = f"gsr{uuid.uuid4().hex[:6]}{tag}"
        self.home = os.path.join(BASE, "home-" + self.name)
        sh("useradd", "--create-home", "--home-dir", self.home, "--shell", "/bin/sh", "--user-group", self.name)
        USERS.append(self.name)
        os.chmod(self.home, 0o750)  # nginx's user reaches the sockets through the group
        sh("usermod", "--append", "--groups", self.name, "www-data")
        PG.psql(f"CREATE ROLE {self.name} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS", db="postgres")
        PG.psql(f"CREATE DATABASE {self.name} OWNER {self.name}", db="postgres")
        self.conninfo = PG.conninfo(self.name, self.name)
        self.conf = os.path.join(self.home, "glyphic.conf")
        self.bindir = os.path.join(self.home, ".local", "bin")
        self.socket = os.path.join(self.home, "run", "fcgi.sock")
        self.events_socket = os.path.join(self.home, "run", "events.sock")
        self.files = os.path.join(self.home, "var", "files")
        self.log = os.path.join(self.home, "var", "glyphic.log")

    def run(self, *argv, check=True, timeout=600):
        """argv as the customer, in a login shell's environment."""
        r = subprocess.run(["runuser", "-u", self.name, "--", "env", "-i", f"HOME={self.home}",
                            f"USER={self.name}", f"LOGNAME={self.name}", "PATH=/usr/local/bin:/usr/bin:/bin",
                            "SHELL=/bin/sh", *argv], capture_output=True, text=True, timeout=timeout,
                           cwd=self.home)
        if check and r.returncode != 0:
            raise AssertionError(f"as {self.name}: {' '.join(argv)} failed ({r.returncode}):\n"
                                 f"{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
        return r

    def cron(self, line):
        """A crontab line's command the way cron runs it: /bin/sh -c, HOME,
        LOGNAME, SHELL and a short PATH, nothing else."""
        return subprocess.run(["runuser", "-u", self.name, "--", "env", "-i", f"HOME={self.home}",
                               f"LOGNAME={self.name}", "SHELL=/bin/sh", "PATH=/usr/bin:/bin",
                               "/bin/sh", "-c", line], capture_output=True, text=True, timeout=120,
                              cwd=self.home)

    def write_conf(self, bindir):
        key = os.path.join(self.home, "etc", "glyphic.key")
        self.run("mkdir", "-p", os.path.dirname(key), os.path.dirname(self.socket), self.files)
        if not os.path.exists(key):
            self.run(os.path.join(bindir, "glyphic"), "keygen", key)
        text = (f'db.url = "{self.conninfo}"\n'
                f'db.executor_url = "{self.conninfo}"\n'
                f'db.admin_url = "{self.conninfo}"\n'
                f'secrets.key_file = "{key}"\n'
                f'fcgi.socket = "{self.socket}"\n'
                'fcgi.socket_mode = "0660"\n'
                'fcgi.hooks_socket = ""\n'
                'fcgi.workers = "2"\n'
                f'events.socket = "{self.events_socket}"\n'
                'events.socket_mode = "0660"\n'
                f'files.dir = "{self.files}"\n'
                f'log.file = "{self.log}"\n'
                'log.level = "debug"\n'
                'executor.workers = "1"\n'
                'auth.open_signup = "true"\n'
                'auth.cookie_secure = "false"\n'
                'auth.scrypt_n = "10"\n')
        with open(self.conf, "w") as fh:
            fh.write(text)
        shutil.chown(self.conf, self.name, self.name)
        os.chmod(self.conf, 0o600)

    def start(self, bindir, *argv, log):
        with open(os.path.join(self.home, log), "w") as err:
            p = subprocess.Popen(["runuser", "-u", self.name, "--", os.path.join(bindir, argv[0]), "-c", self.conf,
                                  *argv[1:]], stdout=subprocess.DEVNULL, stderr=err, start_new_session=True,
                                 cwd=self.home)
        PROCS.append(p)
        return p

    def serve(self, bindir):
        """glyphic-fcgi, glyphic-events and an nginx server of the customer's."""
        self.start(bindir, "glyphic-fcgi", log="fcgi.stderr")
        self.start(bindir, "glyphic-events", log="events.stderr")
        harness.wait_for(lambda: os.path.exists(self.socket) and os.path.exists(self.events_socket), timeout=30,
                         what=f"{self.name}'s sockets")
        nginx = harness.Nginx(os.path.join(BASE, "nginx-" + self.name), self.socket, events_path=self.events_socket,
                              hooks_path=self.socket, limits=False, settings={"files.dir": self.files})
        os.makedirs(os.path.join(BASE, "nginx-" + self.name))
        nginx.start(extra_args=("--user", "www-data"))
        NGINXES.append(nginx)
        self.stack = harness.Env.__new__(harness.Env)
        self.stack.nginx = nginx
        harness.wait_for(lambda: self.stack.request("GET", "/api/health").status == 200, timeout=30,
                         what=f"{self.name}'s API through nginx")
        return self.stack

    def sql(self, q, trusted=False):
        """q as the customer's own role (psql, as someone with the password
        would), with or without the setting the executor's sessions carry."""
        pre = "SET glyphic.trusted = 'on'; " if trusted else ""
        return PG.psql(pre + q, user=self.name, db=self.name)


def webhook_workflow(client, path, mode="sync"):
    d = {"nodes": [{"id": "h", "type": "trigger.webhook", "name": "Hook", "params": {"path": path, "mode": mode}},
                   {"id": "s", "type": "data.set", "name": "Set", "params": {"fields": {"sum": "{{ $json.body.a + 2 }}"}}},
                   {"id": "r", "type": "flow.respond", "name": "Respond", "params": {"body": {"sum": "{{ $json.sum }}"}}}],
         "edges": [{"from": "h", "to": "s"}, {"from": "s", "to": "r"}]}
    r = client.post("/api/workflows", {"name": "Orders " + path, "definition": d})
    assert r.status == 201, r
    wid = r.json()["id"]
    assert client.post(f"/api/workflows/{wid}/activate").status == 200
    return wid


def queued_run(client, wid, a):
    r = client.post(f"/api/workflows/{wid}/run", {"input": [{"body": {"a": a}}]})
    assert r.status == 202, r
    return r.json()["id"]


def status_of(client, eid):
    return client.get(f"/api/executions/{eid}").json()["status"]


def setUpModule():
    global BASE, PG
    if not harness.IS_ROOT:
        raise unittest.SkipTest("creates Unix users and changes www-data's groups: root only (CI is root)")
    BASE = tempfile.mkdtemp(prefix="glyphic-test-single-", dir="/tmp")
    os.chmod(BASE, 0o711)
    PG = harness.Postgres(BASE)
    PG.init()
    PG.start()


def tearDownModule():
    for n in NGINXES:
        n.stop()
    for p in PROCS:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    for p in PROCS:
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    if PG:
        PG.stop()
    for name in USERS:
        subprocess.run(["gpasswd", "--delete", "www-data", name], capture_output=True)
        subprocess.run(["pkill", "-KILL", "-u", name], capture_output=True)
        subprocess.run(["userdel", "--remove", name], capture_output=True)
    if BASE:
        shutil.rmtree(BASE, ignore_errors=True)


class SingleRoleTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.a = Customer("a")
        cls.b = Customer("b")

    def test_a_build_and_install_as_the_user(self):
        c = self.a
        src = os.path.join(c.home, "src")
        shutil.copytree(harness.SRC, src, symlinks=True,
                        ignore=shutil.ignore_patterns("build", "build-*", "var", ".git", "node_modules", "__pycache__"))
        sh("chown", "-R", f"{c.name}:{c.name}", src)
        c.run("cmake", "-S", "src", "-B", "build", "-DCMAKE_BUILD_TYPE=Release", "-DGL_TESTS=OFF")
        c.run("cmake", "--build", "build", "-j2")
        r = c.run("cmake", "--install", "build", "--prefix", os.path.join(c.home, ".local"))
        self.assertNotIn("/usr/", "".join(l for l in r.stdout.splitlines() if "Installing:" in l))
        for prog in ("glyphic", "glyphic-fcgi", "glyphic-events", "glyphic-executor"):
            path = os.path.join(c.bindir, prog)
            self.assertEqual(pwd.getpwuid(os.stat(path).st_uid).pw_name, c.name, path)
        self.assertTrue(os.path.exists(os.path.join(c.home, ".local", "share", "glyphic", "sql")))

    def test_b_migrate_without_createrole(self):
        c = self.a
        c.write_conf(c.bindir)
        glyphic = os.path.join(c.bindir, "glyphic")
        r = c.run(glyphic, "-c", c.conf, "migrate", check=False)
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("no CREATEROLE", r.stderr)
        self.assertIn("--single-role", r.stderr)
        self.assertEqual(c.sql("SELECT count(*) FROM pg_namespace WHERE nspname = 'glyphic'"), "0")
        r = c.run(glyphic, "-c", c.conf, "migrate", "--single-role")
        self.assertIn(f"installing with one role, {c.name}", r.stdout)
        # later migrations keep the layout without being told; --status is clean
        self.assertIn("up to date", c.run(glyphic, "-c", c.conf, "migrate").stdout)
        c.run(glyphic, "-c", c.conf, "migrate", "--status")
        # everything is the customer's, row level security binds it, nothing is PUBLIC's
        self.assertEqual(c.sql("SELECT count(*) FROM pg_class WHERE relnamespace = 'glyphic'::regnamespace "
                               "AND relowner <> current_user::regrole"), "0")
        self.assertEqual(c.sql("SELECT count(*) FROM pg_class WHERE relnamespace = 'glyphic'::regnamespace "
                               "AND relrowsecurity AND NOT relforcerowsecurity"), "0")
        self.assertEqual(c.sql("SELECT has_schema_privilege('public', 'glyphic', 'USAGE')"), "f")
        # the layout is the schema's: another role, or one role on a three-role schema, is refused
        conf = os.path.join(BASE, "superuser.conf")
        glyphic_root = os.path.join(harness.BUILD, "cli", "glyphic")

        def migrate_as_superuser(db, *args):
            with open(conf, "w") as fh:  # (migrate copies auth.* into the database: keep sign-up open)
                fh.write(f'db.admin_url = "{PG.conninfo("postgres", db)}"\nauth.open_signup = "true"\n')
            return sh(glyphic_root, "-c", conf, "migrate", *args, check=False)
        r = migrate_as_superuser(c.name, "--single-role")  # existing single-role: kept, nothing to do
        self.assertEqual(r.returncode, 0, r.stderr)
        PG.psql("CREATE DATABASE three", db="postgres")
        r = migrate_as_superuser("three", "--single-role")
        self.assertEqual(r.returncode, 1)
        self.assertIn("not a superuser", r.stderr)
        self.assertEqual(migrate_as_superuser("three").returncode, 0)
        r = migrate_as_superuser("three", "--single-role")
        self.assertEqual(r.returncode, 1)
        self.assertIn("three-role layout", r.stderr)
        PG.psql(f"CREATE ROLE {c.name}_other LOGIN; GRANT {c.name} TO {c.name}_other", db="postgres")
        with open(conf, "w") as fh:
            fh.write(f'db.admin_url = "{PG.conninfo(c.name + "_other", c.name)}"\nauth.open_signup = "true"\n')
        r = sh(glyphic_root, "-c", conf, "migrate", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"single-role installation owned by {c.name}", r.stderr)

    def test_c_serve_and_run_end_to_end(self):
        c = self.a
        stack = c.serve(c.bindir)
        for p in PROCS:
            self.assertIsNone(p.poll())
        # the programs run as the customer
        pids = sh("pgrep", "-u", c.name, "-f", "glyphic-fcgi", check=False).stdout.split()
        self.assertTrue(pids, "glyphic-fcgi runs under the customer's account")
        alice = harness.Env.signup(stack, "alice@example.com")
        bob = harness.Env.signup(stack, "bob@example.com")
        self.assertNotEqual(alice.me["org_id"], bob.me["org_id"])
        wid = webhook_workflow(alice, HOOK_PATH)
        r = stack.request("POST", f"/hooks/{HOOK_PATH}", body={"a": 40})
        self.assertEqual((r.status, r.json()), (200, {"sum": 42}), r)
        eid = queued_run(alice, wid, 1)
        r = c.cron(f"$HOME/.local/bin/glyphic-executor -c $HOME/glyphic.conf --drain --max-seconds 5")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(status_of(alice, eid), "succeeded")
        self.assertEqual(alice.get(f"/api/executions/{eid}").json()["output"], [{"body": {"a": 1}, "sum": 3}])
        # two orgs of the installation stay apart
        self.assertEqual(bob.get(f"/api/workflows/{wid}").status, 404)
        self.assertEqual(bob.get("/api/workflows").json()["items"], [])
        self.assertEqual(bob.get(f"/api/executions/{eid}").status, 404)
        self.assertEqual(bob.post(f"/api/workflows/{wid}/run", {"input": [{}]}).status, 404)
        # row level security binds the owner: without the executor's setting
        # its own role sees no org's rows; with it, all (what doctor warns of)
        self.assertEqual(c.sql("SELECT count(*) FROM glyphic.workflows"), "0")
        self.assertEqual(c.sql("SELECT count(*) FROM glyphic.executions"), "0")
        self.assertEqual(c.sql("SELECT count(*) FROM glyphic.workflows", trusted=True), "1")
        # ... and the functions that trust only the executor refuse the app
        r = PG.psql(f"SELECT glyphic.enqueue('workflow.run', '{{}}'::jsonb, 'default', "
                    f"'{alice.me['org_id']}'::uuid)", user=c.name, db=c.name, check=False)
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertIn("only for the request's org", r.stderr)
        # ... and an execution the app inserts runs on the signed-in user's
        # rights, whoever it names (045's trigger condition names the
        # three-role layout's roles; this layout keeps 044's)
        self.assertIn("role_trusted(CURRENT_USER)",
                      c.sql("SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgname = 'executions_starter'"))
        planted = str(uuid.uuid4())
        c.sql(f"BEGIN; SELECT count(*) FROM glyphic.auth_session(sha256('{alice.cookie}'::bytea), NULL, 3600); "
              f"INSERT INTO glyphic.executions (id, org_id, workflow_id, trigger, started_by) VALUES "
              f"('{planted}', '{alice.me['org_id']}', '{wid}', 'manual', '{bob.me['user']['id']}'); COMMIT;")
        self.assertEqual(c.sql(f"SELECT started_by FROM glyphic.executions WHERE id = '{planted}'", trusted=True),
                         alice.me["user"]["id"])

    def test_d_doctor_says_what_is_weaker(self):
        c = self.a
        r = c.run(os.path.join(c.bindir, "glyphic"), "-c", c.conf, "doctor", "--nginx-user", "www-data",
                  check=False)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"warn\s+role layout\s+single role: " + c.name)
        self.assertIn("can switch it off", r.stdout)
        self.assertRegex(r.stdout, r"ok\s+row level security")
        self.assertRegex(r.stdout, r"ok\s+fcgi socket")

    def test_e_a_second_installation_beside_it(self):
        a, b = self.a, self.b
        bindirs = {"glyphic": "cli", "glyphic-fcgi": "fcgi", "glyphic-events": "events",
                   "glyphic-executor": "executor"}
        # the second customer runs the programs of the build tree (any copy will do)
        local = os.path.join(b.home, ".local", "bin")
        b.run("mkdir", "-p", local)
        for prog, sub in bindirs.items():
            os.symlink(os.path.join(harness.BUILD, sub, prog), os.path.join(local, prog))
        b.write_conf(local)
        b.run(os.path.join(local, "glyphic"), "-c", b.conf, "migrate", "--single-role")
        stack_b = b.serve(local)
        stack_a = a.stack
        # the same e-mail address and the same webhook path in both
        alice_b = harness.Env.signup(stack_b, "alice@example.com")
        wid_b = webhook_workflow(alice_b, HOOK_PATH)
        r = stack_b.request("POST", f"/hooks/{HOOK_PATH}", body={"a": 100})
        self.assertEqual((r.status, r.json()), (200, {"sum": 102}), r)
        r = stack_a.request("POST", f"/hooks/{HOOK_PATH}", body={"a": 1})
        self.assertEqual((r.status, r.json()), (200, {"sum": 3}), r)
        alice_a = harness.Client(stack_a)
        self.assertEqual(alice_a.post("/api/auth/login", {"email": "alice@example.com",
                                                          "password": "correct horse battery"}).status, 200)
        names_a = [w["name"] for w in alice_a.get("/api/workflows").json()["items"]]
        names_b = [w["name"] for w in alice_b.get("/api/workflows").json()["items"]]
        self.assertEqual((len(names_a), len(names_b)), (1, 1))
        wid_a = alice_a.get("/api/workflows").json()["items"][0]["id"]
        self.assertEqual(alice_b.get(f"/api/workflows/{wid_a}").status, 404)
        self.assertEqual(alice_a.get(f"/api/workflows/{wid_b}").status, 404)
        # each executor finishes only its installation's jobs
        ea, eb = queued_run(alice_a, wid_a, 5), queued_run(alice_b, wid_b, 6)
        r = a.cron("$HOME/.local/bin/glyphic-executor -c $HOME/glyphic.conf --drain --max-seconds 5")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual((status_of(alice_a, ea), status_of(alice_b, eb)), ("succeeded", "queued"))
        r = b.cron("$HOME/.local/bin/glyphic-executor -c $HOME/glyphic.conf --drain --max-seconds 5")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(status_of(alice_b, eb), "succeeded")
        # daemons that look at the table once a minute: a job starts at once
        # in its own installation (its NOTIFY) and never in the other
        for c in (a, b):
            with open(c.conf, "a") as fh:
                fh.write('executor.poll_ms = "60000"\n')
        da = a.start(a.bindir, "glyphic-executor", "--daemon", log="executor.stderr")
        db_ = b.start(local, "glyphic-executor", "--daemon", log="executor.stderr")
        logs = {c.name: c.log for c in (a, b)}

        def elected(c):
            with open(logs[c.name], errors="replace") as fh:
                return "maintainer: elected" in fh.read()
        harness.wait_for(lambda: elected(a) and elected(b), timeout=30,
                         what="a maintainer elected in each installation")
        time.sleep(1)  # both listening
        ea = queued_run(alice_a, wid_a, 7)
        harness.wait_for(lambda: status_of(alice_a, ea) == "succeeded", timeout=20,
                         what="installation a's job, started by its NOTIFY")
        eb = queued_run(alice_b, wid_b, 8)
        harness.wait_for(lambda: status_of(alice_b, eb) == "succeeded", timeout=20,
                         what="installation b's job, started by its NOTIFY")
        # each daemon worked only in its own database
        for c, other in ((a, b), (b, a)):
            n = c.sql(f"SELECT count(*) FROM pg_stat_activity WHERE usename = '{c.name}' "
                      f"AND datname <> '{c.name}'")
            self.assertEqual(n, "0")
        for p in (da, db_):
            self.assertIsNone(p.poll())

    def test_f_backup_and_restore_as_the_role(self):
        c = self.a
        glyphic = os.path.join(c.bindir, "glyphic")
        backup = os.path.join(c.home, "backup")
        r = c.run(glyphic, "-c", c.conf, "backup", backup)
        self.assertIn("database:", r.stdout)
        counts = {t: c.sql(f"SELECT count(*) FROM glyphic.{t}", trusted=True)
                  for t in ("users", "orgs", "workflows", "workflow_versions", "executions", "execution_steps", "steps",
                            "sessions", "jobs")}
        self.assertEqual(counts["users"], "2")
        # into a new database of the customer's, as the customer
        PG.psql(f"CREATE DATABASE {c.name}_restored OWNER {c.name}", db="postgres")
        conf = os.path.join(c.home, "restored.conf")
        with open(c.conf) as fh:
            text = fh.read().replace(f"dbname={c.name} ", f"dbname={c.name}_restored ")
        with open(conf, "w") as fh:
            fh.write(text)
        shutil.chown(conf, c.name, c.name)
        r = c.run(glyphic, "-c", conf, "restore", backup)
        self.assertIn("up to date", r.stdout)
        for t, n in counts.items():
            self.assertEqual(PG.psql(f"SET glyphic.trusted = 'on'; SELECT count(*) FROM glyphic.{t}",
                                     user=c.name, db=c.name + "_restored"), n, t)
        # still single-role, row level security still binds the owner
        self.assertEqual(PG.psql("SELECT count(*) FROM glyphic.workflows", user=c.name, db=c.name + "_restored"),
                         "0")
        r = c.run(glyphic, "-c", conf, "doctor", check=False)
        self.assertRegex(r.stdout, r"warn\s+role layout\s+single role: " + c.name)
        self.assertRegex(r.stdout, r"ok\s+row level security")
        # another role may not take it
        PG.psql(f"CREATE DATABASE {self.b.name}_taken OWNER {self.b.name}", db="postgres")
        shutil.copytree(backup, os.path.join(self.b.home, "a-backup"))
        sh("chown", "-R", f"{self.b.name}:{self.b.name}", os.path.join(self.b.home, "a-backup"))
        with open(self.b.conf) as fh:
            text = fh.read().replace(f"dbname={self.b.name} ", f"dbname={self.b.name}_taken ")
        bconf = os.path.join(self.b.home, "taken.conf")
        with open(bconf, "w") as fh:
            fh.write(text)
        shutil.chown(bconf, self.b.name, self.b.name)
        r = self.b.run(os.path.join(self.b.home, ".local", "bin", "glyphic"), "-c", bconf, "restore",
                       os.path.join(self.b.home, "a-backup"), "--replace-key", check=False)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn(f"single-role installation owned by {c.name}", r.stderr)
        self.assertEqual(PG.psql("SELECT count(*) FROM pg_namespace WHERE nspname = 'glyphic'",
                                 db=self.b.name + "_taken"), "0")


if __name__ == "__main__":
    unittest.main()
