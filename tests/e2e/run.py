"""Runs one browser scenario (tests/e2e/SCENARIO.mjs) against a real stack.

    python3 tests/e2e/run.py SCENARIO      (e.g. smoke, or tests/e2e/smoke.mjs)

Starts what tests/integration/harness.py starts (a throwaway PostgreSQL
cluster, glyphic-fcgi, glyphic-events, nginx serving web/dist on a free
port), a glyphic-executor in daemon mode, and the scripted local HTTP server
(tests/integration/testserver.py); then runs `node SCENARIO.mjs` with:

    GLYPHIC_URL          http://127.0.0.1:PORT (nginx: the editor, /api/, /hooks/)
    E2E_OUT              $GLYPHIC_BUILD_DIR/e2e-out/SCENARIO/ (emptied first)
    E2E_TESTSERVER_URL   http://127.0.0.1:PORT of the test server
                         (http.request may call it: http.allow_private)
    E2E_CHROMIUM         /usr/bin/chromium
    GLYPHIC_WEB_DIR      web/ (playwright-core comes from web/node_modules)

The scenario fails the test by exiting non-zero; so does any sanitizer report
in the stack's logs. When the scenario fails, the stack's logs are copied to
E2E_OUT/server/. Exit status: 0 passed, 1 failed, 77 skipped (web/dist holds
no built editor: scripts/build-web). GLYPHIC_KEEP_TEST_DIRS=1 keeps the
stack's folder.
"""
import glob
import os
import shutil
import signal
import subprocess
import sys
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import harness  # noqa: E402
from testserver import TestServer  # noqa: E402

SKIP = 77
WEB = os.path.join(harness.SRC, "web")
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
# the scenario's own limit: below ctest's TIMEOUT (600), so the stack is
# still torn down and the record written when a scenario hangs
SCENARIO_TIMEOUT = int(os.environ.get("E2E_TIMEOUT", "540"))


def built_editor():
    """True if web/dist holds a built editor (not the placeholder page)."""
    try:
        with open(os.path.join(WEB, "dist", "index.html"), errors="replace") as f:
            return '<script type="module"' in f.read()
    except OSError:
        return False


def stop_group(proc, sig=signal.SIGTERM, timeout=30):
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, sig)
            proc.wait(timeout)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()


def main():
    if len(sys.argv) != 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 2
    arg = sys.argv[1]
    script = arg if arg.endswith(".mjs") else os.path.join(HERE, arg + ".mjs")
    script = os.path.abspath(script)
    name = os.path.splitext(os.path.basename(script))[0]
    if not os.path.isfile(script):
        print(f"e2e: no scenario {script}", file=sys.stderr)
        return 2
    if not built_editor():
        print(f"e2e: SKIP {name}: web/dist holds no built editor (run scripts/build-web)")
        return SKIP
    for need, what in ((shutil.which("node"), "node (scripts/install-deps)"),
                       (os.access(CHROMIUM, os.X_OK), f"{CHROMIUM} (scripts/install-deps: chromium)"),
                       (os.path.isdir(os.path.join(WEB, "node_modules", "playwright-core")),
                        "web/node_modules/playwright-core (scripts/build-web, or cd web && npm ci)")):
        if not need:
            print(f"e2e: {name}: missing {what}", file=sys.stderr)
            return 1

    out = os.path.join(harness.BUILD, "e2e-out", name)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)

    srv = TestServer().start()
    env = None
    executor = None
    rc = 1
    try:
        env = harness.Env(workers=3, nginx_limits=False, fcgi_extra={
            "executor.poll_ms": "200", "executor.workers": "2", "log.level": "info",
            **harness.ALLOW_TEST_SERVER})
        env.start_all()
        env.fcgi.write_conf()
        executor = subprocess.Popen(
            [os.path.join(harness.BUILD, "executor", "glyphic-executor"), "-c", env.fcgi.conf, "--daemon"],
            stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(env.base, f"executor-{uuid.uuid4().hex[:6]}.stderr"), "w"),
            start_new_session=True)

        node_env = dict(os.environ,
                        GLYPHIC_URL=f"http://127.0.0.1:{env.nginx.port}",
                        E2E_OUT=out,
                        E2E_TESTSERVER_URL=srv.url,
                        E2E_CHROMIUM=CHROMIUM,
                        GLYPHIC_WEB_DIR=WEB)
        print(f"e2e: {name}: stack at {node_env['GLYPHIC_URL']}, output in {out}", flush=True)
        # its own session: a timeout ends node and the browser it started
        node = subprocess.Popen(["node", script], env=node_env, cwd=HERE, start_new_session=True)
        try:
            rc = node.wait(SCENARIO_TIMEOUT)
        except subprocess.TimeoutExpired:
            print(f"e2e: {name}: still running after {SCENARIO_TIMEOUT} s; stopped", file=sys.stderr)
            stop_group(node, signal.SIGKILL)
            rc = 1
        else:
            stop_group(node, signal.SIGKILL, 5)  # (a browser left behind)
        if executor.poll() is not None:
            print(f"e2e: {name}: glyphic-executor exited ({executor.returncode}) during the scenario",
                  file=sys.stderr)
            rc = rc or 1
        if rc != 0:
            rc = 1
            keep = os.path.join(out, "server")
            os.makedirs(keep, exist_ok=True)
            for path in glob.glob(os.path.join(env.base, "*.log")) + glob.glob(os.path.join(env.base, "*.stderr")) \
                    + glob.glob(os.path.join(env.base, "nginx", "log", "*")):
                shutil.copy(path, keep)
            print(f"e2e: {name}: FAILED; the stack's logs are in {keep}", file=sys.stderr)
    finally:
        if executor is not None:
            stop_group(executor)
        try:
            if env is not None:
                env.close()  # raises on sanitizer reports
        except AssertionError as e:
            print(f"e2e: {name}: {e}", file=sys.stderr)
            rc = 1
        srv.stop()
    return rc


if __name__ == "__main__":
    sys.exit(main())
