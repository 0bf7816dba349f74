// The Store conformance suite: one typed test suite (gtest's
// TYPED_TEST_SUITE_P) that every Store backend must pass. It holds every
// backend-independent property of store.h: all CRUD of every aggregate,
// the single-use and lockout races (N threads, exactly one winner, no lost
// count), transactions that roll back on error, reads beside an open write,
// and migration from the previous schema version.
//
// A backend instantiates it with one line,
//   GATE_INSTANTIATE_STORE_CONFORMANCE(Sqlite, SqliteBackend);
// (store_conformance_sqlite_test.cc), after including
// store_conformance_all.h. A Backend type provides, one object per test:
//   Backend()                 fresh, empty storage of its own
//   ~Backend()                removes it
//   Result<std::unique_ptr<Store>> Open()
//                             opens that storage (again, as a restart would)
//   void WritePreviousVersion()
//                             replaces the storage (closed at the time) with
//                             one at the previous schema version holding
//                             the data kPrevious* below describe, written
//                             with that version's own schema (not through
//                             Store), as an older gate-ca left it
// Behaviour only one backend has (SQLite's file modes, raw SQL against its
// tables) is tested beside that backend, not here.
#ifndef GATE_TESTS_UNIT_CA_SERVER_STORE_CONFORMANCE_H_
#define GATE_TESTS_UNIT_CA_SERVER_STORE_CONFORMANCE_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "ca-server/issuer/revocation.h"
#include "ca-server/store/store.h"

namespace gate::ca::store_conformance {

using Strings = std::vector<std::string>;
using Ids = std::vector<std::string>;

constexpr char kNodeA[] = "4a6f0c1e-9b2d-4c3e-8f10-0123456789ab";
constexpr char kNodeB[] = "5b7f0c1e-9b2d-4c3e-8f10-0123456789ab";

// What WritePreviousVersion stores, and the migration test checks survives.
constexpr char kPreviousUser[] = "olduser";
constexpr char kPreviousPasswordHash[] = "$argon2id$v=19$m=65536,t=3,p=1$b2xk$b2xk";
constexpr std::int64_t kPreviousTotpStep = 42;
constexpr char kPreviousRole[] = "oldrole";
constexpr char kPreviousNode[] = "6c8f0c1e-9b2d-4c3e-8f10-0123456789ab";
constexpr char kPreviousSession[] = "7d9f0c1e-9b2d-4c3e-8f10-0123456789ab";
constexpr std::uint64_t kPreviousSerial = 7;  // issued to olduser, revoked

inline IssuedCertificate Cert(std::uint64_t serial, const std::string& user,
                              std::int64_t issued_at) {
  IssuedCertificate cert;
  cert.serial = serial;
  cert.user = user;
  cert.key_id = user + "-key";
  cert.valid_after = issued_at - 60;
  cert.valid_before = issued_at + 3600;
  cert.issued_at = issued_at;
  return cert;
}

// The check of a CompleteSignup that lets every stored token through: the
// store's own part (exactly once, all or nothing) is what these tests pin.
inline Status AcceptAnySignupToken(const SignupToken&) { return Status::Ok(); }

template <typename Backend>
class StoreConformanceTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void TearDown() override { store_.reset(); }

  // Closes the store and opens the same storage again, as a restart of
  // gate-ca would.
  void Reopen() {
    store_.reset();
    Result<std::unique_ptr<Store>> store = backend_.Open();
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    store_ = *std::move(store);
  }

  // --- Users, tokens (users part)

  static UserRecord MakeUser(const std::string& name) {
    UserRecord user;
    user.name = name;
    user.logins = {"ubuntu", "root", "deploy"};
    user.roles = {"ops", "admin"};
    user.created_at = 1700000000;
    return user;
  }

  void CreateUser(const std::string& name) { ASSERT_TRUE(store_->CreateUser(MakeUser(name)).ok()); }
  // A user with an OTP app (the device "otp"), as signup leaves one.
  void CreateOtpUser(const std::string& name) {
    UserRecord user = MakeUser(name);
    user.totp_secret = SecretString("otp-seed");
    ASSERT_TRUE(store_->CreateUser(user).ok());
  }

  void CreateToken(const std::string& hash, const std::string& user, std::int64_t expires_at) {
    SignupToken token;
    token.token_hash = hash;
    token.user = user;
    token.created_at = 1000;
    token.expires_at = expires_at;
    Status status = store_->CreateSignupToken(token);
    ASSERT_TRUE(status.ok()) << status.ToString();
  }

  // --- Browser sessions (web sessions part)

  static WebSessionRecord MakeWebSession(const std::string& id_hash, const std::string& user,
                                         std::int64_t created_at) {
    WebSessionRecord session;
    session.id_hash = id_hash;
    session.user = user;
    session.csrf_hash = "csrf-of-" + id_hash;
    session.created_at = created_at;
    session.last_seen_at = created_at;
    session.expires_at = created_at + 1000;
    session.source = "192.0.2.7";
    return session;
  }

  void CreateWebSession(const std::string& id_hash, const std::string& user,
                        std::int64_t created_at) {
    Status s = store_->CreateWebSession(MakeWebSession(id_hash, user, created_at));
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  // --- ModifyRole (roles part)

  // The role "dev" (MakeDevRole) that ModifyRole's tests start from.
  void SetUpDevRole() {
    Status created = store_->CreateRole(MakeDevRole());
    ASSERT_TRUE(created.ok()) << created.ToString();
  }

  static policy::Role MakeDevRole() {
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
    ExpectSameRole(*stored, MakeDevRole());
  }

  // --- Roles, locks, nodes, revocations (nodes part)

  void CreateNamedUser(const std::string& name, Strings roles = {}) {
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

  // Consumes token_hash and registers node in one transaction, as a join
  // does (NodeEnrollment); the consumed token's outcome is the first error.
  Status JoinWith(const std::string& token_hash, const NodeRecord& node) {
    return store_->InTransaction([&](StoreOperations& tx) -> Status {
      Result<NodeToken> token = tx.ConsumeNodeToken(token_hash);
      if (!token) return token.error();
      return tx.CreateNode(node);
    });
  }

  // Joins a node through a fresh token.
  void Join(const std::string& uuid, const std::string& hostname) {
    const std::string hash = "token-for-" + uuid;
    ASSERT_TRUE(store_->CreateNodeToken(MakeToken(hash, 10'000)).ok());
    Status s = JoinWith(hash, MakeNode(uuid, hostname));
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  // --- Sessions (sessions part)

  void JoinNode(const std::string& uuid, const std::string& hostname) {
    NodeRecord node;
    node.host_uuid = uuid;
    node.hostname = hostname;
    node.host_key = "ssh-ed25519 AAAA";
    node.secret_hash = std::string(64, 'a');
    node.joined_at = 5;
    Status s = store_->CreateNode(node);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  static SessionRecord MakeSession(const std::string& id, const std::string& user,
                                   const std::string& node, std::int64_t started_at) {
    SessionRecord s;
    s.id = id;
    s.user = user;
    s.login = "root";
    s.host_uuid = node;
    s.node_name = node == kNodeA ? "db-1" : "web-1";
    s.mode = "interactive";
    s.started_at = started_at;
    s.live = true;
    s.size = 100;
    s.created_at = started_at + 1;
    return s;
  }

  std::vector<std::string> ListIds(const SessionFilter& filter) {
    auto list = store_->ListSessions(filter);
    EXPECT_TRUE(list.has_value()) << list.error().ToString();
    std::vector<std::string> ids;
    for (const auto& s : list.value_or(std::vector<SessionRecord>{})) ids.push_back(s.id);
    return ids;
  }

  Backend backend_;
  std::unique_ptr<Store> store_;
};

TYPED_TEST_SUITE_P(StoreConformanceTest);

}  // namespace gate::ca::store_conformance

#endif  // GATE_TESTS_UNIT_CA_SERVER_STORE_CONFORMANCE_H_
