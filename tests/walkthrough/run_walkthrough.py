#!/usr/bin/env python3
"""Runs README.md's walk-through on the demo, command by command.

The commands are not copied here: they are the fenced blocks of README.md
that follow a `<!-- walkthrough -->` line. In such a block, a line starting
with `# ` (root) or `$ ` (a user) is a command; the lines after it are what it
prints, matched in order against its output (`...` stands for any text, a
line of its own for any lines; other lines may come in between). Every
command must exit 0.

All commands run in one interactive bash, as root, in a mount namespace
whose /root is an empty directory (the walk-through writes ~/.gate and
~/.ssh/config; the machine's own stay untouched). The shell starts in the
source tree with the demo pointed at free ports, a temporary .demo and its
own node directories, using the binaries in GATE_BIN_DIR. Where the
walk-through has a person type something (a signup URL, a password, an OTP
code), this script answers as they would: the URL gatectl printed, one
password, codes computed from the otpauth URI signup printed.

Exit 0: every command ran and printed what the README says; 77: skipped
(not root, or an OS user the walk-through creates already exists); 1: the
first command that failed, with its output.
"""
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import time

import pexpect

SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(SOURCE, "tests", "integration"))
from harness import OtpDevice, free_port, secret_from_uri  # noqa: E402

SKIP = 77
MARKER = "<!-- walkthrough -->"
DONE = re.compile(r"__WALKTHROUGH_DONE (\d+)__")
PASSWORD = "correct horse battery staple"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\r")
COMMAND_TIMEOUT = 300


def extract(readme_text):
    """[(command, [expected lines])] from the marked blocks, in order."""
    steps = []
    lines = readme_text.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].strip() != MARKER:
            i += 1
            continue
        i += 1
        while i < len(lines) and not lines[i].startswith("```"):
            i += 1
        i += 1  # the opening fence
        while i < len(lines) and not lines[i].startswith("```"):
            line = lines[i]
            if line.startswith("# ") or line.startswith("$ "):
                steps.append((line[2:], []))
            elif steps:
                steps[-1][1].append(line)
            i += 1
        i += 1
    return steps


def expected_regex(line):
    return re.compile("^" + ".*".join(re.escape(p) for p in line.split("...")) + "$")


def check_output(expected, output, ports):
    """None when expected's lines appear in output in order, else why not.
    ports maps the demo's default ports, as the README shows them, to the
    ones this run uses."""
    got = [ANSI.sub("", l).rstrip() for l in output.splitlines()]
    pos = 0
    for line in expected:
        if line.strip() in ("", "..."):
            continue
        for default, actual in ports.items():
            line = line.replace(f"127.0.0.1:{default}", f"127.0.0.1:{actual}")
        pattern = expected_regex(line.rstrip())
        while pos < len(got) and not pattern.search(got[pos]):
            pos += 1
        if pos == len(got):
            return f"expected a line matching {line!r} (in this order)"
        pos += 1
    return None


class Person:
    """What the person at the keyboard types: the last signup URL shown, one
    password, and the codes of their authenticator app (harness.OtpDevice:
    each step once, as the server takes them)."""

    def __init__(self):
        self.url = None
        self.device = None

    def otp(self):
        return self.device.code()


def os_users_in(steps):
    names = []
    for command, _ in steps:
        words = command.split()
        if words and words[0] == "useradd":
            names.append(words[-1])
    return names


def passes(demo_dir):
    try:
        return os.path.getsize(os.path.join(demo_dir, "sync.passes"))
    except OSError:
        return 0


def wait_for_node_sync(demo_dir, since):
    """A person reads, types and thinks between commands; the node takes a
    change at its next sync (the demo syncs every 2 s). Waits until a whole
    pass has run after `since` (the sync.passes byte count then), at most a
    minute."""
    deadline = time.time() + 60
    while passes(demo_dir) < since + 2 * 2 and time.time() < deadline:
        time.sleep(0.2)


def run_step(shell, person, index, command, expected):
    """Runs one command; returns (exit status, output)."""
    shell.sendline(command)
    output = ""
    answers = [
        (r"Paste the signup URL or token: ", lambda: person.url),
        (r"Choose a password[^\n]*: ", lambda: PASSWORD),
        (r"Enter the password again: ", lambda: PASSWORD),
        (r"Enter password for gate user [^\n]*: ", lambda: PASSWORD),
        (r"Enter your OTP token: ", person.otp),
    ]
    patterns = [DONE.pattern, r"otpauth://\S+",
                r"https://\S+/web/newuser/[0-9a-f]+",
                r"Are you sure you want to continue connecting"] + [p for p, _ in answers]
    while True:
        try:
            which = shell.expect(patterns, timeout=COMMAND_TIMEOUT)
        except (pexpect.TIMEOUT, pexpect.EOF) as e:
            return -1, output + str(shell.before) + f"\n(walk-through: {type(e).__name__})\n"
        output += shell.before + shell.after
        if which == 0:
            return int(shell.match.group(1)), output.replace(shell.after, "")
        if which == 1:
            person.device = OtpDevice(secret_from_uri(ANSI.sub("", shell.after)))
        elif which == 2:
            person.url = shell.after
        elif which == 3:
            shell.sendline("no")  # a host-key prompt is a failure of the walk-through
            output += "\n(walk-through: ssh asked to trust an unknown host key)\n"
        else:
            shell.sendline(answers[which - 4][1]())


def main():
    source = SOURCE
    bin_dir = os.environ.get("GATE_BIN_DIR")
    if not bin_dir:
        print("run_walkthrough: set GATE_BIN_DIR to the build directory", file=sys.stderr)
        return 2
    with open(os.path.join(source, "README.md")) as f:
        steps = extract(f.read())
    if not steps:
        print("run_walkthrough: no <!-- walkthrough --> blocks in README.md", file=sys.stderr)
        return 1
    if os.geteuid() != 0:
        print("run_walkthrough: skipped: the demo's node needs root")
        return SKIP
    for name in os_users_in(steps):
        try:
            pwd.getpwnam(name)
            print(f"run_walkthrough: skipped: OS user {name} already exists, and the "
                  "walk-through creates it")
            return SKIP
        except KeyError:
            pass

    work = tempfile.mkdtemp(prefix="gate-walkthrough-")
    os.chmod(work, 0o755)
    home = os.path.join(work, "root-home")
    os.mkdir(home, 0o700)
    tag = f"walkthrough-{os.getpid()}"
    env = dict(os.environ,
               GATE_DEMO_DIR=os.path.join(work, "demo"),
               GATE_BUILD_DIR=bin_dir,
               GATE_DEMO_NO_BUILD="1",
               GATE_DEMO_PORT=str(free_port()),
               GATE_DEMO_SSH_PORT=str(free_port()),
               GATE_DEMO_STATE_DIR=f"/var/lib/gate-demo-{tag}",
               GATE_DEMO_LIBEXEC_DIR=f"/usr/local/libexec/gate-demo-{tag}",
               GATE_DEMO_RECORDER_USER=f"gate-rec-w{os.getpid() % 100000}",
               HOME="/root", TERM="dumb", PS1="", PS2="")
    for name in ("SSH_AUTH_SOCK", "GATE_DATA_DIR", "GATE_HOME", "SUDO_USER"):
        env.pop(name, None)
    prompt_command = 'echo "__WALKTHROUGH_DONE $?__"'
    shell = pexpect.spawn(
        "unshare", ["--mount", "--propagation", "private", "bash", "-c",
                    f"mount --bind {home} /root && exec bash --norc --noprofile -i"],
        cwd=source, env=env, encoding="utf-8", codec_errors="replace", timeout=60,
        dimensions=(50, 200))
    created = os_users_in(steps)
    failed = None
    try:
        shell.sendline(f"stty -echo; PS1=''; PS2=''; PROMPT_COMMAND='{prompt_command}'")
        shell.expect(DONE.pattern)
        person = Person()
        changed_at = None
        for index, (command, expected) in enumerate(steps, 1):
            if command.startswith("ssh ") and changed_at is not None:
                wait_for_node_sync(env["GATE_DEMO_DIR"], changed_at)
                changed_at = None
            print(f"[{index}/{len(steps)}] {command}", flush=True)
            status, output = run_step(shell, person, index, command, expected)
            # useradd refuses while another process holds /etc/passwd's lock
            # (other tests add users in parallel); a person would run it again.
            for _ in range(20):
                if status == 0 or "cannot lock /etc/passwd" not in output:
                    break
                time.sleep(0.25)
                status, output = run_step(shell, person, index, command, expected)
            if command.startswith("gatectl ") or command.startswith("gate "):
                changed_at = passes(env["GATE_DEMO_DIR"])
            why = f"exit status {status}" if status != 0 else check_output(
                expected, output, {"3080": env["GATE_DEMO_PORT"], "2222": env["GATE_DEMO_SSH_PORT"]})
            if why:
                failed = (command, why, output)
                break
    finally:
        if failed:
            command, why, output = failed
            print(f"FAILED: {command}\n  {why}\n--- its output ---\n{output}\n---",
                  file=sys.stderr)
            log = os.path.join(env["GATE_DEMO_DIR"], "sshd.log")
            if os.path.exists(log):
                with open(log) as f:
                    print("--- sshd.log ---\n" + f.read()[-4000:], file=sys.stderr)
        shell.close(force=True)
        # Whatever the walk-through did not get to: stop the demo, remove
        # the users it added.
        subprocess.run([os.path.join(source, "scripts", "demo"), "stop"], env=env, cwd=source,
                       capture_output=True, timeout=120)
        for name in created:
            subprocess.run(["userdel", "--remove", name], capture_output=True)
        subprocess.run(["userdel", env["GATE_DEMO_RECORDER_USER"]], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    if failed:
        return 1
    print(f"run_walkthrough: all {len(steps)} commands of README.md's walk-through ran as written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
