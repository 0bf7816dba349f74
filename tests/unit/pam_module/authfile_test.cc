// gate/authfile.h: the format shared by pam_gate.so and `gate mfa add --local`.
#include "gate/authfile.h"

#include <gtest/gtest.h>

#include "gate/bytes.h"

namespace gate::authfile {
namespace {

// RFC 6238's SHA-1 test key "12345678901234567890" in base32.
constexpr char kSecretB32[] = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

std::string P256Key() { return std::string("\x04", 1) + std::string(64, 'k'); }

void ExpectLineError(const std::string& text, int line, const std::string& fragment) {
  auto r = Parse(text);
  ASSERT_FALSE(r.has_value()) << text;
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
  const std::string prefix = "authfile:" + std::to_string(line) + ": ";
  EXPECT_EQ(r.error().message().rfind(prefix, 0), 0u) << r.error().message();
  EXPECT_NE(r.error().message().find(fragment), std::string::npos) << r.error().message();
}

TEST(AuthfileTest, ParsesTotpAndFido2WithCommentsAndBlanks) {
  const std::string text = std::string("# comment\n\n   \nalice:totp:sha1:6:") + kSecretB32 +
                           "\r\n  bob:totp:sha256:8:" + kSecretB32 +
                           "  \nalice:fido2:pam://host1:" + Base64Encode("cred") + ":" +
                           Base64Encode(P256Key()) +
                           ":es256\ncarol:fido2:example.org:" + Base64Encode("c2") + ":" +
                           Base64Encode(std::string(32, 'e')) + ":eddsa";  // no final newline
  auto r = Parse(text);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  ASSERT_EQ(r->size(), 4u);
  const Entry& a = (*r)[0];
  EXPECT_EQ(a.user, "alice");
  EXPECT_EQ(a.kind, Kind::kTotp);
  EXPECT_EQ(a.totp.algorithm, "sha1");
  EXPECT_EQ(a.totp.digits, 6);
  EXPECT_EQ(a.totp.secret.view(), "12345678901234567890");
  EXPECT_EQ((*r)[1].totp.algorithm, "sha256");
  EXPECT_EQ((*r)[1].totp.digits, 8);
  const Entry& f = (*r)[2];
  EXPECT_EQ(f.kind, Kind::kFido2);
  EXPECT_EQ(f.fido2.rp_id, "pam://host1");
  EXPECT_EQ(f.fido2.credential_id, "cred");
  EXPECT_EQ(f.fido2.public_key, P256Key());
  EXPECT_EQ(f.fido2.cose_alg, "es256");
  EXPECT_EQ((*r)[3].fido2.cose_alg, "eddsa");

  EXPECT_EQ(ForUser(*r, "alice", Kind::kTotp).size(), 1u);
  EXPECT_EQ(ForUser(*r, "alice", Kind::kFido2).size(), 1u);
  EXPECT_EQ(ForUser(*r, "bob", Kind::kFido2).size(), 0u);
  EXPECT_EQ(ForUser(*r, "nobody", Kind::kTotp).size(), 0u);
}

TEST(AuthfileTest, FormatRoundTrips) {
  auto r = Parse(std::string("alice:totp:sha256:8:") + kSecretB32 + "\nalice:fido2:pam://h:" +
                 Base64Encode("id") + ":" + Base64Encode(P256Key()) + ":es256\n");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(Format((*r)[0]).view(), std::string("alice:totp:sha256:8:") + kSecretB32 + "\n");
  for (const Entry& e : *r) {
    auto again = Parse(Format(e).view());
    ASSERT_TRUE(again.has_value()) << again.error().message();
    ASSERT_EQ(again->size(), 1u);
    EXPECT_EQ(Format((*again)[0]), Format(e));
  }
  // Secrets whose base32 needs padding are written without it.
  Entry e;
  e.user = "u";
  e.totp.secret = SecretString(std::string_view("0123456789a"));  // 11 bytes
  const SecretString line = Format(e);
  EXPECT_EQ(line.find('='), std::string::npos);
  auto parsed = Parse(line.view());
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message();
  EXPECT_EQ((*parsed)[0].totp.secret.view(), "0123456789a");
}

TEST(AuthfileTest, EveryMalformedLineNamesItsNumber) {
  const std::string ok = std::string("alice:totp:sha1:6:") + kSecretB32 + "\n";
  const std::string s = kSecretB32;
  const std::string cred = Base64Encode("cred");
  const std::string key = Base64Encode(P256Key());
  struct Case {
    std::string line;
    std::string fragment;
  };
  const Case cases[] = {
      {"alice", "expected USER:totp"},
      {"alice:totp", "expected USER:totp"},
      {":totp:sha1:6:" + s, "bad user name"},
      {"-alice:totp:sha1:6:" + s, "bad user name"},
      {"al ice:totp:sha1:6:" + s, "bad user name"},
      {"alice:hotp:sha1:6:" + s, "unknown kind"},
      {"alice:totp:sha1:6", "5 fields"},
      {"alice:totp:sha1:6:" + s + ":extra", "5 fields"},
      {"alice:totp:md5:6:" + s, "unknown algorithm"},
      {"alice:totp:sha512:6:" + s, "unknown algorithm"},
      {"alice:totp:sha1:7:" + s, "digits must be 6 or 8"},
      {"alice:totp:sha1:06:" + s, "digits must be 6 or 8"},
      {"alice:totp:sha1:6:", "empty secret"},
      {"alice:totp:sha1:6:" + s + "====", "base32"},
      {"alice:totp:sha1:6:gezdgnbvgy3tqojqgezdgnbvgy3tqojq", "base32"},
      {"alice:totp:sha1:6:GEZDGNBVGY3TQOJ1", "base32"},
      {"alice:totp:sha1:6:GEZDGNBV", "shorter than 80 bits"},
      {"alice:totp:sha1:6:GEZDGNBVG", "impossible base32 length"},
      {"alice:totp:sha1:6:" + std::string(112, 'A'), "longer than 64 bytes"},
      {"alice:fido2:h:" + cred + ":" + key, "6 fields"},
      {"alice:fido2:pam://h:" + cred + ":" + key, "unknown COSE algorithm"},
      {"alice:fido2:" + cred + ":" + key + ":es256", "6 fields"},
      {"alice:fido2::" + cred + ":" + key + ":es256", "RP id"},
      {"alice:fido2:h:" + cred + ":" + key + ":rs256", "unknown COSE algorithm"},
      {"alice:fido2:h:!!:" + key + ":es256", "credential id is not valid base64"},
      {"alice:fido2:h::" + key + ":es256", "credential id is not valid base64"},
      {"alice:fido2:h:" + cred + ":%%:es256", "public key is not valid base64"},
      {"alice:fido2:h:" + cred + ":" + Base64Encode(std::string(65, 'x')) + ":es256",
       "uncompressed P-256"},
      {"alice:fido2:h:" + cred + ":" + key + ":eddsa", "32 bytes"},
      {"alice:fido2:h:" + Base64Encode(std::string(1025, 'c')) + ":" + key + ":es256",
       "longer than 1024"},
      {std::string("alice:totp:sha1:6:") + s + std::string(1, '\0'), "NUL"},
  };
  for (const Case& c : cases) {
    // The bad line is line 3, after a comment and a good line.
    ExpectLineError("# users\n" + ok + c.line + "\n" + ok, 3, c.fragment);
  }
}

TEST(AuthfileTest, ErrorsNeverEchoTheSecret) {
  const std::string bad_secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ1";  // '1' is not base32
  auto r = Parse("alice:totp:sha1:6:" + bad_secret + "\n");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message().find("GEZDGNBV"), std::string::npos) << r.error().message();
}

TEST(AuthfileTest, EmptyFileHasNoEntries) {
  auto r = Parse("");
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->empty());
}

}  // namespace
}  // namespace gate::authfile
