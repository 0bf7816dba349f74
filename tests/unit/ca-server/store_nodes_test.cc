// Store methods for nodes: roles, locks, node join tokens, nodes,
// revocations, the schema migration that added them (v1 -> v2) and the one
// that added the roles' recording flags (v2 -> v3).
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "ca-server/store/store.h"
#include "ca-server/store_test_util.h"

namespace gate::ca {
namespace {

using Strings = std::vector<std::string>;

class StoreNodesTest : public SqliteStoreTest {
 protected:
  void CreateUser(const std::string& name, Strings roles = {}) {
    UserRecord user;
    user.name = name;
    user.logins = {name};
    user.roles = std::move(roles);
    user.created_at = 1000;
    Status s = store_->CreateUser(user);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  static policy::Role MakeRole(const std::string& name) {
    policy::Role role;
    role.name = name;
    role.logins = {"ubuntu", "deploy"};
    role.node_labels = {{"env", "dev"}, {"team", "*"}};
    role.max_ttl = std::chrono::hours(8);
    role.permit_pty = true;
    role.permit_port_forwarding = false;
    role.permit_agent_forwarding = true;
    return role;
  }

  void CreateRole(const std::string& name) {
    Status s = store_->CreateRole(MakeRole(name));
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  void RecordCert(std::uint64_t serial, const std::string& user, std::int64_t valid_before) {
    IssuedCertificate cert;
    cert.serial = serial;
    cert.user = user;
    cert.key_id = user;
    cert.valid_after = 0;
    cert.valid_before = valid_before;
    cert.issued_at = 0;
    Status s = store_->RecordCertificate(cert);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  NodeToken MakeToken(const std::string& hash, std::int64_t expires_at) {
    NodeToken token;
    token.token_hash = hash;
    token.created_at = 100;
    token.expires_at = expires_at;
    token.labels = {{"env", "prod"}, {"team", "db"}};
    return token;
  }

  static NodeRecord MakeNode(const std::string& uuid, const std::string& hostname) {
    NodeRecord node;
    node.host_uuid = uuid;
    node.hostname = hostname;
    node.host_key =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
    node.labels = {{"env", "prod"}, {"rack", "r1"}};
    node.secret_hash = std::string(64, 'a');
    node.joined_at = 500;
    return node;
  }

  // Joins a node through a fresh token.
  void Join(const std::string& uuid, const std::string& hostname) {
    const std::string hash = "token-for-" + uuid;
    ASSERT_TRUE(store_->CreateNodeToken(MakeToken(hash, 10'000)).ok());
    Status s = store_->CompleteNodeJoin(hash, 500, MakeNode(uuid, hostname));
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
};

// --- Roles ---------------------------------------------------------------------------

TEST_F(StoreNodesTest, RoleRoundTripsEveryField) {
  CreateRole("dev");
  Result<policy::Role> got = store_->GetRole("dev");
  ASSERT_TRUE(got.has_value()) << got.error().ToString();
  const policy::Role want = MakeRole("dev");
  EXPECT_EQ(got->name, "dev");
  EXPECT_EQ(got->logins, want.logins);
  EXPECT_EQ(got->node_labels, want.node_labels);
  EXPECT_EQ(got->max_ttl, std::chrono::hours(8));
  EXPECT_TRUE(got->permit_pty);
  EXPECT_FALSE(got->permit_port_forwarding);
  EXPECT_TRUE(got->permit_agent_forwarding);
  EXPECT_FALSE(got->record_sessions);
  EXPECT_FALSE(got->join_sessions);
}

TEST_F(StoreNodesTest, RoleRecordingFlagsRoundTripAndUpdate) {
  policy::Role role = MakeRole("auditors");
  role.record_sessions = true;
  ASSERT_TRUE(store_->CreateRole(role).ok());
  policy::Role joiner = MakeRole("watchers");
  joiner.join_sessions = true;
  ASSERT_TRUE(store_->CreateRole(joiner).ok());
  Result<policy::Role> got = store_->GetRole("auditors");
  ASSERT_TRUE(got.has_value()) << got.error().ToString();
  EXPECT_TRUE(got->record_sessions);
  EXPECT_FALSE(got->join_sessions);
  got = store_->GetRole("watchers");
  ASSERT_TRUE(got.has_value());
  EXPECT_FALSE(got->record_sessions);
  EXPECT_TRUE(got->join_sessions);

  role.record_sessions = false;
  role.join_sessions = true;
  ASSERT_TRUE(store_->UpdateRole(role).ok());
  Result<std::vector<policy::Role>> roles = store_->ListRoles();
  ASSERT_TRUE(roles.has_value());
  ASSERT_EQ(roles->size(), 2u);
  EXPECT_EQ((*roles)[0].name, "auditors");
  EXPECT_FALSE((*roles)[0].record_sessions);
  EXPECT_TRUE((*roles)[0].join_sessions);
  EXPECT_TRUE((*roles)[1].join_sessions);
}

TEST_F(StoreNodesTest, RoleWithoutLoginsAndWithWildcardSelector) {
  policy::Role role;
  role.name = "narrow";
  role.node_labels = {{"*", "*"}};
  role.permit_pty = false;
  ASSERT_TRUE(store_->CreateRole(role).ok());
  Result<policy::Role> got = store_->GetRole("narrow");
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(got->logins.empty());
  EXPECT_EQ(got->node_labels, (policy::Labels{{"*", "*"}}));
  EXPECT_EQ(got->max_ttl.count(), 0);
  EXPECT_FALSE(got->permit_pty);
}

TEST_F(StoreNodesTest, CreateRoleTwiceIsAlreadyExistsAndKeepsTheFirst) {
  CreateRole("dev");
  policy::Role other = MakeRole("dev");
  other.logins = {"root"};
  EXPECT_EQ(store_->CreateRole(other).code(), Code::kAlreadyExists);
  EXPECT_EQ(store_->GetRole("dev")->logins, (Strings{"ubuntu", "deploy"}));
}

TEST_F(StoreNodesTest, CreateRoleRefusesEmptyNameAndNegativeTtl) {
  policy::Role role = MakeRole("");
  EXPECT_EQ(store_->CreateRole(role).code(), Code::kInvalidArgument);
  role = MakeRole("x");
  role.max_ttl = std::chrono::seconds(-1);
  EXPECT_EQ(store_->CreateRole(role).code(), Code::kInvalidArgument);
  EXPECT_TRUE(store_->ListRoles()->empty());
}

TEST_F(StoreNodesTest, GetMissingRoleIsNotFound) {
  EXPECT_EQ(store_->GetRole("nope").error().code(), Code::kNotFound);
}

TEST_F(StoreNodesTest, UpdateRoleReplacesEverything) {
  CreateRole("dev");
  policy::Role role;
  role.name = "dev";
  role.logins = {"root"};
  role.node_labels = {{"env", "staging"}};
  role.permit_agent_forwarding = false;
  ASSERT_TRUE(store_->UpdateRole(role).ok());
  Result<policy::Role> got = store_->GetRole("dev");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->logins, (Strings{"root"}));
  EXPECT_EQ(got->node_labels, (policy::Labels{{"env", "staging"}}));
  EXPECT_EQ(got->max_ttl.count(), 0);
  EXPECT_TRUE(got->permit_port_forwarding);
  EXPECT_FALSE(got->permit_agent_forwarding);
  role.name = "missing";
  EXPECT_EQ(store_->UpdateRole(role).code(), Code::kNotFound);
}

TEST_F(StoreNodesTest, ListRolesIsSortedByNameWithChildren) {
  CreateRole("ops");
  CreateRole("dba");
  CreateRole("dev");
  Result<std::vector<policy::Role>> roles = store_->ListRoles();
  ASSERT_TRUE(roles.has_value());
  ASSERT_EQ(roles->size(), 3u);
  EXPECT_EQ((*roles)[0].name, "dba");
  EXPECT_EQ((*roles)[1].name, "dev");
  EXPECT_EQ((*roles)[2].name, "ops");
  for (const auto& role : *roles) {
    EXPECT_EQ(role.logins, (Strings{"ubuntu", "deploy"})) << role.name;
    EXPECT_EQ(role.node_labels.size(), 2u) << role.name;
  }
}

TEST_F(StoreNodesTest, DeleteRoleHeldByUsersIsRefusedAndNamesThem) {
  CreateRole("dev");
  CreateUser("bob", {"dev"});
  CreateUser("alice", {"ops", "dev"});
  Status s = store_->DeleteRole("dev");
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_NE(s.message().find("alice, bob"), std::string::npos) << s.message();
  EXPECT_TRUE(store_->GetRole("dev").has_value());

  ASSERT_TRUE(store_->UpdateUser("alice", std::nullopt, Strings{}).has_value());
  ASSERT_TRUE(store_->DeleteUser("bob").ok());
  ASSERT_TRUE(store_->DeleteRole("dev").ok());
  EXPECT_EQ(store_->GetRole("dev").error().code(), Code::kNotFound);
  EXPECT_EQ(store_->DeleteRole("dev").code(), Code::kNotFound);
}

TEST_F(StoreNodesTest, DeleteRoleNamesAFewHoldersOnly) {
  CreateRole("dev");
  for (int i = 0; i < 8; ++i) CreateUser("u" + std::to_string(i), {"dev"});
  Status s = store_->DeleteRole("dev");
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_NE(s.message().find("and others"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find("u7"), std::string::npos) << s.message();
}

// --- UpdateUser ------------------------------------------------------------------

TEST_F(StoreNodesTest, UpdateUserReplacesOnlyTheListsGiven) {
  CreateRole("dev");
  CreateRole("ops");
  CreateUser("alice", {"dev"});
  Result<UserRecord> updated = store_->UpdateUser("alice", std::nullopt, Strings{"ops", "dev"});
  ASSERT_TRUE(updated.has_value()) << updated.error().ToString();
  EXPECT_EQ(updated->logins, (Strings{"alice"}));
  EXPECT_EQ(updated->roles, (Strings{"ops", "dev"}));

  updated = store_->UpdateUser("alice", Strings{"root", "alice"}, std::nullopt);
  ASSERT_TRUE(updated.has_value());
  EXPECT_EQ(updated->logins, (Strings{"root", "alice"}));
  EXPECT_EQ(updated->roles, (Strings{"ops", "dev"}));
  EXPECT_EQ(store_->GetUser("alice")->logins, (Strings{"root", "alice"}));
}

TEST_F(StoreNodesTest, UpdateUserRefusesMissingUserOrRoleAndChangesNothing) {
  CreateRole("dev");
  CreateUser("alice", {"dev"});
  EXPECT_EQ(store_->UpdateUser("nobody", Strings{"x"}, std::nullopt).error().code(),
            Code::kNotFound);
  Result<UserRecord> bad = store_->UpdateUser("alice", Strings{"root"}, Strings{"dev", "ghost"});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), Code::kNotFound);
  EXPECT_NE(bad.error().message().find("ghost"), std::string::npos);
  Result<UserRecord> user = store_->GetUser("alice");
  EXPECT_EQ(user->logins, (Strings{"alice"}));
  EXPECT_EQ(user->roles, (Strings{"dev"}));
}

// --- Locks -----------------------------------------------------------------------

TEST_F(StoreNodesTest, LocksAreOnePerUserAndReplaceable) {
  CreateUser("alice");
  CreateUser("bob");
  ASSERT_TRUE(store_->SetLock({"bob", 0, "left the company", 10}).ok());
  ASSERT_TRUE(store_->SetLock({"alice", 500, "first", 20}).ok());
  ASSERT_TRUE(store_->SetLock({"alice", 900, "second", 30}).ok());
  Result<std::vector<LockRecord>> locks = store_->ListLocks();
  ASSERT_TRUE(locks.has_value());
  ASSERT_EQ(locks->size(), 2u);
  EXPECT_EQ((*locks)[0].user, "alice");
  EXPECT_EQ((*locks)[0].expires_at, 900);
  EXPECT_EQ((*locks)[0].message, "second");
  EXPECT_EQ((*locks)[0].created_at, 30);
  EXPECT_EQ((*locks)[1].user, "bob");
  EXPECT_EQ((*locks)[1].expires_at, 0);
}

TEST_F(StoreNodesTest, LockNeedsAUserAndGoesWithIt) {
  EXPECT_EQ(store_->SetLock({"ghost", 0, "x", 1}).code(), Code::kNotFound);
  EXPECT_EQ(store_->SetLock({"", 0, "x", 1}).code(), Code::kInvalidArgument);
  CreateUser("alice");
  ASSERT_TRUE(store_->SetLock({"alice", 0, "x", 1}).ok());
  ASSERT_TRUE(store_->DeleteUser("alice").ok());
  EXPECT_TRUE(store_->ListLocks()->empty());
  // A new user of the same name starts unlocked.
  CreateUser("alice");
  EXPECT_TRUE(store_->ListLocks()->empty());
}

TEST_F(StoreNodesTest, DeleteLock) {
  CreateUser("alice");
  EXPECT_EQ(store_->DeleteLock("alice").code(), Code::kNotFound);
  ASSERT_TRUE(store_->SetLock({"alice", 0, "x", 1}).ok());
  ASSERT_TRUE(store_->DeleteLock("alice").ok());
  EXPECT_TRUE(store_->ListLocks()->empty());
}

// --- Node join tokens and nodes ----------------------------------------------------

TEST_F(StoreNodesTest, NodeTokenRoundTrips) {
  ASSERT_TRUE(store_->CreateNodeToken(MakeToken("h1", 2000)).ok());
  EXPECT_EQ(store_->CreateNodeToken(MakeToken("h1", 3000)).code(), Code::kAlreadyExists);
  Result<NodeToken> got = store_->GetNodeToken("h1");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->created_at, 100);
  EXPECT_EQ(got->expires_at, 2000);
  EXPECT_EQ(got->labels, (policy::Labels{{"env", "prod"}, {"team", "db"}}));
  EXPECT_EQ(store_->GetNodeToken("h2").error().code(), Code::kNotFound);
  NodeToken empty = MakeToken("", 1);
  EXPECT_EQ(store_->CreateNodeToken(empty).code(), Code::kInvalidArgument);
}

TEST_F(StoreNodesTest, CompleteNodeJoinConsumesTheTokenAndRegistersTheNode) {
  ASSERT_TRUE(store_->CreateNodeToken(MakeToken("h1", 2000)).ok());
  NodeRecord node = MakeNode("uuid-1", "db-1");
  ASSERT_TRUE(store_->CompleteNodeJoin("h1", 1999, node).ok());
  EXPECT_EQ(store_->GetNodeToken("h1").error().code(), Code::kNotFound);
  Result<NodeRecord> got = store_->GetNode("uuid-1");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->hostname, "db-1");
  EXPECT_EQ(got->host_key, node.host_key);
  EXPECT_EQ(got->labels, node.labels);
  EXPECT_EQ(got->secret_hash, node.secret_hash);
  EXPECT_EQ(got->joined_at, 500);
  EXPECT_EQ(got->last_sync, 0);
  // Single use: the same token cannot admit a second node.
  EXPECT_EQ(store_->CompleteNodeJoin("h1", 1999, MakeNode("uuid-2", "db-2")).code(),
            Code::kNotFound);
  EXPECT_EQ(store_->GetNode("uuid-2").error().code(), Code::kNotFound);
}

TEST_F(StoreNodesTest, CompleteNodeJoinWithExpiredTokenChangesNothing) {
  ASSERT_TRUE(store_->CreateNodeToken(MakeToken("h1", 2000)).ok());
  Status s = store_->CompleteNodeJoin("h1", 2000, MakeNode("uuid-1", "db-1"));
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_NE(s.message().find("expired"), std::string::npos);
  EXPECT_TRUE(store_->GetNodeToken("h1").has_value());
  EXPECT_TRUE(store_->ListNodes()->empty());
}

TEST_F(StoreNodesTest, CompleteNodeJoinWithTakenUuidKeepsTheToken) {
  Join("uuid-1", "db-1");
  ASSERT_TRUE(store_->CreateNodeToken(MakeToken("h2", 2000)).ok());
  EXPECT_EQ(store_->CompleteNodeJoin("h2", 1000, MakeNode("uuid-1", "other")).code(),
            Code::kAlreadyExists);
  EXPECT_TRUE(store_->GetNodeToken("h2").has_value());
  EXPECT_EQ(store_->GetNode("uuid-1")->hostname, "db-1");
}

TEST_F(StoreNodesTest, CompleteNodeJoinRefusesEmptyIdentity) {
  ASSERT_TRUE(store_->CreateNodeToken(MakeToken("h1", 2000)).ok());
  NodeRecord node = MakeNode("", "db-1");
  EXPECT_EQ(store_->CompleteNodeJoin("h1", 1000, node).code(), Code::kInvalidArgument);
  node = MakeNode("uuid-1", "db-1");
  node.secret_hash.clear();
  EXPECT_EQ(store_->CompleteNodeJoin("h1", 1000, node).code(), Code::kInvalidArgument);
  EXPECT_TRUE(store_->GetNodeToken("h1").has_value());
}

TEST_F(StoreNodesTest, OneTokenAdmitsOneNodeAcrossThreads) {
  ASSERT_TRUE(store_->CreateNodeToken(MakeToken("h1", 2000)).ok());
  constexpr int kThreads = 8;
  std::vector<Status> results(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      results[i] = store_->CompleteNodeJoin("h1", 1000, MakeNode("uuid-" + std::to_string(i), "n"));
    });
  }
  for (auto& t : threads) t.join();
  int ok = 0;
  for (const Status& s : results) ok += s.ok() ? 1 : 0;
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(store_->ListNodes()->size(), 1u);
}

TEST_F(StoreNodesTest, DeleteExpiredNodeTokens) {
  ASSERT_TRUE(store_->CreateNodeToken(MakeToken("old", 100)).ok());
  ASSERT_TRUE(store_->CreateNodeToken(MakeToken("new", 300)).ok());
  ASSERT_TRUE(store_->DeleteExpiredNodeTokens(200).ok());
  EXPECT_EQ(store_->GetNodeToken("old").error().code(), Code::kNotFound);
  EXPECT_EQ(store_->GetNodeToken("new")->labels.size(), 2u);
}

TEST_F(StoreNodesTest, ListNodesSortsByHostnameWithLabels) {
  Join("uuid-b", "web-1");
  Join("uuid-a", "db-1");
  Join("uuid-c", "db-1");
  Result<std::vector<NodeRecord>> nodes = store_->ListNodes();
  ASSERT_TRUE(nodes.has_value());
  ASSERT_EQ(nodes->size(), 3u);
  EXPECT_EQ((*nodes)[0].host_uuid, "uuid-a");
  EXPECT_EQ((*nodes)[1].host_uuid, "uuid-c");
  EXPECT_EQ((*nodes)[2].host_uuid, "uuid-b");
  for (const auto& node : *nodes) EXPECT_EQ(node.labels.at("rack"), "r1");
}

TEST_F(StoreNodesTest, RecordNodeSyncAndDeleteNode) {
  Join("uuid-1", "db-1");
  ASSERT_TRUE(store_->RecordNodeSync("uuid-1", 777).ok());
  EXPECT_EQ(store_->GetNode("uuid-1")->last_sync, 777);
  EXPECT_EQ(store_->RecordNodeSync("uuid-2", 777).code(), Code::kNotFound);
  ASSERT_TRUE(store_->DeleteNode("uuid-1").ok());
  EXPECT_EQ(store_->GetNode("uuid-1").error().code(), Code::kNotFound);
  EXPECT_EQ(store_->DeleteNode("uuid-1").code(), Code::kNotFound);
  EXPECT_EQ(store_->RecordNodeSync("uuid-1", 778).code(), Code::kNotFound);
}

// --- Revocations -------------------------------------------------------------------

TEST_F(StoreNodesTest, RevokeCertificateByIssuedSerial) {
  RecordCert(42, "alice", 5000);
  EXPECT_EQ(store_->ListRevocations(0)->version, 0u);
  Result<Revocation> r = store_->RevokeCertificate(42, 1000);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->serial, 42u);
  EXPECT_EQ(r->user, "alice");
  EXPECT_EQ(r->revoked_at, 1000);
  EXPECT_EQ(r->valid_before, 5000);
  Result<RevocationList> list = store_->ListRevocations(1000);
  ASSERT_TRUE(list.has_value());
  EXPECT_EQ(list->version, 1u);
  ASSERT_EQ(list->revocations.size(), 1u);
  EXPECT_EQ(list->revocations[0].serial, 42u);
}

TEST_F(StoreNodesTest, RevokingTwiceChangesNothing) {
  RecordCert(42, "alice", 5000);
  ASSERT_TRUE(store_->RevokeCertificate(42, 1000).has_value());
  Result<Revocation> again = store_->RevokeCertificate(42, 2000);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->revoked_at, 1000);  // the first revocation
  EXPECT_EQ(store_->ListRevocations(0)->version, 1u);
}

TEST_F(StoreNodesTest, RevokeUnknownSerialIsNotFound) {
  Result<Revocation> r = store_->RevokeCertificate(99, 1000);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kNotFound);
  EXPECT_EQ(store_->ListRevocations(0)->version, 0u);
}

TEST_F(StoreNodesTest, RevokeUserCertificatesTakesOnlyLiveUnrevokedOnes) {
  const std::uint64_t kBig = (std::uint64_t{1} << 63) + 5;
  RecordCert(kBig, "alice", 5000);  // sorts last as uint64, first as int64
  RecordCert(1, "alice", 900);      // expired at now = 1000
  RecordCert(2, "alice", 6000);
  RecordCert(3, "alice", 7000);
  RecordCert(4, "bob", 7000);
  ASSERT_TRUE(store_->RevokeCertificate(3, 500).has_value());
  Result<std::vector<Revocation>> revoked = store_->RevokeUserCertificates("alice", 1000);
  ASSERT_TRUE(revoked.has_value()) << revoked.error().ToString();
  ASSERT_EQ(revoked->size(), 2u);
  EXPECT_EQ((*revoked)[0].serial, 2u);
  EXPECT_EQ((*revoked)[1].serial, kBig);
  EXPECT_EQ((*revoked)[1].user, "alice");
  EXPECT_EQ(store_->ListRevocations(0)->version, 2u);
  // Nothing left: no change, no new version.
  EXPECT_TRUE(store_->RevokeUserCertificates("alice", 1000)->empty());
  EXPECT_TRUE(store_->RevokeUserCertificates("nobody", 1000)->empty());
  EXPECT_EQ(store_->ListRevocations(0)->version, 2u);
}

TEST_F(StoreNodesTest, DeletedUsersCertificatesStayRevocable) {
  CreateUser("alice");
  RecordCert(7, "alice", 5000);
  ASSERT_TRUE(store_->DeleteUser("alice").ok());
  Result<std::vector<Revocation>> revoked = store_->RevokeUserCertificates("alice", 1000);
  ASSERT_TRUE(revoked.has_value());
  EXPECT_EQ(revoked->size(), 1u);
}

TEST_F(StoreNodesTest, ListRevocationsDropsExpiredCertificates) {
  RecordCert(10, "alice", 1000);
  RecordCert(11, "alice", 3000);
  ASSERT_TRUE(store_->RevokeUserCertificates("alice", 0).has_value());
  Result<RevocationList> early = store_->ListRevocations(999);
  ASSERT_EQ(early->revocations.size(), 2u);
  EXPECT_EQ(early->revocations[0].serial, 10u);
  Result<RevocationList> later = store_->ListRevocations(1000);
  ASSERT_EQ(later->revocations.size(), 1u);
  EXPECT_EQ(later->revocations[0].serial, 11u);
  EXPECT_EQ(later->version, early->version);
}

TEST_F(StoreNodesTest, RevocationsAreFinalEvenThroughRawSql) {
  RecordCert(10, "alice", 1000);
  ASSERT_TRUE(store_->RevokeCertificate(10, 0).has_value());
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  EXPECT_NE(sqlite3_exec(db, "DELETE FROM revocations", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
}

TEST_F(StoreNodesTest, EverythingPersistsAcrossReopen) {
  CreateRole("dev");
  CreateUser("alice", {"dev"});
  ASSERT_TRUE(store_->SetLock({"alice", 0, "x", 1}).ok());
  Join("uuid-1", "db-1");
  RecordCert(5, "alice", 9000);
  ASSERT_TRUE(store_->RevokeCertificate(5, 10).has_value());
  Reopen();
  EXPECT_EQ(store_->GetRole("dev")->logins.size(), 2u);
  EXPECT_EQ(store_->ListLocks()->size(), 1u);
  EXPECT_EQ(store_->GetNode("uuid-1")->labels.size(), 2u);
  EXPECT_EQ(store_->ListRevocations(0)->version, 1u);
  EXPECT_EQ(store_->ListRevocations(0)->revocations.size(), 1u);
}

// --- Migration ------------------------------------------------------------------------

// Runs sql on the database file directly, outside the store.
void RawExec(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &error);
  const std::string message = error != nullptr ? error : "";
  sqlite3_free(error);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << message;
}

// The tables schema version 2 ended with; later migrations' tables are
// dropped to take a file back to v2.
constexpr const char* kV2Tables[] = {"schema_version",
                                     "users",
                                     "user_logins",
                                     "user_roles",
                                     "signup_tokens",
                                     "certificates",
                                     "audit",
                                     "roles",
                                     "role_logins",
                                     "role_node_labels",
                                     "locks",
                                     "node_tokens",
                                     "node_token_labels",
                                     "nodes",
                                     "node_labels",
                                     "revocations",
                                     "revocation_version"};

// Drops every table that is not in kV2Tables (with its indexes and
// triggers), so the test keeps working as later migrations add tables.
void DropTablesAfterV2(const std::string& path) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  std::vector<std::string> extra;
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "SELECT name FROM sqlite_master WHERE type = 'table'"
                               " AND name NOT LIKE 'sqlite_%'",
                               -1, &stmt, nullptr),
            SQLITE_OK);
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    const std::string name = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    if (std::find(std::begin(kV2Tables), std::end(kV2Tables), name) == std::end(kV2Tables)) {
      extra.push_back(name);
    }
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  for (const std::string& name : extra) {
    RawExec(path, ("PRAGMA foreign_keys=OFF; DROP TABLE \"" + name + "\";").c_str());
  }
}

// Columns later migrations add to v2's tables (3: roles' recording flags,
// 4: nodes' recorder key). A migration that adds another must list it here.
constexpr std::pair<const char*, const char*> kColumnsAfterV2[] = {
    {"roles", "record_sessions"}, {"roles", "join_sessions"}, {"nodes", "recorder_key"}};

// Takes the file back to schema version 2: drops later tables and columns.
void RewindToV2(const std::string& path) {
  DropTablesAfterV2(path);
  for (const auto& [table, column] : kColumnsAfterV2) {
    RawExec(path, (std::string("ALTER TABLE ") + table + " DROP COLUMN " + column).c_str());
  }
  RawExec(path, "UPDATE schema_version SET version = 2");
}

TEST_F(StoreNodesTest, MigratesAVersion1DatabaseKeepingItsData) {
  CreateUser("alice", {"ops"});
  RecordCert(77, "alice", 9000);
  store_.reset();
  // Take the file back to what schema version 1 left: v1's tables, with
  // data, and none of v2's (or later versions').
  DropTablesAfterV2(path_);
  RawExec(path_,
          "PRAGMA foreign_keys=OFF; BEGIN;"
          "DROP TABLE revocation_version; DROP TABLE revocations;"
          "DROP TABLE node_labels; DROP TABLE nodes;"
          "DROP TABLE node_token_labels; DROP TABLE node_tokens;"
          "DROP TABLE locks; DROP INDEX user_roles_by_role;"
          "DROP TABLE role_node_labels; DROP TABLE role_logins; DROP TABLE roles;"
          "UPDATE schema_version SET version = 1; COMMIT;");
  Reopen();
  Result<UserRecord> alice = store_->GetUser("alice");
  ASSERT_TRUE(alice.has_value()) << alice.error().ToString();
  EXPECT_EQ(alice->logins, (Strings{"alice"}));
  EXPECT_EQ(alice->roles, (Strings{"ops"}));
  EXPECT_EQ(store_->ListCertificates("alice")->size(), 1u);
  // v2 works on the migrated file.
  CreateRole("ops");
  ASSERT_TRUE(store_->SetLock({"alice", 0, "x", 1}).ok());
  ASSERT_TRUE(store_->RevokeCertificate(77, 10).has_value());
  EXPECT_EQ(store_->ListRevocations(0)->version, 1u);
  EXPECT_EQ(store_->DeleteRole("ops").code(), Code::kFailedPrecondition);
}

TEST_F(StoreNodesTest, MigratesAVersion2DatabaseRolesRecordNothing) {
  CreateRole("dba");
  CreateUser("alice", {"dba"});
  store_.reset();
  RewindToV2(path_);
  Reopen();
  Result<policy::Role> dba = store_->GetRole("dba");
  ASSERT_TRUE(dba.has_value()) << dba.error().ToString();
  EXPECT_EQ(dba->logins, (Strings{"ubuntu", "deploy"}));
  EXPECT_EQ(dba->max_ttl, std::chrono::hours(8));
  EXPECT_FALSE(dba->record_sessions);
  EXPECT_FALSE(dba->join_sessions);
  EXPECT_EQ(store_->GetUser("alice")->roles, (Strings{"dba"}));
  policy::Role role = *dba;
  role.record_sessions = true;
  ASSERT_TRUE(store_->UpdateRole(role).ok());
  EXPECT_TRUE(store_->GetRole("dba")->record_sessions);
}

// The CHECK constraints hold even against raw SQL.
TEST_F(StoreNodesTest, RecordingFlagsAreZeroOrOne) {
  CreateRole("dba");
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  EXPECT_NE(sqlite3_exec(db, "UPDATE roles SET record_sessions = 2", nullptr, nullptr, nullptr),
            SQLITE_OK);
  EXPECT_NE(sqlite3_exec(db, "UPDATE roles SET join_sessions = -1", nullptr, nullptr, nullptr),
            SQLITE_OK);
  EXPECT_NE(sqlite3_exec(db, "UPDATE roles SET join_sessions = NULL", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
}

}  // namespace
}  // namespace gate::ca
