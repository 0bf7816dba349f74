#!/usr/bin/env python3
"""pamtester latency: pam_gate (source=local TOTP) vs pam_oath vs
pam_google_authenticator, on this machine, in one run (issue 4).

    bench/pam-otp.py BUILD_DIR [RUNS]      # default 300 runs per module

Every run authenticates this machine's own account (an existing user, as
sshd and sudo always present) with a fresh random secret written, and the
module's replay state reset to an old step, before the timer starts; so each run presents
a valid code its module has never seen (pam_gate and pam_oath refuse reused
codes) and one run's state cannot make the next faster or slower. Fresh
non-existent user names per run would not do: every module that looks the
user up then pays for NSS's misses (systemd's NSS module: about 10 ms here).
Modules are interleaved run by run, so drift (CPU frequency, other load)
hits all three alike. The time is pamtester's whole process (exec, libpam
with pam_wrapper, loading the module, the conversation, the check, the state
write), measured around subprocess.run.

pam_google_authenticator is configured without DISALLOW_REUSE (its default
when the file has no such line): it then accepts a reused code. It checks
the file's owner against the user it runs as, so it is given user=<this
account>; the other two read a root- (or self-) owned file.

Needs: pamtester, libpam-wrapper, libpam-oath, libpam-google-authenticator.
"""
import base64
import hashlib
import hmac
import os
import pwd
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time

from stats import p99

WRAPPER = "/usr/lib/x86_64-linux-gnu/libpam_wrapper.so"
SECDIR = "/lib/x86_64-linux-gnu/security"
ME = pwd.getpwuid(os.geteuid()).pw_name


def totp(key, at):
    mac = hmac.new(key, struct.pack(">Q", int(at // 30)), hashlib.sha1).digest()
    o = mac[-1] & 0x0F
    return str((struct.unpack(">I", mac[o:o + 4])[0] & 0x7FFFFFFF) % 10**6).zfill(6)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    build = os.path.abspath(sys.argv[1])
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    module = os.path.join(build, "pam_module", "pam_gate.so")
    for path in (module, WRAPPER, f"{SECDIR}/pam_oath.so",
                 f"{SECDIR}/pam_google_authenticator.so", shutil.which("pamtester") or ""):
        if not path or not os.path.exists(path):
            sys.exit(f"missing {path or 'pamtester'}")

    work = tempfile.mkdtemp(prefix="gate-bench-pam-")
    os.chmod(work, 0o700)
    services = os.path.join(work, "pam.d")
    os.mkdir(services)
    gate_auth = os.path.join(work, "gate.authfile")
    oath_users = os.path.join(work, "users.oath")
    ga_dir = os.path.join(work, "ga")
    os.mkdir(ga_dir, 0o700)
    state = os.path.join(work, "gate-state")
    config = {
        "pam_gate": f"auth required {module} source=local authfile={gate_auth} "
                    f"state_dir={state} window=1",
        "pam_oath": f"auth required pam_oath.so usersfile={oath_users} window=1 digits=6",
        "pam_google_authenticator": f"auth required pam_google_authenticator.so "
                                    f"secret={ga_dir}/${{USER}} user={ME}",
    }
    for name, line in config.items():
        with open(os.path.join(services, name), "w") as f:
            f.write(line + "\n")
    env = dict(os.environ, LD_PRELOAD=WRAPPER, PAM_WRAPPER="1", PAM_WRAPPER_SERVICE_DIR=services)

    def prepare(name, user, key):
        # A returning user: the replay state exists and holds an old step
        # (as pam_oath's usersfile line does), so the run measures a login,
        # not the first one ever (which also creates the directory and files).
        os.makedirs(state, mode=0o700, exist_ok=True)
        state_file = os.path.join(state, f"{user}.state")
        with open(os.open(state_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write("v1 1 0 0" + " " * 55 + "\n")
        b32 = base64.b32encode(key).decode().rstrip("=")
        if name == "pam_gate":
            path, text = gate_auth, f"{user}:totp:sha1:6:{b32}\n"
        elif name == "pam_oath":
            path, text = oath_users, f"HOTP/T30/6 {user} - {key.hex()}\n"
        else:
            path = os.path.join(ga_dir, user)
            text = f'{b32}\n" RATE_LIMIT 100 30\n" WINDOW_SIZE 3\n" TOTP_AUTH\n'
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o600)

    times = {name: [] for name in config}
    failures = {name: 0 for name in config}
    for i in range(runs):
        for name in config:
            user = ME
            key = os.urandom(20)
            prepare(name, user, key)
            code = totp(key, time.time())
            start = time.perf_counter()
            proc = subprocess.run(["pamtester", name, user, "authenticate"], input=code + "\n",
                                  capture_output=True, text=True, env=env)
            elapsed = time.perf_counter() - start
            if proc.returncode != 0:
                failures[name] += 1
                if failures[name] == 1:
                    print(f"{name} failed: {proc.stdout}{proc.stderr}", file=sys.stderr)
                continue
            times[name].append(elapsed * 1000)

    base = statistics.median(times["pam_oath"]) if times["pam_oath"] else float("nan")
    print(f"pamtester authenticate, {runs} runs per module, interleaved "
          f"({os.uname().nodename}, {os.cpu_count()} CPUs)")
    print("| module | p50 | p99 | p50 vs pam_oath | failed runs |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, values in times.items():
        if not values:
            print(f"| {name} | - | - | - | {failures[name]} |")
            continue
        p50, tail = statistics.median(values), p99(values)
        print(f"| {name} | {p50:.2f} ms | {tail:.2f} ms | {p50 / base:.2f}x | {failures[name]} |")
    shutil.rmtree(work, ignore_errors=True)
    return 0 if not any(failures.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
