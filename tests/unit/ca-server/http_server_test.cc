// HttpServer end to end: a real server on 127.0.0.1:0 and a Unix socket in a
// scratch directory, driven by libcurl (as gate's clients are) and, for what
// curl will not send, by raw sockets and a raw OpenSSL client.
#include "ca-server/api/http_server.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "ca-server/api/router.h"
#include "ca-server/signer/tls_cert.h"
#include "gate/bytes.h"
#include "gate/cptr.h"
#include "gate/json.h"
#include "gate/unique_fd.h"

namespace gate::ca {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr std::size_t kMaxBody = 1024;
constexpr auto kSlowHandler = 500ms;

// --- clients ---

struct CurlReply {
  CURLcode code = CURLE_OK;
  long status = 0;
  std::string body;
  std::string headers;
  long new_connections = -1;

  Json::Value ParsedBody() const {
    Result<Json::Value> v = json::Parse(body);
    return v ? *v : Json::Value();
  }
  bool HasHeader(const std::string& line) const {
    return headers.find(line + "\r\n") != std::string::npos;
  }
};

struct CurlRequest {
  std::string method = "GET";
  std::string url;
  std::string body;
  std::vector<std::string> headers;
  std::string pin;          // curl form, "sha256//<base64>"
  std::string cainfo;       // verify against this PEM instead of pinning
  std::string unix_socket;  // talk over this socket instead of TCP
  long expect_timeout_ms = 0;
  std::string source;  // local address to connect from ("127.0.0.2"), or the default
};

std::size_t AppendTo(char* data, std::size_t size, std::size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// One easy handle, so consecutive requests may reuse the connection.
class Curl {
 public:
  Curl() : handle_(curl_easy_init()) {}

  CurlReply Do(const CurlRequest& r) {
    CURL* h = handle_.get();
    CurlReply reply;
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, r.url.c_str());
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r.method.c_str());
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &AppendTo);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &reply.body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &AppendTo);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &reply.headers);
    if (r.method == "POST" || r.method == "PUT") {
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, r.body.data());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(r.body.size()));
    }
    if (!r.pin.empty()) {
      // The pin alone authenticates the server, as in gate's HttpClient.
      curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
      curl_easy_setopt(h, CURLOPT_PINNEDPUBLICKEY, r.pin.c_str());
    }
    if (!r.cainfo.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, r.cainfo.c_str());
    if (!r.source.empty()) curl_easy_setopt(h, CURLOPT_INTERFACE, r.source.c_str());
    if (!r.unix_socket.empty())
      curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, r.unix_socket.c_str());
    if (r.expect_timeout_ms > 0) {
      curl_easy_setopt(h, CURLOPT_EXPECT_100_TIMEOUT_MS, r.expect_timeout_ms);
    }
    curl_slist* headers = nullptr;
    for (const std::string& line : r.headers) headers = curl_slist_append(headers, line.c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    reply.code = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply.status);
    curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &reply.new_connections);
    curl_slist_free_all(headers);
    return reply;
  }

 private:
  CPtr<CURL, curl_easy_cleanup> handle_;
};

// A plain TCP connection to 127.0.0.1:port from source (all of 127/8 is
// local on Linux, so other addresses there act as other clients).
UniqueFd ConnectTcp(std::uint16_t port, const char* source = "127.0.0.1") {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in local{};
  local.sin_family = AF_INET;
  if (::inet_pton(AF_INET, source, &local.sin_addr) != 1 ||
      ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&local), sizeof(local)) != 0) {
    return {};
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) return {};
  return fd;
}

UniqueFd ConnectUnix(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) return {};
  return fd;
}

bool WaitReadable(int fd, std::chrono::milliseconds timeout) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, static_cast<int>(timeout.count())) > 0;
}

struct Exchange {
  std::string data;     // everything the server sent
  bool closed = false;  // and then it closed the connection
};

// Sends request (if any) on a plain socket and reads until the server
// closes or stays silent for `timeout`.
Exchange PlainExchange(int fd, const std::string& request,
                       std::chrono::milliseconds timeout = 5000ms) {
  Exchange ex;
  if (!request.empty()) {
    // The server may close before taking it all (that is what is tested).
    (void)::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  }
  char buf[4096];
  while (WaitReadable(fd, timeout)) {
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) {
      ex.closed = true;
      break;
    }
    ex.data.append(buf, static_cast<std::size_t>(n));
  }
  return ex;
}

// The same over TLS, with no certificate checks: for requests curl will
// not send.
Exchange TlsExchange(std::uint16_t port, const std::string& request) {
  Exchange ex;
  UniqueFd fd = ConnectTcp(port);
  CPtr<SSL_CTX, SSL_CTX_free> ctx(SSL_CTX_new(TLS_client_method()));
  CPtr<SSL, SSL_free> ssl(SSL_new(ctx.get()));
  if (!fd.valid() || !ssl || SSL_set_fd(ssl.get(), fd.get()) != 1 || SSL_connect(ssl.get()) != 1) {
    ADD_FAILURE() << "TLS connect failed";
    return ex;
  }
  SSL_write(ssl.get(), request.data(), static_cast<int>(request.size()));
  char buf[4096];
  for (;;) {
    if (SSL_pending(ssl.get()) == 0 && !WaitReadable(fd.get(), 5000ms)) break;
    const int n = SSL_read(ssl.get(), buf, sizeof(buf));
    if (n <= 0) {
      ex.closed = true;
      break;
    }
    ex.data.append(buf, static_cast<std::size_t>(n));
  }
  return ex;
}

std::string CurlPin(const std::string& cert_path) {
  Result<std::string> pin = SpkiPinFromCertFile(cert_path);
  if (!pin) return "";
  Result<std::string> raw = HexDecode(pin->substr(7));
  return raw ? "sha256//" + Base64Encode(*raw) : "";
}

// --- the server under test ---

// Start()s a server and Run()s it on a thread; stops and joins on the way out.
class RunningServer {
 public:
  RunningServer(HttpServerOptions options, Handler handler)
      : server_(std::move(options), handler, handler) {}
  ~RunningServer() {
    server_.Stop();
    if (thread_.joinable()) thread_.join();
  }

  Status Start() {
    Status s = server_.Start();
    if (s.ok()) thread_ = std::thread([this] { server_.Run(); });
    return s;
  }
  HttpServer& server() { return server_; }
  std::thread& thread() { return thread_; }

 private:
  HttpServer server_;
  std::thread thread_;
};

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "gate-http-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    cert_ = dir_ + "/tls.crt";
    key_ = dir_ + "/tls.key";
    socket_ = dir_ + "/admin.sock";
    ASSERT_TRUE(EnsureSelfSignedCert(cert_, key_, {"localhost"}, {"127.0.0.1"}).ok());
    pin_ = CurlPin(cert_);
    ASSERT_FALSE(pin_.empty());

    router_.Add("GET", "/v1/whoami", [](const HttpRequest& req, const PathParams&) {
      Json::Value v;
      v["admin"] = req.admin;
      v["source"] = req.source;
      v["path"] = req.path;
      v["query"] = req.query;
      return Result<Json::Value>(v);
    });
    router_.Add("POST", "/v1/echo", [](const HttpRequest& req, const PathParams&) {
      Json::Value v;
      v["body"] = req.body;
      v["content_type"] = req.content_type;
      return Result<Json::Value>(v);
    });
    router_.Add("GET", "/v1/throw",
                [](const HttpRequest&, const PathParams&) -> Result<Json::Value> {
                  throw std::runtime_error("secret detail");
                });
    router_.Add("GET", "/v1/internal",
                [](const HttpRequest&, const PathParams&) -> Result<Json::Value> {
                  return Err(Internal("cannot open /secret/path"));
                });
    router_.Add("GET", "/v1/block", [this](const HttpRequest&, const PathParams&) {
      blocked_.set_value();
      unblock_.wait();
      return Result<Json::Value>(Json::Value());
    });
    router_.Add("GET", "/v1/slow", [](const HttpRequest&, const PathParams&) {
      std::this_thread::sleep_for(kSlowHandler);  // like an argon2 hash
      return Result<Json::Value>(Json::Value());
    });
    router_.AddRaw("GET", "/v1/status/{code}", [](const HttpRequest&, const PathParams& p) {
      HttpReply reply;
      reply.status = std::stoi(p.at("code"));
      reply.body["ignored"] = true;
      return reply;
    });
    router_.AddRaw("GET", "/web/page", [](const HttpRequest&, const PathParams&) {
      HttpReply reply;
      reply.content_type = "text/html; charset=utf-8";
      reply.raw_body = "<html>hi</html>";
      reply.headers = {{"Content-Security-Policy", "default-src 'self'"},
                       {"X-Evil", "a\r\nSet-Cookie: stolen=1"},
                       {"Server", "not-gate"},
                       {"Bad Name", "x"}};
      return reply;
    });
  }

  void TearDown() override {
    running_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  HttpServerOptions Options() const {
    HttpServerOptions o;
    o.listen_host = "127.0.0.1";
    o.listen_port = 0;
    o.tls_cert_file = cert_;
    o.tls_key_file = key_;
    o.admin_socket_path = socket_;
    o.admin_uids = {::geteuid()};
    o.max_body_bytes = kMaxBody;
    o.threads = 2;
    return o;
  }

  // Opens two TCP connections from 127.0.0.1 and keeps them open while a
  // third from the same address is checked to be closed at once, unanswered.
  void HeldTwoThenThirdClosed() {
    held_[0] = ConnectTcp(port_);
    held_[1] = ConnectTcp(port_);
    ASSERT_TRUE(held_[0].valid() && held_[1].valid());
    UniqueFd third = ConnectTcp(port_);
    ASSERT_TRUE(third.valid());
    Exchange ex = PlainExchange(third.get(), "", 5000ms);
    EXPECT_TRUE(ex.closed);
    EXPECT_EQ(ex.data, "");
  }

  Handler RouterHandler() {
    return [this](const HttpRequest& req) { return router_.Dispatch(req); };
  }

  // Starts the test's server; a fatal failure if it does not start.
  void StartServer(HttpServerOptions options) {
    const bool has_tcp = !options.listen_host.empty();
    running_ = std::make_unique<RunningServer>(std::move(options), RouterHandler());
    Status s = running_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
    port_ = running_->server().port();
    if (has_tcp) {
      ASSERT_NE(port_, 0);
    }
  }

  std::string Url(const std::string& path) const {
    return "https://127.0.0.1:" + std::to_string(port_) + path;
  }

  CurlRequest Pinned(const std::string& path) const {
    CurlRequest r;
    r.url = Url(path);
    r.pin = pin_;
    return r;
  }

  CurlRequest Admin(const std::string& path) const {
    CurlRequest r;
    r.url = "http://localhost" + path;
    r.unix_socket = socket_;
    return r;
  }

  std::string dir_, cert_, key_, socket_, pin_;
  Router router_;
  UniqueFd held_[2];
  // /v1/block sets blocked_ when it runs, then waits for unblock_.
  std::promise<void> blocked_;
  std::promise<void> release_;
  std::shared_future<void> unblock_ = release_.get_future().share();
  std::unique_ptr<RunningServer> running_;
  std::uint16_t port_ = 0;
  Curl curl_;
};

TEST_F(HttpServerTest, JsonRouteOverTlsWithPin) {
  StartServer(Options());
  CurlReply r = curl_.Do(Pinned("/v1/whoami?token=abc&x=1"));
  ASSERT_EQ(r.code, CURLE_OK) << curl_easy_strerror(r.code);
  EXPECT_EQ(r.status, 200);
  Json::Value v = r.ParsedBody();
  EXPECT_FALSE(v["admin"].asBool());
  EXPECT_EQ(v["source"].asString(), "127.0.0.1");
  EXPECT_EQ(v["path"].asString(), "/v1/whoami");
  EXPECT_EQ(v["query"].asString(), "token=abc&x=1");
  EXPECT_TRUE(r.HasHeader("Server: gate")) << r.headers;
  EXPECT_TRUE(r.HasHeader("Cache-Control: no-store")) << r.headers;
  EXPECT_TRUE(r.HasHeader("X-Content-Type-Options: nosniff")) << r.headers;
  EXPECT_TRUE(r.HasHeader("Content-Type: application/json")) << r.headers;
}

TEST_F(HttpServerTest, CertificateVerifiesAsItsOwnTrustAnchor) {
  StartServer(Options());
  for (const std::string host : {"127.0.0.1", "localhost"}) {
    CurlRequest req;
    req.url = "https://" + host + ":" + std::to_string(port_) + "/v1/whoami";
    req.cainfo = cert_;
    CurlReply r = curl_.Do(req);
    EXPECT_EQ(r.code, CURLE_OK) << host << ": " << curl_easy_strerror(r.code);
    EXPECT_EQ(r.status, 200) << host;
  }
}

TEST_F(HttpServerTest, WrongPinIsRejectedByTheClient) {
  StartServer(Options());
  const std::string other_cert = dir_ + "/other.crt";
  ASSERT_TRUE(EnsureSelfSignedCert(other_cert, dir_ + "/other.key", {"localhost"}, {}).ok());
  CurlRequest req = Pinned("/v1/whoami");
  req.pin = CurlPin(other_cert);
  ASSERT_NE(req.pin, pin_);
  CurlReply r = curl_.Do(req);
  EXPECT_EQ(r.code, CURLE_SSL_PINNEDPUBKEYNOTMATCH) << curl_easy_strerror(r.code);
  EXPECT_EQ(r.body, "");
}

TEST_F(HttpServerTest, OldTlsVersionsAreRefused) {
  StartServer(Options());
  UniqueFd fd = ConnectTcp(port_);
  ASSERT_TRUE(fd.valid());
  CPtr<SSL_CTX, SSL_CTX_free> ctx(SSL_CTX_new(TLS_client_method()));
  // The client is willing (security level 0 allows TLS 1.1's SHA-1); the
  // server must not be.
  SSL_CTX_set_security_level(ctx.get(), 0);
  ASSERT_EQ(SSL_CTX_set_min_proto_version(ctx.get(), TLS1_VERSION), 1);
  ASSERT_EQ(SSL_CTX_set_max_proto_version(ctx.get(), TLS1_1_VERSION), 1);
  CPtr<SSL, SSL_free> ssl(SSL_new(ctx.get()));
  ASSERT_EQ(SSL_set_fd(ssl.get(), fd.get()), 1);
  EXPECT_NE(SSL_connect(ssl.get()), 1);
}

TEST_F(HttpServerTest, ErrorStatusesAreJson) {
  StartServer(Options());
  CurlReply r = curl_.Do(Pinned("/v1/nope"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.ParsedBody()["error"]["code"].asString(), "not found");

  CurlRequest del = Pinned("/v1/whoami");
  del.method = "DELETE";
  r = curl_.Do(del);
  EXPECT_EQ(r.status, 405);
  EXPECT_TRUE(r.HasHeader("Allow: GET")) << r.headers;
  EXPECT_TRUE(r.HasHeader("Cache-Control: no-store")) << r.headers;

  CurlRequest form = Pinned("/v1/echo");
  form.method = "POST";
  form.body = "a=b";  // curl's default type: application/x-www-form-urlencoded
  r = curl_.Do(form);
  EXPECT_EQ(r.status, 415);
  EXPECT_EQ(r.ParsedBody()["error"]["code"].asString(), "invalid argument");

  r = curl_.Do(Pinned("/v1/%2e%2e/whoami"));
  EXPECT_EQ(r.status, 400);
}

TEST_F(HttpServerTest, PostJson) {
  StartServer(Options());
  CurlRequest req = Pinned("/v1/echo");
  req.method = "POST";
  req.body = R"({"hello":"world"})";
  req.headers = {"Content-Type: application/json"};
  CurlReply r = curl_.Do(req);
  ASSERT_EQ(r.code, CURLE_OK) << curl_easy_strerror(r.code);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.ParsedBody()["body"].asString(), req.body);
  EXPECT_EQ(r.ParsedBody()["content_type"].asString(), "application/json");
}

TEST_F(HttpServerTest, OversizedBodyIs413) {
  StartServer(Options());
  for (const bool expect_continue : {true, false}) {
    CurlRequest req = Pinned("/v1/echo");
    req.method = "POST";
    req.body = std::string(kMaxBody + 1, 'x');
    req.headers = {"Content-Type: application/json"};
    if (!expect_continue) req.headers.push_back("Expect:");
    CurlReply r = curl_.Do(req);
    ASSERT_EQ(r.code, CURLE_OK) << curl_easy_strerror(r.code);
    EXPECT_EQ(r.status, 413);
    EXPECT_EQ(r.ParsedBody()["error"]["message"].asString(), "request body too large");
    EXPECT_TRUE(r.HasHeader("Connection: close")) << r.headers;
  }
  // A body of exactly the limit is fine.
  CurlRequest req = Pinned("/v1/echo");
  req.method = "POST";
  req.body = std::string(kMaxBody, 'x');
  req.headers = {"Content-Type: application/json"};
  EXPECT_EQ(curl_.Do(req).status, 200);
}

TEST_F(HttpServerTest, OversizedChunkedBodyIs413) {
  StartServer(Options());
  UniqueFd fd = ConnectUnix(socket_);
  ASSERT_TRUE(fd.valid());
  std::string request =
      "POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 3; ++i) request += "200\r\n" + std::string(0x200, 'x') + "\r\n";
  request += "0\r\n\r\n";
  Exchange ex = PlainExchange(fd.get(), request);
  EXPECT_EQ(ex.data.rfind("HTTP/1.1 413 ", 0), 0u) << ex.data;
  EXPECT_TRUE(ex.closed);
}

// Options::large_body lifts the limit for the requests it names (recording
// chunks), decided from the headers; every other request keeps the small one.
TEST_F(HttpServerTest, LargeBodyOnlyWhereTheOptionSaysSo) {
  HttpServerOptions o = Options();
  o.large_body_bytes = 4 * kMaxBody;
  o.large_body = [](std::string_view method, std::string_view path, std::string_view auth) {
    return method == "POST" && path == "/v1/echo" && auth == "Bearer big";
  };
  // Only upload-class requests may be large; the check runs on an upload
  // worker.
  o.classify = [](bool, std::string_view, std::string_view path) {
    return path == "/v1/echo" ? TrafficClass::kUpload : TrafficClass::kApi;
  };
  StartServer(std::move(o));
  auto post = [&](std::size_t size, bool big) {
    CurlRequest req = Pinned("/v1/echo?x=1");
    req.method = "POST";
    req.body = std::string(size, 'x');
    req.headers = {"Content-Type: application/json", "Expect:"};
    if (big) req.headers.push_back("Authorization: Bearer big");
    return curl_.Do(req).status;
  };
  EXPECT_EQ(post(4 * kMaxBody, true), 200);
  EXPECT_EQ(post(4 * kMaxBody + 1, true), 413);
  EXPECT_EQ(post(kMaxBody + 1, false), 413);
  EXPECT_EQ(post(kMaxBody, false), 200);

  // A chunked body is cut off at the limit of its own request.
  for (const bool big : {true, false}) {
    UniqueFd fd = ConnectUnix(socket_);
    ASSERT_TRUE(fd.valid());
    std::string request =
        "POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
        std::string(big ? "Authorization: Bearer big\r\n" : "") +
        "Transfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 3; ++i) request += "200\r\n" + std::string(0x200, 'x') + "\r\n";
    request += "0\r\n\r\n";
    Exchange ex = PlainExchange(fd.get(), request);
    EXPECT_EQ(ex.data.rfind(big ? "HTTP/1.1 200 " : "HTTP/1.1 413 ", 0), 0u) << ex.data;
  }
}

TEST_F(HttpServerTest, SignatureHeaderReachesTheHandler) {
  router_.Add("GET", "/v1/sig", [](const HttpRequest& req, const PathParams&) {
    Json::Value v;
    v["signature"] = req.signature;
    v["authorization"] = req.authorization;
    return Result<Json::Value>(v);
  });
  StartServer(Options());
  CurlRequest req = Pinned("/v1/sig");
  req.headers = {"X-Gate-Signature: t=1,n=2,s=3", "Authorization: Gate-Cert AAAA"};
  CurlReply r = curl_.Do(req);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.ParsedBody()["signature"].asString(), "t=1,n=2,s=3");
  EXPECT_EQ(r.ParsedBody()["authorization"].asString(), "Gate-Cert AAAA");
}

TEST_F(HttpServerTest, MalformedHttpOverTlsIs400AndCloses) {
  StartServer(Options());
  Exchange ex = TlsExchange(port_, "THIS IS NOT HTTP\r\n\r\n");
  EXPECT_EQ(ex.data.rfind("HTTP/1.1 400 ", 0), 0u) << ex.data;
  EXPECT_NE(ex.data.find("malformed HTTP request"), std::string::npos) << ex.data;
  EXPECT_TRUE(ex.closed);
}

TEST_F(HttpServerTest, MalformedHttpOnAdminSocket) {
  StartServer(Options());
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"GET /v1/whoami HTTP/1.1\r\nBad Header\r\n\r\n", "HTTP/1.1 400 "},
      {"GET /v1/whoami HTTP/9.9\r\n\r\n", "HTTP/1.1 400 "},
      {"GET /v1/whoami HTTP/1.1\r\nContent-Length: x\r\n\r\n", "HTTP/1.1 400 "},
      {"GET http://example.com/v1/whoami HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 400 "},
      {"GET /v1/whoami HTTP/1.1\r\nX-Big: " + std::string(20 * 1024, 'a') + "\r\n\r\n",
       "HTTP/1.1 431 "},
  };
  for (const auto& [request, want] : cases) {
    UniqueFd fd = ConnectUnix(socket_);
    ASSERT_TRUE(fd.valid());
    Exchange ex = PlainExchange(fd.get(), request);
    EXPECT_EQ(ex.data.rfind(want, 0), 0u) << request.substr(0, 60) << " -> " << ex.data;
    EXPECT_TRUE(ex.closed) << request.substr(0, 60);
  }
}

TEST_F(HttpServerTest, KeepAliveReusesTheConnection) {
  StartServer(Options());
  CurlReply first = curl_.Do(Pinned("/v1/whoami"));
  ASSERT_EQ(first.status, 200);
  EXPECT_EQ(first.new_connections, 1);
  CurlReply second = curl_.Do(Pinned("/v1/whoami"));
  ASSERT_EQ(second.status, 200);
  EXPECT_EQ(second.new_connections, 0);
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  StartServer(Options());
  UniqueFd fd = ConnectUnix(socket_);
  ASSERT_TRUE(fd.valid());
  Exchange ex = PlainExchange(fd.get(),
                              "GET /v1/whoami?n=1 HTTP/1.1\r\nHost: x\r\n\r\n"
                              "GET /v1/nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  const std::size_t first = ex.data.find("HTTP/1.1 200 ");
  const std::size_t second = ex.data.find("HTTP/1.1 404 ");
  EXPECT_EQ(first, 0u) << ex.data;
  EXPECT_NE(second, std::string::npos) << ex.data;
  EXPECT_TRUE(ex.closed);
}

TEST_F(HttpServerTest, ExpectContinueIsAnswered) {
  StartServer(Options());
  CurlRequest req = Pinned("/v1/echo");
  req.method = "POST";
  req.body = std::string(kMaxBody - 10, 'y');
  req.headers = {"Content-Type: application/json", "Expect: 100-continue"};
  // If the server ignored Expect, curl would wait this long before sending.
  req.expect_timeout_ms = 5000;
  const auto start = std::chrono::steady_clock::now();
  CurlReply r = curl_.Do(req);
  EXPECT_EQ(r.status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST_F(HttpServerTest, AdminSocketServesOurUid) {
  StartServer(Options());
  struct stat st {};
  ASSERT_EQ(::lstat(socket_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  CurlReply r = curl_.Do(Admin("/v1/whoami"));
  ASSERT_EQ(r.code, CURLE_OK) << curl_easy_strerror(r.code);
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.ParsedBody()["admin"].asBool());
  EXPECT_EQ(r.ParsedBody()["source"].asString(), "unix:" + std::to_string(::geteuid()));
  EXPECT_TRUE(r.HasHeader("Server: gate"));
}

TEST_F(HttpServerTest, AdminSocketRefusesOtherUids) {
  HttpServerOptions o = Options();
  o.listen_host.clear();  // admin socket only: no TLS needed
  o.admin_uids = {::geteuid() + 1};
  StartServer(o);
  UniqueFd fd = ConnectUnix(socket_);
  ASSERT_TRUE(fd.valid());
  Exchange ex = PlainExchange(fd.get(), "GET /v1/whoami HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(ex.data, "");
  EXPECT_TRUE(ex.closed);
}

TEST_F(HttpServerTest, HandlerFailuresDoNotLeak) {
  StartServer(Options());
  for (const char* path : {"/v1/throw", "/v1/internal"}) {
    CurlReply r = curl_.Do(Pinned(path));
    EXPECT_EQ(r.status, 500) << path;
    EXPECT_EQ(r.ParsedBody()["error"]["message"].asString(), "internal error") << path;
    EXPECT_EQ(r.body.find("secret"), std::string::npos) << r.body;
  }
}

TEST_F(HttpServerTest, HandlerExceptionOutsideRouterIs500) {
  HttpServerOptions o = Options();
  running_ = std::make_unique<RunningServer>(
      o, [](const HttpRequest&) -> HttpReply { throw std::runtime_error("secret"); });
  ASSERT_TRUE(running_->Start().ok());
  port_ = running_->server().port();
  CurlReply r = curl_.Do(Pinned("/anything"));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body.find("secret"), std::string::npos);
}

TEST_F(HttpServerTest, RawRepliesAndHeaderHygiene) {
  StartServer(Options());
  CurlReply r = curl_.Do(Pinned("/web/page"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "<html>hi</html>");
  EXPECT_TRUE(r.HasHeader("Content-Type: text/html; charset=utf-8")) << r.headers;
  EXPECT_TRUE(r.HasHeader("Content-Security-Policy: default-src 'self'")) << r.headers;
  EXPECT_TRUE(r.HasHeader("Server: gate")) << r.headers;
  EXPECT_EQ(r.headers.find("not-gate"), std::string::npos) << r.headers;
  EXPECT_EQ(r.headers.find("stolen"), std::string::npos) << r.headers;
  EXPECT_EQ(r.headers.find("X-Evil"), std::string::npos) << r.headers;
}

TEST_F(HttpServerTest, LogsNeitherPathParametersNorQueriesNorBodies) {
  router_.AddRaw("POST", "/web/newuser/{token}",
                 [](const HttpRequest&, const PathParams&) { return HttpReply(); });
  StartServer(Options());
  CurlRequest req = Pinned("/web/newuser/tok3nSECRET?q=qu3rySECRET");
  req.method = "POST";
  req.body = R"({"password":"b0dySECRET"})";
  req.headers = {"Content-Type: application/json"};
  ::testing::internal::CaptureStderr();
  CurlReply r = curl_.Do(req);
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(log.find("POST /web/newuser/{token} 200 source=127.0.0.1"), std::string::npos) << log;
  EXPECT_EQ(log.find("SECRET"), std::string::npos) << log;
}

TEST_F(HttpServerTest, StatusesWithoutBodyAndInvalidStatuses) {
  StartServer(Options());
  CurlReply r = curl_.Do(Pinned("/v1/status/204"));
  EXPECT_EQ(r.code, CURLE_OK) << curl_easy_strerror(r.code);
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.body, "");
  r = curl_.Do(Pinned("/v1/status/201"));
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.body, R"({"ignored":true})");
  for (const char* bad : {"/v1/status/42", "/v1/status/100", "/v1/status/600"}) {
    r = curl_.Do(Pinned(bad));
    EXPECT_EQ(r.status, 500) << bad;
    EXPECT_EQ(r.ParsedBody()["error"]["message"].asString(), "internal error") << bad;
  }
}

TEST_F(HttpServerTest, SlowHandlersRunInParallel) {
  HttpServerOptions o = Options();
  o.threads = 2;
  StartServer(o);
  ASSERT_EQ(curl_.Do(Pinned("/v1/whoami")).status, 200);  // warm up
  const auto start = std::chrono::steady_clock::now();
  auto slow = [this] { return Curl().Do(Pinned("/v1/slow")).status; };
  auto a = std::async(std::launch::async, slow);
  auto b = std::async(std::launch::async, slow);
  EXPECT_EQ(a.get(), 200);
  EXPECT_EQ(b.get(), 200);
  // Two threads: both finish in about one handler's time, not two.
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2 * kSlowHandler - 100ms);
}

TEST_F(HttpServerTest, TooManyConnectionsAreClosed) {
  HttpServerOptions o = Options();
  o.limits.max_connections = 1;
  o.limits.max_connections_per_source = 1;
  o.limits.connection_reserve = 0;
  StartServer(o);
  UniqueFd first = ConnectTcp(port_);
  ASSERT_TRUE(first.valid());
  UniqueFd second = ConnectTcp(port_);
  ASSERT_TRUE(second.valid());
  Exchange ex = PlainExchange(second.get(), "", 5000ms);
  EXPECT_TRUE(ex.closed);
  EXPECT_EQ(ex.data, "");
  first.Reset();
  // Once the first one is gone, connections are accepted again.
  for (int i = 0; i < 50; ++i) {
    CurlReply r = curl_.Do(Pinned("/v1/whoami"));
    if (r.status == 200) return;
    std::this_thread::sleep_for(20ms);
  }
  ADD_FAILURE() << "no connection accepted after the first closed";
}

TEST_F(HttpServerTest, PerSourceCapLeavesRoomForOtherSources) {
  HttpServerOptions o = Options();
  o.limits.max_connections_per_source = 2;
  o.limits.connection_reserve = 0;
  StartServer(o);
  HeldTwoThenThirdClosed();
  CurlRequest other = Pinned("/v1/whoami");
  other.source = "127.0.0.2";
  CurlReply r = curl_.Do(other);
  EXPECT_EQ(r.status, 200) << curl_easy_strerror(r.code);
  EXPECT_EQ(r.ParsedBody()["source"].asString(), "127.0.0.2");
}

TEST_F(HttpServerTest, TheReserveIsForSourcesWithNoConnection) {
  HttpServerOptions o = Options();
  o.limits.max_connections = 4;
  o.limits.max_connections_per_source = 4;
  o.limits.connection_reserve = 2;
  StartServer(o);
  // 2 of 4 open: the rest is the reserve, which 127.0.0.1 may not take.
  HeldTwoThenThirdClosed();
  // A new source gets in.
  CurlRequest other = Pinned("/v1/whoami");
  other.source = "127.0.0.3";
  EXPECT_EQ(curl_.Do(other).status, 200);
}

TEST_F(HttpServerTest, AFullQueueIsAnswered503AtOnce) {
  HttpServerOptions o = Options();
  o.limits.api = {1, 0};  // one at a time, nobody waits
  StartServer(o);
  auto held = std::async(std::launch::async, [this] { return Curl().Do(Pinned("/v1/block")); });
  blocked_.get_future().wait();  // the only api slot is taken
  CurlReply busy = curl_.Do(Pinned("/v1/whoami"));
  EXPECT_EQ(busy.status, 503);
  EXPECT_NE(busy.headers.find("Retry-After: 2"), std::string::npos) << busy.headers;
  EXPECT_EQ(busy.ParsedBody()["error"]["code"].asString(), "unavailable");
  // Another class is not affected: the admin socket has its own queue.
  EXPECT_EQ(curl_.Do(Admin("/v1/whoami")).status, 200);
  release_.set_value();
  EXPECT_EQ(held.get().status, 200);
  // The slot is free before the reply is sent: the next request is served.
  EXPECT_EQ(curl_.Do(Pinned("/v1/whoami")).status, 200);
}

TEST_F(HttpServerTest, ASlowHeaderIsCutOffAtTheHeaderTimeout) {
  HttpServerOptions o = Options();
  o.limits.header_timeout = 1s;
  o.limits.idle_timeout = 60s;
  StartServer(o);
  const auto start = std::chrono::steady_clock::now();
  UniqueFd admin = ConnectUnix(socket_);
  ASSERT_TRUE(admin.valid());
  // Half a request line, then nothing: the header deadline, not the idle
  // one, closes it.
  EXPECT_TRUE(PlainExchange(admin.get(), "GET /v1/who", 30000ms).closed);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 20s);
}

TEST_F(HttpServerTest, UnmatchedPathsAreLoggedRedacted) {
  StartServer(Options());
  ::testing::internal::CaptureStderr();
  CurlReply r = curl_.Do(Pinned("/web/newuser/0123456789abcdef0123456789abcdef/x"));
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(log.find("GET /web/newuser/<redacted>/x 404"), std::string::npos) << log;
  EXPECT_EQ(log.find("0123456789abcdef"), std::string::npos) << log;
}

TEST_F(HttpServerTest, IdleConnectionsAreClosed) {
  HttpServerOptions o = Options();
  o.limits.handshake_timeout = 1s;
  o.limits.header_timeout = 1s;
  o.limits.idle_timeout = 1s;
  StartServer(o);
  const auto start = std::chrono::steady_clock::now();
  UniqueFd tcp = ConnectTcp(port_);       // no TLS handshake
  UniqueFd admin = ConnectUnix(socket_);  // no request
  ASSERT_TRUE(tcp.valid() && admin.valid());
  EXPECT_TRUE(PlainExchange(tcp.get(), "", 5000ms).closed);
  EXPECT_TRUE(PlainExchange(admin.get(), "GET /v1/who", 5000ms).closed);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
}

TEST_F(HttpServerTest, StopMakesRunReturn) {
  StartServer(Options());
  ASSERT_EQ(curl_.Do(Pinned("/v1/whoami")).status, 200);
  auto done = std::async(std::launch::async, [this] {
    running_->server().Stop();
    running_->thread().join();
  });
  EXPECT_EQ(done.wait_for(5s), std::future_status::ready);
}

TEST_F(HttpServerTest, StopBeforeRunMakesRunReturnAtOnce) {
  HttpServer server(Options(), RouterHandler(), RouterHandler());
  ASSERT_TRUE(server.Start().ok());
  server.Stop();
  auto done = std::async(std::launch::async, [&server] { server.Run(); });
  EXPECT_EQ(done.wait_for(5s), std::future_status::ready);
}

TEST_F(HttpServerTest, SigtermMakesRunReturn) {
  StartServer(Options());
  // A served request proves Run() is inside the event loop, so its signal
  // handler is installed and SIGTERM will not kill the test.
  ASSERT_EQ(curl_.Do(Pinned("/v1/whoami")).status, 200);
  ASSERT_EQ(::kill(::getpid(), SIGTERM), 0);
  auto done = std::async(std::launch::async, [this] { running_->thread().join(); });
  EXPECT_EQ(done.wait_for(5s), std::future_status::ready);
}

TEST_F(HttpServerTest, AdminSocketIsRemovedOnDestruction) {
  StartServer(Options());
  EXPECT_TRUE(fs::exists(socket_));
  running_.reset();
  EXPECT_FALSE(fs::exists(socket_));
}

TEST_F(HttpServerTest, StaleSocketIsReplaced) {
  {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, socket_.c_str(), sizeof(addr.sun_path) - 1);
    ASSERT_EQ(::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0);
  }  // closed without unlink: what a crashed server leaves
  StartServer(Options());
  EXPECT_EQ(curl_.Do(Admin("/v1/whoami")).status, 200);
}

TEST_F(HttpServerTest, SocketPathInUseIsNotTaken) {
  StartServer(Options());
  HttpServerOptions o = Options();
  o.listen_host.clear();
  HttpServer second(o, RouterHandler(), RouterHandler());
  EXPECT_EQ(second.Start().code(), Code::kFailedPrecondition);
  // The first server still owns its socket.
  EXPECT_EQ(curl_.Do(Admin("/v1/whoami")).status, 200);

  const std::string file = dir_ + "/plain";
  std::ofstream(file) << "data";
  o.admin_socket_path = file;
  HttpServer third(o, RouterHandler(), RouterHandler());
  EXPECT_EQ(third.Start().code(), Code::kFailedPrecondition);
  EXPECT_TRUE(fs::exists(file));
}

TEST_F(HttpServerTest, StartRefusesUnsafeFiles) {
  ASSERT_EQ(::chmod(key_.c_str(), 0644), 0);
  {
    HttpServer server(Options(), RouterHandler(), RouterHandler());
    EXPECT_EQ(server.Start().code(), Code::kPermissionDenied);
    EXPECT_FALSE(fs::exists(socket_));
  }
  ASSERT_EQ(::chmod(key_.c_str(), 0600), 0);

  const std::string open_dir = dir_ + "/open";
  ASSERT_EQ(::mkdir(open_dir.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(open_dir.c_str(), 0777), 0);
  HttpServerOptions o = Options();
  o.admin_socket_path = open_dir + "/admin.sock";
  HttpServer server(o, RouterHandler(), RouterHandler());
  Status s = server.Start();
  EXPECT_EQ(s.code(), Code::kPermissionDenied) << s.ToString();
  EXPECT_FALSE(fs::exists(o.admin_socket_path));
}

TEST_F(HttpServerTest, StartValidatesOptions) {
  HttpServerOptions o = Options();
  o.listen_host.clear();
  o.admin_socket_path.clear();
  EXPECT_EQ(HttpServer(o, RouterHandler(), RouterHandler()).Start().code(), Code::kInvalidArgument);
  o = Options();
  o.admin_uids.clear();
  EXPECT_EQ(HttpServer(o, RouterHandler(), RouterHandler()).Start().code(), Code::kInvalidArgument);
  o = Options();
  o.tls_cert_file = dir_ + "/missing.crt";
  EXPECT_EQ(HttpServer(o, RouterHandler(), RouterHandler()).Start().code(), Code::kNotFound);
  o = Options();
  o.threads = 0;
  EXPECT_EQ(HttpServer(o, RouterHandler(), RouterHandler()).Start().code(), Code::kInvalidArgument);
}

TEST_F(HttpServerTest, PortInUseIsUnavailable) {
  StartServer(Options());
  HttpServerOptions o = Options();
  o.listen_port = port_;
  o.admin_socket_path.clear();
  HttpServer second(o, RouterHandler(), RouterHandler());
  EXPECT_EQ(second.Start().code(), Code::kUnavailable);
}

}  // namespace
}  // namespace gate::ca

// --- WebSocket upgrades (websocket.h) ---

namespace gate::ca {
namespace {

// A TLS client that keeps its connection, for the WebSocket handshake and
// hand-made frames.
class TlsConnection {
 public:
  explicit TlsConnection(std::uint16_t port)
      : fd_(ConnectTcp(port)), ctx_(SSL_CTX_new(TLS_client_method())), ssl_(SSL_new(ctx_.get())) {
    ok_ = fd_.valid() && ssl_ && SSL_set_fd(ssl_.get(), fd_.get()) == 1 &&
          SSL_connect(ssl_.get()) == 1;
  }
  bool ok() const { return ok_; }
  void Write(const std::string& data) {
    SSL_write(ssl_.get(), data.data(), static_cast<int>(data.size()));
  }
  // Reads until `have` bytes are buffered or the connection closes or stays
  // silent for 5 s.
  bool ReadAtLeast(std::size_t have) {
    char buf[4096];
    while (in_.size() < have) {
      if (SSL_pending(ssl_.get()) == 0 && !WaitReadable(fd_.get(), 5000ms)) return false;
      const int n = SSL_read(ssl_.get(), buf, sizeof(buf));
      if (n <= 0) return false;
      in_.append(buf, static_cast<std::size_t>(n));
    }
    return true;
  }
  // The HTTP reply head (through the blank line), or what came before EOF.
  std::string ReadHead() {
    while (in_.find("\r\n\r\n") == std::string::npos) {
      if (!ReadAtLeast(in_.size() + 1)) return std::exchange(in_, "");
    }
    const std::size_t end = in_.find("\r\n\r\n") + 4;
    std::string head = in_.substr(0, end);
    in_.erase(0, end);
    return head;
  }
  // One short server frame (unmasked, payload < 126 bytes): opcode, payload.
  std::pair<int, std::string> ReadFrame() {
    if (!ReadAtLeast(2)) return {-1, ""};
    const int opcode = in_[0] & 0x0f;
    const std::size_t len = static_cast<unsigned char>(in_[1]) & 0x7f;
    if (!ReadAtLeast(2 + len)) return {-1, ""};
    std::string payload = in_.substr(2, len);
    in_.erase(0, 2 + len);
    return {opcode, payload};
  }
  // Ends TLS (close_notify) and the TCP connection's sending half, as a
  // browser does after the closing handshake.
  void Shutdown() {
    SSL_shutdown(ssl_.get());
    ::shutdown(fd_.get(), SHUT_WR);
  }
  // A masked client frame (RFC 6455 section 5.3), payload < 126 bytes.
  void WriteFrame(int opcode, const std::string& payload) {
    const unsigned char mask[4] = {0x12, 0x34, 0x56, 0x78};
    std::string frame;
    frame += static_cast<char>(0x80 | opcode);
    frame += static_cast<char>(0x80 | payload.size());
    frame.append(reinterpret_cast<const char*>(mask), 4);
    for (std::size_t i = 0; i < payload.size(); ++i) {
      frame += static_cast<char>(payload[i] ^ static_cast<char>(mask[i % 4]));
    }
    Write(frame);
  }

 private:
  UniqueFd fd_;
  CPtr<SSL_CTX, SSL_CTX_free> ctx_;
  CPtr<SSL, SSL_free> ssl_;
  bool ok_ = false;
  std::string in_;
};

std::string UpgradeRequest(const std::string& path) {
  return "GET " + path +
         " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
         "Origin: https://gate.test\r\n\r\n";
}

// Echoes each message back with "echo:"; "close" makes it close with a
// final text message.
class EchoHandler : public WebSocketHandler {
 public:
  void OnOpen(std::shared_ptr<WebSocketPeer> peer) override { peer_ = std::move(peer); }
  bool OnMessage(bool text, std::string data) override {
    if (data == "close") {
      peer_->Close(kCloseNormal, "bye", "final");
    } else {
      peer_->Send(text, "echo:" + data);
    }
    return true;
  }
  void OnClosed() override {
    closed_.set_value();
    peer_.reset();
  }
  std::future<void> closed() { return closed_.get_future(); }

 private:
  std::shared_ptr<WebSocketPeer> peer_;
  std::promise<void> closed_;
};

TEST(FitCloseReasonTest, CutsAtACharacterBoundaryWithin123Bytes) {
  EXPECT_EQ(FitCloseReason("bad CSRF token"), "bad CSRF token");
  EXPECT_EQ(FitCloseReason(std::string(123, 'a')), std::string(123, 'a'));
  EXPECT_EQ(FitCloseReason(std::string(200, 'a')), std::string(123, 'a'));
  // "é" is 2 bytes: 122 ASCII bytes, then one that would end at byte 124.
  EXPECT_EQ(FitCloseReason(std::string(122, 'a') + "\xc3\xa9tail"), std::string(122, 'a'));
  // A 3-byte character ending exactly at 123 stays.
  EXPECT_EQ(FitCloseReason(std::string(120, 'a') + "\xe2\x82\xac" + "x"),
            std::string(120, 'a') + "\xe2\x82\xac");
  // A 4-byte character cut after its second byte goes whole.
  EXPECT_EQ(FitCloseReason(std::string(121, 'a') + "\xf0\x9f\x94\x91"), std::string(121, 'a'));
}

TEST_F(HttpServerTest, WebSocketUpgradesAreDecidedByTheUpgradeHandler) {
  auto handler = std::make_shared<EchoHandler>();
  std::future<void> closed = handler->closed();
  std::string seen_origin;
  HttpServerOptions options = Options();
  options.upgrade = [&](const HttpRequest& req) -> std::optional<UpgradeResult> {
    if (req.path == "/v1/whoami") return std::nullopt;  // not a WebSocket route
    UpgradeResult result;
    result.route = "/ws/{x}";
    if (req.path == "/ws/refused") {
      result.refusal = ErrorReply(PermissionDenied("cross-origin request refused"));
      return result;
    }
    seen_origin = req.origin;
    result.handler = handler;
    return result;
  };
  StartServer(options);

  // A refusal is a plain HTTP reply, and no upgrade.
  Exchange refused = TlsExchange(port_, UpgradeRequest("/ws/refused"));
  EXPECT_EQ(refused.data.rfind("HTTP/1.1 403 ", 0), 0u) << refused.data;
  EXPECT_NE(refused.data.find("cross-origin request refused"), std::string::npos);
  EXPECT_EQ(refused.data.find("101"), std::string::npos);
  // A path that is not a WebSocket route is an ordinary request.
  Exchange ordinary = TlsExchange(port_, UpgradeRequest("/v1/whoami"));
  EXPECT_EQ(ordinary.data.rfind("HTTP/1.1 200 ", 0), 0u) << ordinary.data;

  TlsConnection ws(port_);
  ASSERT_TRUE(ws.ok());
  ws.Write(UpgradeRequest("/ws/echo"));
  const std::string head = ws.ReadHead();
  ASSERT_EQ(head.rfind("HTTP/1.1 101 ", 0), 0u) << head;
  EXPECT_NE(head.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), std::string::npos)
      << head;
  EXPECT_EQ(seen_origin, "https://gate.test");
  ws.WriteFrame(0x1, "hi");
  EXPECT_EQ(ws.ReadFrame(), (std::pair<int, std::string>{0x1, "echo:hi"}));
  ws.WriteFrame(0x2, std::string("\x01\x02", 2));
  EXPECT_EQ(ws.ReadFrame(), (std::pair<int, std::string>{0x2, std::string("echo:\x01\x02", 7)}));
  ws.WriteFrame(0x1, "close");
  EXPECT_EQ(ws.ReadFrame(), (std::pair<int, std::string>{0x1, "final"}));
  auto [opcode, payload] = ws.ReadFrame();
  EXPECT_EQ(opcode, 0x8);
  EXPECT_EQ(payload, std::string("\x03\xe8", 2) + "bye");  // 1000, "bye"
  ws.WriteFrame(0x8, std::string("\x03\xe8", 2));
  // The server's side ends with TLS, which waits for the client's.
  ws.Shutdown();
  EXPECT_EQ(closed.wait_for(10s), std::future_status::ready);
}

}  // namespace
}  // namespace gate::ca
