"""A node's policy cache: how old it may get (stale_cache deny|allow, measured
from the last successful sync) and who may read it (root and gate-cache),
against a real gate-ca, a real sshd and the real gate-node/gate-principals."""
import errno
import grp
import os
import pwd
import re
import stat
import subprocess
import time
import unittest

from harness import IS_ROOT, GateTestCase, Node, SyslogCapture, ensure_os_user, run

CACHE_FILES = ("policy.db", "user_ca.pub", "revoked.krl", "synced-at")


def node_token(ca):
    out = ca.gatectl("tokens", "add", "--type=node", "--labels", "env=dev",
                     "--principals", "127.0.0.1", check=True).stdout
    return re.search(r"The node join token: ([0-9a-f]{32}) ", out).group(1)


def open_as(user, path):
    """errno of opening path for reading as user with exactly the groups
    initgroups gives it (0 when it opens)."""
    pw = pwd.getpwnam(user)
    probe = ("import os, sys\n"
             "try:\n"
             "    os.close(os.open(sys.argv[1], os.O_RDONLY))\n"
             "except OSError as e:\n"
             "    sys.exit(e.errno)\n")

    def become():
        os.initgroups(user, pw.pw_gid)
        os.setgid(pw.pw_gid)
        os.setuid(pw.pw_uid)

    proc = subprocess.run(["python3", "-c", probe, path], preexec_fn=become,
                          capture_output=True, timeout=30)
    return proc.returncode


@unittest.skipUnless(IS_ROOT, "needs root: runs sshd and gate-node join")
class StaleCacheTest(GateTestCase):
    """One node, re-joined with the stale-cache rule each test needs."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ensure_os_user("gtstale")
        ensure_os_user("gtlocal")  # an unprivileged local user of the node
        cls.ca.gatectl("roles", "add", "dev", "--logins", "gtstale", "--node-labels", "env=dev",
                       check=True)
        cls.node = Node(cls.workdir, "stale").start()
        joined = cls.node.join(cls.ca, node_token(cls.ca), "--stale-cache", "deny",
                               "--max-cache-age", "10m")
        if joined.returncode != 0:
            cls.node.stop()
            raise AssertionError(joined.stdout + joined.stderr)
        cls.cache = os.path.join(cls.node.data_dir, "cache")
        cls.stamp = os.path.join(cls.cache, "synced-at")
        cls.client = cls.logged_in_user("sam", roles="dev")

    @classmethod
    def tearDownClass(cls):
        cls.node.stop()
        super().tearDownClass()

    def setUp(self):
        if self.ca.proc.poll() is not None:
            self.ca.start()

    def rejoin(self, *flags):
        # Already joined: no token is spent; the flags change the rule.
        rejoined = self.node.join(self.ca, "unused", *flags)
        self.assertEqual(rejoined.returncode, 0, rejoined.stdout + rejoined.stderr)
        self.assertIn("already joined", rejoined.stdout)
        synced = self.node.sync()
        self.assertEqual(synced.returncode, 0, synced.stdout + synced.stderr)

    def age_stamp(self, seconds):
        """The last successful sync, `seconds` ago (the file keeps its owner
        and mode: only its content changes)."""
        with open(self.stamp, "w") as f:
            f.write(f"{int(time.time()) - seconds}\n")

    def ssh(self):
        return self.node.ssh("gtstale", self.client)

    def assertStaleStatus(self, hours, rule):
        """gate-node status: unhealthy, the cache's age, the rule, STALE, and
        DENYING only under deny."""
        status = self.node.gate_node("status")
        self.assertEqual(status.returncode, 1, status.stdout + status.stderr)
        self.assertRegex(status.stdout, f"cache age   {hours}0m\\d+s \\(last successful sync")
        self.assertIn(f"stale cache {rule} past 10m0s", status.stdout)
        self.assertIn("STALE", status.stdout)
        self.assertEqual("DENYING" in status.stdout, rule == "deny", status.stdout)

    def drop_in(self):
        with open(os.path.join(self.node.conf_d, "50-gate.conf")) as f:
            return f.read()

    def test_deny_refuses_logins_once_the_last_sync_is_too_old(self):
        self.rejoin("--stale-cache", "deny", "--max-cache-age", "10m")
        self.assertIn("--stale-cache deny --max-cache-age 10m0s %u %t %k", self.drop_in())
        with open(os.path.join(self.node.data_dir, "node.json")) as f:
            self.assertIn('"stale_cache":"deny"', f.read().replace(" ", ""))
        self.assertEqual(self.ssh().returncode, 0)
        self.ca.stop()
        failed = self.node.sync()
        self.assertNotEqual(failed.returncode, 0)
        self.assertEqual(self.ssh().returncode, 0)  # still within 10 minutes
        self.age_stamp(3600)
        with SyslogCapture() as syslog:
            refused = self.ssh()
            self.assertNotEqual(refused.returncode, 0, refused.stdout)
            self.assertIn("Permission denied", refused.stderr)
            lines = syslog.drain()
            if lines is not None:  # the hook's log line says why
                denials = [l for l in lines if "gate-principals" in l and "deny login=gtstale" in l]
                self.assertTrue(denials, lines)
                self.assertIn("stale policy cache (last successful sync 1h0m", denials[-1])
                self.assertIn("stale_cache is deny", denials[-1])
        self.assertStaleStatus("1h", "deny")
        stale_sync = self.node.sync()
        self.assertIn("every gate login on this node is refused", stale_sync.stderr)
        # A corrupt or missing stamp denies too.
        with open(self.stamp, "w") as f:
            f.write("garbage\n")
        self.assertNotEqual(self.ssh().returncode, 0)
        # gate-ca back: the next sync (nothing changed since) stamps the cache
        # afresh, and logins work again.
        self.ca.start()
        synced = self.node.sync()
        self.assertEqual(synced.returncode, 0, synced.stdout + synced.stderr)
        self.assertEqual(self.ssh().returncode, 0)

    def test_allow_logs_a_warning_and_decides_from_the_stale_cache(self):
        self.rejoin("--stale-cache", "allow")
        # allow with the default age: gate-principals' own defaults, no flags.
        self.assertNotIn("--stale-cache", self.drop_in())
        self.assertNotIn("--max-cache-age", self.drop_in())
        self.ca.stop()
        self.age_stamp(7200)
        with SyslogCapture() as syslog:
            allowed = self.ssh()
            self.assertEqual(allowed.returncode, 0, allowed.stderr)
            self.assertEqual(allowed.stdout.strip(), "gtstale")
            lines = syslog.drain()
            if lines is not None:
                warnings = [l for l in lines if "gate-principals" in l and "stale policy" in l]
                self.assertTrue(warnings, lines)
                self.assertIn("stale_cache is allow", warnings[-1])
        self.assertStaleStatus("2h", "allow")
        self.ca.start()
        self.rejoin("--stale-cache", "deny")

    def test_an_unchanged_sync_counts_as_fresh(self):
        self.age_stamp(3600)
        synced = self.node.sync()
        self.assertEqual(synced.returncode, 0, synced.stdout + synced.stderr)
        self.assertIn("cache unchanged", synced.stdout)
        with open(self.stamp) as f:
            self.assertLessEqual(abs(int(f.read()) - time.time()), 60)

    # --- who may read the cache ------------------------------------------------

    def test_a_local_user_cannot_read_the_nodes_cache(self):
        gid = grp.getgrnam("gate-cache").gr_gid
        st = os.stat(self.cache)
        self.assertEqual((stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid), (0o750, 0, gid))
        for name in CACHE_FILES:
            path = os.path.join(self.cache, name)
            st = os.stat(path)
            self.assertEqual((stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid), (0o640, 0, gid),
                             name)
            self.assertEqual(open_as("gtlocal", path), errno.EACCES, name)
            # gate-principals' user reads it (sshd runs the hook with its groups).
            self.assertEqual(open_as("gate-principals", path), 0, name)
        self.assertEqual(open_as("gtlocal", self.cache), errno.EACCES)

    def test_wrong_group_or_mode_denies(self):
        synced = self.node.sync()
        self.assertEqual(synced.returncode, 0, synced.stdout + synced.stderr)
        self.assertEqual(self.ssh().returncode, 0)
        policy = os.path.join(self.cache, "policy.db")
        gid = grp.getgrnam("gate-cache").gr_gid
        with SyslogCapture() as syslog:
            for label, damage, undo in (
                    ("directory of another group", lambda: os.chown(self.cache, 0, 0),
                     lambda: os.chown(self.cache, 0, gid)),
                    ("directory others may search", lambda: os.chmod(self.cache, 0o755),
                     lambda: os.chmod(self.cache, 0o750)),
                    ("file others may read", lambda: os.chmod(policy, 0o644),
                     lambda: os.chmod(policy, 0o640))):
                damage()
                try:
                    result = self.ssh()
                    self.assertNotEqual(result.returncode, 0, label)
                    lines = syslog.drain()
                    if lines is not None:
                        denials = [l for l in lines if "deny login=gtstale" in l]
                        self.assertTrue(denials, f"{label}: {lines}")
                        self.assertIn("cache", denials[-1], label)
                        lines.clear()
                finally:
                    undo()
                self.assertEqual(self.ssh().returncode, 0, label)
        # The next sync puts a wrong group or mode right by itself.
        os.chmod(policy, 0o644)
        os.chown(self.cache, 0, 0)
        synced = self.node.sync()
        self.assertEqual(synced.returncode, 0, synced.stdout + synced.stderr)
        self.assertEqual(stat.S_IMODE(os.stat(policy).st_mode), 0o640)
        self.assertEqual(os.stat(self.cache).st_gid, gid)
        self.assertEqual(self.ssh().returncode, 0)


if __name__ == "__main__":
    unittest.main()
