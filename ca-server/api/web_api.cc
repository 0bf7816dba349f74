#include "ca-server/api/web_api.h"

#include <string>
#include <utility>

#include "ca-server/api/cli_command.h"
#include "ca-server/api/public_api.h"
#include "ca-server/api/session_cookie.h"
#include "ca-server/auth/authenticator.h"
#include "ca-server/issuer/grant.h"
#include "gate/json.h"
#include "gate/names.h"
#include "gate/qr.h"
#include "gate/secret.h"

namespace gate::ca {
namespace {

constexpr std::string_view kWebLogoutEvent = "user.web_logout";

HttpReply Reply(Result<Json::Value> result) {
  if (!result) return ErrorReply(result.error());
  HttpReply reply;
  reply.body = *std::move(result);
  return reply;
}

// What a logged-in page knows about its user: the same grant a certificate
// would carry (issuer/grant.h). PermissionDenied while a lock is in force;
// a user whose roles grant no login may still see the UI (with no nodes).
Result<Json::Value> SessionBody(WebApiDeps& d, const UserRecord& user,
                                const WebSessionRecord& session, const SecretString& csrf_token) {
  Services& s = d.services;
  auto grant = DeriveGrant(s.store, user, s.now());
  if (!grant && grant.error().code() != Code::kFailedPrecondition) return Err(grant.error());
  Json::Value out;
  out["user"] = user.name;
  out["roles"] = json::StringArray(grant ? grant->roles : user.roles);
  out["logins"] = json::StringArray(grant ? grant->logins : std::vector<std::string>{});
  out["csrf_token"] = std::string(csrf_token.view());
  out["expires_at"] = Json::Int64(session.expires_at);
  out["idle_timeout_seconds"] = Json::Int64(d.browser.sessions().options().idle_timeout.count());
  out["cluster_name"] = s.config.cluster_name;
  return out;
}

// What the login and signup forms send: a name (the user, or the signup
// token), the password and the OTP code (absent when second_factor is off).
struct Form {
  std::string name;
  SecretString password;
  SecretString otp_code;
};

Result<Form> ParseForm(const std::string& text, const char* name_field) {
  auto body = json::Parse(text);
  if (!body) return Err(body.error());
  auto name = json::GetString(*body, name_field);
  if (!name) return Err(name.error());
  auto password = json::GetString(*body, "password");
  if (!password) return Err(password.error());
  auto otp = json::OptionalString(*body, "otp_code");
  if (!otp) return Err(otp.error());
  Form form{*std::move(name), SecretString(*password), SecretString(*otp)};
  Wipe(password->data(), password->size());
  Wipe(otp->data(), otp->size());
  return form;
}

// Every POST here: same origin, then the per-source bucket.
Status CheckWebPost(WebApiDeps& d, const HttpRequest& req) {
  GATE_RETURN_IF_ERROR(CheckSameOrigin(req, d.browser.origin()));
  return CheckAuthRate(d.services, req);
}

HttpReply Login(WebApiDeps& d, const HttpRequest& req) {
  Services& s = d.services;
  if (Status ok = CheckWebPost(d, req); !ok.ok()) return ErrorReply(ok);
  auto form = ParseForm(req.body, "user");
  if (!form) return ErrorReply(form.error());
  const std::string& user = form->name;
  // A name that cannot exist is refused like a wrong password.
  if (!ValidateUserName(user).ok()) return ErrorReply(Unauthenticated(std::string(kBadLogin)));

  const std::int64_t now = s.now();
  auto record = s.authenticator.Authenticate(user, form->password, form->otp_code, req.source, now,
                                             ClientTime(req, now), kWebLoginAuditEvent);
  if (!record) return ErrorReply(record.error());  // kBadLogin for every wrong credential
  return StartWebSession(d, req, *record);
}

HttpReply GetSession(WebApiDeps& d, const HttpRequest& req) {
  auto session = d.browser.Authenticate(req);
  if (!session) return ErrorReply(session.error());
  return Reply(SessionBody(d, session->user, session->record, session->csrf_token));
}

HttpReply Logout(WebApiDeps& d, const HttpRequest& req) {
  auto session = d.browser.Authenticate(req);
  if (!session) return ErrorReply(session.error());
  std::optional<std::string> id = BrowserAuth::SessionId(req);
  if (!id) return ErrorReply(Unauthenticated(std::string(kNotLoggedIn)));
  if (Status ended = d.browser.sessions().End(*id); !ended.ok()) return ErrorReply(ended);
  d.services.audit.Record({d.services.now(), std::string(kWebLogoutEvent), session->user.name,
                           req.source, true, "browser session ended"});
  HttpReply reply;
  reply.body = Json::Value(Json::objectValue);
  reply.headers.emplace_back("Set-Cookie", ExpiredSessionCookie());
  return reply;
}

// 404/410 with a "reason" the signup page shows in words; nullopt for a
// token that may still be used.
std::optional<HttpReply> TokenProblem(WebApiDeps& d, const std::string& token) {
  auto state = d.services.signup.TokenState(token, d.services.now());
  if (!state) return ErrorReply(state.error());
  HttpReply reply;
  std::string reason;
  switch (*state) {
    case SignupTokenState::kLive:
      return std::nullopt;
    case SignupTokenState::kUnknown:
      reply = ErrorReply(404, Code::kNotFound,
                         "this signup link is not valid; ask your administrator for a new link");
      reason = "unknown";
      break;
    case SignupTokenState::kUsed:
      reply = ErrorReply(410, Code::kFailedPrecondition,
                         "this signup link was already used; log in, or ask your administrator "
                         "for a new link");
      reason = "used";
      break;
    case SignupTokenState::kExpired:
      reply = ErrorReply(410, Code::kFailedPrecondition,
                         "this signup link has expired; ask your administrator for a new link");
      reason = "expired";
      break;
  }
  reply.body["error"]["reason"] = reason;
  return reply;
}

Json::Value QrJson(const QrMatrix& qr) {
  Json::Value out;
  out["size"] = qr.size;
  out["rows"] = Json::Value(Json::arrayValue);
  for (int y = 0; y < qr.size; ++y) {
    std::string row(static_cast<std::size_t>(qr.size), '0');
    for (int x = 0; x < qr.size; ++x) {
      if (qr.Dark(x, y)) row[static_cast<std::size_t>(x)] = '1';
    }
    out["rows"].append(row);
  }
  return out;
}

HttpReply SignupStart(WebApiDeps& d, const HttpRequest& req) {
  Services& s = d.services;
  if (Status ok = CheckWebPost(d, req); !ok.ok()) return ErrorReply(ok);
  auto body = json::Parse(req.body);
  if (!body) return ErrorReply(body.error());
  auto token = json::GetString(*body, "token");
  if (!token) return ErrorReply(token.error());
  if (auto problem = TokenProblem(d, *token)) return *std::move(problem);
  auto offer = s.signup.Start(*token, s.now());
  if (!offer) return ErrorReply(offer.error());
  Json::Value out;
  out["user"] = offer->user;
  out["cluster_name"] = s.config.cluster_name;
  out["second_factor"] = std::string(SecondFactorName(s.config.authentication.second_factor));
  out["password_min_length"] = s.config.authentication.password_min_length;
  out["expires_at"] = Json::Int64(offer->expires_at);
  if (!offer->totp_uri.empty()) {
    auto qr = EncodeQr(offer->totp_uri);
    if (!qr) return ErrorReply(qr.error());
    out["totp_uri"] = offer->totp_uri;
    out["totp_qr"] = QrJson(*qr);
  }
  out["signup_command"] = GateCommand(s, "signup");
  HttpReply reply;
  reply.body = std::move(out);
  return reply;
}

HttpReply SignupFinish(WebApiDeps& d, const HttpRequest& req) {
  Services& s = d.services;
  if (Status ok = CheckWebPost(d, req); !ok.ok()) return ErrorReply(ok);
  auto form = ParseForm(req.body, "token");
  if (!form) return ErrorReply(form.error());
  if (auto problem = TokenProblem(d, form->name)) return *std::move(problem);
  auto name = s.signup.Finish(form->name, form->password, form->otp_code, req.source, s.now());
  if (!name) return ErrorReply(name.error());
  auto user = s.store.GetUser(*name);
  if (!user) return ErrorReply(user.error());
  return StartWebSession(d, req, *user);
}

}  // namespace

HttpReply StartWebSession(WebApiDeps& d, const HttpRequest& req, const UserRecord& user) {
  Services& s = d.services;
  const std::int64_t now = s.now();
  auto grant = DeriveGrant(s.store, user, now);
  if (!grant && grant.error().code() == Code::kPermissionDenied) {
    s.audit.Record({now, std::string(kWebLoginAuditEvent), user.name, req.source, false,
                    grant.error().message()});
    return ErrorReply(grant.error());
  }
  auto session = d.browser.sessions().Create(user.name, req.source);
  if (!session) return ErrorReply(session.error());
  auto body = SessionBody(d, user, session->record, session->csrf_token);
  if (!body) return ErrorReply(body.error());
  s.audit.Record({now, std::string(kWebLoginAuditEvent), user.name, req.source, true,
                  "browser session until " + std::to_string(session->record.expires_at)});
  HttpReply reply;
  reply.body = *std::move(body);
  reply.headers.emplace_back(
      "Set-Cookie",
      SessionCookie(session->id.view(), std::chrono::seconds(session->record.expires_at - now)));
  return reply;
}

void RegisterWebApi(Router& router, WebApiDeps& deps) {
  WebApiDeps* d = &deps;
  constexpr TrafficClass kLogin = TrafficClass::kLogin;
  router.AddRaw(
      "POST", "/v1/web/login",
      [d](const HttpRequest& r, const PathParams&) { return Login(*d, r); }, kLogin);
  router.AddRaw("GET", "/v1/web/session",
                [d](const HttpRequest& r, const PathParams&) { return GetSession(*d, r); });
  router.AddRaw("POST", "/v1/web/logout",
                [d](const HttpRequest& r, const PathParams&) { return Logout(*d, r); });
  router.AddRaw(
      "POST", "/v1/web/signup/start",
      [d](const HttpRequest& r, const PathParams&) { return SignupStart(*d, r); }, kLogin);
  router.AddRaw(
      "POST", "/v1/web/signup/finish",
      [d](const HttpRequest& r, const PathParams&) { return SignupFinish(*d, r); }, kLogin);
}

}  // namespace gate::ca
