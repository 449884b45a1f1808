"""Logs for operators (issue 17, item 5): log.format = json writes one JSON
object per line (time, level, program, pid, request_id, user, org where
known, message) into log.file; SIGUSR1 to glyphic-fcgi's master, as
logrotate's postrotate sends it, makes the master and every worker reopen
the file, so after a rotation new lines go to the new file and none is
lost; a request's secrets never reach the log; a bad log.format is a clear
configuration error."""
import json
import os
import signal
import subprocess
import time
import unittest
import uuid

import harness

ENV = None
LOG = None
PASSWORD = "a very secret passphrase 42"


def setUpModule():
    global ENV, LOG
    ENV = harness.Env(workers=2)
    LOG = os.path.join(ENV.base, "glyphic.log")
    # (glyphic-events reads the same file: its lines go there too)
    ENV.fcgi.settings.update({"log.format": "json", "log.file": LOG, "log.level": "debug"})
    ENV.start_all()


def tearDownModule():
    ENV.close()


def lines(path):
    with open(path) as fh:
        return [json.loads(line) for line in fh if line.strip()]


def ok():
    return ENV.request("GET", "/api/health").status


class JsonLogTest(unittest.TestCase):
    def test_json_lines_with_the_request_context(self):
        c = ENV.signup(f"logs-{uuid.uuid4().hex[:8]}@example.com", password=PASSWORD)
        r = c.get("/api/workflows")
        self.assertEqual(r.status, 200)
        rid = r.header("X-Request-Id")
        harness.wait_for(lambda: any(e.get("request_id") == rid for e in lines(LOG)), what="the request's line")
        entries = lines(LOG)  # every line parses: json.loads above would raise
        self.assertTrue(entries)
        for e in entries:
            self.assertEqual(set(e) >= {"time", "level", "program", "pid", "message"}, True, e)
            self.assertRegex(e["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            self.assertIn(e["level"], ("debug", "info", "warn", "error"))
            self.assertIn(e["program"], ("glyphic-fcgi", "glyphic-events"))
            self.assertIsInstance(e["pid"], int)
        mine = [e for e in entries if e.get("request_id") == rid]
        self.assertIn("GET /api/workflows 200", " ".join(e["message"] for e in mine))
        # the request's last line knows who asked
        authed = [e for e in mine if "user" in e]
        self.assertTrue(authed, mine)
        self.assertRegex(authed[-1]["user"], r"^[0-9a-f-]{36}$")
        self.assertEqual(authed[-1]["org"], c.me["org_id"])
        with open(LOG) as fh:
            text = fh.read()
        self.assertNotIn(PASSWORD, text)
        self.assertNotIn(c.cookie, text)

    def test_sigusr1_reopens_in_master_and_workers(self):
        self.assertEqual(ok(), 200)
        rotated = LOG + ".1"
        os.rename(LOG, rotated)  # logrotate's move
        ENV.fcgi.proc.send_signal(signal.SIGUSR1)
        time.sleep(0.3)
        rids = set()
        for _ in range(20):  # both workers answer some
            r = ENV.request("GET", "/api/health")
            self.assertEqual(r.status, 200)
            rids.add(r.header("X-Request-Id"))
        harness.wait_for(lambda: os.path.exists(LOG) and
                         rids <= {e.get("request_id") for e in lines(LOG)}, what="every request's line in the new file")
        before = {e.get("request_id") for e in lines(rotated)}
        self.assertFalse(rids & before, "lines after the rotation went to the old file")
        # every worker that answered wrote to the new file
        pids = {e["pid"] for e in lines(LOG) if e.get("request_id") in rids}
        self.assertEqual(pids, set(ENV.fcgi.workers()) & pids)
        self.assertGreaterEqual(len(pids), 1)
        # the master too: a reload's line lands in the new file
        ENV.fcgi.proc.send_signal(signal.SIGHUP)
        harness.wait_for(lambda: any("configuration reloaded" in e["message"] and e["pid"] == ENV.fcgi.proc.pid
                                     for e in lines(LOG)), what="the master's line in the new file")
        self.assertEqual(ok(), 200)

    def test_bad_log_format_is_a_configuration_error(self):
        conf = os.path.join(ENV.base, "bad.conf")
        with open(conf, "w") as fh:
            fh.write("log.format = yaml\n")
        r = subprocess.run([os.path.join(harness.BUILD, "cli", "glyphic"), "-c", conf, "config"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("log.format: expected text or json", r.stderr)


if __name__ == "__main__":
    unittest.main()
