#!/usr/bin/env python3
"""`gate login` end-to-end latency, and concurrent logins.

Starts a real gate-ca (127.0.0.1, temp data dir), signs up N users through
`gate signup`, then measures:
  1. sequential `gate login` wall time per process (p50/p99): process start,
     TLS handshake, ping, argon2id verification, TOTP, issuance, files written;
  2. CONCURRENCY logins at once (distinct users), counting errors.

Usage: bench/login-latency.py [BUILD_DIR] [--users N] [--concurrency C]
"""
import argparse
import concurrent.futures
import os
import shutil
import statistics
import sys
import tempfile
import time

from stats import p99
from users import sign_up

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))

PASSWORD = "correct horse battery"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build_dir", nargs="?", default="build")
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    os.environ["GATE_BIN_DIR"] = os.path.abspath(args.build_dir)
    import harness  # noqa: E402 (needs GATE_BIN_DIR first)

    work = tempfile.mkdtemp(prefix="gate-bench-")
    ca = harness.GateCA(work, rate_limit=(100000, 10000)).start()
    try:
        total = args.users + args.concurrency
        print(f"signing up {total} users ...", file=sys.stderr)
        users = sign_up(harness, ca, work, [f"bench{i}" for i in range(total)], PASSWORD)

        sequential = []
        for name, client, device in users[:args.users]:
            code = device.code()
            start = time.perf_counter()
            result = client.login(name, PASSWORD, code, extra=("--ca-pin", ca.pin))
            sequential.append((time.perf_counter() - start) * 1000)
            if result.returncode != 0:
                raise SystemExit(result.stderr)

        def one(entry):
            name, client, device = entry
            start = time.perf_counter()
            result = client.login(name, PASSWORD, device.code(), extra=("--ca-pin", ca.pin))
            return result.returncode, (time.perf_counter() - start) * 1000, result.stderr

        batch = users[args.users:]
        start = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(batch)) as pool:
            results = list(pool.map(one, batch))
        wall = time.perf_counter() - start
        errors = [r for r in results if r[0] != 0]
        concurrent_ms = [r[1] for r in results]

        print("| measurement | value |")
        print("| --- | --- |")
        print(f"| sequential logins | {len(sequential)} |")
        print(f"| login p50 | {statistics.median(sequential):.0f} ms |")
        print(f"| login p99 | {p99(sequential):.0f} ms |")
        print(f"| concurrent logins | {len(batch)} at once, {len(errors)} errors |")
        print(f"| concurrent wall time | {wall:.2f} s |")
        print(f"| concurrent p50 / p99 | {statistics.median(concurrent_ms):.0f} / "
              f"{p99(concurrent_ms):.0f} ms |")
        for e in errors[:5]:
            print("error:", e[2].strip(), file=sys.stderr)
        return 1 if errors else 0
    finally:
        ca.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
