// Verifying an OpenID Connect ID token (OIDC Core 3.1.3.7) with libcjose:
// the signature against the provider's keys, then the claims.
//
// Thread safety: pure functions; safe from any thread.
#ifndef GATE_CA_CONNECTORS_ID_TOKEN_H_
#define GATE_CA_CONNECTORS_ID_TOKEN_H_

#include <json/json.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ca-server/connectors/jwks.h"
#include "gate/status.h"

namespace gate::ca {

// A token larger than this is refused before it is parsed.
inline constexpr std::size_t kMaxIdTokenBytes = 16 * 1024;

// What the token must say, from the connector and the login flow.
struct IdTokenExpectations {
  std::string issuer;                   // `iss`, exactly (the discovery document's issuer)
  std::string client_id;                // in `aud`; `azp`, if present, must equal it
  std::string nonce;                    // the flow's nonce, exactly (constant-time compare)
  std::vector<std::string> acr_values;  // when not empty, `acr` must be one
  std::int64_t now = 0;                 // unix seconds
  // Clock difference tolerated between gate-ca and the provider.
  std::chrono::seconds skew{60};
  // A token issued longer ago than this (iat) is refused: the code was
  // just exchanged, so its token is fresh.
  std::chrono::seconds max_age{10 * 60};
};

// Why a token was refused, for the audit log and the metrics; the message
// of the Status says it in words.
enum class IdTokenProblem {
  kMalformed,    // not a compact JWS, bad JSON, oversize
  kAlgorithm,    // alg not RS256/ES256 ("none", HS*, ...), or crit headers
  kUnknownKey,   // no key with the header's kid (the caller may refresh JWKS)
  kSignature,    // the signature does not verify
  kIssuer,       // iss
  kAudience,     // aud / azp
  kExpired,      // exp passed (beyond skew)
  kNotYetValid,  // iat or nbf in the future (beyond skew), or iat too old
  kNonce,        // nonce missing or different
  kAcr,          // acr not one of acr_values
  kSubject,      // sub missing
};

std::string_view IdTokenProblemName(IdTokenProblem p);  // "bad signature", "expired", ...

struct IdTokenError {
  IdTokenProblem problem;
  Status status;  // Unauthenticated with a message naming the check
};

struct VerifiedIdToken {
  std::string subject;  // sub
  Json::Value claims;   // the whole payload
};

// Verifies compact-serialised `token` against keys and expect. On success
// the claims, which the caller may trust. On failure nothing is returned
// but the reason; no claim of a token that failed is ever used.
tl::expected<VerifiedIdToken, IdTokenError> VerifyIdToken(std::string_view token,
                                                          const KeySet& keys,
                                                          const IdTokenExpectations& expect);

// The JWS header's kid, for the caller deciding to refresh keys on
// kUnknownKey; empty if absent or unreadable.
std::string IdTokenKeyId(std::string_view token);

}  // namespace gate::ca

#endif  // GATE_CA_CONNECTORS_ID_TOKEN_H_
