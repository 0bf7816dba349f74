// gate-node otp-relay's server side: the one mapping from gate-ca's answer to
// a verdict, a connection answered end to end against a real TLS server on
// loopback standing in for gate-ca, the caller check, bad requests, and the
// accept loop with its stop descriptor. pam_gate's side is
// tests/unit/pam_module/otp_central_test.cc; the real chain is
// tests/integration/test_pam_central.py.
#include "sshd-hooks/node/otp_relay_server.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "common/test_util.h"
#include "gate/json.h"
#include "gate/node_state.h"
#include "gate/unique_fd.h"
#include "gate/unix_socket.h"
#include "libgate/http_test_server.h"

namespace gate::hooks {
namespace {

using gate::testing::KeyAndCert;
using gate::testing::MakeCert;
using gate::testing::TempDir;
using gate::testing::TestServer;
using namespace std::chrono_literals;

constexpr char kUuid[] = "4a6f0c1e-9b2d-4c3e-8f10-0123456789ab";

HttpResponse Reply(long status, const std::string& body_json = "") {
  HttpResponse r;
  r.status = status;
  if (!body_json.empty()) r.body = json::Parse(body_json).value();
  return r;
}

TEST(VerdictFromGateCaTest, Table) {
  struct Case {
    Result<HttpResponse> reply;
    OtpVerdict want;
  };
  HttpResponse array = Reply(200);
  array.body = Json::Value(Json::arrayValue);
  array.body.append(true);
  const std::vector<Case> cases = {
      {Reply(200, R"({"user": "alice", "ok": true})"), OtpVerdict::kAccepted},
      // Only an explicit yes about this very user.
      {Reply(200, R"({"user": "bob", "ok": true})"), OtpVerdict::kError},
      {Reply(200, R"({"user": "alice", "ok": false})"), OtpVerdict::kError},
      {Reply(200, R"({"user": "alice", "ok": "true"})"), OtpVerdict::kError},
      {Reply(200, R"({"ok": true})"), OtpVerdict::kError},
      {array, OtpVerdict::kError},
      {Reply(200), OtpVerdict::kError},
      {Reply(204), OtpVerdict::kError},
      {Reply(401, R"({"error": {"code": "UNAUTHENTICATED", "message": "invalid OTP code"}})"),
       OtpVerdict::kRefused},
      {Reply(401), OtpVerdict::kRefused},
      {Reply(403), OtpVerdict::kRefused},  // admin lock
      {Reply(429), OtpVerdict::kLockedOut},
      {Reply(500), OtpVerdict::kUnavailable},
      {Reply(503), OtpVerdict::kUnavailable},
      {Reply(400), OtpVerdict::kError},
      {Reply(404), OtpVerdict::kError},
      {Reply(302), OtpVerdict::kError},
      {Err(Unavailable("cannot reach https://grav-00:3080: Connection refused")),
       OtpVerdict::kUnavailable},
      {Err(DataLoss("invalid response")), OtpVerdict::kError},
      {Err(Internal("curl_easy_init failed")), OtpVerdict::kError},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(VerdictFromGateCa(cases[i].reply, "alice"), cases[i].want) << "case " << i;
  }
}

class OtpRelayTest : public ::testing::Test {
 protected:
  OtpRelayTest() : leaf_(MakeCert({"gate-ca", "IP:127.0.0.1"})) {
    // The stand-in server may write to a client that has already hung up
    // (a pin mismatch); gate-node otp-relay ignores SIGPIPE the same way.
    ::signal(SIGPIPE, SIG_IGN);
    options_.data_dir = dir_.path();
    options_.allowed_uid = ::geteuid();
    options_.read_timeout = 2000ms;
  }

  // node.json pointing at proxy, pinned to the test server's key.
  void WriteNode(const std::string& proxy) {
    NodeState node;
    node.proxy = proxy;
    node.ca_pin = leaf_.Pin();
    node.host_uuid = kUuid;
    node.node_secret = SecretString(std::string(64, 'f'));
    ASSERT_TRUE(WriteNodeState(dir_.File(kNodeStateFile), node).ok());
  }

  // Sends request on one end of a socket pair, lets the relay answer the
  // other end, returns the reply line.
  std::string Exchange(const std::string& request) {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    UniqueFd client(fds[0]);
    EXPECT_EQ(::write(client.get(), request.data(), request.size()),
              static_cast<ssize_t>(request.size()));
    OtpRelay(options_).HandleConnection(fds[1]);  // takes fds[1]
    std::string reply;
    char buf[1024];
    ssize_t n;
    while ((n = ::read(client.get(), buf, sizeof buf)) > 0)
      reply.append(buf, static_cast<std::size_t>(n));
    return reply;
  }

  static TestServer::Options Answering(const KeyAndCert* tls, const std::string& status_line,
                                       const std::string& body) {
    TestServer::Options o;
    o.tls = tls;
    o.response = status_line + "\r\nContent-Type: application/json\r\nContent-Length: " +
                 std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
    return o;
  }

  TempDir dir_;
  KeyAndCert leaf_;
  OtpRelayOptions options_;
};

TEST_F(OtpRelayTest, AcceptedCodeAndWhatGateCaWasAsked) {
  TestServer server(Answering(&leaf_, "HTTP/1.1 200 OK", R"({"user":"alice","ok":true})"));
  WriteNode("127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(Exchange("verify alice 123456 2000\n"), "accepted alice code accepted\n");
  const std::string& asked = server.request();
  EXPECT_EQ(asked.rfind("POST /v1/nodes/otp/verify HTTP/1.1\r\n", 0), 0u) << asked;
  EXPECT_NE(asked.find(std::string("Bearer ") + kUuid + "." + std::string(64, 'f')),
            std::string::npos);
  EXPECT_NE(asked.find(R"("code":"123456")"), std::string::npos) << asked;
  EXPECT_NE(asked.find(R"("user":"alice")"), std::string::npos) << asked;
}

TEST_F(OtpRelayTest, WrongCodeIsRefusedAndTheCodeIsNotEchoed) {
  TestServer server(
      Answering(&leaf_, "HTTP/1.1 401 Unauthorized",
                R"({"error":{"code":"UNAUTHENTICATED","message":"invalid OTP code"}})"));
  WriteNode("127.0.0.1:" + std::to_string(server.port()));
  const std::string reply = Exchange("verify alice 654321 2000\n");
  EXPECT_EQ(reply.rfind("refused alice ", 0), 0u) << reply;
  EXPECT_EQ(reply.find("654321"), std::string::npos) << reply;
}

TEST_F(OtpRelayTest, WrongServerKeyIsUnavailable) {
  const KeyAndCert other = MakeCert({"impostor", "IP:127.0.0.1"});
  TestServer server(Answering(&other, "HTTP/1.1 200 OK", R"({"user":"alice","ok":true})"));
  WriteNode("127.0.0.1:" + std::to_string(server.port()));
  const std::string reply = Exchange("verify alice 123456 2000\n");
  EXPECT_EQ(reply.rfind("unavailable alice ", 0), 0u) << reply;
}

TEST_F(OtpRelayTest, SilentGateCaIsUnavailableWithinTheRequestsTimeout) {
  TestServer::Options o;
  o.mode = TestServer::Mode::kNeverAnswer;
  o.tls = &leaf_;
  TestServer server(o);
  WriteNode("127.0.0.1:" + std::to_string(server.port()));
  const std::string reply = Exchange("verify alice 123456 300\n");
  EXPECT_EQ(reply.rfind("unavailable alice ", 0), 0u) << reply;
  EXPECT_NE(reply.find("timed out"), std::string::npos) << reply;
}

TEST_F(OtpRelayTest, MissingOrUnsafeNodeCredentialsAreAnError) {
  std::string reply = Exchange("verify alice 123456 2000\n");
  EXPECT_EQ(reply.rfind("error alice cannot use the node credentials", 0), 0u) << reply;
  WriteNode("127.0.0.1:1");
  ASSERT_EQ(::chmod(dir_.File(kNodeStateFile).c_str(), 0644), 0);  // the secret is readable
  reply = Exchange("verify alice 123456 2000\n");
  EXPECT_EQ(reply.rfind("error alice cannot use the node credentials", 0), 0u) << reply;
}

TEST_F(OtpRelayTest, OnlyTheAllowedUidMayAsk) {
  WriteNode("127.0.0.1:1");
  options_.allowed_uid = ::geteuid() + 1;
  const std::string reply = Exchange("verify alice 123456 2000\n");
  EXPECT_EQ(reply.rfind("error - caller uid " + std::to_string(::geteuid()) + " may not ask", 0),
            0u)
      << reply;
}

TEST_F(OtpRelayTest, BadRequestsAreErrorsThatNeverEchoTheCode) {
  WriteNode("127.0.0.1:1");
  options_.read_timeout = 100ms;  // for the line that never ends
  const std::vector<std::string> requests = {
      "verify alice 12x456 2000\n",       "verify alice 123456\n",
      "check alice 123456 2000\n",        "verify -alice 123456 2000\n",
      "verify alice 123456 0\n",          "verify alice 123456 60001\n",
      "verify alice 123456 2000 extra\n", "verify alice  123456 2000\n",
      std::string(600, 'a') + "\n",       "verify alice 999888"};
  for (const std::string& request : requests) {
    const std::string reply = Exchange(request);
    EXPECT_EQ(reply.rfind("error - bad request", 0), 0u) << request << " -> " << reply;
    EXPECT_EQ(reply.find("999888"), std::string::npos) << reply;
    EXPECT_EQ(reply.find("123456"), std::string::npos) << reply;
  }
}

TEST_F(OtpRelayTest, CallerThatSendsNothingIsDropped) {
  options_.read_timeout = 50ms;
  EXPECT_EQ(Exchange("").rfind("error - bad request", 0), 0u);
}

TEST_F(OtpRelayTest, ServesOnItsSocketUntilStopped) {
  TestServer server(Answering(&leaf_, "HTTP/1.1 200 OK", R"({"user":"alice","ok":true})"));
  WriteNode("127.0.0.1:" + std::to_string(server.port()));
  const std::string path = dir_.File("relay.sock");
  auto listener = ListenUnix(path, 0600);
  ASSERT_TRUE(listener.has_value()) << listener.error().ToString();
  const int listen_fd = listener->fd.get();
  struct stat st {};
  ASSERT_EQ(::lstat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);

  UniqueFd stop(::eventfd(0, EFD_CLOEXEC));
  OtpRelay relay(options_);
  Status served = Internal("not run");
  std::thread serving([&] { served = relay.Serve(listen_fd, stop.get()); });

  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  UniqueFd client(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(::connect(client.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_TRUE(WriteOtpRelayLine(client.get(), "verify alice 123456 2000\n",
                                std::chrono::steady_clock::now() + 5s)
                  .ok());
  auto line = ReadOtpRelayLine(client.get(), std::chrono::steady_clock::now() + 10s);
  ASSERT_TRUE(line.has_value()) << line.error().ToString();
  EXPECT_EQ(line->view(), "accepted alice code accepted");

  const std::uint64_t one = 1;
  ASSERT_EQ(::write(stop.get(), &one, sizeof one), static_cast<ssize_t>(sizeof one));
  serving.join();
  EXPECT_TRUE(served.ok()) << served.ToString();
}

TEST(OtpRelaySocketTest, RootOnlyAndNeverStolenFromARunningRelay) {
  // gate-node otp-relay --socket: what it binds is 0600 from the start; a
  // stale socket (a relay that died) is replaced, a live one and anything
  // that is not a socket are not.
  TempDir dir;
  const std::string path = dir.File("relay.sock");
  {
    auto first = ListenUnix(path, 0600);
    ASSERT_TRUE(first.has_value()) << first.error().ToString();
    struct stat st {};
    ASSERT_EQ(::lstat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    auto second = ListenUnix(path, 0600);
    ASSERT_FALSE(second.has_value());
    EXPECT_EQ(second.error().code(), Code::kAlreadyExists);
  }  // closed: the socket file stays behind, as after a crash
  auto again = ListenUnix(path, 0600);
  ASSERT_TRUE(again.has_value()) << again.error().ToString();
  gate::testing::WriteFile(dir.File("file"), "keep me", 0600);
  auto refused = ListenUnix(dir.File("file"), 0600);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), Code::kFailedPrecondition);
  EXPECT_EQ(gate::testing::ReadFile(dir.File("file")), "keep me");
}

}  // namespace
}  // namespace gate::hooks
