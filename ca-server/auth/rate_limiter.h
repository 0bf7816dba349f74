// RateLimiter: a token bucket per key (a client address, a user name), used
// to slow password and OTP guessing before any expensive work is done.
//
// Each key starts with `burst` tokens; each allowed request takes one; tokens
// come back at per_minute / 60 per second up to `burst`.
//
// Memory is bounded: at most max_keys buckets are kept. When a new key arrives
// and the table is full, the least recently used bucket is dropped. Usually
// that bucket has been idle long enough to be full again, and dropping a full
// bucket changes nothing (a new one starts full). If it was not full, that one
// key gets a fresh burst early. We accept that rather than refusing new keys
// when the table is full (failing closed), which would let a single client
// spraying source addresses or user names lock everybody else out.
//
// Thread safety: all methods may be called concurrently.
#ifndef GATE_CA_AUTH_RATE_LIMITER_H_
#define GATE_CA_AUTH_RATE_LIMITER_H_

#include <chrono>
#include <cstddef>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

namespace gate::ca {

class RateLimiter {
 public:
  static constexpr int kMaxBurst = 1'000'000;

  // per_minute: refill rate; burst: bucket size. Negative values are treated
  // as 0: burst 0 refuses everything, per_minute 0 never refills. burst is
  // capped at kMaxBurst and max_keys raised to at least 1.
  RateLimiter(int per_minute, int burst, std::size_t max_keys = 65536);

  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  // Takes one token from key's bucket if there is one and returns true;
  // returns false (and takes nothing) otherwise. `now` comes from the caller
  // so tests can drive time; a `now` earlier than the key's last call is
  // treated as no time having passed.
  bool Allow(const std::string& key, std::chrono::steady_clock::time_point now);

  // Number of keys currently tracked (for tests and metrics).
  std::size_t size() const;

 private:
  using Duration = std::chrono::steady_clock::duration;

  // Tokens are kept as time credit, in whole clock ticks, so refill is exact
  // integer arithmetic: a token costs interval_, a full bucket holds capacity_.
  struct Bucket {
    Duration credit{};
    std::chrono::steady_clock::time_point last;
    std::list<std::string>::iterator lru_pos;  // into lru_
  };

  const bool refills_;
  const Duration interval_;  // 60 s / per_minute
  const Duration capacity_;  // interval_ * burst
  const std::size_t max_keys_;

  mutable std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;  // guarded by mu_
  std::list<std::string> lru_;  // keys, most recently used first; guarded by mu_
};

}  // namespace gate::ca

#endif  // GATE_CA_AUTH_RATE_LIMITER_H_
