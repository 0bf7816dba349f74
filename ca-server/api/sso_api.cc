#include "ca-server/api/sso_api.h"

#include <chrono>
#include <optional>
#include <string>
#include <utility>

#include "ca-server/api/public_api.h"
#include "ca-server/api/query.h"
#include "ca-server/api/security_headers.h"
#include "ca-server/api/session_cookie.h"
#include "gate/bytes.h"
#include "gate/ed25519.h"
#include "gate/json.h"
#include "gate/log.h"
#include "gate/secret.h"

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
    // An icon of its own, so the browser does not ask for /favicon.ico.
    "<link rel=\"icon\" href=\"data:,\">"
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

// A CLI login's context: what the CLI asked for when it started.
struct CliContext {
  int port = 0;
  std::string public_key;
  std::int64_t ttl_seconds = 0;
};

std::string CliContextText(const CliContext& c) {
  Json::Value v;
  v["cli_port"] = c.port;
  v["public_key"] = c.public_key;
  v["ttl_seconds"] = Json::Int64(c.ttl_seconds);
  return json::Write(v);
}

std::optional<CliContext> ParseCliContext(std::string_view text) {
  if (text == kBrowserContext) return std::nullopt;
  auto v = json::Parse(text);
  if (!v || !(*v)["cli_port"].isInt() || !(*v)["public_key"].isString() ||
      !(*v)["ttl_seconds"].isInt64()) {
    return std::nullopt;
  }
  return CliContext{(*v)["cli_port"].asInt(), (*v)["public_key"].asString(),
                    (*v)["ttl_seconds"].asInt64()};
}

// The CLI's listener, told the outcome. Only ever 127.0.0.1: the code must
// not leave the machine the browser runs on.
HttpReply ToCli(const CliContext& cli, const std::string& query) {
  return Redirect("http://127.0.0.1:" + std::to_string(cli.port) + "/callback?" + query);
}

HttpReply CliStart(SsoApiDeps& d, const HttpRequest& req, const PathParams& params) {
  if (Status ok = CheckAuthRate(d.web.services, req); !ok.ok()) return ErrorReply(ok);
  auto body = json::Parse(req.body);
  if (!body) return ErrorReply(body.error());
  auto key_line = json::GetString(*body, "public_key");
  if (!key_line) return ErrorReply(key_line.error());
  if (auto key = ssh::Ed25519PublicKey::FromAuthorizedKey(*key_line); !key) {
    return ErrorReply(InvalidArgument("public_key: " + key.error().message()));
  }
  auto port = json::GetInt(*body, "callback_port");
  if (!port) return ErrorReply(port.error());
  if (*port < 1024 || *port > 65535) {
    return ErrorReply(InvalidArgument("callback_port must be 1024-65535"));
  }
  auto ttl = json::OptionalInt(*body, "ttl_seconds", 0);
  if (!ttl) return ErrorReply(ttl.error());
  if (*ttl < 0) return ErrorReply(InvalidArgument("field 'ttl_seconds' must not be negative"));
  CliContext cli{static_cast<int>(*port), *key_line, *ttl};
  auto started = d.login.Begin(params.at("connector"), CliContextText(cli), SsoBinding::kAtCollect);
  if (!started) return ErrorReply(started.error());
  HttpReply reply;
  reply.body["url"] = started->url;
  reply.body["secret"] = std::string(started->binding.view());
  return reply;
}

HttpReply CliCollect(SsoApiDeps& d, const HttpRequest& req) {
  Services& s = d.web.services;
  if (Status ok = CheckAuthRate(s, req); !ok.ok()) return ErrorReply(ok);
  auto body = json::Parse(req.body);
  if (!body) return ErrorReply(body.error());
  auto code = json::GetString(*body, "code");
  if (!code) return ErrorReply(code.error());
  auto secret = json::GetString(*body, "secret");
  if (!secret) return ErrorReply(secret.error());
  const std::int64_t now = s.now();
  auto result = d.cli_results.Collect(*code, SecretString(*secret).view(), now);
  Wipe(secret->data(), secret->size());
  if (!result) {
    s.audit.Record({now, std::string(kSsoLoginAuditEvent), "", req.source, false,
                    "CLI collect: " + result.error().message()});
    return ErrorReply(result.error());
  }
  auto user = s.store.GetUser(result->user);
  if (!user) return ErrorReply(user.error());
  auto key = ssh::Ed25519PublicKey::FromAuthorizedKey(result->public_key);
  if (!key) return ErrorReply(InvalidArgument("public_key: " + key.error().message()));
  auto reply =
      LoginReply(s, *user, *key, std::chrono::seconds(result->ttl_seconds), req.source, now);
  if (!reply) return ErrorReply(reply.error());
  HttpReply out;
  out.body = *std::move(reply);
  return out;
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
  std::string context;
  auto result = d.login.Finish(cb, binding->value_or(""), req.source, &context);
  const std::optional<CliContext> cli = ParseCliContext(context);
  if (cli) {
    if (!result) {
      std::string why = result.error().message();
      if (ToHttpStatus(result.error().code()) >= 500) {
        log::Error("sso: " + result.error().ToString());
        why = result.error().code() == Code::kUnavailable
                  ? "the identity provider cannot be reached; try again later"
                  : "the login failed on the server; try again later";
      }
      return ToCli(*cli, "error=" + PercentEncode(why));
    }
    auto code =
        d.cli_results.Park(SsoCliResult{result->user.name, result->connector, cli->public_key,
                                        cli->ttl_seconds, result->binding_hash, 0},
                           d.web.services.now());
    if (!code) return ToCli(*cli, "error=" + PercentEncode(code.error().message()));
    return ToCli(*cli, "code=" + *code);
  }
  if (!result) return LoginPageWithError(result.error());
  if (context != kBrowserContext) {
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
  router.AddRaw(
      "POST", "/v1/sso/oidc/{connector}/cli",
      [d](const HttpRequest& r, const PathParams& p) { return CliStart(*d, r, p); },
      TrafficClass::kLogin);
  router.AddRaw(
      "POST", "/v1/sso/cli/collect",
      [d](const HttpRequest& r, const PathParams&) { return CliCollect(*d, r); },
      TrafficClass::kLogin);
}

}  // namespace gate::ca
