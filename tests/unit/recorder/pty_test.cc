#include "recorder/session/pty.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

namespace gate::recorder {
namespace {

TEST(PtyTest, SlaveBelongsToTheOpener) {
  auto master = OpenPtyMaster();
  ASSERT_TRUE(master.has_value()) << master.error().ToString();
  auto slave = OpenPtySlave(master->get());
  ASSERT_TRUE(slave.has_value()) << slave.error().ToString();
  struct stat st {};
  ASSERT_EQ(fstat(slave->get(), &st), 0);
  EXPECT_EQ(st.st_uid, geteuid());
  EXPECT_TRUE(isatty(slave->get()));
}

TEST(PtyTest, EchoIsReadThroughTheMaster) {
  // The loop decides whether to record a keystroke from the master alone.
  auto master = OpenPtyMaster();
  ASSERT_TRUE(master.has_value());
  auto slave = OpenPtySlave(master->get());
  ASSERT_TRUE(slave.has_value());
  EXPECT_TRUE(EchoEnabled(master->get()));
  termios t{};
  ASSERT_EQ(tcgetattr(slave->get(), &t), 0);
  t.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  ASSERT_EQ(tcsetattr(slave->get(), TCSANOW, &t), 0);
  EXPECT_FALSE(EchoEnabled(master->get()));
  t.c_lflag |= ECHO;
  ASSERT_EQ(tcsetattr(slave->get(), TCSANOW, &t), 0);
  EXPECT_TRUE(EchoEnabled(master->get()));
  EXPECT_FALSE(EchoEnabled(-1));
}

TEST(PtyTest, WindowSizeSetOnTheMasterIsTheSlaves) {
  auto master = OpenPtyMaster();
  ASSERT_TRUE(master.has_value());
  auto slave = OpenPtySlave(master->get());
  ASSERT_TRUE(slave.has_value());
  winsize ws{};
  ws.ws_col = 132;
  ws.ws_row = 43;
  ASSERT_TRUE(SetWindowSize(master->get(), ws).ok());
  winsize got{};
  ASSERT_TRUE(GetWindowSize(slave->get(), got));
  EXPECT_EQ(got.ws_col, 132);
  EXPECT_EQ(got.ws_row, 43);
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  EXPECT_FALSE(GetWindowSize(fds[0], got));  // not a terminal
  EXPECT_FALSE(SetWindowSize(fds[0], ws).ok());
  close(fds[0]);
  close(fds[1]);
}

TEST(PtyTest, RawModeIsRestored) {
  auto master = OpenPtyMaster();
  ASSERT_TRUE(master.has_value());
  auto slave = OpenPtySlave(master->get());
  ASSERT_TRUE(slave.has_value());
  termios before{};
  ASSERT_EQ(tcgetattr(slave->get(), &before), 0);
  ASSERT_NE(before.c_lflag & ICANON, 0u);
  {
    auto raw = RawMode::Enter(slave->get());
    ASSERT_TRUE(raw.has_value()) << raw.error().ToString();
    termios t{};
    ASSERT_EQ(tcgetattr(slave->get(), &t), 0);
    EXPECT_EQ(t.c_lflag & (ICANON | ECHO | ISIG), 0u);
    RawMode moved(std::move(*raw));  // the moved-from guard restores nothing
  }
  termios after{};
  ASSERT_EQ(tcgetattr(slave->get(), &after), 0);
  EXPECT_EQ(after.c_lflag, before.c_lflag);
  EXPECT_EQ(after.c_iflag, before.c_iflag);
  EXPECT_EQ(after.c_oflag, before.c_oflag);
}

TEST(PtyTest, RawModeNeedsATerminal) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  EXPECT_FALSE(RawMode::Enter(fds[0]).has_value());
  close(fds[0]);
  close(fds[1]);
}

}  // namespace
}  // namespace gate::recorder
