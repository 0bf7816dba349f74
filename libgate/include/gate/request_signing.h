// Requests signed with a Gate user certificate's key. Users have no bearer
// token: the credential `gate login` leaves in ~/.gate is an OpenSSH
// certificate and its Ed25519 key, so that is what proves who is asking
// (gate sessions, gate play; docs/api.md, "Signed requests"). gate (which
// signs) and gate-ca (which checks) both use this file, so the canonical
// string exists once.
//
//   Authorization: Gate-Cert <base64 of the certificate blob>
//   X-Gate-Signature: t=<unix seconds>,n=<32 lower-case hex>,s=<base64 signature>
//
// s is an Ed25519 signature by the certified key over
//
//   "gate-signed-request-v1\n" METHOD "\n" TARGET "\n" t "\n" n "\n"
//   hex(SHA-256(body)) "\n"
//
// TARGET is the request target as sent: the path and, if there is one, "?"
// and the query, still percent-encoded. The server decides freshness (t
// within its window) and uniqueness (n not seen in that window); this file
// only builds, parses and checks signatures. Pure functions; thread-safe.
#ifndef GATE_REQUEST_SIGNING_H_
#define GATE_REQUEST_SIGNING_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "gate/ed25519.h"
#include "gate/status.h"

namespace gate::signing {

inline constexpr std::string_view kAuthScheme = "Gate-Cert";
inline constexpr std::string_view kSignatureHeader = "X-Gate-Signature";
inline constexpr std::size_t kNonceBytes = 16;
// A Gate user certificate is well under 2 KiB; the cap bounds what a server
// decodes and parses before any signature is checked.
inline constexpr std::size_t kMaxCertificateBlob = 16 * 1024;

// The string that is signed (above).
std::string CanonicalString(std::string_view method, std::string_view target,
                            std::int64_t timestamp, std::string_view nonce, std::string_view body);

struct SignedHeaders {
  std::string authorization;  // value of Authorization
  std::string signature;      // value of X-Gate-Signature
};

// Signs one request at time now with a fresh random nonce. certificate_blob
// is the certificate's wire form (ssh::Certificate::blob). Internal if the
// RNG or the signature fails.
Result<SignedHeaders> SignRequest(const ssh::Ed25519PrivateKey& key,
                                  std::string_view certificate_blob, std::string_view method,
                                  std::string_view target, std::string_view body, std::int64_t now);

// "Gate-Cert <base64>" (scheme in any case, one space) -> the certificate
// blob. Unauthenticated for an empty header, a different scheme, bad base64
// or a blob over kMaxCertificateBlob; the message never echoes the header.
Result<std::string> ParseAuthorization(std::string_view header);

struct RequestSignature {
  std::int64_t timestamp = 0;
  std::string nonce;      // 2 * kNonceBytes lower-case hex
  std::string signature;  // 64 raw bytes
};

// Parses X-Gate-Signature: exactly the three fields t, n, s in that order,
// separated by ',' (no spaces); t canonical decimal (no sign, no leading
// zero); n 2 * kNonceBytes lower-case hex; s base64 of 64 bytes.
// Unauthenticated naming the field otherwise.
Result<RequestSignature> ParseSignatureHeader(std::string_view header);

// True iff signature.signature is key's signature over the canonical string
// of (method, target, signature.timestamp, signature.nonce, body).
bool VerifyRequest(const ssh::Ed25519PublicKey& key, const RequestSignature& signature,
                   std::string_view method, std::string_view target, std::string_view body);

}  // namespace gate::signing

#endif  // GATE_REQUEST_SIGNING_H_
