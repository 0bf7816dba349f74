"""gate-ca start-up, configuration, secret-file checks, TLS trust, shutdown."""
import fcntl
import os
import shutil
import signal
import stat
import subprocess
import tempfile
import time
import unittest

from harness import Client, GateCA, GateTestCase, binary, run

PASSWORD = "correct horse battery"


class StartupTest(unittest.TestCase):

    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="gate-it-")

    def tearDown(self):
        shutil.rmtree(self.workdir, ignore_errors=True)

    def test_first_start_creates_private_state_and_stops_cleanly(self):
        ca = GateCA(self.workdir).start()
        self.assertIn("[AUTH]  Auth service is starting on 127.0.0.1:", ca.banner)
        self.assertIn(f"https://{ca.addr}/web", ca.banner)
        self.assertIn("Admin socket", ca.banner)
        self.assertRegex(ca.pin, r"^sha256:[0-9a-f]{64}$")
        data = ca.data_dir
        self.assertEqual(os.stat(data).st_mode & 0o777, 0o700)
        for key in ("ca/user_ca", "ca/host_ca", "tls/server.key", "gate.db"):
            self.assertEqual(os.stat(os.path.join(data, key)).st_mode & 0o077, 0, key)
        # The CA keys are OpenSSH keys: ssh-keygen derives the same public key.
        derived = run(["ssh-keygen", "-y", "-f", os.path.join(data, "ca/user_ca")], check=True)
        with open(os.path.join(data, "ca/user_ca.pub")) as f:
            self.assertEqual(derived.stdout.split()[:2], f.read().split()[:2])
        sock = os.path.join(data, "admin.sock")
        self.assertTrue(stat.S_ISSOCK(os.stat(sock).st_mode))
        self.assertEqual(os.stat(sock).st_mode & 0o077, 0)
        rc, rest = ca.stop(signal.SIGTERM)
        self.assertEqual(rc, 0)
        self.assertIn("gate-ca stopped", rest)

        # A second start reuses the same CA.
        ca2 = GateCA(self.workdir).start()
        try:
            exported = ca2.gatectl("ca", "export", "--type", "user", check=True).stdout
            with open(os.path.join(data, "ca/user_ca.pub")) as f:
                self.assertEqual(exported.split()[:2], f.read().split()[:2])
        finally:
            self.assertEqual(ca2.stop(signal.SIGINT)[0], 0)

    def test_sigterm_right_after_the_banner_is_a_clean_stop(self):
        """A supervisor may stop gate-ca as soon as it printed its banner. The
        banner is written into a full pipe, so gate-ca is held inside that very
        write when SIGTERM arrives (no race: the test waits until /proc shows
        it blocked there), then the pipe is drained. Exit 0 and the "stopped"
        line: the signal was caught before the banner, not fatal."""
        write_syscall = {"x86_64": 1, "aarch64": 64}.get(os.uname().machine)
        if write_syscall is None:
            self.skipTest("write(2) syscall number unknown on this machine")
        ca = GateCA(self.workdir)
        read_end, write_end = os.pipe()
        fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, 4096)
        os.set_blocking(write_end, False)
        filler = 0
        try:
            while True:
                filler += os.write(write_end, b"." * 4096)
        except BlockingIOError:
            pass
        os.set_blocking(write_end, True)
        log = open(os.path.join(self.workdir, "gate-ca.log"), "a+")
        self.addCleanup(log.close)
        proc = subprocess.Popen(
            [binary("gate-ca"), "start", "--config", ca.config_path],
            stdout=write_end, stderr=log)
        os.close(write_end)
        self.addCleanup(lambda: proc.poll() is None and (proc.kill(), proc.wait()))
        deadline = time.time() + 30
        blocked = False
        while time.time() < deadline and proc.poll() is None:
            try:
                with open(f"/proc/{proc.pid}/syscall") as f:
                    fields = f.read().split()
            except PermissionError:
                self.skipTest("cannot read /proc/PID/syscall of gate-ca")
            except FileNotFoundError:
                break
            if len(fields) > 1 and fields[0] == str(write_syscall) and int(fields[1], 16) == 1:
                blocked = True
                break
            time.sleep(0.05)
        log.seek(0)
        self.assertTrue(blocked, "gate-ca never wrote its banner:\n" + log.read())
        proc.send_signal(signal.SIGTERM)
        with os.fdopen(read_end, "rb") as out:
            self.assertEqual(out.read(filler), b"." * filler)
            rest = out.read().decode()
        self.assertEqual(proc.wait(timeout=30), 0, rest)
        self.assertIn("[AUTH]  Auth service is starting", rest)
        self.assertIn("gate-ca stopped", rest)

    def test_refuses_ca_key_readable_by_others(self):
        ca = GateCA(self.workdir).start()
        ca.stop()
        key = os.path.join(ca.data_dir, "ca", "user_ca")
        os.chmod(key, 0o644)
        rc, out = GateCA(self.workdir).start(expect_fail=True)
        self.assertEqual(rc, 1)
        self.assertIn("refusing to start", out)
        self.assertIn(key, out)
        self.assertIn("chmod 600", out)

    @unittest.skipUnless(os.geteuid() == 0, "needs root to chown")
    def test_refuses_ca_key_owned_by_someone_else(self):
        ca = GateCA(self.workdir).start()
        ca.stop()
        key = os.path.join(ca.data_dir, "ca", "host_ca")
        os.chown(key, 65534, 65534)
        rc, out = GateCA(self.workdir).start(expect_fail=True)
        self.assertEqual(rc, 1)
        self.assertIn(key, out)
        self.assertIn("owned by", out)

    def test_config_errors_name_file_and_line(self):
        ca = GateCA(self.workdir, config_extra="    secnd_factor: otp\n")
        # The typo'd key lands inside auth_service.rate_limit (the last block).
        rc, out = ca.start(expect_fail=True)
        self.assertEqual(rc, 2)
        self.assertRegex(out, r"gate\.yaml:1[0-9]: unknown key 'secnd_factor'")

        with open(ca.config_path) as f:
            text = f.read().replace("second_factor: otp", "second_factor: sms")
        with open(ca.config_path, "w") as f:
            f.write(text)
        rc, out = ca.start(expect_fail=True)
        self.assertEqual(rc, 2)
        self.assertRegex(out, r"gate\.yaml:\d+: .*second_factor")
        self.assertFalse(os.path.exists(ca.data_dir), "a bad config must not create state")

    def test_missing_explicit_config_is_an_error(self):
        proc = run([binary("gate-ca"), "start", "--config", os.path.join(self.workdir, "nope.yaml"),
                    "--data-dir", os.path.join(self.workdir, "d")])
        self.assertEqual(proc.returncode, 2)
        self.assertIn("nope.yaml", proc.stderr)

    def test_help_is_documented(self):
        proc = run([binary("gate-ca"), "start", "--help"])
        self.assertEqual(proc.returncode, 0)
        for flag in ("--config", "--data-dir", "--listen", "SIGTERM"):
            self.assertIn(flag, proc.stdout)


class TlsTrustTest(GateTestCase):

    def test_pin_insecure_and_unverified(self):
        token, _ = self.ca.add_user("tina")
        client = Client(self.workdir, self.ca, "tina")
        # No trust option at all: the self-signed certificate does not verify.
        result, _ = client.signup(token, PASSWORD, proxy_args=[])
        self.assertEqual(result.returncode, 4)
        self.assertIn("certificate", result.stderr.lower())
        # A wrong pin is refused.
        wrong = "sha256:" + "0" * 64
        result, _ = client.signup(token, PASSWORD, proxy_args=["--ca-pin", wrong])
        self.assertEqual(result.returncode, 4)
        # The pin gate-ca printed works, with no warning.
        result, device = client.signup(token, PASSWORD, proxy_args=["--ca-pin", self.ca.pin])
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertNotIn("WARNING", result.stderr)
        login = client.login("tina", PASSWORD, device.code(), extra=("--ca-pin", self.ca.pin))
        self.assertEqual(login.returncode, 0, login.stderr)
        self.assertNotIn("WARNING", login.stderr)
        bad = client.gate("login", "--proxy", self.ca.addr, "--ca-pin", "md5:abc", input="x\n")
        self.assertEqual(bad.returncode, 2)
        self.assertIn("--ca-pin", bad.stderr)


class RateLimitTest(GateTestCase):
    rate_limit = (6, 3)

    def test_login_attempts_from_one_source_are_limited(self):
        client = Client(self.workdir, self.ca, "flood")
        codes = [client.login("nobody", "wrong password", "123456").returncode for _ in range(6)]
        self.assertEqual(codes[:3], [3, 3, 3])
        last = client.login("nobody", "wrong password", "123456")
        self.assertEqual(last.returncode, 3)
        self.assertIn("too many requests", last.stderr)


if __name__ == "__main__":
    unittest.main()
