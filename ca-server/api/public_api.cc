#include "ca-server/api/public_api.h"

#include <chrono>

#include "ca-server/api/cli_command.h"
#include "gate/certificate.h"
#include "gate/json.h"
#include "gate/names.h"
#include "gate/secret.h"

namespace gate::ca {
namespace {

constexpr std::string_view kVersion = "0.1.0";

Json::Value CaKeyList(const ssh::Ed25519PublicKey& key) {
  Json::Value list(Json::arrayValue);
  list.append(key.AuthorizedKey());
  return list;
}

Json::Value PingBody(const Services& s) {
  Json::Value body;
  body["cluster_name"] = s.config.cluster_name;
  body["server_version"] = std::string(kVersion);
  body["public_addr"] = s.config.public_addr.ToString();
  // The login page's terminal hint (with --ca-pin when the certificate is
  // self-signed, as the signup page's).
  body["login_command"] = GateCommand(s, "login");
  Json::Value auth;
  auth["type"] = s.config.authentication.type;
  auth["second_factor"] = std::string(SecondFactorName(s.config.authentication.second_factor));
  auth["password_min_length"] = s.config.authentication.password_min_length;
  // The login page's buttons and `gate login`'s default (docs/connectors.md).
  auth["connector_name"] = s.config.authentication.connector_name;
  auth["connectors"] = Json::Value(Json::arrayValue);
  for (const ConnectorConfig& c : s.config.authentication.connectors) {
    Json::Value item;
    item["name"] = c.name;
    item["type"] = c.type;
    auth["connectors"].append(item);
  }
  body["auth"] = auth;
  body["user_ca"] = CaKeyList(s.user_ca);
  body["host_ca"] = CaKeyList(s.host_ca);
  return body;
}

Status CheckRate(Services& s, const HttpRequest& req) { return CheckAuthRate(s, req); }

Result<Json::Value> SignupStart(Services& s, const HttpRequest& req) {
  GATE_RETURN_IF_ERROR(CheckRate(s, req));
  auto body = json::Parse(req.body);
  if (!body) return Err(body.error());
  auto token = json::GetString(*body, "token");
  if (!token) return Err(token.error());
  auto offer = s.signup.Start(*token, s.now());
  if (!offer) return Err(offer.error());
  Json::Value out;
  out["user"] = offer->user;
  out["second_factor"] = std::string(SecondFactorName(s.config.authentication.second_factor));
  out["password_min_length"] = s.config.authentication.password_min_length;
  out["expires_at"] = Json::Int64(offer->expires_at);
  if (!offer->totp_uri.empty()) out["totp_uri"] = offer->totp_uri;
  return out;
}

Result<Json::Value> SignupFinish(Services& s, const HttpRequest& req) {
  GATE_RETURN_IF_ERROR(CheckRate(s, req));
  auto body = json::Parse(req.body);
  if (!body) return Err(body.error());
  auto token = json::GetString(*body, "token");
  if (!token) return Err(token.error());
  auto password = json::GetString(*body, "password");
  if (!password) return Err(password.error());
  auto otp = json::OptionalString(*body, "otp_code");
  if (!otp) return Err(otp.error());
  auto user =
      s.signup.Finish(*token, SecretString(*password), SecretString(*otp), req.source, s.now());
  if (!user) return Err(user.error());
  Json::Value out;
  out["user"] = *user;
  return out;
}

Json::Value ToJsonArray(const std::vector<std::string>& v) { return json::StringArray(v); }

Result<Json::Value> Login(Services& s, const HttpRequest& req) {
  GATE_RETURN_IF_ERROR(CheckRate(s, req));
  auto body = json::Parse(req.body);
  if (!body) return Err(body.error());
  auto user = json::GetString(*body, "user");
  if (!user) return Err(user.error());
  GATE_RETURN_IF_ERROR(ValidateUserName(*user));
  auto password = json::GetString(*body, "password");
  if (!password) return Err(password.error());
  auto otp = json::OptionalString(*body, "otp_code");
  if (!otp) return Err(otp.error());
  auto key_line = json::GetString(*body, "public_key");
  if (!key_line) return Err(key_line.error());
  auto ttl = json::OptionalInt(*body, "ttl_seconds", 0);
  if (!ttl) return Err(ttl.error());
  if (*ttl < 0) return Err(InvalidArgument("field 'ttl_seconds' must not be negative"));
  // Parse the key before spending an argon2 verification on the request.
  auto key = ssh::Ed25519PublicKey::FromAuthorizedKey(*key_line);
  if (!key) return Err(InvalidArgument("public_key: " + key.error().message()));

  const std::int64_t now = s.now();
  auto record = s.authenticator.Authenticate(*user, SecretString(*password), SecretString(*otp),
                                             req.source, now, ClientTime(req, now));
  if (!record) return Err(record.error());

  // Locks are decided here, by the issuer's policy decision, after the
  // password and code were verified: refusing earlier would tell anyone who
  // merely knows a user name that the account is locked.
  return LoginReply(s, *record, *key, std::chrono::seconds(*ttl), req.source, now);
}

}  // namespace

Result<Json::Value> LoginReply(Services& s, const UserRecord& user,
                               const ssh::Ed25519PublicKey& key, std::chrono::seconds ttl,
                               const std::string& source, std::int64_t now) {
  auto issued = s.issuer.IssueUserCertificate(user, key, ttl, now, source);
  if (!issued) {
    s.audit.Record({now, "user.login", user.name, source, false, issued.error().message()});
    return Err(issued.error());
  }
  const auto& spec = issued->certificate.spec;
  s.audit.Record({now, "user.login", user.name, source, true,
                  "certificate serial " + std::to_string(spec.serial) + " valid until " +
                      std::to_string(spec.valid_before)});

  Json::Value out;
  out["certificate"] = ssh::CertificateLine(issued->certificate, user.name);
  out["user"] = user.name;
  out["cluster_name"] = s.config.cluster_name;
  out["roles"] = ToJsonArray(issued->roles);
  out["logins"] = ToJsonArray(spec.principals);
  out["extensions"] = ToJsonArray(issued->extensions);
  out["serial"] = std::to_string(spec.serial);  // a string: JSON numbers lose 64-bit precision
  out["valid_after"] = Json::UInt64(spec.valid_after);
  out["valid_before"] = Json::UInt64(spec.valid_before);
  out["user_ca"] = CaKeyList(s.user_ca);
  out["host_ca"] = CaKeyList(s.host_ca);
  if (user.sso()) out["connector"] = user.connector;
  return out;
}

// Signup, login and node join are the paths an attacker hammers: one bucket
// per source.
Status CheckAuthRate(Services& s, const HttpRequest& req) {
  if (!s.auth_limiter.Allow(req.source, std::chrono::steady_clock::now())) {
    s.audit.RecordRefusal(req.source, req.method + " " + RedactPath(req.path), s.now());
    return ResourceExhausted("too many requests; slow down and try again in a minute");
  }
  return Status::Ok();
}

void RegisterPublicApi(Router& router, Services& services) {
  Services* s = &services;
  router.Add("GET", "/v1/ping", [s](const HttpRequest&, const PathParams&) -> Result<Json::Value> {
    return PingBody(*s);
  });
  router.Add(
      "POST", "/v1/signup/start",
      [s](const HttpRequest& r, const PathParams&) { return SignupStart(*s, r); },
      TrafficClass::kLogin);
  router.Add(
      "POST", "/v1/signup/finish",
      [s](const HttpRequest& r, const PathParams&) { return SignupFinish(*s, r); },
      TrafficClass::kLogin);
  router.Add(
      "POST", "/v1/login", [s](const HttpRequest& r, const PathParams&) { return Login(*s, r); },
      TrafficClass::kLogin);
}

}  // namespace gate::ca
