"""Real-browser tests of gate's web UI: headless Debian Chromium driven by
Selenium (run with Debian's /usr/bin/python3), against a real gate-ca started
by tests/integration/harness.py.

gate-ca serves public_addr gate.test:PORT; Chromium maps gate.test to
127.0.0.1 (--host-resolver-rules) and trusts gate-ca's self-signed
certificate by the SHA-256 of its public key (--ignore-certificate-errors-
spki-list, never a blanket ignore). Each test saves screenshots under
BUILD/test-artifacts/browser/, and check_console() fails on any CSP
violation or script error the page logged.
"""
import base64
import os
import re
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))

from harness import BIN_DIR, GateCA  # noqa: E402
from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

HOST = "gate.test"
# Another name for the same gate-ca: a page there is of another origin but
# the same site (so the browser sends gate.test's SameSite=Strict cookie to
# gate.test), which only gate-ca's Origin check refuses.
OTHER_HOST = "other.gate.test"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ARTIFACTS = os.path.join(BIN_DIR, "test-artifacts", "browser")
# (name, width, height, mobile): the two screens every page must work on.
SIZES = (("desktop", 1280, 800, False), ("phone", 390, 844, True))
WAIT = 20  # seconds: the machine may be loaded; a healthy page takes well under one


def spki_base64(pin):
    """'sha256:<hex>' (gate-ca's pin) -> the base64 Chromium's SPKI list takes."""
    assert pin and pin.startswith("sha256:"), pin
    return base64.b64encode(bytes.fromhex(pin[len("sha256:"):])).decode()


def new_driver(pin, extra_pins=()):
    """Chromium trusting gate-ca's certificate (pin) and, for tests that run
    another TLS server (the OpenID provider of test_sso_oidc), extra_pins."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            raise AssertionError(
                f"{path} missing: scripts/install-deps installs chromium and chromium-driver")
    profile = tempfile.mkdtemp(prefix="gate-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", f"--user-data-dir={profile}",
                f"--host-resolver-rules=MAP {HOST} 127.0.0.1, MAP {OTHER_HOST} 127.0.0.1",
                "--ignore-certificate-errors-spki-list=" +
                ",".join(spki_base64(p) for p in (pin, *extra_pins)),
                "--window-size=1280,800"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(60)
    driver.gate_profile_dir = profile
    return driver


class BrowserTestCase(unittest.TestCase):
    """One gate-ca (public_addr gate.test:PORT) and one Chromium per class."""

    second_factor = "otp"
    config_extra = ""
    rate_limit = (600, 100)

    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="gate-browser-")
        os.chmod(cls.workdir, 0o755)
        cls.ca = GateCA(cls.workdir, cls.config_extra, cls.second_factor, cls.rate_limit,
                        public_host=HOST).start()
        try:
            cls.driver = new_driver(cls.ca.pin)
        except BaseException:
            cls.ca.stop()
            raise
        cls.origin = f"https://{cls.ca.public_addr}"
        os.makedirs(ARTIFACTS, exist_ok=True)

    @classmethod
    def tearDownClass(cls):
        profile = getattr(cls.driver, "gate_profile_dir", None)
        cls.driver.quit()
        cls.ca.stop()
        if profile:
            shutil.rmtree(profile, ignore_errors=True)
        if os.environ.get("GATE_KEEP_TEST_DIRS") != "1":
            shutil.rmtree(cls.workdir, ignore_errors=True)

    def setUp(self):
        self.set_size(SIZES[0])
        self.driver.delete_all_cookies()
        self.console()  # start each test with an empty log

    # --- driving the page ---

    def open(self, path):
        self.driver.get(self.origin + path)

    def set_size(self, size):
        _, width, height, mobile = size
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})

    def wait_for(self, condition, what):
        return WebDriverWait(self.driver, WAIT).until(condition, message=f"waiting for {what}")

    def visible(self, element_id):
        return self.wait_for(EC.visibility_of_element_located((By.ID, element_id)),
                             f"#{element_id} to be visible")

    def wait_path(self, path):
        self.wait_for(lambda d: d.current_url == self.origin + path, f"the page {path}")

    def text(self, element_id):
        return self.driver.find_element(By.ID, element_id).text

    def screenshot(self, label):
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{self.id().split('.', 1)[-1]}-{label}.png")
        path = os.path.join(ARTIFACTS, name)
        self.driver.save_screenshot(path)
        return path

    # --- what every page must hold ---

    def console(self):
        return self.driver.get_log("browser")

    def check_console(self, allow_api_errors=True, allow_urls=(), entries=None,
                      allow_refused_sockets=False):
        """Fails on a CSP violation, an uncaught script error or console.error
        logged since the last call. Failed API requests (the 401 of a wrong
        password: Chromium logs every non-2xx fetch) are allowed when
        allow_api_errors; other failed loads only for allow_urls; a
        WebSocket to gate-ca's /v1/web/ that gate-ca refused at the upgrade
        only when allow_refused_sockets. entries: log entries already read
        (default: read them now)."""
        refused_socket = re.compile(r"WebSocket connection to 'wss://" + re.escape(
            self.origin[len("https://"):]) + r"/v1/web/[^']*' failed: ")
        problems = []
        for entry in self.console() if entries is None else entries:
            message = entry.get("message", "")
            if "Content Security Policy" in message or "Content-Security-Policy" in message:
                problems.append(entry)
                continue
            if entry.get("level") != "SEVERE":
                continue
            if allow_refused_sockets and refused_socket.search(message):
                continue
            if entry.get("source") == "network":
                url = message.split(" ", 1)[0]
                if allow_api_errors and url.startswith(self.origin + "/v1/"):
                    continue
                if any(url == self.origin + u for u in allow_urls):
                    continue
            problems.append(entry)
        self.assertEqual(problems, [], "the browser console logged errors")

    def check_layout(self):
        """No horizontal scrolling of the page, and every input has a label."""
        overflow = self.driver.execute_script(
            "return document.documentElement.scrollWidth - window.innerWidth;")
        self.assertLessEqual(overflow, 0, "the page is wider than the screen")
        unlabelled = self.driver.execute_script("""
            return [...document.querySelectorAll('input')]
              .filter((i) => i.offsetParent !== null)
              .filter((i) => !(i.labels && i.labels.length) && !i.getAttribute('aria-label'))
              .map((i) => i.id);""")
        self.assertEqual(unlabelled, [], "inputs without a label")
