#include "ca-server/auth/password.h"

#include <gtest/gtest.h>

#include <string>

namespace gate::ca {
namespace {

// Each argon2id operation costs ~100 ms and 64 MiB; keep their number small.
TEST(PasswordTest, HashVerifiesOnlyTheRightPassword) {
  Result<std::string> hash = HashPassword("correct horse battery staple");
  ASSERT_TRUE(hash.has_value()) << hash.error().ToString();
  EXPECT_EQ(hash->rfind("$argon2id$v=19$m=65536,t=3,p=1$", 0), 0u) << *hash;
  EXPECT_TRUE(VerifyPassword(*hash, "correct horse battery staple"));
  EXPECT_FALSE(VerifyPassword(*hash, "correct horse battery stapler"));

  // A fresh salt per hash.
  Result<std::string> again = HashPassword("correct horse battery staple");
  ASSERT_TRUE(again.has_value());
  EXPECT_NE(*hash, *again);
}

TEST(PasswordTest, VerifyRejectsMalformedAndForeignHashes) {
  EXPECT_FALSE(VerifyPassword("", "pw"));
  EXPECT_FALSE(VerifyPassword("not a hash", "pw"));
  EXPECT_FALSE(VerifyPassword("$argon2id$v=19$m=65536,t=3,p=1$garbage", "pw"));
  // argon2i is not accepted even if it would verify.
  EXPECT_FALSE(
      VerifyPassword("$argon2i$v=19$m=16,t=2,p=1$c29tZXNhbHQ$Ry4Cv2Y4ZDlH+5HqIIBr4Q", "password"));
  EXPECT_FALSE(VerifyPassword(std::string("$argon2id$\0x", 12), "pw"));
}

TEST(PasswordTest, HashRejectsOverlongPassword) {
  Result<std::string> hash = HashPassword(std::string(kMaxPasswordBytes + 1, 'a'));
  ASSERT_FALSE(hash.has_value());
  EXPECT_EQ(hash.error().code(), Code::kInvalidArgument);
}

TEST(PasswordTest, BurnAcceptsAnyPassword) {
  // Computes the dummy hash on first use, then one verification.
  BurnPasswordVerification(std::string(kMaxPasswordBytes + 1, 'x'));
  BurnPasswordVerification("whatever");
}

TEST(PasswordPolicyTest, TooShort) {
  Status status = CheckPasswordPolicy("short", 12);
  EXPECT_EQ(status.code(), Code::kInvalidArgument);
  EXPECT_EQ(status.message(), "password must be at least 12 characters");
  EXPECT_TRUE(CheckPasswordPolicy("twelve chars", 12).ok());
  EXPECT_FALSE(CheckPasswordPolicy("eleven char", 12).ok());
}

TEST(PasswordPolicyTest, CountsCodePointsNotBytes) {
  // 12 characters, 24 bytes.
  EXPECT_TRUE(CheckPasswordPolicy("éééééééééééé", 12).ok());
  // 11 characters, 22 bytes: long enough in bytes, too short in characters.
  EXPECT_FALSE(CheckPasswordPolicy("ééééééééééé", 12).ok());
  EXPECT_TRUE(CheckPasswordPolicy("🔑🔑🔑🔑", 4).ok());
}

TEST(PasswordPolicyTest, RejectsControlCharacters) {
  const std::string with_nul("abcdefgh\0ijklmn", 15);
  Status status = CheckPasswordPolicy(with_nul, 12);
  EXPECT_EQ(status.code(), Code::kInvalidArgument);
  EXPECT_EQ(status.message(), "password must not contain control characters");
  EXPECT_FALSE(CheckPasswordPolicy("abcdefgh\tijklmn", 12).ok());
  EXPECT_FALSE(CheckPasswordPolicy("abcdefgh\nijklmn", 12).ok());
  EXPECT_FALSE(CheckPasswordPolicy("abcdefgh\x7fijklmn", 12).ok());
  EXPECT_FALSE(CheckPasswordPolicy("abcdefgh\xc2\x85ijklmn", 12).ok());  // U+0085 (C1)
}

TEST(PasswordPolicyTest, RejectsInvalidUtf8) {
  EXPECT_EQ(CheckPasswordPolicy("abcdefghijkl\xff", 12).message(), "password must be valid UTF-8");
  EXPECT_FALSE(CheckPasswordPolicy("abcdefghijkl\xc3", 12).ok());              // truncated
  EXPECT_FALSE(CheckPasswordPolicy("abcdefghijkl\xc0\xaf", 12).ok());          // overlong '/'
  EXPECT_FALSE(CheckPasswordPolicy("abcdefghijkl\xed\xa0\x80", 12).ok());      // surrogate
  EXPECT_FALSE(CheckPasswordPolicy("abcdefghijkl\xf4\x90\x80\x80", 12).ok());  // > U+10FFFF
}

TEST(PasswordPolicyTest, RejectsOverlongPassword) {
  EXPECT_TRUE(CheckPasswordPolicy(std::string(kMaxPasswordBytes, 'a'), 12).ok());
  Status status = CheckPasswordPolicy(std::string(kMaxPasswordBytes + 1, 'a'), 12);
  EXPECT_EQ(status.code(), Code::kInvalidArgument);
  EXPECT_EQ(status.message(), "password must be at most 1024 bytes");
}

}  // namespace
}  // namespace gate::ca
