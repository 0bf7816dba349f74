#include "gate/duration.h"

#include <gtest/gtest.h>

#include <chrono>

namespace gate {
namespace {

using std::chrono::seconds;

TEST(ParseDurationTest, AcceptsGoStyle) {
  EXPECT_EQ(ParseDuration("12h").value(), seconds(12 * 3600));
  EXPECT_EQ(ParseDuration("30m").value(), seconds(30 * 60));
  EXPECT_EQ(ParseDuration("90s").value(), seconds(90));
  EXPECT_EQ(ParseDuration("1h30m").value(), seconds(5400));
  EXPECT_EQ(ParseDuration("2h0m0s").value(), seconds(7200));
  EXPECT_EQ(ParseDuration("0h1s").value(), seconds(1));
  EXPECT_EQ(ParseDuration("87600h").value(), seconds(87600LL * 3600));  // 10 years
}

TEST(ParseDurationTest, RejectsMalformed) {
  for (const char* text : {"", "abc", "12", "h", "12x", "12d", "1.5h", "-1h", "+1h", " 1h", "1h ",
                           "1H", "1h1h", "1m2m", "1s1s", "1h 30m", "1hm"}) {
    auto d = ParseDuration(text);
    ASSERT_FALSE(d.has_value()) << "'" << text << "'";
    EXPECT_EQ(d.error().code(), Code::kInvalidArgument) << text;
  }
  EXPECT_EQ(ParseDuration("abc").error().message(), "invalid duration 'abc' (use e.g. 12h, 30m)");
}

TEST(ParseDurationTest, RejectsZeroAndTooLong) {
  EXPECT_NE(ParseDuration("0s").error().message().find("greater than zero"), std::string::npos);
  EXPECT_FALSE(ParseDuration("0h0m0s").has_value());
  EXPECT_NE(ParseDuration("87601h").error().message().find("10 years"), std::string::npos);
  // Digits that would overflow int64 are reported as too long, not wrapped.
  EXPECT_NE(ParseDuration("99999999999999999999999s").error().message().find("10 years"),
            std::string::npos);
  EXPECT_FALSE(ParseDuration("87600h1s").has_value());
}

TEST(FormatDurationTest, GoStyle) {
  EXPECT_EQ(FormatDuration(seconds(12 * 3600)), "12h0m0s");
  EXPECT_EQ(FormatDuration(seconds(30 * 60)), "30m0s");
  EXPECT_EQ(FormatDuration(seconds(45)), "45s");
  EXPECT_EQ(FormatDuration(seconds(0)), "0s");
  EXPECT_EQ(FormatDuration(seconds(3661)), "1h1m1s");
  EXPECT_EQ(FormatDuration(seconds(-90)), "-1m30s");
}

TEST(FormatDurationTest, RoundTrips) {
  for (long long s : {1LL, 59LL, 60LL, 3599LL, 3600LL, 86399LL, 108000LL}) {
    EXPECT_EQ(ParseDuration(FormatDuration(seconds(s))).value(), seconds(s)) << s;
  }
}

}  // namespace
}  // namespace gate
