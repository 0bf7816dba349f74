"""The CLI a Teleport user expects, against a real gate-ca and a joined node
with a real sshd: gate ssh, gate ls, gate scp, gate version; one profile per
cluster and user; an ssh config and known_hosts scoped to the cluster; and
the messages a new user trips on (mistyped commands and flags, not logged
in, a login not granted, clock skew)."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from harness import (IS_ROOT, Client, GateCA, GateTestCase, Node, binary, ensure_os_user,
                     run)
from test_nodes import node_token

PASSWORD = "correct horse battery"
LOGIN = "gtcli1"

# Stands in for a client computer whose clock is an hour behind gate-ca's:
# the certificate gate-ca signs is then dated in this computer's future.
CLOCK_BEHIND_C = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <sys/time.h>
#include <time.h>
static const long kOffset = 3600;
time_t time(time_t *t) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  if (t) *t = ts.tv_sec;
  return ts.tv_sec;
}
int clock_gettime(clockid_t id, struct timespec *ts) {
  static int (*real)(clockid_t, struct timespec *);
  if (!real) real = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
  int r = real(id, ts);
  if (r == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE)) ts->tv_sec -= kOffset;
  return r;
}
int gettimeofday(struct timeval *tv, void *tz) {
  struct timespec ts;
  int r = clock_gettime(CLOCK_REALTIME, &ts);
  if (tv) { tv->tv_sec = ts.tv_sec; tv->tv_usec = ts.tv_nsec / 1000; }
  (void)tz;
  return r;
}
"""


@unittest.skipUnless(IS_ROOT, "needs root: creates OS users, runs sshd and gate-node join")
class CliSshTest(GateTestCase):
    """One node labelled env=dev, joined with the principal 127.0.0.1; the
    role dev grants the login gtcli1 there."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ensure_os_user(LOGIN)
        cls.ca.gatectl("roles", "add", "dev", "--logins", LOGIN, "--node-labels", "env=dev",
                       check=True)
        cls.node = Node(cls.workdir, "clinode").start()
        cls.joined = cls.node.join(cls.ca, node_token(cls.ca, "env=dev")[0], "--principals",
                                   "127.0.0.1")
        if cls.joined.returncode != 0:
            raise AssertionError("join failed: " + cls.joined.stdout + cls.joined.stderr)
        cls.alice = cls.logged_in_user("cli-alice", roles="dev")
        synced = cls.node.sync()
        assert synced.returncode == 0, synced.stderr

    @classmethod
    def tearDownClass(cls):
        cls.node.stop()
        super().tearDownClass()

    def known_hosts(self, client):
        return os.path.join(client.env["GATE_HOME"], "known_hosts")

    def gate_ssh(self, client, *args, timeout=60):
        return run([binary("gate"), "ssh", "-p", str(self.node.port), "-o", "BatchMode=yes",
                    "-o", "ConnectTimeout=10", *args], env=client.env, timeout=timeout)

    # --- scoped trust ---------------------------------------------------------

    def test_known_hosts_trusts_the_host_ca_only_for_the_cluster(self):
        with open(self.known_hosts(self.alice)) as f:
            lines = [l for l in f if l.startswith("@cert-authority")]
        self.assertEqual(len(lines), 1, lines)
        patterns = lines[0].split()[1].split(",")
        self.assertNotIn("*", patterns)
        for expected in ("*.test-cluster", "127.0.0.1", "[127.0.0.1]:*"):
            self.assertIn(expected, patterns)
        # ssh-keygen finds the CA for the node, and for nothing else.
        found = run(["ssh-keygen", "-F", f"[127.0.0.1]:{self.node.port}", "-f",
                     self.known_hosts(self.alice)])
        self.assertEqual(found.returncode, 0, found.stdout + found.stderr)
        self.assertIn("@cert-authority", found.stdout)
        for stranger in ("github.com", "[github.com]:2222", "10.1.2.3"):
            other = run(["ssh-keygen", "-F", stranger, "-f", self.known_hosts(self.alice)])
            self.assertNotEqual(other.returncode, 0, stranger + ": " + other.stdout)
            self.assertEqual(other.stdout.strip(), "")

    def test_ssh_config_applies_only_to_the_cluster(self):
        config = self.alice.gate("config")
        self.assertEqual(config.returncode, 0, config.stderr)
        self.assertNotRegex(config.stdout, r"(?m)^Host \*\s*\n\s+IdentityFile")
        cfg = os.path.join(self.alice.home, "scoped_ssh_config")
        with open(cfg, "w") as f:
            f.write(config.stdout)

        def settings(host):
            out = run(["ssh", "-G", "-F", cfg, host], check=True).stdout.lower()
            return out

        node = settings("127.0.0.1")
        self.assertIn(self.alice.key.lower(), node)
        self.assertIn(self.alice.cert.lower(), node)
        for stranger in ("github.com", "db.example.org"):
            other = settings(stranger)
            self.assertNotIn(self.alice.key.lower(), other, stranger)
            self.assertNotIn(self.alice.cert.lower(), other, stranger)
            self.assertNotIn(self.known_hosts(self.alice).lower(), other, stranger)

        # A real ssh through the block reaches the node with strict checking.
        via = run(["ssh", "-F", cfg, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
                   "-p", str(self.node.port), f"{LOGIN}@127.0.0.1", "id -un"], timeout=60)
        self.assertEqual(via.returncode, 0, via.stderr)
        self.assertEqual(via.stdout.strip(), LOGIN)
        # The same host key presented under an unrelated name is not vouched for.
        alias = run(["ssh", "-F", cfg, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
                     "-o", f"UserKnownHostsFile={self.known_hosts(self.alice)}",
                     "-o", "HostKeyAlias=github.com", "-p", str(self.node.port),
                     f"{LOGIN}@127.0.0.1", "true"], timeout=60)
        self.assertNotEqual(alias.returncode, 0)
        self.assertIn("Host key verification failed", alias.stderr)

    # --- gate ssh, gate ls, gate scp ------------------------------------------

    def test_gate_ssh_runs_a_command_with_its_flags(self):
        result = self.gate_ssh(self.alice, f"{LOGIN}@127.0.0.1", "id", "-un")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout.strip(), LOGIN)
        with_l = self.gate_ssh(self.alice, "-l", LOGIN, "127.0.0.1", "ls", "-d", "/")
        self.assertEqual(with_l.returncode, 0, with_l.stderr)
        self.assertEqual(with_l.stdout.strip(), "/")
        status = self.gate_ssh(self.alice, f"{LOGIN}@127.0.0.1", "exit 7")
        self.assertEqual(status.returncode, 7)

    def test_gate_ssh_names_the_logins_granted_when_one_is_refused(self):
        result = self.gate_ssh(self.alice, "root@127.0.0.1", "true")
        self.assertEqual(result.returncode, 255, result.stderr)
        self.assertIn("gate ssh: root is not one of your logins on", result.stderr)
        self.assertIn(f"your logins there: {LOGIN}", result.stderr)

    def test_gate_ssh_to_a_host_outside_the_cluster_is_refused(self):
        stranger = Node(self.workdir, "stranger")
        stranger.start()
        self.addCleanup(stranger.stop)
        result = run([binary("gate"), "ssh", "-p", str(stranger.port), "-o", "BatchMode=yes",
                      "-o", "HostKeyAlias=stranger.example", f"{LOGIN}@127.0.0.1", "true"],
                     env=self.alice.env, timeout=60)
        self.assertEqual(result.returncode, 255)
        self.assertIn("Host key verification failed", result.stderr)

    def test_gate_ls_lists_the_node_with_labels_and_logins(self):
        result = self.alice.gate("ls")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertRegex(result.stdout, r"Node Name\s+Address\s+Labels\s+Logins")
        rows = [l for l in result.stdout.splitlines() if "127.0.0.1" in l]
        self.assertEqual(len(rows), 1, result.stdout)
        self.assertIn("env=dev", rows[0])
        self.assertTrue(rows[0].rstrip().endswith(LOGIN), rows[0])

    def test_gate_ls_leaves_out_nodes_without_a_login(self):
        # No login of its own; its role's login is for env=prod nodes only.
        self.ca.gatectl("roles", "add", "elsewhere", "--logins", "gtelse", "--node-labels",
                        "env=prod", check=True)
        client = self.logged_in_user("cli-nolog", roles="elsewhere")
        result = client.gate("ls")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertNotIn("127.0.0.1", result.stdout)
        self.assertIn("no nodes", result.stderr)

    def test_gate_scp_both_ways(self):
        src = os.path.join(self.alice.home, "scp-src.txt")
        with open(src, "w") as f:
            f.write("copied by gate scp\n")
        remote = f"/tmp/gate-scp-{os.getpid()}.txt"
        self.addCleanup(lambda: os.path.exists(remote) and os.unlink(remote))
        up = run([binary("gate"), "scp", "-P", str(self.node.port), "-o", "BatchMode=yes", src,
                  f"{LOGIN}@127.0.0.1:{remote}"], env=self.alice.env, timeout=60)
        self.assertEqual(up.returncode, 0, up.stderr)
        with open(remote) as f:
            self.assertEqual(f.read(), "copied by gate scp\n")
        back = os.path.join(self.alice.home, "scp-back.txt")
        down = run([binary("gate"), "scp", "-P", str(self.node.port), "-o", "BatchMode=yes",
                    f"{LOGIN}@127.0.0.1:{remote}", back], env=self.alice.env, timeout=60)
        self.assertEqual(down.returncode, 0, down.stderr)
        with open(back) as f:
            self.assertEqual(f.read(), "copied by gate scp\n")

    # --- not logged in ----------------------------------------------------------

    def test_after_logout_ssh_says_not_logged_in(self):
        client = self.logged_in_user("cli-bob", roles="dev")
        self.node.sync()
        cfg = os.path.join(client.home, "ssh_config")
        with open(cfg, "w") as f:
            f.write(client.gate("config").stdout)
        key = client.key
        logout = client.gate("logout")
        self.assertEqual(logout.returncode, 0, logout.stderr)
        self.assertFalse(os.path.exists(key))

        result = self.gate_ssh(client, f"{LOGIN}@127.0.0.1", "true")
        self.assertEqual(result.returncode, 5)
        self.assertIn("not logged in", result.stderr)
        self.assertIn("gate login", result.stderr)
        scp = run([binary("gate"), "scp", "/etc/hostname", f"{LOGIN}@127.0.0.1:/tmp/x"],
                  env=client.env)
        self.assertEqual(scp.returncode, 5)
        self.assertIn("not logged in", scp.stderr)

        # Plain ssh through the gate config block: the same words, no host key prompt.
        plain = run(["ssh", "-F", cfg, "-o", "BatchMode=yes", "-p", str(self.node.port),
                     f"{LOGIN}@127.0.0.1", "true"], env=client.env, timeout=60)
        self.assertNotEqual(plain.returncode, 0)
        self.assertIn("gate: not logged in to test-cluster; run: gate login", plain.stderr)
        self.assertNotIn("authenticity of host", plain.stderr)

    # --- profiles per cluster and user ------------------------------------------

    def test_two_clusters_side_by_side(self):
        other_dir = tempfile.mkdtemp(prefix="gate-it-second-")
        os.chmod(other_dir, 0o755)
        self.addCleanup(shutil.rmtree, other_dir, True)
        second = GateCA(other_dir)
        with open(second.config_path) as f:
            text = f.read().replace("cluster_name: test-cluster", "cluster_name: second")
        with open(second.config_path, "w") as f:
            f.write(text)
        second.start()
        self.addCleanup(second.stop)

        client = Client(self.workdir, self.ca, "cli-carol")
        token, _ = self.ca.add_user("cli-carol", roles="dev")
        signed, device = client.signup(token, PASSWORD)
        self.assertEqual(signed.returncode, 0, signed.stderr)
        self.assertEqual(self.node.sync().returncode, 0)
        client2 = Client(self.workdir, second, "cli-carol")  # the same GATE_HOME
        self.assertEqual(client2.env["GATE_HOME"], client.env["GATE_HOME"])
        token2, _ = second.add_user("carol2", logins="gtcarol")
        signed2, device2 = client2.signup(token2, PASSWORD)
        self.assertEqual(signed2.returncode, 0, signed2.stderr)

        first = client.login("cli-carol", PASSWORD, device.code())
        self.assertEqual(first.returncode, 0, first.stderr)
        first_key = client.key
        # The second cluster's login is made with a pin, and leaves the first alone.
        login2 = client.gate("login", "--proxy", second.addr, "--user", "carol2", "--ca-pin",
                             second.pin, input=f"{PASSWORD}\n{device2.code()}\n")
        self.assertEqual(login2.returncode, 0, login2.stderr)
        self.assertNotEqual(client.key, first_key)
        self.assertTrue(os.path.exists(first_key))
        self.assertIn(os.path.join("keys", second.addr, "carol2"), client.key)

        status = client.gate("status")
        self.assertEqual(status.returncode, 0, status.stderr)
        self.assertIn(f"> Profile URL:  https://{second.addr}", status.stdout)
        self.assertIn(f"  Profile URL:  https://{self.ca.addr}", status.stdout)
        self.assertIn("Cluster:      second", status.stdout)
        self.assertIn("Cluster:      test-cluster", status.stdout)

        with open(self.known_hosts(client)) as f:
            cas = [l for l in f if l.startswith("@cert-authority")]
        self.assertEqual(len(cas), 2, cas)
        self.assertTrue(any("*.second" in l for l in cas))
        self.assertTrue(any("*.test-cluster" in l for l in cas))

        # gate login alone logs in again to the current profile, with its pin
        # (no --insecure warning: the pin was remembered).
        again = client.gate("login", input=f"{PASSWORD}\n{device2.code()}\n")
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertIn(f"> Profile URL:  https://{second.addr}", again.stdout)
        self.assertIn("Logged in as: carol2", again.stdout)
        self.assertNotIn("insecure", again.stderr)

        # --proxy switches back; the first cluster's trust (--insecure) is remembered too.
        back = client.gate("login", "--proxy", self.ca.addr,
                           input=f"{PASSWORD}\n{device.code()}\n")
        self.assertEqual(back.returncode, 0, back.stderr)
        self.assertIn("Logged in as: cli-carol", back.stdout)
        ssh = self.gate_ssh(client, f"{LOGIN}@127.0.0.1", "id -un")
        self.assertEqual(ssh.returncode, 0, ssh.stderr)
        with open(self.known_hosts(client)) as f:
            self.assertEqual(len([l for l in f if l.startswith("@cert-authority")]), 2)

    def test_login_without_proxy_and_no_profile_says_what_to_do(self):
        client = Client(self.workdir, self.ca, "cli-nobody")
        result = client.gate("login", input="x\n")
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("--proxy is required", result.stderr)

    # --- messages -----------------------------------------------------------------

    def test_mistyped_commands_and_flags_get_suggestions(self):
        typo = self.alice.gate("sesions")
        self.assertEqual(typo.returncode, 2)
        self.assertIn("did you mean 'gate sessions'?", typo.stderr)
        self.assertNotIn("A subcommand is required", typo.stderr)
        flag = self.alice.gate("login", "--prxy", self.ca.addr)
        self.assertEqual(flag.returncode, 2)
        self.assertIn("did you mean --proxy?", flag.stderr)
        ctl = run([binary("gatectl"), "usres", "ls"])
        self.assertEqual(ctl.returncode, 2)
        self.assertIn("did you mean 'gatectl users'?", ctl.stderr)

    def test_version(self):
        for args in (["--version"], ["version"]):
            result = self.alice.gate(*args)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertRegex(result.stdout.strip(), r"^gate v\d+\.\d+\.\d+$")

    def test_signup_hint_says_one_hour(self):
        _, out = self.ca.add_user("cli-dora", logins="gtdora")
        self.assertIn("valid for 1 hour.", out)
        self.assertNotIn("1 hours", out)

    def test_audit_shows_certificate_end_as_a_time(self):
        audit = self.ca.gatectl("audit", "--user", "cli-alice", check=True)
        self.assertIn("valid until", audit.stdout)
        self.assertRegex(audit.stdout, r"valid until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC")
        self.assertNotRegex(audit.stdout, r"valid until \d{9,}")

    @unittest.skipUnless(shutil.which("cc"), "needs a C compiler for the clock shim")
    def test_login_warns_about_clock_skew(self):
        shim_dir = tempfile.mkdtemp(prefix="gate-clock-")
        self.addCleanup(shutil.rmtree, shim_dir, True)
        src = os.path.join(shim_dir, "behind.c")
        with open(src, "w") as f:
            f.write(CLOCK_BEHIND_C)
        shim = os.path.join(shim_dir, "behind.so")
        run(["cc", "-shared", "-fPIC", "-o", shim, src, "-ldl"], check=True)
        client, device = self.new_user("cli-skew", logins=LOGIN)
        env = dict(client.env, LD_PRELOAD=shim)
        skewed = client.login("cli-skew", PASSWORD, device.code(), env=env)
        self.assertEqual(skewed.returncode, 0, skewed.stderr)
        self.assertIn("clock skew", skewed.stderr)
        self.assertIn("gate-ca's clock is ahead of this computer's", skewed.stderr)
        # The same login with the right clock says nothing of the kind.
        right = client.login("cli-skew", PASSWORD, device.code())
        self.assertEqual(right.returncode, 0, right.stderr)
        self.assertNotIn("clock skew", right.stderr)


if __name__ == "__main__":
    unittest.main()
