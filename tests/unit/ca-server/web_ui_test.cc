#include "ca-server/api/web_ui.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "ca-server/api/router.h"
#include "ca-server/api/security_headers.h"
#include "ca-server/api/web_bundle.h"

namespace gate::ca {
namespace {

HttpRequest Get(std::string path, std::string cookie = "") {
  HttpRequest req;
  req.method = "GET";
  req.path = std::move(path);
  req.cookie = std::move(cookie);
  req.source = "192.0.2.1";
  return req;
}

int CountHeader(const HttpReply& reply, const std::string& name) {
  int n = 0;
  for (const auto& [k, v] : reply.headers) n += k == name ? 1 : 0;
  return n;
}

std::string HeaderOf(const HttpReply& reply, const std::string& name) {
  for (const auto& [k, v] : reply.headers) {
    if (k == name) return v;
  }
  return "";
}

// Every reply under /web/ carries the browser headers once.
void ExpectBrowserHeaders(const HttpReply& reply, bool hsts,
                          std::string_view csp = kHtmlContentSecurityPolicy) {
  EXPECT_EQ(HeaderOf(reply, "Content-Security-Policy"), csp);
  EXPECT_EQ(CountHeader(reply, "Content-Security-Policy"), 1);
  EXPECT_EQ(HeaderOf(reply, "Referrer-Policy"), "no-referrer");
  EXPECT_EQ(HeaderOf(reply, "X-Frame-Options"), "DENY");
  EXPECT_EQ(CountHeader(reply, "Strict-Transport-Security"), hsts ? 1 : 0);
}

// A page's script and the chunks it imports, transitively: statically only
// (what the page always fetches), or with import() too (all it may fetch).
std::string ScriptWithImports(const Router& router, const std::string& path, bool dynamic) {
  const std::regex static_import("(?:from|import)\"\\./(chunk-[A-Z0-9]+\\.js)\"");
  const std::regex dynamic_import("import\\(\"\\./(chunk-[A-Z0-9]+\\.js)\"\\)");
  std::set<std::string> seen{path};
  std::vector<std::string> todo{path};
  std::string all;
  while (!todo.empty()) {
    const std::string body = router.Dispatch(Get(todo.back())).raw_body;
    todo.pop_back();
    all += body;
    for (const std::regex* re : {&static_import, &dynamic_import}) {
      if (re == &dynamic_import && !dynamic) continue;
      for (std::sregex_iterator it(body.begin(), body.end(), *re), end; it != end; ++it) {
        const std::string chunk = "/web/assets/" + (*it)[1].str();
        if (seen.insert(chunk).second) todo.push_back(chunk);
      }
    }
  }
  return all;
}

class WebUiTest : public ::testing::Test {
 protected:
  WebUiTest() { RegisterWebUi(router_, /*hsts=*/false); }
  Router router_;
};

TEST(SecurityHeadersTest, HtmlJsonAndHsts) {
  HttpReply html;
  AddSecurityHeaders(html, /*is_html=*/true, /*hsts=*/false);
  EXPECT_EQ(HeaderOf(html, "Content-Security-Policy"),
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; "
            "frame-ancestors 'none'");
  EXPECT_EQ(HeaderOf(html, "Referrer-Policy"), "no-referrer");
  EXPECT_EQ(HeaderOf(html, "X-Frame-Options"), "DENY");
  EXPECT_EQ(CountHeader(html, "Strict-Transport-Security"), 0);

  HttpReply json;
  AddSecurityHeaders(json, /*is_html=*/false, /*hsts=*/true);
  EXPECT_EQ(HeaderOf(json, "Content-Security-Policy"),
            "default-src 'none'; frame-ancestors 'none'");
  EXPECT_EQ(HeaderOf(json, "Strict-Transport-Security"), "max-age=31536000");
  EXPECT_EQ(json.cache_control, "no-store");
}

TEST_F(WebUiTest, TheBundleHasEveryPage) {
  for (const char* page : {"home.html", "login.html", "signup.html", "notfound.html",
                           "sessions.html", "session.html", "terminal.html"}) {
    bool found = false;
    for (const WebBundleFile& f : WebBundleFiles()) found = found || f.name == page;
    EXPECT_TRUE(found) << page;
  }
}

TEST_F(WebUiTest, WebRedirectsToWebSlash) {
  HttpReply reply = router_.Dispatch(Get("/web"));
  EXPECT_EQ(reply.status, 302);
  EXPECT_EQ(HeaderOf(reply, "Location"), "/web/");
  ExpectBrowserHeaders(reply, false);
}

TEST_F(WebUiTest, HomeNeedsASessionCookieElseGoesToLogin) {
  for (const std::string cookie : {"", "other=1", "x__Host-gate_session=abc", "gate_session=abc"}) {
    HttpReply reply = router_.Dispatch(Get("/web/", cookie));
    EXPECT_EQ(reply.status, 302) << cookie;
    EXPECT_EQ(HeaderOf(reply, "Location"), "/web/login") << cookie;
    ExpectBrowserHeaders(reply, false);
  }
  for (const std::string cookie : {"__Host-gate_session=abc", "a=b; __Host-gate_session=abc"}) {
    HttpReply reply = router_.Dispatch(Get("/web/", cookie));
    EXPECT_EQ(reply.status, 200) << cookie;
    EXPECT_NE(reply.raw_body.find("Nodes you may log into"), std::string::npos);
    EXPECT_EQ(reply.cache_control, "no-store");
    ExpectBrowserHeaders(reply, false);
  }
}

TEST_F(WebUiTest, SessionPagesNeedASessionCookieElseGoToLogin) {
  const std::string id = "/web/sessions/0b6f2a9e-3c1d-4e5f-8a7b-9c0d1e2f3a4b";
  // Without a session: the login page, which comes back here.
  HttpReply out = router_.Dispatch(Get(id, "gate_session=abc"));
  EXPECT_EQ(out.status, 302);
  EXPECT_EQ(HeaderOf(out, "Location"),
            "/web/login?next=%2Fweb%2Fsessions%2F0b6f2a9e-3c1d-4e5f-8a7b-9c0d1e2f3a4b");
  ExpectBrowserHeaders(out, false);
  HttpRequest filtered = Get("/web/sessions");
  filtered.query = "live=1&user=al%20ice";
  out = router_.Dispatch(filtered);
  EXPECT_EQ(out.status, 302);
  EXPECT_EQ(HeaderOf(out, "Location"),
            "/web/login?next=%2Fweb%2Fsessions%3Flive%3D1%26user%3Dal%2520ice");
  ExpectBrowserHeaders(out, false);

  HttpReply list = router_.Dispatch(Get("/web/sessions", "__Host-gate_session=abc"));
  EXPECT_EQ(list.status, 200);
  EXPECT_NE(list.raw_body.find("<h1 id=\"sessions-title\">Sessions</h1>"), std::string::npos);
  EXPECT_EQ(list.cache_control, "no-store");
  ExpectBrowserHeaders(list, false);
  // The list's own script does not carry the replay player.
  std::smatch m;
  ASSERT_TRUE(
      std::regex_search(list.raw_body, m, std::regex("/web/assets/sessions-[A-Z0-9]+\\.js")));
  EXPECT_EQ(ScriptWithImports(router_, m.str(), true).find("WebAssembly"), std::string::npos);

  HttpReply one = router_.Dispatch(Get(id, "__Host-gate_session=abc"));
  EXPECT_EQ(one.status, 200);
  EXPECT_EQ(one.route, "/web/sessions/{id}");
  EXPECT_NE(one.raw_body.find("id=\"player\""), std::string::npos);
  // Only this page may compile WebAssembly (asciinema-player's terminal).
  ExpectBrowserHeaders(one, false, kReplayContentSecurityPolicy);
  EXPECT_EQ(kReplayContentSecurityPolicy,
            "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
            "img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; "
            "form-action 'self'; frame-ancestors 'none'");
  ASSERT_TRUE(std::regex_search(one.raw_body, m, std::regex("/web/assets/session-[A-Z0-9]+\\.js")));
  // The player (and the live view's terminal) are fetched only once the page
  // knows which it needs.
  EXPECT_EQ(ScriptWithImports(router_, m.str(), false).find("WebAssembly"), std::string::npos);
  EXPECT_EQ(ScriptWithImports(router_, m.str(), false).find("xterm"), std::string::npos);
  EXPECT_NE(ScriptWithImports(router_, m.str(), true).find("WebAssembly"), std::string::npos);
  EXPECT_NE(ScriptWithImports(router_, m.str(), true).find("xterm"), std::string::npos);
  ASSERT_TRUE(
      std::regex_search(one.raw_body, m, std::regex("/web/assets/session-[A-Z0-9]+\\.css")));
  EXPECT_EQ(router_.Dispatch(Get(m.str())).status, 200);
}

TEST_F(WebUiTest, TerminalPageNeedsASessionCookieElseGoesToLogin) {
  HttpRequest req = Get("/web/terminal");
  req.query = "node=0b6f2a9e-3c1d-4e5f-8a7b-9c0d1e2f3a4b&login=root";
  HttpReply out = router_.Dispatch(req);
  EXPECT_EQ(out.status, 302);
  EXPECT_EQ(HeaderOf(out, "Location"),
            "/web/login?next=%2Fweb%2Fterminal%3Fnode%3D0b6f2a9e-3c1d-4e5f-8a7b-9c0d1e2f3a4b%26"
            "login%3Droot");
  ExpectBrowserHeaders(out, false);

  req.cookie = "__Host-gate_session=abc";
  HttpReply page = router_.Dispatch(req);
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.route, "/web/terminal");
  EXPECT_NE(page.raw_body.find("id=\"terminal\""), std::string::npos);
  EXPECT_EQ(page.cache_control, "no-store");
  // The HTML policy as every other page: xterm.js needs no more.
  ExpectBrowserHeaders(page, false);
  std::smatch m;
  ASSERT_TRUE(
      std::regex_search(page.raw_body, m, std::regex("/web/assets/terminal-[A-Z0-9]+\\.css")));
  EXPECT_EQ(router_.Dispatch(Get(m.str())).status, 200);
}

TEST_F(WebUiTest, OnlyTheSessionPageBundlesThePlayer) {
  for (const char* page :
       {"/web/", "/web/login", "/web/newuser/x", "/web/sessions", "/web/terminal"}) {
    HttpReply html = router_.Dispatch(Get(page, "__Host-gate_session=abc"));
    ASSERT_EQ(html.status, 200) << page;
    EXPECT_EQ(html.raw_body.find("/web/assets/session-"), std::string::npos) << page;
    std::smatch m;
    ASSERT_TRUE(
        std::regex_search(html.raw_body, m, std::regex("/web/assets/[a-z]+-[A-Z0-9]+\\.js")))
        << page;
    EXPECT_EQ(ScriptWithImports(router_, m.str(), true).find("asciinema"), std::string::npos)
        << page;
  }
}

TEST_F(WebUiTest, PagesAreHtmlWithTheirHeaders) {
  HttpReply login = router_.Dispatch(Get("/web/login"));
  EXPECT_EQ(login.status, 200);
  EXPECT_EQ(login.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(login.cache_control, "no-store");
  EXPECT_NE(login.raw_body.find("<label for=\"password\">"), std::string::npos);
  ExpectBrowserHeaders(login, false);

  const std::string token = "0123456789abcdef0123456789abcdef";
  HttpReply signup = router_.Dispatch(Get("/web/newuser/" + token));
  EXPECT_EQ(signup.status, 200);
  EXPECT_EQ(signup.route, "/web/newuser/{token}");
  EXPECT_EQ(signup.raw_body.find(token), std::string::npos);
  EXPECT_NE(signup.raw_body.find("Sign up"), std::string::npos);
  ExpectBrowserHeaders(signup, false);
}

TEST_F(WebUiTest, HstsOnlyWhenAsked) {
  Router router;
  RegisterWebUi(router, /*hsts=*/true);
  for (const char* path : {"/web", "/web/", "/web/login", "/web/newuser/x", "/web/nope",
                           "/web/sessions", "/web/terminal"}) {
    ExpectBrowserHeaders(router.Dispatch(Get(path)), true);
  }
  ExpectBrowserHeaders(router.Dispatch(Get("/web/sessions/x", "__Host-gate_session=abc")), true,
                       kReplayContentSecurityPolicy);
}

TEST_F(WebUiTest, AssetsAreHashedAndCachedForGood) {
  HttpReply login = router_.Dispatch(Get("/web/login"));
  std::smatch m;
  ASSERT_TRUE(std::regex_search(login.raw_body, m, std::regex("/web/assets/login-[A-Z0-9]+\\.js")));
  HttpReply js = router_.Dispatch(Get(m.str()));
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(js.cache_control, "public, max-age=31536000, immutable");
  EXPECT_FALSE(js.raw_body.empty());
  ExpectBrowserHeaders(js, false);

  ASSERT_TRUE(
      std::regex_search(login.raw_body, m, std::regex("/web/assets/style-[A-Z0-9]+\\.css")));
  HttpReply css = router_.Dispatch(Get(m.str()));
  EXPECT_EQ(css.status, 200);
  EXPECT_EQ(css.content_type, "text/css; charset=utf-8");
}

TEST_F(WebUiTest, UnknownPathsAre404Pages) {
  for (const char* path : {"/web/nope", "/web/assets/nope.js", "/web/a/b/c", "/web/newuser/x/y",
                           "/web/assets/login.html", "/web/sessions/x/y", "/web/sessions/"}) {
    HttpReply reply = router_.Dispatch(Get(path));
    EXPECT_EQ(reply.status, 404) << path;
    EXPECT_EQ(reply.content_type, "text/html; charset=utf-8") << path;
    EXPECT_NE(reply.raw_body.find("Page not found"), std::string::npos) << path;
    EXPECT_EQ(reply.cache_control, "no-store");
    ExpectBrowserHeaders(reply, false);
  }
}

}  // namespace
}  // namespace gate::ca
