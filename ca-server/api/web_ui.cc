#include "ca-server/api/web_ui.h"

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "ca-server/api/security_headers.h"
#include "ca-server/api/web_bundle.h"
#include "gate/bytes.h"

namespace gate::ca {
namespace {

// Hashed names change with their content, so a year is safe; "immutable"
// spares the browser its revalidation on reload.
constexpr std::string_view kAssetCacheControl = "public, max-age=31536000, immutable";

// What a page request gets when the bundle lacks the page: gate-ca built
// with -DGATE_WEB_UI=OFF.
constexpr std::string_view kNoWebUiPage =
    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
    "<link rel=\"icon\" href=\"data:,\"><title>gate: no web UI</title></head><body><h1>No web "
    "UI</h1>"
    "<p>This gate-ca was built without its web UI. Use the gate command line tools.</p>"
    "</body></html>\n";

class WebFiles {
 public:
  explicit WebFiles(bool hsts) : hsts_(hsts) {
    for (const WebBundleFile& f : WebBundleFiles()) by_name_.emplace(f.name, &f);
  }

  // The page `name` ("login.html") with `status`, or the no-web-UI page.
  // csp: the page's own Content-Security-Policy, when it needs more than
  // the HTML policy every other page gets.
  HttpReply Page(std::string_view name, int status = 200, std::string_view csp = {}) const {
    const WebBundleFile* file = Find(name);
    HttpReply reply;
    reply.status = file != nullptr ? status : 404;
    reply.content_type = "text/html; charset=utf-8";
    reply.raw_body = std::string(file != nullptr ? file->body : kNoWebUiPage);
    if (!csp.empty()) reply.headers.emplace_back("Content-Security-Policy", std::string(csp));
    AddSecurityHeaders(reply, /*is_html=*/true, hsts_);
    return reply;
  }

  HttpReply Asset(std::string_view name) const {
    const WebBundleFile* file = Find("assets/" + std::string(name));
    if (file == nullptr) return NotFound();
    HttpReply reply;
    reply.content_type = std::string(file->content_type);
    reply.raw_body = std::string(file->body);
    reply.cache_control = std::string(kAssetCacheControl);
    AddSecurityHeaders(reply, /*is_html=*/true, hsts_);
    return reply;
  }

  HttpReply NotFound() const { return Page("notfound.html", 404); }

  HttpReply Redirect(std::string location) const {
    HttpReply reply;
    reply.status = 302;
    reply.content_type = "text/html; charset=utf-8";
    reply.raw_body =
        "<!doctype html><title>gate</title><a href=\"" + location + "\">" + location + "</a>\n";
    reply.headers.emplace_back("Location", std::move(location));
    AddSecurityHeaders(reply, /*is_html=*/true, hsts_);
    return reply;
  }

 private:
  const WebBundleFile* Find(std::string_view name) const {
    auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : it->second;
  }

  bool hsts_;
  std::map<std::string_view, const WebBundleFile*, std::less<>> by_name_;
};

// Whether the request carries a browser session cookie at all. Only the
// page's script learns whether it is still valid (GET /v1/web/session);
// this spares a visitor without one a round trip through an empty page.
bool HasSessionCookie(std::string_view cookie_header) {
  constexpr std::string_view kName = "__Host-gate_session=";
  std::size_t at = 0;
  while ((at = cookie_header.find(kName, at)) != std::string_view::npos) {
    if (at == 0 || cookie_header[at - 1] == ' ' || cookie_header[at - 1] == ';') return true;
    at += kName.size();
  }
  return false;
}

// "/web/login?next=<the page asked for>", for the login page to return to
// (it only follows a next that names a page under /web/).
std::string LoginThenBack(const HttpRequest& req) {
  const std::string here = req.query.empty() ? req.path : req.path + "?" + req.query;
  return "/web/login?next=" + PercentEncode(here);
}

}  // namespace

void RegisterWebUi(Router& router, bool hsts) {
  auto files = std::make_shared<const WebFiles>(hsts);
  router.AddRaw("GET", "/web", [files](const HttpRequest&, const PathParams&) {
    return files->Redirect("/web/");
  });
  router.AddRaw("GET", "/web/login", [files](const HttpRequest&, const PathParams&) {
    return files->Page("login.html");
  });
  // The token is the page script's business (it reads it from the URL and
  // posts it to /v1/web/signup/start); the server logs this route by its
  // pattern, never the path.
  router.AddRaw("GET", "/web/newuser/{token}", [files](const HttpRequest&, const PathParams&) {
    return files->Page("signup.html");
  });
  // The sessions list and a session's page (the Session URL `gate status`
  // prints). Without a session the login page comes back here once logged
  // in. Only the session page may compile WebAssembly, for its player.
  router.AddRaw("GET", "/web/sessions", [files](const HttpRequest& req, const PathParams&) {
    if (!HasSessionCookie(req.cookie)) return files->Redirect(LoginThenBack(req));
    return files->Page("sessions.html");
  });
  router.AddRaw("GET", "/web/sessions/{id}", [files](const HttpRequest& req, const PathParams&) {
    if (!HasSessionCookie(req.cookie)) return files->Redirect(LoginThenBack(req));
    return files->Page("session.html", 200, kReplayContentSecurityPolicy);
  });
  // The browser terminal: node and login are the page script's query
  // (it connects to /v1/web/terminal, which checks both).
  router.AddRaw("GET", "/web/terminal", [files](const HttpRequest& req, const PathParams&) {
    if (!HasSessionCookie(req.cookie)) return files->Redirect(LoginThenBack(req));
    return files->Page("terminal.html");
  });
  router.AddRaw("GET", "/web/assets/{name}", [files](const HttpRequest&, const PathParams& p) {
    return files->Asset(p.at("name"));
  });
  // "/web/" itself (which no pattern can spell) is the home page, for
  // those who hold a session cookie; any other path under /web/ that no
  // route above takes is a 404 page.
  router.AddPrefixFallback("GET", "/web/", [files](const HttpRequest& req, const PathParams&) {
    if (req.path != "/web/") return files->NotFound();
    if (!HasSessionCookie(req.cookie)) return files->Redirect("/web/login");
    return files->Page("home.html");
  });
}

}  // namespace gate::ca
