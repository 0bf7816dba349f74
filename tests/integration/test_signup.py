"""`gate signup` as a person runs it: the token never in argv, answers asked
again when refused, all through a real pseudo-terminal and a real gate-ca."""
import contextlib
import os
import re
import unittest

from harness import Client, GateTestCase, OtpDevice, PtyProcess, binary, secret_from_uri

PASSWORD = "correct horse battery"


def all_cmdlines():
    """Every process's argv, as the kernel shows it to any local user."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                out.append((pid, f.read().replace(b"\0", b" ").decode(errors="replace")))
        except OSError:
            pass
    return out


class SignupTest(GateTestCase):

    @contextlib.contextmanager
    def signup_terminal(self, name):
        """A new user's token, its client and `gate signup` running on a pty."""
        token, _ = self.ca.add_user(name)
        client = Client(self.workdir, self.ca, name)
        term = PtyProcess([binary("gate"), "signup", "--proxy", self.ca.addr, "--insecure"],
                          env=client.env)
        try:
            yield token, client, term
        finally:
            term.close()

    def passwords(self, term):
        """At the password prompt: types PASSWORD twice; returns the OTP device
        for the URI shown, with gate waiting for the code."""
        term.send(PASSWORD)
        term.expect(r"Enter the password again: ")
        term.send(PASSWORD)
        uri = term.expect(r"otpauth://\S+").group(0)
        term.expect(r"Enter your OTP token: ")
        return OtpDevice(secret_from_uri(uri))

    def finish(self, term, client, name, device, code):
        """Types the code, expects success, then logs in with PASSWORD."""
        term.send(code)
        term.expect(rf"Signup complete: gate user {name} is ready\.")
        self.assertEqual(term.wait(), 0, term.output)
        login = client.login(name, PASSWORD, device.code())
        self.assertEqual(login.returncode, 0, login.stderr)

    def url(self, token):
        return f"https://{self.ca.addr}/web/newuser/{token}"

    def assert_pending(self, name):
        users = self.ca.gatectl("users", "ls", check=True).stdout
        self.assertRegex(users, rf"{name} .* pending signup")

    def test_token_in_argv_is_refused_and_not_used(self):
        token, out = self.ca.add_user("argv")
        # What gatectl prints never suggests the token on a command line.
        self.assertIn(f"gate signup --proxy {self.ca.addr} --ca-pin {self.ca.pin} (it asks for this URL",
                      out)
        self.assertNotIn(f"--proxy {self.ca.addr} {token}", out)
        client = Client(self.workdir, self.ca, "argv")
        for given in (token, self.url(token)):
            proc = client.gate("signup", "--proxy", self.ca.addr, "--insecure", given, input="")
            self.assertEqual(proc.returncode, 2, proc.stderr)
            self.assertIn("must not be given on the command line", proc.stderr)
            self.assertIn("/proc/PID/cmdline", proc.stderr)
            self.assertIn("paste the URL or token when asked", proc.stderr)
            self.assertNotIn(token, proc.stderr)
        # Nothing reached the server: the token is still pending and works.
        self.assert_pending("argv")
        ok, _ = client.signup(token, PASSWORD)
        self.assertEqual(ok.returncode, 0, ok.stderr)

    def test_token_is_in_no_argv_while_signup_waits(self):
        with self.signup_terminal("hidden") as (token, client, term):
            term.expect(r"Paste the signup URL or token: ")
            term.send(self.url(token))
            term.expect(r"Signing up as gate user hidden\.")
            term.expect(r"Choose a password \(at least 12 characters\): ")
            leaks = [(pid, cmd) for pid, cmd in all_cmdlines() if token in cmd]
            self.assertEqual(leaks, [])
            self.assertTrue(any("gate signup" in cmd for _, cmd in all_cmdlines()),
                            "the signup is still running")
            device = self.passwords(term)
            self.finish(term, client, "hidden", device, device.code())
            # Typed with echo off: the token and password never show.
            self.assertNotIn(token, term.output)
            self.assertNotIn(PASSWORD, term.output)

    def test_refused_answers_are_asked_again(self):
        # The password that counts is the one confirmed (finish logs in).
        with self.signup_terminal("retry") as (token, client, term):
            term.expect(r"Paste the signup URL or token: ")
            term.send("not a token")
            term.expect(r"not a signup URL or token .*; try again \(2 left\)")
            term.expect(r"Paste the signup URL or token: ")
            term.send(token)
            term.expect(r"Choose a password")
            term.send("short")
            term.expect(r"password must be at least 12 characters; try again \(2 left\)")
            term.expect(r"Choose a password")
            term.send(PASSWORD)
            term.expect(r"Enter the password again: ")
            term.send(PASSWORD + " typo")
            term.expect(r"the passwords do not match; try again \(1 left\)")
            term.expect(r"Choose a password")
            device = self.passwords(term)
            term.send("12345")
            term.expect(r"the OTP code must be 6 digits; try again \(2 left\)")
            term.expect(r"Enter your OTP token: ")
            good = device.code()
            term.send("000000" if good != "000000" else "111111")
            term.expect(r"invalid OTP code.*; try again \(1 left\)")
            term.expect(r"Enter your OTP token: ")
            self.finish(term, client, "retry", device, good)

    def test_tries_are_bounded(self):
        with self.signup_terminal("bounded") as (token, _, term):
            term.expect(r"Paste the signup URL or token: ")
            term.send(token)
            for left in ("2 left", "1 left"):
                term.expect(r"Choose a password")
                term.send("short")
                term.expect(rf"at least 12 characters; try again \({left}\)")
            term.expect(r"Choose a password")
            term.send("short")
            self.assertEqual(term.wait(), 2, term.output)
        self.assertRegex(term.output, r"gate signup: password must be at least 12 characters\s*$")
        self.assertEqual(len(re.findall(r"at least 12 characters", term.output)), 3 + 2 + 1,
                         term.output)  # 3 prompts, 2 retries, 1 final error
        self.assert_pending("bounded")

    def test_wrong_codes_are_bounded_and_change_nothing(self):
        with self.signup_terminal("codes") as (token, _, term):
            term.expect(r"Paste the signup URL or token: ")
            term.send(token)
            term.expect(r"Choose a password")
            good = self.passwords(term).code()
            wrong = "000000" if good != "000000" else "111111"
            term.send(wrong)
            for _ in range(2):
                term.expect(r"Enter your OTP token: ")
                term.send(wrong)
            self.assertEqual(term.wait(), 3, term.output)
        self.assertEqual(len(re.findall(r"invalid OTP code", term.output)), 3, term.output)
        self.assert_pending("codes")


if __name__ == "__main__":
    unittest.main()
