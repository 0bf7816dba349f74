// RoleAdmin's rules and audit trail against a real SQLite store.
#include "ca-server/auth/role_admin.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "ca-server/store_sqlite_backend.h"

namespace gate::ca {
namespace {

constexpr std::int64_t kNow = 1'700'000'000;

policy::Role DevRole() {
  policy::Role role;
  role.name = "dev";
  role.logins = {"ubuntu", "deploy"};
  role.node_labels = {{"env", "dev"}};
  role.max_ttl = std::chrono::hours(8);
  role.permit_port_forwarding = false;
  return role;
}

class RoleAdminTest : public SqliteStoreFixture {
 protected:
  void SetUp() override {
    SqliteStoreFixture::SetUp();
    audit_ = std::make_unique<AuditLog>(*store_);
    admin_ = std::make_unique<RoleAdmin>(*store_, *audit_);
  }

  std::vector<std::string> AuditEvents() {
    std::vector<std::string> events;
    Result<std::vector<AuditEvent>> audit = store_->ListAudit(100);
    EXPECT_TRUE(audit.has_value());
    if (!audit) return events;
    for (const auto& event : *audit) events.push_back(event.event);
    return events;
  }

  void ExpectStoredDevUnchanged() {
    Result<policy::Role> stored = store_->GetRole("dev");
    ASSERT_TRUE(stored.has_value()) << stored.error().ToString();
    EXPECT_EQ(stored->logins, DevRole().logins);
    EXPECT_EQ(stored->node_labels, DevRole().node_labels);
    EXPECT_EQ(stored->max_ttl, DevRole().max_ttl);
    EXPECT_EQ(stored->permit_port_forwarding, DevRole().permit_port_forwarding);
  }

  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<RoleAdmin> admin_;
};

TEST(CheckRoleFieldsTest, RefusesEmptyNameAndNegativeTtl) {
  EXPECT_TRUE(CheckRoleFields(DevRole()).ok());
  policy::Role role = DevRole();
  role.max_ttl = std::chrono::seconds(0);  // no cap
  EXPECT_TRUE(CheckRoleFields(role).ok());
  role.name.clear();
  EXPECT_EQ(CheckRoleFields(role).code(), Code::kInvalidArgument);
  role = DevRole();
  role.max_ttl = std::chrono::seconds(-1);
  EXPECT_EQ(CheckRoleFields(role).code(), Code::kInvalidArgument);
}

TEST_F(RoleAdminTest, CreateRefusesEmptyNameAndNegativeTtl) {
  policy::Role role = DevRole();
  role.name.clear();
  EXPECT_EQ(admin_->Create(role, kNow).code(), Code::kInvalidArgument);
  role = DevRole();
  role.name = "x";
  role.max_ttl = std::chrono::seconds(-1);
  EXPECT_EQ(admin_->Create(role, kNow).code(), Code::kInvalidArgument);
  EXPECT_TRUE(store_->ListRoles()->empty());
  EXPECT_TRUE(AuditEvents().empty());
}

TEST_F(RoleAdminTest, CreateStoresAndAudits) {
  ASSERT_TRUE(admin_->Create(DevRole(), kNow).ok());
  ExpectStoredDevUnchanged();
  EXPECT_EQ(AuditEvents(), std::vector<std::string>{"role.create"});
  EXPECT_EQ(admin_->Create(DevRole(), kNow).code(), Code::kAlreadyExists);
  EXPECT_EQ(AuditEvents().size(), 1u);
}

TEST_F(RoleAdminTest, ReplaceRefusesInvalidFieldsAndChangesNothing) {
  ASSERT_TRUE(admin_->Create(DevRole(), kNow).ok());
  policy::Role role = DevRole();
  role.logins = {"root"};
  role.max_ttl = std::chrono::seconds(-1);
  EXPECT_EQ(admin_->Replace(role, kNow).code(), Code::kInvalidArgument);
  ExpectStoredDevUnchanged();
  role.max_ttl = std::chrono::hours(1);
  ASSERT_TRUE(admin_->Replace(role, kNow).ok());
  EXPECT_EQ(store_->GetRole("dev")->logins, std::vector<std::string>{"root"});
  EXPECT_EQ(AuditEvents(), (std::vector<std::string>{"role.update", "role.create"}));
  role.name = "nope";
  EXPECT_EQ(admin_->Replace(role, kNow).code(), Code::kNotFound);
}

// The check runs on what change returns, inside the store's transaction.
TEST_F(RoleAdminTest, ModifyRefusesInvalidFieldsAndWritesNothing) {
  ASSERT_TRUE(admin_->Create(DevRole(), kNow).ok());
  Result<policy::Role> negative = admin_->Modify(
      "dev",
      [](const policy::Role& stored) -> Result<policy::Role> {
        policy::Role role = stored;
        role.logins = {"root"};
        role.max_ttl = std::chrono::seconds(-1);
        return role;
      },
      kNow);
  ASSERT_FALSE(negative.has_value());
  EXPECT_EQ(negative.error().code(), Code::kInvalidArgument);
  ExpectStoredDevUnchanged();
  EXPECT_EQ(AuditEvents(), std::vector<std::string>{"role.create"});
}

TEST_F(RoleAdminTest, ModifyStoresTheChangeAndAudits) {
  ASSERT_TRUE(admin_->Create(DevRole(), kNow).ok());
  Result<policy::Role> changed = admin_->Modify(
      "dev",
      [](const policy::Role& stored) -> Result<policy::Role> {
        policy::Role role = stored;
        role.logins.push_back("root");
        return role;
      },
      kNow);
  ASSERT_TRUE(changed.has_value()) << changed.error().ToString();
  EXPECT_EQ(store_->GetRole("dev")->logins, (std::vector<std::string>{"ubuntu", "deploy", "root"}));
  EXPECT_EQ(AuditEvents(), (std::vector<std::string>{"role.update", "role.create"}));
}

TEST_F(RoleAdminTest, RemoveDeletesAndAudits) {
  ASSERT_TRUE(admin_->Create(DevRole(), kNow).ok());
  ASSERT_TRUE(admin_->Remove("dev", kNow).ok());
  EXPECT_EQ(store_->GetRole("dev").error().code(), Code::kNotFound);
  EXPECT_EQ(AuditEvents(), (std::vector<std::string>{"role.delete", "role.create"}));
  EXPECT_EQ(admin_->Remove("dev", kNow).code(), Code::kNotFound);
  EXPECT_EQ(AuditEvents().size(), 2u);
}

}  // namespace
}  // namespace gate::ca
