#include "ca-server/auth/rate_limiter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace gate::ca {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using TimePoint = std::chrono::steady_clock::time_point;

const TimePoint kStart = TimePoint() + std::chrono::hours(1000);

TEST(RateLimiterTest, BurstThenRefusal) {
  RateLimiter limiter(/*per_minute=*/6, /*burst=*/3);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.Allow("10.0.0.1", kStart)) << i;
  EXPECT_FALSE(limiter.Allow("10.0.0.1", kStart));
  EXPECT_FALSE(limiter.Allow("10.0.0.1", kStart + seconds(9)));
}

TEST(RateLimiterTest, RefillsOverTime) {
  RateLimiter limiter(/*per_minute=*/6, /*burst=*/3);  // one token per 10 s
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(limiter.Allow("k", kStart));
  ASSERT_FALSE(limiter.Allow("k", kStart));
  EXPECT_FALSE(limiter.Allow("k", kStart + milliseconds(9999)));
  EXPECT_TRUE(limiter.Allow("k", kStart + seconds(10)));
  EXPECT_FALSE(limiter.Allow("k", kStart + seconds(10)));
  EXPECT_TRUE(limiter.Allow("k", kStart + seconds(20)));
  // A long idle time refills only up to the burst.
  const TimePoint later = kStart + std::chrono::hours(24);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.Allow("k", later)) << i;
  EXPECT_FALSE(limiter.Allow("k", later));
}

TEST(RateLimiterTest, RefusedRequestsDoNotConsume) {
  RateLimiter limiter(/*per_minute=*/60, /*burst=*/1);
  ASSERT_TRUE(limiter.Allow("k", kStart));
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(limiter.Allow("k", kStart + milliseconds(100 * i)));
  EXPECT_TRUE(limiter.Allow("k", kStart + seconds(1)));
}

TEST(RateLimiterTest, KeysAreIndependent) {
  RateLimiter limiter(/*per_minute=*/1, /*burst=*/1);
  EXPECT_TRUE(limiter.Allow("a", kStart));
  EXPECT_FALSE(limiter.Allow("a", kStart));
  EXPECT_TRUE(limiter.Allow("b", kStart));
}

TEST(RateLimiterTest, ClockGoingBackwardsAddsNothing) {
  RateLimiter limiter(/*per_minute=*/60, /*burst=*/1);
  ASSERT_TRUE(limiter.Allow("k", kStart));
  EXPECT_FALSE(limiter.Allow("k", kStart - seconds(100)));
  EXPECT_FALSE(limiter.Allow("k", kStart + milliseconds(500)));
  EXPECT_TRUE(limiter.Allow("k", kStart + seconds(1)));
}

TEST(RateLimiterTest, ZeroRateOrBurst) {
  RateLimiter no_refill(/*per_minute=*/0, /*burst=*/2);
  EXPECT_TRUE(no_refill.Allow("k", kStart));
  EXPECT_TRUE(no_refill.Allow("k", kStart));
  EXPECT_FALSE(no_refill.Allow("k", kStart + std::chrono::hours(100)));

  RateLimiter closed(/*per_minute=*/60, /*burst=*/0);
  EXPECT_FALSE(closed.Allow("k", kStart));
  EXPECT_FALSE(closed.Allow("k", kStart + std::chrono::hours(1)));
}

TEST(RateLimiterTest, MemoryIsBoundedByEvictingLeastRecentlyUsed) {
  RateLimiter limiter(/*per_minute=*/1, /*burst=*/1, /*max_keys=*/2);
  ASSERT_TRUE(limiter.Allow("a", kStart));
  ASSERT_TRUE(limiter.Allow("b", kStart));
  EXPECT_FALSE(limiter.Allow("a", kStart));  // a is now the most recently used
  ASSERT_TRUE(limiter.Allow("c", kStart));   // evicts b
  EXPECT_EQ(limiter.size(), 2u);
  EXPECT_FALSE(limiter.Allow("a", kStart));  // a was kept, still empty
  // b lost its state and starts again with a full bucket: the documented cost
  // of bounding memory.
  EXPECT_TRUE(limiter.Allow("b", kStart));
  EXPECT_EQ(limiter.size(), 2u);
  for (int i = 0; i < 1000; ++i) limiter.Allow("spray" + std::to_string(i), kStart);
  EXPECT_EQ(limiter.size(), 2u);
}

TEST(RateLimiterTest, ThreadSafeUnderContention) {
  RateLimiter limiter(/*per_minute=*/0, /*burst=*/100);
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        if (limiter.Allow("shared", kStart)) allowed.fetch_add(1);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(allowed.load(), 100);
}

}  // namespace
}  // namespace gate::ca
