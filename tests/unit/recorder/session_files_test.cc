#include "recorder/session/session_files.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>
#include <string>

#include "common/recording_test_util.h"
#include "common/test_util.h"
#include "gate/asciicast.h"
#include "gate/ed25519.h"
#include "gate/fault_env.h"
#include "gate/json.h"
#include "gate/unique_fd.h"

namespace gate::recorder {
namespace {

using testing::ModeOf;
using testing::TempDir;

TEST(SessionIdTest, RandomVersion4Uuids) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto id = NewSessionId();
    ASSERT_TRUE(id.has_value());
    EXPECT_TRUE(IsSessionId(*id)) << *id;
    EXPECT_EQ((*id)[14], '4') << *id;
    EXPECT_NE(std::string("89ab").find((*id)[19]), std::string::npos) << *id;
    seen.insert(*id);
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST(SessionIdTest, OnlyCanonicalIdsPass) {
  EXPECT_TRUE(IsSessionId("0f8fad5b-d9cb-469f-a165-70867728950e"));
  for (const char* bad :
       {"", "0f8fad5b-d9cb-469f-a165-70867728950", "0F8FAD5B-D9CB-469F-A165-70867728950E",
        "0f8fad5b-d9cb-469f-a165-70867728950e0", "0f8fad5bd9cb-469f-a165-70867728950e-",
        "../../../../etc/passwd-aaaaaaaaaaaaaa", "0f8fad5b-d9cb-469f-a165-70867728950g",
        "0f8fad5b/d9cb-469f-a165-70867728950e"}) {
    EXPECT_FALSE(IsSessionId(bad)) << bad;
  }
}

TEST(RecordingFileTest, PrivateExclusiveAndLocked) {
  TempDir spool;
  const std::string id = NewSessionId().value();
  const mode_t old = umask(0);
  auto file = CreateRecordingFile(*Env::Default(), spool.path(), id);
  umask(old);
  ASSERT_TRUE(file.has_value()) << file.error().ToString();
  const std::string path = RecordingPath(spool.path(), id);
  EXPECT_EQ(path, spool.path() + "/" + id + ".cast");
  EXPECT_EQ(ModeOf(path), 0600);
  // Another open of the file cannot take an exclusive lock: the uploader
  // sees the session is live.
  UniqueFd other(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(other.valid());
  EXPECT_NE(flock(other.get(), LOCK_EX | LOCK_NB), 0);
  EXPECT_EQ(errno, EWOULDBLOCK);
  // The same id again fails rather than reuses the file.
  EXPECT_FALSE(CreateRecordingFile(*Env::Default(), spool.path(), id).has_value());
  file->reset();
  EXPECT_EQ(flock(other.get(), LOCK_EX | LOCK_NB), 0);
}

TEST(RecordingFileTest, RefusesBadIdsAndSymlinks) {
  TempDir spool;
  EXPECT_FALSE(CreateRecordingFile(*Env::Default(), spool.path(), "../x").has_value());
  const std::string id = NewSessionId().value();
  ASSERT_EQ(symlink("/dev/null", RecordingPath(spool.path(), id).c_str()), 0);
  EXPECT_FALSE(CreateRecordingFile(*Env::Default(), spool.path(), id).has_value());
}

// What gate-record does when the spool's disk fails as a session starts:
// the header cannot be written, the session is refused (recorder.cc) and
// its file removed, so the spool holds nothing the uploader could ship.
TEST(RecordingFileTest, AFullDiskAtTheStartLeavesNothingInTheSpool) {
  TempDir spool;
  const std::string id = NewSessionId().value();
  FaultEnv env;
  env.FailNth(FaultOp::kWrite, 1, ENOSPC, /*partial_bytes=*/20);
  auto file = CreateRecordingFile(env, spool.path(), id);
  ASSERT_TRUE(file.has_value()) << file.error().ToString();
  const auto key = ssh::Ed25519PrivateKey::Generate().value();
  const cast::Header header = testing::TestHeader(id, "4a6f0c1e-9b2d-4c3e-8f10-0123456789ab");
  auto writer = cast::Writer::Create(std::move(*file), header, key);
  ASSERT_FALSE(writer.has_value());
  EXPECT_EQ(writer.error().code(), Code::kResourceExhausted);
  EXPECT_NE(
      writer.error().message().find(RecordingPath(spool.path(), id) + ": No space left on device"),
      std::string::npos)
      << writer.error().message();
  RemoveRecordingFile(env, spool.path(), id);
  EXPECT_TRUE(std::filesystem::is_empty(spool.path()));
}

TEST(RecordingFileTest, FailedCreateIsClearAndLeavesNothing) {
  TempDir spool;
  const std::string id = NewSessionId().value();
  FaultEnv env;
  env.FailNth(FaultOp::kOpen, 1, EIO);
  auto file = CreateRecordingFile(env, spool.path(), id);
  ASSERT_FALSE(file.has_value());
  EXPECT_NE(file.error().message().find("cannot open " + RecordingPath(spool.path(), id) +
                                        ": Input/output error"),
            std::string::npos)
      << file.error().message();
  EXPECT_TRUE(std::filesystem::is_empty(spool.path()));
}

TEST(SessionDirTest, OwnerAndMode) {
  TempDir dir(0700);
  EXPECT_TRUE(CheckSessionDir(dir.path(), true).ok());
  EXPECT_TRUE(CheckSessionDir(dir.path(), false).ok());
  ASSERT_EQ(chmod(dir.path().c_str(), 0755), 0);
  EXPECT_EQ(CheckSessionDir(dir.path(), true).code(), Code::kPermissionDenied);
  EXPECT_TRUE(CheckSessionDir(dir.path(), false).ok());
  ASSERT_EQ(chmod(dir.path().c_str(), 0775), 0);
  EXPECT_EQ(CheckSessionDir(dir.path(), false).code(), Code::kPermissionDenied);
  EXPECT_EQ(CheckSessionDir(dir.File("missing"), false).code(), Code::kNotFound);
  const std::string link = dir.File("link");
  ASSERT_EQ(symlink(dir.path().c_str(), link.c_str()), 0);
  EXPECT_EQ(CheckSessionDir(link, false).code(), Code::kPermissionDenied);
  if (geteuid() == 0) {
    ASSERT_EQ(chmod(dir.path().c_str(), 0700), 0);
    ASSERT_EQ(chown(dir.path().c_str(), 65534, 65534), 0);
    Status s = CheckSessionDir(dir.path(), true);
    EXPECT_EQ(s.code(), Code::kPermissionDenied);
    EXPECT_NE(s.message().find("owned by uid 65534"), std::string::npos);
  }
}

TEST(LiveSessionTest, WriteReadRemove) {
  TempDir run(0755);
  LiveSession s;
  s.session_id = NewSessionId().value();
  s.user = "alice";
  s.login = "postgres";
  s.node = "4a6f";
  s.recorder_pid = 1234;
  s.started_at = 1764000000;
  s.socket = run.File(s.session_id + ".sock");
  s.mode = "interactive";
  s.tty = "/dev/pts/3";
  const mode_t old = umask(077);
  ASSERT_TRUE(WriteLiveSession(*Env::Default(), run.path(), s).ok());
  umask(old);
  const std::string path = LiveSessionPath(run.path(), s.session_id);
  EXPECT_EQ(ModeOf(path), 0600);
  EXPECT_TRUE(CheckLiveSessionExists(run.path(), s.session_id).ok());
  auto json = json::Parse(testing::ReadFile(path));
  ASSERT_TRUE(json.has_value());
  for (const char* field : {"session_id", "user", "login", "node", "recorder_pid", "started_at",
                            "socket", "mode", "tty"}) {
    EXPECT_TRUE(json->isMember(field)) << field;
  }
  auto back = ReadLiveSession(run.path(), s.session_id);
  ASSERT_TRUE(back.has_value()) << back.error().ToString();
  EXPECT_EQ(back->user, "alice");
  EXPECT_EQ(back->login, "postgres");
  EXPECT_EQ(back->recorder_pid, 1234);
  EXPECT_EQ(back->started_at, 1764000000);
  EXPECT_EQ(back->socket, s.socket);
  EXPECT_EQ(back->tty, "/dev/pts/3");
  RemoveLiveSession(*Env::Default(), run.path(), s.session_id);
  EXPECT_EQ(ReadLiveSession(run.path(), s.session_id).error().code(), Code::kNotFound);
  EXPECT_EQ(CheckLiveSessionExists(run.path(), s.session_id).code(), Code::kNotFound);
  EXPECT_EQ(CheckLiveSessionExists(run.path(), "../x").code(), Code::kInvalidArgument);
}

// The registry entry is written whole or not at all: a joiner or `gate
// status` never reads half of one, and no temporary file stays behind.
TEST(LiveSessionTest, DiskFaultsLeaveNoEntryAndNoTemporary) {
  for (const auto& [op, err] : {std::pair{FaultOp::kWrite, ENOSPC}, std::pair{FaultOp::kSync, EIO},
                                std::pair{FaultOp::kRename, EIO}}) {
    TempDir run(0755);
    LiveSession s;
    s.session_id = NewSessionId().value();
    s.user = "alice";
    s.login = "root";
    FaultEnv env;
    env.FailNth(op, 1, err, /*partial_bytes=*/5);
    const Status written = WriteLiveSession(env, run.path(), s);
    EXPECT_FALSE(written.ok());
    EXPECT_NE(written.message().find(run.path()), std::string::npos) << written.message();
    EXPECT_NE(written.message().find(std::strerror(err)), std::string::npos) << written.message();
    EXPECT_TRUE(std::filesystem::is_empty(run.path())) << written.message();
  }
}

TEST(LiveSessionTest, RefusesBadEntries) {
  TempDir run(0755);
  EXPECT_EQ(ReadLiveSession(run.path(), "../../etc/passwd").error().code(), Code::kInvalidArgument);
  const std::string id = NewSessionId().value();
  const std::string other = NewSessionId().value();
  testing::WriteFile(LiveSessionPath(run.path(), id),
                     R"({"session_id": ")" + other + R"(", "user": "a", "login": "b"})");
  EXPECT_EQ(ReadLiveSession(run.path(), id).error().code(), Code::kDataLoss);
  testing::WriteFile(LiveSessionPath(run.path(), id), R"({"session_id": ")" + id + R"("})");
  EXPECT_FALSE(ReadLiveSession(run.path(), id).has_value());
  testing::WriteFile(LiveSessionPath(run.path(), id), "not json");
  EXPECT_FALSE(ReadLiveSession(run.path(), id).has_value());
  testing::WriteFile(
      LiveSessionPath(run.path(), id),
      R"({"session_id": ")" + id + R"(", "user": "a", "login": "b", "recorder_pid": "x"})");
  EXPECT_FALSE(ReadLiveSession(run.path(), id).has_value());
}

}  // namespace
}  // namespace gate::recorder
