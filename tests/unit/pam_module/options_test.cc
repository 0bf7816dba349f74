#include "pam_module/options.h"

#include <gtest/gtest.h>

namespace gate::pam {
namespace {

Result<Options> Parse(std::vector<std::string> args) { return ParseOptions(args); }

void ExpectBad(std::vector<std::string> args, const std::string& fragment) {
  auto o = ParseOptions(args);
  ASSERT_FALSE(o.has_value()) << args.front();
  EXPECT_EQ(o.error().code(), Code::kInvalidArgument);
  EXPECT_NE(o.error().message().find(fragment), std::string::npos) << o.error().message();
}

TEST(OptionsTest, Defaults) {
  auto o = Parse({});
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->second_factor, SecondFactor::kOtp);
  EXPECT_EQ(o->source, Source::kCentral);
  EXPECT_EQ(o->authfile, "/etc/gate/pam_gate.authfile");
  EXPECT_EQ(o->state_dir, "/var/lib/gate/pam");
  EXPECT_EQ(o->window, 1);
  EXPECT_FALSE(o->nullok);
  EXPECT_EQ(o->max_tries, 3);
  EXPECT_EQ(o->lockout, std::chrono::seconds(300));
  EXPECT_EQ(o->timeout, std::chrono::milliseconds(2000));
  EXPECT_EQ(o->offline, Offline::kDeny);
  EXPECT_EQ(o->relay, "/run/gate/otp-relay.sock");
  EXPECT_TRUE(o->appid.empty());
  EXPECT_TRUE(o->origin.empty());
  EXPECT_FALSE(o->cue);
  EXPECT_FALSE(o->user_verification);
  EXPECT_FALSE(o->debug);
}

TEST(OptionsTest, EveryOption) {
  auto o =
      Parse({"second_factor=u2f", "source=local", "authfile=/etc/a", "state_dir=/var/s", "window=3",
             "nullok", "max_tries=5", "lockout=60", "timeout=500", "offline=local", "relay=/n",
             "appid=pam://h", "origin=https://o", "cue", "user_verification", "debug"});
  ASSERT_TRUE(o.has_value()) << o.error().message();
  EXPECT_EQ(o->second_factor, SecondFactor::kU2f);
  EXPECT_EQ(o->source, Source::kLocal);
  EXPECT_EQ(o->authfile, "/etc/a");
  EXPECT_EQ(o->state_dir, "/var/s");
  EXPECT_EQ(o->window, 3);
  EXPECT_TRUE(o->nullok);
  EXPECT_EQ(o->max_tries, 5);
  EXPECT_EQ(o->lockout, std::chrono::seconds(60));
  EXPECT_EQ(o->timeout, std::chrono::milliseconds(500));
  EXPECT_EQ(o->offline, Offline::kLocal);
  EXPECT_EQ(o->relay, "/n");
  EXPECT_EQ(o->appid, "pam://h");
  EXPECT_EQ(o->origin, "https://o");
  EXPECT_TRUE(o->cue);
  EXPECT_TRUE(o->user_verification);
  EXPECT_TRUE(o->debug);
}

TEST(OptionsTest, EnumValues) {
  EXPECT_EQ(Parse({"second_factor=otp"})->second_factor, SecondFactor::kOtp);
  EXPECT_EQ(Parse({"second_factor=off"})->second_factor, SecondFactor::kOff);
  EXPECT_EQ(Parse({"source=central"})->source, Source::kCentral);
  EXPECT_EQ(Parse({"offline=deny"})->offline, Offline::kDeny);
  ExpectBad({"second_factor=sms"}, "otp, u2f or off");
  ExpectBad({"second_factor=OTP"}, "otp, u2f or off");
  ExpectBad({"source=remote"}, "central or local");
  ExpectBad({"offline=allow"}, "deny or local");
}

TEST(OptionsTest, OriginDefaultsFromAppid) {
  EXPECT_EQ(Parse({"appid=host1"})->origin, "pam://host1");
  EXPECT_EQ(Parse({"origin=pam://x", "appid=host1"})->origin, "pam://x");
}

TEST(OptionsTest, UnknownOptionsFailClosed) {
  ExpectBad({"nullok", "bogus"}, "unknown option");
  ExpectBad({"bogus=1"}, "unknown option");
  ExpectBad({"null_ok"}, "unknown option");
  ExpectBad({"Nullok"}, "unknown option");
  ExpectBad({""}, "unknown option");
  ExpectBad({"=x"}, "unknown option");
}

TEST(OptionsTest, FlagsTakeNoValueAndValuedNeedOne) {
  ExpectBad({"nullok=1"}, "takes no value");
  ExpectBad({"debug=yes"}, "takes no value");
  ExpectBad({"cue="}, "takes no value");
  ExpectBad({"window"}, "needs a value");
  ExpectBad({"authfile="}, "needs a value");
  ExpectBad({"appid="}, "needs a value");
}

TEST(OptionsTest, RepeatedOptionRefused) {
  ExpectBad({"window=1", "window=2"}, "more than once");
  ExpectBad({"nullok", "nullok"}, "more than once");
}

TEST(OptionsTest, PathsMustBeAbsolute) {
  ExpectBad({"authfile=etc/x"}, "absolute path");
  ExpectBad({"state_dir=./s"}, "absolute path");
  ExpectBad({"relay=n"}, "absolute path");
  ExpectBad({"node_dir=/var/lib/gate-node"}, "unknown");
}

TEST(OptionsTest, MalformedNumbers) {
  for (const char* arg : {"window=-1", "window=+1", "window=1x", "window= 1", "window=0x1",
                          "max_tries=abc", "lockout=5m", "timeout=1.5"}) {
    ExpectBad({arg}, "expected a number");
  }
  ExpectBad({"max_tries=99999999999999999999"}, "out of range");
}

TEST(OptionsTest, Ranges) {
  EXPECT_EQ(Parse({"window=0"})->window, 0);
  ExpectBad({"window=4"}, "between 0 and 3");
  EXPECT_EQ(Parse({"max_tries=1"})->max_tries, 1);
  EXPECT_EQ(Parse({"max_tries=100"})->max_tries, 100);
  ExpectBad({"max_tries=0"}, "between 1 and 100");
  ExpectBad({"max_tries=101"}, "between 1 and 100");
  EXPECT_EQ(Parse({"lockout=86400"})->lockout, std::chrono::seconds(86400));
  ExpectBad({"lockout=0"}, "between 1 and 86400");
  ExpectBad({"lockout=86401"}, "between 1 and 86400");
  EXPECT_EQ(Parse({"timeout=100"})->timeout, std::chrono::milliseconds(100));
  ExpectBad({"timeout=99"}, "between 100 and 30000");
  ExpectBad({"timeout=30001"}, "between 100 and 30000");
}

}  // namespace
}  // namespace gate::pam
