// Store conformance: browser sessions (WebSessionStore).
#ifndef GATE_TESTS_UNIT_CA_SERVER_STORE_CONFORMANCE_WEB_SESSIONS_H_
#define GATE_TESTS_UNIT_CA_SERVER_STORE_CONFORMANCE_WEB_SESSIONS_H_

#include "ca-server/store_conformance.h"

namespace gate::ca::store_conformance {

TYPED_TEST_P(StoreConformanceTest, WebSessionRoundTripsEveryField) {
  this->CreateUser("alice");
  WebSessionRecord want = TestFixture::MakeWebSession("sess-a", "alice", 100);
  want.last_seen_at = 150;
  want.expires_at = 43300;
  want.source = "2001:db8::1";
  ASSERT_TRUE(this->store_->CreateWebSession(want).ok());
  Result<WebSessionRecord> got = this->store_->GetWebSession("sess-a");
  ASSERT_TRUE(got.has_value()) << got.error().ToString();
  EXPECT_EQ(got->id_hash, want.id_hash);
  EXPECT_EQ(got->user, "alice");
  EXPECT_EQ(got->csrf_hash, want.csrf_hash);
  EXPECT_EQ(got->created_at, 100);
  EXPECT_EQ(got->last_seen_at, 150);
  EXPECT_EQ(got->expires_at, 43300);
  EXPECT_EQ(got->source, "2001:db8::1");
  EXPECT_EQ(this->store_->GetWebSession("sess-b").error().code(), Code::kNotFound);
}

TYPED_TEST_P(StoreConformanceTest, WebSessionCreateRefusesBadInput) {
  this->CreateUser("alice");
  this->CreateWebSession("sess-a", "alice", 100);
  EXPECT_EQ(
      this->store_->CreateWebSession(TestFixture::MakeWebSession("sess-a", "alice", 200)).code(),
      Code::kAlreadyExists);
  EXPECT_EQ(this->store_->GetWebSession("sess-a")->created_at, 100);
  EXPECT_EQ(
      this->store_->CreateWebSession(TestFixture::MakeWebSession("sess-b", "nobody", 1)).code(),
      Code::kNotFound);
  WebSessionRecord no_csrf = TestFixture::MakeWebSession("sess-c", "alice", 1);
  no_csrf.csrf_hash.clear();
  EXPECT_EQ(this->store_->CreateWebSession(no_csrf).code(), Code::kInvalidArgument);
  EXPECT_EQ(this->store_->CreateWebSession(TestFixture::MakeWebSession("", "alice", 1)).code(),
            Code::kInvalidArgument);
  EXPECT_EQ(this->store_->ListUserWebSessions("alice")->size(), 1u);
}

TYPED_TEST_P(StoreConformanceTest, WebSessionsListOldestFirstPerUser) {
  this->CreateUser("alice");
  this->CreateUser("bob");
  this->CreateWebSession("sess-3", "alice", 300);
  this->CreateWebSession("sess-1", "alice", 100);
  this->CreateWebSession("sess-b", "bob", 50);
  this->CreateWebSession("sess-2", "alice", 100);
  Result<std::vector<WebSessionRecord>> list = this->store_->ListUserWebSessions("alice");
  ASSERT_TRUE(list.has_value()) << list.error().ToString();
  Ids ids;
  for (const WebSessionRecord& s : *list) ids.push_back(s.id_hash);
  EXPECT_EQ(ids, (Ids{"sess-1", "sess-2", "sess-3"}));
  EXPECT_TRUE(this->store_->ListUserWebSessions("carol")->empty());
}

TYPED_TEST_P(StoreConformanceTest, WebSessionTouchAndDelete) {
  this->CreateUser("alice");
  this->CreateWebSession("sess-a", "alice", 100);
  this->CreateWebSession("sess-b", "alice", 100);
  ASSERT_TRUE(this->store_->TouchWebSession("sess-a", 170).ok());
  EXPECT_EQ(this->store_->GetWebSession("sess-a")->last_seen_at, 170);
  EXPECT_EQ(this->store_->GetWebSession("sess-b")->last_seen_at, 100);
  EXPECT_EQ(this->store_->TouchWebSession("sess-x", 170).code(), Code::kNotFound);
  ASSERT_TRUE(this->store_->DeleteWebSession("sess-a").ok());
  EXPECT_EQ(this->store_->GetWebSession("sess-a").error().code(), Code::kNotFound);
  EXPECT_TRUE(this->store_->DeleteWebSession("sess-a").ok());  // twice is no error
  EXPECT_TRUE(this->store_->GetWebSession("sess-b").has_value());
}

TYPED_TEST_P(StoreConformanceTest, WebSessionsGoWithTheirUser) {
  this->CreateUser("alice");
  this->CreateUser("bob");
  this->CreateWebSession("sess-a1", "alice", 100);
  this->CreateWebSession("sess-a2", "alice", 100);
  this->CreateWebSession("sess-b", "bob", 100);
  ASSERT_TRUE(this->store_->DeleteUserWebSessions("alice").ok());
  EXPECT_TRUE(this->store_->ListUserWebSessions("alice")->empty());
  EXPECT_TRUE(this->store_->DeleteUserWebSessions("nobody").ok());
  this->CreateWebSession("sess-a3", "alice", 100);
  ASSERT_TRUE(this->store_->DeleteUser("alice").ok());
  EXPECT_EQ(this->store_->GetWebSession("sess-a3").error().code(), Code::kNotFound);
  EXPECT_TRUE(this->store_->GetWebSession("sess-b").has_value());
}

TYPED_TEST_P(StoreConformanceTest, DeleteStaleWebSessionsByExpiryOrIdleness) {
  this->CreateUser("alice");
  WebSessionRecord expired = TestFixture::MakeWebSession("expired", "alice", 100);
  expired.expires_at = 500;
  expired.last_seen_at = 450;
  WebSessionRecord idle = TestFixture::MakeWebSession("idle", "alice", 100);
  idle.expires_at = 900;
  idle.last_seen_at = 200;
  WebSessionRecord live = TestFixture::MakeWebSession("live", "alice", 100);
  live.expires_at = 900;
  live.last_seen_at = 201;
  for (const WebSessionRecord& s : {expired, idle, live}) {
    ASSERT_TRUE(this->store_->CreateWebSession(s).ok());
  }
  Result<int> gone = this->store_->DeleteStaleWebSessions(500, 200);
  ASSERT_TRUE(gone.has_value()) << gone.error().ToString();
  EXPECT_EQ(*gone, 2);
  EXPECT_FALSE(this->store_->GetWebSession("expired").has_value());
  EXPECT_FALSE(this->store_->GetWebSession("idle").has_value());
  EXPECT_TRUE(this->store_->GetWebSession("live").has_value());
  EXPECT_EQ(*this->store_->DeleteStaleWebSessions(500, 200), 0);
}

TYPED_TEST_P(StoreConformanceTest, WebSessionsPersistAndRollBack) {
  this->CreateUser("alice");
  Status failed = this->store_->InTransaction([&](StoreOperations& tx) -> Status {
    GATE_RETURN_IF_ERROR(tx.CreateWebSession(TestFixture::MakeWebSession("sess-t", "alice", 1)));
    return Internal("abort");
  });
  EXPECT_EQ(failed.code(), Code::kInternal);
  EXPECT_EQ(this->store_->GetWebSession("sess-t").error().code(), Code::kNotFound);
  this->CreateWebSession("sess-a", "alice", 100);
  ASSERT_NO_FATAL_FAILURE(this->Reopen());
  EXPECT_EQ(this->store_->GetWebSession("sess-a")->user, "alice");
}

}  // namespace gate::ca::store_conformance

#endif  // GATE_TESTS_UNIT_CA_SERVER_STORE_CONFORMANCE_WEB_SESSIONS_H_
