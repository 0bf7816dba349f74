#!/usr/bin/env python3
"""GET /v1/sessions at scale: p50/p99 of one page of the session list with
N recorded sessions (default 100,000) on M nodes (default 1,000), for the
views the web UI and `gate sessions` ask for:

- an admin whose role may join sessions on every node (sees all);
- a team member whose role selects 10% of the nodes;
- a user who sees only their own few sessions (no join role);
- filters: live only, one user, one node; and the 50th page of the admin's
  list (keyset paging: as cheap as the first).

Sessions and nodes are written straight into gate-ca's SQLite store while
it is stopped (recording 100,000 real sessions would take hours); the users
are real (signed up, logged in), and requests are signed with their
certificates like `gate sessions` signs them, over one kept-open TLS
connection. Times are client-side round trips on loopback.

Usage: bench/sessions-list.py [BUILD_DIR] [--sessions N] [--nodes M] [--runs R]
"""
import argparse
import base64
import hashlib
import http.client
import os
import random
import re
import secrets
import sqlite3
import ssl
import statistics
import sys
import tempfile
import time
import uuid

from cryptography.hazmat.primitives.serialization import load_ssh_private_key

from stats import p99

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))

PASSWORD = "correct horse battery"


class Signer:
    """Signs requests as `gate` does (libgate/include/gate/request_signing.h)."""

    def __init__(self, client):
        with open(client.key, "rb") as f:
            self.key = load_ssh_private_key(f.read(), password=None)
        with open(client.key + "-cert.pub") as f:
            self.authorization = "Gate-Cert " + f.read().split()[1]

    def headers(self, method, target, body=b""):
        t = str(int(time.time()))
        n = secrets.token_hex(16)
        canonical = "\n".join(["gate-signed-request-v1", method, target, t, n,
                               hashlib.sha256(body).hexdigest()]) + "\n"
        sig = base64.b64encode(self.key.sign(canonical.encode())).decode()
        return {"Authorization": self.authorization, "X-Gate-Signature": f"t={t},n={n},s={sig}"}


def add_user(harness, ca, work, name, roles):
    args = ["users", "add", name] + (["--roles", roles] if roles else [])
    token = re.search(r"/web/newuser/([0-9a-f]{32})",
                      ca.gatectl(*args, check=True).stdout).group(1)
    client = harness.Client(work, ca, name)
    result, device = client.signup(token, PASSWORD)
    assert result.returncode == 0, result.stderr
    # Each login needs a fresh TOTP step: wait for the next one.
    time.sleep(max(0.0, 30 - time.time() % 30) + 0.5)
    login = client.login(name, PASSWORD, device.code())
    assert login.returncode == 0, login.stderr
    return Signer(client)


def fill_store(ca, sessions, nodes, users):
    """Writes `nodes` nodes (env=prod on every 10th, else dev) and `sessions`
    finished sessions (one in 200 live) spread over them and over `users`
    user names, newest last. Returns the node names."""
    db = sqlite3.connect(os.path.join(ca.data_dir, "gate.db"))
    rng = random.Random(7)
    node_ids = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(nodes)]
    with db:
        db.executemany(
            "INSERT INTO nodes (host_uuid, hostname, host_key, secret_hash, joined_at)"
            " VALUES (?, ?, '', 'x', 1)",
            ((h, f"node{i:05d}") for i, h in enumerate(node_ids)))
        db.executemany(
            "INSERT INTO node_labels (host_uuid, label_name, label_value) VALUES (?, 'env', ?)",
            ((h, "prod" if i % 10 == 0 else "dev") for i, h in enumerate(node_ids)))
        start = 1_700_000_000

        def rows():
            for i in range(sessions):
                n = rng.randrange(nodes)
                live = 1 if i % 200 == 0 else 0
                yield (str(uuid.UUID(int=rng.getrandbits(128))), users[rng.randrange(len(users))],
                       "root", node_ids[n], f"node{n:05d}", "interactive", start + i * 7,
                       0 if live else start + i * 7 + 60, live, 4096, start + i * 7,
                       0 if live else start + i * 7 + 61, "", 0 if live else 1, "")
        db.executemany(
            "INSERT INTO sessions (id, user_name, login, host_uuid, node_name, mode, started_at,"
            " ended_at, live, size, created_at, completed_at, sha256, verified, verify_detail)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows())
    db.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build_dir", nargs="?", default="build")
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--nodes", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    os.environ["GATE_BIN_DIR"] = os.path.abspath(args.build_dir)
    import harness  # noqa: E402

    work = tempfile.mkdtemp(prefix="gate-bench-")
    ca = harness.GateCA(work, rate_limit=(100000, 10000)).start()
    try:
        ca.gatectl("roles", "add", "watch-all", "--logins", "root", "--node-labels", "*=*",
                   "--join-sessions", check=True)
        ca.gatectl("roles", "add", "watch-prod", "--logins", "root", "--node-labels", "env=prod",
                   "--join-sessions", check=True)
        admin = add_user(harness, ca, work, "admin", "watch-all")
        team = add_user(harness, ca, work, "team", "watch-prod")
        loner = add_user(harness, ca, work, "loner", "")
        ca.stop()
        # "loner" owns about 20 of the sessions; the rest belong to others.
        users = [f"user{i:04d}" for i in range(5000)] + ["loner"]
        fill_store(ca, args.sessions, args.nodes, users)
        ca.start()

        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection("127.0.0.1", ca.port, context=ctx, timeout=60)

        def get(signer, target):
            conn.request("GET", target, headers=signer.headers("GET", target))
            resp = conn.getresponse()
            body = resp.read()
            assert resp.status == 200, (resp.status, body)
            return body

        # The 50th page of the admin's list, found by following next_before.
        import json
        target = "/v1/sessions?limit=100"
        for _ in range(49):
            target = "/v1/sessions?limit=100&before=" + json.loads(get(admin, target))["next_before"]
        page50 = target

        cases = [
            ("admin, all sessions (page 1)", admin, "/v1/sessions?limit=100"),
            ("admin, page 50", admin, page50),
            ("team, 10% of nodes", team, "/v1/sessions?limit=100"),
            ("user, own sessions only", loner, "/v1/sessions?limit=100"),
            ("admin, live only", admin, "/v1/sessions?limit=100&live=1"),
            ("admin, one user", admin, "/v1/sessions?limit=100&user=user0042"),
            ("admin, one node", admin, "/v1/sessions?limit=100&node=node00042"),
        ]
        print(f"GET /v1/sessions, {args.sessions} sessions on {args.nodes} nodes, "
              f"{args.runs} requests per case, loopback, one kept-open TLS connection")
        print(f"{'case':34} {'rows':>5} {'p50 ms':>8} {'p99 ms':>8}")
        for name, signer, target in cases:
            rows = len(json.loads(get(signer, target))["sessions"])
            samples = []
            for _ in range(args.runs):
                started = time.perf_counter()
                get(signer, target)
                samples.append((time.perf_counter() - started) * 1000)
            print(f"{name:34} {rows:5d} {statistics.median(samples):8.2f} {p99(samples):8.2f}")
        conn.close()
    finally:
        ca.stop()


if __name__ == "__main__":
    main()
