"""Nodes end to end: gate-node join/sync/leave, gate-principals, roles, locks,
revocation and host certificates, against a real gate-ca and a real sshd."""
import os
import re
import unittest

from harness import IS_ROOT, SSHD, GateTestCase, Node, SyslogCapture, ensure_os_user, run

PASSWORD = "correct horse battery"


def node_token(ca, labels=None, ttl=None):
    args = ["tokens", "add", "--type=node"]
    if labels:
        args += ["--labels", labels]
    if ttl:
        args += ["--ttl", ttl]
    out = ca.gatectl(*args, check=True).stdout
    m = re.search(r"--token ([0-9a-f]{32})", out)
    assert m, out
    return m.group(1), out


@unittest.skipUnless(IS_ROOT, "needs root: creates OS users, runs sshd and gate-node join")
class NodeTest(GateTestCase):
    """One node labelled env=dev,team=db, joined once for the whole class."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for login in ("gtdev", "gtprod", "gtown"):
            ensure_os_user(login)
        ca = cls.ca
        ca.gatectl("roles", "add", "dev", "--logins", "gtdev", "--node-labels", "env=dev,team=*",
                   "--max-ttl", "8h", check=True)
        ca.gatectl("roles", "add", "prod", "--logins", "gtprod", "--node-labels", "env=prod",
                   check=True)
        cls.node = Node(cls.workdir).start()
        token, cls.token_out = node_token(ca, "env=dev,team=db")
        cls.join = cls.node.join(ca, token, "--principals", "127.0.0.1")
        if cls.join.returncode != 0:
            raise AssertionError("join failed: " + cls.join.stdout + cls.join.stderr)

    @classmethod
    def tearDownClass(cls):
        cls.node.stop()
        super().tearDownClass()

    def user(self, name, roles=None, logins=None):
        client = self.logged_in_user(name, logins, roles=roles)
        # The node learns of the new user at its next sync; do it now.
        synced = self.node.sync()
        self.assertEqual(synced.returncode, 0, synced.stderr)
        return client

    def assertAllowed(self, login, client, **kw):
        result = self.node.ssh(login, client, **kw)
        with open(self.node.log) as log:
            self.assertEqual(result.returncode, 0, result.stderr + log.read()[-3000:])
        self.assertEqual(result.stdout.strip(), login)

    def assertDenied(self, login, client, **kw):
        result = self.node.ssh(login, client, **kw)
        self.assertNotEqual(result.returncode, 0, result.stdout)
        self.assertIn("Permission denied", result.stderr)

    # --- join ---------------------------------------------------------------

    def test_token_command_and_drop_in(self):
        self.assertIn(f"gate-node join --proxy {self.ca.addr} --ca-pin {self.ca.pin} --token",
                      self.token_out)
        with open(os.path.join(self.node.conf_d, "50-gate.conf")) as f:
            drop_in = f.read()
        cache = os.path.join(self.node.data_dir, "cache")
        for line in (f"TrustedUserCAKeys {cache}/user_ca.pub",
                     f"RevokedKeys {cache}/revoked.krl",
                     f"HostCertificate {self.node.host_key}-cert.pub",
                     f"AuthorizedPrincipalsCommand {self.node.principals_command} --cache {cache} %u %t %k",
                     "AuthorizedPrincipalsCommandUser gate-principals",
                     "ExposeAuthInfo yes"):
            self.assertIn(line, drop_in)
        self.assertEqual(os.stat(os.path.join(self.node.data_dir, "node.json")).st_mode & 0o777,
                         0o600)
        listing = run(["ssh-keygen", "-L", "-f", self.node.host_key + "-cert.pub"], check=True)
        self.assertIn("host certificate", listing.stdout)
        self.assertIn("127.0.0.1", listing.stdout)
        nodes = self.ca.gatectl("nodes", "ls", check=True).stdout
        self.assertIn("env=dev", nodes)
        self.assertIn("team=db", nodes)

    def test_join_twice_changes_nothing(self):
        def state():
            out = {}
            for root in (self.node.conf_d, self.node.data_dir, self.node.ssh_dir):
                for dirpath, _, files in os.walk(root):
                    for name in files:
                        path = os.path.join(dirpath, name)
                        if path.endswith(".log") or "policy.json" in path:
                            continue
                        st = os.stat(path)
                        with open(path, "rb") as f:
                            out[path] = (f.read(), st.st_mtime_ns, st.st_mode)
            return out
        before = state()
        token, _ = node_token(self.ca, "env=dev,team=db")
        again = self.node.join(self.ca, token, "--principals", "127.0.0.1")
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertIn("already joined", again.stdout + again.stderr)
        self.assertEqual(before, state())

    # --- host trust ---------------------------------------------------------

    def test_host_certificate_trusted_with_strict_checking(self):
        client = self.user("hana", roles="dev")
        with open(os.path.join(client.env["GATE_HOME"], "known_hosts")) as f:
            lines = [l for l in f if not l.startswith("#")]
        self.assertEqual(len(lines), 1)
        self.assertTrue(lines[0].startswith("@cert-authority * ssh-ed25519 "))
        self.assertAllowed("gtdev", client, strict=True)

    def test_host_without_certificate_is_refused(self):
        client = self.user("ivan", roles="dev")
        plain = Node(self.workdir, "plain-host")
        with open(plain.config, "a") as f:
            f.write(f"TrustedUserCAKeys {os.path.join(self.node.data_dir, 'cache', 'user_ca.pub')}\n")
        plain.start()
        try:
            result = plain.ssh("gtdev", client, strict=True)
            self.assertNotEqual(result.returncode, 0)
            self.assertIn("Host key verification failed", result.stderr)
        finally:
            plain.stop()

    # --- roles --------------------------------------------------------------

    def test_roles_decide_logins_per_node(self):
        client = self.user("jack", roles="dev,prod")
        self.assertIn("Roles:        dev, prod", client.profile)
        self.assertIn("Logins:       gtdev, gtprod", client.profile)
        # The dev role caps the certificate at 8h.
        self.assertRegex(client.profile, r"valid for [78]h")
        self.assertAllowed("gtdev", client)
        # gtprod is a principal, but the prod role does not match env=dev nodes.
        self.assertDenied("gtprod", client)
        # A login in no role and not a principal.
        self.assertDenied("gtown", client)

    def test_own_logins_apply_on_every_node(self):
        client = self.user("kate", logins="gtown")
        self.assertAllowed("gtown", client)

    def test_user_without_matching_role_is_denied(self):
        client = self.user("liam", roles="prod")
        self.assertDenied("gtprod", client)

    # --- locks and revocation -----------------------------------------------

    def test_lock_and_unlock(self):
        client = self.user("mona", roles="dev")
        self.assertAllowed("gtdev", client)
        self.ca.gatectl("users", "lock", "mona", "--message", "under investigation", check=True)
        self.assertEqual(self.node.sync().returncode, 0)
        self.assertDenied("gtdev", client)
        refused = client.login("mona", PASSWORD, client.device.code())
        self.assertEqual(refused.returncode, 3)
        self.assertIn("under investigation", refused.stderr)
        self.ca.gatectl("users", "unlock", "mona", check=True)
        self.assertEqual(self.node.sync().returncode, 0)
        self.assertAllowed("gtdev", client)

    def test_revoked_serial_is_refused_by_sshd_krl(self):
        client = self.user("nina", roles="dev")
        self.assertAllowed("gtdev", client)
        serial = re.search(r"Serial: (\d+)", run(["ssh-keygen", "-L", "-f", client.cert],
                                                 check=True).stdout).group(1)
        self.ca.gatectl("certs", "revoke", "--serial", serial, check=True)
        self.assertEqual(self.node.sync().returncode, 0)
        krl = os.path.join(self.node.data_dir, "cache", "revoked.krl")
        check = run(["ssh-keygen", "-Q", "-f", krl, client.cert])
        self.assertNotEqual(check.returncode, 0)
        self.assertIn("REVOKED", check.stdout + check.stderr)
        self.assertDenied("gtdev", client)

    def test_revoke_all_of_a_users_certificates(self):
        client = self.user("omar", roles="dev")
        self.ca.gatectl("certs", "revoke", "--user", "omar", check=True)
        self.assertEqual(self.node.sync().returncode, 0)
        self.assertDenied("gtdev", client)

    # --- fail closed ----------------------------------------------------------

    def test_bad_cache_denies(self):
        client = self.user("pia", roles="dev")
        self.assertAllowed("gtdev", client)
        policy = os.path.join(self.node.data_dir, "cache", "policy.json")
        with open(policy, "rb") as f:
            good = f.read()
        st = os.stat(policy)
        try:
            def write(data):
                with open(policy, "wb") as f:
                    f.write(data)
            syslog = SyslogCapture().__enter__()
            self.addCleanup(syslog.__exit__, None, None, None)
            for label, damage in (
                    ("truncated", lambda: write(good[:len(good) // 2])),
                    ("corrupt", lambda: write(b"{not json")),
                    ("world-writable", lambda: os.chmod(policy, 0o666)),
                    ("wrong owner", lambda: os.chown(policy, 65534, 65534)),
                    ("missing", lambda: os.unlink(policy))):
                damage()
                result = self.node.ssh("gtdev", client)
                self.assertNotEqual(result.returncode, 0, label)
                lines = syslog.drain()
                if lines is not None:  # a denial names its reason in the log
                    denials = [l for l in lines if "gate-principals" in l and "deny" in l]
                    self.assertTrue(denials, f"{label}: no deny line in {lines}")
                    self.assertIn("cache", denials[-1], label)
                    lines.clear()
                with open(policy, "wb") as f:
                    f.write(good)
                os.chown(policy, st.st_uid, st.st_gid)
                os.chmod(policy, st.st_mode & 0o777)
                self.assertAllowed("gtdev", client)
        finally:
            with open(policy, "wb") as f:
                f.write(good)
            os.chown(policy, st.st_uid, st.st_gid)
            os.chmod(policy, st.st_mode & 0o777)

    def test_principals_hook_directly(self):
        cache = os.path.join(self.node.data_dir, "cache")
        hook = self.node.principals_command
        for args in ([], ["--cache", cache], ["--cache", cache, "gtdev"],
                     ["--cache", cache, "gtdev", "ssh-ed25519-cert-v01@openssh.com", "%%%"],
                     ["--cache", cache, "gtdev", "ssh-ed25519", "AAAA"],
                     ["--cache", "/nonexistent", "gtdev", "x", "y"]):
            proc = run([hook, *args])
            self.assertEqual(proc.stdout, "", args)
            self.assertNotEqual(proc.returncode, 0, args)

    def test_gate_ca_down_logins_still_decided_from_cache(self):
        client = self.user("quin", roles="dev")
        self.ca.stop()
        try:
            self.assertAllowed("gtdev", client)
            failed = self.node.sync()
            self.assertNotEqual(failed.returncode, 0)
            self.assertAllowed("gtdev", client)  # the last good cache is kept
        finally:
            self.ca.start()


@unittest.skipUnless(IS_ROOT, "needs root: runs sshd and gate-node join")
class JoinLifecycleTest(GateTestCase):

    def test_failed_sshd_check_aborts_join_and_keeps_config(self):
        node = Node(self.workdir, "broken")
        with open(os.path.join(node.conf_d, "40-broken.conf"), "w") as f:
            f.write("ThisIsNotAnSshdOption yes\n")
        token, _ = node_token(self.ca)
        result = node.join(self.ca, token, "--no-reload")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("sshd -t", result.stdout + result.stderr)
        self.assertFalse(os.path.exists(os.path.join(node.conf_d, "50-gate.conf")))

    def test_leave_restores_the_original_config(self):
        node = Node(self.workdir, "leaver").start()
        try:
            def snapshot():
                return sorted(os.listdir(node.conf_d)), sorted(os.listdir(node.ssh_dir))
            before = snapshot()
            token, _ = node_token(self.ca)
            self.assertEqual(node.join(self.ca, token, "--principals", "127.0.0.1").returncode, 0)
            self.assertNotEqual(before, snapshot())
            left = node.gate_node("leave")
            self.assertEqual(left.returncode, 0, left.stderr)
            self.assertEqual(before, snapshot())
            self.assertFalse(os.path.exists(os.path.join(node.data_dir, "node.json")))
            self.assertEqual(run([SSHD, "-t", "-f", node.config]).returncode, 0)
        finally:
            node.stop()

    def test_used_or_bad_token_is_refused(self):
        node = Node(self.workdir, "tok")
        token, _ = node_token(self.ca)
        self.assertEqual(node.join(self.ca, token, "--no-reload").returncode, 0)
        other = Node(self.workdir, "tok2")
        again = other.join(self.ca, token, "--no-reload")
        self.assertNotEqual(again.returncode, 0)
        self.assertIn("token", again.stderr.lower())
        self.assertFalse(os.path.exists(os.path.join(other.conf_d, "50-gate.conf")))


if __name__ == "__main__":
    unittest.main()
