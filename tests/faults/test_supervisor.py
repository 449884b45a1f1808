"""The killed master is restarted (issue 10, item 7).

scripts/glyphic-up runs glyphic-fcgi, glyphic-events, glyphic-executor and nginx under a
supervisor, in --detach mode and in the foreground alike, as systemd would
with Restart=on-failure. Each case causes the failure for real: SIGKILL of
glyphic-fcgi's master (its workers follow it, so /api/health answers 503
until a new master serves), of the executor, of nginx's master, of the
supervisor itself; a program killed again and again (the delay must grow,
not spin); pid files left by a crash or a reboot that now name someone
else's process. `glyphic-up stop` must leave no process of the var dir.
Run as root, a restarted program runs as the account `glyphic` again.

The tests share one var dir (its cluster is created once) and each starts
and stops it on a free port of its own.
"""
import http.client
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import harness

UP = os.path.join(harness.SRC, "scripts", "glyphic-up")


def pid_in(path):
    try:
        with open(path) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def children(pid):
    kids = []
    for d in os.listdir("/proc"):
        try:
            with open(f"/proc/{d}/stat") as f:
                if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                    kids.append(int(d))
        except (OSError, ValueError, IndexError):
            pass
    return kids


def uids(pid):
    """The real, effective, saved and filesystem uids of a process."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Uid:"):
                return [int(x) for x in line.split()[1:]]
    return None


def argv0(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().split(b"\0")[0].decode(errors="replace")
    except OSError:
        return ""


class SupervisorTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.base = tempfile.mkdtemp(prefix="glyphic-sup-", dir="/tmp")
        os.chmod(cls.base, 0o755)
        cls.var = os.path.join(cls.base, "var")
        cls.env = dict(os.environ, GLYPHIC_VAR=cls.var, GLYPHIC_BUILD_DIR=harness.BUILD)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.base, ignore_errors=True)

    def setUp(self):
        self.port = harness.free_port()
        self.fg = None
        self.log_from = len(self.log())

    def tearDown(self):
        if self.fg and self.fg.poll() is None:
            self.fg.send_signal(signal.SIGTERM)
            try:
                self.fg.communicate(timeout=120)
            except subprocess.TimeoutExpired:
                self.fg.kill()
                self.fg.communicate()
        self.up("stop")
        for pid in self.processes_of_var():  # nothing may survive; if so, do not leak it
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass

    # -- helpers ----------------------------------------------------------

    def up(self, *args, check=False):
        r = subprocess.run([UP, "--no-install", *args], capture_output=True, text=True,
                           env=self.env, timeout=300)
        if check:
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return r

    def start_detached(self):
        r = self.up("--detach", "--port", str(self.port), check=True)
        self.assertEqual(self.health(), 200, r.stdout + r.stderr)
        return r

    def health(self):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            c.request("GET", "/api/health")
            r = c.getresponse()
            r.read()
            return r.status
        except OSError:
            return None
        finally:
            c.close()

    def pid(self, name):
        """The live pid glyphic-up recorded for a program (the same files
        before and after the supervisor: var/run, and nginx's own)."""
        path = (os.path.join(self.var, "nginx", "run", "nginx.pid") if name == "nginx"
                else os.path.join(self.var, "run", name + ".pid"))
        p = pid_in(path)
        return p if p and harness.alive(p) else None

    def log(self):
        """The supervisor's log, from where it was when this test began."""
        try:
            with open(os.path.join(self.var, "log", "supervisor.log")) as f:
                return f.read()[getattr(self, "log_from", 0):]
        except OSError:
            return ""

    def processes_of_var(self):
        """Every live process tied to this var dir: by its command line
        (glyphic-fcgi, the executor, nginx's master, postgres), its
        environment (the supervisor), its working directory (postgres) or
        an open file (nginx's workers hold its logs)."""
        found = []
        for d in os.listdir("/proc"):
            if not d.isdigit() or int(d) == os.getpid() or not harness.alive(int(d)):
                continue
            try:
                with open(f"/proc/{d}/cmdline", "rb") as f:
                    text = f.read()
                with open(f"/proc/{d}/environ", "rb") as f:
                    text += b"\0" + f.read()
                links = [os.readlink(f"/proc/{d}/cwd")]
                for fd in os.listdir(f"/proc/{d}/fd"):
                    try:
                        links.append(os.readlink(f"/proc/{d}/fd/{fd}"))
                    except OSError:
                        pass
            except OSError:
                continue
            if self.base.encode() in text or any(link.startswith(self.base) for link in links):
                found.append(int(d))
        return found

    def wait(self, pred, timeout, what):
        try:
            harness.wait_for(pred, timeout, what)
        except TimeoutError as e:
            self.fail(f"{e}; supervisor log:\n{self.log()}")

    def assert_restarted(self, name, old, timeout=10.0):
        """Waits until a new process runs as `name`; returns its pid."""
        self.wait(lambda: self.pid(name) not in (None, old), timeout,
                  f"a new {name} (the old pid was {old})")
        return self.pid(name)

    def assert_unprivileged(self, name):
        """Run as root, glyphic-up runs the program (nginx: its workers) as
        the account `glyphic`, restarted or not."""
        if os.geteuid() != 0:
            return
        acct = pwd.getpwnam("glyphic").pw_uid
        self.assertNotEqual(acct, 0)
        pid = self.pid(name)
        # the pid file is written at the fork: wait for the program itself
        # (nginx: for its workers, which switch user before naming themselves)
        if name == "nginx":
            self.wait(lambda: any(argv0(c) == "nginx: worker process" for c in children(pid)), 10,
                      "nginx's workers")
            self.assertEqual(uids(pid)[0], 0)
            procs = [c for c in children(pid) if argv0(c) == "nginx: worker process"]
        else:
            self.wait(lambda: os.path.basename(argv0(pid)) == name, 10, f"{name} to run")
            procs = [pid] + children(pid)
        self.assertTrue(procs, name)
        for p in procs:
            self.assertEqual(uids(p), [acct] * 4, f"{name} process {p}")

    def assert_all_gone(self):
        self.wait(lambda: not self.processes_of_var(), 10,
                  "every process of the var dir to be gone")

    # -- tests ------------------------------------------------------------

    def test_detached_restarts_what_dies(self):
        self.start_detached()

        # glyphic-fcgi's master: its workers die with it, so nothing serves
        # until the supervisor starts a new master
        master = self.pid("glyphic-fcgi")
        self.assertIsNotNone(master)
        workers = children(master)
        self.assertTrue(workers)
        os.kill(master, signal.SIGKILL)
        t0 = time.monotonic()
        self.wait(lambda: self.pid("glyphic-fcgi") not in (None, master)
                  and self.health() == 200, 10, "/api/health 200 from a new master")
        print(f"\nfcgi master SIGKILL -> health 200 again in {time.monotonic() - t0:.1f} s")
        self.wait(lambda: not any(harness.alive(w) for w in workers), 10,
                  "the old master's workers to be gone")
        self.wait(lambda: children(self.pid("glyphic-fcgi")), 10, "the new master's workers")
        self.assert_unprivileged("glyphic-fcgi")
        self.assertRegex(self.log(), rf"glyphic-fcgi \(pid {master}\) killed by signal 9")
        st = self.up("status")
        self.assertEqual(st.returncode, 0, st.stdout)
        self.assertRegex(st.stdout, r"supervisor: +running \(pid \d+\)")

        # the executor
        old = self.pid("glyphic-executor")
        self.assertIsNotNone(old)
        os.kill(old, signal.SIGKILL)
        new = self.assert_restarted("glyphic-executor", old)
        self.assert_unprivileged("glyphic-executor")
        st = self.up("status")
        self.assertIn(f"executor:     running (pid {new})", st.stdout)
        self.assertEqual(st.returncode, 0, st.stdout)

        # nginx's master: its workers outlive it and keep the port, so they
        # must go before a new master can listen
        old = self.pid("nginx")
        self.assertIsNotNone(old)
        os.kill(old, signal.SIGKILL)
        self.assert_restarted("nginx", old)
        self.wait(lambda: self.health() == 200, 10, "/api/health 200 through a new nginx")
        self.assert_unprivileged("nginx")
        # glyphic-events too
        old = self.pid("glyphic-events")
        self.assertIsNotNone(old)
        os.kill(old, signal.SIGKILL)
        self.assert_restarted("glyphic-events", old)
        self.assert_unprivileged("glyphic-events")

        # stop while a restart is pending: the supervisor goes first, so
        # nothing is started behind stop's back
        os.kill(self.pid("glyphic-executor"), signal.SIGKILL)
        stop = self.up("stop")
        self.assertEqual(stop.returncode, 0, stop.stderr)
        self.assertIn("supervisor stopped", stop.stdout)
        self.assertIn("PostgreSQL stopped", stop.stdout)
        self.assert_all_gone()
        st = self.up("status")
        self.assertEqual(st.returncode, 1, st.stdout)
        self.assertRegex(st.stdout, r"supervisor: +stopped")
        self.assertIsNone(self.health())
        self.assertNotIn("restarted", self.log().split(" stopping\n")[-1])

    def test_crash_loop_backs_off(self):
        self.start_detached()
        # killed as soon as it is back, three times: 1, 2, 4 s, not a spin
        gaps, pids = [], [self.pid("glyphic-executor")]
        for _ in range(3):
            os.kill(pids[-1], signal.SIGKILL)
            t0 = time.monotonic()
            pids.append(self.assert_restarted("glyphic-executor", pids[-1], timeout=20))
            gaps.append(time.monotonic() - t0)
        print(f"\nkill -> restart in a crash loop: {', '.join(f'{g:.1f}' for g in gaps)} s")
        self.assertLess(gaps[0], 3.5, gaps)
        self.assertGreaterEqual(gaps[1], 2.0, gaps)
        self.assertGreaterEqual(gaps[2], 4.0, gaps)
        log = self.log()
        for pid, delay in zip(pids, (1, 2, 4)):
            self.assertRegex(log, rf"glyphic-executor \(pid {pid}\) killed by signal 9 \(SIGKILL\)"
                                  rf" after \d+ s; restarting in {delay} s")
        # the others were left alone
        self.assertEqual(self.health(), 200)
        self.assertNotIn("glyphic-fcgi restarted", log)
        self.assertNotIn("nginx restarted", log)

        # once it stayed up a while, the next death is a fresh one: 1 s again
        time.sleep(10.5)
        os.kill(pids[-1], signal.SIGKILL)
        t0 = time.monotonic()
        self.assert_restarted("glyphic-executor", pids[-1])
        self.assertLess(time.monotonic() - t0, 3.5)
        self.assertRegex(self.log(), rf"glyphic-executor \(pid {pids[-1]}\) killed by signal 9"
                                     rf" \(SIGKILL\) after 1\d s; restarting in 1 s")

    def test_stale_pid_files_and_killed_supervisor(self):
        # pid files as a reboot or a SIGKILL leaves them: the numbers now
        # belong to an unrelated process, or to nobody
        bystander = subprocess.Popen(["sleep", "300"])
        try:
            run = os.path.join(self.var, "run")
            os.makedirs(os.path.join(self.var, "nginx", "run"), exist_ok=True)
            os.makedirs(run, exist_ok=True)
            for name in ("supervisor", "glyphic-fcgi", "glyphic-events", "glyphic-executor", "nginx"):
                with open(os.path.join(run, name + ".pid"), "w") as f:
                    f.write(f"{bystander.pid}\n")
            with open(os.path.join(self.var, "nginx", "run", "nginx.pid"), "w") as f:
                f.write("4194000\n")
            st = self.up("status")
            self.assertEqual(st.returncode, 1, st.stdout)
            self.assertNotIn("running (pid", st.stdout)

            self.start_detached()
            self.assertIsNone(bystander.poll())

            # the supervisor killed outright: the programs run on, unwatched;
            # stop still stops them all
            sup = pid_in(os.path.join(run, "supervisor.pid"))
            self.assertTrue(sup and sup != bystander.pid and harness.alive(sup))
            os.kill(sup, signal.SIGKILL)
            harness.wait_for(lambda: not harness.alive(sup), 5, "the supervisor to die")
            st = self.up("status")
            self.assertRegex(st.stdout, r"supervisor: +stopped")
            self.assertRegex(st.stdout, r"fcgi: +running")

            stop = self.up("stop")
            self.assertEqual(stop.returncode, 0, stop.stderr)
            self.assert_all_gone()
            self.assertIsNone(bystander.poll(), "stop killed a process it did not start")
        finally:
            bystander.kill()
            bystander.wait()

    def test_foreground_restarts_and_ctrl_c_stops(self):
        # as from a terminal: its own process group, SIGINT not ignored
        # (ctest or a shell's background job may have passed it ignored)
        self.fg = subprocess.Popen([UP, "--no-install", "--port", str(self.port)],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True, env=self.env, start_new_session=True,
                                   preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        harness.wait_for(lambda: self.health() == 200 or self.fg.poll() is not None, 120,
                         "the foreground glyphic-up to serve")
        if self.fg.poll() is not None:
            self.fail("glyphic-up exited:\n" + self.fg.stdout.read())

        master = self.pid("glyphic-fcgi")
        os.kill(master, signal.SIGKILL)
        self.wait(lambda: self.pid("glyphic-fcgi") not in (None, master)
                  and self.health() == 200, 10, "/api/health 200 from a new master")
        self.assertIsNone(self.fg.poll())

        os.killpg(self.fg.pid, signal.SIGINT)  # Ctrl-C: the terminal's whole foreground group
        out, _ = self.fg.communicate(timeout=120)
        self.assertEqual(self.fg.returncode, 0, out)
        self.assertIn(f"glyphic-fcgi (pid {master}) killed by signal 9", out)
        self.assertIn("PostgreSQL stopped", out)
        self.assert_all_gone()


if __name__ == "__main__":
    unittest.main(verbosity=2)
