#!/usr/bin/env python3
"""Node sync and central OTP latency for one source while another floods
gate-ca with logins, beside the same with no flood, alternating; optionally
for two builds in one invocation (e.g. the commit before a serving change
and after), so the figures share a machine and its load.

For each build it starts a real gate-ca (127.0.0.1, temp data dir, rate
limit out of the way so every flooding login reaches argon2id), joins a node
with the real `gate-node join --no-reload` (root: node.json is root's), signs
up users through `gate signup`, then measures from source 127.0.0.3 (all of
127/8 is local on Linux; client sockets are bound to it):
  sync   GET /v1/nodes/policy with the node's credentials, a new TLS
         connection each time, as gate-node sync does
  otp    POST /v1/nodes/otp/verify with a fresh code of a signed-up user,
         as gate-node otp-relay does
in --steps rounds, one TOTP step (30 s) each, alternately idle and under
the flood (idle, flood, idle, ...), so that drift of the machine's load
during the run falls on both phases alike. In every round each of the
--otp-users users is checked once (a code is single use: one per user and
step) and node syncs fill the rest of the round, up to --syncs-per-step. A
flood round starts FLOOD clients on 127.0.0.2 (threads of a separate
process at nice --flood-nice, see Flood), which each send wrong-password
logins back to back until the round ends; an idle round waits as long as
the flood's warm-up, so both start at the same point of their step. Every
flooding login names a user of its own: the login throttle counts failures
per source and name, so logins that repeated one name would be refused
with 429 before argon2id after 5 tries, and the flood would cost the server
nothing. A client whose login gets 503 (queue full) tries again after
--flood-pause seconds instead of the 2 s its Retry-After asks for. A
measuring request that fails, times out (30 s) or gets an unexpected
status is an error. Then `gate login` p50 (sequential, idle) for the same
build. Every client connection shares one TLS context
(test_serving.tls_context): making one per connection costs the client
about 20 ms, which earlier versions timed as the server's latency.

With --login-sched-idle the flood rounds alternate between the login
workers as gate-ca runs them (SCHED_OTHER at nice 10, "flood") and the same
threads switched to SCHED_IDLE from outside ("flood, login SCHED_IDLE"),
rounds ordered idle, flood, flood-idle-policy then idle, flood-idle-policy,
flood, so that the two are compared in one run at the same load (the
threads are found as gate-ca's threads at nice 10, and put back after).

p99 is over every sample of a phase, with a 95% bootstrap confidence
interval (resampling the phase's samples); the ratio's interval resamples
both phases. The load average is printed at the start and end of each build.

Usage: sudo bench/serving-flood.py NEW_BUILD_DIR [--base BASE_BUILD_DIR]
       [--flood 200] [--steps 20] [--otp-users 100] [--syncs-per-step 150]
"""
import argparse
import http.client
import json
import os
import random
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
STEP = 30  # seconds of a TOTP step
WARM_UP = 3  # seconds a flood runs before a flood round measures
SCHED_IDLE_FLOOD = "flood, login SCHED_IDLE"


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
        time.sleep(WARM_UP)  # let the flood fill gate-ca's threads or queues
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


def bootstrap_p99(values, rounds=1000, seed=1):
    """(low, high) of a 95% bootstrap confidence interval of p99(values)."""
    rng = random.Random(seed)
    estimates = sorted(p99(rng.choices(values, k=len(values))) for _ in range(rounds))
    return estimates[int(0.025 * rounds)], estimates[int(0.975 * rounds) - 1]


def ratio_interval(idle, flood, rounds=1000, seed=2):
    """(low, high) of a 95% bootstrap interval of p99(flood) / p99(idle)."""
    rng = random.Random(seed)
    estimates = sorted(p99(rng.choices(flood, k=len(flood))) /
                       p99(rng.choices(idle, k=len(idle))) for _ in range(rounds))
    return estimates[int(0.025 * rounds)], estimates[int(0.975 * rounds) - 1]


def login_workers(ca):
    """Thread ids of gate-ca's login workers: its processes' threads at nice
    10 (the login class's default nice value; no other thread has it)."""
    pids = [ca.proc.pid]
    try:
        with open(f"/proc/{ca.proc.pid}/task/{ca.proc.pid}/children") as f:
            pids += [int(p) for p in f.read().split()]
    except OSError:
        pass
    tids = []
    for pid in pids:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[16]) == 10:  # field 19 of stat, nice
                tids.append(int(tid))
    return tids


def set_login_policy(tids, sched_idle):
    for tid in tids:
        if sched_idle:
            os.sched_setscheduler(tid, os.SCHED_IDLE, os.sched_param(0))
        else:
            os.sched_setscheduler(tid, os.SCHED_OTHER, os.sched_param(0))
            os.setpriority(os.PRIO_PROCESS, tid, 10)


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


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

        print(f"{build}: signing up {args.otp_users + args.logins} users ...", file=sys.stderr)
        users = sign_up(harness, ca, work,
                        [f"bench{i}" for i in range(args.otp_users + args.logins)], PASSWORD)
        otp_users = users[:args.otp_users]
        load_start = loadavg()

        phases = {"idle": ([], [], [0]), "flood": ([], [], [0])}
        order = ["idle", "flood"]
        workers = []
        if args.login_sched_idle:
            workers = login_workers(ca)
            print(f"{build}: login workers (threads at nice 10): {workers}", file=sys.stderr)
            if not workers:
                raise SystemExit("no gate-ca thread at nice 10: cannot find the login workers")
            phases[SCHED_IDLE_FLOOD] = ([], [], [0])
            order = ["idle", "flood", SCHED_IDLE_FLOOD, "idle", SCHED_IDLE_FLOOD, "flood"]
        statuses = {}

        def one_round(sync, otp, errors, deadline):
            for i in range(max(args.syncs_per_step, len(otp_users))):
                if time.time() > deadline:
                    break
                if i < args.syncs_per_step:
                    status, ms = request(ca.port, CLEAN, "GET", "/v1/nodes/policy",
                                         headers=bearer)
                    sync.append(ms)
                    errors[0] += status != 200
                if i < len(otp_users):
                    name, _, device = otp_users[i]
                    status, ms = request(ca.port, CLEAN, "POST", "/v1/nodes/otp/verify",
                                         {"user": name, "code": device.code()}, headers=bearer)
                    otp.append(ms)
                    errors[0] += status != 200

        for round_no in range(args.steps):
            # Signup (or the last round) used the current step of every code.
            step_start = time.time() // STEP * STEP + STEP
            time.sleep(step_start + 0.5 - time.time())
            # Checks end 3 s before the step does: a code read at the end of
            # one step and checked in the next is still accepted, but would
            # use up the next step's code.
            deadline = step_start + STEP - 3
            label = order[round_no % len(order)]
            print(f"{build}: round {round_no + 1}/{args.steps} ({label}), load {loadavg()}",
                  file=sys.stderr)
            if label != "idle":
                set_login_policy(workers, label == SCHED_IDLE_FLOOD)
                with Flood(ca.port, args, public_key) as flood:
                    one_round(*phases[label], deadline)
                set_login_policy(workers, False)
                for k, v in flood.statuses.items():
                    statuses.setdefault(label, {})
                    statuses[label][k] = statuses[label].get(k, 0) + v
            else:
                time.sleep(WARM_UP)
                one_round(*phases[label], deadline)
        load_end = loadavg()

        logins = []
        for name, client, device in users[args.otp_users:]:
            start = time.perf_counter()
            result = client.login(name, PASSWORD, device.code(), extra=("--ca-pin", ca.pin))
            logins.append((time.perf_counter() - start) * 1000)
            if result.returncode != 0:
                raise SystemExit(result.stderr)
        return phases, statuses, logins, (load_start, load_end)
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
    parser.add_argument("--flood-seconds", type=int, default=STEP,
                        help="longest a flood round's clients run")
    parser.add_argument("--flood-nice", type=int, default=19,
                        help="niceness of the flooding process (see Flood)")
    parser.add_argument("--steps", type=int, default=20,
                        help="rounds of one TOTP step each, alternately idle and flood")
    parser.add_argument("--syncs-per-step", type=int, default=150,
                        help="node syncs per round (at most)")
    parser.add_argument("--otp-users", type=int, default=100,
                        help="users, each checked once per round")
    parser.add_argument("--login-sched-idle", action="store_true",
                        help="also measure flood rounds with the login workers at SCHED_IDLE")
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
        rows.append((label,) + measure(harness, os.path.abspath(build), args))

    def cell(values):
        low, high = bootstrap_p99(values)
        return f"{p99(values):.1f} ms ({low:.1f}-{high:.1f})"

    print("| build | flood rounds | samples idle / flood: sync, OTP | sync p99 idle "
          "| sync p99 flood | ratio | OTP p99 idle | OTP p99 flood | ratio "
          "| p50 idle / flood: sync, OTP | errors idle / flood | flood replies "
          "| load average start / end | `gate login` p50 |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- | --- "
          "| ---: |")
    for label, phases, flood, logins, load in rows:
        idle_sync, idle_otp, idle_errors = phases["idle"]
        for variant in [k for k in phases if k != "idle"]:
            flood_sync, flood_otp, flood_errors = phases[variant]
            ratios = []
            for idle, loaded in ((idle_sync, flood_sync), (idle_otp, flood_otp)):
                low, high = ratio_interval(idle, loaded)
                ratios.append(f"**{p99(loaded) / p99(idle):.2f}x** ({low:.2f}-{high:.2f})")
            replies = ", ".join(f"{k}: {v}" for k, v in sorted(flood.get(variant, {}).items()))
            print(f"| {label} | {variant} | {len(idle_sync)} / {len(flood_sync)}, "
                  f"{len(idle_otp)} / {len(flood_otp)} | {cell(idle_sync)} | {cell(flood_sync)} "
                  f"| {ratios[0]} | {cell(idle_otp)} | {cell(flood_otp)} | {ratios[1]} "
                  f"| {statistics.median(idle_sync):.1f} / {statistics.median(flood_sync):.1f} "
                  f"ms, {statistics.median(idle_otp):.1f} / {statistics.median(flood_otp):.1f} ms "
                  f"| {idle_errors[0]} / {flood_errors[0]} | {replies} | {load[0]} / {load[1]} "
                  f"| {statistics.median(logins):.0f} ms |")

if __name__ == "__main__":
    main()
