// UserAdmin: what an administrator does to users (gatectl users ...,
// /admin/v1/users): create with a signup link, list with status, change
// logins and roles, delete, reset, lock and unlock. The rules and the audit
// trail of each live here; the admin API only translates HTTP+JSON.
//
// Every method audits its success as "user.<verb>" with source "admin";
// failures change nothing and are returned as they are (store errors,
// NotFound for a missing user or role, InvalidArgument as stated).
// Thread-safe as the services it is built on; cheap to construct per call.
#ifndef GATE_CA_AUTH_USER_ADMIN_H_
#define GATE_CA_AUTH_USER_ADMIN_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ca-server/audit/audit.h"
#include "ca-server/auth/authenticator.h"
#include "ca-server/auth/signup.h"
#include "ca-server/store/store.h"
#include "gate/policy.h"
#include "gate/status.h"

namespace gate::ca {

// A user as the admin sees it.
struct UserStatus {
  UserRecord user;
  std::optional<policy::Lock> lock;  // the admin lock in force, if any
  bool throttled = false;            // failed logins throttle the name now
};

class UserAdmin {
 public:
  UserAdmin(Store& store, SignupService& signup, Authenticator& authenticator, AuditLog& audit)
      : store_(store), signup_(signup), authenticator_(authenticator), audit_(audit) {}

  // NotFound naming the first role in roles that does not exist.
  Status CheckRolesExist(const std::vector<std::string>& roles);

  // Creates user, created at now (a user with neither logins nor roles gets
  // a login of its own name) and returns a signup token valid for ttl.
  // AlreadyExists if the name is taken; if no token can be made, the user is
  // removed again.
  Result<std::string> Add(UserRecord user, std::chrono::seconds ttl, std::int64_t now);

  // Every user, by name, with its status at now.
  Result<std::vector<UserStatus>> List(std::int64_t now);

  // Replaces the user's logins and/or roles (nullopt keeps one). NotFound
  // for a missing user or role; InvalidArgument if the user would be left
  // with neither logins nor roles.
  Result<UserStatus> Update(const std::string& name,
                            const std::optional<std::vector<std::string>>& logins,
                            const std::optional<std::vector<std::string>>& roles, std::int64_t now);

  Status Remove(const std::string& name, std::int64_t now);

  // Forgets the user's credentials and returns a new signup token.
  Result<std::string> Reset(const std::string& name, std::chrono::seconds ttl, std::int64_t now);

  // Sets (or replaces) the user's lock; audit_detail says for how long.
  // InvalidArgument "lock user must not be empty" for a lock naming no user;
  // NotFound if the user does not exist.
  Status Lock(const LockRecord& lock, const std::string& audit_detail);
  Status Unlock(const std::string& name, std::int64_t now);

 private:
  Result<UserStatus> StatusOf(UserRecord user, std::int64_t now);

  Store& store_;
  SignupService& signup_;
  Authenticator& authenticator_;
  AuditLog& audit_;
};

}  // namespace gate::ca

#endif  // GATE_CA_AUTH_USER_ADMIN_H_
