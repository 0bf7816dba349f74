// UserAdmin's rules and audit trail against a real SQLite store.
#include "ca-server/auth/user_admin.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ca-server/store_forwarding.h"
#include "ca-server/store_sqlite_backend.h"

namespace gate::ca {
namespace {

constexpr std::int64_t kNow = 1'700'000'000;

class UserAdminTest : public SqliteStoreFixture {
 protected:
  void SetUp() override {
    SqliteStoreFixture::SetUp();
    audit_ = std::make_unique<AuditLog>(*store_);
    signup_ = std::make_unique<SignupService>(SignupOptions{"test", SecondFactor::kOtp, 12},
                                              *store_, *audit_);
    authenticator_ = std::make_unique<Authenticator>(
        AuthenticatorOptions{SecondFactor::kOtp, 2, std::chrono::minutes(5)}, *store_, *audit_);
    admin_ = std::make_unique<UserAdmin>(*store_, *signup_, *authenticator_, *audit_);
  }

  std::string LastAuditEvent() { return store_->ListAudit(1)->front().event; }

  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<SignupService> signup_;
  std::unique_ptr<Authenticator> authenticator_;
  std::unique_ptr<UserAdmin> admin_;
};

TEST_F(UserAdminTest, AddGivesASignupTokenAndAudits) {
  UserRecord user;
  user.name = "alice";
  auto token = admin_->Add(user, std::chrono::hours(1), kNow);
  ASSERT_TRUE(token.has_value()) << token.error().ToString();
  EXPECT_FALSE(token->empty());
  // Neither logins nor roles: a login of its own name.
  EXPECT_EQ(store_->GetUser("alice")->logins, std::vector<std::string>{"alice"});
  EXPECT_EQ(LastAuditEvent(), "user.create");
  EXPECT_EQ(admin_->Add(user, std::chrono::hours(1), kNow).error().code(), Code::kAlreadyExists);
}

TEST_F(UserAdminTest, AddRecordsTheCreationTime) {
  UserRecord user;
  user.name = "alice";
  user.created_at = 7;  // the caller's value does not count
  ASSERT_TRUE(admin_->Add(user, std::chrono::hours(1), kNow + 5).has_value());
  EXPECT_EQ(store_->GetUser("alice")->created_at, kNow + 5);
  EXPECT_EQ(admin_->List(kNow + 6)->front().user.created_at, kNow + 5);
}

// A store that counts SetLock calls and passes everything on.
class LockCountingStore : public ForwardingOperations<Store> {
 public:
  explicit LockCountingStore(Store& store) : ForwardingOperations(store), store_(store) {}
  Status InTransaction(const TransactionBody& body) override { return store_.InTransaction(body); }
  Status InReadTransaction(const TransactionBody& body) override {
    return store_.InReadTransaction(body);
  }
  Status SetLock(const LockRecord& lock) override {
    ++set_lock_calls;
    return inner_.SetLock(lock);
  }
  int set_lock_calls = 0;

 private:
  Store& store_;
};

// The rule is the service's: a lock naming no user is refused before the
// store sees it, with nothing written and nothing audited.
TEST_F(UserAdminTest, LockWithoutAUserIsRefusedBeforeTheStore) {
  LockCountingStore store(*store_);
  UserAdmin admin(store, *signup_, *authenticator_, *audit_);
  EXPECT_EQ(admin.Lock({"", 0, "x", kNow}, "until unlocked: x"),
            InvalidArgument("lock user must not be empty"));
  EXPECT_EQ(store.set_lock_calls, 0);
  EXPECT_TRUE(store_->ListLocks()->empty());
  EXPECT_TRUE(store_->ListAudit(10)->empty());
  EXPECT_EQ(admin.Lock({"ghost", 0, "x", kNow}, "until unlocked: x").code(), Code::kNotFound);
  EXPECT_EQ(store.set_lock_calls, 1);
}

TEST_F(UserAdminTest, UpdateRefusesAUserWithNothingAndMissingRoles) {
  UserRecord user;
  user.name = "bob";
  user.logins = {"bob"};
  ASSERT_TRUE(admin_->Add(user, std::chrono::hours(1), kNow).has_value());
  auto empty = admin_->Update("bob", std::vector<std::string>{}, std::nullopt, kNow);
  EXPECT_EQ(empty.error().code(), Code::kInvalidArgument);
  EXPECT_EQ(store_->GetUser("bob")->logins, std::vector<std::string>{"bob"});
  EXPECT_EQ(admin_->CheckRolesExist({"nosuchrole"}).code(), Code::kNotFound);
  EXPECT_EQ(admin_->Update("nobody", std::nullopt, std::nullopt, kNow).error().code(),
            Code::kNotFound);
}

TEST_F(UserAdminTest, StatusShowsLocksInForceAndThrottling) {
  UserRecord user;
  user.name = "carl";
  ASSERT_TRUE(admin_->Add(user, std::chrono::hours(1), kNow).has_value());
  ASSERT_TRUE(admin_->Lock({"carl", kNow + 10, "away", kNow}, "for 10s: away").ok());
  EXPECT_EQ(LastAuditEvent(), "user.lock");
  auto listed = admin_->List(kNow + 5);
  ASSERT_TRUE(listed.has_value());
  ASSERT_EQ(listed->size(), 1u);
  ASSERT_TRUE((*listed)[0].lock.has_value());
  EXPECT_EQ((*listed)[0].lock->message, "away");
  // Expired: policy::ActiveLock decides, so the lock no longer shows.
  EXPECT_FALSE(admin_->List(kNow + 10)->front().lock.has_value());

  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(authenticator_->throttle().RecordFailure("carl", "10.0.0.1", kNow).has_value());
  }
  EXPECT_TRUE(admin_->List(kNow + 20)->front().throttled);
  ASSERT_TRUE(admin_->Unlock("carl", kNow + 20).ok());
  EXPECT_EQ(LastAuditEvent(), "user.unlock");
  EXPECT_EQ(admin_->Unlock("carl", kNow + 20).code(), Code::kNotFound);
}

}  // namespace
}  // namespace gate::ca
