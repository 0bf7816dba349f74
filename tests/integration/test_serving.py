"""gate-ca under load from one source address (docs/serving.md): a flood of
idle TCP connections and logins from 127.0.0.2 does not stop a login, a node
policy sync or a central OTP check from 127.0.0.3; slowloris connections are
closed at the header timeout; a full queue answers 503 with Retry-After at
once. On Linux all of 127/8 is local, so client sockets are bound to those
addresses to act as different sources."""
import functools
import http.client
import json
import os
import socket
import ssl
import subprocess
import threading
import time
import unittest

from harness import IS_ROOT, GateTestCase, Node, run
from test_nodes import node_token

PASSWORD = "correct horse battery"
FLOOD = "127.0.0.2"
CLEAN = "127.0.0.3"


@functools.lru_cache(maxsize=None)
def tls_context():
    """One client context for every connection: create_default_context()
    loads the system CA store, about 20 ms, which would otherwise be most of
    each request's time (and of the latencies bench/serving-flood.py reports)."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def connect(port, source, timeout=60):
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=tls_context(), timeout=timeout,
                                       source_address=(source, 0))
    conn.connect()
    return conn


def call(conn, method, path, body=None, headers=None):
    """One request on an open connection: (status, headers, parsed JSON body)."""
    data = json.dumps(body).encode() if body is not None else None
    hdrs = dict(headers or {})
    if data is not None:
        hdrs["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=hdrs)
    resp = conn.getresponse()
    text = resp.read().decode(errors="replace")
    try:
        parsed = json.loads(text) if text else None
    except ValueError:
        parsed = None
    return resp.status, dict(resp.getheaders()), parsed


def request(port, source, method, path, body=None, headers=None, timeout=60):
    conn = connect(port, source, timeout)
    try:
        return call(conn, method, path, body, headers)
    finally:
        conn.close()


class IdleFlood:
    """Keeps up to `count` plain TCP connections from `source` open, opening
    new ones as gate-ca closes them, until stopped."""

    def __init__(self, port, source, count):
        self.port, self.source, self.count = port, source, count
        self.stop_event = threading.Event()
        self.opened = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        socks = []
        while not self.stop_event.is_set():
            socks = [s for s in socks if not _closed(s)]
            while len(socks) < self.count and not self.stop_event.is_set():
                s = socket.socket()
                s.settimeout(2)
                try:
                    s.bind((self.source, 0))
                    s.connect(("127.0.0.1", self.port))
                    socks.append(s)
                    self.opened += 1
                except OSError:
                    s.close()
                    break
            self.stop_event.wait(0.2)
        for s in socks:
            s.close()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop_event.set()
        self.thread.join(timeout=30)


def _closed(sock):
    sock.setblocking(False)
    try:
        return sock.recv(1, socket.MSG_PEEK) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
    finally:
        sock.setblocking(True)


class LoginFlood:
    """`threads` clients on `source` sending wrong-password logins (each an
    argon2 verification in gate-ca) as fast as they are answered."""

    def __init__(self, port, source, threads, public_key):
        self.port, self.source, self.public_key = port, source, public_key
        self.stop_event = threading.Event()
        self.statuses = {}
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True)
                        for i in range(threads)]

    def _run(self, i):
        # A name of its own for every attempt: repeated failures against one
        # name are throttled (429) before argon2, and the flood is meant to
        # keep gate-ca's login workers busy.
        body = {"password": "wrong password!!", "otp_code": "123456",
                "public_key": self.public_key}
        conn = None
        attempt = 0
        while not self.stop_event.is_set():
            attempt += 1
            body["user"] = f"flood{i}-{attempt}"
            try:
                # Keep-alive, as a real flooder would: the connection stays ours.
                conn = conn or connect(self.port, self.source)
                status, _, _ = call(conn, "POST", "/v1/login", body)
            except (OSError, http.client.HTTPException):
                status = "refused"
                if conn:
                    conn.close()
                conn = None
                self.stop_event.wait(0.05)
            with self.lock:
                self.statuses[status] = self.statuses.get(status, 0) + 1
            if status == 503:
                self.stop_event.wait(0.05)
        if conn:
            conn.close()

    def answered(self):
        with self.lock:
            return sum(n for status, n in self.statuses.items() if status != "refused")

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop_event.set()
        for t in self.threads:
            t.join(timeout=90)


def public_key_line(workdir):
    path = os.path.join(workdir, "flood_key")
    if not os.path.exists(path):
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", path], check=True)
    with open(path + ".pub") as f:
        return f.read().strip()


@unittest.skipUnless(IS_ROOT, "needs root: gate-node join writes a root-owned node.json")
class FloodTest(GateTestCase):
    """Default serving limits but a long queue_timeout (argon2 under a loaded
    CI machine can take seconds, and the clean login may wait for two of the
    flood's); a rate limit high enough that every flooding login reaches
    argon2."""

    rate_limit = (1000000, 1000000)
    config_extra = """  limits:
    queue_timeout: 60s
"""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.node = Node(cls.workdir, "serving-node")
        join = cls.node.join(cls.ca, node_token(cls.ca)[0], "--principals", "127.0.0.1",
                             "--no-reload")
        if join.returncode != 0:
            raise AssertionError("join failed: " + join.stdout + join.stderr)
        with open(os.path.join(cls.node.data_dir, "node.json")) as f:
            state = json.load(f)
        cls.bearer = {"Authorization": f"Bearer {state['host_uuid']}.{state['node_secret']}"}
        cls.key = public_key_line(cls.workdir)

    def login_body(self, user, device):
        return {"user": user, "password": PASSWORD, "otp_code": device.code(),
                "public_key": self.key}

    def test_a_flood_from_one_source_does_not_stop_another(self):
        _, login_device = self.new_user("servclean")
        _, otp_device = self.new_user("servotp")
        port = self.ca.port
        with LoginFlood(port, FLOOD, 50, self.key) as logins:
            # Let the logins take hold (the login queue busy), then take every
            # connection slot the source may have.
            deadline = time.time() + 60
            while time.time() < deadline and logins.answered() < 20:
                time.sleep(0.1)
            self.assertGreaterEqual(logins.answered(), 20, logins.statuses)
            with IdleFlood(port, FLOOD, 500) as idle:
                while time.time() < deadline and idle.opened < 500:
                    time.sleep(0.1)
                self.check_clean_source(port, login_device, otp_device, logins)
        print(f"\nflood replies {logins.statuses}")
        # The flood's logins were answered (401, or 503 when its share of the
        # login queue was full), never left hanging.
        self.assertTrue(set(logins.statuses) <= {401, 503, "refused"}, logins.statuses)

    def check_clean_source(self, port, login_device, otp_device, logins):
        """A node policy sync, a central OTP check and a login from CLEAN all succeed."""
        started = time.time()
        status, _, body = request(port, CLEAN, "GET", "/v1/nodes/policy",
                                  headers=self.bearer)
        self.assertEqual(status, 200, body)
        self.assertIn("snapshot", body)
        sync_s = time.time() - started

        # A code for the next step: the signup used this one.
        time.sleep(max(0, 30 - time.time() % 30) + 0.5)
        started = time.time()
        status, _, body = request(port, CLEAN, "POST", "/v1/nodes/otp/verify",
                                  {"user": "servotp", "code": otp_device.code()},
                                  headers=self.bearer)
        self.assertEqual(status, 200, body)
        otp_s = time.time() - started

        started = time.time()
        status, _, body = request(port, CLEAN, "POST", "/v1/login",
                                  self.login_body("servclean", login_device))
        self.assertEqual(status, 200, body)
        self.assertIn("certificate", body)
        login_s = time.time() - started
        print(f"\nclean source under flood: sync {sync_s:.2f}s, central OTP {otp_s:.2f}s, "
              f"login {login_s:.2f}s")

    def test_idle_connections_over_the_per_source_cap_are_closed_at_once(self):
        socks = []
        try:
            for _ in range(80):  # the default cap is 64
                s = socket.socket()
                s.bind((FLOOD, 0))
                s.connect(("127.0.0.1", self.ca.port))
                socks.append(s)
            time.sleep(1)
            closed = sum(1 for s in socks if _closed(s))
            self.assertGreaterEqual(closed, 16)
            # Another source is still served.
            status, _, _ = request(self.ca.port, CLEAN, "GET", "/v1/ping")
            self.assertEqual(status, 200)
        finally:
            for s in socks:
                s.close()


class SlowlorisTest(GateTestCase):
    config_extra = """  limits:
    handshake_timeout: 2s
    header_timeout: 2s
"""

    def test_headers_sent_slowly_are_cut_off_at_the_header_timeout(self):
        raw = socket.create_connection(("127.0.0.1", self.ca.port), timeout=30)
        conn = tls_context().wrap_socket(raw, server_hostname="localhost")
        started = time.time()
        closed_after = None
        try:
            for ch in b"GET /v1/ping HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100:
                conn.sendall(bytes([ch]))
                time.sleep(0.25)
                if time.time() - started > 20:
                    break
        except OSError:
            closed_after = time.time() - started
        if closed_after is None:
            try:
                closed_after = time.time() - started if conn.recv(1) == b"" else None
            except OSError:
                closed_after = time.time() - started
        conn.close()
        self.assertIsNotNone(closed_after, "the connection was never closed")
        self.assertGreater(closed_after, 1.5)
        self.assertLess(closed_after, 10)

    def test_a_connection_that_never_shakes_hands_is_closed(self):
        s = socket.create_connection(("127.0.0.1", self.ca.port), timeout=30)
        started = time.time()
        self.assertEqual(s.recv(1), b"")
        self.assertLess(time.time() - started, 10)
        s.close()


class FullQueueTest(GateTestCase):
    """One login at a time and one waiting: the rest are answered 503 at once."""

    rate_limit = (1000000, 1000000)
    config_extra = """  limits:
    login: {concurrency: 1, queue: 1}
"""

    def test_a_full_queue_answers_503_with_retry_after(self):
        key = public_key_line(self.workdir)
        body = {"user": "nobody", "password": "wrong password!!", "otp_code": "123456",
                "public_key": key}
        conns = [connect(self.ca.port, FLOOD) for _ in range(40)]
        results = []
        lock = threading.Lock()
        barrier = threading.Barrier(len(conns))

        def one(conn):
            barrier.wait()
            started = time.time()
            status, headers, parsed = call(conn, "POST", "/v1/login", body)
            with lock:
                results.append((status, headers, parsed, time.time() - started))

        threads = [threading.Thread(target=one, args=(c,)) for c in conns]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        for c in conns:
            c.close()
        statuses = sorted(r[0] for r in results)
        self.assertEqual(len(results), 40)
        self.assertTrue(set(statuses) <= {401, 503}, statuses)
        busy = [r for r in results if r[0] == 503]
        self.assertTrue(busy, statuses)
        status, headers, parsed, _ = busy[0]
        self.assertEqual(headers.get("Retry-After"), "2")
        self.assertEqual(parsed["error"]["code"], "unavailable")
        self.assertIn("busy", parsed["error"]["message"])
        # Refused at once, not after waiting for a worker.
        self.assertLess(min(r[3] for r in busy), 2.0)
        # A 503 is not a failed login: the audit has one row per argon2'd attempt.
        audit = self.ca.gatectl("audit", "--event", "user.login", "--json", check=True).stdout
        self.assertEqual(len([line for line in audit.splitlines() if line.strip()]),
                         statuses.count(401))


class AbuseNoiseTest(GateTestCase):
    """What a flood leaves behind: the audit log and gate-ca's log."""

    rate_limit = (6, 3)

    def test_rate_limit_refusals_are_one_audit_event_per_source_and_minute(self):
        body = {"user": "nobody", "password": "wrong password!!", "otp_code": "123456",
                "public_key": public_key_line(self.workdir)}
        conn = connect(self.ca.port, FLOOD)
        statuses = [call(conn, "POST", "/v1/login", body)[0] for _ in range(60)]
        conn.close()
        self.assertGreaterEqual(statuses.count(429), 50, statuses)
        audit = self.ca.gatectl("audit", "--event", "rate_limit", "--json", check=True).stdout
        rows = [json.loads(line) for line in audit.splitlines() if line.strip()]
        mine = [r for r in rows if r.get("source") == FLOOD]
        # The first refusal at once; the others are one count when the minute ends.
        self.assertEqual(len(mine), 1, rows)
        self.assertIn("counted in one event", json.dumps(mine[0]))

    def test_a_signup_token_in_an_unmatched_path_is_not_logged(self):
        token = "0123456789abcdef" * 2
        status, _, _ = request(self.ca.port, CLEAN, "GET", f"/web/newuser/{token}/x")
        self.assertEqual(status, 404)
        time.sleep(0.5)  # the log line is written before the reply, but flushed by stderr
        with open(os.path.join(self.workdir, "gate-ca.log")) as f:
            log = f.read()
        self.assertNotIn(token, log)
        self.assertIn("GET /web/newuser/<redacted>/x 404", log)


if __name__ == "__main__":
    unittest.main()
