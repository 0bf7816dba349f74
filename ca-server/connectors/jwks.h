// An OpenID provider's signing keys (its JWKS document, RFC 7517), imported
// with libcjose. Only keys that can verify the algorithms gate accepts are
// kept: RSA keys of at least 2048 bits (RS256) and EC P-256 keys (ES256).
//
// Thread safety: a KeySet is immutable once parsed; share it freely
// (through shared_ptr<const KeySet>).
#ifndef GATE_CA_CONNECTORS_JWKS_H_
#define GATE_CA_CONNECTORS_JWKS_H_

#include <cjose/jwk.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gate/cptr.h"
#include "gate/status.h"

namespace gate::ca {

// A JWKS document larger than this is refused (a real one is a few KiB).
inline constexpr std::size_t kMaxJwksBytes = 256 * 1024;

// The JWS algorithms an ID token may be signed with. Everything else
// ("none", HS*, PS*, ...) is refused before any key is looked at.
enum class JwsAlg { kRs256, kEs256 };

class KeySet {
 public:
  // Imports every usable signing key of a JWKS document ("use" absent or
  // "sig"; kty RSA >= 2048 bits or EC P-256; "alg", when given, RS256 or
  // ES256 to match). Keys of other types are skipped. InvalidArgument when
  // the document is not JSON, has no "keys" list, or has no usable key;
  // when it is larger than kMaxJwksBytes.
  static Result<std::shared_ptr<const KeySet>> Parse(std::string_view jwks_json);

  // The key to verify a token signed with alg whose header named kid, or
  // null if there is none. An empty kid matches only when the set holds
  // exactly one key for alg (OIDC Core 10.1 lets a provider with one key
  // leave kid out).
  const cjose_jwk_t* Find(std::string_view kid, JwsAlg alg) const;

  std::size_t size() const { return keys_.size(); }

 private:
  struct Key {
    std::string kid;
    JwsAlg alg;
    CPtr<cjose_jwk_t, cjose_jwk_release> jwk;
  };
  std::vector<Key> keys_;
};

}  // namespace gate::ca

#endif  // GATE_CA_CONNECTORS_JWKS_H_
