"""gate-ca's two processes, as root (docs/security.md, "Processes"): the
network front end runs as `gate` and cannot read the CA keys, holds none in
its memory, and the signer holding them runs with no capabilities, is not
dumpable, runs under its system call filter, and takes the front end down
with it."""
import os
import pwd
import shutil
import signal
import tempfile
import unittest

from harness import GateCA, IS_ROOT, run

try:
    from cryptography.hazmat.primitives import serialization
except ImportError:  # python3-cryptography
    serialization = None


def status_fields(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def children(pid):
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(p) for p in f.read().split()]


def seed_of(key_path):
    """The 32-byte Ed25519 seed of an OpenSSH private key file."""
    with open(key_path, "rb") as f:
        key = serialization.load_ssh_private_key(f.read(), password=None)
    return key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                             serialization.NoEncryption())


def memory_holds(pid, needle):
    """Whether any readable mapping of pid holds needle (read as root, which
    may read even a process that is not dumpable)."""
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
        for line in maps:
            fields = line.split()
            start, end = (int(x, 16) for x in fields[0].split("-"))
            if not fields[1].startswith("r") or (len(fields) > 5 and fields[5] == "[vvar]"):
                continue
            try:
                mem.seek(start)
                if needle in mem.read(end - start):
                    return True
            except (OSError, ValueError, OverflowError):
                continue
    return False


@unittest.skipUnless(IS_ROOT, "needs root: gate-ca drops to gate and gate-signer only as root")
class PrivilegeSeparationTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="gate-it-")
        cls.ca = GateCA(cls.workdir).start()
        cls.front_end = cls.ca.proc.pid
        kids = children(cls.front_end)
        assert len(kids) == 1, kids
        cls.signer = kids[0]
        cls.key = os.path.join(cls.ca.data_dir, "ca", "user_ca")

    @classmethod
    def tearDownClass(cls):
        cls.ca.stop()
        shutil.rmtree(cls.workdir, ignore_errors=True)

    def test_front_end_runs_as_gate_and_cannot_open_the_keys(self):
        gate = pwd.getpwnam("gate")
        status = status_fields(self.front_end)
        self.assertEqual(status["Uid"].split(), [str(gate.pw_uid)] * 4)
        self.assertEqual(status["Gid"].split(), [str(gate.pw_gid)] * 4)
        self.assertEqual(status["Groups"], "")
        self.assertEqual(int(status["CapEff"], 16), 0)
        self.assertEqual(int(status["CapPrm"], 16), 0)
        self.assertEqual(status["NoNewPrivs"], "1")
        # Not dumpable: the kernel gives its /proc files to root.
        self.assertEqual(os.stat(f"/proc/{self.front_end}/status").st_uid, 0)
        # What the front end's credentials get when they try (setpriv runs
        # `cat` with exactly them: uid and gid gate, no groups, no capability).
        proc = run(["setpriv", f"--reuid={gate.pw_uid}", f"--regid={gate.pw_gid}",
                    "--clear-groups", "--inh-caps=-all", "--bounding-set=-all",
                    "cat", self.key])
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("Permission denied", proc.stderr)
        st = os.stat(os.path.dirname(self.key))
        self.assertEqual((st.st_uid, st.st_mode & 0o777), (0, 0o700))

    def test_front_end_has_no_key_file_open_mapped_or_in_memory(self):
        ca_dir = os.path.join(self.ca.data_dir, "ca")
        with open(f"/proc/{self.front_end}/maps") as f:
            self.assertNotIn(ca_dir, f.read())
        for fd in os.listdir(f"/proc/{self.front_end}/fd"):
            try:
                target = os.readlink(f"/proc/{self.front_end}/fd/{fd}")
            except OSError:
                continue
            self.assertFalse(target.startswith(ca_dir), target)

    @unittest.skipUnless(serialization, "needs python3-cryptography to read the key")
    def test_only_the_signer_holds_the_private_keys(self):
        for name in ("user_ca", "host_ca"):
            seed = seed_of(os.path.join(self.ca.data_dir, "ca", name))
            # The scan finds the key where it is, so its silence below means something.
            self.assertTrue(memory_holds(self.signer, seed), name)
            self.assertFalse(memory_holds(self.front_end, seed), name)

    def test_signer_has_no_capabilities_and_is_not_dumpable(self):
        signer_user = pwd.getpwnam("gate-signer")
        status = status_fields(self.signer)
        self.assertEqual(status["Name"], "gate-ca-signer")
        self.assertEqual(status["Uid"].split(), [str(signer_user.pw_uid)] * 4)
        for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
            self.assertEqual(int(status[cap], 16), 0, cap)
        self.assertEqual(status["NoNewPrivs"], "1")
        self.assertEqual(os.stat(f"/proc/{self.signer}/status").st_uid, 0)  # not dumpable
        # Its system call allow-list (seccomp filter mode), and only the one.
        self.assertEqual(status["Seccomp"], "2")
        self.assertEqual(status["Seccomp_filters"], "1")
        with open(f"/proc/{self.signer}/limits") as f:
            limits = f.read()
        self.assertRegex(limits, r"Max core file size\s+0\s+0")
        self.assertRegex(limits, r"Max processes\s+0\s+0")
        # OpenSSL's secure heap, where the keys live: locked, left out of dumps.
        with open(f"/proc/{self.signer}/smaps") as f:
            flags = [l.split()[1:] for l in f if l.startswith("VmFlags:")]
        self.assertTrue([f for f in flags if "dd" in f and "lo" in f], flags)
        # It keeps no key file open either: the keys are in its memory only.
        for fd in os.listdir(f"/proc/{self.signer}/fd"):
            try:
                target = os.readlink(f"/proc/{self.signer}/fd/{fd}")
            except OSError:
                continue
            self.assertNotIn(os.path.join(self.ca.data_dir, "ca"), target)


@unittest.skipUnless(IS_ROOT, "needs root: gate-ca drops to gate and gate-signer only as root")
class SignerLifecycleTest(unittest.TestCase):

    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="gate-it-")

    def tearDown(self):
        shutil.rmtree(self.workdir, ignore_errors=True)

    def test_killing_the_signer_stops_gate_ca(self):
        ca = GateCA(self.workdir).start()
        try:
            self.assertEqual(ca.request("GET", "/v1/ping")[0], 200)
            signer = children(ca.proc.pid)[0]
            os.kill(signer, signal.SIGKILL)
            rc = ca.proc.wait(timeout=15)
            self.assertEqual(rc, 1)  # a failure: systemd restarts both
        finally:
            ca.stop()
        with open(os.path.join(self.workdir, "gate-ca.log")) as f:
            self.assertIn("signer process stopped", f.read())

    @unittest.skipUnless(shutil.which("gdb"), "needs gdb to make the signer call socket()")
    def test_a_forbidden_system_call_stops_gate_ca_with_a_clear_message(self):
        ca = GateCA(self.workdir).start()
        try:
            signer = children(ca.proc.pid)[0]
            # Code running in the signer (gdb, as root, stands in for an
            # exploit) asks for a network socket.
            run(["gdb", "-p", str(signer), "-batch", "-nx",
                 "-ex", "handle SIGSYS nostop noprint pass",
                 "-ex", "call (int)socket(2, 1, 0)"], timeout=120)
            rc = ca.proc.wait(timeout=15)
            self.assertEqual(rc, 1)  # a failure: systemd restarts both
        finally:
            ca.stop()
        with open(os.path.join(self.workdir, "gate-ca.log")) as f:
            log = f.read()
        self.assertIn("gate-ca: signer: forbidden system call socket (41); the signer stops", log)
        self.assertIn("the signer process stopped (exit status 159)", log)

    def test_ca_dir_not_owned_by_root_is_refused_with_the_fix(self):
        ca = GateCA(self.workdir).start()
        self.assertEqual(ca.request("GET", "/v1/ping")[0], 200)  # serving: SIGTERM is handled
        self.assertEqual(ca.stop()[0], 0)
        ca_dir = os.path.join(ca.data_dir, "ca")
        gate = pwd.getpwnam("gate")
        os.chown(ca_dir, gate.pw_uid, gate.pw_gid)
        rc, out = GateCA(self.workdir).start(expect_fail=True)
        self.assertEqual(rc, 1)
        self.assertIn(f"{ca_dir} is owned by uid {gate.pw_uid}, expected uid 0", out)
        self.assertIn(f"chown -R root:root {ca_dir}", out)
        # The fix it names works.
        run(["chown", "-R", "root:root", ca_dir], check=True)
        ca = GateCA(self.workdir).start()
        self.assertEqual(ca.request("GET", "/v1/ping")[0], 200)
        self.assertEqual(ca.stop()[0], 0)

    def test_a_root_owned_data_dir_is_handed_to_gate_except_ca(self):
        data = os.path.join(self.workdir, "data")
        os.makedirs(os.path.join(data, "recordings", "node"), mode=0o700)
        for d in (data, os.path.join(data, "recordings")):
            os.chmod(d, 0o700)
        with open(os.path.join(data, "recordings", "node", "old.cast"), "w") as f:
            f.write("{}\n")
        ca = GateCA(self.workdir).start()
        self.assertEqual(ca.request("GET", "/v1/ping")[0], 200)
        self.assertEqual(ca.stop()[0], 0)
        gate = pwd.getpwnam("gate")
        for path in ("", "gate.db", "recordings", "recordings/node", "recordings/node/old.cast",
                     "tls/server.key"):
            self.assertEqual(os.stat(os.path.join(data, path)).st_uid, gate.pw_uid, path)
        for path in ("ca", "ca/user_ca", "ca/host_ca"):
            self.assertEqual(os.stat(os.path.join(data, path)).st_uid, 0, path)


if __name__ == "__main__":
    unittest.main()
