#include "ca-server/issuer/grant.h"

#include <string>
#include <vector>

#include "ca-server/auth/locks.h"

namespace gate::ca {

Result<policy::Grant> DeriveGrant(Store& store, const UserRecord& user, std::int64_t now) {
  std::vector<policy::Role> roles;
  for (const std::string& name : user.roles) {
    auto role = store.GetRole(name);
    if (role) {
      roles.push_back(*std::move(role));
    } else if (role.error().code() != Code::kNotFound) {
      return Err(role.error());
    }
  }
  auto locks = LocksOf(store, user.name);
  if (!locks) return Err(locks.error());
  return policy::ComputeGrant({user.name, user.logins, user.roles}, roles, *locks, now);
}

}  // namespace gate::ca
