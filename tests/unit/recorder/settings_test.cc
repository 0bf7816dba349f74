#include "recorder/session/settings.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <optional>
#include <string>

#include "common/test_util.h"
#include "gate/ed25519.h"

namespace gate::recorder {
namespace {

using testing::TempDir;
using testing::WriteFile;

constexpr char kMinimal[] =
    R"({"version": 1, "cluster_name": "grav-00", "host_uuid": "4a6f", "node_name": "db-1",)"
    R"( "proxy": "grav-00:3080"})";

std::string With(const std::string& extra) {
  std::string s = kMinimal;
  s.pop_back();
  return s + ", " + extra + "}";
}

void ExpectInvalid(const std::string& text, const std::string& part) {
  auto s = ParseSettings(text);
  ASSERT_FALSE(s.has_value()) << text;
  EXPECT_EQ(s.error().code(), Code::kInvalidArgument);
  EXPECT_NE(s.error().message().find(part), std::string::npos)
      << "'" << s.error().message() << "' does not mention '" << part << "'";
}

TEST(SettingsParseTest, MinimalUsesDefaults) {
  auto s = ParseSettings(kMinimal);
  ASSERT_TRUE(s.has_value()) << s.error().ToString();
  EXPECT_EQ(s->cluster_name, "grav-00");
  EXPECT_EQ(s->host_uuid, "4a6f");
  EXPECT_EQ(s->node_name, "db-1");
  EXPECT_EQ(s->proxy, "grav-00:3080");
  EXPECT_EQ(s->cache_dir, "/var/lib/gate-node/cache");
  EXPECT_EQ(s->spool_dir, "/var/spool/gate/sessions");
  EXPECT_EQ(s->run_dir, "/run/gate/sessions");
  EXPECT_EQ(s->key_file, "/var/lib/gate-rec/recorder.key");
  EXPECT_EQ(s->flush_interval_ms, 100);
  EXPECT_FALSE(s->record_input);
  EXPECT_FALSE(s->record_exec_output);
}

TEST(SettingsParseTest, TheDocumentedExample) {
  auto s = ParseSettings(R"({"version": 1,
 "cluster_name": "grav-00", "host_uuid": "4a6f", "node_name": "db-1",
 "proxy": "grav-00:3080",
 "cache_dir": "/var/lib/gate-node/cache",
 "spool_dir": "/srv/spool", "run_dir": "/run/x",
 "key_file": "/k/recorder.key",
 "flush_interval_ms": 250, "record_input": true, "record_exec_output": true})");
  ASSERT_TRUE(s.has_value()) << s.error().ToString();
  EXPECT_EQ(s->spool_dir, "/srv/spool");
  EXPECT_EQ(s->run_dir, "/run/x");
  EXPECT_EQ(s->key_file, "/k/recorder.key");
  EXPECT_EQ(s->flush_interval_ms, 250);
  EXPECT_TRUE(s->record_input);
  EXPECT_TRUE(s->record_exec_output);
}

TEST(SettingsParseTest, RefusesBadInput) {
  ExpectInvalid("", "malformed");
  ExpectInvalid("[]", "object");
  ExpectInvalid(R"({"version": 1)", "malformed");
  ExpectInvalid(R"({"cluster_name": "c", "host_uuid": "h", "node_name": "n", "proxy": "p"})",
                "version");
  ExpectInvalid(std::string(kMinimal).replace(12, 1, "2"), "version 2");
  ExpectInvalid(R"({"version": "1"})", "version");
  ExpectInvalid(R"({"version": 1, "host_uuid": "h", "node_name": "n", "proxy": "p"})",
                "cluster_name");
  ExpectInvalid(R"({"version": 1, "cluster_name": "c", "node_name": "n", "proxy": "p"})",
                "host_uuid");
  ExpectInvalid(R"({"version": 1, "cluster_name": "c", "host_uuid": "h", "proxy": "p"})",
                "node_name");
  ExpectInvalid(R"({"version": 1, "cluster_name": "c", "host_uuid": "h", "node_name": "n"})",
                "proxy");
  ExpectInvalid(R"({"version": 1, "cluster_name": "", "host_uuid": "h", "node_name": "n",)"
                R"( "proxy": "p"})",
                "cluster_name");
  ExpectInvalid(R"({"version": 1, "cluster_name": "a\nb", "host_uuid": "h", "node_name": "n",)"
                R"( "proxy": "p"})",
                "control");
  ExpectInvalid(R"({"version": 1, "cluster_name": 5, "host_uuid": "h", "node_name": "n",)"
                R"( "proxy": "p"})",
                "cluster_name");
  ExpectInvalid(With(R"("colour": "blue")"), "unknown field 'colour'");
  ExpectInvalid(With(R"("spool_dir": "relative/dir")"), "spool_dir");
  ExpectInvalid(With(R"("spool_dir": "")"), "spool_dir");
  ExpectInvalid(With(R"("run_dir": 3)"), "run_dir");
  ExpectInvalid(With(R"("key_file": "key")"), "key_file");
  ExpectInvalid(With(R"("cache_dir": "cache")"), "cache_dir");
  ExpectInvalid(With(R"("flush_interval_ms": 0)"), "flush_interval_ms");
  ExpectInvalid(With(R"("flush_interval_ms": 9)"), "flush_interval_ms");
  ExpectInvalid(With(R"("flush_interval_ms": 60001)"), "flush_interval_ms");
  ExpectInvalid(With(R"("flush_interval_ms": 1.5)"), "flush_interval_ms");
  ExpectInvalid(With(R"("record_input": "yes")"), "record_input");
  ExpectInvalid(With(R"("record_exec_output": 1)"), "record_exec_output");
  ExpectInvalid(With(R"("proxy": "again")"), "malformed");  // duplicate key
}

class RootOwnedPathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    owner_ = geteuid();
    dir_ = tmp_.File("etc");
    ASSERT_EQ(mkdir(dir_.c_str(), 0755), 0);
    ASSERT_EQ(chmod(dir_.c_str(), 0755), 0);
    file_ = dir_ + "/recorder.json";
    WriteFile(file_, kMinimal, 0644);
  }
  Status Check(const std::string& path) { return CheckRootOwnedPath(path, owner_, tmp_.path()); }

  TempDir tmp_{0755};
  uid_t owner_ = 0;
  std::string dir_;
  std::string file_;
};

TEST_F(RootOwnedPathTest, AcceptsASafeFileAndLoadsIt) {
  EXPECT_TRUE(Check(file_).ok()) << Check(file_).ToString();
  auto s = LoadSettings(file_, owner_, tmp_.path());
  ASSERT_TRUE(s.has_value()) << s.error().ToString();
  EXPECT_EQ(s->node_name, "db-1");
}

TEST_F(RootOwnedPathTest, RefusesWritableFile) {
  ASSERT_EQ(chmod(file_.c_str(), 0664), 0);
  Status s = Check(file_);
  EXPECT_EQ(s.code(), Code::kPermissionDenied);
  EXPECT_NE(s.message().find("writable by group/others"), std::string::npos) << s.message();
  ASSERT_EQ(chmod(file_.c_str(), 0646), 0);
  EXPECT_EQ(Check(file_).code(), Code::kPermissionDenied);
  EXPECT_FALSE(LoadSettings(file_, owner_, tmp_.path()).has_value());
}

TEST_F(RootOwnedPathTest, RefusesWritableDirectoryAnywhereAbove) {
  ASSERT_EQ(chmod(dir_.c_str(), 0775), 0);
  Status s = Check(file_);
  EXPECT_EQ(s.code(), Code::kPermissionDenied);
  EXPECT_NE(s.message().find("directory " + dir_), std::string::npos) << s.message();
  ASSERT_EQ(chmod(dir_.c_str(), 0755), 0);
  ASSERT_EQ(chmod(tmp_.path().c_str(), 0777), 0);  // the top itself is checked too
  EXPECT_EQ(Check(file_).code(), Code::kPermissionDenied);
  ASSERT_EQ(chmod(tmp_.path().c_str(), 0755), 0);
}

TEST_F(RootOwnedPathTest, RefusesOtherOwners) {
  EXPECT_EQ(CheckRootOwnedPath(file_, owner_ + 1, tmp_.path()).code(), Code::kPermissionDenied);
  if (geteuid() != 0) GTEST_SKIP() << "chown needs root";
  ASSERT_EQ(chown(file_.c_str(), 65534, 65534), 0);
  Status s = Check(file_);
  EXPECT_EQ(s.code(), Code::kPermissionDenied);
  EXPECT_NE(s.message().find("owned by uid 65534"), std::string::npos) << s.message();
  ASSERT_EQ(chown(file_.c_str(), 0, 0), 0);
  ASSERT_EQ(chown(dir_.c_str(), 65534, 65534), 0);
  EXPECT_EQ(Check(file_).code(), Code::kPermissionDenied);
}

TEST_F(RootOwnedPathTest, FollowsSymlinksOnlyToSafePlaces) {
  // A link inside the safe tree to a safe file is the file.
  const std::string link = dir_ + "/link.json";
  ASSERT_EQ(symlink(file_.c_str(), link.c_str()), 0);
  EXPECT_TRUE(Check(link).ok());
  // A link out of it is judged by where it leads.
  TempDir elsewhere{0755};
  WriteFile(elsewhere.File("x.json"), kMinimal, 0644);
  const std::string out = dir_ + "/out.json";
  ASSERT_EQ(symlink(elsewhere.File("x.json").c_str(), out.c_str()), 0);
  EXPECT_EQ(Check(out).code(), Code::kPermissionDenied);
}

TEST_F(RootOwnedPathTest, RefusesMissingRelativeAndNonFiles) {
  EXPECT_EQ(Check(dir_ + "/missing.json").code(), Code::kNotFound);
  EXPECT_EQ(Check("recorder.json").code(), Code::kInvalidArgument);
  EXPECT_EQ(Check(dir_).code(), Code::kPermissionDenied);
}

TEST_F(RootOwnedPathTest, ScratchSpaceIsNeverSafe) {
  // With the production top "/", anything under a world-writable /tmp fails.
  struct stat st {};
  ASSERT_EQ(stat("/tmp", &st), 0);
  if ((st.st_mode & 022) == 0) GTEST_SKIP() << "/tmp is not world-writable here";
  if (tmp_.path().rfind("/tmp/", 0) != 0) GTEST_SKIP() << "TMPDIR is not under /tmp";
  Status s = CheckRootOwnedPath(file_, owner_);
  EXPECT_EQ(s.code(), Code::kPermissionDenied);
  EXPECT_NE(s.message().find("/tmp"), std::string::npos) << s.message();
}

TEST_F(RootOwnedPathTest, LoadReportsParseErrorsWithThePath) {
  WriteFile(file_, R"({"version": 1})", 0644);
  auto s = LoadSettings(file_, owner_, tmp_.path());
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().message().find(file_), std::string::npos) << s.error().message();
}

class RecorderKeyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = ssh::Ed25519PrivateKey::Generate().value();
    path_ = tmp_.File("recorder.key");
    WriteFile(path_, ssh::EncodeOpenSshPrivateKey(*key_, "gate-rec").view(), 0600);
  }
  TempDir tmp_;
  std::optional<ssh::Ed25519PrivateKey> key_;
  std::string path_;
};

TEST_F(RecorderKeyTest, LoadsOwnKey) {
  auto key = LoadRecorderKey(path_);
  ASSERT_TRUE(key.has_value()) << key.error().ToString();
  EXPECT_EQ(key->public_key(), key_->public_key());
}

TEST_F(RecorderKeyTest, RefusesReadableBySomeoneElse) {
  ASSERT_EQ(chmod(path_.c_str(), 0640), 0);
  auto key = LoadRecorderKey(path_);
  ASSERT_FALSE(key.has_value());
  EXPECT_EQ(key.error().code(), Code::kPermissionDenied);
  EXPECT_NE(key.error().message().find("recorder key"), std::string::npos);
}

TEST_F(RecorderKeyTest, RefusesSymlinkMissingAndGarbage) {
  const std::string link = tmp_.File("link.key");
  ASSERT_EQ(symlink(path_.c_str(), link.c_str()), 0);
  EXPECT_EQ(LoadRecorderKey(link).error().code(), Code::kPermissionDenied);
  EXPECT_EQ(LoadRecorderKey(tmp_.File("none")).error().code(), Code::kNotFound);
  WriteFile(path_, "-----BEGIN OPENSSH PRIVATE KEY-----\nnope\n", 0600);
  EXPECT_FALSE(LoadRecorderKey(path_).has_value());
}

TEST_F(RecorderKeyTest, RefusesAnotherOwnersKey) {
  if (geteuid() != 0) GTEST_SKIP() << "chown needs root";
  ASSERT_EQ(chown(path_.c_str(), 65534, 65534), 0);
  EXPECT_EQ(LoadRecorderKey(path_).error().code(), Code::kPermissionDenied);
}

}  // namespace
}  // namespace gate::recorder
