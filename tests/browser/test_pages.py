"""The web UI's pages in a real browser, without a session: redirects, the
login and signup pages at desktop and phone width, the 404 page, and that
the console check catches what it must."""
import unittest

from browser import SIZES, BrowserTestCase
from selenium.webdriver.common.by import By


class PagesTest(BrowserTestCase):
    def test_web_goes_to_home_then_to_login_without_a_session(self):
        self.open("/web")
        self.wait_path("/web/login")
        self.visible("login-form")
        self.screenshot("login")
        self.check_console()

    def test_login_page_at_desktop_and_phone_width(self):
        for size in SIZES:
            with self.subTest(size=size[0]):
                self.set_size(size)
                self.open("/web/login")
                self.visible("login-form")
                # The cluster name comes from /v1/ping.
                self.wait_for(lambda d: self.text("cluster") == "test-cluster", "cluster name")
                self.assertEqual(self.driver.find_element(By.TAG_NAME, "h1").text, "Log in")
                # The user name field has the focus, for typing at once.
                self.assertEqual(self.driver.switch_to.active_element.get_attribute("id"), "user")
                # gate-ca's certificate is self-signed here: the terminal
                # command carries the pin, as the signup page's does.
                command = (f"gate login --proxy {self.ca.public_addr} --ca-pin {self.ca.pin}"
                           " --user NAME")
                self.wait_for(lambda d: self.text("login-command") == command,
                              "the gate login command with --ca-pin")
                self.check_layout()
                self.screenshot(size[0])
                self.check_console()

    def test_login_page_says_what_is_missing(self):
        self.open("/web/login")
        self.visible("login-form")
        self.driver.find_element(By.ID, "login-submit").click()
        alert = self.visible("login-error")
        self.assertEqual(alert.text, "Enter your user name and password.")
        self.assertEqual(alert.get_attribute("role"), "alert")
        self.screenshot("empty")
        self.check_console()

    def test_signup_page_at_desktop_and_phone_width(self):
        # A made-up token: the page asks gate-ca and shows why it cannot go on.
        for size in SIZES:
            with self.subTest(size=size[0]):
                self.set_size(size)
                self.open("/web/newuser/" + "0" * 32)
                self.visible("problem")
                self.wait_for(lambda d: self.text("cluster") == "test-cluster", "cluster name")
                self.assertTrue(self.text("problem-title"))
                self.assertTrue(self.text("problem-text"))
                self.assertFalse(self.driver.find_element(By.ID, "signup").is_displayed())
                self.check_layout()
                self.screenshot(size[0])
                self.check_console()

    def test_unknown_path_is_a_404_page(self):
        for size in SIZES:
            with self.subTest(size=size[0]):
                self.set_size(size)
                self.open("/web/no/such/page")
                self.assertEqual(self.driver.find_element(By.TAG_NAME, "h1").text,
                                 "Page not found")
                self.check_layout()
                self.screenshot(size[0])
                self.check_console(allow_urls=("/web/no/such/page",))

    def test_the_console_check_catches_a_csp_violation(self):
        # The check must be able to fail: an inline script is what the CSP
        # refuses, and the refusal must reach the log the tests read.
        self.open("/web/login")
        self.visible("login-form")
        self.driver.execute_script(
            "const s = document.createElement('script'); s.textContent = 'window.x = 1';"
            "document.body.append(s);")
        self.assertIsNone(self.driver.execute_script("return window.x;"))
        with self.assertRaises(AssertionError):
            self.check_console()

    def test_the_console_check_catches_a_script_error(self):
        self.open("/web/login")
        self.visible("login-form")
        self.driver.execute_script("setTimeout(() => { throw new Error('boom'); }, 0);")
        entries = self.wait_for(lambda d: d.get_log("browser") or False, "the error's log entry")
        self.assertIn("boom", " ".join(e["message"] for e in entries))
        with self.assertRaises(AssertionError):
            self.check_console(entries=entries)


if __name__ == "__main__":
    unittest.main()
