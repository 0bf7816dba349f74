#!/usr/bin/env python3
"""Node sync by revision at scale (root): what an unchanged sync and a
one-user delta cost in bytes, what a full paged snapshot costs, and how
long a lock takes to reach a node's sshd, for a cluster of N users.

1. bytes on the wire (reply bodies) of GET /v1/nodes/policy for: an
   unchanged policy, a delta after adding one user, every page of the full
   snapshot;
2. `gate-node sync` wall time (N runs each, p50/p99): unchanged; the full
   paged sync of a node with no cache;
3. lock propagation: `gatectl users lock`, then one `gate-node sync`, then
   `ssh` refused; the time from the lock to the refusal.

Usage: sudo bench/node-sync.py [BUILD_DIR] [--users N] [--runs R]
"""
import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

from cluster import cached_revision, make_cluster, policy_get
from stats import p99

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))


def timed(fn, runs):
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build_dir", nargs="?", default="build")
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root: it creates an OS user and runs sshd and gate-node join")
    os.environ["GATE_BIN_DIR"] = os.path.abspath(args.build_dir)
    import harness  # noqa: E402

    work = tempfile.mkdtemp(prefix="gate-bench-")
    os.chmod(work, 0o755)
    ca = node = None
    try:
        ca, node, client = make_cluster(harness, work, args.users)

        def sync_ok():
            r = node.sync()
            assert r.returncode == 0, r.stdout + r.stderr
            return r.stdout

        sync_ok()
        revision = cached_revision(node)
        _, unchanged, reply = policy_get(ca, node, f"since={revision}")
        assert reply["shape"] == "unchanged", reply

        ca.gatectl("users", "add", "zz-delta", "--logins", "zz-delta", check=True)
        _, delta, reply = policy_get(ca, node, f"since={revision}")
        assert reply["shape"] == "delta" and len(reply["snapshot"]["users"]) == 1, reply
        sync_ok()

        pages, full_bytes, cursor = 0, 0, ""
        while True:
            query = "since=0" + (f"&cursor={cursor}" if cursor else "")
            _, raw, page = policy_get(ca, node, query)
            pages += 1
            full_bytes += len(raw)
            cursor = page.get("next", "")
            if not cursor:
                break

        unchanged_ms = timed(sync_ok, args.runs)
        full_path = os.path.join(node.data_dir, "sync-full-next")

        def full_sync():
            open(full_path, "w").close()  # the node's own "fetch everything next time"
            out = sync_ok()
            assert "full snapshot" in out, out

        full_ms = timed(full_sync, max(3, args.runs // 5))

        assert node.ssh("gtbench", client, "true").returncode == 0
        start = time.perf_counter()
        ca.gatectl("users", "lock", "zz-bench", "--message", "bench", check=True)
        out = sync_ok()
        synced = time.perf_counter()
        refused = node.ssh("gtbench", client, "true")
        done = time.perf_counter()
        assert refused.returncode != 0 and "delta" in out, out

        print(f"cluster: {args.users + 1} users, 1 role, 1 node; {args.runs} runs\n")
        print("| reply | bytes |")
        print("| --- | ---: |")
        print(f"| unchanged | {len(unchanged)} |")
        print(f"| delta, one user added | {len(delta)} |")
        print(f"| full snapshot ({pages} pages) | {full_bytes} |")
        print()
        print("| `gate-node sync` | p50 | p99 |")
        print("| --- | ---: | ---: |")
        print(f"| unchanged | {statistics.median(unchanged_ms):.0f} ms | {p99(unchanged_ms):.0f} ms |")
        print(f"| full, {pages} pages | {statistics.median(full_ms):.0f} ms | {p99(full_ms):.0f} ms |")
        print()
        print(f"lock -> sync done: {(synced - start) * 1000:.0f} ms; "
              f"lock -> ssh refused: {(done - start) * 1000:.0f} ms")
        return 0
    finally:
        if node:
            node.stop()
        if ca:
            ca.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
