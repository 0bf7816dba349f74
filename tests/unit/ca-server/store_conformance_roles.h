// Store conformance: ModifyRole's read-modify-write. Part of the typed suite in
// store_conformance.h; every backend must pass it.
#ifndef GATE_TESTS_UNIT_CA_SERVER_STORE_CONFORMANCE_ROLES_H_
#define GATE_TESTS_UNIT_CA_SERVER_STORE_CONFORMANCE_ROLES_H_

#include "ca-server/store_conformance.h"

namespace gate::ca::store_conformance {

TYPED_TEST_P(StoreConformanceTest, ModifyRoleStoresAndReturnsTheChangedRole) {
  ASSERT_NO_FATAL_FAILURE(this->SetUpDevRole());
  Result<policy::Role> modified =
      this->store_->ModifyRole("dev", [](const policy::Role& stored) -> Result<policy::Role> {
        policy::Role role = stored;
        role.logins.push_back("root");
        role.node_labels = {{"env", "prod"}, {"team", "db"}};
        role.permit_pty = false;
        role.record_sessions = true;
        return role;
      });
  ASSERT_TRUE(modified.has_value()) << modified.error().ToString();

  policy::Role want = TestFixture::MakeDevRole();
  want.logins = {"ubuntu", "deploy", "root"};
  want.node_labels = {{"env", "prod"}, {"team", "db"}};
  want.permit_pty = false;
  want.record_sessions = true;
  TestFixture::ExpectSameRole(*modified, want);
  Result<policy::Role> stored = this->store_->GetRole("dev");
  ASSERT_TRUE(stored.has_value()) << stored.error().ToString();
  TestFixture::ExpectSameRole(*stored, want);
}

TYPED_TEST_P(StoreConformanceTest, ModifyRolePassesTheStoredRole) {
  ASSERT_NO_FATAL_FAILURE(this->SetUpDevRole());
  Result<policy::Role> modified =
      this->store_->ModifyRole("dev", [](const policy::Role& stored) -> Result<policy::Role> {
        TestFixture::ExpectSameRole(stored, TestFixture::MakeDevRole());
        return stored;
      });
  ASSERT_TRUE(modified.has_value()) << modified.error().ToString();
  this->ExpectStoredRoleUnchanged();
}

TYPED_TEST_P(StoreConformanceTest, ChangeErrorIsReturnedAndWritesNothing) {
  ASSERT_NO_FATAL_FAILURE(this->SetUpDevRole());
  const Status refusal = InvalidArgument("role max TTL must be between 1m and 24h");
  Result<policy::Role> modified = this->store_->ModifyRole(
      "dev", [&](const policy::Role&) -> Result<policy::Role> { return Err(refusal); });
  ASSERT_FALSE(modified.has_value());
  EXPECT_EQ(modified.error(), refusal);
  this->ExpectStoredRoleUnchanged();
}

TYPED_TEST_P(StoreConformanceTest, ModifyMissingRoleIsNotFoundWithoutCallingChange) {
  ASSERT_NO_FATAL_FAILURE(this->SetUpDevRole());
  bool called = false;
  Result<policy::Role> modified =
      this->store_->ModifyRole("nope", [&](const policy::Role& stored) -> Result<policy::Role> {
        called = true;
        return stored;
      });
  ASSERT_FALSE(modified.has_value());
  EXPECT_EQ(modified.error().code(), Code::kNotFound);
  EXPECT_FALSE(called);
  EXPECT_EQ(this->store_->GetRole("nope").error().code(), Code::kNotFound);
}

TYPED_TEST_P(StoreConformanceTest, ModifyRoleRefusesRename) {
  ASSERT_NO_FATAL_FAILURE(this->SetUpDevRole());
  Result<policy::Role> renamed =
      this->store_->ModifyRole("dev", [](const policy::Role& stored) -> Result<policy::Role> {
        policy::Role role = stored;
        role.name = "ops";
        role.logins = {"root"};
        return role;
      });
  ASSERT_FALSE(renamed.has_value());
  EXPECT_EQ(renamed.error().code(), Code::kInvalidArgument);
  EXPECT_EQ(this->store_->GetRole("ops").error().code(), Code::kNotFound);
  this->ExpectStoredRoleUnchanged();
}

// The lost update PATCH had when it read and wrote in two transactions: each
// thread adds its own login, and every one must survive.
TYPED_TEST_P(StoreConformanceTest, ConcurrentModificationsAreNotLost) {
  ASSERT_NO_FATAL_FAILURE(this->SetUpDevRole());
  constexpr int kThreads = 4;
  constexpr int kPerThread = 5;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string login = "u" + std::to_string(t) + "x" + std::to_string(i);
        Result<policy::Role> modified = this->store_->ModifyRole(
            "dev", [&](const policy::Role& stored) -> Result<policy::Role> {
              policy::Role role = stored;
              role.logins.push_back(login);
              return role;
            });
        EXPECT_TRUE(modified.has_value()) << modified.error().ToString();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  Result<policy::Role> stored = this->store_->GetRole("dev");
  ASSERT_TRUE(stored.has_value()) << stored.error().ToString();
  EXPECT_EQ(stored->logins.size(),
            TestFixture::MakeDevRole().logins.size() + kThreads * kPerThread);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      const std::string login = "u" + std::to_string(t) + "x" + std::to_string(i);
      EXPECT_NE(std::find(stored->logins.begin(), stored->logins.end(), login),
                stored->logins.end())
          << login;
    }
  }
}

}  // namespace gate::ca::store_conformance

#endif  // GATE_TESTS_UNIT_CA_SERVER_STORE_CONFORMANCE_ROLES_H_
