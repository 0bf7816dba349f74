// Issuer, Authenticator and SignupService against a real SQLite store.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "ca-server/audit/audit.h"
#include "ca-server/auth/authenticator.h"
#include "ca-server/auth/password.h"
#include "ca-server/auth/signup.h"
#include "ca-server/auth/tokens.h"
#include "ca-server/auth/totp.h"
#include "ca-server/issuer/host_issuer.h"
#include "ca-server/issuer/issuer.h"
#include "ca-server/signer/signer_service.h"
#include "ca-server/signer_test_support.h"
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
    ca_ = testing::NewSignerService(
        *store_, [this] { return now_; }, &signer_, &host_signer_);
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
  // The signer's service, in process, over a user CA (signer_) and a host
  // CA (host_signer_); its clock is now_.
  std::int64_t now_ = kNow;
  std::unique_ptr<ssh::Signer> signer_;
  std::unique_ptr<ssh::Signer> host_signer_;
  std::unique_ptr<SignerService> ca_;
};

TEST_F(ServicesTest, IssuerBuildsTheCertificateTheIssueAsksFor) {
  Issuer issuer({std::chrono::hours(12), std::chrono::hours(30), std::chrono::seconds(60)}, *ca_,
                *store_);
  UserRecord user;
  user.name = "alice";
  user.logins = {"alice", "root"};
  user.password_hash = "signed up";  // the signer issues only to users who have signed up
  ASSERT_TRUE(store_->CreateUser(user).ok());
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
  Issuer issuer({std::chrono::hours(12), std::chrono::hours(30), std::chrono::seconds(60)}, *ca_,
                *store_);
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
  EXPECT_EQ(replay.error(), Unauthenticated(std::string(kBadLogin)));
  EXPECT_EQ(store_->ListAudit(1)->at(0).detail, "reused OTP code");
  // The signup's own code (an older step) is refused too.
  auto old = TotpCode(secret, kNow);
  EXPECT_FALSE(auth.Authenticate("bob", SecretString(kPassword), SecretString(*old), "t", later)
                   .has_value());
}

// A connector's user has no password: a password login with its name is
// refused like an unknown user's, whatever is typed (an empty password too).
TEST_F(ServicesTest, AuthenticatorRefusesPasswordLoginsOfConnectorUsers) {
  UserRecord sso;
  sso.name = "carol";
  sso.created_at = kNow;
  sso.connector = "corp";
  sso.idp_subject = "sub-1";
  sso.logins = {"carol"};
  ASSERT_TRUE(store_->UpsertSsoUser(sso).has_value());
  Authenticator auth({SecondFactor::kOff, 5, std::chrono::minutes(5)}, *store_, *audit_);
  for (const char* password : {"", kPassword}) {
    auto r = auth.Authenticate("carol", SecretString(password), SecretString(""), "t", kNow);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), Unauthenticated(std::string(kBadLogin)));
    EXPECT_EQ(store_->ListAudit(1)->at(0).detail, "user logs in through connector corp");
  }
}

// A login that waited in gate-ca's queue past its code's window is judged
// at its arrival time: the server's delay is not the user's failure.
TEST_F(ServicesTest, CodesAreJudgedWhenTheRequestArrived) {
  SecretString secret = SignedUpUser("ann", {"ann"});
  Authenticator auth({SecondFactor::kOtp, 5, std::chrono::minutes(5)}, *store_, *audit_);
  const std::int64_t arrived = kNow + 30;
  const std::int64_t handled = arrived + 120;  // four steps later: out of the window
  auto code = TotpCode(secret, arrived);
  auto late = auth.Authenticate("ann", SecretString(kPassword), SecretString(*code), "t", handled);
  EXPECT_EQ(late.error().code(), Code::kUnauthenticated);  // what a queued login used to get
  auto ok =
      auth.Authenticate("ann", SecretString(kPassword), SecretString(*code), "t", handled, arrived);
  EXPECT_TRUE(ok.has_value()) << ok.error().ToString();

  auto next = TotpCode(secret, arrived + 30);
  EXPECT_TRUE(
      auth.VerifySecondFactor("ann", SecretString(*next), "node", handled, arrived + 30).ok());
}

TEST_F(ServicesTest, AuthenticatorGivesOneAnswerForUnknownUserAndWrongPassword) {
  SignedUpUser("carol", {"carol"});
  Authenticator auth({SecondFactor::kOtp, 5, std::chrono::minutes(5)}, *store_, *audit_);
  auto unknown =
      auth.Authenticate("nobody", SecretString(kPassword), SecretString("123456"), "t", kNow + 30);
  auto wrong = auth.Authenticate("carol", SecretString("wrong password!"), SecretString("123456"),
                                 "t", kNow + 30);
  ASSERT_FALSE(unknown.has_value());
  ASSERT_FALSE(wrong.has_value());
  EXPECT_EQ(unknown.error(), wrong.error());
  EXPECT_EQ(unknown.error().message(), kBadLogin);
}

// A wrong, missing or reused code after the right password gets the answer
// a wrong password gets: otherwise the answer says the password was right.
TEST_F(ServicesTest, AuthenticatorGivesOneAnswerForAWrongCodeAndAWrongPassword) {
  SecretString secret = SignedUpUser("cora", {"cora"});
  Authenticator auth({SecondFactor::kOtp, 50, std::chrono::minutes(5)}, *store_, *audit_);
  auto right = TotpCode(secret, kNow + 30);
  const std::string wrong_code = *right == "000000" ? "111111" : "000000";
  auto wrong_password = auth.Authenticate("cora", SecretString("wrong password!"),
                                          SecretString(*right), "t", kNow + 30);
  auto wrong =
      auth.Authenticate("cora", SecretString(kPassword), SecretString(wrong_code), "t", kNow + 30);
  auto missing =
      auth.Authenticate("cora", SecretString(kPassword), SecretString(""), "t", kNow + 30);
  ASSERT_TRUE(
      auth.Authenticate("cora", SecretString(kPassword), SecretString(*right), "t", kNow + 30)
          .has_value());
  auto reused =
      auth.Authenticate("cora", SecretString(kPassword), SecretString(*right), "t", kNow + 31);
  for (const auto* r : {&wrong_password, &wrong, &missing, &reused}) {
    ASSERT_FALSE(r->has_value());
    EXPECT_EQ(r->error(), Unauthenticated(std::string(kBadLogin)));
  }
}

TEST_F(ServicesTest, AuthenticatorLocksOutAfterConsecutiveFailures) {
  SecretString secret = SignedUpUser("dave", {"dave"});
  Authenticator auth({SecondFactor::kOtp, 3, std::chrono::minutes(5)}, *store_, *audit_);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(
        auth.Authenticate("dave", SecretString("nope nope nope"), SecretString("1"), "t", kNow + 30)
            .error()
            .code(),
        Code::kUnauthenticated);
  }
  auto code = TotpCode(secret, kNow + 30);
  auto locked =
      auth.Authenticate("dave", SecretString(kPassword), SecretString(*code), "t", kNow + 31);
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
  ASSERT_TRUE(
      signup.Finish(*token, SecretString(kPassword), SecretString(), "t", kNow).has_value());
  Authenticator auth({SecondFactor::kOff, 5, std::chrono::minutes(5)}, *store_, *audit_);
  EXPECT_TRUE(
      auth.Authenticate("erin", SecretString(kPassword), SecretString(), "t", kNow).has_value());
}

// second_factor optional: signup may decline the OTP app; a user without
// any device logs in with the password alone, one with an OTP app must give
// its code, and one whose only device is a security key is sent to the key.
TEST_F(ServicesTest, OptionalSecondFactorFollowsTheUsersDevices) {
  for (const char* name : {"frank", "gina"}) {
    UserRecord user;
    user.name = name;
    user.logins = {name};
    ASSERT_TRUE(store_->CreateUser(user).ok());
  }
  SignupService signup({"test", SecondFactor::kOptional, 12}, *store_, *audit_);
  auto token = signup.CreateToken("frank", std::chrono::hours(1), kNow);
  auto offer = signup.Start(*token, kNow);
  ASSERT_TRUE(offer.has_value());
  EXPECT_FALSE(offer->totp_uri.empty());  // offered, and declined below
  ASSERT_TRUE(
      signup.Finish(*token, SecretString(kPassword), SecretString(), "t", kNow).has_value());
  EXPECT_TRUE(store_->ListDevices("frank")->empty());

  Authenticator auth({SecondFactor::kOptional, 5, std::chrono::minutes(5)}, *store_, *audit_);
  EXPECT_TRUE(
      auth.Authenticate("frank", SecretString(kPassword), SecretString(), "t", kNow).has_value());

  // Once frank holds a security key, the password alone is not enough.
  MfaDevice key;
  key.user = "frank";
  key.name = "yubikey";
  key.kind = DeviceKind::kWebauthn;
  key.credential_id = {1, 2, 3};
  key.public_key = {4, 5, 6};
  ASSERT_TRUE(store_->AddDevice(key).ok());
  auto refused = auth.Authenticate("frank", SecretString(kPassword), SecretString(), "t", kNow);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), Code::kFailedPrecondition);

  // gina enrolls the OTP app at signup, and must then give its code.
  auto gina_token = signup.CreateToken("gina", std::chrono::hours(1), kNow);
  ASSERT_TRUE(signup.Start(*gina_token, kNow).has_value());
  SecretString secret = store_->GetSignupToken(HashToken(*gina_token))->totp_secret;
  ASSERT_TRUE(signup
                  .Finish(*gina_token, SecretString(kPassword),
                          SecretString(*TotpCode(secret, kNow)), "t", kNow)
                  .has_value());
  EXPECT_EQ(store_->ListDevices("gina")->size(), 1u);
  EXPECT_EQ(auth.Authenticate("gina", SecretString(kPassword), SecretString(), "t", kNow + 60)
                .error()
                .code(),
            Code::kUnauthenticated);
  EXPECT_TRUE(auth.Authenticate("gina", SecretString(kPassword),
                                SecretString(*TotpCode(secret, kNow + 60)), "t", kNow + 60)
                  .has_value());
}

// second_factor on: signup enrolls an OTP app as with otp, and a login needs
// its code.
TEST_F(ServicesTest, SecondFactorOnRequiresADevice) {
  UserRecord user;
  user.name = "hana";
  user.logins = {"hana"};
  ASSERT_TRUE(store_->CreateUser(user).ok());
  SignupService signup({"test", SecondFactor::kOn, 12}, *store_, *audit_);
  auto token = signup.CreateToken("hana", std::chrono::hours(1), kNow);
  ASSERT_TRUE(signup.Start(*token, kNow).has_value());
  EXPECT_EQ(
      signup.Finish(*token, SecretString(kPassword), SecretString(), "t", kNow).error().code(),
      Code::kInvalidArgument);
  SecretString secret = store_->GetSignupToken(HashToken(*token))->totp_secret;
  ASSERT_TRUE(
      signup
          .Finish(*token, SecretString(kPassword), SecretString(*TotpCode(secret, kNow)), "t", kNow)
          .has_value());
  Authenticator auth({SecondFactor::kOn, 5, std::chrono::minutes(5)}, *store_, *audit_);
  EXPECT_EQ(auth.Authenticate("hana", SecretString(kPassword), SecretString(), "t", kNow + 60)
                .error()
                .code(),
            Code::kUnauthenticated);
  EXPECT_TRUE(auth.Authenticate("hana", SecretString(kPassword),
                                SecretString(*TotpCode(secret, kNow + 60)), "t", kNow + 60)
                  .has_value());
  // Without an OTP app (its only device removed), no password login.
  ASSERT_TRUE(store_->RemoveDevice("hana", "otp").ok());
  EXPECT_EQ(
      auth.Authenticate("hana", SecretString(kPassword), SecretString("123456"), "t", kNow + 120)
          .error()
          .code(),
      Code::kFailedPrecondition);
}

// --- The second factor alone (pam_gate.so, POST /v1/nodes/otp/verify) -------------

constexpr char kNode[] = "4a6f0c1e-9b2d-4c3e-8f10-0123456789ab";

TEST_F(ServicesTest, SecondFactorAcceptsAFreshCodeOnceAndAudits) {
  SecretString secret = SignedUpUser("fay", {"fay"});
  Authenticator auth({SecondFactor::kOtp, 5, std::chrono::minutes(5)}, *store_, *audit_);
  const std::int64_t later = kNow + 30;
  auto code = TotpCode(secret, later);
  ASSERT_TRUE(auth.VerifySecondFactor("fay", SecretString(*code), kNode, later).ok());
  Status replay = auth.VerifySecondFactor("fay", SecretString(*code), kNode, later);
  EXPECT_EQ(replay.code(), Code::kUnauthenticated);
  EXPECT_NE(replay.message().find("already used"), std::string::npos);
  auto events = store_->ListAudit(2);
  ASSERT_TRUE(events.has_value());
  ASSERT_EQ(events->size(), 2u);
  const AuditEvent& ok = (*events)[1];  // newest first
  EXPECT_EQ(ok.event, "user.otp");
  EXPECT_EQ(ok.user, "fay");
  EXPECT_EQ(ok.source, kNode);
  EXPECT_TRUE(ok.success);
  EXPECT_FALSE((*events)[0].success);
  for (const auto& e : *events) EXPECT_EQ(e.detail.find(*code), std::string::npos);
}

// One replay state for both paths: a code used at login is refused here, and
// the other way round.
TEST_F(ServicesTest, SecondFactorSharesUsedStepsWithLogin) {
  SecretString secret = SignedUpUser("gus", {"gus"});
  Authenticator auth({SecondFactor::kOtp, 5, std::chrono::minutes(5)}, *store_, *audit_);
  const std::int64_t t1 = kNow + 30;
  auto code1 = TotpCode(secret, t1);
  ASSERT_TRUE(
      auth.Authenticate("gus", SecretString(kPassword), SecretString(*code1), "t", t1).has_value());
  EXPECT_EQ(auth.VerifySecondFactor("gus", SecretString(*code1), kNode, t1).code(),
            Code::kUnauthenticated);
  const std::int64_t t2 = kNow + 60;
  auto code2 = TotpCode(secret, t2);
  ASSERT_TRUE(auth.VerifySecondFactor("gus", SecretString(*code2), kNode, t2).ok());
  auto login = auth.Authenticate("gus", SecretString(kPassword), SecretString(*code2), "t", t2);
  ASSERT_FALSE(login.has_value());
  EXPECT_EQ(login.error(), Unauthenticated(std::string(kBadLogin)));
  EXPECT_EQ(store_->ListAudit(1)->at(0).detail, "reused OTP code");
}

TEST_F(ServicesTest, SecondFactorGivesOneAnswerForUnknownUnenrolledAndWrong) {
  SignedUpUser("hal", {"hal"});
  UserRecord pending;  // created, never signed up
  pending.name = "ida";
  pending.logins = {"ida"};
  ASSERT_TRUE(store_->CreateUser(pending).ok());
  UserRecord no_otp;  // signed up on a cluster without a second factor
  no_otp.name = "jim";
  no_otp.logins = {"jim"};
  ASSERT_TRUE(store_->CreateUser(no_otp).ok());
  SignupService signup({"test", SecondFactor::kOff, 12}, *store_, *audit_);
  auto token = signup.CreateToken("jim", std::chrono::hours(1), kNow);
  ASSERT_TRUE(signup.Start(*token, kNow).has_value());
  ASSERT_TRUE(
      signup.Finish(*token, SecretString(kPassword), SecretString(), "t", kNow).has_value());

  Authenticator auth({SecondFactor::kOtp, 5, std::chrono::minutes(5)}, *store_, *audit_);
  const Status wrong = auth.VerifySecondFactor("hal", SecretString("000000"), kNode, kNow + 30);
  EXPECT_EQ(wrong.code(), Code::kUnauthenticated);
  EXPECT_EQ(wrong.message(), kBadOtpCode);
  for (const char* user : {"nobody", "ida", "jim"}) {
    for (const char* code : {"000000", "", "12345x"}) {
      EXPECT_EQ(auth.VerifySecondFactor(user, SecretString(code), kNode, kNow + 30), wrong)
          << user << " " << code;
    }
  }
  // Malformed codes are wrong codes too (same answer, and they count).
  EXPECT_EQ(auth.VerifySecondFactor("hal", SecretString(""), kNode, kNow + 30), wrong);
  EXPECT_EQ(auth.VerifySecondFactor("hal", SecretString("1234567"), kNode, kNow + 30), wrong);
  // The node's failures against hal; the unknown and unenrolled names were
  // counted alike, each against its own name.
  EXPECT_EQ(*auth.throttle().RecentFailures("hal", "node " + std::string(kNode), kNow + 30), 3);
  EXPECT_EQ(*auth.throttle().RecentFailures("nobody", "node " + std::string(kNode), kNow + 30), 3);
}

// One lockout for both paths: failures here lock out the login and failures
// at login lock out pam_gate.so; a lockout answers before any code check.
TEST_F(ServicesTest, SecondFactorSharesTheLockoutWithLogin) {
  SecretString secret = SignedUpUser("kim", {"kim"});
  Authenticator auth({SecondFactor::kOtp, 3, std::chrono::minutes(5)}, *store_, *audit_);
  const std::int64_t t = kNow + 30;
  EXPECT_FALSE(
      auth.Authenticate("kim", SecretString("nope nope nope"), SecretString(), "t", t).has_value());
  EXPECT_EQ(auth.VerifySecondFactor("kim", SecretString("000000"), kNode, t).code(),
            Code::kUnauthenticated);
  EXPECT_EQ(auth.VerifySecondFactor("kim", SecretString("000001"), kNode, t).code(),
            Code::kUnauthenticated);
  auto code = TotpCode(secret, t);
  Status locked = auth.VerifySecondFactor("kim", SecretString(*code), kNode, t + 1);
  EXPECT_EQ(locked.code(), Code::kResourceExhausted);
  EXPECT_NE(locked.message().find("try again in"), std::string::npos);
  EXPECT_EQ(auth.Authenticate("kim", SecretString(kPassword), SecretString(*code), "t", t + 1)
                .error()
                .code(),
            Code::kResourceExhausted);
  // After the lockout the right code works again and clears the count.
  const std::int64_t after = t + 1 + 301;
  auto fresh = TotpCode(secret, after);
  ASSERT_TRUE(auth.VerifySecondFactor("kim", SecretString(*fresh), kNode, after).ok());
  EXPECT_EQ(*auth.throttle().RecentFailures("kim", "node " + std::string(kNode), after), 0);
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
  EXPECT_EQ(
      signup.Finish(*token, SecretString("short"), SecretString(*code), "t", kNow).error().code(),
      Code::kInvalidArgument);
  EXPECT_FALSE(store_->GetUser("fay")->signed_up());
  ASSERT_TRUE(
      signup.Finish(*token, SecretString(kPassword), SecretString(*code), "t", kNow).has_value());
  EXPECT_EQ(signup.Start(*token, kNow).error().code(), Code::kNotFound);
  EXPECT_TRUE(store_->GetUser("fay")->signed_up());
  EXPECT_NE(store_->GetUser("fay")->password_hash.find("$argon2id$"), std::string::npos);
}

// The expiry rule is the service's: a token used at its expiry second signs
// nobody up and stays where it was.
TEST_F(ServicesTest, ExpiredSignupTokenChangesNothing) {
  UserRecord user;
  user.name = "gus";
  user.logins = {"gus"};
  ASSERT_TRUE(store_->CreateUser(user).ok());
  SignupService signup({"test", SecondFactor::kOff, 12}, *store_, *audit_);
  auto token = signup.CreateToken("gus", std::chrono::hours(1), kNow);
  ASSERT_TRUE(token.has_value());
  auto finished = signup.Finish(*token, SecretString(kPassword), SecretString(), "t", kNow + 3600);
  ASSERT_FALSE(finished.has_value());
  EXPECT_EQ(finished.error().code(), Code::kFailedPrecondition);
  EXPECT_NE(finished.error().message().find("signup token expired"), std::string::npos);
  EXPECT_FALSE(store_->GetUser("gus")->signed_up());
  EXPECT_TRUE(store_->GetUser("gus")->totp_secret.empty());
  EXPECT_TRUE(store_->GetSignupToken(HashToken(*token)).has_value());
  ASSERT_TRUE(
      signup.Finish(*token, SecretString(kPassword), SecretString(), "t", kNow + 3599).has_value());
  EXPECT_TRUE(store_->GetUser("gus")->signed_up());
}

TEST_F(ServicesTest, MalformedTokensAreNotFound) {
  SignupService signup({"test", SecondFactor::kOtp, 12}, *store_, *audit_);
  for (const char* bad : {"", "short", "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ", "../../etc/passwd"}) {
    EXPECT_EQ(signup.Start(bad, kNow).error().code(), Code::kNotFound) << bad;
  }
}

// --- Policy wiring in the issuer -------------------------------------------------------

using testing::Role;

class IssuerPolicyTest : public ServicesTest {
 protected:
  Result<IssuedUserCertificate> Issue(const UserRecord& user, std::chrono::seconds ttl = {},
                                      std::int64_t now = kNow) {
    Issuer issuer({std::chrono::hours(12), std::chrono::hours(30), std::chrono::seconds(60)}, *ca_,
                  *store_);
    auto key = ssh::Ed25519PrivateKey::Generate();
    now_ = now;  // the signer's clock
    return issuer.IssueUserCertificate(user, key->public_key(), ttl, now);
  }
  UserRecord User(const std::string& name, std::vector<std::string> logins,
                  std::vector<std::string> roles) {
    UserRecord user;
    user.name = name;
    user.logins = std::move(logins);
    user.roles = std::move(roles);
    user.created_at = kNow;
    user.password_hash = "signed up";  // the signer issues only to users who have signed up
    EXPECT_TRUE(store_->CreateUser(user).ok());
    return user;
  }
};

TEST_F(IssuerPolicyTest, PrincipalsAreOwnLoginsThenEachRolesDeduplicated) {
  ASSERT_TRUE(store_->CreateRole(Role("dev", {"ubuntu", "alice"})).ok());
  ASSERT_TRUE(store_->CreateRole(Role("dba", {"postgres"})).ok());
  auto issued = Issue(User("alice", {"alice"}, {"dev", "dba"}));
  ASSERT_TRUE(issued.has_value()) << issued.error().ToString();
  EXPECT_EQ(issued->certificate.spec.principals,
            (std::vector<std::string>{"alice", "ubuntu", "postgres"}));
  EXPECT_EQ(issued->roles, (std::vector<std::string>{"dev", "dba"}));
  EXPECT_EQ(issued->extensions.size(), 3u);
}

TEST_F(IssuerPolicyTest, UserWithOnlyRolesGetsTheRolesLogins) {
  ASSERT_TRUE(store_->CreateRole(Role("dev", {"ubuntu"})).ok());
  auto issued = Issue(User("bob", {}, {"dev"}));
  ASSERT_TRUE(issued.has_value()) << issued.error().ToString();
  EXPECT_EQ(issued->certificate.spec.principals, (std::vector<std::string>{"ubuntu"}));
}

TEST_F(IssuerPolicyTest, TtlIsCappedByTheSmallestRoleMaxTtl) {
  ASSERT_TRUE(store_->CreateRole(Role("dev", {"a"}, std::chrono::hours(8))).ok());
  ASSERT_TRUE(store_->CreateRole(Role("ops", {"b"}, std::chrono::hours(2))).ok());
  ASSERT_TRUE(store_->CreateRole(Role("any", {"c"})).ok());
  const UserRecord user = User("carl", {}, {"dev", "ops", "any"});
  auto issued = Issue(user);  // default 12h
  ASSERT_TRUE(issued.has_value());
  EXPECT_EQ(issued->certificate.spec.valid_before, static_cast<std::uint64_t>(kNow + 2 * 3600));
  // A shorter request still wins.
  issued = Issue(user, std::chrono::minutes(30));
  ASSERT_TRUE(issued.has_value());
  EXPECT_EQ(issued->certificate.spec.valid_before, static_cast<std::uint64_t>(kNow + 1800));
}

TEST_F(IssuerPolicyTest, ClusterMaxStillCapsWhenRolesAllowMore) {
  // Roles cannot lengthen a certificate beyond max_cert_ttl (30h here).
  ASSERT_TRUE(store_->CreateRole(Role("long", {"a"}, std::chrono::hours(100))).ok());
  auto issued = Issue(User("dora", {}, {"long"}), std::chrono::hours(50));
  ASSERT_TRUE(issued.has_value());
  EXPECT_EQ(issued->certificate.spec.valid_before, static_cast<std::uint64_t>(kNow + 30 * 3600));
}

TEST_F(IssuerPolicyTest, ExtensionsAreThoseEveryRolePermits) {
  ASSERT_TRUE(store_->CreateRole(Role("a", {"x"}, {}, true, false, true)).ok());
  ASSERT_TRUE(store_->CreateRole(Role("b", {"y"}, {}, true, true, false)).ok());
  auto issued = Issue(User("eve", {}, {"a", "b"}));
  ASSERT_TRUE(issued.has_value());
  EXPECT_EQ(issued->extensions, (std::vector<std::string>{"permit-pty"}));
  const auto& ext = issued->certificate.spec.extensions;
  EXPECT_EQ(ext.size(), 1u);
  EXPECT_TRUE(ext.count("permit-pty"));
}

TEST_F(IssuerPolicyTest, MissingRoleGrantsNothing) {
  ASSERT_TRUE(store_->CreateRole(Role("dev", {"ubuntu"})).ok());
  auto issued = Issue(User("finn", {"finn"}, {"dev", "deleted"}));
  ASSERT_TRUE(issued.has_value());
  EXPECT_EQ(issued->certificate.spec.principals, (std::vector<std::string>{"finn", "ubuntu"}));
  EXPECT_EQ(issued->roles, (std::vector<std::string>{"dev"}));
  // With only a missing role there is nothing to grant.
  auto none = Issue(User("gail", {}, {"deleted"}));
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code(), Code::kFailedPrecondition);
}

TEST_F(IssuerPolicyTest, LockedUserIsRefusedWithTheMessageAndNothingIsRecorded) {
  const UserRecord user = User("hugo", {"hugo"}, {});
  ASSERT_TRUE(store_->SetLock({"hugo", 0, "under investigation", kNow}).ok());
  auto refused = Issue(user);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), Code::kPermissionDenied);
  EXPECT_EQ(refused.error().message(), "user hugo is locked: under investigation");
  EXPECT_TRUE(store_->ListCertificates("hugo")->empty());
}

TEST_F(IssuerPolicyTest, ExpiredLockAndOtherUsersLocksDoNotApply) {
  const UserRecord user = User("ivy", {"ivy"}, {});
  User("jon", {"jon"}, {});
  ASSERT_TRUE(store_->SetLock({"ivy", kNow, "over", kNow - 100}).ok());
  ASSERT_TRUE(store_->SetLock({"jon", 0, "not ivy", kNow}).ok());
  EXPECT_TRUE(Issue(user).has_value());
  // The same lock, still in force a second earlier.
  EXPECT_EQ(Issue(user, {}, kNow - 1).error().code(), Code::kPermissionDenied);
}

// --- Host certificates --------------------------------------------------------------

constexpr char kUuid[] = "4a6f0c1e-9b2d-4c3e-8f10-0123456789ab";

// Approves every name the tests below sign for.
void RegisterNode(Store& store, const ssh::Ed25519PublicKey& key) {
  std::vector<std::string> names = {"db-1", "10.0.0.5", "::1"};
  for (int i = 0; i < 32; ++i) names.push_back("h" + std::to_string(i));
  testing::RegisterNode(store, kUuid, key, kNow, names);
}

TEST_F(ServicesTest, HostIssuerSignsAHostCertificate) {
  HostIssuer issuer(*ca_);
  auto key = ssh::Ed25519PrivateKey::Generate();
  RegisterNode(*store_, key->public_key());
  auto cert = issuer.IssueHostCertificate(kUuid, key->public_key(), {"db-1", "10.0.0.5", "::1"});
  ASSERT_TRUE(cert.has_value()) << cert.error().ToString();
  const auto& spec = cert->spec;
  EXPECT_EQ(spec.type, ssh::CertType::kHost);
  EXPECT_EQ(spec.key_id, kUuid);
  EXPECT_EQ(spec.principals, (std::vector<std::string>{"db-1", "10.0.0.5", "::1"}));
  EXPECT_EQ(spec.valid_after, static_cast<std::uint64_t>(kNow - 60));
  EXPECT_EQ(spec.valid_before, static_cast<std::uint64_t>(kNow + 30 * 24 * 3600));
  EXPECT_TRUE(spec.extensions.empty());
  EXPECT_NE(spec.serial, 0u);
  EXPECT_EQ(cert->signature_key, host_signer_->public_key());
  auto parsed = ssh::ParseCertificate(cert->blob);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->spec.type, ssh::CertType::kHost);
}

TEST_F(ServicesTest, HostIssuerRefusesBadPrincipalsAndIds) {
  HostIssuer issuer(*ca_);
  auto key = ssh::Ed25519PrivateKey::Generate();
  RegisterNode(*store_, key->public_key());
  const std::vector<std::vector<std::string>> bad = {
      {},       {"db 1"}, {"-oProxyCommand"},      {"db-1", "db-1"},
      {"db_1"}, {"*"},    {std::string(254, 'a')}, std::vector<std::string>(33, "x"),
  };
  for (const auto& principals : bad) {
    auto cert = issuer.IssueHostCertificate(kUuid, key->public_key(), principals);
    ASSERT_FALSE(cert.has_value());
    EXPECT_EQ(cert.error().code(), Code::kInvalidArgument);
  }
  std::vector<std::string> many;
  for (int i = 0; i < 32; ++i) many.push_back("h" + std::to_string(i));
  EXPECT_TRUE(issuer.IssueHostCertificate(kUuid, key->public_key(), many).has_value());
  for (const char* id : {"", "not-a-uuid", "4A6F0C1E-9B2D-4C3E-8F10-0123456789AB"}) {
    EXPECT_EQ(issuer.IssueHostCertificate(id, key->public_key(), {"db-1"}).error().code(),
              Code::kInvalidArgument)
        << id;
  }
}

}  // namespace
}  // namespace gate::ca

namespace gate::ca {
namespace {

// Regression: an admin lock stopped certificate logins but not a central OTP
// check (sudo or console with pam_gate source=central).
TEST_F(ServicesTest, VerifySecondFactorRefusesLockedUser) {
  SecretString secret = SignedUpUser("lena", {"lena"});
  Authenticator auth({SecondFactor::kOtp, 5, std::chrono::minutes(5)}, *store_, *audit_);
  ASSERT_TRUE(store_->SetLock({"lena", 0, "on leave", kNow}).ok());
  auto code = TotpCode(secret, kNow + 30);
  const Status locked = auth.VerifySecondFactor("lena", SecretString(*code), "node", kNow + 30);
  EXPECT_EQ(locked.code(), Code::kPermissionDenied);
  EXPECT_EQ(locked.message(), "user lena is locked: on leave");
  ASSERT_TRUE(store_->DeleteLock("lena").ok());
  auto next = TotpCode(secret, kNow + 60);
  EXPECT_TRUE(auth.VerifySecondFactor("lena", SecretString(*next), "node", kNow + 60).ok());
}

}  // namespace
}  // namespace gate::ca
