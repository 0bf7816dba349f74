#include "ca-server/auth/rate_limiter.h"

#include <algorithm>

namespace gate::ca {
namespace {

using Duration = std::chrono::steady_clock::duration;

// Without refill the unit is arbitrary; one tick keeps the arithmetic uniform.
Duration IntervalFor(int per_minute) {
  if (per_minute <= 0) return Duration(1);
  return std::chrono::duration_cast<Duration>(std::chrono::minutes(1)) / per_minute;
}

}  // namespace

RateLimiter::RateLimiter(int per_minute, int burst, std::size_t max_keys)
    : refills_(per_minute > 0),
      interval_(IntervalFor(per_minute)),
      capacity_(interval_ * std::clamp(burst, 0, kMaxBurst)),
      max_keys_(std::max<std::size_t>(max_keys, 1)) {}

bool RateLimiter::Allow(const std::string& key, std::chrono::steady_clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_keys_) {
      buckets_.erase(lru_.back());
      lru_.pop_back();
    }
    lru_.push_front(key);
    it = buckets_.emplace(key, Bucket{capacity_, now, lru_.begin()}).first;
  } else {
    lru_.splice(lru_.begin(), lru_, it->second.lru_pos);
  }

  Bucket& bucket = it->second;
  if (now > bucket.last) {
    if (refills_) {
      // Compared before adding so a very long idle time cannot overflow.
      const Duration elapsed = now - bucket.last;
      bucket.credit = elapsed >= capacity_ - bucket.credit ? capacity_ : bucket.credit + elapsed;
    }
    bucket.last = now;
  }
  if (bucket.credit < interval_) return false;
  bucket.credit -= interval_;
  return true;
}

std::size_t RateLimiter::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return buckets_.size();
}

}  // namespace gate::ca
