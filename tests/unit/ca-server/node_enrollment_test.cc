// NodeEnrollment's rules (token lifetime, expiry, single use, whose labels
// win, undoing a join that cannot be signed) and audit trail, against a
// real SQLite store and the signer's service in process.
#include "ca-server/nodes/node_enrollment.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "ca-server/auth/node_auth.h"
#include "ca-server/auth/tokens.h"
#include "ca-server/signer_test_support.h"
#include "ca-server/store_sqlite_backend.h"
#include "gate/duration.h"

namespace gate::ca {
namespace {

constexpr std::int64_t kNow = 1'700'000'000;

class NodeEnrollmentTest : public SqliteStoreFixture {
 protected:
  void SetUp() override {
    SqliteStoreFixture::SetUp();
    audit_ = std::make_unique<AuditLog>(*store_);
    ca_ = testing::NewSignerService(
        *store_, [] { return kNow; }, &user_signer_, &host_signer_);
    host_issuer_ = std::make_unique<HostIssuer>(*ca_);
    enrollment_ = std::make_unique<NodeEnrollment>(
        *store_, *host_issuer_, *audit_, [this](const NodeRecord& node, const std::string& source) {
          leaving_.push_back(node.host_uuid + " from " + source);
          return Status::Ok();
        });
  }

  std::string Token(std::chrono::seconds ttl = std::chrono::minutes(30),
                    const policy::Labels& labels = {{"env", "prod"}}) {
    auto token = enrollment_->CreateToken(ttl, labels, {}, kNow);
    EXPECT_TRUE(token.has_value()) << token.error().ToString();
    return token ? token->token : std::string();
  }

  NodeJoinRequest Request(const std::string& token) {
    NodeJoinRequest request;
    request.token = token;
    request.hostname = "db-1";
    request.host_key = host_key_->public_key();
    request.principals = {"db-1"};
    request.labels = {{"env", "dev"}, {"rack", "r1"}};
    request.source = "10.0.0.9";
    return request;
  }

  AuditEvent LastAudit() { return store_->ListAudit(1)->front(); }

  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<ssh::Signer> user_signer_;
  std::unique_ptr<ssh::Signer> host_signer_;
  std::unique_ptr<SignerService> ca_;
  std::unique_ptr<HostIssuer> host_issuer_;
  std::unique_ptr<NodeEnrollment> enrollment_;
  std::vector<std::string> leaving_;
  Result<ssh::Ed25519PrivateKey> host_key_ = ssh::Ed25519PrivateKey::Generate();
};

TEST_F(NodeEnrollmentTest, CreateTokenStoresOnlyTheHashAndAudits) {
  auto token = enrollment_->CreateToken(std::chrono::minutes(5), {{"env", "prod"}}, {}, kNow);
  ASSERT_TRUE(token.has_value()) << token.error().ToString();
  EXPECT_TRUE(LooksLikeToken(token->token));
  EXPECT_EQ(token->expires_at, kNow + 300);
  EXPECT_EQ(store_->GetNodeToken(token->token).error().code(), Code::kNotFound);
  auto stored = store_->GetNodeToken(HashToken(token->token));
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->created_at, kNow);
  EXPECT_EQ(stored->expires_at, kNow + 300);
  EXPECT_EQ(stored->labels, (policy::Labels{{"env", "prod"}}));
  EXPECT_EQ(LastAudit().event, "token.create");
}

TEST_F(NodeEnrollmentTest, CreateTokenRefusesTtlOutOfRangeAndTooManyLabels) {
  for (std::chrono::seconds ttl : {std::chrono::seconds(0), std::chrono::seconds(-1),
                                   kMaxNodeTokenTtl + std::chrono::seconds(1)}) {
    auto token = enrollment_->CreateToken(ttl, {}, {}, kNow);
    ASSERT_FALSE(token.has_value()) << ttl.count();
    EXPECT_EQ(token.error(), InvalidArgument("node token TTL must be between 1s and " +
                                             FormatDuration(kMaxNodeTokenTtl)));
  }
  policy::Labels many;
  for (std::size_t i = 0; i <= kMaxNodeLabels; ++i) many["l" + std::to_string(i)] = "v";
  EXPECT_EQ(enrollment_->CreateToken(std::chrono::minutes(1), many, {}, kNow).error().code(),
            Code::kInvalidArgument);
  for (const std::vector<std::string>& bad :
       {std::vector<std::string>{"not ok"}, std::vector<std::string>{"a", "a"},
        std::vector<std::string>(kMaxHostPrincipals, "x")}) {
    EXPECT_EQ(enrollment_->CreateToken(std::chrono::minutes(1), {}, bad, kNow).error().code(),
              Code::kInvalidArgument);
  }
  EXPECT_TRUE(enrollment_->CreateToken(kMaxNodeTokenTtl, {}, {}, kNow).has_value());
  EXPECT_EQ(store_->ListAudit(10)->size(), 1u);
}

TEST_F(NodeEnrollmentTest, JoinRegistersTheNodeWithTheTokensLabelsWinning) {
  const std::string token = Token();
  auto joined = enrollment_->Join(Request(token), kNow);
  ASSERT_TRUE(joined.has_value()) << joined.error().ToString();
  const NodeRecord& node = joined->node;
  EXPECT_TRUE(LooksLikeHostUuid(node.host_uuid));
  EXPECT_EQ(node.labels, (policy::Labels{{"env", "prod"}, {"rack", "r1"}}));
  EXPECT_EQ(joined->host_certificate.spec.key_id, node.host_uuid);
  EXPECT_EQ(joined->host_certificate.spec.principals, (std::vector<std::string>{"db-1"}));

  auto stored = store_->GetNode(node.host_uuid);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->hostname, "db-1");
  EXPECT_EQ(stored->labels, node.labels);
  EXPECT_EQ(stored->joined_at, kNow);
  EXPECT_EQ(stored->host_key, host_key_->public_key().AuthorizedKey());
  // The secret is never stored, only its hash.
  EXPECT_EQ(stored->secret_hash, HashNodeSecret(joined->secret.view()));
  EXPECT_EQ(store_->GetNodeToken(HashToken(token)).error().code(), Code::kNotFound);
  const AuditEvent audit = LastAudit();
  EXPECT_EQ(audit.event, "node.join");
  EXPECT_TRUE(audit.success);
  EXPECT_EQ(audit.source, "10.0.0.9");
}

TEST_F(NodeEnrollmentTest, TokenIsSingleUse) {
  const std::string token = Token();
  ASSERT_TRUE(enrollment_->Join(Request(token), kNow).has_value());
  auto again = enrollment_->Join(Request(token), kNow);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code(), Code::kUnauthenticated);
  EXPECT_EQ(store_->ListNodes()->size(), 1u);
  const AuditEvent audit = LastAudit();
  EXPECT_FALSE(audit.success);
  EXPECT_EQ(audit.detail, "db-1: unknown or used token");
}

// Expiry is the service's rule, judged on the row the join consumes: at
// expires_at the token admits nothing, and nothing changes.
TEST_F(NodeEnrollmentTest, ExpiredTokenAdmitsNothingAndChangesNothing) {
  const std::string token = Token(std::chrono::seconds(60));
  auto late = enrollment_->Join(Request(token), kNow + 60);
  ASSERT_FALSE(late.has_value());
  EXPECT_EQ(late.error().code(), Code::kFailedPrecondition);
  EXPECT_NE(late.error().message().find("expired"), std::string::npos);
  EXPECT_TRUE(store_->ListNodes()->empty());
  EXPECT_TRUE(store_->GetNodeToken(HashToken(token)).has_value());
  EXPECT_EQ(LastAudit().detail, "db-1: expired token");
  // A second before, the same token still admits the node.
  EXPECT_TRUE(enrollment_->Join(Request(token), kNow + 59).has_value());
}

TEST_F(NodeEnrollmentTest, MalformedAndUnknownTokensAreUnauthenticated) {
  for (const std::string& token : {std::string(), std::string("nothex"), std::string(32, 'f')}) {
    auto joined = enrollment_->Join(Request(token), kNow);
    ASSERT_FALSE(joined.has_value());
    EXPECT_EQ(joined.error().code(), Code::kUnauthenticated) << token;
  }
  EXPECT_TRUE(store_->ListNodes()->empty());
}

TEST_F(NodeEnrollmentTest, TooManyLabelsKeepTheTokenUsable) {
  const std::string token = Token();
  NodeJoinRequest request = Request(token);
  for (std::size_t i = 0; i < kMaxNodeLabels; ++i) request.labels["l" + std::to_string(i)] = "v";
  auto joined = enrollment_->Join(request, kNow);
  ASSERT_FALSE(joined.has_value());
  EXPECT_EQ(joined.error().code(), Code::kInvalidArgument);
  EXPECT_TRUE(store_->ListNodes()->empty());
  EXPECT_TRUE(store_->GetNodeToken(HashToken(token)).has_value());
  EXPECT_TRUE(enrollment_->Join(Request(token), kNow).has_value());
}

// The node is registered before it is signed for; a signing failure undoes
// the registration and gives the token back.
TEST_F(NodeEnrollmentTest, JoinThatCannotBeSignedIsUndone) {
  const std::string token = Token();
  NodeJoinRequest request = Request(token);
  request.hostname = "not ok";  // the API checks it; the signer refuses it too
  request.principals = {};
  auto joined = enrollment_->Join(request, kNow);
  ASSERT_FALSE(joined.has_value());
  EXPECT_EQ(joined.error().code(), Code::kInvalidArgument);
  EXPECT_TRUE(store_->ListNodes()->empty());
  auto restored = store_->GetNodeToken(HashToken(token));
  ASSERT_TRUE(restored.has_value());
  EXPECT_EQ(restored->expires_at, kNow + 1800);
  EXPECT_EQ(restored->labels, (policy::Labels{{"env", "prod"}}));
  EXPECT_FALSE(LastAudit().success);
  EXPECT_TRUE(enrollment_->Join(Request(token), kNow).has_value());
}

TEST_F(NodeEnrollmentTest, RacingJoinsWithOneTokenAdmitOneNode) {
  const std::string token = Token();
  constexpr int kThreads = 6;
  std::vector<Code> codes(kThreads, Code::kInternal);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto joined = enrollment_->Join(Request(token), kNow);
      codes[i] = joined ? Code::kOk : joined.error().code();
    });
  }
  for (auto& t : threads) t.join();
  int ok = 0;
  for (Code code : codes) {
    if (code == Code::kOk) {
      ++ok;
    } else {
      EXPECT_EQ(code, Code::kUnauthenticated);
    }
  }
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(store_->ListNodes()->size(), 1u);
}

TEST_F(NodeEnrollmentTest, LeaveAndRemoveCloseSessionsDeleteAndAudit) {
  auto first = enrollment_->Join(Request(Token()), kNow);
  NodeJoinRequest other = Request(Token());
  other.hostname = "db-2";  // a host name is one node's
  other.principals = {"db-2"};
  auto second = enrollment_->Join(other, kNow);
  ASSERT_TRUE(first.has_value() && second.has_value());

  ASSERT_TRUE(enrollment_->Leave(first->node, "10.0.0.9", kNow).ok());
  EXPECT_EQ(store_->GetNode(first->node.host_uuid).error().code(), Code::kNotFound);
  EXPECT_EQ(LastAudit().event, "node.leave");
  EXPECT_EQ(enrollment_->Leave(first->node, "10.0.0.9", kNow).code(), Code::kNotFound);

  auto removed = enrollment_->Remove(second->node.host_uuid, kNow);
  ASSERT_TRUE(removed.has_value()) << removed.error().ToString();
  EXPECT_EQ(removed->hostname, "db-2");
  EXPECT_EQ(LastAudit().event, "node.delete");
  EXPECT_EQ(LastAudit().source, "admin");
  EXPECT_EQ(enrollment_->Remove(second->node.host_uuid, kNow).error().code(), Code::kNotFound);
  EXPECT_TRUE(enrollment_->List()->empty());
  EXPECT_EQ(leaving_, (std::vector<std::string>{first->node.host_uuid + " from 10.0.0.9",
                                                first->node.host_uuid + " from 10.0.0.9",
                                                second->node.host_uuid + " from admin"}));
}

TEST_F(NodeEnrollmentTest, RecorderKeyIsTheNodesOwnAndAudited) {
  auto joined = enrollment_->Join(Request(Token()), kNow);
  ASSERT_TRUE(joined.has_value());
  auto key = ssh::Ed25519PrivateKey::Generate();
  ASSERT_TRUE(enrollment_->SetRecorderKey(joined->node, key->public_key(), "10.0.0.9", kNow).ok());
  EXPECT_EQ(store_->GetNode(joined->node.host_uuid)->recorder_key,
            key->public_key().AuthorizedKey());
  EXPECT_EQ(LastAudit().event, "node.recorder_key");
  EXPECT_NE(LastAudit().detail.find(key->public_key().Fingerprint()), std::string::npos);
  ASSERT_TRUE(enrollment_->Leave(joined->node, "10.0.0.9", kNow).ok());
  EXPECT_EQ(enrollment_->SetRecorderKey(joined->node, key->public_key(), "10.0.0.9", kNow).code(),
            Code::kNotFound);
}

TEST_F(NodeEnrollmentTest, SshAddressIsRecordedAtJoinAndSetByAnAdmin) {
  NodeJoinRequest request = Request(Token());
  request.ssh_address = "10.0.0.5:2222";
  auto joined = enrollment_->Join(request, kNow);
  ASSERT_TRUE(joined.has_value());
  const std::string uuid = joined->node.host_uuid;
  EXPECT_EQ(store_->GetNode(uuid)->ssh_address, "10.0.0.5:2222");

  auto moved = enrollment_->SetSshAddress(uuid, "db-1.example.test", kNow);
  ASSERT_TRUE(moved.has_value()) << moved.error().ToString();
  EXPECT_EQ(moved->ssh_address, "db-1.example.test:22");
  EXPECT_EQ(store_->GetNode(uuid)->ssh_address, "db-1.example.test:22");
  EXPECT_EQ(LastAudit().event, "node.update");
  EXPECT_NE(LastAudit().detail.find("db-1.example.test:22"), std::string::npos);

  // A malformed address changes nothing; "" takes the address away.
  auto bad = enrollment_->SetSshAddress(uuid, "db 1:22", kNow);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), Code::kInvalidArgument);
  EXPECT_EQ(store_->GetNode(uuid)->ssh_address, "db-1.example.test:22");
  ASSERT_TRUE(enrollment_->SetSshAddress(uuid, "", kNow).has_value());
  auto node = store_->GetNode(uuid);
  EXPECT_EQ(node->ssh_address, "");
  EXPECT_NE(LastAudit().detail.find("ssh address none"), std::string::npos);
  EXPECT_EQ(enrollment_->SetSshAddress("no-such-node", "h:22", kNow).error().code(),
            Code::kNotFound);
}

}  // namespace
}  // namespace gate::ca
