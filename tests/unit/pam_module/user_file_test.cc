// Authfile hygiene: the lessons of pam_u2f CVE-2019-12209/12210 and pam_oath
// CVE-2024-47191.
#include "pam_module/user_file.h"

#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/test_util.h"

namespace gate::pam {
namespace {

using gate::testing::TempDir;
using gate::testing::WriteFile;

constexpr char kLine[] = "alice:totp:sha1:6:GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n";

std::optional<Account> Me() {
  auto me = LookupAccount(getpwuid(geteuid())->pw_name);
  if (!me || !me->has_value()) std::abort();
  return *me;
}

TEST(UserFileTest, ReadsAPrivateFile) {
  TempDir dir;
  WriteFile(dir.File("authfile"), kLine, 0600);
  auto entries = ReadAuthfile(dir.File("authfile"), Me());
  ASSERT_TRUE(entries.has_value()) << entries.error().message();
  EXPECT_EQ(entries->size(), 1u);
}

TEST(UserFileTest, MissingFileMeansNobodyEnrolled) {
  TempDir dir;
  auto entries = ReadAuthfile(dir.File("absent"), Me());
  ASSERT_TRUE(entries.has_value());
  EXPECT_TRUE(entries->empty());
}

TEST(UserFileTest, RefusesSymlink) {
  TempDir dir;
  WriteFile(dir.File("real"), kLine, 0600);
  ASSERT_EQ(symlink(dir.File("real").c_str(), dir.File("link").c_str()), 0);
  auto entries = ReadAuthfile(dir.File("link"), Me());
  ASSERT_FALSE(entries.has_value());
  EXPECT_EQ(entries.error().code(), Code::kPermissionDenied);
  EXPECT_NE(entries.error().message().find("symbolic link"), std::string::npos);
}

TEST(UserFileTest, RefusesGroupOrWorldAccess) {
  TempDir dir;
  for (mode_t mode : {0620, 0602, 0640, 0604, 0660, 0666}) {
    WriteFile(dir.File("authfile"), kLine, mode);
    auto entries = ReadAuthfile(dir.File("authfile"), Me());
    ASSERT_FALSE(entries.has_value()) << std::oct << mode;
    EXPECT_EQ(entries.error().code(), Code::kPermissionDenied) << std::oct << mode;
  }
}

TEST(UserFileTest, RefusesADirectory) {
  TempDir dir;
  ASSERT_EQ(mkdir(dir.File("d").c_str(), 0700), 0);
  EXPECT_FALSE(ReadAuthfile(dir.File("d"), Me()).has_value());
}

TEST(UserFileTest, MalformedFileIsAnErrorNamingTheLine) {
  TempDir dir;
  WriteFile(dir.File("authfile"), std::string(kLine) + "bob:totp:md5:6:AAAA\n", 0600);
  auto entries = ReadAuthfile(dir.File("authfile"), Me());
  ASSERT_FALSE(entries.has_value());
  EXPECT_NE(entries.error().message().find("authfile:2:"), std::string::npos);
}

TEST(UserFileTest, RefusesWrongOwner) {
  if (geteuid() != 0) GTEST_SKIP() << "chown needs root";
  TempDir dir;
  WriteFile(dir.File("authfile"), kLine, 0600);
  ASSERT_EQ(chown(dir.File("authfile").c_str(), 65534, 65534), 0);
  // Root's own login: a file owned by uid 65534 is neither root's nor the user's.
  auto entries = ReadAuthfile(dir.File("authfile"), Me());
  ASSERT_FALSE(entries.has_value());
  EXPECT_EQ(entries.error().code(), Code::kPermissionDenied);
  EXPECT_NE(entries.error().message().find("owned by uid 65534"), std::string::npos);
}

TEST(UserFileTest, UserOwnedFileIsReadWithTheUsersPrivileges) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to own a file as another user";
  const Account nobody{"nobody", 65534, 65534, "/nonexistent"};
  TempDir open_dir(0755);
  WriteFile(open_dir.File("authfile"), kLine, 0600);
  ASSERT_EQ(chown(open_dir.File("authfile").c_str(), 65534, 65534), 0);
  auto entries = ReadAuthfile(open_dir.File("authfile"), nobody);
  ASSERT_TRUE(entries.has_value()) << entries.error().message();
  EXPECT_EQ(entries->size(), 1u);
  EXPECT_EQ(geteuid(), 0u);  // restored
  EXPECT_EQ(getegid(), 0u);

  // In a directory only root can enter, the same file is unreadable: proof
  // that the open ran as the user and not as root.
  TempDir closed_dir(0700);
  WriteFile(closed_dir.File("authfile"), kLine, 0600);
  ASSERT_EQ(chown(closed_dir.File("authfile").c_str(), 65534, 65534), 0);
  EXPECT_FALSE(ReadAuthfile(closed_dir.File("authfile"), nobody).has_value());
  EXPECT_EQ(geteuid(), 0u);
}

TEST(UserFileTest, ExpandPath) {
  Account a{"alice", 1000, 1000, "/home/alice"};
  EXPECT_EQ(ExpandPath("/etc/gate/%u.auth", "alice", a).value_or(""), "/etc/gate/alice.auth");
  EXPECT_EQ(ExpandPath("%h/.config/gate/authfile", "alice", a).value_or(""),
            "/home/alice/.config/gate/authfile");
  EXPECT_EQ(ExpandPath("/x/100%%", "alice", a).value_or(""), "/x/100%");
  EXPECT_FALSE(ExpandPath("/x/%s", "alice", a).has_value());
  EXPECT_FALSE(ExpandPath("/x/%", "alice", a).has_value());
  EXPECT_FALSE(ExpandPath("%h/f", "alice", std::nullopt).has_value());
}

}  // namespace
}  // namespace gate::pam
