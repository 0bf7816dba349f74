#include "ca-server/audit/refusal_counter.h"

#include <gtest/gtest.h>

namespace gate::ca {
namespace {

constexpr std::int64_t kT = 1'700'000'000;

TEST(RefusalCounterTest, AFloodIsTwoRowsPerMinute) {
  RefusalCounter counter(60);
  auto rows = counter.Add("192.0.2.7", "POST /v1/login", kT);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_TRUE(rows[0].window_start);
  EXPECT_EQ(rows[0].count, 1);
  EXPECT_EQ(rows[0].source, "192.0.2.7");
  EXPECT_EQ(rows[0].what, "POST /v1/login");

  // 580 refusals a second for the rest of the minute: no rows.
  for (int s = 0; s < 60; ++s) {
    for (int i = 0; i < 580; ++i) {
      if (s == 0 && i == 0) continue;
      EXPECT_TRUE(counter.Add("192.0.2.7", "POST /v1/signup/start", kT + s).empty());
    }
  }
  // The window has ended: the next refusal brings its count, and opens a new one.
  rows = counter.Add("192.0.2.7", "POST /v1/login", kT + 60);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_FALSE(rows[0].window_start);
  EXPECT_EQ(rows[0].count, 60 * 580 - 1);
  EXPECT_EQ(rows[0].since, kT);
  EXPECT_EQ(rows[0].what, "POST /v1/signup/start");
  EXPECT_TRUE(rows[1].window_start);
  EXPECT_EQ(rows[1].since, kT + 60);
}

TEST(RefusalCounterTest, SourcesAreCountedApart) {
  RefusalCounter counter(60);
  EXPECT_EQ(counter.Add("a", "x", kT).size(), 1u);
  EXPECT_EQ(counter.Add("b", "x", kT + 1).size(), 1u);
  EXPECT_TRUE(counter.Add("a", "x", kT + 2).empty());
  EXPECT_TRUE(counter.Add("a", "x", kT + 3).empty());
  // Another source's refusal after a's window ended brings a's count.
  auto rows = counter.Add("c", "x", kT + 60);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].source, "a");
  EXPECT_EQ(rows[0].count, 2);
  EXPECT_EQ(rows[1].source, "c");
  EXPECT_EQ(counter.open_windows(), 2u);  // b and c
}

TEST(RefusalCounterTest, ASingleRefusalIsOneRow) {
  RefusalCounter counter(60);
  EXPECT_EQ(counter.Add("a", "x", kT).size(), 1u);
  EXPECT_TRUE(counter.Drain(kT + 600).empty());  // nothing more to say
  EXPECT_EQ(counter.open_windows(), 0u);
}

TEST(RefusalCounterTest, DrainReportsEndedWindowsOrAllAtShutdown) {
  RefusalCounter counter(60);
  counter.Add("a", "x", kT);
  counter.Add("a", "x", kT + 1);
  counter.Add("b", "x", kT + 30);
  counter.Add("b", "x", kT + 31);
  auto rows = counter.Drain(kT + 61);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].source, "a");
  EXPECT_TRUE(counter.Drain(kT + 62).empty());
  rows = counter.DrainAll();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].source, "b");
  EXPECT_EQ(rows[0].count, 1);
}

TEST(RefusalCounterTest, AFullTableClosesTheOldestWindowWithItsCount) {
  RefusalCounter counter(60, 2);
  counter.Add("a", "x", kT);
  counter.Add("a", "x", kT);
  counter.Add("b", "x", kT + 1);
  auto rows = counter.Add("c", "x", kT + 2);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].source, "a");
  EXPECT_EQ(rows[0].count, 1);
  EXPECT_EQ(rows[1].source, "c");
  EXPECT_EQ(counter.open_windows(), 2u);
}

}  // namespace
}  // namespace gate::ca
