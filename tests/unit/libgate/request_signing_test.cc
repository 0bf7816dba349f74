#include "gate/request_signing.h"

#include <gtest/gtest.h>

#include "gate/bytes.h"
#include "gate/uuid.h"

namespace gate::signing {
namespace {

TEST(RequestSigningTest, CanonicalStringIsExactlyTheDocumentedOne) {
  EXPECT_EQ(CanonicalString("GET", "/v1/sessions?live=1", 1700000000,
                            "00112233445566778899aabbccddeeff", ""),
            "gate-signed-request-v1\nGET\n/v1/sessions?live=1\n1700000000\n"
            "00112233445566778899aabbccddeeff\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n");
}

TEST(RequestSigningTest, SignParseVerifyRoundTrip) {
  auto key = ssh::Ed25519PrivateKey::Generate();
  ASSERT_TRUE(key.has_value());
  auto headers = SignRequest(*key, "CERTBLOB", "GET", "/v1/sessions", "", 1700000000);
  ASSERT_TRUE(headers.has_value());
  EXPECT_EQ(headers->authorization, "Gate-Cert " + Base64Encode("CERTBLOB"));
  EXPECT_EQ(ParseAuthorization(headers->authorization).value(), "CERTBLOB");
  auto sig = ParseSignatureHeader(headers->signature);
  ASSERT_TRUE(sig.has_value()) << sig.error().ToString();
  EXPECT_EQ(sig->timestamp, 1700000000);
  EXPECT_EQ(sig->nonce.size(), 2 * kNonceBytes);
  EXPECT_TRUE(VerifyRequest(key->public_key(), *sig, "GET", "/v1/sessions", ""));
  // Every signed part matters.
  EXPECT_FALSE(VerifyRequest(key->public_key(), *sig, "POST", "/v1/sessions", ""));
  EXPECT_FALSE(VerifyRequest(key->public_key(), *sig, "GET", "/v1/sessions?x=1", ""));
  EXPECT_FALSE(VerifyRequest(key->public_key(), *sig, "GET", "/v1/sessions", "body"));
  RequestSignature later = *sig;
  later.timestamp += 1;
  EXPECT_FALSE(VerifyRequest(key->public_key(), later, "GET", "/v1/sessions", ""));
  RequestSignature other_nonce = *sig;
  other_nonce.nonce[0] = other_nonce.nonce[0] == 'a' ? 'b' : 'a';
  EXPECT_FALSE(VerifyRequest(key->public_key(), other_nonce, "GET", "/v1/sessions", ""));
  auto other = ssh::Ed25519PrivateKey::Generate();
  EXPECT_FALSE(VerifyRequest(other->public_key(), *sig, "GET", "/v1/sessions", ""));
  // Nonces are fresh each time.
  auto again = SignRequest(*key, "CERTBLOB", "GET", "/v1/sessions", "", 1700000000);
  EXPECT_NE(ParseSignatureHeader(again->signature)->nonce, sig->nonce);
}

TEST(RequestSigningTest, AuthorizationParsing) {
  EXPECT_EQ(ParseAuthorization("gate-cert QUJD").value(), "ABC");
  const std::string bads[] = {"",
                              "Gate-Cert",
                              "Gate-Cert ",
                              "Bearer QUJD",
                              "Gate-Cert  QUJD",
                              "Gate-Cert QUJD!",
                              "Gate-CertQUJD",
                              "Gate-Cert " + std::string(30000, 'A')};
  for (const std::string& bad : bads) {
    auto r = ParseAuthorization(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code(), Code::kUnauthenticated);
  }
}

TEST(RequestSigningTest, SignatureHeaderParsing) {
  const std::string nonce(32, 'a');
  const std::string sig = Base64Encode(std::string(64, 'x'));
  EXPECT_TRUE(ParseSignatureHeader("t=5,n=" + nonce + ",s=" + sig).has_value());
  const std::string bads[] = {
      std::string(""),
      "t=5,n=" + nonce,                                  // no s
      "n=" + nonce + ",t=5,s=" + sig,                    // order
      "t=05,n=" + nonce + ",s=" + sig,                   // leading zero
      "t=-5,n=" + nonce + ",s=" + sig,                   // sign
      "t=1234567890123456789,n=" + nonce + ",s=" + sig,  // too long
      "t=5,n=" + std::string(31, 'a') + ",s=" + sig,     // short nonce
      "t=5,n=" + std::string(32, 'A') + ",s=" + sig,     // upper-case nonce
      "t=5,n=" + nonce + ",s=" + Base64Encode("short"),  // not 64 bytes
      "t=5, n=" + nonce + ",s=" + sig,                   // space
      "t=5,n=" + nonce + ",s=" + sig + ",x=1",           // extra field
      "t=,n=" + nonce + ",s=" + sig,
  };
  for (const std::string& bad : bads) {
    auto r = ParseSignatureHeader(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code(), Code::kUnauthenticated) << bad;
  }
}

TEST(UuidTest, OnlyTheCanonicalForm) {
  EXPECT_TRUE(IsCanonicalUuid("4a6f0c1e-9b2d-4c3e-8f10-0123456789ab"));
  for (const char* bad :
       {"", "4A6F0C1E-9B2D-4C3E-8F10-0123456789AB", "{4a6f0c1e-9b2d-4c3e-8f10-0123456789ab}",
        "4a6f0c1e9b2d4c3e8f100123456789ab", "4a6f0c1e-9b2d-4c3e-8f10-0123456789a",
        "4a6f0c1e-9b2d-4c3e-8f10_0123456789ab", "../../../../etc/passwd-xxxxxxxx",
        "4a6f0c1e-9b2d-4c3e-8f10-0123456789ag"}) {
    EXPECT_FALSE(IsCanonicalUuid(bad)) << bad;
  }
}

}  // namespace
}  // namespace gate::signing
