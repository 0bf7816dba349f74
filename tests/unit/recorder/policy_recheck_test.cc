#include "recorder/session/policy_recheck.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sshd-hooks/hooks_test_util.h"

namespace gate::recorder {
namespace {

using testing::TempDir;
using testing::WriteFile;

constexpr std::int64_t kNow = 1764000000;

class PolicyRecheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cache_ = testing::MakeCacheDir(tmp_);
    ASSERT_FALSE(cache_.dir.empty());
    snapshot_ = testing::DefaultSnapshot();
    Write();
  }
  void Write() {
    WriteFile(cache_.PolicyPath(), testing::SnapshotText(snapshot_), node::kCacheFileMode);
  }

  TempDir tmp_;
  node::CacheLocation cache_;
  policy::Snapshot snapshot_;
};

TEST_F(PolicyRecheckTest, AnUncoveredSessionGoesOn) {
  EXPECT_FALSE(RecheckSession(cache_, "alice", 42, kNow).has_value());
}

TEST_F(PolicyRecheckTest, ALockEndsTheSessionWithItsMessage) {
  snapshot_.locks.push_back({"alice", 0, "see the incident channel"});
  Write();
  auto ending = RecheckSession(cache_, "alice", 42, kNow);
  ASSERT_TRUE(ending.has_value());
  EXPECT_EQ(ending->cause, "locked");
  EXPECT_EQ(ending->notice, "your access was locked by an administrator: see the incident channel");
  EXPECT_FALSE(RecheckSession(cache_, "bob", 43, kNow).has_value()) << "bob is not locked";
}

TEST_F(PolicyRecheckTest, ARevokedSerialEndsTheSession) {
  snapshot_.revoked_serials = {42};
  Write();
  auto ending = RecheckSession(cache_, "alice", 42, kNow);
  ASSERT_TRUE(ending.has_value());
  EXPECT_EQ(ending->cause, "revoked");
  EXPECT_EQ(ending->notice, "your certificate was revoked");
  EXPECT_FALSE(RecheckSession(cache_, "alice", 41, kNow).has_value());
}

TEST_F(PolicyRecheckTest, AnUnreadableCacheEndsTheSession) {
  WriteFile(cache_.PolicyPath(), "{not json", node::kCacheFileMode);
  auto ending = RecheckSession(cache_, "alice", 42, kNow);
  ASSERT_TRUE(ending.has_value());
  EXPECT_EQ(ending->cause, "cache");
  ASSERT_EQ(unlink(cache_.PolicyPath().c_str()), 0);
  ending = RecheckSession(cache_, "alice", 42, kNow);
  ASSERT_TRUE(ending.has_value());
  EXPECT_EQ(ending->cause, "cache");
}

}  // namespace
}  // namespace gate::recorder
