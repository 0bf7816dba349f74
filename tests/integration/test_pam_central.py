"""pam_gate.so with source=central against a real gate-ca: codes handed to a
real `gate-node otp-relay` and checked by gate-ca with the node's
credentials (a real `gate-node join --no-reload`), one replay state with
`gate login`, gate-ca or the relay down (offline=deny|local), the relay's
caller check and socket activation, then a real sshd (certificate, then the
OTP prompt through a pty) and sudo.

PAM runs through pamtester and pam_wrapper with service files of the test's
own; sshd runs with pam_wrapper too, so /etc/pam.d/sshd is never touched.
sudo is setuid (pam_wrapper cannot reach it), so that test swaps
/etc/pam.d/sudo and always puts it back."""
import atexit
import base64
import os
import pty
import select
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from harness import (BIN_DIR, IS_ROOT, GateTestCase, Node, OtpRelay, Sshd,
                     ensure_os_user, run, totp)
from test_nodes import node_token

PASSWORD = "correct horse battery"
PAM_WRAPPER = "/usr/lib/x86_64-linux-gnu/libpam_wrapper.so"
PAMTESTER = shutil.which("pamtester")
MODULE = os.path.join(BIN_DIR, "pam_module", "pam_gate.so")


def missing_tools():
    missing = [p for p in (PAM_WRAPPER, MODULE) if not os.path.exists(p)]
    if not PAMTESTER:
        missing.append("pamtester")
    return missing


def pam_env(service_dir):
    # pam_gate logs through pam_syslog, which pam_wrapper keeps to itself
    # unless told to pass it on.
    return dict(os.environ, LD_PRELOAD=PAM_WRAPPER, PAM_WRAPPER="1", PAM_WRAPPER_USE_SYSLOG="1",
                PAM_WRAPPER_SERVICE_DIR=service_dir)


@unittest.skipIf(missing_tools(), f"needs {', '.join(missing_tools())}")
@unittest.skipUnless(IS_ROOT, "needs root: gate-node join writes a root-owned node.json")
class PamCentralTest(GateTestCase):
    """One node joined once; each test has gate users of its own, so their
    TOTP steps never collide."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.node = Node(cls.workdir, "pam-node")
        join = cls.node.join(cls.ca, node_token(cls.ca)[0], "--principals", "127.0.0.1",
                             "--no-reload")
        if join.returncode != 0:
            raise AssertionError("join failed: " + join.stdout + join.stderr)
        cls.node_json = os.path.join(cls.node.data_dir, "node.json")
        cls.relay = OtpRelay(cls.workdir, cls.node.data_dir).start()
        cls.addClassCleanup(cls.relay.stop)
        cls.services = os.path.join(cls.workdir, "pam.d")
        os.makedirs(cls.services, exist_ok=True)
        cls.state_dir = os.path.join(cls.workdir, "pam-state")

    # --- helpers -----------------------------------------------------------

    def service(self, name, *options):
        with open(os.path.join(self.services, name), "w") as f:
            f.write(f"auth required {MODULE} {' '.join(options)}\n"
                    "account required pam_permit.so\n")
        return name

    def central(self, *extra, relay=None):
        relay = relay or self.relay.socket
        name = "gate-central-" + str(abs(hash((relay, extra))))
        return self.service(name, "source=central", f"relay={relay}", "timeout=2000", *extra)

    def pamtester(self, service, user, *answers):
        proc = run([PAMTESTER, "-v", service, user, "authenticate"],
                   input="".join(a + "\n" for a in answers), env=pam_env(self.services),
                   timeout=30)
        return proc

    def assertAccepted(self, proc):
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("successfully authenticated", proc.stdout + proc.stderr)

    def assertRefused(self, proc):
        self.assertNotEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertNotIn("successfully authenticated", proc.stdout + proc.stderr)

    def user(self, name, logins=None):
        client, device = self.new_user(name, logins)
        client.device = device
        return client

    # --- central -----------------------------------------------------------

    def test_right_code_then_replay_refused(self):
        self.user("pc-ann")
        device = self._device("pc-ann")
        code = device.code()
        first = self.pamtester(self.central(), "pc-ann", code)
        self.assertAccepted(first)
        self.assertIn("Enter your OTP token:", first.stdout + first.stderr)
        self.assertRefused(self.pamtester(self.central(), "pc-ann", code))

    def test_wrong_code_and_unknown_user_refused(self):
        self.user("pc-bob")
        self.assertRefused(self.pamtester(self.central(), "pc-bob", "000000"))
        self.assertRefused(self.pamtester(self.central(), "pc-nobody", "000000"))
        self.assertRefused(self.pamtester(self.central(), "pc-bob", ""))

    def test_code_used_by_gate_login_is_refused_by_pam(self):
        client = self.user("pc-cat")
        code = client.device.code()
        login = client.login("pc-cat", PASSWORD, code)
        self.assertEqual(login.returncode, 0, login.stderr)
        self.assertRefused(self.pamtester(self.central(), "pc-cat", code))

    def test_code_used_by_pam_is_refused_by_gate_login(self):
        client = self.user("pc-dan")
        code = client.device.code()
        self.assertAccepted(self.pamtester(self.central(), "pc-dan", code))
        login = client.login("pc-dan", PASSWORD, code)
        self.assertNotEqual(login.returncode, 0, login.stdout)
        # Refused with a login's one answer; the audit log says why.
        self.assertIn("invalid user name, password or OTP code", login.stderr)
        self.assertTrue(self.ca.audit_rows("user.login", "reused OTP code"))

    def test_node_failures_block_that_node_not_gate_login(self):
        client = self.user("pc-eve")
        # gate-ca's default: 5 failures from one node block that node for the
        # user...
        for _ in range(5):
            self.assertRefused(self.pamtester(self.central(), "pc-eve", "000000"))
        self.assertRefused(self.pamtester(self.central(), "pc-eve", client.device.code()))
        # ...but do not lock the user out of gate login elsewhere.
        login = client.login("pc-eve", PASSWORD, client.device.code())
        self.assertEqual(login.returncode, 0, login.stderr)

    def test_unreadable_node_credentials_deny(self):
        self.user("pc-fay")
        bad = os.path.join(self.workdir, "bad-node")
        os.makedirs(bad, exist_ok=True)
        shutil.copy2(self.node_json, os.path.join(bad, "node.json"))
        os.chmod(os.path.join(bad, "node.json"), 0o644)
        relay = OtpRelay(self.workdir, bad, name="bad-relay").start()
        try:
            self.assertRefused(self.pamtester(self.central(relay=relay.socket), "pc-fay",
                                              self._device("pc-fay").code()))
        finally:
            relay.stop()
        self.assertIn("cannot use the node credentials", relay.log_text())

    def test_relay_checks_the_callers_uid(self):
        # The socket is root 0600; opened up here, the relay itself must
        # still refuse anyone but root.
        relay = OtpRelay(self.workdir, self.node.data_dir, name="open-relay").start()
        try:
            os.chmod(relay.socket, 0o666)
            # The relay may answer and hang up before the request is written
            # (it refuses on the peer's uid alone): a broken pipe then is
            # expected, and the answer is still there to read.
            probe = ("import socket,sys\n"
                     "s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])\n"
                     "try: s.sendall(b'verify pc-hal 123456 1000\\n')\n"
                     "except BrokenPipeError: pass\n"
                     "print(s.makefile().readline())")
            proc = subprocess.run(["/usr/bin/python3", "-c", probe, relay.socket], user="nobody",
                                  capture_output=True, text=True, timeout=30)
            self.assertIn("error - caller uid", proc.stdout, proc.stderr)
            self.assertIn("may not ask", proc.stdout)
        finally:
            relay.stop()

    def test_socket_activated_relay(self):
        # What gate-otp-relay.socket does: systemd-socket-activate binds the
        # socket and starts the relay on the first connection, passing it on.
        self.user("pc-ida")
        relay = OtpRelay(self.workdir, self.node.data_dir, name="activated-relay",
                         socket_activated=True).start()
        try:
            service = self.central(relay=relay.socket)
            self.assertAccepted(self.pamtester(service, "pc-ida", self._device("pc-ida").code()))
            self.assertRefused(self.pamtester(service, "pc-ida", "000000"))
        finally:
            relay.stop()
        self.assertIn("listening on the socket systemd passed", relay.log_text())

    # --- gate-ca down --------------------------------------------------------

    def test_gate_ca_stopped(self):
        self.user("pc-gus")
        device = self._device("pc-gus")
        local_secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
        authfile = os.path.join(self.workdir, "pc-gus.authfile")
        with open(authfile, "w") as f:
            f.write(f"pc-gus:totp:sha1:6:{local_secret}\n")
        os.chmod(authfile, 0o600)
        offline_local = self.central("offline=local", f"authfile={authfile}",
                                     f"state_dir={self.state_dir}")
        offline_deny = self.central("offline=deny")
        # No relay running at all counts as gate-ca unreachable: denied by
        # default, the local authfile with offline=local.
        no_relay = os.path.join(self.workdir, "no-relay.sock")
        previous_step_code = totp(local_secret, time.time() - 30)  # within window=1
        # (Any code: nothing can check it. device.code() would wait for a
        # fresh TOTP step, which is for the runs that reach gate-ca.)
        started = time.monotonic()
        self.assertRefused(self.pamtester(self.central("offline=deny", relay=no_relay),
                                          "pc-gus", "123456"))
        self.assertLess(time.monotonic() - started, 10)
        relay_down_local = self.central("offline=local", f"authfile={authfile}",
                                        f"state_dir={self.state_dir}", relay=no_relay)
        self.assertAccepted(self.pamtester(relay_down_local, "pc-gus", previous_step_code))
        self.ca.stop()
        try:
            started = time.monotonic()
            denied = self.pamtester(offline_deny, "pc-gus", device.code())
            self.assertRefused(denied)
            self.assertLess(time.monotonic() - started, 10)
            # offline=local: one prompt; the local authfile decides on the same
            # code (the second answer would be read only if it asked again).
            local_code = totp(local_secret)
            self.assertAccepted(self.pamtester(offline_local, "pc-gus", local_code, "999999"))
            self.assertRefused(self.pamtester(offline_local, "pc-gus", local_code))
            self.assertRefused(self.pamtester(offline_local, "pc-gus", "000000" if local_code !=
                                              "000000" else "111111", local_code))
        finally:
            self.ca.start()
        # With gate-ca back, gate-ca decides again, not the authfile.
        self.assertRefused(self.pamtester(offline_local, "pc-gus",
                                          totp(local_secret, time.time() + 30)))
        self.assertAccepted(self.pamtester(offline_local, "pc-gus", device.code()))

    # --- sshd --------------------------------------------------------------

    def test_sshd_certificate_then_otp(self):
        ensure_os_user("gtpamssh")
        # The OS login differs from the gate user: only the certificate's key
        # id (SSH_AUTH_INFO_0) names a gate user gate-ca knows.
        client = self.user("pc-sshd", logins="gtpamssh")
        login = client.login("pc-sshd", PASSWORD, client.device.code())
        self.assertEqual(login.returncode, 0, login.stderr)
        sshd = PamSshd(self.workdir, self.user_ca(), MODULE, self.relay.socket).start()
        try:
            out, status = sshd.ssh_with_otp("gtpamssh", client, client.device.code())
            self.assertEqual(status, 0, out + sshd.log_tail())
            self.assertIn("Enter your OTP token:", out)
            self.assertEqual(out.strip().splitlines()[-1].strip(), "gtpamssh", out)
            out, status = sshd.ssh_with_otp("gtpamssh", client, "000000")
            self.assertNotEqual(status, 0, out)
            self.assertIn("Permission denied", out)
            self.assertNotIn("gtpamssh", [l.strip() for l in out.splitlines()])
        finally:
            sshd.stop()

    def user_ca(self):
        status, body, _ = self.ca.request("GET", "/v1/ping")
        self.assertEqual(status, 200)
        return "".join(k + "\n" for k in body["user_ca"])

    def _device(self, name):
        # new_user's device is on the client; tests that do not log in keep
        # their own handle here.
        return self._devices[name]

    def new_user(self, name, logins=None, password=PASSWORD):
        client, device = super().new_user(name, logins, password)
        if not hasattr(self, "_devices"):
            self._devices = {}
        self._devices[name] = device
        return client, device


class PamSshd(Sshd):
    """sshd with UsePAM and keyboard-interactive after publickey, its PAM
    stack (service "sshd") from a directory of the test's own via pam_wrapper."""

    def __init__(self, workdir, user_ca, module, relay):
        self.pam_dir = os.path.join(workdir, "pam-sshd", "pam.d")
        os.makedirs(self.pam_dir, exist_ok=True)
        with open(os.path.join(self.pam_dir, "sshd"), "w") as f:
            f.write(f"auth required {module} source=central relay={relay}\n"
                    "account required pam_permit.so\n"
                    "session required pam_permit.so\n")
        super().__init__(workdir, user_ca, name="pam-sshd", env=pam_env(self.pam_dir), settings={
            "UsePAM": "yes",
            "KbdInteractiveAuthentication": "yes",
            "AuthenticationMethods": "publickey,keyboard-interactive:pam",
            "ExposeAuthInfo": "yes",
        })

    def log_tail(self):
        with open(self.log) as f:
            return f.read()[-3000:]

    def ssh_with_otp(self, login, client, code, timeout=30):
        """Runs `id -un` over ssh in a pty, answering the OTP prompt with code.
        Returns (everything the terminal showed, exit status)."""
        args = ["ssh", "-F", "/dev/null", "-p", str(self.port), "-o", "IdentitiesOnly=yes",
                "-o", f"IdentityFile={client.key}", "-o", f"CertificateFile={client.cert}",
                "-o", f"UserKnownHostsFile={os.path.join(self.dir, 'known_hosts')}",
                "-o", "StrictHostKeyChecking=no", "-o", "NumberOfPasswordPrompts=1",
                "-o", "PreferredAuthentications=publickey,keyboard-interactive",
                "-o", "ConnectTimeout=10", f"{login}@127.0.0.1", "id -un"]
        pid, fd = pty.fork()
        if pid == 0:
            env = dict(client.env)
            env.pop("SSH_AUTH_SOCK", None)
            os.execvpe("ssh", args, env)
        out = b""
        answered = False
        deadline = time.time() + timeout
        try:
            while time.time() < deadline:
                ready, _, _ = select.select([fd], [], [], 0.5)
                if not ready:
                    continue
                try:
                    chunk = os.read(fd, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
                if not answered and b"Enter your OTP token:" in out:
                    os.write(fd, code.encode() + b"\n")
                    answered = True
            else:
                os.kill(pid, signal.SIGKILL)
        finally:
            _, status = os.waitpid(pid, 0)
            os.close(fd)
        return out.decode(errors="replace"), os.waitstatus_to_exitcode(status)


# --- sudo ---------------------------------------------------------------------

SUDO_PAM = "/etc/pam.d/sudo"
SUDOERS_DROP_IN = "/etc/sudoers.d/gate-pam-test"
_restore = {}


def _restore_sudo_files():
    """Puts /etc/pam.d/sudo back and removes the test's sudoers drop-in.
    Runs from the test's finally and again at exit (idempotent)."""
    backup = _restore.pop(SUDO_PAM, None)
    if backup is not None:
        shutil.copy2(backup, SUDO_PAM)
        os.unlink(backup)
    if os.path.exists(SUDOERS_DROP_IN):
        os.unlink(SUDOERS_DROP_IN)


atexit.register(_restore_sudo_files)


@unittest.skipUnless(IS_ROOT, "needs root: replaces /etc/pam.d/sudo for the test")
@unittest.skipUnless(shutil.which("sudo") and os.path.exists(SUDO_PAM),
                     "needs sudo and /etc/pam.d/sudo")
@unittest.skipIf(not os.path.exists(MODULE), f"needs {MODULE}")
class PamSudoTest(unittest.TestCase):
    """sudo with pam_gate (source=local) driving a test OS user."""

    def test_sudo_asks_for_the_otp(self):
        ensure_os_user("gtpamsudo")
        workdir = tempfile.mkdtemp(prefix="gate-sudo-")
        os.chmod(workdir, 0o755)
        secret = base64.b32encode(os.urandom(20)).decode().rstrip("=")
        authfile = os.path.join(workdir, "authfile")
        with open(authfile, "w") as f:
            f.write(f"gtpamsudo:totp:sha1:6:{secret}\n")
        os.chmod(authfile, 0o600)
        state = os.path.join(workdir, "state")
        with open(SUDO_PAM, "rb") as f:
            original = f.read()
        fd, backup = tempfile.mkstemp(prefix="gate-test-pam.d-sudo-")
        os.close(fd)
        shutil.copy2(SUDO_PAM, backup)
        _restore[SUDO_PAM] = backup
        try:
            with open(SUDOERS_DROP_IN, "w") as f:
                f.write("gtpamsudo ALL=(ALL) ALL\n")
            os.chmod(SUDOERS_DROP_IN, 0o440)
            with open(SUDO_PAM, "w") as f:
                f.write(f"auth required {MODULE} source=local authfile={authfile} "
                        f"state_dir={state}\n"
                        "account required pam_permit.so\n"
                        "session required pam_permit.so\n")

            def sudo(code):
                return subprocess.run(["sudo", "-k", "-S", "true"],
                                      input=code + "\n", capture_output=True, text=True,
                                      user="gtpamsudo", group="gtpamsudo", extra_groups=[],
                                      cwd="/", timeout=30)

            ok = sudo(totp(secret))
            self.assertEqual(ok.returncode, 0, ok.stderr)
            self.assertIn("Enter your OTP token:", ok.stderr)
            self.assertNotEqual(sudo("000000").returncode, 0)
            self.assertNotEqual(sudo(totp(secret)).returncode, 0)  # replay
        finally:
            _restore_sudo_files()
            shutil.rmtree(workdir, ignore_errors=True)
        with open(SUDO_PAM, "rb") as f:
            self.assertEqual(f.read(), original)


if __name__ == "__main__":
    unittest.main()
