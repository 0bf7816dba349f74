#include "recorder/session/log_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "common/test_util.h"
#include "gate/log.h"

namespace gate::recorder {
namespace {

using testing::TempDir;

class LogFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // As in a container: neither syslog nor the journal answers.
    where_.syslog_socket = tmp_.File("no-log");
    where_.journal_socket = tmp_.File("no-journal");
    where_.fallback_fd = -1;
    log::Init(log::Sink::kSyslog, "gate-record", log::Level::kInfo, where_);
    path_ = tmp_.File(kLogFileName);
  }
  void TearDown() override { log::Init(log::Sink::kStderr, "", log::Level::kInfo); }

  TempDir tmp_{0700};
  log::Destinations where_;
  std::string path_;
};

TEST_F(LogFileTest, WithoutSyslogTheLinesGoToThePrivateFile) {
  ASSERT_TRUE(RouteLogToFile(tmp_.path()).ok());
  log::Warning("join: refused: carol may not join sessions on this node");
  log::Info("second line");
  const std::string text = testing::ReadFile(path_);
  EXPECT_NE(text.find("WARNING gate-record: join: refused: carol may not join"), std::string::npos)
      << text;
  EXPECT_NE(text.find("INFO gate-record: second line\n"), std::string::npos) << text;
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_uid, ::geteuid());
}

TEST_F(LogFileTest, AWorkingLogRouteLeavesTheFileAlone) {
  log::Init(log::Sink::kStderr, "gate-record", log::Level::kInfo);
  ASSERT_TRUE(RouteLogToFile(tmp_.path()).ok());
  EXPECT_NE(::access(path_.c_str(), F_OK), 0);
}

TEST_F(LogFileTest, ALinkAFullFileOrAMissingDirectoryIsNotUsed) {
  const std::string target = tmp_.File("elsewhere");
  testing::WriteFile(target, "", 0600);
  ASSERT_EQ(::symlink(target.c_str(), path_.c_str()), 0);
  EXPECT_FALSE(RouteLogToFile(tmp_.path()).ok());
  log::Error("must not reach the link's target");
  EXPECT_EQ(testing::ReadFile(target), "");
  ASSERT_EQ(::unlink(path_.c_str()), 0);

  testing::WriteFile(path_, std::string(kMaxLogFileSize + 1, 'x'), 0600);
  EXPECT_EQ(RouteLogToFile(tmp_.path()).code(), Code::kResourceExhausted);
  EXPECT_FALSE(RouteLogToFile(tmp_.File("missing-dir")).ok());
}

}  // namespace
}  // namespace gate::recorder
