#include "ca-server/auth/tokens.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace gate::ca {
namespace {

TEST(TokensTest, NewTokenIs128BitsOfLowerHex) {
  Result<std::string> token = NewToken();
  ASSERT_TRUE(token.has_value()) << token.error().ToString();
  EXPECT_EQ(token->size(), 32u);
  EXPECT_TRUE(LooksLikeToken(*token)) << *token;
}

TEST(TokensTest, NewTokensAreUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    Result<std::string> token = NewToken();
    ASSERT_TRUE(token.has_value());
    EXPECT_TRUE(seen.insert(*token).second);
  }
}

TEST(TokensTest, HashIsHexSha256) {
  EXPECT_EQ(HashToken("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HashToken(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  Result<std::string> token = NewToken();
  ASSERT_TRUE(token.has_value());
  EXPECT_EQ(HashToken(*token).size(), 64u);
  EXPECT_NE(HashToken(*token), *token);
}

TEST(TokensTest, LooksLikeToken) {
  EXPECT_TRUE(LooksLikeToken("0123456789abcdef0123456789abcdef"));
  EXPECT_FALSE(LooksLikeToken("0123456789ABCDEF0123456789abcdef"));   // upper case
  EXPECT_FALSE(LooksLikeToken("0123456789abcdef0123456789abcde"));    // 31
  EXPECT_FALSE(LooksLikeToken("0123456789abcdef0123456789abcdef0"));  // 33
  EXPECT_FALSE(LooksLikeToken("0123456789abcdef0123456789abcdeg"));
  EXPECT_FALSE(LooksLikeToken(std::string("0123456789abcdef0123456789abcde\0", 32)));
  EXPECT_FALSE(LooksLikeToken(""));
}

}  // namespace
}  // namespace gate::ca
