// The signer process's decisions, through the socket protocol: a real
// SQLite store, real CA keys in a temporary directory, SignerService served
// by ServeSignerConnection on one end of a socketpair and SignerClient (or
// raw frames) on the other, as in gate-ca.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "ca-server/signer/ca_keys.h"
#include "ca-server/signer/frame_io.h"
#include "ca-server/signer/privsep.h"
#include "ca-server/signer/protocol.h"
#include "ca-server/signer/signer_client.h"
#include "ca-server/signer/signer_server.h"
#include "ca-server/signer/signer_service.h"
#include "ca-server/signer_test_support.h"
#include "ca-server/store_sqlite_backend.h"
#include "gate/certificate.h"
#include "gate/ssh_wire.h"

namespace gate::ca {
namespace {

constexpr std::int64_t kNow = 1'700'000'000;
constexpr char kUuid[] = "4a6f0c1e-9b2d-4c3e-8f10-0123456789ab";

// Roles here permit a pty and agent forwarding, not port forwarding.
policy::Role Role(const std::string& name, std::vector<std::string> logins,
                  std::chrono::seconds max_ttl = {}) {
  return testing::Role(name, std::move(logins), max_ttl, true, false, true);
}

class SignerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = backend_.Open();
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    store_ = *std::move(store);
    auto keys = LoadOrCreateCaKeys((backend_.dir() / "ca").string());
    ASSERT_TRUE(keys.has_value()) << keys.error().ToString();
    user_ca_ = keys->user->public_key();
    host_ca_ = keys->host->public_key();
    SignerOptions options;
    options.max_user_ttl = std::chrono::hours(30);
    service_ = std::make_unique<SignerService>(options, std::move(*keys), *store_,
                                               [this] { return now_.load(); });
    int pair[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair), 0);
    signer_fd_.Reset(pair[0]);
    front_fd_ = pair[1];
    // As the signer process does: serve, then hang up (by exiting).
    server_ = std::thread([this] {
      served_ = ServeSignerConnection(signer_fd_.get(), *service_);
      signer_fd_.Reset();
    });
    key_ = ssh::Ed25519PrivateKey::Generate()->public_key();
  }

  void TearDown() override {
    client_.reset();
    if (front_fd_ >= 0) ::close(front_fd_);
    if (server_.joinable()) server_.join();
    service_.reset();
    store_.reset();
  }

  SignerClient& Client() {
    if (!client_) {
      auto client =
          SignerClient::Connect(UniqueFd(front_fd_), std::chrono::seconds(10), [this] { ++lost_; });
      front_fd_ = -1;
      EXPECT_TRUE(client.has_value()) << client.error().ToString();
      client_ = std::move(*client);
    }
    return *client_;
  }

  void AddUser(const std::string& name, std::vector<std::string> logins,
               std::vector<std::string> roles = {}, bool signed_up = true) {
    UserRecord user;
    user.name = name;
    user.logins = std::move(logins);
    user.roles = std::move(roles);
    user.created_at = kNow;
    if (signed_up) user.password_hash = "$argon2id$placeholder";
    ASSERT_TRUE(store_->CreateUser(user).ok());
  }

  void AddNode(const ssh::Ed25519PublicKey& host_key) {
    testing::RegisterNode(*store_, kUuid, host_key, kNow);
  }

  UserCertificateRequest UserRequest(const std::string& user, std::chrono::seconds ttl,
                                     std::vector<std::string> logins = {}) {
    return {user, ttl, key_, std::move(logins), "203.0.113.7"};
  }

  // The newest audit event, which the signer must have written.
  AuditEvent LastAudit() {
    auto events = store_->ListAudit(1);
    EXPECT_TRUE(events.has_value() && events->size() == 1u);
    return events && !events->empty() ? (*events)[0] : AuditEvent{};
  }

  // Sends raw bytes as the front end would, then reads what comes back.
  Result<SignerMessage> SendRaw(const std::string& bytes) {
    EXPECT_EQ(::send(front_fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
    return ReadSignerFrame(front_fd_);
  }

  std::string Frame(std::string_view body) {
    ssh::Writer w;
    w.PutU32(static_cast<std::uint32_t>(body.size()));
    w.PutRaw(body);
    return w.Take();
  }

  // After a malformed frame the signer answers with an error and hangs up.
  void ExpectRefusedAndClosed(const std::string& bytes, const std::string& why) {
    auto reply = SendRaw(bytes);
    ASSERT_TRUE(reply.has_value()) << why << ": " << reply.error().ToString();
    auto* error = std::get_if<SignerErrorReply>(&reply->payload);
    ASSERT_NE(error, nullptr) << why;
    EXPECT_EQ(error->code, Code::kInvalidArgument) << why << ": " << error->message;
    // Hung up: the end of the stream, or a reset if bytes were left unread.
    auto after = ReadSignerFrame(front_fd_);
    ASSERT_FALSE(after.has_value()) << why;
    EXPECT_TRUE(after.error().code() == Code::kNotFound ||
                after.error().code() == Code::kUnavailable)
        << why << ": " << after.error().ToString();
    server_.join();
    EXPECT_FALSE(served_.ok()) << why;
  }

  std::atomic<std::int64_t> now_{kNow};
  ssh::Ed25519PublicKey user_ca_, host_ca_, key_;
  SqliteBackend backend_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<SignerService> service_;
  UniqueFd signer_fd_;
  int front_fd_ = -1;
  std::thread server_;
  Status served_;
  std::unique_ptr<SignerClient> client_;
  std::atomic<int> lost_{0};
};

TEST_F(SignerTest, HelloGivesOnlyThePublicKeys) {
  EXPECT_EQ(Client().user_ca(), user_ca_);
  EXPECT_EQ(Client().host_ca(), host_ca_);
}

TEST_F(SignerTest, GrantsWhatPolicyGrantsAndAuditsIt) {
  ASSERT_TRUE(store_->CreateRole(Role("dev", {"ubuntu"}, std::chrono::hours(8))).ok());
  AddUser("alice", {"alice"}, {"dev"});
  auto issued = Client().SignUserCertificate(UserRequest("alice", std::chrono::hours(8)));
  ASSERT_TRUE(issued.has_value()) << issued.error().ToString();
  const auto& spec = issued->certificate.spec;
  EXPECT_EQ(spec.key_id, "alice");
  EXPECT_EQ(spec.principals, (std::vector<std::string>{"alice", "ubuntu"}));
  EXPECT_EQ(spec.valid_after, static_cast<std::uint64_t>(kNow - 60));
  EXPECT_EQ(spec.valid_before, static_cast<std::uint64_t>(kNow + 8 * 3600));
  EXPECT_EQ(issued->extensions,
            (std::vector<std::string>{"permit-agent-forwarding", "permit-pty"}));
  EXPECT_EQ(issued->roles, (std::vector<std::string>{"dev"}));
  EXPECT_EQ(issued->certificate.signature_key, user_ca_);
  EXPECT_TRUE(ssh::ParseCertificate(issued->certificate.blob).has_value());
  auto certs = store_->ListCertificates("alice");
  ASSERT_TRUE(certs.has_value());
  ASSERT_EQ(certs->size(), 1u);
  EXPECT_EQ((*certs)[0].serial, spec.serial);
  const AuditEvent event = LastAudit();
  EXPECT_EQ(event.event, "signer.user_cert");
  EXPECT_EQ(event.user, "alice");
  EXPECT_EQ(event.source, "203.0.113.7");
  EXPECT_TRUE(event.success);
  EXPECT_NE(event.detail.find(std::to_string(spec.serial)), std::string::npos);

  // A subset of the granted logins is what the certificate carries.
  auto one = Client().SignUserCertificate(UserRequest("alice", std::chrono::hours(1), {"ubuntu"}));
  ASSERT_TRUE(one.has_value()) << one.error().ToString();
  EXPECT_EQ(one->certificate.spec.principals, (std::vector<std::string>{"ubuntu"}));
}

TEST_F(SignerTest, RefusesWhatPolicyDoesNotGrantAndAuditsTheRefusal) {
  ASSERT_TRUE(store_->CreateRole(Role("short", {"ubuntu"}, std::chrono::hours(2))).ok());
  AddUser("alice", {"alice"}, {"short"});
  AddUser("bob", {"bob"});
  AddUser("carol", {"carol"}, {}, /*signed_up=*/false);
  AddUser("dave", {"dave"});
  ASSERT_TRUE(store_->SetLock({"dave", 0, "left the company", kNow - 10}).ok());

  struct Case {
    const char* what;
    UserCertificateRequest request;
    Code code;
    const char* says;
  };
  const std::vector<Case> cases = {
      {"unknown user", UserRequest("mallory", std::chrono::hours(1)), Code::kNotFound,
       "no user mallory"},
      {"not signed up", UserRequest("carol", std::chrono::hours(1)), Code::kFailedPrecondition,
       "not signed up"},
      {"locked", UserRequest("dave", std::chrono::hours(1)), Code::kPermissionDenied,
       "left the company"},
      {"login not granted", UserRequest("bob", std::chrono::hours(1), {"bob", "root"}),
       Code::kPermissionDenied, "'root' is not granted"},
      {"ttl over the role cap", UserRequest("alice", std::chrono::hours(3)),
       Code::kPermissionDenied, "cap of 7200s"},
      {"ttl over max_cert_ttl", UserRequest("bob", std::chrono::hours(31)), Code::kPermissionDenied,
       "cap of 108000s"},
      {"zero ttl", UserRequest("bob", std::chrono::seconds(0)), Code::kInvalidArgument, "positive"},
      {"malformed name", UserRequest("../bob", std::chrono::hours(1)), Code::kInvalidArgument, ""},
  };
  for (const Case& c : cases) {
    // The zero lifetime never leaves the client; the service refuses it too.
    auto refused = c.request.ttl.count() == 0 ? service_->SignUserCertificate(c.request)
                                              : Client().SignUserCertificate(c.request);
    ASSERT_FALSE(refused.has_value()) << c.what;
    EXPECT_EQ(refused.error().code(), c.code) << c.what << ": " << refused.error().ToString();
    EXPECT_NE(refused.error().message().find(c.says), std::string::npos)
        << c.what << ": " << refused.error().message();
    const AuditEvent event = LastAudit();
    EXPECT_EQ(event.event, "signer.user_cert") << c.what;
    EXPECT_FALSE(event.success) << c.what;
    EXPECT_EQ(event.detail, refused.error().message()) << c.what;
  }
  for (const char* user : {"alice", "bob", "carol", "dave", "mallory"}) {
    EXPECT_TRUE(store_->ListCertificates(user)->empty()) << user;
  }
  EXPECT_EQ(lost_, 0);  // refusals are answers, not failures
  // The lock ends: the same request is granted, by the signer's own clock.
  ASSERT_TRUE(store_->SetLock({"dave", kNow + 60, "back soon", kNow}).ok());
  EXPECT_FALSE(Client().SignUserCertificate(UserRequest("dave", std::chrono::hours(1))));
  now_ = kNow + 60;
  EXPECT_TRUE(Client().SignUserCertificate(UserRequest("dave", std::chrono::hours(1))));
}

TEST_F(SignerTest, SignsHostCertificatesOnlyForTheRegisteredKey) {
  AddNode(key_);
  auto cert = Client().SignHostCertificate({kUuid, key_, {"db-1", "10.0.0.5"}, "node"});
  ASSERT_TRUE(cert.has_value()) << cert.error().ToString();
  EXPECT_EQ(cert->spec.type, ssh::CertType::kHost);
  EXPECT_EQ(cert->spec.key_id, kUuid);
  EXPECT_EQ(cert->signature_key, host_ca_);
  EXPECT_EQ(cert->spec.valid_before, static_cast<std::uint64_t>(kNow + 30 * 24 * 3600));
  EXPECT_EQ(LastAudit().event, "signer.host_cert");
  EXPECT_TRUE(LastAudit().success);

  const auto other = ssh::Ed25519PrivateKey::Generate()->public_key();
  auto wrong_key = Client().SignHostCertificate({kUuid, other, {"db-1"}, "node"});
  ASSERT_FALSE(wrong_key.has_value());
  EXPECT_EQ(wrong_key.error().code(), Code::kPermissionDenied);
  EXPECT_FALSE(LastAudit().success);
  auto unknown = Client().SignHostCertificate(
      {"00000000-0000-4000-8000-000000000000", key_, {"db-1"}, "node"});
  EXPECT_EQ(unknown.error().code(), Code::kNotFound);
  auto bad_principal = Client().SignHostCertificate({kUuid, key_, {"-oProxyCommand"}, "node"});
  EXPECT_EQ(bad_principal.error().code(), Code::kInvalidArgument);
  EXPECT_EQ(lost_, 0);
}

// Whoever asks, the signer vouches only for the names the store holds for
// the node: a front end (or a node) cannot make it sign another host's name.
TEST_F(SignerTest, SignsOnlyTheNodesApprovedHostNames) {
  AddNode(key_);
  auto other = Client().SignHostCertificate({kUuid, key_, {"db-1", "db-prod-1"}, "node"});
  ASSERT_FALSE(other.has_value());
  EXPECT_EQ(other.error().code(), Code::kPermissionDenied);
  EXPECT_NE(other.error().message().find("db-prod-1"), std::string::npos);
  EXPECT_FALSE(LastAudit().success);
  EXPECT_EQ(LastAudit().event, "signer.host_cert");
  auto different_case = Client().SignHostCertificate({kUuid, key_, {"DB-1"}, "node"});
  EXPECT_TRUE(different_case.has_value());
  EXPECT_EQ(lost_, 0);
}

TEST_F(SignerTest, ManyThreadsShareOneClient) {
  AddUser("alice", {"alice"});
  Client();
  std::vector<std::thread> threads;
  std::mutex mu;
  std::set<std::uint64_t> serials;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        auto issued = client_->SignUserCertificate(UserRequest("alice", std::chrono::hours(1)));
        ASSERT_TRUE(issued.has_value()) << issued.error().ToString();
        std::lock_guard<std::mutex> lock(mu);
        serials.insert(issued->certificate.spec.serial);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(serials.size(), 80u);
  EXPECT_EQ(store_->ListCertificates("alice")->size(), 80u);
}

// A signer of the test's own on a second socketpair: answers hello, then
// reads `requests` user-certificate requests before answering any, and
// answers them in reverse order (through the real SignerService), or with
// reply id `wrong_id` when it is not 0. A client that waited for each reply
// before sending the next request would never get past the first.
class ScriptedSigner {
 public:
  ScriptedSigner(SignerService& service, const ssh::Ed25519PublicKey& user_ca,
                 const ssh::Ed25519PublicKey& host_ca, int requests, std::uint32_t wrong_id = 0) {
    int pair[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair), 0);
    signer_fd_.Reset(pair[0]);
    front_fd_ = UniqueFd(pair[1]);
    thread_ = std::thread([this, &service, user_ca, host_ca, requests, wrong_id] {
      auto hello = ReadSignerFrame(signer_fd_.get());
      if (!hello ||
          !WriteSignerFrame(signer_fd_.get(), {hello->id, HelloReply{user_ca, host_ca}}).ok()) {
        return;
      }
      std::vector<SignerMessage> queued;
      while (static_cast<int>(queued.size()) < requests) {
        auto m = ReadSignerFrame(signer_fd_.get());
        if (!m) return;  // the client gave up (or never sent it)
        queued.push_back(std::move(*m));
      }
      for (auto it = queued.rbegin(); it != queued.rend(); ++it) {
        const auto& m = std::get<SignUserRequest>(it->payload);
        auto issued = service.SignUserCertificate(
            {m.user, std::chrono::seconds(m.ttl_seconds), m.public_key, m.logins, m.source});
        SignerPayload reply =
            issued ? SignerPayload(SignUserReply{issued->certificate.blob, issued->roles})
                   : SignerPayload(ToErrorReply(issued.error()));
        if (!WriteSignerFrame(signer_fd_.get(), {wrong_id ? wrong_id : it->id, std::move(reply)})
                 .ok()) {
          return;
        }
      }
      (void)ReadSignerFrame(signer_fd_.get());  // until the client hangs up
    });
  }
  ~ScriptedSigner() {
    ::shutdown(signer_fd_.get(), SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
  }
  UniqueFd TakeFrontEnd() { return std::move(front_fd_); }

 private:
  UniqueFd signer_fd_, front_fd_;
  std::thread thread_;
};

TEST_F(SignerTest, ConcurrentCallsAreInFlightTogetherAndGetTheirOwnReplies) {
  const std::vector<std::string> users = {"alice", "bob", "carol", "dave"};
  for (const auto& user : users) AddUser(user, {user});
  ScriptedSigner signer(*service_, user_ca_, host_ca_, static_cast<int>(users.size()));
  // The timeout only ends the test if requests are not in flight together.
  auto client =
      SignerClient::Connect(signer.TakeFrontEnd(), std::chrono::seconds(5), [this] { ++lost_; });
  ASSERT_TRUE(client.has_value()) << client.error().ToString();
  std::vector<std::thread> threads;
  std::vector<Result<IssuedUserCertificate>> results(users.size(), Err(Internal("not run")));
  for (std::size_t i = 0; i < users.size(); ++i) {
    threads.emplace_back([&, i] {
      results[i] = (*client)->SignUserCertificate(UserRequest(users[i], std::chrono::hours(1)));
    });
  }
  for (auto& t : threads) t.join();
  for (std::size_t i = 0; i < users.size(); ++i) {
    ASSERT_TRUE(results[i].has_value()) << users[i] << ": " << results[i].error().ToString();
    EXPECT_EQ(results[i]->certificate.spec.key_id, users[i]);
    EXPECT_EQ(results[i]->certificate.spec.principals, (std::vector<std::string>{users[i]}));
  }
  EXPECT_EQ(lost_, 0);
}

TEST_F(SignerTest, AReplyToNoRequestInFlightFailsEveryCallClosed) {
  AddUser("alice", {"alice"});
  AddUser("bob", {"bob"});
  ScriptedSigner signer(*service_, user_ca_, host_ca_, 2, /*wrong_id=*/999);
  auto client =
      SignerClient::Connect(signer.TakeFrontEnd(), std::chrono::seconds(5), [this] { ++lost_; });
  ASSERT_TRUE(client.has_value()) << client.error().ToString();
  std::vector<Result<IssuedUserCertificate>> results(2, Err(Internal("not run")));
  std::thread bob([&] {
    results[1] = (*client)->SignUserCertificate(UserRequest("bob", std::chrono::hours(1)));
  });
  results[0] = (*client)->SignUserCertificate(UserRequest("alice", std::chrono::hours(1)));
  bob.join();
  for (const auto& result : results) {
    ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error().code(), Code::kUnavailable) << result.error().ToString();
    EXPECT_NE(result.error().message().find("signer unavailable"), std::string::npos);
  }
  EXPECT_EQ(lost_, 1);
  auto later = (*client)->SignUserCertificate(UserRequest("alice", std::chrono::hours(1)));
  ASSERT_FALSE(later.has_value());
  EXPECT_EQ(later.error().code(), Code::kUnavailable);
}

TEST_F(SignerTest, ClientFailsClosedWhenTheSignerIsGone) {
  AddUser("alice", {"alice"});
  Client();
  ::shutdown(signer_fd_.get(), SHUT_RD);  // the signer sees the end and leaves
  server_.join();
  auto issued = client_->SignUserCertificate(UserRequest("alice", std::chrono::hours(1)));
  ASSERT_FALSE(issued.has_value());
  EXPECT_EQ(issued.error().code(), Code::kUnavailable);
  EXPECT_NE(issued.error().message().find("signer unavailable"), std::string::npos);
  EXPECT_EQ(lost_, 1);
  auto again = client_->SignHostCertificate({kUuid, key_, {"db-1"}, ""});
  EXPECT_EQ(again.error().code(), Code::kUnavailable);
  EXPECT_EQ(lost_, 1);  // told once
  EXPECT_TRUE(store_->ListCertificates("alice")->empty());
}

TEST_F(SignerTest, RefusesAndHangsUpOnAnOversizedFrame) {
  ssh::Writer w;
  w.PutU32(static_cast<std::uint32_t>(kMaxSignerFrameBytes + 1));
  ExpectRefusedAndClosed(w.Take() + std::string(64, 'x'), "oversized");
}

TEST_F(SignerTest, RefusesAndHangsUpOnAnotherVersion) {
  ssh::Writer body;
  body.PutU8(kSignerProtocolVersion + 1);
  body.PutU8(1);
  body.PutU32(7);
  ExpectRefusedAndClosed(Frame(body.data()), "version");
}

TEST_F(SignerTest, RefusesAndHangsUpOnAnUnknownType) {
  ssh::Writer body;
  body.PutU8(kSignerProtocolVersion);
  body.PutU8(99);
  body.PutU32(7);
  ExpectRefusedAndClosed(Frame(body.data()), "type");
}

TEST_F(SignerTest, RefusesAndHangsUpOnTrailingBytes) {
  auto frame = EncodeSignerFrame({7, HelloRequest{}});
  ASSERT_TRUE(frame.has_value());
  std::string body = frame->substr(kSignerFrameHeaderBytes) + "x";
  ExpectRefusedAndClosed(Frame(body), "trailing");
}

TEST_F(SignerTest, RefusesAndHangsUpOnAReplySentAsARequest) {
  auto frame = EncodeSignerFrame({7, SignHostReply{"not a certificate"}});
  ASSERT_TRUE(frame.has_value());
  ExpectRefusedAndClosed(*frame, "reply as request");
}

TEST_F(SignerTest, RefusesAndHangsUpOnAFieldOverItsCap) {
  ssh::Writer body;
  body.PutU8(kSignerProtocolVersion);
  body.PutU8(3);  // SignUserRequest
  body.PutU32(7);
  body.PutString(std::string(kMaxSignerNameBytes + 1, 'a'));
  ExpectRefusedAndClosed(Frame(body.data()), "long user");
}

// --- The codec alone -----------------------------------------------------------------

TEST(SignerProtocolTest, EveryMessageRoundTrips) {
  const auto key = ssh::Ed25519PrivateKey::Generate()->public_key();
  const std::vector<SignerPayload> payloads = {
      HelloRequest{},
      HelloReply{key, key},
      SignUserRequest{"alice", 3600, key, {"alice", "root"}, "198.51.100.1"},
      SignUserReply{"blob", {"dev"}},
      SignHostRequest{kUuid, key, {"db-1"}, "node"},
      SignHostReply{"blob"},
      SignerErrorReply{Code::kPermissionDenied, "no"},
  };
  for (const SignerPayload& payload : payloads) {
    auto frame = EncodeSignerFrame({42, payload});
    ASSERT_TRUE(frame.has_value()) << payload.index();
    auto length = DecodeSignerFrameLength(frame->substr(0, kSignerFrameHeaderBytes));
    ASSERT_TRUE(length.has_value());
    EXPECT_EQ(*length, frame->size() - kSignerFrameHeaderBytes);
    auto decoded = DecodeSignerBody(frame->substr(kSignerFrameHeaderBytes));
    ASSERT_TRUE(decoded.has_value()) << decoded.error().ToString();
    EXPECT_EQ(decoded->id, 42u);
    EXPECT_EQ(decoded->payload.index(), payload.index());
    auto again = EncodeSignerFrame(*decoded);
    EXPECT_EQ(*again, *frame) << payload.index();
  }
}

TEST(SignerProtocolTest, EncoderRefusesWhatTheDecoderWould) {
  const auto key = ssh::Ed25519PrivateKey::Generate()->public_key();
  EXPECT_FALSE(EncodeSignerFrame({1, SignUserRequest{std::string(257, 'a'), 1, key, {}, ""}}));
  EXPECT_FALSE(
      EncodeSignerFrame({1, SignUserRequest{"a", 1, key, std::vector<std::string>(65, "x"), ""}}));
  EXPECT_FALSE(EncodeSignerFrame({1, SignerErrorReply{Code::kOk, ""}}));
  EXPECT_FALSE(DecodeSignerFrameLength(std::string(4, '\0')));
  EXPECT_FALSE(DecodeSignerFrameLength("\x00\x01"));
  ssh::Writer bad_code;
  bad_code.PutU8(kSignerProtocolVersion);
  bad_code.PutU8(7);
  bad_code.PutU32(1);
  bad_code.PutU32(99);
  bad_code.PutString("x");
  EXPECT_FALSE(DecodeSignerBody(bad_code.data()));
}

// --- Start-up as root -----------------------------------------------------------------

TEST(PrivsepTest, AMissingSystemUserIsRefusedWithHowToCreateIt) {
  auto user = LookUpSystemUser("gate-no-such-user");
  ASSERT_FALSE(user.has_value());
  EXPECT_EQ(user.error().code(), Code::kFailedPrecondition);
  EXPECT_NE(user.error().message().find("useradd --system"), std::string::npos);
  auto root = LookUpSystemUser("root");
  ASSERT_FALSE(root.has_value());  // never root under another name
  EXPECT_NE(root.error().message().find("uid or gid 0"), std::string::npos);
}

}  // namespace
}  // namespace gate::ca
