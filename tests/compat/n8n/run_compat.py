#!/usr/bin/env python3
"""The n8n compatibility corpus: each tests/compat/n8n/<case>.json is an n8n
workflow export, <case>.expected.json what running it must give, derived by
hand from n8n's documented behaviour of the node and version it covers.

For each case: `glyphic import` converts it (the problems it must list, or
none), then `glyphic run` runs the n8n export itself, and the outcome is
compared:
  output          the execution's output (the last node's items)
  steps           {node name: {port: items}} of the steps that ran
  response        the webhook response flow.respond set {status, headers, body}
  import          {node name: {type, params (a subset)}} of the conversion only
                  (triggers the CLI cannot fire, sub-workflows)
  problems        [{node, type, contains}] the import must list (refused
                  without --partial)
  partial_output  with --partial, the output of the run of the converted document
  notes           how many canvas notes the conversion keeps
HTTP cases call a server this script starts on 127.0.0.1 (__BASE__ in the
file); nothing reaches the internet.

usage: run_compat.py GLYPHIC_BINARY [CASE…]
"""
import glob
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def _answer(self):
        u = urllib.parse.urlsplit(self.path)
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        body = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode()
        if u.path == "/text":
            data, ctype = b"plain text", "text/plain"
        elif u.path == "/list":
            count = body.get("count", 1) if isinstance(body, dict) else 1
            data = json.dumps([{"i": i, "header": self.headers.get("X-Test")} for i in range(count)]).encode()
            ctype = "application/json"
        else:
            q = {k: v[0] for k, v in urllib.parse.parse_qs(u.query).items()}
            data = json.dumps({"method": self.command, "path": u.path, "query": q, "body": body}).encode()
            ctype = "application/json"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer


def parse_run(text):
    """steps {name: {port: items}} (the last activation's), output, response"""
    steps, out, resp, cur = {}, None, None, None
    for line in text.splitlines():
        if line.startswith("#"):
            name = line.split(" ", 1)[1].rsplit(" (", 1)[0]
            cur = steps.setdefault(name, {})
        elif line.startswith("  ") and cur is not None and ": " in line and not line.startswith("  error"):
            port, items = line.strip().split(": ", 1)
            cur.setdefault(port, []).extend(json.loads(items))
        elif line.startswith("output: "):
            out = json.loads(line[8:])
        elif line.startswith("response: "):
            resp = json.loads(line[10:])
    return steps, out, resp


def subset(want, got):
    if isinstance(want, dict):
        return isinstance(got, dict) and all(k in got and subset(v, got[k]) for k, v in want.items())
    return want == got


def run_case(glyphic, path, base, tmp):
    name = os.path.basename(path)[:-5]
    exp = json.load(open(path[:-5] + ".expected.json"))
    text = open(path).read().replace("__BASE__", base)
    src = os.path.join(tmp, name + ".json")
    open(src, "w").write(text)
    env = dict(os.environ, GLYPHIC_HTTP_ALLOW_PRIVATE="127.0.0.0/8")
    imp = subprocess.run([glyphic, "import", src], capture_output=True, text=True, env=env)
    errors = []
    if "problems" in exp:
        if imp.returncode != 1:
            errors.append(f"import should refuse (exit 1), got {imp.returncode}")
        for p in exp["problems"]:
            if not any(p["node"] in l and p["type"] in l and p["contains"] in l for l in imp.stderr.splitlines()):
                errors.append(f"no problem for {p} in: {imp.stderr.strip()}")
        part = subprocess.run([glyphic, "import", "--partial", src], capture_output=True, text=True, env=env)
        if part.returncode != 0:
            errors.append(f"--partial should convert (exit 0): {part.stderr.strip()}")
        elif "partial_output" in exp:
            conv = os.path.join(tmp, name + ".glyphic.json")
            open(conv, "w").write(part.stdout)
            r = subprocess.run([glyphic, "run", conv], capture_output=True, text=True, env=env)
            _, out, _ = parse_run(r.stdout)
            if out != exp["partial_output"]:
                errors.append(f"partial run output {out} != {exp['partial_output']}\n{r.stdout}{r.stderr}")
    else:
        if imp.returncode != 0:
            errors.append(f"import failed ({imp.returncode}): {imp.stderr.strip()}")
        else:
            doc = json.loads(imp.stdout)
            nodes = {n["name"]: n for n in doc["definition"]["nodes"]}
            for nm, want in exp.get("import", {}).items():
                if not subset(want, nodes.get(nm)):
                    errors.append(f"node {nm}: {nodes.get(nm)} does not hold {want}")
            if "notes" in exp and len(doc["definition"].get("notes", [])) != exp["notes"]:
                errors.append(f"notes: {doc['definition'].get('notes')}")
        if "output" in exp or "steps" in exp or "response" in exp:
            r = subprocess.run([glyphic, "run", src], capture_output=True, text=True, env=env, timeout=60)
            steps, out, resp = parse_run(r.stdout)
            if r.returncode != 0:
                errors.append(f"run failed ({r.returncode}):\n{r.stdout}{r.stderr}")
            if "output" in exp and out != exp["output"]:
                errors.append(f"output {json.dumps(out)} != {json.dumps(exp['output'])}")
            for nm, ports in exp.get("steps", {}).items():
                if steps.get(nm) != ports:
                    errors.append(f"step {nm}: {json.dumps(steps.get(nm))} != {json.dumps(ports)}")
            if "response" in exp and resp != exp["response"]:
                errors.append(f"response {json.dumps(resp)} != {json.dumps(exp['response'])}")
    print(("ok   " if not errors else "FAIL ") + name)
    for e in errors:
        print("     " + e.replace("\n", "\n     "))
    return not errors


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    glyphic = sys.argv[1]
    wanted = set(sys.argv[2:])
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{srv.server_address[1]}"
    cases = sorted(p for p in glob.glob(os.path.join(HERE, "*.json")) if not p.endswith(".expected.json"))
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for p in cases:
            if wanted and os.path.basename(p)[:-5] not in wanted:
                continue
            ok &= run_case(glyphic, p, base, tmp)
    srv.shutdown()
    print(f"{len(cases)} cases: {'all passed' if ok else 'FAILURES'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
