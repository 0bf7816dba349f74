// Issuer, Authenticator and SignupService against a real SQLite store.
#include <gtest/gtest.h>

#include <filesystem>
#include <unistd.h>

#include "ca-server/audit/audit.h"
#include "ca-server/auth/authenticator.h"
#include "ca-server/auth/password.h"
#include "ca-server/auth/signup.h"
#include "ca-server/auth/tokens.h"
#include "ca-server/auth/totp.h"
#include "ca-server/issuer/issuer.h"
#include "ca-server/store/store.h"
#include "gate/certificate.h"

namespace gate::ca {
namespace {

constexpr std::int64_t kNow = 1'700'000'000;
const char* kPassword = "correct horse battery";

class ServicesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("gate-services-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    std::filesystem::permissions(dir_, std::filesystem::perms::owner_all);
    auto store = OpenSqliteStore((dir_ / "gate.db").string());
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    store_ = std::move(*store);
    audit_ = std::make_unique<AuditLog>(*store_);
    auto ca = ssh::Ed25519PrivateKey::Generate();
    ASSERT_TRUE(ca.has_value());
    signer_ = std::make_unique<ssh::LocalSigner>(std::move(*ca));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A user who has signed up with kPassword and the returned TOTP secret.
  SecretString SignedUpUser(const std::string& name, std::vector<std::string> logins) {
    UserRecord user;
    user.name = name;
    user.logins = std::move(logins);
    user.created_at = kNow;
    EXPECT_TRUE(store_->CreateUser(user).ok());
    SignupService signup({"test", SecondFactor::kOtp, 12}, *store_, *audit_);
    auto token = signup.CreateToken(name, std::chrono::hours(1), kNow);
    EXPECT_TRUE(token.has_value());
    auto offer = signup.Start(*token, kNow);
    EXPECT_TRUE(offer.has_value());
    auto stored = store_->GetSignupToken(HashToken(*token));
    SecretString secret = stored->totp_secret;
    auto code = TotpCode(secret, kNow);
    auto done = signup.Finish(*token, SecretString(kPassword), SecretString(*code), "test", kNow);
    EXPECT_TRUE(done.has_value()) << done.error().ToString();
    return secret;
  }

  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<ssh::Signer> signer_;
};

TEST_F(ServicesTest, IssuerBuildsTheCertificateTheIssueAsksFor) {
  Issuer issuer({std::chrono::hours(12), std::chrono::hours(30), std::chrono::seconds(60)},
                *signer_, *store_);
  UserRecord user;
  user.name = "alice";
  user.logins = {"alice", "root"};
  auto key = ssh::Ed25519PrivateKey::Generate();
  auto issued = issuer.IssueUserCertificate(user, key->public_key(), std::chrono::seconds(0), kNow);
  ASSERT_TRUE(issued.has_value()) << issued.error().ToString();
  const auto& spec = issued->certificate.spec;
  EXPECT_EQ(spec.key_id, "alice");
  EXPECT_EQ(spec.principals, user.logins);
  EXPECT_EQ(spec.valid_after, static_cast<std::uint64_t>(kNow - 60));
  EXPECT_EQ(spec.valid_before, static_cast<std::uint64_t>(kNow + 12 * 3600));
  EXPECT_EQ(spec.extensions.size(), 3u);
  EXPECT_TRUE(spec.extensions.count("permit-pty"));
  EXPECT_NE(spec.serial, 0u);
  EXPECT_EQ(issued->certificate.signature_key, signer_->public_key());
  // The serial is recorded, so it can never be issued again.
  auto certs = store_->ListCertificates("alice");
  ASSERT_TRUE(certs.has_value());
  ASSERT_EQ(certs->size(), 1u);
  EXPECT_EQ((*certs)[0].serial, spec.serial);
  // And the blob parses back with a valid signature.
  EXPECT_TRUE(ssh::ParseCertificate(issued->certificate.blob).has_value());
}

TEST_F(ServicesTest, IssuerCapsTtlAndRefusesUsersWithoutLogins) {
  Issuer issuer({std::chrono::hours(12), std::chrono::hours(30), std::chrono::seconds(60)},
                *signer_, *store_);
  EXPECT_EQ(issuer.EffectiveTtl(std::chrono::hours(100)), std::chrono::hours(30));
  EXPECT_EQ(issuer.EffectiveTtl(std::chrono::minutes(5)), std::chrono::minutes(5));
  UserRecord user;
  user.name = "nobody";
  auto key = ssh::Ed25519PrivateKey::Generate();
  EXPECT_EQ(issuer.IssueUserCertificate(user, key->public_key(), {}, kNow).error().code(),
            Code::kFailedPrecondition);
  user.logins = {"x"};
  EXPECT_EQ(issuer.IssueUserCertificate(user, key->public_key(), std::chrono::seconds(-1), kNow)
                .error()
                .code(),
            Code::kInvalidArgument);
}

TEST_F(ServicesTest, AuthenticatorAcceptsPasswordAndFreshCodeOnce) {
  SecretString secret = SignedUpUser("bob", {"bob"});
  Authenticator auth({SecondFactor::kOtp, 5, std::chrono::minutes(5)}, *store_, *audit_);
  const std::int64_t later = kNow + 30;  // the signup used the step of kNow
  auto code = TotpCode(secret, later);
  auto ok = auth.Authenticate("bob", SecretString(kPassword), SecretString(*code), "t", later);
  ASSERT_TRUE(ok.has_value()) << ok.error().ToString();
  auto replay = auth.Authenticate("bob", SecretString(kPassword), SecretString(*code), "t", later);
  EXPECT_EQ(replay.error().code(), Code::kUnauthenticated);
  EXPECT_NE(replay.error().message().find("already used"), std::string::npos);
  // The signup's own code (an older step) is refused too.
  auto old = TotpCode(secret, kNow);
  EXPECT_FALSE(auth.Authenticate("bob", SecretString(kPassword), SecretString(*old), "t", later)
                   .has_value());
}

TEST_F(ServicesTest, AuthenticatorGivesOneAnswerForUnknownUserAndWrongPassword) {
  SignedUpUser("carol", {"carol"});
  Authenticator auth({SecondFactor::kOtp, 5, std::chrono::minutes(5)}, *store_, *audit_);
  auto unknown = auth.Authenticate("nobody", SecretString(kPassword), SecretString("123456"), "t",
                                   kNow + 30);
  auto wrong = auth.Authenticate("carol", SecretString("wrong password!"), SecretString("123456"),
                                 "t", kNow + 30);
  ASSERT_FALSE(unknown.has_value());
  ASSERT_FALSE(wrong.has_value());
  EXPECT_EQ(unknown.error(), wrong.error());
  EXPECT_EQ(unknown.error().message(), kBadCredentials);
}

TEST_F(ServicesTest, AuthenticatorLocksOutAfterConsecutiveFailures) {
  SecretString secret = SignedUpUser("dave", {"dave"});
  Authenticator auth({SecondFactor::kOtp, 3, std::chrono::minutes(5)}, *store_, *audit_);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(auth.Authenticate("dave", SecretString("nope nope nope"), SecretString("1"), "t",
                                kNow + 30)
                  .error()
                  .code(),
              Code::kUnauthenticated);
  }
  auto code = TotpCode(secret, kNow + 30);
  auto locked = auth.Authenticate("dave", SecretString(kPassword), SecretString(*code), "t",
                                  kNow + 31);
  EXPECT_EQ(locked.error().code(), Code::kResourceExhausted);
  EXPECT_NE(locked.error().message().find("try again in"), std::string::npos);
  // After the lockout, the right credentials work again.
  const std::int64_t after = kNow + 31 + 301;
  auto fresh = TotpCode(secret, after);
  EXPECT_TRUE(auth.Authenticate("dave", SecretString(kPassword), SecretString(*fresh), "t", after)
                  .has_value());
}

TEST_F(ServicesTest, AuthenticatorWithoutSecondFactor) {
  UserRecord user;
  user.name = "erin";
  user.logins = {"erin"};
  ASSERT_TRUE(store_->CreateUser(user).ok());
  SignupService signup({"test", SecondFactor::kOff, 12}, *store_, *audit_);
  auto token = signup.CreateToken("erin", std::chrono::hours(1), kNow);
  auto offer = signup.Start(*token, kNow);
  ASSERT_TRUE(offer.has_value());
  EXPECT_TRUE(offer->totp_uri.empty());
  ASSERT_TRUE(signup.Finish(*token, SecretString(kPassword), SecretString(), "t", kNow).has_value());
  Authenticator auth({SecondFactor::kOff, 5, std::chrono::minutes(5)}, *store_, *audit_);
  EXPECT_TRUE(auth.Authenticate("erin", SecretString(kPassword), SecretString(), "t", kNow)
                  .has_value());
}

TEST_F(ServicesTest, SignupTokenIsSingleUseAndExpires) {
  UserRecord user;
  user.name = "fay";
  user.logins = {"fay"};
  ASSERT_TRUE(store_->CreateUser(user).ok());
  SignupService signup({"test", SecondFactor::kOtp, 12}, *store_, *audit_);
  auto token = signup.CreateToken("fay", std::chrono::hours(1), kNow);
  ASSERT_TRUE(token.has_value());
  EXPECT_EQ(token->size(), 32u);
  // Only the hash is stored.
  EXPECT_EQ(store_->GetSignupToken(*token).error().code(), Code::kNotFound);

  auto first = signup.Start(*token, kNow);
  auto second = signup.Start(*token, kNow + 1);
  ASSERT_TRUE(first.has_value() && second.has_value());
  EXPECT_EQ(first->totp_uri, second->totp_uri);  // same secret on every start
  EXPECT_EQ(signup.Start(*token, kNow + 3600).error().code(), Code::kFailedPrecondition);

  auto stored = store_->GetSignupToken(HashToken(*token));
  auto code = TotpCode(stored->totp_secret, kNow);
  // A short password is refused and changes nothing.
  EXPECT_EQ(signup.Finish(*token, SecretString("short"), SecretString(*code), "t", kNow)
                .error()
                .code(),
            Code::kInvalidArgument);
  EXPECT_FALSE(store_->GetUser("fay")->signed_up());
  ASSERT_TRUE(
      signup.Finish(*token, SecretString(kPassword), SecretString(*code), "t", kNow).has_value());
  EXPECT_EQ(signup.Start(*token, kNow).error().code(), Code::kNotFound);
  EXPECT_TRUE(store_->GetUser("fay")->signed_up());
  EXPECT_NE(store_->GetUser("fay")->password_hash.find("$argon2id$"), std::string::npos);
}

TEST_F(ServicesTest, MalformedTokensAreNotFound) {
  SignupService signup({"test", SecondFactor::kOtp, 12}, *store_, *audit_);
  for (const char* bad : {"", "short", "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ", "../../etc/passwd"}) {
    EXPECT_EQ(signup.Start(bad, kNow).error().code(), Code::kNotFound) << bad;
  }
}

}  // namespace
}  // namespace gate::ca
