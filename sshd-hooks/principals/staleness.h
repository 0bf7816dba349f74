// What gate-principals does with a policy cache gate-node sync has not
// refreshed for a while (docs/node-setup.md, "A stale cache"). The node
// operator chooses (gate-node join --stale-cache), and gate-node writes the
// choice into gate-principals' command line in the sshd drop-in, since the
// hook reads no configuration file.
#ifndef GATE_SSHD_HOOKS_PRINCIPALS_STALENESS_H_
#define GATE_SSHD_HOOKS_PRINCIPALS_STALENESS_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "gate/status.h"

namespace gate::hooks {

// kAllow (the default): a stale cache is logged, and logins are decided
// from it as usual; denying every login while gate-ca is unreachable is
// the worse failure for most sites. kDeny: past max_age, every login is
// refused until a sync succeeds.
enum class StaleCache { kAllow, kDeny };

inline constexpr std::chrono::seconds kDefaultMaxCacheAge{10 * 60};

struct StalenessRule {
  StaleCache mode = StaleCache::kAllow;
  std::chrono::seconds max_age = kDefaultMaxCacheAge;
};

// "allow" or "deny"; InvalidArgument naming both otherwise.
Result<StaleCache> ParseStaleCache(std::string_view text);
std::string_view StaleCacheName(StaleCache mode);

struct StalenessVerdict {
  // Under kDeny only: refuse the login.
  bool deny = false;
  // "" while the cache is fresh; otherwise why it is stale (or of unknown
  // age), for the log line.
  std::string reason;
};

// The decision for a login at `now`, given what node::ReadSyncStamp
// returned. Fresh: a stamp no older than rule.max_age (a stamp up to
// max_age in the future counts as fresh, for clocks that stepped back).
// Anything else (too old, too far in the future, missing, unreadable,
// corrupt) is stale: deny under kDeny, a reason to log under kAllow. Pure:
// no I/O, no clock.
StalenessVerdict JudgeStaleness(const StalenessRule& rule, const Result<std::int64_t>& stamp,
                                std::int64_t now);

}  // namespace gate::hooks

#endif  // GATE_SSHD_HOOKS_PRINCIPALS_STALENESS_H_
