// ServeNodePolicy against a real SQLite store: the three reply shapes, the
// bounds that choose between them, paging, and the revision recorded per
// node.
#include "ca-server/nodes/node_policy_sync.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ca-server/store_sqlite_backend.h"
#include "gate/ed25519.h"

namespace gate::ca {
namespace {

constexpr std::int64_t kNow = 1'700'000'000;
using Shape = NodePolicyReply::Shape;

class NodePolicySyncTest : public SqliteStoreFixture {
 protected:
  void SetUp() override {
    SqliteStoreFixture::SetUp();
    policy::Role dev;
    dev.name = "dev";
    dev.logins = {"deploy"};
    ASSERT_TRUE(store_->CreateRole(dev).ok());
    AddUser("alice");
    AddUser("bob");
    node_.host_uuid = "4a6f0c1e-9b2d-4c3e-8f10-0123456789ab";
    node_.hostname = "db-1";
    node_.secret_hash = std::string(64, 'a');
    node_.labels = {{"env", "prod"}};
    node_.principals = {"db-1"};
    ASSERT_TRUE(store_->CreateNode(node_).ok());
    context_.cluster_name = "grav-00";
    context_.user_ca = ssh::Ed25519PrivateKey::Generate()->public_key();
  }

  void AddUser(const std::string& name) {
    UserRecord user;
    user.name = name;
    user.logins = {name};
    user.roles = {"dev"};
    ASSERT_TRUE(store_->CreateUser(user).ok());
  }

  NodePolicyReply Serve(std::int64_t since, const std::string& cursor = "") {
    auto reply = ServeNodePolicy(*store_, context_, node_, {since, cursor}, kNow);
    EXPECT_TRUE(reply.has_value()) << reply.error().ToString();
    return reply ? *reply : NodePolicyReply{};
  }

  std::int64_t Revision() { return store_->GetPolicyRevision()->revision; }

  NodeRecord node_;
  NodePolicyContext context_;
};

TEST_F(NodePolicySyncTest, NoRevisionGetsTheFullSnapshotAndIsRecorded) {
  NodePolicyReply reply = Serve(0);
  EXPECT_EQ(reply.shape, Shape::kFullPage);
  EXPECT_EQ(reply.revision, Revision());
  EXPECT_TRUE(reply.next_cursor.empty());
  EXPECT_TRUE(reply.has_krl);
  ASSERT_EQ(reply.snapshot.users.size(), 2u);
  ASSERT_EQ(reply.snapshot.roles.size(), 1u);
  EXPECT_EQ(reply.snapshot.node_labels, node_.labels);
  EXPECT_EQ(reply.snapshot.revision, Revision());
  auto node = store_->GetNode(node_.host_uuid);
  EXPECT_EQ(node->last_sync, kNow);
  EXPECT_EQ(node->policy_revision, Revision());
}

TEST_F(NodePolicySyncTest, CurrentRevisionIsUnchangedWithNoPolicy) {
  const std::int64_t revision = Revision();
  NodePolicyReply reply = Serve(revision);
  EXPECT_EQ(reply.shape, Shape::kUnchanged);
  EXPECT_EQ(reply.revision, revision);
  EXPECT_TRUE(reply.snapshot.users.empty());
  EXPECT_TRUE(reply.snapshot.roles.empty());
  EXPECT_FALSE(reply.has_krl);
  EXPECT_EQ(store_->GetNode(node_.host_uuid)->policy_revision, revision);
}

TEST_F(NodePolicySyncTest, DeltaCarriesOnlyWhatChangedAndLocksWhole) {
  const std::int64_t since = Revision();
  AddUser("carol");
  ASSERT_TRUE(store_->DeleteUser("bob").ok());
  ASSERT_TRUE(store_->SetLock({"alice", 0, "held", kNow}).ok());
  NodePolicyReply reply = Serve(since);
  EXPECT_EQ(reply.shape, Shape::kDelta);
  EXPECT_EQ(reply.base, since);
  EXPECT_EQ(reply.revision, Revision());
  ASSERT_EQ(reply.snapshot.users.size(), 1u);
  EXPECT_EQ(reply.snapshot.users[0].name, "carol");
  EXPECT_EQ(reply.removed_users, std::vector<std::string>{"bob"});
  EXPECT_TRUE(reply.snapshot.roles.empty());
  ASSERT_EQ(reply.snapshot.locks.size(), 1u);
  EXPECT_EQ(reply.snapshot.locks[0].user, "alice");
  EXPECT_TRUE(reply.has_krl);
  EXPECT_EQ(store_->GetNode(node_.host_uuid)->policy_revision, Revision());
}

TEST_F(NodePolicySyncTest, PrunedOrAheadGetsTheFullSnapshot) {
  const std::int64_t since = Revision();
  AddUser("carol");
  // Keeps exactly the revisions since `since`: the delta still answers.
  ASSERT_TRUE(store_->PrunePolicyChanges(Revision() - since).ok());
  EXPECT_EQ(Serve(since).shape, Shape::kDelta);
  AddUser("dave");
  ASSERT_TRUE(store_->PrunePolicyChanges(1).ok());
  EXPECT_EQ(Serve(since).shape, Shape::kFullPage);
  // A node ahead of gate-ca (a database restored from a backup).
  NodePolicyReply ahead = Serve(Revision() + 5);
  EXPECT_EQ(ahead.shape, Shape::kFullPage);
  EXPECT_EQ(ahead.revision, Revision());
}

TEST_F(NodePolicySyncTest, FullSnapshotComesInBoundedPagesWithACursor) {
  ASSERT_TRUE(store_
                  ->InTransaction([&](StoreOperations& tx) -> Status {
                    for (std::size_t i = 0; i < kNodePolicyPageSize + 10; ++i) {
                      UserRecord user;
                      user.name = "u" + std::to_string(100000 + i);
                      user.logins = {"x"};
                      GATE_RETURN_IF_ERROR(tx.CreateUser(user));
                    }
                    return Status::Ok();
                  })
                  .ok());
  const std::int64_t revision = Revision();
  NodePolicyReply first = Serve(0);
  ASSERT_EQ(first.shape, Shape::kFullPage);
  EXPECT_EQ(first.snapshot.roles.size() + first.snapshot.users.size(), kNodePolicyPageSize);
  ASSERT_FALSE(first.next_cursor.empty());
  EXPECT_EQ(store_->GetNode(node_.host_uuid)->last_sync, 0);  // not done yet
  // A change between pages does not stop the paging; the next delta brings it.
  AddUser("zed");
  NodePolicyReply second = Serve(0, first.next_cursor);
  EXPECT_EQ(second.shape, Shape::kFullPage);
  EXPECT_EQ(second.revision, revision);
  EXPECT_FALSE(second.has_krl);
  EXPECT_TRUE(second.next_cursor.empty());
  EXPECT_EQ(first.snapshot.users.size() + second.snapshot.users.size(),
            kNodePolicyPageSize + 10 + 2 + 1);
  EXPECT_LT(first.snapshot.users.back().name, second.snapshot.users.front().name);
  EXPECT_EQ(store_->GetNode(node_.host_uuid)->policy_revision, revision);
}

TEST_F(NodePolicySyncTest, TooManyChangesForADeltaGetTheFullSnapshot) {
  const std::int64_t since = Revision();
  ASSERT_TRUE(store_
                  ->InTransaction([&](StoreOperations& tx) -> Status {
                    for (std::size_t i = 0; i <= kMaxNodePolicyDelta; ++i) {
                      UserRecord user;
                      user.name = "n" + std::to_string(i);
                      GATE_RETURN_IF_ERROR(tx.CreateUser(user));
                    }
                    return Status::Ok();
                  })
                  .ok());
  EXPECT_EQ(Serve(since).shape, Shape::kFullPage);
}

TEST_F(NodePolicySyncTest, MalformedRequestsAreRefusedAndRecordNothing) {
  for (const std::string cursor :
       {"x", "1.q.alice", "abc.u.alice", "999999.u.alice", "1.u", "0.u.alice", "-1.u.alice"}) {
    SCOPED_TRACE(cursor);
    auto reply = ServeNodePolicy(*store_, context_, node_, {0, cursor}, kNow);
    ASSERT_FALSE(reply.has_value());
    EXPECT_EQ(reply.error().code(), Code::kInvalidArgument);
  }
  EXPECT_EQ(ServeNodePolicy(*store_, context_, node_, {-1, ""}, kNow).error().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(store_->GetNode(node_.host_uuid)->last_sync, 0);
}

}  // namespace
}  // namespace gate::ca
