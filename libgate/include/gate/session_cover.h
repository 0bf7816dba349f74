// Which live sessions a lock or a revocation ends (docs/node-setup.md,
// "Locks end sessions"). A pure function over the node's policy snapshot,
// shared by gate-node (which finds the sessions to end after a sync) and
// gate-record (which re-checks its own session when told to), so both
// decide the same way. No I/O.
#ifndef GATE_SESSION_COVER_H_
#define GATE_SESSION_COVER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "gate/policy.h"

namespace gate::policy {

// Why a live session must end.
struct SessionEndReason {
  enum class Cause { kLocked, kRevoked };
  Cause cause = Cause::kLocked;
  std::string lock_message;  // the lock's message (kLocked; may be empty)

  // One word for logs and the recording's "x" event: "locked", "revoked".
  std::string_view CauseName() const;
  // What the session's user is told: "your access was locked by an
  // administrator: <message>" (without ": ..." for an empty message) or
  // "your certificate was revoked". Control characters in the message are
  // replaced by '?', so a message cannot drive the user's terminal.
  std::string UserNotice() const;
};

// The reason a session of Gate user `user` (the certificate's key id),
// authenticated with a certificate of serial `serial`, may not go on at
// `now`: a lock in force for the user (ActiveLock), else the serial among
// the snapshot's revoked_serials (the two checks DecideLogin makes at
// login). nullopt when neither holds: the session goes on. A user the
// snapshot no longer lists is not covered (removing a user does not end
// their sessions; a lock does).
std::optional<SessionEndReason> CoveredByLockOrRevocation(const Snapshot& snapshot,
                                                          std::string_view user,
                                                          std::uint64_t serial, std::int64_t now);

}  // namespace gate::policy

#endif  // GATE_SESSION_COVER_H_
