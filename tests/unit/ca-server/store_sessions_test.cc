// Store methods for recorded sessions and node recorder keys, and the
// schema migration that added them (v3 -> v4).
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "ca-server/store/store.h"
#include "ca-server/store_test_util.h"

namespace gate::ca {
namespace {

constexpr char kNodeA[] = "4a6f0c1e-9b2d-4c3e-8f10-0123456789ab";
constexpr char kNodeB[] = "5b7f0c1e-9b2d-4c3e-8f10-0123456789ab";

class StoreSessionsTest : public SqliteStoreTest {
 protected:
  void Join(const std::string& uuid, const std::string& hostname) {
    NodeToken token;
    token.token_hash = "token-" + uuid;
    token.created_at = 1;
    token.expires_at = 10'000;
    ASSERT_TRUE(store_->CreateNodeToken(token).ok());
    NodeRecord node;
    node.host_uuid = uuid;
    node.hostname = hostname;
    node.host_key = "ssh-ed25519 AAAA";
    node.secret_hash = std::string(64, 'a');
    node.joined_at = 5;
    Status s = store_->CompleteNodeJoin(token.token_hash, 5, node);
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
};

using Ids = std::vector<std::string>;

TEST_F(StoreSessionsTest, CreateGetAndEveryField) {
  SessionRecord s = MakeSession("s1", "alice", kNodeA, 1000);
  ASSERT_TRUE(store_->CreateSession(s).ok());
  EXPECT_EQ(store_->CreateSession(s).code(), Code::kAlreadyExists);
  auto got = store_->GetSession("s1");
  ASSERT_TRUE(got.has_value()) << got.error().ToString();
  EXPECT_EQ(got->user, "alice");
  EXPECT_EQ(got->login, "root");
  EXPECT_EQ(got->host_uuid, kNodeA);
  EXPECT_EQ(got->node_name, "db-1");
  EXPECT_EQ(got->mode, "interactive");
  EXPECT_EQ(got->started_at, 1000);
  EXPECT_EQ(got->created_at, 1001);
  EXPECT_TRUE(got->live);
  EXPECT_EQ(got->size, 100);
  EXPECT_EQ(got->ended_at, 0);
  EXPECT_EQ(got->sha256, "");
  EXPECT_EQ(store_->GetSession("nope").error().code(), Code::kNotFound);
}

TEST_F(StoreSessionsTest, SizeAndCompletion) {
  ASSERT_TRUE(store_->CreateSession(MakeSession("s1", "alice", kNodeA, 1000)).ok());
  ASSERT_TRUE(store_->SetSessionSize("s1", 4096).ok());
  EXPECT_EQ(store_->GetSession("s1")->size, 4096);
  EXPECT_EQ(store_->SetSessionSize("nope", 1).code(), Code::kNotFound);
  EXPECT_EQ(store_->SetSessionSize("s1", -1).code(), Code::kInvalidArgument);

  SessionRecord done = *store_->GetSession("s1");
  done.live = false;
  done.ended_at = 1060;
  done.size = 5000;
  done.completed_at = 1070;
  done.sha256 = std::string(64, 'f');
  done.verified = true;
  done.verify_detail = "complete";
  done.exit = R"({"exit_status":0})";
  ASSERT_TRUE(store_->CompleteSession(done).ok());
  auto got = store_->GetSession("s1");
  EXPECT_FALSE(got->live);
  EXPECT_EQ(got->ended_at, 1060);
  EXPECT_EQ(got->size, 5000);
  EXPECT_EQ(got->completed_at, 1070);
  EXPECT_EQ(got->sha256, std::string(64, 'f'));
  EXPECT_TRUE(got->verified);
  EXPECT_EQ(got->verify_detail, "complete");
  EXPECT_EQ(got->exit, R"({"exit_status":0})");
  EXPECT_EQ(got->user, "alice");  // untouched
  done.id = "nope";
  EXPECT_EQ(store_->CompleteSession(done).code(), Code::kNotFound);
}

TEST_F(StoreSessionsTest, ListFiltersAndOrder) {
  ASSERT_TRUE(store_->CreateSession(MakeSession("s1", "alice", kNodeA, 1000)).ok());
  ASSERT_TRUE(store_->CreateSession(MakeSession("s2", "bob", kNodeA, 2000)).ok());
  ASSERT_TRUE(store_->CreateSession(MakeSession("s3", "alice", kNodeB, 3000)).ok());
  SessionRecord done = MakeSession("s4", "bob", kNodeB, 500);
  ASSERT_TRUE(store_->CreateSession(done).ok());
  done.live = false;
  ASSERT_TRUE(store_->CompleteSession(done).ok());

  EXPECT_EQ(ListIds({}), (Ids{"s3", "s2", "s1", "s4"}));  // newest first
  SessionFilter f;
  f.live = true;
  EXPECT_EQ(ListIds(f), (Ids{"s3", "s2", "s1"}));
  f.live = false;
  EXPECT_EQ(ListIds(f), (Ids{"s4"}));
  f = {};
  f.user = "alice";
  EXPECT_EQ(ListIds(f), (Ids{"s3", "s1"}));
  f = {};
  f.node = "db-1";
  EXPECT_EQ(ListIds(f), (Ids{"s2", "s1"}));
  f.node = kNodeB;
  EXPECT_EQ(ListIds(f), (Ids{"s3", "s4"}));
  f = {};
  f.since = 1500;  // and every live one
  EXPECT_EQ(ListIds(f), (Ids{"s3", "s2", "s1"}));
  f.live = false;
  EXPECT_EQ(ListIds(f), Ids{});
  f = {};
  f.limit = 2;
  EXPECT_EQ(ListIds(f), (Ids{"s3", "s2"}));
}

TEST_F(StoreSessionsTest, VisibilityIsOwnerOrListedNodes) {
  ASSERT_TRUE(store_->CreateSession(MakeSession("s1", "alice", kNodeA, 1000)).ok());
  ASSERT_TRUE(store_->CreateSession(MakeSession("s2", "bob", kNodeA, 2000)).ok());
  ASSERT_TRUE(store_->CreateSession(MakeSession("s3", "bob", kNodeB, 3000)).ok());
  SessionFilter f;
  f.visible_to = SessionFilter::Visibility{"alice", {}};
  EXPECT_EQ(ListIds(f), (Ids{"s1"}));
  f.visible_to = SessionFilter::Visibility{"alice", {kNodeB}};
  EXPECT_EQ(ListIds(f), (Ids{"s3", "s1"}));
  f.visible_to = SessionFilter::Visibility{"carol", {kNodeA, kNodeB}};
  EXPECT_EQ(ListIds(f), (Ids{"s3", "s2", "s1"}));
  // A hostile-looking node id is data, never SQL.
  f.visible_to = SessionFilter::Visibility{"carol", {"x') OR 1=1 --", "\"]"}};
  EXPECT_EQ(ListIds(f), Ids{});
  f.visible_to = SessionFilter::Visibility{"", {}};
  EXPECT_EQ(ListIds(f), Ids{});
}

TEST_F(StoreSessionsTest, CountLiveSessionsPerNode) {
  ASSERT_TRUE(store_->CreateSession(MakeSession("s1", "alice", kNodeA, 1000)).ok());
  ASSERT_TRUE(store_->CreateSession(MakeSession("s2", "bob", kNodeA, 2000)).ok());
  SessionRecord done = MakeSession("s3", "bob", kNodeA, 500);
  ASSERT_TRUE(store_->CreateSession(done).ok());
  done.live = false;
  ASSERT_TRUE(store_->CompleteSession(done).ok());
  EXPECT_EQ(*store_->CountLiveSessions(kNodeA), 2);
  EXPECT_EQ(*store_->CountLiveSessions(kNodeB), 0);
}

TEST_F(StoreSessionsTest, RecorderKeyRoundTrips) {
  Join(kNodeA, "db-1");
  EXPECT_EQ(store_->GetNode(kNodeA)->recorder_key, "");
  ASSERT_TRUE(store_->SetNodeRecorderKey(kNodeA, "ssh-ed25519 AAAAkey").ok());
  EXPECT_EQ(store_->GetNode(kNodeA)->recorder_key, "ssh-ed25519 AAAAkey");
  EXPECT_EQ(store_->ListNodes()->at(0).recorder_key, "ssh-ed25519 AAAAkey");
  EXPECT_EQ(store_->SetNodeRecorderKey(kNodeB, "x").code(), Code::kNotFound);
}

// Sessions outlive their node's membership.
TEST_F(StoreSessionsTest, SessionsSurviveTheirNode) {
  Join(kNodeA, "db-1");
  ASSERT_TRUE(store_->CreateSession(MakeSession("s1", "alice", kNodeA, 1000)).ok());
  ASSERT_TRUE(store_->DeleteNode(kNodeA).ok());
  EXPECT_TRUE(store_->GetSession("s1").has_value());
}

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

TEST_F(StoreSessionsTest, MigratesAVersion3DatabaseKeepingItsNodes) {
  Join(kNodeA, "db-1");
  store_.reset();
  RawExec(path_,
          "DROP TABLE sessions; DROP TABLE login_failures;"
          " ALTER TABLE nodes DROP COLUMN recorder_key;"
          " UPDATE schema_version SET version = 3");
  Reopen();
  auto node = store_->GetNode(kNodeA);
  ASSERT_TRUE(node.has_value()) << node.error().ToString();
  EXPECT_EQ(node->hostname, "db-1");
  EXPECT_EQ(node->recorder_key, "");
  ASSERT_TRUE(store_->CreateSession(MakeSession("s1", "alice", kNodeA, 1000)).ok());
  ASSERT_TRUE(store_->SetNodeRecorderKey(kNodeA, "ssh-ed25519 AAAAkey").ok());
}

// The CHECK constraints hold even against raw SQL.
TEST_F(StoreSessionsTest, ConstraintsHoldAgainstRawSql) {
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

}  // namespace
}  // namespace gate::ca
