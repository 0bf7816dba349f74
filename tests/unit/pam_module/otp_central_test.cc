// The central OTP factor's pieces: reading the node's credentials, the
// client it builds from them, and the one mapping from gate-ca's answer to an
// Outcome. The round trip through a real gate-ca is
// tests/integration/test_pam_central.py.
#include "pam_module/otp_central.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/test_util.h"
#include "gate/json.h"
#include "gate/node_state.h"

namespace gate::pam {
namespace {

using testing::TempDir;
using testing::WriteFile;

constexpr char kUuid[] = "4a6f0c1e-9b2d-4c3e-8f10-0123456789ab";

NodeState SampleNode(const std::string& proxy = "grav-00:3080") {
  NodeState node;
  node.proxy = proxy;
  node.ca_pin = "sha256:" + std::string(64, 'a');
  node.host_uuid = kUuid;
  node.node_secret = SecretString(std::string(64, 'f'));
  return node;
}

HttpResponse Reply(long status, const std::string& body_json = "") {
  HttpResponse r;
  r.status = status;
  if (!body_json.empty()) r.body = json::Parse(body_json).value();
  return r;
}

HttpResponse ArrayReply() {
  HttpResponse r;
  r.status = 200;
  r.body = Json::Value(Json::arrayValue);
  r.body.append(true);
  return r;
}

TEST(CentralOutcomeTest, Table) {
  struct Case {
    Result<HttpResponse> reply;
    Outcome want;
  };
  const std::vector<Case> cases = {
      {Reply(200, R"({"user": "alice", "ok": true})"), Outcome::kSuccess},
      // Only an explicit yes about this very user.
      {Reply(200, R"({"user": "bob", "ok": true})"), Outcome::kError},
      {Reply(200, R"({"user": "alice", "ok": false})"), Outcome::kError},
      {Reply(200, R"({"user": "alice", "ok": "true"})"), Outcome::kError},
      {Reply(200, R"({"ok": true})"), Outcome::kError},
      {ArrayReply(), Outcome::kError},
      {Reply(200), Outcome::kError},
      {Reply(204), Outcome::kError},
      {Reply(401, R"({"error": {"code": "UNAUTHENTICATED", "message": "invalid OTP code"}})"),
       Outcome::kFailure},
      {Reply(401), Outcome::kFailure},
      {Reply(403), Outcome::kFailure},  // admin lock
      {Reply(429), Outcome::kLockedOut},
      {Reply(500), Outcome::kUnavailable},
      {Reply(502), Outcome::kUnavailable},
      {Reply(503), Outcome::kUnavailable},
      {Reply(400), Outcome::kError},
      {Reply(404), Outcome::kError},
      {Reply(409), Outcome::kError},
      {Reply(302), Outcome::kError},
      {Err(Unavailable("cannot reach https://grav-00:3080: Connection refused")),
       Outcome::kUnavailable},
      {Err(DataLoss("invalid response")), Outcome::kError},
      {Err(InvalidArgument("bearer token")), Outcome::kError},
      {Err(Internal("curl_easy_init failed")), Outcome::kError},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(CentralOutcome(cases[i].reply, "alice"), cases[i].want) << "case " << i;
  }
}

TEST(CentralOtpTest, ClientUsesTheNodesTrustCredentialsAndTimeout) {
  HttpClientOptions o = CentralClientOptions(SampleNode(), std::chrono::milliseconds(750));
  EXPECT_EQ(o.base_url, "https://grav-00:3080");
  EXPECT_EQ(o.ca_pin, SampleNode().ca_pin);
  EXPECT_FALSE(o.insecure);
  EXPECT_EQ(o.bearer_token.view(), std::string(kUuid) + "." + std::string(64, 'f'));
  EXPECT_EQ(o.timeout, std::chrono::milliseconds(750));
}

TEST(CentralOtpTest, NodeCredentialsMustBeASafeFile) {
  TempDir dir;
  EXPECT_EQ(ReadNodeCredentials(dir.path()).error().code(), Code::kNotFound);
  const std::string path = dir.File(kNodeStateFile);
  ASSERT_TRUE(WriteNodeState(path, SampleNode()).ok());
  auto node = ReadNodeCredentials(dir.path());
  ASSERT_TRUE(node.has_value()) << node.error().ToString();
  EXPECT_EQ(node->host_uuid, kUuid);
  WriteFile(path, json::Write(NodeStateToJson(SampleNode())), 0644);  // the secret is readable
  EXPECT_EQ(ReadNodeCredentials(dir.path()).error().code(), Code::kPermissionDenied);
  WriteFile(path, "{", 0600);
  EXPECT_EQ(ReadNodeCredentials(dir.path()).error().code(), Code::kDataLoss);
}

class ScriptedConversation : public Conversation {
 public:
  bool PromptSecret(const std::string& prompt, std::string* answer) override {
    prompts.push_back(prompt);
    if (!answer_) return false;
    *answer = *answer_;
    return true;
  }
  void Info(const std::string&) override {}
  void Error(const std::string&) override {}

  std::optional<std::string> answer_;
  std::vector<std::string> prompts;
};

// A port on loopback that refuses connections: bound, never listening.
class ClosedPort {
 public:
  ClosedPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      std::abort();
    }
    port_ = ntohs(addr.sin_port);
  }
  ~ClosedPort() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST(CentralOtpTest, UnreadableCredentialsAreAnErrorBeforeAnyPrompt) {
  TempDir dir;
  Options options;
  options.node_dir = dir.path();
  ScriptedConversation conv;
  conv.answer_ = "123456";
  FactorContext context{options, conv, "alice", "alice", {}};
  EXPECT_EQ(MakeCentralOtp()->Authenticate(context), Outcome::kError);
  EXPECT_TRUE(conv.prompts.empty());
}

TEST(CentralOtpTest, UnreachableGateCaIsUnavailable) {
  TempDir dir;
  ClosedPort port;
  ASSERT_TRUE(WriteNodeState(dir.File(kNodeStateFile),
                             SampleNode("127.0.0.1:" + std::to_string(port.port())))
                  .ok());
  Options options;
  options.node_dir = dir.path();
  options.timeout = std::chrono::milliseconds(500);
  ScriptedConversation conv;
  conv.answer_ = "123456";
  FactorContext context{options, conv, "root", "alice", {}};
  EXPECT_EQ(MakeCentralOtp()->Authenticate(context), Outcome::kUnavailable);
  EXPECT_EQ(conv.prompts, std::vector<std::string>{kOtpPrompt});
}

TEST(CentralOtpTest, NoAnswerIsAnError) {
  TempDir dir;
  ClosedPort port;
  ASSERT_TRUE(WriteNodeState(dir.File(kNodeStateFile),
                             SampleNode("127.0.0.1:" + std::to_string(port.port())))
                  .ok());
  Options options;
  options.node_dir = dir.path();
  ScriptedConversation conv;  // no answer: the application's conversation failed
  FactorContext context{options, conv, "alice", "alice", {}};
  EXPECT_EQ(MakeCentralOtp()->Authenticate(context), Outcome::kError);
}

}  // namespace
}  // namespace gate::pam
