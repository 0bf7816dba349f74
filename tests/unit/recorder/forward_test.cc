// gate-forward's command line, its connection and its relay, over real
// sockets and pipes.
#include "recorder/session/forward.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "recorder/session/event_loop.h"
#include "recorder_test_util.h"

namespace gate::recorder {
namespace {

TEST(ForwardTest, ParsesHostAndPort) {
  auto t = ParseForwardCommand("gate-forward db.example.com 5432");
  ASSERT_TRUE(t.has_value()) << t.error().ToString();
  EXPECT_EQ(t->host, "db.example.com");
  EXPECT_EQ(t->port, "5432");
  EXPECT_EQ(t->Text(), "db.example.com:5432");
  auto v6 = ParseForwardCommand("gate-forward ::1 22");
  ASSERT_TRUE(v6.has_value());
  EXPECT_EQ(v6->Text(), "[::1]:22");
}

TEST(ForwardTest, RefusesAnythingElse) {
  for (const char* bad :
       {"gate-forward", "gate-forward db", "gate-forward db 0", "gate-forward db 65536",
        "gate-forward db 022", "gate-forward db 22 extra", "gate-forward db  22",
        "gate-forward -oProxyCommand=x 22", "gate-forward db;id 22", "gate-forward $(id) 22",
        "gate-forward db 22x", "gate-forward  db 22"}) {
    EXPECT_TRUE(IsForwardCommand(bad)) << bad;
    EXPECT_FALSE(ParseForwardCommand(bad).has_value()) << bad;
  }
  EXPECT_FALSE(IsForwardCommand("gate-forwarder db 22"));
  EXPECT_FALSE(IsForwardCommand("echo gate-forward db 22"));
  EXPECT_FALSE(IsForwardCommand(""));
}

TEST(ForwardTest, ConnectFailureNamesTheTarget) {
  // A port nobody listens on: bind one, then close it.
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(s, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  ASSERT_EQ(::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len), 0);
  ::close(s);
  const ForwardTarget target{"127.0.0.1", std::to_string(ntohs(a.sin_port))};
  auto fd = ConnectTo(target, std::chrono::seconds(5));
  ASSERT_FALSE(fd.has_value());
  EXPECT_NE(fd.error().message().find("cannot connect to 127.0.0.1:"), std::string::npos)
      << fd.error().message();
}

TEST(ForwardTest, RelaysBothWaysCountsAndPassesEofOn) {
  testing::SavedSignalState signals;
  auto signal_fd = BlockSessionSignals();
  ASSERT_TRUE(signal_fd.has_value());
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  UniqueFd ours(pair[0]);
  UniqueFd target(pair[1]);
  testing::Pipe in = testing::Pipe::Make();
  testing::Pipe out = testing::Pipe::Make();
  // The target answers every byte it gets with two, then closes when the
  // session's EOF reaches it.
  std::thread peer([fd = target.get()] {
    char buf[4096];
    for (;;) {
      const ssize_t n = ::read(fd, buf, sizeof(buf));
      if (n <= 0) break;
      for (int i = 0; i < 2; ++i) (void)!::write(fd, buf, static_cast<std::size_t>(n));
    }
    ::shutdown(fd, SHUT_WR);
  });
  const std::string sent(100000, 'q');
  std::thread client([&] {
    testing::WriteAllTo(in.write.get(), sent);
    in.write.Reset();
  });
  const int out_fd = out.write.Release();  // the relay closes it at the target's EOF
  ForwardEnd end;
  std::thread relay(
      [&] { end = RelayForward(in.read.get(), out_fd, ours.get(), signal_fd->get()); });
  std::string got;
  testing::ReadToEof(out.read.get(), &got);
  relay.join();
  client.join();
  peer.join();
  EXPECT_EQ(got, sent + sent);  // chunk by chunk, each twice
  EXPECT_EQ(end.bytes_in, sent.size());
  EXPECT_EQ(end.bytes_out, 2 * sent.size());
  EXPECT_FALSE(end.hung_up);
}

}  // namespace
}  // namespace gate::recorder
