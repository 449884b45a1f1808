"""glyphic-fcgi and the database: outages, migrations, roles, schema versions."""
import os
import signal
import subprocess
import unittest

import harness

ENV = None


def setUpModule():
    global ENV
    ENV = harness.Env(workers=2).start_all()


def tearDownModule():
    ENV.close()


def health():
    return ENV.request("GET", "/api/health")


class DatabaseTest(unittest.TestCase):
    def test_health_503_while_db_down_then_recovers(self):
        master = ENV.fcgi.proc.pid
        self.assertEqual(health().status, 200)
        ENV.pg.stop()
        try:
            for _ in range(5):
                r = health()
                self.assertEqual(r.status, 503, r)
                body = r.json()
                self.assertEqual(body["status"], "unavailable")
                self.assertEqual(body["error"]["code"], "database_unavailable")
                self.assertEqual(r.header("Retry-After"), "1")
            # endpoints without the database keep working
            self.assertEqual(ENV.request("GET", "/api/version").status, 200)
        finally:
            ENV.pg.start()
        harness.wait_for(lambda: health().status == 200, timeout=10, what="health back to 200")
        self.assertEqual(ENV.fcgi.proc.pid, master)
        self.assertIsNone(ENV.fcgi.proc.poll())
        self.assertEqual([health().status for _ in range(20)], [200] * 20)

    def test_restart_without_outage_window_reconnects_transparently(self):
        self.assertEqual(health().status, 200)
        ENV.pg.stop()
        ENV.pg.start()
        # connections died under the workers; the first query reconnects
        self.assertEqual([health().status for _ in range(10)], [200] * 10)

    def test_fcgi_starts_while_db_is_down(self):
        ENV.fcgi.stop()
        ENV.pg.stop()
        try:
            ENV.fcgi.start()
            self.assertEqual(health().status, 503)
            self.assertIn("not reachable", ENV.fcgi.log_text())
        finally:
            ENV.pg.start()
        harness.wait_for(lambda: health().status == 200, timeout=10, what="health 200")

    def test_migrate_twice_is_noop(self):
        r = ENV.glyphic("migrate")
        self.assertIn("up to date", r.stdout)
        before = ENV.pg.psql("SELECT count(*), max(applied_at) FROM glyphic.schema_migrations")
        ENV.glyphic("migrate")
        self.assertEqual(ENV.pg.psql("SELECT count(*), max(applied_at) FROM glyphic.schema_migrations"), before)
        st = ENV.glyphic("migrate", "--status")
        self.assertIn("applied  001_init", st.stdout)

    def test_roles(self):
        rows = ENV.pg.psql("SELECT rolname, rolsuper, rolbypassrls, rolcreaterole FROM pg_roles "
                           "WHERE rolname LIKE 'glyphic_%' ORDER BY 1").splitlines()
        self.assertEqual(rows, ["glyphic_app|f|f|f", "glyphic_executor|f|f|f", "glyphic_owner|f|f|f"])
        owners = ENV.pg.psql("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'glyphic'")
        self.assertEqual(owners, "glyphic_owner")
        self.assertEqual(ENV.pg.psql("SELECT nspowner::regrole FROM pg_namespace WHERE nspname = 'glyphic'"),
                         "glyphic_owner")
        # the app role reads the version but cannot write it
        self.assertEqual(ENV.pg.psql("SELECT max(version) > 0 FROM glyphic.schema_migrations",
                                     user="glyphic_app"), "t")
        r = ENV.pg.psql("INSERT INTO glyphic.schema_migrations VALUES (998, 'x', 'x')",
                        user="glyphic_app", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("permission denied", r.stderr)

    def test_newer_schema_refused(self):
        ENV.pg.psql("INSERT INTO glyphic.schema_migrations (version, name, checksum) VALUES (999, 'future', 'x')")
        try:
            # a running server reports it
            harness.wait_for(lambda: health().status == 503, what="503 on newer schema")
            self.assertEqual(health().json()["error"]["code"], "schema_too_new")
            # a new server refuses to start, with a clear message
            ENV.fcgi.stop()
            os.makedirs(os.path.join(ENV.base, "second"), exist_ok=True)
            env = dict(os.environ, GLYPHIC_FCGI_SOCKET=os.path.join(ENV.base, "second", "s.sock"))
            r = subprocess.run([os.path.join(harness.BUILD, "fcgi", "glyphic-fcgi"), "-c", ENV.fcgi.conf],
                               capture_output=True, text=True, timeout=20, env=env)
            self.assertEqual(r.returncode, 1)
            self.assertIn("newer", r.stderr)
            self.assertIn("999", r.stderr)
            # so does the CLI
            m = ENV.glyphic("migrate", check=False)
            self.assertEqual(m.returncode, 1)
            self.assertIn("newer", m.stderr)
            st = ENV.glyphic("migrate", "--status", check=False)
            self.assertEqual(st.returncode, 1)
        finally:
            ENV.pg.psql("DELETE FROM glyphic.schema_migrations WHERE version = 999")
            if ENV.fcgi.proc.poll() is not None:
                ENV.fcgi.start()
        harness.wait_for(lambda: health().status == 200, what="health 200")

    def test_pending_migrations_reported(self):
        ENV.pg.psql("SET session_replication_role = replica; "
                    "DELETE FROM glyphic.schema_migrations WHERE version = (SELECT max(version) FROM glyphic.schema_migrations)")
        try:
            r = health()
            self.assertEqual(r.status, 503)
            self.assertEqual(r.json()["error"]["code"], "migrations_pending")
        finally:
            ENV.pg.psql("TRUNCATE glyphic.schema_migrations")
            ENV.pg.psql("DROP SCHEMA glyphic CASCADE")
            ENV.glyphic("migrate")
        harness.wait_for(lambda: health().status == 200, what="health 200")


class CompressionTest(unittest.TestCase):
    def test_large_values_are_compressed_with_lz4(self):
        """sql/030: a definition past TOAST's threshold is stored with lz4
        (this PostgreSQL is built with it, as Debian's is)."""
        c = ENV.signup("lz4@example.com")
        nodes = [{"id": "t", "type": "trigger.manual"}] + [
            {"id": f"n{i}", "type": "data.set", "params": {"fields": {f"f{i}": "{{ $json.value * 2 }}",
                                                                     "note": f"step {i} " + "x" * 40}}}
            for i in range(60)]
        edges = [{"from": "t" if i == 0 else f"n{i - 1}", "to": f"n{i}"} for i in range(60)]
        r = c.post("/api/workflows", {"name": "Big", "definition": {"nodes": nodes, "edges": edges}})
        self.assertEqual(r.status, 201, r)
        wid = r.json()["id"]
        out = ENV.pg.psql(f"SELECT pg_column_compression(definition), octet_length(definition::text) > 2048 "
                          f"FROM glyphic.workflow_versions WHERE workflow_id = '{wid}'")
        self.assertEqual(out, "lz4|t")
        self.assertEqual(c.get(f"/api/workflows/{wid}").json()["definition"]["nodes"][5]["id"], "n4")


class MigrateTest(unittest.TestCase):
    def test_fresh_database_to_head_and_bad_admin_url(self):
        ENV.pg.createdb("fresh")
        conf = os.path.join(ENV.base, "fresh.conf")
        with open(conf, "w") as f:
            f.write(f'db.admin_url = "{ENV.pg.conninfo("postgres", db="fresh")}"\n')
        cli = os.path.join(harness.BUILD, "cli", "glyphic")
        r = subprocess.run([cli, "-c", conf, "migrate"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("applied 001_init", r.stdout)
        self.assertEqual(ENV.pg.psql("SELECT count(*) > 0 FROM glyphic.schema_migrations", db="fresh"), "t")
        # an unreachable database: clear message, exit 1
        with open(conf, "w") as f:
            f.write('db.admin_url = "host=/nonexistent port=1 dbname=x"\ndb.connect_timeout = 1\n')
        r = subprocess.run([cli, "-c", conf, "migrate"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot connect", r.stderr)

    def test_a_database_not_in_utf8_is_refused(self):
        # jsonb refuses "\u00e9" in SQL_ASCII (22P05): such a workflow could not be saved
        ENV.pg.psql("CREATE DATABASE ascii ENCODING 'SQL_ASCII' TEMPLATE template0", db="postgres")
        conf = os.path.join(ENV.base, "ascii.conf")
        with open(conf, "w") as f:
            f.write(f'db.admin_url = "{ENV.pg.conninfo("postgres", db="ascii")}"\n')
        cli = os.path.join(harness.BUILD, "cli", "glyphic")
        r = subprocess.run([cli, "-c", conf, "migrate"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("the database's encoding is SQL_ASCII; Glyphic needs UTF8", r.stderr)
        self.assertEqual(ENV.pg.psql("SELECT count(*) FROM pg_namespace WHERE nspname = 'glyphic'", db="ascii"), "0",
                         "nothing was installed")

    def test_cli_usage_errors(self):
        cli = os.path.join(harness.BUILD, "cli", "glyphic")
        self.assertEqual(subprocess.run([cli], capture_output=True).returncode, 2)
        r = subprocess.run([cli, "frobnicate"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown command", r.stderr)
        r = subprocess.run([cli, "-c", "/nonexistent.conf", "migrate"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("/nonexistent.conf", r.stderr)
        bad = os.path.join(ENV.base, "bad.conf")
        with open(bad, "w") as f:
            f.write("fcgi.workers = lots\n")
        r = subprocess.run([cli, "-c", bad, "config"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("fcgi.workers", r.stderr)
        r = subprocess.run([cli, "--help"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0)
        for key in ("db.url", "fcgi.workers", "http.max_body", "GLYPHIC_DB_URL"):
            self.assertIn(key, r.stdout)

    def test_config_masks_passwords(self):
        cli = os.path.join(harness.BUILD, "cli", "glyphic")
        env = dict(os.environ, GLYPHIC_DB_URL="host=x password=s3cret-pw dbname=glyphic",
                   GLYPHIC_DB_ADMIN_URL="postgresql://admin:hunter2@db/glyphic")
        r = subprocess.run([cli, "-c", ENV.fcgi.conf, "config"], capture_output=True, text=True, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("s3cret-pw", r.stdout)
        self.assertNotIn("hunter2", r.stdout)
        self.assertIn("password=***", r.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
