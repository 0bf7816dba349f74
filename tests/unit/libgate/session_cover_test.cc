#include "gate/session_cover.h"

#include <gtest/gtest.h>

namespace gate::policy {
namespace {

constexpr std::int64_t kNow = 1764000000;

Snapshot WithLocksAndRevocations() {
  Snapshot s;
  s.users = {{"alice", {"alice"}, {}}, {"bob", {"bob"}, {}}, {"carol", {"carol"}, {}}};
  s.locks.push_back({"alice", 0, "incident 42"});
  s.locks.push_back({"carol", kNow - 1, "expired"});
  s.revoked_serials = {7, 9};
  return s;
}

TEST(SessionCoverTest, ALockInForceCoversEverySessionOfTheUser) {
  const Snapshot s = WithLocksAndRevocations();
  for (std::uint64_t serial : {1u, 2u, 7u}) {
    auto reason = CoveredByLockOrRevocation(s, "alice", serial, kNow);
    ASSERT_TRUE(reason.has_value());
    EXPECT_EQ(reason->cause, SessionEndReason::Cause::kLocked);
    EXPECT_EQ(reason->CauseName(), "locked");
    EXPECT_EQ(reason->UserNotice(), "your access was locked by an administrator: incident 42");
  }
}

TEST(SessionCoverTest, ARevokedSerialCoversOnlyThatCertificate) {
  const Snapshot s = WithLocksAndRevocations();
  auto reason = CoveredByLockOrRevocation(s, "bob", 9, kNow);
  ASSERT_TRUE(reason.has_value());
  EXPECT_EQ(reason->cause, SessionEndReason::Cause::kRevoked);
  EXPECT_EQ(reason->UserNotice(), "your certificate was revoked");
  EXPECT_FALSE(CoveredByLockOrRevocation(s, "bob", 8, kNow).has_value());
}

TEST(SessionCoverTest, AnotherUserAndAnExpiredLockAreNotCovered) {
  const Snapshot s = WithLocksAndRevocations();
  EXPECT_FALSE(CoveredByLockOrRevocation(s, "bob", 1, kNow).has_value());
  EXPECT_FALSE(CoveredByLockOrRevocation(s, "carol", 1, kNow).has_value());
  // Names match exactly, not by prefix or case.
  EXPECT_FALSE(CoveredByLockOrRevocation(s, "alice2", 1, kNow).has_value());
  EXPECT_FALSE(CoveredByLockOrRevocation(s, "Alice", 1, kNow).has_value());
}

TEST(SessionCoverTest, AnUnlockEndsTheCover) {
  Snapshot s = WithLocksAndRevocations();
  s.locks.erase(s.locks.begin());
  EXPECT_FALSE(CoveredByLockOrRevocation(s, "alice", 1, kNow).has_value());
}

TEST(SessionCoverTest, TheNoticeCannotDriveTheTerminal) {
  SessionEndReason r{SessionEndReason::Cause::kLocked, "bye\x1b]0;owned\x07\r\nx\x7f"};
  EXPECT_EQ(r.UserNotice(), "your access was locked by an administrator: bye?]0;owned???x?");
  r.lock_message.clear();
  EXPECT_EQ(r.UserNotice(), "your access was locked by an administrator");
}

}  // namespace
}  // namespace gate::policy
