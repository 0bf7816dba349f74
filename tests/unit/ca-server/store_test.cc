#include "ca-server/store/store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "ca-server/store_test_util.h"

namespace gate::ca {
namespace {

namespace fs = std::filesystem;

class StoreTest : public SqliteStoreTest {
 protected:
  static UserRecord MakeUser(const std::string& name) {
    UserRecord user;
    user.name = name;
    user.logins = {"ubuntu", "root", "deploy"};
    user.roles = {"ops", "admin"};
    user.created_at = 1700000000;
    return user;
  }

  void CreateUser(const std::string& name) { ASSERT_TRUE(store_->CreateUser(MakeUser(name)).ok()); }

  void CreateToken(const std::string& hash, const std::string& user, std::int64_t expires_at) {
    SignupToken token;
    token.token_hash = hash;
    token.user = user;
    token.created_at = 1000;
    token.expires_at = expires_at;
    Status status = store_->CreateSignupToken(token);
    ASSERT_TRUE(status.ok()) << status.ToString();
  }
};

// --- Users --------------------------------------------------------------------

TEST_F(StoreTest, CreateAndGetUserRoundTrips) {
  UserRecord user = MakeUser("alice");
  user.password_hash = "$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA";
  user.totp_secret = SecretString(std::string_view("\x00\x01\xff secret", 10));
  user.last_totp_step = 7;
  ASSERT_TRUE(store_->CreateUser(user).ok());

  Result<UserRecord> got = store_->GetUser("alice");
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

TEST_F(StoreTest, NewUserHasNoCredentials) {
  CreateUser("bob");
  Result<UserRecord> got = store_->GetUser("bob");
  ASSERT_TRUE(got.has_value());
  EXPECT_FALSE(got->signed_up());
  EXPECT_TRUE(got->totp_secret.empty());
  EXPECT_EQ(got->last_totp_step, -1);
}

TEST_F(StoreTest, CreateUserTwiceIsAlreadyExists) {
  CreateUser("alice");
  UserRecord again = MakeUser("alice");
  again.logins = {"other"};
  Status status = store_->CreateUser(again);
  EXPECT_EQ(status.code(), Code::kAlreadyExists) << status.ToString();
  // The failed insert left the original untouched.
  Result<UserRecord> got = store_->GetUser("alice");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->logins.size(), 3u);
}

TEST_F(StoreTest, CreateUserRejectsEmptyName) {
  EXPECT_EQ(store_->CreateUser(MakeUser("")).code(), Code::kInvalidArgument);
}

TEST_F(StoreTest, GetMissingUserIsNotFound) {
  Result<UserRecord> got = store_->GetUser("nobody");
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code(), Code::kNotFound);
}

TEST_F(StoreTest, ListUsersIsSortedByNameWithLists) {
  CreateUser("carol");
  UserRecord alice = MakeUser("alice");
  alice.logins = {"a1"};
  alice.roles = {};
  ASSERT_TRUE(store_->CreateUser(alice).ok());
  CreateUser("bob");

  Result<std::vector<UserRecord>> users = store_->ListUsers();
  ASSERT_TRUE(users.has_value()) << users.error().ToString();
  ASSERT_EQ(users->size(), 3u);
  EXPECT_EQ((*users)[0].name, "alice");
  EXPECT_EQ((*users)[1].name, "bob");
  EXPECT_EQ((*users)[2].name, "carol");
  EXPECT_EQ((*users)[0].logins, std::vector<std::string>{"a1"});
  EXPECT_TRUE((*users)[0].roles.empty());
  EXPECT_EQ((*users)[2].roles, (std::vector<std::string>{"ops", "admin"}));
}

TEST_F(StoreTest, ListUsersOnEmptyStore) {
  Result<std::vector<UserRecord>> users = store_->ListUsers();
  ASSERT_TRUE(users.has_value());
  EXPECT_TRUE(users->empty());
}

TEST_F(StoreTest, DeleteUserRemovesUserAndTokens) {
  CreateUser("alice");
  CreateToken("hash-a", "alice", 5000);
  ASSERT_TRUE(store_->DeleteUser("alice").ok());
  EXPECT_EQ(store_->GetUser("alice").error().code(), Code::kNotFound);
  EXPECT_EQ(store_->GetSignupToken("hash-a").error().code(), Code::kNotFound);
  EXPECT_EQ(store_->DeleteUser("alice").code(), Code::kNotFound);
  // The name can be reused, with fresh lists.
  CreateUser("alice");
  EXPECT_EQ(store_->GetUser("alice")->logins.size(), 3u);
}

TEST_F(StoreTest, ResetUserCredentials) {
  UserRecord user = MakeUser("alice");
  user.password_hash = "$argon2id$x";
  user.totp_secret = SecretString("secret");
  user.last_totp_step = 1234;
  ASSERT_TRUE(store_->CreateUser(user).ok());
  CreateToken("hash-a", "alice", 5000);
  ASSERT_TRUE(store_->PutLoginFailures({"alice", "10.0.0.1", 3, 90, 99}).ok());
  ASSERT_TRUE(store_->PutLoginFailures({"alice", kEverySource, 3, 90, 0}).ok());

  ASSERT_TRUE(store_->ResetUserCredentials("alice").ok());
  Result<UserRecord> got = store_->GetUser("alice");
  ASSERT_TRUE(got.has_value());
  EXPECT_FALSE(got->signed_up());
  EXPECT_TRUE(got->totp_secret.empty());
  EXPECT_EQ(store_->GetLoginFailures("alice", "10.0.0.1")->count, 0);
  EXPECT_EQ(store_->GetLoginFailures("alice", "10.0.0.1")->blocked_until, 0);
  EXPECT_EQ(store_->GetLoginFailures("alice", kEverySource)->count, 0);
  EXPECT_EQ(got->last_totp_step, -1);
  EXPECT_EQ(got->logins.size(), 3u);  // identity is kept, only credentials go
  EXPECT_EQ(store_->GetSignupToken("hash-a").error().code(), Code::kNotFound);

  EXPECT_EQ(store_->ResetUserCredentials("nobody").code(), Code::kNotFound);
}

// --- Login bookkeeping -----------------------------------------------------------

// The counters are plain records; the rules that use them are LoginThrottle's
// (login_throttle_test.cc).
TEST_F(StoreTest, LoginFailuresRoundTripPerUserAndSource) {
  Result<LoginFailures> none = store_->GetLoginFailures("alice", "10.0.0.1");
  ASSERT_TRUE(none.has_value()) << none.error().ToString();
  EXPECT_EQ(none->user, "alice");
  EXPECT_EQ(none->source, "10.0.0.1");
  EXPECT_EQ(none->count, 0);
  EXPECT_EQ(none->blocked_until, 0);

  // The name need not exist: unknown names are counted like known ones.
  ASSERT_TRUE(store_->PutLoginFailures({"alice", "10.0.0.1", 2, 100, 0}).ok());
  ASSERT_TRUE(store_->PutLoginFailures({"alice", kEverySource, 4, 90, 0}).ok());
  ASSERT_TRUE(store_->PutLoginFailures({"bob", "10.0.0.1", 1, 95, 700}).ok());
  Result<LoginFailures> got = store_->GetLoginFailures("alice", "10.0.0.1");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->count, 2);
  EXPECT_EQ(got->window_start, 100);
  EXPECT_EQ(store_->GetLoginFailures("alice", kEverySource)->count, 4);
  EXPECT_EQ(store_->GetLoginFailures("bob", "10.0.0.1")->blocked_until, 700);

  // Put replaces.
  ASSERT_TRUE(store_->PutLoginFailures({"alice", "10.0.0.1", 0, 100, 400}).ok());
  EXPECT_EQ(store_->GetLoginFailures("alice", "10.0.0.1")->count, 0);
  EXPECT_EQ(store_->GetLoginFailures("alice", "10.0.0.1")->blocked_until, 400);
  EXPECT_EQ(store_->PutLoginFailures({"alice", "x", -1, 0, 0}).code(), Code::kInvalidArgument);

  // Clear takes one pair only, and is fine when there is nothing.
  ASSERT_TRUE(store_->ClearLoginFailures("alice", "10.0.0.1").ok());
  ASSERT_TRUE(store_->ClearLoginFailures("alice", "10.0.0.1").ok());
  EXPECT_EQ(store_->GetLoginFailures("alice", "10.0.0.1")->count, 0);
  EXPECT_EQ(store_->GetLoginFailures("alice", kEverySource)->count, 4);

  // Prune drops finished windows that block nothing.
  ASSERT_TRUE(store_->PruneLoginFailures(96, 699).ok());
  EXPECT_EQ(store_->GetLoginFailures("alice", kEverySource)->count, 0);  // window 90 < 96
  EXPECT_EQ(store_->GetLoginFailures("bob", "10.0.0.1")->count, 1);      // window 95, blocked
  ASSERT_TRUE(store_->PruneLoginFailures(96, 700).ok());
  EXPECT_EQ(store_->GetLoginFailures("bob", "10.0.0.1")->count, 0);
}

TEST_F(StoreTest, ConsumeTotpStepIsMonotonic) {
  CreateUser("alice");
  EXPECT_EQ(store_->ConsumeTotpStep("alice", 100), Result<bool>(true));
  EXPECT_EQ(store_->ConsumeTotpStep("alice", 100), Result<bool>(false));  // replay
  EXPECT_EQ(store_->ConsumeTotpStep("alice", 99), Result<bool>(false));   // older
  EXPECT_EQ(store_->ConsumeTotpStep("alice", 101), Result<bool>(true));
  EXPECT_EQ(store_->GetUser("alice")->last_totp_step, 101);
  EXPECT_EQ(store_->ConsumeTotpStep("nobody", 5).error().code(), Code::kNotFound);
}

TEST_F(StoreTest, ConsumeTotpStepAcceptsEachStepOnceAcrossThreads) {
  CreateUser("alice");
  constexpr int kThreads = 8;
  std::vector<int> accepted(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (std::int64_t step = 0; step < 50; ++step) {
        Result<bool> ok = store_->ConsumeTotpStep("alice", step);
        if (ok.has_value() && *ok) ++accepted[static_cast<std::size_t>(t)];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  int total = 0;
  for (int n : accepted) total += n;
  EXPECT_LE(total, 50);
  EXPECT_GE(total, 1);
  EXPECT_EQ(store_->GetUser("alice")->last_totp_step, 49);
}

// --- Signup tokens -----------------------------------------------------------------

// A read needs neither the writer nor a finished write: it completes while
// another thread holds a write transaction open, and sees only what was
// committed before it. Nothing here waits on the clock to pass; the bound
// only turns a reader that blocks (the bug) into a failure instead of a
// hang.
TEST_F(StoreTest, ReadProceedsWhileAWriteTransactionIsOpen) {
  CreateUser("alice");
  std::promise<void> writing;
  std::promise<void> read_done;
  std::shared_future<void> read_done_future = read_done.get_future().share();
  std::once_flag released;
  auto release_writer = [&] { std::call_once(released, [&] { read_done.set_value(); }); };
  std::thread writer([&] {
    Status status = store_->InTransaction([&](StoreOperations& tx) -> Status {
      GATE_RETURN_IF_ERROR(tx.CreateUser(MakeUser("bob")));
      writing.set_value();
      read_done_future.wait();
      return Status::Ok();
    });
    EXPECT_TRUE(status.ok()) << status.ToString();
  });
  writing.get_future().wait();
  auto read = std::async(std::launch::async, [&] {
    Result<std::vector<UserRecord>> users = store_->ListUsers();
    Result<UserRecord> bob = store_->GetUser("bob");
    release_writer();
    return std::make_pair(users, bob);
  });
  const bool finished = read.wait_for(std::chrono::seconds(60)) == std::future_status::ready;
  if (!finished) release_writer();  // so the test ends instead of hanging
  writer.join();
  ASSERT_TRUE(finished) << "the read waited for the open write transaction";
  auto [users, bob] = read.get();
  ASSERT_TRUE(users.has_value()) << users.error().ToString();
  ASSERT_EQ(users->size(), 1u);
  EXPECT_EQ((*users)[0].name, "alice");
  EXPECT_EQ(bob.error().code(), Code::kNotFound);
  EXPECT_TRUE(store_->GetUser("bob").has_value());  // committed now
}

TEST_F(StoreTest, SignupTokenCrud) {
  CreateUser("alice");
  CreateToken("hash-a", "alice", 5000);
  Result<SignupToken> token = store_->GetSignupToken("hash-a");
  ASSERT_TRUE(token.has_value());
  EXPECT_EQ(token->user, "alice");
  EXPECT_EQ(token->created_at, 1000);
  EXPECT_EQ(token->expires_at, 5000);
  EXPECT_TRUE(token->totp_secret.empty());

  SignupToken dup;
  dup.token_hash = "hash-a";
  dup.user = "alice";
  EXPECT_EQ(store_->CreateSignupToken(dup).code(), Code::kAlreadyExists);
  EXPECT_EQ(store_->GetSignupToken("hash-b").error().code(), Code::kNotFound);
}

TEST_F(StoreTest, SignupTokenForMissingUserIsNotFound) {
  SignupToken token;
  token.token_hash = "hash-x";
  token.user = "nobody";
  token.expires_at = 5000;
  EXPECT_EQ(store_->CreateSignupToken(token).code(), Code::kNotFound);
}

TEST_F(StoreTest, OfferTotpSecretKeepsTheFirstOffer) {
  CreateUser("alice");
  CreateToken("hash-a", "alice", 5000);
  Result<SignupToken> first = store_->OfferTotpSecret("hash-a", SecretString("first-secret"));
  ASSERT_TRUE(first.has_value()) << first.error().ToString();
  EXPECT_EQ(first->totp_secret.view(), "first-secret");
  Result<SignupToken> second = store_->OfferTotpSecret("hash-a", SecretString("other-secret"));
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->totp_secret.view(), "first-secret");
  EXPECT_EQ(store_->OfferTotpSecret("hash-b", SecretString("x")).error().code(), Code::kNotFound);
}

TEST_F(StoreTest, CompleteSignupSetsCredentialsAndConsumesToken) {
  CreateUser("alice");
  CreateToken("hash-a", "alice", 5000);
  CreateToken("hash-old", "alice", 6000);
  ASSERT_TRUE(store_->PutLoginFailures({"alice", "10.0.0.1", 1, 1, 0}).ok());

  Status status =
      store_->CompleteSignup("hash-a", 4000, "$argon2id$hash", SecretString("totp-key"), 133);
  ASSERT_TRUE(status.ok()) << status.ToString();
  Result<UserRecord> user = store_->GetUser("alice");
  ASSERT_TRUE(user.has_value());
  EXPECT_TRUE(user->signed_up());
  EXPECT_EQ(user->password_hash, "$argon2id$hash");
  EXPECT_EQ(user->totp_secret.view(), "totp-key");
  EXPECT_EQ(user->last_totp_step, 133);
  EXPECT_EQ(store_->GetLoginFailures("alice", "10.0.0.1")->count, 0);

  EXPECT_EQ(store_->GetSignupToken("hash-a").error().code(), Code::kNotFound);
  // Other outstanding links of the same user die with it.
  EXPECT_EQ(store_->GetSignupToken("hash-old").error().code(), Code::kNotFound);
  // A second use of the token finds nothing.
  EXPECT_EQ(store_->CompleteSignup("hash-a", 4000, "$argon2id$other", SecretString(), -1).code(),
            Code::kNotFound);
  EXPECT_EQ(store_->GetUser("alice")->password_hash, "$argon2id$hash");
}

TEST_F(StoreTest, CompleteSignupWithoutOtp) {
  CreateUser("alice");
  CreateToken("hash-a", "alice", 5000);
  ASSERT_TRUE(store_->CompleteSignup("hash-a", 10, "$argon2id$hash", SecretString(), -1).ok());
  Result<UserRecord> user = store_->GetUser("alice");
  EXPECT_TRUE(user->totp_secret.empty());
  EXPECT_EQ(user->last_totp_step, -1);
}

TEST_F(StoreTest, CompleteSignupWithExpiredTokenChangesNothing) {
  CreateUser("alice");
  CreateToken("hash-a", "alice", 5000);
  Status status =
      store_->CompleteSignup("hash-a", 5000, "$argon2id$hash", SecretString("totp-key"), 1);
  EXPECT_EQ(status.code(), Code::kFailedPrecondition);
  EXPECT_EQ(status.message(), "signup token expired");
  Result<UserRecord> user = store_->GetUser("alice");
  EXPECT_FALSE(user->signed_up());
  EXPECT_TRUE(user->totp_secret.empty());
  EXPECT_EQ(user->last_totp_step, -1);
  EXPECT_TRUE(store_->GetSignupToken("hash-a").has_value());
}

TEST_F(StoreTest, CompleteSignupRejectsEmptyPasswordHash) {
  CreateUser("alice");
  CreateToken("hash-a", "alice", 5000);
  EXPECT_EQ(store_->CompleteSignup("hash-a", 1, "", SecretString(), -1).code(),
            Code::kInvalidArgument);
  EXPECT_TRUE(store_->GetSignupToken("hash-a").has_value());
}

TEST_F(StoreTest, DeleteExpiredSignupTokens) {
  CreateUser("alice");
  CreateToken("hash-old", "alice", 100);
  CreateToken("hash-edge", "alice", 200);
  CreateToken("hash-new", "alice", 300);
  ASSERT_TRUE(store_->DeleteExpiredSignupTokens(200).ok());
  EXPECT_FALSE(store_->GetSignupToken("hash-old").has_value());
  EXPECT_FALSE(store_->GetSignupToken("hash-edge").has_value());
  EXPECT_TRUE(store_->GetSignupToken("hash-new").has_value());
}

// --- Certificates --------------------------------------------------------------------

IssuedCertificate Cert(std::uint64_t serial, const std::string& user, std::int64_t issued_at) {
  IssuedCertificate cert;
  cert.serial = serial;
  cert.user = user;
  cert.key_id = user + "-key";
  cert.valid_after = issued_at - 60;
  cert.valid_before = issued_at + 3600;
  cert.issued_at = issued_at;
  return cert;
}

TEST_F(StoreTest, CertificateSerialReuseIsRejected) {
  ASSERT_TRUE(store_->RecordCertificate(Cert(7, "alice", 100)).ok());
  EXPECT_EQ(store_->RecordCertificate(Cert(7, "bob", 200)).code(), Code::kAlreadyExists);
}

TEST_F(StoreTest, SerialReuseIsRejectedEvenAfterUserDeletion) {
  CreateUser("alice");
  ASSERT_TRUE(store_->RecordCertificate(Cert(9, "alice", 100)).ok());
  ASSERT_TRUE(store_->DeleteUser("alice").ok());
  EXPECT_EQ(store_->RecordCertificate(Cert(9, "alice", 200)).code(), Code::kAlreadyExists);
}

TEST_F(StoreTest, LargeSerialsRoundTrip) {
  const std::uint64_t kSerials[] = {0,
                                    1,
                                    (std::uint64_t{1} << 63) - 1,
                                    std::uint64_t{1} << 63,
                                    (std::uint64_t{1} << 63) + 12345,
                                    ~std::uint64_t{0}};
  std::int64_t t = 1;
  for (std::uint64_t serial : kSerials) {
    ASSERT_TRUE(store_->RecordCertificate(Cert(serial, "alice", t++)).ok()) << serial;
  }
  EXPECT_EQ(store_->RecordCertificate(Cert(~std::uint64_t{0}, "alice", 99)).code(),
            Code::kAlreadyExists);
  Result<std::vector<IssuedCertificate>> certs = store_->ListCertificates("alice");
  ASSERT_TRUE(certs.has_value());
  ASSERT_EQ(certs->size(), std::size(kSerials));
  for (std::size_t i = 0; i < std::size(kSerials); ++i) {
    EXPECT_EQ((*certs)[i].serial, kSerials[i]);
  }
}

TEST_F(StoreTest, ListCertificatesFiltersByUser) {
  ASSERT_TRUE(store_->RecordCertificate(Cert(1, "alice", 300)).ok());
  ASSERT_TRUE(store_->RecordCertificate(Cert(2, "bob", 200)).ok());
  ASSERT_TRUE(store_->RecordCertificate(Cert(3, "alice", 100)).ok());
  Result<std::vector<IssuedCertificate>> certs = store_->ListCertificates("alice");
  ASSERT_TRUE(certs.has_value());
  ASSERT_EQ(certs->size(), 2u);
  EXPECT_EQ((*certs)[0].serial, 3u);  // oldest first
  EXPECT_EQ((*certs)[1].serial, 1u);
  EXPECT_EQ((*certs)[1].key_id, "alice-key");
  EXPECT_EQ((*certs)[1].valid_after, 240);
  EXPECT_EQ((*certs)[1].valid_before, 3900);
  EXPECT_TRUE(store_->ListCertificates("carol")->empty());
}

// --- Audit ------------------------------------------------------------------------------

TEST_F(StoreTest, AuditIsNewestFirst) {
  for (int i = 0; i < 5; ++i) {
    AuditEvent event;
    // Times deliberately out of order: append order is what counts.
    event.time = 1000 - i * 10 + (i == 3 ? 100 : 0);
    event.event = "user.login";
    event.user = "user" + std::to_string(i);
    event.source = "192.0.2.1";
    event.success = (i % 2) == 0;
    event.detail = "attempt " + std::to_string(i);
    ASSERT_TRUE(store_->AppendAudit(event).ok());
  }
  Result<std::vector<AuditEvent>> events = store_->ListAudit(3);
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

  EXPECT_EQ(store_->ListAudit(100)->size(), 5u);
  EXPECT_TRUE(store_->ListAudit(0)->empty());
}

// --- The database file --------------------------------------------------------------------

mode_t FileMode(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0);
  return st.st_mode & 07777;
}

TEST_F(StoreTest, DatabaseFileIsPrivate) {
  EXPECT_EQ(FileMode(path_), 0600u);
  CreateUser("alice");  // forces the WAL files into existence
  for (const char* suffix : {"-wal", "-shm"}) {
    if (fs::exists(path_ + suffix)) {
      EXPECT_EQ(FileMode(path_ + suffix) & 077, 0u) << suffix;
    }
  }
}

TEST_F(StoreTest, CreatedPrivateEvenWithPermissiveUmask) {
  const mode_t old_umask = ::umask(0);
  const std::string path = (dir_ / "umask.db").string();
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(path);
  ::umask(old_umask);
  ASSERT_TRUE(store.has_value()) << store.error().ToString();
  EXPECT_EQ(FileMode(path), 0600u);
}

TEST_F(StoreTest, PersistsAcrossReopen) {
  CreateUser("alice");
  ASSERT_TRUE(store_->RecordCertificate(Cert(std::uint64_t{1} << 63, "alice", 5)).ok());
  ASSERT_TRUE(store_->ConsumeTotpStep("alice", 77).value_or(false));
  store_.reset();

  Result<std::unique_ptr<Store>> reopened = OpenSqliteStore(path_);
  ASSERT_TRUE(reopened.has_value()) << reopened.error().ToString();
  store_ = *std::move(reopened);
  Result<UserRecord> user = store_->GetUser("alice");
  ASSERT_TRUE(user.has_value());
  EXPECT_EQ(user->logins.size(), 3u);
  EXPECT_EQ(user->last_totp_step, 77);
  EXPECT_EQ(store_->RecordCertificate(Cert(std::uint64_t{1} << 63, "alice", 6)).code(),
            Code::kAlreadyExists);
}

TEST_F(StoreTest, RefusesGroupReadableFile) {
  const std::string path = (dir_ / "loose.db").string();
  std::ofstream(path).close();
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(path);
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code(), Code::kPermissionDenied);
  EXPECT_NE(store.error().message().find("chmod 600"), std::string::npos)
      << store.error().message();
}

TEST_F(StoreTest, RefusesExistingLooseDatabase) {
  store_.reset();
  ASSERT_EQ(::chmod(path_.c_str(), 0640), 0);
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(path_);
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code(), Code::kPermissionDenied);
}

TEST_F(StoreTest, RefusesSymlink) {
  const std::string link = (dir_ / "link.db").string();
  ASSERT_EQ(::symlink(path_.c_str(), link.c_str()), 0);
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(link);
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code(), Code::kPermissionDenied);

  // A dangling symlink must not be followed to create its target either.
  const std::string dangling = (dir_ / "dangling.db").string();
  const std::string target = (dir_ / "target.db").string();
  ASSERT_EQ(::symlink(target.c_str(), dangling.c_str()), 0);
  EXPECT_EQ(OpenSqliteStore(dangling).error().code(), Code::kPermissionDenied);
  EXPECT_FALSE(fs::exists(target));
}

TEST_F(StoreTest, RefusesSymlinkedWal) {
  store_.reset();
  std::error_code ec;
  fs::remove(path_ + "-wal", ec);
  ASSERT_EQ(::symlink("/dev/null", (path_ + "-wal").c_str()), 0);
  EXPECT_EQ(OpenSqliteStore(path_).error().code(), Code::kPermissionDenied);
}

TEST_F(StoreTest, RefusesFileOwnedBySomeoneElse) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to chown";
  store_.reset();
  ASSERT_EQ(::chown(path_.c_str(), 65534, 65534), 0);
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(path_);
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code(), Code::kPermissionDenied);
  EXPECT_NE(store.error().message().find("owned by uid 65534"), std::string::npos);
}

TEST_F(StoreTest, RefusesDirectory) { EXPECT_FALSE(OpenSqliteStore(dir_.string()).has_value()); }

TEST_F(StoreTest, RefusesNewerSchema) {
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE schema_version SET version = 999", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(path_);
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code(), Code::kFailedPrecondition);
}

TEST_F(StoreTest, UsesWalAndForeignKeys) {
  AuditEvent event;
  event.event = "user.create";
  ASSERT_TRUE(store_->AppendAudit(event).ok());
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "wal");
  sqlite3_finalize(stmt);
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT version FROM schema_version", -1, &stmt, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(stmt, 0), 5);
  sqlite3_finalize(stmt);
  // The audit log refuses rewriting even through raw SQL.
  EXPECT_NE(sqlite3_exec(db, "DELETE FROM audit", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
}

}  // namespace
}  // namespace gate::ca
