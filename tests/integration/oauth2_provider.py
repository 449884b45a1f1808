"""A local OAuth2 provider for tests (authorization code with PKCE, refresh
tokens, client credentials) and a resource protected by its tokens.

    p = OAuth2Provider(client_id="cid", client_secret="csecret").start()
    p.url                                  # "http://127.0.0.1:PORT"
    p.authorize_url, p.token_url, p.resource_url
    p.set(expires_in=1, fail_refresh=False, token_delay_ms=0)
    p.counts()                             # {"authorization_code": n, "refresh_token": n, "client_credentials": n,
                                           #  "resource_ok": n, "resource_401": n}
    p.expire_all()                         # every access token issued so far is refused from now on
    p.stop()

Endpoints:
  GET  /authorize?response_type=code&client_id=…&redirect_uri=…&state=…
                  &code_challenge=…&code_challenge_method=S256[&scope=…]
       approves at once: 302 to redirect_uri?code=…&state=… (400 JSON on a bad request)
  POST /token     application/x-www-form-urlencoded; client authentication by
       client_id/client_secret in the body or HTTP Basic. grant_type:
         authorization_code (code, redirect_uri, code_verifier: S256 checked;
                             a code is single use)
         refresh_token      (refresh_token; rotates it)
         client_credentials
       200 {"access_token", "token_type": "Bearer", "expires_in", ["refresh_token"], ["scope"]};
       400 {"error": "invalid_grant" | "invalid_request" | "unsupported_grant_type"};
       401 {"error": "invalid_client"}
  GET  /resource  200 {"ok": true, "token_n": n} with a live Bearer token, else 401
  GET  /stats     the counts as JSON
Every token value is random and recorded (p.issued) so a test can search for it.
"""
import base64
import hashlib
import json
import secrets
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class OAuth2Provider:
    def __init__(self, client_id="glyphic-client", client_secret="provider-client-secret", host="127.0.0.1"):
        self.client_id, self.client_secret, self.host = client_id, client_secret, host
        self.lock = threading.Lock()
        self.codes = {}      # code -> (redirect_uri, challenge, scope)
        self.access = {}     # token -> (expires_at monotonic, n)
        self.refresh = set()
        self.issued = []     # every token value handed out
        self.opts = {"expires_in": 3600, "fail_refresh": False, "token_delay_ms": 0}
        self._counts = {"authorization_code": 0, "refresh_token": 0, "client_credentials": 0,
                        "resource_ok": 0, "resource_401": 0, "token_errors": 0}
        self.server = None

    def start(self):
        handler = _make_handler(self)
        self.server = ThreadingHTTPServer((self.host, 0), handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://{self.host}:{self.server.server_address[1]}"
        self.authorize_url = self.url + "/authorize"
        self.token_url = self.url + "/token"
        self.resource_url = self.url + "/resource"
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    def set(self, **opts):
        with self.lock:
            self.opts.update(opts)

    def counts(self):
        with self.lock:
            return dict(self._counts)

    def expire_all(self):
        with self.lock:
            self.access.clear()

    # --- the provider's rules
    def _issue(self, with_refresh, scope):
        access = "at-" + secrets.token_urlsafe(24)
        n = len(self.issued) + 1
        self.access[access] = (time.monotonic() + float(self.opts["expires_in"]), n)
        body = {"access_token": access, "token_type": "Bearer", "expires_in": int(self.opts["expires_in"])}
        self.issued.append(access)
        if with_refresh:
            refresh = "rt-" + secrets.token_urlsafe(24)
            self.refresh.add(refresh)
            self.issued.append(refresh)
            body["refresh_token"] = refresh
        if scope:
            body["scope"] = scope
        return body

    def token(self, form, basic):
        cid, csecret = basic if basic else (form.get("client_id"), form.get("client_secret"))
        if cid != self.client_id or not csecret or not secrets.compare_digest(csecret, self.client_secret):
            return 401, {"error": "invalid_client"}
        delay = self.opts["token_delay_ms"]
        if delay:
            time.sleep(delay / 1000)
        grant = form.get("grant_type")
        with self.lock:
            if grant == "authorization_code":
                entry = self.codes.pop(form.get("code", ""), None)
                if not entry or entry[0] != form.get("redirect_uri"):
                    return 400, {"error": "invalid_grant"}
                verifier = form.get("code_verifier", "")
                digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
                if digest != entry[1]:
                    return 400, {"error": "invalid_grant", "error_description": "PKCE verifier does not match"}
                self._counts[grant] += 1
                return 200, self._issue(True, entry[2])
            if grant == "refresh_token":
                rt = form.get("refresh_token", "")
                if self.opts["fail_refresh"] or rt not in self.refresh:
                    self._counts["token_errors"] += 1
                    return 400, {"error": "invalid_grant"}
                self.refresh.discard(rt)
                self._counts[grant] += 1
                return 200, self._issue(True, None)
            if grant == "client_credentials":
                self._counts[grant] += 1
                return 200, self._issue(False, form.get("scope"))
        return 400, {"error": "unsupported_grant_type"}

    def authorize(self, q):
        need = ("client_id", "redirect_uri", "state", "code_challenge")
        if q.get("response_type") != "code" or any(not q.get(k) for k in need) or \
                q.get("code_challenge_method") != "S256" or q["client_id"] != self.client_id:
            return 400, {"error": "invalid_request"}, None
        code = "code-" + secrets.token_urlsafe(16)
        with self.lock:
            self.codes[code] = (q["redirect_uri"], q["code_challenge"], q.get("scope"))
        sep = "&" if "?" in q["redirect_uri"] else "?"
        loc = q["redirect_uri"] + sep + urllib.parse.urlencode({"code": code, "state": q["state"]})
        return 302, None, loc

    def resource(self, auth):
        token = auth[7:] if auth and auth.startswith("Bearer ") else None
        with self.lock:
            entry = self.access.get(token) if token else None
            if entry and entry[0] > time.monotonic():
                self._counts["resource_ok"] += 1
                return 200, {"ok": True, "token_n": entry[1]}
            self._counts["resource_401"] += 1
            return 401, {"error": "invalid_token"}


def _make_handler(p):
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def _send(self, status, body, location=None):
            data = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            if location:
                self.send_header("Location", location)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            u = urllib.parse.urlsplit(self.path)
            q = dict(urllib.parse.parse_qsl(u.query))
            if u.path == "/authorize":
                status, body, loc = p.authorize(q)
                return self._send(status, body, loc)
            if u.path == "/resource":
                return self._send(*p.resource(self.headers.get("Authorization")))
            if u.path == "/stats":
                return self._send(200, p.counts())
            self._send(404, {"error": "not_found"})

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(n).decode(errors="replace")
            u = urllib.parse.urlsplit(self.path)
            if u.path != "/token":
                return self._send(404, {"error": "not_found"})
            form = dict(urllib.parse.parse_qsl(raw))
            basic = None
            auth = self.headers.get("Authorization") or ""
            if auth.startswith("Basic "):
                try:
                    cid, _, cs = base64.b64decode(auth[6:]).decode().partition(":")
                    basic = (urllib.parse.unquote_plus(cid), urllib.parse.unquote_plus(cs))
                except Exception:
                    return self._send(401, {"error": "invalid_client"})
            self._send(*p.token(form, basic))
    return H
