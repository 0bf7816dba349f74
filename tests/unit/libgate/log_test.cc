#include "gate/log.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
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

TEST_F(LogTest, SyslogSinkWritesNothingToStderr) {
  std::string out = CaptureStderr([] {
    Init(Sink::kSyslog, "gate-log-test", Level::kInfo);
    Info("gate log_test: syslog sink smoke test");
    Init(Sink::kStderr, "", Level::kInfo);
  });
  EXPECT_EQ(out, "");
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
