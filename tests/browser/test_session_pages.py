"""The sessions pages in a real browser: /web/sessions (states, recording
badges, filters and pages as real URLs, visibility) and /web/sessions/ID
(replay with asciinema-player and seeking, the verification badge, the
.cast download, a live session's join command, not found).

Sessions are made as tests/integration/test_upload.py makes them, without
recording real ssh sessions: a node joined with the harness registers a
recorder key, tests/tools/gate-test-cast writes signed recordings into a
spool (finished, cut short, signed by another key, and one held live), and
the real `gate-node upload --once` ships them to gate-ca.

The cluster's second factor is off so that a browser login needs no OTP
step of its own (the login flows with a code are test_web_flows.py's).
"""
import http.client
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import unittest
import urllib.parse
import uuid

from browser import SIZES, BrowserTestCase
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import IS_ROOT, Node, binary, run  # noqa: E402
from test_nodes import node_token  # noqa: E402
from test_upload import cast_tool, register_recorder_key  # noqa: E402

PASSWORD = "correct horse battery"


@unittest.skipUnless(IS_ROOT, "needs root: joins a node and owns a spool")
class SessionPagesTest(BrowserTestCase):
    second_factor = "off"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.node = None
        cls.live_writer = None
        try:
            cls.make_sessions()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def make_sessions(cls):
        ca = cls.ca
        ca.gatectl("roles", "add", "watchers", "--node-labels", "env=rec", "--join-sessions",
                   check=True)
        for name, roles in (("alice", None), ("bob", "watchers"), ("carol", None)):
            cls.sign_up(name, roles)
        cls.node = Node(cls.workdir).start()
        token, _ = node_token(ca, "env=rec")
        joined = cls.node.join(ca, token, "--principals", "127.0.0.1")
        assert joined.returncode == 0, joined.stdout + joined.stderr
        cls.key = os.path.join(cls.workdir, "recorder.key")
        cls.other_key = os.path.join(cls.workdir, "other.key")
        for key in (cls.key, cls.other_key):
            run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key], check=True)
        cls.host_uuid, _ = register_recorder_key(ca, cls.node.data_dir, cls.key + ".pub")
        cls.spool = os.path.join(cls.workdir, "spool")
        os.makedirs(cls.spool, mode=0o700)

        cls.finished = cls.write("alice")
        cls.cut_short = cls.write("alice", "--cut-short")
        # Over 1 MiB, so the page fetches it in more than one page.
        cls.unverified = cls.write("alice", "--outputs", "16000", key=cls.other_key)
        cls.carols = cls.write("carol")
        cls.live = str(uuid.uuid4())
        cls.live_writer = subprocess.Popen(
            [cast_tool(), "--out", os.path.join(cls.spool, cls.live + ".cast"), "--key", cls.key,
             "--id", cls.live, "--node", cls.host_uuid, "--node-name", "node1", "--user",
             "alice", "--live"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # Held open (and locked) until tearDownClass: gate-node ships what
        # it has and gate-ca lists the session as live.
        assert cls.live_writer.stdout.readline().strip() == "ready"
        upload = run([binary("gate-node"), "upload", "--once", "--grace", "0", "--spool",
                      cls.spool, "--data-dir", cls.node.data_dir], timeout=120)
        assert upload.returncode == 0, upload.stdout + upload.stderr

    @classmethod
    def write(cls, user, *extra, key=None):
        sid = str(uuid.uuid4())
        proc = run([cast_tool(), "--out", os.path.join(cls.spool, sid + ".cast"), "--key",
                    key or cls.key, "--id", sid, "--node", cls.host_uuid, "--node-name", "node1",
                    "--user", user, *extra])
        assert proc.returncode == 0, proc.stderr
        return sid

    @classmethod
    def tearDownClass(cls):
        if cls.live_writer:
            cls.live_writer.communicate("finish\n", timeout=30)
        if cls.node:
            cls.node.stop()
        super().tearDownClass()

    # --- the API, as the browser's cookie sees it ---

    @classmethod
    def web_request(cls, method, path, body=None, cookie=None):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection("127.0.0.1", cls.ca.port, context=ctx, timeout=30)
        headers = {"Origin": f"https://{cls.ca.public_addr}"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if cookie:
            headers["Cookie"] = cookie
        conn.request(method, path, body=json.dumps(body) if body is not None else None,
                     headers=headers)
        resp = conn.getresponse()
        text = resp.read().decode(errors="replace")
        set_cookie = resp.getheader("Set-Cookie") or ""
        conn.close()
        return resp.status, (json.loads(text) if text.startswith("{") else text), set_cookie

    @classmethod
    def sign_up(cls, name, roles):
        token, _ = cls.ca.add_user(name, "root", roles=roles)
        status, body, _ = cls.web_request("POST", "/v1/web/signup/finish",
                                          {"token": token, "password": PASSWORD})
        assert status == 200, body

    def api_cookie(self, user):
        status, body, set_cookie = self.web_request(
            "POST", "/v1/web/login", {"user": user, "password": PASSWORD})
        self.assertEqual(status, 200, body)
        return set_cookie.split(";", 1)[0]

    def api_session(self, user, sid):
        return self.web_request("GET", f"/v1/sessions/{sid}", cookie=self.api_cookie(user))

    # --- the browser ---

    def log_in(self, user, on_login_page=False):
        if not on_login_page:
            self.open("/web/login")
        self.visible("login-form")
        self.driver.find_element(By.ID, "user").send_keys(user)
        self.driver.find_element(By.ID, "password").send_keys(PASSWORD)
        self.driver.find_element(By.ID, "login-submit").click()
        if not on_login_page:
            self.wait_path("/web/")
        self.wait_for(lambda d: self.text("whoami") == user, "a signed-in page")

    def list_rows(self):
        """{session id: row text} of the sessions table once it has loaded."""
        self.wait_for(lambda d: not self.text("sessions-status").startswith("Loading"),
                      "the sessions list")
        rows = {}
        for row in self.driver.find_elements(By.CSS_SELECTOR, "#sessions-body tr"):
            rows[row.get_attribute("data-session")] = row
        return rows

    def badge(self, row, prefix):
        return row.find_element(By.CSS_SELECTOR, f".badge[class*='{prefix}-']")

    def open_session(self, sid):
        self.open(f"/web/sessions/{sid}")
        self.wait_for(lambda d: not self.text("session-status"), "the session page")

    def wait_player(self):
        self.wait_for(lambda d: d.find_elements(By.CSS_SELECTOR, "#player .ap-term-text"),
                      "the player")

    def check_both_sizes(self, reload=None):
        """The page at 1280x800 and at phone width: no sideways scrolling,
        labelled inputs, a screenshot of each."""
        for size in SIZES:
            with self.subTest(size=size[0]):
                self.set_size(size)
                if reload:
                    self.driver.refresh()
                    reload()
                self.check_layout()
                self.screenshot(size[0])

    def terminal_text(self):
        return self.driver.execute_script(
            "const t = document.querySelector('#player .ap-term-text');"
            "return t ? t.textContent : null;")

    # --- tests ---

    def test_list_shows_my_sessions_with_states_and_recording_badges(self):
        self.log_in("alice")
        link = self.driver.find_element(By.LINK_TEXT, "Sessions")
        link.click()
        self.wait_path("/web/sessions")
        rows = self.list_rows()
        self.assertEqual(set(rows), {self.finished, self.cut_short, self.unverified, self.live})
        expect = {self.finished: ("finished", "verified"),
                  self.cut_short: ("cut short", "verified"),
                  self.unverified: ("finished", "unverified"),
                  self.live: ("live", "not verified yet")}
        cookie = self.api_cookie("alice")
        for sid, (state, recording) in expect.items():
            with self.subTest(sid=sid):
                row = rows[sid]
                self.assertEqual(self.badge(row, "state").text.lstrip("● "), state)
                self.assertEqual(self.badge(row, "rec").text.lstrip("✓! "), recording)
                _, api, _ = self.web_request("GET", f"/v1/sessions/{sid}", cookie=cookie)
                self.assertEqual(recording == "verified", api["verified"], api)
                self.assertIn(api["node_name"], row.text)
                self.assertIn(api["login"], row.text)
                link = row.find_element(By.CSS_SELECTOR, "a")
                self.assertEqual(link.get_attribute("href"), f"{self.origin}/web/sessions/{sid}")
        self.assertEqual(
            self.driver.find_element(By.CSS_SELECTOR, ".nav a[aria-current='page']").text,
            "Sessions")
        self.check_both_sizes(reload=self.list_rows)
        self.check_console()

    def test_filters_and_pages_are_real_urls(self):
        self.log_in("bob")  # a role that joins env=rec: sees everyone's sessions there
        self.open("/web/sessions")
        everyone = {self.finished, self.cut_short, self.unverified, self.live, self.carols}
        self.assertEqual(set(self.list_rows()), everyone)

        self.driver.find_element(By.ID, "filter-live").click()
        self.driver.find_element(By.ID, "filter-apply").click()
        self.wait_path("/web/sessions?live=1")
        self.assertEqual(set(self.list_rows()), {self.live})
        self.driver.refresh()
        self.assertEqual(set(self.list_rows()), {self.live})
        self.assertTrue(self.driver.find_element(By.ID, "filter-live").is_selected())

        self.open("/web/sessions")
        self.list_rows()
        self.driver.find_element(By.ID, "filter-user").send_keys("carol")
        self.driver.find_element(By.ID, "filter-apply").click()
        self.wait_path("/web/sessions?user=carol")
        self.assertEqual(set(self.list_rows()), {self.carols})
        self.assertEqual(self.driver.find_element(By.ID, "filter-user").get_attribute("value"),
                         "carol")
        self.driver.back()
        self.wait_path("/web/sessions")
        self.assertEqual(set(self.list_rows()), everyone)

        # Pages of two: the next page's link carries next_before; every
        # session shows once; back returns to the page before.
        self.open("/web/sessions?limit=2")
        seen = []
        pages = 0
        while True:
            rows = self.list_rows()
            self.assertLessEqual(len(rows), 2)
            seen += list(rows)
            pages += 1
            nxt = self.driver.find_element(By.ID, "next-page")
            if not nxt.is_displayed():
                break
            href = nxt.get_attribute("href")
            self.assertIn("limit=2", href)
            self.assertIn("before=", href)
            nxt.click()
            self.wait_for(lambda d: d.current_url == href, "the next page")
        self.assertEqual(pages, 3)
        self.assertEqual(len(seen), len(set(seen)))
        self.assertEqual(set(seen), everyone)
        self.assertTrue(self.driver.find_element(By.ID, "first-page").is_displayed())
        self.driver.back()
        self.assertEqual(len(self.list_rows()), 2)
        self.screenshot("paged")
        self.check_console()

    def test_a_user_without_a_join_role_sees_only_their_own(self):
        self.log_in("carol")
        self.open("/web/sessions")
        self.assertEqual(set(self.list_rows()), {self.carols})
        self.open_session(self.finished)
        self.assertTrue(self.driver.find_element(By.ID, "not-found").is_displayed())
        self.assertFalse(self.driver.find_element(By.ID, "session").is_displayed())
        self.assertEqual(self.driver.find_elements(By.CSS_SELECTOR, "#player *"), [])
        self.screenshot("not-visible")
        # The API answers alike: 404 for another user's session, and the list
        # holds only her own.
        cookie = self.api_cookie("carol")
        status, body, _ = self.web_request("GET", f"/v1/sessions/{self.finished}", cookie=cookie)
        self.assertEqual(status, 404, body)
        status, body, _ = self.web_request(
            "GET", f"/v1/sessions/{self.finished}/recording", cookie=cookie)
        self.assertEqual(status, 404, body)
        status, body, _ = self.web_request("GET", "/v1/sessions", cookie=cookie)
        self.assertEqual(status, 200, body)
        self.assertEqual([s["id"] for s in body["sessions"]], [self.carols])
        self.check_console()  # a 404 from /v1/ is the page's expected answer

    def test_unknown_session_is_a_not_found_page(self):
        self.log_in("alice")
        for sid in (str(uuid.uuid4()), "not-a-session-id"):
            with self.subTest(sid=sid):
                self.open_session(sid)
                self.assertTrue(self.driver.find_element(By.ID, "not-found").is_displayed())
                self.assertIn("Session not found", self.driver.title)
        self.screenshot("unknown")
        self.check_console()

    def test_finished_session_replays_and_seeks(self):
        self.log_in("alice")
        self.open_session(self.finished)
        self.wait_player()
        self.assertEqual(self.text("replay-status").split()[0],
                         str(os.path.getsize(self.held_by_ca(self.finished))))
        _, api, _ = self.api_session("alice", self.finished)
        badge = self.driver.find_element(By.ID, "verified-badge")
        self.assertEqual(badge.get_attribute("data-verified"), "true")
        self.assertTrue(api["verified"])
        self.assertIn("verified", badge.text)
        self.assertIn("complete", self.text("verification"))
        self.assertEqual(self.text("play-command"), f"gate play {self.finished}")
        self.assertEqual(self.text("session-state").lstrip("● "), "finished")

        # Seek with the player's own keys. gate-test-cast writes "first line
        # 0..2" at 0.2, 0.3 and 0.4 s: 90 % (0.36 s) shows lines 0 and 1, not
        # 2; 0 % shows none.
        self.driver.execute_script("document.querySelector('#player .ap-term-text').focus();")
        ActionChains(self.driver).send_keys("9").perform()
        self.wait_for(lambda d: "first line 1" in (self.terminal_text() or ""), "seek to 90 %")
        self.assertNotIn("first line 2", self.terminal_text())
        ActionChains(self.driver).send_keys("0").perform()
        self.wait_for(lambda d: "first line" not in (self.terminal_text() or "x"), "seek to 0 %")
        # Play to the end.
        ActionChains(self.driver).send_keys(" ").perform()
        self.wait_for(lambda d: "first line 2" in (self.terminal_text() or ""), "playing")

        # A new speed or idle limit makes a new player where the old one was.
        self.driver.find_element(By.CSS_SELECTOR, "#replay-speed option[value='4']").click()
        self.driver.find_element(By.CSS_SELECTOR, "#replay-idle option[value='0']").click()
        self.wait_player()
        self.wait_for(lambda d: "first line 2" in (self.terminal_text() or ""),
                      "the new player at the old one's place")
        self.check_both_sizes()
        self.check_console()

    def test_cast_download_is_the_whole_recording_fetched_page_by_page(self):
        self.log_in("alice")
        downloads = tempfile.mkdtemp(prefix="gate-downloads-")
        try:
            self.driver.execute_cdp_cmd("Browser.setDownloadBehavior",
                                        {"behavior": "allow", "downloadPath": downloads})
            self.open_session(self.unverified)
            link = self.visible("download")
            self.assertTrue(link.get_attribute("href").startswith("blob:"))
            self.assertEqual(link.get_attribute("download"), f"{self.unverified}.cast")
            badge = self.driver.find_element(By.ID, "verified-badge")
            self.assertEqual(badge.get_attribute("data-verified"), "false")
            self.assertEqual(badge.text.lstrip("! "), "unverified")
            self.assertIn("Recording unverified: line 1: the recording names recorder key",
                          self.text("verification"))
            link.click()
            path = os.path.join(downloads, f"{self.unverified}.cast")
            self.wait_for(lambda d: os.path.exists(path), "the download")
            with open(path, "rb") as f, open(self.held_by_ca(self.unverified), "rb") as held:
                whole = held.read()
                self.assertGreater(len(whole), 1024 * 1024)  # more than one page of the API
                self.assertEqual(f.read(), whole)
            self.screenshot("unverified")
            self.check_console()
        finally:
            shutil.rmtree(downloads, ignore_errors=True)

    def test_cut_short_session_says_so(self):
        self.log_in("alice")
        self.open_session(self.cut_short)
        self.wait_player()
        self.assertEqual(self.text("session-state").lstrip("● "), "cut short")
        self.assertIn("cut short", self.text("verification"))
        self.assertEqual(self.driver.find_element(By.ID, "verified-badge")
                         .get_attribute("data-verified"), "true")
        self.check_console()

    def test_live_session_page_says_live_with_the_join_command(self):
        # The live join in the browser is test_terminal_pages.py's (a real
        # recorded session). This session was written by gate-test-cast, not
        # by a recorder that gate join could reach: the page says the join
        # failed, and keeps `gate join`.
        self.log_in("alice")
        self.open_session(self.live)
        self.visible("live")
        self.assertEqual(self.text("session-state").lstrip("● "), "live")
        self.assertEqual(self.text("join-command"), f"gate join {self.live}")
        self.wait_for(lambda d: d.find_element(By.ID, "join-status").get_attribute("data-state")
                      == "error", "the join to be refused")
        self.assertTrue(self.text("join-status"))
        self.assertFalse(self.driver.find_element(By.ID, "replay").is_displayed())
        self.assertEqual(self.driver.find_element(By.ID, "verified-badge")
                         .get_attribute("data-verified"), "false")
        self.check_both_sizes()
        self.check_console(allow_refused_sockets=True)

    def test_the_session_url_gate_status_prints_opens_the_page(self):
        # cli/common/session_status.cc: "https://" + proxy + "/web/sessions/" + id,
        # where proxy is the cluster's public_addr.
        path = f"/web/sessions/{self.finished}"
        url = f"https://{self.ca.public_addr}{path}"
        self.assertEqual(url, self.origin + path)
        # Without a session: the login page, which comes back to the session.
        self.driver.get(url)
        self.wait_path("/web/login?next=" + path.replace("/", "%2F"))
        self.log_in("alice", on_login_page=True)
        self.wait_path(path)
        self.wait_player()
        self.assertEqual(self.text("fact-id"), self.finished)
        self.check_console()

    def test_login_goes_back_only_to_a_page_of_this_ui(self):
        for target, lands in (("/web/sessions?live=1", "/web/sessions?live=1"),
                              ("//evil.test/web/", "/web/"),
                              ("https://evil.test/web/", "/web/"),
                              ("/web/\\evil.test", "/web/")):
            with self.subTest(target=target):
                self.driver.delete_all_cookies()
                self.open("/web/login?next=" + urllib.parse.quote(target, safe=""))
                self.log_in("bob", on_login_page=True)
                self.wait_path(lands)
        self.check_console()

    def held_by_ca(self, sid):
        return os.path.join(self.ca.data_dir, "recordings", sid + ".cast")


if __name__ == "__main__":
    unittest.main()
