"""A real OpenID provider for the single sign-on tests: panva's oidc-provider
(tests/oidc, pinned by its package-lock.json; scripts/install-deps runs npm ci
there) started on 127.0.0.1 over TLS with a certificate from a CA made here,
RS256 and ES256 signing keys made here, and the clients and accounts a test
names. drive_login() walks its development login and consent forms with
urllib, as a person would in a browser, until it redirects to gate-ca.
"""
import base64
import datetime
import hashlib
import html
import http.cookiejar
import ipaddress
import json
import os
import re
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

IDP_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "oidc")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _b64u(n_bytes):
    return base64.urlsafe_b64encode(n_bytes).rstrip(b"=").decode()


def _int_b64u(value, length=None):
    length = length or (value.bit_length() + 7) // 8
    return _b64u(value.to_bytes(length, "big"))


def rsa_jwk(kid):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    n = key.private_numbers()
    pub = n.public_numbers
    return {"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
            "n": _int_b64u(pub.n), "e": _int_b64u(pub.e), "d": _int_b64u(n.d),
            "p": _int_b64u(n.p), "q": _int_b64u(n.q), "dp": _int_b64u(n.dmp1),
            "dq": _int_b64u(n.dmq1), "qi": _int_b64u(n.iqmp)}


def ec_jwk(kid):
    key = ec.generate_private_key(ec.SECP256R1())
    n = key.private_numbers()
    return {"kty": "EC", "kid": kid, "alg": "ES256", "use": "sig", "crv": "P-256",
            "x": _int_b64u(n.public_numbers.x, 32), "y": _int_b64u(n.public_numbers.y, 32),
            "d": _int_b64u(n.private_value, 32)}


def make_tls(workdir):
    """A CA and a leaf for 127.0.0.1 under workdir: (ca_pem, cert_pem, key_pem,
    'sha256:<hex>' of the leaf's public key, as Chromium's SPKI list takes)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gate test IdP CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                         critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256()))
    paths = {}
    for name, data in (
            ("idp-ca.pem", ca.public_bytes(serialization.Encoding.PEM)),
            ("idp-cert.pem", leaf.public_bytes(serialization.Encoding.PEM)),
            ("idp-key.pem", key.private_bytes(serialization.Encoding.PEM,
                                              serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()))):
        paths[name] = os.path.join(workdir, name)
        with open(paths[name], "wb") as f:
            f.write(data)
        os.chmod(paths[name], 0o644 if name != "idp-key.pem" else 0o600)
    spki = leaf.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    pin = "sha256:" + hashlib.sha256(spki).hexdigest()
    return paths["idp-ca.pem"], paths["idp-cert.pem"], paths["idp-key.pem"], pin


class OidcIdp:
    """One oidc-provider process. clients: oidc-provider client metadata;
    accounts: {login: claims}."""

    def __init__(self, workdir, clients, accounts):
        self.workdir = workdir
        self.port = free_port()
        self.issuer = f"https://127.0.0.1:{self.port}"
        self.ca_file, self.cert, self.key, self.pin = make_tls(workdir)
        self.clients = clients
        self.accounts = accounts
        self.keys = [rsa_jwk("rsa-1"), ec_jwk("ec-1")]
        self.proc = None

    def start(self):
        node_modules = os.path.join(IDP_DIR, "node_modules", "oidc-provider")
        if not os.path.isdir(node_modules):
            raise AssertionError("tests/oidc/node_modules missing: run scripts/install-deps")
        config = os.path.join(self.workdir, "idp.json")
        with open(config, "w") as f:
            json.dump({"port": self.port, "issuer": self.issuer, "cert": self.cert,
                       "key": self.key, "jwks": {"keys": self.keys}, "clients": self.clients,
                       "accounts": self.accounts}, f)
        self.log = open(os.path.join(self.workdir, "idp.log"), "a+")
        self.proc = subprocess.Popen(["node", "idp.mjs", config], cwd=IDP_DIR,
                                     stdout=subprocess.PIPE, stderr=self.log, text=True)
        deadline = time.time() + 60
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                self.log.seek(0)
                raise AssertionError("the OpenID provider exited early:\n" + self.log.read())
            if line.startswith("ready "):
                return self
        raise AssertionError("the OpenID provider did not start within 60 s")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()
        if getattr(self, "log", None):
            self.log.close()
        self.proc = None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def drive_login(idp, auth_url, login, stop_prefix, password="any password"):
    """Follows auth_url through the provider's login and consent forms as
    `login`; returns the first redirect whose URL starts with stop_prefix
    (gate-ca's callback, with code and state), without requesting it."""
    ctx = ssl.create_default_context(cafile=idp.ca_file)
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=ctx),
                                         urllib.request.HTTPCookieProcessor(jar), _NoRedirect())
    url, data = auth_url, None
    for _ in range(20):
        if url.startswith(stop_prefix):
            return url
        try:
            resp = opener.open(urllib.request.Request(url, data=data), timeout=30)
            status, headers, body = resp.status, resp.headers, resp.read().decode()
        except urllib.error.HTTPError as e:
            status, headers, body = e.code, e.headers, e.read().decode()
        if status in (301, 302, 303, 307):
            url, data = urllib.parse.urljoin(url, headers["Location"]), None
            continue
        form = re.search(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', body, re.S)
        if status != 200 or not form:
            raise AssertionError(f"the provider answered {status} at {url}:\n{body[:2000]}")
        fields = dict(re.findall(r'<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"',
                                 form.group(2)))
        if 'name="login"' in form.group(2):
            fields.update({"login": login, "password": password})
        url = urllib.parse.urljoin(url, html.unescape(form.group(1)))
        data = urllib.parse.urlencode(fields).encode()
    raise AssertionError("the provider's forms did not end in a redirect to " + stop_prefix)
