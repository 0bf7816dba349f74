// Browser sessions (auth/web_sessions.h) over a real SQLite store, with a
// clock the test sets.
#include "ca-server/auth/web_sessions.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "ca-server/store_sqlite_backend.h"
#include "gate/bytes.h"

namespace gate::ca {
namespace {

constexpr std::int64_t kNow = 1'700'000'000;

class WebSessionsTest : public SqliteStoreFixture {
 protected:
  void SetUp() override {
    SqliteStoreFixture::SetUp();
    audit_ = std::make_unique<AuditLog>(*store_);
    AddUser("alice");
    AddUser("bob");
    Make({});
  }

  void AddUser(const std::string& name) {
    UserRecord user;
    user.name = name;
    user.logins = {name};
    user.created_at = 1;
    user.password_hash = "$argon2id$signed-up";
    ASSERT_TRUE(store_->CreateUser(user).ok());
  }

  void Make(WebSessionOptions options) {
    options_ = options;
    sessions_ = std::make_unique<WebSessions>(options, *store_, *audit_, [this] { return now_; });
  }

  NewWebSession Create(const std::string& user = "alice") {
    auto created = sessions_->Create(user, "192.0.2.7");
    EXPECT_TRUE(created.has_value()) << created.error().ToString();
    return created.value_or(NewWebSession{});
  }

  bool Valid(const NewWebSession& s) { return sessions_->Validate(s.id.view()).has_value(); }

  std::int64_t now_ = kNow;
  WebSessionOptions options_;
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<WebSessions> sessions_;
};

TEST_F(WebSessionsTest, CreateStoresOnlyHashes) {
  NewWebSession s = Create();
  EXPECT_EQ(s.id.size(), kWebSessionIdChars);
  EXPECT_EQ(s.csrf_token.size(), kWebSessionIdChars);
  EXPECT_NE(s.id.view(), s.csrf_token.view());
  auto stored = store_->GetWebSession(HexEncode(Sha256(s.id.view())));
  ASSERT_TRUE(stored.has_value()) << stored.error().ToString();
  EXPECT_EQ(stored->user, "alice");
  EXPECT_EQ(stored->csrf_hash, HexEncode(Sha256(s.csrf_token.view())));
  EXPECT_EQ(stored->created_at, kNow);
  EXPECT_EQ(stored->last_seen_at, kNow);
  EXPECT_EQ(stored->expires_at, kNow + options_.ttl.count());
  EXPECT_EQ(stored->source, "192.0.2.7");
  // The raw id and token appear in no stored field.
  for (const std::string& field : {stored->id_hash, stored->csrf_hash, stored->user}) {
    EXPECT_EQ(field.find(std::string(s.id.view())), std::string::npos);
    EXPECT_EQ(field.find(std::string(s.csrf_token.view())), std::string::npos);
  }
  EXPECT_EQ(store_->GetWebSession(std::string(s.id.view())).error().code(), Code::kNotFound);
}

TEST_F(WebSessionsTest, IdsAreFreshEachTime) {
  std::set<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.insert(std::string(Create().id.view()));
  EXPECT_EQ(ids.size(), 5u);
}

TEST_F(WebSessionsTest, ValidateReturnsUserAndTheSameCsrfToken) {
  NewWebSession s = Create();
  auto active = sessions_->Validate(s.id.view());
  ASSERT_TRUE(active.has_value()) << active.error().ToString();
  EXPECT_EQ(active->user.name, "alice");
  EXPECT_EQ(active->csrf_token.view(), s.csrf_token.view());
  EXPECT_TRUE(WebSessions::CsrfMatches(active->record, s.csrf_token.view()));
  EXPECT_FALSE(WebSessions::CsrfMatches(active->record, s.id.view()));
  EXPECT_FALSE(WebSessions::CsrfMatches(active->record, ""));
}

TEST_F(WebSessionsTest, JunkAndUnknownIdsAreNotLoggedIn) {
  Create();
  for (std::string_view id : {std::string_view(""), std::string_view("short"),
                              std::string_view("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
                              std::string_view("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")}) {
    auto got = sessions_->Validate(id);
    ASSERT_FALSE(got.has_value()) << id;
    EXPECT_EQ(got.error().code(), Code::kUnauthenticated);
    EXPECT_EQ(got.error().message(), kNotLoggedIn);
  }
}

TEST_F(WebSessionsTest, IdleTimeoutEndsTheSession) {
  Make({.idle_timeout = std::chrono::minutes(30), .refresh_interval = std::chrono::seconds(60)});
  NewWebSession s = Create();
  now_ = kNow + 29 * 60;
  EXPECT_TRUE(Valid(s));  // refreshes last_seen_at to now
  now_ = kNow + 29 * 60 + 30 * 60 - 1;
  EXPECT_TRUE(Valid(s));
  now_ += 30 * 60;
  EXPECT_FALSE(Valid(s));
  // Ended for good: its row is gone.
  EXPECT_EQ(store_->GetWebSession(HexEncode(Sha256(s.id.view()))).error().code(), Code::kNotFound);
}

TEST_F(WebSessionsTest, AbsoluteExpiryEndsEvenAnActiveSession) {
  Make({.idle_timeout = std::chrono::minutes(30), .ttl = std::chrono::hours(1)});
  NewWebSession s = Create();
  for (now_ = kNow; now_ < kNow + 3600; now_ += 600) EXPECT_TRUE(Valid(s)) << now_ - kNow;
  now_ = kNow + 3600;
  EXPECT_FALSE(Valid(s));
}

TEST_F(WebSessionsTest, LastSeenIsWrittenAtMostOncePerRefreshInterval) {
  Make({.refresh_interval = std::chrono::seconds(60)});
  NewWebSession s = Create();
  const std::string hash = HexEncode(Sha256(s.id.view()));
  now_ = kNow + 59;
  EXPECT_TRUE(Valid(s));
  EXPECT_EQ(store_->GetWebSession(hash)->last_seen_at, kNow);
  now_ = kNow + 60;
  EXPECT_TRUE(Valid(s));
  EXPECT_EQ(store_->GetWebSession(hash)->last_seen_at, kNow + 60);
  now_ = kNow + 100;
  EXPECT_TRUE(Valid(s));
  EXPECT_EQ(store_->GetWebSession(hash)->last_seen_at, kNow + 60);
}

TEST_F(WebSessionsTest, PerUserCapEvictsTheOldest) {
  Make({.max_per_user = 3});
  std::vector<NewWebSession> made;
  for (int i = 0; i < 5; ++i) {
    now_ = kNow + i;
    made.push_back(Create());
  }
  NewWebSession bobs = Create("bob");
  EXPECT_FALSE(Valid(made[0]));
  EXPECT_FALSE(Valid(made[1]));
  EXPECT_TRUE(Valid(made[2]));
  EXPECT_TRUE(Valid(made[3]));
  EXPECT_TRUE(Valid(made[4]));
  EXPECT_TRUE(Valid(bobs));  // another user's sessions are not counted
  EXPECT_EQ(store_->ListUserWebSessions("alice")->size(), 3u);
}

TEST_F(WebSessionsTest, CapKeepsTheNewSessionWhenCreatedInTheSameSecond) {
  Make({.max_per_user = 1});
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(Valid(Create()));
  EXPECT_EQ(store_->ListUserWebSessions("alice")->size(), 1u);
}

TEST_F(WebSessionsTest, CreatePrunesStaleSessions) {
  Make({.idle_timeout = std::chrono::minutes(5)});
  NewWebSession old = Create("bob");
  now_ = kNow + 600;
  Create();
  EXPECT_EQ(store_->GetWebSession(HexEncode(Sha256(old.id.view()))).error().code(),
            Code::kNotFound);
}

TEST_F(WebSessionsTest, PruneDeletesExpiredAndIdle) {
  Make({.idle_timeout = std::chrono::minutes(5), .ttl = std::chrono::minutes(10)});
  Create();
  now_ = kNow + 240;
  NewWebSession later = Create("bob");
  now_ = kNow + 300;
  auto gone = sessions_->Prune();
  ASSERT_TRUE(gone.has_value());
  EXPECT_EQ(*gone, 1);
  EXPECT_TRUE(Valid(later));
}

TEST_F(WebSessionsTest, LockEndsTheSessionAtOnce) {
  NewWebSession s = Create();
  ASSERT_TRUE(store_->SetLock({"alice", 0, "compromised laptop", kNow}).ok());
  auto got = sessions_->Validate(s.id.view());
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code(), Code::kUnauthenticated);
  // Ended, not suspended: unlocking does not bring it back.
  ASSERT_TRUE(store_->DeleteLock("alice").ok());
  EXPECT_FALSE(Valid(s));
  auto audit = store_->ListAudit(1);
  ASSERT_TRUE(audit.has_value());
  ASSERT_EQ(audit->size(), 1u);
  EXPECT_EQ((*audit)[0].event, "user.web_session");
  EXPECT_NE((*audit)[0].detail.find("compromised laptop"), std::string::npos);
}

TEST_F(WebSessionsTest, ExpiredLockDoesNotEndTheSession) {
  NewWebSession s = Create();
  ASSERT_TRUE(store_->SetLock({"alice", kNow - 1, "old", kNow - 100}).ok());
  EXPECT_TRUE(Valid(s));
}

TEST_F(WebSessionsTest, DeletedOrResetUserEndsTheSession) {
  NewWebSession a = Create();
  NewWebSession b = Create("bob");
  ASSERT_TRUE(store_->DeleteUser("alice").ok());
  EXPECT_FALSE(Valid(a));
  ASSERT_TRUE(store_->ResetUserCredentials("bob").ok());
  EXPECT_FALSE(Valid(b));
}

TEST_F(WebSessionsTest, EndIsLogout) {
  NewWebSession s = Create();
  NewWebSession other = Create();
  ASSERT_TRUE(sessions_->End(s.id.view()).ok());
  EXPECT_FALSE(Valid(s));
  EXPECT_TRUE(Valid(other));
  EXPECT_TRUE(sessions_->End(s.id.view()).ok());
  EXPECT_TRUE(sessions_->End("junk").ok());
}

TEST_F(WebSessionsTest, CreateForAMissingUserIsNotFound) {
  auto created = sessions_->Create("nobody", "192.0.2.7");
  ASSERT_FALSE(created.has_value());
  EXPECT_EQ(created.error().code(), Code::kNotFound);
}

}  // namespace
}  // namespace gate::ca

namespace gate::ca {
namespace {

// Recheck: what a browser terminal asks every few seconds, by the id's hash.
TEST_F(WebSessionsTest, RecheckRefreshesOnlyWhenActive) {
  Make({.idle_timeout = std::chrono::minutes(30), .refresh_interval = std::chrono::seconds(60)});
  NewWebSession s = Create();
  const std::string hash = HexEncode(Sha256(s.id.view()));
  now_ = kNow + 120;
  auto idle = sessions_->Recheck(hash, /*active=*/false);
  ASSERT_TRUE(idle.has_value()) << idle.error().ToString();
  EXPECT_EQ(idle->user.name, "alice");
  EXPECT_TRUE(idle->csrf_token.empty());
  EXPECT_EQ(store_->GetWebSession(hash)->last_seen_at, kNow);
  auto busy = sessions_->Recheck(hash, /*active=*/true);
  ASSERT_TRUE(busy.has_value());
  EXPECT_EQ(store_->GetWebSession(hash)->last_seen_at, kNow + 120);
  // A busy terminal keeps the session past the idle timeout...
  for (now_ = kNow + 600; now_ < kNow + 3 * 3600; now_ += 600) {
    ASSERT_TRUE(sessions_->Recheck(hash, true).has_value()) << now_ - kNow;
  }
  // ...an idle one does not.
  now_ += 30 * 60;
  auto ended = sessions_->Recheck(hash, false);
  ASSERT_FALSE(ended.has_value());
  EXPECT_EQ(ended.error().code(), Code::kUnauthenticated);
}

TEST_F(WebSessionsTest, RecheckSeesLogoutAndLocks) {
  NewWebSession s = Create();
  NewWebSession other = Create();
  ASSERT_TRUE(sessions_->End(s.id.view()).ok());
  EXPECT_EQ(sessions_->Recheck(HexEncode(Sha256(s.id.view())), true).error().code(),
            Code::kUnauthenticated);
  const std::string other_hash = HexEncode(Sha256(other.id.view()));
  EXPECT_TRUE(sessions_->Recheck(other_hash, false).has_value());
  ASSERT_TRUE(store_->SetLock({"alice", 0, "stolen", kNow}).ok());
  EXPECT_EQ(sessions_->Recheck(other_hash, false).error().code(), Code::kUnauthenticated);
  EXPECT_EQ(store_->GetWebSession(other_hash).error().code(), Code::kNotFound);
}

}  // namespace
}  // namespace gate::ca
