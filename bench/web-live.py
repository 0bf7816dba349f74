#!/usr/bin/env python3
"""Latency of the browser's live join and terminal, against the terminal
tools that do the same, in one run on one node:

- live join: a keystroke typed into a plain ssh session (rita's) until its
  echo shows in bob's browser, joined as observer on /web/sessions/ID, and
  until it shows in `gate join` run by bob in a terminal (the same
  keystroke, watched by both at once);
- terminal echo: a keystroke typed into rita's browser terminal
  (/web/terminal) until its echo shows in the page, against a keystroke
  typed into her plain `ssh` until its echo comes back.

The node is a real sshd that forces the real gate-record (as `gate-node
record on` lays it out), so every one of these sessions is recorded; gate-ca
reaches it as an SSH client (libssh) for the browser's sessions. The ssh
client, `gate join` and the shell's echo run in pseudo-terminals this script
reads with select(), timestamped with time.time(). In the browser, a
MutationObserver on the terminal's rows notes the moment xterm.js renders
the text (performance.timeOrigin + performance.now(), the same clock); a
browser keystroke is timed from inside the page, from the input event that
xterm.js turns into data to the rendered echo.

Run as root (OS users, a setuid install, sshd) with Debian's /usr/bin/python3
(python3-selenium, chromium, chromium-driver).

Usage: bench/web-live.py [BUILD_DIR] [--runs N]
"""
import argparse
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "browser"))

from stats import p99  # noqa: E402

PASSWORD = "correct horse battery"
LOGIN = "gtrec"

# In the page: types arguments[1] into the terminal in arguments[0] (the
# input event xterm.js reads typed text from) and resolves to the ms until
# its echo is rendered (null after 5 s).
TYPE_AND_TIME = """
const [selector, needle, done] = arguments;
const holder = document.querySelector(selector);
const rows = holder.querySelector('.xterm-rows');
const input = holder.querySelector('.xterm-helper-textarea');
input.focus();
let start = 0;
const seen = () => rows.textContent.replace(/\\u00a0/g, ' ').includes(needle);
const observer = new MutationObserver(() => {
  if (seen()) { observer.disconnect(); done(performance.now() - start); }
});
observer.observe(rows, {subtree: true, childList: true, characterData: true});
setTimeout(() => { observer.disconnect(); done(null); }, 5000);
start = performance.now();
input.dispatchEvent(new InputEvent('input', {data: needle, inputType: 'insertText'}));
"""


class Pty:
    """A program in a pseudo-terminal; what it prints is kept and searched."""

    def __init__(self, argv, env):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execvpe(argv[0], argv, env)
        self.seen = b""

    def write(self, data):
        os.write(self.fd, data)

    def wait_for(self, needle, timeout=30):
        """The time.time() at which needle (bytes) first shows in the output
        after the text already searched."""
        deadline = time.time() + timeout
        while needle not in self.seen:
            left = deadline - time.time()
            if left <= 0:
                raise AssertionError(f"{needle!r} not seen; last output: {self.seen[-400:]!r}")
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    raise AssertionError(
                        f"{needle!r} not seen before the end: {self.seen[-400:]!r}")
                self.seen += chunk
        at = time.time()
        self.seen = self.seen[self.seen.index(needle) + len(needle):]
        return at

    def wait_for_match(self, pattern, timeout=30):
        """The first match of the regex pattern (bytes) in the output."""
        deadline = time.time() + timeout
        while True:
            match = re.search(pattern, self.seen)
            if match:
                self.seen = self.seen[match.end():]
                return match
            left = deadline - time.time()
            ready, _, _ = select.select([self.fd], [], [], max(left, 0))
            if not ready:
                raise AssertionError(f"{pattern!r} not seen; last output: {self.seen[-400:]!r}")
            chunk = os.read(self.fd, 65536)
            if not chunk:
                raise AssertionError(f"{pattern!r} not seen before the end")
            self.seen += chunk

    def close(self):
        try:
            os.kill(self.pid, signal.SIGHUP)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(self.fd)


def summary(ms):
    return f"p50 {statistics.median(ms):6.2f} ms   p99 {p99(ms):6.2f} ms   (n={len(ms)})"


def ratio(a, b, stat):
    return stat(a) / stat(b)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("build", nargs="?", default=os.path.join(HERE, "..", "build"))
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    os.environ["GATE_BIN_DIR"] = os.path.abspath(args.build)

    from browser import HOST, new_driver
    from harness import (Client, GateCA, Node, TestRecorder, binary, ensure_os_user,
                         root_safe_dir)
    from test_nodes import node_token
    from test_terminal_pages import WATCH_SCRIPT
    from test_upload import register_recorder_key

    workdir = tempfile.mkdtemp(prefix="gate-bench-web-")
    os.chmod(workdir, 0o755)
    ca = GateCA(workdir, "", "off", (600, 100), public_host=HOST).start()
    procs, node, driver = [], None, None
    try:
        ensure_os_user(LOGIN)
        rec = TestRecorder(workdir, "benchrecorder")
        bin_dir = os.path.join(root_safe_dir(), "bench-web-bin")
        os.makedirs(bin_dir, mode=0o755, exist_ok=True)
        shutil.copy2(binary("gate"), os.path.join(bin_dir, "gate"))
        node = Node(workdir, "webnode")
        with open(node.config, "a") as f:
            f.write(f"SetEnv PATH={bin_dir}:/usr/local/bin:/usr/bin:/bin\n" + rec.force_command())
        node.start()
        token, _ = node_token(ca)
        joined = node.join(ca, token, "--principals", "127.0.0.1")
        assert joined.returncode == 0, joined.stdout + joined.stderr
        host_uuid = rec.write_config(ca, node, "webnode")
        register_recorder_key(ca, node.data_dir, rec.key + ".pub")
        ca.gatectl("roles", "add", "joiners", "--logins", LOGIN, "--join-sessions", check=True)
        users = {}
        for name, logins, roles in (("rita", LOGIN, None), ("bob", None, "joiners")):
            tok, _ = ca.add_user(name, logins, roles=roles)
            client = Client(workdir, ca, name)
            result, _ = client.signup(tok, PASSWORD)
            assert result.returncode == 0, result.stderr
            login = client.gate("login", "--proxy", ca.addr, "--user", name, "--insecure",
                                input=f"{PASSWORD}\n")
            assert login.returncode == 0, login.stderr
            users[name] = client
        assert node.sync().returncode == 0
        rita, bob = users["rita"], users["bob"]

        kh = os.path.join(rita.env["GATE_HOME"], "known_hosts")
        ssh = Pty(["ssh", "-F", "/dev/null", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
                   "-o", f"IdentityFile={rita.key}", "-o", f"CertificateFile={rita.cert}",
                   "-o", f"UserKnownHostsFile={kh}", "-o", "StrictHostKeyChecking=yes",
                   "-p", str(node.port), "-tt", f"{LOGIN}@127.0.0.1"], rita.env)
        procs.append(ssh)
        ssh.write(b"echo sid=${GATE_SESSION_ID}=\r")
        sid = ssh.wait_for_match(rb"sid=([0-9a-f-]{36})=").group(1).decode()
        # The uploader ships the live session's first chunk: gate-ca lists it live.
        subprocess.run([binary("gate-node"), "upload", "--once", "--spool", rec.spool,
                        "--data-dir", node.data_dir], check=True, capture_output=True,
                       timeout=120)

        join = Pty([binary("gate"), "join", "--node", f"127.0.0.1:{node.port}", sid], bob.env)
        procs.append(join)
        join.wait_for(b"joined as observer")

        driver = new_driver(ca.pin)
        origin = f"https://{ca.public_addr}"

        def log_in(user):
            from selenium.webdriver.common.by import By
            driver.delete_all_cookies()
            driver.get(origin + "/web/login")
            driver.find_element(By.ID, "user").send_keys(user)
            driver.find_element(By.ID, "password").send_keys(PASSWORD)
            driver.find_element(By.ID, "login-submit").click()
            wait(lambda: driver.execute_script("return location.pathname") == "/web/")

        def wait(cond, timeout=30):
            deadline = time.time() + timeout
            while time.time() < deadline:
                value = cond()
                if value:
                    return value
                time.sleep(0.02)
            raise AssertionError("timed out")

        def state(element_id):
            return driver.execute_script(
                "const e = document.getElementById(arguments[0]);"
                "return e ? e.getAttribute('data-state') : null;", element_id)

        # --- live join: one keystroke, watched by the browser and gate join.
        log_in("bob")
        driver.get(origin + f"/web/sessions/{sid}")
        wait(lambda: state("join-status") == "connected")
        browser_ms, cli_ms = [], []
        for i in range(args.runs):
            needle = f"q{i:05d}z"
            driver.execute_script(WATCH_SCRIPT, "#join-terminal", needle)
            sent = time.time()
            ssh.write(needle.encode())
            cli_at = join.wait_for(needle.encode())
            seen = wait(lambda: driver.execute_script(
                "return window.gateSeen[arguments[0]];", needle))
            browser_ms.append(seen - sent * 1000)
            cli_ms.append((cli_at - sent) * 1000)
            if i % 8 == 7:
                ssh.write(b"\x15")  # Ctrl-U: a fresh line
                time.sleep(0.05)
        ssh.write(b"\x15")

        # --- terminal echo: the browser terminal against plain ssh.
        log_in("rita")
        driver.get(origin + f"/web/terminal?node={host_uuid}&login={LOGIN}")
        wait(lambda: state("terminal-status") == "connected")
        time.sleep(1)  # the shell's prompt
        term_ms, ssh_ms = [], []
        for i in range(args.runs):
            needle = f"e{i:05d}z"
            ms = driver.execute_async_script(TYPE_AND_TIME, "#terminal", needle)
            if ms is None:
                raise AssertionError("the browser terminal did not echo " + needle)
            term_ms.append(ms)
            needle = f"s{i:05d}z".encode()
            sent = time.time()
            ssh.write(needle)
            ssh_ms.append((ssh.wait_for(needle) - sent) * 1000)
            if i % 8 == 7:
                driver.execute_async_script(
                    "const [s, done] = arguments;"
                    "document.querySelector(s + ' .xterm-helper-textarea').dispatchEvent("
                    "new InputEvent('input', {data: '\\u0015', inputType: 'insertText'}));"
                    "done();", "#terminal")
                ssh.write(b"\x15")
                time.sleep(0.05)

        with open("/proc/loadavg") as f:
            load = " ".join(f.read().split()[:3])
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        print(f"runs: {args.runs}; load average {load}; {when}")
        print("live join, keystroke in ssh -> text shown")
        print(f"  browser (observer)  {summary(browser_ms)}")
        print(f"  gate join           {summary(cli_ms)}")
        print(f"  browser / gate join p50 {ratio(browser_ms, cli_ms, statistics.median):.2f}x"
              f", p99 {ratio(browser_ms, cli_ms, p99):.2f}x")
        print("terminal, keystroke -> echo shown")
        print(f"  browser terminal    {summary(term_ms)}")
        print(f"  plain ssh           {summary(ssh_ms)}")
        print(f"  browser / ssh p50 {ratio(term_ms, ssh_ms, statistics.median):.2f}x"
              f", p99 {ratio(term_ms, ssh_ms, p99):.2f}x")
    finally:
        for p in procs:
            p.close()
        if driver:
            driver.quit()
        if node:
            node.stop()
        ca.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
