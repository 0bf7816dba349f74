// ID token verification (ca-server/connectors/id_token.h) against tokens
// signed in the test with keys made in the test (libcjose, RS256 and ES256),
// and hand-built tokens for what no honest signer produces (alg none, HS256).
#include "ca-server/connectors/id_token.h"

#include <cjose/header.h>
#include <cjose/jwk.h>
#include <cjose/jws.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "ca-server/connectors/jwks.h"
#include "gate/bytes.h"
#include "gate/cptr.h"
#include "gate/json.h"

namespace gate::ca {
namespace {

using Jwk = CPtr<cjose_jwk_t, cjose_jwk_release>;
using Header = CPtr<cjose_header_t, cjose_header_release>;
using JwsPtr = CPtr<cjose_jws_t, cjose_jws_release>;

constexpr std::int64_t kNow = 1'800'000'000;
constexpr char kIssuer[] = "https://idp.test";
constexpr char kClient[] = "gate";
constexpr char kNonce[] = "n-0S6_WzA2Mj";

Jwk RsaKey() {
  static const unsigned char e[] = {0x01, 0x00, 0x01};
  cjose_err err{};
  Jwk k(cjose_jwk_create_RSA_random(2048, e, sizeof(e), &err));
  EXPECT_TRUE(k);
  return k;
}

Jwk EcKey() {
  cjose_err err{};
  Jwk k(cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &err));
  EXPECT_TRUE(k);
  return k;
}

// The public JWK of key as a provider publishes it, with kid.
Json::Value PublicJwk(const cjose_jwk_t* key, const std::string& kid) {
  cjose_err err{};
  char* text = cjose_jwk_to_json(key, false, &err);
  EXPECT_NE(text, nullptr);
  auto v = json::Parse(text);
  std::free(text);
  EXPECT_TRUE(v.has_value());
  (*v)["kid"] = kid;
  (*v)["use"] = "sig";
  return *v;
}

std::string Jwks(const std::vector<Json::Value>& keys) {
  Json::Value doc;
  doc["keys"] = Json::Value(Json::arrayValue);
  for (const auto& k : keys) doc["keys"].append(k);
  return json::Write(doc);
}

std::string Sign(const cjose_jwk_t* key, const char* alg, const std::string& kid,
                 const Json::Value& claims) {
  cjose_err err{};
  Header h(cjose_header_new(&err));
  EXPECT_TRUE(cjose_header_set(h.get(), CJOSE_HDR_ALG, alg, &err));
  if (!kid.empty()) {
    EXPECT_TRUE(cjose_header_set(h.get(), CJOSE_HDR_KID, kid.c_str(), &err));
  }
  const std::string payload = json::Write(claims);
  JwsPtr jws(cjose_jws_sign(key, h.get(), reinterpret_cast<const std::uint8_t*>(payload.data()),
                            payload.size(), &err));
  EXPECT_TRUE(jws) << err.message;
  const char* out = nullptr;
  EXPECT_TRUE(cjose_jws_export(jws.get(), &out, &err));
  return out;
}

Json::Value GoodClaims() {
  Json::Value c;
  c["iss"] = kIssuer;
  c["aud"] = kClient;
  c["sub"] = "248289761001";
  c["email"] = "alice@example.com";
  c["nonce"] = kNonce;
  c["iat"] = Json::Int64(kNow - 5);
  c["exp"] = Json::Int64(kNow + 300);
  return c;
}

IdTokenExpectations Expect() {
  IdTokenExpectations e;
  e.issuer = kIssuer;
  e.client_id = kClient;
  e.nonce = kNonce;
  e.now = kNow;
  return e;
}

class IdTokenTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rsa_ = new Jwk(RsaKey());
    ec_ = new Jwk(EcKey());
    other_rsa_ = new Jwk(RsaKey());
  }
  static void TearDownTestSuite() {
    delete rsa_;
    delete ec_;
    delete other_rsa_;
  }

  void SetUp() override {
    auto set = KeySet::Parse(Jwks({PublicJwk(rsa_->get(), "rsa1"), PublicJwk(ec_->get(), "ec1")}));
    ASSERT_TRUE(set.has_value()) << set.error().ToString();
    keys_ = *set;
  }

  // The problem VerifyIdToken finds in token (kMalformed.. or nullopt if accepted).
  std::optional<IdTokenProblem> Problem(const std::string& token,
                                        const IdTokenExpectations& e = Expect()) {
    auto r = VerifyIdToken(token, *keys_, e);
    if (r) return std::nullopt;
    EXPECT_EQ(r.error().status.code(), Code::kUnauthenticated);
    return r.error().problem;
  }
  std::optional<IdTokenProblem> ProblemWith(const Json::Value& claims) {
    return Problem(Sign(rsa_->get(), "RS256", "rsa1", claims));
  }

  static Jwk* rsa_;
  static Jwk* ec_;
  static Jwk* other_rsa_;
  std::shared_ptr<const KeySet> keys_;
};
Jwk* IdTokenTest::rsa_ = nullptr;
Jwk* IdTokenTest::ec_ = nullptr;
Jwk* IdTokenTest::other_rsa_ = nullptr;

TEST_F(IdTokenTest, AcceptsRs256AndEs256) {
  for (auto [key, alg, kid] :
       {std::tuple{rsa_, "RS256", "rsa1"}, std::tuple{ec_, "ES256", "ec1"}}) {
    auto r = VerifyIdToken(Sign(key->get(), alg, kid, GoodClaims()), *keys_, Expect());
    ASSERT_TRUE(r.has_value()) << alg << ": " << r.error().status.ToString();
    EXPECT_EQ(r->subject, "248289761001");
    EXPECT_EQ(r->claims["email"].asString(), "alice@example.com");
  }
}

TEST_F(IdTokenTest, WrongSignatureRefused) {
  // Signed by another key under the provider's kid.
  EXPECT_EQ(Problem(Sign(other_rsa_->get(), "RS256", "rsa1", GoodClaims())),
            IdTokenProblem::kSignature);
  // A good token with its payload swapped for another.
  std::string token = Sign(rsa_->get(), "RS256", "rsa1", GoodClaims());
  Json::Value evil = GoodClaims();
  evil["email"] = "root@example.com";
  const auto first = token.find('.');
  const auto second = token.find('.', first + 1);
  token.replace(first + 1, second - first - 1, Base64UrlEncode(json::Write(evil)));
  EXPECT_EQ(Problem(token), IdTokenProblem::kSignature);
  // An ES256 signature checked against the RSA key's kid: refused, not confused.
  EXPECT_EQ(Problem(Sign(ec_->get(), "ES256", "rsa1", GoodClaims())), IdTokenProblem::kUnknownKey);
}

TEST_F(IdTokenTest, AlgNoneAndHmacRefused) {
  const std::string payload = Base64UrlEncode(json::Write(GoodClaims()));
  EXPECT_EQ(Problem(Base64UrlEncode(R"({"alg":"none"})") + "." + payload + "."),
            IdTokenProblem::kAlgorithm);
  EXPECT_EQ(Problem(Base64UrlEncode(R"({"alg":"none","kid":"rsa1"})") + "." + payload + ".x"),
            IdTokenProblem::kAlgorithm);
  // HS256 keyed with the provider's public key (the classic confusion).
  cjose_err err{};
  const std::string pub = json::Write(PublicJwk(rsa_->get(), "rsa1"));
  Jwk hmac(cjose_jwk_create_oct_spec(reinterpret_cast<const std::uint8_t*>(pub.data()), pub.size(),
                                     &err));
  ASSERT_TRUE(hmac);
  EXPECT_EQ(Problem(Sign(hmac.get(), "HS256", "rsa1", GoodClaims())), IdTokenProblem::kAlgorithm);
  EXPECT_EQ(Problem(Sign(rsa_->get(), "RS512", "rsa1", GoodClaims())), IdTokenProblem::kAlgorithm);
  EXPECT_EQ(Problem(Base64UrlEncode(R"({"alg":"RS256","kid":"rsa1","crit":["exp"]})") + "." +
                    payload + ".x"),
            IdTokenProblem::kAlgorithm);
}

TEST_F(IdTokenTest, UnknownKidAndKeyIdForRefresh) {
  const std::string token = Sign(rsa_->get(), "RS256", "rotated", GoodClaims());
  EXPECT_EQ(Problem(token), IdTokenProblem::kUnknownKey);
  EXPECT_EQ(IdTokenKeyId(token), "rotated");
  // After the refresh that brings the new key, the same token verifies.
  auto refreshed = KeySet::Parse(Jwks({PublicJwk(rsa_->get(), "rotated")}));
  ASSERT_TRUE(refreshed.has_value());
  EXPECT_TRUE(VerifyIdToken(token, **refreshed, Expect()).has_value());
  // No kid: accepted only when one key of the algorithm could be meant.
  EXPECT_TRUE(VerifyIdToken(Sign(rsa_->get(), "RS256", "", GoodClaims()), **refreshed, Expect())
                  .has_value());
  auto two = KeySet::Parse(Jwks({PublicJwk(rsa_->get(), "a"), PublicJwk(other_rsa_->get(), "b")}));
  ASSERT_TRUE(two.has_value());
  EXPECT_FALSE(
      VerifyIdToken(Sign(rsa_->get(), "RS256", "", GoodClaims()), **two, Expect()).has_value());
}

TEST_F(IdTokenTest, ClaimChecks) {
  auto with = [](const char* name, Json::Value v) {
    Json::Value c = GoodClaims();
    c[name] = std::move(v);
    return c;
  };
  auto without = [](const char* name) {
    Json::Value c = GoodClaims();
    c.removeMember(name);
    return c;
  };
  EXPECT_EQ(ProblemWith(with("iss", "https://evil.test")), IdTokenProblem::kIssuer);
  EXPECT_EQ(ProblemWith(with("iss", "https://idp.test/")), IdTokenProblem::kIssuer);
  EXPECT_EQ(ProblemWith(with("aud", "other-client")), IdTokenProblem::kAudience);
  Json::Value auds(Json::arrayValue);
  auds.append("other");
  auds.append(kClient);
  EXPECT_EQ(ProblemWith(with("aud", auds)), IdTokenProblem::kAudience);  // no azp
  Json::Value multi = with("aud", auds);
  multi["azp"] = kClient;
  EXPECT_EQ(ProblemWith(multi), std::nullopt);
  EXPECT_EQ(ProblemWith(with("azp", "other")), IdTokenProblem::kAudience);
  // Expiry, with 60 s of skew either way.
  EXPECT_EQ(ProblemWith(with("exp", Json::Int64(kNow - 61))), IdTokenProblem::kExpired);
  EXPECT_EQ(ProblemWith(with("exp", Json::Int64(kNow - 59))), std::nullopt);
  EXPECT_EQ(ProblemWith(with("iat", Json::Int64(kNow + 61))), IdTokenProblem::kNotYetValid);
  EXPECT_EQ(ProblemWith(with("iat", Json::Int64(kNow - 3600))), IdTokenProblem::kNotYetValid);
  EXPECT_EQ(ProblemWith(with("nbf", Json::Int64(kNow + 600))), IdTokenProblem::kNotYetValid);
  EXPECT_EQ(ProblemWith(without("exp")), IdTokenProblem::kMalformed);
  EXPECT_EQ(ProblemWith(with("exp", "tomorrow")), IdTokenProblem::kMalformed);
  EXPECT_EQ(ProblemWith(with("nonce", "replayed-from-another-login")), IdTokenProblem::kNonce);
  EXPECT_EQ(ProblemWith(without("nonce")), IdTokenProblem::kNonce);
  EXPECT_EQ(ProblemWith(without("sub")), IdTokenProblem::kSubject);
  EXPECT_EQ(ProblemWith(with("sub", "")), IdTokenProblem::kSubject);

  IdTokenExpectations acr = Expect();
  acr.acr_values = {"mfa"};
  const std::string plain = Sign(rsa_->get(), "RS256", "rsa1", GoodClaims());
  EXPECT_EQ(Problem(plain, acr), IdTokenProblem::kAcr);
  EXPECT_EQ(Problem(Sign(rsa_->get(), "RS256", "rsa1", with("acr", "mfa")), acr), std::nullopt);
  // A flow without a nonce never accepts a token, whatever it says.
  IdTokenExpectations no_nonce = Expect();
  no_nonce.nonce.clear();
  EXPECT_EQ(Problem(Sign(rsa_->get(), "RS256", "rsa1", with("nonce", "")), no_nonce),
            IdTokenProblem::kNonce);
}

TEST_F(IdTokenTest, MalformedInputs) {
  for (std::string bad : {"", "abc", "a.b", "a.b.c.d", "!!!.e30.x", "e30.e30.e30"}) {
    auto p = Problem(bad);
    EXPECT_TRUE(p == IdTokenProblem::kMalformed || p == IdTokenProblem::kAlgorithm) << bad;
  }
  EXPECT_EQ(Problem(std::string(kMaxIdTokenBytes + 1, 'a')), IdTokenProblem::kMalformed);
  // A payload that is not JSON, under a real signature.
  cjose_err err{};
  Header h(cjose_header_new(&err));
  ASSERT_TRUE(cjose_header_set(h.get(), CJOSE_HDR_ALG, "RS256", &err));
  ASSERT_TRUE(cjose_header_set(h.get(), CJOSE_HDR_KID, "rsa1", &err));
  const std::string junk = "not json";
  JwsPtr jws(cjose_jws_sign(rsa_->get(), h.get(),
                            reinterpret_cast<const std::uint8_t*>(junk.data()), junk.size(), &err));
  ASSERT_TRUE(jws);
  const char* out = nullptr;
  ASSERT_TRUE(cjose_jws_export(jws.get(), &out, &err));
  EXPECT_EQ(Problem(out), IdTokenProblem::kMalformed);
  // A part whose length is 1 modulo 4 (libcjose's decoder asserts on one,
  // ending the process): refused before libcjose sees it, in every part.
  std::string token = out;
  const std::size_t first = token.find('.');
  const std::size_t second = token.find('.', first + 1);
  std::string signature = token.substr(second + 1);
  while (signature.size() % 4 != 1) signature += 'A';
  EXPECT_EQ(Problem(token.substr(0, second + 1) + signature), IdTokenProblem::kMalformed);
  std::string payload = token.substr(first + 1, second - first - 1);
  while (payload.size() % 4 != 1) payload += 'A';
  EXPECT_EQ(Problem(token.substr(0, first + 1) + payload + token.substr(second)),
            IdTokenProblem::kMalformed);
}

TEST(KeySetTest, KeepsOnlyUsableKeys) {
  EXPECT_FALSE(KeySet::Parse("not json").has_value());
  EXPECT_FALSE(KeySet::Parse(R"({"keys": 1})").has_value());
  EXPECT_FALSE(KeySet::Parse(R"({"keys": []})").has_value());
  // An HMAC key, an encryption key and a short RSA key: nothing usable.
  auto none = KeySet::Parse(
      R"({"keys": [{"kty":"oct","k":"c2VjcmV0","kid":"h"},
                   {"kty":"RSA","use":"enc","n":"AQAB","e":"AQAB"},
                   {"kty":"RSA","n":"AQAB","e":"AQAB","kid":"short"}]})");
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().message(), "JWKS document has no RS256 (RSA >= 2048 bits) or ES256 key");
  EXPECT_FALSE(KeySet::Parse(std::string(kMaxJwksBytes + 1, ' ')).has_value());
}

}  // namespace
}  // namespace gate::ca
