"""A gate-ca holding many recorded sessions, and its users' two ways of
asking for them: requests signed with a certificate as `gate sessions` signs
them, and the browser session cookie the web UI sends. Shared by
sessions-list.py (API latency) and web-load.py (page loads in Chromium).

Sessions and nodes are written straight into gate-ca's SQLite store while it
is stopped (recording 100,000 real sessions would take hours); the users are
real: signed up through the web signup API (which logs the browser in, as
the signup page does) and logged in with `gate login`.

Import after GATE_BIN_DIR is set (the harness reads it at import).
"""
import base64
import hashlib
import http.client
import json
import os
import random
import secrets
import sqlite3
import ssl
import sys
import time
import uuid

from cryptography.hazmat.primitives.serialization import load_ssh_private_key

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))
import harness  # noqa: E402

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


class Browser:
    """What the web UI's fetch sends for a GET (web/src/api.js): the session
    cookie and Accept: application/json."""

    def __init__(self, cookie):
        self.cookie = cookie

    def headers(self, method, target, body=b""):
        return {"Cookie": self.cookie, "Accept": "application/json"}


def connect(ca):
    """One kept-open TLS connection to gate-ca (certificate not checked: loopback)."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return http.client.HTTPSConnection("127.0.0.1", ca.port, context=ctx, timeout=60)


def web_post(ca, path, body):
    """POST path as the web UI does (same Origin, JSON). Returns (status, JSON,
    the Set-Cookie header's name=value or '')."""
    conn = connect(ca)
    conn.request("POST", path, body=json.dumps(body).encode(), headers={
        "Origin": f"https://{ca.public_addr}", "Content-Type": "application/json"})
    resp = conn.getresponse()
    text = resp.read().decode(errors="replace")
    conn.close()
    return resp.status, json.loads(text), (resp.getheader("Set-Cookie") or "").split(";", 1)[0]


def add_user(ca, work, name, roles, cli=True):
    """Adds, signs up (web signup: a browser session) and, when cli, logs in
    with `gate login` one user. Returns (Signer or None, Browser, name)."""
    token, _ = ca.add_user(name, roles=roles or None)
    status, offer, _ = web_post(ca, "/v1/web/signup/start", {"token": token})
    assert status == 200, offer
    device = None
    body = {"token": token, "password": PASSWORD}
    if "totp_uri" in offer:
        device = harness.OtpDevice(harness.secret_from_uri(offer["totp_uri"]))
        body["otp_code"] = device.code()
    status, reply, cookie = web_post(ca, "/v1/web/signup/finish", body)
    assert status == 200 and cookie, reply
    if not cli:
        return None, Browser(cookie), name
    client = harness.Client(work, ca, name)
    if device:
        # A code is good once: wait for the next TOTP step.
        time.sleep(max(0.0, 30 - time.time() % 30) + 0.5)
    login = client.login(name, PASSWORD, device.code() if device else "")
    assert login.returncode == 0, login.stderr
    return Signer(client), Browser(cookie), name


def fill_store(ca, sessions, nodes, users):
    """Writes `nodes` nodes (env=prod on every 10th, else dev) and `sessions`
    finished sessions (one in 200 live) spread over them and over `users`
    user names, newest last. gate-ca must be stopped."""
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

# The session owners fill_store is given: 5,000 others and "loner" (about 20
# of 100,000 sessions).
SESSION_OWNERS = [f"user{i:04d}" for i in range(5000)] + ["loner"]
