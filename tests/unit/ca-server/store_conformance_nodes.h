// Store conformance: roles, user updates, locks, node join tokens, nodes and revocations. Part of
// the typed suite in store_conformance.h; every backend must pass it.
#ifndef GATE_TESTS_UNIT_CA_SERVER_STORE_CONFORMANCE_NODES_H_
#define GATE_TESTS_UNIT_CA_SERVER_STORE_CONFORMANCE_NODES_H_

#include "ca-server/store_conformance.h"

namespace gate::ca::store_conformance {

// --- Roles ---------------------------------------------------------------------------

TYPED_TEST_P(StoreConformanceTest, RoleRoundTripsEveryField) {
  this->CreateRole("dev");
  Result<policy::Role> got = this->store_->GetRole("dev");
  ASSERT_TRUE(got.has_value()) << got.error().ToString();
  const policy::Role want = TestFixture::MakeRole("dev");
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

TYPED_TEST_P(StoreConformanceTest, RoleRecordingFlagsRoundTripAndUpdate) {
  policy::Role role = TestFixture::MakeRole("auditors");
  role.record_sessions = true;
  ASSERT_TRUE(this->store_->CreateRole(role).ok());
  policy::Role joiner = TestFixture::MakeRole("watchers");
  joiner.join_sessions = true;
  ASSERT_TRUE(this->store_->CreateRole(joiner).ok());
  Result<policy::Role> got = this->store_->GetRole("auditors");
  ASSERT_TRUE(got.has_value()) << got.error().ToString();
  EXPECT_TRUE(got->record_sessions);
  EXPECT_FALSE(got->join_sessions);
  got = this->store_->GetRole("watchers");
  ASSERT_TRUE(got.has_value());
  EXPECT_FALSE(got->record_sessions);
  EXPECT_TRUE(got->join_sessions);

  role.record_sessions = false;
  role.join_sessions = true;
  ASSERT_TRUE(this->store_->UpdateRole(role).ok());
  Result<std::vector<policy::Role>> roles = this->store_->ListRoles();
  ASSERT_TRUE(roles.has_value());
  ASSERT_EQ(roles->size(), 2u);
  EXPECT_EQ((*roles)[0].name, "auditors");
  EXPECT_FALSE((*roles)[0].record_sessions);
  EXPECT_TRUE((*roles)[0].join_sessions);
  EXPECT_TRUE((*roles)[1].join_sessions);
}

TYPED_TEST_P(StoreConformanceTest, RoleWithoutLoginsAndWithWildcardSelector) {
  policy::Role role;
  role.name = "narrow";
  role.node_labels = {{"*", "*"}};
  role.permit_pty = false;
  ASSERT_TRUE(this->store_->CreateRole(role).ok());
  Result<policy::Role> got = this->store_->GetRole("narrow");
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(got->logins.empty());
  EXPECT_EQ(got->node_labels, (policy::Labels{{"*", "*"}}));
  EXPECT_EQ(got->max_ttl.count(), 0);
  EXPECT_FALSE(got->permit_pty);
}

TYPED_TEST_P(StoreConformanceTest, CreateRoleTwiceIsAlreadyExistsAndKeepsTheFirst) {
  this->CreateRole("dev");
  policy::Role other = TestFixture::MakeRole("dev");
  other.logins = {"root"};
  EXPECT_EQ(this->store_->CreateRole(other).code(), Code::kAlreadyExists);
  EXPECT_EQ(this->store_->GetRole("dev")->logins, (Strings{"ubuntu", "deploy"}));
}

TYPED_TEST_P(StoreConformanceTest, GetMissingRoleIsNotFound) {
  EXPECT_EQ(this->store_->GetRole("nope").error().code(), Code::kNotFound);
}

TYPED_TEST_P(StoreConformanceTest, UpdateRoleReplacesEverything) {
  this->CreateRole("dev");
  policy::Role role;
  role.name = "dev";
  role.logins = {"root"};
  role.node_labels = {{"env", "staging"}};
  role.permit_agent_forwarding = false;
  ASSERT_TRUE(this->store_->UpdateRole(role).ok());
  Result<policy::Role> got = this->store_->GetRole("dev");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->logins, (Strings{"root"}));
  EXPECT_EQ(got->node_labels, (policy::Labels{{"env", "staging"}}));
  EXPECT_EQ(got->max_ttl.count(), 0);
  EXPECT_TRUE(got->permit_port_forwarding);
  EXPECT_FALSE(got->permit_agent_forwarding);
  role.name = "missing";
  EXPECT_EQ(this->store_->UpdateRole(role).code(), Code::kNotFound);
}

TYPED_TEST_P(StoreConformanceTest, ListRolesIsSortedByNameWithChildren) {
  this->CreateRole("ops");
  this->CreateRole("dba");
  this->CreateRole("dev");
  Result<std::vector<policy::Role>> roles = this->store_->ListRoles();
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

TYPED_TEST_P(StoreConformanceTest, DeleteRoleHeldByUsersIsRefusedAndNamesThem) {
  this->CreateRole("dev");
  this->CreateNamedUser("bob", {"dev"});
  this->CreateNamedUser("alice", {"ops", "dev"});
  Status s = this->store_->DeleteRole("dev");
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_NE(s.message().find("alice, bob"), std::string::npos) << s.message();
  EXPECT_TRUE(this->store_->GetRole("dev").has_value());

  ASSERT_TRUE(this->store_->UpdateUser("alice", std::nullopt, Strings{}).has_value());
  ASSERT_TRUE(this->store_->DeleteUser("bob").ok());
  ASSERT_TRUE(this->store_->DeleteRole("dev").ok());
  EXPECT_EQ(this->store_->GetRole("dev").error().code(), Code::kNotFound);
  EXPECT_EQ(this->store_->DeleteRole("dev").code(), Code::kNotFound);
}

TYPED_TEST_P(StoreConformanceTest, DeleteRoleNamesAFewHoldersOnly) {
  this->CreateRole("dev");
  for (int i = 0; i < 8; ++i) this->CreateNamedUser("u" + std::to_string(i), {"dev"});
  Status s = this->store_->DeleteRole("dev");
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_NE(s.message().find("and others"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find("u7"), std::string::npos) << s.message();
}

// --- UpdateUser ------------------------------------------------------------------

TYPED_TEST_P(StoreConformanceTest, UpdateUserReplacesOnlyTheListsGiven) {
  this->CreateRole("dev");
  this->CreateRole("ops");
  this->CreateNamedUser("alice", {"dev"});
  Result<UserRecord> updated =
      this->store_->UpdateUser("alice", std::nullopt, Strings{"ops", "dev"});
  ASSERT_TRUE(updated.has_value()) << updated.error().ToString();
  EXPECT_EQ(updated->logins, (Strings{"alice"}));
  EXPECT_EQ(updated->roles, (Strings{"ops", "dev"}));

  updated = this->store_->UpdateUser("alice", Strings{"root", "alice"}, std::nullopt);
  ASSERT_TRUE(updated.has_value());
  EXPECT_EQ(updated->logins, (Strings{"root", "alice"}));
  EXPECT_EQ(updated->roles, (Strings{"ops", "dev"}));
  EXPECT_EQ(this->store_->GetUser("alice")->logins, (Strings{"root", "alice"}));
}

TYPED_TEST_P(StoreConformanceTest, UpdateUserRefusesMissingUserOrRoleAndChangesNothing) {
  this->CreateRole("dev");
  this->CreateNamedUser("alice", {"dev"});
  EXPECT_EQ(this->store_->UpdateUser("nobody", Strings{"x"}, std::nullopt).error().code(),
            Code::kNotFound);
  Result<UserRecord> bad =
      this->store_->UpdateUser("alice", Strings{"root"}, Strings{"dev", "ghost"});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), Code::kNotFound);
  EXPECT_NE(bad.error().message().find("ghost"), std::string::npos);
  Result<UserRecord> user = this->store_->GetUser("alice");
  EXPECT_EQ(user->logins, (Strings{"alice"}));
  EXPECT_EQ(user->roles, (Strings{"dev"}));
}

// --- Locks -----------------------------------------------------------------------

TYPED_TEST_P(StoreConformanceTest, LocksAreOnePerUserAndReplaceable) {
  this->CreateNamedUser("alice");
  this->CreateNamedUser("bob");
  ASSERT_TRUE(this->store_->SetLock({"bob", 0, "left the company", 10}).ok());
  ASSERT_TRUE(this->store_->SetLock({"alice", 500, "first", 20}).ok());
  ASSERT_TRUE(this->store_->SetLock({"alice", 900, "second", 30}).ok());
  Result<std::vector<LockRecord>> locks = this->store_->ListLocks();
  ASSERT_TRUE(locks.has_value());
  ASSERT_EQ(locks->size(), 2u);
  EXPECT_EQ((*locks)[0].user, "alice");
  EXPECT_EQ((*locks)[0].expires_at, 900);
  EXPECT_EQ((*locks)[0].message, "second");
  EXPECT_EQ((*locks)[0].created_at, 30);
  EXPECT_EQ((*locks)[1].user, "bob");
  EXPECT_EQ((*locks)[1].expires_at, 0);
}

TYPED_TEST_P(StoreConformanceTest, LockNeedsAUserAndGoesWithIt) {
  EXPECT_EQ(this->store_->SetLock({"ghost", 0, "x", 1}).code(), Code::kNotFound);
  EXPECT_EQ(this->store_->SetLock({"", 0, "x", 1}).code(), Code::kInvalidArgument);
  this->CreateNamedUser("alice");
  ASSERT_TRUE(this->store_->SetLock({"alice", 0, "x", 1}).ok());
  ASSERT_TRUE(this->store_->DeleteUser("alice").ok());
  EXPECT_TRUE(this->store_->ListLocks()->empty());
  // A new user of the same name starts unlocked.
  this->CreateNamedUser("alice");
  EXPECT_TRUE(this->store_->ListLocks()->empty());
}

TYPED_TEST_P(StoreConformanceTest, DeleteLock) {
  this->CreateNamedUser("alice");
  EXPECT_EQ(this->store_->DeleteLock("alice").code(), Code::kNotFound);
  ASSERT_TRUE(this->store_->SetLock({"alice", 0, "x", 1}).ok());
  ASSERT_TRUE(this->store_->DeleteLock("alice").ok());
  EXPECT_TRUE(this->store_->ListLocks()->empty());
}

// --- Node join tokens and nodes ----------------------------------------------------

TYPED_TEST_P(StoreConformanceTest, NodeTokenRoundTrips) {
  ASSERT_TRUE(this->store_->CreateNodeToken(this->MakeToken("h1", 2000)).ok());
  EXPECT_EQ(this->store_->CreateNodeToken(this->MakeToken("h1", 3000)).code(),
            Code::kAlreadyExists);
  Result<NodeToken> got = this->store_->GetNodeToken("h1");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->created_at, 100);
  EXPECT_EQ(got->expires_at, 2000);
  EXPECT_EQ(got->labels, (policy::Labels{{"env", "prod"}, {"team", "db"}}));
  EXPECT_EQ(this->store_->GetNodeToken("h2").error().code(), Code::kNotFound);
  NodeToken empty = this->MakeToken("", 1);
  EXPECT_EQ(this->store_->CreateNodeToken(empty).code(), Code::kInvalidArgument);
}

TYPED_TEST_P(StoreConformanceTest, ConsumeNodeTokenReturnsTheTokenOnce) {
  ASSERT_TRUE(this->store_->CreateNodeToken(this->MakeToken("h1", 2000)).ok());
  ASSERT_TRUE(this->store_->CreateNodeToken(this->MakeToken("h2", 3000)).ok());
  Result<NodeToken> got = this->store_->ConsumeNodeToken("h1");
  ASSERT_TRUE(got.has_value()) << got.error().ToString();
  EXPECT_EQ(got->token_hash, "h1");
  EXPECT_EQ(got->created_at, 100);
  EXPECT_EQ(got->expires_at, 2000);
  EXPECT_EQ(got->labels, (policy::Labels{{"env", "prod"}, {"team", "db"}}));
  EXPECT_EQ(this->store_->GetNodeToken("h1").error().code(), Code::kNotFound);
  // Single use: a consumed token is gone, the others stay.
  EXPECT_EQ(this->store_->ConsumeNodeToken("h1").error().code(), Code::kNotFound);
  EXPECT_EQ(this->store_->ConsumeNodeToken("nope").error().code(), Code::kNotFound);
  EXPECT_EQ(this->store_->GetNodeToken("h2")->labels.size(), 2u);
  // Its labels went with it: a new token of the same hash starts bare.
  NodeToken bare = this->MakeToken("h1", 4000);
  bare.labels.clear();
  ASSERT_TRUE(this->store_->CreateNodeToken(bare).ok());
  EXPECT_TRUE(this->store_->GetNodeToken("h1")->labels.empty());
}

TYPED_TEST_P(StoreConformanceTest, CreateNodeStoresEveryFieldOnce) {
  NodeRecord node = TestFixture::MakeNode("uuid-1", "db-1");
  ASSERT_TRUE(this->store_->CreateNode(node).ok());
  Result<NodeRecord> got = this->store_->GetNode("uuid-1");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->hostname, "db-1");
  EXPECT_EQ(got->host_key, node.host_key);
  EXPECT_EQ(got->labels, node.labels);
  EXPECT_EQ(got->secret_hash, node.secret_hash);
  EXPECT_EQ(got->joined_at, 500);
  EXPECT_EQ(got->last_sync, 0);
  NodeRecord other = TestFixture::MakeNode("uuid-1", "other");
  other.labels = {{"x", "y"}};
  EXPECT_EQ(this->store_->CreateNode(other).code(), Code::kAlreadyExists);
  EXPECT_EQ(this->store_->GetNode("uuid-1")->hostname, "db-1");
  EXPECT_EQ(this->store_->GetNode("uuid-1")->labels, node.labels);
}

// A join that fails after consuming its token (here: a taken host UUID)
// rolls back with its transaction, and the token is back as it was.
TYPED_TEST_P(StoreConformanceTest, FailedJoinRestoresTheConsumedToken) {
  this->Join("uuid-1", "db-1");
  ASSERT_TRUE(this->store_->CreateNodeToken(this->MakeToken("h2", 2000)).ok());
  EXPECT_EQ(this->JoinWith("h2", TestFixture::MakeNode("uuid-1", "other")).code(),
            Code::kAlreadyExists);
  Result<NodeToken> token = this->store_->GetNodeToken("h2");
  ASSERT_TRUE(token.has_value());
  EXPECT_EQ(token->expires_at, 2000);
  EXPECT_EQ(token->labels.size(), 2u);
  EXPECT_EQ(this->store_->GetNode("uuid-1")->hostname, "db-1");
  // A refusal decided by the caller on the consumed row rolls back the same.
  Status refused = this->store_->InTransaction([&](StoreOperations& tx) -> Status {
    Result<NodeToken> consumed = tx.ConsumeNodeToken("h2");
    if (!consumed) return consumed.error();
    return FailedPrecondition("refused");
  });
  EXPECT_EQ(refused, FailedPrecondition("refused"));
  EXPECT_TRUE(this->store_->GetNodeToken("h2").has_value());
  EXPECT_EQ(this->store_->ListNodes()->size(), 1u);
}

// A host name belongs to one node (compared without case): a second node
// cannot take it at join or later, and gets it once the first lets it go.
TYPED_TEST_P(StoreConformanceTest, NodePrincipalsAreOrderedAndUniqueAcrossNodes) {
  NodeRecord a = TestFixture::MakeNode("uuid-a", "db-1");
  a.principals = {"db-1", "db-1.example.com"};
  ASSERT_TRUE(this->store_->CreateNode(a).ok());
  EXPECT_EQ(this->store_->GetNode("uuid-a")->principals, a.principals);

  NodeRecord b = TestFixture::MakeNode("uuid-b", "web-1");
  b.principals = {"web-1", "DB-1.example.com"};
  Status taken = this->store_->CreateNode(b);
  EXPECT_EQ(taken.code(), Code::kAlreadyExists);
  EXPECT_NE(taken.message().find("DB-1.example.com"), std::string::npos) << taken.ToString();
  EXPECT_EQ(this->store_->GetNode("uuid-b").error().code(), Code::kNotFound);

  ASSERT_TRUE(this->store_->SetNodePrincipals("uuid-a", {"db-1", "db-one"}).ok());
  ASSERT_TRUE(this->store_->CreateNode(b).ok());
  EXPECT_EQ(this->store_->SetNodePrincipals("uuid-a", {"db-1", "web-1"}).code(),
            Code::kAlreadyExists);
  EXPECT_EQ(this->store_->GetNode("uuid-a")->principals, (Strings{"db-1", "db-one"}));
  EXPECT_EQ(this->store_->SetNodePrincipals("uuid-x", {"x"}).code(), Code::kNotFound);

  Result<std::vector<NodeRecord>> nodes = this->store_->ListNodes();
  ASSERT_TRUE(nodes.has_value());
  ASSERT_EQ(nodes->size(), 2u);
  EXPECT_EQ((*nodes)[0].principals, (Strings{"db-1", "db-one"}));
  EXPECT_EQ((*nodes)[1].principals, b.principals);

  ASSERT_TRUE(this->store_->DeleteNode("uuid-b").ok());
  EXPECT_TRUE(this->store_->SetNodePrincipals("uuid-a", {"db-1", "web-1"}).ok());
}

TYPED_TEST_P(StoreConformanceTest, NodeTokenPrincipalsRoundTripAndGoWithTheToken) {
  NodeToken token = this->MakeToken("h1", 2000);
  token.principals = {"db-1.example.com", "10.0.0.5"};
  ASSERT_TRUE(this->store_->CreateNodeToken(token).ok());
  EXPECT_EQ(this->store_->GetNodeToken("h1")->principals, token.principals);
  Result<NodeToken> consumed = this->store_->ConsumeNodeToken("h1");
  ASSERT_TRUE(consumed.has_value());
  EXPECT_EQ(consumed->principals, token.principals);
  ASSERT_TRUE(this->store_->CreateNodeToken(this->MakeToken("h1", 3000)).ok());
  EXPECT_TRUE(this->store_->GetNodeToken("h1")->principals.empty());
  token.token_hash = "old";
  token.expires_at = 50;
  ASSERT_TRUE(this->store_->CreateNodeToken(token).ok());
  ASSERT_TRUE(this->store_->DeleteExpiredNodeTokens(100).ok());
  EXPECT_EQ(this->store_->GetNodeToken("old").error().code(), Code::kNotFound);
}

TYPED_TEST_P(StoreConformanceTest, CreateNodeRefusesEmptyIdentity) {
  NodeRecord node = TestFixture::MakeNode("", "db-1");
  EXPECT_EQ(this->store_->CreateNode(node).code(), Code::kInvalidArgument);
  node = TestFixture::MakeNode("uuid-1", "db-1");
  node.secret_hash.clear();
  EXPECT_EQ(this->store_->CreateNode(node).code(), Code::kInvalidArgument);
  EXPECT_TRUE(this->store_->ListNodes()->empty());
}

// N threads consume one token: exactly one gets it.
TYPED_TEST_P(StoreConformanceTest, OneNodeTokenIsConsumedOnceAcrossThreads) {
  ASSERT_TRUE(this->store_->CreateNodeToken(this->MakeToken("h1", 2000)).ok());
  constexpr int kThreads = 8;
  std::vector<Result<NodeToken>> results(kThreads, Err(Internal("not run")));
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] { results[i] = this->store_->ConsumeNodeToken("h1"); });
  }
  for (auto& t : threads) t.join();
  int ok = 0;
  for (const Result<NodeToken>& r : results) {
    if (r.has_value()) {
      ++ok;
      EXPECT_EQ(r->labels.size(), 2u);
    } else {
      EXPECT_EQ(r.error().code(), Code::kNotFound) << r.error().ToString();
    }
  }
  EXPECT_EQ(ok, 1);
}

// N joins (consume and register in one transaction) race with one token:
// exactly one node is registered.
TYPED_TEST_P(StoreConformanceTest, OneTokenAdmitsOneNodeAcrossThreads) {
  ASSERT_TRUE(this->store_->CreateNodeToken(this->MakeToken("h1", 2000)).ok());
  constexpr int kThreads = 8;
  std::vector<Status> results(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      results[i] = this->JoinWith("h1", TestFixture::MakeNode("uuid-" + std::to_string(i), "n"));
    });
  }
  for (auto& t : threads) t.join();
  int ok = 0;
  for (const Status& s : results) ok += s.ok() ? 1 : 0;
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(this->store_->ListNodes()->size(), 1u);
}

TYPED_TEST_P(StoreConformanceTest, DeleteExpiredNodeTokens) {
  ASSERT_TRUE(this->store_->CreateNodeToken(this->MakeToken("old", 100)).ok());
  ASSERT_TRUE(this->store_->CreateNodeToken(this->MakeToken("new", 300)).ok());
  ASSERT_TRUE(this->store_->DeleteExpiredNodeTokens(200).ok());
  EXPECT_EQ(this->store_->GetNodeToken("old").error().code(), Code::kNotFound);
  EXPECT_EQ(this->store_->GetNodeToken("new")->labels.size(), 2u);
}

TYPED_TEST_P(StoreConformanceTest, ListNodesSortsByHostnameWithLabels) {
  this->Join("uuid-b", "web-1");
  this->Join("uuid-a", "db-1");
  this->Join("uuid-c", "db-1");
  Result<std::vector<NodeRecord>> nodes = this->store_->ListNodes();
  ASSERT_TRUE(nodes.has_value());
  ASSERT_EQ(nodes->size(), 3u);
  EXPECT_EQ((*nodes)[0].host_uuid, "uuid-a");
  EXPECT_EQ((*nodes)[1].host_uuid, "uuid-c");
  EXPECT_EQ((*nodes)[2].host_uuid, "uuid-b");
  for (const auto& node : *nodes) EXPECT_EQ(node.labels.at("rack"), "r1");
}

TYPED_TEST_P(StoreConformanceTest, RecordNodeSyncAndDeleteNode) {
  this->Join("uuid-1", "db-1");
  EXPECT_EQ(this->store_->GetNode("uuid-1")->policy_revision, 0);
  ASSERT_TRUE(this->store_->RecordNodeSync("uuid-1", 777, 42).ok());
  EXPECT_EQ(this->store_->GetNode("uuid-1")->last_sync, 777);
  EXPECT_EQ(this->store_->GetNode("uuid-1")->policy_revision, 42);
  EXPECT_EQ(this->store_->ListNodes()->at(0).policy_revision, 42);
  EXPECT_EQ(this->store_->RecordNodeSync("uuid-2", 777, 1).code(), Code::kNotFound);
  ASSERT_TRUE(this->store_->DeleteNode("uuid-1").ok());
  EXPECT_EQ(this->store_->GetNode("uuid-1").error().code(), Code::kNotFound);
  EXPECT_EQ(this->store_->DeleteNode("uuid-1").code(), Code::kNotFound);
  EXPECT_EQ(this->store_->RecordNodeSync("uuid-1", 778, 1).code(), Code::kNotFound);
}

// --- Revocations -------------------------------------------------------------------

// The primitives RevocationService builds on.
TYPED_TEST_P(StoreConformanceTest, RevocationPrimitives) {
  this->CreateNamedUser("alice");
  this->RecordCert(10, "alice", 5000);
  Result<IssuedCertificate> cert = this->store_->GetCertificate(10);
  ASSERT_TRUE(cert.has_value()) << cert.error().ToString();
  EXPECT_EQ(cert->user, "alice");
  EXPECT_EQ(cert->valid_before, 5000);
  EXPECT_EQ(this->store_->GetCertificate(11).error().code(), Code::kNotFound);

  EXPECT_EQ(this->store_->GetRevocation(10).error().code(), Code::kNotFound);
  ASSERT_TRUE(this->store_->AddRevocation({10, "alice", 100, 5000}).ok());
  EXPECT_EQ(this->store_->GetRevocation(10)->revoked_at, 100);
  EXPECT_EQ(this->store_->AddRevocation({10, "alice", 200, 5000}).code(), Code::kAlreadyExists);
  EXPECT_EQ(this->store_->AddRevocation({11, "alice", 200, 5000}).code(), Code::kNotFound);
  EXPECT_EQ(this->store_->GetRevocation(10)->revoked_at, 100);

  const std::uint64_t before = this->store_->ListRevocations(0)->version;
  EXPECT_EQ(this->store_->BumpRevocationVersion(), Result<std::uint64_t>(before + 1));
  EXPECT_EQ(this->store_->ListRevocations(0)->version, before + 1);
}

TYPED_TEST_P(StoreConformanceTest, RevokeCertificateByIssuedSerial) {
  this->RecordCert(42, "alice", 5000);
  EXPECT_EQ(this->store_->ListRevocations(0)->version, 0u);
  Result<Revocation> r = RevocationService(*this->store_).RevokeCertificate(42, 1000);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->serial, 42u);
  EXPECT_EQ(r->user, "alice");
  EXPECT_EQ(r->revoked_at, 1000);
  EXPECT_EQ(r->valid_before, 5000);
  Result<RevocationList> list = this->store_->ListRevocations(1000);
  ASSERT_TRUE(list.has_value());
  EXPECT_EQ(list->version, 1u);
  ASSERT_EQ(list->revocations.size(), 1u);
  EXPECT_EQ(list->revocations[0].serial, 42u);
}

TYPED_TEST_P(StoreConformanceTest, RevokingTwiceChangesNothing) {
  this->RecordCert(42, "alice", 5000);
  ASSERT_TRUE(RevocationService(*this->store_).RevokeCertificate(42, 1000).has_value());
  Result<Revocation> again = RevocationService(*this->store_).RevokeCertificate(42, 2000);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->revoked_at, 1000);  // the first revocation
  EXPECT_EQ(this->store_->ListRevocations(0)->version, 1u);
}

TYPED_TEST_P(StoreConformanceTest, RevokeUnknownSerialIsNotFound) {
  Result<Revocation> r = RevocationService(*this->store_).RevokeCertificate(99, 1000);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kNotFound);
  EXPECT_EQ(this->store_->ListRevocations(0)->version, 0u);
}

TYPED_TEST_P(StoreConformanceTest, RevokeUserCertificatesTakesOnlyLiveUnrevokedOnes) {
  const std::uint64_t kBig = (std::uint64_t{1} << 63) + 5;
  this->RecordCert(kBig, "alice", 5000);  // sorts last as uint64, first as int64
  this->RecordCert(1, "alice", 900);      // expired at now = 1000
  this->RecordCert(2, "alice", 6000);
  this->RecordCert(3, "alice", 7000);
  this->RecordCert(4, "bob", 7000);
  ASSERT_TRUE(RevocationService(*this->store_).RevokeCertificate(3, 500).has_value());
  Result<std::vector<Revocation>> revoked =
      RevocationService(*this->store_).RevokeUserCertificates("alice", 1000);
  ASSERT_TRUE(revoked.has_value()) << revoked.error().ToString();
  ASSERT_EQ(revoked->size(), 2u);
  EXPECT_EQ((*revoked)[0].serial, 2u);
  EXPECT_EQ((*revoked)[1].serial, kBig);
  EXPECT_EQ((*revoked)[1].user, "alice");
  EXPECT_EQ(this->store_->ListRevocations(0)->version, 2u);
  // Nothing left: no change, no new version.
  EXPECT_TRUE(RevocationService(*this->store_).RevokeUserCertificates("alice", 1000)->empty());
  EXPECT_TRUE(RevocationService(*this->store_).RevokeUserCertificates("nobody", 1000)->empty());
  EXPECT_EQ(this->store_->ListRevocations(0)->version, 2u);
}

TYPED_TEST_P(StoreConformanceTest, DeletedUsersCertificatesStayRevocable) {
  this->CreateNamedUser("alice");
  this->RecordCert(7, "alice", 5000);
  ASSERT_TRUE(this->store_->DeleteUser("alice").ok());
  Result<std::vector<Revocation>> revoked =
      RevocationService(*this->store_).RevokeUserCertificates("alice", 1000);
  ASSERT_TRUE(revoked.has_value());
  EXPECT_EQ(revoked->size(), 1u);
}

TYPED_TEST_P(StoreConformanceTest, ListRevocationsDropsExpiredCertificates) {
  this->RecordCert(10, "alice", 1000);
  this->RecordCert(11, "alice", 3000);
  ASSERT_TRUE(RevocationService(*this->store_).RevokeUserCertificates("alice", 0).has_value());
  Result<RevocationList> early = this->store_->ListRevocations(999);
  ASSERT_EQ(early->revocations.size(), 2u);
  EXPECT_EQ(early->revocations[0].serial, 10u);
  Result<RevocationList> later = this->store_->ListRevocations(1000);
  ASSERT_EQ(later->revocations.size(), 1u);
  EXPECT_EQ(later->revocations[0].serial, 11u);
  EXPECT_EQ(later->version, early->version);
}

TYPED_TEST_P(StoreConformanceTest, EverythingPersistsAcrossReopen) {
  this->CreateRole("dev");
  this->CreateNamedUser("alice", {"dev"});
  ASSERT_TRUE(this->store_->SetLock({"alice", 0, "x", 1}).ok());
  this->Join("uuid-1", "db-1");
  this->RecordCert(5, "alice", 9000);
  ASSERT_TRUE(RevocationService(*this->store_).RevokeCertificate(5, 10).has_value());
  this->Reopen();
  EXPECT_EQ(this->store_->GetRole("dev")->logins.size(), 2u);
  EXPECT_EQ(this->store_->ListLocks()->size(), 1u);
  EXPECT_EQ(this->store_->GetNode("uuid-1")->labels.size(), 2u);
  EXPECT_EQ(this->store_->ListRevocations(0)->version, 1u);
  EXPECT_EQ(this->store_->ListRevocations(0)->revocations.size(), 1u);
}

}  // namespace gate::ca::store_conformance

#endif  // GATE_TESTS_UNIT_CA_SERVER_STORE_CONFORMANCE_NODES_H_
