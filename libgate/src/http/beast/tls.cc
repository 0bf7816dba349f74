#include "http/beast/tls.h"

#include <openssl/crypto.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <string_view>

#include "gate/bytes.h"

namespace gate::http {
namespace {

bool Verifies(const HttpClientOptions& options) {
  return !options.insecure && options.ca_pin.empty();
}

}  // namespace

Status ConfigureTlsContext(SSL_CTX* ctx, const HttpClientOptions& options) {
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
    return Internal("cannot require TLS 1.2");
  }
  if (!Verifies(options)) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    return Status::Ok();
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  // The hashed directory, not the 140-certificate bundle file: OpenSSL then
  // reads only the issuer it needs.
  if (SSL_CTX_load_verify_dir(ctx, X509_get_default_cert_dir()) != 1) {
    return Internal(std::string("cannot use the system CA directory ") +
                    X509_get_default_cert_dir());
  }
  if (!options.ca_file.empty() && SSL_CTX_load_verify_file(ctx, options.ca_file.c_str()) != 1) {
    return Unavailable("cannot load CA file " + options.ca_file);
  }
  return Status::Ok();
}

Status ConfigureTlsConnection(SSL* ssl, const Url& url, const HttpClientOptions& options) {
  // SSL_set_tlsext_host_name, without the macro's old-style cast.
  if (!url.host_is_ip && SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                                  const_cast<char*>(url.host.c_str())) != 1) {
    return Internal("cannot set the TLS server name");
  }
  if (!Verifies(options)) return Status::Ok();
  SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  const int set = url.host_is_ip
                      ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), url.host.c_str())
                      : SSL_set1_host(ssl, url.host.c_str());
  if (set != 1) return Internal("cannot set the name to verify");
  return Status::Ok();
}

bool PeerKeyMatches(SSL* ssl, const std::array<unsigned char, 32>& pin) {
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr) return false;
  unsigned char* der = nullptr;
  const int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
  if (len <= 0) return false;
  const std::string digest =
      Sha256(std::string_view(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len)));
  OPENSSL_free(der);
  return digest.size() == pin.size() && CRYPTO_memcmp(digest.data(), pin.data(), pin.size()) == 0;
}

std::string VerificationFailure(SSL* ssl, const HttpClientOptions& options) {
  // Without verification OpenSSL still records what it found; it decided nothing.
  if (!Verifies(options)) return "";
  const long result = SSL_get_verify_result(ssl);
  if (result == X509_V_OK) return "";
  return X509_verify_cert_error_string(result);
}

}  // namespace gate::http
