"""Recorded sessions end to end: gate-record installed setuid to gate-rec as
the ForceCommand of a joined node's real sshd, driven by a real ssh client
(in tmux for terminal sessions), scp, sftp and rsync; the recordings are
read back, played with asciinema, and attacked as the recorded user."""
import fcntl
import hashlib
import json
import os
import pwd
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from harness import (IS_ROOT, GateTestCase, Node, SyslogCapture, TestRecorder, binary,
                     ensure_os_user, run)
from test_nodes import node_token

LOGIN = "gtrec"
SFTP_SERVER = "/usr/lib/openssh/sftp-server"


def parse_cast(path):
    """(header, events) of an asciicast file; a last line cut by a crash is
    ignored, any other bad line fails."""
    with open(path, "rb") as f:
        data = f.read()
    lines = data.split(b"\n")
    header = json.loads(lines[0])
    events = []
    complete = lines[1:-1]  # the text after the last '\n' is not a line yet
    for line in complete:
        events.append(json.loads(line))
    return header, events


def mount_full_spool(test, spool):
    """Mounts a small tmpfs over spool (same owner, 0700, as before) for the
    rest of the test; returns a function that fills it up."""
    st = os.stat(spool)
    subprocess.run(["mount", "-t", "tmpfs", "-o",
                    f"size=256k,mode=0700,uid={st.st_uid},gid={st.st_gid}", "tmpfs", spool],
                   check=True)

    def unmount():
        # A session of the test may still be letting go of its file.
        deadline = time.time() + 15
        while subprocess.run(["umount", spool], capture_output=True).returncode != 0:
            if time.time() > deadline:
                subprocess.run(["umount", "-l", spool], check=False)
                return
            time.sleep(0.1)
    test.addCleanup(unmount)
    filler = os.path.join(spool, "filler")

    def fill():
        with open(filler, "wb", buffering=0) as f:
            try:
                while True:
                    f.write(b"\0" * 4096)
                    f.flush()
            except OSError:
                pass
    return fill


def output_of(events):
    return "".join(e[2] for e in events if e[1] == "o")


class Tmux:
    """A terminal for an ssh client: a detached tmux session on a private
    server socket, read with capture-pane."""

    def __init__(self, socket, name, width=100, height=30):
        self.socket = socket
        self.name = name
        self.width = width
        self.height = height

    def tmux(self, *args):
        return subprocess.run(["tmux", "-S", self.socket, *args], capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=30)

    def start(self, argv):
        for _ in range(3):
            proc = self.tmux("new-session", "-d", "-s", self.name, "-x", str(self.width), "-y",
                             str(self.height), shlex.join(argv))
            # The server exits with its last session; a new session asked for
            # meanwhile finds it going, and the next one starts a new server.
            if "server exited unexpectedly" not in proc.stderr:
                break
        if proc.returncode != 0:
            raise AssertionError("tmux new-session failed: " + proc.stderr)
        return self

    def screen(self):
        return self.tmux("capture-pane", "-p", "-J", "-S", "-200", "-t", self.name).stdout

    def type(self, text):
        self.tmux("send-keys", "-t", self.name, "-l", text)
        self.tmux("send-keys", "-t", self.name, "Enter")

    def wait_for(self, pattern, timeout=30):
        deadline = time.time() + timeout
        screen = ""
        while time.time() < deadline:
            screen = self.screen()
            if re.search(pattern, screen, re.M):
                return screen
            if not self.alive():
                break
            time.sleep(0.1)
        raise AssertionError(f"{pattern!r} not on the screen:\n{screen}")

    def alive(self):
        return self.tmux("has-session", "-t", self.name).returncode == 0

    def wait_gone(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if not self.alive():
                return
            time.sleep(0.1)
        raise AssertionError("the session did not end:\n" + self.screen())

    def kill(self):
        self.tmux("kill-session", "-t", self.name)


@unittest.skipUnless(IS_ROOT and shutil.which("tmux"),
                     "needs root (OS users, setuid install, sshd) and tmux")
class RecordingTest(GateTestCase):
    """One node whose sshd forces gate-record for every session; one Gate
    user, rita, with the login gtrec."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ensure_os_user(LOGIN)
        cls.tmux_socket = os.path.join(cls.workdir, "tmux.sock")
        cls.login_pw = pwd.getpwnam(LOGIN)
        # The installed layout, in root-owned directories gate-record accepts.
        rec = TestRecorder(cls.workdir, "recorder")
        cls.rec_uid = rec.rec.pw_uid
        cls.safe, cls.recorder, cls.config = rec.safe, rec.recorder, rec.config
        cls.key, cls.key_fingerprint = rec.key, rec.key_fingerprint
        cls.spool, cls.run_dir = rec.spool, rec.run_dir

        cls.node = Node(cls.workdir, "recnode")
        with open(cls.node.config) as f:
            text = f.read()
        # Under a ForceCommand, sftp runs as SSH_ORIGINAL_COMMAND: a program.
        text = text.replace("Subsystem sftp internal-sftp", f"Subsystem sftp {SFTP_SERVER}")
        text += rec.force_command()
        text = cls.edit_sshd_config(text)
        with open(cls.node.config, "w") as f:
            f.write(text)
        cls.node.start()
        token, _ = node_token(cls.ca)
        joined = cls.node.join(cls.ca, token, "--principals", "127.0.0.1")
        if joined.returncode != 0:
            raise AssertionError("join failed: " + joined.stdout + joined.stderr)
        cls.host_uuid = rec.write_config(cls.ca, cls.node, "recnode")

        cls.client = cls.logged_in_user("rita", LOGIN)
        synced = cls.node.sync()
        assert synced.returncode == 0, synced.stderr

    @classmethod
    def edit_sshd_config(cls, text):
        """The node's sshd_config as subclasses need it (before sshd starts)."""
        return text

    @classmethod
    def tearDownClass(cls):
        cls.node.stop()
        # The server's socket is in workdir, removed with it.
        subprocess.run(["tmux", "-S", cls.tmux_socket, "kill-server"],
                       capture_output=True, stdin=subprocess.DEVNULL)
        super().tearDownClass()

    # --- helpers --------------------------------------------------------------

    def ssh_options(self):
        kh = os.path.join(self.client.env["GATE_HOME"], "known_hosts")
        return ["-F", "/dev/null", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
                "-o", f"IdentityFile={self.client.key}",
                "-o", f"CertificateFile={self.client.cert}",
                "-o", f"UserKnownHostsFile={kh}", "-o", "StrictHostKeyChecking=yes",
                "-o", "ConnectTimeout=10"]

    def ssh_argv(self, *args):
        return ["ssh", *self.ssh_options(), "-p", str(self.node.port), *args,
                f"{LOGIN}@127.0.0.1"]

    def ssh(self, command, *args):
        return subprocess.run([*self.ssh_argv(*args), command], capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=60)

    def casts(self):
        return {n for n in os.listdir(self.spool) if n.endswith(".cast")}

    def new_cast(self, before):
        new = self.casts() - before
        self.assertEqual(len(new), 1, f"expected one new recording, got {new}")
        return os.path.join(self.spool, new.pop())

    def live_sessions(self):
        out = []
        for name in os.listdir(self.run_dir):
            if name.endswith(".json"):
                with open(os.path.join(self.run_dir, name)) as f:
                    out.append(json.load(f))
        return out

    def terminal(self, name, width=100, height=30):
        """An interactive recorded session in tmux, at the shell prompt.
        Returns (tmux, live registry entry, recording path)."""
        live_before = {s["session_id"] for s in self.live_sessions()}
        t = Tmux(self.tmux_socket, name, width, height).start(self.ssh_argv("-tt"))
        self.addCleanup(t.kill)
        t.wait_for(r"^\$\s*\Z")  # the login shell's prompt: keys typed before it echo twice
        t.type("echo ready-$((20+22))")
        t.wait_for(r"^ready-42\s*$")
        live = [s for s in self.live_sessions() if s["session_id"] not in live_before]
        self.assertEqual(len(live), 1, live)
        cast = os.path.join(self.spool, live[0]["session_id"] + ".cast")
        return t, live[0], cast

    def wait_in_file(self, path, needle, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with open(path, "rb") as f:
                if needle in f.read():
                    return
            time.sleep(0.05)
        self.fail(f"{needle!r} never reached {path}")

    def assertPlays(self, path, text):
        play = subprocess.run(["asciinema", "play", "-s", "100", "-i", "0.1", path],
                              capture_output=True, text=True, stdin=subprocess.DEVNULL,
                              timeout=60)
        self.assertEqual(play.returncode, 0, play.stderr)
        self.assertIn(text, play.stdout)

    def verify(self, path):
        """`gate play --verify` against the recorder's public key: its stdout."""
        proc = subprocess.run([binary("gate"), "play", "--verify", "--no-play", "--key",
                               self.key + ".pub", path], capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        return proc.stdout

    def assertLocked(self, path, locked):
        with open(path, "rb") as f:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                taken = True
                fcntl.flock(f, fcntl.LOCK_UN)
            except BlockingIOError:
                taken = False
        self.assertEqual(taken, not locked)

    def as_user(self, argv, env):
        """Runs argv as the recorded user with exactly env (setpriv keeps it)."""
        pw = self.login_pw
        return subprocess.run(["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}",
                               "--init-groups", "--", *argv], env=env, capture_output=True,
                              text=True, stdin=subprocess.DEVNULL, timeout=60, cwd="/")

    # --- terminal sessions --------------------------------------------------

    def test_interactive_session_is_recorded_and_plays(self):
        t, live, cast = self.terminal("inter")
        sid = live["session_id"]
        self.assertEqual(live["user"], "rita")
        self.assertEqual(live["login"], LOGIN)
        self.assertEqual(live["node"], self.host_uuid)
        self.assertEqual(live["mode"], "interactive")
        self.assertTrue(live["tty"].startswith("/dev/pts/"), live)
        registry = os.path.join(self.run_dir, sid + ".json")
        st = os.stat(registry)
        # Who is logged in, and on which terminal, is the recorders' business.
        self.assertEqual((st.st_uid, st.st_mode & 0o777), (self.rec_uid, 0o600))
        st = os.stat(cast)
        self.assertEqual((st.st_uid, st.st_mode & 0o777), (self.rec_uid, 0o600))
        self.assertLocked(cast, True)

        t.type("echo hello-$((6*7))")
        t.wait_for(r"^hello-42\s*$")
        t.type(f"{binary('gate')} status")
        screen = t.wait_for(r"^Session URL : \S+")
        self.assertIn("Cluster Name: test-cluster", screen)
        self.assertIn(f"Host UUID   : {self.host_uuid}", screen)
        self.assertIn(f"Session ID  : {sid}", screen)
        self.assertIn(f"Session URL : https://{self.ca.addr}/web/sessions/{sid}", screen)
        t.type(f"cat {registry} >/dev/null; echo registry-rc=$?")
        t.wait_for(r"^registry-rc=1\s*$")
        self.assertIn("Permission denied", t.screen())
        t.type("exit")
        t.wait_gone()

        self.assertFalse(os.path.exists(registry))
        self.assertLocked(cast, False)
        header, events = parse_cast(cast)
        self.assertEqual(header["version"], 2)
        self.assertEqual((header["width"], header["height"]), (100, 30))
        gate = header["gate"]
        self.assertEqual(gate["session_id"], sid)
        self.assertEqual(gate["user"], "rita")
        self.assertEqual(gate["login"], LOGIN)
        self.assertEqual(gate["node"], self.host_uuid)
        self.assertEqual(gate["node_name"], "recnode")
        self.assertEqual(gate["cluster"], "test-cluster")
        self.assertEqual(gate["mode"], "interactive")
        self.assertEqual(gate["command"], "")
        self.assertEqual(gate["key"], self.key_fingerprint)
        self.assertIn("hello-42", output_of(events))
        self.assertNotIn("i", {e[1] for e in events})  # record_input is off
        exits = [e[2] for e in events if e[1] == "x"]
        self.assertEqual(exits, ['{"exit_status":0}'])
        self.assertEqual(events[-1][1], "c")
        self.assertPlays(cast, "hello-42")
        self.assertIn("verified, complete", self.verify(cast))

    def test_resize_is_recorded(self):
        t, live, cast = self.terminal("resize", 100, 30)
        t.tmux("resize-window", "-t", t.name, "-x", "120", "-y", "40")
        t.type("stty size")
        t.wait_for(r"^40 120\s*$")
        t.type("exit")
        t.wait_gone()
        _, events = parse_cast(cast)
        self.assertIn("120x40", [e[2] for e in events if e[1] == "r"])

    def test_exec_with_a_terminal_is_recorded(self):
        before = self.casts()
        result = self.ssh("printf pty-out; exit 4", "-tt")
        self.assertEqual(result.returncode, 4, result.stderr)
        self.assertIn("pty-out", result.stdout)
        header, events = parse_cast(self.new_cast(before))
        self.assertEqual(header["gate"]["mode"], "exec-pty")
        self.assertEqual(header["gate"]["command"], "printf pty-out; exit 4")
        self.assertIn("pty-out", output_of(events))
        self.assertEqual([e[2] for e in events if e[1] == "x"], ['{"exit_status":4}'])

    def test_play_verify_in_a_session_finds_the_key_from_the_settings(self):
        # The demo's layout: recorder.json and recorder.pub beside it outside
        # /etc/gate (gate-node record on --recorder-config writes them so).
        pub = os.path.join(self.safe, "recorder.pub")
        shutil.copy(self.key + ".pub", pub)
        os.chmod(pub, 0o644)
        self.addCleanup(os.unlink, pub)
        before = self.casts()
        self.assertEqual(self.ssh("echo to-verify").returncode, 0)
        # A copy the recorded user may read.
        shared = tempfile.mkdtemp(prefix="gate-verify-")
        self.addCleanup(shutil.rmtree, shared, True)
        os.chmod(shared, 0o755)
        copy = os.path.join(shared, "session.cast")
        shutil.copy(self.new_cast(before), copy)
        os.chmod(copy, 0o644)
        result = self.ssh(f"{binary('gate')} play --verify --no-play {copy}")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("verified, complete", result.stdout)

    # --- sessions without a terminal --------------------------------------------

    def test_exec_output_and_exit_status(self):
        before = self.casts()
        result = self.ssh("echo exec-out; echo exec-err >&2; exit 3")
        self.assertEqual(result.returncode, 3, result.stderr)
        self.assertEqual(result.stdout, "exec-out\n")
        self.assertEqual(result.stderr, "exec-err\n")
        header, events = parse_cast(self.new_cast(before))
        self.assertEqual(header["gate"]["mode"], "exec")
        self.assertEqual(header["gate"]["command"], "echo exec-out; echo exec-err >&2; exit 3")
        # Not a file transfer: recorded both ways, with the bytes counted.
        self.assertEqual(output_of(events), "exec-out\nexec-err\n")
        self.assertEqual([e[2] for e in events if e[1] == "x"],
                         ['{"exit_status":3,"bytes_in":0,"bytes_out":18}'])
        self.assertEqual(events[-1][1], "c")
        before = self.casts()
        self.assertEqual(self.ssh("exit 0").returncode, 0)
        self.new_cast(before)

    def test_exec_stdin_and_eof_are_sshds_own(self):
        data = os.urandom(256 * 1024)
        proc = subprocess.run([*self.ssh_argv(), "sha256sum"], input=data, capture_output=True,
                              timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout.split()[0].decode(), hashlib.sha256(data).hexdigest())

    def test_scp_sftp_rsync_transfer_files(self):
        data = os.urandom(3 * 1024 * 1024 + 17)
        src = os.path.join(self.workdir, "payload.bin")
        with open(src, "wb") as f:
            f.write(data)
        home = self.login_pw.pw_dir
        opts = self.ssh_options()
        before = self.casts()
        target = f"{LOGIN}@127.0.0.1"

        scp = subprocess.run(["scp", *opts, "-P", str(self.node.port), src,
                              f"{target}:scp-sftp.bin"], capture_output=True, text=True,
                             stdin=subprocess.DEVNULL, timeout=120)
        self.assertEqual(scp.returncode, 0, scp.stderr)
        legacy = subprocess.run(["scp", "-O", *opts, "-P", str(self.node.port), src,
                                 f"{target}:scp-legacy.bin"], capture_output=True, text=True,
                                stdin=subprocess.DEVNULL, timeout=120)
        self.assertEqual(legacy.returncode, 0, legacy.stderr)
        batch = os.path.join(self.workdir, "sftp-batch")
        back = os.path.join(self.workdir, "sftp-back.bin")
        with open(batch, "w") as f:
            f.write(f"put {src} sftp.bin\nget sftp.bin {back}\n")
        sftp = subprocess.run(["sftp", *opts, "-P", str(self.node.port), "-b", batch, target],
                              capture_output=True, text=True, stdin=subprocess.DEVNULL,
                              timeout=120)
        self.assertEqual(sftp.returncode, 0, sftp.stderr)
        rsh = shlex.join(["ssh", *opts, "-p", str(self.node.port)])
        rsync = subprocess.run(["rsync", "-e", rsh, src, f"{target}:rsync.bin"],
                               capture_output=True, text=True, stdin=subprocess.DEVNULL,
                               timeout=120)
        self.assertEqual(rsync.returncode, 0, rsync.stderr)

        for name in ("scp-sftp.bin", "scp-legacy.bin", "sftp.bin", "rsync.bin"):
            with open(os.path.join(home, name), "rb") as f:
                self.assertEqual(hashlib.sha256(f.read()).digest(), hashlib.sha256(data).digest(),
                                 name)
        with open(back, "rb") as f:
            self.assertEqual(f.read(), data)

        commands = []
        for name in self.casts() - before:
            header, events = parse_cast(os.path.join(self.spool, name))
            self.assertEqual(header["gate"]["mode"], "exec")
            # Transfers are metadata: the kind and the bytes, not the bytes.
            self.assertEqual({e[1] for e in events} - {"c", "x"}, set())
            [end] = [json.loads(e[2]) for e in events if e[1] == "x"]
            self.assertEqual(end["exit_status"], 0)
            self.assertIn(end["transfer"], ("scp", "sftp", "rsync"))
            self.assertGreater(end["bytes_in"] + end["bytes_out"], len(data))
            commands.append(header["gate"]["command"])
        self.assertEqual(len(commands), 4, commands)
        self.assertEqual(commands.count(SFTP_SERVER), 2, commands)
        self.assertTrue(any(c.startswith("scp -t") for c in commands), commands)
        self.assertTrue(any(c.startswith("rsync --server") for c in commands), commands)

    # --- tamper resistance --------------------------------------------------------

    def test_the_user_cannot_stop_trace_or_touch_the_recording(self):
        t, live, cast = self.terminal("tamper")
        pid = live["recorder_pid"]
        with open(f"/proc/{pid}/status") as f:
            ids = re.search(r"^Uid:\s+(\d+)\s+(\d+)\s+(\d+)", f.read(), re.M).groups()
        self.assertEqual(ids, (str(self.rec_uid),) * 3)
        # Everything below is typed by the user into their own recorded shell.
        t.type(f"kill -9 {pid}; echo kill-rc=$?")
        t.wait_for(r"^kill-rc=[1-9]")
        t.type(f"kill -HUP {pid}; echo hup-rc=$?")
        t.wait_for(r"^hup-rc=[1-9]")
        ptrace = ("import ctypes, os; libc = ctypes.CDLL(None, use_errno=True); "
                  f"r = libc.ptrace(16, {pid}, 0, 0); "
                  "print('ptrace-attach', r, os.strerror(ctypes.get_errno()))")
        t.type(f"python3 -c {shlex.quote(ptrace)}")
        t.wait_for(r"^ptrace-attach -1 Operation not permitted")
        if shutil.which("gdb"):
            t.type(f"gdb -p {pid} -batch -ex 'info registers' 2>&1 | "
                   "grep -c 'ptrace: Operation not permitted'; echo gdb-done")
            t.wait_for(r"^1\s*\ngdb-done")
        t.type(f"echo tampered >> {cast}; echo write-rc=$?")
        t.wait_for(r"^write-rc=[1-9]")
        t.type(f"truncate -s 0 {cast}; echo trunc-rc=$?")
        t.wait_for(r"^trunc-rc=[1-9]")
        t.type(f"rm -f {cast}; echo rm-rc=$?")
        t.wait_for(r"^rm-rc=[1-9]")
        t.type(f"cat {cast} > /dev/null; echo read-rc=$?")
        t.wait_for(r"^read-rc=[1-9]")
        t.type("echo still-$((40+2))")
        t.wait_for(r"^still-42\s*$")
        self.assertTrue(os.path.exists(f"/proc/{pid}"))
        t.type("exit")
        t.wait_gone()
        header, events = parse_cast(cast)
        self.assertIn("still-42", output_of(events))
        self.assertEqual([e[2] for e in events if e[1] == "x"], ['{"exit_status":0}'])

    def test_client_going_away_hangs_up_and_finishes_the_recording(self):
        t, live, cast = self.terminal("hangup")
        t.type("echo before-hangup-$((6*7))")
        t.wait_for(r"^before-hangup-42\s*$")
        t.kill()  # the terminal closes: ssh exits, sshd hangs up its pty
        pid = live["recorder_pid"]
        deadline = time.time() + 30
        while os.path.exists(f"/proc/{pid}") and time.time() < deadline:
            time.sleep(0.05)
        self.assertFalse(os.path.exists(f"/proc/{pid}"), "the recorder is still running")
        self.assertFalse(os.path.exists(os.path.join(self.run_dir, live["session_id"] + ".json")))
        _, events = parse_cast(cast)
        self.assertIn("before-hangup-42", output_of(events))
        self.assertEqual([e[2] for e in events if e[1] == "x"], ['{"signal":"HUP"}'])
        self.assertEqual(events[-1][1], "c")
        self.assertIn("verified, complete", self.verify(cast))

    def test_root_kill_leaves_a_playable_recording(self):
        t, live, cast = self.terminal("rootkill")
        t.type("echo before-kill-$((6*7))")
        t.wait_for(r"^before-kill-42\s*$")
        self.wait_in_file(cast, b"before-kill-42")
        os.kill(live["recorder_pid"], signal.SIGKILL)
        t.wait_gone()  # the shell was hung up with the recorder's pty
        self.assertLocked(cast, False)  # finished, as far as the uploader knows
        header, events = parse_cast(cast)
        self.assertEqual(header["gate"]["session_id"], live["session_id"])
        self.assertIn("before-kill-42", output_of(events))
        self.assertNotIn("x", {e[1] for e in events})
        self.assertPlays(cast, "before-kill-42")
        self.assertIn("cut short", self.verify(cast))
        # A killed recorder cannot remove its registry entry.
        os.unlink(os.path.join(self.run_dir, live["session_id"] + ".json"))

    # --- fail closed ----------------------------------------------------------------

    def test_unrecordable_session_is_refused(self):
        os.chmod(self.spool, 0o755)
        try:
            with SyslogCapture() as syslog:
                result = self.ssh("echo should-not-run")
                lines = syslog.drain()
        finally:
            os.chmod(self.spool, 0o700)
        self.assertEqual(result.returncode, 1)
        self.assertNotIn("should-not-run", result.stdout)
        self.assertRegex(result.stderr,
                         r"gate-record: cannot record this session: .*spool.* is accessible by "
                         r"group/others \(mode 0755\); run: chmod 700 .*; access denied")
        if lines is not None:
            self.assertTrue(any("gate-record" in l and "cannot record this session" in l
                                for l in lines), lines)

    def full_spool(self):
        return mount_full_spool(self, self.spool)

    def test_full_spool_refuses_the_session_and_leaves_no_recording(self):
        self.full_spool()()
        result = self.ssh("echo should-not-run")
        self.assertEqual(result.returncode, 1)
        self.assertNotIn("should-not-run", result.stdout)
        self.assertRegex(result.stderr,
                         r"gate-record: cannot record this session: cannot write the recording: "
                         r"cannot write .*\.cast: No space left on device.*; access denied")
        self.assertEqual(self.casts(), set())

    def test_spool_filling_up_ends_the_session_with_a_recording_cut_short(self):
        fill = self.full_spool()
        t, live, cast = self.terminal("spoolfull")
        # Keep the pane once ssh exits, to read what the user was told.
        t.tmux("set-option", "-t", t.name, "remain-on-exit", "on")
        self.wait_in_file(cast, b"ready-42")
        fill()
        t.type("head -c 300000 /dev/zero | tr '\\0' z; echo; echo after-$((6*7))")
        deadline = time.time() + 30
        while time.time() < deadline:
            dead = t.tmux("display-message", "-p", "-t", t.name, "#{pane_dead}").stdout.strip()
            if dead == "1":
                break
            time.sleep(0.1)
        screen = t.screen()
        self.assertEqual(dead, "1", "the session did not end:\n" + screen)
        self.assertRegex(screen, r"gate-record: the recording failed \(cannot write .*\.cast: "
                                 r"No space left on device.*\); ending the session")
        # Hung up (the shell's SIGHUP), not ended by the user.
        self.assertRegex(screen, r"Pane is dead \(status 129")
        # What the uploader finds: whole lines, every byte under a checkpoint,
        # the session cut short and never complete.
        with open(cast, "rb") as f:
            data = f.read()
        self.assertTrue(data.endswith(b"\n"))
        verdict = self.verify(cast)
        self.assertIn("cut short (the recording ends without an exit event)", verdict)
        _, events = parse_cast(cast)
        self.assertIn("ready-42", output_of(events))
        self.assertNotIn("after-42", output_of(events))
        self.assertNotIn("x", {e[1] for e in events})
        self.assertFalse(os.path.exists(os.path.join(self.run_dir, live["session_id"] + ".json")))

    def test_direct_runs_are_checked_like_sshds(self):
        env = {"PATH": "/usr/bin:/bin", "HOME": self.login_pw.pw_dir,
               "SSH_ORIGINAL_COMMAND": "echo direct-run"}
        cmd = [self.recorder, "--config", self.config]

        no_auth = self.as_user(cmd, env)
        self.assertEqual(no_auth.returncode, 1)
        self.assertEqual(no_auth.stdout, "")
        self.assertIn("gate-record: cannot record this session: SSH_USER_AUTH is not set",
                      no_auth.stderr)
        self.assertTrue(no_auth.stderr.rstrip().endswith("; access denied"), no_auth.stderr)

        # The recorder reads SSH_USER_AUTH as the user: not its own key.
        stolen = self.as_user(cmd, dict(env, SSH_USER_AUTH=self.key))
        self.assertEqual(stolen.returncode, 1)
        self.assertIn("cannot read SSH_USER_AUTH", stolen.stderr)
        self.assertNotIn("PRIVATE KEY", stolen.stdout + stolen.stderr)

        auth = os.path.join(self.workdir, "auth-info")
        with open(self.client.cert) as f:
            cert = f.read().split()
        other_ca = os.path.join(self.workdir, "other-ca")
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", other_ca], check=True)
        forged_pub = os.path.join(self.workdir, "forged")
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", forged_pub], check=True)
        run(["ssh-keygen", "-q", "-s", other_ca, "-I", "rita", "-n", LOGIN, "-V", "-5m:+1h",
             forged_pub + ".pub"], check=True)
        with open(forged_pub + "-cert.pub") as f:
            forged = f.read().split()
        for lines, expect in (
                ([f"publickey {forged[0]} {forged[1]}"], "CA not in"),
                ([f"publickey {cert[0]} {cert[1][:-8]}"], "bad certificate"),
                (["password"], "not authenticated with a Gate certificate")):
            with open(auth, "w") as f:
                f.write("\n".join(lines) + "\n")
            # As sshd leaves it: the user's, 0600.
            os.chown(auth, self.login_pw.pw_uid, self.login_pw.pw_gid)
            os.chmod(auth, 0o600)
            refused = self.as_user(cmd, dict(env, SSH_USER_AUTH=auth))
            self.assertEqual(refused.returncode, 1, refused.stdout)
            self.assertIn(expect, refused.stderr)
            self.assertNotIn("direct-run", refused.stdout)

        # A genuine certificate, but not from sshd: whoever runs gate-record
        # by hand could have copied it (it is public), so nothing runs and
        # nothing is recorded.
        with open(auth, "w") as f:
            f.write(f"publickey {cert[0]} {cert[1]}\n")
        before = self.casts()
        refused = self.as_user(cmd, dict(env, SSH_USER_AUTH=auth))
        self.assertEqual(refused.returncode, 1, refused.stdout)
        self.assertIn("gate-record: cannot record this session: gate-record was not started by "
                      "sshd for this session", refused.stderr)
        self.assertNotIn("direct-run", refused.stdout)
        self.assertEqual(self.casts(), before)

        # An auth file sshd would not have left: someone else's, or readable
        # by others.
        os.chown(auth, 0, 0)
        os.chmod(auth, 0o644)
        refused = self.as_user(cmd, dict(env, SSH_USER_AUTH=auth))
        self.assertEqual(refused.returncode, 1, refused.stdout)
        self.assertIn("cannot read SSH_USER_AUTH", refused.stderr)

        unsafe = os.path.join(self.workdir, "recorder.json")
        shutil.copy(self.config, unsafe)
        refused = self.as_user([self.recorder, "--config", unsafe],
                               dict(env, SSH_USER_AUTH=auth))
        self.assertEqual(refused.returncode, 1)
        self.assertIn("refusing recorder settings", refused.stderr)
        usage = self.as_user([self.recorder, "--bogus"], env)
        self.assertEqual(usage.returncode, 2)


if __name__ == "__main__":
    unittest.main()
