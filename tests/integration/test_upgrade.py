"""Upgrades (issue 17, item 7): the previous release's programs install
their schema and fill it; this build's `glyphic migrate` upgrades it in
place, and this build's stack serves what the old one did.

The previous release is the tag v0.1.0 (or, where the tag was not fetched,
its commit ac5088e). Its tree is taken out of git (`git archive`) and only
the four programs are built (cmake, -j2, no editor); the build is kept
under the temporary folder, named by the commit, and reused by the next run
(GLYPHIC_UPGRADE_CACHE names another folder). A clone without that commit
(a shallow one) fails here saying so: `git fetch --tags --unshallow`.

With the old programs (glyphic migrate, glyphic-fcgi, glyphic-events,
glyphic-executor): sign-up, log-in (the session cookie is kept), a
workflow with two versions that calls the test server with a credential,
a sync webhook execution, a manual execution run by the executor, one more
left queued, a stored file. Then the old programs stop, the new
`glyphic migrate` runs on the same database, the new stack starts, and:
the old session cookie still authenticates, the old password logs in,
workflows, versions, executions and their steps read the same, the queued
execution runs, a new execution of the old workflow runs (its credential
opens), the file downloads, and `glyphic migrate --status` is clean.

Real PostgreSQL, nginx, and both builds' programs."""
import os
import shutil
import subprocess
import tempfile
import time
import unittest

import harness
import stackdata
from testserver import TestServer

TAG = "v0.1.0"
COMMIT = "ac5088e"
PROGRAMS = {"glyphic-fcgi": "fcgi", "glyphic-events": "events", "glyphic-executor": "executor", "glyphic": "cli"}


def git(*args):
    return subprocess.run(["git", "-C", harness.SRC, *args], capture_output=True, text=True)


def previous_release():
    """The full hash of the previous release's commit; fails when absent."""
    why = ""
    for ref in (TAG, COMMIT):
        r = git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
        if r.returncode == 0:
            return ref, r.stdout.strip()
        why = why or r.stderr.strip()
    raise AssertionError(f"neither the tag {TAG} nor the commit {COMMIT} is in the repository at {harness.SRC} "
                         f"(a shallow clone?{' git says: ' + why if why else ''}): the upgrade test needs the "
                         "previous release; run `git fetch --tags --unshallow`")


def build_previous(ref, commit):
    """Builds the previous release's programs once; returns its build folder."""
    root = os.environ.get("GLYPHIC_UPGRADE_CACHE") or os.path.join(tempfile.gettempdir(), "glyphic-upgrade-cache")
    top = os.path.join(root, commit[:12])
    build = os.path.join(top, "build")
    if all(os.access(os.path.join(build, d, p), os.X_OK) for p, d in PROGRAMS.items()):
        return build, 0.0
    t0 = time.monotonic()
    src = os.path.join(top, "src")
    shutil.rmtree(top, ignore_errors=True)
    os.makedirs(src)
    archive = subprocess.Popen(["git", "-C", harness.SRC, "archive", "--format=tar", commit], stdout=subprocess.PIPE)
    untar = subprocess.run(["tar", "-x", "-C", src], stdin=archive.stdout, capture_output=True, text=True)
    archive.stdout.close()
    if archive.wait() != 0 or untar.returncode != 0:
        raise AssertionError(f"git archive {ref} | tar -x failed: {untar.stderr}")
    steps = [["cmake", "-S", src, "-B", build, "-DCMAKE_BUILD_TYPE=RelWithDebInfo"],
             ["cmake", "--build", build, "-j2", "--target", *PROGRAMS]]
    for argv in steps:
        r = subprocess.run(argv, capture_output=True, text=True)
        if r.returncode != 0:
            raise AssertionError(f"building {ref} failed: {' '.join(argv)}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    return build, time.monotonic() - t0


class UpgradeTest(unittest.TestCase):
    def test_upgrade_keeps_workflows_executions_and_sessions(self):
        ref, commit = previous_release()
        old_build, build_s = build_previous(ref, commit)
        old = subprocess.run([os.path.join(old_build, "cli", "glyphic"), "--version"], capture_output=True, text=True)
        new = subprocess.run([os.path.join(harness.BUILD, "cli", "glyphic"), "--version"], capture_output=True,
                             text=True)
        print(f"\nfrom {ref} ({commit[:9]}, {old.stdout.strip()}) to {new.stdout.strip()}; " +
              ("old build cached" if not build_s else f"old build {build_s:.0f} s"))

        srv = TestServer().start()
        env = harness.Env(workers=2, build=old_build,
                          fcgi_extra={"executor.poll_ms": "200", "log.level": "info", **harness.ALLOW_TEST_SERVER})
        try:
            self.upgrade(env, srv, old_build)
        finally:
            env.close()
            srv.stop()

    def upgrade(self, env, srv, old_build):
        env.start_all()
        r = env.glyphic("version")
        old_schema = int(env.pg.psql("SELECT max(version) FROM glyphic.schema_migrations"))
        data = stackdata.populate(env, srv, queued=True)
        before = stackdata.snapshot(data)
        queued = stackdata.ok(data.owner.get(f"/api/executions/{data.queued}"))
        self.assertEqual(queued["status"], "queued")

        for part in (env.nginx, env.events, env.fcgi):
            part.stop()
        t0 = time.monotonic()
        env.use_build(harness.BUILD)
        r = env.glyphic("migrate")
        print(r.stdout.strip())
        env.start_all()
        up_s = time.monotonic() - t0
        new_schema = int(env.pg.psql("SELECT max(version) FROM glyphic.schema_migrations"))
        print(f"schema {old_schema} -> {new_schema}; migrate and new stack up in {up_s:.1f} s")

        # the old session cookie still authenticates, the old password logs in
        self.assertEqual(data.owner.get("/api/me").status, 200)
        self.assertEqual(data.member.get("/api/me").status, 200)
        fresh = env.client()
        r = fresh.post("/api/auth/login", {"email": data.email, "password": stackdata.PASSWORD})
        self.assertEqual(r.status, 200, r)
        # workflows, versions, executions and their steps read the same
        after = stackdata.snapshot(data)
        self.assertEqual(after, before)

        ex = env.start_executor("--workers", "1")
        try:
            e = stackdata.finished(data.owner, data.queued)
            self.assertEqual(e["status"], "succeeded", e)
            self.assertEqual([s["node_id"] for s in e["steps"]], ["start", "call", "keep"])
            stackdata.run_again(data)
        finally:
            env.stop_executor(ex)
        r = env.request("POST", "/hooks/" + data.hook_path, body={"n": 9})
        self.assertEqual(r.status, 200, r)
        r = data.owner.get(f"/api/files/{data.file}/content")
        self.assertEqual((r.status, r.body), (200, data.file_bytes))

        r = env.glyphic("migrate", "--status", check=False)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertNotIn("pending", r.stdout)
        self.assertNotIn("CHANGED", r.stdout)


if __name__ == "__main__":
    unittest.main()
