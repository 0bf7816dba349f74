// The OTP relay's wire format and line I/O (gate/otp_relay.h): what each
// side writes is what the other parses, and anything else is refused
// without echoing a code.
#include "gate/otp_relay.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "gate/unique_fd.h"

namespace gate {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST(OtpRelayFormatTest, RequestRoundTrip) {
  auto line = FormatOtpRelayRequest("alice@example.com", "12345678", 1500ms);
  ASSERT_TRUE(line.has_value()) << line.error().ToString();
  EXPECT_EQ(line->view(), "verify alice@example.com 12345678 1500\n");
  auto parsed = ParseOtpRelayRequest(line->view().substr(0, line->size() - 1));
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  EXPECT_EQ(parsed->user, "alice@example.com");
  EXPECT_EQ(parsed->code.view(), "12345678");
  EXPECT_EQ(parsed->timeout, 1500ms);
}

TEST(OtpRelayFormatTest, RequestRefusesWhatItCannotCarry) {
  EXPECT_FALSE(FormatOtpRelayRequest("-alice", "123456", 1000ms).has_value());
  EXPECT_FALSE(FormatOtpRelayRequest("al ice", "123456", 1000ms).has_value());
  EXPECT_FALSE(FormatOtpRelayRequest("alice", "12 456", 1000ms).has_value());
  EXPECT_FALSE(FormatOtpRelayRequest("alice", "", 1000ms).has_value());
  EXPECT_FALSE(FormatOtpRelayRequest("alice", std::string(17, '1'), 1000ms).has_value());
  EXPECT_FALSE(FormatOtpRelayRequest("alice", "123456", 0ms).has_value());
  EXPECT_FALSE(FormatOtpRelayRequest("alice", "123456", 60001ms).has_value());
  EXPECT_TRUE(IsOtpCodeShape("0"));
  EXPECT_FALSE(IsOtpCodeShape("１２３"));  // not ASCII digits
}

TEST(OtpRelayFormatTest, MalformedRequestsNeverNameTheCode) {
  for (const std::string line :
       {"", "verify", "verify alice", "verify alice 424242", "verify alice 424242 ",
        "verify alice 424242 +5", "verify alice 424242 -5", "verify alice 424242 5x",
        "verify alice 424242 99999999999999999999", "VERIFY alice 424242 5",
        "verify alice 424242 015", "verify alice 4242a2 5", " verify alice 424242 5",
        "verify alice 424242 5 6"}) {
    auto r = ParseOtpRelayRequest(line);
    ASSERT_FALSE(r.has_value()) << line;
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
    EXPECT_EQ(r.error().message().find("424242"), std::string::npos) << r.error().message();
  }
  EXPECT_FALSE(ParseOtpRelayRequest("verify alice 123456 5" + std::string(600, '0')).has_value());
}

TEST(OtpRelayFormatTest, ReplyRoundTripAndSanitizedMessage) {
  const std::string line =
      FormatOtpRelayReply({OtpVerdict::kRefused, "alice", "wrong\ncode\x7f (HTTP 401)"});
  EXPECT_EQ(line, "refused alice wrong code  (HTTP 401)\n");
  auto parsed = ParseOtpRelayReply(line.substr(0, line.size() - 1));
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->verdict, OtpVerdict::kRefused);
  EXPECT_EQ(parsed->user, "alice");
  EXPECT_EQ(parsed->message, "wrong code  (HTTP 401)");

  for (OtpVerdict v : {OtpVerdict::kAccepted, OtpVerdict::kRefused, OtpVerdict::kLockedOut,
                       OtpVerdict::kUnavailable, OtpVerdict::kError}) {
    const std::string l = FormatOtpRelayReply({v, "", ""});
    auto p = ParseOtpRelayReply(l.substr(0, l.size() - 1));
    ASSERT_TRUE(p.has_value()) << l;
    EXPECT_EQ(p->verdict, v);
    EXPECT_EQ(p->user, "");  // "-" on the wire
  }
  // A long message is cut so the line fits.
  EXPECT_EQ(FormatOtpRelayReply({OtpVerdict::kError, "alice", std::string(2000, 'x')}).size(),
            kOtpRelayMaxLine);
  for (const char* bad : {"", "accepted", "accepted alice", "yes alice x", "accepted -bob x"}) {
    EXPECT_FALSE(ParseOtpRelayReply(bad).has_value()) << bad;
  }
}

class LinePair : public ::testing::Test {
 protected:
  LinePair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    a_.Reset(fds[0]);
    b_.Reset(fds[1]);
  }
  UniqueFd a_, b_;
};

TEST_F(LinePair, ReadsExactlyOneLine) {
  ASSERT_TRUE(WriteOtpRelayLine(a_.get(), "first line\nsecond", Clock::now() + 1s).ok());
  auto line = ReadOtpRelayLine(b_.get(), Clock::now() + 1s);
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(line->view(), "first line");
  // What follows the newline is still in the socket.
  char rest[16] = {};
  EXPECT_EQ(::read(b_.get(), rest, sizeof rest), 6);
  EXPECT_STREQ(rest, "second");
}

TEST_F(LinePair, SilentPeerTimesOut) {
  auto silent = ReadOtpRelayLine(b_.get(), Clock::now() + 20ms);
  ASSERT_FALSE(silent.has_value());
  EXPECT_EQ(silent.error().code(), Code::kUnavailable);
  EXPECT_NE(silent.error().message().find("timed out"), std::string::npos);
}

TEST_F(LinePair, LineTooLong) {
  const std::string longer(kOtpRelayMaxLine, 'x');
  ASSERT_TRUE(WriteOtpRelayLine(a_.get(), longer + "\n", Clock::now() + 1s).ok());
  auto too_long = ReadOtpRelayLine(b_.get(), Clock::now() + 1s);
  ASSERT_FALSE(too_long.has_value());
  EXPECT_EQ(too_long.error().code(), Code::kInvalidArgument);
}

TEST_F(LinePair, ClosedBeforeTheNewline) {
  ASSERT_TRUE(WriteOtpRelayLine(a_.get(), "accepted alice", Clock::now() + 1s).ok());
  a_.Reset();
  auto cut = ReadOtpRelayLine(b_.get(), Clock::now() + 1s);
  ASSERT_FALSE(cut.has_value());
  EXPECT_EQ(cut.error().code(), Code::kUnavailable);
}

TEST_F(LinePair, WriteToAGonePeerIsUnavailableNotSigpipe) {
  b_.Reset();
  const Status s = WriteOtpRelayLine(a_.get(), "verify alice 1 1\n", Clock::now() + 1s);
  EXPECT_EQ(s.code(), Code::kUnavailable);
}

}  // namespace
}  // namespace gate
