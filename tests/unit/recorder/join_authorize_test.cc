// The default join authorizer against real processes: a fake recorded
// session is a forked copy of this test binary (running as the recorders'
// uid, which here is this process's) whose registry entry the test writes,
// with a child standing for a program run inside that session.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <optional>
#include <string>

#include "common/test_util.h"
#include "gate/join_protocol.h"
#include "gate/json.h"
#include "gate/policy.h"
#include "gate/process_info.h"
#include "gate/session_registry.h"
#include "join_test_util.h"
#include "recorder/join/authorize.h"

namespace gate::recorder {
namespace {

using testing::TempDir;
using testing::WriteFile;

constexpr std::int64_t kNow = 1764000000;
constexpr char kBobSession[] = "11111111-2222-4333-8444-555555555555";
constexpr char kJoinedSession[] = "0b6f2a9e-3c1d-4e5f-8a7b-9c0d1e2f3a4b";

void ReadExactly(int fd, void* buf, std::size_t n) {
  auto* p = static_cast<char*>(buf);
  while (n > 0) {
    const ssize_t r = ::read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return;
    p += r;
    n -= static_cast<std::size_t>(r);
  }
}

// Blocks until every writer of the pipe closed it.
void WaitForEof(int fd) {
  char c;
  for (;;) {
    const ssize_t r = ::read(fd, &c, 1);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return;
  }
}

constexpr uid_t kShellUid = 65534;

// recorder (a fork of this binary) -> member (its fork), or with via_shell
// recorder -> /bin/sh -> sleep. Both live until the object goes away.
struct FakeSessionOptions {
  bool via_shell = false;
  // Run in the member (a forked copy of this binary) before it waits.
  std::function<void()> member_work;
  // Run in the recorder once the member is forked.
  std::function<void()> recorder_work;
};

class FakeSession {
 public:
  FakeSession() : FakeSession(FakeSessionOptions()) {}
  explicit FakeSession(const FakeSessionOptions& options) : via_shell_(options.via_shell) {
    int release[2], report[2];
    if (::pipe2(release, O_CLOEXEC) != 0 || ::pipe2(report, O_CLOEXEC) != 0) std::abort();
    recorder_ = ::fork();
    if (recorder_ < 0) std::abort();
    if (recorder_ == 0) {
      ::close(release[1]);
      ::close(report[0]);
      // Other tests in this binary block signals in the test process (the
      // session loop's signalfd); a shell started with SIGCHLD blocked would
      // never see its background job end.
      sigset_t none;
      sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      for (int sig : {SIGCHLD, SIGHUP, SIGTERM, SIGINT, SIGQUIT, SIGPIPE}) ::signal(sig, SIG_DFL);
      const pid_t child = ::fork();
      if (child == 0) {
        if (options.via_shell) {
          ::dup2(report[1], STDOUT_FILENO);
          // As in a real session, the programs inside run as the user, not
          // as the recorders' uid.
          if (::geteuid() == 0 && ::setresuid(kShellUid, kShellUid, kShellUid) != 0) ::_exit(126);
          ::execl("/bin/sh", "sh", "-c", "sleep 300 & echo $!; wait", static_cast<char*>(nullptr));
          ::_exit(127);
        }
        if (options.member_work) options.member_work();
        WaitForEof(release[0]);
        ::_exit(0);
      }
      if (options.recorder_work) options.recorder_work();
      if (!options.via_shell) {
        const pid_t member = child;
        (void)!::write(report[1], &member, sizeof(member));
      }
      ::close(report[1]);
      WaitForEof(release[0]);
      ::waitpid(child, nullptr, 0);
      ::_exit(0);
    }
    ::close(release[0]);
    ::close(report[1]);
    release_ = release[1];
    if (options.via_shell) {
      char buf[32] = {};
      std::size_t len = 0;
      while (len < sizeof(buf) - 1) {
        const ssize_t r = ::read(report[0], buf + len, 1);
        if (r <= 0 || buf[len] == '\n') break;
        ++len;
      }
      member_ = static_cast<pid_t>(std::atoi(buf));
    } else {
      ReadExactly(report[0], &member_, sizeof(member_));
    }
    ::close(report[0]);
  }

  ~FakeSession() {
    // The sleep is ours too (started for this test); ending it ends the shell.
    if (via_shell_ && member_ > 0) ::kill(member_, SIGKILL);
    ::close(release_);
    ::waitpid(recorder_, nullptr, 0);
  }

  pid_t recorder() const { return recorder_; }
  pid_t member() const { return member_; }
  Peer MemberPeer() const {
    return Peer{member_, via_shell_ && ::geteuid() == 0 ? kShellUid : ::geteuid()};
  }

 private:
  bool via_shell_;
  pid_t recorder_ = -1;
  pid_t member_ = -1;
  int release_ = -1;
};

class JoinAuthorizeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    run_dir_ = tmp_.File("run");
    ASSERT_EQ(::mkdir(run_dir_.c_str(), 0755), 0);
    ::chmod(run_dir_.c_str(), 0755);
    config_.run_dir = run_dir_;
    config_.cache.dir = tmp_.File("cache");
    config_.cache.owner = ::geteuid();
    config_.cache.group = ::getegid();
    ASSERT_EQ(::mkdir(config_.cache.dir.c_str(), 0750), 0);
    ::chmod(config_.cache.dir.c_str(), 0750);
    config_.now = [] { return kNow; };

    snapshot_.cluster_name = "grav-00";
    snapshot_.host_uuid = "4a6f0000-0000-4000-8000-000000000001";
    snapshot_.generated_at = kNow - 10;
    snapshot_.node_labels = {{"env", "prod"}};
    snapshot_.users = {{"alice", {"alice"}, {}},        {"bob", {"bob"}, {"joiners"}},
                       {"carol", {"carol"}, {}},        {"dave", {"dave"}, {"dev-joiners"}},
                       {"erin", {"erin"}, {"joiners"}}, {"frank", {"frank"}, {"joiners"}}};
    policy::Role joiners;
    joiners.name = "joiners";
    joiners.logins = {"support"};
    joiners.node_labels = {{"env", "prod"}};
    joiners.join_sessions = true;
    policy::Role dev = joiners;
    dev.name = "dev-joiners";
    dev.node_labels = {{"env", "dev"}};
    snapshot_.roles = {joiners, dev};
    snapshot_.locks = {{"erin", 0, "left the company"}, {"frank", kNow - 60, "expired"}};
    WriteSnapshot();
  }

  void WriteSnapshot() {
    WriteFile(config_.cache.PolicyPath(), node::EncodePolicyCache(snapshot_).value(), 0640);
  }

  std::string Registry(const std::string& id, const std::string& user, pid_t recorder,
                       mode_t mode = 0644) {
    Json::Value v(Json::objectValue);
    v["session_id"] = id;
    v["user"] = user;
    v["login"] = user;
    v["node"] = snapshot_.host_uuid;
    v["recorder_pid"] = static_cast<Json::Int64>(recorder);
    v["started_at"] = static_cast<Json::Int64>(::time(nullptr));
    v["socket"] = run_dir_ + "/" + id + ".sock";
    v["mode"] = "interactive";
    v["tty"] = "/dev/pts/9";
    const std::string path = run_dir_ + "/" + id + ".json";
    WriteFile(path, json::Write(v), mode);
    return path;
  }

  Result<std::string> Authorize(const Peer& peer) { return AuthorizeJoin(config_, peer); }

  static void ExpectRefused(const Result<std::string>& r, const std::string& reason) {
    ASSERT_FALSE(r.has_value()) << "allowed as " << *r;
    EXPECT_EQ(r.error().code(), Code::kPermissionDenied) << r.error().ToString();
    EXPECT_NE(r.error().message().find(reason), std::string::npos) << r.error().message();
  }

  TempDir tmp_{0755};
  std::string run_dir_;
  AuthorizerConfig config_;
  policy::Snapshot snapshot_;
};

TEST_F(JoinAuthorizeTest, ProcessInfoReadsThisProcess) {
  auto info = proc::ReadProcessInfo(::getpid());
  ASSERT_TRUE(info.has_value()) << info.error().ToString();
  EXPECT_EQ(info->ppid, ::getppid());
  EXPECT_EQ(info->euid, ::geteuid());
  EXPECT_EQ(info->ruid, ::getuid());
  EXPECT_LE(info->started_at, static_cast<std::int64_t>(::time(nullptr)));
  EXPECT_GT(info->started_at, static_cast<std::int64_t>(::time(nullptr)) - 24 * 3600);
  EXPECT_EQ(proc::ReadProcessInfo(0).error().code(), Code::kNotFound);
}

TEST_F(JoinAuthorizeTest, AUserWithAJoinRoleIsAllowed) {
  FakeSession bob;
  Registry(kBobSession, "bob", bob.recorder());
  auto user = Authorize(bob.MemberPeer());
  ASSERT_TRUE(user.has_value()) << user.error().ToString();
  EXPECT_EQ(*user, "bob");
}

TEST_F(JoinAuthorizeTest, AUserWithoutAJoinRoleIsRefused) {
  FakeSession carol;
  Registry(kBobSession, "carol", carol.recorder());
  ExpectRefused(Authorize(carol.MemberPeer()),
                "carol may not join sessions on this node (no role with join_sessions)");
}

TEST_F(JoinAuthorizeTest, TheSessionsOwnUserIsHeldToTheSameRule) {
  // alice, from another of her own recorded sessions, has no join role.
  FakeSession alice;
  Registry(kBobSession, "alice", alice.recorder());
  ExpectRefused(Authorize(alice.MemberPeer()), "alice may not join sessions on this node");
}

TEST_F(JoinAuthorizeTest, AJoinRoleForOtherNodesDoesNotCount) {
  FakeSession dave;
  Registry(kBobSession, "dave", dave.recorder());
  ExpectRefused(Authorize(dave.MemberPeer()), "dave may not join sessions on this node");
}

TEST_F(JoinAuthorizeTest, ALockedUserIsRefusedAnExpiredLockIsNot) {
  {
    FakeSession erin;
    Registry(kBobSession, "erin", erin.recorder());
    ExpectRefused(Authorize(erin.MemberPeer()), "erin is locked and may not join sessions");
  }
  FakeSession frank;
  Registry(kBobSession, "frank", frank.recorder());
  EXPECT_EQ(Authorize(frank.MemberPeer()).value(), "frank");
}

TEST_F(JoinAuthorizeTest, AUserTheCacheDoesNotKnowIsRefused) {
  FakeSession mallory;
  Registry(kBobSession, "mallory", mallory.recorder());
  ExpectRefused(Authorize(mallory.MemberPeer()), "mallory is not a user of this cluster");
}

TEST_F(JoinAuthorizeTest, AProcessOutsideAnyRecordedSessionIsRefused) {
  FakeSession unregistered;  // a "recorder" with no registry entry
  ExpectRefused(Authorize(unregistered.MemberPeer()), "not inside a recorded session");
}

TEST_F(JoinAuthorizeTest, ARecorderOfAnotherGroupThatCannotBeTracedIsFound) {
  // Recorders of different users run as gate-rec but keep their user's
  // group, and are not dumpable: nothing about them but /proc/<pid>/stat
  // and status may be read by another recorder.
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to change groups";
  FakeSessionOptions options;
  options.recorder_work = [] {
    if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 || ::setresgid(65534, 65534, 65534) != 0) {
      std::abort();
    }
  };
  FakeSession bob(options);
  Registry(kBobSession, "bob", bob.recorder());
  EXPECT_EQ(Authorize(bob.MemberPeer()).value(), "bob");
}

TEST_F(JoinAuthorizeTest, ARecorderServingAJoinRequestIsNamedByItsOwnEntry) {
  // The connecting process runs as the recorders' uid and registered
  // itself (a "join" entry): its entry, not its parents', names the user.
  FakeSession bob;
  Registry(kBobSession, "carol", bob.recorder());
  Registry(kJoinedSession, "bob", bob.member());
  EXPECT_EQ(Authorize(bob.MemberPeer()).value(), "bob");
}

TEST_F(JoinAuthorizeTest, ProcessesOfOtherUidsAreNotRecorders) {
  FakeSession bob;
  Registry(kBobSession, "bob", bob.recorder());
  config_.recorder_uid = ::geteuid() + 1;
  ExpectRefused(Authorize(bob.MemberPeer()), "not inside a recorded session");
}

TEST_F(JoinAuthorizeTest, JoiningTheSessionYouAreInIsRefused) {
  // This process plays the recorder of the joined session; its own child
  // tries to join it.
  Registry(kJoinedSession, "bob", ::getpid());
  int release[2];
  ASSERT_EQ(::pipe2(release, O_CLOEXEC), 0);
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(release[1]);
    WaitForEof(release[0]);
    ::_exit(0);
  }
  ::close(release[0]);
  ExpectRefused(Authorize(Peer{child, ::geteuid()}), "you cannot join the session you are in");
  ::close(release[1]);
  ::waitpid(child, nullptr, 0);
}

TEST_F(JoinAuthorizeTest, TheRecorderIsFoundThroughOtherProcesses) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to run the shell as another uid";
  FakeSessionOptions options;
  options.via_shell = true;
  FakeSession bob(options);
  ASSERT_GT(bob.member(), 0);
  Registry(kBobSession, "bob", bob.recorder());
  // sleep -> sh (the user's uid) -> recorder.
  EXPECT_EQ(Authorize(bob.MemberPeer()).value(), "bob");
  config_.max_depth = 1;
  ExpectRefused(Authorize(bob.MemberPeer()), "not inside a recorded session");
}

TEST_F(JoinAuthorizeTest, PeerCredentialsThatNoLongerMatchAreRefused) {
  FakeSession bob;
  Registry(kBobSession, "bob", bob.recorder());
  ExpectRefused(Authorize(Peer{bob.member(), ::geteuid() + 1}), "cannot identify your process");
  ExpectRefused(Authorize(Peer{0x7ffffff0, ::geteuid()}), "cannot identify your process");
}

TEST_F(JoinAuthorizeTest, UntrustworthyRegistryEntriesAreIgnored) {
  FakeSession bob;
  const std::string path = Registry(kBobSession, "bob", bob.recorder(), 0664);
  ExpectRefused(Authorize(bob.MemberPeer()), "not inside a recorded session");

  // A symlink to a good entry is not an entry.
  const std::string real = tmp_.File("elsewhere.json");
  ASSERT_EQ(::rename(Registry(kBobSession, "bob", bob.recorder()).c_str(), real.c_str()), 0);
  ASSERT_EQ(::symlink(real.c_str(), path.c_str()), 0);
  ExpectRefused(Authorize(bob.MemberPeer()), "not inside a recorded session");
  ASSERT_EQ(::unlink(path.c_str()), 0);

  // Named for another session than the one it describes.
  const std::string other = run_dir_ + "/" + kJoinedSession + ".json";
  ASSERT_EQ(::rename(Registry(kBobSession, "bob", bob.recorder()).c_str(), other.c_str()), 0);
  ExpectRefused(Authorize(bob.MemberPeer()), "not inside a recorded session");
  ASSERT_EQ(::unlink(other.c_str()), 0);

  // Not a session file name at all.
  WriteFile(run_dir_ + "/bob.json", testing::ReadFile(real));
  ExpectRefused(Authorize(bob.MemberPeer()), "not inside a recorded session");

  if (::geteuid() == 0) {
    Registry(kBobSession, "bob", bob.recorder());
    ASSERT_EQ(::chown(path.c_str(), 65534, 65534), 0);
    ExpectRefused(Authorize(bob.MemberPeer()), "not inside a recorded session");
  }
}

TEST_F(JoinAuthorizeTest, AnEntryOlderThanTheRecorderProcessIsStale) {
  FakeSession bob;
  const std::string path = Registry(kBobSession, "bob", bob.recorder());
  // Written an hour before the process with that pid started: it belonged
  // to a dead recorder whose pid was reused.
  timeval times[2] = {{::time(nullptr) - 3600, 0}, {::time(nullptr) - 3600, 0}};
  ASSERT_EQ(::utimes(path.c_str(), times), 0);
  ExpectRefused(Authorize(bob.MemberPeer()), "not inside a recorded session");
}

TEST_F(JoinAuthorizeTest, TwoEntriesNamingOneRecorderFailClosed) {
  FakeSession bob;
  Registry(kBobSession, "bob", bob.recorder());
  Registry(kJoinedSession, "carol", bob.recorder());
  auto r = Authorize(bob.MemberPeer());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kUnavailable);
}

TEST_F(JoinAuthorizeTest, AnUnsafeRunDirOrCacheFailsClosed) {
  FakeSession bob;
  Registry(kBobSession, "bob", bob.recorder());
  ASSERT_EQ(::chmod(run_dir_.c_str(), 0777), 0);
  auto r = Authorize(bob.MemberPeer());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kUnavailable);
  ASSERT_EQ(::chmod(run_dir_.c_str(), 0755), 0);

  ASSERT_EQ(::chmod(config_.cache.dir.c_str(), 0775), 0);
  r = Authorize(bob.MemberPeer());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kUnavailable);
  ASSERT_EQ(::chmod(config_.cache.dir.c_str(), 0750), 0);

  WriteFile(config_.cache.PolicyPath(), "{\"version\": 1, \"trunc", 0640);
  r = Authorize(bob.MemberPeer());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kUnavailable);
}

TEST_F(JoinAuthorizeTest, RegistryEntriesAreParsedStrictly) {
  const std::string good = R"({"session_id":"0b6f2a9e-3c1d-4e5f-8a7b-9c0d1e2f3a4b",)"
                           R"("user":"bob","login":"bob","recorder_pid":42,"mode":"interactive"})";
  auto s = ParseRegistryEntry(good);
  ASSERT_TRUE(s.has_value()) << s.error().ToString();
  EXPECT_EQ(s->recorder_pid, 42);
  for (
      const char* bad : {
          R"({"session_id":"../x","user":"bob","login":"bob","recorder_pid":42})",
          R"({"session_id":"0b6f2a9e-3c1d-4e5f-8a7b-9c0d1e2f3a4b","user":"bob\u001b[2J","login":"bob","recorder_pid":42})",
          R"({"session_id":"0b6f2a9e-3c1d-4e5f-8a7b-9c0d1e2f3a4b","user":"bob","login":"bob","recorder_pid":"42"})",
          R"({"session_id":"0b6f2a9e-3c1d-4e5f-8a7b-9c0d1e2f3a4b","user":"bob","login":"bob","recorder_pid":0})",
          R"({"session_id":"0b6f2a9e-3c1d-4e5f-8a7b-9c0d1e2f3a4b","user":"bob","login":"bob"})",
          "not json",
      }) {
    EXPECT_FALSE(ParseRegistryEntry(bad).has_value()) << bad;
  }
}

// The whole path: a process inside bob's (fake) session connects to the
// hub's socket, so the Peer is what SO_PEERCRED says, and the hub answers
// with the default authorizer's decision.
class JoinEndToEndTest : public JoinAuthorizeTest {
 protected:
  // What the member read back: the first frame's type and payload.
  std::pair<char, std::string> TryJoin(const std::string& user, JoinMode mode) {
    const std::string socket_path = tmp_.File(std::string(kJoinedSession) + ".sock");
    JoinAuthorizer authorizer = MakeDefaultAuthorizer(config_);
    testing::HubEvents events;
    auto hub = JoinHub::Listen(socket_path, SessionSummary{kJoinedSession, "alice", "root"},
                               authorizer, events.Callbacks());
    EXPECT_TRUE(hub.has_value());
    int answer[2];
    EXPECT_EQ(::pipe2(answer, O_CLOEXEC), 0);
    FakeSessionOptions options;
    options.member_work = [&] {
      ::close(answer[0]);
      auto fd = ConnectUnix(socket_path);
      if (!fd) ::_exit(1);
      std::string hello;
      AppendFrame(hello, FrameType::kHello, HelloJson(mode));
      (void)!::write(fd->get(), hello.data(), hello.size());
      FrameDecoder decoder(FrameDirection::kToClient);
      char buf[4096];
      for (;;) {
        const ssize_t n = ::read(fd->get(), buf, sizeof(buf));
        if (n <= 0) ::_exit(1);
        decoder.Feed(std::string_view(buf, static_cast<std::size_t>(n)));
        auto f = decoder.Next();
        if (!f) ::_exit(1);
        if (!f->has_value()) continue;
        // Passed on as a frame: the pipe has other writers (the recorder
        // process holds a copy), so its end cannot mark the answer's end.
        std::string out;
        AppendFrame(out, (*f)->type, (*f)->payload);
        (void)!::write(answer[1], out.data(), out.size());
        ::close(answer[1]);
        return;
      }
    };
    // The entry can only be written once the recorder's pid is known, when
    // the member may already have connected: fine, as the hub decides only
    // when it handles the hello, in PumpUntil below.
    FakeSession session(options);
    ::close(answer[1]);
    Registry(kBobSession, user, session.recorder());
    FrameDecoder decoder(FrameDirection::kToClient);
    std::optional<Frame> got;
    testing::PumpUntil(**hub, [&] {
      pollfd p{answer[0], POLLIN, 0};
      if (::poll(&p, 1, 0) > 0) {
        char buf[4096];
        const ssize_t n = ::read(answer[0], buf, sizeof(buf));
        if (n <= 0) return true;  // the member gave up
        decoder.Feed(std::string_view(buf, static_cast<std::size_t>(n)));
      }
      auto f = decoder.Next();
      if (f && f->has_value()) got = std::move(**f);
      return got.has_value();
    });
    ::close(answer[0]);
    if (!got) return {'\0', ""};
    return {static_cast<char>(got->type), got->payload};
  }
};

TEST_F(JoinEndToEndTest, BobIsAcceptedCarolIsRefused) {
  auto [type, payload] = TryJoin("bob", JoinMode::kPeer);
  EXPECT_EQ(type, 'A');
  auto accept = ParseAccept(payload);
  ASSERT_TRUE(accept.has_value()) << payload;
  EXPECT_EQ(accept->user, "alice");
  EXPECT_EQ(accept->mode, JoinMode::kPeer);

  auto [type2, reason] = TryJoin("carol", JoinMode::kObserver);
  EXPECT_EQ(type2, 'R');
  EXPECT_EQ(reason, "carol may not join sessions on this node (no role with join_sessions)");
}

}  // namespace
}  // namespace gate::recorder
