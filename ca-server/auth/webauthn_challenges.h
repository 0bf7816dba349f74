// The challenges gate-ca hands browsers for WebAuthn ceremonies: random
// (32 bytes from the CSPRNG), bound to one user and one purpose
// (registering a key, or a login's second factor), single-use and
// short-lived. Kept in memory: a restart of gate-ca only makes ceremonies
// under way start over.
//
// Issue replaces any outstanding challenge of the same (user, purpose), so
// each pair has at most one. Take removes and returns it, so a challenge is
// checked against a response at most once (webauthn::Verify*, with a
// constant-time compare): a wrong, replayed or expired response is refused
// and the ceremony must start again.
//
// Memory is bounded: at most max_outstanding challenges; when full, expired
// ones are dropped first, then Issue refuses with ResourceExhausted.
//
// Thread safety: all methods may be called concurrently.
#ifndef GATE_CA_AUTH_WEBAUTHN_CHALLENGES_H_
#define GATE_CA_AUTH_WEBAUTHN_CHALLENGES_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "gate/status.h"

namespace gate::ca {

enum class ChallengePurpose { kRegister, kLogin };

class WebauthnChallenges {
 public:
  struct Options {
    std::chrono::seconds ttl{300};  // WebAuthn's own default timeout is 5 minutes
    std::size_t max_outstanding = 10000;
  };
  explicit WebauthnChallenges(Options options) : options_(options) {}

  // A new challenge for (user, purpose), valid until now + ttl. Internal if
  // the RNG fails; ResourceExhausted when max_outstanding are live.
  Result<std::vector<std::uint8_t>> Issue(const std::string& user, ChallengePurpose purpose,
                                          std::int64_t now);

  // The outstanding challenge of (user, purpose), removed. Unauthenticated
  // ("challenge expired or already used") if there is none or it expired by
  // now (an expired one is removed too).
  Result<std::vector<std::uint8_t>> Take(const std::string& user, ChallengePurpose purpose,
                                         std::int64_t now);

 private:
  struct Outstanding {
    std::vector<std::uint8_t> challenge;
    std::int64_t expires_at = 0;
  };
  using Key = std::pair<std::string, ChallengePurpose>;

  const Options options_;
  std::mutex mu_;
  std::map<Key, Outstanding> outstanding_;  // guarded by mu_
};

}  // namespace gate::ca

#endif  // GATE_CA_AUTH_WEBAUTHN_CHALLENGES_H_
