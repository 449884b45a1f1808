#!/usr/bin/env python3
"""Peers for the executions benchmark: n8n 2.8.4 and Node-RED 4.1.15.

    python3 tests/bench/peers_executions.py [--dir D] [--seconds N] [--warmup N]
                                            [--peers n8n,node-red] [--install-only]

Installs both peers with npm into a scratch folder (default
/tmp/glyphic-bench-peers/executions; nothing global), then, one peer at a
time: starts it on a free loopback port with the workflow

    webhook (POST JSON {"a": 2, "b": 3}) -> set total = a + b -> respond with the item

provisioned automatically, checks one answer carries total 5, runs a wrk
warm-up, samples PSS idle, runs `wrk -t2 -c16 -dN --latency` with PSS sampled
every 0.5 s, checks an answer again, stops it, and prints a table. wrk talks to
each peer directly (no nginx in front). Library use, e.g. from
tests/bench/executions:

    import peers_executions as pe
    pe.install()                                   # idempotent
    with pe.N8nPeer() as peer:                     # or pe.NodeRedPeer()
        peer.start(pe.free_port())                 # returns the first answer
        r = pe.measure(peer, seconds=20)           # or pe.run_wrk(peer.url, pe.BODY)
        pe.pss_mib(peer.pids())

Install (what install() runs; ~3.5 min for n8n on 2 cores, 10 s for Node-RED):

    cd D/n8n      && npm install --no-audit --no-fund --omit=dev   # package.json below
    cd D/node-red && npm install --no-audit --no-fund --omit=dev

  - n8n's package.json has "overrides": {"xlsx": "0.18.5"}: n8n-nodes-base
    pins xlsx to a tarball on the SheetJS CDN, which this machine cannot reach.
  - sqlite3 5.1.7 (n8n's DB driver) tries a prebuilt binary from GitHub
    first; that fails at once here (no DNS) and it builds from source with
    node-gyp (about a minute) against /usr/include/node (npm's nodedir=/usr,
    also in ~/.npmrc here), so no header download either. Setting
    npm_config_build_from_source=true instead is worse: npm warns about an
    unknown config and @parcel/watcher then builds from source too.
  - Browser downloads are switched off by env (PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD,
    PUPPETEER_SKIP_DOWNLOAD etc.); the tree holds playwright 1.65.1 (through
    @langchain/community), which has no install script: no browser is
    fetched (no ~/.cache/ms-playwright after install). npm prints many
    ERESOLVE peer-dependency and EBADENGINE (node >= 22 wanted by two of
    @n8n/n8n-nodes-langchain's deps) warnings: harmless for this workflow.
  - n8n's node_modules is 2.4 GB (2090 packages); Node-RED's 117 MB.
  - D/<peer>/.installed marks a finished install; install() skips a peer
    whose marker exists and whose node_modules holds the pinned version.

n8n
  - Provisioning, every start, with no UI: a fresh N8N_USER_FOLDER
    (D/n8n-run), `n8n import:workflow --input=...` (the first DB access runs
    all migrations), `n8n publish:workflow --id=GlyphicBench0001`, then
    `n8n start`. In n8n 2.x, "activate" is "publish": update:workflow
    --active=true is deprecated in favour of publish:workflow. No owner
    account is needed: the import goes to the instance's (shell) owner
    project. The whole start (import + publish + start + webhook answering)
    takes ~10 s here; the webhook answers 404 "not registered" for the first
    moments after the port opens, so start() waits for a correct answer,
    not for the port.
  - Webhook (typeVersion 2, POST, path "bench", responseMode "responseNode")
    -> Set (3.4, includeOtherFields, total = {{ $json.body.a + $json.body.b }},
    type number) -> Respond to Webhook (1.1, respondWith "firstIncomingItem").
    The answer is the whole webhook item: {headers, params, query, body,
    webhookUrl, executionMode, total: 5} (~400 bytes), URL
    http://127.0.0.1:PORT/webhook/bench.
  - Env set (N8nPeer.env): N8N_DIAGNOSTICS_ENABLED=false (plus empty
    N8N_DIAGNOSTICS_CONFIG_FRONTEND/BACKEND), N8N_VERSION_NOTIFICATIONS_ENABLED
    =false, N8N_VERSION_NOTIFICATIONS_WHATS_NEW_ENABLED=false,
    N8N_TEMPLATES_ENABLED=false, N8N_PERSONALIZATION_ENABLED=false,
    N8N_HIRING_BANNER_ENABLED=false, N8N_DYNAMIC_BANNERS_ENABLED=false,
    N8N_LICENSE_AUTO_RENEW_ENABLED=false, N8N_COMMUNITY_PACKAGES_ENABLED=false,
    N8N_AI_ENABLED=false, EXTERNAL_FRONTEND_HOOKS_URLS=, N8N_SENTRY_DSN=,
    N8N_LISTEN_ADDRESS=127.0.0.1, N8N_PORT, N8N_LOG_LEVEL=warn,
    N8N_ENCRYPTION_KEY (fixed), NODE_ENV=production, and
    N8N_RUNNERS_BROKER_PORT: the task runners (on by default in 2.x, internal
    mode) have a broker on a FIXED default port 5679, which collides with any
    other n8n on the machine; the peer picks a free one. Nothing else is
    changed: EXECUTIONS_DATA_SAVE_ON_SUCCESS/ON_ERROR keep their default "all",
    pruning its defaults (max 10,000 executions / 336 h; soft delete every
    60 min, so never during a run), concurrency unlimited.
    `strace -f -e trace=connect` of `n8n start` plus a short wrk run showed a
    single connect(): the task runner to its broker on 127.0.0.1 (no DNS, no
    outbound address).
  - Logged and harmless: "Failed to start Python task runner in internal mode
    because its virtual environment is missing" (only the JS runner starts;
    the Set node does not use it either, it idles at ~120 MiB RSS but is part
    of the tree), "Automatic license renewal is disabled".
  - Processes: `node .../n8n start` and its child
    `node ... @n8n/task-runner/dist/start.js`; pids() is the tree.
  - Persistence, default SQLite (D/n8n-run/.n8n/database.sqlite, WAL
    journal): every request leaves one execution_entity row (status
    'success', mode 'webhook') and one execution_data row with the full run
    data (~1.9 KB), plus 3 insights_raw rows and a line in n8nEventLog.log.
    Confirmed by counting rows (N8nPeer.executions(), read-only sqlite3)
    before and 2 s after the measured run: e.g. 522 new 'success' rows for
    508 requests wrk counted (wrk leaves out the up to 16 in flight when it
    stops). measure() reports that count as "saved". n8n marks an execution
    'success' just after answering, so a count taken at once can show one
    'running'.
  - n8n's main process is the bottleneck: ~120 % CPU (one JS thread plus
    SQLite/libuv threads) at ~100 req/s, latency ~ 16 conns / rate.

Node-RED
  - userDir D/node-red-run with flows.json (http in POST /bench -> function
    `msg.payload.total = msg.payload.a + msg.payload.b` -> http response)
    and settings.js: httpAdminRoot false (no editor, no admin API), uiHost
    127.0.0.1, diagnostics/runtimeState/telemetry off, external module
    installs off, log level warn. One process, ready in ~1 s; the answer is
    {"a": 2, "b": 3, "total": 5}. It persists nothing per request. It logs
    "Projects disabled" and "Encrypted credentials not found" warnings:
    harmless.

Short runs on the shared 2-core machine (--seconds 5 --warmup 3, load
average 1-3 from other work, so indicative only): n8n 76-101 req/s, p50
155-208 ms, p99 190-290 ms, PSS ~550 MiB idle / ~590 MiB under load (2
processes); Node-RED 5800-6600 req/s, p50 ~2.1 ms, p99 7-17 ms, PSS
150-195 MiB idle / 175-210 MiB under load. No errors. Node-RED's "idle" PSS
depends on when V8 last collected garbage after the warm-up (once above the
load figure): use a longer --warmup/settle or several samples if it matters.

Memory: pss_mib() sums Pss from /proc/PID/smaps_rollup over pids(); "idle"
is sampled `settle` s after the warm-up load, "load" is the peak (and mean)
of the samples taken during the measured run.
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

from benchlib import process_tree, pss_mib  # the process tree of a peer and its memory

DEFAULT_DIR = "/tmp/glyphic-bench-peers/executions"
N8N_VERSION = "2.8.4"
NODE_RED_VERSION = "4.1.15"
BODY = '{"a": 2, "b": 3}'

# Nothing in the install may fetch a browser or any other binary from outside
# the npm registry (the machine reaches only the registry and Debian's archive).
NO_DOWNLOAD_ENV = {
    "PUPPETEER_SKIP_DOWNLOAD": "1",
    "PUPPETEER_SKIP_CHROMIUM_DOWNLOAD": "1",
    "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1",
    "CYPRESS_INSTALL_BINARY": "0",
    "ELECTRON_SKIP_BINARY_DOWNLOAD": "1",
    "CHROMEDRIVER_SKIP_DOWNLOAD": "true",
    "GECKODRIVER_SKIP_DOWNLOAD": "true",
    "SENTRYCLI_SKIP_DOWNLOAD": "1",
    "N8N_SKIP_BROWSER_DOWNLOAD": "1",
    # sqlite3's install script tries a prebuilt binary from GitHub first, which
    # fails at once here (no DNS), then builds with node-gyp; nodedir=/usr (also
    # in ~/.npmrc on these machines) lets node-gyp use the installed headers
    # instead of downloading them.
    "npm_config_nodedir": "/usr",
    "SCARF_ANALYTICS": "false",   # @scarf/scarf's postinstall would phone home
    "DISABLE_OPENCOLLECTIVE": "1",
    "ADBLOCK": "1",
}

PACKAGES = {
    "n8n": {
        "name": "glyphic-bench-peer-n8n",
        "private": True,
        "dependencies": {"n8n": N8N_VERSION},
        # n8n-nodes-base pins xlsx to a tarball on the SheetJS CDN, unreachable here
        "overrides": {"xlsx": "0.18.5"},
    },
    "node-red": {
        "name": "glyphic-bench-peer-node-red",
        "private": True,
        "dependencies": {"node-red": NODE_RED_VERSION},
    },
}


def _installed_version(dir, sub, pkg):
    try:
        with open(os.path.join(dir, sub, "node_modules", pkg, "package.json")) as f:
            return json.load(f).get("version")
    except (OSError, ValueError):
        return None


def install(dir=DEFAULT_DIR, log=sys.stderr, only=None):
    """npm-install both peers (or those named in only) into dir/n8n and
    dir/node-red; skips what is there."""
    for sub, pkgjson in PACKAGES.items():
        if only is not None and sub not in only:
            continue
        (pkg, version), = pkgjson["dependencies"].items()
        d = os.path.join(dir, sub)
        marker = os.path.join(d, ".installed")
        if os.path.exists(marker) and _installed_version(dir, sub, pkg) == version:
            print(f"{pkg} {version}: already installed in {d}", file=log)
            continue
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "package.json"), "w") as f:
            json.dump(pkgjson, f, indent=2)
        cmd = ["npm", "install", "--no-audit", "--no-fund", "--omit=dev", "--loglevel=warn"]
        print(f"{pkg} {version}: (cd {d} && {' '.join(cmd)})", file=log)
        t = time.monotonic()
        subprocess.run(cmd, cwd=d, env={**os.environ, **NO_DOWNLOAD_ENV}, check=True)
        if _installed_version(dir, sub, pkg) != version:
            raise RuntimeError(f"{pkg} {version} not found in {d}/node_modules after npm install")
        open(marker, "w").close()
        print(f"{pkg} {version}: installed in {time.monotonic() - t:.0f} s", file=log)


# --------------------------------------------------------------------------
# ports (process_tree and pss_mib, the peers' processes and memory, are benchlib's)

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------
# HTTP

def post_json(url, body=BODY, timeout=10, headers=None):
    """POST body as JSON (with extra headers); returns (status, parsed body or raw text)."""
    req = urllib.request.Request(url, data=body.encode(), method="POST",
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, raw = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode(errors="replace")


def check_response(url, body=BODY, headers=None):
    """One POST; raises unless the answer is 200 with total == a + b."""
    status, data = post_json(url, body, headers=headers)
    want = sum(json.loads(body).values())
    item = data[0] if isinstance(data, list) and data else data
    if status != 200 or not isinstance(item, dict) or item.get("total") != want:
        raise RuntimeError(f"POST {url}: unexpected answer {status} {str(data)[:300]}")
    return item


_UNITS_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def _ms(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    return float(m.group(1)) * _UNITS_MS[m.group(2)]


def parse_wrk(out):
    """Figures from `wrk --latency` output."""
    lat = dict(re.findall(r"^\s+(50|75|90|99)(?:\.0+)?%\s+(\S+)", out, re.M))
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    total = re.search(r"(\d+) requests in ([\d.]+\w+),", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50_ms": _ms(lat["50"]),
        "p99_ms": _ms(lat["99"]),
        "errors": (sum(map(int, sock.groups())) if sock else 0) + (int(non2xx.group(1)) if non2xx else 0),
        "requests": int(total.group(1)) if total else None,
    }


def run_wrk(url, body=BODY, seconds=20, threads=2, conns=16, timeout="10s", headers=None):
    """wrk -tT -cC -dSs --latency POSTing body as application/json, with
    extra headers (the same on every request); with body None, plain GETs.

    Returns dict(rps, p50_ms, p99_ms, errors, requests); errors counts socket
    errors (incl. timeouts) and non-2xx answers."""
    script = None
    if body is not None:
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
            f.write('wrk.method = "POST"\n'
                    f"wrk.body = {json.dumps(body)}\n"
                    'wrk.headers["Content-Type"] = "application/json"\n')
            for k, v in (headers or {}).items():
                f.write(f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}\n")
            script = f.name
    try:
        r = subprocess.run(["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s", f"--timeout={timeout}",
                            "--latency", *(["-s", script] if script else []), url],
                           capture_output=True, text=True, check=True)
    finally:
        if script:
            os.unlink(script)
    res = parse_wrk(r.stdout)
    res["output"] = r.stdout
    return res


# --------------------------------------------------------------------------
# peers

class _Peer:
    name = "?"

    def __init__(self, dir=DEFAULT_DIR):
        self.dir = dir
        self.proc = None
        self.port = None
        self.log_path = None

    @property
    def url(self):
        raise NotImplementedError

    def pids(self):
        return process_tree(self.proc.pid) if self.proc and self.proc.poll() is None else []

    def _spawn(self, cmd, env, cwd):
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)

    def _wait_ready(self, timeout):
        """Until the webhook answers correctly (not just the port being open)."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see {self.log_path}:\n"
                                   + self._tail())
            try:
                return check_response(self.url)
            except (OSError, RuntimeError) as e:
                last = e
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"{self.name} not ready after {timeout} s ({last}); see {self.log_path}:\n" + self._tail())

    def _tail(self, n=30):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def stop(self, timeout=30):
        """SIGTERM to the peer's own process group, SIGKILL after timeout s."""
        if not self.proc:
            return
        if self.proc.poll() is None:
            tree = self.pids()
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
            for pid in tree:  # e.g. a task runner that outlived its parent
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self._log.close()
        self.proc = None

    def saved_executions(self):
        """How many executions the peer has stored so far (None: it stores none)."""
        return None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


N8N_WORKFLOW_ID = "GlyphicBench0001"


def n8n_workflow():
    """Webhook (POST /webhook/bench, answered by a Respond node) → Set total → Respond."""
    return [{
        "id": N8N_WORKFLOW_ID,
        "name": "glyphic bench: webhook → set → respond",
        "active": False,
        "settings": {"executionOrder": "v1"},  # execution saving: instance defaults ("all")
        "nodes": [
            {"id": "0b6c9c3e-6a45-4c1e-9a3c-1d4e5f600001", "name": "Webhook",
             "type": "n8n-nodes-base.webhook", "typeVersion": 2, "position": [0, 0],
             "webhookId": "5f0e8e0a-2c9b-4f6e-8a51-6c7d8e900001",
             "parameters": {"httpMethod": "POST", "path": "bench", "responseMode": "responseNode",
                            "options": {}}},
            {"id": "0b6c9c3e-6a45-4c1e-9a3c-1d4e5f600002", "name": "Set total",
             "type": "n8n-nodes-base.set", "typeVersion": 3.4, "position": [220, 0],
             "parameters": {"mode": "manual", "includeOtherFields": True, "options": {},
                            "assignments": {"assignments": [
                                {"id": "0b6c9c3e-6a45-4c1e-9a3c-1d4e5f600004", "name": "total",
                                 "type": "number", "value": "={{ $json.body.a + $json.body.b }}"}]}}},
            {"id": "0b6c9c3e-6a45-4c1e-9a3c-1d4e5f600003", "name": "Respond",
             "type": "n8n-nodes-base.respondToWebhook", "typeVersion": 1.1, "position": [440, 0],
             "parameters": {"respondWith": "firstIncomingItem", "options": {}}},
        ],
        "connections": {
            "Webhook": {"main": [[{"node": "Set total", "type": "main", "index": 0}]]},
            "Set total": {"main": [[{"node": "Respond", "type": "main", "index": 0}]]},
        },
        "pinData": {},
    }]


class N8nPeer(_Peer):
    """n8n in regular mode (main process + its internal JS task runner), SQLite,
    every execution saved (EXECUTIONS_DATA_SAVE_ON_SUCCESS's default 'all')."""
    name = "n8n"

    @property
    def home(self):
        return os.path.join(self.dir, "n8n-run")          # N8N_USER_FOLDER

    @property
    def db_path(self):
        return os.path.join(self.home, ".n8n", "database.sqlite")

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/webhook/bench"

    def env(self, port=None, broker_port=None):
        e = {k: v for k, v in os.environ.items() if not k.startswith(("N8N_", "DB_", "EXECUTIONS_"))}
        e.update({
            "N8N_USER_FOLDER": self.home,
            "N8N_LISTEN_ADDRESS": "127.0.0.1",
            "N8N_HOST": "127.0.0.1",
            "N8N_PORT": str(port or 5678),
            # the internal task runner's broker has a fixed default port (5679)
            "N8N_RUNNERS_BROKER_PORT": str(broker_port or free_port()),
            "N8N_ENCRYPTION_KEY": "glyphic-bench-not-a-secret",
            "N8N_LOG_LEVEL": "warn",
            "N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS": "true",
            # nothing leaves the machine
            "N8N_DIAGNOSTICS_ENABLED": "false",
            "N8N_DIAGNOSTICS_CONFIG_FRONTEND": "",
            "N8N_DIAGNOSTICS_CONFIG_BACKEND": "",
            "N8N_VERSION_NOTIFICATIONS_ENABLED": "false",
            "N8N_VERSION_NOTIFICATIONS_WHATS_NEW_ENABLED": "false",
            "N8N_TEMPLATES_ENABLED": "false",
            "N8N_PERSONALIZATION_ENABLED": "false",
            "N8N_HIRING_BANNER_ENABLED": "false",
            "N8N_DYNAMIC_BANNERS_ENABLED": "false",
            "N8N_LICENSE_AUTO_RENEW_ENABLED": "false",
            "N8N_COMMUNITY_PACKAGES_ENABLED": "false",
            "N8N_AI_ENABLED": "false",
            "EXTERNAL_FRONTEND_HOOKS_URLS": "",
            "N8N_SENTRY_DSN": "",
            "N8N_FRONTEND_SENTRY_DSN": "",
            "NODE_ENV": "production",
        })
        return e

    def _n8n(self):
        return ["node", os.path.join(self.dir, "n8n", "node_modules", "n8n", "bin", "n8n")]

    def _cli(self, *args):
        r = subprocess.run(self._n8n() + list(args), cwd=self.dir, env=self.env(),
                           stdin=subprocess.DEVNULL, capture_output=True, text=True)
        with open(self.log_path, "a") as f:
            f.write(f"$ n8n {' '.join(args)}\n{r.stdout}{r.stderr}")
        if r.returncode != 0:
            raise RuntimeError(f"n8n {' '.join(args)} failed ({r.returncode}):\n{r.stdout}{r.stderr}")

    def provision(self):
        """Fresh user folder: import the workflow, then publish (= activate) it.

        Each CLI call boots n8n's DB layer; the first one runs all migrations."""
        shutil.rmtree(self.home, ignore_errors=True)
        os.makedirs(self.home)
        wf = os.path.join(self.dir, "n8n-bench-workflow.json")
        with open(wf, "w") as f:
            json.dump(n8n_workflow(), f, indent=1)
        self._cli("import:workflow", f"--input={wf}")
        self._cli("publish:workflow", f"--id={N8N_WORKFLOW_ID}")

    def start(self, port, timeout=240):
        self.port = port
        self.log_path = os.path.join(self.dir, "n8n.log")
        open(self.log_path, "w").close()
        self.provision()
        self._spawn(self._n8n() + ["start"], self.env(port), self.dir)
        return self._wait_ready(timeout)

    def executions(self):
        """{status: rows} in execution_entity, plus 'data': rows in execution_data
        (the full run data of each), read straight from the SQLite file."""
        con = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=30)
        try:
            out = dict(con.execute("SELECT status, count(*) FROM execution_entity GROUP BY status"))
            out["data"] = con.execute("SELECT count(*) FROM execution_data").fetchone()[0]
            return out
        finally:
            con.close()

    def saved_executions(self):
        return self.executions().get("success", 0)


NODE_RED_FLOWS = [
    {"id": "b0000000000000f1", "type": "tab", "label": "glyphic bench"},
    {"id": "b000000000000001", "type": "http in", "z": "b0000000000000f1", "name": "POST /bench",
     "url": "/bench", "method": "post", "upload": False, "swaggerDoc": "", "x": 120, "y": 80,
     "wires": [["b000000000000002"]]},
    {"id": "b000000000000002", "type": "function", "z": "b0000000000000f1", "name": "total",
     "func": "msg.payload.total = msg.payload.a + msg.payload.b;\nreturn msg;",
     "outputs": 1, "timeout": 0, "noerr": 0, "initialize": "", "finalize": "", "libs": [],
     "x": 300, "y": 80, "wires": [["b000000000000003"]]},
    {"id": "b000000000000003", "type": "http response", "z": "b0000000000000f1", "name": "",
     "statusCode": "", "headers": {}, "x": 460, "y": 80, "wires": []},
]

NODE_RED_SETTINGS = """\
module.exports = {
    flowFile: "flows.json",
    flowFilePretty: true,
    uiHost: "127.0.0.1",
    uiPort: %(port)d,
    httpAdminRoot: false,           // no editor, no admin API
    httpNodeRoot: "/",
    credentialSecret: "glyphic-bench-not-a-secret",
    logging: { console: { level: "warn", metrics: false, audit: false } },
    diagnostics: { enabled: false, ui: false },
    runtimeState: { enabled: false, ui: false },
    telemetry: { enabled: false, updateNotification: false },
    externalModules: { autoInstall: false, palette: { allowInstall: false }, modules: { allowInstall: false } },
    functionExternalModules: false,
    exportGlobalContextKeys: false,
};
"""


class NodeRedPeer(_Peer):
    """Node-RED: http in (POST /bench) → function (total) → http response; one
    process, nothing persisted per request."""
    name = "node-red"

    @property
    def home(self):
        return os.path.join(self.dir, "node-red-run")     # --userDir

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/bench"

    def start(self, port, timeout=120):
        self.port = port
        self.log_path = os.path.join(self.dir, "node-red.log")
        open(self.log_path, "w").close()
        shutil.rmtree(self.home, ignore_errors=True)
        os.makedirs(self.home)
        with open(os.path.join(self.home, "flows.json"), "w") as f:
            json.dump(NODE_RED_FLOWS, f, indent=1)
        settings = os.path.join(self.home, "settings.js")
        with open(settings, "w") as f:
            f.write(NODE_RED_SETTINGS % {"port": port})
        red = os.path.join(self.dir, "node-red", "node_modules", "node-red", "red.js")
        env = {**os.environ, "NODE_ENV": "production"}
        self._spawn(["node", red, "--userDir", self.home, "--settings", settings, "--port", str(port)],
                    env, self.home)
        return self._wait_ready(timeout)


PEERS = {"n8n": N8nPeer, "node-red": NodeRedPeer}


# --------------------------------------------------------------------------
# measurement

def measure(peer, seconds=20, warmup=5, settle=5, threads=2, conns=16, log=sys.stderr):
    """On a started peer: warm-up load, idle PSS, then wrk with PSS sampled
    every 0.5 s during the run. Returns the wrk figures plus pss_idle_mib,
    pss_load_mib (peak), pss_load_mean_mib, processes, and saved: how many
    executions the peer stored during the measured run (None if it stores none;
    counted 2 s after the run, as n8n writes the final state after answering)."""
    check_response(peer.url)
    if warmup:
        run_wrk(peer.url, seconds=warmup, threads=threads, conns=conns)
    time.sleep(settle)
    idle = pss_mib(peer.pids())
    saved_before = peer.saved_executions()
    samples, done = [], threading.Event()

    def sample():
        time.sleep(min(1.0, seconds / 4))  # let the load ramp up
        while not done.wait(0.5):
            samples.append((pss_mib(peer.pids()), len(peer.pids())))

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    try:
        res = run_wrk(peer.url, seconds=seconds, threads=threads, conns=conns)
    finally:
        done.set()
        t.join()
    res.update(pss_idle_mib=idle,
               pss_load_mib=max(s for s, _ in samples) if samples else None,
               pss_load_mean_mib=sum(s for s, _ in samples) / len(samples) if samples else None,
               processes=max(n for _, n in samples) if samples else len(peer.pids()))
    if saved_before is not None:
        time.sleep(2)
        res["saved"] = peer.saved_executions() - saved_before
    check_response(peer.url)
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", default=DEFAULT_DIR, help="scratch folder (default %(default)s)")
    ap.add_argument("--seconds", type=int, default=20, help="wrk duration (default %(default)s)")
    ap.add_argument("--warmup", type=int, default=5, help="wrk warm-up before idle PSS (default %(default)s)")
    ap.add_argument("--peers", default="n8n,node-red", help="comma-separated (default %(default)s)")
    ap.add_argument("--install-only", action="store_true")
    a = ap.parse_args(argv)
    install(a.dir, only=a.peers.split(","))
    if a.install_only:
        return 0
    rows = []
    for name in a.peers.split(","):
        peer = PEERS[name](a.dir)
        t = time.monotonic()
        with peer:
            item = peer.start(free_port())
            print(f"{name}: ready in {time.monotonic() - t:.0f} s at {peer.url}; answer has total="
                  f"{item['total']}", file=sys.stderr)
            r = measure(peer, a.seconds, warmup=a.warmup)
            if isinstance(peer, N8nPeer):
                print(f"n8n: stored {r['saved']} successful executions during the run, for {r['requests']} "
                      f"requests wrk counted (it leaves out those in flight at the end); "
                      f"now {peer.executions()} in {peer.db_path}", file=sys.stderr)
        rows.append((name, r))
    print(f"\n{'peer':10} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} "
          f"{'PSS idle MiB':>13} {'PSS load MiB':>13} {'procs':>5} {'saved':>7}")
    for name, r in rows:
        saved = "-" if r.get("saved") is None else str(r["saved"])
        print(f"{name:10} {r['rps']:9.1f} {r['p50_ms']:8.2f} {r['p99_ms']:8.2f} {r['errors']:7d} "
              f"{r['pss_idle_mib']:13.1f} {r['pss_load_mib'] or 0:13.1f} {r['processes']:5d} {saved:>7}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
