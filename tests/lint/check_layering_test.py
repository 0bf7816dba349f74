"""scripts/check-layering on scratch trees: it passes a clean one and fails,
naming file:line, on a cross-piece include and on an unformatted file."""
import pathlib
import shutil
import subprocess
import sys
import tempfile
import unittest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "check-layering"

CLEAN_CC = '#include "gate/status.h"\n#include "recorder/join/frames.h"\n\nint F() { return 1; }\n'


class CheckLayeringTest(unittest.TestCase):
    def setUp(self):
        self.tree = pathlib.Path(tempfile.mkdtemp(prefix="gate-layering-"))
        self.addCleanup(shutil.rmtree, self.tree)
        shutil.copy(ROOT / ".clang-format", self.tree / ".clang-format")
        self.write("recorder/session/reader.cc", CLEAN_CC)
        self.write("libgate/src/core/x.cc", CLEAN_CC)

    def write(self, name, text):
        path = self.tree / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    def run_check(self):
        return subprocess.run([sys.executable, str(SCRIPT), str(self.tree)], capture_output=True,
                              text=True)

    def test_clean_tree_passes(self):
        run = self.run_check()
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)

    def test_cross_piece_include_fails_with_file_and_line(self):
        self.write("cli/gate/show.cc", CLEAN_CC)
        run = self.run_check()
        self.assertEqual(run.returncode, 1)
        self.assertIn("cli/gate/show.cc:2: cli includes another piece's folder", run.stdout)
        self.assertNotIn("recorder/session/reader.cc", run.stdout)  # its own folder is fine

    def test_unformatted_file_fails_with_file_and_line(self):
        self.write("pam_module/bad.cc", '#include "gate/status.h"\n\nint F( ) {return 1;}\n')
        run = self.run_check()
        self.assertEqual(run.returncode, 1)
        self.assertIn("pam_module/bad.cc:3:", run.stdout)
        self.assertIn("clang-format -i pam_module/bad.cc", run.stdout)


if __name__ == "__main__":
    unittest.main()
