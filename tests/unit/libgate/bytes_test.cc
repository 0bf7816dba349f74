#include "gate/bytes.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <set>
#include <string>

namespace gate {
namespace {

TEST(Base64Test, Rfc4648Vectors) {
  const std::pair<std::string, std::string> vectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(Base64Encode(plain), encoded);
    auto decoded = Base64Decode(encoded);
    ASSERT_TRUE(decoded) << encoded << ": " << decoded.error().ToString();
    EXPECT_EQ(*decoded, plain);
  }
}

TEST(Base64Test, RoundTripsAllByteValuesAndLengths) {
  std::string data;
  for (int i = 0; i < 300; ++i) {
    auto decoded = Base64Decode(Base64Encode(data));
    ASSERT_TRUE(decoded) << "length " << data.size();
    EXPECT_EQ(*decoded, data);
    data.push_back(static_cast<char>(i * 37));
  }
}

// Base64Encode is hand-written; OpenSSL's encoder, which it replaced, is the
// reference for every byte value and every length modulo 3.
TEST(Base64Test, EncodesAsOpenSslDoes) {
  std::string data;
  for (int i = 0; i < 600; ++i) {
    std::string expected(4 * ((data.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(expected.data()),
                                  reinterpret_cast<const unsigned char*>(data.data()),
                                  static_cast<int>(data.size()));
    expected.resize(static_cast<std::size_t>(n));
    ASSERT_EQ(Base64Encode(data), expected) << "length " << data.size();
    data.push_back(static_cast<char>(i * 101 + 7));
  }
}

TEST(Base64Test, StrictDecodeRejectsMalformedText) {
  const char* bad[] = {
      "Zg=",     // length not a multiple of 4
      "Zg",      // missing padding
      "Zg==\n",  // trailing newline
      " Zg==",   // leading space
      "Zm 9v",   // embedded space
      "Zm9v\r\nZg==",
      "Zg=a",  // padding in the middle
      "Z===",  // too much padding
      "====",         "Zm9v====",
      "Zh==",     // non-zero bits after the last byte
      "Zm9=",     // non-zero bits after the last byte
      "-_-_",     // URL-safe alphabet
      "Zm9\x80",  // high byte
  };
  for (const char* text : bad) {
    auto r = Base64Decode(text);
    EXPECT_FALSE(r) << "accepted \"" << text << "\"";
    if (!r) {
      EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
    }
  }
  EXPECT_FALSE(Base64Decode(std::string_view("Zm\0v", 4)));
}

TEST(HexTest, EncodeIsLowerCase) {
  EXPECT_EQ(HexEncode(std::string("\x00\xff\x10\xab", 4)), "00ff10ab");
  EXPECT_EQ(HexEncode(""), "");
}

TEST(PercentEncodeTest, KeepsUnreservedAndAtEncodesEverythingElse) {
  EXPECT_EQ(PercentEncode("AZaz09-._~@"), "AZaz09-._~@");
  EXPECT_EQ(PercentEncode("a b&c=d/e?f%"), "a%20b%26c%3Dd%2Fe%3Ff%25");
  EXPECT_EQ(PercentEncode(std::string("\x00\xff", 2)), "%00%FF");
  EXPECT_EQ(PercentEncode(""), "");
}

TEST(HexTest, DecodeAcceptsBothCases) {
  auto lower = HexDecode("00ff10ab");
  auto upper = HexDecode("00FF10AB");
  ASSERT_TRUE(lower);
  ASSERT_TRUE(upper);
  EXPECT_EQ(*lower, std::string("\x00\xff\x10\xab", 4));
  EXPECT_EQ(*upper, *lower);
}

TEST(HexTest, DecodeRejectsOddLengthAndNonHex) {
  for (const char* bad : {"0", "abc", "0g", "zz", " 0", "0x00"}) {
    auto r = HexDecode(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
    }
  }
}

TEST(Sha256Test, KnownVectors) {
  EXPECT_EQ(HexEncode(Sha256("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(HexEncode(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(RandomTest, ReturnsRequestedLengthAndVaries) {
  auto a = RandomBytes(32);
  auto b = RandomBytes(32);
  ASSERT_TRUE(a);
  ASSERT_TRUE(b);
  EXPECT_EQ(a->size(), 32u);
  EXPECT_NE(*a, *b);
  auto empty = RandomBytes(0);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

TEST(RandomTest, U64Varies) {
  std::set<std::uint64_t> seen;
  for (int i = 0; i < 16; ++i) {
    auto v = RandomU64();
    ASSERT_TRUE(v);
    seen.insert(*v);
  }
  EXPECT_GT(seen.size(), 1u);
}

TEST(Base64UrlTest, RoundTripsAndRefusesOtherAlphabets) {
  for (const std::string& data :
       {std::string(), std::string("a"), std::string("ab"), std::string("\xfb\xff\xfe", 3)}) {
    EXPECT_EQ(Base64UrlDecode(Base64UrlEncode(data)).value_or("x"), data);
  }
  EXPECT_EQ(Base64UrlEncode("\xfb\xff\xfe"), "-__-");
  for (const char* bad : {"+__-", "/__-", "-__-=", "a", "ab=c", "a b", "ab"}) {
    EXPECT_FALSE(Base64UrlDecode(bad).has_value()) << bad;
  }
}

}  // namespace

}  // namespace gate
