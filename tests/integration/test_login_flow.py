"""The reference tutorial's loop: add a user, sign up, log in, plain ssh."""
import os
import re
import subprocess
import time
import unittest

from harness import (Client, GateTestCase, Sshd, ensure_os_user, needs_root, run)

PASSWORD = "correct horse battery"


class LoginFlowTest(GateTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user_ca = cls.ca.gatectl("ca", "export", "--type", "user", check=True).stdout
        cls.sshd = None
        if os.geteuid() == 0:
            for login in ("gtalice", "gtbob"):
                ensure_os_user(login)
            cls.sshd = Sshd(cls.workdir, cls.user_ca).start()

    @classmethod
    def tearDownClass(cls):
        if cls.sshd:
            cls.sshd.stop()
        super().tearDownClass()

    def test_users_add_prints_reference_message(self):
        token, out = self.ca.add_user("carol")
        self.assertIn("Signup token has been created and is valid for 1 hour. "
                      "Share this URL with the user:", out)
        self.assertIn(f"https://{self.ca.addr}/web/newuser/{token}", out)
        self.assertEqual(len(token), 32)
        # The signup link lands on the web UI's signup page, which never
        # repeats the token (its script reads it from the address).
        status, _, page = self.ca.request("GET", f"/web/newuser/{token}")
        self.assertEqual(status, 200)
        self.assertIn("Sign up to gate", page)
        self.assertIn("paste this page's address", page)
        self.assertNotIn(token, page)

    def test_signup_login_profile_and_files(self):
        client, device = self.new_user("alice", "gtalice,gtbob")
        result = client.login("alice", PASSWORD, device.code())
        self.assertEqual(result.returncode, 0, result.stderr)
        out = result.stdout
        self.assertIn(f"> Profile URL:  https://{self.ca.addr}", out)
        self.assertIn("  Logged in as: alice", out)
        self.assertIn("  Cluster:      test-cluster", out)
        self.assertIn("  Roles:", out)
        self.assertIn("  Logins:       gtalice, gtbob", out)
        self.assertRegex(out, r"  Valid until:  \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000 UTC "
                              r"\[valid for 1[12]h\d+m\d+s\]")
        self.assertIn("  Extensions:   permit-agent-forwarding, permit-port-forwarding, permit-pty",
                      out)
        self.assertIn("WARNING: You are using insecure connection", result.stderr)

        gate_home = client.env["GATE_HOME"]
        self.assertEqual(os.stat(gate_home).st_mode & 0o777, 0o700)
        self.assertEqual(os.stat(client.key).st_mode & 0o777, 0o600)
        with open(os.path.join(gate_home, "known_hosts")) as f:
            # Trusted for the cluster's names only (no node has joined this one).
            self.assertRegex(f.read(), r"@cert-authority \*\.test-cluster,\[\*\.test-cluster\]:\* "
                                       r"ssh-ed25519 AAAA")

        # ssh-keygen reads our certificate: key id, principals, 12h validity.
        listing = run(["ssh-keygen", "-L", "-f", client.cert], check=True).stdout
        self.assertIn('Key ID: "alice"', listing)
        self.assertIn("gtalice", listing)
        self.assertIn("permit-pty", listing)
        m = re.search(r"Valid: from (\S+) to (\S+)", listing)
        self.assertIsNotNone(m, listing)

        status = client.gate("status")
        self.assertEqual(status.returncode, 0, status.stderr)
        self.assertIn("Logged in as: alice", status.stdout)

        config = client.gate("config")
        self.assertEqual(config.returncode, 0)
        self.assertIn(f'CertificateFile "{client.cert}"', config.stdout)
        self.assertIn(f'IdentityFile "{client.key}"', config.stdout)

        key = client.key
        logout = client.gate("logout")
        self.assertEqual(logout.returncode, 0)
        self.assertFalse(os.path.exists(key))
        status = client.gate("status")
        self.assertEqual(status.returncode, 5)
        self.assertIn("not logged in", status.stderr)

    @needs_root
    def test_plain_ssh_with_certificate(self):
        client, device = self.new_user("bob", "gtbob")
        self.assertEqual(client.login("bob", PASSWORD, device.code()).returncode, 0)
        result = self.sshd.ssh("gtbob", client.key, client.cert)
        with open(self.sshd.log) as log:
            self.assertEqual(result.returncode, 0, result.stderr + log.read()[-2000:])
        self.assertEqual(result.stdout.strip(), "gtbob")

        # Through the ssh_config block `gate config` prints, nothing else.
        cfg = os.path.join(client.home, "ssh_config")
        with open(cfg, "w") as f:
            # This sshd is no joined node, so the block names it explicitly.
            f.write(client.gate("config", "--host", "127.0.0.1").stdout)
            f.write("    StrictHostKeyChecking no\n    BatchMode yes\n")
        via_config = run(["ssh", "-F", cfg, "-p", str(self.sshd.port), "gtbob@127.0.0.1",
                          "id -un"], timeout=30)
        self.assertEqual(via_config.returncode, 0, via_config.stderr)
        self.assertEqual(via_config.stdout.strip(), "gtbob")

        # A login that is not among the certificate's principals is refused.
        denied = self.sshd.ssh("gtalice", client.key, client.cert)
        self.assertNotEqual(denied.returncode, 0)
        self.assertIn("Permission denied", denied.stderr)

    @needs_root
    def test_expired_certificate_is_refused(self):
        client, device = self.new_user("erin", "gtalice")
        result = client.login("erin", PASSWORD, device.code(), extra=("--ttl", "2s"))
        self.assertEqual(result.returncode, 0, result.stderr)
        time.sleep(3)
        self.assertIn("[EXPIRED]", client.gate("status").stdout)
        denied = self.sshd.ssh("gtalice", client.key, client.cert)
        self.assertNotEqual(denied.returncode, 0)
        self.assertIn("Permission denied", denied.stderr)

    @needs_root
    def test_certificate_from_another_ca_is_refused(self):
        other = os.path.join(self.workdir, "other_ca")
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", other], check=True)
        key = os.path.join(self.workdir, "forged")
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key], check=True)
        run(["ssh-keygen", "-q", "-s", other, "-I", "mallory", "-n", "gtalice", "-V", "+1h",
             key + ".pub"], check=True)
        denied = self.sshd.ssh("gtalice", key, key + "-cert.pub")
        self.assertNotEqual(denied.returncode, 0)
        self.assertIn("Permission denied", denied.stderr)

    @needs_root
    def test_ssh_agent_gets_key_with_lifetime(self):
        client, device = self.new_user("frank", "gtalice")
        agent_dir = os.path.join(self.workdir, "agent")
        os.makedirs(agent_dir, exist_ok=True)
        sock = os.path.join(agent_dir, "agent.sock")
        agent = subprocess.Popen(["ssh-agent", "-D", "-a", sock], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        try:
            for _ in range(100):
                if os.path.exists(sock):
                    break
                time.sleep(0.05)
            env = dict(client.env, SSH_AUTH_SOCK=sock)
            result = client.login("frank", PASSWORD, device.code(), env=env)
            self.assertEqual(result.returncode, 0, result.stderr)
            listed = run(["ssh-add", "-l"], env=env)
            self.assertIn("frank@test-cluster", listed.stdout)
            self.assertIn("CERT", listed.stdout)
            # The agent alone (no key files) is enough for plain ssh.
            os.rename(client.key, client.key + ".moved")
            via_agent = run(["ssh", "-F", "/dev/null", "-p", str(self.sshd.port),
                             "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
                             "-o", f"UserKnownHostsFile={self.workdir}/kh",
                             "gtalice@127.0.0.1", "id -un"], env=env, timeout=30)
            self.assertEqual(via_agent.returncode, 0, via_agent.stderr)
            os.rename(client.key + ".moved", client.key)
            client.gate("logout", env=env)
            self.assertNotIn("frank@test-cluster", run(["ssh-add", "-l"], env=env).stdout)
        finally:
            agent.terminate()
            agent.wait()


class NoSecondFactorTest(GateTestCase):
    second_factor = "off"

    def test_signup_and_login_without_otp(self):
        token, _ = self.ca.add_user("olga")
        client = Client(self.workdir, self.ca, "olga")
        result, device = client.signup(token, PASSWORD)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIsNone(device)
        self.assertNotIn("otpauth://", result.stderr)
        login = client.gate("login", "--proxy", self.ca.addr, "--user", "olga", "--insecure",
                            input=f"{PASSWORD}\n")
        self.assertEqual(login.returncode, 0, login.stderr)
        self.assertNotIn("OTP", login.stderr)
        self.assertIn("Logins:       olga", login.stdout)


if __name__ == "__main__":
    unittest.main()
