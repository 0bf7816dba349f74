"""Every way a signup or login must fail, and that failing changes nothing."""
import json
import time
import unittest

from harness import Client, GateTestCase, totp

PASSWORD = "correct horse battery"


class SignupNegativeTest(GateTestCase):

    def test_reused_signup_token(self):
        token, _ = self.ca.add_user("reuse")
        client = Client(self.workdir, self.ca, "reuse")
        first, _ = client.signup(token, PASSWORD)
        self.assertEqual(first.returncode, 0, first.stderr)
        second, _ = client.signup(token, PASSWORD)
        self.assertEqual(second.returncode, 5)
        self.assertIn("signup token not found or already used", second.stderr)

    def test_expired_signup_token(self):
        token, out = self.ca.add_user("late", ttl="1s")
        self.assertIn("valid for 1s", out)
        time.sleep(2)
        client = Client(self.workdir, self.ca, "late")
        result, _ = client.signup(token, PASSWORD)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("signup token expired", result.stderr)

    def test_unknown_token(self):
        client = Client(self.workdir, self.ca, "nobody")
        result, _ = client.signup("0" * 32, PASSWORD)
        self.assertEqual(result.returncode, 5)
        self.assertIn("signup token not found", result.stderr)

    def test_short_password_and_mismatch_change_nothing(self):
        token, _ = self.ca.add_user("shorty")
        client = Client(self.workdir, self.ca, "shorty")
        result, _ = client.signup(token, "short")
        self.assertEqual(result.returncode, 2)
        self.assertIn("at least 12 characters", result.stderr)
        # The server enforces it too, whatever the client does.
        status, body, _ = self.ca.request("POST", "/v1/signup/finish",
                                          {"token": token, "password": "short", "otp_code": "000000"})
        self.assertEqual(status, 400)
        self.assertIn("at least 12", body["error"]["message"])
        # The token still works afterwards.
        ok, _ = client.signup(token, PASSWORD)
        self.assertEqual(ok.returncode, 0, ok.stderr)

    def test_wrong_signup_code_changes_nothing(self):
        token, _ = self.ca.add_user("wrongcode")
        client = Client(self.workdir, self.ca, "wrongcode")
        result, _ = client.signup(token, PASSWORD, code_for=lambda d: "000000"
                                  if totp(d.secret) != "000000" else "111111")
        self.assertEqual(result.returncode, 3)
        self.assertIn("invalid OTP code", result.stderr)
        users = self.ca.gatectl("users", "ls", check=True).stdout
        self.assertRegex(users, r"wrongcode .* pending signup")
        ok, _ = client.signup(token, PASSWORD)
        self.assertEqual(ok.returncode, 0, ok.stderr)


class LoginNegativeTest(GateTestCase):

    def test_wrong_password_and_unknown_user_look_the_same(self):
        client, device = self.new_user("pat")
        wrong = client.login("pat", "not the password", device.code())
        self.assertEqual(wrong.returncode, 3)
        self.assertIn("invalid user name, password or OTP code", wrong.stderr)
        unknown = client.login("nosuchuser", PASSWORD, "123456")
        self.assertEqual(unknown.returncode, 3)
        self.assertEqual(wrong.stderr.splitlines()[-1].replace("pat", "X"),
                         unknown.stderr.splitlines()[-1].replace("nosuchuser", "X"))

    def test_wrong_and_reused_otp(self):
        client, device = self.new_user("quinn")
        code = device.code()
        wrong = client.login("quinn", PASSWORD, "000000" if code != "000000" else "111111")
        self.assertEqual(wrong.returncode, 3)
        # The answer a wrong password gets: it must not say the password was right.
        self.assertIn("invalid user name, password or OTP code", wrong.stderr)
        ok = client.login("quinn", PASSWORD, code)
        self.assertEqual(ok.returncode, 0, ok.stderr)
        again = client.login("quinn", PASSWORD, code)
        self.assertEqual(again.returncode, 3)
        self.assertIn("invalid user name, password or OTP code", again.stderr)
        self.assertTrue(self.ca.audit_rows("user.login", "reused OTP code"))

    def test_lockout_after_five_failures(self):
        client, device = self.new_user("rita")
        for _ in range(5):
            self.assertEqual(client.login("rita", "bad password!", "000000").returncode, 3)
        locked = client.login("rita", PASSWORD, device.code())
        self.assertEqual(locked.returncode, 3)
        self.assertIn("too many failed login attempts; try again in", locked.stderr)
        self.assertIn("locked out", self.ca.gatectl("users", "ls", check=True).stdout)

    def test_user_without_requested_login_principal(self):
        # Tested end to end against sshd in test_login_flow; here: principals
        # are exactly the logins the admin gave.
        client, device = self.new_user("sam", "gtsam1,gtsam2")
        result = client.login("sam", PASSWORD, device.code())
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("Logins:       gtsam1, gtsam2", result.stdout)

    def test_bad_public_key_is_rejected_before_authentication(self):
        status, body, _ = self.ca.request("POST", "/v1/login", {
            "user": "sam", "password": PASSWORD, "otp_code": "123456",
            "public_key": "ssh-rsa AAAAB3NzaC1yc2E= x"})
        self.assertEqual(status, 400)
        self.assertIn("public_key", body["error"]["message"])


class ApiInputTest(GateTestCase):

    def assertError(self, status, body, expected_status, code):
        self.assertEqual(status, expected_status, body)
        self.assertIsInstance(body, dict)
        self.assertEqual(body["error"]["code"], code)
        self.assertTrue(body["error"]["message"])

    def test_malformed_json(self):
        for raw in (b"{", b"[]", b"{\"token\": 1}", b"{\"a\":1} trailing", b"{\"token\":\"a\",\"token\":\"b\"}"):
            status, body, _ = self.ca.request("POST", "/v1/signup/start", raw=raw)
            self.assertError(status, body, 400, "invalid argument")

    def test_missing_and_mistyped_fields(self):
        status, body, _ = self.ca.request("POST", "/v1/login", {"user": "x"})
        self.assertError(status, body, 400, "invalid argument")
        self.assertIn("password", body["error"]["message"])
        status, body, _ = self.ca.request("POST", "/v1/login", {
            "user": "x", "password": "p", "public_key": "k", "ttl_seconds": "12h"})
        self.assertError(status, body, 400, "invalid argument")
        self.assertIn("ttl_seconds", body["error"]["message"])

    def test_oversized_body(self):
        big = json.dumps({"token": "a" * (200 * 1024)}).encode()
        status, body, _ = self.ca.request("POST", "/v1/signup/start", raw=big)
        self.assertError(status, body, 413, "invalid argument")

    def test_wrong_content_type_and_unknown_route(self):
        status, body, _ = self.ca.request("POST", "/v1/login", raw=b"user=x",
                                          content_type="application/x-www-form-urlencoded")
        self.assertEqual(status, 415, body)
        status, body, _ = self.ca.request("GET", "/v1/nope")
        self.assertEqual(status, 404, body)
        status, body, _ = self.ca.request("GET", "/v1/login")
        self.assertEqual(status, 405, body)

    def test_admin_api_is_not_on_the_public_port(self):
        status, _, _ = self.ca.request("POST", "/admin/v1/users", {"name": "evil"})
        self.assertEqual(status, 404)
        self.assertNotIn("evil", self.ca.gatectl("users", "ls", check=True).stdout)

    def test_ping(self):
        status, body, _ = self.ca.request("GET", "/v1/ping")
        self.assertEqual(status, 200)
        self.assertEqual(body["cluster_name"], "test-cluster")
        self.assertEqual(body["auth"]["second_factor"], "otp")
        # gate-ca's own self-signed certificate: the command needs the pin.
        self.assertEqual(body["login_command"],
                         f"gate login --proxy {self.ca.addr} --ca-pin {self.ca.pin}")
        self.assertTrue(body["user_ca"][0].startswith("ssh-ed25519 "))
        self.assertTrue(body["host_ca"][0].startswith("ssh-ed25519 "))


if __name__ == "__main__":
    unittest.main()
