#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gate/join_protocol.h"
#include "gate/json.h"
#include "recorder/join/output_ring.h"

namespace gate::recorder {
namespace {

std::string Header(char type, std::uint32_t length) {
  std::string h(1, type);
  h.push_back(static_cast<char>(length >> 24));
  h.push_back(static_cast<char>((length >> 16) & 0xff));
  h.push_back(static_cast<char>((length >> 8) & 0xff));
  h.push_back(static_cast<char>(length & 0xff));
  return h;
}

std::vector<Frame> DecodeAll(FrameDecoder& d) {
  std::vector<Frame> out;
  for (;;) {
    auto f = d.Next();
    EXPECT_TRUE(f.has_value()) << f.error().ToString();
    if (!f || !f->has_value()) return out;
    out.push_back(**f);
  }
}

TEST(JoinFrameTest, EncodesTypeThenBigEndianLength) {
  std::string out;
  AppendFrame(out, FrameType::kOutput, std::string(258, 'x'));
  ASSERT_EQ(out.size(), 5u + 258);
  EXPECT_EQ(out.substr(0, 5), Header('O', 258));
  EXPECT_EQ(out.substr(0, 5), std::string("O\0\0\x01\x02", 5));
}

TEST(JoinFrameTest, RoundTripsByteByByte) {
  std::string wire;
  AppendFrame(wire, FrameType::kHello, R"({"version":1,"mode":"peer"})");
  AppendFrame(wire, FrameType::kInput, "");
  AppendFrame(wire, FrameType::kInput, std::string("ls\0\r", 4));
  FrameDecoder d(FrameDirection::kToRecorder);
  std::vector<Frame> got;
  for (char c : wire) {
    d.Feed(std::string_view(&c, 1));
    for (Frame& f : DecodeAll(d)) got.push_back(std::move(f));
  }
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].type, FrameType::kHello);
  EXPECT_EQ(got[1].type, FrameType::kInput);
  EXPECT_EQ(got[1].payload, "");
  EXPECT_EQ(got[2].payload, std::string("ls\0\r", 4));
  EXPECT_EQ(d.pending(), 0u);
}

TEST(JoinFrameTest, TruncatedFrameWaitsAndStaysPending) {
  std::string wire;
  AppendFrame(wire, FrameType::kOutput, "hello");
  for (std::size_t cut = 1; cut < wire.size(); ++cut) {
    FrameDecoder d(FrameDirection::kToClient);
    d.Feed(wire.substr(0, cut));
    auto f = d.Next();
    ASSERT_TRUE(f.has_value()) << cut;
    EXPECT_FALSE(f->has_value()) << cut;
    // At end of stream, pending bytes are how a reader tells truncation.
    EXPECT_EQ(d.pending(), cut);
  }
}

TEST(JoinFrameTest, MaximumPayloadIsAcceptedOneMoreIsNot) {
  FrameDecoder ok(FrameDirection::kToRecorder);
  ok.Feed(Header('I', kMaxFramePayload) + std::string(kMaxFramePayload, 'a'));
  auto f = ok.Next();
  ASSERT_TRUE(f.has_value());
  ASSERT_TRUE(f->has_value());
  EXPECT_EQ((*f)->payload.size(), kMaxFramePayload);

  FrameDecoder big(FrameDirection::kToRecorder);
  // Refused from the header alone: the payload is never waited for.
  big.Feed(Header('I', kMaxFramePayload + 1));
  auto g = big.Next();
  ASSERT_FALSE(g.has_value());
  EXPECT_EQ(g.error().code(), Code::kInvalidArgument);
  EXPECT_NE(g.error().message().find("exceeds"), std::string::npos);

  FrameDecoder huge(FrameDirection::kToClient);
  huge.Feed(Header('O', 0xffffffffu));
  EXPECT_FALSE(huge.Next().has_value());
}

TEST(JoinFrameTest, UnknownTypeIsRefusedOnItsFirstByte) {
  for (char type : {'X', '\0', 'h', '\xff', 'G'}) {
    FrameDecoder d(FrameDirection::kToRecorder);
    d.Feed(std::string(1, type));
    auto f = d.Next();
    ASSERT_FALSE(f.has_value()) << static_cast<int>(type);
    EXPECT_NE(f.error().message().find("unexpected frame type"), std::string::npos);
    // The error is final.
    EXPECT_FALSE(d.Next().has_value());
  }
}

TEST(JoinFrameTest, EachDirectionRefusesTheOthersTypes) {
  for (char type : {'A', 'R', 'O', 'M', 'E'}) {
    EXPECT_FALSE(ValidFrameType(FrameDirection::kToRecorder, type)) << type;
    EXPECT_TRUE(ValidFrameType(FrameDirection::kToClient, type)) << type;
    FrameDecoder d(FrameDirection::kToRecorder);
    d.Feed(Header(type, 0));
    EXPECT_FALSE(d.Next().has_value()) << type;
  }
  for (char type : {'H', 'I'}) {
    EXPECT_TRUE(ValidFrameType(FrameDirection::kToRecorder, type)) << type;
    EXPECT_FALSE(ValidFrameType(FrameDirection::kToClient, type)) << type;
    FrameDecoder d(FrameDirection::kToClient);
    d.Feed(Header(type, 0));
    EXPECT_FALSE(d.Next().has_value()) << type;
  }
}

TEST(JoinFrameTest, AppendFramesSplitsAtTheLimit) {
  const std::string payload(2 * kMaxFramePayload + 7, 'z');
  std::string wire;
  AppendFrames(wire, FrameType::kOutput, payload);
  FrameDecoder d(FrameDirection::kToClient);
  d.Feed(wire);
  const auto frames = DecodeAll(d);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].payload.size(), kMaxFramePayload);
  EXPECT_EQ(frames[2].payload.size(), 7u);
  std::string empty;
  AppendFrames(empty, FrameType::kOutput, "");
  EXPECT_TRUE(empty.empty());
}

TEST(JoinMessagesTest, HelloRoundTrips) {
  EXPECT_EQ(ParseHello(HelloJson(JoinMode::kObserver)).value(), JoinMode::kObserver);
  EXPECT_EQ(ParseHello(HelloJson(JoinMode::kPeer)).value(), JoinMode::kPeer);
  EXPECT_EQ(ParseHello(R"({"mode":"peer","version":1})").value(), JoinMode::kPeer);
}

TEST(JoinMessagesTest, BadHellosAreRefused) {
  for (const char* bad : {
           "", "peer", "[]",
           R"({"mode":"peer"})",                            // no version
           R"({"version":2,"mode":"peer"})",                // another version
           R"({"version":"1","mode":"peer"})",              // mistyped version
           R"({"version":1})",                              // no mode
           R"({"version":1,"mode":"admin"})",               // unknown mode
           R"({"version":1,"mode":"Peer"})",                // modes are exact
           R"({"version":1,"mode":1})",                     // mistyped mode
           R"({"version":1,"mode":"peer","user":"root"})",  // unknown field
           R"({"version":1,"mode":"peer"} x)",              // trailing garbage
       }) {
    auto mode = ParseHello(bad);
    EXPECT_FALSE(mode.has_value()) << bad;
    if (!mode) {
      EXPECT_EQ(mode.error().code(), Code::kInvalidArgument) << bad;
    }
  }
}

TEST(JoinMessagesTest, AcceptRoundTrips) {
  Accept a{"0b6f2a9e-3c1d-4e5f-8a7b-9c0d1e2f3a4b", "alice", "root", JoinMode::kPeer};
  auto b = ParseAccept(AcceptJson(a));
  ASSERT_TRUE(b.has_value()) << b.error().ToString();
  EXPECT_EQ(b->session_id, a.session_id);
  EXPECT_EQ(b->user, "alice");
  EXPECT_EQ(b->login, "root");
  EXPECT_EQ(b->mode, JoinMode::kPeer);
  EXPECT_FALSE(ParseAccept(R"({"version":1,"user":"alice"})").has_value());
  EXPECT_FALSE(ParseAccept(R"({"version":9,"session_id":"x","user":"a","login":"b","mode":"peer"})")
                   .has_value());
}

TEST(JoinMessagesTest, JoinEventJsonHasTheThreeFields) {
  auto v = json::Parse(JoinEventJson(true, "bob", JoinMode::kObserver));
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->size(), 3u);
  EXPECT_EQ((*v)["event"].asString(), "join");
  EXPECT_EQ((*v)["user"].asString(), "bob");
  EXPECT_EQ((*v)["mode"].asString(), "observer");
  auto w = json::Parse(JoinEventJson(false, "carol", JoinMode::kPeer));
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ((*w)["event"].asString(), "leave");
  EXPECT_EQ((*w)["mode"].asString(), "peer");
}

TEST(JoinMessagesTest, DescribeEnd) {
  EXPECT_EQ(DescribeEnd(R"({"exit_status":0})"), "session ended (exit status 0)");
  EXPECT_EQ(DescribeEnd(R"({"exit_status":130})"), "session ended (exit status 130)");
  EXPECT_EQ(DescribeEnd(R"({"signal":"HUP"})"), "session ended (signal HUP)");
  EXPECT_EQ(DescribeEnd("{\"signal\":\"\\u001b[2J\"}"), "session ended (signal 2J)");
  EXPECT_EQ(DescribeEnd(R"({"signal":"\u001b"})"), "session ended");
  EXPECT_EQ(DescribeEnd("garbage"), "session ended");
  EXPECT_EQ(DescribeEnd(""), "session ended");
}

TEST(JoinMessagesTest, SessionIdsAreCanonicalUuids) {
  EXPECT_TRUE(ValidateSessionId("0b6f2a9e-3c1d-4e5f-8a7b-9c0d1e2f3a4b").ok());
  for (const char* bad :
       {"", "0B6F2A9E-3C1D-4E5F-8A7B-9C0D1E2F3A4B", "0b6f2a9e3c1d4e5f8a7b9c0d1e2f3a4b",
        "../../../../etc/passwd", "0b6f2a9e-3c1d-4e5f-8a7b-9c0d1e2f3a4b/../x",
        "0b6f2a9e-3c1d-4e5f-8a7b-9c0d1e2f3a4", "0b6f2a9e-3c1d-4e5f-8a7b-9c0d1e2f3a4bb",
        "0b6f2a9e-3c1d-4e5f-8a7b_9c0d1e2f3a4b", "{0b6f2a9e-3c1d-4e5f-8a7b-9c0d1e2f3a}"}) {
    EXPECT_EQ(ValidateSessionId(bad).code(), Code::kInvalidArgument) << bad;
  }
}

TEST(JoinMessagesTest, ModeNames) {
  EXPECT_EQ(JoinModeName(JoinMode::kObserver), "observer");
  EXPECT_EQ(JoinModeName(JoinMode::kPeer), "peer");
  EXPECT_FALSE(ParseJoinMode("").has_value());
  EXPECT_FALSE(ParseJoinMode("observers").has_value());
}

TEST(OutputRingTest, EverythingSinceTheStartWhileItFits) {
  OutputRing ring(16);
  ring.Append("\x1b[1mab");
  ring.Append("cd");
  // Nothing was cut, so the start of the session is a fine place to start.
  EXPECT_EQ(ring.Replay(), "\x1b[1mabcd");
}

TEST(OutputRingTest, CutWindowStartsAfterTheFirstNewline) {
  OutputRing ring(16);
  // The window (last 16 bytes) starts inside "\x1b[31m"; the replay must not.
  ring.Append("0123456789\x1b[31mred\r\nline two\n");
  const std::string_view replay = ring.Replay();
  EXPECT_EQ(replay, "line two\n");
}

TEST(OutputRingTest, NoNewlineInTheWindowMeansNoReplay) {
  OutputRing ring(8);
  ring.Append("line\n");
  ring.Append("\x1b[1;1Habcdefghijkl");
  EXPECT_EQ(ring.Replay(), "");
}

TEST(OutputRingTest, ANewlineJustBeforeTheWindowCounts) {
  OutputRing ring(8);
  ring.Append("abc\n");     // 4 bytes
  ring.Append("12345678");  // exactly the window
  EXPECT_EQ(ring.Replay(), "12345678");
}

TEST(OutputRingTest, SmallAppendsMatchOneLargeAppend) {
  std::string all;
  for (int i = 0; i < 5000; ++i) all += "line " + std::to_string(i) + " \x1b[0m\r\n";
  OutputRing one(1000);
  one.Append(all);
  OutputRing many(1000);
  for (std::size_t i = 0; i < all.size(); i += 7) many.Append(std::string_view(all).substr(i, 7));
  EXPECT_EQ(one.Replay(), many.Replay());
  EXPECT_LE(one.Replay().size(), 1000u);
  EXPECT_EQ(one.Replay().substr(0, 5), "line ");
  EXPECT_EQ(std::string_view(all).substr(all.size() - one.Replay().size()), one.Replay());
}

TEST(OutputRingTest, DefaultCapacityIs256KiB) {
  OutputRing ring;
  std::string line(1023, 'x');
  line += '\n';
  for (int i = 0; i < 300; ++i) ring.Append(line);
  EXPECT_EQ(ring.Replay().size(), 256u * 1024);
  ring.Append("y");
  EXPECT_EQ(ring.Replay().size(), 255u * 1024 + 1);
  EXPECT_EQ(ring.Replay().front(), 'x');
}

}  // namespace
}  // namespace gate::recorder
