// The WebAuthn ceremonies over a real SQLite store, with a software
// security key (webauthn_soft_key.h).
#include "ca-server/auth/webauthn_service.h"

#include <gtest/gtest.h>

#include "ca-server/store_sqlite_backend.h"
#include "ca-server/webauthn_soft_key.h"

namespace gate::ca {
namespace {

using webauthn_test::SoftKey;

constexpr char kRpId[] = "gate.example.com";
constexpr char kOrigin[] = "https://gate.example.com";
constexpr std::int64_t kNow = 1'700'000'000;
constexpr std::uint8_t kUp = webauthn::kFlagUserPresent;

class WebauthnServiceTest : public SqliteStoreFixture {
 protected:
  void SetUp() override {
    SqliteStoreFixture::SetUp();
    audit_ = std::make_unique<AuditLog>(*store_);
    service_ = std::make_unique<WebauthnService>(webauthn::RelyingParty{kRpId, {kOrigin}, false},
                                                 *store_, *audit_, challenges_);
    for (const char* name : {"alice", "bob"}) {
      UserRecord user;
      user.name = name;
      ASSERT_TRUE(store_->CreateUser(user).ok());
    }
  }

  Result<MfaDevice> Register(const std::string& user, const SoftKey& key, const std::string& name) {
    Result<WebauthnCeremony> begun = service_->BeginRegistration(user, kNow);
    if (!begun) return Err(begun.error());
    return service_->FinishRegistration(
        user, name, key.RegisterNone(begun->challenge, kRpId, kOrigin), "192.0.2.1", kNow);
  }

  Status Login(const std::string& user, const SoftKey& key, std::uint32_t count) {
    Result<WebauthnCeremony> begun = service_->BeginLogin(user, kNow);
    if (!begun) return begun.error();
    return service_->FinishLogin(user, key.Assert(begun->challenge, kRpId, kOrigin, kUp, count),
                                 "192.0.2.1", kNow + 1);
  }

  std::string LastAudit() {
    auto events = store_->ListAudit(1);
    return events && !events->empty() ? (*events)[0].event + " " + (*events)[0].detail : "";
  }

  WebauthnChallenges challenges_{{std::chrono::seconds(300), 100}};
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<WebauthnService> service_;
};

TEST_F(WebauthnServiceTest, RegisterThenLogInWithEs256AndEd25519) {
  for (SoftKey::Alg alg : {SoftKey::Alg::kEs256, SoftKey::Alg::kEd25519}) {
    SoftKey key(alg);
    const std::string name = alg == SoftKey::Alg::kEs256 ? "yubikey" : "solokey";
    Result<MfaDevice> device = Register("alice", key, name);
    ASSERT_TRUE(device.has_value()) << device.error().ToString();
    EXPECT_EQ(device->kind, DeviceKind::kWebauthn);
    EXPECT_EQ(webauthn_test::Str(device->credential_id), key.credential_id());
    EXPECT_EQ(LastAudit().rfind("user.webauthn_register " + name, 0), 0u) << LastAudit();

    Result<WebauthnCeremony> begun = service_->BeginLogin("alice", kNow);
    ASSERT_TRUE(begun.has_value());
    EXPECT_EQ(begun->rp_id, kRpId);
    Status ok = service_->FinishLogin("alice", key.Assert(begun->challenge, kRpId, kOrigin, kUp, 5),
                                      "192.0.2.1", kNow + 1);
    ASSERT_TRUE(ok.ok()) << ok.ToString();
    EXPECT_EQ(LastAudit(), "user.webauthn " + name);
  }
  auto devices = store_->ListDevices("alice");
  ASSERT_EQ(devices->size(), 2u);
  EXPECT_EQ((*devices)[0].sign_count, 5);
  EXPECT_EQ((*devices)[0].last_used_at, kNow + 1);
  // Registration excludes the keys the user has.
  EXPECT_EQ(service_->BeginRegistration("alice", kNow)->credentials.size(), 2u);
}

TEST_F(WebauthnServiceTest, ReplayedAssertionFindsNoChallenge) {
  SoftKey key(SoftKey::Alg::kEs256);
  ASSERT_TRUE(Register("alice", key, "key").has_value());
  Result<WebauthnCeremony> begun = service_->BeginLogin("alice", kNow);
  const webauthn::AssertionResponse response = key.Assert(begun->challenge, kRpId, kOrigin, kUp, 1);
  ASSERT_TRUE(service_->FinishLogin("alice", response, "s", kNow).ok());
  EXPECT_EQ(service_->FinishLogin("alice", response, "s", kNow).code(), Code::kUnauthenticated);
  // Even with a new challenge outstanding, the old response does not match it.
  ASSERT_TRUE(service_->BeginLogin("alice", kNow).has_value());
  EXPECT_EQ(service_->FinishLogin("alice", response, "s", kNow).code(), Code::kUnauthenticated);
  // Expired challenges are refused too.
  begun = service_->BeginLogin("alice", kNow);
  EXPECT_EQ(service_
                ->FinishLogin("alice", key.Assert(begun->challenge, kRpId, kOrigin, kUp, 9), "s",
                              kNow + 300)
                .code(),
            Code::kUnauthenticated);
}

TEST_F(WebauthnServiceTest, CounterGoingBackwardsIsRefusedAsACloneAndAudited) {
  SoftKey key(SoftKey::Alg::kEs256);
  ASSERT_TRUE(Register("alice", key, "key").has_value());
  ASSERT_TRUE(Login("alice", key, 10).ok());
  Status again = Login("alice", key, 10);
  EXPECT_EQ(again.code(), Code::kUnauthenticated);
  EXPECT_NE(LastAudit().find("possibly a cloned security key"), std::string::npos) << LastAudit();
  EXPECT_EQ(Login("alice", key, 7).code(), Code::kUnauthenticated);
  EXPECT_EQ(store_->ListDevices("alice")->front().sign_count, 10);
  EXPECT_TRUE(Login("alice", key, 11).ok());
}

TEST_F(WebauthnServiceTest, KeysBelongToOneUser) {
  SoftKey alices(SoftKey::Alg::kEs256);
  SoftKey stranger(SoftKey::Alg::kEs256);
  ASSERT_TRUE(Register("alice", alices, "key").has_value());
  // bob has no key: no login ceremony.
  EXPECT_EQ(service_->BeginLogin("bob", kNow).error().code(), Code::kFailedPrecondition);
  // The same key cannot be registered to bob, and a name is one per user.
  EXPECT_EQ(Register("bob", alices, "key").error().code(), Code::kAlreadyExists);
  EXPECT_EQ(Register("alice", stranger, "key").error().code(), Code::kAlreadyExists);
  EXPECT_TRUE(store_->ListDevices("bob")->empty());
  // A key alice never registered is refused.
  EXPECT_EQ(Login("alice", stranger, 1).code(), Code::kUnauthenticated);
  EXPECT_EQ(LastAudit(), "user.webauthn unknown security key");
  EXPECT_EQ(service_->BeginRegistration("nobody", kNow).error().code(), Code::kNotFound);
}

TEST_F(WebauthnServiceTest, FailedRegistrationStoresNothing) {
  SoftKey key(SoftKey::Alg::kEd25519);
  Result<WebauthnCeremony> begun = service_->BeginRegistration("alice", kNow);
  ASSERT_TRUE(begun.has_value());
  // A response for another origin.
  Result<MfaDevice> refused = service_->FinishRegistration(
      "alice", "key", key.RegisterNone(begun->challenge, kRpId, "https://evil.example.com"), "s",
      kNow);
  EXPECT_EQ(refused.error().code(), Code::kUnauthenticated);
  EXPECT_TRUE(store_->ListDevices("alice")->empty());
  // The challenge went with the attempt.
  EXPECT_EQ(service_
                ->FinishRegistration("alice", "key",
                                     key.RegisterNone(begun->challenge, kRpId, kOrigin), "s", kNow)
                .error()
                .code(),
            Code::kUnauthenticated);
  EXPECT_TRUE(store_->ListDevices("alice")->empty());
}

}  // namespace
}  // namespace gate::ca
