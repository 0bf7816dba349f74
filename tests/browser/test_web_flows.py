"""The web UI's flows end to end in a real browser: signup from the link
`gatectl users add` prints (QR code decoded with zbarimg), the used, expired
and unknown link pages, login right / wrong / locked / rate-limited, the
home page's nodes table, and logout.

These need the browser session API (/v1/web/login, /v1/web/session,
/v1/web/logout, /v1/web/signup/start|finish, cookie auth on /v1/nodes);
tests/browser/CMakeLists.txt registers this module once that API is in.
"""
import os
import re
import subprocess
import sys
import time
import unittest

from browser import SIZES, BrowserTestCase
from selenium.webdriver.common.by import By

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import Node, OtpDevice, secret_from_uri  # noqa: E402

PASSWORD = "correct horse battery"


class FlowHelpers:
    def signup_url(self, name, logins=None, roles=None, ttl=None):
        token, out = self.ca.add_user(name, logins, ttl=ttl, roles=roles)
        m = re.search(r"https://\S+/web/newuser/[0-9a-f]{32}", out)
        self.assertIsNotNone(m, out)
        url = m.group(0)
        self.assertTrue(url.startswith(self.origin + "/web/newuser/"), url)
        return url, token

    def decode_qr(self, label):
        """The text of the QR code on the page, read back by zbarimg from a
        screenshot of the code alone."""
        path = self.screenshot(label)
        qr = self.driver.find_element(By.CSS_SELECTOR, "#qr svg")
        # Whole in the viewport first: a screenshot of an element cut by the
        # window's edge is cut too, and a cut code does not decode.
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", qr)
        qr.screenshot(path)
        result = subprocess.run(["zbarimg", "--quiet", "--raw", path], capture_output=True,
                                text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        return result.stdout.strip()

    def sign_up(self, url, label="signup"):
        """Walks the signup page as a person would; returns the OTP device."""
        self.driver.get(url)
        self.visible("signup")
        uri = self.text("totp-uri")
        self.assertTrue(uri.startswith("otpauth://totp/"), uri)
        decoded = self.decode_qr(label + "-qr")
        self.assertEqual(secret_from_uri(decoded), secret_from_uri(uri))
        device = OtpDevice(secret_from_uri(decoded))
        self.driver.find_element(By.ID, "password").send_keys(PASSWORD)
        self.driver.find_element(By.ID, "password2").send_keys(PASSWORD)
        self.driver.find_element(By.ID, "otp").send_keys(device.code())
        self.screenshot(label + "-filled")
        self.driver.find_element(By.ID, "signup-submit").click()
        self.wait_path("/web/")
        return device

    def log_in(self, user, password, code):
        self.open("/web/login")
        self.visible("login-form")
        self.driver.find_element(By.ID, "user").send_keys(user)
        self.driver.find_element(By.ID, "password").send_keys(password)
        self.driver.find_element(By.ID, "otp").send_keys(code)
        self.driver.find_element(By.ID, "login-submit").click()

    def login_error(self):
        return self.visible("login-error").text

    def wait_home(self, user):
        self.wait_path("/web/")
        self.wait_for(lambda d: self.text("user-name") == user, "the home page")


class SignupAndLoginTest(FlowHelpers, BrowserTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.node = None
        from harness import IS_ROOT
        if IS_ROOT:
            cls.node = Node(cls.workdir, "webnode").start()
            out = cls.ca.gatectl("tokens", "add", "--type=node", "--labels", "env=test",
                                 "--principals", "127.0.0.1", check=True).stdout
            token = re.search(r"The node join token: ([0-9a-f]{32}) ", out).group(1)
            joined = cls.node.join(cls.ca, token, "--principals", "127.0.0.1")
            assert joined.returncode == 0, joined.stdout + joined.stderr

    @classmethod
    def tearDownClass(cls):
        if cls.node:
            cls.node.stop()
        super().tearDownClass()

    def test_signup_from_the_link_lands_logged_in_with_the_nodes_table(self):
        url, token = self.signup_url("webalice", logins="webalice,root")
        device = self.sign_up(url)
        self.wait_home("webalice")
        self.assertIn("webalice", self.text("logins"))
        self.assertIn("test-cluster", self.text("cluster"))
        if self.node:
            self.visible("nodes-table")
            rows = self.driver.find_elements(By.CSS_SELECTOR, "#nodes-body tr")
            self.assertEqual(len(rows), 1)
            self.assertIn("env=test", rows[0].text)
            self.assertIn("webalice", rows[0].text)
        self.check_layout()
        self.screenshot("home")
        self.check_console()
        # The link is used now: opening it again says so.
        self.driver.delete_all_cookies()
        self.driver.get(url)
        self.visible("problem")
        self.assertEqual(self.driver.find_element(By.ID, "problem").get_attribute("data-reason"),
                         "used")
        self.screenshot("used")
        # The token never reached gate-ca's log.
        with open(os.path.join(self.workdir, "gate-ca.log")) as f:
            self.assertNotIn(token, f.read())
        # And the person logs in again with the password and a new code.
        self.log_in("webalice", PASSWORD, device.code())
        self.wait_home("webalice")
        self.check_console()

    def test_signup_page_shows_the_terminal_alternative(self):
        url, _ = self.signup_url("webcarol")
        for size in SIZES:
            with self.subTest(size=size[0]):
                self.set_size(size)
                self.driver.get(url)
                self.visible("signup")
                command = self.text("signup-command")
                self.assertTrue(command.startswith(f"gate signup --proxy {self.ca.public_addr}"),
                                command)
                self.assertIn(self.ca.pin, command)
                self.assertIn("At least", self.text("password-hint"))
                self.check_layout()
                self.screenshot(size[0])
                self.check_console()

    def test_signup_refuses_differing_passwords_before_asking_the_server(self):
        url, _ = self.signup_url("webdave")
        self.driver.get(url)
        self.visible("signup")
        self.driver.find_element(By.ID, "password").send_keys(PASSWORD)
        self.driver.find_element(By.ID, "password2").send_keys(PASSWORD + "x")
        self.driver.find_element(By.ID, "signup-submit").click()
        self.assertIn("differ", self.visible("signup-error").text)
        self.screenshot("differ")
        self.check_console()

    def test_unknown_and_expired_links(self):
        self.open("/web/newuser/" + "0" * 32)
        self.visible("problem")
        self.assertEqual(self.driver.find_element(By.ID, "problem").get_attribute("data-reason"),
                         "unknown")
        self.assertIn("ask your administrator for a new link", self.text("problem-text"))
        self.screenshot("unknown")
        url, _ = self.signup_url("weblate", ttl="1s")
        time.sleep(2)  # the token's whole lifetime, with a second of margin
        self.driver.get(url)
        self.visible("problem")
        self.assertEqual(self.driver.find_element(By.ID, "problem").get_attribute("data-reason"),
                         "expired")
        self.assertIn("expired", self.text("problem-title"))
        self.screenshot("expired")
        self.check_console()

    def test_wrong_password_or_code_one_message(self):
        url, _ = self.signup_url("webbob")
        device = self.sign_up(url)
        self.driver.delete_all_cookies()
        self.log_in("webbob", "wrong password", device.code())
        wrong_password = self.login_error()
        self.screenshot("wrong-password")
        self.log_in("webbob", PASSWORD, "000000")
        wrong_code = self.login_error()
        self.log_in("nosuchuser", PASSWORD, device.code())
        wrong_user = self.login_error()
        self.assertEqual(wrong_password, wrong_code)
        self.assertEqual(wrong_password, wrong_user)
        self.assertEqual(self.driver.current_url, self.origin + "/web/login")
        self.check_console()

    def test_locked_user_sees_the_lock_message(self):
        url, _ = self.signup_url("weberin")
        device = self.sign_up(url)
        self.driver.delete_all_cookies()
        self.ca.gatectl("users", "lock", "weberin", "--message", "on leave until May",
                        check=True)
        self.log_in("weberin", PASSWORD, device.code())
        message = self.login_error()
        self.assertIn("on leave until May", message)
        self.screenshot("locked")
        self.check_console()

    def test_logout_ends_the_session(self):
        url, _ = self.signup_url("webfrank")
        self.sign_up(url)
        self.wait_home("webfrank")
        self.driver.find_element(By.ID, "logout").click()
        self.wait_path("/web/login")
        # The cookie is gone, and the old session is not back on reload.
        self.assertIsNone(self.driver.get_cookie("__Host-gate_session"))
        self.open("/web/")
        self.wait_path("/web/login")
        self.screenshot("logged-out")
        self.check_console()

    def test_an_expired_cookie_goes_to_login(self):
        self.open("/web/login")
        self.driver.add_cookie({"name": "__Host-gate_session", "value": "A" * 43, "path": "/",
                                "secure": True, "httpOnly": True, "sameSite": "Strict"})
        self.open("/web/")
        self.wait_path("/web/login")
        self.check_console()


class RateLimitedLoginTest(FlowHelpers, BrowserTestCase):
    rate_limit = (3, 3)  # per minute, burst: the fourth attempt in a minute is refused

    def test_rate_limited_login_says_so(self):
        messages = []
        for _ in range(6):
            self.log_in("nosuchuser", "wrong password", "000000")
            messages.append(self.login_error())
            if "slow down" in messages[-1]:
                break
        self.assertIn("slow down", messages[-1], messages)
        self.assertIn("Too many attempts", messages[-1])
        self.screenshot("rate-limited")
        self.check_console()


if __name__ == "__main__":
    unittest.main()
