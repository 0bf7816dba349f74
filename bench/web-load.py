#!/usr/bin/env python3
"""The web UI's weight and first load: the bytes of every asset gate-ca
serves under /web/assets (as served, and gzipped by Python's gzip at levels
9 and 6), each page's total, and the load time of /web/sessions in headless
Chromium with N recorded sessions in the store (default 100,000), logged in,
with a cold and a warm HTTP cache.

A load's times come from the page itself, relative to the navigation's
start: the Navigation Timing API's loadEventEnd, and the moment the
sessions table got its first row (a MutationObserver the bench adds to
every document through the DevTools protocol, reading performance.now()).
Cold: the browser's HTTP cache is cleared (Network.clearBrowserCache) before
the load, so the page's script and style come over the wire again; warm:
the same page loaded again at once (the hashed assets come from the cache;
the HTML and the API reply are never cached). Chromium keeps its TLS
connection to gate-ca between loads in both cases.

Chromium is set up as tests/browser/browser.py sets it up (host gate.test
mapped to 127.0.0.1, gate-ca's self-signed certificate trusted by its SPKI
pin only). Sessions are written into the store as bench/session_fixture.py
does; the user is real, logged in through the login page. The cluster's
second factor is off so that the login needs no OTP step.

Run with Debian's /usr/bin/python3 (python3-selenium, chromium,
chromium-driver).

Usage: bench/web-load.py [BUILD_DIR] [--sessions N] [--nodes M] [--loads L]
"""
import argparse
import gzip
import os
import shutil
import re
import statistics
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

# Marks when the sessions table first has a row, on every document the
# browser opens (DevTools-injected scripts are not page scripts: the pages'
# Content-Security-Policy does not apply to them, and is not loosened).
ROWS_MARK = """
(() => {
  const mark = () => {
    if (!window.__gateRowsAt && document.querySelector('#sessions-body tr')) {
      window.__gateRowsAt = performance.now();
    }
  };
  new MutationObserver(mark).observe(document, { childList: true, subtree: true });
})();
"""


def percentile(values, q):
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def fetch(ca, fx, path, cookie):
    conn = fx.connect(ca)
    conn.request("GET", path, headers={"Cookie": cookie, "Accept-Encoding": "identity"})
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    assert resp.status in (200, 404), (path, resp.status)
    return body, resp.getheader("Content-Encoding") or ""


STATIC_IMPORT = re.compile(rb'(?:from|import)"\./(chunk-[A-Z0-9]+\.js)"')
DYNAMIC_IMPORT = re.compile(rb'import\("\./(chunk-[A-Z0-9]+\.js)"\)')


def bundle_sizes(ca, fx, cookie):
    """Every page's HTML, the assets it names and the chunks those import,
    fetched from gate-ca. A chunk imported with import() is fetched only when
    the page needs it (the session page's player or terminal): each such
    chunk's weight is shown as its own line, added to the page's."""
    pages = {"/web/login": "login", "/web/": "home", "/web/sessions": "sessions",
             "/web/sessions/00000000-0000-4000-8000-000000000000": "session",
             "/web/terminal?node=00000000-0000-4000-8000-000000000000&login=x": "terminal",
             "/web/newuser/" + "0" * 32: "signup", "/web/nope": "not found"}
    assets = {}

    def get(name):
        if name not in assets:
            assets[name], encoding = fetch(ca, fx, name, cookie)
            assert encoding == "", encoding
        return assets[name]

    def with_static_imports(names):
        seen = set(names)
        todo = list(seen)
        while todo:
            for chunk in STATIC_IMPORT.findall(get(todo.pop())):
                name = "/web/assets/" + chunk.decode()
                if name not in seen:
                    seen.add(name)
                    todo.append(name)
        return seen

    page_assets = {}
    for path, name in pages.items():
        html, encoding = fetch(ca, fx, path, cookie)
        assert encoding == "", encoding
        names = with_static_imports(
            n.decode() for n in set(re.findall(rb'/web/assets/[A-Za-z0-9._-]+', html)))
        page_assets[name] = (len(html), len(gzip.compress(html, 9)), names)
        on_demand = set()
        for n in names:
            on_demand.update(c.decode() for c in DYNAMIC_IMPORT.findall(get(n)))
        for chunk in sorted(on_demand):
            extra = with_static_imports(["/web/assets/" + chunk]) - names
            body = b"".join(get(e) for e in extra)
            what = ("replay player" if b"WebAssembly" in body else
                    "terminal" if b"xterm" in body else chunk)
            page_assets[f"{name} + {what}"] = (len(html), len(gzip.compress(html, 9)),
                                              names | extra)
    print("assets gate-ca serves under /web/assets (bytes as served; gzip -9, gzip -6):")
    print(f"{'asset':42} {'bytes':>8} {'gzip -9':>8} {'gzip -6':>8}")
    packed = {}
    for name, body in sorted(assets.items()):
        packed[name] = (len(body), len(gzip.compress(body, 9)), len(gzip.compress(body, 6)))
        print(f"{name:42} {packed[name][0]:8d} {packed[name][1]:8d} {packed[name][2]:8d}")
    print("each page's load: its HTML, the assets it names and the chunks they import "
          "(bytes; gzip -9); 'PAGE + X': with the chunks fetched for X")
    for name, (html, html9, names) in page_assets.items():
        raw = html + sum(packed[n][0] for n in names)
        gz = html9 + sum(packed[n][1] for n in names)
        print(f"{name:42} {raw:8d} {gz:8d}  ({len(names)} assets)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build_dir", nargs="?", default="build")
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--nodes", type=int, default=1_000)
    parser.add_argument("--loads", type=int, default=20)
    args = parser.parse_args()
    os.environ["GATE_BIN_DIR"] = os.path.abspath(args.build_dir)
    sys.path.insert(0, os.path.join(HERE, "..", "tests", "browser"))
    import browser  # noqa: E402
    import session_fixture as fx  # noqa: E402
    harness = fx.harness
    from selenium.webdriver.common.by import By  # noqa: E402
    from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

    work = tempfile.mkdtemp(prefix="gate-bench-")
    os.chmod(work, 0o755)
    ca = harness.GateCA(work, second_factor="off", rate_limit=(100000, 10000),
                        public_host=browser.HOST).start()
    driver = None
    try:
        ca.gatectl("roles", "add", "watch-all", "--logins", "root", "--node-labels", "*=*",
                   "--join-sessions", check=True)
        _, admin, _ = fx.add_user(ca, work, "admin", "watch-all", cli=False)
        ca.stop()
        fx.fill_store(ca, args.sessions, args.nodes, fx.SESSION_OWNERS)
        ca.start()
        print(f"load average {os.getloadavg()[0]:.2f}")
        bundle_sizes(ca, fx, admin.cookie)

        driver = browser.new_driver(ca.pin)
        origin = f"https://{ca.public_addr}"
        wait = WebDriverWait(driver, 60)
        driver.get(origin + "/web/login")
        wait.until(lambda d: d.find_element(By.ID, "login-form").is_displayed())
        driver.find_element(By.ID, "user").send_keys("admin")
        driver.find_element(By.ID, "password").send_keys(fx.PASSWORD)
        driver.find_element(By.ID, "login-submit").click()
        wait.until(lambda d: d.current_url == origin + "/web/")
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": ROWS_MARK})

        def load():
            driver.get(origin + "/web/sessions")
            return wait.until(lambda d: d.execute_script(
                "const n = performance.getEntriesByType('navigation')[0];"
                "return n && n.loadEventEnd > 0 && window.__gateRowsAt"
                " ? [n.loadEventEnd, window.__gateRowsAt, "
                "    document.querySelectorAll('#sessions-body tr').length] : null;"))

        load()  # the first load after login: not counted
        times = {"cold": [], "warm": []}
        for _ in range(args.loads):
            driver.execute_cdp_cmd("Network.clearBrowserCache", {})
            times["cold"].append(load())
            times["warm"].append(load())
        rows = times["warm"][-1][2]
        print(f"/web/sessions in headless Chromium, {args.sessions} sessions, logged in as an "
              f"admin who sees all ({rows} rows on the page), {args.loads} loads each; "
              f"load average {os.getloadavg()[0]:.2f}")
        print(f"{'cache':6} {'loadEventEnd p50':>17} {'p95':>7} {'rows shown p50':>15} {'p95':>7}")
        for cache, samples in times.items():
            loaded = [s[0] for s in samples]
            shown = [s[1] for s in samples]
            print(f"{cache:6} {statistics.median(loaded):17.1f} {percentile(loaded, 95):7.1f} "
                  f"{statistics.median(shown):15.1f} {percentile(shown, 95):7.1f}")
        log = [e for e in driver.get_log("browser")
               if "Content Security Policy" in e.get("message", "") or e.get("level") == "SEVERE"]
        assert not log, log
    finally:
        if driver:
            driver.quit()
        ca.stop()
        if os.environ.get("GATE_KEEP_TEST_DIRS") != "1":
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
