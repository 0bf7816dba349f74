// cli/common/session_api.h: the query string gate sends, and what a profile
// must hold before any signed request leaves the machine.
#include "cli/common/session_api.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "common/test_util.h"
#include "gate/certificate.h"
#include "gate/secure_file.h"

namespace gate::cli {
namespace {

constexpr std::int64_t kNow = 1'700'000'000;

TEST(SessionQueryTest, OnlyWhatIsSetAndPercentEncoded) {
  EXPECT_EQ(SessionQueryString({}), "");
  SessionQuery q;
  q.live = true;
  q.user = "al ice@x";
  q.node = "db-1/&=";
  q.since = 1700000000;
  q.limit = 5;
  q.before = "1700000000.6f1c";
  EXPECT_EQ(SessionQueryString(q),
            "?live=1&user=al%20ice%40x&node=db-1%2F%26%3D&since=1700000000&limit=5"
            "&before=1700000000.6f1c");
  SessionQuery ended;
  ended.live = false;
  EXPECT_EQ(SessionQueryString(ended), "?live=0");
}

class SessionClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::make_unique<ProfileStore>(
        *ProfileHome(tmp_.path() + "/.gate").For("127.0.0.1:1", "alice"));
    ca_ = std::make_unique<ssh::LocalSigner>(*ssh::Ed25519PrivateKey::Generate());
  }

  // Logs in: a profile, a key and a certificate valid [after, before) for
  // that key, or for another one when other_key.
  void Login(std::int64_t after, std::int64_t before, bool other_key = false) {
    auto key = ssh::Ed25519PrivateKey::Generate();
    auto other = ssh::Ed25519PrivateKey::Generate();
    ssh::CertificateSpec spec;
    spec.public_key = other_key ? other->public_key() : key->public_key();
    spec.serial = 7;
    spec.key_id = "alice";
    spec.principals = {"alice"};
    spec.valid_after = static_cast<std::uint64_t>(after);
    spec.valid_before = static_cast<std::uint64_t>(before);
    auto cert = ssh::SignCertificate(spec, *ca_);
    ASSERT_TRUE(cert.has_value());
    Profile p;
    p.proxy = "127.0.0.1:1";
    p.user = "alice";
    p.cluster = "c";
    p.valid_after = after;
    p.valid_before = before;
    ASSERT_TRUE(store_
                    ->Save(p, ssh::EncodeOpenSshPrivateKey(*key, "alice"),
                           ssh::CertificateLine(*cert, "alice"))
                    .ok());
  }

  testing::TempDir tmp_;
  std::unique_ptr<ProfileStore> store_;
  std::unique_ptr<ssh::Signer> ca_;
};

TEST_F(SessionClientTest, LoadsAValidLogin) {
  Login(kNow - 60, kNow + 3600);
  auto client = SessionClient::FromProfile(*store_, {}, kNow);
  EXPECT_TRUE(client.has_value()) << client.error().ToString();
}

TEST_F(SessionClientTest, NotLoggedIn) {
  auto client = SessionClient::FromProfile(*store_, {}, kNow);
  ASSERT_FALSE(client.has_value());
  EXPECT_EQ(client.error().code(), Code::kNotFound);
}

TEST_F(SessionClientTest, ExpiredCertificateSaysLogInAgain) {
  Login(kNow - 7200, kNow - 1);
  auto client = SessionClient::FromProfile(*store_, {}, kNow);
  ASSERT_FALSE(client.has_value());
  EXPECT_EQ(client.error().code(), Code::kFailedPrecondition);
  EXPECT_NE(client.error().message().find("gate login"), std::string::npos);
}

TEST_F(SessionClientTest, CertificateOfAnotherKeyIsRefused) {
  Login(kNow - 60, kNow + 3600, /*other_key=*/true);
  auto client = SessionClient::FromProfile(*store_, {}, kNow);
  ASSERT_FALSE(client.has_value());
  EXPECT_EQ(client.error().code(), Code::kFailedPrecondition);
}

TEST_F(SessionClientTest, KeyReadableByOthersIsRefused) {
  Login(kNow - 60, kNow + 3600);
  ASSERT_EQ(::chmod(store_->KeyPath().c_str(), 0644), 0);
  auto client = SessionClient::FromProfile(*store_, {}, kNow);
  ASSERT_FALSE(client.has_value());
  EXPECT_EQ(client.error().code(), Code::kPermissionDenied);
}

TEST_F(SessionClientTest, BadSessionIdsNeverReachTheNetwork) {
  Login(kNow - 60, kNow + 3600);
  auto client = SessionClient::FromProfile(*store_, {}, kNow);
  ASSERT_TRUE(client.has_value());
  for (const char* id : {"../../etc/passwd", "6F1C3A2E-8D2A-4C61-9A57-0B6F3A2F9D10", ""}) {
    EXPECT_EQ(client->Get(id).error().code(), Code::kInvalidArgument) << id;
    EXPECT_EQ(client->FetchRecording(id, 1 << 20).error().code(), Code::kInvalidArgument) << id;
  }
  // A well-formed id goes out (and finds nothing listening on port 1).
  EXPECT_EQ(client->Get("6f1c3a2e-8d2a-4c61-9a57-0b6f3a2f9d10").error().code(), Code::kUnavailable);
}

}  // namespace
}  // namespace gate::cli
