"""cmake --install (issue 17, the install part): the tree it writes under a
prefix of one's own (binaries, render-nginx and its templates, the
migrations, the built editor, man pages from the programs' --help,
systemd units and a cron example that name the prefix's binaries, and a
configuration example that sets nothing); nothing written outside the
prefix, so `--prefix $HOME/.local` needs no root; the installed programs
run, and the installed render-nginx renders a configuration nginx takes."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import harness

PROGRAMS = ["glyphic-fcgi", "glyphic-events", "glyphic-executor", "glyphic"]
UNITS = ["glyphic-fcgi.socket", "glyphic-fcgi.service", "glyphic-events.service", "glyphic-executor.service",
         "glyphic-drain.service", "glyphic-drain.timer", "glyphic-prune.service", "glyphic-prune.timer"]
PREFIX = None
INSTALL = None


def setUpModule():
    global PREFIX, INSTALL
    PREFIX = tempfile.mkdtemp(prefix="glyphic-install-")
    INSTALL = subprocess.run(["cmake", "--install", harness.BUILD, "--prefix", PREFIX],
                             capture_output=True, text=True)


def tearDownModule():
    shutil.rmtree(PREFIX, ignore_errors=True)


def under(*parts):
    return os.path.join(PREFIX, *parts)


def run(*args, **kw):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=60, **kw)


def man(page):
    """A man page as plain text (man's overstrike bold and underline undone)."""
    r = run("man", "-l", page, env={**os.environ, "MANWIDTH": "100"})
    return r.returncode, re.sub(r".\x08", "", r.stdout), r.stderr


class InstallTest(unittest.TestCase):
    def test_install_succeeds_and_stays_in_its_prefix(self):
        self.assertEqual(INSTALL.returncode, 0, INSTALL.stderr)
        with open(os.path.join(harness.BUILD, "install_manifest.txt")) as fh:
            written = [line.strip() for line in fh if line.strip()]
        self.assertTrue(written)
        outside = [p for p in written if not p.startswith(PREFIX + "/")]
        self.assertEqual(outside, [], "cmake --install wrote outside its prefix")

    def test_programs_run_from_the_prefix(self):
        for prog in PROGRAMS:
            with self.subTest(prog=prog):
                path = under("bin", prog)
                self.assertTrue(os.access(path, os.X_OK), path)
                built = run(os.path.join(harness.BUILD, {"glyphic-fcgi": "fcgi", "glyphic-events": "events",
                                                         "glyphic-executor": "executor", "glyphic": "cli"}[prog],
                                         prog), "--version").stdout
                r = run(path, "--version")
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(r.stdout, built)
                self.assertRegex(r.stdout, rf"^{prog} \d+\.\d+\.\d+ \(schema \d+\)\n$")
        # a workflow runs with the installed CLI (no database needed)
        wf = under("smoke.json")
        with open(wf, "w") as fh:
            fh.write('{"nodes": [{"id": "t", "type": "trigger.manual", "name": "Start"},'
                     '{"id": "s", "type": "data.set", "name": "Set", "params": {"fields": {"sum": "{{ 2 + 3 }}"}}}],'
                     '"edges": [{"from": "t", "to": "s"}]}')
        r = run(under("bin", "glyphic"), "run", wf, env={**os.environ, "GLYPHIC_CONFIG": "/dev/null"})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('"sum":5', r.stdout.replace(" ", ""))

    def test_man_pages_come_from_the_help(self):
        for prog in PROGRAMS:
            with self.subTest(prog=prog):
                page = under("share", "man", "man1", prog + ".1.gz")
                self.assertTrue(os.path.exists(page), page)
                rc, text, err = man(page)
                self.assertEqual(rc, 0, err)
                self.assertIn("NAME", text)
                self.assertIn(prog, text)
                # the options of its --help are in it
                self.assertIn("--help", text)
        text = man(under("share", "man", "man1", "glyphic-executor.1.gz"))[1]
        for opt in ("--drain", "--daemon", "--max-seconds"):
            self.assertIn(opt, text)
        rc, text, err = man(under("share", "man", "man1", "glyphic-render-nginx.1.gz"))
        self.assertEqual(rc, 0, err)
        for opt in ("--snippets", "--hooks-host", "--metrics-allow"):
            self.assertIn(opt, text)

    def test_units_and_cron_name_the_prefix(self):
        for unit in UNITS:
            with self.subTest(unit=unit):
                path = under("lib", "systemd", "system", unit)
                with open(path) as fh:
                    text = fh.read()
                self.assertNotIn("@", text.replace("$MAINPID", ""), "an unrendered template variable")
                for line in text.splitlines():
                    if line.startswith("ExecStart="):
                        exe = line.split("=", 1)[1].split()[0]
                        self.assertTrue(exe.startswith(under("bin") + "/"), line)
                        self.assertTrue(os.access(exe, os.X_OK), exe)
                        self.assertIn(f"-c {under('etc', 'glyphic', 'glyphic.conf')}", line)
                if shutil.which("systemd-analyze"):
                    # what systemd would say of it: no unknown key, nothing not executable
                    r = run("systemd-analyze", "verify", "--man=no", path)
                    self.assertEqual((r.returncode, r.stdout + r.stderr), (0, ""), path)
        with open(under("share", "doc", "glyphic", "examples", "glyphic.cron")) as fh:
            cron = [line for line in fh if line.strip() and not line.startswith("#")]
        self.assertEqual(len(cron), 2)
        self.assertIn(under("bin", "glyphic-executor") + " -c " + under("etc", "glyphic", "glyphic.conf") +
                      " --drain --max-seconds 55", cron[0])
        self.assertIn(under("bin", "glyphic") + " ", cron[1])

    def test_configuration_example_sets_nothing(self):
        example = under("etc", "glyphic", "glyphic.conf.example")
        with open(example) as fh:
            text = fh.read()
        self.assertIn("#db.url = ", text)
        self.assertIn("#files.max_file_bytes = ", text)
        env = {k: v for k, v in os.environ.items() if not k.startswith("GLYPHIC_")}
        empty = under("empty.conf")
        open(empty, "w").close()
        as_example = run(under("bin", "glyphic"), "-c", example, "config", env=env)
        as_empty = run(under("bin", "glyphic"), "-c", empty, "config", env=env)
        self.assertEqual(as_example.returncode, 0, as_example.stderr)
        # the same effective configuration as an empty file (but the first line, the file's name)
        self.assertEqual(as_example.stdout.splitlines()[1:], as_empty.stdout.splitlines()[1:])
        # and every key is in it, uncommented it would parse
        uncommented = under("uncommented.conf")
        with open(uncommented, "w") as fh:
            for line in text.splitlines():
                if line.startswith("#") and " = " in line and not line.startswith("# "):
                    key, value = line[1:].split(" = ", 1)
                    if value:
                        fh.write(f"{key} = {value}\n")
        r = run(under("bin", "glyphic"), "-c", uncommented, "config", env=env)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_render_nginx_from_the_prefix(self):
        self.assertTrue(os.path.exists(under("share", "glyphic", "nginx", "glyphic-files.conf.in")))
        self.assertTrue(os.path.exists(under("share", "glyphic", "sql", "001_init.sql")))
        out = under("nginx")
        r = run(under("bin", "glyphic-render-nginx"), "--out", out, "--socket", "/run/glyphic/fcgi.sock",
                "--events", "/run/glyphic/events.sock", "--files-dir", under("files"), "--rundir", under("run"),
                "--logdir", under("log"))
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(out, "glyphic-server.conf")) as fh:
            self.assertIn(f"root {under('share', 'glyphic', 'web')};", fh.read())
        os.makedirs(under("run"), exist_ok=True)
        os.makedirs(under("log"), exist_ok=True)
        r = run("nginx", "-t", "-p", out, "-c", os.path.join(out, "nginx.conf"))
        self.assertEqual(r.returncode, 0, r.stderr)
        # the built editor is installed when web/dist has one
        built = os.path.exists(os.path.join(harness.SRC, "web", "dist", "index.html"))
        self.assertEqual(os.path.exists(under("share", "glyphic", "web", "index.html")), built)
        self.assertFalse(os.path.exists(under("share", "glyphic", "web", ".glyphic-build")))


if __name__ == "__main__":
    unittest.main()
