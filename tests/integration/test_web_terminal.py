"""The browser terminal and live join over WebSocket (docs/api.md, "Browser
terminal and live join"), end to end: a real gate-ca connects with libssh to
a real sshd node that forces gate-record (test_recording.RecordingTest's
node), with a certificate the signer issues for one login. Browsers are
played by Debian's python3-websocket (run with /usr/bin/python3, see
CMakeLists.txt) with the cookie, Origin and CSRF token a browser would send.

Checked: a terminal runs `id -un` as the chosen login and ends with its exit
status; refusals at upgrade are plain HTTP errors (login the role does not
allow, wrong Origin, no cookie, unknown node, the caps); a missing or wrong
CSRF token closes 1008 before any certificate exists; a node whose host key
is not the registered one is refused; a live session started with plain ssh
is joined as observer (sees what is typed, cannot type) and as peer (can);
logout ends an open terminal."""
import http.client
import json
import os
import re
import shutil
import socket
import ssl
import time
import unittest

import test_recording
from harness import IS_ROOT, Node, binary, run
from test_recording import LOGIN
from test_web_sessions import WebClient

try:
    import websocket  # Debian's python3-websocket
except ImportError:  # pragma: no cover - the CMake registration runs Debian's python3
    websocket = None

PASSWORD = "correct horse battery"


class Terminal:
    """One WebSocket to gate-ca, as the web UI's terminal page holds it."""

    def __init__(self, web, path, origin=None, timeout=60):
        self.web = web
        ctx = {"cert_reqs": ssl.CERT_NONE, "check_hostname": False}
        self.ws = websocket.create_connection(
            f"wss://{web.ca.addr}{path}", sslopt=ctx, timeout=timeout,
            origin=origin if origin is not None else web.origin,
            cookie=f"__Host-gate_session={web.cookie}")
        self.output = b""
        self.texts = []
        self.close_code = None
        self.close_reason = ""

    def start(self, csrf="default", cols=100, rows=30):
        token = self.web.csrf if csrf == "default" else csrf
        self.ws.send(json.dumps({"type": "start", "csrf_token": token, "cols": cols,
                                 "rows": rows}))

    def type(self, text):
        self.ws.send_binary(text.encode())

    def resize(self, cols, rows):
        self.ws.send(json.dumps({"type": "resize", "cols": cols, "rows": rows}))

    def receive(self):
        """One frame into output/texts; False once the connection is closed."""
        if self.close_code is not None:
            return False
        try:
            opcode, data = self.ws.recv_data(control_frame=True)
        except (websocket.WebSocketConnectionClosedException, ConnectionError, ssl.SSLError):
            self.close_code = self.close_code or -1
            return False
        if opcode == websocket.ABNF.OPCODE_BINARY:
            self.output += data
        elif opcode == websocket.ABNF.OPCODE_TEXT:
            self.texts.append(json.loads(data))
        elif opcode == websocket.ABNF.OPCODE_CLOSE:
            self.close_code = int.from_bytes(data[:2], "big") if len(data) >= 2 else 1005
            self.close_reason = data[2:].decode(errors="replace")
            try:
                self.ws.close()
            except Exception:  # noqa: BLE001 - the socket may be gone already
                pass
            return False
        return True

    def text(self):
        return self.output.decode(errors="replace")

    def receive_until(self, done, timeout):
        """Reads frames until done() or the connection closes or timeout."""
        deadline = time.time() + timeout
        while not done() and time.time() < deadline:
            self.ws.settimeout(max(0.1, deadline - time.time()))
            try:
                if not self.receive():
                    break
            except websocket.WebSocketTimeoutException:
                break
        return done()

    def wait_for(self, pattern, timeout=30):
        if not self.receive_until(lambda: re.search(pattern, self.text(), re.M), timeout):
            raise AssertionError(f"{pattern!r} not in the terminal's output:\n{self.text()}\n"
                                 f"messages: {self.texts} close: {self.close_code}")

    def message(self, kind):
        return next((m for m in self.texts if m.get("type") == kind), None)

    def wait_message(self, kind, timeout=30):
        if not self.receive_until(lambda: self.message(kind) is not None, timeout):
            raise AssertionError(f"no {kind!r} message: {self.texts} close: {self.close_code} "
                                 f"{self.close_reason!r}\n{self.text()}")
        return self.message(kind)

    def wait_closed(self, timeout=30):
        self.receive_until(lambda: self.close_code is not None, timeout)
        return self.close_code, self.close_reason

    def close(self):
        try:
            self.ws.close()
        except Exception:  # noqa: BLE001
            pass


def upgrade_refusal(web, path, origin="default", cookie="default"):
    """(status, JSON body) of an upgrade request gate-ca refuses, read as
    plain HTTP (a WebSocket client hides the body)."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    conn = http.client.HTTPSConnection("127.0.0.1", web.ca.port, context=ctx, timeout=60)
    headers = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
               "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}
    origin = web.origin if origin == "default" else origin
    if origin is not None:
        headers["Origin"] = origin
    cookie = f"__Host-gate_session={web.cookie}" if cookie == "default" else cookie
    if cookie is not None:
        headers["Cookie"] = cookie
    conn.request("GET", path, headers=headers)
    resp = conn.getresponse()
    text = resp.read().decode(errors="replace")
    conn.close()
    return resp.status, (json.loads(text) if text else None)


@unittest.skipUnless(IS_ROOT and shutil.which("tmux") and websocket is not None,
                     "needs root, tmux and python3-websocket")
class WebTerminalTest(test_recording.RecordingTest):
    """rita (login gtrec, from RecordingTest) owns the live sessions; web
    users log in through the web API; bob holds a role with join_sessions."""

    config_extra = """  web_terminal:
    max_connections: 8
    max_per_user: 2
"""

    @classmethod
    def edit_sshd_config(cls, text):
        # `gate join`, which a live join runs on the node, from the build dir:
        # the PATH an installed gate would be on.
        shim = os.path.join(cls.workdir, "bin")
        os.makedirs(shim, exist_ok=True)
        os.chmod(shim, 0o755)
        os.symlink(binary("gate"), os.path.join(shim, "gate"))
        return text + f"SetEnv PATH={shim}:/usr/local/bin:/usr/bin:/bin\n"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ca.gatectl("roles", "add", "joiners", "--logins", LOGIN, "--join-sessions",
                       check=True)
        synced = cls.node.sync()
        assert synced.returncode == 0, synced.stderr
        nodes = cls.ca.gatectl("nodes", "ls", check=True).stdout
        assert f"127.0.0.1:{cls.node.port}" in nodes, nodes
        cls.node_name = socket.gethostname()

    def web_user(self, name, roles=None):
        """A signed-up user logged in through the web API."""
        client = self.logged_in_user(name, LOGIN, roles=roles)
        # The node learns of the new user from its policy cache.
        synced = self.node.sync()
        self.assertEqual(synced.returncode, 0, synced.stderr)
        web = WebClient(self.ca)
        status, body, _ = web.login(name, PASSWORD, client.device.code())
        self.assertEqual(status, 200, body)
        return web

    def terminal_path(self, login=LOGIN, node=None):
        return f"/v1/web/terminal?node={node or self.host_uuid}&login={login}"

    def open_terminal(self, web, login=LOGIN):
        term = Terminal(web, self.terminal_path(login))
        self.addCleanup(term.close)
        term.start()
        ready = term.wait_message("ready")
        self.assertEqual(ready, {"type": "ready", "node": self.node_name, "login": login})
        term.wait_for(r"\$ \Z")  # the shell's prompt: keys typed before it echo twice
        return term

    def user_certs(self, user):
        return [r for r in self.ca.audit_rows("signer.user_cert", "") if r[0] == user]

    # --- the tests --------------------------------------------------------------

    def test_terminal_runs_as_the_chosen_login_and_ends_with_its_status(self):
        web = self.web_user("wendy")
        before = self.casts()
        term = self.open_terminal(web)
        term.resize(120, 40)
        term.type("id -un; stty size\n")
        term.wait_for(rf"^{LOGIN}\s*$")
        term.wait_for(r"^40 120\s*$")
        term.type("exit 7\n")
        end = term.wait_message("end")
        self.assertEqual(end, {"type": "end", "exit_status": 7})
        self.assertEqual(term.wait_closed(), (1000, "session ended"))
        # Recorded like any ssh session, under wendy's name.
        cast = self.new_cast(before)
        with open(cast) as f:
            header = json.loads(f.readline())
        self.assertEqual(header["gate"]["user"], "wendy")
        # One certificate, for the one login, and the audit says who went where.
        certs = self.user_certs("wendy")
        self.assertEqual(len(certs), 2, certs)  # gate login's, and the terminal's
        self.assertTrue(certs[-1][1])
        valid_until = int(re.search(r"valid until (\d+)", certs[-1][2]).group(1))
        self.assertLess(valid_until - time.time(), 130)  # 120 s, minus the test's time
        rows = [r for r in self.ca.audit_rows("user.web_terminal", "") if r[0] == "wendy"]
        self.assertEqual([r[1] for r in rows], [1], rows)
        self.assertIn(f"login {LOGIN}", rows[0][2])

    def test_refusals_at_upgrade_are_plain_http(self):
        web = self.web_user("rolf")
        status, body = upgrade_refusal(web, self.terminal_path("root"))
        self.assertEqual((status, body["error"]["message"]),
                         (403, "login 'root' not allowed on this node"))
        status, body = upgrade_refusal(web, self.terminal_path(), origin="https://evil.test")
        self.assertEqual((status, body["error"]["message"]), (403, "cross-origin request refused"))
        status, body = upgrade_refusal(web, self.terminal_path(), origin=None)
        self.assertEqual(status, 403, body)
        status, body = upgrade_refusal(web, self.terminal_path(), cookie=None)
        self.assertEqual((status, body["error"]["message"]), (401, "not logged in"))
        status, body = upgrade_refusal(
            web, self.terminal_path(node="00000000-0000-4000-8000-000000000000"))
        self.assertEqual(status, 404, body)
        status, body = upgrade_refusal(web, "/v1/web/terminal?node=x")
        self.assertEqual(status, 400, body)
        # The join of a session that does not exist (or is not visible).
        status, body = upgrade_refusal(
            web, "/v1/web/sessions/00000000-0000-4000-8000-000000000000/join")
        self.assertEqual(status, 404, body)
        # Without an upgrade: 426.
        status, body, _ = web.call("GET", self.terminal_path())
        self.assertEqual(status, 426, body)
        # The refused login is in the audit log; no certificate was made.
        rows = [r for r in self.ca.audit_rows("user.web_terminal", "root") if r[0] == "rolf"]
        self.assertEqual(len(rows), 1, rows)
        self.assertEqual(len(self.user_certs("rolf")), 1)  # gate login's only

    def test_bad_or_missing_csrf_token_closes_1008_before_any_certificate(self):
        web = self.web_user("carl")
        for first in ("wrong", None, "binary"):
            term = Terminal(web, self.terminal_path())
            self.addCleanup(term.close)
            if first == "binary":
                term.type("id -un\n")
            elif first is not None:
                term.start(csrf="A" * 43)
            else:
                term.ws.send(json.dumps({"type": "resize", "cols": 80, "rows": 24}))
            self.assertEqual(term.wait_closed(), (1008, "bad CSRF token"), first)
        self.assertEqual(len(self.user_certs("carl")), 1)  # gate login's only
        rows = [r for r in self.ca.audit_rows("user.web_terminal", "bad CSRF token")
                if r[0] == "carl"]
        self.assertEqual(len(rows), 3, rows)

    def test_node_with_another_host_key_is_refused(self):
        web = self.web_user("hank")
        impostor = Node(self.workdir, "impostor").start()
        self.addCleanup(impostor.stop)
        node_name = self.node_name

        def move(port):
            moved = self.ca.gatectl("nodes", "update", node_name, "--ssh-address",
                                    f"127.0.0.1:{port}")
            self.assertEqual(moved.returncode, 0, moved.stdout + moved.stderr)
        move(impostor.port)
        self.addCleanup(move, self.node.port)
        term = Terminal(web, self.terminal_path())
        self.addCleanup(term.close)
        term.start()
        error = term.wait_message("error")
        self.assertEqual(error["message"],
                         f"host key of {node_name} does not match the key it joined with")
        self.assertEqual(term.wait_closed()[0], 1008)

    def test_caps_answer_429(self):
        web = self.web_user("cora")
        first = self.open_terminal(web)
        second = self.open_terminal(web)
        status, body = upgrade_refusal(web, self.terminal_path())
        self.assertEqual(status, 429, body)
        self.assertIn("close one first", body["error"]["message"])
        first.type("exit\n")
        self.assertEqual(first.wait_message("end")["exit_status"], 0)
        first.wait_closed()
        # The place comes back once the first one has ended.
        deadline = time.time() + 30
        while True:
            try:
                third = self.open_terminal(web)
                break
            except websocket.WebSocketBadStatusException:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        for term in (second, third):
            term.type("exit\n")
            term.wait_message("end")

    def test_limits_on_frames_and_unread_output(self):
        web = self.web_user("olaf")
        # A browser frame over 64 KiB closes the connection (1009).
        big = self.open_terminal(web)
        try:
            big.ws.send_binary(b"x" * (64 * 1024 + 1))
            sent = True
        except (ssl.SSLError, OSError, websocket.WebSocketException):
            # gate-ca judged the frame by its header and closed before taking
            # the rest: the reset can cut off the send (and the close frame).
            sent = False
        code = big.wait_closed()[0]
        if sent:
            self.assertEqual(code, 1009)
        else:
            self.assertIn(code, (1009, -1))
        # A browser that stops reading is disconnected once gate-ca holds
        # 1 MiB of its output (after the kernel's socket buffers are full).
        flood = self.open_terminal(web)
        flood.type("yes flood-line\n")
        time.sleep(15)
        flood.wait_closed(timeout=120)
        self.assertEqual(flood.close_code, 1008, flood.texts)
        self.assertEqual(flood.message("error")["message"],
                         "the browser did not read the terminal's output (over 1 MiB queued); "
                         "disconnected")

    def test_logout_ends_an_open_terminal(self):
        web = self.web_user("lola")
        term = self.open_terminal(web)
        term.type("echo alive-$((6*7))\n")
        term.wait_for(r"^alive-42\s*$")
        status, body, _ = web.call("POST", "/v1/web/logout", {})
        self.assertEqual(status, 200, body)
        error = term.wait_message("error", timeout=20)
        self.assertIn("web session has ended", error["message"])
        self.assertEqual(term.wait_closed()[0], 1008)

    def test_closing_the_socket_ends_the_session_on_the_node(self):
        """Closing the tab: the browser closes its WebSocket, and the shell
        on the node goes with the SSH session."""
        web = self.web_user("tabby")
        term = self.open_terminal(web)
        term.type("echo shell-pid=$$\n")
        term.wait_for(r"^shell-pid=\d+\s*$")
        pid = int(re.search(r"^shell-pid=(\d+)\s*$", term.text(), re.M).group(1))
        self.assertTrue(os.path.exists(f"/proc/{pid}"))
        term.close()
        deadline = time.time() + 20
        while os.path.exists(f"/proc/{pid}") and time.time() < deadline:
            time.sleep(0.1)
        self.assertFalse(os.path.exists(f"/proc/{pid}"), "the shell outlived its browser tab")

    def test_live_session_is_joined_as_observer_then_peer(self):
        owner, live, _ = self.terminal("owner")
        sid = live["session_id"]
        owner.type("echo before-join-$((1+1))")
        owner.wait_for(r"^before-join-2\s*$")
        # gate-ca learns of live sessions from the uploader's first chunk.
        up = run([binary("gate-node"), "upload", "--once", "--spool", self.spool,
                  "--data-dir", self.node.data_dir], timeout=120)
        self.assertEqual(up.returncode, 0, up.stdout + up.stderr)

        web = self.web_user("bob", roles="joiners")
        # rita's session is visible to bob through his join role; it is live.
        watcher = Terminal(web, f"/v1/web/sessions/{sid}/join")
        self.addCleanup(watcher.close)
        watcher.start()
        ready = watcher.wait_message("ready")
        self.assertEqual(ready, {"type": "ready", "node": self.node_name, "login": LOGIN,
                                 "session_id": sid})
        watcher.wait_for(r"before-join-2")  # the replay
        owner.wait_for(r"\[gate\] bob joined as observer")
        owner.type("echo live-$((3*3))")
        watcher.wait_for(r"live-9")
        # An observer's keystrokes go nowhere.
        watcher.type("echo typed-by-observer\r")
        owner.type("echo marker-$((4*4))")
        owner.wait_for(r"^marker-16\s*$")
        watcher.wait_for(r"marker-16")
        self.assertNotIn("typed-by-observer", owner.screen())
        watcher.close()
        owner.wait_for(r"\[gate\] bob left")

        peer = Terminal(web, f"/v1/web/sessions/{sid}/join?mode=peer")
        self.addCleanup(peer.close)
        peer.start()
        peer.wait_message("ready")
        owner.wait_for(r"\[gate\] bob joined as peer")
        peer.type("echo from-peer-$((2*3))\r")
        owner.wait_for(r"^from-peer-6\s*$")
        peer.wait_for(r"from-peer-6")
        rows = [r for r in self.ca.audit_rows("user.web_join", sid) if r[0] == "bob"]
        self.assertEqual([(r[1], "as observer" in r[2] or "as peer" in r[2]) for r in rows],
                         [(1, True), (1, True)], rows)
        # The session ends with bob attached: gate join says so and exits 0.
        owner.type("exit")
        owner.wait_gone()
        peer.wait_for(r"session ended \(exit status 0\)")
        self.assertEqual(peer.wait_message("end")["exit_status"], 0)


# This class reuses RecordingTest's node; its tests already run in
# test_recording.py, so they are hidden here (unittest only collects
# callable test_* attributes).
for _name in dir(test_recording.RecordingTest):
    if _name.startswith("test_") and _name not in vars(WebTerminalTest):
        setattr(WebTerminalTest, _name, None)

if __name__ == "__main__":
    unittest.main()
