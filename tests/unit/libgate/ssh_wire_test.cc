#include "gate/ssh_wire.h"

#include <gtest/gtest.h>

#include <string>

namespace gate::ssh {
namespace {

using namespace std::string_literals;

TEST(WriterTest, EncodesBigEndianAndLengthPrefixes) {
  Writer w;
  w.PutU8(0x7f);
  w.PutU32(0x01020304);
  w.PutU64(0x0a0b0c0d0e0f1011ULL);
  w.PutBool(true);
  w.PutBool(false);
  w.PutString("abc");
  w.PutString("");
  w.PutRaw("xy");
  EXPECT_EQ(w.data(),
            "\x7f"
            "\x01\x02\x03\x04"
            "\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11"
            "\x01\x00"
            "\x00\x00\x00\x03"
            "abc"
            "\x00\x00\x00\x00"
            "xy"s);
}

TEST(ReaderTest, RoundTrip) {
  Writer w;
  w.PutU8(200);
  w.PutU32(0xdeadbeef);
  w.PutU64(0xffffffffffffffffULL);
  w.PutBool(true);
  w.PutString("hello\0world"s);
  const std::string data = w.Take();

  Reader r(data);
  EXPECT_EQ(*r.GetU8(), 200);
  EXPECT_EQ(*r.GetU32(), 0xdeadbeefu);
  EXPECT_EQ(*r.GetU64(), 0xffffffffffffffffULL);
  EXPECT_TRUE(*r.GetBool());
  EXPECT_EQ(*r.GetString(), "hello\0world"s);
  EXPECT_TRUE(r.empty());
  EXPECT_TRUE(r.ExpectEnd().ok());
}

TEST(ReaderTest, AnyNonZeroBoolIsTrue) {
  const std::string data = "\x02\x00"s;
  Reader r(data);
  EXPECT_TRUE(*r.GetBool());
  EXPECT_FALSE(*r.GetBool());
}

TEST(ReaderTest, TruncatedReadsAreDataLoss) {
  EXPECT_EQ(Reader("").GetU8().error().code(), Code::kDataLoss);
  EXPECT_EQ(Reader("\x01\x02\x03").GetU32().error().code(), Code::kDataLoss);
  EXPECT_EQ(Reader("\x01\x02\x03\x04\x05\x06\x07").GetU64().error().code(), Code::kDataLoss);
  EXPECT_EQ(Reader("\x00\x00"s).GetString().error().code(), Code::kDataLoss);
  EXPECT_EQ(Reader("\x00\x00\x00\x05"
                   "abcd"s)
                .GetString()
                .error()
                .code(),
            Code::kDataLoss);
}

TEST(ReaderTest, OversizedStringLengthIsRejectedWithoutReading) {
  // A hostile length must fail on the cap, not on allocation or over-read.
  EXPECT_EQ(Reader("\xff\xff\xff\xff"
                   "abc")
                .GetString()
                .error()
                .code(),
            Code::kInvalidArgument);
  const std::string over_default = "\x00\x01\x00\x01"s + std::string(kMaxStringLength + 1, 'a');
  EXPECT_EQ(Reader(over_default).GetString().error().code(), Code::kInvalidArgument);
  const std::string five =
      "\x00\x00\x00\x05"
      "abcde"s;
  EXPECT_EQ(Reader(five).GetString(4).error().code(), Code::kInvalidArgument);
  Reader exact(five);
  auto s = exact.GetString(5);
  ASSERT_TRUE(s);
  EXPECT_EQ(*s, "abcde");
}

TEST(ReaderTest, ExpectEndReportsTrailingData) {
  const std::string data =
      "\x00\x00\x00\x01"
      "a"
      "zz"s;
  Reader r(data);
  ASSERT_TRUE(r.GetString());
  EXPECT_EQ(r.remaining(), 2u);
  Status s = r.ExpectEnd();
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("trailing"), std::string::npos);
}

TEST(ReaderTest, EveryTruncationOfAMessageFails) {
  Writer w;
  w.PutString("ssh-ed25519");
  w.PutU64(42);
  w.PutString(std::string(32, 'k'));
  w.PutU32(7);
  const std::string full = w.Take();
  for (std::size_t len = 0; len < full.size(); ++len) {
    Reader r(std::string_view(full).substr(0, len));
    bool ok = r.GetString().has_value() && r.GetU64().has_value() && r.GetString().has_value() &&
              r.GetU32().has_value();
    EXPECT_FALSE(ok) << "length " << len;
  }
}

}  // namespace
}  // namespace gate::ssh
