#include "ca-server/auth/webauthn_challenges.h"

#include "ca-server/auth/webauthn.h"
#include "gate/bytes.h"

namespace gate::ca {

Result<std::vector<std::uint8_t>> WebauthnChallenges::Issue(const std::string& user,
                                                            ChallengePurpose purpose,
                                                            std::int64_t now) {
  Result<std::string> random = RandomBytes(webauthn::kChallengeBytes);
  if (!random) return Err(random.error());
  std::vector<std::uint8_t> challenge(random->begin(), random->end());
  std::lock_guard<std::mutex> lock(mu_);
  const Key key{user, purpose};
  if (outstanding_.size() >= options_.max_outstanding && !outstanding_.contains(key)) {
    std::erase_if(outstanding_, [&](const auto& entry) { return entry.second.expires_at <= now; });
    if (outstanding_.size() >= options_.max_outstanding) {
      return Err(ResourceExhausted("too many security key ceremonies under way; try again"));
    }
  }
  outstanding_[key] = Outstanding{challenge, now + options_.ttl.count()};
  return challenge;
}

Result<std::vector<std::uint8_t>> WebauthnChallenges::Take(const std::string& user,
                                                           ChallengePurpose purpose,
                                                           std::int64_t now) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = outstanding_.find(Key{user, purpose});
  if (it == outstanding_.end()) return Err(Unauthenticated("challenge expired or already used"));
  Outstanding found = std::move(it->second);
  outstanding_.erase(it);
  if (now >= found.expires_at) return Err(Unauthenticated("challenge expired or already used"));
  return std::move(found.challenge);
}

}  // namespace gate::ca
