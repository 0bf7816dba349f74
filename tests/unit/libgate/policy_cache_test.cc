// The node's policy cache file (cache/policy.db): what sync encodes reads
// back whole and per login, and every way the file can be wrong denies.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "common/test_util.h"
#include "gate/json.h"
#include "gate/node_cache.h"
#include "gate/policy.h"

namespace gate::node {
namespace {

using testing::TempDir;
using testing::WriteFile;

constexpr std::int64_t kNow = 1764000000;
constexpr std::uint64_t kBigSerial = std::numeric_limits<std::uint64_t>::max() - 5;

policy::Snapshot TestSnapshot() {
  policy::Snapshot s;
  s.cluster_name = "grav-00";
  s.host_uuid = "4a6f0000-0000-4000-8000-000000000001";
  s.generated_at = kNow;
  s.revision = 42;
  s.node_labels = {{"env", "prod"}};
  s.users = {{"zoe", {"zoe"}, {"dba", "gone"}},
             {"alice", {"alice"}, {"dba", "recorded", "dba"}},
             {"bob", {"bob"}, {}},
             {"carol", {}, {"joiners"}}};
  policy::Role dba;
  dba.name = "dba";
  dba.logins = {"postgres"};
  dba.node_labels = {{"env", "prod"}};
  dba.permit_port_forwarding = true;
  policy::Role recorded;
  recorded.name = "recorded";
  recorded.logins = {"root"};
  recorded.record_sessions = true;
  policy::Role joiners;
  joiners.name = "joiners";
  joiners.logins = {"support"};
  joiners.join_sessions = true;
  policy::Role dev = dba;
  dev.name = "dev";
  dev.node_labels = {{"env", "dev"}};
  s.roles = {dba, recorded, joiners, dev};
  s.locks = {{"bob", 0, "left the company"},
             {"alice", kNow - 60, "expired"},
             {"alice", kNow + 60, "on leave"},
             {"carol", kNow - 1, "expired"}};
  s.revoked_serials = {7, kBigSerial, 7};
  return s;
}

std::string JsonOf(const policy::Snapshot& s) { return json::Write(policy::SnapshotToJson(s)); }

// Runs SQL on a copy of a cache file's bytes and returns the new bytes: a
// valid SQLite file whose content we chose.
std::string Mutate(const std::string& bytes, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(":memory:", &db), SQLITE_OK);
  auto* copy = static_cast<unsigned char*>(sqlite3_malloc64(bytes.size()));
  std::memcpy(copy, bytes.data(), bytes.size());
  EXPECT_EQ(sqlite3_deserialize(db, "main", copy, static_cast<sqlite3_int64>(bytes.size()),
                                static_cast<sqlite3_int64>(bytes.size()),
                                SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_RESIZEABLE),
            SQLITE_OK);
  char* error = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
      << (error != nullptr ? error : "") << " in " << sql;
  sqlite3_free(error);
  sqlite3_int64 size = 0;
  unsigned char* out = sqlite3_serialize(db, "main", &size, 0);
  std::string result(reinterpret_cast<const char*>(out), static_cast<std::size_t>(size));
  sqlite3_free(out);
  sqlite3_close(db);
  return result;
}

class PolicyCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cache_.dir = tmp_.File("cache");
    cache_.owner = geteuid();
    ASSERT_EQ(mkdir(cache_.dir.c_str(), 0755), 0);
    ASSERT_EQ(chmod(cache_.dir.c_str(), 0755), 0);
    auto bytes = EncodePolicyCache(snapshot_);
    ASSERT_TRUE(bytes.has_value()) << bytes.error().ToString();
    bytes_ = *bytes;
    WriteFile(cache_.PolicyPath(), bytes_, 0640);
  }

  // Both readers refuse the file; returns the login reader's error.
  Status Refused() {
    auto whole = ReadSnapshot(cache_);
    EXPECT_FALSE(whole.has_value());
    auto login = ReadLoginSnapshot(cache_, "alice", 7);
    EXPECT_FALSE(login.has_value());
    return login.has_value() ? Status::Ok() : login.error();
  }

  void ExpectRefused(const std::string& bytes, const std::string& why) {
    WriteFile(cache_.PolicyPath(), bytes, 0640);
    const Status s = Refused();
    EXPECT_NE(s.message().find(why), std::string::npos) << s.ToString();
    EXPECT_NE(s.message().find(cache_.PolicyPath()), std::string::npos) << s.ToString();
  }

  TempDir tmp_{0755};
  CacheLocation cache_;
  policy::Snapshot snapshot_ = TestSnapshot();
  std::string bytes_;
};

TEST_F(PolicyCacheTest, WholeSnapshotReadsBackEqual) {
  auto back = ReadSnapshot(cache_);
  ASSERT_TRUE(back.has_value()) << back.error().ToString();
  EXPECT_EQ(JsonOf(*back), JsonOf(snapshot_));
  EXPECT_EQ(back->revoked_serials[1], kBigSerial);
  EXPECT_EQ(back->revision, 42);
}

TEST_F(PolicyCacheTest, EncodingIsDeterministic) {
  EXPECT_EQ(EncodePolicyCache(TestSnapshot()).value(), bytes_);
  policy::Snapshot empty;
  empty.cluster_name = "c";
  empty.host_uuid = "h";
  auto bytes = EncodePolicyCache(empty);
  ASSERT_TRUE(bytes.has_value());
  WriteFile(cache_.PolicyPath(), *bytes, 0640);
  auto back = ReadSnapshot(cache_);
  ASSERT_TRUE(back.has_value()) << back.error().ToString();
  EXPECT_EQ(JsonOf(*back), JsonOf(empty));
}

TEST_F(PolicyCacheTest, LoginSnapshotHoldsOnlyTheUsersRows) {
  auto s = ReadLoginSnapshot(cache_, "alice", 7);
  ASSERT_TRUE(s.has_value()) << s.error().ToString();
  EXPECT_EQ(s->cluster_name, "grav-00");
  EXPECT_EQ(s->host_uuid, snapshot_.host_uuid);
  EXPECT_EQ(s->generated_at, kNow);
  EXPECT_EQ(s->revision, 42);
  EXPECT_EQ(s->node_labels, snapshot_.node_labels);
  ASSERT_EQ(s->users.size(), 1u);
  EXPECT_EQ(s->users[0].name, "alice");
  ASSERT_EQ(s->roles.size(), 2u);  // dba once, recorded; not joiners or dev
  EXPECT_EQ(s->roles[0].name, "dba");
  EXPECT_EQ(s->roles[1].name, "recorded");
  ASSERT_EQ(s->locks.size(), 2u);
  EXPECT_EQ(s->locks[1].message, "on leave");
  EXPECT_EQ(s->revoked_serials, std::vector<std::uint64_t>{7});

  s = ReadLoginSnapshot(cache_, "zoe", 8);
  ASSERT_TRUE(s.has_value());
  ASSERT_EQ(s->roles.size(), 1u);  // "gone" does not exist
  EXPECT_TRUE(s->locks.empty());
  EXPECT_TRUE(s->revoked_serials.empty());

  s = ReadLoginSnapshot(cache_, "bob", kBigSerial);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->revoked_serials, std::vector<std::uint64_t>{kBigSerial});
}

TEST_F(PolicyCacheTest, PolicyDecidesAlikeOnTheLoginSnapshotAndTheWhole) {
  auto whole = ReadSnapshot(cache_);
  ASSERT_TRUE(whole.has_value());
  for (const std::string user : {"alice", "bob", "carol", "zoe", "nobody", ""}) {
    for (std::uint64_t serial : {std::uint64_t{7}, std::uint64_t{8}, kBigSerial}) {
      auto part = ReadLoginSnapshot(cache_, user, serial);
      ASSERT_TRUE(part.has_value()) << user << ": " << part.error().ToString();
      for (std::int64_t now : {kNow, kNow + 120}) {
        for (const std::string login : {"alice", "postgres", "root", "support", "bob", "zoe"}) {
          policy::LoginRequest r{user, login, serial, now};
          const policy::Decision a = policy::DecideLogin(*whole, r);
          const policy::Decision b = policy::DecideLogin(*part, r);
          EXPECT_EQ(a.allow, b.allow) << user << " " << login << " " << serial;
          EXPECT_EQ(a.record, b.record) << user << " " << login;
          EXPECT_EQ(a.reason, b.reason) << user << " " << login;
        }
        EXPECT_EQ(policy::MustRecord(*whole, user), policy::MustRecord(*part, user)) << user;
        EXPECT_EQ(policy::MayJoinSessions(*whole, user, now),
                  policy::MayJoinSessions(*part, user, now))
            << user;
        EXPECT_EQ(policy::MayForwardPorts(*whole, user, now),
                  policy::MayForwardPorts(*part, user, now))
            << user;
      }
    }
  }
}

TEST_F(PolicyCacheTest, UnknownUserIsAnEmptySnapshotNotAnError) {
  auto s = ReadLoginSnapshot(cache_, "mallory", 7);
  ASSERT_TRUE(s.has_value()) << s.error().ToString();
  EXPECT_TRUE(s->users.empty());
  EXPECT_TRUE(s->roles.empty());
  EXPECT_FALSE(policy::DecideLogin(*s, {"mallory", "mallory", 8, kNow}).allow);
}

TEST_F(PolicyCacheTest, MissingFileIsNotFound) {
  ASSERT_EQ(unlink(cache_.PolicyPath().c_str()), 0);
  auto s = ReadLoginSnapshot(cache_, "alice", 7);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), Code::kNotFound);
  EXPECT_FALSE(ReadSnapshot(cache_).has_value());
}

TEST_F(PolicyCacheTest, OldJsonCacheIsRefusedWithTheFix) {
  ASSERT_EQ(unlink(cache_.PolicyPath().c_str()), 0);
  WriteFile(cache_.LegacyPolicyPath(), JsonOf(snapshot_) + "\n", 0640);
  const Status s = Refused();
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_NE(s.message().find("older gate-node"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("gate-node sync"), std::string::npos) << s.ToString();
  // A JSON file under the new name is just not a cache.
  ExpectRefused(JsonOf(snapshot_) + "\n", "not a gate policy cache");
}

TEST_F(PolicyCacheTest, UnsafeFilesAreRefused) {
  ASSERT_EQ(chmod(cache_.PolicyPath().c_str(), 0664), 0);
  EXPECT_EQ(Refused().code(), Code::kPermissionDenied);
  ASSERT_EQ(chmod(cache_.PolicyPath().c_str(), 0646), 0);
  EXPECT_EQ(Refused().code(), Code::kPermissionDenied);
  ASSERT_EQ(chmod(cache_.PolicyPath().c_str(), 0644), 0);  // others may read it
  EXPECT_EQ(Refused().code(), Code::kPermissionDenied);
  ASSERT_EQ(chmod(cache_.PolicyPath().c_str(), 0640), 0);

  const std::string real = tmp_.File("real.db");
  WriteFile(real, bytes_, 0640);
  ASSERT_EQ(unlink(cache_.PolicyPath().c_str()), 0);
  ASSERT_EQ(symlink(real.c_str(), cache_.PolicyPath().c_str()), 0);
  const Status link = Refused();
  EXPECT_EQ(link.code(), Code::kPermissionDenied);
  EXPECT_NE(link.message().find("symbolic link"), std::string::npos) << link.ToString();
  ASSERT_EQ(unlink(cache_.PolicyPath().c_str()), 0);
  WriteFile(cache_.PolicyPath(), bytes_, 0640);

  cache_.owner = geteuid() + 1;
  const Status owner = Refused();
  EXPECT_EQ(owner.code(), Code::kPermissionDenied);
  EXPECT_NE(owner.message().find("owned by uid"), std::string::npos) << owner.ToString();
}

TEST_F(PolicyCacheTest, TruncatedOrExtendedFilesAreRefused) {
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{99}, std::size_t{100},
                           std::size_t{4096}, bytes_.size() / 2, bytes_.size() - 1}) {
    WriteFile(cache_.PolicyPath(), bytes_.substr(0, size), 0640);
    EXPECT_EQ(Refused().code(), Code::kDataLoss) << size;
  }
  ExpectRefused(bytes_ + std::string(4096, '\0'), "truncated or damaged");
}

TEST_F(PolicyCacheTest, RandomBytesAreRefused) {
  std::mt19937 rng(11);
  for (std::size_t size : {std::size_t{512}, std::size_t{8192}, bytes_.size()}) {
    std::string noise(size, '\0');
    for (char& c : noise) c = static_cast<char>(rng());
    WriteFile(cache_.PolicyPath(), noise, 0640);
    EXPECT_EQ(Refused().code(), Code::kDataLoss) << size;
    // The same noise behind a valid SQLite header.
    noise.replace(0, 100, bytes_.substr(0, 100));
    WriteFile(cache_.PolicyPath(), noise, 0640);
    EXPECT_EQ(Refused().code(), Code::kDataLoss) << size;
  }
  // Every page after the header page scrambled.
  std::string scrambled = bytes_;
  for (std::size_t i = 4096; i < scrambled.size(); ++i) scrambled[i] = static_cast<char>(rng());
  WriteFile(cache_.PolicyPath(), scrambled, 0640);
  EXPECT_EQ(Refused().code(), Code::kDataLoss);
}

TEST_F(PolicyCacheTest, SqliteFilesThatAreNotThisFormatAreRefused) {
  ExpectRefused(Mutate(bytes_, "PRAGMA application_id = 0"), "not a gate policy cache");
  ExpectRefused(Mutate(bytes_, "PRAGMA user_version = 2"), "unsupported cache format 2");
  ExpectRefused(Mutate(bytes_, "DROP TABLE locks"), "no such table: locks");
  ExpectRefused(Mutate(bytes_, "DROP TABLE header"), "no such table: header");
  ExpectRefused(Mutate(bytes_, "DROP TABLE users; CREATE TABLE users (name TEXT)"),
                "no such column: json");
  ExpectRefused(Mutate(bytes_, "DROP TABLE revoked; CREATE TABLE revoked (n INTEGER)"),
                "no such column: serial");
  ExpectRefused(Mutate(bytes_, "DELETE FROM header"), "no header row");
  ExpectRefused(Mutate(bytes_, "INSERT INTO header SELECT json FROM header"),
                "more than one header row");
  ExpectRefused(Mutate(bytes_, "UPDATE header SET json = '[]'"), "header");
  ExpectRefused(Mutate(bytes_,
                       "UPDATE header SET json = replace(json, '\"version\":1', "
                       "'\"version\":9')"),
                "unsupported policy cache version 9");
}

TEST_F(PolicyCacheTest, WrongRowsAreRefused) {
  // A row filed under alice that holds mallory's entry.
  ExpectRefused(Mutate(bytes_,
                       "UPDATE users SET json = replace(json, 'alice', 'mallory') "
                       "WHERE name = 'alice'"),
                "holds another entry");
  ExpectRefused(Mutate(bytes_,
                       "UPDATE roles SET json = (SELECT json FROM roles WHERE name = "
                       "'dba') WHERE name = 'recorded'"),
                "holds another entry");
  // A row filed under a name no login looks up is seen by the whole read.
  WriteFile(cache_.PolicyPath(),
            Mutate(bytes_, "UPDATE roles SET name = 'dev2' WHERE name = 'dev'"), 0640);
  EXPECT_FALSE(ReadSnapshot(cache_).has_value());
  ExpectRefused(Mutate(bytes_, "UPDATE locks SET user = 'alice' WHERE user = 'bob'"),
                "holds another entry");
  ExpectRefused(Mutate(bytes_,
                       "UPDATE users SET json = '{\"name\":\"alice\",\"logins\":1,"
                       "\"roles\":[]}' WHERE name = 'alice'"),
                "logins");
  ExpectRefused(Mutate(bytes_, "UPDATE users SET json = 'not json' WHERE name = 'alice'"), "users");
  ExpectRefused(Mutate(bytes_, "UPDATE users SET json = 42 WHERE name = 'alice'"), "users");
  ExpectRefused(Mutate(bytes_,
                       "UPDATE roles SET json = replace(json, 'postgres', 'bad login!') "
                       "WHERE name = 'dba'"),
                "roles");
  // Without the unique index, two rows for alice.
  ExpectRefused(Mutate(bytes_,
                       "DROP INDEX users_by_name; INSERT INTO users SELECT * FROM users "
                       "WHERE name = 'alice'"),
                "more than 1 users rows");
  // What a corrupt row can make a login read is bounded.
  ExpectRefused(Mutate(bytes_,
                       "UPDATE users SET json = '{\"name\":\"alice\",\"logins\":[\"' || "
                       "hex(zeroblob(600000)) || '\"],\"roles\":[]}' "
                       "WHERE name = 'alice'"),
                "too big");
  WriteFile(cache_.PolicyPath(),
            Mutate(bytes_,
                   "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                   "WHERE i < 1000) INSERT INTO locks SELECT 'alice', "
                   "'{\"user\":\"alice\",\"expires_at\":0,\"message\":\"x\"}' FROM n"),
            0640);
  auto many = ReadLoginSnapshot(cache_, "alice", 7);
  ASSERT_FALSE(many.has_value());
  EXPECT_NE(many.error().message().find("more than 1000 locks rows"), std::string::npos)
      << many.error().ToString();
  // The whole-snapshot reader checks the serial column's type too.
  WriteFile(cache_.PolicyPath(), Mutate(bytes_, "INSERT INTO revoked VALUES ('x')"), 0640);
  EXPECT_FALSE(ReadSnapshot(cache_).has_value());
}

}  // namespace
}  // namespace gate::node
