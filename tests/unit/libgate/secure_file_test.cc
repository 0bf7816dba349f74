#include "gate/secure_file.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <string>

namespace gate {
namespace {

class SecureFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/gate_secure_file_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    // Leave the tree writable/traversable so rm can clean it up.
    std::system(("chmod -R u+rwx '" + dir_ + "' 2>/dev/null; rm -rf '" + dir_ + "'").c_str());
  }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  std::string MakeFile(const std::string& name, const std::string& content, mode_t mode) {
    std::string path = Path(name);
    std::ofstream(path, std::ios::binary) << content;
    EXPECT_EQ(chmod(path.c_str(), mode), 0);
    return path;
  }

  static mode_t ModeOf(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(lstat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
  }

  static std::set<std::string> List(const std::string& dir) {
    std::set<std::string> names;
    DIR* d = opendir(dir.c_str());
    if (d == nullptr) return names;
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.insert(n);
    }
    closedir(d);
    return names;
  }

  static FilePolicy Secret() { return FilePolicy{}; }
  static FilePolicy Public() {
    FilePolicy p;
    p.secret = false;
    return p;
  }

  std::string dir_;
};

TEST_F(SecureFileTest, ReadsPrivateFile) {
  std::string path = MakeFile("key", "s3cret\n", 0600);
  auto s = ReadSecureFile(path, Secret());
  ASSERT_TRUE(s.has_value()) << s.error().ToString();
  EXPECT_EQ(s->view(), "s3cret\n");
  auto fd = OpenSecureFile(path, Secret());
  ASSERT_TRUE(fd.has_value());
  EXPECT_TRUE(fd->valid());
  // Read-only is enough for a secret: 0400 passes too.
  path = MakeFile("ro", "x", 0400);
  EXPECT_TRUE(ReadSecureFile(path, Secret()).has_value());
}

TEST_F(SecureFileTest, MissingFile) {
  auto s = ReadSecureFile(Path("nope"), Secret());
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), Code::kNotFound);
  EXPECT_NE(s.error().message().find(Path("nope")), std::string::npos);
}

TEST_F(SecureFileTest, RefusesSymlink) {
  std::string target = MakeFile("target", "x", 0600);
  ASSERT_EQ(symlink(target.c_str(), Path("link").c_str()), 0);
  auto s = ReadSecureFile(Path("link"), Secret());
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), Code::kPermissionDenied);
  EXPECT_EQ(s.error().message(), Path("link") + " is a symbolic link");
}

TEST_F(SecureFileTest, RefusesGroupWritable) {
  std::string path = MakeFile("conf", "x", 0664);
  auto fd = OpenSecureFile(path, Public());
  ASSERT_FALSE(fd.has_value());
  EXPECT_EQ(fd.error().code(), Code::kPermissionDenied);
  EXPECT_EQ(fd.error().message(), path +
                                      " is writable by group/others (mode 0664); run: "
                                      "chmod go-w " +
                                      path);
  // Others-writable alone too.
  ASSERT_EQ(chmod(path.c_str(), 0602), 0);
  EXPECT_FALSE(OpenSecureFile(path, Public()).has_value());
}

TEST_F(SecureFileTest, PublicFileMayBeWorldReadable) {
  std::string path = MakeFile("conf", "x", 0644);
  EXPECT_TRUE(OpenSecureFile(path, Public()).has_value());
}

// The node's policy cache: its group may read it, others may not.
TEST_F(SecureFileTest, GroupOnlyFileRefusesOthers) {
  FilePolicy policy = Public();
  policy.others_may_read = false;
  std::string path = MakeFile("policy.json", "x", 0640);
  EXPECT_TRUE(OpenSecureFile(path, policy).has_value());
  for (mode_t mode : {0644, 0641, 0642, 0604}) {
    ASSERT_EQ(chmod(path.c_str(), mode), 0);
    auto s = OpenSecureFile(path, policy);
    ASSERT_FALSE(s.has_value()) << std::oct << mode;
    EXPECT_EQ(s.error().code(), Code::kPermissionDenied);
  }
  ASSERT_EQ(chmod(path.c_str(), 0644), 0);
  EXPECT_EQ(OpenSecureFile(path, policy).error().message(),
            path + " is readable by others (mode 0644); run: chmod o-rwx " + path);
  ASSERT_EQ(chmod(path.c_str(), 0660), 0);  // group-writable is refused as ever
  EXPECT_NE(OpenSecureFile(path, policy).error().message().find("writable by group/others"),
            std::string::npos);
}

TEST_F(SecureFileTest, RefusesWorldReadableSecret) {
  std::string path = MakeFile("key", "x", 0644);
  auto s = ReadSecureFile(path, Secret());
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), Code::kPermissionDenied);
  EXPECT_EQ(s.error().message(),
            path + " is readable by group/others (mode 0644); run: chmod 600 " + path);
  ASSERT_EQ(chmod(path.c_str(), 0640), 0);
  EXPECT_FALSE(ReadSecureFile(path, Secret()).has_value());
  ASSERT_EQ(chmod(path.c_str(), 0610), 0);
  EXPECT_FALSE(ReadSecureFile(path, Secret()).has_value());
}

TEST_F(SecureFileTest, RefusesNonRegular) {
  ASSERT_EQ(mkdir(Path("d").c_str(), 0700), 0);
  auto fd = OpenSecureFile(Path("d"), Secret());
  ASSERT_FALSE(fd.has_value());
  EXPECT_EQ(fd.error().code(), Code::kPermissionDenied);
  EXPECT_EQ(fd.error().message(), Path("d") + " is not a regular file");

  // A FIFO must be refused, not block the open.
  ASSERT_EQ(mkfifo(Path("fifo").c_str(), 0600), 0);
  fd = OpenSecureFile(Path("fifo"), Secret());
  ASSERT_FALSE(fd.has_value());
  EXPECT_EQ(fd.error().code(), Code::kPermissionDenied);
}

TEST_F(SecureFileTest, RefusesWrongOwner) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to chown a file to another uid";
  std::string path = MakeFile("key", "x", 0600);
  ASSERT_EQ(chown(path.c_str(), 65534, static_cast<gid_t>(-1)), 0);
  auto s = ReadSecureFile(path, Secret());
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), Code::kPermissionDenied);
  EXPECT_EQ(s.error().message(),
            path + " is owned by uid 65534, expected uid 0; run: chown 0 " + path);

  FilePolicy p;
  p.allowed_owners = {0, 65534};
  EXPECT_TRUE(ReadSecureFile(path, p).has_value());
  p.allowed_owners = {1, 2};
  s = ReadSecureFile(path, p);
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().message().find("expected uid 1 or 2"), std::string::npos);
}

TEST_F(SecureFileTest, SizeLimit) {
  FilePolicy p;
  p.max_size = 4;
  std::string path = MakeFile("key", "1234", 0600);
  auto s = ReadSecureFile(path, p);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->view(), "1234");
  path = MakeFile("big", "12345", 0600);
  s = ReadSecureFile(path, p);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), Code::kInvalidArgument);
  EXPECT_NE(s.error().message().find("too large"), std::string::npos);
}

TEST_F(SecureFileTest, ReadFileBounded) {
  std::string path = MakeFile("plain", std::string(5000, 'a'), 0644);
  auto s = ReadFile(path);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->size(), 5000u);
  EXPECT_FALSE(ReadFile(path, 4999).has_value());
  EXPECT_TRUE(ReadFile(path, 5000).has_value());
  EXPECT_EQ(ReadFile(Path("none")).error().code(), Code::kNotFound);
  EXPECT_EQ(MakeFile("empty", "", 0644), Path("empty"));
  EXPECT_EQ(ReadFile(Path("empty")).value(), "");
}

TEST_F(SecureFileTest, WriteFileAtomicCreatesWithExactMode) {
  mode_t old = umask(077);
  Status s = WriteFileAtomic(Path("out"), "hello", 0644);
  umask(old);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(ModeOf(Path("out")), 0644u);
  EXPECT_EQ(ReadFile(Path("out")).value(), "hello");
  EXPECT_EQ(List(dir_), std::set<std::string>{"out"});
}

TEST_F(SecureFileTest, WriteFileAtomicReplaces) {
  MakeFile("out", "old contents", 0644);
  ASSERT_TRUE(WriteFileAtomic(Path("out"), "new", 0600).ok());
  EXPECT_EQ(ReadFile(Path("out")).value(), "new");
  EXPECT_EQ(ModeOf(Path("out")), 0600u);
  EXPECT_EQ(List(dir_), std::set<std::string>{"out"});
}

TEST_F(SecureFileTest, WriteFileAtomicReplacesSymlinkNotTarget) {
  std::string target = MakeFile("target", "keep", 0644);
  ASSERT_EQ(symlink(target.c_str(), Path("link").c_str()), 0);
  ASSERT_TRUE(WriteFileAtomic(Path("link"), "new", 0600).ok());
  EXPECT_EQ(ReadFile(target).value(), "keep");
  EXPECT_EQ(ModeOf(Path("link")) & 0777, 0600u);
  EXPECT_EQ(ReadFile(Path("link")).value(), "new");
}

TEST_F(SecureFileTest, WriteFileAtomicIntoMissingDirFails) {
  Status s = WriteFileAtomic(Path("no/such/dir/out"), "x", 0600);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(Path("no/such/dir/out")), std::string::npos) << s.message();
  EXPECT_TRUE(List(dir_).empty());
}

TEST_F(SecureFileTest, WriteFileAtomicFailureLeavesTargetAndNoTemp) {
  // The target is a non-empty directory: the temp file is written, then the
  // rename fails; the directory and its file must survive, the temp not.
  ASSERT_EQ(mkdir(Path("target").c_str(), 0700), 0);
  MakeFile("target/inside", "keep", 0600);
  Status s = WriteFileAtomic(Path("target"), "x", 0600);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(List(dir_), std::set<std::string>{"target"});
  EXPECT_EQ(ReadFile(Path("target/inside")).value(), "keep");
}

TEST_F(SecureFileTest, EnsurePrivateDirCreatesParentsAndLeaf) {
  mode_t old = umask(022);
  std::string leaf = Path("a/b/c");
  Status s = EnsurePrivateDir(leaf + "/", 0700);
  umask(old);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(ModeOf(Path("a")), 0755u);
  EXPECT_EQ(ModeOf(Path("a/b")), 0755u);
  EXPECT_EQ(ModeOf(leaf), 0700u);
  // Idempotent.
  EXPECT_TRUE(EnsurePrivateDir(leaf, 0700).ok());
}

TEST_F(SecureFileTest, EnsurePrivateDirModeIsExactDespiteUmask) {
  mode_t old = umask(077);
  Status s = EnsurePrivateDir(Path("d"), 0750);
  umask(old);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(ModeOf(Path("d")), 0750u);
}

TEST_F(SecureFileTest, EnsurePrivateDirRefusesLooseExisting) {
  ASSERT_EQ(mkdir(Path("d").c_str(), 0700), 0);
  ASSERT_EQ(chmod(Path("d").c_str(), 0755), 0);
  Status s = EnsurePrivateDir(Path("d"), 0700);
  EXPECT_EQ(s.code(), Code::kPermissionDenied);
  EXPECT_EQ(s.message(), Path("d") +
                             " is accessible by group/others (mode 0755); run: "
                             "chmod 700 " +
                             Path("d"));
  // Stricter than requested is fine.
  ASSERT_EQ(chmod(Path("d").c_str(), 0700), 0);
  EXPECT_TRUE(EnsurePrivateDir(Path("d"), 0750).ok());
}

TEST_F(SecureFileTest, EnsurePrivateDirRefusesSymlinkAndFile) {
  ASSERT_EQ(mkdir(Path("real").c_str(), 0700), 0);
  ASSERT_EQ(symlink(Path("real").c_str(), Path("link").c_str()), 0);
  Status s = EnsurePrivateDir(Path("link"), 0700);
  EXPECT_EQ(s.code(), Code::kPermissionDenied);
  EXPECT_EQ(s.message(), Path("link") + " is a symbolic link");

  MakeFile("file", "x", 0600);
  s = EnsurePrivateDir(Path("file"), 0700);
  EXPECT_EQ(s.code(), Code::kPermissionDenied);
  EXPECT_EQ(s.message(), Path("file") + " is not a directory");
}

TEST_F(SecureFileTest, EnsurePrivateDirRefusesWrongOwner) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to chown a directory to another uid";
  ASSERT_EQ(mkdir(Path("d").c_str(), 0700), 0);
  ASSERT_EQ(chown(Path("d").c_str(), 65534, static_cast<gid_t>(-1)), 0);
  Status s = EnsurePrivateDir(Path("d"), 0700);
  EXPECT_EQ(s.code(), Code::kPermissionDenied);
  EXPECT_EQ(s.message(),
            Path("d") + " is owned by uid 65534, expected uid 0; run: chown 0 " + Path("d"));
}

}  // namespace
}  // namespace gate

namespace gate {
namespace {

TEST(DirNameTest, DirectoryPartOfAPath) {
  EXPECT_EQ(DirName("/var/lib/gate/admin.sock"), "/var/lib/gate");
  EXPECT_EQ(DirName("/x"), "/");
  EXPECT_EQ(DirName("relative"), ".");
  EXPECT_EQ(DirName("a/b"), "a");
}

}  // namespace
}  // namespace gate
