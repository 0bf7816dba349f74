// Test fixtures for the HTTP transports: certificates made on the spot with
// OpenSSL (a CA, leaves that are valid, expired or for another name), and a
// one-connection server on 127.0.0.1, plain or TLS, that can misbehave on
// purpose (never answer, send garbage, close without close_notify).
#ifndef GATE_TESTS_UNIT_LIBGATE_HTTP_TEST_SERVER_H_
#define GATE_TESTS_UNIT_LIBGATE_HTTP_TEST_SERVER_H_

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>

#include "gate/bytes.h"
#include "gate/cptr.h"
#include "gate/unique_fd.h"

namespace gate::testing {

using EvpPkeyPtr = CPtr<EVP_PKEY, EVP_PKEY_free>;
using X509Ptr = CPtr<X509, X509_free>;
using SslCtxPtr = CPtr<SSL_CTX, SSL_CTX_free>;
using SslPtr = CPtr<SSL, SSL_free>;

struct KeyAndCert {
  EvpPkeyPtr key;
  X509Ptr cert;

  // "sha256:<hex>" of the certificate's SubjectPublicKeyInfo, as gate-ca
  // prints it and HttpClientOptions::ca_pin takes it.
  std::string Pin() const {
    unsigned char* der = nullptr;
    const int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert.get()), &der);
    std::string spki(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
    OPENSSL_free(der);
    return "sha256:" + HexEncode(Sha256(spki));
  }

  void WritePem(const std::string& path) const {
    FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    PEM_write_X509(f, cert.get());
    std::fclose(f);
  }
};

struct CertSpec {
  std::string common_name = "gate-test";
  std::string alt_names;    // "IP:127.0.0.1,DNS:localhost"; empty: none
  long not_before = -3600;  // seconds from now
  long not_after = 3600;
  bool is_ca = false;
};

// A P-256 key and a certificate for it, signed by issuer (self-signed if
// issuer is null).
inline KeyAndCert MakeCert(const CertSpec& spec, const KeyAndCert* issuer = nullptr) {
  KeyAndCert out;
  out.key.reset(EVP_EC_gen("P-256"));
  out.cert.reset(X509_new());
  X509* x = out.cert.get();
  X509_set_version(x, 2);
  static long serial = 1;
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
  X509_gmtime_adj(X509_getm_notBefore(x), spec.not_before);
  X509_gmtime_adj(X509_getm_notAfter(x), spec.not_after);
  X509_set_pubkey(x, out.key.get());
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(spec.common_name.c_str()), -1,
                             -1, 0);
  X509* signer_cert = issuer != nullptr ? issuer->cert.get() : x;
  EVP_PKEY* signer_key = issuer != nullptr ? issuer->key.get() : out.key.get();
  X509_set_issuer_name(x, X509_get_subject_name(signer_cert));
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, signer_cert, x, nullptr, nullptr, 0);
  auto add = [&](int nid, const std::string& value) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    EXPECT_NE(ext, nullptr) << value;
    if (ext == nullptr) return;
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  };
  if (spec.is_ca) {
    add(NID_basic_constraints, "critical,CA:TRUE");
    add(NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add(NID_basic_constraints, "critical,CA:FALSE");
  }
  add(NID_subject_key_identifier, "hash");
  if (!spec.alt_names.empty()) add(NID_subject_alt_name, spec.alt_names);
  EXPECT_GT(X509_sign(x, signer_key, EVP_sha256()), 0);
  return out;
}

// Serves one connection on 127.0.0.1 (kernel-chosen port) from a thread.
class TestServer {
 public:
  enum class Mode {
    kAnswer,       // read the request, send `response`, close
    kNeverAnswer,  // read the request, then wait for the client to give up
    kNoHandshake,  // accept, send nothing at all (TLS clients wait in the handshake)
  };

  struct Options {
    Mode mode = Mode::kAnswer;
    std::string response;
    const KeyAndCert* tls = nullptr;  // TLS with this certificate; null: plain
    bool close_notify = true;         // TLS: say goodbye properly before closing
    int max_tls_version = 0;          // e.g. TLS1_1_VERSION to offer only old TLS
    // Requests answered on the one connection (keep-alive); the listener
    // accepts no second connection, so a client must reuse it.
    int requests = 1;
  };

  explicit TestServer(Options options) : options_(std::move(options)) {
    listener_.Reset(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(listener_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    socklen_t len = sizeof(addr);
    EXPECT_EQ(getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&addr), &len), 0);
    port_ = ntohs(addr.sin_port);
    EXPECT_EQ(listen(listener_.get(), 1), 0);
    thread_ = std::thread([this] { Serve(); });
  }

  ~TestServer() { Join(); }

  std::uint16_t port() const { return port_; }
  std::string Url(const std::string& host = "127.0.0.1") const {
    return std::string(options_.tls != nullptr ? "https" : "http") + "://" + host + ":" +
           std::to_string(port_);
  }

  // What the client sent (after TLS) and the SNI name it asked for. Valid
  // once the client call has returned (the thread is joined first).
  const std::string& request() {
    Join();
    return request_;
  }
  const std::string& server_name() {
    Join();
    return server_name_;
  }
  bool handshake_done() {
    Join();
    return handshake_done_;
  }

 private:
  void Join() {
    if (thread_.joinable()) thread_.join();
  }

  // At most 10 s, so a failing test cannot hang the suite.
  static bool WaitReadable(int fd) {
    pollfd p{fd, POLLIN, 0};
    return poll(&p, 1, 10000) == 1;
  }

  // Waits until the client closes its end (or 10 s pass).
  static void WaitForHangUp(int fd) {
    char buf[512];
    while (WaitReadable(fd) && recv(fd, buf, sizeof(buf), 0) > 0) {
    }
  }

  void Serve() {
    if (!WaitReadable(listener_.get())) return;
    UniqueFd conn(accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!conn.valid()) return;
    timeval tv{10, 0};
    setsockopt(conn.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(conn.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (options_.mode == Mode::kNoHandshake) return WaitForHangUp(conn.get());

    SslCtxPtr ctx;
    SslPtr ssl;
    if (options_.tls != nullptr) {
      ctx.reset(SSL_CTX_new(TLS_server_method()));
      if (options_.max_tls_version != 0) {
        SSL_CTX_set_security_level(ctx.get(), 0);
        SSL_CTX_set_min_proto_version(ctx.get(), 0);
        SSL_CTX_set_max_proto_version(ctx.get(), options_.max_tls_version);
      }
      SSL_CTX_use_certificate(ctx.get(), options_.tls->cert.get());
      SSL_CTX_use_PrivateKey(ctx.get(), options_.tls->key.get());
      ssl.reset(SSL_new(ctx.get()));
      SSL_set_fd(ssl.get(), conn.get());
      if (SSL_accept(ssl.get()) != 1) return;
      handshake_done_ = true;
      const char* sni = SSL_get_servername(ssl.get(), TLSEXT_NAMETYPE_host_name);
      if (sni != nullptr) server_name_ = sni;
    }
    auto recv_some = [&](char* buf, int size) -> int {
      if (ssl) return SSL_read(ssl.get(), buf, size);
      return static_cast<int>(recv(conn.get(), buf, static_cast<std::size_t>(size), 0));
    };
    auto send_all = [&](std::string_view data) {
      while (!data.empty()) {
        const int n =
            ssl ? SSL_write(ssl.get(), data.data(), static_cast<int>(data.size()))
                : static_cast<int>(send(conn.get(), data.data(), data.size(), MSG_NOSIGNAL));
        if (n <= 0) return;
        data.remove_prefix(static_cast<std::size_t>(n));
      }
    };

    for (int i = 0; i < options_.requests; ++i) {
      if (!ReadRequest(recv_some)) return;
      if (options_.mode == Mode::kNeverAnswer) return WaitForHangUp(conn.get());
      send_all(options_.response);
    }
    if (ssl && options_.close_notify) SSL_shutdown(ssl.get());
  }

  // One request (headers, then Content-Length bytes of body), appended to
  // request_. False if the connection ended first.
  template <typename Recv>
  bool ReadRequest(Recv& recv_some) {
    const std::size_t start = request_.size();
    std::size_t header_end = std::string::npos;
    std::size_t content_length = 0;
    char buf[4096];
    while (header_end == std::string::npos ||
           request_.size() < start + header_end + 4 + content_length) {
      const int n = recv_some(buf, sizeof(buf));
      if (n <= 0) return false;
      request_.append(buf, static_cast<std::size_t>(n));
      if (header_end == std::string::npos) {
        const std::string_view mine = std::string_view(request_).substr(start);
        header_end = mine.find("\r\n\r\n");
        const std::size_t cl = mine.find("Content-Length: ");
        if (header_end != std::string::npos && cl != std::string::npos && cl < header_end) {
          content_length = std::stoul(std::string(mine.substr(cl + 16, 20)));
        }
      }
    }
    return true;
  }

  Options options_;
  UniqueFd listener_;
  std::uint16_t port_ = 0;
  std::string request_;
  std::string server_name_;
  bool handshake_done_ = false;
  std::thread thread_;
};

}  // namespace gate::testing

#endif  // GATE_TESTS_UNIT_LIBGATE_HTTP_TEST_SERVER_H_
