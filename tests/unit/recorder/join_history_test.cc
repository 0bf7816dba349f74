// The history live joiners are shown (recorder/join/join_history.h): kept
// whole on disk up to its cap, unlinked, bounded on disk, and falling back to
// the memory ring when the disk fails (through FaultEnv).
#include "recorder/join/join_history.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <optional>
#include <string>
#include <vector>

#include "common/test_util.h"
#include "gate/fault_env.h"
#include "join_test_util.h"

namespace gate::recorder {
namespace {

using testing::NumberedLines;
using testing::TempDir;

constexpr char kSpoolName[] = "0b6f2a9e-3c1d-4e5f-8a7b-9c0d1e2f3a4b.join-history";

std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return names;
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(d);
  return names;
}

// The unlinked spool as this process holds it open (/proc/self/fd), or
// nullopt.
std::optional<struct stat> OpenSpool() {
  std::optional<struct stat> found;
  DIR* d = ::opendir("/proc/self/fd");
  if (d == nullptr) return found;
  while (dirent* e = ::readdir(d)) {
    char target[PATH_MAX];
    const std::string link = std::string("/proc/self/fd/") + e->d_name;
    const ssize_t n = ::readlink(link.c_str(), target, sizeof(target) - 1);
    if (n <= 0) continue;
    target[n] = '\0';
    if (std::string(target).find(kSpoolName) == std::string::npos) continue;
    struct stat st {};
    if (::stat(link.c_str(), &st) == 0) found = st;
  }
  ::closedir(d);
  return found;
}

// Everything a joiner starting now is shown, read as the hub reads it.
std::string ReadFromStart(JoinHistory& history) {
  const HistoryStart start = history.Start();
  std::string out;
  std::uint64_t offset = start.offset;
  bool skip = start.skip_to_line;
  while (offset < history.end()) {
    auto chunk = history.Read(offset, 64 * 1024);
    if (!chunk) {
      ADD_FAILURE() << chunk.error().ToString();
      break;
    }
    offset += chunk->size();
    std::string_view bytes = *chunk;
    if (skip) {
      const auto newline = bytes.find('\n');
      if (newline == std::string_view::npos) continue;
      bytes.remove_prefix(newline + 1);
      skip = false;
    }
    out += bytes;
  }
  return out;
}

class JoinHistoryTest : public ::testing::Test {
 protected:
  JoinHistoryOptions Options(std::uint64_t cap = kDefaultJoinHistoryBytes) {
    JoinHistoryOptions o;
    o.spool_dir = tmp_.path();
    o.spool_name = kSpoolName;
    o.cap_bytes = cap;
    return o;
  }
  JoinHistoryOptions Through(Env& env) {
    JoinHistoryOptions o = Options();
    o.env = &env;
    return o;
  }

  TempDir tmp_{0700};
};

TEST_F(JoinHistoryTest, TheSpoolIsUnlinkedPrivateAndNotInTheDirectory) {
  JoinHistory history(Options());
  EXPECT_TRUE(history.spooled());
  EXPECT_TRUE(Entries(tmp_.path()).empty());
  auto st = OpenSpool();
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->st_nlink, 0u);
  EXPECT_EQ(st->st_mode & 07777, 0600u);
  EXPECT_EQ(st->st_uid, ::geteuid());
}

TEST_F(JoinHistoryTest, EverythingSinceTheStartWhileWithinTheCap) {
  JoinHistory history(Options());
  const std::string printed = NumberedLines(0, 30000);  // 3 MB, far beyond the 256 KiB ring
  for (std::size_t i = 0; i < printed.size(); i += 4000) history.Append(printed.substr(i, 4000));
  EXPECT_EQ(history.end(), printed.size());
  const HistoryStart start = history.Start();
  EXPECT_EQ(start.offset, 0u);
  EXPECT_FALSE(start.skip_to_line);
  EXPECT_EQ(start.notice, "");
  EXPECT_EQ(ReadFromStart(history), printed);
  EXPECT_TRUE(history.spooled());
}

TEST_F(JoinHistoryTest, BeyondTheCapFromALineStartWithANoticeAndBoundedOnDisk) {
  constexpr std::uint64_t kCap = 1024 * 1024;
  JoinHistory history(Options(kCap));
  // 100-byte lines, so the last MiB begins inside one.
  const std::string printed = NumberedLines(0, 80000);  // 8 MB
  for (std::size_t i = 0; i < printed.size(); i += 3000) history.Append(printed.substr(i, 3000));
  const HistoryStart start = history.Start();
  EXPECT_EQ(start.notice, "history before the last 1 MiB is not shown");
  const std::string shown = ReadFromStart(history);
  EXPECT_LE(shown.size(), kCap);
  EXPECT_GT(shown.size(), kCap - 100);
  EXPECT_EQ(shown, printed.substr(printed.size() - shown.size()));
  EXPECT_EQ(shown.substr(0, 5), "line ");
  // The start of the file was given back to the disk: within the cap plus
  // the punch step (and a block or two of rounding).
  auto st = OpenSpool();
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(static_cast<std::uint64_t>(st->st_size), printed.size());
  EXPECT_LE(static_cast<std::uint64_t>(st->st_blocks) * 512, kCap + 1024 * 1024 + 16 * 1024);
  // What was punched out is gone, and said so.
  auto gone = history.Read(0, 100);
  ASSERT_FALSE(gone.has_value());
  EXPECT_EQ(gone.error().code(), Code::kNotFound);
  EXPECT_TRUE(history.spooled());
}

TEST_F(JoinHistoryTest, ANewlineJustBeforeTheLastCapBytesCounts) {
  constexpr std::uint64_t kCap = 1024 * 1024;
  const std::string printed = NumberedLines(0, 20000);  // ends with '\n'
  // The last MiB starts right after a '\n': all of it is shown.
  JoinHistory at_line(Options(kCap));
  at_line.Append(printed);
  const std::string window = "x\n" + std::string(kCap - 2, 'y');
  at_line.Append(window);
  EXPECT_EQ(ReadFromStart(at_line), window);
  // The last MiB starts inside "abc\n": shown from the next line.
  JoinHistory mid_line(Options(kCap));
  mid_line.Append(printed);
  mid_line.Append("abc\n" + std::string(kCap - 2, 'z'));
  EXPECT_EQ(ReadFromStart(mid_line), std::string(kCap - 2, 'z'));
}

TEST_F(JoinHistoryTest, NoSpoolDirectoryMeansTheRingWithANotice) {
  JoinHistoryOptions options = Options();
  options.spool_dir.clear();
  JoinHistory history(options);
  EXPECT_FALSE(history.spooled());
  const std::string printed = NumberedLines(0, 5000);  // 500 KB
  history.Append(printed);
  const HistoryStart start = history.Start();
  EXPECT_EQ(start.notice, "history before the last 256 KiB is not shown");
  const std::string shown = ReadFromStart(history);
  EXPECT_LE(shown.size(), 256u * 1024);
  EXPECT_GT(shown.size(), 256u * 1024 - 100);
  EXPECT_EQ(shown, printed.substr(printed.size() - shown.size()));

  JoinHistory small(options);
  small.Append("short\n");
  EXPECT_EQ(small.Start().notice, "");
  EXPECT_EQ(ReadFromStart(small), "short\n");
}

TEST_F(JoinHistoryTest, ACapOfZeroKeepsNothingOnDisk) {
  JoinHistory history(Options(0));
  EXPECT_FALSE(history.spooled());
  EXPECT_FALSE(OpenSpool().has_value());
}

TEST_F(JoinHistoryTest, ASpoolThatCannotBeCreatedFallsBackToTheRing) {
  FaultEnv env;
  env.FailAll(FaultOp::kOpen, ENOSPC);
  JoinHistory history(Through(env));
  EXPECT_FALSE(history.spooled());
  EXPECT_TRUE(Entries(tmp_.path()).empty());
  history.Append("still works\n");
  EXPECT_EQ(ReadFromStart(history), "still works\n");

  JoinHistoryOptions missing = Options();
  missing.spool_dir = tmp_.File("no-such-dir");
  JoinHistory without(missing);
  EXPECT_FALSE(without.spooled());
}

TEST_F(JoinHistoryTest, AFailedUnlinkGivesUpTheSpool) {
  FaultEnv env;
  env.FailAll(FaultOp::kRemove, EIO);
  JoinHistory history(Through(env));
  EXPECT_FALSE(history.spooled());
  EXPECT_FALSE(OpenSpool().has_value());
}

TEST_F(JoinHistoryTest, AFullDiskMidSessionFallsBackToTheRing) {
  FaultEnv env;
  JoinHistory history(Through(env));
  ASSERT_TRUE(history.spooled());
  env.FailNth(FaultOp::kWrite, 3, ENOSPC, 10);
  std::string printed;
  for (int i = 0; i < 60; ++i) {
    const std::string lines = NumberedLines(i * 100, 100);
    history.Append(lines);
    printed += lines;
  }
  EXPECT_FALSE(history.spooled());
  EXPECT_FALSE(OpenSpool().has_value());  // the disk space is given back
  EXPECT_EQ(history.end(), printed.size());
  const HistoryStart start = history.Start();
  EXPECT_EQ(start.notice, "history before the last 256 KiB is not shown");
  const std::string shown = ReadFromStart(history);
  EXPECT_EQ(shown, printed.substr(printed.size() - shown.size()));
  EXPECT_GT(shown.size(), 256u * 1024 - 100);
  EXPECT_FALSE(history.Read(0, 100).has_value());
}

TEST_F(JoinHistoryTest, AFailedReadFallsBackToTheRing) {
  FaultEnv env;
  JoinHistory history(Through(env));
  const std::string printed = NumberedLines(0, 6000);  // 600 KB: the start is on disk only
  history.Append(printed);
  env.FailAll(FaultOp::kRead, EIO);
  auto lost = history.Read(0, 100);
  ASSERT_FALSE(lost.has_value());
  EXPECT_EQ(lost.error().code(), Code::kNotFound);
  EXPECT_FALSE(history.spooled());
  // The recent output is still there, from memory.
  auto recent = history.Read(printed.size() - 100, 100);
  ASSERT_TRUE(recent.has_value());
  EXPECT_EQ(*recent, printed.substr(printed.size() - 100));
}

TEST(DescribeBytesTest, UsesTheLargestWholeUnit) {
  EXPECT_EQ(DescribeBytes(64ull * 1024 * 1024), "64 MiB");
  EXPECT_EQ(DescribeBytes(256 * 1024), "256 KiB");
  EXPECT_EQ(DescribeBytes(1536 * 1024), "1536 KiB");
  EXPECT_EQ(DescribeBytes(1000), "1000 bytes");
  EXPECT_EQ(DescribeBytes(0), "0 bytes");
}

}  // namespace
}  // namespace gate::recorder
