#!/usr/bin/env python3
"""gate-principals cost, measured two ways on one machine in one run (root).

1. Exec latency of the hook itself (posix_spawn + wait, N runs each):
   gate-principals deciding a real certificate against a real cache, versus a
   one-line /bin/sh hook that prints the login.
2. Full `ssh -p PORT login@127.0.0.1 true` latency against one real sshd whose
   principals rule is switched between: gate's drop-in (gate-principals),
   AuthorizedPrincipalsFile, and the /bin/sh hook. Target: gate adds <= 5%.

Usage: sudo bench/principals-latency.py [BUILD_DIR] [--exec-runs N] [--ssh-runs N]
"""
import argparse
import os
import re
import shutil
import signal
import statistics
import sys
import tempfile
import time

from stats import p99

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))

PASSWORD = "correct horse battery"


def time_exec(argv, runs):
    samples = []
    devnull = os.open(os.devnull, os.O_WRONLY)
    for _ in range(runs):
        start = time.perf_counter()
        pid = os.posix_spawn(argv[0], argv, os.environ,
                             file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 1)])
        os.waitpid(pid, 0)
        samples.append((time.perf_counter() - start) * 1000)
    os.close(devnull)
    return samples


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build_dir", nargs="?", default="build")
    parser.add_argument("--exec-runs", type=int, default=1000)
    parser.add_argument("--ssh-runs", type=int, default=60)
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root: it creates an OS user and runs sshd and gate-node join")
    os.environ["GATE_BIN_DIR"] = os.path.abspath(args.build_dir)
    import harness  # noqa: E402

    work = tempfile.mkdtemp(prefix="gate-bench-")
    os.chmod(work, 0o755)
    ca = harness.GateCA(work, rate_limit=(100000, 10000)).start()
    node = None
    try:
        harness.ensure_os_user("gtbench")
        token = re.search(r"/web/newuser/([0-9a-f]{32})",
                          ca.gatectl("users", "add", "bench", "--logins", "gtbench",
                                     check=True).stdout).group(1)
        client = harness.Client(work, ca, "bench")
        result, device = client.signup(token, PASSWORD)
        assert result.returncode == 0, result.stderr
        assert client.login("bench", PASSWORD, device.code()).returncode == 0
        node = harness.Node(work).start()
        join_token = re.search(r"The node join token: ([0-9a-f]{32})", ca.gatectl(
            "tokens", "add", "--type=node", "--principals", "127.0.0.1",
            check=True).stdout).group(1)
        joined = node.join(ca, join_token, "--principals", "127.0.0.1")
        assert joined.returncode == 0, joined.stderr

        cache = os.path.join(node.data_dir, "cache")
        with open(client.cert) as f:
            cert_type, cert_b64 = f.read().split()[:2]
        sh_hook = os.path.join(os.path.dirname(node.principals_command), "sh-principals")
        with open(sh_hook, "w") as f:
            f.write('#!/bin/sh\necho "$1"\n')
        os.chmod(sh_hook, 0o755)

        gate_exec = time_exec([node.principals_command, "--cache", cache, "gtbench", cert_type,
                               cert_b64], args.exec_runs)
        sh_exec = time_exec([sh_hook, "gtbench"], args.exec_runs)

        drop_in = os.path.join(node.conf_d, "50-gate.conf")
        with open(drop_in) as f:
            gate_conf = f.read()
        # sshd's StrictModes wants a root-owned path, as for the command.
        principals_file = os.path.join(os.path.dirname(node.principals_command),
                                       "bench-principals")
        with open(principals_file, "w") as f:
            f.write("gtbench\n")
        variants = {
            "gate (gate-principals)": gate_conf,
            "AuthorizedPrincipalsFile": re.sub(
                r"AuthorizedPrincipalsCommand .*\nAuthorizedPrincipalsCommandUser .*\n",
                f"AuthorizedPrincipalsFile {principals_file}\n", gate_conf),
            "/bin/sh hook": re.sub(r"AuthorizedPrincipalsCommand .*\n",
                                   f"AuthorizedPrincipalsCommand {sh_hook} %u\n", gate_conf),
        }
        ssh_results = {}
        for _ in range(2):  # interleave rounds so drift hits every variant alike
            for name, conf in variants.items():
                with open(drop_in, "w") as f:
                    f.write(conf)
                os.kill(node.proc.pid, signal.SIGHUP)
                time.sleep(0.3)
                node.wait_listening()
                assert node.ssh("gtbench", client, "true").returncode == 0, name
                for _ in range(args.ssh_runs // 2):
                    start = time.perf_counter()
                    r = node.ssh("gtbench", client, "true")
                    ssh_results.setdefault(name, []).append((time.perf_counter() - start) * 1000)
                    assert r.returncode == 0, (name, r.stderr)
        with open(drop_in, "w") as f:
            f.write(gate_conf)

        print("| hook exec | p50 | p99 |")
        print("| --- | ---: | ---: |")
        print(f"| gate-principals | {statistics.median(gate_exec):.2f} ms | {p99(gate_exec):.2f} ms |")
        print(f"| /bin/sh one-liner | {statistics.median(sh_exec):.2f} ms | {p99(sh_exec):.2f} ms |")
        print()
        base = statistics.median(ssh_results["AuthorizedPrincipalsFile"])
        print("| `ssh ... true` login via | p50 | p99 | p50 vs AuthorizedPrincipalsFile |")
        print("| --- | ---: | ---: | ---: |")
        for name, samples in ssh_results.items():
            p50 = statistics.median(samples)
            print(f"| {name} | {p50:.1f} ms | {p99(samples):.1f} ms | {p50 / base:.3f}x |")
        return 0
    finally:
        if node:
            node.stop()
            for helper in ("bench-principals", "sh-principals"):
                path = os.path.join(os.path.dirname(node.principals_command), helper)
                if os.path.exists(path):
                    os.unlink(path)
        ca.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
