"""Central collection end to end: recordings in a joined node's spool are
shipped by the real `gate-node upload` to a real gate-ca, listed with
`gate sessions`, fetched with `gate play ID`; live recordings are streamed
and kept; with gate-ca down nothing is deleted and, after it comes back,
everything arrives exactly once.

Recordings are written by tests/tools/gate-test-cast with the recorder's own
writer (cast::Writer) and lock discipline (LOCK_SH while writing), signed by a
recorder key registered for the node through PUT /v1/nodes/recorder-key."""
import http.client
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import time
import unittest
import uuid

from harness import (BIN_DIR, IS_ROOT, Client, GateTestCase, Node, TestRecorder, binary,
                     ensure_os_user, run)
from test_nodes import node_token


def cast_tool():
    return os.path.join(BIN_DIR, "tests", "tools", "gate-test-cast")


def node_request(ca, bearer, method, path, body):
    """A JSON request with a node's credentials, as gate-node makes them."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    conn = http.client.HTTPSConnection("127.0.0.1", ca.port, context=ctx, timeout=10)
    conn.request(method, path, body=json.dumps(body),
                 headers={"Content-Type": "application/json", "Authorization": bearer})
    resp = conn.getresponse()
    text = resp.read().decode()
    conn.close()
    return resp.status, text


def register_recorder_key(ca, node_dir, public_key_file):
    """What `gate-node record on` does last: PUT /v1/nodes/recorder-key.
    Returns the node's host UUID and bearer credential."""
    with open(os.path.join(node_dir, "node.json")) as f:
        state = json.load(f)
    bearer = f"Bearer {state['host_uuid']}.{state['node_secret']}"
    with open(public_key_file) as f:
        status, body = node_request(ca, bearer, "PUT", "/v1/nodes/recorder-key",
                                    {"public_key": f.read().strip()})
    if status != 200:
        raise AssertionError(f"recorder key: {status} {body}")
    return state["host_uuid"], bearer


@unittest.skipUnless(IS_ROOT, "needs root: joins a node (sshd, /etc-like paths) and owns a spool")
class UploadTest(GateTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ca = cls.ca
        ca.gatectl("roles", "add", "watchers", "--node-labels", "env=rec", "--join-sessions",
                   check=True)
        cls.node = Node(cls.workdir).start()
        token, _ = node_token(ca, "env=rec")
        joined = cls.node.join(ca, token, "--principals", "127.0.0.1")
        if joined.returncode != 0:
            raise AssertionError("join failed: " + joined.stdout + joined.stderr)
        cls.key = os.path.join(cls.workdir, "recorder.key")
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", cls.key], check=True)
        cls.host_uuid, cls.bearer = register_recorder_key(ca, cls.node.data_dir,
                                                          cls.key + ".pub")

        cls.spool = os.path.join(cls.workdir, "spool")
        os.makedirs(cls.spool, mode=0o700)
        os.chmod(cls.spool, 0o700)
        cls.alice = cls.user("alice")
        cls.bob = cls.user("bob", "watchers")
        cls.carol = cls.user("carol")

    @classmethod
    def tearDownClass(cls):
        cls.node.stop()
        super().tearDownClass()

    @classmethod
    def user(cls, name, roles=None):
        return cls.logged_in_user(name, "root", roles=roles)

    # --- helpers ---

    def path(self, sid):
        return os.path.join(self.spool, sid + ".cast")

    def write(self, user="alice", *extra, node=None):
        sid = str(uuid.uuid4())
        proc = run([cast_tool(), "--out", self.path(sid), "--key", self.key, "--id", sid,
                    "--node", node or self.host_uuid, "--node-name", "node1", "--user", user,
                    *extra])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return sid

    def read(self, sid):
        with open(self.path(sid), "rb") as f:
            return f.read()

    def held_by_ca(self, sid):
        path = os.path.join(self.ca.data_dir, "recordings", sid + ".cast")
        with open(path, "rb") as f:
            return f.read()

    def upload(self, *extra, check=True):
        proc = run([binary("gate-node"), "upload", "--once", "--spool", self.spool, "--data-dir",
                    self.node.data_dir, *extra], timeout=120)
        if check:
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        return proc

    def sessions(self, client, *args):
        proc = client.gate("sessions", *args)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        rows = {}
        for line in proc.stdout.splitlines()[1:]:
            cols = line.split()
            rows[cols[0]] = line
        return rows

    def audit(self, event, detail_contains):
        return self.ca.audit_rows(event, detail_contains)

    # --- tests ---

    def test_retention_prunes_only_what_is_old_enough(self):
        old = self.write("alice")
        self.upload()
        held = os.path.join(self.ca.data_dir, "recordings", old + ".cast")
        self.assertTrue(os.path.exists(held))
        time.sleep(2.1)  # completed_at and the cutoff are whole seconds
        dry = self.ca.gatectl("sessions", "prune", "--older-than", "1s", "--dry-run", check=True)
        self.assertIn(old, dry.stdout)
        self.assertIn("would remove", dry.stdout)
        self.assertTrue(os.path.exists(held))
        self.assertIn(old, self.sessions(self.alice))

        pruned = self.ca.gatectl("sessions", "prune", "--older-than", "1s", check=True)
        self.assertIn(old, pruned.stdout)
        self.assertRegex(pruned.stdout, r"removed [1-9]\d* recordings")
        self.assertFalse(os.path.exists(held))
        self.assertNotIn(old, self.sessions(self.alice))
        self.assertTrue(self.audit("session.delete", old))

        # Younger than the cutoff: stays.
        new = self.write("alice")
        self.upload()
        kept = self.ca.gatectl("sessions", "prune", "--older-than", "1h", check=True)
        self.assertNotIn(new, kept.stdout)
        self.assertIn(new, self.sessions(self.alice))
        for bad in ([], ["--older-than", "0d"], ["--older-than", "soon"]):
            proc = self.ca.gatectl("sessions", "prune", *bad)
            self.assertNotEqual(proc.returncode, 0, bad)

    def test_finished_recordings_arrive_listed_audited_and_playable(self):
        one = self.write("alice", "--join", "bob")
        two = self.write("carol")
        sent = {one: self.read(one), two: self.read(two)}
        proc = self.upload()
        self.assertIn("2 completed and removed", proc.stdout)
        for sid, data in sent.items():
            self.assertFalse(os.path.exists(self.path(sid)))
            self.assertEqual(self.held_by_ca(sid), data)

        mine = self.sessions(self.alice)
        self.assertIn(one, mine)
        self.assertNotIn(two, mine)
        # NODE is the name the node joined with, not what the recording says.
        self.assertRegex(mine[one], r"alice\s+root\s+" + re.escape(socket.gethostname()) +
                         r"\s+\S+ \S+\s+\S+\s+ended$")
        self.assertIn(one, self.sessions(self.bob))     # watchers may join sessions on env=rec
        self.assertIn(two, self.sessions(self.bob))
        self.assertNotIn(one, self.sessions(self.carol))
        self.assertIn(two, self.sessions(self.carol))
        self.assertEqual(list(self.sessions(self.bob, "--user", "carol")), [two])
        # One session per page: each page but the last names the cursor of
        # the next; following them lists every session once.
        listed, cursor = [], []
        for _ in range(20):
            page = self.bob.gate("sessions", "--limit", "1", *cursor)
            self.assertEqual(page.returncode, 0, page.stderr)
            listed += [line.split()[0] for line in page.stdout.splitlines()[1:]]
            more = re.search(r"add --before (\S+) for the next page", page.stderr)
            if not more:
                break
            cursor = ["--before", more.group(1)]
        self.assertEqual(len(listed), len(set(listed)))
        self.assertEqual(set(listed), set(self.sessions(self.bob)))
        self.assertTrue({one, two} <= set(listed))

        self.assertEqual(len(self.audit("session.start", one)), 1)
        end = self.audit("session.end", one)
        self.assertEqual(len(end), 1)
        self.assertIn("verified", end[0][2])
        self.assertNotIn("NOT verified", end[0][2])
        joins = self.audit("session.join", one)
        self.assertEqual([(r[0], r[1]) for r in joins], [("bob", 1)])
        self.assertEqual(len(self.audit("session.leave", one)), 1)

        played = self.bob.gate("play", one, "--speed", "100")
        self.assertEqual(played.returncode, 0, played.stderr)
        self.assertIn("first line 0", played.stdout)
        self.assertIn("gate-ca: verified (complete)", played.stderr)
        self.assertEqual(len(self.audit("session.play", one)), 1)
        refused = self.carol.gate("play", one)
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn("not found", refused.stderr)

    def test_a_large_recording_travels_in_1_mib_chunks(self):
        sid = self.write("alice", "--outputs", "20000")
        data = self.read(sid)
        self.assertGreater(len(data), 1 << 20)
        proc = self.upload()
        self.assertIn(f"{len(data)} bytes sent", proc.stdout)
        self.assertEqual(self.held_by_ca(sid), data)
        # Only a joined node may send a body over 64 KiB, and at most 1 MiB.
        target = f"/v1/nodes/sessions/{uuid.uuid4()}?offset=0"
        status, _, _ = self.ca.request("PUT", target, raw=b"x" * (65 * 1024),
                                       content_type="application/octet-stream")
        self.assertEqual(status, 413)
        status, _ = self.put_chunk(target, b"x" * ((1 << 20) + 1))
        self.assertEqual(status, 413)
        status, body = self.put_chunk(target, b"not a header\n" * 6000)
        self.assertEqual(status, 400, body)  # past the transport, refused on content

    def put_chunk(self, target, data):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection("127.0.0.1", self.ca.port, context=ctx, timeout=30)
        try:
            conn.request("PUT", target, body=data,
                         headers={"Content-Type": "application/octet-stream",
                                  "Authorization": self.bearer})
            resp = conn.getresponse()
            return resp.status, resp.read().decode(errors="replace")
        finally:
            conn.close()

    def test_live_recording_is_streamed_and_kept_until_it_ends(self):
        sid = str(uuid.uuid4())
        writer = subprocess.Popen(
            [cast_tool(), "--out", self.path(sid), "--key", self.key, "--id", sid, "--node",
             self.host_uuid, "--user", "alice", "--live"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            self.assertEqual(writer.stdout.readline().strip(), "ready")
            so_far = self.read(sid)
            self.upload()
            self.assertTrue(os.path.exists(self.path(sid)))  # live: never deleted
            self.assertEqual(self.held_by_ca(sid), so_far)
            live = self.sessions(self.alice, "--live")
            self.assertIn(sid, live)
            self.assertTrue(live[sid].endswith(" live"), live[sid])
            played = self.alice.gate("play", sid, "--speed", "100")
            self.assertEqual(played.returncode, 0, played.stderr)
            self.assertIn("still being recorded", played.stderr)
            self.upload()  # nothing new: nothing changes
            self.assertTrue(os.path.exists(self.path(sid)))
        finally:
            writer.communicate("finish\n", timeout=30)
        self.assertEqual(writer.returncode, 0)
        whole = self.read(sid)
        self.assertGreater(len(whole), len(so_far))
        self.upload()
        self.assertFalse(os.path.exists(self.path(sid)))
        self.assertEqual(self.held_by_ca(sid), whole)
        self.assertNotIn(sid, self.sessions(self.alice, "--live"))
        self.assertTrue(self.sessions(self.alice)[sid].endswith(" ended"))
        self.assertEqual(len(self.audit("session.start", sid)), 1)

    def test_cut_short_recording_is_shipped_after_the_grace_period(self):
        sid = self.write("alice", "--cut-short")
        self.upload()  # fresh and unlocked: not taken for finished yet
        self.assertTrue(os.path.exists(self.path(sid)))
        self.upload("--grace", "0")
        self.assertFalse(os.path.exists(self.path(sid)))
        end = self.audit("session.end", sid)
        self.assertEqual(len(end), 1)
        self.assertIn(" verified", end[0][2])
        self.assertTrue(self.sessions(self.alice)[sid].endswith(" ended"))

    def test_a_recording_of_another_node_is_refused_and_kept(self):
        sid = self.write("alice", node=str(uuid.uuid4()))
        proc = self.upload(check=False)
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        self.assertIn(sid, proc.stderr)
        self.assertIn("another node", proc.stderr)
        self.assertTrue(os.path.exists(self.path(sid)))
        self.assertNotIn(sid, self.sessions(self.alice))
        self.assertEqual(len(self.audit("session.upload", sid)), 1)
        os.unlink(self.path(sid))

    def test_user_requests_need_a_signed_certificate(self):
        status, body, _ = self.ca.request("GET", "/v1/sessions")
        self.assertEqual(status, 401)
        self.assertEqual(body["error"]["code"], "unauthenticated")
        bad = self.alice.gate("sessions", "--since", "last tuesday")
        self.assertEqual(bad.returncode, 2, bad.stderr)
        self.assertIn("--since", bad.stderr)
        for since in ("1h", "2020-01-01", "2020-01-01T10:00:00", "1577872800"):
            self.assertEqual(self.alice.gate("sessions", "--since", since).returncode, 0, since)
        nobody = Client(self.workdir, self.ca, "nobody")
        proc = nobody.gate("sessions")
        self.assertEqual(proc.returncode, 5, proc.stderr)
        self.assertIn("not logged in", proc.stderr)

    def test_full_disk_at_gate_ca_keeps_the_recording_on_the_node(self):
        """gate-ca's recordings on a full tmpfs: the chunk is refused with 507
        (not 429: the node is not too fast), the node keeps its copy, and
        once there is room the next pass ships it whole, exactly once."""
        recordings = os.path.join(self.ca.data_dir, "recordings")
        st = os.stat(recordings)
        self.ca.stop()
        mounted = False
        try:
            subprocess.run(["mount", "-t", "tmpfs", "-o",
                            f"size=128k,mode=0700,uid={st.st_uid},gid={st.st_gid}", "tmpfs",
                            recordings], check=True)
            mounted = True
            self.ca.start()
            filler = os.path.join(recordings, "filler")
            with open(filler, "wb", buffering=0) as f:
                try:
                    while True:
                        f.write(b"\0" * 4096)
                except OSError:
                    pass
            sid = self.write("alice")
            data = self.read(sid)
            proc = self.upload(check=False)
            self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
            self.assertIn(f"gate-ca cannot store session {sid}: No space left on device",
                          proc.stderr)
            self.assertEqual(self.read(sid), data)
            self.assertIn(f"PUT /v1/nodes/sessions/{{id}} 507", self.ca_log())
            held = os.path.join(recordings, sid + ".cast")
            self.assertFalse(os.path.exists(held) and os.path.getsize(held) > 0)

            os.unlink(filler)
            proc = self.upload()
            self.assertIn("1 completed and removed", proc.stdout)
            self.assertFalse(os.path.exists(self.path(sid)))
            self.assertEqual(self.held_by_ca(sid), data)
            self.assertEqual(len(self.audit("session.start", sid)), 1)
        finally:
            self.ca.stop()
            if mounted:
                subprocess.run(["umount", recordings], check=False)
            self.ca.start()

    def ca_log(self):
        with open(os.path.join(self.workdir, "gate-ca.log")) as f:
            return f.read()

    def test_gate_ca_down_loses_nothing_and_everything_arrives_once(self):
        ids = [self.write("alice"), self.write("alice", "--join", "bob")]
        sent = {sid: self.read(sid) for sid in ids}
        self.ca.stop()
        restarted = False
        daemon = None
        try:
            proc = self.upload(check=False)
            self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
            self.assertIn("cannot reach", proc.stderr)
            for sid in ids:
                self.assertTrue(os.path.exists(self.path(sid)))
            # The service: keeps trying with backoff while gate-ca is away.
            log = open(os.path.join(self.workdir, "upload-daemon.log"), "w+")
            daemon = subprocess.Popen(
                [binary("gate-node"), "upload", "--spool", self.spool, "--data-dir",
                 self.node.data_dir], stdout=log, stderr=subprocess.STDOUT)
            time.sleep(3)
            for sid in ids:
                self.assertTrue(os.path.exists(self.path(sid)))
            self.ca.start()
            restarted = True
            deadline = time.time() + 90
            while time.time() < deadline and any(os.path.exists(self.path(s)) for s in ids):
                time.sleep(0.5)
            for sid in ids:
                self.assertFalse(os.path.exists(self.path(sid)), f"{sid} was not shipped")
        finally:
            if not restarted:
                self.ca.start()
            if daemon is not None:
                daemon.send_signal(signal.SIGTERM)
                self.assertEqual(daemon.wait(timeout=30), 0)
                log.seek(0)
                output = log.read()
                log.close()
                self.assertIn("next try in", output)
        for sid in ids:
            self.assertEqual(self.held_by_ca(sid), sent[sid])
            self.assertEqual(len(self.audit("session.start", sid)), 1)
            self.assertEqual(len(self.audit("session.end", sid)), 1)
        self.assertEqual(len(self.audit("session.join", ids[1])), 1)
        listed = self.sessions(self.alice)
        for sid in ids:
            self.assertIn(sid, listed)


def have_recorder():
    try:
        binary("gate-record")
        return True
    except FileNotFoundError:
        return False


@unittest.skipUnless(IS_ROOT and have_recorder(),
                     "needs root (OS users, setuid install, sshd) and a built gate-record")
class RealRecorderUploadTest(GateTestCase):
    """A session recorded by the real gate-record (the ForceCommand of a
    joined node's sshd) travels to gate-ca and plays back from there."""

    LOGIN = "gtupload"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ensure_os_user(cls.LOGIN)
        rec = TestRecorder(cls.workdir, "upload-recorder")
        cls.spool = rec.spool
        key = rec.key

        cls.node = Node(cls.workdir, "uploadnode")
        with open(cls.node.config, "a") as f:
            f.write(rec.force_command())
        cls.node.start()
        token, _ = node_token(cls.ca)
        joined = cls.node.join(cls.ca, token, "--principals", "127.0.0.1")
        if joined.returncode != 0:
            raise AssertionError("join failed: " + joined.stdout + joined.stderr)
        rec.write_config(cls.ca, cls.node, "uploadnode")
        register_recorder_key(cls.ca, cls.node.data_dir, key + ".pub")

        cls.client = cls.logged_in_user("ursula", cls.LOGIN)
        synced = cls.node.sync()
        assert synced.returncode == 0, synced.stderr

    @classmethod
    def tearDownClass(cls):
        cls.node.stop()
        super().tearDownClass()

    def test_a_real_recorded_session_arrives_verified_and_plays(self):
        kh = os.path.join(self.client.env["GATE_HOME"], "known_hosts")
        ssh = run(["ssh", "-F", "/dev/null", "-tt", "-p", str(self.node.port), "-o",
                   "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o",
                   f"IdentityFile={self.client.key}", "-o", f"CertificateFile={self.client.cert}",
                   "-o", f"UserKnownHostsFile={kh}", "-o", "StrictHostKeyChecking=yes",
                   f"{self.LOGIN}@127.0.0.1", "echo uploaded-$((40+2))"], timeout=60)
        self.assertEqual(ssh.returncode, 0, ssh.stdout + ssh.stderr)
        self.assertIn("uploaded-42", ssh.stdout)
        casts = [n for n in os.listdir(self.spool) if n.endswith(".cast")]
        self.assertEqual(len(casts), 1, casts)
        sid = casts[0][:-5]
        # The recorder is gone once ssh returns, but give its last write a moment.
        deadline = time.time() + 10
        proc = None
        while time.time() < deadline:
            proc = run([binary("gate-node"), "upload", "--once", "--spool", self.spool,
                        "--data-dir", self.node.data_dir], timeout=120)
            if not os.path.exists(os.path.join(self.spool, casts[0])):
                break
            time.sleep(0.5)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.spool, casts[0])), proc.stderr)
        self.assertIn("verified (complete)", proc.stderr)

        listed = self.client.gate("sessions")
        self.assertEqual(listed.returncode, 0, listed.stderr)
        row = [l for l in listed.stdout.splitlines() if l.startswith(sid)]
        self.assertEqual(len(row), 1, listed.stdout)
        self.assertRegex(row[0], r"ursula\s+" + self.LOGIN + r"\s+.*\bended$")
        played = self.client.gate("play", sid, "--speed", "100")
        self.assertEqual(played.returncode, 0, played.stderr)
        self.assertIn("uploaded-42", played.stdout)
        self.assertIn("gate-ca: verified (complete)", played.stderr)


if __name__ == "__main__":
    unittest.main()
