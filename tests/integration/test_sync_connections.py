"""How gate-node sync connects to gate-ca: a new connection per timer run,
or one kept open by `gate-node sync --every` (docs/node-protocol.md,
"Connections"). Each node joins through a TCP proxy that counts the
connections it forwards, against a real gate-ca."""
import json
import os
import signal
import socket
import subprocess
import threading
import unittest

from harness import GateTestCase, Node, binary
from test_nodes import node_token


class CountingProxy:
    """Forwards 127.0.0.1:<port> to gate-ca and counts the connections."""

    def __init__(self, target_port):
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source, sink):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def count(self):
        with self.lock:
            return self.connections

    def close(self):
        self.listener.close()


class SyncConnectionsTest(GateTestCase):

    def joined_node(self, name):
        """A node joined through a CountingProxy; (node, proxy)."""
        proxy = CountingProxy(self.ca.port)
        self.addCleanup(proxy.close)
        node = Node(self.workdir, name)
        token, _ = node_token(self.ca, principals=name)
        joined = node.gate_node("join", "--proxy", f"127.0.0.1:{proxy.port}", "--ca-pin",
                                self.ca.pin, "--hostname", name, "--principals", name,
                                "--no-reload",
                                env=dict(os.environ, GATE_NODE_TOKEN=token))
        self.assertEqual(joined.returncode, 0, joined.stdout + joined.stderr)
        return node, proxy

    def sync_every(self, node, *args):
        return subprocess.Popen([binary("gate-node"), "sync", *args, "--no-reload",
                                 *node.paths()],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def after_first_sync(self, node, *args):
        """A `gate-node sync --every ...` process, once its first sync has
        succeeded; killed at cleanup if still running."""
        proc = self.sync_every(node, *args)
        self.addCleanup(proc.kill)
        first = proc.stdout.readline()
        self.assertTrue(self.synced(first), first)
        return proc

    @staticmethod
    def synced(line):
        """Whether line is the one a successful sync prints."""
        return (line.startswith("gate-node sync: ") and "host certificate" in line
                and "update failed" not in line and "renewal failed" not in line)

    def synced_lines(self, out):
        return [l for l in out.splitlines() if self.synced(l)]

    def test_each_timer_run_opens_a_connection(self):
        node, proxy = self.joined_node("conn-timer")
        before = proxy.count()
        for _ in range(3):
            synced = node.gate_node("sync", "--no-reload")
            self.assertEqual(synced.returncode, 0, synced.stdout + synced.stderr)
        self.assertEqual(proxy.count() - before, 3)

    def test_every_keeps_one_connection_open(self):
        node, proxy = self.joined_node("conn-every")
        before = proxy.count()
        proc = self.sync_every(node, "--every", "1s", "--runs", "3")
        out, err = proc.communicate(timeout=120)
        self.assertEqual(proc.returncode, 0, out + err)
        self.assertEqual(len(self.synced_lines(out)), 3, out + err)
        self.assertEqual(proxy.count() - before, 1, "the connection was not reused")

    def test_every_stops_cleanly_on_sigterm(self):
        node, _ = self.joined_node("conn-term")
        proc = self.after_first_sync(node, "--every", "1h")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, out + err)
        self.assertEqual(self.synced_lines(out), [], "synced again after SIGTERM")

    def test_every_never_reuses_a_connection_past_a_changed_pin(self):
        # node.json is read before every sync: a pin changed between two syncs
        # (gate-ca's key replaced, or node.json tampered with) must be checked
        # on a new TLS handshake, never satisfied by the open connection.
        node, proxy = self.joined_node("conn-pin")
        state_path = os.path.join(node.data_dir, "node.json")
        proc = self.after_first_sync(node, "--every", "3s", "--runs", "2")
        before = proxy.count()
        with open(state_path) as f:
            state = json.load(f)
        state["ca_pin"] = "sha256:" + "0" * 64
        with open(state_path, "w") as f:
            json.dump(state, f)
        out, err = proc.communicate(timeout=120)
        self.assertNotEqual(proc.returncode, 0, out + err)
        self.assertIn("pin", err.lower())
        self.assertEqual(self.synced_lines(out), [], out)
        self.assertEqual(proxy.count() - before, 1, "the second sync did not reconnect")

    def test_every_stops_when_the_node_left(self):
        node, _ = self.joined_node("conn-left")
        proc = self.after_first_sync(node, "--every", "1s")
        os.rename(os.path.join(node.data_dir, "node.json"),
                  os.path.join(node.data_dir, "node.json.gone"))
        out, err = proc.communicate(timeout=60)
        self.assertNotEqual(proc.returncode, 0, out + err)
        self.assertIn("not joined", err)

    def test_runs_needs_every(self):
        node, proxy = self.joined_node("conn-runs")
        before = proxy.count()
        synced = node.gate_node("sync", "--runs", "2", "--no-reload")
        self.assertNotEqual(synced.returncode, 0)
        self.assertIn("--runs needs --every", synced.stderr)
        self.assertEqual(proxy.count(), before, "a refused command still connected")


if __name__ == "__main__":
    unittest.main()
