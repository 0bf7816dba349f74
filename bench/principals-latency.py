#!/usr/bin/env python3
"""gate-principals cost at 1, 10,000 and 100,000 users, measured on one machine in one run (root).

For each cluster size (500 roles at every size), the node's real synced cache
is grown to that size (rows added to cache/policy.db with python's sqlite3:
signing up 100,000 users through gate-ca would cost hours of argon2), then:

1. Exec latency of the hook itself (posix_spawn + wait, N runs each, the
   variants interleaved): gate-principals deciding a real certificate
   against the cache, versus a one-line /bin/sh hook that prints the login
   (and --compare-hook / --baseline-hook builds when given).
2. Full `ssh -p PORT login@127.0.0.1 true` latency against one real sshd whose
   principals rule is switched between: gate's drop-in (gate-principals),
   AuthorizedPrincipalsFile, and the /bin/sh hook (interleaved rounds), and
   the --compare-hook build in gate's drop-in when one is given.

Targets: hook p50 <= 2 ms and gate's login <= 1.05x AuthorizedPrincipalsFile,
at every size.

Usage: sudo bench/principals-latency.py [BUILD_DIR] [--sizes 1,10000,100000]
           [--roles 500] [--exec-runs N] [--ssh-runs N] [--compare-hook PATH]
"""
import argparse
import json
import os
import re
import shutil
import signal
import statistics
import sys
import sqlite3
import tempfile
import time

from stats import p99

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
import policy_db  # noqa: E402

PASSWORD = "correct horse battery"


def time_execs(argvs, runs):
    """{name: (wall ms per run, the child's CPU ms per run)} for each argv of
    argvs ({name: argv}), their runs interleaved (one run of each in turn),
    so a load that comes and goes hits every variant alike. CPU is user +
    system from wait4: on a loaded machine it is what a hook costs, the wall
    clock adds the time it waited for a CPU."""
    results = {name: ([], []) for name in argvs}
    devnull = os.open(os.devnull, os.O_WRONLY)
    for _ in range(runs):
        for name, argv in argvs.items():
            start = time.perf_counter()
            pid = os.posix_spawn(argv[0], argv, os.environ,
                                 file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 1),
                                               (os.POSIX_SPAWN_DUP2, devnull, 2)])
            _, status, usage = os.wait4(pid, 0)
            results[name][0].append((time.perf_counter() - start) * 1000)
            results[name][1].append((usage.ru_utime + usage.ru_stime) * 1000)
    os.close(devnull)
    return results


def write_json_cache(cache, json_cache):
    """The same policy as the whole-JSON cache/policy.json that gate-node
    wrote before policy.db, for a gate-principals of that version."""
    os.makedirs(json_cache, mode=0o755, exist_ok=True)
    shutil.copyfile(os.path.join(cache, "user_ca.pub"), os.path.join(json_cache, "user_ca.pub"))
    with open(os.path.join(json_cache, "policy.json"), "w") as f:
        json.dump(policy_db.read_snapshot(cache), f, separators=(",", ":"))
    for name in ("user_ca.pub", "policy.json"):
        os.chmod(os.path.join(json_cache, name), 0o644)  # what that version wrote


def grow_cache(pristine, target, users, roles):
    """Copies the synced policy.db to target with `roles` roles and `users`
    users in all: the bench user keeps its own login and holds three of the
    roles (one selecting this node), the others hold two each; 1% of users
    are locked and 1,000 serials revoked (none the bench user's)."""
    tmp = target + ".bench"
    shutil.copyfile(pristine, tmp)
    db = sqlite3.connect(tmp)
    labels = json.loads(db.execute("SELECT json FROM header").fetchone()[0])["node_labels"]
    here = {k: v for k, v in labels.items()} or {"*": "*"}
    elsewhere = {"bench-elsewhere": "yes"}
    role_rows = [{"name": f"bench-role-{i}", "logins": [f"r{i}"],
                  "node_labels": here if i % 2 == 0 else elsewhere, "max_ttl_seconds": 0,
                  "permit_pty": True, "permit_port_forwarding": i % 3 != 0,
                  "permit_agent_forwarding": True, "record_sessions": False,
                  "join_sessions": i % 7 == 0} for i in range(roles)]
    (bench_json,) = db.execute("SELECT json FROM users WHERE name = 'bench'").fetchone()
    bench = json.loads(bench_json)
    bench["roles"] = bench["roles"] + [f"bench-role-{i}" for i in (1, 2, 3)]
    db.execute("UPDATE users SET json = ? WHERE name = 'bench'", (json.dumps(bench),))
    existing = db.execute("SELECT count(*) FROM users").fetchone()[0]
    names = [f"user{i:06d}" for i in range(max(0, users - existing))]
    user_rows = [{"name": n, "logins": [n],
                  "roles": [f"bench-role-{i % roles}", f"bench-role-{i * 7 % roles}"]}
                 for i, n in enumerate(names)]
    locks = [{"user": n, "expires_at": 0, "message": "bench"} for n in names[::100]]
    revoked = [str(10**15 + i) for i in range(1000)]
    policy_db.add_rows(db, user_rows, role_rows, locks, revoked)
    db.commit()
    db.execute("VACUUM")
    db.close()
    st = os.stat(target)  # the synced file: its owner, group and mode
    os.chown(tmp, st.st_uid, st.st_gid)
    os.chmod(tmp, st.st_mode & 0o777)
    os.replace(tmp, target)
    return os.path.getsize(target)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build_dir", nargs="?", default="build")
    parser.add_argument("--sizes", default="1,10000,100000")
    parser.add_argument("--roles", type=int, default=500)
    parser.add_argument("--exec-runs", type=int, default=1000)
    parser.add_argument("--ssh-runs", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=2,
                        help="interleaved rounds of ssh logins per variant")
    parser.add_argument("--baseline-hook", metavar="PATH",
                        help="a gate-principals that reads cache/policy.json (before "
                             "policy.db), timed against the same policy as JSON")
    parser.add_argument("--compare-hook", metavar="PATH",
                        help="another gate-principals build that reads policy.db (e.g. one "
                             "linked dynamically), timed beside this one on the same cache")
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
        node = harness.Node(work).start()
        join_token = re.search(r"The node join token: ([0-9a-f]{32})", ca.gatectl(
            "tokens", "add", "--type=node", "--principals", "127.0.0.1",
            check=True).stdout).group(1)
        joined = node.join(ca, join_token, "--principals", "127.0.0.1")
        assert joined.returncode == 0, joined.stderr
        # After the join: login writes known_hosts for the nodes' names then.
        assert client.login("bench", PASSWORD, device.code()).returncode == 0

        cache = os.path.join(node.data_dir, "cache")
        with open(client.cert) as f:
            cert_type, cert_b64 = f.read().split()[:2]
        sh_hook = os.path.join(os.path.dirname(node.principals_command), "sh-principals")
        with open(sh_hook, "w") as f:
            f.write('#!/bin/sh\necho "$1"\n')
        os.chmod(sh_hook, 0o755)

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
        if args.compare_hook:
            # sshd runs a principals command only from a root-owned path, so a
            # copy beside the tested one.
            compare_copy = os.path.join(os.path.dirname(node.principals_command),
                                        "compare-principals")
            shutil.copyfile(args.compare_hook, compare_copy)
            os.chmod(compare_copy, 0o755)
            variants["--compare-hook in gate's drop-in"] = gate_conf.replace(
                f"AuthorizedPrincipalsCommand {node.principals_command} ",
                f"AuthorizedPrincipalsCommand {compare_copy} ")
            assert variants["--compare-hook in gate's drop-in"] != gate_conf
        policy = os.path.join(cache, "policy.db")
        pristine = os.path.join(work, "synced-policy.db")
        shutil.copyfile(policy, pristine)
        hook = [node.principals_command, "--cache", cache, "gtbench", cert_type, cert_b64]
        summary = []
        for users in [int(n) for n in args.sizes.split(",")]:
            size = grow_cache(pristine, policy, users, args.roles)
            decided = harness.run(hook)
            assert decided.stdout == "gtbench\n", (users, decided.stdout, decided.stderr)
            execs = {}
            if args.baseline_hook:
                json_cache = os.path.join(work, "json-cache")
                write_json_cache(cache, json_cache)
                baseline = [args.baseline_hook, "--cache", json_cache] + hook[3:]
                name = "gate-principals reading policy.json (before)"
                if harness.run(baseline).stdout == "gtbench\n":
                    execs[name] = baseline
                else:  # past its 4 MiB cap it denies every login
                    denial = harness.run(baseline).stderr.strip().splitlines()
                    print(f"{name}: denies at {users:,} users: "
                          f"{denial[0].split('cache: ')[-1] if denial else '?'}\n")
            if args.compare_hook:
                other = [args.compare_hook] + hook[1:]
                assert harness.run(other).stdout == "gtbench\n", "--compare-hook must allow"
                name = f"--compare-hook {os.path.basename(args.compare_hook)}"
                execs[name] = other
            execs["gate-principals"] = hook
            execs["/bin/sh one-liner"] = [sh_hook, "gtbench"]
            execs = time_execs(execs, args.exec_runs)
            ssh_results = {}
            # Interleaved rounds, so drift hits every variant alike.
            for _ in range(args.rounds):
                for name, conf in variants.items():
                    with open(drop_in, "w") as f:
                        f.write(conf)
                    os.kill(node.proc.pid, signal.SIGHUP)
                    time.sleep(0.3)
                    node.wait_listening()
                    first = node.ssh("gtbench", client, "true")
                    assert first.returncode == 0, (name, first.stderr)
                    for _ in range(args.ssh_runs // args.rounds):
                        start = time.perf_counter()
                        r = node.ssh("gtbench", client, "true")
                        ssh_results.setdefault(name, []).append(
                            (time.perf_counter() - start) * 1000)
                        assert r.returncode == 0, (name, r.stderr)
            with open(drop_in, "w") as f:
                f.write(gate_conf)

            print(f"### {users:,} users, {args.roles} roles (policy.db {size / 2**20:.1f} MiB, "
                  f"load average {os.getloadavg()[0]:.1f})")
            print()
            print("| hook exec | p50 | p99 | CPU p50 |")
            print("| --- | ---: | ---: | ---: |")
            for name, (wall, cpu) in execs.items():
                print(f"| {name} | {statistics.median(wall):.2f} ms | {p99(wall):.2f} ms | "
                      f"{statistics.median(cpu):.2f} ms |")
            print()
            base = statistics.median(ssh_results["AuthorizedPrincipalsFile"])
            print("| `ssh ... true` login via | p50 | p99 | p50 vs AuthorizedPrincipalsFile |")
            print("| --- | ---: | ---: | ---: |")
            for name, samples in ssh_results.items():
                p50 = statistics.median(samples)
                print(f"| {name} | {p50:.1f} ms | {p99(samples):.1f} ms | {p50 / base:.3f}x |")
            print(flush=True)
            wall, cpu = execs["gate-principals"]
            summary.append((users, statistics.median(wall), statistics.median(cpu),
                            statistics.median(ssh_results["gate (gate-principals)"]) / base))
        print("| users (500 roles) | hook p50 | hook CPU p50 | login p50 vs "
              "AuthorizedPrincipalsFile |")
        print("| ---: | ---: | ---: | ---: |")
        for users, hook_p50, cpu_p50, ratio in summary:
            print(f"| {users:,} | {hook_p50:.2f} ms | {cpu_p50:.2f} ms | {ratio:.3f}x |")
        return 0
    finally:
        if node:
            node.stop()
            for helper in ("bench-principals", "sh-principals", "compare-principals"):
                path = os.path.join(os.path.dirname(node.principals_command), helper)
                if os.path.exists(path):
                    os.unlink(path)
        ca.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
