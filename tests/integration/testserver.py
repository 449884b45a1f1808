"""A scripted local HTTP server for tests of the http.request node.

Importable:

    srv = TestServer().start()      # binds 127.0.0.1 on a free port
    srv.url                         # "http://127.0.0.1:PORT"
    TestServer(host="::1")          # another loopback address (IPv6: "http://[::1]:PORT")
    srv.count("/json/a")            # requests seen for that path
    srv.requests("/echo")           # [{method, path, query, headers, body}]
    srv.stop()

or runnable on its own (the C unit tests start it this way):

    python3 testserver.py [--port N] [--host 127.0.0.2]

prints the port it listens on as the first line of stdout, then serves until
SIGTERM/SIGINT or, when stdin is a pipe, until the pipe is closed (so a test
that dies cannot leave it behind).

Endpoints (any method unless stated):
  /echo                      JSON {method, path, query, headers, body}
  /status/<code>             that status with JSON {"status": code}
  /flaky/<key>/<n>           500 for the first n calls of key, then 200
                             JSON {"ok": true, "calls": k}
  /retry-after/<key>/<secs>  first call 429 with Retry-After: secs, then 200
  /retry-after-date/<key>/<secs>  same, Retry-After as an HTTP-date
  /slow/<ms>                 sleeps ms, then 200 JSON {"slept_ms": ms}
  /together/<key>/<n>[?wait_ms=W]  waits until n calls of key wait at
                             once, then all answer 200 JSON {"together": n,
                             "waiting": most seen at once}; a call that
                             waited W ms (30,000) answers 504 (a barrier:
                             shows n calls in flight at the same time,
                             without timing them)
  /redirect/<n>              302 to /redirect/<n-1>, /redirect/1 -> /echo
                             (n redirects in all)
  /redirect-to?url=U         302 to U (any scheme)
  /text                      text/plain "hello"
  /latin1                    text/plain with bytes that are not UTF-8
  /big/<bytes>               that many bytes of "x" (application/octet-stream)
  /stream/<bytes>            the same, chunked (no Content-Length up front)
  /json/<anything>           JSON {"path": path, "n": count of that path}
  /headers                   200 with repeated and mixed-case headers
  /reset                     clears all counters and recorded requests
Every request is counted and recorded per path (without the query string).
"""
import argparse
import email.parser
import email.policy
import email.utils
import hashlib
import json
import os
import signal
import socket
import stat
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 16 << 20


class _State:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {}
        self.log = {}
        self.keys = {}
        self.cv = threading.Condition(self.lock)
        self.waiting = {}   # together/<key>: calls waiting now
        self.most = {}      # together/<key>: most seen waiting at once
        self.released = {}  # together/<key>: released

    def together(self, key, n, timeout=30.0):
        """Waits until n calls of key wait at once (True), or timeout (False)."""
        with self.cv:
            self.waiting[key] = self.waiting.get(key, 0) + 1
            self.most[key] = max(self.most.get(key, 0), self.waiting[key])
            if self.waiting[key] >= n:
                self.released[key] = True
                self.cv.notify_all()
            ok = self.cv.wait_for(lambda: self.released.get(key), timeout)
            self.waiting[key] -= 1
            return bool(ok), self.most[key]

    def record(self, path, req):
        with self.lock:
            self.counts[path] = self.counts.get(path, 0) + 1
            self.log.setdefault(path, []).append(req)
            return self.counts[path]

    def bump(self, key):
        """Calls seen so far for key, this one included."""
        with self.lock:
            self.keys[key] = self.keys.get(key, 0) + 1
            return self.keys[key]

    def reset(self):
        with self.lock:
            self.counts.clear()
            self.log.clear()
            self.keys.clear()
            self.waiting.clear()
            self.most.clear()
            self.released.clear()


def pattern(n):
    """n bytes: 0..255 repeated (what /file/<n> sends)."""
    return (bytes(range(256)) * (n // 256 + 1))[:n]


def describe_upload(method, ctype, raw):
    """What /upload received: the body's size, sha256 and type, and for a
    multipart/form-data body each part's name, file name, type, size and sha256."""
    out = {"method": method, "content_type": ctype, "size": len(raw), "sha256": hashlib.sha256(raw).hexdigest()}
    if ctype.startswith("multipart/form-data"):
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + raw)
        out["parts"] = []
        for part in msg.iter_parts():
            data = part.get_payload(decode=True) or b""
            out["parts"].append({"name": part.get_param("name", header="content-disposition"),
                                 "filename": part.get_filename(), "content_type": part.get_content_type(),
                                 "size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                                 "text": None if part.get_filename() else data.decode("utf-8", "replace")})
    return out


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "GlyphicTestServer/1"
    # the head and the body go out in two writes: with Nagle's algorithm the
    # body waits for the client's delayed ACK of the head, 40 ms a response
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):  # quiet
        pass

    def _send(self, status, body=b"", ctype="application/json", headers=()):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _send_slowly(self, body, ms):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        for i in range(0, len(body), 8192):
            self.wfile.write(body[i:i + 8192])
            self.wfile.flush()
            time.sleep(ms / 1000.0)

    def _send_chunked(self, n):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b"x" * 65536
        while n > 0:
            part = chunk[:n]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            n -= len(part)
        self.wfile.write(b"0\r\n\r\n")

    def _read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n < 0 or n > MAX_BODY:
            raise ValueError("bad Content-Length")
        return self.rfile.read(n) if n else b""

    def _handle(self):
        st = self.server.state
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        raw = self._read_body()
        try:
            text = raw.decode()
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
        body = text
        if text and "json" in (self.headers.get("Content-Type") or ""):
            try:
                body = json.loads(text)
            except ValueError:
                pass
        headers = {k.lower(): v for k, v in self.headers.items()}
        req = {"method": self.command, "path": path, "query": query,
               "headers": headers, "body": body}
        n = st.record(path, req)
        parts = [p for p in path.split("/") if p]
        head = parts[0] if parts else ""

        if path == "/echo":
            return self._send(200, req)
        if path == "/reset":
            st.reset()
            return self._send(200, {"ok": True})
        if head == "status" and len(parts) == 2 and parts[1].isdigit():
            code = int(parts[1])
            return self._send(code, {"status": code})
        if head == "flaky" and len(parts) == 3 and parts[2].isdigit():
            k = st.bump("flaky/" + parts[1])
            if k <= int(parts[2]):
                return self._send(500, {"ok": False, "calls": k})
            return self._send(200, {"ok": True, "calls": k})
        if head in ("retry-after", "retry-after-date") and len(parts) == 3 and parts[2].isdigit():
            k = st.bump(head + "/" + parts[1])
            if k == 1:
                secs = int(parts[2])
                value = str(secs) if head == "retry-after" else \
                    email.utils.formatdate(time.time() + secs, usegmt=True)
                return self._send(429, {"ok": False}, headers=[("Retry-After", value)])
            return self._send(200, {"ok": True, "calls": k})
        if head == "together" and len(parts) == 3 and parts[2].isdigit():
            wait = query.get("wait_ms", "30000")
            ok, most = st.together(parts[1], int(parts[2]), int(wait) / 1000.0 if wait.isdigit() else 30.0)
            return self._send(200 if ok else 504, {"together": int(parts[2]), "waiting": most})
        if head == "slow" and len(parts) == 2 and parts[1].isdigit():
            ms = int(parts[1])
            time.sleep(ms / 1000.0)
            return self._send(200, {"slept_ms": ms})
        if head == "redirect" and len(parts) == 2 and parts[1].isdigit():
            left = int(parts[1])
            to = "/echo" if left <= 1 else f"/redirect/{left - 1}"
            return self._send(302, "", ctype=None, headers=[("Location", to)])
        if path == "/redirect-to":
            return self._send(302, "", ctype=None, headers=[("Location", query.get("url", "/echo"))])
        if path == "/text":
            return self._send(200, "hello", ctype="text/plain; charset=utf-8")
        if path == "/latin1":
            return self._send(200, b"caf\xe9 ok", ctype="text/plain; charset=iso-8859-1")
        if head == "big" and len(parts) == 2 and parts[1].isdigit():
            return self._send(200, b"x" * min(int(parts[1]), 64 << 20),
                              ctype="application/octet-stream")
        if head == "stream" and len(parts) == 2 and parts[1].isdigit():
            return self._send_chunked(min(int(parts[1]), 64 << 20))
        if head == "json":
            return self._send(200, {"path": path, "n": n})
        if head == "file" and len(parts) == 2 and parts[1].isdigit():
            # a download with a name (RFC 8187) and a type: bytes 0..255 repeated
            n = min(int(parts[1]), 64 << 20)
            return self._send(200, pattern(n), ctype="application/pdf", headers=[
                ("Content-Disposition", "attachment; filename=\"resume.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf")])
        if head == "slow-file" and len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
            # /file's bytes, 8 KiB every <ms> ms: a download still running when a test kills its taker
            return self._send_slowly(pattern(min(int(parts[1]), 64 << 20)), int(parts[2]))
        if head == "blob" and len(parts) == 2:
            # no Content-Disposition: the name is the URL's
            return self._send(200, pattern(1000), ctype="image/png")
        if path == "/upload":
            return self._send(200, describe_upload(self.command, self.headers.get("Content-Type") or "", raw))
        if path == "/headers":
            return self._send(200, {"ok": True}, headers=[
                ("X-Multi", "a"), ("X-Multi", "b"), ("X-Mixed-Case", "Yes")])
        return self._send(404, {"error": "no such endpoint", "path": path})

    def _dispatch(self):
        try:
            self._handle()
        except (BrokenPipeError, ConnectionResetError):
            pass
        except ValueError as e:
            self._send(400, {"error": str(e)})

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # many calls at once (socketserver's 5 drops SYNs: a 1 s retry each)


class _Server6(_Server):
    address_family = socket.AF_INET6


class TestServer:
    """The server in a background thread of this process."""

    def __init__(self, port=0, host="127.0.0.1"):
        self.port = port
        self.host = host  # a loopback address: tests never listen beyond this machine
        self._httpd = None
        self._thread = None

    def start(self):
        self._httpd = (_Server6 if ":" in self.host else _Server)((self.host, self.port), _Handler)
        self._httpd.state = _State()
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()
        return self

    @property
    def url(self):
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def count(self, path):
        st = self._httpd.state
        with st.lock:
            return st.counts.get(path, 0)

    def requests(self, path):
        st = self._httpd.state
        with st.lock:
            return list(st.log.get(path, []))

    def reset(self):
        self._httpd.state.reset()

    def stop(self):
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(5)
            self._httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0, help="port (0: a free one)")
    ap.add_argument("--host", default="127.0.0.1", help="loopback address to listen on (127.0.0.2, ::1 …)")
    args = ap.parse_args()
    srv = TestServer(args.port, args.host).start()
    print(srv.port, flush=True)

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: done.set())
    signal.signal(signal.SIGINT, lambda *a: done.set())

    def watch_stdin():
        # The parent closing our stdin (or dying) ends the server.
        try:
            while os.read(0, 4096):
                pass
        except OSError:
            pass
        done.set()

    if stat.S_ISFIFO(os.fstat(0).st_mode):
        threading.Thread(target=watch_stdin, daemon=True).start()
    while not done.is_set():
        time.sleep(0.05)  # unlike Event.wait, a sleep lets signal handlers run at once
    srv.stop()


if __name__ == "__main__":
    main()
