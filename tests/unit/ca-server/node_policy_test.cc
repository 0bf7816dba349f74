// BuildNodePolicy reads one snapshot of the store, against a real SQLite
// store: writes committed between its reads are not mixed into the policy.
#include "ca-server/nodes/node_policy.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "ca-server/issuer/revocation.h"
#include "ca-server/store_forwarding.h"
#include "ca-server/store_sqlite_backend.h"
#include "gate/ed25519.h"

namespace gate::ca {
namespace {

constexpr std::int64_t kNow = 1'700'000'000;

// Runs `between` (once) right after the first ListUsers, inside a read
// transaction or not: where a policy built from separate reads would see
// what it commits.
class WriteAfterListUsers : public ForwardingOperations<StoreOperations> {
 public:
  WriteAfterListUsers(StoreOperations& inner, std::function<void()>& between)
      : ForwardingOperations(inner), between_(between) {}
  Result<std::vector<UserRecord>> ListUsers() override {
    auto users = inner_.ListUsers();
    if (between_) std::exchange(between_, nullptr)();
    return users;
  }

 private:
  std::function<void()>& between_;
};

class InterleavingStore : public ForwardingOperations<Store> {
 public:
  InterleavingStore(Store& store, std::function<void()> between)
      : ForwardingOperations(store), store_(store), between_(std::move(between)) {}

  Status InTransaction(const TransactionBody& body) override { return store_.InTransaction(body); }
  Status InReadTransaction(const TransactionBody& body) override {
    return store_.InReadTransaction([&](StoreOperations& tx) {
      WriteAfterListUsers watched(tx, between_);
      return body(watched);
    });
  }
  Result<std::vector<UserRecord>> ListUsers() override {
    auto users = inner_.ListUsers();
    if (between_) std::exchange(between_, nullptr)();
    return users;
  }

 private:
  Store& store_;
  std::function<void()> between_;
};

class NodePolicyTest : public SqliteStoreFixture {
 protected:
  void SetUp() override {
    SqliteStoreFixture::SetUp();
    policy::Role dev;
    dev.name = "dev";
    dev.logins = {"deploy"};
    ASSERT_TRUE(store_->CreateRole(dev).ok());
    UserRecord alice;
    alice.name = "alice";
    alice.logins = {"alice"};
    ASSERT_TRUE(store_->CreateUser(alice).ok());
    IssuedCertificate cert;
    cert.serial = 7;
    cert.user = "alice";
    cert.key_id = "alice";
    cert.valid_before = kNow + 3600;
    ASSERT_TRUE(store_->RecordCertificate(cert).ok());
    node_.host_uuid = "4a6f0c1e-9b2d-4c3e-8f10-0123456789ab";
    node_.hostname = "db-1";
    context_.cluster_name = "grav-00";
    context_.user_ca = ssh::Ed25519PrivateKey::Generate()->public_key();
  }

  // What an admin does while a sync is reading: deletes the role, adds a
  // user holding it, locks alice and revokes her certificate. Committed by
  // another thread (joined before the sync reads on), as a concurrent
  // admin request would.
  void ConcurrentAdmin() {
    std::thread admin([this] {
      EXPECT_TRUE(store_->DeleteRole("dev").ok());
      UserRecord bob;
      bob.name = "bob";
      bob.roles = {"dev"};
      EXPECT_TRUE(store_->CreateUser(bob).ok());
      EXPECT_TRUE(store_->SetLock({"alice", 0, "held", kNow}).ok());
      EXPECT_TRUE(RevocationService(*store_).RevokeCertificate(7, kNow).has_value());
    });
    admin.join();
  }

  NodeRecord node_;
  NodePolicyContext context_;
};

TEST_F(NodePolicyTest, PolicyIsOneStateEvenWhenWritesCommitBetweenItsReads) {
  InterleavingStore store(*store_, [this] { ConcurrentAdmin(); });
  auto before = BuildNodePolicy(store, context_, node_, kNow);
  ASSERT_TRUE(before.has_value()) << before.error().ToString();
  // The state before the admin's writes, whole: alice alone, the role she
  // could be given, no lock, nothing revoked.
  const policy::Snapshot& snapshot = before->snapshot;
  ASSERT_EQ(snapshot.users.size(), 1u);
  EXPECT_EQ(snapshot.users[0].name, "alice");
  ASSERT_EQ(snapshot.roles.size(), 1u);
  EXPECT_EQ(snapshot.roles[0].name, "dev");
  EXPECT_TRUE(snapshot.locks.empty());
  EXPECT_TRUE(snapshot.revoked_serials.empty());

  // The next sync sees all of the writes, and nothing else.
  auto after = BuildNodePolicy(*store_, context_, node_, kNow);
  ASSERT_TRUE(after.has_value()) << after.error().ToString();
  ASSERT_EQ(after->snapshot.users.size(), 2u);
  EXPECT_EQ(after->snapshot.users[1].name, "bob");
  EXPECT_TRUE(after->snapshot.roles.empty());
  ASSERT_EQ(after->snapshot.locks.size(), 1u);
  EXPECT_EQ(after->snapshot.revoked_serials, (std::vector<std::uint64_t>{7}));
  EXPECT_NE(after->krl, before->krl);
}

TEST_F(NodePolicyTest, SyncRecordsTheSyncOnlyForAKnownNode) {
  auto missing = SyncNode(*store_, context_, node_, kNow);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), Code::kNotFound);
  node_.secret_hash = std::string(64, 'a');
  ASSERT_TRUE(store_->CreateNode(node_).ok());
  auto synced = SyncNode(*store_, context_, node_, kNow);
  ASSERT_TRUE(synced.has_value()) << synced.error().ToString();
  EXPECT_EQ(synced->snapshot.host_uuid, node_.host_uuid);
  EXPECT_EQ(store_->GetNode(node_.host_uuid)->last_sync, kNow);
}

}  // namespace
}  // namespace gate::ca
