"""Backups and restores (issue 17, item 7): `glyphic backup DIR` writes the
database (pg_dump), the key file, the file store and a manifest;
`glyphic restore DIR` puts it back into a new database of the same cluster,
with a fresh key path and file store, and a stack started on it serves what
the old one did: the old password logs in, the old session cookie works,
workflows, versions and executions read the same, the credential still
opens (a run of the old workflow sends its token to the test server), the
file downloads byte for byte.

Bad inputs: a tampered dump or manifest (checksums) and a database that
already has the schema are refused with the database untouched; a backup
into a non-empty folder, with pg_dump failing (a wrong admin URL) or
missing, leaves no backup folder; another key at the key path is refused.

Real PostgreSQL, glyphic-fcgi, glyphic-events, nginx and an executor."""
import hashlib
import json
import os
import shutil
import stat
import subprocess
import unittest

import harness
import stackdata
from testserver import TestServer

ENV = SRV = DATA = None
BACKUP = None
GLYPHIC = os.path.join(harness.BUILD, "cli", "glyphic")


def setUpModule():
    global ENV, SRV, DATA, BACKUP
    SRV = TestServer().start()
    ENV = harness.Env(workers=2, fcgi_extra={"executor.poll_ms": "200", "log.level": "info",
                                             **harness.ALLOW_TEST_SERVER})
    ENV.start_all()
    try:
        DATA = stackdata.populate(ENV, SRV)
        BACKUP = os.path.join(ENV.base, "backup-1")
        r = ENV.glyphic("backup", BACKUP)
        assert "backup written to" in r.stdout, r.stdout
    except BaseException:
        tearDownModule()  # unittest does not when setUpModule fails
        raise


def tearDownModule():
    ENV.close()
    SRV.stop()


def sql(q, db="glyphic"):
    return ENV.pg.psql(q, user="postgres", db=db)


def conf_for(name, **changes):
    """A configuration file: ENV's, with changes (keys with dots)."""
    settings = dict(ENV.fcgi.settings)
    settings.update(changes)
    path = os.path.join(ENV.base, f"{name}.conf")
    with open(path, "w") as f:
        for k, v in settings.items():
            f.write(f'{k} = "{v}"\n')
    return path


def glyphic(conf, *args):
    return subprocess.run([GLYPHIC, "-c", conf, *args], capture_output=True, text=True)


def db_settings(db):
    return {"db.url": ENV.pg.conninfo("glyphic_app", db), "db.executor_url": ENV.pg.conninfo("glyphic_executor", db),
            "db.admin_url": ENV.pg.conninfo("postgres", db)}


def fresh_target(name):
    """A new database and a fresh key path and file store: the restore's target."""
    ENV.pg.createdb(name)
    return conf_for(name, **db_settings(name), **{"secrets.key_file": os.path.join(ENV.base, f"{name}.key"),
                                                  "files.dir": os.path.join(ENV.base, f"{name}-files")})


def has_schema(db):
    return sql("SELECT to_regnamespace('glyphic') IS NOT NULL", db=db) == "t"


def copy_backup(name):
    dst = os.path.join(ENV.base, name)
    shutil.copytree(BACKUP, dst)
    return dst


class BackupTest(unittest.TestCase):
    def test_backup_layout_and_manifest(self):
        st = os.stat(BACKUP)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o700)
        self.assertFalse(os.path.exists(BACKUP + ".partial"))
        with open(os.path.join(BACKUP, "manifest.json")) as f:
            m = json.load(f)
        self.assertEqual(m["format"], "glyphic-backup-1")
        self.assertEqual(m["schema_version"], int(sql("SELECT max(version) FROM glyphic.schema_migrations")))
        self.assertTrue(m["glyphic_version"])
        parts = m["parts"]
        self.assertEqual(parts["database"]["file"], "glyphic.dump")
        self.assertEqual(stat.S_IMODE(os.stat(os.path.join(BACKUP, "secret.key")).st_mode), 0o600)
        with open(os.path.join(BACKUP, "secret.key")) as a, open(ENV.fcgi.key_file) as b:
            self.assertEqual(a.read(), b.read())
        self.assertEqual(parts["files"]["count"], 1)
        self.assertEqual(parts["files"]["bytes"], len(DATA.file_bytes))
        # the store's layout is kept: files/<org>/<aa>/<sha256>
        digest = hashlib.sha256(DATA.file_bytes).hexdigest()
        with open(os.path.join(BACKUP, "files", DATA.owner.me["org_id"], digest[:2], digest), "rb") as f:
            self.assertEqual(f.read(), DATA.file_bytes)
        with open(os.path.join(BACKUP, "glyphic.dump"), "rb") as f:
            self.assertEqual(f.read(5), b"PGDMP")

    def test_restore_into_a_new_database_serves_what_the_old_one_did(self):
        before = stackdata.snapshot(DATA)
        member_before = stackdata.ok(DATA.member.get("/api/me"))
        conf = fresh_target("restored")
        r = glyphic(conf, "restore", BACKUP)
        self.assertEqual(r.returncode, 0, r.stderr + r.stdout)
        self.assertIn("every part matches manifest.json", r.stdout)
        self.assertIn("schema is up to date", r.stdout)
        self.assertEqual(stat.S_IMODE(os.stat(os.path.join(ENV.base, "restored.key")).st_mode), 0o600)
        self.assertEqual(glyphic(conf, "migrate", "--status").returncode, 0)

        # the stack moves to the restored database, key and files
        for part in (ENV.nginx, ENV.events, ENV.fcgi):
            part.stop()
        ENV.fcgi.settings.update(db_settings("restored"))
        ENV.fcgi.settings["secrets.key_file"] = os.path.join(ENV.base, "restored.key")
        ENV.fcgi.settings["files.dir"] = os.path.join(ENV.base, "restored-files")
        ENV.start_all()
        sql("UPDATE glyphic.users SET name = 'only in the old database'")  # not what we read

        self.assertEqual(DATA.owner.get("/api/me").status, 200)        # the old session cookie
        after = stackdata.snapshot(DATA)
        self.assertEqual(after, before)
        self.assertEqual(stackdata.ok(DATA.member.get("/api/me")), member_before)
        fresh = ENV.client()
        r = fresh.post("/api/auth/login", {"email": DATA.email, "password": stackdata.PASSWORD})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(fresh.get("/api/me").json()["user"]["id"], DATA.owner.me["user"]["id"])

        r = DATA.owner.get(f"/api/files/{DATA.file}/content")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, DATA.file_bytes)

        ex = ENV.start_executor("--workers", "1")
        try:
            stackdata.run_again(DATA)
        finally:
            ENV.stop_executor(ex)
        r = ENV.request("POST", "/hooks/" + DATA.hook_path, body={"n": 8})
        self.assertEqual(r.status, 200, r)
        self.assertIn(r.json(), ({"got": 8}, [{"got": 8}]))

    def test_tampered_dump_is_refused_and_the_database_untouched(self):
        bad = copy_backup("tampered-dump")
        with open(os.path.join(bad, "glyphic.dump"), "r+b") as f:
            f.seek(-10, os.SEEK_END)
            b = f.read(1)
            f.seek(-10, os.SEEK_END)
            f.write(bytes([b[0] ^ 1]))
        conf = fresh_target("tampered_dump")
        r = glyphic(conf, "restore", bad)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("glyphic.dump does not match manifest.json", r.stderr)
        self.assertFalse(has_schema("tampered_dump"))
        self.assertFalse(os.path.exists(os.path.join(ENV.base, "tampered_dump.key")))

    def test_tampered_manifest_and_files_are_refused(self):
        bad = copy_backup("tampered-manifest")
        path = os.path.join(bad, "manifest.json")
        with open(path) as f:
            m = json.load(f)
        m["parts"]["key"]["sha256"] = "0" * 64
        with open(path, "w") as f:
            json.dump(m, f)
        conf = fresh_target("tampered_manifest")
        r = glyphic(conf, "restore", bad)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("secret.key does not match manifest.json", r.stderr)
        self.assertFalse(has_schema("tampered_manifest"))

        # a manifest that points the database part at another (intact) file
        bad = copy_backup("tampered-names")
        path2 = os.path.join(bad, "manifest.json")
        with open(path2) as f:
            m = json.load(f)
        m["parts"]["database"] = dict(m["parts"]["key"], file="secret.key")
        with open(path2, "w") as f:
            json.dump(m, f)
        r = glyphic(conf, "restore", bad)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("the part glyphic.dump is malformed", r.stderr)
        self.assertFalse(has_schema("tampered_manifest"))

        bad = copy_backup("tampered-files")
        for root, _, names in os.walk(os.path.join(bad, "files")):
            for n in names:
                with open(os.path.join(root, n), "ab") as f:
                    f.write(b"x")
        r = glyphic(conf, "restore", bad)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("does not match manifest.json", r.stderr)
        self.assertFalse(has_schema("tampered_manifest"))

        with open(path, "w") as f:
            f.write("{not json")
        r = glyphic(conf, "restore", os.path.dirname(path))
        self.assertEqual(r.returncode, 1)
        self.assertIn("is not JSON", r.stderr)

    def test_restore_into_a_database_with_the_schema_is_refused(self):
        users = sql("SELECT count(*) FROM glyphic.users")
        conf = conf_for("into-old", **{"secrets.key_file": os.path.join(ENV.base, "into-old.key")})
        r = glyphic(conf, "restore", BACKUP)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn(f"already holds a glyphic schema with {users} user(s)", r.stderr)
        self.assertIn("DROP SCHEMA glyphic CASCADE", r.stderr)
        self.assertEqual(sql("SELECT count(*) FROM glyphic.users"), users)

    def test_another_key_at_the_key_path_is_refused(self):
        conf = fresh_target("other_key")
        other = os.path.join(ENV.base, "other_key.key")
        subprocess.run([GLYPHIC, "keygen", other], check=True, capture_output=True)
        with open(other) as f:
            kept = f.read()
        r = glyphic(conf, "restore", BACKUP)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("holds another key than the backup's", r.stderr)
        self.assertIn("--replace-key", r.stderr)
        self.assertFalse(has_schema("other_key"))
        with open(other) as f:
            self.assertEqual(f.read(), kept)
        # told to, it replaces the key and keeps the old one beside it
        r = glyphic(conf, "restore", "--replace-key", "--no-files", BACKUP)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(other + ".before-restore") as f:
            self.assertEqual(f.read(), kept)
        with open(other) as a, open(ENV.fcgi.key_file) as b:
            self.assertEqual(a.read(), b.read())
        self.assertTrue(has_schema("other_key"))

    def test_backup_into_a_non_empty_folder_is_refused(self):
        target = os.path.join(ENV.base, "busy")
        os.makedirs(target)
        with open(os.path.join(target, "keep.txt"), "w") as f:
            f.write("mine")
        r = glyphic(ENV.fcgi.conf, "backup", target)
        self.assertEqual(r.returncode, 1)
        self.assertIn("is not an empty folder", r.stderr)
        self.assertEqual(os.listdir(target), ["keep.txt"])
        self.assertFalse(os.path.exists(target + ".partial"))
        # an empty folder is fine
        empty = os.path.join(ENV.base, "empty")
        os.makedirs(empty)
        r = glyphic(ENV.fcgi.conf, "backup", "--no-files", empty)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(empty, "manifest.json")) as f:
            self.assertNotIn("files", json.load(f)["parts"])

    def test_pg_dump_failing_or_missing_leaves_no_backup(self):
        cases = {
            # the database does not exist: refused before anything is written
            "wrong-db": ({"db.admin_url": ENV.pg.conninfo("postgres", "no_such_db")}, (), "no_such_db"),
            # pg_dump itself fails: it may not connect as this role (ours may)
            "dump-fails": ({}, ("--pg-bin", os.path.join(ENV.base, "fakebin")), "pg_dump failed"),
            "no-pg-dump": ({}, ("--pg-bin", os.path.join(ENV.base, "nobin")), "pg_dump not found"),
        }
        fake = os.path.join(ENV.base, "fakebin")
        os.makedirs(fake, exist_ok=True)
        with open(os.path.join(fake, "pg_dump"), "w") as f:
            # writes half a dump, then fails, as pg_dump does when the disk fills up
            f.write("#!/bin/sh\nfor a; do case $a in --file=*) echo PGDMP-half > \"${a#--file=}\";; esac; done\n"
                    "env | grep -q '^PGHOST=' || exit 3\necho 'pg_dump: error: could not write' >&2\nexit 1\n")
        os.chmod(os.path.join(fake, "pg_dump"), 0o755)
        for name, (changes, args, said) in cases.items():
            with self.subTest(name):
                target = os.path.join(ENV.base, f"fail-{name}")
                r = glyphic(conf_for(name, **changes), "backup", *args, target)
                self.assertEqual(r.returncode, 1, r.stdout)
                self.assertIn(said, r.stderr)
                self.assertFalse(os.path.exists(target))
                self.assertFalse(os.path.exists(target + ".partial"))
        # the connection reached pg_dump through the environment, not argv
        self.assertNotIn("exit status 3", glyphic(ENV.fcgi.conf, "backup", "--pg-bin", fake,
                                                  os.path.join(ENV.base, "fail-env")).stderr)

    def test_a_full_disk_leaves_no_backup(self):
        if not harness.IS_ROOT:
            self.skipTest("mounting a small tmpfs needs root")
        mnt = os.path.join(ENV.base, "small-disk")
        os.makedirs(mnt)
        # room for the dump and the key, not for the stored file after them
        room = os.path.getsize(os.path.join(BACKUP, "glyphic.dump")) + 64 * 1024
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={room}", "tmpfs", mnt], capture_output=True, text=True)
        if r.returncode != 0:
            self.skipTest(f"cannot mount a tmpfs here: {r.stderr.strip()}")
        try:
            target = os.path.join(mnt, "backup")
            r = glyphic(ENV.fcgi.conf, "backup", target)
            self.assertEqual(r.returncode, 1, r.stdout)
            self.assertIn("No space left on device", r.stderr)
            self.assertIn("nothing was written", r.stderr)
            self.assertEqual(os.listdir(mnt), [])
        finally:
            subprocess.run(["umount", mnt], check=True)

    def test_no_password_on_pg_dump_command_line(self):
        # a wrapper records pg_dump's argv and whether PGPASSWORD came, then runs it
        wrap = os.path.join(ENV.base, "wrapbin")
        os.makedirs(wrap)
        seen = os.path.join(ENV.base, "pg_dump.argv")
        real = os.path.join(ENV.pg.bindir, "pg_dump")
        with open(os.path.join(wrap, "pg_dump"), "w") as f:
            f.write(f'#!/bin/sh\necho "$@" > {seen}\necho "PGPASSWORD=$PGPASSWORD" >> {seen}\nexec {real} "$@"\n')
        os.chmod(os.path.join(wrap, "pg_dump"), 0o755)
        password = "pw-" + os.urandom(8).hex()   # trust authentication ignores it
        conf = conf_for("with-password", **{"db.admin_url": ENV.pg.conninfo("postgres") + f" password={password}"})
        target = os.path.join(ENV.base, "with-password")
        r = glyphic(conf, "backup", "--no-files", "--pg-bin", wrap, target)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(seen) as f:
            argv, env = f.read().splitlines()
        self.assertNotIn(password, argv)
        self.assertEqual(env, f"PGPASSWORD={password}")
        self.assertNotIn(password, r.stdout + r.stderr)

    def test_restore_into_a_new_cluster_creates_the_roles(self):
        base = os.path.join(ENV.base, "cluster2")
        os.makedirs(base)
        os.chmod(base, 0o755)
        pg2 = harness.Postgres(base)
        pg2.init()
        pg2.start()
        try:
            pg2.createdb("glyphic")
            self.assertEqual(pg2.psql("SELECT count(*) FROM pg_roles WHERE rolname LIKE 'glyphic_%'"), "0")
            conf = conf_for("cluster2", **{"db.admin_url": pg2.conninfo("postgres"),
                                           "secrets.key_file": os.path.join(base, "secret.key"),
                                           "files.dir": os.path.join(base, "files")})
            r = glyphic(conf, "restore", BACKUP)
            self.assertEqual(r.returncode, 0, r.stderr + r.stdout)
            self.assertEqual(pg2.psql("SELECT string_agg(rolname || ':' || rolbypassrls || rolsuper, ',' "
                                      "ORDER BY rolname) FROM pg_roles WHERE rolname LIKE 'glyphic_%'"),
                             "glyphic_app:falsefalse,glyphic_executor:falsefalse,glyphic_owner:falsefalse")
            self.assertEqual(pg2.psql("SELECT count(*) FROM glyphic.workflows"),
                             sql("SELECT count(*) FROM glyphic.workflows"))
            self.assertEqual(pg2.psql("SELECT tableowner FROM pg_tables WHERE schemaname = 'glyphic' "
                                      "AND tablename = 'workflows'"), "glyphic_owner")
            self.assertEqual(glyphic(conf, "migrate", "--status").returncode, 0)
        finally:
            pg2.stop("immediate")


if __name__ == "__main__":
    unittest.main()
