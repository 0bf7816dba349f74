// The uploader (sshd-hooks/node/session_upload.h) on real files, real
// flock(2) locks and real recordings, against an in-memory gate-ca that
// keeps the protocol's rules (offsets, 409 with the size, digest check at
// completion). The HTTP side is covered by the integration test
// (tests/integration/test_upload.py) against a real gate-ca.
#include "sshd-hooks/node/session_upload.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <string>

#include "common/recording_test_util.h"
#include "common/test_util.h"
#include "gate/bytes.h"
#include "gate/fault_env.h"

namespace gate::hooks {
namespace {

constexpr char kNode[] = "4a6f0c1e-9b2d-4c3e-8f10-0123456789ab";
constexpr char kS1[] = "11111111-2222-4333-8444-555555555555";
constexpr char kS2[] = "21111111-2222-4333-8444-555555555555";

// gate-ca's rules, in memory.
class FakeGateCa final : public UploadTarget {
 public:
  Result<Ack> PutChunk(const std::string& id, std::uint64_t offset,
                       std::string_view bytes) override {
    if (down) return Err(Unavailable("cannot reach gate-ca"));
    ++puts;
    std::string& held = held_[id];
    if (offset != held.size()) return Ack{true, held.size()};
    if (complete_[id] && !bytes.empty()) return Err(FailedPrecondition("already complete"));
    held.append(bytes);
    if (corrupt_next && !bytes.empty()) {
      held.back() ^= 1;
      corrupt_next = false;
    }
    return Ack{false, held.size()};
  }

  Result<Completion> Complete(const std::string& id, std::uint64_t size,
                              const std::string& sha256) override {
    if (down) return Err(Unavailable("cannot reach gate-ca"));
    std::string& held = held_[id];
    if (size > held.size()) return Completion{true, held.size(), "", false, ""};
    if (size < held.size() || HexEncode(Sha256(held)) != sha256) {
      held.clear();
      return Completion{true, 0, "", false, ""};
    }
    if (!complete_[id]) ++completions;
    complete_[id] = true;
    return Completion{false, size, lie_about_digest ? std::string(64, '0') : sha256, true,
                      "complete"};
  }

  const std::string& held(const std::string& id) { return held_[id]; }
  bool complete(const std::string& id) { return complete_[id]; }

  bool down = false;
  bool corrupt_next = false;
  bool lie_about_digest = false;
  int puts = 0;
  int completions = 0;

 private:
  std::map<std::string, std::string> held_;
  std::map<std::string, bool> complete_;
};

class SessionUploadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spool_ = tmp_.path() + "/spool";
    ASSERT_EQ(::mkdir(spool_.c_str(), 0700), 0);
    key_ = std::make_unique<ssh::Ed25519PrivateKey>(testing_key());
    options_.spool_dir = spool_;
    options_.chunk_bytes = 300;  // several chunks per recording
    options_.grace = std::chrono::seconds(30);
  }

  static ssh::Ed25519PrivateKey testing_key() { return *ssh::Ed25519PrivateKey::Generate(); }

  std::string Path(const std::string& id) const { return spool_ + "/" + id + ".cast"; }

  // A finished recording, in a scratch file (not the spool).
  std::string Finished(const std::string& id, testing::RecordingScript script = {}) {
    script.outputs = {std::string(500, 'a'), std::string(400, 'b'), "done\r\n"};
    return testing::WriteRecording(tmp_.path() + "/scratch.cast", testing::TestHeader(id, kNode),
                                   *key_, script);
  }

  void Put(const std::string& id, const std::string& bytes) {
    testing::WriteFile(Path(id), bytes, 0600);
  }
  void Append(const std::string& id, const std::string& bytes) {
    std::ofstream out(Path(id), std::ios::binary | std::ios::app);
    out << bytes;
  }
  bool Exists(const std::string& id) const { return std::filesystem::exists(Path(id)); }
  std::int64_t MtimeOf(const std::string& id) const {
    struct stat st {};
    EXPECT_EQ(::stat(Path(id).c_str(), &st), 0);
    return st.st_mtime;
  }

  // A recorder: holds LOCK_SH on the file while it lives.
  class Recorder {
   public:
    explicit Recorder(const std::string& path) : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
      EXPECT_TRUE(fd_.valid());
      EXPECT_EQ(::flock(fd_.get(), LOCK_SH), 0);
    }

   private:
    UniqueFd fd_;
  };

  Uploader MakeUploader(std::int64_t* now, Env* env = Env::Default()) {
    return Uploader(
        options_, gate_ca_, [now] { return *now; }, env);
  }

  // The one problem of a pass names what and why.
  static void ExpectProblem(const PassReport& r, const std::string& what, const std::string& why) {
    ASSERT_EQ(r.problems.size(), 1u);
    EXPECT_NE(r.problems[0].find(what), std::string::npos) << r.problems[0];
    EXPECT_NE(r.problems[0].find(why), std::string::npos) << r.problems[0];
  }

  testing::TempDir tmp_;
  std::string spool_;
  std::unique_ptr<ssh::Ed25519PrivateKey> key_;
  UploaderOptions options_;
  FakeGateCa gate_ca_;
};

TEST_F(SessionUploadTest, FinishedRecordingIsShippedCompletedAndDeleted) {
  const std::string bytes = Finished(kS1);
  Put(kS1, bytes);
  std::int64_t now = MtimeOf(kS1);  // fresh: only its ending says it is finished
  Uploader up = MakeUploader(&now);
  PassReport r = up.RunOnce();
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.files, 1);
  EXPECT_EQ(r.completed, 1);
  EXPECT_EQ(r.bytes_sent, bytes.size());
  EXPECT_EQ(gate_ca_.held(kS1), bytes);
  EXPECT_TRUE(gate_ca_.complete(kS1));
  EXPECT_FALSE(Exists(kS1));
  // Nothing left to do.
  EXPECT_EQ(up.RunOnce().files, 0);
}

TEST_F(SessionUploadTest, LiveRecordingIsStreamedAndKeptUntilItsRecorderLetsGo) {
  const std::string bytes = Finished(kS1);
  const std::size_t cut = bytes.find('\n', 700) + 1;
  Put(kS1, bytes.substr(0, cut));
  std::int64_t now = MtimeOf(kS1) + 3600;  // old: the lock alone says live
  Uploader up = MakeUploader(&now);
  {
    Recorder recorder(Path(kS1));
    PassReport r = up.RunOnce();
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r.completed, 0);
    EXPECT_EQ(gate_ca_.held(kS1), bytes.substr(0, cut));
    EXPECT_TRUE(Exists(kS1));

    Append(kS1, bytes.substr(cut));
    const int puts = gate_ca_.puts;
    r = up.RunOnce();
    EXPECT_EQ(r.bytes_sent, bytes.size() - cut);  // only what is new
    EXPECT_GT(gate_ca_.puts, puts);
    EXPECT_FALSE(gate_ca_.complete(kS1));
    EXPECT_TRUE(Exists(kS1));
  }
  PassReport r = up.RunOnce();
  EXPECT_EQ(r.completed, 1);
  EXPECT_EQ(r.bytes_sent, 0u);
  EXPECT_EQ(gate_ca_.held(kS1), bytes);
  EXPECT_FALSE(Exists(kS1));
}

TEST_F(SessionUploadTest, UnlockedUnfinishedFileWaitsForTheGracePeriod) {
  testing::RecordingScript script;
  script.finish = false;
  const std::string bytes = Finished(kS1, script);
  Put(kS1, bytes);
  std::int64_t now = MtimeOf(kS1) + 29;
  Uploader up = MakeUploader(&now);
  PassReport r = up.RunOnce();
  EXPECT_EQ(r.completed, 0);
  EXPECT_EQ(gate_ca_.held(kS1), bytes);  // shipped as live meanwhile
  EXPECT_TRUE(Exists(kS1));
  now += 1;  // its recorder died 30 s ago: cut short, finished
  r = up.RunOnce();
  EXPECT_EQ(r.completed, 1);
  EXPECT_FALSE(Exists(kS1));
}

TEST_F(SessionUploadTest, GateCaDownDeletesNothingAndEverythingArrivesOnceLater) {
  Put(kS1, Finished(kS1));
  const std::string two = Finished(kS2);
  Put(kS2, two);
  std::int64_t now = MtimeOf(kS1);
  Uploader up = MakeUploader(&now);
  gate_ca_.down = true;
  PassReport r = up.RunOnce();
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.failed, 2);
  EXPECT_TRUE(Exists(kS1));
  EXPECT_TRUE(Exists(kS2));
  gate_ca_.down = false;
  r = up.RunOnce();
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.completed, 2);
  EXPECT_EQ(gate_ca_.completions, 2);
  EXPECT_EQ(gate_ca_.held(kS2), two);
}

TEST_F(SessionUploadTest, DownBetweenChunksAndCompletionKeepsTheFile) {
  const std::string bytes = Finished(kS1);
  Put(kS1, bytes);
  std::int64_t now = MtimeOf(kS1);
  // A gate-ca that goes away right after taking the chunks.
  class Flaky final : public UploadTarget {
   public:
    explicit Flaky(FakeGateCa& real) : real_(real) {}
    Result<Ack> PutChunk(const std::string& id, std::uint64_t o, std::string_view b) override {
      return real_.PutChunk(id, o, b);
    }
    Result<Completion> Complete(const std::string&, std::uint64_t, const std::string&) override {
      return Err(Unavailable("connection reset"));
    }

   private:
    FakeGateCa& real_;
  } flaky(gate_ca_);
  Uploader first(options_, flaky, [&now] { return now; });
  EXPECT_FALSE(first.RunOnce().ok());
  EXPECT_TRUE(Exists(kS1));
  EXPECT_EQ(gate_ca_.held(kS1), bytes);
  // A restarted uploader asks gate-ca where it stands and only completes.
  Uploader second = MakeUploader(&now);
  PassReport r = second.RunOnce();
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.bytes_sent, 0u);
  EXPECT_EQ(r.completed, 1);
  EXPECT_FALSE(Exists(kS1));
}

TEST_F(SessionUploadTest, RestartResumesWhereGateCaStands) {
  const std::string bytes = Finished(kS1);
  ASSERT_TRUE(gate_ca_.PutChunk(kS1, 0, std::string_view(bytes).substr(0, 400)).has_value());
  Put(kS1, bytes);
  std::int64_t now = MtimeOf(kS1);
  Uploader up = MakeUploader(&now);
  PassReport r = up.RunOnce();
  EXPECT_EQ(r.completed, 1);
  EXPECT_EQ(r.bytes_sent, bytes.size() - 400);
  EXPECT_EQ(gate_ca_.held(kS1), bytes);
}

TEST_F(SessionUploadTest, DigestMismatchResendsFromZeroInTheSamePass) {
  const std::string bytes = Finished(kS1);
  Put(kS1, bytes);
  std::int64_t now = MtimeOf(kS1);
  Uploader up = MakeUploader(&now);
  gate_ca_.corrupt_next = true;
  PassReport r = up.RunOnce();
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.completed, 1);
  EXPECT_EQ(r.bytes_sent, 2 * bytes.size());
  EXPECT_EQ(gate_ca_.held(kS1), bytes);
  EXPECT_FALSE(Exists(kS1));
}

TEST_F(SessionUploadTest, AnAckWithAnotherDigestKeepsTheFile) {
  Put(kS1, Finished(kS1));
  std::int64_t now = MtimeOf(kS1);
  Uploader up = MakeUploader(&now);
  gate_ca_.lie_about_digest = true;
  EXPECT_FALSE(up.RunOnce().ok());
  EXPECT_TRUE(Exists(kS1));
}

TEST_F(SessionUploadTest, IncompleteHeaderOfALiveFileWaits) {
  const std::string bytes = Finished(kS1);
  Put(kS1, bytes.substr(0, 20));
  std::int64_t now = MtimeOf(kS1);
  Uploader up = MakeUploader(&now);
  Recorder recorder(Path(kS1));
  EXPECT_TRUE(up.RunOnce().ok());
  EXPECT_EQ(gate_ca_.held(kS1), "");
}

TEST_F(SessionUploadTest, EmptyFilesAreLeftAlone) {
  Put(kS1, "");
  std::int64_t now = MtimeOf(kS1) + 3600;
  Uploader up = MakeUploader(&now);
  PassReport r = up.RunOnce();
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(Exists(kS1));
  EXPECT_EQ(gate_ca_.puts, 0);
}

TEST_F(SessionUploadTest, OnlyTheRecordersOwnSingleLinkFiles) {
  const std::string bytes = Finished(kS1);
  testing::WriteFile(tmp_.path() + "/secret", bytes, 0600);
  // A hard link and a symlink dressed as recordings.
  ASSERT_EQ(::link((tmp_.path() + "/secret").c_str(), Path(kS1).c_str()), 0);
  ASSERT_EQ(::symlink((tmp_.path() + "/secret").c_str(), Path(kS2).c_str()), 0);
  // Names that are not <uuid>.cast are not recordings at all.
  testing::WriteFile(spool_ + "/notes.txt", "x", 0600);
  testing::WriteFile(spool_ + "/" + std::string(kS1) + ".json", "{}", 0600);
  testing::WriteFile(spool_ + "/11111111-2222-4333-8444-55555555555A.cast", bytes, 0600);
  std::int64_t now = 0;
  Uploader up = MakeUploader(&now);
  PassReport r = up.RunOnce();
  EXPECT_EQ(r.files, 2);
  EXPECT_EQ(r.failed, 2);
  EXPECT_EQ(gate_ca_.puts, 0);
  EXPECT_TRUE(std::filesystem::exists(tmp_.path() + "/secret"));
  EXPECT_TRUE(Exists(kS1));
}

TEST_F(SessionUploadTest, SpoolMustExistAndBeClosedToOthers) {
  std::int64_t now = 0;
  options_.spool_dir = tmp_.path() + "/missing";
  EXPECT_EQ(MakeUploader(&now).RunOnce().failed, 1);
  options_.spool_dir = spool_;
  ASSERT_EQ(::chmod(spool_.c_str(), 0777), 0);
  Put(kS1, Finished(kS1));
  PassReport r = MakeUploader(&now).RunOnce();
  EXPECT_EQ(r.failed, 1);
  EXPECT_EQ(r.files, 0);
  EXPECT_EQ(gate_ca_.puts, 0);
  ASSERT_EQ(::chmod(spool_.c_str(), 0700), 0);
}

// --- Disk faults (FaultEnv) ------------------------------------------------------

TEST_F(SessionUploadTest, FailedDeleteAfterTheAckIsRetriedWithoutSendingAgain) {
  const std::string bytes = Finished(kS1);
  Put(kS1, bytes);
  std::int64_t now = MtimeOf(kS1);
  FaultEnv env;
  env.FailNth(FaultOp::kRemove, 1, EIO);
  Uploader up = MakeUploader(&now, &env);
  PassReport r = up.RunOnce();
  EXPECT_EQ(r.failed, 1);
  EXPECT_EQ(r.completed, 0);
  ExpectProblem(r, Path(kS1), "Input/output error");
  EXPECT_TRUE(gate_ca_.complete(kS1));
  EXPECT_EQ(testing::ReadFile(Path(kS1)), bytes);  // kept whole

  // The next pass sends nothing, completes again and deletes.
  const int puts = gate_ca_.puts;
  r = up.RunOnce();
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.completed, 1);
  EXPECT_EQ(r.bytes_sent, 0u);
  EXPECT_EQ(gate_ca_.puts, puts);
  EXPECT_EQ(gate_ca_.completions, 1);
  EXPECT_EQ(gate_ca_.held(kS1), bytes);
  EXPECT_FALSE(Exists(kS1));
}

TEST_F(SessionUploadTest, FailedDeleteIsRetriedByARestartedUploaderWithoutSendingAgain) {
  const std::string bytes = Finished(kS1);
  Put(kS1, bytes);
  std::int64_t now = MtimeOf(kS1);
  FaultEnv env;
  env.FailNth(FaultOp::kRemove, 1, EACCES);
  ExpectProblem(MakeUploader(&now, &env).RunOnce(), Path(kS1), "Permission denied");
  EXPECT_TRUE(Exists(kS1));
  PassReport r = MakeUploader(&now, &env).RunOnce();
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.bytes_sent, 0u);
  EXPECT_EQ(r.completed, 1);
  EXPECT_EQ(gate_ca_.held(kS1), bytes);
  EXPECT_FALSE(Exists(kS1));
}

TEST_F(SessionUploadTest, FailedSpoolSyncAfterTheDeleteIsNotCountedDone) {
  const std::string bytes = Finished(kS1);
  Put(kS1, bytes);
  std::int64_t now = MtimeOf(kS1);
  FaultEnv env;
  env.FailNth(FaultOp::kSync, 1, EIO);
  PassReport r = MakeUploader(&now, &env).RunOnce();
  EXPECT_EQ(r.completed, 0);
  EXPECT_EQ(r.failed, 1);
  ExpectProblem(r, spool_, "Input/output error");
  ExpectProblem(r, Path(kS1), "not yet durable");
  // A crash brings the file back: it is completed again, never re-sent.
  Put(kS1, bytes);
  r = MakeUploader(&now, &env).RunOnce();
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.bytes_sent, 0u);
  EXPECT_EQ(r.completed, 1);
  EXPECT_EQ(gate_ca_.held(kS1), bytes);
  EXPECT_FALSE(Exists(kS1));
}

TEST_F(SessionUploadTest, UnreadableRecordingSendsNothingAndIsKept) {
  const std::string bytes = Finished(kS1);
  Put(kS1, bytes);
  std::int64_t now = MtimeOf(kS1);
  FaultEnv env;
  env.FailNth(FaultOp::kOpen, 2, EIO);  // the first open is the spool's
  PassReport r = MakeUploader(&now, &env).RunOnce();
  EXPECT_EQ(r.failed, 1);
  ExpectProblem(r, Path(kS1), "Input/output error");
  EXPECT_EQ(gate_ca_.puts, 0);
  EXPECT_EQ(env.Count(FaultOp::kRemove), 0);
  EXPECT_EQ(testing::ReadFile(Path(kS1)), bytes);
}

TEST_F(SessionUploadTest, ReadErrorSendsNothingKeepsTheFileAndNamesIt) {
  const std::string bytes = Finished(kS1);
  Put(kS1, bytes);
  std::int64_t now = MtimeOf(kS1) + 60;  // past the grace period: shipped as finished
  FaultEnv env;
  env.FailAll(FaultOp::kRead, EIO);
  Uploader uploader = MakeUploader(&now, &env);
  PassReport r = uploader.RunOnce();
  EXPECT_EQ(r.failed, 1);
  EXPECT_EQ(r.completed, 0);
  ExpectProblem(r, "cannot read " + Path(kS1), "Input/output error");
  EXPECT_EQ(r.bytes_sent, 0u);
  EXPECT_EQ(gate_ca_.held(kS1), "");
  EXPECT_EQ(env.Count(FaultOp::kRemove), 0);
  EXPECT_EQ(testing::ReadFile(Path(kS1)), bytes);
  // The disk reads again: the same uploader ships it all, once.
  env.ClearFaults();
  r = uploader.RunOnce();
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.completed, 1);
  EXPECT_EQ(gate_ca_.held(kS1), bytes);
  EXPECT_FALSE(Exists(kS1));
}

TEST_F(SessionUploadTest, ReadErrorMidUploadResumesWithoutLosingOrRepeatingBytes) {
  const std::string bytes = Finished(kS1);
  ASSERT_GT(bytes.size(), 3 * options_.chunk_bytes);
  Put(kS1, bytes);
  std::int64_t now = MtimeOf(kS1);
  FaultEnv env;
  // Reads 1-2 tell that the file is finished, 3-4 make the first chunk; the
  // second chunk's read fails.
  env.FailNth(FaultOp::kRead, 5, EIO);
  Uploader uploader = MakeUploader(&now, &env);
  PassReport r = uploader.RunOnce();
  EXPECT_EQ(r.failed, 1);
  ExpectProblem(r, Path(kS1), "Input/output error");
  const std::string held = gate_ca_.held(kS1);
  EXPECT_FALSE(held.empty());
  EXPECT_LT(held.size(), bytes.size());
  EXPECT_EQ(held, bytes.substr(0, held.size()));
  EXPECT_FALSE(gate_ca_.complete(kS1));
  EXPECT_EQ(testing::ReadFile(Path(kS1)), bytes);
  const std::uint64_t sent_before = r.bytes_sent;

  r = uploader.RunOnce();
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.completed, 1);
  EXPECT_EQ(sent_before + r.bytes_sent, bytes.size());  // nothing sent twice
  EXPECT_EQ(gate_ca_.held(kS1), bytes);
  EXPECT_EQ(gate_ca_.completions, 1);
  EXPECT_FALSE(Exists(kS1));
}

TEST_F(SessionUploadTest, UnopenableSpoolIsOneFailureNamingIt) {
  Put(kS1, Finished(kS1));
  std::int64_t now = MtimeOf(kS1);
  FaultEnv env;
  env.FailNth(FaultOp::kOpen, 1, EACCES);
  PassReport r = MakeUploader(&now, &env).RunOnce();
  EXPECT_EQ(r.failed, 1);
  EXPECT_EQ(r.files, 0);
  ExpectProblem(r, spool_, "Permission denied");
  EXPECT_EQ(gate_ca_.puts, 0);
  EXPECT_TRUE(Exists(kS1));
}

TEST_F(SessionUploadTest, NothingIsRemovedWithoutAMatchingAcknowledgement) {
  Put(kS1, Finished(kS1));
  std::int64_t now = MtimeOf(kS1);
  FaultEnv env;
  gate_ca_.lie_about_digest = true;
  PassReport r = MakeUploader(&now, &env).RunOnce();
  ExpectProblem(r, Path(kS1), "another digest");
  EXPECT_EQ(env.Count(FaultOp::kRemove), 0);
  EXPECT_TRUE(Exists(kS1));
  gate_ca_.lie_about_digest = false;
  gate_ca_.down = true;
  r = MakeUploader(&now, &env).RunOnce();
  ExpectProblem(r, kS1, "cannot reach gate-ca");
  EXPECT_EQ(env.Count(FaultOp::kRemove), 0);
  EXPECT_TRUE(Exists(kS1));
}

TEST(BackoffTest, DoublesToAMinuteAndResets) {
  Backoff b;
  EXPECT_EQ(b.Next(true).count(), 1);
  std::vector<long> waits;
  for (int i = 0; i < 9; ++i) waits.push_back(b.Next(false).count());
  EXPECT_EQ(waits, (std::vector<long>{1, 2, 4, 8, 16, 32, 60, 60, 60}));
  EXPECT_EQ(b.Next(true).count(), 1);
  EXPECT_EQ(b.Next(false).count(), 1);
}

}  // namespace
}  // namespace gate::hooks
