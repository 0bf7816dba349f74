// The U2F/FIDO2 factor, against a software authenticator: keys made with
// OpenSSL sign authenticator data and the client-data hash the way a
// security key does, and VerifyAssertion must accept exactly the good ones.
#include "pam_module/fido.h"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <pwd.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/test_signing.h"
#include "common/test_util.h"
#include "gate/authfile.h"
#include "gate/bytes.h"
#include "gate/cptr.h"
#include "gate/json.h"
#include "pam_module/factor.h"

namespace gate::pam {
namespace {

using EvpPkey = CPtr<EVP_PKEY, EVP_PKEY_free>;

constexpr char kRpId[] = "pam://host1";

// A security key in software: one credential, one key pair.
class SoftAuthenticator {
 public:
  enum class Alg { kEs256, kEddsa };

  explicit SoftAuthenticator(Alg alg) : alg_(alg) {
    key_.reset(alg == Alg::kEs256 ? EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")
                                  : EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    if (!key_) std::abort();
    credential_id_ = *RandomBytes(64);
  }

  // The authfile entry `gate mfa add --type=u2f` would have written.
  authfile::Fido2Entry Credential(std::string_view rp_id = kRpId) const {
    authfile::Fido2Entry e;
    e.rp_id = std::string(rp_id);
    e.credential_id = credential_id_;
    e.cose_alg = alg_ == Alg::kEs256 ? "es256" : "eddsa";
    unsigned char buf[128];
    std::size_t len = 0;
    if (alg_ == Alg::kEs256) {
      if (EVP_PKEY_get_octet_string_param(key_.get(), OSSL_PKEY_PARAM_PUB_KEY, buf, sizeof buf,
                                          &len) != 1) {
        std::abort();
      }
    } else {
      len = sizeof buf;
      if (EVP_PKEY_get_raw_public_key(key_.get(), buf, &len) != 1) std::abort();
    }
    e.public_key.assign(reinterpret_cast<const char*>(buf), len);
    return e;
  }

  // rpIdHash || flags || signCount (big-endian), as WebAuthn §6.1 lays out.
  static std::string AuthData(std::string_view rp_id, std::uint8_t flags,
                              std::uint32_t sign_count = 7) {
    std::string out = Sha256(rp_id);
    out.push_back(static_cast<char>(flags));
    for (int shift = 24; shift >= 0; shift -= 8) {
      out.push_back(static_cast<char>((sign_count >> shift) & 0xff));
    }
    return out;
  }

  // ES256: DER ECDSA-SHA256; EdDSA: 64 raw bytes; over authdata || hash.
  std::string Sign(std::string_view authdata, std::string_view client_data_hash) const {
    return testing::SignLikeASecurityKey(key_.get(),
                                         std::string(authdata) + std::string(client_data_hash));
  }

 private:
  Alg alg_;
  EvpPkey key_;
  std::string credential_id_;
};

struct Signed {
  std::string hash;
  std::string authdata;
  std::string signature;
  Assertion assertion() const { return {authdata, AuthdataEncoding::kRaw, signature}; }
};

Signed MakeAssertion(const SoftAuthenticator& key, std::string_view rp_id, std::uint8_t flags) {
  Signed s;
  s.hash = Sha256(FidoClientData(*RandomBytes(32), "pam://host1"));
  s.authdata = SoftAuthenticator::AuthData(rp_id, flags);
  s.signature = key.Sign(s.authdata, s.hash);
  return s;
}

constexpr std::uint8_t kUp = kFidoFlagUserPresent;
constexpr std::uint8_t kUv = kFidoFlagUserVerified;

TEST(VerifyAssertionTest, ValidEs256AssertionSucceeds) {
  SoftAuthenticator key(SoftAuthenticator::Alg::kEs256);
  const Signed s = MakeAssertion(key, kRpId, kUp);
  EXPECT_EQ(VerifyAssertion(key.Credential(), kRpId, s.hash, s.assertion(), false),
            Outcome::kSuccess);
}

TEST(VerifyAssertionTest, ValidEddsaAssertionSucceeds) {
  SoftAuthenticator key(SoftAuthenticator::Alg::kEddsa);
  const Signed s = MakeAssertion(key, kRpId, kUp | kUv);
  EXPECT_EQ(VerifyAssertion(key.Credential(), kRpId, s.hash, s.assertion(), true),
            Outcome::kSuccess);
}

TEST(VerifyAssertionTest, UvPresentAndRequiredSucceeds) {
  SoftAuthenticator key(SoftAuthenticator::Alg::kEs256);
  const Signed s = MakeAssertion(key, kRpId, kUp | kUv);
  EXPECT_EQ(VerifyAssertion(key.Credential(), kRpId, s.hash, s.assertion(), true),
            Outcome::kSuccess);
}

TEST(VerifyAssertionTest, WrongKeyFails) {
  SoftAuthenticator key(SoftAuthenticator::Alg::kEs256);
  SoftAuthenticator other(SoftAuthenticator::Alg::kEs256);
  const Signed s = MakeAssertion(other, kRpId, kUp);
  EXPECT_EQ(VerifyAssertion(key.Credential(), kRpId, s.hash, s.assertion(), false),
            Outcome::kFailure);
}

TEST(VerifyAssertionTest, WrongEddsaKeyFails) {
  SoftAuthenticator key(SoftAuthenticator::Alg::kEddsa);
  SoftAuthenticator other(SoftAuthenticator::Alg::kEddsa);
  const Signed s = MakeAssertion(other, kRpId, kUp);
  EXPECT_EQ(VerifyAssertion(key.Credential(), kRpId, s.hash, s.assertion(), false),
            Outcome::kFailure);
}

TEST(VerifyAssertionTest, AssertionForAnotherAppIdFails) {
  SoftAuthenticator key(SoftAuthenticator::Alg::kEs256);
  // Signed correctly, but for another relying party.
  const Signed s = MakeAssertion(key, "pam://evil", kUp);
  EXPECT_EQ(VerifyAssertion(key.Credential(), kRpId, s.hash, s.assertion(), false),
            Outcome::kFailure);
}

TEST(VerifyAssertionTest, VerifierWithAnotherAppIdFails) {
  SoftAuthenticator key(SoftAuthenticator::Alg::kEs256);
  const Signed s = MakeAssertion(key, kRpId, kUp);
  EXPECT_EQ(VerifyAssertion(key.Credential(), "pam://host2", s.hash, s.assertion(), false),
            Outcome::kFailure);
}

TEST(VerifyAssertionTest, OtherClientDataHashFails) {
  SoftAuthenticator key(SoftAuthenticator::Alg::kEs256);
  const Signed s = MakeAssertion(key, kRpId, kUp);
  // A replayed assertion answers an old challenge, not this one.
  const std::string fresh = Sha256(FidoClientData(*RandomBytes(32), "pam://host1"));
  EXPECT_EQ(VerifyAssertion(key.Credential(), kRpId, fresh, s.assertion(), false),
            Outcome::kFailure);
}

TEST(VerifyAssertionTest, UserPresenceMissingFails) {
  SoftAuthenticator key(SoftAuthenticator::Alg::kEs256);
  const Signed s = MakeAssertion(key, kRpId, 0);
  EXPECT_EQ(VerifyAssertion(key.Credential(), kRpId, s.hash, s.assertion(), false),
            Outcome::kFailure);
  // User verification does not stand in for presence.
  const Signed uv_only = MakeAssertion(key, kRpId, kUv);
  EXPECT_EQ(VerifyAssertion(key.Credential(), kRpId, uv_only.hash, uv_only.assertion(), false),
            Outcome::kFailure);
}

TEST(VerifyAssertionTest, UserVerificationRequiredButAbsentFails) {
  SoftAuthenticator key(SoftAuthenticator::Alg::kEs256);
  const Signed s = MakeAssertion(key, kRpId, kUp);
  EXPECT_EQ(VerifyAssertion(key.Credential(), kRpId, s.hash, s.assertion(), true),
            Outcome::kFailure);
}

TEST(VerifyAssertionTest, MalformedSignatureFails) {
  SoftAuthenticator key(SoftAuthenticator::Alg::kEs256);
  Signed s = MakeAssertion(key, kRpId, kUp);
  Signed truncated = s;
  truncated.signature.resize(s.signature.size() / 2);
  EXPECT_EQ(VerifyAssertion(key.Credential(), kRpId, s.hash, truncated.assertion(), false),
            Outcome::kFailure);
  Signed flipped = s;
  flipped.signature.back() = static_cast<char>(flipped.signature.back() ^ 0x01);
  EXPECT_EQ(VerifyAssertion(key.Credential(), kRpId, s.hash, flipped.assertion(), false),
            Outcome::kFailure);
  Signed empty = s;
  empty.signature.clear();
  EXPECT_EQ(VerifyAssertion(key.Credential(), kRpId, s.hash, empty.assertion(), false),
            Outcome::kFailure);
}

TEST(VerifyAssertionTest, TamperedOrTruncatedAuthdataFails) {
  SoftAuthenticator key(SoftAuthenticator::Alg::kEs256);
  Signed s = MakeAssertion(key, kRpId, kUp);
  Signed counter = s;
  counter.authdata.back() = static_cast<char>(counter.authdata.back() + 1);
  EXPECT_EQ(VerifyAssertion(key.Credential(), kRpId, s.hash, counter.assertion(), false),
            Outcome::kFailure);
  Signed short_data = s;
  short_data.authdata.resize(20);
  EXPECT_EQ(VerifyAssertion(key.Credential(), kRpId, s.hash, short_data.assertion(), false),
            Outcome::kFailure);
}

TEST(VerifyAssertionTest, UnusableStoredCredentialIsAnError) {
  SoftAuthenticator key(SoftAuthenticator::Alg::kEs256);
  const Signed s = MakeAssertion(key, kRpId, kUp);
  authfile::Fido2Entry bad_alg = key.Credential();
  bad_alg.cose_alg = "rs256";
  EXPECT_EQ(VerifyAssertion(bad_alg, kRpId, s.hash, s.assertion(), false), Outcome::kError);
  authfile::Fido2Entry bad_key = key.Credential();
  bad_key.public_key.resize(10);
  EXPECT_EQ(VerifyAssertion(bad_key, kRpId, s.hash, s.assertion(), false), Outcome::kError);
  EXPECT_EQ(VerifyAssertion(key.Credential(), "", s.hash, s.assertion(), false), Outcome::kError);
  EXPECT_EQ(VerifyAssertion(key.Credential(), kRpId, "short", s.assertion(), false),
            Outcome::kError);
}

TEST(VerifyAssertionTest, CborWrappedAuthdataAsKeysReturnItSucceeds) {
  SoftAuthenticator key(SoftAuthenticator::Alg::kEs256);
  const Signed s = MakeAssertion(key, kRpId, kUp);
  // CBOR byte string of 37 bytes: major type 2, length in one extra byte.
  std::string cbor = "\x58";
  cbor.push_back(static_cast<char>(s.authdata.size()));
  cbor += s.authdata;
  const Assertion a{cbor, AuthdataEncoding::kCbor, s.signature};
  EXPECT_EQ(VerifyAssertion(key.Credential(), kRpId, s.hash, a, false), Outcome::kSuccess);
}

TEST(FidoClientDataTest, CarriesChallengeAndOrigin) {
  const std::string cd = FidoClientData(std::string("\xfb\xff", 2), "pam://host1");
  EXPECT_NE(cd.find("\"challenge\":\"-_8\""), std::string::npos) << cd;
  EXPECT_NE(cd.find("\"origin\":\"pam://host1\""), std::string::npos) << cd;
  EXPECT_NE(cd.find("\"type\":\"webauthn.get\""), std::string::npos) << cd;
}

TEST(FidoClientDataTest, IsTheJsonJsoncppWouldWrite) {
  // Written by hand (the plugin does not load jsoncpp): the same bytes as
  // jsoncpp's compact writer, hostile origins included.
  const std::vector<std::string> origins = {"pam://host1", "pam://a\"b\\c", "o\n\x01\x7f\xc3\xa9"};
  for (const std::string& origin : origins) {
    Json::Value v(Json::objectValue);
    v["type"] = "webauthn.get";
    v["challenge"] = "-_8";
    v["origin"] = origin;
    v["crossOrigin"] = false;
    EXPECT_EQ(FidoClientData(std::string("\xfb\xff", 2), origin), json::Write(v)) << origin;
  }
}

// --- The factor itself (no security key exists on a test machine). ---

class FakeConversation final : public Conversation {
 public:
  bool PromptSecret(const std::string& prompt, SecretString* answer) override {
    prompts.push_back(prompt);
    answer->clear();
    return false;
  }
  void Info(const std::string& text) override { infos.push_back(text); }
  void Error(const std::string& text) override { errors.push_back(text); }
  std::vector<std::string> prompts, infos, errors;
};

std::string CurrentUser() {
  const struct passwd* pw = getpwuid(geteuid());
  return pw != nullptr ? pw->pw_name : "root";
}

class FidoFactorTest : public ::testing::Test {
 protected:
  Outcome Run(const std::string& authfile_text, mode_t mode = 0600) {
    testing::WriteFile(authfile_, authfile_text, mode);
    options_.authfile = authfile_;
    FactorContext context{options_, conversation_, CurrentUser(), "alice", {}};
    return MakeFido()->Authenticate(context);
  }
  static std::string Fido2Line(const std::string& user, const std::string& rp_id) {
    authfile::Entry e;
    e.user = user;
    e.kind = authfile::Kind::kFido2;
    e.fido2 = SoftAuthenticator(SoftAuthenticator::Alg::kEs256).Credential(rp_id);
    return std::string(authfile::Format(e).view());
  }

  testing::TempDir dir_;
  std::string authfile_ = dir_.File("authfile");
  Options options_ = [] {
    Options o;
    o.second_factor = SecondFactor::kU2f;
    o.source = Source::kLocal;
    o.appid = kRpId;
    o.cue = true;
    return o;
  }();
  FakeConversation conversation_;
};

TEST_F(FidoFactorTest, UserWithoutFido2EntriesIsNotEnrolled) {
  EXPECT_EQ(Run("# nobody\n" + Fido2Line("bob", kRpId) +
                "alice:totp:sha1:6:JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\n"),
            Outcome::kNotEnrolled);
}

TEST_F(FidoFactorTest, MissingAuthfileIsNotEnrolled) {
  options_.authfile = dir_.File("absent");
  FactorContext context{options_, conversation_, CurrentUser(), "alice", {}};
  EXPECT_EQ(MakeFido()->Authenticate(context), Outcome::kNotEnrolled);
}

TEST_F(FidoFactorTest, EnrolledUserWithoutKeyPluggedInIsUnavailable) {
  EXPECT_EQ(Run(Fido2Line("alice", kRpId)), Outcome::kUnavailable);
  ASSERT_EQ(conversation_.errors.size(), 1u);
  EXPECT_EQ(conversation_.errors[0], "No security key found");
  // No cue before a key was found to touch.
  EXPECT_TRUE(conversation_.infos.empty());
}

TEST_F(FidoFactorTest, MissingAppIdIsAnError) {
  options_.appid.clear();
  EXPECT_EQ(Run(Fido2Line("alice", kRpId)), Outcome::kError);
}

TEST_F(FidoFactorTest, KeysOnlyForAnotherAppIdAreAnErrorNotUnenrolled) {
  // nullok must not let this user through without a key.
  EXPECT_EQ(Run(Fido2Line("alice", "pam://other")), Outcome::kError);
}

TEST_F(FidoFactorTest, GroupReadableAuthfileIsAnError) {
  EXPECT_EQ(Run(Fido2Line("alice", kRpId), 0640), Outcome::kError);
}

TEST_F(FidoFactorTest, MalformedAuthfileIsAnError) {
  EXPECT_EQ(Run("alice:fido2:garbage\n"), Outcome::kError);
}

}  // namespace
}  // namespace gate::pam
