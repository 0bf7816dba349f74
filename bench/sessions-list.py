#!/usr/bin/env python3
"""GET /v1/sessions at scale: p50/p99 of one page of the session list with
N recorded sessions (default 100,000) on M nodes (default 1,000), for the
views the web UI and `gate sessions` ask for, each asked both ways in the
same run, alternating request by request: signed with the user's
certificate as `gate sessions` signs it, and with the browser session
cookie as the /web/sessions page asks (web/src/sessions.js: no limit, so
gate-ca's default page of 100, and the page's filters and next-page cursor
as they are):

- an admin whose role may join sessions on every node (sees all);
- a team member whose role selects 10% of the nodes;
- a user who sees only their own few sessions (no join role);
- filters: live only, one user, one node; and the 50th page of the admin's
  list (keyset paging: as cheap as the first).

Sessions and nodes are written straight into gate-ca's SQLite store while
it is stopped (bench/session_fixture.py); the users are real. Every request
goes over one kept-open TLS connection per path. Times are client-side round
trips on loopback.

Usage: bench/sessions-list.py [BUILD_DIR] [--sessions N] [--nodes M] [--runs R]
"""
import argparse
import json
import os
import re
import shutil
import statistics
import tempfile
import time


class Anonymous:
    """No credentials: for the public GET /v1/ping."""

    def headers(self, method, target, body=b""):
        return {}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build_dir", nargs="?", default="build")
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--nodes", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    os.environ["GATE_BIN_DIR"] = os.path.abspath(args.build_dir)
    import session_fixture as fx  # noqa: E402
    harness = fx.harness
    from stats import p99  # noqa: E402

    work = tempfile.mkdtemp(prefix="gate-bench-")
    ca = harness.GateCA(work, rate_limit=(100000, 10000)).start()
    try:
        ca.gatectl("roles", "add", "watch-all", "--logins", "root", "--node-labels", "*=*",
                   "--join-sessions", check=True)
        ca.gatectl("roles", "add", "watch-prod", "--logins", "root", "--node-labels", "env=prod",
                   "--join-sessions", check=True)
        admin = fx.add_user(ca, work, "admin", "watch-all")
        team = fx.add_user(ca, work, "team", "watch-prod")
        loner = fx.add_user(ca, work, "loner", "")
        ca.stop()
        fx.fill_store(ca, args.sessions, args.nodes, fx.SESSION_OWNERS)
        ca.start()

        conns = {}

        def get(auth, target):
            name = type(auth).__name__
            if name not in conns:  # one context and connection per path: a TLS context costs ms
                conns[name] = fx.connect(ca)
            conn = conns[name]
            conn.request("GET", target, headers=auth.headers("GET", target))
            resp = conn.getresponse()
            body = resp.read()
            assert resp.status == 200, (resp.status, body)
            return body

        # The 50th page of the admin's list (or the last, in a small store),
        # found by following next_before as the page's "Next page" link does.
        target, page = "/v1/sessions", 1
        while page < 50:
            cursor = json.loads(get(admin[0], target)).get("next_before")
            if not cursor:
                break
            target, page = "/v1/sessions?before=" + cursor, page + 1

        cases = [
            ("admin, all sessions (page 1)", admin, "/v1/sessions"),
            (f"admin, page {page}", admin, target),
            ("team, 10% of nodes", team, "/v1/sessions"),
            ("user, own sessions only", loner, "/v1/sessions"),
            ("admin, live only", admin, "/v1/sessions?live=1"),
            ("admin, one user", admin, "/v1/sessions?user=user0042"),
            ("admin, one node", admin, "/v1/sessions?node=node00042"),
        ]
        print(f"GET /v1/sessions, {args.sessions} sessions on {args.nodes} nodes, "
              f"{args.runs} requests per case and path, loopback, one kept-open TLS "
              f"connection per path; load average {os.getloadavg()[0]:.2f}")
        # The floor of a round trip on this connection: a reply that needs no
        # authentication and no store.
        get(Anonymous(), "/v1/ping")  # the connection's TLS handshake
        floor = []
        for _ in range(args.runs):
            started = time.perf_counter()
            get(Anonymous(), "/v1/ping")
            floor.append((time.perf_counter() - started) * 1000)
        print(f"floor, GET /v1/ping on the same connection: p50 {statistics.median(floor):.2f} "
              f"p99 {p99(floor):.2f} ms")
        log_start = os.path.getsize(os.path.join(work, "gate-ca.log"))
        print(f"{'case':30} {'rows':>5} {'signed p50':>10} {'p99':>7} "
              f"{'cookie p50':>10} {'p99':>7} {'cookie/signed p99':>18}")
        for name, (signer, browser, _), target in cases:
            rows = len(json.loads(get(signer, target))["sessions"])
            assert rows == len(json.loads(get(browser, target))["sessions"]), name
            # The two paths alternate, request by request (which goes first
            # alternating too), so a change in the machine's load hits both.
            samples = ([], [])
            for run in range(args.runs):
                for path in ((0, 1) if run % 2 == 0 else (1, 0)):
                    started = time.perf_counter()
                    get((signer, browser)[path], target)
                    samples[path].append((time.perf_counter() - started) * 1000)
            (s50, s99), (c50, c99) = ((statistics.median(x), p99(x)) for x in samples)
            print(f"{name:30} {rows:5d} {s50:10.2f} {s99:7.2f} {c50:10.2f} {c99:7.2f} "
                  f"{c99 / s99:18.2f}")
        print(f"load average after: {os.getloadavg()[0]:.2f}")
        # gate-ca's own time for the same requests (its request log, whole
        # milliseconds): what the round trips add is the connection and the
        # scheduling of a loaded machine.
        with open(os.path.join(work, "gate-ca.log")) as log:
            log.seek(log_start)
            served = [int(m.group(1)) for m in re.finditer(
                r"http: GET /v1/sessions 200 .* (\d+)ms$", log.read(), re.M)]
        if served:
            print(f"gate-ca's logged time for these {len(served)} requests: "
                  f"p50 {statistics.median(served):.0f} p99 {p99(served):.0f} ms")
        for conn in conns.values():
            conn.close()
    finally:
        ca.stop()
        if os.environ.get("GATE_KEEP_TEST_DIRS") != "1":
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
