#include "ca-server/connectors/id_token.h"

#include <cjose/jws.h>

#include <algorithm>
#include <optional>
#include <utility>

#include "gate/bytes.h"
#include "gate/cptr.h"
#include "gate/json.h"
#include "gate/secret.h"

namespace gate::ca {
namespace {

using Jws = CPtr<cjose_jws_t, cjose_jws_release>;

tl::unexpected<IdTokenError> Refuse(IdTokenProblem problem, const std::string& why) {
  return tl::unexpected<IdTokenError>(
      IdTokenError{problem, Unauthenticated("ID token refused: " + why)});
}

// The JOSE header of a compact JWS, read only to pick the key and refuse
// algorithms before libcjose sees the token.
std::optional<Json::Value> Header(std::string_view token) {
  const std::size_t dot = token.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  auto raw = Base64UrlDecode(token.substr(0, dot));
  if (!raw) return std::nullopt;
  auto header = json::Parse(*raw, kMaxIdTokenBytes);
  if (!header) return std::nullopt;
  return *std::move(header);
}

std::optional<std::int64_t> NumericDate(const Json::Value& claims, const char* name) {
  const Json::Value& v = claims[name];
  if (!v.isNumeric()) return std::nullopt;
  const double d = v.asDouble();
  if (!(d >= 0 && d < 1e13)) return std::nullopt;
  return static_cast<std::int64_t>(d);
}

bool AudienceHas(const Json::Value& aud, const std::string& client_id, std::size_t* count) {
  if (aud.isString()) {
    *count = 1;
    return aud.asString() == client_id;
  }
  if (!aud.isArray()) return false;
  *count = aud.size();
  return std::any_of(aud.begin(), aud.end(), [&](const Json::Value& a) {
    return a.isString() && a.asString() == client_id;
  });
}

}  // namespace

std::string_view IdTokenProblemName(IdTokenProblem p) {
  switch (p) {
    case IdTokenProblem::kMalformed:
      return "malformed token";
    case IdTokenProblem::kAlgorithm:
      return "algorithm not allowed";
    case IdTokenProblem::kUnknownKey:
      return "unknown signing key";
    case IdTokenProblem::kSignature:
      return "bad signature";
    case IdTokenProblem::kIssuer:
      return "wrong issuer";
    case IdTokenProblem::kAudience:
      return "wrong audience";
    case IdTokenProblem::kExpired:
      return "expired";
    case IdTokenProblem::kNotYetValid:
      return "not valid now";
    case IdTokenProblem::kNonce:
      return "wrong nonce";
    case IdTokenProblem::kAcr:
      return "acr not allowed";
    case IdTokenProblem::kSubject:
      return "no subject";
  }
  return "refused";
}

std::string IdTokenKeyId(std::string_view token) {
  if (token.size() > kMaxIdTokenBytes) return "";
  auto header = Header(token);
  if (!header || !(*header)["kid"].isString()) return "";
  return (*header)["kid"].asString();
}

tl::expected<VerifiedIdToken, IdTokenError> VerifyIdToken(std::string_view token,
                                                          const KeySet& keys,
                                                          const IdTokenExpectations& expect) {
  using P = IdTokenProblem;
  if (token.empty() || token.size() > kMaxIdTokenBytes) {
    return Refuse(P::kMalformed,
                  "empty or larger than " + std::to_string(kMaxIdTokenBytes) + " bytes");
  }
  if (std::count(token.begin(), token.end(), '.') != 2) {
    return Refuse(P::kMalformed, "not a signed JWT (compact JWS)");
  }
  auto header = Header(token);
  if (!header) return Refuse(P::kMalformed, "unreadable JOSE header");
  const std::string alg = (*header)["alg"].isString() ? (*header)["alg"].asString() : "";
  JwsAlg jws_alg;
  if (alg == "RS256") {
    jws_alg = JwsAlg::kRs256;
  } else if (alg == "ES256") {
    jws_alg = JwsAlg::kEs256;
  } else {
    return Refuse(P::kAlgorithm, "algorithm '" + alg + "' is not allowed (RS256, ES256 only)");
  }
  // RFC 7515 4.1.11: an extension we do not understand must not be ignored.
  if (header->isMember("crit")) return Refuse(P::kAlgorithm, "critical header extensions");
  const Json::Value& kid_value = (*header)["kid"];
  if (!kid_value.isNull() && !kid_value.isString())
    return Refuse(P::kMalformed, "kid not a string");
  const std::string kid = kid_value.isString() ? kid_value.asString() : "";
  const cjose_jwk_t* key = keys.Find(kid, jws_alg);
  if (key == nullptr) {
    return Refuse(P::kUnknownKey, "no " + alg + " key with kid '" + kid + "' at the provider");
  }

  // Every part must be strict base64url before libcjose sees the token: its
  // decoder aborts the process (an assert) on a part whose length is 1
  // modulo 4.
  for (std::size_t start = 0; start <= token.size();) {
    const std::size_t dot = std::min(token.find('.', start), token.size());
    if (!Base64UrlDecode(token.substr(start, dot - start))) {
      return Refuse(P::kMalformed, "a part is not base64url");
    }
    start = dot + 1;
  }
  cjose_err err{};
  Jws jws(cjose_jws_import(token.data(), token.size(), &err));
  if (!jws) return Refuse(P::kMalformed, "not a valid JWS");
  if (!cjose_jws_verify(jws.get(), key, &err)) {
    return Refuse(P::kSignature, "signature does not verify");
  }
  // The header libcjose verified must be the one we chose the key by.
  cjose_header_t* verified_header = cjose_jws_get_protected(jws.get());
  const char* verified_alg =
      verified_header == nullptr ? nullptr : cjose_header_get(verified_header, CJOSE_HDR_ALG, &err);
  if (verified_alg == nullptr || alg != verified_alg) {
    return Refuse(P::kAlgorithm, "header changed between parses");
  }
  std::uint8_t* plain = nullptr;
  std::size_t plain_len = 0;
  if (!cjose_jws_get_plaintext(jws.get(), &plain, &plain_len, &err) || plain == nullptr) {
    return Refuse(P::kMalformed, "no payload");
  }
  auto claims = json::Parse(std::string_view(reinterpret_cast<const char*>(plain), plain_len),
                            kMaxIdTokenBytes);
  if (!claims) return Refuse(P::kMalformed, "payload is not a JSON object");
  const Json::Value& c = *claims;

  if (!c["iss"].isString() || c["iss"].asString() != expect.issuer) {
    return Refuse(P::kIssuer, "issuer is not " + expect.issuer);
  }
  std::size_t audiences = 0;
  if (!AudienceHas(c["aud"], expect.client_id, &audiences)) {
    return Refuse(P::kAudience, "audience does not include this client");
  }
  const Json::Value& azp = c["azp"];
  if ((audiences > 1 && !azp.isString()) ||
      (!azp.isNull() && (!azp.isString() || azp.asString() != expect.client_id))) {
    return Refuse(P::kAudience, "authorized party (azp) is not this client");
  }
  const std::int64_t skew = expect.skew.count();
  auto exp = NumericDate(c, "exp");
  auto iat = NumericDate(c, "iat");
  if (!exp || !iat) return Refuse(P::kMalformed, "exp or iat missing");
  if (expect.now > *exp + skew) return Refuse(P::kExpired, "expired");
  if (*iat > expect.now + skew) return Refuse(P::kNotYetValid, "issued in the future");
  if (*iat < expect.now - expect.max_age.count() - skew) {
    return Refuse(P::kNotYetValid, "issued too long ago");
  }
  if (c.isMember("nbf")) {
    auto nbf = NumericDate(c, "nbf");
    if (!nbf || *nbf > expect.now + skew) return Refuse(P::kNotYetValid, "not valid yet (nbf)");
  }
  const Json::Value& nonce = c["nonce"];
  if (expect.nonce.empty() || !nonce.isString() ||
      !ConstantTimeEquals(nonce.asString(), expect.nonce)) {
    return Refuse(P::kNonce, "nonce does not match this login");
  }
  if (!expect.acr_values.empty()) {
    const Json::Value& acr = c["acr"];
    if (!acr.isString() || std::find(expect.acr_values.begin(), expect.acr_values.end(),
                                     acr.asString()) == expect.acr_values.end()) {
      return Refuse(P::kAcr, "authentication context (acr) is not one this connector accepts");
    }
  }
  if (!c["sub"].isString() || c["sub"].asString().empty()) {
    return Refuse(P::kSubject, "no subject (sub)");
  }
  return VerifiedIdToken{c["sub"].asString(), c};
}

}  // namespace gate::ca
