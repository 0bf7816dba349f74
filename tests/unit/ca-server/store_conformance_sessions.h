// Store conformance: the recorded sessions' index. Part of the typed suite in
// store_conformance.h; every backend must pass it.
#ifndef GATE_TESTS_UNIT_CA_SERVER_STORE_CONFORMANCE_SESSIONS_H_
#define GATE_TESTS_UNIT_CA_SERVER_STORE_CONFORMANCE_SESSIONS_H_

#include "ca-server/store_conformance.h"

namespace gate::ca::store_conformance {

TYPED_TEST_P(StoreConformanceTest, CreateGetAndEveryField) {
  SessionRecord s = TestFixture::MakeSession("s1", "alice", kNodeA, 1000);
  ASSERT_TRUE(this->store_->CreateSession(s).ok());
  EXPECT_EQ(this->store_->CreateSession(s).code(), Code::kAlreadyExists);
  auto got = this->store_->GetSession("s1");
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
  EXPECT_EQ(this->store_->GetSession("nope").error().code(), Code::kNotFound);
}

TYPED_TEST_P(StoreConformanceTest, SizeAndCompletion) {
  ASSERT_TRUE(
      this->store_->CreateSession(TestFixture::MakeSession("s1", "alice", kNodeA, 1000)).ok());
  ASSERT_TRUE(this->store_->SetSessionSize("s1", 4096).ok());
  EXPECT_EQ(this->store_->GetSession("s1")->size, 4096);
  EXPECT_EQ(this->store_->SetSessionSize("nope", 1).code(), Code::kNotFound);
  EXPECT_EQ(this->store_->SetSessionSize("s1", -1).code(), Code::kInvalidArgument);

  SessionRecord done = *this->store_->GetSession("s1");
  done.live = false;
  done.ended_at = 1060;
  done.size = 5000;
  done.completed_at = 1070;
  done.sha256 = std::string(64, 'f');
  done.verified = true;
  done.verify_detail = "complete";
  done.exit = R"({"exit_status":0})";
  ASSERT_TRUE(this->store_->CompleteSession(done).ok());
  auto got = this->store_->GetSession("s1");
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
  EXPECT_EQ(this->store_->CompleteSession(done).code(), Code::kNotFound);
}

TYPED_TEST_P(StoreConformanceTest, ListFiltersAndOrder) {
  ASSERT_TRUE(
      this->store_->CreateSession(TestFixture::MakeSession("s1", "alice", kNodeA, 1000)).ok());
  ASSERT_TRUE(
      this->store_->CreateSession(TestFixture::MakeSession("s2", "bob", kNodeA, 2000)).ok());
  ASSERT_TRUE(
      this->store_->CreateSession(TestFixture::MakeSession("s3", "alice", kNodeB, 3000)).ok());
  SessionRecord done = TestFixture::MakeSession("s4", "bob", kNodeB, 500);
  ASSERT_TRUE(this->store_->CreateSession(done).ok());
  done.live = false;
  ASSERT_TRUE(this->store_->CompleteSession(done).ok());

  EXPECT_EQ(this->ListIds({}), (Ids{"s3", "s2", "s1", "s4"}));  // newest first
  SessionFilter f;
  f.live = true;
  EXPECT_EQ(this->ListIds(f), (Ids{"s3", "s2", "s1"}));
  f.live = false;
  EXPECT_EQ(this->ListIds(f), (Ids{"s4"}));
  f = {};
  f.user = "alice";
  EXPECT_EQ(this->ListIds(f), (Ids{"s3", "s1"}));
  f = {};
  f.node = "db-1";
  EXPECT_EQ(this->ListIds(f), (Ids{"s2", "s1"}));
  f.node = kNodeB;
  EXPECT_EQ(this->ListIds(f), (Ids{"s3", "s4"}));
  f = {};
  f.since = 1500;  // and every live one
  EXPECT_EQ(this->ListIds(f), (Ids{"s3", "s2", "s1"}));
  f.live = false;
  EXPECT_EQ(this->ListIds(f), Ids{});
  f = {};
  f.limit = 2;
  EXPECT_EQ(this->ListIds(f), (Ids{"s3", "s2"}));
}

TYPED_TEST_P(StoreConformanceTest, VisibilityIsOwnerOrListedNodes) {
  ASSERT_TRUE(
      this->store_->CreateSession(TestFixture::MakeSession("s1", "alice", kNodeA, 1000)).ok());
  ASSERT_TRUE(
      this->store_->CreateSession(TestFixture::MakeSession("s2", "bob", kNodeA, 2000)).ok());
  ASSERT_TRUE(
      this->store_->CreateSession(TestFixture::MakeSession("s3", "bob", kNodeB, 3000)).ok());
  SessionFilter f;
  f.visible_to = SessionFilter::Visibility{"alice", {}};
  EXPECT_EQ(this->ListIds(f), (Ids{"s1"}));
  f.visible_to = SessionFilter::Visibility{"alice", {kNodeB}};
  EXPECT_EQ(this->ListIds(f), (Ids{"s3", "s1"}));
  f.visible_to = SessionFilter::Visibility{"carol", {kNodeA, kNodeB}};
  EXPECT_EQ(this->ListIds(f), (Ids{"s3", "s2", "s1"}));
  // A hostile-looking node id is data, never SQL.
  f.visible_to = SessionFilter::Visibility{"carol", {"x') OR 1=1 --", "\"]"}};
  EXPECT_EQ(this->ListIds(f), Ids{});
  f.visible_to = SessionFilter::Visibility{"", {}};
  EXPECT_EQ(this->ListIds(f), Ids{});
}

// Keyset paging: following each page's last session as the next cursor
// gives every session once, in order, ties on started_at included.
TYPED_TEST_P(StoreConformanceTest, PagesFollowTheCursorWithoutGapsOrRepeats) {
  const std::vector<std::pair<std::string, std::int64_t>> sessions = {
      {"a", 1000}, {"b", 2000}, {"c", 2000}, {"d", 2000}, {"e", 3000}, {"f", 500}, {"g", 2000}};
  for (const auto& [id, at] : sessions) {
    ASSERT_TRUE(
        this->store_->CreateSession(TestFixture::MakeSession(id, "alice", kNodeA, at)).ok());
  }
  const Ids whole = this->ListIds({});
  ASSERT_EQ(whole, (Ids{"e", "g", "d", "c", "b", "a", "f"}));
  for (std::size_t page_size : {1u, 2u, 3u, 7u}) {
    SessionFilter f;
    f.limit = page_size;
    Ids paged;
    for (int pages = 0; pages < 10; ++pages) {
      auto page = this->store_->ListSessions(f);
      ASSERT_TRUE(page.has_value()) << page.error().ToString();
      for (const auto& s : *page) paged.push_back(s.id);
      if (page->size() < page_size) break;
      f.before = SessionFilter::Cursor{page->back().started_at, page->back().id};
    }
    EXPECT_EQ(paged, whole) << "page size " << page_size;
  }
  // The cursor combines with the other filters.
  SessionFilter f;
  f.before = SessionFilter::Cursor{2000, "d"};
  f.user = "alice";
  f.limit = 2;
  EXPECT_EQ(this->ListIds(f), (Ids{"c", "b"}));
}

// A list first looks at the newest sessions only; matches that are all
// older than those must still be found, and a page must still be the
// newest matches.
TYPED_TEST_P(StoreConformanceTest, RareMatchesOlderThanThousandsOfSessionsAreFound) {
  ASSERT_TRUE(this->store_
                  ->InTransaction([](StoreOperations& tx) -> Status {
                    for (int i = 0; i < 3; ++i) {
                      GATE_RETURN_IF_ERROR(tx.CreateSession(TestFixture::MakeSession(
                          "old-" + std::to_string(i), "alice", kNodeB, 100 + i)));
                    }
                    for (int i = 0; i < 5000; ++i) {
                      GATE_RETURN_IF_ERROR(tx.CreateSession(TestFixture::MakeSession(
                          "bob-" + std::to_string(i), "bob", kNodeA, 1000 + i)));
                    }
                    return Status::Ok();
                  })
                  .ok());
  SessionFilter f;
  f.limit = 2;
  f.visible_to = SessionFilter::Visibility{"alice", {kNodeB}};
  EXPECT_EQ(this->ListIds(f), (Ids{"old-2", "old-1"}));
  f.before = SessionFilter::Cursor{101, "old-1"};
  EXPECT_EQ(this->ListIds(f), (Ids{"old-0"}));
  f = {};
  f.limit = 2;
  f.node = "web-1";
  EXPECT_EQ(this->ListIds(f), (Ids{"old-2", "old-1"}));
  f = {};
  f.limit = 2;
  f.visible_to = SessionFilter::Visibility{"carol", {kNodeA, kNodeB}};
  EXPECT_EQ(this->ListIds(f), (Ids{"bob-4999", "bob-4998"}));
  f.user = "alice";
  EXPECT_EQ(this->ListIds(f), (Ids{"old-2", "old-1"}));
}

TYPED_TEST_P(StoreConformanceTest, CountLiveSessionsPerNode) {
  ASSERT_TRUE(
      this->store_->CreateSession(TestFixture::MakeSession("s1", "alice", kNodeA, 1000)).ok());
  ASSERT_TRUE(
      this->store_->CreateSession(TestFixture::MakeSession("s2", "bob", kNodeA, 2000)).ok());
  SessionRecord done = TestFixture::MakeSession("s3", "bob", kNodeA, 500);
  ASSERT_TRUE(this->store_->CreateSession(done).ok());
  done.live = false;
  ASSERT_TRUE(this->store_->CompleteSession(done).ok());
  EXPECT_EQ(*this->store_->CountLiveSessions(kNodeA), 2);
  EXPECT_EQ(*this->store_->CountLiveSessions(kNodeB), 0);
}

TYPED_TEST_P(StoreConformanceTest, RecorderKeyRoundTrips) {
  this->JoinNode(kNodeA, "db-1");
  EXPECT_EQ(this->store_->GetNode(kNodeA)->recorder_key, "");
  ASSERT_TRUE(this->store_->SetNodeRecorderKey(kNodeA, "ssh-ed25519 AAAAkey").ok());
  EXPECT_EQ(this->store_->GetNode(kNodeA)->recorder_key, "ssh-ed25519 AAAAkey");
  EXPECT_EQ(this->store_->ListNodes()->at(0).recorder_key, "ssh-ed25519 AAAAkey");
  EXPECT_EQ(this->store_->SetNodeRecorderKey(kNodeB, "x").code(), Code::kNotFound);
}

TYPED_TEST_P(StoreConformanceTest, SshAddressRoundTrips) {
  this->JoinNode(kNodeA, "db-1");
  EXPECT_EQ(this->store_->GetNode(kNodeA)->ssh_address, "");
  ASSERT_TRUE(this->store_->SetNodeSshAddress(kNodeA, "10.0.0.5:2222").ok());
  EXPECT_EQ(this->store_->GetNode(kNodeA)->ssh_address, "10.0.0.5:2222");
  EXPECT_EQ(this->store_->ListNodes()->at(0).ssh_address, "10.0.0.5:2222");
  EXPECT_EQ(this->store_->SetNodeSshAddress(kNodeB, "x:1").code(), Code::kNotFound);
}

// Sessions outlive their node's membership.
TYPED_TEST_P(StoreConformanceTest, SessionsSurviveTheirNode) {
  this->JoinNode(kNodeA, "db-1");
  ASSERT_TRUE(
      this->store_->CreateSession(TestFixture::MakeSession("s1", "alice", kNodeA, 1000)).ok());
  ASSERT_TRUE(this->store_->DeleteNode(kNodeA).ok());
  EXPECT_TRUE(this->store_->GetSession("s1").has_value());
}

}  // namespace gate::ca::store_conformance

#endif  // GATE_TESTS_UNIT_CA_SERVER_STORE_CONFORMANCE_SESSIONS_H_
