// Store::ModifyRole: the read-modify-write that PATCH /admin/v1/roles/NAME
// runs in one transaction.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "ca-server/store/store.h"
#include "ca-server/store_test_util.h"

namespace gate::ca {
namespace {

class StoreRolesTest : public SqliteStoreTest {
 protected:
  void SetUp() override {
    SqliteStoreTest::SetUp();
    if (HasFatalFailure()) return;
    Status created = store_->CreateRole(MakeRole());
    ASSERT_TRUE(created.ok()) << created.ToString();
  }

  static policy::Role MakeRole() {
    policy::Role role;
    role.name = "dev";
    role.logins = {"ubuntu", "deploy"};
    role.node_labels = {{"env", "dev"}};
    role.max_ttl = std::chrono::hours(8);
    role.permit_pty = true;
    role.permit_port_forwarding = false;
    return role;
  }

  static void ExpectSameRole(const policy::Role& got, const policy::Role& want) {
    EXPECT_EQ(got.name, want.name);
    EXPECT_EQ(got.logins, want.logins);
    EXPECT_EQ(got.node_labels, want.node_labels);
    EXPECT_EQ(got.max_ttl, want.max_ttl);
    EXPECT_EQ(got.permit_pty, want.permit_pty);
    EXPECT_EQ(got.permit_port_forwarding, want.permit_port_forwarding);
    EXPECT_EQ(got.permit_agent_forwarding, want.permit_agent_forwarding);
    EXPECT_EQ(got.record_sessions, want.record_sessions);
    EXPECT_EQ(got.join_sessions, want.join_sessions);
  }

  void ExpectStoredRoleUnchanged() {
    Result<policy::Role> stored = store_->GetRole("dev");
    ASSERT_TRUE(stored.has_value()) << stored.error().ToString();
    ExpectSameRole(*stored, MakeRole());
  }
};

TEST_F(StoreRolesTest, ModifyRoleStoresAndReturnsTheChangedRole) {
  Result<policy::Role> modified =
      store_->ModifyRole("dev", [](const policy::Role& stored) -> Result<policy::Role> {
        policy::Role role = stored;
        role.logins.push_back("root");
        role.node_labels = {{"env", "prod"}, {"team", "db"}};
        role.permit_pty = false;
        role.record_sessions = true;
        return role;
      });
  ASSERT_TRUE(modified.has_value()) << modified.error().ToString();

  policy::Role want = MakeRole();
  want.logins = {"ubuntu", "deploy", "root"};
  want.node_labels = {{"env", "prod"}, {"team", "db"}};
  want.permit_pty = false;
  want.record_sessions = true;
  ExpectSameRole(*modified, want);
  Result<policy::Role> stored = store_->GetRole("dev");
  ASSERT_TRUE(stored.has_value()) << stored.error().ToString();
  ExpectSameRole(*stored, want);
}

TEST_F(StoreRolesTest, ModifyRolePassesTheStoredRole) {
  Result<policy::Role> modified =
      store_->ModifyRole("dev", [](const policy::Role& stored) -> Result<policy::Role> {
        ExpectSameRole(stored, MakeRole());
        return stored;
      });
  ASSERT_TRUE(modified.has_value()) << modified.error().ToString();
  ExpectStoredRoleUnchanged();
}

TEST_F(StoreRolesTest, ChangeErrorIsReturnedAndWritesNothing) {
  const Status refusal = InvalidArgument("role max TTL must be between 1m and 24h");
  Result<policy::Role> modified = store_->ModifyRole(
      "dev", [&](const policy::Role&) -> Result<policy::Role> { return Err(refusal); });
  ASSERT_FALSE(modified.has_value());
  EXPECT_EQ(modified.error(), refusal);
  ExpectStoredRoleUnchanged();
}

TEST_F(StoreRolesTest, ModifyMissingRoleIsNotFoundWithoutCallingChange) {
  bool called = false;
  Result<policy::Role> modified =
      store_->ModifyRole("nope", [&](const policy::Role& stored) -> Result<policy::Role> {
        called = true;
        return stored;
      });
  ASSERT_FALSE(modified.has_value());
  EXPECT_EQ(modified.error().code(), Code::kNotFound);
  EXPECT_FALSE(called);
  EXPECT_EQ(store_->GetRole("nope").error().code(), Code::kNotFound);
}

TEST_F(StoreRolesTest, ModifyRoleRefusesRenameAndInvalidFields) {
  Result<policy::Role> renamed =
      store_->ModifyRole("dev", [](const policy::Role& stored) -> Result<policy::Role> {
        policy::Role role = stored;
        role.name = "ops";
        role.logins = {"root"};
        return role;
      });
  ASSERT_FALSE(renamed.has_value());
  EXPECT_EQ(renamed.error().code(), Code::kInvalidArgument);
  EXPECT_EQ(store_->GetRole("ops").error().code(), Code::kNotFound);

  Result<policy::Role> negative =
      store_->ModifyRole("dev", [](const policy::Role& stored) -> Result<policy::Role> {
        policy::Role role = stored;
        role.logins = {"root"};
        role.max_ttl = std::chrono::seconds(-1);
        return role;
      });
  ASSERT_FALSE(negative.has_value());
  EXPECT_EQ(negative.error().code(), Code::kInvalidArgument);
  ExpectStoredRoleUnchanged();
}

// The lost update PATCH had when it read and wrote in two transactions: each
// thread adds its own login, and every one must survive.
TEST_F(StoreRolesTest, ConcurrentModificationsAreNotLost) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 5;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string login = "u" + std::to_string(t) + "x" + std::to_string(i);
        Result<policy::Role> modified =
            store_->ModifyRole("dev", [&](const policy::Role& stored) -> Result<policy::Role> {
              policy::Role role = stored;
              role.logins.push_back(login);
              return role;
            });
        EXPECT_TRUE(modified.has_value()) << modified.error().ToString();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  Result<policy::Role> stored = store_->GetRole("dev");
  ASSERT_TRUE(stored.has_value()) << stored.error().ToString();
  EXPECT_EQ(stored->logins.size(), MakeRole().logins.size() + kThreads * kPerThread);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      const std::string login = "u" + std::to_string(t) + "x" + std::to_string(i);
      EXPECT_NE(std::find(stored->logins.begin(), stored->logins.end(), login),
                stored->logins.end())
          << login;
    }
  }
}

}  // namespace
}  // namespace gate::ca
