"""HTTP behaviour through nginx: health, version, routing errors, body limits.

Every error is JSON {"error": {"code", "message", ...}} with the right
status, and the server keeps serving after each bad input.
"""
import glob
import http.client
import json
import os
import re
import socket
import subprocess
import unittest

import harness

ENV = None


def setUpModule():
    global ENV
    # app limit 64 KiB, nginx limit 256 KiB: both 413 paths are reachable
    ENV = harness.Env(workers=2, fcgi_extra={"http.max_body": "65536", "http.max_json_depth": "16"},
                      max_body="256k", nginx_limits=True).start_all()


def tearDownModule():
    ENV.close()


class HttpTest(unittest.TestCase):
    def assertError(self, r, status, code):
        self.assertEqual(r.status, status, r)
        self.assertTrue(r.header("Content-Type").startswith("application/json"), r.headers)
        err = r.json()["error"]
        self.assertEqual(err["code"], code, r)
        self.assertTrue(err["message"], r)
        return err

    def assertStillServing(self):
        r = ENV.request("GET", "/api/health")
        self.assertEqual(r.status, 200, r)

    def test_health_through_nginx(self):
        r = ENV.request("GET", "/api/health")
        self.assertEqual(r.status, 200, r)
        body = r.json()
        self.assertEqual(body["status"], "ok")
        self.assertEqual(body["database"], "ok")
        self.assertEqual(body["schema_version"], body["schema_expected"])
        self.assertGreaterEqual(body["schema_version"], 1)
        self.assertEqual(r.header("Cache-Control"), "no-store")
        self.assertEqual(r.header("X-Content-Type-Options"), "nosniff")
        self.assertRegex(r.header("X-Request-Id") or "", r"^[0-9a-f]{32}$")

    def test_head_is_get_without_body(self):
        r = ENV.request("HEAD", "/api/health")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"")

    def test_version(self):
        r = ENV.request("GET", "/api/version")
        self.assertEqual(r.status, 200, r)
        body = r.json()
        self.assertEqual(body["name"], "glyphic")
        self.assertRegex(body["version"], r"^\d+\.\d+\.\d+$")

    def test_static_index(self):
        r = ENV.request("GET", "/")
        self.assertEqual(r.status, 200)
        self.assertIn(b"Glyphic", r.body)
        # the editor is a single-page app: unknown non-API paths serve it too
        self.assertEqual(ENV.request("GET", "/workflows/123").status, 200)

    def test_unknown_route_404(self):
        for path in ("/api/nope", "/api/health/extra", "/api/", "/api/HEALTH", "/hooks/x"):
            err = self.assertError(ENV.request("GET", path), 404, "not_found")
            self.assertRegex(err["request_id"], r"^[0-9a-f]{32}$")
        self.assertStillServing()

    def test_wrong_method_405_with_allow(self):
        for method in ("POST", "PUT", "DELETE", "PATCH"):
            r = ENV.request(method, "/api/health")
            self.assertError(r, 405, "method_not_allowed")
            self.assertEqual(r.header("Allow"), "GET, HEAD")
        self.assertStillServing()

    def test_error_request_id_matches_header(self):
        r = ENV.request("GET", "/api/nope")
        self.assertEqual(r.json()["error"]["request_id"], r.header("X-Request-Id"))

    def test_body_over_app_limit_413(self):
        body = json.dumps({"x": "a" * 70000})
        err = self.assertError(ENV.request("POST", "/api/health", body=body,
                                           headers={"Content-Type": "application/json"}),
                               413, "body_too_large")
        self.assertIn("65536", err["message"])
        self.assertStillServing()

    def test_refused_body_larger_than_the_socket_buffer(self):
        """A body nginx takes (under 256k) but the app refuses unread (over
        its 64 KiB): more than a unix socket holds, so nginx is still
        sending it when the answer is written. The worker's close reads
        what is left (libfcgi: shut down, then read until nginx closes), so
        every caller gets the 413; closing with it unread leaves nginx
        stuck or failing (checked: the calls time out)."""
        body = json.dumps({"x": "a" * (250 * 1024)})
        for _ in range(10):
            self.assertError(ENV.request("POST", "/api/health", body=body,
                                         headers={"Content-Type": "application/json"}),
                             413, "body_too_large")
        self.assertStillServing()

    def test_bodies_left_unread_around_the_close_at_once_limit(self):
        """A worker closes the connection at once when it has read what
        nginx sent to its end (reading up to 64 KiB the handler left), and
        otherwise lets libfcgi's lingering close read the rest. Bodies the
        handler refuses unread (415 before reading, 413 over the app's
        limit), on both sides of that 64 KiB: every answer arrives whole,
        and nginx logs no failure of the upstream connection. Closing with
        a body unread fails this: checked by skipping the read."""
        log = os.path.join(ENV.nginx.dir, "log", "nginx-error.log")
        start = os.path.getsize(log) if os.path.exists(log) else 0
        for size in (1, 4096, 60 * 1024, 64 * 1024 - 1, 64 * 1024 + 1, 120 * 1024, 250 * 1024):
            for ctype in ("text/plain", "application/json"):
                body = "x" * size if ctype == "text/plain" else json.dumps({"x": "a" * (size - 9)})
                # over the app's limit: 413 unread; else text is refused
                # unread (415), JSON is read, then refused by the route (405)
                status, code = ((413, "body_too_large") if len(body) > 65536 else
                                (415, "unsupported_media_type") if ctype == "text/plain" else
                                (405, "method_not_allowed"))
                for _ in range(3):
                    with self.subTest(size=len(body), ctype=ctype):
                        self.assertError(ENV.request("POST", "/api/version", body=body,
                                                     headers={"Content-Type": ctype}), status, code)
        self.assertStillServing()
        with open(log, errors="replace") as f:
            f.seek(start)
            failures = [line for line in f if "upstream" in line or "reset" in line]
        self.assertEqual(failures, [])

    def test_body_over_nginx_limit_413_is_json(self):
        body = "x" * (400 * 1024)
        self.assertError(ENV.request("POST", "/api/health", body=body,
                                     headers={"Content-Type": "application/json"}),
                         413, "body_too_large")
        self.assertStillServing()

    def test_malformed_json_400(self):
        cases = ['{bad', '{"a":1,}', "{'a':1}", '[1,2', '{"a":1} trailing', '"unterminated',
                 '{"a":nul}', '   ', '{"a":1}{"b":2}', '\ufeff{}', 'NaN', '[Infinity]', '1.',
                 '01', '{"a":"tab\there"}', '["\\ud800"]', '["\\u0000"]', '[1,]', '// c\n{}']
        for text in cases:
            with self.subTest(text=text):
                err = self.assertError(ENV.request("POST", "/api/health", body=text.encode(),
                                                   headers={"Content-Type": "application/json"}),
                                       400, "invalid_json")
                self.assertEqual(err["field"], "body")
        self.assertStillServing()

    def test_invalid_utf8_400(self):
        self.assertError(ENV.request("POST", "/api/health", body=b'{"a":"\xff\xfe"}',
                                     headers={"Content-Type": "application/json"}),
                         400, "invalid_json")
        self.assertError(ENV.request("POST", "/api/health", body=b'{"a":"x\x00y"}',
                                     headers={"Content-Type": "application/json"}),
                         400, "invalid_json")

    def test_deep_json_400(self):
        for text in ("[" * 17 + "]" * 17, '{"a":' * 40 + "1" + "}" * 40, "[" * 60000):
            self.assertError(ENV.request("POST", "/api/health", body=text,
                                         headers={"Content-Type": "application/json"}),
                             400, "json_too_deep")
        self.assertStillServing()

    def test_json_at_depth_limit_is_accepted(self):
        # a well-formed body at the limit passes the body checks and reaches
        # routing, which answers 405 for POST /api/health
        r = ENV.request("POST", "/api/health", body="[" * 16 + "]" * 16,
                        headers={"Content-Type": "application/json"})
        self.assertError(r, 405, "method_not_allowed")

    def test_non_json_body_415(self):
        self.assertError(ENV.request("POST", "/api/health", body="a=b",
                                     headers={"Content-Type": "application/x-www-form-urlencoded"}),
                         415, "unsupported_media_type")
        self.assertError(ENV.request("POST", "/api/health", body="{}"), 415,
                         "unsupported_media_type")

    def test_json_content_type_variants(self):
        for ct in ("application/json; charset=utf-8", "APPLICATION/JSON", "application/merge-patch+json"):
            r = ENV.request("POST", "/api/health", body="{}", headers={"Content-Type": ct})
            self.assertError(r, 405, "method_not_allowed")

    def test_auth_rate_limit_429_json(self):
        statuses = [ENV.request("POST", "/api/auth/login", body={}) for _ in range(40)]
        limited = [r for r in statuses if r.status == 429]
        self.assertTrue(limited, [r.status for r in statuses])
        self.assertError(limited[0], 429, "rate_limited")
        self.assertEqual(limited[0].header("Retry-After"), "1")
        # the API outside /api/auth/ is not limited by that zone
        self.assertStillServing()

    def test_fcgi_down_gives_json_503(self):
        ENV.fcgi.stop()
        try:
            self.assertError(ENV.request("GET", "/api/health"), 503, "unavailable")
        finally:
            ENV.fcgi.start()
        self.assertStillServing()

    def test_snippets_for_an_existing_server_pass_nginx_t(self):
        out = os.path.join(ENV.base, "snippets")
        subprocess.run([os.path.join(harness.SRC, "scripts", "render-nginx"), "--snippets", "--out", out,
                        "--socket", "/run/glyphic/fcgi.sock", "--events", "/run/glyphic/events.sock"],
                       check=True)
        self.assertEqual(sorted(os.listdir(out)), ["glyphic-errors.conf", "glyphic-events-proxy.conf",
                                                   "glyphic-fastcgi-params.conf", "glyphic-fastcgi.conf",
                                                   "glyphic-files.conf",
                                                   "glyphic-hooks.conf", "glyphic-http.conf", "glyphic-server.conf"])
        conf = os.path.join(out, "test.conf")
        with open(conf, "w") as f:
            f.write(f"pid {out}/nginx.pid;\nerror_log {out}/error.log;\nevents {{}}\n"
                    f"http {{ include {out}/glyphic-http.conf;\n"
                    f"  server {{ listen 127.0.0.1:{harness.free_port()}; include {out}/glyphic-server.conf; }} }}\n")
        r = subprocess.run(["nginx", "-t", "-p", out, "-c", conf], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_snippets_for_a_webhooks_host_pass_nginx_t(self):
        # the recommended setup: webhooks on a host name of their own, the
        # app's server block without /hooks/, the two server blocks side by side
        out = os.path.join(ENV.base, "snippets-hooks")
        subprocess.run([os.path.join(harness.SRC, "scripts", "render-nginx"), "--snippets", "--out", out,
                        "--socket", "/run/glyphic/fcgi.sock", "--events", "/run/glyphic/events.sock",
                        "--hooks-host", "hooks.example.com"], check=True)
        self.assertIn("glyphic-hooks-server.conf", os.listdir(out))
        with open(os.path.join(out, "glyphic-server.conf")) as f:
            app = f.read()
        # nothing of the app's server block reaches the webhooks' upstream
        self.assertNotIn("glyphic-hooks.conf", app)
        self.assertNotIn("glyphic_hooks", app)
        self.assertNotIn("glyphic-events-proxy.conf;\n    proxy_pass_request_body", app)
        port = harness.free_port()
        conf = os.path.join(out, "test.conf")
        with open(conf, "w") as f:
            f.write(f"pid {out}/nginx.pid;\nerror_log {out}/error.log;\nevents {{}}\n"
                    f"http {{ include {out}/glyphic-http.conf;\n"
                    f"  server {{ listen 127.0.0.1:{port}; server_name app.example.com;"
                    f" include {out}/glyphic-server.conf; }}\n"
                    f"  server {{ listen 127.0.0.1:{port}; server_name hooks.example.com;"
                    f" include {out}/glyphic-hooks-server.conf; }} }}\n")
        r = subprocess.run(["nginx", "-t", "-p", out, "-c", conf], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        # rendered again without --hooks-host: one server block for both again
        subprocess.run([os.path.join(harness.SRC, "scripts", "render-nginx"), "--snippets", "--out", out,
                        "--socket", "/run/glyphic/fcgi.sock", "--events", "/run/glyphic/events.sock"],
                       check=True)
        self.assertNotIn("glyphic-hooks-server.conf", os.listdir(out))

    def test_webhooks_on_a_host_name_of_their_own(self):
        """nginx rendered with --hooks-host: a webhook answers on the hooks
        host (directly, and through glyphic-events' internal wait location)
        and is 404 on the app's host, where the API and the editor stay; the
        hooks host serves nothing else."""
        c = ENV.signup(f"hookhost-{os.urandom(4).hex()}@example.com")
        path = f"hh-{os.urandom(4).hex()}"
        trig = {"id": "hook", "type": "trigger.webhook", "name": "Hook", "params": {"path": path, "mode": "sync"}}
        resp = {"id": "respond", "type": "flow.respond", "name": "Respond",
                "params": {"status": 201, "body": {"sum": "{{ $json.body.a + $json.body.b }}"}}}
        # queued (a wait node): glyphic-fcgi hands it to /_glyphic/wait/; no
        # executor runs here, so glyphic-events answers its 504 at the timeout
        qpath = f"hq-{os.urandom(4).hex()}"
        qtrig = {"id": "hook", "type": "trigger.webhook", "name": "Hook",
                 "params": {"path": qpath, "mode": "sync", "timeout_ms": 300}}
        wait = {"id": "wait", "type": "flow.wait", "name": "Wait", "params": {"seconds": 3600}}
        # a file answer: nginx sends it from the internal files location,
        # which the hooks host has too
        fpath = f"hf-{os.urandom(4).hex()}"
        ftrig = {"id": "hook", "type": "trigger.webhook", "name": "Hook", "params": {"path": fpath, "mode": "sync"}}
        fresp = {"id": "respond", "type": "flow.respond", "name": "Respond", "params": {"respond_with": "binary"}}
        for nodes, edges in (([trig, resp], [{"from": "hook", "to": "respond"}]),
                             ([qtrig, wait], [{"from": "hook", "to": "wait"}]),
                             ([ftrig, fresp], [{"from": "hook", "to": "respond"}])):
            r = c.post("/api/workflows", {"name": "Flow", "definition": {"nodes": nodes, "edges": edges}})
            self.assertEqual(r.status, 201, r)
            r = c.post(f"/api/workflows/{r.json()['id']}/activate")
            self.assertEqual(r.status, 200, r)
        self.assertEqual(ENV.request("POST", "/hooks/" + path, body={"a": 2, "b": 3}).status, 201)

        split = harness.Nginx(os.path.join(ENV.base, "split"), ENV.fcgi.socket,
                              events_path=ENV.events.socket, hooks_path=ENV.fcgi.hooks_socket,
                              settings=ENV.fcgi.settings)
        os.makedirs(split.dir, exist_ok=True)
        split.start(("--hooks-host", "hooks.glyphic.test"))
        try:
            def req(host, method, url, body=None, content_type=None):
                conn = http.client.HTTPConnection("127.0.0.1", split.port, timeout=30)
                try:
                    hdrs = {"Host": host}
                    if content_type:
                        hdrs["Content-Type"] = content_type
                    elif body is not None:
                        body = json.dumps(body).encode()
                        hdrs["Content-Type"] = "application/json"
                    conn.request(method, url, body=body, headers=hdrs)
                    r = conn.getresponse()
                    return harness.Response(r.status, r.getheaders(), r.read())
                finally:
                    conn.close()

            app, hooks = "app.glyphic.test", "hooks.glyphic.test"
            r = req(hooks, "POST", "/hooks/" + path, {"a": 2, "b": 3})
            self.assertEqual(r.status, 201, r)
            self.assertEqual(r.json(), {"sum": 5})
            self.assertEqual(r.header("Content-Security-Policy").count("sandbox"), 1, r.headers)
            # a webhook that brings files takes bodies past --max-body (2m)
            # here too: up to --max-file-body (files.max_file_bytes)
            upload = (b'--b\r\nContent-Disposition: form-data; name="f"; filename="f.bin"\r\n\r\n' +
                      os.urandom(3 << 20) + b"\r\n--b--\r\n")
            r = req(hooks, "POST", "/hooks/" + path, upload, "multipart/form-data; boundary=b")
            self.assertEqual(r.status, 201, r)
            blob = os.urandom(1 << 20)
            r = req(hooks, "POST", "/hooks/" + fpath, blob, "image/png")
            self.assertEqual((r.status, r.header("Content-Type")), (200, "image/png"), r)
            self.assertTrue(r.body == blob, "the file answer's bytes differ")
            self.assertEqual(r.header("Content-Security-Policy"), "sandbox; default-src 'none'")
            r = req(hooks, "POST", "/hooks/" + qpath, {"n": 1})
            self.assertEqual(r.status, 504, r)
            self.assertEqual(r.json()["error"]["code"], "timeout")
            self.assertTrue(r.header("X-Glyphic-Execution"), r.headers)
            # the app's origin serves no workflow's answer: a JSON 404 (not
            # the editor's index.html fallback either)
            for p in (path, qpath):
                r = req(app, "POST", "/hooks/" + p, {"a": 2, "b": 3})
                self.assertError(r, 404, "not_found")
                self.assertIsNone(r.header("X-Glyphic-Execution"), r.headers)
            self.assertError(req(app, "GET", "/hooks/" + path), 404, "not_found")
            self.assertError(req(app, "GET", "/hooks/x.html"), 404, "not_found")
            r = req(app, "GET", "/api/health")
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json()["status"], "ok")
            self.assertEqual(req(app, "GET", "/").status, 200)
            # the hooks host serves neither the API nor the editor
            for url in ("/api/health", "/", "/index.html"):
                r = req(hooks, "GET", url)
                self.assertError(r, 404, "not_found")
            # the internal wait location stays internal on both hosts
            for host in (app, hooks):
                self.assertEqual(req(host, "GET", "/_glyphic/wait/x").status, 404)
                self.assertEqual(req(host, "GET", "/_glyphic/files/x").status, 404)
        finally:
            split.stop()

    def test_openapi_documents_every_route(self):
        r = ENV.request("GET", "/api/openapi.json")
        self.assertEqual(r.status, 200)
        doc = r.json()
        self.assertTrue(doc["openapi"].startswith("3."))
        # every route registered in fcgi/*.c is described, with its method
        routes = set()
        for name in glob.glob(os.path.join(harness.SRC, "fcgi", "*.c")):
            with open(name) as f:
                for method, pattern in re.findall(r'\{\s*"(GET|POST|PUT|PATCH|DELETE)",\s*"(/[^"]*)"', f.read()):
                    routes.add((method.lower(), re.sub(r":(\w+)", r"{\1}", pattern)))
        self.assertIn(("get", "/api/health"), routes)
        for method, path in sorted(routes):
            self.assertIn(path, doc["paths"], f"{path} is not in openapi.json")
            self.assertIn(method, doc["paths"][path], f"{method.upper()} {path} is not in openapi.json")

    def test_garbage_on_the_fastcgi_socket(self):
        # a hostile local client bypassing nginx: the worker drops it and serves on
        for junk in (b"\x00" * 64, os.urandom(4096), b"GET / HTTP/1.1\r\n\r\n",
                     b"\x01\x01\x00\x01\x00\x08\x00\x00" + b"\x00\x01\x00\x00\x00\x00\x00\x00"
                     + b"\x01\x04\x00\x01\xff\xff\x00\x00" + b"\x7f" * 100):
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(2)
                s.connect(ENV.fcgi.socket)
                s.sendall(junk)
                s.shutdown(socket.SHUT_WR)
                try:
                    while s.recv(4096):
                        pass
                except socket.timeout:
                    pass
            self.assertStillServing()
        self.assertEqual(len(ENV.fcgi.workers()), ENV.fcgi.total())


if __name__ == "__main__":
    unittest.main(verbosity=2)
