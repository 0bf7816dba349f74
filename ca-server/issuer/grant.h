// The policy decision for one user, from the store: the user's own roles and
// admin lock only, so a role or lock of someone else cannot change it. The
// front end's Issuer and the signer both decide with this one function.
#ifndef GATE_CA_ISSUER_GRANT_H_
#define GATE_CA_ISSUER_GRANT_H_

#include <cstdint>

#include "ca-server/store/store.h"
#include "gate/policy.h"
#include "gate/status.h"

namespace gate::ca {

// policy::ComputeGrant over user's roles (a role that no longer exists grants
// nothing) and locks at now: PermissionDenied while a lock is in force,
// FailedPrecondition if the grant has no logins, or a store error.
Result<policy::Grant> DeriveGrant(Store& store, const UserRecord& user, std::int64_t now);

}  // namespace gate::ca

#endif  // GATE_CA_ISSUER_GRANT_H_
