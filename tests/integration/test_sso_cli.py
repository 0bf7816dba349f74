"""`gate login --auth=NAME`: single sign-on from the CLI against a real
OpenID provider (panva's oidc-provider, oidc_idp.py) over TLS. The test plays
the browser: it opens the link the CLI prints, walks the provider's login and
consent forms (urllib), follows gate-ca's callback to the CLI's one-shot
listener on 127.0.0.1, and the CLI gets its certificate. Also: no role mapped
(the CLI says why), and the one-time code that only the CLI's secret collects,
once.
"""
import http.client
import os
import shutil
import ssl
import subprocess
import tempfile
import unittest
import urllib.request

from harness import Client, GateCA, binary
from oidc_idp import OidcIdp, drive_login

CLIENT_SECRET = "cli-test-client-secret-0123456789"
ACCOUNTS = {
    "alice": {"preferred_username": "alice", "groups": ["ops"], "unix_logins": ["alice"]},
    "erin": {"preferred_username": "erin", "groups": ["ops"]},
    "nobody": {"preferred_username": "nobody", "groups": ["guests"]},
}


class SsoCliTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="gate-sso-cli-")
        os.chmod(cls.workdir, 0o755)
        cls.ca = GateCA(cls.workdir)
        cls.redirect = f"https://{cls.ca.public_addr}/v1/sso/oidc/callback"
        cls.idp = OidcIdp(cls.workdir, [{
            "client_id": "gate", "client_secret": CLIENT_SECRET,
            "redirect_uris": [cls.redirect], "response_types": ["code"],
            "grant_types": ["authorization_code"],
            "token_endpoint_auth_method": "client_secret_basic"}], ACCOUNTS)
        secret_file = os.path.join(cls.workdir, "client.secret")
        with open(secret_file, "w") as f:
            f.write(CLIENT_SECRET)
        os.chmod(secret_file, 0o600)
        with open(cls.ca.config_path) as f:
            text = f.read()
        text = text.replace("    type: local\n", f"""    type: oidc
    connectors:
      - name: corp
        type: oidc
        issuer_url: {cls.idp.issuer}
        client_id: gate
        client_secret_file: {secret_file}
        redirect_url: {cls.redirect}
        scope: [openid, profile, groups, logins]
        username_claim: preferred_username
        logins_claim: unix_logins
        claims_to_roles: [{{claim: groups, value: ops, roles: [access]}}]
        ca_file: {cls.idp.ca_file}
""")
        with open(cls.ca.config_path, "w") as f:
            f.write(text)
        cls.idp.start()
        try:
            cls.ca.start()
            cls.ca.gatectl("roles", "add", "access", "--logins", "ubuntu", check=True)
        except BaseException:
            cls.idp.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.ca.stop()
        cls.idp.stop()
        if os.environ.get("GATE_KEEP_TEST_DIRS") != "1":
            shutil.rmtree(cls.workdir, ignore_errors=True)

    def follow_callback(self, callback):
        """Requests gate-ca's callback URL once, as the browser would (a
        second request would find the state spent); returns where gate-ca
        sends the browser next."""
        path = callback[len(f"https://{self.ca.public_addr}"):]
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # gate-ca's own self-signed certificate
        conn = http.client.HTTPSConnection("127.0.0.1", self.ca.port, context=ctx, timeout=30)
        conn.request("GET", path)
        resp = conn.getresponse()
        location = resp.getheader("Location")
        resp.read()
        conn.close()
        self.assertEqual(resp.status, 302)
        return location

    def public_key(self):
        path = os.path.join(self.workdir, "k")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", path], check=True)
        with open(path + ".pub") as f:
            pub = f.read().strip()
        os.remove(path)
        os.remove(path + ".pub")
        return pub

    def cli_login(self, login, args=()):
        """Runs gate login --auth corp --browser none and plays the browser."""
        client = Client(self.workdir, self.ca, login)
        proc = subprocess.Popen(
            [binary("gate"), "login", "--proxy", self.ca.addr, "--insecure", "--auth", "corp",
             "--browser", "none", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=client.env)
        url = None
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("  https://"):
                url = line.strip()
                break
        if url is None:
            proc.kill()
            self.fail("gate login printed no link:\n" + "".join(lines) + proc.stderr.read())
        self.assertTrue(url.startswith(self.idp.issuer + "/"), url)
        location = self.follow_callback(drive_login(self.idp, url, login, self.redirect))
        self.assertTrue(location.startswith("http://127.0.0.1:"), location)
        with urllib.request.urlopen(location, timeout=30) as page:
            body = page.read().decode()
        out, err = proc.communicate(timeout=120)
        return proc.returncode, "".join(lines) + out, err, body, client

    def test_login_through_the_connector(self):
        rc, out, err, page, client = self.cli_login("alice")
        self.assertEqual(rc, 0, out + err)
        self.assertIn("the login is finished", page)
        self.assertIn("Logged in as: alice", out)
        self.assertIn("Connector:    corp", out)
        self.assertIn("Roles:        access", out)
        self.assertRegex(out, r"Logins:\s+alice, ubuntu")
        status = client.gate("status")
        self.assertEqual(status.returncode, 0, status.stderr)
        self.assertIn("Connector:    corp", status.stdout)
        rows = self.ca.audit_rows("user.sso_login", "connector corp, subject alice")
        self.assertTrue(any(r[1] == 1 for r in rows), rows)
        rows = self.ca.audit_rows("user.login", "certificate serial")
        self.assertTrue(any(r[0] == "alice" for r in rows), rows)

    def test_cluster_default_connector_without_auth_flag(self):
        # authentication.type is oidc: --auth may be left out.
        client = Client(self.workdir, self.ca, "erin")
        proc = subprocess.Popen(
            [binary("gate"), "login", "--proxy", self.ca.addr, "--insecure", "--browser", "none"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=client.env)
        first = proc.stdout.readline()
        url = proc.stdout.readline().strip()
        proc.kill()
        proc.communicate()
        self.assertIn("through corp", first)
        self.assertTrue(url.startswith(self.idp.issuer + "/"), url)

    def test_no_role_mapped_is_reported_by_the_cli(self):
        rc, out, err, page, _ = self.cli_login("nobody")
        self.assertNotEqual(rc, 0)
        self.assertIn("the login failed", page)
        self.assertIn("no role is mapped to nobody by connector corp", err)

    def test_code_collects_only_with_the_secret_and_once(self):
        pub = self.public_key()
        status, started, text = self.ca.request(
            "POST", "/v1/sso/oidc/corp/cli", {"public_key": pub, "callback_port": 40000})
        self.assertEqual(status, 200, text)
        callback = drive_login(self.idp, started["url"], "erin", self.redirect)
        location = self.follow_callback(callback)
        self.assertTrue(location.startswith("http://127.0.0.1:40000/callback?code="), location)
        code = location.split("code=", 1)[1]
        status, body, _ = self.ca.request("POST", "/v1/sso/cli/collect",
                                          {"code": code, "secret": "not-the-secret"})
        self.assertEqual(status, 401)
        # The wrong try spent the code: the right secret finds nothing now.
        status, body, _ = self.ca.request("POST", "/v1/sso/cli/collect",
                                          {"code": code, "secret": started["secret"]})
        self.assertEqual(status, 401)
        # A fresh login collects once with its secret.
        status, started, _ = self.ca.request(
            "POST", "/v1/sso/oidc/corp/cli", {"public_key": pub, "callback_port": 40000})
        location = self.follow_callback(drive_login(self.idp, started["url"], "erin",
                                                    self.redirect))
        code = location.split("code=", 1)[1]
        status, body, text = self.ca.request("POST", "/v1/sso/cli/collect",
                                             {"code": code, "secret": started["secret"]})
        self.assertEqual(status, 200, text)
        self.assertEqual(body["user"], "erin")
        self.assertEqual(body["connector"], "corp")
        status, _, _ = self.ca.request("POST", "/v1/sso/cli/collect",
                                       {"code": code, "secret": started["secret"]})
        self.assertEqual(status, 401)

    def test_locks_apply_to_connector_users_by_name(self):
        rc, out, err, _, _ = self.cli_login("alice")
        self.assertEqual(rc, 0, out + err)
        self.ca.gatectl("users", "lock", "alice", "--message", "incident 9", check=True)
        try:
            rc, out, err, page, _ = self.cli_login("alice")
            self.assertNotEqual(rc, 0)
            self.assertIn("the login is finished", page)  # the provider's part went through
            self.assertIn("locked", err)
            self.assertIn("incident 9", err)
        finally:
            self.ca.gatectl("users", "unlock", "alice", check=True)

    def test_gatectl_connectors_ls(self):
        proc = self.ca.gatectl("connectors", "ls", check=True)
        self.assertIn("Authentication type: oidc", proc.stdout)
        line = [l for l in proc.stdout.splitlines() if l.startswith("corp")]
        self.assertEqual(len(line), 1, proc.stdout)
        self.assertIn("corp *", line[0])
        self.assertIn(self.idp.issuer, line[0])
        self.assertIn("gate.yaml", line[0])

    def test_bad_cli_requests(self):
        pub = self.public_key()
        status, _, _ = self.ca.request("POST", "/v1/sso/oidc/corp/cli",
                                       {"public_key": "ssh-ed25519 AAAA", "callback_port": 40000})
        self.assertEqual(status, 400)
        status, _, text = self.ca.request("POST", "/v1/sso/oidc/corp/cli",
                                          {"public_key": pub, "callback_port": 80})
        self.assertEqual(status, 400, text)
        status, _, text = self.ca.request("POST", "/v1/sso/oidc/nope/cli",
                                          {"public_key": pub, "callback_port": 40000})
        self.assertEqual(status, 404, text)


if __name__ == "__main__":
    unittest.main()
