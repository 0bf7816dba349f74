"""Live join end to end (docs/recording.md, "Live join"): on a node whose real
sshd forces gate-record (installed setuid to gate-rec), rita's recorded
session is joined by bob (a role with join_sessions) from his own recorded
session, first as observer, then as peer, and by carol (no such role), who
is refused. Every terminal is a real ssh client in tmux; the recording is
read back for its "j" events.

The node, the recorder's installed layout and rita come from
test_recording.RecordingTest's setUpClass (reused, not copied); its tests
are not run again here."""
import json
import os
import re
import shutil
import subprocess
import time
import unittest

import test_recording
from harness import IS_ROOT, binary, ensure_os_user, run
from test_recording import LOGIN, Tmux, output_of, parse_cast

DETACH = "C-]"  # tmux's name for Ctrl-], gate join's detach key
OTHER = "gtjoin"  # a second OS account: its recorders keep another group


@unittest.skipUnless(IS_ROOT and shutil.which("tmux"),
                     "needs root (OS users, setuid install, sshd) and tmux")
class JoinTest(test_recording.RecordingTest):
    """rita owns the joined sessions; bob holds the role "joiners"
    (join_sessions); carol holds no role. All three log in to the node as the
    OS account gtrec: who someone is comes from their recorded session, not
    from their uid."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.gate = binary("gate")
        cls.ca.gatectl("roles", "add", "joiners", "--logins", LOGIN, "--join-sessions",
                       check=True)
        cls.bob = cls.logged_in_user("bob", LOGIN, roles="joiners")
        cls.carol = cls.logged_in_user("carol", LOGIN)
        # Other OS accounts (another user, and root), with and without a
        # join role.
        ensure_os_user(OTHER)
        cls.ca.gatectl("roles", "add", "others", "--logins", f"{OTHER},root", check=True)
        cls.ca.gatectl("roles", "add", "others-join", "--logins", f"{OTHER},root",
                       "--join-sessions", check=True)
        cls.olga = cls.logged_in_user("olga", OTHER, roles="others-join")
        cls.otto = cls.logged_in_user("otto", OTHER, roles="others")
        cls.rosa = cls.logged_in_user("rosa", "root", roles="others-join")
        cls.rolf = cls.logged_in_user("rolf", "root", roles="others")
        synced = cls.node.sync()
        assert synced.returncode == 0, synced.stderr

    @classmethod
    def edit_sshd_config(cls, text):
        # Root's sessions are recorded like anyone's (certificates only).
        return text.replace("PermitRootLogin no", "PermitRootLogin prohibit-password")

    # --- helpers --------------------------------------------------------------

    def ssh_argv_for(self, client, *args, login=LOGIN):
        kh = os.path.join(client.env["GATE_HOME"], "known_hosts")
        return ["ssh", "-F", "/dev/null", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
                "-o", f"IdentityFile={client.key}", "-o", f"CertificateFile={client.cert}",
                "-o", f"UserKnownHostsFile={kh}", "-o", "StrictHostKeyChecking=yes",
                "-o", "ConnectTimeout=10", "-p", str(self.node.port), *args, f"{login}@127.0.0.1"]

    def session_of(self, client, name, login=LOGIN):
        """A recorded interactive session of client's Gate user, at the prompt."""
        t = Tmux(self.tmux_socket, name).start(self.ssh_argv_for(client, "-tt", login=login))
        self.addCleanup(t.kill)
        t.wait_for(r"[$#]\s*\Z")  # the login shell's prompt (root's ends in #)
        t.type("echo ready-$((20+22))")
        t.wait_for(r"^ready-42\s*$")
        return t

    def sid_of(self, t):
        """The session id of the recorded session in terminal t."""
        t.type("echo sid=$GATE_SESSION_ID")
        screen = t.wait_for(r"^sid=[0-9a-f-]{36}\s*$")
        return re.search(r"^sid=([0-9a-f-]{36})\s*$", screen, re.M).group(1)

    def ssh_shim(self):
        """A PATH whose ssh reaches the test's sshd (127.0.0.1, a high port)
        for the node name gate-ca gives (this machine's hostname): the name
        resolution a real network would give."""
        shim = os.path.join(self.workdir, "ssh-shim")
        os.makedirs(shim, exist_ok=True)
        with open(os.path.join(shim, "ssh"), "w") as f:
            f.write(f"#!/bin/sh\nexec /usr/bin/ssh -o HostName=127.0.0.1 -o HostKeyAlias=127.0.0.1 "
                    f"-p {self.node.port} \"$@\"\n")
        os.chmod(os.path.join(shim, "ssh"), 0o755)
        return f"{shim}:{os.environ['PATH']}"

    def upload(self):
        """gate-ca learns of live sessions from the uploader's first chunk."""
        proc = run([binary("gate-node"), "upload", "--once", "--spool", self.spool,
                    "--data-dir", self.node.data_dir], timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)

    def assertLogged(self, pattern):
        """gate-record logged a line matching pattern. This node has no
        syslog or journal (as in a container) unless another test is
        capturing /dev/log, so the line is in the spool's gate-record.log,
        which only gate-rec and root may read, never on a user's terminal."""
        if os.path.exists("/dev/log") or os.path.exists("/run/systemd/journal/socket"):
            return
        path = os.path.join(self.spool, "gate-record.log")
        deadline = time.time() + 10
        text = ""
        while time.time() < deadline:
            if os.path.exists(path):
                with open(path) as f:
                    text = f.read()
                if re.search(pattern, text):
                    break
            time.sleep(0.1)
        self.assertRegex(text, pattern)
        st = os.stat(path)
        self.assertEqual((st.st_uid, st.st_mode & 0o777), (self.rec_uid, 0o600))

    def join_cmd(self, sid, mode="observer"):
        # No --run-dir: inside a session, gate join finds it in the recorder
        # settings gate-record names in GATE_RECORDER_CONFIG.
        return f"{self.gate} join --mode {mode} {sid}"

    def assert_join_refused(self, t, user, sid):
        """user, in terminal t, is refused joining sid for want of a role."""
        t.type(self.join_cmd(sid) + "; echo join-rc=$?")
        t.wait_for(rf"gate join: {user} may not join sessions on this node "
                   r"\(no role with join_sessions\)")
        t.wait_for(r"^join-rc=3\s*$")

    def watch_and_leave(self, t, name, owner, sid, of, replayed):
        """name, in terminal t, joins sid (owned by `of`, "rita (login
        gtrec)") as observer, sees `replayed` from before, and detaches;
        the owner's terminal announces the join."""
        t.type(self.join_cmd(sid))
        t.wait_for(re.escape(f"Joined session {sid} of {of} as observer"))
        t.wait_for(replayed)
        owner.wait_for(rf"\[gate\] {name} joined as observer")
        self.detach(t)
        t.wait_for(re.escape(f"detached from session {sid}"))

    def detach(self, t):
        t.tmux("send-keys", "-t", t.name, DETACH)

    def j_events(self, events):
        return [json.loads(e[2]) for e in events if e[1] == "j"]

    # --- the tests --------------------------------------------------------------

    def test_observer_watches_peer_types_and_the_recording_says_so(self):
        owner, live, cast = self.terminal("owner")
        sid = live["session_id"]
        self.assertEqual(os.stat(os.path.join(self.run_dir, sid + ".sock")).st_mode & 0o777,
                         0o666)
        owner.type("echo before-join-$((1+1))")
        owner.wait_for(r"^before-join-2\s*$")

        bob = self.session_of(self.bob, "bob")
        bob.type(self.join_cmd(sid))
        bob.wait_for(re.escape(f"Joined session {sid} of rita (login {LOGIN}) as observer"))
        # The replay: what rita's terminal showed before bob arrived.
        bob.wait_for(r"^before-join-2\s*$")
        bob.wait_for(r"\[gate\] bob joined as observer")
        owner.wait_for(r"\[gate\] bob joined as observer")

        owner.type("echo live-$((3*3))")
        bob.wait_for(r"^live-9\s*$")

        # An observer's keystrokes go nowhere: rita's shell never sees them.
        bob.type("echo typed-by-observer")
        owner.type("echo marker-$((4*4))")
        owner.wait_for(r"^marker-16\s*$")
        bob.wait_for(r"^marker-16\s*$")
        self.assertNotIn("typed-by-observer", owner.screen())

        self.detach(bob)
        bob.wait_for(re.escape(f"detached from session {sid}"))
        owner.wait_for(r"\[gate\] bob left")
        bob.type("echo bob-back-$((5+5))")
        bob.wait_for(r"^bob-back-10\s*$")

        bob.type(self.join_cmd(sid, "peer"))
        bob.wait_for(r"as peer\. Press Ctrl-\] to leave")
        owner.wait_for(r"\[gate\] bob joined as peer")
        bob.type("echo from-peer-$((2*3))")
        owner.wait_for(r"^from-peer-6\s*$")
        bob.wait_for(r"^from-peer-6\s*$")

        # The session ends with bob attached: he is told, and gate join exits 0.
        owner.type("exit")
        owner.wait_gone()
        bob.wait_for(r"session ended \(exit status 0\)")
        bob.type("echo join-rc=$?")
        bob.wait_for(r"^join-rc=0\s*$")
        self.assertFalse(os.path.exists(os.path.join(self.run_dir, sid + ".sock")))

        _, events = parse_cast(cast)
        output = output_of(events)
        self.assertIn("from-peer-6", output)
        self.assertNotIn("typed-by-observer", output)
        # bob was still attached at the end: the "x" event ends his join.
        self.assertEqual(self.j_events(events), [
            {"event": "join", "user": "bob", "mode": "observer"},
            {"event": "leave", "user": "bob", "mode": "observer"},
            {"event": "join", "user": "bob", "mode": "peer"},
        ])
        types = [e[1] for e in events]
        self.assertLess(max(i for i, t in enumerate(types) if t == "j"), types.index("x"))
        self.assertEqual(types[types.index("x"):], ["x", "c"])

    def test_a_joiner_sees_the_whole_history_of_a_long_session(self):
        """More than 1 MiB of output (four times the 256 KiB joiners used to
        be shown) comes before bob joins: he is shown all of it, from its
        first line, and no notice of missing history."""
        owner, live, _ = self.terminal("long-owner")
        sid = live["session_id"]
        owner.type("echo first-line-$((6*7)); yes " + "x" * 99 + " | head -n 13300; "
                   "echo printed-$((50*2))")
        owner.wait_for(r"^printed-100\s*$", timeout=120)

        bob = self.session_of(self.bob, "long-bob")
        bob_sid = self.sid_of(bob)
        bob.type(self.join_cmd(sid))
        bob.wait_for(r"^printed-100\s*$", timeout=120)
        bob.wait_for(r"\[gate\] bob joined as observer")
        self.detach(bob)
        bob.wait_for(re.escape(f"detached from session {sid}"))
        bob.type("exit")
        bob.wait_gone()
        owner.type("exit")
        owner.wait_gone()

        # bob's own session is recorded: everything his terminal was shown.
        _, events = parse_cast(os.path.join(self.spool, bob_sid + ".cast"))
        shown = output_of(events)
        history = shown[shown.index(f"Joined session {sid}"):]
        self.assertIn("\nfirst-line-42\r\n", history)
        self.assertLess(history.index("first-line-42"), history.index("printed-100"))
        self.assertEqual(history.count("x" * 99 + "\r\n"), 13300)
        self.assertNotIn("history before", history)

    def test_a_user_without_a_join_role_is_refused(self):
        owner, live, cast = self.terminal("owner2")
        sid = live["session_id"]
        carol = self.session_of(self.carol, "carol")
        carol.type(self.join_cmd(sid) + "; echo join-rc=$?")
        carol.wait_for(r"gate join: carol may not join sessions on this node "
                       r"\(no role with join_sessions\)")
        carol.wait_for(r"^join-rc=3\s*$")
        self.assertLogged(r"join: refused .*carol may not join sessions on this node")
        owner.type("echo owner-alone")
        owner.wait_for(r"^owner-alone\s*$")
        self.assertNotIn("[gate]", owner.screen())
        self.assertNotIn("join: refused", owner.screen())
        owner.type("exit")
        owner.wait_gone()
        _, events = parse_cast(cast)
        self.assertEqual(self.j_events(events), [])

    def test_joining_from_outside_a_recorded_session_is_refused(self):
        owner, live, _ = self.terminal("owner3")
        sid = live["session_id"]
        # This test process is root, but in no recorded session.
        outside = subprocess.run([self.gate, "join", "--run-dir", self.run_dir, sid],
                                 capture_output=True, text=True, stdin=subprocess.DEVNULL,
                                 timeout=30)
        self.assertEqual(outside.returncode, 3, outside.stderr)
        self.assertIn("you are not inside a recorded session on this node", outside.stderr)

        # rita, from inside the session itself.
        owner.type(self.join_cmd(sid) + "; echo self-rc=$?")
        owner.wait_for(r"gate join: you cannot join the session you are in")
        owner.wait_for(r"^self-rc=3\s*$")

        missing = subprocess.run(
            [self.gate, "join", "--run-dir", self.run_dir, "0b6f2a9e-3c1d-4e5f-8a7b-9c0d1e2f3a4b"],
            capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=30)
        self.assertEqual(missing.returncode, 5, missing.stderr)
        bad = subprocess.run([self.gate, "join", "--run-dir", self.run_dir, "../" + sid],
                             capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=30)
        self.assertEqual(bad.returncode, 2, bad.stderr)
        owner.type("exit")
        owner.wait_gone()

    def test_users_of_another_account_join_with_a_role_and_are_refused_without(self):
        # rita's session (gtrec) joined from sessions of gtjoin: the two
        # recorders run as gate-rec, each with its own user's group, so
        # neither may inspect the other beyond /proc/<pid>/stat and status.
        owner, live, cast = self.terminal("x-owner")
        sid = live["session_id"]
        owner.type("echo cross-$((6*6))")
        owner.wait_for(r"^cross-36\s*$")

        otto = self.session_of(self.otto, "x-otto", login=OTHER)
        self.assert_join_refused(otto, "otto", sid)

        olga = self.session_of(self.olga, "x-olga", login=OTHER)
        self.watch_and_leave(olga, "olga", owner, sid, f"rita (login {LOGIN})", r"^cross-36\s*$")
        owner.type("exit")
        owner.wait_gone()
        _, events = parse_cast(cast)
        self.assertEqual(self.j_events(events), [
            {"event": "join", "user": "olga", "mode": "observer"},
            {"event": "leave", "user": "olga", "mode": "observer"},
        ])

    def test_root_and_a_user_join_each_others_sessions(self):
        # A user joins root's session...
        root = self.session_of(self.rosa, "r-root", login="root")
        root_sid = self.sid_of(root)
        root.type("echo root-$((5*5))")
        root.wait_for(r"^root-25\s*$")
        carol = self.session_of(self.carol, "r-carol")
        self.assert_join_refused(carol, "carol", root_sid)
        bob = self.session_of(self.bob, "r-bob")
        self.watch_and_leave(bob, "bob", root, root_sid, "rosa (login root)", r"^root-25\s*$")

        # ... and root joins a user's.
        owner, live, _ = self.terminal("r-owner")
        sid = live["session_id"]
        rolf = self.session_of(self.rolf, "r-rolf", login="root")
        self.assert_join_refused(rolf, "rolf", sid)
        root.type(self.join_cmd(sid, "peer"))
        root.wait_for(re.escape(f"Joined session {sid} of rita (login {LOGIN}) as peer"))
        owner.wait_for(r"\[gate\] rosa joined as peer")
        root.type("echo typed-by-root-$((8*8))")
        owner.wait_for(r"^typed-by-root-64\s*$")
        self.detach(root)
        owner.wait_for(r"\[gate\] rosa left")
        owner.type("exit")
        owner.wait_gone()

    def test_a_hand_run_recorder_with_another_users_auth_file_joins_nothing(self):
        owner, live, cast = self.terminal("h-owner")
        sid = live["session_id"]
        # bob (a join role) and carol (none) share the OS account: carol can
        # read bob's SSH_USER_AUTH file, which names bob's certificate.
        bob = self.session_of(self.bob, "h-bob")
        bob.type("echo auth=$SSH_USER_AUTH")
        screen = bob.wait_for(r"^auth=/\S+\s*$")
        bob_auth = re.search(r"^auth=(/\S+)\s*$", screen, re.M).group(1)
        borrowed = os.path.join("/tmp", f"gate-borrowed-{sid}")
        self.addCleanup(lambda: os.path.exists(borrowed) and os.unlink(borrowed))
        carol = self.session_of(self.carol, "h-carol")
        for i, auth in enumerate((bob_auth, borrowed)):
            carol.type(f"cp {bob_auth} {borrowed}; chmod 600 {borrowed}; "
                       f"SSH_USER_AUTH={auth} {self.recorder} --config {self.config}; "
                       f"echo rec-rc-{i}=$?")
            screen = carol.wait_for(rf"^rec-rc-{i}=1\s*$")
            self.assertEqual(screen.count("gate-record: cannot record this session: gate-record "
                                          "was not started by sshd for this session"), i + 1,
                             screen)
        self.assertLogged(r"cannot record this session: gate-record was not started by sshd")
        # No session of bob's came of it, and carol is still carol.
        self.assertEqual(len([s for s in self.live_sessions() if s["user"] == "bob"]), 1)
        carol.type(self.join_cmd(sid) + "; echo join-rc=$?")
        carol.wait_for(r"gate join: carol may not join sessions on this node")
        carol.wait_for(r"^join-rc=3\s*$")
        owner.type("exit")
        owner.wait_gone()
        _, events = parse_cast(cast)
        self.assertEqual(self.j_events(events), [])

    def test_join_from_a_workstation_through_ssh(self):
        owner, live, _ = self.terminal("owner4")
        sid = live["session_id"]
        # gate join --node runs ssh with bob's gate key, certificate and
        # known_hosts; the ssh session it opens is recorded, so the join is
        # decided as for any session of bob's.
        argv = ["env", f"GATE_HOME={self.bob.env['GATE_HOME']}", self.gate, "join", "--node",
                f"127.0.0.1:{self.node.port}", "--login", LOGIN, "--node-gate", self.gate,
                "--mode", "peer", sid]
        remote = Tmux(self.tmux_socket, "remote").start(argv)
        self.addCleanup(remote.kill)
        remote.wait_for(re.escape(f"Joined session {sid}"))
        owner.wait_for(r"\[gate\] bob joined as peer")
        remote.type("echo over-ssh-$((7*6))")
        owner.wait_for(r"^over-ssh-42\s*$")
        self.detach(remote)
        owner.wait_for(r"\[gate\] bob left")
        remote.wait_gone()
        owner.type("exit")
        owner.wait_gone()

    def test_join_through_the_proxy_finds_the_node(self):
        owner, live, _ = self.terminal("owner5")
        sid = live["session_id"]
        self.upload()
        # gate join --proxy asks gate-ca where the session runs and gets the
        # name the node joined with (this machine's hostname). The test's sshd
        # listens on 127.0.0.1 on a high port, so a one-line wrapper puts the
        # real ssh there: the name resolution a real network would give.
        argv = ["env", f"GATE_HOME={self.bob.env['GATE_HOME']}", f"PATH={self.ssh_shim()}",
                self.gate, "join", "--proxy", self.ca.addr, "--ca-pin", self.ca.pin,
                "--login", LOGIN, "--node-gate", self.gate, "--mode", "observer", sid]
        remote = Tmux(self.tmux_socket, "remote5").start(argv)
        self.addCleanup(remote.kill)
        remote.wait_for(re.escape(f"Joined session {sid}"))
        owner.wait_for(r"\[gate\] bob joined as observer")
        self.detach(remote)
        remote.wait_gone()
        owner.type("exit")
        owner.wait_gone()
        # An ended session: nothing to join, and gate join says so.
        self.upload()
        ended = run(["env", f"GATE_HOME={self.bob.env['GATE_HOME']}", self.gate, "join",
                     "--proxy", self.ca.addr, "--ca-pin", self.ca.pin, sid], timeout=60)
        self.assertNotEqual(ended.returncode, 0)
        self.assertIn("has ended", ended.stderr)


    def test_plain_gate_join_on_a_workstation_goes_through_gate_ca(self):
        owner, live, _ = self.terminal("w-owner")
        sid = live["session_id"]
        owner.type("echo before-$((9*9))")
        owner.wait_for(r"^before-81\s*$")
        self.upload()
        # No --proxy, no --node: outside a recorded session, gate join asks
        # the profile's gate-ca. No --node-gate either: gate is not installed
        # on the node (not in the login's PATH); the recorder serves the
        # request itself, as olga, another OS account, with a join role.
        olga = Tmux(self.tmux_socket, "w-olga").start(
            ["env", f"GATE_HOME={self.olga.env['GATE_HOME']}", f"PATH={self.ssh_shim()}",
             "GATE_SESSION_ID=", self.gate, "join", "--mode", "peer", sid])
        self.addCleanup(olga.kill)
        olga.wait_for(re.escape(f"Joined session {sid} of rita (login {LOGIN}) as peer"))
        olga.wait_for(r"^before-81\s*$")
        owner.wait_for(r"\[gate\] olga joined as peer")
        olga.type("echo from-workstation-$((6*7))")
        owner.wait_for(r"^from-workstation-42\s*$")
        self.detach(olga)
        owner.wait_for(r"\[gate\] olga left")
        olga.wait_gone()

        # otto (same account as olga, no join role) is refused by the node's
        # recorder, with its reason.
        otto = run(["env", f"GATE_HOME={self.otto.env['GATE_HOME']}", f"PATH={self.ssh_shim()}",
                    self.gate, "join", "--login", OTHER, "--node", "localhost", sid],
                   timeout=60)
        self.assertEqual(otto.returncode, 3, otto.stdout + otto.stderr)
        self.assertIn("gate join: otto may not join sessions on this node (no role with "
                      "join_sessions)", otto.stderr)
        # No join entry is left behind in the run directory.
        self.assertEqual([s for s in self.live_sessions() if s.get("mode") == "join"], [])
        owner.type("exit")
        owner.wait_gone()

# This class reuses RecordingTest's node; its tests already run in
# test_recording.py, so they are hidden here (unittest only collects
# callable test_* attributes).
for _name in dir(test_recording.RecordingTest):
    if _name.startswith("test_") and _name not in vars(JoinTest):
        setattr(JoinTest, _name, None)

if __name__ == "__main__":
    unittest.main()
