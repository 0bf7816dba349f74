"""File transfers, commands and what sessions without a terminal leave in
the recording, on a node set up the way gate configures one: a real sshd
joined with `gate-node join --record` (gate-node's own drop-in and the real
gate-record, setuid to the recorder user), once with `Subsystem sftp
internal-sftp` (what many distributions ship, and what the demo's sshd had)
and once with the sftp-server program (what scripts/demo now writes).

Transfers (scp both protocols, sftp, rsync) must work through the recorder
and be audited as metadata: the command and the bytes each way reach
gate-ca's audit log, the bytes themselves are not recorded. Other sessions
without a terminal (`ssh node cmd`, `ssh -T node bash`) are recorded both
ways, and nothing reaches the user that the recording does not hold."""
import hashlib
import json
import os
import re
import pwd
import shlex
import socket
import subprocess
import threading
import time
import unittest

from harness import (IS_ROOT, GateTestCase, Node, binary, ensure_os_user, root_safe_dir, run)
from test_nodes import node_token
from test_record_config import remove_user
from test_recording import mount_full_spool, output_of, parse_cast

LOGIN = "gtxfer"
SFTP_SERVER = "/usr/lib/openssh/sftp-server"


def input_of(events):
    return "".join(e[2] for e in events if e[1] == "i")


class EchoServer:
    """A TCP server on 127.0.0.1 that answers every byte with itself and
    counts the connections it accepted."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._echo, args=(conn,), daemon=True).start()

    @staticmethod
    def _echo(conn):
        with conn:
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                conn.sendall(data)

    def close(self):
        self.sock.close()


def exit_of(events):
    exits = [json.loads(e[2]) for e in events if e[1] == "x"]
    assert len(exits) == 1, exits
    return exits[0]


class RecordedNodeMixin:
    """A node joined with --record and the real recorder (class attributes:
    SUBSYSTEM, the sshd_config Subsystem sftp value; REC_USER)."""

    SUBSYSTEM = "internal-sftp"
    REC_USER = "gtrecxf"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ensure_os_user(LOGIN)
        cls.login_pw = pwd.getpwnam(LOGIN)
        name = cls.__name__.lower()
        cls.node = Node(cls.workdir, name)
        with open(cls.node.config) as f:
            text = f.read()
        text = text.replace("Subsystem sftp internal-sftp", f"Subsystem sftp {cls.SUBSYSTEM}")
        with open(cls.node.config, "w") as f:
            f.write(text)
        safe = os.path.join(root_safe_dir(), name)
        os.makedirs(safe, mode=0o755, exist_ok=True)
        recorder = os.path.join(safe, "gate-record")
        with open(binary("gate-record"), "rb") as src, open(recorder, "wb") as dst:
            dst.write(src.read())
        os.chown(recorder, 0, 0)
        os.chmod(recorder, 0o755)
        cls.spool = os.path.join(cls.workdir, "spool")
        cls.rec_flags = ["--recorder-config", os.path.join(safe, "recorder.json"),
                         "--recorder-key-dir", os.path.join(safe, "key"),
                         "--spool-dir", cls.spool,
                         "--run-dir", os.path.join(cls.workdir, "run"),
                         "--recorder-command", recorder, "--recorder-user", cls.REC_USER]
        cls.node.start()
        token, _ = node_token(cls.ca)
        joined = cls.node.join(cls.ca, token, "--principals", "127.0.0.1", "--record",
                               *cls.rec_flags)
        if joined.returncode != 0:
            raise AssertionError("join failed: " + joined.stdout + joined.stderr)
        cls.client = cls.logged_in_user("xfer", LOGIN)
        synced = cls.node.sync()
        assert synced.returncode == 0, synced.stderr

    @classmethod
    def tearDownClass(cls):
        cls.node.stop()
        super().tearDownClass()
        remove_user(cls.REC_USER)

    # --- helpers --------------------------------------------------------------

    def ssh_options(self, client=None):
        client = client or self.client
        kh = os.path.join(client.env["GATE_HOME"], "known_hosts")
        return ["-F", "/dev/null", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
                "-o", f"IdentityFile={client.key}", "-o", f"CertificateFile={client.cert}",
                "-o", f"UserKnownHostsFile={kh}", "-o", "StrictHostKeyChecking=yes",
                "-o", "ConnectTimeout=10"]

    def ssh_argv(self, *args, client=None, login=LOGIN):
        return ["ssh", *self.ssh_options(client), "-p", str(self.node.port), *args,
                f"{login}@127.0.0.1"]

    def casts(self):
        return {n for n in os.listdir(self.spool) if n.endswith(".cast")}

    def new_casts(self, before):
        return [os.path.join(self.spool, n) for n in sorted(self.casts() - before)]

    def new_cast(self, before):
        new = self.new_casts(before)
        self.assertEqual(len(new), 1, f"expected one new recording, got {new}")
        return new[0]

    def wait_finished(self, paths, timeout=30):
        """Recorders write the exit event after the client saw the end."""
        deadline = time.time() + timeout
        for path in paths:
            while time.time() < deadline:
                _, events = parse_cast(path)
                if any(e[1] == "x" for e in events) and events[-1][1] == "c":
                    break
                time.sleep(0.05)

    def upload(self):
        proc = run([binary("gate-node"), "upload", "--once", "--spool", self.spool, "--data-dir",
                    self.node.data_dir], timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)

    def audit(self, event, detail_contains):
        return self.ca.audit_rows(event, detail_contains)

    # --- transfers ---------------------------------------------------------------

    def test_scp_sftp_rsync_and_commands_work_and_are_audited_as_metadata(self):
        data = os.urandom(1024 * 1024 + 17)
        src = os.path.join(self.workdir, "payload.bin")
        with open(src, "wb") as f:
            f.write(data)
        home = self.login_pw.pw_dir
        opts = self.ssh_options()
        port = str(self.node.port)
        target = f"{LOGIN}@127.0.0.1"
        before = self.casts()

        def ok(argv):
            proc = subprocess.run(argv, capture_output=True, text=True,
                                  stdin=subprocess.DEVNULL, timeout=120)
            with open(self.node.log) as log:
                self.assertEqual(proc.returncode, 0, proc.stderr + log.read()[-2000:])
            return proc

        tag = self.SUBSYSTEM.replace("/", "_")
        ok(["scp", *opts, "-P", port, src, f"{target}:scp-sftp-{tag}.bin"])
        ok(["scp", "-O", *opts, "-P", port, src, f"{target}:scp-legacy-{tag}.bin"])
        batch = os.path.join(self.workdir, "sftp-batch")
        back = os.path.join(self.workdir, f"sftp-back-{tag}.bin")
        with open(batch, "w") as f:
            f.write(f"put {src} sftp-{tag}.bin\nget sftp-{tag}.bin {back}\n")
        ok(["sftp", *opts, "-P", port, "-b", batch, target])
        rsh = shlex.join(["ssh", *opts, "-p", port])
        ok(["rsync", "-e", rsh, src, f"{target}:rsync-{tag}.bin"])
        command = ok([*self.ssh_argv(), "echo command-$((6*7))"])
        self.assertEqual(command.stdout, "command-42\n")

        for name in (f"scp-sftp-{tag}.bin", f"scp-legacy-{tag}.bin", f"sftp-{tag}.bin",
                     f"rsync-{tag}.bin"):
            with open(os.path.join(home, name), "rb") as f:
                self.assertEqual(hashlib.sha256(f.read()).digest(),
                                 hashlib.sha256(data).digest(), name)
        with open(back, "rb") as f:
            self.assertEqual(f.read(), data)

        casts = self.new_casts(before)
        self.assertEqual(len(casts), 5, casts)
        self.wait_finished(casts)
        by_kind = {}
        for path in casts:
            header, events = parse_cast(path)
            self.assertEqual(header["gate"]["mode"], "exec")
            end = exit_of(events)
            self.assertEqual(end["exit_status"], 0, end)
            by_kind.setdefault(end.get("transfer", "command"), []).append((header, events, end))
        self.assertEqual(sorted((k, len(v)) for k, v in by_kind.items()),
                         [("command", 1), ("rsync", 1), ("scp", 1), ("sftp", 2)], by_kind)
        for kind in ("scp", "sftp", "rsync"):
            for header, events, end in by_kind[kind]:
                # Metadata, not the bytes: no input or output events at all.
                self.assertEqual({e[1] for e in events} - {"c", "x"}, set(), header)
                self.assertGreater(end["bytes_in"] + end["bytes_out"], len(data), end)
        scp = by_kind["scp"][0][0]["gate"]["command"]
        self.assertTrue(scp.startswith("scp -t"), scp)
        self.assertIn(self.SUBSYSTEM, [h["gate"]["command"] for h, _, _ in by_kind["sftp"]])
        self.assertTrue(by_kind["rsync"][0][0]["gate"]["command"].startswith("rsync --server"))
        _, events, end = by_kind["command"][0]
        self.assertEqual(output_of(events), "command-42\n")
        self.assertEqual(end["bytes_out"], len("command-42\n"))

        # gate-ca's audit log: the command at the start, the bytes at the end.
        self.upload()
        sid_of = {os.path.basename(p)[:-5] for p in casts}
        for sid in sid_of:
            starts = self.audit("session.start", sid)
            self.assertEqual(len(starts), 1, sid)
            self.assertIn(", command ", starts[0][2])
            ends = self.audit("session.end", sid)
            self.assertEqual(len(ends), 1, sid)
            self.assertRegex(ends[0][2], r'"bytes_in":\d+,"bytes_out":\d+')
        transfers = [r for sid in sid_of for r in self.audit("session.end", sid)
                     if '"transfer":"sftp"' in r[2]]
        self.assertEqual(len(transfers), 2)


@unittest.skipUnless(IS_ROOT, "needs root: creates users, runs sshd and gate-node")
class InternalSftpNodeTest(RecordedNodeMixin, GateTestCase):
    """sshd_config says `Subsystem sftp internal-sftp`; gate-node adds the
    rest. Also: sessions without a terminal record their input, and a full
    spool shows the user nothing unrecorded."""

    SUBSYSTEM = "internal-sftp"
    REC_USER = "gtrecxi"

    # --- forwarding -------------------------------------------------------------

    @classmethod
    def forwarding_users(cls):
        """fwd holds a role that permits forwarding; nofwd one that does not."""
        if hasattr(cls, "fwd"):
            return
        cls.ca.gatectl("roles", "add", "fwd", "--logins", LOGIN, check=True)
        cls.ca.gatectl("roles", "add", "nofwd", "--logins", LOGIN,
                       "--permit-port-forwarding=false", check=True)
        cls.fwd = cls.logged_in_user("fwd", roles="fwd")
        cls.nofwd = cls.logged_in_user("nofwd", roles="nofwd")
        synced = cls.node.sync()
        assert synced.returncode == 0, synced.stderr

    def test_sshd_forwards_nothing_and_gate_forward_is_audited(self):
        self.forwarding_users()
        echo = EchoServer()
        self.addCleanup(echo.close)
        # sshd's own forwarding is off on a recording node, role or not.
        direct = subprocess.run([*self.ssh_argv("-W", f"127.0.0.1:{echo.port}",
                                                client=self.fwd)],
                                input=b"through-sshd", capture_output=True, timeout=60)
        self.assertNotEqual(direct.returncode, 0)
        self.assertNotIn(b"through-sshd", direct.stdout)
        self.assertIn(b"prohibited", direct.stderr)
        self.assertEqual(echo.accepted, 0)

        before = self.casts()
        payload = os.urandom(200000)
        proc = subprocess.run([*self.ssh_argv(client=self.fwd),
                               f"gate-forward 127.0.0.1 {echo.port}"],
                              input=payload, capture_output=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, payload)
        self.assertEqual(echo.accepted, 1)
        cast = self.new_cast(before)
        self.wait_finished([cast])
        header, events = parse_cast(cast)
        self.assertEqual(header["gate"]["user"], "fwd")
        self.assertEqual(header["gate"]["command"], f"gate-forward 127.0.0.1 {echo.port}")
        self.assertEqual({e[1] for e in events} - {"c", "x"}, set())
        self.assertEqual(exit_of(events),
                         {"exit_status": 0, "forward": f"127.0.0.1:{echo.port}",
                          "bytes_in": len(payload), "bytes_out": len(payload)})
        # As a ProxyCommand, in place of ssh -W: an ssh through the node.
        hop = shlex.join([*self.ssh_argv(client=self.fwd), "gate-forward %h %p"])
        through = subprocess.run(["ssh", *self.ssh_options(self.fwd), "-o",
                                  f"ProxyCommand={hop}", "-p", str(self.node.port),
                                  f"{LOGIN}@127.0.0.1", "echo hopped-$((6*7))"],
                                 capture_output=True, text=True, stdin=subprocess.DEVNULL,
                                 timeout=60)
        self.assertEqual(through.returncode, 0, through.stderr)
        self.assertEqual(through.stdout, "hopped-42\n")

        self.upload()
        sid = os.path.basename(cast)[:-5]
        [start] = self.audit("session.start", sid)
        self.assertEqual(start[0], "fwd")
        self.assertIn(f'command "gate-forward 127.0.0.1 {echo.port}"', start[2])
        [end] = self.audit("session.end", sid)
        self.assertIn(f'"forward":"127.0.0.1:{echo.port}","bytes_in":{len(payload)},'
                      f'"bytes_out":{len(payload)}', end[2])

    def test_forwarding_without_a_granting_role_is_refused(self):
        self.forwarding_users()
        echo = EchoServer()
        self.addCleanup(echo.close)
        before = self.casts()
        proc = subprocess.run([*self.ssh_argv(client=self.nofwd),
                               f"gate-forward 127.0.0.1 {echo.port}"],
                              input=b"x", capture_output=True, timeout=60)
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(proc.stdout, b"")
        self.assertIn(f"gate-record: port forwarding to 127.0.0.1:{echo.port} refused: nofwd "
                      "may not forward ports on this node".encode(), proc.stderr)
        direct = subprocess.run(self.ssh_argv("-W", f"127.0.0.1:{echo.port}",
                                              client=self.nofwd),
                                input=b"x", capture_output=True, timeout=60)
        self.assertNotEqual(direct.returncode, 0)
        self.assertEqual(echo.accepted, 0)
        self.assertEqual(self.casts() - before, set())
        # A malformed forward is refused too, and never runs as a command.
        bad = subprocess.run([*self.ssh_argv(client=self.fwd), "gate-forward 127.0.0.1 22;id"],
                             input=b"", capture_output=True, timeout=60)
        self.assertEqual(bad.returncode, 1)
        self.assertNotIn(b"uid=", bad.stdout)

    def test_ssh_t_bash_records_its_input_and_output(self):
        before = self.casts()
        proc = subprocess.run([*self.ssh_argv("-T"), "bash"],
                              input="echo from-stdin-$((6*7))\nexit 3\n", capture_output=True,
                              text=True, timeout=60)
        self.assertEqual(proc.returncode, 3, proc.stderr)
        self.assertEqual(proc.stdout, "from-stdin-42\n")
        cast = self.new_cast(before)
        self.wait_finished([cast])
        header, events = parse_cast(cast)
        self.assertEqual(header["gate"]["mode"], "exec")
        self.assertEqual(header["gate"]["command"], "bash")
        self.assertEqual(input_of(events), "echo from-stdin-$((6*7))\nexit 3\n")
        self.assertEqual(output_of(events), "from-stdin-42\n")
        end = exit_of(events)
        self.assertEqual((end["exit_status"], end["bytes_in"], end["bytes_out"]), (3, 32, 14))

    def test_a_login_shell_without_a_terminal_is_recorded_too(self):
        before = self.casts()
        proc = subprocess.run(self.ssh_argv("-T"), input="echo shell-$((6*7))\n",
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("shell-42", proc.stdout)
        cast = self.new_cast(before)
        self.wait_finished([cast])
        _, events = parse_cast(cast)
        self.assertIn("echo shell-$((6*7))", input_of(events))
        self.assertIn("shell-42", output_of(events))

    def full_spool(self):
        return mount_full_spool(self, self.spool)

    def shown_and_recorded(self, fill, *ssh_args):
        """Runs a session that prints 400 kB of 'z' once the spool is full:
        (count of 'z' the client got, count in the recording, stderr)."""
        before = self.casts()
        script = "while [ ! -e /tmp/gate-xfer-go ]; do sleep 0.05; done; " \
                 "head -c 400000 /dev/zero | tr '\\0' z; echo; echo after-$((6*7))"
        if os.path.exists("/tmp/gate-xfer-go"):
            os.unlink("/tmp/gate-xfer-go")
        proc = subprocess.Popen([*self.ssh_argv(*ssh_args), script], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        try:
            deadline = time.time() + 30
            while not self.casts() - before and time.time() < deadline:
                time.sleep(0.05)
            cast = self.new_cast(before)
            time.sleep(0.5)  # the header and the first checkpoint are written
            fill()
            with open("/tmp/gate-xfer-go", "w"):
                pass
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            if os.path.exists("/tmp/gate-xfer-go"):
                os.unlink("/tmp/gate-xfer-go")
        _, events = parse_cast(cast)
        # gate-record's own message (on the terminal with -tt) names paths
        # that may hold a 'z': only the program's output counts.
        shown = re.sub(rb"gate-record:[^\n]*", b"", out).count(b"z")
        recorded = re.sub(r"gate-record:[^\n]*", "", output_of(events)).count("z")
        return shown, recorded, err.decode(errors="replace"), out

    def test_a_full_spool_shows_nothing_unrecorded(self):
        fill = self.full_spool()
        for args in (("-T",), ("-tt",)):
            shown, recorded, err, out = self.shown_and_recorded(fill, *args)
            self.assertLess(recorded, 400000, "the spool was not full")
            self.assertLessEqual(shown, recorded, (args, shown, recorded))
            self.assertNotIn(b"after-42", out)
            self.assertIn("gate-record: the recording failed", err + out.decode(errors="replace"))
            os.unlink(os.path.join(self.spool, "filler"))
            for name in self.casts():
                os.unlink(os.path.join(self.spool, name))


@unittest.skipUnless(IS_ROOT, "needs root: creates users, runs sshd and gate-node")
class SftpServerNodeTest(RecordedNodeMixin, GateTestCase):
    """sshd_config names the sftp-server program, as scripts/demo writes it."""

    SUBSYSTEM = SFTP_SERVER
    REC_USER = "gtrecxs"


if __name__ == "__main__":
    unittest.main()
