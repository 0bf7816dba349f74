// Server-side WebAuthn verification against a software security key
// (webauthn_soft_key.h): real ES256 and Ed25519 signatures made with
// OpenSSL, and every way a response can be wrong.
#include "ca-server/auth/webauthn.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ca-server/auth/webauthn_challenges.h"
#include "ca-server/webauthn_soft_key.h"

namespace gate::ca::webauthn {
namespace {

using webauthn_test::AttestationCertificate;
using webauthn_test::ClientData;
using webauthn_test::SoftKey;
using webauthn_test::Str;
using webauthn_test::Vec;
namespace cbor = webauthn_test::cbor;

constexpr char kRpId[] = "gate.example.com";
constexpr char kOrigin[] = "https://gate.example.com:3080";
constexpr std::uint8_t kUp = kFlagUserPresent;
constexpr std::uint8_t kUv = kFlagUserVerified;

RelyingParty Rp(bool require_uv = false) {
  return {kRpId, {"https://other.example.com", kOrigin}, require_uv};
}
Bytes Challenge() { return Vec(*RandomBytes(kChallengeBytes)); }
StoredKey KeyOf(const Credential& c) { return {c.public_key, c.cose_alg}; }

class WebauthnTest : public ::testing::TestWithParam<SoftKey::Alg> {
 protected:
  SoftKey key_{GetParam()};
  Bytes challenge_ = Challenge();

  Credential Register() {
    Result<Credential> c =
        VerifyRegistration(Rp(), challenge_, key_.RegisterNone(challenge_, kRpId, kOrigin));
    EXPECT_TRUE(c.has_value()) << c.error().ToString();
    return c.value_or(Credential{});
  }
};

INSTANTIATE_TEST_SUITE_P(Algorithms, WebauthnTest,
                         ::testing::Values(SoftKey::Alg::kEs256, SoftKey::Alg::kEd25519),
                         [](const auto& param_info) {
                           return param_info.param == SoftKey::Alg::kEs256 ? "Es256" : "Ed25519";
                         });

TEST_P(WebauthnTest, NoneRegistrationThenAssertion) {
  const Credential c = Register();
  EXPECT_EQ(Str(c.credential_id), key_.credential_id());
  EXPECT_EQ(c.cose_alg, key_.cose_alg());
  EXPECT_EQ(c.public_key.size(), key_.es256() ? 64u : 32u);
  EXPECT_EQ(c.fmt, "none");
  EXPECT_EQ(c.flags & kUp, kUp);

  const Bytes login = Challenge();
  Result<VerifiedAssertion> a =
      VerifyAssertion(Rp(), login, KeyOf(c), key_.Assert(login, kRpId, kOrigin, kUp | kUv, 42));
  ASSERT_TRUE(a.has_value()) << a.error().ToString();
  EXPECT_EQ(a->sign_count, 42u);
  EXPECT_EQ(a->flags & (kUp | kUv), kUp | kUv);
}

TEST_P(WebauthnTest, PackedSelfAttestationIsVerified) {
  RegistrationResponse r = key_.RegisterPackedSelf(challenge_, kRpId, kOrigin);
  Result<Credential> c = VerifyRegistration(Rp(), challenge_, r);
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  EXPECT_EQ(c->fmt, "packed");
  EXPECT_EQ(c->sign_count, 1u);
  // The same statement over other client data does not verify.
  r.client_data_json = ClientData("webauthn.create", challenge_, "https://other.example.com");
  EXPECT_EQ(VerifyRegistration(Rp(), challenge_, r).error().code(), Code::kUnauthenticated);
}

TEST_P(WebauthnTest, PackedWithCertificateIsVerified) {
  SoftKey attestation(SoftKey::Alg::kEs256);
  const std::string client_data = ClientData("webauthn.create", challenge_, kOrigin);
  const std::string auth_data = key_.AuthData(kRpId, kUp, 0, true);
  const std::string sig =
      gate::testing::SignLikeASecurityKey(attestation.key(), auth_data + Sha256(client_data));
  auto stmt = [&](const std::string& signature) {
    return cbor::Map(3) + cbor::Text("alg") + cbor::Int(kCoseEs256) + cbor::Text("sig") +
           cbor::Bytes(signature) + cbor::Text("x5c") + cbor::Array(1) +
           cbor::Bytes(AttestationCertificate(attestation.key()));
  };
  Result<Credential> c = VerifyRegistration(
      Rp(), challenge_, {client_data, SoftKey::AttestationObject("packed", stmt(sig), auth_data)});
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  // Signed by another key than the certificate's: refused.
  const std::string forged = gate::testing::SignLikeASecurityKey(
      SoftKey(SoftKey::Alg::kEs256).key(), auth_data + Sha256(client_data));
  EXPECT_EQ(VerifyRegistration(
                Rp(), challenge_,
                {client_data, SoftKey::AttestationObject("packed", stmt(forged), auth_data)})
                .error()
                .code(),
            Code::kUnauthenticated);
}

TEST_P(WebauthnTest, UnsupportedFormatsAndStatementsAreRefused) {
  const std::string client_data = ClientData("webauthn.create", challenge_, kOrigin);
  const std::string auth_data = key_.AuthData(kRpId, kUp, 0, true);
  for (const char* fmt : {"fido-u2f", "tpm", "android-key", ""}) {
    EXPECT_EQ(
        VerifyRegistration(Rp(), challenge_,
                           {client_data, SoftKey::AttestationObject(fmt, cbor::Map(0), auth_data)})
            .error()
            .code(),
        Code::kUnauthenticated)
        << fmt;
  }
  // `none` with a statement, `packed` without one.
  EXPECT_FALSE(
      VerifyRegistration(
          Rp(), challenge_,
          {client_data, SoftKey::AttestationObject(
                            "none", cbor::Map(1) + cbor::Text("alg") + cbor::Int(-7), auth_data)})
          .has_value());
  EXPECT_FALSE(VerifyRegistration(
                   Rp(), challenge_,
                   {client_data, SoftKey::AttestationObject("packed", cbor::Map(0), auth_data)})
                   .has_value());
}

TEST_P(WebauthnTest, WrongCoseAlgorithmIsRefused) {
  // RS256 (-257), a private-use value, and the other curve's algorithm.
  for (std::int64_t alg : {-257, -65535, key_.es256() ? -8 : -7}) {
    RegistrationResponse r{
        ClientData("webauthn.create", challenge_, kOrigin),
        SoftKey::AttestationObject("none", cbor::Map(0), key_.AuthData(kRpId, kUp, 0, true, alg))};
    Result<Credential> c = VerifyRegistration(Rp(), challenge_, r);
    EXPECT_FALSE(c.has_value()) << alg;
  }
  // An assertion checked against a key of another algorithm fails.
  const Credential c = Register();
  const Bytes login = Challenge();
  StoredKey wrong = KeyOf(c);
  wrong.cose_alg = key_.es256() ? kCoseEdDsa : kCoseEs256;
  EXPECT_FALSE(
      VerifyAssertion(Rp(), login, wrong, key_.Assert(login, kRpId, kOrigin, kUp, 1)).has_value());
  wrong.cose_alg = -257;
  EXPECT_FALSE(
      VerifyAssertion(Rp(), login, wrong, key_.Assert(login, kRpId, kOrigin, kUp, 1)).has_value());
}

TEST_P(WebauthnTest, TruncatedAuthenticatorDataIsRefused) {
  const std::string full = key_.AuthData(kRpId, kUp, 0, true);
  for (std::size_t cut : {std::size_t{0}, std::size_t{36}, std::size_t{37}, std::size_t{54},
                          std::size_t{60}, full.size() - 1}) {
    RegistrationResponse r{ClientData("webauthn.create", challenge_, kOrigin),
                           SoftKey::AttestationObject("none", cbor::Map(0), full.substr(0, cut))};
    Result<Credential> c = VerifyRegistration(Rp(), challenge_, r);
    ASSERT_FALSE(c.has_value()) << cut;
    EXPECT_EQ(c.error().code(), Code::kInvalidArgument) << cut << " " << c.error().ToString();
  }
  // Without the attested-credential flag there is nothing to register.
  RegistrationResponse no_at{
      ClientData("webauthn.create", challenge_, kOrigin),
      SoftKey::AttestationObject("none", cbor::Map(0), key_.AuthData(kRpId, kUp, 0, false))};
  EXPECT_EQ(VerifyRegistration(Rp(), challenge_, no_at).error().code(), Code::kInvalidArgument);

  const Credential c = Register();
  const Bytes login = Challenge();
  AssertionResponse a = key_.Assert(login, kRpId, kOrigin, kUp, 1);
  a.authenticator_data.resize(36);
  EXPECT_EQ(VerifyAssertion(Rp(), login, KeyOf(c), a).error().code(), Code::kInvalidArgument);
}

// CBOR after the head that claims more than the input holds is refused
// before libfido2's libcbor would allocate for it (found by
// fuzz_webauthn_attestation: a map header claiming 2^31 entries).
TEST_P(WebauthnTest, CborCountsBeyondTheInputAreRefused) {
  const std::string huge_map = cbor::Head(5, 0x7a89bb38);
  RegistrationResponse r{ClientData("webauthn.create", challenge_, kOrigin),
                         SoftKey::AttestationObject("none", cbor::Map(0),
                                                    key_.AuthData(kRpId, kUp, 0, true) + huge_map)};
  EXPECT_EQ(VerifyRegistration(Rp(), challenge_, r).error().code(), Code::kInvalidArgument);
  const Credential c = Register();
  const Bytes login = Challenge();
  AssertionResponse a = key_.Assert(login, kRpId, kOrigin, kUp | 0x80, 1);  // ED: extensions
  a.authenticator_data += huge_map;
  EXPECT_EQ(VerifyAssertion(Rp(), login, KeyOf(c), a).error().code(), Code::kInvalidArgument);
  EXPECT_FALSE(CheckCborItems(huge_map).ok());
  EXPECT_FALSE(CheckCborItems(cbor::Head(4, 3) + cbor::Int(1)).ok());
  EXPECT_TRUE(CheckCborItems(key_.CoseKey() + cbor::Map(0)).ok());
}

TEST_P(WebauthnTest, UserPresenceIsRequiredAndVerificationPerSetting) {
  RegistrationResponse no_up = key_.RegisterNone(challenge_, kRpId, kOrigin, kUv);
  EXPECT_EQ(VerifyRegistration(Rp(), challenge_, no_up).error().code(), Code::kUnauthenticated);
  EXPECT_EQ(
      VerifyRegistration(Rp(true), challenge_, key_.RegisterNone(challenge_, kRpId, kOrigin, kUp))
          .error()
          .code(),
      Code::kUnauthenticated);
  EXPECT_TRUE(VerifyRegistration(Rp(true), challenge_,
                                 key_.RegisterNone(challenge_, kRpId, kOrigin, kUp | kUv))
                  .has_value());

  const Credential c = Register();
  const Bytes login = Challenge();
  EXPECT_EQ(VerifyAssertion(Rp(), login, KeyOf(c), key_.Assert(login, kRpId, kOrigin, kUv, 1))
                .error()
                .code(),
            Code::kUnauthenticated);
  EXPECT_EQ(VerifyAssertion(Rp(true), login, KeyOf(c), key_.Assert(login, kRpId, kOrigin, kUp, 1))
                .error()
                .code(),
            Code::kUnauthenticated);
  EXPECT_TRUE(
      VerifyAssertion(Rp(true), login, KeyOf(c), key_.Assert(login, kRpId, kOrigin, kUp | kUv, 1))
          .has_value());
}

TEST_P(WebauthnTest, WrongRpIdHashIsRefused) {
  EXPECT_EQ(VerifyRegistration(Rp(), challenge_,
                               key_.RegisterNone(challenge_, "evil.example.com", kOrigin))
                .error()
                .code(),
            Code::kUnauthenticated);
  const Credential c = Register();
  const Bytes login = Challenge();
  EXPECT_EQ(VerifyAssertion(Rp(), login, KeyOf(c),
                            key_.Assert(login, "evil.example.com", kOrigin, kUp, 1))
                .error()
                .code(),
            Code::kUnauthenticated);
}

TEST_P(WebauthnTest, ClientDataMustMatchTypeChallengeAndOrigin) {
  const Credential c = Register();
  const Bytes login = Challenge();
  const AssertionResponse good = key_.Assert(login, kRpId, kOrigin, kUp, 1);
  auto with_client_data = [&](const std::string& client_data) {
    AssertionResponse a = good;
    a.client_data_json = client_data;
    // Signed anew, so only the client data's content is wrong.
    a.signature =
        gate::testing::SignLikeASecurityKey(key_.key(), a.authenticator_data + Sha256(client_data));
    return VerifyAssertion(Rp(), login, KeyOf(c), a);
  };
  ASSERT_TRUE(with_client_data(good.client_data_json).has_value());
  EXPECT_EQ(with_client_data(ClientData("webauthn.get", login, "https://evil.example.com"))
                .error()
                .code(),
            Code::kUnauthenticated);
  EXPECT_EQ(with_client_data(ClientData("webauthn.get", login, "https://gate.example.com"))
                .error()
                .code(),
            Code::kUnauthenticated);  // origins match exactly, port included
  EXPECT_EQ(with_client_data(ClientData("webauthn.create", login, kOrigin)).error().code(),
            Code::kUnauthenticated);
  EXPECT_EQ(with_client_data(ClientData("webauthn.get", Challenge(), kOrigin)).error().code(),
            Code::kUnauthenticated);
  std::string cross = ClientData("webauthn.get", login, kOrigin);
  cross.replace(cross.find("false"), 5, "true");
  EXPECT_EQ(with_client_data(cross).error().code(), Code::kUnauthenticated);
  // Nested past the parser's depth limit (found by fuzz_webauthn_client_data).
  EXPECT_EQ(with_client_data(std::string(40, '[')).error().code(), Code::kInvalidArgument);
  for (const char* bad : {"", "[]", "{", "{\"type\":\"webauthn.get\"}", "null",
                          "{\"type\":1,\"challenge\":\"x\",\"origin\":\"y\"}"}) {
    EXPECT_EQ(with_client_data(bad).error().code(), Code::kInvalidArgument) << bad;
  }
  // A signature over other client data than the one sent.
  AssertionResponse swapped = good;
  swapped.client_data_json = ClientData("webauthn.get", login, kOrigin) + " ";
  EXPECT_EQ(VerifyAssertion(Rp(), login, KeyOf(c), swapped).error().code(), Code::kUnauthenticated);
}

TEST_P(WebauthnTest, SignatureByAnotherKeyIsRefused) {
  const Credential c = Register();
  const Bytes login = Challenge();
  SoftKey other(GetParam());
  EXPECT_EQ(VerifyAssertion(Rp(), login, KeyOf(c), other.Assert(login, kRpId, kOrigin, kUp, 1))
                .error()
                .code(),
            Code::kUnauthenticated);
  AssertionResponse a = key_.Assert(login, kRpId, kOrigin, kUp, 1);
  a.authenticator_data[33] ^= 0x01;  // a counter the key did not sign
  EXPECT_EQ(VerifyAssertion(Rp(), login, KeyOf(c), a).error().code(), Code::kUnauthenticated);
}

TEST_P(WebauthnTest, OversizeInputsAreRefusedBeforeParsing) {
  const Credential c = Register();
  const Bytes login = Challenge();
  const AssertionResponse good = key_.Assert(login, kRpId, kOrigin, kUp, 1);
  AssertionResponse a = good;
  a.client_data_json += std::string(kMaxClientDataJson, ' ');
  EXPECT_EQ(VerifyAssertion(Rp(), login, KeyOf(c), a).error().code(), Code::kInvalidArgument);
  a = good;
  a.signature = std::string(kMaxSignature + 1, 'x');
  EXPECT_EQ(VerifyAssertion(Rp(), login, KeyOf(c), a).error().code(), Code::kInvalidArgument);
  a = good;
  a.authenticator_data += std::string(kMaxAuthenticatorData, '\0');
  EXPECT_EQ(VerifyAssertion(Rp(), login, KeyOf(c), a).error().code(), Code::kInvalidArgument);
  a = good;
  a.credential_id.assign(kMaxCredentialId + 1, 1);
  EXPECT_EQ(VerifyAssertion(Rp(), login, KeyOf(c), a).error().code(), Code::kInvalidArgument);

  RegistrationResponse r = key_.RegisterNone(challenge_, kRpId, kOrigin);
  r.attestation_object = SoftKey::AttestationObject(
      "none", cbor::Map(0),
      key_.AuthData(kRpId, kUp, 0, true) + std::string(kMaxAttestationObject, '\0'));
  EXPECT_EQ(VerifyRegistration(Rp(), challenge_, r).error().code(), Code::kInvalidArgument);
}

TEST(WebauthnCborTest, SplitsTheThreeMembers) {
  const std::string stmt = cbor::Map(1) + cbor::Text("x5c") + cbor::Array(2) + cbor::Bytes("a") +
                           cbor::Bytes(std::string(300, 'b'));
  const std::string obj = cbor::Map(4) + cbor::Text("extra") + cbor::Map(1) + cbor::Int(-1) +
                          cbor::Head(6, 1) + cbor::Int(5) +
                          SoftKey::AttestationObject("packed", stmt, "AUTH").substr(1);
  // The leading Map(3) of AttestationObject was replaced by Map(4) above.
  Result<AttestationParts> parts = SplitAttestationObject(obj);
  ASSERT_TRUE(parts.has_value()) << parts.error().ToString();
  EXPECT_EQ(parts->fmt, "packed");
  EXPECT_EQ(parts->att_stmt, stmt);
  EXPECT_EQ(parts->auth_data, "AUTH");
}

TEST(WebauthnCborTest, MalformedCborIsRefused) {
  const std::string good = SoftKey::AttestationObject("none", cbor::Map(0), "AUTH");
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += cbor::Array(1);
  deep += cbor::Int(0);
  const std::vector<std::string> bad = {
      "",
      good.substr(0, good.size() - 1),             // truncated
      good + "x",                                  // trailing bytes
      cbor::Array(3),                              // not a map
      std::string("\xbf", 1),                      // indefinite-length map
      cbor::Map(1) + cbor::Int(1) + cbor::Int(2),  // key not text
      cbor::Map(2) + cbor::Text("fmt") + cbor::Text("none") + cbor::Text("fmt") +
          cbor::Text("none"),
      cbor::Map(2) + cbor::Text("attStmt") + cbor::Map(0) + cbor::Text("authData") +
          cbor::Bytes("A"),
      cbor::Map(3) + cbor::Text("fmt") + cbor::Int(1) + cbor::Text("attStmt") + cbor::Map(0) +
          cbor::Text("authData") + cbor::Bytes("A"),  // fmt not text
      cbor::Map(3) + cbor::Text("fmt") + cbor::Text("none") + cbor::Text("attStmt") +
          cbor::Array(0) + cbor::Text("authData") + cbor::Bytes("A"),  // attStmt not a map
      cbor::Map(3) + cbor::Text("fmt") + cbor::Text("none") + cbor::Text("attStmt") + cbor::Map(0) +
          cbor::Text("authData") + cbor::Text("A"),            // authData not bytes
      cbor::Map(4) + cbor::Text("x") + deep + good.substr(1),  // nested too deep
      cbor::Head(5, 0xffffffff),                               // a count beyond the input
      cbor::Map(1) + cbor::Text("x") + std::string("\x5b\xff\xff\xff\xff\xff\xff\xff\xff", 9),
      std::string("\xa1\x63"
                  "fmt\x7c",
                  6),  // reserved additional info
  };
  for (const std::string& input : bad) {
    Result<AttestationParts> parts = SplitAttestationObject(input);
    EXPECT_FALSE(parts.has_value()) << HexEncode(input);
    if (!parts) {
      EXPECT_EQ(parts.error().code(), Code::kInvalidArgument);
    }
  }
}

TEST(WebauthnChallengesTest, SingleUseBoundToUserAndPurposeAndExpiring) {
  WebauthnChallenges challenges({std::chrono::seconds(300), 3});
  Result<Bytes> first = challenges.Issue("alice", ChallengePurpose::kLogin, 1000);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->size(), kChallengeBytes);
  // Another user or purpose has none.
  EXPECT_EQ(challenges.Take("bob", ChallengePurpose::kLogin, 1001).error().code(),
            Code::kUnauthenticated);
  EXPECT_EQ(challenges.Take("alice", ChallengePurpose::kRegister, 1001).error().code(),
            Code::kUnauthenticated);
  EXPECT_EQ(challenges.Take("alice", ChallengePurpose::kLogin, 1001).value_or(Bytes{}), *first);
  // Replayed: gone.
  EXPECT_EQ(challenges.Take("alice", ChallengePurpose::kLogin, 1002).error().code(),
            Code::kUnauthenticated);

  // A new one replaces the outstanding one.
  Result<Bytes> a = challenges.Issue("alice", ChallengePurpose::kLogin, 1000);
  Result<Bytes> b = challenges.Issue("alice", ChallengePurpose::kLogin, 1000);
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);
  EXPECT_EQ(challenges.Take("alice", ChallengePurpose::kLogin, 1000).value_or(Bytes{}), *b);

  // Expired at issue + ttl, and removed by the attempt.
  ASSERT_TRUE(challenges.Issue("alice", ChallengePurpose::kLogin, 1000).has_value());
  EXPECT_EQ(challenges.Take("alice", ChallengePurpose::kLogin, 1300).error().code(),
            Code::kUnauthenticated);

  // Bounded: three live at most; expired ones make room.
  ASSERT_TRUE(challenges.Issue("u1", ChallengePurpose::kLogin, 2000).has_value());
  ASSERT_TRUE(challenges.Issue("u2", ChallengePurpose::kLogin, 2000).has_value());
  ASSERT_TRUE(challenges.Issue("u3", ChallengePurpose::kLogin, 2100).has_value());
  EXPECT_EQ(challenges.Issue("u4", ChallengePurpose::kLogin, 2200).error().code(),
            Code::kResourceExhausted);
  ASSERT_TRUE(challenges.Issue("u1", ChallengePurpose::kLogin, 2200).has_value());  // replaces
  EXPECT_TRUE(challenges.Issue("u4", ChallengePurpose::kLogin, 2350).has_value());
}

// The whole registration with a replayed challenge: the second finish finds
// no challenge (the table's Take), so verification never accepts it twice.
TEST(WebauthnChallengesTest, ReplayedRegistrationFindsNoChallenge) {
  WebauthnChallenges challenges({std::chrono::seconds(300), 10});
  SoftKey key(SoftKey::Alg::kEs256);
  Result<Bytes> issued = challenges.Issue("alice", ChallengePurpose::kRegister, 1000);
  ASSERT_TRUE(issued.has_value());
  const RegistrationResponse r = key.RegisterNone(*issued, kRpId, kOrigin);
  Result<Bytes> taken = challenges.Take("alice", ChallengePurpose::kRegister, 1001);
  ASSERT_TRUE(taken.has_value());
  EXPECT_TRUE(VerifyRegistration(Rp(), *taken, r).has_value());
  EXPECT_FALSE(challenges.Take("alice", ChallengePurpose::kRegister, 1002).has_value());
  // Checked against any other challenge, the response is refused.
  EXPECT_EQ(VerifyRegistration(Rp(), Challenge(), r).error().code(), Code::kUnauthenticated);
}

}  // namespace
}  // namespace gate::ca::webauthn
