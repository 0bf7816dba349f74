#include "recorder/join/join_hub.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "common/test_util.h"
#include "gate/fault_env.h"
#include "gate/join_protocol.h"
#include "gate/json.h"
#include "join_test_util.h"

namespace gate::recorder {
namespace {

using testing::HubEvents;
using testing::NumberedLines;
using testing::PumpOnce;
using testing::PumpUntil;
using testing::RawClient;
using testing::TempDir;

constexpr char kSessionId[] = "0b6f2a9e-3c1d-4e5f-8a7b-9c0d1e2f3a4b";

class JoinHubTest : public ::testing::Test {
 protected:
  void SetUp() override { path_ = tmp_.File(std::string(kSessionId) + ".sock"); }

  // A hub whose authorizer admits whoever `user_for` names (by default
  // "bob" for everyone) and counts its calls.
  void Start(JoinHubOptions options = {}) {
    auto hub = JoinHub::Listen(
        path_, SessionSummary{kSessionId, "alice", "root"},
        [this](const Peer& peer) -> Result<std::string> {
          ++authorize_calls_;
          last_peer_ = peer;
          return answer_;
        },
        events_.Callbacks(), options);
    ASSERT_TRUE(hub.has_value()) << hub.error().ToString();
    hub_ = std::move(*hub);
  }

  // Connects, says hello, and pumps until the hub answered.
  std::unique_ptr<RawClient> Join(JoinMode mode) {
    auto c = std::make_unique<RawClient>(path_);
    c->Send(FrameType::kHello, HelloJson(mode));
    PumpUntil(*hub_, [&] {
      c->Poll();
      return c->Has(FrameType::kAccept) || c->Has(FrameType::kRefuse) || c->eof();
    });
    return c;
  }

  // Pumps until the client sees the hub close its connection.
  void PumpUntilClosed(RawClient& c) {
    PumpUntil(*hub_, [&] { return !c.Poll(); });
  }

  static std::string JEvent(const std::string& event, const std::string& user,
                            const std::string& mode) {
    Json::Value v(Json::objectValue);
    v["event"] = event;
    v["user"] = user;
    v["mode"] = mode;
    return json::Write(v);
  }

  TempDir tmp_{0755};
  std::string path_;
  HubEvents events_;
  std::unique_ptr<JoinHub> hub_;
  Result<std::string> answer_ = std::string("bob");
  int authorize_calls_ = 0;
  Peer last_peer_;
};

TEST_F(JoinHubTest, SocketIsWorldConnectableAndEndRemovesIt) {
  Start();
  struct stat st {};
  ASSERT_EQ(::lstat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0666u);
  hub_->End(R"({"exit_status":0})");
  EXPECT_NE(::lstat(path_.c_str(), &st), 0);
}

TEST_F(JoinHubTest, DestroyingTheHubAlsoRemovesTheSocket) {
  Start();
  hub_.reset();
  struct stat st {};
  EXPECT_NE(::lstat(path_.c_str(), &st), 0);
}

TEST_F(JoinHubTest, ReplacesAStaleSocket) {
  {
    // A socket file nobody listens on: what a crashed recorder leaves.
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path_.c_str());
    ASSERT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  }
  Start();
  RawClient c(path_);
  EXPECT_GE(c.fd(), 0);
}

TEST_F(JoinHubTest, RefusesToReplaceALiveSocketOrAnotherFile) {
  Start();
  auto second = JoinHub::Listen(path_, SessionSummary{kSessionId, "alice", "root"}, nullptr, {});
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().code(), Code::kAlreadyExists);

  const std::string file = tmp_.File("not-a-socket");
  testing::WriteFile(file, "data");
  auto third = JoinHub::Listen(file, SessionSummary{kSessionId, "alice", "root"}, nullptr, {});
  ASSERT_FALSE(third.has_value());
  EXPECT_EQ(third.error().code(), Code::kFailedPrecondition);
  EXPECT_EQ(testing::ReadFile(file), "data");
}

TEST_F(JoinHubTest, RefusesAPathTooLongForSockaddr) {
  const std::string long_path = tmp_.path() + "/" + std::string(120, 'a') + ".sock";
  auto hub = JoinHub::Listen(long_path, SessionSummary{kSessionId, "alice", "root"}, nullptr, {});
  ASSERT_FALSE(hub.has_value());
  EXPECT_EQ(hub.error().code(), Code::kInvalidArgument);
}

TEST_F(JoinHubTest, ObserverSeesReplayThenLiveOutputAndNotices) {
  Start();
  hub_->Output("$ make\r\nbuilding\r\n");
  auto bob = Join(JoinMode::kObserver);
  ASSERT_FALSE(bob->frames().empty());
  ASSERT_EQ(bob->frames().front().type, FrameType::kAccept);
  auto accept = ParseAccept(bob->frames().front().payload);
  ASSERT_TRUE(accept.has_value()) << accept.error().ToString();
  EXPECT_EQ(accept->session_id, kSessionId);
  EXPECT_EQ(accept->user, "alice");
  EXPECT_EQ(accept->login, "root");
  EXPECT_EQ(accept->mode, JoinMode::kObserver);
  EXPECT_EQ(hub_->joiners(), 1u);

  // The authorizer saw the kernel's view of this process.
  EXPECT_EQ(last_peer_.pid, ::getpid());
  EXPECT_EQ(last_peer_.uid, ::geteuid());

  hub_->Output("done\r\n");
  PumpUntil(*hub_, [&] {
    bob->Poll();
    return bob->All(FrameType::kOutput) == "$ make\r\nbuilding\r\ndone\r\n";
  });
  EXPECT_EQ(bob->All(FrameType::kNotice), "bob joined as observer");
  ASSERT_EQ(events_.notices.size(), 1u);
  EXPECT_EQ(events_.notices[0], "\r\n[gate] bob joined as observer\r\n");
  ASSERT_EQ(events_.records.size(), 1u);
  EXPECT_EQ(events_.records[0], JEvent("join", "bob", "observer"));
}

TEST_F(JoinHubTest, ObserverKeystrokesNeverReachTheSession) {
  Start();
  auto bob = Join(JoinMode::kObserver);
  bob->Send(FrameType::kInput, "rm -rf /\r");
  bob->Close();
  // Frames are handled in order: once the hub saw the close, it had seen the
  // keystrokes before it.
  PumpUntil(*hub_, [&] { return events_.records.size() == 2; });
  EXPECT_EQ(events_.input, "");
  EXPECT_EQ(events_.records[1], JEvent("leave", "bob", "observer"));
  EXPECT_EQ(events_.notices.back(), "\r\n[gate] bob left\r\n");
  EXPECT_EQ(hub_->joiners(), 0u);
}

TEST_F(JoinHubTest, PeerKeystrokesReachTheSession) {
  Start();
  auto bob = Join(JoinMode::kPeer);
  ASSERT_TRUE(bob->Has(FrameType::kAccept));
  bob->Send(FrameType::kInput, "ls -l\r");
  bob->Send(FrameType::kInput, std::string("\x03\0", 2));
  PumpUntil(*hub_, [&] { return events_.input.size() == 8; });
  EXPECT_EQ(events_.input, std::string("ls -l\r\x03\0", 8));
  EXPECT_EQ(events_.records[0], JEvent("join", "bob", "peer"));
}

TEST_F(JoinHubTest, RefusalCarriesTheReasonAndRecordsNothing) {
  answer_ =
      Err(PermissionDenied("carol may not join sessions on this node (no role with "
                           "join_sessions)"));
  Start();
  auto carol = Join(JoinMode::kPeer);
  PumpUntilClosed(*carol);
  ASSERT_EQ(carol->frames().size(), 1u);
  EXPECT_EQ(carol->frames()[0].type, FrameType::kRefuse);
  EXPECT_EQ(carol->frames()[0].payload,
            "carol may not join sessions on this node (no role with join_sessions)");
  EXPECT_TRUE(events_.records.empty());
  EXPECT_TRUE(events_.notices.empty());
  EXPECT_EQ(hub_->joiners(), 0u);
}

TEST_F(JoinHubTest, AnAuthorizerFailureIsARefusalWithoutTheDetails) {
  answer_ = Err(Unavailable("policy cache: /var/lib/gate-node/cache/policy.json is corrupt"));
  Start();
  auto bob = Join(JoinMode::kObserver);
  PumpUntilClosed(*bob);
  ASSERT_EQ(bob->frames().size(), 1u);
  EXPECT_EQ(bob->frames()[0].type, FrameType::kRefuse);
  EXPECT_EQ(bob->frames()[0].payload.find("policy.json"), std::string::npos);
  EXPECT_TRUE(events_.records.empty());
}

TEST_F(JoinHubTest, NoAuthorizerRefusesEveryone) {
  auto hub = JoinHub::Listen(path_, SessionSummary{kSessionId, "alice", "root"}, nullptr,
                             events_.Callbacks());
  ASSERT_TRUE(hub.has_value());
  hub_ = std::move(*hub);
  auto bob = Join(JoinMode::kObserver);
  EXPECT_TRUE(bob->Has(FrameType::kRefuse));
  EXPECT_FALSE(bob->Has(FrameType::kAccept));
}

TEST_F(JoinHubTest, SilentClientIsDroppedAtTheHelloDeadline) {
  JoinHubOptions options;
  options.hello_timeout = std::chrono::milliseconds(50);
  Start(options);
  RawClient idle(path_);
  PumpUntilClosed(idle);
  EXPECT_TRUE(idle.frames().empty());
  EXPECT_EQ(authorize_calls_, 0);
}

TEST_F(JoinHubTest, GarbageInsteadOfAHelloIsDropped) {
  Start();
  RawClient web(path_);
  web.SendRaw("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  PumpUntilClosed(web);
  EXPECT_TRUE(web.frames().empty());
  EXPECT_EQ(authorize_calls_, 0);
}

TEST_F(JoinHubTest, InputBeforeTheHelloIsDropped) {
  Start();
  RawClient sneaky(path_);
  sneaky.Send(FrameType::kInput, "id\r");
  PumpUntilClosed(sneaky);
  EXPECT_EQ(events_.input, "");
  EXPECT_EQ(authorize_calls_, 0);
}

TEST_F(JoinHubTest, MalformedHelloIsRefusedWithTheReason) {
  Start();
  for (const char* hello :
       {"{not json", R"({"version":1,"mode":"admin"})", R"({"version":2,"mode":"peer"})"}) {
    RawClient c(path_);
    c.Send(FrameType::kHello, hello);
    PumpUntilClosed(c);
    ASSERT_EQ(c.frames().size(), 1u) << hello;
    EXPECT_EQ(c.frames()[0].type, FrameType::kRefuse) << hello;
    EXPECT_EQ(c.frames()[0].payload.rfind("malformed hello: ", 0), 0u) << hello;
  }
  EXPECT_EQ(authorize_calls_, 0);
}

TEST_F(JoinHubTest, OversizedFrameDropsTheJoiner) {
  Start();
  auto bob = Join(JoinMode::kPeer);
  std::string header = "I";
  const std::uint32_t n = kMaxFramePayload + 1;
  for (int shift : {24, 16, 8, 0}) header.push_back(static_cast<char>((n >> shift) & 0xff));
  bob->SendRaw(header);
  PumpUntilClosed(*bob);
  EXPECT_EQ(events_.input, "");
  EXPECT_EQ(events_.records.back(), JEvent("leave", "bob", "peer"));
  EXPECT_EQ(events_.notices.back(), "\r\n[gate] bob was disconnected (protocol error)\r\n");
}

TEST_F(JoinHubTest, ASecondHelloFromAJoinerIsAProtocolError) {
  Start();
  auto bob = Join(JoinMode::kObserver);
  // An observer trying to become a peer on the same connection.
  bob->Send(FrameType::kHello, HelloJson(JoinMode::kPeer));
  bob->Send(FrameType::kInput, "id\r");
  PumpUntilClosed(*bob);
  EXPECT_EQ(events_.input, "");
  EXPECT_EQ(events_.records.back(), JEvent("leave", "bob", "observer"));
}

TEST_F(JoinHubTest, TruncatedFrameAtCloseIsDroppedNotDelivered) {
  Start();
  auto bob = Join(JoinMode::kPeer);
  std::string frame;
  AppendFrame(frame, FrameType::kInput, "whoami\r");
  bob->SendRaw(frame.substr(0, frame.size() - 2));
  bob->Close();
  PumpUntil(*hub_, [&] { return events_.records.size() == 2; });
  EXPECT_EQ(events_.input, "");
  EXPECT_EQ(events_.records[1], JEvent("leave", "bob", "peer"));
}

TEST_F(JoinHubTest, AJoinerThatNeverReadsIsDroppedAtTheQueueCap) {
  Start();  // default 1 MiB cap
  auto slow = Join(JoinMode::kObserver);
  answer_ = std::string("carol");
  auto carol = Join(JoinMode::kObserver);
  ASSERT_EQ(hub_->joiners(), 2u);

  // The session keeps printing; Output never blocks. slow never reads;
  // carol reads everything.
  const std::string chunk(16 * 1024, 'o');
  std::size_t sent = 0;
  while (hub_->joiners() == 2 && sent < 64u * 1024 * 1024) {
    hub_->Output(chunk);
    sent += chunk.size();
    PumpOnce(*hub_, 0);
    carol->Poll();
  }
  EXPECT_EQ(hub_->joiners(), 1u);
  // The socket buffers took some of it; the queue took the cap; no more.
  EXPECT_GT(sent, 1024u * 1024);
  EXPECT_LT(sent, 16u * 1024 * 1024);
  EXPECT_EQ(events_.records.back(), JEvent("leave", "bob", "observer"));
  EXPECT_EQ(events_.notices.back(), "\r\n[gate] bob was disconnected (too slow to keep up)\r\n");

  // The session goes on for carol, who hears about it.
  hub_->Output("still here\n");
  PumpUntil(*hub_, [&] {
    carol->Poll();
    const std::string out = carol->All(FrameType::kOutput);
    return out.size() >= 11 && out.substr(out.size() - 11) == "still here\n";
  });
  EXPECT_NE(carol->All(FrameType::kNotice).find("bob was disconnected (too slow to keep up)"),
            std::string::npos);
  EXPECT_EQ(hub_->joiners(), 1u);

  // What slow got before the hub gave up is whole frames, then the close.
  while (slow->Poll()) {
  }
  EXPECT_TRUE(slow->eof());
}

TEST_F(JoinHubTest, ReplayStartsAtALineBoundary) {
  JoinHubOptions options;
  options.replay_bytes = 20;
  Start(options);
  hub_->Output("first line that scrolls away\r\n");
  hub_->Output("\x1b[38;5;196mred text\x1b[0m\r\n");
  hub_->Output("$ ");
  auto bob = Join(JoinMode::kObserver);
  PumpUntil(*hub_, [&] {
    bob->Poll();
    return bob->All(FrameType::kNotice).ends_with("bob joined as observer");
  });
  // The last 20 bytes begin inside the colour escape; the replay starts at
  // the next line instead, and the joiner is told that history is missing.
  EXPECT_EQ(bob->All(FrameType::kOutput), "$ ");
  EXPECT_EQ(bob->All(FrameType::kNotice),
            "history before the last 20 bytes is not shownbob joined as observer");
}

// Without a spool (history_dir empty), the history is the memory ring.
TEST_F(JoinHubTest, ReplayIsCappedAt256KiBAndSplitIntoFrames) {
  Start();
  std::string line(99, '.');
  line += '\n';
  for (int i = 0; i < 4000; ++i) hub_->Output(line);  // ~400 KB
  auto bob = Join(JoinMode::kObserver);
  PumpUntil(*hub_, [&] {
    bob->Poll();
    return bob->All(FrameType::kNotice).ends_with("bob joined as observer");
  });
  // Said first, before the history it is about.
  ASSERT_GE(bob->frames().size(), 2u);
  EXPECT_EQ(bob->frames()[1].type, FrameType::kNotice);
  EXPECT_EQ(bob->frames()[1].payload, "history before the last 256 KiB is not shown");
  const std::string replay = bob->All(FrameType::kOutput);
  EXPECT_LE(replay.size(), 256u * 1024);
  EXPECT_GT(replay.size(), 255u * 1024);
  EXPECT_EQ(replay.front(), '.');
  EXPECT_EQ(replay.size() % 100, 0u);
  for (const auto& f : bob->frames()) EXPECT_LE(f.payload.size(), kMaxFramePayload);
}

TEST_F(JoinHubTest, JoinersSeeEachOther) {
  Start();
  auto bob = Join(JoinMode::kObserver);
  answer_ = std::string("dave");
  auto dave = Join(JoinMode::kPeer);
  dave->Close();
  PumpUntil(*hub_, [&] {
    bob->Poll();
    return bob->All(FrameType::kNotice).find("dave left") != std::string::npos;
  });
  EXPECT_EQ(bob->All(FrameType::kNotice), "bob joined as observerdave joined as peerdave left");
  EXPECT_EQ(events_.records.size(), 3u);
  EXPECT_EQ(events_.records[1], JEvent("join", "dave", "peer"));
  EXPECT_EQ(events_.records[2], JEvent("leave", "dave", "peer"));
}

TEST_F(JoinHubTest, EndSendsEToEveryoneAndUnlinks) {
  Start();
  auto bob = Join(JoinMode::kObserver);
  answer_ = std::string("dave");
  auto dave = Join(JoinMode::kPeer);
  hub_->Output("bye\r\n");
  hub_->End(R"({"exit_status":3})");
  struct stat st {};
  EXPECT_NE(::lstat(path_.c_str(), &st), 0);
  for (RawClient* c : {bob.get(), dave.get()}) {
    while (c->Poll()) {
    }
    ASSERT_FALSE(c->frames().empty());
    EXPECT_EQ(c->frames().back().type, FrameType::kEnd);
    EXPECT_EQ(c->frames().back().payload, R"({"exit_status":3})");
    EXPECT_EQ(DescribeEnd(c->frames().back().payload), "session ended (exit status 3)");
    EXPECT_NE(c->All(FrameType::kOutput).find("bye\r\n"), std::string::npos);
  }
  // Only the joins: the recording's "x" event, written before End, ends them.
  ASSERT_EQ(events_.records.size(), 2u);
  EXPECT_EQ(events_.records[1], JEvent("join", "dave", "peer"));
  EXPECT_EQ(hub_->joiners(), 0u);

  // Afterwards the hub is inert.
  std::vector<pollfd> fds;
  hub_->AppendPollFds(fds);
  EXPECT_TRUE(fds.empty());
  hub_->Output("late");
  hub_->End("{}");
  EXPECT_EQ(events_.records.size(), 2u);
}

TEST_F(JoinHubTest, ConnectionsBeyondTheLimitAreRefused) {
  JoinHubOptions options;
  options.max_clients = 1;
  Start(options);
  auto bob = Join(JoinMode::kObserver);
  RawClient extra(path_);
  PumpUntilClosed(extra);
  ASSERT_EQ(extra.frames().size(), 1u);
  EXPECT_EQ(extra.frames()[0].type, FrameType::kRefuse);
  EXPECT_EQ(hub_->joiners(), 1u);
}

TEST_F(JoinHubTest, OutputBetweenPollAndHandleMayDropAJoiner) {
  JoinHubOptions options;
  options.queue_limit = 1;
  Start(options);
  auto bob = Join(JoinMode::kObserver);
  std::vector<pollfd> fds;
  hub_->AppendPollFds(fds);
  const std::string chunk(64 * 1024, 'x');
  for (int i = 0; i < 1024 && hub_->joiners() > 0; ++i) hub_->Output(chunk);
  ASSERT_EQ(hub_->joiners(), 0u);
  // The entries still name bob's descriptor; the hub must skip them.
  for (pollfd& p : fds) p.revents = POLLIN | POLLOUT;
  hub_->HandlePoll(fds, 0);
  EXPECT_EQ(events_.records.back(), JEvent("leave", "bob", "observer"));
}

TEST_F(JoinHubTest, OutputWithNobodyAttachedOnlyFillsTheReplay) {
  Start();
  for (int i = 0; i < 1000; ++i) hub_->Output("line\n");
  EXPECT_EQ(hub_->joiners(), 0u);
  EXPECT_TRUE(events_.records.empty());
}

// The complete history, from the spool on disk (docs/recording.md, "Live
// join").
class JoinHubHistoryTest : public JoinHubTest {
 protected:
  JoinHubOptions WithSpool(std::uint64_t cap = kDefaultJoinHistoryBytes) {
    JoinHubOptions options;
    options.history_dir = spool_.path();
    options.history_bytes = cap;
    return options;
  }

  void Print(const std::string& bytes) {
    for (std::size_t i = 0; i < bytes.size(); i += 4096) hub_->Output(bytes.substr(i, 4096));
    printed_ += bytes;
  }

  void PumpUntilJoinedNotice(RawClient& c) {
    PumpUntil(*hub_, [&] {
      c.Poll();
      return c.All(FrameType::kNotice).ends_with("bob joined as observer");
    });
  }

  // Output before the first notice, and after it.
  static std::pair<std::string, std::string> SplitAtFirstNotice(RawClient& c) {
    std::pair<std::string, std::string> parts;
    bool seen = false;
    for (const auto& f : c.frames()) {
      if (f.type == FrameType::kNotice) seen = true;
      if (f.type == FrameType::kOutput) (seen ? parts.second : parts.first) += f.payload;
    }
    return parts;
  }

  TempDir spool_{0700};
  std::string printed_;
};

TEST_F(JoinHubHistoryTest, ASlowJoinerGetsTheWholeHistoryInOrderWhileTheSessionPrints) {
  Start(WithSpool());
  Print(NumberedLines(0, 20000));  // 2 MB: eight times the memory ring
  const std::size_t history_size = printed_.size();
  auto bob = Join(JoinMode::kObserver);
  // The session keeps printing; bob reads now and then.
  for (int round = 0; round < 400; ++round) {
    Print(NumberedLines(20000 + round * 10, 10));
    PumpOnce(*hub_, 0);
    if (round % 4 == 0) bob->Poll();
  }
  ASSERT_EQ(hub_->joiners(), 1u);
  PumpUntil(*hub_, [&] {
    bob->Poll();
    return bob->All(FrameType::kOutput).size() >= printed_.size();
  });
  // Everything, in order, once.
  EXPECT_EQ(bob->All(FrameType::kOutput), printed_);
  // The notice of bob's arrival follows the history printed before it.
  EXPECT_EQ(bob->All(FrameType::kNotice), "bob joined as observer");
  EXPECT_GE(SplitAtFirstNotice(*bob).first.size(), history_size);
  for (const auto& f : bob->frames()) EXPECT_LE(f.payload.size(), kMaxFramePayload);
  // Live from here on.
  hub_->Output("$ ");
  PumpUntil(*hub_, [&] {
    bob->Poll();
    return bob->All(FrameType::kOutput).size() == printed_.size() + 2;
  });
}

TEST_F(JoinHubHistoryTest, AHistoryBeyondTheQueueLimitIsReadAsTheJoinerDrains) {
  JoinHubOptions options = WithSpool();
  options.queue_limit = 128 * 1024;
  Start(options);
  Print(NumberedLines(0, 40000));  // 4 MB, 32 times the queue limit
  auto bob = Join(JoinMode::kObserver);
  // bob reads nothing for a while: the history waits on disk, not in a
  // queue, so bob is not dropped.
  for (int i = 0; i < 50; ++i) PumpOnce(*hub_, 0);
  EXPECT_EQ(hub_->joiners(), 1u);
  PumpUntil(*hub_, [&] {
    bob->Poll();
    return bob->All(FrameType::kOutput).size() >= printed_.size();
  });
  EXPECT_EQ(bob->All(FrameType::kOutput), printed_);
  EXPECT_EQ(hub_->joiners(), 1u);
}

TEST_F(JoinHubHistoryTest, BeyondTheCapTheJoinerIsToldBeforeTheHistory) {
  constexpr std::uint64_t kCap = 1024 * 1024;
  Start(WithSpool(kCap));
  Print(NumberedLines(0, 30000));  // 3 MB
  auto bob = Join(JoinMode::kObserver);
  PumpUntilJoinedNotice(*bob);
  ASSERT_GE(bob->frames().size(), 3u);
  EXPECT_EQ(bob->frames()[0].type, FrameType::kAccept);
  EXPECT_EQ(bob->frames()[1].type, FrameType::kNotice);
  EXPECT_EQ(bob->frames()[1].payload, "history before the last 1 MiB is not shown");
  const std::string shown = SplitAtFirstNotice(*bob).second;
  EXPECT_LE(shown.size(), kCap);
  EXPECT_GT(shown.size(), kCap - 100);
  EXPECT_TRUE(shown.starts_with("line "));
  EXPECT_EQ(shown, printed_.substr(printed_.size() - shown.size()));
}

TEST_F(JoinHubHistoryTest, AJoinerLeftBehindByTheCapSkipsAheadAndIsTold) {
  constexpr std::uint64_t kCap = 1024 * 1024;
  Start(WithSpool(kCap));
  // Within the cap, and more than bob's socket and queue hold at once.
  Print(NumberedLines(0, 9000));
  auto bob = Join(JoinMode::kObserver);
  // bob stops reading while the session prints 4 MB more: what bob has yet
  // to read falls out of the last MiB.
  for (int round = 0; round < 400; ++round) {
    Print(NumberedLines(9000 + round * 100, 100));
    PumpOnce(*hub_, 0);
  }
  ASSERT_EQ(hub_->joiners(), 1u);
  PumpUntil(*hub_, [&] {
    bob->Poll();
    return bob->All(FrameType::kOutput).ends_with(printed_.substr(printed_.size() - 100));
  });
  EXPECT_EQ(bob->All(FrameType::kNotice),
            "history before the last 1 MiB is not shownbob joined as observer");
  const auto [before, after] = SplitAtFirstNotice(*bob);
  EXPECT_FALSE(before.empty());
  EXPECT_EQ(before, printed_.substr(0, before.size()));
  EXPECT_TRUE(after.starts_with("line "));
  EXPECT_LE(after.size(), kCap);
  EXPECT_EQ(after, printed_.substr(printed_.size() - after.size()));
}

TEST_F(JoinHubHistoryTest, NoSpoolMeansTheRingAndTheSessionGoesOn) {
  FaultEnv env;
  env.FailAll(FaultOp::kOpen, ENOSPC);
  JoinHubOptions options = WithSpool();
  options.env = &env;
  Start(options);
  Print(NumberedLines(0, 5000));  // 500 KB
  auto bob = Join(JoinMode::kObserver);
  PumpUntilJoinedNotice(*bob);
  ASSERT_GE(bob->frames().size(), 2u);
  EXPECT_EQ(bob->frames()[1].payload, "history before the last 256 KiB is not shown");
  const std::string shown = SplitAtFirstNotice(*bob).second;
  EXPECT_LE(shown.size(), 256u * 1024);
  EXPECT_GT(shown.size(), 256u * 1024 - 100);
  EXPECT_EQ(shown, printed_.substr(printed_.size() - shown.size()));
  hub_->Output("live\n");
  PumpUntil(*hub_, [&] {
    bob->Poll();
    return bob->All(FrameType::kOutput).ends_with("live\n");
  });
}

TEST_F(JoinHubHistoryTest, AFullDiskMidSessionFallsBackToTheRing) {
  FaultEnv env;
  JoinHubOptions options = WithSpool();
  options.env = &env;
  Start(options);
  Print(NumberedLines(0, 100));
  env.FailAll(FaultOp::kWrite, ENOSPC);
  Print(NumberedLines(100, 5000));  // the session goes on printing
  auto bob = Join(JoinMode::kObserver);
  PumpUntilJoinedNotice(*bob);
  EXPECT_EQ(bob->frames()[1].payload, "history before the last 256 KiB is not shown");
  const std::string shown = SplitAtFirstNotice(*bob).second;
  EXPECT_GT(shown.size(), 256u * 1024 - 100);
  EXPECT_EQ(shown, printed_.substr(printed_.size() - shown.size()));
}

}  // namespace
}  // namespace gate::recorder
