"""The web UI's pages and assets over real HTTPS from a running gate-ca:
routes, redirects, the browser headers (docs/security.md, "Browser headers"),
caching, 404 pages, and that a signup token in a page's address never
reaches gate-ca's log."""
import http.client
import os
import pwd
import re
import ssl
import subprocess
import time
import unittest

from harness import IS_ROOT, GateCA, GateTestCase

HTML_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; "
            "frame-ancestors 'none'")


def get(port, path, headers=None):
    """(status, headers as a lower-cased dict, body) of one HTTPS GET."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=30)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        body = resp.read().decode(errors="replace")
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body
    finally:
        conn.close()


class WebPagesTest(GateTestCase):
    def assert_browser_headers(self, headers, hsts=False):
        self.assertEqual(headers.get("content-security-policy"), HTML_CSP)
        self.assertEqual(headers.get("referrer-policy"), "no-referrer")
        self.assertEqual(headers.get("x-content-type-options"), "nosniff")
        self.assertEqual(headers.get("x-frame-options"), "DENY")
        self.assertEqual("strict-transport-security" in headers, hsts, headers)

    def test_web_redirects_to_web_slash(self):
        status, headers, _ = get(self.ca.port, "/web")
        self.assertEqual(status, 302)
        self.assertEqual(headers["location"], "/web/")
        self.assert_browser_headers(headers)

    def test_home_without_a_session_cookie_goes_to_login(self):
        status, headers, _ = get(self.ca.port, "/web/")
        self.assertEqual(status, 302)
        self.assertEqual(headers["location"], "/web/login")
        self.assert_browser_headers(headers)
        status, headers, body = get(self.ca.port, "/web/",
                                    {"Cookie": "__Host-gate_session=notchecked"})
        self.assertEqual(status, 200)
        self.assertIn("Nodes you may log into", body)
        self.assertEqual(headers["cache-control"], "no-store")
        self.assert_browser_headers(headers)

    def test_pages_and_assets_carry_the_headers(self):
        status, headers, login = get(self.ca.port, "/web/login")
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "text/html; charset=utf-8")
        self.assertEqual(headers["cache-control"], "no-store")
        self.assert_browser_headers(headers)
        assets = re.findall(r'(?:src|href)="(/web/assets/[^"]+)"', login)
        self.assertEqual(len(assets), 2, login)
        for path in assets:
            status, headers, body = get(self.ca.port, path)
            self.assertEqual(status, 200, path)
            self.assertTrue(body)
            self.assertEqual(headers["cache-control"], "public, max-age=31536000, immutable")
            self.assertRegex(headers["content-type"], r"^text/(javascript|css); charset=utf-8$")
            self.assert_browser_headers(headers)

    def test_unknown_paths_are_404_pages(self):
        for path in ("/web/nope", "/web/assets/nope-AAAAAAAA.js", "/web/a/b/c"):
            status, headers, body = get(self.ca.port, path)
            self.assertEqual(status, 404, path)
            self.assertEqual(headers["content-type"], "text/html; charset=utf-8")
            self.assertIn("Page not found", body)
            self.assert_browser_headers(headers)

    def test_the_signup_token_is_not_in_the_page_or_the_log(self):
        token, _ = self.ca.add_user("webpagesuser")
        status, headers, body = get(self.ca.port, f"/web/newuser/{token}")
        self.assertEqual(status, 200)
        self.assertIn("Sign up to gate", body)
        self.assertNotIn(token, body)
        self.assert_browser_headers(headers)
        time.sleep(0.5)  # the log line is written before the reply, but flushed by stderr
        with open(os.path.join(self.workdir, "gate-ca.log")) as f:
            log = f.read()
        self.assertIn("GET /web/newuser/{token} 200", log)
        self.assertNotIn(token, log)


class WebPagesWithOperatorCertTest(unittest.TestCase):
    """With a certificate the operator configured, pages also carry HSTS."""

    def test_hsts_with_a_configured_certificate(self):
        import shutil
        import tempfile
        workdir = tempfile.mkdtemp(prefix="gate-it-")
        os.chmod(workdir, 0o755)
        cert = os.path.join(workdir, "tls.crt")
        key = os.path.join(workdir, "tls.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "1", "-subj", "/CN=localhost"],
                       check=True, capture_output=True)
        os.chmod(key, 0o600)
        if IS_ROOT:  # the key must belong to the user gate-ca's front end runs as
            ca_user = pwd.getpwnam("gate")
            os.chown(key, ca_user.pw_uid, ca_user.pw_gid)
        ca = GateCA(workdir, f"  https_cert_file: {cert}\n  https_key_file: {key}\n")
        try:
            ca.start()
            for path in ("/web", "/web/login", "/web/nope"):
                _, headers, _ = get(ca.port, path)
                self.assertEqual(headers.get("strict-transport-security"), "max-age=31536000",
                                 path)
            # A certificate the user's system trusts: no pin in the login hint.
            status, body, _ = ca.request("GET", "/v1/ping")
            self.assertEqual(status, 200, body)
            self.assertEqual(body["login_command"], f"gate login --proxy {ca.addr}")
        finally:
            ca.stop()
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
