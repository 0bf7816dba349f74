"""scripts/demo as root, as a new user runs it: the export line it prints, an
OS account fresh from useradd logging in with its certificate, and
`scripts/demo stop` with a session still open, which must end that session
and keep its recording whole.

The demo runs with GATE_DEMO_NO_BUILD=1 (the binaries of GATE_BIN_DIR), on
free ports, with its own .demo, node directories and recorder user, so it
neither meets a demo someone runs on this machine nor the other tests."""
import glob
import json
import os
import pwd
import re
import shutil
import tempfile
import time
import unittest

import pexpect

from harness import BIN_DIR, Client, free_port, run

SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO = os.path.join(SOURCE, "scripts", "demo")
PASSWORD = "correct horse battery"


class _Proxy:
    """What harness.Client needs of a gate-ca: its address."""

    def __init__(self, addr):
        self.addr = addr


@unittest.skipUnless(os.geteuid() == 0, "the demo's node needs root")
class DemoTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="gate-demo-it-")
        os.chmod(cls.workdir, 0o755)
        tag = f"it-{os.getpid()}"
        cls.recorder_user = f"gate-rec-d{os.getpid() % 100000}"
        cls.os_user = f"gdemo{os.getpid() % 100000}"
        cls.demo_dir = os.path.join(cls.workdir, "demo")
        cls.env = dict(os.environ, GATE_DEMO_DIR=cls.demo_dir, GATE_BUILD_DIR=BIN_DIR,
                       GATE_DEMO_NO_BUILD="1", GATE_DEMO_PORT=str(free_port()),
                       GATE_DEMO_SSH_PORT=str(free_port()),
                       GATE_DEMO_STATE_DIR=f"/var/lib/gate-demo-{tag}",
                       GATE_DEMO_LIBEXEC_DIR=f"/usr/local/libexec/gate-demo-{tag}",
                       GATE_DEMO_RECORDER_USER=cls.recorder_user)
        for name in ("SUDO_USER", "GATE_DATA_DIR", "SSH_AUTH_SOCK"):
            cls.env.pop(name, None)
        cls.recorder_user_existed = cls._user_exists(cls.recorder_user)
        try:
            cls.started = run([DEMO], env=cls.env, timeout=300)
        except BaseException:
            cls.tearDownClass()
            raise
        if cls.started.returncode != 0:
            cls.tearDownClass()
            raise AssertionError("scripts/demo failed:\n" + cls.started.stdout +
                                 cls.started.stderr)

    @classmethod
    def tearDownClass(cls):
        run([DEMO, "stop"], env=cls.env, timeout=120)
        run(["userdel", "--remove", cls.os_user])
        if not cls.recorder_user_existed:
            run(["userdel", cls.recorder_user])
        if os.environ.get("GATE_KEEP_TEST_DIRS") != "1":
            shutil.rmtree(cls.workdir, ignore_errors=True)

    @staticmethod
    def _user_exists(name):
        try:
            pwd.getpwnam(name)
            return True
        except KeyError:
            return False

    def demo_env(self):
        """The settings the export line puts in a shell, read by a shell."""
        proc = run(["bash", "-c", f'eval "$({DEMO} env)" && env'], env=self.env)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)

    def signed_up_client(self, name, logins):
        """A gate user with these logins, signed up and logged in through
        the demo's gate-ca with the pin its hint prints."""
        settings = self.demo_env()
        add = run(["bash", "-c", f'eval "$({DEMO} env)" && gatectl users add {name} {logins}'],
                  env=self.env)
        self.assertEqual(add.returncode, 0, add.stderr)
        hint = re.search(r"gate signup --proxy (\S+) --ca-pin (sha256:[0-9a-f]{64})", add.stdout)
        self.assertIsNotNone(hint, add.stdout)
        self.assertEqual(hint.group(2), settings["GATE_CA_PIN"])
        url = re.search(r"https://\S+/web/newuser/[0-9a-f]+", add.stdout).group(0)
        client = Client(self.workdir, _Proxy(settings["GATE_PROXY"]), name)
        pin_args = ["--ca-pin", settings["GATE_CA_PIN"]]
        signup, device = client.signup(url, PASSWORD, proxy_args=pin_args)
        self.assertEqual(signup.returncode, 0, signup.stderr)
        login = client.login(name, PASSWORD, device.code(), extra=pin_args)
        self.assertEqual(login.returncode, 0, login.stderr)
        return client, settings

    def ssh_args(self, client, settings, login, tty=False):
        return ["ssh", "-F", "/dev/null", "-p", settings["GATE_SSH_PORT"],
                "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
                "-o", f"IdentityFile={client.key}", "-o", f"CertificateFile={client.cert}",
                "-o", f"UserKnownHostsFile={os.path.join(client.home, '.gate', 'known_hosts')}",
                "-o", "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=10",
                *(["-tt"] if tty else []), f"{login}@127.0.0.1"]

    def ssh_until_synced(self, client, settings, login, command):
        """ssh as login; the node learns of a new gate user at its next sync
        (every few seconds in the demo), so allow a generous minute."""
        deadline = time.time() + 60
        while True:
            proc = run(self.ssh_args(client, settings, login) + [command], timeout=60)
            if proc.returncode == 0 or time.time() > deadline:
                return proc
            time.sleep(1)

    def test_1_export_line_puts_gate_gatectl_and_the_settings_in_the_shell(self):
        exports = [l for l in self.started.stdout.splitlines() if l.strip().startswith("export ")]
        self.assertEqual(len(exports), 1, self.started.stdout)
        proc = run(["bash", "-c", exports[0] + " && command -v gate gatectl && gatectl users ls"],
                   env=self.env)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn(os.path.join(BIN_DIR, "cli", "gate") + "\n", proc.stdout)
        self.assertIn(os.path.join(BIN_DIR, "cli", "gatectl") + "\n", proc.stdout)
        self.assertIn("User ", proc.stdout)
        settings = self.demo_env()
        self.assertEqual(settings["GATE_PROXY"], "127.0.0.1:" + self.env["GATE_DEMO_PORT"])
        self.assertEqual(settings["GATE_SSH_PORT"], self.env["GATE_DEMO_SSH_PORT"])
        self.assertRegex(settings["GATE_CA_PIN"], r"^sha256:[0-9a-f]{64}$")

    def test_2_account_from_useradd_logs_in(self):
        """useradd leaves the password locked ('!'); sshd without PAM refuses
        such an account ("account is locked") whatever the certificate."""
        proc = run(["useradd", "--create-home", "--shell", "/bin/sh", self.os_user])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        with open("/etc/shadow") as f:
            field = next(l.split(":")[1] for l in f if l.startswith(self.os_user + ":"))
        self.assertTrue(field.startswith("!"), field)  # the case this test is about
        client, settings = self.signed_up_client(self.os_user, self.os_user)
        proc = self.ssh_until_synced(client, settings, self.os_user, "id -un")
        with open(os.path.join(self.demo_dir, "sshd.log")) as f:
            log = f.read()
        self.assertEqual(proc.returncode, 0, proc.stderr + log[-2000:])
        self.assertEqual(proc.stdout.strip(), self.os_user)
        self.assertNotIn("account is locked", log)

    def test_9_stop_with_an_open_session_keeps_the_recording_complete(self):
        client, settings = self.signed_up_client("stella", "root")
        first = self.ssh_until_synced(client, settings, "root", "true")
        self.assertEqual(first.returncode, 0, first.stderr)
        session = pexpect.spawn(self.ssh_args(client, settings, "root", tty=True)[0],
                                self.ssh_args(client, settings, "root", tty=True)[1:] + ["sh"],
                                encoding="utf-8", timeout=60)
        try:
            session.sendline("echo marker-$((6*7))-before-stop")
            session.expect("marker-42-before-stop")
            stop = run([DEMO, "stop"], env=self.env, timeout=180)
            self.assertEqual(stop.returncode, 0, stop.stdout + stop.stderr)
            session.expect(pexpect.EOF, timeout=60)
        finally:
            session.close(force=True)
        self.assertIn("ending 1 open session", stop.stdout)
        kept = os.path.join(self.demo_dir, "recordings")
        self.assertTrue(os.path.isfile(os.path.join(kept, "recorder.pub")), stop.stdout)
        recordings = [p for p in glob.glob(os.path.join(kept, "*.cast"))
                      if "marker-42-before-stop" in open(p, errors="replace").read()]
        self.assertEqual(len(recordings), 1, stop.stdout + stop.stderr)
        with open(recordings[0]) as f:
            events = [json.loads(line) for line in f.read().splitlines()[1:]]
        # Complete: the exit event, then the last checkpoint, and nothing after.
        self.assertEqual(events[-2][1], "x", events[-3:])
        self.assertEqual(events[-1][1], "c", events[-3:])
        verify = run([os.path.join(BIN_DIR, "cli", "gate"), "play", "--verify", "--no-play",
                      "--key", os.path.join(kept, "recorder.pub"), recordings[0]])
        self.assertEqual(verify.returncode, 0, verify.stdout + verify.stderr)
        self.assertIn("complete", verify.stdout)
        # Nothing of the node stays behind: its directories, and the
        # recorder user gate-node join created.
        self.assertFalse(os.path.exists(self.env["GATE_DEMO_STATE_DIR"]))
        self.assertFalse(os.path.exists(self.env["GATE_DEMO_LIBEXEC_DIR"]))
        if not self.recorder_user_existed:
            self.assertFalse(self._user_exists(self.recorder_user), stop.stdout + stop.stderr)


if __name__ == "__main__":
    unittest.main()
