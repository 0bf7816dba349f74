// The Beast transport's TLS policy, in plain OpenSSL (no Asio here), the same
// as the curl transport's for every HttpClientOptions field:
//   insecure       no verification at all (a ca_pin is then not checked
//                  either, as with curl, which ignores the pin when not
//                  verifying);
//   ca_pin         the server's SubjectPublicKeyInfo must hash to the pin;
//                  chain and name are not checked (self-signed gate-ca), like
//                  CURLOPT_PINNEDPUBLICKEY with verification off;
//   otherwise      chain to the system store (/etc/ssl/certs, read lazily by
//                  hash; curl's capath) plus ca_file, and the host name or IP
//                  address in the certificate, wildcards only as a whole
//                  left-most label.
// TLS 1.2 or later always; SNI for host names (never for addresses).
#ifndef GATE_SRC_HTTP_BEAST_TLS_H_
#define GATE_SRC_HTTP_BEAST_TLS_H_

#include <openssl/ssl.h>

#include <array>
#include <string>

#include "gate/http_client.h"
#include "gate/status.h"
#include "http/beast/url.h"

namespace gate::http {

// Sets up a client context as the options ask. Unavailable (with a reason
// for "cannot reach <url>: ") if ca_file cannot be loaded; Internal on an
// OpenSSL failure.
Status ConfigureTlsContext(SSL_CTX* ctx, const HttpClientOptions& options);

// Per connection: SNI, and the name or address to verify when verifying.
Status ConfigureTlsConnection(SSL* ssl, const Url& url, const HttpClientOptions& options);

// After a completed handshake: whether the peer's certificate carries the
// key pinned by pin (ParseCaPin's form). Compared in constant time.
bool PeerKeyMatches(SSL* ssl, const std::array<unsigned char, 32>& pin);

// After a failed handshake: why certificate verification failed (OpenSSL's
// wording, e.g. "certificate has expired"), or "" if that is not why (or
// the options do not verify).
std::string VerificationFailure(SSL* ssl, const HttpClientOptions& options);

}  // namespace gate::http

#endif  // GATE_SRC_HTTP_BEAST_TLS_H_
