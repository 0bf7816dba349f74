#!/usr/bin/env python3
"""Node sync and central OTP latency for one source while another floods
gate-ca with logins; run against two builds in one invocation (e.g. the
commit before a serving change and after), so the figures share a machine
and its load.

For each build it starts a real gate-ca (127.0.0.1, temp data dir, rate
limit out of the way so every flooding login reaches argon2id), joins a node
with the real `gate-node join --no-reload` (root: node.json is root's), signs
up users through `gate signup`, then measures from source 127.0.0.3 (all of
127/8 is local on Linux; client sockets are bound to it):
  sync   GET /v1/nodes/policy with the node's credentials, a new TLS
         connection each time, as gate-node sync does
  otp    POST /v1/nodes/otp/verify with a fresh code of a signed-up user
         (each user once: a code is single use), as gate-node otp-relay does
first idle, then while FLOOD clients on 127.0.0.2 (threads of a separate
process at nice --flood-nice, see Flood) each send wrong-password logins
back to back until the measurement ends (at most --flood-seconds, or
--flood-logins each when set). Every flooding login names a user of its own:
the login throttle counts failures per source and name, so logins that
repeated one name would be refused with 429 before argon2id after 5 tries,
and the flood would cost the server nothing. A client whose login gets 503
(queue full) tries again after --flood-pause seconds instead of the 2 s its
Retry-After asks for. A request that fails, times out (30 s) or
gets an unexpected status is an error. Then `gate login` p50 (sequential,
idle) for the same build. Every client connection shares one TLS context
(test_serving.tls_context): making one per connection costs the client
about 20 ms, which earlier versions timed as the server's latency.

Usage: sudo bench/serving-flood.py NEW_BUILD_DIR [--base BASE_BUILD_DIR]
       [--flood 200] [--samples 150] [--otp-users 40]
"""
import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from nodes import join_node
from stats import p99
from users import sign_up

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from test_serving import call, connect  # noqa: E402

PASSWORD = "correct horse battery"
FLOOD = "127.0.0.2"
CLEAN = "127.0.0.3"
TIMEOUT = 30


def request(port, source, method, path, body=None, headers=None, conn=None):
    """(status, ms) of one request on conn, or on a new connection from
    source; status None on a transport failure or timeout."""
    own = conn is None
    start = time.perf_counter()
    try:
        if own:
            conn = connect(port, source, TIMEOUT)
        status = call(conn, method, path, body, headers)[0]
    except (OSError, http.client.HTTPException):
        status = None
    finally:
        if own and conn is not None:
            conn.close()
    return status, (time.perf_counter() - start) * 1000


class Flood:
    """FLOOD clients sending wrong-password logins from their own process.

    The flood runs in a separate Python process at nice --flood-nice (19 by
    default): on a real network the flooding clients' CPU is not the
    server's, and two cores shared at equal priority with 200 Python client
    threads would measure the client's share of the CPU rather than how
    gate-ca shares its own. In the same process the measuring requests would
    also wait for the flood threads' GIL, which is what the first versions
    of this benchmark timed."""

    def __init__(self, port, args, public_key):
        self.config = {"port": port, "clients": args.flood, "per_client": args.flood_logins,
                       "seconds": args.flood_seconds, "pause": args.flood_pause,
                       "public_key": public_key}
        self.nice = args.flood_nice
        self.statuses = {}

    def __enter__(self):
        self.proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--flood-worker",
             json.dumps(self.config)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            preexec_fn=lambda: os.nice(self.nice))
        time.sleep(3)  # let the flood fill gate-ca's threads or queues
        return self

    def __exit__(self, *exc):
        out, _ = self.proc.communicate(timeout=TIMEOUT + 30)  # closing stdin stops it
        if self.proc.returncode != 0:
            raise SystemExit(f"the flood process failed ({self.proc.returncode})")
        self.statuses = json.loads(out)


def flood_worker(config):
    """The flood process: clients until stdin closes (or their deadline),
    then the count of each reply status as JSON on stdout."""
    body = {"password": "wrong password!!", "otp_code": "123456",
            "public_key": config["public_key"]}
    stop = threading.Event()
    lock = threading.Lock()
    statuses = {}
    sent = [0]
    deadline = time.time() + config["seconds"]

    def client():
        conn = None
        done = 0
        while not config["per_client"] or done < config["per_client"]:
            if stop.is_set() or time.time() > deadline:
                break
            done += 1
            with lock:
                sent[0] += 1
                login = dict(body, user=f"flood{sent[0]}")
            try:
                conn = conn or connect(config["port"], FLOOD, TIMEOUT)
                status, _ = request(config["port"], FLOOD, "POST", "/v1/login", login, conn=conn)
            except (OSError, http.client.HTTPException):
                status = None
            if status is None:
                if conn is not None:
                    conn.close()
                conn = None
                time.sleep(0.05)
            elif status == 503:
                time.sleep(config["pause"])
            key = "no reply" if status is None else str(status)
            with lock:
                statuses[key] = statuses.get(key, 0) + 1
        if conn is not None:
            conn.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(config["clients"])]
    for t in threads:
        t.start()
    sys.stdin.read()
    stop.set()
    for t in threads:
        t.join(timeout=TIMEOUT + 5)
    json.dump(statuses, sys.stdout)


def measure(harness, build, args):
    harness.BIN_DIR = build
    work = tempfile.mkdtemp(prefix="gate-bench-")
    ca = harness.GateCA(work, rate_limit=(1000000, 1000000)).start()
    try:
        node, state = join_node(harness, ca, work)
        bearer = {"Authorization": f"Bearer {state['host_uuid']}.{state['node_secret']}"}
        key_path = os.path.join(work, "bench_key")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key_path],
                       check=True)
        with open(key_path + ".pub") as f:
            public_key = f.read().strip()

        print(f"{build}: signing up {2 * args.otp_users + args.logins} users ...",
              file=sys.stderr)
        users = sign_up(harness, ca, work,
                        [f"bench{i}" for i in range(2 * args.otp_users + args.logins)], PASSWORD)
        # Signup used the current step of every code; start on the next.
        time.sleep(30 - time.time() % 30 + 0.5)

        def phase(otp_users):
            sync, otp, errors = [], [], 0
            for i in range(args.samples):
                status, ms = request(ca.port, CLEAN, "GET", "/v1/nodes/policy", headers=bearer)
                sync.append(ms)
                errors += status != 200
                if i < len(otp_users):
                    name, _, device = otp_users[i]
                    status, ms = request(ca.port, CLEAN, "POST", "/v1/nodes/otp/verify",
                                         {"user": name, "code": device.code()}, headers=bearer)
                    otp.append(ms)
                    errors += status != 200
            return sync, otp, errors

        idle = phase(users[:args.otp_users])
        with Flood(ca.port, args, public_key) as flood:
            loaded = phase(users[args.otp_users:2 * args.otp_users])
        logins = []
        for name, client, device in users[2 * args.otp_users:]:
            start = time.perf_counter()
            result = client.login(name, PASSWORD, device.code(), extra=("--ca-pin", ca.pin))
            logins.append((time.perf_counter() - start) * 1000)
            if result.returncode != 0:
                raise SystemExit(result.stderr)
        return idle, loaded, flood.statuses, logins
    finally:
        ca.stop()
        shutil.rmtree(work, ignore_errors=True)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--flood-worker":
        flood_worker(json.loads(sys.argv[2]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build_dir")
    parser.add_argument("--base", help="build dir of the commit to compare with")
    parser.add_argument("--flood", type=int, default=200, help="concurrent flooding clients")
    parser.add_argument("--flood-logins", type=int, default=0,
                        help="logins per flood client (0: until the measurement ends)")
    parser.add_argument("--flood-pause", type=float, default=0.5,
                        help="seconds a flood client waits after a 503")
    parser.add_argument("--flood-seconds", type=int, default=90)
    parser.add_argument("--flood-nice", type=int, default=19,
                        help="niceness of the flooding process (see Flood)")
    parser.add_argument("--samples", type=int, default=150, help="node syncs per phase")
    parser.add_argument("--otp-users", type=int, default=40, help="central OTP checks per phase")
    parser.add_argument("--logins", type=int, default=15, help="sequential gate logins")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root: gate-node join writes a root-owned node.json")
    builds = [("base", args.base)] if args.base else []
    builds.append(("new", args.build_dir))
    os.environ["GATE_BIN_DIR"] = os.path.abspath(args.build_dir)
    import harness  # noqa: E402 (needs GATE_BIN_DIR first)

    rows = []
    for label, build in builds:
        idle, loaded, flood, logins = measure(harness, os.path.abspath(build), args)
        rows.append((label, idle, loaded, flood, logins))

    print("| build | sync p99 idle | sync p99 flood | ratio | OTP p99 idle | OTP p99 flood "
          "| ratio | p50 idle / flood: sync, OTP | errors idle/flood | flood replies "
          "| `gate login` p50 |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- | ---: |")
    for label, idle, loaded, flood, logins in rows:
        s_idle, s_flood = p99(idle[0]), p99(loaded[0])
        o_idle, o_flood = p99(idle[1]), p99(loaded[1])
        replies = ", ".join(f"{k}: {v}" for k, v in sorted(flood.items()))
        print(f"| {label} | {s_idle:.1f} ms | {s_flood:.1f} ms | {s_flood / s_idle:.1f}x "
              f"| {o_idle:.1f} ms | {o_flood:.1f} ms | {o_flood / o_idle:.1f}x "
              f"| {statistics.median(idle[0]):.1f} / {statistics.median(loaded[0]):.1f} ms, "
              f"{statistics.median(idle[1]):.1f} / {statistics.median(loaded[1]):.1f} ms "
              f"| {idle[2]}/{loaded[2]} | {replies} | {statistics.median(logins):.0f} ms |")


if __name__ == "__main__":
    main()
