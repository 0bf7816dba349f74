"""gate-ca on a full disk: gatectl reports gate-ca's own error (the database
cannot be written), not "cannot reach gate-ca ... are you root?", and gate-ca
answers instead of dropping the connection; once there is room again the
same command works. The data dir is a small tmpfs, filled up by the test."""
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import IS_ROOT, GateCA


@unittest.skipUnless(IS_ROOT, "needs root: mounts a tmpfs as gate-ca's data dir")
class FullDiskTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="gate-it-")
        os.chmod(cls.workdir, 0o755)
        cls.ca = GateCA(cls.workdir)
        os.makedirs(cls.ca.data_dir, mode=0o700)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m,mode=0700", "tmpfs",
                        cls.ca.data_dir], check=True)
        cls.addClassCleanup(cls.unmount)
        cls.ca.start()
        cls.filler = os.path.join(cls.ca.data_dir, "filler")

    @classmethod
    def unmount(cls):
        if cls.ca.proc:
            cls.ca.stop()
        subprocess.run(["umount", cls.ca.data_dir], check=False)
        shutil.rmtree(cls.workdir, ignore_errors=True)

    def fill_disk(self):
        with open(self.filler, "wb") as f:
            try:
                while True:
                    f.write(b"\0" * (1 << 16))
                    f.flush()
            except OSError:
                pass
        self.addCleanup(lambda: os.path.exists(self.filler) and os.unlink(self.filler))

    def test_gatectl_reports_the_servers_error_on_a_full_disk(self):
        self.fill_disk()
        proc = self.ca.gatectl("users", "add", "diskfull1", "--logins", "root")
        self.assertNotEqual(proc.returncode, 0, proc.stdout)
        self.assertNotIn("are you root", proc.stderr)
        self.assertNotIn("cannot reach", proc.stderr)
        self.assertIn("full", proc.stderr)
        # gate-ca is still up and answers reads.
        self.assertEqual(self.ca.gatectl("users", "ls").returncode, 0)

        os.unlink(self.filler)
        proc = self.ca.gatectl("users", "add", "diskfull2", "--logins", "root")
        self.assertEqual(proc.returncode, 0, proc.stderr)


if __name__ == "__main__":
    unittest.main()
