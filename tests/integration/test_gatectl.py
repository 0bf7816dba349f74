"""gatectl against a running gate-ca: users, CA export and the audit log."""
import os
import re
import unittest

from harness import GateTestCase, run

PASSWORD = "correct horse battery"


class GatectlTest(GateTestCase):

    def test_users_add_ls_rm(self):
        self.ca.add_user("uma", "uma,root")
        listing = self.ca.gatectl("users", "ls", check=True).stdout
        self.assertRegex(listing, r"uma\s+uma,root\s+-\s+none\s+pending signup")
        dup = self.ca.gatectl("users", "add", "uma")
        self.assertNotEqual(dup.returncode, 0)
        self.assertIn("already exists", dup.stderr)
        rm = self.ca.gatectl("users", "rm", "uma", check=True)
        self.assertIn("uma", rm.stdout)
        self.assertNotIn("uma", self.ca.gatectl("users", "ls", check=True).stdout)
        missing = self.ca.gatectl("users", "rm", "uma")
        self.assertEqual(missing.returncode, 5)

    def test_default_login_is_the_user_name(self):
        client, device = self.new_user("victor")
        result = client.login("victor", PASSWORD, device.code())
        self.assertIn("Logins:       victor", result.stdout)

    def test_bad_names_and_logins_are_refused(self):
        for args in (("users", "add", "-rf"), ("users", "add", "ok", "Root"),
                     ("users", "add", "ok", "a,,b"), ("users", "add", "bad name")):
            proc = self.ca.gatectl(*args)
            self.assertNotEqual(proc.returncode, 0, args)
        self.assertNotIn("ok ", self.ca.gatectl("users", "ls", check=True).stdout)

    def test_reset_issues_new_token_and_forgets_credentials(self):
        client, device = self.new_user("wendy")
        self.assertEqual(client.login("wendy", PASSWORD, device.code()).returncode, 0)
        reset = self.ca.gatectl("users", "reset", "wendy", check=True).stdout
        token = re.search(r"/web/newuser/([0-9a-f]{32})", reset).group(1)
        denied = client.login("wendy", PASSWORD, device.code())
        self.assertEqual(denied.returncode, 3)
        result, device2 = client.signup(token, "another long password")
        self.assertEqual(result.returncode, 0, result.stderr)
        ok = client.login("wendy", "another long password", device2.code())
        self.assertEqual(ok.returncode, 0, ok.stderr)

    def test_ca_export(self):
        user = self.ca.gatectl("ca", "export", "--type", "user", check=True).stdout
        self.assertRegex(user, r"^ssh-ed25519 AAAA\S+ gate user CA test-cluster\n$")
        host = self.ca.gatectl("ca", "export", "--type", "host", "--known-hosts", check=True).stdout
        self.assertRegex(host, r"^@cert-authority \* ssh-ed25519 AAAA")
        self.assertNotEqual(user.split()[1], host.split()[3])
        bad = self.ca.gatectl("ca", "export", "--type", "root")
        self.assertEqual(bad.returncode, 2)

    def test_audit_shows_logins_oldest_first_and_filters(self):
        import json
        client, device = self.new_user("audra")
        self.assertNotEqual(client.login("audra", "wrong password", device.code()).returncode, 0)
        self.assertEqual(client.login("audra", PASSWORD, device.code()).returncode, 0)

        table = self.ca.gatectl("audit", "--user", "audra", check=True).stdout
        lines = table.splitlines()
        self.assertTrue(lines[0].startswith("Time (UTC)"), table)
        create = next(i for i, l in enumerate(lines) if "user.create" in l)
        denied = next(i for i, l in enumerate(lines) if "wrong password" in l)
        self.assertLess(create, denied, table)  # oldest first
        self.assertRegex(lines[denied], r"user\.login\s+denied\s+audra")
        self.assertRegex(lines[-1], r"user\.login\s+ok\s+audra")
        self.assertNotIn(PASSWORD, table)

        failed = self.ca.gatectl("audit", "--user", "audra", "--failed", "--since", "1h",
                                 "--json", check=True).stdout
        events = [json.loads(l) for l in failed.splitlines()]
        self.assertTrue(events)
        self.assertTrue(all(e["user"] == "audra" and not e["success"] for e in events), failed)
        only_create = self.ca.gatectl("audit", "--user", "audra", "--event", "user.create",
                                      "--json", check=True).stdout.splitlines()
        self.assertEqual([json.loads(l)["event"] for l in only_create], ["user.create"])

        none = self.ca.gatectl("audit", "--user", "nobody-here", check=True)
        self.assertIn("no events match", none.stderr)
        for bad in (["--limit", "0"], ["--since", "yesterday"], ["--failed", "--ok"],
                    ["--event", "User.Login"]):
            proc = self.ca.gatectl("audit", *bad)
            self.assertNotEqual(proc.returncode, 0, bad)
            self.assertTrue(proc.stderr.strip(), bad)

    def test_unreachable_socket_is_explained(self):
        proc = run([__import__("harness").binary("gatectl"), "users", "ls", "--data-dir",
                    os.path.join(self.workdir, "nowhere")])
        self.assertEqual(proc.returncode, 4)
        self.assertIn("is gate-ca running", proc.stderr)

    def test_data_dir_anywhere_and_from_the_environment(self):
        """--data-dir before the command's words, between them, after them,
        or GATE_DATA_DIR; a --data-dir on the command line wins over it."""
        gatectl = __import__("harness").binary("gatectl")
        self.ca.add_user("gia", "gia")
        env = {k: v for k, v in os.environ.items() if k != "GATE_DATA_DIR"}
        for args in (["--data-dir", self.ca.data_dir, "users", "ls"],
                     ["users", "--data-dir", self.ca.data_dir, "ls"],
                     ["users", "ls", "--data-dir", self.ca.data_dir],
                     [f"--data-dir={self.ca.data_dir}", "users", "ls"]):
            proc = run([gatectl, *args], env=env)
            self.assertEqual(proc.returncode, 0, (args, proc.stderr))
            self.assertIn("gia", proc.stdout, args)
        from_env = run([gatectl, "users", "ls"], env=dict(env, GATE_DATA_DIR=self.ca.data_dir))
        self.assertEqual(from_env.returncode, 0, from_env.stderr)
        self.assertIn("gia", from_env.stdout)
        nowhere = os.path.join(self.workdir, "nowhere")
        for args in (["--data-dir", nowhere, "users", "ls"], ["users", "ls", "--data-dir", nowhere]):
            proc = run([gatectl, *args], env=dict(env, GATE_DATA_DIR=self.ca.data_dir))
            self.assertEqual(proc.returncode, 4, args)
            self.assertIn(nowhere + "/admin.sock", proc.stderr)
        # Without either, the default: /var/lib/gate.
        default = run([gatectl, "users", "ls"], env=env)
        if default.returncode != 0:
            self.assertIn("/var/lib/gate/admin.sock", default.stderr)

    def test_signup_hint_carries_the_pin_of_a_self_signed_certificate(self):
        out = self.ca.gatectl("users", "add", "pia", "pia", check=True).stdout
        self.assertIn(f"gate signup --proxy {self.ca.addr} --ca-pin {self.ca.pin} ", out)
        again = self.ca.gatectl("users", "reset", "pia", check=True).stdout
        self.assertIn(f"--ca-pin {self.ca.pin} ", again)

    @unittest.skipUnless(os.geteuid() == 0, "needs root to switch to another user")
    def test_admin_socket_refuses_other_users(self):
        proc = run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                    __import__("harness").binary("gatectl"), "users", "ls",
                    "--data-dir", self.ca.data_dir])
        self.assertNotEqual(proc.returncode, 0)


if __name__ == "__main__":
    unittest.main()
