"""Test harness: a throwaway PostgreSQL cluster, glyphic-fcgi, glyphic-events and nginx.

Everything runs on this machine: PostgreSQL on a private unix socket in a
temporary folder (named by a free port number), glyphic-fcgi on a unix
socket, nginx on a free 127.0.0.1 port with a config rendered from nginx/ by
scripts/render-nginx -- the same templates an operator installs.

PostgreSQL refuses to run as root: when the harness runs as root, the
cluster runs as the `postgres` account, and the temporary folder is made
traversable for it.
"""
import contextlib
import glob
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

SRC = os.environ.get("GLYPHIC_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("GLYPHIC_BUILD_DIR") or os.path.join(SRC, "build")
IS_ROOT = os.geteuid() == 0

# http.request refuses loopback and other internal addresses unless the
# configuration lists them. Tests whose workflows call the local test server
# (testserver.py, on 127.0.0.1) add this to their settings; no other test
# gets it, so the default refusal holds everywhere else.
ALLOW_TEST_SERVER = {"http.allow_private": "127.0.0.1/32"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_bindir():
    cands = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                   key=lambda p: int(p.split("/")[-2]))
    if not cands:
        raise RuntimeError("PostgreSQL server binaries not found (scripts/install-deps)")
    return cands[-1]


def alive(pid):
    """True if pid exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def rss_kib(pid):
    """A process's resident set (VmRSS) in KiB; None when it is gone."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def with_peak_rss(pids, call):
    """call()'s result, and per pid its RSS before and the most it reached
    while call ran (KiB; sampled every 5 ms): (result, base, peak)."""
    base = {p: rss_kib(p) for p in pids}
    peak = dict(base)
    done = threading.Event()

    def sample():
        while not done.is_set():
            for p in pids:
                v = rss_kib(p)
                if v is not None and (peak[p] is None or v > peak[p]):
                    peak[p] = v
            time.sleep(0.005)
    t = threading.Thread(target=sample)
    t.start()
    try:
        out = call()
    finally:
        done.set()
        t.join()
    return out, base, peak


def rss_growth(base, peak):
    """The most any process's RSS grew (KiB) in a with_peak_rss."""
    return max((peak[p] - base[p]) for p in base if base[p] is not None and peak[p] is not None)


def wait_for(pred, timeout=15.0, what="condition"):
    """Calls pred until it returns something true, and returns that."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise TimeoutError(f"timed out waiting for {what}")


def serving(proc, name, path):
    """True once the program proc accepts on the unix socket path; raises if it exited."""
    if proc and proc.poll() is not None:
        raise RuntimeError(f"{name} exited with {proc.returncode}")
    with contextlib.suppress(OSError):
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(path)
            return True
    return False


def terminate(proc, timeout=20):
    """SIGTERM, then SIGKILL after timeout seconds."""
    if proc and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def advisory_lock_held(pg, key_sql):
    """Holds pg_advisory_xact_lock(hashtextextended(key_sql, 0)) (key_sql is
    an SQL text expression) from a psql session of its own until the block
    ends: requests that take the same lock queue behind it meanwhile; the
    function it yields, waiting(n), returns once n sessions wait for an
    advisory lock."""
    # the session is told apart by its application_name: other advisory
    # locks (the executor's maintainer election) must not pass for this one
    env = dict(os.environ, PGAPPNAME="harness_lock")
    proc = subprocess.Popen([os.path.join(pg.bindir, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
                             "-h", pg.sock, "-p", str(pg.port), "-U", "postgres", "-d", "glyphic"],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env=env)
    proc.stdin.write(f"BEGIN; SELECT pg_advisory_xact_lock(hashtextextended({key_sql}, 0));\n")
    proc.stdin.flush()
    held = ("SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
            "WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = 'harness_lock'")
    queued = ("SELECT count(*) FROM pg_locks l WHERE l.locktype = 'advisory' AND NOT l.granted "
              "AND (l.classid, l.objid) IN (SELECT h.classid, h.objid FROM pg_locks h "
              "JOIN pg_stat_activity a USING (pid) WHERE h.locktype = 'advisory' AND h.granted "
              "AND a.application_name = 'harness_lock')")

    def waiting(n):
        wait_for(lambda: int(pg.psql(queued) or 0) >= n, what=f"{n} waiting for the lock")

    try:
        wait_for(lambda: int(pg.psql(held) or 0) >= 1, what="the advisory lock")
        yield waiting
    finally:
        proc.stdin.write("COMMIT;\n")
        proc.stdin.close()
        proc.wait(timeout=20)
        proc.stderr.close()


class Postgres:
    def __init__(self, base, settings=None):
        self.base = base
        self.bindir = pg_bindir()
        self.data = os.path.join(base, "pgdata")
        self.sock = os.path.join(base, "pgsock")
        self.log = os.path.join(base, "postgres.log")
        self.port = free_port()
        self.settings = {
            "listen_addresses": "''",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.sock}'",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "200",
        }
        self.settings.update(settings or {})

    def _as_pg(self, argv):
        return (["runuser", "-u", "postgres", "--"] + argv) if IS_ROOT else argv

    def _run(self, argv, **kw):
        r = subprocess.run(self._as_pg(argv), capture_output=True, text=True, **kw)
        if r.returncode != 0:
            raise RuntimeError(f"{os.path.basename(argv[0])} failed: {r.stderr.strip()} {r.stdout.strip()}")
        return r

    def init(self):
        os.makedirs(self.sock, exist_ok=True)
        os.makedirs(self.data, mode=0o700, exist_ok=True)
        open(self.log, "a").close()
        if IS_ROOT:
            for p in (self.sock, self.data, self.log):
                shutil.chown(p, "postgres", "postgres")
        self._run([os.path.join(self.bindir, "initdb"), "-D", self.data, "-U", "postgres",
                   "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"])
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            for k, v in self.settings.items():
                f.write(f"{k} = {v}\n")

    def start(self):
        self._run([os.path.join(self.bindir, "pg_ctl"), "-D", self.data, "-l", self.log,
                   "-w", "-t", "30", "start"])

    def stop(self, mode="fast"):
        subprocess.run(self._as_pg([os.path.join(self.bindir, "pg_ctl"), "-D", self.data,
                                    "-m", mode, "-w", "-t", "30", "stop"]),
                       capture_output=True, text=True)

    def conninfo(self, user="postgres", db="glyphic"):
        return f"host={self.sock} port={self.port} dbname={db} user={user}"

    def psql(self, sql, user="postgres", db="glyphic", check=True):
        """Runs sql with psql; returns stdout (unaligned, tuples only)."""
        if os.environ.get("GLYPHIC_TEST_LAYOUT") == "single" and user in ("glyphic_app", "glyphic_executor"):
            # one role is all three: the executor's sessions carry the setting
            sql = ("SET glyphic.trusted = 'on'; " if user == "glyphic_executor" else "") + sql
            user = "glyphic_single"
        r = subprocess.run([os.path.join(self.bindir, "psql"), "-X", "-A", "-t", "-q",
                            "-v", "ON_ERROR_STOP=1", "-h", self.sock, "-p", str(self.port),
                            "-U", user, "-d", db, "-c", sql],
                           capture_output=True, text=True)
        if check and r.returncode != 0:
            raise RuntimeError(f"psql failed: {r.stderr.strip()}")
        return r.stdout.strip() if check else r

    def createdb(self, name="glyphic"):
        self.psql(f'CREATE DATABASE "{name}"', db="postgres")


class Fcgi:
    def __init__(self, base, pg, workers=2, extra=None, build=None):
        self.base = base
        self.build = build or BUILD  # the build whose programs run (test_upgrade: an older one's)
        self.socket = os.path.join(base, "fcgi.sock")
        self.hooks_socket = os.path.join(base, "hooks.sock")
        self.conf = os.path.join(base, "glyphic.conf")
        self.log = os.path.join(base, "glyphic-fcgi.log")
        self.key_file = os.path.join(base, "secret.key")
        if not os.path.exists(self.key_file):
            subprocess.run([os.path.join(self.build, "cli", "glyphic"), "keygen", self.key_file], check=True,
                           stdout=subprocess.DEVNULL)
        self.settings = {
            "secrets.key_file": self.key_file,
            "log.level": "debug",
            "log.file": self.log,
            "db.url": pg.conninfo("glyphic_app"),
            "db.executor_url": pg.conninfo("glyphic_executor"),
            "db.admin_url": pg.conninfo("postgres"),
            "db.retry_interval": "200",
            "fcgi.socket": self.socket,
            "fcgi.socket_mode": "0666",
            "fcgi.hooks_socket": self.hooks_socket,
            "fcgi.workers": str(workers),
            "fcgi.shutdown_timeout": "10",
            "auth.open_signup": "true",
            "auth.cookie_secure": "false",
            "auth.scrypt_n": "10",
            "files.dir": os.path.join(base, "files"),
        }
        module = os.path.join(self.build, "sql", "context", "glyphic_context.so")
        if os.path.exists(module):
            # the request context in memory (sql/035): a copy the server (run
            # as postgres) can read wherever the build is
            copy = os.path.join(base, "glyphic_context.so")
            shutil.copyfile(module, copy)
            os.chmod(copy, 0o644)
            self.settings["db.context_module"] = copy
        self.settings.update(extra or {})
        self.proc = None

    def write_conf(self, **changes):
        """Writes the config file atomically (a reader never sees half of it)."""
        self.settings.update(changes)
        tmp = self.conf + ".tmp"
        with open(tmp, "w") as f:
            f.write("# written by tests/integration/harness.py\n")
            for k, v in self.settings.items():
                f.write(f'{k} = "{v}"\n')
        os.replace(tmp, self.conf)

    def start(self, wait=True):
        self.write_conf()
        env = dict(os.environ)
        env.pop("GLYPHIC_CONFIG", None)
        with open(self.log + ".stderr", "a") as err:
            self.proc = subprocess.Popen([os.path.join(self.build, "fcgi", "glyphic-fcgi"), "-c", self.conf],
                                         stdout=subprocess.DEVNULL, stderr=err, env=env)
        if wait:
            wait_for(self.connectable, what="glyphic-fcgi socket")
            wait_for(lambda: len(self.workers()) >= self.total(),
                     what="glyphic-fcgi workers")

    def total(self, workers=None):
        """Workers the master keeps: fcgi.workers, plus fcgi.api_workers with a webhooks socket."""
        w = int(workers if workers is not None else self.settings["fcgi.workers"])
        if self.settings.get("fcgi.hooks_socket"):
            w += int(self.settings.get("fcgi.api_workers", "1"))
        return w

    def connectable(self):
        return serving(self.proc, "glyphic-fcgi", self.socket)

    def workers(self):
        """Pids of the master's live (non-zombie) children."""
        out = []
        for st in glob.glob("/proc/[0-9]*/stat"):
            with contextlib.suppress(OSError):
                with open(st) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                if int(fields[1]) == self.proc.pid and fields[0] != "Z":
                    out.append(int(st.split("/")[2]))
        return sorted(out)

    def stop(self, timeout=20):
        terminate(self.proc, timeout)

    def log_text(self):
        with open(self.log, errors="replace") as f:
            return f.read()


class Events:
    """glyphic-events, reading the same config file as glyphic-fcgi."""

    def __init__(self, base, fcgi):
        self.fcgi = fcgi
        self.socket = os.path.join(base, "events.sock")
        self.stderr = os.path.join(base, "glyphic-events.stderr")
        fcgi.settings["events.socket"] = self.socket
        fcgi.settings["events.socket_mode"] = "0666"
        self.proc = None

    def start(self, wait=True):
        self.fcgi.write_conf()
        env = dict(os.environ)
        env.pop("GLYPHIC_CONFIG", None)
        with open(self.stderr, "a") as err:
            self.proc = subprocess.Popen([os.path.join(self.fcgi.build, "events", "glyphic-events"), "-c", self.fcgi.conf],
                                         stdout=subprocess.DEVNULL, stderr=err, env=env)
        if wait:
            wait_for(self.connectable, what="glyphic-events socket")

    def connectable(self):
        return serving(self.proc, "glyphic-events", self.socket)

    def stop(self, timeout=20):
        terminate(self.proc, timeout)


class Nginx:
    def __init__(self, base, socket_path, max_body="2m", access_log="off", limits=True, events_path=None,
                 hooks_path=None, settings=None):
        self.limits = limits
        # glyphic's settings (Fcgi.settings): files.dir and files.max_file_bytes,
        # read when the config is rendered
        self.settings = settings if settings is not None else {}
        self.dir = os.path.join(base, "nginx")
        self.port = free_port()
        self.socket_path = socket_path
        self.events_path = events_path
        self.hooks_path = hooks_path or socket_path
        self.max_body = max_body
        self.access_log = access_log
        self.proc = None

    def render(self, extra_args=()):
        # tests that sign up many users lift the sign-in rate limit; the
        # limit itself is tested with the shipped defaults (limits=True)
        limit_args = () if self.limits else ("--auth-rate", "10000r/s", "--auth-burst", "10000",
                                             "--hooks-rate", "100000r/s", "--hooks-burst", "100000")
        subprocess.run([os.path.join(SRC, "scripts", "render-nginx"), "--out", self.dir,
                        "--socket", self.socket_path, "--events", self.events_path,
                        "--hooks-socket", self.hooks_path, "--listen", f"127.0.0.1:{self.port}",
                        "--max-body", self.max_body, "--access-log", self.access_log,
                        "--workers", "2",
                        "--files-dir", self.settings.get("files.dir", os.path.join(self.dir, "files")),
                        "--max-file-body", str(self.settings.get("files.max_file_bytes", "268435456")),
                        *limit_args, *extra_args], check=True)

    def start(self, extra_args=()):
        self.render(extra_args)
        self.proc = subprocess.Popen(["nginx", "-p", self.dir, "-c", os.path.join(self.dir, "nginx.conf"),
                                      "-g", "daemon off;"], stderr=subprocess.DEVNULL)

        def up():
            if self.proc.poll() is not None:
                raise RuntimeError("nginx exited; see " + os.path.join(self.dir, "log"))
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return True
            return False
        wait_for(up, what="nginx")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def __repr__(self):
        return f"<{self.status} {self.body[:300]!r}>"


class Client:
    """An HTTP client that keeps the session cookie and sends the CSRF token."""

    def __init__(self, env):
        self.env = env
        self.cookie = None
        self.csrf = None
        self.key = None
        self.org = None
        self.me = None

    def request(self, method, path, body=None, headers=None, csrf=True):
        hdrs = dict(headers or {})
        if self.cookie:
            hdrs.setdefault("Cookie", f"glyphic_session={self.cookie}")
        if self.key:
            hdrs.setdefault("Authorization", f"Bearer {self.key}")
        if self.org:
            hdrs.setdefault("X-Glyphic-Org", self.org)
        if csrf and self.csrf and method not in ("GET", "HEAD"):
            hdrs.setdefault("X-CSRF-Token", self.csrf)
        r = self.env.request(method, path, body=body, headers=hdrs)
        for k, v in r.headers:
            if k.lower() == "set-cookie" and v.startswith("glyphic_session="):
                val = v.split(";", 1)[0].split("=", 1)[1]
                self.cookie = val or None
        if r.status in (200, 201) and r.body.startswith(b"{"):
            with contextlib.suppress(ValueError, AttributeError):
                tok = r.json().get("csrf_token")
                if tok:
                    self.csrf = tok
        return r

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body if body is not None else {}, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body=body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body=body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


class Env:
    """PostgreSQL (migrated), glyphic-fcgi and nginx, torn down by close()."""

    def __init__(self, workers=2, fcgi_extra=None, max_body="2m", migrate=True, nginx_limits=False,
                 pg_settings=None, build=None):
        """build: the build folder whose programs run (default GLYPHIC_BUILD_DIR);
        use_build() changes it for the next start."""
        self.base = tempfile.mkdtemp(prefix="glyphic-test-", dir="/tmp")
        os.chmod(self.base, 0o755)
        self.executors = []
        self.pg = Postgres(self.base, pg_settings)
        self.fcgi = Fcgi(self.base, self.pg, workers, fcgi_extra, build)
        self.events = Events(self.base, self.fcgi)
        self.nginx = Nginx(self.base, self.fcgi.socket, max_body=max_body, limits=nginx_limits,
                           events_path=self.events.socket,
                           hooks_path=self.fcgi.settings["fcgi.hooks_socket"] or self.fcgi.socket,
                           settings=self.fcgi.settings)
        try:
            self.pg.init()
            self.pg.start()
            self.pg.createdb()
            if os.environ.get("GLYPHIC_TEST_LAYOUT") == "single":
                # the whole stack as one role that owns its database (see test_single_role)
                self.pg.psql("CREATE ROLE glyphic_single LOGIN; ALTER DATABASE glyphic OWNER TO glyphic_single",
                             db="postgres")
                one = self.pg.conninfo("glyphic_single")
                self.fcgi.settings.update({"db.url": one, "db.executor_url": one, "db.admin_url": one})
                if migrate:
                    self.glyphic("migrate", "--single-role")
            elif migrate:
                self.glyphic("migrate")
        except Exception:
            self.close()
            raise

    def start_all(self):
        try:
            self.fcgi.start()
            self.events.start()
            self.nginx.start()
        except Exception:
            self.close()
            raise
        return self

    @property
    def build(self):
        return self.fcgi.build

    def use_build(self, build):
        """Programs started from now on (and the CLI) are build's."""
        self.fcgi.build = build

    def start_executor(self, *args, log="executor.stderr"):
        """glyphic-executor --daemon (with args) on this env's config, in a
        process group of its own; its stderr goes to log in the env's folder
        (checked for sanitizer reports); close() stops what is still running."""
        self.fcgi.write_conf()
        with open(os.path.join(self.base, log), "a") as err:
            p = subprocess.Popen([os.path.join(self.build, "executor", "glyphic-executor"), "-c", self.fcgi.conf,
                                  "--daemon", *args], stdout=subprocess.DEVNULL, stderr=err,
                                 start_new_session=True)
        self.executors.append(p)
        return p

    @staticmethod
    def stop_executor(p, sig=signal.SIGTERM, timeout=30):
        """Signals the executor's whole process group and waits for it."""
        if p.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, sig)
        p.wait(timeout)

    def glyphic(self, *args, check=True):
        """Runs the CLI with this env's config; returns the CompletedProcess."""
        self.fcgi.write_conf()
        r = subprocess.run([os.path.join(self.build, "cli", "glyphic"), "-c", self.fcgi.conf, *args],
                           capture_output=True, text=True)
        if check and r.returncode != 0:
            raise RuntimeError(f"glyphic {' '.join(args)} failed ({r.returncode}): {r.stderr}")
        return r

    def request(self, method, path, body=None, headers=None, timeout=30):
        conn = http.client.HTTPConnection("127.0.0.1", self.nginx.port, timeout=timeout)
        hdrs = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        elif isinstance(body, str):
            body = body.encode()
        try:
            conn.request(method, path, body=body, headers=hdrs)
            r = conn.getresponse()
            return Response(r.status, r.getheaders(), r.read())
        finally:
            conn.close()

    def sanitizer_reports(self):
        """AddressSanitizer/UBSan/LeakSanitizer reports our processes wrote."""
        found = []
        for path in glob.glob(os.path.join(self.base, "*.stderr")):
            with open(path, errors="replace") as f:
                text = f.read()
            for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
                if marker in text:
                    found.append(f"{path}:\n{text[-4000:]}")
                    break
        return found

    def client(self):
        return Client(self)

    def signup(self, email, password="correct horse battery", name="Tester", **extra):
        """A signed-in Client for a new account (its own org unless invited)."""
        c = Client(self)
        r = c.post("/api/auth/signup", {"email": email, "password": password, "name": name, **extra})
        if r.status != 201:
            raise AssertionError(f"signup {email}: {r}")
        c.me = r.json()
        return c

    def app_context(self, user_id, org_id=None):
        """SQL that gives a glyphic_app psql session user_id's request context
        the only way the database allows: a session token it verifies (the
        session row is made here as the superuser)."""
        token = os.urandom(16).hex()
        self.pg.psql(f"INSERT INTO glyphic.sessions (token_hash, user_id, expires_at) "
                     f"VALUES (sha256('{token}'::bytea), '{user_id}', now() + interval '1 hour')")
        org = f"'{org_id}'" if org_id else "NULL"
        return f"SELECT count(*) FROM glyphic.auth_session(sha256('{token}'::bytea), {org}, 3600)"

    def member_of(self, admin, role, password="correct horse battery"):
        """A signed-in Client for a new account invited into admin's org."""
        email = f"m-{os.urandom(4).hex()}@example.com"
        r = admin.post(f"/api/orgs/{admin.me['org_id']}/invitations", {"email": email, "role": role})
        if r.status != 201:
            raise AssertionError(f"invite {email}: {r}")
        return self.signup(email, password=password, name="M", invitation=r.json()["token"])

    def close(self):
        for p in self.executors:
            with contextlib.suppress(Exception):
                self.stop_executor(p)
        for part in (self.nginx, self.events, self.fcgi):
            with contextlib.suppress(Exception):
                part.stop()
        with contextlib.suppress(Exception):
            self.pg.stop("immediate")
        reports = self.sanitizer_reports()
        if os.environ.get("GLYPHIC_KEEP_TEST_DIRS") or reports:
            print("kept", self.base)
        else:
            shutil.rmtree(self.base, ignore_errors=True)
        if reports:
            raise AssertionError("sanitizer reports:\n" + "\n".join(reports))
