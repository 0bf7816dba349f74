#include "recorder/session/policy_recheck.h"

#include "gate/log.h"
#include "gate/session_cover.h"

namespace gate::recorder {

std::optional<PolicyEnding> RecheckSession(const node::CacheLocation& cache,
                                           const std::string& user, std::uint64_t serial,
                                           std::int64_t now) {
  // Only this user's entries, its locks and this serial: cheap at any cluster size.
  auto snapshot = node::ReadLoginSnapshot(cache, user, serial);
  if (!snapshot) {
    log::Error("re-check of " + user +
               "'s session: the policy cache cannot be read: " + snapshot.error().ToString());
    return PolicyEnding{"cache", "the node's policy cache cannot be read"};
  }
  auto reason = policy::CoveredByLockOrRevocation(*snapshot, user, serial, now);
  if (!reason) return std::nullopt;
  return PolicyEnding{std::string(reason->CauseName()), reason->UserNotice()};
}

}  // namespace gate::recorder
