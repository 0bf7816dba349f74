// Store conformance: users, credentials, login bookkeeping, signup tokens, certificates and audit.
// Part of the typed suite in store_conformance.h; every backend must pass it.
#ifndef GATE_TESTS_UNIT_CA_SERVER_STORE_CONFORMANCE_USERS_H_
#define GATE_TESTS_UNIT_CA_SERVER_STORE_CONFORMANCE_USERS_H_

#include "ca-server/store_conformance.h"

namespace gate::ca::store_conformance {

// --- Users --------------------------------------------------------------------

TYPED_TEST_P(StoreConformanceTest, CreateAndGetUserRoundTrips) {
  UserRecord user = TestFixture::MakeUser("alice");
  user.password_hash = "$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA";
  user.totp_secret = SecretString(std::string_view("\x00\x01\xff secret", 10));
  user.last_totp_step = 7;
  ASSERT_TRUE(this->store_->CreateUser(user).ok());

  Result<UserRecord> got = this->store_->GetUser("alice");
  ASSERT_TRUE(got.has_value()) << got.error().ToString();
  EXPECT_EQ(got->name, "alice");
  EXPECT_EQ(got->logins, (std::vector<std::string>{"ubuntu", "root", "deploy"}));
  EXPECT_EQ(got->roles, (std::vector<std::string>{"ops", "admin"}));
  EXPECT_EQ(got->created_at, 1700000000);
  EXPECT_EQ(got->password_hash, user.password_hash);
  EXPECT_EQ(got->totp_secret, user.totp_secret);
  EXPECT_EQ(got->last_totp_step, 7);
  EXPECT_TRUE(got->signed_up());
}

TYPED_TEST_P(StoreConformanceTest, NewUserHasNoCredentials) {
  this->CreateUser("bob");
  Result<UserRecord> got = this->store_->GetUser("bob");
  ASSERT_TRUE(got.has_value());
  EXPECT_FALSE(got->signed_up());
  EXPECT_TRUE(got->totp_secret.empty());
  EXPECT_EQ(got->last_totp_step, -1);
}

TYPED_TEST_P(StoreConformanceTest, CreateUserTwiceIsAlreadyExists) {
  this->CreateUser("alice");
  UserRecord again = TestFixture::MakeUser("alice");
  again.logins = {"other"};
  Status status = this->store_->CreateUser(again);
  EXPECT_EQ(status.code(), Code::kAlreadyExists) << status.ToString();
  // The failed insert left the original untouched.
  Result<UserRecord> got = this->store_->GetUser("alice");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->logins.size(), 3u);
}

TYPED_TEST_P(StoreConformanceTest, CreateUserRejectsEmptyName) {
  EXPECT_EQ(this->store_->CreateUser(TestFixture::MakeUser("")).code(), Code::kInvalidArgument);
}

TYPED_TEST_P(StoreConformanceTest, GetMissingUserIsNotFound) {
  Result<UserRecord> got = this->store_->GetUser("nobody");
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code(), Code::kNotFound);
}

TYPED_TEST_P(StoreConformanceTest, ListUsersIsSortedByNameWithLists) {
  this->CreateUser("carol");
  UserRecord alice = TestFixture::MakeUser("alice");
  alice.logins = {"a1"};
  alice.roles = {};
  ASSERT_TRUE(this->store_->CreateUser(alice).ok());
  this->CreateUser("bob");

  Result<std::vector<UserRecord>> users = this->store_->ListUsers();
  ASSERT_TRUE(users.has_value()) << users.error().ToString();
  ASSERT_EQ(users->size(), 3u);
  EXPECT_EQ((*users)[0].name, "alice");
  EXPECT_EQ((*users)[1].name, "bob");
  EXPECT_EQ((*users)[2].name, "carol");
  EXPECT_EQ((*users)[0].logins, std::vector<std::string>{"a1"});
  EXPECT_TRUE((*users)[0].roles.empty());
  EXPECT_EQ((*users)[2].roles, (std::vector<std::string>{"ops", "admin"}));
}

TYPED_TEST_P(StoreConformanceTest, ListUsersOnEmptyStore) {
  Result<std::vector<UserRecord>> users = this->store_->ListUsers();
  ASSERT_TRUE(users.has_value());
  EXPECT_TRUE(users->empty());
}

TYPED_TEST_P(StoreConformanceTest, DeleteUserRemovesUserAndTokens) {
  this->CreateUser("alice");
  this->CreateToken("hash-a", "alice", 5000);
  ASSERT_TRUE(this->store_->DeleteUser("alice").ok());
  EXPECT_EQ(this->store_->GetUser("alice").error().code(), Code::kNotFound);
  EXPECT_EQ(this->store_->GetSignupToken("hash-a").error().code(), Code::kNotFound);
  EXPECT_EQ(this->store_->DeleteUser("alice").code(), Code::kNotFound);
  // The name can be reused, with fresh lists.
  this->CreateUser("alice");
  EXPECT_EQ(this->store_->GetUser("alice")->logins.size(), 3u);
}

TYPED_TEST_P(StoreConformanceTest, UpsertSsoUserCreatesUpdatesAndNeverTakesOver) {
  UserRecord sso;
  sso.name = "carol";
  sso.created_at = 1700000000;
  sso.connector = "corp";
  sso.idp_subject = "sub-1";
  sso.roles = {"access"};
  sso.logins = {"carol"};
  Result<UserRecord> made = this->store_->UpsertSsoUser(sso);
  ASSERT_TRUE(made.has_value()) << made.error().ToString();
  EXPECT_TRUE(made->sso());
  EXPECT_TRUE(made->signed_up());
  EXPECT_TRUE(made->password_hash.empty());
  Result<UserRecord> got = this->store_->GetUser("carol");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->connector, "corp");
  EXPECT_EQ(got->idp_subject, "sub-1");
  EXPECT_EQ(got->roles, std::vector<std::string>{"access"});

  // The next login replaces what the provider maps now.
  sso.roles = {"editor", "access"};
  sso.logins = {};
  ASSERT_TRUE(this->store_->UpsertSsoUser(sso).has_value());
  got = this->store_->GetUser("carol");
  EXPECT_EQ(got->roles, (std::vector<std::string>{"editor", "access"}));
  EXPECT_TRUE(got->logins.empty());
  EXPECT_EQ(got->created_at, 1700000000);

  // Another subject or connector claiming the name changes nothing.
  UserRecord other = sso;
  other.idp_subject = "sub-2";
  other.roles = {"admin"};
  EXPECT_EQ(this->store_->UpsertSsoUser(other).error().code(), Code::kAlreadyExists);
  other = sso;
  other.connector = "partner";
  EXPECT_EQ(this->store_->UpsertSsoUser(other).error().code(), Code::kAlreadyExists);
  EXPECT_EQ(this->store_->GetUser("carol")->roles, (std::vector<std::string>{"editor", "access"}));

  // A local user's name is never taken over, signed up or not.
  this->CreateUser("alice");
  UserRecord takeover = sso;
  takeover.name = "alice";
  takeover.roles = {"admin"};
  Result<UserRecord> refused = this->store_->UpsertSsoUser(takeover);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), Code::kAlreadyExists);
  EXPECT_FALSE(this->store_->GetUser("alice")->sso());
  EXPECT_EQ(this->store_->GetUser("alice")->roles, (std::vector<std::string>{"ops", "admin"}));

  UserRecord empty = sso;
  empty.idp_subject.clear();
  EXPECT_EQ(this->store_->UpsertSsoUser(empty).error().code(), Code::kInvalidArgument);
}

TYPED_TEST_P(StoreConformanceTest, ResetUserCredentials) {
  UserRecord user = TestFixture::MakeUser("alice");
  user.password_hash = "$argon2id$x";
  user.totp_secret = SecretString("secret");
  user.last_totp_step = 1234;
  ASSERT_TRUE(this->store_->CreateUser(user).ok());
  this->CreateToken("hash-a", "alice", 5000);
  ASSERT_TRUE(this->store_->PutLoginFailures({"alice", "10.0.0.1", 3, 90, 99}).ok());
  ASSERT_TRUE(this->store_->PutLoginFailures({"alice", kEverySource, 3, 90, 0}).ok());

  ASSERT_TRUE(this->store_->ResetUserCredentials("alice").ok());
  Result<UserRecord> got = this->store_->GetUser("alice");
  ASSERT_TRUE(got.has_value());
  EXPECT_FALSE(got->signed_up());
  EXPECT_TRUE(got->totp_secret.empty());
  EXPECT_EQ(this->store_->GetLoginFailures("alice", "10.0.0.1")->count, 0);
  EXPECT_EQ(this->store_->GetLoginFailures("alice", "10.0.0.1")->blocked_until, 0);
  EXPECT_EQ(this->store_->GetLoginFailures("alice", kEverySource)->count, 0);
  EXPECT_EQ(got->last_totp_step, -1);
  EXPECT_EQ(got->logins.size(), 3u);  // identity is kept, only credentials go
  EXPECT_EQ(this->store_->GetSignupToken("hash-a").error().code(), Code::kNotFound);

  EXPECT_EQ(this->store_->ResetUserCredentials("nobody").code(), Code::kNotFound);
}

// A reset forgets unused links and browser sessions; a used link stays
// used, so it still answers "already used".
TYPED_TEST_P(StoreConformanceTest, ResetKeepsUsedTokensAndEndsWebSessions) {
  this->CreateUser("alice");
  this->CreateToken("hash-a", "alice", 5000);
  ASSERT_TRUE(
      this->store_
          ->CompleteSignup("hash-a", AcceptAnySignupToken, "$argon2id$x", SecretString(), -1, 10)
          .ok());
  this->CreateToken("hash-b", "alice", 5000);
  ASSERT_NO_FATAL_FAILURE(this->CreateWebSession("sess-a", "alice", 10));
  ASSERT_TRUE(this->store_->ResetUserCredentials("alice").ok());
  EXPECT_EQ(this->store_->GetSignupToken("hash-a")->used_at, 10);
  EXPECT_EQ(this->store_->GetSignupToken("hash-b").error().code(), Code::kNotFound);
  EXPECT_EQ(this->store_->GetWebSession("sess-a").error().code(), Code::kNotFound);
}

// --- Login bookkeeping -----------------------------------------------------------
// The counters are plain records; the rules that use them are LoginThrottle's
// (login_throttle_test.cc).
TYPED_TEST_P(StoreConformanceTest, LoginFailuresRoundTripPerUserAndSource) {
  Result<LoginFailures> none = this->store_->GetLoginFailures("alice", "10.0.0.1");
  ASSERT_TRUE(none.has_value()) << none.error().ToString();
  EXPECT_EQ(none->user, "alice");
  EXPECT_EQ(none->source, "10.0.0.1");
  EXPECT_EQ(none->count, 0);
  EXPECT_EQ(none->blocked_until, 0);

  // The name need not exist: unknown names are counted like known ones.
  ASSERT_TRUE(this->store_->PutLoginFailures({"alice", "10.0.0.1", 2, 100, 0}).ok());
  ASSERT_TRUE(this->store_->PutLoginFailures({"alice", kEverySource, 4, 90, 0}).ok());
  ASSERT_TRUE(this->store_->PutLoginFailures({"bob", "10.0.0.1", 1, 95, 700}).ok());
  Result<LoginFailures> got = this->store_->GetLoginFailures("alice", "10.0.0.1");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->count, 2);
  EXPECT_EQ(got->window_start, 100);
  EXPECT_EQ(this->store_->GetLoginFailures("alice", kEverySource)->count, 4);
  EXPECT_EQ(this->store_->GetLoginFailures("bob", "10.0.0.1")->blocked_until, 700);

  // Put replaces.
  ASSERT_TRUE(this->store_->PutLoginFailures({"alice", "10.0.0.1", 0, 100, 400}).ok());
  EXPECT_EQ(this->store_->GetLoginFailures("alice", "10.0.0.1")->count, 0);
  EXPECT_EQ(this->store_->GetLoginFailures("alice", "10.0.0.1")->blocked_until, 400);
  EXPECT_EQ(this->store_->PutLoginFailures({"alice", "x", -1, 0, 0}).code(),
            Code::kInvalidArgument);

  // Clear takes one pair only, and is fine when there is nothing.
  ASSERT_TRUE(this->store_->ClearLoginFailures("alice", "10.0.0.1").ok());
  ASSERT_TRUE(this->store_->ClearLoginFailures("alice", "10.0.0.1").ok());
  EXPECT_EQ(this->store_->GetLoginFailures("alice", "10.0.0.1")->count, 0);
  EXPECT_EQ(this->store_->GetLoginFailures("alice", kEverySource)->count, 4);

  // Prune drops finished windows that block nothing.
  ASSERT_TRUE(this->store_->PruneLoginFailures(96, 699).ok());
  EXPECT_EQ(this->store_->GetLoginFailures("alice", kEverySource)->count, 0);  // window 90 < 96
  EXPECT_EQ(this->store_->GetLoginFailures("bob", "10.0.0.1")->count, 1);      // window 95, blocked
  ASSERT_TRUE(this->store_->PruneLoginFailures(96, 700).ok());
  EXPECT_EQ(this->store_->GetLoginFailures("bob", "10.0.0.1")->count, 0);
}

TYPED_TEST_P(StoreConformanceTest, ConsumeTotpStepIsMonotonic) {
  this->CreateOtpUser("alice");
  EXPECT_EQ(this->store_->ConsumeTotpStep("alice", 100), Result<bool>(true));
  EXPECT_EQ(this->store_->ConsumeTotpStep("alice", 100), Result<bool>(false));  // replay
  EXPECT_EQ(this->store_->ConsumeTotpStep("alice", 99), Result<bool>(false));   // older
  EXPECT_EQ(this->store_->ConsumeTotpStep("alice", 101), Result<bool>(true));
  EXPECT_EQ(this->store_->GetUser("alice")->last_totp_step, 101);
  EXPECT_EQ(this->store_->ConsumeTotpStep("nobody", 5).error().code(), Code::kNotFound);
}

TYPED_TEST_P(StoreConformanceTest, ConsumeTotpStepAcceptsEachStepOnceAcrossThreads) {
  this->CreateOtpUser("alice");
  constexpr int kThreads = 8;
  std::vector<int> accepted(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (std::int64_t step = 0; step < 50; ++step) {
        Result<bool> ok = this->store_->ConsumeTotpStep("alice", step);
        if (ok.has_value() && *ok) ++accepted[static_cast<std::size_t>(t)];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  int total = 0;
  for (int n : accepted) total += n;
  EXPECT_LE(total, 50);
  EXPECT_GE(total, 1);
  EXPECT_EQ(this->store_->GetUser("alice")->last_totp_step, 49);
}

// --- Signup tokens -----------------------------------------------------------------

TYPED_TEST_P(StoreConformanceTest, SignupTokenCrud) {
  this->CreateUser("alice");
  this->CreateToken("hash-a", "alice", 5000);
  Result<SignupToken> token = this->store_->GetSignupToken("hash-a");
  ASSERT_TRUE(token.has_value());
  EXPECT_EQ(token->user, "alice");
  EXPECT_EQ(token->created_at, 1000);
  EXPECT_EQ(token->expires_at, 5000);
  EXPECT_TRUE(token->totp_secret.empty());

  SignupToken dup;
  dup.token_hash = "hash-a";
  dup.user = "alice";
  EXPECT_EQ(this->store_->CreateSignupToken(dup).code(), Code::kAlreadyExists);
  EXPECT_EQ(this->store_->GetSignupToken("hash-b").error().code(), Code::kNotFound);
}

TYPED_TEST_P(StoreConformanceTest, SignupTokenForMissingUserIsNotFound) {
  SignupToken token;
  token.token_hash = "hash-x";
  token.user = "nobody";
  token.expires_at = 5000;
  EXPECT_EQ(this->store_->CreateSignupToken(token).code(), Code::kNotFound);
}

TYPED_TEST_P(StoreConformanceTest, OfferTotpSecretKeepsTheFirstOffer) {
  this->CreateUser("alice");
  this->CreateToken("hash-a", "alice", 5000);
  Result<SignupToken> first = this->store_->OfferTotpSecret("hash-a", SecretString("first-secret"));
  ASSERT_TRUE(first.has_value()) << first.error().ToString();
  EXPECT_EQ(first->totp_secret.view(), "first-secret");
  Result<SignupToken> second =
      this->store_->OfferTotpSecret("hash-a", SecretString("other-secret"));
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->totp_secret.view(), "first-secret");
  EXPECT_EQ(this->store_->OfferTotpSecret("hash-b", SecretString("x")).error().code(),
            Code::kNotFound);
}

TYPED_TEST_P(StoreConformanceTest, CompleteSignupSetsCredentialsAndConsumesToken) {
  this->CreateUser("alice");
  this->CreateToken("hash-a", "alice", 5000);
  this->CreateToken("hash-old", "alice", 6000);
  ASSERT_TRUE(this->store_->PutLoginFailures({"alice", "10.0.0.1", 1, 1, 0}).ok());

  Status status = this->store_->CompleteSignup("hash-a", AcceptAnySignupToken, "$argon2id$hash",
                                               SecretString("totp-key"), 133, 1500);
  ASSERT_TRUE(status.ok()) << status.ToString();
  Result<UserRecord> user = this->store_->GetUser("alice");
  ASSERT_TRUE(user.has_value());
  EXPECT_TRUE(user->signed_up());
  EXPECT_EQ(user->password_hash, "$argon2id$hash");
  EXPECT_EQ(user->totp_secret.view(), "totp-key");
  EXPECT_EQ(user->last_totp_step, 133);
  EXPECT_EQ(this->store_->GetLoginFailures("alice", "10.0.0.1")->count, 0);

  // The used token stays, marked used and without its secret, so its link
  // can be told apart from one that never existed.
  Result<SignupToken> used = this->store_->GetSignupToken("hash-a");
  ASSERT_TRUE(used.has_value()) << used.error().ToString();
  EXPECT_EQ(used->used_at, 1500);
  EXPECT_TRUE(used->totp_secret.empty());
  // Other outstanding links of the same user die with it.
  EXPECT_EQ(this->store_->GetSignupToken("hash-old").error().code(), Code::kNotFound);
  // A second use of the token is refused, and no TOTP secret is offered for it.
  EXPECT_EQ(this->store_
                ->CompleteSignup("hash-a", AcceptAnySignupToken, "$argon2id$other", SecretString(),
                                 -1, 1600)
                .code(),
            Code::kNotFound);
  Result<SignupToken> offered = this->store_->OfferTotpSecret("hash-a", SecretString("again"));
  ASSERT_TRUE(offered.has_value());
  EXPECT_TRUE(offered->totp_secret.empty());
  EXPECT_EQ(this->store_->GetSignupToken("hash-a")->used_at, 1500);
  EXPECT_EQ(this->store_->GetUser("alice")->password_hash, "$argon2id$hash");
}

TYPED_TEST_P(StoreConformanceTest, CompleteSignupWithoutOtp) {
  this->CreateUser("alice");
  this->CreateToken("hash-a", "alice", 5000);
  ASSERT_TRUE(
      this->store_
          ->CompleteSignup("hash-a", AcceptAnySignupToken, "$argon2id$hash", SecretString(), -1, 1)
          .ok());
  Result<UserRecord> user = this->store_->GetUser("alice");
  EXPECT_TRUE(user->totp_secret.empty());
  EXPECT_EQ(user->last_totp_step, -1);
}

// The check sees the stored row and its refusal (SignupService's expiry
// rule, say) is returned with nothing written.
TYPED_TEST_P(StoreConformanceTest, CompleteSignupRefusedByTheCheckChangesNothing) {
  this->CreateUser("alice");
  this->CreateToken("hash-a", "alice", 5000);
  std::int64_t seen_expiry = 0;
  Status status = this->store_->CompleteSignup(
      "hash-a",
      [&](const SignupToken& token) {
        seen_expiry = token.expires_at;
        return FailedPrecondition("signup token expired");
      },
      "$argon2id$hash", SecretString("totp-key"), 1, 1);
  EXPECT_EQ(seen_expiry, 5000);
  EXPECT_EQ(status.code(), Code::kFailedPrecondition);
  EXPECT_EQ(status.message(), "signup token expired");
  Result<UserRecord> user = this->store_->GetUser("alice");
  EXPECT_FALSE(user->signed_up());
  EXPECT_TRUE(user->totp_secret.empty());
  EXPECT_EQ(user->last_totp_step, -1);
  EXPECT_TRUE(this->store_->GetSignupToken("hash-a").has_value());
}

TYPED_TEST_P(StoreConformanceTest, CompleteSignupRejectsEmptyPasswordHash) {
  this->CreateUser("alice");
  this->CreateToken("hash-a", "alice", 5000);
  EXPECT_EQ(this->store_->CompleteSignup("hash-a", AcceptAnySignupToken, "", SecretString(), -1, 1)
                .code(),
            Code::kInvalidArgument);
  EXPECT_TRUE(this->store_->GetSignupToken("hash-a").has_value());
}

TYPED_TEST_P(StoreConformanceTest, DeleteExpiredSignupTokens) {
  this->CreateUser("alice");
  this->CreateToken("hash-old", "alice", 100);
  this->CreateToken("hash-edge", "alice", 200);
  this->CreateToken("hash-new", "alice", 300);
  ASSERT_TRUE(this->store_->DeleteExpiredSignupTokens(200).ok());
  EXPECT_FALSE(this->store_->GetSignupToken("hash-old").has_value());
  EXPECT_FALSE(this->store_->GetSignupToken("hash-edge").has_value());
  EXPECT_TRUE(this->store_->GetSignupToken("hash-new").has_value());
}

// --- Certificates --------------------------------------------------------------------

TYPED_TEST_P(StoreConformanceTest, CertificateSerialReuseIsRejected) {
  ASSERT_TRUE(this->store_->RecordCertificate(Cert(7, "alice", 100)).ok());
  EXPECT_EQ(this->store_->RecordCertificate(Cert(7, "bob", 200)).code(), Code::kAlreadyExists);
}

TYPED_TEST_P(StoreConformanceTest, SerialReuseIsRejectedEvenAfterUserDeletion) {
  this->CreateUser("alice");
  ASSERT_TRUE(this->store_->RecordCertificate(Cert(9, "alice", 100)).ok());
  ASSERT_TRUE(this->store_->DeleteUser("alice").ok());
  EXPECT_EQ(this->store_->RecordCertificate(Cert(9, "alice", 200)).code(), Code::kAlreadyExists);
}

TYPED_TEST_P(StoreConformanceTest, LargeSerialsRoundTrip) {
  const std::uint64_t kSerials[] = {0,
                                    1,
                                    (std::uint64_t{1} << 63) - 1,
                                    std::uint64_t{1} << 63,
                                    (std::uint64_t{1} << 63) + 12345,
                                    ~std::uint64_t{0}};
  std::int64_t t = 1;
  for (std::uint64_t serial : kSerials) {
    ASSERT_TRUE(this->store_->RecordCertificate(Cert(serial, "alice", t++)).ok()) << serial;
  }
  EXPECT_EQ(this->store_->RecordCertificate(Cert(~std::uint64_t{0}, "alice", 99)).code(),
            Code::kAlreadyExists);
  Result<std::vector<IssuedCertificate>> certs = this->store_->ListCertificates("alice");
  ASSERT_TRUE(certs.has_value());
  ASSERT_EQ(certs->size(), std::size(kSerials));
  for (std::size_t i = 0; i < std::size(kSerials); ++i) {
    EXPECT_EQ((*certs)[i].serial, kSerials[i]);
  }
}

TYPED_TEST_P(StoreConformanceTest, ListCertificatesFiltersByUser) {
  ASSERT_TRUE(this->store_->RecordCertificate(Cert(1, "alice", 300)).ok());
  ASSERT_TRUE(this->store_->RecordCertificate(Cert(2, "bob", 200)).ok());
  ASSERT_TRUE(this->store_->RecordCertificate(Cert(3, "alice", 100)).ok());
  Result<std::vector<IssuedCertificate>> certs = this->store_->ListCertificates("alice");
  ASSERT_TRUE(certs.has_value());
  ASSERT_EQ(certs->size(), 2u);
  EXPECT_EQ((*certs)[0].serial, 3u);  // oldest first
  EXPECT_EQ((*certs)[1].serial, 1u);
  EXPECT_EQ((*certs)[1].key_id, "alice-key");
  EXPECT_EQ((*certs)[1].valid_after, 240);
  EXPECT_EQ((*certs)[1].valid_before, 3900);
  EXPECT_TRUE(this->store_->ListCertificates("carol")->empty());
}

// --- Audit ------------------------------------------------------------------------------

TYPED_TEST_P(StoreConformanceTest, AuditIsNewestFirst) {
  for (int i = 0; i < 5; ++i) {
    AuditEvent event;
    // Times deliberately out of order: append order is what counts.
    event.time = 1000 - i * 10 + (i == 3 ? 100 : 0);
    event.event = "user.login";
    event.user = "user" + std::to_string(i);
    event.source = "192.0.2.1";
    event.success = (i % 2) == 0;
    event.detail = "attempt " + std::to_string(i);
    ASSERT_TRUE(this->store_->AppendAudit(event).ok());
  }
  Result<std::vector<AuditEvent>> events = this->store_->ListAudit(3);
  ASSERT_TRUE(events.has_value()) << events.error().ToString();
  ASSERT_EQ(events->size(), 3u);
  EXPECT_EQ((*events)[0].user, "user4");
  EXPECT_EQ((*events)[1].user, "user3");
  EXPECT_EQ((*events)[2].user, "user2");
  EXPECT_TRUE((*events)[0].success);
  EXPECT_FALSE((*events)[1].success);
  EXPECT_EQ((*events)[1].time, 1070);
  EXPECT_EQ((*events)[2].detail, "attempt 2");
  EXPECT_EQ((*events)[2].source, "192.0.2.1");
  EXPECT_EQ((*events)[2].event, "user.login");

  EXPECT_EQ(this->store_->ListAudit(100)->size(), 5u);
  EXPECT_TRUE(this->store_->ListAudit(0)->empty());
}

TYPED_TEST_P(StoreConformanceTest, PersistsAcrossReopen) {
  this->CreateOtpUser("alice");
  ASSERT_TRUE(this->store_->RecordCertificate(Cert(std::uint64_t{1} << 63, "alice", 5)).ok());
  ASSERT_TRUE(this->store_->ConsumeTotpStep("alice", 77).value_or(false));
  this->Reopen();
  Result<UserRecord> user = this->store_->GetUser("alice");
  ASSERT_TRUE(user.has_value());
  EXPECT_EQ(user->logins.size(), 3u);
  EXPECT_EQ(user->last_totp_step, 77);
  EXPECT_EQ(this->store_->RecordCertificate(Cert(std::uint64_t{1} << 63, "alice", 6)).code(),
            Code::kAlreadyExists);
}

}  // namespace gate::ca::store_conformance

#endif  // GATE_TESTS_UNIT_CA_SERVER_STORE_CONFORMANCE_USERS_H_
