"""Authentication abuse that costs nothing to try: probing for user names
through the lockout, locking a user out with guesses spread over addresses,
and locking a user out of every login through one node's central OTP checks.
Sources are loopback aliases (127.0.0.x all reach gate-ca on 127.0.0.1)."""
import http.client
import json
import os
import re
import ssl
import subprocess
import unittest

from harness import GateTestCase, totp

PASSWORD = "correct horse battery"
WRONG = "not the password!"


class AuthAbuseTest(GateTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        key = os.path.join(cls.workdir, "abuse_key")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key], check=True)
        with open(key + ".pub") as f:
            cls.public_key = f.read().strip()

    def call(self, source, method, path, body, authorization=None):
        """One HTTPS request to gate-ca from the address `source`."""
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection("127.0.0.1", self.ca.port, context=ctx, timeout=30,
                                           source_address=(source, 0))
        headers = {"Content-Type": "application/json"}
        if authorization:
            headers["Authorization"] = authorization
        conn.request(method, path, body=json.dumps(body).encode(), headers=headers)
        resp = conn.getresponse()
        text = resp.read().decode(errors="replace")
        conn.close()
        return resp.status, (json.loads(text) if text else None)

    @staticmethod
    def normalized(body):
        return re.sub(r"try again in \S+", "try again in T", json.dumps(body))

    def login(self, source, user, password, code="000000"):
        return self.call(source, "POST", "/v1/login", {
            "user": user, "password": password, "otp_code": code,
            "public_key": self.public_key})

    def test_unknown_and_known_users_are_answered_alike(self):
        # Regression: after 5 failures a known user got 429 while an unknown
        # one got 401 forever, which told who exists.
        self.new_user("una")
        for attempt in range(7):
            known = self.login("127.0.0.2", "una", WRONG)
            unknown = self.login("127.0.0.2", "nosuchuna", WRONG)
            self.assertEqual(known[0], unknown[0], f"attempt {attempt}")
            # The same words; the wait left may differ by the second between the two.
            self.assertEqual(self.normalized(known[1]), self.normalized(unknown[1]),
                             f"attempt {attempt}")
            self.assertEqual(known[0], 401 if attempt < 5 else 429, f"attempt {attempt}")

    def test_guesses_spread_over_addresses_cannot_lock_a_user_out(self):
        # Regression: five wrong passwords from anywhere kept a known user
        # locked out for everyone.
        client, device = self.new_user("vic")
        for i in range(8):
            status, _ = self.login(f"127.0.0.{10 + i}", "vic", WRONG)
            self.assertEqual(status, 401)
        # The name is throttled: addresses that failed must wait...
        status, body = self.login("127.0.0.10", "vic", PASSWORD, totp(device.secret))
        self.assertEqual(status, 429, body)
        self.assertIn("too many failed login attempts", body["error"]["message"])
        self.assertRegex(self.ca.gatectl("users", "ls", check=True).stdout, r"vic .* locked out")
        # ...while the right password and code from a clean address get in.
        status, body = self.login("127.0.0.3", "vic", PASSWORD, device.code())
        self.assertEqual(status, 200, body)

    def test_one_nodes_wrong_codes_do_not_lock_the_user_out(self):
        # Regression: six wrong codes through /v1/nodes/otp/verify with one
        # node's credentials locked the user out of `gate login` everywhere.
        client, device = self.new_user("wes")
        out = self.ca.gatectl("tokens", "add", "--type=node", check=True).stdout
        token = re.search(r"The node join token: ([0-9a-f]{32})", out).group(1)
        status, join = self.call("127.0.0.1", "POST", "/v1/nodes/join", {
            "token": token, "hostname": "abuse-node", "host_key": self.public_key})
        self.assertEqual(status, 200, join)
        bearer = "Bearer " + join["host_uuid"] + "." + join["node_secret"]
        for _ in range(6):
            status, _ = self.call("127.0.0.1", "POST", "/v1/nodes/otp/verify",
                                  {"user": "wes", "code": "000000"}, bearer)
            self.assertIn(status, (401, 429))
        # That node is blocked for wes...
        status, _ = self.call("127.0.0.1", "POST", "/v1/nodes/otp/verify",
                              {"user": "wes", "code": totp(device.secret)}, bearer)
        self.assertEqual(status, 429)
        # ...but wes still logs in with gate login.
        login = client.login("wes", PASSWORD, device.code())
        self.assertEqual(login.returncode, 0, login.stderr)


if __name__ == "__main__":
    unittest.main()
