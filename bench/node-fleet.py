#!/usr/bin/env python3
"""gate-ca's CPU and memory under a simulated fleet of nodes syncing.

Starts a real gate-ca (127.0.0.1, temp data dir), joins one node with the
real `gate-node join --no-reload`, then registers --nodes more nodes by
copying that node's row in gate-ca's SQLite store while gate-ca is stopped
(each copy with its own host UUID, host name and node secret, stored as
gate-ca stores it: the SHA-256 of the secret). A real join per node would
only add join cost, which is not what is measured here.

Then, with gate-ca running again, it measures (gate-ca's front-end process;
CPU is utime+stime from /proc/PID/stat over each phase, so the client's own
CPU on the same machine does not count):

  gate-node   the real `gate-node sync` run --gate-node-runs times, as the
              timer runs it (a new process, a new TLS connection each run):
              whatever sync request gate-node sends, with the joined node
  gate-node --every 1s
              one `gate-node sync --every 1s` process syncing as many
              times, its connection kept open between syncs
  new-tls     --syncs sync requests from the registered nodes, round-robin,
              each on a new TCP connection with a full TLS handshake (what
              gate-node sync costs gate-ca today, without process start-up)
  resumed     the same, each on a new TCP connection that resumes the
              node's previous TLS 1.3 session (a ticket from gate-ca)
  kept-open   the same requests on connections kept open between requests
              (HTTP keep-alive), each opened by an untimed request first:
              the cost of the request alone

A sync request is what an up-to-date gate-node sends: GET
/v1/nodes/policy?since=REVISION with the node's "Authorization: Bearer
<host_uuid>.<secret>", answered "unchanged" (--sync-target changes the
target). Requests run from --clients threads, bounded; source
addresses are spread over 127.0.0.0/8 so gate-ca's per-source connection
caps see many nodes, as in a real fleet.

gate-ca's RSS is read idle (after start, before any sync), "warm" (after
one sync per node and --settle seconds idle), and at the end of each of the
last three phases (--syncs each) and --settle seconds later; for kept-open
also with every node's connection still open, which gives gate-ca's memory
per open connection. From each phase's CPU per sync it derives how many
nodes one gate-ca core serves at a 30 s sync interval: 30 s / CPU per sync.

Usage: sudo bench/node-fleet.py BUILD_DIR [--nodes 2000] [--syncs 10000]
       [--users 10] [--clients 4] [--gate-node-runs 50] [--settle 15]
"""
import argparse
import hashlib
import json
import os
import resource
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import ssl
import sys
import tempfile
import threading
import time
import uuid

from nodes import join_node

harness = None  # tests/integration/harness.py, imported once GATE_BIN_DIR is set

INTERVAL = 30.0
TIMEOUT = 30
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def cpu_seconds(pid):
    """CPU time of pid's threads, in seconds: the sum of each thread's
    schedstat run time (nanoseconds; utime+stime in /proc/PID/stat counts
    10 ms ticks, too coarse for short phases). gate-ca's threads live as long
    as it does, so no thread's time is lost to an exit."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except FileNotFoundError:
            pass
    return total / 1e9


def cpu_ticks_seconds(pid):
    """utime + stime of pid from /proc/PID/stat, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_mib(pid):
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * PAGE / (1 << 20)


def mappings_kib(pid):
    """{mapping name: resident KiB} from /proc/PID/smaps."""
    out, name = {}, None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            fields = line.split()
            if "-" in fields[0] and len(fields) >= 5 and not fields[0].endswith(":"):
                name = fields[5] if len(fields) > 5 else "[anon]"
            elif fields[0] == "Rss:":
                out[name] = out.get(name, 0) + int(fields[1])
    return out


def register_nodes(db_path, template_uuid, count):
    """count copies of the joined node's row, each with its own identity
    and secret; returns [(host_uuid, secret)]. gate-ca must be stopped."""
    db = sqlite3.connect(db_path)
    try:
        columns = [r[1] for r in db.execute("PRAGMA table_info(nodes)")]
        label_rows = db.execute("SELECT label_name, label_value FROM node_labels WHERE host_uuid=?",
                                (template_uuid,)).fetchall()
        nodes = []
        for i in range(count):
            host_uuid, secret = str(uuid.uuid4()), secrets.token_hex(32)
            values = {"host_uuid": host_uuid, "hostname": f"fleet-{i}",
                      "secret_hash": hashlib.sha256(secret.encode()).hexdigest()}
            select = ", ".join("?" if c in values else c for c in columns)
            db.execute(f"INSERT INTO nodes ({', '.join(columns)}) SELECT {select} FROM nodes "
                       "WHERE host_uuid = ?",
                       [values[c] for c in columns if c in values] + [template_uuid])
            db.executemany("INSERT INTO node_labels (host_uuid, label_name, label_value) "
                           "VALUES (?, ?, ?)", [(host_uuid, n, v) for n, v in label_rows])
            nodes.append((host_uuid, secret))
        db.commit()
        return nodes
    finally:
        db.close()


def policy_revision(ca):
    """gate-ca's policy revision, read from its store (gate-ca stopped)."""
    db = sqlite3.connect(os.path.join(ca.data_dir, "gate.db"))
    try:
        return db.execute("SELECT revision FROM policy_revision WHERE id = 1").fetchone()[0]
    finally:
        db.close()


class SyncClient:
    """One simulated node's HTTPS client: a raw HTTP/1.1 GET over Python's
    ssl (no http.client, so TLS sessions can be resumed)."""

    def __init__(self, port, target, context, host_uuid, secret, source):
        self.port, self.target, self.context, self.source = port, target, context, source
        self.request_head = (f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                             f"Authorization: Bearer {host_uuid}.{secret}\r\n"
                             "Accept: application/json\r\n")
        self.session = None
        self.sock = None
        self.resumed = 0

    def connect(self, resume):
        raw = socket.create_connection(("127.0.0.1", self.port), timeout=TIMEOUT,
                                       source_address=(self.source, 0))
        session = self.session if resume else None
        self.sock = self.context.wrap_socket(raw, server_hostname="127.0.0.1", session=session)
        self.resumed += self.sock.session_reused

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def sync(self, mode):
        """One sync request; returns (status, body bytes)."""
        if self.sock is None:
            self.connect(resume=mode == "resumed")
        keep = mode == "kept-open"
        self.sock.sendall((self.request_head + ("" if keep else "Connection: close\r\n") +
                           "\r\n").encode())
        status, body = read_response(self.sock)
        # TLS 1.3 tickets arrive after the handshake: read with the reply.
        self.session = self.sock.session
        if not keep:
            self.close()
        return status, len(body)


def read_response(sock):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed before the reply's headers")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = sock.recv(max(65536, length - len(body)))
        if not chunk:
            raise ConnectionError("connection closed in the reply's body")
        body += chunk
    return status, body


def open_connections(clients, workers):
    """One untimed request per client on a connection it keeps open, so the
    kept-open phase measures requests, not the handshakes that opened them
    (a node keeps its connection for hours)."""
    groups = [clients[i::workers] for i in range(workers)]

    def worker(group):
        for client in group:
            try:
                client.sync("kept-open")
            except (OSError, ConnectionError, ValueError):
                client.close()

    threads = [threading.Thread(target=worker, args=(g,)) for g in groups if g]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def run_phase(pid, clients, mode, syncs, workers, settle=0.0, perf_data=None):
    """syncs requests from the clients (round-robin), on `workers` threads.
    Returns a dict of the phase's figures, with gate-ca's RSS at its end
    (rss_end) and `settle` seconds later (rss_settled: for kept-open, every
    node's connection still open; rss_closed: `settle` s after closing them)."""
    lock = threading.Lock()
    next_index = [0]
    statuses, body_bytes, errors = {}, [0], []
    groups = [clients[i::workers] for i in range(workers)]

    def worker(group):
        position = 0
        while True:
            with lock:
                if next_index[0] >= syncs:
                    return
                next_index[0] += 1
            client = group[position % len(group)]
            position += 1
            try:
                status, size = client.sync(mode)
            except (OSError, ConnectionError, ValueError) as e:
                client.close()
                status, size = "error", 0
                with lock:
                    errors.append(str(e))
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
                body_bytes[0] += size

    for c in clients:
        c.resumed = 0
    profiler = None
    if perf_data:
        profiler = subprocess.Popen(["perf", "record", "-q", "-g", "-o", perf_data, "-p",
                                     str(pid)], stdout=subprocess.DEVNULL)
        time.sleep(1)
    cpu0, ticks0, wall0 = cpu_seconds(pid), cpu_ticks_seconds(pid), time.perf_counter()
    threads = [threading.Thread(target=worker, args=(g,)) for g in groups if g]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    cpu = cpu_seconds(pid) - cpu0
    ticks = cpu_ticks_seconds(pid) - ticks0
    if profiler:
        profiler.send_signal(signal.SIGINT)
        profiler.wait()
    wall = time.perf_counter() - wall0
    rss_end = rss_mib(pid)
    time.sleep(settle)
    # For kept-open, with every node's connection still open.
    still_open = sum(c.sock is not None for c in clients)
    rss_settled = rss_mib(pid)
    for c in clients:
        c.close()
    rss_closed = rss_settled
    if still_open:
        time.sleep(settle)
        rss_closed = rss_mib(pid)
    ok = statuses.get(200, 0)
    return {"mode": mode, "syncs": syncs, "ok": ok, "statuses": statuses,
            "errors": errors[:3], "cpu_ms": cpu * 1000 / max(1, ok),
            "tick_ms": ticks * 1000 / max(1, ok), "wall_s": wall,
            "open_connections": still_open, "rss_end": rss_end,
            "rss_settled": rss_settled, "rss_closed": rss_closed,
            "bytes": body_bytes[0] / max(1, ok),
            "resumed": sum(c.resumed for c in clients)}


def run_gate_node(pid, node, runs, every):
    """`gate-node sync` run `runs` times as the timer runs it, or (every)
    one `gate-node sync --every 1s --runs N` process."""
    cpu0 = cpu_seconds(pid)
    failed = 0
    if every:
        result = harness.run([harness.binary("gate-node"), "sync", "--every", "1s", "--runs",
                              str(runs), "--no-reload", *node.paths()], timeout=runs * 10 + 60)
        failed = sum("update failed" in l for l in result.stdout.splitlines())
    else:
        for _ in range(runs):
            failed += node.sync().returncode != 0
    cpu = cpu_seconds(pid) - cpu0
    return {"mode": "gate-node --every 1s" if every else "gate-node", "syncs": runs,
            "ok": runs - failed,
            "statuses": {"exit 0": runs - failed, "exit != 0": failed}, "errors": [],
            "cpu_ms": cpu * 1000 / runs, "tick_ms": None, "wall_s": 0.0, "bytes": 0.0, "resumed": None}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build_dir")
    parser.add_argument("--nodes", type=int, default=2000, help="registered nodes")
    parser.add_argument("--syncs", type=int, default=10000, help="sync requests per phase")
    parser.add_argument("--users", type=int, default=10, help="users in the policy")
    parser.add_argument("--clients", type=int, default=4, help="client threads")
    parser.add_argument("--sources", type=int, default=200,
                        help="source addresses (127.0.1.x..) the nodes are spread over")
    parser.add_argument("--gate-node-runs", type=int, default=50)
    parser.add_argument("--settle", type=float, default=15.0,
                        help="seconds idle before the settled RSS is read")
    parser.add_argument("--sync-target",
                        help="the simulated nodes' request (default: what an up-to-date "
                             "gate-node sends, /v1/nodes/policy?since=<gate-ca's revision>, "
                             "answered 'unchanged'; /v1/nodes/policy alone is the full "
                             "snapshot an old gate-node asks for)")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--perf", metavar="MODE:FILE",
                        help="record that phase with perf record -g into FILE")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root: gate-node join writes a root-owned node.json")
    os.environ["GATE_BIN_DIR"] = os.path.abspath(args.build_dir)
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                    "integration"))
    global harness
    import harness  # noqa: E402 (needs GATE_BIN_DIR first)

    # Kept-open mode holds one connection per node: room for all of them
    # (descriptors, gate-ca's caps), and an idle timeout longer than a round
    # of the fleet.
    files = args.nodes + 4096
    resource.setrlimit(resource.RLIMIT_NOFILE, (files, files))
    per_source = args.nodes // args.sources + 64
    limits = (f"  limits:\n    max_connections: {args.nodes + 1024}\n"
              f"    max_connections_per_source: {per_source}\n    idle_timeout: 10m\n")
    work = tempfile.mkdtemp(prefix="gate-fleet-")
    ca = harness.GateCA(work, config_extra=limits).start()
    try:
        for i in range(args.users):
            ca.gatectl("users", "add", f"user{i}", "--logins", f"user{i}", check=True)
        node, state = join_node(harness, ca, work)
        ca.stop()
        print(f"registering {args.nodes} nodes in the store ...", file=sys.stderr)
        nodes = register_nodes(os.path.join(ca.data_dir, "gate.db"), state["host_uuid"],
                               args.nodes)
        if args.sync_target is None:
            args.sync_target = f"/v1/nodes/policy?since={policy_revision(ca)}"
        port = ca.port
        ca.start()
        assert ca.port == port
        pid = ca.proc.pid
        time.sleep(2)
        rss_idle = rss_mib(pid)
        maps_idle = mappings_kib(pid)

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.minimum_version = ssl.TLSVersion.TLSv1_3
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # gate-ca's pin is not what is measured
        sources = [f"127.0.{1 + i // 250}.{1 + i % 250}" for i in range(args.sources)]
        clients = [SyncClient(port, args.sync_target, context, u, s, sources[i % len(sources)])
                   for i, (u, s) in enumerate(nodes)]

        phases = []
        print(f"gate-node sync x{args.gate_node_runs} ...", file=sys.stderr)
        phases.append(run_gate_node(pid, node, args.gate_node_runs, every=False))
        print(f"gate-node sync --every 1s --runs {args.gate_node_runs} ...", file=sys.stderr)
        phases.append(run_gate_node(pid, node, args.gate_node_runs, every=True))
        # One request per node first, so each has a session to resume; then
        # the warm idle figure: code paged in, caches filled, trimmed once.
        run_phase(pid, clients, "new-tls", len(clients), args.clients)
        time.sleep(args.settle)
        rss_warm = rss_mib(pid)
        for mode in ("new-tls", "resumed", "kept-open"):
            print(f"{mode}: {args.syncs} syncs ...", file=sys.stderr)
            perf_data = None
            if args.perf and args.perf.split(":", 1)[0] == mode:
                perf_data = args.perf.split(":", 1)[1]
            if mode == "kept-open":
                open_connections(clients, args.clients)
            phases.append(run_phase(pid, clients, mode, args.syncs, args.clients, args.settle,
                                    perf_data))
        maps_settled = mappings_kib(pid)
    finally:
        ca.stop()
        shutil.rmtree(work, ignore_errors=True)

    base = next(p for p in phases if p["mode"] == "new-tls")["cpu_ms"]
    print(f"\n{args.nodes + 1} nodes, {args.users} users, {args.clients} client threads; "
          f"gate-ca front end CPU (utime+stime) per sync\n")
    print("| mode | syncs | 200 | gate-ca CPU per sync | vs new TLS | nodes per core at 30 s "
          "| reply bytes | resumed |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for p in phases:
        per_core = INTERVAL * 1000 / p["cpu_ms"] if p["cpu_ms"] > 0 else float("inf")
        print(f"| {p['mode']} | {p['syncs']} | {p['ok']} | {p['cpu_ms']:.3f} ms "
              f"| {p['cpu_ms'] / base:.2f}x | {per_core:,.0f} | {p['bytes']:,.0f} "
              f"| {'-' if p['resumed'] is None else p['resumed']} |")
        if p["errors"]:
            print(f"|   errors: {p['errors']} statuses {p['statuses']} |")
    print(f"\ngate-ca RSS: {rss_idle:.1f} MiB idle after start; {rss_warm:.1f} MiB warm (after "
          f"one sync per node and {args.settle:.0f} s idle). Each phase in turn, its RSS at its "
          f"end and {args.settle:.0f} s later (target: back within 1.20x of idle):\n")
    print("| after | RSS at end | settled | vs idle | vs warm |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for p in phases:
        if "rss_end" not in p:
            continue
        settled = p["rss_closed"]
        print(f"| {p['syncs']} {p['mode']} syncs | {p['rss_end']:.1f} MiB | {settled:.1f} MiB "
              f"| {settled / rss_idle:.2f}x | {settled / rss_warm:.2f}x |")
    kept = next(p for p in phases if p["mode"] == "kept-open")
    if kept["open_connections"]:
        per_connection = (kept["rss_settled"] - rss_warm) * 1024 / kept["open_connections"]
        print(f"\nkept-open: {kept['open_connections']} connections open and idle, gate-ca RSS "
              f"{kept['rss_settled']:.1f} MiB: {per_connection:.0f} KiB per open connection "
              f"(over the warm figure)")
    grown = sorted(((maps_settled.get(k, 0) - maps_idle.get(k, 0), k) for k in maps_settled),
                   reverse=True)[:4]
    print("grew most, idle to the end: " +
          ", ".join(f"{k} +{v} KiB" for v, k in grown if v > 0))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"phases": phases, "rss_idle": rss_idle, "rss_warm": rss_warm}, f,
                      indent=1)


if __name__ == "__main__":
    main()
