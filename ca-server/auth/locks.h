// Admin locks as policy sees them. Every "is a lock in force" decision in
// gate-ca goes through here, and from here through policy::ActiveLock, so
// certificate issuance, second-factor checks, the admin API's user status
// and the nodes' policy snapshot all agree on it.
#ifndef GATE_CA_AUTH_LOCKS_H_
#define GATE_CA_AUTH_LOCKS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ca-server/store/role_store.h"
#include "gate/policy.h"
#include "gate/status.h"

namespace gate::ca {

// Every lock recorded for user (expired ones too: policy::ActiveLock decides).
Result<std::vector<policy::Lock>> LocksOf(RoleStore& store, const std::string& user);

// The lock in force for user at now, if any (policy::ActiveLock). Store
// errors as they are.
Result<std::optional<policy::Lock>> ActiveLockOf(RoleStore& store, const std::string& user,
                                                 std::int64_t now);

// Of locks, those in force at now (policy::ActiveLock), in their order.
std::vector<policy::Lock> LocksInForce(const std::vector<LockRecord>& locks, std::int64_t now);

// PermissionDenied("user alice is locked: <message>") if a lock is in force.
Status CheckNotLocked(RoleStore& store, const std::string& user, std::int64_t now);

}  // namespace gate::ca

#endif  // GATE_CA_AUTH_LOCKS_H_
