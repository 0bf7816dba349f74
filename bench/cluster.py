"""A large cluster for the node benchmarks: gate-ca with N users written
straight into its SQLite store while it is stopped (signing each up would
hash N passwords with argon2), one real signed-up user, and a joined node.
Also the node's own view of the sync API. Shared by node-sync.py and any
benchmark that needs many users or node-authenticated requests."""
import http.client
import json
import os
import re
import sqlite3
import ssl

from nodes import join_node

PASSWORD = "correct horse battery"


def insert_users(ca, count, role, prefix="user"):
    """Writes count users (each with its own name as login, holding role)
    into ca's database. ca must be stopped. The store's triggers log them
    like any other change."""
    db = sqlite3.connect(os.path.join(ca.data_dir, "gate.db"))
    names = [f"{prefix}{i:07d}" for i in range(count)]
    with db:
        db.executemany("INSERT INTO users (name, created_at) VALUES (?, 1)", ((n,) for n in names))
        db.executemany("INSERT INTO user_logins (user_name, position, login) VALUES (?, 0, ?)",
                       ((n, n) for n in names))
        db.executemany("INSERT INTO user_roles (user_name, position, role) VALUES (?, 0, ?)",
                       ((n, role) for n in names))
    db.close()


def make_cluster(harness, work, users, login="gtbench"):
    """(ca, node, client): gate-ca with `users` extra users, one node joined
    (its first sync is the full paged one), and a real user "zz-bench" (role
    "bench": login `login` on every node) signed up and logged in after it;
    the node learns of zz-bench at its next sync."""
    harness.ensure_os_user(login)
    ca = harness.GateCA(work, rate_limit=(100000, 10000)).start()
    ca.gatectl("roles", "add", "bench", "--logins", login, "--node-labels", "*=*", check=True)
    if users:
        ca.stop()
        insert_users(ca, users, "bench")
        ca.start()
    node, _ = join_node(harness, ca, work)
    node.start()  # sshd reads the drop-in join wrote
    # After the join: `gate login` trusts the host CA for the nodes it knows.
    token = re.search(r"/web/newuser/([0-9a-f]{32})",
                      ca.gatectl("users", "add", "zz-bench", "--roles", "bench",
                                 check=True).stdout).group(1)
    client = harness.Client(work, ca, "zz-bench")
    result, device = client.signup(token, PASSWORD)
    assert result.returncode == 0, result.stderr
    assert client.login("zz-bench", PASSWORD, device.code()).returncode == 0
    return ca, node, client


def node_credential(node):
    with open(os.path.join(node.data_dir, "node.json")) as f:
        state = json.load(f)
    return "Bearer " + state["host_uuid"] + "." + state["node_secret"]


def policy_get(ca, node, query, conn=None):
    """GET /v1/nodes/policy?QUERY as node: (status, body bytes, parsed).
    Pass an open HTTPSConnection to reuse it."""
    own = conn is None
    if own:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection("127.0.0.1", ca.port, context=ctx, timeout=60)
    conn.request("GET", "/v1/nodes/policy?" + query,
                 headers={"Authorization": node_credential(node)})
    resp = conn.getresponse()
    raw = resp.read()
    if own:
        conn.close()
    return resp.status, raw, json.loads(raw)


def cached_revision(node):
    import policy_db  # tests/integration, on sys.path once harness is importable
    return policy_db.read_snapshot(os.path.join(node.data_dir, "cache"))["revision"]
