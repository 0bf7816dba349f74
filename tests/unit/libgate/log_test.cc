#include "gate/log.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace gate::log {
namespace {

// Runs fn with fd 2 pointing at a temp file; returns what was written.
template <typename Fn>
std::string CaptureStderr(Fn fn) {
  char path[] = "/tmp/gate_log_test.XXXXXX";
  int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  unlink(path);
  int saved = dup(STDERR_FILENO);
  dup2(fd, STDERR_FILENO);
  fn();
  dup2(saved, STDERR_FILENO);
  close(saved);
  std::string out;
  char buf[4096];
  lseek(fd, 0, SEEK_SET);
  for (ssize_t n; (n = read(fd, buf, sizeof(buf))) > 0;) out.append(buf, static_cast<size_t>(n));
  close(fd);
  return out;
}

class LogTest : public ::testing::Test {
 protected:
  void TearDown() override { Init(Sink::kStderr, "", Level::kInfo); }
};

TEST_F(LogTest, StderrLineHasTimeLevelAndIdent) {
  Init(Sink::kStderr, "gate-test", Level::kDebug);
  std::string out = CaptureStderr([] { Info("hello world"); });
  EXPECT_TRUE(std::regex_match(
      out, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO gate-test: hello world\n)")))
      << out;
}

TEST_F(LogTest, LevelsAndFiltering) {
  Init(Sink::kStderr, "", Level::kWarning);
  std::string out = CaptureStderr([] {
    Debug("d");
    Info("i");
    Warning("w");
    Error("e");
  });
  EXPECT_EQ(out.find(" d\n"), std::string::npos);
  EXPECT_EQ(out.find(" i\n"), std::string::npos);
  EXPECT_NE(out.find(" WARNING w\n"), std::string::npos) << out;
  EXPECT_NE(out.find(" ERROR e\n"), std::string::npos) << out;

  Init(Sink::kStderr, "", Level::kDebug);
  out = CaptureStderr([] { Debug("d"); });
  EXPECT_NE(out.find(" DEBUG d\n"), std::string::npos) << out;
}

TEST_F(LogTest, EscapesControlCharacters) {
  std::string out = CaptureStderr([] {
    Warning(std::string("user bob\n2025-01-01T00:00:00.000Z INFO forged\r\t\x1b[31m\\ \x7f") +
            std::string(1, '\0') + "end \xc3\xa9");
  });
  // One line only, and the escapes are unambiguous.
  ASSERT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  EXPECT_NE(out.find("user bob\\n2025-01-01T00:00:00.000Z INFO forged\\r\\t\\x1b[31m\\\\ "
                     "\\x7f\\x00end \xc3\xa9\n"),
            std::string::npos)
      << out;
}

TEST_F(LogTest, ConcurrentWritesStayWholeLines) {
  Init(Sink::kStderr, "", Level::kInfo);
  std::string out = CaptureStderr([] {
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([t] {
        for (int i = 0; i < 200; ++i)
          Info("thread " + std::to_string(t) + " line " + std::to_string(i));
      });
    }
    for (auto& th : threads) th.join();
  });
  std::regex line(R"(\S+Z INFO thread \d line \d+)");
  std::size_t count = 0, start = 0;
  for (std::size_t nl; (nl = out.find('\n', start)) != std::string::npos; start = nl + 1) {
    EXPECT_TRUE(std::regex_match(out.substr(start, nl - start), line))
        << out.substr(start, nl - start);
    ++count;
  }
  EXPECT_EQ(count, 800u);
}

// A datagram socket bound at dir/name, standing for syslogd or journald.
class Listener {
 public:
  explicit Listener(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.data(), path.size());
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0) << path;
  }
  ~Listener() { Close(); }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    ::unlink(path_.c_str());
  }
  // The next datagram, or "" if none is waiting.
  std::string Next() {
    char buf[8192];
    const ssize_t n = ::recv(fd_, buf, sizeof(buf), MSG_DONTWAIT);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
  }

 private:
  std::string path_;
  int fd_ = -1;
};

class LogRouteTest : public LogTest {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/gate_log_route.XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    dir_ = dir;
    where_.syslog_socket = dir_ + "/log";
    where_.journal_socket = dir_ + "/journal";
  }
  void TearDown() override {
    LogTest::TearDown();
    ::unlink(where_.syslog_socket.c_str());
    ::unlink(where_.journal_socket.c_str());
    ::rmdir(dir_.c_str());
  }
  std::string dir_;
  Destinations where_;
};

TEST_F(LogRouteTest, SyslogGetsWhatSyslog3WouldSendAndStderrNothing) {
  Listener syslogd(where_.syslog_socket);
  Listener journald(where_.journal_socket);
  const std::string out = CaptureStderr([&] {
    Init(Sink::kSyslog, "gate-log-test", Level::kInfo, where_);
    EXPECT_EQ(CurrentRoute(), Route::kSyslog);
    Error("refused: bob\nforged");
  });
  EXPECT_EQ(out, "");
  const std::string got = syslogd.Next();
  // authpriv (10 << 3) | err (3) = 83.
  EXPECT_TRUE(std::regex_match(
      got, std::regex(R"(<83>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d gate-log-test\[\d+\]: )"
                      R"(refused: bob\\nforged)")))
      << got;
  EXPECT_EQ(journald.Next(), "");
}

TEST_F(LogRouteTest, WithoutSyslogTheJournalGetsTheLine) {
  Listener journald(where_.journal_socket);
  Init(Sink::kSyslog, "gate-log-test", Level::kInfo, where_);
  EXPECT_EQ(CurrentRoute(), Route::kJournal);
  Warning("no role with join_sessions");
  const std::string got = journald.Next();
  EXPECT_TRUE(std::regex_match(got, std::regex("PRIORITY=4\nSYSLOG_FACILITY=10\n"
                                               "SYSLOG_IDENTIFIER=gate-log-test\nSYSLOG_PID=\\d+\n"
                                               "MESSAGE=no role with join_sessions\n")))
      << got;
}

TEST_F(LogRouteTest, WithNeitherTheLineGoesToStderr) {
  // As in a container: no /dev/log, no journal.
  const std::string out = CaptureStderr([&] {
    Init(Sink::kSyslog, "gate-principals", Level::kInfo, where_);
    EXPECT_EQ(CurrentRoute(), Route::kFallback);
    Warning("alice is locked");
  });
  EXPECT_TRUE(
      std::regex_match(out, std::regex(R"(\S+Z WARNING gate-principals: alice is locked\n)")))
      << out;

  // The default destinations on this machine: whatever they are, the line
  // is not lost (it went to a socket, or to stderr).
  const std::string here = CaptureStderr([] {
    Init(Sink::kSyslog, "gate-log-test", Level::kInfo);
    Info("gate log_test: default destinations");
  });
  if (CurrentRoute() == Route::kFallback) {
    EXPECT_NE(here.find("gate log_test: default destinations"), std::string::npos);
  } else {
    EXPECT_EQ(here, "");
  }
}

TEST_F(LogRouteTest, ASyslogThatGoesAwayFallsThrough) {
  auto syslogd = std::make_unique<Listener>(where_.syslog_socket);
  Listener journald(where_.journal_socket);
  Init(Sink::kSyslog, "gate-log-test", Level::kInfo, where_);
  Info("first");
  EXPECT_NE(syslogd->Next().find("first"), std::string::npos);
  syslogd.reset();
  Info("second");
  EXPECT_EQ(CurrentRoute(), Route::kJournal);
  EXPECT_NE(journald.Next().find("MESSAGE=second"), std::string::npos);
  journald.Close();
  const std::string out = CaptureStderr([] { Info("third"); });
  EXPECT_EQ(CurrentRoute(), Route::kFallback);
  EXPECT_NE(out.find("INFO gate-log-test: third"), std::string::npos) << out;
}

TEST_F(LogRouteTest, TheFallbackCanBeAnotherDescriptorOrNone) {
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
  where_.fallback_fd = p[1];
  Init(Sink::kSyslog, "gate-record", Level::kInfo, where_);
  Error("cannot record this session");
  char buf[512];
  const ssize_t n = ::read(p[0], buf, sizeof(buf));
  ASSERT_GT(n, 0);
  EXPECT_NE(std::string(buf, static_cast<std::size_t>(n))
                .find("ERROR gate-record: cannot record this session\n"),
            std::string::npos);
  where_.fallback_fd = -1;
  const std::string out = CaptureStderr([&] {
    Init(Sink::kSyslog, "gate-record", Level::kInfo, where_);
    Error("dropped");
  });
  EXPECT_EQ(out, "");
  ::close(p[0]);
  ::close(p[1]);
}

std::vector<std::pair<Level, std::string>>* g_lines = nullptr;

void Collect(Level level, std::string_view line) { g_lines->emplace_back(level, line); }

TEST_F(LogTest, FunctionSinkGetsEscapedLinesAndNothingElseDoes) {
  std::vector<std::pair<Level, std::string>> lines;
  g_lines = &lines;
  std::string out = CaptureStderr([] {
    InitFunction(&Collect, Level::kInfo);
    Debug("below the level");
    Warning("bob\nERROR forged");
    Init(Sink::kStderr, "", Level::kInfo);
    Info("back on stderr");
  });
  g_lines = nullptr;
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].first, Level::kWarning);
  EXPECT_EQ(lines[0].second, "bob\\nERROR forged");
  EXPECT_NE(out.find("back on stderr"), std::string::npos);
  EXPECT_EQ(out.find("forged"), std::string::npos);
}

}  // namespace
}  // namespace gate::log
