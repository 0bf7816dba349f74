"""A joined node for the benchmark scripts, joined the way an admin would."""
import json
import os


def join_node(harness, ca, work, name="bench-node"):
    """(node, its node.json as a dict): a harness.Node joined to ca with the
    real `gate-node join --no-reload`, approved for 127.0.0.1. Exits with
    gate-node's message if the join fails."""
    node = harness.Node(work, name)
    out = ca.gatectl("tokens", "add", "--type=node", "--principals", "127.0.0.1",
                     check=True).stdout
    token = out.split("The node join token: ")[1].split()[0]
    join = node.join(ca, token, "--principals", "127.0.0.1", "--no-reload")
    if join.returncode != 0:
        raise SystemExit(join.stdout + join.stderr)
    with open(os.path.join(node.data_dir, "node.json")) as f:
        return node, json.load(f)
