"""Test harness: real gate binaries, a real gate-ca, a real OpenSSH sshd.

Everything runs on 127.0.0.1 with free high ports and temporary directories.
Binaries come from $GATE_BIN_DIR (set by CTest to the build tree).
"""
import atexit
import base64
import grp
import hashlib
import hmac
import json
import os
import pwd
import re
import shutil
import signal
import socket
import sqlite3
import ssl
import struct
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse

BIN_DIR = os.environ.get("GATE_BIN_DIR", os.path.join(os.getcwd(), "build"))
SSHD = shutil.which("sshd", path="/usr/sbin:/usr/bin:/sbin") or "/usr/sbin/sshd"
IS_ROOT = os.geteuid() == 0


def binary(name):
    for sub in ("ca-server", "cli", "sshd-hooks", "pam_module", "recorder", ""):
        path = os.path.join(BIN_DIR, sub, name)
        if os.access(path, os.X_OK) or (name.endswith(".so") and os.path.isfile(path)):
            return path
    raise FileNotFoundError(f"{name} not found under {BIN_DIR}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def totp(secret_b32, at=None, step=30, digits=6):
    """RFC 6238 TOTP (SHA-1), computed independently of the server's liboath."""
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    counter = int((time.time() if at is None else at) // step)
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    code = (struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 10**digits
    return str(code).zfill(digits)


class OtpDevice:
    """An authenticator app: hands out codes for steps the server has not seen.

    The server accepts one step of skew either way and each step only once, so
    a fresh code is the lowest step above the last one used that is still within
    the window; when the window is used up, it waits for the clock."""

    def __init__(self, secret):
        self.secret = secret
        self.last_step = None
        self.last_code = None

    def code(self):
        while True:
            now_step = int(time.time() // 30)
            step = now_step if self.last_step is None else max(self.last_step + 1, now_step)
            if step <= now_step + 1:
                break
            time.sleep(max(0.05, (now_step + 1) * 30 - time.time() + 0.05))
        self.last_step = step
        self.last_code = totp(self.secret, step * 30)
        return self.last_code


def secret_from_uri(uri):
    query = urllib.parse.parse_qs(urllib.parse.urlparse(uri).query)
    return query["secret"][0]


def run(args, input=None, env=None, timeout=60, check=False):
    proc = subprocess.run(args, input=input, capture_output=True, text=True, env=env,
                          timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"{args} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def terminal_to_pgm(lines, default_fg, default_bg, path, scale=6, border=4):
    """Draws terminal text as a terminal with default colours default_fg and
    default_bg (grey levels) would show it, into a binary PGM image at path.
    Understands what gate's QR codes use: SGR colours (30-37, 90-97 and their
    backgrounds, 39, 49, 0) and the characters space, upper half, lower half
    and full block. Each character cell is one module wide and two high."""
    dark_codes = {30, 90}  # black and bright black; every other colour is light

    def grey(code):
        return 0 if code in dark_codes else 255

    sgr = re.compile(r"\x1b\[([0-9;]*)m")
    rows = []
    for line in lines:
        fg, bg = default_fg, default_bg
        top, bottom = [], []
        pos = 0
        while pos < len(line):
            m = sgr.match(line, pos)
            if m:
                for field in (m.group(1) or "0").split(";"):
                    n = int(field or "0")
                    if n == 0:
                        fg, bg = default_fg, default_bg
                    elif n == 39:
                        fg = default_fg
                    elif n == 49:
                        bg = default_bg
                    elif 30 <= n <= 37 or 90 <= n <= 97:
                        fg = grey(n)
                    elif 40 <= n <= 47 or 100 <= n <= 107:
                        bg = grey(n - 10)
                pos = m.end()
                continue
            ch = line[pos]
            pos += 1
            t, b = {" ": (bg, bg), "\u2580": (fg, bg), "\u2584": (bg, fg),
                    "\u2588": (fg, fg)}[ch]
            top.append(t)
            bottom.append(b)
        rows += [top, bottom]
    width = max(len(r) for r in rows)
    rows = [r + [default_bg] * (width - len(r)) for r in rows]
    pad = [default_bg] * (width + 2 * border)
    rows = [pad] * border + [[default_bg] * border + r + [default_bg] * border
                             for r in rows] + [pad] * border
    pixels = bytearray()
    for r in rows:
        line = bytearray()
        for v in r:
            line += bytes([v]) * scale
        pixels += bytes(line) * scale
    with open(path, "wb") as f:
        f.write(b"P5\n%d %d\n255\n" % (len(rows[0]) * scale, len(rows) * scale))
        f.write(pixels)


class PtyProcess:
    """A command on a pseudo-terminal, driven prompt by prompt like a person
    at a keyboard: expect() waits for text, send() types a line."""

    def __init__(self, args, env=None):
        import pty
        self.args = args
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            try:
                os.execve(args[0], args, env if env is not None else os.environ)
            finally:
                os._exit(127)
        self.output = ""
        self.seen = 0  # expect() searches from here
        self.status = None

    def _read(self, timeout):
        """True: read something; None: nothing within timeout; False: end of output."""
        import select
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return None
        try:
            chunk = os.read(self.fd, 4096)
        except OSError:
            chunk = b""
        if not chunk:
            return False
        self.output += chunk.decode(errors="replace")
        return True

    def expect(self, pattern, timeout=30):
        """Waits until pattern (a regex) appears after the last match; returns the match."""
        deadline = time.time() + timeout
        regex = re.compile(pattern)
        while True:
            m = regex.search(self.output, self.seen)
            if m:
                self.seen = m.end()
                return m
            if time.time() > deadline or self._read(0.5) is False:
                m = regex.search(self.output, self.seen)
                if m:
                    self.seen = m.end()
                    return m
                raise AssertionError(f"{pattern!r} not seen; terminal showed:\n{self.output}")

    def send(self, line):
        os.write(self.fd, line.encode() + b"\n")

    def wait(self, timeout=60):
        """Reads to the end and returns the exit status (the process is killed at timeout)."""
        deadline = time.time() + timeout
        while time.time() < deadline and self._read(0.5) is not False:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(status)
                break
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            _, status = os.waitpid(self.pid, 0)
            self.status = os.waitstatus_to_exitcode(status)
        while self._read(0):
            pass
        os.close(self.fd)
        return self.status

    def close(self):
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.wait(timeout=10)


class GateCA:
    """A gate-ca process with its own data dir, config and port."""

    def __init__(self, workdir, config_extra="", second_factor="otp", rate_limit=(600, 100),
                 public_host="127.0.0.1"):
        """public_host: the host name of public_addr, the address URLs show
        (a browser test's "gate.test", which Chromium maps to 127.0.0.1);
        clients still connect to addr."""
        self.workdir = workdir
        self.data_dir = os.path.join(workdir, "data")
        if IS_ROOT:
            # Started as root, gate-ca runs its front end as `gate` and its
            # signer as `gate-signer` (both kept: parallel tests share them),
            # and the front end must be able to reach its data dir.
            for user in ("gate", "gate-signer"):
                ensure_system_user(user, keep=True)
            make_traversable(workdir)
        self.port = free_port()
        self.addr = f"127.0.0.1:{self.port}"
        self.public_addr = f"{public_host}:{self.port}"
        self.config_path = os.path.join(workdir, "gate.yaml")
        with open(self.config_path, "w") as f:
            f.write(f"""cluster_name: test-cluster
data_dir: {self.data_dir}
auth_service:
  listen_addr: 127.0.0.1:{self.port}
  public_addr: {self.public_addr}
  authentication:
    type: local
    second_factor: {second_factor}
  rate_limit:
    per_minute: {rate_limit[0]}
    burst: {rate_limit[1]}
{config_extra}""")
        self.proc = None
        self.pin = None
        self.banner = ""

    def start(self, expect_fail=False, extra_args=()):
        self.log = open(os.path.join(self.workdir, "gate-ca.log"), "a+")
        self.proc = subprocess.Popen(
            [binary("gate-ca"), "start", "--config", self.config_path, *extra_args],
            stdout=subprocess.PIPE, stderr=self.log, text=True)
        if expect_fail:
            out, _ = self.proc.communicate(timeout=30)
            self.log.seek(0)
            text = self.log.read()
            self.log.close()
            return self.proc.returncode, out + text
        deadline = time.time() + 30
        lines = []
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                self.log.seek(0)
                raise AssertionError("gate-ca exited early:\n" + "".join(lines) + self.log.read())
            lines.append(line)
            m = re.search(r"pin (sha256:[0-9a-f]{64})", line)
            if m:
                self.pin = m.group(1)
            if line.startswith("[AUTH]  Data in"):
                break
        self.banner = "".join(lines)
        return self

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rest = self.proc.stdout.read() if self.proc and self.proc.stdout else ""
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()
        if getattr(self, "log", None):
            self.log.close()
        return self.proc.returncode if self.proc else None, rest

    def audit_rows(self, event, detail_contains):
        """(user_name, success, detail) of the audit rows of one event whose
        detail contains detail_contains, read straight from gate-ca's
        SQLite database."""
        db = sqlite3.connect(f"file:{self.data_dir}/gate.db?mode=ro", uri=True)
        try:
            rows = db.execute("SELECT user_name, success, detail FROM audit WHERE event = ?",
                              (event,)).fetchall()
        finally:
            db.close()
        return [r for r in rows if detail_contains in r[2]]

    def gatectl(self, *args, check=False):
        # --data-dir right after the command's words ("users add", "audit").
        words = 0
        while words < min(2, len(args)) and not args[words].startswith("-"):
            words += 1
        return run([binary("gatectl"), *args[:words], "--data-dir", self.data_dir, *args[words:]],
                   check=check)

    def add_user(self, name, logins=None, ttl=None, roles=None):
        args = ["users", "add", name]
        if logins:
            args += ["--logins", logins]
        if roles:
            args += ["--roles", roles]
        if ttl:
            args += ["--ttl", ttl]
        proc = self.gatectl(*args, check=True)
        m = re.search(r"/web/newuser/([0-9a-f]{32})", proc.stdout)
        assert m, proc.stdout
        return m.group(1), proc.stdout

    def request(self, method, path, body=None, raw=None, content_type="application/json"):
        """A raw HTTPS request (no gate client involved), for API negative tests."""
        import http.client
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx, timeout=10)
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        headers = {"Content-Type": content_type} if data is not None else {}
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        text = resp.read().decode(errors="replace")
        conn.close()
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = None
        return resp.status, parsed, text


class Client:
    """The gate CLI for one person, with its own GATE_HOME."""

    def __init__(self, workdir, ca, name):
        self.ca = ca
        self.home = os.path.join(workdir, f"home-{name}")
        os.makedirs(self.home, exist_ok=True)
        self.env = dict(os.environ, GATE_HOME=os.path.join(self.home, ".gate"))
        self.env.pop("SSH_AUTH_SOCK", None)

    def gate(self, *args, input=None, env=None):
        return run([binary("gate"), *args], input=input, env=env or self.env)

    def signup(self, token, password, code_for=None, proxy_args=None):
        """Drives `gate signup` through stdin: the token (or signup URL) first,
        never in argv, then the password twice and the OTP computed from the
        URI it prints. When gate asks again (a refused answer), stdin is
        closed, so the command ends with the reason. Returns (process result,
        OtpDevice or None)."""
        args = [binary("gate"), "signup", "--proxy", self.ca.addr,
                *(["--insecure"] if proxy_args is None else proxy_args)]
        proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=self.env)
        proc.stdin.write(f"{token}\n{password}\n{password}\n")
        proc.stdin.flush()
        secret = None
        err_lines = []
        for line in proc.stderr:
            err_lines.append(line)
            if "try again" in line:
                break
            if line.startswith("otpauth://"):
                secret = OtpDevice(secret_from_uri(line.strip()))
                proc.stdin.write((code_for(secret) if code_for else secret.code()) + "\n")
                proc.stdin.flush()
                break
        proc.stdin.close()
        out = proc.stdout.read()
        err = "".join(err_lines) + proc.stderr.read()
        proc.stdout.close()
        proc.stderr.close()
        proc.wait(timeout=60)
        return subprocess.CompletedProcess(args, proc.returncode, out, err), secret

    def login(self, user, password, code, extra=(), env=None):
        args = ["login", "--proxy", self.ca.addr, "--user", user, *extra]
        if "--ca-pin" not in extra and "--no-insecure" not in extra:
            args.append("--insecure")
        else:
            args = [a for a in args if a != "--no-insecure"]
        return self.gate(*args, input=f"{password}\n{code}\n", env=env)

    @property
    def profile_dir(self):
        """The current profile's directory: GATE_HOME/keys/PROXY/USER, as
        GATE_HOME/current-profile names it."""
        home = self.env["GATE_HOME"]
        try:
            with open(os.path.join(home, "current-profile")) as f:
                return os.path.join(home, "keys", f.read().strip())
        except FileNotFoundError:
            return home

    @property
    def key(self):
        return os.path.join(self.profile_dir, "key")

    @property
    def cert(self):
        return os.path.join(self.profile_dir, "key-cert.pub")


class Sshd:
    """A real OpenSSH sshd on 127.0.0.1:<port> with its own config and host key.

    `settings` replace or add sshd_config options (sshd takes the first value
    of an option, so overrides go into the one list rather than after it);
    `env` is sshd's environment (pam_wrapper, for instance)."""

    DEFAULTS = {
        "ListenAddress": "127.0.0.1",
        "AuthorizedKeysFile": "none",
        "PubkeyAuthentication": "yes",
        "PasswordAuthentication": "no",
        "KbdInteractiveAuthentication": "no",
        "UsePAM": "no",
        "PermitRootLogin": "no",
        "StrictModes": "no",
        "LogLevel": "VERBOSE",
        "Subsystem": "sftp internal-sftp",
    }

    def __init__(self, workdir, trusted_user_ca_lines, extra_config="", name="sshd",
                 settings=None, env=None):
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        self.env = env
        self.host_key = os.path.join(self.dir, "ssh_host_ed25519_key")
        if not os.path.exists(self.host_key):
            run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", self.host_key], check=True)
        self.ca_file = os.path.join(self.dir, "trusted_user_ca.pub")
        with open(self.ca_file, "w") as f:
            f.write(trusted_user_ca_lines)
        self.config = os.path.join(self.dir, "sshd_config")
        self.log = os.path.join(self.dir, "sshd.log")
        options = {"Port": str(self.port), "HostKey": self.host_key,
                   "PidFile": f"{self.dir}/sshd.pid", "TrustedUserCAKeys": self.ca_file,
                   **self.DEFAULTS, **(settings or {})}
        with open(self.config, "w") as f:
            f.write("".join(f"{k} {v}\n" for k, v in options.items()) + extra_config)
        self.proc = None

    def start(self):
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        check = run([SSHD, "-t", "-f", self.config])
        if check.returncode != 0:
            raise AssertionError("sshd -t failed: " + check.stderr)
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen([SSHD, "-D", "-e", "-f", self.config], stderr=log,
                                         env=self.env)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.05)
        with open(self.log) as log:
            raise AssertionError("sshd did not start: " + log.read())

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def ssh(self, login, key, cert, command="id -un", known_hosts=None, extra=()):
        kh = known_hosts or os.path.join(self.dir, "client_known_hosts")
        args = ["ssh", "-F", "/dev/null", "-p", str(self.port),
                "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
                "-o", f"IdentityFile={key}", "-o", f"CertificateFile={cert}",
                "-o", f"UserKnownHostsFile={kh}", "-o", "StrictHostKeyChecking=no",
                "-o", "ConnectTimeout=10", *extra, f"{login}@127.0.0.1", command]
        return run(args, timeout=30)


def ensure_os_user(name):
    """Creates an OS user for sshd to switch to (root only). Test files run in
    parallel, and useradd refuses while another holds /etc/passwd's lock."""
    for attempt in range(20):
        try:
            pwd.getpwnam(name)
            break
        except KeyError:
            proc = run(["useradd", "--create-home", "--shell", "/bin/sh", name])
            if proc.returncode == 0:
                break
            if attempt == 19:
                raise AssertionError(f"useradd {name} failed: {proc.stderr}")
            time.sleep(0.25)
    # An account with a locked password ('!') is refused by sshd even for
    # public keys unless UsePAM; '*' means no password login but not locked.
    for attempt in range(20):
        proc = run(["usermod", "-p", "*", name])
        if proc.returncode == 0:
            return
        time.sleep(0.25)
    raise AssertionError(f"usermod {name} failed: {proc.stderr}")


def needs_root(test):
    return unittest.skipUnless(IS_ROOT, "needs root: creates OS users and runs sshd as root")(test)


class GateTestCase(unittest.TestCase):
    """Starts one gate-ca per test class."""

    second_factor = "otp"
    config_extra = ""
    rate_limit = (600, 100)  # generous: tests log in often from one address

    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="gate-it-")
        os.chmod(cls.workdir, 0o755)
        cls.ca = GateCA(cls.workdir, cls.config_extra, cls.second_factor, cls.rate_limit).start()

    @classmethod
    def tearDownClass(cls):
        cls.ca.stop()
        if os.environ.get("GATE_KEEP_TEST_DIRS") != "1":
            shutil.rmtree(cls.workdir, ignore_errors=True)

    def new_user(self, name, logins=None, password="correct horse battery"):
        """Adds a user and signs it up. Returns (client, otp device)."""
        token, _ = self.ca.add_user(name, logins)
        client = Client(self.workdir, self.ca, name)
        result, device = client.signup(token, password)
        self.assertEqual(result.returncode, 0, result.stderr)
        return client, device

    @classmethod
    def logged_in_user(cls, name, logins=None, roles=None, password="correct horse battery"):
        """Adds a user (logins and roles comma separated), signs it up and logs
        it in; usable from setUpClass. Returns the client, holding a fresh
        certificate, with .device (its OTP device) and .profile (what
        `gate login` printed)."""
        token, _ = cls.ca.add_user(name, logins, roles=roles)
        client = Client(cls.workdir, cls.ca, name)
        result, device = client.signup(token, password)
        assert result.returncode == 0, result.stderr
        login = client.login(name, password, device.code())
        assert login.returncode == 0, login.stderr
        client.device = device
        client.profile = login.stdout
        return client


def path_is_root_safe(path):
    """sshd runs AuthorizedPrincipalsCommand only if every directory up to it
    is root-owned and not writable by group or others."""
    path = os.path.realpath(path)
    while True:
        st = os.stat(path)
        if st.st_uid != 0 or st.st_mode & 0o022:
            return False
        if path == "/":
            return True
        path = os.path.dirname(path)


def root_safe_dir():
    """A root-owned directory (0755) whose every parent is root-owned and not
    group/world-writable, for what must pass sshd's or gate-record's
    ownership checks. One per test process, removed at exit: parallel test
    files must not remove each other's copy."""
    safe = f"/usr/local/libexec/gate-tests-{os.getpid()}"
    if not os.path.exists(safe):
        os.makedirs(safe, mode=0o755)
        os.chmod(safe, 0o755)
        atexit.register(shutil.rmtree, safe, True)
    return safe


class TestRecorder:
    """gate-record installed the way `gate-node record on` lays it out, for
    tests that force it with their own sshd_config: the binary setuid to
    gate-rec and setgid to gate-cache in a root-owned directory (named name) that gate-record accepts,
    a fresh key (gate-rec 0600 in a 0700 directory), and a spool (0700) and
    run dir (0755) owned by gate-rec under workdir. recorder.json goes beside
    the binary once the node has joined (write_config)."""

    def __init__(self, workdir, name):
        self.rec = ensure_system_user("gate-rec")
        self.safe = os.path.join(root_safe_dir(), name)
        os.makedirs(self.safe, mode=0o755, exist_ok=True)
        self.recorder = os.path.join(self.safe, "gate-record")
        shutil.copy2(binary("gate-record"), self.recorder)
        # Setuid to gate-rec, setgid to gate-cache (the policy cache's group).
        os.chown(self.recorder, self.rec.pw_uid, ensure_cache_readers())
        os.chmod(self.recorder, 0o6755)
        key_dir = os.path.join(self.safe, "key")
        os.makedirs(key_dir, exist_ok=True)
        self.key = os.path.join(key_dir, "recorder.key")
        # A class that reuses a name in the same process (test_join after
        # test_recording) finds the previous key here: start from a fresh one.
        for stale in (self.key, self.key + ".pub"):
            if os.path.exists(stale):
                os.unlink(stale)
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "gate-rec", "-f", self.key],
            check=True)
        for path, mode in ((key_dir, 0o700), (self.key, 0o600)):
            os.chown(path, self.rec.pw_uid, self.rec.pw_gid)
            os.chmod(path, mode)
        fingerprint = run(["ssh-keygen", "-l", "-f", self.key + ".pub"], check=True).stdout
        self.key_fingerprint = fingerprint.split()[1]
        self.spool = os.path.join(workdir, "spool")
        self.run_dir = os.path.join(workdir, "run")
        for path, mode in ((self.spool, 0o700), (self.run_dir, 0o755)):
            os.makedirs(path)
            os.chown(path, self.rec.pw_uid, self.rec.pw_gid)
            os.chmod(path, mode)
        self.config = os.path.join(self.safe, "recorder.json")

    def force_command(self):
        """The sshd_config line that runs every session under the recorder."""
        return f"ForceCommand {self.recorder} --config {self.config}\n"

    def write_config(self, ca, node, node_name):
        """recorder.json for a joined node (root 0644); returns its host UUID."""
        with open(os.path.join(node.data_dir, "node.json")) as f:
            host_uuid = json.load(f)["host_uuid"]
        with open(self.config, "w") as f:
            json.dump({"version": 1, "cluster_name": "test-cluster", "host_uuid": host_uuid,
                       "node_name": node_name, "proxy": ca.addr,
                       "cache_dir": os.path.join(node.data_dir, "cache"),
                       "spool_dir": self.spool, "run_dir": self.run_dir, "key_file": self.key,
                       "flush_interval_ms": 100}, f)
        os.chmod(self.config, 0o644)
        return host_uuid


def make_traversable(path):
    """Adds search (x) permission for everyone to path and its parents, as
    a daemon's unprivileged user needs to reach a directory below them."""
    path = os.path.realpath(path)
    while True:
        mode = os.stat(path).st_mode & 0o7777
        if mode & 0o011 != 0o011:
            os.chmod(path, mode | 0o011)
        if path == "/":
            return
        path = os.path.dirname(path)


def ensure_system_user(name, home="/nonexistent", keep=False):
    """Creates a system user (useradd --system, no login shell) unless it
    exists; one this created is removed when the test process exits unless
    keep. Returns its passwd entry."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    for attempt in range(20):
        proc = run(["useradd", "--system", "--user-group", "--no-create-home",
                    "--home-dir", home, "--shell", "/usr/sbin/nologin", name])
        if proc.returncode == 0:
            if not keep:
                atexit.register(run, ["userdel", name])
            break
        try:
            return pwd.getpwnam(name)  # a parallel test created it
        except KeyError:
            pass
        if attempt == 19:
            raise AssertionError(f"useradd {name} failed: {proc.stderr}")
        time.sleep(0.25)
    return pwd.getpwnam(name)


def ensure_cache_readers(principals_user="gate-principals"):
    """The group that may read a node's policy cache (gate-cache) and the
    principals-command user in it, as gate-node join leaves them; kept for
    the machine, so that joins of tests running in parallel neither race on
    /etc/group nor remove the group another node still uses at leave.
    Returns the group's gid."""
    for attempt in range(20):
        try:
            gid = grp.getgrnam("gate-cache").gr_gid
            break
        except KeyError:
            pass
        proc = run(["groupadd", "--system", "gate-cache"])
        if proc.returncode != 0 and attempt == 19:
            raise AssertionError(f"groupadd gate-cache failed: {proc.stderr}")
        time.sleep(0.1 if proc.returncode == 0 else 0.25)
    user = ensure_system_user(principals_user, keep=True)
    for attempt in range(20):
        if gid in os.getgrouplist(principals_user, user.pw_gid):
            return gid
        proc = run(["usermod", "-a", "-G", "gate-cache", principals_user])
        if proc.returncode != 0:
            time.sleep(0.25)
    raise AssertionError(f"cannot add {principals_user} to gate-cache")


class OtpRelay:
    """`gate-node otp-relay` for a node's data dir, listening on socket_path
    (bound by itself, or, with socket_activated, passed by the real
    systemd-socket-activate as gate-otp-relay.socket would). Its log lines
    go to self.log."""

    def __init__(self, workdir, data_dir, name="otp-relay", socket_activated=False):
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o755)
        self.socket = os.path.join(self.dir, "relay.sock")
        self.log = os.path.join(self.dir, "relay.log")
        self.data_dir = data_dir
        self.socket_activated = socket_activated
        self.proc = None

    def start(self):
        relay = [binary("gate-node"), "otp-relay", "--data-dir", self.data_dir]
        if self.socket_activated:
            args = ["systemd-socket-activate", "-l", self.socket, *relay]
        else:
            args = [*relay, "--socket", self.socket]
        with open(self.log, "a") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=log)
        deadline = time.time() + 10
        while not os.path.exists(self.socket):
            if self.proc.poll() is not None or time.time() > deadline:
                raise AssertionError("otp-relay did not start: " + self.log_text())
            time.sleep(0.02)
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)

    def log_text(self):
        with open(self.log) as f:
            return f.read()


class Node:
    """A joined node: its own sshd (config dir with sshd_config.d, host key,
    pidfile for reloads) driven by the real gate-node binary."""

    def __init__(self, workdir, name="node1"):
        self.dir = os.path.join(workdir, name)
        self.ssh_dir = os.path.join(self.dir, "ssh")
        self.conf_d = os.path.join(self.ssh_dir, "sshd_config.d")
        self.data_dir = os.path.join(self.dir, "gate-node")
        os.makedirs(self.conf_d, exist_ok=True)
        for d in (self.dir, self.ssh_dir, self.conf_d):
            os.chmod(d, 0o755)
        self.port = free_port()
        self.host_key = os.path.join(self.ssh_dir, "ssh_host_ed25519_key")
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", self.host_key], check=True)
        self.config = os.path.join(self.ssh_dir, "sshd_config")
        self.pidfile = os.path.join(self.dir, "sshd.pid")
        self.log = os.path.join(self.dir, "sshd.log")
        with open(self.config, "w") as f:
            f.write(f"""Include {self.conf_d}/*.conf
Port {self.port}
ListenAddress 127.0.0.1
HostKey {self.host_key}
PidFile {self.pidfile}
AuthorizedKeysFile none
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PermitRootLogin no
LogLevel VERBOSE
Subsystem sftp internal-sftp
""")
        self.principals_command = self._principals_command()
        if IS_ROOT:
            ensure_cache_readers()
        self.proc = None

    @staticmethod
    def _principals_command():
        built = binary("gate-principals")
        if path_is_root_safe(built):
            return built
        # The build tree is not root-safe (e.g. a clone under a user's home):
        # run a copy from a root-owned directory, as an installed one would be.
        target = os.path.join(root_safe_dir(), "gate-principals")
        shutil.copy2(built, target)
        os.chmod(target, 0o755)
        return target

    def start(self):
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        with open(self.log, "a") as log:
            self.proc = subprocess.Popen([SSHD, "-D", "-e", "-f", self.config], stderr=log)
        self.wait_listening()
        return self

    def wait_listening(self):
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        with open(self.log) as log:
            raise AssertionError("sshd is not listening: " + log.read()[-3000:])

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def paths(self):
        return ["--ssh-dir", self.ssh_dir, "--sshd-config-dir", self.conf_d,
                "--sshd-config", self.config, "--data-dir", self.data_dir,
                "--sshd-binary", SSHD, "--sshd-pidfile", self.pidfile,
                "--principals-command", self.principals_command]

    def gate_node(self, *args, env=None, input=None):
        proc = run([binary("gate-node"), *args, *self.paths()], env=env, input=input, timeout=60)
        # A reload re-executes sshd; wait until it listens again.
        if self.proc:
            time.sleep(0.2)
            self.wait_listening()
        return proc

    def join(self, ca, token, *extra):
        # As gatectl tells admins to: the token never in argv.
        return self.gate_node("join", "--proxy", ca.addr, "--ca-pin", ca.pin, *extra,
                              env=dict(os.environ, GATE_NODE_TOKEN=token))

    def sync(self):
        return self.gate_node("sync")

    def ssh(self, login, client, command="id -un", strict=True, known_hosts=None):
        kh = known_hosts or os.path.join(client.env["GATE_HOME"], "known_hosts")
        args = ["ssh", "-F", "/dev/null", "-p", str(self.port), "-o", "BatchMode=yes",
                "-o", "IdentitiesOnly=yes", "-o", f"IdentityFile={client.key}",
                "-o", f"CertificateFile={client.cert}", "-o", f"UserKnownHostsFile={kh}",
                "-o", "StrictHostKeyChecking=" + ("yes" if strict else "no"),
                "-o", "ConnectTimeout=10", f"{login}@127.0.0.1", command]
        return run(args, timeout=30)


class SyslogCapture:
    """Collects syslog lines sent to /dev/log while active, when this machine
    has no syslog daemon listening there (root only). `lines` is None when
    capture is impossible (a daemon owns /dev/log): callers then skip their
    log assertions rather than pass them vacuously.

    A thread reads the socket all the time: syslog(3) blocks its caller when a
    datagram socket's buffer is full, and other tests running in parallel log
    here too, so an undrained socket would hang their sshd hooks and PAM
    modules."""

    PATH = "/dev/log"

    def __init__(self):
        self.sock = None
        self.lines = None
        self._lock = threading.Lock()
        self._thread = None

    def __enter__(self):
        if IS_ROOT and not os.path.exists(self.PATH):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            try:
                sock.bind(self.PATH)
            except OSError:  # another test process got there first
                sock.close()
                return self
            self.sock = sock
            # Hooks log as unprivileged users (gate-principals).
            os.chmod(self.PATH, 0o666)
            self.sock.settimeout(0.1)
            self.lines = []
            self._thread = threading.Thread(target=self._read, daemon=True)
            self._thread.start()
        return self

    def _read(self):
        while self.sock is not None:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                self.lines.append(data.decode(errors="replace"))

    def drain(self):
        """The lines received so far (give senders a moment to be read)."""
        if self.lines is None:
            return None
        time.sleep(0.2)
        with self._lock:
            return self.lines

    def __exit__(self, *exc):
        if self.sock is not None:
            sock, self.sock = self.sock, None
            self._thread.join(timeout=2)
            sock.close()
            if os.path.exists(self.PATH):
                os.unlink(self.PATH)
        return False
