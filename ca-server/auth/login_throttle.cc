#include "ca-server/auth/login_throttle.h"

#include <algorithm>

#include "gate/duration.h"

namespace gate::ca {
namespace {

Status TooManyFailures(std::int64_t until, std::int64_t now) {
  return ResourceExhausted(
      "too many failed login attempts; try again in " +
      FormatDuration(std::chrono::seconds(std::max<std::int64_t>(until - now, 1))));
}

}  // namespace

LoginFailures LoginThrottle::Current(LoginFailures f, std::int64_t now) const {
  if (f.count > 0 && f.window_start + options_.duration.count() <= now) f.count = 0;
  if (f.count == 0) f.window_start = now;
  return f;
}

Status LoginThrottle::Check(const std::string& user, const std::string& source, std::int64_t now) {
  auto from_source = store_.GetLoginFailures(user, source);
  if (!from_source) return from_source.error();
  const LoginFailures mine = Current(*from_source, now);
  if (mine.blocked_until > now) return TooManyFailures(mine.blocked_until, now);
  if (mine.count == 0) return Status::Ok();  // a clean source always gets its try
  auto total = store_.GetLoginFailures(user, kEverySource);
  if (!total) return total.error();
  const LoginFailures all = Current(*total, now);
  if (all.count >= options_.attempts) {
    return TooManyFailures(all.window_start + options_.duration.count(), now);
  }
  return Status::Ok();
}

Result<bool> LoginThrottle::RecordFailure(const std::string& user, const std::string& source,
                                          std::int64_t now) {
  bool blocked = false;
  Status status = store_.InTransaction([&](StoreOperations& tx) -> Status {
    auto stored_source = tx.GetLoginFailures(user, source);
    if (!stored_source) return stored_source.error();
    auto stored_total = tx.GetLoginFailures(user, kEverySource);
    if (!stored_total) return stored_total.error();
    LoginFailures mine = Current(*stored_source, now);
    LoginFailures all = Current(*stored_total, now);
    ++all.count;
    if (++mine.count >= options_.attempts) {
      mine.blocked_until = now + options_.duration.count();
      mine.count = 0;
      blocked = true;
    }
    GATE_RETURN_IF_ERROR(tx.PutLoginFailures(mine));
    GATE_RETURN_IF_ERROR(tx.PutLoginFailures(all));
    // Counters of finished windows decide nothing; dropping them here keeps
    // the table as small as the guessing of the last D.
    return tx.PruneLoginFailures(now - options_.duration.count(), now);
  });
  if (!status.ok()) return Err(status);
  return blocked;
}

Status LoginThrottle::RecordSuccess(const std::string& user, const std::string& source) {
  return store_.ClearLoginFailures(user, source);
}

Result<bool> LoginThrottle::Throttled(const std::string& user, std::int64_t now) {
  auto count = RecentFailures(user, kEverySource, now);
  if (!count) return Err(count.error());
  return *count >= options_.attempts;
}

Result<int> LoginThrottle::RecentFailures(const std::string& user, const std::string& source,
                                          std::int64_t now) {
  auto stored = store_.GetLoginFailures(user, source);
  if (!stored) return Err(stored.error());
  return Current(*stored, now).count;
}

}  // namespace gate::ca
