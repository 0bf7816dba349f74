// The admin locks of one user, as the policy functions take them. Shared by
// certificate issuance and second-factor checks, so a lock stops both.
#ifndef GATE_CA_AUTH_LOCKS_H_
#define GATE_CA_AUTH_LOCKS_H_

#include <string>
#include <vector>

#include "ca-server/store/role_store.h"
#include "gate/policy.h"
#include "gate/status.h"

namespace gate::ca {

// Every lock recorded for user (expired ones too: policy::ActiveLock decides).
Result<std::vector<policy::Lock>> LocksOf(RoleStore& store, const std::string& user);

// PermissionDenied("user alice is locked: <message>") if a lock is in force.
Status CheckNotLocked(RoleStore& store, const std::string& user, std::int64_t now);

}  // namespace gate::ca

#endif  // GATE_CA_AUTH_LOCKS_H_
