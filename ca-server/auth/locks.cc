#include "ca-server/auth/locks.h"

namespace gate::ca {

Result<std::vector<policy::Lock>> LocksOf(RoleStore& store, const std::string& user) {
  auto locks = store.ListLocks();
  if (!locks) return Err(locks.error());
  std::vector<policy::Lock> out;
  for (const LockRecord& lock : *locks) {
    if (lock.user == user) out.push_back({lock.user, lock.expires_at, lock.message});
  }
  return out;
}

Status CheckNotLocked(RoleStore& store, const std::string& user, std::int64_t now) {
  auto locks = LocksOf(store, user);
  if (!locks) return locks.error();
  if (const policy::Lock* lock = policy::ActiveLock(*locks, user, now); lock != nullptr) {
    return PermissionDenied("user " + user + " is locked: " + lock->message);
  }
  return Status::Ok();
}

}  // namespace gate::ca
