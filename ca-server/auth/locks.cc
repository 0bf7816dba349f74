#include "ca-server/auth/locks.h"

namespace gate::ca {
namespace {

policy::Lock ToPolicy(const LockRecord& lock) { return {lock.user, lock.expires_at, lock.message}; }

}  // namespace

Result<std::vector<policy::Lock>> LocksOf(RoleStore& store, const std::string& user) {
  auto locks = store.ListLocks();
  if (!locks) return Err(locks.error());
  std::vector<policy::Lock> out;
  for (const LockRecord& lock : *locks) {
    if (lock.user == user) out.push_back(ToPolicy(lock));
  }
  return out;
}

Result<std::optional<policy::Lock>> ActiveLockOf(RoleStore& store, const std::string& user,
                                                 std::int64_t now) {
  auto locks = LocksOf(store, user);
  if (!locks) return Err(locks.error());
  if (const policy::Lock* lock = policy::ActiveLock(*locks, user, now); lock != nullptr) {
    return std::optional<policy::Lock>(*lock);
  }
  return std::optional<policy::Lock>();
}

std::vector<policy::Lock> LocksInForce(const std::vector<LockRecord>& locks, std::int64_t now) {
  std::vector<policy::Lock> out;
  for (const LockRecord& record : locks) {
    const std::vector<policy::Lock> one = {ToPolicy(record)};
    if (policy::ActiveLock(one, record.user, now) != nullptr) out.push_back(one.front());
  }
  return out;
}

Status CheckNotLocked(RoleStore& store, const std::string& user, std::int64_t now) {
  auto lock = ActiveLockOf(store, user, now);
  if (!lock) return lock.error();
  if (lock->has_value()) {
    return PermissionDenied("user " + user + " is locked: " + (*lock)->message);
  }
  return Status::Ok();
}

}  // namespace gate::ca
