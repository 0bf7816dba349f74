"""Nodes end to end: gate-node join/sync/leave, gate-principals, roles, locks,
revocation and host certificates, against a real gate-ca and a real sshd."""
import http.client
import json
import os
import pwd
import re
import socket
import ssl
import threading
import time
import unittest

from harness import IS_ROOT, SSHD, GateTestCase, Node, SyslogCapture, ensure_os_user, run
from policy_db import read_snapshot

PASSWORD = "correct horse battery"


def token_of(out):
    """The token in `gatectl tokens add` output."""
    m = re.search(r"The node join token: ([0-9a-f]{32}) ", out)
    assert m, out
    return m.group(1)


def node_token(ca, labels=None, ttl=None, principals="127.0.0.1"):
    """A node join token; by default it approves 127.0.0.1, the name test
    clients connect to (a name is one node's: one node per gate-ca gets it)."""
    args = ["tokens", "add", "--type=node"]
    if labels:
        args += ["--labels", labels]
    if ttl:
        args += ["--ttl", ttl]
    if principals:
        args += ["--principals", principals]
    out = ca.gatectl(*args, check=True).stdout
    return token_of(out), out


def node_request(ca, node, method, path, body=None):
    """One node-authenticated request to gate-ca with node's own credential
    (a JSON body unless None): (status, reply body bytes)."""
    with open(os.path.join(node.data_dir, "node.json")) as f:
        state = json.load(f)
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    conn = http.client.HTTPSConnection("127.0.0.1", ca.port, context=ctx, timeout=60)
    headers = {"Authorization": "Bearer " + state["host_uuid"] + "." + state["node_secret"]}
    if body is not None:
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=None if body is None else json.dumps(body).encode(),
                 headers=headers)
    resp = conn.getresponse()
    raw = resp.read()
    conn.close()
    return resp.status, raw


def node_api(ca, node, method, path, body):
    """node_request, its reply parsed."""
    status, raw = node_request(ca, node, method, path, body)
    text = raw.decode(errors="replace")
    return status, (json.loads(text) if text else None)


def join_node(ca, workdir, labels=None, name="node1"):
    """A started node (harness.Node) joined to ca with a token for labels,
    approving 127.0.0.1."""
    node = Node(workdir, name).start()
    token, _ = node_token(ca, labels)
    joined = node.join(ca, token, "--principals", "127.0.0.1")
    if joined.returncode != 0:
        node.stop()
        raise AssertionError("join failed: " + joined.stdout + joined.stderr)
    return node


def cached_role_names(node):
    return [r["name"] for r in read_snapshot(os.path.join(node.data_dir, "cache"))["roles"]]


def cert_principals(cert_path):
    out = run(["ssh-keygen", "-L", "-f", cert_path], check=True).stdout
    block = out.split("Principals:")[1].split("Critical Options:")[0]
    return [line.strip() for line in block.strip().splitlines()]


@unittest.skipUnless(IS_ROOT, "needs root: runs sshd and gate-node join")
class HostNamesAndTokenTest(GateTestCase):
    """gate-ca, not the node, decides a node's host names; the join token
    never appears in any process's argv."""

    def audit(self, event):
        return [line for line in self.ca.gatectl("audit", "--limit", "200", check=True)
                .stdout.splitlines() if event in line]

    def test_token_on_the_command_line_is_refused_and_stays_unused(self):
        node = Node(self.workdir, "argv")
        token, _ = node_token(self.ca, principals=None)
        refused = node.gate_node("join", "--proxy", self.ca.addr, "--ca-pin", self.ca.pin,
                                 "--token", token, "--hostname", "argv-node", "--no-reload")
        self.assertEqual(refused.returncode, 2, refused.stdout + refused.stderr)
        self.assertIn("must not be given on the command line", refused.stderr)
        self.assertFalse(os.path.exists(os.path.join(node.data_dir, "node.json")))
        joined = node.join(self.ca, token, "--hostname", "argv-node", "--no-reload")
        self.assertEqual(joined.returncode, 0, joined.stdout + joined.stderr)

    def test_no_process_shows_the_token_while_a_node_joins(self):
        node = Node(self.workdir, "watched")
        token, printed = node_token(self.ca, principals=None)
        command = re.search(r"^  (gate-node join .*)$", printed, re.M).group(1).split()
        seen, stop = [], threading.Event()

        def watch():
            # What any local user can read: every process's command line.
            while not stop.is_set():
                for pid in os.listdir("/proc"):
                    if not pid.isdigit():
                        continue
                    try:
                        with open(f"/proc/{pid}/cmdline", "rb") as f:
                            if token.encode() in f.read():
                                seen.append(pid)
                    except OSError:
                        pass

        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            # The command exactly as gatectl printed it, the token pasted at
            # its prompt (standard input here).
            joined = node.gate_node(*command[1:], "--hostname", "watched-node", "--no-reload",
                                    input=token + "\n")
        finally:
            stop.set()
            watcher.join()
        self.assertEqual(joined.returncode, 0, joined.stdout + joined.stderr)
        self.assertIn("Paste the node join token", joined.stderr)
        self.assertEqual(seen, [])

    def test_token_file_must_be_private(self):
        node = Node(self.workdir, "tokfile")
        token, _ = node_token(self.ca, principals=None)
        path = os.path.join(self.workdir, "join-token")
        with open(path, "w") as f:
            f.write(token + "\n")
        os.chmod(path, 0o644)
        args = ("join", "--proxy", self.ca.addr, "--ca-pin", self.ca.pin, "--token-file", path,
                "--hostname", "tokfile-node", "--no-reload")
        refused = node.gate_node(*args)
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn("chmod 600", refused.stderr)
        os.chmod(path, 0o600)
        joined = node.gate_node(*args)
        self.assertEqual(joined.returncode, 0, joined.stdout + joined.stderr)

    def test_a_name_the_token_does_not_approve_fails_the_join(self):
        node = Node(self.workdir, "greedy")
        token, _ = node_token(self.ca, principals="greedy.example.test")
        refused = node.join(self.ca, token, "--hostname", "greedy-node", "--principals",
                            "db-prod-1,greedy.example.test", "--no-reload")
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn("not approved for this node: db-prod-1", refused.stderr)
        self.assertTrue(any("db-prod-1" in line and "greedy-node" in line
                            for line in self.audit("node.join")), self.audit("node.join"))
        # The token stays usable; the certificate carries every approved name.
        joined = node.join(self.ca, token, "--hostname", "greedy-node", "--no-reload")
        self.assertEqual(joined.returncode, 0, joined.stdout + joined.stderr)
        self.assertEqual(cert_principals(node.host_key + "-cert.pub"),
                         ["greedy-node", "greedy.example.test"])

    def test_a_host_name_belongs_to_one_node(self):
        first = Node(self.workdir, "twin1")
        token, _ = node_token(self.ca, principals="twin.example.test")
        self.assertEqual(first.join(self.ca, token, "--hostname", "twin-a",
                                    "--no-reload").returncode, 0)
        second = Node(self.workdir, "twin2")
        token, _ = node_token(self.ca, principals="TWIN.example.test")
        refused = second.join(self.ca, token, "--hostname", "twin-b", "--no-reload")
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn("already another node's", refused.stderr)
        refused = second.join(self.ca, node_token(self.ca, principals=None)[0],
                              "--hostname", "twin-a", "--no-reload")
        self.assertIn("'twin-a' is already another node's", refused.stderr)

    def test_node_asking_for_another_name_is_refused_and_audited(self):
        node = Node(self.workdir, "rogue")
        token, _ = node_token(self.ca, principals=None)
        self.assertEqual(node.join(self.ca, token, "--hostname", "rogue-node",
                                   "--no-reload").returncode, 0)
        with open(node.host_key + ".pub") as f:
            host_key = f.read().strip()
        status, body = node_api(self.ca, node, "POST", "/v1/nodes/host-cert", {
            "host_key": host_key, "principals": ["rogue-node", "gate-ca.example.com"]})
        self.assertEqual(status, 403, body)
        self.assertIn("gate-ca.example.com", body["error"]["message"])
        self.assertTrue(any("gate-ca.example.com" in line
                            for line in self.audit("node.host_cert")))
        # Its own name is fine, and the certificate carries what gate-ca decided.
        status, body = node_api(self.ca, node, "POST", "/v1/nodes/host-cert",
                                {"host_key": host_key, "principals": ["rogue-node"]})
        self.assertEqual(status, 200, body)

    def test_admin_sets_names_and_the_next_sync_renews_the_certificate(self):
        node = Node(self.workdir, "renamed")
        token, _ = node_token(self.ca, principals=None)
        self.assertEqual(node.join(self.ca, token, "--hostname", "renamed-node",
                                   "--no-reload").returncode, 0)
        cert = node.host_key + "-cert.pub"
        self.assertEqual(cert_principals(cert), ["renamed-node"])
        updated = self.ca.gatectl("nodes", "update", "renamed-node", "--principals",
                                  "renamed.example.test,10.9.8.7")
        self.assertEqual(updated.returncode, 0, updated.stderr)
        listed = self.ca.gatectl("nodes", "ls", check=True).stdout
        self.assertRegex(listed, r"renamed-node .*renamed\.example\.test,10\.9\.8\.7")
        synced = node.gate_node("sync", "--no-reload")
        self.assertEqual(synced.returncode, 0, synced.stdout + synced.stderr)
        self.assertEqual(cert_principals(cert),
                         ["renamed-node", "renamed.example.test", "10.9.8.7"])
        self.assertTrue(any("renamed-node" in line for line in self.audit("node.update")))
        bad = self.ca.gatectl("nodes", "update", "renamed-node", "--principals", "no such")
        self.assertNotEqual(bad.returncode, 0)

    def ssh_address(self, hostname):
        """The SSH address column of hostname's row in gatectl nodes ls (None
        without a row)."""
        listed = self.ca.gatectl("nodes", "ls", check=True).stdout.splitlines()
        header = listed[0]
        column = header.index("SSH address")
        for line in listed[1:]:
            if line.split()[1] == hostname:
                return line[column:].split()[0]
        return None

    def test_join_records_where_sshd_listens_and_an_admin_may_change_it(self):
        node = Node(self.workdir, "addressed")
        token, _ = node_token(self.ca, principals=None)
        joined = node.join(self.ca, token, "--hostname", "addressed-node", "--no-reload")
        self.assertEqual(joined.returncode, 0, joined.stdout + joined.stderr)
        # The test sshd listens on 127.0.0.1 only: sshd -T says so, and that
        # is where gate-ca will reach it.
        self.assertEqual(self.ssh_address("addressed-node"),
                         f"127.0.0.1:{node.port}")

        moved = self.ca.gatectl("nodes", "update", "addressed-node", "--ssh-address",
                                "addressed.example.test")
        self.assertEqual(moved.returncode, 0, moved.stderr)
        self.assertIn("reached at addressed.example.test:22", moved.stdout)
        self.assertEqual(self.ssh_address("addressed-node"),
                         "addressed.example.test:22")
        self.assertTrue(any("ssh address addressed.example.test:22" in line
                            for line in self.audit("node.update")))

        for bad_address in ("no such:22", "h:0", "[::1"):
            bad = self.ca.gatectl("nodes", "update", "addressed-node", "--ssh-address", bad_address)
            self.assertEqual(bad.returncode, 2, bad.stderr)
            self.assertIn("ssh address", bad.stderr)
        nothing = self.ca.gatectl("nodes", "update", "addressed-node")
        self.assertEqual(nothing.returncode, 2, nothing.stderr)
        self.assertIn("give --principals, --ssh-address or both", nothing.stderr)
        self.assertEqual(self.ssh_address("addressed-node"),
                         "addressed.example.test:22")

    def test_join_takes_an_explicit_ssh_address_and_refuses_a_bad_one(self):
        node = Node(self.workdir, "explicit")
        token, _ = node_token(self.ca, principals=None)
        bad = node.join(self.ca, token, "--hostname", "explicit-node", "--no-reload",
                        "--ssh-address", "bad address")
        self.assertEqual(bad.returncode, 2, bad.stdout + bad.stderr)
        self.assertIn("--ssh-address", bad.stderr)
        self.assertIsNone(self.ssh_address("explicit-node"))
        joined = node.join(self.ca, token, "--hostname", "explicit-node", "--no-reload",
                           "--ssh-address", "[fd00::7]:2200")
        self.assertEqual(joined.returncode, 0, joined.stdout + joined.stderr)
        self.assertEqual(self.ssh_address("explicit-node"), "[fd00::7]:2200")


@unittest.skipUnless(IS_ROOT, "needs root: runs sshd and gate-node join")
class EffectiveConfigTest(GateTestCase):
    """Join and sync ask sshd (sshd -T, -T -C per Match block) whether the
    host's own settings override gate's, and name the line that does."""

    def site_node(self, name, site_conf=None, match=None):
        node = Node(self.workdir, name)
        if site_conf:
            # Read before 50-gate.conf: sshd keeps the first value.
            with open(os.path.join(node.conf_d, "10-site.conf"), "w") as f:
                f.write(site_conf)
        if match:
            with open(node.config, "a") as f:
                f.write(match)
        return node

    def join(self, node, *extra):
        token, _ = node_token(self.ca, principals=None)
        return node.join(self.ca, token, "--hostname", node.dir.rsplit("/", 1)[1], "--no-reload",
                         *extra)

    def test_an_earlier_revoked_keys_fails_the_join_and_names_the_line(self):
        node = self.site_node("krl", "# site policy\nRevokedKeys /etc/ssh/site.krl\n")
        refused = self.join(node)
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn(os.path.join(node.conf_d, "10-site.conf") + ":2: RevokedKeys /etc/ssh/site.krl",
                      refused.stderr)
        self.assertIn("--force", refused.stderr)
        self.assertFalse(os.path.exists(os.path.join(node.conf_d, "50-gate.conf")))
        # --force joins, and says loudly that revocations are not enforced.
        forced = node.gate_node("join", "--proxy", self.ca.addr, "--ca-pin", self.ca.pin,
                                "--no-reload", "--force")
        self.assertEqual(forced.returncode, 0, forced.stdout + forced.stderr)
        self.assertIn("WARNING: joined with --force", forced.stderr)
        self.assertIn("sshd will not use gate's RevokedKeys", forced.stderr)

    def test_an_authorized_principals_file_fails_the_join(self):
        node = self.site_node("apf", "AuthorizedPrincipalsFile /etc/ssh/principals/%u\n")
        refused = self.join(node)
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn("10-site.conf:1: AuthorizedPrincipalsFile", refused.stderr)
        self.assertIn("beside gate-principals' answer", refused.stderr)

    def test_a_match_block_overriding_the_user_ca_fails_the_join(self):
        node = self.site_node("match", match="\nMatch User nobody\n"
                              "    TrustedUserCAKeys /etc/ssh/other_ca.pub\n")
        refused = self.join(node)
        self.assertNotEqual(refused.returncode, 0)
        with open(node.config) as f:
            lines = f.read().splitlines()
        at = next(i for i, line in enumerate(lines, 1) if line.startswith("Match User nobody"))
        self.assertIn(f"in the Match block at {node.config}:{at}", refused.stderr)
        self.assertIn("TrustedUserCAKeys /etc/ssh/other_ca.pub", refused.stderr)
        self.assertIn("user=nobody", refused.stderr)

    def test_sync_reports_drift_and_still_updates_the_cache(self):
        node = self.site_node("drift")
        joined = self.join(node)
        self.assertEqual(joined.returncode, 0, joined.stdout + joined.stderr)
        self.assertNotIn("WARNING", joined.stderr)
        with open(os.path.join(node.conf_d, "10-later.conf"), "w") as f:
            f.write("RevokedKeys /etc/ssh/site.krl\n")
        self.ca.gatectl("roles", "add", "drift-role", "--logins", "nobody", check=True)
        synced = node.gate_node("sync", "--no-reload")
        self.assertNotEqual(synced.returncode, 0)
        self.assertIn("10-later.conf:1: RevokedKeys", synced.stderr)
        self.assertIn("drift-role", cached_role_names(node), "the cache was not refreshed")
        os.unlink(os.path.join(node.conf_d, "10-later.conf"))
        synced = node.gate_node("sync", "--no-reload")
        self.assertEqual(synced.returncode, 0, synced.stdout + synced.stderr)

    def test_authorized_keys_file_left_on_is_a_warning(self):
        node = self.site_node("akf")
        with open(node.config) as f:
            text = f.read()
        with open(node.config, "w") as f:
            f.write(text.replace("AuthorizedKeysFile none", "AuthorizedKeysFile .ssh/authorized_keys"))
        joined = self.join(node)
        self.assertEqual(joined.returncode, 0, joined.stdout + joined.stderr)
        self.assertIn("warning: AuthorizedKeysFile is `.ssh/authorized_keys`", joined.stderr)


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
        self.assertIn(f"gate-node join --proxy {self.ca.addr} --ca-pin {self.ca.pin}\n",
                      self.token_out)
        self.assertNotIn("--token ", self.token_out)
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
                        # What records when the last sync ran changes with every
                        # sync, join's included.
                        if (path.endswith(".log") or "policy.db" in path
                                or name in ("synced-at", "sync-status.json")):
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
        # Trusted for the cluster's node names, not for every host.
        patterns = lines[0].split()[1].split(",")
        self.assertNotIn("*", patterns)
        self.assertIn("[127.0.0.1]:*", patterns)
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

    def test_a_refused_login_reaches_gatectl_audit_with_the_node_name(self):
        client = self.user("rita", roles="prod")
        self.assertDenied("gtprod", client)
        spool = os.path.join(self.node.data_dir, "refusals")
        st = os.stat(spool)
        self.assertEqual((pwd.getpwuid(st.st_uid).pw_name, st.st_mode & 0o777),
                         ("gate-principals", 0o700))
        synced = self.node.sync()
        self.assertEqual(synced.returncode, 0, synced.stderr)
        self.assertIn("refused login(s) sent to gate-ca", synced.stdout)
        self.assertFalse(os.path.exists(os.path.join(spool, "spool")))
        audit = self.ca.gatectl("audit", "--failed", "--event", "node.login", "--user", "rita",
                                check=True).stdout
        self.assertIn(socket.gethostname(), audit)
        self.assertIn("login gtprod refused on " + socket.gethostname(), audit)

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
        policy = os.path.join(self.node.data_dir, "cache", "policy.db")
        old_json = os.path.join(self.node.data_dir, "cache", "policy.json")
        with open(policy, "rb") as f:
            good = f.read()
        # What an older gate-node kept: the same policy, which allowed pia.
        old_text = json.dumps(read_snapshot(os.path.dirname(policy))).encode()
        self.assertIn(b'"pia"', old_text)
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
                    ("random bytes", lambda: write(os.urandom(len(good)))),
                    ("older gate-node's policy.json", lambda: (
                        os.unlink(policy), write(old_text), os.rename(policy, old_json))),
                    ("world-writable", lambda: os.chmod(policy, 0o666)),
                    ("wrong owner", lambda: os.chown(policy, 65534, 65534)),
                    ("missing", lambda: os.unlink(policy))):
                damage()
                result = self.node.ssh("gtdev", client)
                self.assertNotEqual(result.returncode, 0, label)
                lines = syslog.drain()
                if lines is not None:  # a denial names its reason in the log
                    # /dev/log is the machine's: keep only this login's lines.
                    denials = [l for l in lines
                               if "gate-principals" in l and "deny login=gtdev user=pia" in l]
                    self.assertTrue(denials, f"{label}: no deny line in {lines}")
                    self.assertIn("cache", denials[-1], label)
                    lines.clear()
                with open(policy, "wb") as f:
                    f.write(good)
                os.chown(policy, st.st_uid, st.st_gid)
                os.chmod(policy, st.st_mode & 0o777)
                if os.path.exists(old_json):
                    os.unlink(old_json)
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

    def test_principals_hook_loads_no_libcrypto_and_keeps_its_hardening(self):
        # sshd starts the hook on every certificate login and loading
        # libcrypto.so was a third of its start (docs/benchmarks.md); nothing
        # it runs needs libcrypto, and that must not cost the executable its
        # hardening.
        hook = self.node.principals_command
        dynamic = run(["readelf", "-d", hook], check=True).stdout
        needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dynamic)
        self.assertIn("libc.so.6", needed, dynamic)
        for library in ("libcrypto", "libssl", "libcurl"):
            self.assertFalse([n for n in needed if n.startswith(library)], needed)
            self.assertNotIn(library, run(["ldd", hook], check=True).stdout)
        self.assertRegex(dynamic, r"\(FLAGS_1\)\s+Flags: NOW PIE")
        self.assertIn("GNU_RELRO", run(["readelf", "-lW", hook], check=True).stdout)

    def test_denial_log_names_the_ca_by_its_fingerprint(self):
        # The hook does not hash: sync records each user CA's fingerprint in
        # the cache, and the hook's denial line names it from there.
        client = self.user("rhea", roles="dev")
        user_ca = os.path.join(self.node.data_dir, "cache", "user_ca.pub")
        listed = run(["ssh-keygen", "-lf", user_ca], check=True).stdout
        fingerprint = re.search(r"SHA256:[A-Za-z0-9+/]{43}", listed).group(0)
        self.ca.gatectl("users", "lock", "rhea", "--message", "away", check=True)
        self.assertEqual(self.node.sync().returncode, 0)
        with SyslogCapture() as syslog:
            self.assertDenied("gtdev", client)
            lines = syslog.drain()
        if lines is None:
            self.skipTest("a syslog daemon owns /dev/log here")
        denials = [l for l in lines
                   if "gate-principals" in l and "deny login=gtdev user=rhea" in l]
        self.assertTrue(denials, lines)
        self.assertIn(f" ca={fingerprint}: policy: ", denials[-1])

    def test_gate_ca_down_logins_still_decided_from_cache(self):
        client = self.user("quin", roles="dev")
        self.ca.stop()
        try:
            self.assertAllowed("gtdev", client)
            failed = self.node.sync()
            self.assertNotEqual(failed.returncode, 0)
            self.assertAllowed("gtdev", client)  # the last good cache is kept
            # Past --max-cache-age, every sync says loudly what that means, and
            # gate-node status shows the age and the error.
            time.sleep(2)
            stale = self.node.gate_node("sync", "--max-cache-age", "1s")
            self.assertNotEqual(stale.returncode, 0)
            self.assertIn("WARNING: the policy cache is", stale.stderr)
            self.assertIn("not enforced on this node", stale.stderr)
            status = self.node.gate_node("status", "--max-cache-age", "1s")
            self.assertEqual(status.returncode, 1, status.stdout + status.stderr)
            self.assertIn("STALE", status.stdout)
            self.assertIn("FAILED", status.stdout)
        finally:
            self.ca.start()

    def test_status_shows_a_healthy_node(self):
        self.assertEqual(self.node.sync().returncode, 0)
        status = self.node.gate_node("status")
        self.assertEqual(status.returncode, 0, status.stdout + status.stderr)
        for expected in ("cache       revision ", ", generated by gate-ca", "revocations KRL version",
                         "succeeded", "host cert   " + socket.gethostname() + ", 127.0.0.1",
                         "sshd        runs with gate's settings", "refusals"):
            self.assertIn(expected, status.stdout)


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
