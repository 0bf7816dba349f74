"""The browser terminal and the live join in a real browser, end to end:
real gate-ca, a joined node whose real sshd forces the real gate-record
(installed setuid as `gate-node record on` lays it out), real ssh clients in
tmux, and Chromium.

- a session started with plain ssh is listed live in /web/sessions; bob (a
  role with join_sessions) joins it in the browser, sees its history and
  then text typed in the ssh session within a second; as observer his
  keystrokes (even sent by hand over the socket) never reach the session,
  as peer they do, and the recording holds his joins;
- rita's browser terminal ("connect as gtrec" on the home page) runs
  `id -un` as gtrec, pastes, interrupts with Ctrl+C, follows the window's
  size, ends with its exit status, and its recording is listed in
  /web/sessions;
- a login the role does not allow is refused on the page and at the
  upgrade; a WebSocket from a page of another origin, a forged Origin and a
  wrong CSRF token are refused.

Every test checks the console for CSP violations and saves screenshots.
The cluster's second factor is off, so a browser login needs no OTP step of
its own (test_web_flows.py covers logins with a code).
"""
import base64
import http.client
import json
import os
import re
import shutil
import ssl
import sys
import time
import unittest

from browser import OTHER_HOST, SIZES, BrowserTestCase
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import (IS_ROOT, Client, Node, TestRecorder, binary, ensure_os_user,  # noqa: E402
                     root_safe_dir, run)
from test_nodes import node_token  # noqa: E402
from test_recording import Tmux, output_of, parse_cast  # noqa: E402
from test_upload import register_recorder_key  # noqa: E402

PASSWORD = "correct horse battery"
LOGIN = "gtrec"
# Seconds: text typed in the ssh session must show in the browser's live
# join within this (the requirement; loopback takes milliseconds).
LIVE_LATENCY = 1.0

# In the page: the time (ms since the epoch, to a fraction of a ms) at which
# a terminal's rows first hold needle, in window.gateSeen[needle]; a
# MutationObserver notices it the moment xterm.js renders it. Also
# bench/web-live.py's.
WATCH_SCRIPT = """
const [selector, needle] = arguments;
const rows = document.querySelector(selector + ' .xterm-rows');
window.gateSeen = window.gateSeen || {};
window.gateSeen[needle] = null;
const check = () => {
  if (window.gateSeen[needle] === null &&
      rows.textContent.replace(/\\u00a0/g, ' ').includes(needle)) {
    window.gateSeen[needle] = performance.timeOrigin + performance.now();
  }
};
new MutationObserver(check).observe(rows, {subtree: true, childList: true, characterData: true});
check();
"""

# In the page: opens a WebSocket to arguments[0] (a path of gate-ca at
# arguments[1], an origin), sends the start message with arguments[2] as
# the CSRF token (none when null), then, once "ready", the bytes
# arguments[3] (when not null); resolves to what happened: {opened,
# messages, code, reason}, after the close or after arguments[4] ms.
SOCKET_SCRIPT = """
const [path, origin, csrf, keys, waitMs, done] = arguments;
const result = {opened: false, messages: [], code: null, reason: null};
const ws = new WebSocket(origin.replace('https://', 'wss://') + path);
ws.binaryType = 'arraybuffer';
const finish = () => { try { ws.close(); } catch (e) {} done(result); };
const timer = setTimeout(finish, waitMs);
ws.onopen = () => {
  result.opened = true;
  if (csrf !== null) ws.send(JSON.stringify({type: 'start', csrf_token: csrf, cols: 80, rows: 24}));
};
ws.onmessage = (e) => {
  if (typeof e.data !== 'string') return;
  const m = JSON.parse(e.data);
  result.messages.push(m);
  if (m.type === 'ready' && keys !== null) ws.send(new TextEncoder().encode(keys));
};
ws.onclose = (e) => {
  result.code = e.code;
  result.reason = e.reason;
  clearTimeout(timer);
  done(result);
};
"""


@unittest.skipUnless(IS_ROOT and shutil.which("tmux"),
                     "needs root (OS users, setuid install, sshd) and tmux")
class WebTerminalTest(BrowserTestCase):
    """rita may log in as gtrec (her own login); bob holds "joiners" (gtrec
    with join_sessions). Both log in to the node as the OS account gtrec."""

    second_factor = "off"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.node = None
        try:
            cls.make_node()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def make_node(cls):
        ca = cls.ca
        ensure_os_user(LOGIN)
        cls.tmux_socket = os.path.join(cls.workdir, "tmux.sock")
        rec = TestRecorder(cls.workdir, "webrecorder")
        cls.spool, cls.rec_key = rec.spool, rec.key
        # gate-ca runs `gate join ...` on the node for a live join: sessions
        # find `gate` on their PATH, as on an installed node.
        bin_dir = os.path.join(root_safe_dir(), "web-bin")
        os.makedirs(bin_dir, mode=0o755, exist_ok=True)
        shutil.copy2(binary("gate"), os.path.join(bin_dir, "gate"))
        os.chmod(os.path.join(bin_dir, "gate"), 0o755)
        cls.node = Node(cls.workdir, "webnode")
        with open(cls.node.config) as f:
            text = f.read()
        text += f"SetEnv PATH={bin_dir}:/usr/local/bin:/usr/bin:/bin\n" + rec.force_command()
        with open(cls.node.config, "w") as f:
            f.write(text)
        cls.node.start()
        token, _ = node_token(ca)
        joined = cls.node.join(ca, token, "--principals", "127.0.0.1")
        assert joined.returncode == 0, joined.stdout + joined.stderr
        cls.host_uuid = rec.write_config(ca, cls.node, "webnode")
        register_recorder_key(ca, cls.node.data_dir, rec.key + ".pub")
        cls.set_ssh_address()
        ca.gatectl("roles", "add", "joiners", "--logins", LOGIN, "--join-sessions", check=True)
        cls.rita = cls.sign_up("rita", logins=LOGIN)
        cls.bob = cls.sign_up("bob", roles="joiners")
        # carol has the same login on the node but no role with join_sessions.
        cls.carol = cls.sign_up("carol", logins=LOGIN)
        synced = cls.node.sync()
        assert synced.returncode == 0, synced.stderr
        login = cls.rita.gate("login", "--proxy", ca.addr, "--user", "rita", "--insecure",
                              input=f"{PASSWORD}\n")
        assert login.returncode == 0, login.stderr

    @classmethod
    def set_ssh_address(cls):
        """gate-ca reaches the node's sshd at its recorded ssh_address; the
        test's sshd listens on 127.0.0.1 and a free port."""
        proc = cls.ca.gatectl("nodes", "update", cls.host_uuid, "--ssh-address",
                              f"127.0.0.1:{cls.node.port}")
        assert proc.returncode == 0, proc.stdout + proc.stderr

    @classmethod
    def sign_up(cls, name, logins=None, roles=None):
        token, _ = cls.ca.add_user(name, logins, roles=roles)
        client = Client(cls.workdir, cls.ca, name)
        result, _ = client.signup(token, PASSWORD)
        assert result.returncode == 0, result.stderr
        return client

    @classmethod
    def tearDownClass(cls):
        if cls.node:
            cls.node.stop()
            run(["tmux", "-S", cls.tmux_socket, "kill-server"], timeout=30)
        super().tearDownClass()

    # --- plain ssh on the node ------------------------------------------------

    def ssh_session(self, name):
        """rita's interactive ssh session in tmux, at the prompt; returns
        (tmux, session id)."""
        kh = os.path.join(self.rita.env["GATE_HOME"], "known_hosts")
        argv = ["ssh", "-F", "/dev/null", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
                "-o", f"IdentityFile={self.rita.key}", "-o", f"CertificateFile={self.rita.cert}",
                "-o", f"UserKnownHostsFile={kh}", "-o", "StrictHostKeyChecking=yes",
                "-o", "ConnectTimeout=10", "-p", str(self.node.port), "-tt", f"{LOGIN}@127.0.0.1"]
        t = Tmux(self.tmux_socket, name).start(argv)
        self.addCleanup(t.kill)
        t.wait_for(r"\$\s*\Z")
        t.type("echo sid=$GATE_SESSION_ID")
        screen = t.wait_for(r"^sid=[0-9a-f-]{36}\s*$")
        return t, re.search(r"^sid=([0-9a-f-]{36})\s*$", screen, re.M).group(1)

    def upload(self):
        """gate-node's uploader ships what the spool holds (a live session's
        first chunk makes it live in gate-ca)."""
        proc = run([binary("gate-node"), "upload", "--once", "--spool", self.spool,
                    "--data-dir", self.node.data_dir], timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)

    # --- the API without the browser ------------------------------------------

    def https(self):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return http.client.HTTPSConnection("127.0.0.1", self.ca.port, context=ctx, timeout=30)

    def api_cookie(self, user):
        conn = self.https()
        conn.request("POST", "/v1/web/login", body=json.dumps({"user": user, "password": PASSWORD}),
                     headers={"Origin": self.origin, "Content-Type": "application/json"})
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
        self.assertEqual(resp.status, 200, body)
        return resp.getheader("Set-Cookie").split(";", 1)[0]

    def upgrade(self, path, cookie, origin):
        """A WebSocket upgrade request as a client other than a browser may
        send it: (status, JSON body or None). 101 means it was accepted."""
        conn = self.https()
        headers = {"Host": self.ca.public_addr, "Connection": "Upgrade", "Upgrade": "websocket",
                   "Sec-WebSocket-Version": "13",
                   "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode()}
        if cookie:
            headers["Cookie"] = cookie
        if origin:
            headers["Origin"] = origin
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        body = None
        if resp.status != 101:
            text = resp.read().decode(errors="replace")
            body = json.loads(text) if text.startswith("{") else text
        conn.close()
        return resp.status, body

    # --- the browser ------------------------------------------------------------

    def log_in(self, user):
        self.open("/web/login")
        self.visible("login-form")
        self.driver.find_element(By.ID, "user").send_keys(user)
        self.driver.find_element(By.ID, "password").send_keys(PASSWORD)
        self.driver.find_element(By.ID, "login-submit").click()
        self.wait_path("/web/")
        self.wait_for(lambda d: self.text("whoami") == user, "a signed-in page")

    def screen(self, holder):
        """What the terminal in #holder shows, row by row."""
        text = self.driver.execute_script(
            "const r = document.querySelector(arguments[0] + ' .xterm-rows');"
            "return r ? r.innerText : '';", "#" + holder)
        return text.replace("\u00a0", " ")

    def wait_screen(self, holder, pattern):
        try:
            self.wait_for(lambda d: re.search(pattern, self.screen(holder), re.M),
                          f"{pattern!r} in #{holder}")
        except Exception:
            raise AssertionError(f"{pattern!r} not in #{holder}:\n{self.screen(holder)}")

    def wait_status(self, element_id, state):
        self.wait_for(lambda d: d.find_element(By.ID, element_id).get_attribute("data-state")
                      == state, f"#{element_id} to say {state}")
        return self.text(element_id)

    def type_in(self, holder, keys):
        """Keys as a person types them into the terminal in #holder (which
        has the keyboard focus once clicked)."""
        self.driver.execute_script(
            "document.querySelector(arguments[0] + ' .xterm-helper-textarea').focus();",
            "#" + holder)
        ActionChains(self.driver).send_keys(keys).perform()

    def paste_in(self, holder, text):
        """A paste (Ctrl+V / the context menu) into the terminal: the
        browser's paste event on xterm.js's input, with text on its
        clipboard data."""
        self.driver.execute_script("""
            const dt = new DataTransfer();
            dt.setData('text/plain', arguments[1]);
            document.querySelector(arguments[0] + ' .xterm-helper-textarea').dispatchEvent(
                new ClipboardEvent('paste', {clipboardData: dt, bubbles: true, cancelable: true}));
        """, "#" + holder, text)

    def csrf_token(self):
        return self.driver.execute_async_script("""
            const done = arguments[0];
            fetch('/v1/web/session', {credentials: 'same-origin'})
              .then((r) => r.json()).then((s) => done(s.csrf_token), () => done(null));""")

    def socket(self, path, csrf, keys=None, origin=None, wait_ms=8000):
        return self.driver.execute_async_script(SOCKET_SCRIPT, path, origin or self.origin, csrf,
                                                keys, wait_ms)

    def rows_of_sessions(self):
        self.wait_for(lambda d: not self.text("sessions-status").startswith("Loading"),
                      "the sessions list")
        return {row.get_attribute("data-session"): row
                for row in self.driver.find_elements(By.CSS_SELECTOR, "#sessions-body tr")}

    # --- tests ------------------------------------------------------------------

    def test_live_join_observer_then_peer(self):
        owner, sid = self.ssh_session("owner")
        owner.type("echo before-join-$((1+1))")
        owner.wait_for(r"^before-join-2\s*$")
        self.upload()

        # carol, without a role with join_sessions, sees neither the session
        # nor a way to join it: the page and the upgrade answer as for a
        # session that does not exist.
        status, body = self.upgrade(f"/v1/web/sessions/{sid}/join", self.api_cookie("carol"),
                                    self.origin)
        self.assertEqual(status, 404, body)
        unknown = "00000000-0000-4000-8000-000000000000"
        _, unknown_body = self.upgrade(f"/v1/web/sessions/{unknown}/join",
                                       self.api_cookie("carol"), self.origin)
        self.assertEqual(json.dumps(unknown_body).replace(unknown, sid), json.dumps(body))
        self.log_in("carol")
        self.open(f"/web/sessions/{sid}")
        self.wait_for(lambda d: "Session not found" in d.title, "the not-found page")
        self.assertEqual(self.driver.find_elements(By.CSS_SELECTOR, ".xterm-rows"), [])
        self.open("/web/sessions?live=1")
        self.assertNotIn(sid, self.rows_of_sessions())
        self.driver.delete_all_cookies()

        # Listed live, and its row opens the session's page.
        self.log_in("bob")
        self.open("/web/sessions?live=1")
        rows = self.rows_of_sessions()
        self.assertIn(sid, rows)
        self.assertEqual(rows[sid].find_element(By.CSS_SELECTOR, ".badge[class*='state-']")
                         .text.lstrip("● "), "live")
        rows[sid].find_element(By.CSS_SELECTOR, "a").click()
        self.wait_path(f"/web/sessions/{sid}")
        self.visible("live")

        # Observer first: the history, then live output.
        self.assertIn("Joined as observer", self.wait_status("join-status", "connected"))
        mode = self.driver.find_element(By.ID, "join-mode-text")
        self.assertEqual(mode.get_attribute("data-mode"), "observer")
        self.assertIn("keystrokes are not sent", mode.text)
        self.assertEqual(self.text("join-switch"), "Join as peer")
        self.wait_screen("join-terminal", r"^before-join-2\s*$")
        owner.wait_for(r"\[gate\] bob joined as observer")

        # Text typed in the ssh session shows in the browser within a second.
        needle = "typed-live-7f3a"
        self.driver.execute_script(WATCH_SCRIPT, "#join-terminal", needle)
        sent = time.time()
        owner.tmux("send-keys", "-t", owner.name, "-l", needle)
        self.wait_for(lambda d: d.execute_script("return window.gateSeen[arguments[0]];", needle),
                      "the typed text in the browser")
        seen = self.driver.execute_script("return window.gateSeen[arguments[0]];", needle) / 1000
        print(f"typed text shown in the browser after {(seen - sent) * 1000:.0f} ms",
              file=sys.stderr)
        self.assertLess(seen - sent, LIVE_LATENCY, "typed text took too long to show")
        owner.tmux("send-keys", "-t", owner.name, "C-u")

        # An observer's keystrokes go nowhere: not from the page, and not
        # when sent by hand on an observer's socket.
        self.type_in("join-terminal", "echo typed-by-observer" + Keys.ENTER)
        forged = self.socket(f"/v1/web/sessions/{sid}/join?mode=observer", self.csrf_token(),
                             keys="echo forged-by-observer\r", wait_ms=3000)
        self.assertTrue(forged["opened"], forged)
        self.assertIn("ready", [m["type"] for m in forged["messages"]], forged)
        owner.type("echo marker-$((4*4))")
        owner.wait_for(r"^marker-16\s*$")
        self.wait_screen("join-terminal", r"^marker-16\s*$")
        self.assertNotIn("typed-by-observer", owner.screen())
        self.assertNotIn("forged-by-observer", owner.screen())
        self.check_layout()
        for size in SIZES:
            self.set_size(size)
            self.screenshot(f"observer-{size[0]}")
        self.set_size(SIZES[0])

        # Peer: the page reconnects, and what bob types reaches the session.
        self.driver.find_element(By.ID, "join-switch").click()
        self.assertIn("Joined as peer", self.wait_status("join-status", "connected"))
        self.assertEqual(mode.get_attribute("data-mode"), "peer")
        self.assertEqual(self.text("join-switch"), "Observe only")
        owner.wait_for(r"\[gate\] bob joined as peer")
        self.type_in("join-terminal", "echo from-peer-$((2*3))" + Keys.ENTER)
        owner.wait_for(r"^from-peer-6\s*$")
        self.wait_screen("join-terminal", r"^from-peer-6\s*$")
        self.screenshot("peer")

        # The session ends: the join says so with gate join's exit status.
        owner.type("exit")
        owner.wait_gone()
        self.assertIn("exit status 0", self.wait_status("join-status", "ended"))
        self.screenshot("ended")
        _, events = parse_cast(os.path.join(self.spool, sid + ".cast"))
        self.assertIn("from-peer-6", output_of(events))
        self.assertNotIn("typed-by-observer", output_of(events))
        self.assertNotIn("forged-by-observer", output_of(events))
        joins = [json.loads(e[2]) for e in events if e[1] == "j"]
        self.assertEqual(joins[0], {"event": "join", "user": "bob", "mode": "observer"})
        self.assertIn({"event": "leave", "user": "bob", "mode": "observer"}, joins)
        self.assertEqual(joins[-1], {"event": "join", "user": "bob", "mode": "peer"})
        self.check_console()

    def test_browser_terminal_runs_as_the_chosen_login_and_is_recorded(self):
        self.log_in("rita")
        link = self.driver.find_element(By.CSS_SELECTOR,
                                        f"tr[data-node='{self.host_uuid}'] a[data-login='{LOGIN}']")
        self.assertEqual(link.text, f"connect as {LOGIN}")
        self.screenshot("home")
        link.click()
        self.wait_path(f"/web/terminal?node={self.host_uuid}&login={LOGIN}")
        status = self.wait_status("terminal-status", "connected")
        self.assertRegex(status, rf"^Connected as {LOGIN} on \S+\.$")
        self.wait_screen("terminal", r"\$\s*$")
        self.type_in("terminal", "id -un" + Keys.ENTER)
        self.wait_screen("terminal", rf"^{LOGIN}\s*$")
        self.type_in("terminal", "echo sid=$GATE_SESSION_ID" + Keys.ENTER)
        self.wait_screen("terminal", r"^sid=[0-9a-f-]{36}\s*$")
        sid = re.search(r"^sid=([0-9a-f-]{36})\s*$", self.screen("terminal"), re.M).group(1)

        # Paste reaches the shell like typing.
        self.paste_in("terminal", "echo pasted-$((6*7))")
        self.type_in("terminal", Keys.ENTER)
        self.wait_screen("terminal", r"^pasted-42\s*$")

        # 24-bit colours show as the program asked (xterm.js sets them as a
        # style attribute, which must not trip the CSP; check_console below).
        self.type_in("terminal", r"printf '\033[38;2;255;0;0mtruecolor-red\033[0m\n'"
                     + Keys.ENTER)
        self.wait_screen("terminal", r"^truecolor-red\s*$")
        colour = self.driver.execute_script("""
            const rows = document.querySelector('#terminal .xterm-rows');
            const span = [...rows.querySelectorAll('span')].find(
                (s) => s.textContent.replace(/\u00a0/g, ' ') === 'truecolor-red');
            return span ? getComputedStyle(span).color : null;""")
        self.assertEqual(colour, "rgb(255, 0, 0)")

        # Ctrl+C reaches the program as the terminal's interrupt.
        self.type_in("terminal", "sleep 600" + Keys.ENTER)
        ActionChains(self.driver).key_down(Keys.CONTROL).send_keys("c").key_up(Keys.CONTROL) \
            .perform()
        self.type_in("terminal", "echo interrupted-$?" + Keys.ENTER)
        self.wait_screen("terminal", r"^interrupted-130\s*$")

        # The shell's window follows the browser's: wide on a desktop, narrow
        # on a phone (the page sends a resize message).
        sizes = {}
        for size in SIZES:
            self.set_size(size)
            name = size[0]
            # Refitted: the terminal fits its holder again (the page sent the
            # resize before anything typed after this).
            self.wait_for(lambda d: d.execute_script(
                "const h = document.getElementById('terminal');"
                "return h.querySelector('.xterm-screen').offsetWidth <= h.clientWidth;"),
                "the terminal to fit the window")
            self.type_in("terminal", f"echo {name}-cols-$(stty size | cut -d' ' -f2)" + Keys.ENTER)
            self.wait_screen("terminal", rf"^{name}-cols-\d+\s*$")
            sizes[name] = int(re.search(rf"^{name}-cols-(\d+)\s*$", self.screen("terminal"),
                                        re.M).group(1))
            self.check_layout()
            self.screenshot(name)
        self.assertGreater(sizes["desktop"], 100, sizes)
        self.assertLess(sizes["phone"], 60, sizes)
        self.set_size(SIZES[0])

        self.type_in("terminal", "exit 3" + Keys.ENTER)
        self.assertIn("exit status 3", self.wait_status("terminal-status", "ended"))
        self.screenshot("ended")
        audit = self.ca.audit_rows("user.web_terminal", f"login {LOGIN}")
        self.assertTrue([r for r in audit if r[0] == "rita" and r[1]], audit)

        # Recorded on the node like any ssh session, and listed.
        self.upload()
        self.open("/web/sessions")
        rows = self.rows_of_sessions()
        self.assertIn(sid, rows)
        self.assertIn("rita", rows[sid].text)
        self.assertIn(LOGIN, rows[sid].text)
        _, events = parse_cast(os.path.join(self.ca.data_dir, "recordings", sid + ".cast"))
        self.assertIn("pasted-42", output_of(events))
        self.screenshot("listed")
        self.check_console()

    def test_a_login_the_role_does_not_allow_is_refused(self):
        self.log_in("rita")
        self.open(f"/web/terminal?node={self.host_uuid}&login=root")
        status = self.wait_status("terminal-status", "error")
        self.assertIn("login 'root' not allowed on", status)
        self.assertIn(f"Logins you may use there: {LOGIN}", status)
        self.assertEqual(self.driver.find_elements(By.CSS_SELECTOR, "#terminal .xterm"), [])
        self.assertTrue(self.driver.find_element(By.ID, "terminal-back").is_displayed())
        self.screenshot("refused")
        self.open("/web/terminal?node=00000000-0000-4000-8000-000000000000&login=gtrec")
        self.assertIn("no node with this id", self.wait_status("terminal-status", "error"))
        self.check_console()

        # gate-ca refuses the upgrade itself, with the same answers.
        cookie = self.api_cookie("rita")
        status, body = self.upgrade(f"/v1/web/terminal?node={self.host_uuid}&login=root",
                                    cookie, self.origin)
        self.assertEqual(status, 403, body)
        self.assertIn("not allowed", body["error"]["message"])
        status, body = self.upgrade(
            "/v1/web/terminal?node=00000000-0000-4000-8000-000000000000&login=gtrec",
            cookie, self.origin)
        self.assertEqual(status, 404, body)
        status, body = self.upgrade(f"/v1/web/terminal?node={self.host_uuid}&login={LOGIN}",
                                    None, self.origin)
        self.assertEqual(status, 401, body)

    def test_cross_origin_sockets_and_a_wrong_csrf_token_are_refused(self):
        path = f"/v1/web/terminal?node={self.host_uuid}&login={LOGIN}"
        cookie = self.api_cookie("rita")
        other = f"https://{OTHER_HOST}:{self.ca.port}"
        for origin in (other, "null", None):
            with self.subTest(origin=origin):
                status, body = self.upgrade(path, cookie, origin)
                self.assertEqual(status, 403, body)
                self.assertEqual(body["error"]["message"], "cross-origin request refused")
        # With the right Origin the same request is upgraded.
        status, body = self.upgrade(path, cookie, self.origin)
        self.assertEqual(status, 101, body)

        self.log_in("rita")
        csrf = self.csrf_token()
        # A wrong CSRF token in the start message: closed, 1008.
        wrong = self.socket(path, "0" * len(csrf))
        self.assertTrue(wrong["opened"], wrong)
        self.assertEqual((wrong["code"], wrong["reason"]), (1008, "bad CSRF token"), wrong)
        self.assertEqual(wrong["messages"], [], wrong)

        # A page of another origin (the same gate-ca under another name, so
        # the browser sends rita's cookie: same site, other origin) cannot
        # open a socket. Its own CSP would stop it first, so the test lifts
        # CSP for that page: gate-ca's Origin check is what refuses it.
        self.driver.execute_cdp_cmd("Page.setBypassCSP", {"enabled": True})
        try:
            self.driver.get(other + "/web/login")
            self.visible("login-form")
            attempt = self.socket(path, csrf, origin=self.origin)
        finally:
            self.driver.execute_cdp_cmd("Page.setBypassCSP", {"enabled": False})
        self.assertFalse(attempt["opened"], attempt)
        self.assertEqual(attempt["messages"], [], attempt)
        self.screenshot("other-origin")
        self.check_console(allow_refused_sockets=True)


if __name__ == "__main__":
    unittest.main()
