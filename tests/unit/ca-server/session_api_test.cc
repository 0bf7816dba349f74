// Recorded sessions on gate-ca (api/session_api.h, sessions/, auth/
// request_auth.h): node uploads and completions, the recorder key, and
// users' signed requests, driven through a real Router over a real SQLite
// store and real recordings written by cast::Writer.
#include "ca-server/api/session_api.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "ca-server/api/node_api.h"
#include "ca-server/api/query.h"
#include "ca-server/auth/node_auth.h"
#include "ca-server/issuer/revocation.h"
#include "ca-server/sessions/recording_summary.h"
#include "ca-server/signer/signer_service.h"
#include "ca-server/signer_test_support.h"
#include "common/recording_test_util.h"
#include "gate/bytes.h"
#include "gate/certificate.h"
#include "gate/fault_env.h"
#include "gate/json.h"
#include "gate/request_signing.h"

namespace gate::ca {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kNow = 1'700'000'100;
constexpr char kNodeA[] = "4a6f0c1e-9b2d-4c3e-8f10-0123456789ab";
constexpr char kNodeB[] = "5b7f0c1e-9b2d-4c3e-8f10-0123456789ab";
constexpr char kS1[] = "11111111-2222-4333-8444-555555555555";
constexpr char kS2[] = "21111111-2222-4333-8444-555555555555";
const std::string kSecretA(64, 'a');
const std::string kSecretB(64, 'b');

std::string Join(const std::string& event, const std::string& user,
                 const std::string& mode = "observer") {
  return R"({"event":")" + event + R"(","user":")" + user + R"(","mode":")" + mode + R"("})";
}

class SessionApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "gate-session-api-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto store = OpenSqliteStore(dir_ + "/gate.db");
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    store_ = std::move(*store);
    config_.cluster_name = "grav-00";
    audit_ = std::make_unique<AuditLog>(*store_);
    authenticator_ = std::make_unique<Authenticator>(AuthenticatorOptions{}, *store_, *audit_);
    signup_ = std::make_unique<SignupService>(SignupOptions{"grav-00", SecondFactor::kOtp, 12},
                                              *store_, *audit_);
    signer_ = testing::NewSignerService(*store_, [this] { return now_; }, &user_ca_, &host_ca_,
                                        {config_.max_cert_ttl});
    issuer_ = std::make_unique<Issuer>(
        IssuerOptions{config_.cert_ttl, config_.max_cert_ttl, std::chrono::seconds(60)}, *signer_,
        *store_);
    host_issuer_ = std::make_unique<HostIssuer>(*signer_);
    limiter_ = std::make_unique<RateLimiter>(600, 100);
    signed_limiter_ = std::make_unique<RateLimiter>(6000, 1000);
    auto now = [this] { return now_; };
    services_ = std::make_unique<Services>(Services{.config = config_,
                                                    .store = *store_,
                                                    .audit = *audit_,
                                                    .authenticator = *authenticator_,
                                                    .signup = *signup_,
                                                    .issuer = *issuer_,
                                                    .host_issuer = *host_issuer_,
                                                    .auth_limiter = *limiter_,
                                                    .user_ca = user_ca_->public_key(),
                                                    .host_ca = host_ca_->public_key(),
                                                    .now = now,
                                                    .ca_pin = ""});
    auto files = RecordingFiles::Open(dir_ + "/recordings", &env_);
    ASSERT_TRUE(files.has_value()) << files.error().ToString();
    files_ = std::make_unique<RecordingFiles>(std::move(*files));
    MakeIngest(SessionLimits{});
    users_ = std::make_unique<RequestAuthenticator>(*store_, *audit_, user_ca_->public_key(),
                                                    *signed_limiter_, RequestAuthOptions{}, now);
    Rebuild();

    recorder_key_ = std::make_unique<ssh::Ed25519PrivateKey>(*ssh::Ed25519PrivateKey::Generate());
    AddNode(kNodeA, "db-1", kSecretA, {{"env", "prod"}});
    AddNode(kNodeB, "web-1", kSecretB, {{"env", "dev"}});
    ASSERT_TRUE(
        store_->SetNodeRecorderKey(kNodeA, recorder_key_->public_key().AuthorizedKey()).ok());
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void MakeIngest(SessionLimits limits) {
    ingest_ =
        std::make_unique<SessionIngest>(*store_, *audit_, *files_, limits, [this] { return now_; });
  }
  void Rebuild() {
    deps_ =
        std::make_unique<SessionApiDeps>(SessionApiDeps{*services_, *ingest_, *users_, *files_});
    router_ = std::make_unique<Router>();
    RegisterSessionApi(*router_, *deps_);
    RegisterUserNodesApi(*router_, *deps_);
  }

  void AddNode(const std::string& uuid, const std::string& name, const std::string& secret,
               policy::Labels labels) {
    NodeRecord node;
    node.host_uuid = uuid;
    node.hostname = name;
    node.host_key = "ssh-ed25519 AAAA";
    node.labels = std::move(labels);
    node.secret_hash = HashNodeSecret(secret);
    node.joined_at = kNow;
    ASSERT_TRUE(store_->CreateNode(node).ok());
  }

  static std::string Bearer(const std::string& uuid, const std::string& secret) {
    return "Bearer " + uuid + "." + secret;
  }

  // A recording by node (of session id), as the recorder writes it.
  std::string Recording(const std::string& id, const std::string& node = kNodeA,
                        const testing::RecordingScript& script = {},
                        const std::string& user = "alice") {
    return testing::WriteRecording(dir_ + "/local.cast", testing::TestHeader(id, node, user),
                                   *recorder_key_, script);
  }

  HttpReply Put(const std::string& id, std::uint64_t offset, std::string_view bytes,
                const std::string& bearer = Bearer(kNodeA, kSecretA)) {
    HttpRequest req;
    req.method = "PUT";
    req.path = "/v1/nodes/sessions/" + id;
    req.query = "offset=" + std::to_string(offset);
    req.body = std::string(bytes);
    req.content_type = "application/octet-stream";
    req.authorization = bearer;
    req.source = "192.0.2.10";
    return router_->Dispatch(req);
  }

  HttpReply Complete(const std::string& id, std::uint64_t size, const std::string& sha256,
                     const std::string& bearer = Bearer(kNodeA, kSecretA)) {
    Json::Value body;
    body["size"] = Json::UInt64(size);
    body["sha256"] = sha256;
    return PostJson("/v1/nodes/sessions/" + id + "/complete", json::Write(body), bearer);
  }

  HttpReply PostJson(const std::string& path, const std::string& body,
                     const std::string& bearer = Bearer(kNodeA, kSecretA),
                     const std::string& method = "POST") {
    HttpRequest req;
    req.method = method;
    req.path = path;
    req.body = body;
    req.content_type = "application/json";
    req.authorization = bearer;
    req.source = "192.0.2.10";
    return router_->Dispatch(req);
  }

  // Uploads the whole recording in chunks of `chunk` bytes and completes it.
  HttpReply Upload(const std::string& id, const std::string& bytes, std::size_t chunk = 1000) {
    for (std::size_t off = 0; off < bytes.size(); off += chunk) {
      HttpReply r = Put(id, off, std::string_view(bytes).substr(off, chunk));
      EXPECT_EQ(r.status, 200) << json::Write(r.body);
    }
    return Complete(id, bytes.size(), HexEncode(Sha256(bytes)));
  }

  std::uint64_t HeldBytes(const std::string& id) { return files_->Size(id).value_or(999999); }

  std::vector<AuditEvent> Audit() {
    return store_->ListAudit(1000).value_or(std::vector<AuditEvent>{});
  }
  int CountAudit(const std::string& event, bool success) {
    auto all = Audit();
    return static_cast<int>(std::count_if(all.begin(), all.end(), [&](const AuditEvent& e) {
      return e.event == event && e.success == success;
    }));
  }

  // --- users ---

  struct Identity {
    std::unique_ptr<ssh::Ed25519PrivateKey> key;
    std::string blob;
    std::uint64_t serial = 0;
  };

  void AddUser(const std::string& name, std::vector<std::string> roles = {}) {
    UserRecord user;
    user.name = name;
    user.logins = {name};
    user.roles = std::move(roles);
    ASSERT_TRUE(store_->CreateUser(user).ok());
  }

  Identity Cert(const std::string& user, const ssh::Signer& ca, std::int64_t valid_after,
                std::int64_t valid_before, ssh::CertType type = ssh::CertType::kUser) {
    Identity id;
    id.key = std::make_unique<ssh::Ed25519PrivateKey>(*ssh::Ed25519PrivateKey::Generate());
    ssh::CertificateSpec spec;
    spec.type = type;
    spec.public_key = id.key->public_key();
    spec.serial = ++serial_;
    spec.key_id = user;
    spec.principals = {user};
    spec.valid_after = static_cast<std::uint64_t>(valid_after);
    spec.valid_before = static_cast<std::uint64_t>(valid_before);
    auto cert = ssh::SignCertificate(spec, ca);
    EXPECT_TRUE(cert.has_value());
    id.blob = cert->blob;
    id.serial = spec.serial;
    IssuedCertificate issued;
    issued.serial = spec.serial;
    issued.user = user;
    issued.key_id = user;
    issued.valid_after = valid_after;
    issued.valid_before = valid_before;
    static_cast<void>(store_->RecordCertificate(issued));
    return id;
  }
  Identity Cert(const std::string& user) { return Cert(user, *user_ca_, kNow - 60, kNow + 3600); }

  HttpRequest Signed(const Identity& who, const std::string& target, std::int64_t at) {
    auto headers = signing::SignRequest(*who.key, who.blob, "GET", target, "", at);
    EXPECT_TRUE(headers.has_value());
    HttpRequest req;
    req.method = "GET";
    const std::size_t q = target.find('?');
    req.path = target.substr(0, q);
    if (q != std::string::npos) req.query = target.substr(q + 1);
    req.authorization = headers->authorization;
    req.signature = headers->signature;
    req.source = "198.51.100.7";
    return req;
  }
  HttpReply Get(const Identity& who, const std::string& target) {
    return router_->Dispatch(Signed(who, target, now_));
  }

  std::vector<std::string> ListedIds(const Identity& who, const std::string& query = "") {
    HttpReply r = Get(who, "/v1/sessions" + query);
    EXPECT_EQ(r.status, 200) << json::Write(r.body);
    std::vector<std::string> ids;
    for (const auto& s : r.body["sessions"]) ids.push_back(s["id"].asString());
    return ids;
  }

  std::string dir_;
  std::int64_t now_ = kNow;
  std::uint64_t serial_ = 1000;
  Config config_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<Authenticator> authenticator_;
  std::unique_ptr<SignupService> signup_;
  std::unique_ptr<ssh::Signer> user_ca_;
  std::unique_ptr<ssh::Signer> host_ca_;
  std::unique_ptr<SignerService> signer_;
  std::unique_ptr<Issuer> issuer_;
  std::unique_ptr<HostIssuer> host_issuer_;
  std::unique_ptr<RateLimiter> limiter_;
  std::unique_ptr<RateLimiter> signed_limiter_;
  std::unique_ptr<Services> services_;
  FaultEnv env_;  // passes everything through until a test sets a fault
  std::unique_ptr<RecordingFiles> files_;
  std::unique_ptr<SessionIngest> ingest_;
  std::unique_ptr<RequestAuthenticator> users_;
  std::unique_ptr<SessionApiDeps> deps_;
  std::unique_ptr<Router> router_;
  std::unique_ptr<ssh::Ed25519PrivateKey> recorder_key_;
};

// --- uploads ---------------------------------------------------------------------------

TEST_F(SessionApiTest, ChunksThenCompleteIndexVerifyAndAudit) {
  testing::RecordingScript script;
  script.joins = {Join("join", "bob"), Join("leave", "bob")};
  const std::string bytes = Recording(kS1, kNodeA, script);
  HttpReply first = Put(kS1, 0, std::string_view(bytes).substr(0, 700));
  ASSERT_EQ(first.status, 200) << json::Write(first.body);
  EXPECT_EQ(first.body["size"].asUInt64(), 700u);
  auto live = store_->GetSession(kS1);
  ASSERT_TRUE(live.has_value());
  EXPECT_TRUE(live->live);
  EXPECT_EQ(live->user, "alice");
  EXPECT_EQ(live->login, "root");
  EXPECT_EQ(live->node_name, "db-1");
  EXPECT_EQ(live->started_at, 1'700'000'000);
  EXPECT_EQ(CountAudit("session.start", true), 1);

  HttpReply second = Put(kS1, 700, std::string_view(bytes).substr(700));
  ASSERT_EQ(second.status, 200);
  EXPECT_EQ(second.body["size"].asUInt64(), bytes.size());
  HttpReply done = Complete(kS1, bytes.size(), HexEncode(Sha256(bytes)));
  ASSERT_EQ(done.status, 200) << json::Write(done.body);
  EXPECT_TRUE(done.body["verified"].asBool()) << json::Write(done.body);
  EXPECT_EQ(done.body["sha256"].asString(), HexEncode(Sha256(bytes)));
  EXPECT_EQ(done.body["size"].asUInt64(), bytes.size());

  auto row = store_->GetSession(kS1);
  EXPECT_FALSE(row->live);
  EXPECT_TRUE(row->verified);
  EXPECT_EQ(row->verify_detail, "complete");
  EXPECT_EQ(row->exit, R"({"exit_status":0})");
  EXPECT_GT(row->ended_at, row->started_at);
  EXPECT_EQ(files_->Read(kS1, 0, 1 << 20).value(), bytes);
  EXPECT_EQ(CountAudit("session.join", true), 1);
  EXPECT_EQ(CountAudit("session.leave", true), 1);
  EXPECT_EQ(CountAudit("session.end", true), 1);
  EXPECT_EQ(CountAudit("session.verify", false), 0);
  for (const auto& e : Audit()) {
    if (e.event == "session.join") {
      EXPECT_EQ(e.user, "bob");
      EXPECT_NE(e.detail.find(kS1), std::string::npos);
      EXPECT_NE(e.detail.find("observer"), std::string::npos);
    }
  }
}

TEST_F(SessionApiTest, EmptyBodyReportsTheSizeAndCreatesNothing) {
  HttpReply probe = Put(kS1, 0, "");
  EXPECT_EQ(probe.status, 200);
  EXPECT_EQ(probe.body["size"].asUInt64(), 0u);
  EXPECT_EQ(store_->GetSession(kS1).error().code(), Code::kNotFound);
  const std::string bytes = Recording(kS1);
  ASSERT_EQ(Put(kS1, 0, std::string_view(bytes).substr(0, 500)).status, 200);
  HttpReply again = Put(kS1, 0, "");
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(again.body["size"].asUInt64(), 500u);
}

TEST_F(SessionApiTest, BadOffsetsAre409WithTheSizeAndChangeNothing) {
  const std::string bytes = Recording(kS1);
  HttpReply r = Put(kS1, 5, std::string_view(bytes).substr(5, 100));
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.body["size"].asUInt64(), 0u);
  EXPECT_EQ(r.body["error"]["code"].asString(), "failed precondition");
  EXPECT_EQ(store_->GetSession(kS1).error().code(), Code::kNotFound);

  ASSERT_EQ(Put(kS1, 0, std::string_view(bytes).substr(0, 600)).status, 200);
  for (std::uint64_t offset : {0ULL, 599ULL, 601ULL, 1ULL << 40}) {
    r = Put(kS1, offset, std::string_view(bytes).substr(600, 10));
    EXPECT_EQ(r.status, 409) << offset;
    EXPECT_EQ(r.body["size"].asUInt64(), 600u) << offset;
  }
  EXPECT_EQ(HeldBytes(kS1), 600u);
  EXPECT_EQ(store_->GetSession(kS1)->size, 600);
}

TEST_F(SessionApiTest, MalformedRequestsAre400) {
  const std::string bytes = Recording(kS1);
  const std::string head = bytes.substr(0, 500);
  HttpRequest req;
  req.method = "PUT";
  req.path = std::string("/v1/nodes/sessions/") + kS1;
  req.body = head;
  req.content_type = "application/octet-stream";
  req.authorization = Bearer(kNodeA, kSecretA);
  for (const char* query : {"", "offset=", "offset=-1", "offset=01", "offset=abc", "offset=0&x=1",
                            "offset=0&offset=0", "offset=99999999999999999999"}) {
    req.query = query;
    EXPECT_EQ(router_->Dispatch(req).status, 400) << query;
  }
  req.query = "offset=0";
  req.content_type = "application/json";
  EXPECT_EQ(router_->Dispatch(req).status, 415);
  // Session ids are lower-case UUIDs: they become file names.
  for (const char* id :
       {"11111111-2222-4333-8444-55555555555G", "not-a-uuid",
        "11111111-2222-4333-8444-555555555555.cast", "11111111-2222-4333-8444-5555555555AA"}) {
    EXPECT_EQ(Put(id, 0, head).status, 400) << id;
  }
  EXPECT_EQ(store_->ListSessions({})->size(), 0u);
}

TEST_F(SessionApiTest, OversizedChunkIsRefused) {
  const std::string big(kMaxChunkBytes + 1, 'x');
  EXPECT_EQ(Put(kS1, 0, big).status, 400);
  EXPECT_EQ(HeldBytes(kS1), 0u);
}

TEST_F(SessionApiTest, NodeCredentialsAreRequired) {
  const std::string bytes = Recording(kS1);
  EXPECT_EQ(Put(kS1, 0, bytes, "").status, 401);
  EXPECT_EQ(Put(kS1, 0, bytes, Bearer(kNodeA, kSecretB)).status, 401);
  EXPECT_EQ(Put(kS1, 0, bytes, "Bearer " + std::string(kS2) + "." + kSecretA).status, 401);
  EXPECT_EQ(Complete(kS1, 1, std::string(64, 'a'), "").status, 401);
  EXPECT_EQ(store_->ListSessions({})->size(), 0u);
}

TEST_F(SessionApiTest, HeaderMustNameThisSessionAndThisNode) {
  // Node B uploads a recording whose header says node A.
  const std::string bytes = Recording(kS1, kNodeA);
  HttpReply r = Put(kS1, 0, bytes, Bearer(kNodeB, kSecretB));
  EXPECT_EQ(r.status, 403) << json::Write(r.body);
  // A recording of another session under this id.
  EXPECT_EQ(Put(kS2, 0, bytes).status, 400);
  // Not a header at all; a header line cut in two.
  EXPECT_EQ(Put(kS1, 0, "[0.1, \"o\", \"hi\"]\n").status, 400);
  EXPECT_EQ(Put(kS1, 0, std::string_view(bytes).substr(0, 40)).status, 400);
  EXPECT_EQ(Put(kS1, 0, "{\"version\": 2}\n").status, 400);
  EXPECT_EQ(store_->ListSessions({})->size(), 0u);
  EXPECT_EQ(HeldBytes(kS1), 0u);
  EXPECT_GE(CountAudit("session.upload", false), 4);
  EXPECT_EQ(CountAudit("session.start", true), 0);

  // Another node may not add to a session that exists.
  ASSERT_EQ(Put(kS1, 0, std::string_view(bytes).substr(0, 500)).status, 200);
  EXPECT_EQ(Put(kS1, 500, std::string_view(bytes).substr(500), Bearer(kNodeB, kSecretB)).status,
            403);
  EXPECT_EQ(Complete(kS1, bytes.size(), HexEncode(Sha256(bytes)), Bearer(kNodeB, kSecretB)).status,
            403);
  EXPECT_EQ(HeldBytes(kS1), 500u);
}

TEST_F(SessionApiTest, HeaderNamesMustBeValid) {
  cast::Header header = testing::TestHeader(kS1, kNodeA, "alice");
  header.login = "Root;rm";
  const std::string bytes = testing::WriteRecording(dir_ + "/bad.cast", header, *recorder_key_, {});
  EXPECT_EQ(Put(kS1, 0, bytes).status, 400);
  EXPECT_EQ(store_->ListSessions({})->size(), 0u);
}

TEST_F(SessionApiTest, DigestMismatchEmptiesTheCopyAndAResendSucceeds) {
  const std::string bytes = Recording(kS1);
  ASSERT_EQ(Put(kS1, 0, bytes).status, 200);
  HttpReply r = Complete(kS1, bytes.size(), std::string(64, '0'));
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.body["size"].asUInt64(), 0u);
  EXPECT_EQ(HeldBytes(kS1), 0u);
  EXPECT_TRUE(store_->GetSession(kS1)->live);
  EXPECT_EQ(CountAudit("session.upload", false), 1);
  // The node sends it again from 0; no second session.start.
  r = Upload(kS1, bytes);
  EXPECT_EQ(r.status, 200) << json::Write(r.body);
  EXPECT_TRUE(r.body["verified"].asBool());
  EXPECT_EQ(CountAudit("session.start", true), 1);
}

// Faults through the Env (gate/fault_env.h): a full disk, an I/O error or a
// failed fsync never leaves half a chunk and never acknowledges bytes that
// may not be on disk; the node learns why and sends again.
TEST_F(SessionApiTest, FullDiskRefusesTheChunkWithoutHalfWritingIt) {
  const std::string bytes = Recording(kS1);
  ASSERT_EQ(Put(kS1, 0, std::string_view(bytes).substr(0, 500)).status, 200);
  env_.FailNth(FaultOp::kWrite, 1, ENOSPC, /*partial_bytes=*/100);
  ::testing::internal::CaptureStderr();
  HttpReply full = Put(kS1, 500, std::string_view(bytes).substr(500));
  const std::string log = ::testing::internal::GetCapturedStderr();
  // 507 Insufficient Storage, not 429: the node is not too fast, gate-ca's
  // disk is full; the node keeps the chunk and retries.
  EXPECT_EQ(full.status, 507);
  EXPECT_EQ(full.body["error"]["code"].asString(), CodeName(Code::kResourceExhausted));
  bool retry_after = false;
  for (const auto& [name, value] : full.headers) retry_after |= name == "Retry-After";
  EXPECT_TRUE(retry_after);
  const std::string message = full.body["error"]["message"].asString();
  EXPECT_NE(message.find("No space left on device"), std::string::npos) << message;
  EXPECT_NE(message.find(kS1), std::string::npos) << message;
  EXPECT_EQ(message.find(dir_), std::string::npos) << message;  // the path is for the log
  EXPECT_NE(log.find(dir_ + "/recordings/" + kS1 + ".cast: No space left on device"),
            std::string::npos)
      << log;
  EXPECT_EQ(HeldBytes(kS1), 500u);  // the 100 bytes that landed were taken back
  // Space again: the same chunk at the same offset completes the upload.
  ASSERT_EQ(Put(kS1, 500, std::string_view(bytes).substr(500)).status, 200);
  HttpReply done = Complete(kS1, bytes.size(), HexEncode(Sha256(bytes)));
  EXPECT_EQ(done.status, 200) << json::Write(done.body);
  EXPECT_EQ(files_->Read(kS1, 0, 1 << 20).value(), bytes);
}

TEST_F(SessionApiTest, FullDiskOnTheFirstChunkCreatesNoSession) {
  const std::string bytes = Recording(kS1);
  env_.FailNth(FaultOp::kWrite, 1, ENOSPC);
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(Put(kS1, 0, bytes).status, 507);
  (void)::testing::internal::GetCapturedStderr();
  EXPECT_EQ(HeldBytes(kS1), 0u);
  EXPECT_EQ(store_->GetSession(kS1).error().code(), Code::kNotFound);
  EXPECT_EQ(CountAudit("session.start", true), 0);
  EXPECT_EQ(Upload(kS1, bytes).status, 200);
  EXPECT_EQ(CountAudit("session.start", true), 1);
}

TEST_F(SessionApiTest, IoErrorOnWriteChangesNothing) {
  const std::string bytes = Recording(kS1);
  env_.FailNth(FaultOp::kWrite, 1, EIO);
  ::testing::internal::CaptureStderr();
  HttpReply r = Put(kS1, 0, bytes);
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(r.status, 503);  // the node retries later; the detail is for the operator's log
  EXPECT_NE(log.find("cannot write " + dir_ + "/recordings/" + kS1 + ".cast: Input/output error"),
            std::string::npos)
      << log;
  EXPECT_EQ(HeldBytes(kS1), 0u);
  EXPECT_EQ(Upload(kS1, bytes).status, 200);
}

TEST_F(SessionApiTest, FailedFsyncNeverAcknowledgesTheRecording) {
  const std::string bytes = Recording(kS1);
  ASSERT_EQ(Put(kS1, 0, bytes).status, 200);
  env_.FailNth(FaultOp::kSync, 1, EIO);
  ::testing::internal::CaptureStderr();
  HttpReply r = Complete(kS1, bytes.size(), HexEncode(Sha256(bytes)));
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(log.find("cannot fsync " + dir_ + "/recordings/" + kS1 + ".cast: Input/output error"),
            std::string::npos)
      << log;
  // Not acknowledged: still live, so the node keeps its copy.
  EXPECT_TRUE(store_->GetSession(kS1)->live);
  EXPECT_EQ(CountAudit("session.end", true), 0);
  // What a crash after that fsync leaves: the unsynced bytes are gone, and
  // gate-ca's answer (its size) tells the node to send them again.
  env_.DropUnsyncedData();
  EXPECT_EQ(HeldBytes(kS1), 0u);
  HttpReply resumed = Complete(kS1, bytes.size(), HexEncode(Sha256(bytes)));
  EXPECT_NE(resumed.status, 200);
  EXPECT_EQ(Upload(kS1, bytes).status, 200);
  EXPECT_FALSE(store_->GetSession(kS1)->live);
}

TEST_F(SessionApiTest, FailedDirectoryFsyncNeverAcknowledgesEither) {
  const std::string bytes = Recording(kS1);
  ASSERT_EQ(Put(kS1, 0, bytes).status, 200);
  env_.FailNth(FaultOp::kSync, 2, EIO);  // the file's fsync works, the directory's does not
  EXPECT_NE(Complete(kS1, bytes.size(), HexEncode(Sha256(bytes))).status, 200);
  EXPECT_TRUE(store_->GetSession(kS1)->live);
  EXPECT_EQ(Complete(kS1, bytes.size(), HexEncode(Sha256(bytes))).status, 200);
  EXPECT_EQ(files_->Read(kS1, 0, 1 << 20).value(), bytes);
}

TEST_F(SessionApiTest, CompleteBeforeEverythingArrivedTellsWhereToResume) {
  const std::string bytes = Recording(kS1);
  ASSERT_EQ(Put(kS1, 0, std::string_view(bytes).substr(0, 800)).status, 200);
  HttpReply r = Complete(kS1, bytes.size(), HexEncode(Sha256(bytes)));
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.body["size"].asUInt64(), 800u);
  EXPECT_EQ(HeldBytes(kS1), 800u);  // kept: nothing was wrong, only early
  // gate-ca holding more than the node says is a mismatch: start over.
  r = Complete(kS1, 100, HexEncode(Sha256(bytes.substr(0, 100))));
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.body["size"].asUInt64(), 0u);
  EXPECT_EQ(HeldBytes(kS1), 0u);
}

TEST_F(SessionApiTest, CompleteIsIdempotent) {
  const std::string bytes = Recording(kS1);
  HttpReply first = Upload(kS1, bytes);
  ASSERT_EQ(first.status, 200);
  HttpReply again = Complete(kS1, bytes.size(), HexEncode(Sha256(bytes)));
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(json::Write(again.body), json::Write(first.body));
  EXPECT_EQ(CountAudit("session.end", true), 1);  // audited once
  EXPECT_EQ(Complete(kS1, bytes.size(), std::string(64, '1')).status, 409);
  EXPECT_EQ(Complete(kS1, bytes.size() + 1, HexEncode(Sha256(bytes))).status, 409);
  // More bytes for a completed session are refused; the probe still answers.
  EXPECT_EQ(Put(kS1, bytes.size(), "more\n").status, 409);
  HttpReply probe = Put(kS1, bytes.size(), "");
  EXPECT_EQ(probe.status, 200);
  EXPECT_EQ(probe.body["size"].asUInt64(), bytes.size());
  EXPECT_EQ(HeldBytes(kS1), bytes.size());
}

TEST_F(SessionApiTest, CompleteRefusesBadRequests) {
  EXPECT_EQ(Complete(kS1, 10, std::string(64, 'a')).status, 404);  // unknown session
  const std::string bytes = Recording(kS1);
  ASSERT_EQ(Put(kS1, 0, bytes).status, 200);
  const std::string path = std::string("/v1/nodes/sessions/") + kS1 + "/complete";
  for (
      const char* body :
      {"", "{", "[]", R"({"size": 1})", R"({"sha256": "aa"})", R"({"size": "1", "sha256": "a"})",
       R"({"size": -1, "sha256": "0000000000000000000000000000000000000000000000000000000000000000"})",
       R"({"size": 1, "sha256": "ABCDEF0000000000000000000000000000000000000000000000000000000000"})",
       R"({"size": 1, "sha256": "abc"})", R"({"size": 1, "size": 2, "sha256": "a"})",
       R"({"size": 0, "sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"})"}) {
    EXPECT_EQ(PostJson(path, body).status, 400) << body;
  }
  EXPECT_TRUE(store_->GetSession(kS1)->live);
  EXPECT_EQ(HeldBytes(kS1), bytes.size());
}

TEST_F(SessionApiTest, UnverifiedRecordingsAreStoredFlaggedAndAudited) {
  // Node B has no recorder key registered.
  const std::string b = Recording(kS2, kNodeB);
  for (std::size_t off = 0; off < b.size(); off += 1000) {
    ASSERT_EQ(Put(kS2, off, std::string_view(b).substr(off, 1000), Bearer(kNodeB, kSecretB)).status,
              200);
  }
  HttpReply r = Complete(kS2, b.size(), HexEncode(Sha256(b)), Bearer(kNodeB, kSecretB));
  ASSERT_EQ(r.status, 200);
  EXPECT_FALSE(r.body["verified"].asBool());
  EXPECT_NE(r.body["verify_detail"].asString().find("no recorder key"), std::string::npos);
  EXPECT_FALSE(store_->GetSession(kS2)->live);
  EXPECT_EQ(CountAudit("session.verify", false), 1);

  // A tampered recording: the node's digest matches its (tampered) copy,
  // but the checkpoints do not.
  std::string bytes = Recording(kS1);
  const std::size_t pos = bytes.find("uid=0");
  ASSERT_NE(pos, std::string::npos);
  bytes[pos] = 'U';
  r = Upload(kS1, bytes);
  ASSERT_EQ(r.status, 200);
  EXPECT_FALSE(r.body["verified"].asBool());
  EXPECT_NE(r.body["verify_detail"].asString().find("does not match"), std::string::npos)
      << r.body["verify_detail"].asString();
  EXPECT_EQ(CountAudit("session.verify", false), 2);
}

TEST_F(SessionApiTest, CutShortRecordingIsVerifiedButNotComplete) {
  testing::RecordingScript script;
  script.finish = false;
  const std::string bytes = Recording(kS1, kNodeA, script);
  HttpReply r = Upload(kS1, bytes);
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(r.body["verified"].asBool());
  EXPECT_NE(r.body["verify_detail"].asString().find("cut short"), std::string::npos);
  EXPECT_EQ(store_->GetSession(kS1)->exit, "");
}

TEST_F(SessionApiTest, NodeLeavingClosesItsLiveUploadsAsCutShort) {
  // What gate-ca wires: DELETE /v1/nodes/self closes the node's live uploads.
  services_->node_leaving = [this](const NodeRecord& node, const std::string& source) {
    return ingest_->CloseLiveSessions(node, source);
  };
  const std::string bytes = Recording(kS1, kNodeA);
  const std::string held = bytes.substr(0, 700);
  ASSERT_EQ(Put(kS1, 0, held).status, 200);
  const std::string other = Recording(kS2, kNodeB);
  ASSERT_EQ(Put(kS2, 0, std::string_view(other).substr(0, 700), Bearer(kNodeB, kSecretB)).status,
            200);

  const NodeRecord node_a = store_->GetNode(kNodeA).value();
  Router nodes;
  RegisterNodeApi(nodes, *services_);
  HttpRequest leave;
  leave.method = "DELETE";
  leave.path = "/v1/nodes/self";
  leave.source = "192.0.2.7";
  leave.authorization = Bearer(kNodeA, kSecretA);
  ASSERT_EQ(nodes.Dispatch(leave).status, 200);

  auto row = store_->GetSession(kS1);
  ASSERT_TRUE(row.has_value());
  EXPECT_FALSE(row->live);
  EXPECT_FALSE(row->verified);
  EXPECT_EQ(row->verify_detail.rfind("cut short: the node left gate-ca", 0), 0u)
      << row->verify_detail;
  EXPECT_EQ(row->size, 700);
  EXPECT_EQ(row->sha256, HexEncode(Sha256(held)));
  EXPECT_EQ(CountAudit("session.end", true), 1);
  EXPECT_EQ(CountAudit("session.verify", false), 1);
  // Another node's upload goes on; a second close finds nothing to do; the
  // recording stays readable.
  EXPECT_TRUE(store_->GetSession(kS2)->live);
  EXPECT_TRUE(ingest_->CloseLiveSessions(node_a, "test").ok());
  EXPECT_EQ(CountAudit("session.end", true), 1);
  EXPECT_TRUE(store_->GetSession(kS2)->live);
  EXPECT_EQ(files_->Read(kS1, 0, 1 << 20).value(), held);
}

TEST_F(SessionApiTest, RetentionRemovesOnlyCompletedRecordingsOldEnough) {
  constexpr char kS3[] = "31111111-2222-4333-8444-555555555555";
  ASSERT_EQ(Upload(kS1, Recording(kS1)).status, 200);  // completed at kNow
  now_ = kNow + 100;
  ASSERT_EQ(Upload(kS2, Recording(kS2)).status, 200);  // completed at kNow + 100
  const std::string live = Recording(kS3);
  ASSERT_EQ(Put(kS3, 0, std::string_view(live).substr(0, 700)).status, 200);  // never completed
  now_ = kNow + 1000;

  Router admin;
  RegisterAdminSessionsApi(admin, *deps_);
  auto prune = [&](const std::string& body) {
    HttpRequest req;
    req.method = "POST";
    req.path = "/admin/v1/sessions/prune";
    req.body = body;
    req.content_type = "application/json";
    req.source = "unix:0";
    req.admin = true;
    return admin.Dispatch(req);
  };
  auto ids = [](const HttpReply& r) {
    std::vector<std::string> out;
    for (const auto& s : r.body["sessions"]) out.push_back(s["id"].asString());
    return out;
  };

  // Dry run: what is older than 950 s is listed, nothing goes.
  HttpReply dry = prune(R"({"older_than_seconds": 950, "dry_run": true})");
  ASSERT_EQ(dry.status, 200) << json::Write(dry.body);
  EXPECT_EQ(ids(dry), std::vector<std::string>{kS1});
  EXPECT_FALSE(dry.body["more"].asBool());
  EXPECT_TRUE(store_->GetSession(kS1).has_value());
  EXPECT_GT(HeldBytes(kS1), 0u);

  HttpReply done = prune(R"({"older_than_seconds": 950})");
  ASSERT_EQ(done.status, 200) << json::Write(done.body);
  EXPECT_EQ(ids(done), std::vector<std::string>{kS1});
  EXPECT_EQ(store_->GetSession(kS1).error().code(), Code::kNotFound);
  EXPECT_EQ(HeldBytes(kS1), 0u);  // no file
  EXPECT_EQ(CountAudit("session.delete", true), 1);
  // Younger, and live, sessions stay; everything completed can go.
  HttpReply all = prune(R"({"older_than_seconds": 0})");
  EXPECT_EQ(ids(all), std::vector<std::string>{kS2});
  EXPECT_TRUE(store_->GetSession(kS3)->live);
  EXPECT_EQ(HeldBytes(kS3), 700u);
  EXPECT_TRUE(ids(prune(R"({"older_than_seconds": 0})")).empty());

  for (const char* bad :
       {R"({})", R"({"older_than_seconds": -1})", R"({"older_than_seconds": "1"})",
        R"({"older_than_seconds": 1, "dry_run": 1})", R"({"older_than_seconds": 1, "extra": true})",
        "not json"}) {
    EXPECT_EQ(prune(bad).status, 400) << bad;
  }
}

TEST_F(SessionApiTest, PerSessionByteCap) {
  SessionLimits limits;
  limits.max_session_bytes = 1000;
  MakeIngest(limits);
  Rebuild();
  const std::string bytes = Recording(kS1);
  ASSERT_GT(bytes.size(), 1000u);
  ASSERT_EQ(Put(kS1, 0, std::string_view(bytes).substr(0, 900)).status, 200);
  HttpReply r = Put(kS1, 900, std::string_view(bytes).substr(900, 200));
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(HeldBytes(kS1), 900u);
  EXPECT_EQ(Put(kS1, 900, std::string_view(bytes).substr(900, 100)).status, 200);
}

TEST_F(SessionApiTest, PerNodeLiveSessionCap) {
  SessionLimits limits;
  limits.max_live_sessions_per_node = 1;
  MakeIngest(limits);
  Rebuild();
  const std::string one = Recording(kS1);
  ASSERT_EQ(Put(kS1, 0, one).status, 200);
  const std::string two = Recording(kS2);
  EXPECT_EQ(Put(kS2, 0, two).status, 429);
  EXPECT_EQ(store_->GetSession(kS2).error().code(), Code::kNotFound);
  ASSERT_EQ(Complete(kS1, one.size(), HexEncode(Sha256(one))).status, 200);
  EXPECT_EQ(Put(kS2, 0, two).status, 200);
}

TEST_F(SessionApiTest, RecorderKeyRegistration) {
  const auto key = ssh::Ed25519PrivateKey::Generate();
  Json::Value body;
  body["public_key"] = key->public_key().AuthorizedKey("gate-rec@web-1");
  HttpReply r =
      PostJson("/v1/nodes/recorder-key", json::Write(body), Bearer(kNodeB, kSecretB), "PUT");
  ASSERT_EQ(r.status, 200) << json::Write(r.body);
  EXPECT_EQ(r.body["fingerprint"].asString(), key->public_key().Fingerprint());
  EXPECT_EQ(store_->GetNode(kNodeB)->recorder_key, key->public_key().AuthorizedKey());
  EXPECT_EQ(CountAudit("node.recorder_key", true), 1);
  for (const char* bad : {"{}", R"({"public_key": "ssh-rsa AAAA"})", R"({"public_key": 1})"}) {
    EXPECT_EQ(PostJson("/v1/nodes/recorder-key", bad, Bearer(kNodeB, kSecretB), "PUT").status, 400)
        << bad;
  }
  EXPECT_EQ(PostJson("/v1/nodes/recorder-key", json::Write(body), "", "PUT").status, 401);
  EXPECT_EQ(store_->GetNode(kNodeB)->recorder_key, key->public_key().AuthorizedKey());
}

TEST_F(SessionApiTest, LargeBodiesOnlyForChunksFromJoinedNodes) {
  const std::string bearer = Bearer(kNodeA, kSecretA);
  const std::string path = std::string("/v1/nodes/sessions/") + kS1;
  EXPECT_TRUE(IsChunkUpload(*store_, "PUT", path, bearer));
  EXPECT_FALSE(IsChunkUpload(*store_, "POST", path, bearer));
  EXPECT_FALSE(IsChunkUpload(*store_, "PUT", path + "/complete", bearer));
  EXPECT_FALSE(IsChunkUpload(*store_, "PUT", "/v1/nodes/sessions/", bearer));
  EXPECT_FALSE(IsChunkUpload(*store_, "PUT", "/v1/login", bearer));
  EXPECT_FALSE(IsChunkUpload(*store_, "PUT", path, ""));
  EXPECT_FALSE(IsChunkUpload(*store_, "PUT", path, "Bearer nonsense"));
  // Well-formed but not a node's: a wrong secret, an unknown node.
  EXPECT_FALSE(IsChunkUpload(*store_, "PUT", path, Bearer(kNodeA, kSecretB)));
  EXPECT_FALSE(IsChunkUpload(*store_, "PUT", path, Bearer(kS2, kSecretA)));
}

// --- users: signed requests ----------------------------------------------------------

class SessionAccessTest : public SessionApiTest {
 protected:
  void SetUp() override {
    SessionApiTest::SetUp();
    policy::Role watchers;
    watchers.name = "prod-watchers";
    watchers.node_labels = {{"env", "prod"}};
    watchers.join_sessions = true;
    ASSERT_TRUE(store_->CreateRole(watchers).ok());
    policy::Role plain;
    plain.name = "prod-users";
    plain.node_labels = {{"env", "prod"}};
    ASSERT_TRUE(store_->CreateRole(plain).ok());
    AddUser("alice");
    AddUser("bob", {"prod-watchers"});
    AddUser("carol", {"prod-users"});
    alice_bytes_ = Recording(kS1, kNodeA, {}, "alice");
    ASSERT_EQ(Upload(kS1, alice_bytes_).status, 200);
    // carol on node B (env=dev): bob's role does not select it.
    const std::string carol = Recording(kS2, kNodeB, {}, "carol");
    ASSERT_EQ(Put(kS2, 0, carol, Bearer(kNodeB, kSecretB)).status, 200);
  }
  // dave, whose role may join sessions on every node: he sees them all.
  Identity AllSessionsWatcher() {
    policy::Role all;
    all.name = "all-watchers";
    all.join_sessions = true;
    EXPECT_TRUE(store_->CreateRole(all).ok());
    AddUser("dave", {"all-watchers"});
    return Cert("dave");
  }
  std::string alice_bytes_;
};

TEST_F(SessionAccessTest, OwnSessionsAndJoinRolesDecideWhatIsVisible) {
  EXPECT_EQ(ListedIds(Cert("alice")), std::vector<std::string>{kS1});
  EXPECT_EQ(ListedIds(Cert("bob")), std::vector<std::string>{kS1});    // via prod-watchers
  EXPECT_EQ(ListedIds(Cert("carol")), std::vector<std::string>{kS2});  // only her own
  HttpReply r = Get(Cert("alice"), "/v1/sessions");
  const Json::Value& s = r.body["sessions"][0];
  EXPECT_EQ(s["user"].asString(), "alice");
  EXPECT_EQ(s["login"].asString(), "root");
  EXPECT_EQ(s["node"].asString(), kNodeA);
  EXPECT_EQ(s["node_name"].asString(), "db-1");
  EXPECT_FALSE(s["live"].asBool());
  EXPECT_TRUE(s["verified"].asBool());
  EXPECT_EQ(s["exit"]["exit_status"].asInt(), 0);
  EXPECT_EQ(s["size"].asUInt64(), alice_bytes_.size());
}

TEST_F(SessionAccessTest, NodesAreThoseWithALoginAndHostNamesAreAll) {
  policy::Role dev;
  dev.name = "dev-admins";
  dev.logins = {"admin"};
  dev.node_labels = {{"env", "dev"}};
  ASSERT_TRUE(store_->CreateRole(dev).ok());
  ASSERT_TRUE(store_->SetNodePrincipals(kNodeB, {"web-1", "10.0.0.7"}).ok());
  AddUser("erin", {"dev-admins"});
  UserRecord no_own;
  no_own.name = "frank";
  no_own.roles = {"dev-admins"};
  ASSERT_TRUE(store_->CreateUser(no_own).ok());

  HttpReply r = Get(Cert("erin"), "/v1/nodes");
  ASSERT_EQ(r.status, 200) << json::Write(r.body);
  ASSERT_EQ(r.body["nodes"].size(), 2u);
  const Json::Value& db = r.body["nodes"][0];
  EXPECT_EQ(db["name"].asString(), "db-1");
  EXPECT_EQ(db["host_uuid"].asString(), kNodeA);
  EXPECT_EQ(db["labels"]["env"].asString(), "prod");
  EXPECT_EQ(json::Write(db["logins"]), R"(["erin"])");
  EXPECT_EQ(json::Write(db["principals"]), "[]");
  const Json::Value& web = r.body["nodes"][1];
  EXPECT_EQ(json::Write(web["logins"]), R"(["erin","admin"])");
  EXPECT_EQ(json::Write(web["principals"]), R"(["web-1","10.0.0.7"])");
  EXPECT_EQ(json::Write(r.body["host_names"]), R"(["db-1","web-1","10.0.0.7"])");

  // frank has no login of his own: only the node his role selects, yet the
  // names of every node (what his ssh may trust the host CA for).
  HttpReply f = Get(Cert("frank"), "/v1/nodes");
  ASSERT_EQ(f.status, 200) << json::Write(f.body);
  ASSERT_EQ(f.body["nodes"].size(), 1u);
  EXPECT_EQ(f.body["nodes"][0]["name"].asString(), "web-1");
  EXPECT_EQ(f.body["host_names"].size(), 3u);

  EXPECT_EQ(Get(Cert("erin"), "/v1/nodes?all=1").status, 400);
  HttpRequest unsigned_request;
  unsigned_request.method = "GET";
  unsigned_request.path = "/v1/nodes";
  unsigned_request.source = "198.51.100.7";
  EXPECT_EQ(router_->Dispatch(unsigned_request).status, 401);
}

TEST_F(SessionAccessTest, Filters) {
  const Identity dave = AllSessionsWatcher();
  EXPECT_EQ(ListedIds(dave), (std::vector<std::string>{kS2, kS1}));
  EXPECT_EQ(ListedIds(dave, "?live=1"), std::vector<std::string>{kS2});
  EXPECT_EQ(ListedIds(dave, "?live=0"), std::vector<std::string>{kS1});
  EXPECT_EQ(ListedIds(dave, "?user=carol"), std::vector<std::string>{kS2});
  EXPECT_EQ(ListedIds(dave, "?node=db-1"), std::vector<std::string>{kS1});
  EXPECT_EQ(ListedIds(dave, std::string("?node=") + kNodeB), std::vector<std::string>{kS2});
  EXPECT_EQ(ListedIds(dave, "?since=1700000001&live=0"), std::vector<std::string>{});
  EXPECT_EQ(ListedIds(dave, "?limit=1").size(), 1u);
  for (const char* bad : {"?live=2", "?limit=0", "?limit=1001", "?since=-5", "?user=a%20b",
                          "?colour=red", "?live", "?user=%zz", "?node=%0a"}) {
    EXPECT_EQ(Get(dave, std::string("/v1/sessions") + bad).status, 400) << bad;
  }
}

TEST_F(SessionAccessTest, PagesChainThroughNextBefore) {
  const Identity dave = AllSessionsWatcher();
  HttpReply first = Get(dave, "/v1/sessions?limit=1");
  ASSERT_EQ(first.status, 200) << json::Write(first.body);
  ASSERT_EQ(first.body["sessions"].size(), 1u);
  EXPECT_EQ(first.body["sessions"][0]["id"].asString(), kS2);
  const std::string next = first.body["next_before"].asString();
  ASSERT_FALSE(next.empty());
  HttpReply second = Get(dave, "/v1/sessions?limit=1&before=" + next);
  ASSERT_EQ(second.status, 200) << json::Write(second.body);
  ASSERT_EQ(second.body["sessions"].size(), 1u);
  EXPECT_EQ(second.body["sessions"][0]["id"].asString(), kS1);
  // The last page has no next page, full or not.
  EXPECT_FALSE(second.body.isMember("next_before"));
  EXPECT_FALSE(Get(dave, "/v1/sessions?limit=2").body.isMember("next_before"));
  EXPECT_FALSE(Get(dave, "/v1/sessions?limit=5").body.isMember("next_before"));
  for (const std::string& bad : std::vector<std::string>{
           "x", ".", "12.", ".x", "12.not-a-uuid", "-1." + std::string(kS1),
           "1234567890123456789." + std::string(kS1), "1x." + std::string(kS1)}) {
    HttpReply r = Get(dave, "/v1/sessions?before=" + bad);
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_NE(r.body["error"]["message"].asString().find("next_before"), std::string::npos) << bad;
  }
}

TEST_F(SessionAccessTest, OneSessionIsVisibleOrNotFound) {
  HttpReply r = Get(Cert("bob"), std::string("/v1/sessions/") + kS1);
  ASSERT_EQ(r.status, 200) << json::Write(r.body);
  EXPECT_EQ(r.body["id"].asString(), kS1);
  EXPECT_EQ(Get(Cert("carol"), std::string("/v1/sessions/") + kS1).status, 404);
  EXPECT_EQ(Get(Cert("bob"), std::string("/v1/sessions/") + kS2).status, 404);
  EXPECT_EQ(Get(Cert("bob"), "/v1/sessions/31111111-2222-4333-8444-555555555555").status, 404);
  EXPECT_EQ(Get(Cert("bob"), "/v1/sessions/nope").status, 400);
}

TEST_F(SessionAccessTest, RecordingBytesPagedAndAudited) {
  const Identity bob = Cert("bob");
  const std::string base = std::string("/v1/sessions/") + kS1 + "/recording";
  HttpReply r = Get(bob, base);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.raw_body, alice_bytes_);
  EXPECT_EQ(r.content_type, "application/x-asciicast");
  const auto has = [&](const HttpReply& reply, const std::string& name, const std::string& value) {
    return std::find(reply.headers.begin(), reply.headers.end(),
                     std::pair<std::string, std::string>(name, value)) != reply.headers.end();
  };
  EXPECT_TRUE(has(r, "X-Gate-Recording-Size", std::to_string(alice_bytes_.size())));
  EXPECT_TRUE(has(r, "X-Gate-Session-Live", "0"));
  EXPECT_EQ(CountAudit("session.play", true), 1);

  r = Get(bob, base + "?offset=10&limit=20");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.raw_body, alice_bytes_.substr(10, 20));
  EXPECT_EQ(CountAudit("session.play", true), 1);  // pages after the first are not
  r = Get(bob, base + "?offset=" + std::to_string(alice_bytes_.size()));
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(Get(bob, base + "?offset=" + std::to_string(alice_bytes_.size() + 1)).status, 400);
  EXPECT_EQ(Get(bob, base + "?limit=0").status, 400);
  EXPECT_EQ(Get(Cert("carol"), base).status, 404);
}

TEST_F(SessionAccessTest, ReadErrorIsA503NamingTheFileInTheLogAndChangesNothing) {
  const Identity bob = Cert("bob");
  const std::string base = std::string("/v1/sessions/") + kS1 + "/recording";
  env_.FailNth(FaultOp::kRead, 1, EIO);
  ::testing::internal::CaptureStderr();
  HttpReply r = Get(bob, base);
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(r.status, 503);
  EXPECT_TRUE(r.raw_body.empty());
  EXPECT_NE(log.find("cannot read " + dir_ + "/recordings/" + kS1 + ".cast: Input/output error"),
            std::string::npos)
      << log;
  EXPECT_EQ(HeldBytes(kS1), alice_bytes_.size());
  r = Get(bob, base);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.raw_body, alice_bytes_);
}

TEST_F(SessionAccessTest, LiveRecordingIsReadable) {
  HttpReply r = Get(Cert("carol"), std::string("/v1/sessions/") + kS2 + "/recording");
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(std::find(r.headers.begin(), r.headers.end(),
                        std::pair<std::string, std::string>("X-Gate-Session-Live", "1")) !=
              r.headers.end());
}

TEST_F(SessionAccessTest, MissingOrMalformedCredentialsAre401) {
  HttpRequest req = Signed(Cert("alice"), "/v1/sessions", now_);
  HttpRequest none = req;
  none.authorization.clear();
  none.signature.clear();
  EXPECT_EQ(router_->Dispatch(none).status, 401);
  HttpRequest no_sig = req;
  no_sig.signature.clear();
  EXPECT_EQ(router_->Dispatch(no_sig).status, 401);
  HttpRequest bearer = req;
  bearer.authorization = Bearer(kNodeA, kSecretA);
  EXPECT_EQ(router_->Dispatch(bearer).status, 401);
  HttpRequest garbage = req;
  garbage.authorization = "Gate-Cert !!!";
  EXPECT_EQ(router_->Dispatch(garbage).status, 401);
  EXPECT_GE(CountAudit("user.signed_request", false), 4);
}

TEST_F(SessionAccessTest, ExpiredOrNotYetValidCertificate) {
  EXPECT_EQ(Get(Cert("alice", *user_ca_, kNow - 7200, kNow - 1), "/v1/sessions").status, 401);
  EXPECT_EQ(Get(Cert("alice", *user_ca_, kNow + 100, kNow + 7200), "/v1/sessions").status, 401);
}

TEST_F(SessionAccessTest, CertificateFromAnotherCaOrAHostCertificate) {
  ssh::LocalSigner other(*ssh::Ed25519PrivateKey::Generate());
  EXPECT_EQ(Get(Cert("alice", other, kNow - 60, kNow + 3600), "/v1/sessions").status, 401);
  EXPECT_EQ(
      Get(Cert("alice", *user_ca_, kNow - 60, kNow + 3600, ssh::CertType::kHost), "/v1/sessions")
          .status,
      401);
}

TEST_F(SessionAccessTest, ReplayedNonceIsRefused) {
  const HttpRequest req = Signed(Cert("alice"), "/v1/sessions", now_);
  EXPECT_EQ(router_->Dispatch(req).status, 200);
  HttpReply replay = router_->Dispatch(req);
  EXPECT_EQ(replay.status, 401);
  EXPECT_NE(replay.body["error"]["message"].asString().find("replayed"), std::string::npos);
}

TEST_F(SessionAccessTest, SkewedTimestamps) {
  const Identity alice = Cert("alice");
  EXPECT_EQ(router_->Dispatch(Signed(alice, "/v1/sessions", now_ + 60)).status, 200);
  EXPECT_EQ(router_->Dispatch(Signed(alice, "/v1/sessions", now_ - 60)).status, 200);
  EXPECT_EQ(router_->Dispatch(Signed(alice, "/v1/sessions", now_ + 61)).status, 401);
  EXPECT_EQ(router_->Dispatch(Signed(alice, "/v1/sessions", now_ - 61)).status, 401);
}

TEST_F(SessionAccessTest, SignatureCoversMethodAndTarget) {
  const Identity alice = Cert("alice");
  HttpRequest req = Signed(alice, "/v1/sessions?live=1", now_);
  req.query = "live=0";
  EXPECT_EQ(router_->Dispatch(req).status, 401);
  req = Signed(alice, "/v1/sessions", now_);
  req.path = std::string("/v1/sessions/") + kS1;
  EXPECT_EQ(router_->Dispatch(req).status, 401);
  // Another key's signature with alice's certificate.
  const Identity other = Cert("alice");
  req = Signed(alice, "/v1/sessions", now_);
  req.authorization = Signed(other, "/v1/sessions", now_).authorization;
  EXPECT_EQ(router_->Dispatch(req).status, 401);
}

TEST_F(SessionAccessTest, RevokedLockedOrDeletedUsers) {
  const Identity alice = Cert("alice");
  EXPECT_EQ(Get(alice, "/v1/sessions").status, 200);
  ASSERT_TRUE(RevocationService(*store_).RevokeCertificate(alice.serial, now_).has_value());
  EXPECT_EQ(Get(alice, "/v1/sessions").status, 401);

  const Identity bob = Cert("bob");
  ASSERT_TRUE(store_->SetLock({"bob", 0, "on leave", now_}).ok());
  EXPECT_EQ(Get(bob, "/v1/sessions").status, 403);
  ASSERT_TRUE(store_->DeleteLock("bob").ok());
  EXPECT_EQ(Get(bob, "/v1/sessions").status, 200);

  const Identity carol = Cert("carol");
  ASSERT_TRUE(store_->DeleteUser("carol").ok());
  EXPECT_EQ(Get(carol, "/v1/sessions").status, 401);
}

TEST_F(SessionAccessTest, RateLimitedPerSource) {
  signed_limiter_ = std::make_unique<RateLimiter>(0, 2);
  users_ = std::make_unique<RequestAuthenticator>(*store_, *audit_, user_ca_->public_key(),
                                                  *signed_limiter_, RequestAuthOptions{},
                                                  [this] { return now_; });
  Rebuild();
  const Identity alice = Cert("alice");
  EXPECT_EQ(Get(alice, "/v1/sessions").status, 200);
  EXPECT_EQ(Get(alice, "/v1/sessions").status, 200);
  EXPECT_EQ(Get(alice, "/v1/sessions").status, 429);
}

// --- pieces ---------------------------------------------------------------------------

TEST(NonceCacheTest, FreshReplayExpiryAndFull) {
  NonceCache cache(2);
  EXPECT_EQ(cache.Insert("a", 100, 0), NonceCache::Outcome::kFresh);
  EXPECT_EQ(cache.Insert("a", 100, 50), NonceCache::Outcome::kReplay);
  EXPECT_EQ(cache.Insert("b", 200, 50), NonceCache::Outcome::kFresh);
  EXPECT_EQ(cache.Insert("c", 200, 50), NonceCache::Outcome::kFull);    // never forgets early
  EXPECT_EQ(cache.Insert("c", 200, 100), NonceCache::Outcome::kFresh);  // "a" expired
  EXPECT_EQ(cache.Insert("a", 300, 100), NonceCache::Outcome::kFull);
  EXPECT_EQ(cache.size(), 2u);
}

TEST(QueryTest, ParsesStrictly) {
  auto q = ParseQuery("live=1&user=al%40ice&node=db+1", {"live", "user", "node"});
  ASSERT_TRUE(q.has_value()) << q.error().ToString();
  EXPECT_EQ(q->at("user"), "al@ice");
  EXPECT_EQ(q->at("node"), "db 1");
  EXPECT_TRUE(ParseQuery("", {})->empty());
  for (const char* bad :
       {"x=1", "live", "=1", "live=1&live=0", "live=%4", "live=%zz", "live=%00", "live=1&"}) {
    EXPECT_EQ(ParseQuery(bad, {"live"}).error().code(), Code::kInvalidArgument) << bad;
  }
  EXPECT_FALSE(ParseQuery(std::string(5000, 'a'), {"a"}).has_value());
  QueryParams p{{"n", "42"}, {"z", "0"}, {"big", "1234567890123456789"}, {"neg", "-1"}};
  EXPECT_EQ(*QueryNumber(p, "n", 7), 42u);
  EXPECT_EQ(*QueryNumber(p, "z", 7), 0u);
  EXPECT_EQ(*QueryNumber(p, "absent", 7), 7u);
  EXPECT_FALSE(QueryNumber(p, "big", 0).has_value());
  EXPECT_FALSE(QueryNumber(p, "neg", 0).has_value());
}

TEST(RecordingSummaryTest, JoinsExitAndMalformedJoins) {
  const std::string dir = fs::temp_directory_path() / ("gate-summary-" + std::to_string(getpid()));
  fs::create_directories(dir);
  const auto key = ssh::Ed25519PrivateKey::Generate();
  testing::RecordingScript script;
  script.joins = {Join("join", "bob", "peer"), "not json", R"({"event":"dance","user":"x"})",
                  Join("join", "bad user!"), Join("leave", "bob", "peer")};
  script.exit = R"({"signal":"HUP"})";
  const std::string bytes =
      testing::WriteRecording(dir + "/r.cast", testing::TestHeader(kS1, kNodeA), *key, script);
  RecordingSummary s = SummarizeRecording(bytes, key->public_key().AuthorizedKey());
  EXPECT_TRUE(s.verified);
  EXPECT_EQ(s.verify_detail, "complete");
  ASSERT_EQ(s.joins.size(), 2u);
  EXPECT_TRUE(s.joins[0].join);
  EXPECT_EQ(s.joins[0].user, "bob");
  EXPECT_EQ(s.joins[0].mode, "peer");
  EXPECT_FALSE(s.joins[1].join);
  EXPECT_EQ(s.malformed_joins, 3u);
  EXPECT_EQ(s.exit, R"({"signal":"HUP"})");
  EXPECT_GT(s.duration, 1.0);
  EXPECT_TRUE(s.parse_error.empty());

  // Another key; no key; garbage.
  const auto other = ssh::Ed25519PrivateKey::Generate();
  EXPECT_FALSE(SummarizeRecording(bytes, other->public_key().AuthorizedKey()).verified);
  EXPECT_FALSE(SummarizeRecording(bytes, "").verified);
  RecordingSummary junk = SummarizeRecording("junk", key->public_key().AuthorizedKey());
  EXPECT_FALSE(junk.verified);
  EXPECT_FALSE(junk.parse_error.empty());
  // Bytes after the last checkpoint are not covered.
  RecordingSummary tail =
      SummarizeRecording(bytes + "[9.0, \"o\", \"x\"]\n", key->public_key().AuthorizedKey());
  EXPECT_FALSE(tail.verified);
  EXPECT_NE(tail.verify_detail.find("not covered"), std::string::npos) << tail.verify_detail;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace gate::ca
