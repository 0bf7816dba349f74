#include "ca-server/connectors/jwks.h"

#include <json/json.h>

#include <optional>
#include <utility>

#include "gate/json.h"

namespace gate::ca {
namespace {

// base64url characters of a 2048-bit modulus (256 bytes, unpadded).
constexpr std::size_t kMinRsaModulusChars = 342;

// The algorithm a JWK verifies, or nothing when gate does not use it.
std::optional<JwsAlg> UsableAlg(const Json::Value& key) {
  if (!key.isObject()) return std::nullopt;
  const Json::Value& use = key["use"];
  if (!use.isNull() && (!use.isString() || use.asString() != "sig")) return std::nullopt;
  const std::string kty = key["kty"].isString() ? key["kty"].asString() : "";
  const std::string alg = key["alg"].isString() ? key["alg"].asString() : "";
  if (kty == "RSA" && (alg.empty() || alg == "RS256")) {
    const Json::Value& n = key["n"];
    if (!n.isString() || n.asString().size() < kMinRsaModulusChars) return std::nullopt;
    return JwsAlg::kRs256;
  }
  if (kty == "EC" && (alg.empty() || alg == "ES256") && key["crv"].isString() &&
      key["crv"].asString() == "P-256") {
    return JwsAlg::kEs256;
  }
  return std::nullopt;
}

// The key's public members only: a JWKS that (wrongly) carries private
// parts must not make us hold a private key.
Json::Value PublicPart(const Json::Value& key, JwsAlg alg) {
  Json::Value out(Json::objectValue);
  const char* const rsa[] = {"kty", "n", "e"};
  const char* const ec[] = {"kty", "crv", "x", "y"};
  if (alg == JwsAlg::kRs256) {
    for (const char* m : rsa) out[m] = key[m];
  } else {
    for (const char* m : ec) out[m] = key[m];
  }
  return out;
}

}  // namespace

Result<std::shared_ptr<const KeySet>> KeySet::Parse(std::string_view jwks_json) {
  if (jwks_json.size() > kMaxJwksBytes) return Err(InvalidArgument("JWKS document too large"));
  auto doc = json::Parse(jwks_json, kMaxJwksBytes);
  if (!doc) return Err(doc.error().WithContext("JWKS document"));
  const Json::Value& keys = (*doc)["keys"];
  if (!keys.isArray()) return Err(InvalidArgument("JWKS document has no \"keys\" list"));
  auto set = std::make_shared<KeySet>();
  for (const Json::Value& key : keys) {
    auto alg = UsableAlg(key);
    if (!alg) continue;
    const std::string text = json::Write(PublicPart(key, *alg));
    cjose_err err{};
    CPtr<cjose_jwk_t, cjose_jwk_release> jwk(cjose_jwk_import(text.data(), text.size(), &err));
    if (!jwk) continue;  // a malformed key is as unusable as an unknown one
    std::string kid = key["kid"].isString() ? key["kid"].asString() : "";
    set->keys_.push_back(Key{std::move(kid), *alg, std::move(jwk)});
  }
  if (set->keys_.empty()) {
    return Err(InvalidArgument("JWKS document has no RS256 (RSA >= 2048 bits) or ES256 key"));
  }
  return std::shared_ptr<const KeySet>(std::move(set));
}

const cjose_jwk_t* KeySet::Find(std::string_view kid, JwsAlg alg) const {
  const cjose_jwk_t* only = nullptr;
  int of_alg = 0;
  for (const Key& k : keys_) {
    if (k.alg != alg) continue;
    if (!kid.empty() && k.kid == kid) return k.jwk.get();
    ++of_alg;
    only = k.jwk.get();
  }
  return kid.empty() && of_alg == 1 ? only : nullptr;
}

}  // namespace gate::ca
