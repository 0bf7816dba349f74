"""Single sign-on with OpenID Connect end to end, against a real OpenID
provider (panva's oidc-provider, tests/integration/oidc_idp.py) on
127.0.0.1 over TLS: the login page's button, the provider's login and
consent forms in Chromium, and the browser session at /web/; RS256 with
client_secret_basic and ES256 with client_secret_post; and the refusals:
no role mapped, a local user's name, a replayed or unbound state, a
provider that is down, a token signed with a key the provider published
after gate-ca fetched its keys.
"""
import os
import sqlite3
import ssl
import sys
import tempfile
import unittest
import urllib.error
import urllib.request

from browser import ARTIFACTS, HOST, SIZES, BrowserTestCase, new_driver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import GateCA  # noqa: E402
from oidc_idp import OidcIdp, drive_login, ec_jwk, free_port  # noqa: E402

CLIENT_SECRET = "test-client-secret-0123456789"
ACCOUNTS = {
    "alice": {"preferred_username": "alice", "email": "alice@example.com", "groups": ["ops"]},
    "bob": {"preferred_username": "bob", "email": "bob@example.com", "groups": ["ops"]},
    "dave": {"preferred_username": "dave", "email": "dave@example.com", "groups": ["ops"]},
    "nobody": {"preferred_username": "nobody", "email": "nobody@elsewhere.test",
               "groups": ["guests"]},
    "carol": {"preferred_username": "carol", "email": "carol@example.com", "groups": ["ops"]},
}


def connector(name, issuer, client_id, redirect, secret_file, ca_file, auth="client_secret_basic"):
    return f"""      - name: {name}
        type: oidc
        issuer_url: {issuer}
        client_id: {client_id}
        client_secret_file: {secret_file}
        redirect_url: {redirect}
        scope: [openid, email, profile, groups]
        username_claim: preferred_username
        claims_to_roles:
          - {{claim: groups, value: ops, roles: [access]}}
        ca_file: {ca_file}
        token_endpoint_auth: {auth}
"""


class SsoOidcTest(BrowserTestCase):

    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="gate-sso-")
        os.chmod(cls.workdir, 0o755)
        cls.ca = GateCA(cls.workdir, "", "otp", cls.rate_limit, public_host=HOST)
        redirect = f"https://{cls.ca.public_addr}/v1/sso/oidc/callback"
        cls.redirect = redirect
        clients = [
            {"client_id": "gate", "client_secret": CLIENT_SECRET, "redirect_uris": [redirect],
             "response_types": ["code"], "grant_types": ["authorization_code"],
             "token_endpoint_auth_method": "client_secret_basic",
             "id_token_signed_response_alg": "RS256"},
            {"client_id": "gate-ec", "client_secret": CLIENT_SECRET, "redirect_uris": [redirect],
             "response_types": ["code"], "grant_types": ["authorization_code"],
             "token_endpoint_auth_method": "client_secret_post",
             "id_token_signed_response_alg": "ES256"},
        ]
        cls.idp = OidcIdp(cls.workdir, clients, ACCOUNTS)
        secret_file = os.path.join(cls.workdir, "client.secret")
        with open(secret_file, "w") as f:
            f.write(CLIENT_SECRET + "\n")
        os.chmod(secret_file, 0o600)
        down = f"https://127.0.0.1:{free_port()}"
        connectors = (
            connector("corp", cls.idp.issuer, "gate", redirect, secret_file, cls.idp.ca_file) +
            connector("corp-ec", cls.idp.issuer, "gate-ec", redirect, secret_file,
                      cls.idp.ca_file, "client_secret_post") +
            connector("gone", down, "gate", redirect, secret_file, cls.idp.ca_file))
        with open(cls.ca.config_path) as f:
            text = f.read()
        text = text.replace("    type: local\n", "    type: local\n    connectors:\n" + connectors)
        with open(cls.ca.config_path, "w") as f:
            f.write(text)
        cls.idp.start()
        try:
            cls.ca.start()
        except BaseException:
            cls.idp.stop()
            raise
        cls.ca.gatectl("roles", "add", "access", "--logins", "ubuntu", check=True)
        try:
            cls.driver = new_driver(cls.ca.pin, extra_pins=[cls.idp.pin])
        except BaseException:
            cls.ca.stop()
            cls.idp.stop()
            raise
        cls.origin = f"https://{cls.ca.public_addr}"
        os.makedirs(ARTIFACTS, exist_ok=True)

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.idp.stop()

    def setUp(self):
        super().setUp()
        # Every origin's cookies, the provider's login session too, so each
        # test signs in at the provider afresh.
        self.driver.execute_cdp_cmd("Network.clearBrowserCookies", {})

    # --- helpers ---

    def browser_login(self, connector_name, login):
        """Clicks the connector's button on /web/login and signs in at the
        provider as login."""
        self.open("/web/login")
        button = self.wait_for(EC.element_to_be_clickable(
            (By.CSS_SELECTOR, f'a[data-connector="{connector_name}"]')), "the connector button")
        button.click()
        field = self.wait_for(EC.visibility_of_element_located((By.NAME, "login")),
                              "the provider's login form")
        field.send_keys(login)
        self.driver.find_element(By.NAME, "password").send_keys("any password")
        self.screenshot(f"{connector_name}-idp-login")
        self.driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        # The provider asks for consent the first time.
        consent = self.wait_for(
            lambda d: d.current_url.startswith(self.origin) or
            d.find_elements(By.CSS_SELECTOR, "form input[name=prompt][value=consent]"),
            "the consent form or gate-ca")
        if consent is not True and not self.driver.current_url.startswith(self.origin):
            self.driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

    def gate_opener(self):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # gate-ca's self-signed certificate; pinned in Chromium

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None
        return urllib.request.build_opener(urllib.request.HTTPSHandler(context=ctx), NoRedirect())

    def gate_get(self, path, cookie=None):
        """(status, Location, [Set-Cookie...]) of a GET to gate-ca, redirects not followed.
        Goes to 127.0.0.1 with Host gate.test:PORT, as Chromium does."""
        url = f"https://127.0.0.1:{self.ca.port}{path}"
        req = urllib.request.Request(url, headers={"Host": self.ca.public_addr})
        if cookie:
            req.add_header("Cookie", cookie)
        try:
            resp = self.gate_opener().open(req, timeout=60)
            return resp.status, resp.headers.get("Location"), resp.headers.get_all("Set-Cookie")
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("Location"), e.headers.get_all("Set-Cookie") or []

    def start_flow(self, connector_name):
        """GET /v1/sso/oidc/NAME/login: (the provider's URL, the binding cookie)."""
        status, location, cookies = self.gate_get(f"/v1/sso/oidc/{connector_name}/login")
        self.assertEqual(status, 302)
        self.assertTrue(location.startswith(self.idp.issuer + "/"), location)
        binding = [c.split(";")[0] for c in cookies if c.startswith("__Host-gate_sso=")]
        self.assertEqual(len(binding), 1, cookies)
        self.assertIn("SameSite=Lax", [c for c in cookies if c.startswith("__Host-gate_sso=")][0])
        return location, binding[0]

    def user_row(self, name):
        db = sqlite3.connect(f"file:{self.ca.data_dir}/gate.db?mode=ro", uri=True)
        try:
            return db.execute("SELECT connector, idp_subject FROM users WHERE name = ?",
                              (name,)).fetchone()
        finally:
            db.close()

    def landed_home(self, user):
        """Waits for /web/ showing user; on a timeout says where the browser is."""
        try:
            self.wait_path("/web/")
            self.wait_for(lambda d: d.find_element(By.ID, "user-name").text == user,
                          f"{user}'s page")
        except Exception:
            self.screenshot("stuck")
            self.fail(f"not at /web/ as {user}: at {self.driver.current_url}")

    def sso_error(self):
        self.wait_path_prefix("/web/login?sso_error=")
        return self.visible("sso-error").text

    def wait_path_prefix(self, prefix):
        self.wait_for(lambda d: d.current_url.startswith(self.origin + prefix), prefix)

    # --- tests ---

    def test_login_page_buttons_on_every_screen(self):
        for size in SIZES:
            self.set_size(size)
            self.open("/web/login?sso_error=no%20role%20is%20mapped%20to%20eve")
            self.wait_for(EC.element_to_be_clickable(
                (By.CSS_SELECTOR, 'a[data-connector="corp"]')), "the connector buttons")
            buttons = self.driver.find_elements(By.CSS_SELECTOR, "#sso-buttons a")
            self.assertEqual([b.text for b in buttons],
                             ["Log in with corp", "Log in with corp-ec", "Log in with gone"])
            self.assertEqual(self.text("sso-error"),
                             "Single sign-on failed: no role is mapped to eve")
            self.check_layout()
            self.screenshot(f"login-{size[0]}")
        self.check_console()

    def test_rs256_login_in_the_browser(self):
        self.browser_login("corp", "alice")
        self.landed_home("alice")
        self.screenshot("home")
        self.assertEqual(self.user_row("alice"), ("corp", "alice"))
        rows = self.ca.audit_rows("user.sso_login", "connector corp, subject alice")
        self.assertTrue(any(r[0] == "alice" and r[1] == 1 for r in rows), rows)
        # gate's pages only: the provider's own page loads a web font it cannot
        # reach from here.
        self.check_console(entries=[
            e for e in self.console()
            if "fonts.googleapis.com" not in e.get("message", "") and
            self.idp.issuer not in e.get("message", "")])

    def test_es256_with_client_secret_post(self):
        self.browser_login("corp-ec", "bob")
        self.landed_home("bob")
        self.assertEqual(self.user_row("bob"), ("corp-ec", "bob"))

    def test_no_role_mapped_is_refused_and_creates_nothing(self):
        self.browser_login("corp", "nobody")
        message = self.sso_error()
        self.assertIn("no role is mapped to nobody by connector corp", message)
        self.screenshot("no-role")
        self.assertIsNone(self.user_row("nobody"))
        rows = self.ca.audit_rows("user.sso_login", "subject nobody")
        self.assertTrue(rows and all(r[1] == 0 for r in rows), rows)

    def test_local_user_name_is_not_taken_over(self):
        self.ca.add_user("carol", "carol")
        self.browser_login("corp", "carol")
        self.assertIn("carol is a local user", self.sso_error())
        self.assertEqual(self.user_row("carol"), ("", ""))

    def test_provider_down_is_a_clear_error(self):
        self.open("/web/login")
        self.wait_for(EC.element_to_be_clickable(
            (By.CSS_SELECTOR, 'a[data-connector="gone"]')), "the button").click()
        self.assertIn("the identity provider cannot be reached", self.sso_error())

    def test_replayed_and_unbound_state_refused(self):
        url, binding = self.start_flow("corp")
        callback = drive_login(self.idp, url, "dave", self.redirect)
        path = callback[len(f"https://{self.ca.public_addr}"):]
        # Without the browser's binding cookie the state is refused (and spent).
        status, location, _ = self.gate_get(path)
        self.assertEqual(status, 302)
        self.assertTrue(location.startswith("/web/login?sso_error="), location)
        self.assertIn("unknown%2C%20used%20or%20expired", location)
        status, location, _ = self.gate_get(path, cookie=binding)
        self.assertTrue(location.startswith("/web/login?sso_error="), location)
        self.assertIsNone(self.user_row("dave"))
        # A fresh login with its cookie succeeds once, and its replay fails.
        url, binding = self.start_flow("corp")
        callback = drive_login(self.idp, url, "dave", self.redirect)
        path = callback[len(f"https://{self.ca.public_addr}"):]
        status, location, cookies = self.gate_get(path, cookie=binding)
        self.assertEqual((status, location), (200, None))
        self.assertTrue(any(c.startswith("__Host-gate_session=") for c in cookies), cookies)
        status, location, _ = self.gate_get(path, cookie=binding)
        self.assertTrue(location.startswith("/web/login?sso_error="), location)
        rows = self.ca.audit_rows("user.sso_login", "unknown, replayed, expired or unbound state")
        self.assertGreaterEqual(len(rows), 3)

    def test_zz_unknown_signing_key_refused(self):
        # The provider starts signing with a key published after gate-ca
        # fetched its keys (and gate-ca fetched them under a minute ago, so
        # the forced refresh is rate limited): the token is refused.
        # A login through the connector first, so its keys were fetched just now.
        url, binding = self.start_flow("corp-ec")
        callback = drive_login(self.idp, url, "bob", self.redirect)
        status, location, _ = self.gate_get(callback[len(f"https://{self.ca.public_addr}"):],
                                            cookie=binding)
        self.assertEqual((status, location), (200, None))
        url, binding = self.start_flow("corp-ec")
        self.idp.stop()
        self.idp.keys = [self.idp.keys[0], ec_jwk("ec-rotated")]
        self.idp.start()
        callback = drive_login(self.idp, url, "alice", self.redirect)
        path = callback[len(f"https://{self.ca.public_addr}"):]
        status, location, _ = self.gate_get(path, cookie=binding)
        self.assertTrue(location.startswith("/web/login?sso_error="), location)
        rows = self.ca.audit_rows("user.sso_login", "unknown signing key")
        self.assertTrue(rows, f"no audit row for the unknown key ({location}): " +
                        repr(self.ca.audit_rows("user.sso_login", "")[-3:]))


if __name__ == "__main__":
    unittest.main()
