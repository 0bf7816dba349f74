#include "gate/http_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "gate/curl_http.h"
#include "gate/unique_fd.h"

namespace gate {
namespace {

constexpr Code kAllCodes[] = {
    Code::kOk,
    Code::kInvalidArgument,
    Code::kNotFound,
    Code::kAlreadyExists,
    Code::kPermissionDenied,
    Code::kUnauthenticated,
    Code::kResourceExhausted,
    Code::kFailedPrecondition,
    Code::kDataLoss,
    Code::kUnavailable,
    Code::kInternal,
};

// A one-shot HTTP server: accepts a single connection on a loopback TCP port
// or a Unix socket, records the request, sends a canned response, closes.
class OneShotServer {
 public:
  // TCP on 127.0.0.1, kernel-chosen port.
  explicit OneShotServer(std::string response) : response_(std::move(response)) {
    listener_.Reset(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(listener_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    socklen_t len = sizeof(addr);
    EXPECT_EQ(getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&addr), &len), 0);
    port_ = ntohs(addr.sin_port);
    Start();
  }

  // Unix socket at path.
  OneShotServer(std::string response, const std::string& path) : response_(std::move(response)) {
    listener_.Reset(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    EXPECT_LT(path.size(), sizeof(addr.sun_path));
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    EXPECT_EQ(bind(listener_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    Start();
  }

  ~OneShotServer() {
    if (thread_.joinable()) thread_.join();
  }

  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // Valid once the client call has returned (the thread is joined first).
  const std::string& request() {
    if (thread_.joinable()) thread_.join();
    return request_;
  }

 private:
  void Start() {
    EXPECT_EQ(listen(listener_.get(), 1), 0);
    thread_ = std::thread([this] { Serve(); });
  }

  // Waits at most 10 s for fd to become readable, so a failing test cannot
  // hang the suite.
  static bool WaitReadable(int fd) {
    pollfd p{fd, POLLIN, 0};
    return poll(&p, 1, 10000) == 1;
  }

  void Serve() {
    if (!WaitReadable(listener_.get())) return;
    UniqueFd conn(accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!conn.valid()) return;
    std::size_t header_end = std::string::npos;
    std::size_t content_length = 0;
    char buf[4096];
    for (;;) {
      if (header_end != std::string::npos && request_.size() >= header_end + 4 + content_length) {
        break;
      }
      if (!WaitReadable(conn.get())) return;
      ssize_t n = recv(conn.get(), buf, sizeof(buf), 0);
      if (n <= 0) return;
      request_.append(buf, static_cast<std::size_t>(n));
      if (header_end == std::string::npos) {
        header_end = request_.find("\r\n\r\n");
        if (header_end != std::string::npos) {
          std::size_t cl = request_.find("Content-Length: ");
          if (cl != std::string::npos && cl < header_end) {
            content_length = std::stoul(request_.substr(cl + 16));
          }
        }
      }
    }
    std::string_view rest(response_);
    while (!rest.empty()) {
      // MSG_NOSIGNAL: the client may hang up early (oversize test).
      ssize_t n = send(conn.get(), rest.data(), rest.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      rest.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  std::string response_;
  UniqueFd listener_;
  std::uint16_t port_ = 0;
  std::string request_;
  std::thread thread_;
};

std::string HttpResponseText(int status, const std::string& reason, const std::string& body,
                             const std::string& extra_headers = "") {
  return "HTTP/1.1 " + std::to_string(status) + " " + reason +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n" + extra_headers + "\r\n" + body;
}

class HttpClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // The requests below go to loopback; a proxy from the environment
    // must not intercept them.
    for (const char* v :
         {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"}) {
      unsetenv(v);
    }
  }

  static HttpClient Client(const std::string& base_url) {
    HttpClientOptions o;
    o.base_url = base_url;
    o.timeout = std::chrono::milliseconds(5000);
    return CurlHttpClient(o);
  }
};

// HttpClient on an injected transport: what it hands over, and what it
// refuses before the transport is ever called.
class RecordingTransport final : public HttpTransport {
 public:
  Result<HttpRawResponse> Perform(const HttpClientOptions& options,
                                  const HttpTransfer& transfer) const override {
    ++calls;
    base_url = options.base_url;
    method = std::string(transfer.method);
    target = std::string(transfer.target);
    payload = transfer.payload != nullptr ? *transfer.payload : "";
    return HttpRawResponse{200, "application/json", "{\"ok\":true}"};
  }
  mutable int calls = 0;
  mutable std::string base_url, method, target, payload;
};

TEST(HttpClientTransportTest, SendsThroughTheInjectedTransport) {
  auto transport = std::make_shared<RecordingTransport>();
  HttpClientOptions o;
  o.base_url = "https://ca.example";
  HttpClient client(o, transport);
  Json::Value body;
  body["x"] = 1;
  auto r = client.Call("POST", "/v1/things", &body);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_TRUE((*r)["ok"].asBool());
  EXPECT_EQ(transport->calls, 1);
  EXPECT_EQ(transport->base_url, "https://ca.example");
  EXPECT_EQ(transport->method, "POST");
  EXPECT_EQ(transport->target, "/v1/things");
  EXPECT_NE(transport->payload.find("\"x\""), std::string::npos);
}

TEST(HttpClientTransportTest, InvalidRequestsNeverReachTheTransport) {
  auto transport = std::make_shared<RecordingTransport>();
  HttpClientOptions o;
  o.base_url = "https://ca.example";
  o.bearer_token = SecretString("tok\r\nX-Evil: 1");
  EXPECT_EQ(HttpClient(o, transport).Request("GET", "/").error().code(), Code::kInvalidArgument);
  o.bearer_token = SecretString("");
  EXPECT_EQ(HttpClient(o, transport).Request("get", "/").error().code(), Code::kInvalidArgument);
  EXPECT_EQ(transport->calls, 0);
}

TEST(HttpClientTransportTest, NoTransportFailsClosed) {
  HttpClientOptions o;
  o.base_url = "https://ca.example";
  auto r = HttpClient(o, nullptr).Request("GET", "/");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Code::kInternal);
}

TEST(PinToCurlTest, Valid) {
  EXPECT_EQ(PinToCurl("sha256:" + std::string(64, '0')).value(),
            "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
  // sha256("abc"), in both cases.
  const std::string hex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  EXPECT_EQ(PinToCurl("sha256:" + hex).value(),
            "sha256//ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
  std::string upper = hex;
  for (char& c : upper) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(PinToCurl("sha256:" + upper).value(),
            "sha256//ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
}

TEST(PinToCurlTest, Invalid) {
  for (std::string pin : {std::string(""), std::string("sha256:"), std::string(64, 'a'),
                          "sha1:" + std::string(64, 'a'), "SHA256:" + std::string(64, 'a'),
                          "sha256:" + std::string(63, 'a'), "sha256:" + std::string(66, 'a'),
                          "sha256:" + std::string(63, 'a') + "g", "sha256//" + std::string(44, 'A'),
                          "sha256: " + std::string(64, 'a')}) {
    auto r = PinToCurl(pin);
    ASSERT_FALSE(r.has_value()) << pin;
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
  }
}

TEST(CodeFromNameTest, InvertsCodeName) {
  for (Code c : kAllCodes) {
    EXPECT_EQ(CodeFromName(CodeName(c)), c) << CodeName(c);
  }
  EXPECT_EQ(CodeFromName("no such code"), Code::kInternal);
  EXPECT_EQ(CodeFromName(""), Code::kInternal);
  EXPECT_EQ(CodeFromName("NOT FOUND"), Code::kInternal);
}

TEST_F(HttpClientTest, ConnectionRefusedIsUnavailable) {
  // A port that was bound but never listened on: connect() is refused.
  UniqueFd s(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(getsockname(s.get(), reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string base = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));

  auto r = Client(base).Call("GET", "/v1/ping?token=secret");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kUnavailable);
  EXPECT_NE(r.error().message().find("cannot reach " + base + "/v1/ping"), std::string::npos)
      << r.error().message();
  // The query string is not repeated in errors.
  EXPECT_EQ(r.error().message().find("secret"), std::string::npos) << r.error().message();
}

TEST_F(HttpClientTest, CallMapsJsonErrorToStatus) {
  OneShotServer server(HttpResponseText(
      403, "Forbidden",
      R"({"error":{"code":"permission denied","message":"role 'dev' may not log in as root"}})"));
  Json::Value body(Json::objectValue);
  body["login"] = "root";
  auto r = Client(server.base_url()).Call("POST", "/v1/certs", &body);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), PermissionDenied("role 'dev' may not log in as root"));

  const std::string& req = server.request();
  EXPECT_EQ(req.rfind("POST /v1/certs HTTP/1.1\r\n", 0), 0u) << req;
  EXPECT_NE(req.find("Content-Type: application/json\r\n"), std::string::npos) << req;
  EXPECT_NE(req.find("Accept: application/json\r\n"), std::string::npos) << req;
  EXPECT_NE(req.find("\r\n\r\n{\"login\":\"root\"}"), std::string::npos) << req;
}

TEST_F(HttpClientTest, CallReturnsBodyOn2xx) {
  OneShotServer server(HttpResponseText(200, "OK", R"({"cert":"ssh-ed25519-cert-v01..."})"));
  auto r = Client(server.base_url()).Call("GET", "/v1/ca");
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ((*r)["cert"].asString(), "ssh-ed25519-cert-v01...");
  EXPECT_EQ(server.request().rfind("GET /v1/ca HTTP/1.1\r\n", 0), 0u);
}

TEST_F(HttpClientTest, DeleteWithoutBody) {
  OneShotServer server(HttpResponseText(204, "No Content", ""));
  auto r = Client(server.base_url()).Request("DELETE", "/v1/users/bob");
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->status, 204);
  EXPECT_TRUE(r->body.isNull());
  EXPECT_EQ(server.request().rfind("DELETE /v1/users/bob HTTP/1.1\r\n", 0), 0u);
}

TEST_F(HttpClientTest, NonJsonErrorIsInternalWithStatus) {
  OneShotServer server(HttpResponseText(502, "Bad Gateway", "<html>oops</html>"));
  auto r = Client(server.base_url()).Call("GET", "/v1/ping");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), Internal("HTTP 502 from " + server.base_url() + "/v1/ping"));
}

TEST_F(HttpClientTest, ErrorBodyWithWrongShapeIsInternal) {
  OneShotServer server(HttpResponseText(400, "Bad Request", R"({"error":"bad"})"));
  auto r = Client(server.base_url()).Call("GET", "/x");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), Internal("HTTP 400 from " + server.base_url() + "/x"));
}

TEST_F(HttpClientTest, ErrorCodeOkDoesNotBecomeSuccess) {
  OneShotServer server(
      HttpResponseText(500, "Error", R"({"error":{"code":"ok","message":"weird"}})"));
  auto r = Client(server.base_url()).Call("GET", "/x");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), Internal("weird"));
}

TEST_F(HttpClientTest, InvalidJsonOn2xxIsDataLoss) {
  OneShotServer server(HttpResponseText(200, "OK", "not json"));
  auto r = Client(server.base_url()).Request("GET", "/x");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kDataLoss);
  EXPECT_EQ(r.error().message().find("not json"), std::string::npos);
}

TEST_F(HttpClientTest, OversizedResponseIsDataLoss) {
  std::string big = "{\"a\":\"" + std::string(9 * 1024 * 1024, 'x') + "\"}";
  OneShotServer server(HttpResponseText(200, "OK", big));
  auto r = Client(server.base_url()).Request("GET", "/x");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kDataLoss);
  EXPECT_NE(r.error().message().find("8 MiB"), std::string::npos);
}

TEST_F(HttpClientTest, RedirectIsNotFollowed) {
  OneShotServer server(
      HttpResponseText(302, "Found", "", "Location: http://127.0.0.1:1/elsewhere\r\n"));
  auto r = Client(server.base_url()).Request("GET", "/x");
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->status, 302);
}

TEST_F(HttpClientTest, UnixSocket) {
  char tmpl[] = "/tmp/gate_http_test.XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  const std::string path = dir + "/api.sock";
  {
    OneShotServer server(
        HttpResponseText(409, "Conflict",
                         R"({"error":{"code":"already exists","message":"user bob exists"}})"),
        path);
    HttpClientOptions o;
    o.base_url = "http://localhost";
    o.unix_socket = path;
    o.timeout = std::chrono::milliseconds(5000);
    auto r = CurlHttpClient(o).Call("PUT", "/v1/users/bob");
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), AlreadyExists("user bob exists"));
    const std::string& req = server.request();
    EXPECT_EQ(req.rfind("PUT /v1/users/bob HTTP/1.1\r\n", 0), 0u) << req;
    EXPECT_NE(req.find("Host: localhost\r\n"), std::string::npos) << req;
  }
  unlink(path.c_str());
  rmdir(dir.c_str());
}

TEST_F(HttpClientTest, BearerTokenGoesInAuthorizationHeaderOnly) {
  OneShotServer server(HttpResponseText(
      401, "Unauthorized", R"({"error":{"code":"unauthenticated","message":"unknown node"}})"));
  HttpClientOptions o;
  o.base_url = server.base_url();
  o.timeout = std::chrono::milliseconds(5000);
  o.bearer_token = SecretString("4a6f.s3cr3t");
  auto r = CurlHttpClient(o).Call("GET", "/v1/nodes/policy");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), Unauthenticated("unknown node"));
  EXPECT_EQ(r.error().message().find("s3cr3t"), std::string::npos);
  const std::string& req = server.request();
  EXPECT_EQ(req.rfind("GET /v1/nodes/policy HTTP/1.1\r\n", 0), 0u) << req;
  EXPECT_NE(req.find("\r\nAuthorization: Bearer 4a6f.s3cr3t\r\n"), std::string::npos) << req;
}

TEST_F(HttpClientTest, SendCarriesBinaryBodiesAndExtraHeaders) {
  OneShotServer server(
      "HTTP/1.1 409 Conflict\r\nContent-Type: application/json\r\nContent-Length: 12\r\n"
      "Connection: close\r\n\r\n{\"size\": 42}");
  HttpClientOptions o;
  o.base_url = server.base_url();
  o.timeout = std::chrono::milliseconds(5000);
  o.bearer_token = SecretString("4a6f.s3cr3t");
  HttpRawRequest req;
  req.method = "PUT";
  req.target = "/v1/nodes/sessions/x?offset=7";
  req.body = std::string("a\0b\xff", 4);
  req.content_type = "application/octet-stream";
  req.headers = {{"X-Gate-Signature", "t=1,n=2,s=3"}};
  auto r = CurlHttpClient(o).Send(req);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->status, 409);  // any status comes back as is
  EXPECT_EQ(r->body, "{\"size\": 42}");
  EXPECT_EQ(r->content_type, "application/json");
  const std::string& sent = server.request();
  EXPECT_EQ(sent.rfind("PUT /v1/nodes/sessions/x?offset=7 HTTP/1.1\r\n", 0), 0u) << sent;
  EXPECT_NE(sent.find("\r\nContent-Type: application/octet-stream\r\n"), std::string::npos);
  EXPECT_NE(sent.find("\r\nX-Gate-Signature: t=1,n=2,s=3\r\n"), std::string::npos);
  EXPECT_NE(sent.find("\r\nAuthorization: Bearer 4a6f.s3cr3t\r\n"), std::string::npos);
  EXPECT_EQ(sent.substr(sent.size() - 4), std::string("a\0b\xff", 4));
}

TEST_F(HttpClientTest, SendRefusesBadHeadersAndBodies) {
  HttpClient client = Client("http://127.0.0.1:1");
  HttpRawRequest req;
  req.method = "GET";
  req.target = "/x";
  req.headers = {{"X-Evil", "a\r\nInjected: 1"}};
  EXPECT_EQ(client.Send(req).error().code(), Code::kInvalidArgument);
  req.headers = {{"Bad Name", "v"}};
  EXPECT_EQ(client.Send(req).error().code(), Code::kInvalidArgument);
  req.headers = {};
  req.body = "x";
  req.content_type = "text/plain";
  EXPECT_EQ(client.Send(req).error().code(), Code::kInvalidArgument);  // GET with a body
  req.method = "PUT";
  req.content_type = "";
  EXPECT_EQ(client.Send(req).error().code(), Code::kInvalidArgument);  // body without a type
}

TEST_F(HttpClientTest, SendCapsTheResponse) {
  const std::string body(2000, 'x');
  OneShotServer server("HTTP/1.1 200 OK\r\nContent-Length: 2000\r\nConnection: close\r\n\r\n" +
                       body);
  HttpRawRequest req;
  req.method = "GET";
  req.target = "/rec";
  req.max_response_bytes = 1000;
  auto r = Client(server.base_url()).Send(req);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kDataLoss);
}

TEST(StatusFromErrorReplyTest, MapsLikeCall) {
  Json::Value body;
  body["error"]["code"] = "not found";
  body["error"]["message"] = "session x not found";
  EXPECT_EQ(StatusFromErrorReply(404, body, "https://h/v1/sessions/x"),
            NotFound("session x not found"));
  body["error"]["code"] = "ok";
  EXPECT_EQ(StatusFromErrorReply(500, body, "u").code(), Code::kInternal);
  EXPECT_EQ(StatusFromErrorReply(502, Json::Value(), "https://h/x?secret=1").message(),
            "HTTP 502 from https://h/x");
}

TEST_F(HttpClientTest, NoAuthorizationHeaderWithoutToken) {
  OneShotServer server(HttpResponseText(200, "OK", "{}"));
  auto r = Client(server.base_url()).Call("GET", "/v1/ping");
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(server.request().find("Authorization"), std::string::npos) << server.request();
}

TEST_F(HttpClientTest, BearerTokenWithControlCharactersIsRefused) {
  for (const char* token : {"a\r\nX-Injected: 1", "a b", "a\tb", "\x7f"}) {
    HttpClientOptions o;
    o.base_url = "http://127.0.0.1:1";
    o.bearer_token = SecretString(token);
    auto r = CurlHttpClient(o).Request("GET", "/");
    ASSERT_FALSE(r.has_value()) << token;
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument) << token;
    EXPECT_EQ(r.error().message().find(token), std::string::npos);
  }
}

TEST_F(HttpClientTest, BadOptionsAreInvalidArgument) {
  HttpClientOptions o;
  o.base_url = "https://127.0.0.1:1";
  o.ca_pin = "sha256:xyz";
  auto r = CurlHttpClient(o).Request("GET", "/");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);

  r = Client("http://127.0.0.1:1").Request("get /x", "/");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
}

TEST_F(HttpClientTest, OtherSchemesRefused) {
  auto r = Client("file:///etc").Request("GET", "/passwd");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kUnavailable);
}

// TLS: a real `openssl s_server` with a self-signed certificate, so the
// pin, CA-file, insecure and default-verification paths run against a
// real handshake.
class HttpClientTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    for (const char* v :
         {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"}) {
      unsetenv(v);
    }
    if (access("/usr/bin/openssl", X_OK) != 0) return;
    char tmpl[] = "/tmp/gate_tls_test.XXXXXX";
    if (mkdtemp(tmpl) == nullptr) return;
    dir_ = new std::string(tmpl);
    const std::string d = *dir_;
    if (Shell("cd '" + d +
              "' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
              "-keyout key.pem -out cert.pem -days 1 -subj /CN=gate-test "
              "-addext subjectAltName=IP:127.0.0.1 2>/dev/null && echo ok") != "ok\n") {
      return;
    }
    std::string hex = Shell("cd '" + d +
                            "' && openssl x509 -in cert.pem -pubkey -noout | "
                            "openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1");
    if (hex.size() != 65) return;
    pin_ = new std::string("sha256:" + hex.substr(0, 64));
    // s_server -HTTP sends the named file verbatim as the whole response.
    std::ofstream(d + "/ping.json", std::ios::binary)
        << "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{\"ok\":true}";
  }

  static void TearDownTestSuite() {
    if (dir_ != nullptr) std::system(("rm -rf '" + *dir_ + "'").c_str());
    delete dir_;
    delete pin_;
    dir_ = pin_ = nullptr;
  }

  void SetUp() override {
    if (pin_ == nullptr) GTEST_SKIP() << "openssl not available to make a test certificate";
    const std::string log = *dir_ + "/server.log";
    unlink(log.c_str());
    const char* argv[] = {"openssl", "s_server", "-accept", "127.0.0.1:0", "-cert", "cert.pem",
                          "-key",    "key.pem",  "-HTTP",   "-naccept",    "1",     nullptr};
    pid_ = fork();
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
      int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (fd < 0 || chdir(dir_->c_str()) != 0) _exit(127);
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
      execv("/usr/bin/openssl", const_cast<char* const*>(argv));
      _exit(127);
    }
    // s_server prints "ACCEPT 127.0.0.1:<port>" once it listens.
    for (int i = 0; i < 200 && port_ == 0; ++i) {
      const std::string text = Shell("cat '" + log + "' 2>/dev/null");
      std::size_t at = text.find("ACCEPT 127.0.0.1:");
      if (at != std::string::npos && text.find('\n', at) != std::string::npos) {
        port_ = std::stoi(text.substr(at + 17));
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    ASSERT_NE(port_, 0) << "openssl s_server did not start";
  }

  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }

  static std::string Shell(const std::string& cmd) {
    std::string out;
    FILE* p = popen(cmd.c_str(), "r");
    if (p == nullptr) return out;
    char buf[256];
    while (fgets(buf, sizeof(buf), p) != nullptr) out += buf;
    pclose(p);
    return out;
  }

  HttpClientOptions Options() const {
    HttpClientOptions o;
    o.base_url = "https://127.0.0.1:" + std::to_string(port_);
    o.timeout = std::chrono::milliseconds(5000);
    return o;
  }

  static std::string* dir_;
  static std::string* pin_;
  pid_t pid_ = -1;
  int port_ = 0;
};

std::string* HttpClientTlsTest::dir_ = nullptr;
std::string* HttpClientTlsTest::pin_ = nullptr;

TEST_F(HttpClientTlsTest, DefaultVerificationRejectsSelfSigned) {
  auto r = CurlHttpClient(Options()).Call("GET", "/ping.json");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kUnavailable);
  EXPECT_NE(r.error().message().find("verification failed"), std::string::npos)
      << r.error().message();
}

TEST_F(HttpClientTlsTest, PinnedKeySucceeds) {
  HttpClientOptions o = Options();
  o.ca_pin = *pin_;
  auto r = CurlHttpClient(o).Call("GET", "/ping.json");
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_TRUE((*r)["ok"].asBool());
}

TEST_F(HttpClientTlsTest, WrongPinFails) {
  HttpClientOptions o = Options();
  o.ca_pin = "sha256:" + std::string(64, 'a');
  auto r = CurlHttpClient(o).Call("GET", "/ping.json");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kUnavailable);
  EXPECT_NE(r.error().message().find("does not match the pinned"), std::string::npos)
      << r.error().message();
}

TEST_F(HttpClientTlsTest, CaFileVerifies) {
  HttpClientOptions o = Options();
  o.ca_file = *dir_ + "/cert.pem";
  auto r = CurlHttpClient(o).Call("GET", "/ping.json");
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_TRUE((*r)["ok"].asBool());
}

TEST_F(HttpClientTlsTest, InsecureSkipsVerification) {
  HttpClientOptions o = Options();
  o.insecure = true;
  auto r = CurlHttpClient(o).Call("GET", "/ping.json");
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
}

}  // namespace
}  // namespace gate
