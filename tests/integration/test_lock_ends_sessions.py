"""Locks and revocations end live sessions (docs/node-setup.md, "Locks end
sessions"): after `gate-node sync` installs a cache with a lock or a revoked
serial, the covered user's open sessions end within that sync, recorded ones
with a message on the terminal and the cause in the recording, unrecorded
ones by their sshd process; another Gate user's session under the same OS
login goes on, and an unlock resurrects nothing but lets a new login in.

Two real nodes: the recording node of test_recording.RecordingTest (every
session under the setuid gate-record; its setUpClass is reused, its tests
are not run again here) and a plain node without the recorder."""
import os
import re
import shutil
import subprocess
import time
import unittest

import test_recording
from harness import IS_ROOT, Node, run
from test_nodes import node_token
from test_recording import LOGIN, Tmux, parse_cast


@unittest.skipUnless(IS_ROOT and shutil.which("tmux"),
                     "needs root (OS users, setuid install, sshd) and tmux")
class LockEndsSessionsTest(test_recording.RecordingTest):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.plain = Node(cls.workdir, "plainnode")
        try:
            cls.plain.start()
            token, _ = node_token(cls.ca, principals="plainnode.test")
            joined = cls.plain.join(cls.ca, token, "--hostname", "plainnode.test")
            if joined.returncode != 0:
                raise AssertionError("join failed: " + joined.stdout + joined.stderr)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.plain.stop()
        super().tearDownClass()

    # --- helpers --------------------------------------------------------------

    def ssh_base(self, client, port):
        return ["ssh", "-F", "/dev/null", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
                "-o", f"IdentityFile={client.key}", "-o", f"CertificateFile={client.cert}",
                "-o", "UserKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=no",
                "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10", "-p", str(port)]

    def recorded_session(self, client, name):
        """An interactive recorded session in tmux whose pane stays after ssh
        exits (so its last words can be read), at the prompt. Returns (tmux,
        session id)."""
        ssh = self.ssh_base(client, self.node.port) + ["-tt", f"{LOGIN}@127.0.0.1"]
        wrapped = ["sh", "-c", 'ssh "$@"; echo "ssh-exited=$?"; sleep 600', "sh", *ssh[1:]]
        t = Tmux(self.tmux_socket, name).start(wrapped)
        self.addCleanup(t.kill)
        t.wait_for(r"^\$\s*\Z")
        t.type("echo sid=$GATE_SESSION_ID")
        screen = t.wait_for(r"^sid=[0-9a-f-]{36}\s*$")
        return t, re.search(r"^sid=([0-9a-f-]{36})\s*$", screen, re.M).group(1)

    def plain_session(self, client):
        """An unrecorded session on the plain node running a long command
        (cat, which ends with the client's stdin). Returns (ssh client, the
        remote command's pid)."""
        proc = subprocess.Popen(
            self.ssh_base(client, self.plain.port) + [f"{LOGIN}@127.0.0.1",
                                                      "echo started $$; exec cat"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

        def close():
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            for f in (proc.stdin, proc.stdout, proc.stderr):
                f.close()
        self.addCleanup(close)
        line = proc.stdout.readline().split()
        self.assertEqual(line[:1], ["started"], proc.stderr.read() if not line else line)
        return proc, int(line[1])

    def assertGone(self, pid, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline and os.path.exists(f"/proc/{pid}"):
            time.sleep(0.1)
        self.assertFalse(os.path.exists(f"/proc/{pid}"), f"process {pid} still runs")

    def sync_recording_node(self):
        return self.node.gate_node("sync", "--recorder-config", self.config)

    def serial_of(self, client):
        out = run(["ssh-keygen", "-L", "-f", client.cert], check=True).stdout
        return re.search(r"Serial: (\d+)", out).group(1)

    def exit_event(self, session_id):
        path = os.path.join(self.spool, session_id + ".cast")
        deadline = time.time() + 30
        while time.time() < deadline:
            _, events = parse_cast(path)
            ends = [e for e in events if e[1] == "x"]
            if ends:
                return path, ends[0][2]
            time.sleep(0.1)
        raise AssertionError("the recording has no exit event")

    def assertLive(self, t):
        t.type("echo alive-$((40+2))")
        t.wait_for(r"^alive-42\s*$")

    def assertRecordingComplete(self, path):
        self.assertIn("complete", self.verify(path))

    def assertLoginWorks(self, client, node):
        ssh = self.ssh_base(client, node.port) + [f"{LOGIN}@127.0.0.1", "echo in"]
        proc = subprocess.run(ssh, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                              timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("in", proc.stdout)

    # --- recorded sessions --------------------------------------------------

    def test_a_lock_ends_the_recorded_session_and_spares_another_users(self):
        lena = self.logged_in_user("lena", LOGIN)
        nora = self.logged_in_user("nora", LOGIN)
        self.assertEqual(self.sync_recording_node().returncode, 0)
        t_lena, sid_lena = self.recorded_session(lena, "lena")
        t_nora, sid_nora = self.recorded_session(nora, "nora")

        self.ca.gatectl("users", "lock", "lena", "--message", "incident 7", check=True)
        synced = self.sync_recording_node()
        self.assertEqual(synced.returncode, 0, synced.stdout + synced.stderr)
        self.assertRegex(synced.stdout, rf"ended recorded session {sid_lena} of lena .*locked")
        self.assertNotIn(sid_nora, synced.stdout)

        screen = t_lena.wait_for(r"^ssh-exited=\d+", timeout=30)
        self.assertIn("gate-record: your access was locked by an administrator: incident 7; "
                      "ending the session", screen)
        # The recording says so and is complete.
        path, exit_data = self.exit_event(sid_lena)
        self.assertIn('"ended_by":"locked"', exit_data)
        self.assertIn("incident 7", exit_data)
        self.assertRecordingComplete(path)
        # nora, same OS login, another Gate user: still there.
        self.assertLive(t_nora)
        self.assertIn(sid_nora, {s["session_id"] for s in self.live_sessions()})
        self.assertNotIn(sid_lena, {s["session_id"] for s in self.live_sessions()})

        # Unlocked: nothing comes back, a new login works.
        self.ca.gatectl("users", "unlock", "lena", check=True)
        self.assertEqual(self.sync_recording_node().returncode, 0)
        self.assertNotIn(sid_lena, {s["session_id"] for s in self.live_sessions()})
        self.assertLoginWorks(lena, self.node)
        self.assertLive(t_nora)

    def test_a_revoked_certificate_ends_its_recorded_session(self):
        rhea = self.logged_in_user("rhea", LOGIN)
        self.assertEqual(self.sync_recording_node().returncode, 0)
        t, sid = self.recorded_session(rhea, "rhea")
        self.ca.gatectl("certs", "revoke", "--serial", self.serial_of(rhea), check=True)
        synced = self.sync_recording_node()
        self.assertEqual(synced.returncode, 0, synced.stdout + synced.stderr)
        screen = t.wait_for(r"^ssh-exited=\d+", timeout=30)
        self.assertIn("gate-record: your certificate was revoked; ending the session", screen)
        path, exit_data = self.exit_event(sid)
        self.assertIn('"ended_by":"revoked"', exit_data)
        self.assertRecordingComplete(path)

    # --- sessions without the recorder ---------------------------------------

    def test_a_lock_ends_the_unrecorded_session_and_spares_another_users(self):
        ulla = self.logged_in_user("ulla", LOGIN)
        olga = self.logged_in_user("olga", LOGIN)
        self.assertEqual(self.plain.sync().returncode, 0)
        ulla_proc, ulla_pid = self.plain_session(ulla)
        olga_proc, olga_pid = self.plain_session(olga)

        self.ca.gatectl("users", "lock", "ulla", "--message", "gone", check=True)
        synced = self.plain.sync()
        self.assertEqual(synced.returncode, 0, synced.stdout + synced.stderr)
        self.assertRegex(synced.stdout, r"ended session of sshd pid \d+ of ulla \(login "
                                        + LOGIN + r", certificate serial \d+\): locked")
        self.assertNotIn("olga", synced.stdout)
        ulla_proc.wait(timeout=30)
        self.assertGone(ulla_pid)  # the remote command went with it
        self.assertEqual(olga_proc.poll(), None, "olga's session must survive")
        self.assertTrue(os.path.exists(f"/proc/{olga_pid}"))
        olga_proc.stdin.write("still here\n")
        olga_proc.stdin.flush()
        self.assertEqual(olga_proc.stdout.readline(), "still here\n")

        self.ca.gatectl("users", "unlock", "ulla", check=True)
        self.assertEqual(self.plain.sync().returncode, 0)
        self.assertLoginWorks(ulla, self.plain)
        self.assertEqual(olga_proc.poll(), None)

    def test_a_revoked_certificate_ends_its_unrecorded_session(self):
        vera = self.logged_in_user("vera", LOGIN)
        self.assertEqual(self.plain.sync().returncode, 0)
        proc, pid = self.plain_session(vera)
        self.ca.gatectl("certs", "revoke", "--serial", self.serial_of(vera), check=True)
        synced = self.plain.sync()
        self.assertEqual(synced.returncode, 0, synced.stdout + synced.stderr)
        self.assertRegex(synced.stdout, r"ended session of sshd pid \d+ of vera .*revoked")
        proc.wait(timeout=30)
        self.assertGone(pid)


# This class reuses RecordingTest's node; its tests already run in
# test_recording.py, so they are hidden here (unittest only collects
# callable test_* attributes).
for _name in dir(test_recording.RecordingTest):
    if _name.startswith("test_") and _name not in vars(LockEndsSessionsTest):
        setattr(LockEndsSessionsTest, _name, None)

if __name__ == "__main__":
    unittest.main()
