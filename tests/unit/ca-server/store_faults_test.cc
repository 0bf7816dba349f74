// The SQLite store on a failing disk, through FaultEnv (gate/fault_env.h)
// and the store's VFS: a full disk, an I/O error and a failed fsync each
// fail the operation with an error that names the cause, leave nothing of
// it behind, and the next operation works once the fault clears.
#include <gtest/gtest.h>

#include <cerrno>
#include <memory>
#include <string>

#include "ca-server/store/store.h"
#include "ca-server/store_sqlite_backend.h"
#include "gate/fault_env.h"

namespace gate::ca {
namespace {

class StoreFaultTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open() {
    store_.reset();
    Result<std::unique_ptr<Store>> store = OpenSqliteStore(backend_.path(), &env_);
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    store_ = *std::move(store);
  }

  static UserRecord User(const std::string& name) {
    UserRecord user;
    user.name = name;
    user.logins = {name, "deploy"};
    user.roles = {"ops"};
    return user;
  }

  // The user went in whole or not at all, and the store still works.
  void ExpectWholeOrAbsent(const std::string& name) {
    Result<UserRecord> user = store_->GetUser(name);
    if (user.has_value()) {
      EXPECT_EQ(user->logins, (std::vector<std::string>{name, "deploy"}));
      EXPECT_EQ(user->roles, std::vector<std::string>{"ops"});
    } else {
      EXPECT_EQ(user.error().code(), Code::kNotFound);
    }
  }

  SqliteBackend backend_;
  FaultEnv env_;
  std::unique_ptr<Store> store_;
};

TEST_F(StoreFaultTest, FullDiskFailsTheWriteClearlyAndWritesNothing) {
  ASSERT_TRUE(store_->CreateUser(User("alice")).ok());
  env_.FailAll(FaultOp::kWrite, ENOSPC);
  const Status full = store_->CreateUser(User("bob"));
  EXPECT_EQ(full.code(), Code::kUnavailable) << full.ToString();
  EXPECT_NE(full.message().find("database or disk is full"), std::string::npos) << full.ToString();
  EXPECT_NE(full.message().find("No space left on device"), std::string::npos) << full.ToString();
  EXPECT_GT(env_.Count(FaultOp::kWrite), 0);
  // Reads still work while the disk is full; bob is not there.
  EXPECT_EQ(store_->GetUser("bob").error().code(), Code::kNotFound);
  EXPECT_TRUE(store_->GetUser("alice").has_value());

  env_.ClearFaults();
  ASSERT_TRUE(store_->CreateUser(User("bob")).ok());
  ASSERT_NO_FATAL_FAILURE(Open());
  EXPECT_TRUE(store_->GetUser("alice").has_value());
  EXPECT_EQ(store_->GetUser("bob")->logins, (std::vector<std::string>{"bob", "deploy"}));
}

TEST_F(StoreFaultTest, IoErrorOnAShortWriteLeavesNothingHalfWritten) {
  ASSERT_TRUE(store_->CreateUser(User("alice")).ok());
  // The second page write of the commit fails: the first already reached
  // the log.
  env_.FailNth(FaultOp::kWrite, 2, EIO);
  const Status failed = store_->CreateUser(User("bob"));
  EXPECT_EQ(failed.code(), Code::kUnavailable) << failed.ToString();
  EXPECT_NE(failed.message().find("disk I/O error"), std::string::npos) << failed.ToString();
  EXPECT_NE(failed.message().find("Input/output error"), std::string::npos) << failed.ToString();
  env_.ClearFaults();
  EXPECT_EQ(store_->GetUser("bob").error().code(), Code::kNotFound);
  ASSERT_NO_FATAL_FAILURE(Open());
  ExpectWholeOrAbsent("bob");
  EXPECT_TRUE(store_->GetUser("alice").has_value());
  ASSERT_TRUE(store_->CreateUser(User("carol")).ok());
}

TEST_F(StoreFaultTest, FailedFsyncFailsTheCommit) {
  ASSERT_TRUE(store_->CreateUser(User("alice")).ok());
  env_.FailNth(FaultOp::kSync, 1, EIO);
  const Status failed = store_->CreateUser(User("bob"));
  EXPECT_EQ(failed.code(), Code::kUnavailable) << failed.ToString();
  EXPECT_NE(failed.message().find("disk I/O error"), std::string::npos) << failed.ToString();
  EXPECT_NE(failed.message().find("Input/output error"), std::string::npos) << failed.ToString();
  // Not acknowledged, not visible.
  EXPECT_EQ(store_->GetUser("bob").error().code(), Code::kNotFound);
  env_.ClearFaults();
  ASSERT_TRUE(store_->CreateUser(User("carol")).ok());
  ASSERT_NO_FATAL_FAILURE(Open());
  EXPECT_TRUE(store_->GetUser("alice").has_value());
  EXPECT_TRUE(store_->GetUser("carol").has_value());
  ExpectWholeOrAbsent("bob");
}

// The audit log is an append to the store: a full disk refuses the event
// whole, and appending works again once space is back.
TEST_F(StoreFaultTest, AuditAppendOnAFullDisk) {
  ASSERT_TRUE(store_->AppendAudit({1, "user.create", "alice", "admin", true, ""}).ok());
  env_.FailAll(FaultOp::kWrite, ENOSPC);
  const Status full = store_->AppendAudit({2, "user.delete", "alice", "admin", true, ""});
  EXPECT_EQ(full.code(), Code::kUnavailable);
  EXPECT_NE(full.message().find("No space left on device"), std::string::npos) << full.ToString();
  env_.ClearFaults();
  Result<std::vector<AuditEvent>> events = store_->ListAudit(10);
  ASSERT_TRUE(events.has_value());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].event, "user.create");
  ASSERT_TRUE(store_->AppendAudit({3, "user.delete", "alice", "admin", true, ""}).ok());
  EXPECT_EQ(store_->ListAudit(10)->size(), 2u);
}

}  // namespace
}  // namespace gate::ca
