"""Browser sessions against a real gate-ca (docs/api.md, "Browser sessions";
docs/security.md): web login, the session cookie, Origin and CSRF checks,
logout, web signup with its token states, and the shared OTP steps, driven
with http.client the way a browser would send them."""
import http.client
import json
import re
import ssl
import time
import unittest

from harness import Client, GateTestCase, OtpDevice, secret_from_uri, totp

PASSWORD = "correct horse battery"
WRONG = "not the password!"
COOKIE_RE = re.compile(r"^__Host-gate_session=([A-Za-z0-9_-]{43}); Path=/; Max-Age=43200; "
                       r"Secure; HttpOnly; SameSite=Strict$")


class WebClient:
    """A browser's requests to one gate-ca: its own cookie jar of one cookie."""

    def __init__(self, ca, origin=None):
        self.ca = ca
        self.origin = origin if origin is not None else f"https://{ca.addr}"
        self.cookie = None
        self.csrf = None

    def call(self, method, path, body=None, origin="default", csrf="default", cookie="default"):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection("127.0.0.1", self.ca.port, context=ctx, timeout=60)
        headers = {}
        if body is not None:
            headers["Content-Type"] = "application/json"
        origin = self.origin if origin == "default" else origin
        if origin is not None and method != "GET":
            headers["Origin"] = origin
        csrf = self.csrf if csrf == "default" else csrf
        if csrf is not None and method != "GET":
            headers["X-CSRF-Token"] = csrf
        cookie = (f"__Host-gate_session={self.cookie}" if self.cookie else None) \
            if cookie == "default" else cookie
        if cookie is not None:
            headers["Cookie"] = cookie
        conn.request(method, path, body=json.dumps(body).encode() if body is not None else None,
                     headers=headers)
        resp = conn.getresponse()
        text = resp.read().decode(errors="replace")
        conn.close()
        return resp.status, (json.loads(text) if text else None), resp.headers

    def login(self, user, password, code, **kw):
        status, body, headers = self.call(
            "POST", "/v1/web/login", {"user": user, "password": password, "otp_code": code}, **kw)
        self.take(status, body, headers)
        return status, body, headers

    def take(self, status, body, headers):
        if status == 200 and headers.get("Set-Cookie"):
            m = COOKIE_RE.match(headers["Set-Cookie"])
            if m:
                self.cookie = m.group(1)
                self.csrf = body["csrf_token"]


class WebSessionsTest(GateTestCase):

    def web_user(self, name, logins=None):
        client, device = self.new_user(name, logins)
        return client, device, WebClient(self.ca)

    def test_login_sets_the_cookie_and_the_session_works(self):
        _, device, web = self.web_user("wanda", "wanda,root")
        status, body, headers = web.login("wanda", PASSWORD, device.code())
        self.assertEqual(status, 200, body)
        # Every attribute, exactly (the __Host- prefix needs Secure, Path=/, no Domain).
        self.assertRegex(headers["Set-Cookie"], COOKIE_RE)
        self.assertEqual(len(headers.get_all("Set-Cookie")), 1)
        self.assertEqual(body["user"], "wanda")
        self.assertEqual(body["logins"], ["wanda", "root"])
        self.assertEqual(body["cluster_name"], "test-cluster")
        self.assertEqual(body["idle_timeout_seconds"], 1800)
        self.assertIsInstance(body["roles"], list)
        self.assertEqual(len(body["csrf_token"]), 43)
        self.assertAlmostEqual(body["expires_at"], time.time() + 43200, delta=120)
        # JSON replies carry the security headers; no HSTS on a self-signed certificate.
        self.assertEqual(headers["Content-Security-Policy"],
                         "default-src 'none'; frame-ancestors 'none'")
        self.assertEqual(headers["Referrer-Policy"], "no-referrer")
        self.assertEqual(headers["X-Content-Type-Options"], "nosniff")
        self.assertEqual(headers["X-Frame-Options"], "DENY")
        self.assertEqual(headers["Cache-Control"], "no-store")
        self.assertIsNone(headers.get("Strict-Transport-Security"))

        status, me, _ = web.call("GET", "/v1/web/session")
        self.assertEqual(status, 200, me)
        self.assertEqual(me["user"], "wanda")
        self.assertEqual(me["csrf_token"], body["csrf_token"])
        self.assertEqual(me["expires_at"], body["expires_at"])

        # Without the cookie, or with a made-up one: not logged in.
        for cookie in (None, "__Host-gate_session=" + "A" * 43, "other=1"):
            status, anon, _ = web.call("GET", "/v1/web/session", cookie=cookie)
            self.assertEqual(status, 401, cookie)
            self.assertEqual(anon, {"error": {"code": "unauthenticated",
                                              "message": "not logged in"}})
        # Two session cookies (one planted by a sibling) are refused.
        status, _, _ = web.call("GET", "/v1/web/session",
                                cookie=f"__Host-gate_session={web.cookie}; "
                                       f"__Host-gate_session={web.cookie}")
        self.assertEqual(status, 401)

        # A user route that took only signed requests takes the cookie.
        status, nodes, _ = web.call("GET", "/v1/nodes")
        self.assertEqual(status, 200, nodes)
        self.assertEqual(nodes["cluster_name"], "test-cluster")
        self.assertIsInstance(nodes["nodes"], list)
        status, _, _ = web.call("GET", "/v1/nodes", cookie=None)
        self.assertEqual(status, 401)
        status, sessions, _ = web.call("GET", "/v1/sessions")
        self.assertEqual(status, 200, sessions)

    def test_wrong_credentials_get_one_answer(self):
        _, device, web = self.web_user("wendy")
        answers = [
            web.login("nosuchwendy", PASSWORD, "123456")[:2],
            web.login("wendy", WRONG, "123456")[:2],
            web.login("wendy", PASSWORD, "000000")[:2],
            web.login("Not A Name!", PASSWORD, "123456")[:2],
        ]
        for status, body in answers:
            self.assertEqual(status, 401, body)
            self.assertEqual(body, {"error": {"code": "unauthenticated",
                                              "message": "invalid user name, password or OTP "
                                                         "code"}})
        self.assertIsNone(web.cookie)
        # Failures are audited as web logins.
        self.assertTrue(self.ca.audit_rows("user.web_login", "wrong password"))
        # The right ones still work afterwards.
        status, body, _ = web.login("wendy", PASSWORD, device.code())
        self.assertEqual(status, 200, body)
        self.assertTrue(self.ca.audit_rows("user.web_login", "browser session until"))

    def test_locked_user_gets_the_lock_message_and_loses_the_session(self):
        _, device, web = self.web_user("lenny")
        status, body, _ = web.login("lenny", PASSWORD, device.code())
        self.assertEqual(status, 200, body)
        self.ca.gatectl("users", "lock", "lenny", "--message", "laptop stolen", check=True)
        # The cookie stops working at once.
        status, _, _ = web.call("GET", "/v1/web/session")
        self.assertEqual(status, 401)
        status, _, _ = web.call("GET", "/v1/nodes")
        self.assertEqual(status, 401)
        # A wrong password is still just wrong (the lock is not revealed)...
        status, body, _ = web.login("lenny", WRONG, "000000")
        self.assertEqual(status, 401, body)
        # ...the right password and code get the lock's message.
        fresh = WebClient(self.ca)
        status, body, headers = fresh.login("lenny", PASSWORD, device.code())
        self.assertEqual(status, 403, body)
        self.assertEqual(body["error"]["code"], "permission denied")
        self.assertIn("laptop stolen", body["error"]["message"])
        self.assertIsNone(headers.get("Set-Cookie"))
        self.ca.gatectl("users", "unlock", "lenny", check=True)
        # Unlocking brings the old session back? No: it was ended.
        status, _, _ = web.call("GET", "/v1/web/session")
        self.assertEqual(status, 401)

    def test_logout_ends_the_session_on_the_server(self):
        _, device, web = self.web_user("louis")
        self.assertEqual(web.login("louis", PASSWORD, device.code())[0], 200)
        old_cookie = web.cookie
        status, body, headers = web.call("POST", "/v1/web/logout", {})
        self.assertEqual(status, 200, body)
        self.assertEqual(body, {})
        self.assertEqual(headers["Set-Cookie"],
                         "__Host-gate_session=; Path=/; Max-Age=0; Secure; HttpOnly; "
                         "SameSite=Strict")
        # The old cookie, replayed as it was, is refused.
        status, _, _ = web.call("GET", "/v1/web/session",
                                cookie=f"__Host-gate_session={old_cookie}")
        self.assertEqual(status, 401)
        self.assertTrue(self.ca.audit_rows("user.web_logout", "browser session ended"))

    def test_forged_posts_are_refused_and_change_nothing(self):
        _, device, web = self.web_user("fred")
        self.assertEqual(web.login("fred", PASSWORD, device.code())[0], 200)
        cross = {"error": {"code": "permission denied", "message": "cross-origin request refused"}}
        for origin in (None, "https://evil.test", "null", f"http://{self.ca.addr}"):
            status, body, _ = web.call("POST", "/v1/web/logout", {}, origin=origin)
            self.assertEqual(status, 403, origin)
            self.assertEqual(body, cross, origin)
        for csrf in (None, "wrong", "A" * 43):
            status, body, _ = web.call("POST", "/v1/web/logout", {}, csrf=csrf)
            self.assertEqual(status, 403, csrf)
            self.assertEqual(body["error"]["message"], "missing or wrong CSRF token")
        # Nothing changed: the session lives on.
        status, _, _ = web.call("GET", "/v1/web/session")
        self.assertEqual(status, 200)
        # Login and signup need the Origin too, though they have no session yet.
        other = WebClient(self.ca)
        status, body, headers = other.login("fred", PASSWORD, device.code(), origin=None)
        self.assertEqual((status, body), (403, cross))
        self.assertIsNone(headers.get("Set-Cookie"))
        status, body, _ = other.login("fred", PASSWORD, device.code(), origin="https://evil.test")
        self.assertEqual((status, body), (403, cross))
        status, body, _ = other.call("POST", "/v1/web/signup/start", {"token": "0" * 32},
                                     origin="https://evil.test")
        self.assertEqual((status, body), (403, cross))

    def test_signup_in_the_browser_then_the_session_works(self):
        token, _ = self.ca.add_user("sally", "sally")
        web = WebClient(self.ca)
        status, start, headers = web.call("POST", "/v1/web/signup/start", {"token": token})
        self.assertEqual(status, 200, start)
        self.assertEqual(start["user"], "sally")
        self.assertEqual(start["cluster_name"], "test-cluster")
        self.assertEqual(start["second_factor"], "otp")
        self.assertEqual(start["password_min_length"], 12)
        self.assertTrue(start["totp_uri"].startswith("otpauth://totp/"))
        qr = start["totp_qr"]
        self.assertGreaterEqual(qr["size"], 21)
        self.assertEqual(len(qr["rows"]), qr["size"])
        for row in qr["rows"]:
            self.assertRegex(row, rf"^[01]{{{qr['size']}}}$")
        # The finder pattern's corner modules are dark.
        self.assertEqual(qr["rows"][0][:7], "1111111")
        self.assertEqual(start["signup_command"],
                         f"gate signup --proxy {self.ca.addr} --ca-pin {self.ca.pin}")
        self.assertEqual(headers["Referrer-Policy"], "no-referrer")
        device = OtpDevice(secret_from_uri(start["totp_uri"]))
        status, body, headers = web.call("POST", "/v1/web/signup/finish", {
            "token": token, "password": PASSWORD, "otp_code": device.code()})
        self.assertEqual(status, 200, body)
        web.take(status, body, headers)
        self.assertRegex(headers["Set-Cookie"], COOKIE_RE)
        self.assertEqual(body["user"], "sally")
        status, me, _ = web.call("GET", "/v1/web/session")
        self.assertEqual((status, me["user"]), (200, "sally"))
        self.assertTrue(self.ca.audit_rows("user.signup", ""))

        # The link, used: 410 "used", for start and finish alike.
        for path, body in (("/v1/web/signup/start", {"token": token}),
                           ("/v1/web/signup/finish", {"token": token, "password": PASSWORD,
                                                      "otp_code": "123456"})):
            status, answer, _ = WebClient(self.ca).call("POST", path, body)
            self.assertEqual(status, 410, answer)
            self.assertEqual(answer["error"]["reason"], "used")
            self.assertIn("already used", answer["error"]["message"])
            self.assertIn("ask your administrator for a new link", answer["error"]["message"])
        # The CLI still logs in with what was chosen in the browser.
        client = Client(self.workdir, self.ca, "sally")
        result = client.login("sally", PASSWORD, device.code())
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_unknown_and_expired_signup_links(self):
        for token in ("0" * 32, "not-a-token", ""):
            status, body, _ = WebClient(self.ca).call("POST", "/v1/web/signup/start",
                                                      {"token": token})
            self.assertEqual(status, 404, token)
            self.assertEqual(body["error"]["reason"], "unknown")
            self.assertIn("ask your administrator for a new link", body["error"]["message"])
        token, _ = self.ca.add_user("eddie", ttl="1s")
        time.sleep(2.5)
        status, body, _ = WebClient(self.ca).call("POST", "/v1/web/signup/start", {"token": token})
        self.assertEqual(status, 410, body)
        self.assertEqual(body["error"]["reason"], "expired")
        self.assertIn("expired", body["error"]["message"])

    def test_otp_steps_are_shared_with_the_cli(self):
        client, device, web = self.web_user("otto")
        code = device.code()
        status, body, _ = web.login("otto", PASSWORD, code)
        self.assertEqual(status, 200, body)
        result = client.login("otto", PASSWORD, code)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("invalid user name, password or OTP code", result.stderr)
        self.assertTrue(self.ca.audit_rows("user.login", "reused OTP code"))
        code = device.code()
        result = client.login("otto", PASSWORD, code)
        self.assertEqual(result.returncode, 0, result.stderr)
        status, body, _ = WebClient(self.ca).login("otto", PASSWORD, code)
        self.assertEqual(status, 401, body)

    def test_secrets_never_reach_the_log(self):
        _, device, web = self.web_user("sid")
        code = device.code()
        self.assertEqual(web.login("sid", PASSWORD, code)[0], 200)
        self.assertEqual(web.call("GET", "/v1/nodes")[0], 200)
        csrf, cookie = web.csrf, web.cookie
        self.assertEqual(web.call("POST", "/v1/web/logout", {})[0], 200)
        self.ca.log.flush()
        with open(self.ca.log.name) as f:
            log = f.read()
        self.assertIn("/v1/web/login", log)  # the log is the one being written
        for secret in (cookie, csrf, PASSWORD, "__Host-gate_session"):
            self.assertNotIn(secret, log)
        self.assertNotRegex(log, rf"\b{code}\b")


class WebRateLimitTest(GateTestCase):
    rate_limit = (6, 3)

    def test_web_login_shares_the_per_source_limit(self):
        web = WebClient(self.ca)
        statuses = [web.login("nobody", WRONG, "000000")[0] for _ in range(6)]
        self.assertIn(429, statuses)
        self.assertEqual(statuses[0], 401)
        status, body, _ = web.login("nobody", WRONG, "000000")
        self.assertEqual(status, 429)
        self.assertEqual(body["error"]["code"], "resource exhausted")


if __name__ == "__main__":
    unittest.main()
