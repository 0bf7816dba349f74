"""Every unit file passes `systemd-analyze verify` (paths pointed at the build)."""
import glob
import os
import re
import shutil
import tempfile
import unittest

from harness import binary, run

UNIT_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "systemd")


@unittest.skipUnless(shutil.which("systemd-analyze"), "systemd-analyze not installed")
class UnitFilesTest(unittest.TestCase):

    def test_units_verify(self):
        units = sorted(glob.glob(os.path.join(UNIT_DIR, "*.service")) +
                       glob.glob(os.path.join(UNIT_DIR, "*.timer")) +
                       glob.glob(os.path.join(UNIT_DIR, "*.socket")) +
                       glob.glob(os.path.join(UNIT_DIR, "*.path")))
        self.assertTrue(units)
        with tempfile.TemporaryDirectory() as tmp:
            for unit in units:
                with open(unit) as f:
                    text = f.read()
                # verify checks that ExecStart exists: use the binaries just built.
                text = re.sub(r"/usr/s?bin/(gate[\w-]*)", lambda m: binary(m.group(1)), text)
                with open(os.path.join(tmp, os.path.basename(unit)), "w") as f:
                    f.write(text)
            names = [os.path.join(tmp, os.path.basename(u)) for u in units]
            proc = run(["systemd-analyze", "verify", "--man=no", *names])
            problems = [l for l in (proc.stdout + proc.stderr).splitlines()
                        if os.path.basename(tmp) in l or "gate" in l]
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
            self.assertEqual(problems, [], "\n".join(problems))

    def test_gate_ca_unit_is_hardened(self):
        lines = self.hardened_unit_lines(
            "gate-ca.service",
            "/usr/sbin/gate-ca start --config /etc/gate/gate.yaml --data-dir /var/lib/gate")
        # Root only for the start-up (gate-ca drops to gate and gate-signer
        # itself), with only the capabilities that takes, and no core files.
        self.assertEqual(self.settings(lines, "CapabilityBoundingSet"),
                         ["CapabilityBoundingSet=CAP_CHOWN CAP_DAC_OVERRIDE CAP_SETUID CAP_SETGID"])
        self.assertEqual(self.settings(lines, "AmbientCapabilities"), ["AmbientCapabilities="])
        self.assertIn("LimitCORE=0", lines)
        self.assertEqual(self.settings(lines, "ReadWritePaths"), ["ReadWritePaths=/var/lib/gate"])
        # systemd would hand a StateDirectory back to root at every start.
        self.assertEqual(self.settings(lines, "StateDirectory"), [])
        with open(os.path.join(UNIT_DIR, "gate.sysusers.conf")) as f:
            users = [l.split()[1] for l in f if l.startswith("u ")]
        self.assertIn("gate", users)
        self.assertIn("gate-signer", users)
        with open(os.path.join(UNIT_DIR, "gate-tmpfiles.conf")) as f:
            self.assertIn("d /var/lib/gate 0700 gate gate -", " ".join(f.read().split()))

    def hardened_unit_lines(self, unit, exec_start):
        """The unit's lines, after checking what every gate service run as
        root must have: no new privileges, a read-only system, no home, a
        private /tmp, the service syscall set, IP and Unix sockets only, a
        private umask, and no User= (root)."""
        with open(os.path.join(UNIT_DIR, unit)) as f:
            lines = f.read().splitlines()
        for line in ("NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes",
                     "PrivateTmp=yes", "SystemCallFilter=@system-service",
                     "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX", "UMask=0077",
                     "ExecStart=" + exec_start):
            self.assertIn(line, lines, unit)
        self.assertFalse([l for l in lines if l.startswith("User=")], unit)
        # Each holds a secret (a CA key or the node secret): no core files.
        self.assertIn("LimitCORE=0", lines, unit)
        return lines

    @staticmethod
    def settings(lines, key):
        return [l for l in lines if l.startswith(key + "=")]

    def test_node_sync_units_are_hardened_alike(self):
        timer_run = self.hardened_unit_lines(
            "gate-node-sync.service", "/usr/sbin/gate-node sync --sshd-pidfile /run/sshd.pid")
        kept_open = self.hardened_unit_lines(
            "gate-node-syncd.service",
            "/usr/sbin/gate-node sync --every 30s --sshd-pidfile /run/sshd.pid")
        # The long-running sync does the timer's job: the same sandbox, and
        # never both at once.
        for key in ("CapabilityBoundingSet", "AmbientCapabilities", "ReadWritePaths",
                    "ConditionPathExists", "MemoryDenyWriteExecute", "PrivateDevices"):
            self.assertEqual(self.settings(kept_open, key), self.settings(timer_run, key), key)
        self.assertEqual(self.settings(kept_open, "Conflicts"),
                         ["Conflicts=gate-node-sync.timer gate-node-sync.service"])

    def test_gate_upload_unit_is_hardened(self):
        lines = self.hardened_unit_lines(
            "gate-upload.service", "/usr/sbin/gate-node upload --spool /var/spool/gate/sessions "
            "--data-dir /var/lib/gate-node")
        # Only the capability that reading and deleting gate-rec's files
        # takes, and only the spool writable.
        self.assertEqual(self.settings(lines, "CapabilityBoundingSet"),
                         ["CapabilityBoundingSet=CAP_DAC_OVERRIDE"])
        self.assertEqual(self.settings(lines, "ReadWritePaths"),
                         ["ReadWritePaths=-/var/spool/gate/sessions"])

    def test_gate_node_sync_unit_is_hardened(self):
        lines = self.hardened_unit_lines(
            "gate-node-sync.service", "/usr/sbin/gate-node sync --sshd-pidfile /run/sshd.pid")
        # Signalling sshd, and giving the policy cache its group (gate-cache):
        # root needs CAP_CHOWN to chgrp to a group it is not in. Ending the
        # sessions a lock covers: reading other users' /proc/PID/environ
        # (CAP_SYS_PTRACE) and their SSH_USER_AUTH files (CAP_DAC_READ_SEARCH),
        # signalling their processes (CAP_KILL).
        self.assertEqual(self.settings(lines, "CapabilityBoundingSet"),
                         ["CapabilityBoundingSet=CAP_KILL CAP_CHOWN CAP_SYS_PTRACE "
                          "CAP_DAC_READ_SEARCH"])
        with open(os.path.join(UNIT_DIR, "gate.sysusers.conf")) as f:
            sysusers = [" ".join(l.split()[:3]) for l in f if l[:2] in ("g ", "m ", "u ")]
        for entry in ("g gate-cache -", "m gate-principals gate-cache"):
            self.assertIn(entry, sysusers)

    def test_otp_relay_units_are_hardened(self):
        lines = self.hardened_unit_lines(
            "gate-otp-relay.service", "/usr/sbin/gate-node otp-relay --data-dir /var/lib/gate-node")
        # Root for its own node.json, with no capability at all, writing nothing.
        self.assertEqual(self.settings(lines, "CapabilityBoundingSet"), ["CapabilityBoundingSet="])
        self.assertEqual(self.settings(lines, "ReadWritePaths"), [])
        with open(os.path.join(UNIT_DIR, "gate-otp-relay.socket")) as f:
            socket = f.read().splitlines()
        for line in ("ListenStream=/run/gate/otp-relay.sock", "SocketUser=root",
                     "SocketMode=0600"):
            self.assertIn(line, socket)
    def test_sessions_prune_unit_runs_as_gate_without_network(self):
        with open(os.path.join(UNIT_DIR, "gate-sessions-prune.service")) as f:
            lines = f.read().splitlines()
        for line in ("User=gate", "NoNewPrivileges=yes", "CapabilityBoundingSet=",
                     "ProtectSystem=strict", "PrivateNetwork=yes",
                     "RestrictAddressFamilies=AF_UNIX",
                     "ExecStart=/usr/sbin/gatectl sessions prune --older-than 90d "
                     "--data-dir /var/lib/gate"):
            self.assertIn(line, lines)
        self.assertEqual(self.settings(lines, "ReadWritePaths"), [])


if __name__ == "__main__":
    unittest.main()
