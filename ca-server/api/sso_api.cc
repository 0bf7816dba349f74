#include "ca-server/api/sso_api.h"

#include <string>
#include <utility>

#include "ca-server/api/public_api.h"
#include "ca-server/api/query.h"
#include "ca-server/api/security_headers.h"
#include "ca-server/api/session_cookie.h"
#include "gate/bytes.h"
#include "gate/log.h"

namespace gate::ca {
namespace {

// The browser's own login, not the CLI's.
constexpr std::string_view kBrowserContext = "browser";
constexpr int kSsoCookieSeconds = 600;  // SsoFlowOptions::ttl

std::string SsoCookie(std::string_view binding, int max_age) {
  return std::string(kSsoCookieName) + "=" + std::string(binding) +
         "; Path=/; Max-Age=" + std::to_string(max_age) + "; Secure; HttpOnly; SameSite=Lax";
}

constexpr std::string_view kLoggedInPage =
    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    "<meta http-equiv=\"refresh\" content=\"0;url=/web/\"><title>Logged in · gate</title>"
    "</head><body><p>Logged in. <a href=\"/web/\">Continue</a></p></body></html>\n";

HttpReply Redirect(const std::string& location) {
  HttpReply reply;
  reply.status = 302;
  reply.headers.emplace_back("Location", location);
  reply.body = Json::Value(Json::objectValue);
  return reply;
}

// Back to the login page with a reason it shows. Server-side failures
// (the provider down, the store) are worded without their insides, which
// go to the log.
HttpReply LoginPageWithError(const Status& status) {
  std::string why = status.message();
  if (ToHttpStatus(status.code()) >= 500) {
    log::Error("sso: " + status.ToString());
    why = status.code() == Code::kUnavailable
              ? "the identity provider cannot be reached; try again later"
              : "the login failed on the server; try again later";
  }
  HttpReply reply = Redirect("/web/login?sso_error=" + PercentEncode(why));
  reply.headers.emplace_back("Set-Cookie", SsoCookie("", 0));
  return reply;
}

HttpReply Start(SsoApiDeps& d, const HttpRequest& req, const PathParams& params) {
  if (Status ok = CheckAuthRate(d.web.services, req); !ok.ok()) return LoginPageWithError(ok);
  auto started = d.login.Begin(params.at("connector"), std::string(kBrowserContext));
  if (!started) return LoginPageWithError(started.error());
  HttpReply reply = Redirect(started->url);
  reply.headers.emplace_back("Set-Cookie", SsoCookie(started->binding.view(), kSsoCookieSeconds));
  return reply;
}

HttpReply Callback(SsoApiDeps& d, const HttpRequest& req) {
  if (Status ok = CheckAuthRate(d.web.services, req); !ok.ok()) return LoginPageWithError(ok);
  auto q = ParseQuery(req.query, {"code", "state", "iss", "error", "error_description", "error_uri",
                                  "session_state"});
  if (!q) return LoginPageWithError(q.error());
  auto get = [&](const char* name) {
    auto it = q->find(name);
    return it == q->end() ? std::string() : it->second;
  };
  SsoCallback cb{get("state"), get("code"), get("error"), get("iss")};
  auto binding = CookieValue(req.cookie, kSsoCookieName);
  if (!binding) return LoginPageWithError(binding.error());
  auto result = d.login.Finish(cb, binding->value_or(""), req.source);
  if (!result) return LoginPageWithError(result.error());
  if (result->context != kBrowserContext) {
    return LoginPageWithError(Unauthenticated("this login was not started by a browser"));
  }
  HttpReply session = StartWebSession(d.web, req, result->user);
  if (session.status != 200) {
    const Json::Value& message = session.body["error"]["message"];
    return LoginPageWithError(
        PermissionDenied(message.isString() ? message.asString() : "no session"));
  }
  // Not a 302: the browser came here on a redirect chain that started at
  // the provider (another site), so it would not send the SameSite=Strict
  // session cookie with a redirected request for /web/, and /web/ would
  // send it back to the login page. A page of our own that moves on is a
  // same-site navigation, which carries the cookie.
  HttpReply reply;
  reply.content_type = "text/html; charset=utf-8";
  reply.raw_body = std::string(kLoggedInPage);
  AddSecurityHeaders(reply, /*is_html=*/true, /*hsts=*/false);
  for (auto& header : session.headers) {
    if (header.first == "Set-Cookie") reply.headers.push_back(std::move(header));
  }
  reply.headers.emplace_back("Set-Cookie", SsoCookie("", 0));
  return reply;
}

}  // namespace

void RegisterSsoApi(Router& router, SsoApiDeps& deps) {
  SsoApiDeps* d = &deps;
  router.AddRaw(
      "GET", "/v1/sso/oidc/{connector}/login",
      [d](const HttpRequest& r, const PathParams& p) { return Start(*d, r, p); },
      TrafficClass::kLogin);
  router.AddRaw(
      "GET", "/v1/sso/oidc/callback",
      [d](const HttpRequest& r, const PathParams&) { return Callback(*d, r); },
      TrafficClass::kLogin);
}

}  // namespace gate::ca
