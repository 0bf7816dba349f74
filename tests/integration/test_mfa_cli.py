"""`gate mfa add`: enrolling pam_gate.so factors in a host's authfile.

No gate-ca is needed: the command only writes the local authfile. The OTP
code is computed from the URI the command prints, like a phone would; no
security key exists on a test machine, so u2f registration must fail cleanly.
"""
import base64
import hashlib
import hmac
import os
import pwd
import re
import shutil
import stat
import struct
import subprocess
import tempfile
import time
import unittest

from harness import binary, run, secret_from_uri, terminal_to_pgm, totp

AUTHFILE_LINE = re.compile(r"^([^:#\s]+):totp:(sha1|sha256):(6|8):([A-Z2-7]+)$")


class MfaAddTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="gate-mfa-")
        self.authfile = os.path.join(self.dir, "pam_gate.authfile")
        # pam_gate's state_dir=, where the confirmation code is marked used.
        self.state_dir = os.path.join(self.dir, "state")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def add_otp(self, *extra, code_for=None, preexec_fn=None):
        """Runs `gate mfa add --local --type=otp`, answering the code prompt
        with the TOTP of the URI it prints (or code_for(secret))."""
        proc = subprocess.Popen(
            [binary("gate"), "mfa", "add", "--local", "--type=otp", "--user", "alice",
             "--authfile", self.authfile, "--state-dir", self.state_dir, *extra],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            preexec_fn=preexec_fn)
        uri = None
        err = []
        for line in proc.stderr:
            err.append(line)
            if line.startswith("otpauth://"):
                uri = line.strip()
                break
        if uri is None:
            out, rest = proc.communicate(timeout=30)
            return proc.returncode, out, "".join(err) + rest, None
        secret = secret_from_uri(uri)
        digits = 8 if "digits=8" in uri else 6
        code = code_for(secret) if code_for else totp(secret, digits=digits)
        out, rest = proc.communicate(code + "\n", timeout=30)
        return proc.returncode, out, "".join(err) + rest, uri

    def test_otp_add_appends_a_line_pam_gate_reads(self):
        rc, out, err, uri = self.add_otp()
        self.assertEqual(rc, 0, err)
        self.assertIn("OTP added for alice", out)
        self.assertIn("issuer=gate", uri)
        self.assertIn("algorithm=SHA1", uri)
        st = os.lstat(self.authfile)
        self.assertTrue(stat.S_ISREG(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
        with open(self.authfile) as f:
            lines = f.read().splitlines()
        self.assertEqual(len(lines), 1)
        m = AUTHFILE_LINE.match(lines[0])
        self.assertIsNotNone(m, lines[0])
        self.assertEqual(m.group(1), "alice")
        self.assertEqual(m.group(4), secret_from_uri(uri))
        self.assertEqual(len(m.group(4)), 32)  # 160 bits in base32
        # The secret never reaches standard output (scripts may log it).
        self.assertNotIn(m.group(4), out)

    def test_confirmation_step_is_marked_used_in_pam_gates_state(self):
        rc, _, err, _ = self.add_otp()
        self.assertEqual(rc, 0, err)
        state = os.path.join(self.state_dir, "alice.state")
        self.assertEqual(stat.S_IMODE(os.lstat(self.state_dir).st_mode), 0o700)
        self.assertEqual(stat.S_IMODE(os.lstat(state).st_mode), 0o600)
        with open(state) as f:
            fields = f.read().split()
        self.assertEqual(fields[0], "v1")
        # The step of the code typed (one step of skew either way).
        self.assertLessEqual(abs(int(fields[1]) - int(time.time() // 30)), 1)
        self.assertEqual(fields[2:], ["0", "0"])

    @unittest.skipUnless(os.geteuid() == 0, "needs root to run gate as another user")
    def test_state_it_cannot_write_means_nothing_is_written(self):
        # pam_gate's state is root's: a user who cannot mark the code used
        # gets a clear error and no authfile line that would accept it.
        os.makedirs(self.state_dir, mode=0o700)
        nobody = pwd.getpwnam("nobody")
        os.chown(self.dir, nobody.pw_uid, nobody.pw_gid)

        def as_nobody():
            os.setgid(nobody.pw_gid)
            os.setgroups([])
            os.setuid(nobody.pw_uid)

        rc, _, err, uri = self.add_otp(preexec_fn=as_nobody)
        self.assertIsNotNone(uri, err)
        self.assertEqual(rc, 3, err)
        self.assertIn("cannot mark the code as used in pam_gate's state", err)
        self.assertIn("nothing was written", err)
        self.assertFalse(os.path.exists(self.authfile))

    @unittest.skipUnless(shutil.which("zbarimg"), "needs zbarimg (zbar-tools)")
    def test_qr_code_scans_on_dark_and_light_terminals(self):
        rc, _, err, uri = self.add_otp()
        self.assertEqual(rc, 0, err)
        lines = err.splitlines()
        end = next(i for i, l in enumerate(lines) if l.startswith("Scan the QR code"))
        qr = [l for l in lines[:end] if "\u2580" in l or "\u2584" in l or "\u2588" in l]
        self.assertGreater(len(qr), 10, err)
        for name, fg, bg in (("light-on-dark", 255, 0), ("dark-on-light", 0, 255)):
            image = os.path.join(self.dir, f"{name}.pgm")
            terminal_to_pgm(qr, fg, bg, image)
            scan = run(["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", image])
            self.assertEqual(scan.returncode, 0, f"{name}: {scan.stderr}")
            self.assertEqual(scan.stdout.strip(), uri, name)

    def test_second_add_keeps_the_first_line(self):
        with open(self.authfile, "w") as f:
            f.write("# existing\nbob:totp:sha1:6:JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")  # no newline
        os.chmod(self.authfile, 0o600)
        rc, _, err, _ = self.add_otp("--algorithm", "sha256", "--digits", "8",
                                     code_for=lambda s: sha256_totp(s, 8))
        self.assertEqual(rc, 0, err)
        with open(self.authfile) as f:
            lines = f.read().splitlines()
        self.assertEqual(lines[:2], ["# existing", "bob:totp:sha1:6:JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"])
        self.assertEqual(len(lines), 3)
        self.assertRegex(lines[2], r"^alice:totp:sha256:8:[A-Z2-7]{32}$")
        self.assertEqual(stat.S_IMODE(os.lstat(self.authfile).st_mode), 0o600)

    def test_wrong_code_writes_nothing(self):
        rc, _, err, _ = self.add_otp(code_for=lambda s: "000000" if totp(s) != "000000" else "111111")
        self.assertEqual(rc, 3, err)
        self.assertIn("not valid", err)
        self.assertFalse(os.path.exists(self.authfile))

    def test_bad_authfile_permissions_are_refused(self):
        original = "bob:totp:sha1:6:JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\n"
        with open(self.authfile, "w") as f:
            f.write(original)
        for mode in (0o644, 0o640, 0o620, 0o606):
            os.chmod(self.authfile, mode)
            rc, _, err, uri = self.add_otp()
            self.assertEqual(rc, 3, f"mode {oct(mode)}: {err}")
            self.assertIsNone(uri, "refused before showing a secret")
            self.assertIn("chmod", err)
            with open(self.authfile) as f:
                self.assertEqual(f.read(), original)
            self.assertEqual(stat.S_IMODE(os.lstat(self.authfile).st_mode), mode)

    def test_symlinked_authfile_is_refused(self):
        target = os.path.join(self.dir, "real")
        with open(target, "w") as f:
            f.write("")
        os.chmod(target, 0o600)
        os.symlink(target, self.authfile)
        rc, _, err, _ = self.add_otp()
        self.assertEqual(rc, 3, err)
        self.assertIn("symbolic link", err)
        self.assertTrue(os.path.islink(self.authfile))
        with open(target) as f:
            self.assertEqual(f.read(), "")

    def test_unparsable_authfile_is_refused(self):
        with open(self.authfile, "w") as f:
            f.write("alice:totp:md5:6:JBSWY3DPEHPK3PXP\n")
        os.chmod(self.authfile, 0o600)
        rc, _, err, _ = self.add_otp()
        self.assertNotEqual(rc, 0)
        self.assertIn("authfile:1", err)

    def test_otp_needs_local(self):
        proc = run([binary("gate"), "mfa", "add", "--type=otp", "--authfile", self.authfile])
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("--local", proc.stderr)
        self.assertFalse(os.path.exists(self.authfile))

    def test_u2f_without_a_key_fails_clearly_and_changes_nothing(self):
        original = "bob:totp:sha1:6:JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\n"
        with open(self.authfile, "w") as f:
            f.write(original)
        os.chmod(self.authfile, 0o600)
        before = os.stat(self.authfile)
        proc = run([binary("gate"), "mfa", "add", "--type=u2f", "--appid", "pam://host1",
                    "--user", "alice", "--authfile", self.authfile], input="")
        self.assertEqual(proc.returncode, 5, proc.stderr)
        self.assertIn("No security key found", proc.stderr)
        after = os.stat(self.authfile)
        self.assertEqual((before.st_ino, before.st_mtime_ns), (after.st_ino, after.st_mtime_ns))
        with open(self.authfile) as f:
            self.assertEqual(f.read(), original)

    def test_u2f_needs_appid(self):
        proc = run([binary("gate"), "mfa", "add", "--type=u2f", "--authfile", self.authfile])
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("--appid", proc.stderr)
        self.assertFalse(os.path.exists(self.authfile))


def sha256_totp(secret_b32, digits):
    """RFC 6238 with HMAC-SHA256 (harness.totp is SHA-1 only)."""
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(time.time() // 30)), hashlib.sha256).digest()
    offset = mac[-1] & 0x0F
    code = (struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 10**digits
    return str(code).zfill(digits)


if __name__ == "__main__":
    unittest.main()
