"""Recordings written by gate::cast::Writer, played by `gate play` and by
Debian's `asciinema play`, and verified with a key from `ssh-keygen`.

Recordings come from tests/tools/gate-test-castwrite (the real Writer driven
by a script). Nothing here depends on timing: pauses are capped with
--idle-limit or skipped, and the checks are on the exact bytes written; a
player that ignored the cap would run into the subprocess timeout instead.
"""
import base64
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import BIN_DIR, binary

ASCIINEMA = shutil.which("asciinema")
RAW_OUTPUT = [
    # (time, bytes) as a pty would hand them to the recorder.
    (0.1, b"$ ls --color\r\n"),
    (0.2, b"\x1b[0m\x1b[01;34mbin\x1b[0m  \x1b[01;32mrun.sh\x1b[0m  notes.txt\r\n"),
    (0.3, b"caf\xc3"),            # a sequence split across two reads
    (0.4, b"\xa9 \xe2\x82\xac "),
    (0.5, b"bad \xff\xfe byte \xe2\x82X\r\n"),  # invalid UTF-8
    (0.6, b"tab\there \"quoted\" back\\slash \x07bell\r\n"),
]


def castwrite():
    return os.path.join(BIN_DIR, "tests", "tools", "gate-test-castwrite")


def b64(data):
    return base64.b64encode(data).decode()


def expected_text(chunks):
    """What a player must print: the output decoded as Python (and so
    asciinema's recorder) decodes a terminal stream, invalid bytes replaced."""
    return b"".join(chunks).decode("utf-8", "replace").encode("utf-8")


class PlayTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="gate-play-")
        self.key = os.path.join(self.dir, "recorder")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "rec",
                        "-f", self.key], check=True)
        os.chmod(self.key + ".pub", 0o644)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def write(self, name, script, key=None):
        path = os.path.join(self.dir, name)
        proc = subprocess.run([castwrite(), key or self.key, path], input="\n".join(script) + "\n",
                              capture_output=True, text=True, timeout=30)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return path

    def session(self, name="s.cast", close=True):
        script = [f"o {t} {b64(data)}" for t, data in RAW_OUTPUT[:4]]
        script.append("flush 0.45")
        script += [f"o {t} {b64(data)}" for t, data in RAW_OUTPUT[4:]]
        script += [
            "r 1.0 120 40",
            "i 1.2 " + b64(b"secret typed\r"),
            "j 1.5 " + b64(b'{"event":"join","user":"bob","mode":"observer"}'),
            "flush 1.6",
            "o 3600 " + b64(b"after an hour\r\n"),  # a long idle gap
            "x 3601 " + b64(b'{"exit_status":3}'),
        ]
        if close:
            script.append("close 3601")
        return self.write(name, script)

    def gate_play(self, *args, timeout=60):
        return subprocess.run([binary("gate"), "play", *args], capture_output=True,
                              timeout=timeout)

    def all_output(self):
        return expected_text([d for _, d in RAW_OUTPUT] + [b"after an hour\r\n"])

    # -- playback -----------------------------------------------------------

    def test_plays_the_exact_output_bytes(self):
        path = self.session()
        proc = self.gate_play("--speed", "1000", "--idle-limit", "0.01", path)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, self.all_output())
        err = proc.stderr.decode()
        self.assertIn("session 6f1c1f3e-8d2a-4c61-9a57-0b6f3a2f9d10: alice as root on db-1", err)
        self.assertIn("terminal resized to 120x40", err)
        self.assertIn("bob joined as observer", err)
        self.assertIn("session ended: exit status 3 after 3601.0 s", err)
        self.assertNotIn(b"secret typed", proc.stdout, "input is not replayed")

    def test_skip_to_prints_the_past_at_once(self):
        path = self.session()
        # No --speed and no --idle-limit: only skipping keeps this short.
        proc = self.gate_play("--skip-to", "3599.99", path, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, self.all_output())
        # Notes before T are skipped with the output.
        self.assertNotIn(b"joined", proc.stderr)

    def test_skip_past_the_end(self):
        proc = self.gate_play("--skip-to", "99999", self.session())
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, self.all_output())

    def test_asciinema_plays_what_the_writer_wrote(self):
        if ASCIINEMA is None:
            self.skipTest("asciinema is not installed")
        path = self.session()
        env = dict(os.environ, PYTHONIOENCODING="utf-8")
        # A new session has no controlling terminal, so asciinema cannot
        # open /dev/tty for its key bindings and just plays.
        proc = subprocess.run([ASCIINEMA, "play", "-s", "100", "-i", "0.01", path],
                              stdin=subprocess.DEVNULL, capture_output=True, env=env,
                              timeout=60, start_new_session=True)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, self.all_output())
        ours = self.gate_play("--speed", "100", "--idle-limit", "0.01", path)
        self.assertEqual(ours.stdout, proc.stdout)

    def test_unterminated_last_line_is_not_played(self):
        path = self.session()
        with open(path, "rb") as f:
            data = f.read()
        cut = os.path.join(self.dir, "cut.cast")
        # Cut inside the "after an hour" event.
        at = data.index(b"after an hour")
        with open(cut, "wb") as f:
            f.write(data[:at])
        proc = self.gate_play("--idle-limit", "0.01", cut)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, expected_text([d for _, d in RAW_OUTPUT]))
        self.assertIn(b"ends without an exit event", proc.stderr)

    # -- verification ----------------------------------------------------------

    def test_verify_complete(self):
        path = self.session()
        proc = self.gate_play("--verify", "--no-play", "--key", self.key + ".pub", path)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, b"verified, complete\n")

        proc = self.gate_play("--verify", "--key", self.key + ".pub", "--idle-limit", "0.01", path)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, self.all_output())
        self.assertIn(b"gate play: verified, complete", proc.stderr)

    def test_verify_cut_short_plays_only_the_verified_part(self):
        path = self.session()
        with open(path, "rb") as f:
            data = f.read()
        # Keep everything up to the checkpoint of "flush 1.6", plus half a line.
        flush = data.index(b'[1.600000, "c", "')
        covered = data.index(b"\n", flush) + 1
        cut = os.path.join(self.dir, "crashed.cast")
        with open(cut, "wb") as f:
            f.write(data[:covered + 20])
        proc = self.gate_play("--verify", "--no-play", "--key", self.key + ".pub", cut)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout.decode(),
                         "verified up to 1.6 s, cut short (20 bytes after the last checkpoint "
                         "are not covered)\n")

        # A whole unsigned line after the last checkpoint is not played.
        forged = b'[2.000000, "o", "forged\\r\\n"]\n'
        with open(cut, "wb") as f:
            f.write(data[:covered] + forged)
        proc = self.gate_play("--verify", "--key", self.key + ".pub", "--idle-limit", "0.01", cut)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, expected_text([d for _, d in RAW_OUTPUT]))
        self.assertIn(b"cut short (%d bytes" % len(forged), proc.stderr)
        # Without --verify it is played: the check is what tells them apart.
        proc = self.gate_play("--idle-limit", "0.01", cut)
        self.assertTrue(proc.stdout.endswith(b"forged\r\n"))

    def test_verify_recorder_that_stopped_without_an_exit(self):
        path = self.session("stopped.cast", close=False)
        proc = self.gate_play("--verify", "--no-play", "--key", self.key + ".pub", path)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout.decode(),
                         "verified up to 1.6 s, cut short (the recording ends without an exit "
                         "event)\n")

    def test_verify_names_the_line_of_a_change(self):
        path = self.session()
        with open(path, "rb") as f:
            data = f.read()
        tampered = os.path.join(self.dir, "tampered.cast")
        with open(tampered, "wb") as f:
            f.write(data.replace(b"notes.txt", b"notes.txT"))
        proc = self.gate_play("--verify", "--key", self.key + ".pub", tampered)
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(proc.stdout, b"", "a tampered recording is not played")
        err = proc.stderr.decode()
        # Lines: 1 header, 2 c, 3-6 o, 7 c (the flush at 0.45).
        self.assertIn("verification FAILED: line 7: checkpoint does not match lines 3-7", err)

    def test_verify_with_the_wrong_key(self):
        other = os.path.join(self.dir, "other")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", other], check=True)
        proc = self.gate_play("--verify", "--no-play", "--key", other + ".pub", self.session())
        self.assertEqual(proc.returncode, 1)
        self.assertIn(b"verification FAILED: line 1: the recording names recorder key SHA256:",
                      proc.stderr)

    def test_verify_key_file_checks(self):
        path = self.session()
        proc = self.gate_play("--verify", "--no-play", "--key", os.path.join(self.dir, "none"),
                              path)
        self.assertEqual(proc.returncode, 5, proc.stderr)
        os.chmod(self.key + ".pub", 0o666)
        proc = self.gate_play("--verify", "--no-play", "--key", self.key + ".pub", path)
        self.assertEqual(proc.returncode, 3, proc.stderr)
        self.assertIn(b"writable by group/others", proc.stderr)
        os.chmod(self.key + ".pub", 0o644)
        proc = self.gate_play("--verify", "--no-play", "--key", self.key, path)  # private key
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn(b"recorder key", proc.stderr)

    # -- any asciicast v2 ----------------------------------------------------------

    def asciinema_rec(self, name, command, env=None):
        """A recording made by Debian's `asciinema rec` (no terminal needed)."""
        if ASCIINEMA is None:
            self.skipTest("asciinema is not installed (scripts/install-deps installs it)")
        path = os.path.join(self.dir, name)
        proc = subprocess.run([ASCIINEMA, "rec", "-q", "-c", command, path],
                              stdin=subprocess.DEVNULL, capture_output=True, timeout=60,
                              env=env or dict(os.environ), start_new_session=True)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return path

    def test_plays_what_asciinema_rec_recorded(self):
        path = self.asciinema_rec("rec.cast", "printf 'from asciinema \\303\\251\\r\\n'; "
                                              "sleep 0.3; printf 'second line\\r\\n'")
        with open(path, "rb") as f:
            self.assertNotIn(b'"gate"', f.readline())
        proc = self.gate_play("--idle-limit", "0.01", path)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        # The pty adds a \r before every \n (onlcr).
        self.assertEqual(proc.stdout,
                         "from asciinema \u00e9\r\r\nsecond line\r\r\n".encode())
        err = proc.stderr.decode()
        self.assertIn("gate play: asciicast v2 recording, not from gate (nothing in it is signed)",
                      err)
        self.assertIn("end of the recording", err)
        self.assertNotIn("cut short", err)

        # An unset variable is null in the header's env.
        env = {k: v for k, v in os.environ.items() if k != "SHELL"}
        path = self.asciinema_rec("noshell.cast", "printf 'no shell\\r\\n'", env=env)
        with open(path, "rb") as f:
            self.assertIn(b'"SHELL": null', f.readline())
        proc = self.gate_play(path)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, b"no shell\r\r\n")

    def test_plays_a_minimal_hand_written_asciicast(self):
        path = os.path.join(self.dir, "minimal.cast")
        with open(path, "wb") as f:
            f.write(b'{"version": 2, "width": 80, "height": 24}\n'
                    b'[0.1, "o", "one "]\n'
                    b'[0.2, "i", "typed"]\n'
                    b'[0.25, "m", "a marker"]\n'
                    b'[0.3, "r", "100x40"]\n'
                    b'[1e0, "o", "two\\u00e9\\r\\n"]\n')
        proc = self.gate_play(path)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, "one two\u00e9\r\n".encode())
        self.assertIn(b"80x24", proc.stderr)
        self.assertIn(b"terminal resized to 100x40", proc.stderr)

    def test_verify_says_a_plain_file_is_not_a_gate_recording(self):
        path = os.path.join(self.dir, "plain.cast")
        with open(path, "wb") as f:
            f.write(b'{"version": 2, "width": 80, "height": 24}\n[0.1, "o", "x"]\n')
        for key in (["--key", self.key + ".pub"], []):
            proc = self.gate_play("--verify", "--no-play", *key, path)
            self.assertEqual(proc.returncode, 1, proc.stderr)
            self.assertEqual(proc.stdout, b"")
            self.assertIn(b"not a gate recording", proc.stderr)
            self.assertIn(b"play it without --verify", proc.stderr)

    def node_settings(self, directory):
        """A node's recorder settings in directory (root 0644), as
        `gate-node record on --recorder-config DIR/recorder.json` writes them."""
        os.makedirs(directory, exist_ok=True)
        path = os.path.join(directory, "recorder.json")
        with open(path, "w") as f:
            json.dump({"version": 1, "cluster_name": "demo", "node_name": "db-1",
                       "host_uuid": "4a6f0c2e-1111-2222-3333-444455556666",
                       "proxy": "127.0.0.1:3080"}, f)
        os.chmod(path, 0o644)
        return path

    def test_verify_finds_the_nodes_key_from_its_settings(self):
        # The demo node's layout: settings and recorder.pub outside /etc/gate,
        # named by GATE_RECORDER_CONFIG (gate-record sets it in the sessions
        # it records).
        settings = self.node_settings(os.path.join(self.dir, "gate-demo"))
        shutil.copy(self.key + ".pub", os.path.join(self.dir, "gate-demo", "recorder.pub"))
        path = self.session()
        env = dict(os.environ, GATE_RECORDER_CONFIG=settings)
        proc = subprocess.run([binary("gate"), "play", "--verify", "--no-play", path],
                              capture_output=True, timeout=60, env=env)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, b"verified, complete\n")

        # Settings that are not recorder settings name the file.
        with open(settings, "w") as f:
            f.write("{}")
        proc = subprocess.run([binary("gate"), "play", "--verify", "--no-play", path],
                              capture_output=True, timeout=60, env=env)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn(settings.encode(), proc.stderr)

        # A host that records nothing says what to pass instead.
        env["GATE_RECORDER_CONFIG"] = os.path.join(self.dir, "none", "recorder.json")
        proc = subprocess.run([binary("gate"), "play", "--verify", "--no-play", path],
                              capture_output=True, timeout=60, env=env)
        self.assertEqual(proc.returncode, 5, proc.stderr)
        err = proc.stderr.decode()
        self.assertIn("this host records no sessions (no recorder settings at "
                      + env["GATE_RECORDER_CONFIG"], err)
        self.assertIn("--key FILE", err)

    # -- bad input ----------------------------------------------------------------

    def test_refuses_a_recording_over_1_gib(self):
        big = os.path.join(self.dir, "big.cast")
        with open(big, "wb") as f:
            f.truncate((1 << 30) + 1)  # sparse: costs no disk
        proc = self.gate_play(big, timeout=10)
        self.assertEqual(proc.returncode, 1)
        self.assertIn(b"refuses recordings larger than 1 GiB", proc.stderr)

    def test_missing_file_and_session_ids(self):
        proc = self.gate_play(os.path.join(self.dir, "nope.cast"))
        self.assertEqual(proc.returncode, 5)
        self.assertIn(b"does not exist", proc.stderr)
        # A session ID that is not a file is fetched from gate-ca, which
        # takes a login (test_upload.py covers the fetch itself).
        proc = subprocess.run([binary("gate"), "play", "6f1c1f3e-8d2a-4c61-9a57-0b6f3a2f9d10"],
                              capture_output=True, timeout=60,
                              env=dict(os.environ, GATE_HOME=os.path.join(self.dir, "no-login")))
        self.assertEqual(proc.returncode, 5)
        self.assertIn(b"not logged in", proc.stderr)

    def test_malformed_recording_names_the_line(self):
        path = self.session()
        with open(path, "rb") as f:
            lines = f.read().split(b"\n")
        lines[2] = b'[0.1, "o", "unterminated]'
        bad = os.path.join(self.dir, "bad.cast")
        with open(bad, "wb") as f:
            f.write(b"\n".join(lines))
        proc = self.gate_play("--idle-limit", "0.01", bad)
        self.assertEqual(proc.returncode, 1)
        self.assertIn(b"line 3: ", proc.stderr)
        # Not asciicast v2 at all (asciicast v3's header).
        with open(bad, "wb") as f:
            f.write(b'{"version": 3, "term": {"cols": 80, "rows": 24}}\n[0.1, "o", "x"]\n')
        proc = self.gate_play(bad)
        self.assertEqual(proc.returncode, 1)
        self.assertIn(b"line 1: header: field 'version' must be 2", proc.stderr)
        # A "gate" object claims the file is gate's: it must be whole.
        with open(bad, "wb") as f:
            f.write(b'{"version": 2, "width": 80, "height": 24, "timestamp": 1, '
                    b'"gate": {"user": "alice"}}\n[0.1, "o", "x"]\n')
        proc = self.gate_play(bad)
        self.assertEqual(proc.returncode, 1)
        self.assertIn(b"line 1: header", proc.stderr)

    def test_bad_flags_are_usage_errors(self):
        path = self.session()
        for args in (["--speed", "0"], ["--speed", "-2"], ["--idle-limit", "0"],
                     ["--skip-to", "-1"], ["--no-play"], ["--key", self.key + ".pub"], []):
            proc = self.gate_play(*args, *([path] if args else []))
            self.assertEqual(proc.returncode, 2, (args, proc.stderr))

    def test_help_documents_the_flags(self):
        proc = subprocess.run([binary("gate"), "play", "--help"], capture_output=True, text=True)
        self.assertEqual(proc.returncode, 0)
        for word in ("--speed", "--idle-limit", "--skip-to", "--verify", "--key", "--no-play",
                     "verified, complete", "cut short", "/etc/gate/recorder.pub", "1 GiB"):
            self.assertIn(word, proc.stdout)


if __name__ == "__main__":
    unittest.main()
