"""What an installation accumulates, put in through the API and read back the
same way: for the tests that move an installation (test_backup: backup and
restore; test_upgrade: an older release's programs, then this one's) and
compare what the API answers before and after.

    data = populate(env, srv)            # users, workflows (2 versions), a credential, executions, a file
    before = snapshot(data)              # what the API answers, as plain data
    ...move the installation...
    assert snapshot(data) == before
    run_again(data)                      # a new execution of the old workflow: the credential opens

An executor is env.start_executor(), stopped with env.stop_executor(proc).
"""
import os
import uuid

import harness

PASSWORD = "correct horse battery"


def finished(c, eid, timeout=60):
    def done():
        r = c.get(f"/api/executions/{eid}")
        assert r.status == 200, r
        e = r.json()
        return e if e["status"] in ("succeeded", "failed", "canceled") else None
    return harness.wait_for(done, timeout, f"execution {eid} to finish")


def ok(r, status=200):
    assert r.status == status, r
    return r.json() if r.body[:1] in (b"{", b"[") else r


class Data:
    pass


def populate(env, srv, run_executor=True, queued=False, file=True):
    """Fills env through its API. run_executor: start an executor for the
    manual run (and stop it after); queued: leave one run queued with no
    executor. Returns a Data with the clients and the ids."""
    d = Data()
    d.env, d.srv, d.tag = env, srv, uuid.uuid4().hex[:8]
    d.email = f"owner-{d.tag}@example.com"
    d.owner = env.signup(d.email, password=PASSWORD)
    d.member = env.member_of(d.owner, "editor", password=PASSWORD)
    d.token = f"tok-{uuid.uuid4().hex}"
    d.cred = ok(d.owner.post("/api/credentials", {"name": "api", "type": "http.bearer", "fields": {},
                                                  "secrets": {"token": d.token}}), 201)["id"]
    start = {"id": "start", "type": "trigger.manual", "name": "Start"}
    call = {"id": "call", "type": "http.request", "name": "Call",
            "params": {"url": f"{srv.url}/echo?tag={d.tag}", "credential": "api", "timeout_ms": 10000}}
    v1 = {"nodes": [start, call], "edges": [{"from": "start", "to": "call"}]}
    d.wf = ok(d.owner.post("/api/workflows", {"name": "Calls the API", "definition": v1, "tags": ["api"]}), 201)["id"]
    keep = {"id": "keep", "type": "data.set", "name": "Keep",
            "params": {"mode": "replace", "fields": {"status": "{{ $json.status }}"}}}
    v2 = {"nodes": [start, call, keep], "edges": [{"from": "start", "to": "call"}, {"from": "call", "to": "keep"}]}
    ok(d.owner.put(f"/api/workflows/{d.wf}", {"definition": v2, "base_version": 1, "message": "keep the status"}))

    # a sync webhook of quick nodes: run in the FastCGI worker, no executor
    d.hook_path = f"hook-{d.tag}"
    hook = {"id": "hook", "type": "trigger.webhook", "name": "Hook",
            "params": {"path": d.hook_path, "mode": "sync"}}
    shape = {"id": "shape", "type": "data.set", "name": "Shape",
             "params": {"mode": "replace", "fields": {"got": "{{ $json.body.n }}"}}}
    d.hook_wf = ok(d.owner.post("/api/workflows", {"name": "Hook", "definition": {
        "nodes": [hook, shape], "edges": [{"from": "hook", "to": "shape"}]}}), 201)["id"]
    ok(d.owner.post(f"/api/workflows/{d.hook_wf}/activate"))
    r = env.request("POST", "/hooks/" + d.hook_path, body={"n": 7})
    assert r.status == 200, r
    d.executions = []

    if run_executor:
        ex = env.start_executor("--workers", "1")
        try:
            eid = ok(d.owner.post(f"/api/workflows/{d.wf}/run"), 202)["id"]
            e = finished(d.owner, eid)
            assert e["status"] == "succeeded", e
            d.executions.append(eid)
        finally:
            env.stop_executor(ex)
    if queued:
        d.queued = ok(d.owner.post(f"/api/workflows/{d.wf}/run"), 202)["id"]
    if file:
        d.file_bytes = os.urandom(300_000) + b"end"
        d.file = ok(d.owner.post("/api/files?name=report.bin", body=d.file_bytes,
                                 headers={"Content-Type": "application/octet-stream"}), 201)["id"]
    listed = ok(d.owner.get(f"/api/executions?workflow_id={d.hook_wf}"))
    d.executions += [x["id"] for x in listed["executions"]]
    return d


def snapshot(d, client=None):
    """What the API answers about d's objects: comparable plain data."""
    c = client or d.owner
    out = {"me": ok(c.get("/api/me")), "workflows": {}, "versions": {}, "executions": {}}
    for wid in (d.wf, d.hook_wf):
        out["workflows"][wid] = ok(c.get(f"/api/workflows/{wid}"))
        vs = ok(c.get(f"/api/workflows/{wid}/versions"))
        out["versions"][wid] = [vs] + [ok(c.get(f"/api/workflows/{wid}/versions/{v['version']}"))
                                       for v in vs]
    for eid in d.executions:
        out["executions"][eid] = ok(c.get(f"/api/executions/{eid}"))
    out["credential"] = ok(c.get(f"/api/credentials/{d.cred}"))
    return out


def run_again(d, client=None):
    """A new execution of the old workflow (an executor must run): succeeds,
    and the test server saw the credential's token, so it opened."""
    c = client or d.owner
    eid = ok(c.post(f"/api/workflows/{d.wf}/run"), 202)["id"]
    e = finished(c, eid)
    assert e["status"] == "succeeded", e
    seen = [r for r in d.srv.requests("/echo") if r["query"].get("tag") == d.tag]
    assert seen and seen[-1]["headers"]["authorization"] == f"Bearer {d.token}", seen[-1:]
    return e
