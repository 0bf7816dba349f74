#include "sshd-hooks/principals/staleness.h"

#include "gate/duration.h"

namespace gate::hooks {

Result<StaleCache> ParseStaleCache(std::string_view text) {
  if (text == "allow") return StaleCache::kAllow;
  if (text == "deny") return StaleCache::kDeny;
  return Err(
      InvalidArgument("stale cache policy must be allow or deny, not '" + std::string(text) + "'"));
}

std::string_view StaleCacheName(StaleCache mode) {
  return mode == StaleCache::kDeny ? "deny" : "allow";
}

StalenessVerdict JudgeStaleness(const StalenessRule& rule, const Result<std::int64_t>& stamp,
                                std::int64_t now) {
  const std::int64_t max_age = rule.max_age.count();
  std::string reason;
  if (!stamp) {
    reason = "age unknown, no usable sync stamp: " + stamp.error().message();
  } else if (now - *stamp > max_age) {
    reason = "last successful sync " + FormatDuration(std::chrono::seconds(now - *stamp)) +
             " ago, past the " + FormatDuration(rule.max_age) + " limit";
  } else if (*stamp - now > max_age) {
    reason = "last successful sync stamped " + FormatDuration(std::chrono::seconds(*stamp - now)) +
             " in the future; check the clock";
  } else {
    return {};
  }
  StalenessVerdict verdict;
  verdict.deny = rule.mode == StaleCache::kDeny;
  verdict.reason = "stale policy cache (" + reason + ")";
  return verdict;
}

}  // namespace gate::hooks
