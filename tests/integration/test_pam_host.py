"""pam_gate.so leaves the application that loads it as it found it.

The application is tests/tools/gate-test-pam-host: it opens syslog under its
own ident, runs pam_authenticate through the real libpam (pam_start_confdir,
with service files of the test's own) and logs on afterwards, as sshd and
sudo do. It runs in a private mount namespace whose /dev holds a datagram
socket of the test's: glibc's syslog(3) sends to /dev/log, so the test reads
every line the process logged, its own and pam_gate's, with the ident and
facility they carried. Nothing on the host (its /dev/log, its syslog daemon)
is touched, so tests running beside this one cannot interfere.

Also here: PAM_SILENT silences pam_gate's messages but not its prompts; a
plugin from another build is refused by the version and size its
description carries (pam_module/plugin_abi.h); the FIDO plugin needs neither
libjsoncpp nor the shared libstdc++.
"""
import os
import re
import shutil
import socket
import subprocess
import tempfile
import unittest

import harness

SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
UNSHARE = shutil.which("unshare")
# "<PRI>Mmm dd hh:mm:ss IDENT[PID]: MESSAGE", as glibc's syslog(3) sends it.
LINE = re.compile(r"^<(\d+)>\w{3} [ \d]\d \d\d:\d\d:\d\d ([^\[:]+)\[(\d+)\]: (.*)$", re.S)
LOG_AUTH_INFO = 4 * 8 + 6  # the host's openlog facility, LOG_AUTH, at LOG_INFO


def tool(name):
    return os.path.join(harness.BIN_DIR, "tests", "tools", name)


@unittest.skipUnless(harness.IS_ROOT and UNSHARE, "needs root and unshare (mount namespaces)")
class PamHostTest(unittest.TestCase):
    def setUp(self):
        self.module = harness.binary("pam_gate.so")
        self.dir = tempfile.mkdtemp(prefix="gate-pam-host-")
        os.chmod(self.dir, 0o755)
        self.confdir = os.path.join(self.dir, "pam.d")
        os.mkdir(self.confdir)
        self.authfile = os.path.join(self.dir, "authfile")
        with open(self.authfile, "w") as f:
            f.write(f"root:totp:sha1:6:{SECRET}\n")
        os.chmod(self.authfile, 0o600)
        # The /dev the application sees: only the log socket.
        self.dev = os.path.join(self.dir, "dev")
        os.mkdir(self.dev)
        self.services = 0

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def service(self, args, module=None):
        """A service file with one pam_gate line; each has its own OTP state,
        so every run may use the current code."""
        self.services += 1
        name = f"svc{self.services}"
        state = os.path.join(self.dir, f"state{self.services}")
        with open(os.path.join(self.confdir, name), "w") as f:
            f.write(f"auth required {module or self.module} authfile={self.authfile} "
                    f"state_dir={state} {args}\n")
        return name

    def host(self, service, answers="", silent=False):
        """Runs the application; returns (its stdout lines, [(priority,
        ident, message)] it sent to syslog)."""
        path = os.path.join(self.dev, "log")
        if os.path.exists(path):
            os.unlink(path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(sock.close)
        sock.bind(path)
        argv = [UNSHARE, "-m", "--propagation", "private", "sh", "-c",
                'mount --bind "$1" /dev && shift && exec "$@"', "sh", self.dev,
                tool("gate-test-pam-host"), self.confdir, service, "root"]
        if silent:
            argv.append("--silent")
        proc = subprocess.run(argv, input=answers, capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        sock.setblocking(False)
        lines = []
        while True:
            try:
                data = sock.recv(65536).decode(errors="replace")
            except BlockingIOError:
                break
            m = LINE.match(data)
            self.assertIsNotNone(m, f"not a syslog line: {data!r}")
            lines.append((int(m.group(1)), m.group(2), m.group(4)))
        return proc.stdout.splitlines(), lines

    def result(self, out):
        results = [line for line in out if line.startswith("RESULT: ")]
        self.assertEqual(len(results), 1, out)
        return int(results[0].split()[1])

    # --- syslog ---------------------------------------------------------------

    def test_the_application_keeps_its_syslog_ident_and_facility(self):
        out, lines = self.host(self.service("source=local"), harness.totp(SECRET) + "\n")
        self.assertEqual(self.result(out), 0, out)  # PAM_SUCCESS
        self.assertTrue(lines, "the application logged nothing")
        for priority, ident, message in lines:
            # pam_gate never renamed the process (openlog), before or after.
            self.assertEqual(ident, "gate-test-host", (priority, ident, message))
        own = {message: priority for priority, _, message in lines
               if not message.startswith("pam_gate")}
        for message in ("before pam_authenticate", "after pam_authenticate", "after pam_end"):
            self.assertEqual(own.get(message), LOG_AUTH_INFO, (message, lines))
        # pam_gate's own lines went through pam_syslog, which names the module
        # and the service.
        gate = [message for _, _, message in lines if message.startswith("pam_gate(")]
        self.assertIn("pam_gate(svc1:auth): local OTP accepted for root", gate)

    def test_a_refusal_is_logged_the_same_way(self):
        out, lines = self.host(self.service("source=local bogus"), "\n")
        self.assertNotEqual(self.result(out), 0, out)
        self.assertEqual({ident for _, ident, _ in lines}, {"gate-test-host"}, lines)
        messages = [message for _, _, message in lines]
        self.assertTrue(any(m.startswith("pam_gate(svc1:auth): refusing: bad module arguments")
                            and "bogus" in m for m in messages), messages)
        self.assertIn("after pam_end", messages)

    # --- PAM_SILENT ---------------------------------------------------------

    def test_pam_silent_silences_messages_but_not_prompts(self):
        # gate-ca unreachable (no relay): offline=local says so, then asks
        # for the local code.
        args = f"source=central relay={self.dir}/no-relay.sock offline=local"
        out, _ = self.host(self.service(args), harness.totp(SECRET) + "\n")
        self.assertEqual(self.result(out), 0, out)
        self.assertIn("INFO: Gate is unreachable; checking this host's local OTP instead.", out)
        self.assertIn("PROMPT: Enter your OTP token: ", out)

        out, _ = self.host(self.service(args), harness.totp(SECRET) + "\n", silent=True)
        self.assertEqual(self.result(out), 0, out)
        self.assertIn("PROMPT: Enter your OTP token: ", out)
        self.assertEqual([line for line in out if line.startswith(("INFO", "ERROR"))], [], out)

        # Error messages too.
        good = harness.totp(SECRET)
        wrong = f"{(int(good) + 1) % 10**6:06d}"
        out, _ = self.host(self.service("source=local"), wrong + "\n")
        self.assertIn("ERROR: Wrong code.", out)
        out, lines = self.host(self.service("source=local"), wrong + "\n", silent=True)
        self.assertNotEqual(self.result(out), 0, out)
        self.assertEqual([line for line in out if line.startswith(("INFO", "ERROR"))], [], out)
        # The admin still learns why.
        self.assertTrue(any("local OTP refused for root: wrong code" in m for _, _, m in lines),
                        lines)

    # --- plugins --------------------------------------------------------------

    def install_module(self, plugin):
        """pam_gate.so in a directory of its own, with `plugin` as its
        pam_gate/fido.so."""
        modules = os.path.join(self.dir, "security")
        shutil.rmtree(modules, ignore_errors=True)
        os.makedirs(os.path.join(modules, "pam_gate"))
        shutil.copy2(self.module, modules)
        shutil.copy2(plugin, os.path.join(modules, "pam_gate", "fido.so"))
        return os.path.join(modules, "pam_gate.so")

    def test_a_plugin_from_another_build_is_refused(self):
        u2f = "second_factor=u2f appid=pam://gate-test"
        cases = [
            ("gate-test-plugin-version.so",
             "it speaks plugin interface version 99, this pam_gate.so speaks version 2"),
            ("gate-test-plugin-size.so", "its description is 8 bytes, version 2's is"),
            ("gate-test-plugin-old.so", "it has no gate_pam_plugin_entry"),
        ]
        for name, why in cases:
            with self.subTest(plugin=name):
                module = self.install_module(tool(name))
                out, lines = self.host(self.service(u2f, module))
                # The plugin would have said yes: it was never run.
                self.assertEqual(self.result(out), 7, out)  # PAM_AUTH_ERR
                messages = [m for _, _, m in lines]
                self.assertTrue(any("refusing plugin " in m and why in m for m in messages),
                                messages)

        # This build's own plugin is run, and logs through the module.
        built = os.path.join(os.path.dirname(self.module), "pam_gate", "fido.so")
        module = self.install_module(built)
        out, lines = self.host(self.service(u2f, module))
        self.assertNotEqual(self.result(out), 0, out)
        messages = [m for _, ident, m in lines if ident == "gate-test-host"]
        self.assertTrue(any(m.startswith("pam_gate(") and "root has no security key enrolled" in m
                            for m in messages), lines)

    def test_fido_plugin_needs_neither_jsoncpp_nor_shared_libstdcxx(self):
        plugin = os.path.join(os.path.dirname(self.module), "pam_gate", "fido.so")
        for path in (plugin, self.module):
            dynamic = harness.run(["readelf", "-d", path], check=True).stdout
            needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dynamic)
            self.assertTrue(needed, dynamic)
            ldd = harness.run(["ldd", path], check=True).stdout
            for library in ("libjsoncpp", "libstdc++"):
                self.assertFalse([n for n in needed if n.startswith(library)], (path, needed))
                self.assertNotIn(library, ldd, path)
        self.assertIn("libfido2.so.1", harness.run(["readelf", "-d", plugin]).stdout)


if __name__ == "__main__":
    unittest.main()
