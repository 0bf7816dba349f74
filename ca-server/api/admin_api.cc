#include "ca-server/api/admin_api.h"

#include <chrono>

#include "gate/duration.h"
#include "gate/json.h"
#include "gate/log.h"
#include "gate/names.h"

namespace gate::ca {
namespace {

// A signup link is a bearer credential; it should not outlive a working day.
constexpr std::chrono::seconds kMaxSignupTtl{48 * 3600};

Result<std::chrono::seconds> SignupTtl(const Services& s, const Json::Value& body) {
  auto ttl = json::OptionalInt(body, "ttl_seconds", s.config.signup_token_ttl.count());
  if (!ttl) return Err(ttl.error());
  if (*ttl <= 0 || *ttl > kMaxSignupTtl.count()) {
    return Err(InvalidArgument("signup token TTL must be between 1s and " +
                               FormatDuration(kMaxSignupTtl)));
  }
  return std::chrono::seconds(*ttl);
}

Json::Value TokenReply(const Services& s, const std::string& user, const std::string& token,
                       std::chrono::seconds ttl, std::int64_t now) {
  Json::Value out;
  out["user"] = user;
  out["token"] = token;
  out["url"] = "https://" + s.config.public_addr.ToString() + "/web/newuser/" + token;
  out["ttl_seconds"] = Json::Int64(ttl.count());
  out["expires_at"] = Json::Int64(now + ttl.count());
  out["proxy"] = s.config.public_addr.ToString();
  return out;
}

Result<Json::Value> AddUser(Services& s, const HttpRequest& req) {
  auto body = json::Parse(req.body);
  if (!body) return Err(body.error());
  auto name = json::GetString(*body, "name");
  if (!name) return Err(name.error());
  GATE_RETURN_IF_ERROR(ValidateUserName(*name));
  auto logins = json::OptionalStringArray(*body, "logins");
  if (!logins) return Err(logins.error());
  if (logins->empty()) logins->push_back(*name);
  for (const auto& login : *logins) GATE_RETURN_IF_ERROR(ValidateLogin(login));
  auto ttl = SignupTtl(s, *body);
  if (!ttl) return Err(ttl.error());

  const std::int64_t now = s.now();
  UserRecord user;
  user.name = *name;
  user.logins = *logins;
  user.created_at = now;
  GATE_RETURN_IF_ERROR(s.store.CreateUser(user));
  auto token = s.signup.CreateToken(*name, *ttl, now);
  if (!token) {
    // Keep "a rejected request changes nothing": no user without a token.
    if (Status undo = s.store.DeleteUser(*name); !undo.ok()) {
      log::Error("cannot undo creation of user " + *name + ": " + undo.ToString());
    }
    return Err(token.error());
  }
  s.audit.Record({now, "user.create", *name, "admin", true, ""});
  return TokenReply(s, *name, *token, *ttl, now);
}

Result<Json::Value> ListUsers(Services& s, const std::int64_t now) {
  auto users = s.store.ListUsers();
  if (!users) return Err(users.error());
  Json::Value list(Json::arrayValue);
  for (const auto& u : *users) {
    Json::Value item;
    item["name"] = u.name;
    item["logins"] = json::StringArray(u.logins);
    item["roles"] = json::StringArray(u.roles);
    item["created_at"] = Json::Int64(u.created_at);
    item["status"] = !u.signed_up() ? "pending signup" : u.locked_until > now ? "locked out" : "active";
    item["mfa"] = u.totp_secret.empty() ? "none" : "otp";
    list.append(item);
  }
  Json::Value out;
  out["users"] = list;
  return out;
}

Result<Json::Value> RemoveUser(Services& s, const std::string& name) {
  GATE_RETURN_IF_ERROR(ValidateUserName(name));
  GATE_RETURN_IF_ERROR(s.store.DeleteUser(name));
  s.audit.Record({s.now(), "user.delete", name, "admin", true, ""});
  Json::Value out;
  out["user"] = name;
  return out;
}

Result<Json::Value> ResetUser(Services& s, const HttpRequest& req, const std::string& name) {
  GATE_RETURN_IF_ERROR(ValidateUserName(name));
  Json::Value empty(Json::objectValue);
  Json::Value body = empty;
  if (!req.body.empty()) {
    auto parsed = json::Parse(req.body);
    if (!parsed) return Err(parsed.error());
    body = *parsed;
  }
  auto ttl = SignupTtl(s, body);
  if (!ttl) return Err(ttl.error());
  const std::int64_t now = s.now();
  GATE_RETURN_IF_ERROR(s.store.ResetUserCredentials(name));
  auto token = s.signup.CreateToken(name, *ttl, now);
  if (!token) return Err(token.error());
  s.audit.Record({now, "user.reset", name, "admin", true, ""});
  return TokenReply(s, name, *token, *ttl, now);
}

Result<Json::Value> ExportCa(Services& s, const std::string& type) {
  Json::Value out;
  out["type"] = type;
  Json::Value keys(Json::arrayValue);
  if (type == "user") {
    keys.append(s.user_ca.AuthorizedKey("gate user CA " + s.config.cluster_name));
  } else if (type == "host") {
    keys.append(s.host_ca.AuthorizedKey("gate host CA " + s.config.cluster_name));
  } else {
    return Err(InvalidArgument("CA type must be 'user' or 'host'"));
  }
  out["keys"] = keys;
  out["cluster_name"] = s.config.cluster_name;
  return out;
}

}  // namespace

void RegisterAdminApi(Router& router, Services& services) {
  Services* s = &services;
  router.Add("POST", "/admin/v1/users",
             [s](const HttpRequest& r, const PathParams&) { return AddUser(*s, r); });
  router.Add("GET", "/admin/v1/users",
             [s](const HttpRequest&, const PathParams&) { return ListUsers(*s, s->now()); });
  router.Add("DELETE", "/admin/v1/users/{name}",
             [s](const HttpRequest&, const PathParams& p) { return RemoveUser(*s, p.at("name")); });
  router.Add("POST", "/admin/v1/users/{name}/reset", [s](const HttpRequest& r, const PathParams& p) {
    return ResetUser(*s, r, p.at("name"));
  });
  router.Add("GET", "/admin/v1/ca/{type}",
             [s](const HttpRequest&, const PathParams& p) { return ExportCa(*s, p.at("type")); });
}

}  // namespace gate::ca
