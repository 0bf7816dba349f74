#!/usr/bin/env python3
"""gate-record throughput and keystroke echo latency, against the peers the
recorder issue names, on this machine, in one run.

    sudo bench/recorder.py BUILD_DIR [--mib 128] [--runs 3] [--keys 400]

Throughput: MIB MiB of colored terminal output (an `ls --color`-like listing:
an SGR sequence every few bytes) printed by `cat F` inside a recorder that
itself runs inside an outer pty, as under sshd. Variants, interleaved run by
run, the median of RUNS each:

  limit       script -q -c "script -q -c 'cat F' /dev/null" /dev/null
              (two nested ptys, nothing recorded: the best any pty recorder
              can do)
  script      the inner script writing its log file
  asciinema   asciinema rec -c 'cat F' (Debian's asciinema 2.2)
  tlog-rec    tlog-rec --writer=file cat F (Debian's tlog; needs /var/run/utmp)
  gate-record gate-record in exec-pty mode (SSH_ORIGINAL_COMMAND='cat F'),
              recording to a spool on the same file system

Reported: MiB/s, the ratio to `limit`, and bytes written per input byte.

Echo latency: one byte written to the outer pty, timed until it comes back
(the inner terminal's line discipline echoes it through the recorder), KEYS
times, for `limit` (cat inside two nested ptys) and gate-record (cat under
gate-record); the difference of the percentiles is what recording adds.

gate-record runs here as root, not setuid: what it does per byte is the same.
Its identity comes from a throwaway CA made with ssh-keygen and a node cache
written for it (a user "bench" allowed to log in as root), so no gate-ca is
needed. Targets (issue): >= 0.8x limit, >= 2x tlog-rec and asciinema, added
p99 echo latency < 1 ms.
"""
import argparse
import json
import os
import pty
import select
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from stats import p99

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
import policy_db  # noqa: E402

SGR = ["\x1b[0m", "\x1b[01;34m", "\x1b[01;32m", "\x1b[01;36m", "\x1b[40;33;01m", "\x1b[01;31m"]
WORDS = ["bin", "lib", "share", "gate-record", "libcrypto.so.3", "README.md", "x86_64-linux-gnu",
         "python3.11", "node_modules", "CMakeLists.txt", "sessions", "2026-11-25.log"]


def colored_block(size):
    """~size bytes of colored listing, lines of about 80 columns."""
    out, line, i = [], 0, 0
    total = 0
    while total < size:
        color = SGR[1 + i % (len(SGR) - 1)]
        word = WORDS[(i * 7) % len(WORDS)]
        item = f"{color}{word}{SGR[0]}  "
        out.append(item)
        total += len(item)
        line += len(word) + 2
        if line > 70:
            out.append("\r\n")
            total += 2
            line = 0
        i += 1
    return "".join(out).encode()


def make_input(path, mib):
    block = colored_block(1 << 20)
    with open(path, "wb") as f:
        for _ in range(mib):
            f.write(block)
    return os.path.getsize(path)


def setup_gate_record(build, work):
    """Root-owned settings, key and node cache for a root-run gate-record."""
    recorder = os.path.join(build, "recorder", "gate-record")
    if not os.path.exists(recorder):
        sys.exit(f"missing {recorder}")
    cache = os.path.join(work, "cache")
    spool = os.path.join(work, "spool")
    run = os.path.join(work, "run")
    for d in (cache, spool, run):
        os.makedirs(d, mode=0o755)
    os.chmod(spool, 0o700)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", f"{work}/ca"], check=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", f"{work}/user"], check=True)
    subprocess.run(["ssh-keygen", "-q", "-s", f"{work}/ca", "-I", "bench", "-n", "root", "-V",
                    "-5m:+2h", f"{work}/user.pub"], check=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", f"{work}/recorder.key"],
                   check=True)
    shutil.copy(f"{work}/ca.pub", f"{cache}/user_ca.pub")
    policy = {"version": 1, "cluster_name": "bench", "host_uuid": "00000000-0000-4000-8000-000000000001",
              "generated_at": int(time.time()), "node_labels": {},
              "users": [{"name": "bench", "logins": ["root"], "roles": []}],
              "roles": [], "locks": [], "revoked_serials": []}
    policy_db.write_snapshot(f"{cache}/policy.db", policy)
    for name in os.listdir(cache):
        os.chmod(os.path.join(cache, name), 0o644)
    settings = {"version": 1, "cluster_name": "bench",
                "host_uuid": policy["host_uuid"], "node_name": "bench", "proxy": "127.0.0.1:3080",
                "cache_dir": cache, "spool_dir": spool, "run_dir": run,
                "key_file": f"{work}/recorder.key", "flush_interval_ms": 100,
                "record_input": False, "record_exec_output": False}
    config = os.path.join(work, "recorder.json")
    with open(config, "w") as f:
        json.dump(settings, f)
    os.chmod(config, 0o644)
    with open(f"{work}/user-cert.pub") as f:
        cert = f.read().split()
    auth = os.path.join(work, "auth-info")
    with open(auth, "w") as f:
        f.write(f"publickey {cert[0]} {cert[1]}\n")
    env = {"SSH_USER_AUTH": auth}
    return recorder, config, spool, env


def outer(inner):
    return ["script", "-q", "-e", "-c", inner, "/dev/null"]


def timed(argv, env):
    start = time.perf_counter()
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, env=env)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{shlex.join(argv)} failed ({proc.returncode}): {proc.stderr[-500:]!r}")
    return elapsed


def dir_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            total += os.path.getsize(os.path.join(root, name))
    return total


def clear(path):
    for root, _, files in os.walk(path):
        for name in files:
            os.unlink(os.path.join(root, name))


def echo_latency(argv, env, keys):
    """Seconds from writing one byte to the outer pty to reading it back."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe(argv[0], argv, env)
    try:
        time.sleep(0.5)  # let the inner program start; drain its banner
        while select.select([fd], [], [], 0.2)[0]:
            os.read(fd, 65536)
        samples = []
        for i in range(keys):
            ch = bytes([ord("a") + i % 26])
            start = time.perf_counter()
            os.write(fd, ch)
            got = b""
            while ch not in got:
                if not select.select([fd], [], [], 5)[0]:
                    raise SystemExit(f"no echo from {shlex.join(argv)}")
                got += os.read(fd, 1024)
            samples.append(time.perf_counter() - start)
            if i % 60 == 59:
                os.write(fd, b"\r")  # keep lines short
                time.sleep(0.01)
                while select.select([fd], [], [], 0.01)[0]:
                    os.read(fd, 65536)
        return samples
    finally:
        os.write(fd, b"\x04")
        time.sleep(0.2)
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
        os.close(fd)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("build")
    parser.add_argument("--mib", type=int, default=128)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keys", type=int, default=400)
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root (gate-record's settings must be root's)")
    for tool in ("script", "asciinema", "tlog-rec", "ssh-keygen"):
        if not shutil.which(tool):
            sys.exit(f"missing {tool}")
    if not os.path.exists("/var/run/utmp"):
        open("/var/run/utmp", "a").close()  # tlog-rec refuses to start without it

    # Not under /tmp: the settings' directories must all be root's and not
    # world-writable. /var/lib is on disk, as a real spool is.
    work = tempfile.mkdtemp(prefix="gate-bench-rec-", dir="/var/lib")
    os.chmod(work, 0o755)
    try:
        data = os.path.join(work, "colored.txt")
        size = make_input(data, args.mib)
        logs = os.path.join(work, "logs")
        os.mkdir(logs)
        recorder, config, spool, rec_env = setup_gate_record(os.path.abspath(args.build), work)
        env = dict(os.environ, TERM="xterm-256color")
        gate_env = dict(env, SSH_ORIGINAL_COMMAND=f"cat {data}", **rec_env)
        variants = {
            "limit": (outer(f"script -q -c {shlex.quote('cat ' + data)} /dev/null"), env, None),
            "script": (outer(f"script -q -c {shlex.quote('cat ' + data)} {logs}/script.log"), env,
                       logs),
            "asciinema": (outer(f"asciinema rec -q --overwrite -c {shlex.quote('cat ' + data)} "
                                f"{logs}/asciinema.cast"), env, logs),
            "tlog-rec": (outer(f"tlog-rec --writer=file --file-path={logs}/tlog.log cat {data}"),
                         env, logs),
            "gate-record": (outer(f"{recorder} --config {config}"), gate_env, spool),
        }
        times = {name: [] for name in variants}
        written = {name: 0 for name in variants}
        for _ in range(args.runs):
            for name, (argv, venv, out) in variants.items():
                if out:
                    clear(out)
                times[name].append(timed(argv, venv))
                if out:
                    written[name] = dir_bytes(out)
                    clear(out)

        mib = size / (1 << 20)
        limit = mib / statistics.median(times["limit"])
        print(f"{mib:.0f} MiB of colored output, {args.runs} runs each, interleaved "
              f"({os.uname().nodename}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f})")
        print("| variant | MiB/s | vs limit | bytes written per input byte |")
        print("| --- | ---: | ---: | ---: |")
        rates = {}
        for name in variants:
            rate = mib / statistics.median(times[name])
            rates[name] = rate
            per_byte = written[name] / size if variants[name][2] else 0
            print(f"| {name} | {rate:.1f} | {rate / limit:.2f}x | {per_byte:.2f} |")
        print(f"gate-record vs tlog-rec: {rates['gate-record'] / rates['tlog-rec']:.2f}x, "
              f"vs asciinema: {rates['gate-record'] / rates['asciinema']:.2f}x")

        echo_limit = echo_latency(outer("script -q -c cat /dev/null"), env, args.keys)
        echo_gate = echo_latency(outer(f"{recorder} --config {config}"),
                                 dict(env, SSH_ORIGINAL_COMMAND="cat", **rec_env), args.keys)
        clear(spool)
        ms = lambda v: v * 1000
        print()
        print(f"keystroke echo, {args.keys} keys")
        print("| variant | p50 | p99 |")
        print("| --- | ---: | ---: |")
        for name, s in (("limit (cat in two ptys)", echo_limit), ("gate-record", echo_gate)):
            print(f"| {name} | {ms(statistics.median(s)):.3f} ms | {ms(p99(s)):.3f} ms |")
        added50 = ms(statistics.median(echo_gate) - statistics.median(echo_limit))
        added99 = ms(p99(echo_gate) - p99(echo_limit))
        print(f"added by gate-record: p50 {added50:.3f} ms, p99 {added99:.3f} ms")
        ok = (rates["gate-record"] >= 0.8 * limit
              and rates["gate-record"] >= 2 * max(rates["tlog-rec"], rates["asciinema"])
              and added99 < 1.0)
        print("targets:", "met" if ok else "NOT met")
        return 0 if ok else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
