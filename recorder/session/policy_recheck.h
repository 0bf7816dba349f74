// Ending a live recorded session that a lock or a revocation now covers
// (docs/recording.md, "Locks end sessions"). gate-node signals the recorder
// (SIGUSR1) after a sync installed a cache that covers the session; the
// recorder does not take the signal's word for it but re-reads the cache
// itself and decides with policy::CoveredByLockOrRevocation, so a stray or
// mistaken signal ends nothing.
#ifndef GATE_RECORDER_SESSION_POLICY_RECHECK_H_
#define GATE_RECORDER_SESSION_POLICY_RECHECK_H_

#include <cstdint>
#include <optional>
#include <string>

#include "gate/node_cache.h"

namespace gate::recorder {

// Why the session ends, as the recording and the user see it.
struct PolicyEnding {
  std::string cause;   // "locked", "revoked", or "cache" (the cache cannot be read)
  std::string notice;  // for the user's terminal, e.g. "your certificate was revoked"
};

// Re-reads the node's policy cache and answers whether the session of Gate
// user `user`, authenticated with a certificate of serial `serial`, must
// end at `now`: the lock or revocation that covers it, nullopt if none. A
// cache that cannot be read or parsed ends the session (fail closed: it is
// what gate-node had just installed, so something is wrong with it), with
// cause "cache"; the details go to the log only.
std::optional<PolicyEnding> RecheckSession(const node::CacheLocation& cache,
                                           const std::string& user, std::uint64_t serial,
                                           std::int64_t now);

}  // namespace gate::recorder

#endif  // GATE_RECORDER_SESSION_POLICY_RECHECK_H_
