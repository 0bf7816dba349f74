// One table for every variant of the safe-path rule (gate/secure_file.h).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "common/test_util.h"
#include "gate/secure_file.h"
#include "gate/unique_fd.h"

namespace gate {
namespace {

using ::gate::testing::TempDir;
using ::gate::testing::WriteFile;
using Links = SafePathOptions::Links;
using Type = SafePathOptions::Type;

constexpr uid_t kOther = 65534;

// Tree edits that must work for the case to mean anything.
void Must(int rc) {
  if (rc != 0) std::abort();
}
void Chmod(const std::string& p, mode_t m) { Must(::chmod(p.c_str(), m)); }
void Chown(const std::string& p, uid_t u, gid_t g) { Must(::chown(p.c_str(), u, g)); }
void Symlink(const std::string& target, const std::string& link) {
  Must(::symlink(target.c_str(), link.c_str()));
}
void Mkdir(const std::string& p, mode_t m) {
  Must(::mkdir(p.c_str(), m));
  Chmod(p, m);
}

// The tree every case starts from, under a top directory owned by us:
//   top/          0755
//   top/dir/      0755
//   top/dir/file  0644
//   top/dir/exe   0755
struct Tree {
  TempDir tmp{0755};
  std::string top = tmp.path();
  std::string dir = top + "/dir";
  std::string file = dir + "/file";
  std::string exe = dir + "/exe";
  Tree() {
    Mkdir(dir, 0755);
    WriteFile(file, "x", 0644);
    WriteFile(exe, "#!/bin/sh\n", 0755);
  }
};

struct Case {
  const char* name;
  std::function<void(Tree&)> setup;        // changes the tree
  std::function<std::string(Tree&)> path;  // what is checked
  bool dir_check = false;                  // CheckSafeDir instead of CheckSafePath
  std::function<void(SafePathOptions&, Tree&)> options;
  uid_t owner_offset = 0;  // owner = geteuid() + this (1: a uid that owns nothing)
  Code code = Code::kOk;
  const char* message = "";  // a part the message must contain
};

auto File = [](Tree& t) { return t.file; };
auto Dir = [](Tree& t) { return t.dir; };
auto Nothing = [](Tree&) {};
auto Defaults = [](SafePathOptions& o, Tree& t) { o.top = t.top; };

std::vector<Case> Cases() {
  return {
      {"safe file", Nothing, File, false, Defaults, 0, Code::kOk, ""},
      {"relative path", Nothing, [](Tree&) { return std::string("dir/file"); }, false, Defaults, 0,
       Code::kInvalidArgument, "absolute"},
      {"dot-dot in the path", Nothing, [](Tree& t) { return t.dir + "/../dir/file"; }, false,
       Defaults, 0, Code::kInvalidArgument, ".. components"},
      {"missing file", Nothing, [](Tree& t) { return t.dir + "/missing"; }, false, Defaults, 0,
       Code::kNotFound, "does not exist"},
      {"group-writable file", [](Tree& t) { Chmod(t.file, 0664); }, File, false, Defaults, 0,
       Code::kPermissionDenied, "writable by group/others (mode 0664); run: chmod 644 "},
      {"world-writable directory", [](Tree& t) { Chmod(t.dir, 0757); }, File, false, Defaults, 0,
       Code::kPermissionDenied, "directory "},
      {"file owned by someone else", [](Tree& t) { Chown(t.file, kOther, 0); }, File, false,
       Defaults, 0, Code::kPermissionDenied, "owned by uid 65534"},
      {"file owned by an also-accepted uid", [](Tree& t) { Chown(t.file, kOther, 0); }, File, false,
       [](SafePathOptions& o, Tree& t) {
         o.top = t.top;
         o.also_owned_by = {kOther};
       },
       0, Code::kOk, ""},
      {"directory owned by an also-accepted uid is still refused",
       [](Tree& t) { Chown(t.dir, kOther, 0); }, File, false,
       [](SafePathOptions& o, Tree& t) {
         o.top = t.top;
         o.also_owned_by = {kOther};
       },
       0, Code::kPermissionDenied, "directory "},
      {"expected owner differs", Nothing, File, false, Defaults, 1, Code::kPermissionDenied,
       "run: chown"},
      {"a directory where a file is expected", Nothing, Dir, false, Defaults, 0,
       Code::kPermissionDenied, "not a regular file"},
      {"a directory checked as one, parents walked", Nothing, Dir, false,
       [](SafePathOptions& o, Tree& t) {
         o.top = t.top;
         o.type = Type::kDirectory;
       },
       0, Code::kOk, ""},
      {"outside top", Nothing, [](Tree&) { return std::string("/etc/hostname"); }, false, Defaults,
       0, Code::kPermissionDenied, "is not under"},
      {"symlink refused with kRefuse", [](Tree& t) { Symlink(t.file, (t.dir + "/link").c_str()); },
       [](Tree& t) { return t.dir + "/link"; }, false, Defaults, 0, Code::kPermissionDenied,
       "symbolic link"},
      {"symlinked directory refused with kRefuse",
       [](Tree& t) { Symlink(t.dir, (t.top + "/dirlink").c_str()); },
       [](Tree& t) { return t.top + "/dirlink/file"; }, false, Defaults, 0, Code::kPermissionDenied,
       "symbolic link"},
      {"symlink resolved with kResolve",
       [](Tree& t) { Symlink(t.file, (t.dir + "/link").c_str()); },
       [](Tree& t) { return t.dir + "/link"; }, false,
       [](SafePathOptions& o, Tree& t) {
         o.top = t.top;
         o.links = Links::kResolve;
       },
       0, Code::kOk, ""},
      {"kResolve checks the target's directories",
       [](Tree& t) {
         Mkdir((t.top + "/open").c_str(), 0777);
         Chmod((t.top + "/open").c_str(), 0777);
         WriteFile(t.top + "/open/real", "x", 0644);
         Symlink((t.top + "/open/real").c_str(), (t.dir + "/link").c_str());
       },
       [](Tree& t) { return t.dir + "/link"; }, false,
       [](SafePathOptions& o, Tree& t) {
         o.top = t.top;
         o.links = Links::kResolve;
       },
       0, Code::kPermissionDenied, "/open is writable by group/others"},
      {"required execute bit missing", Nothing, File, false,
       [](SafePathOptions& o, Tree& t) {
         o.top = t.top;
         o.required_bits = 0001;
       },
       0, Code::kPermissionDenied, "not executable by others (mode 0644); run: chmod o+x"},
      {"required execute bit present", Nothing, [](Tree& t) { return t.exe; }, false,
       [](SafePathOptions& o, Tree& t) {
         o.top = t.top;
         o.required_bits = 0001;
       },
       0, Code::kOk, ""},
      {"directory not searchable by others", [](Tree& t) { Chmod(t.dir, 0750); },
       [](Tree& t) { return t.exe; }, false,
       [](SafePathOptions& o, Tree& t) {
         o.top = t.top;
         o.dir_required_bits = 0001;
       },
       0, Code::kPermissionDenied, "not searchable by others"},
      {"subject and consequence in the message", [](Tree& t) { Chmod(t.file, 0666); }, File, false,
       [](SafePathOptions& o, Tree& t) {
         o.top = t.top;
         o.subject = "recorder settings";
         o.consequence = "the recorder runs setuid";
       },
       0, Code::kPermissionDenied, "(the recorder runs setuid)"},
      // CheckSafeDir: the directory itself, through an O_NOFOLLOW descriptor.
      {"safe dir", Nothing, Dir, true, Defaults, 0, Code::kOk, ""},
      {"private dir with group bits", Nothing, Dir, true,
       [](SafePathOptions& o, Tree&) { o.forbidden_bits = 077; }, 0, Code::kPermissionDenied,
       "accessible by group/others (mode 0755); run: chmod 700 "},
      {"private dir", [](Tree& t) { Chmod(t.dir, 0700); }, Dir, true,
       [](SafePathOptions& o, Tree&) { o.forbidden_bits = 077; }, 0, Code::kOk, ""},
      {"dir with a trailing slash", Nothing, [](Tree& t) { return t.dir + "/"; }, true, Defaults, 0,
       Code::kOk, ""},
      {"dir is a symlink", [](Tree& t) { Symlink(t.dir, (t.top + "/dirlink").c_str()); },
       [](Tree& t) { return t.top + "/dirlink/"; }, true, Defaults, 0, Code::kPermissionDenied,
       "symbolic link"},
      {"dir is a file", Nothing, File, true, Defaults, 0, Code::kPermissionDenied,
       "not a directory"},
      {"dir missing", Nothing, [](Tree& t) { return t.top + "/missing"; }, true, Defaults, 0,
       Code::kNotFound, "does not exist"},
      {"dir owned by someone else", [](Tree& t) { Chown(t.dir, kOther, 0); }, Dir, true, Defaults,
       0, Code::kPermissionDenied, "owned by uid 65534, expected uid"},
      {"dir owned by root accepted besides us", [](Tree& t) { Chown(t.dir, 0, 0); }, Dir, true,
       [](SafePathOptions& o, Tree&) { o.also_owned_by = {0}; }, 1, Code::kOk, ""},
      // The policy cache's rule: one group may read, others nothing.
      {"group-only dir",
       [](Tree& t) {
         Chown(t.dir, geteuid(), 65533);
         Chmod(t.dir, 0750);
       },
       Dir, true,
       [](SafePathOptions& o, Tree&) {
         o.forbidden_bits = 027;
         o.group = 65533;
       },
       0, Code::kOk, ""},
      {"group-only dir of another group", [](Tree& t) { Chmod(t.dir, 0750); }, Dir, true,
       [](SafePathOptions& o, Tree&) {
         o.forbidden_bits = 027;
         o.group = 65533;
       },
       0, Code::kPermissionDenied, "expected gid 65533; run: chgrp 65533 "},
      {"group-only dir others may search",
       [](Tree& t) {
         Chown(t.dir, geteuid(), 65533);
         Chmod(t.dir, 0751);
       },
       Dir, true,
       [](SafePathOptions& o, Tree&) {
         o.forbidden_bits = 027;
         o.group = 65533;
       },
       0, Code::kPermissionDenied, "accessible by others (mode 0751); run: chmod 750 "},
      {"group-only dir its group may write",
       [](Tree& t) {
         Chown(t.dir, geteuid(), 65533);
         Chmod(t.dir, 0770);
       },
       Dir, true,
       [](SafePathOptions& o, Tree&) {
         o.forbidden_bits = 027;
         o.group = 65533;
       },
       0, Code::kPermissionDenied, "writable by group/others"},
  };
}

TEST(SafePathTest, Table) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to chown test files";
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    Tree tree;
    c.setup(tree);
    SafePathOptions options;
    c.options(options, tree);
    const uid_t owner = geteuid() + c.owner_offset;
    const std::string path = c.path(tree);
    const Status s =
        c.dir_check ? CheckSafeDir(path, owner, options) : CheckSafePath(path, owner, options);
    EXPECT_EQ(s.code(), c.code) << s.ToString();
    EXPECT_NE(s.message().find(c.message), std::string::npos) << s.message();
  }
}

TEST(SafePathTest, CheckSafeDirFdChecksTheOpenDirectory) {
  TempDir tmp(0700);
  UniqueFd fd(::open(tmp.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(fd.valid());
  SafePathOptions options;
  options.forbidden_bits = 077;
  EXPECT_TRUE(CheckSafeDirFd(fd.get(), tmp.path(), geteuid(), options).ok());
  Chmod(tmp.path().c_str(), 0750);
  EXPECT_EQ(CheckSafeDirFd(fd.get(), tmp.path(), geteuid(), options).code(),
            Code::kPermissionDenied);
}

}  // namespace
}  // namespace gate
