"""pam_gate.so source=local through the real libpam: pamtester under
pam_wrapper, with service files of the test's own (issue 4).

Each test writes its own authfile, state directory and /etc/pam.d-style
service file into a temporary directory; PAM_WRAPPER_SERVICE_DIR points
libpam there, so nothing on the host is touched and no root is needed for
most cases (the wrong-owner case needs root to chown).
"""
import os
import pwd
import shutil
import subprocess
import tempfile
import time
import unittest

import harness

PAM_WRAPPER = "/usr/lib/x86_64-linux-gnu/libpam_wrapper.so"
PAMTESTER = shutil.which("pamtester") or "/usr/bin/pamtester"
SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
OTHER_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
ME = pwd.getpwuid(os.geteuid()).pw_name
# An account that exists but has no enrolment (Debian always has daemon).
UNENROLLED = "daemon" if ME != "daemon" else "bin"


def have_tools():
    return os.path.exists(PAM_WRAPPER) and os.access(PAMTESTER, os.X_OK)


@unittest.skipUnless(have_tools(), "needs pamtester and libpam-wrapper")
class PamLocalTest(unittest.TestCase):
    def setUp(self):
        self.module = harness.binary("pam_gate.so")
        self.dir = tempfile.mkdtemp(prefix="gate-pam-")
        os.chmod(self.dir, 0o755)
        self.services = os.path.join(self.dir, "pam.d")
        os.mkdir(self.services)
        self.authfile = os.path.join(self.dir, "authfile")
        self.state_dir = os.path.join(self.dir, "state")
        self.write_authfile(f"{ME}:totp:sha1:6:{SECRET}\n")

    def tearDown(self):
        if os.environ.get("GATE_KEEP_TEST_DIRS") != "1":
            shutil.rmtree(self.dir, ignore_errors=True)

    # --- helpers -----------------------------------------------------------

    def write_authfile(self, text, mode=0o600):
        if os.path.lexists(self.authfile):
            os.unlink(self.authfile)
        with open(self.authfile, "w") as f:
            f.write(text)
        os.chmod(self.authfile, mode)

    def gate_line(self, control="required", extra=""):
        return (f"auth {control} {self.module} source=local authfile={self.authfile} "
                f"state_dir={self.state_dir} {extra}").rstrip()

    def service(self, *lines):
        name = f"svc{len(os.listdir(self.services))}"
        with open(os.path.join(self.services, name), "w") as f:
            f.write("\n".join(lines) + "\n")
        return name

    def pamtester(self, service, user=ME, code=""):
        env = dict(os.environ, LD_PRELOAD=PAM_WRAPPER, PAM_WRAPPER="1",
                   # pam_gate logs through pam_syslog, which pam_wrapper keeps
                   # to itself unless told to pass it on.
                   PAM_WRAPPER_USE_SYSLOG="1",
                   PAM_WRAPPER_SERVICE_DIR=self.services)
        return harness.run([PAMTESTER, "-v", service, user, "authenticate"],
                           input=code + "\n", env=env, timeout=30)

    def assert_pass(self, proc):
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("successfully authenticated", proc.stdout + proc.stderr)

    def assert_deny(self, proc):
        self.assertNotEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertNotIn("successfully authenticated", proc.stdout + proc.stderr)

    # --- codes -------------------------------------------------------------

    def test_correct_code(self):
        svc = self.service(self.gate_line())
        proc = self.pamtester(svc, code=harness.totp(SECRET))
        self.assert_pass(proc)
        self.assertIn("Enter your OTP token:", proc.stdout + proc.stderr)

    def test_sha256_8_digits(self):
        self.write_authfile(f"{ME}:totp:sha256:8:{SECRET}\n")
        svc = self.service(self.gate_line())
        code = harness_totp_sha256(SECRET, digits=8)
        self.assert_pass(self.pamtester(svc, code=code))

    def test_wrong_code(self):
        svc = self.service(self.gate_line())
        good = harness.totp(SECRET)
        wrong = f"{(int(good) + 1) % 10**6:06d}"
        proc = self.pamtester(svc, code=wrong)
        self.assert_deny(proc)
        self.assertIn("Wrong code", proc.stdout + proc.stderr)
        # A code for another secret is just as wrong.
        self.assert_deny(self.pamtester(svc, code=harness.totp(OTHER_SECRET)))

    def test_reused_code(self):
        svc = self.service(self.gate_line())
        code = harness.totp(SECRET)
        self.assert_pass(self.pamtester(svc, code=code))
        proc = self.pamtester(svc, code=code)
        self.assert_deny(proc)
        self.assertIn("already used", proc.stdout + proc.stderr)

    def test_enrolment_code_is_never_accepted(self):
        # The code typed to confirm `gate mfa add --local` is refused by
        # pam_gate within its step (pam_gate(8): never accepted again).
        os.unlink(self.authfile)
        enrol = subprocess.Popen(
            [harness.binary("gate"), "mfa", "add", "--local", "--type=otp", "--user", ME,
             "--authfile", self.authfile, "--state-dir", self.state_dir],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        uri = None
        for line in enrol.stderr:
            if line.startswith("otpauth://"):
                uri = line.strip()
                break
        self.assertIsNotNone(uri)
        secret = harness.secret_from_uri(uri)
        now = time.time()
        code = harness.totp(secret, at=now)
        out, err = enrol.communicate(code + "\n", timeout=30)
        self.assertEqual(enrol.returncode, 0, out + err)

        svc = self.service(self.gate_line(extra="window=1"))
        proc = self.pamtester(svc, code=code)
        self.assert_deny(proc)
        self.assertIn("already used", proc.stdout + proc.stderr)
        # The secret itself works: the next step's code is accepted.
        self.assert_pass(self.pamtester(svc, code=harness.totp(secret, at=now + 30)))

    def test_code_outside_the_window(self):
        svc = self.service(self.gate_line(extra="window=1"))
        self.assert_deny(self.pamtester(svc, code=harness.totp(SECRET, at=time.time() + 90)))
        self.assert_deny(self.pamtester(svc, code=harness.totp(SECRET, at=time.time() - 90)))
        # One step of skew is inside window=1.
        self.assert_pass(self.pamtester(svc, code=harness.totp(SECRET, at=time.time() + 30)))

    def test_lockout_after_max_tries(self):
        svc = self.service(self.gate_line(extra="max_tries=2 lockout=600"))
        self.assert_deny(self.pamtester(svc, code="000000"))
        self.assert_deny(self.pamtester(svc, code="000001"))
        proc = self.pamtester(svc, code=harness.totp(SECRET))
        self.assert_deny(proc)
        self.assertIn("Too many wrong codes", proc.stdout + proc.stderr)

    # --- enrolment and nullok ---------------------------------------------

    def test_unenrolled_without_nullok_is_denied(self):
        svc = self.service(self.gate_line(), "auth required pam_permit.so")
        self.assert_deny(self.pamtester(svc, user=UNENROLLED, code="123456"))

    def test_unenrolled_with_nullok_is_ignored_not_success(self):
        # PAM_IGNORE lets the rest of the stack decide: pam_permit passes...
        svc = self.service(self.gate_line("sufficient", "nullok"), "auth required pam_permit.so")
        self.assert_pass(self.pamtester(svc, user=UNENROLLED))
        # ...and pam_deny denies. Were it PAM_SUCCESS, `sufficient` would
        # have ended the stack with a pass before pam_deny ran.
        svc = self.service(self.gate_line("sufficient", "nullok"), "auth required pam_deny.so")
        self.assert_deny(self.pamtester(svc, user=UNENROLLED))
        # Alone in the stack, an ignored module decides nothing: denied.
        svc = self.service(self.gate_line("required", "nullok"))
        self.assert_deny(self.pamtester(svc, user=UNENROLLED))

    def test_enrolled_user_with_nullok_still_needs_the_code(self):
        svc = self.service(self.gate_line("required", "nullok"), "auth required pam_permit.so")
        self.assert_deny(self.pamtester(svc, code="000000"))
        svc = self.service(self.gate_line("sufficient", "nullok"), "auth required pam_deny.so")
        self.assert_pass(self.pamtester(svc, code=harness.totp(SECRET)))

    def test_missing_authfile_with_and_without_nullok(self):
        os.unlink(self.authfile)
        svc = self.service(self.gate_line(), "auth required pam_permit.so")
        self.assert_deny(self.pamtester(svc))
        svc = self.service(self.gate_line("required", "nullok"), "auth required pam_permit.so")
        self.assert_pass(self.pamtester(svc))

    def test_second_factor_off_is_ignored(self):
        svc = self.service(self.gate_line("sufficient", "second_factor=off"),
                           "auth required pam_deny.so")
        self.assert_deny(self.pamtester(svc))
        svc = self.service(self.gate_line("required", "second_factor=off"),
                           "auth required pam_permit.so")
        self.assert_pass(self.pamtester(svc))

    # --- file hygiene: errors are never ignored, nullok or not -------------

    def assert_refused_even_with_nullok(self):
        for extra in ("", "nullok"):
            svc = self.service(self.gate_line("required", extra), "auth required pam_permit.so")
            proc = self.pamtester(svc, code=harness.totp(SECRET))
            self.assert_deny(proc)
            self.assertNotIn("Enter your OTP token", proc.stdout + proc.stderr)

    def test_group_or_world_accessible_authfile(self):
        for mode in (0o640, 0o604, 0o620, 0o602, 0o666):
            with self.subTest(mode=oct(mode)):
                self.write_authfile(f"{ME}:totp:sha1:6:{SECRET}\n", mode)
                self.assert_refused_even_with_nullok()

    def test_symlinked_authfile(self):
        real = os.path.join(self.dir, "real-authfile")
        os.rename(self.authfile, real)
        os.symlink(real, self.authfile)
        self.assert_refused_even_with_nullok()

    @unittest.skipUnless(harness.IS_ROOT, "chown needs root")
    def test_authfile_of_another_owner(self):
        os.chown(self.authfile, 65534, 65534)
        self.assert_refused_even_with_nullok()

    def test_malformed_authfile(self):
        self.write_authfile(f"{ME}:totp:sha1:6:{SECRET}\n{UNENROLLED}:totp:md5:6:{SECRET}\n")
        self.assert_refused_even_with_nullok()

    def test_corrupt_state(self):
        svc = self.service(self.gate_line())
        self.assert_pass(self.pamtester(svc, code=harness.totp(SECRET)))
        state = os.path.join(self.state_dir, f"{ME}.state")
        with open(state, "w") as f:
            f.write("not a state file\n")
        self.assert_deny(self.pamtester(svc, code=harness.totp(SECRET, at=time.time() + 30)))

    def test_unknown_option_denies(self):
        for extra in ("bogus", "nullok bogus=1", "window=9", "nullok nullok", "source=elsewhere"):
            with self.subTest(extra=extra):
                svc = self.service(self.gate_line("required", extra),
                                   "auth required pam_permit.so")
                self.assert_deny(self.pamtester(svc, user=UNENROLLED, code=harness.totp(SECRET)))

    def test_logs_hold_no_code_or_secret(self):
        svc = self.service(self.gate_line())
        code = harness.totp(SECRET)
        wrong = f"{(int(code) + 1) % 10**6:06d}"
        with harness.SyslogCapture() as capture:
            self.assert_deny(self.pamtester(svc, code=wrong))
            self.assert_pass(self.pamtester(svc, code=code))
            lines = capture.drain()
        if lines is None:
            self.skipTest("cannot capture syslog here (a daemon owns /dev/log)")
        text = "\n".join(lines)
        self.assertIn("pam_gate", text)
        for secret in (code, wrong, SECRET):
            self.assertNotIn(secret, text)


@unittest.skipUnless(have_tools(), "needs pamtester and libpam-wrapper")
class PluginTest(unittest.TestCase):
    """FIDO2 is a plugin loaded on demand (pam_module/plugin.h): a plugin
    anyone could have replaced is never loaded. Central OTP needs none."""

    # The same fixture as PamLocalTest, without inheriting (and re-running) its tests.
    setUp = PamLocalTest.setUp
    tearDown = PamLocalTest.tearDown
    write_authfile = PamLocalTest.write_authfile
    service = PamLocalTest.service
    pamtester = PamLocalTest.pamtester
    assert_deny = PamLocalTest.assert_deny

    def copy_module(self):
        modules = os.path.join(self.dir, "security")
        os.makedirs(os.path.join(modules, "pam_gate"))
        shutil.copy2(self.module, modules)
        built = os.path.join(os.path.dirname(self.module), "pam_gate")
        shutil.copy2(os.path.join(built, "fido.so"), os.path.join(modules, "pam_gate"))
        os.chmod(modules, 0o755)
        os.chmod(os.path.join(modules, "pam_gate"), 0o755)
        return os.path.join(modules, "pam_gate.so"), os.path.join(modules, "pam_gate", "fido.so")

    def test_local_otp_loads_no_plugin_library(self):
        maps = harness.run(["sh", "-c", f"LD_PRELOAD={self.module} cat /proc/self/maps"])
        self.assertIn("pam_gate.so", maps.stdout)
        # Neither OTP source loads TLS, HTTP or JSON libraries: central OTP
        # talks to gate-node otp-relay over a Unix socket.
        for library in ("libcurl", "libssl", "libcrypto", "libjsoncpp", "libstdc++",
                        "libfido2"):
            self.assertNotIn(library, maps.stdout)

    def test_writable_plugin_is_refused(self):
        module, plugin = self.copy_module()
        line = (f"auth required {module} second_factor=u2f appid=pam://gate-test "
                f"authfile={self.dir}/nowhere")
        with harness.SyslogCapture() as capture:
            os.chmod(plugin, 0o666)
            self.assert_deny(self.pamtester(self.service(line), code="123456"))
            os.chmod(os.path.dirname(plugin), 0o777)
            os.chmod(plugin, 0o755)
            self.assert_deny(self.pamtester(self.service(line), code="123456"))
            lines = capture.drain()
        if lines is not None:
            text = "\n".join(lines)
            self.assertIn("refusing plugin: " + plugin + " is writable by group/others", text)
            self.assertIn("refusing plugin directory", text)


def harness_totp_sha256(secret_b32, digits=8, step=30):
    """RFC 6238 TOTP with HMAC-SHA-256, independent of liboath."""
    import base64
    import hashlib
    import hmac
    import struct
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    counter = int(time.time() // step)
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha256).digest()
    offset = mac[-1] & 0x0F
    code = (struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 10**digits
    return str(code).zfill(digits)


if __name__ == "__main__":
    unittest.main()
