"""Master key rotation (issue 14, item 7): `glyphic rotate-key --new KEYFILE`
re-seals every credential under the new key in batches while the servers
run; killed half-way (SIGKILL) and run again, it finishes, and every row is
wholly under one key at every moment. Also: the programs refuse a missing,
open or malformed key file with a message saying how to fix it, and
`glyphic keygen` never overwrites a key.

Real PostgreSQL, glyphic-fcgi, nginx and an executor; credentials are
sealed from Python (vaultlib) the way core/vault.c seals them."""
import json
import os
import signal
import subprocess
import time
import unittest
import uuid

import harness
import vaultlib
from testserver import TestServer

ENV = SRV = None
GLYPHIC = os.path.join(harness.BUILD, "cli", "glyphic")
EXECUTOR = os.path.join(harness.BUILD, "executor", "glyphic-executor")
FCGI = os.path.join(harness.BUILD, "fcgi", "glyphic-fcgi")
N_CREDS = 400


def setUpModule():
    global ENV, SRV
    SRV = TestServer().start()
    ENV = harness.Env(workers=2, fcgi_extra={"executor.poll_ms": "200", "log.level": "info",
                                             **harness.ALLOW_TEST_SERVER})
    ENV.start_all()


def tearDownModule():
    ENV.close()
    SRV.stop()


def sql(q):
    return ENV.pg.psql(q, user="postgres")


def lit(s):
    return "'" + s.replace("'", "''") + "'"


def insert_many(org, n, key, prefix):
    """n credentials with two secret fields each, 50 rows per INSERT."""
    rows, values = [], {}
    for i in range(n):
        cid = str(uuid.uuid4())
        secret = {"token": f"tok-{prefix}-{i}-{uuid.uuid4().hex}", "value": f"val-{prefix}-{i}"}
        sealed = {k: vaultlib.seal(key, org, cid, k, v) for k, v in secret.items()}
        rows.append(f"({lit(cid)}, {lit(org)}, {lit(f'{prefix}-{i}')}, 'http.bearer', "
                    f"{lit(json.dumps(sealed))}::jsonb, {lit(vaultlib.key_id(key))})")
        values[cid] = secret
    for i in range(0, len(rows), 50):
        sql("INSERT INTO glyphic.credentials (id, org_id, name, type, secrets, key_id) VALUES " +
            ",".join(rows[i:i + 50]))
    return values


def rows():
    out = sql("SELECT id || '|' || org_id || '|' || key_id || '|' || secrets::text FROM glyphic.credentials")
    for line in out.splitlines():
        cid, org, kid, secrets = line.split("|", 3)
        yield cid, org, kid, json.loads(secrets)


def check_all_open(keys, expected):
    """Every row opens, every field under the row's own key, to its value."""
    by_id = {vaultlib.key_id(k): k for k in keys}
    seen = {}
    for cid, org, kid, secrets in rows():
        if cid not in expected:
            continue
        key = by_id[kid]
        for field, text in secrets.items():
            plain = vaultlib.open_sealed(key, org, cid, field, text)
            assert plain == expected[cid][field], f"{cid}.{field} under {kid} does not open to its value"
        seen[cid] = kid
    assert set(seen) == set(expected), "rows went missing"
    return seen


class RotateKeyTest(unittest.TestCase):
    def test_rotation_killed_half_way_resumes_and_servers_keep_working(self):
        c = ENV.signup(f"rot-{uuid.uuid4().hex[:8]}@example.com")
        org = c.me["org_id"]
        old_key = vaultlib.read_key(ENV.fcgi.key_file)
        expected = insert_many(org, N_CREDS, old_key, "r")

        new_path = os.path.join(ENV.base, "secret-2.key")
        r = ENV.glyphic("keygen", new_path)
        self.assertIn("mode 0600", r.stdout)
        new_key = vaultlib.read_key(new_path)
        new_id = vaultlib.key_id(new_key)

        # refused while the configuration does not name the new key
        r = ENV.glyphic("rotate-key", "--new", new_path, check=False)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("secrets.key_file", r.stderr)
        self.assertEqual(sql(f"SELECT count(*) FROM glyphic.credentials WHERE key_id = {lit(new_id)}"), "0")

        # step 2 of the procedure: seal under the new key, open under both; reload
        ENV.fcgi.write_conf(**{"secrets.key_file": new_path, "secrets.old_key_files": ENV.fcgi.key_file})
        os.kill(ENV.fcgi.proc.pid, signal.SIGHUP)
        with open(os.path.join(ENV.base, "executor-rot.stderr"), "w") as err:
            ex = subprocess.Popen([EXECUTOR, "-c", ENV.fcgi.conf, "--daemon"], stdout=subprocess.DEVNULL, stderr=err)
        try:
            # an async workflow using one of the credentials keeps being served
            # and run throughout: the executor opens it under either key
            path = f"rot-{uuid.uuid4().hex[:8]}"
            d = {"nodes": [{"id": "hook", "type": "trigger.webhook", "name": "Hook",
                            "params": {"path": path, "mode": "async"}},
                           {"id": "call", "type": "http.request", "name": "Call",
                            "params": {"url": SRV.url + "/echo", "credential": "r-0"}}],
                 "edges": [{"from": "hook", "to": "call"}]}
            wr = c.post("/api/workflows", {"name": "Rot", "definition": d})
            self.assertEqual(wr.status, 201, wr)
            self.assertEqual(c.post(f"/api/workflows/{wr.json()['id']}/activate").status, 200)

            proc = subprocess.Popen([GLYPHIC, "-c", ENV.fcgi.conf, "rotate-key", "--new", new_path,
                                     "--batch", "10", "--sleep-ms", "50"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            accepted = 0
            deadline = time.time() + 60
            while time.time() < deadline:
                r = ENV.request("POST", f"/hooks/{path}", {"n": accepted})
                self.assertEqual(r.status, 202, r)
                accepted += 1
                done = int(sql(f"SELECT count(*) FROM glyphic.credentials WHERE key_id = {lit(new_id)} "
                               f"AND org_id = {lit(org)}"))
                if done >= N_CREDS // 3:
                    break
                time.sleep(0.05)
            proc.send_signal(signal.SIGKILL)
            proc.communicate()
            done = int(sql(f"SELECT count(*) FROM glyphic.credentials WHERE key_id = {lit(new_id)} "
                           f"AND org_id = {lit(org)}"))
            self.assertGreater(done, 0)
            self.assertLess(done, N_CREDS, "killed too late to show anything")
            # half-way: each row wholly under one key, and it opens there
            kids = check_all_open([old_key, new_key], expected)
            self.assertEqual({k for k in kids.values()}, {vaultlib.key_id(old_key), new_id})

            # run again: it goes on and reports nothing left
            r = ENV.glyphic("rotate-key", "--new", new_path, "--batch", "50")
            self.assertIn(f"{N_CREDS - done} of", r.stdout)
            self.assertIn("0 credential(s) not under key", r.stdout)
            kids = check_all_open([new_key], expected)
            self.assertEqual(set(kids.values()), {new_id})
            # nothing opens under the old key any more
            cid, org_, kid, secrets = next(rows())
            self.assertIsNone(vaultlib.open_sealed(old_key, org_, cid, "token", secrets["token"]))

            # the executions accepted during the rotation all ran
            harness.wait_for(lambda: sql(
                f"SELECT count(*) FROM glyphic.executions WHERE org_id = {lit(org)} AND status = 'succeeded'")
                == str(accepted), timeout=60, what="executions during the rotation")
            auths = {r["headers"].get("authorization") or r["headers"].get("Authorization")
                     for r in SRV.requests("/echo")}
            token = next(v["token"] for k, v in expected.items() if sql(
                f"SELECT name FROM glyphic.credentials WHERE id = {lit(k)}") == "r-0")
            self.assertEqual(auths, {f"Bearer {token}"})
            # a third run has nothing to do
            r = ENV.glyphic("rotate-key", "--new", new_path)
            self.assertIn("0 of", r.stdout)
        finally:
            ex.send_signal(signal.SIGTERM)
            ex.wait(timeout=30)

    def test_a_row_that_does_not_open_is_reported_not_lost(self):
        c = ENV.signup(f"rot-{uuid.uuid4().hex[:8]}@example.com")
        org = c.me["org_id"]
        key_path = ENV.fcgi.settings["secrets.key_file"]
        key = vaultlib.read_key(key_path)
        good = vaultlib.insert_credential(ENV, org, "good", "http.bearer", {}, {"token": "good-secret"},
                                          key_path=key_path)
        other = vaultlib.insert_credential(ENV, org, "other", "http.bearer", {}, {"token": "other-secret"},
                                           key_path=key_path)
        # the ciphertext of `good` copied into `other`: bound to another row, it does not open
        sql(f"UPDATE glyphic.credentials SET secrets = (SELECT secrets FROM glyphic.credentials WHERE id = "
            f"{lit(good)}) WHERE id = {lit(other)}")
        newer = os.path.join(ENV.base, f"secret-{uuid.uuid4().hex[:6]}.key")
        ENV.glyphic("keygen", newer)
        old_files = ",".join(p for p in (ENV.fcgi.settings.get("secrets.old_key_files"), key_path) if p)
        saved = {k: ENV.fcgi.settings.get(k, "") for k in ("secrets.key_file", "secrets.old_key_files")}
        ENV.fcgi.write_conf(**{"secrets.key_file": newer, "secrets.old_key_files": old_files})
        try:
            r = ENV.glyphic("rotate-key", "--new", newer, check=False)
        finally:
            # the rows of this case leave, and the configuration is as it was
            sql(f"DELETE FROM glyphic.credentials WHERE org_id = {lit(org)}")
            ENV.fcgi.write_conf(**saved)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn(other, r.stderr)
        self.assertIn("does not open", r.stderr)
        self.assertNotIn("good-secret", r.stdout + r.stderr)
        self.assertNotIn("other-secret", r.stdout + r.stderr)
        new_id = vaultlib.key_id(vaultlib.read_key(newer))
        self.assertIn(f"re-sealed 1 of 2", r.stdout)
        self.assertIn(f"1 credential(s) not under key {new_id}", r.stdout)


class KeyFileTest(unittest.TestCase):
    def start_fcgi(self, key_file):
        conf = os.path.join(ENV.base, f"bad-{uuid.uuid4().hex[:6]}.conf")
        with open(conf, "w") as f:
            for k, v in ENV.fcgi.settings.items():
                if k == "secrets.key_file":
                    v = key_file
                elif k in ("fcgi.socket", "fcgi.hooks_socket") and v:
                    v = v + ".bad"
                f.write(f'{k} = "{v}"\n')
        out = []
        for prog in (FCGI, EXECUTOR):
            args = [prog, "-c", conf] + (["--drain"] if prog == EXECUTOR else [])
            r = subprocess.run(args, capture_output=True, text=True, timeout=30)
            out.append(r)
        return out

    def test_programs_refuse_a_bad_key_file_and_say_how_to_fix_it(self):
        missing = os.path.join(ENV.base, "nope.key")
        for r in self.start_fcgi(missing):
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("glyphic keygen", r.stderr)
        loose = os.path.join(ENV.base, "loose.key")
        ENV.glyphic("keygen", loose)
        os.chmod(loose, 0o644)
        for r in self.start_fcgi(loose):
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("chmod 600", r.stderr)
        short = os.path.join(ENV.base, "short.key")
        with open(short, "w") as f:
            f.write("abcd\n")
        os.chmod(short, 0o600)
        for r in self.start_fcgi(short):
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("64 hexadecimal digits", r.stderr)

    def test_keygen_never_overwrites(self):
        path = os.path.join(ENV.base, "once.key")
        ENV.glyphic("keygen", path)
        with open(path) as f:
            before = f.read()
        r = ENV.glyphic("keygen", path, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("never overwritten", r.stderr)
        with open(path) as f:
            self.assertEqual(f.read(), before)
        r = ENV.glyphic("keygen", check=False)
        self.assertEqual(r.returncode, 2)


if __name__ == "__main__":
    unittest.main()
