#include "gate/session_cover.h"

#include <algorithm>

namespace gate::policy {

std::string_view SessionEndReason::CauseName() const {
  return cause == Cause::kLocked ? "locked" : "revoked";
}

std::string SessionEndReason::UserNotice() const {
  if (cause == Cause::kRevoked) return "your certificate was revoked";
  std::string notice = "your access was locked by an administrator";
  if (lock_message.empty()) return notice;
  notice += ": ";
  for (const char c : lock_message) {
    const auto byte = static_cast<unsigned char>(c);
    notice += byte < 0x20 || byte == 0x7f ? '?' : c;
  }
  return notice;
}

std::optional<SessionEndReason> CoveredByLockOrRevocation(const Snapshot& snapshot,
                                                          std::string_view user,
                                                          std::uint64_t serial, std::int64_t now) {
  if (const Lock* lock = ActiveLock(snapshot.locks, std::string(user), now); lock != nullptr) {
    return SessionEndReason{SessionEndReason::Cause::kLocked, lock->message};
  }
  if (std::find(snapshot.revoked_serials.begin(), snapshot.revoked_serials.end(), serial) !=
      snapshot.revoked_serials.end()) {
    return SessionEndReason{SessionEndReason::Cause::kRevoked, ""};
  }
  return std::nullopt;
}

}  // namespace gate::policy
