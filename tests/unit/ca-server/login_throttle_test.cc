// LoginThrottle's rules (per source and per user) and the Authenticator's
// use of them, against a real SQLite store, with an injected clock (every
// time is an argument).
#include "ca-server/auth/login_throttle.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "ca-server/audit/audit.h"
#include "ca-server/auth/authenticator.h"
#include "ca-server/auth/signup.h"
#include "ca-server/auth/tokens.h"
#include "ca-server/auth/totp.h"
#include "ca-server/store_sqlite_backend.h"

namespace gate::ca {
namespace {

constexpr std::int64_t kNow = 1'700'000'000;
constexpr char kPassword[] = "correct horse battery";

class LoginThrottleTest : public SqliteStoreFixture {
 protected:
  LoginThrottle Throttle() { return LoginThrottle({3, std::chrono::seconds(600)}, *store_); }
  static std::string Source(int i) { return "10.0.0." + std::to_string(i); }
};

TEST_F(LoginThrottleTest, OneSourceIsBlockedAtTheThresholdAndOthersAreNot) {
  LoginThrottle throttle = Throttle();
  for (int i = 1; i <= 2; ++i) {
    ASSERT_TRUE(throttle.Check("alice", Source(1), kNow + i).ok());
    EXPECT_EQ(throttle.RecordFailure("alice", Source(1), kNow + i), Result<bool>(false));
    EXPECT_EQ(*throttle.RecentFailures("alice", Source(1), kNow + i), i);
  }
  EXPECT_EQ(throttle.RecordFailure("alice", Source(1), kNow + 3), Result<bool>(true));
  Status blocked = throttle.Check("alice", Source(1), kNow + 4);
  EXPECT_EQ(blocked.code(), Code::kResourceExhausted);
  EXPECT_EQ(blocked.message(), "too many failed login attempts; try again in 9m59s");
  // The block is for alice only, from this source only.
  EXPECT_TRUE(throttle.Check("bob", Source(1), kNow + 4).ok());
  EXPECT_TRUE(throttle.Check("alice", Source(2), kNow + 4).ok());
  // It ends by itself.
  EXPECT_TRUE(throttle.Check("alice", Source(1), kNow + 3 + 600).ok());
}

TEST_F(LoginThrottleTest, SuccessClearsTheSourceButNotTheUsersTotal) {
  LoginThrottle throttle = Throttle();
  ASSERT_TRUE(throttle.RecordFailure("alice", Source(1), kNow).has_value());
  ASSERT_TRUE(throttle.RecordFailure("alice", Source(1), kNow + 1).has_value());
  ASSERT_TRUE(throttle.RecordSuccess("alice", Source(1)).ok());
  EXPECT_EQ(*throttle.RecentFailures("alice", Source(1), kNow + 2), 0);
  EXPECT_EQ(*throttle.RecentFailures("alice", kEverySource, kNow + 2), 2);
}

// A guessing attack spread over many sources throttles the user: every
// source that has failed is refused for the rest of the window, while a
// clean source still gets its try.
TEST_F(LoginThrottleTest, SpreadAttackThrottlesFailedSourcesOnly) {
  LoginThrottle throttle = Throttle();
  for (int i = 1; i <= 3; ++i) {
    ASSERT_TRUE(throttle.Check("alice", Source(i), kNow + i).ok());
    EXPECT_EQ(throttle.RecordFailure("alice", Source(i), kNow + i), Result<bool>(false));
  }
  EXPECT_EQ(throttle.Throttled("alice", kNow + 4), Result<bool>(true));
  for (int i = 1; i <= 3; ++i) {
    Status refused = throttle.Check("alice", Source(i), kNow + 4);
    EXPECT_EQ(refused.code(), Code::kResourceExhausted) << i;
    // Until the window that began with the first failure ends.
    EXPECT_EQ(refused.message(), "too many failed login attempts; try again in 9m57s");
  }
  EXPECT_TRUE(throttle.Check("alice", Source(9), kNow + 4).ok());
  // One more failure makes that source a failed one too.
  ASSERT_TRUE(throttle.RecordFailure("alice", Source(9), kNow + 5).has_value());
  EXPECT_EQ(throttle.Check("alice", Source(9), kNow + 6).code(), Code::kResourceExhausted);
  // The window ends, and with it the throttle.
  EXPECT_EQ(throttle.Throttled("alice", kNow + 1 + 600), Result<bool>(false));
  EXPECT_TRUE(throttle.Check("alice", Source(1), kNow + 1 + 600).ok());
}

// N threads recording failures at once lose none (each update is one
// transaction).
TEST_F(LoginThrottleTest, ConcurrentFailuresAreAllCounted) {
  LoginThrottle throttle({1000, std::chrono::seconds(600)}, *store_);
  constexpr int kThreads = 8;
  constexpr int kEach = 10;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        EXPECT_TRUE(throttle.RecordFailure("alice", Source(t), kNow).has_value());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(*throttle.RecentFailures("alice", kEverySource, kNow), kThreads * kEach);
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(*throttle.RecentFailures("alice", Source(t), kNow), kEach);
  }
}

class AuthenticatorThrottleTest : public LoginThrottleTest {
 protected:
  void SetUp() override {
    LoginThrottleTest::SetUp();
    audit_ = std::make_unique<AuditLog>(*store_);
  }

  // A user who has signed up with kPassword; returns the TOTP secret.
  SecretString SignedUpUser(const std::string& name) {
    UserRecord user;
    user.name = name;
    user.logins = {name};
    user.created_at = kNow;
    EXPECT_TRUE(store_->CreateUser(user).ok());
    SignupService signup({"test", SecondFactor::kOtp, 12}, *store_, *audit_);
    auto token = signup.CreateToken(name, std::chrono::hours(1), kNow);
    EXPECT_TRUE(signup.Start(*token, kNow).has_value());
    SecretString secret = store_->GetSignupToken(HashToken(*token))->totp_secret;
    auto code = TotpCode(secret, kNow);
    EXPECT_TRUE(
        signup.Finish(*token, SecretString(kPassword), SecretString(*code), "t", kNow).has_value());
    return secret;
  }

  std::unique_ptr<AuditLog> audit_;
};

// Known and unknown names get the same answers, failure after failure,
// including once the source is blocked.
TEST_F(AuthenticatorThrottleTest, UnknownAndKnownUsersAreAnsweredAlike) {
  SignedUpUser("alice");
  Authenticator auth({SecondFactor::kOtp, 3, std::chrono::minutes(5)}, *store_, *audit_);
  for (int i = 0; i < 5; ++i) {
    auto known = auth.Authenticate("alice", SecretString("nope nope nope"), SecretString("1"),
                                   Source(1), kNow + 30);
    auto unknown = auth.Authenticate("nobody", SecretString("nope nope nope"), SecretString("1"),
                                     Source(1), kNow + 30);
    ASSERT_FALSE(known.has_value());
    ASSERT_FALSE(unknown.has_value());
    EXPECT_EQ(known.error(), unknown.error()) << i;
    EXPECT_EQ(known.error().code(), i < 3 ? Code::kUnauthenticated : Code::kResourceExhausted) << i;
  }
}

// Regression: a guesser spread over addresses kept any known user locked
// out; now the right password and code from a clean address get in.
TEST_F(AuthenticatorThrottleTest, RightCredentialsFromACleanSourceGetInDuringASpreadAttack) {
  SecretString secret = SignedUpUser("alice");
  Authenticator auth({SecondFactor::kOtp, 3, std::chrono::minutes(5)}, *store_, *audit_);
  for (int i = 1; i <= 6; ++i) {
    EXPECT_FALSE(auth.Authenticate("alice", SecretString("nope nope nope"), SecretString("1"),
                                   Source(i), kNow + 30)
                     .has_value());
  }
  EXPECT_EQ(auth.Throttled("alice", kNow + 30), Result<bool>(true));
  EXPECT_EQ(auth.Authenticate("alice", SecretString(kPassword),
                              SecretString(*TotpCode(secret, kNow + 30)), Source(1), kNow + 30)
                .error()
                .code(),
            Code::kResourceExhausted);
  auto in = auth.Authenticate("alice", SecretString(kPassword),
                              SecretString(*TotpCode(secret, kNow + 30)), Source(99), kNow + 30);
  EXPECT_TRUE(in.has_value()) << in.error().ToString();
}

// Regression: one node's wrong central OTP codes locked the user out of
// every login; now they block that node only.
TEST_F(AuthenticatorThrottleTest, OneNodesFailuresDoNotLockTheUserOut) {
  SecretString secret = SignedUpUser("alice");
  Authenticator auth({SecondFactor::kOtp, 3, std::chrono::minutes(5)}, *store_, *audit_);
  constexpr char kNode[] = "4a6f0c1e-9b2d-4c3e-8f10-0123456789ab";
  for (int i = 0; i < 6; ++i) {
    EXPECT_FALSE(auth.VerifySecondFactor("alice", SecretString("000000"), kNode, kNow).ok());
  }
  EXPECT_EQ(
      auth.VerifySecondFactor("alice", SecretString(*TotpCode(secret, kNow)), kNode, kNow).code(),
      Code::kResourceExhausted);
  auto in = auth.Authenticate("alice", SecretString(kPassword),
                              SecretString(*TotpCode(secret, kNow + 30)), Source(1), kNow + 30);
  EXPECT_TRUE(in.has_value()) << in.error().ToString();
}

}  // namespace
}  // namespace gate::ca
