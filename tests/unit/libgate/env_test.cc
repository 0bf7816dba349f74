#include "gate/env.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>

#include "common/test_util.h"
#include "gate/fault_env.h"

namespace gate {
namespace {

using ::gate::testing::ReadFile;
using ::gate::testing::TempDir;
using ::gate::testing::WriteFile;

std::unique_ptr<WritableFile> MustOpen(Env& env, const std::string& path, WriteMode mode) {
  auto file = env.NewWritableFile(path, mode);
  EXPECT_TRUE(file.has_value()) << file.error().ToString();
  return file ? std::move(*file) : nullptr;
}

TEST(PosixEnvTest, WritesSyncsRenamesAndRemoves) {
  TempDir tmp;
  Env* env = Env::Default();
  auto file = MustOpen(*env, tmp.File("a"), WriteMode::kCreateExclusive);
  ASSERT_TRUE(file);
  ASSERT_TRUE(file->Append("hello ").ok());
  ASSERT_TRUE(file->Append("world").ok());
  ASSERT_TRUE(file->Sync().ok());
  auto info = file->Stat();
  ASSERT_TRUE(info);
  EXPECT_EQ(info->size, 11u);
  EXPECT_EQ(info->mode, 0600u);
  EXPECT_EQ(info->type, FileInfo::Type::kRegular);
  ASSERT_TRUE(file->Close().ok());

  ASSERT_TRUE(env->RenameFile(tmp.File("a"), tmp.File("b")).ok());
  ASSERT_TRUE(env->SyncDir(tmp.path()).ok());
  EXPECT_EQ(ReadFile(tmp.File("b")), "hello world");
  auto reader = env->NewReadableFile(tmp.File("b"));
  ASSERT_TRUE(reader);
  EXPECT_EQ(*(*reader)->ReadAt(6, 100), "world");
  EXPECT_EQ(*(*reader)->ReadAt(100, 5), "");

  ASSERT_TRUE(env->RemoveFile(tmp.File("b")).ok());
  EXPECT_EQ(env->Stat(tmp.File("b")).error().code(), Code::kNotFound);
  EXPECT_EQ(env->RemoveFile(tmp.File("b")).code(), Code::kNotFound);
}

TEST(PosixEnvTest, OpenModes) {
  TempDir tmp;
  Env* env = Env::Default();
  WriteFile(tmp.File("f"), "old", 0600);
  EXPECT_EQ(env->NewWritableFile(tmp.File("f"), WriteMode::kCreateExclusive).error().code(),
            Code::kAlreadyExists);
  EXPECT_EQ(env->NewWritableFile(tmp.File("none"), WriteMode::kAppendExisting).error().code(),
            Code::kNotFound);
  {
    auto f = MustOpen(*env, tmp.File("f"), WriteMode::kCreateOrAppend);
    ASSERT_TRUE(f && f->Append("+new").ok());
  }
  EXPECT_EQ(ReadFile(tmp.File("f")), "old+new");
  {
    auto f = MustOpen(*env, tmp.File("f"), WriteMode::kCreateOrTruncate);
    ASSERT_TRUE(f && f->Append("x").ok());
  }
  EXPECT_EQ(ReadFile(tmp.File("f")), "x");
}

TEST(PosixEnvTest, RefusesSymlinksInTheLastComponent) {
  TempDir tmp;
  Env* env = Env::Default();
  WriteFile(tmp.File("target"), "t", 0600);
  ASSERT_EQ(symlink(tmp.File("target").c_str(), tmp.File("link").c_str()), 0);
  auto w = env->NewWritableFile(tmp.File("link"), WriteMode::kCreateOrAppend);
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().code(), Code::kPermissionDenied);
  EXPECT_FALSE(env->NewReadableFile(tmp.File("link")));
  auto info = env->Stat(tmp.File("link"));
  ASSERT_TRUE(info);
  EXPECT_EQ(info->type, FileInfo::Type::kSymlink);
  EXPECT_FALSE(env->OpenDirectory(tmp.File("link")));
}

TEST(PosixEnvTest, CreateDirSetsTheModeDespiteUmask) {
  TempDir tmp;
  const mode_t old = umask(077);
  const Status s = Env::Default()->CreateDir(tmp.File("d"), 0755);
  umask(old);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Env::Default()->Stat(tmp.File("d"))->mode, 0755u);
  EXPECT_EQ(Env::Default()->CreateDir(tmp.File("d"), 0755).code(), Code::kAlreadyExists);
}

TEST(PosixEnvTest, ExclusiveCreateSetsTheModeDespiteUmask) {
  TempDir tmp;
  auto dir = Env::Default()->OpenDirectory(tmp.path());
  ASSERT_TRUE(dir);
  const mode_t old = umask(077);
  auto by_path = Env::Default()->NewWritableFile(tmp.File("a"), WriteMode::kCreateExclusive, 0644);
  auto in_dir = (*dir)->NewWritableFile("b", WriteMode::kCreateExclusive, 0640);
  const Status atomic = WriteFileAtomicIn(**dir, "c", "data", 0644);
  umask(old);
  ASSERT_TRUE(by_path && in_dir && atomic.ok());
  EXPECT_EQ((*by_path)->Stat()->mode, 0644u);
  EXPECT_EQ((*in_dir)->Stat()->mode, 0640u);
  EXPECT_EQ(Env::Default()->Stat(tmp.File("c"))->mode, 0644u);
}

TEST(PosixEnvTest, SetOwnerAndModeThroughTheOpenFile) {
  TempDir tmp;
  auto file = MustOpen(*Env::Default(), tmp.File("f"), WriteMode::kCreateExclusive);
  ASSERT_TRUE(file);
  ASSERT_TRUE(file->SetOwnerAndMode(::geteuid(), ::getegid(), 0640).ok());
  EXPECT_EQ(file->Stat()->mode, 0640u);
  if (::geteuid() != 0) {
    const Status s = file->SetOwnerAndMode(0, 0, 0600);
    EXPECT_EQ(s.code(), Code::kPermissionDenied);
    EXPECT_NE(s.message().find("cannot chown " + tmp.File("f")), std::string::npos) << s.message();
  }
  ASSERT_TRUE(file->Close().ok());
  EXPECT_EQ(file->fd(), -1);
}

TEST(PosixEnvTest, DirectoryWorksInsideTheDirectoryItOpened) {
  TempDir tmp;
  ASSERT_EQ(mkdir(tmp.File("d").c_str(), 0700), 0);
  auto dir = Env::Default()->OpenDirectory(tmp.File("d"));
  ASSERT_TRUE(dir);
  // The directory is swapped after it was opened: writes still land in the
  // one that was opened.
  ASSERT_EQ(rename(tmp.File("d").c_str(), tmp.File("moved").c_str()), 0);
  ASSERT_EQ(mkdir(tmp.File("d").c_str(), 0700), 0);
  ASSERT_TRUE(WriteFileAtomicIn(**dir, "x", "data", 0640).ok());
  EXPECT_EQ(ReadFile(tmp.File("moved/x")), "data");
  EXPECT_EQ(Env::Default()->Stat(tmp.File("d/x")).error().code(), Code::kNotFound);
  EXPECT_EQ((*dir)->Stat("x")->mode, 0640u);

  auto names = (*dir)->List();
  ASSERT_TRUE(names);
  EXPECT_EQ(*names, std::vector<std::string>{"x"});  // no temp file left
  EXPECT_EQ((*dir)->Remove("../escape").code(), Code::kInvalidArgument);
  EXPECT_EQ((*dir)->NewReadableFile("..").error().code(), Code::kInvalidArgument);
}

TEST(PosixEnvTest, StatTellsLinksIdentityAndMtime) {
  TempDir tmp;
  ASSERT_EQ(mkdir(tmp.File("d").c_str(), 0700), 0);
  auto dir = Env::Default()->OpenDirectory(tmp.File("d"));
  ASSERT_TRUE(dir);
  ASSERT_TRUE(WriteFileAtomicIn(**dir, "a", "data", 0600).ok());
  struct stat st {};
  ASSERT_EQ(stat(tmp.File("d/a").c_str(), &st), 0);
  auto file = (*dir)->NewReadableFile("a");
  ASSERT_TRUE(file);
  auto by_fd = (*file)->Stat();
  auto by_name = (*dir)->Stat("a");
  ASSERT_TRUE(by_fd && by_name);
  EXPECT_EQ(by_fd->links, 1u);
  EXPECT_EQ(by_fd->inode, static_cast<std::uint64_t>(st.st_ino));
  EXPECT_EQ(by_fd->device, static_cast<std::uint64_t>(st.st_dev));
  EXPECT_EQ(by_fd->mtime_unix_seconds, static_cast<std::int64_t>(st.st_mtime));
  EXPECT_TRUE(by_fd->SameFileAs(*by_name));

  // A second link is counted; a file put in its place is another file.
  ASSERT_EQ(link(tmp.File("d/a").c_str(), tmp.File("d/b").c_str()), 0);
  EXPECT_EQ((*dir)->Stat("a")->links, 2u);
  ASSERT_TRUE(WriteFileAtomicIn(**dir, "a", "other", 0600).ok());
  EXPECT_FALSE(by_fd->SameFileAs(*(*dir)->Stat("a")));
  EXPECT_TRUE(by_fd->SameFileAs(*(*dir)->Stat("b")));

  // The descriptor is the directory's own, for checks made on it.
  struct stat dst {};
  ASSERT_EQ(fstat((*dir)->fd(), &dst), 0);
  EXPECT_EQ(static_cast<std::uint64_t>(dst.st_ino), (*dir)->StatSelf()->inode);
  FaultEnv fault;
  auto fault_dir = fault.OpenDirectory(tmp.File("d"));
  ASSERT_TRUE(fault_dir);
  ASSERT_EQ(fstat((*fault_dir)->fd(), &dst), 0);
  EXPECT_EQ(static_cast<std::uint64_t>(dst.st_ino), (*dir)->StatSelf()->inode);
}

TEST(EnvErrorTest, ErrnoMapsToOneCodeAndSaysWhatFailed) {
  struct Case {
    int err;
    Code code;
  };
  for (const Case& c : {Case{ENOSPC, Code::kResourceExhausted},
                        Case{EDQUOT, Code::kResourceExhausted}, Case{ENOENT, Code::kNotFound},
                        Case{EEXIST, Code::kAlreadyExists}, Case{EACCES, Code::kPermissionDenied},
                        Case{ELOOP, Code::kPermissionDenied}, Case{EIO, Code::kUnavailable}}) {
    const Status s = ErrnoStatus("write", "/x/y", c.err);
    EXPECT_EQ(s.code(), c.code) << c.err;
    EXPECT_EQ(s.message().rfind("cannot write /x/y: ", 0), 0u) << s.message();
  }
  EXPECT_NE(ErrnoStatus("write", "/x", ENOSPC).message().find("free space"), std::string::npos);
}

TEST(FaultEnvTest, FailsTheNthWriteWithAShortWrite) {
  TempDir tmp;
  FaultEnv env;
  auto file = MustOpen(env, tmp.File("f"), WriteMode::kCreateExclusive);
  ASSERT_TRUE(file);
  env.FailNth(FaultOp::kWrite, 2, ENOSPC, /*partial_bytes=*/2);
  EXPECT_TRUE(file->Append("abc").ok());
  const Status s = file->Append("defg");
  EXPECT_EQ(s.code(), Code::kResourceExhausted);
  EXPECT_NE(s.message().find(tmp.File("f")), std::string::npos) << s.message();
  EXPECT_EQ(ReadFile(tmp.File("f")), "abcde");  // the short write landed
  EXPECT_TRUE(file->Append("h").ok());          // only the 2nd write fails
  EXPECT_EQ(env.Count(FaultOp::kWrite), 3);
}

TEST(FaultEnvTest, AppendAllOrNothingUndoesAShortWrite) {
  TempDir tmp;
  FaultEnv env;
  auto file = MustOpen(env, tmp.File("f"), WriteMode::kCreateExclusive);
  ASSERT_TRUE(file && file->Append("kept").ok());
  env.FailNth(FaultOp::kWrite, 1, EIO, 3);
  const Status s = AppendAllOrNothing(*file, "lost");
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_NE(s.message().find("Input/output error"), std::string::npos) << s.message();
  EXPECT_EQ(ReadFile(tmp.File("f")), "kept");
}

TEST(FaultEnvTest, FailsTheNthReadByPathAndInADirectory) {
  TempDir tmp;
  WriteFile(tmp.File("f"), "contents", 0600);
  FaultEnv env;
  auto by_path = env.NewReadableFile(tmp.File("f"));
  ASSERT_TRUE(by_path);
  auto dir = env.OpenDirectory(tmp.path());
  ASSERT_TRUE(dir);
  auto in_dir = (*dir)->NewReadableFile("f");
  ASSERT_TRUE(in_dir);
  env.FailNth(FaultOp::kRead, 2, EIO);
  EXPECT_EQ((*by_path)->ReadAt(0, 4).value(), "cont");
  auto failed = (*in_dir)->ReadAt(4, 4);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code(), Code::kUnavailable);
  EXPECT_NE(failed.error().message().find("cannot read " + tmp.File("f") + ": Input/output error"),
            std::string::npos)
      << failed.error().message();
  EXPECT_EQ((*in_dir)->ReadAt(4, 4).value(), "ents");  // only the 2nd read fails
  EXPECT_EQ(env.Count(FaultOp::kRead), 3);
  EXPECT_GE((*in_dir)->fd(), 0);
}

TEST(FaultEnvTest, FailAllUntilCleared) {
  TempDir tmp;
  FaultEnv env;
  env.FailAll(FaultOp::kMkdir, EACCES);
  EXPECT_EQ(env.CreateDir(tmp.File("a"), 0700).code(), Code::kPermissionDenied);
  EXPECT_EQ(env.CreateDir(tmp.File("b"), 0700).code(), Code::kPermissionDenied);
  env.ClearFaults();
  EXPECT_TRUE(env.CreateDir(tmp.File("a"), 0700).ok());
}

TEST(FaultEnvTest, FailedRenameLeavesTheOldCompleteFile) {
  TempDir tmp;
  WriteFile(tmp.File("state"), "old complete", 0600);
  FaultEnv env;
  auto dir = env.OpenDirectory(tmp.path());
  ASSERT_TRUE(dir);
  env.FailNth(FaultOp::kRename, 1, EIO);
  const Status s = WriteFileAtomicIn(**dir, "state", "new", 0600);
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_NE(s.message().find("cannot rename"), std::string::npos) << s.message();
  EXPECT_EQ(ReadFile(tmp.File("state")), "old complete");
  EXPECT_EQ(*(*dir)->List(), std::vector<std::string>{"state"});  // temp file removed
}

TEST(FaultEnvTest, FailedFsyncNeverReplacesTheFile) {
  TempDir tmp;
  WriteFile(tmp.File("state"), "old", 0600);
  FaultEnv env;
  auto dir = env.OpenDirectory(tmp.path());
  ASSERT_TRUE(dir);
  env.FailNth(FaultOp::kSync, 1, EIO);
  EXPECT_EQ(WriteFileAtomicIn(**dir, "state", "new", 0600).code(), Code::kUnavailable);
  EXPECT_EQ(env.Count(FaultOp::kRename), 0);
  EXPECT_EQ(ReadFile(tmp.File("state")), "old");
  ASSERT_TRUE(WriteFileAtomicIn(**dir, "state", "new", 0600).ok());
  EXPECT_EQ(ReadFile(tmp.File("state")), "new");
}

TEST(FaultEnvTest, DropUnsyncedDataKeepsOnlyWhatWasSynced) {
  TempDir tmp;
  FaultEnv env;
  auto dir = env.OpenDirectory(tmp.path());
  ASSERT_TRUE(dir);
  auto synced = (*dir)->NewWritableFile("synced", WriteMode::kCreateExclusive);
  ASSERT_TRUE(synced);
  ASSERT_TRUE((*synced)->Append("durable").ok());
  ASSERT_TRUE((*synced)->Sync().ok());
  ASSERT_TRUE((*dir)->Sync().ok());
  env.FailNth(FaultOp::kSync, 1, EIO);
  ASSERT_TRUE((*synced)->Append(" volatile").ok());
  EXPECT_FALSE((*synced)->Sync().ok());

  auto fresh = (*dir)->NewWritableFile("fresh", WriteMode::kCreateExclusive);
  ASSERT_TRUE(fresh && (*fresh)->Append("never synced").ok());

  env.DropUnsyncedData();
  EXPECT_EQ(ReadFile(tmp.File("synced")), "durable");
  EXPECT_EQ(Env::Default()->Stat(tmp.File("fresh")).error().code(), Code::kNotFound);
}

TEST(FaultEnvTest, FrozenClockMovesOnlyWhenAdvanced) {
  FaultEnv env;
  env.SetClock(1'700'000'000, 5);
  EXPECT_EQ(env.NowUnixSeconds(), 1'700'000'000);
  EXPECT_EQ(env.NowUnixMicros(), 1'700'000'000'000'000);
  EXPECT_EQ(env.MonotonicNanos(), 5);
  env.AdvanceClock(30);
  EXPECT_EQ(env.NowUnixSeconds(), 1'700'000'030);
  EXPECT_EQ(env.MonotonicNanos(), 30'000'000'005);
}

TEST(PosixEnvTest, ClocksAreSane) {
  Env* env = Env::Default();
  EXPECT_GT(env->NowUnixSeconds(), 1'600'000'000);
  EXPECT_NEAR(static_cast<double>(env->NowUnixMicros() / 1'000'000),
              static_cast<double>(env->NowUnixSeconds()), 2.0);
  const std::int64_t a = env->MonotonicNanos();
  EXPECT_GE(env->MonotonicNanos(), a);
}

}  // namespace
}  // namespace gate
