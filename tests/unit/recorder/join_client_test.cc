// gate join's side of the protocol against a real hub: the client runs on a
// second thread with pipes for its terminal, the hub on the test's thread.
#include "gate/join_client.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>

#include "common/test_util.h"
#include "gate/unix_socket.h"
#include "join_test_util.h"

namespace gate::recorder {
namespace {

using testing::HubEvents;
using testing::PumpUntil;
using testing::TempDir;

constexpr char kSessionId[] = "0b6f2a9e-3c1d-4e5f-8a7b-9c0d1e2f3a4b";

struct Pipe {
  Pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) std::abort();
    r.Reset(fds[0]);
    w.Reset(fds[1]);
  }
  UniqueFd r, w;
};

class JoinClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = tmp_.File(std::string(kSessionId) + ".sock");
    auto hub = JoinHub::Listen(
        path_, SessionSummary{kSessionId, "alice", "root"},
        [this](const Peer&) -> Result<std::string> { return answer_; }, events_.Callbacks());
    ASSERT_TRUE(hub.has_value()) << hub.error().ToString();
    hub_ = std::move(*hub);
  }

  void TearDown() override {
    if (thread_.joinable()) {
      // Whatever state the test left, the client must stop.
      (void)!::write(stop_.w.get(), "x", 1);
      thread_.join();
    }
  }

  void StartClient(JoinMode mode) {
    thread_ = std::thread([this, mode] {
      auto fd = ConnectUnix(path_);
      if (!fd) {
        accept_ = Err(fd.error());
      } else {
        JoinClient client(std::move(*fd));
        accept_ = client.Hello(mode, std::chrono::seconds(20));
        if (accept_) end_ = client.Relay({in_.r.get(), out_.w.get(), stop_.r.get()});
      }
      out_.w.Reset();
      done_ = true;
    });
  }

  void Finish() {
    PumpUntil(*hub_, [&] { return done_.load(); });
    thread_.join();
  }

  // What the client wrote to its terminal so far.
  const std::string& Output() {
    for (;;) {
      pollfd p{out_.r.get(), POLLIN, 0};
      if (::poll(&p, 1, 0) <= 0) break;
      char buf[4096];
      const ssize_t n = ::read(out_.r.get(), buf, sizeof(buf));
      if (n <= 0) break;
      output_.append(buf, static_cast<std::size_t>(n));
    }
    return output_;
  }

  void Type(std::string_view keys) {
    ASSERT_EQ(::write(in_.w.get(), keys.data(), keys.size()), static_cast<ssize_t>(keys.size()));
  }

  TempDir tmp_{0755};
  std::string path_;
  HubEvents events_;
  std::unique_ptr<JoinHub> hub_;
  Result<std::string> answer_ = std::string("bob");
  Pipe in_, out_, stop_;
  std::thread thread_;
  std::atomic<bool> done_{false};
  Result<Accept> accept_ = Err(Internal("not run"));
  RelayEnd end_;
  std::string output_;
};

TEST_F(JoinClientTest, ObserverSeesOutputAndNoticesUntilTheEnd) {
  hub_->Output("$ top\r\n");
  StartClient(JoinMode::kObserver);
  PumpUntil(*hub_, [&] { return hub_->joiners() == 1; });
  hub_->Output("load average: 0.01\r\n");
  PumpUntil(*hub_, [&] { return Output().find("load average") != std::string::npos; });
  hub_->End(R"({"exit_status":3})");
  Finish();
  ASSERT_TRUE(accept_.has_value()) << accept_.error().ToString();
  EXPECT_EQ(accept_->user, "alice");
  EXPECT_EQ(accept_->login, "root");
  EXPECT_EQ(end_.kind, RelayEnd::Kind::kEnded);
  EXPECT_EQ(end_.text, "session ended (exit status 3)");
  EXPECT_EQ(Output(), "$ top\r\n\r\n[gate] bob joined as observer\r\nload average: 0.01\r\n");
}

TEST_F(JoinClientTest, ObserverKeystrokesAreNotSentButDetachWorks) {
  StartClient(JoinMode::kObserver);
  PumpUntil(*hub_, [&] { return hub_->joiners() == 1; });
  Type("reboot\r");
  Type(std::string(1, kDetachKey));
  Finish();
  EXPECT_EQ(end_.kind, RelayEnd::Kind::kDetached);
  // The hub saw the connection close; anything sent before it was handled.
  PumpUntil(*hub_, [&] { return events_.records.size() == 2; });
  EXPECT_EQ(events_.input, "");
}

TEST_F(JoinClientTest, PeerKeystrokesReachTheSessionUpToTheDetachKey) {
  StartClient(JoinMode::kPeer);
  PumpUntil(*hub_, [&] { return hub_->joiners() == 1; });
  Type("ls\r");
  PumpUntil(*hub_, [&] { return events_.input == "ls\r"; });
  Type(std::string("ab") + kDetachKey + "cd");
  Finish();
  EXPECT_EQ(end_.kind, RelayEnd::Kind::kDetached);
  PumpUntil(*hub_, [&] { return events_.records.size() == 2; });
  EXPECT_EQ(events_.input, "ls\rab");
}

TEST_F(JoinClientTest, RefusalReturnsTheRecordersReason) {
  answer_ =
      Err(PermissionDenied("carol may not join sessions on this node (no role with "
                           "join_sessions)"));
  StartClient(JoinMode::kPeer);
  Finish();
  ASSERT_FALSE(accept_.has_value());
  EXPECT_EQ(accept_.error().code(), Code::kPermissionDenied);
  EXPECT_EQ(accept_.error().message(),
            "carol may not join sessions on this node (no role with join_sessions)");
}

TEST_F(JoinClientTest, StopDescriptorEndsTheRelay) {
  StartClient(JoinMode::kObserver);
  PumpUntil(*hub_, [&] { return hub_->joiners() == 1; });
  ASSERT_EQ(::write(stop_.w.get(), "x", 1), 1);
  Finish();
  EXPECT_EQ(end_.kind, RelayEnd::Kind::kStopped);
}

TEST_F(JoinClientTest, ARecorderThatVanishesIsALostSession) {
  StartClient(JoinMode::kObserver);
  PumpUntil(*hub_, [&] { return hub_->joiners() == 1; });
  hub_.reset();
  const auto deadline = std::chrono::steady_clock::now() + testing::kWaitLimit;
  while (!done_ && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_TRUE(done_);
  thread_.join();
  EXPECT_EQ(end_.kind, RelayEnd::Kind::kLost);
  EXPECT_EQ(end_.text, "the recorder closed the connection");
}

TEST_F(JoinClientTest, HelloWithoutAnAnswerTimesOut) {
  auto fd = ConnectUnix(path_);
  ASSERT_TRUE(fd.has_value());
  JoinClient client(std::move(*fd));
  // The hub is never pumped, so no answer can come.
  auto accept = client.Hello(JoinMode::kObserver, std::chrono::milliseconds(20));
  ASSERT_FALSE(accept.has_value());
  EXPECT_EQ(accept.error().code(), Code::kUnavailable);
}

TEST_F(JoinClientTest, NoSocketIsNotFound) {
  auto fd = ConnectUnix(tmp_.File("11111111-2222-4333-8444-555555555555.sock"));
  ASSERT_FALSE(fd.has_value());
  EXPECT_EQ(fd.error().code(), Code::kNotFound);
}

}  // namespace
}  // namespace gate::recorder
