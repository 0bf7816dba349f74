// What only the SQLite Store does, beside the conformance suite every
// backend passes (store_conformance_sqlite_test.cc): the database file's
// owner, mode and symlink checks, WAL and the schema as SQL sees it, the
// constraints and triggers that hold against raw SQL, and the migrations
// from every older schema version (rewound with raw SQL).
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ca-server/issuer/revocation.h"
#include "ca-server/store/store.h"
#include "ca-server/store_conformance.h"
#include "ca-server/store_sqlite_backend.h"

namespace gate::ca {
namespace {

namespace fs = std::filesystem;
using namespace store_conformance;  // NOLINT: the suite's fixture helpers and constants

class SqliteStoreTest : public StoreConformanceTest<SqliteBackend> {
 protected:
  const fs::path& dir_ = backend_.dir();
  const std::string& path_ = backend_.path();
};

mode_t FileMode(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0);
  return st.st_mode & 07777;
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

// The names sqlite_master lists for `where` (a condition on its columns).
void SchemaNames(const std::string& path, const std::string& where,
                 std::vector<std::string>& names) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, ("SELECT name FROM sqlite_master WHERE " + where).c_str(), -1,
                               &stmt, nullptr),
            SQLITE_OK);
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    names.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

// Takes away what schema version 12 added (second-factor devices), putting
// each user's "otp" device back into the users row as version 11 kept it.
void DropDevices(const std::string& path) {
  RawExec(path,
          "UPDATE users SET"
          " totp_secret = (SELECT totp_secret FROM mfa_devices d"
          "   WHERE d.user_name = users.name AND d.name = 'otp'),"
          " last_totp_step = coalesce((SELECT last_totp_step FROM mfa_devices d"
          "   WHERE d.user_name = users.name AND d.name = 'otp'), -1);"
          " DROP TABLE mfa_devices; UPDATE schema_version SET version = 11");
}

// Takes away what schema version 11 added (users' connector and subject).
void DropSsoColumns(const std::string& path) {
  DropDevices(path);
  RawExec(path,
          "ALTER TABLE users DROP COLUMN connector; ALTER TABLE users DROP COLUMN idp_subject;"
          " UPDATE schema_version SET version = 10");
}

// Takes away what schema versions 10 to 12 added (nodes' SSH address, users'
// connector, second-factor devices).
void DropSshAddress(const std::string& path) {
  DropSsoColumns(path);
  RawExec(path, "ALTER TABLE nodes DROP COLUMN ssh_address; UPDATE schema_version SET version = 9");
}

// Takes away what schema versions 9 and 10 added (browser sessions, signup
// tokens' used_at, nodes' SSH address).
void DropWebSessions(const std::string& path) {
  DropSshAddress(path);
  RawExec(path,
          "DROP TABLE web_sessions; ALTER TABLE signup_tokens DROP COLUMN used_at;"
          " UPDATE schema_version SET version = 8");
}

// Takes away what schema versions 7 and 9 added (the policy log: its
// tables, the triggers on older tables that feed it, nodes.policy_revision).
void DropPolicyLog(const std::string& path) {
  DropWebSessions(path);
  std::vector<std::string> triggers;
  ASSERT_NO_FATAL_FAILURE(
      SchemaNames(path, "type = 'trigger' AND name LIKE '%\\_policy' ESCAPE '\\'", triggers));
  EXPECT_FALSE(triggers.empty());
  for (const std::string& name : triggers) {
    RawExec(path, ("DROP TRIGGER \"" + name + "\"").c_str());
  }
  RawExec(path,
          "DROP TABLE policy_touches; DROP TABLE policy_changes; DROP TABLE policy_revision;"
          " ALTER TABLE nodes DROP COLUMN policy_revision;");
}

// Drops every table that is not in kV2Tables (with its indexes and
// triggers), so the test keeps working as later migrations add tables.
void DropTablesAfterV2(const std::string& path) {
  DropPolicyLog(path);
  std::vector<std::string> tables, extra;
  ASSERT_NO_FATAL_FAILURE(SchemaNames(path, "type = 'table' AND name NOT LIKE 'sqlite_%'", tables));
  for (const std::string& name : tables) {
    if (std::find(std::begin(kV2Tables), std::end(kV2Tables), name) == std::end(kV2Tables)) {
      extra.push_back(name);
    }
  }
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

TEST_F(SqliteStoreTest, DatabaseFileIsPrivate) {
  EXPECT_EQ(FileMode(path_), 0600u);
  CreateUser("alice");  // forces the WAL files into existence
  for (const char* suffix : {"-wal", "-shm"}) {
    if (fs::exists(path_ + suffix)) {
      EXPECT_EQ(FileMode(path_ + suffix) & 077, 0u) << suffix;
    }
  }
}

TEST_F(SqliteStoreTest, CreatedPrivateEvenWithPermissiveUmask) {
  const mode_t old_umask = ::umask(0);
  const std::string path = (dir_ / "umask.db").string();
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(path);
  ::umask(old_umask);
  ASSERT_TRUE(store.has_value()) << store.error().ToString();
  EXPECT_EQ(FileMode(path), 0600u);
}

TEST_F(SqliteStoreTest, RefusesGroupReadableFile) {
  const std::string path = (dir_ / "loose.db").string();
  std::ofstream(path).close();
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(path);
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code(), Code::kPermissionDenied);
  EXPECT_NE(store.error().message().find("chmod 600"), std::string::npos)
      << store.error().message();
}

TEST_F(SqliteStoreTest, RefusesExistingLooseDatabase) {
  store_.reset();
  ASSERT_EQ(::chmod(path_.c_str(), 0640), 0);
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(path_);
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code(), Code::kPermissionDenied);
}

TEST_F(SqliteStoreTest, RefusesSymlink) {
  const std::string link = (dir_ / "link.db").string();
  ASSERT_EQ(::symlink(path_.c_str(), link.c_str()), 0);
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(link);
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code(), Code::kPermissionDenied);

  // A dangling symlink must not be followed to create its target either.
  const std::string dangling = (dir_ / "dangling.db").string();
  const std::string target = (dir_ / "target.db").string();
  ASSERT_EQ(::symlink(target.c_str(), dangling.c_str()), 0);
  EXPECT_EQ(OpenSqliteStore(dangling).error().code(), Code::kPermissionDenied);
  EXPECT_FALSE(fs::exists(target));
}

TEST_F(SqliteStoreTest, RefusesSymlinkedWal) {
  store_.reset();
  std::error_code ec;
  fs::remove(path_ + "-wal", ec);
  ASSERT_EQ(::symlink("/dev/null", (path_ + "-wal").c_str()), 0);
  EXPECT_EQ(OpenSqliteStore(path_).error().code(), Code::kPermissionDenied);
}

TEST_F(SqliteStoreTest, RefusesFileOwnedBySomeoneElse) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to chown";
  store_.reset();
  ASSERT_EQ(::chown(path_.c_str(), 65534, 65534), 0);
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(path_);
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code(), Code::kPermissionDenied);
  EXPECT_NE(store.error().message().find("owned by uid 65534"), std::string::npos);
}

TEST_F(SqliteStoreTest, RefusesNewerSchema) {
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE schema_version SET version = 999", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(path_);
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code(), Code::kFailedPrecondition);
}

TEST_F(SqliteStoreTest, MigratesVersion10UsersAsLocalUsers) {
  UserRecord alice;
  alice.name = "alice";
  alice.password_hash = "$argon2id$x";
  alice.logins = {"alice"};
  ASSERT_TRUE(store_->CreateUser(alice).ok());
  store_.reset();
  DropSsoColumns(path_);
  Reopen();
  Result<UserRecord> got = store_->GetUser("alice");
  ASSERT_TRUE(got.has_value()) << got.error().ToString();
  EXPECT_FALSE(got->sso());
  EXPECT_EQ(got->idp_subject, "");
  EXPECT_TRUE(got->signed_up());
}

TEST_F(SqliteStoreTest, UsesWalAndForeignKeys) {
  AuditEvent event;
  event.event = "user.create";
  ASSERT_TRUE(store_->AppendAudit(event).ok());
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "wal");
  sqlite3_finalize(stmt);
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT version FROM schema_version", -1, &stmt, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(stmt, 0), 12);
  sqlite3_finalize(stmt);
  // The audit log refuses rewriting even through raw SQL.
  EXPECT_NE(sqlite3_exec(db, "DELETE FROM audit", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
}

TEST_F(SqliteStoreTest, RevocationsAreFinalEvenThroughRawSql) {
  RecordCert(10, "alice", 1000);
  ASSERT_TRUE(RevocationService(*store_).RevokeCertificate(10, 0).has_value());
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  EXPECT_NE(sqlite3_exec(db, "DELETE FROM revocations", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
}

TEST_F(SqliteStoreTest, MigratesAVersion1DatabaseKeepingItsData) {
  CreateNamedUser("alice", {"ops"});
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
  ASSERT_TRUE(RevocationService(*store_).RevokeCertificate(77, 10).has_value());
  EXPECT_EQ(store_->ListRevocations(0)->version, 1u);
  EXPECT_EQ(store_->DeleteRole("ops").code(), Code::kFailedPrecondition);
}

TEST_F(SqliteStoreTest, MigratesAVersion2DatabaseRolesRecordNothing) {
  CreateRole("dba");
  CreateNamedUser("alice", {"dba"});
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

// Rows written straight into the file (an import, a repair) move the
// policy revision like the store's own writes: nodes must see them.
TEST_F(SqliteStoreTest, RowsWrittenOutsideTheStoreMoveThePolicyRevision) {
  const std::int64_t before = store_->GetPolicyRevision()->revision;
  store_.reset();
  RawExec(path_,
          "INSERT INTO users (name, created_at) VALUES ('raw', 1);"
          " INSERT INTO user_logins (user_name, position, login) VALUES ('raw', 0, 'raw');");
  Reopen();
  EXPECT_GT(store_->GetPolicyRevision()->revision, before);
  auto changes = store_->ListPolicyChanges(before, 10);
  ASSERT_TRUE(changes.has_value());
  ASSERT_EQ(changes->size(), 1u);
  EXPECT_EQ((*changes)[0].kind, kPolicyChangeUser);
  EXPECT_EQ((*changes)[0].name, "raw");
}

// The CHECK constraints hold even against raw SQL.
TEST_F(SqliteStoreTest, RecordingFlagsAreZeroOrOne) {
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

// Version 11 to 12: each user's OTP secret moves into a device "otp" and
// leaves the users row; users without OTP get no device.
TEST_F(SqliteStoreTest, MigratesAVersion11DatabaseMovingOtpIntoDevices) {
  UserRecord alice;
  alice.name = "alice";
  alice.created_at = 1000;
  alice.totp_secret = SecretString("alice-seed");
  alice.last_totp_step = 55;
  ASSERT_TRUE(store_->CreateUser(alice).ok());
  CreateNamedUser("bob", {});
  store_.reset();
  DropDevices(path_);
  Reopen();
  Result<std::vector<MfaDevice>> devices = store_->ListDevices("alice");
  ASSERT_TRUE(devices.has_value()) << devices.error().ToString();
  ASSERT_EQ(devices->size(), 1u);
  EXPECT_EQ((*devices)[0].name, "otp");
  EXPECT_EQ((*devices)[0].created_at, 1000);
  EXPECT_EQ((*devices)[0].totp_secret.view(), "alice-seed");
  EXPECT_EQ((*devices)[0].last_totp_step, 55);
  EXPECT_TRUE(store_->ListDevices("bob")->empty());
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "SELECT count(*) FROM users WHERE totp_secret IS NOT NULL"
                               " OR last_totp_step != -1",
                               -1, &stmt, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(stmt, 0), 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

// Version 8 to 9: outstanding signup links stay usable (unused), and
// browser sessions start empty.
TEST_F(SqliteStoreTest, MigratesAVersion8DatabaseKeepingItsSignupTokens) {
  CreateNamedUser("alice", {});
  SignupToken token;
  token.token_hash = "hash-a";
  token.user = "alice";
  token.created_at = 1;
  token.expires_at = 5000;
  ASSERT_TRUE(store_->CreateSignupToken(token).ok());
  store_.reset();
  DropWebSessions(path_);
  Reopen();
  Result<SignupToken> kept = store_->GetSignupToken("hash-a");
  ASSERT_TRUE(kept.has_value()) << kept.error().ToString();
  EXPECT_EQ(kept->used_at, 0);
  EXPECT_EQ(kept->expires_at, 5000);
  EXPECT_TRUE(store_->ListUserWebSessions("alice")->empty());
}

TEST_F(SqliteStoreTest, MigratesAVersion3DatabaseKeepingItsNodes) {
  JoinNode(kNodeA, "db-1");
  store_.reset();
  DropPolicyLog(path_);
  RawExec(path_,
          "DROP TABLE sessions; DROP TABLE login_failures;"
          " DROP TABLE node_principals; DROP TABLE node_token_principals;"
          " ALTER TABLE nodes DROP COLUMN recorder_key;"
          " UPDATE schema_version SET version = 3");
  Reopen();
  auto node = store_->GetNode(kNodeA);
  ASSERT_TRUE(node.has_value()) << node.error().ToString();
  EXPECT_EQ(node->hostname, "db-1");
  EXPECT_EQ(node->recorder_key, "");
  EXPECT_EQ(node->ssh_address, "");
  EXPECT_EQ(node->principals, (std::vector<std::string>{"db-1"}));
  ASSERT_TRUE(store_->CreateSession(MakeSession("s1", "alice", kNodeA, 1000)).ok());
  ASSERT_TRUE(store_->SetNodeRecorderKey(kNodeA, "ssh-ed25519 AAAAkey").ok());
}

// The CHECK constraints hold even against raw SQL.
TEST_F(SqliteStoreTest, ConstraintsHoldAgainstRawSql) {
  ASSERT_TRUE(store_->CreateSession(MakeSession("s1", "alice", kNodeA, 1000)).ok());
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  for (const char* sql :
       {"UPDATE sessions SET live = 2", "UPDATE sessions SET size = -1",
        "UPDATE sessions SET verified = 5", "UPDATE sessions SET user_name = NULL"}) {
    EXPECT_NE(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sql;
  }
  sqlite3_close(db);
}

TEST_F(SqliteStoreTest, RefusesDirectory) {
  EXPECT_FALSE(OpenSqliteStore(dir_.string()).has_value());
}

}  // namespace
}  // namespace gate::ca
