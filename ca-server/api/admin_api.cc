#include "ca-server/api/admin_api.h"

#include <algorithm>
#include <chrono>
#include <optional>

#include "ca-server/auth/user_admin.h"
#include "gate/duration.h"
#include "gate/json.h"
#include "gate/log.h"
#include "gate/names.h"
#include "gate/policy.h"

namespace gate::ca {
namespace {

// A signup link is a bearer credential; it should not outlive a working day.
constexpr std::chrono::seconds kMaxSignupTtl{48 * 3600};
// A lock with a TTL is a suspension, not a ban (that is a lock without one).
constexpr std::chrono::seconds kMaxLockTtl{366 * 24 * 3600};
// Lock messages reach users' terminals and every log line about the user.
constexpr std::size_t kMaxLockMessage = 256;
constexpr std::string_view kDefaultLockMessage = "locked by an administrator";

Result<std::chrono::seconds> SignupTtl(const Services& s, const Json::Value& body) {
  auto ttl = json::OptionalInt(body, "ttl_seconds", s.config.signup_token_ttl.count());
  if (!ttl) return Err(ttl.error());
  if (*ttl <= 0 || *ttl > kMaxSignupTtl.count()) {
    return Err(InvalidArgument("signup token TTL must be between 1s and " +
                               FormatDuration(kMaxSignupTtl)));
  }
  return std::chrono::seconds(*ttl);
}

// An optional body: POSTs such as reset and lock may come with no body.
Result<Json::Value> OptionalBody(const HttpRequest& req) {
  if (req.body.empty()) return Json::Value(Json::objectValue);
  return json::Parse(req.body);
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
  // A certificate the user's system does not trust takes the pin to sign up.
  if (s.tls_self_signed) out["ca_pin"] = s.ca_pin;
  return out;
}

// "logins" as given: each valid, duplicates dropped keeping the first.
Result<std::optional<std::vector<std::string>>> LoginsField(const Json::Value& body) {
  if (!body.isMember("logins")) return std::optional<std::vector<std::string>>();
  auto logins = json::GetStringArray(body, "logins");
  if (!logins) return Err(logins.error());
  std::vector<std::string> out;
  for (const auto& login : *logins) {
    GATE_RETURN_IF_ERROR(ValidateLogin(login));
    if (std::find(out.begin(), out.end(), login) == out.end()) out.push_back(login);
  }
  return std::optional(std::move(out));
}

UserAdmin Admin(Services& s) { return UserAdmin(s.store, s.signup, s.authenticator, s.audit); }

// "roles" as given: each a valid name of an existing role, duplicates
// dropped. NotFound names the first missing role.
Result<std::optional<std::vector<std::string>>> RolesField(Services& s, const Json::Value& body) {
  if (!body.isMember("roles")) return std::optional<std::vector<std::string>>();
  auto roles = json::GetStringArray(body, "roles");
  if (!roles) return Err(roles.error());
  std::vector<std::string> out;
  for (const auto& role : *roles) {
    GATE_RETURN_IF_ERROR(policy::ValidateRoleName(role));
    if (std::find(out.begin(), out.end(), role) == out.end()) out.push_back(role);
  }
  GATE_RETURN_IF_ERROR(Admin(s).CheckRolesExist(out));
  return std::optional(std::move(out));
}

Json::Value UserJson(const UserStatus& status) {
  const UserRecord& u = status.user;
  const std::optional<policy::Lock>& lock = status.lock;
  Json::Value item;
  item["name"] = u.name;
  item["logins"] = json::StringArray(u.logins);
  item["roles"] = json::StringArray(u.roles);
  item["created_at"] = Json::Int64(u.created_at);
  if (lock) {
    item["status"] = "locked";
    Json::Value l;
    l["expires_at"] = Json::Int64(lock->expires_at);
    l["message"] = lock->message;
    item["lock"] = l;
  } else {
    item["status"] = !u.signed_up() ? "pending signup" : status.throttled ? "locked out" : "active";
  }
  item["mfa"] = u.totp_secret.empty() ? "none" : "otp";
  return item;
}

Result<Json::Value> AddUser(Services& s, const HttpRequest& req) {
  auto body = json::Parse(req.body);
  if (!body) return Err(body.error());
  auto name = json::GetString(*body, "name");
  if (!name) return Err(name.error());
  GATE_RETURN_IF_ERROR(ValidateUserName(*name));
  auto logins = LoginsField(*body);
  if (!logins) return Err(logins.error());
  auto roles = RolesField(s, *body);
  if (!roles) return Err(roles.error());
  auto ttl = SignupTtl(s, *body);
  if (!ttl) return Err(ttl.error());

  const std::int64_t now = s.now();
  UserRecord user;
  user.name = *name;
  user.logins = logins->value_or(std::vector<std::string>{});
  user.roles = roles->value_or(std::vector<std::string>{});
  auto token = Admin(s).Add(std::move(user), *ttl, now);
  if (!token) return Err(token.error());
  return TokenReply(s, *name, *token, *ttl, now);
}

Result<Json::Value> ListUsers(Services& s) {
  auto users = Admin(s).List(s.now());
  if (!users) return Err(users.error());
  Json::Value list(Json::arrayValue);
  for (const UserStatus& status : *users) list.append(UserJson(status));
  Json::Value out;
  out["users"] = list;
  return out;
}

Result<Json::Value> UpdateUser(Services& s, const HttpRequest& req, const std::string& name) {
  GATE_RETURN_IF_ERROR(ValidateUserName(name));
  auto body = json::Parse(req.body);
  if (!body) return Err(body.error());
  auto logins = LoginsField(*body);
  if (!logins) return Err(logins.error());
  auto roles = RolesField(s, *body);
  if (!roles) return Err(roles.error());
  if (!logins->has_value() && !roles->has_value()) {
    return Err(InvalidArgument("give 'logins', 'roles' or both"));
  }
  auto updated = Admin(s).Update(name, *logins, *roles, s.now());
  if (!updated) return Err(updated.error());
  return UserJson(*updated);
}

Result<Json::Value> RemoveUser(Services& s, const std::string& name) {
  GATE_RETURN_IF_ERROR(ValidateUserName(name));
  GATE_RETURN_IF_ERROR(Admin(s).Remove(name, s.now()));
  Json::Value out;
  out["user"] = name;
  return out;
}

Result<Json::Value> ResetUser(Services& s, const HttpRequest& req, const std::string& name) {
  GATE_RETURN_IF_ERROR(ValidateUserName(name));
  auto body = OptionalBody(req);
  if (!body) return Err(body.error());
  auto ttl = SignupTtl(s, *body);
  if (!ttl) return Err(ttl.error());
  const std::int64_t now = s.now();
  auto token = Admin(s).Reset(name, *ttl, now);
  if (!token) return Err(token.error());
  return TokenReply(s, name, *token, *ttl, now);
}

Status ValidateLockMessage(std::string_view message) {
  if (message.size() > kMaxLockMessage) {
    return InvalidArgument("lock message must be at most " + std::to_string(kMaxLockMessage) +
                           " bytes");
  }
  for (unsigned char c : message) {
    if (c < 0x20 || c == 0x7f) {
      return InvalidArgument("lock message must not contain control characters");
    }
  }
  return Status::Ok();
}

Result<Json::Value> LockUser(Services& s, const HttpRequest& req, const std::string& name) {
  GATE_RETURN_IF_ERROR(ValidateUserName(name));
  auto body = OptionalBody(req);
  if (!body) return Err(body.error());
  auto ttl = json::OptionalInt(*body, "ttl_seconds", 0);
  if (!ttl) return Err(ttl.error());
  if (*ttl < 0 || *ttl > kMaxLockTtl.count()) {
    return Err(InvalidArgument("lock TTL must be between 1s and " + FormatDuration(kMaxLockTtl) +
                               " (or 0 for a lock until unlocked)"));
  }
  auto message = json::OptionalString(*body, "message");
  if (!message) return Err(message.error());
  GATE_RETURN_IF_ERROR(ValidateLockMessage(*message));
  if (message->empty()) *message = std::string(kDefaultLockMessage);

  const std::int64_t now = s.now();
  LockRecord lock;
  lock.user = name;
  lock.expires_at = *ttl == 0 ? 0 : now + *ttl;
  lock.message = *message;
  lock.created_at = now;
  GATE_RETURN_IF_ERROR(Admin(s).Lock(
      lock, (lock.expires_at == 0 ? std::string("until unlocked")
                                  : "for " + FormatDuration(std::chrono::seconds(*ttl))) +
                ": " + lock.message));
  Json::Value out;
  out["user"] = name;
  out["expires_at"] = Json::Int64(lock.expires_at);
  out["message"] = lock.message;
  return out;
}

Result<Json::Value> UnlockUser(Services& s, const std::string& name) {
  GATE_RETURN_IF_ERROR(ValidateUserName(name));
  GATE_RETURN_IF_ERROR(Admin(s).Unlock(name, s.now()));
  Json::Value out;
  out["user"] = name;
  return out;
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
             [s](const HttpRequest&, const PathParams&) { return ListUsers(*s); });
  router.Add("PUT", "/admin/v1/users/{name}", [s](const HttpRequest& r, const PathParams& p) {
    return UpdateUser(*s, r, p.at("name"));
  });
  router.Add("DELETE", "/admin/v1/users/{name}",
             [s](const HttpRequest&, const PathParams& p) { return RemoveUser(*s, p.at("name")); });
  router.Add(
      "POST", "/admin/v1/users/{name}/reset",
      [s](const HttpRequest& r, const PathParams& p) { return ResetUser(*s, r, p.at("name")); });
  router.Add("POST", "/admin/v1/users/{name}/lock", [s](const HttpRequest& r, const PathParams& p) {
    return LockUser(*s, r, p.at("name"));
  });
  router.Add("DELETE", "/admin/v1/users/{name}/lock",
             [s](const HttpRequest&, const PathParams& p) { return UnlockUser(*s, p.at("name")); });
  router.Add("GET", "/admin/v1/ca/{type}",
             [s](const HttpRequest&, const PathParams& p) { return ExportCa(*s, p.at("type")); });
  RegisterAdminRolesApi(router, services);
  RegisterAdminNodesApi(router, services);
  RegisterAdminAuditApi(router, services);
  RegisterAdminConnectorsApi(router, services);
}

}  // namespace gate::ca
