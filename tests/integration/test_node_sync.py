"""Nodes sync by revision (docs/node-protocol.md, "Sync"): an unchanged
policy costs no policy body, a change costs a delta of what changed, a node
without a usable revision gets the full snapshot in pages, and a lock
reaches sshd after one sync whatever the cluster's size. Real gate-ca,
gate-node and sshd."""
import json
import os
import sqlite3
import time
import unittest

import policy_db
from harness import GateTestCase, ensure_os_user
from test_nodes import join_node, node_request

PASSWORD = "correct horse battery"


def policy_get(ca, node, query):
    """GET /v1/nodes/policy?QUERY with the node's own credential: (status,
    raw body bytes, parsed body)."""
    status, raw = node_request(ca, node, "GET", "/v1/nodes/policy?" + query)
    return status, raw, json.loads(raw)


def cached_policy(node):
    return policy_db.read_snapshot(os.path.join(node.data_dir, "cache"))


def cached_users(node):
    return {u["name"] for u in cached_policy(node)["users"]}


class NodeSyncTest(GateTestCase):
    """One node joined once for the class (role dev on env=dev)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ensure_os_user("gtsync")
        cls.ca.gatectl("roles", "add", "dev", "--logins", "gtsync", "--node-labels", "env=dev",
                       check=True)
        cls.node = join_node(cls.ca, cls.workdir, "env=dev")

    @classmethod
    def tearDownClass(cls):
        cls.node.stop()
        super().tearDownClass()

    def sync(self):
        synced = self.node.sync()
        self.assertEqual(synced.returncode, 0, synced.stdout + synced.stderr)
        return synced.stdout

    def revision(self):
        return cached_policy(self.node)["revision"]

    def test_unchanged_policy_transfers_no_policy_body(self):
        self.sync()
        revision = self.revision()
        self.assertGreater(revision, 0)
        out = self.sync()
        self.assertIn(f"policy revision {revision}, unchanged", out)
        status, raw, reply = policy_get(self.ca, self.node, f"since={revision}")
        self.assertEqual(status, 200, raw)
        self.assertEqual(reply["shape"], "unchanged")
        self.assertEqual(reply["revision"], revision)
        for body in ("snapshot", "krl", "removed_users"):
            self.assertNotIn(body, reply)
        self.assertLess(len(raw), 600, raw)
        # gatectl nodes ls shows the revision beside the last sync.
        listed = self.ca.gatectl("nodes", "ls", check=True).stdout
        self.assertIn("Revision", listed)
        self.assertRegex(listed, rf"s ago\s+{revision}\s")

    def test_delta_after_adding_one_user_carries_only_that_user(self):
        self.sync()
        revision = self.revision()
        self.ca.add_user("delta1", "delta1", roles="dev")
        status, raw, reply = policy_get(self.ca, self.node, f"since={revision}")
        self.assertEqual(status, 200, raw)
        self.assertEqual(reply["shape"], "delta")
        self.assertEqual(reply["base"], revision)
        self.assertEqual([u["name"] for u in reply["snapshot"]["users"]], ["delta1"])
        self.assertEqual(reply["snapshot"]["roles"], [])
        self.assertIn("krl", reply)  # always whole, so it always propagates
        self.assertLess(len(raw), 2000, raw)
        out = self.sync()
        self.assertIn("delta: 1 user(s) and 0 role(s) changed", out)
        self.assertIn("delta1", cached_users(self.node))
        self.assertGreater(self.revision(), revision)

    def test_removed_user_disappears_on_the_node(self):
        self.ca.add_user("gone1", "gone1")
        self.sync()
        self.assertIn("gone1", cached_users(self.node))
        self.ca.gatectl("users", "rm", "gone1", check=True)
        out = self.sync()
        self.assertIn("1 user(s) and 0 role(s) removed", out)
        self.assertNotIn("gone1", cached_users(self.node))

    def test_lock_propagates_by_delta_and_sshd_refuses_after_one_sync(self):
        client = self.logged_in_user("locky", roles="dev")
        self.sync()
        allowed = self.node.ssh("gtsync", client)
        self.assertEqual(allowed.returncode, 0, allowed.stderr)
        self.ca.gatectl("users", "lock", "locky", "--message", "sync test", check=True)
        out = self.sync()
        self.assertIn("delta:", out)
        self.assertIn("locky", [lock["user"] for lock in cached_policy(self.node)["locks"]])
        refused = self.node.ssh("gtsync", client)
        self.assertNotEqual(refused.returncode, 0, refused.stdout)
        self.assertIn("Permission denied", refused.stderr)

    def test_node_behind_a_pruned_log_gets_the_full_snapshot_in_pages(self):
        self.sync()
        self.ca.add_user("late1", "late1")
        # The log pruned past this node's revision: done here straight in
        # gate-ca's SQLite file while gate-ca is stopped (pruning itself is
        # covered by the store conformance suite; reaching it through the
        # API takes 100,000 changes).
        self.ca.stop()
        try:
            db = sqlite3.connect(os.path.join(self.ca.data_dir, "gate.db"))
            with db:
                db.execute("UPDATE policy_revision SET oldest = revision")
                db.execute("DELETE FROM policy_changes")
            db.close()
        finally:
            self.ca.start()
        before = self.revision()
        out = self.sync()
        self.assertIn("full snapshot in 1 page(s)", out)
        self.assertIn("late1", cached_users(self.node))
        self.assertGreater(self.revision(), before)

    def test_a_delta_that_does_not_apply_keeps_the_cache_then_a_full_fetch_repairs(self):
        self.sync()
        revision = self.revision()
        self.ca.add_user("fix1", "fix1")
        # A cache that claims this cluster's revision but another cluster's
        # name (written here by hand, in the cache's current format): the
        # delta gate-ca sends for that revision must not be applied to it.
        path = os.path.join(self.node.data_dir, "cache", "policy.db")
        policy = cached_policy(self.node)
        policy["cluster_name"] = "someone-else"
        policy_db.write_snapshot(path, policy)
        with open(path, "rb") as f:
            spoiled = f.read()
        failed = self.node.sync()
        self.assertNotEqual(failed.returncode, 0, failed.stdout)
        self.assertIn("delta not applied, the next sync fetches everything", failed.stderr)
        with open(path, "rb") as f:
            self.assertEqual(f.read(), spoiled)  # nothing half-applied
        self.assertTrue(os.path.exists(os.path.join(self.node.data_dir, "sync-full-next")))
        out = self.sync()
        self.assertIn("full snapshot in 1 page(s)", out)
        self.assertEqual(cached_policy(self.node)["cluster_name"], "test-cluster")
        self.assertIn("fix1", cached_users(self.node))
        self.assertGreater(self.revision(), revision)
        self.assertFalse(os.path.exists(os.path.join(self.node.data_dir, "sync-full-next")))
        self.assertIn("unchanged", self.sync())

    def test_gate_ca_unreachable_keeps_the_last_good_cache(self):
        self.sync()
        path = os.path.join(self.node.data_dir, "cache", "policy.db")
        with open(path, "rb") as f:
            before = f.read()
        self.ca.stop()
        try:
            failed = self.node.sync()
            self.assertNotEqual(failed.returncode, 0)
            self.assertIn("cache kept", failed.stdout)
            with open(path, "rb") as f:
                self.assertEqual(f.read(), before)
        finally:
            self.ca.start()
        self.sync()


class LargeClusterSyncTest(GateTestCase):
    """100,000 users. They are written straight into gate-ca's SQLite store
    while gate-ca is stopped (python's sqlite3, the schema of
    ca-server/store/sqlite_schema.cc): signing up each through the API would
    hash 100,000 passwords with argon2, hours of CPU. The store's own
    triggers log them like any other change."""

    USERS = 100_000

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ensure_os_user("gtbig")
        cls.ca.gatectl("roles", "add", "big", "--logins", "gtbig", "--node-labels", "*=*",
                       check=True)
        cls.ca.stop()
        db = sqlite3.connect(os.path.join(cls.ca.data_dir, "gate.db"))
        with db:
            db.executemany("INSERT INTO users (name, created_at) VALUES (?, 1)",
                           ((f"user{i:06d}",) for i in range(cls.USERS)))
            db.executemany("INSERT INTO user_logins (user_name, position, login) VALUES (?, 0, ?)",
                           ((f"user{i:06d}", f"user{i:06d}") for i in range(cls.USERS)))
            db.executemany("INSERT INTO user_roles (user_name, position, role) VALUES (?, 0, 'big')",
                           ((f"user{i:06d}",) for i in range(cls.USERS)))
        db.close()
        cls.ca.start()
        cls.node = join_node(cls.ca, cls.workdir)
        # Logged in after the join, so its known_hosts trusts the node's name.
        cls.client = cls.logged_in_user("zz-real", roles="big")

    @classmethod
    def tearDownClass(cls):
        cls.node.stop()
        super().tearDownClass()

    def test_pages_then_a_lock_by_delta_that_sshd_enforces(self):
        # The join's sync assembled the whole snapshot from pages, each far
        # below the node's 4 MiB reply limit.
        self.assertEqual(len(cached_users(self.node)), self.USERS)
        status, raw, first = policy_get(self.ca, self.node, "since=0")
        self.assertEqual(status, 200)
        self.assertEqual(first["shape"], "full")
        self.assertIn("next", first)
        self.assertLess(len(raw), 1 << 20)
        added = self.node.sync()
        self.assertIn("delta: 1 user(s)", added.stdout, added.stdout + added.stderr)
        self.assertEqual(len(cached_users(self.node)), self.USERS + 1)
        allowed = self.node.ssh("gtbig", self.client)
        self.assertEqual(allowed.returncode, 0, allowed.stderr)

        self.ca.gatectl("users", "lock", "zz-real", "--message", "big lock", check=True)
        started = time.monotonic()
        synced = self.node.sync()
        took = time.monotonic() - started
        self.assertEqual(synced.returncode, 0, synced.stdout + synced.stderr)
        self.assertIn("delta:", synced.stdout)
        self.assertNotIn("page", synced.stdout)
        refused = self.node.ssh("gtbig", self.client)
        self.assertNotEqual(refused.returncode, 0, refused.stdout)
        self.assertIn("Permission denied", refused.stderr)
        # The same, fetched whole: the node asks for the full snapshot after
        # a delta that did not apply (its marker file), and gets 101 pages.
        open(os.path.join(self.node.data_dir, "sync-full-next"), "w").close()
        full = self.node.sync()
        self.assertEqual(full.returncode, 0, full.stdout + full.stderr)
        self.assertIn("full snapshot in 101 page(s)", full.stdout)
        self.assertFalse(os.path.exists(os.path.join(self.node.data_dir, "sync-full-next")))
        self.assertEqual(len(cached_users(self.node)), self.USERS + 1)
        self.assertNotEqual(self.node.ssh("gtbig", self.client).returncode, 0)
        print(f"\nlock propagated to a node of a {self.USERS}-user cluster in one sync "
              f"({took:.2f} s)")


if __name__ == "__main__":
    unittest.main()
