"""Where a log line is promised but there is no syslog (no /dev/log and no
journal, as in containers): the hooks still put the reason where whoever
runs them sees it. gate-principals, run as sshd runs it, writes its denial
to stderr; gate-record's lines go to its spool (tested in test_join, which
has a node). /dev/log is hidden in a private mount namespace when this
machine has one."""
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import IS_ROOT, binary

HIDE = ("/dev/log", "/run/systemd/journal/socket")


def without_syslog(argv):
    """argv, run where neither syslog nor the journal answers."""
    present = [p for p in HIDE if os.path.exists(p)]
    if not present:
        return argv
    # A regular file over each socket: connect(2) there fails.
    mounts = "; ".join(f"mount --bind /dev/null {p}" for p in present)
    return ["unshare", "-m", "--propagation", "private", "sh", "-c",
            f'{mounts} && exec "$@"', "sh", *argv]


class LogWithoutSyslogTest(unittest.TestCase):
    def setUp(self):
        present = [p for p in HIDE if os.path.exists(p)]
        if present and not (IS_ROOT and shutil.which("unshare")):
            self.skipTest("needs root and unshare to hide " + ", ".join(present))
        self.dir = tempfile.mkdtemp(prefix="gate-nolog-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def test_gate_principals_denial_reason_reaches_stderr(self):
        cache = os.path.join(self.dir, "no-cache")
        proc = subprocess.run(
            without_syslog([binary("gate-principals"), "--cache", cache, "alice",
                            "ssh-ed25519-cert-v01@openssh.com", "AAAAnotacertificate"]),
            capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=30)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertEqual(proc.stdout, "")
        self.assertRegex(proc.stderr, r"\S+Z WARNING gate-principals: deny login=alice: \S")

    def test_gate_principals_usage_error_is_logged_too(self):
        proc = subprocess.run(without_syslog([binary("gate-principals"), "--bogus"]),
                              capture_output=True, text=True, stdin=subprocess.DEVNULL,
                              timeout=30)
        self.assertNotEqual(proc.returncode, 0)
        self.assertRegex(proc.stderr, r"\S+Z ERROR gate-principals: usage error: ")


if __name__ == "__main__":
    unittest.main()
