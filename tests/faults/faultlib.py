"""Shared pieces of the executor fault tests: an environment with short
leases, executors started in their own process groups, workflows and the
counting test server."""
import os
import signal
import subprocess
import time
import uuid

import harness

EXECUTOR = os.path.join(harness.BUILD, "executor", "glyphic-executor")

# short leases and maintenance so faults show within seconds
FAST = {"executor.lease": "3", "executor.poll_ms": "200", "executor.maintenance_interval": "1",
        "executor.test_kinds": "true", "log.level": "info"}


def env(workers=2, **settings):
    e = harness.Env(workers=workers, fcgi_extra={**FAST, **settings})
    e.pg.psql("CREATE TABLE public.glyphic_test_runs (job_id bigint, attempt int, owner text, "
              "started_us bigint, sent_us bigint); "
              "GRANT INSERT, SELECT ON public.glyphic_test_runs TO glyphic_executor")
    e.start_all()
    e.fcgi.write_conf()  # once: an executor starting meanwhile must not read half a file
    return e


def start(e, *args, mode="--daemon"):
    log = open(os.path.join(e.base, f"executor-{uuid.uuid4().hex[:6]}.stderr"), "w")
    try:
        return subprocess.Popen([EXECUTOR, "-c", e.fcgi.conf, mode, *args], stdout=subprocess.DEVNULL, stderr=log,
                                start_new_session=True)
    finally:
        log.close()


def stop(p, sig=signal.SIGTERM):
    if p.poll() is None:
        os.killpg(p.pid, sig)
        p.wait(60)


def sql(e, q, user="postgres"):
    return e.pg.psql(q, user=user)


def wait_for(fn, timeout=60, what="condition", every=0.1):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = fn()
        if v:
            return v
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


def user(e, prefix="f"):
    return e.signup(f"{prefix}-{uuid.uuid4().hex[:8]}@example.com")


def create(c, nodes, edges, active=True, name="Flow"):
    r = c.post("/api/workflows", {"name": name, "definition": {"nodes": nodes, "edges": edges}})
    assert r.status == 201, r
    wid = r.json()["id"]
    if active:
        r = c.post(f"/api/workflows/{wid}/activate")
        assert r.status == 200, r
    return wid


def chain(*nodes):
    return [{"from": a["id"], "to": b["id"]} for a, b in zip(nodes, nodes[1:])]


def hook_node(path, mode="async"):
    return {"id": "hook", "type": "trigger.webhook", "name": "Hook", "params": {"path": path, "mode": mode}}


def http_node(nid, url):
    return {"id": nid, "type": "http.request", "name": nid.title(), "params": {"url": url, "timeout_ms": 30000}}


def statuses(e, wid):
    out = sql(e, f"SELECT status, count(*) FROM glyphic.executions WHERE workflow_id = '{wid}' GROUP BY 1")
    return {k: int(v) for k, v in (line.split("|") for line in out.splitlines() if line)}


def all_finished(e, wid, n):
    s = statuses(e, wid)
    return sum(v for k, v in s.items() if k in ("succeeded", "failed", "canceled")) == n and s


def log_text(e):
    with open(e.fcgi.log, errors="replace") as f:
        return f.read()
