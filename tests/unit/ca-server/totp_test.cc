#include "ca-server/auth/totp.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace gate::ca {
namespace {

// RFC 6238 appendix B uses this ASCII seed for its SHA-1 vectors.
const SecretString kRfcSecret("12345678901234567890");

TEST(TotpTest, Rfc6238Sha1Vectors) {
  // The RFC lists 8-digit codes; a 6-digit code is their last six digits.
  struct Vector {
    std::int64_t time;
    const char* code;
  };
  const Vector kVectors[] = {
      {59, "287082"},         {1111111109, "081804"}, {1111111111, "050471"},
      {1234567890, "005924"}, {2000000000, "279037"}, {20000000000, "353130"},
  };
  for (const Vector& v : kVectors) {
    Result<std::string> code = TotpCode(kRfcSecret, v.time);
    ASSERT_TRUE(code.has_value()) << code.error().ToString();
    EXPECT_EQ(*code, v.code) << "time " << v.time;
  }
}

TEST(TotpTest, VerifyReturnsTheCurrentStep) {
  Result<std::int64_t> step = VerifyTotp(kRfcSecret, "287082", 59);
  ASSERT_TRUE(step.has_value()) << step.error().ToString();
  EXPECT_EQ(*step, 1);
}

TEST(TotpTest, WindowOfOneAcceptsNeighbouringSteps) {
  constexpr std::int64_t kNow = 1111111111;  // step 37037037
  const std::int64_t now_step = kNow / kTotpStepSeconds;
  for (int offset : {-1, 0, 1}) {
    Result<std::string> code = TotpCode(kRfcSecret, kNow + offset * kTotpStepSeconds);
    ASSERT_TRUE(code.has_value());
    Result<std::int64_t> step = VerifyTotp(kRfcSecret, *code, kNow);
    ASSERT_TRUE(step.has_value()) << "offset " << offset;
    EXPECT_EQ(*step, now_step + offset);
  }
  for (int offset : {-2, 2}) {
    Result<std::string> code = TotpCode(kRfcSecret, kNow + offset * kTotpStepSeconds);
    ASSERT_TRUE(code.has_value());
    Result<std::int64_t> step = VerifyTotp(kRfcSecret, *code, kNow);
    ASSERT_FALSE(step.has_value()) << "offset " << offset;
    EXPECT_EQ(step.error().code(), Code::kUnauthenticated);
    EXPECT_EQ(step.error().message(), "invalid OTP code");
    // A wider window accepts it.
    Result<std::int64_t> wide = VerifyTotp(kRfcSecret, *code, kNow, 2);
    ASSERT_TRUE(wide.has_value());
    EXPECT_EQ(*wide, now_step + offset);
  }
}

TEST(TotpTest, WindowZeroAcceptsOnlyTheCurrentStep) {
  Result<std::string> previous = TotpCode(kRfcSecret, 1111111111 - kTotpStepSeconds);
  ASSERT_TRUE(previous.has_value());
  EXPECT_FALSE(VerifyTotp(kRfcSecret, *previous, 1111111111, 0).has_value());
  EXPECT_TRUE(VerifyTotp(kRfcSecret, "050471", 1111111111, 0).has_value());
}

TEST(TotpTest, WrongCodeIsUnauthenticated) {
  Result<std::int64_t> step = VerifyTotp(kRfcSecret, "000000", 59);
  ASSERT_FALSE(step.has_value());
  EXPECT_EQ(step.error().code(), Code::kUnauthenticated);
}

TEST(TotpTest, MalformedCodeIsInvalidArgument) {
  for (const char* code : {"", "28708", "2870822", "28708a", " 87082", "287 82", "２８７０８２"}) {
    Result<std::int64_t> step = VerifyTotp(kRfcSecret, code, 59);
    ASSERT_FALSE(step.has_value()) << code;
    EXPECT_EQ(step.error().code(), Code::kInvalidArgument) << code;
  }
  EXPECT_EQ(VerifyTotp(kRfcSecret, std::string("28708\0", 6), 59).error().code(),
            Code::kInvalidArgument);
}

TEST(TotpTest, BadArguments) {
  EXPECT_EQ(VerifyTotp(SecretString(), "287082", 59).error().code(), Code::kFailedPrecondition);
  EXPECT_EQ(VerifyTotp(kRfcSecret, "287082", 59, -1).error().code(), Code::kInvalidArgument);
  EXPECT_EQ(VerifyTotp(kRfcSecret, "287082", 59, kTotpMaxWindow + 1).error().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(VerifyTotp(kRfcSecret, "287082", -1).error().code(), Code::kInvalidArgument);
  EXPECT_EQ(TotpCode(SecretString(), 59).error().code(), Code::kFailedPrecondition);
}

TEST(TotpTest, GeneratedSecretsAreRandom) {
  Result<SecretString> a = GenerateTotpSecret();
  Result<SecretString> b = GenerateTotpSecret();
  ASSERT_TRUE(a.has_value() && b.has_value());
  EXPECT_EQ(a->size(), kTotpSecretBytes);
  EXPECT_EQ(b->size(), kTotpSecretBytes);
  EXPECT_NE(*a, *b);
  // A generated secret works end to end.
  Result<std::string> code = TotpCode(*a, 1700000000);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(VerifyTotp(*a, *code, 1700000000), Result<std::int64_t>(1700000000 / 30));
}

TEST(TotpTest, UriFormat) {
  EXPECT_EQ(TotpUri(kRfcSecret, "alice", "gate"),
            "otpauth://totp/gate:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
            "&issuer=gate&algorithm=SHA1&digits=6&period=30");
}

TEST(TotpTest, UriEncodesNamesAndStripsPadding) {
  // 11 bytes encode to 18 base32 characters plus six '=' of padding.
  EXPECT_EQ(TotpUri(SecretString("12345678901"), "alice@example.com", "Acme Corp: Prod&Co"),
            "otpauth://totp/Acme%20Corp%3A%20Prod%26Co:alice%40example.com"
            "?secret=GEZDGNBVGY3TQOJQGE&issuer=Acme%20Corp%3A%20Prod%26Co"
            "&algorithm=SHA1&digits=6&period=30");
}

}  // namespace
}  // namespace gate::ca
