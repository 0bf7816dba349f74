"""Turning recording on (docs/recording.md): role flags through gatectl and
gate-ca, gate-principals' command="<recorder>" principal lines, and
gate-node record on|off|status, join --record and leave, against a real
gate-ca, a real joined node and its real sshd.

The recorder here is a root-installed shell script standing in for
gate-record (built and tested by test_recording.py). It only proves that
sshd really runs the command gate-principals or the ForceCommand names: it
prints a marker and the command the client asked for, and records nothing.
The kernel ignores the setuid bit record on sets on a script, so it runs as
the logged-in user."""
import grp
import json
import os
import pwd
import shutil
import stat
import unittest

from harness import (IS_ROOT, SSHD, GateTestCase, Node, ensure_os_user, root_safe_dir,
                     run)
from test_nodes import node_token

MARKER = "GATE-RECORDER-STAND-IN"


def stand_in_recorder(name):
    """A root-owned script in a root-safe directory, as an installed
    gate-record would be."""
    path = os.path.join(root_safe_dir(), name)
    with open(path, "w") as f:
        f.write(f'#!/bin/sh\necho "{MARKER} $(id -un) [$SSH_ORIGINAL_COMMAND]"\n')
    os.chown(path, 0, 0)
    os.chmod(path, 0o755)
    return path


def remove_user(name):
    try:
        pwd.getpwnam(name)
    except KeyError:
        return
    run(["userdel", name])


def mode_owner(path):
    st = os.lstat(path)
    return stat.S_IMODE(st.st_mode), pwd.getpwuid(st.st_uid).pw_name


class RecorderNode:
    """A Node plus its recorder path flags, all inside the test's work dir."""

    def __init__(self, workdir, name, user):
        self.node = Node(workdir, name)
        base = os.path.join(workdir, name, "rec")
        self.user = user
        self.config = os.path.join(base, "etc", "recorder.json")
        self.pub = os.path.join(base, "etc", "recorder.pub")
        self.key_dir = os.path.join(base, "lib", "gate-rec")
        self.key = os.path.join(self.key_dir, "recorder.key")
        self.spool = os.path.join(base, "spool", "sessions")
        self.run_dir = os.path.join(base, "run", "sessions")
        self.recorder = stand_in_recorder(f"gate-record-{name}")
        self.flags = ["--recorder-config", self.config, "--recorder-key-dir", self.key_dir,
                      "--spool-dir", self.spool, "--run-dir", self.run_dir,
                      "--recorder-command", self.recorder, "--recorder-user", user]

    def gate_node(self, *args, env=None):
        return self.node.gate_node(*args, *self.flags, env=env)

    def join(self, ca, token, *extra):
        return self.gate_node("join", "--proxy", ca.addr, "--ca-pin", ca.pin,
                              "--principals", "127.0.0.1", *extra,
                              env=dict(os.environ, GATE_NODE_TOKEN=token))

    def drop_in(self):
        with open(os.path.join(self.node.conf_d, "50-gate.conf")) as f:
            return f.read()

    def force_command(self):
        return f"ForceCommand {self.recorder} --config {self.config}"


@unittest.skipUnless(IS_ROOT, "needs root: creates users, runs sshd and gate-node")
class RecordConfigTest(GateTestCase):
    """One node labelled env=rec, joined once; the auditors role records
    sessions on it, the plain role does not."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for login in ("gtaudit", "gtplain"):
            ensure_os_user(login)
        ca = cls.ca
        ca.gatectl("roles", "add", "auditors", "--logins", "gtaudit", "--node-labels", "env=rec",
                   "--record-sessions", check=True)
        ca.gatectl("roles", "add", "plain", "--logins", "gtplain", "--node-labels", "env=rec",
                   check=True)
        cls.rn = RecorderNode(cls.workdir, "recnode", "gtrec1")
        cls.rn.node.start()
        joined = cls.rn.join(ca, node_token(ca, "env=rec")[0])
        if joined.returncode != 0:
            raise AssertionError("join failed: " + joined.stdout + joined.stderr)
        cls.auditor = cls.user("aud", "auditors,plain")
        cls.plain = cls.user("pla", "plain")

    @classmethod
    def tearDownClass(cls):
        cls.rn.node.stop()
        remove_user("gtrec1")
        super().tearDownClass()

    @classmethod
    def user(cls, name, roles):
        client = cls.logged_in_user(name, roles=roles)
        synced = cls.rn.gate_node("sync")
        assert synced.returncode == 0, synced.stderr
        return client

    def record(self, *args):
        result = self.rn.gate_node("record", *args)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        return result

    def ssh(self, login, client, command="id -un"):
        result = self.rn.node.ssh(login, client, command=command)
        with open(self.rn.node.log) as log:
            self.assertEqual(result.returncode, 0, result.stderr + log.read()[-3000:])
        return result.stdout.strip()

    def principals_line(self, login, client):
        """What gate-principals prints for client's certificate, run with the
        exact command line the drop-in gives sshd."""
        line = next(l for l in self.rn.drop_in().splitlines()
                    if l.startswith("AuthorizedPrincipalsCommand "))
        argv = line.split()[1:]
        with open(client.cert) as f:
            key_type, b64 = f.read().split()[:2]
        argv = [{"%u": login, "%t": key_type, "%k": b64}.get(a, a) for a in argv]
        return run(argv)

    # --- roles ----------------------------------------------------------------

    def test_gatectl_role_flags(self):
        ca = self.ca
        ls = ca.gatectl("roles", "ls", check=True).stdout
        self.assertRegex(ls, r"(?m)^auditors .* record ")
        self.assertRegex(ls, r"(?m)^plain .* - ")
        ca.gatectl("roles", "add", "watchers", "--join-sessions", check=True)
        self.assertRegex(ca.gatectl("roles", "ls", check=True).stdout, r"(?m)^watchers .* join ")
        up = ca.gatectl("roles", "update", "watchers", "--record-sessions=true", check=True)
        self.assertIn("record sessions yes, join sessions yes", up.stdout)
        self.assertRegex(ca.gatectl("roles", "ls", check=True).stdout,
                         r"(?m)^watchers .* record,join ")
        up = ca.gatectl("roles", "update", "watchers", "--record-sessions=false",
                        "--join-sessions=false", check=True)
        self.assertIn("record sessions no, join sessions no", up.stdout)
        # update keeps what it is not told to change.
        ca.gatectl("roles", "add", "keeper", "--logins", "gtplain", "--node-labels", "env=x",
                   "--max-ttl", "2h", "--permit-agent-forwarding=false", check=True)
        ca.gatectl("roles", "update", "keeper", "--record-sessions", check=True)
        keeper = [l for l in ca.gatectl("roles", "ls", check=True).stdout.splitlines()
                  if l.startswith("keeper ")][0]
        for part in ("gtplain", "env=x", "2h0m0s", "record", "no agent-forwarding"):
            self.assertIn(part, keeper)
        for args, message in ((("roles", "update", "nope", "--record-sessions"), "not found"),
                              (("roles", "update", "keeper"), "nothing to change"),
                              (("roles", "update", "keeper", "--record-sessions=maybe"), "")):
            result = ca.gatectl(*args)
            self.assertNotEqual(result.returncode, 0, args)
            self.assertIn(message, result.stderr.lower() + result.stdout.lower(), args)

    # --- gate-principals ---------------------------------------------------------

    def test_principals_command_option_only_for_recording_roles(self):
        self.record("on", "--roles-only")
        self.assertNotIn("ForceCommand", self.rn.drop_in())
        # The recording role's holder gets the recorder, whichever login:
        # auditors grants gtaudit, plain grants gtplain.
        for login in ("gtaudit", "gtplain"):
            printed = self.principals_line(login, self.auditor)
            self.assertEqual(printed.returncode, 0, printed.stderr)
            self.assertEqual(printed.stdout,
                             f'no-port-forwarding,command="{self.rn.recorder} '
                             f'--config {self.rn.config}" {login}\n')
        printed = self.principals_line("gtplain", self.plain)
        self.assertEqual(printed.stdout, "gtplain\n")
        denied = self.principals_line("gtaudit", self.plain)
        self.assertNotEqual(denied.returncode, 0)
        self.assertEqual(denied.stdout, "")
        # sshd applies the option: the recorder runs instead of the command,
        # which it receives in SSH_ORIGINAL_COMMAND.
        self.assertEqual(self.ssh("gtaudit", self.auditor, "echo hi"),
                         f"{MARKER} gtaudit [echo hi]")
        self.assertEqual(self.ssh("gtplain", self.auditor), f"{MARKER} gtplain [id -un]")
        self.assertEqual(self.ssh("gtplain", self.plain), "gtplain")

    # --- record on / off / status ------------------------------------------------

    def test_record_on_writes_files_and_forces_the_recorder(self):
        result = self.record("on")
        self.assertIn("Recording every session", result.stdout)
        rn = self.rn
        self.assertEqual(mode_owner(rn.config), (0o644, "root"))
        self.assertEqual(mode_owner(rn.pub), (0o644, "root"))
        self.assertEqual(mode_owner(rn.key), (0o600, "gtrec1"))
        self.assertEqual(mode_owner(rn.key_dir), (0o700, "gtrec1"))
        self.assertEqual(mode_owner(rn.spool), (0o700, "gtrec1"))
        self.assertEqual(mode_owner(rn.run_dir), (0o755, "gtrec1"))
        # Setuid to the recorder user, setgid to the policy cache's group.
        self.assertEqual(mode_owner(rn.recorder), (0o6755, "gtrec1"))
        self.assertEqual(grp.getgrgid(os.stat(rn.recorder).st_gid).gr_name, "gate-cache")
        self.assertEqual(mode_owner(os.path.join(rn.node.data_dir, "record.json")),
                         (0o600, "root"))

        with open(rn.config) as f:
            config = json.load(f)
        with open(os.path.join(rn.node.data_dir, "node.json")) as f:
            node = json.load(f)
        self.assertEqual(config, {
            "version": 1, "cluster_name": "test-cluster", "host_uuid": node["host_uuid"],
            "node_name": os.uname().nodename, "proxy": self.ca.addr,
            "cache_dir": os.path.join(rn.node.data_dir, "cache"), "spool_dir": rn.spool,
            "run_dir": rn.run_dir, "key_file": rn.key, "flush_interval_ms": 100,
            "record_input": False, "record_exec_output": False,
            "join_history_bytes": 64 * 1024 * 1024})

        # The key is an OpenSSH Ed25519 key whose public half is recorder.pub.
        derived = run(["ssh-keygen", "-y", "-f", rn.key], check=True).stdout.split()[:2]
        with open(rn.pub) as f:
            self.assertEqual(f.read().split()[:2], derived)
        self.assertEqual(derived[0], "ssh-ed25519")
        fingerprint = run(["ssh-keygen", "-l", "-f", rn.pub], check=True).stdout.split()[1]
        self.assertIn(fingerprint, result.stdout)
        with open(os.path.join(self.workdir, "gate-ca.log")) as f:
            self.assertIn("recorder key " + fingerprint, f.read())

        drop_in = rn.drop_in()
        self.assertIn(rn.force_command() + "\n", drop_in)
        self.assertIn(f"--record-command {rn.recorder} --record-config {rn.config} %u %t %k",
                      drop_in)
        self.assertEqual(run([SSHD, "-t", "-f", rn.node.config]).returncode, 0)
        effective = run([SSHD, "-T", "-f", rn.node.config], check=True).stdout
        self.assertIn(f"forcecommand {rn.recorder} --config {rn.config}\n", effective)
        # Every session now runs the recorder, whatever the role says.
        self.assertEqual(self.ssh("gtplain", self.plain, "uptime"), f"{MARKER} gtplain [uptime]")

        status = self.record("status").stdout
        self.assertIn("Recording: every session", status)
        self.assertIn("0 recording(s) waiting for upload", status)
        self.assertIn("in force", status)
        self.assertIn("auditors record sessions on this node", status)

    def test_record_on_twice_changes_nothing(self):
        self.record("on")
        with open(self.rn.key, "rb") as f:
            key = f.read()
        drop_in = self.rn.drop_in()
        again = self.record("on")
        self.assertNotIn("wrote", again.stdout)
        self.assertNotIn("generated", again.stdout)
        self.assertIn("sshd not reloaded", again.stdout)
        with open(self.rn.key, "rb") as f:
            self.assertEqual(f.read(), key)
        self.assertEqual(self.rn.drop_in(), drop_in)

    def test_record_options_reach_the_settings(self):
        try:
            self.record("on", "--input", "--exec-output", "--flush-interval", "250",
                        "--join-history-bytes", "2097152")
            with open(self.rn.config) as f:
                config = json.load(f)
            self.assertEqual((config["record_input"], config["record_exec_output"],
                              config["flush_interval_ms"], config["join_history_bytes"]),
                             (True, True, 250, 2097152))
            for bad in ("5", "60001", "x"):
                result = self.rn.gate_node("record", "on", "--flush-interval", bad)
                self.assertNotEqual(result.returncode, 0, bad)
            for bad in ("1", "1048575", str((1 << 40) + 1), "-1", "x"):
                result = self.rn.gate_node("record", "on", "--join-history-bytes", bad)
                self.assertNotEqual(result.returncode, 0, bad)
            with open(self.rn.config) as f:
                config = json.load(f)
            self.assertEqual((config["flush_interval_ms"], config["join_history_bytes"]),
                             (250, 2097152))
        finally:
            self.record("on")

    def test_record_off_removes_only_the_force_command(self):
        self.record("on")
        pending = os.path.join(self.rn.spool, "3f2a.cast")
        with open(pending, "w") as f:
            f.write("{}\n")
        try:
            off = self.record("off")
            self.assertIn("1 recording(s) waiting for upload", off.stdout)
            drop_in = self.rn.drop_in()
            self.assertNotIn("ForceCommand", drop_in)
            self.assertIn(f"--record-command {self.rn.recorder}", drop_in)
            self.assertEqual(run([SSHD, "-t", "-f", self.rn.node.config]).returncode, 0)
            for path in (self.rn.key, self.rn.config, self.rn.pub, pending):
                self.assertTrue(os.path.exists(path), path)
            self.assertEqual(self.ssh("gtplain", self.plain), "gtplain")
            # The role still records its holders.
            self.assertEqual(self.ssh("gtaudit", self.auditor), f"{MARKER} gtaudit [id -un]")
            again = self.record("off")
            self.assertIn("already was not", again.stdout)
            self.assertIn("sessions of roles with record_sessions only",
                          self.record("status").stdout)
        finally:
            os.unlink(pending)
            self.record("on")

    def test_insecure_or_bad_key_is_refused_and_kept(self):
        self.record("on")
        with open(self.rn.key, "rb") as f:
            good = f.read()
        rec = pwd.getpwnam("gtrec1")
        cases = [("mode 0644", good, 0o644, rec.pw_uid, "mode is 0644"),
                 ("owned by root", good, 0o600, 0, "owned by uid 0"),
                 ("garbage", b"garbage\n", 0o600, rec.pw_uid, "not an unencrypted Ed25519 key")]
        try:
            for name, content, mode, uid, reason in cases:
                with open(self.rn.key, "wb") as f:
                    f.write(content)
                os.chown(self.rn.key, uid, rec.pw_gid)
                os.chmod(self.rn.key, mode)
                result = self.rn.gate_node("record", "on")
                self.assertNotEqual(result.returncode, 0, name)
                self.assertIn("recorder key " + self.rn.key + " is not usable", result.stderr, name)
                self.assertIn(reason, result.stderr, name)
                with open(self.rn.key, "rb") as f:
                    self.assertEqual(f.read(), content, name)
                self.assertEqual(mode_owner(self.rn.key)[0], mode, name)
            os.unlink(self.rn.key)
            os.symlink("/etc/hostname", self.rn.key)
            result = self.rn.gate_node("record", "on")
            self.assertNotEqual(result.returncode, 0)
            self.assertIn("symbolic link", result.stderr)
        finally:
            os.unlink(self.rn.key)
            with open(self.rn.key, "wb") as f:
                f.write(good)
            os.chown(self.rn.key, rec.pw_uid, rec.pw_gid)
            os.chmod(self.rn.key, 0o600)
        self.assertNotIn("generated", self.record("on").stdout)

    def test_unsafe_recorder_is_refused_before_any_change(self):
        drop_in = self.rn.drop_in()
        unsafe_dir = os.path.join(self.workdir, "unsafe")
        os.makedirs(unsafe_dir, exist_ok=True)
        os.chmod(unsafe_dir, 0o777)
        recorder = os.path.join(unsafe_dir, "gate-record")
        shutil.copy(self.rn.recorder, recorder)
        os.chmod(recorder, 0o755)
        for command, reason in ((recorder, "writable by group/others"),
                                ("/nonexistent/gate-record", "does not exist"),
                                ("/usr/bin/gate record", "whitespace")):
            # Path flags take their last value: the override goes after the class's.
            result = self.rn.node.gate_node("record", "on", *self.rn.flags, "--recorder-command",
                                            command)
            self.assertNotEqual(result.returncode, 0, command)
            self.assertIn(reason, result.stderr, command)
        self.assertEqual(self.rn.drop_in(), drop_in)
        self.assertEqual(mode_owner(recorder), (0o755, "root"))

    def test_record_on_refuses_a_drop_in_other_flags_wrote(self):
        drop_in = self.rn.drop_in()
        result = self.rn.gate_node("record", "on", "--principals-user", "gtother")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("same path flags", result.stderr)
        self.assertEqual(self.rn.drop_in(), drop_in)


@unittest.skipUnless(IS_ROOT, "needs root: creates users, runs sshd and gate-node")
class RecordJoinLeaveTest(GateTestCase):

    def tearDown(self):
        for user in ("gtrec2", "gtrec3"):
            remove_user(user)

    def test_join_record_then_leave_keeps_pending_recordings(self):
        rn = RecorderNode(self.workdir, "joinrec", "gtrec2")
        rn.node.start()
        try:
            joined = rn.join(self.ca, node_token(self.ca)[0], "--record")
            self.assertEqual(joined.returncode, 0, joined.stdout + joined.stderr)
            self.assertIn(rn.force_command() + "\n", rn.drop_in())
            self.assertEqual(mode_owner(rn.key), (0o600, "gtrec2"))
            # join again without --record keeps the recording.
            again = rn.join(self.ca, "unused-token-0123456789abcdef0123")
            self.assertEqual(again.returncode, 0, again.stdout + again.stderr)
            self.assertIn(rn.force_command() + "\n", rn.drop_in())

            pending = os.path.join(rn.spool, "5b1c.cast")
            with open(pending, "w") as f:
                f.write("{}\n")
            rec = pwd.getpwnam("gtrec2")
            os.chown(pending, rec.pw_uid, rec.pw_gid)
            left = rn.gate_node("leave")
            self.assertEqual(left.returncode, 0, left.stdout + left.stderr)
            self.assertIn("1 recording(s) in " + rn.spool, left.stderr)
            self.assertIn("KEPT", left.stdout)
            self.assertFalse(os.path.exists(os.path.join(rn.node.conf_d, "50-gate.conf")))
            for gone in (rn.key, rn.config, rn.run_dir,
                         os.path.join(rn.node.data_dir, "record.json")):
                self.assertFalse(os.path.exists(gone), gone)
            for kept in (pending, rn.pub):
                self.assertTrue(os.path.exists(kept), kept)
            self.assertEqual(mode_owner(rn.spool), (0o700, "gtrec2"))
            pwd.getpwnam("gtrec2")  # still owns the recordings
        finally:
            rn.node.stop()

    def test_leave_with_empty_spool_removes_everything_record_on_made(self):
        rn = RecorderNode(self.workdir, "cleanrec", "gtrec3")
        rn.node.start()
        try:
            joined = rn.join(self.ca, node_token(self.ca)[0])
            self.assertEqual(joined.returncode, 0, joined.stdout + joined.stderr)
            on = rn.gate_node("record", "on")
            self.assertEqual(on.returncode, 0, on.stdout + on.stderr)
            self.assertIn("created   gtrec3", on.stdout)
            left = rn.gate_node("leave")
            self.assertEqual(left.returncode, 0, left.stdout + left.stderr)
            rec_base = os.path.join(self.workdir, "cleanrec", "rec")
            self.assertFalse(os.path.exists(rec_base), os.listdir(rec_base)
                             if os.path.exists(rec_base) else "")
            with self.assertRaises(KeyError):
                pwd.getpwnam("gtrec3")
            self.assertEqual(mode_owner(rn.recorder), (0o755, "root"))
            self.assertEqual(run([SSHD, "-t", "-f", rn.node.config]).returncode, 0)
        finally:
            rn.node.stop()

    def test_record_on_an_unjoined_node_says_so(self):
        rn = RecorderNode(self.workdir, "unjoined", "gtrec3")
        result = rn.gate_node("record", "on")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("not joined", result.stderr)
        self.assertIn("Recording: off", rn.gate_node("record", "status").stdout)


if __name__ == "__main__":
    unittest.main()
