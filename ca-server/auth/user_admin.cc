#include "ca-server/auth/user_admin.h"

#include <utility>

#include "ca-server/auth/locks.h"
#include "gate/log.h"

namespace gate::ca {
namespace {

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& item : v) out += (out.empty() ? "" : ",") + item;
  return out;
}

std::string ListsDetail(const UserRecord& user) {
  return "logins " + Join(user.logins) + "; roles " + Join(user.roles);
}

}  // namespace

Status UserAdmin::CheckRolesExist(const std::vector<std::string>& roles) {
  for (const std::string& role : roles) {
    auto found = store_.GetRole(role);
    if (!found) return found.error();
  }
  return Status::Ok();
}

Result<std::string> UserAdmin::Add(UserRecord user, std::chrono::seconds ttl, std::int64_t now) {
  // Without roles the user needs a login of its own to be of any use; with
  // roles, the admin said what the user may do.
  if (user.logins.empty() && user.roles.empty()) user.logins.push_back(user.name);
  user.created_at = now;
  GATE_RETURN_IF_ERROR(store_.CreateUser(user));
  auto token = signup_.CreateToken(user.name, ttl, now);
  if (!token) {
    // Keep "a rejected request changes nothing": no user without a token.
    if (Status undo = store_.DeleteUser(user.name); !undo.ok()) {
      log::Error("cannot undo creation of user " + user.name + ": " + undo.ToString());
    }
    return Err(token.error());
  }
  audit_.Record({now, "user.create", user.name, "admin", true, ListsDetail(user)});
  return token;
}

Result<UserStatus> UserAdmin::StatusOf(UserRecord user, std::int64_t now) {
  UserStatus status;
  auto lock = ActiveLockOf(store_, user.name, now);
  if (!lock) return Err(lock.error());
  auto throttled = authenticator_.Throttled(user.name, now);
  if (!throttled) return Err(throttled.error());
  status.user = std::move(user);
  status.lock = *std::move(lock);
  status.throttled = *throttled;
  return status;
}

Result<std::vector<UserStatus>> UserAdmin::List(std::int64_t now) {
  auto users = store_.ListUsers();
  if (!users) return Err(users.error());
  auto locks = store_.ListLocks();
  if (!locks) return Err(locks.error());
  const std::vector<policy::Lock> in_force = LocksInForce(*locks, now);
  std::vector<UserStatus> out;
  for (UserRecord& user : *users) {
    UserStatus& status = out.emplace_back();
    if (const policy::Lock* l = policy::ActiveLock(in_force, user.name, now); l != nullptr) {
      status.lock = *l;
    }
    auto throttled = authenticator_.Throttled(user.name, now);
    if (!throttled) return Err(throttled.error());
    status.throttled = *throttled;
    status.user = std::move(user);
  }
  return out;
}

Result<UserStatus> UserAdmin::Update(const std::string& name,
                                     const std::optional<std::vector<std::string>>& logins,
                                     const std::optional<std::vector<std::string>>& roles,
                                     std::int64_t now) {
  auto current = store_.GetUser(name);
  if (!current) return Err(current.error());
  if (logins.value_or(current->logins).empty() && roles.value_or(current->roles).empty()) {
    return Err(InvalidArgument("user " + name +
                               " would have neither logins nor roles; give at least one"));
  }
  auto updated = store_.UpdateUser(name, logins, roles);
  if (!updated) return Err(updated.error());
  audit_.Record({now, "user.update", name, "admin", true, ListsDetail(*updated)});
  return StatusOf(*std::move(updated), now);
}

Status UserAdmin::Remove(const std::string& name, std::int64_t now) {
  GATE_RETURN_IF_ERROR(store_.DeleteUser(name));
  audit_.Record({now, "user.delete", name, "admin", true, ""});
  return Status::Ok();
}

Result<std::string> UserAdmin::Reset(const std::string& name, std::chrono::seconds ttl,
                                     std::int64_t now) {
  GATE_RETURN_IF_ERROR(store_.ResetUserCredentials(name));
  auto token = signup_.CreateToken(name, ttl, now);
  if (!token) return Err(token.error());
  audit_.Record({now, "user.reset", name, "admin", true, ""});
  return token;
}

Status UserAdmin::Lock(const LockRecord& lock, const std::string& audit_detail) {
  if (lock.user.empty()) return InvalidArgument("lock user must not be empty");
  GATE_RETURN_IF_ERROR(store_.SetLock(lock));
  audit_.Record({lock.created_at, "user.lock", lock.user, "admin", true, audit_detail});
  return Status::Ok();
}

Status UserAdmin::Unlock(const std::string& name, std::int64_t now) {
  GATE_RETURN_IF_ERROR(store_.DeleteLock(name));
  audit_.Record({now, "user.unlock", name, "admin", true, ""});
  return Status::Ok();
}

}  // namespace gate::ca
