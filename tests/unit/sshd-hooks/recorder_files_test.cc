// The recorder user's files: directories, the signing key and the setuid
// recorder binary. Changing owners needs root; these tests skip otherwise.
#include "sshd-hooks/node/recorder_files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <string>
#include <vector>

#include "gate/fault_env.h"
#include "gate/secure_file.h"
#include "hooks_test_util.h"

namespace gate::hooks {
namespace {

using testing::TempDir;
using testing::WriteFile;

// Stands in for gate-rec: any uid that is not root or ours.
constexpr uid_t kRecUid = 65534;
constexpr gid_t kRecGid = 65534;
// Stands in for gate-cache.
constexpr gid_t kCacheGid = 65533;

struct stat Stat(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st;
}

std::vector<std::string> DirEntries(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class RecorderFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to chown";
  }
  TempDir tmp_{0755};
};

TEST_F(RecorderFilesTest, OwnedDirCreatesParentsOnceAndSetsOwner) {
  const std::string spool = tmp_.File("spool/gate/sessions");
  std::vector<std::string> created;
  ASSERT_TRUE(EnsureOwnedDir(spool, kRecUid, kRecGid, 0700, &created).ok());
  EXPECT_EQ(created,
            (std::vector<std::string>{tmp_.File("spool"), tmp_.File("spool/gate"), spool}));
  EXPECT_EQ(Stat(tmp_.File("spool")).st_uid, 0u);
  EXPECT_EQ(Stat(tmp_.File("spool")).st_mode & 07777, 0755u);
  EXPECT_EQ(Stat(spool).st_uid, kRecUid);
  EXPECT_EQ(Stat(spool).st_gid, kRecGid);
  EXPECT_EQ(Stat(spool).st_mode & 07777, 0700u);
  // Again: nothing created, a file inside untouched.
  WriteFile(spool + "/a.cast", "x", 0600);
  created.clear();
  ASSERT_TRUE(EnsureOwnedDir(spool, kRecUid, kRecGid, 0700, &created).ok());
  EXPECT_TRUE(created.empty());
  EXPECT_EQ(Stat(spool + "/a.cast").st_uid, 0u);
}

TEST_F(RecorderFilesTest, OwnedDirFixesRootsButRefusesOthersAndSymlinks) {
  const std::string run = tmp_.File("run");
  ASSERT_EQ(::mkdir(run.c_str(), 0777), 0);
  ASSERT_EQ(::chmod(run.c_str(), 0777), 0);
  ASSERT_TRUE(EnsureOwnedDir(run, kRecUid, kRecGid, 0755, nullptr).ok());
  EXPECT_EQ(Stat(run).st_uid, kRecUid);
  EXPECT_EQ(Stat(run).st_mode & 07777, 0755u);

  const std::string theirs = tmp_.File("theirs");
  ASSERT_EQ(::mkdir(theirs.c_str(), 0700), 0);
  ASSERT_EQ(::chown(theirs.c_str(), 12345, 12345), 0);
  Status s = EnsureOwnedDir(theirs, kRecUid, kRecGid, 0700, nullptr);
  EXPECT_EQ(s.code(), Code::kPermissionDenied);
  EXPECT_NE(s.message().find("uid 12345"), std::string::npos) << s.message();
  EXPECT_EQ(Stat(theirs).st_uid, 12345u);

  const std::string link = tmp_.File("link");
  ASSERT_EQ(::symlink(run.c_str(), link.c_str()), 0);
  EXPECT_EQ(EnsureOwnedDir(link, kRecUid, kRecGid, 0700, nullptr).code(), Code::kPermissionDenied);
  const std::string file = tmp_.File("file");
  WriteFile(file, "x");
  EXPECT_EQ(EnsureOwnedDir(file, kRecUid, kRecGid, 0700, nullptr).code(), Code::kPermissionDenied);
  EXPECT_EQ(EnsureOwnedDir("relative", kRecUid, kRecGid, 0700, nullptr).code(),
            Code::kInvalidArgument);
}

TEST_F(RecorderFilesTest, OwnedFileIsWrittenWithOwnerAndMode) {
  const std::string path = tmp_.File("secret");
  ASSERT_TRUE(WriteOwnedFileAtomic(path, "data", 0600, kRecUid, kRecGid).ok());
  EXPECT_EQ(Stat(path).st_uid, kRecUid);
  EXPECT_EQ(Stat(path).st_mode & 07777, 0600u);
  EXPECT_EQ(ReadFile(path).value(), "data");
  ASSERT_TRUE(WriteOwnedFileAtomic(path, "more", 0600, kRecUid, kRecGid).ok());
  EXPECT_EQ(ReadFile(path).value(), "more");
  EXPECT_FALSE(WriteOwnedFileAtomic(tmp_.File("missing/x"), "d", 0600, kRecUid, kRecGid).ok());
}

// Faults through the Env: whatever fails, the file at the final path is the
// old complete one (or absent), no temporary file is left, and the error
// names the file and the system error.
TEST_F(RecorderFilesTest, OwnedFileFaultsLeaveTheOldFileAndNoTemporary) {
  struct Case {
    FaultOp op;
    int err;
    std::size_t partial;
    std::string said;
  };
  const std::vector<Case> cases = {
      {FaultOp::kWrite, ENOSPC, 3, "No space left on device"},
      {FaultOp::kWrite, EIO, 0, "Input/output error"},
      {FaultOp::kSync, EIO, 0, "Input/output error"},
      {FaultOp::kRename, EIO, 0, "Input/output error"},
      {FaultOp::kSetOwner, EPERM, 0, "Operation not permitted"},
  };
  const std::string dir = tmp_.File("keys");
  ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
  const std::string path = dir + "/recorder.key";
  const std::string fresh = dir + "/fresh.key";
  ASSERT_TRUE(WriteOwnedFileAtomic(path, "old complete", 0600, kRecUid, kRecGid).ok());
  for (const Case& c : cases) {
    SCOPED_TRACE(c.said);
    FaultEnv env;
    env.FailNth(c.op, 1, c.err, c.partial);
    const Status s = WriteOwnedFileAtomic(path, "new contents", 0600, kRecUid, kRecGid, &env);
    EXPECT_FALSE(s.ok());
    EXPECT_NE(s.message().find("writing " + path), std::string::npos) << s.message();
    EXPECT_NE(s.message().find(c.said), std::string::npos) << s.message();
    EXPECT_EQ(ReadFile(path).value(), "old complete");
    EXPECT_EQ(Stat(path).st_uid, kRecUid);

    env.FailNth(c.op, 1, c.err, c.partial);
    EXPECT_FALSE(WriteOwnedFileAtomic(fresh, "new contents", 0600, kRecUid, kRecGid, &env).ok());
    EXPECT_FALSE(std::filesystem::exists(fresh));
    EXPECT_EQ(DirEntries(dir), std::vector<std::string>{"recorder.key"});  // no temporary
  }
  EXPECT_EQ(WriteOwnedFileAtomic(path, "new", 0600, kRecUid, kRecGid).code(), Code::kOk);
  EXPECT_EQ(ReadFile(path).value(), "new");
}

TEST_F(RecorderFilesTest, NewKeyOnAFullDiskLeavesNoKeyBehind) {
  const std::string path = tmp_.File("recorder.key");
  FaultEnv env;
  env.FailAll(FaultOp::kWrite, ENOSPC);
  auto key = EnsureRecorderKey(path, kRecUid, kRecGid, "gate-rec@db-1", &env);
  ASSERT_FALSE(key.has_value());
  EXPECT_EQ(key.error().code(), Code::kResourceExhausted);
  EXPECT_NE(key.error().message().find("writing " + path), std::string::npos)
      << key.error().message();
  EXPECT_NE(key.error().message().find("free space"), std::string::npos) << key.error().message();
  EXPECT_EQ(DirEntries(tmp_.path()), std::vector<std::string>{});
  // Room again: the next run generates the key.
  env.ClearFaults();
  auto again = EnsureRecorderKey(path, kRecUid, kRecGid, "gate-rec@db-1", &env);
  ASSERT_TRUE(again.has_value()) << again.error().ToString();
  EXPECT_TRUE(again->created);
}

TEST_F(RecorderFilesTest, KeyIsGeneratedOnceThenKept) {
  const std::string path = tmp_.File("recorder.key");
  auto first = EnsureRecorderKey(path, kRecUid, kRecGid, "gate-rec@db-1");
  ASSERT_TRUE(first.has_value()) << first.error().ToString();
  EXPECT_TRUE(first->created);
  EXPECT_EQ(Stat(path).st_uid, kRecUid);
  EXPECT_EQ(Stat(path).st_mode & 07777, 0600u);
  const std::string pem = ReadFile(path).value();
  EXPECT_TRUE(pem.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----")) << pem;
  auto decoded = ssh::DecodeOpenSshPrivateKey(pem);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->public_key(), first->public_key);

  auto second = EnsureRecorderKey(path, kRecUid, kRecGid, "gate-rec@db-1");
  ASSERT_TRUE(second.has_value()) << second.error().ToString();
  EXPECT_FALSE(second->created);
  EXPECT_EQ(second->public_key, first->public_key);
  EXPECT_EQ(ReadFile(path).value(), pem);
}

// Each unusable key is refused with the reason, and left exactly as it was.
TEST_F(RecorderFilesTest, UnusableKeysAreRefusedAndLeftAlone) {
  const std::string good_pem(ssh::EncodeOpenSshPrivateKey(testing::NewKey(), "k").view());
  struct Case {
    std::string name;
    std::string content;
    mode_t mode;
    uid_t owner;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"group readable", good_pem, 0640, kRecUid, "mode is 0640"},
      {"world readable", good_pem, 0604, kRecUid, "mode is 0604"},
      {"owned by root", good_pem, 0600, 0, "owned by uid 0"},
      {"owned by another", good_pem, 0600, 12345, "owned by uid 12345"},
      {"garbage", "not a key\n", 0600, kRecUid, "not an unencrypted Ed25519 key"},
      {"empty", "", 0600, kRecUid, "not an unencrypted Ed25519 key"},
      {"public key", testing::NewKey().public_key().AuthorizedKey() + "\n", 0600, kRecUid,
       "not an unencrypted Ed25519 key"},
  };
  for (const Case& c : cases) {
    const std::string path = tmp_.File("key-" + std::to_string(&c - cases.data()));
    WriteFile(path, c.content, c.mode);
    ASSERT_EQ(::chown(path.c_str(), c.owner, c.owner), 0);
    auto key = EnsureRecorderKey(path, kRecUid, kRecGid, "x");
    ASSERT_FALSE(key.has_value()) << c.name;
    EXPECT_EQ(key.error().code(), Code::kFailedPrecondition) << c.name;
    EXPECT_NE(key.error().message().find(c.reason), std::string::npos)
        << c.name << ": " << key.error().message();
    EXPECT_NE(key.error().message().find("left as it is"), std::string::npos) << c.name;
    EXPECT_EQ(ReadFile(path).value(), c.content) << c.name;
    EXPECT_EQ(Stat(path).st_mode & 07777, c.mode) << c.name;
    EXPECT_EQ(Stat(path).st_uid, c.owner) << c.name;
  }
  const std::string target = tmp_.File("target");
  WriteFile(target, good_pem, 0600);
  ASSERT_EQ(::chown(target.c_str(), kRecUid, kRecGid), 0);
  const std::string link = tmp_.File("link.key");
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  auto linked = EnsureRecorderKey(link, kRecUid, kRecGid, "x");
  ASSERT_FALSE(linked.has_value());
  EXPECT_NE(linked.error().message().find("symbolic link"), std::string::npos);
  const std::string dir = tmp_.File("dir.key");
  ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
  ASSERT_EQ(::chown(dir.c_str(), kRecUid, kRecGid), 0);
  EXPECT_EQ(EnsureRecorderKey(dir, kRecUid, kRecGid, "x").error().code(),
            Code::kFailedPrecondition);
}

class RecorderExecutableTest : public RecorderFilesTest {
 protected:
  void SetUp() override {
    RecorderFilesTest::SetUp();
    if (IsSkipped()) return;
    bin_ = tmp_.File("libexec");
    ASSERT_EQ(::mkdir(bin_.c_str(), 0755), 0);
    ASSERT_EQ(::chmod(bin_.c_str(), 0755), 0);
    recorder_ = bin_ + "/gate-record";
    WriteFile(recorder_, "#!/bin/sh\n", 0755);
  }
  std::string bin_;
  std::string recorder_;
};

TEST_F(RecorderExecutableTest, MadeSetuidToTheRecorderUserAndSetgidToTheCacheGroupOnce) {
  auto changed = EnsureRecorderExecutable(recorder_, kRecUid, kCacheGid, tmp_.path());
  ASSERT_TRUE(changed.has_value()) << changed.error().ToString();
  EXPECT_TRUE(*changed);
  EXPECT_EQ(Stat(recorder_).st_uid, kRecUid);
  EXPECT_EQ(Stat(recorder_).st_gid, kCacheGid);
  EXPECT_EQ(Stat(recorder_).st_mode & 07777, 06755u);
  changed = EnsureRecorderExecutable(recorder_, kRecUid, kCacheGid, tmp_.path());
  ASSERT_TRUE(changed.has_value()) << changed.error().ToString();
  EXPECT_FALSE(*changed);
  EXPECT_TRUE(CheckRecorderExecutable(recorder_, kRecUid, tmp_.path()).ok());
}

TEST_F(RecorderExecutableTest, UnsafeRecordersAreRefusedUnchanged) {
  EXPECT_EQ(
      EnsureRecorderExecutable(bin_ + "/missing", kRecUid, kCacheGid, tmp_.path()).error().code(),
      Code::kNotFound);
  EXPECT_EQ(EnsureRecorderExecutable("gate-record", kRecUid, kCacheGid, tmp_.path()).error().code(),
            Code::kInvalidArgument);

  ASSERT_EQ(::chmod(recorder_.c_str(), 0775), 0);
  auto writable = EnsureRecorderExecutable(recorder_, kRecUid, kCacheGid, tmp_.path());
  ASSERT_FALSE(writable.has_value());
  EXPECT_NE(writable.error().message().find("writable by group/others"), std::string::npos);
  EXPECT_EQ(Stat(recorder_).st_uid, 0u);

  ASSERT_EQ(::chmod(recorder_.c_str(), 0750), 0);
  EXPECT_NE(EnsureRecorderExecutable(recorder_, kRecUid, kCacheGid, tmp_.path())
                .error()
                .message()
                .find("not executable by others"),
            std::string::npos);

  ASSERT_EQ(::chmod(recorder_.c_str(), 0755), 0);
  ASSERT_EQ(::chown(recorder_.c_str(), 12345, 0), 0);
  EXPECT_NE(EnsureRecorderExecutable(recorder_, kRecUid, kCacheGid, tmp_.path())
                .error()
                .message()
                .find("owned by uid 12345"),
            std::string::npos);
  EXPECT_EQ(Stat(recorder_).st_uid, 12345u);
  ASSERT_EQ(::chown(recorder_.c_str(), 0, 0), 0);

  // A directory others can write lets them swap the binary.
  ASSERT_EQ(::chmod(bin_.c_str(), 0777), 0);
  auto dir = EnsureRecorderExecutable(recorder_, kRecUid, kCacheGid, tmp_.path());
  ASSERT_FALSE(dir.has_value());
  EXPECT_NE(dir.error().message().find("directory " + bin_), std::string::npos)
      << dir.error().message();
  ASSERT_EQ(::chmod(bin_.c_str(), 0755), 0);
  ASSERT_EQ(::chown(bin_.c_str(), 12345, 0), 0);
  EXPECT_FALSE(EnsureRecorderExecutable(recorder_, kRecUid, kCacheGid, tmp_.path()).has_value());
  EXPECT_EQ(Stat(recorder_).st_mode & 07777, 0755u);  // never changed
}

}  // namespace
}  // namespace gate::hooks
