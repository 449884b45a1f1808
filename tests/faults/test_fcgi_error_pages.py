"""nginx's own error pages under /api/ and /hooks/ are JSON (issue 10, item 6).

Whatever nginx itself answers in front of glyphic-fcgi -- glyphic-fcgi down,
a body over client_max_body_size, a malformed body, a failure inside nginx,
a rate limit -- is {"error": {"code", "message", "request_id"}} with
Content-Type application/json and the server's security headers, like the
API's own errors. glyphic-fcgi down answers 503 `unavailable` with
Retry-After (nothing ran: try again), as tests/integration/test_http.py has
always required; nginx's 502 never reaches a client. The API's own answers,
errors included, pass through untouched (fastcgi_intercept_errors off) --
even a workflow answering 502, 504 or 413 itself. The editor's pages
(location /) stay nginx's.
"""
import json
import os
import re
import socket
import unittest
import uuid

import harness

ENV = None
OWNER = None
HOOK = None  # an active sync (direct) webhook path


def setUpModule():
    global ENV, OWNER, HOOK
    # app limit 64 KiB, nginx limit 256 KiB: both 413s are reachable
    ENV = harness.Env(workers=2, fcgi_extra={"http.max_body": "65536"}, max_body="256k").start_all()
    OWNER = ENV.signup(f"pages-{uuid.uuid4().hex[:8]}@example.com")
    HOOK = f"pages-{uuid.uuid4().hex[:6]}"
    trig = {"id": "hook", "type": "trigger.webhook", "name": "Hook", "params": {"path": HOOK, "mode": "sync"}}
    resp = {"id": "respond", "type": "flow.respond", "name": "Respond",
            "params": {"status": "{{ $json.body.status }}", "body": "{{ { mine: $json.body.status } }}"}}
    r = OWNER.post("/api/workflows", {"name": "pages", "definition": {
        "nodes": [trig, resp], "edges": [{"from": "hook", "to": "respond"}]}})
    assert r.status == 201, r
    r = OWNER.post(f"/api/workflows/{r.json()['id']}/activate")
    assert r.status == 200, r


def tearDownModule():
    ENV.close()


EVENTS = f"/api/executions/{uuid.uuid4()}/events"
# every kind of location in front of glyphic-fcgi
# served by glyphic-fcgi (live progress is glyphic-events': see below)
API_PATHS = [("GET", "/api/health"), ("GET", "/api/workflows"), ("POST", "/api/auth/login"),
             ("POST", "/hooks/" + "x"), ("GET", "/hooks/some/where")]
SECURITY = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"}


def raw(request: bytes):
    """Sends bytes to nginx; returns (status, headers dict, body)."""
    with socket.create_connection(("127.0.0.1", ENV.nginx.port), timeout=10) as s:
        s.sendall(request)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return int(lines[0].split()[1]), headers, body


class ErrorPagesTest(unittest.TestCase):
    def assertNginxJson(self, r, status, code, what=""):
        """A JSON error page: status, type, shape, request id, security headers."""
        self.assertEqual(r.status, status, f"{what}: {r}")
        self.assertTrue((r.header("Content-Type") or "").startswith("application/json"), f"{what}: {r.headers}")
        err = r.json()["error"]
        self.assertEqual(err["code"], code, what)
        self.assertTrue(err["message"], what)
        self.assertRegex(err["request_id"], r"^[0-9a-f]{32}$", what)
        for k, v in SECURITY.items():
            self.assertEqual(r.header(k), v, f"{what}: {k} missing from {r.headers}")
        self.assertIn("frame-ancestors 'none'", r.header("Content-Security-Policy") or "", what)
        return err

    def assertServing(self):
        self.assertEqual(ENV.request("GET", "/api/health").status, 200)

    def test_events_down_is_json_503_with_retry_after(self):
        ENV.events.stop()
        try:
            r = ENV.request("GET", EVENTS)
            err = self.assertNginxJson(r, 503, "unavailable", f"GET {EVENTS}")
            self.assertEqual(r.header("Retry-After"), "1")
            self.assertIn("not answering", err["message"])
            self.assertServing()  # the rest of the API does not need it
        finally:
            ENV.events.start()
        self.assertEqual(ENV.request("GET", EVENTS).status, 401)

    def test_fcgi_down_is_json_503_with_retry_after(self):
        ENV.fcgi.stop()
        try:
            for method, path in API_PATHS:
                body = {} if method == "POST" else None
                r = ENV.request(method, path, body=body)
                err = self.assertNginxJson(r, 503, "unavailable", f"{method} {path}")
                self.assertEqual(r.header("Retry-After"), "1", path)
                self.assertIn("not answering", err["message"])
        finally:
            ENV.fcgi.start()
        self.assertServing()

    def test_body_over_nginx_limit_is_json_413(self):
        big = b"x" * (400 * 1024)
        for _, path in API_PATHS:
            r = ENV.request("POST", path, body=big, headers={"Content-Type": "application/json"})
            if path.startswith("/hooks/"):
                # nginx lets /hooks/ bodies up to files.max_file_bytes through
                # (a call may bring files): glyphic-fcgi refuses a JSON body
                # past http.max_body itself, in the same JSON shape
                self.assertEqual(r.status, 413, f"{path}: {r}")
                err = r.json()["error"]
                self.assertEqual(err["code"], "body_too_large", path)
                self.assertIn("exceeds the limit of", err["message"])
                continue
            err = self.assertNginxJson(r, 413, "body_too_large", path)
            self.assertIn("server limit", err["message"])
        self.assertServing()

    def test_malformed_chunked_body_is_json_400(self):
        for path in ("/api/health", "/hooks/x", "/api/auth/login"):
            status, headers, body = raw(
                f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n{}\r\n0\r\n\r\n".encode())
            self.assertEqual(status, 400, (path, body))
            self.assertTrue(headers["content-type"].startswith("application/json"), headers)
            self.assertEqual(json.loads(body)["error"]["code"], "bad_request", body)
            self.assertEqual(headers.get("x-content-type-options"), "nosniff")
        self.assertServing()

    def test_failure_inside_nginx_is_json_500(self):
        # nginx keeps a body over client_body_buffer_size (16 KiB) in a temp
        # file; with the temp folder gone (a file in its place) it cannot
        temp = os.path.join(ENV.nginx.dir, "run", "nginx-body")
        self.assertTrue(os.path.isdir(temp), temp)
        saved = temp + ".saved"
        os.rename(temp, saved)
        try:
            open(temp, "w").close()
            for path in ("/api/health", "/hooks/x", EVENTS):
                r = ENV.request("POST", path, body=b"x" * (100 * 1024), headers={"Content-Type": "application/json"})
                self.assertNginxJson(r, 500, "internal", path)
        finally:
            os.remove(temp)
            os.rename(saved, temp)
        self.assertServing()

    def test_rate_limit_is_json_429_with_security_headers(self):
        ENV.nginx.stop()
        ENV.nginx.limits = True
        ENV.nginx.start()
        try:
            rs = [ENV.request("POST", "/api/auth/login", body={}) for _ in range(40)]
            limited = [r for r in rs if r.status == 429]
            self.assertTrue(limited, [r.status for r in rs])
            self.assertNginxJson(limited[0], 429, "rate_limited")
            self.assertEqual(limited[0].header("Retry-After"), "1")
        finally:
            ENV.nginx.stop()
            ENV.nginx.limits = False
            ENV.nginx.start()

    def test_api_errors_pass_through_untouched(self):
        # the API's own 404, with its message and its X-Request-Id
        r = ENV.request("GET", "/api/nope")
        self.assertEqual(r.status, 404)
        self.assertIn("no such endpoint", r.json()["error"]["message"])
        self.assertEqual(r.json()["error"]["request_id"], r.header("X-Request-Id"))
        # the API's own 413 (its limit is below nginx's), naming its limit
        r = ENV.request("POST", "/api/health", body=b"x" * (100 * 1024),
                        headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 413, r)
        self.assertIn("65536", r.json()["error"]["message"])
        self.assertEqual(r.json()["error"]["request_id"], r.header("X-Request-Id"))
        # a workflow's own 502, 504, 413, 500 and 400 answers, body and all
        for status in (502, 504, 413, 500, 400, 503):
            r = ENV.request("POST", "/hooks/" + HOOK, body={"status": status})
            self.assertEqual(r.status, status, r)
            self.assertEqual(r.json(), {"mine": status}, r)
            self.assertTrue(r.header("X-Glyphic-Execution"))
        # the API's own 503 while the database is down, not nginx's
        ENV.pg.stop()
        try:
            r = ENV.request("GET", "/api/health")
            self.assertEqual(r.status, 503, r)
            self.assertEqual((r.json()["status"], r.json()["error"]["code"]), ("unavailable", "database_unavailable"))
            r = ENV.request("POST", "/hooks/" + HOOK, body={"status": 200})
            self.assertEqual(r.status, 503, r)
            self.assertEqual(r.json()["error"]["code"], "database_unavailable")
            self.assertEqual(r.json()["error"]["request_id"], r.header("X-Request-Id"))
        finally:
            ENV.pg.start()
        harness.wait_for(lambda: ENV.request("GET", "/api/health").status == 200, what="health back")

    def test_editor_pages_stay_nginx_pages(self):
        r = ENV.request("GET", "/")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.header("Content-Type").startswith("text/html"), r.headers)
        r = ENV.request("POST", "/", body=b"x" * (400 * 1024))
        self.assertEqual(r.status, 413)
        self.assertTrue(r.header("Content-Type").startswith("text/html"), r.headers)
        self.assertIn(b"<html>", r.body)

    def test_rendered_config_keeps_intercept_off(self):
        with open(os.path.join(ENV.nginx.dir, "glyphic-fastcgi.conf")) as f:
            self.assertRegex(f.read(), re.compile(r"^fastcgi_intercept_errors off;$", re.M))


if __name__ == "__main__":
    unittest.main(verbosity=2)
