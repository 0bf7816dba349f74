// Starting the session's child and dropping privileges, with real
// processes. The tests that change uids run only as root (CI does), each
// in a process of its own.
#include "recorder/session/child.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "common/test_util.h"
#include "recorder/session/privileges.h"
#include "recorder_test_util.h"

namespace gate::recorder {
namespace {

using testing::ReadToEof;

// Runs body in a forked process; returns its exit code (body returns it).
template <typename Body>
int InChildProcess(Body body) {
  const pid_t pid = fork();
  if (pid == 0) _exit(body());
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

// Runs spec with stdout and stderr into one pipe; returns (exit code, output).
std::pair<int, std::string> RunSpec(ChildSpec spec, bool release = true) {
  testing::Pipe out = testing::Pipe::Make();
  spec.stdout_fd = out.write.get();
  spec.stderr_fd = out.write.get();
  std::string output;
  int status = 0;
  pid_t pid = -1;
  {
    auto child = Child::Spawn(spec);
    if (!child) return {-1, child.error().ToString()};
    pid = child->pid();
    out.write.Reset();
    if (release) child->Release();
  }  // an unreleased child is let go here: its recorder "died"
  ReadToEof(out.read.get(), &output);
  if (waitpid(pid, &status, 0) != pid) return {-1, output};
  return {ExitCodeOf(status), output};
}

ChildSpec Shell(const std::string& script) {
  ChildSpec spec;
  spec.program = "/bin/sh";
  spec.argv = {"sh", "-c", script};
  spec.env = {"PATH=/usr/bin:/bin", "GATE_SESSION_ID=abc"};
  return spec;
}

TEST(ExitStatusTest, AsAShellReportsIt) {
  EXPECT_EQ(ExitCodeOf(0), 0);
  EXPECT_EQ(ExitCodeOf(3 << 8), 3);
  EXPECT_EQ(ExitCodeOf(255 << 8), 255);
  EXPECT_EQ(ExitCodeOf(SIGTERM), 128 + SIGTERM);
  EXPECT_EQ(ExitCodeOf(SIGKILL | 0x80), 128 + SIGKILL);  // with a core dump
  EXPECT_EQ(ExitJson(0), R"({"exit_status":0})");
  EXPECT_EQ(ExitJson(3 << 8), R"({"exit_status":3})");
  EXPECT_EQ(ExitJson(SIGHUP), R"({"signal":"HUP"})");
  EXPECT_EQ(ExitJson(SIGKILL | 0x80), R"({"signal":"KILL"})");
}

TEST(ChildTest, RunsWithTheGivenEnvironmentAndNoExtraDescriptors) {
  auto [code, output] = RunSpec(Shell("echo \"$GATE_SESSION_ID\"; ls /proc/self/fd | wc -l"));
  EXPECT_EQ(code, 0) << output;
  // stdin, stdout, stderr and the fd ls itself opens for the listing.
  EXPECT_EQ(output, "abc\n4\n");
}

TEST(ChildTest, LoginShellArgv0AndExitStatus) {
  ChildSpec spec;
  spec.program = "/bin/sh";
  spec.argv = {"-sh", "-c", "case $0 in -*) exit 9;; esac; exit 1"};
  EXPECT_EQ(RunSpec(spec).first, 9);
}

TEST(ChildTest, MissingProgramIs127) {
  ChildSpec spec;
  spec.program = "/nonexistent/shell";
  spec.argv = {"-shell"};
  auto [code, output] = RunSpec(spec);
  EXPECT_EQ(code, 127);
  EXPECT_NE(output.find("cannot run /nonexistent/shell"), std::string::npos) << output;
}

TEST(ChildTest, NothingRunsIfTheRecorderNeverReleasesIt) {
  testing::TempDir dir;
  const std::string marker = dir.File("ran");
  auto [code, output] = RunSpec(Shell("touch " + marker), /*release=*/false);
  EXPECT_EQ(code, 127);
  EXPECT_NE(access(marker.c_str(), F_OK), 0) << "the child ran without being released";
}

TEST(ChildTest, SignalsAreResetForTheChild) {
  // The recorder blocks and ignores signals; the user's program must not
  // inherit that.
  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  ASSERT_EQ(sigprocmask(SIG_BLOCK, &set, &old), 0);
  struct sigaction ign {
  }, old_pipe{};
  ign.sa_handler = SIG_IGN;
  ASSERT_EQ(sigaction(SIGPIPE, &ign, &old_pipe), 0);
  auto [code, output] = RunSpec(Shell("grep -E '^Sig(Blk|Ign)' /proc/self/status"));
  sigprocmask(SIG_SETMASK, &old, nullptr);
  sigaction(SIGPIPE, &old_pipe, nullptr);
  EXPECT_EQ(code, 0);
  EXPECT_NE(output.find("SigBlk:\t0000000000000000"), std::string::npos) << output;
  EXPECT_NE(output.find("SigIgn:\t0000000000000000"), std::string::npos) << output;
}

TEST(ChildTest, BecomesTheUserEntirely) {
  if (geteuid() != 0) GTEST_SKIP() << "changing uids needs root";
  // As the setuid recorder starts: real uid the user's, effective and saved
  // uid the recorder's (here 65533).
  const int code = InChildProcess([] {
    if (setresgid(65534, 65534, 65534) != 0) return 10;
    if (setresuid(65534, 65533, 65533) != 0) return 11;
    ChildSpec spec = Shell("id -u; id -g");
    spec.become = ChildSpec::User{65534, 65534, 65533};
    auto [exit_code, output] = RunSpec(spec);
    if (exit_code != 0) return 12;
    return output == "65534\n65534\n" ? 0 : 13;
  });
  EXPECT_EQ(code, 0);
}

TEST(PrivilegesTest, ActsAsTheUserOnlyInScopeAndDropsForGood) {
  if (geteuid() != 0) GTEST_SKIP() << "changing uids needs root";
  const int code = InChildProcess([] {
    if (setresgid(65534, 65534, 65534) != 0) return 10;
    if (setresuid(65534, 65533, 65533) != 0) return 11;
    const ProcessIds ids = CurrentIds();
    if (!ids.setuid() || ids.ruid != 65534 || ids.euid != 65533) return 12;
    {
      ScopedEuid as_user(ids.ruid);
      if (!as_user.status().ok() || geteuid() != 65534) return 13;
    }
    if (geteuid() != 65533) return 14;
    if (!DropPrivilegesFully(ids.euid, ids.egid, ids.ruid).ok()) return 15;
    uid_t r, e, s;
    getresuid(&r, &e, &s);
    if (r != 65533 || e != 65533 || s != 65533) return 16;
    if (setresuid(static_cast<uid_t>(-1), 65534, static_cast<uid_t>(-1)) == 0) return 17;
    if (seteuid(65534) == 0) return 18;
    return 0;
  });
  EXPECT_EQ(code, 0);
}

// Installed setuid gate-rec and setgid gate-cache: acting as the user takes
// the user's gid too (the cache's group is never lent to them), and the
// full drop keeps the cache's group for the recorder and nothing of the
// user's.
TEST(PrivilegesTest, SetgidRecorderActsAsTheUsersGroupAndDropsToItsOwn) {
  if (geteuid() != 0) GTEST_SKIP() << "changing ids needs root";
  const int code = InChildProcess([] {
    // user 65534:65534, recorder 65533, cache group 65532
    if (setresgid(65534, 65532, 65532) != 0) return 10;
    if (setresuid(65534, 65533, 65533) != 0) return 11;
    const ProcessIds ids = CurrentIds();
    if (ids.rgid != 65534 || ids.egid != 65532) return 12;
    {
      ScopedEuid as_user(ids.ruid, ids.rgid);
      if (!as_user.status().ok() || geteuid() != 65534 || getegid() != 65534) return 13;
    }
    if (geteuid() != 65533 || getegid() != 65532) return 14;
    if (!DropPrivilegesFully(ids.euid, ids.egid, ids.ruid).ok()) return 15;
    gid_t r, e, s;
    getresgid(&r, &e, &s);
    if (r != 65532 || e != 65532 || s != 65532) return 16;
    if (setresgid(static_cast<gid_t>(-1), 65534, static_cast<gid_t>(-1)) == 0) return 17;
    return 0;
  });
  EXPECT_EQ(code, 0);
}

TEST(PrivilegesTest, TheUserCannotSignalTheDroppedRecorder) {
  if (geteuid() != 0) GTEST_SKIP() << "changing uids needs root";
  testing::Pipe ready = testing::Pipe::Make();
  testing::Pipe done = testing::Pipe::Make();
  const pid_t recorder = fork();
  if (recorder == 0) {
    // The recorder: setuid start, then the drop.
    if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65533, 65533) != 0) _exit(10);
    if (!DropPrivilegesFully(65533, 65534, 65534).ok()) _exit(11);
    (void)!write(ready.write.get(), "r", 1);
    char c;
    (void)!read(done.read.get(), &c, 1);
    _exit(0);
  }
  char c;
  ASSERT_EQ(read(ready.read.get(), &c, 1), 1);
  const int code = InChildProcess([recorder] {
    // The user, from another of their processes.
    if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0) return 10;
    if (kill(recorder, SIGKILL) == 0) return 11;
    return errno == EPERM ? 0 : 12;
  });
  EXPECT_EQ(code, 0);
  ASSERT_EQ(write(done.write.get(), "d", 1), 1);
  int status = 0;
  ASSERT_EQ(waitpid(recorder, &status, 0), recorder);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST(PrivilegesTest, NoChangeWithoutSetuid) {
  const ProcessIds ids = CurrentIds();
  EXPECT_FALSE(ids.setuid());
  EXPECT_TRUE(DropPrivilegesFully(ids.ruid, ids.rgid, ids.ruid).ok());
  ScopedEuid same(ids.euid);
  EXPECT_TRUE(same.status().ok());
  EXPECT_EQ(geteuid(), ids.euid);
}

}  // namespace
}  // namespace gate::recorder
