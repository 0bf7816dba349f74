// The refusal spool gate-principals appends to and gate-node ships.
#include "gate/refusal_spool.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/test_util.h"

namespace gate::node {
namespace {

using testing::TempDir;

Refusal Sample(std::int64_t time) {
  return {time, "alice", "root", "login root is not granted on this node", 42};
}

TEST(RefusalSpoolTest, LivesBesideTheCache) {
  EXPECT_EQ(RefusalSpoolDir("/var/lib/gate-node/cache"), "/var/lib/gate-node/refusals");
  EXPECT_EQ(RefusalSpoolDir("/var/lib/gate-node/cache/"), "/var/lib/gate-node/refusals");
  EXPECT_EQ(RefusalSpoolDir("/cache"), "/refusals");
}

TEST(RefusalSpoolTest, AppendsLinesThatParseBackInOrder) {
  TempDir dir;
  ASSERT_TRUE(AppendRefusal(dir.path(), Sample(100)).ok());
  Refusal hostile = Sample(101);
  hostile.login = "x\ny";
  hostile.reason = std::string(500, 'r');
  ASSERT_TRUE(AppendRefusal(dir.path(), hostile).ok());
  struct stat st {};
  ASSERT_EQ(::stat(dir.File("spool").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  std::size_t malformed = 9;
  auto got = ParseRefusals(testing::ReadFile(dir.File("spool")) + "not json\n{}\n", &malformed);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(malformed, 2u);
  EXPECT_EQ(got[0].time, 100);
  EXPECT_EQ(got[0].user, "alice");
  EXPECT_EQ(got[0].login, "root");
  EXPECT_EQ(got[0].serial, 42u);
  EXPECT_EQ(got[1].login, "x\ny");  // one line on disk, the newline escaped
  EXPECT_EQ(got[1].reason.size(), kMaxRefusalReason);
}

TEST(RefusalSpoolTest, StopsAtItsSizeLimit) {
  TempDir dir;
  testing::WriteFile(dir.File("spool"), std::string(kMaxRefusalSpool, '\n'), 0600);
  Status full = AppendRefusal(dir.path(), Sample(1));
  EXPECT_EQ(full.code(), Code::kUnavailable);
  EXPECT_NE(full.message().find("full"), std::string::npos);
}

TEST(RefusalSpoolTest, RefusesSymlinksMissingDirsAndOthersDirs) {
  TempDir dir;
  ASSERT_EQ(::symlink("/etc/passwd", dir.File("spool").c_str()), 0);
  EXPECT_EQ(AppendRefusal(dir.path(), Sample(1)).code(), Code::kUnavailable);
  EXPECT_EQ(AppendRefusal(dir.File("missing"), Sample(1)).code(), Code::kNotFound);
  if (::geteuid() == 0) {
    TempDir other;
    ASSERT_EQ(::chown(other.path().c_str(), 65534, 65534), 0);
    EXPECT_EQ(AppendRefusal(other.path(), Sample(1)).code(), Code::kFailedPrecondition);
  }
}

}  // namespace
}  // namespace gate::node
